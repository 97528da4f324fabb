// SPDX-License-Identifier: GPL-2.0
/*
 * Block groups, the two-stage extent allocator, and applying delayed tree
 * block references to the extent tree.
 */
#include "common/csum.h"

#include <stdlib.h>

#include "common/array.h"
#include "kernel-shared/chunk-alloc.h"
#include "kernel-shared/delayed-ref.h"
#include "kernel-shared/disk-io.h"
#include "kernel-shared/extent-tree.h"
#include "kernel-shared/file-item.h"
#include "kernel-shared/free-space-tree.h"
#include "kernel-shared/raid56.h"
#include "kernel-shared/transaction.h"
#include "kernel-shared/volumes.h"

/* ------------------------------------------------------------------ */
/* Block groups. */

struct btrfs_block_group *btrfs_lookup_block_group(struct btrfs_fs_info *fs_info,
						   u64 bytenr)
{
	size_t lo = 0, hi = fs_info->nr_block_groups;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		struct btrfs_block_group *bg = fs_info->block_groups[mid];

		if (bytenr < bg->start)
			hi = mid;
		else if (bytenr >= bg->start + bg->length)
			lo = mid + 1;
		else
			return bg;
	}
	return NULL;
}

void btrfs_free_block_groups(struct btrfs_fs_info *fs_info)
{
	for (size_t i = 0; i < fs_info->nr_block_groups; i++) {
		btrfs_free_space_ctl_release(&fs_info->block_groups[i]->free_space);
		free(fs_info->block_groups[i]);
	}
	free(fs_info->block_groups);
	fs_info->block_groups = NULL;
	fs_info->nr_block_groups = 0;
	fs_info->cap_block_groups = 0;
}

u64 btrfs_total_reserved(const struct btrfs_fs_info *fs_info)
{
	u64 sum = 0;

	for (size_t i = 0; i < fs_info->nr_block_groups; i++)
		sum += fs_info->block_groups[i]->reserved;
	return sum;
}

struct btrfs_root *btrfs_block_group_root(struct btrfs_fs_info *fs_info)
{
	if (btrfs_fs_compat_ro(fs_info, BTRFS_FEATURE_COMPAT_RO_BLOCK_GROUP_TREE))
		return fs_info->block_group_root;
	return fs_info->extent_root;
}

/* Append a block group read from an item (items come in key order). */
static int add_block_group(struct btrfs_fs_info *fs_info,
			   const struct btrfs_key *key,
			   const struct extent_buffer *leaf, int slot)
{
	struct btrfs_block_group_item *item;
	struct btrfs_block_group *bg, *prev = NULL;
	size_t n = fs_info->nr_block_groups;

	if (btrfs_item_size(leaf, slot) < sizeof(*item) || key->offset == 0)
		return -EUCLEAN;
	if (n)
		prev = fs_info->block_groups[n - 1];
	if (prev && prev->start + prev->length > key->objectid)
		return -EUCLEAN;
	if (array_reserve(fs_info->block_groups, fs_info->cap_block_groups,
			  n + 1, 16))
		return -ENOMEM;
	bg = calloc(1, sizeof(*bg));
	if (!bg)
		return -ENOMEM;
	item = btrfs_item_ptr(leaf, slot, struct btrfs_block_group_item);
	bg->fs_info = fs_info;
	bg->start = key->objectid;
	bg->length = key->offset;
	bg->flags = btrfs_block_group_flags(leaf, item);
	bg->used = btrfs_block_group_used(leaf, item);
	fs_info->block_groups[n] = bg;
	fs_info->nr_block_groups = n + 1;
	return btrfs_add_free_space(bg, bg->start, bg->length);
}

static int load_block_group_items(struct btrfs_fs_info *fs_info)
{
	struct btrfs_root *root = btrfs_block_group_root(fs_info);
	struct btrfs_key key = { 0, BTRFS_BLOCK_GROUP_ITEM_KEY, 0 };
	struct btrfs_path *path = btrfs_alloc_path();
	int ret;

	if (!path)
		return -ENOMEM;
	if (!root) {
		btrfs_free_path(path);
		return -ENOENT;
	}
	ret = btrfs_search_slot_for_read(root, &key, path);
	while (ret == 0) {
		btrfs_item_key_to_cpu(path->nodes[0], &key, path->slots[0]);
		if (key.type == BTRFS_BLOCK_GROUP_ITEM_KEY) {
			ret = add_block_group(fs_info, &key, path->nodes[0],
					      path->slots[0]);
			if (ret)
				break;
		}
		ret = btrfs_next_item(root, path);
	}
	btrfs_free_path(path);
	return ret < 0 ? ret : 0;
}

/* Take an extent found in the extent tree out of its group's free space. */
static int account_extent(struct btrfs_fs_info *fs_info, u64 start, u64 len,
			  u64 *sums)
{
	struct btrfs_block_group *bg = btrfs_lookup_block_group(fs_info, start);
	size_t idx;

	if (!bg || start + len > bg->start + bg->length)
		return -EUCLEAN;
	if (btrfs_remove_free_space(bg, start, len))
		return -EUCLEAN;	/* overlaps another extent */
	for (idx = 0; fs_info->block_groups[idx] != bg; idx++)
		;
	sums[idx] += len;
	return 0;
}

static int load_extents(struct btrfs_fs_info *fs_info, u64 *sums)
{
	struct btrfs_root *root = fs_info->extent_root;
	struct btrfs_key key = { 0, 0, 0 };
	struct btrfs_path *path = btrfs_alloc_path();
	int ret;

	if (!path)
		return -ENOMEM;
	ret = btrfs_search_slot_for_read(root, &key, path);
	while (ret == 0) {
		btrfs_item_key_to_cpu(path->nodes[0], &key, path->slots[0]);
		if (key.type == BTRFS_EXTENT_ITEM_KEY)
			ret = account_extent(fs_info, key.objectid, key.offset,
					     sums);
		else if (key.type == BTRFS_METADATA_ITEM_KEY)
			ret = account_extent(fs_info, key.objectid,
					     fs_info->nodesize, sums);
		if (ret)
			break;
		ret = btrfs_next_item(root, path);
	}
	btrfs_free_path(path);
	return ret < 0 ? ret : 0;
}

/* Remove what is still free of [start, start + len) and count it excluded. */
static int exclude_range(struct btrfs_block_group *bg, u64 start, u64 len)
{
	u64 unit = bg->fs_info->sectorsize;
	u64 end = min_t(u64, start + len, bg->start + bg->length);

	start = max_t(u64, start, bg->start);
	for (u64 off = start; off < end; off += unit) {
		u64 n = min_t(u64, unit, end - off);

		if (!btrfs_free_space_contains(bg, off, n))
			continue;
		if (btrfs_remove_free_space(bg, off, n))
			return -ENOMEM;
		bg->excluded += n;
	}
	return 0;
}

/* Logical bytes of one RAID5/6 stripe row: its data elements. */
static u64 raid56_row_len(const struct map_lookup *map)
{
	int nr_data = map->num_stripes - btrfs_raid56_nparity(map->type);

	return map->stripe_len * (u64)max_t(int, nr_data, 1);
}

/* Logical start of the stripe holding @delta bytes into stripe @i's device
 * extent, for the profiles we write. */
static u64 stripe_logical(const struct map_lookup *map, int i, u64 delta)
{
	u64 type = map->type & BTRFS_BLOCK_GROUP_PROFILE_MASK;
	u64 nr = delta / map->stripe_len;

	if (type == BTRFS_BLOCK_GROUP_RAID0)
		return map->start +
		       (nr * (u64)map->num_stripes + (u64)i) * map->stripe_len;
	if (type == BTRFS_BLOCK_GROUP_RAID10) {
		u64 factor = (u64)(map->num_stripes / map->sub_stripes);

		return map->start + (nr * factor + (u64)(i / map->sub_stripes)) *
					    map->stripe_len;
	}
	/* RAID5/6: the whole row, data or parity (the kernel's rmap). */
	if (type & BTRFS_BLOCK_GROUP_RAID56_MASK)
		return map->start + nr * raid56_row_len(map);
	return map->start + nr * map->stripe_len;
}

u64 btrfs_chunk_stripe_dev_len(const struct map_lookup *map)
{
	u64 type = map->type & BTRFS_BLOCK_GROUP_PROFILE_MASK;

	if (type == BTRFS_BLOCK_GROUP_RAID0)
		return map->length / (u64)map->num_stripes;
	if (type == BTRFS_BLOCK_GROUP_RAID10)
		return map->length /
		       (u64)(map->num_stripes / map->sub_stripes);
	if (type & BTRFS_BLOCK_GROUP_RAID56_MASK)
		return map->length / (raid56_row_len(map) / map->stripe_len);
	return map->length;
}

/* Superblock copies (and the first 64KiB) are never allocated. */
static int exclude_super_stripes(struct btrfs_fs_info *fs_info,
				 struct btrfs_block_group *bg)
{
	const struct map_lookup *map = btrfs_find_chunk_map(fs_info, bg->start);
	int ret = 0;

	if (bg->start < BTRFS_SUPER_INFO_OFFSET)
		ret = exclude_range(bg, bg->start,
				    BTRFS_SUPER_INFO_OFFSET - bg->start);
	if (!map || map->stripe_len == 0)
		return ret ? ret : -EUCLEAN;
	for (int m = 0; !ret && m < BTRFS_SUPER_MIRROR_MAX; m++) {
		u64 sb = btrfs_sb_offset(m);

		for (int i = 0; !ret && i < map->num_stripes; i++) {
			u64 phys = map->stripes[i].physical;

			if (sb < phys || sb >= phys + btrfs_chunk_stripe_dev_len(map))
				continue;
			ret = exclude_range(bg, stripe_logical(map, i, sb - phys),
					    (map->type &
					     BTRFS_BLOCK_GROUP_RAID56_MASK) ?
					    raid56_row_len(map) :
					    map->stripe_len);
		}
	}
	return ret;
}

int btrfs_add_open_fixup(struct btrfs_fs_info *fs_info,
			 enum btrfs_open_fixup_kind kind, u64 id, u64 found,
			 u64 expected)
{
	size_t n = fs_info->nr_open_fixups;
	struct btrfs_open_fixup *f;

	if (array_reserve(fs_info->open_fixups, fs_info->cap_open_fixups,
			  n + 1, 8))
		return -ENOMEM;
	f = fs_info->open_fixups;
	f[n].kind = kind;
	f[n].id = id;
	f[n].found = found;
	f[n].expected = expected;
	fs_info->nr_open_fixups = n + 1;
	return 0;
}

/*
 * A block group whose used bytes differ from its extents: refused, or in
 * a repair open set to the extents' sum and rewritten by the next commit.
 */
static int fix_block_group_used(struct btrfs_fs_info *fs_info,
				struct btrfs_block_group *bg, u64 sum)
{
	int ret;

	if (!(fs_info->open_flags & OPEN_CTREE_REPAIR))
		return -EUCLEAN;
	ret = btrfs_add_open_fixup(fs_info, BTRFS_FIXUP_BG_USED, bg->start,
				   bg->used, sum);
	if (ret)
		return ret;
	bg->used = sum;
	bg->dirty = true;
	return 0;
}

int btrfs_read_block_groups(struct btrfs_fs_info *fs_info)
{
	u64 *sums = NULL;
	int ret;

	ret = load_block_group_items(fs_info);
	if (!ret && fs_info->nr_block_groups == 0)
		ret = -EUCLEAN;
	if (!ret) {
		sums = calloc(fs_info->nr_block_groups, sizeof(*sums));
		ret = sums ? load_extents(fs_info, sums) : -ENOMEM;
	}
	for (size_t i = 0; !ret && i < fs_info->nr_block_groups; i++) {
		struct btrfs_block_group *bg = fs_info->block_groups[i];

		if (sums[i] != bg->used)
			ret = fix_block_group_used(fs_info, bg, sums[i]);
		if (!ret)
			ret = exclude_super_stripes(fs_info, bg);
	}
	free(sums);
	if (ret)
		btrfs_free_block_groups(fs_info);
	return ret;
}

static int insert_block_group(struct btrfs_fs_info *fs_info,
			      struct btrfs_block_group *bg)
{
	size_t n = fs_info->nr_block_groups, pos = n;
	struct btrfs_block_group **arr;

	while (pos > 0 && fs_info->block_groups[pos - 1]->start > bg->start)
		pos--;
	if ((pos > 0 && fs_info->block_groups[pos - 1]->start +
			fs_info->block_groups[pos - 1]->length > bg->start) ||
	    (pos < n && bg->start + bg->length >
			fs_info->block_groups[pos]->start))
		return -EEXIST;
	if (array_reserve(fs_info->block_groups, fs_info->cap_block_groups,
			  n + 1, 16))
		return -ENOMEM;
	arr = fs_info->block_groups;
	memmove(arr + pos + 1, arr + pos, (n - pos) * sizeof(*arr));
	arr[pos] = bg;
	fs_info->nr_block_groups = n + 1;
	return 0;
}

int btrfs_make_block_group(struct btrfs_trans_handle *trans, u64 type,
			   u64 start, u64 length,
			   struct btrfs_block_group **ret_bg)
{
	struct btrfs_fs_info *fs_info = trans->fs_info;
	struct btrfs_block_group *bg = calloc(1, sizeof(*bg));
	int ret;

	if (!bg)
		return -ENOMEM;
	bg->fs_info = fs_info;
	bg->start = start;
	bg->length = length;
	bg->flags = type;
	bg->new_chunk = true;
	bg->dirty = true;
	bg->needs_free_space = fs_info->free_space_root != NULL;
	ret = btrfs_add_free_space(bg, start, length);
	if (!ret)
		ret = exclude_super_stripes(fs_info, bg);
	if (!ret)
		ret = insert_block_group(fs_info, bg);
	if (ret) {
		btrfs_free_space_ctl_release(&bg->free_space);
		free(bg);
		return ret;
	}
	if (ret_bg)
		*ret_bg = bg;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Reserving and allocating. */

/* Redundancy rank of a profile: the allocator prefers the highest. */
static int profile_rank(u64 flags)
{
	u64 p = flags & BTRFS_BLOCK_GROUP_PROFILE_MASK;

	if (p & BTRFS_BLOCK_GROUP_RAID1C4)
		return 6;
	if (p & BTRFS_BLOCK_GROUP_RAID1C3)
		return 5;
	if (p & (BTRFS_BLOCK_GROUP_RAID1 | BTRFS_BLOCK_GROUP_RAID10))
		return 4;
	if (p & BTRFS_BLOCK_GROUP_DUP)
		return 3;
	if (p & BTRFS_BLOCK_GROUP_RAID0)
		return 2;
	return 1;
}

static u64 wanted_type(struct btrfs_fs_info *fs_info, struct btrfs_root *root,
		       bool is_data)
{
	if (!is_data && root->root_key.objectid == BTRFS_CHUNK_TREE_OBJECTID)
		return BTRFS_BLOCK_GROUP_SYSTEM;
	if (btrfs_fs_incompat(fs_info, BTRFS_FEATURE_INCOMPAT_MIXED_GROUPS))
		return BTRFS_BLOCK_GROUP_DATA | BTRFS_BLOCK_GROUP_METADATA;
	return is_data ? BTRFS_BLOCK_GROUP_DATA : BTRFS_BLOCK_GROUP_METADATA;
}

static int best_rank(struct btrfs_fs_info *fs_info, u64 type)
{
	int best = 0;

	for (size_t i = 0; i < fs_info->nr_block_groups; i++) {
		struct btrfs_block_group *bg = fs_info->block_groups[i];

		if ((bg->flags & BTRFS_BLOCK_GROUP_TYPE_MASK) == type)
			best = max_t(int, best, profile_rank(bg->flags));
	}
	return best;
}

/* The profile of the most redundant groups of @type (0: single). */
static u64 best_profile(struct btrfs_fs_info *fs_info, u64 type)
{
	int rank = best_rank(fs_info, type);

	for (size_t i = 0; i < fs_info->nr_block_groups; i++) {
		struct btrfs_block_group *bg = fs_info->block_groups[i];

		if ((bg->flags & BTRFS_BLOCK_GROUP_TYPE_MASK) == type &&
		    profile_rank(bg->flags) == rank)
			return bg->flags & BTRFS_BLOCK_GROUP_PROFILE_MASK;
	}
	return 0;
}

static int find_free_extent(struct btrfs_fs_info *fs_info, u64 type,
			    u64 num_bytes, u64 empty_size, u64 hint,
			    struct btrfs_key *ins)
{
	int rank = best_rank(fs_info, type);
	size_t n = fs_info->nr_block_groups;
	struct btrfs_block_group *hint_bg;
	size_t first = 0;

	hint_bg = btrfs_lookup_block_group(fs_info, hint);
	while (hint_bg && fs_info->block_groups[first] != hint_bg)
		first++;
	for (size_t k = 0; k < n; k++) {
		struct btrfs_block_group *bg = fs_info->block_groups[(first + k) % n];
		u64 from = bg == hint_bg ? hint : bg->start;
		u64 start;

		if ((bg->flags & BTRFS_BLOCK_GROUP_TYPE_MASK) != type ||
		    profile_rank(bg->flags) != rank ||
		    bg->free_space.free_bytes < num_bytes)
			continue;
		start = btrfs_find_space_for_alloc(bg, from, num_bytes,
						   empty_size);
		if (!start)
			continue;
		bg->reserved += num_bytes;
		ins->objectid = start;
		ins->type = BTRFS_EXTENT_ITEM_KEY;
		ins->offset = num_bytes;
		return 0;
	}
	return -ENOSPC;
}

int btrfs_reserve_extent(struct btrfs_trans_handle *trans,
			 struct btrfs_root *root, u64 num_bytes,
			 u64 empty_size, u64 hint, struct btrfs_key *ins,
			 bool is_data)
{
	struct btrfs_fs_info *fs_info = trans->fs_info;
	u64 type = wanted_type(fs_info, root, is_data);
	int ret;

	ret = find_free_extent(fs_info, type, num_bytes, empty_size, hint, ins);
	if (ret != -ENOSPC)
		return ret;
	/*
	 * No group has room: make a chunk (in memory only, so this is safe
	 * in the middle of any btree operation) and use it.
	 */
	ret = btrfs_create_chunk(trans, type | best_profile(fs_info, type),
				 NULL);
	if (ret)
		return ret == -EINVAL || ret == -EFBIG ? -ENOSPC : ret;
	return find_free_extent(fs_info, type, num_bytes, empty_size, hint,
				ins);
}

int btrfs_free_reserved_extent(struct btrfs_fs_info *fs_info, u64 start,
			       u64 len)
{
	struct btrfs_block_group *bg = btrfs_lookup_block_group(fs_info, start);
	int ret;

	if (!bg || bg->reserved < len)
		return -EINVAL;
	ret = btrfs_add_free_space(bg, start, len);
	if (!ret)
		bg->reserved -= len;
	return ret;
}

struct extent_buffer *
btrfs_alloc_reserved_tree_block(struct btrfs_trans_handle *trans,
				struct btrfs_root *root,
				const struct btrfs_key *ins, int level,
				const struct btrfs_key *first_key)
{
	struct btrfs_fs_info *fs_info = root->fs_info;
	u64 owner = root->root_key.objectid;
	struct extent_buffer *eb;
	int ret;

	eb = alloc_extent_buffer(ins->objectid, fs_info->nodesize);
	if (!eb) {
		btrfs_free_reserved_extent(fs_info, ins->objectid, ins->offset);
		return ERR_PTR(-ENOMEM);
	}
	btrfs_set_header_bytenr(eb, eb->start);
	btrfs_set_header_generation(eb, trans->transid);
	btrfs_set_header_owner(eb, owner);
	btrfs_set_header_level(eb, (u8)level);
	btrfs_set_header_flags(eb, (u64)BTRFS_MIXED_BACKREF_REV
					   << BTRFS_BACKREF_REV_SHIFT);
	memcpy(((struct btrfs_header *)eb->data)->fsid, fs_info->metadata_uuid,
	       BTRFS_FSID_SIZE);
	memcpy(((struct btrfs_header *)eb->data)->chunk_tree_uuid,
	       fs_info->chunk_tree_uuid, BTRFS_UUID_SIZE);
	eb->flags |= EXTENT_BUFFER_UPTODATE;
	ret = btrfs_add_delayed_tree_ref(trans, eb->start, fs_info->nodesize,
					 owner, 0, level, first_key, 1, true);
	if (ret) {
		btrfs_free_reserved_extent(fs_info, ins->objectid, ins->offset);
		free_extent_buffer(eb);
		return ERR_PTR(ret < 0 ? ret : -EUCLEAN);
	}
	eb = eb_cache_replace(fs_info->eb_cache, eb);
	ret = btrfs_mark_buffer_dirty(trans, eb);
	if (ret) {
		free_extent_buffer(eb);
		return ERR_PTR(ret);
	}
	return eb;
}

int btrfs_free_tree_block_ref(struct btrfs_trans_handle *trans, u64 root_id,
			      struct extent_buffer *eb, u64 parent,
			      bool last_ref)
{
	struct btrfs_fs_info *fs_info = trans->fs_info;
	int ret;

	ret = btrfs_add_delayed_tree_ref(trans, eb->start, fs_info->nodesize,
					 root_id, parent,
					 btrfs_header_level(eb), NULL, -1,
					 false);
	if (ret < 0)
		return ret;
	/* A block still shared by another tree must still be written. */
	if (ret == 1 ||
	    (last_ref && btrfs_header_generation(eb) == trans->transid))
		clear_extent_buffer_dirty(eb);
	if (ret == 1)	/* allocated in this transaction: reusable now */
		return btrfs_free_reserved_extent(fs_info, eb->start,
						  fs_info->nodesize);
	return 0;
}

int btrfs_free_tree_block(struct btrfs_trans_handle *trans,
			  struct btrfs_root *root, struct extent_buffer *eb)
{
	return btrfs_free_tree_block_ref(trans, root->root_key.objectid, eb, 0,
					 true);
}

/* ------------------------------------------------------------------ */
/* Extent items and their references. */

static bool skinny(const struct btrfs_fs_info *fs_info)
{
	return btrfs_fs_incompat(fs_info, BTRFS_FEATURE_INCOMPAT_SKINNY_METADATA);
}

/*
 * The kernel's BTRFS_MAX_EXTENT_ITEM_SIZE: an inline ref is only added
 * while the item stays below it, else refs spill into keyed items.
 */
static u32 max_extent_item_size(const struct btrfs_fs_info *fs_info)
{
	return (btrfs_leaf_data_size(fs_info->nodesize) >> 4) -
	       (u32)sizeof(struct btrfs_item);
}

u64 btrfs_hash_extent_data_ref(u64 root, u64 owner, u64 offset)
{
	u32 high = ~(u32)0, low = ~(u32)0;
	u8 le[8];

	put_unaligned_le64(root, le);
	high = btrfs_crc32c(high, le, sizeof(le));
	put_unaligned_le64(owner, le);
	low = btrfs_crc32c(low, le, sizeof(le));
	put_unaligned_le64(offset, le);
	low = btrfs_crc32c(low, le, sizeof(le));
	return ((u64)high << 31) ^ (u64)low;
}

/* One reference as the extent tree stores it. */
struct ref_want {
	u8 type;		/* BTRFS_*_REF_KEY */
	u64 root;
	u64 parent;
	u64 owner;		/* data: inode */
	u64 offset;		/* data: file offset - extent offset */
	u64 hash;		/* EXTENT_DATA_REF: its key offset hash */
};

static void ref_want_of(const struct btrfs_delayed_ref_head *head,
			const struct btrfs_delayed_tree_ref *ref,
			struct ref_want *w)
{
	memset(w, 0, sizeof(*w));
	w->parent = ref->parent;
	if (head->is_data) {
		w->type = ref->parent ? BTRFS_SHARED_DATA_REF_KEY :
					BTRFS_EXTENT_DATA_REF_KEY;
		if (!ref->parent) {
			w->root = ref->root;
			w->owner = ref->owner;
			w->offset = ref->offset;
			w->hash = btrfs_hash_extent_data_ref(w->root, w->owner,
							     w->offset);
		}
	} else {
		w->type = ref->parent ? BTRFS_SHARED_BLOCK_REF_KEY :
					BTRFS_TREE_BLOCK_REF_KEY;
		w->root = ref->root;
	}
}

/* Key offset of @w's keyed item (EXTENT_DATA_REF: where the search starts). */
static u64 keyed_offset(const struct ref_want *w)
{
	switch (w->type) {
	case BTRFS_TREE_BLOCK_REF_KEY:
		return w->root;
	case BTRFS_EXTENT_DATA_REF_KEY:
		return w->hash;
	default:
		return w->parent;
	}
}

static bool is_data_type(u8 type)
{
	return type == BTRFS_EXTENT_DATA_REF_KEY ||
	       type == BTRFS_SHARED_DATA_REF_KEY;
}

/*
 * Find the extent item of @bytenr: with @cow a COW search (@ins_len as for
 * btrfs_search_slot), else read-only.  0 (path at it), -ENOENT, <0.
 */
static int lookup_extent_item(struct btrfs_trans_handle *trans, u64 bytenr,
			      u64 num_bytes, int level, bool is_data,
			      struct btrfs_path *path, int ins_len, int cow)
{
	struct btrfs_fs_info *fs_info = trans->fs_info;
	struct btrfs_key key = { bytenr, BTRFS_METADATA_ITEM_KEY, (u64)level };
	int ret;

	if (!is_data && skinny(fs_info)) {
		ret = btrfs_search_slot(cow ? trans : NULL, fs_info->extent_root,
					&key, path, ins_len, cow);
		if (ret <= 0)
			return ret;
		btrfs_release_path(path);
	}
	key.type = BTRFS_EXTENT_ITEM_KEY;
	key.offset = num_bytes;
	ret = btrfs_search_slot(cow ? trans : NULL, fs_info->extent_root, &key,
				path, ins_len, cow);
	if (ret > 0) {
		btrfs_release_path(path);
		return -ENOENT;
	}
	return ret;
}

static struct btrfs_extent_item *extent_item_at(const struct btrfs_path *path)
{
	return btrfs_item_ptr(path->nodes[0], path->slots[0],
			      struct btrfs_extent_item);
}

/* Offset of the first inline ref in the extent item at the path. */
static u32 inline_refs_start(const struct btrfs_path *path)
{
	const struct extent_buffer *leaf = path->nodes[0];
	struct btrfs_key key;

	btrfs_item_key_to_cpu(leaf, &key, path->slots[0]);
	if (key.type == BTRFS_EXTENT_ITEM_KEY &&
	    (btrfs_extent_flags(leaf, extent_item_at(path)) &
	     BTRFS_EXTENT_FLAG_TREE_BLOCK))
		return sizeof(struct btrfs_extent_item) +
		       sizeof(struct btrfs_tree_block_info);
	return sizeof(struct btrfs_extent_item);
}

static struct btrfs_extent_data_ref *
inline_dref(struct btrfs_extent_inline_ref *iref)
{
	return (struct btrfs_extent_data_ref *)&iref->offset;
}

static struct btrfs_shared_data_ref *
inline_sref(struct btrfs_extent_inline_ref *iref)
{
	return (struct btrfs_shared_data_ref *)(iref + 1);
}

/* The number of references an inline ref stands for. */
static u64 inline_ref_count(const struct extent_buffer *leaf,
			    struct btrfs_extent_inline_ref *iref, u8 type)
{
	if (type == BTRFS_EXTENT_DATA_REF_KEY)
		return btrfs_extent_data_ref_count(leaf, inline_dref(iref));
	if (type == BTRFS_SHARED_DATA_REF_KEY)
		return btrfs_shared_data_ref_count(leaf, inline_sref(iref));
	return 1;
}

static void set_inline_ref_count(struct extent_buffer *leaf,
				 struct btrfs_extent_inline_ref *iref, u8 type,
				 u64 count)
{
	if (type == BTRFS_EXTENT_DATA_REF_KEY)
		btrfs_set_extent_data_ref_count(leaf, inline_dref(iref),
						(u32)count);
	else if (type == BTRFS_SHARED_DATA_REF_KEY)
		btrfs_set_shared_data_ref_count(leaf, inline_sref(iref),
						(u32)count);
}

static bool dref_matches(const struct extent_buffer *leaf,
			 struct btrfs_extent_data_ref *dref,
			 const struct ref_want *w)
{
	return btrfs_extent_data_ref_root(leaf, dref) == w->root &&
	       btrfs_extent_data_ref_objectid(leaf, dref) == w->owner &&
	       btrfs_extent_data_ref_offset(leaf, dref) == w->offset;
}

/*
 * Look for inline ref @w in the extent item at the path: 0 and its
 * position, or 1 and where it would be inserted, in the kernel's order: by
 * type, then by decreasing offset (parent or root), EXTENT_DATA_REFs by
 * decreasing hash.  -EUCLEAN for a damaged item.
 */
static int find_inline_ref(const struct btrfs_path *path,
			   const struct ref_want *w, u32 *pos)
{
	const struct extent_buffer *leaf = path->nodes[0];
	u32 size = btrfs_item_size(leaf, path->slots[0]);
	u8 *base = btrfs_item_ptr(leaf, path->slots[0], u8);
	u32 p = inline_refs_start(path);
	u64 want = w->parent ? w->parent : w->root;

	while (p < size) {
		struct btrfs_extent_inline_ref *ref = (void *)(base + p);
		u8 t = btrfs_extent_inline_ref_type(leaf, ref);
		u32 len = btrfs_extent_inline_ref_size(t);

		if (!len || p + len > size)
			return -EUCLEAN;
		if (w->type < t)
			break;
		if (w->type == t && t == BTRFS_EXTENT_DATA_REF_KEY) {
			struct btrfs_extent_data_ref *dref = inline_dref(ref);

			if (dref_matches(leaf, dref, w)) {
				*pos = p;
				return 0;
			}
			if (btrfs_hash_extent_data_ref(
				    btrfs_extent_data_ref_root(leaf, dref),
				    btrfs_extent_data_ref_objectid(leaf, dref),
				    btrfs_extent_data_ref_offset(leaf, dref)) <
			    w->hash)
				break;
		} else if (w->type == t) {
			u64 off = btrfs_extent_inline_ref_offset(leaf, ref);

			if (off == want) {
				*pos = p;
				return 0;
			}
			if (off < want)
				break;
		}
		p += len;
	}
	if (p > size)
		return -EUCLEAN;
	*pos = p;
	return 1;
}

/* Does extent @bytenr have keyed ref items?  1, 0, <0. */
static int keyed_refs_exist(struct btrfs_fs_info *fs_info, u64 bytenr)
{
	struct btrfs_key key = { bytenr, BTRFS_TREE_BLOCK_REF_KEY, 0 };
	struct btrfs_path *path = btrfs_alloc_path();
	int ret;

	if (!path)
		return -ENOMEM;
	ret = btrfs_search_slot_for_read(fs_info->extent_root, &key, path);
	if (ret == 0) {
		btrfs_item_key_to_cpu(path->nodes[0], &key, path->slots[0]);
		ret = key.objectid == bytenr &&
		      key.type >= BTRFS_TREE_BLOCK_REF_KEY &&
		      key.type <= BTRFS_SHARED_DATA_REF_KEY;
	} else if (ret > 0) {
		ret = 0;
	}
	btrfs_free_path(path);
	return ret;
}

/*
 * Where keyed EXTENT_DATA_REF @w is: *off its key offset and 1 when it
 * exists, else *off the first free offset from its hash (the kernel steps
 * past hash collisions) and 0.  <0 on error.
 */
static int find_keyed_data_ref(struct btrfs_fs_info *fs_info, u64 bytenr,
			       const struct ref_want *w, u64 *off)
{
	struct btrfs_key key = { bytenr, BTRFS_EXTENT_DATA_REF_KEY, w->hash };
	struct btrfs_path *path = btrfs_alloc_path();
	u64 free_off = w->hash;
	int ret;

	if (!path)
		return -ENOMEM;
	ret = btrfs_search_slot_for_read(fs_info->extent_root, &key, path);
	while (ret == 0) {
		struct extent_buffer *leaf = path->nodes[0];

		btrfs_item_key_to_cpu(leaf, &key, path->slots[0]);
		if (key.objectid != bytenr ||
		    key.type != BTRFS_EXTENT_DATA_REF_KEY)
			break;
		if (btrfs_item_size(leaf, path->slots[0]) <
		    sizeof(struct btrfs_extent_data_ref)) {
			ret = -EUCLEAN;
			break;
		}
		if (dref_matches(leaf, btrfs_item_ptr(leaf, path->slots[0],
				 struct btrfs_extent_data_ref), w)) {
			*off = key.offset;
			btrfs_free_path(path);
			return 1;
		}
		if (key.offset == free_off)
			free_off++;
		ret = btrfs_next_item(fs_info->extent_root, path);
	}
	btrfs_free_path(path);
	if (ret < 0)
		return ret;
	*off = free_off;
	return 0;
}

/* Count of the keyed ref item at the path. */
static u64 keyed_count(const struct btrfs_path *path, u8 type)
{
	const struct extent_buffer *leaf = path->nodes[0];
	u32 size = btrfs_item_size(leaf, path->slots[0]);

	if (type == BTRFS_EXTENT_DATA_REF_KEY &&
	    size >= sizeof(struct btrfs_extent_data_ref))
		return btrfs_extent_data_ref_count(leaf,
			btrfs_item_ptr(leaf, path->slots[0],
				       struct btrfs_extent_data_ref));
	if (type == BTRFS_SHARED_DATA_REF_KEY &&
	    size >= sizeof(struct btrfs_shared_data_ref))
		return btrfs_shared_data_ref_count(leaf,
			btrfs_item_ptr(leaf, path->slots[0],
				       struct btrfs_shared_data_ref));
	return is_data_type(type) ? 0 : 1;
}

static void set_keyed_count(const struct btrfs_path *path, u8 type, u64 n)
{
	struct extent_buffer *leaf = path->nodes[0];

	if (type == BTRFS_EXTENT_DATA_REF_KEY)
		btrfs_set_extent_data_ref_count(leaf,
			btrfs_item_ptr(leaf, path->slots[0],
				       struct btrfs_extent_data_ref), (u32)n);
	else if (type == BTRFS_SHARED_DATA_REF_KEY)
		btrfs_set_shared_data_ref_count(leaf,
			btrfs_item_ptr(leaf, path->slots[0],
				       struct btrfs_shared_data_ref), (u32)n);
}

/* The key of keyed ref @w, if it exists (1) or where it goes (0). */
static int keyed_ref_key(struct btrfs_fs_info *fs_info, u64 bytenr,
			 const struct ref_want *w, struct btrfs_key *key)
{
	int ret = 0;

	key->objectid = bytenr;
	key->type = w->type;
	key->offset = keyed_offset(w);
	if (w->type == BTRFS_EXTENT_DATA_REF_KEY)
		ret = find_keyed_data_ref(fs_info, bytenr, w, &key->offset);
	return ret;
}

/* Add @n to keyed ref @w of @bytenr, creating the item if needed. */
static int add_keyed_ref(struct btrfs_trans_handle *trans, u64 bytenr,
			 const struct ref_want *w, u64 n)
{
	struct btrfs_fs_info *fs_info = trans->fs_info;
	struct btrfs_root *root = fs_info->extent_root;
	struct btrfs_path *path;
	struct btrfs_key key;
	u32 size = 0;
	int ret;

	ret = keyed_ref_key(fs_info, bytenr, w, &key);
	if (ret < 0)
		return ret;
	if (w->type == BTRFS_EXTENT_DATA_REF_KEY)
		size = sizeof(struct btrfs_extent_data_ref);
	else if (w->type == BTRFS_SHARED_DATA_REF_KEY)
		size = sizeof(struct btrfs_shared_data_ref);
	path = btrfs_alloc_path();
	if (!path)
		return -ENOMEM;
	ret = btrfs_search_slot(trans, root, &key, path, (int)size, 1);
	if (ret == 0 && is_data_type(w->type)) {
		set_keyed_count(path, w->type, keyed_count(path, w->type) + n);
		ret = btrfs_mark_buffer_dirty(trans, path->nodes[0]);
		goto out;
	}
	if (ret == 0)
		ret = -EUCLEAN;		/* a tree block ref cannot repeat */
	if (ret < 0)
		goto out;
	btrfs_release_path(path);
	ret = btrfs_insert_empty_item(trans, root, path, &key, size);
	if (ret)
		goto out;
	if (w->type == BTRFS_EXTENT_DATA_REF_KEY) {
		struct btrfs_extent_data_ref *dref;

		dref = btrfs_item_ptr(path->nodes[0], path->slots[0],
				      struct btrfs_extent_data_ref);
		btrfs_set_extent_data_ref_root(path->nodes[0], dref, w->root);
		btrfs_set_extent_data_ref_objectid(path->nodes[0], dref,
						   w->owner);
		btrfs_set_extent_data_ref_offset(path->nodes[0], dref,
						 w->offset);
	}
	set_keyed_count(path, w->type, n);
	ret = btrfs_mark_buffer_dirty(trans, path->nodes[0]);
out:
	btrfs_free_path(path);
	return ret;
}

/* Take @n from keyed ref @w of @bytenr, deleting it at zero. */
static int drop_keyed_ref(struct btrfs_trans_handle *trans, u64 bytenr,
			  const struct ref_want *w, u64 n)
{
	struct btrfs_fs_info *fs_info = trans->fs_info;
	struct btrfs_root *root = fs_info->extent_root;
	struct btrfs_path *path;
	struct btrfs_key key;
	u64 count;
	int ret;

	ret = keyed_ref_key(fs_info, bytenr, w, &key);
	if (ret < 0)
		return ret;
	if (ret == 0 && w->type == BTRFS_EXTENT_DATA_REF_KEY)
		return -EUCLEAN;
	path = btrfs_alloc_path();
	if (!path)
		return -ENOMEM;
	ret = btrfs_search_existing_item(trans, root, &key, path, -1, 0);
	if (ret)
		goto out;
	count = keyed_count(path, w->type);
	if (count < n) {
		ret = -EUCLEAN;
	} else if (count == n) {
		ret = btrfs_del_item(trans, root, path);
	} else {
		set_keyed_count(path, w->type, count - n);
		ret = btrfs_mark_buffer_dirty(trans, path->nodes[0]);
	}
out:
	btrfs_free_path(path);
	return ret;
}

/* Write inline ref @w with count @n at @ref. */
static void fill_inline_ref(struct extent_buffer *leaf,
			    struct btrfs_extent_inline_ref *ref,
			    const struct ref_want *w, u64 n)
{
	btrfs_set_extent_inline_ref_type(leaf, ref, w->type);
	if (w->type == BTRFS_EXTENT_DATA_REF_KEY) {
		struct btrfs_extent_data_ref *dref = inline_dref(ref);

		btrfs_set_extent_data_ref_root(leaf, dref, w->root);
		btrfs_set_extent_data_ref_objectid(leaf, dref, w->owner);
		btrfs_set_extent_data_ref_offset(leaf, dref, w->offset);
	} else {
		btrfs_set_extent_inline_ref_offset(leaf, ref,
			w->parent ? w->parent : w->root);
	}
	set_inline_ref_count(leaf, ref, w->type, n);
}

/* Insert the extent item of a new extent with its first reference. */
static int insert_extent_item(struct btrfs_trans_handle *trans,
			      const struct btrfs_delayed_ref_head *head,
			      const struct ref_want *w, u64 n)
{
	struct btrfs_fs_info *fs_info = trans->fs_info;
	struct btrfs_path *path = btrfs_alloc_path();
	u32 hdr = sizeof(struct btrfs_extent_item);
	u32 iref = btrfs_extent_inline_ref_size(w->type);
	struct btrfs_extent_item *ei;
	struct extent_buffer *leaf;
	struct btrfs_key key;
	u64 flags;
	int ret;

	if (!path)
		return -ENOMEM;
	key.objectid = head->bytenr;
	if (head->is_data) {
		key.type = BTRFS_EXTENT_ITEM_KEY;
		key.offset = head->num_bytes;
		flags = BTRFS_EXTENT_FLAG_DATA;
	} else if (skinny(fs_info)) {
		key.type = BTRFS_METADATA_ITEM_KEY;
		key.offset = (u64)head->level;
		flags = BTRFS_EXTENT_FLAG_TREE_BLOCK;
	} else {
		key.type = BTRFS_EXTENT_ITEM_KEY;
		key.offset = head->num_bytes;
		hdr += sizeof(struct btrfs_tree_block_info);
		flags = BTRFS_EXTENT_FLAG_TREE_BLOCK;
	}
	ret = btrfs_insert_empty_item(trans, fs_info->extent_root, path, &key,
				      hdr + iref);
	if (ret) {
		btrfs_free_path(path);
		return ret == -EEXIST ? -EUCLEAN : ret;
	}
	leaf = path->nodes[0];
	ei = btrfs_item_ptr(leaf, path->slots[0], struct btrfs_extent_item);
	btrfs_set_extent_refs(leaf, ei, n);
	btrfs_set_extent_generation(leaf, ei, trans->transid);
	btrfs_set_extent_flags(leaf, ei, flags | head->set_flags);
	if (key.type == BTRFS_EXTENT_ITEM_KEY && !head->is_data) {
		struct btrfs_tree_block_info *info = (void *)(ei + 1);

		btrfs_cpu_key_to_disk(&info->key, &head->first_key);
		btrfs_set_tree_block_level(leaf, info, (u8)head->level);
	}
	fill_inline_ref(leaf, (void *)((u8 *)ei + hdr), w, n);
	ret = btrfs_mark_buffer_dirty(trans, leaf);
	btrfs_free_path(path);
	return ret;
}

/* Add @n references @w to an existing extent item. */
static int add_ref(struct btrfs_trans_handle *trans,
		   const struct btrfs_delayed_ref_head *head,
		   const struct ref_want *w, u64 n)
{
	struct btrfs_fs_info *fs_info = trans->fs_info;
	u32 len = btrfs_extent_inline_ref_size(w->type);
	struct btrfs_path *path = btrfs_alloc_path();
	struct btrfs_extent_inline_ref *iref;
	struct extent_buffer *leaf;
	struct btrfs_extent_item *ei;
	u32 pos, size;
	u8 *base;
	int ret;

	if (!path)
		return -ENOMEM;
	ret = lookup_extent_item(trans, head->bytenr, head->num_bytes,
				 head->level, head->is_data, path, (int)len, 1);
	if (!ret)
		ret = find_inline_ref(path, w, &pos);
	if (ret < 0)
		goto out;
	leaf = path->nodes[0];
	ei = extent_item_at(path);
	base = btrfs_item_ptr(leaf, path->slots[0], u8);
	if (ret == 0) {
		if (!is_data_type(w->type)) {
			ret = -EUCLEAN;	/* tree block refs cannot repeat */
			goto out;
		}
		iref = (void *)(base + pos);
		btrfs_set_extent_refs(leaf, ei, btrfs_extent_refs(leaf, ei) + n);
		set_inline_ref_count(leaf, iref, w->type,
				     inline_ref_count(leaf, iref, w->type) + n);
		ret = btrfs_mark_buffer_dirty(trans, leaf);
		goto out;
	}
	btrfs_set_extent_refs(leaf, ei, btrfs_extent_refs(leaf, ei) + n);
	size = btrfs_item_size(leaf, path->slots[0]);
	ret = keyed_refs_exist(fs_info, head->bytenr);
	if (ret < 0)
		goto out;
	if (!ret && size + len < max_extent_item_size(fs_info)) {
		ret = btrfs_extend_item(trans, path, len);
		if (ret)
			goto out;
		base = btrfs_item_ptr(leaf, path->slots[0], u8);
		memmove(base + pos + len, base + pos, size - pos);
		fill_inline_ref(leaf, (void *)(base + pos), w, n);
		goto out;
	}
	ret = btrfs_mark_buffer_dirty(trans, leaf);
	btrfs_release_path(path);
	if (!ret)
		ret = add_keyed_ref(trans, head->bytenr, w, n);
out:
	btrfs_free_path(path);
	return ret;
}

/* The extent is gone: account, pin, and record it in the free space tree. */
static int free_extent_accounting(struct btrfs_trans_handle *trans, u64 bytenr,
				  u64 num_bytes, bool is_data)
{
	struct btrfs_fs_info *fs_info = trans->fs_info;
	struct btrfs_block_group *bg = btrfs_lookup_block_group(fs_info, bytenr);
	struct btrfs_super_block *sb = &fs_info->super_copy;
	int ret;

	if (!bg || bg->used < num_bytes)
		return -EUCLEAN;
	bg->used -= num_bytes;
	bg->pinned += num_bytes;
	bg->dirty = true;
	btrfs_set_super_bytes_used(sb, btrfs_super_bytes_used(sb) - num_bytes);
	ret = btrfs_pin_extent(trans, bytenr, num_bytes);
	if (!ret && fs_info->free_space_root)
		ret = btrfs_add_to_free_space_tree(trans, bytenr, num_bytes);
	if (!ret && is_data)
		ret = btrfs_del_csums(trans, bytenr, num_bytes);
	return ret;
}

static int alloc_extent_accounting(struct btrfs_trans_handle *trans,
				   u64 bytenr, u64 num_bytes)
{
	struct btrfs_fs_info *fs_info = trans->fs_info;
	struct btrfs_block_group *bg = btrfs_lookup_block_group(fs_info, bytenr);
	struct btrfs_super_block *sb = &fs_info->super_copy;

	if (!bg || bg->reserved < num_bytes)
		return -EUCLEAN;
	bg->reserved -= num_bytes;
	bg->used += num_bytes;
	bg->dirty = true;
	btrfs_set_super_bytes_used(sb, btrfs_super_bytes_used(sb) + num_bytes);
	if (fs_info->free_space_root)
		return btrfs_remove_from_free_space_tree(trans, bytenr,
							 num_bytes);
	return 0;
}

/* Drop @n references @w; at zero the extent item goes and the extent is
 * freed. */
static int drop_ref(struct btrfs_trans_handle *trans,
		    const struct btrfs_delayed_ref_head *head,
		    const struct ref_want *w, u64 n)
{
	struct btrfs_root *root = trans->fs_info->extent_root;
	u32 len = btrfs_extent_inline_ref_size(w->type);
	struct btrfs_path *path = btrfs_alloc_path();
	struct btrfs_extent_inline_ref *iref = NULL;
	struct btrfs_extent_item *ei;
	struct extent_buffer *leaf;
	u64 refs, count = 0;
	u32 pos, size;
	u8 *base;
	int ret;

	if (!path)
		return -ENOMEM;
	ret = lookup_extent_item(trans, head->bytenr, head->num_bytes,
				 head->level, head->is_data, path, -1, 1);
	if (!ret)
		ret = find_inline_ref(path, w, &pos);
	if (ret < 0)
		goto out;
	leaf = path->nodes[0];
	ei = extent_item_at(path);
	refs = btrfs_extent_refs(leaf, ei);
	base = btrfs_item_ptr(leaf, path->slots[0], u8);
	if (ret == 0) {
		iref = (void *)(base + pos);
		count = inline_ref_count(leaf, iref, w->type);
	}
	if (refs < n || (iref && count < n) ||
	    (refs == n && iref && count != n)) {
		ret = -EUCLEAN;
		goto out;
	}
	if (refs == n) {
		ret = btrfs_del_item(trans, root, path);
		btrfs_release_path(path);
		if (!ret && !iref)
			ret = drop_keyed_ref(trans, head->bytenr, w, n);
		if (!ret)
			ret = free_extent_accounting(trans, head->bytenr,
						     head->num_bytes,
						     head->is_data);
		goto out;
	}
	btrfs_set_extent_refs(leaf, ei, refs - n);
	ret = btrfs_mark_buffer_dirty(trans, leaf);
	if (ret)
		goto out;
	if (iref && count > n) {
		set_inline_ref_count(leaf, iref, w->type, count - n);
	} else if (iref) {
		size = btrfs_item_size(leaf, path->slots[0]);
		memmove(base + pos, base + pos + len, size - pos - len);
		ret = btrfs_truncate_item(trans, path, size - len, true);
	} else {
		btrfs_release_path(path);
		ret = drop_keyed_ref(trans, head->bytenr, w, n);
	}
out:
	btrfs_free_path(path);
	return ret;
}

/* Set the queued extent flags of @head on its (existing) item. */
static int apply_extent_flags(struct btrfs_trans_handle *trans,
			      const struct btrfs_delayed_ref_head *head)
{
	struct btrfs_path *path = btrfs_alloc_path();
	struct btrfs_extent_item *ei;
	int ret;

	if (!path)
		return -ENOMEM;
	ret = lookup_extent_item(trans, head->bytenr, head->num_bytes,
				 head->level, head->is_data, path, 0, 1);
	if (!ret) {
		ei = extent_item_at(path);
		btrfs_set_extent_flags(path->nodes[0], ei,
				       btrfs_extent_flags(path->nodes[0], ei) |
					       head->set_flags);
		ret = btrfs_mark_buffer_dirty(trans, path->nodes[0]);
	}
	btrfs_free_path(path);
	return ret;
}

static int run_one_ref(struct btrfs_trans_handle *trans,
		       const struct btrfs_delayed_ref_head *head,
		       const struct btrfs_delayed_tree_ref *ref)
{
	struct ref_want w;
	u64 n = (u64)abs(ref->ref_mod);
	int ret = 0;

	ref_want_of(head, ref, &w);
	if (is_data_type(w.type))
		return ref->ref_mod > 0 ? add_ref(trans, head, &w, n) :
					  drop_ref(trans, head, &w, n);
	/* A tree block ref stands for one reference. */
	for (u64 i = 0; !ret && i < n; i++)
		ret = ref->ref_mod > 0 ? add_ref(trans, head, &w, 1) :
					 drop_ref(trans, head, &w, 1);
	return ret;
}

/*
 * Like the kernel: the new extent's item is inserted with its first added
 * ref, then the other adds run, then the drops (a drop before the adds
 * could free an extent that stays referenced), then the flags.
 */
int btrfs_run_delayed_ref_head(struct btrfs_trans_handle *trans,
			       struct btrfs_delayed_ref_head *head)
{
	int first = -1;
	bool freed = false;
	int ret = 0;

	if (head->insert_reserved) {
		struct ref_want w;

		for (int i = 0; i < head->nr_refs && first < 0; i++)
			if (head->refs[i].ref_mod > 0)
				first = i;
		if (first < 0 ||
		    (!head->is_data && head->refs[first].ref_mod != 1))
			return -EUCLEAN;
		ref_want_of(head, &head->refs[first], &w);
		ret = insert_extent_item(trans, head, &w,
					 (u64)head->refs[first].ref_mod);
		if (!ret)
			ret = alloc_extent_accounting(trans, head->bytenr,
						      head->num_bytes);
	}
	for (int i = 0; !ret && i < head->nr_refs; i++)
		if (i != first && head->refs[i].ref_mod > 0)
			ret = run_one_ref(trans, head, &head->refs[i]);
	for (int i = 0; !ret && i < head->nr_refs; i++)
		if (head->refs[i].ref_mod < 0)
			ret = run_one_ref(trans, head, &head->refs[i]);
	if (!ret && head->set_flags && !head->insert_reserved) {
		ret = apply_extent_flags(trans, head);
		if (ret == -ENOENT && head->total_ref_mod < 0)
			freed = true;	/* the drops freed it */
	}
	return freed ? 0 : ret;
}

/* ------------------------------------------------------------------ */
/* Reference changes (the kernel's btrfs_inc_extent_ref and friends). */

int btrfs_inc_extent_ref(struct btrfs_trans_handle *trans,
			 const struct btrfs_ref *ref)
{
	if (ref->is_data)
		return btrfs_add_delayed_data_ref(trans, ref->bytenr,
						  ref->num_bytes, ref->root,
						  ref->parent, ref->owner,
						  ref->offset, 1, false);
	return btrfs_add_delayed_tree_ref(trans, ref->bytenr, ref->num_bytes,
					  ref->root, ref->parent,
					  (int)ref->owner, NULL, 1, false);
}

int btrfs_free_extent(struct btrfs_trans_handle *trans,
		      const struct btrfs_ref *ref)
{
	int ret;

	if (ref->is_data)
		ret = btrfs_add_delayed_data_ref(trans, ref->bytenr,
						 ref->num_bytes, ref->root,
						 ref->parent, ref->owner,
						 ref->offset, -1, false);
	else
		ret = btrfs_add_delayed_tree_ref(trans, ref->bytenr,
						 ref->num_bytes, ref->root,
						 ref->parent, (int)ref->owner,
						 NULL, -1, false);
	if (ret != 1)
		return ret;
	/* Reserved in this transaction and now unused: give it back. */
	ret = btrfs_free_reserved_extent(trans->fs_info, ref->bytenr,
					 ref->num_bytes);
	if (!ret && ref->is_data)
		ret = btrfs_del_csums(trans, ref->bytenr, ref->num_bytes);
	return ret;
}

int btrfs_alloc_reserved_file_extent(struct btrfs_trans_handle *trans,
				     u64 root_objectid, u64 owner, u64 offset,
				     const struct btrfs_key *ins)
{
	if (owner < BTRFS_FIRST_FREE_OBJECTID)
		return -EINVAL;
	return btrfs_add_delayed_data_ref(trans, ins->objectid, ins->offset,
					  root_objectid, 0, owner, offset, 1,
					  true);
}

int btrfs_lookup_extent_info(struct btrfs_trans_handle *trans, u64 bytenr,
			     int level, u64 *refs, u64 *flags)
{
	struct btrfs_fs_info *fs_info = trans->fs_info;
	struct btrfs_delayed_ref_head *head;
	struct btrfs_path *path = btrfs_alloc_path();
	s64 total = 0;
	int ret;

	if (!path)
		return -ENOMEM;
	*refs = 0;
	*flags = 0;
	ret = lookup_extent_item(trans, bytenr, fs_info->nodesize, level,
				 false, path, 0, 0);
	if (ret == 0) {
		struct btrfs_extent_item *ei = extent_item_at(path);

		if (btrfs_item_size(path->nodes[0], path->slots[0]) <
		    sizeof(*ei)) {
			ret = -EUCLEAN;
		} else {
			total = (s64)btrfs_extent_refs(path->nodes[0], ei);
			*flags = btrfs_extent_flags(path->nodes[0], ei);
		}
	}
	btrfs_free_path(path);
	head = btrfs_find_delayed_ref_head(trans, bytenr);
	if (ret == -ENOENT && head && head->insert_reserved) {
		ret = 0;
		*flags = BTRFS_EXTENT_FLAG_TREE_BLOCK;
	}
	if (ret)
		return ret;
	if (head) {
		total += head->total_ref_mod;
		*flags |= head->set_flags;
	}
	if (total <= 0)
		return -EUCLEAN;
	*refs = (u64)total;
	return 0;
}

int btrfs_set_disk_extent_flags(struct btrfs_trans_handle *trans,
				struct extent_buffer *eb, u64 flags)
{
	return btrfs_add_delayed_extent_op(trans, eb->start, eb->len,
					   btrfs_header_level(eb), flags);
}

/*
 * Add (@inc) or drop one reference for everything @buf points to: the
 * children of a node, the data extents of a leaf's regular and prealloc
 * file extent items (holes and inline extents have none).  The refs are
 * shared ones with @buf as parent when @full_backref, else normal ones of
 * @buf's owner (the kernel's __btrfs_mod_ref).
 */
static int mod_ref(struct btrfs_trans_handle *trans, struct btrfs_root *root,
		   struct extent_buffer *buf, bool full_backref, bool inc)
{
	struct btrfs_fs_info *fs_info = trans->fs_info;
	int level = btrfs_header_level(buf);
	int nritems = (int)btrfs_header_nritems(buf);
	struct btrfs_ref ref = { 0 };
	int ret = 0;

	if (level == 0 && !btrfs_root_is_shareable(root))
		return 0;
	ref.parent = full_backref ? buf->start : 0;
	ref.root = full_backref ? 0 : btrfs_header_owner(buf);
	for (int i = 0; !ret && i < nritems; i++) {
		if (level == 0) {
			struct btrfs_file_extent_item *fi;
			struct btrfs_key key;
			u8 type;

			btrfs_item_key_to_cpu(buf, &key, i);
			if (key.type != BTRFS_EXTENT_DATA_KEY)
				continue;
			fi = btrfs_item_ptr(buf, i,
					    struct btrfs_file_extent_item);
			if (btrfs_item_size(buf, i) <
			    offsetof(struct btrfs_file_extent_item,
				     disk_bytenr))
				return -EUCLEAN;
			type = btrfs_file_extent_type(buf, fi);
			if (type == BTRFS_FILE_EXTENT_INLINE)
				continue;
			if (btrfs_item_size(buf, i) < sizeof(*fi))
				return -EUCLEAN;
			ref.bytenr = btrfs_file_extent_disk_bytenr(buf, fi);
			if (!ref.bytenr)
				continue;
			ref.num_bytes =
				btrfs_file_extent_disk_num_bytes(buf, fi);
			ref.is_data = true;
			ref.owner = full_backref ? 0 : key.objectid;
			ref.offset = full_backref ? 0 :
				key.offset - btrfs_file_extent_offset(buf, fi);
		} else {
			ref.bytenr = btrfs_node_blockptr(buf, i);
			ref.num_bytes = fs_info->nodesize;
			ref.is_data = false;
			ref.owner = (u64)(level - 1);
			ref.offset = 0;
		}
		ret = inc ? btrfs_inc_extent_ref(trans, &ref) :
			    btrfs_free_extent(trans, &ref);
	}
	return ret;
}

int btrfs_inc_ref(struct btrfs_trans_handle *trans, struct btrfs_root *root,
		  struct extent_buffer *buf, bool full_backref)
{
	return mod_ref(trans, root, buf, full_backref, true);
}

int btrfs_dec_ref(struct btrfs_trans_handle *trans, struct btrfs_root *root,
		  struct extent_buffer *buf, bool full_backref)
{
	return mod_ref(trans, root, buf, full_backref, false);
}

/* ------------------------------------------------------------------ */
/* Commit helpers. */

static int write_block_group_item(struct btrfs_trans_handle *trans,
				  struct btrfs_block_group *bg)
{
	struct btrfs_root *root = btrfs_block_group_root(trans->fs_info);
	struct btrfs_key key = { bg->start, BTRFS_BLOCK_GROUP_ITEM_KEY,
				 bg->length };
	struct btrfs_path *path = btrfs_alloc_path();
	struct btrfs_block_group_item *item;
	int ret;

	if (!path)
		return -ENOMEM;
	ret = btrfs_search_existing_item(trans, root, &key, path, 0,
					 sizeof(*item));
	if (!ret) {
		item = btrfs_item_ptr(path->nodes[0], path->slots[0],
				      struct btrfs_block_group_item);
		btrfs_set_block_group_used(path->nodes[0], item, bg->used);
		ret = btrfs_mark_buffer_dirty(trans, path->nodes[0]);
	}
	btrfs_free_path(path);
	return ret;
}

int btrfs_insert_block_group_item(struct btrfs_trans_handle *trans,
				  struct btrfs_block_group *bg)
{
	struct btrfs_key key = { bg->start, BTRFS_BLOCK_GROUP_ITEM_KEY,
				 bg->length };
	struct btrfs_block_group_item item;
	int ret;

	btrfs_set_stack_block_group_used(&item, bg->used);
	btrfs_set_stack_block_group_chunk_objectid(&item,
					BTRFS_FIRST_CHUNK_TREE_OBJECTID);
	btrfs_set_stack_block_group_flags(&item, bg->flags);
	ret = btrfs_insert_item(trans, btrfs_block_group_root(trans->fs_info), &key,
				&item, sizeof(item));
	if (!ret)
		bg->new_chunk = false;
	return ret;
}

int btrfs_write_dirty_block_groups(struct btrfs_trans_handle *trans,
				   bool *did_work)
{
	struct btrfs_fs_info *fs_info = trans->fs_info;

	for (size_t i = 0; i < fs_info->nr_block_groups; i++) {
		struct btrfs_block_group *bg = fs_info->block_groups[i];
		int ret;

		if (!bg->dirty && !bg->new_chunk)
			continue;
		bg->dirty = false;
		*did_work = true;
		if (bg->new_chunk) {
			ret = btrfs_chunk_alloc_add_items(trans, bg);
			if (!ret)
				ret = btrfs_insert_block_group_item(trans, bg);
		} else {
			ret = write_block_group_item(trans, bg);
		}
		if (ret)
			return ret;
	}
	return 0;
}

int btrfs_unpin_extents(struct btrfs_trans_handle *trans)
{
	struct btrfs_fs_info *fs_info = trans->fs_info;

	for (size_t i = 0; i < trans->nr_pinned; i++) {
		const struct btrfs_pinned_extent *p = &trans->pinned[i];
		struct btrfs_block_group *bg;
		int ret;

		bg = btrfs_lookup_block_group(fs_info, p->start);
		if (!bg || bg->pinned < p->len)
			return -EUCLEAN;
		ret = btrfs_add_free_space(bg, p->start, p->len);
		if (ret)
			return ret;
		bg->pinned -= p->len;
	}
	trans->nr_pinned = 0;
	return 0;
}
