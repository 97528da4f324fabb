// SPDX-License-Identifier: GPL-2.0
/*
 * Moving block group items into the block group tree.
 */
#include <stdlib.h>

#include "kernel-shared/block-group-tree.h"
#include "kernel-shared/extent-tree.h"
#include "kernel-shared/root-tree.h"
#include "kernel-shared/transaction.h"

/* Delete @bg's item from the extent tree.  0, -EUCLEAN (not there), <0. */
static int delete_extent_tree_item(struct btrfs_trans_handle *trans,
				   const struct btrfs_block_group *bg)
{
	struct btrfs_key key = { bg->start, BTRFS_BLOCK_GROUP_ITEM_KEY,
				 bg->length };
	struct btrfs_path *path = btrfs_alloc_path();
	int ret;

	if (!path)
		return -ENOMEM;
	ret = btrfs_search_slot(trans, trans->fs_info->extent_root, &key, path,
				-1, 1);
	if (ret > 0)
		ret = -EUCLEAN;
	if (!ret)
		ret = btrfs_del_item(trans, trans->fs_info->extent_root, path);
	btrfs_free_path(path);
	return ret;
}

/* Write @bg's item, from its in-memory state, into @root. */
static int insert_group_item(struct btrfs_trans_handle *trans,
			     struct btrfs_root *root,
			     const struct btrfs_block_group *bg)
{
	struct btrfs_key key = { bg->start, BTRFS_BLOCK_GROUP_ITEM_KEY,
				 bg->length };
	struct btrfs_block_group_item item;

	btrfs_set_stack_block_group_used(&item, bg->used);
	btrfs_set_stack_block_group_chunk_objectid(&item,
					BTRFS_FIRST_CHUNK_TREE_OBJECTID);
	btrfs_set_stack_block_group_flags(&item, bg->flags);
	return btrfs_insert_item(trans, root, &key, &item, sizeof(item));
}

int btrfs_convert_to_block_group_tree(struct btrfs_trans_handle *trans)
{
	struct btrfs_fs_info *fs_info = trans->fs_info;
	struct btrfs_super_block *sb = &fs_info->super_copy;
	struct btrfs_root *root;
	int ret = 0;

	if (fs_info->block_group_root ||
	    btrfs_fs_compat_ro(fs_info,
			       BTRFS_FEATURE_COMPAT_RO_BLOCK_GROUP_TREE))
		return -EEXIST;
	root = btrfs_create_tree(trans, BTRFS_BLOCK_GROUP_TREE_OBJECTID);
	if (IS_ERR(root))
		return (int)PTR_ERR(root);
	fs_info->block_group_root = root;
	for (size_t i = 0; !ret && i < fs_info->nr_block_groups; i++) {
		struct btrfs_block_group *bg = fs_info->block_groups[i];

		ret = delete_extent_tree_item(trans, bg);
		if (!ret)
			ret = insert_group_item(trans, root, bg);
	}
	if (ret)
		return ret;
	btrfs_set_super_compat_ro_flags(sb, btrfs_super_compat_ro_flags(sb) |
				BTRFS_FEATURE_COMPAT_RO_BLOCK_GROUP_TREE);
	return 0;
}
