/* SPDX-License-Identifier: GPL-2.0 */
/*
 * In-memory free space of a block group (the kernel's free-space-cache.c,
 * without the on-disk v1 cache): a sorted set of free extents.
 *
 * Invariants: extents are sorted, never overlap and never touch (adjacent
 * ranges are merged); free_bytes is the sum of their lengths; everything
 * lies inside the block group.
 */
#ifndef BTRFS_FREE_SPACE_CACHE_H
#define BTRFS_FREE_SPACE_CACHE_H

#include "kernel-shared/kerncompat.h"

struct btrfs_block_group;

struct btrfs_free_extent {
	u64 start;
	u64 len;
};

struct btrfs_free_space_ctl {
	struct btrfs_free_extent *ents;
	size_t nr;
	size_t cap;
	u64 free_bytes;
};

void btrfs_free_space_ctl_release(struct btrfs_free_space_ctl *ctl);

/*
 * Give [@start, @start + @bytes) back to @bg's free space.  0, -EINVAL
 * (outside the block group, or overlapping space already free: a double
 * free), -ENOMEM.
 */
int btrfs_add_free_space(struct btrfs_block_group *bg, u64 start, u64 bytes);

/*
 * Take [@start, @start + @bytes) out of the free space; it must be free as
 * a whole.  0, -ENOENT (not entirely free), -ENOMEM.
 */
int btrfs_remove_free_space(struct btrfs_block_group *bg, u64 start,
			    u64 bytes);

/*
 * Find and take @bytes of free space at or after @offset (first fit, then
 * from the block group start), aligned to the block group's allocation unit
 * (the node size for metadata and system, the sector size for data), in a
 * free extent of at least @bytes + @empty_size.  Returns the start, which the
 * caller owns: it must use it or give it back with btrfs_add_free_space().
 * Returns 0 when nothing fits (logical address 0 is never allocatable).
 */
u64 btrfs_find_space_for_alloc(struct btrfs_block_group *bg, u64 offset,
			       u64 bytes, u64 empty_size);

/* Is [@start, @start + @bytes) entirely free? */
bool btrfs_free_space_contains(const struct btrfs_block_group *bg, u64 start,
			       u64 bytes);

#endif
