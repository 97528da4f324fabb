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

/*
 * What the printer met while printing a block, handed to the caller as data
 * (btrfs_print_opts.problem); the printer itself never writes a diagnostic.
 * Each kind's comment names the fields of struct btrfs_print_problem it
 * sets; the others are 0.
 */
enum btrfs_print_problem_kind {
	/* leaf bytenr: its items' data overlap, the used space is negative */
	BTRFS_PRINT_LEAF_USED_NEGATIVE,
	/* leaf bytenr uses more than its limit data bytes: free_space (< 0),
	 * used, nritems */
	BTRFS_PRINT_LEAF_OVERFULL,
	/* leaf bytenr: item slot (offset, size) lies outside its limit data
	 * bytes; the rest of the leaf is not printed */
	BTRFS_PRINT_ITEM_OUT_OF_LEAF,
	/* node bytenr: nritems over its capacity of limit pointers; the
	 * pointers that fit are printed */
	BTRFS_PRINT_NODE_NRITEMS,
	/* child bytenr (size bytes) maps to no chunk */
	BTRFS_PRINT_CHILD_UNMAPPED,
	/* a copy of child bytenr fails its checksum: csum_size bytes of
	 * csum_wanted (stored) and csum_found (computed) */
	BTRFS_PRINT_CHILD_CSUM,
	/* a copy of child bytenr has generation found, its parent wanted */
	BTRFS_PRINT_CHILD_TRANSID,
	/* depth first: child bytenr of a node of tree owner could not be
	 * read (after the copy problems above); it is skipped */
	BTRFS_PRINT_CHILD_UNREADABLE,
	/* depth first: pointer slot of node bytenr (at level) leads to block
	 * child at child_level, not level - 1; it is skipped */
	BTRFS_PRINT_CHILD_LEVEL_SKIPPED,
	/* breadth first: the same, and the walk stops there */
	BTRFS_PRINT_CHILD_LEVEL_STOPPED,
};

struct btrfs_print_problem {
	enum btrfs_print_problem_kind kind;
	u64 bytenr;		/* the block printed, or the child read */
	u64 owner;
	u64 child;
	u64 wanted;
	u64 found;
	int slot;
	int level;
	int child_level;
	int free_space;
	int used;
	u32 nritems;
	u32 offset;
	u32 size;
	u32 limit;
	u32 csum_size;
	u8 csum_wanted[BTRFS_CSUM_SIZE];
	u8 csum_found[BTRFS_CSUM_SIZE];
};

/*
 * How to print.  @out receives all the text and must not be NULL.  Each
 * problem met is passed to @problem (with @problem_arg) at the point of
 * the output where it arises, after everything before it has been written
 * to @out; with @problem NULL problems are not reported.
 */
struct btrfs_print_opts {
	FILE *out;
	unsigned int flags;			/* BTRFS_PRINT_* */
	struct btrfs_fs_info *fs_info;		/* for following children and csum size */
	void (*problem)(void *arg, const struct btrfs_print_problem *p);
	void *problem_arg;
};

/* Print one leaf with all its items. */
void btrfs_print_leaf(const struct btrfs_print_opts *opts,
		      const struct extent_buffer *eb);

/*
 * Print a block; with BTRFS_PRINT_FOLLOW a node's children are read
 * (verified against the node's expectations) and printed too, DFS or BFS.
 * Children that fail to read are reported through opts->problem and
 * skipped, as the reference does.
 */
void btrfs_print_tree(const struct btrfs_print_opts *opts,
		      struct extent_buffer *eb);

/*
 * The small printers below write to @out, which must not be NULL.
 */

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
