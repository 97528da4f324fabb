// SPDX-License-Identifier: GPL-2.0
/*
 * The bootstrap of a new filesystem (see mkfs.c): destroy the magic of
 * every old superblock and flush, wipe the devices, plan the first
 * SYSTEM, METADATA (or mixed) and DATA chunks in the reference's sizes,
 * build the chunk, root, extent and dev tree leaves in memory, write them
 * to every copy of their chunk and write temporary-magic superblocks.
 */
#include "common/csum.h"
#include <stdlib.h>
#include <unistd.h>
#include <uuid/uuid.h>

#include "common/array.h"
#include "kernel-shared/disk-io.h"
#include "kernel-shared/mkfs-internal.h"
#include "kernel-shared/raid56.h"
#include "kernel-shared/volumes.h"

#define SZ_1M (1ULL << 20)
#define SZ_2M (2ULL << 20)
#define SZ_4M (4ULL << 20)
#define SZ_8M (8ULL << 20)
#define SZ_32M (32ULL << 20)
#define SZ_256M (256ULL << 20)
#define SZ_1G (1ULL << 30)

/* Logical address of the first chunk; devices are used from 1MiB on. */
#define MKFS_FIRST_LOGICAL SZ_1M
#define MKFS_DEV_RESERVED SZ_1M
/* The reference zeroes the first and the last 2MiB of each device. */
#define MKFS_ZERO_BYTES SZ_2M
#define MKFS_BOOT_GENERATION 1ULL
/* What of an old superblock is zeroed before anything else is written. */
#define MKFS_SB_KILL_BYTES 512ULL
/* Free ranges of a device: [1MiB, size) minus the bootstrap chunks. */
#define MKFS_MAX_RANGES 8

struct mkfs_dev_space {
	struct btrfs_dev_free_range ranges[MKFS_MAX_RANGES];
	int nr_ranges;
	u64 used;		/* bytes of bootstrap dev extents */
};

struct mkfs_chunk {
	struct btrfs_chunk_plan plan;
	u64 logical;
};

/* One item of a bootstrap leaf. */
struct boot_item {
	struct btrfs_key key;
	u32 size;
	u8 *data;
};

struct boot_leaf {
	struct boot_item *items;
	int nr;
	size_t cap;
};

struct mkfs_boot {
	const struct btrfs_mkfs_config *cfg;
	u8 chunk_uuid[BTRFS_UUID_SIZE];
	u64 total_bytes;
	u64 incompat;
	u64 compat_ro;
	struct mkfs_dev_space *space;
	struct btrfs_dev_free *devs;	/* planner view of @space */
	struct mkfs_chunk sys;
	struct mkfs_chunk meta;		/* metadata, or mixed */
	struct mkfs_chunk data;		/* unless mixed */
	u64 chunk_leaf;			/* logical addresses of leaves */
	u64 root_leaf;
	u64 extent_leaf;
	u64 dev_leaf;
};

/* ------------------------------------------------------------------ */
/* Sizes. */

/* Stripes of a chunk of @profile on @nr devices (the reference's counts). */
static int profile_stripes(u64 profile, int nr)
{
	switch (profile & BTRFS_BLOCK_GROUP_PROFILE_MASK) {
	case BTRFS_BLOCK_GROUP_DUP:
	case BTRFS_BLOCK_GROUP_RAID1:
		return 2;
	case BTRFS_BLOCK_GROUP_RAID1C3:
		return 3;
	case BTRFS_BLOCK_GROUP_RAID1C4:
		return 4;
	case BTRFS_BLOCK_GROUP_RAID0:
	case BTRFS_BLOCK_GROUP_RAID5:
	case BTRFS_BLOCK_GROUP_RAID6:
		return nr;
	case BTRFS_BLOCK_GROUP_RAID10:
		return nr & ~1;
	}
	return 1;
}

/* Stripes holding distinct data (the chunk's length in stripes). */
static int profile_data_stripes(u64 profile, int nr)
{
	switch (profile & BTRFS_BLOCK_GROUP_PROFILE_MASK) {
	case BTRFS_BLOCK_GROUP_RAID0:
		return nr;
	case BTRFS_BLOCK_GROUP_RAID10:
		return nr / 2;
	case BTRFS_BLOCK_GROUP_RAID5:
	case BTRFS_BLOCK_GROUP_RAID6:
		return max_t(int, nr - btrfs_raid56_nparity(profile), 1);
	}
	return 1;
}

/*
 * Stripe size of the first chunk of @type, as the reference mkfs.btrfs
 * 6.2 sizes it (measured over sizes 110MiB-1TiB and profiles; its rules
 * differ from the kernel's, which btrfs_alloc_chunk follows):
 * - single profile: 4MiB system, 8MiB metadata, data or mixed;
 * - else a first guess of 8MiB system, 1GiB data (and mixed), 256MiB
 *   metadata (1GiB over 50GiB); if the chunk would exceed its cap (16MiB
 *   system, 10GiB data, the metadata guess) or a tenth of the filesystem,
 *   the smaller of the two divided by the number of stripes, in 64KiB
 *   units; never under 1MiB system, 64MiB data, 32MiB metadata.
 */
static u64 first_stripe_size(u64 type, int nr_devs, u64 total)
{
	u64 profile = type & BTRFS_BLOCK_GROUP_PROFILE_MASK;
	u64 guess, cap, floor;
	int stripes = profile_stripes(profile, nr_devs);

	if (!profile)
		return (type & BTRFS_BLOCK_GROUP_SYSTEM) ? SZ_4M : SZ_8M;
	if (type & BTRFS_BLOCK_GROUP_SYSTEM) {
		guess = SZ_8M;
		cap = 2 * SZ_8M;
		floor = SZ_1M;
	} else if (type & BTRFS_BLOCK_GROUP_DATA) {
		guess = SZ_1G;
		cap = 10 * SZ_1G;
		floor = 64 * SZ_1M;
	} else {
		guess = total > 50 * SZ_1G ? SZ_1G : SZ_256M;
		cap = guess;
		floor = SZ_32M;
	}
	cap = min_t(u64, cap, total / 10);
	if (stripes > 0 &&
	    guess * (u64)profile_data_stripes(profile, nr_devs) > cap)
		guess = round_down(cap / (u64)stripes, (u64)BTRFS_STRIPE_LEN);
	return max_t(u64, guess, floor);
}

/* Types of the bootstrap chunks; 0 for a chunk mixed groups do not have. */
static u64 boot_chunk_type(const struct btrfs_mkfs_config *cfg, int which)
{
	switch (which) {
	case 0:
		return BTRFS_BLOCK_GROUP_SYSTEM | cfg->metadata_profile;
	case 1:
		return cfg->mixed ? BTRFS_BLOCK_GROUP_METADATA |
				    BTRFS_BLOCK_GROUP_DATA |
				    cfg->metadata_profile :
				    BTRFS_BLOCK_GROUP_METADATA |
				    cfg->metadata_profile;
	}
	return cfg->mixed ? 0 : BTRFS_BLOCK_GROUP_DATA | cfg->data_profile;
}

#define NR_BOOT_CHUNKS 3

u64 mkfs_boot_layout_need(const struct btrfs_mkfs_config *cfg, u64 size)
{
	u64 need = MKFS_DEV_RESERVED;
	int nr = cfg->nr_devices;

	for (int i = 0; i < NR_BOOT_CHUNKS; i++) {
		u64 type = boot_chunk_type(cfg, i);
		int stripes = profile_stripes(type, nr);
		u64 per_dev = (u64)((stripes + nr - 1) / nr);

		if (type)
			need += per_dev * first_stripe_size(type, nr,
							   size * (u64)nr);
	}
	return need;
}

/* ------------------------------------------------------------------ */
/* Device preparation. */

/*
 * Make every btrfs superblock copy of @dev unrecognisable: zero the first
 * sector of each, which holds the checksum and the magic.  One sector, so
 * that a power cut cannot tear the write and leave an old magic with a
 * half-zeroed block after it.
 */
static int kill_old_supers(const struct btrfs_mkfs_device *dev)
{
	u64 end = max_t(u64, dev->io->size, dev->size);
	int ret = 0;

	for (int i = 0; !ret && i < BTRFS_SUPER_MIRROR_MAX; i++) {
		u64 off = btrfs_sb_offset(i);

		if (off + BTRFS_SUPER_INFO_SIZE <= end)
			ret = btrfs_io_zero(dev->io, off, MKFS_SB_KILL_BYTES);
	}
	return ret;
}

/*
 * Zero the first and last 2MiB of the space used (as the reference does:
 * old superblocks and boot sectors, other filesystems' signatures) and
 * every btrfs superblock copy inside the whole device, also beyond the
 * size used: a stale copy there could look newer than ours to a tool
 * that picks the newest valid copy.
 */
static int wipe_device(const struct btrfs_mkfs_device *dev)
{
	u64 head = min_t(u64, dev->size, MKFS_ZERO_BYTES);
	u64 tail = min_t(u64, dev->size, MKFS_ZERO_BYTES);
	u64 end = max_t(u64, dev->io->size, dev->size);
	int ret;

	ret = btrfs_io_zero(dev->io, 0, head);
	if (!ret)
		ret = btrfs_io_zero(dev->io, dev->size - tail, tail);
	for (int i = 1; !ret && i < BTRFS_SUPER_MIRROR_MAX; i++) {
		u64 off = btrfs_sb_offset(i);

		if (off + BTRFS_SUPER_INFO_SIZE <= end)
			ret = btrfs_io_zero(dev->io, off, BTRFS_SUPER_INFO_SIZE);
	}
	return ret;
}

/* ------------------------------------------------------------------ */
/* Planning the bootstrap chunks. */

/* Take [start, start + len) out of a device's free ranges. */
static int take_range(struct mkfs_dev_space *s, u64 start, u64 len)
{
	for (int i = 0; i < s->nr_ranges; i++) {
		struct btrfs_dev_free_range *r = &s->ranges[i];
		u64 rend = r->start + r->len;

		if (start < r->start || start + len > rend)
			continue;
		if (start > r->start && start + len < rend) {
			if (s->nr_ranges >= MKFS_MAX_RANGES)
				return -ENOSPC;
			memmove(r + 2, r + 1, (size_t)(s->nr_ranges - i - 1) *
						      sizeof(*r));
			s->nr_ranges++;
			r[1].start = start + len;
			r[1].len = rend - (start + len);
			r->len = start - r->start;
		} else if (start == r->start) {
			r->start += len;
			r->len -= len;
		} else {
			r->len -= len;
		}
		s->used += len;
		return 0;
	}
	/* The planner returned space it was not given. */
	return -EUCLEAN;
}

static int plan_boot_chunk(struct mkfs_boot *b, struct mkfs_chunk *c,
			   u64 type, u64 logical, u64 max_stripe)
{
	int nr = b->cfg->nr_devices;
	int ret;

	/*
	 * The reference's first chunks are sized by max_stripe alone: pass a
	 * size for which the kernel's 10% cap does not bind.
	 */
	ret = btrfs_plan_chunk(type, b->devs, nr,
			       max_t(u64, b->total_bytes, 10 * max_stripe *
					(u64)BTRFS_CHUNK_PLAN_MAX_STRIPES),
			       max_stripe, &c->plan);
	if (ret)
		return ret;
	c->logical = logical;
	for (int i = 0; i < c->plan.num_stripes; i++) {
		const struct btrfs_chunk_plan_stripe *s = &c->plan.stripes[i];

		if (s->devid < 1 || s->devid > (u64)nr)
			return -EUCLEAN;
		ret = take_range(&b->space[s->devid - 1], s->physical,
				 c->plan.stripe_size);
		if (ret)
			return ret;
		b->devs[s->devid - 1].nr_ranges =
			b->space[s->devid - 1].nr_ranges;
	}
	return 0;
}

/* The bootstrap chunks in logical order; NULL for a missing one. */
static struct mkfs_chunk *boot_chunk(struct mkfs_boot *b, int which)
{
	struct mkfs_chunk *chunks[NR_BOOT_CHUNKS] = { &b->sys, &b->meta,
						       &b->data };

	return chunks[which]->plan.num_stripes ? chunks[which] : NULL;
}

static int plan_boot_chunks(struct mkfs_boot *b)
{
	const struct btrfs_mkfs_config *cfg = b->cfg;
	struct mkfs_chunk *chunks[NR_BOOT_CHUNKS] = { &b->sys, &b->meta,
						       &b->data };
	u64 logical = MKFS_FIRST_LOGICAL;
	int ret = 0;

	for (int i = 0; i < cfg->nr_devices; i++) {
		struct mkfs_dev_space *s = &b->space[i];

		if (cfg->devices[i].size <= MKFS_DEV_RESERVED)
			return -ENOSPC;
		s->ranges[0].start = MKFS_DEV_RESERVED;
		s->ranges[0].len = cfg->devices[i].size - MKFS_DEV_RESERVED;
		s->nr_ranges = 1;
		b->devs[i].devid = (u64)i + 1;
		memcpy(b->devs[i].uuid, cfg->devices[i].uuid, BTRFS_UUID_SIZE);
		b->devs[i].ranges = s->ranges;
		b->devs[i].nr_ranges = 1;
	}
	for (int i = 0; !ret && i < NR_BOOT_CHUNKS; i++) {
		u64 type = boot_chunk_type(cfg, i);

		if (!type)
			continue;
		ret = plan_boot_chunk(b, chunks[i], type, logical,
				      first_stripe_size(type, cfg->nr_devices,
							b->total_bytes));
		logical += chunks[i]->plan.length;
	}
	return ret;
}

/* ------------------------------------------------------------------ */
/* Where a bootstrap block's copies go. */

struct block_copy {
	int dev;		/* index into cfg->devices */
	u64 physical;
};

/*
 * The copies of the block at offset @off of chunk @c (a tree block never
 * crosses a stripe: nodes are at most 64KiB and aligned).  Returns the
 * number of copies.
 */
static int block_copies(const struct mkfs_chunk *c, u64 off,
			struct block_copy *out)
{
	const struct btrfs_chunk_plan *p = &c->plan;
	u64 sl = BTRFS_STRIPE_LEN, nr = off / sl, in = off % sl;
	u64 profile = p->type & BTRFS_BLOCK_GROUP_PROFILE_MASK;
	int n = 0;

	if (profile == BTRFS_BLOCK_GROUP_RAID0) {
		u64 idx = nr % (u64)p->num_stripes;

		out[0].dev = (int)p->stripes[idx].devid - 1;
		out[0].physical = p->stripes[idx].physical +
				  nr / (u64)p->num_stripes * sl + in;
		return 1;
	}
	if (profile == BTRFS_BLOCK_GROUP_RAID10) {
		u64 factor = (u64)(p->num_stripes / p->sub_stripes);
		u64 first = nr % factor * (u64)p->sub_stripes;

		for (int i = 0; i < p->sub_stripes; i++, n++) {
			out[n].dev = (int)p->stripes[first + i].devid - 1;
			out[n].physical = p->stripes[first + i].physical +
					  nr / factor * sl + in;
		}
		return n;
	}
	for (int i = 0; i < p->num_stripes; i++, n++) {
		out[n].dev = (int)p->stripes[i].devid - 1;
		out[n].physical = p->stripes[i].physical + off;
	}
	return n;
}

/*
 * RAID5/6: the ranges of every stripe of the block's row (the engine
 * never allocates in a row a superblock copy falls in, whatever stripe).
 */
static int raid56_row_ranges(const struct mkfs_chunk *c, u64 off,
			     struct block_copy *out, u32 *len)
{
	const struct btrfs_chunk_plan *p = &c->plan;
	int nr_data = p->num_stripes - btrfs_raid56_nparity(p->type);
	u64 row = off / BTRFS_STRIPE_LEN / (u64)max_t(int, nr_data, 1);

	for (int i = 0; i < p->num_stripes; i++) {
		out[i].dev = (int)p->stripes[i].devid - 1;
		out[i].physical = p->stripes[i].physical +
				  row * BTRFS_STRIPE_LEN;
	}
	*len = BTRFS_STRIPE_LEN;
	return p->num_stripes;
}

/* Does a copy of the block at @off touch a superblock copy's stripe? */
static bool block_hits_super(const struct mkfs_chunk *c, u64 off, u32 len)
{
	struct block_copy copies[BTRFS_CHUNK_PLAN_MAX_STRIPES];
	int n;

	if (c->plan.type & BTRFS_BLOCK_GROUP_RAID56_MASK)
		n = raid56_row_ranges(c, off, copies, &len);
	else
		n = block_copies(c, off, copies);

	for (int i = 0; i < n; i++) {
		for (int m = 0; m < BTRFS_SUPER_MIRROR_MAX; m++) {
			u64 sb = round_down(btrfs_sb_offset(m),
					    (u64)BTRFS_STRIPE_LEN);

			if (copies[i].physical < sb + BTRFS_STRIPE_LEN &&
			    copies[i].physical + len > sb)
				return true;
		}
	}
	return false;
}

/* Next usable block address of @c at or after offset *@off. */
static int place_block(const struct mkfs_chunk *c, u32 nodesize, u64 *off,
		       u64 *logical)
{
	while (*off + nodesize <= c->plan.length) {
		if (!block_hits_super(c, *off, nodesize)) {
			*logical = c->logical + *off;
			*off += nodesize;
			return 0;
		}
		*off += nodesize;
	}
	return -ENOSPC;
}

static int place_blocks(struct mkfs_boot *b)
{
	u32 ns = b->cfg->nodesize;
	u64 off = 0;
	int ret;

	ret = place_block(&b->sys, ns, &off, &b->chunk_leaf);
	off = 0;
	if (!ret)
		ret = place_block(&b->meta, ns, &off, &b->root_leaf);
	if (!ret)
		ret = place_block(&b->meta, ns, &off, &b->extent_leaf);
	if (!ret)
		ret = place_block(&b->meta, ns, &off, &b->dev_leaf);
	return ret;
}

/* ------------------------------------------------------------------ */
/* Bootstrap leaves, built as sorted item lists. */

static void *leaf_add(struct boot_leaf *l, u64 objectid, u8 type, u64 offset,
		      u32 size, int *err)
{
	struct boot_item *it;

	if (*err)
		return NULL;
	if (array_reserve(l->items, l->cap, (size_t)l->nr + 1, 16)) {
		*err = -ENOMEM;
		return NULL;
	}
	it = &l->items[l->nr];
	it->data = calloc(1, size ? size : 1);
	if (!it->data) {
		*err = -ENOMEM;
		return NULL;
	}
	it->key.objectid = objectid;
	it->key.type = type;
	it->key.offset = offset;
	it->size = size;
	l->nr++;
	return it->data;
}

static void leaf_release(struct boot_leaf *l)
{
	for (int i = 0; i < l->nr; i++)
		free(l->items[i].data);
	free(l->items);
	memset(l, 0, sizeof(*l));
}

static int cmp_boot_item(const void *a, const void *b)
{
	const struct boot_item *x = a, *y = b;

	return btrfs_comp_cpu_keys(&x->key, &y->key);
}

/* Lay the items of @l out in a new leaf at @bytenr owned by @owner. */
static struct extent_buffer *leaf_build(const struct mkfs_boot *b,
					struct boot_leaf *l, u64 bytenr,
					u64 owner, int *err)
{
	u32 ns = b->cfg->nodesize;
	u32 end = btrfs_leaf_data_size(ns);
	struct extent_buffer *eb;
	struct btrfs_header *h;

	if (*err)
		return NULL;
	eb = alloc_extent_buffer(bytenr, ns);
	if (!eb) {
		*err = -ENOMEM;
		return NULL;
	}
	qsort(l->items, (size_t)l->nr, sizeof(*l->items), cmp_boot_item);
	for (int i = 0; i < l->nr; i++) {
		struct btrfs_item *item = btrfs_item_nr(eb, i);
		u32 used = (u32)sizeof(*item) * (u32)(i + 1);

		if (l->items[i].size > end || end - l->items[i].size < used) {
			*err = -EOVERFLOW;	/* too many devices */
			free_extent_buffer(eb);
			return NULL;
		}
		end -= l->items[i].size;
		btrfs_cpu_key_to_disk(&item->key, &l->items[i].key);
		btrfs_set_stack_raw_item_offset(item, end);
		btrfs_set_stack_raw_item_size(item, l->items[i].size);
		memcpy(eb->data + BTRFS_LEAF_DATA_OFFSET + end,
		       l->items[i].data, l->items[i].size);
	}
	h = (struct btrfs_header *)eb->data;
	memcpy(h->fsid, b->cfg->fsid, BTRFS_FSID_SIZE);
	memcpy(h->chunk_tree_uuid, b->chunk_uuid, BTRFS_UUID_SIZE);
	btrfs_set_header_bytenr(eb, bytenr);
	btrfs_set_header_flags(eb, BTRFS_HEADER_FLAG_WRITTEN |
			       ((u64)BTRFS_MIXED_BACKREF_REV
				<< BTRFS_BACKREF_REV_SHIFT));
	btrfs_set_header_generation(eb, MKFS_BOOT_GENERATION);
	btrfs_set_header_owner(eb, owner);
	btrfs_set_header_nritems(eb, (u32)l->nr);
	btrfs_set_header_level(eb, 0);
	*err = btrfs_csum_data(b->cfg->csum_type, eb->data + BTRFS_CSUM_SIZE,
			       ns - BTRFS_CSUM_SIZE, h->csum);
	if (*err) {
		free_extent_buffer(eb);
		return NULL;
	}
	return eb;
}

/* The chunk item of @c (for the chunk tree and the sys_chunk_array). */
static u32 chunk_item_size(const struct mkfs_chunk *c)
{
	return (u32)(sizeof(struct btrfs_chunk) +
		     sizeof(struct btrfs_stripe) *
			     (size_t)(c->plan.num_stripes - 1));
}

static void fill_chunk_item(const struct mkfs_boot *b,
			    const struct mkfs_chunk *c, struct btrfs_chunk *ci)
{
	btrfs_set_stack_chunk_length(ci, c->plan.length);
	btrfs_set_stack_chunk_owner(ci, BTRFS_EXTENT_TREE_OBJECTID);
	btrfs_set_stack_chunk_stripe_len(ci, BTRFS_STRIPE_LEN);
	btrfs_set_stack_chunk_type(ci, c->plan.type);
	btrfs_set_stack_chunk_io_align(ci, BTRFS_STRIPE_LEN);
	btrfs_set_stack_chunk_io_width(ci, BTRFS_STRIPE_LEN);
	btrfs_set_stack_chunk_sector_size(ci, b->cfg->sectorsize);
	btrfs_set_stack_chunk_num_stripes(ci, (u16)c->plan.num_stripes);
	btrfs_set_stack_chunk_sub_stripes(ci, (u16)c->plan.sub_stripes);
	for (int i = 0; i < c->plan.num_stripes; i++) {
		struct btrfs_stripe *s = &ci->stripe + i;

		btrfs_set_stack_stripe_devid(s, c->plan.stripes[i].devid);
		btrfs_set_stack_stripe_offset(s, c->plan.stripes[i].physical);
		memcpy(s->dev_uuid, c->plan.stripes[i].dev_uuid,
		       BTRFS_UUID_SIZE);
	}
}

static void fill_dev_item(const struct mkfs_boot *b, int i,
			  struct btrfs_dev_item *di)
{
	const struct btrfs_mkfs_config *cfg = b->cfg;

	memset(di, 0, sizeof(*di));
	btrfs_set_stack_device_id(di, (u64)i + 1);
	btrfs_set_stack_device_total_bytes(di, cfg->devices[i].size);
	btrfs_set_stack_device_bytes_used(di, b->space[i].used);
	btrfs_set_stack_device_io_align(di, cfg->sectorsize);
	btrfs_set_stack_device_io_width(di, cfg->sectorsize);
	btrfs_set_stack_device_sector_size(di, cfg->sectorsize);
	memcpy(di->uuid, cfg->devices[i].uuid, BTRFS_UUID_SIZE);
	memcpy(di->fsid, cfg->fsid, BTRFS_FSID_SIZE);
}

static void add_chunk_items(struct mkfs_boot *b, struct boot_leaf *l,
			    int *err)
{
	for (int i = 0; i < b->cfg->nr_devices; i++) {
		void *p = leaf_add(l, BTRFS_DEV_ITEMS_OBJECTID,
				   BTRFS_DEV_ITEM_KEY, (u64)i + 1,
				   sizeof(struct btrfs_dev_item), err);
		if (p)
			fill_dev_item(b, i, p);
	}
	for (int i = 0; i < NR_BOOT_CHUNKS; i++) {
		const struct mkfs_chunk *c = boot_chunk(b, i);
		void *p;

		if (!c)
			continue;
		p = leaf_add(l, BTRFS_FIRST_CHUNK_TREE_OBJECTID,
			     BTRFS_CHUNK_ITEM_KEY, c->logical,
			     chunk_item_size(c), err);
		if (p)
			fill_chunk_item(b, c, p);
	}
}

static void add_dev_extents(struct mkfs_boot *b, struct boot_leaf *l,
			    int *err)
{
	for (int c = 0; c < NR_BOOT_CHUNKS; c++) {
		const struct mkfs_chunk *chunk = boot_chunk(b, c);
		const struct btrfs_chunk_plan *p;

		if (!chunk)
			continue;
		p = &chunk->plan;

		for (int i = 0; i < p->num_stripes; i++) {
			struct btrfs_dev_extent *de;

			de = leaf_add(l, p->stripes[i].devid,
				      BTRFS_DEV_EXTENT_KEY,
				      p->stripes[i].physical, sizeof(*de), err);
			if (!de)
				continue;
			btrfs_set_stack_dev_extent_chunk_tree(de,
						BTRFS_CHUNK_TREE_OBJECTID);
			btrfs_set_stack_dev_extent_chunk_objectid(de,
						BTRFS_FIRST_CHUNK_TREE_OBJECTID);
			btrfs_set_stack_dev_extent_chunk_offset(de,
						chunk->logical);
			btrfs_set_stack_dev_extent_length(de, p->stripe_size);
			memcpy(de->chunk_tree_uuid, b->chunk_uuid,
			       BTRFS_UUID_SIZE);
		}
	}
}

/* The extent item of one bootstrap tree block (an empty-ish leaf). */
static void add_tree_block_item(const struct mkfs_boot *b,
				struct boot_leaf *l, u64 bytenr, u64 owner,
				const struct btrfs_key *first_key, int *err)
{
	bool skinny = b->incompat & BTRFS_FEATURE_INCOMPAT_SKINNY_METADATA;
	u32 size = (u32)(sizeof(struct btrfs_extent_item) +
			 sizeof(struct btrfs_extent_inline_ref));
	struct btrfs_extent_inline_ref *ref;
	struct btrfs_extent_item *ei;
	u8 *p;

	if (!skinny)
		size += (u32)sizeof(struct btrfs_tree_block_info);
	p = leaf_add(l, bytenr, skinny ? BTRFS_METADATA_ITEM_KEY :
					 BTRFS_EXTENT_ITEM_KEY,
		     skinny ? 0 : b->cfg->nodesize, size, err);
	if (!p)
		return;
	ei = (struct btrfs_extent_item *)p;
	btrfs_set_stack_extent_refs(ei, 1);
	btrfs_set_stack_extent_generation(ei, MKFS_BOOT_GENERATION);
	btrfs_set_stack_extent_flags(ei, BTRFS_EXTENT_FLAG_TREE_BLOCK);
	p += sizeof(*ei);
	if (!skinny) {
		struct btrfs_tree_block_info *info = (void *)p;

		btrfs_cpu_key_to_disk(&info->key, first_key);
		btrfs_set_stack_tree_block_level(info, 0);
		p += sizeof(*info);
	}
	ref = (struct btrfs_extent_inline_ref *)p;
	btrfs_set_stack_extent_inline_ref_type(ref, BTRFS_TREE_BLOCK_REF_KEY);
	btrfs_set_stack_extent_inline_ref_offset(ref, owner);
}

static void add_block_group_item(struct boot_leaf *l,
				 const struct mkfs_chunk *c, u64 used,
				 int *err)
{
	struct btrfs_block_group_item *bgi;

	bgi = leaf_add(l, c->logical, BTRFS_BLOCK_GROUP_ITEM_KEY,
		       c->plan.length, sizeof(*bgi), err);
	if (!bgi)
		return;
	btrfs_set_stack_block_group_used(bgi, used);
	btrfs_set_stack_block_group_chunk_objectid(bgi,
					BTRFS_FIRST_CHUNK_TREE_OBJECTID);
	btrfs_set_stack_block_group_flags(bgi, c->plan.type);
}

/* Root item of a bootstrap tree, in the form mkfs tools write it. */
static void add_root_item(const struct mkfs_boot *b, struct boot_leaf *l,
			  u64 objectid, u64 bytenr, int *err)
{
	struct btrfs_root_item *ri;

	ri = leaf_add(l, objectid, BTRFS_ROOT_ITEM_KEY, 0, sizeof(*ri), err);
	if (!ri)
		return;
	btrfs_set_stack_inode_generation(&ri->inode, 1);
	btrfs_set_stack_inode_size(&ri->inode, 3);
	btrfs_set_stack_inode_nlink(&ri->inode, 1);
	btrfs_set_stack_inode_nbytes(&ri->inode, b->cfg->nodesize);
	btrfs_set_stack_inode_mode(&ri->inode, 040755);
	btrfs_set_stack_root_generation(ri, MKFS_BOOT_GENERATION);
	btrfs_set_stack_root_generation_v2(ri, MKFS_BOOT_GENERATION);
	btrfs_set_stack_root_bytenr(ri, bytenr);
	btrfs_set_stack_root_refs(ri, 1);
	btrfs_set_stack_root_used(ri, b->cfg->nodesize);
	btrfs_set_stack_root_level(ri, 0);
}

/* First keys of the leaves, for non-skinny extent items. */
struct boot_first_keys {
	struct btrfs_key chunk, root, extent, dev;
};

static void add_extent_items(struct mkfs_boot *b, struct boot_leaf *l,
			     const struct boot_first_keys *fk, int *err)
{
	u32 ns = b->cfg->nodesize;

	add_tree_block_item(b, l, b->chunk_leaf, BTRFS_CHUNK_TREE_OBJECTID,
			    &fk->chunk, err);
	add_tree_block_item(b, l, b->root_leaf, BTRFS_ROOT_TREE_OBJECTID,
			    &fk->root, err);
	add_tree_block_item(b, l, b->extent_leaf, BTRFS_EXTENT_TREE_OBJECTID,
			    &fk->extent, err);
	add_tree_block_item(b, l, b->dev_leaf, BTRFS_DEV_TREE_OBJECTID,
			    &fk->dev, err);
	add_block_group_item(l, &b->sys, ns, err);
	add_block_group_item(l, &b->meta, 3ULL * ns, err);
	if (b->data.plan.num_stripes)
		add_block_group_item(l, &b->data, 0, err);
}

/* First key of a leaf built from @l (after sorting: the smallest). */
static void first_key(struct boot_leaf *l, struct btrfs_key *key)
{
	memset(key, 0, sizeof(*key));
	qsort(l->items, (size_t)l->nr, sizeof(*l->items), cmp_boot_item);
	if (l->nr)
		*key = l->items[0].key;
}

/* ------------------------------------------------------------------ */
/* Writing the bootstrap. */

struct boot_raid56_ctx {
	const struct mkfs_boot *b;
	const struct mkfs_chunk *c;
};

static int boot_raid56_io(void *ctx, int stripe, void *rbuf,
			  const void *wbuf, size_t len, u64 physical)
{
	const struct boot_raid56_ctx *r = ctx;
	struct btrfs_io *io =
		r->b->cfg->devices[r->c->plan.stripes[stripe].devid - 1].io;
	int ret;

	if (!rbuf)
		return btrfs_io_pwrite(io, wbuf, len, physical);
	ret = btrfs_io_pread(io, rbuf, len, physical);
	return ret == -ENODATA ? 0 : ret;	/* past a file's end: zeros */
}

static int boot_raid56_read(void *ctx, int stripe, void *buf, size_t len,
			    u64 physical)
{
	return boot_raid56_io(ctx, stripe, buf, NULL, len, physical);
}

static int boot_raid56_write(void *ctx, int stripe, const void *buf,
			     size_t len, u64 physical)
{
	return boot_raid56_io(ctx, stripe, NULL, buf, len, physical);
}

/* A bootstrap block in a RAID5/6 chunk, with its row's parity. */
static int write_raid56(const struct mkfs_boot *b, const struct mkfs_chunk *c,
			const struct extent_buffer *eb)
{
	struct boot_raid56_ctx ctx = { b, c };
	struct btrfs_raid56_io io = { 0 };
	u64 physical[BTRFS_CHUNK_PLAN_MAX_STRIPES];

	for (int i = 0; i < c->plan.num_stripes; i++)
		physical[i] = c->plan.stripes[i].physical;
	io.type = c->plan.type;
	io.num_stripes = c->plan.num_stripes;
	io.stripe_len = BTRFS_STRIPE_LEN;
	io.read = boot_raid56_read;
	io.write = boot_raid56_write;
	io.ctx = &ctx;
	io.physical = physical;
	return btrfs_raid56_write(&io, eb->start - c->logical, eb->data,
				  eb->len);
}

static int write_copies(const struct mkfs_boot *b, const struct mkfs_chunk *c,
			const struct extent_buffer *eb)
{
	struct block_copy copies[BTRFS_CHUNK_PLAN_MAX_STRIPES];
	int n;

	if (c->plan.type & BTRFS_BLOCK_GROUP_RAID56_MASK)
		return write_raid56(b, c, eb);
	n = block_copies(c, eb->start - c->logical, copies);

	for (int i = 0; i < n; i++) {
		int ret = btrfs_io_pwrite(b->cfg->devices[copies[i].dev].io,
					  eb->data, eb->len, copies[i].physical);

		if (ret)
			return ret;
	}
	return 0;
}

struct boot_leaves {
	struct boot_leaf chunk, root, extent, dev;
};

static int build_and_write(struct mkfs_boot *b, struct boot_leaves *lv)
{
	struct {
		struct boot_leaf *l;
		u64 bytenr;
		u64 owner;
		const struct mkfs_chunk *c;
	} blocks[] = {
		{ &lv->chunk, b->chunk_leaf, BTRFS_CHUNK_TREE_OBJECTID,
		  &b->sys },
		{ &lv->root, b->root_leaf, BTRFS_ROOT_TREE_OBJECTID, &b->meta },
		{ &lv->extent, b->extent_leaf, BTRFS_EXTENT_TREE_OBJECTID,
		  &b->meta },
		{ &lv->dev, b->dev_leaf, BTRFS_DEV_TREE_OBJECTID, &b->meta },
	};
	int err = 0;

	for (size_t i = 0; !err && i < ARRAY_SIZE(blocks); i++) {
		struct extent_buffer *eb;

		eb = leaf_build(b, blocks[i].l, blocks[i].bytenr,
				blocks[i].owner, &err);
		if (eb)
			err = write_copies(b, blocks[i].c, eb);
		free_extent_buffer(eb);
	}
	return err;
}

/*
 * Non-skinny extent items record their block's first key: the extent
 * leaf's own item gets it once the leaf's items are known (the keys do
 * not depend on it).
 */
static void fix_extent_leaf_key(const struct mkfs_boot *b,
				struct boot_leaf *l)
{
	struct btrfs_key fk;

	if (b->incompat & BTRFS_FEATURE_INCOMPAT_SKINNY_METADATA)
		return;
	first_key(l, &fk);
	for (int i = 0; i < l->nr; i++) {
		struct btrfs_tree_block_info *info;

		if (l->items[i].key.objectid != b->extent_leaf ||
		    l->items[i].key.type != BTRFS_EXTENT_ITEM_KEY)
			continue;
		info = (void *)(l->items[i].data +
				sizeof(struct btrfs_extent_item));
		btrfs_cpu_key_to_disk(&info->key, &fk);
	}
}

static int make_leaves(struct mkfs_boot *b)
{
	struct boot_leaves lv = { 0 };
	struct boot_first_keys fk;
	int err = 0;

	add_chunk_items(b, &lv.chunk, &err);
	add_root_item(b, &lv.root, BTRFS_EXTENT_TREE_OBJECTID, b->extent_leaf,
		      &err);
	add_root_item(b, &lv.root, BTRFS_DEV_TREE_OBJECTID, b->dev_leaf, &err);
	add_dev_extents(b, &lv.dev, &err);
	if (!err) {
		first_key(&lv.chunk, &fk.chunk);
		first_key(&lv.root, &fk.root);
		first_key(&lv.dev, &fk.dev);
		memset(&fk.extent, 0, sizeof(fk.extent));
		add_extent_items(b, &lv.extent, &fk, &err);
	}
	if (!err)
		fix_extent_leaf_key(b, &lv.extent);
	if (!err)
		err = build_and_write(b, &lv);
	leaf_release(&lv.chunk);
	leaf_release(&lv.root);
	leaf_release(&lv.extent);
	leaf_release(&lv.dev);
	return err;
}

static void fill_super(const struct mkfs_boot *b, struct btrfs_super_block *sb)
{
	const struct btrfs_mkfs_config *cfg = b->cfg;
	u8 *array = sb->sys_chunk_array;
	struct btrfs_disk_key key;
	u32 csize = chunk_item_size(&b->sys);

	memset(sb, 0, sizeof(*sb));
	memcpy(sb->fsid, cfg->fsid, BTRFS_FSID_SIZE);
	btrfs_set_super_bytenr(sb, BTRFS_SUPER_INFO_OFFSET);
	btrfs_set_super_flags(sb, BTRFS_HEADER_FLAG_WRITTEN);
	btrfs_set_super_magic(sb, BTRFS_MAGIC_TEMPORARY);
	btrfs_set_super_generation(sb, MKFS_BOOT_GENERATION);
	btrfs_set_super_root(sb, b->root_leaf);
	btrfs_set_super_chunk_root(sb, b->chunk_leaf);
	btrfs_set_super_total_bytes(sb, b->total_bytes);
	btrfs_set_super_bytes_used(sb, 4ULL * cfg->nodesize);
	btrfs_set_super_root_dir(sb, BTRFS_ROOT_TREE_DIR_OBJECTID);
	btrfs_set_super_num_devices(sb, (u64)cfg->nr_devices);
	btrfs_set_super_sectorsize(sb, cfg->sectorsize);
	btrfs_set_super_nodesize(sb, cfg->nodesize);
	btrfs_set_super_leafsize(sb, cfg->nodesize);
	btrfs_set_super_stripesize(sb, cfg->sectorsize);
	btrfs_set_super_chunk_root_generation(sb, MKFS_BOOT_GENERATION);
	btrfs_set_super_compat_ro_flags(sb, b->compat_ro);
	btrfs_set_super_incompat_flags(sb, b->incompat);
	btrfs_set_super_csum_type(sb, cfg->csum_type);
	/*
	 * Without a free-space tree the kernel uses the v1 space cache: like
	 * the reference, mark it as never written (the kernel builds it).
	 */
	if (!(cfg->compat_ro_flags & BTRFS_FEATURE_COMPAT_RO_FREE_SPACE_TREE))
		btrfs_set_super_cache_generation(sb, (u64)-1);
	memcpy(sb->label, cfg->label, BTRFS_LABEL_SIZE);
	sb->label[BTRFS_LABEL_SIZE - 1] = '\0';

	btrfs_set_stack_disk_key_objectid(&key,
					  BTRFS_FIRST_CHUNK_TREE_OBJECTID);
	btrfs_set_stack_disk_key_type(&key, BTRFS_CHUNK_ITEM_KEY);
	btrfs_set_stack_disk_key_offset(&key, b->sys.logical);
	memcpy(array, &key, sizeof(key));
	fill_chunk_item(b, &b->sys,
			(struct btrfs_chunk *)(array + sizeof(key)));
	btrfs_set_super_sys_array_size(sb, (u32)sizeof(key) + csize);
}

/* Temporary-magic primary superblocks, each with its device's item. */
static int write_boot_supers(const struct mkfs_boot *b)
{
	struct btrfs_super_block *sb = malloc(sizeof(*sb));
	int ret = 0;

	if (!sb)
		return -ENOMEM;
	if (chunk_item_size(&b->sys) + sizeof(struct btrfs_disk_key) >
	    BTRFS_SYSTEM_CHUNK_ARRAY_SIZE) {
		free(sb);
		return -EOVERFLOW;
	}
	/* The blocks must be on the devices before anything points to them. */
	for (int i = 0; !ret && i < b->cfg->nr_devices; i++)
		ret = btrfs_io_flush(b->cfg->devices[i].io);
	for (int i = 0; !ret && i < b->cfg->nr_devices; i++) {
		struct btrfs_io *io = b->cfg->devices[i].io;

		fill_super(b, sb);
		fill_dev_item(b, i, &sb->dev_item);
		ret = btrfs_csum_data(b->cfg->csum_type,
				      (u8 *)sb + BTRFS_CSUM_SIZE,
				      BTRFS_SUPER_INFO_SIZE - BTRFS_CSUM_SIZE,
				      sb->csum);
		if (ret)
			break;
		ret = btrfs_io_pwrite(io, sb, BTRFS_SUPER_INFO_SIZE,
				      BTRFS_SUPER_INFO_OFFSET);
		if (!ret)
			ret = btrfs_io_flush(io);
	}
	free(sb);
	return ret;
}

/* Feature flags the layout implies, on top of what the frontend asked. */
static void boot_features(struct mkfs_boot *b)
{
	const struct btrfs_mkfs_config *cfg = b->cfg;
	u64 profiles = cfg->data_profile | cfg->metadata_profile;

	b->incompat = cfg->incompat_flags |
		      BTRFS_FEATURE_INCOMPAT_MIXED_BACKREF;
	if (cfg->mixed)
		b->incompat |= BTRFS_FEATURE_INCOMPAT_MIXED_GROUPS;
	if (profiles & (BTRFS_BLOCK_GROUP_RAID1C3 | BTRFS_BLOCK_GROUP_RAID1C4))
		b->incompat |= BTRFS_FEATURE_INCOMPAT_RAID1C34;
	if (profiles & BTRFS_BLOCK_GROUP_RAID56_MASK)
		b->incompat |= BTRFS_FEATURE_INCOMPAT_RAID56;
	/* The engine sets these when it has made the trees. */
	b->compat_ro = cfg->compat_ro_flags &
		       ~(BTRFS_FEATURE_COMPAT_RO_FREE_SPACE_TREE |
			 BTRFS_FEATURE_COMPAT_RO_FREE_SPACE_TREE_VALID |
			 BTRFS_FEATURE_COMPAT_RO_BLOCK_GROUP_TREE);
}

int mkfs_bootstrap(const struct btrfs_mkfs_config *cfg, const char **what)
{
	struct mkfs_boot b = { .cfg = cfg };
	int ret = 0;

	b.space = calloc((size_t)cfg->nr_devices, sizeof(*b.space));
	b.devs = calloc((size_t)cfg->nr_devices, sizeof(*b.devs));
	if (!b.space || !b.devs)
		ret = -ENOMEM;
	uuid_generate(b.chunk_uuid);
	for (int i = 0; i < cfg->nr_devices; i++)
		b.total_bytes += cfg->devices[i].size;
	boot_features(&b);
	*what = "wiping the devices";
	/*
	 * An old filesystem must lose its superblocks, durably, before the
	 * wipe and the new blocks overwrite its trees: a power cut between
	 * the two could otherwise leave its magic pointing to our blocks or
	 * to zeros.  Only then may anything else reach the devices.
	 */
	for (int i = 0; !ret && i < cfg->nr_devices; i++)
		ret = kill_old_supers(&cfg->devices[i]);
	for (int i = 0; !ret && i < cfg->nr_devices; i++)
		ret = btrfs_io_flush(cfg->devices[i].io);
	for (int i = 0; !ret && i < cfg->nr_devices; i++)
		ret = wipe_device(&cfg->devices[i]);
	if (!ret) {
		*what = "planning the first chunks";
		ret = plan_boot_chunks(&b);
	}
	if (!ret)
		ret = place_blocks(&b);
	if (!ret) {
		*what = "writing the first tree blocks";
		ret = make_leaves(&b);
	}
	if (!ret) {
		*what = "writing temporary superblocks";
		ret = write_boot_supers(&b);
	}
	free(b.space);
	free(b.devs);
	return ret;
}
