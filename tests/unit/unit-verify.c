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
#include "kernel-shared/volumes.h"
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

/* ------------------------------------------------------------------ */
/* Chunks, dev extents and the sys_chunk_array (the chunk test's). */

struct vchunk {
	u64 start;
	u64 length;
	u64 type;
	int num_stripes;
	u64 stripe_size;
	u8 *item;		/* the chunk item bytes */
	u32 item_size;
	u64 devid[16];
	u64 physical[16];
};

struct vdevext {
	u64 devid;
	u64 physical;
	u64 length;
	u64 chunk_offset;
	bool matched;
};

struct vstate {
	struct vchunk *chunks;
	size_t nr_chunks, cap_chunks;
	struct vdevext *ext;
	size_t nr_ext, cap_ext;
};

#define M (1ULL << 20)
#define MAX_DEVS 4

/* Of the verify_chunks() running: chunks from here are checked strictly. */
static u64 new_chunks_from;
static u32 sectorsize;

void *grow_array(void *arr, size_t *cap, size_t nr, size_t size)
{
	if (nr < *cap)
		return arr;
	*cap = *cap ? *cap * 2 : 64;
	return realloc(arr, *cap * size);
}

static u64 stripe_size_of(u64 type, u64 length, int num)
{
	switch (type & BTRFS_BLOCK_GROUP_PROFILE_MASK) {
	case BTRFS_BLOCK_GROUP_RAID0:
		return length / (u64)num;
	case BTRFS_BLOCK_GROUP_RAID10:
		return length / (u64)(num / 2);
	case BTRFS_BLOCK_GROUP_RAID5:
		return length / (u64)(num - 1);
	case BTRFS_BLOCK_GROUP_RAID6:
		return length / (u64)(num - 2);
	}
	return length;
}

static int add_chunk(struct vstate *st, const struct extent_buffer *leaf,
		     int slot, u64 logical)
{
	u32 size = btrfs_item_size(leaf, slot);
	struct btrfs_chunk *c;
	struct vchunk *vc;
	int n;

	st->chunks = grow_array(st->chunks, &st->cap_chunks, st->nr_chunks,
			  sizeof(*st->chunks));
	if (!st->chunks)
		return bad("out of memory");
	vc = &st->chunks[st->nr_chunks++];
	memset(vc, 0, sizeof(*vc));
	vc->item = malloc(size);
	if (!vc->item || size < sizeof(*c))
		return bad("chunk %llu: item of %u bytes",
			   (unsigned long long)logical, size);
	read_extent_buffer(leaf, vc->item,
			   (unsigned long)((u8 *)btrfs_item_ptr_raw(leaf, slot)
					   - leaf->data), size);
	c = (struct btrfs_chunk *)vc->item;
	n = btrfs_stack_chunk_num_stripes(c);
	if (n < 1 || n > 16 || size != btrfs_chunk_item_size(n))
		return bad("chunk %llu: %d stripes",
			   (unsigned long long)logical, n);
	vc->item_size = size;
	vc->start = logical;
	vc->length = btrfs_stack_chunk_length(c);
	vc->type = btrfs_stack_chunk_type(c);
	vc->num_stripes = n;
	vc->stripe_size = stripe_size_of(vc->type, vc->length, n);
	for (int i = 0; i < n; i++) {
		const struct btrfs_stripe *s = &c->stripe + i;

		vc->devid[i] = btrfs_stack_stripe_devid(s);
		vc->physical[i] = btrfs_stack_stripe_offset(s);
	}
	/* Fields as the kernel writes them (mkfs's own chunks differ). */
	if (logical >= new_chunks_from &&
	    (btrfs_stack_chunk_stripe_len(c) != BTRFS_STRIPE_LEN ||
	    btrfs_stack_chunk_io_align(c) != BTRFS_STRIPE_LEN ||
	    btrfs_stack_chunk_io_width(c) != BTRFS_STRIPE_LEN ||
	    btrfs_stack_chunk_owner(c) != BTRFS_EXTENT_TREE_OBJECTID ||
	    btrfs_stack_chunk_sector_size(c) != sectorsize ||
	    btrfs_stack_chunk_sub_stripes(c) !=
	    ((vc->type & BTRFS_BLOCK_GROUP_RAID10) ? 2 : 1)))
		return bad("chunk %llu: stripe_len/io_align/io_width/owner/"
			   "sector_size/sub_stripes differ from the kernel's",
			   (unsigned long long)logical);
	return 0;
}

/* Call @fn for every item of @root. */
static int for_each_item(struct btrfs_root *root,
			 int (*fn)(const struct extent_buffer *leaf, int slot,
				   const struct btrfs_key *key, void *ctx),
			 void *ctx)
{
	struct btrfs_key key = { 0, 0, 0 };
	struct btrfs_path *path = btrfs_alloc_path();
	int ret;

	if (!path)
		return bad("out of memory");
	ret = btrfs_search_slot_for_read(root, &key, path);
	while (ret == 0) {
		btrfs_item_key_to_cpu(path->nodes[0], &key, path->slots[0]);
		ret = fn(path->nodes[0], path->slots[0], &key, ctx);
		if (ret)
			break;
		ret = btrfs_next_item(root, path);
	}
	btrfs_free_path(path);
	return ret < 0 ? bad("tree walk: %d", ret) : 0;
}

struct vctx {
	struct btrfs_fs_info *fs;
	struct vstate st;
	u64 dev_used[MAX_DEVS + 1];	/* from dev items, by devid */
	u64 bg_used_sum;
	size_t nr_bgs;
	size_t nr_sys;
	/* free-space tree sums per group */
	u64 fst_group_start, fst_group_len, fst_free;
	bool fst_in_group;
};

static int chunk_tree_item(const struct extent_buffer *leaf, int slot,
			   const struct btrfs_key *key, void *arg)
{
	struct vctx *v = arg;

	if (key->type == BTRFS_CHUNK_ITEM_KEY)
		return add_chunk(&v->st, leaf, slot, key->offset);
	if (key->type == BTRFS_DEV_ITEM_KEY) {
		struct btrfs_dev_item *d = btrfs_item_ptr(leaf, slot,
						struct btrfs_dev_item);

		if (key->offset < 1 || key->offset > MAX_DEVS)
			return bad("devid %llu",
				   (unsigned long long)key->offset);
		v->dev_used[key->offset] = btrfs_device_bytes_used(leaf, d);
	}
	return 0;
}

static int dev_tree_item(const struct extent_buffer *leaf, int slot,
			 const struct btrfs_key *key, void *arg)
{
	struct vctx *v = arg;
	struct btrfs_dev_extent *de;
	u8 uuid[BTRFS_UUID_SIZE];
	struct vdevext *e;

	if (key->type != BTRFS_DEV_EXTENT_KEY)
		return 0;
	v->st.ext = grow_array(v->st.ext, &v->st.cap_ext, v->st.nr_ext,
			 sizeof(*v->st.ext));
	if (!v->st.ext)
		return bad("out of memory");
	de = btrfs_item_ptr(leaf, slot, struct btrfs_dev_extent);
	e = &v->st.ext[v->st.nr_ext++];
	e->devid = key->objectid;
	e->physical = key->offset;
	e->length = btrfs_dev_extent_length(leaf, de);
	e->chunk_offset = btrfs_dev_extent_chunk_offset(leaf, de);
	e->matched = false;
	read_extent_buffer(leaf, uuid,
			   (unsigned long)((u8 *)de->chunk_tree_uuid -
					   leaf->data),
			   BTRFS_UUID_SIZE);
	if (btrfs_dev_extent_chunk_tree(leaf, de) !=
	    BTRFS_CHUNK_TREE_OBJECTID ||
	    btrfs_dev_extent_chunk_objectid(leaf, de) !=
	    BTRFS_FIRST_CHUNK_TREE_OBJECTID ||
	    memcmp(uuid, v->fs->chunk_tree_uuid, BTRFS_UUID_SIZE))
		return bad("dev extent %llu/%llu: chunk tree fields",
			   (unsigned long long)e->devid,
			   (unsigned long long)e->physical);
	return 0;
}

static struct vchunk *find_vchunk(struct vstate *st, u64 start)
{
	for (size_t i = 0; i < st->nr_chunks; i++)
		if (st->chunks[i].start == start)
			return &st->chunks[i];
	return NULL;
}

static int bg_item(const struct extent_buffer *leaf, int slot,
		   const struct btrfs_key *key, void *arg)
{
	struct vctx *v = arg;
	struct btrfs_block_group_item *bi;
	struct vchunk *c;

	if (key->type != BTRFS_BLOCK_GROUP_ITEM_KEY)
		return 0;
	bi = btrfs_item_ptr(leaf, slot, struct btrfs_block_group_item);
	c = find_vchunk(&v->st, key->objectid);
	if (!c || c->length != key->offset ||
	    c->type != btrfs_block_group_flags(leaf, bi))
		return bad("block group %llu+%llu has no chunk alike",
			   (unsigned long long)key->objectid,
			   (unsigned long long)key->offset);
	v->nr_bgs++;
	v->bg_used_sum += btrfs_block_group_used(leaf, bi);
	return 0;
}

static int check_dev_extents(struct vctx *v)
{
	struct vstate *st = &v->st;
	u64 sum[MAX_DEVS + 1] = { 0 };
	size_t stripes = 0;

	for (size_t i = 0; i < st->nr_chunks; i++) {
		struct vchunk *c = &st->chunks[i];

		for (int s = 0; s < c->num_stripes; s++) {
			bool found = false;

			stripes++;
			for (size_t k = 0; k < st->nr_ext && !found; k++) {
				struct vdevext *e = &st->ext[k];

				if (e->devid != c->devid[s] ||
				    e->physical != c->physical[s])
					continue;
				found = e->length == c->stripe_size &&
					e->chunk_offset == c->start &&
					!e->matched;
				e->matched = found;
			}
			if (!found)
				return bad("chunk %llu stripe %d (devid %llu "
					   "at %llu) has no dev extent",
					   (unsigned long long)c->start, s,
					   (unsigned long long)c->devid[s],
					   (unsigned long long)c->physical[s]);
		}
	}
	if (stripes != st->nr_ext)
		return bad("%zu dev extents for %zu stripes", st->nr_ext,
			   stripes);
	/* The dev tree is sorted by (devid, physical). */
	for (size_t k = 0; k < st->nr_ext; k++) {
		struct vdevext *e = &st->ext[k];
		struct btrfs_device *d;

		if (e->devid < 1 || e->devid > MAX_DEVS)
			return bad("dev extent on devid %llu",
				   (unsigned long long)e->devid);
		d = btrfs_find_device(v->fs->fs_devices, e->devid, NULL);
		if (!d || e->physical < M ||
		    e->physical + e->length > d->total_bytes)
			return bad("dev extent %llu/%llu outside the device",
				   (unsigned long long)e->devid,
				   (unsigned long long)e->physical);
		if (k && st->ext[k - 1].devid == e->devid &&
		    st->ext[k - 1].physical + st->ext[k - 1].length >
		    e->physical)
			return bad("dev extents overlap at %llu/%llu",
				   (unsigned long long)e->devid,
				   (unsigned long long)e->physical);
		sum[e->devid] += e->length;
	}
	for (struct btrfs_device *d = v->fs->fs_devices->devices; d;
	     d = d->next) {
		struct btrfs_super_block sb;

		if (d->devid > MAX_DEVS ||
		    sum[d->devid] != v->dev_used[d->devid])
			return bad("devid %llu: dev item bytes_used %llu, dev "
				   "extents %llu", (unsigned long long)d->devid,
				   (unsigned long long)v->dev_used[d->devid],
				   (unsigned long long)sum[d->devid]);
		if (btrfs_read_super_raw(d->io, btrfs_sb_offset(0), &sb) ||
		    btrfs_stack_device_bytes_used(&sb.dev_item) !=
		    sum[d->devid])
			return bad("devid %llu: superblock bytes_used %llu, "
				   "dev extents %llu",
				   (unsigned long long)d->devid,
				   (unsigned long long)
				   btrfs_stack_device_bytes_used(&sb.dev_item),
				   (unsigned long long)sum[d->devid]);
	}
	return 0;
}

/* The sys_chunk_array holds the system chunks of the chunk tree. */
static int check_sys_array(struct vctx *v)
{
	const struct btrfs_super_block *sb = &v->fs->super_copy;
	u32 size = btrfs_super_sys_array_size(sb), cur = 0;
	size_t seen = 0, want = 0;

	for (size_t i = 0; i < v->st.nr_chunks; i++)
		want += !!(v->st.chunks[i].type & BTRFS_BLOCK_GROUP_SYSTEM);
	while (cur < size) {
		const struct btrfs_disk_key *key = (const void *)
			(sb->sys_chunk_array + cur);
		const struct btrfs_chunk *c = (const void *)
			(sb->sys_chunk_array + cur + sizeof(*key));
		u32 isz = (u32)btrfs_chunk_item_size(
			btrfs_stack_chunk_num_stripes(c));
		struct vchunk *vc = find_vchunk(&v->st,
					btrfs_stack_disk_key_offset(key));

		if (!vc || vc->item_size != isz ||
		    memcmp(vc->item, c, isz) ||
		    !(vc->type & BTRFS_BLOCK_GROUP_SYSTEM))
			return bad("sys_chunk_array entry %llu differs from "
				   "the chunk tree",
				   (unsigned long long)
				   btrfs_stack_disk_key_offset(key));
		seen++;
		cur += (u32)sizeof(*key) + isz;
	}
	if (seen != want)
		return bad("sys_chunk_array has %zu chunks, the chunk tree %zu "
			   "system chunks", seen, want);
	v->nr_sys = want;
	return 0;
}

/* Free-space tree: each group records length - used free. */
static int fst_close_group(struct vctx *v)
{
	struct btrfs_block_group *bg;

	if (!v->fst_in_group)
		return 0;
	v->fst_in_group = false;
	bg = btrfs_lookup_block_group(v->fs, v->fst_group_start);
	if (!bg && v->fst_group_start < new_chunks_from)
		return 0;	/* mkfs leaves its temporary groups' entries */
	if (!bg || bg->start != v->fst_group_start ||
	    bg->length != v->fst_group_len)
		return bad("free-space info %llu without a group",
			   (unsigned long long)v->fst_group_start);
	if (v->fst_free != bg->length - bg->used)
		return bad("group %llu: free-space tree has %llu free, group "
			   "%llu - %llu used", (unsigned long long)bg->start,
			   (unsigned long long)v->fst_free,
			   (unsigned long long)bg->length,
			   (unsigned long long)bg->used);
	return 0;
}

static int fst_item(const struct extent_buffer *leaf, int slot,
		    const struct btrfs_key *key, void *arg)
{
	struct vctx *v = arg;

	if (key->type == BTRFS_FREE_SPACE_INFO_KEY) {
		int ret = fst_close_group(v);

		v->fst_in_group = true;
		v->fst_group_start = key->objectid;
		v->fst_group_len = key->offset;
		v->fst_free = 0;
		return ret;
	}
	if (key->type == BTRFS_FREE_SPACE_EXTENT_KEY) {
		v->fst_free += key->offset;
	} else if (key->type == BTRFS_FREE_SPACE_BITMAP_KEY) {
		u32 size = btrfs_item_size(leaf, slot);
		const u8 *p = btrfs_item_ptr(leaf, slot, u8);

		for (u32 i = 0; i < size; i++)
			v->fst_free += (u64)__builtin_popcount(p[i]) *
				       v->fs->sectorsize;
	}
	return 0;
}

int verify_chunks(struct btrfs_fs_info *fs, u64 *new_from, size_t *nr_chunks,
		  size_t *nr_sys)
{
	struct vctx v;
	struct btrfs_root *bgroot;
	int ret;

	memset(&v, 0, sizeof(v));
	v.fs = fs;
	new_chunks_from = *new_from;
	sectorsize = fs->sectorsize;
	bgroot = btrfs_fs_compat_ro(fs,
				    BTRFS_FEATURE_COMPAT_RO_BLOCK_GROUP_TREE) ?
		 fs->block_group_root : fs->extent_root;
	ret = for_each_item(fs->chunk_root, chunk_tree_item, &v);
	if (!ret)
		ret = for_each_item(fs->dev_root, dev_tree_item, &v);
	if (!ret)
		ret = for_each_item(bgroot, bg_item, &v);
	if (!ret && v.nr_bgs != v.st.nr_chunks)
		ret = bad("%zu block groups for %zu chunks", v.nr_bgs,
			  v.st.nr_chunks);
	if (!ret && v.bg_used_sum != btrfs_super_bytes_used(&fs->super_copy))
		ret = bad("groups use %llu, superblock bytes_used %llu",
			  (unsigned long long)v.bg_used_sum,
			  (unsigned long long)
			  btrfs_super_bytes_used(&fs->super_copy));
	if (!ret)
		ret = check_dev_extents(&v);
	if (!ret)
		ret = check_sys_array(&v);
	if (!ret && fs->free_space_root) {
		ret = for_each_item(fs->free_space_root, fst_item, &v);
		if (!ret)
			ret = fst_close_group(&v);
	}
	if (!ret && *new_from == ~0ULL) {
		*new_from = 0;
		for (size_t i = 0; i < v.st.nr_chunks; i++)
			*new_from = max_t(u64, *new_from,
					  v.st.chunks[i].start +
					  v.st.chunks[i].length);
	}
	if (nr_chunks)
		*nr_chunks = v.st.nr_chunks;
	if (nr_sys)
		*nr_sys = v.nr_sys;
	for (size_t i = 0; i < v.st.nr_chunks; i++)
		free(v.st.chunks[i].item);
	free(v.st.chunks);
	free(v.st.ext);
	return ret;
}
