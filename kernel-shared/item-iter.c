// SPDX-License-Identifier: GPL-2.0
/*
 * Forward item iteration that steps over unreadable tree blocks (see
 * item-iter.h).
 */
#include "kernel-shared/item-iter.h"
#include "kernel-shared/disk-io.h"

bool btrfs_key_advance(struct btrfs_key *key)
{
	if (key->offset != (u64)-1) {
		key->offset++;
		return true;
	}
	key->offset = 0;
	if (key->type != (u8)-1) {
		key->type++;
		return true;
	}
	key->type = 0;
	if (key->objectid != (u64)-1) {
		key->objectid++;
		return true;
	}
	return false;
}

void btrfs_item_iter_init(struct btrfs_item_iter *it, struct btrfs_root *root,
			  const struct btrfs_key *min,
			  const struct btrfs_key *max,
			  btrfs_iter_skip_fn on_skip, void *skip_ctx)
{
	memset(it, 0, sizeof(*it));
	it->root = root;
	it->cursor = *min;
	it->max = *max;
	it->on_skip = on_skip;
	it->skip_ctx = skip_ctx;
	it->slot = -1;
	it->done = !root || !root->node ||
		   btrfs_comp_cpu_keys(min, max) > 0;
}

void btrfs_item_iter_release(struct btrfs_item_iter *it)
{
	free_extent_buffer(it->leaf);
	it->leaf = NULL;
	it->done = true;
}

/* Last slot of node @eb whose key is <= @key, or 0. */
static int node_slot_for(const struct extent_buffer *eb, int nr,
			 const struct btrfs_key *key)
{
	int low = 0, high = nr;

	while (high - low > 1) {
		int mid = low + (high - low) / 2;
		struct btrfs_key k;

		btrfs_node_key_to_cpu(eb, &k, mid);
		if (btrfs_comp_cpu_keys(&k, key) <= 0)
			low = mid;
		else
			high = mid;
	}
	return low;
}

/* First slot of leaf @eb whose key is >= @key (nr when none). */
static int leaf_slot_for(const struct extent_buffer *eb, int nr,
			 const struct btrfs_key *key)
{
	int low = 0, high = nr;

	while (low < high) {
		int mid = low + (high - low) / 2;
		struct btrfs_key k;

		btrfs_item_key_to_cpu(eb, &k, mid);
		if (btrfs_comp_cpu_keys(&k, key) < 0)
			low = mid + 1;
		else
			high = mid;
	}
	return low;
}

/*
 * Move the cursor to @next, which must be after it (a damaged tree whose
 * keys go backwards between blocks would otherwise loop).  Ends the
 * iteration when @next is NULL or past the maximum.
 */
static int move_cursor(struct btrfs_item_iter *it, const struct btrfs_key *next)
{
	if (!next || btrfs_comp_cpu_keys(next, &it->max) > 0) {
		it->done = true;
		return 1;
	}
	if (btrfs_comp_cpu_keys(next, &it->cursor) <= 0) {
		it->done = true;
		return -EUCLEAN;
	}
	it->cursor = *next;
	return 0;
}

/*
 * Descend from the root to the leaf that holds the cursor.  0 with it->leaf
 * set; 1 at the end; <0 on a fatal error.  An unreadable child is reported
 * and the descent restarts after it.
 */
static int descend(struct btrfs_item_iter *it)
{
	struct extent_buffer *eb;
	int ret;

restart:
	it->has_hi = false;
	eb = extent_buffer_get(it->root->node);
	while (btrfs_header_level(eb) > 0) {
		int nr = btrfs_header_nritems_clamped(eb);
		struct extent_buffer *child;
		struct btrfs_key lo;
		int slot;

		if (nr == 0) {
			free_extent_buffer(eb);
			ret = move_cursor(it, it->has_hi ? &it->hi : NULL);
			if (ret)
				return ret;
			goto restart;
		}
		slot = node_slot_for(eb, nr, &it->cursor);
		if (slot + 1 < nr) {
			btrfs_node_key_to_cpu(eb, &it->hi, slot + 1);
			it->has_hi = true;
		}
		child = btrfs_read_node_slot(it->root->fs_info, eb, slot);
		if (IS_ERR(child)) {
			btrfs_node_key_to_cpu(eb, &lo, slot);
			if (it->on_skip)
				it->on_skip(&lo, it->has_hi ? &it->hi : NULL,
					    btrfs_node_blockptr(eb, slot),
					    (int)PTR_ERR(child), it->skip_ctx);
			free_extent_buffer(eb);
			if (PTR_ERR(child) == -ENOMEM) {
				it->done = true;
				return -ENOMEM;
			}
			ret = move_cursor(it, it->has_hi ? &it->hi : NULL);
			if (ret)
				return ret;
			goto restart;
		}
		free_extent_buffer(eb);
		eb = child;
	}
	it->leaf = eb;
	it->slot = leaf_slot_for(eb, btrfs_header_nritems_clamped(eb), &it->cursor) - 1;
	return 0;
}

int btrfs_item_iter_next(struct btrfs_item_iter *it, struct btrfs_key *key)
{
	int ret;

	while (!it->done) {
		if (!it->leaf) {
			ret = descend(it);
			if (ret)
				return ret;
		}
		it->slot++;
		if (it->slot < btrfs_header_nritems_clamped(it->leaf)) {
			btrfs_item_key_to_cpu(it->leaf, key, it->slot);
			if (btrfs_comp_cpu_keys(key, &it->cursor) < 0)
				continue;
			if (btrfs_comp_cpu_keys(key, &it->max) > 0) {
				btrfs_item_iter_release(it);
				return 1;
			}
			it->cursor = *key;
			return 0;
		}
		free_extent_buffer(it->leaf);
		it->leaf = NULL;
		ret = move_cursor(it, it->has_hi ? &it->hi : NULL);
		if (ret) {
			btrfs_item_iter_release(it);
			return ret;
		}
	}
	return 1;
}
