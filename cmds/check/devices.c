// SPDX-License-Identifier: GPL-2.0
/*
 * btrfs check: the devices under the filesystem.
 *
 * - A device the chunk tree knows but that was neither given nor found is
 *   missing: each one is a finding, the check goes on with the copies on
 *   the devices present, and the exit status is 2 (the check could not
 *   see the whole filesystem).  Chunks without a complete copy left are
 *   counted in one finding; their blocks are then reported unreadable by
 *   the passes that need them.
 * - A device smaller than the total_bytes of its dev item (an image cut
 *   short) is one finding; reads past its end are then not reported one by
 *   one (check_past_device_end).  A device larger than its dev item is
 *   fine (the filesystem was not grown).  The dev_item copy in each
 *   device's superblock must equal the dev item of the chunk tree.
 * - A tree block copy that failed verification while another copy was
 *   good is damage the reads alone hide: the engine tells us through
 *   open_ctree_args.on_bad_copy, and each bad copy is one finding naming
 *   the block, the copy, its device and physical offset, and why.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <uuid/uuid.h>

#include "common/array.h"
#include "cmds/check/check.h"
#include "cmds/check/u64-map.h"
#include "kernel-shared/disk-io.h"
#include "kernel-shared/volumes.h"

/* ------------------------------------------------------------------ */
/* Short devices. */

static const struct btrfs_device *find_dev(struct check_ctx *ctx, u64 devid)
{
	const struct btrfs_device *dev;

	if (!ctx->fs_info)
		return NULL;
	for (dev = ctx->fs_info->fs_devices->devices; dev; dev = dev->next)
		if (dev->devid == devid)
			return dev;
	return NULL;
}

bool check_past_device_end(struct check_ctx *ctx, u64 devid, u64 physical,
			   u64 len)
{
	const struct btrfs_device *dev = find_dev(ctx, devid);

	if (!dev || dev->missing || dev->device_size >= dev->total_bytes)
		return false;
	return physical + len > dev->device_size;
}

bool check_logical_past_end(struct check_ctx *ctx, u64 logical, u64 len,
			    int mirror)
{
	struct btrfs_device *dev;
	u64 physical, maplen;

	if (btrfs_map_block(ctx->fs_info, logical, mirror, &dev, &physical,
			    &maplen))
		return false;
	/* a range crossing a stripe end: its first piece decides */
	return check_past_device_end(ctx, dev->devid, physical,
				     min_t(u64, len, maplen));
}

/* ------------------------------------------------------------------ */
/* Bad copies of tree blocks. */

static void copy_reason(char *buf, size_t size, const struct check_bad_copy *c)
{
	const struct btrfs_block_error *e = &c->err;
	int digits = 2 * min_t(int, e->csum_size, 8);

	switch (e->problem) {
	case BLOCK_BAD_CSUM:
		snprintf(buf, size, "checksum mismatch, stored 0x%0*llx computed 0x%0*llx",
			 digits, (unsigned long long)e->wanted, digits,
			 (unsigned long long)e->found);
		break;
	case BLOCK_BAD_BYTENR:
		snprintf(buf, size, "header bytenr %llu is not the block's",
			 (unsigned long long)e->found);
		break;
	case BLOCK_BAD_FSID:
		snprintf(buf, size, "header fsid is not the filesystem's");
		break;
	case BLOCK_BAD_LEVEL:
		snprintf(buf, size, "level %llu, its parent says %llu",
			 (unsigned long long)e->found,
			 (unsigned long long)e->wanted);
		break;
	case BLOCK_BAD_TRANSID:
		snprintf(buf, size, "generation %llu, its parent says %llu",
			 (unsigned long long)e->found,
			 (unsigned long long)e->wanted);
		break;
	case BLOCK_BAD_FIRST_KEY:
		snprintf(buf, size, "first key objectid %llu, its parent says %llu",
			 (unsigned long long)e->found,
			 (unsigned long long)e->wanted);
		break;
	case BLOCK_BAD_OWNER:
		snprintf(buf, size, "owner %llu, its parent says %llu",
			 (unsigned long long)e->found,
			 (unsigned long long)e->wanted);
		break;
	case BLOCK_STRUCTURE:
		snprintf(buf, size, "invalid structure at slot %d",
			 e->checker_slot);
		break;
	default:
		snprintf(buf, size, "%s", btrfs_block_problem_str(e->problem));
	}
}

static void report_bad_copy(struct check_ctx *ctx,
			    const struct check_bad_copy *c)
{
	struct check_finding f = {
		.code = CHECK_BLOCK_BAD_COPY,
		.root = c->owner,
		.bytenr = c->bytenr,
	};
	struct u64_map *told = ctx->told_copies;
	char why[128];
	bool added = false;

	/* a read error past the end of a short device: said in pass 2 */
	if (c->err.problem == BLOCK_IO &&
	    check_past_device_end(ctx, c->devid, c->physical,
				  ctx->fs_info->nodesize))
		return;
	if (!told) {
		told = calloc(1, sizeof(*told));
		if (!told)
			return;
		u64_map_init(told, sizeof(u64));
		ctx->told_copies = told;
	}
	/* bytenr is sector aligned: the low bits hold the mirror */
	if (!u64_map_get(told, c->bytenr | (u64)c->mirror, &added) || !added)
		return;
	copy_reason(why, sizeof(why), c);
	check_report(ctx, &f,
		     "tree block copy %d of %d on device %llu physical %llu is bad (%s), copy %d used",
		     c->mirror, c->copies, (unsigned long long)c->devid,
		     (unsigned long long)c->physical, why, c->good_mirror);
}

/*
 * Read-ahead workers read tree blocks too, so the engine may call us from
 * any thread: copies are only queued here, and reported by the checking
 * thread (check_bad_copies_flush).
 */
static pthread_mutex_t pending_lock = PTHREAD_MUTEX_INITIALIZER;

void check_on_bad_copy(const struct btrfs_bad_copy *bad, void *data)
{
	struct check_ctx *ctx = data;
	struct check_bad_copy c = {
		.bytenr = bad->bytenr,
		.owner = btrfs_header_owner(bad->good),
		.devid = bad->devid,
		.physical = bad->physical,
		.mirror = bad->mirror,
		.good_mirror = bad->good_mirror,
		.copies = bad->copies,
		.err = *bad->err,
	};

	pthread_mutex_lock(&pending_lock);
	if (array_reserve(ctx->pending, ctx->cap_pending, ctx->nr_pending + 1, 8)) {
		pthread_mutex_unlock(&pending_lock);
		return;
	}
	ctx->pending[ctx->nr_pending++] = c;
	pthread_mutex_unlock(&pending_lock);
}

void check_bad_copies_flush(struct check_ctx *ctx)
{
	struct check_bad_copy *list;
	size_t i, nr;

	pthread_mutex_lock(&pending_lock);
	list = ctx->pending;
	nr = ctx->nr_pending;
	ctx->pending = NULL;
	ctx->nr_pending = ctx->cap_pending = 0;
	pthread_mutex_unlock(&pending_lock);
	for (i = 0; i < nr; i++)
		report_bad_copy(ctx, &list[i]);
	free(list);
}

void check_verify_copies(struct check_ctx *ctx, const struct extent_buffer *eb,
			 const struct btrfs_tree_parent_check *chk)
{
	struct btrfs_fs_info *fs_info = ctx->fs_info;
	int copies = btrfs_num_copies(fs_info, eb->start);
	int mirror;

	check_bad_copies_flush(ctx);
	for (mirror = eb->read_mirror + 1; mirror <= copies; mirror++) {
		struct check_bad_copy c = {
			.bytenr = eb->start,
			.owner = btrfs_header_owner(eb),
			.mirror = mirror,
			.good_mirror = eb->read_mirror,
			.copies = copies,
		};
		int ret;

		/*
		 * A copy with the bytes of the verified one is good: only a
		 * copy that differs is read and verified to say what is wrong.
		 */
		if (btrfs_tree_block_copy_same(fs_info, eb, mirror) == 1)
			continue;
		ret = btrfs_verify_tree_block_copy(fs_info, eb->start, mirror,
						   chk, &c.err, &c.devid,
						   &c.physical);
		if (ret == 0 || ret == -ENODEV || ret == -ENOMEM ||
		    ret == -EOPNOTSUPP)
			continue;
		report_bad_copy(ctx, &c);
	}
}

void check_devices_free(struct check_ctx *ctx)
{
	free(ctx->pending);
	ctx->pending = NULL;
	if (ctx->told_copies) {
		u64_map_free(ctx->told_copies);
		free(ctx->told_copies);
		ctx->told_copies = NULL;
	}
}

/* ------------------------------------------------------------------ */
/* Pass 2: the devices. */

static void dev_finding(struct check_finding *f, enum check_code code,
			u64 devid)
{
	memset(f, 0, sizeof(*f));
	f->code = code;
	f->root = BTRFS_CHUNK_TREE_OBJECTID;
	f->key.objectid = BTRFS_DEV_ITEMS_OBJECTID;
	f->key.type = BTRFS_DEV_ITEM_KEY;
	f->key.offset = devid;
}

static void check_missing(struct check_ctx *ctx, const struct btrfs_device *dev)
{
	struct check_finding f;
	char uuid[37];

	dev_finding(&f, CHECK_DEV_MISSING, dev->devid);
	uuid_unparse(dev->uuid, uuid);
	ctx->missing_devices++;
	check_report(ctx, &f, "device %llu is missing (uuid %s)",
		     (unsigned long long)dev->devid, uuid);
}

/* The device's own superblock: its dev_item must be the dev item. */
static void check_dev_super(struct check_ctx *ctx,
			    const struct btrfs_device *dev)
{
	struct btrfs_super_block sb;
	struct check_finding f;
	u64 sb_total;

	if (btrfs_read_super_raw(dev->io, btrfs_sb_offset(0), &sb) ||
	    btrfs_check_super(&sb, btrfs_sb_offset(0), false) != SUPER_OK)
		return;		/* pass 1 warns about damaged copies */
	dev_finding(&f, CHECK_DEV_SUPER_ITEM, dev->devid);
	f.has_values = true;
	if (btrfs_stack_device_id(&sb.dev_item) != dev->devid) {
		f.expected = dev->devid;
		f.found = btrfs_stack_device_id(&sb.dev_item);
		check_report(ctx, &f,
			     "device %llu (%s): its superblock names another devid",
			     (unsigned long long)dev->devid, dev->name);
		return;
	}
	sb_total = btrfs_stack_device_total_bytes(&sb.dev_item);
	if (sb_total != dev->total_bytes) {
		f.expected = dev->total_bytes;
		f.found = sb_total;
		check_report(ctx, &f,
			     "device %llu (%s): superblock dev_item total_bytes %llu differs from the dev item's %llu",
			     (unsigned long long)dev->devid, dev->name,
			     (unsigned long long)sb_total,
			     (unsigned long long)dev->total_bytes);
	}
	if (sb_total > dev->device_size && dev->total_bytes <= dev->device_size) {
		f.code = CHECK_DEV_SIZE;
		f.expected = sb_total;
		f.found = dev->device_size;
		check_report(ctx, &f,
			     "device %llu (%s) size %llu is smaller than total_bytes %llu in its superblock dev_item",
			     (unsigned long long)dev->devid, dev->name,
			     (unsigned long long)dev->device_size,
			     (unsigned long long)sb_total);
	}
}

static void check_present(struct check_ctx *ctx, const struct btrfs_device *dev)
{
	struct check_finding f;

	if (dev->total_bytes && dev->device_size < dev->total_bytes) {
		dev_finding(&f, CHECK_DEV_SIZE, dev->devid);
		f.has_values = true;
		f.expected = dev->total_bytes;
		f.found = dev->device_size;
		check_report(ctx, &f,
			     "device %llu (%s) size %llu is smaller than total_bytes %llu in its dev item",
			     (unsigned long long)dev->devid, dev->name,
			     (unsigned long long)dev->device_size,
			     (unsigned long long)dev->total_bytes);
	}
	if (dev->io)
		check_dev_super(ctx, dev);
}

struct lost_state {
	u64 chunks, lost, lost_bytes, first_lost, degraded;
};

/* Can every byte of @map still be read from the devices present? */
static bool chunk_complete(const struct map_lookup *map, int *nr_missing)
{
	u64 profile = map->type & BTRFS_BLOCK_GROUP_PROFILE_MASK;
	int missing = 0, i, j;
	int sub = map->sub_stripes > 0 ? map->sub_stripes : 1;

	for (i = 0; i < map->num_stripes; i++)
		missing += !map->stripes[i].dev;
	*nr_missing = missing;
	if (!missing)
		return true;
	if (profile & (BTRFS_BLOCK_GROUP_RAID1 | BTRFS_BLOCK_GROUP_RAID1C3 |
		       BTRFS_BLOCK_GROUP_RAID1C4))
		return missing < map->num_stripes;
	if (profile & BTRFS_BLOCK_GROUP_RAID5)
		return missing <= 1;
	if (profile & BTRFS_BLOCK_GROUP_RAID6)
		return missing <= 2;
	if (profile & BTRFS_BLOCK_GROUP_RAID10) {
		/* each group of sub_stripes mirrors needs one member */
		for (i = 0; i < map->num_stripes; i += sub) {
			bool any = false;

			for (j = i; j < i + sub && j < map->num_stripes; j++)
				any |= map->stripes[j].dev != NULL;
			if (!any)
				return false;
		}
		return true;
	}
	return false;	/* single, DUP, RAID0: every stripe is needed */
}

static int count_lost(const struct map_lookup *map, void *data)
{
	struct lost_state *st = data;
	int missing;

	st->chunks++;
	if (chunk_complete(map, &missing)) {
		st->degraded += missing > 0;
		return 0;
	}
	if (!st->lost)
		st->first_lost = map->start;
	st->lost++;
	st->lost_bytes += map->length;
	return 0;
}

static void check_chunks_left(struct check_ctx *ctx)
{
	struct lost_state st = { 0 };
	struct check_finding f = { .code = CHECK_CHUNK_LOST };

	btrfs_for_each_chunk_map(ctx->fs_info, count_lost, &st);
	if (st.lost) {
		f.root = BTRFS_CHUNK_TREE_OBJECTID;
		f.bytenr = st.first_lost;
		check_report(ctx, &f,
			     "%llu of %llu chunks (%llu bytes) have no complete copy on the devices present",
			     (unsigned long long)st.lost,
			     (unsigned long long)st.chunks,
			     (unsigned long long)st.lost_bytes);
	}
	if (st.degraded && !(ctx->flags & CHECK_F_QUIET))
		fprintf(ctx->err,
			"WARNING: %llu of %llu chunks lost a copy with the missing devices; the remaining copies are checked\n",
			(unsigned long long)st.degraded,
			(unsigned long long)st.chunks);
}

/*
 * A present device without dev item that a dev item of a "missing" device
 * @item describes all the same: the same devid or the same uuid, the
 * other one differing (a damaged dev item rather than a missing device).
 */
static const struct btrfs_device *damaged_twin(struct check_ctx *ctx,
					       const struct btrfs_device *item)
{
	const struct btrfs_device *dev;

	for (dev = ctx->fs_info->fs_devices->devices; dev; dev = dev->next) {
		if (dev->missing || dev->has_dev_item)
			continue;
		if (dev->devid == item->devid ||
		    memcmp(dev->uuid, item->uuid, BTRFS_UUID_SIZE) == 0)
			return dev;
	}
	return NULL;
}

/* The dev item of @dev names @item's devid and uuid instead of its own. */
static void check_dev_item_identity(struct check_ctx *ctx,
				    const struct btrfs_device *item,
				    const struct btrfs_device *dev)
{
	struct check_finding f;
	char want[37], have[37];

	dev_finding(&f, CHECK_DEV_SUPER_ITEM, item->devid);
	if (item->devid != dev->devid) {
		/* the item's key is not known here: the message names both */
		memset(&f.key, 0, sizeof(f.key));
		f.has_values = true;
		f.expected = dev->devid;
		f.found = item->devid;
		check_report(ctx, &f,
			     "dev item devid %llu is not the devid %llu in the superblock of %s",
			     (unsigned long long)item->devid,
			     (unsigned long long)dev->devid, dev->name);
	}
	if (memcmp(item->uuid, dev->uuid, BTRFS_UUID_SIZE)) {
		uuid_unparse(item->uuid, have);
		uuid_unparse(dev->uuid, want);
		check_report(ctx, &f,
			     "dev item uuid %s is not the uuid %s in the superblock of device %llu (%s)",
			     have, want, (unsigned long long)dev->devid,
			     dev->name);
	}
}

void check_devices(struct check_ctx *ctx)
{
	const struct btrfs_device *dev, *twin;

	for (dev = ctx->fs_info->fs_devices->devices; dev; dev = dev->next) {
		/*
		 * Only a chunk stripe names it, no dev item: not a device
		 * of the filesystem but a bad stripe (pass 2 says so).
		 */
		if (dev->missing && !dev->has_dev_item)
			continue;
		if (dev->missing) {
			twin = damaged_twin(ctx, dev);
			if (twin)
				check_dev_item_identity(ctx, dev, twin);
			else
				check_missing(ctx, dev);
			continue;
		}
		/* a damaged dev item of it is reported above or below */
		if (!dev->has_dev_item)
			continue;
		check_present(ctx, dev);
	}
	if (ctx->missing_devices)
		check_chunks_left(ctx);
}

/* ------------------------------------------------------------------ */
/* When the filesystem does not open. */

void check_short_devices_at_open(struct check_ctx *ctx, char **paths, int nr)
{
	int i;

	for (i = 0; i < nr; i++) {
		struct btrfs_super_block sb;
		struct check_finding f = { .code = CHECK_DEV_SIZE };
		struct btrfs_io *io;
		u64 bytenr, total;

		if (btrfs_io_open(paths[i], 0, &io))
			continue;
		if (btrfs_read_dev_super(io, -1, &sb, &bytenr, NULL)) {
			btrfs_io_close(io);
			continue;
		}
		total = btrfs_stack_device_total_bytes(&sb.dev_item);
		if (io->size < total) {
			dev_finding(&f, CHECK_DEV_SIZE,
				    btrfs_stack_device_id(&sb.dev_item));
			f.has_values = true;
			f.expected = total;
			f.found = io->size;
			check_report(ctx, &f,
				     "device %llu (%s) size %llu is smaller than total_bytes %llu in its superblock dev_item",
				     (unsigned long long)btrfs_stack_device_id(&sb.dev_item),
				     paths[i], (unsigned long long)io->size,
				     (unsigned long long)total);
		}
		btrfs_io_close(io);
	}
}
