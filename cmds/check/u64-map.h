/* SPDX-License-Identifier: GPL-2.0 */
/*
 * btrfs check: an open-addressing hash map keyed by a nonzero u64, for the
 * per-object records of the passes (tree blocks by bytenr, directories by
 * inode number, sets of bytenrs).
 *
 * Each entry is @entry_size bytes and starts with its u64 key.  In the
 * table a key of 0 marks a free slot; key 0 itself (damaged input can ask
 * for it) lives in a separate entry.  The table doubles when half full
 * (linear probing), so entries move: a pointer returned by u64_map_get()
 * stays valid only until the next u64_map_get() that adds.
 */
#ifndef BTRFS_CHECK_U64_MAP_H
#define BTRFS_CHECK_U64_MAP_H

#include <stdbool.h>
#include <stddef.h>

#include "kernel-shared/kerncompat.h"

struct u64_map {
	void *slots;		/* cap entries of entry_size bytes */
	size_t entry_size;	/* a multiple of 8, key first */
	size_t cap;		/* 0 or a power of two, 2^(64 - shift) */
	unsigned int shift;
	size_t nr;		/* entries in use in the table */
	void *zero;		/* the entry of key 0, or NULL */
};

/*
 * An empty map of entries of @entry_size bytes (nothing allocated yet);
 * entries are laid out 8-byte aligned, @entry_size rounded up to that.
 */
void u64_map_init(struct u64_map *m, size_t entry_size);

/*
 * The entry of @key, added with its other bytes zeroed when new
 * (*@added then true, when @added is not NULL).  NULL without memory.
 */
void *u64_map_get(struct u64_map *m, u64 key, bool *added);

/* The entry of @key, or NULL. */
void *u64_map_find(const struct u64_map *m, u64 key);

/*
 * Iterate: start with *@pos = 0; returns the next entry in table order, or
 * NULL at the end.  The map must not change during the iteration.
 */
void *u64_map_next(const struct u64_map *m, size_t *pos);

/* Free the table; the map is empty (and reusable) afterwards. */
void u64_map_free(struct u64_map *m);

#endif
