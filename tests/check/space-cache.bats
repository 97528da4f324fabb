#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
# `btrfs check` pass 5 on the v1 space cache: the contents of each cache
# (entries, bitmaps, page checksums, generations) against the extent tree.
# Images: g-v1cache of the image cache, and one made here by the kernel
# with several cached block groups and a bitmap entry (many small holes).
# Damage is made with tests/tools/btrfs-corrupt --cache-page / --item.  The
# oracle is the reference check on the same copy: where it fails we must
# report findings (exit 1); where it only says it will not load a cache
# (the kernel then rebuilds it) we must warn and exit 0.

load ../helpers/common

setup_file() {
	local reason check mnt img
	images_setup_file
	export V1_SKIP=
	for check in check_root check_loop check_kernel_btrfs check_reference \
		     check_python; do
		reason=$("$check") || { V1_SKIP=$reason; return 0; }
	done
	img=$BATS_FILE_TMPDIR/v1.img
	mnt=$BATS_FILE_TMPDIR/mnt
	mkdir -p "$mnt"
	truncate -s 4G "$img"
	"$ref_mkfs" -q -R ^free-space-tree -m single -d single "$img" >/dev/null
	if ! mount -o loop,space_cache=v1,max_inline=0 "$img" "$mnt" 2>/dev/null; then
		V1_SKIP="kernel refuses space_cache=v1"
		return 0
	fi
	# 3000 small files, every other one deleted: a few hundred 4KiB holes
	# in one block group make the kernel use a bitmap; preallocated big
	# files fill more block groups
	"$PYTHON" - "$mnt" <<'EOF' || { umount "$mnt"; return 1; }
import os, sys
top = sys.argv[1]
d = os.path.join(top, "d")
os.makedirs(d)
blk = b"\x5a" * 4096
for i in range(3000):
    with open(f"{d}/f{i}", "wb") as f:
        f.write(blk if i % 7 else blk * 5)
os.sync()
for i in range(0, 3000, 2):
    os.unlink(f"{d}/f{i}")
os.sync()
for i in range(6):
    fd = os.open(f"{top}/big{i}", os.O_CREAT | os.O_WRONLY)
    os.posix_fallocate(fd, 0, 200 << 20)
    os.close(fd)
os.sync()
for i in (1, 4):
    os.unlink(f"{top}/big{i}")
EOF
	umount "$mnt"
	export V1_IMG=$img
}

setup() {
	require_ours
	CORRUPT=$TOP_BUILDDIR/tests/tools/btrfs-corrupt
	[ -x "$CORRUPT" ] || {
		echo "missing $CORRUPT (build it)" >&2
		return 1
	}
	IMG=$BATS_TEST_TMPDIR/t.img
}

teardown() {
	cleanup_all
}

# use_g: a working copy of g-v1cache in $IMG
use_g() {
	skip_if_reason "$IMAGES_SKIP"
	cp --sparse=always "$(image_files g-v1cache | cut -d' ' -f1)" "$IMG"
}

# use_v1: a working copy of the image made by setup_file in $IMG
use_v1() {
	skip_if_reason "$V1_SKIP"
	cp --sparse=always "$V1_IMG" "$IMG"
}

# caches: "bg inode generation entries bitmaps size" per cache of $IMG
caches() {
	run_ref inspect-internal dump-tree -t root "$IMG" 2>/dev/null | awk '
		/ INODE_ITEM 0\) itemoff/ { ino = $4; sub(/\(/, "", ino)
			getline; size[ino] = $6 }
		/key \(FREE_SPACE UNTYPED/ { bg = $6; sub(/\)/, "", bg)
			getline; i = $3; sub(/\(/, "", i)
			getline; print bg, i, $3, $5, $7, size[i] }'
}

# bitmap_page SIZE ENTRIES: the page of the first bitmap of a cache file of
# SIZE bytes with ENTRIES entries (the page after the last entry's)
bitmap_page() {
	local np=$((($1 + 4095) / 4096)) n=$2 pos pg=0 i
	pos=$((np * 4 + 8))
	for ((i = 0; i < n; i++)); do
		pos=$((pos + 17))
		if (((pg + 1) * 4096 - pos < 17)); then
			pg=$((pg + 1))
			pos=$((pg * 4096))
		fi
	done
	if ((pos == pg * 4096)); then echo "$pg"; else echo $((pg + 1)); fi
}

corrupt() {
	"$CORRUPT" "$IMG" "$@" || {
		echo "btrfs-corrupt $* failed" >&2
		return 1
	}
}

# ours_and_ref: run both checks on $IMG; $status/$output are ours,
# $ref_status/$ref_output the reference's
ours_and_ref() {
	run run_ref check "$IMG"
	ref_status=$status
	ref_output=$output
	run run_ours check "$IMG"
}

# expect_clean: both checks pass $IMG, ours without a space cache warning
expect_clean() {
	ours_and_ref
	if [ "$status" -ne 0 ] || [ "$ref_status" -ne 0 ] ||
	   grep -q "space cache" <<<"$output"; then
		echo "ours $status, reference $ref_status:" >&2
		echo "$output" | head -30 >&2
		return 1
	fi
}

# expect_warning TEXT: the reference passes $IMG without loading a cache;
# ours exits 0 with a warning containing TEXT and no finding
expect_warning() {
	ours_and_ref
	if [ "$ref_status" -ne 0 ] ||
	   ! grep -qiE "failed to load free space cache|will be invalidated|did not match" <<<"$ref_output"; then
		echo "oracle: reference exit $ref_status, expected 0 and a cache not loaded:" >&2
		echo "$ref_output" | head -20 >&2
		return 1
	fi
	if [ "$status" -ne 0 ] || ! grep -qF -- "WARNING: $1" <<<"$output" ||
	   grep -q "^ERROR" <<<"$output"; then
		echo "expected exit 0 and WARNING: $1; got exit $status:" >&2
		echo "$output" | head -30 >&2
		return 1
	fi
}

# expect_errors BG: the reference fails on $IMG; ours exits 1 and reports
# every difference as a finding of block group BG (and nothing else)
expect_errors() {
	ours_and_ref
	if [ "$ref_status" -eq 0 ]; then
		echo "oracle: the reference check passes the damaged image" >&2
		return 1
	fi
	if [ "$status" -ne 1 ] ||
	   ! grep -q "^ERROR: space cache of block group $1: " <<<"$output" ||
	   grep "^ERROR" <<<"$output" | grep -qv "space cache of block group $1: "; then
		echo "expected exit 1 and findings for block group $1; got $status:" >&2
		echo "$output" | head -30 >&2
		return 1
	fi
}

@test "v1 cache: g-v1cache is clean for both checks" {
	use_g
	[ "$(caches | awk '$4 > 0' | wc -l)" -ge 1 ]
	expect_clean
}

@test "v1 cache: kernel-made image with entries and bitmaps is clean" {
	use_v1
	caches >&2
	# several caches, one with a bitmap
	[ "$(caches | awk '$4 > 0' | wc -l)" -ge 3 ]
	[ "$(caches | awk '$5 > 0' | wc -l)" -ge 1 ]
	expect_clean
}

@test "v1 cache: a moved entry (same total) is a finding" {
	local bg ino gen ent bm size
	use_g
	read -r bg ino gen ent bm size < <(caches | awk '$4 > 0 && $5 == 0' | head -1)
	# flip bit 12 of the first entry's offset: the range moves by 4KiB
	corrupt --cache-page "$bg" 0 --offset $(((size + 4095) / 4096 * 4 + 9)) --hex 10 --xor
	expect_errors "$bg"
	grep -qF "free in the extent tree, not in the cache [root 1 inode $ino key (18446744073709551605 0 $bg) bytenr $bg]" <<<"$output"
	grep -qF "free in the cache, used by extents or a superblock copy [root 1 inode $ino" <<<"$output"
	[ "$(grep -c "^ERROR: space cache" <<<"$output")" -eq 2 ]
}

@test "v1 cache: an entry shorter than the gap (less free) is skipped with a warning" {
	local bg ino gen ent bm size
	use_g
	read -r bg ino gen ent bm size < <(caches | awk '$4 > 0 && $5 == 0' | head -1)
	# the first entry (of more than one sector) covers 4KiB only
	corrupt --cache-page "$bg" 0 --offset $(((size + 4095) / 4096 * 4 + 8 + 8)) --hex 0010000000000000
	expect_warning "space cache of block group $bg: it records "
}

@test "v1 cache: a flipped bitmap bit is a finding" {
	local bg ino gen ent bm size page
	use_v1
	read -r bg ino gen ent bm size < <(caches | awk '$5 > 0' | head -1)
	page=$(bitmap_page "$size" "$ent")
	corrupt --cache-page "$bg" "$page" --offset 2000 --hex 01 --xor
	expect_errors "$bg"
}

@test "v1 cache: a cleared bitmap (less free) is skipped with a warning" {
	local bg ino gen ent bm size page
	use_v1
	read -r bg ino gen ent bm size < <(caches | awk '$5 > 0' | head -1)
	page=$(bitmap_page "$size" "$ent")
	corrupt --cache-page "$bg" "$page" --offset 0 --hex "$(printf '00%.0s' {1..4096})"
	expect_warning "space cache of block group $bg: it records "
}

@test "v1 cache: a bad page checksum is a warning only" {
	local bg ino gen ent bm size
	use_g
	read -r bg ino gen ent bm size < <(caches | awk '$4 > 0' | head -1)
	corrupt --cache-page "$bg" 0 --offset 100 --hex 01 --xor --no-csum
	expect_warning "space cache of block group $bg: page 0 has a bad checksum; the kernel will rebuild it"
}

@test "v1 cache: a bad checksum on a bitmap page is a warning only" {
	local bg ino gen ent bm size page
	use_v1
	read -r bg ino gen ent bm size < <(caches | awk '$5 > 0' | head -1)
	page=$(bitmap_page "$size" "$ent")
	corrupt --cache-page "$bg" "$page" --offset 10 --hex 01 --xor --no-csum
	expect_warning "space cache of block group $bg: page $page has a bad checksum"
}

@test "v1 cache: header generation not the inode's: skipped" {
	local bg ino gen ent bm size
	use_g
	read -r bg ino gen ent bm size < <(caches | awk '$4 > 0' | head -1)
	corrupt --item root 18446744073709551605 0 "$bg" --field generation --value $((gen - 1))
	expect_warning "space cache of block group $bg: generation $((gen - 1)), its inode $ino has $gen"
}

@test "v1 cache: superblock cache_generation not the filesystem's: all skipped" {
	use_v1
	corrupt --super-field cache_generation 3
	expect_warning "space cache generation 3 is not the filesystem generation"
}

@test "v1 cache: header bitmap count wrong: skipped, no crash" {
	local bg ino gen ent bm size
	use_v1
	read -r bg ino gen ent bm size < <(caches | awk '$5 > 0' | head -1)
	corrupt --item root 18446744073709551605 0 "$bg" --field num_bitmaps --value 0
	# the reference aborts on this one (BUG_ON): the kernel only asserts
	run run_ours check "$IMG"
	[ "$status" -eq 0 ]
	grep -qF "WARNING: space cache of block group $bg: header counts 0 bitmaps, entries $bm" <<<"$output"
}

@test "v1 cache: more entries than the pages hold: skipped, no crash" {
	local bg ino gen ent bm size
	use_g
	read -r bg ino gen ent bm size < <(caches | awk '$4 > 0' | head -1)
	corrupt --item root 18446744073709551605 0 "$bg" --field num_entries --value 1000000
	run run_ours check "$IMG"
	[ "$status" -eq 0 ]
	grep -qF "WARNING: space cache of block group $bg: " <<<"$output"
}

@test "v1 cache: raid0, raid10 and raid5 caches (superblocks inside stripes) are clean" {
	local p i dev devs mnt=$BATS_TEST_TMPDIR/mnt files
	skip_if_reason "$V1_SKIP"
	mkdir -p "$mnt"
	for p in raid0 raid10 raid5; do
		devs=()
		files=()
		for i in 1 2 3 4; do
			files+=("$BATS_TEST_TMPDIR/$p.$i.img")
			truncate -s 2G "${files[-1]}"
			dev=$(losetup -f --show "${files[-1]}")
			track_loop "$dev"
			devs+=("$dev")
		done
		"$ref_mkfs" -q -f -R ^free-space-tree -m "$p" -d "$p" "${devs[@]}" >/dev/null
		mount -o space_cache=v1 "${devs[0]}" "$mnt"
		track_mount "$mnt"
		for i in $(seq 1 150); do
			head -c $((i * 5000)) /dev/zero > "$mnt/f$i"
		done
		sync
		rm -f "$mnt"/f1?
		umount "$mnt"
		# every cached group was written: contents are compared
		run_ref inspect-internal dump-tree -t root "${devs[0]}" | grep -q "cache generation"
		run run_ref check "${devs[0]}"
		[ "$status" -eq 0 ] || { echo "reference: $output" >&2; return 1; }
		run run_ours check "${files[@]}"
		if [ "$status" -ne 0 ] || grep -q "space cache" <<<"$output"; then
			echo "$p: $output" >&2
			return 1
		fi
		cleanup_all
	done
}
