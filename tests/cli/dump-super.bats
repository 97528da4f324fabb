#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
# `btrfs inspect-internal dump-super`: option parsing, error cases and their
# exact exit codes and messages.  Every case states the expected text and
# status; where the reference tool is installed, its stdout, stderr and
# status must be the same as ours too.  Golden diffs of whole dumps over many
# images are in tests/dump/dump-super.bats.

bats_require_minimum_version 1.5.0

load ../helpers/common
load ../helpers/oracle

CMD="btrfs inspect-internal dump-super"
DASHES=---------------------------------------------------------

setup_file() {
	export FILES="$BATS_FILE_TMPDIR/files"
	mkdir -p "$FILES"
	: > "$FILES/empty"
	truncate -s 1M "$FILES/zeros"
	# Text where a superblock should be: a bad magic that is printable.
	yes 'this is not a btrfs superblock' | head -c 1M > "$FILES/text" || true
	# Ends 1000 bytes into the primary superblock.
	truncate -s $((65536 + 1000)) "$FILES/short"
	mkdir -p "$FILES/dir"
	# A real filesystem (1 GiB sparse, so that copy 1 at 64 MiB exists).
	export IMG_SKIP=
	IMG_SKIP=$(check_reference) || return 0
	truncate -s 1G "$FILES/fs.img"
	# shellcheck disable=SC2154 # ref_mkfs comes from helpers/common
	"$ref_mkfs" -q -f -L dump-super-cli "$FILES/fs.img" >/dev/null 2>&1 ||
		IMG_SKIP="reference mkfs.btrfs failed"
}

setup() {
	require_ours
}

# ours ARGS...: run our dump-super; $status, $output (stdout), $stderr
ours() {
	run --separate-stderr "$BTRFS_BIN" inspect-internal dump-super "$@"
}

# check STATUS STDERR ARGS...: our status and stderr are exactly these, and
# where the reference is installed its stdout, stderr and status equal ours.
check() {
	local want_status=$1 want_err=$2
	shift 2
	ours "$@"
	if [ "$status" != "$want_status" ] || [ "$stderr" != "$want_err" ]; then
		echo "dump-super $*: status $status (expected $want_status)"
		echo "--- stderr:"; echo "$stderr"
		echo "--- expected stderr:"; echo "$want_err"
		return 1
	fi
	same_as_ref "$@"
}

# same_as_ref ARGS...: stdout, stderr and status equal the reference's
# (nothing to compare when the reference is not installed)
same_as_ref() {
	check_reference >/dev/null || return 0
	oracle_begin
	ORACLE_STDERR=strict oracle_case "dump-super $*" \
		inspect-internal dump-super "$@"
	oracle_end
}

# lines_of TEXT: the number of lines of TEXT, empty ones included
lines_of() {
	printf '%s\n' "$1" | wc -l
}

require_image() {
	skip_if_reason "$IMG_SKIP"
}

@test "dump-super --help: usage on stdout, status 0" {
	ours --help
	[ "$status" = 0 ]
	[ -z "$stderr" ]
	[ "${lines[0]}" = "usage: $CMD [options] device [device...]" ]
	[ "${lines[1]}" = "    Dump superblock from a device in a textual form" ]
	grep -q '^    -s|--super <super>  *specify which copy to print out (values: 0, 1, 2)' <<<"$output"
	grep -q '^    --bytenr <offset>  *specify alternate superblock offset' <<<"$output"
	grep -qx '    Deprecated syntax:' <<<"$output"
	check_reference >/dev/null || return 0
	# Same words and layout as the reference, trailing blanks aside.
	diff <(run_ref inspect-internal dump-super --help | sed 's/ *$//') \
		<(run_ours inspect-internal dump-super --help | sed 's/ *$//')
}

@test "dump-super without a device: status 1" {
	local msg="$CMD: not enough arguments: 0 but at least 1 expected"
	check 1 "$msg"
	[ -z "$output" ]
	check 1 "$msg" -a -f
	check 1 "$msg" -F --
}

@test "dump-super with an unknown option: status 1" {
	local try="Try '$CMD --help' for more information"
	check 1 "$CMD: invalid option 'x'"$'\n'"$try" -x "$FILES/zeros"
	[ -z "$output" ]
	check 1 "$CMD: unrecognized option '--foo'"$'\n'"$try" --foo "$FILES/zeros"
	# --f is ambiguous (--full, --force)
	check 1 "$CMD: unrecognized option '--f'"$'\n'"$try" --f "$FILES/zeros"
	# a flag given a value
	check 1 "$CMD: invalid option 'f'"$'\n'"$try" --full=1 "$FILES/zeros"
}

@test "dump-super with an option missing its value: status 1" {
	local try="Try '$CMD --help' for more information"
	check 1 "$CMD: invalid option 's'"$'\n'"$try" -s
	check 1 "$CMD: invalid option 'i'"$'\n'"$try" -i
	check 1 "$CMD: invalid option 's'"$'\n'"$try" --super
	# --bytenr: the reference prints a NUL as the option letter; only the
	# status and the help hint are compared
	local d=$BATS_TEST_TMPDIR rc=0
	"$BTRFS_BIN" inspect-internal dump-super --bytenr > "$d/out" 2> "$d/err" ||
		rc=$?
	[ "$rc" = 1 ]
	[ ! -s "$d/out" ]
	[ "$(tail -n 1 "$d/err")" = "$try" ]
}

@test "dump-super -i out of range or not a number: status 1" {
	local dep="WARNING: option -i is deprecated, please use -s or --super"
	local f=$FILES/zeros
	check 1 "$dep"$'\n'"ERROR: super mirror too big: 3 >= 3" -i 3 "$f"
	[ -z "$output" ]
	check 1 "$dep"$'\n'"ERROR: super mirror too big: 5 >= 3" -i 5 "$f"
	check 1 "$dep"$'\n'"ERROR: super mirror too big: 4294967296 >= 3" -i 4294967296 "$f"
	check 1 "$dep"$'\n'"ERROR: -1: negative value is invalid" -i -1 "$f"
	check 1 "$dep"$'\n'"ERROR: abc is not a valid numeric value" -i abc "$f"
	check 1 "$dep"$'\n'"ERROR: 1x is not a valid numeric value" -i 1x "$f"
	check 1 "$dep"$'\n'"ERROR: 18446744073709551615 is too large" -i 18446744073709551615 "$f"
	# the check is made while parsing: a later valid -i does not help
	check 1 "$dep"$'\n'"ERROR: super mirror too big: 9 >= 3" -i 9 -i 0 "$f"
}

@test "dump-super -s / --super / --bytenr not a number: status 1" {
	local f=$FILES/zeros
	check 1 "ERROR: abc is not a valid numeric value" -s abc "$f"
	[ -z "$output" ]
	check 1 "ERROR: abc is not a valid numeric value" --super abc "$f"
	check 1 "ERROR: 0x is not a valid numeric value" --bytenr 0x "$f"
	check 1 "ERROR: 64k is not a valid numeric value" --bytenr 64k "$f"
	check 1 "ERROR: -1: negative value is invalid" --bytenr -1 "$f"
	check 1 "ERROR: 99999999999999999999 is too large" -s 99999999999999999999 "$f"
	check 1 "ERROR: 99999999999999999999x is not a valid numeric value" \
		--bytenr 99999999999999999999x "$f"
}

@test "dump-super on a missing file: status 1, stops there" {
	local miss=$FILES/does-not-exist
	check 1 "ERROR: cannot open $miss: No such file or directory" "$miss"
	[ -z "$output" ]
	check 1 "ERROR: cannot open $miss: No such file or directory" -F -a "$miss" "$FILES/empty"
	[ -z "$output" ]
}

@test "dump-super on a directory: read error, status 1" {
	check 1 "ERROR: failed to read the superblock on $FILES/dir at 65536"$'\n'"ERROR: error = 'Is a directory', errno = 21" \
		"$FILES/dir"
	[ -z "$output" ]
}

@test "dump-super on an empty file: an error, status 1 (the reference: status 0)" {
	local want="ERROR: $FILES/empty ends before the superblock at 65536: not a btrfs device"
	# btrfs-progs prints an empty line and succeeds; a file too short for
	# the primary superblock holds no btrfs, and we say so
	ours "$FILES/empty"
	[ "$status" = 1 ]
	[ "$output" = "" ]
	[ "$stderr" = "$want" ]
	ours -a -f "$FILES/empty"
	[ "$status" = 1 ]
	[ "$stderr" = "$want" ]
	# a file long enough for the primary only: the mirrors are skipped
	# with one empty line each, as the reference does
	same_as_ref -a -f "$FILES/zeros" -F
}

@test "dump-super on a file ending inside a superblock: status 1" {
	local f=$FILES/short
	check 1 "ERROR: failed to read the superblock on $f at 65536"$'\n'"ERROR: error = 'Success', errno = 0" "$f"
	[ -z "$output" ]
	check 1 "ERROR: failed to read the superblock on $f at 65536"$'\n'"ERROR: error = 'Success', errno = 0" -a "$f"
}

@test "dump-super: offset beyond the end of the device is skipped" {
	check 0 "" -s 1 "$FILES/zeros"
	[ "$output" = "" ]
	check 0 "" --bytenr 4294967296 "$FILES/zeros"
	# past the largest file offset: pread refuses it
	check 1 "WARNING: deprecated use of -s <bytenr> with 18446744073709551614, assuming --bytenr"$'\n'"ERROR: failed to read the superblock on $FILES/zeros at 18446744073709551614"$'\n'"ERROR: error = 'Invalid argument', errno = 22" \
		-s 18446744073709551614 "$FILES/zeros"
}

@test "dump-super on zeros (bad magic): header, error, status 1" {
	local f=$FILES/zeros
	local err="ERROR: bad magic on superblock on $f at 65536 (use --force to dump it anyway)"
	check 1 "$err" "$f"
	[ "${lines[0]}" = "superblock: bytenr=65536, device=$f" ]
	[ "${lines[1]}" = "$DASHES" ]
	[ "${#lines[@]}" = 2 ]
	# the first bad copy ends the command, later devices are not read
	check 1 "$err" -a "$f" "$FILES/text"
	[ "${#lines[@]}" = 2 ]
}

@test "dump-super --bytenr / -s at a place that is no superblock: status 1" {
	local f=$FILES/zeros
	check 1 "ERROR: bad magic on superblock on $f at 4096 (use --force to dump it anyway)" \
		--bytenr 4096 "$f"
	[ "${lines[0]}" = "superblock: bytenr=4096, device=$f" ]
	check 1 "WARNING: deprecated use of -s <bytenr> with 4096, assuming --bytenr"$'\n'"ERROR: bad magic on superblock on $f at 4096 (use --force to dump it anyway)" \
		-s 4096 "$f"
	# numbers are read as C does: octal, hex, leading blanks and '+'
	check 1 "WARNING: deprecated use of -s <bytenr> with 8, assuming --bytenr"$'\n'"ERROR: bad magic on superblock on $f at 8 (use --force to dump it anyway)" \
		-s 010 "$f"
	check 1 "ERROR: bad magic on superblock on $f at 4096 (use --force to dump it anyway)" \
		--bytenr 0x1000 "$f"
	check 1 "ERROR: bad magic on superblock on $f at 5 (use --force to dump it anyway)" \
		--bytenr ' +5' "$f"
}

@test "dump-super -F on garbage dumps it anyway, status 0" {
	local f=$FILES/text
	check 0 "" -F "$f"
	[ "${lines[0]}" = "superblock: bytenr=65536, device=$f" ]
	[ "${lines[1]}" = "$DASHES" ]
	grep -q $'^magic\t\t\t.* \\[DON\'T MATCH\\]$' <<<"$output"
	grep -q $'^csum_type\t\t[0-9]* (' <<<"$output"
	grep -q $'^dev_item.generation\t' <<<"$output"
	check 0 "" -F -f "$FILES/zeros"
	grep -qx $'magic\t\t\t........ \\[DON\'T MATCH\\]' <<<"$output"
	grep -qx $'csum\t\t\t0x00000000 \\[DON\'T MATCH\\]' <<<"$output"
	grep -qx 'sys_chunk_array\[2048\]:' <<<"$output"
	grep -qx 'backup_roots\[4\]:' <<<"$output"
	same_as_ref -F -f -a "$f" "$FILES/zeros"
}

@test "dump-super -F -f on random bytes, as the reference" {
	require_python
	local f=$BATS_TEST_TMPDIR/random seed
	for seed in 1 2 3 4 5 6 7 8; do
		"$PYTHON" -c 'import random, sys
r = random.Random(int(sys.argv[1]))
sys.stdout.buffer.write(bytes(r.getrandbits(8) for _ in range(69632)))' "$seed" > "$f"
		ours -F -f "$f"
		[ "$status" = 0 ]
		same_as_ref -F -f "$f"
	done
}

@test "dump-super: a valid filesystem, every copy" {
	require_image
	local f=$FILES/fs.img
	check 0 "" "$f"
	[ "${lines[0]}" = "superblock: bytenr=65536, device=$f" ]
	grep -qx $'label\t\t\tdump-super-cli' <<<"$output"
	grep -q $'^csum\t\t\t0x[0-9a-f]\\{8\\} \\[match\\]$' <<<"$output"
	check 0 "" -a -f "$f"
	[ "$(grep -c '^superblock: ' <<<"$output")" = 2 ]
	check 0 "" --super 1 "$f"
	[ "${lines[0]}" = "superblock: bytenr=67108864, device=$f" ]
	check 0 "" --bytenr 67108864 -f "$f"
	check 0 "WARNING: deprecated use of -s <bytenr> with 65536, assuming --bytenr" -s 65536 "$f"
	check 0 "WARNING: option -i is deprecated, please use -s or --super" -i 1 "$f"
	[ "${lines[0]}" = "superblock: bytenr=67108864, device=$f" ]
}

@test "dump-super: --all against -s / --bytenr, in command-line order" {
	require_image
	local f=$FILES/fs.img
	# -s and --bytenr given after --all turn it off ...
	check 0 "" -a -s 1 "$f"
	[ "$(grep -c '^superblock: ' <<<"$output")" = 1 ]
	check 0 "" -a --bytenr 65536 "$f"
	[ "$(grep -c '^superblock: ' <<<"$output")" = 1 ]
	# ... --all given after them wins, and -i never turns it off
	check 0 "" -s 1 -a "$f"
	[ "$(grep -c '^superblock: ' <<<"$output")" = 2 ]
	check 0 "WARNING: option -i is deprecated, please use -s or --super" -a -i 1 "$f"
	[ "$(grep -c '^superblock: ' <<<"$output")" = 2 ]
}

@test "dump-super: several devices, options only before the first" {
	require_image
	local f=$FILES/fs.img
	check 0 "" "$f" "$f"
	[ "$(grep -c '^superblock: ' <<<"$output")" = 2 ]
	# a later device that cannot be opened: status 1 after the first dump
	check 1 "ERROR: cannot open -f: No such file or directory" "$f" -f
	[ "${lines[0]}" = "superblock: bytenr=65536, device=$f" ]
	check 1 "ERROR: cannot open --help: No such file or directory" "$f" --help
	# -F and a bad copy in the middle: the dump goes on
	check 0 "" -F "$f" "$FILES/zeros" "$f"
	[ "$(grep -c '^superblock: ' <<<"$output")" = 3 ]
	check 1 "ERROR: bad magic on superblock on $FILES/zeros at 65536 (use --force to dump it anyway)" \
		"$f" "$FILES/zeros" "$f"
	[ "$(grep -c '^superblock: ' <<<"$output")" = 2 ]
	check 1 "ERROR: bad magic on superblock on $f at 4096 (use --force to dump it anyway)" \
		--bytenr 4096 "$f"
	check 0 "" -F --bytenr 4096 "$f"
}

@test "dump-super -f on a damaged sys_chunk_array: the reference's lines and errors" {
	require_image
	local corrupt=$TOP_BUILDDIR/tests/tools/btrfs-corrupt f key_type stripes
	[ -x "$corrupt" ] || { echo "missing $corrupt" >&2; false; }
	# the array starts at 811; its first key is 17 bytes, then the chunk,
	# whose num_stripes is at byte 44
	key_type=$((811 + 8))
	stripes=$((811 + 17 + 44))
	for damage in size:40 size:100 type:12 stripes:0; do
		f=$BATS_TEST_TMPDIR/${damage%%:*}.img
		cp --sparse=always "$FILES/fs.img" "$f"
		case $damage in
		size:*)
			"$corrupt" "$f" --super-field sys_array_size "${damage#*:}" >/dev/null ;;
		type:*)
			printf "\\x$(printf %02x "${damage#*:}")" |
				dd of="$f" bs=1 seek=$((65536 + key_type)) conv=notrunc status=none
			# any field write recomputes the superblock checksum
			"$corrupt" "$f" --super-field sectorsize 4096 >/dev/null ;;
		stripes:*)
			printf '\x00\x00' |
				dd of="$f" bs=1 seek=$((65536 + stripes)) conv=notrunc status=none
			"$corrupt" "$f" --super-field sectorsize 4096 >/dev/null ;;
		esac
		ours -f "$f"
		[[ $stderr == "ERROR: "*"sys_array"* ]] || { echo "$damage: $stderr" >&2; false; }
		same_as_ref -f "$f"
	done
}
