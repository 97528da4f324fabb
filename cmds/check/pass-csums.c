// SPDX-License-Identifier: GPL-2.0
/*
 * Pass 7: data checksums against the data extents.
 *
 * 1. The csum tree is read in order into a sorted array of covered runs
 *    (contiguous csum items merge into one run, so memory grows with the
 *    number of discontiguous runs, at most one per data extent).  Items
 *    must be well formed and must not overlap.  With --check-data-csum
 *    every covered sector is read from every copy and verified here.
 * 2. The data extents of the extent tree, streamed in order against the
 *    runs: a csum outside every data extent is reported.  Extents that only
 *    a log tree references (fsynced data the kernel adds to the extent
 *    tree when it replays the log) count as data extents here.
 * 3. Every file extent of every fs tree that needs checksums (a regular,
 *    not preallocated, not inline extent of an inode without NODATASUM)
 *    must have one for each sector it uses: the whole on-disk extent when
 *    compressed, otherwise the part it references (the kernel checksums
 *    only what was written into a preallocated extent).  An extent of a
 *    NODATASUM inode must have none.  A block shared by several trees
 *    (snapshots) is read once.
 */
#include <stdlib.h>

#include "common/array.h"
#include "common/csum.h"
#include "cmds/check/check.h"
#include "cmds/check/tree-walk.h"
#include "cmds/check/u64-map.h"
#include "kernel-shared/disk-io.h"
#include "kernel-shared/extent-io.h"
#include "kernel-shared/volumes.h"

struct run {
	u64 start;
	u64 end;
};

/*
 * Step 3 reads a block shared by several trees once: for each block done,
 * the inode context at its end (last inode number, its flags) so that a
 * walk that skips it can go on after it.  Open addressing on bytenr.
 */
struct blk_state {
	u64 bytenr;		/* 0: free slot */
	u64 ino;
	u64 flags;
	bool known;
	bool done;
};

struct csum_state {
	struct check_ctx *ctx;
	struct btrfs_fs_info *fs_info;
	struct run *runs;
	size_t nr_runs, runs_cap;
	u64 prev_end;		/* end of the previous csum item */
	bool alloc_failed;
	u8 *buf;		/* --check-data-csum read buffer */
	/* step 2 cursor */
	size_t ri;
	u64 pos;
	struct run *log_ext;	/* extents of log trees, sorted */
	size_t nr_log, log_cap, log_i;
	/* step 3 */
	u64 root_id;
	u64 cur_ino;
	bool cur_known;
	u64 cur_flags;
	struct u64_map blocks;	/* of struct blk_state */
};

#define VERIFY_SECTORS 64

static void add_run(struct csum_state *st, u64 start, u64 end)
{
	struct run *last = st->nr_runs ? &st->runs[st->nr_runs - 1] : NULL;

	if (last && start <= last->end) {
		if (end > last->end)
			last->end = end;
		return;
	}
	if (array_reserve(st->runs, st->runs_cap, st->nr_runs + 1, 256)) {
		st->alloc_failed = true;
		return;
	}
	st->runs[st->nr_runs].start = start;
	st->runs[st->nr_runs].end = end;
	st->nr_runs++;
}

static void hex(char *out, const u8 *b, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", b[i]);
}

/* --check-data-csum: @nr sectors at @logical against the item's csums. */
static void verify_data(struct csum_state *st, struct extent_buffer *eb,
			unsigned long csum_off, u64 logical, u32 nr,
			const struct btrfs_key *key)
{
	struct btrfs_fs_info *fs_info = st->fs_info;
	u32 ss = fs_info->sectorsize, cs = fs_info->csum_size;
	int copies = btrfs_num_copies(fs_info, logical);
	int mirror;

	for (mirror = 1; mirror <= copies; mirror++) {
		struct check_finding f = {
			.code = CHECK_CSUM_DATA,
			.root = BTRFS_CSUM_TREE_OBJECTID,
			.key = *key,
		};
		int ret;
		u32 i;

		/* past the end of a short device: one finding at the end */
		if (check_logical_past_end(st->ctx, logical, (u64)nr * ss,
					   mirror)) {
			st->ctx->data_past_end += (u64)nr * ss;
			continue;
		}
		ret = read_data_from_disk(fs_info, st->buf, logical,
					  (u64)nr * ss, mirror);
		if (ret == -EOPNOTSUPP && mirror > 1)
			break;	/* raid5/6 rebuild copies */
		if (ret == -ENODEV)
			continue;	/* a missing device, said in pass 2 */
		if (ret) {
			f.bytenr = logical;
			check_report(st->ctx, &f,
				     "cannot read data [%llu, %llu) mirror %d: %s",
				     (unsigned long long)logical,
				     (unsigned long long)(logical +
							  (u64)nr * ss),
				     mirror, strerror(-ret));
			continue;
		}
		for (i = 0; i < nr; i++) {
			u8 want[BTRFS_CSUM_SIZE] = { 0 };
			u8 got[BTRFS_CSUM_SIZE];
			char ws[2 * BTRFS_CSUM_SIZE + 1];
			char gs[2 * BTRFS_CSUM_SIZE + 1];

			read_extent_buffer(eb, want,
					   csum_off + (unsigned long)i * cs,
					   cs);
			btrfs_csum_data(fs_info->csum_type,
					st->buf + (size_t)i * ss, ss, got);
			if (!memcmp(want, got, cs))
				continue;
			hex(ws, want, cs);
			hex(gs, got, cs);
			f.bytenr = logical + (u64)i * ss;
			check_report(st->ctx, &f,
				     "data checksum mismatch at %llu mirror %d: csum 0x%s expected 0x%s",
				     (unsigned long long)f.bytenr, mirror,
				     gs, ws);
		}
	}
}

static int csum_leaf(struct extent_buffer *eb, void *arg)
{
	struct csum_state *st = arg;
	struct btrfs_fs_info *fs_info = st->fs_info;
	u32 ss = fs_info->sectorsize, cs = fs_info->csum_size;
	int nr, slot;

	if (btrfs_header_level(eb) != 0)
		return 0;
	nr = (int)btrfs_header_nritems(eb);
	check_progress_add(st->ctx, (u64)nr);
	for (slot = 0; slot < nr; slot++) {
		struct btrfs_key key;
		u32 size = btrfs_item_size(eb, slot);
		struct check_finding f = {
			.code = CHECK_CSUM_OVERLAP,
			.root = BTRFS_CSUM_TREE_OBJECTID,
		};
		u64 end;

		btrfs_item_key_to_cpu(eb, &key, slot);
		f.key = key;
		f.bytenr = key.offset;
		if (key.objectid != BTRFS_EXTENT_CSUM_OBJECTID ||
		    key.type != BTRFS_EXTENT_CSUM_KEY) {
			check_report(st->ctx, &f,
				     "unexpected item in csum tree");
			continue;
		}
		st->ctx->stats.total_csum_bytes += size;
		if (size == 0 || size % cs || !IS_ALIGNED(key.offset, ss)) {
			check_report(st->ctx, &f,
				     "csum item size %u or start not aligned",
				     size);
			continue;
		}
		end = key.offset + (u64)(size / cs) * ss;
		if (end < key.offset) {
			check_report(st->ctx, &f, "csum item range overflows");
			continue;
		}
		if (key.offset < st->prev_end)
			check_report(st->ctx, &f,
				     "csum item [%llu, %llu) overlaps the previous one ending at %llu",
				     (unsigned long long)key.offset,
				     (unsigned long long)end,
				     (unsigned long long)st->prev_end);
		if (end > st->prev_end)
			st->prev_end = end;
		add_run(st, key.offset, end);
		if (st->buf) {
			unsigned long off = btrfs_item_ptr_offset(eb, slot);
			u32 n = size / cs, i;

			for (i = 0; i < n; i += VERIFY_SECTORS) {
				u32 c = n - i < VERIFY_SECTORS ?
						n - i : VERIFY_SECTORS;

				verify_data(st, eb, off + (unsigned long)i * cs,
					    key.offset + (u64)i * ss, c, &key);
			}
		}
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Step 2: csums outside data extents. */

static void report_extra(struct csum_state *st, u64 start, u64 end)
{
	struct check_finding f = {
		.code = CHECK_CSUM_EXTRA,
		.root = BTRFS_CSUM_TREE_OBJECTID,
		.bytenr = start,
	};

	check_report(st->ctx, &f,
		     "csums for [%llu, %llu) (%llu bytes) outside any data extent",
		     (unsigned long long)start, (unsigned long long)end,
		     (unsigned long long)(end - start));
}

static void data_extent(struct csum_state *st, u64 s, u64 e)
{
	while (st->ri < st->nr_runs) {
		struct run *r = &st->runs[st->ri];
		u64 a = r->start > st->pos ? r->start : st->pos;
		u64 b;

		if (a >= r->end) {
			st->ri++;
			continue;
		}
		if (a >= s)
			break;
		b = r->end < s ? r->end : s;
		report_extra(st, a, b);
		st->pos = b;
	}
	if (e > st->pos)
		st->pos = e;
}

/* Feed the log tree extents that start before @before. */
static void feed_log(struct csum_state *st, u64 before)
{
	while (st->log_i < st->nr_log &&
	       st->log_ext[st->log_i].start < before) {
		data_extent(st, st->log_ext[st->log_i].start,
			    st->log_ext[st->log_i].end);
		st->log_i++;
	}
}

static int extent_leaf(struct extent_buffer *eb, void *arg)
{
	struct csum_state *st = arg;
	int nr, slot;

	if (btrfs_header_level(eb) != 0)
		return 0;
	nr = (int)btrfs_header_nritems(eb);
	for (slot = 0; slot < nr; slot++) {
		struct btrfs_key key;
		struct btrfs_extent_item *ei;

		btrfs_item_key_to_cpu(eb, &key, slot);
		if (key.type != BTRFS_EXTENT_ITEM_KEY ||
		    btrfs_item_size(eb, slot) < sizeof(*ei))
			continue;
		ei = btrfs_item_ptr(eb, slot, struct btrfs_extent_item);
		if (!(btrfs_extent_flags(eb, ei) & BTRFS_EXTENT_FLAG_DATA))
			continue;
		if (key.objectid + key.offset < key.objectid)
			continue;
		feed_log(st, key.objectid);
		data_extent(st, key.objectid, key.objectid + key.offset);
	}
	return 0;
}

static int log_leaf(struct extent_buffer *eb, void *arg)
{
	struct csum_state *st = arg;
	int nr, slot;

	if (btrfs_header_level(eb) != 0)
		return 0;
	nr = (int)btrfs_header_nritems(eb);
	for (slot = 0; slot < nr; slot++) {
		struct btrfs_file_extent_item *fi;
		struct btrfs_key key;
		u64 bytenr, len;

		btrfs_item_key_to_cpu(eb, &key, slot);
		if (key.type != BTRFS_EXTENT_DATA_KEY ||
		    btrfs_item_size(eb, slot) != sizeof(*fi))
			continue;
		fi = btrfs_item_ptr(eb, slot, struct btrfs_file_extent_item);
		if (btrfs_file_extent_type(eb, fi) == BTRFS_FILE_EXTENT_INLINE)
			continue;
		bytenr = btrfs_file_extent_disk_bytenr(eb, fi);
		len = btrfs_file_extent_disk_num_bytes(eb, fi);
		if (!bytenr || bytenr + len < bytenr)
			continue;
		if (array_reserve(st->log_ext, st->log_cap, st->nr_log + 1, 64)) {
			st->alloc_failed = true;
			return -ENOMEM;
		}
		st->log_ext[st->nr_log].start = bytenr;
		st->log_ext[st->nr_log].end = bytenr + len;
		st->nr_log++;
	}
	return 0;
}

static int run_cmp(const void *a, const void *b)
{
	const struct run *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return 0;
}

static void walk_log_tree(struct extent_buffer *eb, u64 objectid, void *arg)
{
	static const struct cw_ops ops = { .block = log_leaf };
	struct csum_state *st = arg;

	(void)objectid;
	cw_walk(st->fs_info, eb, NULL, &ops, st, NULL);
}

/* The data extents the log trees reference, sorted. */
static void collect_log_extents(struct csum_state *st)
{
	cw_for_each_log_tree(st->fs_info, walk_log_tree, st);
	if (st->nr_log > 1)
		qsort(st->log_ext, st->nr_log, sizeof(*st->log_ext),
		      run_cmp);
}

/* ------------------------------------------------------------------ */
/* Step 3: file extents that need csums. */

/* The first byte of [start, end) that no run covers, or @end. */
static u64 first_uncovered(struct csum_state *st, u64 start, u64 end)
{
	size_t lo = 0, hi = st->nr_runs;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (st->runs[mid].start <= start)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0 || st->runs[lo - 1].end <= start)
		return start;
	return st->runs[lo - 1].end >= end ? end : st->runs[lo - 1].end;
}

/* The start of the first run after @pos, or -1. */
static u64 next_run_start(struct csum_state *st, u64 pos)
{
	size_t lo = 0, hi = st->nr_runs;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (st->runs[mid].start <= pos)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < st->nr_runs ? st->runs[lo].start : (u64)-1;
}

/* Does any run intersect [start, end)? */
static bool any_covered(struct csum_state *st, u64 start, u64 end)
{
	size_t lo = 0, hi = st->nr_runs;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (st->runs[mid].start < end)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo > 0 && st->runs[lo - 1].end > start;
}

/* The state of @bytenr, added (not done) when new; NULL without memory. */
static struct blk_state *blk_get(struct csum_state *st, u64 bytenr)
{
	return u64_map_get(&st->blocks, bytenr, NULL);
}

/* Continue after a block done before, as if it had been read again. */
static bool skip_done(struct csum_state *st, u64 bytenr)
{
	struct blk_state *b = blk_get(st, bytenr);

	if (!b || !b->done)
		return false;
	st->cur_ino = b->ino;
	st->cur_known = b->known;
	st->cur_flags = b->flags;
	return true;
}

static void file_extent(struct csum_state *st, struct extent_buffer *eb,
			int slot, const struct btrfs_key *key)
{
	struct btrfs_file_extent_item *fi;
	struct check_finding f = {
		.root = st->root_id,
		.inode = key->objectid,
		.key = *key,
	};
	u64 bytenr, start, end, miss;

	if (!st->cur_known ||
	    btrfs_item_size(eb, slot) != sizeof(*fi))
		return;
	fi = btrfs_item_ptr(eb, slot, struct btrfs_file_extent_item);
	if (btrfs_file_extent_type(eb, fi) != BTRFS_FILE_EXTENT_REG)
		return;
	bytenr = btrfs_file_extent_disk_bytenr(eb, fi);
	if (!bytenr)
		return;
	if (btrfs_file_extent_compression(eb, fi)) {
		start = bytenr;
		end = bytenr + btrfs_file_extent_disk_num_bytes(eb, fi);
	} else {
		start = bytenr + btrfs_file_extent_offset(eb, fi);
		end = start + btrfs_file_extent_num_bytes(eb, fi);
	}
	if (end <= start)
		return;		/* pass 6 reports the extent */
	if (st->cur_flags & BTRFS_INODE_NODATASUM) {
		if (any_covered(st, start, end)) {
			f.code = CHECK_CSUM_EXTRA;
			f.bytenr = start;
			check_report(st->ctx, &f,
				     "csums for data [%llu, %llu) of a NODATASUM inode",
				     (unsigned long long)start,
				     (unsigned long long)end);
		}
		return;
	}
	for (miss = first_uncovered(st, start, end); miss < end;) {
		u64 to = next_run_start(st, miss);

		if (to > end)
			to = end;
		f.code = CHECK_CSUM_MISSING;
		f.bytenr = miss;
		check_report(st->ctx, &f,
			     "no csum for data [%llu, %llu) of file extent at %llu",
			     (unsigned long long)miss, (unsigned long long)to,
			     (unsigned long long)bytenr);
		if (to >= end)
			break;
		miss = first_uncovered(st, to, end);
	}
}

static int fs_leaf(struct extent_buffer *eb, void *arg)
{
	struct csum_state *st = arg;
	int nr, slot;

	if (skip_done(st, eb->start))
		return 1;
	if (btrfs_header_level(eb) != 0)
		return 0;
	nr = (int)btrfs_header_nritems(eb);
	check_progress_add(st->ctx, (u64)nr);
	for (slot = 0; slot < nr; slot++) {
		struct btrfs_key key;

		btrfs_item_key_to_cpu(eb, &key, slot);
		if (key.objectid != st->cur_ino) {
			st->cur_ino = key.objectid;
			st->cur_known = false;
		}
		if (key.type == BTRFS_INODE_ITEM_KEY &&
		    btrfs_item_size(eb, slot) ==
			    sizeof(struct btrfs_inode_item)) {
			struct btrfs_inode_item *ii = btrfs_item_ptr(eb, slot,
						struct btrfs_inode_item);

			st->cur_known = true;
			st->cur_flags = btrfs_inode_flags(eb, ii);
		} else if (key.type == BTRFS_EXTENT_DATA_KEY) {
			file_extent(st, eb, slot, &key);
		}
	}
	return 0;
}

static int fs_child(struct extent_buffer *parent, int slot, void *arg)
{
	return skip_done(arg, btrfs_node_blockptr(parent, slot)) ? 1 : 0;
}

static void fs_block_end(struct extent_buffer *eb, void *arg)
{
	struct csum_state *st = arg;
	struct blk_state *b = blk_get(st, eb->start);

	if (!b)
		return;		/* no memory: read again later, slower */
	b->ino = st->cur_ino;
	b->known = st->cur_known;
	b->flags = st->cur_flags;
	b->done = true;
}

static int fs_root_item(struct extent_buffer *leaf, int slot,
			const struct btrfs_key *key, void *arg)
{
	static const struct cw_ops ops = {
		.block = fs_leaf,
		.child = fs_child,
		.block_end = fs_block_end,
	};
	struct csum_state *st = arg;
	struct btrfs_root_item *ri;
	struct extent_buffer *eb;
	struct cw_drop drop;

	if (key->objectid != BTRFS_FS_TREE_OBJECTID &&
	    key->objectid != BTRFS_DATA_RELOC_TREE_OBJECTID &&
	    (key->objectid < BTRFS_FIRST_FREE_OBJECTID ||
	     key->objectid > BTRFS_LAST_FREE_OBJECTID))
		return 0;
	ri = btrfs_item_ptr(leaf, slot, struct btrfs_root_item);
	eb = cw_read_root_item(st->fs_info, leaf, ri,
			       btrfs_item_size(leaf, slot), &drop);
	if (IS_ERR(eb))
		return 0;
	st->root_id = key->objectid;
	st->cur_ino = 0;
	st->cur_known = false;
	cw_walk(st->fs_info, eb, &drop, &ops, st, NULL);
	free_extent_buffer(eb);
	return 0;
}

int check_pass_csums(struct check_ctx *ctx)
{
	struct btrfs_fs_info *fs_info = ctx->fs_info;
	struct csum_state st = {
		.ctx = ctx,
		.fs_info = fs_info,
	};
	static const struct cw_ops csum_ops = { .block = csum_leaf };
	static const struct cw_ops extent_ops = { .block = extent_leaf };
	int ret = 0;

	u64_map_init(&st.blocks, sizeof(struct blk_state));
	if (!fs_info->csum_root || !fs_info->csum_root->node) {
		check_fatal(ctx, "csum tree unreadable, cannot check csums");
		return -EIO;
	}
	if (ctx->flags & CHECK_F_DATA_CSUM) {
		st.buf = malloc((size_t)VERIFY_SECTORS * fs_info->sectorsize);
		if (!st.buf) {
			check_fatal(ctx, "out of memory");
			return -ENOMEM;
		}
	}
	cw_walk(fs_info, fs_info->csum_root->node, NULL, &csum_ops, &st, NULL);
	if (st.alloc_failed) {
		check_fatal(ctx, "out of memory loading csum ranges");
		ret = -ENOMEM;
		goto out;
	}
	if (fs_info->extent_root && fs_info->extent_root->node) {
		collect_log_extents(&st);
		st.pos = 0;
		cw_walk(fs_info, fs_info->extent_root->node, NULL, &extent_ops,
			&st, NULL);
		feed_log(&st, (u64)-1);
		data_extent(&st, (u64)-1, (u64)-1);
	}
	cw_for_each_root_item(fs_info, fs_root_item, &st);
	if (ctx->data_past_end) {
		struct check_finding f = {
			.code = CHECK_CSUM_DATA,
			.root = BTRFS_CSUM_TREE_OBJECTID,
		};

		check_report(ctx, &f,
			     "%llu bytes of checksummed data lie past the end of a device smaller than its dev item: not verified",
			     (unsigned long long)ctx->data_past_end);
	}
out:
	free(st.buf);
	free(st.runs);
	free(st.log_ext);
	u64_map_free(&st.blocks);
	return ret;
}
