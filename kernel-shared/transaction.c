// SPDX-License-Identifier: GPL-2.0
/*
 * Transactions: start, commit (delayed refs to quiescence, root and block
 * group items, tree blocks, flush, superblocks) and abort.
 */
#include <stdlib.h>

#include "common/array.h"
#include "kernel-shared/chunk-alloc.h"
#include "kernel-shared/disk-io.h"
#include "kernel-shared/extent-tree.h"
#include "kernel-shared/transaction.h"

/* Rounds of the commit loop before we call it a livelock. */
#define COMMIT_MAX_ROUNDS 1000

struct btrfs_trans_handle *btrfs_start_transaction(struct btrfs_fs_info *fs_info)
{
	struct btrfs_trans_handle *trans;

	if (!(fs_info->open_flags & OPEN_CTREE_WRITES))
		return ERR_PTR(-EROFS);
	if (fs_info->write_failed)
		return ERR_PTR(-EIO);
	if (fs_info->running_transaction)
		return ERR_PTR(-EBUSY);
	trans = calloc(1, sizeof(*trans));
	if (!trans)
		return ERR_PTR(-ENOMEM);
	trans->fs_info = fs_info;
	trans->transid = fs_info->generation + 1;
	fs_info->running_transaction = trans;
	return trans;
}

int btrfs_mark_buffer_dirty(struct btrfs_trans_handle *trans,
			    struct extent_buffer *eb)
{
	if (extent_buffer_dirty(eb))
		return 0;
	if (btrfs_header_generation(eb) != trans->transid)
		return -EUCLEAN;	/* a committed block must be COWed */
	if (array_reserve(trans->dirty, trans->cap_dirty, trans->nr_dirty + 1,
			  64))
		return -ENOMEM;
	set_extent_buffer_dirty(eb);
	trans->dirty[trans->nr_dirty++] = extent_buffer_get(eb);
	return 0;
}

int btrfs_mark_root_dirty(struct btrfs_trans_handle *trans,
			  struct btrfs_root *root)
{
	for (size_t i = 0; i < trans->nr_dirty_roots; i++)
		if (trans->dirty_roots[i] == root)
			return 0;
	if (array_reserve(trans->dirty_roots, trans->cap_dirty_roots,
			  trans->nr_dirty_roots + 1, 64))
		return -ENOMEM;
	trans->dirty_roots[trans->nr_dirty_roots++] = root;
	return 0;
}

int btrfs_pin_extent(struct btrfs_trans_handle *trans, u64 start, u64 len)
{
	if (array_reserve(trans->pinned, trans->cap_pinned,
			  trans->nr_pinned + 1, 64))
		return -ENOMEM;
	trans->pinned[trans->nr_pinned++] =
		(struct btrfs_pinned_extent){ start, len };
	return 0;
}

static void free_trans(struct btrfs_trans_handle *trans)
{
	for (size_t i = 0; i < trans->nr_dirty; i++) {
		clear_extent_buffer_dirty(trans->dirty[i]);
		free_extent_buffer(trans->dirty[i]);
	}
	free(trans->dirty);
	free(trans->dirty_roots);
	free(trans->pinned);
	btrfs_delayed_refs_release(&trans->delayed_refs);
	trans->fs_info->running_transaction = NULL;
	free(trans);
}

void btrfs_abort_transaction(struct btrfs_trans_handle *trans)
{
	struct btrfs_fs_info *fs_info;

	if (IS_ERR_OR_NULL(trans))
		return;
	fs_info = trans->fs_info;
	fs_info->write_failed = true;
	/*
	 * Buffers of this transaction are in the cache under addresses the
	 * committed trees do not use; drop them so readers of this handle
	 * cannot meet them.
	 */
	for (size_t i = 0; i < trans->nr_dirty; i++) {
		u64 start = trans->dirty[i]->start;

		clear_extent_buffer_dirty(trans->dirty[i]);
		free_extent_buffer(trans->dirty[i]);
		eb_cache_forget(fs_info->eb_cache, start);
		trans->dirty[i] = NULL;
	}
	trans->nr_dirty = 0;
	free_trans(trans);
}

/* ------------------------------------------------------------------ */
/* Root items. */

static bool root_is_special(const struct btrfs_fs_info *fs_info,
			    const struct btrfs_root *root)
{
	return root == fs_info->tree_root || root == fs_info->chunk_root;
}

static bool root_item_stale(const struct btrfs_root *root)
{
	const struct btrfs_root_item *item = &root->root_item;

	return btrfs_stack_root_bytenr(item) != root->node->start ||
	       btrfs_stack_root_level(item) != btrfs_header_level(root->node) ||
	       btrfs_stack_root_generation(item) !=
		       btrfs_header_generation(root->node);
}

/* Write @root's item into the root tree (same size as on disk). */
static int update_root_item(struct btrfs_trans_handle *trans,
			    struct btrfs_root *root)
{
	struct btrfs_root *tree_root = trans->fs_info->tree_root;
	struct btrfs_root_item *item = &root->root_item;
	struct btrfs_path *path = btrfs_alloc_path();
	u32 size;
	int ret;

	if (!path)
		return -ENOMEM;
	btrfs_set_stack_root_bytenr(item, root->node->start);
	btrfs_set_stack_root_level(item, btrfs_header_level(root->node));
	btrfs_set_stack_root_generation(item, btrfs_header_generation(root->node));
	btrfs_set_stack_root_generation_v2(item,
		btrfs_header_generation(root->node));
	ret = btrfs_search_slot(trans, tree_root, &root->root_key, path, 0, 1);
	if (ret > 0)
		ret = -EUCLEAN;
	if (!ret) {
		size = btrfs_item_size(path->nodes[0], path->slots[0]);
		size = min_t(u32, size, (u32)sizeof(*item));
		write_extent_buffer(path->nodes[0], item,
			btrfs_item_ptr_offset(path->nodes[0], path->slots[0]),
			size);
		ret = btrfs_mark_buffer_dirty(trans, path->nodes[0]);
	}
	btrfs_free_path(path);
	return ret;
}

static int update_root_items(struct btrfs_trans_handle *trans,
			     bool *did_work)
{
	struct btrfs_fs_info *fs_info = trans->fs_info;

	for (size_t i = 0; i < trans->nr_dirty_roots; i++) {
		struct btrfs_root *root = trans->dirty_roots[i];
		int ret;

		if (root_is_special(fs_info, root) || !root_item_stale(root))
			continue;
		*did_work = true;
		ret = update_root_item(trans, root);
		if (ret)
			return ret;
	}
	return 0;
}

/* The tree root is written every commit: its generation is the super's. */
static int cow_tree_root(struct btrfs_trans_handle *trans)
{
	struct btrfs_root *tree_root = trans->fs_info->tree_root;
	struct btrfs_key key = { 0, 0, 0 };
	struct btrfs_path *path;
	int ret;

	if (btrfs_header_generation(tree_root->node) == trans->transid)
		return 0;
	path = btrfs_alloc_path();
	if (!path)
		return -ENOMEM;
	path->lowest_level = btrfs_header_level(tree_root->node);
	ret = btrfs_search_slot(trans, tree_root, &key, path, 0, 1);
	btrfs_free_path(path);
	return ret < 0 ? ret : 0;
}

/* Run refs, write block group and root items, until nothing changes. */
static int commit_cowonly_roots(struct btrfs_trans_handle *trans)
{
	int ret = cow_tree_root(trans);

	for (int round = 0; !ret && round < COMMIT_MAX_ROUNDS; round++) {
		bool did_work = false;

		ret = btrfs_run_delayed_refs(trans, 0);
		if (!ret)
			ret = btrfs_write_dirty_block_groups(trans, &did_work);
		if (!ret)
			ret = btrfs_write_dirty_dev_items(trans, &did_work);
		if (!ret)
			ret = update_root_items(trans, &did_work);
		if (!ret && !did_work && !btrfs_delayed_refs_pending(trans))
			return 0;
	}
	return ret ? ret : -ELOOP;
}

/* ------------------------------------------------------------------ */
/* Writing. */

static int write_dirty_blocks(struct btrfs_trans_handle *trans)
{
	for (size_t i = 0; i < trans->nr_dirty; i++) {
		struct extent_buffer *eb = trans->dirty[i];
		int ret;

		if (!extent_buffer_dirty(eb))
			continue;	/* freed again in this transaction */
		ret = write_tree_block(trans->fs_info, eb);
		if (ret)
			return ret;
		clear_extent_buffer_dirty(eb);
	}
	return 0;
}


/* Fill the superblock for generation @trans->transid. */
static void update_super(struct btrfs_trans_handle *trans)
{
	struct btrfs_fs_info *fs_info = trans->fs_info;
	struct btrfs_super_block *sb = &fs_info->super_copy;
	struct extent_buffer *tree = fs_info->tree_root->node;
	struct extent_buffer *chunk = fs_info->chunk_root->node;

	btrfs_set_super_generation(sb, trans->transid);
	btrfs_set_super_root(sb, tree->start);
	btrfs_set_super_root_level(sb, btrfs_header_level(tree));
	btrfs_set_super_chunk_root(sb, chunk->start);
	btrfs_set_super_chunk_root_level(sb, btrfs_header_level(chunk));
	btrfs_set_super_chunk_root_generation(sb, btrfs_header_generation(chunk));
	if (fs_info->drop_log) {
		/* a repair open chose to drop the log (OPEN_CTREE_ZERO_LOG) */
		btrfs_set_super_log_root(sb, 0);
		btrfs_set_super_log_root_level(sb, 0);
	}
	/*
	 * cache_generation stays: a v1 space cache written at generation N no
	 * longer matches once we commit N + 1, and the kernel then clears and
	 * rebuilds it (btrfs check skips it).
	 */
	btrfs_backup_super_roots(fs_info);
}

int btrfs_commit_transaction(struct btrfs_trans_handle *trans)
{
	struct btrfs_fs_info *fs_info = trans->fs_info;
	int ret;

	ret = commit_cowonly_roots(trans);
	if (!ret)
		ret = write_dirty_blocks(trans);
	if (!ret)
		ret = btrfs_flush_devices(fs_info);
	if (ret) {
		btrfs_abort_transaction(trans);
		return ret;
	}
	update_super(trans);
	ret = write_all_supers(fs_info);
	if (ret) {
		btrfs_abort_transaction(trans);
		return ret;
	}
	fs_info->generation = trans->transid;
	ret = btrfs_unpin_extents(trans);
	if (ret)
		fs_info->write_failed = true;
	free_trans(trans);
	return ret;
}
