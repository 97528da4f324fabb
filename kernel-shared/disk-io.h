/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Opening a filesystem: superblocks, the chunk bootstrap, tree roots, and
 * the one function every tree block is read through.
 */
#ifndef BTRFS_DISK_IO_H
#define BTRFS_DISK_IO_H

#include "kernel-shared/ctree.h"
#include "kernel-shared/io.h"

/* Byte offset of superblock copy @mirror (0 primary, 1 at 64MiB, 2 at 256GiB). */
static inline u64 btrfs_sb_offset(int mirror)
{
	if (mirror == 0)
		return BTRFS_SUPER_INFO_OFFSET;
	return 16384ULL << (BTRFS_SUPER_MIRROR_SHIFT * mirror);
}

/* Why a superblock was rejected (btrfs_check_super). */
enum btrfs_super_problem {
	SUPER_OK = 0,
	SUPER_SHORT_READ,	/* device too small / read failed */
	SUPER_BAD_MAGIC,
	SUPER_BAD_CSUM_TYPE,
	SUPER_BAD_CSUM,
	SUPER_BAD_BYTENR,	/* bytenr field differs from its location */
	SUPER_BAD_SECTORSIZE,
	SUPER_BAD_NODESIZE,
	SUPER_BAD_STRIPESIZE,
	SUPER_BAD_SYS_ARRAY,	/* sys_chunk_array_size out of range */
	SUPER_BAD_ROOT,		/* root / chunk_root unaligned or zero */
	SUPER_BAD_LEVEL,	/* a root level >= BTRFS_MAX_LEVEL */
	SUPER_BAD_DEVICES,	/* num_devices zero */
	SUPER_BAD_SIZES,	/* total_bytes / bytes_used implausible */
	SUPER_BAD_FLAGS,	/* unknown incompat flags */
	SUPER_BAD_FSID,		/* dev_item.fsid differs from (metadata) fsid */
};

/* Text for a problem, for frontends: "bad magic" style, no trailing period. */
const char *btrfs_super_problem_str(enum btrfs_super_problem p);

/*
 * Read the 4 KiB superblock at byte @bytenr of @io into @sb without judging
 * it.  0, or -EIO / -ENOSPC (beyond end of device: short read).
 */
int btrfs_read_super_raw(struct btrfs_io *io, u64 bytenr,
			 struct btrfs_super_block *sb);

/*
 * Validate a superblock read from @bytenr: magic, checksum type and value,
 * sizes, alignment, levels, flags.  Returns SUPER_OK or the first problem.
 * With @magic_only, only the magic is checked (for forced dumps).
 */
enum btrfs_super_problem btrfs_check_super(const struct btrfs_super_block *sb,
					   u64 bytenr, bool magic_only);

/* Does the stored checksum of @sb match its contents? */
bool btrfs_super_csum_ok(const struct btrfs_super_block *sb);

/*
 * Pick a superblock from @io: with @mirror >= 0 exactly that copy; with -1
 * the valid copy (within the device size) with the highest generation.
 * 0 and *sb filled, *bytenr set; -EINVAL (none valid) or -EIO.
 * @problem (may be NULL) gets the primary's problem when nothing is valid.
 */
int btrfs_read_dev_super(struct btrfs_io *io, int mirror,
			 struct btrfs_super_block *sb, u64 *bytenr,
			 enum btrfs_super_problem *problem);

/* Flags for open_ctree(). */
#define OPEN_CTREE_PARTIAL	(1U << 0) /* a broken non-essential tree is left NULL */
#define OPEN_CTREE_NO_SCAN	(1U << 1) /* do not look for other devices with libblkid */
#define OPEN_CTREE_CHUNK_ONLY	(1U << 2) /* stop after the chunk tree */
#define OPEN_CTREE_BACKUP_ROOT	(1U << 3) /* use the newest usable backup root */
#define OPEN_CTREE_ALLOW_TEMP	(1U << 4) /* accept the temporary (unfinished mkfs) magic */
/*
 * Open for writing: devices O_RDWR, block groups and free space loaded,
 * transactions allowed.  Only the primary superblock, no backup root, no
 * override of the roots, no PARTIAL.  Refused with -EOPNOTSUPP (why->what
 * names the reason) for what the write path does not handle yet: RAID5/6,
 * zoned, extent tree v2, raid stripe tree, a log tree to replay, metadump
 * images, a seeding device.
 */
#define OPEN_CTREE_WRITES	(1U << 5)
/*
 * Repair open mode, with OPEN_CTREE_WRITES: open a damaged filesystem for
 * writing.  PARTIAL, BACKUP_ROOT, another superblock copy and chosen
 * roots are allowed (the next commit makes them current).  Accounting the
 * engine cannot trust is recomputed instead of refused: block group used
 * from the extent items, device bytes used from the chunks, superblock
 * bytes used from the block groups; what differed is listed in
 * fs_info->open_fixups and is written by the first commit.  A free space
 * tree not marked valid is accepted (listed; rebuilding it is the
 * caller's business).  A tree the write path needs (extent, device,
 * checksum, free space, block group tree) must still be readable, and
 * everything read is still validated: nothing is written into a block
 * the tree checker rejected.
 */
#define OPEN_CTREE_REPAIR	(1U << 6)
/*
 * With OPEN_CTREE_REPAIR: a log tree is not refused; it is dropped by the
 * first commit (its fsync'd changes are lost, as with btrfs rescue
 * zero-log) and never read.
 */
#define OPEN_CTREE_ZERO_LOG	(1U << 7)


/*
 * A copy of a tree block that failed verification while another copy of
 * the same block passed and was used.  The engine prints nothing about it;
 * a caller that wants to know (btrfs check: the filesystem is damaged even
 * though every read succeeded) sets open_ctree_args.on_bad_copy.  A copy
 * on a missing device is not reported (there is nothing to read).
 */
struct btrfs_bad_copy {
	u64 bytenr;				/* logical address of the block */
	int mirror;				/* the bad copy, 1-based */
	int good_mirror;			/* the copy returned */
	int copies;				/* btrfs_num_copies() */
	u64 devid;				/* where @mirror starts */
	u64 physical;
	const struct btrfs_block_error *err;	/* why @mirror failed */
	const struct extent_buffer *good;	/* the block as returned */
};

struct open_ctree_args {
	const char * const *devices;	/* paths given by the user */
	/*
	 * Or, when not NULL, devices the caller opened (and closes after
	 * close_ctree), e.g. with an undo recorder stacked on them; @devices
	 * is then ignored.  Writable ones for OPEN_CTREE_WRITES.
	 */
	struct btrfs_io * const *ios;
	int nr_devices;
	int super_mirror;		/* -1: best copy */
	u64 super_bytenr;		/* 0: by mirror; else read super here */
	u64 tree_root_bytenr;		/* 0: from the superblock */
	u64 chunk_root_bytenr;		/* 0: from the superblock */
	unsigned int flags;		/* OPEN_CTREE_* */
	size_t cache_bytes;		/* extent buffer cache bound; 0 default */
	/*
	 * Optional: called for every bad copy of a tree block read from disk
	 * (struct btrfs_bad_copy above), from the start of the open on.  A
	 * block served from the cache is not re-read, so a caller may be
	 * told of the same copy again after the block left the cache.
	 */
	void (*on_bad_copy)(const struct btrfs_bad_copy *bad, void *data);
	void *on_bad_copy_data;
};

/* Why open_ctree failed, for frontends to explain.  */
struct open_ctree_error {
	int err;			/* negative errno */
	enum btrfs_super_problem super_problem;
	u64 bytenr;			/* block that failed, if any */
	u64 devid;			/* missing device, if any */
	bool unmapped;			/* @bytenr is in no chunk */
	char path[256];			/* device involved, if any */
	const char *what;		/* "superblock", "chunk tree", "root tree", "device" ... */
};

/*
 * Open a filesystem, read-only unless OPEN_CTREE_WRITES.  On success *out
 * holds it (close with close_ctree).  On failure returns negative errno
 * and fills @why (may be NULL).  Without OPEN_CTREE_WRITES never writes to
 * any device; with it, only btrfs_commit_transaction() writes.
 */
int open_ctree(const struct open_ctree_args *args, struct btrfs_fs_info **out,
	       struct open_ctree_error *why);

/* Close; a transaction still running is aborted (nothing is written). */
void close_ctree(struct btrfs_fs_info *fs_info);

/*
 * Write path.  write_tree_block: set the WRITTEN flag and the checksum of
 * @eb and write it to every copy of its chunk.  0, -EOPNOTSUPP (RAID5/6),
 * -EIO or another negative errno.
 */
int write_tree_block(struct btrfs_fs_info *fs_info, struct extent_buffer *eb);

/* fsync every open device.  0 or the first error. */
int btrfs_flush_devices(struct btrfs_fs_info *fs_info);

/*
 * Record the current roots of super_copy in the next slot of the backup
 * roots ring (the slot after the one with the newest tree root generation).
 */
void btrfs_backup_super_roots(struct btrfs_fs_info *fs_info);

/*
 * Write super_copy to every superblock copy that fits each present device
 * (each with that device's own dev item and checksum): the mirror copies
 * of every device, flush, then the primary copies, flush; so that a power
 * cut, which may tear the copies in flight, leaves each device one intact.
 */
int write_all_supers(struct btrfs_fs_info *fs_info);

/* What the caller knows about a block it is about to read. */
struct btrfs_tree_parent_check {
	u64 owner_root;		/* 0: do not check */
	u64 transid;		/* expected generation, 0: do not check */
	int level;		/* expected level, -1: do not check */
	bool has_first_key;
	struct btrfs_key first_key;
};

/* Why a tree block failed to read, for messages. */
enum btrfs_block_problem {
	BLOCK_OK = 0,
	BLOCK_IO,		/* read error or unmapped address */
	BLOCK_BAD_CSUM,
	BLOCK_BAD_BYTENR,
	BLOCK_BAD_FSID,
	BLOCK_BAD_LEVEL,
	BLOCK_BAD_TRANSID,
	BLOCK_BAD_FIRST_KEY,
	BLOCK_BAD_OWNER,
	BLOCK_STRUCTURE,	/* the tree checker rejected it */
};

/* Details of the last failure of read_tree_block_ex on every mirror. */
struct btrfs_block_error {
	enum btrfs_block_problem problem;
	int mirror;
	u64 wanted;		/* expected value (csum: first 8 bytes) */
	u64 found;		/* found value */
	int checker_reason;	/* enum from tree-checker.h when STRUCTURE */
	int checker_slot;
	/*
	 * BLOCK_BAD_CSUM only: the stored (wanted) and computed (found)
	 * checksums, csum_size meaningful bytes each.  wanted / found above
	 * hold their first min(csum_size, 8) bytes read big-endian, so that
	 * "0x%0*llx" with 2 * min(csum_size, 8) digits prints the bytes in
	 * disk order as the reference tools do.
	 */
	u16 csum_size;
	u8 csum_wanted[BTRFS_CSUM_SIZE];
	u8 csum_found[BTRFS_CSUM_SIZE];
};

/*
 * Read the tree block at logical @bytenr: map it, read a mirror, verify
 * checksum, header and structure; on failure try the next mirror.  Cached
 * blocks are returned from the cache.  Returns the buffer (one reference)
 * or ERR_PTR(-EIO / -EUCLEAN); @err (may be NULL) says why.
 */
struct extent_buffer *read_tree_block_ex(struct btrfs_fs_info *fs_info,
					 u64 bytenr,
					 const struct btrfs_tree_parent_check *check,
					 struct btrfs_block_error *err);

static inline struct extent_buffer *
read_tree_block(struct btrfs_fs_info *fs_info, u64 bytenr,
		const struct btrfs_tree_parent_check *check)
{
	return read_tree_block_ex(fs_info, bytenr, check, NULL);
}

/*
 * Whether copy @mirror (1-based) of @good's block holds exactly @good's
 * bytes (read from its device, never from the cache): 1 when it does,
 * 0 when it differs, a negative errno when it cannot be read (-ENODEV: on
 * a missing device).  The cheap test before btrfs_verify_tree_block_copy().
 */
int btrfs_tree_block_copy_same(struct btrfs_fs_info *fs_info,
			       const struct extent_buffer *good, int mirror);

/*
 * Read copy @mirror (1-based) of the tree block at @bytenr from its device,
 * never from the cache, and verify it as read_tree_block_ex() verifies a
 * copy (checksum, header against @check, structure).  For a checker that
 * wants to know that every copy is good, not only the one a read returns.
 * 0 when the copy is good, else a negative errno with @err filled (-ENODEV:
 * the copy is on a missing device).  @devid / @physical (may be NULL) get
 * where the copy starts, 0 when it is not mapped.
 */
int btrfs_verify_tree_block_copy(struct btrfs_fs_info *fs_info, u64 bytenr,
				 int mirror,
				 const struct btrfs_tree_parent_check *check,
				 struct btrfs_block_error *err, u64 *devid,
				 u64 *physical);

/* Text of a block problem ("checksum mismatch" style). */
const char *btrfs_block_problem_str(enum btrfs_block_problem p);

/* Is the tree block checksum in @eb valid? (computes over data[32..len)) */
bool btrfs_tree_block_csum_ok(const struct btrfs_fs_info *fs_info,
			      const struct extent_buffer *eb);

/*
 * Read the root item of tree @objectid (any offset for the newest: the
 * highest offset found) from the root tree and its root node.  Returns the
 * root (free with btrfs_free_root) or ERR_PTR(-ENOENT / -EIO / -EUCLEAN).
 */
struct btrfs_root *btrfs_read_tree_root(struct btrfs_fs_info *fs_info,
					const struct btrfs_key *location);

void btrfs_free_root(struct btrfs_root *root);

/*
 * Read @len bytes at logical address @logical from @mirror (1-based; 0 means
 * the first one that reads) into @buf.  Data blocks only: no verification.
 * 0 or negative errno.
 */
int read_data_from_disk(struct btrfs_fs_info *fs_info, void *buf, u64 logical,
			u64 len, int mirror);

#endif
