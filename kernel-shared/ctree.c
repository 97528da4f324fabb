// SPDX-License-Identifier: GPL-2.0
/*
 * Btree navigation: key comparison, paths, search, stepping between items
 * and leaves, and whole-tree walks.
 *
 * The read path: every block below a root comes through
 * btrfs_read_node_slot(), which hands read_tree_block() what the parent
 * promises about the child (level, generation, first key) and re-checks the
 * level itself, so a damaged tree can neither make a search descend forever
 * nor make a walk recurse deeper than BTRFS_MAX_LEVEL.
 */
#include <limits.h>
#include <stdlib.h>

#include "common/array.h"
#include "kernel-shared/ctree.h"
#include "kernel-shared/disk-io.h"
#include "kernel-shared/extent-tree.h"
#include "kernel-shared/transaction.h"

int btrfs_comp_cpu_keys(const struct btrfs_key *a, const struct btrfs_key *b)
{
	if (a->objectid != b->objectid)
		return a->objectid < b->objectid ? -1 : 1;
	if (a->type != b->type)
		return a->type < b->type ? -1 : 1;
	if (a->offset != b->offset)
		return a->offset < b->offset ? -1 : 1;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Paths. */

struct btrfs_path *btrfs_alloc_path(void)
{
	return calloc(1, sizeof(struct btrfs_path));
}

void btrfs_release_path(struct btrfs_path *path)
{
	for (int i = 0; i < BTRFS_MAX_LEVEL; i++) {
		free_extent_buffer(path->nodes[i]);
		path->nodes[i] = NULL;
		path->slots[i] = 0;
	}
}

void btrfs_free_path(struct btrfs_path *path)
{
	if (!path)
		return;
	btrfs_release_path(path);
	free(path);
}

static void release_path_on_error(struct btrfs_path *path)
{
	if (!path->skip_release_on_error)
		btrfs_release_path(path);
}

/* ------------------------------------------------------------------ */
/* Blocks. */

static void eb_key_at(const struct extent_buffer *eb, int level, int slot,
		      struct btrfs_key *key)
{
	if (level == 0)
		btrfs_item_key_to_cpu(eb, key, slot);
	else
		btrfs_node_key_to_cpu(eb, key, slot);
}

struct extent_buffer *btrfs_read_node_slot(struct btrfs_fs_info *fs_info,
					   struct extent_buffer *parent,
					   int slot)
{
	struct btrfs_tree_parent_check check = { 0 };
	struct extent_buffer *eb;
	int level = btrfs_header_level(parent);

	if (level == 0 || level >= BTRFS_MAX_LEVEL)
		return ERR_PTR(-EINVAL);
	if (slot < 0 || slot >= btrfs_header_nritems_clamped(parent))
		return ERR_PTR(-ENOENT);
	/* Owner is not checked: snapshots share blocks of other trees. */
	check.level = level - 1;
	check.transid = btrfs_node_ptr_generation(parent, slot);
	check.has_first_key = true;
	btrfs_node_key_to_cpu(parent, &check.first_key, slot);
	eb = read_tree_block(fs_info, btrfs_node_blockptr(parent, slot),
			     &check);
	if (IS_ERR_OR_NULL(eb))
		return eb ? eb : ERR_PTR(-EIO);
	if (btrfs_header_level(eb) != level - 1) {
		free_extent_buffer(eb);
		return ERR_PTR(-EUCLEAN);
	}
	return eb;
}

/* ------------------------------------------------------------------ */
/* Search. */

/*
 * Binary search @key among the keys of @eb: 0 and the slot of an equal key,
 * or 1 and the first slot with a bigger key (nritems when none).
 */
static int bin_search(const struct extent_buffer *eb, int level,
		      const struct btrfs_key *key, int *slot)
{
	int low = 0;
	int high = btrfs_header_nritems_clamped(eb);

	while (low < high) {
		int mid = low + (high - low) / 2;
		struct btrfs_key k;
		int cmp;

		eb_key_at(eb, level, mid, &k);
		cmp = btrfs_comp_cpu_keys(&k, key);
		if (cmp == 0) {
			*slot = mid;
			return 0;
		}
		if (cmp < 0)
			low = mid + 1;
		else
			high = mid;
	}
	*slot = low;
	return 1;
}

static int search_slot_cow(struct btrfs_trans_handle *trans,
			   struct btrfs_root *root, const struct btrfs_key *key,
			   struct btrfs_path *path, int ins_len);

int btrfs_search_slot(struct btrfs_trans_handle *trans, struct btrfs_root *root,
		      const struct btrfs_key *key, struct btrfs_path *path,
		      int ins_len, int cow)
{
	struct extent_buffer *b;
	int level;
	int ret;
	int slot;

	btrfs_release_path(path);
	if (!root || !root->node)
		return -ENOENT;
	if (cow) {
		if (!trans || trans->fs_info != root->fs_info)
			return -EINVAL;
		return search_slot_cow(trans, root, key, path, ins_len);
	}
	if (ins_len > 0)
		return -EINVAL;
	b = extent_buffer_get(root->node);
	while (1) {
		level = btrfs_header_level(b);
		if (level >= BTRFS_MAX_LEVEL) {
			free_extent_buffer(b);
			release_path_on_error(path);
			return -EUCLEAN;
		}
		path->nodes[level] = b;
		ret = bin_search(b, level, key, &slot);
		if (level == 0) {
			path->slots[0] = slot;
			return ret;
		}
		/* In a node, the child that may hold @key is the one before. */
		if (ret && slot > 0)
			slot--;
		path->slots[level] = slot;
		if (level <= path->lowest_level)
			return ret;
		b = btrfs_read_node_slot(root->fs_info, b, slot);
		if (IS_ERR(b)) {
			release_path_on_error(path);
			return (int)PTR_ERR(b);
		}
	}
}

/* ------------------------------------------------------------------ */
/* Stepping between leaves. */

/*
 * Replace the path below @level by the leftmost (@last false) or rightmost
 * descent from nodes[level] at slots[level].
 */
static int descend_edge(struct btrfs_fs_info *fs_info, struct btrfs_path *path,
			int level, bool last)
{
	while (level > 0) {
		struct extent_buffer *child;
		int nr;

		child = btrfs_read_node_slot(fs_info, path->nodes[level],
					     path->slots[level]);
		if (IS_ERR(child)) {
			release_path_on_error(path);
			return (int)PTR_ERR(child);
		}
		level--;
		free_extent_buffer(path->nodes[level]);
		path->nodes[level] = child;
		nr = btrfs_header_nritems_clamped(child);
		path->slots[level] = (last && nr > 0) ? nr - 1 : 0;
	}
	return 0;
}

int btrfs_next_leaf(struct btrfs_root *root, struct btrfs_path *path)
{
	int level;

	for (level = 1; level < BTRFS_MAX_LEVEL; level++) {
		struct extent_buffer *node = path->nodes[level];

		if (!node)
			return 1;
		if (path->slots[level] + 1 < btrfs_header_nritems_clamped(node))
			break;
	}
	if (level == BTRFS_MAX_LEVEL)
		return 1;
	path->slots[level]++;
	return descend_edge(root->fs_info, path, level, false);
}

int btrfs_prev_leaf(struct btrfs_root *root, struct btrfs_path *path)
{
	int level;

	for (level = 1; level < BTRFS_MAX_LEVEL; level++) {
		struct extent_buffer *node = path->nodes[level];

		if (!node)
			return 1;
		if (path->slots[level] > 0)
			break;
	}
	if (level == BTRFS_MAX_LEVEL)
		return 1;
	path->slots[level]--;
	return descend_edge(root->fs_info, path, level, true);
}

/* Move forward until slots[0] is a real item (skips empty leaves). */
static int settle_forward(struct btrfs_root *root, struct btrfs_path *path)
{
	while (path->slots[0] >= btrfs_header_nritems_clamped(path->nodes[0])) {
		int ret = btrfs_next_leaf(root, path);

		if (ret)
			return ret;
	}
	return 0;
}

int btrfs_next_item(struct btrfs_root *root, struct btrfs_path *path)
{
	if (!path->nodes[0])
		return -EINVAL;
	path->slots[0]++;
	return settle_forward(root, path);
}

int btrfs_previous_item(struct btrfs_root *root, struct btrfs_path *path,
			u64 min_objectid, int type)
{
	struct btrfs_key found;

	if (!path->nodes[0])
		return -EINVAL;
	while (1) {
		int nr;

		if (path->slots[0] == 0) {
			int ret = btrfs_prev_leaf(root, path);

			if (ret)
				return ret;
		} else {
			path->slots[0]--;
		}
		nr = btrfs_header_nritems_clamped(path->nodes[0]);
		if (nr == 0)
			continue;	/* an empty leaf: keep going back */
		if (path->slots[0] >= nr)
			path->slots[0] = nr - 1;
		btrfs_item_key_to_cpu(path->nodes[0], &found, path->slots[0]);
		if (found.objectid < min_objectid)
			return 1;
		if (type == 0 || found.type == type)
			return 0;
		if (found.objectid == min_objectid && found.type < type)
			return 1;
	}
}

int btrfs_search_slot_for_read(struct btrfs_root *root,
			       const struct btrfs_key *key,
			       struct btrfs_path *path)
{
	int ret = btrfs_search_slot(NULL, root, key, path, 0, 0);

	if (ret < 0)
		return ret;
	if (!path->nodes[0])
		return -EINVAL;	/* lowest_level above the leaves */
	return settle_forward(root, path);
}

/* ------------------------------------------------------------------ */
/* Whole-tree walks. */

/* Open-addressing set of block numbers; 0 marks a free slot. */
struct bytenr_set {
	u64 *slots;
	size_t cap;		/* power of two */
	size_t count;
	bool has_zero;		/* 0 itself, only seen in damaged nodes */
};

static size_t bytenr_hash(u64 bytenr, size_t cap)
{
	return (size_t)(((bytenr >> 12) * 0x9E3779B97F4A7C15ULL) >> 20) &
	       (cap - 1);
}

static void bytenr_set_put(u64 *slots, size_t cap, u64 bytenr)
{
	size_t i = bytenr_hash(bytenr, cap);

	while (slots[i] && slots[i] != bytenr)
		i = (i + 1) & (cap - 1);
	slots[i] = bytenr;
}

static int bytenr_set_grow(struct bytenr_set *set)
{
	size_t cap = set->cap ? set->cap * 2 : 256;
	u64 *slots = calloc(cap, sizeof(*slots));

	if (!slots)
		return -ENOMEM;
	for (size_t i = 0; i < set->cap; i++)
		if (set->slots[i])
			bytenr_set_put(slots, cap, set->slots[i]);
	free(set->slots);
	set->slots = slots;
	set->cap = cap;
	return 0;
}

static bool bytenr_set_contains(const struct bytenr_set *set, u64 bytenr)
{
	size_t i;

	if (bytenr == 0)
		return set->has_zero;
	if (!set->cap)
		return false;
	i = bytenr_hash(bytenr, set->cap);
	while (set->slots[i]) {
		if (set->slots[i] == bytenr)
			return true;
		i = (i + 1) & (set->cap - 1);
	}
	return false;
}

/* 1 if @bytenr was new (and is now in), 0 if seen before, <0 on ENOMEM. */
static int bytenr_set_add(struct bytenr_set *set, u64 bytenr)
{
	size_t i;

	if (bytenr == 0) {
		if (set->has_zero)
			return 0;
		set->has_zero = true;
		return 1;
	}
	if ((set->count + 1) * 4 > set->cap * 3 && bytenr_set_grow(set))
		return -ENOMEM;
	i = bytenr_hash(bytenr, set->cap);
	while (set->slots[i]) {
		if (set->slots[i] == bytenr)
			return 0;
		i = (i + 1) & (set->cap - 1);
	}
	set->slots[i] = bytenr;
	set->count++;
	return 1;
}

struct walk_state {
	struct btrfs_fs_info *fs_info;
	const struct btrfs_tree_walk_ops *ops;
	void *ctx;
	struct bytenr_set seen;
};

static void walk_error(struct walk_state *w, u64 bytenr, int err)
{
	if (w->ops->on_error)
		w->ops->on_error(bytenr, err, w->ctx);
}

static int walk_visit(struct walk_state *w, struct extent_buffer *eb)
{
	return w->ops->visit ? w->ops->visit(eb, w->ctx) : 0;
}

/*
 * Depth first, parents before children, children in key order.  The stack
 * holds one node per level, so at most BTRFS_MAX_LEVEL buffers are held.
 */
struct dfs_frame {
	struct extent_buffer *eb;
	int next_slot;
};

/*
 * A block counts as seen once it was read and verified, so that a bad
 * pointer to a block (wrong level, generation or key) does not hide the good
 * pointer to it; blocks that fail are never expanded, so loops still end.
 */
static int mark_seen(struct walk_state *w, struct extent_buffer *eb)
{
	int ret = bytenr_set_add(&w->seen, eb->start);

	if (ret < 0)
		free_extent_buffer(eb);
	return ret < 0 ? ret : 1;
}

/* Read child @slot of @parent unless seen: 1 and *child, 0 skip, <0 fatal. */
static int walk_child(struct walk_state *w, struct extent_buffer *parent,
		      int slot, struct extent_buffer **child)
{
	u64 bytenr = btrfs_node_blockptr(parent, slot);

	if (bytenr_set_contains(&w->seen, bytenr))
		return 0;
	*child = btrfs_read_node_slot(w->fs_info, parent, slot);
	if (IS_ERR(*child)) {
		walk_error(w, bytenr, (int)PTR_ERR(*child));
		return 0;
	}
	return mark_seen(w, *child);
}

static int walk_dfs(struct walk_state *w, struct extent_buffer *root_eb)
{
	struct dfs_frame stack[BTRFS_MAX_LEVEL];
	int depth = 0;
	int ret = walk_visit(w, root_eb);

	if (ret || btrfs_header_level(root_eb) == 0)
		return ret;
	stack[depth++] = (struct dfs_frame){ extent_buffer_get(root_eb), 0 };
	while (depth > 0 && !ret) {
		struct dfs_frame *top = &stack[depth - 1];
		struct extent_buffer *child;

		if (top->next_slot >= btrfs_header_nritems_clamped(top->eb)) {
			free_extent_buffer(top->eb);
			depth--;
			continue;
		}
		ret = walk_child(w, top->eb, top->next_slot++, &child);
		if (ret <= 0)
			continue;
		ret = walk_visit(w, child);
		/* Levels strictly decrease, so depth stays below the max. */
		if (!ret && btrfs_header_level(child) > 0 &&
		    depth < BTRFS_MAX_LEVEL)
			stack[depth++] = (struct dfs_frame){ child, 0 };
		else
			free_extent_buffer(child);
	}
	while (depth > 0)
		free_extent_buffer(stack[--depth].eb);
	return ret;
}

/*
 * Breadth first: the queue holds what a parent promises about each child,
 * never the buffers, so memory is a few dozen bytes per pending pointer
 * (each pointer of a visited node is queued at most once).
 */
struct bfs_entry {
	u64 bytenr;
	u64 generation;
	struct btrfs_key first_key;
	int level;
};

struct bfs_queue {
	struct bfs_entry *items;
	size_t head;
	size_t tail;
	size_t cap;
};

static int bfs_push(struct bfs_queue *q, const struct bfs_entry *e)
{
	if (q->tail == q->cap) {
		size_t live = q->tail - q->head;
		size_t cap = q->cap;
		struct bfs_entry *items = q->items;

		/* grow only when more than half the queue is live */
		if ((live * 2 > cap || !cap) &&
		    array_reserve(items, cap, cap + 1, 256))
			return -ENOMEM;
		memmove(items, items + q->head, live * sizeof(*items));
		q->items = items;
		q->cap = cap;
		q->head = 0;
		q->tail = live;
	}
	q->items[q->tail++] = *e;
	return 0;
}

/* Queue the unseen children of @eb. */
static int bfs_queue_children(struct walk_state *w, struct bfs_queue *q,
			      const struct extent_buffer *eb)
{
	int level = btrfs_header_level(eb);
	int nr = btrfs_header_nritems_clamped(eb);

	for (int slot = 0; level > 0 && slot < nr; slot++) {
		struct bfs_entry e;
		int ret;

		e.bytenr = btrfs_node_blockptr(eb, slot);
		if (bytenr_set_contains(&w->seen, e.bytenr))
			continue;
		e.generation = btrfs_node_ptr_generation(eb, slot);
		e.level = level - 1;
		btrfs_node_key_to_cpu(eb, &e.first_key, slot);
		ret = bfs_push(q, &e);
		if (ret)
			return ret;
	}
	return 0;
}

static struct extent_buffer *bfs_read(struct walk_state *w,
				      const struct bfs_entry *e)
{
	struct btrfs_tree_parent_check check = {
		.transid = e->generation,
		.level = e->level,
		.has_first_key = true,
		.first_key = e->first_key,
	};
	struct extent_buffer *eb = read_tree_block(w->fs_info, e->bytenr,
						   &check);

	if (IS_ERR_OR_NULL(eb))
		return eb ? eb : ERR_PTR(-EIO);
	if (btrfs_header_level(eb) != e->level) {
		free_extent_buffer(eb);
		return ERR_PTR(-EUCLEAN);
	}
	return eb;
}

static int walk_bfs(struct walk_state *w, struct extent_buffer *root_eb)
{
	struct bfs_queue q = { 0 };
	int ret = walk_visit(w, root_eb);

	if (!ret)
		ret = bfs_queue_children(w, &q, root_eb);
	while (!ret && q.head < q.tail) {
		struct bfs_entry e = q.items[q.head++];
		struct extent_buffer *eb;

		/* A block queued twice before it was read. */
		if (bytenr_set_contains(&w->seen, e.bytenr))
			continue;
		eb = bfs_read(w, &e);
		if (IS_ERR(eb)) {
			walk_error(w, e.bytenr, (int)PTR_ERR(eb));
			continue;
		}
		ret = mark_seen(w, eb);
		if (ret < 0)
			break;
		ret = walk_visit(w, eb);
		if (!ret)
			ret = bfs_queue_children(w, &q, eb);
		free_extent_buffer(eb);
	}
	free(q.items);
	return ret;
}

int btrfs_walk_tree(struct btrfs_fs_info *fs_info,
		    struct extent_buffer *root_eb, bool bfs,
		    const struct btrfs_tree_walk_ops *ops, void *ctx)
{
	struct walk_state w = { .fs_info = fs_info, .ops = ops, .ctx = ctx };
	int ret;

	if (!root_eb || !ops)
		return -EINVAL;
	if (btrfs_header_level(root_eb) >= BTRFS_MAX_LEVEL)
		return -EUCLEAN;
	ret = bytenr_set_add(&w.seen, root_eb->start);
	if (ret >= 0)
		ret = bfs ? walk_bfs(&w, root_eb) : walk_dfs(&w, root_eb);
	free(w.seen.slots);
	return ret;
}

/* ------------------------------------------------------------------ */
/*
 * Write path.  Every function below modifies only blocks that were copied
 * (COWed) or allocated in the running transaction; committed blocks are
 * never written to.
 */

static unsigned long leaf_off(u32 data_off)
{
	return BTRFS_LEAF_DATA_OFFSET + data_off;
}

static unsigned long item_hdr_off(int slot)
{
	return BTRFS_LEAF_DATA_OFFSET + sizeof(struct btrfs_item) * (size_t)slot;
}

static unsigned long key_ptr_off(int slot)
{
	return BTRFS_LEAF_DATA_OFFSET +
	       sizeof(struct btrfs_key_ptr) * (size_t)slot;
}

static void set_item_offset(struct extent_buffer *eb, int slot, u32 val)
{
	btrfs_set_raw_item_offset(eb, btrfs_item_nr(eb, slot), val);
}

static void set_item_size(struct extent_buffer *eb, int slot, u32 val)
{
	btrfs_set_raw_item_size(eb, btrfs_item_nr(eb, slot), val);
}

static void set_item_key(struct extent_buffer *eb, int slot,
			 const struct btrfs_key *key)
{
	btrfs_cpu_key_to_disk(&btrfs_item_nr(eb, slot)->key, key);
}

static void set_node_key(struct extent_buffer *eb, int slot,
			 const struct btrfs_key *key)
{
	btrfs_cpu_key_to_disk(&btrfs_key_ptr_nr(eb, slot)->key, key);
}

static void set_node_ptr(struct extent_buffer *eb, int slot, u64 bytenr,
			 u64 generation)
{
	struct btrfs_key_ptr *ptr = btrfs_key_ptr_nr(eb, slot);

	btrfs_set_key_ptr_blockptr(eb, ptr, bytenr);
	btrfs_set_key_ptr_generation(eb, ptr, generation);
}

/* Lowest data offset in use: where the next item's data would end. */
static u32 leaf_data_end(const struct extent_buffer *leaf)
{
	int nr = btrfs_header_nritems(leaf);

	if (nr == 0)
		return btrfs_leaf_data_size(leaf->len);
	return btrfs_item_offset(leaf, nr - 1);
}

u32 btrfs_leaf_free_space(const struct extent_buffer *leaf)
{
	u32 hdrs = btrfs_header_nritems(leaf) * (u32)sizeof(struct btrfs_item);
	u32 end = leaf_data_end(leaf);

	return end >= hdrs ? end - hdrs : 0;
}

/* Bytes used by items [start, end) of @leaf, headers included. */
static u32 leaf_space_used(const struct extent_buffer *leaf, int start,
			   int end)
{
	if (end <= start)
		return 0;
	return btrfs_item_data_end(leaf, start) -
	       btrfs_item_offset(leaf, end - 1) +
	       (u32)(sizeof(struct btrfs_item) * (size_t)(end - start));
}

/* ------------------------------------------------------------------ */
/* COW. */

bool btrfs_root_is_shareable(const struct btrfs_root *root)
{
	u64 id = root->root_key.objectid;

	return id == BTRFS_FS_TREE_OBJECTID ||
	       id == BTRFS_TREE_RELOC_OBJECTID ||
	       (id >= BTRFS_FIRST_FREE_OBJECTID && id <= BTRFS_LAST_FREE_OBJECTID);
}

static bool should_cow_block(const struct btrfs_trans_handle *trans,
			     const struct extent_buffer *buf)
{
	return !(btrfs_header_generation(buf) == trans->transid &&
		 !(btrfs_header_flags(buf) & BTRFS_HEADER_FLAG_WRITTEN) &&
		 extent_buffer_dirty(buf));
}

/*
 * Relocation trees and blocks, and blocks of the old backref format, have
 * rules of their own that we do not write: refuse them.
 */
static int check_block_supported(const struct btrfs_root *root,
				 const struct extent_buffer *buf)
{
	u64 flags = btrfs_header_flags(buf);

	if ((flags & BTRFS_BACKREF_REV_MASK) >> BTRFS_BACKREF_REV_SHIFT !=
	    BTRFS_MIXED_BACKREF_REV)
		return -EOPNOTSUPP;
	if (flags & BTRFS_HEADER_FLAG_RELOC)
		return -EOPNOTSUPP;
	if (root->root_key.objectid == BTRFS_TREE_RELOC_OBJECTID ||
	    btrfs_header_owner(buf) == BTRFS_TREE_RELOC_OBJECTID)
		return -EOPNOTSUPP;
	return 0;
}

/*
 * The kernel's btrfs_block_can_be_shared: a block of a reference counted
 * tree other than its root node, not newer than the tree's last snapshot.
 */
static bool block_can_be_shared(const struct btrfs_root *root,
				const struct extent_buffer *buf)
{
	return btrfs_root_is_shareable(root) && buf != root->node &&
	       btrfs_header_generation(buf) <=
		       btrfs_stack_root_last_snapshot(&root->root_item);
}

/*
 * The kernel's update_ref_for_cow: before @buf is replaced by its copy
 * @cow in @root, make the references of what they point to right.
 * - @buf has other references (refs > 1): if @root owns it and it still
 *   uses normal backrefs, its children get shared refs with @buf as parent
 *   and @buf becomes FULL_BACKREF (the existing normal refs of the owner
 *   now stand for @cow); otherwise @cow's children get normal refs of
 *   @root.  @buf itself stays.
 * - @root holds the last reference: if @buf was FULL_BACKREF its
 *   children's shared refs move to normal refs of @root from @cow; @buf
 *   goes (*last_ref).
 * (The relocation tree's variants are refused before we get here.)
 */
static int update_ref_for_cow(struct btrfs_trans_handle *trans,
			      struct btrfs_root *root,
			      struct extent_buffer *buf,
			      struct extent_buffer *cow, bool *last_ref)
{
	u64 owner = btrfs_header_owner(buf);
	u64 refs = 1, flags = 0;
	int ret = 0;

	*last_ref = false;
	if (block_can_be_shared(root, buf)) {
		ret = btrfs_lookup_extent_info(trans, buf->start,
					       btrfs_header_level(buf), &refs,
					       &flags);
		if (ret)
			return ret == -ENOENT ? -EUCLEAN : ret;
	}
	if (refs > 1) {
		if (owner == root->root_key.objectid &&
		    !(flags & BTRFS_BLOCK_FLAG_FULL_BACKREF)) {
			ret = btrfs_inc_ref(trans, root, buf, true);
			if (!ret)
				ret = btrfs_set_disk_extent_flags(trans, buf,
					BTRFS_BLOCK_FLAG_FULL_BACKREF);
		} else {
			ret = btrfs_inc_ref(trans, root, cow, false);
		}
		return ret;
	}
	if (flags & BTRFS_BLOCK_FLAG_FULL_BACKREF) {
		ret = btrfs_inc_ref(trans, root, cow, false);
		if (!ret)
			ret = btrfs_dec_ref(trans, root, buf, true);
	}
	*last_ref = true;
	return ret;
}

static void first_key_of(const struct extent_buffer *eb, struct btrfs_key *key)
{
	if (btrfs_header_nritems(eb) == 0)
		memset(key, 0, sizeof(*key));
	else
		btrfs_first_key_to_cpu(eb, key);
}

struct extent_buffer *btrfs_alloc_tree_block_copy(
				struct btrfs_trans_handle *trans,
				struct btrfs_root *root,
				const struct btrfs_key *ins,
				const struct extent_buffer *buf)
{
	struct extent_buffer *copy;
	struct btrfs_key first;

	first_key_of(buf, &first);
	copy = btrfs_alloc_reserved_tree_block(trans, root, ins,
					       btrfs_header_level(buf), &first);
	if (IS_ERR(copy))
		return copy;
	memcpy(copy->data + sizeof(struct btrfs_header),
	       buf->data + sizeof(struct btrfs_header),
	       buf->len - sizeof(struct btrfs_header));
	btrfs_set_header_nritems(copy, btrfs_header_nritems(buf));
	return copy;
}

/* Make @eb the root node of @root (takes the caller's reference). */
static int set_root_node(struct btrfs_trans_handle *trans,
			 struct btrfs_root *root, struct extent_buffer *eb)
{
	struct extent_buffer *old = root->node;

	root->node = eb;
	free_extent_buffer(old);
	return btrfs_mark_root_dirty(trans, root);
}

int btrfs_cow_block(struct btrfs_trans_handle *trans, struct btrfs_root *root,
		    struct extent_buffer *buf, struct extent_buffer *parent,
		    int parent_slot, struct extent_buffer **cow_ret,
		    const struct btrfs_key *ins)
{
	struct btrfs_fs_info *fs_info = root->fs_info;
	struct extent_buffer *cow;
	bool last_ref;
	u64 flags;
	int ret;

	ret = check_block_supported(root, buf);
	if (ret) {
		btrfs_free_reserved_extent(fs_info, ins->objectid, ins->offset);
		return ret;
	}
	cow = btrfs_alloc_tree_block_copy(trans, root, ins, buf);
	if (IS_ERR(cow))
		return (int)PTR_ERR(cow);
	flags = btrfs_header_flags(cow);
	btrfs_set_header_flags(cow, flags & ~(BTRFS_HEADER_FLAG_WRITTEN |
					      BTRFS_HEADER_FLAG_RELOC));
	ret = update_ref_for_cow(trans, root, buf, cow, &last_ref);
	if (ret)
		goto fail;
	if (buf == root->node) {
		ret = set_root_node(trans, root, extent_buffer_get(cow));
	} else if (parent) {
		set_node_ptr(parent, parent_slot, cow->start, trans->transid);
		ret = btrfs_mark_buffer_dirty(trans, parent);
	}
	if (!ret)
		ret = btrfs_free_tree_block_ref(trans, root->root_key.objectid,
						buf, 0, last_ref);
	if (ret)
		goto fail;
	*cow_ret = cow;
	return 0;
fail:
	free_extent_buffer(cow);
	return ret;
}

/* Reserve a tree block for @root (stage one), unless @ins already holds one. */
static int reserve_block(struct btrfs_trans_handle *trans,
			 struct btrfs_root *root, struct btrfs_key *ins,
			 u64 hint)
{
	if (ins->objectid)
		return 0;
	return btrfs_reserve_extent(trans, root, root->fs_info->nodesize, 0,
				    hint, ins, false);
}

static void release_reservation(struct btrfs_fs_info *fs_info,
				struct btrfs_key *ins)
{
	if (ins->objectid)
		btrfs_free_reserved_extent(fs_info, ins->objectid, ins->offset);
	ins->objectid = 0;
}

/* A new block for @root from a fresh reservation. */
static struct extent_buffer *new_tree_block(struct btrfs_trans_handle *trans,
					    struct btrfs_root *root, int level,
					    const struct btrfs_key *first,
					    u64 hint)
{
	struct btrfs_key ins = { 0 };
	int ret = reserve_block(trans, root, &ins, hint);

	if (ret)
		return ERR_PTR(ret);
	return btrfs_alloc_reserved_tree_block(trans, root, &ins, level, first);
}

/* COW @buf (child of @parent at @slot) using, or first making, @prealloc. */
static int cow_with_prealloc(struct btrfs_trans_handle *trans,
			     struct btrfs_root *root, struct extent_buffer *buf,
			     struct extent_buffer *parent, int slot,
			     struct btrfs_key *prealloc,
			     struct extent_buffer **cow)
{
	struct btrfs_key ins;
	int ret = reserve_block(trans, root, prealloc, buf->start);

	if (ret)
		return ret;
	ins = *prealloc;
	prealloc->objectid = 0;
	return btrfs_cow_block(trans, root, buf, parent, slot, cow, &ins);
}

/* ------------------------------------------------------------------ */
/* Keys and pointers. */

/* Set the key at slots[level] and up while it is the first of its node. */
static int fixup_low_keys(struct btrfs_trans_handle *trans,
			  struct btrfs_path *path, const struct btrfs_key *key,
			  int level)
{
	for (int i = level; i < BTRFS_MAX_LEVEL && path->nodes[i]; i++) {
		int ret;

		set_node_key(path->nodes[i], path->slots[i], key);
		ret = btrfs_mark_buffer_dirty(trans, path->nodes[i]);
		if (ret)
			return ret;
		if (path->slots[i] != 0)
			break;
	}
	return 0;
}

/* Insert a pointer at @slot of path->nodes[level] (which has room). */
static int insert_ptr(struct btrfs_trans_handle *trans, struct btrfs_path *path,
		      const struct btrfs_key *key, u64 bytenr, u64 gen,
		      int slot, int level)
{
	struct extent_buffer *node = path->nodes[level];
	int nr = btrfs_header_nritems(node);

	if ((u32)nr >= btrfs_max_node_ptrs(node->len) || slot > nr)
		return -EUCLEAN;
	if (slot < nr)
		memmove_extent_buffer(node, key_ptr_off(slot + 1),
				      key_ptr_off(slot),
				      sizeof(struct btrfs_key_ptr) *
					      (size_t)(nr - slot));
	set_node_key(node, slot, key);
	set_node_ptr(node, slot, bytenr, gen);
	btrfs_set_header_nritems(node, nr + 1);
	return btrfs_mark_buffer_dirty(trans, node);
}

/*
 * Put a new root node above path->nodes[level - 1], the current root, with
 * it as its only child.
 */
static int insert_new_root(struct btrfs_trans_handle *trans,
			   struct btrfs_root *root, struct btrfs_path *path,
			   int level)
{
	struct extent_buffer *lower = path->nodes[level - 1];
	struct extent_buffer *c;
	struct btrfs_key first;
	int ret;

	if (level >= BTRFS_MAX_LEVEL)
		return -EOVERFLOW;
	first_key_of(lower, &first);
	c = new_tree_block(trans, root, level, &first, lower->start);
	if (IS_ERR(c))
		return (int)PTR_ERR(c);
	set_node_key(c, 0, &first);
	set_node_ptr(c, 0, lower->start, btrfs_header_generation(lower));
	btrfs_set_header_nritems(c, 1);
	ret = set_root_node(trans, root, extent_buffer_get(c));
	if (ret) {
		free_extent_buffer(c);
		return ret;
	}
	path->nodes[level] = c;
	path->slots[level] = 0;
	return 0;
}

/* Split node path->nodes[level] in two halves; the path follows its slot. */
static int split_node(struct btrfs_trans_handle *trans, struct btrfs_root *root,
		      struct btrfs_path *path, int level)
{
	struct extent_buffer *c = path->nodes[level];
	struct extent_buffer *split;
	struct btrfs_key key;
	int nr, mid, ret;

	if (c == root->node) {
		ret = insert_new_root(trans, root, path, level + 1);
		if (ret)
			return ret;
	}
	nr = btrfs_header_nritems(c);
	mid = (nr + 1) / 2;
	btrfs_node_key_to_cpu(c, &key, mid);
	split = new_tree_block(trans, root, level, &key, c->start);
	if (IS_ERR(split))
		return (int)PTR_ERR(split);
	memcpy(split->data + key_ptr_off(0), c->data + key_ptr_off(mid),
	       sizeof(struct btrfs_key_ptr) * (size_t)(nr - mid));
	btrfs_set_header_nritems(split, nr - mid);
	btrfs_set_header_nritems(c, mid);
	memzero_extent_buffer(c, key_ptr_off(mid),
			      sizeof(struct btrfs_key_ptr) * (size_t)(nr - mid));
	ret = btrfs_mark_buffer_dirty(trans, c);
	if (!ret)
		ret = insert_ptr(trans, path, &key, split->start,
				 trans->transid, path->slots[level + 1] + 1,
				 level + 1);
	if (ret) {
		free_extent_buffer(split);
		return ret;
	}
	if (path->slots[level] >= mid) {
		path->slots[level] -= mid;
		free_extent_buffer(c);
		path->nodes[level] = split;
		path->slots[level + 1]++;
	} else {
		free_extent_buffer(split);
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Moving items between neighbouring leaves. */

/* Move the last @n items of @left to the front of @right. */
static void move_items_right(struct extent_buffer *left,
			     struct extent_buffer *right, int n)
{
	int lnr = btrfs_header_nritems(left);
	int rnr = btrfs_header_nritems(right);
	u32 size = btrfs_leaf_data_size(left->len);
	u32 src_end = btrfs_item_data_end(left, lnr - n);
	u32 src_start = btrfs_item_offset(left, lnr - 1);
	u32 bytes = src_end - src_start;
	u32 rend = leaf_data_end(right);
	u32 delta = size - src_end;
	int i;

	/* Make room at the top of right's data and in front of its items. */
	memmove_extent_buffer(right, leaf_off(rend - bytes), leaf_off(rend),
			      size - rend);
	for (i = 0; i < rnr; i++)
		set_item_offset(right, i, btrfs_item_offset(right, i) - bytes);
	memmove_extent_buffer(right, item_hdr_off(n), item_hdr_off(0),
			      sizeof(struct btrfs_item) * (size_t)rnr);
	memcpy(right->data + leaf_off(size - bytes),
	       left->data + leaf_off(src_start), bytes);
	memcpy(right->data + item_hdr_off(0),
	       left->data + item_hdr_off(lnr - n),
	       sizeof(struct btrfs_item) * (size_t)n);
	for (i = 0; i < n; i++)
		set_item_offset(right, i, btrfs_item_offset(right, i) + delta);
	btrfs_set_header_nritems(right, rnr + n);
	btrfs_set_header_nritems(left, lnr - n);
	memzero_extent_buffer(left, leaf_off(src_start), bytes);
	memzero_extent_buffer(left, item_hdr_off(lnr - n),
			      sizeof(struct btrfs_item) * (size_t)n);
}

/* Move the first @n items of @right to the end of @left. */
static void move_items_left(struct extent_buffer *left,
			    struct extent_buffer *right, int n)
{
	int lnr = btrfs_header_nritems(left);
	int rnr = btrfs_header_nritems(right);
	u32 size = btrfs_leaf_data_size(left->len);
	u32 src_start = btrfs_item_offset(right, n - 1);
	u32 bytes = size - src_start;
	u32 lend = leaf_data_end(left);
	u32 rend = leaf_data_end(right);
	int i;

	memcpy(left->data + leaf_off(lend - bytes),
	       right->data + leaf_off(src_start), bytes);
	memcpy(left->data + item_hdr_off(lnr), right->data + item_hdr_off(0),
	       sizeof(struct btrfs_item) * (size_t)n);
	for (i = lnr; i < lnr + n; i++)
		set_item_offset(left, i,
				btrfs_item_offset(left, i) - (size - lend));
	btrfs_set_header_nritems(left, lnr + n);

	/* Close the gap in right: data up by @bytes, headers down by @n. */
	memmove_extent_buffer(right, leaf_off(rend + bytes), leaf_off(rend),
			      src_start - rend);
	memmove_extent_buffer(right, item_hdr_off(0), item_hdr_off(n),
			      sizeof(struct btrfs_item) * (size_t)(rnr - n));
	for (i = 0; i < rnr - n; i++)
		set_item_offset(right, i, btrfs_item_offset(right, i) + bytes);
	btrfs_set_header_nritems(right, rnr - n);
	memzero_extent_buffer(right, leaf_off(rend), bytes);
	memzero_extent_buffer(right, item_hdr_off(rnr - n),
			      sizeof(struct btrfs_item) * (size_t)n);
}

/* Read and COW child @pslot of @parent (a block COWed already). */
static int cow_sibling(struct btrfs_trans_handle *trans,
		       struct btrfs_root *root, struct extent_buffer *parent,
		       int pslot, struct extent_buffer **out)
{
	struct extent_buffer *sib;
	struct btrfs_key prealloc = { 0 };
	int ret;

	sib = btrfs_read_node_slot(root->fs_info, parent, pslot);
	if (IS_ERR(sib))
		return (int)PTR_ERR(sib);
	if (!should_cow_block(trans, sib)) {
		*out = sib;
		return 0;
	}
	ret = cow_with_prealloc(trans, root, sib, parent, pslot, &prealloc,
				out);
	free_extent_buffer(sib);
	return ret;
}

/* How many leading (@from_start) or trailing items of @src fit in @room. */
static int items_that_fit(const struct extent_buffer *src, u32 room,
			  bool from_start)
{
	int nr = btrfs_header_nritems(src);
	u32 used = 0;
	int n = 0;

	while (n < nr) {
		int slot = from_start ? n : nr - 1 - n;
		u32 sz = btrfs_item_size(src, slot) +
			 (u32)sizeof(struct btrfs_item);

		if (used + sz > room)
			break;
		used += sz;
		n++;
	}
	return n;
}

/*
 * Give as many items of the leaf at the path as fit (at most @max) to its
 * left (@left) or right neighbour under the same parent: leading items go
 * left (the path's slot moves down with them), trailing items go right.
 * The neighbour is COWed only when something moves.  1 when nothing moved,
 * 0, <0.
 */
static int push_leaf(struct btrfs_trans_handle *trans, struct btrfs_root *root,
		     struct btrfs_path *path, bool left, int max)
{
	struct extent_buffer *parent = path->nodes[1];
	struct extent_buffer *leaf = path->nodes[0];
	struct extent_buffer *sib;
	int pslot = path->slots[1] + (left ? -1 : 1);
	struct btrfs_key key;
	int n, ret;

	if (!parent || pslot < 0 || pslot >= (int)btrfs_header_nritems(parent) ||
	    btrfs_header_nritems(leaf) == 0 || max <= 0)
		return 1;
	sib = btrfs_read_node_slot(root->fs_info, parent, pslot);
	if (IS_ERR(sib))
		return (int)PTR_ERR(sib);
	n = min_t(int, max, items_that_fit(leaf, btrfs_leaf_free_space(sib),
					   left));
	if (n > 0 && should_cow_block(trans, sib)) {
		struct btrfs_key prealloc = { 0 };
		struct extent_buffer *cow;

		ret = cow_with_prealloc(trans, root, sib, parent, pslot,
					&prealloc, &cow);
		free_extent_buffer(sib);
		if (ret)
			return ret;
		sib = cow;
	}
	if (n <= 0) {
		free_extent_buffer(sib);
		return 1;
	}
	if (left) {
		move_items_left(sib, leaf, n);
		path->slots[0] = max_t(int, 0, path->slots[0] - n);
		if (btrfs_header_nritems(leaf)) {
			btrfs_item_key_to_cpu(leaf, &key, 0);
			set_node_key(parent, path->slots[1], &key);
		}
	} else {
		move_items_right(leaf, sib, n);
		btrfs_item_key_to_cpu(sib, &key, 0);
		set_node_key(parent, pslot, &key);
	}
	ret = btrfs_mark_buffer_dirty(trans, sib);
	if (!ret)
		ret = btrfs_mark_buffer_dirty(trans, leaf);
	if (!ret)
		ret = btrfs_mark_buffer_dirty(trans, parent);
	free_extent_buffer(sib);
	return ret;
}

/* ------------------------------------------------------------------ */
/* Splitting leaves. */

/*
 * Where to split @leaf so that @need more bytes fit on the side of @slot:
 * items [0, mid) stay, [mid, nr) move to a new right leaf, and *right says
 * on which side the new bytes go.  With @extend the bytes grow the item at
 * @slot; otherwise they are new items before the item at @slot.  Prefers
 * the most even split where both sides fit and are not empty; when none
 * exists, splits at @slot (a later round puts the new bytes alone).
 */
static int pick_split(const struct extent_buffer *leaf, int slot, u32 need,
		      bool extend, bool *right)
{
	int nr = btrfs_header_nritems(leaf);
	u32 cap = btrfs_leaf_data_size(leaf->len);
	u32 total = leaf_space_used(leaf, 0, nr);
	u32 best_score = (u32)-1;
	int best = -1;
	u32 before = 0;		/* bytes of items [0, mid) */

	for (int mid = 0; mid <= nr; mid++) {
		for (int side = 0; side < 2; side++) {
			bool r = side == 1;
			u32 l_bytes = before, r_bytes = total - before;
			int l_cnt = mid, r_cnt = nr - mid;

			if (extend) {
				if (r != (slot >= mid))
					continue;
			} else if ((r && slot < mid) || (!r && slot > mid)) {
				continue;
			}
			if (r) {
				r_bytes += need;
				r_cnt += !extend;
			} else {
				l_bytes += need;
				l_cnt += !extend;
			}
			if (l_bytes > cap || r_bytes > cap || !l_cnt || !r_cnt)
				continue;
			if (max_t(u32, l_bytes, r_bytes) < best_score) {
				best_score = max_t(u32, l_bytes, r_bytes);
				best = mid;
				*right = r;
			}
		}
		if (mid < nr)
			before += btrfs_item_size(leaf, mid) +
				  (u32)sizeof(struct btrfs_item);
	}
	if (best >= 0)
		return best;
	*right = true;
	return slot;
}

/* One split of path->nodes[0]; the path follows the slot's side. */
static int split_leaf_once(struct btrfs_trans_handle *trans,
			   struct btrfs_root *root,
			   const struct btrfs_key *ins_key,
			   struct btrfs_path *path, u32 need, bool extend)
{
	struct extent_buffer *l = path->nodes[0];
	struct extent_buffer *right;
	int slot = path->slots[0];
	int nr = btrfs_header_nritems(l);
	struct btrfs_key key;
	bool go_right;
	int mid, ret;

	mid = pick_split(l, slot, need, extend, &go_right);
	if (l == root->node) {
		ret = insert_new_root(trans, root, path, 1);
		if (ret)
			return ret;
	}
	if (mid < nr)
		btrfs_item_key_to_cpu(l, &key, mid);
	else
		key = *ins_key;
	right = new_tree_block(trans, root, 0, &key, l->start);
	if (IS_ERR(right))
		return (int)PTR_ERR(right);
	if (mid < nr)
		move_items_right(l, right, nr - mid);
	ret = btrfs_mark_buffer_dirty(trans, l);
	if (!ret)
		ret = insert_ptr(trans, path, &key, right->start,
				 trans->transid, path->slots[1] + 1, 1);
	if (ret) {
		free_extent_buffer(right);
		return ret;
	}
	if (go_right) {
		free_extent_buffer(l);
		path->nodes[0] = right;
		path->slots[0] = slot - mid;
		path->slots[1]++;
	} else {
		free_extent_buffer(right);
	}
	return 0;
}

static int split_leaf(struct btrfs_trans_handle *trans, struct btrfs_root *root,
		      const struct btrfs_key *ins_key, struct btrfs_path *path,
		      u32 need, bool extend)
{
	u32 cap = btrfs_leaf_data_size(path->nodes[0]->len);
	int round;

	if (need > cap)
		return -EOVERFLOW;
	/* An item grown past the largest item would split forever. */
	if (extend && btrfs_item_size(path->nodes[0], path->slots[0]) + need >
			      btrfs_max_item_size(path->nodes[0]->len))
		return -EOVERFLOW;
	/*
	 * As the kernel, first try to make room by giving the items after
	 * the slot to the right neighbour and those before it to the left
	 * one (the item being extended stays).
	 */
	for (int side = 0; side < 2; side++) {
		struct extent_buffer *leaf = path->nodes[0];
		int slot = path->slots[0];
		int after = (int)btrfs_header_nritems(leaf) - slot - extend;
		int ret;

		if (btrfs_leaf_free_space(leaf) >= need)
			return 0;
		ret = push_leaf(trans, root, path, side == 1,
				side == 0 ? after : slot);
		if (ret < 0)
			return ret;
	}
	for (round = 0; round < 3; round++) {
		int ret;

		if (btrfs_leaf_free_space(path->nodes[0]) >= need)
			return 0;
		ret = split_leaf_once(trans, root, ins_key, path, need, extend);
		if (ret)
			return ret;
	}
	return btrfs_leaf_free_space(path->nodes[0]) >= need ? 0 : -EUCLEAN;
}

/* ------------------------------------------------------------------ */
/* Search with COW. */

/*
 * Replace a root node that has a single child by (a COW copy of) that
 * child, as long as that is the case.
 */
static int collapse_root(struct btrfs_trans_handle *trans,
			 struct btrfs_root *root)
{
	while (btrfs_header_level(root->node) > 0 &&
	       btrfs_header_nritems(root->node) == 1) {
		struct extent_buffer *old = extent_buffer_get(root->node);
		struct extent_buffer *child, *cow = NULL;
		struct btrfs_key prealloc = { 0 };
		int ret;

		child = btrfs_read_node_slot(root->fs_info, old, 0);
		if (IS_ERR(child)) {
			free_extent_buffer(old);
			return (int)PTR_ERR(child);
		}
		if (should_cow_block(trans, child))
			ret = cow_with_prealloc(trans, root, child, NULL, 0,
						&prealloc, &cow);
		else
			ret = 0, cow = extent_buffer_get(child);
		free_extent_buffer(child);
		if (!ret)
			ret = set_root_node(trans, root, cow);
		if (!ret)
			ret = btrfs_free_tree_block(trans, root, old);
		free_extent_buffer(old);
		if (ret)
			return ret;
	}
	return 0;
}

static int search_slot_cow(struct btrfs_trans_handle *trans,
			   struct btrfs_root *root, const struct btrfs_key *key,
			   struct btrfs_path *path, int ins_len)
{
	struct btrfs_key prealloc = { 0 };
	struct extent_buffer *b;
	int ret = 0, err = 0;
	int level, slot;

	if (ins_len < 0) {
		err = collapse_root(trans, root);
		if (err)
			return err;
	}
	b = extent_buffer_get(root->node);
	while (1) {
		level = btrfs_header_level(b);
		if (level >= BTRFS_MAX_LEVEL) {
			free_extent_buffer(b);
			err = -EUCLEAN;
			break;
		}
		if (should_cow_block(trans, b)) {
			struct extent_buffer *parent = NULL;
			struct extent_buffer *cow;

			if (level + 1 < BTRFS_MAX_LEVEL)
				parent = path->nodes[level + 1];
			err = cow_with_prealloc(trans, root, b, parent,
						parent ? path->slots[level + 1] : 0,
						&prealloc, &cow);
			free_extent_buffer(b);
			if (err)
				break;
			b = cow;
			/* The child of a copied node will need copying too. */
			if (level > 0)
				err = reserve_block(trans, root, &prealloc,
						    b->start);
			if (err) {
				free_extent_buffer(b);
				break;
			}
		}
		path->nodes[level] = b;
		ret = bin_search(b, level, key, &slot);
		if (level == 0) {
			path->slots[0] = slot;
			if (ins_len > 0 &&
			    btrfs_leaf_free_space(b) < (u32)ins_len)
				err = split_leaf(trans, root, key, path,
						 (u32)ins_len, ret == 0);
			break;
		}
		if (ret && slot > 0)
			slot--;
		path->slots[level] = slot;
		if (ins_len > 0 && btrfs_header_nritems(b) + 3 >=
					   btrfs_max_node_ptrs(b->len)) {
			err = split_node(trans, root, path, level);
			if (err)
				break;
			b = path->nodes[level];
			slot = path->slots[level];
		}
		if (level <= path->lowest_level)
			break;
		b = btrfs_read_node_slot(root->fs_info, b, slot);
		if (IS_ERR(b)) {
			err = (int)PTR_ERR(b);
			break;
		}
	}
	release_reservation(root->fs_info, &prealloc);
	if (err) {
		release_path_on_error(path);
		return err;
	}
	return ret;
}

/* ------------------------------------------------------------------ */
/* Inserting. */

static int setup_items_for_insert(struct btrfs_trans_handle *trans,
				  struct btrfs_path *path,
				  const struct btrfs_key *keys,
				  const u32 *sizes, int nr)
{
	struct extent_buffer *leaf = path->nodes[0];
	int slot = path->slots[0];
	int nritems = btrfs_header_nritems(leaf);
	u32 total_data = 0;
	u32 data_end, top;
	int i, ret;

	for (i = 0; i < nr; i++)
		total_data += sizes[i];
	if (btrfs_leaf_free_space(leaf) <
	    total_data + nr * (u32)sizeof(struct btrfs_item))
		return -ENOSPC;
	if (slot == 0 && path->nodes[1]) {
		ret = fixup_low_keys(trans, path, &keys[0], 1);
		if (ret)
			return ret;
	}
	data_end = leaf_data_end(leaf);
	top = data_end;
	if (slot < nritems) {
		top = btrfs_item_data_end(leaf, slot);
		for (i = slot; i < nritems; i++)
			set_item_offset(leaf, i,
					btrfs_item_offset(leaf, i) - total_data);
		memmove_extent_buffer(leaf, item_hdr_off(slot + nr),
				      item_hdr_off(slot),
				      sizeof(struct btrfs_item) *
					      (size_t)(nritems - slot));
		memmove_extent_buffer(leaf, leaf_off(data_end - total_data),
				      leaf_off(data_end), top - data_end);
	}
	for (i = 0; i < nr; i++) {
		top -= sizes[i];
		set_item_key(leaf, slot + i, &keys[i]);
		set_item_offset(leaf, slot + i, top);
		set_item_size(leaf, slot + i, sizes[i]);
		memzero_extent_buffer(leaf, leaf_off(top), sizes[i]);
	}
	btrfs_set_header_nritems(leaf, nritems + nr);
	return btrfs_mark_buffer_dirty(trans, leaf);
}

int btrfs_insert_empty_items(struct btrfs_trans_handle *trans,
			     struct btrfs_root *root, struct btrfs_path *path,
			     const struct btrfs_key *keys, const u32 *sizes,
			     int nr)
{
	u32 total = 0;
	int ret;

	if (!trans || nr <= 0)
		return -EINVAL;
	for (int i = 0; i < nr; i++)
		total += sizes[i] + (u32)sizeof(struct btrfs_item);
	if (total > btrfs_leaf_data_size(root->fs_info->nodesize))
		return -EOVERFLOW;
	ret = btrfs_search_slot(trans, root, &keys[0], path, (int)total, 1);
	if (ret == 0)
		return -EEXIST;
	if (ret < 0)
		return ret;
	return setup_items_for_insert(trans, path, keys, sizes, nr);
}

int btrfs_insert_item(struct btrfs_trans_handle *trans, struct btrfs_root *root,
		      const struct btrfs_key *key, const void *data, u32 size)
{
	struct btrfs_path *path = btrfs_alloc_path();
	int ret;

	if (!path)
		return -ENOMEM;
	ret = btrfs_insert_empty_item(trans, root, path, key, size);
	if (!ret && data && size)
		write_extent_buffer(path->nodes[0], data,
				    leaf_off(btrfs_item_offset(path->nodes[0],
							       path->slots[0])),
				    size);
	btrfs_free_path(path);
	return ret;
}

int btrfs_search_existing_item(struct btrfs_trans_handle *trans,
			       struct btrfs_root *root,
			       const struct btrfs_key *key,
			       struct btrfs_path *path, int ins_len,
			       u32 min_size)
{
	int ret = btrfs_search_slot(trans, root, key, path, ins_len, 1);

	if (ret > 0)
		return -EUCLEAN;
	if (!ret && btrfs_item_size(path->nodes[0], path->slots[0]) < min_size)
		return -EUCLEAN;
	return ret;
}

/* ------------------------------------------------------------------ */
/* Deleting. */

static int del_ptr(struct btrfs_trans_handle *trans, struct btrfs_root *root,
		   struct btrfs_path *path, int level, int slot);

/* Append all pointers of @src to @dst (which has room) and empty @src. */
static void move_all_ptrs(struct extent_buffer *dst, struct extent_buffer *src)
{
	u32 dnr = btrfs_header_nritems(dst);
	u32 snr = btrfs_header_nritems(src);

	memcpy(dst->data + key_ptr_off((int)dnr), src->data + key_ptr_off(0),
	       sizeof(struct btrfs_key_ptr) * snr);
	btrfs_set_header_nritems(dst, dnr + snr);
	memzero_extent_buffer(src, key_ptr_off(0),
			      sizeof(struct btrfs_key_ptr) * snr);
	btrfs_set_header_nritems(src, 0);
}

/*
 * A non-root node at path->nodes[level] under a quarter full is merged
 * with its left or right neighbour when the two fit in three quarters of
 * a node; the emptied node leaves the tree (which may merge its parent).
 * 0 also when nothing was merged.
 */
static int merge_node(struct btrfs_trans_handle *trans, struct btrfs_root *root,
		      struct btrfs_path *path, int level)
{
	struct extent_buffer *node = path->nodes[level];
	struct extent_buffer *parent, *sib;
	u32 max = btrfs_max_node_ptrs(node->len);
	u32 nr = btrfs_header_nritems(node);
	int pslot, ret;

	if (level + 1 >= BTRFS_MAX_LEVEL || !path->nodes[level + 1] ||
	    nr >= max / 4)
		return 0;
	parent = path->nodes[level + 1];
	pslot = path->slots[level + 1];
	for (int side = -1; side <= 1; side += 2) {
		int sslot = pslot + side;
		struct extent_buffer *victim;

		if (sslot < 0 || sslot >= (int)btrfs_header_nritems(parent))
			continue;
		ret = cow_sibling(trans, root, parent, sslot, &sib);
		if (ret)
			return ret;
		if (btrfs_header_nritems(sib) + nr > max * 3 / 4) {
			free_extent_buffer(sib);
			continue;
		}
		/* Keep the left block of the pair; the right one goes. */
		victim = side < 0 ? node : sib;
		move_all_ptrs(side < 0 ? sib : node, victim);
		ret = btrfs_mark_buffer_dirty(trans, sib);
		if (!ret)
			ret = btrfs_mark_buffer_dirty(trans, node);
		if (!ret)
			ret = del_ptr(trans, root, path, level + 1,
				      side < 0 ? pslot : sslot);
		if (!ret)
			ret = btrfs_free_tree_block(trans, root, victim);
		free_extent_buffer(sib);
		return ret;
	}
	return 0;
}

/* Remove pointer @slot from path->nodes[level]; empty nodes go too. */
static int del_ptr(struct btrfs_trans_handle *trans, struct btrfs_root *root,
		   struct btrfs_path *path, int level, int slot)
{
	struct extent_buffer *node = path->nodes[level];
	int nr = btrfs_header_nritems(node);
	struct btrfs_key key;
	int ret;

	if (slot < nr - 1)
		memmove_extent_buffer(node, key_ptr_off(slot),
				      key_ptr_off(slot + 1),
				      sizeof(struct btrfs_key_ptr) *
					      (size_t)(nr - slot - 1));
	memzero_extent_buffer(node, key_ptr_off(nr - 1),
			      sizeof(struct btrfs_key_ptr));
	btrfs_set_header_nritems(node, --nr);
	ret = btrfs_mark_buffer_dirty(trans, node);
	if (ret || nr > 0) {
		if (!ret && slot == 0 && level + 1 < BTRFS_MAX_LEVEL &&
		    path->nodes[level + 1]) {
			btrfs_node_key_to_cpu(node, &key, 0);
			ret = fixup_low_keys(trans, path, &key, level + 1);
		}
		return ret ? ret : merge_node(trans, root, path, level);
	}
	if (node == root->node) {
		/* The tree is empty: its root becomes a new empty leaf. */
		struct extent_buffer *leaf;

		memset(&key, 0, sizeof(key));
		leaf = new_tree_block(trans, root, 0, &key, node->start);
		if (IS_ERR(leaf))
			return (int)PTR_ERR(leaf);
		ret = set_root_node(trans, root, leaf);
		return ret ? ret : btrfs_free_tree_block(trans, root, node);
	}
	ret = del_ptr(trans, root, path, level + 1, path->slots[level + 1]);
	return ret ? ret : btrfs_free_tree_block(trans, root, node);
}

/* Remove the (empty, non-root) leaf at the path from the tree. */
static int del_leaf(struct btrfs_trans_handle *trans, struct btrfs_root *root,
		    struct btrfs_path *path)
{
	int ret = del_ptr(trans, root, path, 1, path->slots[1]);

	return ret ? ret : btrfs_free_tree_block(trans, root, path->nodes[0]);
}

/* After a delete: merge a leaf under a third full into its neighbours. */
static int rebalance_leaf(struct btrfs_trans_handle *trans,
			  struct btrfs_root *root, struct btrfs_path *path)
{
	struct extent_buffer *leaf = path->nodes[0];
	u32 cap = btrfs_leaf_data_size(leaf->len);
	int ret;

	if (leaf == root->node)
		return 0;
	if (btrfs_header_nritems(leaf) &&
	    leaf_space_used(leaf, 0, btrfs_header_nritems(leaf)) < cap / 3) {
		ret = push_leaf(trans, root, path, true, INT_MAX);
		if (ret < 0)
			return ret;
		ret = push_leaf(trans, root, path, false, INT_MAX);
		if (ret < 0)
			return ret;
	}
	if (btrfs_header_nritems(leaf) == 0)
		return del_leaf(trans, root, path);
	return 0;
}

int btrfs_del_items(struct btrfs_trans_handle *trans, struct btrfs_root *root,
		    struct btrfs_path *path, int slot, int nr)
{
	struct extent_buffer *leaf = path->nodes[0];
	int nritems;
	u32 dsize, last_off, data_end;
	int i, ret;

	if (!trans || !leaf || nr <= 0)
		return -EINVAL;
	nritems = btrfs_header_nritems(leaf);
	if (slot < 0 || slot + nr > nritems || should_cow_block(trans, leaf))
		return -EINVAL;
	last_off = btrfs_item_offset(leaf, slot + nr - 1);
	dsize = btrfs_item_data_end(leaf, slot) - last_off;
	data_end = leaf_data_end(leaf);
	if (slot + nr < nritems) {
		memmove_extent_buffer(leaf, leaf_off(data_end + dsize),
				      leaf_off(data_end), last_off - data_end);
		for (i = slot + nr; i < nritems; i++)
			set_item_offset(leaf, i,
					btrfs_item_offset(leaf, i) + dsize);
		memmove_extent_buffer(leaf, item_hdr_off(slot),
				      item_hdr_off(slot + nr),
				      sizeof(struct btrfs_item) *
					      (size_t)(nritems - slot - nr));
	}
	memzero_extent_buffer(leaf, leaf_off(data_end), dsize);
	memzero_extent_buffer(leaf, item_hdr_off(nritems - nr),
			      sizeof(struct btrfs_item) * (size_t)nr);
	nritems -= nr;
	btrfs_set_header_nritems(leaf, nritems);
	ret = btrfs_mark_buffer_dirty(trans, leaf);
	if (ret)
		return ret;
	if (nritems && slot == 0 && path->nodes[1]) {
		struct btrfs_key key;

		btrfs_item_key_to_cpu(leaf, &key, 0);
		ret = fixup_low_keys(trans, path, &key, 1);
		if (ret)
			return ret;
	}
	ret = rebalance_leaf(trans, root, path);
	/* A root left with one child gives way to it (the path is stale). */
	return ret ? ret : collapse_root(trans, root);
}

/* ------------------------------------------------------------------ */
/* Resizing items. */

int btrfs_extend_item(struct btrfs_trans_handle *trans,
		      struct btrfs_path *path, u32 data_size)
{
	struct extent_buffer *leaf = path->nodes[0];
	int slot = path->slots[0];
	int nritems = btrfs_header_nritems(leaf);
	u32 data_end, old_end, old_size;

	if (!trans || slot >= nritems || should_cow_block(trans, leaf))
		return -EINVAL;
	if (btrfs_leaf_free_space(leaf) < data_size)
		return -ENOSPC;
	data_end = leaf_data_end(leaf);
	old_end = btrfs_item_data_end(leaf, slot);
	old_size = btrfs_item_size(leaf, slot);
	memmove_extent_buffer(leaf, leaf_off(data_end - data_size),
			      leaf_off(data_end), old_end - data_end);
	for (int i = slot; i < nritems; i++)
		set_item_offset(leaf, i, btrfs_item_offset(leaf, i) - data_size);
	set_item_size(leaf, slot, old_size + data_size);
	memzero_extent_buffer(leaf,
			      leaf_off(btrfs_item_offset(leaf, slot) + old_size),
			      data_size);
	return btrfs_mark_buffer_dirty(trans, leaf);
}

int btrfs_truncate_item(struct btrfs_trans_handle *trans,
			struct btrfs_path *path, u32 new_size, bool from_end)
{
	struct extent_buffer *leaf = path->nodes[0];
	int slot = path->slots[0];
	int nritems = btrfs_header_nritems(leaf);
	u32 data_end, old_size, shrink, item_off, moved_end;
	int i;

	if (!trans || slot >= nritems || should_cow_block(trans, leaf))
		return -EINVAL;
	old_size = btrfs_item_size(leaf, slot);
	if (new_size > old_size)
		return -EINVAL;
	if (new_size == old_size)
		return 0;
	shrink = old_size - new_size;
	data_end = leaf_data_end(leaf);
	item_off = btrfs_item_offset(leaf, slot);
	/* Data below the kept bytes (and the dropped head) moves up. */
	moved_end = from_end ? item_off + new_size : item_off;
	memmove_extent_buffer(leaf, leaf_off(data_end + shrink),
			      leaf_off(data_end), moved_end - data_end);
	for (i = slot + 1; i < nritems; i++)
		set_item_offset(leaf, i, btrfs_item_offset(leaf, i) + shrink);
	set_item_offset(leaf, slot, item_off + shrink);
	set_item_size(leaf, slot, new_size);
	memzero_extent_buffer(leaf, leaf_off(data_end), shrink);
	return btrfs_mark_buffer_dirty(trans, leaf);
}
