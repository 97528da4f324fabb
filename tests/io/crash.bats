#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
# mkfs.btrfs under power cuts and I/O errors, through the fault injector
# of kernel-shared/io-faults.c (BTRFS_IO_FAULTS, see kernel-shared/io.h).
#
# The rule for a power cut: whatever the cut keeps of the unflushed writes
# (all, none, a random subset, torn sectors), every image is afterwards
# either not a btrfs (no "_BHRfS_M" at the primary superblock) or a
# filesystem the reference `btrfs check` passes.  A btrfs magic over trees
# the reference rejects is the one state that must never exist: the kernel
# and blkid would take the device for a filesystem and find it broken.
#
# Cut points: every flush of mkfs (their number learnt from a run with
# "count") and a few writes sampled evenly, on a fresh image, on two
# devices with raid1 and over an existing filesystem.  Then write and read
# errors must fail the command with a message naming the device and the
# offset.  Where root, loop devices and kernel btrfs are available, some
# of the surviving filesystems are mounted and written to.

bats_require_minimum_version 1.5.0

load ../helpers/common

MAGIC_OFFSET=$((65536 + 64))
NL=$'\n'
SIZE=512M
# the plans of what a cut keeps; seeds are fixed so a failure reproduces
LOSE_MODES="lose=all lose=none lose=random,torn,seed=1 lose=random,torn,seed=2
lose=random,torn,seed=3 lose=random,seed=4"
# more seeds at the first two and the last two flushes, where the old
# superblocks go and the new magic comes
EXTRA_SEEDS=16

setup() {
	if [ ! -x "$MKFS_BIN" ] || [ ! -x "$BTRFS_BIN" ]; then
		echo "our mkfs.btrfs or btrfs is missing: $MKFS_BIN $BTRFS_BIN" >&2
		return 1
	fi
	T=$BATS_TEST_TMPDIR
	cd "$T"
}

teardown() {
	cd /
	cleanup_all
}

# imgs NAME...: fresh sparse images of $SIZE
imgs() {
	local f

	for f; do
		rm -f "$f"
		truncate -s "$SIZE" "$f"
	done
}

# has_magic IMG: the primary superblock carries the btrfs magic
has_magic() {
	local magic

	magic=$(dd if="$1" bs=8 skip=$((MAGIC_OFFSET / 8)) count=1 2>/dev/null |
		tr -d '\0')
	[ "$magic" = _BHRfS_M ]
}

# no_sanitizer TEXT: TEXT has no sanitizer report
no_sanitizer() {
	if [[ $1 == *"runtime error"* || $1 == *AddressSanitizer* ||
	      $1 == *LeakSanitizer* ]]; then
		echo "sanitizer report:"
		echo "$1" | head -n 40
		return 1
	fi
}

# faulted SPEC ARGS...: our mkfs with BTRFS_IO_FAULTS=SPEC; sets $status,
# $output, $stderr
faulted() {
	local spec=$1

	shift
	run --separate-stderr env BTRFS_IO_FAULTS="$spec" "$MKFS_BIN" "$@"
}

# count_faults ARGS...: a complete mkfs with "count"; sets R, W and F
count_faults() {
	local re="(^|$NL)faults: ([0-9]+) reads, ([0-9]+) writes, ([0-9]+) flushes($|$NL)"

	faulted count "$@"
	[ "$status" = 0 ] || { echo "mkfs $*: status $status"; echo "$stderr"; return 1; }
	no_sanitizer "$stderr"
	[[ $stderr =~ $re ]] || { echo "no count line in: $stderr"; return 1; }
	R=${BASH_REMATCH[2]}
	W=${BASH_REMATCH[3]}
	F=${BASH_REMATCH[4]}
}

# verdict IMG...: every image is either no btrfs (blkid agrees) or passes
# the reference check; images that have the magic agree on fsid and
# generation, and the fsid is one of FSIDS (the old filesystem's or the
# new one's).  Sets OK_FS to the number of images with the magic.
verdict() {
	local vimg id fsid seen=

	OK_FS=0
	for vimg; do
		if ! has_magic "$vimg"; then
			# and blkid agrees that there is no btrfs
			if [ "$(blkid -p -o value -s TYPE "$vimg")" = btrfs ]; then
				echo "blkid finds a btrfs on $vimg without the magic"
				return 1
			fi
			continue
		fi
		OK_FS=$((OK_FS + 1))
		run run_ref check "$vimg"
		if [ "$status" != 0 ]; then
			echo "$vimg has the btrfs magic but the reference check fails:"
			echo "$output" | tail -n 20
			return 1
		fi
		fsid=$(ref_super_field "$vimg" fsid)
		if [[ " $FSIDS " != *" $fsid "* ]]; then
			echo "$vimg holds filesystem $fsid, neither of: $FSIDS"
			return 1
		fi
		id="$fsid $(ref_super_field "$vimg" generation)"
		if [ -n "$seen" ] && [ "$id" != "$seen" ]; then
			echo "devices disagree: $seen vs $id ($vimg)"
			return 1
		fi
		seen=$id
	done
}

# cut_run SPEC ARGS...: mkfs -U NEW_UUID with a power cut must fail and
# say so, then the images must pass verdict; the images are the arguments
# ending .img
cut_run() {
	local spec=$1 a images=()

	shift
	for a; do
		[[ $a == *.img ]] && images+=("$a")
	done
	faulted "$spec" -U "$NEW_UUID" "$@"
	if [ "$status" = 0 ]; then
		echo "BTRFS_IO_FAULTS=$spec mkfs $*: status 0 after a power cut"
		return 1
	fi
	if ! [[ $stderr =~ (^|$NL)"faults: power cut at "(flush|write)" "[0-9]+($NL|$) ]]; then
		echo "BTRFS_IO_FAULTS=$spec: no power cut line:"
		echo "$stderr"
		return 1
	fi
	[[ $stderr == *"ERROR: making the filesystem failed while "* ]] ||
		{ echo "BTRFS_IO_FAULTS=$spec: no error line: $stderr"; return 1; }
	no_sanitizer "$stderr"
	verdict "${images[@]}" || { echo "after BTRFS_IO_FAULTS=$spec mkfs $*"; return 1; }
}

# every_cut PREP ARGS...: for every flush and a sample of writes of mkfs
# ARGS, each plan of LOSE_MODES: run PREP (a function making the images),
# then cut_run.  Sets CUTS (runs), SURVIVED (runs leaving a btrfs) and
# EARLY (flush cuts leaving a btrfs before the last round of flushes,
# one per device).
every_cut() {
	local prep=$1 cut_n cut_sample cut_mode cut_modes arg ndev=0

	shift
	for arg; do
		[[ $arg == *.img ]] && ndev=$((ndev + 1))
	done
	"$prep"
	count_faults "$@"
	[ "$F" -ge 2 ] || { echo "only $F flushes: nothing is ordered"; return 1; }
	CUTS=0
	SURVIVED=0
	EARLY=0
	for ((cut_n = 1; cut_n <= F; cut_n++)); do
		cut_modes=$LOSE_MODES
		if ((cut_n <= 2 || cut_n >= F - 1)); then
			cut_modes+=" $(seq -f 'lose=random,torn,seed=%g' 10 \
				$((9 + EXTRA_SEEDS)))"
		fi
		for cut_mode in $cut_modes; do
			"$prep"
			cut_run "cut-flush=$cut_n,$cut_mode" "$@"
			CUTS=$((CUTS + 1))
			[ "$OK_FS" = 0 ] && continue
			SURVIVED=$((SURVIVED + 1))
			((cut_n > F - ndev)) || EARLY=$((EARLY + 1))
		done
	done
	# eight writes from the first to the last
	for ((cut_sample = 0; cut_sample < 8; cut_sample++)); do
		cut_n=$((1 + cut_sample * (W - 1) / 7))
		for cut_mode in lose=random,torn,seed=5 lose=none; do
			"$prep"
			cut_run "cut-write=$cut_n,$cut_mode" "$@"
			CUTS=$((CUTS + 1))
			[ "$OK_FS" = 0 ] || SURVIVED=$((SURVIVED + 1))
		done
	done
	diag "$CUTS cuts ($F flushes, $W writes), $SURVIVED left a filesystem"
}

# new_uuids: fresh fsids for the old filesystem (OLD_UUID) and the one mkfs
# makes (NEW_UUID).  Fresh each time: mkfs -U refuses an fsid that a loop
# device of an earlier run may still show for a moment.
new_uuids() {
	OLD_UUID=$(cat /proc/sys/kernel/random/uuid)
	NEW_UUID=$(cat /proc/sys/kernel/random/uuid)
}

# fresh_one / fresh_two: empty images; FSIDS is what may survive
fresh_one() {
	imgs a.img
	new_uuids
	FSIDS=$NEW_UUID
}
fresh_two() {
	imgs a.img b.img
	new_uuids
	FSIDS=$NEW_UUID
}

# old_one / old_two: images holding a complete filesystem already
old_one() {
	fresh_one
	"$MKFS_BIN" -q -U "$OLD_UUID" a.img 2>&1 || return 1
	has_magic a.img
	FSIDS="$OLD_UUID $NEW_UUID"
}
old_two() {
	fresh_two
	"$MKFS_BIN" -q -U "$OLD_UUID" -d raid1 -m raid1 a.img b.img 2>&1 ||
		return 1
	has_magic a.img && has_magic b.img
	FSIDS="$OLD_UUID $NEW_UUID"
}

# --- power cuts ---------------------------------------------------------------

# A fresh image: no btrfs until the last flush, then the new one.
@test "power cut at every flush of mkfs on one device" {
	require_reference
	every_cut fresh_one -q -f a.img
	# lose=none at the last flush keeps everything: a whole filesystem
	[ "$SURVIVED" -ge 1 ]
	# the magic is written only after everything else is durable, in the
	# last round of flushes
	[ "$EARLY" = 0 ]
}

# Two devices: each alone is no btrfs or passes the check (the other one
# counted as missing), and both with the magic are the same generation.
@test "power cut at every flush of mkfs on two devices, raid1" {
	require_reference
	every_cut fresh_two -q -f -d raid1 -m raid1 a.img b.img
	[ "$SURVIVED" -ge 1 ]
	[ "$EARLY" = 0 ]
}

# A cut while mkfs -f overwrites a filesystem: the old one may survive,
# or the new one, or neither, but never the old magic over new blocks.
@test "power cut at every flush of mkfs -f over an existing filesystem" {
	require_reference
	every_cut old_one -q -f a.img
	[ "$SURVIVED" -ge 1 ]
}

# The same over a raid1 pair, with fewer plans per cut point (2 devices:
# twice the flushes).
@test "power cut at every flush of mkfs -f over an existing raid1" {
	require_reference
	LOSE_MODES="lose=all lose=none lose=random,torn,seed=1 lose=random,seed=2"
	every_cut old_two -q -f -d raid1 -m raid1 a.img b.img
	[ "$SURVIVED" -ge 1 ]
}

# --- I/O errors ---------------------------------------------------------------

# write_error SPEC IMG: mkfs fails with exit 1, the step line and a line
# naming a failed write on IMG; sets OFF and LEN of that write
write_error() {
	local spec=$1 img=$2 step_re write_re

	step_re="(^|$NL)ERROR: making the filesystem failed while [a-z ]+: Input/output error($NL|\$)"
	write_re="(^|$NL)ERROR: write of ([0-9]+) bytes at offset ([0-9]+) of ${img//./\\.} failed: Input/output error($NL|\$)"
	faulted "$spec" -q -f -U "$NEW_UUID" "$img"
	no_sanitizer "$stderr"
	if [ "$status" != 1 ]; then
		echo "BTRFS_IO_FAULTS=$spec: status $status, expected 1"
		echo "$stderr"
		return 1
	fi
	[[ $stderr =~ $step_re ]] ||
		{ echo "BTRFS_IO_FAULTS=$spec: no step line: $stderr"; return 1; }
	[[ $stderr =~ $write_re ]] ||
		{ echo "BTRFS_IO_FAULTS=$spec: no write line: $stderr"; return 1; }
	LEN=${BASH_REMATCH[2]}
	OFF=${BASH_REMATCH[3]}
}

# Write K fails: the first, the last and some between.
@test "a failed write fails mkfs with the device and the offset" {
	fresh_one
	count_faults -q -f a.img
	for fail_k in 1 2 $((W / 2)) $((W - 1)) "$W"; do
		fresh_one
		write_error "fail-write=$fail_k" a.img
		[ "$LEN" -gt 0 ]
		# no broken filesystem is left behind
		if check_reference >/dev/null; then
			verdict a.img
		fi
	done
}

# Every write touching the primary superblock fails: the error says where.
@test "writes over the primary superblock fail: the error names offset 65536" {
	fresh_one
	write_error eio=65536+4096 a.img
	# the failed write contains byte 65536
	[ "$OFF" -le 65536 ]
	[ $((OFF + LEN)) -gt 65536 ]
	has_magic a.img && { echo "a.img has the magic"; return 1; }
	return 0
}

# Reads: dump-super must report a failed superblock read, not dump zeros.
@test "dump-super: a read error on the superblock fails with an error line" {
	imgs a.img
	"$MKFS_BIN" -q -f a.img
	for read_spec in eio=65536+4096 fail-read=1; do
		run --separate-stderr env BTRFS_IO_FAULTS="$read_spec" \
			"$BTRFS_BIN" inspect-internal dump-super a.img
		no_sanitizer "$stderr"
		[ "$status" = 1 ] || { echo "$read_spec: status $status"; return 1; }
		grep -q '^ERROR: ' <<<"$stderr" ||
			{ echo "$read_spec: no error: $stderr"; return 1; }
		grep -q 'Input/output error' <<<"$stderr"
	done
	# without faults the same image dumps
	run --separate-stderr "$BTRFS_BIN" inspect-internal dump-super a.img
	[ "$status" = 0 ]
}

# --- the kernel ---------------------------------------------------------------

# kernel_writes IMG: mount IMG through a loop device, write a file,
# unmount; the reference check passes afterwards
kernel_writes() {
	local img=$1 mnt=$T/mnt dev

	mkdir -p "$mnt"
	# an explicit loop device, so that the kernel can be told to forget it
	dev=$(losetup -f --show "$img")
	track_loop "$dev"
	mount "$dev" "$mnt" || { echo "cannot mount $img"; return 1; }
	track_mount "$mnt"
	head -c 1048576 /dev/urandom > "$mnt/file"
	sync
	umount "$mnt" || { echo "cannot unmount $img"; return 1; }
	cleanup_loop "$dev"
	run run_ref check "$img"
	if [ "$status" != 0 ]; then
		echo "reference check after a kernel write to $img fails:"
		echo "$output" | tail -n 20
		return 1
	fi
}

# kernel_cuts PREP: every flush cut with LOSE_MODES after PREP; every other
# run that leaves a filesystem is mounted and written to
kernel_cuts() {
	local prep=$1 cut_n cut_mode seen=0

	"$prep"
	count_faults -q -f a.img
	MOUNTED=0
	for ((cut_n = 1; cut_n <= F; cut_n++)); do
		for cut_mode in $LOSE_MODES; do
			"$prep"
			cut_run "cut-flush=$cut_n,$cut_mode" -q -f a.img
			[ "$OK_FS" = 1 ] || continue
			seen=$((seen + 1))
			[ $((seen % 2)) = 1 ] || continue
			kernel_writes a.img ||
				{ echo "after cut-flush=$cut_n,$cut_mode"; return 1; }
			MOUNTED=$((MOUNTED + 1))
		done
	done
}

# What the reference check passes after a cut, the kernel must be able to
# use: mount, write, unmount, and the check passes again.
@test "the kernel mounts and writes what survives a cut" {
	require_reference
	require_root
	require_loop
	require_kernel_btrfs
	kernel_cuts fresh_one
	diag "fresh image: $MOUNTED mounted"
	[ "$MOUNTED" -ge 1 ]
	kernel_cuts old_one
	diag "over a filesystem: $MOUNTED mounted"
	[ "$MOUNTED" -ge 1 ]
}
