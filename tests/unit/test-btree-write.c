// SPDX-License-Identifier: GPL-2.0
/*
 * The write path against a model, printed as TAP.
 *
 * For node sizes 4K, 16K and 64K: an image made by the reference
 * mkfs.btrfs is opened for writing and gets thousands of random inserts,
 * deletes, extends and truncates of extended attributes of the top
 * directory (inode 256 of the FS tree) over many transactions, against an
 * in-memory model (sorted keys and payloads).  Extended attributes are
 * used because they are real items with free-form sizes (name and value)
 * that the kernel and the reference checker validate (name hash in the
 * key, dir_item layout, sizes) and that the kernel shows with listxattr.
 *
 * After every commit the image is opened again read-only and checked:
 * every xattr equals the model; every tree keeps its invariants (keys
 * sorted within and across blocks, parent keys equal to child first keys,
 * levels, item and pointer limits, generations, owners); the extent tree
 * holds exactly one extent item per live tree block with the right level,
 * one inline TREE_BLOCK_REF to the owner and refs 1; block group used and
 * super bytes_used equal the extents; the free-space tree (extents or
 * bitmaps) equals the writer's in-memory free space plus the superblock
 * copies, which equals length - used with nothing reserved or pinned.  An
 * aborted transaction must leave the image as it was.  The reference
 * btrfs check runs on the biggest tree and at the end; as root, the kernel
 * mounts the image, reads every xattr of the model and writes a file; the
 * check passes again, and a second round of our writes on the
 * kernel-written image passes everything again.
 *
 * Also: references added to an existing block's extent item (inline in
 * the kernel's order, which the kernel's tree checker verifies at mount,
 * then keyed), and dropped again; and the kernel-made images of
 * tests/helpers/make-images.sh (snapshots, data, every checksum, RAID1 on
 * two devices, mixed groups with a bitmap free-space tree, v1 cache),
 * each written, verified and judged by the reference check and the kernel;
 * the log-tree image must be refused.
 *
 * Seeds are fixed (printed with every failure); BTREE_WRITE_SCALE=N
 * multiplies the number of transactions.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "common/csum.h"
#include "kernel-shared/ctree.h"
#include "kernel-shared/disk-io.h"
#include "kernel-shared/extent-tree.h"
#include "kernel-shared/transaction.h"
#include "tests/unit/unit-util.h"

#define XATTR_INO 256ULL
#define OPS_PER_TRANS 500
#define TRANS_PER_ROUND 40

/* ------------------------------------------------------------------ */
/* The model. */

struct xattr {
	u64 hash;
	char name[64];
	u16 name_len;
	u8 *val;
	u32 val_len;
};

struct model {
	struct xattr *v;	/* sorted by hash, hashes unique */
	size_t nr;
	size_t cap;
};

static size_t model_find(const struct model *m, u64 hash, bool *found)
{
	size_t lo = 0, hi = m->nr;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (m->v[mid].hash < hash)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = lo < m->nr && m->v[lo].hash == hash;
	return lo;
}

static void model_insert(struct model *m, size_t idx, const struct xattr *x)
{
	if (m->nr == m->cap) {
		m->cap = m->cap ? m->cap * 2 : 256;
		m->v = realloc(m->v, m->cap * sizeof(*m->v));
		if (!m->v)
			abort();
	}
	memmove(&m->v[idx + 1], &m->v[idx], (m->nr - idx) * sizeof(*m->v));
	m->v[idx] = *x;
	m->nr++;
}

static void model_delete(struct model *m, size_t idx)
{
	free(m->v[idx].val);
	memmove(&m->v[idx], &m->v[idx + 1], (m->nr - idx - 1) * sizeof(*m->v));
	m->nr--;
}

static void model_free(struct model *m)
{
	for (size_t i = 0; i < m->nr; i++)
		free(m->v[i].val);
	free(m->v);
	memset(m, 0, sizeof(*m));
}

static struct model model_copy(const struct model *m)
{
	struct model c = { 0 };

	c.cap = c.nr = m->nr;
	c.v = calloc(c.cap ? c.cap : 1, sizeof(*c.v));
	if (!c.v)
		abort();
	for (size_t i = 0; i < m->nr; i++) {
		c.v[i] = m->v[i];
		c.v[i].val = malloc(m->v[i].val_len + 1);
		if (!c.v[i].val)
			abort();
		memcpy(c.v[i].val, m->v[i].val, m->v[i].val_len);
	}
	return c;
}

/* ------------------------------------------------------------------ */
/* Operations on the filesystem through the engine. */

static struct btrfs_key xattr_key(u64 hash)
{
	struct btrfs_key key = { XATTR_INO, BTRFS_XATTR_ITEM_KEY, hash };

	return key;
}

static u32 item_size_of(const struct xattr *x)
{
	return (u32)sizeof(struct btrfs_dir_item) + x->name_len + x->val_len;
}

static void fill_random(u8 *buf, u32 len)
{
	for (u32 i = 0; i < len; i++)
		buf[i] = (u8)rnd();
}

/* A value length: mostly small, some medium, a few near the maximum. */
static u32 pick_val_len(u32 max, u32 nodesize)
{
	u32 r = rnd_below(100);

	if (r < 70)
		return min_t(u32, max, rnd_below(200));
	if (r < 97)
		return min_t(u32, max, 200 + rnd_below(nodesize / 4));
	return max - rnd_below(min_t(u32, max, 64) + 1);
}

static int op_insert(struct btrfs_trans_handle *trans, struct btrfs_root *root,
		     struct model *m)
{
	u32 max_item = btrfs_max_item_size(root->fs_info->nodesize);
	struct btrfs_dir_item *di;
	struct xattr x = { 0 };
	struct btrfs_key key;
	bool found;
	size_t idx;
	u8 *buf;
	u32 size, nlen;
	int ret;

	nlen = 1 + rnd_below(40);
	memcpy(x.name, "user.w", 6);
	for (u32 i = 0; i < nlen; i++)
		x.name[6 + i] = "abcdefghijklmnopqrstuvwxyz0123456789"[rnd_below(36)];
	x.name_len = (u16)(6 + nlen);
	x.hash = btrfs_name_hash(x.name, x.name_len);
	idx = model_find(m, x.hash, &found);
	if (found)
		return 0;
	x.val_len = pick_val_len(max_item - (u32)sizeof(*di) - x.name_len,
				 root->fs_info->nodesize);
	x.val = malloc(x.val_len + 1);
	size = item_size_of(&x);
	buf = calloc(1, size);
	if (!x.val || !buf)
		abort();
	fill_random(x.val, x.val_len);
	di = (struct btrfs_dir_item *)buf;
	btrfs_set_stack_dir_transid(di, trans->transid);
	btrfs_set_stack_dir_data_len(di, (u16)x.val_len);
	btrfs_set_stack_dir_name_len(di, x.name_len);
	btrfs_set_stack_dir_flags(di, BTRFS_FT_XATTR);
	memcpy(buf + sizeof(*di), x.name, x.name_len);
	memcpy(buf + sizeof(*di) + x.name_len, x.val, x.val_len);
	key = xattr_key(x.hash);
	ret = btrfs_insert_item(trans, root, &key, buf, size);
	free(buf);
	if (ret) {
		free(x.val);
		return bad("insert of %u bytes at hash %llu: %d", size,
			   (unsigned long long)x.hash, ret);
	}
	model_insert(m, idx, &x);
	return 0;
}

/* COW-search the xattr at @idx: path at the item (0) or <0. */
static int find_item(struct btrfs_trans_handle *trans, struct btrfs_root *root,
		     const struct xattr *x, struct btrfs_path *path,
		     int ins_len)
{
	struct btrfs_key key = xattr_key(x->hash);
	int ret = btrfs_search_slot(trans, root, &key, path, ins_len, 1);

	if (ret > 0)
		return bad("xattr hash %llu not found", (unsigned long long)x->hash);
	if (ret < 0)
		return bad("search for hash %llu: %d", (unsigned long long)x->hash,
			   ret);
	return 0;
}

static int op_delete(struct btrfs_trans_handle *trans, struct btrfs_root *root,
		     struct model *m)
{
	size_t idx = rnd_below((u32)m->nr);
	struct btrfs_path *path = btrfs_alloc_path();
	int ret = find_item(trans, root, &m->v[idx], path, -1);

	if (!ret) {
		ret = btrfs_del_item(trans, root, path);
		if (ret)
			bad("delete of hash %llu: %d",
			    (unsigned long long)m->v[idx].hash, ret);
	}
	btrfs_free_path(path);
	if (!ret)
		model_delete(m, idx);
	return ret;
}

static struct btrfs_dir_item *item_dir(struct btrfs_path *path)
{
	return btrfs_item_ptr(path->nodes[0], path->slots[0],
			      struct btrfs_dir_item);
}

static int op_extend(struct btrfs_trans_handle *trans, struct btrfs_root *root,
		     struct model *m)
{
	u32 max_item = btrfs_max_item_size(root->fs_info->nodesize);
	size_t idx = rnd_below((u32)m->nr);
	struct xattr *x = &m->v[idx];
	struct btrfs_path *path;
	u32 room = max_item - item_size_of(x);
	u32 grow = 1 + rnd_below(min_t(u32, room, 300));
	u8 *p;
	int ret;

	if (room == 0)
		return 0;
	path = btrfs_alloc_path();
	ret = find_item(trans, root, x, path, (int)grow);
	if (!ret)
		ret = btrfs_extend_item(trans, path, grow);
	if (ret) {
		btrfs_free_path(path);
		return bad("extend of hash %llu by %u: %d",
			   (unsigned long long)x->hash, grow, ret);
	}
	x->val = realloc(x->val, x->val_len + grow + 1);
	if (!x->val)
		abort();
	fill_random(x->val + x->val_len, grow);
	btrfs_set_dir_data_len(path->nodes[0], item_dir(path),
			       (u16)(x->val_len + grow));
	p = (u8 *)item_dir(path) + sizeof(struct btrfs_dir_item) + x->name_len;
	memcpy(p + x->val_len, x->val + x->val_len, grow);
	x->val_len += grow;
	btrfs_free_path(path);
	return 0;
}

static int op_truncate(struct btrfs_trans_handle *trans, struct btrfs_root *root,
		       struct model *m)
{
	size_t idx = rnd_below((u32)m->nr);
	struct xattr *x = &m->v[idx];
	struct btrfs_path *path;
	u32 cut;
	int ret;

	if (x->val_len == 0)
		return 0;
	cut = 1 + rnd_below(x->val_len);
	path = btrfs_alloc_path();
	ret = find_item(trans, root, x, path, 0);
	if (!ret)
		ret = btrfs_truncate_item(trans, path, item_size_of(x) - cut,
					  true);
	if (!ret) {
		x->val_len -= cut;
		btrfs_set_dir_data_len(path->nodes[0], item_dir(path),
				       (u16)x->val_len);
	} else {
		bad("truncate of hash %llu by %u: %d",
		    (unsigned long long)x->hash, cut, ret);
	}
	btrfs_free_path(path);
	return ret;
}

/*
 * With BTREE_WRITE_PARANOID set: after every operation, every key of the
 * model must be found by a read-only search of the uncommitted tree.
 */
static int paranoid_check(struct btrfs_root *root, const struct model *m)
{
	static int enabled = -1;
	struct btrfs_path *path;
	int ret = 0;

	if (enabled < 0)
		enabled = getenv("BTREE_WRITE_PARANOID") != NULL;
	if (!enabled)
		return 0;
	path = btrfs_alloc_path();
	for (size_t i = 0; i < m->nr && !ret; i++) {
		struct btrfs_key key = xattr_key(m->v[i].hash);

		ret = btrfs_search_slot(NULL, root, &key, path, 0, 0);
		if (ret)
			ret = bad("paranoid: hash %llu (%zu of %zu) lost: %d",
				  (unsigned long long)m->v[i].hash, i, m->nr, ret);
		btrfs_release_path(path);
	}
	btrfs_free_path(path);
	return ret;
}

/* How a transaction mixes operations (percent inserts). */
enum phase { PHASE_GROW = 75, PHASE_SHRINK = 15 };

/* One random operation; @phase says how often it is an insert. */
static int random_op(struct btrfs_trans_handle *trans, struct btrfs_root *root,
		     struct model *m, enum phase phase)
{
	u32 r = rnd_below(100);
	u32 p_insert = (u32)phase;
	u32 rest = (100 - p_insert) / 5;
	int ret;

	if (m->nr == 0 || r < p_insert)
		ret = op_insert(trans, root, m);
	else if (r < 100 - 2 * rest)
		ret = op_delete(trans, root, m);
	else if (r < 100 - rest)
		ret = op_extend(trans, root, m);
	else
		ret = op_truncate(trans, root, m);
	return ret ? ret : paranoid_check(root, m);
}

/* ------------------------------------------------------------------ */
/* Verification of an image opened read-only. */

/*
 * Kernel-made images have snapshots: blocks shared by several trees, owned
 * by another tree, with several or shared refs.  For them the verifier
 * only asks for an extent item of the right level per block (refs are the
 * reference checker's to judge).
 */
static bool shared_trees;

/* Block groups whose free-space tree items were bitmaps (max seen). */
static size_t bitmap_groups_seen;

struct block_rec {
	u64 bytenr;
	u64 owner;
	int level;
	bool seen_in_extent_tree;
};

struct verify {
	struct btrfs_fs_info *fs;
	struct btrfs_fs_info *wfs;	/* the writer, for its free space */
	struct block_rec *blocks;
	size_t nr_blocks;
	size_t cap_blocks;
	bool have_last;
	struct btrfs_key last;		/* previous key of the tree walked */
	u64 tree_id;
};

static int add_block(struct verify *v, const struct extent_buffer *eb)
{
	if (v->nr_blocks == v->cap_blocks) {
		v->cap_blocks = v->cap_blocks ? v->cap_blocks * 2 : 1024;
		v->blocks = realloc(v->blocks,
				    v->cap_blocks * sizeof(*v->blocks));
		if (!v->blocks)
			abort();
	}
	v->blocks[v->nr_blocks++] = (struct block_rec){
		eb->start, btrfs_header_owner(eb), btrfs_header_level(eb), false
	};
	return 0;
}

static int check_key_order(struct verify *v, const struct btrfs_key *key,
			   u64 bytenr)
{
	if (v->have_last && btrfs_comp_cpu_keys(&v->last, key) >= 0)
		return bad("tree %llu: key (%llu %u %llu) in block %llu not after "
			   "(%llu %u %llu)", (unsigned long long)v->tree_id,
			   (unsigned long long)key->objectid, key->type,
			   (unsigned long long)key->offset,
			   (unsigned long long)bytenr,
			   (unsigned long long)v->last.objectid, v->last.type,
			   (unsigned long long)v->last.offset);
	v->last = *key;
	v->have_last = true;
	return 0;
}

static int check_header(struct verify *v, const struct extent_buffer *eb,
			int level, bool is_root)
{
	u32 nr = btrfs_header_nritems(eb);
	u64 gen = btrfs_super_generation(&v->fs->super_copy);

	if (btrfs_header_bytenr(eb) != eb->start)
		return bad("block %llu: header bytenr", (unsigned long long)eb->start);
	if (btrfs_header_level(eb) != level)
		return bad("block %llu: level %u, expected %d",
			   (unsigned long long)eb->start, btrfs_header_level(eb),
			   level);
	if (!shared_trees && btrfs_header_owner(eb) != v->tree_id)
		return bad("block %llu: owner %llu in tree %llu",
			   (unsigned long long)eb->start,
			   (unsigned long long)btrfs_header_owner(eb),
			   (unsigned long long)v->tree_id);
	if (btrfs_header_generation(eb) > gen)
		return bad("block %llu: generation from the future",
			   (unsigned long long)eb->start);
	if (!is_root && nr == 0)
		return bad("block %llu: empty non-root block",
			   (unsigned long long)eb->start);
	if (level > 0 && (nr == 0 || nr > btrfs_max_node_ptrs(eb->len)))
		return bad("node %llu: %u pointers", (unsigned long long)eb->start,
			   nr);
	if (level == 0 && btrfs_leaf_free_space(eb) > btrfs_leaf_data_size(eb->len))
		return bad("leaf %llu: bad free space", (unsigned long long)eb->start);
	return 0;
}

static int walk_block(struct verify *v, struct extent_buffer *eb, int level,
		      bool is_root)
{
	u32 nr = btrfs_header_nritems(eb);
	struct btrfs_key key;

	if (check_header(v, eb, level, is_root) || add_block(v, eb))
		return -1;
	if (level == 0) {
		for (u32 i = 0; i < nr; i++) {
			btrfs_item_key_to_cpu(eb, &key, (int)i);
			if (check_key_order(v, &key, eb->start))
				return -1;
		}
		return 0;
	}
	for (u32 i = 0; i < nr; i++) {
		struct extent_buffer *child;
		struct btrfs_key first;
		int ret;

		child = btrfs_read_node_slot(v->fs, eb, (int)i);
		if (IS_ERR(child))
			return bad("node %llu slot %u: read error %ld",
				   (unsigned long long)eb->start, i,
				   PTR_ERR(child));
		btrfs_node_key_to_cpu(eb, &key, (int)i);
		if (btrfs_header_nritems(child) == 0) {
			free_extent_buffer(child);
			return bad("node %llu slot %u: empty child",
				   (unsigned long long)eb->start, i);
		}
		btrfs_first_key_to_cpu(child, &first);
		if (btrfs_comp_cpu_keys(&first, &key) ||
		    btrfs_node_ptr_generation(eb, (int)i) !=
			    btrfs_header_generation(child) ||
		    btrfs_header_generation(child) > btrfs_header_generation(eb)) {
			free_extent_buffer(child);
			return bad("node %llu slot %u: key or generation differs "
				   "from the child", (unsigned long long)eb->start,
				   i);
		}
		ret = walk_block(v, child, level - 1, false);
		free_extent_buffer(child);
		if (ret)
			return ret;
	}
	return 0;
}

static int walk_tree(struct verify *v, struct extent_buffer *root_eb, u64 id)
{
	v->tree_id = id;
	v->have_last = false;
	return walk_block(v, root_eb, btrfs_header_level(root_eb), true);
}

/* Every tree: the root and chunk trees, then each ROOT_ITEM's tree. */
static int walk_all_trees(struct verify *v)
{
	struct btrfs_fs_info *fs = v->fs;
	struct btrfs_key key = { 0, BTRFS_ROOT_ITEM_KEY, 0 };
	struct btrfs_path *path = btrfs_alloc_path();
	int ret;

	if (walk_tree(v, fs->tree_root->node, BTRFS_ROOT_TREE_OBJECTID) ||
	    walk_tree(v, fs->chunk_root->node, BTRFS_CHUNK_TREE_OBJECTID)) {
		btrfs_free_path(path);
		return -1;
	}
	ret = btrfs_search_slot_for_read(fs->tree_root, &key, path);
	while (ret == 0) {
		struct btrfs_root *root;

		btrfs_item_key_to_cpu(path->nodes[0], &key, path->slots[0]);
		if (key.type == BTRFS_ROOT_ITEM_KEY) {
			root = btrfs_read_tree_root(fs, &key);
			if (IS_ERR(root)) {
				btrfs_free_path(path);
				return bad("tree %llu: %ld",
					   (unsigned long long)key.objectid,
					   PTR_ERR(root));
			}
			ret = walk_tree(v, root->node, key.objectid);
			btrfs_free_root(root);
			if (ret)
				break;
		}
		ret = btrfs_next_item(fs->tree_root, path);
	}
	btrfs_free_path(path);
	return ret < 0 ? -1 : 0;
}

static int cmp_block(const void *a, const void *b)
{
	const struct block_rec *x = a, *y = b;

	return x->bytenr < y->bytenr ? -1 : x->bytenr > y->bytenr;
}

static struct block_rec *find_block(struct verify *v, u64 bytenr)
{
	struct block_rec key = { .bytenr = bytenr };

	return bsearch(&key, v->blocks, v->nr_blocks, sizeof(key), cmp_block);
}

/* A tree block's extent item: level, refs 1, one inline ref to the owner. */
static int check_tree_extent(struct verify *v, const struct extent_buffer *leaf,
			     int slot, const struct btrfs_key *key)
{
	bool skinny_item = key->type == BTRFS_METADATA_ITEM_KEY;
	u32 hdr = sizeof(struct btrfs_extent_item) +
		  (skinny_item ? 0 : sizeof(struct btrfs_tree_block_info));
	u32 size = btrfs_item_size(leaf, slot);
	struct btrfs_extent_item *ei;
	struct btrfs_extent_inline_ref *ref;
	struct block_rec *b = find_block(v, key->objectid);
	int level;

	if (!b)
		return bad("extent item for %llu, which no tree uses",
			   (unsigned long long)key->objectid);
	if (b->seen_in_extent_tree)
		return bad("two extent items for %llu",
			   (unsigned long long)key->objectid);
	b->seen_in_extent_tree = true;
	ei = btrfs_item_ptr(leaf, slot, struct btrfs_extent_item);
	if (skinny_item) {
		level = (int)key->offset;
	} else {
		struct btrfs_tree_block_info *info = (void *)(ei + 1);

		level = btrfs_tree_block_level(leaf, info);
	}
	if (level != b->level)
		return bad("extent item for %llu: level %d, block level %d",
			   (unsigned long long)key->objectid, level, b->level);
	if (shared_trees)
		return btrfs_extent_refs(leaf, ei) ? 0 :
		       bad("extent item for %llu: no refs",
			   (unsigned long long)key->objectid);
	if (size != hdr + sizeof(*ref) || btrfs_extent_refs(leaf, ei) != 1)
		return bad("extent item for %llu: size %u refs %llu",
			   (unsigned long long)key->objectid, size,
			   (unsigned long long)btrfs_extent_refs(leaf, ei));
	ref = (struct btrfs_extent_inline_ref *)((u8 *)ei + hdr);
	if (btrfs_extent_inline_ref_type(leaf, ref) != BTRFS_TREE_BLOCK_REF_KEY ||
	    btrfs_extent_inline_ref_offset(leaf, ref) != b->owner)
		return bad("extent item for %llu: ref does not name owner %llu",
			   (unsigned long long)key->objectid,
			   (unsigned long long)b->owner);
	return 0;
}

struct bg_sum {
	u64 start, length, used_item, sum;
};

static int add_to_bg(struct bg_sum *bgs, size_t nr, u64 start, u64 len)
{
	for (size_t i = 0; i < nr; i++) {
		if (start >= bgs[i].start && start < bgs[i].start + bgs[i].length) {
			if (start + len > bgs[i].start + bgs[i].length)
				return bad("extent %llu crosses its block group",
					   (unsigned long long)start);
			bgs[i].sum += len;
			return 0;
		}
	}
	return bad("extent %llu outside every block group",
		   (unsigned long long)start);
}

/* Extent tree against the blocks found; block group and super sums. */
static int check_extents(struct verify *v)
{
	struct btrfs_fs_info *fs = v->fs;
	struct btrfs_root *bgroot = fs->block_group_root ? fs->block_group_root :
							   fs->extent_root;
	struct btrfs_key key = { 0, 0, 0 };
	struct btrfs_path *path = btrfs_alloc_path();
	struct bg_sum bgs[64];
	size_t nbg = 0;
	u64 total = 0;
	int ret;

	ret = btrfs_search_slot_for_read(bgroot, &key, path);
	while (ret == 0 && nbg < ARRAY_SIZE(bgs)) {
		btrfs_item_key_to_cpu(path->nodes[0], &key, path->slots[0]);
		if (key.type == BTRFS_BLOCK_GROUP_ITEM_KEY) {
			struct btrfs_block_group_item *bi =
				btrfs_item_ptr(path->nodes[0], path->slots[0],
					       struct btrfs_block_group_item);

			bgs[nbg++] = (struct bg_sum){
				key.objectid, key.offset,
				btrfs_block_group_used(path->nodes[0], bi), 0 };
		}
		ret = btrfs_next_item(bgroot, path);
	}
	qsort(v->blocks, v->nr_blocks, sizeof(*v->blocks), cmp_block);
	for (size_t i = 1, j = 1; i <= v->nr_blocks; i++) {
		if (i == v->nr_blocks) {
			v->nr_blocks = j;
			break;
		}
		if (v->blocks[i].bytenr != v->blocks[j - 1].bytenr) {
			v->blocks[j++] = v->blocks[i];
			continue;
		}
		if (!shared_trees)
			return bad("block %llu used twice",
				   (unsigned long long)v->blocks[i].bytenr);
	}
	memset(&key, 0, sizeof(key));
	ret = btrfs_search_slot_for_read(fs->extent_root, &key, path);
	while (ret == 0) {
		struct extent_buffer *leaf = path->nodes[0];
		int slot = path->slots[0];
		u64 len = 0;

		btrfs_item_key_to_cpu(leaf, &key, slot);
		if (key.type == BTRFS_METADATA_ITEM_KEY) {
			len = fs->nodesize;
			if (check_tree_extent(v, leaf, slot, &key))
				goto fail;
		} else if (key.type == BTRFS_EXTENT_ITEM_KEY) {
			struct btrfs_extent_item *ei = btrfs_item_ptr(leaf, slot,
					struct btrfs_extent_item);

			len = key.offset;
			if ((btrfs_extent_flags(leaf, ei) &
			     BTRFS_EXTENT_FLAG_TREE_BLOCK) &&
			    check_tree_extent(v, leaf, slot, &key))
				goto fail;
		} else if (!shared_trees &&
			   (key.type == BTRFS_TREE_BLOCK_REF_KEY ||
			    key.type == BTRFS_SHARED_BLOCK_REF_KEY)) {
			bad("unexpected keyed tree block ref for %llu",
			    (unsigned long long)key.objectid);
			goto fail;
		}
		if (len) {
			if (add_to_bg(bgs, nbg, key.objectid, len))
				goto fail;
			total += len;
		}
		ret = btrfs_next_item(fs->extent_root, path);
	}
	btrfs_free_path(path);
	if (ret < 0)
		return bad("extent tree walk: %d", ret);
	for (size_t i = 0; i < v->nr_blocks; i++)
		if (!v->blocks[i].seen_in_extent_tree)
			return bad("tree block %llu has no extent item",
				   (unsigned long long)v->blocks[i].bytenr);
	for (size_t i = 0; i < nbg; i++)
		if (bgs[i].sum != bgs[i].used_item)
			return bad("block group %llu: used %llu, extents %llu",
				   (unsigned long long)bgs[i].start,
				   (unsigned long long)bgs[i].used_item,
				   (unsigned long long)bgs[i].sum);
	if (total != btrfs_super_bytes_used(&fs->super_copy))
		return bad("super bytes_used %llu, extents %llu",
			   (unsigned long long)btrfs_super_bytes_used(&fs->super_copy),
			   (unsigned long long)total);
	/* The writer's block groups agree and hold nothing back. */
	for (size_t i = 0; v->wfs && i < nbg; i++) {
		struct btrfs_block_group *bg =
			btrfs_lookup_block_group(v->wfs, bgs[i].start);

		if (!bg || bg->used != bgs[i].used_item || bg->reserved ||
		    bg->pinned ||
		    bg->free_space.free_bytes + bg->used + bg->excluded !=
			    bg->length)
			return bad("writer's block group %llu: used %llu "
				   "reserved %llu pinned %llu free %llu",
				   (unsigned long long)bgs[i].start,
				   bg ? (unsigned long long)bg->used : 0ULL,
				   bg ? (unsigned long long)bg->reserved : 0ULL,
				   bg ? (unsigned long long)bg->pinned : 0ULL,
				   bg ? (unsigned long long)bg->free_space.free_bytes :
					0ULL);
	}
	return 0;
fail:
	btrfs_free_path(path);
	return -1;
}

/*
 * The free-space tree records as free everything no extent covers,
 * superblock copies included (the kernel and we exclude those when loading
 * free space).  So for each block group, its FREE_SPACE_EXTENTs must cover
 * each free extent of the writer, and add up to the writer's free bytes plus
 * the excluded bytes; their number must equal the info's extent count.
 */
struct fst_group {
	const struct btrfs_block_group *bg;
	struct btrfs_free_extent *ents;
	size_t nr, cap;
	u32 want;
};

static int close_fst_group(struct fst_group *g)
{
	const struct btrfs_block_group *bg = g->bg;
	u64 sum = 0;
	size_t j = 0;

	if (!bg)
		return 0;
	for (size_t i = 0; i < g->nr; i++)
		sum += g->ents[i].len;
	if (g->nr != g->want || sum != bg->free_space.free_bytes + bg->excluded)
		return bad("free space tree, group %llu: %zu extents (count %u), "
			   "%llu bytes; writer %llu free + %llu excluded",
			   (unsigned long long)bg->start, g->nr, g->want,
			   (unsigned long long)sum,
			   (unsigned long long)bg->free_space.free_bytes,
			   (unsigned long long)bg->excluded);
	for (size_t i = 0; i < bg->free_space.nr; i++) {
		const struct btrfs_free_extent *e = &bg->free_space.ents[i];

		while (j < g->nr && g->ents[j].start + g->ents[j].len <= e->start)
			j++;
		if (j == g->nr || g->ents[j].start > e->start ||
		    g->ents[j].start + g->ents[j].len < e->start + e->len)
			return bad("writer's free extent (%llu %llu) is not free "
				   "in the free space tree",
				   (unsigned long long)e->start,
				   (unsigned long long)e->len);
	}
	return 0;
}

static void fst_add(struct fst_group *g, u64 start, u64 len)
{
	if (g->nr == g->cap) {
		g->cap = g->cap ? g->cap * 2 : 64;
		g->ents = realloc(g->ents, g->cap * sizeof(*g->ents));
		if (!g->ents)
			abort();
	}
	g->ents[g->nr++] = (struct btrfs_free_extent){ start, len };
}

/* The free runs of a bitmap item, merged with the run before. */
static void fst_add_bitmap(struct fst_group *g, const struct extent_buffer *leaf,
			   int slot, const struct btrfs_key *key, u32 sectorsize)
{
	const u8 *map = btrfs_item_ptr(leaf, slot, u8);
	u64 bits = min_t(u64, key->offset / sectorsize,
			 btrfs_item_size(leaf, slot) * 8ULL);

	for (u64 i = 0; i < bits; i++) {
		u64 addr = key->objectid + i * sectorsize;
		struct btrfs_free_extent *last = g->nr ? &g->ents[g->nr - 1] : NULL;

		if (!(map[i / 8] & (1U << (i % 8))))
			continue;
		if (last && last->start + last->len == addr)
			last->len += sectorsize;
		else
			fst_add(g, addr, sectorsize);
	}
}

static int check_free_space_tree(struct verify *v)
{
	struct btrfs_fs_info *fs = v->fs;
	struct btrfs_key key = { 0, 0, 0 };
	struct fst_group g = { 0 };
	struct btrfs_path *path;
	size_t nbitmap_groups = 0;
	int ret, err = 0;

	if (!fs->free_space_root || !v->wfs)
		return 0;
	path = btrfs_alloc_path();
	ret = btrfs_search_slot_for_read(fs->free_space_root, &key, path);
	while (ret == 0 && !err) {
		struct extent_buffer *leaf = path->nodes[0];
		int slot = path->slots[0];

		btrfs_item_key_to_cpu(leaf, &key, slot);
		if (key.type == BTRFS_FREE_SPACE_INFO_KEY) {
			err = close_fst_group(&g);
			/* mkfs leaves entries of its temporary chunks: skip */
			g.bg = btrfs_lookup_block_group(v->wfs, key.objectid);
			g.want = btrfs_free_space_extent_count(leaf,
				btrfs_item_ptr(leaf, slot,
					       struct btrfs_free_space_info));
			g.nr = 0;
		} else if (key.type == BTRFS_FREE_SPACE_EXTENT_KEY) {
			fst_add(&g, key.objectid, key.offset);
		} else if (key.type == BTRFS_FREE_SPACE_BITMAP_KEY) {
			if (g.bg && g.nr == 0 && g.bg->start == key.objectid)
				nbitmap_groups++;
			if (g.bg && !g.bg->fst_bitmaps)
				err = bad("bitmap item in extent group %llu",
					  (unsigned long long)g.bg->start);
			else
				fst_add_bitmap(&g, leaf, slot, &key,
					       fs->sectorsize);
		} else {
			err = bad("unexpected free space tree item type %u",
				  key.type);
		}
		if (!err)
			ret = btrfs_next_item(fs->free_space_root, path);
	}
	btrfs_free_path(path);
	if (!err && ret < 0)
		err = bad("free space tree walk: %d", ret);
	if (!err)
		err = close_fst_group(&g);
	free(g.ents);
	bitmap_groups_seen = max_t(size_t, bitmap_groups_seen, nbitmap_groups);
	return err;
}

/* The xattrs of inode 256 equal the model. */
static int check_xattrs(struct verify *v, const struct model *m)
{
	struct btrfs_key key = xattr_key(0);
	struct btrfs_path *path = btrfs_alloc_path();
	size_t i = 0;
	int ret;

	ret = btrfs_search_slot_for_read(v->fs->fs_root, &key, path);
	while (ret == 0) {
		struct extent_buffer *leaf = path->nodes[0];
		struct btrfs_dir_item *di;
		const u8 *p;

		btrfs_item_key_to_cpu(leaf, &key, path->slots[0]);
		if (key.objectid != XATTR_INO || key.type != BTRFS_XATTR_ITEM_KEY)
			break;
		if (i >= m->nr || m->v[i].hash != key.offset) {
			btrfs_free_path(path);
			return bad("xattr hash %llu not in the model (model has %zu)",
				   (unsigned long long)key.offset, m->nr);
		}
		di = btrfs_item_ptr(leaf, path->slots[0], struct btrfs_dir_item);
		p = (const u8 *)(di + 1);
		if (btrfs_item_size(leaf, path->slots[0]) != item_size_of(&m->v[i]) ||
		    btrfs_dir_name_len(leaf, di) != m->v[i].name_len ||
		    btrfs_dir_data_len(leaf, di) != m->v[i].val_len ||
		    memcmp(p, m->v[i].name, m->v[i].name_len) ||
		    memcmp(p + m->v[i].name_len, m->v[i].val, m->v[i].val_len)) {
			btrfs_free_path(path);
			return bad("xattr %.*s differs from the model",
				   m->v[i].name_len, m->v[i].name);
		}
		i++;
		ret = btrfs_next_item(v->fs->fs_root, path);
	}
	btrfs_free_path(path);
	if (ret < 0)
		return bad("fs tree walk: %d", ret);
	if (i != m->nr)
		return bad("%zu xattrs on disk, %zu in the model", i, m->nr);
	return 0;
}

/*
 * Open @img, a path or several ':'-separated paths (the devices of one
 * filesystem), with @flags.
 */
static int open_fs(const char *img, unsigned int flags,
		   struct btrfs_fs_info **fs)
{
	char buf[1024];
	const char *devs[8];
	struct open_ctree_args args = {
		.devices = devs, .super_mirror = 0,
		.flags = flags | OPEN_CTREE_NO_SCAN,
	};
	struct open_ctree_error why;
	char *save = NULL;
	int ret;

	snprintf(buf, sizeof(buf), "%s", img);
	for (char *p = strtok_r(buf, ":", &save); p && args.nr_devices < 8;
	     p = strtok_r(NULL, ":", &save))
		devs[args.nr_devices++] = p;
	ret = open_ctree(&args, fs, &why);
	if (ret)
		bad("open_ctree(%s, flags %#x): %d at %s %llu", img, flags, ret,
		    why.what ? why.what : "?", (unsigned long long)why.bytenr);
	return ret;
}

/* Open @img read-only and check everything; 0 or -1 (first_err set). */
static int verify_image(const char *img, struct btrfs_fs_info *wfs,
			const struct model *m, u64 want_gen)
{
	struct verify v = { .wfs = wfs };
	int ret;

	if (open_fs(img, 0, &v.fs))
		return -1;
	ret = 0;
	if (btrfs_super_generation(&v.fs->super_copy) != want_gen)
		ret = bad("generation %llu, expected %llu",
			  (unsigned long long)btrfs_super_generation(&v.fs->super_copy),
			  (unsigned long long)want_gen);
	if (!ret)
		ret = walk_all_trees(&v);
	if (!ret)
		ret = check_extents(&v);
	if (!ret)
		ret = check_free_space_tree(&v);
	if (!ret)
		ret = check_xattrs(&v, m);
	free(v.blocks);
	close_ctree(v.fs);
	return ret;
}

/* ------------------------------------------------------------------ */
/* Rounds. */

struct round_stats {
	unsigned long ops;
	unsigned long commits;
	int max_level;
	size_t max_items;
};

/* Delete @n random xattrs (all when @n >= m->nr). */
static int delete_many(struct btrfs_trans_handle *trans, struct btrfs_root *root,
		       struct model *m, size_t n, struct round_stats *st)
{
	int ret = 0;

	for (size_t i = 0; i < n && m->nr && !ret; i++, st->ops++)
		ret = op_delete(trans, root, m);
	return ret;
}

/*
 * Transaction @t of a round: mostly growing, some shrinking, every 16th
 * deletes half of the items; with @empty everything goes.
 */
static int one_transaction(struct btrfs_trans_handle *trans,
			   struct btrfs_root *root, struct model *m, int t,
			   bool empty, struct round_stats *st)
{
	int ret = 0;

	if (empty)
		return delete_many(trans, root, m, m->nr, st);
	if (t % 16 == 15)
		return delete_many(trans, root, m, m->nr / 2, st);
	for (int i = 0; i < OPS_PER_TRANS && !ret; i++, st->ops++)
		ret = random_op(trans, root, m,
				t % 8 == 6 ? PHASE_SHRINK : PHASE_GROW);
	return ret;
}

/*
 * Transactions of random operations, each committed and verified; with
 * @empty_at >= 0, transaction @empty_at deletes every item.
 */
static void ref_check(const char *img, const char *dir, const char *what);

static int run_round(const char *img, struct model *m, int nr_trans,
		     int empty_at, u64 seed, struct round_stats *st)
{
	struct btrfs_fs_info *fs;
	int ret = 0;

	if (open_fs(img, OPEN_CTREE_WRITES, &fs))
		return -1;
	for (int t = 0; t < nr_trans && !ret; t++) {
		struct btrfs_trans_handle *trans;

		snprintf(fail_ctx, sizeof(fail_ctx),
			 "seed %llu transaction %d generation %llu",
			 (unsigned long long)seed, t,
			 (unsigned long long)fs->generation + 1);
		trans = btrfs_start_transaction(fs);
		if (IS_ERR(trans)) {
			ret = bad("start transaction: %ld", PTR_ERR(trans));
			break;
		}
		ret = one_transaction(trans, fs->fs_root, m, t, t == empty_at,
				      st);
		if (ret) {
			btrfs_abort_transaction(trans);
			break;
		}
		ret = btrfs_commit_transaction(trans);
		if (ret) {
			bad("commit: %d", ret);
			break;
		}
		st->commits++;
		st->max_level = max_t(int, st->max_level,
				      btrfs_header_level(fs->fs_root->node));
		st->max_items = max_t(size_t, st->max_items, m->nr);
		if (t == empty_at && (btrfs_header_level(fs->fs_root->node) ||
				      btrfs_header_nritems(fs->fs_root->node) != 2))
			ret = bad("emptied fs tree: level %u with %u items",
				  btrfs_header_level(fs->fs_root->node),
				  btrfs_header_nritems(fs->fs_root->node));
		if (!ret && btrfs_total_reserved(fs))
			ret = bad("%llu bytes still reserved after commit",
				  (unsigned long long)btrfs_total_reserved(fs));
		if (!ret)
			ret = verify_image(img, fs, m, fs->generation);
		/* The reference checker sees the tree at its biggest. */
		if (!ret && t == empty_at - 1) {
			char dir[512], *slash;

			snprintf(dir, sizeof(dir), "%s", img);
			slash = strrchr(dir, '/');
			if (slash)
				*slash = '\0';
			ref_check(img, dir, "before emptying the tree");
		}
		/* Now and then start over from the disk (reloads free space). */
		if (!ret && t % 7 == 6) {
			close_ctree(fs);
			if (open_fs(img, OPEN_CTREE_WRITES, &fs))
				return -1;
		}
	}
	close_ctree(fs);
	return ret;
}

/* An aborted transaction leaves the image as it was. */
static int abort_leaves_image(const char *img, struct model *m)
{
	struct btrfs_fs_info *fs;
	struct btrfs_trans_handle *trans;
	struct model scratch = model_copy(m);
	u64 gen;
	int ret = 0;

	if (open_fs(img, OPEN_CTREE_WRITES, &fs)) {
		model_free(&scratch);
		return -1;
	}
	gen = fs->generation;
	trans = btrfs_start_transaction(fs);
	for (int i = 0; i < 300 && !ret && !IS_ERR(trans); i++)
		ret = random_op(trans, fs->fs_root, &scratch,
				i % 2 ? PHASE_GROW : PHASE_SHRINK);
	if (IS_ERR(trans))
		ret = bad("start transaction: %ld", PTR_ERR(trans));
	else
		btrfs_abort_transaction(trans);
	if (!ret && !IS_ERR(btrfs_start_transaction(fs)))
		ret = bad("a transaction started after an abort");
	close_ctree(fs);
	model_free(&scratch);
	return ret ? ret : verify_image(img, NULL, m, gen);
}

/* ------------------------------------------------------------------ */
/* Oracles: the reference checker and the kernel. */

/* @img: one image file, or several separated by ':'. */
static void ref_check(const char *img, const char *dir, const char *what)
{
	char files[1024];

	snprintf(files, sizeof(files), "%s", img);
	for (char *p = files; (p = strchr(p, ':')); )
		*p = ' ';
	ref_check_files(dir, files, "%s: reference btrfs check passes", what);
}

/* The kernel reads every xattr of the model with its value. */
static int kernel_values_match(const char *mnt, const struct model *m)
{
	int ret = 0;

	for (size_t i = 0; i < m->nr && !ret; i++) {
		char name[80];
		u8 *val = malloc(m->v[i].val_len + 1);
		ssize_t vl;

		snprintf(name, sizeof(name), "%.*s", m->v[i].name_len,
			 m->v[i].name);
		vl = getxattr(mnt, name, val, m->v[i].val_len + 1);
		if (vl != (ssize_t)m->v[i].val_len ||
		    memcmp(val, m->v[i].val, m->v[i].val_len))
			ret = bad("kernel value of %s differs (%zd bytes, model "
				  "%u)", name, vl, m->v[i].val_len);
		free(val);
	}
	return ret;
}

/*
 * The kernel lists exactly the model's names (when the list fits the
 * kernel's 64KiB listxattr limit) and reads every value.
 */
static int kernel_xattrs_match(const char *mnt, const struct model *m,
			       bool *listed)
{
	ssize_t len = listxattr(mnt, NULL, 0);
	size_t count = 0;
	char *names, *p;

	*listed = false;
	if (len < 0 && errno != E2BIG)
		return bad("listxattr: %s", strerror(errno));
	if (len < 0 || len >= 65536)
		return kernel_values_match(mnt, m);
	names = malloc((size_t)len + 1);
	len = listxattr(mnt, names, (size_t)len);
	for (p = names; len > 0 && p < names + len; p += strlen(p) + 1) {
		bool found;
		size_t i = model_find(m, btrfs_name_hash(p, strlen(p)), &found);

		count++;
		if (!found || strlen(p) != m->v[i].name_len ||
		    memcmp(p, m->v[i].name, m->v[i].name_len)) {
			free(names);
			return bad("kernel lists xattr %s, not in the model", p);
		}
	}
	free(names);
	if (len < 0 || count != m->nr)
		return bad("kernel lists %zu xattrs, model has %zu", count, m->nr);
	*listed = true;
	return kernel_values_match(mnt, m);
}

/*
 * Mount @img (':'-separated files: through loop devices) on @mnt; the
 * loop devices are listed in @dir/loops for umount_img.
 */
static int mount_img(const char *img, const char *dir, const char *mnt)
{
	char files[1024];

	snprintf(files, sizeof(files), "%s", img);
	for (char *p = files; (p = strchr(p, ':')); )
		*p = ' ';
	if (loop_attach(dir, files))
		return 1;
	return loop_mount(dir, mnt);
}

static int umount_img(const char *dir, const char *mnt)
{
	int rc = unmount(mnt);

	loop_detach(dir);
	return rc;
}

#define RESULTS_KERNEL 4

static void kernel_round_trip(const char *img, const char *dir,
			      const struct model *m, const char *what)
{
	const char *why_not = kernel_unavailable(0);
	char mnt[512];
	bool listed;
	int rc;

	if (why_not) {
		for (int i = 0; i < RESULTS_KERNEL; i++)
			skip("%s: %s", what, why_not);
		return;
	}
	snprintf(mnt, sizeof(mnt), "%s/mnt", dir);
	rc = mount_img(img, dir, mnt);
	if (rc != 0) {
		ok(0, "%s: the kernel mounts the image (exit %d)", what, rc);
		loop_detach(dir);
		for (int i = 1; i < RESULTS_KERNEL; i++)
			ok(0, "%s: not reached, the mount failed", what);
		return;
	}
	first_err[0] = '\0';
	rc = kernel_xattrs_match(mnt, m, &listed);
	ok(rc == 0, "%s: the kernel mounts and reads the model's %zu xattrs "
	   "(%s) %s", what, m->nr,
	   listed ? "names listed too" : "too many names to list", first_err);
	rc = run_cmd("dd if=/dev/urandom of='%s/file-%d' bs=64k count=16 "
		     "status=none && sync", mnt, tap_count);
	ok(rc == 0, "%s: the kernel writes a file", what);
	rc = umount_img(dir, mnt);
	ok(rc == 0, "%s: unmount", what);
	ref_check(img, dir, what);
}

/* ------------------------------------------------------------------ */

static int scale(void)
{
	const char *s = getenv("BTREE_WRITE_SCALE");
	int n = s ? atoi(s) : 1;

	return n > 0 ? n : 1;
}

/* Results each configuration prints. */
#define RESULTS_PER_CONFIG 14

struct config {
	u32 nodesize;
	const char *size;
	const char *mkfs_opts;
	bool expect_bitmaps;	/* the metadata group must turn to bitmaps */
};

static void test_config(const struct config *c, u64 seed, const char *dir)
{
	u32 nodesize = c->nodesize;
	char img[512];
	struct model m = { 0 };
	struct round_stats st = { 0 };
	int nr_trans = TRANS_PER_ROUND * scale();
	int rc;

	snprintf(img, sizeof(img), "%s/n%u.img", dir, nodesize);
	rc = run_cmd("rm -f '%s' && truncate -s %s '%s' && " REF_MKFS
		     " -q -f -n %u %s '%s' >/dev/null 2>&1", img, c->size, img,
		     nodesize, c->mkfs_opts, img);
	ok(rc == 0, "nodesize %u, %s%s%s: reference mkfs.btrfs made the image",
	   nodesize, c->size, *c->mkfs_opts ? " " : "", c->mkfs_opts);
	if (rc)
		return;
	rng_state = seed;
	first_err[0] = '\0';
	bitmap_groups_seen = 0;
	rc = run_round(img, &m, nr_trans, nr_trans - 4, seed, &st);
	if (!rc && c->expect_bitmaps && !bitmap_groups_seen)
		rc = bad("no block group turned to bitmaps");
	ok(rc == 0, "nodesize %u, %s%s%s: %lu random operations in %lu commits, "
	   "each verified (up to %zu xattrs, fs tree level %d, emptied once, "
	   "%zu free-space groups in bitmaps) %s", nodesize, c->size,
	   *c->mkfs_opts ? " " : "", c->mkfs_opts, st.ops, st.commits,
	   st.max_items, st.max_level, bitmap_groups_seen, first_err);
	if (rc) {
		model_free(&m);
		return;
	}
	first_err[0] = '\0';
	rc = abort_leaves_image(img, &m);
	ok(rc == 0, "nodesize %u: an aborted transaction leaves the image as "
	   "it was %s", nodesize, first_err);
	ref_check(img, dir, "after our writes");
	kernel_round_trip(img, dir, &m, "after our writes");
	first_err[0] = '\0';
	memset(&st, 0, sizeof(st));
	rc = run_round(img, &m, 10, -1, seed, &st);
	ok(rc == 0, "nodesize %u: %lu more operations on the kernel-written "
	   "image, verified %s", nodesize, st.ops, first_err);
	if (rc == 0)
		kernel_round_trip(img, dir, &m, "after the second round");
	run_cmd("rm -f '%s'", img);
	model_free(&m);
}

/* ------------------------------------------------------------------ */
/*
 * References added to and dropped from an existing tree block's extent
 * item: inline while they fit (in the kernel's order, which the kernel's
 * tree checker verifies when it mounts), keyed beyond; all gone again the
 * image is exactly consistent.
 */
#define REFS_ADDED 40
#define REFS_ROOT0 1000ULL
#define RESULTS_REFS 5

struct ref_scan {
	u64 refs;
	u64 inline_roots[REFS_ADDED + 1];
	int nr_inline;
	int nr_keyed;
	bool keyed_seen[REFS_ADDED];
	bool order_ok;
};

/* Read the extent item of @bytenr and its keyed refs from @img. */
static int scan_refs(const char *img, u64 bytenr, struct ref_scan *r)
{
	struct btrfs_fs_info *fs;
	struct btrfs_key key = { bytenr, 0, 0 };
	struct btrfs_path *path;
	int ret;

	memset(r, 0, sizeof(*r));
	r->order_ok = true;
	if (open_fs(img, 0, &fs))
		return -1;
	path = btrfs_alloc_path();
	ret = btrfs_search_slot_for_read(fs->extent_root, &key, path);
	while (ret == 0) {
		struct extent_buffer *leaf = path->nodes[0];
		int slot = path->slots[0];

		btrfs_item_key_to_cpu(leaf, &key, slot);
		if (key.objectid != bytenr)
			break;
		if (key.type == BTRFS_METADATA_ITEM_KEY) {
			struct btrfs_extent_item *ei = btrfs_item_ptr(leaf, slot,
					struct btrfs_extent_item);
			u32 size = btrfs_item_size(leaf, slot);
			u8 *p = (u8 *)(ei + 1);
			u64 prev = (u64)-1;

			r->refs = btrfs_extent_refs(leaf, ei);
			while (p + sizeof(struct btrfs_extent_inline_ref) <=
			       (u8 *)ei + size && r->nr_inline <= REFS_ADDED) {
				struct btrfs_extent_inline_ref *ir = (void *)p;
				u64 off = btrfs_extent_inline_ref_offset(leaf, ir);

				if (btrfs_extent_inline_ref_type(leaf, ir) !=
				    BTRFS_TREE_BLOCK_REF_KEY || off > prev)
					r->order_ok = false;
				prev = off;
				r->inline_roots[r->nr_inline++] = off;
				p += sizeof(*ir);
			}
		} else if (key.type == BTRFS_TREE_BLOCK_REF_KEY &&
			   key.offset >= REFS_ROOT0 &&
			   key.offset < REFS_ROOT0 + REFS_ADDED) {
			r->keyed_seen[key.offset - REFS_ROOT0] = true;
			r->nr_keyed++;
		}
		ret = btrfs_next_item(fs->extent_root, path);
	}
	btrfs_free_path(path);
	close_ctree(fs);
	return ret < 0 ? bad("extent tree walk: %d", ret) : 0;
}

/* Queue +1 or -1 refs from roots REFS_ROOT0.. in a shuffled order. */
static int change_refs(const char *img, int action, u64 *bytenr, int *level,
		       u64 *owner)
{
	struct btrfs_fs_info *fs;
	struct btrfs_trans_handle *trans;
	int order[REFS_ADDED];
	int ret = 0;

	if (open_fs(img, OPEN_CTREE_WRITES, &fs))
		return -1;
	*bytenr = fs->csum_root->node->start;
	*level = btrfs_header_level(fs->csum_root->node);
	*owner = btrfs_header_owner(fs->csum_root->node);
	for (int i = 0; i < REFS_ADDED; i++)
		order[i] = i;
	for (int i = REFS_ADDED - 1; i > 0; i--) {
		int j = (int)rnd_below((u32)i + 1), t = order[i];

		order[i] = order[j];
		order[j] = t;
	}
	trans = btrfs_start_transaction(fs);
	for (int i = 0; i < REFS_ADDED && !ret; i++)
		ret = btrfs_add_delayed_tree_ref(trans, *bytenr, fs->nodesize,
						 REFS_ROOT0 + (u64)order[i], 0,
						 *level, NULL, action, false);
	if (ret) {
		btrfs_abort_transaction(trans);
		bad("queueing refs: %d", ret);
	} else if ((ret = btrfs_commit_transaction(trans))) {
		bad("commit: %d", ret);
	}
	close_ctree(fs);
	return ret;
}

static void test_refs(const char *dir)
{
	char img[512];
	struct ref_scan r = { 0 };
	struct model empty = { 0 };
	u64 bytenr, owner;
	int level, rc, spill;
	bool roots_ok = true;

	snprintf(img, sizeof(img), "%s/refs.img", dir);
	rc = run_cmd("truncate -s 1G '%s' && " REF_MKFS " -q -f -n 4096 '%s' "
		     ">/dev/null 2>&1", img, img);
	rng_state = 0x5eedbeefULL;
	first_err[0] = '\0';
	snprintf(fail_ctx, sizeof(fail_ctx), "refs test, seed 0x5eedbeef");
	if (!rc)
		rc = change_refs(img, 1, &bytenr, &level, &owner);
	if (!rc)
		rc = scan_refs(img, bytenr, &r);
	/* The inline limit of a 4K leaf: (leaf data / 16 - item) bytes. */
	spill = REFS_ADDED + 1 -
		(int)(((btrfs_leaf_data_size(4096) >> 4) -
		       sizeof(struct btrfs_item) - sizeof(struct btrfs_extent_item)) /
		      sizeof(struct btrfs_extent_inline_ref));
	for (int i = 0; !rc && i < r.nr_inline; i++)
		if (r.inline_roots[i] != owner &&
		    (r.inline_roots[i] < REFS_ROOT0 ||
		     r.inline_roots[i] >= REFS_ROOT0 + REFS_ADDED ||
		     r.keyed_seen[r.inline_roots[i] - REFS_ROOT0]))
			roots_ok = false;
	ok(rc == 0 && r.refs == REFS_ADDED + 1 &&
	   r.nr_inline + r.nr_keyed == REFS_ADDED + 1 && r.nr_keyed == spill &&
	   roots_ok, "refs: %d refs added to block %llu: refs %llu, %d inline, "
	   "%d keyed (expected %d) %s", REFS_ADDED,
	   rc ? 0ULL : (unsigned long long)bytenr, (unsigned long long)r.refs,
	   r.nr_inline, r.nr_keyed, spill, first_err);
	ok(rc == 0 && r.order_ok, "refs: inline refs in the kernel's order "
	   "(by type, then decreasing offset)");
	if (rc == 0 && geteuid() == 0 &&
	    run_cmd("mkdir -p '%s/mnt'", dir) == 0) {
		rc = run_cmd("mount -o loop,ro '%s' '%s/mnt' 2>/dev/null", img,
			     dir);
		ok(rc == 0, "refs: the kernel mounts the image (its tree checker "
		   "reads the extent item)");
		if (rc == 0)
			run_cmd("umount '%s/mnt'", dir);
		rc = 0;
	} else {
		skip("refs: kernel mount needs root");
	}
	first_err[0] = '\0';
	if (!rc)
		rc = change_refs(img, -1, &bytenr, &level, &owner);
	if (!rc)
		rc = verify_image(img, NULL, &empty, 8);
	ok(rc == 0, "refs: all dropped again, the image verifies %s", first_err);
	ref_check(img, dir, "refs: after dropping them");
	run_cmd("rm -f '%s'", img);
}

/* ------------------------------------------------------------------ */
/*
 * Running out of metadata space in the middle of a transaction: the
 * allocator says -ENOSPC (no chunk allocation yet), the transaction is
 * aborted, and the image is exactly the last commit.
 */
#define RESULTS_ENOSPC 2

static int fill_until_enospc(struct btrfs_fs_info *fs, int *inserted)
{
	u32 size = btrfs_max_item_size(fs->nodesize);
	struct btrfs_trans_handle *trans = btrfs_start_transaction(fs);
	u8 *buf = calloc(1, size);
	int ret = 0;

	if (IS_ERR(trans)) {
		free(buf);
		return bad("start transaction: %ld", PTR_ERR(trans));
	}
	for (*inserted = 0; !ret && *inserted < 1000000; (*inserted)++) {
		struct btrfs_dir_item *di = (struct btrfs_dir_item *)buf;
		char name[32];
		int len = snprintf(name, sizeof(name), "user.full%d", *inserted);
		struct btrfs_key key = xattr_key(btrfs_name_hash(name, len));

		btrfs_set_stack_dir_data_len(di, (u16)(size - sizeof(*di) - len));
		btrfs_set_stack_dir_name_len(di, (u16)len);
		btrfs_set_stack_dir_flags(di, BTRFS_FT_XATTR);
		memcpy(buf + sizeof(*di), name, len);
		ret = btrfs_insert_item(trans, fs->fs_root, &key, buf, size);
		if (ret == -EEXIST)
			ret = 0;
	}
	free(buf);
	btrfs_abort_transaction(trans);
	return ret;
}

static void test_enospc(const char *dir)
{
	struct btrfs_fs_info *fs;
	struct model m = { 0 };
	struct round_stats st = { 0 };
	char img[512];
	int rc, inserted = 0;
	u64 gen = 0;

	snprintf(img, sizeof(img), "%s/enospc.img", dir);
	first_err[0] = '\0';
	snprintf(fail_ctx, sizeof(fail_ctx), "enospc test, seed 0x5eedf011");
	rng_state = 0x5eedf011ULL;
	rc = run_cmd("truncate -s 512M '%s' && " REF_MKFS " -q -f -n 4096 "
		     "'%s' >/dev/null 2>&1", img, img);
	if (!rc)
		rc = run_round(img, &m, 2, -1, 0x5eedf011ULL, &st);
	if (!rc)
		rc = open_fs(img, OPEN_CTREE_WRITES, &fs);
	if (!rc) {
		gen = fs->generation;
		rc = fill_until_enospc(fs, &inserted);
		close_ctree(fs);
	}
	ok(rc == -ENOSPC, "enospc: a transaction filling the metadata space "
	   "fails with -ENOSPC after %d leaf-sized inserts (%d) %s", inserted,
	   rc, first_err);
	first_err[0] = '\0';
	rc = verify_image(img, NULL, &m, gen);
	ok(rc == 0, "enospc: after the abort the image is the last commit %s",
	   first_err);
	model_free(&m);
	run_cmd("rm -f '%s'", img);
}

/* ------------------------------------------------------------------ */
/*
 * Several items at once: btrfs_insert_empty_items() with runs of 1..8
 * adjacent keys and btrfs_del_items() of whole runs, on items of a private
 * key space of the FS tree ((BATCH_OBJECTID, TEMPORARY_ITEM, offset),
 * checked against their own model), all removed at the end so that the
 * reference check can judge the image.
 */
#define BATCH_OBJECTID 1000000ULL
#define BATCH_SLOTS 4096	/* runs start at multiples of 16 */
#define RESULTS_BATCH 3

struct batch_model {
	u8 len[BATCH_SLOTS];	/* items in the run at slot i (0: none) */
	u32 size[BATCH_SLOTS][8];
	u8 fill[BATCH_SLOTS][8];	/* payload byte of each item */
};

static struct btrfs_key batch_key(int slot, int i)
{
	struct btrfs_key key = { BATCH_OBJECTID, BTRFS_TEMPORARY_ITEM_KEY,
				 (u64)slot * 16 + (u64)i };

	return key;
}

static int batch_insert(struct btrfs_trans_handle *trans,
			struct btrfs_root *root, struct batch_model *b, int slot)
{
	struct btrfs_key keys[8];
	u32 sizes[8];
	int n = 1 + (int)rnd_below(8);
	struct btrfs_path *path = btrfs_alloc_path();
	int ret;

	for (int i = 0; i < n; i++) {
		keys[i] = batch_key(slot, i);
		sizes[i] = rnd_below(root->fs_info->nodesize / 40);
		b->size[slot][i] = sizes[i];
		b->fill[slot][i] = (u8)rnd();
	}
	ret = btrfs_insert_empty_items(trans, root, path, keys, sizes, n);
	if (ret) {
		btrfs_free_path(path);
		return bad("insert of %d items at slot %d: %d", n, slot, ret);
	}
	for (int i = 0; i < n; i++) {
		struct extent_buffer *leaf = path->nodes[0];

		memset(btrfs_item_ptr_raw(leaf, path->slots[0] + i),
		       b->fill[slot][i], sizes[i]);
	}
	b->len[slot] = (u8)n;
	btrfs_free_path(path);
	return 0;
}

/* Delete the run at @slot, as many items per btrfs_del_items as a leaf has. */
static int batch_delete(struct btrfs_trans_handle *trans,
			struct btrfs_root *root, struct batch_model *b, int slot)
{
	int done = 0;

	while (done < b->len[slot]) {
		struct btrfs_key key = batch_key(slot, done);
		struct btrfs_path *path = btrfs_alloc_path();
		int ret, n = 0;

		ret = btrfs_search_slot(trans, root, &key, path, -1, 1);
		while (ret == 0 && done + n < b->len[slot] &&
		       path->slots[0] + n <
			       (int)btrfs_header_nritems(path->nodes[0])) {
			struct btrfs_key k;

			btrfs_item_key_to_cpu(path->nodes[0], &k,
					      path->slots[0] + n);
			if (btrfs_comp_cpu_keys(&k, &key) != 0)
				break;
			n++;
			key = batch_key(slot, done + n);
		}
		if (ret == 0 && n)
			ret = btrfs_del_items(trans, root, path, path->slots[0],
					      n);
		btrfs_free_path(path);
		if (ret || !n)
			return bad("delete of run %d item %d: %d", slot, done,
				   ret);
		done += n;
	}
	b->len[slot] = 0;
	return 0;
}

/* The private items on disk equal the batch model. */
static int batch_verify(const char *img, const struct batch_model *b)
{
	struct btrfs_key key = { BATCH_OBJECTID, 0, 0 };
	struct btrfs_fs_info *fs;
	struct btrfs_path *path;
	int slot = 0, i = 0, ret;

	if (open_fs(img, 0, &fs))
		return -1;
	path = btrfs_alloc_path();
	ret = btrfs_search_slot_for_read(fs->fs_root, &key, path);
	while (ret == 0) {
		struct extent_buffer *leaf = path->nodes[0];
		const u8 *p = btrfs_item_ptr_raw(leaf, path->slots[0]);
		u32 size = btrfs_item_size(leaf, path->slots[0]);

		btrfs_item_key_to_cpu(leaf, &key, path->slots[0]);
		if (key.objectid != BATCH_OBJECTID)
			break;
		while (slot < BATCH_SLOTS && i >= b->len[slot]) {
			slot++;
			i = 0;
		}
		if (slot == BATCH_SLOTS ||
		    key.offset != (u64)slot * 16 + (u64)i ||
		    size != b->size[slot][i] ||
		    (size && (p[0] != b->fill[slot][i] ||
			      p[size - 1] != b->fill[slot][i]))) {
			ret = bad("batch item %llu differs from the model",
				  (unsigned long long)key.offset);
			break;
		}
		i++;
		ret = btrfs_next_item(fs->fs_root, path);
	}
	btrfs_free_path(path);
	close_ctree(fs);
	if (ret < 0)
		return -1;
	while (slot < BATCH_SLOTS && i >= b->len[slot]) {
		slot++;
		i = 0;
	}
	return slot == BATCH_SLOTS ? 0 : bad("batch run %d missing", slot);
}

static int batch_round(const char *img, struct batch_model *b, bool empty,
		       unsigned long *ops)
{
	struct model none = { 0 };
	struct btrfs_fs_info *fs;
	struct btrfs_trans_handle *trans;
	int ret;

	if (open_fs(img, OPEN_CTREE_WRITES, &fs))
		return -1;
	trans = btrfs_start_transaction(fs);
	ret = IS_ERR(trans) ? bad("start: %ld", PTR_ERR(trans)) : 0;
	for (int n = 0; !ret && n < BATCH_SLOTS; n++) {
		int slot = empty ? n : (int)rnd_below(BATCH_SLOTS);

		if (empty && !b->len[slot])
			continue;
		if (empty || (b->len[slot] && rnd_below(3) == 0))
			ret = batch_delete(trans, fs->fs_root, b, slot);
		else if (!b->len[slot] && n < 400)
			ret = batch_insert(trans, fs->fs_root, b, slot);
		else
			continue;
		(*ops)++;
	}
	if (!IS_ERR(trans) && ret)
		btrfs_abort_transaction(trans);
	else if (!ret && (ret = btrfs_commit_transaction(trans)))
		bad("commit: %d", ret);
	if (!ret)
		ret = verify_image(img, fs, &none, fs->generation);
	close_ctree(fs);
	return ret ? ret : batch_verify(img, b);
}

static void test_batches(const char *dir)
{
	struct batch_model *b = calloc(1, sizeof(*b));
	unsigned long ops = 0;
	char img[512];
	int rc;

	snprintf(img, sizeof(img), "%s/batch.img", dir);
	snprintf(fail_ctx, sizeof(fail_ctx), "batch test, seed 0x5eedba7c");
	rng_state = 0x5eedba7cULL;
	first_err[0] = '\0';
	rc = run_cmd("truncate -s 1G '%s' && " REF_MKFS " -q -f -n 4096 '%s' "
		     ">/dev/null 2>&1", img, img);
	for (int t = 0; !rc && t < 12; t++)
		rc = batch_round(img, b, false, &ops);
	ok(rc == 0, "batches: %lu multi-item inserts and deletes in 12 commits, "
	   "each verified %s", ops, first_err);
	first_err[0] = '\0';
	if (!rc)
		rc = batch_round(img, b, true, &ops);
	ok(rc == 0, "batches: all runs deleted again, verified %s", first_err);
	ref_check(img, dir, "batches: after deleting them");
	run_cmd("rm -f '%s'", img);
	free(b);
}

/* ------------------------------------------------------------------ */
/* The transaction and open contracts. */
#define RESULTS_CONTRACT 3

static void test_contract(const char *dir)
{
	struct btrfs_fs_info *fs;
	struct btrfs_trans_handle *t1, *t2;
	char img[256], img2[600];
	int rc;

	snprintf(img, sizeof(img), "%s/contract.img", dir);
	first_err[0] = '\0';
	rc = run_cmd("truncate -s 1G '%s' && " REF_MKFS " -q -f '%s' "
		     ">/dev/null 2>&1", img, img);
	if (!rc)
		rc = open_fs(img, 0, &fs);
	if (!rc) {
		t1 = btrfs_start_transaction(fs);
		rc = IS_ERR(t1) ? (int)PTR_ERR(t1) : 0;
		if (!IS_ERR(t1))
			btrfs_abort_transaction(t1);
		close_ctree(fs);
	}
	ok(rc == -EROFS, "contract: no transaction on a read-only open (%d) %s",
	   rc, first_err);

	first_err[0] = '\0';
	rc = open_fs(img, OPEN_CTREE_WRITES, &fs);
	if (!rc) {
		t1 = btrfs_start_transaction(fs);
		t2 = btrfs_start_transaction(fs);
		rc = IS_ERR(t2) ? (int)PTR_ERR(t2) : 0;
		if (!IS_ERR(t2))
			btrfs_abort_transaction(t2);
		if (!IS_ERR(t1))
			rc = rc == -EBUSY ? btrfs_commit_transaction(t1) : rc;
		close_ctree(fs);
	}
	ok(rc == 0, "contract: one transaction at a time (-EBUSY), the first "
	   "still commits %s", first_err);

	first_err[0] = '\0';
	snprintf(img2, sizeof(img2), "%s.2", img);
	rc = run_cmd("truncate -s 1G '%s' && " REF_MKFS " -q -f -d raid5 "
		     "-m raid5 '%s' '%s' >/dev/null 2>&1", img2, img, img2);
	if (!rc) {
		snprintf(img2, sizeof(img2), "%s:%s.2", img, img);
		rc = open_fs(img2, OPEN_CTREE_WRITES, &fs);
	}
	/* RAID5/6 writes rewrite the parity of the row (raid56.c). */
	if (!rc) {
		t1 = btrfs_start_transaction(fs);
		rc = IS_ERR(t1) ? (int)PTR_ERR(t1) :
				  btrfs_commit_transaction(t1);
		close_ctree(fs);
	}
	if (!rc && !kernel_unavailable(0))	/* check needs loop devices */
		rc = run_cmd("L=$(losetup -f --show '%s') && "
			     "M=$(losetup -f --show '%s.2') && "
			     REF_BTRFS " device scan $L $M >/dev/null 2>&1; "
			     REF_BTRFS " check $L >/dev/null 2>&1; rc=$?; "
			     "losetup -d $L $M; exit $rc", img, img);
	ok(rc == 0, "contract: RAID5 opens for writing, a commit keeps it "
	   "valid for the reference check (%d) %s", rc, first_err);
	run_cmd("rm -f '%s' '%s.2'", img, img);
}

/* ------------------------------------------------------------------ */
/*
 * Kernel-made images (tests/helpers/make-images.sh): real filesystems with
 * data, snapshots, other checksums, node sizes, profiles (RAID1 over two
 * devices, mixed groups, DUP data) and the v1 space cache.  A copy of each
 * gets a round of operations on the top directory's xattrs, verified after
 * every commit; then the reference check and the kernel judge it.
 */
static const char * const kernel_images[] = {
	"a-default", "b-node4k", "d-xxhash", "e-sha256", "f-blake2",
	"g-v1cache", "h-mixed", "i-raid1",
};
#define RESULTS_PER_IMAGE (2 + RESULTS_KERNEL)
#define RESULTS_IMAGES \
	(ARRAY_SIZE(kernel_images) * RESULTS_PER_IMAGE + 1)

/* The xattrs the image already has on inode 256 (one per item). */
static int model_load(const char *img, struct model *m)
{
	struct btrfs_key key = xattr_key(0);
	struct btrfs_fs_info *fs;
	struct btrfs_path *path;
	int ret;

	if (open_fs(img, 0, &fs))
		return -1;
	path = btrfs_alloc_path();
	ret = btrfs_search_slot_for_read(fs->fs_root, &key, path);
	while (ret == 0) {
		struct extent_buffer *leaf = path->nodes[0];
		struct btrfs_dir_item *di;
		struct xattr x = { 0 };
		bool found;

		btrfs_item_key_to_cpu(leaf, &key, path->slots[0]);
		if (key.objectid != XATTR_INO || key.type != BTRFS_XATTR_ITEM_KEY)
			break;
		di = btrfs_item_ptr(leaf, path->slots[0], struct btrfs_dir_item);
		x.hash = key.offset;
		x.name_len = btrfs_dir_name_len(leaf, di);
		x.val_len = btrfs_dir_data_len(leaf, di);
		if (x.name_len >= sizeof(x.name) ||
		    item_size_of(&x) != btrfs_item_size(leaf, path->slots[0])) {
			ret = bad("image xattr item at hash %llu not modelled",
				  (unsigned long long)key.offset);
			break;
		}
		memcpy(x.name, di + 1, x.name_len);
		x.val = malloc(x.val_len + 1);
		memcpy(x.val, (u8 *)(di + 1) + x.name_len, x.val_len);
		model_insert(m, model_find(m, x.hash, &found), &x);
		ret = btrfs_next_item(fs->fs_root, path);
	}
	btrfs_free_path(path);
	close_ctree(fs);
	return ret < 0 ? -1 : 0;
}

/* Copy image @name's files into @dir; *img gets the ':'-joined copies. */
static int copy_image(const char *manifest, const char *name, const char *dir,
		      char *img, size_t len)
{
	char line[2048], *save = NULL, *tok;
	FILE *f = fopen(manifest, "r");
	int n = 0, ret = -1;

	img[0] = '\0';
	while (f && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		tok = strtok_r(line, " ", &save);
		if (!tok || strcmp(tok, name))
			continue;
		ret = 0;
		while (!ret && (tok = strtok_r(NULL, " ", &save))) {
			char copy[512];
			size_t used = strlen(img);

			snprintf(copy, sizeof(copy), "%s/%s.%d.img", dir, name, n++);
			ret = run_cmd("flock -s \"$(dirname '%s')/.lock\" "
				      "cp --sparse=always '%s' '%s'", tok, tok,
				      copy);
			snprintf(img + used, len - used, "%s%s", used ? ":" : "",
				 copy);
		}
		break;
	}
	if (f)
		fclose(f);
	return ret;
}

static void remove_copies(const char *img)
{
	char files[1024];

	snprintf(files, sizeof(files), "%s", img);
	for (char *p = files; (p = strchr(p, ':')); )
		*p = ' ';
	run_cmd("rm -f %s", files);
}

static void test_kernel_image(const char *manifest, const char *name,
			      const char *dir, u64 seed)
{
	struct round_stats st = { 0 };
	struct model m = { 0 };
	char img[1024];
	int rc;

	first_err[0] = '\0';
	snprintf(fail_ctx, sizeof(fail_ctx), "image %s seed %llu", name,
		 (unsigned long long)seed);
	rc = copy_image(manifest, name, dir, img, sizeof(img));
	if (!rc)
		rc = model_load(img, &m);
	rng_state = seed;
	if (!rc)
		rc = run_round(img, &m, 8, -1, seed, &st);
	ok(rc == 0, "%s: %lu operations in %lu commits, each verified (%zu "
	   "xattrs, fs tree level %d) %s", name, st.ops, st.commits, m.nr,
	   st.max_level, first_err);
	if (rc == 0) {
		ref_check(img, dir, name);
		kernel_round_trip(img, dir, &m, name);
	} else {
		for (int i = 1; i < RESULTS_PER_IMAGE; i++)
			ok(0, "%s: not reached", name);
	}
	remove_copies(img);
	model_free(&m);
}

/* A log tree to replay: writing is refused, nothing is written. */
static void test_refuse_log_tree(const char *manifest, const char *dir)
{
	struct btrfs_fs_info *fs = NULL;
	char img[1024];
	int rc = copy_image(manifest, "l-logtree", dir, img, sizeof(img));

	first_err[0] = '\0';
	if (!rc) {
		rc = open_fs(img, OPEN_CTREE_WRITES, &fs);
		close_ctree(rc ? NULL : fs);
	}
	ok(rc == -EOPNOTSUPP, "l-logtree: opening for writing is refused "
	   "(%d) %s", rc, first_err);
	remove_copies(img);
}

static void test_kernel_images(const char *dir)
{
	const char *src = getenv("TOP_SRCDIR");
	const char *why_not = kernel_unavailable(0);
	char manifest[512];
	int rc = -1;

	snprintf(manifest, sizeof(manifest), "%s/manifest", dir);
	if (!why_not && !src)
		why_not = "TOP_SRCDIR is not set (run through tests/run-tests.sh)";
	if (!why_not) {
		rc = run_cmd("'%s/tests/helpers/make-images.sh' >'%s' "
			     "2>'%s.log'", src, manifest, manifest);
		if (rc == 77)
			why_not = "the image builder lacks a prerequisite";
		else if (rc)
			why_not = NULL;
	}
	if (why_not) {
		for (size_t i = 0; i < RESULTS_IMAGES; i++)
			skip("kernel-made images: %s", why_not);
		return;
	}
	if (rc) {
		show_file(manifest, 30);
		for (size_t i = 0; i < RESULTS_IMAGES; i++)
			ok(0, "kernel-made images: make-images.sh failed (%d)", rc);
		return;
	}
	shared_trees = true;
	for (size_t i = 0; i < ARRAY_SIZE(kernel_images); i++)
		test_kernel_image(manifest, kernel_images[i], dir,
				  0x1ca9e000ULL + i);
	test_refuse_log_tree(manifest, dir);
	shared_trees = false;
}

int main(void)
{
	static const struct config configs[] = {
		{ 4096, "4G", "", false },
		{ 16384, "4G", "", false },
		{ 65536, "4G", "", false },
		/* Non-skinny extent items and the v1 space cache. */
		{ 16384, "4G", "-O ^skinny-metadata -R ^free-space-tree", false },
		/*
		 * A small metadata group: its free-space tree passes the
		 * kernel's threshold and is converted to bitmaps (and
		 * modified as bitmaps from then on).
		 */
		{ 4096, "512M", "", true },
	};
	char dir[] = "/var/tmp/test-btree-write.XXXXXX";

	if (access(REF_MKFS, X_OK) || access(REF_BTRFS, X_OK)) {
		printf("1..0 # SKIP reference btrfs-progs not installed\n");
		return 0;
	}
	if (!mkdtemp(dir)) {
		printf("1..0 # SKIP cannot make a temporary directory\n");
		return 0;
	}
	printf("1..%zu\n", ARRAY_SIZE(configs) * RESULTS_PER_CONFIG +
	       RESULTS_REFS + RESULTS_ENOSPC + RESULTS_CONTRACT +
	       RESULTS_BATCH + RESULTS_IMAGES);
	for (size_t i = 0; i < ARRAY_SIZE(configs); i++) {
		int before = tap_count;

		test_config(&configs[i], 0x5eed0000ULL + configs[i].nodesize + i,
			    dir);
		/* Keep the plan when a step failed early. */
		while (tap_count < before + RESULTS_PER_CONFIG)
			ok(0, "nodesize %u: skipped after an earlier failure",
			   configs[i].nodesize);
	}
	test_refs(dir);
	test_enospc(dir);
	test_contract(dir);
	test_batches(dir);
	test_kernel_images(dir);
	run_cmd("rm -rf '%s'", dir);
	return tap_failed ? 1 : 0;
}
