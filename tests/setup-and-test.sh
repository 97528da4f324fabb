#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# From a fresh Debian 12 checkout to test results, as root: install the
# dependencies, build in the source tree with AddressSanitizer and
# UndefinedBehaviorSanitizer, run every test. Arguments are passed to
# tests/run-tests.sh (to run a subset).
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

step deps tests/install-deps.sh
step autogen ./autogen.sh
step configure ./configure --enable-sanitizers
step build make -j2
echo "=== tests"
exec tests/run-tests.sh "$@"
