#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
# The `btrfs` dispatcher: help, version, abbreviations, ambiguous and
# unknown names, option errors. Exact exit codes and texts; where our text
# is meant to equal the reference tool's, it is compared with it.

bats_require_minimum_version 1.5.0

load ../helpers/common
load ../helpers/oracle

setup() {
	require_ours
	VERSION=$(sed -n 's/^AC_INIT(\[btrfs-tools\], \[\([^]]*\)\]).*/\1/p' \
		"$TOP_SRCDIR/configure.ac")
}

# ours ARGS...: run our btrfs, stdout in $output, stderr in $stderr
ours() {
	run --separate-stderr "$BTRFS_BIN" "$@"
}

# expect STATUS: fail with both streams shown unless $status is STATUS
expect() {
	if [ "$status" != "$1" ]; then
		echo "exit status $status, expected $1"
		echo "--- stdout:"; echo "$output"
		echo "--- stderr:"; echo "$stderr"
		return 1
	fi
}

# same_as_ref ARGS...: stdout, stderr and exit status equal the reference's
same_as_ref() {
	require_reference
	oracle_begin
	ORACLE_STDERR=strict oracle_case "btrfs $*" "$@"
	oracle_end
}

@test "--version and version print the package version" {
	[ -n "$VERSION" ]
	for cmd in --version version "version extra" ver; do
		# shellcheck disable=SC2086 # split the words on purpose
		ours $cmd
		expect 0
		[ "$output" = "btrfs-tools v$VERSION" ]
		[ -z "$stderr" ]
	done
}

@test "no arguments: overview on stdout, hint on stderr, status 1" {
	ours
	expect 1
	[ "${lines[0]}" = "usage: btrfs [--help] [--version] <group> [<group>...] <command> [<args>]" ]
	grep -qx "Command groups:" <<<"$output"
	grep -qx "  inspect-internal  query various internal information" <<<"$output"
	grep -qx "Commands:" <<<"$output"
	grep -qx "  help              Display help information" <<<"$output"
	grep -qx "  version           Display btrfs-tools version" <<<"$output"
	grep -q "btrfs <command> --help" <<<"$stderr"
}

@test "--help and help list every command, status 0" {
	ours --help
	expect 0
	local help=$output
	[ -z "$stderr" ]
	[ "${lines[0]}" = "usage: btrfs [--help] [--version] <group> [<group>...] <command> [<args>]" ]
	grep -q "^    btrfs inspect-internal dump-super " <<<"$output"
	grep -q "^    btrfs inspect-internal dump-tree " <<<"$output"
	grep -qx "    btrfs version" <<<"$output"
	grep -qx "        Display btrfs-tools version" <<<"$output"
	[ "${lines[-1]}" = "Use --help as an argument for information on a specific group or command." ]
	ours help
	expect 0
	[ "$output" = "$help" ]
	ours h
	expect 0
	[ "$output" = "$help" ]
}

@test "--help --full and help --full print every command's full usage" {
	ours --help --full
	expect 0
	local full=$output
	grep -q "^usage: btrfs inspect-internal dump-super " <<<"$output"
	grep -q "^usage: btrfs inspect-internal dump-tree " <<<"$output"
	grep -q "^    -f|--full  " <<<"$output"
	grep -q "^    --follow  " <<<"$output"
	grep -qx "usage: btrfs version" <<<"$output"
	ours help --full
	expect 0
	[ "$output" = "$full" ]
}

@test "help of the inspect-internal group" {
	ours inspect-internal --help
	expect 0
	local group=$output
	[ -z "$stderr" ]
	# ($lines has no empty lines, check the blank after the usage line here)
	[[ $output == "usage: btrfs inspect-internal <command> <args>"$'\n\n'"    btrfs inspect-internal "* ]]
	grep -q "^    btrfs inspect-internal dump-super " <<<"$output"
	grep -q "^    btrfs inspect-internal dump-tree " <<<"$output"
	[ "${lines[-1]}" = "query various internal information" ]
	ours help inspect-internal
	expect 0
	[ "$output" = "$group" ]
	ours help insp
	expect 0
	[ "$output" = "$group" ]
	# a group without a command: its help on stdout, but status 1
	ours inspect-internal
	expect 1
	[ "$output" = "$group" ]
}

@test "help of dump-super: --help, help, abbreviations agree" {
	ours inspect-internal dump-super --help
	expect 0
	local usage=$output
	[ -z "$stderr" ]
	[[ ${lines[0]} == "usage: btrfs inspect-internal dump-super "* ]]
	[[ ${lines[1]} == "    "* ]]
	for opt in "-f|--full" "-a|--all" "-s|--super" "-F|--force" "--bytenr" "-i "; do
		grep -qF -- "    $opt" <<<"$output"
	done
	ours help inspect-internal dump-super
	expect 0
	[ "$output" = "$usage" ]
	ours help i dump-s
	expect 0
	[ "$output" = "$usage" ]
	ours insp dump-s --help
	expect 0
	[ "$output" = "$usage" ]
	ours inspect-internal dump-super --help --full
	expect 0
	[ "$output" = "$usage" ]
}

@test "help of dump-tree: --help, help, abbreviations agree" {
	ours inspect-internal dump-tree --help
	expect 0
	local usage=$output
	[ -z "$stderr" ]
	[[ ${lines[0]} == "usage: btrfs inspect-internal dump-tree "* ]]
	for opt in "-t|--tree" "-b|--block" "--follow" "-e|--extents" "-d|--device" \
		"-r|--roots" "-R|--backups" "-u|--uuid" "--dfs" "--bfs" \
		"--hide-names" "--csum-headers" "--csum-items" "--noscan"; do
		grep -qF -- "    $opt" <<<"$output"
	done
	ours help inspect-internal dump-tree
	expect 0
	[ "$output" = "$usage" ]
	ours insp dump-t --help
	expect 0
	[ "$output" = "$usage" ]
	# --help counts only right after the command name
	ours inspect-internal dump-tree --help extra
	expect 0
	[ "$output" = "$usage" ]
}

@test "help and version of the help and version commands" {
	ours help --help
	expect 0
	[ "${lines[0]}" = "usage: btrfs help [--full] [<group>...] [<command>]" ]
	ours version --help
	expect 0
	[ "${lines[0]}" = "usage: btrfs version" ]
	[ "${lines[1]}" = "    Display btrfs-tools version" ]
}

@test "abbreviations run the command they stand for" {
	local img=$BATS_TEST_TMPDIR/zero.img
	truncate -s 1M "$img"
	ours inspect-internal dump-super "$img"
	local full_status=$status full_out=$output full_err=$stderr
	ours insp dump-s "$img"
	[ "$status" = "$full_status" ]
	[ "$output" = "$full_out" ]
	[ "$stderr" = "$full_err" ]
	ours i dump-super "$img"
	[ "$status" = "$full_status" ]
	[ "$output" = "$full_out" ]
}

@test "ambiguous prefix: the candidates, status 1" {
	ours inspect-internal dump
	expect 1
	[ -z "$output" ]
	[ "$stderr" = "$(printf "btrfs inspect-internal: ambiguous token 'dump'\n\nDid you mean one of these ?\n\tdump-tree\n\tdump-super")" ]
	ours insp d
	expect 1
	[[ $stderr == "btrfs inspect-internal: ambiguous token 'd'"* ]]
}

@test "ambiguous prefix: same text as the reference" {
	same_as_ref inspect-internal dump
}

@test "unknown command: error and usage on stderr, status 1" {
	ours foo
	expect 1
	[ -z "$output" ]
	[ "${stderr%%$'\n'*}" = "btrfs: unknown token 'foo'" ]
	grep -q "^usage: btrfs " <<<"$stderr"

	ours inspect-internal foo
	expect 1
	[ -z "$output" ]
	[ "${stderr%%$'\n'*}" = "btrfs inspect-internal: unknown token 'foo'" ]
	grep -qx "usage: btrfs inspect-internal <command> <args>" <<<"$stderr"

	# a prefix longer than the name is not a prefix
	ours inspect-internal dump-super-x
	expect 1
	[ "${stderr%%$'\n'*}" = "btrfs inspect-internal: unknown token 'dump-super-x'" ]

	ours help foo
	expect 1
	[ "${stderr%%$'\n'*}" = "btrfs: unknown token 'foo'" ]
	ours help inspect-internal dump-super extra
	expect 1
	[ "$stderr" = "btrfs inspect-internal dump-super: unknown token 'extra'" ]
}

@test "unknown global option: status 129" {
	ours --bogus
	expect 129
	[ -z "$output" ]
	[ "$stderr" = "Unknown global option: --bogus" ]
}

@test "unknown command option: reference text, status 1" {
	ours inspect-internal dump-super --bogus x
	expect 1
	[ -z "$output" ]
	[ "$stderr" = "$(printf "btrfs inspect-internal dump-super: unrecognized option '--bogus'\nTry 'btrfs inspect-internal dump-super --help' for more information")" ]
	ours insp dump-t -Z x
	expect 1
	[ "$stderr" = "$(printf "btrfs inspect-internal dump-tree: invalid option 'Z'\nTry 'btrfs inspect-internal dump-tree --help' for more information")" ]
	ours help --bogus
	expect 1
	[ "${stderr%%$'\n'*}" = "btrfs help: unrecognized option '--bogus'" ]
}

@test "option and argument-count errors: same text as the reference" {
	same_as_ref inspect-internal dump-super --bogus x
	same_as_ref inspect-internal dump-super -Z x
	same_as_ref inspect-internal dump-tree --bogus x
	same_as_ref inspect-internal dump-tree -Z x
	same_as_ref inspect-internal dump-super
	same_as_ref inspect-internal dump-tree
	same_as_ref insp dump-s -f
}

@test "missing arguments: reference text, status 1" {
	ours inspect-internal dump-super
	expect 1
	[ -z "$output" ]
	[ "$stderr" = "btrfs inspect-internal dump-super: not enough arguments: 0 but at least 1 expected" ]
	ours inspect-internal dump-tree
	expect 1
	[ "$stderr" = "btrfs inspect-internal dump-tree: not enough arguments: 0 but at least 1 expected" ]
}

@test "--help after other arguments is an argument, not a help request" {
	ours inspect-internal dump-super "$BATS_TEST_TMPDIR/missing" --help
	expect 1
	[[ $output != *"usage:"* ]]
	[[ $stderr == *"ERROR: "* ]]
}

@test "a directory, an empty file, another filesystem: check, restore and dump-tree say what it is" {
	local d="$BATS_TEST_TMPDIR" cmd msg f
	mkdir -p "$d/dir" "$d/out"
	: > "$d/empty.img"
	truncate -s 64M "$d/ext4.img"
	if command -v mkfs.ext4 >/dev/null; then
		mkfs.ext4 -q -F "$d/ext4.img"
	else
		rm -f "$d/ext4.img"
	fi
	for f in dir empty.img ext4.img; do
		[ -e "$d/$f" ] || continue
		case $f in
		dir) msg="ERROR: $d/dir is a directory, not a device or an image file" ;;
		empty.img) msg="ERROR: $d/empty.img is an empty file" ;;
		ext4.img) msg="ERROR: $d/ext4.img holds an ext4 filesystem, not btrfs" ;;
		esac
		ours restore "$d/$f" "$d/out"
		expect 1
		[ "$stderr" = "$msg" ]
		ours inspect-internal dump-tree "$d/$f"
		expect 1
		[ "$stderr" = "$msg" ]
		ours check "$d/$f"
		expect 2
		[ "$output" = "Opening filesystem to check..." ]
		[ "$stderr" = "$msg"$'\n'"ERROR: cannot open file system" ]
	done
}

@test "no superblock copy looks like btrfs: no advice to try the mirrors" {
	local d="$BATS_TEST_TMPDIR"
	mkdir -p "$d/out"
	truncate -s 1M "$d/zeros.img"
	ours restore "$d/zeros.img" "$d/out"
	expect 1
	[ "$stderr" = "ERROR: $d/zeros.img: no valid btrfs superblock: bad magic" ]
}

@test "global options -q, -v, --log=LEVEL are accepted before the group" {
	local d="$BATS_TEST_TMPDIR" opt
	for opt in -q --quiet -v -vv --verbose --log=quiet --log=default \
		--log=info --log=verbose --log=debug "--log debug" "-q -v"; do
		# shellcheck disable=SC2086 # split the words on purpose
		ours $opt version
		expect 0
		[ "$output" = "btrfs-tools v$VERSION" ]
		[ -z "$stderr" ]
	done
	ours --log=loud version
	expect 1
	[ -z "$output" ]
	[ "$stderr" = "ERROR: unrecognized log level: loud" ]
	ours --log
	expect 129
	[ "$stderr" = "Unknown global option: --log" ]
	# -q keeps the errors and drops the warnings
	: > "$d/empty.img"
	mkdir -p "$d/out"
	ours restore -c "$d/empty.img" "$d/out"
	expect 1
	[ "$stderr" = "WARNING: -c has no effect without --path-regex"$'\n'"ERROR: $d/empty.img is an empty file" ]
	ours -q restore -c "$d/empty.img" "$d/out"
	expect 1
	[ "$stderr" = "ERROR: $d/empty.img is an empty file" ]
	ours --log=quiet restore -c "$d/empty.img" "$d/out"
	expect 1
	[ "$stderr" = "ERROR: $d/empty.img is an empty file" ]
	ours --help
	grep -qx "  -q|--quiet        print only errors" <<<"$output"
}

@test "a btrfs-progs group this build lacks is named, status 1" {
	local g
	for g in filesystem subvolume device balance scrub send receive quota \
		qgroup replace property; do
		ours "$g" show /
		expect 1
		[ -z "$output" ]
		[ "$stderr" = "ERROR: btrfs $g is not provided by this build" ]
	done
	# a unique prefix, as btrfs-progs takes it
	ours fi show
	expect 1
	[ "$stderr" = "ERROR: btrfs filesystem is not provided by this build" ]
	ours -q sub list /
	expect 1
	[ "$stderr" = "ERROR: btrfs subvolume is not provided by this build" ]
	# a word no btrfs knows is still an unknown token
	ours frobnicate
	expect 1
	[ "${stderr%%$'\n'*}" = "btrfs: unknown token 'frobnicate'" ]
}

@test "a tree root address in no chunk is named as such by check -r and restore -t" {
	local d="$BATS_TEST_TMPDIR" bad=999999995904
	[ -x "$MKFS_BIN" ] || skip "no mkfs.btrfs in the build"
	truncate -s 256M "$d/a.img"
	"$MKFS_BIN" -q "$d/a.img"
	mkdir -p "$d/out"
	ours check -r "$bad" "$d/a.img"
	expect 2
	[ "$output" = "Opening filesystem to check..." ]
	[ "$stderr" = "ERROR: $d/a.img: cannot read tree root at block $bad: the address is not in any chunk"$'\n'"ERROR: cannot open file system" ]
	ours restore -t "$bad" "$d/a.img" "$d/out"
	expect 1
	[ "$stderr" = "ERROR: $d/a.img: cannot read tree root at block $bad: the address is not in any chunk (try -t or -u)" ]
}
