// SPDX-License-Identifier: GPL-2.0
/*
 * Chunk allocation: planning a new chunk (which devices, how big, where)
 * and creating it in a transaction.  The kernel's btrfs_create_chunk() and
 * its helpers (gather_device_info, decide_stripe_size, create_chunk,
 * btrfs_chunk_alloc_add_chunk_item, btrfs_make_block_group).
 */
#include <stdlib.h>

#include "common/array.h"
#include "kernel-shared/chunk-alloc.h"
#include "kernel-shared/extent-tree.h"
#include "kernel-shared/free-space-tree.h"
#include "kernel-shared/transaction.h"
#include "kernel-shared/volumes.h"

#define SZ_1M (1ULL << 20)
#define SZ_16M (16ULL << 20)
#define SZ_32M (32ULL << 20)
#define SZ_256M (256ULL << 20)
#define SZ_1G (1ULL << 30)

/* The first megabyte of every device is never allocated. */
#define DEVICE_RANGE_RESERVED SZ_1M

/* Largest data chunk, and the size above which metadata chunks grow. */
#define MAX_DATA_CHUNK_SIZE (10ULL * SZ_1G)
#define BIG_FS_FOR_METADATA (50ULL * SZ_1G)

/*
 * Most stripes a system chunk can have so that two of them still fit the
 * superblock's sys_chunk_array (each with its disk key).
 */
#define MAX_DEVS_SYS_CHUNK                                                   \
	((BTRFS_SYSTEM_CHUNK_ARRAY_SIZE -                                     \
	  2 * sizeof(struct btrfs_disk_key) -                                 \
	  2 * sizeof(struct btrfs_chunk)) / sizeof(struct btrfs_stripe) + 1)

/* Per-profile rules, the kernel's btrfs_raid_array. */
struct raid_attr {
	u64 profile;		/* BTRFS_BLOCK_GROUP_* bit, 0 for single */
	int sub_stripes;
	int dev_stripes;	/* stripes on each device */
	int devs_max;		/* 0: as many as there are */
	int devs_min;
	int devs_increment;	/* devices used is a multiple of this */
	int ncopies;
	int nparity;
};

static const struct raid_attr raid_attrs[] = {
	{ BTRFS_BLOCK_GROUP_RAID10,  2, 1, 0, 2, 2, 2, 0 },
	{ BTRFS_BLOCK_GROUP_RAID1,   1, 1, 2, 2, 2, 2, 0 },
	{ BTRFS_BLOCK_GROUP_RAID1C3, 1, 1, 3, 3, 3, 3, 0 },
	{ BTRFS_BLOCK_GROUP_RAID1C4, 1, 1, 4, 4, 4, 4, 0 },
	{ BTRFS_BLOCK_GROUP_DUP,     1, 2, 1, 1, 1, 2, 0 },
	{ BTRFS_BLOCK_GROUP_RAID0,   1, 1, 0, 1, 1, 1, 0 },
	{ 0,                         1, 1, 1, 1, 1, 1, 0 },
	{ BTRFS_BLOCK_GROUP_RAID5,   1, 1, 0, 2, 1, 1, 1 },
	{ BTRFS_BLOCK_GROUP_RAID6,   1, 1, 0, 3, 1, 1, 2 },
};

static const struct raid_attr *find_raid_attr(u64 type)
{
	u64 profile = type & BTRFS_BLOCK_GROUP_PROFILE_MASK;

	for (size_t i = 0; i < ARRAY_SIZE(raid_attrs); i++)
		if (raid_attrs[i].profile == profile)
			return &raid_attrs[i];
	return NULL;	/* more than one profile bit */
}

static bool plan_type_valid(u64 type)
{
	const u64 known = BTRFS_BLOCK_GROUP_TYPE_MASK |
			  BTRFS_BLOCK_GROUP_PROFILE_MASK;

	if (type & ~known || !(type & BTRFS_BLOCK_GROUP_TYPE_MASK))
		return false;
	/* System chunks hold only the chunk tree. */
	if ((type & BTRFS_BLOCK_GROUP_SYSTEM) &&
	    (type & (BTRFS_BLOCK_GROUP_DATA | BTRFS_BLOCK_GROUP_METADATA)))
		return false;
	return find_raid_attr(type) != NULL;
}

/* The kernel's allocation control for one chunk (struct alloc_chunk_ctl). */
struct plan_ctl {
	const struct raid_attr *attr;
	u64 max_stripe_size;
	u64 max_chunk_size;
	u64 dev_extent_min;
	int devs_max;
};

/*
 * Size limits by type (the kernel's calc_chunk_size and
 * init_alloc_chunk_ctl_policy_regular): data and mixed 1GiB stripes in
 * chunks up to 10GiB, metadata 256MiB (1GiB on filesystems over 50GiB),
 * system 32MiB; no chunk over 10% of the filesystem.
 */
static void init_plan_ctl(struct plan_ctl *ctl, u64 type, u64 total_bytes,
			  u64 max_stripe_size)
{
	const struct raid_attr *attr = find_raid_attr(type);
	u64 chunk;

	if (type & BTRFS_BLOCK_GROUP_DATA)
		chunk = MAX_DATA_CHUNK_SIZE;
	else if (type & BTRFS_BLOCK_GROUP_SYSTEM)
		chunk = SZ_32M;
	else if (total_bytes > BIG_FS_FOR_METADATA)
		chunk = SZ_1G;
	else
		chunk = SZ_256M;

	ctl->attr = attr;
	ctl->max_stripe_size = min_t(u64, chunk, SZ_1G);
	if (max_stripe_size)
		ctl->max_stripe_size = min_t(u64, ctl->max_stripe_size,
					     max_stripe_size);
	ctl->max_chunk_size = min_t(u64, total_bytes / 10, chunk);
	ctl->dev_extent_min = BTRFS_STRIPE_LEN * (u64)attr->dev_stripes;
	ctl->devs_max = attr->devs_max ? attr->devs_max :
		BTRFS_CHUNK_PLAN_MAX_STRIPES / attr->dev_stripes;
	if (type & BTRFS_BLOCK_GROUP_SYSTEM)
		ctl->devs_max = min_t(int, ctl->devs_max, MAX_DEVS_SYS_CHUNK);
}

/* One candidate device (the kernel's struct btrfs_device_info). */
struct plan_dev {
	const struct btrfs_dev_free *dev;
	u64 dev_offset;		/* where its stripes would start */
	u64 max_avail;		/* bytes usable there, at most wanted */
	u64 total_avail;	/* all its free bytes */
	int order;		/* position in the caller's array */
};

/*
 * The kernel's find_free_dev_extent(): the first hole (past the reserved
 * first megabyte) of at least @want bytes; failing that, the first of the
 * largest holes.  Returns false when the ranges are not sorted and
 * disjoint.
 */
static bool find_dev_hole(const struct btrfs_dev_free *dev, u64 want,
			  struct plan_dev *pd)
{
	u64 prev_end = 0, best_start = 0, best_len = 0, total = 0;

	pd->dev_offset = 0;
	pd->max_avail = 0;
	for (int i = 0; i < dev->nr_ranges; i++) {
		u64 start = dev->ranges[i].start;
		u64 len = dev->ranges[i].len;

		if (start + len < start || start < prev_end)
			return false;
		prev_end = start + len;
		if (start + len <= DEVICE_RANGE_RESERVED)
			continue;
		if (start < DEVICE_RANGE_RESERVED) {
			len -= DEVICE_RANGE_RESERVED - start;
			start = DEVICE_RANGE_RESERVED;
		}
		total += len;
		if (len >= want && !pd->max_avail) {
			pd->dev_offset = start;
			pd->max_avail = want;
		}
		if (len > best_len) {
			best_start = start;
			best_len = len;
		}
	}
	if (!pd->max_avail) {
		pd->dev_offset = best_start;
		pd->max_avail = best_len;
	}
	pd->total_avail = total;
	return true;
}

/* Most usable room first, then most free bytes, then the caller's order. */
static int cmp_plan_dev(const void *a, const void *b)
{
	const struct plan_dev *x = a, *y = b;

	if (x->max_avail != y->max_avail)
		return x->max_avail > y->max_avail ? -1 : 1;
	if (x->total_avail != y->total_avail)
		return x->total_avail > y->total_avail ? -1 : 1;
	return x->order - y->order;
}

/* The kernel's gather_device_info(): candidates sorted, count returned. */
static int gather_devs(const struct plan_ctl *ctl,
		       const struct btrfs_dev_free *devs, int nr_devs,
		       struct plan_dev *out)
{
	u64 want = ctl->max_stripe_size * (u64)ctl->attr->dev_stripes;
	int n = 0;

	for (int i = 0; i < nr_devs; i++) {
		struct plan_dev *pd = &out[n];

		if (!find_dev_hole(&devs[i], want, pd))
			return -EINVAL;
		if (pd->total_avail < ctl->dev_extent_min ||
		    pd->max_avail < ctl->dev_extent_min)
			continue;
		pd->dev = &devs[i];
		pd->order = i;
		n++;
	}
	qsort(out, (size_t)n, sizeof(*out), cmp_plan_dev);
	return n;
}

/* The kernel's decide_stripe_size() for the regular (non-zoned) policy. */
static int decide_stripe_size(const struct plan_ctl *ctl,
			      const struct plan_dev *pd, int ndevs,
			      struct btrfs_chunk_plan *plan)
{
	const struct raid_attr *attr = ctl->attr;
	u64 stripe_size;
	int data_stripes;

	ndevs -= ndevs % attr->devs_increment;
	if (ndevs < attr->devs_min)
		return -ENOSPC;
	ndevs = min_t(int, ndevs, ctl->devs_max);

	/* As many devices as possible, sized by the smallest of them. */
	stripe_size = pd[ndevs - 1].max_avail / (u64)attr->dev_stripes;
	plan->num_stripes = ndevs * attr->dev_stripes;
	data_stripes = (plan->num_stripes - attr->nparity) / attr->ncopies;

	if (stripe_size * (u64)data_stripes > ctl->max_chunk_size) {
		u64 cut = round_up(ctl->max_chunk_size / (u64)data_stripes,
				   SZ_16M);

		stripe_size = min_t(u64, cut, stripe_size);
	}
	stripe_size = min_t(u64, stripe_size, SZ_1G);
	stripe_size = round_down(stripe_size, (u64)BTRFS_STRIPE_LEN);
	if (!stripe_size)
		return -ENOSPC;

	plan->stripe_size = stripe_size;
	plan->length = stripe_size * (u64)data_stripes;
	plan->sub_stripes = attr->sub_stripes;
	return 0;
}

int btrfs_plan_chunk(u64 type, const struct btrfs_dev_free *devs, int nr_devs,
		     u64 total_bytes, u64 max_stripe_size,
		     struct btrfs_chunk_plan *plan)
{
	struct plan_ctl ctl;
	struct plan_dev *pd;
	int ndevs, ret;

	if (!plan_type_valid(type) || !total_bytes || nr_devs < 0 ||
	    (nr_devs && !devs))
		return -EINVAL;
	if (max_stripe_size && max_stripe_size < BTRFS_STRIPE_LEN)
		return -EINVAL;
	if (nr_devs == 0)
		return -ENOSPC;
	init_plan_ctl(&ctl, type, total_bytes, max_stripe_size);

	pd = calloc((size_t)nr_devs, sizeof(*pd));
	if (!pd)
		return -ENOMEM;
	ndevs = gather_devs(&ctl, devs, nr_devs, pd);
	if (ndevs < 0) {
		ret = ndevs;
		goto out;
	}
	memset(plan, 0, sizeof(*plan));
	plan->type = type;
	ret = decide_stripe_size(&ctl, pd, ndevs, plan);
	if (ret)
		goto out;

	/* DUP: the device's stripes follow each other in its hole. */
	for (int i = 0; i < plan->num_stripes; i++) {
		const struct plan_dev *d = &pd[i / ctl.attr->dev_stripes];
		struct btrfs_chunk_plan_stripe *s = &plan->stripes[i];

		s->devid = d->dev->devid;
		s->physical = d->dev_offset +
			(u64)(i % ctl.attr->dev_stripes) * plan->stripe_size;
		memcpy(s->dev_uuid, d->dev->uuid, BTRFS_UUID_SIZE);
	}
out:
	free(pd);
	return ret;
}

/* ------------------------------------------------------------------ */
/* Creating a chunk: phase 1, in memory. */

u64 btrfs_map_stripe_size(const struct map_lookup *map)
{
	const struct raid_attr *attr = find_raid_attr(map->type);
	int data;

	if (!attr || map->num_stripes < 1)
		return map->length;
	data = (map->num_stripes - attr->nparity) / attr->ncopies;
	if (data < 1)
		return map->length;
	return map->length / (u64)data;
}

/* Used ranges of one device, gathered then sorted. */
struct used_list {
	struct btrfs_dev_free_range *r;
	int nr;
	size_t cap;
};

static int used_add(struct used_list *l, u64 start, u64 len)
{
	if (l->nr >= (1 << 24))
		return -E2BIG;
	if (array_reserve(l->r, l->cap, (size_t)l->nr + 1, 64))
		return -ENOMEM;
	l->r[l->nr++] = (struct btrfs_dev_free_range){ start, len };
	return 0;
}

/* Dev extents of @devid in the dev tree. */
static int used_from_dev_tree(struct btrfs_fs_info *fs_info, u64 devid,
			      struct used_list *l)
{
	struct btrfs_key key = { devid, BTRFS_DEV_EXTENT_KEY, 0 };
	struct btrfs_path *path;
	int ret;

	if (!fs_info->dev_root)
		return -EUCLEAN;
	path = btrfs_alloc_path();
	if (!path)
		return -ENOMEM;
	ret = btrfs_search_slot_for_read(fs_info->dev_root, &key, path);
	while (ret == 0) {
		struct extent_buffer *leaf = path->nodes[0];
		struct btrfs_dev_extent *de;

		btrfs_item_key_to_cpu(leaf, &key, path->slots[0]);
		if (key.objectid != devid || key.type != BTRFS_DEV_EXTENT_KEY)
			break;
		if (btrfs_item_size(leaf, path->slots[0]) < sizeof(*de)) {
			ret = -EUCLEAN;
			break;
		}
		de = btrfs_item_ptr(leaf, path->slots[0],
				    struct btrfs_dev_extent);
		if (key.offset + btrfs_dev_extent_length(leaf, de) <
		    key.offset) {
			ret = -EUCLEAN;
			break;
		}
		ret = used_add(l, key.offset,
			       btrfs_dev_extent_length(leaf, de));
		if (ret)
			break;
		ret = btrfs_next_item(fs_info->dev_root, path);
	}
	btrfs_free_path(path);
	return ret < 0 ? ret : 0;
}

struct stripes_ctx {
	u64 devid;
	struct used_list *l;
};

static int used_of_map(const struct map_lookup *map, void *ctx)
{
	struct stripes_ctx *c = ctx;
	u64 size = btrfs_map_stripe_size(map);

	for (int i = 0; i < map->num_stripes; i++) {
		int ret;

		if (map->stripes[i].devid != c->devid)
			continue;
		if (map->stripes[i].physical + size < size)
			return -EUCLEAN;
		ret = used_add(c->l, map->stripes[i].physical, size);
		if (ret)
			return ret;
	}
	return 0;
}

static int cmp_range(const void *a, const void *b)
{
	const struct btrfs_dev_free_range *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return 0;
}

/*
 * The free ranges of @dev: [1MiB, total_bytes) minus its dev extents and
 * the stripes of every mapped chunk (chunks made in this transaction may
 * have no dev extent yet).  @out gets a malloc'ed array.
 */
static int dev_free_ranges(struct btrfs_fs_info *fs_info,
			   const struct btrfs_device *dev,
			   struct btrfs_dev_free *out)
{
	struct used_list used = { 0 }, free_l = { 0 };
	struct stripes_ctx ctx = { dev->devid, &used };
	u64 pos = DEVICE_RANGE_RESERVED;
	int ret;

	ret = used_from_dev_tree(fs_info, dev->devid, &used);
	if (!ret)
		ret = btrfs_for_each_chunk_map(fs_info, used_of_map, &ctx);
	if (!ret)
		qsort(used.r, (size_t)used.nr, sizeof(*used.r), cmp_range);
	for (int i = 0; !ret && i <= used.nr; i++) {
		u64 end = i < used.nr ? used.r[i].start : dev->total_bytes;

		end = min_t(u64, end, dev->total_bytes);
		if (end > pos)
			ret = used_add(&free_l, pos, end - pos);
		if (i < used.nr && used.r[i].start + used.r[i].len > pos)
			pos = used.r[i].start + used.r[i].len;
	}
	free(used.r);
	if (ret) {
		free(free_l.r);
		return ret;
	}
	out->devid = dev->devid;
	memcpy(out->uuid, dev->uuid, BTRFS_UUID_SIZE);
	out->ranges = free_l.r;
	out->nr_ranges = free_l.nr;
	return 0;
}

static bool dev_writable(const struct btrfs_device *dev)
{
	return !dev->missing && dev->io && dev->io->writable;
}

static void free_dev_free(struct btrfs_dev_free *devs, int nr)
{
	for (int i = 0; i < nr; i++)
		free((void *)devs[i].ranges);
	free(devs);
}

/* Plan a chunk of @type on the writable devices. */
static int plan_on_devices(struct btrfs_fs_info *fs_info, u64 type,
			   struct btrfs_chunk_plan *plan)
{
	struct btrfs_dev_free *devs;
	struct btrfs_device *dev;
	u64 total = 0;
	int nr = 0, n = 0, ret = 0;

	for (dev = fs_info->fs_devices->devices; dev; dev = dev->next)
		nr += dev_writable(dev);
	devs = calloc((size_t)(nr ? nr : 1), sizeof(*devs));
	if (!devs)
		return -ENOMEM;
	for (dev = fs_info->fs_devices->devices; dev && !ret; dev = dev->next) {
		if (!dev_writable(dev) || n == nr)
			continue;
		total += dev->total_bytes;
		ret = dev_free_ranges(fs_info, dev, &devs[n]);
		n += !ret;
	}
	if (!ret)
		ret = total ? btrfs_plan_chunk(type, devs, n, total, 0, plan) :
			      -ENOSPC;
	free_dev_free(devs, n);
	return ret;
}

static int last_chunk_end(const struct map_lookup *map, void *ctx)
{
	u64 *end = ctx;

	*end = max_t(u64, *end, map->start + map->length);
	return 0;
}

/* The on-disk chunk item of @plan (the kernel's field values). */
static struct btrfs_chunk *chunk_item_of(struct btrfs_fs_info *fs_info,
					 const struct btrfs_chunk_plan *plan)
{
	struct btrfs_chunk *chunk = calloc(1,
				btrfs_chunk_item_size(plan->num_stripes));
	struct btrfs_stripe *stripe;

	if (!chunk)
		return NULL;
	btrfs_set_stack_chunk_length(chunk, plan->length);
	btrfs_set_stack_chunk_owner(chunk, BTRFS_EXTENT_TREE_OBJECTID);
	btrfs_set_stack_chunk_stripe_len(chunk, BTRFS_STRIPE_LEN);
	btrfs_set_stack_chunk_type(chunk, plan->type);
	btrfs_set_stack_chunk_io_align(chunk, BTRFS_STRIPE_LEN);
	btrfs_set_stack_chunk_io_width(chunk, BTRFS_STRIPE_LEN);
	btrfs_set_stack_chunk_sector_size(chunk, fs_info->sectorsize);
	btrfs_set_stack_chunk_num_stripes(chunk, (u16)plan->num_stripes);
	btrfs_set_stack_chunk_sub_stripes(chunk, (u16)plan->sub_stripes);
	stripe = &chunk->stripe;
	for (int i = 0; i < plan->num_stripes; i++, stripe++) {
		btrfs_set_stack_stripe_devid(stripe, plan->stripes[i].devid);
		btrfs_set_stack_stripe_offset(stripe,
					      plan->stripes[i].physical);
		memcpy(stripe->dev_uuid, plan->stripes[i].dev_uuid,
		       BTRFS_UUID_SIZE);
	}
	return chunk;
}

/* Room in the superblock's sys_chunk_array for a chunk of @item_size? */
static bool sys_array_has_room(const struct btrfs_super_block *sb,
			       size_t item_size)
{
	u32 cur = btrfs_super_sys_array_size(sb);

	return cur <= BTRFS_SYSTEM_CHUNK_ARRAY_SIZE &&
	       sizeof(struct btrfs_disk_key) + item_size <=
	       BTRFS_SYSTEM_CHUNK_ARRAY_SIZE - cur;
}

static void sys_array_append(struct btrfs_super_block *sb, u64 logical,
			     const struct btrfs_chunk *chunk, size_t item_size)
{
	u32 cur = btrfs_super_sys_array_size(sb);
	struct btrfs_disk_key key;

	btrfs_set_stack_disk_key_objectid(&key,
					  BTRFS_FIRST_CHUNK_TREE_OBJECTID);
	btrfs_set_stack_disk_key_type(&key, BTRFS_CHUNK_ITEM_KEY);
	btrfs_set_stack_disk_key_offset(&key, logical);
	memcpy(sb->sys_chunk_array + cur, &key, sizeof(key));
	memcpy(sb->sys_chunk_array + cur + sizeof(key), chunk, item_size);
	btrfs_set_super_sys_array_size(sb, cur + (u32)(sizeof(key) +
						       item_size));
}

int btrfs_create_chunk(struct btrfs_trans_handle *trans, u64 type,
		       struct btrfs_block_group **bg_ret)
{
	struct btrfs_fs_info *fs_info = trans->fs_info;
	struct btrfs_chunk_plan *plan = calloc(1, sizeof(*plan));
	struct btrfs_chunk *chunk = NULL;
	struct btrfs_block_group *bg;
	size_t item_size = 0;
	u64 logical = 0;
	int ret;

	if (!plan)
		return -ENOMEM;
	ret = plan_on_devices(fs_info, type, plan);
	if (ret)
		goto out;
	item_size = btrfs_chunk_item_size(plan->num_stripes);
	ret = -EFBIG;
	if (item_size > btrfs_max_item_size(fs_info->nodesize))
		goto out;
	ret = -ENOSPC;
	if ((type & BTRFS_BLOCK_GROUP_SYSTEM) &&
	    !sys_array_has_room(&fs_info->super_copy, item_size))
		goto out;
	ret = -ENOMEM;
	chunk = chunk_item_of(fs_info, plan);
	if (!chunk)
		goto out;
	btrfs_for_each_chunk_map(fs_info, last_chunk_end, &logical);
	ret = btrfs_add_chunk_map(fs_info, logical, chunk, (u32)item_size);
	if (ret)
		goto out;
	if (type & BTRFS_BLOCK_GROUP_SYSTEM)
		sys_array_append(&fs_info->super_copy, logical, chunk,
				 item_size);
	for (int i = 0; i < plan->num_stripes; i++) {
		struct btrfs_device *dev = btrfs_find_device(
			fs_info->fs_devices, plan->stripes[i].devid, NULL);

		if (dev)
			dev->bytes_used += plan->stripe_size;
	}
	ret = btrfs_make_block_group(trans, type, logical, plan->length, &bg);
	if (!ret && bg_ret)
		*bg_ret = bg;
out:
	free(chunk);
	free(plan);
	return ret;
}

/* ------------------------------------------------------------------ */
/* Creating a chunk: phase 2, the items. */

static int insert_dev_extent(struct btrfs_trans_handle *trans, u64 devid,
			     u64 physical, u64 chunk_offset, u64 len)
{
	struct btrfs_fs_info *fs_info = trans->fs_info;
	struct btrfs_key key = { devid, BTRFS_DEV_EXTENT_KEY, physical };
	struct btrfs_dev_extent de;

	memset(&de, 0, sizeof(de));
	btrfs_set_stack_dev_extent_chunk_tree(&de, BTRFS_CHUNK_TREE_OBJECTID);
	btrfs_set_stack_dev_extent_chunk_objectid(&de,
					BTRFS_FIRST_CHUNK_TREE_OBJECTID);
	btrfs_set_stack_dev_extent_chunk_offset(&de, chunk_offset);
	btrfs_set_stack_dev_extent_length(&de, len);
	memcpy(de.chunk_tree_uuid, fs_info->chunk_tree_uuid, BTRFS_UUID_SIZE);
	return btrfs_insert_item(trans, fs_info->dev_root, &key, &de,
				 sizeof(de));
}

/* Write @dev's bytes_used into its dev item in the chunk tree. */
static int update_dev_item(struct btrfs_trans_handle *trans,
			   const struct btrfs_device *dev)
{
	struct btrfs_root *root = trans->fs_info->chunk_root;
	struct btrfs_key key = { BTRFS_DEV_ITEMS_OBJECTID, BTRFS_DEV_ITEM_KEY,
				 dev->devid };
	struct btrfs_path *path = btrfs_alloc_path();
	struct btrfs_dev_item *item;
	int ret;

	if (!path)
		return -ENOMEM;
	ret = btrfs_search_existing_item(trans, root, &key, path, 0,
					 sizeof(*item));
	if (!ret) {
		item = btrfs_item_ptr(path->nodes[0], path->slots[0],
				      struct btrfs_dev_item);
		btrfs_set_device_bytes_used(path->nodes[0], item,
					    dev->bytes_used);
		ret = btrfs_mark_buffer_dirty(trans, path->nodes[0]);
	}
	btrfs_free_path(path);
	return ret;
}

int btrfs_write_dirty_dev_items(struct btrfs_trans_handle *trans,
				bool *did_work)
{
	struct btrfs_device *dev;

	for (dev = trans->fs_info->fs_devices->devices; dev; dev = dev->next) {
		int ret;

		if (!dev->dirty)
			continue;
		dev->dirty = false;
		*did_work = true;
		ret = update_dev_item(trans, dev);
		if (ret)
			return ret;
	}
	return 0;
}

/* The chunk item of @map, rebuilt from the map. */
static int insert_chunk_item(struct btrfs_trans_handle *trans,
			     const struct map_lookup *map)
{
	struct btrfs_chunk_plan *plan = calloc(1, sizeof(*plan));
	struct btrfs_key key = { BTRFS_FIRST_CHUNK_TREE_OBJECTID,
				 BTRFS_CHUNK_ITEM_KEY, map->start };
	struct btrfs_chunk *chunk;
	int ret;

	if (!plan)
		return -ENOMEM;
	plan->type = map->type;
	plan->length = map->length;
	plan->num_stripes = map->num_stripes;
	plan->sub_stripes = map->sub_stripes;
	for (int i = 0; i < map->num_stripes; i++) {
		plan->stripes[i].devid = map->stripes[i].devid;
		plan->stripes[i].physical = map->stripes[i].physical;
		memcpy(plan->stripes[i].dev_uuid, map->stripes[i].dev_uuid,
		       BTRFS_UUID_SIZE);
	}
	chunk = chunk_item_of(trans->fs_info, plan);
	ret = chunk ? btrfs_insert_item(trans, trans->fs_info->chunk_root,
					&key, chunk,
					(u32)btrfs_chunk_item_size(
						map->num_stripes)) : -ENOMEM;
	free(chunk);
	free(plan);
	return ret;
}

int btrfs_chunk_alloc_add_items(struct btrfs_trans_handle *trans,
				struct btrfs_block_group *bg)
{
	struct btrfs_fs_info *fs_info = trans->fs_info;
	const struct map_lookup *map = btrfs_find_chunk_map(fs_info, bg->start);
	u64 stripe_size;
	int ret = 0;

	if (!map || map->start != bg->start || map->length != bg->length ||
	    map->num_stripes > BTRFS_CHUNK_PLAN_MAX_STRIPES)
		return -EUCLEAN;
	stripe_size = btrfs_map_stripe_size(map);
	for (int i = 0; !ret && i < map->num_stripes; i++)
		ret = insert_dev_extent(trans, map->stripes[i].devid,
					map->stripes[i].physical, bg->start,
					stripe_size);
	for (int i = 0; !ret && i < map->num_stripes; i++) {
		const struct btrfs_device *dev;
		bool seen = false;

		for (int k = 0; k < i; k++)
			seen |= map->stripes[k].devid == map->stripes[i].devid;
		dev = btrfs_find_device(fs_info->fs_devices,
					map->stripes[i].devid, NULL);
		if (!dev)
			ret = -ENODEV;
		else if (!seen)
			ret = update_dev_item(trans, dev);
	}
	if (!ret)
		ret = insert_chunk_item(trans, map);
	if (!ret && bg->needs_free_space)
		ret = btrfs_add_block_group_free_space(trans, bg);
	return ret;
}

int btrfs_alloc_chunk(struct btrfs_trans_handle *trans, u64 type, u64 *start)
{
	struct btrfs_block_group *bg;
	int ret;

	ret = btrfs_create_chunk(trans, type, &bg);
	if (ret)
		return ret;
	ret = btrfs_chunk_alloc_add_items(trans, bg);
	if (!ret)
		ret = btrfs_insert_block_group_item(trans, bg);
	if (!ret && start)
		*start = bg->start;
	return ret;
}
