#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# dump-tree speed and memory, ours against the reference, on one large
# kernel-made image.  Not part of the test suite.
#
# Usage: bench/dump-tree.sh [IMAGE]
#
#   IMAGE       the image to dump (default: $BENCH_IMG, else
#               /var/tmp/btrfs-bench/dump-tree.img).  If it does not exist
#               (or its build did not finish) it is built first, which needs
#               root, loop mounts and the kernel's btrfs: an 8 GiB sparse file,
#               reference mkfs.btrfs, ~300k small files and a few snapshots
#               written through the kernel with a fixed seed.  Later runs
#               reuse it.
#
# Environment:
#   BTRFS_BIN   our btrfs (default: ./btrfs at the top of the tree)
#   REF_BIN     the reference btrfs (default: /bin/btrfs)
#   RUNS        timed runs of each side (default 5); they alternate
#   DUMP_ARGS   extra dump-tree arguments for both sides (e.g. "-t 5")
#   NFILES      files in a newly built image (default 300000)
#
# Prints, for each side, the median wall time (s) and median peak RSS (KiB)
# over the runs, then the ratios ours/reference (below 1 means ours is
# faster or smaller).
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
img=${1:-${BENCH_IMG:-/var/tmp/btrfs-bench/dump-tree.img}}
ours=${BTRFS_BIN:-$top/btrfs}
ref=${REF_BIN:-/bin/btrfs}
runs=${RUNS:-5}
nfiles=${NFILES:-300000}
ref_mkfs=/sbin/mkfs.btrfs

# shellcheck source=bench/lib.sh
. "$top/bench/lib.sh"

# Writes the tree into mount point $1 with the kernel: subvolume "data"
# with most files, subvolume "small" snapshotted twice with changes between.
populate() {
	python3 - "$1" "$nfiles" "$ref" <<'EOF'
import os, random, subprocess, sys

mnt, nfiles, ref = sys.argv[1], int(sys.argv[2]), sys.argv[3]
rnd = random.Random(20240611)
alnum = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-."

def name():
    return "".join(rnd.choice(alnum) for _ in range(rnd.randint(4, 40)))

def size():
    r = rnd.random()
    if r < 0.30:
        return 0
    if r < 0.85:
        return rnd.randint(1, 2048)          # inline extents
    if r < 0.995:
        return rnd.randint(4096, 16384)      # regular extents, data csums
    return rnd.randint(65536, 131072)

def write_file(path, n):
    fd = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o644)
    if n:
        os.write(fd, rnd.randbytes(n))
    os.close(fd)

def extras(path, dirpath):
    r = rnd.random()
    try:
        if r < 0.05:
            os.setxattr(path, "user.bench",
                        rnd.randbytes(rnd.randint(1, 200)))
        elif r < 0.07:
            os.symlink(name() * 2, os.path.join(dirpath, "l-" + name()))
        elif r < 0.08:
            os.link(path, os.path.join(dirpath, "h-" + name()))
    except FileExistsError:
        pass

def fill(top, count, per_dir):
    made, d = 0, 0
    while made < count:
        dirpath = os.path.join(top, "d%05d" % d)
        os.mkdir(dirpath)
        for _ in range(min(per_dir, count - made)):
            path = os.path.join(dirpath, name())
            if os.path.exists(path):
                continue
            write_file(path, size())
            extras(path, dirpath)
            made += 1
        d += 1

def churn(top, fraction):
    for dirpath, _, files in os.walk(top):
        for f in files:
            p = os.path.join(dirpath, f)
            if rnd.random() < fraction and not os.path.islink(p):
                write_file(p, size())

def btrfs(*args):
    subprocess.run([ref, *args], check=True, stdout=subprocess.DEVNULL)

btrfs("subvolume", "create", os.path.join(mnt, "data"))
btrfs("subvolume", "create", os.path.join(mnt, "small"))
small = nfiles // 6
fill(os.path.join(mnt, "data"), nfiles - small, 1000)
big = min(20000, nfiles // 15)
fill(os.path.join(mnt, "data", "d00000"), big, big)   # one big directory
fill(os.path.join(mnt, "small"), small, 500)
for i in range(2):
    os.sync()
    btrfs("subvolume", "snapshot", os.path.join(mnt, "small"),
          os.path.join(mnt, "snap%d" % i))
    churn(os.path.join(mnt, "small"), 0.1)
os.sync()
EOF
}

build_image() {
	local mnt

	[ "$(id -u)" = 0 ] || die "building $img needs root (loop mount)"
	[ -x "$ref_mkfs" ] || die "$ref_mkfs is needed to build $img"
	mkdir -p "$(dirname "$img")"
	rm -f "$img" "$img.done"
	truncate -s 8G "$img"
	"$ref_mkfs" -q -f "$img" >/dev/null
	mnt=$(mktemp -d)
	mount -o loop "$img" "$mnt"
	if ! populate "$mnt"; then
		umount "$mnt"
		rmdir "$mnt"
		die "populating $img failed"
	fi
	umount "$mnt"
	rmdir "$mnt"
	touch "$img.done"
}

# One timed run: appends "seconds kib" of "$@" to file $1.
timed() {
	local out=$1

	shift
	# shellcheck disable=SC2086 # DUMP_ARGS is a list of words
	timed_run "$out" "$@" inspect-internal dump-tree $DUMP_ARGS "$img"
}

report() {
	side_table 10 ours "$1" reference "$2"
	ratio_line reference "$1" "$2"
}

main() {
	DUMP_ARGS=${DUMP_ARGS:-}
	require_timer
	[ -x "$ours" ] || die "no $ours; set BTRFS_BIN (BTRFS_BIN=$ref compares the reference with itself)"
	[ -x "$ref" ] || die "no reference $ref"
	if [ ! -f "$img.done" ]; then
		echo "building $img (once; reused afterwards)"
		build_image
	fi
	results=$(mktemp -d)
	trap 'rm -rf "$results"' EXIT
	echo "image: $img ($(du -h "$img" | cut -f1) allocated)"
	echo "ours: $ours  reference: $ref  runs: $runs  args: ${DUMP_ARGS:-none}"
	timed "$results/warm" "$ref"
	for ((i = 0; i < runs; i++)); do
		timed "$results/ours" "$ours"
		timed "$results/ref" "$ref"
	done
	report "$results/ours" "$results/ref"
}

main
