// SPDX-License-Identifier: GPL-2.0
/*
 * btrfs check: small helpers shared by the passes.
 */
#include <errno.h>
#include <string.h>

#include "cmds/check/check.h"
#include "kernel-shared/extent-tree.h"
#include "kernel-shared/disk-io.h"
#include "kernel-shared/item-iter.h"

/* The first unreadable block stops the walk: remember its error. */
static void note_skip(const struct btrfs_key *lo, const struct btrfs_key *hi,
		      u64 bytenr, int err, void *data)
{
	int *first = data;

	(void)lo;
	(void)hi;
	(void)bytenr;
	if (!*first)
		*first = err ? err : -EIO;
}

int check_for_each_item(struct check_ctx *ctx, struct btrfs_root *root,
			const struct btrfs_key *start,
			int (*fn)(struct check_ctx *ctx,
				  struct extent_buffer *eb, int slot,
				  const struct btrfs_key *key, void *data),
			void *data)
{
	static const struct btrfs_key first = { 0, 0, 0 };
	static const struct btrfs_key last = { (u64)-1, (u8)-1, (u64)-1 };
	struct btrfs_item_iter it;
	struct btrfs_key key;
	int skipped = 0;
	int ret;

	if (!root || !root->node)
		return -ENOENT;
	btrfs_item_iter_init(&it, root, start ? start : &first, &last,
			     note_skip, &skipped);
	/* stop at the first unreadable block, as the caller reports it */
	while ((ret = btrfs_item_iter_next(&it, &key)) == 0 && !skipped) {
		ret = fn(ctx, it.leaf, it.slot, &key, data);
		if (ret)
			break;
		check_progress_add(ctx, 1);
	}
	btrfs_item_iter_release(&it);
	if (skipped && ret >= 0)
		return skipped;
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
	return btrfs_block_group_root(fs_info);
}
