// SPDX-License-Identifier: GPL-2.0
/*
 * The u64 hash map of btrfs check (cmds/check/u64-map.c), printed as TAP.
 *
 * Random gets and finds against a model (a sorted array of the keys added,
 * each with a value derived from it): after every batch the map holds
 * exactly the model's keys, each entry keeps the bytes written into it
 * across growth, new entries come zeroed, and iteration visits every key
 * once.  Keys include 0 and values near (u64)-1.  Fixed seeds, printed on
 * failure.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmds/check/u64-map.h"

struct ent {
	u64 key;
	u64 val;
	u32 extra;
};

static int tap_count, tap_failed;

static void ok(int cond, const char *desc, unsigned int seed)
{
	tap_count++;
	if (!cond)
		tap_failed++;
	printf("%s %d - %s (seed %u)\n", cond ? "ok" : "not ok", tap_count,
	       desc, seed);
}

static u64 rnd(unsigned int *state)
{
	u64 a = (u64)rand_r(state), b = (u64)rand_r(state);

	return (a << 31) ^ b;
}

static u64 pick_key(unsigned int *state)
{
	switch (rand_r(state) % 4) {
	case 0:
		return (u64)(rand_r(state) % 64);	/* small, with 0 */
	case 1:
		/* near the top */
		return (u64)-1 - (u64)(rand_r(state) % 64);
	case 2:
		return 13631488ULL + 16384ULL * (u64)(rand_r(state) % 5000);
	default:
		return rnd(state);
	}
}

static int cmp_u64(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;

	return x < y ? -1 : x > y;
}

static bool model_has(const u64 *keys, size_t nr, u64 k)
{
	return bsearch(&k, keys, nr, sizeof(u64), cmp_u64) != NULL;
}

static void insert_sorted(u64 *keys, size_t *nr, u64 k)
{
	size_t lo = 0, hi = *nr;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (keys[mid] < k)
			lo = mid + 1;
		else
			hi = mid;
	}
	memmove(keys + lo + 1, keys + lo, (*nr - lo) * sizeof(u64));
	keys[lo] = k;
	(*nr)++;
}

static void run(unsigned int seed)
{
	unsigned int st = seed;
	u64 *keys = calloc(40000, sizeof(u64));
	struct u64_map m;
	size_t nr = 0, i, pos, seen;
	bool good_new = true, good_vals = true, good_find = true;
	struct ent *e;

	u64_map_init(&m, sizeof(struct ent));
	for (i = 0; i < 20000; i++) {
		u64 k = pick_key(&st);
		bool added;

		e = u64_map_get(&m, k, &added);
		if (!e)
			abort();
		if (added) {
			if (e->key != k || e->val || e->extra)
				good_new = false;
			e->val = k * 7 + 1;
			e->extra = (u32)k ^ 0xa5a5;
			if (model_has(keys, nr, k))
				good_new = false;
			insert_sorted(keys, &nr, k);
		} else if (!model_has(keys, nr, k) || e->val != k * 7 + 1) {
			good_new = false;
		}
	}
	for (i = 0; i < nr; i++) {
		e = u64_map_find(&m, keys[i]);
		if (!e || e->key != keys[i] || e->val != keys[i] * 7 + 1 ||
		    e->extra != ((u32)keys[i] ^ 0xa5a5))
			good_vals = false;
	}
	for (i = 0; i < 1000; i++) {
		u64 k = rnd(&st);

		if ((u64_map_find(&m, k) != NULL) != model_has(keys, nr, k))
			good_find = false;
	}
	pos = 0;
	seen = 0;
	while ((e = u64_map_next(&m, &pos))) {
		seen++;
		if (!model_has(keys, nr, e->key))
			good_find = false;
	}
	ok(good_new, "new entries zeroed, existing ones found", seed);
	ok(good_vals, "values kept across growth", seed);
	ok(good_find && seen == nr, "find and iteration match the model",
	   seed);
	u64_map_free(&m);
	ok(u64_map_find(&m, keys[0]) == NULL && m.nr == 0,
	   "empty after free", seed);
	free(keys);
}

int main(void)
{
	unsigned int seeds[] = { 1, 42, 2024 };
	size_t i;

	printf("1..%zu\n", ARRAY_SIZE(seeds) * 4);
	for (i = 0; i < ARRAY_SIZE(seeds); i++)
		run(seeds[i]);
	return tap_failed ? 1 : 0;
}
