#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
# `btrfs inspect-internal dump-super`: our output against the reference's,
# byte for byte, and equal exit codes, on kernel-made images (every device
# of multi-device ones) and on files that are not btrfs.

load ../helpers/common
load ../helpers/oracle

setup_file() {
	images_setup_file
	export BAD_DIR="$BATS_FILE_TMPDIR/bad"
	mkdir -p "$BAD_DIR"
}

setup() {
	skip_if_reason "$IMAGES_SKIP"
	require_ours
	oracle_begin
}

# devices: "NAME FILE" per device of every image
devices() {
	local name files f
	while read -r name files; do
		for f in $files; do
			echo "$name $f"
		done
	done < "$IMAGE_MANIFEST"
}

# super_each_device LABEL OPTS...: one comparison per device
super_each_device() {
	local label=$1 name f
	shift
	while read -r name f; do
		oracle_case "$name/$(basename "$f"): $label" \
			inspect-internal dump-super "$@" "$f"
	done < <(devices)
}

@test "dump-super: default output" {
	super_each_device "dump-super"
	oracle_end
}

@test "dump-super -f -a" {
	super_each_device "-f -a" -f -a
	super_each_device "--full --all" --full --all
	oracle_end
}

@test "dump-super -f and -a alone" {
	super_each_device "-f" -f
	super_each_device "-a" -a
	oracle_end
}

@test "dump-super -s 0, -s 1, -s 2 (-s 2 is beyond small images)" {
	super_each_device "-s 0" -s 0
	super_each_device "-s 1" -s 1
	super_each_device "-f --super 1" -f --super 1
	super_each_device "-s 2" -s 2
	oracle_end
}

@test "dump-super deprecated -i 2 and -s BYTENR" {
	super_each_device "-i 2" -i 2
	super_each_device "-i 1 -f" -i 1 -f
	super_each_device "-s 67108864" -s 67108864
	oracle_end
}

@test "dump-super --bytenr" {
	super_each_device "--bytenr 67108864" --bytenr 67108864
	super_each_device "--bytenr 65536 -f" --bytenr 65536 -f
	super_each_device "--bytenr 4096 -F" --bytenr 4096 -F
	oracle_end
}

@test "dump-super with several devices in one call" {
	local name files all=()
	while read -r name files; do
		# shellcheck disable=SC2206
		all+=($files)
	done < "$IMAGE_MANIFEST"
	oracle_case "all devices" inspect-internal dump-super "${all[@]}"
	oracle_case "all devices -f -a" inspect-internal dump-super -f -a "${all[@]}"
	oracle_end
}

# make_bad_inputs: files that are not (whole) btrfs filesystems
make_bad_inputs() {
	local a
	a=$(image_files a-default)
	head -c 1M /dev/zero > "$BAD_DIR/zeros"
	"$PYTHON" -c 'import random, sys
sys.stdout.buffer.write(random.Random(7).getrandbits(8 << 20).to_bytes(1 << 20, "little"))' \
		> "$BAD_DIR/random"
	head -c 70K "$a" > "$BAD_DIR/truncated"
	head -c 1M "$a" > "$BAD_DIR/flipped"
	printf '\377' | dd of="$BAD_DIR/flipped" bs=1 seek=$((65536 + 200)) conv=notrunc status=none
	if command -v mkfs.ext4 >/dev/null 2>&1; then
		truncate -s 8M "$BAD_DIR/ext4"
		mkfs.ext4 -q -F "$BAD_DIR/ext4" >/dev/null 2>&1 || rm -f "$BAD_DIR/ext4"
	fi
}

@test "dump-super on non-btrfs and damaged files, with and without -F" {
	local f opts
	make_bad_inputs
	for f in "$BAD_DIR"/*; do
		for opts in "" "-F" "-a" "-F -f -a" "-s 1"; do
			# shellcheck disable=SC2086
			oracle_case "$(basename "$f"): dump-super $opts" \
				inspect-internal dump-super $opts "$f"
		done
	done
	oracle_case "missing file" inspect-internal dump-super "$BAD_DIR/does-not-exist"
	oracle_end
}

@test "dump-super option errors give the reference exit codes" {
	local a
	a=$(image_files a-default)
	oracle_case "-s 3" inspect-internal dump-super -s 3 "$a"
	oracle_case "--super 3" inspect-internal dump-super --super 3 "$a"
	oracle_case "-i 5" inspect-internal dump-super -i 5 "$a"
	oracle_case "no device" inspect-internal dump-super
	oracle_end
}
