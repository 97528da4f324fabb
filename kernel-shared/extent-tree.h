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
	/*
	 * Made in this transaction (chunk-alloc.h): its dev extents, chunk
	 * item and block group item are not in the trees yet.
	 */
	bool new_chunk;
	bool needs_free_space;	/* no free-space tree entries yet */
	struct btrfs_free_space_ctl free_space;
};

/*
 * Load every block group (from the block group tree when the filesystem has
 * one, else the extent tree) and compute its free space from the gaps
 * between the extent items, minus the superblock copies.  0, -EUCLEAN
 * (items overlap or leave their group, used differs from the extents:
 * with OPEN_CTREE_REPAIR the latter is set right, see disk-io.h),
 * -ENOMEM, or a read error.
 */
int btrfs_read_block_groups(struct btrfs_fs_info *fs_info);

/* The tree of the block group items: the block group tree or the extent tree. */
struct btrfs_root *btrfs_block_group_root(struct btrfs_fs_info *fs_info);

struct map_lookup;

/* Bytes each stripe of the chunk @map takes on its device. */
u64 btrfs_chunk_stripe_dev_len(const struct map_lookup *map);

/* Append to fs_info->open_fixups (OPEN_CTREE_REPAIR). 0 or -ENOMEM. */
int btrfs_add_open_fixup(struct btrfs_fs_info *fs_info,
			 enum btrfs_open_fixup_kind kind, u64 id, u64 found,
			 u64 expected);
void btrfs_free_block_groups(struct btrfs_fs_info *fs_info);

/*
 * A new block group for the chunk just mapped at [@start, @start +
 * @length) (chunk allocation, phase 1): all its space free except the
 * superblock copies it covers, new_chunk and dirty set, needs_free_space
 * when the filesystem has a free-space tree.  *ret (may be NULL) gets it.
 * 0, -EEXIST (overlaps a group), -ENOMEM.
 */
int btrfs_make_block_group(struct btrfs_trans_handle *trans, u64 type,
			   u64 start, u64 length,
			   struct btrfs_block_group **ret);

/*
 * Insert the item of a new block group (its used bytes as they are now)
 * and clear new_chunk.  0 or negative errno.
 */
int btrfs_insert_block_group_item(struct btrfs_trans_handle *trans,
				  struct btrfs_block_group *bg);

/* The block group containing @bytenr, or NULL. */
struct btrfs_block_group *btrfs_lookup_block_group(struct btrfs_fs_info *fs_info,
						   u64 bytenr);

/*
 * Stage one: reserve @num_bytes for a tree block of @root (system space for
 * the chunk tree, metadata otherwise) or for data (@is_data), preferring
 * space at or after @hint.  On success *ins = (start, EXTENT_ITEM, bytes).
 * When no block group of the type has room, a new chunk of the type (in
 * the most redundant profile its groups have) is made (phase 1 of
 * chunk-alloc.h) and the reservation retried.  0, -ENOSPC (no group has
 * room and no device has room for a new chunk), or negative errno.
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
 * Drop reference (@root_id, @parent) of tree block @eb, which @last_ref
 * says was its last one (then a block of this transaction is no longer
 * written).  0 or negative errno.
 */
int btrfs_free_tree_block_ref(struct btrfs_trans_handle *trans, u64 root_id,
			      struct extent_buffer *eb, u64 parent,
			      bool last_ref);

/*
 * A reference to an extent (the kernel's struct btrfs_ref): a tree block
 * ref (@owner = the block's level) or a data ref (@owner = inode, @offset
 * = file offset - offset into the extent); @parent nonzero makes it a
 * shared ref of that parent block or leaf, else it is @root's.
 */
struct btrfs_ref {
	u64 bytenr;
	u64 num_bytes;
	u64 parent;
	u64 root;
	u64 owner;
	u64 offset;
	bool is_data;
};

/* Queue one more reference @ref.  0 or negative errno. */
int btrfs_inc_extent_ref(struct btrfs_trans_handle *trans,
			 const struct btrfs_ref *ref);

/*
 * Queue dropping reference @ref; the extent is freed when its last ref
 * goes (a data extent's csums are deleted then).  An extent reserved in
 * this transaction whose refs cancel out is given back at once.
 */
int btrfs_free_extent(struct btrfs_trans_handle *trans,
		      const struct btrfs_ref *ref);

/*
 * Stage two for data: the extent @ins reserved with btrfs_reserve_extent
 * (is_data) gets its first reference, EXTENT_DATA_REF (@root_objectid,
 * @owner inode, @offset); its EXTENT_ITEM (flags DATA) is inserted when
 * the delayed ref runs.  The caller inserts the file extent item.  0 or
 * negative errno.
 */
int btrfs_alloc_reserved_file_extent(struct btrfs_trans_handle *trans,
				     u64 root_objectid, u64 owner, u64 offset,
				     const struct btrfs_key *ins);

/*
 * References and flags of tree block @bytenr at @level, counting queued
 * delayed refs (the kernel's btrfs_lookup_extent_info).  0, -ENOENT,
 * -EUCLEAN (no reference left), <0.
 */
int btrfs_lookup_extent_info(struct btrfs_trans_handle *trans, u64 bytenr,
			     int level, u64 *refs, u64 *flags);

/* Queue setting extent flags @flags (FULL_BACKREF) on tree block @eb. */
int btrfs_set_disk_extent_flags(struct btrfs_trans_handle *trans,
				struct extent_buffer *eb, u64 flags);

/*
 * Add / drop one reference for each pointer of @buf: children of a node,
 * data extents of a leaf's regular and prealloc file extent items (leaves
 * only in reference counted trees).  Shared refs with parent @buf when
 * @full_backref, else normal refs of @buf's owner.  0 or negative errno.
 */
int btrfs_inc_ref(struct btrfs_trans_handle *trans, struct btrfs_root *root,
		  struct extent_buffer *buf, bool full_backref);
int btrfs_dec_ref(struct btrfs_trans_handle *trans, struct btrfs_root *root,
		  struct extent_buffer *buf, bool full_backref);

/* Key offset of a keyed EXTENT_DATA_REF (the kernel's crc32c-based hash). */
u64 btrfs_hash_extent_data_ref(u64 root, u64 owner, u64 offset);

/*
 * Apply one delayed ref head to the extent tree (called by
 * btrfs_run_delayed_refs): insert the extent item of a new block, add or
 * drop references, delete the item and free the extent at zero refs, keep
 * block group used, super bytes_used and the free-space tree in step.
 */
int btrfs_run_delayed_ref_head(struct btrfs_trans_handle *trans,
			       struct btrfs_delayed_ref_head *head);

/*
 * Write the item of every dirty block group (used bytes); for a group made
 * in this transaction, first insert its chunk's items (chunk-alloc.h) and
 * its block group item.  Sets
 * *did_work when something was written.  0 or negative errno.
 */
int btrfs_write_dirty_block_groups(struct btrfs_trans_handle *trans,
				   bool *did_work);

/* After the superblocks are written: pinned extents become free. */
int btrfs_unpin_extents(struct btrfs_trans_handle *trans);

/* Sum of the reservations of all block groups (0 between transactions). */
u64 btrfs_total_reserved(const struct btrfs_fs_info *fs_info);

#endif
