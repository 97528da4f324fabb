// SPDX-License-Identifier: GPL-2.0
/*
 * btrfs check pass 8, quota groups: recompute the referenced and exclusive
 * bytes of every level-0 qgroup (one per subvolume) and compare them with
 * the recorded qgroup info items.
 *
 * Every subvolume tree is walked in full (blocks shared with snapshots are
 * walked once per subvolume that reaches them).  A subvolume references
 * each of its tree blocks (node size) and each data extent its file extent
 * items point at (the whole extent, disk_num_bytes), counted once however
 * often it is referenced.  Across subvolumes, one record per extent keeps
 * how many subvolumes reference it and the first one; an extent is
 * exclusive to a subvolume when it is the only one.  Memory: that record
 * per extent, plus a set of the data extents of the subvolume being walked.
 *
 * A qgroup above level 0 is verified by walking its member subvolumes
 * (through the relation items) again into a union of their extents: it
 * references the union, and exclusively the extents no other subvolume
 * references.  Nothing is verified while the recorded numbers are known to
 * be stale (rescan running, inconsistent flag), with simple quotas, or
 * while a subvolume is being dropped (the kernel accounts as it frees).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/array.h"
#include "cmds/check/check.h"
#include "kernel-shared/disk-io.h"

/* Level and id of a qgroup id, for printing with %llu/%llu. */
#define QG_LEVEL(q) ((unsigned long long)((q) >> BTRFS_QGROUP_LEVEL_SHIFT))
#define QG_ID(q)                                                             \
	((unsigned long long)((q) & ((1ULL << BTRFS_QGROUP_LEVEL_SHIFT) - 1)))

struct qv_extent {
	u64 bytenr;		/* 0: free slot */
	u64 size;
	u64 first_root;
	u32 nr_roots;
};

struct qv_root {
	u64 id;
	u64 rfer;
	u64 excl;
};

struct qv_set {
	u64 *v;			/* open addressing, 0 free */
	size_t nr, cap;
};

/* The union of the extents of a higher-level qgroup's members. */
struct qv_union {
	struct qv_extent *ext;	/* nr_roots: members referencing it */
	size_t nr, cap;
};

struct qv_state {
	struct check_ctx *ctx;
	struct qv_union *uni;	/* set: walks fill this union instead */
	struct qv_extent *ext;
	size_t nr_ext, cap_ext;
	struct qv_root *roots;
	size_t nr_roots, cap_roots;
	struct qv_root *cur;
	struct qv_set seen;	/* data extents of the current subvolume */
	bool dropping;		/* a subvolume is being dropped */
	int err;
};

static size_t hash64(u64 v, size_t cap)
{
	return (size_t)((v * 0x9e3779b97f4a7c15ULL) >> 17) & (cap - 1);
}

/* Add @v to @set; 1 if it was new, 0 if present, -ENOMEM. */
static int set_add(struct qv_set *set, u64 v)
{
	size_t h;

	if ((set->nr + 1) * 2 > set->cap) {
		size_t cap = set->cap ? set->cap * 2 : 1024, i;
		u64 *n = calloc(cap, sizeof(*n));

		if (!n)
			return -ENOMEM;
		for (i = 0; i < set->cap; i++) {
			if (!set->v[i])
				continue;
			for (h = hash64(set->v[i], cap); n[h];
			     h = (h + 1) & (cap - 1))
				;
			n[h] = set->v[i];
		}
		free(set->v);
		set->v = n;
		set->cap = cap;
	}
	for (h = hash64(v, set->cap); set->v[h]; h = (h + 1) & (set->cap - 1))
		if (set->v[h] == v)
			return 0;
	set->v[h] = v;
	set->nr++;
	return 1;
}

/* Find or add @bytenr in a table of @cap slots; NULL if it is full. */
static struct qv_extent *table_slot(struct qv_extent *tab, size_t cap,
				    u64 bytenr, bool *is_new)
{
	size_t h;

	for (h = hash64(bytenr, cap); tab[h].bytenr; h = (h + 1) & (cap - 1))
		if (tab[h].bytenr == bytenr) {
			*is_new = false;
			return &tab[h];
		}
	*is_new = true;
	return &tab[h];
}

static int grow_table(struct qv_extent **tab, size_t *cap)
{
	size_t ncap = *cap ? *cap * 2 : 4096, i;
	struct qv_extent *n = calloc(ncap, sizeof(*n));
	bool is_new;

	if (!n)
		return -ENOMEM;
	for (i = 0; i < *cap; i++)
		if ((*tab)[i].bytenr)
			*table_slot(n, ncap, (*tab)[i].bytenr, &is_new) =
				(*tab)[i];
	free(*tab);
	*tab = n;
	*cap = ncap;
	return 0;
}

/* The current subvolume references extent @bytenr of @size bytes. */
static int account(struct qv_state *st, u64 bytenr, u64 size)
{
	struct qv_extent **tab = st->uni ? &st->uni->ext : &st->ext;
	size_t *nr = st->uni ? &st->uni->nr : &st->nr_ext;
	size_t *cap = st->uni ? &st->uni->cap : &st->cap_ext;
	struct qv_extent *e;
	bool is_new;

	if ((*nr + 1) * 2 > *cap && grow_table(tab, cap))
		return -ENOMEM;
	if (!st->uni)
		st->cur->rfer += size;
	e = table_slot(*tab, *cap, bytenr, &is_new);
	if (!is_new) {
		/* each walk reaches an extent once: one more subvolume */
		if (st->uni || e->first_root != st->cur->id)
			e->nr_roots++;
		return 0;
	}
	e->bytenr = bytenr;
	e->size = size;
	e->first_root = st->cur->id;
	e->nr_roots = 1;
	(*nr)++;
	return 0;
}

static int account_leaf(struct qv_state *st, struct extent_buffer *eb)
{
	u32 i, nr = btrfs_header_nritems(eb);
	int ret;

	for (i = 0; i < nr; i++) {
		struct btrfs_file_extent_item *fi;
		struct btrfs_key key;
		u64 bytenr;

		btrfs_item_key_to_cpu(eb, &key, (int)i);
		if (key.type != BTRFS_EXTENT_DATA_KEY ||
		    btrfs_item_size(eb, (int)i) < sizeof(*fi))
			continue;
		fi = btrfs_item_ptr(eb, (int)i, struct btrfs_file_extent_item);
		if (btrfs_file_extent_type(eb, fi) == BTRFS_FILE_EXTENT_INLINE)
			continue;
		bytenr = btrfs_file_extent_disk_bytenr(eb, fi);
		if (!bytenr)
			continue;
		ret = set_add(&st->seen, bytenr);
		if (ret < 0)
			return ret;
		if (ret == 1) {
			ret = account(st, bytenr,
				      btrfs_file_extent_disk_num_bytes(eb, fi));
			if (ret)
				return ret;
		}
	}
	return 0;
}

static int visit_block(struct extent_buffer *eb, void *data)
{
	struct qv_state *st = data;
	int ret = account(st, eb->start, eb->len);

	if (!ret && btrfs_header_level(eb) == 0)
		ret = account_leaf(st, eb);
	return ret;
}

static void walk_error(u64 bytenr, int err, void *data)
{
	struct qv_state *st = data;

	(void)bytenr;
	if (!st->err)
		st->err = err;
}

static int walk_subvol(struct qv_state *st, u64 id)
{
	static const struct btrfs_tree_walk_ops ops = {
		.visit = visit_block,
		.on_error = walk_error,
	};
	struct btrfs_key loc = { id, BTRFS_ROOT_ITEM_KEY, (u64)-1 };
	struct btrfs_root *root;
	int ret;

	root = btrfs_read_tree_root(st->ctx->fs_info, &loc);
	if (IS_ERR(root))
		return (int)PTR_ERR(root);
	if (btrfs_stack_root_refs(&root->root_item) == 0)
		st->dropping = true;
	if (st->seen.v)
		memset(st->seen.v, 0, st->seen.cap * sizeof(u64));
	st->seen.nr = 0;
	ret = btrfs_walk_tree(st->ctx->fs_info, root->node, false, &ops, st);
	btrfs_free_root(root);
	return ret ? ret : st->err;
}

static int collect_subvol(struct check_ctx *ctx, struct extent_buffer *eb,
			  int slot, const struct btrfs_key *key, void *data)
{
	struct qv_state *st = data;
	struct qv_root *r;

	(void)ctx;
	(void)eb;
	(void)slot;
	if (key->type != BTRFS_ROOT_ITEM_KEY || !check_is_fstree(key->objectid))
		return 0;
	if (st->nr_roots && st->roots[st->nr_roots - 1].id == key->objectid)
		return 0;
	if (array_reserve(st->roots, st->cap_roots, st->nr_roots + 1, 16))
		return -ENOMEM;
	r = &st->roots[st->nr_roots++];
	memset(r, 0, sizeof(*r));
	r->id = key->objectid;
	return 0;
}

static struct qv_root *find_root(struct qv_state *st, u64 id)
{
	size_t i;

	for (i = 0; i < st->nr_roots; i++)
		if (st->roots[i].id == id)
			return &st->roots[i];
	return NULL;
}

/* Compare one recorded level-0 qgroup with the computed numbers. */
static int compare_qgroup(struct check_ctx *ctx, struct extent_buffer *eb,
			  int slot, const struct btrfs_key *key, void *data)
{
	struct qv_state *st = data;
	struct btrfs_qgroup_info_item *qi;
	struct qv_root *r, none = { 0 };
	u64 rfer, excl;

	if (key->type != BTRFS_QGROUP_INFO_KEY ||
	    (key->offset >> BTRFS_QGROUP_LEVEL_SHIFT) != 0 ||
	    btrfs_item_size(eb, slot) < sizeof(*qi))
		return 0;
	qi = btrfs_item_ptr(eb, slot, struct btrfs_qgroup_info_item);
	rfer = btrfs_qgroup_info_rfer(eb, qi);
	excl = btrfs_qgroup_info_excl(eb, qi);
	r = find_root(st, key->offset);
	if (!r)
		r = &none;	/* a deleted subvolume's qgroup: empty */
	if (ctx->flags & CHECK_F_QGROUP_REPORT)
		fprintf(ctx->out,
			"Counts for qgroup id: 0/%llu\n"
			"our:\t\treferenced %llu exclusive %llu\n"
			"disk:\t\treferenced %llu exclusive %llu\n",
			(unsigned long long)key->offset,
			(unsigned long long)r->rfer,
			(unsigned long long)r->excl,
			(unsigned long long)rfer, (unsigned long long)excl);
	if (r->rfer != rfer || r->excl != excl) {
		struct check_finding f = {
			.code = CHECK_QGROUP,
			.root = BTRFS_QUOTA_TREE_OBJECTID,
			.key = *key,
			.has_values = true,
			.expected = r->rfer != rfer ? r->rfer : r->excl,
			.found = r->rfer != rfer ? rfer : excl,
		};

		check_report(ctx, &f, "qgroup 0/%llu %s bytes differ from the computed",
			     (unsigned long long)key->offset,
			     r->rfer != rfer ? "referenced" : "exclusive");
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Qgroups above level 0: the union of their members' extents. */

struct qv_relation {
	u64 child;
	u64 parent;
};

struct qv_high {
	struct btrfs_key key;
	u64 rfer;		/* recorded */
	u64 excl;
};

struct qv_quota {
	struct qv_relation *rel;
	size_t nr_rel, cap_rel;
	struct qv_high *high;
	size_t nr_high, cap_high;
};

static void *grow(void **arr, size_t *nr, size_t *cap, size_t size)
{
	if (array_reserve_raw(arr, cap, *nr + 1, size, 16))
		return NULL;
	return (char *)*arr + (*nr)++ * size;
}

static int collect_quota(struct check_ctx *ctx, struct extent_buffer *eb,
			 int slot, const struct btrfs_key *key, void *data)
{
	struct qv_quota *q = data;

	(void)ctx;
	if (key->type == BTRFS_QGROUP_RELATION_KEY &&
	    (key->objectid >> BTRFS_QGROUP_LEVEL_SHIFT) <
		    (key->offset >> BTRFS_QGROUP_LEVEL_SHIFT)) {
		struct qv_relation *r = grow((void **)&q->rel, &q->nr_rel,
					     &q->cap_rel, sizeof(*r));

		if (!r)
			return -ENOMEM;
		r->child = key->objectid;
		r->parent = key->offset;
	} else if (key->type == BTRFS_QGROUP_INFO_KEY &&
		   (key->offset >> BTRFS_QGROUP_LEVEL_SHIFT) &&
		   btrfs_item_size(eb, slot) >=
			   sizeof(struct btrfs_qgroup_info_item)) {
		struct btrfs_qgroup_info_item *qi = btrfs_item_ptr(eb, slot,
					struct btrfs_qgroup_info_item);
		struct qv_high *h = grow((void **)&q->high, &q->nr_high,
					 &q->cap_high, sizeof(*h));

		if (!h)
			return -ENOMEM;
		h->key = *key;
		h->rfer = btrfs_qgroup_info_rfer(eb, qi);
		h->excl = btrfs_qgroup_info_excl(eb, qi);
	}
	return 0;
}

/* Is level-0 qgroup @leaf a member of @group (through any levels)? */
static bool is_member(const struct qv_quota *q, u64 leaf, u64 group,
		      int depth)
{
	size_t i;

	if (leaf == group)
		return true;
	if (depth > 8)
		return false;	/* relation loops are not followed */
	for (i = 0; i < q->nr_rel; i++)
		if (q->rel[i].child == leaf &&
		    is_member(q, q->rel[i].parent, group, depth + 1))
			return true;
	return false;
}

static int verify_high(struct qv_state *st, struct qv_quota *q,
		       struct qv_high *h)
{
	struct check_ctx *ctx = st->ctx;
	struct qv_union u = { 0 };
	u64 rfer = 0, excl = 0, gid = h->key.offset;
	size_t i;
	int ret = 0;

	st->uni = &u;
	for (i = 0; !ret && i < st->nr_roots; i++) {
		if (!is_member(q, st->roots[i].id, gid, 0))
			continue;
		st->cur = &st->roots[i];
		ret = walk_subvol(st, st->roots[i].id);
	}
	st->uni = NULL;
	for (i = 0; !ret && i < u.cap; i++) {
		struct qv_extent *e = &u.ext[i], *g;
		bool is_new;

		if (!e->bytenr)
			continue;
		rfer += e->size;
		g = table_slot(st->ext, st->cap_ext, e->bytenr, &is_new);
		if (!is_new && g->nr_roots == e->nr_roots)
			excl += e->size;
	}
	free(u.ext);
	if (ret)
		return ret;
	if (ctx->flags & CHECK_F_QGROUP_REPORT)
		fprintf(ctx->out,
			"Counts for qgroup id: %llu/%llu\n"
			"our:\t\treferenced %llu exclusive %llu\n"
			"disk:\t\treferenced %llu exclusive %llu\n",
			QG_LEVEL(gid), QG_ID(gid),
			(unsigned long long)rfer, (unsigned long long)excl,
			(unsigned long long)h->rfer,
			(unsigned long long)h->excl);
	if (rfer != h->rfer || excl != h->excl) {
		struct check_finding f = {
			.code = CHECK_QGROUP,
			.root = BTRFS_QUOTA_TREE_OBJECTID,
			.key = h->key,
			.has_values = true,
			.expected = rfer != h->rfer ? rfer : excl,
			.found = rfer != h->rfer ? h->rfer : h->excl,
		};

		check_report(ctx, &f, "qgroup %llu/%llu %s bytes differ from the computed",
			     QG_LEVEL(gid), QG_ID(gid),
			     rfer != h->rfer ? "referenced" : "exclusive");
	}
	return 0;
}

static int verify_higher_levels(struct qv_state *st)
{
	struct qv_quota q = { 0 };
	size_t i;
	int ret;

	ret = check_for_each_item(st->ctx, st->ctx->fs_info->quota_root, NULL,
				  collect_quota, &q);
	for (i = 0; !ret && i < q.nr_high; i++)
		ret = verify_high(st, &q, &q.high[i]);
	free(q.rel);
	free(q.high);
	return ret;
}

static int compute(struct check_ctx *ctx, struct qv_state *st)
{
	size_t i;
	int ret;

	ret = check_for_each_item(ctx, ctx->fs_info->tree_root, NULL,
				  collect_subvol, st);
	for (i = 0; !ret && i < st->nr_roots; i++) {
		st->cur = &st->roots[i];
		ret = walk_subvol(st, st->roots[i].id);
		check_progress_add(ctx, 1);
	}
	if (ret)
		return ret;
	for (i = 0; i < st->cap_ext; i++) {
		struct qv_extent *e = &st->ext[i];
		struct qv_root *r;

		if (!e->bytenr || e->nr_roots != 1)
			continue;
		r = find_root(st, e->first_root);
		if (r)
			r->excl += e->size;
	}
	return 0;
}

int check_verify_qgroups(struct check_ctx *ctx, u64 status_flags)
{
	struct qv_state st = { .ctx = ctx };
	int ret;

	if (status_flags & (BTRFS_QGROUP_STATUS_FLAG_RESCAN |
			    BTRFS_QGROUP_STATUS_FLAG_INCONSISTENT |
			    BTRFS_QGROUP_STATUS_FLAG_SIMPLE_MODE)) {
		if (ctx->flags & CHECK_F_QGROUP_REPORT)
			fprintf(ctx->out,
				"qgroup numbers not verified: status flags 0x%llx (rescan, inconsistent or simple quotas)\n",
				(unsigned long long)status_flags);
		return 0;
	}
	ret = compute(ctx, &st);
	if (ret == -ENOMEM) {
		check_fatal(ctx, "out of memory computing qgroups");
	} else if (ret) {
		/* unreadable trees were reported by pass 3 */
		if (ctx->flags & CHECK_F_QGROUP_REPORT)
			fprintf(ctx->out,
				"qgroup numbers not verified: a subvolume tree is unreadable\n");
		ret = 0;
	} else if (st.dropping) {
		if (ctx->flags & CHECK_F_QGROUP_REPORT)
			fprintf(ctx->out,
				"qgroup numbers not verified: a subvolume is being dropped\n");
	} else {
		ret = check_for_each_item(ctx, ctx->fs_info->quota_root, NULL,
					  compare_qgroup, &st);
		if (!ret)
			ret = verify_higher_levels(&st);
		if (ret == -ENOMEM)
			check_fatal(ctx, "out of memory computing qgroups");
	}
	free(st.ext);
	free(st.roots);
	free(st.seen.v);
	return ret;
}
