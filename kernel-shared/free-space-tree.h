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
 * After the block groups are loaded: note which groups use bitmaps.  0;
 * -EUCLEAN for bitmap items in an extent-format group; other negative errno
 * on read errors.
 */
int btrfs_read_free_space_tree_formats(struct btrfs_fs_info *fs_info);

#endif
