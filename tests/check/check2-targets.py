#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Pick corruption targets for tests/check/passes-4-6-7.bats.

usage: check2-targets.py QUERY [ARG] < dump-tree-output

Reads the text the reference `btrfs inspect-internal dump-tree -t TREE`
prints and prints the numbers a test needs, space separated, or nothing
when the tree has no such object.  Queries:

  file      a regular file, one name, one regular extent on disk:
            INO PARENT INDEX NAMEHASH EXTENT_OFFSET DISK_BYTENR DISK_LEN
  multi     a regular file with two or more file extent items:
            INO SECOND_EXTENT_OFFSET
  dir       a directory other than the top one that has entries: INO
  inline    a file with an inline extent: INO
  hole      a hole extent (disk bytenr 0) not at the end of its file:
            INO OFFSET
  csum      (csum tree) the first csum item: OFFSET SIZE LEAF SLOT
  csum2     (csum tree) a leaf with two csum items: LEAF SLOT_OF_SECOND
            FIRST_OFFSET
  keyedref  (extent tree) a keyed EXTENT_DATA_REF: BYTENR HASH COUNT
  metadata  (extent tree) a METADATA_ITEM or tree EXTENT_ITEM of a leaf
            of the fs tree: BYTENR TYPE OFFSET
  extref    an INODE_EXTREF item holding one name: INO HASH PARENT INDEX
  compressed  a compressed regular extent: INO OFFSET DISK_BYTENR
  extslot BYTENR  (extent tree) where the EXTENT_ITEM of BYTENR is: LEAF SLOT
"""
import re
import sys

KEY = re.compile(r"\titem (\d+) key \((\S+) (\S+) (\d+)\) itemoff \d+ itemsize (\d+)")
LEAF = re.compile(r"^leaf (\d+) items")


def parse(lines):
    """Items as dicts: slot, objectid, type, offset, size, leaf, text."""
    items = []
    leaf = None
    cur = None
    for line in lines:
        m = LEAF.match(line)
        if m:
            leaf = int(m.group(1))
            cur = None
            continue
        m = KEY.match(line)
        if m:
            oid = m.group(2)
            cur = {"slot": int(m.group(1)),
                   "objectid": int(oid) if oid.isdigit() else -1,
                   "type": m.group(3), "offset": int(m.group(4)),
                   "size": int(m.group(5)), "leaf": leaf, "text": ""}
            items.append(cur)
            continue
        if cur is not None and line.startswith("\t\t"):
            cur["text"] += line
    return items


def num(text, pattern):
    m = re.search(pattern, text)
    return int(m.group(1)) if m else None


def by_inode(items):
    inodes = {}
    for it in items:
        inodes.setdefault(it["objectid"], []).append(it)
    return inodes


def q_file(items):
    for ino, its in sorted(by_inode(items).items()):
        if ino < 257:
            continue
        ii = [i for i in its if i["type"] == "INODE_ITEM"]
        refs = [i for i in its if i["type"] == "INODE_REF"]
        exts = [i for i in its if i["type"] == "EXTENT_DATA"]
        if not ii or num(ii[0]["text"], r"mode (\d+)") is None:
            continue
        if not str(num(ii[0]["text"], r"mode (\d+)")).startswith("100"):
            continue
        if num(ii[0]["text"], r"links (\d+)") != 1 or len(refs) != 1:
            continue
        if len(exts) != 1 or "(regular)" not in exts[0]["text"]:
            continue
        bytenr = num(exts[0]["text"], r"disk byte (\d+)")
        if not bytenr:
            continue
        if num(exts[0]["text"], r"compression (\d+)"):
            continue
        index = num(refs[0]["text"], r"index (\d+)")
        name = re.search(r"name: (.*)", refs[0]["text"]).group(1)
        parent = refs[0]["offset"]
        hashes = [i["offset"] for i in items
                  if i["objectid"] == parent and i["type"] == "DIR_ITEM"
                  and ("name: " + name + "\t") in (i["text"] + "\t")]
        if len(hashes) != 1:
            continue
        print(ino, parent, index, hashes[0], exts[0]["offset"], bytenr,
              num(exts[0]["text"], r"disk byte \d+ nr (\d+)"))
        return


def q_multi(items):
    for ino, its in sorted(by_inode(items).items()):
        exts = [i for i in its if i["type"] == "EXTENT_DATA"]
        if len(exts) >= 2 and ino >= 257:
            print(ino, exts[1]["offset"])
            return


def q_dir(items):
    for ino, its in sorted(by_inode(items).items()):
        if ino > 256 and any(i["type"] == "DIR_INDEX" for i in its):
            print(ino)
            return


def q_inline(items):
    for it in items:
        if it["type"] == "EXTENT_DATA" and "(inline)" in it["text"] \
                and "compression 0" in it["text"]:
            print(it["objectid"])
            return


def q_hole(items):
    inodes = by_inode(items)
    for ino, its in sorted(inodes.items()):
        exts = [i for i in its if i["type"] == "EXTENT_DATA"]
        for n, e in enumerate(exts[:-1]):
            if num(e["text"], r"disk byte (\d+)") == 0:
                print(ino, e["offset"])
                return


def q_csum(items):
    for it in items:
        if it["type"] == "EXTENT_CSUM":
            print(it["offset"], it["size"], it["leaf"], it["slot"])
            return


def q_csum2(items):
    prev = None
    for it in items:
        if it["type"] != "EXTENT_CSUM":
            continue
        if prev and prev["leaf"] == it["leaf"]:
            print(it["leaf"], it["slot"], prev["offset"])
            return
        prev = it


def q_keyedref(items):
    for it in items:
        if it["type"] == "EXTENT_DATA_REF":
            print(it["objectid"], it["offset"],
                  num(it["text"], r"count (\d+)"))
            return


def q_metadata(items):
    for it in items:
        if it["type"] == "METADATA_ITEM" and it["offset"] == 0 and \
                "tree block skinny level 0" in it["text"] and \
                "root FS_TREE" in it["text"] or \
                it["type"] == "EXTENT_ITEM" and "tree block key" in \
                it["text"] and "level 0" in it["text"] and \
                "root FS_TREE" in it["text"]:
            print(it["objectid"], it["type"], it["offset"])
            return


def q_extref(items):
    for it in items:
        if it["type"] == "INODE_EXTREF" and it["text"].count("index ") == 1:
            print(it["objectid"], it["offset"],
                  num(it["text"], r"parent (\d+)"),
                  num(it["text"], r"index (\d+)"))
            return


def q_compressed(items):
    for it in items:
        if it["type"] == "EXTENT_DATA" and "(regular)" in it["text"] and \
                num(it["text"], r"compression (\d+)") and \
                num(it["text"], r"disk byte (\d+)"):
            print(it["objectid"], it["offset"],
                  num(it["text"], r"disk byte (\d+)"))
            return


def q_extslot(items, bytenr):
    for it in items:
        if it["type"] == "EXTENT_ITEM" and it["objectid"] == int(bytenr):
            print(it["leaf"], it["slot"])
            return


def main():
    queries = {"file": q_file, "multi": q_multi, "dir": q_dir,
               "inline": q_inline, "hole": q_hole, "csum": q_csum,
               "csum2": q_csum2, "keyedref": q_keyedref,
               "metadata": q_metadata, "extref": q_extref,
               "compressed": q_compressed}
    if len(sys.argv) == 3 and sys.argv[1] == "extslot":
        q_extslot(parse(sys.stdin.read().splitlines()), sys.argv[2])
        return 0
    if len(sys.argv) != 2 or sys.argv[1] not in queries:
        sys.stderr.write(__doc__)
        return 2
    queries[sys.argv[1]](parse(sys.stdin.read().splitlines()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
