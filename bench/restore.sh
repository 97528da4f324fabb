#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# btrfs restore speed and memory, ours against the reference, on one
# data-heavy kernel-made image.  Not part of the test suite.
#
# Usage: bench/restore.sh [IMAGE]
#
#   IMAGE       the image to restore (default: $BENCH_IMG, else
#               /var/tmp/btrfs-bench/restore.img).  If it does not exist (or
#               its build did not finish) it is built first, which needs
#               root, loop mounts and the kernel's btrfs: a sparse file,
#               reference mkfs.btrfs, then through the kernel with a fixed
#               seed: directory "plain" with DATA_MB MiB of incompressible
#               files (1..64 MiB each, plus a few hundred small ones), and,
#               mounted with compress-force=zstd, directory "zstd" with
#               DATA_MB MiB of compressible text.  Later runs reuse it.
#
# Environment:
#   BTRFS_BIN   our btrfs (default: ./btrfs at the top of the tree); use a
#               build without sanitizers
#   REF_BIN     the reference btrfs (default: /bin/btrfs)
#   RUNS        timed runs of each side (default 5); they alternate
#   DATA_MB     MiB of each half in a newly built image (default 1024)
#   OUT_DIR     where the files are restored (default: a directory next
#               to the image; emptied before every run)
#   RESTORE_ARGS extra restore options for both sides (e.g. "-m -x")
#
# Prints, for each side, the median wall time (s) and median peak RSS (KiB)
# over the runs, then the ratios ours/reference (below 1 means ours is
# faster or smaller).  Before timing, both restores are compared: the two
# output trees must hold the same files with the same contents.

set -u

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
img=${1:-${BENCH_IMG:-/var/tmp/btrfs-bench/restore.img}}
ours=${BTRFS_BIN:-$top/btrfs}
ref=${REF_BIN:-/bin/btrfs}
runs=${RUNS:-5}
data_mb=${DATA_MB:-1024}
out=${OUT_DIR:-$(dirname "$img")/restore-out}
ref_mkfs=/sbin/mkfs.btrfs

# shellcheck source=bench/lib.sh
. "$top/bench/lib.sh"

# Incompressible files in $1/plain: $2 MiB in all.
populate_plain() {
	python3 - "$1/plain" "$2" <<'EOF'
import os, random, sys

top, total = sys.argv[1], int(sys.argv[2]) << 20
rnd = random.Random(20261123)
os.mkdir(top)
for i in range(300):
    with open(os.path.join(top, "small%03d" % i), "wb") as f:
        f.write(rnd.randbytes(rnd.randint(1, 9000)))
done, i = 0, 0
while done < total:
    size = min(total - done, rnd.randint(1, 64) << 20)
    with open(os.path.join(top, "big%03d" % i), "wb") as f:
        left = size
        while left:
            n = min(left, 4 << 20)
            f.write(rnd.randbytes(n))
            left -= n
    done += size
    i += 1
EOF
}

# Compressible text in $1/zstd: $2 MiB in all.
populate_text() {
	python3 - "$1/zstd" "$2" <<'EOF'
import os, random, sys

top, total = sys.argv[1], int(sys.argv[2]) << 20
rnd = random.Random(11232026)
words = [bytes(rnd.choice(b"abcdefghijklmnopqrstuvwxyz")
               for _ in range(rnd.randint(2, 9))) for _ in range(5000)]
os.mkdir(top)

def text(n):
    out = bytearray()
    while len(out) < n:
        out += b" ".join(rnd.choices(words, k=16)) + b"\n"
    return bytes(out[:n])

done, i = 0, 0
while done < total:
    size = min(total - done, rnd.randint(1, 32) << 20)
    block = text(1 << 20)
    with open(os.path.join(top, "text%03d" % i), "wb") as f:
        left = size
        while left:
            n = min(left, len(block))
            f.write(block[:n])
            left -= n
            block = block[4096:] + block[:4096]
    done += size
    i += 1
EOF
}

build_image() {
	local mnt

	[ "$(id -u)" = 0 ] || die "building $img needs root (loop mount)"
	[ -x "$ref_mkfs" ] || die "$ref_mkfs is needed to build $img"
	mkdir -p "$(dirname "$img")"
	rm -f "$img" "$img.done"
	truncate -s $((data_mb * 4 + 1024))M "$img"
	"$ref_mkfs" -q -f "$img" >/dev/null
	mnt=$(mktemp -d)
	mount -o loop "$img" "$mnt" || die "cannot mount $img"
	if ! populate_plain "$mnt" "$data_mb" ||
	   ! mount -o remount,compress-force=zstd "$mnt" ||
	   ! populate_text "$mnt" "$data_mb"; then
		umount "$mnt"
		rmdir "$mnt"
		die "populating $img failed"
	fi
	umount "$mnt"
	rmdir "$mnt"
	touch "$img.done"
}

# fresh_out: an empty output directory
fresh_out() {
	rm -rf "$out"
	mkdir -p "$out"
}

# One timed run: appends "seconds kib" of "$@" to file $1.
timed() {
	local res=$1

	shift
	fresh_out
	# shellcheck disable=SC2086 # RESTORE_ARGS is a list of words
	timed_run "$res" "$@" restore $RESTORE_ARGS "$img" "$out"
}

report() {
	side_table 10 ours "$1" reference "$2"
	ratio_line reference "$1" "$2"
}

# Both sides must restore the same files: compare content checksums.
cross_check() {
	local a b

	fresh_out
	"$ref" restore "$img" "$out" >/dev/null 2>&1 || die "reference restore failed"
	a=$(cd "$out" && find . -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum)
	fresh_out
	"$ours" restore "$img" "$out" >/dev/null 2>&1 || die "our restore failed"
	b=$(cd "$out" && find . -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum)
	[ "$a" = "$b" ] || die "the two restores differ"
	echo "cross-check: both restores hold the same files and contents"
}

main() {
	# results is global: the EXIT trap runs after main returns

	RESTORE_ARGS=${RESTORE_ARGS:-}
	require_timer
	[ -x "$ours" ] || die "no $ours; set BTRFS_BIN"
	[ -x "$ref" ] || die "no reference $ref"
	if [ ! -f "$img.done" ]; then
		echo "building $img (once; reused afterwards)"
		build_image
	fi
	results=$(mktemp -d)
	trap 'rm -rf "$results" "$out"' EXIT
	echo "image: $img ($(du -h "$img" | cut -f1) allocated)"
	echo "ours: $ours  reference: $ref  runs: $runs  args: ${RESTORE_ARGS:-none}"
	cross_check
	timed "$results/warm" "$ref"
	for ((i = 0; i < runs; i++)); do
		timed "$results/ours" "$ours"
		timed "$results/ref" "$ref"
	done
	report "$results/ours" "$results/ref"
}

main
