/* SPDX-License-Identifier: GPL-2.0 */
/*
 * btrfs check: the shared state of the passes and the finding records.
 *
 * The checker is a sequence of passes (cmds/check/pass-*.c), each a
 * function `int check_pass_NAME(struct check_ctx *ctx)`. A pass reads
 * through the engine only, never trusts what it reads, and reports every
 * inconsistency as one struct check_finding through check_report(): the
 * record says what is wrong and where (tree, key, bytenr, inode, expected
 * against found) so that a later repair pass can act on it, and
 * check_report() prints it as one grep-able line.
 *
 * A pass returns 0 when it ran to the end (findings or not) and a negative
 * errno only when it could not run at all (it then says why with
 * check_report() or check_fatal()); the driver goes on with the next pass
 * either way. Nothing read from disk may stop the checker.
 */
#ifndef BTRFS_CMDS_CHECK_H
#define BTRFS_CMDS_CHECK_H

#include <stdbool.h>
#include <stdio.h>

#include "kernel-shared/ctree.h"
#include "kernel-shared/disk-io.h"

/*
 * What kind of inconsistency a finding is. Grouped by pass; a repair pass
 * switches on this. Add new codes at the end of their group.
 */
enum check_code {
	/* superblock */
	CHECK_SUPER_FIELD = 1,		/* a field out of range or inconsistent */
	CHECK_SUPER_BACKUP,		/* a backup root that does not validate */
	CHECK_SUPER_LOG_ROOT,		/* log root unreadable or inconsistent */

	/* chunks, devices, block groups */
	CHECK_CHUNK_NO_BG = 100,	/* chunk without block group item */
	CHECK_BG_NO_CHUNK,		/* block group without chunk */
	CHECK_BG_MISMATCH,		/* bg flags/length differ from chunk */
	CHECK_BG_USED,			/* bg used bytes != extents in it */
	CHECK_CHUNK_NO_DEV_EXTENT,	/* a stripe without its dev extent */
	CHECK_DEV_EXTENT_NO_CHUNK,	/* dev extent without chunk stripe */
	CHECK_DEV_EXTENT_OVERLAP,	/* two dev extents overlap */
	CHECK_DEV_EXTENT_BEYOND,	/* dev extent past the device end */
	CHECK_DEV_BYTES_USED,		/* dev item bytes_used != dev extents */
	CHECK_DEV_TOTALS,		/* super total/used bytes, num_devices */
	CHECK_CHUNK_ITEM,		/* a chunk item that does not validate */
	CHECK_DEV_MISSING,		/* a device of the fs not given/found */
	CHECK_DEV_SIZE,			/* device smaller than its dev item */
	CHECK_DEV_SUPER_ITEM,		/* superblock dev_item != dev item */
	CHECK_CHUNK_LOST,		/* no complete copy on present devices */

	/* tree blocks */
	CHECK_BLOCK_READ = 200,		/* unreadable: csum, header, structure */
	CHECK_BLOCK_GENERATION,		/* newer than the parent pointer says */
	CHECK_BLOCK_KEY_ORDER,		/* keys out of order across blocks */
	CHECK_BLOCK_LEVEL,		/* level not parent level - 1 */
	CHECK_BLOCK_OWNER,		/* header owner wrong for this tree */
	CHECK_BLOCK_TWICE,		/* reached twice where it must not be */
	CHECK_BLOCK_BAD_COPY,		/* one copy bad, another one used */

	/* extent tree */
	CHECK_EXTENT_MISSING = 300,	/* referenced, no extent item */
	CHECK_EXTENT_UNREFERENCED,	/* extent item, no reference */
	CHECK_EXTENT_REFS,		/* refs count != references found */
	CHECK_EXTENT_BACKREF_MISSING,	/* a reference without its backref */
	CHECK_EXTENT_BACKREF_EXTRA,	/* a backref without its reference */
	CHECK_EXTENT_OVERLAP,		/* two extent items overlap */
	CHECK_EXTENT_ITEM,		/* malformed extent item */
	CHECK_EXTENT_DATA_RANGE,	/* file extent outside its data extent */

	/* free space */
	CHECK_FREE_SPACE_WRONG = 400,	/* fst/cache != what extents leave */
	CHECK_FREE_SPACE_INFO,		/* free-space info count or flags */
	CHECK_FREE_SPACE_MISSING,	/* block group without free-space info */

	/* fs trees */
	CHECK_INODE_ITEM = 500,		/* malformed or missing inode item */
	CHECK_INODE_NLINK,		/* link count != refs found */
	CHECK_INODE_NBYTES,		/* nbytes != extents */
	CHECK_INODE_ISIZE,		/* size inconsistent with extents/dir */
	CHECK_INODE_MODE,		/* bad mode or flags */
	CHECK_INODE_GENERATION,		/* generation newer than the fs */
	CHECK_INODE_REF,		/* ref without dir item or vice versa */
	CHECK_DIR_ITEM,			/* dir item/index mismatch, hash, type */
	CHECK_DIR_ISIZE,		/* directory size != names */
	CHECK_FILE_EXTENT,		/* overlap, bad type, bad inline size */
	CHECK_FILE_EXTENT_HOLE,		/* a gap without no-holes */
	CHECK_ORPHAN,			/* orphan item inconsistent */
	CHECK_ROOT_DIR,			/* root directory missing or bad */
	CHECK_INODE_ORPHANED,		/* inode with no path and no orphan */

	/* checksums */
	CHECK_CSUM_OVERLAP = 600,	/* csum items overlap */
	CHECK_CSUM_MISSING,		/* data extent needing csum has none */
	CHECK_CSUM_EXTRA,		/* csum for no data extent (or nodatasum) */
	CHECK_CSUM_DATA,		/* --check-data-csum: data != csum */

	/* roots, uuid tree, quota */
	CHECK_ROOT_REF = 700,		/* root ref / backref mismatch */
	CHECK_ROOT_ITEM,		/* root item inconsistent */
	CHECK_UUID_TREE,		/* uuid tree entry wrong or missing */
	CHECK_QGROUP,			/* qgroup numbers differ */
};

/*
 * One inconsistency. Fields that do not apply are 0 (key: all zero).
 * @expected / @found carry the two sides of a count or size mismatch when
 * @has_values is set.
 */
struct check_finding {
	enum check_code code;
	u64 root;		/* tree (objectid) the object lives in */
	u64 bytenr;		/* tree block or extent start */
	u64 inode;		/* inode number in @root */
	struct btrfs_key key;	/* item key, when one item is at fault */
	bool has_values;
	u64 expected;
	u64 found;
};

/* Numbers for the closing summary, as btrfs-progs prints them. */
struct check_stats {
	u64 bytes_used;			/* from the superblock */
	u64 total_csum_bytes;		/* data bytes covered by csums */
	u64 total_tree_bytes;		/* all tree blocks */
	u64 total_fs_tree_bytes;	/* fs and subvolume trees */
	u64 total_extent_tree_bytes;
	u64 btree_space_waste;		/* free bytes inside tree blocks */
	u64 data_bytes_allocated;	/* data extents (disk bytes) */
	u64 data_bytes_referenced;	/* data referenced by file extents */
};

/* check_ctx.flags */
#define CHECK_F_PROGRESS	(1U << 0)	/* -p: counts and rate */
#define CHECK_F_DATA_CSUM	(1U << 1)	/* --check-data-csum */
#define CHECK_F_QGROUP_REPORT	(1U << 2)	/* -Q */
#define CHECK_F_QUIET		(1U << 3)	/* -q: findings and summary only */

struct check_ctx {
	struct btrfs_fs_info *fs_info;
	unsigned int flags;
	u64 subvol_extents;		/* -E ID, 0 if not given */
	FILE *out;			/* summary and progress (stdout) */
	FILE *err;			/* findings (stderr) */
	u64 nr_findings;		/* every check_report() */
	struct check_stats stats;
	/* optional: called for every finding after it is printed */
	void (*on_finding)(const struct check_finding *f, void *data);
	void *on_finding_data;

	/* devices.c: missing devices, short devices, bad tree block copies */
	u64 missing_devices;		/* nonzero: exit status 2 */
	struct check_bad_copy *pending;	/* bad copies met before the passes */
	size_t nr_pending, cap_pending;
	void *told_copies;		/* struct u64_map of copies reported */
	u64 data_past_end;		/* pass 7: data bytes past a short device */

	/* progress state, private to report.c */
	int progress_nr;
	int progress_total;
	const char *progress_what;
	u64 progress_count;
	double progress_start;
	double progress_last;
	bool progress_tty;		/* -p and ctx->out is a terminal */
	bool progress_drawn;		/* a count line is open on ctx->out */
};

/*
 * Record and print one finding: "ERROR: " then the message from @fmt,
 * then the location fields of @f that are set, e.g.
 *   ERROR: extent item refs 2, found 1 [root 5 bytenr 13631488 key (...)]
 * One line; counts in ctx->nr_findings.
 */
void check_report(struct check_ctx *ctx, const struct check_finding *f,
		  const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/*
 * A pass could not run at all (an essential tree unreadable): one ERROR
 * line, counted as a finding.
 */
void check_fatal(struct check_ctx *ctx, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Progress: start a pass ("[1/8] checking root items"), count work. */
void check_progress_begin(struct check_ctx *ctx, int nr, int total,
			  const char *what);
void check_progress_add(struct check_ctx *ctx, u64 items);
void check_progress_end(struct check_ctx *ctx);

/* ------------------------------------------------------------------ */
/* Helpers for the passes (check-util.c). */

/* A callback of check_for_each_item() returns this to stop early, cleanly. */
#define CHECK_ITER_STOP		1

/*
 * Call @fn for every item of @root from the first key >= @start (all items
 * when NULL), in key order.  @fn returns 0 to go on, CHECK_ITER_STOP to
 * stop (the result is then 0), or a negative errno that is returned.
 * Returns 0 at the end, or the negative errno of a read error (the caller
 * reports it: the rest of the tree was not seen).  Each item counts as one
 * unit of progress.  Built on btrfs_item_iter (kernel-shared/item-iter.h),
 * stopping at the first block it cannot read; -EUCLEAN when the tree's
 * keys go backwards between blocks.
 */
int check_for_each_item(struct check_ctx *ctx, struct btrfs_root *root,
			const struct btrfs_key *start,
			int (*fn)(struct check_ctx *ctx, struct extent_buffer *eb,
				  int slot, const struct btrfs_key *key,
				  void *data),
			void *data);

/* Report that tree @tree could not be read to its end (CHECK_BLOCK_READ). */
void check_tree_unreadable(struct check_ctx *ctx, u64 tree, int err,
			   const char *what);

/* Is @id a subvolume tree (FS_TREE or 256..LAST_FREE)? */
bool check_is_fstree(u64 id);

/* The tree holding block group items: the block group tree or extents. */
struct btrfs_root *check_block_group_root(struct btrfs_fs_info *fs_info);

/*
 * -E: print the data extents subvolume @subvol references and the
 * subvolumes sharing each one, instead of checking.  0 or negative errno
 * (then reported with check_fatal()).
 */
int check_subvol_extents(struct check_ctx *ctx, u64 subvol);

/*
 * Pass 8 helper (qgroup-verify.c): recompute the level-0 qgroups and
 * compare them with the quota tree; @status_flags of the status item.
 * 0 or negative errno.
 */
int check_verify_qgroups(struct check_ctx *ctx, u64 status_flags);

/* Sorted, disjoint byte ranges [start, end) (pass 5). */
struct check_range {
	u64 start;
	u64 end;
};

struct check_ranges {
	struct check_range *r;		/* malloc'd, free() when done */
	size_t nr, cap;
};

/*
 * Append [@start, @end) after the last range (merged with it when they
 * touch).  The caller appends in increasing order.  0 or -ENOMEM.
 */
int check_ranges_add(struct check_ranges *rs, u64 start, u64 end);

/* Append [@start, @end) as a range of its own, in any order.  0, -ENOMEM. */
int check_ranges_append(struct check_ranges *rs, u64 start, u64 end);

/*
 * The gaps between the extent items (a metadata item covers one node)
 * inside the block group [@start, @end), into *@gaps (filled only on
 * success).  0, or a negative errno when the extent tree cannot be read.
 */
int check_extent_gaps(struct check_ctx *ctx, u64 start, u64 end,
		      struct check_ranges *gaps);

/*
 * Pass 5 for a filesystem without free-space tree: every v1 space cache
 * that the kernel would load must record exactly the gaps of its block
 * group minus the superblock copies (space-cache.c).  0 or negative errno.
 */
int check_space_cache_v1(struct check_ctx *ctx);

/* ------------------------------------------------------------------ */
/* Devices (devices.c). */

/* What is kept of a bad tree block copy until it can be reported. */
struct check_bad_copy {
	u64 bytenr;
	u64 owner;			/* header owner of the good copy */
	u64 devid;
	u64 physical;
	int mirror, good_mirror, copies;
	struct btrfs_block_error err;
};

/*
 * open_ctree_args.on_bad_copy for a check: @data is the struct check_ctx.
 * The copies are queued (any thread may read) and reported by
 * check_bad_copies_flush(); each copy (bytenr, mirror) is reported once.
 */
void check_on_bad_copy(const struct btrfs_bad_copy *bad, void *data);

/* Report the bad copies queued so far (the checking thread only). */
void check_bad_copies_flush(struct check_ctx *ctx);

/*
 * Pass 3: verify the copies of @eb after the one that was read (@chk: the
 * parent's expectations, as for the read) and report each bad one.  Reads
 * stop at the first good copy, so without this a bad second copy would
 * never be seen.
 */
void check_verify_copies(struct check_ctx *ctx, const struct extent_buffer *eb,
			 const struct btrfs_tree_parent_check *chk);

/*
 * The filesystem did not open: say which of the devices @paths are smaller
 * than the dev_item of their superblock (an image cut short), the likely
 * reason.
 */
void check_short_devices_at_open(struct check_ctx *ctx, char **paths, int nr);

/* Free what devices.c allocated in @ctx. */
void check_devices_free(struct check_ctx *ctx);

/*
 * Pass 2: every device of the filesystem present, as large as its dev
 * item says, its superblock's dev_item equal to the dev item; with missing
 * devices, which chunks still have a complete copy.
 */
void check_devices(struct check_ctx *ctx);

/*
 * Does [@physical, +@len) of device @devid lie past the end of a device
 * that is smaller than its dev item (a truncated image)?  Such reads are
 * not reported one by one: the device's size finding says it all.
 */
bool check_past_device_end(struct check_ctx *ctx, u64 devid, u64 physical,
			   u64 len);

/* The same for logical [@logical, +@len) read from copy @mirror. */
bool check_logical_past_end(struct check_ctx *ctx, u64 logical, u64 len,
			    int mirror);

/*
 * The filesystem did not open, but its chunk tree did (@ctx->fs_info, a
 * chunk-only open): validate the chunk items of the tree and of the
 * superblock's sys_chunk_array and report those the open dropped, the
 * likely reason (pass-chunks.c).
 */
void check_chunk_items_only(struct check_ctx *ctx);

/* The passes, in the order they run. */
int check_pass_super(struct check_ctx *ctx);		/* 1 */
int check_pass_chunks(struct check_ctx *ctx);		/* 2 */
int check_pass_tree_blocks(struct check_ctx *ctx);	/* 3 */
int check_pass_extents(struct check_ctx *ctx);		/* 4 */
int check_pass_free_space(struct check_ctx *ctx);	/* 5 */
int check_pass_fs_trees(struct check_ctx *ctx);		/* 6 */
int check_pass_csums(struct check_ctx *ctx);		/* 7 */
int check_pass_roots(struct check_ctx *ctx);		/* 8 */

#endif
