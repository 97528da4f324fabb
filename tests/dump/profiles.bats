#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
# Chunk mapping for every multi-device profile: raid0, raid10, raid1c3,
# raid1c4, raid5 and raid6 over image files, data and metadata alike, made
# by the reference mkfs.btrfs and filled through the kernel. dump-tree must
# read every tree block through the stripe mapping and print what the
# reference prints; dump-tree of one device alone (--noscan) must do the
# same, degraded, for the profiles that survive a missing device.
# Images are made here (not in the shared image cache) and removed after.

load ../helpers/common
load ../helpers/oracle

export ORACLE_ERROR_FAILS=1

setup_file() {
	local why reason
	for why in check_root check_loop check_kernel_btrfs check_reference \
		check_python; do
		if ! reason=$($why); then
			export PROFILES_SKIP=$reason
			return 0
		fi
	done
}

setup() {
	skip_if_reason "${PROFILES_SKIP:-}"
	require_ours
	oracle_begin
}

teardown() {
	cleanup_all
}

# make_profile_image PROFILE NDEV: NDEV sparse files formatted with data and
# metadata in PROFILE, filled through the kernel; sets IMGS (array)
make_profile_image() {
	local profile=$1 ndev=$2 i mnt loops=() dev
	IMGS=()
	for ((i = 1; i <= ndev; i++)); do
		IMGS+=("$BATS_TEST_TMPDIR/$profile.$i.img")
		truncate -s 320M "${IMGS[-1]}"
	done
	track_path "${IMGS[@]}"
	"$ref_mkfs" -q -f -d "$profile" -m "$profile" -L "prof-$profile" \
		"${IMGS[@]}" >/dev/null
	for i in "${IMGS[@]}"; do
		dev=$(losetup --find --show "$i")
		track_loop "$dev"
		loops+=("$dev")
	done
	mnt="$BATS_TEST_TMPDIR/mnt-$profile"
	mkdir -p "$mnt"
	local opts="" d
	for d in "${loops[@]:1}"; do
		opts+="${opts:+,}device=$d"
	done
	mount -t btrfs ${opts:+-o "$opts"} "${loops[0]}" "$mnt"
	track_mount "$mnt"
	"$PYTHON" "$TOP_SRCDIR/tests/helpers/fill.py" basic "$mnt" --seed 31 \
		--files 400 >/dev/null
	"$ref_btrfs" -q subvolume snapshot "$mnt" "$mnt/snap" >/dev/null
	umount "$mnt"
	# the reference itself must find the filesystem clean (it finds the
	# other devices by scanning, so while the loop devices exist)
	if ! "$ref_btrfs" check "${loops[0]}" > "$BATS_TEST_TMPDIR/ref-check" 2>&1; then
		echo "reference check fails on the $profile image:"
		head -n 20 "$BATS_TEST_TMPDIR/ref-check"
		return 1
	fi
	for dev in "${loops[@]}"; do
		losetup -d "$dev"
	done
}

# compare_profile PROFILE NDEV DEGRADED: the comparisons for one profile;
# DEGRADED=1 also compares dump-tree of the first device alone
compare_profile() {
	local profile=$1 ndev=$2 degraded=$3
	make_profile_image "$profile" "$ndev"
	oracle_case "$profile: dump-tree" inspect-internal dump-tree "${IMGS[@]}"
	oracle_case "$profile: dump-tree --dfs" inspect-internal dump-tree --dfs "${IMGS[@]}"
	oracle_case "$profile: dump-tree -t chunk" inspect-internal dump-tree -t chunk "${IMGS[@]}"
	oracle_case "$profile: dump-tree -e" inspect-internal dump-tree -e "${IMGS[@]}"
	oracle_case "$profile: dump-super -f -a (last device)" \
		inspect-internal dump-super -f -a "${IMGS[-1]}"
	if [ "$degraded" = 1 ]; then
		oracle_case "$profile: dump-tree --noscan, all but the last device" \
			inspect-internal dump-tree --noscan "${IMGS[@]:0:ndev-1}"
	fi
	oracle_end
}

@test "raid0 over 2 devices" {
	compare_profile raid0 2 0
}

@test "raid10 over 4 devices, and degraded" {
	compare_profile raid10 4 1
}

@test "raid1c3 over 3 devices, and degraded" {
	compare_profile raid1c3 3 1
}

@test "raid1c4 over 4 devices, and degraded" {
	compare_profile raid1c4 4 1
}

@test "raid5 over 3 devices" {
	compare_profile raid5 3 0
}

@test "raid6 over 4 devices" {
	compare_profile raid6 4 0
}

@test "items of rare operations: a finished device replace, a paused balance" {
	local imgs=() loops=() mnt="$BATS_TEST_TMPDIR/mnt-rare" i tries paused=0
	for i in 1 2 3; do
		imgs+=("$BATS_TEST_TMPDIR/rare.$i.img")
		truncate -s 640M "${imgs[-1]}"
	done
	track_path "${imgs[@]}"
	"$ref_mkfs" -q -f -L rare "${imgs[0]}" "${imgs[1]}" >/dev/null
	for i in "${imgs[@]}"; do
		loops+=("$(losetup --find --show "$i")")
		track_loop "${loops[-1]}"
	done
	mkdir -p "$mnt"
	mount -t btrfs -o "device=${loops[1]}" "${loops[0]}" "$mnt"
	track_mount "$mnt"
	"$PYTHON" "$TOP_SRCDIR/tests/helpers/fill.py" basic "$mnt" --seed 40 \
		--files 300 >/dev/null
	# DEV_REPLACE item: replace device 2 by the third file
	"$ref_btrfs" replace start -B 2 "${loops[2]}" "$mnt" >/dev/null
	for i in $(seq 1 12); do
		head -c 20M /dev/urandom > "$mnt/big$i"
	done
	sync
	# BALANCE item: pause a full balance early (retried if it won the race)
	for tries in 1 2 3; do
		("$ref_btrfs" balance start --full-balance "$mnt" >/dev/null 2>&1 &)
		for i in $(seq 1 100); do
			if "$ref_btrfs" balance pause "$mnt" 2>/dev/null; then
				paused=1
				break
			fi
			sleep 0.02
		done
		[ "$paused" = 1 ] && break
	done
	[ "$paused" = 1 ] || { echo "could not pause a balance"; return 1; }
	sleep 0.5
	umount "$mnt"
	for i in "${loops[@]}"; do
		losetup -d "$i"
	done
	oracle_case "rare: dump-tree" inspect-internal dump-tree "${imgs[0]}" "${imgs[2]}"
	oracle_case "rare: dump-tree -t dev" inspect-internal dump-tree -t dev "${imgs[0]}" "${imgs[2]}"
	oracle_end
	# the items were really there
	run_ours inspect-internal dump-tree "${imgs[0]}" "${imgs[2]}" > "$BATS_TEST_TMPDIR/out"
	grep -q 'key (0 DEV_REPLACE 0)' "$BATS_TEST_TMPDIR/out"
	grep -q 'key (BALANCE TEMPORARY_ITEM 0)' "$BATS_TEST_TMPDIR/out"
}
