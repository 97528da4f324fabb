// SPDX-License-Identifier: GPL-2.0
/*
 * mkfs.btrfs: make a new btrfs filesystem on one or more devices or image
 * files.  This file parses the command line, fills in the defaults of
 * btrfs-progs 6.2, refuses what cannot work, and prints the summary; the
 * devices are checked and opened by mkfs-devices.c and the filesystem is
 * written by the engine (btrfs_make_filesystem()).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <uuid/uuid.h>

#include "common/csum.h"
#include "cmds/commands.h"
#include "cmds/help.h"
#include "cmds/mkfs/mkfs.h"
#include "cmds/mkfs/mkfs-devices.h"
#include "cmds/open-error.h"
#include "common/messages.h"
#include "common/utils.h"
#include "kernel-shared/undo.h"
#include "kernel-shared/volumes.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "unknown"
#endif

#define MKFS_MIN_NODESIZE	4096U
#define MKFS_MAX_NODESIZE	65536U
#define MKFS_DEFAULT_NODESIZE	16384U
#define MKFS_DEFAULT_SECTORSIZE	4096U

static const char * const mkfs_usage[] = {
	"mkfs.btrfs [options] <dev> [<dev...>]",
	"Make a btrfs filesystem on one or more devices or image files",
	"",
	"Allocation profiles:",
	OPTLINE("-d|--data PROFILE", "profile of data block groups: single, dup, raid0,\nraid1, raid1c3, raid1c4, raid10, raid5 or raid6"),
	OPTLINE("-m|--metadata PROFILE", "profile of metadata block groups, same names"),
	OPTLINE("-M|--mixed", "data and metadata in the same block groups"),
	"Features:",
	"--csum TYPE",
	OPTLINE("--checksum TYPE", "checksum type: crc32c (default), xxhash, sha256,\nblake2"),
	OPTLINE("-n|--nodesize SIZE", "size of a tree block (default 16K)"),
	OPTLINE("-s|--sectorsize SIZE", "size of a data block (default 4K)"),
	OPTLINE("-O|--features LIST", "filesystem features to turn on, or off with ^\n('-O list-all' lists them)"),
	"-R|--runtime-features LIST",
	OPTLINE("", "runtime features to turn on, or off with ^\n('-R list-all' lists them)"),
	OPTLINE("-L|--label LABEL", "label of the filesystem"),
	OPTLINE("-U|--uuid UUID", "filesystem UUID (must not be in use)"),
	OPTLINE("--device-uuid UUID", "UUID of the first device"),
	"Creation:",
	OPTLINE("-b|--byte-count SIZE", "use SIZE bytes of every device"),
	OPTLINE("-r|--rootdir DIR", "copy DIR into the new filesystem (not supported\nyet: refused)"),
	OPTLINE("--shrink", "with --rootdir, shrink to the smallest size\n(not supported yet: refused)"),
	OPTLINE("-K|--nodiscard", "do not discard (TRIM) block devices first"),
	OPTLINE("--undo FILE", "save what is overwritten to FILE, so that\n'btrfs rescue undo FILE DEVICE...' can put it back\n(implies -K)"),
	OPTLINE("-f|--force", "overwrite devices that hold a filesystem"),
	"General:",
	OPTLINE("-q|--quiet", "print nothing but errors"),
	OPTLINE("-v|--verbose", "more messages (repeatable)"),
	OPTLINE("-V|--version", "print the version and exit"),
	OPTLINE("--help", "print this help and exit"),
	NULL
};

static int cmd_mkfs(const struct cmd_struct *cmd, int argc, char **argv);

static DEFINE_COMMAND(mkfs, "mkfs.btrfs", mkfs_usage);

enum {
	OPT_CSUM = 256,
	OPT_DEVICE_UUID,
	OPT_SHRINK,
	OPT_UNDO,
	OPT_HELP,
};

static const struct option long_options[] = {
	{ "byte-count", required_argument, NULL, 'b' },
	{ "csum", required_argument, NULL, OPT_CSUM },
	{ "checksum", required_argument, NULL, OPT_CSUM },
	{ "data", required_argument, NULL, 'd' },
	{ "device-uuid", required_argument, NULL, OPT_DEVICE_UUID },
	{ "features", required_argument, NULL, 'O' },
	{ "force", no_argument, NULL, 'f' },
	{ "help", no_argument, NULL, OPT_HELP },
	{ "label", required_argument, NULL, 'L' },
	{ "leafsize", required_argument, NULL, 'l' },
	{ "metadata", required_argument, NULL, 'm' },
	{ "mixed", no_argument, NULL, 'M' },
	{ "nodesize", required_argument, NULL, 'n' },
	{ "nodiscard", no_argument, NULL, 'K' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "rootdir", required_argument, NULL, 'r' },
	{ "runtime-features", required_argument, NULL, 'R' },
	{ "sectorsize", required_argument, NULL, 's' },
	{ "shrink", no_argument, NULL, OPT_SHRINK },
	{ "undo", required_argument, NULL, OPT_UNDO },
	{ "uuid", required_argument, NULL, 'U' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 }
};

/* A size option (-n, -s, -b); 0 or -1 after an error. */
static int parse_size_opt(const char *arg, u64 *out)
{
	if (parse_size(arg, out)) {
		error("size value '%s' is invalid", arg);
		return -1;
	}
	return 0;
}

static int parse_u32_size_opt(const char *arg, const char *what, u32 *out)
{
	u64 v;

	if (parse_size_opt(arg, &v))
		return -1;
	if (v == 0 || v > UINT32_MAX) {
		error("%s %s is out of range", what, arg);
		return -1;
	}
	*out = (u32)v;
	return 0;
}

static int parse_uuid_opt(const char *arg, u8 *out)
{
	if (uuid_parse(arg, out)) {
		error("could not parse UUID: %s", arg);
		return -1;
	}
	return 0;
}

static int parse_profile_opt(const char *arg, const char *what, u64 *out)
{
	if (mkfs_parse_profile(arg, out)) {
		error("unknown %s profile %s", what, arg);
		return -1;
	}
	return 0;
}

/* Options that have no value to keep. */
static int parse_flag_option(int c, struct mkfs_opts *opts)
{
	switch (c) {
	case 'f':
		opts->force = true;
		break;
	case 'K':
		opts->nodiscard = true;
		break;
	case 'M':
		opts->mixed = true;
		break;
	case 'q':
		opts->verbose = 0;
		break;
	case 'v':
		opts->verbose++;
		break;
	case 'V':
		printf("mkfs.btrfs, part of btrfs-tools v%s\n", PACKAGE_VERSION);
		exit(0);
	case OPT_HELP:
		usage(&cmd_struct_mkfs, 0);
	default:
		return 1;
	}
	return 0;
}

/* Refusals at parse time: features this mkfs cannot provide yet. */
static int parse_refused_option(int c, const char *arg)
{
	switch (c) {
	case 'r':
		error("--rootdir is not supported by this mkfs.btrfs yet: cannot copy %s",
		      arg);
		return -1;
	case OPT_SHRINK:
		error("--shrink (with --rootdir) is not supported by this mkfs.btrfs yet");
		return -1;
	case 'l':
		error("--leafsize is no longer supported, use --nodesize");
		return -1;
	}
	return 1;
}

/* One option with a value; 0 done, -1 error (printed). */
static int parse_value_option(int c, const char *arg, struct mkfs_opts *opts)
{
	switch (c) {
	case 'b':
		if (parse_size_opt(arg, &opts->byte_count))
			return -1;
		if (!opts->byte_count) {
			error("byte count %s is out of range", arg);
			return -1;
		}
		return 0;
	case 'd':
		opts->data_set = true;
		return parse_profile_opt(arg, "data", &opts->data_profile);
	case 'm':
		opts->meta_set = true;
		return parse_profile_opt(arg, "metadata", &opts->meta_profile);
	case 'n':
		return parse_u32_size_opt(arg, "nodesize", &opts->nodesize);
	case 's':
		return parse_u32_size_opt(arg, "sectorsize", &opts->sectorsize);
	case 'L':
		opts->label = arg;
		return 0;
	case 'U':
		opts->fsid_set = true;
		return parse_uuid_opt(arg, opts->fsid);
	case OPT_UNDO:
		opts->undo_file = arg;
		return 0;
	case OPT_DEVICE_UUID:
		opts->dev_uuid_set = true;
		return parse_uuid_opt(arg, opts->dev_uuid);
	case OPT_CSUM:
		opts->csum_type = btrfs_csum_type_parse(arg);
		if (opts->csum_type < 0) {
			error("unknown csum type %s", arg);
			return -1;
		}
		return 0;
	case 'O':
		return mkfs_parse_features(MKFS_FS_FEATURES, arg,
					   &opts->features) ? -1 : 0;
	case 'R':
		return mkfs_parse_features(MKFS_RUNTIME_FEATURES, arg,
					   &opts->features) ? -1 : 0;
	}
	return parse_refused_option(c, arg);
}

/* Fill @opts from the command line; 0, or -1 after printing why not. */
static int parse_args(struct mkfs_opts *opts, int argc, char **argv)
{
	int c, ret;

	memset(opts, 0, sizeof(*opts));
	opts->verbose = 1;
	opts->csum_type = BTRFS_CSUM_TYPE_CRC32;
	opts->features = mkfs_default_features();
	while ((c = getopt_long(argc, argv, "b:d:fKl:L:m:Mn:O:qr:R:s:U:vV",
				long_options, NULL)) != -1) {
		if (c == '?' || c == ':')
			usage(&cmd_struct_mkfs, 1);
		if (!parse_flag_option(c, opts))
			continue;
		ret = parse_value_option(c, optarg, opts);
		if (ret)
			return -1;
	}
	if (optind >= argc)
		usage(&cmd_struct_mkfs, 1);
	opts->devices = argv + optind;
	opts->nr_devices = argc - optind;
	return 0;
}

static int check_sizes(struct mkfs_opts *opts)
{
	u32 page = (u32)sysconf(_SC_PAGESIZE);
	u32 ns;

	if (!opts->sectorsize)
		opts->sectorsize = MKFS_DEFAULT_SECTORSIZE;
	if (opts->sectorsize != MKFS_DEFAULT_SECTORSIZE &&
	    opts->sectorsize != page) {
		error("sectorsize %u is not supported: it must be 4096 or the page size (%u)",
		      opts->sectorsize, page);
		return -1;
	}
	if (!opts->nodesize)
		opts->nodesize = opts->mixed ? opts->sectorsize :
				 (page > MKFS_DEFAULT_NODESIZE ? page :
				  MKFS_DEFAULT_NODESIZE);
	ns = opts->nodesize;
	if (ns < MKFS_MIN_NODESIZE)
		error("illegal nodesize %u (smaller than %u)", ns,
		      MKFS_MIN_NODESIZE);
	else if (ns > MKFS_MAX_NODESIZE)
		error("illegal nodesize %u (larger than %u)", ns,
		      MKFS_MAX_NODESIZE);
	else if (ns & (ns - 1))
		error("illegal nodesize %u (not a power of 2)", ns);
	else if (ns < opts->sectorsize)
		error("illegal nodesize %u (smaller than sectorsize %u)", ns,
		      opts->sectorsize);
	else if (opts->mixed && ns != opts->sectorsize)
		error("illegal nodesize %u (not equal to sectorsize %u for mixed block groups)",
		      ns, opts->sectorsize);
	else
		return 0;
	return -1;
}

/* Enough devices for @profile?  @what: "data" or "metadata". */
static int check_profile_devices(const char *what, u64 profile, int nr)
{
	int need = mkfs_profile_min_devices(profile);

	if (nr >= need)
		return 0;
	error("%s profile %s needs at least %d devices, %d given", what,
	      mkfs_profile_name(profile), need, nr);
	return -1;
}

static int check_profiles(struct mkfs_opts *opts)
{
	if (opts->nr_devices > BTRFS_CHUNK_PLAN_MAX_STRIPES) {
		error("too many devices: %d given, at most %d supported",
		      opts->nr_devices, BTRFS_CHUNK_PLAN_MAX_STRIPES);
		return -1;
	}
	if (!opts->meta_set)
		opts->meta_profile = opts->mixed ? 0 :
			opts->nr_devices > 1 ? BTRFS_BLOCK_GROUP_RAID1 :
			BTRFS_BLOCK_GROUP_DUP;
	if (opts->mixed && opts->data_profile != opts->meta_profile) {
		error("with mixed block groups data and metadata profiles must be the same");
		return -1;
	}
	if (check_profile_devices("data", opts->data_profile,
				  opts->nr_devices) ||
	    check_profile_devices("metadata", opts->meta_profile,
				  opts->nr_devices))
		return -1;
	if ((opts->data_profile | opts->meta_profile) &
	    BTRFS_BLOCK_GROUP_RAID56_MASK)
		warning("raid5 and raid6 can lose recently written data after a crash (write hole); keep backups");
	if (opts->nr_devices == 3 &&
	    ((opts->data_profile | opts->meta_profile) &
	     BTRFS_BLOCK_GROUP_RAID6))
		warning("raid6 on 3 devices stores one data stripe per row: raid1c3 gives the same space");
	if (opts->nr_devices > 1 &&
	    (opts->data_profile & BTRFS_BLOCK_GROUP_DUP))
		warning("DUP data on a filesystem of several devices is not recommended");
	return 0;
}

static int check_features(struct mkfs_opts *opts)
{
	if (opts->features & MKFS_FEAT(ZONED)) {
		error("zoned mode is not supported by this mkfs.btrfs");
		return -1;
	}
	if ((opts->features & MKFS_FEAT(BLOCK_GROUP_TREE)) &&
	    !(opts->features & MKFS_FEAT(FREE_SPACE_TREE))) {
		error("block-group-tree needs free-space-tree (do not use -R ^free-space-tree with it)");
		return -1;
	}
	if (opts->mixed)
		opts->features |= MKFS_FEAT(MIXED_BG);
	return 0;
}

static int check_identity(struct mkfs_opts *opts)
{
	char text[40];

	if (opts->label && strlen(opts->label) >= BTRFS_LABEL_SIZE) {
		error("label %s is too long (max %d)", opts->label,
		      BTRFS_LABEL_SIZE - 1);
		return -1;
	}
	if (!opts->fsid_set) {
		uuid_generate(opts->fsid);
		return 0;
	}
	if (mkfs_fsid_in_use(opts->fsid)) {
		uuid_unparse(opts->fsid, text);
		error("non-unique UUID: %s is already used by a filesystem on this machine",
		      text);
		return -1;
	}
	return 0;
}

/* Defaults that depend on other options, then every refusal. */
static int check_options(struct mkfs_opts *opts)
{
	if (opts->features & MKFS_FEAT(MIXED_BG))
		opts->mixed = true;
	if (check_features(opts) || check_sizes(opts) ||
	    check_profiles(opts) || check_identity(opts))
		return -1;
	return 0;
}

static void fill_config(const struct mkfs_opts *opts,
			const struct mkfs_device *mdevs,
			struct btrfs_mkfs_device *devs,
			struct btrfs_mkfs_config *cfg)
{
	int i;

	for (i = 0; i < opts->nr_devices; i++) {
		devs[i].io = mdevs[i].io;
		devs[i].path = mdevs[i].path;
		devs[i].size = mdevs[i].size;
		if (i == 0 && opts->dev_uuid_set)
			memcpy(devs[i].uuid, opts->dev_uuid, BTRFS_UUID_SIZE);
		else
			uuid_generate(devs[i].uuid);
	}
	memset(cfg, 0, sizeof(*cfg));
	cfg->devices = devs;
	cfg->nr_devices = opts->nr_devices;
	if (opts->label)
		snprintf(cfg->label, sizeof(cfg->label), "%s", opts->label);
	memcpy(cfg->fsid, opts->fsid, BTRFS_FSID_SIZE);
	cfg->nodesize = opts->nodesize;
	cfg->sectorsize = opts->sectorsize;
	cfg->csum_type = (u16)opts->csum_type;
	cfg->data_profile = opts->data_profile;
	cfg->metadata_profile = opts->meta_profile;
	cfg->mixed = opts->mixed;
	mkfs_feature_flags(opts->features, opts->data_profile,
			   opts->meta_profile, &cfg->incompat_flags,
			   &cfg->compat_ro_flags);
	cfg->quota = opts->features & MKFS_FEAT(QUOTA);
}

/* Every device must hold the first chunks; print the minimum if not. */
static int check_min_size(const struct btrfs_mkfs_config *cfg)
{
	u64 min = btrfs_mkfs_min_dev_size(cfg);
	int i;

	for (i = 0; i < cfg->nr_devices; i++) {
		if (cfg->devices[i].size >= min)
			continue;
		error("'%s' is too small to make a usable filesystem: %llu bytes, the minimum size for each device is %llu bytes",
		      cfg->devices[i].path,
		      (unsigned long long)cfg->devices[i].size,
		      (unsigned long long)min);
		return -1;
	}
	return 0;
}

/* "  Data:             single            8.00MiB" for each chunk type. */
static void print_profiles(const struct btrfs_mkfs_config *cfg,
			   const struct btrfs_mkfs_result *res)
{
	static const struct {
		u64 type;
		const char *name;
	} rows[] = {
		{ BTRFS_BLOCK_GROUP_DATA | BTRFS_BLOCK_GROUP_METADATA,
		  "Data+Metadata:" },
		{ BTRFS_BLOCK_GROUP_DATA, "Data:" },
		{ BTRFS_BLOCK_GROUP_METADATA, "Metadata:" },
		{ BTRFS_BLOCK_GROUP_SYSTEM, "System:" },
	};
	char size[PRETTY_SIZE_LEN];
	u64 total, profile;
	size_t r;
	int i;

	(void)cfg;
	for (r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
		total = 0;
		profile = 0;
		for (i = 0; i < res->nr_chunks && i < BTRFS_MKFS_MAX_CHUNKS;
		     i++) {
			u64 type = res->chunks[i].type;

			if ((type & BTRFS_BLOCK_GROUP_TYPE_MASK) != rows[r].type)
				continue;
			if (!total)
				profile = type;
			total += res->chunks[i].length;
		}
		if (total)
			printf("  %-18s%-10s%15s\n", rows[r].name,
			       mkfs_profile_name(profile),
			       pretty_size(total, size));
	}
}

static void print_summary(const struct mkfs_opts *opts,
			  const struct mkfs_device *mdevs,
			  const struct btrfs_mkfs_config *cfg,
			  const struct btrfs_mkfs_result *res)
{
	char text[40], size[PRETTY_SIZE_LEN], names[256];
	int i;

	uuid_unparse(cfg->fsid, text);
	printf("Label:              %s\n", cfg->label[0] ? cfg->label : "(null)");
	printf("UUID:               %s\n", text);
	printf("Node size:          %u\n", cfg->nodesize);
	printf("Sector size:        %u\n", cfg->sectorsize);
	printf("Filesystem size:    %s\n", pretty_size(res->total_bytes, size));
	printf("Block group profiles:\n");
	print_profiles(cfg, res);
	printf("SSD detected:       %s\n",
	       mkfs_any_ssd(mdevs, cfg->nr_devices) ? "yes" : "no");
	printf("Zoned device:       no\n");
	/* with the features the profiles imply (raid56, raid1c34) */
	mkfs_feature_names(MKFS_FS_FEATURES, opts->features |
			   ((cfg->incompat_flags &
			     BTRFS_FEATURE_INCOMPAT_RAID56) ?
			    MKFS_FEAT(RAID56) : 0) |
			   ((cfg->incompat_flags &
			     BTRFS_FEATURE_INCOMPAT_RAID1C34) ?
			    MKFS_FEAT(RAID1C34) : 0), names, sizeof(names));
	printf("Incompat features:  %s\n", names);
	mkfs_feature_names(MKFS_RUNTIME_FEATURES, opts->features, names,
			   sizeof(names));
	printf("Runtime features:   %s\n", names);
	printf("Checksum:           %s\n", btrfs_csum_type_name(cfg->csum_type));
	printf("Number of devices:  %d\n", cfg->nr_devices);
	printf("Devices:\n");
	printf("   ID        SIZE  PATH\n");
	for (i = 0; i < cfg->nr_devices; i++)
		printf("  %3d  %10s  %s\n", i + 1,
		       pretty_size(cfg->devices[i].size, size),
		       cfg->devices[i].path);
	printf("\n");
}

static void discard_devices(const struct mkfs_opts *opts,
			    const struct mkfs_device *mdevs)
{
	bool any = false;
	int i;

	/* a discard cannot be undone: --undo implies -K */
	if (opts->nodiscard || opts->undo_file)
		return;
	for (i = 0; i < opts->nr_devices; i++) {
		if (!mdevs[i].is_bdev)
			continue;
		mkfs_discard_device(&mdevs[i], opts->verbose);
		any = true;
	}
	if (any && opts->verbose)
		printf("\n");
}

/*
 * --undo: create the undo file and stack its recorder over every device.
 * Returns the recorder (NULL without --undo); on error prints why, sets
 * *failed and returns what must be aborted.
 */
static struct btrfs_undo *start_undo(const struct mkfs_opts *opts,
				     struct mkfs_device *mdevs, bool *failed)
{
	struct btrfs_undo *undo;
	int i, ret;

	*failed = false;
	if (!opts->undo_file)
		return NULL;
	ret = btrfs_undo_create(opts->undo_file, "mkfs.btrfs", &undo);
	if (ret == -EEXIST)
		error("undo file %s exists and is not empty (the undo file of an earlier command?): refusing to overwrite it",
		      opts->undo_file);
	else if (ret)
		error("cannot create undo file %s: %s", opts->undo_file,
		      strerror(-ret));
	if (ret) {
		*failed = true;
		return NULL;
	}
	for (i = 0; i < opts->nr_devices; i++) {
		struct btrfs_io *io;

		ret = btrfs_undo_push(undo, mdevs[i].io, &io);
		if (ret) {
			error("cannot record %s in undo file %s: %s",
			      mdevs[i].path, opts->undo_file, strerror(-ret));
			*failed = true;
			break;
		}
		mdevs[i].io = io;
	}
	return undo;
}

/* Close the devices and finish the undo file.  0 or -1 (printed). */
static int close_all(const struct mkfs_opts *opts, struct mkfs_device *mdevs,
		     struct btrfs_undo *undo)
{
	u64 bytes = 0, records = 0;
	int ret = mkfs_close_devices(mdevs, opts->nr_devices);
	int err;

	if (!undo)
		return ret;
	btrfs_undo_stats(undo, &bytes, &records);
	err = btrfs_undo_finish(undo);
	if (err) {
		error("finishing undo file %s failed: %s (its records can still be replayed)",
		      opts->undo_file, strerror(-err));
		return -1;
	}
	if (opts->verbose)
		printf("Undo file %s: %llu %s of old data in %llu %s\n",
		       opts->undo_file, (unsigned long long)bytes,
		       plural(bytes, "byte", "bytes"),
		       (unsigned long long)records,
		       plural(records, "record", "records"));
	return ret;
}

/* Open, check sizes, discard, write, print.  0 or -1 (error printed). */
static int make_filesystem(const struct mkfs_opts *opts,
			   struct mkfs_device *mdevs,
			   struct btrfs_mkfs_device *devs)
{
	struct btrfs_mkfs_config cfg;
	struct btrfs_mkfs_result res;
	struct btrfs_undo *undo;
	const char *what = NULL;
	bool failed;
	int ret;

	if (mkfs_open_devices(opts->devices, opts->nr_devices, opts->force,
			      opts->byte_count, mdevs))
		return -1;
	undo = start_undo(opts, mdevs, &failed);
	if (failed) {
		mkfs_close_devices(mdevs, opts->nr_devices);
		if (undo) {
			/* nothing was written yet: no use for the file */
			btrfs_undo_abort(undo);
			unlink(opts->undo_file);
		}
		return -1;
	}
	fill_config(opts, mdevs, devs, &cfg);
	if (check_min_size(&cfg)) {
		close_all(opts, mdevs, undo);
		return -1;
	}
	/* only now: a refused command line or device prints nothing here */
	if (opts->verbose)
		printf("btrfs-tools v%s\nSee mkfs.btrfs(8) for more information.\n\n",
		       PACKAGE_VERSION);
	fflush(stdout);
	discard_devices(opts, mdevs);
	memset(&res, 0, sizeof(res));
	ret = btrfs_make_filesystem(&cfg, &res, &what);
	if (ret < 0) {
		error("making the filesystem failed while %s: %s",
		      what ? what : "writing", strerror(-ret));
		error_last_io();
		if (undo)
			fprintf(stderr, "'btrfs rescue undo %s' with the same devices puts back what was overwritten\n",
				opts->undo_file);
	}
	if (close_all(opts, mdevs, undo) && ret >= 0)
		ret = -EIO;
	if (ret < 0)
		return -1;
	if (opts->verbose)
		print_summary(opts, mdevs, &cfg, &res);
	return 0;
}

static int cmd_mkfs(const struct cmd_struct *cmd, int argc, char **argv)
{
	struct btrfs_mkfs_device *devs;
	struct mkfs_device *mdevs;
	struct mkfs_opts opts;
	int ret;

	(void)cmd;
	if (parse_args(&opts, argc, argv))
		return 1;
	if (check_options(&opts))
		return 1;
	devs = calloc(opts.nr_devices, sizeof(*devs));
	mdevs = calloc(opts.nr_devices, sizeof(*mdevs));
	if (!devs || !mdevs) {
		error("not enough memory");
		ret = -1;
	} else {
		ret = make_filesystem(&opts, mdevs, devs);
	}
	free(devs);
	free(mdevs);
	return ret ? 1 : 0;
}

int main(int argc, char **argv)
{
	help_set_command_path("mkfs.btrfs");
	return cmd_mkfs(&cmd_struct_mkfs, argc, argv);
}
