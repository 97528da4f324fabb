#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Run the test suite and print one closing line "N passed, N failed, N skipped".
#
#   tests/run-tests.sh [-v] [FILE|DIR...]
#
# Without arguments: every unit test program tests/unit/test-* of the build
# tree, then every tests/*/*.bats of the source tree. With arguments: only
# those (a .bats file, a test program, or a directory holding them).
# -v prints every TAP stream in full, not only the failures.
#
# Every file must produce a well-formed TAP stream: a plan, as many results
# as planned, and an exit status of 0 unless a test failed. Anything else (a
# crash, a sanitizer report, a timeout) counts as one more failure.
#
# Environment: TOP_BUILDDIR (default: the source tree, i.e. an in-tree
# build), TEST_TIMEOUT seconds per file (default 3600), TEST_LOG_DIR where the
# TAP logs are kept (default $TOP_BUILDDIR/tests/logs), EXPECT_SANITIZERS=1
# to fail (one failure per program) when a program of the build is not
# linked with AddressSanitizer and UBSan.
# Exported to the tests: TOP_SRCDIR, TOP_BUILDDIR, BTRFS_BIN.
#
# Exit status: 0 if nothing failed, 1 otherwise.

set -u -o pipefail

TOP_SRCDIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TOP_BUILDDIR=$(cd "${TOP_BUILDDIR:-$TOP_SRCDIR}" && pwd)
BTRFS_BIN=$TOP_BUILDDIR/btrfs
export TOP_SRCDIR TOP_BUILDDIR BTRFS_BIN
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}

TEST_TIMEOUT=${TEST_TIMEOUT:-3600}
LOG_DIR=${TEST_LOG_DIR:-$TOP_BUILDDIR/tests/logs}
VERBOSE=0
MAX_REPORT_LINES=200

total_pass=0
total_fail=0
total_skip=0

# unit_tests: the test programs of the build tree, one per line
unit_tests() {
	find "$TOP_BUILDDIR/tests/unit" -maxdepth 1 -type f -name 'test-*' \
		! -name '*.*' -perm -u+x 2>/dev/null | sort
}

# bats_files DIR: the .bats files directly in the subdirectories of DIR
bats_files() {
	find "$1" -mindepth 2 -maxdepth 2 -type f -name '*.bats' | sort
}

# files_in DIR: what to run for a directory given on the command line
files_in() {
	find "$1" -maxdepth 1 -type f \( -name '*.bats' -o \
		\( -name 'test-*' ! -name '*.*' -perm -u+x \) \) | sort
}

# display_name FILE: FILE relative to the source or build tree
display_name() {
	local f=$1

	f=${f#"$TOP_BUILDDIR"/}
	echo "${f#"$TOP_SRCDIR"/}"
}

# run_file FILE LOG: run one test file, TAP to LOG; prints its exit status
run_file() {
	local file=$1 log=$2 rc=0

	if [[ $file == *.bats ]]; then
		if ! command -v bats >/dev/null; then
			echo "Bail out! bats is not installed" >"$log"
			echo 127
			return
		fi
		(cd "$TOP_SRCDIR" && timeout "$TEST_TIMEOUT" bats --tap "$file") \
			>"$log" 2>&1 </dev/null || rc=$?
	else
		(cd "$TOP_BUILDDIR" && timeout "$TEST_TIMEOUT" "$file") \
			>"$log" 2>&1 </dev/null || rc=$?
	fi
	echo "$rc"
}

# parse_tap LOG: prints "PLANNED RESULTS PASS FAIL SKIP BAILED"
# (PLANNED is -1 without a plan). "# skip" / "# SKIP" after ok is a skip;
# a "not ok ... # TODO" is an expected failure and counts as a skip.
parse_tap() {
	awk '
	BEGIN { planned = -1; n = 0; pass = 0; fail = 0; skip = 0; bail = 0 }
	/^1\.\.[0-9]+/ && planned < 0 { planned = substr($1, 4) + 0; next }
	/^ok([ \t]|$)/ {
		n++
		if (tolower($0) ~ /#[ \t]*skip/) skip++; else pass++
		next
	}
	/^not ok([ \t]|$)/ {
		n++
		if (tolower($0) ~ /#[ \t]*todo/) skip++; else fail++
		next
	}
	/^Bail out!/ { bail = 1 }
	END { print planned, n, pass, fail, skip, bail }
	' "$1"
}

# print_failures LOG: the failed results with their diagnostics
print_failures() {
	awk '
	/^not ok/ && tolower($0) !~ /#[ \t]*todo/ { show = 1; print "    " $0; next }
	/^(ok|not ok)([ \t]|$)/ { show = 0; next }
	show && /^#/ { print "    " $0 }
	' "$1" | head -n "$MAX_REPORT_LINES"
}

# print_skips LOG: the skipped results, reasons included
print_skips() {
	awk 'tolower($0) ~ /^ok.*#[ \t]*skip/ { print "    " $0 }' "$1" |
		head -n "$MAX_REPORT_LINES"
}

# broken_reason PLANNED RESULTS FAIL BAILED RC: why the stream is not
# trustworthy, or nothing when it is fine
broken_reason() {
	local planned=$1 results=$2 fail=$3 bailed=$4 rc=$5

	if [ "$bailed" = 1 ]; then
		echo "bailed out"
	elif [ "$rc" = 124 ]; then
		echo "timed out after ${TEST_TIMEOUT}s"
	elif [ "$planned" -lt 0 ]; then
		echo "no TAP plan (exit status $rc)"
	elif [ "$planned" != "$results" ]; then
		echo "planned $planned tests, got $results results (exit status $rc)"
	elif [ "$rc" != 0 ] && [ "$fail" = 0 ]; then
		echo "exit status $rc without a failed test (crash or sanitizer report?)"
	fi
}

# report_file FILE: run FILE, print its summary, add to the totals
report_file() {
	local file=$1 name log rc planned results pass fail skip bailed broken

	name=$(display_name "$file")
	log=$LOG_DIR/$(echo "$name" | tr '/' '_').log
	rc=$(run_file "$file" "$log")
	read -r planned results pass fail skip bailed < <(parse_tap "$log")
	broken=$(broken_reason "$planned" "$results" "$fail" "$bailed" "$rc")
	[ -n "$broken" ] && fail=$((fail + 1))

	if [ "$fail" = 0 ]; then
		echo "PASS $name: $pass passed, $fail failed, $skip skipped"
	else
		echo "FAIL $name: $pass passed, $fail failed, $skip skipped"
	fi
	print_skips "$log"
	print_failures "$log"
	if [ -n "$broken" ]; then
		echo "    broken TAP stream: $broken; last lines of $log:"
		tail -n 30 "$log" | sed 's/^/    | /'
	fi
	if [ "$VERBOSE" = 1 ]; then
		sed 's/^/    | /' "$log"
	fi

	total_pass=$((total_pass + pass))
	total_fail=$((total_fail + fail))
	total_skip=$((total_skip + skip))
}

# collect ARGS...: the files to run, one per line
collect() {
	local arg

	if [ $# = 0 ]; then
		unit_tests
		bats_files "$TOP_SRCDIR/tests"
		return
	fi
	for arg in "$@"; do
		if [ -d "$arg" ]; then
			files_in "$(cd "$arg" && pwd)"
		elif [ -e "$arg" ]; then
			echo "$(cd "$(dirname "$arg")" && pwd)/$(basename "$arg")"
		else
			echo "missing:$arg"
		fi
	done
}

# check_sanitized: with EXPECT_SANITIZERS=1, every program of the build
# must carry ASan and UBSan; each one that does not is a failure
check_sanitized() {
	local prog progs=() bad=0 libs

	[ "${EXPECT_SANITIZERS:-0}" = 1 ] || return 0
	progs=("$TOP_BUILDDIR/btrfs" "$TOP_BUILDDIR/mkfs.btrfs"
	       "$TOP_BUILDDIR/tests/tools/btrfs-corrupt")
	mapfile -t -O ${#progs[@]} progs < <(unit_tests)
	for prog in "${progs[@]}"; do
		# whole output first: grep -q closing the pipe early would make
		# ldd die of SIGPIPE, a failure under pipefail
		libs=$(ldd "$prog" 2>/dev/null || true)
		if [ ! -x "$prog" ]; then
			echo "FAIL sanitizers: $(display_name "$prog") is missing"
			bad=$((bad + 1))
		elif [[ $libs != *libasan.* || $libs != *libubsan.* ]]; then
			echo "FAIL sanitizers: $(display_name "$prog") is not built with AddressSanitizer and UBSan (TOP_BUILDDIR=$TOP_BUILDDIR)"
			bad=$((bad + 1))
		fi
	done
	if [ "$bad" = 0 ]; then
		echo "PASS sanitizers: ${#progs[@]} programs carry ASan and UBSan"
		total_pass=$((total_pass + 1))
	fi
	total_fail=$((total_fail + bad))
}

main() {
	local file files=()

	if [ "${1:-}" = "-v" ]; then
		VERBOSE=1
		shift
	fi
	mkdir -p "$LOG_DIR"
	check_sanitized
	mapfile -t files < <(collect "$@")
	if [ ${#files[@]} = 0 ]; then
		echo "no tests found (is the tree built? TOP_BUILDDIR=$TOP_BUILDDIR)"
		total_fail=1
	fi
	for file in "${files[@]}"; do
		if [[ $file == missing:* ]]; then
			echo "FAIL ${file#missing:}: no such file"
			total_fail=$((total_fail + 1))
			continue
		fi
		report_file "$file"
	done
	echo "$total_pass passed, $total_fail failed, $total_skip skipped"
	[ "$total_fail" = 0 ]
}

main "$@"
