// SPDX-License-Identifier: GPL-2.0
/*
 * mkfs.btrfs: the feature table behind -O and -R, and the profile names
 * behind -d and -m.  One row per feature says which option names it,
 * which superblock flag it sets and since which kernel it mounts.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cmds/mkfs/mkfs.h"
#include "common/messages.h"

/* mkfs_feature.options */
#define IN_O		(1U << 0)	/* accepted by -O */
#define IN_R		(1U << 1)	/* accepted by -R */
#define LIST_O		(1U << 2)	/* shown by -O list-all */
#define LIST_R		(1U << 3)	/* shown by -R list-all */

struct mkfs_feature {
	const char *name;
	unsigned int options;
	bool on_by_default;
	/* kernel versions: mountable, considered stable, mkfs default */
	const char *compat;
	const char *safe;
	const char *dflt;
	const char *desc;
};

static const struct mkfs_feature features[MKFS_FEAT_NR] = {
	[MKFS_FEAT_MIXED_BG] = {
		"mixed-bg", IN_O | LIST_O, false, "2.6.37", "2.6.37", NULL,
		"data and metadata share the same block groups" },
	[MKFS_FEAT_EXTREF] = {
		"extref", IN_O | LIST_O, true, "3.7", "3.12", "3.12",
		"extended inode refs, up to 65536 hard links per file" },
	[MKFS_FEAT_RAID56] = {
		"raid56", IN_O | LIST_O, false, "3.9", NULL, NULL,
		"raid5 and raid6 profiles" },
	[MKFS_FEAT_SKINNY_METADATA] = {
		"skinny-metadata", IN_O | LIST_O, true, "3.10", "3.18", "3.18",
		"smaller extent items for tree blocks" },
	[MKFS_FEAT_NO_HOLES] = {
		"no-holes", IN_O | LIST_O, true, "3.14", "4.0", "5.15",
		"holes in files need no extent items" },
	[MKFS_FEAT_RAID1C34] = {
		"raid1c34", IN_O | LIST_O, false, "5.5", NULL, NULL,
		"raid1 profiles with three or four copies" },
	[MKFS_FEAT_ZONED] = {
		"zoned", IN_O | LIST_O, false, "5.12", NULL, NULL,
		"zoned block devices (not supported by this mkfs)" },
	[MKFS_FEAT_BLOCK_GROUP_TREE] = {
		"block-group-tree", IN_O | LIST_O, false, "6.1", NULL, NULL,
		"block group items in their own tree, faster mounts" },
	[MKFS_FEAT_QUOTA] = {
		"quota", IN_R | LIST_R, false, "3.4", NULL, NULL,
		"qgroup accounting enabled from the start" },
	[MKFS_FEAT_FREE_SPACE_TREE] = {
		"free-space-tree", IN_O | IN_R | LIST_R, true, "4.5", "4.9",
		"5.15", "free space recorded in a tree (space_cache=v2)" },
};

u32 mkfs_default_features(void)
{
	u32 mask = 0;
	int i;

	for (i = 0; i < MKFS_FEAT_NR; i++)
		if (features[i].on_by_default)
			mask |= 1U << i;
	return mask;
}

static void list_features(enum mkfs_feature_kind kind)
{
	unsigned int want = kind == MKFS_FS_FEATURES ? LIST_O : LIST_R;
	const struct mkfs_feature *f;
	int i;

	fprintf(stderr, "%s features available:\n",
		kind == MKFS_FS_FEATURES ? "Filesystem" : "Runtime");
	for (i = 0; i < MKFS_FEAT_NR; i++) {
		f = &features[i];
		if (!(f->options & want))
			continue;
		fprintf(stderr, "%-20s- %s (compat=%s", f->name, f->desc,
			f->compat);
		if (f->safe)
			fprintf(stderr, ", safe=%s", f->safe);
		if (f->dflt)
			fprintf(stderr, ", default=%s", f->dflt);
		fprintf(stderr, ")\n");
	}
}

static int find_feature(unsigned int want, const char *name)
{
	int i;

	for (i = 0; i < MKFS_FEAT_NR; i++)
		if ((features[i].options & want) &&
		    strcasecmp(features[i].name, name) == 0)
			return i;
	return -1;
}

int mkfs_parse_features(enum mkfs_feature_kind kind, const char *list,
			u32 *mask)
{
	unsigned int want = kind == MKFS_FS_FEATURES ? IN_O : IN_R;
	const char *what = kind == MKFS_FS_FEATURES ? "filesystem" : "runtime";
	char *copy, *tok, *save = NULL;
	int ret = 0;

	if (strcmp(list, "list-all") == 0) {
		list_features(kind);
		exit(0);
	}
	copy = strdup(list);
	if (!copy) {
		error("not enough memory");
		return -ENOMEM;
	}
	for (tok = strtok_r(copy, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		bool clear = tok[0] == '^';
		int bit = find_feature(want, tok + clear);

		if (bit < 0) {
			error("unrecognized %s feature '%s'", what, tok);
			ret = -EINVAL;
			break;
		}
		if (clear)
			*mask &= ~(1U << bit);
		else
			*mask |= 1U << bit;
	}
	free(copy);
	return ret;
}

static bool uses_profile(u64 data, u64 meta, u64 bits)
{
	return (data & bits) || (meta & bits);
}

void mkfs_feature_flags(u32 mask, u64 data, u64 meta, u64 *incompat,
			u64 *compat_ro)
{
	u64 in = BTRFS_FEATURE_INCOMPAT_MIXED_BACKREF;
	u64 ro = 0;

	if (mask & MKFS_FEAT(MIXED_BG))
		in |= BTRFS_FEATURE_INCOMPAT_MIXED_GROUPS;
	if (mask & MKFS_FEAT(EXTREF))
		in |= BTRFS_FEATURE_INCOMPAT_EXTENDED_IREF;
	if ((mask & MKFS_FEAT(RAID56)) ||
	    uses_profile(data, meta, BTRFS_BLOCK_GROUP_RAID56_MASK))
		in |= BTRFS_FEATURE_INCOMPAT_RAID56;
	if (mask & MKFS_FEAT(SKINNY_METADATA))
		in |= BTRFS_FEATURE_INCOMPAT_SKINNY_METADATA;
	if (mask & MKFS_FEAT(NO_HOLES))
		in |= BTRFS_FEATURE_INCOMPAT_NO_HOLES;
	if ((mask & MKFS_FEAT(RAID1C34)) ||
	    uses_profile(data, meta, BTRFS_BLOCK_GROUP_RAID1C3 |
			 BTRFS_BLOCK_GROUP_RAID1C4))
		in |= BTRFS_FEATURE_INCOMPAT_RAID1C34;
	if (mask & MKFS_FEAT(ZONED))
		in |= BTRFS_FEATURE_INCOMPAT_ZONED;
	if (mask & MKFS_FEAT(FREE_SPACE_TREE))
		ro |= BTRFS_FEATURE_COMPAT_RO_FREE_SPACE_TREE |
		      BTRFS_FEATURE_COMPAT_RO_FREE_SPACE_TREE_VALID;
	if (mask & MKFS_FEAT(BLOCK_GROUP_TREE))
		ro |= BTRFS_FEATURE_COMPAT_RO_BLOCK_GROUP_TREE;
	*incompat = in;
	*compat_ro = ro;
}

void mkfs_feature_names(enum mkfs_feature_kind kind, u32 mask, char *buf,
			size_t size)
{
	unsigned int want = kind == MKFS_FS_FEATURES ? LIST_O : LIST_R;
	size_t len = 0;
	int i;

	buf[0] = '\0';
	for (i = 0; i < MKFS_FEAT_NR; i++) {
		if (!(features[i].options & want) || !(mask & (1U << i)))
			continue;
		len += snprintf(buf + len, size - len, "%s%s",
				len ? ", " : "", features[i].name);
		if (len >= size)
			break;
	}
}

static const struct {
	const char *name;	/* as -d / -m accept it, any case */
	const char *print;	/* as the summary prints it */
	u64 bit;
	int min_devices;
} profiles[] = {
	{ "single", "single", 0, 1 },
	{ "dup", "DUP", BTRFS_BLOCK_GROUP_DUP, 1 },
	{ "raid0", "RAID0", BTRFS_BLOCK_GROUP_RAID0, 1 },
	{ "raid1", "RAID1", BTRFS_BLOCK_GROUP_RAID1, 2 },
	{ "raid1c3", "RAID1C3", BTRFS_BLOCK_GROUP_RAID1C3, 3 },
	{ "raid1c4", "RAID1C4", BTRFS_BLOCK_GROUP_RAID1C4, 4 },
	{ "raid10", "RAID10", BTRFS_BLOCK_GROUP_RAID10, 2 },
	{ "raid5", "RAID5", BTRFS_BLOCK_GROUP_RAID5, 2 },
	{ "raid6", "RAID6", BTRFS_BLOCK_GROUP_RAID6, 3 },
};

#define NR_PROFILES (sizeof(profiles) / sizeof(profiles[0]))

int mkfs_parse_profile(const char *name, u64 *profile)
{
	size_t i;

	for (i = 0; i < NR_PROFILES; i++) {
		if (strcasecmp(profiles[i].name, name) == 0) {
			*profile = profiles[i].bit;
			return 0;
		}
	}
	return -EINVAL;
}

/* The table row of @profile; 0 (no bit) means single. */
static size_t profile_index(u64 profile)
{
	size_t i;

	profile &= BTRFS_BLOCK_GROUP_PROFILE_MASK;
	for (i = 1; i < NR_PROFILES; i++)
		if (profile & profiles[i].bit)
			return i;
	return 0;
}

const char *mkfs_profile_name(u64 profile)
{
	return profiles[profile_index(profile)].print;
}

int mkfs_profile_min_devices(u64 profile)
{
	return profiles[profile_index(profile)].min_devices;
}
