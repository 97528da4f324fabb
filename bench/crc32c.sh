#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Builds bench/crc32c.c against common/csum.c with the same libraries the
# project links (ISA-L, libgcrypt, libxxhash) and runs it.  Not part of the
# test suite.  Arguments are passed to the benchmark (-r RUNS, -m MSEC).
#
# Environment: CC (default gcc), CFLAGS (default -O2 -march=x86-64, i.e. what
# a distribution build gets: the SSE4.2 code is enabled per function).
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

: "${CC:=gcc}"
: "${CFLAGS:=-O2}"
libs=$(pkg-config --cflags --libs libisal libgcrypt libxxhash)

# shellcheck disable=SC2086 # CFLAGS and libs are word lists
"$CC" -std=gnu11 $CFLAGS -Wall -Wextra -Werror -I"$top" \
	"$top/bench/crc32c.c" "$top/common/csum.c" $libs -lpthread \
	-o "$tmp/crc32c"

echo "cpu: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)"
echo "compiler: $("$CC" --version | head -n1), CFLAGS: $CFLAGS"
"$tmp/crc32c" "$@"
