#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
# `btrfs check`: what the kernel's tree checker and volume code validate
# and refuse to mount over, reported as findings (exit 1, one line naming
# the item, the field, the value found and what was expected).  Found by
# mutating kernel-made images: our check used to say "no error found".
# Same conventions as corrupt.bats: damage made with tests/tools/
# btrfs-corrupt on a copy of a cached image (checksums recomputed), our
# exact line and exit 1 asserted, and the reference check must fail too;
# where it does not, what it says is asserted and the difference noted.
# Targets are found in the reference's dump-tree output, not hard-coded.

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

# ours LINE...: our check exits 1 and prints every LINE (fixed strings)
ours() {
	local line
	run run_ours check "$IMG"
	for line in "$@"; do
		if [ "$status" -ne 1 ] || ! grep -qF -- "$line" <<<"$output"; then
			echo "expected exit 1 and: $line" >&2
			echo "got exit $status:" >&2
			echo "$output" | head -30 >&2
			return 1
		fi
	done
}

# expect_finding LINE...: ours, and the reference check fails too
expect_finding() {
	ours "$@"
	run run_ref check "$IMG"
	if [ "$status" -eq 0 ]; then
		echo "oracle: the reference check passes the damaged image" >&2
		return 1
	fi
}

# ref_passes LINE: the reference check exits 0 on the damaged image and
# prints LINE (the tests using it note why the kernel disagrees)
ref_passes() {
	run run_ref check "$IMG"
	if [ "$status" -ne 0 ] || ! grep -qF -- "$1" <<<"$output"; then
		echo "the reference check changed: exit $status" >&2
		echo "$output" | head -20 >&2
		return 1
	fi
}

# chunk NAME TYPE: "start length" of the first chunk item whose type is
# TYPE as dump-tree prints it (DATA|single, SYSTEM|DUP, ...)
chunk() {
	dt "$1" -t chunk | awk -v t="$2" '
		/CHUNK_ITEM/ { s = $6; sub(/\)/, "", s) }
		/^\t\tlength .* type / && $NF == t { print s, $2; exit }'
}

# super_field NAME FIELD: a field of the image's superblock (reference)
super_field() {
	ref_super_field "$(image_files "$1" | cut -d' ' -f1)" "$2"
}

# --- 1. chunk items ---------------------------------------------------------

@test "chunk item: unknown type bits" {
	local s l
	copy a-default
	read -r s l < <(chunk a-default 'DATA|single')
	[ -n "$s" ]
	corrupt --item chunk 256 CHUNK_ITEM "$s" --field type --value $((0x100001))
	expect_finding "ERROR: chunk item: type 0x100001 has unknown bits 0x100000 [root 3 key (256 228 $s) bytenr $s]"
}

@test "chunk item: no DATA, METADATA or SYSTEM bit" {
	local s l
	copy a-default
	read -r s l < <(chunk a-default 'DATA|single')
	corrupt --item chunk 256 CHUNK_ITEM "$s" --field type --value 0
	expect_finding "ERROR: chunk item: type 0x0 has none of the DATA, METADATA, SYSTEM bits [root 3 key (256 228 $s) bytenr $s]"
}

@test "chunk item: two profile bits, the chunk is dropped at open" {
	local s l
	copy a-default
	read -r s l < <(chunk a-default 'DATA|single')
	# DATA|RAID0|RAID1: the engine cannot map it and drops it
	corrupt --item chunk 256 CHUNK_ITEM "$s" --field type --value $((0x19))
	expect_finding "ERROR: chunk item: type 0x19 has more than one profile bit [root 3 key (256 228 $s) bytenr $s]" \
		"ERROR: chunk item: not mapped at open: its range [$s, $((s + l))) cannot be read [root 3 key (256 228 $s) bytenr $s]"
}

@test "chunk item: DATA with METADATA without mixed block groups" {
	local s l
	copy a-default
	read -r s l < <(chunk a-default 'DATA|single')
	corrupt --item chunk 256 CHUNK_ITEM "$s" --field type --value 5
	ours "ERROR: chunk item: type 0x5 has DATA with METADATA without the mixed-groups feature [root 3 key (256 228 $s) bytenr $s]"
	# The reference (6.2) only notes that the block group differs and
	# exits 0; the kernel refuses the chunk ("mixed chunk type in
	# non-mixed fs").
	ref_passes "type(5) mismatch with block group"
}

@test "chunk item: num_stripes and sub_stripes wrong for RAID10" {
	local s l
	copy a-default
	read -r s l < <(chunk a-default 'DATA|single')
	corrupt --item chunk 256 CHUNK_ITEM "$s" --field type --value $((0x41))
	expect_finding "ERROR: chunk item: num_stripes 1 is below the minimum 2 of profile RAID10 [root 3 key (256 228 $s) bytenr $s expected 2 found 1]" \
		"ERROR: chunk item: sub_stripes 1 is wrong for profile RAID10 [root 3 key (256 228 $s) bytenr $s expected 2 found 1]" \
		"ERROR: chunk item: not mapped at open: its range [$s, $((s + l))) cannot be read [root 3 key (256 228 $s) bytenr $s]"
}

@test "chunk item: num_stripes wrong for DUP" {
	local s l
	copy a-default
	read -r s l < <(chunk a-default 'DATA|single')
	corrupt --item chunk 256 CHUNK_ITEM "$s" --field type --value $((0x21))
	ours "ERROR: chunk item: num_stripes 1 is wrong for profile DUP [root 3 key (256 228 $s) bytenr $s expected 2 found 1]" \
		"ERROR: chunk item: not mapped at open: its range [$s, $((s + l))) cannot be read [root 3 key (256 228 $s) bytenr $s]"
	# The reference (6.2) only notes that the block group differs and
	# exits 0; the kernel refuses a DUP chunk of one stripe ("invalid
	# num_stripes:sub_stripes").
	ref_passes "type(33) mismatch with block group"
}

@test "chunk item: stripe_len other than 64KiB" {
	local s l
	copy a-default
	read -r s l < <(chunk a-default 'DATA|single')
	corrupt --item chunk 256 CHUNK_ITEM "$s" --field stripe_len --value 131072
	expect_finding "ERROR: chunk item: stripe_len 131072 is not 65536 [root 3 key (256 228 $s) bytenr $s expected 65536 found 131072]"
}

@test "chunk item: sector_size other than the filesystem's" {
	local s l
	copy a-default
	read -r s l < <(chunk a-default 'METADATA|DUP')
	corrupt --item chunk 256 CHUNK_ITEM "$s" --field sector_size --value 8192
	expect_finding "ERROR: chunk item: sector_size 8192 is not the filesystem's 4096 [root 3 key (256 228 $s) bytenr $s expected 4096 found 8192]"
}

@test "chunk item: stripe devid of no device" {
	local s l
	copy a-default
	read -r s l < <(chunk a-default 'METADATA|DUP')
	corrupt --item chunk 256 CHUNK_ITEM "$s" --field stripe0.devid --value 7
	# a bad stripe, not a missing device: exit 1, not 2
	ours "ERROR: chunk item: stripe 0 devid 7 matches no dev item [root 3 key (256 228 $s) bytenr $s]"
	! grep -q "is missing" <<<"$output"
	# The reference (6.2) passes it; the kernel refuses to mount
	# ("missing devid 7").
	ref_passes "no error found"
}

@test "chunk item: stripe device uuid of no device" {
	local s l uuid
	copy a-default
	read -r s l < <(chunk a-default 'METADATA|DUP')
	uuid=$(dt a-default -t chunk | awk '/DEV_ITEM/ { f = 1 } f && /^\t\tuuid / { print $2; exit }')
	[ -n "$uuid" ]
	# the uuid's first 8 bytes, little-endian, become 01 00 .. 00
	corrupt --item chunk 256 CHUNK_ITEM "$s" --field stripe0.uuid_lo --value 1
	expect_finding "ERROR: chunk item: stripe 0 device uuid 01000000-0000-0000-${uuid:19} is not the uuid of device 1 [root 3 key (256 228 $s) bytenr $s]"
}

@test "chunk item: overlapping the next chunk, dropped at open" {
	local s l n nl
	copy a-default
	read -r s l < <(chunk a-default 'DATA|single')
	# the chunk item after it
	read -r n nl < <(dt a-default -t chunk | awk -v s="$s" '
		/CHUNK_ITEM/ { c = $6; sub(/\)/, "", c) }
		/^\t\tlength / && c + 0 > s + 0 { print c, $2; exit }')
	[ -n "$n" ]
	corrupt --item chunk 256 CHUNK_ITEM "$s" --field length --value $((n - s + 4096 * 256))
	expect_finding "ERROR: chunk item: overlaps the chunk at $s (length $((n - s + 4096 * 256))) [root 3 key (256 228 $n) bytenr $n expected $((n + 4096 * 256)) found $n]" \
		"ERROR: chunk item: not mapped at open: its range [$s, $((n + 4096 * 256))) cannot be read [root 3 key (256 228 $s) bytenr $s]"
}

# --- 1. the superblock's sys_chunk_array ------------------------------------

@test "sys_chunk_array: unknown type bits" {
	local s l
	copy a-default
	read -r s l < <(chunk a-default 'SYSTEM|DUP')
	[ -n "$s" ]
	corrupt --sys-chunk "$s" --field type --value $((0x100022))
	expect_finding "ERROR: superblock sys_chunk_array chunk: type 0x100022 has unknown bits 0x100000 [key (256 228 $s) bytenr $s]"
}

@test "sys_chunk_array: a chunk that is not SYSTEM" {
	local s l
	copy a-default
	read -r s l < <(chunk a-default 'SYSTEM|DUP')
	corrupt --sys-chunk "$s" --field type --value $((0x24))
	expect_finding "ERROR: superblock sys_chunk_array chunk: type 0x24 is not a SYSTEM chunk [key (256 228 $s) bytenr $s]"
}

@test "sys_chunk_array: SYSTEM with DATA" {
	local s l
	copy a-default
	read -r s l < <(chunk a-default 'SYSTEM|DUP')
	corrupt --sys-chunk "$s" --field type --value $((0x23))
	ours "ERROR: superblock sys_chunk_array chunk: type 0x23 has SYSTEM with DATA or METADATA [key (256 228 $s) bytenr $s]"
	# The reference (6.2) passes it (it does not compare the array with
	# the chunk tree); the kernel refuses it ("system chunk with data or
	# metadata type").
	ref_passes "no error found"
}

@test "sys_chunk_array: stripe_len other than 64KiB" {
	local s l
	copy a-default
	read -r s l < <(chunk a-default 'SYSTEM|DUP')
	corrupt --sys-chunk "$s" --field stripe_len --value 131072
	expect_finding "ERROR: superblock sys_chunk_array chunk: stripe_len 131072 is not 65536 [key (256 228 $s) bytenr $s expected 65536 found 131072]"
}

@test "sys_chunk_array: sector_size other than the filesystem's" {
	local s l
	copy a-default
	read -r s l < <(chunk a-default 'SYSTEM|DUP')
	corrupt --sys-chunk "$s" --field sector_size --value 8192
	expect_finding "ERROR: superblock sys_chunk_array chunk: sector_size 8192 is not the filesystem's 4096 [key (256 228 $s) bytenr $s expected 4096 found 8192]"
}

@test "sys_chunk_array: stripe devid of no device" {
	local s l
	copy a-default
	read -r s l < <(chunk a-default 'SYSTEM|DUP')
	corrupt --sys-chunk "$s" --field stripe0.devid --value 7
	ours "ERROR: superblock sys_chunk_array chunk: stripe 0 devid 7 matches no dev item [key (256 228 $s) bytenr $s]"
	! grep -q "is missing" <<<"$output"
	# The reference (6.2) passes it; the kernel refuses to mount
	# ("missing devid 7").
	ref_passes "no error found"
}

@test "chunk item: metadata chunk dropped at open, the open fails" {
	local s l
	copy a-default
	read -r s l < <(chunk a-default 'METADATA|DUP')
	[ -n "$s" ]
	# METADATA|RAID10 with 2 stripes and sub_stripes 1: dropped, so the
	# tree root in it cannot be read and the filesystem does not open
	# (exit 2); the chunk findings still say why
	corrupt --item chunk 256 CHUNK_ITEM "$s" --field type --value $((0x44))
	run run_ours check "$IMG"
	[ "$status" -eq 2 ] || { echo "exit $status: $output" >&2; return 1; }
	grep -qF "ERROR: chunk item: sub_stripes 1 is wrong for profile RAID10 [root 3 key (256 228 $s) bytenr $s expected 2 found 1]" <<<"$output"
	grep -qF "ERROR: chunk item: not mapped at open: its range [$s, $((s + l))) cannot be read [root 3 key (256 228 $s) bytenr $s]" <<<"$output"
	grep -qF "ERROR: cannot open file system" <<<"$output"
	run run_ref check "$IMG"
	[ "$status" -ne 0 ]
}

# --- 2. dev items -----------------------------------------------------------

@test "dev item: fsid not the filesystem's metadata uuid" {
	local fsid
	copy a-default
	fsid=$(super_field a-default metadata_uuid)
	[ -n "$fsid" ]
	corrupt --item chunk 1 DEV_ITEM 1 --field fsid_lo --value 1
	expect_finding "ERROR: dev item fsid 01000000-0000-0000-${fsid:19} is not the filesystem's metadata uuid $fsid [root 3 key (1 216 1)]"
}

@test "dev item: device uuid not the device's superblock's" {
	local uuid
	copy a-default
	uuid=$(super_field a-default dev_item.uuid)
	[ -n "$uuid" ]
	corrupt --item chunk 1 DEV_ITEM 1 --field uuid_lo --value 1
	# a damaged dev item, not a missing device: exit 1, not 2
	expect_finding "ERROR: dev item uuid 01000000-0000-0000-${uuid:19} is not the uuid $uuid in the superblock of device 1 ($IMG) [root 3 key (1 216 1)]"
	! grep -q "is missing" <<<"$output$(run_ours check "$IMG" 2>&1)"
}

@test "dev item: devid differs from its key" {
	copy a-default
	corrupt --item chunk 1 DEV_ITEM 1 --field devid --value 3
	expect_finding "ERROR: dev item devid 3 differs from its key offset 1 [root 3 key (1 216 1) expected 1 found 3]"
}

@test "dev item: bytes_used above total_bytes" {
	local total
	copy a-default
	total=$(super_field a-default dev_item.total_bytes)
	corrupt --item chunk 1 DEV_ITEM 1 --field bytes_used --value $((total + 1))
	expect_finding "ERROR: dev item bytes_used $((total + 1)) exceeds its total_bytes $total [root 3 key (1 216 1) expected $total found $((total + 1))]"
}

# Already found before this file (devices.c); here so that class 2 is
# covered in one place.
@test "dev item: total_bytes above the device size and the superblock's copy" {
	local total
	copy a-default
	total=$(super_field a-default dev_item.total_bytes)
	corrupt --item chunk 1 DEV_ITEM 1 --field total_bytes --value $((total * 2))
	# the findings of cmds/check/devices.c
	expect_finding "ERROR: device 1 ($IMG) size $total is smaller than total_bytes $((total * 2)) in its dev item [root 3 key (1 216 1) expected $((total * 2)) found $total]" \
		"ERROR: device 1 ($IMG): superblock dev_item total_bytes $total differs from the dev item's $((total * 2)) [root 3 key (1 216 1) expected $((total * 2)) found $total]"
}

# --- 3. root refs and root items --------------------------------------------

@test "root ref: name_len past the item" {
	local len
	copy k-quota
	# the name of the ref (5 ROOT_REF 258): item size - 18
	len=$(dt k-quota -t root | awk '/key \(FS_TREE ROOT_REF 258\)/ { print $NF - 18; exit }')
	[ -n "$len" ]
	corrupt --item root 5 ROOT_REF 258 --field name_len --value 200
	expect_finding "ERROR: root ref name_len 200 runs past the item ($len bytes of name) [root 1 key (5 156 258) expected $len found 200]"
}

@test "root backref: name_len past the item" {
	local len
	copy k-quota
	len=$(dt k-quota -t root | awk '/key \(258 ROOT_BACKREF 5\)/ { print $NF - 18; exit }')
	[ -n "$len" ]
	corrupt --item root 258 ROOT_BACKREF 5 --field name_len --value $((len + 1))
	expect_finding "ERROR: root backref name_len $((len + 1)) runs past the item ($len bytes of name) [root 1 key (258 144 5) expected $len found $((len + 1))]"
}

@test "root item: refs 0 for a subvolume a directory still links" {
	local dir
	copy k-quota
	dir=$(dt k-quota -t root | awk '/key \(FS_TREE ROOT_REF 258\)/ { getline; print $5; exit }')
	[ -n "$dir" ]
	corrupt --item root 258 ROOT_ITEM 0 --field refs --value 0
	expect_finding "ERROR: subvolume 258 root item refs is 0 while directory $dir of tree 5 links it [root 1 key (258 132 0) expected 1 found 0]"
}

# --- 4. inode modes ---------------------------------------------------------

# first_file NAME: the inode number of the first regular file of FS_TREE
first_file() {
	dt "$1" -t fs | awk '
		/INODE_ITEM 0\)/ { i = $4; sub(/\(/, "", i) }
		/ mode 100/ { print i; exit }'
}

@test "inode item: mode bits outside S_IFMT and 07777" {
	local ino
	copy a-default
	ino=$(first_file a-default)
	[ -n "$ino" ]
	corrupt --item fs "$ino" INODE_ITEM 0 --field mode --value $((0300644))
	expect_finding "ERROR: inode mode 300644 has bits outside the file type and permission bits (200000) [root 5 inode $ino key ($ino 1 0)]"
}

# Already found before this file (pass 6); kept beside the new rule.
@test "inode item: mode with no valid file type" {
	local ino
	copy a-default
	ino=$(first_file a-default)
	corrupt --item fs "$ino" INODE_ITEM 0 --field mode --value $((0070644))
	expect_finding "ERROR: inode mode 70644 has no valid file type [root 5 inode $ino key ($ino 1 0)]"
}

# --- 5. tree block owners -----------------------------------------------------
# Not checked: FULL_BACKREF on a tree block that only its owner's tree
# references.  It looks impossible, yet the fsck corpus image
# 023-qgroup-stack-overflow (made by balance) has one that the reference
# and the kernel accept (the kernel clears the flag on the next COW of a
# block with refs 1), so the extent tree's backrefs against the references
# found (pass 4) stay the check for it.

# le64 N: N as 8 little-endian bytes in hex
le64() {
	printf '%016x' "$1" | sed 's/../& /g' | awk '{ for (i = NF; i > 0; i--) printf "%s", $i }'
}

@test "tree block: owner a subvolume newer than the tree" {
	local b
	copy a-default
	# child 1 of the FS_TREE root node
	b=$(dt a-default -t fs | awk '/^\tkey .* block [0-9]+ gen/ { if (i++ == 1) { print $(NF - 2); exit } }')
	[ -n "$b" ]
	# owner 258: a subvolume made after FS_TREE never shared blocks into it
	corrupt --block "$b" --offset 88 --hex "$(le64 258)"
	expect_finding "ERROR: tree block owner 258 is a subvolume newer than this tree, which cannot share its blocks [root 5 bytenr $b expected 5 found 258]"
}

# shared NAME SNAP: "bytenr owner" of the first block reached from
# snapshot SNAP whose header owner is another (older) subvolume
shared() {
	dt "$1" -t "$2" | awk -v t="$2" '/^(leaf|node) [0-9]+ .* owner / && $NF != t { print $2, $NF; exit }'
}

@test "tree block: a snapshot's shared block is fine, its owner made newer is not" {
	local b o
	copy k-quota
	read -r b o < <(shared k-quota 261)
	[ -n "$b" ] && [ "$o" -lt 261 ]
	# legitimate: snapshot 261 reaches a block owned by subvolume $o
	run run_ours check "$IMG"
	[ "$status" -eq 0 ] || { echo "$output" >&2; return 1; }
	# the block claims the snapshot made after it as owner
	corrupt --block "$b" --offset 88 --hex "$(le64 261)"
	expect_finding "ERROR: tree block owner 261 is a subvolume newer than this tree, which cannot share its blocks [root $o bytenr $b expected $o found 261]"
}
