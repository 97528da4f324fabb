#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# mkfs.btrfs speed and memory: ours against the reference, on sparse image
# files.  Not part of the test suite.
#
# Usage: bench/mkfs.sh [DIR]
#
#   DIR         where the sparse images go (default: $BENCH_DIR, else
#               /var/tmp/btrfs-bench/mkfs); its filesystem must support
#               sparse files of 1 TiB.  The images are removed at the end.
#
# Environment:
#   MKFS_BIN    our mkfs.btrfs (default: ./mkfs.btrfs at the top of the
#               tree; use an optimized build without sanitizers)
#   REF_MKFS    the reference (default: /sbin/mkfs.btrfs)
#   RUNS        timed runs of each side per case (default 5), alternating
#
# Cases: "1tib" (one 1 TiB sparse file, default options) and "raid10x4"
# (four 64 GiB sparse files, -d raid10 -m raid10).  Every run starts from
# fresh empty files and uses -q -f -K.  Prints, per case, the median wall
# time (s) and median peak RSS (KiB) of each side and the ratios
# ours/reference (below 1 means ours is faster or smaller).  A failing run
# stops the benchmark.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:-${BENCH_DIR:-/var/tmp/btrfs-bench/mkfs}}
ours=${MKFS_BIN:-$top/mkfs.btrfs}
ref=${REF_MKFS:-/sbin/mkfs.btrfs}
runs=${RUNS:-5}

# shellcheck source=bench/lib.sh
. "$top/bench/lib.sh"

# fresh SIZE N: N new empty sparse files in $dir, names on stdout
fresh() {
	local i

	for ((i = 1; i <= $2; i++)); do
		rm -f "$dir/dev$i.img"
		truncate -s "$1" "$dir/dev$i.img"
		echo "$dir/dev$i.img"
	done
}

# timed OUTFILE SIZE N PROGRAM ARGS...: one run on fresh files, appends
# "seconds kib" to OUTFILE
timed() {
	local out=$1 size=$2 n=$3 files

	shift 3
	mapfile -t files < <(fresh "$size" "$n")
	sync
	timed_run "$out" "$@" -q -f -K "${files[@]}"
}

# bench_case NAME SIZE N OPTIONS...: alternate RUNS runs of each side
bench_case() {
	local name=$1 size=$2 n=$3 i res

	shift 3
	res=$(mktemp -d)
	: >"$res/ours"
	: >"$res/ref"
	for ((i = 0; i < runs; i++)); do
		timed "$res/ours" "$size" "$n" "$ours" "$@"
		timed "$res/ref" "$size" "$n" "$ref" "$@"
	done
	echo "case $name: $n x $size sparse, options: ${*:-(defaults)}"
	side_table 12 ours "$res/ours" reference "$res/ref"
	ratio_line reference "$res/ours" "$res/ref"
	echo
	rm -rf "$res"
}

main() {
	[ -x "$ours" ] || die "our mkfs.btrfs not found: $ours (set MKFS_BIN)"
	[ -x "$ref" ] || die "reference not found: $ref (set REF_MKFS)"
	require_timer
	mkdir -p "$dir"
	trap 'rm -f "$dir"/dev[0-9]*.img' EXIT
	bench_case 1tib 1T 1
	bench_case raid10x4 64G 4 -d raid10 -m raid10
}

main "$@"
