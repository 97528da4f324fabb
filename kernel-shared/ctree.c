// SPDX-License-Identifier: GPL-2.0
/*
 * Btree navigation: key comparison, paths, search, stepping between items
 * and leaves, and whole-tree walks.
 *
 * Read path only for now.  Every block below a root comes through
 * btrfs_read_node_slot(), which hands read_tree_block() what the parent
 * promises about the child (level, generation, first key) and re-checks the
 * level itself, so a damaged tree can neither make a search descend forever
 * nor make a walk recurse deeper than BTRFS_MAX_LEVEL.
 */
#include <stdlib.h>

#include "kernel-shared/ctree.h"
#include "kernel-shared/disk-io.h"

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

/*
 * Items or pointers in @eb, never more than fit in the buffer, so that a
 * block that skipped the tree checker cannot make us address outside it.
 */
static int eb_nritems(const struct extent_buffer *eb)
{
	u32 nr = btrfs_header_nritems(eb);
	u32 cap;

	if (eb->len <= BTRFS_LEAF_DATA_OFFSET)
		return 0;
	if (btrfs_header_level(eb) == 0)
		cap = btrfs_leaf_data_size(eb->len) / sizeof(struct btrfs_item);
	else
		cap = btrfs_max_node_ptrs(eb->len);
	return (int)min_t(u32, nr, cap);
}

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
	if (slot < 0 || slot >= eb_nritems(parent))
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
	int high = eb_nritems(eb);

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

int btrfs_search_slot(struct btrfs_trans_handle *trans, struct btrfs_root *root,
		      const struct btrfs_key *key, struct btrfs_path *path,
		      int ins_len, int cow)
{
	struct extent_buffer *b;
	int level;
	int ret;
	int slot;

	(void)ins_len;
	if (trans || cow)
		return -EOPNOTSUPP;
	btrfs_release_path(path);
	if (!root || !root->node)
		return -ENOENT;
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
		nr = eb_nritems(child);
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
		if (path->slots[level] + 1 < eb_nritems(node))
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
	while (path->slots[0] >= eb_nritems(path->nodes[0])) {
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
		nr = eb_nritems(path->nodes[0]);
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

		if (top->next_slot >= eb_nritems(top->eb)) {
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

		if (live * 2 > cap || !cap) {
			cap = cap ? cap * 2 : 256;
			items = realloc(q->items, cap * sizeof(*items));
			if (!items)
				return -ENOMEM;
		}
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
	int nr = eb_nritems(eb);

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
