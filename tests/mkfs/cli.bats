#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
# mkfs.btrfs: option parsing, every refusal with its exit status and exact
# message, and the summary table.  The reference mkfs.btrfs 6.2 is run on
# the same input wherever that makes sense: where both refuse, both exit 1;
# where we are deliberately stricter (a filesystem the kernel could not
# mount, a feature we do not have) the test says so and asserts that the
# reference accepts.  The summary table must be byte for byte the
# reference's (after the version banner and the reference's NOTE block,
# which we do not print).
#
# Differences from the reference, asserted below:
# - a node size that is not a power of two (the reference accepts 12K, the
#   kernel refuses to mount it) and a sector size other than 4K / the page
#   size (the kernel cannot mount it on this machine) are refused;
# - -O zoned, -r/--rootdir and --shrink are refused (not supported yet);
# - -O block-group-tree and -O free-space-tree are accepted (btrfs-progs
#   6.3 and later accept them; 6.2 only knows free-space-tree as -R);
# - no "NOTE: several default settings have changed in version 5.15" block
#   and with -q nothing at all on stdout (the reference prints the NOTE
#   even with -q);
# - messages are our own words where the reference's are two lines or
#   garbled ("ERROR: ERROR: ..."), always one line naming the device or
#   option.

bats_require_minimum_version 1.5.0

load ../helpers/common

U1=5e1f7a4c-2b0d-4c55-9a1e-0c3d7f2b6a91
U2=0b7e3d21-9c4a-4f0e-8d6b-1a2c3e4f5a6b
U3=c4d1a3f7-66e2-4b8a-b0a9-3f5e7d9c1b24

setup() {
	if [ ! -x "$MKFS_BIN" ]; then
		echo "our mkfs.btrfs is missing: MKFS_BIN=$MKFS_BIN" >&2
		return 1
	fi
	T=$BATS_TEST_TMPDIR
	cd "$T"
}

teardown() {
	cd /
	cleanup_all
}

# imgs SIZE NAME...: sparse image files in the test directory
imgs() {
	local size=$1 f

	shift
	for f; do
		rm -f "$f"
		truncate -s "$size" "$f"
	done
}

# ours ARGS... / ref ARGS...: $status, $output (stdout), $stderr
ours() { run --separate-stderr "$MKFS_BIN" "$@"; }
ref() { run --separate-stderr "$ref_mkfs" "$@"; }

# fingerprints FILE...: one line per regular file (see sparse-sum.py)
fingerprints() {
	local f

	for f; do
		[ -f "$f" ] || continue
		"$PYTHON" "$HELPERS_DIR/sparse-sum.py" "$f"
	done
}

# refuse REF EXPECTED ARGS...: ours exits 1 with exactly EXPECTED on stderr
# (lines joined by "\n") and nothing on stdout (not even the version
# banner), writes no image file of the test directory, and
# the reference exits with REF ("1": it refuses too; "0": it accepts, a
# difference listed at the top; "-": not compared).
refuse() {
	local want_ref=$1 want_err=$2 before after
	shift 2
	before=$(fingerprints ./*.img 2>/dev/null)
	ours "$@"
	after=$(fingerprints ./*.img 2>/dev/null)
	if [ "$status" != 1 ] || [ "$stderr" != "$want_err" ] || [ -n "$output" ]; then
		echo "ours $*: status $status (expected 1)"
		echo "--- stdout:"; echo "$output"
		echo "--- stderr:"; echo "$stderr"
		echo "--- expected:"; echo "$want_err"
		return 1
	fi
	[ "$before" = "$after" ] || { echo "ours $* wrote an image"; return 1; }
	[ "$want_ref" != - ] || return 0
	check_reference >/dev/null || return 0
	ref "$@"
	if [ "$status" != "$want_ref" ]; then
		echo "reference $*: status $status, expected $want_ref"
		echo "$stderr"
		return 1
	fi
}

# --- options, help, version -------------------------------------------------

@test "--help: usage on stdout, status 0, same status as the reference" {
	ours --help
	[ "$status" = 0 ]
	[ "${lines[0]}" = "usage: mkfs.btrfs [options] <dev> [<dev...>]" ]
	[ -z "$stderr" ]
	# every long option of the reference's help is in ours
	for opt in --data --metadata --mixed --csum --checksum --nodesize \
		--sectorsize --features --runtime-features --label --uuid \
		--byte-count --rootdir --shrink --nodiscard --force --quiet \
		--verbose --version --help --device-uuid; do
		grep -q -- "$opt" <<<"$output" || { echo "no $opt"; return 1; }
	done
	check_reference >/dev/null || return 0
	ref --help
	[ "$status" = 0 ]
}

@test "no device: usage on stderr, status 1" {
	ours
	[ "$status" = 1 ]
	[ -z "$output" ]
	[[ $stderr == "usage: mkfs.btrfs [options] <dev> [<dev...>]"* ]]
	check_reference >/dev/null || return 0
	ref
	[ "$status" = 1 ]
}

@test "unknown option and missing argument: status 1 like the reference" {
	imgs 1G a.img
	ours --no-such-option a.img
	[ "$status" = 1 ]
	[[ $stderr == *"unrecognized option '--no-such-option'"* ]]
	ours a.img -n
	[ "$status" = 1 ]
	[[ $stderr == *"option requires an argument -- 'n'"* ]]
	check_reference >/dev/null || return 0
	ref --no-such-option a.img
	[ "$status" = 1 ]
}

@test "-V and --version print the version, status 0" {
	ours -V
	[ "$status" = 0 ]
	[[ $output =~ ^mkfs\.btrfs,\ part\ of\ btrfs-tools\ v[0-9] ]]
	ours --version
	[ "$status" = 0 ]
	[[ $output =~ ^mkfs\.btrfs,\ part\ of\ btrfs-tools\ v[0-9] ]]
}

# feature_names TEXT: the names of a list-all table, one per line
feature_names() {
	awk 'NR > 1 { print $1 }' <<<"$1"
}

@test "-O list-all: the reference's features in its order, on stderr" {
	ours -O list-all
	[ "$status" = 0 ]
	[ -z "$output" ]
	[ "$(head -n1 <<<"$stderr")" = "Filesystem features available:" ]
	want="mixed-bg extref raid56 skinny-metadata no-holes raid1c34 zoned block-group-tree"
	[ "$(feature_names "$stderr" | xargs)" = "$want" ]
	# each line: name padded to 20, "- ", a description, "(compat=..."
	while read -r line; do
		[[ $line =~ ^[a-z0-9-]+\ +-\ .+\ \(compat=[0-9.]+(,\ safe=[0-9.]+)?(,\ default=[0-9.]+)?\)$ ]] ||
			{ echo "bad line: $line"; return 1; }
	done < <(tail -n +2 <<<"$stderr")
	grep -q '^no-holes            - .*(compat=3.14, safe=4.0, default=5.15)$' <<<"$stderr"
	check_reference >/dev/null || return 0
	ref -O list-all
	[ "$status" = 0 ]
	# ours = the reference's list plus block-group-tree (6.3's), same order
	[ "$(feature_names "$stderr" | xargs) block-group-tree" = "$want" ]
}

@test "-R list-all: same features, versions and order as the reference" {
	ours -R list-all
	[ "$status" = 0 ]
	[ -z "$output" ]
	[ "$(head -n1 <<<"$stderr")" = "Runtime features available:" ]
	mine=$(feature_names "$stderr" | xargs)
	[ "$mine" = "quota free-space-tree" ]
	versions=$(grep -o '(compat.*' <<<"$stderr")
	check_reference >/dev/null || return 0
	ref -R list-all
	[ "$status" = 0 ]
	[ "$(feature_names "$stderr" | xargs)" = "$mine" ]
	[ "$(grep -o '(compat.*' <<<"$stderr")" = "$versions" ]
}

# --- refusals: options ------------------------------------------------------

@test "refused node sizes" {
	imgs 1G a.img
	refuse 1 "ERROR: illegal nodesize 2048 (smaller than 4096)" -n 2k a.img
	refuse 1 "ERROR: illegal nodesize 131072 (larger than 65536)" -n 128k a.img
	# the reference makes a 12K-node filesystem the kernel cannot mount
	refuse 0 "ERROR: illegal nodesize 12288 (not a power of 2)" -f -n 12k a.img
	refuse - "ERROR: size value '16q' is invalid" -n 16q a.img
	refuse - "ERROR: nodesize 0 is out of range" -n 0 a.img
	refuse - "ERROR: sectorsize 8G is out of range" -s 8G a.img
	refuse 1 "ERROR: illegal nodesize 16384 (not equal to sectorsize 4096 for mixed block groups)" -M -n 16k a.img
}

@test "refused sector sizes" {
	imgs 1G a.img
	page=$(getconf PAGESIZE)
	[ "$page" = 4096 ] || skip "page size $page: the cases assume 4096"
	refuse 1 "ERROR: sectorsize 2048 is not supported: it must be 4096 or the page size (4096)" -s 2k a.img
	# the reference writes 8K sectors (with a warning); unmountable here
	refuse 0 "ERROR: sectorsize 8192 is not supported: it must be 4096 or the page size (4096)" -f -s 8k a.img
	refuse 1 "ERROR: sectorsize 8192 is not supported: it must be 4096 or the page size (4096)" -n 4k -s 8k a.img
}

@test "refused profiles: unknown name, too few devices, mixed mismatch" {
	imgs 1G a.img b.img c.img
	refuse 1 "ERROR: unknown data profile raid7" -d raid7 a.img
	refuse 1 "ERROR: unknown metadata profile foo" -m foo a.img
	refuse 1 "ERROR: metadata profile RAID1 needs at least 2 devices, 1 given" -m raid1 a.img
	refuse 1 "ERROR: data profile RAID10 needs at least 2 devices, 1 given" -d raid10 a.img
	refuse 1 "ERROR: metadata profile RAID1C3 needs at least 3 devices, 2 given" -m raid1c3 a.img b.img
	refuse 1 "ERROR: data profile RAID1C4 needs at least 4 devices, 3 given" -d raid1c4 a.img b.img c.img
	refuse 1 "ERROR: data profile RAID5 needs at least 2 devices, 1 given" -d raid5 a.img
	refuse 1 "ERROR: data profile RAID6 needs at least 3 devices, 2 given" -d raid6 a.img b.img
	refuse 1 "ERROR: with mixed block groups data and metadata profiles must be the same" -M -m dup a.img
	refuse 1 "ERROR: with mixed block groups data and metadata profiles must be the same" -M -d raid1 -m raid0 a.img b.img
}

@test "refused features: unknown, zoned, block-group-tree without free-space-tree" {
	imgs 1G a.img
	refuse 1 "ERROR: unrecognized filesystem feature 'foo'" -O foo a.img
	refuse 1 "ERROR: unrecognized filesystem feature '^bar'" -O no-holes,^bar a.img
	refuse 1 "ERROR: unrecognized runtime feature 'no-holes'" -R no-holes a.img
	# (the reference emulates zones on a regular file; 1G is too small
	# for its 256M zones, so its answer is not compared)
	refuse - "ERROR: zoned mode is not supported by this mkfs.btrfs" -f -O zoned a.img
	imgs 1G a.img
	refuse - "ERROR: block-group-tree needs free-space-tree (do not use -R ^free-space-tree with it)" -O block-group-tree -R ^free-space-tree a.img
	refuse - "ERROR: block-group-tree needs free-space-tree (do not use -R ^free-space-tree with it)" -O block-group-tree,^free-space-tree a.img
}

@test "refused label, UUIDs, checksum, sizes" {
	imgs 1G a.img
	long=$(printf 'x%.0s' $(seq 256))
	refuse 1 "ERROR: label $long is too long (max 255)" -L "$long" a.img
	refuse 1 "ERROR: could not parse UUID: not-a-uuid" -U not-a-uuid a.img
	refuse - "ERROR: could not parse UUID: 1234" --device-uuid 1234 a.img
	refuse 1 "ERROR: unknown csum type md5" --csum md5 a.img
	refuse 1 "ERROR: unknown csum type crc32" --checksum crc32 a.img
	refuse 1 "ERROR: size value '1x' is invalid" -b 1x a.img
	refuse - "ERROR: byte count 0 is out of range" -b 0 a.img
}

@test "refused: rootdir, shrink, leafsize" {
	imgs 1G a.img
	mkdir src
	# the reference copies the directory; we do not do that yet
	refuse 0 "ERROR: --rootdir is not supported by this mkfs.btrfs yet: cannot copy src" -f -r src a.img
	refuse - "ERROR: --shrink (with --rootdir) is not supported by this mkfs.btrfs yet" --shrink a.img
	refuse 1 "ERROR: --leafsize is no longer supported, use --nodesize" -l 16k a.img
}

# --- refusals: devices --------------------------------------------------------

@test "refused devices: missing, not a file, given twice" {
	imgs 1G a.img
	refuse 1 "ERROR: cannot access missing.img: No such file or directory" missing.img
	[ ! -e missing.img ]
	mkdir dir.img
	refuse 1 "ERROR: dir.img is neither a block device nor a regular file" dir.img
	rmdir dir.img
	refuse 1 "ERROR: a.img is given more than once (also as a.img)" a.img a.img
	refuse - "ERROR: ./a.img is given more than once (also as a.img)" a.img ./a.img
}

@test "refused devices: smaller than -b, smaller than the minimum" {
	imgs 1G a.img
	imgs 64M small.img
	refuse 1 "ERROR: a.img is smaller than the requested size: 1.00GiB (1073741824 bytes) available, -b asks for 2.00GiB (2147483648 bytes)" -b 2G a.img
	ours -q a.img
	[ "$status" = 0 ] || { echo "$stderr"; return 1; }
	# the minimum comes from the engine; the reference refuses alike
	run "$MKFS_BIN" -q -f -b 1M a.img
	[ "$status" = 1 ]
	[[ $output =~ ^ERROR:\ \'a.img\'\ is\ too\ small\ to\ make\ a\ usable\ filesystem:\ 1048576\ bytes,\ the\ minimum\ size\ for\ each\ device\ is\ [0-9]+\ bytes$ ]] ||
		{ echo "$output"; return 1; }
	min=$(sed -E 's/.* is ([0-9]+) bytes$/\1/' <<<"$output")
	refuse 1 "ERROR: 'small.img' is too small to make a usable filesystem: 67108864 bytes, the minimum size for each device is $min bytes" small.img
	# exactly the minimum is enough
	ours -q -f -b "$min" a.img
	[ "$status" = 0 ] || { echo "$stderr"; return 1; }
	(( min > 67108864 && min < 1073741824 ))
}

@test "existing filesystem or partition table: refused without -f" {
	check_reference >/dev/null || skip "needs the reference mkfs to make a filesystem"
	imgs 1G a.img
	"$ref_mkfs" -q -f a.img >/dev/null
	refuse 1 "ERROR: a.img appears to contain an existing filesystem (btrfs)
ERROR: use the -f option to force overwrite of a.img" a.img
	# a DOS partition table: one Linux partition, boot signature
	imgs 200M p.img
	"$PYTHON" - <<-'EOF'
		import struct
		with open("p.img", "r+b") as f:
		    f.seek(446)
		    f.write(struct.pack("<B3sB3sII", 0, b"\0\2\0", 0x83, b"\0\0\0", 2048, 100000))
		    f.seek(510)
		    f.write(b"\x55\xaa")
	EOF
	refuse 1 "ERROR: p.img appears to contain a partition table (dos)
ERROR: use the -f option to force overwrite of p.img" p.img
	# -f overwrites; afterwards libblkid sees our filesystem
	ours -q -f a.img
	[ "$status" = 0 ]
	[ "$(blkid -p -o value -s TYPE a.img)" = btrfs ]
}

# mount_img IMG: loop-mount IMG read-only on a fresh directory; sets MNT, LOOP
mount_img() {
	MNT=$T/mnt
	mkdir -p "$MNT"
	LOOP=$(losetup -f --show "$1")
	track_loop "$LOOP"
	mount -o ro "$LOOP" "$MNT"
	track_mount "$MNT"
}

@test "mounted device: refused even with -f, as a file and as a loop device" {
	require_root
	require_loop
	require_kernel_btrfs
	check_reference >/dev/null || skip "needs the reference mkfs"
	imgs 1G a.img b.img
	"$ref_mkfs" -q -f -U "$U1" a.img >/dev/null
	mount_img a.img
	refuse 1 "ERROR: a.img is mounted (through loop device $LOOP)" -f a.img
	refuse 1 "ERROR: $LOOP is mounted" -f "$LOOP"
	refuse 1 "ERROR: $LOOP is mounted" -f -K b.img "$LOOP"
	# a UUID that a visible filesystem has is refused
	refuse 1 "ERROR: non-unique UUID: $U1 is already used by a filesystem on this machine" -f -U "$U1" b.img
}

# --- what gets written ------------------------------------------------------

# super_field IMG FIELD: one value of the reference dump-super
super_field() {
	"$ref_btrfs" inspect-internal dump-super "$1" |
		awk -v f="$2" '$1 == f { print $2; exit }'
}

@test "-L, -U, --device-uuid, --csum, -n end up in the superblock" {
	check_reference >/dev/null || skip "needs the reference dump-super"
	imgs 1G a.img b.img
	ours -q -L "my label" -U "$U1" --device-uuid "$U2" --csum sha256 -n 32k a.img b.img
	[ "$status" = 0 ] || { echo "$stderr"; return 1; }
	[ -z "$output" ] && [ -z "$stderr" ]
	[ "$(super_field a.img fsid)" = "$U1" ]
	[ "$(super_field b.img fsid)" = "$U1" ]
	[ "$("$ref_btrfs" inspect-internal dump-super a.img | sed -n 's/^label\t*//p')" = "my label" ]
	[ "$(super_field a.img dev_item.uuid)" = "$U2" ]
	[ "$(super_field b.img dev_item.uuid)" != "$U2" ]
	[ "$(super_field a.img csum_type)" = 2 ]
	[ "$(super_field a.img nodesize)" = 32768 ]
	[ "$(super_field a.img num_devices)" = 2 ]
	# -b: the device size recorded is -b, not the file's
	ours -q -f -b 300M a.img
	[ "$status" = 0 ]
	[ "$(super_field a.img dev_item.total_bytes)" = 314572800 ]
	# a 255-byte label is the longest accepted
	ours -q -f -L "$(printf 'y%.0s' $(seq 255))" a.img
	[ "$status" = 0 ]
}

@test "dup data on several devices: accepted with a warning, like the reference" {
	imgs 1G a.img b.img
	ours -q -d dup a.img b.img
	[ "$status" = 0 ]
	[ "$stderr" = "WARNING: DUP data on a filesystem of several devices is not recommended" ]
	check_reference >/dev/null || return 0
	ref -q -f -d dup a.img b.img
	[ "$status" = 0 ]
	[[ $stderr == *"WARNING: DUP is not recommended on filesystem with multiple devices"* ]]
}

# flags IMG: "incompat compat_ro" of the reference dump-super
flags() {
	echo "$(super_field "$1" incompat_flags) $(super_field "$1" compat_ro_flags)"
}

@test "feature flags: the same as the reference's for the same options" {
	check_reference >/dev/null || skip "needs the reference"
	imgs 1G a.img b.img c.img d.img
	while read -r opts; do
		# shellcheck disable=SC2086
		ours -q -f -K $opts a.img b.img c.img d.img
		[ "$status" = 0 ] || { echo "ours $opts: $stderr"; return 1; }
		mine=$(flags a.img)
		# shellcheck disable=SC2086
		"$ref_mkfs" -q -f -K $opts a.img b.img c.img d.img >/dev/null
		theirs=$(flags a.img)
		[ "$mine" = "$theirs" ] || { echo "$opts: ours $mine, reference $theirs"; return 1; }
	done <<-EOF
		-d single
		-M
		-O ^extref,^skinny-metadata,^no-holes -R ^free-space-tree
		-m raid1c3
		-d raid1c4 -m raid10
		-R quota
		-n 4k -O mixed-bg
		-n 64k
	EOF
}

@test "block-group-tree and -O free-space-tree: compat_ro flags" {
	check_reference >/dev/null || skip "needs the reference dump-super"
	imgs 1G a.img
	ours -q -O block-group-tree a.img
	[ "$status" = 0 ] || { echo "$stderr"; return 1; }
	# FREE_SPACE_TREE | FREE_SPACE_TREE_VALID | BLOCK_GROUP_TREE
	[ "$(super_field a.img compat_ro_flags)" = 0xb ]
	ours -q -f -R ^free-space-tree -O free-space-tree a.img
	[ "$status" = 0 ]
	[ "$(super_field a.img compat_ro_flags)" = 0x3 ]
}

# summary_of OUTPUT: the summary table, from "Label:" to the end
summary_of() {
	sed -n '/^Label:/,$p' <<<"$1"
}

# same_summary DEVS OPTS: our summary table equals the reference's for
# the same options on same-size images with the same names and UUID
same_summary() {
	local devs=$1 opts=$2 mine n
	rm -rf o r
	mkdir -p o r
	for n in $(seq "$devs"); do
		imgs "${SIZE:-1G}" "o/d$n.img" "r/d$n.img"
	done
	# shellcheck disable=SC2086
	(cd o && "$MKFS_BIN" -K -U "$U3" $opts d*.img) > o.out 2> o.err ||
		{ echo "ours $opts failed:"; cat o.err; return 1; }
	# shellcheck disable=SC2086
	(cd r && "$ref_mkfs" -K -U "$U3" $opts d*.img) > r.out 2> r.err ||
		{ echo "reference $opts failed:"; cat r.err; return 1; }
	# stderr: as many warnings as the reference (worded our way), nothing else
	if [ "$(grep -c '^WARNING: ' o.err)" != "$(grep -c '^WARNING: ' r.err)" ] ||
	   grep -qv '^WARNING: ' o.err; then
		echo "stderr for $opts: ours, then the reference's:"
		cat o.err r.err
		return 1
	fi
	mine=$(summary_of "$(cat o.out)")
	[ -n "$mine" ] || { echo "no summary"; cat o.out; return 1; }
	if [ "$mine" != "$(summary_of "$(cat r.out)")" ]; then
		echo "summary differs for '$opts' on $devs devices:"
		diff <(summary_of "$(cat r.out)") <(echo "$mine") || true
		return 1
	fi
	# the banner is two lines and a blank one, then the summary
	[ "$(sed -n 3p o.out)" = "" ] && [ "$(sed -n 4p o.out)" = "Label:              (null)" ] ||
		[[ $opts == *-L* ]]
}

@test "summary table: byte for byte the reference's" {
	check_reference >/dev/null || skip "needs the reference"
	same_summary 1 ""
	same_summary 2 ""
	same_summary 1 "-L label -n 64k --csum xxhash"
	same_summary 1 "-M"
	same_summary 3 "-d raid1 -m raid1c3 -R quota"
	same_summary 4 "-d raid10 -m raid1c4 -O ^no-holes,^extref"
	same_summary 2 "-d raid0 -m single --csum blake2 -R ^free-space-tree"
	SIZE=256M same_summary 1 "-d dup"
	same_summary 3 "-d raid5 -m raid6"
}

@test "-q prints nothing; -v prints the same summary as the default" {
	imgs 1G a.img
	ours -q a.img
	[ "$status" = 0 ]
	[ -z "$output" ] && [ -z "$stderr" ]
	ours -f -U "$U1" a.img
	[ "$status" = 0 ]
	plain=$output
	ours -f -v -v -U "$U1" a.img
	[ "$status" = 0 ]
	[ "$output" = "$plain" ]
	[[ ${lines[0]} =~ ^btrfs-tools\ v ]]
}

@test "block device: full device TRIM unless -K, line as the reference" {
	require_root
	require_loop
	imgs 512M a.img
	# data where the filesystem will not write: gone after a discard
	dd if=/dev/urandom of=a.img bs=1M seek=400 count=4 conv=notrunc status=none
	LOOP=$(losetup -f --show a.img)
	track_loop "$LOOP"
	[ "$(cat "/sys/block/${LOOP#/dev/}/queue/discard_max_bytes")" != 0 ] ||
		skip "loop device without discard"
	ours -K "$LOOP"
	[ "$status" = 0 ] || { echo "$stderr"; return 1; }
	! grep -q TRIM <<<"$output"
	[ "$(dd if="$LOOP" bs=1M skip=400 count=4 status=none | tr -d '\0' | wc -c)" != 0 ]
	ours -f "$LOOP"
	[ "$status" = 0 ] || { echo "$stderr"; return 1; }
	[ "${lines[2]}" = "Performing full device TRIM $LOOP (512.00MiB) ..." ] ||
		{ echo "$output"; return 1; }
	[ "$(dd if="$LOOP" bs=1M skip=400 count=4 status=none | tr -d '\0' | wc -c)" = 0 ]
	check_reference >/dev/null || return 0
	run "$ref_mkfs" -f "$LOOP"
	grep -qx "Performing full device TRIM $LOOP (512.00MiB) ..." <<<"$output"
}
