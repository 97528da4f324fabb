#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# btrfs check speed and memory: ours against the reference's original and
# lowmem modes, on the large kernel-made image of bench/dump-tree.sh.  Not
# part of the test suite.
#
# Usage: bench/check.sh [IMAGE]
#
#   IMAGE       default: $BENCH_IMG, else /var/tmp/btrfs-bench/dump-tree.img.
#               When it does not exist yet, bench/dump-tree.sh builds it
#               (root, loop mounts, the kernel's btrfs; see that script).
#
# Environment:
#   BTRFS_BIN   our btrfs (default: ./btrfs at the top of the tree; use an
#               optimized build without sanitizers)
#   REF_BIN     the reference btrfs (default: /bin/btrfs)
#   RUNS        timed runs of each side (default 5); the sides alternate
#
# Prints the median wall time (s) and median peak RSS (KiB) of each side
# and the ratios ours/reference-original and ours/reference-lowmem (below 1
# means ours is faster or smaller).  Each side must report the image clean
# (exit 0), otherwise the run is refused: timing a failing check is
# meaningless.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
img=${1:-${BENCH_IMG:-/var/tmp/btrfs-bench/dump-tree.img}}
ours=${BTRFS_BIN:-$top/btrfs}
ref=${REF_BIN:-/bin/btrfs}
runs=${RUNS:-5}

# shellcheck source=bench/lib.sh
. "$top/bench/lib.sh"

# timed OUTFILE PROGRAM ARGS...: one run, appends "seconds kib" to OUTFILE
timed() {
	local out=$1

	shift
	timed_run "$out" "$@" "$img"
}

report() {
	local d=$1 side

	side_table 16 ours "$d/ours" original "$d/original" lowmem "$d/lowmem"
	for side in original lowmem; do
		ratio_line "$side" "$d/ours" "$d/$side"
	done
}

results=

main() {
	local i

	require_timer
	[ -x "$ours" ] || die "no $ours; set BTRFS_BIN"
	[ -x "$ref" ] || die "no reference $ref"
	if [ ! -f "$img.done" ]; then
		echo "building $img with bench/dump-tree.sh (once)"
		RUNS=1 BTRFS_BIN=$ref "$top/bench/dump-tree.sh" "$img" >/dev/null
	fi
	results=$(mktemp -d)
	trap '[ -z "$results" ] || rm -rf "$results"' EXIT
	echo "image: $img ($(du -h "$img" | cut -f1) allocated)"
	echo "ours: $ours  reference: $ref  runs: $runs"
	timed "$results/warm" "$ref" check --readonly
	for ((i = 0; i < runs; i++)); do
		timed "$results/ours" "$ours" check --readonly
		timed "$results/original" "$ref" check --readonly
		timed "$results/lowmem" "$ref" check --readonly --mode=lowmem
	done
	report "$results"
}

main
