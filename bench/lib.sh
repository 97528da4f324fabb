# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# Sourced by the bench/*.sh scripts that time ours against the reference:
# timed runs (wall clock and /usr/bin/time for the peak RSS), medians of the runs and the ours/reference
# lines of the report.  A result file holds one "seconds kib" line per run.

timer=/usr/bin/time

# die MESSAGE...: the script's name and MESSAGE on stderr, exit 1
die() {
	echo "${0##*/}: $*" >&2
	exit 1
}

require_timer() {
	[ -x "$timer" ] || die "$timer is missing (Debian package: time)"
}

# timed_run OUTFILE PROGRAM ARGS...: one run, its output thrown away;
# appends "seconds kib" (wall time, peak RSS) to OUTFILE.  The wall time
# comes from the shell's microsecond clock around the run (/usr/bin/time
# only has 10 ms steps, too coarse for runs of a few ms), the peak RSS
# from /usr/bin/time.  A failing run stops the benchmark: timing a failure
# means nothing.
timed_run() {
	local out=$1 tmp rc=0 t0 t1

	shift
	tmp=$(mktemp)
	t0=${EPOCHREALTIME/,/.}
	"$timer" -f '%M' -o "$tmp" "$@" >/dev/null 2>&1 || rc=$?
	t1=${EPOCHREALTIME/,/.}
	if [ "$rc" != 0 ]; then
		rm -f "$tmp"
		die "exit code $rc from: $*"
	fi
	LC_ALL=C awk -v a="$t0" -v b="$t1" -v m="$(tail -n1 "$tmp")" \
		'BEGIN { printf "%.4f %s\n", b - a, m }' >>"$out"
	rm -f "$tmp"
}

# median FILE COLUMN
median() {
	sort -g -k"$2","$2" "$1" | awk -v c="$2" '{ v[NR] = $c }
		END { if (NR % 2) print v[(NR + 1) / 2];
		      else printf "%g\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# side_table WIDTH NAME FILE [NAME FILE]...: a header, then per side the
# median time and peak RSS, the side's name in a column of WIDTH
side_table() {
	local w=$1

	shift
	printf "%-${w}s %10s %14s\n" side 'time (s)' 'peak RSS (KiB)'
	while [ $# -ge 2 ]; do
		printf "%-${w}s %10s %14s\n" "$1" "$(median "$2" 1)" \
			"$(median "$2" 2)"
		shift 2
	done
}

# ratio_line NAME OURS REF: "ratio ours/NAME: time T, peak RSS M" from the
# medians of the result files OURS and REF (below 1: ours is faster/smaller)
ratio_line() {
	awk -v ot="$(median "$2" 1)" -v rt="$(median "$3" 1)" \
	    -v om="$(median "$2" 2)" -v rm="$(median "$3" 2)" -v s="$1" 'BEGIN {
		printf "ratio ours/%s: time %.2f, peak RSS %.2f\n", s,
		       (rt > 0 ? ot / rt : 0), (rm > 0 ? om / rm : 0) }'
}
