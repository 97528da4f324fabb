// SPDX-License-Identifier: GPL-2.0
/*
 * Extent buffers and their bounded cache.
 *
 * The cache is a hash table of buffers keyed by logical start, plus an LRU
 * list of the cached buffers nobody holds.  One mutex protects the table, the
 * list and the counters.  Reference counts are atomic; every transition of a
 * cached buffer between "held" (refs > 0) and "unheld" (refs == 0) happens
 * under the mutex, which is what keeps the LRU list exactly the set of unheld
 * cached buffers.  Dropping a reference that is not the last one needs no
 * lock.
 *
 * Bound: after each insertion or release, unheld buffers are evicted from the
 * cold end of the LRU until the bytes of all cached buffers fit max_bytes or
 * no unheld buffer is left.
 */
#include <pthread.h>
#include <stdlib.h>

#include "kernel-shared/extent-io.h"

#define EB_HASH_MIN_BUCKETS 256U

struct extent_buffer_cache {
	pthread_mutex_t lock;
	struct extent_buffer **buckets;
	size_t nr_buckets;		/* power of two */
	size_t max_bytes;
	size_t cached_bytes;	/* all cached buffers, held or not */
	size_t nr_cached;
	/* LRU of unheld cached buffers: head is the most recently released. */
	struct extent_buffer *lru_head;
	struct extent_buffer *lru_tail;
	u64 hits;
	u64 misses;
	u64 evictions;
};

/* ------------------------------------------------------------------ */
/* Hash table (caller holds the lock). */

static size_t eb_hash(const struct extent_buffer_cache *cache, u64 start)
{
	u64 h = (start >> 12) * 0x9E3779B97F4A7C15ULL;

	return (size_t)(h >> 32) & (cache->nr_buckets - 1);
}

static struct extent_buffer *hash_lookup(struct extent_buffer_cache *cache,
					 u64 start)
{
	struct extent_buffer *eb = cache->buckets[eb_hash(cache, start)];

	while (eb && eb->start != start)
		eb = eb->hash_next;
	return eb;
}

static void hash_add(struct extent_buffer_cache *cache,
		     struct extent_buffer *eb)
{
	size_t b = eb_hash(cache, eb->start);

	eb->hash_next = cache->buckets[b];
	cache->buckets[b] = eb;
}

static void hash_del(struct extent_buffer_cache *cache,
		     struct extent_buffer *eb)
{
	struct extent_buffer **pp = &cache->buckets[eb_hash(cache, eb->start)];

	while (*pp && *pp != eb)
		pp = &(*pp)->hash_next;
	if (*pp)
		*pp = eb->hash_next;
	eb->hash_next = NULL;
}

/* Double the bucket array when chains get long; failure just keeps it. */
static void hash_maybe_grow(struct extent_buffer_cache *cache)
{
	struct extent_buffer **old = cache->buckets;
	size_t old_nr = cache->nr_buckets;
	struct extent_buffer **new;

	if (cache->nr_cached <= old_nr * 2 || old_nr > (SIZE_MAX >> 4))
		return;
	new = calloc(old_nr * 2, sizeof(*new));
	if (!new)
		return;
	cache->buckets = new;
	cache->nr_buckets = old_nr * 2;
	for (size_t i = 0; i < old_nr; i++) {
		struct extent_buffer *eb = old[i];

		while (eb) {
			struct extent_buffer *next = eb->hash_next;

			hash_add(cache, eb);
			eb = next;
		}
	}
	free(old);
}

/* ------------------------------------------------------------------ */
/* LRU list (caller holds the lock). */

static void lru_add_head(struct extent_buffer_cache *cache,
			 struct extent_buffer *eb)
{
	eb->lru_prev = NULL;
	eb->lru_next = cache->lru_head;
	if (cache->lru_head)
		cache->lru_head->lru_prev = eb;
	else
		cache->lru_tail = eb;
	cache->lru_head = eb;
}

static void lru_del(struct extent_buffer_cache *cache, struct extent_buffer *eb)
{
	if (eb->lru_prev)
		eb->lru_prev->lru_next = eb->lru_next;
	else if (cache->lru_head == eb)
		cache->lru_head = eb->lru_next;
	if (eb->lru_next)
		eb->lru_next->lru_prev = eb->lru_prev;
	else if (cache->lru_tail == eb)
		cache->lru_tail = eb->lru_prev;
	eb->lru_prev = NULL;
	eb->lru_next = NULL;
}

/* ------------------------------------------------------------------ */
/* Cache membership (caller holds the lock). */

static void cache_unlink(struct extent_buffer_cache *cache,
			 struct extent_buffer *eb)
{
	hash_del(cache, eb);
	cache->cached_bytes -= eb->len;
	cache->nr_cached--;
	__atomic_store_n(&eb->cache, NULL, __ATOMIC_RELEASE);
}

/* Remove and free an unheld cached buffer. */
static void cache_drop_unheld(struct extent_buffer_cache *cache,
			      struct extent_buffer *eb)
{
	lru_del(cache, eb);
	cache_unlink(cache, eb);
	free(eb);
}

static void cache_evict(struct extent_buffer_cache *cache)
{
	while (cache->cached_bytes > cache->max_bytes && cache->lru_tail) {
		cache_drop_unheld(cache, cache->lru_tail);
		cache->evictions++;
	}
}

/* Take a reference on a cached buffer found under the lock. */
static void cache_grab(struct extent_buffer_cache *cache,
		       struct extent_buffer *eb)
{
	if (__atomic_fetch_add(&eb->refs, 1, __ATOMIC_ACQ_REL) == 0)
		lru_del(cache, eb);
}

/* ------------------------------------------------------------------ */
/* Public interface. */

struct extent_buffer_cache *eb_cache_create(size_t max_bytes)
{
	struct extent_buffer_cache *cache = calloc(1, sizeof(*cache));

	if (!cache)
		return NULL;
	cache->nr_buckets = EB_HASH_MIN_BUCKETS;
	cache->buckets = calloc(cache->nr_buckets, sizeof(*cache->buckets));
	if (!cache->buckets || pthread_mutex_init(&cache->lock, NULL)) {
		free(cache->buckets);
		free(cache);
		return NULL;
	}
	cache->max_bytes = max_bytes;
	return cache;
}

/*
 * Buffers still held when the cache goes away are detached instead of freed,
 * so that their holders' final free_extent_buffer() releases them safely.
 */
void eb_cache_destroy(struct extent_buffer_cache *cache)
{
	if (!cache)
		return;
	pthread_mutex_lock(&cache->lock);
	for (size_t i = 0; i < cache->nr_buckets; i++) {
		while (cache->buckets[i]) {
			struct extent_buffer *eb = cache->buckets[i];

			if (__atomic_load_n(&eb->refs, __ATOMIC_ACQUIRE) == 0)
				cache_drop_unheld(cache, eb);
			else
				cache_unlink(cache, eb);
		}
	}
	pthread_mutex_unlock(&cache->lock);
	pthread_mutex_destroy(&cache->lock);
	free(cache->buckets);
	free(cache);
}

struct extent_buffer *alloc_extent_buffer(u64 start, u32 len)
{
	struct extent_buffer *eb = calloc(1, sizeof(*eb) + len);

	if (!eb)
		return NULL;
	eb->start = start;
	eb->len = len;
	eb->refs = 1;
	return eb;
}

struct extent_buffer *extent_buffer_get(struct extent_buffer *eb)
{
	if (!IS_ERR_OR_NULL(eb))
		__atomic_fetch_add(&eb->refs, 1, __ATOMIC_ACQ_REL);
	return eb;
}

/* Drop a reference that is not the last one; false if it might be. */
static bool drop_ref_unless_last(struct extent_buffer *eb)
{
	int refs = __atomic_load_n(&eb->refs, __ATOMIC_ACQUIRE);

	while (refs > 1) {
		if (__atomic_compare_exchange_n(&eb->refs, &refs, refs - 1,
						false, __ATOMIC_ACQ_REL,
						__ATOMIC_ACQUIRE))
			return true;
	}
	return false;
}

/* The caller holds the only reference, so eb->cache cannot change under it. */
static void drop_last_ref(struct extent_buffer *eb)
{
	struct extent_buffer_cache *cache;

	cache = __atomic_load_n(&eb->cache, __ATOMIC_ACQUIRE);
	if (!cache) {
		if (__atomic_sub_fetch(&eb->refs, 1, __ATOMIC_ACQ_REL) == 0)
			free(eb);
		return;
	}
	pthread_mutex_lock(&cache->lock);
	if (__atomic_sub_fetch(&eb->refs, 1, __ATOMIC_ACQ_REL) == 0) {
		lru_add_head(cache, eb);
		cache_evict(cache);
	}
	pthread_mutex_unlock(&cache->lock);
}

void free_extent_buffer(struct extent_buffer *eb)
{
	if (IS_ERR_OR_NULL(eb))
		return;
	if (!drop_ref_unless_last(eb))
		drop_last_ref(eb);
}

struct extent_buffer *find_extent_buffer(struct extent_buffer_cache *cache,
					 u64 start, u32 len)
{
	struct extent_buffer *eb;

	if (!cache)
		return NULL;
	pthread_mutex_lock(&cache->lock);
	eb = hash_lookup(cache, start);
	if (eb && eb->len == len) {
		cache_grab(cache, eb);
		cache->hits++;
	} else {
		eb = NULL;
		cache->misses++;
	}
	pthread_mutex_unlock(&cache->lock);
	return eb;
}

/*
 * Make room for @eb's start under the lock: returns the cached buffer that
 * should be used instead (with a reference), or NULL when @eb may go in.
 * A stale unheld buffer of another length is dropped; a held one makes the
 * insertion impossible, reported as ERR_PTR(-EEXIST).
 */
static struct extent_buffer *insert_conflict(struct extent_buffer_cache *cache,
					     struct extent_buffer *eb)
{
	struct extent_buffer *old = hash_lookup(cache, eb->start);

	if (!old)
		return NULL;
	if (old->len == eb->len) {
		cache_grab(cache, old);
		return old;
	}
	if (__atomic_load_n(&old->refs, __ATOMIC_ACQUIRE) == 0) {
		cache_drop_unheld(cache, old);
		return NULL;
	}
	return ERR_PTR(-EEXIST);
}

struct extent_buffer *eb_cache_insert(struct extent_buffer_cache *cache,
				      struct extent_buffer *eb)
{
	struct extent_buffer *old;

	if (!cache || IS_ERR_OR_NULL(eb) || eb->cache)
		return eb;
	pthread_mutex_lock(&cache->lock);
	old = insert_conflict(cache, eb);
	if (!old) {
		hash_add(cache, eb);
		cache->cached_bytes += eb->len;
		cache->nr_cached++;
		__atomic_store_n(&eb->cache, cache, __ATOMIC_RELEASE);
		hash_maybe_grow(cache);
		cache_evict(cache);
	}
	pthread_mutex_unlock(&cache->lock);
	if (!old || IS_ERR(old))
		return eb;	/* inserted, or left uncached */
	free_extent_buffer(eb);
	return old;
}

struct extent_buffer *eb_cache_replace(struct extent_buffer_cache *cache,
				       struct extent_buffer *eb)
{
	struct extent_buffer *old;

	if (!cache || IS_ERR_OR_NULL(eb) || eb->cache)
		return eb;
	pthread_mutex_lock(&cache->lock);
	old = hash_lookup(cache, eb->start);
	if (old) {
		if (__atomic_load_n(&old->refs, __ATOMIC_ACQUIRE) == 0)
			cache_drop_unheld(cache, old);
		else
			cache_unlink(cache, old);
	}
	hash_add(cache, eb);
	cache->cached_bytes += eb->len;
	cache->nr_cached++;
	__atomic_store_n(&eb->cache, cache, __ATOMIC_RELEASE);
	hash_maybe_grow(cache);
	cache_evict(cache);
	pthread_mutex_unlock(&cache->lock);
	return eb;
}

void eb_cache_forget(struct extent_buffer_cache *cache, u64 start)
{
	struct extent_buffer *eb;

	if (!cache)
		return;
	pthread_mutex_lock(&cache->lock);
	eb = hash_lookup(cache, start);
	if (eb && __atomic_load_n(&eb->refs, __ATOMIC_ACQUIRE) == 0)
		cache_drop_unheld(cache, eb);
	pthread_mutex_unlock(&cache->lock);
}

void eb_cache_get_stats(struct extent_buffer_cache *cache,
			struct eb_cache_stats *stats)
{
	memset(stats, 0, sizeof(*stats));
	if (!cache)
		return;
	pthread_mutex_lock(&cache->lock);
	stats->hits = cache->hits;
	stats->misses = cache->misses;
	stats->evictions = cache->evictions;
	stats->cached_bytes = cache->cached_bytes;
	stats->nr_cached = cache->nr_cached;
	pthread_mutex_unlock(&cache->lock);
}

static bool eb_range_fits(const struct extent_buffer *eb, unsigned long start,
			  unsigned long len)
{
	return start <= eb->len && len <= eb->len - start;
}

int read_extent_buffer(const struct extent_buffer *eb, void *dst,
		       unsigned long start, unsigned long len)
{
	if (!eb_range_fits(eb, start, len))
		return -EUCLEAN;
	memcpy(dst, eb->data + start, len);
	return 0;
}

int write_extent_buffer(struct extent_buffer *eb, const void *src,
			unsigned long start, unsigned long len)
{
	if (!eb_range_fits(eb, start, len))
		return -EUCLEAN;
	memcpy(eb->data + start, src, len);
	return 0;
}

int memmove_extent_buffer(struct extent_buffer *eb, unsigned long dst,
			  unsigned long src, unsigned long len)
{
	if (!eb_range_fits(eb, dst, len) || !eb_range_fits(eb, src, len))
		return -EUCLEAN;
	memmove(eb->data + dst, eb->data + src, len);
	return 0;
}

int memzero_extent_buffer(struct extent_buffer *eb, unsigned long start,
			  unsigned long len)
{
	if (!eb_range_fits(eb, start, len))
		return -EUCLEAN;
	memset(eb->data + start, 0, len);
	return 0;
}
