#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
# mkfs.btrfs --undo FILE and btrfs rescue undo FILE DEVICE...: the devices
# come back byte for byte (compared by content), over filesystems the
# kernel wrote, on 1, 2 and 4 devices, after a finished mkfs and after one
# cut short by a simulated power cut at any flush; and every mismatch (a
# wrong, missing or repeated device, a damaged or foreign undo file) is
# refused with nothing written.

bats_require_minimum_version 1.5.0

load ../helpers/common

setup() {
	require_ours
	[ -x "$MKFS_BIN" ] || { echo "our mkfs.btrfs is missing: $MKFS_BIN" >&2; return 1; }
	T=$BATS_TEST_TMPDIR
	cd "$T"
}

teardown() {
	cd /
	cleanup_all
}

# imgs SIZE NAME...: sparse image files
imgs() {
	local size=$1 f

	shift
	for f; do
		rm -f "$f"
		truncate -s "$size" "$f"
	done
}

# content FILE...: size and hash of the data of each file (not its mtime)
content() {
	local f

	for f; do
		"$PYTHON" "$HELPERS_DIR/sparse-sum.py" --content "$f" | awk -v f="$f" '{ print f, $1, $3 }'
	done
}

# kernel_fs NAME... : a filesystem the kernel wrote files to, over the
# images (made by the reference mkfs, raid1 on several), or one by the
# reference mkfs only when the kernel cannot be used
kernel_fs() {
	local prof=()

	[ $# -gt 1 ] && prof=(-d raid1 -m raid1)
	[ $# -ge 4 ] && prof=(-d raid10 -m raid10)
	"$ref_mkfs" -q -f "${prof[@]}" "$@" >/dev/null
	if check_loop >/dev/null && check_kernel_btrfs >/dev/null; then
		local l m=$T/mnt

		mkdir -p "$m"
		for l in "$@"; do
			losetup -f --show "$l" >> "$T/loops"
		done
		track_loop $(cat "$T/loops")
		btrfs device scan $(cat "$T/loops") >/dev/null 2>&1 || true
		mount "$(head -1 "$T/loops")" "$m"
		track_mount "$m"
		mkdir "$m/dir"
		head -c 3000000 /dev/urandom > "$m/dir/big"
		echo small > "$m/dir/small"
		ln -s small "$m/dir/link"
		umount "$m"
		for l in $(cat "$T/loops"); do losetup -d "$l"; done
		rm -f "$T/loops"
	fi
}

ours_mkfs() { run --separate-stderr "$MKFS_BIN" "$@"; }
undo() { run --separate-stderr "$BTRFS_BIN" rescue undo "$@"; }

@test "mkfs --undo over a kernel-made filesystem, then rescue undo: byte for byte, twice" {
	require_reference
	imgs 1G a.img
	kernel_fs a.img
	content a.img > before
	ours_mkfs -f --undo u a.img
	[ "$status" = 0 ] || { echo "$stderr"; false; }
	[[ $output == *"Undo file u: "*" bytes of old data in "*" records"* ]]
	"$ref_btrfs" check a.img >/dev/null 2>&1
	content a.img > mkfsed
	! cmp -s before mkfsed
	undo -n u a.img
	[ "$status" = 0 ]
	[[ ${lines[0]} == "Undo file u: written by mkfs.btrfs at "*", 1 device, complete" ]]
	[[ $output == *"would write "*" bytes at offset 65536 of a.img"* ]]
	[[ ${lines[-1]} == "Would restore "*" bytes in "*" ranges on 1 device" ]]
	content a.img > dry
	diff mkfsed dry
	undo u a.img
	[ "$status" = 0 ] || { echo "$stderr"; false; }
	[[ ${lines[-1]} == "Restored "*" bytes in "*" ranges on 1 device" ]]
	content a.img > after
	diff before after
	# again: the device is as found, which the file knows; same result
	undo u a.img
	[ "$status" = 0 ]
	content a.img > again
	diff before again
	"$ref_btrfs" check a.img >/dev/null 2>&1
}

@test "2 and 4 devices, given in another order: all restored" {
	require_reference
	local n
	for n in 2 4; do
		local devs=() i
		for i in $(seq 1 $n); do devs+=("d$n-$i.img"); done
		imgs 1G "${devs[@]}"
		kernel_fs "${devs[@]}"
		content "${devs[@]}" > before$n
		ours_mkfs -f --undo u$n -d raid1 -m raid1 "${devs[@]}"
		[ "$status" = 0 ] || { echo "$stderr"; false; }
		undo u$n $(printf '%s\n' "${devs[@]}" | tac)
		[ "$status" = 0 ] || { echo "$stderr"; false; }
		[[ ${lines[-1]} == *" on $n devices" ]]
		content "${devs[@]}" > after$n
		diff before$n after$n
	done
}

@test "a blank image: restored to zeros, and the undo file skips the discard" {
	imgs 512M a.img
	content a.img > before
	ours_mkfs -v --undo u a.img
	[ "$status" = 0 ]
	[[ $output != *TRIM* ]]
	undo u a.img
	[ "$status" = 0 ]
	content a.img > after
	diff before after
}

@test "mkfs --undo refuses an existing undo file and writes nothing" {
	imgs 512M a.img
	echo precious > u
	content a.img u > before
	ours_mkfs --undo u a.img
	[ "$status" = 1 ]
	[ "$stderr" = "ERROR: undo file u exists and is not empty (the undo file of an earlier command?): refusing to overwrite it" ]
	content a.img u > after
	diff before after
	ours_mkfs --undo /nonexistent/dir/u a.img
	[ "$status" = 1 ]
	[[ $stderr == "ERROR: cannot create undo file /nonexistent/dir/u: No such file or directory" ]]
	content a.img > after2
	head -1 before | diff - after2
}

@test "wrong, missing, repeated and extra devices are refused; nothing written" {
	imgs 512M a.img b.img other.img small.img
	truncate -s 300M small.img
	"$MKFS_BIN" -q b.img
	"$MKFS_BIN" -q other.img
	ours_mkfs -f --undo u -d raid1 -m raid1 a.img b.img
	[ "$status" = 0 ]
	content a.img b.img other.img small.img > before
	undo u a.img other.img
	[ "$status" = 1 ]
	[ "$stderr" = "ERROR: other.img is not a device this undo file recorded: its superblock is in none of the states the file knows; nothing written" ]
	undo u a.img small.img
	[ "$status" = 1 ]
	[ "$stderr" = "ERROR: small.img is not a device this undo file recorded: its size 314572800 matches none of them; nothing written" ]
	undo u a.img
	[ "$status" = 1 ]
	[ "$stderr" = "ERROR: the undo file records 2 devices; device 2 (b.img, 536870912 bytes) was not given; nothing written" ]
	undo u a.img a.img
	[ "$status" = 1 ]
	[ "$stderr" = "ERROR: a.img is given twice" ]
	undo u a.img b.img other.img
	[ "$status" = 1 ]
	[[ $stderr == "ERROR: other.img is not a device this undo file recorded"* ]]
	undo u
	[ "$status" = 1 ]
	content a.img b.img other.img small.img > after
	diff before after
}

@test "a damaged or foreign undo file is refused; nothing written" {
	local size
	imgs 512M a.img
	"$MKFS_BIN" -q a.img
	ours_mkfs -f --undo u a.img
	[ "$status" = 0 ]
	content a.img > before
	size=$(stat -c %s u)
	# cut short: a complete file must have all its records
	head -c $((size - 1000)) u > cut
	undo cut a.img
	[ "$status" = 1 ]
	[[ $stderr == "ERROR: undo file cut is damaged: record "*" at offset "*" is cut short" ]]
	# one flipped byte in the data of the first record
	cp u flip
	printf '\xff' | dd of=flip bs=1 seek=$((16384 + 64 + 10)) conv=notrunc status=none
	undo flip a.img
	[ "$status" = 1 ]
	[[ $stderr == "ERROR: undo file flip is damaged: record 0 at offset 16384 has data that does not match its checksum" ]]
	# one flipped byte in the header
	cp u hdr
	printf 'X' | dd of=hdr bs=1 seek=40 conv=notrunc status=none
	undo hdr a.img
	[ "$status" = 1 ]
	[ "$stderr" = "ERROR: the header of undo file hdr is damaged (checksum mismatch)" ]
	# not an undo file at all
	head -c 20000 /dev/urandom > junk
	undo junk a.img
	[ "$status" = 1 ]
	[ "$stderr" = "ERROR: junk is not an undo file (no header)" ]
	undo missing a.img
	[ "$status" = 1 ]
	[ "$stderr" = "ERROR: cannot open undo file missing: No such file or directory" ]
	# the undo file of another filesystem's mkfs
	imgs 512M c.img
	"$MKFS_BIN" -q c.img
	ours_mkfs -f --undo uc c.img
	undo uc a.img
	[ "$status" = 1 ]
	[[ $stderr == "ERROR: a.img is not a device this undo file recorded"* ]]
	content a.img > after
	diff before after
}

@test "power cut at every flush of mkfs --undo: rescue undo restores the device" {
	local flushes n seed
	imgs 512M a.img
	"$MKFS_BIN" -q a.img
	# something of the old filesystem to lose
	head -c 100000 /dev/urandom | dd of=a.img bs=4096 seek=5000 conv=notrunc status=none
	content a.img > before
	cp --sparse=always a.img orig.img
	run --separate-stderr env BTRFS_IO_FAULTS=count "$MKFS_BIN" -q -f --undo u0 a.img
	[ "$status" = 0 ]
	flushes=$(sed -n 's/^faults: .* writes, \([0-9]*\) flushes$/\1/p' <<< "$stderr")
	[ "$flushes" -ge 2 ]
	for n in $(seq 1 "$flushes"); do
		for seed in 1 2; do
			cp --sparse=always orig.img a.img
			rm -f u
			run --separate-stderr env BTRFS_IO_FAULTS=cut-flush=$n,lose=random,torn,seed=$seed \
				"$MKFS_BIN" -q -f --undo u a.img
			[ "$status" = 1 ]
			[[ $stderr == *"faults: power cut at flush $n"* ]]
			[[ $stderr == *"'btrfs rescue undo u' with the same devices puts back what was overwritten"* ]]
			undo u a.img
			[ "$status" = 0 ] || { echo "cut at flush $n seed $seed: $stderr"; false; }
			content a.img > after
			diff before after || { echo "cut at flush $n seed $seed"; false; }
		done
	done
}

@test "an interrupted undo file with a torn last record is used up to it" {
	imgs 512M a.img
	"$MKFS_BIN" -q a.img
	content a.img > before
	run --separate-stderr env BTRFS_IO_FAULTS=cut-write=40,lose=all "$MKFS_BIN" -q -f --undo u a.img
	[ "$status" = 1 ]
	# a record torn in the middle of being appended
	printf 'UREC' >> u
	head -c 700 /dev/urandom >> u
	undo u a.img
	[ "$status" = 0 ] || { echo "$stderr"; false; }
	[[ ${lines[0]} == *", 1 device, interrupted" ]]
	[[ $stderr == "WARNING: u ends with an incomplete record at offset "*" (the command was interrupted): using the "*" records before it" ]]
	content a.img > after
	diff before after
	# a bad record followed by a good one is damage, not a torn tail
	cp u u2
	printf 'ZZZZ' | dd of=u2 bs=1 seek=$((16384 + 0)) conv=notrunc status=none
	undo u2 a.img
	[ "$status" = 1 ]
	[[ $stderr == "ERROR: undo file u2 is damaged: record 0 at offset 16384 has a damaged header" ]]
}

@test "rescue undo: usage" {
	run --separate-stderr "$BTRFS_BIN" rescue undo --help
	[ "$status" = 0 ]
	[[ ${lines[0]} == "usage: btrfs rescue undo [options] <undo-file> <device> [<device>...]" ]]
	run --separate-stderr "$BTRFS_BIN" rescue undo u
	[ "$status" = 1 ]
	run --separate-stderr "$BTRFS_BIN" rescue undo --bogus u a
	[ "$status" = 1 ]
	run --separate-stderr "$BTRFS_BIN" rescue --help
	[ "$status" = 0 ]
	[[ $output == *"btrfs rescue undo"* ]]
}
