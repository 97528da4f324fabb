/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Making a new filesystem (issue #3).  The engine part of mkfs.btrfs: the
 * frontend (cmds/mkfs/mkfs.c) parses and validates options, probes and opens
 * the devices and prints; btrfs_make_filesystem() writes the filesystem
 * and never prints.
 */
#ifndef BTRFS_MKFS_H
#define BTRFS_MKFS_H

#include "kernel-shared/ctree.h"
#include "kernel-shared/io.h"

struct btrfs_mkfs_device {
	struct btrfs_io *io;		/* opened writable by the frontend */
	const char *path;		/* for messages */
	u64 size;			/* bytes to use (device size or -b) */
	u8 uuid[BTRFS_UUID_SIZE];	/* device uuid (frontend makes it) */
};

struct btrfs_mkfs_config {
	struct btrfs_mkfs_device *devices;	/* devid = index + 1 */
	int nr_devices;
	char label[BTRFS_LABEL_SIZE];		/* NUL terminated, may be "" */
	u8 fsid[BTRFS_FSID_SIZE];		/* frontend makes it (or -U) */
	u32 nodesize;
	u32 sectorsize;
	u16 csum_type;				/* BTRFS_CSUM_TYPE_* */
	u64 data_profile;			/* one BTRFS_BLOCK_GROUP_ profile bit, 0: single */
	u64 metadata_profile;			/* also system's */
	bool mixed;				/* data+metadata block groups */
	u64 incompat_flags;			/* BTRFS_FEATURE_INCOMPAT_* */
	u64 compat_ro_flags;			/* FREE_SPACE_TREE(_VALID), BLOCK_GROUP_TREE */
	bool quota;				/* runtime feature: quota tree + qgroup items */
};

/* What was made, for the frontend's summary table. */
#define BTRFS_MKFS_MAX_CHUNKS 16
struct btrfs_mkfs_result {
	int nr_chunks;
	struct {
		u64 type;		/* block group type | profile */
		u64 length;		/* logical bytes */
	} chunks[BTRFS_MKFS_MAX_CHUNKS];
	u64 total_bytes;		/* filesystem size */
};

/*
 * The smallest device size that can hold the filesystem @cfg describes
 * (the first chunks of every type with their copies, the reserved first
 * megabyte): the frontend refuses smaller devices and prints this.
 */
u64 btrfs_mkfs_min_dev_size(const struct btrfs_mkfs_config *cfg);

/*
 * Write a new filesystem on every device of @cfg (which the frontend has
 * validated: sizes, node/sector size, profile vs device count).  Old
 * btrfs superblock copies within each device are wiped first; nothing is
 * valid until the final superblocks are written.  0 and @res filled, or
 * negative errno with *what (may be NULL) set to a short static name of
 * the failing step ("writing superblocks", "creating the free space
 * tree" ...): -EINVAL for a @cfg the engine cannot use (sizes, csum type,
 * a block group tree without free-space tree and no-holes), -ENOSPC when
 * the first chunks do not fit, -EOVERFLOW when the devices do not fit one
 * leaf or the system chunk array, I/O errors.  RAID5/6 are supported.
 */
int btrfs_make_filesystem(const struct btrfs_mkfs_config *cfg,
			  struct btrfs_mkfs_result *res, const char **what);

#endif
