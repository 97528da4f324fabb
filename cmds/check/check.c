// SPDX-License-Identifier: GPL-2.0
/*
 * btrfs check: the command.  Parses the options, refuses a mounted
 * filesystem, opens the filesystem read-only and runs the passes of
 * cmds/check/pass-*.c in order from one table, then prints the summary.
 *
 * Exit status: 0 no error found, 1 errors found (or a usage / mount
 * refusal), 2 the filesystem could not be opened at all or a device of it
 * is missing (then the rest was checked, but not all of it could be).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <uuid/uuid.h>

#include "cmds/check/check.h"
#include "cmds/mounted.h"
#include "cmds/commands.h"
#include "cmds/open-error.h"
#include "common/messages.h"
#include "common/utils.h"
#include "kernel-shared/disk-io.h"
#include "kernel-shared/volumes.h"

#define CHECK_EXIT_CLEAN	0
#define CHECK_EXIT_ERRORS	1
#define CHECK_EXIT_NO_OPEN	2

/*
 * Tree block cache bound.  The passes walk the trees in the same order, so
 * a cache much smaller than the metadata still serves the nodes (what is
 * read again); leaves are re-read from the page cache.
 */
#define CHECK_CACHE_BYTES	(16ULL << 20)

static const char * const cmd_check_usage[] = {
	"btrfs check [options] <device> [<device>...]",
	"Check structural integrity of a filesystem (unmounted).",
	"",
	"Check structural integrity of an unmounted filesystem: every tree block,",
	"the extent tree against the references found, free space, directories and",
	"inodes, checksums, subvolume references and the uuid tree. Read-only.",
	"",
	"Starting point selection:",
	OPTLINE("-s|--super <superblock>", "use this superblock copy (0, 1 or 2)"),
	OPTLINE("-b|--backup", "use the first valid backup root copy"),
	OPTLINE("-r|--tree-root <bytenr>", "use the given bytenr for the tree root"),
	OPTLINE("--chunk-root <bytenr>", "use the given bytenr for the chunk tree root"),
	"",
	"Operation modes:",
	OPTLINE("--readonly", "run in read-only mode (default)"),
	OPTLINE("--repair", "not implemented yet: refused"),
	OPTLINE("--force", "check a mounted filesystem (read-only, never repair)"),
	OPTLINE("--mode <MODE>", "original or lowmem: accepted, one engine serves both"),
	"",
	"Check and reporting options:",
	OPTLINE("--check-data-csum", "verify checksums of data blocks"),
	OPTLINE("-Q|--qgroup-report", "print a report on qgroup consistency"),
	OPTLINE("-E|--subvol-extents <subvolid>", "print subvolume extents and sharing state"),
	OPTLINE("-p|--progress", "indicate progress (counts and rate on a terminal)"),
	OPTLINE("-q|--quiet", "print only findings and the summary"),
	NULL
};

struct check_opts {
	int super_mirror;
	bool backup;
	bool force;
	u64 tree_root;
	u64 chunk_root;
	unsigned int flags;	/* CHECK_F_* */
	u64 subvol_extents;
};

/* The passes, in the order they run; their labels are the progress lines. */
static const struct check_pass {
	int (*fn)(struct check_ctx *ctx);
	const char *label;
} check_passes[] = {
	{ check_pass_super, "checking superblock" },
	{ check_pass_chunks, "checking chunks, devices and block groups" },
	{ check_pass_tree_blocks, "checking tree blocks" },
	{ check_pass_extents, "checking extents" },
	{ check_pass_free_space, "checking free space" },
	{ check_pass_fs_trees, "checking fs roots" },
	{ check_pass_csums, "checking csums" },
	{ check_pass_roots, "checking root refs, uuid tree and quota groups" },
};

enum {
	OPT_READONLY = 256,
	OPT_REPAIR,
	OPT_FORCE,
	OPT_CHUNK_ROOT,
	OPT_DATA_CSUM,
	OPT_MODE,
};

static const struct option check_long_options[] = {
	{ "super", required_argument, NULL, 's' },
	{ "backup", no_argument, NULL, 'b' },
	{ "tree-root", required_argument, NULL, 'r' },
	{ "chunk-root", required_argument, NULL, OPT_CHUNK_ROOT },
	{ "readonly", no_argument, NULL, OPT_READONLY },
	{ "repair", no_argument, NULL, OPT_REPAIR },
	{ "force", no_argument, NULL, OPT_FORCE },
	{ "mode", required_argument, NULL, OPT_MODE },
	{ "check-data-csum", no_argument, NULL, OPT_DATA_CSUM },
	{ "qgroup-report", no_argument, NULL, 'Q' },
	{ "subvol-extents", required_argument, NULL, 'E' },
	{ "progress", no_argument, NULL, 'p' },
	{ "quiet", no_argument, NULL, 'q' },
	{ NULL, 0, NULL, 0 }
};

static int parse_bytenr(const char *opt, const char *arg, u64 *out)
{
	if (parse_u64(arg, out) || *out == 0) {
		error("invalid %s: %s", opt, arg);
		return -1;
	}
	return 0;
}

/* One option; 0, or 1 to stop with a usage error already printed. */
static int parse_one(const struct cmd_struct *cmd, int c, char **argv,
		     struct check_opts *o)
{
	u64 v;

	switch (c) {
	case 's':
		if (parse_u64(optarg, &v) || v > 2) {
			error("super mirror should be 0, 1 or 2: %s", optarg);
			return 1;
		}
		o->super_mirror = (int)v;
		return 0;
	case 'b': o->backup = true; return 0;
	case 'r': return parse_bytenr("tree root", optarg, &o->tree_root);
	case OPT_CHUNK_ROOT:
		return parse_bytenr("chunk root", optarg, &o->chunk_root);
	case OPT_READONLY: return 0;
	case OPT_REPAIR:
		error("--repair is not implemented yet; run without it for a read-only check");
		return 1;
	case OPT_FORCE: o->force = true; return 0;
	case OPT_MODE:
		if (strcmp(optarg, "original") && strcmp(optarg, "lowmem")) {
			error("unknown mode: %s (original or lowmem)", optarg);
			return 1;
		}
		return 0;
	case OPT_DATA_CSUM: o->flags |= CHECK_F_DATA_CSUM; return 0;
	case 'Q': o->flags |= CHECK_F_QGROUP_REPORT; return 0;
	case 'E':
		if (parse_u64(optarg, &o->subvol_extents) ||
		    !o->subvol_extents) {
			error("invalid subvolume id: %s", optarg);
			return 1;
		}
		return 0;
	case 'p': o->flags |= CHECK_F_PROGRESS; return 0;
	case 'q': o->flags |= CHECK_F_QUIET; return 0;
	default:
		usage_unknown_option(cmd, argv);
	}
}

static int parse_options(const struct cmd_struct *cmd, int argc, char **argv,
			 struct check_opts *o)
{
	int c;

	while ((c = getopt_long(argc, argv, "s:br:QE:pq", check_long_options,
				NULL)) != -1)
		if (parse_one(cmd, c, argv, o))
			return 1;
	if (check_argc_min(argc - optind, 1))
		return 1;
	if (o->backup && (o->tree_root || o->super_mirror)) {
		error("--backup cannot be combined with --tree-root or --super");
		return 1;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Is the filesystem mounted? */

/* Mount point of the filesystem if one of its devices is mounted. */
static bool is_mounted(struct btrfs_fs_info *fs_info, char *where, size_t len)
{
	const char *paths[64];
	const struct btrfs_device *dev;
	char fsid[37];
	int nr = 0;

	uuid_unparse(fs_info->fsid, fsid);

	for (dev = fs_info->fs_devices->devices; dev && nr < 64;
	     dev = dev->next)
		if (dev->name)
			paths[nr++] = dev->name;
	return devices_mounted(paths, nr, fsid, where, len);
}

/* ------------------------------------------------------------------ */

static void report_open_error(const char *device,
			      const struct open_ctree_error *why)
{
	error_open_ctree(device, why, NULL, NULL);
	error("cannot open file system");
}

static void print_summary(struct check_ctx *ctx)
{
	const struct check_stats *s = &ctx->stats;
	FILE *out = ctx->out;

	if (ctx->nr_findings)
		fprintf(out, "found %llu bytes used, %llu error%s found\n",
			(unsigned long long)s->bytes_used,
			(unsigned long long)ctx->nr_findings,
			ctx->nr_findings == 1 ? "" : "s");
	else
		fprintf(out, "found %llu bytes used, no error found\n",
			(unsigned long long)s->bytes_used);
	fprintf(out, "total csum bytes: %llu\n",
		(unsigned long long)s->total_csum_bytes);
	fprintf(out, "total tree bytes: %llu\n",
		(unsigned long long)s->total_tree_bytes);
	fprintf(out, "total fs tree bytes: %llu\n",
		(unsigned long long)s->total_fs_tree_bytes);
	fprintf(out, "total extent tree bytes: %llu\n",
		(unsigned long long)s->total_extent_tree_bytes);
	fprintf(out, "btree space waste bytes: %llu\n",
		(unsigned long long)s->btree_space_waste);
	fprintf(out, "file data blocks allocated: %llu\n",
		(unsigned long long)s->data_bytes_allocated);
	fprintf(out, " referenced %llu\n",
		(unsigned long long)s->data_bytes_referenced);
}

static void run_passes(struct check_ctx *ctx)
{
	int total = (int)ARRAY_SIZE(check_passes);
	int i;

	for (i = 0; i < total; i++) {
		u64 before = ctx->nr_findings;

		check_progress_begin(ctx, i + 1, total, check_passes[i].label);
		/* bad tree block copies met while opening, or by read-ahead */
		check_bad_copies_flush(ctx);
		check_passes[i].fn(ctx);
		check_bad_copies_flush(ctx);
		check_progress_end(ctx);
		if (ctx->nr_findings != before && !(ctx->flags & CHECK_F_QUIET))
			fprintf(ctx->out, "      %llu error%s in this pass\n",
				(unsigned long long)(ctx->nr_findings - before),
				ctx->nr_findings - before == 1 ? "" : "s");
	}
}

/*
 * The open failed: if the chunk tree alone still opens, the chunk items
 * may say why (a chunk dropped because it does not validate leaves the
 * trees in it unreadable).
 */
static void check_chunks_at_open_failure(const struct open_ctree_args *failed,
					 struct check_ctx *ctx)
{
	struct open_ctree_args args = *failed;
	struct open_ctree_error why = { 0 };
	struct btrfs_fs_info *fs_info;

	args.flags = OPEN_CTREE_PARTIAL | OPEN_CTREE_CHUNK_ONLY;
	args.tree_root_bytenr = 0;
	args.on_bad_copy = NULL;
	args.on_bad_copy_data = NULL;
	if (open_ctree(&args, &fs_info, &why))
		return;
	ctx->fs_info = fs_info;
	check_chunk_items_only(ctx);
	ctx->fs_info = NULL;
	close_ctree(fs_info);
}

static int open_fs(const struct check_opts *o, char **devices, int nr,
		   struct check_ctx *ctx, struct btrfs_fs_info **fs_info)
{
	struct open_ctree_args args = {
		.devices = (const char * const *)devices,
		.nr_devices = nr,
		.super_mirror = o->super_mirror,
		.tree_root_bytenr = o->tree_root,
		.chunk_root_bytenr = o->chunk_root,
		.flags = OPEN_CTREE_PARTIAL,
		.cache_bytes = CHECK_CACHE_BYTES,
		.on_bad_copy = check_on_bad_copy,
		.on_bad_copy_data = ctx,
	};
	struct open_ctree_error why = { 0 };

	if (o->backup)
		args.flags |= OPEN_CTREE_BACKUP_ROOT;
	if (open_ctree(&args, fs_info, &why)) {
		check_short_devices_at_open(ctx, devices, nr);
		check_chunks_at_open_failure(&args, ctx);
		report_open_error(devices[0], &why);
		return -1;
	}
	return 0;
}

static int run_check(const struct check_opts *o, char **devices, int nr)
{
	struct check_ctx ctx = {
		.flags = o->flags,
		.subvol_extents = o->subvol_extents,
		.out = stdout,
		.err = stderr,
	};
	struct btrfs_fs_info *fs_info;
	char uuid[37], mnt[PATH_MAX];

	if (!(o->flags & CHECK_F_QUIET))
		printf("Opening filesystem to check...\n");
	fflush(stdout);
	if (open_fs(o, devices, nr, &ctx, &fs_info)) {
		check_devices_free(&ctx);
		return CHECK_EXIT_NO_OPEN;
	}
	if (is_mounted(fs_info, mnt, sizeof(mnt))) {
		if (!o->force) {
			error("%s is mounted on %s: refusing to check it (--force checks it read-only)",
			      devices[0], mnt);
			close_ctree(fs_info);
			check_devices_free(&ctx);
			return CHECK_EXIT_ERRORS;
		}
		warning("%s is mounted on %s: checking read-only, results may be inconsistent",
			devices[0], mnt);
	}
	ctx.fs_info = fs_info;
	ctx.stats.bytes_used = btrfs_super_bytes_used(&fs_info->super_copy);
	uuid_unparse(fs_info->fsid, uuid);
	if (!(o->flags & CHECK_F_QUIET))
		printf("Checking filesystem on %s\nUUID: %s\n", devices[0],
		       uuid);
	if (o->subvol_extents) {
		int ret;

		printf("Print extent state for subvolume %llu on %s\nUUID: %s\n",
		       (unsigned long long)o->subvol_extents, devices[0], uuid);
		ret = check_subvol_extents(&ctx, o->subvol_extents);
		fflush(stdout);
		close_ctree(fs_info);
		check_devices_free(&ctx);
		return ret ? CHECK_EXIT_ERRORS : CHECK_EXIT_CLEAN;
	}
	run_passes(&ctx);
	print_summary(&ctx);
	fflush(stdout);
	close_ctree(fs_info);
	check_devices_free(&ctx);
	/* a missing device: not the whole filesystem could be checked */
	if (ctx.missing_devices)
		return CHECK_EXIT_NO_OPEN;
	return ctx.nr_findings ? CHECK_EXIT_ERRORS : CHECK_EXIT_CLEAN;
}

static int cmd_check(const struct cmd_struct *cmd, int argc, char **argv)
{
	struct check_opts opts = { 0 };

	if (parse_options(cmd, argc, argv, &opts))
		return 1;
	return run_check(&opts, argv + optind, argc - optind);
}
DEFINE_SIMPLE_COMMAND(check, "check");
