/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The block group tree (the kernel's block-group-tree feature): block group
 * items in their own tree instead of the extent tree.
 */
#ifndef BTRFS_BLOCK_GROUP_TREE_H
#define BTRFS_BLOCK_GROUP_TREE_H

#include "kernel-shared/ctree.h"

/*
 * Convert in @trans (btrfstune's and mkfs's way): create the tree, move
 * every BLOCK_GROUP_ITEM from the extent tree into it and set the
 * BLOCK_GROUP_TREE compat_ro flag, so that block group items are written
 * there from then on.  0, -EEXIST (already converted), <0 (abort the
 * transaction).
 */
int btrfs_convert_to_block_group_tree(struct btrfs_trans_handle *trans);

#endif
