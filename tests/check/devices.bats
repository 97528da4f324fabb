#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
# `btrfs check` and the devices under the filesystem:
# - an image cut short (a device smaller than its dev item): one finding
#   naming the device, its size and the dev item's total_bytes, exit 1, no
#   flood of read errors; a larger device is fine;
# - the dev_item copy of the superblock against the dev item;
# - a device of a multi-device filesystem missing: each one reported by
#   devid and uuid, what the other copies allow, exit 2 (the man page);
# - one bad copy of a DUP tree block: reported with its copy, device,
#   physical offset and reason, the good copy used, exit 1.
# Images are kernel-made (tests/helpers/make-images.sh) or made by the
# reference mkfs; the reference check is the oracle for the verdict, and
# where it does not fail (it only warns about a missing device, prints a
# bad first copy but exits 0, never reads a second copy) its own message
# is asserted instead.

load ../helpers/common

setup_file() {
	images_setup_file
}

setup() {
	skip_if_reason "$IMAGES_SKIP"
	require_ours
	require_reference
	IMG=$BATS_TEST_TMPDIR/t.img
}

teardown() {
	cleanup_all
}

# errors: the ERROR lines of $output
errors() {
	grep '^ERROR: ' <<<"$output" || true
}

# nr_errors: how many ERROR lines $output has
nr_errors() {
	errors | wc -l
}

# copy NAME: a sparse working copy of (the first file of) image NAME in $IMG
copy() {
	cp --sparse=always "$(image_files "$1" | cut -d' ' -f1)" "$IMG"
}

# physical IMG LOGICAL STRIPE: "DEVID PHYSICAL" of stripe STRIPE of the
# chunk holding LOGICAL, from the reference's dump of the chunk tree
physical() {
	run_ref inspect-internal dump-tree -t chunk "$1" 2>/dev/null |
		awk -v l="$2" -v want="$3" '
		/CHUNK_ITEM/ { s = $0; sub(/.*CHUNK_ITEM /, "", s); sub(/\).*/, "", s); start = s + 0 }
		$1 == "length" { len = $2 + 0 }
		$1 == "stripe" && $3 == "devid" {
			if (l >= start && l < start + len && $2 == want) {
				print $4, $6 + (l - start); exit
			}
		}'
}

# A 2GiB filesystem made by the reference mkfs, in the file's tmpdir.
big_fs() {
	BIG=$BATS_FILE_TMPDIR/big.img
	[ -e "$BIG" ] && return 0
	truncate -s 2G "$BIG"
	"$ref_mkfs" -q -f "$BIG" >/dev/null
}

@test "an image cut short: one finding with the device, its size and total_bytes" {
	local size bytes line
	big_fs
	for size in 40M 300M 1G; do
		cp --sparse=always "$BIG" "$IMG"
		truncate -s "$size" "$IMG"
		bytes=$(stat -c %s "$IMG")
		line="ERROR: device 1 ($IMG) size $bytes is smaller than total_bytes 2147483648 in its dev item [root 3 key (1 216 1) expected 2147483648 found $bytes]"
		run run_ours check "$IMG"
		if [ "$status" -ne 1 ] || [ "$(errors)" != "$line" ]; then
			echo "$size: expected exit 1 and exactly: $line" >&2
			echo "got $status:" >&2
			echo "$output" | head -20 >&2
			return 1
		fi
		grep -q "^found [0-9]* bytes used, 1 error found$" <<<"$output"
		if grep -qi "input/output" <<<"$output"; then
			echo "$size: read errors printed" >&2
			return 1
		fi
		# the oracle
		run run_ref check "$IMG"
		[ "$status" -ne 0 ]
		grep -q "block device size is smaller than total_bytes in device item" <<<"$output"
	done
}

@test "a kernel-made image cut short, with --check-data-csum: no flood of read errors" {
	copy a-default
	truncate -s 60M "$IMG"
	run run_ours check --check-data-csum "$IMG"
	echo "$output" | head -20
	[ "$status" -eq 1 ]
	[ "$(nr_errors)" -eq 2 ]
	errors | grep -qxF "ERROR: device 1 ($IMG) size 62914560 is smaller than total_bytes 536870912 in its dev item [root 3 key (1 216 1) expected 536870912 found 62914560]"
	errors | grep -qE '^ERROR: [0-9]+ bytes of checksummed data lie past the end of a device smaller than its dev item: not verified \[root 7\]$'
	run run_ref check "$IMG"
	[ "$status" -ne 0 ]
}

@test "an image too short to open: the short device is named, exit 2" {
	copy a-default
	truncate -s 36M "$IMG"
	run run_ours check "$IMG"
	echo "$output"
	[ "$status" -eq 2 ]
	errors | grep -qxF "ERROR: device 1 ($IMG) size 37748736 is smaller than total_bytes 536870912 in its superblock dev_item [root 3 key (1 216 1) expected 536870912 found 37748736]"
	grep -qx "ERROR: cannot open file system" <<<"$output"
	run run_ref check "$IMG"
	[ "$status" -ne 0 ]
}

@test "a device larger than its dev item is fine" {
	big_fs
	cp --sparse=always "$BIG" "$IMG"
	truncate -s 3G "$IMG"
	run run_ours check "$IMG"
	[ "$status" -eq 0 ]
	[ "$(nr_errors)" -eq 0 ]
	grep -q "^found [0-9]* bytes used, no error found$" <<<"$output"
	run run_ref check "$IMG"
	[ "$status" -eq 0 ]
}

@test "the superblock's dev_item copy must agree with the dev item" {
	local corrupt=$TOP_BUILDDIR/tests/tools/btrfs-corrupt
	[ -x "$corrupt" ] || { echo "missing $corrupt (build it)" >&2; return 1; }
	copy a-default
	"$corrupt" "$IMG" --super-field dev_item.total_bytes 268435456
	run run_ours check "$IMG"
	[ "$status" -eq 1 ]
	[ "$(errors)" = "ERROR: device 1 ($IMG): superblock dev_item total_bytes 268435456 differs from the dev item's 536870912 [root 3 key (1 216 1) expected 536870912 found 268435456]" ]
	# larger than the device as well: both are said
	"$corrupt" "$IMG" --super-field dev_item.total_bytes 1073741824
	run run_ours check "$IMG"
	[ "$status" -eq 1 ]
	[ "$(nr_errors)" -eq 2 ]
	errors | grep -qxF "ERROR: device 1 ($IMG) size 536870912 is smaller than total_bytes 1073741824 in its superblock dev_item [root 3 key (1 216 1) expected 1073741824 found 536870912]"
	# the reference does not compare them (it exits 0): not an oracle here
	run run_ref check "$IMG"
	diag "reference check on a superblock dev_item mismatch: exit $status"
}

@test "the first device of a raid1 pair alone: device 2 missing, exit 2" {
	local first second uuid
	first=$(image_files i-raid1 | cut -d' ' -f1)
	second=$(image_files i-raid1 | cut -d' ' -f2)
	[ -n "$second" ] && [ "$second" != "$first" ]
	uuid=$(ref_super_field "$second" dev_item.uuid)
	[ "$(ref_super_field "$second" dev_item.devid)" = 2 ]
	run run_ours check "$first"
	echo "$output"
	[ "$status" -eq 2 ]
	[ "$(errors)" = "ERROR: device 2 is missing (uuid $uuid) [root 3 key (1 216 2)]" ]
	grep -qE "^WARNING: ([0-9]+) of \1 chunks lost a copy with the missing devices; the remaining copies are checked$" <<<"$output"
	grep -q "^found [0-9]* bytes used, 1 error found$" <<<"$output"
	# with both devices it is clean
	run run_ours check "$first" "$second"
	[ "$status" -eq 0 ]
	# the oracle warns about the same device
	run run_ref check "$first"
	grep -q "device 2 is missing" <<<"$output"
}

@test "devices of a 4-device raid10: each missing one by devid and uuid" {
	local i dir=$BATS_TEST_TMPDIR uuid
	for i in 1 2 3 4; do
		truncate -s 256M "$dir/r$i.img"
	done
	"$ref_mkfs" -q -f -d raid10 -m raid10 "$dir"/r{1,2,3,4}.img >/dev/null
	# one device alone: three missing, no chunk has a complete copy
	run run_ours check "$dir/r1.img"
	echo "$output"
	[ "$status" -eq 2 ]
	for i in 2 3 4; do
		uuid=$(ref_super_field "$dir/r$i.img" dev_item.uuid)
		errors | grep -qxF "ERROR: device $i is missing (uuid $uuid) [root 3 key (1 216 $i)]"
	done
	errors | grep -qE '^ERROR: ([0-9]+) of \1 chunks \([0-9]+ bytes\) have no complete copy on the devices present \[root 3 bytenr [0-9]+\]$'
	run run_ref check "$dir/r1.img"
	[ "$status" -ne 0 ]
	grep -q "device 4 is missing" <<<"$output"
	# three of four: each mirror pair keeps a copy; degraded, still exit 2
	run run_ours check "$dir"/r{1,2,3}.img
	echo "$output"
	[ "$status" -eq 2 ]
	uuid=$(ref_super_field "$dir/r4.img" dev_item.uuid)
	[ "$(errors)" = "ERROR: device 4 is missing (uuid $uuid) [root 3 key (1 216 4)]" ]
	grep -qE "^WARNING: ([0-9]+) of \1 chunks lost a copy" <<<"$output"
	# all four: clean
	run run_ours check "$dir"/r{1,2,3,4}.img
	[ "$status" -eq 0 ]
}

# bad_copy STRIPE: damage stripe STRIPE (0 or 1) of the csum tree root of a
# copy of a-default with dd, 200 bytes into the block; sets BYTENR, DEVID,
# PHYS
bad_copy() {
	local where
	copy a-default
	BYTENR=$(run_ref inspect-internal dump-tree -t root "$IMG" 2>/dev/null |
		awk '/\(CSUM_TREE ROOT_ITEM/ { getline; for (i = 1; i < NF; i++) if ($i == "bytenr") { print $(i + 1); exit } }')
	[ -n "$BYTENR" ]
	where=$(physical "$IMG" "$BYTENR" "$1")
	[ -n "$where" ]
	DEVID=${where%% *}
	PHYS=${where##* }
	printf 'XXXXXXXX' | dd of="$IMG" bs=1 seek=$((PHYS + 200)) conv=notrunc status=none
}

@test "a bad first copy of a DUP tree block: named, the second copy used" {
	local re
	bad_copy 0
	run run_ours check "$IMG"
	echo "$output"
	[ "$status" -eq 1 ]
	[ "$(nr_errors)" -eq 1 ]
	re="^ERROR: tree block copy 1 of 2 on device $DEVID physical $PHYS is bad \(checksum mismatch, stored (0x[0-9a-f]+) computed (0x[0-9a-f]+)\), copy 2 used \[root 7 bytenr $BYTENR\]$"
	[[ "$(errors)" =~ $re ]]
	# the reference prints the same checksum failure for the same block
	run run_ref check "$IMG"
	grep -qF "checksum verify failed on $BYTENR wanted ${BASH_REMATCH[1]} found ${BASH_REMATCH[2]}" <<<"$output"
}

@test "a bad second copy of a DUP tree block is found too" {
	local re
	bad_copy 1
	run run_ours check "$IMG"
	echo "$output"
	[ "$status" -eq 1 ]
	[ "$(nr_errors)" -eq 1 ]
	re="^ERROR: tree block copy 2 of 2 on device $DEVID physical $PHYS is bad \(checksum mismatch, stored 0x[0-9a-f]+ computed 0x[0-9a-f]+\), copy 1 used \[root 7 bytenr $BYTENR\]$"
	[[ "$(errors)" =~ $re ]]
	# the reference reads the first copy only and does not see it
	run run_ref check "$IMG"
	diag "reference check on a bad second copy: exit $status"
}

@test "a bad copy of the chunk root, read while opening, is reported too" {
	local root where phys re
	copy a-default
	root=$(ref_super_field "$IMG" chunk_root)
	where=$(physical "$IMG" "$root" 0)
	phys=${where##* }
	[ -n "$phys" ]
	printf 'XXXXXXXX' | dd of="$IMG" bs=1 seek=$((phys + 200)) conv=notrunc status=none
	run run_ours check "$IMG"
	echo "$output"
	[ "$status" -eq 1 ]
	[ "$(nr_errors)" -eq 1 ]
	re="^ERROR: tree block copy 1 of 2 on device 1 physical $phys is bad \(checksum mismatch, stored (0x[0-9a-f]+) computed (0x[0-9a-f]+)\), copy 2 used \[root 3 bytenr $root\]$"
	[[ "$(errors)" =~ $re ]]
	run run_ref check "$IMG"
	grep -qF "checksum verify failed on $root wanted ${BASH_REMATCH[1]} found ${BASH_REMATCH[2]}" <<<"$output"
}

@test "a misdirected write over one copy: the header bytenr names it" {
	local other where src re
	bad_copy 0	# sets BYTENR, DEVID, PHYS of copy 1 of the csum root
	copy a-default
	# another block of the same chunk: the uuid tree root, copy 1
	other=$(run_ref inspect-internal dump-tree -t root "$IMG" 2>/dev/null |
		awk '/\(UUID_TREE ROOT_ITEM/ { getline; for (i = 1; i < NF; i++) if ($i == "bytenr") { print $(i + 1); exit } }')
	where=$(physical "$IMG" "$other" 0)
	src=${where##* }
	[ -n "$src" ] && [ "$other" != "$BYTENR" ]
	dd if="$IMG" of="$IMG" bs=1 skip="$src" seek="$PHYS" count=16384 conv=notrunc status=none
	run run_ours check "$IMG"
	echo "$output"
	[ "$status" -eq 1 ]
	[ "$(errors)" = "ERROR: tree block copy 1 of 2 on device $DEVID physical $PHYS is bad (header bytenr $other is not the block's), copy 2 used [root 7 bytenr $BYTENR]" ]
	run run_ref check "$IMG"
	diag "reference check on a misdirected first copy: exit $status"
}

@test "a bad copy of a RAID1 tree block on the second device" {
	local f1 f2 d1 d2 bytenr where devid phys target re
	f1=$BATS_TEST_TMPDIR/r1.img
	f2=$BATS_TEST_TMPDIR/r2.img
	cp --sparse=always "$(image_files i-raid1 | cut -d' ' -f1)" "$f1"
	cp --sparse=always "$(image_files i-raid1 | cut -d' ' -f2)" "$f2"
	d1=$(ref_super_field "$f1" dev_item.devid)
	d2=$(ref_super_field "$f2" dev_item.devid)
	bytenr=$(run_ref inspect-internal dump-tree -t root "$f1" "$f2" 2>/dev/null |
		awk '/\(CSUM_TREE ROOT_ITEM/ { getline; for (i = 1; i < NF; i++) if ($i == "bytenr") { print $(i + 1); exit } }')
	[ -n "$bytenr" ]
	# the copy that a read tries second: stripe 1
	where=$(physical "$f1" "$bytenr" 1)
	devid=${where%% *}
	phys=${where##* }
	[ -n "$phys" ]
	if [ "$devid" = "$d1" ]; then target=$f1; elif [ "$devid" = "$d2" ]; then target=$f2; else return 1; fi
	printf 'XXXXXXXX' | dd of="$target" bs=1 seek=$((phys + 200)) conv=notrunc status=none
	run run_ours check "$f1" "$f2"
	echo "$output"
	[ "$status" -eq 1 ]
	[ "$(nr_errors)" -eq 1 ]
	re="^ERROR: tree block copy 2 of 2 on device $devid physical $phys is bad \(checksum mismatch, stored 0x[0-9a-f]+ computed 0x[0-9a-f]+\), copy 1 used \[root 7 bytenr $bytenr\]$"
	[[ "$(errors)" =~ $re ]]
}
