/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Depth-first walks of one tree for the check passes 4, 6 and 7 (owned by
 * those passes; other passes have their own walks).
 *
 * Unlike btrfs_walk_tree() the caller decides per child pointer whether to
 * descend, which lets pass 4 visit a block shared by many trees once, and
 * the walk skips the part of a half-dropped snapshot that the kernel already
 * freed (the root item's drop_progress and drop_level).  A block that does
 * not read is counted and skipped: pass 3 reports it.
 */
#ifndef BTRFS_CHECK_TREE_WALK_H
#define BTRFS_CHECK_TREE_WALK_H

#include "kernel-shared/ctree.h"

struct cw_ops {
	/*
	 * Called for every block read, parents before children.  Return 0
	 * to go on (into the children of a node), 1 to skip the children,
	 * negative to stop the walk.
	 */
	int (*block)(struct extent_buffer *eb, void *arg);
	/*
	 * Called for every child pointer of a node before the child is
	 * read (may be NULL).  Return 0 to read and descend, 1 to skip it,
	 * negative to stop.
	 */
	int (*child)(struct extent_buffer *parent, int slot, void *arg);
	/*
	 * Called after a block and all its children were walked (may be
	 * NULL; not called when @block skipped the children).
	 */
	void (*block_end)(struct extent_buffer *eb, void *arg);
};

/* Where a half-dropped tree's remaining part starts (objectid 0: none). */
struct cw_drop {
	struct btrfs_key key;
	int level;
};

/*
 * Was the child at @slot of node @node already freed by the deletion that
 * @drop (may be NULL) describes?  The kernel drops a snapshot depth first
 * in key order and records in the root item the key and level of the
 * next pointer to drop: in the node at drop_level the pointers before it
 * are gone, and above it so are the pointers whose whole key range lies
 * before it.
 */
bool cw_child_dropped(const struct cw_drop *drop,
		      const struct extent_buffer *node, int slot);

/*
 * Walk the tree under @root_eb.  Returns 0, or the negative value a
 * callback returned.  *@nr_unreadable (may be NULL) counts children that
 * failed to read.
 */
int cw_walk(struct btrfs_fs_info *fs_info, struct extent_buffer *root_eb,
	    const struct cw_drop *drop, const struct cw_ops *ops, void *arg,
	    u64 *nr_unreadable);

/*
 * Read the root block a root item points at (@ri, @ri_size bytes in @leaf)
 * and fill @drop from it.  Returns the block or an ERR_PTR.
 */
struct extent_buffer *cw_read_root_item(struct btrfs_fs_info *fs_info,
					struct extent_buffer *leaf,
					const struct btrfs_root_item *ri,
					u32 ri_size, struct cw_drop *drop);

/*
 * Call @fn(eb, objectid, arg) with the root block of every log tree that a
 * ROOT_ITEM of the log root tree names (the log root tree's own block is
 * not included).  A block that fails to read is skipped: pass 3 reports it.
 */
void cw_for_each_log_tree(struct btrfs_fs_info *fs_info,
			  void (*fn)(struct extent_buffer *eb, u64 objectid,
				     void *arg),
			  void *arg);

/*
 * Call @fn for every ROOT_ITEM of the root tree (stops at a nonzero
 * return, which is returned).  @leaf and @slot give the item.
 */
int cw_for_each_root_item(struct btrfs_fs_info *fs_info,
			  int (*fn)(struct extent_buffer *leaf, int slot,
				    const struct btrfs_key *key, void *arg),
			  void *arg);

/* A 64-bit mix of @v into @h, for order-independent fingerprints. */
static inline u64 cw_mix(u64 h, u64 v)
{
	h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
	h ^= h >> 31;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 29;
	return h;
}

#endif
