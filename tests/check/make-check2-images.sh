#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build (once) the kernel-made images for tests/check/passes-4-6-7.bats:
# the hard cases of the extent, fs-tree and csum passes that the shared
# image set does not have.
#
# usage: make-check2-images.sh [CACHEDIR]   (default /var/tmp/btrfs-check2-images)
#
#   features.img  subvolume with a few thousand files (multi-level trees),
#                 a snapshot, a snapshot of the snapshot and a snapshot of
#                 the top level, all modified after the snapshots (shared
#                 and FULL_BACKREF blocks, shared data refs); reflinks of
#                 whole and partial files, also of compressed extents;
#                 preallocated extents (inside and past EOF, partly written,
#                 reflinked); a NODATACOW/NODATASUM file; 300 hard links
#                 in one directory (INODE_EXTREF); sparse files; xattrs,
#                 symlinks, fifos and device nodes; then a big snapshot is
#                 deleted and the filesystem unmounted at once, which may
#                 leave it half dropped (drop_progress).
#   orphan.img    a copy taken while frozen: an unlinked file still open
#                 and a directory removed while open (orphan items).
#   noholes.img   without NO_HOLES: hole extents of every origin.
#   halfdrop.img  a snapshot half dropped by the cleaner (drop_progress set;
#                 listed only when a frozen copy caught it in time).
#
# Prints "NAME FILE" lines (also kept in CACHEDIR/manifest).  Needs root, loop devices, kernel btrfs and the
# reference mkfs.btrfs; exits 77 otherwise.  Rebuilt when this script changes.

set -euo pipefail

CACHE=${1:-/var/tmp/btrfs-check2-images}
REF_MKFS=${REF_MKFS:-/sbin/mkfs.btrfs}
REF_BTRFS=${REF_BTRFS:-/bin/btrfs}
PY=/usr/bin/python3
[ -x $PY ] || PY=$(command -v python3)

[ "$(id -u)" = 0 ] || exit 77
[ -x "$REF_MKFS" ] && [ -x "$REF_BTRFS" ] || exit 77
grep -qw btrfs /proc/filesystems || modprobe btrfs 2>/dev/null || true
grep -qw btrfs /proc/filesystems || exit 77

hash=$(sha256sum "${BASH_SOURCE[0]}" | cut -d' ' -f1)
if [ -f "$CACHE/stamp" ] && [ "$(cat "$CACHE/stamp")" = "$hash" ] &&
   [ -f "$CACHE/manifest" ]; then
	cat "$CACHE/manifest"
	exit 0
fi

mkdir -p "$CACHE"
BUILD=$(mktemp -d "$CACHE/build.XXXXXX")
MNT="$BUILD/mnt"
mkdir -p "$MNT"
PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	fsfreeze -u "$MNT" 2>/dev/null || true
	umount "$MNT" 2>/dev/null || true
	rm -rf "$BUILD"
}
trap cleanup EXIT

img="$BUILD/features.img"
truncate -s 1G "$img"
"$REF_MKFS" -q -f -n 4096 "$img" >/dev/null
mount -o loop "$img" "$MNT"

"$REF_BTRFS" -q subvolume create "$MNT/sv" >/dev/null
$PY - "$MNT" <<'PYEOF'
import os, random, sys
m = sys.argv[1]
r = random.Random(4)
sv = m + "/sv"
for d in range(30):
    dp = "%s/d%02d" % (sv, d)
    os.mkdir(dp)
    for f in range(100):
        n = r.choice([0, 10, 100, 3000, 5000, 20000])
        with open("%s/f%03d" % (dp, f), "wb") as fh:
            fh.write(bytes(r.getrandbits(8) for _ in range(n)))
with open(sv + "/big", "wb") as fh:
    fh.write(os.urandom(3 << 20))
# many names for one inode: INODE_REF overflows into INODE_EXTREF
os.mkdir(sv + "/links")
with open(sv + "/links/target", "wb") as fh:
    fh.write(b"x" * 5000)
for i in range(300):
    os.link(sv + "/links/target", sv + "/links/" + ("n%03d_" % i) + "l" * 200)
os.link(sv + "/links/target", sv + "/d00/other_dir_link")
os.symlink("links/target", sv + "/sym")
os.symlink("x" * 1000, sv + "/longsym")
os.mkfifo(sv + "/fifo")
os.mknod(sv + "/chr", 0o20644, os.makedev(1, 3))
os.mknod(sv + "/blk", 0o60644, os.makedev(7, 0))
os.setxattr(sv + "/big", "user.a", b"1" * 100)
os.setxattr(sv + "/d01", "user.dir", b"v")
# sparse files
with open(sv + "/sparse", "wb") as fh:
    fh.seek(1 << 20); fh.write(b"end")
open(sv + "/sparse2", "wb").close()
os.truncate(sv + "/sparse2", 10 << 20)
with open(sv + "/sparse2", "r+b") as fh:
    fh.seek(5 << 20); fh.write(b"mid" * 5000)
PYEOF

# prealloc: inside EOF, past EOF, partly written
fallocate -l 4M "$MNT/sv/prealloc"
dd if=/dev/urandom of="$MNT/sv/prealloc" bs=64K seek=3 count=2 conv=notrunc status=none
printf 'abc' > "$MNT/sv/prealloc_keep"
fallocate -n -o 0 -l 2M "$MNT/sv/prealloc_keep"
cp --reflink=always "$MNT/sv/prealloc" "$MNT/sv/prealloc_clone"
# nodatasum
touch "$MNT/sv/nocow"
chattr +C "$MNT/sv/nocow"
dd if=/dev/urandom of="$MNT/sv/nocow" bs=64K count=8 status=none
# reflinks: whole file, then overwrite a part (partial references)
cp --reflink=always "$MNT/sv/big" "$MNT/sv/big_clone"
dd if=/dev/urandom of="$MNT/sv/big_clone" bs=4K seek=100 count=10 conv=notrunc status=none
sync

# compressed extents and reflinks of them
mount -o remount,compress=zstd "$MNT"
$PY - "$MNT" <<'PYEOF'
import sys
m = sys.argv[1]
with open(m + "/sv/comp", "wb") as fh:
    for i in range(4000):
        fh.write(b"compressible line %08d\n" % i)
with open(m + "/sv/comp_small", "wb") as fh:
    fh.write(b"a" * 3000)
PYEOF
sync
cp --reflink=always "$MNT/sv/comp" "$MNT/sv/comp_clone"
dd if=/dev/zero of="$MNT/sv/comp_clone" bs=4K seek=3 count=2 conv=notrunc status=none
mount -o remount,compress=no "$MNT"
sync

# snapshots, snapshot of snapshot, top-level snapshot; modify all after
"$REF_BTRFS" -q subvolume snapshot "$MNT/sv" "$MNT/snap1" >/dev/null
"$REF_BTRFS" -q subvolume snapshot "$MNT/snap1" "$MNT/snap2" >/dev/null
"$REF_BTRFS" -q subvolume snapshot -r "$MNT/sv" "$MNT/snap_ro" >/dev/null
"$REF_BTRFS" -q subvolume snapshot "$MNT/sv" "$MNT/snap_doomed" >/dev/null
"$REF_BTRFS" -q subvolume snapshot "$MNT" "$MNT/top_snap" >/dev/null
$PY - "$MNT" <<'PYEOF'
import os, sys
m = sys.argv[1]
for sub in ("sv", "snap1", "snap2", "snap_doomed"):
    for d in range(0, 30, 3):
        dp = "%s/%s/d%02d" % (m, sub, d)
        for f in range(0, 100, 7):
            with open("%s/f%03d" % (dp, f), "ab") as fh:
                fh.write(sub.encode() * 50)
        os.rename(dp + "/f001", dp + "/renamed_f001")
        os.unlink(dp + "/f002")
    with open(m + "/" + sub + "/big", "r+b") as fh:
        fh.seek(1 << 20); fh.write(b"z" * 8192)
PYEOF
sync
mkdir "$MNT/top_dir"
cp --reflink=always "$MNT/sv/big" "$MNT/top_dir/big_from_sv"
sync

# orphans: take a frozen copy while an unlinked file and dir are open
$PY - "$MNT" <<'PYEOF' &
import os, sys, time
m = sys.argv[1]
f = open(m + "/sv/unlinked", "wb")
f.write(os.urandom(100000)); f.flush(); os.fsync(f.fileno())
os.mkdir(m + "/sv/gone_dir")
dfd = os.open(m + "/sv/gone_dir", os.O_RDONLY)
os.unlink(m + "/sv/unlinked")
os.rmdir(m + "/sv/gone_dir")
open(m + "/ready", "w").close()
time.sleep(60)
PYEOF
PIDS+=($!)
for _ in $(seq 100); do [ -f "$MNT/ready" ] && break; sleep 0.1; done
[ -f "$MNT/ready" ] || { echo "orphan helper did not start" >&2; exit 1; }
rm -f "$MNT/ready"
sync
fsfreeze -f "$MNT"
cp --sparse=always "$img" "$BUILD/orphan.img"
fsfreeze -u "$MNT"
kill "${PIDS[0]}" 2>/dev/null || true
wait "${PIDS[0]}" 2>/dev/null || true
PIDS=()

# delete a big snapshot and unmount at once: possibly half dropped
"$REF_BTRFS" -q subvolume delete "$MNT/snap_doomed" >/dev/null
umount "$MNT"


# without NO_HOLES: holes from truncate, sparse writes, fallocate -n past
# EOF, an inline file grown by truncate
img="$BUILD/noholes.img"
truncate -s 512M "$img"
"$REF_MKFS" -q -f -O ^no-holes "$img" >/dev/null
mount -o loop "$img" "$MNT"
printf 'abcdef' > "$MNT/inline_grown"
truncate -s 1M "$MNT/inline_grown"
dd if=/dev/urandom of="$MNT/f" bs=64K count=4 status=none
fallocate -n -o 10M -l 1M "$MNT/f"
fallocate -n -o 5M -l 1M "$MNT/f"
truncate -s 200K "$MNT/t"
dd if=/dev/urandom of="$MNT/t" bs=4K seek=100 count=1 conv=notrunc status=none
printf 'x' > "$MNT/small"
fallocate -n -o 1M -l 64K "$MNT/small"
cp --reflink=always "$MNT/f" "$MNT/f_clone"
umount "$MNT"

# a snapshot caught while the cleaner drops it: 100k inodes in 4 KiB
# nodes, every leaf of the snapshot unshared, commit=1 so that the cleaner
# starts soon; freeze repeatedly until the root item shows drop_progress
img="$BUILD/halfdrop-live.img"
truncate -s 2G "$img"
"$REF_MKFS" -q -f -n 4096 "$img" >/dev/null
mount -o loop,commit=1 "$img" "$MNT"
"$REF_BTRFS" -q subvolume create "$MNT/sv" >/dev/null
$PY - "$MNT" <<'PYEOF'
import os, sys
sv = sys.argv[1] + "/sv"
for d in range(100):
    os.mkdir("%s/d%02d" % (sv, d))
    for f in range(1000):
        with open("%s/d%02d/f%03d" % (sv, d, f), "wb") as fh:
            fh.write(b"x" * 100)
PYEOF
got=0
for attempt in 1 2 3; do
	"$REF_BTRFS" -q subvolume snapshot "$MNT/sv" "$MNT/doomed$attempt" >/dev/null
	$PY - "$MNT/doomed$attempt" <<'PYEOF'
import os, sys
for d in range(100):
    for f in range(1000):
        os.utime("%s/d%02d/f%03d" % (sys.argv[1], d, f))
PYEOF
	sync
	"$REF_BTRFS" -q subvolume delete "$MNT/doomed$attempt" >/dev/null
	for _ in $(seq 300); do
		fsfreeze -f "$MNT"
		if "$REF_BTRFS" inspect-internal dump-tree -t root "$img" |
		   grep "drop_progress" | grep -qv "(0 UNKNOWN.0 0)"; then
			cp --sparse=always "$img" "$BUILD/halfdrop.img"
			got=1
		fi
		fsfreeze -u "$MNT"
		[ $got = 1 ] && break
	done
	[ $got = 1 ] && break
	"$REF_BTRFS" -q subvolume sync "$MNT" >/dev/null 2>&1 || true
done
umount "$MNT"
rm -f "$img"

{
	echo "features $CACHE/features.img"
	echo "orphan $CACHE/orphan.img"
	echo "noholes $CACHE/noholes.img"
	[ $got = 1 ] && echo "halfdrop $CACHE/halfdrop.img"
} > "$BUILD/manifest"
rm -f "$CACHE/halfdrop.img"
mv "$BUILD"/*.img "$BUILD/manifest" "$CACHE/"
echo "$hash" > "$CACHE/stamp"
cat "$CACHE/manifest"
