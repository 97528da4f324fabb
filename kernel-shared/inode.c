// SPDX-License-Identifier: GPL-2.0
/*
 * Inode item lookup (see inode.h).
 */
#include "kernel-shared/inode.h"

int btrfs_read_inode_item(struct btrfs_root *root, u64 ino,
			  struct btrfs_inode_item *item,
			  btrfs_iter_skip_fn on_skip, void *skip_ctx)
{
	struct btrfs_key key = { ino, BTRFS_INODE_ITEM_KEY, 0 };
	struct btrfs_key max = { ino, BTRFS_INODE_ITEM_KEY, (u64)-1 };
	struct btrfs_item_iter it;
	struct btrfs_key found;
	int ret;

	btrfs_item_iter_init(&it, root, &key, &max, on_skip, skip_ctx);
	ret = btrfs_item_iter_next(&it, &found);
	if (ret == 0) {
		ret = btrfs_read_item_data(it.leaf, it.slot, item, 0,
					   sizeof(*item));
	} else if (ret > 0) {
		ret = -ENOENT;
	}
	btrfs_item_iter_release(&it);
	return ret;
}

int btrfs_find_first_dir(struct btrfs_root *root, u64 start, u64 *found,
			 btrfs_iter_skip_fn on_skip, void *skip_ctx)
{
	struct btrfs_key key = { start, 0, 0 };
	struct btrfs_key max = { (u64)-1, (u8)-1, (u64)-1 };
	struct btrfs_item_iter it;
	struct btrfs_key k;
	int ret;

	btrfs_item_iter_init(&it, root, &key, &max, on_skip, skip_ctx);
	while ((ret = btrfs_item_iter_next(&it, &k)) == 0) {
		if (k.type == BTRFS_DIR_INDEX_KEY) {
			*found = k.objectid;
			break;
		}
	}
	btrfs_item_iter_release(&it);
	return ret > 0 ? -ENOENT : ret;
}
