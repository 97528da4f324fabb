/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Chunk allocation inside the engine (the public entry points,
 * btrfs_plan_chunk() and btrfs_alloc_chunk(), are in volumes.h).
 *
 * As in the kernel, a chunk is made in two phases:
 *
 * 1. btrfs_create_chunk(): in memory only.  Plan it, map it, append it to
 *    the superblock's sys_chunk_array when it is a system chunk, raise the
 *    devices' bytes_used and add its block group with all its space free
 *    (bg->new_chunk set).  No tree is touched (the dev tree is only read),
 *    so the allocator may call it from the middle of any btree operation
 *    that runs out of space, and the new space is usable at once.
 *
 * 2. btrfs_chunk_alloc_add_items(): the items.  Dev extents (dev tree), dev
 *    items' bytes_used and the chunk item (chunk tree), and the group's
 *    free-space tree entries when nothing added them yet.  These changes
 *    need tree blocks, which may come from the new chunk itself or from
 *    a chunk that phase 1 makes on the way.  It runs where no btree
 *    operation is in progress: straight away in btrfs_alloc_chunk(), and
 *    otherwise at commit, when the block group items are written (the
 *    kernel's btrfs_create_pending_block_groups), which also inserts the
 *    block group item.
 */
#ifndef BTRFS_CHUNK_ALLOC_H
#define BTRFS_CHUNK_ALLOC_H

#include "kernel-shared/ctree.h"

struct btrfs_block_group;
struct map_lookup;

/*
 * Phase 1 for a chunk of @type (type bits | profile bit).  *bg_ret (may
 * be NULL) gets the new block group.  0, -ENOSPC (no room for the
 * profile; for system chunks also a full sys_chunk_array), -EFBIG (the
 * chunk item would not fit a leaf), -EINVAL, -ENOMEM, or a read error.
 * After an error other than -ENOSPC / -EINVAL / -EFBIG, the in-memory
 * state may be partly changed: abort the transaction.
 */
int btrfs_create_chunk(struct btrfs_trans_handle *trans, u64 type,
		       struct btrfs_block_group **bg_ret);

/*
 * Rewrite the dev item of every device marked dirty (a repair open set
 * its bytes used right).  Sets *did_work when there was one.  0 or <0.
 */
int btrfs_write_dirty_dev_items(struct btrfs_trans_handle *trans,
				bool *did_work);

/*
 * Phase 2 for @bg (with new_chunk set): dev extents, dev items, chunk
 * item, free-space tree entries.  The caller inserts the block group item
 * and clears new_chunk.  0 or negative errno (abort).
 */
int btrfs_chunk_alloc_add_items(struct btrfs_trans_handle *trans,
				struct btrfs_block_group *bg);

/* Bytes of each device extent of @map (its stripe size). */
u64 btrfs_map_stripe_size(const struct map_lookup *map);

#endif
