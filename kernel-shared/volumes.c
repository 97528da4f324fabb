// SPDX-License-Identifier: GPL-2.0
/*
 * Devices and the chunk map.
 *
 * The chunk map is a sorted array of map_lookup pointers, searched by
 * binary search.  It is filled once while the filesystem is opened (the
 * system chunk array, then the chunk tree, both in logical order so that
 * insertion is nearly always an append) and only read afterwards, so the
 * read path can map blocks from several threads without locking.  The
 * one exception is chunk allocation (chunk-alloc.c), which appends the
 * chunks it makes; it runs only on a filesystem opened for writing, which
 * has a single writer and no reader threads.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "common/device-scan.h"
#include "common/array.h"
#include "kernel-shared/disk-io.h"
#include "kernel-shared/volumes.h"

struct btrfs_mapping_tree {
	struct map_lookup **maps;	/* sorted by start, never overlapping */
	size_t nr;
	size_t cap;
};

/* ------------------------------------------------------------------ */
/* Device list. */

/* Any device entry, present or missing, by devid (and uuid if given). */
static struct btrfs_device *find_any_device(struct btrfs_fs_devices *fs_devices,
					    u64 devid, const u8 *uuid)
{
	struct btrfs_device *dev;

	if (!fs_devices)
		return NULL;
	for (dev = fs_devices->devices; dev; dev = dev->next) {
		if (dev->devid != devid)
			continue;
		if (!uuid || memcmp(dev->uuid, uuid, BTRFS_UUID_SIZE) == 0)
			return dev;
	}
	return NULL;
}

struct btrfs_device *btrfs_find_device(struct btrfs_fs_devices *fs_devices,
				       u64 devid, const u8 *uuid)
{
	struct btrfs_device *dev = find_any_device(fs_devices, devid, uuid);

	return dev && !dev->missing ? dev : NULL;
}

/* Link @dev into the list, keeping it sorted by devid. */
static void insert_device(struct btrfs_fs_devices *fs_devices,
			  struct btrfs_device *dev)
{
	struct btrfs_device **pos = &fs_devices->devices;

	while (*pos && (*pos)->devid <= dev->devid)
		pos = &(*pos)->next;
	dev->next = *pos;
	*pos = dev;
}

static struct btrfs_device *alloc_device(u64 devid, const u8 *uuid)
{
	struct btrfs_device *dev = calloc(1, sizeof(*dev));

	if (!dev)
		return NULL;
	dev->devid = devid;
	if (uuid)
		memcpy(dev->uuid, uuid, BTRFS_UUID_SIZE);
	return dev;
}

/*
 * The device entry for (@devid, @uuid); a "missing" placeholder is added
 * when no such device was opened.  NULL only on allocation failure.
 */
static struct btrfs_device *get_device(struct btrfs_fs_devices *fs_devices,
				       u64 devid, const u8 *uuid)
{
	struct btrfs_device *dev = find_any_device(fs_devices, devid, uuid);

	if (dev)
		return dev;
	dev = alloc_device(devid, uuid);
	if (!dev)
		return NULL;
	dev->missing = true;
	insert_device(fs_devices, dev);
	return dev;
}

static void free_device(struct btrfs_device *dev)
{
	if (dev->io && !dev->io_borrowed)
		btrfs_io_close(dev->io);
	free(dev->name);
	free(dev);
}

void btrfs_close_devices(struct btrfs_fs_devices *fs_devices)
{
	struct btrfs_device *dev, *next;

	if (!fs_devices)
		return;
	for (dev = fs_devices->devices; dev; dev = next) {
		next = dev->next;
		free_device(dev);
	}
	free(fs_devices);
}

/*
 * Read a superblock that identifies the device: the best valid copy, or
 * failing that a primary copy with either magic (an unfinished mkfs).
 */
static int read_identity_super(struct btrfs_io *io,
			       struct btrfs_super_block *sb)
{
	u64 bytenr;
	u64 magic;

	if (btrfs_read_dev_super(io, -1, sb, &bytenr, NULL) == 0)
		return 0;
	if (btrfs_read_super_raw(io, BTRFS_SUPER_INFO_OFFSET, sb))
		return -EINVAL;
	magic = btrfs_super_magic(sb);
	if (magic != BTRFS_MAGIC && magic != BTRFS_MAGIC_TEMPORARY)
		return -EINVAL;
	return 0;
}

/* The first device opened sets the filesystem identity. */
static void set_fs_identity(struct btrfs_fs_devices *fs_devices,
			    const struct btrfs_super_block *sb)
{
	memcpy(fs_devices->fsid, sb->fsid, BTRFS_FSID_SIZE);
	if (btrfs_super_incompat_flags(sb) & BTRFS_FEATURE_INCOMPAT_METADATA_UUID)
		memcpy(fs_devices->metadata_uuid, sb->metadata_uuid,
		       BTRFS_FSID_SIZE);
	else
		memcpy(fs_devices->metadata_uuid, sb->fsid, BTRFS_FSID_SIZE);
	fs_devices->num_devices = btrfs_super_num_devices(sb);
}

/*
 * Record an opened device (takes over @io unless @borrowed); a known one
 * is skipped.
 */
static int add_open_device(struct btrfs_fs_devices *fs_devices,
			   struct btrfs_io *io, bool borrowed,
			   const struct btrfs_super_block *sb)
{
	u64 devid = btrfs_stack_device_id(&sb->dev_item);
	struct btrfs_device *dev;

	dev = find_any_device(fs_devices, devid, sb->dev_item.uuid);
	if (dev && !dev->missing) {
		if (!borrowed)
			btrfs_io_close(io);
		return 0;
	}
	if (!dev) {
		dev = alloc_device(devid, sb->dev_item.uuid);
		if (!dev)
			goto nomem;
		insert_device(fs_devices, dev);
	}
	dev->name = strdup(io->path);
	if (!dev->name)
		goto nomem;
	dev->io = io;
	dev->io_borrowed = borrowed;
	dev->missing = false;
	dev->device_size = io->size;
	dev->generation = btrfs_super_generation(sb);
	memcpy(dev->fsid, sb->fsid, BTRFS_FSID_SIZE);
	return 0;
nomem:
	if (!borrowed)
		btrfs_io_close(io);
	return -ENOMEM;
}

/* Add @io if it belongs to the filesystem; -EINVAL if not ours. */
static int add_device_io(struct btrfs_fs_devices *fs_devices,
			 struct btrfs_io *io, bool borrowed)
{
	struct btrfs_super_block sb;
	int ret;

	ret = io->size ? read_identity_super(io, &sb) : -EINVAL;
	if (!ret && fs_devices->devices &&
	    memcmp(fs_devices->fsid, sb.fsid, BTRFS_FSID_SIZE))
		ret = -EINVAL;
	if (ret) {
		if (!borrowed)
			btrfs_io_close(io);
		return ret;
	}
	if (!fs_devices->devices)
		set_fs_identity(fs_devices, &sb);
	return add_open_device(fs_devices, io, borrowed, &sb);
}

/* Open @path (read-only unless writable) and add it; -EINVAL if not ours. */
static int open_one_device(struct btrfs_fs_devices *fs_devices,
			   const char *path)
{
	struct btrfs_io *io;
	int ret;

	ret = btrfs_io_open(path, fs_devices->writable ? BTRFS_IO_WRITE : 0,
			    &io);
	if (ret)
		return ret == -ENODEV ? -EINVAL : ret;
	return add_device_io(fs_devices, io, false);
}

static struct btrfs_fs_devices *get_fs_devices(struct btrfs_fs_info *fs_info)
{
	if (!fs_info->fs_devices)
		fs_info->fs_devices = calloc(1, sizeof(*fs_info->fs_devices));
	return fs_info->fs_devices;
}

int btrfs_add_opened_device(struct btrfs_fs_info *fs_info,
			    struct btrfs_io *io)
{
	struct btrfs_fs_devices *fs_devices = get_fs_devices(fs_info);

	if (!fs_devices)
		return -ENOMEM;
	return add_device_io(fs_devices, io, true);
}

static u64 count_present(const struct btrfs_fs_devices *fs_devices)
{
	const struct btrfs_device *dev;
	u64 nr = 0;

	for (dev = fs_devices->devices; dev; dev = dev->next)
		nr += !dev->missing;
	return nr;
}

/* blkid callback: try a candidate, stop once every member is present. */
static int scan_one(const char *path, void *ctx)
{
	struct btrfs_fs_devices *fs_devices = ctx;

	if (open_one_device(fs_devices, path) == -ENOMEM)
		return -ENOMEM;
	return count_present(fs_devices) >= fs_devices->num_devices;
}

int btrfs_open_devices(struct btrfs_fs_info *fs_info, const char * const *paths,
		       int nr_paths, bool no_scan)
{
	struct btrfs_fs_devices *fs_devices = get_fs_devices(fs_info);
	int ret;
	int i;

	if (!fs_devices)
		return -ENOMEM;
	for (i = 0; i < nr_paths; i++) {
		ret = open_one_device(fs_devices, paths[i]);
		if (ret)
			return ret;
	}
	if (no_scan || !fs_devices->devices ||
	    count_present(fs_devices) >= fs_devices->num_devices)
		return 0;
	/* blkid failing is not fatal: the absent members count as missing. */
	ret = device_scan_for_fsid(fs_devices->fsid, scan_one, fs_devices);
	return ret == -ENOMEM ? ret : 0;
}

/* ------------------------------------------------------------------ */
/* The chunk map. */

struct btrfs_mapping_tree *btrfs_mapping_tree_alloc(void)
{
	return calloc(1, sizeof(struct btrfs_mapping_tree));
}

void btrfs_mapping_tree_free(struct btrfs_mapping_tree *tree)
{
	size_t i;

	if (!tree)
		return;
	for (i = 0; i < tree->nr; i++)
		free(tree->maps[i]);
	free(tree->maps);
	free(tree);
}

/* Index of the first chunk starting after @logical. */
static size_t map_upper_bound(const struct btrfs_mapping_tree *tree,
			      u64 logical)
{
	size_t lo = 0, hi = tree->nr;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (tree->maps[mid]->start <= logical)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

const struct map_lookup *btrfs_find_chunk_map(struct btrfs_fs_info *fs_info,
					      u64 logical)
{
	const struct btrfs_mapping_tree *tree = fs_info->mapping_tree;
	const struct map_lookup *map;
	size_t idx;

	if (!tree)
		return NULL;
	idx = map_upper_bound(tree, logical);
	if (idx == 0)
		return NULL;
	map = tree->maps[idx - 1];
	if (logical - map->start >= map->length)
		return NULL;
	return map;
}

int btrfs_for_each_chunk_map(struct btrfs_fs_info *fs_info,
			     int (*fn)(const struct map_lookup *map, void *ctx),
			     void *ctx)
{
	const struct btrfs_mapping_tree *tree = fs_info->mapping_tree;
	size_t i;
	int ret;

	if (!tree)
		return 0;
	for (i = 0; i < tree->nr; i++) {
		ret = fn(tree->maps[i], ctx);
		if (ret)
			return ret;
	}
	return 0;
}

/* Does the stripe count fit the profile? */
static bool stripes_fit_profile(u64 type, int num_stripes, int sub_stripes)
{
	switch (type & BTRFS_BLOCK_GROUP_PROFILE_MASK) {
	case 0:
		return num_stripes == 1;
	case BTRFS_BLOCK_GROUP_RAID0:
		return num_stripes >= 1;
	case BTRFS_BLOCK_GROUP_DUP:
	case BTRFS_BLOCK_GROUP_RAID1:
		return num_stripes == 2;
	case BTRFS_BLOCK_GROUP_RAID1C3:
		return num_stripes == 3;
	case BTRFS_BLOCK_GROUP_RAID1C4:
		return num_stripes == 4;
	case BTRFS_BLOCK_GROUP_RAID10:
		return sub_stripes == 2 && num_stripes >= 2 &&
		       num_stripes % 2 == 0;
	case BTRFS_BLOCK_GROUP_RAID5:
		return num_stripes >= 2;
	case BTRFS_BLOCK_GROUP_RAID6:
		return num_stripes >= 3;
	}
	return false;	/* more than one profile bit */
}

static bool chunk_type_valid(u64 type)
{
	const u64 known = BTRFS_BLOCK_GROUP_TYPE_MASK |
			  BTRFS_BLOCK_GROUP_PROFILE_MASK;

	return (type & ~known) == 0 && (type & BTRFS_BLOCK_GROUP_TYPE_MASK);
}

/*
 * Validate an on-disk chunk of @item_size bytes at @logical.  With
 * @lenient (a partial open, e.g. by check) type bits that do not change
 * how the chunk maps (unknown bits, no type bit) are let through, so that
 * the chunk is mapped and the checker sees and reports it instead of the
 * open failing (a system chunk) or the chunk vanishing.
 */
static int validate_chunk(const struct btrfs_chunk *chunk, u32 item_size,
			  u64 logical, u32 sectorsize, bool lenient)
{
	u64 length, stripe_len, type;
	int num_stripes;

	if (item_size < sizeof(struct btrfs_chunk))
		return -EUCLEAN;
	num_stripes = btrfs_stack_chunk_num_stripes(chunk);
	if (num_stripes == 0 ||
	    item_size != btrfs_chunk_item_size(num_stripes))
		return -EUCLEAN;
	length = btrfs_stack_chunk_length(chunk);
	stripe_len = btrfs_stack_chunk_stripe_len(chunk);
	type = btrfs_stack_chunk_type(chunk);
	if (length == 0 || logical + length < logical)
		return -EUCLEAN;
	if (sectorsize && (!IS_ALIGNED(logical, (u64)sectorsize) ||
			   !IS_ALIGNED(length, (u64)sectorsize)))
		return -EUCLEAN;
	if (!is_power_of_2(stripe_len) || stripe_len > (1ULL << 30))
		return -EUCLEAN;
	if (!lenient && !chunk_type_valid(type))
		return -EUCLEAN;
	if (!stripes_fit_profile(type, num_stripes,
				 btrfs_stack_chunk_sub_stripes(chunk)))
		return -EUCLEAN;
	return 0;
}

static const struct btrfs_stripe *chunk_stripe(const struct btrfs_chunk *c,
					       int nr)
{
	const u8 *base = (const u8 *)c + offsetof(struct btrfs_chunk, stripe);

	return (const struct btrfs_stripe *)(base +
					     (size_t)nr * sizeof(struct btrfs_stripe));
}

/* Build a map_lookup from a validated chunk; NULL on allocation failure. */
static struct map_lookup *chunk_to_map(u64 logical,
				       const struct btrfs_chunk *chunk)
{
	int num_stripes = btrfs_stack_chunk_num_stripes(chunk);
	struct map_lookup *map;
	int i;

	map = calloc(1, sizeof(*map) + (size_t)num_stripes * sizeof(map->stripes[0]));
	if (!map)
		return NULL;
	map->start = logical;
	map->length = btrfs_stack_chunk_length(chunk);
	map->type = btrfs_stack_chunk_type(chunk);
	map->stripe_len = btrfs_stack_chunk_stripe_len(chunk);
	map->io_align = btrfs_stack_chunk_io_align(chunk);
	map->io_width = btrfs_stack_chunk_io_width(chunk);
	map->sector_size = btrfs_stack_chunk_sector_size(chunk);
	map->num_stripes = num_stripes;
	map->sub_stripes = btrfs_stack_chunk_sub_stripes(chunk);
	for (i = 0; i < num_stripes; i++) {
		const struct btrfs_stripe *s = chunk_stripe(chunk, i);

		map->stripes[i].devid = btrfs_stack_stripe_devid(s);
		map->stripes[i].physical = btrfs_stack_stripe_offset(s);
		memcpy(map->stripes[i].dev_uuid, s->dev_uuid, BTRFS_UUID_SIZE);
	}
	return map;
}

/* Point each stripe at its device, adding "missing" entries as needed. */
static int attach_devices(struct btrfs_fs_devices *fs_devices,
			  struct map_lookup *map)
{
	int i;

	if (!fs_devices)
		return 0;
	for (i = 0; i < map->num_stripes; i++) {
		struct btrfs_device *dev;

		dev = get_device(fs_devices, map->stripes[i].devid,
				 map->stripes[i].dev_uuid);
		if (!dev)
			return -ENOMEM;
		map->stripes[i].dev = dev->missing ? NULL : dev;
	}
	return 0;
}

#define DUPLICATE_CHUNK (-1L)

/*
 * Where @map goes: its index, DUPLICATE_CHUNK if an identical range is
 * already there, or -EUCLEAN if it overlaps another chunk.
 */
static long insert_position(const struct btrfs_mapping_tree *tree,
			    const struct map_lookup *map)
{
	size_t idx = map_upper_bound(tree, map->start);
	u64 end = map->start + map->length;

	if (idx > 0) {
		const struct map_lookup *prev = tree->maps[idx - 1];

		if (prev->start == map->start && prev->length == map->length)
			return DUPLICATE_CHUNK;
		if (map->start - prev->start < prev->length)
			return -EUCLEAN;
	}
	if (idx < tree->nr && tree->maps[idx]->start < end)
		return -EUCLEAN;
	return (long)idx;
}

static int insert_map(struct btrfs_mapping_tree *tree, struct map_lookup *map)
{
	long pos = insert_position(tree, map);
	size_t idx;

	if (pos == DUPLICATE_CHUNK) {
		free(map);	/* a duplicate of a chunk we have */
		return 0;
	}
	if (pos < 0) {
		free(map);
		return (int)pos;
	}
	if (array_reserve(tree->maps, tree->cap, tree->nr + 1, 64)) {
		free(map);
		return -ENOMEM;
	}
	idx = (size_t)pos;
	memmove(&tree->maps[idx + 1], &tree->maps[idx],
		(tree->nr - idx) * sizeof(*tree->maps));
	tree->maps[idx] = map;
	tree->nr++;
	return 0;
}

int btrfs_add_chunk_map(struct btrfs_fs_info *fs_info, u64 logical,
			const struct btrfs_chunk *chunk, u32 item_size)
{
	struct map_lookup *map;
	int ret;

	ret = validate_chunk(chunk, item_size, logical, fs_info->sectorsize,
			     fs_info->open_flags & OPEN_CTREE_PARTIAL);
	if (ret)
		return ret;
	if (!fs_info->mapping_tree) {
		fs_info->mapping_tree = btrfs_mapping_tree_alloc();
		if (!fs_info->mapping_tree)
			return -ENOMEM;
	}
	map = chunk_to_map(logical, chunk);
	if (!map)
		return -ENOMEM;
	ret = attach_devices(fs_info->fs_devices, map);
	if (ret) {
		free(map);
		return ret;
	}
	return insert_map(fs_info->mapping_tree, map);
}

/* ------------------------------------------------------------------ */
/* Logical to physical. */

static int map_num_copies(const struct map_lookup *map)
{
	switch (map->type & BTRFS_BLOCK_GROUP_PROFILE_MASK) {
	case BTRFS_BLOCK_GROUP_DUP:
	case BTRFS_BLOCK_GROUP_RAID1:
	case BTRFS_BLOCK_GROUP_RAID1C3:
	case BTRFS_BLOCK_GROUP_RAID1C4:
		return map->num_stripes;
	case BTRFS_BLOCK_GROUP_RAID10:
		return map->sub_stripes;
	case BTRFS_BLOCK_GROUP_RAID5:
		return 2;
	case BTRFS_BLOCK_GROUP_RAID6:
		return 3;
	}
	return 1;
}

int btrfs_num_copies(struct btrfs_fs_info *fs_info, u64 logical)
{
	const struct map_lookup *map = btrfs_find_chunk_map(fs_info, logical);

	return map ? map_num_copies(map) : 0;
}

/* A stripe position: which stripe, and the byte offset on its device. */
struct stripe_pos {
	int index;
	u64 dev_offset;		/* relative to the stripe's physical start */
	u64 len;		/* contiguous bytes from there */
};

/* Striped profiles: raid0, raid10, raid5/6 data. */
static int map_striped(const struct map_lookup *map, u64 offset, int mirror,
		       struct stripe_pos *pos)
{
	u64 type = map->type & BTRFS_BLOCK_GROUP_PROFILE_MASK;
	u64 stripe_nr = offset / map->stripe_len;
	u64 in_stripe = offset % map->stripe_len;
	u64 row;

	pos->len = map->stripe_len - in_stripe;
	if (type == BTRFS_BLOCK_GROUP_RAID0) {
		pos->index = (int)(stripe_nr % (u64)map->num_stripes);
		row = stripe_nr / (u64)map->num_stripes;
	} else if (type == BTRFS_BLOCK_GROUP_RAID10) {
		u64 groups = (u64)(map->num_stripes / map->sub_stripes);

		pos->index = (int)(stripe_nr % groups) * map->sub_stripes +
			     mirror - 1;
		row = stripe_nr / groups;
	} else {
		int nr_parity = type == BTRFS_BLOCK_GROUP_RAID6 ? 2 : 1;
		u64 nr_data = (u64)(map->num_stripes - nr_parity);

		if (mirror > 1)
			return -EOPNOTSUPP;
		/* Parity rotates: data stripe d of row r sits on (r + d). */
		row = stripe_nr / nr_data;
		pos->index = (int)((row + stripe_nr % nr_data) %
				   (u64)map->num_stripes);
	}
	pos->dev_offset = row * map->stripe_len + in_stripe;
	return 0;
}

static int map_position(const struct map_lookup *map, u64 offset, int mirror,
			struct stripe_pos *pos)
{
	u64 type = map->type & BTRFS_BLOCK_GROUP_PROFILE_MASK;

	if (mirror < 1 || mirror > map_num_copies(map))
		return -EINVAL;
	if (type & (BTRFS_BLOCK_GROUP_RAID0 | BTRFS_BLOCK_GROUP_RAID10 |
		    BTRFS_BLOCK_GROUP_RAID56_MASK))
		return map_striped(map, offset, mirror, pos);
	/* single, dup, raid1*: each copy is one whole stripe */
	pos->index = mirror - 1;
	pos->dev_offset = offset;
	pos->len = map->length - offset;
	return 0;
}

int btrfs_map_block(struct btrfs_fs_info *fs_info, u64 logical, int mirror,
		    struct btrfs_device **dev, u64 *physical, u64 *len)
{
	const struct map_lookup *map = btrfs_find_chunk_map(fs_info, logical);
	struct stripe_pos pos;
	u64 offset;
	int ret;

	if (!map)
		return -ENOENT;
	offset = logical - map->start;
	ret = map_position(map, offset, mirror, &pos);
	if (ret)
		return ret;
	if (pos.index < 0 || pos.index >= map->num_stripes)
		return -EUCLEAN;
	if (!map->stripes[pos.index].dev)
		return -ENODEV;
	*dev = map->stripes[pos.index].dev;
	*physical = map->stripes[pos.index].physical + pos.dev_offset;
	*len = min_t(u64, pos.len, map->length - offset);
	return 0;
}

enum btrfs_copy_place btrfs_copy_place(struct btrfs_fs_info *fs_info,
				       u64 logical, u64 len, int mirror,
				       u64 *devid)
{
	const struct map_lookup *map = btrfs_find_chunk_map(fs_info, logical);
	const struct btrfs_device *dev;
	struct stripe_pos pos;
	u64 physical;

	*devid = 0;
	if (!map || map_position(map, logical - map->start, mirror, &pos) ||
	    pos.index < 0 || pos.index >= map->num_stripes)
		return BTRFS_COPY_UNMAPPED;
	*devid = map->stripes[pos.index].devid;
	dev = map->stripes[pos.index].dev;
	if (!dev || !dev->io)
		return BTRFS_COPY_MISSING;
	physical = map->stripes[pos.index].physical + pos.dev_offset;
	len = min_t(u64, len, pos.len);
	if (physical + len > dev->device_size)
		return BTRFS_COPY_PAST_END;
	return BTRFS_COPY_ON_DEVICE;
}

/* ------------------------------------------------------------------ */
/* Reading the chunk map from disk. */

int btrfs_sys_array_next(const u8 *array, u32 size, u32 *cur,
			 struct btrfs_sys_array_entry *e)
{
	const u32 key_len = sizeof(struct btrfs_disk_key);
	u32 pos = *cur;
	u16 num_stripes;

	memset(e, 0, sizeof(*e));
	if (pos >= size)
		return 0;
	e->problem = BTRFS_SYS_ARRAY_SHORT;
	e->need = key_len;
	e->at = pos;
	if (size - pos < key_len)
		return -EUCLEAN;
	e->key = (const struct btrfs_disk_key *)(array + pos);
	pos += key_len;
	e->at = pos;
	if (btrfs_stack_disk_key_type(e->key) != BTRFS_CHUNK_ITEM_KEY) {
		e->problem = BTRFS_SYS_ARRAY_NOT_CHUNK;
		return -EUCLEAN;
	}
	/* a chunk of one stripe first, to read its stripe count */
	e->need = (u32)btrfs_chunk_item_size(1);
	if (size - pos < e->need)
		return -EUCLEAN;
	e->chunk = (const struct btrfs_chunk *)(array + pos);
	num_stripes = btrfs_stack_chunk_num_stripes(e->chunk);
	if (!num_stripes) {
		e->problem = BTRFS_SYS_ARRAY_NO_STRIPES;
		return -EUCLEAN;
	}
	e->need = (u32)btrfs_chunk_item_size(num_stripes);
	if (size - pos < e->need)
		return -EUCLEAN;
	e->chunk_offset = pos;
	e->chunk_size = e->need;
	*cur = pos + e->chunk_size;
	return 1;
}

int btrfs_read_sys_array(struct btrfs_fs_info *fs_info)
{
	const struct btrfs_super_block *sb = &fs_info->super_copy;
	u32 size = btrfs_super_sys_array_size(sb);
	struct btrfs_sys_array_entry e;
	u32 cur = 0;
	int ret;

	if (size > BTRFS_SYSTEM_CHUNK_ARRAY_SIZE)
		return -EUCLEAN;
	while ((ret = btrfs_sys_array_next(sb->sys_chunk_array, size, &cur,
					   &e)) > 0) {
		/* a partial open maps it anyway: the checker reports it */
		if (!(btrfs_stack_chunk_type(e.chunk) & BTRFS_BLOCK_GROUP_SYSTEM) &&
		    !(fs_info->open_flags & OPEN_CTREE_PARTIAL))
			return -EUCLEAN;
		ret = btrfs_add_chunk_map(fs_info,
					  btrfs_stack_disk_key_offset(e.key),
					  e.chunk, e.chunk_size);
		if (ret)
			return ret;
	}
	return ret;
}

/* Update (or create as missing) the device a DEV_ITEM describes. */
static int process_dev_item(struct btrfs_fs_info *fs_info,
			    const struct btrfs_dev_item *item, u32 item_size)
{
	struct btrfs_device *dev;

	if (item_size < sizeof(*item))
		return -EUCLEAN;
	if (!fs_info->fs_devices)
		return 0;
	dev = get_device(fs_info->fs_devices, btrfs_stack_device_id(item),
			 item->uuid);
	if (!dev)
		return -ENOMEM;
	dev->has_dev_item = true;
	dev->total_bytes = btrfs_stack_device_total_bytes(item);
	dev->bytes_used = btrfs_stack_device_bytes_used(item);
	return 0;
}

/* Hand one chunk-tree item to its handler; other items are ignored. */
static int process_chunk_tree_item(struct btrfs_fs_info *fs_info,
				   struct extent_buffer *leaf, int slot)
{
	struct btrfs_key key;
	u32 size = btrfs_item_size(leaf, slot);
	u32 offset = btrfs_item_offset(leaf, slot);
	const void *ptr;

	btrfs_item_key_to_cpu(leaf, &key, slot);
	if (key.type != BTRFS_DEV_ITEM_KEY && key.type != BTRFS_CHUNK_ITEM_KEY)
		return 0;
	if (offset > btrfs_leaf_data_size(leaf->len) ||
	    size > btrfs_leaf_data_size(leaf->len) - offset)
		return -EUCLEAN;
	ptr = btrfs_item_ptr_raw(leaf, slot);
	if (key.type == BTRFS_DEV_ITEM_KEY)
		return process_dev_item(fs_info, ptr, size);
	return btrfs_add_chunk_map(fs_info, key.offset, ptr, size);
}

int btrfs_read_chunk_tree(struct btrfs_fs_info *fs_info)
{
	struct btrfs_key key = { 0 };
	struct btrfs_path *path;
	bool partial = fs_info->open_flags & OPEN_CTREE_PARTIAL;
	int ret;

	if (!fs_info->chunk_root || !fs_info->chunk_root->node)
		return -EINVAL;
	path = btrfs_alloc_path();
	if (!path)
		return -ENOMEM;
	ret = btrfs_search_slot_for_read(fs_info->chunk_root, &key, path);
	while (ret == 0) {
		ret = process_chunk_tree_item(fs_info, path->nodes[0],
					      path->slots[0]);
		/* A rescue open skips a damaged chunk and keeps going. */
		if (ret == -EUCLEAN && partial)
			ret = 0;
		if (ret)
			break;
		ret = btrfs_next_item(fs_info->chunk_root, path);
	}
	btrfs_free_path(path);
	return ret < 0 ? ret : 0;
}

const char *btrfs_bg_profile_str(u64 type)
{
	switch (type & BTRFS_BLOCK_GROUP_PROFILE_MASK) {
	case 0:
		return "single";
	case BTRFS_BLOCK_GROUP_RAID0:
		return "RAID0";
	case BTRFS_BLOCK_GROUP_RAID1:
		return "RAID1";
	case BTRFS_BLOCK_GROUP_DUP:
		return "DUP";
	case BTRFS_BLOCK_GROUP_RAID10:
		return "RAID10";
	case BTRFS_BLOCK_GROUP_RAID5:
		return "RAID5";
	case BTRFS_BLOCK_GROUP_RAID6:
		return "RAID6";
	case BTRFS_BLOCK_GROUP_RAID1C3:
		return "RAID1C3";
	case BTRFS_BLOCK_GROUP_RAID1C4:
		return "RAID1C4";
	}
	return "unknown";
}
