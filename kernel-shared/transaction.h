/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Transactions (the kernel's transaction.c).  One writer per filesystem: at
 * most one transaction runs at a time.
 *
 * Everything a transaction changes lives in memory (new tree blocks are new
 * buffers at new addresses; committed blocks are never modified) until
 * btrfs_commit_transaction(), which runs every delayed ref, updates root
 * and block group items, writes all dirty tree blocks, flushes the devices
 * and only then writes the superblocks.  So an abort, or a crash before the
 * superblocks are written, leaves the previous generation intact on disk.
 */
#ifndef BTRFS_TRANSACTION_H
#define BTRFS_TRANSACTION_H

#include "kernel-shared/ctree.h"
#include "kernel-shared/delayed-ref.h"

struct btrfs_pinned_extent {
	u64 start;
	u64 len;
};

struct btrfs_trans_handle {
	struct btrfs_fs_info *fs_info;
	u64 transid;			/* generation this commit writes */
	struct btrfs_delayed_ref_root delayed_refs;
	/* Blocks written by commit (those still dirty); one ref each. */
	struct extent_buffer **dirty;
	size_t nr_dirty;
	size_t cap_dirty;
	/* Roots whose root node changed (root items to update). */
	struct btrfs_root **dirty_roots;
	size_t nr_dirty_roots;
	size_t cap_dirty_roots;
	/* Extents freed in this transaction: free space after commit. */
	struct btrfs_pinned_extent *pinned;
	size_t nr_pinned;
	size_t cap_pinned;
};

/*
 * Start a transaction on a filesystem opened with OPEN_CTREE_WRITES.
 * Returns the handle or ERR_PTR(-EROFS: not writable, -EBUSY: one is
 * running, -EIO: an earlier abort left the filesystem unusable, -ENOMEM).
 */
struct btrfs_trans_handle *btrfs_start_transaction(struct btrfs_fs_info *fs_info);

/*
 * Commit and free @trans: generation = previous + 1.  0, or negative errno:
 * then the transaction was aborted (nothing reached the superblocks unless
 * the failure came while writing them) and the filesystem must be closed.
 */
int btrfs_commit_transaction(struct btrfs_trans_handle *trans);

/*
 * Abandon @trans and free it: no superblock is written, the image stays as
 * it was before the transaction.  The in-memory state no longer matches the
 * disk, so the filesystem only allows close_ctree() afterwards.
 */
void btrfs_abort_transaction(struct btrfs_trans_handle *trans);

/* Queue @eb (a block COWed or allocated in @trans) for writing at commit. */
int btrfs_mark_buffer_dirty(struct btrfs_trans_handle *trans,
			    struct extent_buffer *eb);

/* Note that @root's root node changed: its root item is updated at commit. */
int btrfs_mark_root_dirty(struct btrfs_trans_handle *trans,
			  struct btrfs_root *root);

/* Pin a freed extent until the commit is on disk. */
int btrfs_pin_extent(struct btrfs_trans_handle *trans, u64 start, u64 len);

#endif
