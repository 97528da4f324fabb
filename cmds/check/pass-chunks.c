// SPDX-License-Identifier: GPL-2.0
/*
 * btrfs check pass 2: chunks, devices and block groups.
 *
 * Collects the chunk items and dev items of the chunk tree and the block
 * group items (state per chunk: a few hundred bytes per GiB of filesystem),
 * then streams the dev extents and the extent items against them:
 * - every chunk has a block group of the same range and flags and back;
 * - every chunk stripe has its dev extent, every dev extent its stripe;
 * - dev extents do not overlap and lie inside their device;
 * - a device's bytes_used is the sum of its dev extents, the superblock's
 *   total_bytes and num_devices are the sums over the devices;
 * - the system chunks of the superblock's array are in the chunk tree;
 * - every chunk item (tree and array) passes what the kernel validates:
 *   type bits, profile, stripe_len, sector_size, stripe counts, stripe
 *   devices; a chunk item the engine did not map at open is reported;
 * - a block group's used bytes are the extent items inside it.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uuid/uuid.h>

#include "common/array.h"
#include "cmds/check/check.h"
#include "kernel-shared/disk-io.h"
#include "kernel-shared/volumes.h"

struct stripe_rec {
	u64 devid;
	u64 physical;
	bool seen;		/* its dev extent was found */
};

struct chunk_rec {
	u64 start;
	u64 length;
	u64 type;
	u64 stripe_length;	/* bytes of each stripe on its device */
	int num_stripes;
	bool has_bg;
	struct stripe_rec *stripes;
};

struct bg_rec {
	u64 start;
	u64 length;
	u64 flags;
	u64 used;		/* as recorded */
	u64 counted;		/* extent items found inside */
	bool has_chunk;
};

struct dev_rec {
	u64 devid;
	u64 total_bytes;
	u64 bytes_used;
	u64 counted;		/* sum of its dev extents */
	u64 last_end;		/* end of its previous dev extent */
	bool ours;		/* of this filesystem, not a seed */
	u8 uuid[BTRFS_UUID_SIZE];
};

struct chunks_state {
	struct chunk_rec *chunks;
	size_t nr_chunks, cap_chunks;
	struct bg_rec *bgs;
	size_t nr_bgs, cap_bgs;
	struct dev_rec *devs;
	size_t nr_devs, cap_devs;
	u64 cur_devid;		/* dev extent streaming */
	u64 cur_end;
};

/* Grow *@arr (of @size-byte elements) to hold one more; NULL on ENOMEM. */
static void *grow(void **arr, size_t *nr, size_t *cap, size_t size)
{
	if (array_reserve_raw(arr, cap, *nr + 1, size, 64))
		return NULL;
	memset((char *)*arr + *nr * size, 0, size);
	return (char *)*arr + (*nr)++ * size;
}

/* Bytes of each stripe of a chunk of @length with @type and @n stripes. */
static u64 stripe_length(u64 length, u64 type, int n, int sub)
{
	int data = n;

	if (type & BTRFS_BLOCK_GROUP_RAID0)
		data = n;
	else if (type & BTRFS_BLOCK_GROUP_RAID10)
		data = sub > 0 ? n / sub : n;
	else if (type & BTRFS_BLOCK_GROUP_RAID5)
		data = n - 1;
	else if (type & BTRFS_BLOCK_GROUP_RAID6)
		data = n - 2;
	else
		data = 1;
	return data > 0 ? length / (u64)data : length;
}

static struct chunk_rec *find_chunk(struct chunks_state *st, u64 start)
{
	size_t lo = 0, hi = st->nr_chunks;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (st->chunks[mid].start == start)
			return &st->chunks[mid];
		if (st->chunks[mid].start < start)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* The block group containing @bytenr, or NULL (bgs sorted, disjoint). */
static struct bg_rec *find_bg(struct chunks_state *st, u64 bytenr)
{
	size_t lo = 0, hi = st->nr_bgs;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		struct bg_rec *bg = &st->bgs[mid];

		if (bytenr < bg->start)
			hi = mid;
		else if (bytenr - bg->start >= bg->length)
			lo = mid + 1;
		else
			return bg;
	}
	return NULL;
}

static struct dev_rec *find_dev(struct chunks_state *st, u64 devid)
{
	size_t i;

	for (i = 0; i < st->nr_devs; i++)
		if (st->devs[i].devid == devid)
			return &st->devs[i];
	return NULL;
}

/* ------------------------------------------------------------------ */
/* Collect: the chunk tree. */

static void chunk_item_bad(struct check_ctx *ctx, const struct btrfs_key *key,
			   const char *why)
{
	struct check_finding f = {
		.code = CHECK_CHUNK_ITEM,
		.root = BTRFS_CHUNK_TREE_OBJECTID,
		.key = *key,
		.bytenr = key->offset,
	};

	check_report(ctx, &f, "chunk item: %s", why);
}

/*
 * What the kernel validates in a chunk item (tree checker and volume code)
 * and refuses to mount over, checked field by field on a copy of the item
 * (from the chunk tree, @sys false, or the superblock's sys_chunk_array).
 * Each problem is one finding naming the field, its value and what was
 * expected.  Structure (item size, stripe count against it, alignment) is
 * checked by the callers before.
 */
struct chunk_where {
	struct check_ctx *ctx;
	const struct btrfs_key *key;
	bool sys;
};

static void chunk_bad(const struct chunk_where *w, bool values, u64 expected,
		      u64 found, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static void chunk_bad(const struct chunk_where *w, bool values, u64 expected,
		      u64 found, const char *fmt, ...)
{
	struct check_finding f = {
		.code = CHECK_CHUNK_ITEM,
		.root = w->sys ? 0 : BTRFS_CHUNK_TREE_OBJECTID,
		.key = *w->key,
		.bytenr = w->key->offset,
		.has_values = values,
		.expected = expected,
		.found = found,
	};
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	check_report(w->ctx, &f, "%s: %s",
		     w->sys ? "superblock sys_chunk_array chunk" : "chunk item",
		     msg);
}

/* Stripe counts of a profile: exact (min == max) or a minimum (max 0). */
static void profile_stripes(u64 profile, int *min, int *max)
{
	switch (profile) {
	case BTRFS_BLOCK_GROUP_RAID0: *min = 1; *max = 0; return;
	case BTRFS_BLOCK_GROUP_DUP:
	case BTRFS_BLOCK_GROUP_RAID1: *min = *max = 2; return;
	case BTRFS_BLOCK_GROUP_RAID1C3: *min = *max = 3; return;
	case BTRFS_BLOCK_GROUP_RAID1C4: *min = *max = 4; return;
	case BTRFS_BLOCK_GROUP_RAID10: *min = 2; *max = 0; return;
	case BTRFS_BLOCK_GROUP_RAID5: *min = 2; *max = 0; return;
	case BTRFS_BLOCK_GROUP_RAID6: *min = 3; *max = 0; return;
	default: *min = *max = 1; return;	/* single */
	}
}

static void validate_chunk_type(const struct chunk_where *w, u64 type)
{
	const u64 known = BTRFS_BLOCK_GROUP_TYPE_MASK |
			  BTRFS_BLOCK_GROUP_PROFILE_MASK;
	u64 kind = type & BTRFS_BLOCK_GROUP_TYPE_MASK;
	u64 profile = type & BTRFS_BLOCK_GROUP_PROFILE_MASK;
	bool mixed = btrfs_super_incompat_flags(&w->ctx->fs_info->super_copy) &
		     BTRFS_FEATURE_INCOMPAT_MIXED_GROUPS;

	if (type & ~known)
		chunk_bad(w, false, 0, 0,
			  "type 0x%llx has unknown bits 0x%llx",
			  (unsigned long long)type,
			  (unsigned long long)(type & ~known));
	if (!kind)
		chunk_bad(w, false, 0, 0,
			  "type 0x%llx has none of the DATA, METADATA, SYSTEM bits",
			  (unsigned long long)type);
	if (profile & (profile - 1))
		chunk_bad(w, false, 0, 0,
			  "type 0x%llx has more than one profile bit",
			  (unsigned long long)type);
	if ((kind & BTRFS_BLOCK_GROUP_SYSTEM) &&
	    (kind & (BTRFS_BLOCK_GROUP_DATA | BTRFS_BLOCK_GROUP_METADATA)))
		chunk_bad(w, false, 0, 0,
			  "type 0x%llx has SYSTEM with DATA or METADATA",
			  (unsigned long long)type);
	if (!mixed && (kind & BTRFS_BLOCK_GROUP_DATA) &&
	    (kind & BTRFS_BLOCK_GROUP_METADATA))
		chunk_bad(w, false, 0, 0,
			  "type 0x%llx has DATA with METADATA without the mixed-groups feature",
			  (unsigned long long)type);
	if (w->sys && !(kind & BTRFS_BLOCK_GROUP_SYSTEM))
		chunk_bad(w, false, 0, 0,
			  "type 0x%llx is not a SYSTEM chunk",
			  (unsigned long long)type);
}

static void validate_chunk_stripes(const struct chunk_where *w, u64 type,
				   int num, int sub)
{
	u64 profile = type & BTRFS_BLOCK_GROUP_PROFILE_MASK;
	const char *name = btrfs_bg_profile_str(profile);
	int min, max;

	if (profile & (profile - 1))
		return;		/* said in validate_chunk_type */
	profile_stripes(profile, &min, &max);
	if (max && num != max)
		chunk_bad(w, true, (u64)max, (u64)num,
			  "num_stripes %d is wrong for profile %s", num, name);
	else if (num < min)
		chunk_bad(w, true, (u64)min, (u64)num,
			  "num_stripes %d is below the minimum %d of profile %s",
			  num, min, name);
	if (profile == BTRFS_BLOCK_GROUP_RAID10) {
		if (sub != 2)
			chunk_bad(w, true, 2, (u64)sub,
				  "sub_stripes %d is wrong for profile RAID10",
				  sub);
		else if (num % 2)
			chunk_bad(w, true, 0, (u64)(num % 2),
				  "num_stripes %d is not a multiple of sub_stripes 2",
				  num);
	}
}

static struct dev_rec *find_dev(struct chunks_state *st, u64 devid);

/* Each stripe's device (devid and uuid) must have a dev item. */
static void validate_chunk_devs(const struct chunk_where *w,
				struct chunks_state *st,
				const struct btrfs_chunk *c, int num)
{
	int i;

	for (i = 0; i < num; i++) {
		const struct btrfs_stripe *s = &(&c->stripe)[i];
		u64 devid = btrfs_stack_stripe_devid(s);
		struct dev_rec *d = find_dev(st, devid);
		char uuid[37];

		uuid_unparse(s->dev_uuid, uuid);
		if (!d)
			chunk_bad(w, false, 0, 0,
				  "stripe %d devid %llu matches no dev item",
				  i, (unsigned long long)devid);
		else if (memcmp(d->uuid, s->dev_uuid, BTRFS_UUID_SIZE))
			chunk_bad(w, false, 0, 0,
				  "stripe %d device uuid %s is not the uuid of device %llu",
				  i, uuid, (unsigned long long)devid);
	}
}

/*
 * @c: a whole chunk item (num_stripes already found consistent with its
 * size).  Dev items must have been collected.
 */
static void validate_chunk_fields(struct check_ctx *ctx,
				  struct chunks_state *st,
				  const struct btrfs_key *key, bool sys,
				  const struct btrfs_chunk *c)
{
	struct chunk_where w = { ctx, key, sys };
	u32 sectorsize = ctx->fs_info->sectorsize;
	u64 type = btrfs_stack_chunk_type(c);
	u64 stripe_len = btrfs_stack_chunk_stripe_len(c);
	u32 sector_size = btrfs_stack_chunk_sector_size(c);
	int num = btrfs_stack_chunk_num_stripes(c);

	if (key->objectid != BTRFS_FIRST_CHUNK_TREE_OBJECTID)
		chunk_bad(&w, true, BTRFS_FIRST_CHUNK_TREE_OBJECTID,
			  key->objectid, "key objectid %llu is wrong",
			  (unsigned long long)key->objectid);
	validate_chunk_type(&w, type);
	if (stripe_len != BTRFS_STRIPE_LEN)
		chunk_bad(&w, true, BTRFS_STRIPE_LEN, stripe_len,
			  "stripe_len %llu is not %u",
			  (unsigned long long)stripe_len, BTRFS_STRIPE_LEN);
	if (sector_size != sectorsize)
		chunk_bad(&w, true, sectorsize, sector_size,
			  "sector_size %u is not the filesystem's %u",
			  sector_size, sectorsize);
	validate_chunk_stripes(&w, type, num,
			       btrfs_stack_chunk_sub_stripes(c));
	validate_chunk_devs(&w, st, c, num);
}

/*
 * A chunk item the engine did not map at open (a partial open drops what
 * it cannot use): its range cannot be read, whatever the reason.
 */
static void check_chunk_mapped(struct check_ctx *ctx,
			       const struct btrfs_key *key, u64 length)
{
	const struct map_lookup *map = btrfs_find_chunk_map(ctx->fs_info,
							    key->offset);
	struct chunk_where w = { ctx, key, false };

	if (!map || map->start != key->offset || map->length != length)
		chunk_bad(&w, false, 0, 0,
			  "not mapped at open: its range [%llu, %llu) cannot be read",
			  (unsigned long long)key->offset,
			  (unsigned long long)(key->offset + length));
}

static int add_chunk(struct check_ctx *ctx, struct chunks_state *st,
		     struct extent_buffer *eb, int slot,
		     const struct btrfs_key *key)
{
	struct btrfs_chunk *c = btrfs_item_ptr(eb, slot, struct btrfs_chunk);
	u32 size = btrfs_item_size(eb, slot);
	struct chunk_rec *rec;
	struct btrfs_chunk *copy;
	int n, i;

	if (size < btrfs_chunk_item_size(1)) {
		chunk_item_bad(ctx, key, "item too small");
		return 0;
	}
	n = btrfs_chunk_num_stripes(eb, c);
	if (n == 0 || btrfs_chunk_item_size(n) != size) {
		chunk_item_bad(ctx, key, "stripe count does not match item size");
		return 0;
	}
	if (btrfs_chunk_length(eb, c) == 0 ||
	    !IS_ALIGNED(btrfs_chunk_length(eb, c), ctx->fs_info->sectorsize) ||
	    !IS_ALIGNED(key->offset, ctx->fs_info->sectorsize)) {
		chunk_item_bad(ctx, key, "start or length not aligned");
		return 0;
	}
	/* chunk items come in logical order: compare with the previous one */
	if (st->nr_chunks) {
		const struct chunk_rec *prev = &st->chunks[st->nr_chunks - 1];
		struct chunk_where w = { ctx, key, false };

		if (key->offset - prev->start < prev->length)
			chunk_bad(&w, true, prev->start + prev->length,
				  key->offset,
				  "overlaps the chunk at %llu (length %llu)",
				  (unsigned long long)prev->start,
				  (unsigned long long)prev->length);
	}
	rec = grow((void **)&st->chunks, &st->nr_chunks, &st->cap_chunks,
		   sizeof(*rec));
	if (!rec)
		return -ENOMEM;
	rec->stripes = calloc((size_t)n, sizeof(*rec->stripes));
	if (!rec->stripes) {
		st->nr_chunks--;
		return -ENOMEM;
	}
	rec->start = key->offset;
	rec->length = btrfs_chunk_length(eb, c);
	rec->type = btrfs_chunk_type(eb, c);
	rec->num_stripes = n;
	rec->stripe_length = stripe_length(rec->length, rec->type, n,
					   btrfs_chunk_sub_stripes(eb, c));
	for (i = 0; i < n; i++) {
		struct btrfs_stripe *stripe = &(&c->stripe)[i];

		rec->stripes[i].devid = btrfs_stripe_devid(eb, stripe);
		rec->stripes[i].physical = btrfs_stripe_offset(eb, stripe);
	}
	copy = malloc(size);
	if (!copy)
		return -ENOMEM;
	read_extent_buffer(eb, copy, btrfs_item_ptr_offset(eb, slot), size);
	validate_chunk_fields(ctx, st, key, false, copy);
	free(copy);
	check_chunk_mapped(ctx, key, rec->length);
	return 0;
}

/*
 * What the kernel checks in a dev item: its devid is the key offset, it
 * uses no more than it has, and the fsid is the filesystem's metadata
 * uuid unless the device is another filesystem's (a seed, never among
 * the devices opened: a device opened under this dev item is ours).
 */
static void check_dev_item_fields(struct check_ctx *ctx,
				  struct extent_buffer *eb, int slot,
				  const struct btrfs_key *key,
				  struct btrfs_dev_item *d)
{
	struct btrfs_fs_info *fs_info = ctx->fs_info;
	struct check_finding f = {
		.code = CHECK_DEV_SUPER_ITEM,
		.root = BTRFS_CHUNK_TREE_OBJECTID,
		.key = *key,
	};
	u64 devid = btrfs_device_id(eb, d);
	u64 total = btrfs_device_total_bytes(eb, d);
	u64 used = btrfs_device_bytes_used(eb, d);
	unsigned long off = btrfs_item_ptr_offset(eb, slot);
	u8 fsid[BTRFS_FSID_SIZE], uuid[BTRFS_UUID_SIZE];
	char have[37], want[37];

	read_extent_buffer(eb, fsid, off + offsetof(struct btrfs_dev_item, fsid),
			   BTRFS_FSID_SIZE);
	read_extent_buffer(eb, uuid, off + offsetof(struct btrfs_dev_item, uuid),
			   BTRFS_UUID_SIZE);
	if (key->objectid != BTRFS_DEV_ITEMS_OBJECTID) {
		f.has_values = true;
		f.expected = BTRFS_DEV_ITEMS_OBJECTID;
		f.found = key->objectid;
		check_report(ctx, &f, "dev item key objectid %llu is wrong",
			     (unsigned long long)key->objectid);
	}
	if (devid != key->offset) {
		f.has_values = true;
		f.expected = key->offset;
		f.found = devid;
		check_report(ctx, &f,
			     "dev item devid %llu differs from its key offset %llu",
			     (unsigned long long)devid,
			     (unsigned long long)key->offset);
	}
	if (used > total) {
		f.has_values = true;
		f.expected = total;
		f.found = used;
		check_report(ctx, &f,
			     "dev item bytes_used %llu exceeds its total_bytes %llu",
			     (unsigned long long)used,
			     (unsigned long long)total);
	}
	if (memcmp(fsid, fs_info->metadata_uuid, BTRFS_FSID_SIZE) &&
	    btrfs_find_device(fs_info->fs_devices, devid, uuid)) {
		f.has_values = false;
		uuid_unparse(fsid, have);
		uuid_unparse(fs_info->metadata_uuid, want);
		check_report(ctx, &f,
			     "dev item fsid %s is not the filesystem's metadata uuid %s",
			     have, want);
	}
}

static int add_dev(struct check_ctx *ctx, struct chunks_state *st,
		   struct extent_buffer *eb, int slot,
		   const struct btrfs_key *key)
{
	struct btrfs_dev_item *d = btrfs_item_ptr(eb, slot,
						  struct btrfs_dev_item);
	struct dev_rec *rec;

	if (btrfs_item_size(eb, slot) < sizeof(*d))
		return 0;
	rec = grow((void **)&st->devs, &st->nr_devs, &st->cap_devs,
		   sizeof(*rec));
	if (!rec)
		return -ENOMEM;
	rec->devid = btrfs_device_id(eb, d);
	check_dev_item_fields(ctx, eb, slot, key, d);
	rec->total_bytes = btrfs_device_total_bytes(eb, d);
	rec->bytes_used = btrfs_device_bytes_used(eb, d);
	rec->ours = memcmp(d->fsid, ctx->fs_info->metadata_uuid,
			   BTRFS_FSID_SIZE) == 0;
	read_extent_buffer(eb, rec->uuid,
			   btrfs_item_ptr_offset(eb, slot) +
				   offsetof(struct btrfs_dev_item, uuid),
			   BTRFS_UUID_SIZE);
	return 0;
}

static int collect_chunk_tree(struct check_ctx *ctx, struct extent_buffer *eb,
			      int slot, const struct btrfs_key *key, void *data)
{
	if (key->type == BTRFS_CHUNK_ITEM_KEY)
		return add_chunk(ctx, data, eb, slot, key);
	if (key->type == BTRFS_DEV_ITEM_KEY)
		return add_dev(ctx, data, eb, slot, key);
	return 0;
}

static int collect_bgs(struct check_ctx *ctx, struct extent_buffer *eb,
		       int slot, const struct btrfs_key *key, void *data)
{
	struct chunks_state *st = data;
	struct btrfs_block_group_item *bi;
	struct bg_rec *rec;

	(void)ctx;
	if (key->type != BTRFS_BLOCK_GROUP_ITEM_KEY)
		return 0;
	if (btrfs_item_size(eb, slot) < sizeof(*bi))
		return 0;
	bi = btrfs_item_ptr(eb, slot, struct btrfs_block_group_item);
	rec = grow((void **)&st->bgs, &st->nr_bgs, &st->cap_bgs, sizeof(*rec));
	if (!rec)
		return -ENOMEM;
	rec->start = key->objectid;
	rec->length = key->offset;
	rec->flags = btrfs_block_group_flags(eb, bi);
	rec->used = btrfs_block_group_used(eb, bi);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Chunks against block groups. */

static void bg_finding(struct check_ctx *ctx, enum check_code code,
		       u64 start, u64 length, const char *msg)
{
	struct btrfs_root *bg_root = check_block_group_root(ctx->fs_info);
	struct check_finding f = {
		.code = code,
		.bytenr = start,
		.key = { start, BTRFS_BLOCK_GROUP_ITEM_KEY, length },
		.root = bg_root ? bg_root->root_key.objectid :
				  BTRFS_EXTENT_TREE_OBJECTID,
	};

	check_report(ctx, &f, "%s", msg);
}

static void match_chunks_bgs(struct check_ctx *ctx, struct chunks_state *st)
{
	size_t i;

	for (i = 0; i < st->nr_bgs; i++) {
		struct bg_rec *bg = &st->bgs[i];
		struct chunk_rec *c = find_chunk(st, bg->start);

		if (!c) {
			bg_finding(ctx, CHECK_BG_NO_CHUNK, bg->start,
				   bg->length, "block group without chunk");
			continue;
		}
		c->has_bg = true;
		bg->has_chunk = true;
		if (c->length != bg->length ||
		    (c->type & (BTRFS_BLOCK_GROUP_TYPE_MASK |
				BTRFS_BLOCK_GROUP_PROFILE_MASK)) !=
			    (bg->flags & (BTRFS_BLOCK_GROUP_TYPE_MASK |
					  BTRFS_BLOCK_GROUP_PROFILE_MASK)))
			bg_finding(ctx, CHECK_BG_MISMATCH, bg->start,
				   bg->length,
				   "block group length or flags differ from its chunk");
	}
	for (i = 0; i < st->nr_chunks; i++) {
		struct chunk_rec *c = &st->chunks[i];
		struct check_finding f = {
			.code = CHECK_CHUNK_NO_BG,
			.root = BTRFS_CHUNK_TREE_OBJECTID,
			.bytenr = c->start,
			.key = { BTRFS_FIRST_CHUNK_TREE_OBJECTID,
				 BTRFS_CHUNK_ITEM_KEY, c->start },
		};

		if (!c->has_bg)
			check_report(ctx, &f, "chunk without block group item");
	}
}

/* ------------------------------------------------------------------ */
/* Dev extents, streamed in (devid, physical) order. */

static void dev_extent_finding(struct check_ctx *ctx, enum check_code code,
			       const struct btrfs_key *key, bool values,
			       u64 expected, u64 found, const char *msg)
{
	struct check_finding f = {
		.code = code,
		.root = BTRFS_DEV_TREE_OBJECTID,
		.key = *key,
		.has_values = values,
		.expected = expected,
		.found = found,
	};

	check_report(ctx, &f, "dev extent: %s", msg);
}

/* Mark the chunk stripe this dev extent backs; false if there is none. */
static bool match_stripe(struct chunks_state *st, const struct btrfs_key *key,
			 u64 chunk_offset, u64 length)
{
	struct chunk_rec *c = find_chunk(st, chunk_offset);
	int i;

	if (!c || c->stripe_length != length)
		return false;
	for (i = 0; i < c->num_stripes; i++) {
		if (c->stripes[i].devid == key->objectid &&
		    c->stripes[i].physical == key->offset &&
		    !c->stripes[i].seen) {
			c->stripes[i].seen = true;
			return true;
		}
	}
	return false;
}

static int check_dev_extent(struct check_ctx *ctx, struct extent_buffer *eb,
			    int slot, const struct btrfs_key *key, void *data)
{
	struct chunks_state *st = data;
	struct btrfs_dev_extent *de;
	struct dev_rec *dev;
	u64 len, chunk_offset;

	if (key->type != BTRFS_DEV_EXTENT_KEY)
		return 0;
	if (btrfs_item_size(eb, slot) < sizeof(*de))
		return 0;
	de = btrfs_item_ptr(eb, slot, struct btrfs_dev_extent);
	len = btrfs_dev_extent_length(eb, de);
	chunk_offset = btrfs_dev_extent_chunk_offset(eb, de);
	if (key->objectid != st->cur_devid) {
		st->cur_devid = key->objectid;
		st->cur_end = 0;
	}
	if (key->offset < st->cur_end)
		dev_extent_finding(ctx, CHECK_DEV_EXTENT_OVERLAP, key, true,
				   st->cur_end, key->offset,
				   "overlaps the previous dev extent");
	if (key->offset + len > st->cur_end)
		st->cur_end = key->offset + len;
	dev = find_dev(st, key->objectid);
	if (dev) {
		dev->counted += len;
		if (key->offset + len > dev->total_bytes ||
		    key->offset + len < key->offset)
			dev_extent_finding(ctx, CHECK_DEV_EXTENT_BEYOND, key,
					   true, dev->total_bytes,
					   key->offset + len,
					   "ends beyond its device");
	} else {
		dev_extent_finding(ctx, CHECK_DEV_EXTENT_BEYOND, key, false, 0,
				   0, "on a device without dev item");
	}
	if (!match_stripe(st, key, chunk_offset, len))
		dev_extent_finding(ctx, CHECK_DEV_EXTENT_NO_CHUNK, key, false,
				   0, 0, "no chunk stripe matches it");
	return 0;
}

static void check_stripes_and_devices(struct check_ctx *ctx,
				      struct chunks_state *st)
{
	const struct btrfs_super_block *sb = &ctx->fs_info->super_copy;
	struct check_finding f = { 0 };
	u64 total = 0, nr = 0;
	size_t i;
	int s;

	for (i = 0; i < st->nr_chunks; i++) {
		struct chunk_rec *c = &st->chunks[i];

		for (s = 0; s < c->num_stripes; s++) {
			if (c->stripes[s].seen)
				continue;
			memset(&f, 0, sizeof(f));
			f.code = CHECK_CHUNK_NO_DEV_EXTENT;
			f.root = BTRFS_DEV_TREE_OBJECTID;
			f.bytenr = c->start;
			f.key.objectid = c->stripes[s].devid;
			f.key.type = BTRFS_DEV_EXTENT_KEY;
			f.key.offset = c->stripes[s].physical;
			check_report(ctx, &f,
				     "chunk stripe %d without its dev extent", s);
		}
	}
	for (i = 0; i < st->nr_devs; i++) {
		struct dev_rec *d = &st->devs[i];

		if (d->counted != d->bytes_used) {
			memset(&f, 0, sizeof(f));
			f.code = CHECK_DEV_BYTES_USED;
			f.root = BTRFS_CHUNK_TREE_OBJECTID;
			f.key.objectid = BTRFS_DEV_ITEMS_OBJECTID;
			f.key.type = BTRFS_DEV_ITEM_KEY;
			f.key.offset = d->devid;
			f.has_values = true;
			f.expected = d->counted;
			f.found = d->bytes_used;
			check_report(ctx, &f,
				     "device %llu bytes_used differs from its dev extents",
				     (unsigned long long)d->devid);
		}
		if (d->ours) {
			total += d->total_bytes;
			nr++;
		}
	}
	memset(&f, 0, sizeof(f));
	f.code = CHECK_DEV_TOTALS;
	f.has_values = true;
	/* the kernel's rule: the superblock may not claim less than them */
	if (nr && total > btrfs_super_total_bytes(sb)) {
		f.expected = total;
		f.found = btrfs_super_total_bytes(sb);
		check_report(ctx, &f,
			     "superblock total_bytes smaller than the sum of the devices");
	}
	if (nr && nr != btrfs_super_num_devices(sb)) {
		f.expected = nr;
		f.found = btrfs_super_num_devices(sb);
		check_report(ctx, &f,
			     "superblock num_devices differs from the dev items");
	}
}

/* ------------------------------------------------------------------ */
/* The superblock's system chunk array against the chunk tree. */

static void check_sys_array(struct check_ctx *ctx, struct chunks_state *st)
{
	const struct btrfs_super_block *sb = &ctx->fs_info->super_copy;
	u32 size = btrfs_super_sys_array_size(sb);
	const u8 *p = sb->sys_chunk_array;
	u32 off = 0;

	if (size > BTRFS_SYSTEM_CHUNK_ARRAY_SIZE)
		return;		/* open_ctree refused that already */
	while (off + sizeof(struct btrfs_disk_key) +
		       btrfs_chunk_item_size(1) <= size) {
		const struct btrfs_disk_key *dk = (const void *)(p + off);
		const struct btrfs_chunk *c =
			(const void *)(p + off + sizeof(*dk));
		int n = btrfs_stack_chunk_num_stripes(c);
		struct btrfs_key key;
		struct chunk_rec *rec;

		btrfs_disk_key_to_cpu(&key, dk);
		if (n == 0 || off + sizeof(*dk) + btrfs_chunk_item_size(n) > size)
			return;
		validate_chunk_fields(ctx, st, &key, true, c);
		rec = find_chunk(st, key.offset);
		if (!rec || rec->length != btrfs_stack_chunk_length(c) ||
		    rec->type != btrfs_stack_chunk_type(c) ||
		    rec->num_stripes != n ||
		    rec->stripes[0].physical !=
			    btrfs_stack_stripe_offset(&c->stripe)) {
			struct check_finding f = {
				.code = CHECK_CHUNK_ITEM,
				.root = BTRFS_CHUNK_TREE_OBJECTID,
				.key = key,
				.bytenr = key.offset,
			};

			check_report(ctx, &f,
				     "system chunk of the superblock differs from the chunk tree");
		}
		off += (u32)(sizeof(*dk) + btrfs_chunk_item_size(n));
	}
}

/* ------------------------------------------------------------------ */
/* Block group used bytes against the extent items. */

static int count_extent(struct check_ctx *ctx, struct extent_buffer *eb,
			int slot, const struct btrfs_key *key, void *data)
{
	struct bg_rec *bg;
	u64 len;

	(void)eb;
	(void)slot;
	if (key->type == BTRFS_EXTENT_ITEM_KEY)
		len = key->offset;
	else if (key->type == BTRFS_METADATA_ITEM_KEY)
		len = ctx->fs_info->nodesize;
	else
		return 0;
	bg = find_bg(data, key->objectid);
	if (bg)
		bg->counted += len;
	return 0;
}

/*
 * The superblock's bytes_used is the sum of the extent items in block
 * groups; that sum is also the "found N bytes used" of the summary.
 */
static void check_super_used(struct check_ctx *ctx, struct chunks_state *st)
{
	const struct btrfs_super_block *sb = &ctx->fs_info->super_copy;
	struct check_finding f = {
		.code = CHECK_SUPER_FIELD,
		.bytenr = ctx->fs_info->super_bytenr,
		.has_values = true,
	};
	u64 total = 0;
	size_t i;

	for (i = 0; i < st->nr_bgs; i++)
		total += st->bgs[i].counted;
	ctx->stats.bytes_used = total;
	if (total != btrfs_super_bytes_used(sb)) {
		f.expected = total;
		f.found = btrfs_super_bytes_used(sb);
		check_report(ctx, &f,
			     "superblock bytes_used differs from the extent items");
	}
}

static void check_bg_used(struct check_ctx *ctx, struct chunks_state *st)
{
	struct btrfs_root *extent_root = ctx->fs_info->extent_root;
	struct btrfs_root *bg_root = check_block_group_root(ctx->fs_info);
	size_t i;
	int ret;

	ret = check_for_each_item(ctx, extent_root, NULL, count_extent, st);
	if (ret) {
		check_tree_unreadable(ctx, BTRFS_EXTENT_TREE_OBJECTID, ret,
				      "block group used bytes not verified");
		return;
	}
	check_super_used(ctx, st);
	for (i = 0; i < st->nr_bgs; i++) {
		struct bg_rec *bg = &st->bgs[i];
		struct check_finding f = {
			.code = CHECK_BG_USED,
			.bytenr = bg->start,
			.key = { bg->start, BTRFS_BLOCK_GROUP_ITEM_KEY,
				 bg->length },
			.has_values = true,
			.expected = bg->counted,
			.found = bg->used,
		};

		f.root = bg_root->root_key.objectid;
		if (bg->counted != bg->used)
			check_report(ctx, &f,
				     "block group used bytes differ from its extent items");
	}
}

/* ------------------------------------------------------------------ */

static void free_state(struct chunks_state *st)
{
	size_t i;

	for (i = 0; i < st->nr_chunks; i++)
		free(st->chunks[i].stripes);
	free(st->chunks);
	free(st->bgs);
	free(st->devs);
}

static int collect(struct check_ctx *ctx, struct chunks_state *st)
{
	struct btrfs_fs_info *fs_info = ctx->fs_info;
	struct btrfs_root *bg_root = check_block_group_root(fs_info);
	struct btrfs_key start = { 0 };
	int ret;

	ret = check_for_each_item(ctx, fs_info->chunk_root, NULL,
				  collect_chunk_tree, st);
	if (ret) {
		check_tree_unreadable(ctx, BTRFS_CHUNK_TREE_OBJECTID, ret,
				      "chunk tree");
		return ret;
	}
	if (!bg_root) {
		check_fatal(ctx, "no %s tree: block groups not checked",
			    bg_root == fs_info->extent_root ? "extent" :
							      "block group");
		return -ENOENT;
	}
	ret = check_for_each_item(ctx, bg_root, &start, collect_bgs, st);
	if (ret) {
		check_tree_unreadable(ctx, bg_root->root_key.objectid, ret,
				      "block group items");
		return ret;
	}
	return 0;
}

void check_chunk_items_only(struct check_ctx *ctx)
{
	struct chunks_state st = { 0 };
	int ret;

	ret = check_for_each_item(ctx, ctx->fs_info->chunk_root, NULL,
				  collect_chunk_tree, &st);
	if (ret == -ENOMEM)
		check_fatal(ctx, "out of memory collecting chunks");
	else if (ret)
		check_tree_unreadable(ctx, BTRFS_CHUNK_TREE_OBJECTID, ret,
				      "chunk tree");
	check_sys_array(ctx, &st);
	free_state(&st);
}

int check_pass_chunks(struct check_ctx *ctx)
{
	struct chunks_state st = { 0 };
	int ret;

	check_devices(ctx);
	ret = collect(ctx, &st);
	if (ret == -ENOMEM) {
		check_fatal(ctx, "out of memory collecting chunks");
		goto out;
	}
	check_sys_array(ctx, &st);
	if (ret)
		goto out;
	match_chunks_bgs(ctx, &st);
	if (!ctx->fs_info->dev_root) {
		check_fatal(ctx, "no device tree: dev extents not checked");
	} else {
		ret = check_for_each_item(ctx, ctx->fs_info->dev_root, NULL,
					  check_dev_extent, &st);
		if (ret)
			check_tree_unreadable(ctx, BTRFS_DEV_TREE_OBJECTID, ret,
					      "dev extents");
		else
			check_stripes_and_devices(ctx, &st);
	}
	if (ctx->fs_info->extent_root)
		check_bg_used(ctx, &st);
	else
		check_fatal(ctx, "no extent tree: block group usage not checked");
out:
	free_state(&st);
	return ret;
}
