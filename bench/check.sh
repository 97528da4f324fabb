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
timer=/usr/bin/time

die() {
	echo "check.sh: $*" >&2
	exit 1
}

# timed OUTFILE PROGRAM ARGS...: one run, appends "seconds kib" to OUTFILE
timed() {
	local out=$1 tmp rc=0

	shift
	tmp=$(mktemp)
	"$timer" -f '%e %M' -o "$tmp" "$@" "$img" >/dev/null 2>&1 || rc=$?
	if [ "$rc" != 0 ]; then
		rm -f "$tmp"
		die "exit code $rc from: $* $img"
	fi
	tail -n1 "$tmp" >>"$out"
	rm -f "$tmp"
}

# median FILE COLUMN
median() {
	sort -g -k"$2","$2" "$1" | awk -v c="$2" '{ v[NR] = $c }
		END { if (NR % 2) print v[(NR + 1) / 2];
		      else printf "%g\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

report() {
	local d=$1 side

	printf '%-16s %10s %14s\n' side 'time (s)' 'peak RSS (KiB)'
	for side in ours original lowmem; do
		printf '%-16s %10s %14s\n' "$side" "$(median "$d/$side" 1)" \
			"$(median "$d/$side" 2)"
	done
	for side in original lowmem; do
		awk -v ot="$(median "$d/ours" 1)" -v rt="$(median "$d/$side" 1)" \
		    -v om="$(median "$d/ours" 2)" -v rm="$(median "$d/$side" 2)" \
		    -v s="$side" 'BEGIN {
			printf "ratio ours/%s: time %.2f, peak RSS %.2f\n", s,
			       (rt > 0 ? ot / rt : 0), (rm > 0 ? om / rm : 0) }'
	done
}

results=

main() {
	local i

	[ -x "$timer" ] || die "$timer is missing (Debian package: time)"
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
