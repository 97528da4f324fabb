// SPDX-License-Identifier: GPL-2.0
/*
 * btrfs check: open-addressing u64-keyed hash map (see u64-map.h).
 */
#include <stdlib.h>
#include <string.h>

#include "cmds/check/u64-map.h"

/*
 * Fibonacci hashing: the top bits of key * 2^64/phi pick the slot, which
 * spreads consecutive keys (bytenrs, inode numbers) with one multiply.
 */
static size_t slot_of(const struct u64_map *m, u64 key)
{
	return (size_t)((key * 0x9e3779b97f4a7c15ULL) >> m->shift);
}

static u8 *slot_at(const struct u64_map *m, size_t i)
{
	return (u8 *)m->slots + i * m->entry_size;
}

/* Entries are 8-byte aligned (see u64_map_init): the key loads directly. */
static u64 key_of(const u8 *entry)
{
	return *(const u64 *)entry;
}

void u64_map_init(struct u64_map *m, size_t entry_size)
{
	memset(m, 0, sizeof(*m));
	m->entry_size = round_up(max_t(size_t, entry_size, sizeof(u64)),
				 sizeof(u64));
}

/* The entry holding @key or, when it is absent, the free one for it. */
static inline __attribute__((always_inline)) u8 *probe(const struct u64_map *m, u64 key)
{
	u8 *base = m->slots;
	u8 *end = base + m->cap * m->entry_size;
	u8 *p = base + slot_of(m, key) * m->entry_size;
	u64 k;

	while ((k = key_of(p)) != 0 && k != key) {
		p += m->entry_size;
		if (p == end)
			p = base;
	}
	return p;
}

static bool grow(struct u64_map *m)
{
	struct u64_map n = *m;
	size_t i;

	n.cap = m->cap ? m->cap * 2 : 64;
	n.shift = m->cap ? m->shift - 1 : 64 - 6;
	n.slots = calloc(n.cap, m->entry_size);
	if (!n.slots)
		return false;
	for (i = 0; i < m->cap; i++) {
		const u8 *e = slot_at(m, i);

		if (key_of(e))
			memcpy(probe(&n, key_of(e)), e, m->entry_size);
	}
	free(m->slots);
	*m = n;
	return true;
}

void *u64_map_get(struct u64_map *m, u64 key, bool *added)
{
	u8 *p;

	if (added)
		*added = false;
	if (key == 0) {
		if (!m->zero) {
			m->zero = calloc(1, m->entry_size);
			if (!m->zero)
				return NULL;
			if (added)
				*added = true;
		}
		return m->zero;
	}
	if (m->nr * 2 >= m->cap && !grow(m))
		return NULL;
	p = probe(m, key);
	if (key_of(p) == 0) {
		*(u64 *)p = key;
		m->nr++;
		if (added)
			*added = true;
	}
	return p;
}

void *u64_map_find(const struct u64_map *m, u64 key)
{
	u8 *p;

	if (key == 0)
		return m->zero;
	if (!m->cap)
		return NULL;
	p = probe(m, key);
	return key_of(p) ? p : NULL;
}

void *u64_map_next(const struct u64_map *m, size_t *pos)
{
	while (*pos < m->cap) {
		size_t i = (*pos)++;

		if (key_of(slot_at(m, i)))
			return slot_at(m, i);
	}
	if (*pos == m->cap && m->zero) {
		(*pos)++;
		return m->zero;
	}
	return NULL;
}

void u64_map_free(struct u64_map *m)
{
	free(m->slots);
	free(m->zero);
	m->slots = NULL;
	m->zero = NULL;
	m->cap = 0;
	m->nr = 0;
}
