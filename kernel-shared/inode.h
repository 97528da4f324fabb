/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Inode items: looking up the INODE_ITEM of an inode number in a
 * filesystem tree (the kernel's btrfs_lookup_inode() in fs/btrfs/inode-item.c,
 * read side only).
 */
#ifndef BTRFS_INODE_H
#define BTRFS_INODE_H

#include "kernel-shared/ctree.h"
#include "kernel-shared/item-iter.h"

/*
 * Copy the inode item of inode @ino of @root into @item (plain memory: read
 * it with the btrfs_stack_inode_*() accessors).
 * Returns 0; -ENOENT when there is no such item (also when the block that
 * would hold it cannot be read: that block is reported through @on_skip,
 * which may be NULL); -EUCLEAN when the item is too small; -ENOMEM.
 */
int btrfs_read_inode_item(struct btrfs_root *root, u64 ino,
			  struct btrfs_inode_item *item,
			  btrfs_iter_skip_fn on_skip, void *skip_ctx);

/* The first objectid >= @start that has DIR_INDEX items in @root (its first
 * directory), in *@found.  0, -ENOENT (none), <0 on errors. */
int btrfs_find_first_dir(struct btrfs_root *root, u64 start, u64 *found,
			 btrfs_iter_skip_fn on_skip, void *skip_ctx);

#endif
