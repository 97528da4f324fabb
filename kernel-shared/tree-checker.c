// SPDX-License-Identifier: GPL-2.0
/*
 * Structural validation of tree blocks.
 *
 * Nothing in the block is trusted: every count and offset is checked
 * against the size of the buffer before it is used to address anything.
 * The checks are the ones every reader relies on (level, item count, item
 * data placement, key order, child pointers) plus a minimum size for item
 * types whose fixed part every consumer reads.  Anything merely unusual but
 * valid (an empty leaf, a legacy root item, a v0 extent item, key types we
 * do not know) passes, so that damaged-looking but real images stay
 * readable.
 *
 * Sizes are taken from the buffer itself (eb->len, which read_tree_block
 * allocates as the node size), so a check can never read past it.
 */
#include "kernel-shared/tree-checker.h"

static const char *const reason_text[] = {
	[TREE_CHECK_OK] = "ok",
	[TREE_CHECK_BAD_LEVEL] = "invalid level",
	[TREE_CHECK_NRITEMS] = "invalid number of items",
	[TREE_CHECK_EMPTY_NODE] = "node has no pointers",
	[TREE_CHECK_ITEM_OFFSET] = "item data outside the leaf data area",
	[TREE_CHECK_ITEM_GAP] = "item data not contiguous",
	[TREE_CHECK_KEY_ORDER] = "keys out of order",
	[TREE_CHECK_BLOCKPTR] = "invalid child block pointer",
	[TREE_CHECK_ITEM_SIZE] = "item too small for its type",
};

const char *btrfs_tree_check_reason_str(enum btrfs_tree_check_reason r)
{
	if ((unsigned int)r >= ARRAY_SIZE(reason_text) || !reason_text[r])
		return "unknown reason";
	return reason_text[r];
}

/*
 * Smallest valid item of each type that has a fixed part; 0 means no
 * constraint.  EXTENT_ITEM also accepts the 4-byte v0 item (see below).
 */
static const u32 min_item_size[256] = {
	[BTRFS_INODE_ITEM_KEY] = sizeof(struct btrfs_inode_item),
	[BTRFS_ROOT_ITEM_KEY] = BTRFS_LEGACY_ROOT_ITEM_SIZE,
	[BTRFS_DIR_ITEM_KEY] = sizeof(struct btrfs_dir_item),
	[BTRFS_DIR_INDEX_KEY] = sizeof(struct btrfs_dir_item),
	[BTRFS_XATTR_ITEM_KEY] = sizeof(struct btrfs_dir_item),
	[BTRFS_EXTENT_DATA_KEY] = BTRFS_FILE_EXTENT_INLINE_DATA_START,
	[BTRFS_CHUNK_ITEM_KEY] = sizeof(struct btrfs_chunk),
	[BTRFS_DEV_ITEM_KEY] = sizeof(struct btrfs_dev_item),
	[BTRFS_BLOCK_GROUP_ITEM_KEY] = sizeof(struct btrfs_block_group_item),
	[BTRFS_EXTENT_ITEM_KEY] = sizeof(struct btrfs_extent_item),
	[BTRFS_METADATA_ITEM_KEY] = sizeof(struct btrfs_extent_item),
};

static int check_fail(struct btrfs_tree_check_result *res,
		      enum btrfs_tree_check_reason reason, int slot)
{
	if (res) {
		res->reason = reason;
		res->slot = slot;
	}
	return -EUCLEAN;
}

static int check_pass(struct btrfs_tree_check_result *res)
{
	if (res) {
		res->reason = TREE_CHECK_OK;
		res->slot = -1;
	}
	return 0;
}

static bool item_size_ok(u8 type, u32 size)
{
	/* Filesystems from before 2.6.31 have 4-byte extent items. */
	if (type == BTRFS_EXTENT_ITEM_KEY &&
	    size == sizeof(struct btrfs_extent_item_v0))
		return true;
	return size >= min_item_size[type];
}

/*
 * Item @slot's data must end exactly at @expected_end (the end of the data
 * area for item 0, else where the previous item's data starts), and must
 * neither leave the data area nor reach into the item array.
 */
static enum btrfs_tree_check_reason check_item_placement(
	const struct extent_buffer *eb, int slot, u32 data_size,
	u32 expected_end)
{
	u64 offset = btrfs_item_offset(eb, slot);
	u64 end = offset + btrfs_item_size(eb, slot);
	u64 array_end = (u64)(slot + 1) * sizeof(struct btrfs_item);

	/* Same order as the kernel, so reasons map to its messages. */
	if (end != expected_end)
		return TREE_CHECK_ITEM_GAP;
	if (end > data_size || offset < array_end)
		return TREE_CHECK_ITEM_OFFSET;
	return TREE_CHECK_OK;
}

/* The header must be there before any of it is read. */
static bool block_too_small(const struct extent_buffer *eb)
{
	return eb->len <= BTRFS_LEAF_DATA_OFFSET;
}

int btrfs_check_leaf(const struct btrfs_fs_info *fs_info,
		     const struct extent_buffer *eb,
		     struct btrfs_tree_check_result *res)
{
	struct btrfs_key key;
	struct btrfs_key prev = { 0 };
	u32 data_size;
	u32 expected_end;
	u32 nritems;

	(void)fs_info;
	if (block_too_small(eb))
		return check_fail(res, TREE_CHECK_NRITEMS, -1);
	if (btrfs_header_level(eb) != 0)
		return check_fail(res, TREE_CHECK_BAD_LEVEL, -1);
	data_size = btrfs_leaf_data_size(eb->len);
	nritems = btrfs_header_nritems(eb);
	if (nritems > data_size / sizeof(struct btrfs_item))
		return check_fail(res, TREE_CHECK_NRITEMS, -1);
	expected_end = data_size;
	for (int slot = 0; slot < (int)nritems; slot++) {
		enum btrfs_tree_check_reason r;

		btrfs_item_key_to_cpu(eb, &key, slot);
		if (slot > 0 && btrfs_comp_cpu_keys(&prev, &key) >= 0)
			return check_fail(res, TREE_CHECK_KEY_ORDER, slot);
		r = check_item_placement(eb, slot, data_size, expected_end);
		if (r != TREE_CHECK_OK)
			return check_fail(res, r, slot);
		if (!item_size_ok(key.type, btrfs_item_size(eb, slot)))
			return check_fail(res, TREE_CHECK_ITEM_SIZE, slot);
		expected_end = btrfs_item_offset(eb, slot);
		prev = key;
	}
	return check_pass(res);
}

static bool blockptr_ok(const struct btrfs_fs_info *fs_info, u64 bytenr)
{
	u32 sectorsize = fs_info ? fs_info->sectorsize : 0;

	if (bytenr == 0)
		return false;
	/* Without a sane sector size only the zero pointer is detectable. */
	return !is_power_of_2(sectorsize) ||
	       IS_ALIGNED(bytenr, (u64)sectorsize);
}

int btrfs_check_node(const struct btrfs_fs_info *fs_info,
		     const struct extent_buffer *eb,
		     struct btrfs_tree_check_result *res)
{
	struct btrfs_key key;
	struct btrfs_key prev = { 0 };
	u32 nritems;
	u8 level;

	if (block_too_small(eb))
		return check_fail(res, TREE_CHECK_NRITEMS, -1);
	level = btrfs_header_level(eb);
	if (level == 0 || level >= BTRFS_MAX_LEVEL)
		return check_fail(res, TREE_CHECK_BAD_LEVEL, -1);
	nritems = btrfs_header_nritems(eb);
	if (nritems == 0)
		return check_fail(res, TREE_CHECK_EMPTY_NODE, -1);
	if (nritems > btrfs_max_node_ptrs(eb->len))
		return check_fail(res, TREE_CHECK_NRITEMS, -1);
	for (int slot = 0; slot < (int)nritems; slot++) {
		if (!blockptr_ok(fs_info, btrfs_node_blockptr(eb, slot)))
			return check_fail(res, TREE_CHECK_BLOCKPTR, slot);
		btrfs_node_key_to_cpu(eb, &key, slot);
		if (slot > 0 && btrfs_comp_cpu_keys(&prev, &key) >= 0)
			return check_fail(res, TREE_CHECK_KEY_ORDER, slot);
		prev = key;
	}
	return check_pass(res);
}

int btrfs_check_tree_block(const struct btrfs_fs_info *fs_info,
			   const struct extent_buffer *eb,
			   struct btrfs_tree_check_result *res)
{
	u8 level;

	if (block_too_small(eb))
		return check_fail(res, TREE_CHECK_NRITEMS, -1);
	level = btrfs_header_level(eb);
	if (level >= BTRFS_MAX_LEVEL)
		return check_fail(res, TREE_CHECK_BAD_LEVEL, -1);
	if (level == 0)
		return btrfs_check_leaf(fs_info, eb, res);
	return btrfs_check_node(fs_info, eb, res);
}
