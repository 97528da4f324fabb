/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Block groups, the extent allocator and tree block references (the
 * kernel's extent-tree.c and block-group.c).
 *
 * Allocation is in two stages as in the kernel: btrfs_reserve_extent()
 * takes space out of a block group's free space and counts it as reserved;
 * the caller then either turns it into a tree block with
 * btrfs_alloc_reserved_tree_block() (which queues the delayed ref that will
 * insert the extent item) or returns it with btrfs_free_reserved_extent().
 * Reserved space becomes used when the delayed ref runs.
 *
 * Block group accounting invariants (between transactions, i.e. with no
 * reservation and nothing pinned):
 *   free space + used + excluded == length
 * where used is the sum of the extents in the extent tree inside the block
 * group and excluded the superblock copies the group overlaps.
 */
#ifndef BTRFS_EXTENT_TREE_H
#define BTRFS_EXTENT_TREE_H

#include "kernel-shared/ctree.h"
#include "kernel-shared/free-space-cache.h"

struct btrfs_delayed_ref_head;

struct btrfs_block_group {
	struct btrfs_fs_info *fs_info;
	u64 start;
	u64 length;
	u64 flags;		/* BTRFS_BLOCK_GROUP_* type and profile */
	u64 used;		/* extents in the extent tree (item value) */
	u64 reserved;		/* reserved, extent item not inserted yet */
	u64 pinned;		/* freed in this transaction, free after commit */
	u64 excluded;		/* superblock copies: never allocatable */
	bool dirty;		/* the block group item must be rewritten */
	bool fst_bitmaps;	/* free-space tree uses bitmaps: not written */
	struct btrfs_free_space_ctl free_space;
};

/*
 * Load every block group (from the block group tree when the filesystem has
 * one, else the extent tree) and compute its free space from the gaps
 * between the extent items, minus the superblock copies.  0, -EUCLEAN
 * (items overlap or leave their group, used differs from the extents),
 * -ENOMEM, or a read error.
 */
int btrfs_read_block_groups(struct btrfs_fs_info *fs_info);
void btrfs_free_block_groups(struct btrfs_fs_info *fs_info);

/* The block group containing @bytenr, or NULL. */
struct btrfs_block_group *btrfs_lookup_block_group(struct btrfs_fs_info *fs_info,
						   u64 bytenr);

/*
 * Stage one: reserve @num_bytes for a tree block of @root (system space for
 * the chunk tree, metadata otherwise) or for data (@is_data), preferring
 * space at or after @hint.  On success *ins = (start, EXTENT_ITEM, bytes).
 * 0, -ENOSPC (no block group of the type has room; chunk allocation is not
 * implemented yet).
 */
int btrfs_reserve_extent(struct btrfs_trans_handle *trans,
			 struct btrfs_root *root, u64 num_bytes,
			 u64 empty_size, u64 hint, struct btrfs_key *ins,
			 bool is_data);

/* Give back a reservation that was not used.  0 or -EINVAL. */
int btrfs_free_reserved_extent(struct btrfs_fs_info *fs_info, u64 start,
			       u64 len);

/*
 * Stage two: make the reserved extent @ins a new tree block of @root at
 * @level: a new, zeroed, dirty buffer with its header filled, in the cache
 * in place of any stale copy, and the delayed ref that will insert its
 * extent item queued.  @first_key (may be NULL) is recorded for non-skinny
 * extent items.  Returns the buffer (one reference) or ERR_PTR.
 */
struct extent_buffer *
btrfs_alloc_reserved_tree_block(struct btrfs_trans_handle *trans,
				struct btrfs_root *root,
				const struct btrfs_key *ins, int level,
				const struct btrfs_key *first_key);

/*
 * Drop @root's reference to tree block @eb (no longer in the tree).  A block
 * allocated in this transaction goes straight back to free space (its ref
 * head cancels out); an older one is freed when the delayed ref runs and
 * stays pinned until commit.  0 or negative errno.
 */
int btrfs_free_tree_block(struct btrfs_trans_handle *trans,
			  struct btrfs_root *root, struct extent_buffer *eb);

/*
 * Apply one delayed ref head to the extent tree (called by
 * btrfs_run_delayed_refs): insert the extent item of a new block, add or
 * drop references, delete the item and free the extent at zero refs, keep
 * block group used, super bytes_used and the free-space tree in step.
 */
int btrfs_run_delayed_ref_head(struct btrfs_trans_handle *trans,
			       struct btrfs_delayed_ref_head *head);

/*
 * Write the item of every dirty block group (used bytes).  Sets
 * *did_work when something was written.  0 or negative errno.
 */
int btrfs_write_dirty_block_groups(struct btrfs_trans_handle *trans,
				   bool *did_work);

/* After the superblocks are written: pinned extents become free. */
int btrfs_unpin_extents(struct btrfs_trans_handle *trans);

/* Sum of the reservations of all block groups (0 between transactions). */
u64 btrfs_total_reserved(const struct btrfs_fs_info *fs_info);

#endif
