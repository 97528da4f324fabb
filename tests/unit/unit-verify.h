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
 * - no data checksum lies outside a data extent.
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
 * Verify @fs (opened read-only) against itself and @wfs, the same
 * filesystem opened for writing (its block groups and free space, as
 * loaded or as left by a commit).  0, or -1 with first_err set.  @st (may
 * be NULL) gets counts of what was seen (maxima kept across calls).
 */
int verify_fs(struct btrfs_fs_info *fs, struct btrfs_fs_info *wfs,
	      struct verify_stats *st);

#endif
