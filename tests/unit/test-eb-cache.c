// SPDX-License-Identifier: GPL-2.0
/*
 * Extent buffer cache, tree checker and btree navigation, printed as TAP.
 *
 * Oracles: the cache is checked against its documented contract (bound,
 * reference counting, LRU order) and against the bytes written into each
 * buffer; the tree checker against hand-built leaves and nodes, each broken
 * in exactly one way; key comparison against a big-endian memcmp of the
 * key; navigation against the list of keys the test tree was built from.
 * The navigation trees live only in the extent buffer cache, which
 * read_tree_block() consults first, so no device is needed.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel-shared/ctree.h"
#include "kernel-shared/disk-io.h"
#include "kernel-shared/extent-io.h"
#include "kernel-shared/tree-checker.h"

#define NODESIZE 4096U
#define SECTORSIZE 4096U
#define GEN 7ULL

struct tap {
	int count;
	int failed;
};

static void tap_result(struct tap *tap, int ok, const char *desc)
{
	tap->count++;
	if (!ok)
		tap->failed++;
	printf("%s %d - %s\n", ok ? "ok" : "not ok", tap->count, desc);
}

/* ------------------------------------------------------------------ */
/* Extent buffer cache. */

static struct extent_buffer *cached_block(struct extent_buffer_cache *cache,
					  u64 start)
{
	struct extent_buffer *eb = alloc_extent_buffer(start, NODESIZE);

	if (!eb)
		abort();
	eb->data[100] = (u8)(start >> 12);
	return eb_cache_insert(cache, eb);
}

static bool is_cached(struct extent_buffer_cache *cache, u64 start)
{
	struct extent_buffer *eb = find_extent_buffer(cache, start, NODESIZE);

	free_extent_buffer(eb);
	return eb != NULL;
}

static void test_alloc(struct tap *tap)
{
	struct extent_buffer *eb = alloc_extent_buffer(8192, NODESIZE);
	bool zero = true;

	for (u32 i = 0; eb && i < NODESIZE; i++)
		zero = zero && eb->data[i] == 0;
	tap_result(tap, eb && eb->refs == 1 && eb->start == 8192 &&
			eb->len == NODESIZE && zero && !eb->cache,
		   "alloc_extent_buffer: zeroed, one reference, uncached");
	extent_buffer_get(eb);
	tap_result(tap, eb && eb->refs == 2, "extent_buffer_get takes a reference");
	free_extent_buffer(eb);
	free_extent_buffer(eb);	/* frees: ASan reports a leak otherwise */
	free_extent_buffer(NULL);
	free_extent_buffer(ERR_PTR(-EIO));
	tap_result(tap, 1, "free of NULL / error pointers is a no-op");
}

static void test_insert_find(struct tap *tap)
{
	struct extent_buffer_cache *cache = eb_cache_create(16 * NODESIZE);
	struct extent_buffer *a = cached_block(cache, 4096);
	struct extent_buffer *dup = alloc_extent_buffer(4096, NODESIZE);
	struct extent_buffer *f, *got;
	struct eb_cache_stats st;

	f = find_extent_buffer(cache, 4096, NODESIZE);
	tap_result(tap, f == a && a->refs == 2, "find returns the cached buffer with a reference");
	free_extent_buffer(f);
	tap_result(tap, find_extent_buffer(cache, 8192, NODESIZE) == NULL,
		   "find of an uncached start is NULL");
	tap_result(tap, find_extent_buffer(cache, 4096, 2 * NODESIZE) == NULL,
		   "find with another length is a miss");
	got = eb_cache_insert(cache, dup);	/* dup is released */
	tap_result(tap, got == a && a->refs == 2,
		   "insert of an already cached start returns the cached one");
	free_extent_buffer(got);
	eb_cache_get_stats(cache, &st);
	tap_result(tap, st.hits == 1 && st.misses == 2 && st.nr_cached == 1 &&
			st.cached_bytes == NODESIZE,
		   "stats count hits, misses and cached bytes");
	free_extent_buffer(a);
	eb_cache_destroy(cache);
}

/* Insert @n blocks starting at block 1 and release each at once. */
static void fill(struct extent_buffer_cache *cache, int first, int n)
{
	for (int i = first; i < first + n; i++)
		free_extent_buffer(cached_block(cache, (u64)i * 4096));
}

static void test_bound(struct tap *tap)
{
	struct extent_buffer_cache *cache = eb_cache_create(4 * NODESIZE);
	struct eb_cache_stats st;
	bool old_gone = true, new_there = true;

	fill(cache, 1, 10);
	eb_cache_get_stats(cache, &st);
	for (int i = 1; i <= 6; i++)
		old_gone = old_gone && !is_cached(cache, (u64)i * 4096);
	for (int i = 7; i <= 10; i++)
		new_there = new_there && is_cached(cache, (u64)i * 4096);
	tap_result(tap, st.cached_bytes <= 4 * NODESIZE && st.nr_cached == 4 &&
			st.evictions == 6,
		   "unheld buffers are evicted down to the bound");
	tap_result(tap, old_gone && new_there,
		   "eviction takes the least recently released first");
	eb_cache_destroy(cache);
}

static void test_lru_refresh(struct tap *tap)
{
	struct extent_buffer_cache *cache = eb_cache_create(4 * NODESIZE);

	fill(cache, 1, 4);
	free_extent_buffer(find_extent_buffer(cache, 4096, NODESIZE));
	fill(cache, 5, 1);
	tap_result(tap, is_cached(cache, 4096) && !is_cached(cache, 2 * 4096),
		   "a find makes a buffer most recently used again");
	eb_cache_destroy(cache);
}

static void test_held_not_evicted(struct tap *tap)
{
	struct extent_buffer_cache *cache = eb_cache_create(4 * NODESIZE);
	struct extent_buffer *held[8];
	struct eb_cache_stats st;
	bool all = true;

	for (int i = 0; i < 8; i++)
		held[i] = cached_block(cache, (u64)(i + 1) * 4096);
	for (int i = 0; i < 8; i++)
		all = all && is_cached(cache, (u64)(i + 1) * 4096);
	eb_cache_get_stats(cache, &st);
	tap_result(tap, all && st.nr_cached == 8 && st.evictions == 0,
		   "held buffers are never evicted, even above the bound");
	for (int i = 0; i < 8; i++)
		free_extent_buffer(held[i]);
	eb_cache_get_stats(cache, &st);
	tap_result(tap, st.cached_bytes <= 4 * NODESIZE && st.evictions == 4 &&
			is_cached(cache, 8 * 4096),
		   "released buffers are trimmed back to the bound");
	eb_cache_destroy(cache);
}

static void test_forget_destroy(struct tap *tap)
{
	struct extent_buffer_cache *cache = eb_cache_create(16 * NODESIZE);
	struct extent_buffer *held;

	fill(cache, 1, 2);
	held = cached_block(cache, 3 * 4096);
	eb_cache_forget(cache, 4096);
	eb_cache_forget(cache, 3 * 4096);
	eb_cache_forget(cache, 99 * 4096);
	tap_result(tap, !is_cached(cache, 4096) && is_cached(cache, 2 * 4096) &&
			is_cached(cache, 3 * 4096),
		   "forget drops an unheld buffer and keeps a held one");
	eb_cache_destroy(cache);
	tap_result(tap, held->refs == 1 && held->cache == NULL &&
			held->data[100] == 3,
		   "destroy detaches a still held buffer");
	free_extent_buffer(held);
}

static void test_read_write(struct tap *tap)
{
	struct extent_buffer *eb = alloc_extent_buffer(4096, NODESIZE);
	u8 buf[16] = "0123456789abcde";
	u8 out[16] = { 0 };
	int w = write_extent_buffer(eb, buf, NODESIZE - 16, 16);
	int r = read_extent_buffer(eb, out, NODESIZE - 16, 16);

	tap_result(tap, w == 0 && r == 0 && memcmp(buf, out, 16) == 0,
		   "read/write_extent_buffer copy a range at the end");
	tap_result(tap, write_extent_buffer(eb, buf, NODESIZE - 15, 16) == -EUCLEAN &&
			read_extent_buffer(eb, out, NODESIZE + 1, 0) == -EUCLEAN &&
			read_extent_buffer(eb, out, 16, (unsigned long)-8) == -EUCLEAN &&
			read_extent_buffer(eb, out, NODESIZE, 0) == 0,
		   "ranges outside the buffer (or wrapping) are refused");
	free_extent_buffer(eb);
}

/* Two threads finding, reading in and releasing overlapping blocks. */
struct thread_arg {
	struct extent_buffer_cache *cache;
	unsigned int seed;
	int bad;
	long finds;
};

static void *find_worker(void *p)
{
	struct thread_arg *a = p;

	for (int i = 0; i < 200000; i++) {
		u64 start = (u64)(1 + rand_r(&a->seed) % 64) * 4096;
		struct extent_buffer *eb;

		eb = find_extent_buffer(a->cache, start, NODESIZE);
		a->finds++;
		if (!eb)
			eb = cached_block(a->cache, start);
		if (eb->start != start || eb->data[100] != (u8)(start >> 12) ||
		    __atomic_load_n(&eb->refs, __ATOMIC_RELAXED) < 1)
			a->bad++;
		free_extent_buffer(eb);
	}
	return NULL;
}

static void test_threads(struct tap *tap)
{
	struct extent_buffer_cache *cache = eb_cache_create(32 * NODESIZE);
	struct thread_arg args[2] = { { cache, 1, 0, 0 }, { cache, 2, 0, 0 } };
	pthread_t th[2];
	struct eb_cache_stats st;
	int started = 0;

	for (int i = 0; i < 2; i++)
		started += pthread_create(&th[i], NULL, find_worker, &args[i]) == 0;
	for (int i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	eb_cache_get_stats(cache, &st);
	tap_result(tap, started == 2 && args[0].bad == 0 && args[1].bad == 0,
		   "two threads always get the right, held buffer");
	tap_result(tap, st.hits + st.misses == (u64)(args[0].finds + args[1].finds) &&
			st.cached_bytes <= 32 * NODESIZE &&
			st.cached_bytes == st.nr_cached * NODESIZE,
		   "after concurrent use the counters add up and the bound holds");
	eb_cache_destroy(cache);
}

/* ------------------------------------------------------------------ */
/* Key comparison. */

static void key_to_be(const struct btrfs_key *k, u8 out[17])
{
	for (int i = 0; i < 8; i++) {
		out[i] = (u8)(k->objectid >> (56 - 8 * i));
		out[9 + i] = (u8)(k->offset >> (56 - 8 * i));
	}
	out[8] = k->type;
}

static u64 rand_field(unsigned int *seed)
{
	static const u64 picks[] = { 0, 1, 255, 256, 0x7fffffffffffffffULL,
				     0x8000000000000000ULL, -1ULL };

	return picks[rand_r(seed) % ARRAY_SIZE(picks)];
}

static void test_comp_keys(struct tap *tap)
{
	struct btrfs_key a = { 256, 1, 0 }, b = { 256, 1, 1 };
	struct btrfs_key c = { 256, 12, 0 }, d = { 257, 0, 0 };
	struct btrfs_key big = { -1ULL, 255, -1ULL }, zero = { 0, 0, 0 };
	unsigned int seed = 42;
	bool agree = true;

	tap_result(tap, btrfs_comp_cpu_keys(&a, &b) == -1 &&
			btrfs_comp_cpu_keys(&b, &c) == -1 &&
			btrfs_comp_cpu_keys(&c, &d) == -1 &&
			btrfs_comp_cpu_keys(&d, &a) == 1 &&
			btrfs_comp_cpu_keys(&a, &a) == 0 &&
			btrfs_comp_cpu_keys(&big, &zero) == 1 &&
			btrfs_comp_cpu_keys(&zero, &big) == -1,
		   "btrfs_comp_cpu_keys orders objectid, type, offset unsigned");
	for (int i = 0; i < 20000; i++) {
		struct btrfs_key x = { rand_field(&seed), (u8)rand_r(&seed) % 3,
				       rand_field(&seed) };
		struct btrfs_key y = { rand_field(&seed), (u8)rand_r(&seed) % 3,
				       rand_field(&seed) };
		u8 bx[17], by[17];
		int m;

		key_to_be(&x, bx);
		key_to_be(&y, by);
		m = memcmp(bx, by, 17);
		m = (m > 0) - (m < 0);
		agree = agree && btrfs_comp_cpu_keys(&x, &y) == m;
	}
	tap_result(tap, agree, "btrfs_comp_cpu_keys agrees with big-endian memcmp");
}

/* ------------------------------------------------------------------ */
/* Hand-built blocks. */

static struct extent_buffer *new_block(u64 bytenr, int level)
{
	struct extent_buffer *eb = alloc_extent_buffer(bytenr, NODESIZE);

	if (!eb)
		abort();
	btrfs_set_header_bytenr(eb, bytenr);
	btrfs_set_header_level(eb, (u8)level);
	btrfs_set_header_generation(eb, GEN);
	btrfs_set_header_owner(eb, BTRFS_FS_TREE_OBJECTID);
	return eb;
}

/* Lay out @nr items back to back from the end of the leaf. */
static void leaf_fill(struct extent_buffer *eb, const struct btrfs_key *keys,
		      const u32 *sizes, int nr)
{
	u32 end = btrfs_leaf_data_size(eb->len);

	for (int i = 0; i < nr; i++) {
		struct btrfs_item *item = btrfs_item_nr(eb, i);

		end -= sizes[i];
		btrfs_cpu_key_to_disk(&item->key, &keys[i]);
		btrfs_set_raw_item_offset(eb, item, end);
		btrfs_set_raw_item_size(eb, item, sizes[i]);
	}
	btrfs_set_header_nritems(eb, (u32)nr);
}

static void node_set_ptr(struct extent_buffer *eb, int slot,
			 const struct btrfs_key *key, u64 blockptr)
{
	struct btrfs_key_ptr *p = btrfs_key_ptr_nr(eb, slot);

	btrfs_cpu_key_to_disk(&p->key, key);
	btrfs_set_key_ptr_blockptr(eb, p, blockptr);
	btrfs_set_key_ptr_generation(eb, p, GEN);
}

static void init_fs_info(struct btrfs_fs_info *fs_info, size_t cache_bytes)
{
	memset(fs_info, 0, sizeof(*fs_info));
	fs_info->nodesize = NODESIZE;
	fs_info->sectorsize = SECTORSIZE;
	fs_info->eb_cache = eb_cache_create(cache_bytes);
}

/* ------------------------------------------------------------------ */
/* Tree checker. */

/* A leaf of odd but valid items: every one of them must pass. */
static struct extent_buffer *valid_leaf(void)
{
	static const struct btrfs_key keys[] = {
		{ 5, BTRFS_INODE_ITEM_KEY, 0 },
		{ 5, BTRFS_ROOT_ITEM_KEY, 0 },
		{ 5, BTRFS_ROOT_ITEM_KEY, 1 },
		{ 6, 7, 0 },			/* unknown type */
		{ 4096, BTRFS_EXTENT_ITEM_KEY, 4096 },
		{ 8192, BTRFS_EXTENT_ITEM_KEY, 4096 },
		{ 8192, BTRFS_METADATA_ITEM_KEY, 0 },
		{ 9000, BTRFS_DIR_ITEM_KEY, 1 },
	};
	static const u32 sizes[] = {
		sizeof(struct btrfs_inode_item),
		BTRFS_LEGACY_ROOT_ITEM_SIZE,
		sizeof(struct btrfs_root_item),
		0,
		sizeof(struct btrfs_extent_item_v0),
		sizeof(struct btrfs_extent_item) + 9,
		sizeof(struct btrfs_extent_item),
		sizeof(struct btrfs_dir_item) + 3,
	};
	struct extent_buffer *eb = new_block(1 << 20, 0);

	leaf_fill(eb, keys, sizes, (int)ARRAY_SIZE(keys));
	return eb;
}

static bool check_is(const struct btrfs_fs_info *fs_info,
		     const struct extent_buffer *eb,
		     enum btrfs_tree_check_reason reason, int slot)
{
	struct btrfs_tree_check_result res = { TREE_CHECK_OK, -2 };
	int ret = btrfs_check_tree_block(fs_info, eb, &res);

	if (res.reason != reason || res.slot != slot)
		printf("# got reason %d (%s) slot %d, want %d slot %d\n",
		       res.reason, btrfs_tree_check_reason_str(res.reason),
		       res.slot, reason, slot);
	return res.reason == reason && res.slot == slot &&
	       ret == (reason == TREE_CHECK_OK ? 0 : -EUCLEAN);
}

static void set_item_offset(struct extent_buffer *eb, int slot, u32 off)
{
	btrfs_set_raw_item_offset(eb, btrfs_item_nr(eb, slot), off);
}

static void set_item_size(struct extent_buffer *eb, int slot, u32 size)
{
	btrfs_set_raw_item_size(eb, btrfs_item_nr(eb, slot), size);
}

static void test_checker_leaf(struct tap *tap, const struct btrfs_fs_info *fi)
{
	struct extent_buffer *eb = valid_leaf();
	struct extent_buffer *empty = new_block(1 << 20, 0);
	struct btrfs_key k;
	u32 data = btrfs_leaf_data_size(NODESIZE);

	tap_result(tap, check_is(fi, eb, TREE_CHECK_OK, -1) &&
			btrfs_check_leaf(fi, eb, NULL) == 0,
		   "checker: leaf with legacy root, v0 extent, unknown type passes");
	tap_result(tap, check_is(fi, empty, TREE_CHECK_OK, -1),
		   "checker: an empty leaf passes");
	btrfs_set_header_level(empty, BTRFS_MAX_LEVEL);
	tap_result(tap, check_is(fi, empty, TREE_CHECK_BAD_LEVEL, -1),
		   "checker: level 8 is a bad level");
	btrfs_set_header_level(empty, 0);
	btrfs_set_header_nritems(empty, data / sizeof(struct btrfs_item) + 1);
	tap_result(tap, check_is(fi, empty, TREE_CHECK_NRITEMS, -1),
		   "checker: more items than fit is bad nritems");
	free_extent_buffer(empty);

	set_item_offset(eb, 3, btrfs_item_offset(eb, 3) - 1);
	tap_result(tap, check_is(fi, eb, TREE_CHECK_ITEM_GAP, 3),
		   "checker: item data not ending where the previous starts");
	set_item_offset(eb, 3, btrfs_item_offset(eb, 3) + 1);
	set_item_offset(eb, 0, data - 100);
	tap_result(tap, check_is(fi, eb, TREE_CHECK_ITEM_GAP, 0),
		   "checker: item 0 not ending at the end of the leaf");
	free_extent_buffer(eb);

	eb = valid_leaf();
	btrfs_item_key_to_cpu(eb, &k, 4);
	btrfs_cpu_key_to_disk(&btrfs_item_nr(eb, 5)->key, &k);
	tap_result(tap, check_is(fi, eb, TREE_CHECK_KEY_ORDER, 5),
		   "checker: two equal keys are out of order");
	k.objectid = 1;
	btrfs_cpu_key_to_disk(&btrfs_item_nr(eb, 5)->key, &k);
	tap_result(tap, check_is(fi, eb, TREE_CHECK_KEY_ORDER, 5),
		   "checker: a smaller key is out of order");
	free_extent_buffer(eb);
}

/* One item whose data covers the whole data area, item array included. */
static void test_checker_overlap(struct tap *tap, const struct btrfs_fs_info *fi)
{
	static const struct btrfs_key key = { 1, 7, 0 };
	u32 size = btrfs_leaf_data_size(NODESIZE);
	struct extent_buffer *eb = new_block(1 << 20, 0);

	leaf_fill(eb, &key, &size, 1);
	tap_result(tap, check_is(fi, eb, TREE_CHECK_ITEM_OFFSET, 0),
		   "checker: item data overlapping the item array");
	set_item_size(eb, 0, size - 24);
	set_item_offset(eb, 0, 24);
	tap_result(tap, check_is(fi, eb, TREE_CHECK_ITEM_OFFSET, 0),
		   "checker: item data one byte into its own item header");
	set_item_size(eb, 0, size - 25);
	set_item_offset(eb, 0, 25);
	tap_result(tap, check_is(fi, eb, TREE_CHECK_OK, -1),
		   "checker: item data right after the item array passes");
	free_extent_buffer(eb);
}

/* Does a leaf of one item of @type and @size fail with ITEM_SIZE at 0? */
static bool item_size_rejected(const struct btrfs_fs_info *fi, u8 type,
			       u32 size)
{
	struct btrfs_key key = { 300, type, 0 };
	struct extent_buffer *eb = new_block(1 << 20, 0);
	struct btrfs_tree_check_result res;
	int ret;

	leaf_fill(eb, &key, &size, 1);
	ret = btrfs_check_leaf(fi, eb, &res);
	free_extent_buffer(eb);
	return ret == -EUCLEAN && res.reason == TREE_CHECK_ITEM_SIZE &&
	       res.slot == 0;
}

static void test_checker_item_size(struct tap *tap,
				   const struct btrfs_fs_info *fi)
{
	tap_result(tap, item_size_rejected(fi, BTRFS_INODE_ITEM_KEY, 159) &&
			item_size_rejected(fi, BTRFS_ROOT_ITEM_KEY,
					   BTRFS_LEGACY_ROOT_ITEM_SIZE - 1) &&
			item_size_rejected(fi, BTRFS_DIR_INDEX_KEY, 29) &&
			item_size_rejected(fi, BTRFS_EXTENT_DATA_KEY, 20) &&
			item_size_rejected(fi, BTRFS_CHUNK_ITEM_KEY, 79) &&
			item_size_rejected(fi, BTRFS_DEV_ITEM_KEY, 97) &&
			item_size_rejected(fi, BTRFS_BLOCK_GROUP_ITEM_KEY, 23),
		   "checker: fixed-size items one byte short are too small");
	tap_result(tap, item_size_rejected(fi, BTRFS_EXTENT_ITEM_KEY, 5) &&
			item_size_rejected(fi, BTRFS_EXTENT_ITEM_KEY, 3) &&
			item_size_rejected(fi, BTRFS_METADATA_ITEM_KEY, 4) &&
			!item_size_rejected(fi, BTRFS_EXTENT_ITEM_KEY, 4),
		   "checker: extent items are 4 (v0) or at least 24 bytes");
}

static struct extent_buffer *valid_node(int nr)
{
	struct extent_buffer *eb = new_block(2 << 20, 1);

	for (int i = 0; i < nr; i++) {
		struct btrfs_key k = { 256 + (u64)i, 1, 0 };

		node_set_ptr(eb, i, &k, (u64)(i + 1) << 20);
	}
	btrfs_set_header_nritems(eb, (u32)nr);
	return eb;
}

static void test_checker_node(struct tap *tap, const struct btrfs_fs_info *fi)
{
	struct extent_buffer *eb = valid_node(5);
	struct btrfs_key k = { 1, 1, 0 };

	tap_result(tap, check_is(fi, eb, TREE_CHECK_OK, -1) &&
			btrfs_check_node(fi, eb, NULL) == 0,
		   "checker: a valid node passes");
	btrfs_set_key_ptr_blockptr(eb, btrfs_key_ptr_nr(eb, 1), 0);
	tap_result(tap, check_is(fi, eb, TREE_CHECK_BLOCKPTR, 1),
		   "checker: a zero child pointer");
	btrfs_set_key_ptr_blockptr(eb, btrfs_key_ptr_nr(eb, 1), 2 << 20);
	btrfs_set_key_ptr_blockptr(eb, btrfs_key_ptr_nr(eb, 2), (3 << 20) + 512);
	tap_result(tap, check_is(fi, eb, TREE_CHECK_BLOCKPTR, 2),
		   "checker: an unaligned child pointer");
	btrfs_set_key_ptr_blockptr(eb, btrfs_key_ptr_nr(eb, 2), 3 << 20);
	btrfs_cpu_key_to_disk(&btrfs_key_ptr_nr(eb, 3)->key, &k);
	tap_result(tap, check_is(fi, eb, TREE_CHECK_KEY_ORDER, 3),
		   "checker: node keys out of order");
	btrfs_set_header_nritems(eb, 0);
	tap_result(tap, check_is(fi, eb, TREE_CHECK_EMPTY_NODE, -1),
		   "checker: a node without pointers");
	btrfs_set_header_nritems(eb, btrfs_max_node_ptrs(NODESIZE) + 1);
	tap_result(tap, check_is(fi, eb, TREE_CHECK_NRITEMS, -1),
		   "checker: more pointers than fit");
	btrfs_set_header_nritems(eb, 1);
	btrfs_set_header_level(eb, 200);
	tap_result(tap, check_is(fi, eb, TREE_CHECK_BAD_LEVEL, -1) &&
			btrfs_check_leaf(fi, eb, NULL) == -EUCLEAN,
		   "checker: node level out of range; not a leaf either");
	free_extent_buffer(eb);
	tap_result(tap, strcmp(btrfs_tree_check_reason_str(TREE_CHECK_KEY_ORDER),
			       "keys out of order") == 0 &&
			btrfs_tree_check_reason_str(TREE_CHECK_ITEM_SIZE) &&
			btrfs_tree_check_reason_str((enum btrfs_tree_check_reason)99),
		   "checker: every reason has a text");
}

/* ------------------------------------------------------------------ */
/* Navigation over a tree held in the cache. */

#define FANOUT 5
#define LEAF_ITEMS 20
#define NR_LEAVES (FANOUT * FANOUT)
#define NR_ITEMS (NR_LEAVES * LEAF_ITEMS)
#define TREE_BASE (1ULL << 24)

struct test_tree {
	struct btrfs_fs_info fs_info;
	struct btrfs_root root;
	struct btrfs_key keys[NR_ITEMS];
	u64 leaf_bytenr[NR_LEAVES];
	u64 node_bytenr[FANOUT];
};

/* Item i: objectid 256 + i/2, alternating types 12 and 48, offset 3i. */
static void item_key(int i, struct btrfs_key *k)
{
	k->objectid = 256 + (u64)i / 2;
	k->type = (i % 2) ? BTRFS_ORPHAN_ITEM_KEY : BTRFS_INODE_REF_KEY;
	k->offset = 3 * (u64)i;
}

static void insert_block(struct test_tree *t, struct extent_buffer *eb)
{
	free_extent_buffer(eb_cache_insert(t->fs_info.eb_cache, eb));
}

static void build_leaves(struct test_tree *t)
{
	u32 sizes[LEAF_ITEMS];

	for (int i = 0; i < LEAF_ITEMS; i++)
		sizes[i] = 8;
	for (int i = 0; i < NR_ITEMS; i++)
		item_key(i, &t->keys[i]);
	for (int l = 0; l < NR_LEAVES; l++) {
		struct extent_buffer *eb;

		t->leaf_bytenr[l] = TREE_BASE + (u64)l * NODESIZE;
		eb = new_block(t->leaf_bytenr[l], 0);
		leaf_fill(eb, &t->keys[l * LEAF_ITEMS], sizes, LEAF_ITEMS);
		insert_block(t, eb);
	}
}

/* Two node levels above the leaves; the root is returned held. */
static struct extent_buffer *build_nodes(struct test_tree *t)
{
	struct extent_buffer *root = new_block(TREE_BASE - NODESIZE, 2);

	for (int n = 0; n < FANOUT; n++) {
		struct extent_buffer *eb;

		t->node_bytenr[n] = TREE_BASE + (u64)(NR_LEAVES + n) * NODESIZE;
		eb = new_block(t->node_bytenr[n], 1);
		for (int s = 0; s < FANOUT; s++) {
			int leaf = n * FANOUT + s;

			node_set_ptr(eb, s, &t->keys[leaf * LEAF_ITEMS],
				     t->leaf_bytenr[leaf]);
		}
		btrfs_set_header_nritems(eb, FANOUT);
		node_set_ptr(root, n, &t->keys[n * FANOUT * LEAF_ITEMS],
			     t->node_bytenr[n]);
		insert_block(t, eb);
	}
	btrfs_set_header_nritems(root, FANOUT);
	return root;
}

static struct test_tree *build_tree(void)
{
	struct test_tree *t = calloc(1, sizeof(*t));

	if (!t)
		abort();
	init_fs_info(&t->fs_info, 64 << 20);
	build_leaves(t);
	t->root.node = build_nodes(t);
	t->root.fs_info = &t->fs_info;
	return t;
}

static void free_tree(struct test_tree *t)
{
	free_extent_buffer(t->root.node);
	eb_cache_destroy(t->fs_info.eb_cache);
	free(t);
}

static bool path_at(struct btrfs_path *p, const struct btrfs_key *want)
{
	struct btrfs_key k;

	if (!p->nodes[0] || p->slots[0] >= (int)btrfs_header_nritems(p->nodes[0]))
		return false;
	btrfs_item_key_to_cpu(p->nodes[0], &k, p->slots[0]);
	return btrfs_comp_cpu_keys(&k, want) == 0;
}

static void test_search(struct tap *tap, struct test_tree *t)
{
	struct btrfs_path *p = btrfs_alloc_path();
	bool exact = true, between = true;

	for (int i = 0; i < NR_ITEMS; i++) {
		struct btrfs_key k = t->keys[i];

		exact = exact && btrfs_search_slot(NULL, &t->root, &k, p, 0, 0) == 0 &&
			path_at(p, &t->keys[i]) && p->nodes[2] == t->root.node;
		k.offset++;
		between = between &&
			  btrfs_search_slot_for_read(&t->root, &k, p) ==
				  (i + 1 < NR_ITEMS ? 0 : 1) &&
			  (i + 1 == NR_ITEMS || path_at(p, &t->keys[i + 1]));
	}
	tap_result(tap, exact, "search finds every key of a 3-level tree");
	tap_result(tap, between,
		   "search_slot_for_read lands on the next key, 1 past the end");
	btrfs_free_path(p);
}

static void test_search_edges(struct tap *tap, struct test_tree *t)
{
	struct btrfs_path *p = btrfs_alloc_path();
	struct btrfs_key before = { 1, 0, 0 };
	struct btrfs_key after = { -1ULL, 255, -1ULL };
	int r1 = btrfs_search_slot(NULL, &t->root, &before, p, 0, 0);
	bool first = r1 == 1 && p->slots[0] == 0 &&
		     p->nodes[0]->start == t->leaf_bytenr[0];
	int r2 = btrfs_search_slot(NULL, &t->root, &after, p, 0, 0);
	bool last = r2 == 1 && p->slots[0] == LEAF_ITEMS &&
		    p->nodes[0]->start == t->leaf_bytenr[NR_LEAVES - 1];

	tap_result(tap, first && last,
		   "search before the first / after the last key");
	p->lowest_level = 1;
	tap_result(tap, btrfs_search_slot(NULL, &t->root, &t->keys[45], p, 0, 0) == 1 &&
			!p->nodes[0] && p->nodes[1] &&
			p->nodes[1]->start == t->node_bytenr[0] && p->slots[1] == 2,
		   "search with lowest_level stops at level 1");
	p->lowest_level = 0;
	tap_result(tap, btrfs_search_slot(NULL, &t->root, &after, p, 1, 1) < 0,
		   "search with cow is refused for now");
	btrfs_free_path(p);
}

static void test_iterate(struct tap *tap, struct test_tree *t)
{
	struct btrfs_path *p = btrfs_alloc_path();
	int n = 0, ret;
	bool order = true;

	ret = btrfs_search_slot_for_read(&t->root, &t->keys[0], p);
	while (ret == 0) {
		order = order && n < NR_ITEMS && path_at(p, &t->keys[n]);
		n++;
		ret = btrfs_next_item(&t->root, p);
	}
	tap_result(tap, ret == 1 && n == NR_ITEMS && order,
		   "next_item visits every item in order, then returns 1");
	n = NR_ITEMS;
	btrfs_search_slot(NULL, &t->root, &(struct btrfs_key){ -1ULL, 255, -1ULL },
			  p, 0, 0);
	while ((ret = btrfs_previous_item(&t->root, p, 0, 0)) == 0) {
		n--;
		order = order && path_at(p, &t->keys[n]);
	}
	tap_result(tap, ret == 1 && n == 0 && order,
		   "previous_item (any type) walks back over every item");
	btrfs_free_path(p);
}

static void test_leaf_steps(struct tap *tap, struct test_tree *t)
{
	struct btrfs_path *p = btrfs_alloc_path();
	int leaves = 1;
	bool ok = true;

	btrfs_search_slot(NULL, &t->root, &t->keys[0], p, 0, 0);
	while (btrfs_next_leaf(&t->root, p) == 0) {
		ok = ok && p->slots[0] == 0 && leaves < NR_LEAVES &&
		     p->nodes[0]->start == t->leaf_bytenr[leaves];
		leaves++;
	}
	tap_result(tap, ok && leaves == NR_LEAVES, "next_leaf steps over every leaf");
	while (btrfs_prev_leaf(&t->root, p) == 0) {
		leaves--;
		ok = ok && p->slots[0] == LEAF_ITEMS - 1 &&
		     p->nodes[0]->start == t->leaf_bytenr[leaves - 1];
	}
	tap_result(tap, ok && leaves == 1,
		   "prev_leaf steps back to the last item of each leaf");
	btrfs_free_path(p);
}

static void test_previous_typed(struct tap *tap, struct test_tree *t)
{
	struct btrfs_path *p = btrfs_alloc_path();
	struct btrfs_key k = t->keys[101];	/* objectid 306, type 48 */
	int r1, r2, r3;

	/* From item 101 (objectid 306), the previous INODE_REF is item 100. */
	btrfs_search_slot(NULL, &t->root, &k, p, 0, 0);
	r1 = btrfs_previous_item(&t->root, p, 0, BTRFS_INODE_REF_KEY);
	tap_result(tap, r1 == 0 && path_at(p, &t->keys[100]),
		   "previous_item finds the previous item of a type");
	r2 = btrfs_previous_item(&t->root, p, 305, BTRFS_ORPHAN_ITEM_KEY);
	tap_result(tap, r2 == 0 && path_at(p, &t->keys[99]),
		   "previous_item crosses objectids down to min_objectid");
	r3 = btrfs_previous_item(&t->root, p, 305, BTRFS_ORPHAN_ITEM_KEY);
	tap_result(tap, r3 == 1, "previous_item stops below min_objectid");
	btrfs_free_path(p);
}

/* Walks: record the order of visits. */
struct walk_log {
	u64 bytenr[NR_LEAVES + FANOUT + 8];
	int level[NR_LEAVES + FANOUT + 8];
	int n;
	int errors;
	int last_err;
	u64 err_bytenr;
	int stop_after;
};

static int log_visit(struct extent_buffer *eb, void *ctx)
{
	struct walk_log *log = ctx;

	if (log->n < (int)ARRAY_SIZE(log->bytenr)) {
		log->bytenr[log->n] = eb->start;
		log->level[log->n] = btrfs_header_level(eb);
	}
	log->n++;
	return log->stop_after && log->n == log->stop_after ? 42 : 0;
}

static void log_error(u64 bytenr, int err, void *ctx)
{
	struct walk_log *log = ctx;

	log->errors++;
	log->last_err = err;
	log->err_bytenr = bytenr;
}

static const struct btrfs_tree_walk_ops log_ops = { log_visit, log_error };

/* Every leaf appears exactly once, after its parent, in key order. */
static bool dfs_order_ok(const struct test_tree *t, const struct walk_log *log)
{
	int leaf = 0, node = 0;

	for (int i = 1; i < log->n; i++) {
		if (log->level[i] == 1 && log->bytenr[i] != t->node_bytenr[node++])
			return false;
		if (log->level[i] == 0 &&
		    (log->bytenr[i] != t->leaf_bytenr[leaf++] ||
		     (leaf - 1) / FANOUT != node - 1))
			return false;
	}
	return leaf == NR_LEAVES && node == FANOUT;
}

static bool levels_non_increasing(const struct walk_log *log)
{
	for (int i = 1; i < log->n; i++)
		if (log->level[i] > log->level[i - 1])
			return false;
	return true;
}

static bool all_unheld(struct test_tree *t)
{
	bool ok = t->root.node->refs == 1;

	for (int l = 0; l < NR_LEAVES; l++) {
		struct extent_buffer *eb = find_extent_buffer(t->fs_info.eb_cache,
							      t->leaf_bytenr[l],
							      NODESIZE);

		ok = ok && eb && eb->refs == 1;
		free_extent_buffer(eb);
	}
	return ok;
}

static void test_walks(struct tap *tap, struct test_tree *t)
{
	struct walk_log log = { .n = 0 };
	int ret = btrfs_walk_tree(&t->fs_info, t->root.node, false, &log_ops, &log);

	tap_result(tap, ret == 0 && log.n == 1 + FANOUT + NR_LEAVES &&
			log.errors == 0 && log.bytenr[0] == t->root.node->start &&
			dfs_order_ok(t, &log),
		   "depth-first walk: pre-order, key order, each block once");
	tap_result(tap, all_unheld(t), "walk leaves no reference behind");
	memset(&log, 0, sizeof(log));
	ret = btrfs_walk_tree(&t->fs_info, t->root.node, true, &log_ops, &log);
	tap_result(tap, ret == 0 && log.n == 1 + FANOUT + NR_LEAVES &&
			levels_non_increasing(&log) &&
			log.bytenr[1] == t->node_bytenr[0] &&
			log.bytenr[FANOUT + 1] == t->leaf_bytenr[0],
		   "breadth-first walk: level by level, each block once");
	memset(&log, 0, sizeof(log));
	log.stop_after = 4;
	ret = btrfs_walk_tree(&t->fs_info, t->root.node, false, &log_ops, &log);
	tap_result(tap, ret == 42 && log.n == 4 && all_unheld(t),
		   "a nonzero visit return stops the walk and is returned");
}

/*
 * Damage the tree: node 1 slot 1 points to leaf 0 (already seen), node 1
 * slot 2 points to node 2 (a level-1 block where a leaf belongs), node 3
 * slot 0 points to the root itself.
 */
static void damage_tree(struct test_tree *t)
{
	struct extent_buffer *n1 = find_extent_buffer(t->fs_info.eb_cache,
						      t->node_bytenr[1], NODESIZE);
	struct extent_buffer *n3 = find_extent_buffer(t->fs_info.eb_cache,
						      t->node_bytenr[3], NODESIZE);

	btrfs_set_key_ptr_blockptr(n1, btrfs_key_ptr_nr(n1, 1), t->leaf_bytenr[0]);
	btrfs_set_key_ptr_blockptr(n1, btrfs_key_ptr_nr(n1, 2), t->node_bytenr[2]);
	btrfs_set_key_ptr_blockptr(n3, btrfs_key_ptr_nr(n3, 0), t->root.node->start);
	free_extent_buffer(n1);
	free_extent_buffer(n3);
}

static void test_damaged_walks(struct tap *tap, struct test_tree *t)
{
	struct walk_log log = { .n = 0 };
	int ret;

	damage_tree(t);
	ret = btrfs_walk_tree(&t->fs_info, t->root.node, false, &log_ops, &log);
	/* Lost: leaf 6 (replaced by leaf 0), leaf 7 (replaced), leaf 15. */
	tap_result(tap, ret == 0 && log.errors == 1 && log.last_err == -EUCLEAN &&
			log.err_bytenr == t->node_bytenr[2] &&
			log.n == 1 + FANOUT + NR_LEAVES - 3,
		   "depth-first walk survives shared pointers, loops, bad levels");
	memset(&log, 0, sizeof(log));
	ret = btrfs_walk_tree(&t->fs_info, t->root.node, true, &log_ops, &log);
	tap_result(tap, ret == 0 && log.errors == 0 &&
			log.n == 1 + FANOUT + NR_LEAVES - 3,
		   "breadth-first walk visits each reachable block once");
	tap_result(tap, all_unheld(t), "damaged walks leave no reference behind");
}

static void test_single_leaf_tree(struct tap *tap)
{
	struct btrfs_fs_info fs_info;
	struct btrfs_root root = { .fs_info = &fs_info };
	struct btrfs_path *p = btrfs_alloc_path();
	struct btrfs_key k = { 256, 1, 0 };
	struct walk_log log = { .n = 0 };
	int r1, r2, r3;

	init_fs_info(&fs_info, 1 << 20);
	root.node = new_block(1 << 20, 0);	/* an empty tree */
	r1 = btrfs_search_slot(NULL, &root, &k, p, 0, 0);
	r2 = btrfs_search_slot_for_read(&root, &k, p);
	r3 = btrfs_previous_item(&root, p, 0, 0);
	tap_result(tap, r1 == 1 && r2 == 1 && r3 == 1 &&
			btrfs_walk_tree(&fs_info, root.node, true, &log_ops, &log) == 0 &&
			log.n == 1,
		   "an empty root leaf: search 1, nothing next or previous");
	btrfs_free_path(p);
	free_extent_buffer(root.node);
	eb_cache_destroy(fs_info.eb_cache);
}

int main(void)
{
	struct tap tap = { 0, 0 };
	struct btrfs_fs_info *fs_info = calloc(1, sizeof(*fs_info));
	struct test_tree *t;

	test_alloc(&tap);
	test_insert_find(&tap);
	test_bound(&tap);
	test_lru_refresh(&tap);
	test_held_not_evicted(&tap);
	test_forget_destroy(&tap);
	test_read_write(&tap);
	test_threads(&tap);
	test_comp_keys(&tap);

	fs_info->nodesize = NODESIZE;
	fs_info->sectorsize = SECTORSIZE;
	test_checker_leaf(&tap, fs_info);
	test_checker_overlap(&tap, fs_info);
	test_checker_item_size(&tap, fs_info);
	test_checker_node(&tap, fs_info);
	free(fs_info);

	t = build_tree();
	test_search(&tap, t);
	test_search_edges(&tap, t);
	test_iterate(&tap, t);
	test_leaf_steps(&tap, t);
	test_previous_typed(&tap, t);
	test_walks(&tap, t);
	test_damaged_walks(&tap, t);
	free_tree(t);
	test_single_leaf_tree(&tap);

	printf("1..%d\n", tap.count);
	return tap.failed ? 1 : 0;
}
