// SPDX-License-Identifier: GPL-2.0
/*
 * btrfs check pass 5 without free-space tree: the v1 space cache.
 *
 * Each block group may have a cache: a header item (FREE_SPACE, 0, group
 * start) in the root tree naming a NODATASUM inode of the root tree whose
 * data is a list of pages.  Page 0 starts with one crc32c per page (page
 * 0's covering the page after that array, the others the whole page) and
 * the cache generation; then come 17-byte entries (offset, bytes, type)
 * that never cross a page, and after the page of the last entry one page
 * per bitmap entry, one bit per sector from the entry's offset.
 *
 * The kernel loads a cache only when the superblock's cache_generation is
 * the filesystem generation, the inode's generation is the header's, every
 * page it reads has a good crc and page 0 carries the header's generation;
 * otherwise it silently rebuilds the cache.  Such a cache gets a warning
 * here, not a finding.  The kernel also discards a cache whose ranges do
 * not add up to the free bytes of the group (length - used - superblock
 * copies).  When they add up to less, so does the check (a warning, as the
 * reference check does); when they add up to more, or to the same but
 * elsewhere, the ranges are compared: the cache must list as free exactly
 * the gaps between the extent items of its block group minus the
 * superblock copies (which the kernel never counts as free), and each
 * range where the two differ is one finding, as the kernel would allocate
 * from space in use were it to trust the cache.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "common/csum.h"
#include "cmds/check/check.h"
#include "kernel-shared/disk-io.h"
#include "kernel-shared/file-item.h"
#include "kernel-shared/inode.h"
#include "kernel-shared/volumes.h"

#define CACHE_S_IFMT	0170000
#define CACHE_S_IFREG	0100000
/* the kernel's PAGE_SIZE on the machines that write almost all caches */
#define CACHE_PAGE	4096U
#define ENTRY_SIZE	17U
#define CACHE_U64_MAX	((u64)-1)
#define SZ_256M		(256ULL << 20)
/* differences reported per block group before summing up the rest */
#define MAX_DIFFS	10

struct v1_cache {
	struct check_ctx *ctx;
	struct btrfs_key hkey;		/* the header item's key */
	u64 bg_start, bg_end;
	u64 ino;
	u64 gen;			/* header generation */
	u64 nr_entries, nr_bitmaps;
	u32 page;			/* page size of the cache's writer */
	u32 nr_pages;
	u8 *buf;			/* nr_pages pages */
	u64 buf_len;
	u8 *page_ok;			/* per page: 0 unchecked, 1 good, 2 bad */
	struct check_ranges found;	/* recorded free ranges, sorted */
	u64 total;			/* bytes of all recorded ranges */
	bool total_overflow;
	u64 *bitmaps;			/* offsets of the bitmap entries */
	u64 nr_bitmap_entries;
};

/* A cache the kernel would not load: say so, it is no damage. */
static void cache_skip(struct v1_cache *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void cache_skip(struct v1_cache *c, const char *fmt, ...)
{
	va_list ap;

	if (c->ctx->flags & CHECK_F_QUIET)
		return;
	fflush(c->ctx->out);
	fprintf(c->ctx->err, "WARNING: space cache of block group %llu: ",
		(unsigned long long)c->bg_start);
	va_start(ap, fmt);
	vfprintf(c->ctx->err, fmt, ap);
	va_end(ap);
	fprintf(c->ctx->err, "; the kernel will rebuild it\n");
}

/* ------------------------------------------------------------------ */
/* Reading the cache file. */

struct read_ctx {
	struct v1_cache *c;
	int err;
	const char *why;
};

static int read_extent(const struct btrfs_file_extent *fe, void *data)
{
	struct read_ctx *r = data;
	struct v1_cache *c = r->c;
	u32 sectorsize = c->ctx->fs_info->sectorsize;
	struct btrfs_data_read_result res;
	u64 len;

	if (fe->problem || fe->type == BTRFS_FILE_EXTENT_INLINE ||
	    fe->compression || fe->encryption || fe->other_encoding) {
		r->why = "its file has an inline, compressed or bad extent";
		return 1;
	}
	if (fe->file_offset >= c->buf_len)
		return 1;
	/* holes and preallocated space read as zeros, as the buffer is */
	if (fe->type == BTRFS_FILE_EXTENT_PREALLOC || fe->disk_bytenr == 0)
		return 0;
	if (!IS_ALIGNED(fe->file_offset, sectorsize) ||
	    !IS_ALIGNED(fe->disk_bytenr + fe->offset, sectorsize) ||
	    !IS_ALIGNED(fe->num_bytes, sectorsize)) {
		r->why = "its file has an unaligned extent";
		return 1;
	}
	len = min_t(u64, fe->num_bytes, c->buf_len - fe->file_offset);
	r->err = btrfs_read_data_verified(c->ctx->fs_info,
					  fe->disk_bytenr + fe->offset, len,
					  c->buf + fe->file_offset, NULL, NULL,
					  &res);
	if (r->err) {
		r->why = "its data cannot be read";
		return 1;
	}
	return 0;
}

/* Read the cache file into c->buf.  0, or 1 after a warning, or <0. */
static int read_cache_file(struct v1_cache *c, u64 size)
{
	struct read_ctx r = { .c = c };
	u32 sectorsize = c->ctx->fs_info->sectorsize;
	int ret;

	c->buf_len = round_up(size, (u64)max_t(u32, sectorsize, CACHE_PAGE));
	c->buf = calloc(1, c->buf_len);
	c->page_ok = calloc(c->buf_len / CACHE_PAGE, 1);
	if (!c->buf || !c->page_ok)
		return -ENOMEM;
	ret = btrfs_iterate_file_extents(c->ctx->fs_info->tree_root, c->ino, 0,
					 read_extent, &r, NULL, NULL);
	if (r.err == -ENOMEM || ret == -ENOMEM)
		return -ENOMEM;
	if (r.why || ret < 0) {
		cache_skip(c, "inode %llu: %s", (unsigned long long)c->ino,
			   r.why ? r.why : "its file extents cannot be read");
		return 1;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Pages and entries. */

static u32 page_crc(const struct v1_cache *c, u32 index)
{
	const u8 *p = c->buf + (u64)index * c->page;
	u32 skip = index == 0 ? c->nr_pages * 4 : 0;

	return ~btrfs_crc32c(~0U, p + skip, c->page - skip);
}

static bool page_good(struct v1_cache *c, u32 index)
{
	if (!c->page_ok[index])
		c->page_ok[index] = page_crc(c, index) ==
				    get_unaligned_le32(c->buf + index * 4) ?
					    1 : 2;
	return c->page_ok[index] == 1;
}

/*
 * Find the page size the cache was written with: the kernel's PAGE_SIZE,
 * 4KiB on most machines, else (64KiB page machines) often the sector size.
 * Sets c->page and c->nr_pages.  false when no size gives page 0 a good crc.
 */
static bool pick_page_size(struct v1_cache *c, u64 size)
{
	u32 sizes[] = { CACHE_PAGE, c->ctx->fs_info->sectorsize, 65536 };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		u64 n = (size + sizes[i] - 1) / sizes[i];

		if (i && sizes[i] == sizes[i - 1])
			continue;
		if (n == 0 || n * 4 + 8 + ENTRY_SIZE > sizes[i] ||
		    n * sizes[i] > c->buf_len)
			continue;
		c->page = sizes[i];
		c->nr_pages = (u32)n;
		if (page_crc(c, 0) == get_unaligned_le32(c->buf)) {
			memset(c->page_ok, 0, c->buf_len / CACHE_PAGE);
			c->page_ok[0] = 1;
			return true;
		}
	}
	return false;
}

static int add_bitmap_offset(struct v1_cache *c, u64 offset)
{
	void *p;

	if (c->nr_bitmap_entries >= c->nr_pages)
		return 1;
	if (!c->bitmaps) {
		p = calloc(c->nr_pages, sizeof(*c->bitmaps));
		if (!p)
			return -ENOMEM;
		c->bitmaps = p;
	}
	c->bitmaps[c->nr_bitmap_entries++] = offset;
	return 0;
}

/* Append a recorded range; entries come in any order, sorted later. */
static int add_found(struct v1_cache *c, u64 start, u64 end)
{
	if (c->total + (end - start) < c->total)
		c->total_overflow = true;
	c->total += end - start;
	return check_ranges_append(&c->found, start, end);
}

/*
 * Read the entries as the kernel does.  Returns 0 with *@last_page the
 * page of the last entry, 1 after a warning, or <0.
 */
static int read_entries(struct v1_cache *c, u32 *last_page)
{
	u64 pos = (u64)c->nr_pages * 4 + 8;
	u32 pg = 0;
	u64 n;
	int ret;

	for (n = 0; n < c->nr_entries; n++) {
		const u8 *e = c->buf + pos;
		u64 off = get_unaligned_le64(e);
		u64 bytes = get_unaligned_le64(e + 8);
		u8 type = e[16];

		if (!page_good(c, pg)) {
			cache_skip(c, "page %u has a bad checksum", pg);
			return 1;
		}
		*last_page = pg;
		if (bytes == 0 || off + bytes < off) {
			cache_skip(c, "entry %llu has a bad length",
				   (unsigned long long)n);
			return 1;
		}
		if (type == BTRFS_FREE_SPACE_EXTENT)
			ret = add_found(c, off, off + bytes);
		else if (type == BTRFS_FREE_SPACE_BITMAP)
			ret = add_bitmap_offset(c, off);
		else
			ret = 2;
		if (ret < 0)
			return ret;
		if (ret) {
			cache_skip(c, "entry %llu has %s",
				   (unsigned long long)n,
				   ret == 2 ? "an unknown type" :
					      "more bitmaps than pages");
			return 1;
		}
		pos += ENTRY_SIZE;
		if ((u64)(pg + 1) * c->page - pos < ENTRY_SIZE) {
			pg++;
			pos = (u64)pg * c->page;
		}
		if (pg >= c->nr_pages && n + 1 < c->nr_entries) {
			cache_skip(c, "%llu entries do not fit in %u pages",
				   (unsigned long long)c->nr_entries,
				   c->nr_pages);
			return 1;
		}
	}
	return 0;
}

/* The set bits of bitmap @k as free ranges. */
static int read_bitmap(struct v1_cache *c, u64 k, u32 page)
{
	u64 unit = c->ctx->fs_info->sectorsize;
	u64 start = c->bitmaps[k];
	const u8 *bits = c->buf + (u64)page * c->page;
	u64 nbits = (u64)c->page * 8, i, run = 0;
	bool in_run = false;
	int ret = 0;

	if (start + nbits * unit < start)
		nbits = (CACHE_U64_MAX - start) / unit;
	for (i = 0; i <= nbits && !ret; i++) {
		bool set = i < nbits && ((bits[i / 8] >> (i % 8)) & 1);

		if (set && !in_run) {
			run = i;
			in_run = true;
		} else if (!set && in_run) {
			ret = add_found(c, start + run * unit,
					start + i * unit);
			in_run = false;
		}
	}
	return ret;
}

static int cmp_range(const void *a, const void *b)
{
	const struct check_range *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return 0;
}

/* A finding about the contents of the cache of @c's group. */
static struct check_finding wrong_content(const struct v1_cache *c)
{
	struct check_finding f = {
		.code = CHECK_FREE_SPACE_WRONG,
		.root = BTRFS_ROOT_TREE_OBJECTID,
		.inode = c->ino,
		.key = c->hkey,
		.bytenr = c->bg_start,
	};

	return f;
}

static void report_diff(struct v1_cache *c, u64 start, u64 end,
			const char *what, int *nr)
{
	struct check_finding f = wrong_content(c);

	if (++*nr > MAX_DIFFS)
		return;
	check_report(c->ctx, &f, "space cache of block group %llu: %llu-%llu %s",
		     (unsigned long long)c->bg_start,
		     (unsigned long long)start, (unsigned long long)end, what);
}

/* Sort the recorded ranges, report overlaps, merge touching ones. */
static void merge_found(struct v1_cache *c, int *nr_diffs)
{
	struct check_ranges *rs = &c->found;
	size_t i, out = 0;

	qsort(rs->r, rs->nr, sizeof(*rs->r), cmp_range);
	for (i = 0; i < rs->nr; i++) {
		struct check_range *last = out ? &rs->r[out - 1] : NULL;

		if (last && rs->r[i].start < last->end)
			report_diff(c, rs->r[i].start,
				    min_t(u64, rs->r[i].end, last->end),
				    "recorded free twice", nr_diffs);
		if (last && rs->r[i].start <= last->end) {
			last->end = max_t(u64, last->end, rs->r[i].end);
			continue;
		}
		rs->r[out++] = rs->r[i];
	}
	rs->nr = out;
}

/* ------------------------------------------------------------------ */
/* What the cache must say: gaps minus the superblock copies. */

static u64 data_stripes(const struct map_lookup *map)
{
	u64 p = map->type & BTRFS_BLOCK_GROUP_PROFILE_MASK;

	if (p & BTRFS_BLOCK_GROUP_RAID0)
		return (u64)map->num_stripes;
	if (p & BTRFS_BLOCK_GROUP_RAID10)
		return (u64)(map->num_stripes /
			     max_t(int, map->sub_stripes, 1));
	if (p & BTRFS_BLOCK_GROUP_RAID5)
		return (u64)map->num_stripes - 1;
	if (p & BTRFS_BLOCK_GROUP_RAID6)
		return (u64)map->num_stripes - 2;
	return 1;
}

/*
 * The logical ranges of the superblock copies in the chunk @map, as the
 * kernel's btrfs_rmap_block() and exclude_super_stripes() compute them,
 * into @ex (unsorted, up to 3 * num_stripes + 1 entries).
 */
static size_t super_ranges(const struct map_lookup *map,
			   struct check_range *ex)
{
	u64 p = map->type & BTRFS_BLOCK_GROUP_PROFILE_MASK;
	u64 ndata = data_stripes(map);
	u64 dev_len = ndata ? map->length / ndata : 0;
	u64 io_len = BTRFS_STRIPE_LEN;
	u64 end = map->start + map->length;
	u64 sub = (u64)max_t(int, map->sub_stripes, 1);
	size_t nr = 0;
	int m, i;

	if (p & BTRFS_BLOCK_GROUP_RAID56_MASK)
		io_len *= ndata;
	if (map->start < BTRFS_SUPER_INFO_OFFSET) {
		ex[nr].start = map->start;
		ex[nr++].end = min_t(u64, BTRFS_SUPER_INFO_OFFSET, end);
	}
	for (m = 0; m < BTRFS_SUPER_MIRROR_MAX; m++) {
		u64 sb = btrfs_sb_offset(m);

		for (i = 0; i < map->num_stripes; i++) {
			u64 phys = map->stripes[i].physical;
			u64 nr_stripe, logical;

			if (sb < phys || sb - phys >= dev_len)
				continue;
			nr_stripe = (sb - phys) / BTRFS_STRIPE_LEN;
			if (p & (BTRFS_BLOCK_GROUP_RAID0 |
				 BTRFS_BLOCK_GROUP_RAID10))
				nr_stripe = (nr_stripe *
						     (u64)map->num_stripes +
					     (u64)i) / sub;
			logical = map->start + nr_stripe * io_len +
				  (sb - phys) % BTRFS_STRIPE_LEN;
			if (logical >= end)
				continue;
			ex[nr].start = logical;
			ex[nr++].end = min_t(u64, logical + io_len, end);
		}
	}
	return nr;
}

/* @gaps minus the ranges of @ex, into @out. */
static int subtract(const struct check_ranges *gaps, struct check_range *ex,
		    size_t nr_ex, struct check_ranges *out)
{
	size_t g, e = 0;
	int ret = 0;

	qsort(ex, nr_ex, sizeof(*ex), cmp_range);
	for (g = 0; g < gaps->nr && !ret; g++) {
		u64 cur = gaps->r[g].start, end = gaps->r[g].end;
		size_t k;

		while (e < nr_ex && ex[e].end <= cur)
			e++;
		for (k = e; k < nr_ex && ex[k].start < end && cur < end; k++) {
			if (ex[k].start > cur)
				ret = check_ranges_add(out, cur, ex[k].start);
			if (ret)
				break;
			cur = max_t(u64, cur, ex[k].end);
		}
		if (!ret && cur < end)
			ret = check_ranges_add(out, cur, end);
	}
	return ret;
}

static u64 total_free(const struct check_ranges *rs)
{
	u64 sum = 0;
	size_t i;

	for (i = 0; i < rs->nr; i++)
		sum += rs->r[i].end - rs->r[i].start;
	return sum;
}

static int expected_free(struct v1_cache *c, const struct map_lookup *map,
			 struct check_ranges *want)
{
	struct check_ranges gaps = { 0 };
	struct check_range *ex;
	size_t nr_ex;
	int ret;

	ret = check_extent_gaps(c->ctx, c->bg_start, c->bg_end, &gaps);
	if (ret)
		return ret;
	ex = calloc((size_t)map->num_stripes * BTRFS_SUPER_MIRROR_MAX + 1,
		    sizeof(*ex));
	if (!ex) {
		free(gaps.r);
		return -ENOMEM;
	}
	nr_ex = super_ranges(map, ex);
	ret = subtract(&gaps, ex, nr_ex, want);
	free(ex);
	free(gaps.r);
	return ret;
}

static bool in_bg(const struct v1_cache *c, u64 start, u64 end)
{
	return start >= c->bg_start && end <= c->bg_end;
}

/* Report every range where @want and c->found differ. */
static void compare(struct v1_cache *c, const struct check_ranges *want,
		    int *nr_diffs)
{
	const struct check_ranges *got = &c->found;
	size_t a = 0, b = 0;
	u64 pos = 0;

	/* sweep over the boundaries of both sorted, disjoint lists */
	while (a < want->nr || b < got->nr) {
		u64 wa = CACHE_U64_MAX, gb = CACHE_U64_MAX;
		u64 we = a < want->nr ? want->r[a].end : CACHE_U64_MAX;
		u64 ge = b < got->nr ? got->r[b].end : CACHE_U64_MAX;
		u64 s, e;
		bool in_w, in_g;

		if (a < want->nr)
			wa = max_t(u64, want->r[a].start, pos);
		if (b < got->nr)
			gb = max_t(u64, got->r[b].start, pos);
		s = min_t(u64, wa, gb);
		in_w = a < want->nr && wa <= s;
		in_g = b < got->nr && gb <= s;

		e = min_t(u64, in_w ? we : wa, in_g ? ge : gb);
		if (in_w && !in_g)
			report_diff(c, s, e, "free in the extent tree, not in the cache",
				    nr_diffs);
		else if (in_g && !in_w)
			report_diff(c, s, e, in_bg(c, s, e) ?
				    "free in the cache, used by extents or a superblock copy" :
				    "free in the cache, outside the block group",
				    nr_diffs);
		pos = e;
		if (a < want->nr && want->r[a].end <= pos)
			a++;
		if (b < got->nr && got->r[b].end <= pos)
			b++;
	}
}

/* ------------------------------------------------------------------ */
/* One cache. */

/* Parse pages, entries and bitmaps into c->found.  0, 1 (skipped), <0. */
static int load_cache(struct v1_cache *c, u64 size)
{
	u32 last_page = 0;
	u64 k;
	int ret;

	ret = read_cache_file(c, size);
	if (ret)
		return ret;
	if (!pick_page_size(c, size)) {
		cache_skip(c, "page 0 has a bad checksum");
		return 1;
	}
	if (get_unaligned_le64(c->buf + c->nr_pages * 4) != c->gen) {
		cache_skip(c, "generation %llu in its pages, %llu in its header",
			   (unsigned long long)get_unaligned_le64(
				   c->buf + c->nr_pages * 4),
			   (unsigned long long)c->gen);
		return 1;
	}
	ret = read_entries(c, &last_page);
	if (ret)
		return ret;
	for (k = 0; k < c->nr_bitmap_entries; k++) {
		u64 page = last_page + 1 + k;

		if (page >= c->nr_pages) {
			cache_skip(c, "bitmap %llu is past the end of the file",
				   (unsigned long long)k);
			return 1;
		}
		if (!page_good(c, (u32)page)) {
			cache_skip(c, "page %llu has a bad checksum",
				   (unsigned long long)page);
			return 1;
		}
		ret = read_bitmap(c, k, (u32)page);
		if (ret)
			return ret;
	}
	return 0;
}

static int verify_cache(struct v1_cache *c, u64 size)
{
	const struct map_lookup *map;
	struct check_ranges want = { 0 };
	int nr_diffs = 0;
	int ret;

	map = btrfs_find_chunk_map(c->ctx->fs_info, c->bg_start);
	if (!map || map->start != c->bg_start) {
		cache_skip(c, "no chunk starts there");
		return 0;
	}
	c->bg_end = map->start + map->length;
	/*
	 * The kernel sizes a cache at 16 pages per 256MiB of block group;
	 * allow that with 64KiB pages, never more (the size is untrusted).
	 */
	if (size > (map->length / SZ_256M + 1) * 16 * 65536) {
		cache_skip(c, "inode %llu is too large (%llu bytes)",
			   (unsigned long long)c->ino,
			   (unsigned long long)size);
		return 0;
	}
	ret = load_cache(c, size);
	if (ret)
		return ret < 0 ? ret : 0;
	if (c->nr_bitmap_entries != c->nr_bitmaps) {
		cache_skip(c, "header counts %llu bitmaps, entries %llu",
			   (unsigned long long)c->nr_bitmaps,
			   (unsigned long long)c->nr_bitmap_entries);
		return 0;
	}
	ret = expected_free(c, map, &want);
	if (ret == 0 && !c->total_overflow && c->total < total_free(&want)) {
		/* the kernel's own sanity check: it discards the cache */
		cache_skip(c, "it records %llu bytes free, the extent tree leaves %llu",
			   (unsigned long long)c->total,
			   (unsigned long long)total_free(&want));
	} else if (ret == 0) {
		merge_found(c, &nr_diffs);
		compare(c, &want, &nr_diffs);
	}
	free(want.r);
	if (nr_diffs > MAX_DIFFS) {
		struct check_finding f = wrong_content(c);

		check_report(c->ctx, &f,
			     "space cache of block group %llu: %d more differences",
			     (unsigned long long)c->bg_start,
			     nr_diffs - MAX_DIFFS);
	}
	return ret;
}

/* A cache inode is a regular file, as the kernel creates it (0100600). */
static bool cache_inode_mode_ok(struct v1_cache *c,
				const struct btrfs_inode_item *ii)
{
	u32 mode = btrfs_stack_inode_mode(ii);
	struct check_finding f = {
		.code = CHECK_INODE_MODE,
		.root = BTRFS_ROOT_TREE_OBJECTID,
		.inode = c->ino,
		.key = { c->ino, BTRFS_INODE_ITEM_KEY, 0 },
		.bytenr = c->bg_start,
		.has_values = true,
		.expected = CACHE_S_IFREG | 0600,
		.found = mode,
	};

	if ((mode & CACHE_S_IFMT) == CACHE_S_IFREG)
		return true;
	check_report(c->ctx, &f,
		     "space cache inode is not a regular file (mode 0%o)", mode);
	return false;
}

static int check_one_cache(struct v1_cache *c, bool contents)
{
	struct btrfs_inode_item ii;
	u64 size;
	int ret;

	ret = btrfs_read_inode_item(c->ctx->fs_info->tree_root, c->ino, &ii,
				    NULL, NULL);
	if (ret == -ENOMEM)
		return ret;
	if (ret) {
		cache_skip(c, "it names %s inode %llu",
			   ret == -ENOENT ? "missing" : "unreadable",
			   (unsigned long long)c->ino);
		return 0;
	}
	if (!cache_inode_mode_ok(c, &ii) || !contents)
		return 0;
	if (btrfs_stack_inode_generation(&ii) != c->gen) {
		cache_skip(c, "generation %llu, its inode %llu has %llu",
			   (unsigned long long)c->gen,
			   (unsigned long long)c->ino,
			   (unsigned long long)
				   btrfs_stack_inode_generation(&ii));
		return 0;
	}
	if (!(btrfs_stack_inode_flags(&ii) & BTRFS_INODE_NODATASUM)) {
		cache_skip(c, "inode %llu is not NODATASUM",
			   (unsigned long long)c->ino);
		return 0;
	}
	size = btrfs_stack_inode_size(&ii);
	/* empty: the kernel does not load it, nothing to compare */
	if (c->nr_entries == 0 || size == 0)
		return 0;
	return verify_cache(c, size);
}

struct header_walk {
	bool contents;		/* cache_generation matches: read caches */
	bool any;		/* a header was seen */
};

static int check_cache_header(struct check_ctx *ctx, struct extent_buffer *eb,
			      int slot, const struct btrfs_key *key, void *data)
{
	struct header_walk *w = data;
	struct btrfs_free_space_header *h;
	struct btrfs_key loc;
	struct v1_cache c = { .ctx = ctx };
	int ret;

	if (key->objectid != BTRFS_FREE_SPACE_OBJECTID)
		return key->objectid > BTRFS_FREE_SPACE_OBJECTID ?
			       CHECK_ITER_STOP : 0;
	if (key->type != 0 || btrfs_item_size(eb, slot) < sizeof(*h))
		return 0;
	w->any = true;
	h = btrfs_item_ptr(eb, slot, struct btrfs_free_space_header);
	btrfs_disk_key_to_cpu(&loc, &h->location);
	c.hkey = *key;
	c.bg_start = key->offset;
	c.ino = loc.objectid;
	c.gen = btrfs_free_space_generation(eb, h);
	c.nr_entries = btrfs_free_space_entries(eb, h);
	c.nr_bitmaps = btrfs_free_space_bitmaps(eb, h);
	if (loc.type != BTRFS_INODE_ITEM_KEY) {
		cache_skip(&c, "its header names key type %u, not an inode",
			   loc.type);
		return 0;
	}
	ret = check_one_cache(&c, w->contents);
	free(c.buf);
	free(c.page_ok);
	free(c.found.r);
	free(c.bitmaps);
	return ret;
}

int check_space_cache_v1(struct check_ctx *ctx)
{
	struct btrfs_super_block *sb = &ctx->fs_info->super_copy;
	struct btrfs_key start = { BTRFS_FREE_SPACE_OBJECTID, 0, 0 };
	struct header_walk w = { 0 };
	int ret;

	w.contents = btrfs_super_cache_generation(sb) ==
		     btrfs_super_generation(sb);
	ret = check_for_each_item(ctx, ctx->fs_info->tree_root, &start,
				  check_cache_header, &w);
	if (ret == -ENOMEM)
		check_fatal(ctx, "out of memory checking the space cache");
	else if (ret)
		check_tree_unreadable(ctx, BTRFS_ROOT_TREE_OBJECTID, ret,
				      "space cache headers");
	if (w.any && !w.contents && !(ctx->flags & CHECK_F_QUIET))
		fprintf(ctx->err,
			"WARNING: space cache generation %llu is not the filesystem generation %llu: the kernel will rebuild it, contents not checked\n",
			(unsigned long long)btrfs_super_cache_generation(sb),
			(unsigned long long)btrfs_super_generation(sb));
	return ret;
}
