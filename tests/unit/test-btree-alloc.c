// SPDX-License-Identifier: GPL-2.0
/*
 * The in-memory allocator pieces of the write path, printed as TAP.
 *
 * Free space of a block group against a bitmap model (one bit per sector):
 * thousands of random adds, removes and allocations with fixed seeds; after
 * each one the free extents must be exactly the maximal free runs of the
 * bitmap (sorted, merged), free_bytes their sum, refused operations must
 * change nothing, and an allocation must return the start the model's first
 * fit (at or after the hint, then from the group start, aligned to the
 * allocation unit, with room for the empty size) finds.
 *
 * Delayed refs: merging and cancelling on a head, against hand-computed
 * expectations.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel-shared/ctree.h"
#include "kernel-shared/delayed-ref.h"
#include "kernel-shared/extent-tree.h"
#include "kernel-shared/free-space-cache.h"
#include "kernel-shared/transaction.h"

#define SECTOR 4096ULL
#define NODESIZE 16384ULL
#define BG_START (1ULL << 30)
#define BG_SECTORS 1024
#define OPS 20000

static int tap_count;
static int tap_failed;

static void ok(int cond, const char *desc, unsigned long long seed)
{
	tap_count++;
	tap_failed += !cond;
	printf("%s %d - %s (seed %llu)\n", cond ? "ok" : "not ok", tap_count,
	       desc, seed);
}

static unsigned long long rng;

static unsigned rnd(unsigned n)
{
	rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
	return n ? (unsigned)((rng >> 33) % n) : 0;
}

/* ------------------------------------------------------------------ */
/* Free space against a bitmap. */

static bool bits[BG_SECTORS];	/* true: free */

static u64 sector_addr(int i)
{
	return BG_START + (u64)i * SECTOR;
}

static bool range_is(int first, int n, bool val)
{
	for (int i = first; i < first + n; i++)
		if (bits[i] != val)
			return false;
	return true;
}

static void range_set(int first, int n, bool val)
{
	for (int i = first; i < first + n; i++)
		bits[i] = val;
}

/* The ctl equals the maximal free runs of the bitmap. */
static bool ctl_matches(const struct btrfs_block_group *bg, char *why,
			size_t len)
{
	const struct btrfs_free_space_ctl *ctl = &bg->free_space;
	size_t idx = 0;
	u64 sum = 0;

	for (int i = 0; i < BG_SECTORS;) {
		int j = i;

		if (!bits[i]) {
			i++;
			continue;
		}
		while (j < BG_SECTORS && bits[j])
			j++;
		if (idx >= ctl->nr || ctl->ents[idx].start != sector_addr(i) ||
		    ctl->ents[idx].len != (u64)(j - i) * SECTOR) {
			snprintf(why, len, "run %d..%d differs from extent %zu",
				 i, j, idx);
			return false;
		}
		sum += ctl->ents[idx].len;
		idx++;
		i = j;
	}
	if (idx != ctl->nr || sum != ctl->free_bytes) {
		snprintf(why, len, "%zu extents (model %zu), free %llu (model %llu)",
			 ctl->nr, idx, (unsigned long long)ctl->free_bytes,
			 (unsigned long long)sum);
		return false;
	}
	return true;
}

/* The model's first fit, or -1. */
static int model_fit(u64 offset, int n, int empty, int unit)
{
	for (int pass = 0; pass < 2; pass++) {
		int from = pass ? 0 : (int)((offset - BG_START) / SECTOR);

		for (int i = 0; i < BG_SECTORS;) {
			int j = i, s;

			if (!bits[i]) {
				i++;
				continue;
			}
			while (j < BG_SECTORS && bits[j])
				j++;
			s = i > from ? i : from;
			s = (s + unit - 1) / unit * unit;
			if (s < j && j - s >= n + empty)
				return s;
			i = j;
		}
		if (offset <= BG_START)
			break;
	}
	return -1;
}

static int one_op(struct btrfs_block_group *bg, int unit, char *why,
		  size_t len)
{
	unsigned r = rnd(100);
	int first = (int)rnd(BG_SECTORS);
	int n = 1 + (int)rnd(16);
	int ret;

	if (first + n > BG_SECTORS)
		n = BG_SECTORS - first;
	if (r < 35) {
		bool fine = range_is(first, n, false);

		ret = btrfs_add_free_space(bg, sector_addr(first), n * SECTOR);
		if ((ret == 0) != fine) {
			snprintf(why, len, "add %d+%d: %d", first, n, ret);
			return -1;
		}
		if (fine)
			range_set(first, n, true);
	} else if (r < 60) {
		bool fine = range_is(first, n, true);

		ret = btrfs_remove_free_space(bg, sector_addr(first),
					      n * SECTOR);
		if ((ret == 0) != fine) {
			snprintf(why, len, "remove %d+%d: %d", first, n, ret);
			return -1;
		}
		if (fine)
			range_set(first, n, false);
	} else {
		int units = 1 + (int)rnd(3);
		int empty = (int)rnd(3) * unit;
		int want = model_fit(sector_addr(first), units * unit, empty,
				     unit);
		u64 got = btrfs_find_space_for_alloc(bg, sector_addr(first),
						     (u64)units * unit * SECTOR,
						     (u64)empty * SECTOR);

		if ((want < 0 && got) ||
		    (want >= 0 && got != sector_addr(want))) {
			snprintf(why, len, "alloc %d units from %d: got %llu, "
				 "model %d", units, first,
				 (unsigned long long)got, want);
			return -1;
		}
		if (want >= 0)
			range_set(want, units * unit, false);
	}
	return ctl_matches(bg, why, len) ? 0 : -1;
}

static void test_free_space(u64 flags, int unit, unsigned long long seed)
{
	struct btrfs_fs_info fs_info = { .nodesize = NODESIZE,
					 .sectorsize = SECTOR };
	struct btrfs_block_group bg = { .fs_info = &fs_info,
					.start = BG_START,
					.length = BG_SECTORS * SECTOR,
					.flags = flags };
	char why[160] = "";
	char desc[320];
	int i, ret = 0;

	rng = seed;
	memset(bits, 0, sizeof(bits));
	for (i = 0; i < OPS && !ret; i++)
		ret = one_op(&bg, unit, why, sizeof(why));
	/* Outside the group is always refused. */
	if (!ret && (btrfs_add_free_space(&bg, BG_START - SECTOR, SECTOR) != -EINVAL ||
		     btrfs_add_free_space(&bg, BG_START + BG_SECTORS * SECTOR,
					  SECTOR) != -EINVAL)) {
		snprintf(why, sizeof(why), "a range outside the group was taken");
		ret = -1;
	}
	snprintf(desc, sizeof(desc), "free space (%s, unit %d sectors): %d "
		 "random operations match the bitmap model %s",
		 flags & BTRFS_BLOCK_GROUP_DATA ? "data" :
		 flags & BTRFS_BLOCK_GROUP_SYSTEM ? "system" : "metadata", unit,
		 i, why);
	ok(ret == 0, desc, seed);
	btrfs_free_space_ctl_release(&bg.free_space);
}

/* ------------------------------------------------------------------ */
/* Delayed refs. */

static struct btrfs_delayed_ref_head *head_of(struct btrfs_trans_handle *t,
					      u64 bytenr)
{
	for (size_t i = 0; i < t->delayed_refs.nr; i++)
		if (t->delayed_refs.heads[i]->bytenr == bytenr)
			return t->delayed_refs.heads[i];
	return NULL;
}

static void test_delayed_refs(void)
{
	struct btrfs_fs_info fs_info = { .nodesize = NODESIZE };
	struct btrfs_trans_handle t = { .fs_info = &fs_info, .transid = 9 };
	struct btrfs_delayed_ref_head *h;
	bool sorted = true;
	int r1, r2;

	r1 = btrfs_add_delayed_tree_ref(&t, 1 << 20, NODESIZE, 5, 0, 0, NULL,
					1, true);
	r2 = btrfs_add_delayed_tree_ref(&t, 1 << 20, NODESIZE, 5, 0, 0, NULL,
					-1, false);
	ok(r1 == 0 && r2 == 1 && t.delayed_refs.nr == 0,
	   "delayed refs: a new block freed in its transaction cancels out and "
	   "says so", 0);

	r1 = btrfs_add_delayed_tree_ref(&t, 2 << 20, NODESIZE, 5, 0, 1, NULL,
					-1, false);
	r2 = btrfs_add_delayed_tree_ref(&t, 2 << 20, NODESIZE, 5, 0, 1, NULL,
					1, false);
	ok(r1 == 0 && r2 == 0 && t.delayed_refs.nr == 0,
	   "delayed refs: a drop and an add of the same ref cancel", 0);

	btrfs_add_delayed_tree_ref(&t, 3 << 20, NODESIZE, 5, 0, 0, NULL, 1,
				   false);
	btrfs_add_delayed_tree_ref(&t, 3 << 20, NODESIZE, 7, 0, 0, NULL, 1,
				   false);
	btrfs_add_delayed_tree_ref(&t, 3 << 20, NODESIZE, 5, 0, 0, NULL, -1,
				   false);
	btrfs_add_delayed_tree_ref(&t, 3 << 20, NODESIZE, 7, 4 << 20, 0, NULL,
				   -1, false);
	h = head_of(&t, 3 << 20);
	ok(h && h->nr_refs == 2 && h->total_ref_mod == 0 &&
	   ((h->refs[0].root == 7 && h->refs[0].parent == 0 &&
	     h->refs[0].ref_mod == 1) ||
	    (h->refs[1].root == 7 && h->refs[1].parent == 0 &&
	     h->refs[1].ref_mod == 1)),
	   "delayed refs: refs merge per (root, parent); a shared ref stays "
	   "apart", 0);

	r1 = btrfs_add_delayed_tree_ref(&t, 3 << 20, NODESIZE, 9, 0, 0, NULL,
					1, true);
	r2 = btrfs_add_delayed_tree_ref(&t, 3 << 20, 4096, 9, 0, 0, NULL, 1,
					false);
	ok(r1 == -EUCLEAN && r2 == -EUCLEAN,
	   "delayed refs: allocating a queued extent again or with another "
	   "size is refused", 0);

	rng = 77;
	for (int i = 0; i < 500; i++)
		btrfs_add_delayed_tree_ref(&t, (u64)(1 + rnd(300)) << 16,
					   NODESIZE, 5 + rnd(3), 0, 0, NULL,
					   rnd(2) ? 1 : -1, false);
	for (size_t i = 1; i < t.delayed_refs.nr; i++)
		if (t.delayed_refs.heads[i - 1]->bytenr >=
		    t.delayed_refs.heads[i]->bytenr)
			sorted = false;
	for (size_t i = 0; i < t.delayed_refs.nr; i++) {
		int sum = 0;

		h = t.delayed_refs.heads[i];
		for (int j = 0; j < h->nr_refs; j++)
			sum += h->refs[j].ref_mod;
		if (sum != h->total_ref_mod || h->nr_refs == 0)
			sorted = false;
	}
	ok(sorted, "delayed refs: 500 random changes keep one head per extent, "
	   "sorted, with consistent totals", 77);
	btrfs_delayed_refs_release(&t.delayed_refs);
}

int main(void)
{
	printf("1..8\n");
	test_free_space(BTRFS_BLOCK_GROUP_METADATA, NODESIZE / SECTOR, 1);
	test_free_space(BTRFS_BLOCK_GROUP_DATA, 1, 2);
	test_free_space(BTRFS_BLOCK_GROUP_SYSTEM, NODESIZE / SECTOR, 3);
	test_delayed_refs();
	return tap_failed ? 1 : 0;
}
