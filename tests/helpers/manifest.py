#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Content manifest of a directory tree, the truth for restore tests.

Usage: manifest.py [--meta] [--xattrs] [--one-fs] [--exclude REL]... DIR

One line per entry below DIR (DIR itself is not listed), sorted by path,
fields separated by tabs:

  path  type  size  sha256  link-target  hardlink-group  [mode uid:gid mtime]
        [xattrs]

- path: relative, with bytes that are not printable ASCII escaped as \\xNN
- type: file, dir, symlink, fifo, socket, chardev, blockdev
- size: bytes for files (else "-"); sha256 of the data for files
- link-target: the symlink target (escaped), else "-"
- hardlink-group: for a non-directory with several names, the first of its
  paths in sort order; "-" otherwise.  Two trees agree when the same names
  share an inode, whatever the inode numbers.
- with --meta: mode (octal, permission bits), uid:gid and mtime in
  nanoseconds (for symlinks too), and the device number for device nodes
- with --xattrs: name=sha256-of-value for each xattr, sorted, comma
  separated ("-" when none)

--one-fs leaves out whatever is on another device than DIR (on btrfs: the
subvolumes and snapshots below DIR, as a restore without -s does).
--exclude REL leaves out REL and everything below it.
"""

import argparse
import hashlib
import os
import stat
import sys


def esc(raw):
    out = []
    for b in raw:
        if 0x21 <= b < 0x7F and b != 0x5C:
            out.append(chr(b))
        else:
            out.append("\\x%02x" % b)
    return "".join(out)


def kind(mode):
    for test, name in ((stat.S_ISREG, "file"), (stat.S_ISDIR, "dir"),
                       (stat.S_ISLNK, "symlink"), (stat.S_ISFIFO, "fifo"),
                       (stat.S_ISSOCK, "socket"), (stat.S_ISCHR, "chardev"),
                       (stat.S_ISBLK, "blockdev")):
        if test(mode):
            return name
    return "unknown"


def sha256_of(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while True:
            block = f.read(1 << 20)
            if not block:
                break
            h.update(block)
    return h.hexdigest()


def xattrs_of(path):
    try:
        names = os.listxattr(path, follow_symlinks=False)
    except OSError:
        return "-"
    items = []
    for name in sorted(names):
        try:
            value = os.getxattr(path, name, follow_symlinks=False)
        except OSError as exc:
            value = ("error:%d" % exc.errno).encode()
        items.append("%s=%s" % (name, hashlib.sha256(value).hexdigest()[:16]))
    return ",".join(items) if items else "-"


def walk(top, one_fs, excludes):
    """Yield (relative bytes path, full bytes path, lstat) below top."""
    top_dev = os.lstat(top).st_dev
    stack = [b""]
    while stack:
        rel = stack.pop()
        full = os.path.join(top, rel) if rel else top
        for name in sorted(os.listdir(full)):
            crel = os.path.join(rel, name) if rel else name
            if crel in excludes:
                continue
            cfull = os.path.join(top, crel)
            st = os.lstat(cfull)
            if one_fs and st.st_dev != top_dev:
                continue
            yield crel, cfull, st
            if stat.S_ISDIR(st.st_mode):
                stack.append(crel)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--meta", action="store_true")
    ap.add_argument("--xattrs", action="store_true")
    ap.add_argument("--one-fs", action="store_true")
    ap.add_argument("--exclude", action="append", default=[])
    ap.add_argument("dir")
    args = ap.parse_args()
    top = os.fsencode(args.dir)
    excludes = {os.fsencode(e.strip("/")) for e in args.exclude}
    entries = list(walk(top, args.one_fs, excludes))
    groups = {}
    for rel, _, st in sorted(entries):
        if not stat.S_ISDIR(st.st_mode) and st.st_nlink > 1:
            groups.setdefault((st.st_dev, st.st_ino), rel)
    lines = []
    for rel, full, st in entries:
        t = kind(st.st_mode)
        size, digest, target = "-", "-", "-"
        if t == "file":
            size, digest = str(st.st_size), sha256_of(full)
        elif t == "symlink":
            target = esc(os.readlink(full))
        group = "-"
        if t != "dir" and st.st_nlink > 1:
            group = esc(groups[(st.st_dev, st.st_ino)])
        fields = [esc(rel), t, size, digest, target, group]
        if args.meta:
            fields += ["%o" % stat.S_IMODE(st.st_mode),
                       "%d:%d" % (st.st_uid, st.st_gid),
                       str(st.st_mtime_ns)]
            if t in ("chardev", "blockdev"):
                fields.append("%d,%d" % (os.major(st.st_rdev),
                                         os.minor(st.st_rdev)))
        if args.xattrs:
            fields.append(xattrs_of(full))
        lines.append("\t".join(fields))
    lines.sort()
    sys.stdout.write("".join(line + "\n" for line in lines))


if __name__ == "__main__":
    main()
