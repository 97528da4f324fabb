// SPDX-License-Identifier: GPL-2.0
/*
 * btrfs check pass 3: every tree block reachable from every root.
 *
 * Walks the root tree, the chunk tree, every tree named by a root item of
 * the root tree, and the log trees, depth first with an explicit stack.
 * Each child is read through read_tree_block_ex() with the expectations of
 * its parent pointer (level, generation, first key), so the engine's
 * verifier names what is wrong (checksum, bytenr, fsid, level, generation,
 * first key, structure with the tree checker's reason and slot), and the
 * other copies of a block read are verified as well (devices.c reports a
 * bad copy while the good one is used).  On top
 * of that the walk checks that the last key of a child sorts before the
 * parent's next key, that header owners fit the tree, and that a block is
 * shared only between subvolume (and relocation) trees.
 *
 * A block is descended into once for the whole filesystem: a snapshot's
 * shared subtrees are not walked again.  Visited blocks are two bits per
 * sector, kept per GiB of address space actually walked, so memory is
 * bounded by the metadata space, not by the number of references (nor by
 * what a damaged chunk tree claims).  The summary numbers are
 * gathered here (each block counted once, like the reference).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/array.h"
#include "cmds/check/check.h"
#include "cmds/check/readahead.h"
#include "kernel-shared/disk-io.h"
#include "kernel-shared/tree-checker.h"
#include "kernel-shared/volumes.h"

/*
 * Visited bits of one GiB of logical address space, allocated when a tree
 * block in it is first reached: memory follows the metadata actually
 * walked, whatever sizes a damaged chunk tree claims.
 */
#define SEG_SHIFT	30

struct visit_seg {
	u64 index;		/* bytenr >> SEG_SHIFT, plus one; 0 free */
	unsigned long *seen;		/* descended into */
	unsigned long *private;	/* seen from a tree that cannot share */
};

struct walk_state {
	struct check_ctx *ctx;
	struct visit_seg *segs;	/* open addressing, power of two */
	size_t nr_segs, cap_segs;
	u32 shift;			/* log2(sectorsize) */
	u64 max_generation;		/* the superblock's generation */
	struct check_readahead *ra;	/* NULL: no worker threads */
};

/* Children of a node read ahead of the walker; CPUs needed for it. */
#define RA_WINDOW	48
#define RA_MIN_CPUS	4

/* What a walk of one tree knows about it. */
struct tree_desc {
	u64 id;				/* tree objectid */
	u64 bytenr;
	u64 generation;
	int level;
	bool shareable;		/* subvolume or relocation tree */
	bool has_drop;		/* partly dropped: skip left of drop */
	bool log;			/* a log tree: not in the summary */
	struct btrfs_key drop_key;
};

#define BITS_PER_LONG_ (8 * sizeof(unsigned long))

static size_t seg_hash(u64 index, size_t cap)
{
	return (size_t)((index * 0x9e3779b97f4a7c15ULL) >> 20) & (cap - 1);
}

static int grow_segs(struct walk_state *ws)
{
	size_t cap = ws->cap_segs ? ws->cap_segs * 2 : 64;
	struct visit_seg *segs = calloc(cap, sizeof(*segs));
	size_t i;

	if (!segs)
		return -ENOMEM;
	for (i = 0; i < ws->cap_segs; i++) {
		struct visit_seg *old = &ws->segs[i];
		size_t h;

		if (!old->index)
			continue;
		for (h = seg_hash(old->index, cap); segs[h].index;
		     h = (h + 1) & (cap - 1))
			;
		segs[h] = *old;
	}
	free(ws->segs);
	ws->segs = segs;
	ws->cap_segs = cap;
	return 0;
}

/* The segment of @bytenr, allocated on first use; NULL without memory. */
static struct visit_seg *get_seg(struct walk_state *ws, u64 bytenr)
{
	u64 index = (bytenr >> SEG_SHIFT) + 1;
	size_t bits = (size_t)1 << (SEG_SHIFT - ws->shift);
	size_t longs = (bits + BITS_PER_LONG_ - 1) / BITS_PER_LONG_;
	struct visit_seg *seg;
	size_t h;

	if ((ws->nr_segs + 1) * 2 > ws->cap_segs && grow_segs(ws))
		return NULL;
	for (h = seg_hash(index, ws->cap_segs); ws->segs[h].index;
	     h = (h + 1) & (ws->cap_segs - 1))
		if (ws->segs[h].index == index)
			return &ws->segs[h];
	seg = &ws->segs[h];
	seg->seen = calloc(longs, sizeof(unsigned long));
	seg->private = calloc(longs, sizeof(unsigned long));
	if (!seg->seen || !seg->private) {
		free(seg->seen);
		free(seg->private);
		seg->seen = seg->private = NULL;
		return NULL;
	}
	seg->index = index;
	ws->nr_segs++;
	return seg;
}

static bool test_bit_(const unsigned long *map, u64 nr)
{
	return (map[nr / BITS_PER_LONG_] >> (nr % BITS_PER_LONG_)) & 1UL;
}

static void set_bit_(unsigned long *map, u64 nr)
{
	map[nr / BITS_PER_LONG_] |= 1UL << (nr % BITS_PER_LONG_);
}

/* ------------------------------------------------------------------ */
/* Findings. */

static enum check_code problem_code(enum btrfs_block_problem p)
{
	switch (p) {
	case BLOCK_BAD_TRANSID: return CHECK_BLOCK_GENERATION;
	case BLOCK_BAD_FIRST_KEY: return CHECK_BLOCK_KEY_ORDER;
	case BLOCK_BAD_LEVEL: return CHECK_BLOCK_LEVEL;
	case BLOCK_BAD_OWNER: return CHECK_BLOCK_OWNER;
	default: return CHECK_BLOCK_READ;
	}
}

static void report_read_error(struct check_ctx *ctx, u64 tree, u64 bytenr,
			      const struct btrfs_block_error *err, int ret)
{
	enum btrfs_tree_check_reason reason =
		(enum btrfs_tree_check_reason)err->checker_reason;
	struct check_finding f = {
		.code = problem_code(err->problem),
		.root = tree,
		.bytenr = bytenr,
	};

	switch (err->problem) {
	case BLOCK_BAD_TRANSID:
	case BLOCK_BAD_LEVEL:
	case BLOCK_BAD_BYTENR:
	case BLOCK_BAD_OWNER:
		f.has_values = true;
		f.expected = err->wanted;
		f.found = err->found;
		break;
	default:
		break;
	}
	if (err->problem == BLOCK_STRUCTURE)
		check_report(ctx, &f, "tree block invalid: %s at slot %d",
			     btrfs_tree_check_reason_str(reason),
			     err->checker_slot);
	else if (err->problem == BLOCK_BAD_TRANSID)
		check_report(ctx, &f, "tree block generation differs from its parent pointer");
	else if (err->problem == BLOCK_BAD_FIRST_KEY)
		check_report(ctx, &f, "tree block first key differs from its parent pointer");
	else if (ret == -ENODEV)
		check_report(ctx, &f, "tree block unreadable: every copy is on a missing device");
	else if (err->problem == BLOCK_IO &&
		 check_logical_past_end(ctx, bytenr, ctx->fs_info->nodesize,
					err->mirror ? err->mirror : 1))
		check_report(ctx, &f, "tree block unreadable: past the end of a device smaller than its dev item");
	else
		check_report(ctx, &f, "tree block unreadable: %s",
			     btrfs_block_problem_str(err->problem));
}

/* ------------------------------------------------------------------ */
/* Per-block checks and statistics. */

/*
 * A subvolume shares blocks only with the trees it was snapshotted from,
 * which are older and so have lower ids: a block of subvolume X owned by
 * subvolume Y > X was never shared into X.  (Relocation trees take blocks
 * of any subvolume; blocks they hand back are owned by the reloc tree.)
 */
static bool owner_newer(const struct tree_desc *t, u64 owner)
{
	return t->shareable && t->id != BTRFS_TREE_RELOC_OBJECTID &&
	       check_is_fstree(owner) && owner > t->id;
}

static bool owner_ok(const struct tree_desc *t, u64 owner)
{
	if (t->shareable)
		return check_is_fstree(owner) ||
		       owner == BTRFS_TREE_RELOC_OBJECTID;
	return owner == t->id;
}

static void count_leaf(struct check_ctx *ctx, const struct extent_buffer *eb)
{
	struct check_stats *s = &ctx->stats;
	u32 nr = btrfs_header_nritems(eb);
	u32 used = 0;

	if (nr)
		used = btrfs_item_data_end(eb, 0) -
		       btrfs_item_offset(eb, (int)nr - 1) +
		       nr * (u32)sizeof(struct btrfs_item);
	if (used <= btrfs_leaf_data_size(eb->len))
		s->btree_space_waste += btrfs_leaf_data_size(eb->len) - used;
}

static void count_block(struct check_ctx *ctx, const struct extent_buffer *eb)
{
	struct check_stats *s = &ctx->stats;
	u64 owner = btrfs_header_owner(eb);

	s->total_tree_bytes += eb->len;
	/* the data relocation tree counts as a subvolume (as the reference) */
	if (check_is_fstree(owner) || owner == BTRFS_DATA_RELOC_TREE_OBJECTID)
		s->total_fs_tree_bytes += eb->len;
	if (owner == BTRFS_EXTENT_TREE_OBJECTID)
		s->total_extent_tree_bytes += eb->len;
	if (btrfs_header_level(eb) == 0) {
		count_leaf(ctx, eb);
	} else {
		u32 nr = btrfs_header_nritems(eb);
		u32 max = btrfs_max_node_ptrs(eb->len);

		if (nr <= max)
			s->btree_space_waste += (u64)(max - nr) *
						sizeof(struct btrfs_key_ptr);
	}
}

static void last_key(const struct extent_buffer *eb, struct btrfs_key *key)
{
	int nr = (int)btrfs_header_nritems(eb);

	if (btrfs_header_level(eb) == 0)
		btrfs_item_key_to_cpu(eb, key, nr - 1);
	else
		btrfs_node_key_to_cpu(eb, key, nr - 1);
}

/* Checks of a block just read; @upper (may be NULL) bounds its keys. */
static void check_block(struct walk_state *ws, const struct tree_desc *t,
			const struct extent_buffer *eb,
			const struct btrfs_key *upper, bool count)
{
	struct check_ctx *ctx = ws->ctx;
	struct btrfs_key last;

	if (!owner_ok(t, btrfs_header_owner(eb))) {
		struct check_finding f = {
			.code = CHECK_BLOCK_OWNER, .root = t->id,
			.bytenr = eb->start, .has_values = !t->shareable,
			.expected = t->id, .found = btrfs_header_owner(eb),
		};

		check_report(ctx, &f, "tree block owner %llu does not belong to this tree",
			     (unsigned long long)btrfs_header_owner(eb));
	} else if (owner_newer(t, btrfs_header_owner(eb))) {
		struct check_finding f = {
			.code = CHECK_BLOCK_OWNER, .root = t->id,
			.bytenr = eb->start, .has_values = true,
			.expected = t->id, .found = btrfs_header_owner(eb),
		};

		check_report(ctx, &f,
			     "tree block owner %llu is a subvolume newer than this tree, which cannot share its blocks",
			     (unsigned long long)btrfs_header_owner(eb));
	}
	if (btrfs_header_generation(eb) > ws->max_generation + t->log) {
		struct check_finding f = {
			.code = CHECK_BLOCK_GENERATION, .root = t->id,
			.bytenr = eb->start, .has_values = true,
			.expected = ws->max_generation + t->log,
			.found = btrfs_header_generation(eb),
		};

		check_report(ctx, &f, "tree block newer than the superblock");
	}
	if (upper && btrfs_header_nritems(eb)) {
		last_key(eb, &last);
		if (btrfs_comp_cpu_keys(&last, upper) >= 0) {
			struct check_finding f = {
				.code = CHECK_BLOCK_KEY_ORDER, .root = t->id,
				.bytenr = eb->start, .key = last,
			};

			check_report(ctx, &f,
				     "tree block last key not before the parent's next key (%llu %u %llu)",
				     (unsigned long long)upper->objectid,
				     upper->type,
				     (unsigned long long)upper->offset);
		}
	}
	if (count)
		count_block(ctx, eb);
	check_progress_add(ctx, 1);
}

/*
 * Mark @bytenr visited from tree @t.  Returns true when the caller should
 * read and descend (first visit), false when it was seen before; reports a
 * block shared with or by a tree that may not share.
 */
static bool mark_visit(struct walk_state *ws, const struct tree_desc *t,
		       u64 bytenr, bool *outside)
{
	const struct map_lookup *map = btrfs_find_chunk_map(ws->ctx->fs_info,
							    bytenr);
	struct visit_seg *seg = get_seg(ws, bytenr);
	u64 nr;

	*outside = !map || !(map->type & (BTRFS_BLOCK_GROUP_METADATA |
					  BTRFS_BLOCK_GROUP_SYSTEM));
	if (!seg)
		return true;	/* no memory: read it again, no dedup */
	nr = (bytenr & ((1ULL << SEG_SHIFT) - 1)) >> ws->shift;
	if (test_bit_(seg->seen, nr)) {
		if (!t->shareable || test_bit_(seg->private, nr)) {
			struct check_finding f = {
				.code = CHECK_BLOCK_TWICE, .root = t->id,
				.bytenr = bytenr,
			};

			check_report(ws->ctx, &f,
				     "tree block reached from two trees that cannot share it");
		}
		return false;
	}
	set_bit_(seg->seen, nr);
	if (!t->shareable)
		set_bit_(seg->private, nr);
	return true;
}

/* Has @bytenr been walked already?  (Does not mark it.) */
static bool seen_before(struct walk_state *ws, u64 bytenr)
{
	struct visit_seg *seg = get_seg(ws, bytenr);

	u64 nr = (bytenr & ((1ULL << SEG_SHIFT) - 1)) >> ws->shift;

	return seg && test_bit_(seg->seen, nr);
}

/* ------------------------------------------------------------------ */
/* The walk. */

struct walk_level {
	struct extent_buffer *eb;
	int slot;
	int ra_next;		/* next child to ask read-ahead for */
	bool has_upper;
	struct btrfs_key upper;
};

/* Is child @slot of @eb entirely left of the drop progress key? */
static bool dropped(const struct tree_desc *t, const struct extent_buffer *eb,
		    int slot)
{
	struct btrfs_key next;

	if (!t->has_drop || slot + 1 >= (int)btrfs_header_nritems(eb))
		return false;
	btrfs_node_key_to_cpu(eb, &next, slot + 1);
	return btrfs_comp_cpu_keys(&next, &t->drop_key) <= 0;
}

/* Read child @slot of the node at stack[level]; NULL when skipped. */
static struct extent_buffer *read_child(struct walk_state *ws,
					const struct tree_desc *t,
					struct walk_level *stack, int level)
{
	struct extent_buffer *parent = stack[level].eb;
	int slot = stack[level].slot;
	struct btrfs_tree_parent_check chk = { 0 };
	struct btrfs_block_error err = { 0 };
	struct extent_buffer *eb;
	u64 bytenr = btrfs_node_blockptr(parent, slot);
	bool outside;

	if (dropped(t, parent, slot) || !mark_visit(ws, t, bytenr, &outside))
		return NULL;
	chk.level = level - 1;
	chk.transid = btrfs_node_ptr_generation(parent, slot);
	chk.has_first_key = true;
	btrfs_node_key_to_cpu(parent, &chk.first_key, slot);
	eb = read_tree_block_ex(ws->ctx->fs_info, bytenr, &chk, &err);
	if (IS_ERR(eb)) {
		report_read_error(ws->ctx, t->id, bytenr, &err, (int)PTR_ERR(eb));
		return NULL;
	}
	check_verify_copies(ws->ctx, eb, &chk);
	if (outside) {
		struct check_finding f = {
			.code = CHECK_BLOCK_READ, .root = t->id,
			.bytenr = bytenr,
		};

		check_report(ws->ctx, &f, "tree block outside metadata chunks");
	}
	return eb;
}

/* Keep the next RA_WINDOW unwalked children of @wl asked for. */
static void read_ahead(struct walk_state *ws, const struct tree_desc *t,
		       struct walk_level *wl, int level, int nr)
{
	int limit = min_t(int, nr, wl->slot + 1 + RA_WINDOW);

	if (!ws->ra)
		return;
	if (wl->ra_next <= wl->slot)
		wl->ra_next = wl->slot + 1;
	for (; wl->ra_next < limit; wl->ra_next++) {
		struct btrfs_tree_parent_check chk = { 0 };
		u64 bytenr = btrfs_node_blockptr(wl->eb, wl->ra_next);

		if (dropped(t, wl->eb, wl->ra_next) || seen_before(ws, bytenr))
			continue;
		chk.level = level - 1;
		chk.transid = btrfs_node_ptr_generation(wl->eb, wl->ra_next);
		chk.has_first_key = true;
		btrfs_node_key_to_cpu(wl->eb, &chk.first_key, wl->ra_next);
		check_readahead_add(ws->ra, bytenr, &chk);
	}
}

static void walk_tree(struct walk_state *ws, const struct tree_desc *t,
		      struct extent_buffer *root_eb)
{
	struct walk_level stack[BTRFS_MAX_LEVEL] = { { 0 } };
	int top = btrfs_header_level(root_eb);
	int level = top;

	stack[top].eb = extent_buffer_get(root_eb);
	while (level <= top) {
		struct walk_level *wl = &stack[level];
		struct extent_buffer *child;
		int nr = (int)btrfs_header_nritems(wl->eb);

		if (level == 0 || wl->slot >= nr) {
			free_extent_buffer(wl->eb);
			wl->eb = NULL;
			level++;
			if (level <= top)
				stack[level].slot++;
			continue;
		}
		read_ahead(ws, t, wl, level, nr);
		child = read_child(ws, t, stack, level);
		if (!child) {
			wl->slot++;
			continue;
		}
		stack[level - 1].eb = child;
		stack[level - 1].slot = 0;
		stack[level - 1].ra_next = 0;
		stack[level - 1].has_upper = wl->slot + 1 < nr || wl->has_upper;
		if (wl->slot + 1 < nr)
			btrfs_node_key_to_cpu(wl->eb, &stack[level - 1].upper,
					      wl->slot + 1);
		else
			stack[level - 1].upper = wl->upper;
		check_block(ws, t, child, stack[level - 1].has_upper ?
				  &stack[level - 1].upper : NULL, !t->log);
		level--;
	}
}

/* Read the root block of @t and walk the tree under it. */
static void walk_root(struct walk_state *ws, const struct tree_desc *t)
{
	struct btrfs_tree_parent_check chk = { 0 };
	struct btrfs_block_error err = { 0 };
	struct extent_buffer *eb;
	bool outside, first;

	if (t->level >= BTRFS_MAX_LEVEL) {
		struct check_finding f = {
			.code = CHECK_BLOCK_LEVEL, .root = t->id,
			.bytenr = t->bytenr, .has_values = true,
			.expected = BTRFS_MAX_LEVEL - 1, .found = (u64)t->level,
		};

		check_report(ws->ctx, &f, "root level out of range");
		return;
	}
	first = mark_visit(ws, t, t->bytenr, &outside);
	if (!first)
		return;
	chk.level = t->level;
	chk.transid = t->generation;
	eb = read_tree_block_ex(ws->ctx->fs_info, t->bytenr, &chk, &err);
	if (IS_ERR(eb)) {
		report_read_error(ws->ctx, t->id, t->bytenr, &err,
				  (int)PTR_ERR(eb));
		return;
	}
	check_verify_copies(ws->ctx, eb, &chk);
	check_block(ws, t, eb, NULL, !t->log);
	walk_tree(ws, t, eb);
	free_extent_buffer(eb);
}

/* ------------------------------------------------------------------ */
/* Which trees: root tree, chunk tree, root items, log trees. */

struct roots_list {
	struct tree_desc *trees;
	size_t nr, cap;
	bool log;		/* items of the log root tree */
};

static int collect_root_item(struct check_ctx *ctx, struct extent_buffer *eb,
			     int slot, const struct btrfs_key *key, void *data)
{
	struct roots_list *rl = data;
	u64 max_gen = btrfs_super_generation(&ctx->fs_info->super_copy) +
		      rl->log;
	struct btrfs_root_item *ri;
	struct tree_desc *t;

	if (key->type != BTRFS_ROOT_ITEM_KEY)
		return 0;
	if (btrfs_item_size(eb, slot) < BTRFS_LEGACY_ROOT_ITEM_SIZE)
		return 0;	/* the tree checker names bad item sizes */
	if (array_reserve(rl->trees, rl->cap, rl->nr + 1, 32))
		return -ENOMEM;
	ri = btrfs_item_ptr(eb, slot, struct btrfs_root_item);
	t = &rl->trees[rl->nr++];
	memset(t, 0, sizeof(*t));
	t->id = key->objectid;
	t->bytenr = btrfs_root_bytenr(eb, ri);
	t->generation = btrfs_root_generation(eb, ri);
	t->level = btrfs_root_level(eb, ri);
	if (t->generation > max_gen) {
		struct check_finding f = {
			.code = CHECK_ROOT_ITEM, .root = btrfs_header_owner(eb),
			.key = *key, .has_values = true,
			.expected = max_gen, .found = t->generation,
		};

		check_report(ctx, &f, "root item generation newer than the superblock");
	}
	t->shareable = check_is_fstree(t->id) ||
		       t->id == BTRFS_TREE_RELOC_OBJECTID;
	btrfs_disk_key_to_cpu(&t->drop_key, &ri->drop_progress);
	t->has_drop = btrfs_root_refs(eb, ri) == 0 &&
		      (t->drop_key.objectid || t->drop_key.type ||
		       t->drop_key.offset);
	return 0;
}

static void walk_root_items(struct walk_state *ws, struct btrfs_root *tree,
			    u64 owner_id, bool log)
{
	struct roots_list rl = { .log = log };
	size_t i;
	int ret;

	ret = check_for_each_item(ws->ctx, tree, NULL, collect_root_item, &rl);
	if (ret)
		check_tree_unreadable(ws->ctx, owner_id, ret,
				      "root items not all found");
	for (i = 0; i < rl.nr; i++) {
		if (log) {
			rl.trees[i].id = BTRFS_TREE_LOG_OBJECTID;
			rl.trees[i].log = true;
		}
		walk_root(ws, &rl.trees[i]);
	}
	free(rl.trees);
}

static void walk_fixed(struct walk_state *ws, struct btrfs_root *root, u64 id)
{
	struct tree_desc t = {
		.id = id,
		.log = id == BTRFS_TREE_LOG_OBJECTID,
		.bytenr = root->node->start,
		.generation = btrfs_header_generation(root->node),
		.level = btrfs_header_level(root->node),
	};

	walk_root(ws, &t);
}

static void walk_log(struct walk_state *ws)
{
	struct btrfs_fs_info *fs_info = ws->ctx->fs_info;

	if (!fs_info->log_root_tree)
		return;	/* pass 1 reported an unreadable log root */
	walk_fixed(ws, fs_info->log_root_tree, BTRFS_TREE_LOG_OBJECTID);
	walk_root_items(ws, fs_info->log_root_tree, BTRFS_TREE_LOG_OBJECTID,
			true);
}

int check_pass_tree_blocks(struct check_ctx *ctx)
{
	struct btrfs_fs_info *fs_info = ctx->fs_info;
	struct walk_state ws = { .ctx = ctx };
	long nr_cpus;
	size_t i;
	int ret = 0;

	ws.max_generation = btrfs_super_generation(&fs_info->super_copy);
	while ((1U << ws.shift) < fs_info->sectorsize)
		ws.shift++;
	/*
	 * Readers on spare CPUs, at most four.  With fewer than four CPUs
	 * none: measured on two, a reader competing with the walker (and
	 * with the page cache copies) made the pass slower, not faster.
	 */
	nr_cpus = sysconf(_SC_NPROCESSORS_ONLN);
	if (nr_cpus >= RA_MIN_CPUS)
		ws.ra = check_readahead_start(fs_info,
					      (int)min_t(long, nr_cpus - 2, 4));
	walk_fixed(&ws, fs_info->chunk_root, BTRFS_CHUNK_TREE_OBJECTID);
	if (!fs_info->tree_root) {
		check_fatal(ctx, "root tree unreadable: no tree checked");
		ret = -EIO;
		goto out;
	}
	walk_fixed(&ws, fs_info->tree_root, BTRFS_ROOT_TREE_OBJECTID);
	walk_root_items(&ws, fs_info->tree_root, BTRFS_ROOT_TREE_OBJECTID,
			false);
	walk_log(&ws);
out:
	check_readahead_stop(ws.ra);
	for (i = 0; i < ws.cap_segs; i++) {
		free(ws.segs[i].seen);
		free(ws.segs[i].private);
	}
	free(ws.segs);
	return ret;
}
