/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mkfs.btrfs frontend: what the option parser, the feature tables and the
 * device preparation share.  The filesystem itself is written by the
 * engine (kernel-shared/mkfs.h); these files only decide, check, open and
 * print.
 */
#ifndef BTRFS_CMDS_MKFS_H
#define BTRFS_CMDS_MKFS_H

#include <stdbool.h>
#include <stdint.h>

#include "kernel-shared/mkfs.h"

/*
 * Everything the command line asked for.  Fields marked "set" tell an
 * explicit choice from a default; defaults are filled in by
 * mkfs_apply_defaults() once every option is known.
 */
struct mkfs_opts {
	const char *label;		/* NULL: none */
	u8 fsid[BTRFS_FSID_SIZE];
	bool fsid_set;
	u8 dev_uuid[BTRFS_UUID_SIZE];	/* first device only */
	bool dev_uuid_set;
	u32 nodesize;			/* 0 until defaulted */
	u32 sectorsize;			/* 0 until defaulted */
	int csum_type;
	u64 data_profile;		/* BTRFS_BLOCK_GROUP_* bit, 0: single */
	bool data_set;
	u64 meta_profile;
	bool meta_set;
	bool mixed;
	u32 features;			/* MKFS_FEAT_* bits, after defaults */
	u64 byte_count;			/* -b, 0: whole device */
	bool force;
	bool nodiscard;
	const char *undo_file;		/* --undo: NULL without */
	int verbose;			/* 0 with -q, 1 by default, +1 per -v */
	char **devices;
	int nr_devices;
};

/* Bits of mkfs_opts.features, one per row of the feature table. */
enum mkfs_feature_bit {
	MKFS_FEAT_MIXED_BG,
	MKFS_FEAT_EXTREF,
	MKFS_FEAT_RAID56,
	MKFS_FEAT_SKINNY_METADATA,
	MKFS_FEAT_NO_HOLES,
	MKFS_FEAT_RAID1C34,
	MKFS_FEAT_ZONED,
	MKFS_FEAT_BLOCK_GROUP_TREE,
	MKFS_FEAT_QUOTA,
	MKFS_FEAT_FREE_SPACE_TREE,
	MKFS_FEAT_NR
};

#define MKFS_FEAT(bit)	(1U << (MKFS_FEAT_##bit))

/* Which option a feature list comes from. */
enum mkfs_feature_kind {
	MKFS_FS_FEATURES,		/* -O */
	MKFS_RUNTIME_FEATURES,		/* -R */
};

/* mkfs-features.c */

/* The features on when neither -O nor -R mentions them. */
u32 mkfs_default_features(void);

/*
 * Apply a comma-separated -O or -R list to *@features: "name" sets,
 * "^name" clears.  "list-all" alone prints the table and exits 0.
 * Returns 0, or -EINVAL after printing an error naming the bad entry.
 */
int mkfs_parse_features(enum mkfs_feature_kind kind, const char *list,
			u32 *features);

/*
 * Superblock flags for @features (plus the flags that @data and @meta
 * profiles imply): MIXED_BACKREF is always set.
 */
void mkfs_feature_flags(u32 features, u64 data, u64 meta,
			u64 *incompat, u64 *compat_ro);

/* ", "-separated names of the -O (@kind) features in @features. */
void mkfs_feature_names(enum mkfs_feature_kind kind, u32 features,
			char *buf, size_t size);

/*
 * Parse a profile name (any case) into its BTRFS_BLOCK_GROUP_* bit, 0 for
 * "single".  -EINVAL if unknown.
 */
int mkfs_parse_profile(const char *name, u64 *profile);

/* "single", "DUP", "RAID1C3" ... as the summary table prints a profile. */
const char *mkfs_profile_name(u64 profile);

/* Fewest devices a profile can be made on. */
int mkfs_profile_min_devices(u64 profile);

#endif
