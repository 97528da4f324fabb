#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
# `btrfs check` options, messages and exit codes (0 clean, 1 errors or
# refusal, 2 could not open), compared with the reference where it has the
# same behaviour.

load ../helpers/common

setup_file() {
	images_setup_file
}

setup() {
	skip_if_reason "$IMAGES_SKIP"
	require_ours
	IMG=$(image_files a-default | cut -d' ' -f1)
}

teardown() {
	cleanup_all
}

@test "help lists the options" {
	run run_ours check --help
	[ "$status" -eq 0 ]
	for opt in --readonly --repair --force --mode --super --backup \
		   --tree-root --chunk-root --check-data-csum --qgroup-report \
		   --subvol-extents --progress --quiet; do
		grep -qF -- "$opt" <<<"$output" || {
			echo "help lacks $opt" >&2
			return 1
		}
	done
}

@test "no device: usage error" {
	run run_ours check
	[ "$status" -eq 1 ]
}

@test "--repair is refused as not implemented" {
	run run_ours check --repair "$IMG"
	[ "$status" -eq 1 ]
	grep -qF "ERROR: --repair is not implemented yet" <<<"$output"
}

@test "--mode: original and lowmem accepted, anything else refused" {
	run run_ours check --mode original "$IMG"
	[ "$status" -eq 0 ]
	run run_ours check --mode=lowmem "$IMG"
	[ "$status" -eq 0 ]
	run run_ours check --mode fast "$IMG"
	[ "$status" -eq 1 ]
	grep -qF "ERROR: unknown mode: fast" <<<"$output"
}

@test "a file that is not btrfs cannot be opened: exit 2" {
	local f=$BATS_TEST_TMPDIR/zero.img
	truncate -s 16M "$f"
	run run_ours check "$f"
	[ "$status" -eq 2 ]
	grep -qF "ERROR: cannot open file system" <<<"$output"
	run run_ours check "$BATS_TEST_TMPDIR/missing.img"
	[ "$status" -eq 2 ]
}

@test "-s 1 uses the first mirror; -s 2 beyond the device cannot open" {
	run run_ours check -s 1 "$IMG"
	[ "$status" -eq 0 ]
	run run_ours check -s 2 "$IMG"
	[ "$status" -eq 2 ]
	run run_ours check -s 3 "$IMG"
	[ "$status" -eq 1 ]
}

@test "--tree-root and --chunk-root with the current roots, -b" {
	local root chunk
	root=$(ref_super_field "$IMG" root)
	chunk=$(ref_super_field "$IMG" chunk_root)
	run run_ours check --tree-root "$root" --chunk-root "$chunk" "$IMG"
	[ "$status" -eq 0 ]
	run run_ours check -r "$root" "$IMG"
	[ "$status" -eq 0 ]
	run run_ours check -b "$IMG"
	[ "$status" -eq 0 ]
}

@test "progress lines: one per pass, no counts when not on a terminal" {
	run run_ours check -p "$IMG"
	[ "$status" -eq 0 ]
	[ "$(grep -c '^\[[1-8]/8\] checking' <<<"$output")" -eq 8 ]
	! grep -q "items/s" <<<"$output"
}

@test "progress with -p on a terminal shows counts and a rate" {
	command -v script >/dev/null || skip "script(1) is missing"
	run script -qec "$BTRFS_BIN check -p $IMG" /dev/null
	[ "$status" -eq 0 ]
	grep -q "items/s" <<<"$output"
}

@test "-q prints the summary only" {
	run run_ours check -q "$IMG"
	[ "$status" -eq 0 ]
	! grep -q '^\[' <<<"$output"
	grep -q "^found [0-9]* bytes used, no error found$" <<<"$output"
}

@test "a mounted filesystem is refused, --force checks it read-only" {
	local copy mnt
	require_root
	require_loop
	require_kernel_btrfs
	copy=$BATS_TEST_TMPDIR/m.img
	mnt=$BATS_TEST_TMPDIR/mnt
	cp --sparse=always "$IMG" "$copy"
	mkdir -p "$mnt"
	track_path "$mnt"
	mount -o loop,ro "$copy" "$mnt"
	track_mount "$mnt"
	run run_ours check "$copy"
	[ "$status" -eq 1 ]
	grep -qF "is mounted on $mnt: refusing to check it" <<<"$output"
	run run_ours check --force "$copy"
	grep -qF "WARNING: $copy is mounted on $mnt: checking read-only" <<<"$output"
	grep -q "^found [0-9]* bytes used" <<<"$output"
	cleanup_mount "$mnt"
	cleanup_loops_of "$copy"
	# not mounted any more: checked normally
	run run_ours check "$copy"
	[ "$status" -eq 0 ]
}

# sort_roots: the roots column of -E output in ascending order (the
# reference lists them in the order its backref walk finds them)
sort_roots() {
	"$PYTHON" -c '
import sys
for line in sys.stdin:
    f = line.rstrip("\n").split("\t")
    if len(f) >= 4 and f[0].isdigit():
        f[3] = " ".join(sorted(f[3].split(), key=int)) + " "
    print("\t".join(f))'
}

@test "-E lists a subvolume's extents and sharing like the reference" {
	local img sv
	require_reference
	require_python
	img=$(image_files k-quota | cut -d' ' -f1)
	for sv in 256 260 261; do
		diff <(run_ours check -E "$sv" "$img" 2>&1 | sort_roots) \
		     <(run_ref check -E "$sv" "$img" 2>&1 | sort_roots)
	done
	run run_ours check -E 999 "$img"
	[ "$status" -eq 1 ]
	grep -qF "ERROR: cannot read subvolume 999" <<<"$output"
}

@test "the second device of a mounted two-device filesystem is refused" {
	local f1 f2 l1 l2 mnt
	require_root
	require_loop
	require_kernel_btrfs
	read -r f1 f2 <<<"$(image_files i-raid1)"
	[ -n "$f2" ] || skip "i-raid1 has one device"
	cp --sparse=always "$f1" "$BATS_TEST_TMPDIR/d1.img"
	cp --sparse=always "$f2" "$BATS_TEST_TMPDIR/d2.img"
	l1=$(losetup -f --show "$BATS_TEST_TMPDIR/d1.img")
	track_loop "$l1"
	l2=$(losetup -f --show "$BATS_TEST_TMPDIR/d2.img")
	track_loop "$l2"
	mnt=$BATS_TEST_TMPDIR/mnt
	mkdir -p "$mnt"
	track_path "$mnt"
	mount -o ro,device="$l2" "$l1" "$mnt"
	track_mount "$mnt"
	run run_ours check "$BATS_TEST_TMPDIR/d2.img"
	[ "$status" -eq 1 ]
	grep -qF "is mounted" <<<"$output"
}
