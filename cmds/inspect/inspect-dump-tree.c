// SPDX-License-Identifier: GPL-2.0
/*
 * btrfs inspect-internal dump-tree: print the trees of a filesystem in the
 * text form of the reference tool (kernel-shared/print-tree.c does the
 * printing; this file selects what to print).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <uuid/uuid.h>

#include "cmds/commands.h"
#include "cmds/open-error.h"
#include "cmds/print-problem.h"
#include "common/messages.h"
#include "common/utils.h"
#include "kernel-shared/ctree.h"
#include "kernel-shared/disk-io.h"
#include "kernel-shared/print-tree.h"
#include "kernel-shared/volumes.h"

static const char * const cmd_inspect_dump_tree_usage[] = {
	"btrfs inspect-internal dump-tree [options] <device> [<device> ..]",
	"Dump tree structures from a given device",
	"",
	"Dump tree structures from a given device in textual form, expand keys to human",
	"readable equivalents where possible.",
	"Note: contains file names, consider that if you're asked to send the dump",
	"for analysis.",
	"",
	OPTLINE("-e|--extents", "print only extent info: extent and device trees"),
	OPTLINE("-d|--device", "print only device info: tree root, chunk and device trees"),
	OPTLINE("-r|--roots", "print only short root node info"),
	OPTLINE("-R|--backups", "same as --roots plus print backup root info"),
	OPTLINE("-u|--uuid", "print only the uuid tree"),
	OPTLINE("-b|--block <block_num>", "print info from the specified block only can be specified multiple times"),
	OPTLINE("-t|--tree <tree_id>", "print only tree with the given id (string or number)"),
	OPTLINE("--follow", "use with -b, to show all children tree blocks of <block_num>"),
	OPTLINE("--noscan", "do not scan the devices from the filesystem, use only the listed ones"),
	OPTLINE("--bfs", "breadth-first traversal of the trees, print nodes, then leaves (default)"),
	OPTLINE("--dfs", "depth-first traversal of the trees"),
	OPTLINE("--hide-names", "hide filenames/subvolume/xattrs and other name references"),
	OPTLINE("--csum-headers", "print node checksums stored in headers (metadata)"),
	OPTLINE("--csum-items", "print checksums stored in checksum items (data)"),
	NULL
};

/* What the user asked for. */
struct dump_tree_opts {
	bool extent_only;
	bool device_only;
	bool uuid_only;
	bool roots_only;
	bool backups;
	bool follow;
	bool noscan;
	unsigned int print_flags;	/* BTRFS_PRINT_* */
	u64 tree_id;			/* 0: all trees */
	u64 *blocks;			/* -b arguments */
	int nr_blocks;
};

/* Names users may give to -t, mapped to tree ids. Longest prefixes first. */
static const struct {
	const char *name;
	u64 id;
} tree_names[] = {
	{ "ROOT", BTRFS_ROOT_TREE_OBJECTID },
	{ "EXTENT", BTRFS_EXTENT_TREE_OBJECTID },
	{ "CHUNK", BTRFS_CHUNK_TREE_OBJECTID },
	{ "DEVICE", BTRFS_DEV_TREE_OBJECTID },
	{ "DEV", BTRFS_DEV_TREE_OBJECTID },
	{ "FS", BTRFS_FS_TREE_OBJECTID },
	{ "CSUM", BTRFS_CSUM_TREE_OBJECTID },
	{ "CHECKSUM", BTRFS_CSUM_TREE_OBJECTID },
	{ "QUOTA", BTRFS_QUOTA_TREE_OBJECTID },
	{ "UUID", BTRFS_UUID_TREE_OBJECTID },
	{ "FREE_SPACE", BTRFS_FREE_SPACE_TREE_OBJECTID },
	{ "BLOCK_GROUP", BTRFS_BLOCK_GROUP_TREE_OBJECTID },
	{ "TREE_LOG_FIXUP", BTRFS_TREE_LOG_FIXUP_OBJECTID },
	{ "TREE_LOG", BTRFS_TREE_LOG_OBJECTID },
	{ "TREE_RELOC", BTRFS_TREE_RELOC_OBJECTID },
	{ "DATA_RELOC", BTRFS_DATA_RELOC_TREE_OBJECTID },
};

/* Skip @prefix (any case) at *s if it is there. */
static void skip_prefix(const char **s, const char *prefix)
{
	size_t len = strlen(prefix);

	if (strncasecmp(*s, prefix, len) == 0)
		*s += len;
}

/*
 * Tree id from a name such as "fs", "FS_TREE", "btrfs_fs_tree_objectid".
 * Returns 0 when no name matches; *rest points at what follows the name.
 */
static u64 tree_id_from_name(const char *str, const char **rest)
{
	size_t i;

	skip_prefix(&str, "BTRFS_");
	for (i = 0; i < ARRAY_SIZE(tree_names); i++) {
		size_t len = strlen(tree_names[i].name);

		if (strncasecmp(tree_names[i].name, str, len) != 0)
			continue;
		str += len;
		skip_prefix(&str, "_TREE");
		skip_prefix(&str, "_OBJECTID");
		*rest = str;
		return tree_names[i].id;
	}
	return 0;
}

static bool is_number(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

/*
 * A number argument: (u64)-1 and anything above it are refused as too
 * large, as btrfs-progs does, since no tree id or block number is that big.
 */
static int parse_number_arg(const char *arg, u64 *val)
{
	int ret = parse_u64(arg, val);

	if (ret == -ERANGE || (!ret && *val == (u64)-1)) {
		error("%s is too large", arg);
		return -ERANGE;
	}
	return ret;
}

static int parse_tree_id(const char *arg, u64 *id)
{
	const char *rest = "";
	int ret;

	if (is_number(arg)) {
		ret = parse_number_arg(arg, id);
		if (ret == -ERANGE)
			return ret;
		if (ret || *id == 0) {
			error("unrecognized tree id: %s", arg);
			return -EINVAL;
		}
		return 0;
	}
	*id = tree_id_from_name(arg, &rest);
	if (!*id) {
		error("unrecognized tree id: %s", arg);
		return -EINVAL;
	}
	if (*rest) {
		error("unexpected tree id suffix of '%s': %s", arg, rest);
		return -EINVAL;
	}
	return 0;
}

static int add_block(struct dump_tree_opts *opts, const char *arg)
{
	u64 bytenr;
	u64 *grown;
	int ret;

	ret = parse_number_arg(arg, &bytenr);
	if (ret == -ERANGE)
		return ret;
	if (ret) {
		error("invalid block number: %s", arg);
		return -EINVAL;
	}
	grown = realloc(opts->blocks, sizeof(u64) * (size_t)(opts->nr_blocks + 1));
	if (!grown) {
		error("not enough memory for block list");
		return -ENOMEM;
	}
	opts->blocks = grown;
	opts->blocks[opts->nr_blocks++] = bytenr;
	return 0;
}

enum {
	OPT_FOLLOW = 256,
	OPT_DFS,
	OPT_BFS,
	OPT_NOSCAN,
	OPT_HIDE_NAMES,
	OPT_CSUM_HEADERS,
	OPT_CSUM_ITEMS,
};

static const struct option dump_tree_long_options[] = {
	{ "extents", no_argument, NULL, 'e' },
	{ "device", no_argument, NULL, 'd' },
	{ "roots", no_argument, NULL, 'r' },
	{ "backups", no_argument, NULL, 'R' },
	{ "uuid", no_argument, NULL, 'u' },
	{ "block", required_argument, NULL, 'b' },
	{ "tree", required_argument, NULL, 't' },
	{ "follow", no_argument, NULL, OPT_FOLLOW },
	{ "bfs", no_argument, NULL, OPT_BFS },
	{ "dfs", no_argument, NULL, OPT_DFS },
	{ "noscan", no_argument, NULL, OPT_NOSCAN },
	{ "hide-names", no_argument, NULL, OPT_HIDE_NAMES },
	{ "csum-headers", no_argument, NULL, OPT_CSUM_HEADERS },
	{ "csum-items", no_argument, NULL, OPT_CSUM_ITEMS },
	{ NULL, 0, NULL, 0 }
};

/* Apply one parsed option; 0, or <0 after printing why it is invalid. */
static int apply_option(const struct cmd_struct *cmd, struct dump_tree_opts *o,
			int c, char **argv)
{
	switch (c) {
	case 'e': o->extent_only = true; break;
	case 'd': o->device_only = true; break;
	case 'r': o->roots_only = true; break;
	case 'R': o->roots_only = true; o->backups = true; break;
	case 'u': o->uuid_only = true; break;
	case 'b': return add_block(o, optarg);
	case 't': return parse_tree_id(optarg, &o->tree_id);
	case OPT_FOLLOW: o->follow = true; break;
	case OPT_NOSCAN: o->noscan = true; break;
	case OPT_HIDE_NAMES: o->print_flags |= BTRFS_PRINT_HIDE_NAMES; break;
	case OPT_CSUM_HEADERS: o->print_flags |= BTRFS_PRINT_CSUM_HEADERS; break;
	case OPT_CSUM_ITEMS: o->print_flags |= BTRFS_PRINT_CSUM_ITEMS; break;
	case OPT_DFS:
		o->print_flags = (o->print_flags & ~BTRFS_PRINT_BFS) | BTRFS_PRINT_DFS;
		break;
	case OPT_BFS:
		o->print_flags = (o->print_flags & ~BTRFS_PRINT_DFS) | BTRFS_PRINT_BFS;
		break;
	default:
		usage_unknown_option(cmd, argv);
		return -EINVAL;
	}
	return 0;
}

static int parse_options(const struct cmd_struct *cmd, int argc, char **argv,
			 struct dump_tree_opts *opts)
{
	int c;

	opts->print_flags = BTRFS_PRINT_BFS;
	optind = 1;
	while ((c = getopt_long(argc, argv, "deb:rRut:", dump_tree_long_options,
				NULL)) != -1) {
		if (apply_option(cmd, opts, c, argv))
			return -EINVAL;
	}
	if (check_argc_min(argc - optind, 1))
		return -EINVAL;
	return 0;
}

/* ------------------------------------------------------------------ */

static int cmp_u64(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;

	return x < y ? -1 : x > y;
}

/* Print one -b block (and its children with --follow). 0 or -errno. */
static int dump_one_block(struct btrfs_fs_info *fs_info,
			  const struct btrfs_print_opts *popts, u64 bytenr)
{
	struct btrfs_block_error berr = { 0 };
	struct extent_buffer *eb;

	if (!IS_ALIGNED(bytenr, (u64)fs_info->sectorsize)) {
		error("tree block bytenr %llu is not aligned to sectorsize %u",
		      (unsigned long long)bytenr, fs_info->sectorsize);
		return -EINVAL;
	}
	eb = read_tree_block_ex(fs_info, bytenr, NULL, &berr);
	if (IS_ERR(eb)) {
		error("failed to read tree block %llu: %s",
		      (unsigned long long)bytenr,
		      btrfs_block_problem_str(berr.problem));
		return (int)PTR_ERR(eb);
	}
	btrfs_print_tree(popts, eb);
	free_extent_buffer(eb);
	return 0;
}

/* -b: blocks in ascending order, each once, as the reference does. */
static int dump_blocks(struct btrfs_fs_info *fs_info,
		       const struct dump_tree_opts *opts,
		       const struct btrfs_print_opts *popts)
{
	struct btrfs_print_opts p = *popts;
	int ret = 0;
	int i;

	if (opts->follow)
		p.flags |= BTRFS_PRINT_FOLLOW;
	else
		p.flags &= ~BTRFS_PRINT_FOLLOW;
	qsort(opts->blocks, (size_t)opts->nr_blocks, sizeof(u64), cmp_u64);
	for (i = 0; i < opts->nr_blocks; i++) {
		if (i > 0 && opts->blocks[i] == opts->blocks[i - 1]) {
			warning("tree block bytenr %llu is duplicated",
				(unsigned long long)opts->blocks[i]);
			continue;
		}
		if (dump_one_block(fs_info, &p, opts->blocks[i]))
			ret = -EIO;
	}
	return ret;
}

/* The words the reference uses before " tree key (...)" per tree id. */
static const char *tree_label(u64 objectid)
{
	switch (objectid) {
	case BTRFS_ROOT_TREE_OBJECTID: return "root";
	case BTRFS_EXTENT_TREE_OBJECTID: return "extent";
	case BTRFS_CHUNK_TREE_OBJECTID: return "chunk";
	case BTRFS_DEV_TREE_OBJECTID: return "device";
	case BTRFS_FS_TREE_OBJECTID: return "fs";
	case BTRFS_ROOT_TREE_DIR_OBJECTID: return "directory";
	case BTRFS_CSUM_TREE_OBJECTID: return "checksum";
	case BTRFS_ORPHAN_OBJECTID: return "orphan";
	case BTRFS_TREE_LOG_OBJECTID: return "log";
	case BTRFS_TREE_LOG_FIXUP_OBJECTID: return "log fixup";
	case BTRFS_TREE_RELOC_OBJECTID: return "reloc";
	case BTRFS_DATA_RELOC_TREE_OBJECTID: return "data reloc";
	case BTRFS_EXTENT_CSUM_OBJECTID: return "extent checksum";
	case BTRFS_QUOTA_TREE_OBJECTID: return "quota";
	case BTRFS_UUID_TREE_OBJECTID: return "uuid";
	case BTRFS_FREE_SPACE_TREE_OBJECTID: return "free space";
	case BTRFS_BLOCK_GROUP_TREE_OBJECTID: return "block group";
	case BTRFS_MULTIPLE_OBJECTIDS: return "multiple";
	}
	return "file";
}

/* Is the tree with this id selected by -e / -d / -u? */
static bool tree_selected(const struct dump_tree_opts *opts, u64 objectid)
{
	bool filtered = opts->extent_only || opts->device_only || opts->uuid_only;

	if (!filtered)
		return true;
	switch (objectid) {
	case BTRFS_EXTENT_TREE_OBJECTID:
		return !opts->device_only && !opts->uuid_only;
	case BTRFS_DEV_TREE_OBJECTID:
		return !opts->uuid_only;
	case BTRFS_UUID_TREE_OBJECTID:
		return !opts->extent_only && !opts->device_only;
	case BTRFS_ROOT_TREE_DIR_OBJECTID:
		return true;
	}
	return false;
}

struct leaves_ctx {
	const struct btrfs_print_opts *popts;
};

static int print_leaf_only(struct extent_buffer *eb, void *ctx)
{
	struct leaves_ctx *lc = ctx;

	if (btrfs_header_level(eb) == 0)
		btrfs_print_leaf(lc->popts, eb);
	return 0;
}

static void report_walk_error(u64 bytenr, int err, void *ctx)
{
	(void)ctx;
	warning("cannot read tree block %llu: %s", (unsigned long long)bytenr,
		strerror(-err));
}

/* -e: only the leaves of a tree, depth-first. */
static void print_leaves(struct btrfs_fs_info *fs_info,
			 const struct btrfs_print_opts *popts,
			 struct extent_buffer *eb)
{
	static const struct btrfs_tree_walk_ops ops = {
		.visit = print_leaf_only,
		.on_error = report_walk_error,
	};
	struct leaves_ctx lc = { .popts = popts };

	btrfs_walk_tree(fs_info, eb, false, &ops, &lc);
}

/* The header line and body of one tree found through a ROOT_ITEM. */
static void dump_tree_of_root(struct btrfs_fs_info *fs_info,
			      const struct dump_tree_opts *opts,
			      const struct btrfs_print_opts *popts,
			      const struct btrfs_disk_key *dkey,
			      struct extent_buffer *eb)
{
	FILE *out = popts->out;

	fprintf(out, "%s tree ", tree_label(btrfs_stack_disk_key_objectid(dkey)));
	btrfs_print_key(out, dkey);
	if (opts->extent_only) {
		fputc('\n', out);
		print_leaves(fs_info, popts, eb);
	} else if (opts->roots_only) {
		fprintf(out, " %llu level %d\n", (unsigned long long)eb->start,
			btrfs_header_level(eb));
	} else {
		fputs(" \n", out);
		btrfs_print_tree(popts, eb);
	}
}

/* One ROOT_ITEM of the scanned tree: read its root block and print it. */
static void dump_root_item(struct btrfs_fs_info *fs_info,
			   const struct dump_tree_opts *opts,
			   const struct btrfs_print_opts *popts,
			   struct extent_buffer *leaf, int slot)
{
	struct btrfs_disk_key dkey;
	struct btrfs_root_item *ri;
	struct btrfs_block_error berr = { 0 };
	struct extent_buffer *eb;
	u64 objectid;
	u64 bytenr;

	btrfs_item_key(leaf, &dkey, slot);
	objectid = btrfs_stack_disk_key_objectid(&dkey);
	if (btrfs_item_size(leaf, slot) < BTRFS_LEGACY_ROOT_ITEM_SIZE) {
		error("root item of tree %llu is too small: %u bytes",
		      (unsigned long long)objectid, btrfs_item_size(leaf, slot));
		return;
	}
	if (opts->tree_id && objectid != opts->tree_id)
		return;
	if (!tree_selected(opts, objectid))
		return;
	ri = btrfs_item_ptr(leaf, slot, struct btrfs_root_item);
	bytenr = btrfs_root_bytenr(leaf, ri);
	eb = read_tree_block_ex(fs_info, bytenr, NULL, &berr);
	if (IS_ERR(eb)) {
		error("cannot read root block %llu of tree %llu: %s",
		      (unsigned long long)bytenr, (unsigned long long)objectid,
		      btrfs_block_problem_str(berr.problem));
		return;
	}
	dump_tree_of_root(fs_info, opts, popts, &dkey, eb);
	free_extent_buffer(eb);
}

/* Walk every ROOT_ITEM in @root (the root tree or the log root tree). */
static int scan_root_items(struct btrfs_fs_info *fs_info, struct btrfs_root *root,
			   const struct dump_tree_opts *opts,
			   const struct btrfs_print_opts *popts)
{
	struct btrfs_key key = { .objectid = 0, .type = BTRFS_ROOT_ITEM_KEY };
	struct btrfs_path *path = btrfs_alloc_path();
	int ret;

	if (!path)
		return -ENOMEM;
	ret = btrfs_search_slot(NULL, root, &key, path, 0, 0);
	while (ret >= 0) {
		struct extent_buffer *leaf = path->nodes[0];
		int slot = path->slots[0];
		struct btrfs_key found;

		if (slot >= (int)btrfs_header_nritems(leaf)) {
			ret = btrfs_next_leaf(root, path);
			if (ret)
				break;
			continue;
		}
		btrfs_item_key_to_cpu(leaf, &found, slot);
		if (found.type == BTRFS_ROOT_ITEM_KEY)
			dump_root_item(fs_info, opts, popts, leaf, slot);
		path->slots[0]++;
	}
	btrfs_free_path(path);
	if (ret < 0) {
		error("cannot read ROOT_ITEM from tree %llu: %s",
		      (unsigned long long)root->root_key.objectid,
		      strerror(-ret));
		return ret;
	}
	return 0;
}

static void print_root_line(FILE *out, const char *name, struct btrfs_root *root)
{
	fprintf(out, "%s: %llu level %d\n", name,
		(unsigned long long)root->node->start,
		btrfs_header_level(root->node));
}

/* root tree, chunk tree and log root tree at the top of a full dump. */
static void dump_top_trees(struct btrfs_fs_info *fs_info,
			   const struct dump_tree_opts *opts,
			   const struct btrfs_print_opts *popts)
{
	FILE *out = popts->out;

	if (opts->roots_only) {
		print_root_line(out, "root tree", fs_info->tree_root);
		print_root_line(out, "chunk tree", fs_info->chunk_root);
		if (fs_info->log_root_tree)
			print_root_line(out, "log root tree",
					fs_info->log_root_tree);
		return;
	}
	fputs("root tree\n", out);
	btrfs_print_tree(popts, fs_info->tree_root->node);
	fputs("chunk tree\n", out);
	btrfs_print_tree(popts, fs_info->chunk_root->node);
	if (fs_info->log_root_tree) {
		fputs("log root tree\n", out);
		btrfs_print_tree(popts, fs_info->log_root_tree->node);
	}
}

/* -t for the trees that have no ROOT_ITEM. true when handled. */
static bool dump_special_tree(struct btrfs_fs_info *fs_info, u64 tree_id,
			      const struct btrfs_print_opts *popts, int *ret)
{
	static const struct {
		u64 id;
		const char *title;
		const char *what;
	} special[] = {
		{ BTRFS_ROOT_TREE_OBJECTID, "root tree", "root tree" },
		{ BTRFS_CHUNK_TREE_OBJECTID, "chunk tree", "chunk tree" },
		{ BTRFS_TREE_LOG_OBJECTID, "log root tree", "log root tree" },
	};
	struct btrfs_root *roots[] = {
		fs_info->tree_root, fs_info->chunk_root, fs_info->log_root_tree,
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(special); i++) {
		if (special[i].id != tree_id)
			continue;
		if (!roots[i] || !roots[i]->node) {
			error("cannot print %s, invalid pointer", special[i].what);
			*ret = -ENOENT;
			return true;
		}
		fprintf(popts->out, "%s\n", special[i].title);
		btrfs_print_tree(popts, roots[i]->node);
		return true;
	}
	return false;
}

static void print_backup_roots(FILE *out, const struct btrfs_super_block *sb)
{
	int i;

	for (i = 0; i < BTRFS_NUM_BACKUP_ROOTS; i++) {
		const struct btrfs_root_backup *b = &sb->super_roots[i];

		fprintf(out, "btrfs root backup slot %d\n", i);
		fprintf(out, "\ttree root gen %llu block %llu\n",
			(unsigned long long)btrfs_stack_backup_tree_root_gen(b),
			(unsigned long long)btrfs_stack_backup_tree_root(b));
		fprintf(out, "\t\textent root gen %llu block %llu\n",
			(unsigned long long)btrfs_stack_backup_extent_root_gen(b),
			(unsigned long long)btrfs_stack_backup_extent_root(b));
		fprintf(out, "\t\tchunk root gen %llu block %llu\n",
			(unsigned long long)btrfs_stack_backup_chunk_root_gen(b),
			(unsigned long long)btrfs_stack_backup_chunk_root(b));
		fprintf(out, "\t\tdevice root gen %llu block %llu\n",
			(unsigned long long)btrfs_stack_backup_dev_root_gen(b),
			(unsigned long long)btrfs_stack_backup_dev_root(b));
		fprintf(out, "\t\tcsum root gen %llu block %llu\n",
			(unsigned long long)btrfs_stack_backup_csum_root_gen(b),
			(unsigned long long)btrfs_stack_backup_csum_root(b));
		fprintf(out, "\t\tfs root gen %llu block %llu\n",
			(unsigned long long)btrfs_stack_backup_fs_root_gen(b),
			(unsigned long long)btrfs_stack_backup_fs_root(b));
		fprintf(out, "\t\t%llu used %llu total %llu devices\n",
			(unsigned long long)btrfs_stack_backup_bytes_used(b),
			(unsigned long long)btrfs_stack_backup_total_bytes(b),
			(unsigned long long)btrfs_stack_backup_num_devices(b));
	}
}

static void print_totals(FILE *out, const struct btrfs_super_block *sb)
{
	char uuid[37];

	uuid_unparse(sb->fsid, uuid);
	fprintf(out, "total bytes %llu\n",
		(unsigned long long)btrfs_super_total_bytes(sb));
	fprintf(out, "bytes used %llu\n",
		(unsigned long long)btrfs_super_bytes_used(sb));
	fprintf(out, "uuid %s\n", uuid);
}

/* Everything but -b: the top trees, every tree by its ROOT_ITEM, totals. */
static int dump_trees(struct btrfs_fs_info *fs_info,
		      const struct dump_tree_opts *opts,
		      const struct btrfs_print_opts *popts)
{
	int ret = 0;

	if (opts->tree_id && dump_special_tree(fs_info, opts->tree_id, popts, &ret))
		return ret;
	if (!(opts->extent_only || opts->uuid_only || opts->tree_id))
		dump_top_trees(fs_info, opts, popts);
	ret = scan_root_items(fs_info, fs_info->tree_root, opts, popts);
	if (fs_info->log_root_tree &&
	    scan_root_items(fs_info, fs_info->log_root_tree, opts, popts))
		ret = -EIO;
	if (opts->extent_only || opts->device_only || opts->uuid_only)
		return ret;
	if (opts->backups)
		print_backup_roots(popts->out, &fs_info->super_copy);
	print_totals(popts->out, &fs_info->super_copy);
	return ret;
}

/* Name each device the filesystem has but we could not find, on stdout
 * right after the banner where btrfs-progs prints it. */
static void print_missing_devices(const struct btrfs_fs_info *fs_info)
{
	const struct btrfs_device *dev;

	for (dev = fs_info->fs_devices->devices; dev; dev = dev->next)
		if (dev->missing)
			printf("warning, device %llu is missing\n",
			       (unsigned long long)dev->devid);
}

static int run_dump_tree(struct dump_tree_opts *opts, char **devices, int nr)
{
	struct open_ctree_args args = {
		.devices = (const char * const *)devices,
		.nr_devices = nr,
		.super_mirror = 0,	/* the primary copy, as the kernel reads */
		.flags = OPEN_CTREE_PARTIAL,
	};
	struct open_ctree_error why = { 0 };
	struct btrfs_print_opts popts = {
		.out = stdout,
		.problem = print_tree_problem,
		.problem_arg = stdout,
	};
	struct btrfs_fs_info *fs_info;
	static char outbuf[1 << 16];
	int ret;

	if (opts->nr_blocks)
		args.flags |= OPEN_CTREE_CHUNK_ONLY;
	if (opts->noscan)
		args.flags |= OPEN_CTREE_NO_SCAN;
	ret = open_ctree(&args, &fs_info, &why);
	if (ret) {
		error_open_ctree(devices[0], &why, NULL, NULL);
		return 1;
	}
	setvbuf(stdout, outbuf, _IOFBF, sizeof(outbuf));
	printf("%s v%s\n", PACKAGE_NAME, PACKAGE_VERSION);
	print_missing_devices(fs_info);
	popts.fs_info = fs_info;
	popts.flags = opts->print_flags | BTRFS_PRINT_FOLLOW;
	/* -e prints bare leaves; btrfs-progs ignores --csum-headers there */
	if (opts->extent_only)
		popts.flags &= ~BTRFS_PRINT_CSUM_HEADERS;
	if (opts->nr_blocks)
		ret = dump_blocks(fs_info, opts, &popts);
	else
		ret = dump_trees(fs_info, opts, &popts);
	fflush(stdout);
	close_ctree(fs_info);
	return ret ? 1 : 0;
}

static int cmd_inspect_dump_tree(const struct cmd_struct *cmd, int argc,
				 char **argv)
{
	struct dump_tree_opts opts = { 0 };
	int ret;

	if (parse_options(cmd, argc, argv, &opts)) {
		free(opts.blocks);
		return 1;
	}
	ret = run_dump_tree(&opts, argv + optind, argc - optind);
	free(opts.blocks);
	return ret;
}
DEFINE_SIMPLE_COMMAND(inspect_dump_tree, "dump-tree");
