// SPDX-License-Identifier: GPL-2.0
/*
 * In-memory free space of a block group: a sorted array of free extents,
 * merged on insert.  Binary search finds the neighbours of a range, so an
 * add or remove costs a search and one memmove.
 */
#include <stdlib.h>

#include "common/array.h"
#include "kernel-shared/extent-tree.h"
#include "kernel-shared/free-space-cache.h"

void btrfs_free_space_ctl_release(struct btrfs_free_space_ctl *ctl)
{
	free(ctl->ents);
	memset(ctl, 0, sizeof(*ctl));
}

/* Index of the first extent starting after @start. */
static size_t first_after(const struct btrfs_free_space_ctl *ctl, u64 start)
{
	size_t lo = 0, hi = ctl->nr;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (ctl->ents[mid].start <= start)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int insert_at(struct btrfs_free_space_ctl *ctl, size_t idx, u64 start,
		     u64 len)
{
	if (array_reserve(ctl->ents, ctl->cap, ctl->nr + 1, 16))
		return -ENOMEM;
	memmove(&ctl->ents[idx + 1], &ctl->ents[idx],
		(ctl->nr - idx) * sizeof(*ctl->ents));
	ctl->ents[idx] = (struct btrfs_free_extent){ start, len };
	ctl->nr++;
	return 0;
}

static void delete_at(struct btrfs_free_space_ctl *ctl, size_t idx)
{
	memmove(&ctl->ents[idx], &ctl->ents[idx + 1],
		(ctl->nr - idx - 1) * sizeof(*ctl->ents));
	ctl->nr--;
}

int btrfs_add_free_space(struct btrfs_block_group *bg, u64 start, u64 bytes)
{
	struct btrfs_free_space_ctl *ctl = &bg->free_space;
	u64 end = start + bytes;
	size_t idx;
	bool merge_prev, merge_next;

	if (!bytes || start < bg->start || end > bg->start + bg->length ||
	    end < start)
		return -EINVAL;
	idx = first_after(ctl, start);
	if (idx > 0 && ctl->ents[idx - 1].start + ctl->ents[idx - 1].len > start)
		return -EINVAL;
	if (idx < ctl->nr && ctl->ents[idx].start < end)
		return -EINVAL;
	merge_prev = idx > 0 &&
		     ctl->ents[idx - 1].start + ctl->ents[idx - 1].len == start;
	merge_next = idx < ctl->nr && ctl->ents[idx].start == end;
	ctl->free_bytes += bytes;
	if (merge_prev && merge_next) {
		ctl->ents[idx - 1].len += bytes + ctl->ents[idx].len;
		delete_at(ctl, idx);
	} else if (merge_prev) {
		ctl->ents[idx - 1].len += bytes;
	} else if (merge_next) {
		ctl->ents[idx].start = start;
		ctl->ents[idx].len += bytes;
	} else if (insert_at(ctl, idx, start, bytes)) {
		ctl->free_bytes -= bytes;
		return -ENOMEM;
	}
	return 0;
}

int btrfs_remove_free_space(struct btrfs_block_group *bg, u64 start,
			    u64 bytes)
{
	struct btrfs_free_space_ctl *ctl = &bg->free_space;
	size_t idx = first_after(ctl, start);
	struct btrfs_free_extent *e;
	u64 end = start + bytes, e_end;

	if (idx == 0 || !bytes)
		return -ENOENT;
	e = &ctl->ents[idx - 1];
	e_end = e->start + e->len;
	if (end > e_end || end < start)
		return -ENOENT;
	if (e->start == start && e_end == end) {
		delete_at(ctl, idx - 1);
	} else if (e->start == start) {
		e->start = end;
		e->len -= bytes;
	} else if (e_end == end) {
		e->len -= bytes;
	} else {
		u64 tail = e_end - end;

		e->len = start - e->start;
		if (insert_at(ctl, idx, end, tail)) {
			e->len += bytes + tail;
			return -ENOMEM;
		}
	}
	ctl->free_bytes -= bytes;
	return 0;
}

bool btrfs_free_space_contains(const struct btrfs_block_group *bg, u64 start,
			       u64 bytes)
{
	const struct btrfs_free_space_ctl *ctl = &bg->free_space;
	size_t idx = first_after(ctl, start);

	if (idx == 0)
		return false;
	return start + bytes <= ctl->ents[idx - 1].start + ctl->ents[idx - 1].len;
}

static u64 alloc_unit(const struct btrfs_block_group *bg)
{
	if (bg->flags & (BTRFS_BLOCK_GROUP_METADATA | BTRFS_BLOCK_GROUP_SYSTEM))
		return bg->fs_info->nodesize;
	return bg->fs_info->sectorsize;
}

/* First aligned start in extent @e at or after @from that fits @need. */
static u64 fit_in(const struct btrfs_free_extent *e, u64 from, u64 bytes,
		  u64 need, u64 unit)
{
	u64 start = max_t(u64, e->start, from);
	u64 end = e->start + e->len;

	start = (start + unit - 1) / unit * unit;
	if (start < e->start || start >= end || end - start < need ||
	    end - start < bytes)
		return 0;
	return start;
}

u64 btrfs_find_space_for_alloc(struct btrfs_block_group *bg, u64 offset,
			       u64 bytes, u64 empty_size)
{
	struct btrfs_free_space_ctl *ctl = &bg->free_space;
	u64 unit = alloc_unit(bg);
	u64 need = bytes + empty_size;
	int pass;

	if (!bytes || ctl->free_bytes < bytes)
		return 0;
	for (pass = 0; pass < 2; pass++) {
		u64 from = pass == 0 ? offset : bg->start;
		size_t idx = first_after(ctl, from);

		if (idx > 0)
			idx--;
		for (; idx < ctl->nr; idx++) {
			u64 start = fit_in(&ctl->ents[idx], from, bytes, need,
					   unit);

			if (start && !btrfs_remove_free_space(bg, start, bytes))
				return start;
		}
		if (offset <= bg->start)
			break;
	}
	return 0;
}
