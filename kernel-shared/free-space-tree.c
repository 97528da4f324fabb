// SPDX-License-Identifier: GPL-2.0
/*
 * Keeping the free-space tree in step with allocations and frees, extent
 * format only.  Neighbours are found with a read-only search first; the
 * items are then changed with COW searches for their exact keys, so that
 * no block of the previous generation is ever modified.
 */
#include <stdlib.h>

#include "common/array.h"
#include "kernel-shared/extent-tree.h"
#include "kernel-shared/free-space-tree.h"
#include "kernel-shared/root-tree.h"
#include "kernel-shared/transaction.h"

static struct btrfs_root *fst_root(struct btrfs_trans_handle *trans)
{
	return trans->fs_info->free_space_root;
}

/* Bits (sectors) one bitmap item covers, and its size when full. */
#define FST_BITMAP_BYTES 256U
#define FST_BITMAP_BITS (FST_BITMAP_BYTES * 8U)

static int convert_to_bitmaps(struct btrfs_trans_handle *trans,
			      struct btrfs_block_group *bg);
static int convert_to_extents(struct btrfs_trans_handle *trans,
			      struct btrfs_block_group *bg);

/*
 * The kernel's thresholds: bitmaps once the extent items would take more
 * room than the bitmaps of the whole group; back to extents 100 extents
 * below that.
 */
static u64 bitmap_high_thresh(const struct btrfs_block_group *bg)
{
	u64 range = (u64)bg->fs_info->sectorsize * FST_BITMAP_BITS;
	u64 nr = (bg->length + range - 1) / range;

	return nr * (sizeof(struct btrfs_item) + FST_BITMAP_BYTES) /
	       sizeof(struct btrfs_item);
}

static u64 bitmap_low_thresh(const struct btrfs_block_group *bg)
{
	u64 high = bitmap_high_thresh(bg);

	return high > 100 ? high - 100 : 0;
}

/*
 * Change @bg's FREE_SPACE_INFO: add @delta to the extent count and, when
 * @set_format, set the bitmap flag to bg->fst_bitmaps.  *count gets the
 * new count.
 */
static int update_info(struct btrfs_trans_handle *trans,
		       struct btrfs_block_group *bg, int delta,
		       bool set_format, u32 *count)
{
	struct btrfs_key key = { bg->start, BTRFS_FREE_SPACE_INFO_KEY,
				 bg->length };
	struct btrfs_path *path = btrfs_alloc_path();
	struct btrfs_free_space_info *info;
	struct extent_buffer *leaf;
	u32 flags;
	int ret;

	if (!path)
		return -ENOMEM;
	ret = btrfs_search_slot(trans, fst_root(trans), &key, path, 0, 1);
	if (ret > 0)
		ret = -EUCLEAN;
	if (ret)
		goto out;
	leaf = path->nodes[0];
	info = btrfs_item_ptr(leaf, path->slots[0], struct btrfs_free_space_info);
	flags = btrfs_free_space_flags(leaf, info);
	if (set_format) {
		flags &= ~BTRFS_FREE_SPACE_USING_BITMAPS;
		if (bg->fst_bitmaps)
			flags |= BTRFS_FREE_SPACE_USING_BITMAPS;
		btrfs_set_free_space_flags(leaf, info, flags);
	} else if (!!(flags & BTRFS_FREE_SPACE_USING_BITMAPS) !=
		   bg->fst_bitmaps) {
		ret = -EUCLEAN;
		goto out;
	}
	*count = (u32)((s64)btrfs_free_space_extent_count(leaf, info) + delta);
	btrfs_set_free_space_extent_count(leaf, info, *count);
	ret = btrfs_mark_buffer_dirty(trans, leaf);
out:
	btrfs_free_path(path);
	return ret;
}

/* Add @delta to the extent count; convert the format past a threshold. */
static int update_info_count(struct btrfs_trans_handle *trans,
			     struct btrfs_block_group *bg, int delta)
{
	u32 count;
	int ret = update_info(trans, bg, delta, false, &count);

	if (ret)
		return ret;
	if (!bg->fst_bitmaps && count > bitmap_high_thresh(bg))
		return convert_to_bitmaps(trans, bg);
	if (bg->fst_bitmaps && count < bitmap_low_thresh(bg))
		return convert_to_extents(trans, bg);
	return 0;
}

/*
 * The FREE_SPACE_EXTENT of @bg with the highest start <= @at (read-only):
 * 0 and *found, 1 when there is none.
 */
static int extent_at_or_before(struct btrfs_trans_handle *trans,
			       struct btrfs_block_group *bg, u64 at,
			       struct btrfs_key *found)
{
	struct btrfs_key key = { at, BTRFS_FREE_SPACE_EXTENT_KEY, (u64)-1 };
	struct btrfs_path *path = btrfs_alloc_path();
	int ret;

	if (!path)
		return -ENOMEM;
	ret = btrfs_search_slot(NULL, fst_root(trans), &key, path, 0, 0);
	if (ret > 0)
		ret = btrfs_previous_item(fst_root(trans), path, bg->start,
					  BTRFS_FREE_SPACE_EXTENT_KEY);
	if (ret == 0)
		btrfs_item_key_to_cpu(path->nodes[0], found, path->slots[0]);
	btrfs_free_path(path);
	return ret;
}

/* Is there a FREE_SPACE_EXTENT starting exactly at @start? (read-only) */
static int extent_starting_at(struct btrfs_trans_handle *trans, u64 start,
			      struct btrfs_key *found)
{
	struct btrfs_key key = { start, BTRFS_FREE_SPACE_EXTENT_KEY, 0 };
	struct btrfs_path *path = btrfs_alloc_path();
	int ret;

	if (!path)
		return -ENOMEM;
	ret = btrfs_search_slot_for_read(fst_root(trans), &key, path);
	if (ret == 0) {
		btrfs_item_key_to_cpu(path->nodes[0], found, path->slots[0]);
		if (found->objectid != start ||
		    found->type != BTRFS_FREE_SPACE_EXTENT_KEY)
			ret = 1;
	}
	btrfs_free_path(path);
	return ret;
}

static int delete_key(struct btrfs_trans_handle *trans,
		      const struct btrfs_key *key)
{
	struct btrfs_path *path = btrfs_alloc_path();
	int ret;

	if (!path)
		return -ENOMEM;
	ret = btrfs_search_slot(trans, fst_root(trans), key, path, -1, 1);
	if (ret > 0)
		ret = -EUCLEAN;
	if (!ret)
		ret = btrfs_del_item(trans, fst_root(trans), path);
	btrfs_free_path(path);
	return ret;
}

static int insert_extent(struct btrfs_trans_handle *trans, u64 start, u64 len)
{
	struct btrfs_key key = { start, BTRFS_FREE_SPACE_EXTENT_KEY, len };

	return btrfs_insert_item(trans, fst_root(trans), &key, NULL, 0);
}

/* ------------------------------------------------------------------ */
/* Bitmap format: one bit per sector, set when free. */

/* The bitmap item of @bg covering @addr (read-only): 0 and *found, 1. */
static int bitmap_at(struct btrfs_trans_handle *trans,
		     struct btrfs_block_group *bg, u64 addr,
		     struct btrfs_key *found)
{
	struct btrfs_key key = { addr, BTRFS_FREE_SPACE_BITMAP_KEY, (u64)-1 };
	struct btrfs_path *path = btrfs_alloc_path();
	int ret;

	if (!path)
		return -ENOMEM;
	ret = btrfs_search_slot(NULL, fst_root(trans), &key, path, 0, 0);
	if (ret > 0)
		ret = btrfs_previous_item(fst_root(trans), path, bg->start,
					  BTRFS_FREE_SPACE_BITMAP_KEY);
	if (ret == 0) {
		btrfs_item_key_to_cpu(path->nodes[0], found, path->slots[0]);
		if (addr >= found->objectid + found->offset)
			ret = 1;
	}
	btrfs_free_path(path);
	return ret;
}

static bool test_bit_le(const u8 *map, u64 bit)
{
	return map[bit / 8] & (1U << (bit % 8));
}

/* Is the sector at @addr free in the bitmaps? 1, 0 or <0. */
static int sector_free(struct btrfs_trans_handle *trans,
		       struct btrfs_block_group *bg, u64 addr)
{
	u32 sectorsize = trans->fs_info->sectorsize;
	struct btrfs_path *path;
	struct btrfs_key key;
	const u8 *map;
	int ret;

	if (addr < bg->start || addr >= bg->start + bg->length)
		return 0;	/* outside the group counts as used */
	ret = bitmap_at(trans, bg, addr, &key);
	if (ret)
		return ret < 0 ? ret : -EUCLEAN;
	path = btrfs_alloc_path();
	if (!path)
		return -ENOMEM;
	ret = btrfs_search_slot(NULL, fst_root(trans), &key, path, 0, 0);
	if (ret == 0) {
		u64 bit = (addr - key.objectid) / sectorsize;

		map = btrfs_item_ptr(path->nodes[0], path->slots[0], u8);
		if (btrfs_item_size(path->nodes[0], path->slots[0]) * 8ULL <= bit)
			ret = -EUCLEAN;
		else
			ret = test_bit_le(map, bit);
	} else if (ret > 0) {
		ret = -EUCLEAN;
	}
	btrfs_free_path(path);
	return ret;
}

/* Set (@free) or clear the bits of [start, end) in the item @key. */
static int change_bits(struct btrfs_trans_handle *trans,
		       const struct btrfs_key *key, u64 start, u64 end,
		       bool free)
{
	u32 sectorsize = trans->fs_info->sectorsize;
	struct btrfs_path *path = btrfs_alloc_path();
	u8 *map;
	int ret;

	if (!path)
		return -ENOMEM;
	ret = btrfs_search_slot(trans, fst_root(trans), key, path, 0, 1);
	if (ret > 0)
		ret = -EUCLEAN;
	if (ret)
		goto out;
	map = btrfs_item_ptr(path->nodes[0], path->slots[0], u8);
	if (btrfs_item_size(path->nodes[0], path->slots[0]) * 8ULL <
	    (end - key->objectid) / sectorsize) {
		ret = -EUCLEAN;
		goto out;
	}
	for (u64 bit = (start - key->objectid) / sectorsize;
	     bit < (end - key->objectid) / sectorsize; bit++) {
		if (test_bit_le(map, bit) == free) {
			ret = -EUCLEAN;	/* already in that state */
			goto out;
		}
		map[bit / 8] ^= (u8)(1U << (bit % 8));
	}
	ret = btrfs_mark_buffer_dirty(trans, path->nodes[0]);
out:
	btrfs_free_path(path);
	return ret;
}

/*
 * Mark [start, start + size) free or used in a bitmap group.  The extent
 * count changes by one when the range joins two free neighbours or stands
 * alone (and the other way round when it is taken).
 */
static int modify_bitmaps(struct btrfs_trans_handle *trans,
			  struct btrfs_block_group *bg, u64 start, u64 size,
			  bool free)
{
	u32 sectorsize = trans->fs_info->sectorsize;
	u64 end = start + size, pos = start;
	int prev, next, delta = 0;
	int ret;

	if (!IS_ALIGNED(start, sectorsize) || !IS_ALIGNED(size, sectorsize))
		return -EINVAL;
	prev = start > bg->start ? sector_free(trans, bg, start - sectorsize) : 0;
	next = sector_free(trans, bg, end);
	if (prev < 0 || next < 0)
		return prev < 0 ? prev : next;
	while (pos < end) {
		struct btrfs_key key;
		u64 stop;

		ret = bitmap_at(trans, bg, pos, &key);
		if (ret)
			return ret < 0 ? ret : -EUCLEAN;
		stop = min_t(u64, end, key.objectid + key.offset);
		ret = change_bits(trans, &key, pos, stop, free);
		if (ret)
			return ret;
		pos = stop;
	}
	if (prev && next)
		delta = free ? -1 : 1;
	else if (!prev && !next)
		delta = free ? 1 : -1;
	return delta ? update_info_count(trans, bg, delta) : 0;
}

int btrfs_add_block_group_free_space(struct btrfs_trans_handle *trans,
				     struct btrfs_block_group *bg)
{
	struct btrfs_root *root = fst_root(trans);
	struct btrfs_key key = { bg->start, BTRFS_FREE_SPACE_INFO_KEY,
				 bg->length };
	struct btrfs_free_space_info info;
	int ret;

	if (!root)
		return -EUCLEAN;
	bg->needs_free_space = false;
	btrfs_set_stack_free_space_extent_count(&info, 1);
	btrfs_set_stack_free_space_flags(&info, 0);
	ret = btrfs_insert_item(trans, root, &key, &info, sizeof(info));
	if (ret)
		return ret;
	key.type = BTRFS_FREE_SPACE_EXTENT_KEY;
	return btrfs_insert_item(trans, root, &key, NULL, 0);
}

/* A group made in this transaction gets its entries before any change. */
static int prepare_group(struct btrfs_trans_handle *trans,
			 struct btrfs_block_group *bg)
{
	if (!bg->needs_free_space)
		return 0;
	return btrfs_add_block_group_free_space(trans, bg);
}

int btrfs_remove_from_free_space_tree(struct btrfs_trans_handle *trans,
				      u64 start, u64 size)
{
	struct btrfs_block_group *bg;
	struct btrfs_key found;
	u64 end = start + size, f_end;
	int delta = -1;
	int ret;

	bg = btrfs_lookup_block_group(trans->fs_info, start);
	if (!bg || end > bg->start + bg->length)
		return -EUCLEAN;
	ret = prepare_group(trans, bg);
	if (ret)
		return ret;
	if (bg->fst_bitmaps)
		return modify_bitmaps(trans, bg, start, size, false);
	ret = extent_at_or_before(trans, bg, start, &found);
	if (ret)
		return ret < 0 ? ret : -EUCLEAN;
	f_end = found.objectid + found.offset;
	if (f_end < end)
		return -EUCLEAN;	/* not free in the tree */
	ret = delete_key(trans, &found);
	if (!ret && found.objectid < start) {
		ret = insert_extent(trans, found.objectid,
				    start - found.objectid);
		delta++;
	}
	if (!ret && end < f_end) {
		ret = insert_extent(trans, end, f_end - end);
		delta++;
	}
	if (!ret && delta)
		ret = update_info_count(trans, bg, delta);
	return ret;
}

int btrfs_add_to_free_space_tree(struct btrfs_trans_handle *trans, u64 start,
				 u64 size)
{
	struct btrfs_block_group *bg;
	struct btrfs_key left, right;
	u64 new_start = start, new_end = start + size;
	int delta = 1;
	int ret;

	bg = btrfs_lookup_block_group(trans->fs_info, start);
	if (!bg || new_end > bg->start + bg->length)
		return -EUCLEAN;
	ret = prepare_group(trans, bg);
	if (ret)
		return ret;
	if (bg->fst_bitmaps)
		return modify_bitmaps(trans, bg, start, size, true);
	ret = start > bg->start ?
		      extent_at_or_before(trans, bg, start - 1, &left) : 1;
	if (ret < 0)
		return ret;
	if (ret == 0 && left.objectid + left.offset > start)
		return -EUCLEAN;	/* already free */
	if (ret == 0 && left.objectid + left.offset == start) {
		ret = delete_key(trans, &left);
		if (ret)
			return ret;
		new_start = left.objectid;
		delta--;
	}
	ret = extent_starting_at(trans, new_end, &right);
	if (ret < 0)
		return ret;
	if (ret == 0 && new_end < bg->start + bg->length) {
		ret = delete_key(trans, &right);
		if (ret)
			return ret;
		new_end += right.offset;
		delta--;
	}
	ret = insert_extent(trans, new_start, new_end - new_start);
	if (!ret && delta)
		ret = update_info_count(trans, bg, delta);
	return ret;
}

/* ------------------------------------------------------------------ */
/* Converting a group between the formats. */

struct free_runs {
	struct btrfs_free_extent *v;
	size_t nr, cap;
};

static int runs_add(struct free_runs *r, u64 start, u64 len)
{
	if (r->nr && r->v[r->nr - 1].start + r->v[r->nr - 1].len == start) {
		r->v[r->nr - 1].len += len;
		return 0;
	}
	if (array_reserve(r->v, r->cap, r->nr + 1, 64))
		return -ENOMEM;
	r->v[r->nr++] = (struct btrfs_free_extent){ start, len };
	return 0;
}

/* The free runs of a bitmap item at @slot, merged with the previous. */
static int runs_from_bitmap(struct free_runs *r, const struct extent_buffer *leaf,
			    int slot, const struct btrfs_key *key, u32 sectorsize)
{
	const u8 *map = btrfs_item_ptr(leaf, slot, u8);
	u64 bits = key->offset / sectorsize;
	int ret = 0;

	if (btrfs_item_size(leaf, slot) * 8ULL < bits)
		return -EUCLEAN;
	for (u64 i = 0; i < bits && !ret; i++)
		if (test_bit_le(map, i))
			ret = runs_add(r, key->objectid + i * sectorsize,
				       sectorsize);
	return ret;
}

/* Read @bg's free space, in either format, as merged runs (read-only). */
static int read_group_runs(struct btrfs_trans_handle *trans,
			   struct btrfs_block_group *bg, struct free_runs *r)
{
	struct btrfs_key key = { bg->start, BTRFS_FREE_SPACE_INFO_KEY, 0 };
	struct btrfs_path *path = btrfs_alloc_path();
	int ret;

	if (!path)
		return -ENOMEM;
	ret = btrfs_search_slot_for_read(fst_root(trans), &key, path);
	while (ret == 0) {
		btrfs_item_key_to_cpu(path->nodes[0], &key, path->slots[0]);
		if (key.objectid >= bg->start + bg->length)
			break;
		if (key.type == BTRFS_FREE_SPACE_EXTENT_KEY)
			ret = runs_add(r, key.objectid, key.offset);
		else if (key.type == BTRFS_FREE_SPACE_BITMAP_KEY)
			ret = runs_from_bitmap(r, path->nodes[0], path->slots[0],
					       &key, trans->fs_info->sectorsize);
		if (!ret)
			ret = btrfs_next_item(fst_root(trans), path);
	}
	btrfs_free_path(path);
	return ret < 0 ? ret : 0;
}

/* Delete every item of @type of @bg: read the keys, then COW-delete. */
static int delete_group_items(struct btrfs_trans_handle *trans,
			      struct btrfs_block_group *bg, u8 type)
{
	struct btrfs_key key = { bg->start, 0, 0 };
	struct btrfs_path *path = btrfs_alloc_path();
	struct btrfs_key *keys = NULL;
	size_t nr = 0, cap = 0;
	int ret;

	if (!path)
		return -ENOMEM;
	ret = btrfs_search_slot_for_read(fst_root(trans), &key, path);
	while (ret == 0) {
		btrfs_item_key_to_cpu(path->nodes[0], &key, path->slots[0]);
		if (key.objectid >= bg->start + bg->length)
			break;
		if (key.type == type) {
			if (array_reserve(keys, cap, nr + 1, 64)) {
				ret = -ENOMEM;
				break;
			}
			keys[nr++] = key;
		}
		ret = btrfs_next_item(fst_root(trans), path);
	}
	btrfs_free_path(path);
	for (size_t i = 0; ret >= 0 && i < nr; i++)
		ret = delete_key(trans, &keys[i]);
	free(keys);
	return ret < 0 ? ret : 0;
}

static int convert_to_bitmaps(struct btrfs_trans_handle *trans,
			      struct btrfs_block_group *bg)
{
	u32 sectorsize = trans->fs_info->sectorsize;
	u64 range = (u64)sectorsize * FST_BITMAP_BITS;
	struct free_runs r = { 0 };
	u8 map[FST_BITMAP_BYTES];
	size_t idx = 0;
	u32 count;
	int ret;

	ret = read_group_runs(trans, bg, &r);
	if (!ret)
		ret = delete_group_items(trans, bg, BTRFS_FREE_SPACE_EXTENT_KEY);
	for (u64 off = bg->start; !ret && off < bg->start + bg->length;
	     off += range) {
		u64 len = min_t(u64, range, bg->start + bg->length - off);
		struct btrfs_key key = { off, BTRFS_FREE_SPACE_BITMAP_KEY, len };

		memset(map, 0, sizeof(map));
		while (idx < r.nr && r.v[idx].start < off + len) {
			u64 a = max_t(u64, r.v[idx].start, off);
			u64 b = min_t(u64, r.v[idx].start + r.v[idx].len,
				      off + len);

			for (u64 bit = (a - off) / sectorsize;
			     bit < (b - off) / sectorsize; bit++)
				map[bit / 8] |= (u8)(1U << (bit % 8));
			if (r.v[idx].start + r.v[idx].len > off + len)
				break;	/* continues in the next bitmap */
			idx++;
		}
		ret = btrfs_insert_item(trans, fst_root(trans), &key, map,
					(u32)((len / sectorsize + 7) / 8));
	}
	free(r.v);
	if (ret)
		return ret;
	bg->fst_bitmaps = true;
	return update_info(trans, bg, 0, true, &count);
}

static int convert_to_extents(struct btrfs_trans_handle *trans,
			      struct btrfs_block_group *bg)
{
	struct free_runs r = { 0 };
	u32 count;
	int ret;

	ret = read_group_runs(trans, bg, &r);
	if (!ret)
		ret = delete_group_items(trans, bg, BTRFS_FREE_SPACE_BITMAP_KEY);
	for (size_t i = 0; !ret && i < r.nr; i++)
		ret = insert_extent(trans, r.v[i].start, r.v[i].len);
	free(r.v);
	if (ret)
		return ret;
	bg->fst_bitmaps = false;
	return update_info(trans, bg, 0, true, &count);
}

/* Note the format of the group of INFO item @slot. */
static int mark_group_format(struct btrfs_fs_info *fs_info,
			     const struct extent_buffer *leaf, int slot,
			     const struct btrfs_key *key,
			     struct btrfs_block_group **bg)
{
	struct btrfs_free_space_info *info;

	/* mkfs leaves the entries of its temporary chunks behind: skip. */
	*bg = btrfs_lookup_block_group(fs_info, key->objectid);
	if (!*bg || (*bg)->start != key->objectid)
		return 0;
	if (btrfs_item_size(leaf, slot) < sizeof(*info))
		return -EUCLEAN;
	info = btrfs_item_ptr(leaf, slot, struct btrfs_free_space_info);
	if (!(btrfs_free_space_flags(leaf, info) & BTRFS_FREE_SPACE_USING_BITMAPS))
		return 0;
	(*bg)->fst_bitmaps = true;
	return 0;
}

int btrfs_read_free_space_tree_formats(struct btrfs_fs_info *fs_info)
{
	struct btrfs_key key = { 0, BTRFS_FREE_SPACE_INFO_KEY, 0 };
	struct btrfs_root *root = fs_info->free_space_root;
	struct btrfs_block_group *bg = NULL;
	struct btrfs_path *path;
	int ret;

	if (!root)
		return 0;
	path = btrfs_alloc_path();
	if (!path)
		return -ENOMEM;
	ret = btrfs_search_slot_for_read(root, &key, path);
	while (ret == 0) {
		struct extent_buffer *leaf = path->nodes[0];
		int slot = path->slots[0];

		btrfs_item_key_to_cpu(leaf, &key, slot);
		if (key.type == BTRFS_FREE_SPACE_INFO_KEY)
			ret = mark_group_format(fs_info, leaf, slot, &key, &bg);
		else if (key.type == BTRFS_FREE_SPACE_BITMAP_KEY &&
			 bg && !bg->fst_bitmaps &&
			 key.objectid >= bg->start &&
			 key.objectid < bg->start + bg->length)
			ret = -EUCLEAN;
		if (ret)
			break;
		ret = btrfs_next_item(root, path);
	}
	btrfs_free_path(path);
	return ret < 0 ? ret : 0;
}

/* ------------------------------------------------------------------ */
/* Creating the tree (the kernel's btrfs_create_free_space_tree). */

/* Extent of the extent item at @key, or false for other items. */
static bool extent_key_range(const struct btrfs_fs_info *fs_info,
			     const struct btrfs_key *key, u64 *start, u64 *len)
{
	if (key->type == BTRFS_EXTENT_ITEM_KEY) {
		*len = key->offset;
	} else if (key->type == BTRFS_METADATA_ITEM_KEY) {
		*len = fs_info->nodesize;
	} else {
		return false;
	}
	*start = key->objectid;
	return true;
}

static int insert_free_extent(struct btrfs_trans_handle *trans,
			      struct btrfs_root *root, u64 start, u64 len,
			      u32 *count)
{
	struct btrfs_key key = { start, BTRFS_FREE_SPACE_EXTENT_KEY, len };

	(*count)++;
	return btrfs_insert_item(trans, root, &key, NULL, 0);
}

/*
 * Record the gaps between the extent items inside @bg as free extents of
 * @root, then its FREE_SPACE_INFO.  Extents queued as delayed refs are not
 * in the extent tree yet: they are taken out of the new tree when their
 * refs run, as for any allocation.
 */
static int populate_group(struct btrfs_trans_handle *trans,
			  struct btrfs_root *root,
			  const struct btrfs_block_group *bg)
{
	struct btrfs_fs_info *fs_info = trans->fs_info;
	struct btrfs_key key = { bg->start, 0, 0 };
	struct btrfs_free_space_info info;
	u64 end = bg->start + bg->length;
	u64 cursor = bg->start;
	struct btrfs_path *path = btrfs_alloc_path();
	u32 count = 0;
	int ret;

	if (!path)
		return -ENOMEM;
	ret = btrfs_search_slot_for_read(fs_info->extent_root, &key, path);
	while (ret == 0) {
		u64 start, len;

		btrfs_item_key_to_cpu(path->nodes[0], &key, path->slots[0]);
		if (key.objectid >= end)
			break;
		if (extent_key_range(fs_info, &key, &start, &len)) {
			if (start < cursor || start + len > end) {
				ret = -EUCLEAN;
				break;
			}
			if (start > cursor)
				ret = insert_free_extent(trans, root, cursor,
							 start - cursor, &count);
			cursor = start + len;
			if (ret)
				break;
		}
		ret = btrfs_next_item(fs_info->extent_root, path);
	}
	btrfs_free_path(path);
	if (ret < 0)
		return ret;
	if (cursor < end) {
		ret = insert_free_extent(trans, root, cursor, end - cursor,
					 &count);
		if (ret)
			return ret;
	}
	key = (struct btrfs_key){ bg->start, BTRFS_FREE_SPACE_INFO_KEY,
				  bg->length };
	btrfs_set_stack_free_space_extent_count(&info, count);
	btrfs_set_stack_free_space_flags(&info, 0);
	return btrfs_insert_item(trans, root, &key, &info, sizeof(info));
}

int btrfs_create_free_space_tree(struct btrfs_trans_handle *trans)
{
	struct btrfs_fs_info *fs_info = trans->fs_info;
	struct btrfs_super_block *sb = &fs_info->super_copy;
	struct btrfs_root *root;
	int ret = 0;

	if (fs_info->free_space_root)
		return -EEXIST;
	root = btrfs_create_tree(trans, BTRFS_FREE_SPACE_TREE_OBJECTID);
	if (IS_ERR(root))
		return (int)PTR_ERR(root);
	for (size_t i = 0; !ret && i < fs_info->nr_block_groups; i++)
		ret = populate_group(trans, root, fs_info->block_groups[i]);
	/* Even on error: the root is in the transaction until it aborts. */
	fs_info->free_space_root = root;
	if (ret)
		return ret;
	btrfs_set_super_compat_ro_flags(sb, btrfs_super_compat_ro_flags(sb) |
				BTRFS_FEATURE_COMPAT_RO_FREE_SPACE_TREE |
				BTRFS_FEATURE_COMPAT_RO_FREE_SPACE_TREE_VALID);
	return 0;
}
