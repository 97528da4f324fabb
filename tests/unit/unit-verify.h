/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The image verifier the write tests share.  Everything is derived from
 * what the image holds, so it judges an image whatever wrote it:
 *
 * - every tree of every ROOT_ITEM is walked and the references the extent
 *   tree must hold are derived from it (a block reached from parent P:
 *   SHARED_BLOCK_REF P when P is FULL_BACKREF, else TREE_BLOCK_REF of P's
 *   owner; a root node: its tree's ref; each file extent item: its
 *   SHARED_DATA_REF or EXTENT_DATA_REF); every extent item holds exactly
 *   those, every tree block and data extent has its item, none is left
 *   over;
 * - block group used and super bytes_used equal the extents;
 * - the free-space tree equals the complement of the extents in every
 *   group, and the writer's free space adds up;
 * - no data checksum lies outside a data extent;
 * and, separately, the chunk tree, dev tree and sys_chunk_array agree
 * (verify_chunks).
 */
#ifndef UNIT_VERIFY_H
#define UNIT_VERIFY_H

#include <stddef.h>

#include "kernel-shared/ctree.h"

struct verify_stats {
	u64 tree_blocks, data_extents, shared_refs, full_backref_blocks;
	u64 max_level, keyed_refs, max_refs;
};

/* realloc that aborts when out of memory. */
void *xrealloc(void *p, size_t n);

/*
 * Room for one more element at @nr of @arr (capacity *@cap elements of
 * @size bytes), doubling it when full: the array, or NULL (then @arr is
 * still allocated).
 */
void *grow_array(void *arr, size_t *cap, size_t nr, size_t size);

/*
 * Verify @fs (opened read-only) against itself and @wfs, the same
 * filesystem opened for writing (its block groups and free space, as
 * loaded or as left by a commit).  0, or -1 with first_err set.  @st (may
 * be NULL) gets counts of what was seen (maxima kept across calls).
 */
int verify_fs(struct btrfs_fs_info *fs, struct btrfs_fs_info *wfs,
	      struct verify_stats *st);

/*
 * The chunk test's checks of @fs (opened for writing, so its block groups
 * are loaded), up to 4 devices:
 * - every chunk item has its block group item (start, length, flags) and
 *   the other way round; group used bytes add up to super bytes_used;
 * - every stripe has its dev extent (devid, physical, stripe size, chunk
 *   offset), there are no others, they do not overlap and lie in [1MiB,
 *   device size); each dev item's bytes_used, and the one in each
 *   device's primary superblock, is the sum of its dev extents;
 * - the sys_chunk_array holds exactly the system chunks of the chunk
 *   tree, byte for byte;
 * - the free-space tree records length - used free in every group.
 * Chunks at or after *@new_from are the engine's, whose fields must be
 * the kernel's; when *@new_from is ~0 it is set to the end of the last
 * chunk (call once on the image as made).  Free-space entries of groups
 * that do not exist are tolerated below *@new_from (mkfs leaves those of
 * its temporary chunks).  @nr_chunks and @nr_sys (may be NULL) get the
 * numbers of chunks and system chunks.  0, or -1 with first_err set.
 */
int verify_chunks(struct btrfs_fs_info *fs, u64 *new_from, size_t *nr_chunks,
		  size_t *nr_sys);

#endif
