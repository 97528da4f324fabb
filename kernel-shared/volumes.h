/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Devices and the chunk map: which device byte holds each logical byte.
 */
#ifndef BTRFS_VOLUMES_H
#define BTRFS_VOLUMES_H

#include "kernel-shared/ctree.h"
#include "kernel-shared/io.h"

/*
 * One device of the filesystem.  All its I/O goes through @io (io.h), the
 * backend stack chosen when it was opened.
 */

struct btrfs_device {
	u64 devid;
	u8 uuid[BTRFS_UUID_SIZE];
	u8 fsid[BTRFS_FSID_SIZE];	/* from the device's superblock */
	char *name;			/* path, NULL when missing */
	struct btrfs_io *io;		/* NULL when missing */
	bool io_borrowed;		/* the caller's: not closed with us */
	u64 device_size;		/* bytes of the file / block device */
	u64 total_bytes;		/* from the dev item */
	u64 bytes_used;
	u64 generation;			/* of its superblock */
	bool missing;
	bool has_dev_item;		/* the chunk tree has its dev item */
	bool dirty;			/* dev item must be rewritten (repair) */
	u64 expected_used;		/* repair open: from the chunks */
	struct btrfs_device *next;
};

struct btrfs_fs_devices {
	u8 fsid[BTRFS_FSID_SIZE];
	u8 metadata_uuid[BTRFS_FSID_SIZE];
	u64 num_devices;		/* from the superblock */
	bool writable;			/* open devices O_RDWR */
	struct btrfs_device *devices;	/* list, sorted by devid */
};

/* One chunk: a logical range and where its stripes live. */
struct map_lookup {
	u64 start;			/* logical */
	u64 length;
	u64 type;			/* BTRFS_BLOCK_GROUP_* */
	u64 stripe_len;
	u32 io_align;
	u32 io_width;
	u32 sector_size;
	int num_stripes;
	int sub_stripes;
	struct {
		u64 devid;
		u64 physical;
		u8 dev_uuid[BTRFS_UUID_SIZE];
		struct btrfs_device *dev;	/* NULL when missing */
	} stripes[];
};

/* An opaque sorted set of chunks, looked up by logical address. */
struct btrfs_mapping_tree;

struct btrfs_mapping_tree *btrfs_mapping_tree_alloc(void);
void btrfs_mapping_tree_free(struct btrfs_mapping_tree *tree);

/*
 * Add a chunk (from the sys array or the chunk tree) given as an on-disk
 * struct btrfs_chunk of @item_size bytes at @chunk (plain memory) with key
 * offset @logical.  Validates it (stripe count vs type, lengths, alignment
 * to @sectorsize, item size); duplicates of an existing identical chunk are
 * ignored.  0, -EUCLEAN (invalid or overlapping), -ENOMEM.
 */
int btrfs_add_chunk_map(struct btrfs_fs_info *fs_info, u64 logical,
			const struct btrfs_chunk *chunk, u32 item_size);

/* The chunk containing @logical, or NULL. */
const struct map_lookup *btrfs_find_chunk_map(struct btrfs_fs_info *fs_info,
					      u64 logical);

/* Walk every chunk in logical order; stop when @fn returns nonzero. */
int btrfs_for_each_chunk_map(struct btrfs_fs_info *fs_info,
			     int (*fn)(const struct map_lookup *map, void *ctx),
			     void *ctx);

/*
 * Number of copies a read of @logical can come from: 1 single/raid0,
 * 2 dup/raid1/raid10/raid5, 3 raid1c3/raid6, 4 raid1c4.  0 if unmapped.
 */
int btrfs_num_copies(struct btrfs_fs_info *fs_info, u64 logical);

/*
 * Where the bytes at @logical live for copy @mirror (1-based): device,
 * physical offset and the contiguous length available there (never past the
 * stripe end).  For raid5/6 only data stripes are mapped (mirror 1; higher
 * mirrors of parity rebuild are not supported: -EOPNOTSUPP).
 * 0, -ENOENT (unmapped), -ENODEV (device missing), -EINVAL (bad mirror).
 */
int btrfs_map_block(struct btrfs_fs_info *fs_info, u64 logical, int mirror,
		    struct btrfs_device **dev, u64 *physical, u64 *len);

/* Where a copy lies, to tell why it cannot be read (btrfs_copy_place()). */
enum btrfs_copy_place {
	BTRFS_COPY_ON_DEVICE,	/* within an open device */
	BTRFS_COPY_UNMAPPED,	/* in no chunk, or the mirror does not exist */
	BTRFS_COPY_MISSING,	/* its device is missing */
	BTRFS_COPY_PAST_END,	/* beyond the end of its device (truncated) */
};

/*
 * Where copy @mirror of the @len bytes at @logical lies, without reading
 * it; *@devid gets the device that holds (or would hold) it, 0 if none.
 */
enum btrfs_copy_place btrfs_copy_place(struct btrfs_fs_info *fs_info,
				       u64 logical, u64 len, int mirror,
				       u64 *devid);

/* Parse the superblock's sys_chunk_array into the map. 0 or -EUCLEAN. */
int btrfs_read_sys_array(struct btrfs_fs_info *fs_info);

/* Why a sys_chunk_array entry could not be taken (btrfs_sys_array_next). */
enum btrfs_sys_array_problem {
	BTRFS_SYS_ARRAY_SHORT,		/* @need bytes at @at pass the end */
	BTRFS_SYS_ARRAY_NOT_CHUNK,	/* the key at @at is no CHUNK_ITEM */
	BTRFS_SYS_ARRAY_NO_STRIPES,	/* the chunk at @at has 0 stripes */
};

/* One entry of a sys_chunk_array, pointers into the array walked. */
struct btrfs_sys_array_entry {
	const struct btrfs_disk_key *key;	/* NULL if even it is short */
	const struct btrfs_chunk *chunk;
	u32 chunk_offset;			/* of @chunk in the array */
	u32 chunk_size;
	enum btrfs_sys_array_problem problem;	/* when -EUCLEAN */
	u32 need;
	u32 at;
};

/*
 * Walk the first @size bytes of @array (a superblock's sys_chunk_array;
 * @size from sys_array_size, at most BTRFS_SYSTEM_CHUNK_ARRAY_SIZE): the
 * entry at *@cur into @e, and *@cur past it.  1 for an entry, 0 at the
 * end, -EUCLEAN with e->problem, need and at set (and e->key when the key
 * itself was whole) for an entry that cannot be taken.
 */
int btrfs_sys_array_next(const u8 *array, u32 size, u32 *cur,
			 struct btrfs_sys_array_entry *e);

/* Read every chunk item and dev item of the chunk tree. 0 or <0. */
int btrfs_read_chunk_tree(struct btrfs_fs_info *fs_info);

/* Find an open device by devid (and uuid when not NULL), or NULL. */
struct btrfs_device *btrfs_find_device(struct btrfs_fs_devices *fs_devices,
				       u64 devid, const u8 *uuid);

/*
 * Open the given device paths (read-only) and, unless @no_scan, look for
 * the other members of the same fsid with libblkid (common/device-scan).
 * Devices whose superblock fsid differs from the first one's are refused
 * with -EINVAL.  Fills fs_info->fs_devices.
 */
int btrfs_open_devices(struct btrfs_fs_info *fs_info, const char * const *paths,
		       int nr_paths, bool no_scan);

/*
 * Add a device the caller has opened (and keeps: it is not closed with the
 * filesystem), e.g. one with an undo recorder stacked on it.  As for
 * btrfs_open_devices(): -EINVAL when its fsid is not the filesystem's.
 */
int btrfs_add_opened_device(struct btrfs_fs_info *fs_info,
			    struct btrfs_io *io);
void btrfs_close_devices(struct btrfs_fs_devices *fs_devices);

/* Profile name as dump-tree prints it ("DUP", "RAID1C3", "single" ...). */
const char *btrfs_bg_profile_str(u64 type);

/* ------------------------------------------------------------------ */
/*
 * Chunk allocation (the kernel's btrfs_create_chunk), issue #3.
 *
 * Planning is pure, so mkfs can lay out its first chunks before any tree
 * exists and the engine uses the same rules for every later chunk: given
 * the free ranges of each writable device, choose the devices, the stripe
 * size and the physical start of every stripe of a new chunk of @type
 * (BTRFS_BLOCK_GROUP_{DATA,METADATA,SYSTEM} bits | at most one profile
 * bit), following the kernel's rules: devices ordered by their largest
 * usable free range (most first), the profile's minimum and maximum
 * number of devices and stripes per device (DUP: two stripes on one
 * device), stripe size limited by the type's maximum chunk size and by 10%
 * of the writable space, rounded down to the kernel's alignment.
 */
#define BTRFS_CHUNK_PLAN_MAX_STRIPES 256

struct btrfs_dev_free_range {
	u64 start;			/* physical, >= 1MiB */
	u64 len;
};

struct btrfs_dev_free {
	u64 devid;
	u8 uuid[BTRFS_UUID_SIZE];
	const struct btrfs_dev_free_range *ranges; /* sorted, disjoint */
	int nr_ranges;
};

struct btrfs_chunk_plan {
	u64 type;			/* as asked */
	u64 length;			/* logical bytes of the chunk */
	u64 stripe_size;		/* bytes of each dev extent */
	int num_stripes;
	int sub_stripes;		/* 2 for RAID10, else 1 */
	struct btrfs_chunk_plan_stripe {
		u64 devid;
		u64 physical;
		u8 dev_uuid[BTRFS_UUID_SIZE];
	} stripes[BTRFS_CHUNK_PLAN_MAX_STRIPES];
};

/*
 * Plan a chunk of @type on @devs.  @total_bytes is the filesystem's size
 * (for the 10% cap); @max_stripe_size, when not 0, lowers the per-stripe
 * size the kernel's rules would give (mkfs uses it for its small first
 * chunks).  0 and @plan filled; -ENOSPC (not enough devices with room for
 * the profile), -EINVAL (bad @type).
 */
int btrfs_plan_chunk(u64 type, const struct btrfs_dev_free *devs, int nr_devs,
		     u64 total_bytes, u64 max_stripe_size,
		     struct btrfs_chunk_plan *plan);

/*
 * Allocate a new chunk of @type in @trans: plan it from the free ranges
 * between the dev extents of every device, then insert its dev extents
 * (dev tree), raise the dev items' bytes_used (chunk tree and the
 * superblock's dev item), insert the chunk item (chunk tree; also the
 * superblock's sys_chunk_array for SYSTEM chunks), map it, and create its
 * block group (in-memory with all its space free, its item, and its range
 * in the free-space tree when the filesystem has one).  The logical start
 * is the end of the last chunk.  *start (may be NULL) gets it.
 * 0, -ENOSPC, or negative errno (the transaction must then be aborted).
 */
int btrfs_alloc_chunk(struct btrfs_trans_handle *trans, u64 type, u64 *start);

#endif
