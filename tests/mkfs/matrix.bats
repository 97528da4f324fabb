#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
# mkfs.btrfs acceptance matrix (issue #3).  For every option set: our mkfs
# on sparse image files; the reference `btrfs check` and ours pass; the
# kernel mounts the filesystem and runs a workload on it (a few thousand
# small files, a subvolume, a snapshot, deletes, then data up to about 80%
# of the filesystem, so that the kernel allocates chunks of its own);
# after unmounting both checks pass again.
#
# Then a structural comparison: for the same options our image and the
# reference's hold the same trees and, in each tree, the same item types
# (reference dump-tree output reduced to "tree / item type" pairs).

bats_require_minimum_version 1.5.0

load ../helpers/common

setup_file() {
	local reason check

	export MATRIX_SKIP=
	for check in check_root check_loop check_kernel_btrfs check_reference \
		check_python; do
		reason=$("$check") || { MATRIX_SKIP=$reason; return 0; }
	done
}

setup() {
	if [ ! -x "$MKFS_BIN" ] || [ ! -x "$BTRFS_BIN" ]; then
		echo "our mkfs.btrfs or btrfs is missing: $MKFS_BIN $BTRFS_BIN" >&2
		return 1
	fi
	skip_if_reason "$MATRIX_SKIP"
	T=$BATS_TEST_TMPDIR
	MNT=$T/mnt
	mkdir -p "$MNT"
	LOOPS=()
}

teardown() {
	cleanup_all
}

# attach FILE...: loop devices for the image files, in LOOPS
attach() {
	local f dev

	LOOPS=()
	for f; do
		dev=$(losetup -f --show "$f")
		track_loop "$dev"
		LOOPS+=("$dev")
	done
}

# detach: forget and detach LOOPS
detach() {
	local dev

	for dev in "${LOOPS[@]}"; do
		cleanup_loop "$dev"
	done
	LOOPS=()
}

# checks WHEN: the reference check and ours pass on the attached devices
checks() {
	run "$ref_btrfs" check "${LOOPS[0]}"
	if [ "$status" != 0 ]; then
		echo "reference check $1: status $status"
		echo "$output" | tail -n 30
		return 1
	fi
	run "$BTRFS_BIN" check "${LOOPS[0]}"
	if [ "$status" != 0 ]; then
		echo "our check $1: status $status"
		echo "$output" | tail -n 30
		return 1
	fi
}

# count_chunks: chunk items in the chunk tree (reference dump-tree)
count_chunks() {
	"$ref_btrfs" inspect-internal dump-tree -t chunk "${LOOPS[0]}" |
		grep -c ' CHUNK_ITEM '
}

# workload NFILES FILL: small files, a subvolume, a snapshot, deletes;
# then, when FILL is 1, one data file up to ~80% of the filesystem
workload() {
	local nfiles=$1 fill=$2 size used avail want

	"$PYTHON" - "$MNT" "$nfiles" <<-'EOF'
		import os, random, sys
		top, n = sys.argv[1], int(sys.argv[2])
		rnd = random.Random(3)
		for i in range(n):
		    d = os.path.join(top, "d%02d" % (i % 20))
		    os.makedirs(d, exist_ok=True)
		    with open(os.path.join(d, "f%05d" % i), "wb") as f:
		        f.write(rnd.randbytes(rnd.randrange(1, 6000)))
	EOF
	"$ref_btrfs" -q subvolume create "$MNT/sub" >/dev/null
	"$PYTHON" - "$MNT/sub" <<-'EOF'
		import os, sys
		for i in range(300):
		    with open(os.path.join(sys.argv[1], "s%03d" % i), "wb") as f:
		        f.write(os.urandom(100 + 37 * i))
	EOF
	"$ref_btrfs" -q subvolume snapshot "$MNT/sub" "$MNT/snap" >/dev/null
	find "$MNT/d0"* -name 'f*[037]' -delete
	rm -f "$MNT"/sub/s1*
	sync
	[ "$fill" = 1 ] || return 0
	size=$(df -B1M --output=size "$MNT" | tail -n1)
	used=$(df -B1M --output=used "$MNT" | tail -n1)
	avail=$(df -B1M --output=avail "$MNT" | tail -n1)
	want=$(( size * 8 / 10 - used ))
	# df's size is an estimate for raid5/6: never ask for more than is free
	(( want <= avail * 9 / 10 )) || want=$(( avail * 9 / 10 ))
	(( want > 0 )) || return 0
	dd if=/dev/zero of="$MNT/fill" bs=1M count="$want" conv=fsync status=none
	sync
}

# matrix_case NDEV SIZE NFILES FILL MKFS-OPTIONS...: one row of the matrix
matrix_case() {
	local ndev=$1 size=$2 nfiles=$3 fill=$4 i chunks mopts=() imgs=()
	shift 4

	for ((i = 1; i <= ndev; i++)); do
		truncate -s "$size" "$T/d$i.img"
		imgs+=("$T/d$i.img")
	done
	run --separate-stderr "$MKFS_BIN" -q -K "$@" "${imgs[@]}"
	if [ "$status" != 0 ]; then
		echo "our mkfs $*: status $status"; echo "$stderr"
		return 1
	fi
	attach "${imgs[@]}"
	checks "after mkfs"
	chunks=$(count_chunks)
	for ((i = 1; i < ndev; i++)); do
		mopts+=(-o "device=${LOOPS[i]}")
	done
	mount "${mopts[@]}" "${LOOPS[0]}" "$MNT"
	track_mount "$MNT"
	workload "$nfiles" "$fill"
	umount "$MNT"
	checks "after the workload"
	# the fill made the kernel allocate chunks of its own
	if [ "$fill" = 1 ] && (( $(count_chunks) <= chunks )); then
		echo "no new chunk after the fill: $chunks before, $(count_chunks) after"
		return 1
	fi
	detach
}

@test "matrix: defaults, one device, 512M" {
	matrix_case 1 512M 3000 1
}

@test "matrix: -n 4k" {
	matrix_case 1 512M 3000 1 -n 4k
}

@test "matrix: -n 64k" {
	matrix_case 1 512M 2000 1 -n 64k
}

@test "matrix: --csum xxhash" {
	matrix_case 1 512M 2000 1 --csum xxhash
}

@test "matrix: --csum sha256" {
	matrix_case 1 512M 2000 1 --csum sha256
}

@test "matrix: --csum blake2 -n 32k" {
	matrix_case 1 512M 2000 1 --csum blake2 -n 32k
}

@test "matrix: -d dup -m dup" {
	matrix_case 1 512M 2000 1 -d dup -m dup
}

@test "matrix: -d single -m single" {
	matrix_case 1 512M 2000 1 -d single -m single
}

@test "matrix: raid0 on 2 devices" {
	matrix_case 2 384M 2000 1 -d raid0 -m raid0
}

@test "matrix: raid1 on 2 devices" {
	matrix_case 2 384M 2000 1 -d raid1 -m raid1
}

@test "matrix: defaults on 3 devices (raid1 metadata)" {
	matrix_case 3 320M 2000 1
}

@test "matrix: raid1c3 on 3 devices" {
	matrix_case 3 320M 2000 1 -d raid1c3 -m raid1c3
}

@test "matrix: raid1c4 on 4 devices" {
	matrix_case 4 320M 2000 1 -d raid1c4 -m raid1c4
}

@test "matrix: raid10 on 4 devices, crc32c" {
	matrix_case 4 320M 2000 1 -d raid10 -m raid10 --csum crc32c
}

@test "matrix: raid5 on 3 devices" {
	matrix_case 3 320M 2000 1 -d raid5 -m raid5
}

@test "matrix: raid6 data, raid1 metadata on 4 devices" {
	matrix_case 4 320M 2000 1 -d raid6 -m raid1
}

@test "matrix: mixed, one device" {
	matrix_case 1 512M 2000 1 -M
}

@test "matrix: mixed raid1 on 2 devices" {
	matrix_case 2 384M 2000 1 -M -d raid1 -m raid1
}

@test "matrix: -O ^no-holes" {
	matrix_case 1 512M 2000 1 -O ^no-holes
}

@test "matrix: -R ^free-space-tree" {
	matrix_case 1 512M 2000 1 -R ^free-space-tree
}

@test "matrix: -O block-group-tree" {
	matrix_case 1 512M 2000 1 -O block-group-tree
}

@test "matrix: -O ^skinny-metadata,^extref" {
	matrix_case 1 512M 2000 1 -O ^skinny-metadata,^extref
}

@test "matrix: -R quota" {
	matrix_case 1 512M 2000 1 -R quota
}

@test "matrix: -b 300M on two 1G files, label and UUID" {
	matrix_case 2 1G 2000 1 -b 300M -L matrix -U 7d1c5e2a-3b4f-4a6d-9e8f-1a2b3c4d5e6f
}

@test "matrix: the minimum size" {
	truncate -s 1G "$T/probe.img"
	run "$MKFS_BIN" -q -b 1M "$T/probe.img"
	[ "$status" = 1 ]
	min=$(sed -nE 's/.*the minimum size for each device is ([0-9]+) bytes$/\1/p' <<<"$output")
	[ -n "$min" ] || { echo "$output"; return 1; }
	rm -f "$T/probe.img"
	matrix_case 1 "$min" 300 0
}

@test "matrix: 1 TiB sparse image (no data fill)" {
	matrix_case 1 1T 2000 0
}

# --- structure: same trees and item types as the reference's --------------

# tree_items IMG: "tree<TAB>item type" pairs of the reference dump-tree,
# and "tree<TAB>-" for every tree (empty ones too)
tree_items() {
	"$ref_btrfs" inspect-internal dump-tree "$1" | awk '
		/^[a-z].* tree( key .*)?$/ {
			tree = $0; sub(/ key .*/, "", tree); print tree "\t-"; next
		}
		/^\titem [0-9]+ key \(/ {
			k = $0; sub(/.*key \(/, "", k); split(k, f, " ")
			print tree "\t" f[2]
		}' | sort -u
}

# same_structure NDEV OPTIONS...: ours and the reference's agree, apart
# from the accepted differences filtered in @accepted
same_structure() {
	local ndev=$1 i o=() r=() mine theirs
	shift

	for ((i = 1; i <= ndev; i++)); do
		truncate -s 1G "$T/o$i.img" "$T/r$i.img"
		o+=("$T/o$i.img")
		r+=("$T/r$i.img")
	done
	run --separate-stderr "$MKFS_BIN" -q -K "$@" "${o[@]}"
	[ "$status" = 0 ] || { echo "ours $*: $stderr"; return 1; }
	"$ref_mkfs" -q -K "$@" "${r[@]}" >/dev/null 2>&1
	mine=$(tree_items "${o[0]}")
	theirs=$(tree_items "${r[0]}")
	[ -n "$theirs" ] || { echo "reference dump-tree printed no items"; return 1; }
	if [ "$mine" != "$theirs" ]; then
		echo "trees and item types differ for '$*' (< reference, > ours):"
		diff <(echo "$theirs") <(echo "$mine") || true
		return 1
	fi
	rm -f "${o[@]}" "${r[@]}"
}

@test "structure: same trees and item types as the reference" {
	same_structure 1
	same_structure 1 -n 4k --csum sha256
	same_structure 2 -d raid1 -m raid1
	same_structure 1 -M
	same_structure 1 -O ^skinny-metadata,^no-holes -R ^free-space-tree
	same_structure 1 -R quota
	same_structure 4 -d raid10 -m raid1c4
}
