#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Fill a mounted btrfs with deterministic content for the oracle tests.

Usage: fill.py PROFILE MOUNTPOINT [--seed N] [--files N] [--tag T]

Profiles:
  basic     every kind of inode and extent the printers must handle
  compress  compressible and incompressible files (mount with compress=...)
  many      a wide tree of small files (--files N, default 20000)
  log       one write + fsync, leaving a log tree on disk
  quota     data spread over the current directory for qgroup accounting

Everything derives from --seed, so two runs produce the same names,
sizes and bytes (the kernel still picks its own addresses and times).
"""

import argparse
import errno
import fcntl
import os
import random
import struct
import sys

FICLONE = 0x40049409
FICLONERANGE = 0x4020940D
KIB = 1024
MIB = 1024 * KIB


def rand_bytes(rng, size):
    """Incompressible bytes from the seeded generator."""
    return rng.getrandbits(size * 8).to_bytes(size, "little") if size else b""


def text_bytes(rng, size):
    """Compressible bytes: words from a small vocabulary."""
    words = [b"btrfs", b"extent", b"inode", b"chunk", b"tree", b"leaf",
             b"node", b"csum", b"root", b"item", b"key", b"\n"]
    out = bytearray()
    while len(out) < size:
        out += rng.choice(words) + b" "
    return bytes(out[:size])


def write_file(path, data, sync=False):
    with open(path, "wb") as f:
        f.write(data)
        if sync:
            f.flush()
            os.fsync(f.fileno())


def write_in_pieces(path, rng, pieces, piece_size):
    """Several fsync'ed appends: each lands as its own file extent."""
    with open(path, "wb") as f:
        for _ in range(pieces):
            f.write(rand_bytes(rng, piece_size))
            f.flush()
            os.fsync(f.fileno())


def write_at(fd, off, data):
    os.pwrite(fd, data, off)


def clone_file(src, dst):
    with open(src, "rb") as s, open(dst, "wb") as d:
        fcntl.ioctl(d.fileno(), FICLONE, s.fileno())


def clone_range(src, dst, src_off, length, dst_off):
    with open(src, "rb") as s, open(dst, "r+b") as d:
        arg = struct.pack("=qQQQ", s.fileno(), src_off, length, dst_off)
        fcntl.ioctl(d.fileno(), FICLONERANGE, arg)


def posix_acl(uid):
    """A valid POSIX access ACL value (version 2) with a named user."""
    entries = [(0x01, 6, 0xFFFFFFFF), (0x02, 4, uid), (0x04, 4, 0xFFFFFFFF),
               (0x10, 4, 0xFFFFFFFF), (0x20, 4, 0xFFFFFFFF)]
    out = struct.pack("<I", 2)
    for tag, perm, ident in entries:
        out += struct.pack("<HHI", tag, perm, ident)
    return out


def fill_inline(root, rng):
    d = os.path.join(root, "inline")
    os.mkdir(d)
    for i, size in enumerate([0, 1, 17, 100, 1000, 2048, 3000]):
        write_file(os.path.join(d, "small%02d" % i), rand_bytes(rng, size))
    write_file(os.path.join(d, "text"), text_bytes(rng, 1500))


def fill_extents(root, rng):
    d = os.path.join(root, "extents")
    os.mkdir(d)
    write_in_pieces(os.path.join(d, "multi"), rng, 6, 64 * KIB)
    write_in_pieces(os.path.join(d, "big"), rng, 3, 1 * MIB)
    write_file(os.path.join(d, "onepiece"), rand_bytes(rng, 300 * KIB), True)
    # overwrite the middle of a file: the old extent gets partly referenced
    path = os.path.join(d, "overwritten")
    write_file(path, rand_bytes(rng, 512 * KIB), True)
    fd = os.open(path, os.O_WRONLY)
    try:
        write_at(fd, 128 * KIB, rand_bytes(rng, 64 * KIB))
        os.fsync(fd)
        write_at(fd, 300 * KIB + 512, rand_bytes(rng, 5000))
        os.fsync(fd)
    finally:
        os.close(fd)


def fill_sparse(root, rng):
    d = os.path.join(root, "sparse")
    os.mkdir(d)
    fd = os.open(os.path.join(d, "holes"), os.O_CREAT | os.O_WRONLY, 0o644)
    try:
        for off in (0, 256 * KIB, 1 * MIB, 5 * MIB + 4096):
            write_at(fd, off, rand_bytes(rng, 8 * KIB))
        os.ftruncate(fd, 8 * MIB)
        os.fsync(fd)
    finally:
        os.close(fd)
    fd = os.open(os.path.join(d, "tailhole"), os.O_CREAT | os.O_WRONLY, 0o644)
    try:
        write_at(fd, 0, rand_bytes(rng, 4096))
        os.ftruncate(fd, 3 * MIB + 123)
    finally:
        os.close(fd)
    fd = os.open(os.path.join(d, "allhole"), os.O_CREAT | os.O_WRONLY, 0o644)
    os.ftruncate(fd, 2 * MIB)
    os.close(fd)


def fill_prealloc(root, rng):
    d = os.path.join(root, "prealloc")
    os.mkdir(d)
    fd = os.open(os.path.join(d, "fallocated"), os.O_CREAT | os.O_RDWR, 0o644)
    try:
        os.posix_fallocate(fd, 0, 1 * MIB)
        write_at(fd, 128 * KIB, rand_bytes(rng, 16 * KIB))
        os.fsync(fd)
    finally:
        os.close(fd)
    fd = os.open(os.path.join(d, "keepsize"), os.O_CREAT | os.O_RDWR, 0o644)
    try:
        write_at(fd, 0, rand_bytes(rng, 8 * KIB))
        # FALLOC_FL_KEEP_SIZE = 1: prealloc beyond i_size
        if hasattr(os, "fallocate"):
            os.fallocate(fd, 1, 8 * KIB, 256 * KIB)
        os.fsync(fd)
    finally:
        os.close(fd)


def fill_reflinks(root, rng):
    d = os.path.join(root, "reflink")
    os.mkdir(d)
    src = os.path.join(d, "source")
    write_file(src, rand_bytes(rng, 768 * KIB), True)
    clone_file(src, os.path.join(d, "clone"))
    part = os.path.join(d, "partial")
    write_file(part, rand_bytes(rng, 512 * KIB), True)
    clone_range(src, part, 128 * KIB, 256 * KIB, 64 * KIB)
    # a clone inside the same file
    clone_range(src, src, 0, 128 * KIB, 512 * KIB)


def fill_links(root, rng):
    d = os.path.join(root, "links")
    os.mkdir(d)
    target = os.path.join(d, "target")
    write_file(target, rand_bytes(rng, 5000))
    for i in range(5):
        os.link(target, os.path.join(d, "hard%d" % i))
    sub = os.path.join(d, "sub")
    os.mkdir(sub)
    os.link(target, os.path.join(sub, "hard-in-sub"))
    os.symlink("target", os.path.join(d, "sym-short"))
    os.symlink("/" + "x" * 1000, os.path.join(d, "sym-long"))
    os.symlink("does/not/exist", os.path.join(d, "sym-dangling"))


def fill_special(root, rng):
    d = os.path.join(root, "special")
    os.mkdir(d)
    os.mkfifo(os.path.join(d, "fifo"))
    os.mknod(os.path.join(d, "chardev"), 0o600 | 0o020000, os.makedev(1, 3))
    os.mknod(os.path.join(d, "blockdev"), 0o600 | 0o060000, os.makedev(7, 200))
    os.chmod(os.path.join(d, "fifo"), 0o640)
    write_file(os.path.join(d, "setuid"), b"#!/bin/sh\n")
    os.chown(os.path.join(d, "setuid"), 1000, 1000)
    os.chmod(os.path.join(d, "setuid"), 0o4755)
    os.mkdir(os.path.join(d, "sticky"))
    os.chmod(os.path.join(d, "sticky"), 0o1777)


def fill_xattrs(root, rng):
    d = os.path.join(root, "xattr")
    os.mkdir(d)
    path = os.path.join(d, "file")
    write_file(path, b"xattrs\n")
    os.setxattr(path, "user.small", b"v")
    os.setxattr(path, "user.empty", b"")
    os.setxattr(path, "user.binary", rand_bytes(rng, 40))
    os.setxattr(path, "user.large", text_bytes(rng, 2000))
    os.setxattr(path, "trusted.secret", b"trusted value")
    try:
        os.setxattr(path, "system.posix_acl_access", posix_acl(1000))
    except OSError as exc:
        if exc.errno not in (errno.EOPNOTSUPP, errno.EINVAL):
            raise
    os.setxattr(d, "user.on-dir", b"directory value")
    for i in range(20):
        os.setxattr(path, "user.many%02d" % i, rand_bytes(rng, 8))


def fill_names(root, rng):
    d = os.path.join(root, "names")
    os.mkdir(d)
    names = [
        "a" * 255,
        "\u00e9t\u00e9 caf\u00e9",
        "\u65e5\u672c\u8a9e\u306e\u540d\u524d",
        "emoji-\U0001F600",
        "space in name",
        "-leading-dash",
        "quote'\"",
    ]
    for name in names:
        write_file(os.path.join(d, name), name.encode("utf-8", "surrogateescape"))
    # raw bytes that are not UTF-8 and control characters
    for raw in (b"latin1-\xe9\xff", b"ctl-\x01\x1b-tab\t-nl\n", b"\xc3\x28bad"):
        write_file(os.path.join(os.fsencode(d), raw), b"raw name")
    os.mkdir(os.path.join(d, "b" * 200))


def fill_bigdir(root, rng, count):
    d = os.path.join(root, "bigdir")
    os.mkdir(d)
    for i in range(count):
        name = "entry-%05d-%x" % (i, rng.getrandbits(32))
        path = os.path.join(d, name)
        if i % 7 == 0:
            os.mkdir(path)
        else:
            write_file(path, rand_bytes(rng, rng.randrange(0, 64)))


def fill_deletes(root, rng):
    d = os.path.join(root, "deleted")
    os.mkdir(d)
    for i in range(60):
        write_file(os.path.join(d, "f%02d" % i), rand_bytes(rng, 20 * KIB))
    os.sync()
    for i in range(0, 60, 3):
        os.unlink(os.path.join(d, "f%02d" % i))
    path = os.path.join(d, "f01")
    with open(path, "r+b") as f:
        f.truncate(5 * KIB)
    os.rename(os.path.join(d, "f02"), os.path.join(root, "renamed-from-deleted"))


def fill_deep(root, rng):
    path = root
    for i in range(12):
        path = os.path.join(path, "depth%02d" % i)
        os.mkdir(path)
    write_file(os.path.join(path, "bottom"), b"deep\n")


def profile_basic(args, rng):
    root = args.mountpoint
    fill_inline(root, rng)
    fill_extents(root, rng)
    fill_sparse(root, rng)
    fill_prealloc(root, rng)
    fill_reflinks(root, rng)
    fill_links(root, rng)
    fill_special(root, rng)
    fill_xattrs(root, rng)
    fill_names(root, rng)
    fill_deep(root, rng)
    fill_deletes(root, rng)
    fill_bigdir(root, rng, args.files or 3000)
    os.sync()


def profile_compress(args, rng):
    d = os.path.join(args.mountpoint, "compress-" + (args.tag or "x"))
    os.mkdir(d)
    write_file(os.path.join(d, "text-1m"), text_bytes(rng, 1 * MIB), True)
    write_file(os.path.join(d, "text-300k"), text_bytes(rng, 300 * KIB), True)
    write_file(os.path.join(d, "inline-text"), text_bytes(rng, 3000), True)
    write_file(os.path.join(d, "random"), rand_bytes(rng, 200 * KIB), True)
    write_file(os.path.join(d, "zeros"), bytes(512 * KIB), True)
    mixed = text_bytes(rng, 128 * KIB) + rand_bytes(rng, 128 * KIB)
    write_file(os.path.join(d, "mixed"), mixed * 2, True)
    os.sync()


def profile_many(args, rng):
    count = args.files or 20000
    root = os.path.join(args.mountpoint, "many")
    os.mkdir(root)
    per_dir = 500
    for i in range(count):
        if i % per_dir == 0:
            sub = os.path.join(root, "d%03d" % (i // per_dir))
            os.mkdir(sub)
        size = rng.choice((0, 10, 100, 700, 2000, 3000, 5000, 9000))
        write_file(os.path.join(sub, "file-%06d" % i), rand_bytes(rng, size))
    os.sync()


def profile_log(args, rng):
    d = os.path.join(args.mountpoint, "logged")
    os.mkdir(d)
    os.sync()
    write_file(os.path.join(d, "fsynced"), rand_bytes(rng, 100 * KIB), True)
    write_file(os.path.join(d, "small-fsynced"), b"tiny\n", True)
    path = os.path.join(d, "appended")
    write_file(path, rand_bytes(rng, 16 * KIB), True)
    with open(path, "ab") as f:
        f.write(rand_bytes(rng, 8 * KIB))
        f.flush()
        os.fsync(f.fileno())


def profile_quota(args, rng):
    d = args.mountpoint
    for i in range(20):
        write_file(os.path.join(d, "q%02d" % i), rand_bytes(rng, 64 * KIB))
    write_file(os.path.join(d, "qbig"), rand_bytes(rng, 2 * MIB), True)
    os.sync()


PROFILES = {
    "basic": profile_basic,
    "compress": profile_compress,
    "many": profile_many,
    "log": profile_log,
    "quota": profile_quota,
}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("profile", choices=sorted(PROFILES))
    ap.add_argument("mountpoint")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--files", type=int, default=0)
    ap.add_argument("--tag", default="")
    args = ap.parse_args()
    if not os.path.isdir(args.mountpoint):
        sys.exit("fill.py: not a directory: %s" % args.mountpoint)
    PROFILES[args.profile](args, random.Random(args.seed))


if __name__ == "__main__":
    main()
