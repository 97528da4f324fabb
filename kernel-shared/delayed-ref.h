/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Delayed references (the kernel's delayed-ref.c): every change to the
 * references of an extent is queued on a head for that extent and applied
 * to the extent tree later, in batches.  An add and a drop of the same
 * reference cancel each other.
 *
 * A head is either a tree block's (refs (root, parent): parent 0 for a
 * normal TREE_BLOCK_REF, the parent block for a SHARED_BLOCK_REF) or a data
 * extent's (refs (root, owner inode, offset) for an EXTENT_DATA_REF, or
 * parent for a SHARED_DATA_REF; a data ref's mod may be any count).  A
 * shared ref is identified by its parent alone.  A head may also carry
 * extent flags to set (BTRFS_BLOCK_FLAG_FULL_BACKREF), the kernel's extent
 * op.
 *
 * Invariants: heads are sorted by bytenr, one per extent; a ref with a zero
 * ref_mod is removed at once; total_ref_mod is the sum of the refs' mods;
 * a head whose refs all cancelled goes, unless it has flags to set (and is
 * not a new extent).
 */
#ifndef BTRFS_DELAYED_REF_H
#define BTRFS_DELAYED_REF_H

#include "kernel-shared/ctree.h"

struct btrfs_delayed_tree_ref {
	u64 root;
	u64 parent;
	int ref_mod;		/* > 0 adds, < 0 drops */
	u64 owner;		/* data refs: inode number */
	u64 offset;		/* data refs: file offset - extent offset */
};

struct btrfs_delayed_ref_head {
	u64 bytenr;
	u64 num_bytes;
	int level;
	struct btrfs_key first_key;	/* for non-skinny extent items */
	bool insert_reserved;	/* a new block: its extent item is missing */
	bool is_data;		/* a data extent (EXTENT_ITEM with DATA) */
	u64 set_flags;		/* extent flags to set when the head runs */
	int total_ref_mod;
	struct btrfs_delayed_tree_ref *refs;
	int nr_refs;
	size_t max_refs;
};

struct btrfs_delayed_ref_root {
	struct btrfs_delayed_ref_head **heads;	/* sorted by bytenr */
	size_t nr;
	size_t cap;
};

/*
 * Queue @action (+1 add, -1 drop) of reference (@root, @parent) to the tree
 * block at @bytenr.  @insert_reserved marks the first add of a freshly
 * allocated block.  Returns 1 when the head cancelled out completely for a
 * block that was allocated in this transaction (the caller gives its space
 * back), 0 when queued, negative errno.
 */
int btrfs_add_delayed_tree_ref(struct btrfs_trans_handle *trans, u64 bytenr,
			       u64 num_bytes, u64 root, u64 parent, int level,
			       const struct btrfs_key *first_key, int action,
			       bool insert_reserved);

/*
 * Data counterpart: queue @action (any nonzero count, > 0 adds) of the
 * reference of (@root, @owner inode, @offset) -- or of leaf @parent when
 * @parent is nonzero -- to the data extent @bytenr.  @insert_reserved marks
 * the first add of a freshly reserved extent.  Returns 1 when the head of
 * an extent reserved in this transaction cancelled out (the caller gives
 * the space back), 0 when queued, negative errno.
 */
int btrfs_add_delayed_data_ref(struct btrfs_trans_handle *trans, u64 bytenr,
			       u64 num_bytes, u64 root, u64 parent, u64 owner,
			       u64 offset, int action, bool insert_reserved);

/*
 * Queue setting extent flags @flags on tree block @bytenr (the kernel's
 * btrfs_set_disk_extent_flags).  0 or negative errno.
 */
int btrfs_add_delayed_extent_op(struct btrfs_trans_handle *trans, u64 bytenr,
				u64 num_bytes, int level, u64 flags);

/* The queued head of @bytenr, or NULL. */
struct btrfs_delayed_ref_head *
btrfs_find_delayed_ref_head(struct btrfs_trans_handle *trans, u64 bytenr);

/*
 * Run queued heads, lowest bytenr first: @count heads, or with @count 0
 * until none are left (running refs modifies the extent tree, which queues
 * more).  0 or negative errno.
 */
int btrfs_run_delayed_refs(struct btrfs_trans_handle *trans, unsigned long count);

/* Number of queued heads. */
size_t btrfs_delayed_refs_pending(const struct btrfs_trans_handle *trans);

void btrfs_delayed_refs_release(struct btrfs_delayed_ref_root *delayed);

#endif
