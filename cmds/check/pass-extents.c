// SPDX-License-Identifier: GPL-2.0
/*
 * Pass 4: the extent tree against the references found in every tree.
 *
 * Memory is one compact record per extent item (struct ext_rec, sorted by
 * bytenr as the extent tree is), not one per reference.  The backrefs of an
 * extent item and the references found by walking the trees are each folded
 * into a count and an order-independent fingerprint (a sum of a 64-bit hash
 * of every reference, times its count), so two multisets of references
 * compare in O(1) space per extent.
 *
 * Which reference the kernel records for a pointer to a tree block (and
 * for a file extent item in a leaf) depends on the block that holds the
 * pointer: if that parent's extent item has BTRFS_BLOCK_FLAG_FULL_BACKREF
 * (always the case in relocation trees), the reference is a shared one
 * naming the parent's bytenr; otherwise it is keyed by the parent's header
 * owner (a tree block ref of that root, or an extent data ref of that root,
 * the inode and file offset - extent offset).  The root block of a tree is
 * referenced by its root id, except a relocation tree's root block, which
 * the kernel records as a shared ref to itself.  Every block is visited once
 * however many trees share it, and every pointer to it counts once.
 *
 * Log trees are not in the extent tree (the kernel adds their blocks and
 * extents only when it replays the log); their blocks must merely not
 * overlap an allocated extent.
 */
#include <stdlib.h>

#include "common/array.h"
#include "common/csum.h"
#include "cmds/check/check.h"
#include "cmds/check/tree-walk.h"
#include "cmds/check/u64-map.h"
#include "kernel-shared/disk-io.h"
#include "kernel-shared/extent-io.h"

#define ER_TREE		(1U << 0)	/* tree block extent */
#define ER_DATA		(1U << 1)	/* data extent */
#define ER_FULL_BACKREF	(1U << 2)
#define ER_VISITED	(1U << 3)	/* tree block walked */
#define ER_BAD		(1U << 4)	/* malformed: not compared */
#define ER_HAS_LEVEL	(1U << 5)
#define ER_SUM_BAD	(1U << 6)	/* refs != its backrefs, reported */

struct ext_rec {
	u64 start;
	u64 len;
	u64 refs_item;		/* the refs field of the extent item */
	u64 refs_found;		/* references found in the trees */
	u64 fp_item;		/* fingerprint of the backrefs */
	u64 fp_found;		/* fingerprint of the references found */
	u8 flags;		/* ER_* */
	u8 level;		/* tree block level from the extent item */
	u8 type;		/* EXTENT_ITEM or METADATA_ITEM key */
};

struct ext_state {
	struct check_ctx *ctx;
	struct btrfs_fs_info *fs_info;
	struct ext_rec *recs;
	size_t nr, cap;
	bool alloc_failed;
	struct u64_map missing;	/* tree blocks without extent item */
	u64 cur_root;		/* tree being walked */
	bool log_tree;
	u64 backref_sum;	/* of the extent item being loaded */
	u64 unreadable;
	/*
	 * Second round, only for the extents whose references do not
	 * match: every reference and backref of those is recorded so that
	 * each difference can be named.
	 */
	bool collect;
	struct ext_rec scratch;	/* the extent item being re-read */
	bool scratch_valid;
	u64 *bad;		/* sorted bytenrs */
	size_t nr_bad;
	struct xref *xrefs;
	size_t nr_xrefs, xrefs_cap;
};

/* One reference (found in a tree) or backref (in the extent tree). */
struct xref {
	u64 bytenr;
	u64 a, b, c;
	u64 count;
	u8 kind;		/* enum ref_kind */
	u8 backref;		/* 1: from the extent tree */
};

#define MAX_DETAILED 10000	/* extents whose references are listed */

enum ref_kind {
	REF_TREE = 1,
	REF_SHARED_BLOCK,
	REF_DATA,
	REF_SHARED_DATA,
};

static u64 ref_fp(enum ref_kind kind, u64 a, u64 b, u64 c)
{
	return cw_mix(cw_mix(cw_mix(cw_mix(0x5bd1e995ULL, kind), a), b), c);
}

static bool is_bad(struct ext_state *st, u64 bytenr)
{
	size_t lo = 0, hi = st->nr_bad;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (st->bad[mid] == bytenr)
			return true;
		if (st->bad[mid] < bytenr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

static void add_xref(struct ext_state *st, u64 bytenr, enum ref_kind kind,
		     u64 a, u64 b, u64 c, u64 count, bool backref)
{
	struct xref *x;

	if (!is_bad(st, bytenr))
		return;
	if (array_reserve(st->xrefs, st->xrefs_cap, st->nr_xrefs + 1, 256)) {
		st->alloc_failed = true;
		return;
	}
	x = &st->xrefs[st->nr_xrefs++];
	x->bytenr = bytenr;
	x->kind = (u8)kind;
	x->a = a;
	x->b = b;
	x->c = c;
	x->count = count;
	x->backref = backref;
}

/* Add @v to @s: false when it was there already (or without memory). */
static bool set_add(struct u64_map *s, u64 v)
{
	bool added;

	return u64_map_get(s, v, &added) && added;
}

/* The record with the highest start <= @bytenr, or NULL. */
static struct ext_rec *find_rec(struct ext_state *st, u64 bytenr)
{
	size_t lo = 0, hi = st->nr;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (st->recs[mid].start <= bytenr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo ? &st->recs[lo - 1] : NULL;
}

static struct ext_rec *find_exact(struct ext_state *st, u64 bytenr)
{
	struct ext_rec *r = find_rec(st, bytenr);

	return r && r->start == bytenr ? r : NULL;
}

/* The record whose range holds @bytenr, or NULL. */
static struct ext_rec *find_holding(struct ext_state *st, u64 bytenr)
{
	struct ext_rec *r = find_rec(st, bytenr);

	return r && bytenr - r->start < r->len ? r : NULL;
}

static void report_item(struct ext_state *st, const struct btrfs_key *key,
			const char *what)
{
	struct check_finding f = {
		.code = CHECK_EXTENT_ITEM,
		.root = BTRFS_EXTENT_TREE_OBJECTID,
		.bytenr = key->objectid,
		.key = *key,
	};

	if (st->collect)
		return;		/* reported in the first round */
	check_report(st->ctx, &f, "extent item: %s", what);
}

/* ------------------------------------------------------------------ */
/* Loading the extent tree. */

static struct ext_rec *last_rec(struct ext_state *st)
{
	if (st->collect)
		return st->scratch_valid ? &st->scratch : NULL;
	return st->nr ? &st->recs[st->nr - 1] : NULL;
}

/* The extent item before the next one is complete: refs vs backrefs. */
static void finish_item(struct ext_state *st)
{
	struct ext_rec *r = last_rec(st);
	struct btrfs_key key;

	if (!r || (r->flags & ER_BAD) || st->collect)
		return;
	if (r->refs_item != st->backref_sum) {
		struct check_finding f = {
			.code = CHECK_EXTENT_REFS,
			.root = BTRFS_EXTENT_TREE_OBJECTID,
			.bytenr = r->start,
			.has_values = true,
			.expected = st->backref_sum,
			.found = r->refs_item,
		};

		key.objectid = r->start;
		key.type = r->type;
		key.offset = r->type == BTRFS_METADATA_ITEM_KEY ? r->level :
								 r->len;
		f.key = key;
		check_report(st->ctx, &f,
			     "extent item refs %llu but its backrefs count %llu",
			     (unsigned long long)r->refs_item,
			     (unsigned long long)st->backref_sum);
		r->flags |= ER_SUM_BAD;
	}
}

static struct ext_rec *new_rec(struct ext_state *st,
			       const struct btrfs_key *key, u64 len)
{
	struct ext_rec *prev = last_rec(st);
	struct ext_rec *r;

	if (st->collect) {
		r = &st->scratch;
		memset(r, 0, sizeof(*r));
		r->start = key->objectid;
		r->len = len;
		r->type = key->type;
		st->scratch_valid = true;
		return r;
	}
	if (prev && prev->start + prev->len > key->objectid) {
		struct check_finding f = {
			.code = CHECK_EXTENT_OVERLAP,
			.root = BTRFS_EXTENT_TREE_OBJECTID,
			.bytenr = key->objectid,
			.key = *key,
		};

		check_report(st->ctx, &f,
			     "extent [%llu, %llu) overlaps extent [%llu, %llu)",
			     (unsigned long long)key->objectid,
			     (unsigned long long)(key->objectid + len),
			     (unsigned long long)prev->start,
			     (unsigned long long)(prev->start + prev->len));
		if (prev->start == key->objectid)
			return NULL;	/* keep the first for lookups */
	}
	if (array_reserve(st->recs, st->cap, st->nr + 1, 1024)) {
		st->alloc_failed = true;
		return NULL;
	}
	r = &st->recs[st->nr++];
	memset(r, 0, sizeof(*r));
	r->start = key->objectid;
	r->len = len;
	r->type = key->type;
	st->backref_sum = 0;
	return r;
}

/* Add one backref (inline or keyed) to @r. */
static bool add_backref(struct ext_state *st, struct ext_rec *r,
			enum ref_kind kind, u64 a, u64 b, u64 c, u64 count)
{
	bool tree = kind == REF_TREE || kind == REF_SHARED_BLOCK;

	if (tree != !!(r->flags & ER_TREE))
		return false;
	if (count == 0)
		return false;
	if (st->collect) {
		add_xref(st, r->start, kind, a, b, c, count, true);
		return true;
	}
	r->fp_item += ref_fp(kind, a, b, c) * count;
	st->backref_sum += count;
	return true;
}

static void load_extent_item(struct ext_state *st, struct extent_buffer *eb,
			     int slot, const struct btrfs_key *key)
{
	u32 size = btrfs_item_size(eb, slot);
	u8 *ptr = btrfs_item_ptr(eb, slot, u8);
	u8 *end = ptr + size;
	struct btrfs_extent_item *ei = (struct btrfs_extent_item *)ptr;
	u64 flags, len, gen;
	struct ext_rec *r;

	finish_item(st);
	if (key->type == BTRFS_METADATA_ITEM_KEY)
		len = st->fs_info->nodesize;
	else
		len = key->offset;
	if (len == 0 || len > (1ULL << 40)) {
		report_item(st, key, "bad length");
		return;
	}
	r = new_rec(st, key, len);
	if (!r)
		return;
	if (size < sizeof(*ei)) {
		report_item(st, key,
			    size == sizeof(struct btrfs_extent_item_v0) ?
			    "old (v0) format is not supported" :
			    "item too small");
		r->flags |= ER_BAD | ER_TREE | ER_DATA;
		return;
	}
	flags = btrfs_extent_flags(eb, ei);
	r->refs_item = btrfs_extent_refs(eb, ei);
	gen = btrfs_extent_generation(eb, ei);
	if (gen > st->fs_info->generation + 1)
		report_item(st, key, "generation newer than the filesystem");
	if (!!(flags & BTRFS_EXTENT_FLAG_DATA) ==
	    !!(flags & BTRFS_EXTENT_FLAG_TREE_BLOCK)) {
		report_item(st, key, "flags are neither data nor tree block");
		r->flags |= ER_BAD | ER_TREE | ER_DATA;
		return;
	}
	if (flags & BTRFS_EXTENT_FLAG_DATA) {
		r->flags |= ER_DATA;
		if (key->type == BTRFS_METADATA_ITEM_KEY ||
		    (flags & BTRFS_BLOCK_FLAG_FULL_BACKREF)) {
			report_item(st, key,
				    "data extent with tree block flags");
			r->flags |= ER_BAD;
			return;
		}
		if (!IS_ALIGNED(key->objectid, st->fs_info->sectorsize) ||
		    !IS_ALIGNED(len, st->fs_info->sectorsize))
			report_item(st, key, "data extent not sector aligned");
	} else {
		r->flags |= ER_TREE;
		if (flags & BTRFS_BLOCK_FLAG_FULL_BACKREF)
			r->flags |= ER_FULL_BACKREF;
		if (len != st->fs_info->nodesize)
			report_item(st, key,
				    "tree block length is not the node size");
		if (key->type == BTRFS_METADATA_ITEM_KEY) {
			r->level = (u8)key->offset;
			if (key->offset >= BTRFS_MAX_LEVEL)
				report_item(st, key, "bad tree block level");
		}
	}
	ptr += sizeof(*ei);
	if ((r->flags & ER_TREE) && key->type == BTRFS_EXTENT_ITEM_KEY) {
		struct btrfs_tree_block_info *info = (void *)ptr;

		if (ptr + sizeof(*info) > end) {
			report_item(st, key, "tree block info truncated");
			r->flags |= ER_BAD;
			return;
		}
		r->level = btrfs_tree_block_level(eb, info);
		ptr += sizeof(*info);
	}
	r->flags |= ER_HAS_LEVEL;

	while (ptr < end) {
		struct btrfs_extent_inline_ref *iref = (void *)ptr;
		u8 type;
		u32 isize;
		u64 off;
		bool ok = true;

		if (ptr + 1 > end)
			break;
		type = btrfs_extent_inline_ref_type(eb, iref);
		isize = btrfs_extent_inline_ref_size(type);
		if (!isize || ptr + isize > end) {
			report_item(st, key, "bad inline backref");
			r->flags |= ER_BAD;
			return;
		}
		off = btrfs_extent_inline_ref_offset(eb, iref);
		switch (type) {
		case BTRFS_TREE_BLOCK_REF_KEY:
			ok = add_backref(st, r, REF_TREE, off, 0, 0, 1);
			break;
		case BTRFS_SHARED_BLOCK_REF_KEY:
			ok = add_backref(st, r, REF_SHARED_BLOCK, off, 0, 0, 1);
			break;
		case BTRFS_EXTENT_DATA_REF_KEY: {
			struct btrfs_extent_data_ref *dref =
				(void *)&iref->offset;

			ok = add_backref(st, r, REF_DATA,
					 btrfs_extent_data_ref_root(eb, dref),
					 btrfs_extent_data_ref_objectid(eb,
									dref),
					 btrfs_extent_data_ref_offset(eb, dref),
					 btrfs_extent_data_ref_count(eb, dref));
			break;
		}
		case BTRFS_SHARED_DATA_REF_KEY: {
			struct btrfs_shared_data_ref *sref = (void *)(iref + 1);

			ok = add_backref(st, r, REF_SHARED_DATA, off, 0, 0,
					 btrfs_shared_data_ref_count(eb, sref));
			break;
		}
		case BTRFS_EXTENT_OWNER_REF_KEY:
			/* simple quota owner: not a reference */
			break;
		}
		if (!ok) {
			report_item(st, key,
				    "inline backref of the wrong kind or zero count");
			r->flags |= ER_BAD;
			return;
		}
		ptr += isize;
	}
}

/* The data ref key offset: the kernel's hash of (root, inode, offset). */
static u64 data_ref_hash(u64 root, u64 ino, u64 offset)
{
	u8 buf[8];
	u32 high, low;

	put_unaligned_le64(root, buf);
	high = btrfs_crc32c(~0U, buf, 8);
	put_unaligned_le64(ino, buf);
	low = btrfs_crc32c(~0U, buf, 8);
	put_unaligned_le64(offset, buf);
	low = btrfs_crc32c(low, buf, 8);
	return ((u64)high << 31) ^ (u64)low;
}

static void load_keyed_ref(struct ext_state *st, struct extent_buffer *eb,
			   int slot, const struct btrfs_key *key)
{
	struct ext_rec *r = last_rec(st);
	u32 size = btrfs_item_size(eb, slot);
	bool ok = true;

	if (!r || r->start != key->objectid) {
		struct check_finding f = {
			.code = CHECK_EXTENT_BACKREF_EXTRA,
			.root = BTRFS_EXTENT_TREE_OBJECTID,
			.bytenr = key->objectid,
			.key = *key,
		};

		if (!st->collect)
			check_report(st->ctx, &f,
				     "backref without extent item");
		return;
	}
	if (r->flags & ER_BAD)
		return;
	switch (key->type) {
	case BTRFS_TREE_BLOCK_REF_KEY:
		ok = add_backref(st, r, REF_TREE, key->offset, 0, 0, 1);
		break;
	case BTRFS_SHARED_BLOCK_REF_KEY:
		ok = add_backref(st, r, REF_SHARED_BLOCK, key->offset, 0, 0, 1);
		break;
	case BTRFS_EXTENT_DATA_REF_KEY: {
		struct btrfs_extent_data_ref *dref;
		u64 root, ino, off;

		if (size < sizeof(*dref)) {
			ok = false;
			break;
		}
		dref = btrfs_item_ptr(eb, slot, struct btrfs_extent_data_ref);
		root = btrfs_extent_data_ref_root(eb, dref);
		ino = btrfs_extent_data_ref_objectid(eb, dref);
		off = btrfs_extent_data_ref_offset(eb, dref);
		if (data_ref_hash(root, ino, off) != key->offset) {
			report_item(st, key,
				    "extent data ref key does not match its hash");
		}
		ok = add_backref(st, r, REF_DATA, root, ino, off,
				 btrfs_extent_data_ref_count(eb, dref));
		break;
	}
	case BTRFS_SHARED_DATA_REF_KEY: {
		struct btrfs_shared_data_ref *sref;

		if (size < sizeof(*sref)) {
			ok = false;
			break;
		}
		sref = btrfs_item_ptr(eb, slot, struct btrfs_shared_data_ref);
		ok = add_backref(st, r, REF_SHARED_DATA, key->offset, 0, 0,
				 btrfs_shared_data_ref_count(eb, sref));
		break;
	}
	}
	if (!ok) {
		report_item(st, key,
			    "keyed backref of the wrong kind, size or count");
		r->flags |= ER_BAD;
	}
}

static int load_leaf(struct extent_buffer *eb, void *arg)
{
	struct ext_state *st = arg;
	int nr, slot;

	if (btrfs_header_level(eb) != 0)
		return 0;
	nr = (int)btrfs_header_nritems(eb);
	check_progress_add(st->ctx, (u64)nr);
	for (slot = 0; slot < nr && !st->alloc_failed; slot++) {
		struct btrfs_key key;

		btrfs_item_key_to_cpu(eb, &key, slot);
		switch (key.type) {
		case BTRFS_EXTENT_ITEM_KEY:
		case BTRFS_METADATA_ITEM_KEY:
			load_extent_item(st, eb, slot, &key);
			break;
		case BTRFS_TREE_BLOCK_REF_KEY:
		case BTRFS_SHARED_BLOCK_REF_KEY:
		case BTRFS_EXTENT_DATA_REF_KEY:
		case BTRFS_SHARED_DATA_REF_KEY:
			load_keyed_ref(st, eb, slot, &key);
			break;
		case BTRFS_EXTENT_REF_V0_KEY:
			report_item(st, &key,
				    "old (v0) backref is not supported");
			break;
		}
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Walking the trees. */

static void report_missing(struct ext_state *st, u64 bytenr, u64 root,
			   u64 inode, const struct btrfs_key *key,
			   const char *what)
{
	struct check_finding f = {
		.code = CHECK_EXTENT_MISSING,
		.root = root,
		.bytenr = bytenr,
		.inode = inode,
	};

	if (key)
		f.key = *key;
	check_report(st->ctx, &f, "%s", what);
}

/*
 * A reference to the tree block at @bytenr (from @parent, or the root of
 * the tree being walked when @parent is NULL).  Returns true when the block
 * still has to be walked.
 */
static bool tree_ref(struct ext_state *st, u64 bytenr,
		     struct extent_buffer *parent)
{
	struct ext_rec *r = find_exact(st, bytenr);
	enum ref_kind kind;
	u64 a;

	if (parent) {
		struct ext_rec *p = find_exact(st, parent->start);

		if (p && (p->flags & ER_FULL_BACKREF)) {
			kind = REF_SHARED_BLOCK;
			a = parent->start;
		} else {
			kind = REF_TREE;
			a = btrfs_header_owner(parent);
		}
	} else if (st->cur_root == BTRFS_TREE_RELOC_OBJECTID) {
		kind = REF_SHARED_BLOCK;
		a = bytenr;
	} else {
		kind = REF_TREE;
		a = st->cur_root;
	}
	if (!r || !(r->flags & ER_TREE)) {
		if (!set_add(&st->missing, bytenr))
			return false;
		if (st->collect)
			return true;
		if (r && bytenr - r->start < r->len)
			report_missing(st, bytenr, st->cur_root, 0, NULL,
				       "tree block inside a data extent");
		else
			report_missing(st, bytenr, st->cur_root, 0, NULL,
				       "tree block without extent item");
		return true;
	}
	if (st->collect)
		add_xref(st, bytenr, kind, a, 0, 0, 1, false);
	else {
		r->refs_found++;
		r->fp_found += ref_fp(kind, a, 0, 0);
	}
	return !(r->flags & ER_VISITED);
}

static void data_ref(struct ext_state *st, struct extent_buffer *leaf,
		     int slot, const struct btrfs_key *key)
{
	struct btrfs_file_extent_item *fi;
	struct ext_rec *r, *leaf_rec;
	u64 bytenr, disk_len, off, num, limit;
	u8 type;

	if (btrfs_item_size(leaf, slot) < sizeof(*fi))
		return;		/* inline or malformed: pass 6 */
	fi = btrfs_item_ptr(leaf, slot, struct btrfs_file_extent_item);
	type = btrfs_file_extent_type(leaf, fi);
	if (type != BTRFS_FILE_EXTENT_REG && type != BTRFS_FILE_EXTENT_PREALLOC)
		return;
	bytenr = btrfs_file_extent_disk_bytenr(leaf, fi);
	if (bytenr == 0)
		return;
	disk_len = btrfs_file_extent_disk_num_bytes(leaf, fi);
	off = btrfs_file_extent_offset(leaf, fi);
	num = btrfs_file_extent_num_bytes(leaf, fi);
	r = find_holding(st, bytenr);
	leaf_rec = find_exact(st, leaf->start);
	if (st->collect) {
		if (!r || r->start != bytenr)
			return;
		if (leaf_rec && (leaf_rec->flags & ER_FULL_BACKREF))
			add_xref(st, bytenr, REF_SHARED_DATA, leaf->start, 0,
				 0, 1, false);
		else
			add_xref(st, bytenr, REF_DATA,
				 btrfs_header_owner(leaf), key->objectid,
				 key->offset - off, 1, false);
		return;
	}
	st->ctx->stats.data_bytes_allocated += disk_len;
	st->ctx->stats.data_bytes_referenced += num;

	if (!r || !(r->flags & ER_DATA)) {
		report_missing(st, bytenr, btrfs_header_owner(leaf),
			       key->objectid, key,
			       r ? "file extent points into a tree block" :
				   "file extent without extent item");
		return;
	}
	limit = btrfs_file_extent_compression(leaf, fi) ?
			btrfs_file_extent_ram_bytes(leaf, fi) : disk_len;
	if (r->start != bytenr || r->len != disk_len || off > limit ||
	    num > limit - off) {
		struct check_finding f = {
			.code = CHECK_EXTENT_DATA_RANGE,
			.root = btrfs_header_owner(leaf),
			.inode = key->objectid,
			.key = *key,
			.bytenr = bytenr,
		};

		check_report(st->ctx, &f,
			     "file extent [%llu len %llu offset %llu num %llu] does not fit data extent [%llu len %llu]",
			     (unsigned long long)bytenr,
			     (unsigned long long)disk_len,
			     (unsigned long long)off, (unsigned long long)num,
			     (unsigned long long)r->start,
			     (unsigned long long)r->len);
		if (r->start != bytenr)
			return;
	}
	r->refs_found++;
	if (leaf_rec && (leaf_rec->flags & ER_FULL_BACKREF))
		r->fp_found += ref_fp(REF_SHARED_DATA, leaf->start, 0, 0);
	else
		r->fp_found += ref_fp(REF_DATA, btrfs_header_owner(leaf),
				      key->objectid, key->offset - off);
}

/* Log tree blocks: not in the extent tree, and in no allocated extent. */
static int log_block(struct extent_buffer *eb, void *arg)
{
	struct ext_state *st = arg;
	struct ext_rec *r = find_rec(st, eb->start + eb->len - 1);

	if (r && r->start + r->len > eb->start) {
		struct check_finding f = {
			.code = CHECK_EXTENT_OVERLAP,
			.root = st->cur_root,
			.bytenr = eb->start,
		};

		check_report(st->ctx, &f,
			     "log tree block overlaps allocated extent %llu",
			     (unsigned long long)r->start);
	}
	return 0;
}

static int walk_block(struct extent_buffer *eb, void *arg)
{
	struct ext_state *st = arg;
	struct ext_rec *r = find_exact(st, eb->start);
	int nr, slot;

	check_progress_add(st->ctx, 1);
	if (r && (r->flags & ER_TREE)) {
		if (r->flags & ER_VISITED)
			return 1;
		r->flags |= ER_VISITED;
		if (!st->collect && (r->flags & ER_HAS_LEVEL) &&
		    r->level != btrfs_header_level(eb)) {
			struct check_finding f = {
				.code = CHECK_EXTENT_ITEM,
				.root = btrfs_header_owner(eb),
				.bytenr = eb->start,
				.has_values = true,
				.expected = btrfs_header_level(eb),
				.found = r->level,
			};

			check_report(st->ctx, &f,
				     "extent item level %u differs from the block's level %u",
				     r->level, btrfs_header_level(eb));
		}
	}
	if (btrfs_header_level(eb) != 0)
		return 0;
	nr = (int)btrfs_header_nritems(eb);
	for (slot = 0; slot < nr; slot++) {
		struct btrfs_key key;

		btrfs_item_key_to_cpu(eb, &key, slot);
		if (key.type == BTRFS_EXTENT_DATA_KEY)
			data_ref(st, eb, slot, &key);
	}
	return 0;
}

static int walk_child(struct extent_buffer *parent, int slot, void *arg)
{
	struct ext_state *st = arg;

	return tree_ref(st, btrfs_node_blockptr(parent, slot), parent) ? 0 : 1;
}

static void walk_one(struct ext_state *st, struct extent_buffer *root_eb,
		     u64 root_id, const struct cw_drop *drop)
{
	static const struct cw_ops ops = {
		.block = walk_block,
		.child = walk_child,
	};
	static const struct cw_ops log_ops = {
		.block = log_block,
	};

	st->cur_root = root_id;
	if (st->log_tree) {
		cw_walk(st->fs_info, root_eb, NULL, &log_ops, st,
			&st->unreadable);
		return;
	}
	if (!tree_ref(st, root_eb->start, NULL))
		return;
	cw_walk(st->fs_info, root_eb, drop, &ops, st, &st->unreadable);
}

static int walk_root_item(struct extent_buffer *leaf, int slot,
			  const struct btrfs_key *key, void *arg)
{
	struct ext_state *st = arg;
	struct btrfs_root_item *ri;
	struct extent_buffer *eb;
	struct cw_drop drop;

	ri = btrfs_item_ptr(leaf, slot, struct btrfs_root_item);
	eb = cw_read_root_item(st->fs_info, leaf, ri,
			       btrfs_item_size(leaf, slot), &drop);
	if (IS_ERR(eb)) {
		st->unreadable++;
		return 0;
	}
	walk_one(st, eb, key->objectid, &drop);
	free_extent_buffer(eb);
	return 0;
}

static void walk_log_tree(struct extent_buffer *eb, u64 objectid, void *arg)
{
	walk_one(arg, eb, objectid, NULL);
}

/* The log root tree and the log trees its root items point to. */
static void walk_logs(struct ext_state *st)
{
	struct btrfs_root *log = st->fs_info->log_root_tree;

	if (!log || !log->node)
		return;
	st->log_tree = true;
	walk_one(st, log->node, BTRFS_TREE_LOG_OBJECTID, NULL);
	cw_for_each_log_tree(st->fs_info, walk_log_tree, st);
	st->log_tree = false;
}

/* ------------------------------------------------------------------ */

static void mark_bad(struct ext_state *st, struct ext_rec *r)
{
	if (st->nr_bad < MAX_DETAILED)
		st->bad[st->nr_bad++] = r->start;
}

static void compare(struct ext_state *st)
{
	size_t i;

	st->bad = malloc(MAX_DETAILED * sizeof(*st->bad));
	for (i = 0; i < st->nr; i++) {
		struct ext_rec *r = &st->recs[i];
		struct check_finding f = {
			.root = BTRFS_EXTENT_TREE_OBJECTID,
			.bytenr = r->start,
			.has_values = true,
		};
		const char *kind = (r->flags & ER_TREE) ? "tree block" :
							  "data extent";

		if (r->flags & (ER_BAD | ER_SUM_BAD))
			continue;	/* already reported */
		f.key.objectid = r->start;
		f.key.type = r->type;
		f.key.offset = r->type == BTRFS_METADATA_ITEM_KEY ? r->level :
								   r->len;
		if (r->refs_found == 0) {
			f.code = CHECK_EXTENT_UNREFERENCED;
			f.expected = 0;
			f.found = r->refs_item;
			check_report(st->ctx, &f,
				     "%s extent item without references", kind);
		} else if (r->refs_found != r->refs_item) {
			f.code = CHECK_EXTENT_REFS;
			f.expected = r->refs_found;
			f.found = r->refs_item;
			check_report(st->ctx, &f,
				     "%s extent refs %llu, references found %llu",
				     kind, (unsigned long long)r->refs_item,
				     (unsigned long long)r->refs_found);
		} else if (r->fp_found != r->fp_item) {
			f.code = CHECK_EXTENT_BACKREF_MISSING;
			f.has_values = false;
			check_report(st->ctx, &f,
				     "%s backrefs differ from the references found (same count %llu)",
				     kind, (unsigned long long)r->refs_item);
		} else {
			continue;
		}
		if (st->bad)
			mark_bad(st, r);
	}
}

static int xref_cmp(const void *pa, const void *pb)
{
	const struct xref *x = pa, *y = pb;

	if (x->bytenr != y->bytenr)
		return x->bytenr < y->bytenr ? -1 : 1;
	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	if (x->a != y->a)
		return x->a < y->a ? -1 : 1;
	if (x->b != y->b)
		return x->b < y->b ? -1 : 1;
	if (x->c != y->c)
		return x->c < y->c ? -1 : 1;
	return 0;
}

/* "data ref root 5 inode 257 offset 0" style, and the finding's root. */
static void describe(const struct xref *x, char *buf, size_t len, u64 *root,
		     u64 *inode)
{
	*inode = 0;
	switch (x->kind) {
	case REF_TREE:
		snprintf(buf, len, "tree block ref root %llu",
			 (unsigned long long)x->a);
		*root = x->a;
		break;
	case REF_SHARED_BLOCK:
		snprintf(buf, len, "shared block ref parent %llu",
			 (unsigned long long)x->a);
		*root = 0;
		break;
	case REF_DATA:
		snprintf(buf, len, "data ref root %llu inode %llu offset %llu",
			 (unsigned long long)x->a, (unsigned long long)x->b,
			 (unsigned long long)x->c);
		*root = x->a;
		*inode = x->b;
		break;
	default:
		snprintf(buf, len, "shared data ref parent %llu",
			 (unsigned long long)x->a);
		*root = 0;
		break;
	}
}

/* Name every reference that has no backref and every backref without one. */
static void report_details(struct ext_state *st)
{
	size_t i, j;

	if (st->nr_xrefs > 1)
		qsort(st->xrefs, st->nr_xrefs, sizeof(*st->xrefs), xref_cmp);
	for (i = 0; i < st->nr_xrefs; i = j) {
		const struct xref *x = &st->xrefs[i];
		u64 found = 0, recorded = 0, root, inode;
		struct check_finding f = {
			.bytenr = x->bytenr,
			.has_values = true,
		};
		char what[128];

		for (j = i; j < st->nr_xrefs && !xref_cmp(x, &st->xrefs[j]);
		     j++) {
			if (st->xrefs[j].backref)
				recorded += st->xrefs[j].count;
			else
				found += st->xrefs[j].count;
		}
		if (found == recorded)
			continue;
		describe(x, what, sizeof(what), &root, &inode);
		f.root = root;
		f.inode = inode;
		f.expected = found;
		f.found = recorded;
		if (!recorded) {
			f.code = CHECK_EXTENT_BACKREF_MISSING;
			check_report(st->ctx, &f,
				     "extent %llu: no backref for %s",
				     (unsigned long long)x->bytenr, what);
		} else if (!found) {
			f.code = CHECK_EXTENT_BACKREF_EXTRA;
			check_report(st->ctx, &f,
				     "extent %llu: backref without reference: %s",
				     (unsigned long long)x->bytenr, what);
		} else {
			f.code = CHECK_EXTENT_REFS;
			check_report(st->ctx, &f,
				     "extent %llu: %s count %llu, references found %llu",
				     (unsigned long long)x->bytenr, what,
				     (unsigned long long)recorded,
				     (unsigned long long)found);
		}
	}
}

static void walk_all(struct ext_state *st)
{
	struct btrfs_fs_info *fs_info = st->fs_info;

	if (fs_info->tree_root && fs_info->tree_root->node)
		walk_one(st, fs_info->tree_root->node,
			 BTRFS_ROOT_TREE_OBJECTID, NULL);
	if (fs_info->chunk_root && fs_info->chunk_root->node)
		walk_one(st, fs_info->chunk_root->node,
			 BTRFS_CHUNK_TREE_OBJECTID, NULL);
	cw_for_each_root_item(fs_info, walk_root_item, st);
}

/* The second round over the extents whose references did not match. */
static void detail(struct ext_state *st, const struct cw_ops *load_ops)
{
	size_t i;

	if (!st->nr_bad)
		return;
	for (i = 0; i < st->nr; i++)
		st->recs[i].flags &= (u8)~ER_VISITED;
	u64_map_free(&st->missing);
	st->collect = true;
	walk_all(st);
	cw_walk(st->fs_info, st->fs_info->extent_root->node, NULL, load_ops,
		st, NULL);
	if (st->alloc_failed) {
		check_fatal(st->ctx,
			    "out of memory listing the references of %zu extents",
			    st->nr_bad);
		return;
	}
	report_details(st);
}

int check_pass_extents(struct check_ctx *ctx)
{
	struct btrfs_fs_info *fs_info = ctx->fs_info;
	struct ext_state st = {
		.ctx = ctx,
		.fs_info = fs_info,
	};
	static const struct cw_ops load_ops = {
		.block = load_leaf,
	};
	int ret = 0;

	u64_map_init(&st.missing, sizeof(u64));
	if (!fs_info->extent_root || !fs_info->extent_root->node) {
		check_fatal(ctx,
			    "extent tree unreadable, cannot check extents");
		return -EIO;
	}
	cw_walk(fs_info, fs_info->extent_root->node, NULL, &load_ops, &st,
		&st.unreadable);
	finish_item(&st);
	if (st.alloc_failed) {
		check_fatal(ctx, "out of memory loading %zu extent items",
			    st.nr);
		ret = -ENOMEM;
		goto out;
	}

	walk_all(&st);
	walk_logs(&st);
	compare(&st);
	detail(&st, &load_ops);
out:
	free(st.recs);
	u64_map_free(&st.missing);
	free(st.bad);
	free(st.xrefs);
	return ret;
}
