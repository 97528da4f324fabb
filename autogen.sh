#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Generate ./configure and Makefile.in from configure.ac and Makefile.am.
# Needs autoconf, automake and pkg-config (for its pkg.m4 macros).
set -e
cd "$(dirname "$0")"
autoreconf --force --install --warnings=all
echo "Now run ./configure (optionally --enable-sanitizers), then make."
