/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The text form of tree blocks and items, as `dump-tree` shows them and as
 * error messages quote them.  Output matches btrfs-progs 6.2 byte for byte.
 */
#ifndef BTRFS_PRINT_TREE_H
#define BTRFS_PRINT_TREE_H

#include <stdio.h>

#include "kernel-shared/ctree.h"

#define BTRFS_PRINT_FOLLOW	(1U << 0) /* descend into children of nodes */
#define BTRFS_PRINT_BFS		(1U << 1) /* breadth-first when following */
#define BTRFS_PRINT_DFS		(1U << 2) /* depth-first when following */
#define BTRFS_PRINT_HIDE_NAMES	(1U << 3) /* names as HIDDEN */
#define BTRFS_PRINT_CSUM_HEADERS (1U << 4) /* print tree block checksums */
#define BTRFS_PRINT_CSUM_ITEMS	(1U << 5) /* print each csum in csum items */

struct btrfs_print_opts {
	FILE *out;
	unsigned int flags;			/* BTRFS_PRINT_* */
	struct btrfs_fs_info *fs_info;		/* for following children and csum size */
};

/* Print one leaf with all its items. */
void btrfs_print_leaf(const struct btrfs_print_opts *opts,
		      const struct extent_buffer *eb);

/*
 * Print a block; with BTRFS_PRINT_FOLLOW a node's children are read
 * (verified against the node's expectations) and printed too, DFS or BFS.
 * Children that fail to read are reported on stderr in the reference's words
 * and skipped.
 */
void btrfs_print_tree(const struct btrfs_print_opts *opts,
		      struct extent_buffer *eb);

/* "key (256 INODE_ITEM 0)" style, without a newline. */
void btrfs_print_key(FILE *out, const struct btrfs_disk_key *key);

/* Tree / object id as dump-tree names it ("ROOT_TREE", "FS_TREE", "256"). */
void btrfs_print_objectid(FILE *out, u64 objectid, u8 type);

/* Key type name ("INODE_ITEM", "UNKNOWN.123"), honouring objectid-dependent names. */
void btrfs_print_key_type(FILE *out, u64 objectid, u8 type);

/*
 * Print a chunk item (also used for the superblock's sys_chunk_array by
 * dump-super).  @eb holds the bytes, @chunk points inside it.
 */
void btrfs_print_chunk(FILE *out, const struct extent_buffer *eb,
		       const struct btrfs_chunk *chunk, u32 item_size);

/* Block group flags as dump-tree writes them: "DATA|RAID1", "SYSTEM|DUP". */
void btrfs_bg_flags_to_str(u64 flags, char *buf, size_t size);

#endif
