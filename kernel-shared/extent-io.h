/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Extent buffers: in-memory copies of tree blocks, and the bounded cache
 * that holds them.
 *
 * Unlike the kernel, whose tree blocks live in pages, an extent buffer here
 * is one contiguous allocation of eb->len bytes, so item pointers into
 * eb->data are plain pointers.  The generated accessors (format.h) still take
 * the extent buffer and refuse to read outside it.
 *
 * Invariants:
 * - an extent buffer found in the cache is fully read and verified (the
 *   checksum and the tree checker passed), unless EXTENT_BUFFER_UNCHECKED is
 *   set (only -b style raw reads of a damaged block do that);
 * - refs counts the holders; the cache itself holds no reference, an
 *   unreferenced buffer stays cached until evicted by the memory bound;
 * - all cache operations are safe from several threads at once; the data of
 *   a cached buffer is never modified by the read path;
 * - the write path (one writer) modifies only buffers it allocated for
 *   blocks of the running transaction (EXTENT_BUFFER_DIRTY, put in the cache
 *   with eb_cache_replace); a committed block's buffer is never written to,
 *   a COW makes a new buffer at a new address.
 */
#ifndef BTRFS_EXTENT_IO_H
#define BTRFS_EXTENT_IO_H

#include "kernel-shared/kerncompat.h"

struct extent_buffer_cache;

#define EXTENT_BUFFER_UPTODATE (1U << 0)
#define EXTENT_BUFFER_DIRTY (1U << 1)
#define EXTENT_BUFFER_UNCHECKED (1U << 2)

struct extent_buffer {
	u64 start;		/* logical address of the block */
	u32 len;		/* bytes in data[]: the node size */
	u32 flags;		/* EXTENT_BUFFER_* */
	int refs;		/* holders; updated atomically */
	int read_mirror;	/* mirror number the data came from, 1-based */
	/* Cache linkage, private to extent-io.c. */
	struct extent_buffer_cache *cache;
	struct extent_buffer *hash_next;
	struct extent_buffer *lru_prev;
	struct extent_buffer *lru_next;
	u8 data[];
};

static inline const u8 *eb_data_start(const struct extent_buffer *eb)
{
	return eb->data;
}

static inline size_t eb_data_len(const struct extent_buffer *eb)
{
	return eb->len;
}

/*
 * Create a cache that keeps at most @max_bytes of unreferenced buffers
 * (referenced buffers are never evicted, so the total can exceed it while
 * callers hold many).  Returns NULL on allocation failure.
 */
struct extent_buffer_cache *eb_cache_create(size_t max_bytes);

/* Free every buffer; all references must have been dropped. */
void eb_cache_destroy(struct extent_buffer_cache *cache);

/*
 * Allocate a new buffer of @len bytes for logical address @start, zeroed,
 * with one reference, not yet in any cache.  NULL on allocation failure.
 */
struct extent_buffer *alloc_extent_buffer(u64 start, u32 len);

/* Take a reference on a buffer the caller already holds. */
struct extent_buffer *extent_buffer_get(struct extent_buffer *eb);

/*
 * Drop a reference.  A cached buffer stays in the cache; an uncached one is
 * freed at the last reference.  NULL and error pointers are ignored.
 */
void free_extent_buffer(struct extent_buffer *eb);

/*
 * Look up @start of length @len in the cache.  Returns the buffer with a new
 * reference, or NULL when it is not cached.
 */
struct extent_buffer *find_extent_buffer(struct extent_buffer_cache *cache,
					 u64 start, u32 len);

/*
 * Insert a verified buffer (holding the caller's reference).  If another
 * thread inserted the same block first, the caller's buffer is released and
 * the cached one is returned with a reference; otherwise @eb is returned.
 * May evict unreferenced buffers to respect the bound.
 */
struct extent_buffer *eb_cache_insert(struct extent_buffer_cache *cache,
				      struct extent_buffer *eb);

/*
 * Write path: make @eb (a new buffer for a freshly allocated block, holding
 * the caller's reference) the cached copy of its start.  A stale buffer of
 * the same start (a block freed and allocated again) is removed from the
 * cache; if somebody still holds it, it stays valid for them, detached.
 * Returns @eb.
 */
struct extent_buffer *eb_cache_replace(struct extent_buffer_cache *cache,
				       struct extent_buffer *eb);

/* Dirty state of a buffer (write path, one writer per filesystem). */
static inline bool extent_buffer_dirty(const struct extent_buffer *eb)
{
	return (eb->flags & EXTENT_BUFFER_DIRTY) != 0;
}

static inline void set_extent_buffer_dirty(struct extent_buffer *eb)
{
	eb->flags |= EXTENT_BUFFER_DIRTY;
}

static inline void clear_extent_buffer_dirty(struct extent_buffer *eb)
{
	eb->flags &= ~EXTENT_BUFFER_DIRTY;
}

/*
 * Move @len bytes inside a buffer (overlap allowed) / zero a range.  A range
 * outside the buffer does nothing and returns -EUCLEAN; 0 on success.
 */
int memmove_extent_buffer(struct extent_buffer *eb, unsigned long dst,
			  unsigned long src, unsigned long len);
int memzero_extent_buffer(struct extent_buffer *eb, unsigned long start,
			  unsigned long len);

/* Drop @start from the cache if present and unreferenced (after a repair). */
void eb_cache_forget(struct extent_buffer_cache *cache, u64 start);

/* Counters for tests and benchmarks. */
struct eb_cache_stats {
	u64 hits;
	u64 misses;
	u64 evictions;
	size_t cached_bytes;
	size_t nr_cached;
};
void eb_cache_get_stats(struct extent_buffer_cache *cache,
			struct eb_cache_stats *stats);

/*
 * Copy bytes out of / into a buffer.  A range outside the buffer copies
 * nothing and returns -EUCLEAN; 0 on success.
 */
int read_extent_buffer(const struct extent_buffer *eb, void *dst,
		       unsigned long start, unsigned long len);
int write_extent_buffer(struct extent_buffer *eb, const void *src,
			unsigned long start, unsigned long len);

#endif
