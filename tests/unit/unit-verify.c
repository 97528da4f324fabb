// SPDX-License-Identifier: GPL-2.0
/*
 * The image verifier the write tests share; see unit-verify.h.
 */
/* csum.h declares an enum whose names format.h also #defines: include it
 * first. */
#include "common/csum.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel-shared/ctree.h"
#include "kernel-shared/disk-io.h"
#include "kernel-shared/extent-tree.h"
#include "tests/unit/unit-util.h"
#include "tests/unit/unit-verify.h"

void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		abort();
	return p;
}

/* ------------------------------------------------------------------ */
/* The verifier: expected references derived from the trees. */

struct refent {
	u8 type;
	u64 a;			/* root (normal refs) or parent (shared) */
	u64 owner;		/* EXTENT_DATA_REF: inode */
	u64 offset;		/* EXTENT_DATA_REF: offset */
	u64 count;		/* in the extent tree */
	u64 expected;		/* found in the trees */
};

struct ext {
	u64 bytenr;
	u64 len;
	u64 refs;
	u64 flags;
	bool tree;
	bool visited;
	struct refent *r;
	size_t nr;
};

struct verify {
	struct btrfs_fs_info *fs;
	struct ext *e;
	size_t nr, cap;
	u64 tree_blocks, data_extents, shared_refs, full_backref_blocks;
	u64 max_level, keyed_refs, max_refs;
};

static struct ext *find_ext(struct verify *v, u64 bytenr)
{
	size_t lo = 0, hi = v->nr;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (v->e[mid].bytenr < bytenr)
			lo = mid + 1;
		else if (v->e[mid].bytenr > bytenr)
			hi = mid;
		else
			return &v->e[mid];
	}
	return NULL;
}

static void add_refent(struct ext *x, u8 type, u64 a, u64 owner, u64 offset,
		       u64 count)
{
	x->r = xrealloc(x->r, (x->nr + 1) * sizeof(*x->r));
	x->r[x->nr++] = (struct refent){ type, a, owner, offset, count, 0 };
}

static u64 refs_total(const struct ext *x)
{
	u64 sum = 0;

	for (size_t i = 0; i < x->nr; i++)
		sum += x->r[i].count;
	return sum;
}

/* Parse an EXTENT_ITEM / METADATA_ITEM with its inline refs. */
static int load_extent_item(struct verify *v, const struct extent_buffer *leaf,
			    int slot, const struct btrfs_key *key)
{
	u32 size = btrfs_item_size(leaf, slot);
	const u8 *base = btrfs_item_ptr(leaf, slot, u8);
	struct btrfs_extent_item *ei = (void *)base;
	struct ext *x;
	u32 p;

	if (size < sizeof(*ei))
		return bad("extent item %llu too small",
			   (unsigned long long)key->objectid);
	if (v->nr && v->e[v->nr - 1].bytenr + v->e[v->nr - 1].len >
			     key->objectid)
		return bad("extent %llu overlaps the one before",
			   (unsigned long long)key->objectid);
	if (v->nr == v->cap) {
		v->cap = v->cap ? v->cap * 2 : 1024;
		v->e = xrealloc(v->e, v->cap * sizeof(*v->e));
	}
	x = &v->e[v->nr++];
	memset(x, 0, sizeof(*x));
	x->bytenr = key->objectid;
	x->len = key->type == BTRFS_METADATA_ITEM_KEY ? v->fs->nodesize :
							 key->offset;
	x->refs = btrfs_extent_refs(leaf, ei);
	x->flags = btrfs_extent_flags(leaf, ei);
	x->tree = x->flags & BTRFS_EXTENT_FLAG_TREE_BLOCK;
	if (!!x->tree == !!(x->flags & BTRFS_EXTENT_FLAG_DATA))
		return bad("extent %llu: flags %#llx",
			   (unsigned long long)x->bytenr,
			   (unsigned long long)x->flags);
	if (!x->tree && (x->flags & BTRFS_BLOCK_FLAG_FULL_BACKREF))
		return bad("data extent %llu is FULL_BACKREF",
			   (unsigned long long)x->bytenr);
	p = sizeof(*ei);
	if (x->tree && key->type == BTRFS_EXTENT_ITEM_KEY)
		p += sizeof(struct btrfs_tree_block_info);
	while (p < size) {
		struct btrfs_extent_inline_ref *ir = (void *)(base + p);
		u8 t = btrfs_extent_inline_ref_type(leaf, ir);
		u32 len = btrfs_extent_inline_ref_size(t);

		if (!len || p + len > size)
			return bad("extent %llu: bad inline ref type %u",
				   (unsigned long long)x->bytenr, t);
		if (t == BTRFS_EXTENT_DATA_REF_KEY) {
			struct btrfs_extent_data_ref *d = (void *)&ir->offset;

			add_refent(x, t, btrfs_extent_data_ref_root(leaf, d),
				   btrfs_extent_data_ref_objectid(leaf, d),
				   btrfs_extent_data_ref_offset(leaf, d),
				   btrfs_extent_data_ref_count(leaf, d));
		} else if (t == BTRFS_SHARED_DATA_REF_KEY) {
			struct btrfs_shared_data_ref *s = (void *)(ir + 1);

			add_refent(x, t, btrfs_extent_inline_ref_offset(leaf, ir),
				   0, 0, btrfs_shared_data_ref_count(leaf, s));
		} else {
			add_refent(x, t, btrfs_extent_inline_ref_offset(leaf, ir),
				   0, 0, 1);
		}
		p += len;
	}
	return 0;
}

static int load_keyed_ref(struct verify *v, const struct extent_buffer *leaf,
			  int slot, const struct btrfs_key *key)
{
	struct ext *x = v->nr ? &v->e[v->nr - 1] : NULL;
	u32 size = btrfs_item_size(leaf, slot);

	v->keyed_refs++;
	if (!x || x->bytenr != key->objectid)
		return bad("keyed ref (%llu %u %llu) without its extent item",
			   (unsigned long long)key->objectid, key->type,
			   (unsigned long long)key->offset);
	if (key->type == BTRFS_EXTENT_DATA_REF_KEY) {
		struct btrfs_extent_data_ref *d;
		u64 hash;

		if (size != sizeof(*d))
			return bad("keyed data ref size %u", size);
		d = btrfs_item_ptr(leaf, slot, struct btrfs_extent_data_ref);
		add_refent(x, key->type, btrfs_extent_data_ref_root(leaf, d),
			   btrfs_extent_data_ref_objectid(leaf, d),
			   btrfs_extent_data_ref_offset(leaf, d),
			   btrfs_extent_data_ref_count(leaf, d));
		hash = btrfs_hash_extent_data_ref(x->r[x->nr - 1].a,
						  x->r[x->nr - 1].owner,
						  x->r[x->nr - 1].offset);
		if (key->offset < hash || key->offset - hash > 64)
			return bad("keyed data ref of %llu at offset %llu, "
				   "hash %llu", (unsigned long long)x->bytenr,
				   (unsigned long long)key->offset,
				   (unsigned long long)hash);
	} else if (key->type == BTRFS_SHARED_DATA_REF_KEY) {
		if (size != sizeof(struct btrfs_shared_data_ref))
			return bad("keyed shared data ref size %u", size);
		add_refent(x, key->type, key->offset, 0, 0,
			   btrfs_shared_data_ref_count(leaf,
				btrfs_item_ptr(leaf, slot,
					       struct btrfs_shared_data_ref)));
	} else {
		if (size != 0)
			return bad("keyed tree ref size %u", size);
		add_refent(x, key->type, key->offset, 0, 0, 1);
	}
	return 0;
}

static int load_extent_tree(struct verify *v)
{
	struct btrfs_root *root = v->fs->extent_root;
	struct btrfs_key key = { 0, 0, 0 };
	struct btrfs_path *path = btrfs_alloc_path();
	int ret, err = 0;

	ret = btrfs_search_slot_for_read(root, &key, path);
	while (ret == 0 && !err) {
		struct extent_buffer *leaf = path->nodes[0];
		int slot = path->slots[0];

		btrfs_item_key_to_cpu(leaf, &key, slot);
		switch (key.type) {
		case BTRFS_EXTENT_ITEM_KEY:
		case BTRFS_METADATA_ITEM_KEY:
			err = load_extent_item(v, leaf, slot, &key);
			break;
		case BTRFS_TREE_BLOCK_REF_KEY:
		case BTRFS_SHARED_BLOCK_REF_KEY:
		case BTRFS_EXTENT_DATA_REF_KEY:
		case BTRFS_SHARED_DATA_REF_KEY:
			err = load_keyed_ref(v, leaf, slot, &key);
			break;
		default:
			break;
		}
		if (!err)
			ret = btrfs_next_item(root, path);
	}
	btrfs_free_path(path);
	if (!err && ret < 0)
		err = bad("extent tree walk: %d", ret);
	return err;
}

/* One reference found in the trees. */
static int expect_ref(struct verify *v, u64 bytenr, u64 len, u8 type, u64 a,
		      u64 owner, u64 offset)
{
	struct ext *x = find_ext(v, bytenr);

	if (!x)
		return bad("no extent item for %llu (ref type %u from %llu)",
			   (unsigned long long)bytenr, type,
			   (unsigned long long)a);
	if (x->len != len)
		return bad("extent %llu: length %llu, referenced as %llu",
			   (unsigned long long)bytenr,
			   (unsigned long long)x->len, (unsigned long long)len);
	for (size_t i = 0; i < x->nr; i++) {
		struct refent *r = &x->r[i];

		if (r->type == type && r->a == a && r->owner == owner &&
		    r->offset == offset) {
			r->expected++;
			return 0;
		}
	}
	return bad("extent %llu lacks ref type %u (%llu, %llu, %llu)",
		   (unsigned long long)bytenr, type, (unsigned long long)a,
		   (unsigned long long)owner, (unsigned long long)offset);
}

static int walk_block(struct verify *v, struct extent_buffer *eb);

/* Block @eb reached from @parent (NULL: the root node of tree @root_id). */
static int reach_block(struct verify *v, struct extent_buffer *eb,
		       struct extent_buffer *parent, u64 root_id)
{
	struct ext *x;
	int ret;

	if (!parent) {
		ret = expect_ref(v, eb->start, v->fs->nodesize,
				 BTRFS_TREE_BLOCK_REF_KEY, root_id, 0, 0);
	} else {
		struct ext *px = find_ext(v, parent->start);

		if (px->flags & BTRFS_BLOCK_FLAG_FULL_BACKREF)
			ret = expect_ref(v, eb->start, v->fs->nodesize,
					 BTRFS_SHARED_BLOCK_REF_KEY,
					 parent->start, 0, 0);
		else
			ret = expect_ref(v, eb->start, v->fs->nodesize,
					 BTRFS_TREE_BLOCK_REF_KEY,
					 btrfs_header_owner(parent), 0, 0);
	}
	if (ret)
		return ret;
	x = find_ext(v, eb->start);
	if (!x->tree)
		return bad("tree block %llu has a data extent item",
			   (unsigned long long)eb->start);
	if (x->visited)
		return 0;
	x->visited = true;
	v->tree_blocks++;
	if (x->flags & BTRFS_BLOCK_FLAG_FULL_BACKREF)
		v->full_backref_blocks++;
	v->max_level = max_t(u64, v->max_level, btrfs_header_level(eb));
	return walk_block(v, eb);
}

static int walk_leaf_data(struct verify *v, struct extent_buffer *leaf)
{
	struct ext *lx = find_ext(v, leaf->start);
	bool full = lx->flags & BTRFS_BLOCK_FLAG_FULL_BACKREF;

	for (int i = 0; i < (int)btrfs_header_nritems(leaf); i++) {
		struct btrfs_file_extent_item *fi;
		struct btrfs_key key;
		u64 bytenr;
		int ret;

		btrfs_item_key_to_cpu(leaf, &key, i);
		if (key.type != BTRFS_EXTENT_DATA_KEY)
			continue;
		fi = btrfs_item_ptr(leaf, i, struct btrfs_file_extent_item);
		if (btrfs_file_extent_type(leaf, fi) == BTRFS_FILE_EXTENT_INLINE)
			continue;
		bytenr = btrfs_file_extent_disk_bytenr(leaf, fi);
		if (!bytenr)
			continue;
		if (full) {
			v->shared_refs++;
			ret = expect_ref(v, bytenr,
					 btrfs_file_extent_disk_num_bytes(leaf, fi),
					 BTRFS_SHARED_DATA_REF_KEY, leaf->start,
					 0, 0);
		} else {
			ret = expect_ref(v, bytenr,
					 btrfs_file_extent_disk_num_bytes(leaf, fi),
					 BTRFS_EXTENT_DATA_REF_KEY,
					 btrfs_header_owner(leaf), key.objectid,
					 key.offset -
					 btrfs_file_extent_offset(leaf, fi));
		}
		if (ret)
			return ret;
	}
	return 0;
}

static int walk_block(struct verify *v, struct extent_buffer *eb)
{
	int level = btrfs_header_level(eb);

	if (level == 0)
		return walk_leaf_data(v, eb);
	for (int i = 0; i < (int)btrfs_header_nritems(eb); i++) {
		struct extent_buffer *child;
		int ret;

		child = btrfs_read_node_slot(v->fs, eb, i);
		if (IS_ERR(child))
			return bad("block %llu slot %d: read error %ld",
				   (unsigned long long)eb->start, i,
				   PTR_ERR(child));
		ret = reach_block(v, child, eb, 0);
		free_extent_buffer(child);
		if (ret)
			return ret;
	}
	return 0;
}

static int walk_all_trees(struct verify *v)
{
	struct btrfs_fs_info *fs = v->fs;
	struct btrfs_key key = { 0, BTRFS_ROOT_ITEM_KEY, 0 };
	struct btrfs_path *path;
	int ret;

	ret = reach_block(v, fs->tree_root->node, NULL,
			  BTRFS_ROOT_TREE_OBJECTID);
	if (!ret)
		ret = reach_block(v, fs->chunk_root->node, NULL,
				  BTRFS_CHUNK_TREE_OBJECTID);
	if (ret)
		return ret;
	path = btrfs_alloc_path();
	ret = btrfs_search_slot_for_read(fs->tree_root, &key, path);
	while (ret == 0) {
		struct btrfs_root *root;
		struct btrfs_key loc;

		btrfs_item_key_to_cpu(path->nodes[0], &key, path->slots[0]);
		if (key.type == BTRFS_ROOT_ITEM_KEY &&
		    key.objectid != BTRFS_TREE_LOG_OBJECTID) {
			loc = key;
			root = btrfs_read_tree_root(fs, &loc);
			if (IS_ERR(root)) {
				btrfs_free_path(path);
				return bad("root %llu: %ld",
					   (unsigned long long)key.objectid,
					   PTR_ERR(root));
			}
			ret = reach_block(v, root->node, NULL, key.objectid);
			btrfs_free_root(root);
			if (ret) {
				btrfs_free_path(path);
				return ret;
			}
		}
		ret = btrfs_next_item(fs->tree_root, path);
	}
	btrfs_free_path(path);
	return ret < 0 ? bad("root tree walk: %d", ret) : 0;
}

/* Every item's refs equal what the trees hold, nothing left over. */
static int compare_refs(struct verify *v)
{
	for (size_t i = 0; i < v->nr; i++) {
		struct ext *x = &v->e[i];

		if (x->tree && !x->visited)
			return bad("tree block %llu has an extent item but no "
				   "tree reaches it",
				   (unsigned long long)x->bytenr);
		if (!x->tree)
			v->data_extents++;
		v->max_refs = max_t(u64, v->max_refs, x->refs);
		if (refs_total(x) != x->refs)
			return bad("extent %llu: refs %llu, its refs add to %llu",
				   (unsigned long long)x->bytenr,
				   (unsigned long long)x->refs,
				   (unsigned long long)refs_total(x));
		for (size_t j = 0; j < x->nr; j++) {
			struct refent *r = &x->r[j];

			if (r->count != r->expected)
				return bad("extent %llu ref type %u (%llu, %llu,"
					   " %llu): count %llu, the trees hold "
					   "%llu", (unsigned long long)x->bytenr,
					   r->type, (unsigned long long)r->a,
					   (unsigned long long)r->owner,
					   (unsigned long long)r->offset,
					   (unsigned long long)r->count,
					   (unsigned long long)r->expected);
			for (size_t k = j + 1; k < x->nr; k++)
				if (x->r[k].type == r->type &&
				    x->r[k].a == r->a &&
				    x->r[k].owner == r->owner &&
				    x->r[k].offset == r->offset)
					return bad("extent %llu: a ref twice",
						   (unsigned long long)x->bytenr);
		}
	}
	return 0;
}

/* Used bytes of [start, start + len) according to the extents. */
static u64 used_in(struct verify *v, u64 start, u64 len)
{
	u64 sum = 0;

	for (size_t i = 0; i < v->nr; i++)
		if (v->e[i].bytenr >= start && v->e[i].bytenr < start + len)
			sum += v->e[i].len;
	return sum;
}

static int read_bg_used(struct verify *v, u64 start, u64 len, u64 *used)
{
	struct btrfs_fs_info *fs = v->fs;
	struct btrfs_root *root = btrfs_fs_compat_ro(fs,
		BTRFS_FEATURE_COMPAT_RO_BLOCK_GROUP_TREE) ?
		fs->block_group_root : fs->extent_root;
	struct btrfs_key key = { start, BTRFS_BLOCK_GROUP_ITEM_KEY, len };
	struct btrfs_path *path = btrfs_alloc_path();
	int ret = btrfs_search_slot(NULL, root, &key, path, 0, 0);

	if (ret == 0)
		*used = btrfs_block_group_used(path->nodes[0],
			btrfs_item_ptr(path->nodes[0], path->slots[0],
				       struct btrfs_block_group_item));
	btrfs_free_path(path);
	return ret;
}

/* Block groups: items, the writer's numbers, and the super's total. */
static int check_block_groups(struct verify *v, struct btrfs_fs_info *wfs)
{
	u64 total = 0;

	for (size_t i = 0; i < v->nr; i++)
		total += v->e[i].len;
	if (btrfs_super_bytes_used(&v->fs->super_copy) != total)
		return bad("super bytes_used %llu, extents %llu",
			   (unsigned long long)btrfs_super_bytes_used(
				   &v->fs->super_copy),
			   (unsigned long long)total);
	for (size_t i = 0; i < wfs->nr_block_groups; i++) {
		struct btrfs_block_group *bg = wfs->block_groups[i];
		u64 used = used_in(v, bg->start, bg->length), disk = 0;

		if (read_bg_used(v, bg->start, bg->length, &disk))
			return bad("block group item %llu missing",
				   (unsigned long long)bg->start);
		if (disk != used || bg->used != used)
			return bad("block group %llu: item used %llu, writer "
				   "%llu, extents %llu",
				   (unsigned long long)bg->start,
				   (unsigned long long)disk,
				   (unsigned long long)bg->used,
				   (unsigned long long)used);
		if (bg->reserved || bg->pinned ||
		    bg->free_space.free_bytes + bg->used + bg->excluded !=
			    bg->length)
			return bad("block group %llu: free %llu + used %llu + "
				   "excluded %llu != %llu (reserved %llu, "
				   "pinned %llu)",
				   (unsigned long long)bg->start,
				   (unsigned long long)bg->free_space.free_bytes,
				   (unsigned long long)bg->used,
				   (unsigned long long)bg->excluded,
				   (unsigned long long)bg->length,
				   (unsigned long long)bg->reserved,
				   (unsigned long long)bg->pinned);
	}
	return 0;
}

struct range {
	u64 start, len;
};

struct ranges {
	struct range *r;
	size_t nr, cap;
};

static void range_add(struct ranges *s, u64 start, u64 len)
{
	if (s->nr && s->r[s->nr - 1].start + s->r[s->nr - 1].len == start) {
		s->r[s->nr - 1].len += len;
		return;
	}
	if (s->nr == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 256;
		s->r = xrealloc(s->r, s->cap * sizeof(*s->r));
	}
	s->r[s->nr++] = (struct range){ start, len };
}

/* The free-space tree's free ranges equal the gaps between extents. */
static int check_free_space_tree(struct verify *v, struct btrfs_fs_info *wfs)
{
	struct btrfs_fs_info *fs = v->fs;
	struct ranges got = { 0 }, want = { 0 };
	struct btrfs_key key = { 0, 0, 0 };
	struct btrfs_path *path;
	int ret, err = 0;

	if (!fs->free_space_root)
		return 0;
	for (size_t i = 0; i < wfs->nr_block_groups; i++) {
		struct btrfs_block_group *bg = wfs->block_groups[i];
		u64 pos = bg->start, end = bg->start + bg->length;

		for (size_t j = 0; j < v->nr; j++) {
			struct ext *x = &v->e[j];

			if (x->bytenr < bg->start || x->bytenr >= end)
				continue;
			if (x->bytenr > pos)
				range_add(&want, pos, x->bytenr - pos);
			pos = x->bytenr + x->len;
		}
		if (pos < end)
			range_add(&want, pos, end - pos);
	}
	path = btrfs_alloc_path();
	ret = btrfs_search_slot_for_read(fs->free_space_root, &key, path);
	while (ret == 0) {
		struct extent_buffer *leaf = path->nodes[0];
		int slot = path->slots[0];

		btrfs_item_key_to_cpu(leaf, &key, slot);
		if (!btrfs_lookup_block_group(wfs, key.objectid)) {
			/* mkfs's leftovers of its temporary chunks */
		} else if (key.type == BTRFS_FREE_SPACE_EXTENT_KEY) {
			range_add(&got, key.objectid, key.offset);
		} else if (key.type == BTRFS_FREE_SPACE_BITMAP_KEY) {
			const u8 *map = btrfs_item_ptr(leaf, slot, u8);
			u64 bits = key.offset / fs->sectorsize;

			for (u64 b = 0; b < bits; b++)
				if (map[b / 8] & (1U << (b % 8)))
					range_add(&got, key.objectid +
						  b * fs->sectorsize,
						  fs->sectorsize);
		}
		ret = btrfs_next_item(fs->free_space_root, path);
	}
	btrfs_free_path(path);
	if (ret < 0)
		err = bad("free space tree walk: %d", ret);
	/* Adjacent groups merge in both lists the same way. */
	if (!err && got.nr != want.nr)
		err = bad("free space tree: %zu free ranges, the extents leave "
			  "%zu", got.nr, want.nr);
	for (size_t i = 0; !err && i < got.nr; i++)
		if (got.r[i].start != want.r[i].start ||
		    got.r[i].len != want.r[i].len)
			err = bad("free space tree: range %llu+%llu, the extents "
				  "leave %llu+%llu",
				  (unsigned long long)got.r[i].start,
				  (unsigned long long)got.r[i].len,
				  (unsigned long long)want.r[i].start,
				  (unsigned long long)want.r[i].len);
	free(got.r);
	free(want.r);
	return err;
}

/* Is [start, start + len) inside data extents? */
static bool in_data_extents(struct verify *v, u64 start, u64 len)
{
	while (len) {
		size_t lo = 0, hi = v->nr;
		struct ext *x = NULL;
		u64 n;

		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;

			if (v->e[mid].bytenr <= start)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo)
			x = &v->e[lo - 1];
		if (!x || x->tree || x->bytenr + x->len <= start)
			return false;
		n = min_t(u64, len, x->bytenr + x->len - start);
		start += n;
		len -= n;
	}
	return true;
}

static int check_csums(struct verify *v)
{
	struct btrfs_fs_info *fs = v->fs;
	struct btrfs_key key = { BTRFS_EXTENT_CSUM_OBJECTID, 0, 0 };
	struct btrfs_path *path = btrfs_alloc_path();
	u64 prev_end = 0;
	int ret, err = 0;

	ret = btrfs_search_slot_for_read(fs->csum_root, &key, path);
	while (ret == 0 && !err) {
		struct extent_buffer *leaf = path->nodes[0];
		u64 len;

		btrfs_item_key_to_cpu(leaf, &key, path->slots[0]);
		if (key.type != BTRFS_EXTENT_CSUM_KEY)
			break;
		len = btrfs_item_size(leaf, path->slots[0]) / fs->csum_size *
		      (u64)fs->sectorsize;
		if (key.offset < prev_end)
			err = bad("csum items overlap at %llu",
				  (unsigned long long)key.offset);
		else if (!in_data_extents(v, key.offset, len))
			err = bad("csums of %llu+%llu outside data extents",
				  (unsigned long long)key.offset,
				  (unsigned long long)len);
		prev_end = key.offset + len;
		if (!err)
			ret = btrfs_next_item(fs->csum_root, path);
	}
	btrfs_free_path(path);
	return err ? err : ret < 0 ? bad("csum tree walk: %d", ret) : 0;
}

int verify_fs(struct btrfs_fs_info *fs, struct btrfs_fs_info *wfs,
	      struct verify_stats *st)
{
	struct verify v = { .fs = fs };
	int ret;

	ret = load_extent_tree(&v);
	if (!ret)
		ret = walk_all_trees(&v);
	if (!ret)
		ret = compare_refs(&v);
	if (!ret)
		ret = check_block_groups(&v, wfs);
	if (!ret)
		ret = check_free_space_tree(&v, wfs);
	if (!ret)
		ret = check_csums(&v);
	if (st) {
		st->tree_blocks = v.tree_blocks;
		st->data_extents = v.data_extents;
		st->shared_refs = max_t(u64, st->shared_refs, v.shared_refs);
		st->full_backref_blocks = max_t(u64, st->full_backref_blocks,
						v.full_backref_blocks);
		st->max_level = max_t(u64, st->max_level, v.max_level);
		st->keyed_refs = max_t(u64, st->keyed_refs, v.keyed_refs);
		st->max_refs = max_t(u64, st->max_refs, v.max_refs);
	}
	for (size_t i = 0; i < v.nr; i++)
		free(v.e[i].r);
	free(v.e);
	return ret;
}
