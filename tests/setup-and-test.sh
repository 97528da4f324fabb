#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# From a fresh Debian 12 checkout to test results, as root: install the
# dependencies, build with AddressSanitizer and UndefinedBehaviorSanitizer
# in a build directory of its own (build-sanitize/, or $SANITIZE_BUILD), so
# that a plain build left by the demo is never reused, and run every test
# with EXPECT_SANITIZERS=1: the runner fails when the programs it runs are
# not sanitized. Arguments are passed to tests/run-tests.sh (a subset).
#
# The last line printed is always "N passed, N failed, N skipped"; a failed
# set-up step counts as one failure. Exit status: 0 only if nothing failed.
set -u -o pipefail

cd "$(dirname "$0")/.." || exit 1

# step NAME COMMAND...: run one set-up step, or end with the summary line
step() {
	local name=$1

	shift
	echo "=== $name: $*"
	if ! "$@"; then
		echo "ERROR: set-up step '$name' failed: $*" >&2
		echo "0 passed, 1 failed, 0 skipped"
		exit 1
	fi
}

BUILD=${SANITIZE_BUILD:-$PWD/build-sanitize}

step deps tests/install-deps.sh
step configure tests/configure-build.sh "$BUILD" --enable-sanitizers
step build make -C "$BUILD" -j2
echo "=== tests"
TOP_BUILDDIR=$BUILD EXPECT_SANITIZERS=1 exec tests/run-tests.sh "$@"
