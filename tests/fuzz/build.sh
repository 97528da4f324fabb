#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build the libFuzzer targets of tests/fuzz/ with clang, ASan and UBSan.
# The engine and common sources are compiled into each target directly
# (libFuzzer needs clang's sanitizer runtime throughout, not gcc's).
#
#   tests/fuzz/build.sh OUTDIR
#
# Exit status: 0 built, 77 clang or its libFuzzer runtime is missing,
# 1 a build error.
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:?usage: build.sh OUTDIR}
CC=${FUZZ_CC:-clang}
mkdir -p "$out"

if ! command -v "$CC" >/dev/null 2>&1; then
	echo "build.sh: $CC not found (Debian package clang)" >&2
	exit 77
fi
probe=$(mktemp -d)
trap 'rm -rf "$probe"' EXIT
printf 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n)\n{ (void)d; (void)n; return 0; }\n' \
	> "$probe/p.c"
if ! "$CC" -fsanitize=fuzzer "$probe/p.c" -o "$probe/p" 2>/dev/null; then
	echo "build.sh: $CC cannot link -fsanitize=fuzzer (Debian package libclang-rt-14-dev)" >&2
	exit 77
fi

pkgs="uuid blkid zlib libzstd lzo2 libxxhash libisal"
# shellcheck disable=SC2086
deps_cflags="$(pkg-config --cflags $pkgs) $(libgcrypt-config --cflags 2>/dev/null || pkg-config --cflags libgcrypt)"
# shellcheck disable=SC2086
deps_libs="$(pkg-config --libs $pkgs) $(libgcrypt-config --libs 2>/dev/null || pkg-config --libs libgcrypt)"
# the engine and common sources the build itself uses
mapfile -t sources < <(grep -oE '(kernel-shared|common)/[A-Za-z0-9_-]+\.c' \
	"$top/Makefile.am" | sort -u | sed "s|^|$top/|")
flags=(-g -O1 -std=gnu11 -fsanitize=fuzzer,address,undefined
	-fno-sanitize-recover=all -I"$top" -D_GNU_SOURCE
	-D_FILE_OFFSET_BITS=64 -DPACKAGE_NAME='"btrfs-tools"'
	-DPACKAGE_VERSION='"fuzz"' -pthread)

for target in "$top"/tests/fuzz/fuzz-*.c; do
	name=$(basename "$target" .c)
	# shellcheck disable=SC2086
	"$CC" "${flags[@]}" $deps_cflags "$target" "${sources[@]}" \
		-o "$out/$name" $deps_libs
	echo "built $out/$name"
done
