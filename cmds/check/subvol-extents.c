// SPDX-License-Identifier: GPL-2.0
/*
 * btrfs check -E SUBVOLID: the extents a subvolume references (its tree
 * blocks and its data extents), each with the subvolumes that reference it
 * too (its sharing state), in the reference tool's table form.  The ids of
 * the sharing subvolumes are printed in ascending order (the reference
 * prints them in the order its backref walk finds them).
 *
 * The extents of the subvolume are collected by walking its tree, then
 * every subvolume tree is walked for blocks and file extents among them.
 * Memory is one record per extent of that subvolume plus the ids of the
 * trees sharing it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/array.h"
#include "cmds/check/check.h"
#include "kernel-shared/disk-io.h"

struct sv_extent {
	u64 bytenr;
	u64 len;
	u64 *roots;
	u32 nr_roots, cap_roots;
};

struct sv_state {
	struct sv_extent *ext;
	size_t nr, cap;
	u64 cur_root;		/* tree being scanned */
	u64 *trees;		/* subvolume ids to scan */
	size_t nr_trees, cap_trees;
};

/* Data extent of the file extent item at @slot, false if none. */
static bool file_extent_target(struct extent_buffer *eb, int slot,
			       u64 *bytenr, u64 *len)
{
	struct btrfs_file_extent_item *fi;

	if (btrfs_item_size(eb, slot) < sizeof(*fi))
		return false;
	fi = btrfs_item_ptr(eb, slot, struct btrfs_file_extent_item);
	if (btrfs_file_extent_type(eb, fi) == BTRFS_FILE_EXTENT_INLINE)
		return false;
	*bytenr = btrfs_file_extent_disk_bytenr(eb, fi);
	*len = btrfs_file_extent_disk_num_bytes(eb, fi);
	return *bytenr != 0;
}

static int add_record(struct sv_state *st, u64 bytenr, u64 len)
{
	if (array_reserve(st->ext, st->cap, st->nr + 1, 256))
		return -ENOMEM;
	memset(&st->ext[st->nr], 0, sizeof(st->ext[0]));
	st->ext[st->nr].bytenr = bytenr;
	st->ext[st->nr++].len = len;
	return 0;
}

/* Walk visitor, phase 1: the block itself and its leaf's data extents. */
static int collect_block(struct extent_buffer *eb, void *data)
{
	struct sv_state *st = data;
	u32 i, nr = btrfs_header_nritems(eb);
	int ret = add_record(st, eb->start, eb->len);

	for (i = 0; !ret && btrfs_header_level(eb) == 0 && i < nr; i++) {
		struct btrfs_key key;
		u64 bytenr, len;

		btrfs_item_key_to_cpu(eb, &key, (int)i);
		if (key.type == BTRFS_EXTENT_DATA_KEY &&
		    file_extent_target(eb, (int)i, &bytenr, &len))
			ret = add_record(st, bytenr, len);
	}
	return ret;
}

static int cmp_extent(const void *a, const void *b)
{
	const struct sv_extent *x = a, *y = b;

	if (x->bytenr != y->bytenr)
		return x->bytenr < y->bytenr ? -1 : 1;
	return 0;
}

static void sort_unique(struct sv_state *st)
{
	size_t i, n = 0;

	if (!st->nr)
		return;
	qsort(st->ext, st->nr, sizeof(*st->ext), cmp_extent);
	for (i = 1; i < st->nr; i++)
		if (st->ext[i].bytenr != st->ext[n].bytenr)
			st->ext[++n] = st->ext[i];
	st->nr = n + 1;
}

static struct sv_extent *find_extent(struct sv_state *st, u64 bytenr)
{
	size_t lo = 0, hi = st->nr;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (st->ext[mid].bytenr == bytenr)
			return &st->ext[mid];
		if (st->ext[mid].bytenr < bytenr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static int add_root(struct sv_extent *e, u64 root)
{
	if (e->nr_roots && e->roots[e->nr_roots - 1] == root)
		return 0;
	if (e->nr_roots == e->cap_roots) {
		u32 n = e->cap_roots ? e->cap_roots * 2 : 4;
		void *p = realloc(e->roots, n * sizeof(*e->roots));

		if (!p)
			return -ENOMEM;
		e->roots = p;
		e->cap_roots = n;
	}
	e->roots[e->nr_roots++] = root;
	return 0;
}

/* Walk visitor, phase 2: mark what tree st->cur_root shares. */
static int match_block(struct extent_buffer *eb, void *data)
{
	struct sv_state *st = data;
	u32 i, nr = btrfs_header_nritems(eb);
	struct sv_extent *e = find_extent(st, eb->start);
	int ret = e ? add_root(e, st->cur_root) : 0;

	for (i = 0; !ret && btrfs_header_level(eb) == 0 && i < nr; i++) {
		struct btrfs_key key;
		u64 bytenr, len;

		btrfs_item_key_to_cpu(eb, &key, (int)i);
		if (key.type != BTRFS_EXTENT_DATA_KEY ||
		    !file_extent_target(eb, (int)i, &bytenr, &len))
			continue;
		e = find_extent(st, bytenr);
		if (e)
			ret = add_root(e, st->cur_root);
	}
	return ret;
}

static int collect_tree(struct check_ctx *ctx, struct extent_buffer *eb,
			int slot, const struct btrfs_key *key, void *data)
{
	struct sv_state *st = data;

	(void)ctx;
	(void)eb;
	(void)slot;
	if (key->type != BTRFS_ROOT_ITEM_KEY || !check_is_fstree(key->objectid))
		return 0;
	if (st->nr_trees && st->trees[st->nr_trees - 1] == key->objectid)
		return 0;
	if (array_reserve(st->trees, st->cap_trees, st->nr_trees + 1, 16))
		return -ENOMEM;
	st->trees[st->nr_trees++] = key->objectid;
	return 0;
}

/* Scan subvolume @id for references to the collected extents. */
static int scan_tree(struct check_ctx *ctx, struct sv_state *st, u64 id)
{
	static const struct btrfs_tree_walk_ops ops = { .visit = match_block };
	struct btrfs_key loc = { id, BTRFS_ROOT_ITEM_KEY, (u64)-1 };
	struct btrfs_root *root = btrfs_read_tree_root(ctx->fs_info, &loc);
	int ret;

	if (IS_ERR(root))
		return (int)PTR_ERR(root);
	st->cur_root = id;
	ret = btrfs_walk_tree(ctx->fs_info, root->node, false, &ops, st);
	btrfs_free_root(root);
	return ret;
}

static void print_extents(struct check_ctx *ctx, struct sv_state *st)
{
	size_t i;
	u32 r;

	fprintf(ctx->out, "Offset\t\tLen\tRoot Refs\tRoots\n");
	for (i = 0; i < st->nr; i++) {
		struct sv_extent *e = &st->ext[i];

		fprintf(ctx->out, "%llu\t%llu\t%u\t",
			(unsigned long long)e->bytenr,
			(unsigned long long)e->len, e->nr_roots);
		for (r = 0; r < e->nr_roots; r++)
			fprintf(ctx->out, "%llu ",
				(unsigned long long)e->roots[r]);
		fputc('\n', ctx->out);
	}
}

int check_subvol_extents(struct check_ctx *ctx, u64 subvol)
{
	static const struct btrfs_tree_walk_ops collect_ops = {
		.visit = collect_block,
	};
	struct btrfs_key loc = { subvol, BTRFS_ROOT_ITEM_KEY, (u64)-1 };
	struct sv_state st = { 0 };
	struct btrfs_root *root;
	size_t i;
	int ret;

	if (!check_is_fstree(subvol) || !ctx->fs_info->tree_root) {
		check_fatal(ctx, "%llu is not a subvolume id",
			    (unsigned long long)subvol);
		return -EINVAL;
	}
	root = btrfs_read_tree_root(ctx->fs_info, &loc);
	if (IS_ERR(root)) {
		check_fatal(ctx, "cannot read subvolume %llu: %s",
			    (unsigned long long)subvol,
			    strerror((int)-PTR_ERR(root)));
		return (int)PTR_ERR(root);
	}
	ret = btrfs_walk_tree(ctx->fs_info, root->node, false, &collect_ops,
			      &st);
	btrfs_free_root(root);
	if (!ret) {
		sort_unique(&st);
		ret = check_for_each_item(ctx, ctx->fs_info->tree_root, NULL,
					  collect_tree, &st);
	}
	for (i = 0; !ret && i < st.nr_trees; i++)
		ret = scan_tree(ctx, &st, st.trees[i]);
	if (ret)
		check_fatal(ctx, "cannot read all subvolumes: %s",
			    strerror(-ret));
	else
		print_extents(ctx, &st);
	for (i = 0; i < st.nr; i++)
		free(st.ext[i].roots);
	free(st.ext);
	free(st.trees);
	return ret;
}
