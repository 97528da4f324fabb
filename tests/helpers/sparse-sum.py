#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Print a fingerprint of a (possibly huge, sparse) file without reading holes.

Usage: sparse-sum.py [--content] FILE

Output: one line "SIZE MTIME_NS SHA256" where the hash covers the offset,
length and bytes of every data segment (found with SEEK_DATA / SEEK_HOLE).
A write anywhere, even zeros into a hole, changes the fingerprint.  If the
file system cannot report holes, the hash covers the first 128 MiB and the
four superblock copies instead.

With --content the hash covers what a reader sees, whatever is allocated:
the offset and bytes of every 64 KiB block that is not all zeros, so a hole
and written zeros hash alike (for "restored byte for byte" checks).
"""

import hashlib
import os
import sys

CHUNK = 4 * 1024 * 1024
SUPER_COPIES = (64 * 1024, 64 * 1024 ** 2, 256 * 1024 ** 3, 1024 ** 5)
SUPER_SIZE = 4096
HEAD = 128 * 1024 * 1024


def hash_range(fd, h, start, end):
    h.update(b"%d-%d:" % (start, end))
    off = start
    while off < end:
        buf = os.pread(fd, min(CHUNK, end - off), off)
        if not buf:
            break
        h.update(buf)
        off += len(buf)


BLOCK = 64 * 1024
ZEROS = bytes(BLOCK)


def hash_content(fd, h, start, end):
    off = start - start % BLOCK
    while off < end:
        buf = os.pread(fd, BLOCK, off)
        if not buf:
            break
        if buf != ZEROS[:len(buf)]:
            h.update(b"%d:" % off)
            h.update(buf)
        off += len(buf)


def data_segments(fd, size):
    off = 0
    while off < size:
        try:
            start = os.lseek(fd, off, os.SEEK_DATA)
        except OSError:
            return  # ENXIO: only a hole is left
        end = os.lseek(fd, start, os.SEEK_HOLE)
        yield start, end
        off = end


def fallback_segments(size):
    yield 0, min(size, HEAD)
    for at in SUPER_COPIES:
        if HEAD <= at < size:
            yield at, min(size, at + SUPER_SIZE)


def fingerprint(path, content=False):
    st = os.stat(path)
    h = hashlib.sha256()
    fd = os.open(path, os.O_RDONLY)
    try:
        try:
            os.lseek(fd, 0, os.SEEK_HOLE)
            segments = data_segments(fd, st.st_size)
        except OSError:
            segments = fallback_segments(st.st_size)
        if content:
            done = 0
            for start, end in segments:
                # a segment may start inside a block the last one covered
                start = max(start, done)
                if start < end:
                    hash_content(fd, h, start, end)
                    done = end + (-end % BLOCK)
        else:
            for start, end in segments:
                hash_range(fd, h, start, end)
    finally:
        os.close(fd)
    return "%d %d %s" % (st.st_size, st.st_mtime_ns, h.hexdigest())


def main():
    args = sys.argv[1:]
    content = bool(args) and args[0] == "--content"
    if content:
        args = args[1:]
    if len(args) != 1:
        sys.exit(__doc__.strip().splitlines()[2])
    print(fingerprint(args[0], content))


if __name__ == "__main__":
    main()
