#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
#   tests/configure-build.sh DIR [CONFIGURE-OPTIONS...]
#
# Make DIR an out-of-tree build of this source tree configured with
# CONFIGURE-OPTIONS, reconfiguring when it was configured with other
# options (so that a sanitizer build and a plain one never share objects).
# An in-tree configuration blocks out-of-tree builds: it is cleaned first
# (make distclean), with a message.
set -euo pipefail

TOP_SRCDIR=$(cd "$(dirname "$0")/.." && pwd)
dir=$1
shift
want="$*"

cd "$TOP_SRCDIR"
if [ ! -x configure ]; then
	./autogen.sh
fi
if [ -f config.status ]; then
	echo "configure-build: cleaning the in-tree build (make distclean) for the build in $dir"
	make distclean >/dev/null
fi
mkdir -p "$dir"
cd "$dir"
if [ -f Makefile ] && [ -f .configure-options ] &&
   [ "$(cat .configure-options)" = "$want" ] &&
   [ ! "$TOP_SRCDIR/configure" -nt Makefile ]; then
	exit 0
fi
if [ -f Makefile ]; then
	make distclean >/dev/null 2>&1 || true
fi
"$TOP_SRCDIR/configure" "$@"
echo "$want" > .configure-options
