// SPDX-License-Identifier: GPL-2.0
/*
 * btrfs check pass 5: free space.
 *
 * Free-space tree (v2): for every block group, the free ranges recorded as
 * free-space extents or bitmaps must be exactly the gaps between the
 * extent items inside the block group (a metadata item covers one node),
 * the free-space info item must exist, count those ranges in extent_count,
 * and say in its flags whether bitmaps are used.  Per block group the gaps
 * are kept in memory (at most one range per two sectors), the recorded
 * ranges are streamed against them.
 *
 * Space cache (v1): see space-cache.c, which compares each block group's
 * cache with the same gaps (check_extent_gaps()) minus the superblock
 * copies.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/array.h"
#include "cmds/check/check.h"
#include "kernel-shared/disk-io.h"

/* Append [start, end), merging with an adjacent last range. */
int check_ranges_add(struct check_ranges *rs, u64 start, u64 end)
{
	if (rs->nr && rs->r[rs->nr - 1].end == start) {
		rs->r[rs->nr - 1].end = end;
		return 0;
	}
	return check_ranges_append(rs, start, end);
}

int check_ranges_append(struct check_ranges *rs, u64 start, u64 end)
{
	if (array_reserve(rs->r, rs->cap, rs->nr + 1, 256))
		return -ENOMEM;
	rs->r[rs->nr].start = start;
	rs->r[rs->nr++].end = end;
	return 0;
}

struct bg_scan {
	u64 start;
	u64 end;
	u64 cursor;		/* end of the last extent item seen */
	struct check_ranges gaps;	/* computed free ranges */
	/* recorded side */
	size_t next;		/* next gap to match */
	struct check_range pending;	/* recorded run not yet compared */
	bool has_pending;
	bool mismatch;		/* reported once per block group */
	u64 nr_runs;
	bool seen_extent_item;
	bool seen_bitmap_item;
	struct btrfs_key info_key;
	struct btrfs_key last_key;
};

/* ------------------------------------------------------------------ */
/* The computed side: gaps between extent items. */

static int gap_extent(struct check_ctx *ctx, struct extent_buffer *eb,
		      int slot, const struct btrfs_key *key, void *data)
{
	struct bg_scan *s = data;
	u64 len;

	(void)eb;
	(void)slot;
	if (key->objectid >= s->end)
		return CHECK_ITER_STOP;
	if (key->type == BTRFS_EXTENT_ITEM_KEY)
		len = key->offset;
	else if (key->type == BTRFS_METADATA_ITEM_KEY)
		len = ctx->fs_info->nodesize;
	else
		return 0;
	if (key->objectid < s->start)
		return 0;
	if (key->objectid > s->cursor &&
	    check_ranges_add(&s->gaps, s->cursor, key->objectid))
		return -ENOMEM;
	if (key->objectid + len > s->cursor)
		s->cursor = min_t(u64, key->objectid + len, s->end);
	return 0;
}

static int compute_gaps(struct check_ctx *ctx, struct bg_scan *s)
{
	struct btrfs_key start = { s->start, 0, 0 };
	int ret;

	s->cursor = s->start;
	ret = check_for_each_item(ctx, ctx->fs_info->extent_root, &start,
				  gap_extent, s);
	if (ret)
		return ret;
	if (s->cursor < s->end)
		return check_ranges_add(&s->gaps, s->cursor, s->end);
	return 0;
}

int check_extent_gaps(struct check_ctx *ctx, u64 start, u64 end,
		      struct check_ranges *gaps)
{
	struct bg_scan s = { .start = start, .end = end };
	int ret;

	if (!ctx->fs_info->extent_root)
		return -ENOENT;
	ret = compute_gaps(ctx, &s);
	if (ret)
		free(s.gaps.r);
	else
		*gaps = s.gaps;
	return ret;
}

/* ------------------------------------------------------------------ */
/* The recorded side, streamed. */

static void report_wrong(struct check_ctx *ctx, struct bg_scan *s,
			 const struct check_range *rec)
{
	struct check_finding f = {
		.code = CHECK_FREE_SPACE_WRONG,
		.root = BTRFS_FREE_SPACE_TREE_OBJECTID,
		.bytenr = s->start,
		.key = s->last_key,
	};
	const struct check_range *want = s->next < s->gaps.nr ?
				   &s->gaps.r[s->next] : NULL;

	if (s->mismatch)
		return;
	s->mismatch = true;
	if (rec && want)
		check_report(ctx, &f,
			     "free space %llu-%llu recorded, extent tree leaves %llu-%llu free",
			     (unsigned long long)rec->start,
			     (unsigned long long)rec->end,
			     (unsigned long long)want->start,
			     (unsigned long long)want->end);
	else if (rec)
		check_report(ctx, &f,
			     "free space %llu-%llu recorded, extent tree has it allocated",
			     (unsigned long long)rec->start,
			     (unsigned long long)rec->end);
	else
		check_report(ctx, &f,
			     "free space %llu-%llu not recorded",
			     (unsigned long long)want->start,
			     (unsigned long long)want->end);
}

/* Compare one complete recorded run with the next computed gap. */
static void match_run(struct check_ctx *ctx, struct bg_scan *s,
		      const struct check_range *run)
{
	const struct check_range *want = s->next < s->gaps.nr ?
				   &s->gaps.r[s->next] : NULL;

	s->nr_runs++;
	if (!want || want->start != run->start || want->end != run->end)
		report_wrong(ctx, s, run);
	s->next++;
}

static void add_recorded(struct check_ctx *ctx, struct bg_scan *s, u64 start,
			 u64 end)
{
	if (s->has_pending && s->pending.end == start) {
		s->pending.end = end;
		return;
	}
	if (s->has_pending)
		match_run(ctx, s, &s->pending);
	s->pending.start = start;
	s->pending.end = end;
	s->has_pending = true;
}

static void add_bitmap(struct check_ctx *ctx, struct bg_scan *s,
		       struct extent_buffer *eb, int slot,
		       const struct btrfs_key *key)
{
	u32 sectorsize = ctx->fs_info->sectorsize;
	const u8 *bits = btrfs_item_ptr(eb, slot, u8);
	u64 nbits = key->offset / sectorsize;
	u64 i, run_start = 0;
	bool in_run = false;

	if (nbits > (u64)btrfs_item_size(eb, slot) * 8)
		nbits = (u64)btrfs_item_size(eb, slot) * 8;
	for (i = 0; i < nbits; i++) {
		bool set = (bits[i / 8] >> (i % 8)) & 1;

		if (set && !in_run) {
			run_start = i;
			in_run = true;
		} else if (!set && in_run) {
			add_recorded(ctx, s,
				     key->objectid + run_start * sectorsize,
				     key->objectid + i * sectorsize);
			in_run = false;
		}
	}
	if (in_run)
		add_recorded(ctx, s, key->objectid + run_start * sectorsize,
			     key->objectid + nbits * sectorsize);
}

static int recorded_item(struct check_ctx *ctx, struct extent_buffer *eb,
			 int slot, const struct btrfs_key *key, void *data)
{
	struct bg_scan *s = data;

	if (key->objectid >= s->end)
		return CHECK_ITER_STOP;
	s->last_key = *key;
	if (key->type == BTRFS_FREE_SPACE_EXTENT_KEY) {
		s->seen_extent_item = true;
		add_recorded(ctx, s, key->objectid,
			     key->objectid + key->offset);
	} else if (key->type == BTRFS_FREE_SPACE_BITMAP_KEY) {
		s->seen_bitmap_item = true;
		add_bitmap(ctx, s, eb, slot, key);
	}
	return 0;
}

/* ------------------------------------------------------------------ */

static void info_finding(struct check_ctx *ctx, struct bg_scan *s,
			 enum check_code code, bool values, u64 expected,
			 u64 found, const char *msg)
{
	struct check_finding f = {
		.code = code,
		.root = BTRFS_FREE_SPACE_TREE_OBJECTID,
		.bytenr = s->start,
		.key = { s->start, BTRFS_FREE_SPACE_INFO_KEY,
			 s->end - s->start },
		.has_values = values,
		.expected = expected,
		.found = found,
	};

	check_report(ctx, &f, "%s", msg);
}

/* Find the info item of the block group; false when it is missing. */
static int read_info(struct check_ctx *ctx, struct bg_scan *s, u32 *count,
		     u32 *flags)
{
	struct btrfs_root *fst = ctx->fs_info->free_space_root;
	struct btrfs_key key = { s->start, BTRFS_FREE_SPACE_INFO_KEY,
				 s->end - s->start };
	struct btrfs_path *path = btrfs_alloc_path();
	struct btrfs_free_space_info *info;
	int ret;

	if (!path)
		return -ENOMEM;
	ret = btrfs_search_slot(NULL, fst, &key, path, 0, 0);
	if (ret == 0 && btrfs_item_size(path->nodes[0], path->slots[0]) >=
				sizeof(*info)) {
		info = btrfs_item_ptr(path->nodes[0], path->slots[0],
				      struct btrfs_free_space_info);
		*count = btrfs_free_space_extent_count(path->nodes[0], info);
		*flags = btrfs_free_space_flags(path->nodes[0], info);
	} else if (ret == 0) {
		ret = 1;
	}
	btrfs_free_path(path);
	return ret;
}

static int check_one_bg(struct check_ctx *ctx, struct bg_scan *s)
{
	struct btrfs_key start = { s->start, BTRFS_FREE_SPACE_INFO_KEY, 0 };
	u32 count = 0, flags = 0;
	bool bitmaps;
	int ret;

	ret = read_info(ctx, s, &count, &flags);
	if (ret < 0)
		return ret;
	if (ret > 0) {
		info_finding(ctx, s, CHECK_FREE_SPACE_MISSING, false, 0, 0,
			     "block group without free space info");
		return 0;
	}
	ret = compute_gaps(ctx, s);
	if (ret)
		return ret;
	ret = check_for_each_item(ctx, ctx->fs_info->free_space_root, &start,
				  recorded_item, s);
	if (ret)
		return ret;
	if (s->has_pending)
		match_run(ctx, s, &s->pending);
	if (s->next < s->gaps.nr)
		report_wrong(ctx, s, NULL);
	bitmaps = flags & BTRFS_FREE_SPACE_USING_BITMAPS;
	if ((bitmaps && s->seen_extent_item) ||
	    (!bitmaps && s->seen_bitmap_item))
		info_finding(ctx, s, CHECK_FREE_SPACE_INFO, true,
			     s->seen_bitmap_item, bitmaps,
			     "free space info bitmap flag differs from its items");
	if (count != s->nr_runs)
		info_finding(ctx, s, CHECK_FREE_SPACE_INFO, true, s->nr_runs,
			     count, "free space info extent count differs");
	return 0;
}

struct bg_list {
	struct check_range *bgs;
	size_t nr, cap;
};

static int collect_bg(struct check_ctx *ctx, struct extent_buffer *eb,
		      int slot, const struct btrfs_key *key, void *data)
{
	struct bg_list *l = data;

	(void)ctx;
	(void)eb;
	(void)slot;
	if (key->type != BTRFS_BLOCK_GROUP_ITEM_KEY)
		return 0;
	if (array_reserve(l->bgs, l->cap, l->nr + 1, 64))
		return -ENOMEM;
	l->bgs[l->nr].start = key->objectid;
	l->bgs[l->nr++].end = key->objectid + key->offset;
	return 0;
}

static int check_free_space_tree(struct check_ctx *ctx)
{
	struct btrfs_root *bg_root = check_block_group_root(ctx->fs_info);
	struct bg_list l = { 0 };
	size_t i;
	int ret;

	if (!ctx->fs_info->free_space_root || !ctx->fs_info->extent_root ||
	    !bg_root) {
		check_fatal(ctx, "free space tree or extent tree unreadable: free space not checked");
		return -EIO;
	}
	ret = check_for_each_item(ctx, bg_root, NULL, collect_bg, &l);
	for (i = 0; !ret && i < l.nr; i++) {
		struct bg_scan s = { .start = l.bgs[i].start,
				     .end = l.bgs[i].end };

		ret = check_one_bg(ctx, &s);
		free(s.gaps.r);
	}
	if (ret)
		check_tree_unreadable(ctx, BTRFS_FREE_SPACE_TREE_OBJECTID, ret,
				      "free space not all checked");
	free(l.bgs);
	return ret;
}

int check_pass_free_space(struct check_ctx *ctx)
{
	struct btrfs_fs_info *fs_info = ctx->fs_info;

	u64 fst = BTRFS_FEATURE_COMPAT_RO_FREE_SPACE_TREE;
	u64 valid = BTRFS_FEATURE_COMPAT_RO_FREE_SPACE_TREE_VALID;

	if (btrfs_fs_compat_ro(fs_info, fst)) {
		/* not yet valid: the kernel rebuilds it at the next mount */
		if (!btrfs_fs_compat_ro(fs_info, valid))
			return 0;
		return check_free_space_tree(ctx);
	}
	if (fs_info->tree_root)
		return check_space_cache_v1(ctx);
	return 0;
}
