#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
# `btrfs check` passes 1, 2, 3, 5 and 8: one targeted corruption per finding
# class, made with tests/tools/btrfs-corrupt on a copy of a kernel-filled
# image (reference mkfs).  Each case asserts our exit code 1, the exact
# finding line (message and location), and that the reference check also
# fails on the damaged copy (the oracle); where the reference does not look
# (dev extent chunk offsets) the kernel refusing to mount is the oracle.
# Targets are found in the reference's dump-tree output of the image, not
# hard-coded.

load ../helpers/common

setup_file() {
	images_setup_file
}

setup() {
	skip_if_reason "$IMAGES_SKIP"
	require_ours
	require_reference
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

# dt NAME ARGS...: the reference's dump-tree of image NAME
dt() {
	local name=$1
	shift
	# shellcheck disable=SC2046
	run_ref inspect-internal dump-tree "$@" $(image_files "$name" | cut -d' ' -f1) 2>/dev/null
}

# copy NAME: a sparse working copy of image NAME in $IMG
copy() {
	cp --sparse=always "$(image_files "$1" | cut -d' ' -f1)" "$IMG"
}

# corrupt ARGS...: damage $IMG; the tool must succeed
corrupt() {
	"$CORRUPT" "$IMG" "$@" || {
		echo "btrfs-corrupt $* failed" >&2
		return 1
	}
}

# expect_finding LINE: our check exits 1 and prints LINE (a fixed string);
# the reference check fails too
expect_finding() {
	run run_ours check "$IMG"
	if [ "$status" -ne 1 ] || ! grep -qF -- "$1" <<<"$output"; then
		echo "expected exit 1 and: $1" >&2
		echo "got exit $status:" >&2
		echo "$output" | head -30 >&2
		return 1
	fi
	run run_ref check "$IMG"
	if [ "$status" -eq 0 ]; then
		echo "oracle: the reference check passes the damaged image" >&2
		return 1
	fi
}

# first_bg NAME FLAG: "start length used" of the first block group whose
# flags start with FLAG (DATA, METADATA, SYSTEM)
first_bg() {
	dt "$1" -t extent | awk -v f="$2" '
		/BLOCK_GROUP_ITEM/ { s = $4; sub(/\(/, "", s); l = $6; sub(/\)/, "", l) }
		/block group used/ && index($NF, f "|") == 1 { print s, l, $4; exit }'
}

# item_pos NAME TREE REGEX: "leaf slot itemoff" of the first item whose
# line matches REGEX in the dump of TREE
item_pos() {
	dt "$1" -t "$2" | awk -v re="$3" '
		/^leaf / { leaf = $2 }
		/^\titem [0-9]+ key/ && $0 ~ re { print leaf, $2, $(NF - 2); exit }'
}

# fs_child NAME N: "bytenr gen key-objectid" of child N (0-based) of the
# fs tree root node, and the next child's key objectid
fs_child() {
	dt "$1" -t fs | awk -v n="$2" '
		/^\tkey .* block [0-9]+ gen/ {
			o = $2; sub(/\(/, "", o)
			if (i == n) { b = $(NF - 2); g = $NF }
			if (i == n + 1) { print b, g, o; exit }
			i++
		}'
}

# dev_extent NAME I: "physical length" of the I-th (0-based) dev extent
dev_extent() {
	dt "$1" -t dev | awk -v n="$2" '
		/DEV_EXTENT/ { p = $6; sub(/\)/, "", p) }
		/chunk_offset .* length/ { if (i++ == n) { print p, $NF; exit } }'
}

# le64 N: N as 8 little-endian bytes in hex
le64() {
	printf '%016x' "$1" | sed 's/../& /g' | awk '{ for (i = NF; i > 0; i--) printf "%s", $i }'
}

# super_field NAME FIELD
super_field() {
	ref_super_field "$(image_files "$1" | cut -d' ' -f1)" "$2"
}

# --- pass 1: superblock -----------------------------------------------------

@test "pass 1: log root with a bad checksum" {
	local log
	copy l-logtree
	log=$(super_field l-logtree log_root)
	corrupt --block "$log" --offset 300 --hex ff --no-csum
	expect_finding "ERROR: log root unreadable: checksum mismatch [root 18446744073709551610 bytenr $log]"
}

@test "pass 1: log root level differs from the superblock's" {
	local log
	copy l-logtree
	log=$(super_field l-logtree log_root)
	corrupt --super-field log_root_level 1
	expect_finding "ERROR: log root unreadable: level mismatch [root 18446744073709551610 bytenr $log expected 1 found 0]"
}

@test "pass 1/2: superblock bytes_used differs from the extent items" {
	local used
	copy a-default
	used=$(super_field a-default bytes_used)
	corrupt --super-field bytes_used $((used + 4096))
	expect_finding "ERROR: superblock bytes_used differs from the extent items [bytenr 65536 expected $used found $((used + 4096))]"
}

# --- pass 2: chunks, devices, block groups ---------------------------------

@test "pass 2: block group used bytes differ from the extent items" {
	local s l u
	copy a-default
	read -r s l u < <(first_bg a-default DATA)
	corrupt --item extent "$s" BLOCK_GROUP_ITEM "$l" --field used --value $((u - 4096))
	expect_finding "ERROR: block group used bytes differ from its extent items [root 2 key ($s 192 $l) bytenr $s expected $u found $((u - 4096))]"
}

@test "pass 2: block group flags differ from the chunk" {
	local s l u
	copy a-default
	read -r s l u < <(first_bg a-default DATA)
	corrupt --item extent "$s" BLOCK_GROUP_ITEM "$l" --field flags --value 4
	expect_finding "ERROR: block group length or flags differ from its chunk [root 2 key ($s 192 $l) bytenr $s]"
}

@test "pass 2: block group without chunk, chunk without block group" {
	local s l u leaf slot off
	copy a-default
	read -r s l u < <(first_bg a-default DATA)
	read -r leaf slot off < <(item_pos a-default extent "key \\($s BLOCK_GROUP_ITEM")
	# the key's objectid + 1: still in order, no chunk starts there
	corrupt --block "$leaf" --offset $((101 + slot * 25)) --hex "$(le64 $((s + 1)))"
	expect_finding "ERROR: block group without chunk [root 2 key ($((s + 1)) 192 $l) bytenr $((s + 1))]"
	grep -qF "ERROR: chunk without block group item [root 3 key (256 228 $s) bytenr $s]" <<<"$(run_ours check "$IMG" 2>&1)"
}

@test "pass 2: chunk without block group (item deleted)" {
	local s l u
	copy a-default
	read -r s l u < <(first_bg a-default DATA)
	corrupt --del-item extent "$s" BLOCK_GROUP_ITEM "$l"
	expect_finding "ERROR: chunk without block group item [root 3 key (256 228 $s) bytenr $s]"
}

@test "pass 2: device bytes_used differs from its dev extents" {
	local used
	copy a-default
	used=$(super_field a-default dev_item.bytes_used)
	corrupt --item chunk 1 DEV_ITEM 1 --field bytes_used --value $((used + 1))
	expect_finding "ERROR: device 1 bytes_used differs from its dev extents [root 3 key (1 216 1) expected $used found $((used + 1))]"
}

@test "pass 2: dev extent length matches no chunk stripe" {
	local p len
	copy a-default
	read -r p len < <(dev_extent a-default 0)
	corrupt --item dev 1 DEV_EXTENT "$p" --field length --value $((len / 2))
	expect_finding "ERROR: dev extent: no chunk stripe matches it [root 4 key (1 204 $p)]"
	grep -qF "ERROR: chunk stripe 0 without its dev extent [root 4 key (1 204 $p)" <<<"$output$(run_ours check "$IMG" 2>&1)"
}

@test "pass 2: chunk stripe without its dev extent (item deleted)" {
	local p len
	copy a-default
	read -r p len < <(dev_extent a-default 5)
	corrupt --del-item dev 1 DEV_EXTENT "$p"
	expect_finding "ERROR: chunk stripe 0 without its dev extent [root 4 key (1 204 $p)"
}

@test "pass 2: overlapping dev extents" {
	local p len p2 len2
	copy a-default
	read -r p len < <(dev_extent a-default 1)
	read -r p2 len2 < <(dev_extent a-default 2)
	corrupt --item dev 1 DEV_EXTENT "$p" --field length --value $((p2 - p + 65536))
	expect_finding "ERROR: dev extent: overlaps the previous dev extent [root 4 key (1 204 $p2) expected $((p2 + 65536)) found $p2]"
}

@test "pass 2: dev extent beyond its device" {
	local p len p2 len2
	copy a-default
	read -r p len < <(dev_extent a-default 3)
	read -r p2 len2 < <(dev_extent a-default 4)
	corrupt --item chunk 1 DEV_ITEM 1 --field total_bytes --value $((p2 + len2 - 4096))
	expect_finding "ERROR: dev extent: ends beyond its device [root 4 key (1 204 $p2) expected $((p2 + len2 - 4096)) found $((p2 + len2))]"
}

@test "pass 2: superblock total_bytes below the devices' sum" {
	local total
	copy a-default
	total=$(super_field a-default total_bytes)
	corrupt --super-field total_bytes $((total - 4096))
	expect_finding "ERROR: superblock total_bytes smaller than the sum of the devices [expected $total found $((total - 4096))]"
}

@test "pass 2: superblock num_devices differs from the dev items" {
	copy a-default
	corrupt --super-field num_devices 2
	expect_finding "ERROR: superblock num_devices differs from the dev items [expected 1 found 2]"
}

@test "pass 2: dev extent naming another chunk (oracle: the kernel refuses to mount)" {
	local p len mnt
	require_root
	require_loop
	require_kernel_btrfs
	copy a-default
	read -r p len < <(dev_extent a-default 0)
	corrupt --item dev 1 DEV_EXTENT "$p" --field chunk_offset --value 4194304
	run run_ours check "$IMG"
	[ "$status" -eq 1 ]
	grep -qF "ERROR: dev extent: no chunk stripe matches it [root 4 key (1 204 $p)]" <<<"$output"
	mnt=$BATS_TEST_TMPDIR/mnt
	mkdir -p "$mnt"
	track_path "$mnt"
	track_mount "$mnt"
	if mount -o loop,ro "$IMG" "$mnt" 2>/dev/null; then
		echo "oracle: the kernel mounts the damaged image" >&2
		return 1
	fi
	cleanup_loops_of "$IMG"
}

# --- pass 3: tree blocks ---------------------------------------------------

@test "pass 3: tree block checksum mismatch" {
	local b g o
	copy a-default
	read -r b g o < <(fs_child a-default 1)
	corrupt --block "$b" --offset 300 --hex ff --no-csum
	expect_finding "ERROR: tree block unreadable: checksum mismatch [root 5 bytenr $b]"
}

@test "pass 3: tree block generation differs from its parent pointer" {
	local b g o
	copy a-default
	read -r b g o < <(fs_child a-default 1)
	corrupt --block "$b" --offset 80 --hex "$(printf '%02x' $((g - 1)))"
	expect_finding "ERROR: tree block generation differs from its parent pointer [root 5 bytenr $b expected $g found $((g - 1))]"
}

@test "pass 3: tree block owner of another tree" {
	local b g o
	copy a-default
	read -r b g o < <(fs_child a-default 1)
	corrupt --block "$b" --offset 88 --hex 02
	expect_finding "ERROR: tree block owner 2 does not belong to this tree [root 5 bytenr $b]"
}

@test "pass 3: tree block level differs from its parent's" {
	local b g o
	copy a-default
	read -r b g o < <(fs_child a-default 1)
	corrupt --block "$b" --offset 100 --hex 01
	expect_finding "ERROR: tree block unreadable: level mismatch [root 5 bytenr $b expected 0 found 1]"
}

@test "pass 3: tree block bytenr field wrong" {
	local b g o
	copy a-default
	read -r b g o < <(fs_child a-default 1)
	corrupt --block "$b" --offset 55 --hex 01
	expect_finding "ERROR: tree block unreadable: bytenr mismatch [root 5 bytenr $b expected $b found $((b + (1 << 56)))]"
}

@test "pass 3: tree block fsid wrong" {
	local b g o
	copy a-default
	read -r b g o < <(fs_child a-default 1)
	corrupt --block "$b" --offset 33 --hex 00
	expect_finding "ERROR: tree block unreadable: fsid mismatch [root 5 bytenr $b]"
}

@test "pass 3: first key differs from the parent pointer" {
	local b g o
	copy a-default
	read -r b g o < <(fs_child a-default 1)
	# item 0's key offset, low byte
	corrupt --block "$b" --offset $((101 + 9)) --hex 10
	expect_finding "ERROR: tree block first key differs from its parent pointer [root 5 bytenr $b]"
}

@test "pass 3: last key not before the parent's next key" {
	local b g o next nr
	copy a-default
	read -r b g o < <(fs_child a-default 1)
	read -r _ _ next < <(fs_child a-default 2)
	nr=$(dt a-default -b "$b" | awk '/^leaf/ { print $4; exit }')
	corrupt --block "$b" --offset $((101 + (nr - 1) * 25)) --hex "$(le64 $((next + 16)))"
	expect_finding "ERROR: tree block last key not before the parent's next key"
	grep -qF "[root 5 key ($((next + 16)) " <<<"$output$(run_ours check "$IMG" 2>&1)"
}

@test "pass 3: tree block structure invalid (item count)" {
	local b g o
	copy a-default
	read -r b g o < <(fs_child a-default 1)
	corrupt --block "$b" --offset 96 --hex ff7f
	expect_finding "ERROR: tree block invalid: invalid number of items at slot -1 [root 5 bytenr $b]"
}

@test "pass 3: one tree block in two trees that cannot share" {
	local ext
	copy a-default
	ext=$(dt a-default -t root | awk '/key \(EXTENT_TREE ROOT_ITEM/ { getline; print $6; exit }')
	corrupt --item root 7 ROOT_ITEM 0 --field bytenr --value "$ext"
	expect_finding "ERROR: tree block reached from two trees that cannot share it [root 7 bytenr $ext]"
}

@test "pass 3: root item generation newer than the superblock" {
	local gen
	copy a-default
	gen=$(super_field a-default generation)
	corrupt --item root 5 ROOT_ITEM 0 --field generation --value 500
	expect_finding "ERROR: root item generation newer than the superblock [root 1 key (5 132 0) expected $gen found 500]"
}

# --- pass 5: free space -----------------------------------------------------

# fst_info NAME FLAGS: "start length count" of the free space info of the
# first real block group (stale infos of vanished mkfs block groups are
# legal and skipped) whose flags are FLAGS
fst_info() {
	local bgs
	bgs=$(dt "$1" -t extent | awk '/BLOCK_GROUP_ITEM/ { s = $4; sub(/\(/, "", s); print s }')
	dt "$1" -t free_space | awk -v f="$2" -v bgs="$bgs" '
		BEGIN { n = split(bgs, b, "\n"); for (i = 1; i <= n; i++) real[b[i]] = 1 }
		/FREE_SPACE_INFO/ { s = $4; sub(/\(/, "", s); l = $6; sub(/\)/, "", l) }
		/free space info extent count/ && $NF == f && (s in real) {
			print s, l, $(NF - 2); exit }'
}

@test "pass 5: free space info extent count wrong" {
	local s l c
	copy a-default
	read -r s l c < <(fst_info a-default 0)
	corrupt --item free_space "$s" FREE_SPACE_INFO "$l" --field extent_count --value $((c + 1))
	expect_finding "ERROR: free space info extent count differs [root 10 key ($s 198 $l) bytenr $s expected $c found $((c + 1))]"
}

@test "pass 5: free space info bitmap flag wrong" {
	local s l c
	copy a-default
	read -r s l c < <(fst_info a-default 0)
	corrupt --item free_space "$s" FREE_SPACE_INFO "$l" --field flags --value 1
	expect_finding "ERROR: free space info bitmap flag differs from its items [root 10 key ($s 198 $l) bytenr $s expected 0 found 1]"
}

@test "pass 5: free space extent missing" {
	local s l c e el
	copy a-default
	read -r s l c < <(fst_info a-default 0)
	# the last free extent of the block group
	read -r e el < <(dt a-default -t free_space | awk -v s="$s" -v l="$l" '
		/FREE_SPACE_EXTENT/ { o = $4; sub(/\(/, "", o); n = $6; sub(/\)/, "", n)
			if (o + 0 >= s + 0 && o + 0 < s + l) { e = o; el = n } }
		END { print e, el }')
	corrupt --del-item free_space "$e" FREE_SPACE_EXTENT "$el"
	expect_finding "ERROR: free space $e-$((e + el)) not recorded"
}

@test "pass 5: block group without free space info" {
	local s l c
	copy a-default
	read -r s l c < <(fst_info a-default 0)
	corrupt --del-item free_space "$s" FREE_SPACE_INFO "$l"
	expect_finding "ERROR: block group without free space info [root 10 key ($s 198 $l) bytenr $s]"
}

@test "pass 5: allocated space marked free in a bitmap" {
	local s l c leaf slot off
	copy a-default
	read -r s l c < <(fst_info a-default 1)
	[ -n "$s" ] || skip "no bitmap block group in a-default"
	read -r leaf slot off < <(item_pos a-default free_space "key \\($s FREE_SPACE_BITMAP")
	corrupt --block "$leaf" --offset $((101 + off)) --hex ffffffffffffffff
	expect_finding "ERROR: free space "
	grep -qF "recorded, extent tree " <<<"$output$(run_ours check "$IMG" 2>&1)"
}

@test "pass 5: space cache (v1) inode that is not a regular file" {
	local ino
	copy g-v1cache
	ino=$(dt g-v1cache -t root | awk '/key \(FREE_SPACE UNTYPED/ { getline; print $3; exit }' | tr -d '(')
	corrupt --item root "$ino" INODE_ITEM 0 --field mode --value 0
	expect_finding "ERROR: space cache inode is not a regular file (mode 00) [root 1 inode $ino key ($ino 1 0)"
}

# --- pass 8: root refs, quota ------------------------------------------------

# root_ref NAME CHILD: "parent" of the ROOT_BACKREF of CHILD
root_parent() {
	dt "$1" -t root | awk -v c="$2" '$0 ~ "key \\(" c " ROOT_BACKREF" {
		p = $6; sub(/\)/, "", p); print p; exit }'
}

@test "pass 8: root backref missing" {
	local p
	copy k-quota
	p=$(root_parent k-quota 258)
	corrupt --del-item root 258 ROOT_BACKREF "$p"
	expect_finding "ERROR: root ref without root backref: parent $p child 258 [root 1 key ($p 156 258)]"
}

@test "pass 8: root ref missing" {
	local p
	copy k-quota
	p=$(root_parent k-quota 258)
	# FS_TREE's refs are named by number here
	[ "$p" = FS_TREE ] && p=5
	corrupt --del-item root "$p" ROOT_REF 258
	expect_finding "ERROR: root backref without root ref: parent $p child 258 [root 1 key (258 144 $p)]"
}

@test "pass 8: root ref sequence differs from backref and directory" {
	copy k-quota
	corrupt --item root 5 ROOT_REF 258 --field sequence --value 9
	expect_finding "ERROR: root ref and backref differ: parent 5 child 258 [root 1 key (5 156 258)]"
	grep -qF "ERROR: root ref without matching directory index in the parent: parent 5 child 258" <<<"$output$(run_ours check "$IMG" 2>&1)"
}

@test "pass 8: root backref directory differs from the ref" {
	copy k-quota
	corrupt --item root 258 ROOT_BACKREF 5 --field dirid --value 257
	expect_finding "ERROR: root ref and backref differ: parent 5 child 258 [root 1 key (5 156 258)]"
}

@test "pass 8: qgroup relation in one direction only" {
	copy k-quota
	local rel
	rel=$(dt k-quota -t quota | awk '/QGROUP_RELATION/ { print $4, $6; exit }' | tr -d '()')
	[ -n "$rel" ] || skip "no qgroup relation in k-quota"
	read -r a b <<<"$rel"
	a=$(( ${a%%/*} << 48 | ${a##*/} ))
	b=$(( ${b%%/*} << 48 | ${b##*/} ))
	corrupt --del-item quota "$a" QGROUP_RELATION "$b"
	expect_finding "ERROR: qgroup relation items are not paired in both directions [root 8]"
}

@test "pass 8: level-0 qgroup referenced bytes differ from the computed" {
	local rfer
	copy k-quota
	rfer=$(run_ref check -Q "$IMG" 2>/dev/null | awk '/qgroup id: 0\/258/ { getline; print $3; exit }')
	[ -n "$rfer" ]
	corrupt --item quota 0 QGROUP_INFO 258 --field rfer --value 4096
	expect_finding "ERROR: qgroup 0/258 referenced bytes differ from the computed [root 8 key (0 242 258) expected $rfer found 4096]"
}

@test "pass 8: level-0 qgroup exclusive bytes differ from the computed" {
	local excl
	copy k-quota
	excl=$(run_ref check -Q "$IMG" 2>/dev/null | awk '/qgroup id: 0\/256/ { getline; getline; getline; print $3; exit }')
	[ -n "$excl" ]
	corrupt --item quota 0 QGROUP_INFO 256 --field excl --value 4096
	expect_finding "ERROR: qgroup 0/256 exclusive bytes differ from the computed [root 8 key (0 242 256) expected $excl found 4096]"
}

@test "pass 8: higher-level qgroup exclusive bytes differ from the computed" {
	local id excl
	copy k-quota
	id=$(dt k-quota -t quota | awk '/QGROUP_INFO 1\// { print $6; exit }' | tr -d ')')
	[ -n "$id" ] || skip "no level-1 qgroup in k-quota"
	excl=$(run_ref check -Q "$IMG" 2>/dev/null | awk -v id="$id" '$0 ~ "qgroup id: " id { getline; getline; getline; print $3; exit }')
	[ -n "$excl" ]
	corrupt --item quota 0 QGROUP_INFO $(((${id%%/*} << 48) | ${id##*/})) --field excl --value 8192
	expect_finding "ERROR: qgroup $id exclusive bytes differ from the computed [root 8 key (0 242 $(((${id%%/*} << 48) | ${id##*/}))) expected $excl found 8192]"
}

# --- findings the reference check does not make ------------------------------
# The reference check passes these images (exit 0); the oracle is then the
# reference's own view of the damaged image (dump-super, dump-tree), which
# shows the inconsistency our finding names.

# expect_ours_only LINE: our check exits 1 and prints LINE; the reference
# check output is left in $ref_output
expect_ours_only() {
	run run_ours check "$IMG"
	if [ "$status" -ne 1 ] || ! grep -qF -- "$1" <<<"$output"; then
		echo "expected exit 1 and: $1" >&2
		echo "got exit $status:" >&2
		echo "$output" | head -30 >&2
		return 1
	fi
	run run_ref check "$IMG"
	ref_output=$output
}

@test "pass 1: backup root of the current generation names another tree root" {
	local gen slot root other
	copy a-default
	gen=$(super_field a-default generation)
	root=$(super_field a-default root)
	# the slot written with the current generation, and another slot's root
	read -r slot other < <(run_ref inspect-internal dump-super -f "$IMG" | awk -v g="$gen" -v r="$root" '
		/^\tbackup [0-3]:/ { s = $2; sub(/:/, "", s) }
		/backup_tree_root:/ { if ($4 == g) cur = s; else if ($2 != r) o = $2 }
		END { print cur, o }')
	[ -n "$slot" ] && [ -n "$other" ]
	corrupt --super-field "backup$slot.tree_root" "$other"
	expect_ours_only "ERROR: backup root $slot of the current generation points to another tree root [key ($slot 0 0) bytenr $other expected $root found $other]"
	# oracle: the reference reads the same slot as ours
	run_ref inspect-internal dump-super -f "$IMG" | grep -A1 "^	backup $slot:" |
		grep -qE "backup_tree_root:[[:space:]]+$other[[:space:]]+gen: $gen"
}

@test "pass 2: system chunk of the superblock differs from the chunk tree" {
	local start type
	copy a-default
	read -r start type < <(dt a-default -t chunk | awk '
		/CHUNK_ITEM/ { s = $6; sub(/\)/, "", s) }
		/type SYSTEM/ { print s; exit }')
	[ -n "$start" ]
	# SYSTEM|DUP plus the DATA bit, in the chunk tree only
	corrupt --item chunk 256 CHUNK_ITEM "$start" --field type --value $((0x23))
	expect_ours_only "ERROR: system chunk of the superblock differs from the chunk tree [root 3 key (256 228 $start) bytenr $start]"
	# oracle: the reference sees the chunk item differ too (it prints
	# the mismatch, yet exits 0)
	grep -qF "Chunk[256, 228, $start]: length(8388608), offset($start), type(35) mismatch" <<<"$ref_output"
	run_ref inspect-internal dump-super -f "$IMG" | grep -A2 "CHUNK_ITEM $start" | grep -q "type SYSTEM|DUP"
}

@test "pass 8: subvolume uuid missing from the uuid tree" {
	local id uuid hi lo
	copy a-default
	# the first subvolume (not FS_TREE) with an entry in the uuid tree
	read -r hi lo id < <(dt a-default -t uuid | awk '
		/UUID_KEY_SUBVOL/ { h = $4; sub(/\(/, "", h); l = $6; sub(/\)/, "", l) }
		/subvol_id/ && $2 != 5 { print h, l, $2; exit }')
	[ -n "$id" ]
	corrupt --del-item uuid "$(printf %u "$((hi))")" UUID_KEY_SUBVOL "$(printf %u "$((lo))")"
	uuid=$(dt a-default -t root | awk -v id="$id" '
		$0 ~ "key \\(" id " ROOT_ITEM" { f = 1 }
		f && /^\t\tuuid / { print $2; exit }')
	[ -n "$uuid" ]
	expect_ours_only "ERROR: subvolume $id uuid $uuid missing from the uuid tree [root 9]"
	# oracle: the reference's dump of the damaged uuid tree has no entry
	# for the subvolume, while the root item still carries the uuid
	! run_ref inspect-internal dump-tree -t uuid "$IMG" | grep -qE "subvol_id $id\$"
	run_ref inspect-internal dump-tree -t root "$IMG" | grep -qF "uuid $uuid"
}
