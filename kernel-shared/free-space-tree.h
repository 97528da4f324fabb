/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The free-space tree (the kernel's free-space-tree.c): for each block group
 * a FREE_SPACE_INFO item and its free ranges as FREE_SPACE_EXTENT items.
 *
 * Groups in bitmap format (FREE_SPACE_BITMAP items, one bit per sector)
 * are modified in place, bit by bit.  Groups are never converted between
 * the formats: the kernel converts a group when it next modifies it past
 * its thresholds, and both formats are valid on disk at any extent count.
 */
#ifndef BTRFS_FREE_SPACE_TREE_H
#define BTRFS_FREE_SPACE_TREE_H

#include "kernel-shared/ctree.h"

/* Record [@start, @start + @size) as free / as used.  0 or negative errno
 * (-EUCLEAN when the tree does not match the request). */
int btrfs_add_to_free_space_tree(struct btrfs_trans_handle *trans, u64 start,
				 u64 size);
int btrfs_remove_from_free_space_tree(struct btrfs_trans_handle *trans,
				      u64 start, u64 size);

/*
 * Entries of a block group made in this transaction (chunk allocation):
 * a FREE_SPACE_INFO and one FREE_SPACE_EXTENT covering the whole group,
 * as the kernel records a new group (superblock copies included, see
 * above).  Clears bg->needs_free_space; the add / remove functions above
 * call it first for such a group.  0 or negative errno.
 */
struct btrfs_block_group;
int btrfs_add_block_group_free_space(struct btrfs_trans_handle *trans,
				     struct btrfs_block_group *bg);

/*
 * After the block groups are loaded: note which groups use bitmaps.  0;
 * -EUCLEAN for bitmap items in an extent-format group; other negative errno
 * on read errors.
 */
int btrfs_read_free_space_tree_formats(struct btrfs_fs_info *fs_info);

/*
 * Create the free-space tree of a filesystem that has none (the kernel's
 * conversion): the tree, for every block group a FREE_SPACE_INFO and one
 * FREE_SPACE_EXTENT per gap between its extent items (extent format), and
 * the FREE_SPACE_TREE and FREE_SPACE_TREE_VALID compat_ro flags.  From
 * then on allocations keep it in step.  0, -EEXIST (there is one), <0
 * (the transaction must be aborted).
 */
int btrfs_create_free_space_tree(struct btrfs_trans_handle *trans);

#endif
