// SPDX-License-Identifier: GPL-2.0
/*
 * btrfs restore: copy files out of a filesystem that cannot (or should not)
 * be mounted.  This file parses the options, opens the filesystem, picks
 * the tree to restore from and prints the summary; restore-walk.c does the
 * work.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <uuid/uuid.h>

#include "cmds/commands.h"
#include "cmds/mounted.h"
#include "cmds/open-error.h"
#include "cmds/restore/restore-sys.h"
#include "cmds/restore/restore.h"
#include "common/compression.h"
#include "common/messages.h"
#include "common/utils.h"
#include "kernel-shared/disk-io.h"
#include "kernel-shared/inode.h"
#include "kernel-shared/item-iter.h"
#include "kernel-shared/print-tree.h"
#include "kernel-shared/volumes.h"

static const char * const cmd_restore_usage[] = {
	"btrfs restore [options] <device> [<device>...] <path>\n"
	"btrfs restore [options] -l <device> [<device>...] [<path>]",
	"Copy files out of an unmounted, possibly damaged, filesystem",
	"",
	"Reads the filesystem directly from its devices, never writing to them,",
	"and recreates its files below <path>.  Tree blocks that cannot be read",
	"are reported and stepped over; everything else is restored.",
	"",
	"Control:",
	OPTLINE("-D|--dry-run", "list what would be restored, create nothing"),
	OPTLINE("-i|--ignore-errors", "go on after errors; write data that is bad on\nevery copy as it was read (zeros where no copy\ncould be read at all)"),
	OPTLINE("-o|--overwrite", "replace files that already exist below <path>\n(without it they are skipped and counted)"),
	OPTLINE("--force", "read the devices even if the filesystem is mounted"),
	OPTLINE("--noscan", "use only the listed devices, do not look for others"),
	"",
	"Restoration:",
	OPTLINE("-m|--metadata", "restore owner, mode and times; recreate fifos,\nsockets and device nodes"),
	OPTLINE("-S|--symlink", "restore symbolic links"),
	OPTLINE("-s|--snapshots", "restore subvolumes and snapshots below the tree\nas directories"),
	OPTLINE("-x|--xattr", "restore extended attributes (and ACLs)"),
	"",
	"Filtering:",
	OPTLINE("--path-regex <regex>", "restore only paths matching the extended regex;\nevery directory on the way must match too, e.g.\n'^/(|home(|/user(|/.*)))$'"),
	OPTLINE("-c", "ignore case in --path-regex"),
	OPTLINE("--include <path>", "restore only <path> (relative to the tree's top)\nand what is below it; repeatable"),
	OPTLINE("--exclude <path>", "skip <path> and what is below it; repeatable"),
	"",
	"Analysis:",
	OPTLINE("-d", "start from the first directory found in the tree\n(when the top directory is lost)"),
	OPTLINE("-l|--list-roots", "list the tree roots and exit (<path> is ignored)"),
	"",
	"Alternate starting point:",
	OPTLINE("-f <bytenr>", "read the filesystem tree from this block"),
	OPTLINE("-r|--root <rootid>", "restore the subvolume with this tree id"),
	OPTLINE("-t <bytenr>", "read the root tree from this block"),
	OPTLINE("-u|--super <mirror>", "use superblock copy <mirror> (0, 1 or 2)"),
	"",
	"Other:",
	OPTLINE("-v|--verbose", "print each path restored; repeat for more"),
	"",
	"Exit status: 0 when everything was restored, 1 otherwise.",
	"Compression support: zlib, lzo, zstd",
	NULL
};

enum {
	OPT_PATH_REGEX = 256,
	OPT_INCLUDE,
	OPT_EXCLUDE,
	OPT_FORCE,
	OPT_NOSCAN,
};

static const struct option restore_long_options[] = {
	{ "dry-run", no_argument, NULL, 'D' },
	{ "ignore-errors", no_argument, NULL, 'i' },
	{ "overwrite", no_argument, NULL, 'o' },
	{ "metadata", no_argument, NULL, 'm' },
	{ "symlink", no_argument, NULL, 'S' },
	{ "snapshots", no_argument, NULL, 's' },
	{ "xattr", no_argument, NULL, 'x' },
	{ "list-roots", no_argument, NULL, 'l' },
	{ "root", required_argument, NULL, 'r' },
	{ "super", required_argument, NULL, 'u' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "path-regex", required_argument, NULL, OPT_PATH_REGEX },
	{ "include", required_argument, NULL, OPT_INCLUDE },
	{ "exclude", required_argument, NULL, OPT_EXCLUDE },
	{ "force", no_argument, NULL, OPT_FORCE },
	{ "noscan", no_argument, NULL, OPT_NOSCAN },
	{ NULL, 0, NULL, 0 }
};

/* A number option: 0x... or decimal, all of it. */
static int parse_number(const char *opt, const char *arg, u64 *out)
{
	if (parse_u64(arg, out) == 0)
		return 0;
	error("invalid number for %s: '%s'", opt, arg);
	return -EINVAL;
}

/* Add @arg to a path list, without leading, trailing or doubled '/'. */
static int add_path(char ***list, int *nr, const char *arg)
{
	char *norm = malloc(strlen(arg) + 1);
	char **grown;
	size_t n = 0;
	const char *p;

	if (!norm)
		return -ENOMEM;
	for (p = arg; *p; p++) {
		if (*p == '/' && (n == 0 || norm[n - 1] == '/'))
			continue;
		norm[n++] = *p;
	}
	while (n > 0 && norm[n - 1] == '/')
		n--;
	norm[n] = '\0';
	grown = realloc(*list, sizeof(char *) * (size_t)(*nr + 1));
	if (!grown) {
		free(norm);
		return -ENOMEM;
	}
	*list = grown;
	(*list)[(*nr)++] = norm;
	return 0;
}

static int apply_option(const struct cmd_struct *cmd, struct restore_opts *o,
			int c, char **argv)
{
	u64 val;

	switch (c) {
	case 'D': o->dry_run = true; break;
	case 'i': o->ignore_errors = true; break;
	case 'o': o->overwrite = true; break;
	case 'm': o->metadata = true; break;
	case 'S': o->symlinks = true; break;
	case 's': o->snapshots = true; break;
	case 'x': o->xattrs = true; break;
	case 'l': o->list_roots = true; break;
	case 'd': o->find_dir = true; break;
	case 'c': o->ignore_case = true; break;
	case 'v': o->verbose++; break;
	case OPT_FORCE: o->force = true; break;
	case OPT_NOSCAN: o->noscan = true; break;
	case OPT_PATH_REGEX: o->path_regex = optarg; break;
	case 'f': return parse_number("-f", optarg, &o->fs_bytenr);
	case 't': return parse_number("-t", optarg, &o->tree_bytenr);
	case 'r':
		if (parse_number("-r", optarg, &o->root_id))
			return -EINVAL;
		if (o->root_id == 0) {
			error("invalid root id: %s", optarg);
			return -EINVAL;
		}
		break;
	case 'u':
		if (parse_number("-u", optarg, &val))
			return -EINVAL;
		if (val >= BTRFS_SUPER_MIRROR_MAX) {
			error("super mirror must be 0 to %d: %s",
			      BTRFS_SUPER_MIRROR_MAX - 1, optarg);
			return -EINVAL;
		}
		o->super_mirror = (int)val;
		break;
	case OPT_INCLUDE:
		return add_path(&o->includes, &o->nr_includes, optarg);
	case OPT_EXCLUDE:
		return add_path(&o->excludes, &o->nr_excludes, optarg);
	default:
		usage_unknown_option(cmd, argv);
	}
	return 0;
}

static int parse_options(const struct cmd_struct *cmd, int argc, char **argv,
			 struct restore_opts *opts)
{
	int nargs;
	int c;

	/* btrfs -v / --log=verbose count as -v */
	if (msg_level() > MSG_DEFAULT)
		opts->verbose = msg_level() - MSG_DEFAULT;
	optind = 1;
	while ((c = getopt_long(argc, argv, "DiomSsxldcvf:t:r:u:",
				restore_long_options, NULL)) != -1) {
		if (apply_option(cmd, opts, c, argv))
			return -EINVAL;
	}
	nargs = argc - optind;
	if (opts->list_roots) {
		if (check_argc_min(nargs, 1))
			return -EINVAL;
		opts->devices = argv + optind;
		opts->nr_devices = nargs;
		/*
		 * "restore -l DEVICE PATH", as btrfs-progs takes it: a last
		 * argument that is a directory, or nothing yet, is no device
		 */
		if (nargs > 1 && (rsys_is_dir(argv[argc - 1]) ||
				  rsys_kind_at(AT_FDCWD, argv[argc - 1]) ==
					  RSYS_NONE)) {
			warning("-l lists the tree roots only: %s is ignored",
				argv[argc - 1]);
			opts->nr_devices--;
		}
		return 0;
	}
	if (check_argc_min(nargs, 2))
		return -EINVAL;
	opts->devices = argv + optind;
	opts->nr_devices = nargs - 1;
	opts->dest = argv[argc - 1];
	if (opts->ignore_case && !opts->path_regex)
		warning("-c has no effect without --path-regex");
	return 0;
}

static void free_opts(struct restore_opts *opts)
{
	int i;

	for (i = 0; i < opts->nr_includes; i++)
		free(opts->includes[i]);
	for (i = 0; i < opts->nr_excludes; i++)
		free(opts->excludes[i]);
	free(opts->includes);
	free(opts->excludes);
}

/* ------------------------------------------------------------------ */

/*
 * Refuse a filesystem one of whose devices (given or found by the scan) is
 * mounted: its on-disk state changes under the reader.
 */
static int refuse_mounted(const struct restore_opts *opts,
			  const struct btrfs_fs_info *fs_info)
{
	const struct btrfs_device *dev;
	char where[PATH_MAX];
	char fsid[37];

	if (opts->force)
		return 0;
	uuid_unparse(fs_info->fsid, fsid);
	for (dev = fs_info->fs_devices->devices; dev; dev = dev->next) {
		const char *path = dev->name;

		if (!path || !devices_mounted(&path, 1, fsid, where,
					      sizeof(where)))
			continue;
		if (where[0] == '/')
			error("%s is mounted on %s; unmount it first (or use --force)",
			      path, where);
		else
			error("%s belongs to the mounted filesystem %s; unmount it first (or use --force)",
			      path, fsid);
		return -EBUSY;
	}
	return 0;
}

static int open_fs(const struct restore_opts *opts,
		   struct btrfs_fs_info **fs_info)
{
	struct open_ctree_args args = {
		.devices = (const char * const *)opts->devices,
		.nr_devices = opts->nr_devices,
		.super_mirror = opts->super_mirror,
		.tree_root_bytenr = opts->tree_bytenr,
		.flags = OPEN_CTREE_PARTIAL,
	};
	struct open_ctree_error why = { 0 };
	const struct btrfs_device *dev;

	if (opts->noscan)
		args.flags |= OPEN_CTREE_NO_SCAN;
	if (open_ctree(&args, fs_info, &why)) {
		error_open_ctree(opts->devices[0], &why, " (try -u 1 or -u 2)",
				 " (try -t or -u)");
		return -1;
	}
	for (dev = (*fs_info)->fs_devices->devices; dev; dev = dev->next)
		if (dev->missing)
			warning("device %llu is missing; data only on it is lost",
				(unsigned long long)dev->devid);
	return 0;
}

/* -l: one line per ROOT_ITEM of the root tree. */
static int list_roots(struct btrfs_fs_info *fs_info)
{
	struct btrfs_key min = { 0, BTRFS_ROOT_ITEM_KEY, 0 };
	struct btrfs_key max = { (u64)-1, (u8)-1, (u64)-1 };
	struct btrfs_root_item ri;
	struct btrfs_item_iter it;
	struct btrfs_disk_key dkey;
	struct btrfs_key key;
	int ret;

	btrfs_item_iter_init(&it, fs_info->tree_root, &min, &max,
			     restore_report_skip, NULL);
	while ((ret = btrfs_item_iter_next(&it, &key)) == 0) {
		if (key.type != BTRFS_ROOT_ITEM_KEY)
			continue;
		memset(&ri, 0, sizeof(ri));
		if (btrfs_read_item_data(it.leaf, it.slot, &ri, 0,
					 BTRFS_LEGACY_ROOT_ITEM_SIZE))
			continue;
		btrfs_cpu_key_to_disk(&dkey, &key);
		printf(" tree ");
		btrfs_print_key(stdout, &dkey);
		printf(" %llu level %d\n",
		       (unsigned long long)btrfs_stack_root_bytenr(&ri),
		       btrfs_stack_root_level(&ri));
	}
	btrfs_item_iter_release(&it);
	return ret < 0 ? -1 : 0;
}

/* -f: a root around the block at @bytenr. */
static struct btrfs_root *root_from_block(struct btrfs_fs_info *fs_info,
					  u64 bytenr)
{
	struct btrfs_block_error berr = { 0 };
	struct extent_buffer *eb;
	struct btrfs_root *root;

	eb = read_tree_block_ex(fs_info, bytenr, NULL, &berr);
	if (IS_ERR(eb)) {
		error("cannot read tree block %llu: %s",
		      (unsigned long long)bytenr,
		      btrfs_block_problem_str(berr.problem));
		return NULL;
	}
	root = calloc(1, sizeof(*root));
	if (!root) {
		free_extent_buffer(eb);
		error("not enough memory");
		return NULL;
	}
	root->fs_info = fs_info;
	root->root_key.objectid = btrfs_header_owner(eb);
	root->root_key.type = BTRFS_ROOT_ITEM_KEY;
	root->node = eb;
	btrfs_set_stack_root_bytenr(&root->root_item, bytenr);
	btrfs_set_stack_root_level(&root->root_item, btrfs_header_level(eb));
	btrfs_set_stack_root_dirid(&root->root_item, BTRFS_FIRST_FREE_OBJECTID);
	return root;
}

/* The tree to restore: -f, -r or the top-level fs tree.  NULL on error. */
static struct btrfs_root *pick_root(struct btrfs_fs_info *fs_info,
				    const struct restore_opts *opts)
{
	struct btrfs_key key = { BTRFS_FS_TREE_OBJECTID, BTRFS_ROOT_ITEM_KEY,
				 (u64)-1 };
	struct btrfs_root *root;

	if (opts->fs_bytenr)
		return root_from_block(fs_info, opts->fs_bytenr);
	if (opts->root_id)
		key.objectid = opts->root_id;
	root = btrfs_read_tree_root(fs_info, &key);
	if (IS_ERR(root)) {
		error("cannot read tree %llu: %s (try -f or -t)",
		      (unsigned long long)key.objectid,
		      strerror(-(int)PTR_ERR(root)));
		return NULL;
	}
	return root;
}

/* The directory to start from: the tree's top directory, or with -d the
 * first directory found.  0 when there is none. */
static u64 pick_dir(struct restore_ctx *ctx, struct btrfs_root *root)
{
	struct btrfs_inode_item inode;
	u64 dir = btrfs_stack_root_dirid(&root->root_item);
	int ret;

	if (dir < BTRFS_FIRST_FREE_OBJECTID)
		dir = BTRFS_FIRST_FREE_OBJECTID;
	if (ctx->opts->find_dir) {
		ret = btrfs_find_first_dir(root, 0, &dir, restore_report_skip,
					   ctx);
		if (ret) {
			error("no directory found in tree %llu",
			      (unsigned long long)root->root_key.objectid);
			return 0;
		}
		printf("Using objectid %llu for first dir\n",
		       (unsigned long long)dir);
		return dir;
	}
	ret = btrfs_read_inode_item(root, dir, &inode, restore_report_skip,
				    ctx);
	if (ret == -ENOENT) {
		warning("top directory %llu of tree %llu has no inode item (-d finds another)",
			(unsigned long long)dir,
			(unsigned long long)root->root_key.objectid);
	}
	return dir;
}

static int open_dest(struct restore_ctx *ctx)
{
	const char *dest = ctx->opts->dest;

	ctx->dest_fd = open(dest, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (ctx->dest_fd < 0) {
		error("cannot open destination directory '%s': %m", dest);
		return -1;
	}
	if (ctx->opts->dry_run) {
		close(ctx->dest_fd);
		ctx->dest_fd = -1;
	}
	return 0;
}

/* Allow one open directory per level of a deep tree. */
static void raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static int setup_ctx(struct restore_ctx *ctx)
{
	const struct restore_opts *opts = ctx->opts;
	int ret;

	if (opts->nr_includes) {
		ctx->include_seen = calloc((size_t)opts->nr_includes, 1);
		if (!ctx->include_seen) {
			error("not enough memory");
			return -1;
		}
	}

	if (opts->path_regex) {
		int flags = REG_EXTENDED | REG_NOSUB |
			    (opts->ignore_case ? REG_ICASE : 0);
		char msg[256];

		ret = regcomp(&ctx->regex, opts->path_regex, flags);
		if (ret) {
			regerror(ret, &ctx->regex, msg, sizeof(msg));
			error("invalid --path-regex '%s': %s", opts->path_regex,
			      msg);
			return -1;
		}
		ctx->have_regex = true;
	}
	if (restore_data_init(ctx)) {
		error("not enough memory for data buffers");
		return -1;
	}
	ctx->progress = isatty(STDERR_FILENO) && !opts->verbose;
	ctx->start_time = restore_now();
	return 0;
}

/* "1 file", "2 files": @one and @many are the singular and plural. */
static void count(u64 n, const char *one, const char *many, const char *sep)
{
	printf("%llu %s%s", (unsigned long long)n, plural(n, one, many), sep);
}

static void print_summary(const struct restore_ctx *ctx)
{
	const struct restore_stats *st = &ctx->st;
	char size[PRETTY_SIZE_LEN];

	printf("%s: ", ctx->opts->dry_run ? "Would restore" : "Restored");
	count(st->files, "file", "files", ", ");
	count(st->dirs, "directory", "directories", ", ");
	count(st->symlinks, "symlink", "symlinks", ", ");
	count(st->special, "special file", "special files", ", ");
	count(st->hardlinks, "hard link", "hard links", ", ");
	count(st->bytes, "byte", "bytes", "");
	printf(" (%s), ", pretty_size(st->bytes, size));
	count(st->errors, "error", "errors", "\n");
	if (st->incomplete)
		printf("Files written with errors (-i): %llu\n",
		       (unsigned long long)st->incomplete);
	if (st->bad_blocks)
		printf("Unreadable tree blocks skipped: %llu\n",
		       (unsigned long long)st->bad_blocks);
	if (st->repaired)
		printf("Data sectors read from another copy: %llu\n",
		       (unsigned long long)st->repaired);
}

static int do_restore(struct restore_ctx *ctx)
{
	struct btrfs_root *root;
	u64 dir;
	int ret;

	root = pick_root(ctx->fs_info, ctx->opts);
	if (!root)
		return 1;
	ret = open_dest(ctx);
	dir = ret ? 0 : pick_dir(ctx, root);
	if (dir) {
		ret = setup_ctx(ctx);
		if (!ret) {
			restore_subvolume(ctx, root, dir);
			restore_progress(ctx, true);
			restore_warn_includes(ctx);
			if (ctx->st.skipped)
				warning("%llu %s in %s and %s skipped; use -o to overwrite",
					(unsigned long long)ctx->st.skipped,
					plural(ctx->st.skipped, "file already exists",
					       "files already exist"),
					ctx->opts->dest,
					plural(ctx->st.skipped, "was", "were"));
			print_summary(ctx);
		}
	} else {
		ret = -1;
	}
	btrfs_free_root(root);
	if (ret)
		return 1;
	return ctx->st.errors || ctx->st.bad_blocks || ctx->stop ? 1 : 0;
}

static int cmd_restore(const struct cmd_struct *cmd, int argc, char **argv)
{
	struct restore_opts opts = { 0 };
	struct restore_ctx ctx = { .opts = &opts, .dest_fd = -1 };
	int ret;

	if (parse_options(cmd, argc, argv, &opts)) {
		free_opts(&opts);
		return 1;
	}
	ret = open_fs(&opts, &ctx.fs_info) ? 1 : 0;
	if (!ret && refuse_mounted(&opts, ctx.fs_info))
		ret = 1;
	if (!ret) {
		raise_fd_limit();
		if (opts.list_roots)
			ret = list_roots(ctx.fs_info) ? 1 : 0;
		else
			ret = do_restore(&ctx);
	}
	fflush(stdout);
	if (ctx.have_regex)
		regfree(&ctx.regex);
	restore_links_free(&ctx);
	restore_data_free(&ctx);
	free(ctx.bad_blocks);
	free(ctx.include_seen);
	if (ctx.dest_fd >= 0)
		close(ctx.dest_fd);
	close_ctree(ctx.fs_info);
	free_opts(&opts);
	return ret;
}
DEFINE_SIMPLE_COMMAND(restore, "restore");
