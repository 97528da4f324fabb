#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Demo, as root on Debian 12: install the dependencies, build, let the
# kernel write a real filesystem, and look at it with our tools.
#
#   1. a 512MiB image file, formatted by our mkfs.btrfs (its summary
#      printed) and checked at once by the reference `btrfs check`;
#   2. loop-mounted and filled with files, directories, links, holes,
#      compressed data and a snapshot (tests/helpers/fill.py), unmounted;
#   3. checked by the reference `btrfs check` and by ours;
#   4. its files restored by our `btrfs restore` and compared with what the
#      kernel shows when it mounts the image;
#   5. printed by our `btrfs inspect-internal dump-super -f` and `dump-tree`,
#      and both outputs compared with the reference tool's.
#
# Outputs are kept in demo-output/ of the build tree. Exit status 0 when our
# tools succeeded, restored every file exactly and printed exactly what the
# reference printed.
set -euo pipefail

TOP_SRCDIR=$(cd "$(dirname "$0")/.." && pwd)
# a plain build of its own, apart from the sanitizer build of the tests
BUILD=${DEMO_BUILD:-$TOP_SRCDIR/build}
OUT=${DEMO_OUT:-$TOP_SRCDIR/demo-output}
REF_BTRFS=/bin/btrfs
export TZ=UTC LC_ALL=C

work=
mnt=
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
	if [ -n "$mnt" ] && mountpoint -q "$mnt"; then
		umount "$mnt"
	fi
	if [ -n "$work" ]; then
		rm -rf "$work"
	fi
}
trap cleanup EXIT

say() {
	printf '\n=== %s\n' "$*"
}

build() {
	say "building"
	"$TOP_SRCDIR/tests/configure-build.sh" "$BUILD"
	make -C "$BUILD" -j2
}

# make_image IMG: format, mount, fill, unmount
make_image() {
	local img=$1

	say "making a 512MiB filesystem with our mkfs.btrfs"
	truncate -s 512M "$img"
	"$BUILD/mkfs.btrfs" -L demo "$img"
	say "reference btrfs check of the new filesystem"
	"$REF_BTRFS" check "$img"
	mnt=$work/mnt
	mkdir -p "$mnt"
	mount -o loop,compress=zstd "$img" "$mnt"
	say "filling it through the kernel (tests/helpers/fill.py, zstd compression)"
	python3 "$TOP_SRCDIR/tests/helpers/fill.py" basic "$mnt" --seed 1
	python3 "$TOP_SRCDIR/tests/helpers/fill.py" compress "$mnt" --seed 2 --tag zstd
	"$REF_BTRFS" subvolume create "$mnt/subvol"
	python3 "$TOP_SRCDIR/tests/helpers/fill.py" compress "$mnt/subvol" --seed 3
	"$REF_BTRFS" subvolume snapshot -r "$mnt/subvol" "$mnt/snap"
	du -sh --apparent-size "$mnt"
	umount "$mnt"
}

# compare NAME ARGS...: run ours and the reference with ARGS, diff outputs
compare() {
	local name=$1 rc=0

	shift
	# the version banner (dump-tree's first line) names each tool: drop it
	"$BUILD/btrfs" "$@" 2>&1 >"$OUT/$name.ours" || rc=$?
	"$REF_BTRFS" "$@" 2>&1 >"$OUT/$name.reference" || true
	sed -i -E '1{/^btrfs-(progs|tools) v[0-9][^ ]*$/d}' \
		"$OUT/$name.ours" "$OUT/$name.reference"
	if [ "$rc" != 0 ]; then
		echo "our btrfs $* failed with exit status $rc"
		return 1
	fi
	if ! diff -u "$OUT/$name.reference" "$OUT/$name.ours" >"$OUT/$name.diff"; then
		echo "$name: differs from the reference, see $OUT/$name.diff"
		return 1
	fi
	echo "$name: $(wc -l <"$OUT/$name.ours") lines, identical to the reference"
}

main() {
	local img status=0

	if [ "$(id -u)" != 0 ]; then
		echo "demo.sh needs root (loop mount)" >&2
		exit 1
	fi
	"$TOP_SRCDIR/tests/install-deps.sh"
	build
	work=$(mktemp -d /tmp/btrfs-demo.XXXXXX)
	img=$work/demo.img
	mkdir -p "$OUT"
	make_image "$img"

	say "reference btrfs check"
	"$REF_BTRFS" check "$img"

	say "our btrfs check"
	"$BUILD/btrfs" check "$img" || status=1

	say "our btrfs restore, compared with the files the kernel wrote"
	rm -rf "$OUT/restored"
	mkdir -p "$OUT/restored"
	"$BUILD/btrfs" restore -m -s -S "$img" "$OUT/restored" || status=1
	mount -o ro,loop "$img" "$mnt"
	python3 "$TOP_SRCDIR/tests/helpers/manifest.py" --meta "$mnt" \
		>"$OUT/restore.kernel"
	umount "$mnt"
	python3 "$TOP_SRCDIR/tests/helpers/manifest.py" --meta "$OUT/restored" \
		>"$OUT/restore.ours"
	# path, type, size, sha256, link target, hard links, mode, owner, mtime
	if diff -u "$OUT/restore.kernel" "$OUT/restore.ours" >"$OUT/restore.diff"; then
		echo "restore: every file identical to the mounted filesystem's"
	else
		echo "restore: differs, see $OUT/restore.diff"
		status=1
	fi

	say "our btrfs inspect-internal dump-super -f"
	"$BUILD/btrfs" inspect-internal dump-super -f "$img"

	say "our btrfs inspect-internal dump-tree (first 60 lines)"
	"$BUILD/btrfs" inspect-internal dump-tree "$img" | head -n 60 || true

	say "comparing with the reference tool"
	compare dump-super inspect-internal dump-super -f "$img" || status=1
	compare dump-tree inspect-internal dump-tree "$img" || status=1
	echo "outputs are in $OUT"
	exit "$status"
}

main "$@"
