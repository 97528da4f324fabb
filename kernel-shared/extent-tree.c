// SPDX-License-Identifier: GPL-2.0
/*
 * Block groups, the two-stage extent allocator, and applying delayed tree
 * block references to the extent tree.
 */
#include <stdlib.h>

#include "kernel-shared/delayed-ref.h"
#include "kernel-shared/disk-io.h"
#include "kernel-shared/extent-tree.h"
#include "kernel-shared/free-space-tree.h"
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
}

u64 btrfs_total_reserved(const struct btrfs_fs_info *fs_info)
{
	u64 sum = 0;

	for (size_t i = 0; i < fs_info->nr_block_groups; i++)
		sum += fs_info->block_groups[i]->reserved;
	return sum;
}

static struct btrfs_root *block_group_root(struct btrfs_fs_info *fs_info)
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
	struct btrfs_block_group *bg, **arr, *prev = NULL;
	size_t n = fs_info->nr_block_groups;

	if (btrfs_item_size(leaf, slot) < sizeof(*item) || key->offset == 0)
		return -EUCLEAN;
	if (n)
		prev = fs_info->block_groups[n - 1];
	if (prev && prev->start + prev->length > key->objectid)
		return -EUCLEAN;
	arr = realloc(fs_info->block_groups, (n + 1) * sizeof(*arr));
	if (!arr)
		return -ENOMEM;
	fs_info->block_groups = arr;
	bg = calloc(1, sizeof(*bg));
	if (!bg)
		return -ENOMEM;
	item = btrfs_item_ptr(leaf, slot, struct btrfs_block_group_item);
	bg->fs_info = fs_info;
	bg->start = key->objectid;
	bg->length = key->offset;
	bg->flags = btrfs_block_group_flags(leaf, item);
	bg->used = btrfs_block_group_used(leaf, item);
	arr[n] = bg;
	fs_info->nr_block_groups = n + 1;
	return btrfs_add_free_space(bg, bg->start, bg->length);
}

static int load_block_group_items(struct btrfs_fs_info *fs_info)
{
	struct btrfs_root *root = block_group_root(fs_info);
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
	return map->start + nr * map->stripe_len;
}

static u64 stripe_dev_len(const struct map_lookup *map)
{
	u64 type = map->type & BTRFS_BLOCK_GROUP_PROFILE_MASK;

	if (type == BTRFS_BLOCK_GROUP_RAID0)
		return map->length / (u64)map->num_stripes;
	if (type == BTRFS_BLOCK_GROUP_RAID10)
		return map->length /
		       (u64)(map->num_stripes / map->sub_stripes);
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

			if (sb < phys || sb >= phys + stripe_dev_len(map))
				continue;
			ret = exclude_range(bg, stripe_logical(map, i, sb - phys),
					    map->stripe_len);
		}
	}
	return ret;
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
			ret = -EUCLEAN;
		else
			ret = exclude_super_stripes(fs_info, bg);
	}
	free(sums);
	if (ret)
		btrfs_free_block_groups(fs_info);
	return ret;
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

int btrfs_reserve_extent(struct btrfs_trans_handle *trans,
			 struct btrfs_root *root, u64 num_bytes,
			 u64 empty_size, u64 hint, struct btrfs_key *ins,
			 bool is_data)
{
	struct btrfs_fs_info *fs_info = trans->fs_info;
	u64 type = wanted_type(fs_info, root, is_data);
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

int btrfs_free_tree_block(struct btrfs_trans_handle *trans,
			  struct btrfs_root *root, struct extent_buffer *eb)
{
	struct btrfs_fs_info *fs_info = root->fs_info;
	int ret;

	ret = btrfs_add_delayed_tree_ref(trans, eb->start, fs_info->nodesize,
					 root->root_key.objectid, 0,
					 btrfs_header_level(eb), NULL, -1,
					 false);
	if (ret < 0)
		return ret;
	if (btrfs_header_generation(eb) == trans->transid)
		clear_extent_buffer_dirty(eb);
	if (ret == 1)	/* allocated in this transaction: reusable now */
		return btrfs_free_reserved_extent(fs_info, eb->start,
						  fs_info->nodesize);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Extent items. */

static bool skinny(const struct btrfs_fs_info *fs_info)
{
	return btrfs_fs_incompat(fs_info, BTRFS_FEATURE_INCOMPAT_SKINNY_METADATA);
}

/* The largest extent item before refs spill into keyed items. */
static u32 max_extent_item_size(const struct btrfs_fs_info *fs_info)
{
	return (btrfs_leaf_data_size(fs_info->nodesize) >> 4) -
	       (u32)sizeof(struct btrfs_item);
}

static int insert_tree_block_item(struct btrfs_trans_handle *trans,
				  const struct btrfs_delayed_ref_head *head)
{
	struct btrfs_fs_info *fs_info = trans->fs_info;
	struct btrfs_path *path = btrfs_alloc_path();
	u32 hdr = sizeof(struct btrfs_extent_item);
	u32 iref = sizeof(struct btrfs_extent_inline_ref);
	struct btrfs_extent_item *ei;
	struct btrfs_extent_inline_ref *ref;
	struct extent_buffer *leaf;
	struct btrfs_key key;
	u64 type;
	int ret;

	if (!path)
		return -ENOMEM;
	if (head->nr_refs != 1 || head->refs[0].ref_mod != 1) {
		btrfs_free_path(path);
		return -EUCLEAN;
	}
	key.objectid = head->bytenr;
	if (skinny(fs_info)) {
		key.type = BTRFS_METADATA_ITEM_KEY;
		key.offset = (u64)head->level;
	} else {
		key.type = BTRFS_EXTENT_ITEM_KEY;
		key.offset = head->num_bytes;
		hdr += sizeof(struct btrfs_tree_block_info);
	}
	ret = btrfs_insert_empty_item(trans, fs_info->extent_root, path, &key,
				      hdr + iref);
	if (ret) {
		btrfs_free_path(path);
		return ret == -EEXIST ? -EUCLEAN : ret;
	}
	leaf = path->nodes[0];
	ei = btrfs_item_ptr(leaf, path->slots[0], struct btrfs_extent_item);
	btrfs_set_extent_refs(leaf, ei, 1);
	btrfs_set_extent_generation(leaf, ei, trans->transid);
	btrfs_set_extent_flags(leaf, ei, BTRFS_EXTENT_FLAG_TREE_BLOCK);
	if (!skinny(fs_info)) {
		struct btrfs_tree_block_info *info = (void *)(ei + 1);

		btrfs_cpu_key_to_disk(&info->key, &head->first_key);
		btrfs_set_tree_block_level(leaf, info, (u8)head->level);
	}
	ref = (struct btrfs_extent_inline_ref *)((u8 *)ei + hdr);
	type = head->refs[0].parent ? BTRFS_SHARED_BLOCK_REF_KEY :
				      BTRFS_TREE_BLOCK_REF_KEY;
	btrfs_set_extent_inline_ref_type(leaf, ref, (u8)type);
	btrfs_set_extent_inline_ref_offset(leaf, ref,
					   head->refs[0].parent ?
						   head->refs[0].parent :
						   head->refs[0].root);
	ret = btrfs_mark_buffer_dirty(trans, leaf);
	btrfs_free_path(path);
	return ret;
}

/* Find the extent item of tree block @head with a COW search. */
static int lookup_tree_block_item(struct btrfs_trans_handle *trans,
				  const struct btrfs_delayed_ref_head *head,
				  struct btrfs_path *path, int ins_len)
{
	struct btrfs_fs_info *fs_info = trans->fs_info;
	struct btrfs_key key = { head->bytenr, BTRFS_METADATA_ITEM_KEY,
				 (u64)head->level };
	int ret;

	if (skinny(fs_info)) {
		ret = btrfs_search_slot(trans, fs_info->extent_root, &key, path,
					ins_len, 1);
		if (ret <= 0)
			return ret;
		btrfs_release_path(path);
	}
	key.type = BTRFS_EXTENT_ITEM_KEY;
	key.offset = head->num_bytes;
	ret = btrfs_search_slot(trans, fs_info->extent_root, &key, path,
				ins_len, 1);
	if (ret > 0) {
		btrfs_release_path(path);
		return -ENOENT;
	}
	return ret;
}

/* Offset of the first inline ref in the item at the path. */
static u32 inline_refs_start(const struct btrfs_path *path)
{
	struct btrfs_key key;

	btrfs_item_key_to_cpu(path->nodes[0], &key, path->slots[0]);
	if (key.type == BTRFS_EXTENT_ITEM_KEY)
		return sizeof(struct btrfs_extent_item) +
		       sizeof(struct btrfs_tree_block_info);
	return sizeof(struct btrfs_extent_item);
}

/*
 * Look for inline ref (@type, @offset) in the item at the path: 0 and its
 * position, or 1 and where it would be inserted (the kernel's order: by
 * type, then by decreasing offset).  -EUCLEAN for a damaged item.
 */
static int find_inline_ref(const struct btrfs_path *path, u8 type, u64 offset,
			   u32 *pos)
{
	const struct extent_buffer *leaf = path->nodes[0];
	u32 size = btrfs_item_size(leaf, path->slots[0]);
	const u8 *base = btrfs_item_ptr(leaf, path->slots[0], u8);
	u32 p = inline_refs_start(path);

	while (p < size) {
		const struct btrfs_extent_inline_ref *ref = (const void *)(base + p);
		u8 t = btrfs_extent_inline_ref_type(leaf, ref);
		u32 len = btrfs_extent_inline_ref_size(t);
		u64 off;

		if (!len || p + len > size)
			return -EUCLEAN;
		if (type < t)
			break;
		if (type == t && t != BTRFS_EXTENT_DATA_REF_KEY) {
			off = btrfs_extent_inline_ref_offset(leaf, ref);
			if (off == offset) {
				*pos = p;
				return 0;
			}
			if (off < offset)
				break;
		}
		p += len;
	}
	*pos = p;
	return 1;
}

static struct btrfs_extent_item *extent_item_at(const struct btrfs_path *path)
{
	return btrfs_item_ptr(path->nodes[0], path->slots[0],
			      struct btrfs_extent_item);
}

static void ref_type_offset(const struct btrfs_delayed_tree_ref *ref,
			    u8 *type, u64 *offset)
{
	*type = ref->parent ? BTRFS_SHARED_BLOCK_REF_KEY :
			      BTRFS_TREE_BLOCK_REF_KEY;
	*offset = ref->parent ? ref->parent : ref->root;
}

/* Add a reference to an existing tree block extent item. */
static int add_tree_ref(struct btrfs_trans_handle *trans,
			const struct btrfs_delayed_ref_head *head,
			const struct btrfs_delayed_tree_ref *ref)
{
	struct btrfs_fs_info *fs_info = trans->fs_info;
	u32 len = sizeof(struct btrfs_extent_inline_ref);
	struct btrfs_path *path = btrfs_alloc_path();
	struct extent_buffer *leaf;
	struct btrfs_extent_item *ei;
	struct btrfs_key key;
	u32 pos, size;
	u64 offset;
	u8 type;
	int ret;

	if (!path)
		return -ENOMEM;
	ref_type_offset(ref, &type, &offset);
	ret = lookup_tree_block_item(trans, head, path, (int)len);
	if (!ret)
		ret = find_inline_ref(path, type, offset, &pos);
	if (ret == 0)
		ret = -EUCLEAN;		/* tree block refs cannot repeat */
	if (ret < 0)
		goto out;
	leaf = path->nodes[0];
	size = btrfs_item_size(leaf, path->slots[0]);
	ei = extent_item_at(path);
	btrfs_set_extent_refs(leaf, ei, btrfs_extent_refs(leaf, ei) + 1);
	if (size + len <= max_extent_item_size(fs_info)) {
		u8 *base;

		ret = btrfs_extend_item(trans, path, len);
		if (ret)
			goto out;
		base = btrfs_item_ptr(leaf, path->slots[0], u8);
		memmove(base + pos + len, base + pos, size - pos);
		btrfs_set_extent_inline_ref_type(leaf, (void *)(base + pos),
						 type);
		btrfs_set_extent_inline_ref_offset(leaf, (void *)(base + pos),
						   offset);
		goto out;
	}
	ret = btrfs_mark_buffer_dirty(trans, leaf);
	btrfs_release_path(path);
	key = (struct btrfs_key){ head->bytenr, type, offset };
	if (!ret)
		ret = btrfs_insert_item(trans, fs_info->extent_root, &key,
					NULL, 0);
out:
	btrfs_free_path(path);
	return ret;
}

/* The extent is gone: account, pin, and record it in the free space tree. */
static int free_extent_accounting(struct btrfs_trans_handle *trans, u64 bytenr,
				  u64 num_bytes)
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

/* Remove a keyed (non-inline) tree block ref item. */
static int drop_keyed_ref(struct btrfs_trans_handle *trans, u64 bytenr,
			  u8 type, u64 offset)
{
	struct btrfs_root *root = trans->fs_info->extent_root;
	struct btrfs_key key = { bytenr, type, offset };
	struct btrfs_path *path = btrfs_alloc_path();
	int ret;

	if (!path)
		return -ENOMEM;
	ret = btrfs_search_slot(trans, root, &key, path, -1, 1);
	if (ret > 0)
		ret = -EUCLEAN;
	if (!ret)
		ret = btrfs_del_item(trans, root, path);
	btrfs_free_path(path);
	return ret;
}

/* Drop a reference; at zero the extent item goes and the extent is freed. */
static int drop_tree_ref(struct btrfs_trans_handle *trans,
			 const struct btrfs_delayed_ref_head *head,
			 const struct btrfs_delayed_tree_ref *ref)
{
	struct btrfs_root *root = trans->fs_info->extent_root;
	u32 len = sizeof(struct btrfs_extent_inline_ref);
	struct btrfs_path *path = btrfs_alloc_path();
	struct btrfs_extent_item *ei;
	struct extent_buffer *leaf;
	bool inline_found;
	u64 refs, offset;
	u32 pos, size;
	u8 type;
	int ret;

	if (!path)
		return -ENOMEM;
	ref_type_offset(ref, &type, &offset);
	ret = lookup_tree_block_item(trans, head, path, -1);
	if (!ret)
		ret = find_inline_ref(path, type, offset, &pos);
	if (ret < 0)
		goto out;
	inline_found = ret == 0;
	leaf = path->nodes[0];
	ei = extent_item_at(path);
	refs = btrfs_extent_refs(leaf, ei);
	if (refs == 0) {
		ret = -EUCLEAN;
		goto out;
	}
	if (refs == 1) {
		ret = btrfs_del_item(trans, root, path);
		btrfs_release_path(path);
		if (!ret && !inline_found)
			ret = drop_keyed_ref(trans, head->bytenr, type, offset);
		if (!ret)
			ret = free_extent_accounting(trans, head->bytenr,
						     head->num_bytes);
		goto out;
	}
	btrfs_set_extent_refs(leaf, ei, refs - 1);
	ret = btrfs_mark_buffer_dirty(trans, leaf);
	if (!ret && inline_found) {
		u8 *base = btrfs_item_ptr(leaf, path->slots[0], u8);

		size = btrfs_item_size(leaf, path->slots[0]);
		memmove(base + pos, base + pos + len, size - pos - len);
		ret = btrfs_truncate_item(trans, path, size - len, true);
	} else if (!ret) {
		btrfs_release_path(path);
		ret = drop_keyed_ref(trans, head->bytenr, type, offset);
	}
out:
	btrfs_free_path(path);
	return ret;
}

int btrfs_run_delayed_ref_head(struct btrfs_trans_handle *trans,
			       struct btrfs_delayed_ref_head *head)
{
	int ret = 0;

	if (head->insert_reserved) {
		ret = insert_tree_block_item(trans, head);
		if (!ret)
			ret = alloc_extent_accounting(trans, head->bytenr,
						      head->num_bytes);
		return ret;
	}
	for (int i = 0; !ret && i < head->nr_refs; i++) {
		const struct btrfs_delayed_tree_ref *ref = &head->refs[i];

		for (int n = 0; !ret && n < abs(ref->ref_mod); n++)
			ret = ref->ref_mod > 0 ? add_tree_ref(trans, head, ref) :
						 drop_tree_ref(trans, head, ref);
	}
	return ret;
}

/* ------------------------------------------------------------------ */
/* Commit helpers. */

static int write_block_group_item(struct btrfs_trans_handle *trans,
				  struct btrfs_block_group *bg)
{
	struct btrfs_root *root = block_group_root(trans->fs_info);
	struct btrfs_key key = { bg->start, BTRFS_BLOCK_GROUP_ITEM_KEY,
				 bg->length };
	struct btrfs_path *path = btrfs_alloc_path();
	struct btrfs_block_group_item *item;
	int ret;

	if (!path)
		return -ENOMEM;
	ret = btrfs_search_slot(trans, root, &key, path, 0, 1);
	if (ret > 0)
		ret = -EUCLEAN;
	if (!ret) {
		item = btrfs_item_ptr(path->nodes[0], path->slots[0],
				      struct btrfs_block_group_item);
		btrfs_set_block_group_used(path->nodes[0], item, bg->used);
		ret = btrfs_mark_buffer_dirty(trans, path->nodes[0]);
	}
	btrfs_free_path(path);
	return ret;
}

int btrfs_write_dirty_block_groups(struct btrfs_trans_handle *trans,
				   bool *did_work)
{
	struct btrfs_fs_info *fs_info = trans->fs_info;

	for (size_t i = 0; i < fs_info->nr_block_groups; i++) {
		struct btrfs_block_group *bg = fs_info->block_groups[i];
		int ret;

		if (!bg->dirty)
			continue;
		bg->dirty = false;
		*did_work = true;
		ret = write_block_group_item(trans, bg);
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
