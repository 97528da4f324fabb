/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A forward iterator over the items of one tree within a key range that
 * steps over tree blocks it cannot read instead of stopping there.
 *
 * Readers that salvage what they can (restore, and check when it reports
 * what a damaged block hides) need to know which key range a bad block
 * covered and to go on after it.  The iterator finds each leaf by a fresh
 * descent from the root (cached blocks make that cheap), remembering for
 * each level the first key of the next sibling; when a child cannot be
 * read, the range from its key to that next key is reported through
 * @on_skip and the descent restarts at the next key.  The cursor only ever
 * moves forward, so a damaged tree cannot make the iteration loop.
 *
 * Not in the kernel, which has no salvage reader; the closest relative is
 * btrfs_search_forward() in fs/btrfs/ctree.c.
 */
#ifndef BTRFS_ITEM_ITER_H
#define BTRFS_ITEM_ITER_H

#include "kernel-shared/ctree.h"
#include "kernel-shared/extent-io.h"

/*
 * A block that could not be read: its first key @lo, the first key after
 * everything it holds @hi (NULL: the end of the tree), its logical
 * address and the read error (negative errno).
 */
typedef void (*btrfs_iter_skip_fn)(const struct btrfs_key *lo,
				   const struct btrfs_key *hi, u64 bytenr,
				   int err, void *ctx);

/*
 * Iterator state.  Invariants: @leaf (one reference, or NULL) is the
 * current leaf and @slot the item last returned; every key at or after
 * @cursor that is <= @max is still to be returned; @hi, when @has_hi, is
 * the first key after @leaf in the tree.
 */
struct btrfs_item_iter {
	struct btrfs_root *root;
	struct btrfs_key cursor;
	struct btrfs_key max;
	struct btrfs_key hi;
	bool has_hi;
	bool done;
	struct extent_buffer *leaf;
	int slot;
	btrfs_iter_skip_fn on_skip;	/* may be NULL */
	void *skip_ctx;
};

/*
 * Start iterating the items of @root with keys in [@min, @max].  Nothing is
 * read until the first btrfs_item_iter_next().
 */
void btrfs_item_iter_init(struct btrfs_item_iter *it, struct btrfs_root *root,
			  const struct btrfs_key *min,
			  const struct btrfs_key *max,
			  btrfs_iter_skip_fn on_skip, void *skip_ctx);

/*
 * Advance to the next item.  0: the item is at it->leaf / it->slot and its
 * key in *@key; 1: no more items; <0: the iteration cannot go on (-ENOMEM,
 * or -EUCLEAN when the tree's keys go backwards between blocks).  Blocks
 * that fail to read are reported and skipped, not returned as errors.
 */
int btrfs_item_iter_next(struct btrfs_item_iter *it, struct btrfs_key *key);

/* Drop the leaf reference.  The iterator may not be used afterwards. */
void btrfs_item_iter_release(struct btrfs_item_iter *it);

/*
 * Copy @len bytes at byte @off of the data of item @slot of leaf @eb into
 * @dst.  0, or -EUCLEAN when the range is outside the item or the leaf.
 */
static inline int btrfs_read_item_data(const struct extent_buffer *eb,
				       int slot, void *dst, u32 off, u32 len)
{
	u32 size = btrfs_item_size(eb, slot);
	unsigned long start = BTRFS_LEAF_DATA_OFFSET +
			      (unsigned long)btrfs_item_offset(eb, slot) + off;

	if (off > size || len > size - off)
		return -EUCLEAN;
	return read_extent_buffer(eb, dst, start, len);
}

/* Key after @key in key order (objectid, type, offset); false at the end. */
bool btrfs_key_advance(struct btrfs_key *key);

#endif
