#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Seed inputs for the fuzz targets, cut from real kernel-made images.

usage: seeds.py OUTDIR IMAGE...

For each image: its primary superblock goes to OUTDIR/super/, and up to
MAX_BLOCKS tree blocks (found by scanning for node-size aligned blocks whose
header carries the filesystem's fsid) go to OUTDIR/tree-block/, each
prefixed with the selector byte fuzz-tree-block.c reads (node size index +
3 * checksum type index).
"""
import os
import struct
import sys

SUPER_OFFSET = 65536
MAX_BLOCKS = 150
NODE_SIZES = (4096, 16384, 65536)


def main():
    out = sys.argv[1]
    os.makedirs(os.path.join(out, "super"), exist_ok=True)
    os.makedirs(os.path.join(out, "tree-block"), exist_ok=True)
    for n, path in enumerate(sys.argv[2:]):
        with open(path, "rb") as f:
            f.seek(SUPER_OFFSET)
            sb = f.read(4096)
            if len(sb) < 4096 or sb[64:72] != b"_BHRfS_M":
                continue
            with open(os.path.join(out, "super", "%d" % n), "wb") as o:
                o.write(sb)
            fsid = sb[32:48]
            incompat = struct.unpack_from("<Q", sb, 0xBC)[0]
            if incompat & (1 << 10):        # METADATA_UUID
                fsid = sb[0x23B:0x24B]
            nodesize = struct.unpack_from("<I", sb, 0x94)[0]
            csum_type = struct.unpack_from("<H", sb, 0xC4)[0]
            if nodesize not in NODE_SIZES or csum_type > 3:
                continue
            pick = NODE_SIZES.index(nodesize) + 3 * csum_type
            size = os.fstat(f.fileno()).st_size
            found = 0
            off = 1 << 20
            while off + nodesize <= size and found < MAX_BLOCKS:
                f.seek(off)
                head = f.read(64)
                if head[32:48] == fsid:
                    f.seek(off)
                    block = f.read(nodesize)
                    name = os.path.join(out, "tree-block", "%d-%d" % (n, off))
                    with open(name, "wb") as o:
                        o.write(bytes([pick]) + block)
                    found += 1
                off += nodesize


if __name__ == "__main__":
    main()
