// SPDX-License-Identifier: GPL-2.0
/*
 * btrfs check: small helpers shared by the passes.
 */
#include <errno.h>
#include <string.h>

#include "cmds/check/check.h"
#include "kernel-shared/disk-io.h"

int check_for_each_item(struct check_ctx *ctx, struct btrfs_root *root,
			const struct btrfs_key *start,
			int (*fn)(struct check_ctx *ctx,
				  struct extent_buffer *eb, int slot,
				  const struct btrfs_key *key, void *data),
			void *data)
{
	struct btrfs_path *path;
	struct btrfs_key key = { 0 };
	int ret;

	if (!root || !root->node)
		return -ENOENT;
	path = btrfs_alloc_path();
	if (!path)
		return -ENOMEM;
	if (start)
		key = *start;
	ret = btrfs_search_slot_for_read(root, &key, path);
	while (ret == 0) {
		struct extent_buffer *eb = path->nodes[0];
		int slot = path->slots[0];

		btrfs_item_key_to_cpu(eb, &key, slot);
		ret = fn(ctx, eb, slot, &key, data);
		if (ret)
			break;
		check_progress_add(ctx, 1);
		ret = btrfs_next_item(root, path);
	}
	btrfs_free_path(path);
	/* 1: the end of the tree, or CHECK_ITER_STOP from @fn */
	return ret > 0 ? 0 : ret;
}

void check_tree_unreadable(struct check_ctx *ctx, u64 tree, int err,
			   const char *what)
{
	struct check_finding f = { .code = CHECK_BLOCK_READ, .root = tree };

	check_report(ctx, &f, "%s: cannot read all of the tree: %s", what,
		     strerror(-err));
}

bool check_is_fstree(u64 id)
{
	return id == BTRFS_FS_TREE_OBJECTID ||
	       (id >= BTRFS_FIRST_FREE_OBJECTID &&
		id <= BTRFS_LAST_FREE_OBJECTID);
}

struct btrfs_root *check_block_group_root(struct btrfs_fs_info *fs_info)
{
	u64 bgt = BTRFS_FEATURE_COMPAT_RO_BLOCK_GROUP_TREE;

	if (btrfs_fs_compat_ro(fs_info, bgt))
		return fs_info->block_group_root;
	return fs_info->extent_root;
}
