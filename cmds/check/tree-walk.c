// SPDX-License-Identifier: GPL-2.0
/*
 * Tree walks for the check passes 4, 6 and 7; see tree-walk.h.
 */
#include "cmds/check/tree-walk.h"
#include "kernel-shared/disk-io.h"
#include "kernel-shared/extent-io.h"

struct cw_state {
	struct btrfs_fs_info *fs_info;
	const struct cw_drop *drop;
	const struct cw_ops *ops;
	void *arg;
	u64 unreadable;
};

/*
 * Children wholly before drop_progress at levels >= drop_level are gone;
 * at drop_level exactly, the child at drop_progress is the next to drop.
 */
bool cw_child_dropped(const struct cw_drop *drop,
		      const struct extent_buffer *node, int slot)
{
	int level = btrfs_header_level(node);
	struct btrfs_key key;

	if (!drop || drop->key.objectid == 0 || level < drop->level)
		return false;
	btrfs_node_key_to_cpu(node, &key, slot);
	if (btrfs_comp_cpu_keys(&key, &drop->key) >= 0)
		return false;
	if (level == drop->level)
		return true;
	if (slot + 1 >= (int)btrfs_header_nritems(node))
		return false;
	btrfs_node_key_to_cpu(node, &key, slot + 1);
	return btrfs_comp_cpu_keys(&key, &drop->key) <= 0;
}

static int cw_block(struct cw_state *st, struct extent_buffer *eb, int depth)
{
	int nr, ret, slot;

	ret = st->ops->block ? st->ops->block(eb, st->arg) : 0;
	if (ret)
		return ret < 0 ? ret : 0;
	if (btrfs_header_level(eb) == 0 || depth >= BTRFS_MAX_LEVEL)
		goto end;
	nr = (int)btrfs_header_nritems(eb);
	for (slot = 0; slot < nr; slot++) {
		struct extent_buffer *child;

		if (cw_child_dropped(st->drop, eb, slot))
			continue;
		if (st->ops->child) {
			ret = st->ops->child(eb, slot, st->arg);
			if (ret < 0)
				return ret;
			if (ret)
				continue;
		}
		child = btrfs_read_node_slot(st->fs_info, eb, slot);
		if (IS_ERR(child)) {
			st->unreadable++;
			continue;
		}
		ret = cw_block(st, child, depth + 1);
		free_extent_buffer(child);
		if (ret < 0)
			return ret;
	}
end:
	if (st->ops->block_end)
		st->ops->block_end(eb, st->arg);
	return 0;
}

int cw_walk(struct btrfs_fs_info *fs_info, struct extent_buffer *root_eb,
	    const struct cw_drop *drop, const struct cw_ops *ops, void *arg,
	    u64 *nr_unreadable)
{
	struct cw_state st = {
		.fs_info = fs_info,
		.drop = drop,
		.ops = ops,
		.arg = arg,
	};
	int ret;

	ret = cw_block(&st, root_eb, 0);
	if (nr_unreadable)
		*nr_unreadable += st.unreadable;
	return ret;
}

struct extent_buffer *cw_read_root_item(struct btrfs_fs_info *fs_info,
					struct extent_buffer *leaf,
					const struct btrfs_root_item *ri,
					u32 ri_size, struct cw_drop *drop)
{
	struct btrfs_tree_parent_check check = { 0 };

	memset(drop, 0, sizeof(*drop));
	if (ri_size < BTRFS_LEGACY_ROOT_ITEM_SIZE)
		return ERR_PTR(-EUCLEAN);
	check.level = btrfs_root_level(leaf, ri);
	check.transid = btrfs_root_generation(leaf, ri);
	if (check.level >= BTRFS_MAX_LEVEL)
		return ERR_PTR(-EUCLEAN);
	if (btrfs_root_drop_progress(leaf, ri, &drop->key))
		drop->level = btrfs_root_drop_level(leaf, ri);
	return read_tree_block(fs_info, btrfs_root_bytenr(leaf, ri), &check);
}

int cw_for_each_root_item(struct btrfs_fs_info *fs_info,
			  int (*fn)(struct extent_buffer *leaf, int slot,
				    const struct btrfs_key *key, void *arg),
			  void *arg)
{
	struct btrfs_path *path;
	struct btrfs_key key = { 0, 0, 0 };
	int ret;

	if (!fs_info->tree_root || !fs_info->tree_root->node)
		return -ENOENT;
	path = btrfs_alloc_path();
	if (!path)
		return -ENOMEM;
	ret = btrfs_search_slot_for_read(fs_info->tree_root, &key, path);
	while (ret == 0) {
		struct extent_buffer *leaf = path->nodes[0];
		int slot = path->slots[0];

		btrfs_item_key_to_cpu(leaf, &key, slot);
		if (key.type == BTRFS_ROOT_ITEM_KEY) {
			ret = fn(leaf, slot, &key, arg);
			if (ret)
				break;
		}
		ret = btrfs_next_item(fs_info->tree_root, path);
	}
	btrfs_free_path(path);
	return ret > 0 ? 0 : ret;
}

void cw_for_each_log_tree(struct btrfs_fs_info *fs_info,
			  void (*fn)(struct extent_buffer *eb, u64 objectid,
				     void *arg),
			  void *arg)
{
	struct btrfs_root *log = fs_info->log_root_tree;
	struct btrfs_key key = { 0, 0, 0 };
	struct btrfs_path *path;
	int ret;

	if (!log || !log->node)
		return;
	path = btrfs_alloc_path();
	if (!path)
		return;
	ret = btrfs_search_slot_for_read(log, &key, path);
	while (ret == 0) {
		struct extent_buffer *leaf = path->nodes[0];
		int slot = path->slots[0];

		btrfs_item_key_to_cpu(leaf, &key, slot);
		if (key.type == BTRFS_ROOT_ITEM_KEY) {
			struct btrfs_root_item *ri;
			struct extent_buffer *eb;
			struct cw_drop drop;

			ri = btrfs_item_ptr(leaf, slot, struct btrfs_root_item);
			eb = cw_read_root_item(fs_info, leaf, ri,
					       btrfs_item_size(leaf, slot),
					       &drop);
			if (!IS_ERR(eb)) {
				fn(eb, key.offset, arg);
				free_extent_buffer(eb);
			}
		}
		ret = btrfs_next_item(log, path);
	}
	btrfs_free_path(path);
}
