// SPDX-License-Identifier: GPL-2.0
/*
 * btrfs check pass 1: the superblock.
 *
 * open_ctree() already refused a superblock that fails btrfs_check_super()
 * (magic, checksum, sizes, alignment, unknown incompat flags), so this pass
 * checks what a valid-looking superblock can still get wrong: feature
 * combinations, generations, the log root, the current backup root, and
 * the superblock mirrors (those only warn: the kernel and the reference
 * tools read the primary alone).
 */
#include <string.h>

#include "cmds/check/check.h"
#include "kernel-shared/disk-io.h"
#include "kernel-shared/volumes.h"

#define COMPAT_RO_KNOWN                                                      \
	(BTRFS_FEATURE_COMPAT_RO_FREE_SPACE_TREE |                           \
	 BTRFS_FEATURE_COMPAT_RO_FREE_SPACE_TREE_VALID |                     \
	 BTRFS_FEATURE_COMPAT_RO_VERITY |                                    \
	 BTRFS_FEATURE_COMPAT_RO_BLOCK_GROUP_TREE)

static void super_finding(struct check_ctx *ctx, enum check_code code,
			  u64 expected, u64 found, bool values,
			  const char *what)
{
	struct check_finding f = {
		.code = code,
		.bytenr = ctx->fs_info->super_bytenr,
		.has_values = values,
		.expected = expected,
		.found = found,
	};

	check_report(ctx, &f, "superblock: %s", what);
}

static void check_features(struct check_ctx *ctx)
{
	const struct btrfs_super_block *sb = &ctx->fs_info->super_copy;
	u64 ro = btrfs_super_compat_ro_flags(sb);

	/* readable by definition: the kernel only refuses to write */
	if ((ro & ~COMPAT_RO_KNOWN) && !(ctx->flags & CHECK_F_QUIET))
		fprintf(ctx->err,
			"WARNING: superblock: unknown compat_ro flags 0x%llx, checked read-only\n",
			(unsigned long long)(ro & ~COMPAT_RO_KNOWN));
	if ((ro & BTRFS_FEATURE_COMPAT_RO_FREE_SPACE_TREE_VALID) &&
	    !(ro & BTRFS_FEATURE_COMPAT_RO_FREE_SPACE_TREE))
		super_finding(ctx, CHECK_SUPER_FIELD, 0, 0, false,
			      "free space tree marked valid but not enabled");
	if ((ro & BTRFS_FEATURE_COMPAT_RO_BLOCK_GROUP_TREE) &&
	    !(ro & BTRFS_FEATURE_COMPAT_RO_FREE_SPACE_TREE))
		super_finding(ctx, CHECK_SUPER_FIELD, 0, 0, false,
			      "block group tree without free space tree");
}

static void check_sizes_and_generations(struct check_ctx *ctx)
{
	const struct btrfs_super_block *sb = &ctx->fs_info->super_copy;
	struct btrfs_root *tree_root = ctx->fs_info->tree_root;
	u64 gen = btrfs_super_generation(sb);
	u64 root_gen = tree_root ? btrfs_header_generation(tree_root->node) : 0;

	if (btrfs_super_leafsize(sb) != btrfs_super_nodesize(sb))
		super_finding(ctx, CHECK_SUPER_FIELD, btrfs_super_nodesize(sb),
			      btrfs_super_leafsize(sb), true,
			      "leafsize differs from nodesize");
	if (btrfs_super_chunk_root_generation(sb) > gen)
		super_finding(ctx, CHECK_SUPER_FIELD, gen,
			      btrfs_super_chunk_root_generation(sb), true,
			      "chunk root generation newer than the superblock");
	if (root_gen > gen)
		super_finding(ctx, CHECK_SUPER_FIELD, gen, root_gen, true,
			      "root tree newer than the superblock");
	if (btrfs_super_num_devices(sb) == 0)
		super_finding(ctx, CHECK_SUPER_FIELD, 1, 0, true,
			      "no devices");
}

/* A log root must read as a valid tree block of generation + 1. */
static void check_log_root(struct check_ctx *ctx)
{
	struct btrfs_fs_info *fs_info = ctx->fs_info;
	const struct btrfs_super_block *sb = &fs_info->super_copy;
	struct btrfs_tree_parent_check chk = { 0 };
	struct btrfs_block_error err = { 0 };
	struct check_finding f = { .code = CHECK_SUPER_LOG_ROOT };
	struct extent_buffer *eb;
	u64 bytenr = btrfs_super_log_root(sb);

	if (!bytenr)
		return;
	f.bytenr = bytenr;
	f.root = BTRFS_TREE_LOG_OBJECTID;
	if (btrfs_super_log_root_level(sb) >= BTRFS_MAX_LEVEL) {
		check_report(ctx, &f, "log root level %u out of range",
			     btrfs_super_log_root_level(sb));
		return;
	}
	chk.level = btrfs_super_log_root_level(sb);
	chk.transid = btrfs_super_generation(sb) + 1;
	eb = read_tree_block_ex(fs_info, bytenr, &chk, &err);
	if (IS_ERR(eb)) {
		f.has_values = err.problem == BLOCK_BAD_TRANSID ||
			       err.problem == BLOCK_BAD_LEVEL;
		f.expected = err.wanted;
		f.found = err.found;
		check_report(ctx, &f, "log root unreadable: %s",
			     btrfs_block_problem_str(err.problem));
		return;
	}
	free_extent_buffer(eb);
}

/*
 * The backup slot written with the current generation must describe the
 * trees the superblock points at.  Older slots may point at blocks that
 * were reused since; they are not judged.
 */
static void check_backups(struct check_ctx *ctx)
{
	const struct btrfs_super_block *sb = &ctx->fs_info->super_copy;
	struct check_finding f = { .code = CHECK_SUPER_BACKUP };
	int i;

	for (i = 0; i < BTRFS_NUM_BACKUP_ROOTS; i++) {
		const struct btrfs_root_backup *b = &sb->super_roots[i];

		if (btrfs_stack_backup_tree_root_gen(b) !=
		    btrfs_super_generation(sb))
			continue;
		f.bytenr = btrfs_stack_backup_tree_root(b);
		f.key.objectid = (u64)i;
		if (btrfs_stack_backup_tree_root(b) != btrfs_super_root(sb)) {
			f.has_values = true;
			f.expected = btrfs_super_root(sb);
			f.found = btrfs_stack_backup_tree_root(b);
			check_report(ctx, &f,
				     "backup root %d of the current generation points to another tree root",
				     i);
		}
	}
}

/* Mirrors: read each copy that fits on the device; warn on damage. */
static void check_device_mirrors(struct check_ctx *ctx,
				 const struct btrfs_device *dev)
{
	unsigned long long devid = dev->devid;
	struct btrfs_super_block sb;
	int m;

	for (m = 0; m < BTRFS_SUPER_MIRROR_MAX; m++) {
		u64 off = btrfs_sb_offset(m);
		enum btrfs_super_problem p;

		if (off + BTRFS_SUPER_INFO_SIZE > dev->device_size)
			break;
		if (btrfs_read_super_raw(dev->io, off, &sb))
			continue;
		p = btrfs_check_super(&sb, off, false);
		if (p != SUPER_OK)
			fprintf(ctx->err,
				"WARNING: superblock copy %d of device %llu: %s\n",
				m, devid, btrfs_super_problem_str(p));
		else if (memcmp(sb.fsid, ctx->fs_info->fsid, BTRFS_FSID_SIZE))
			fprintf(ctx->err,
				"WARNING: superblock copy %d of device %llu belongs to another filesystem\n",
				m, devid);
	}
}

static void check_mirrors(struct check_ctx *ctx)
{
	const struct btrfs_device *dev;

	if (ctx->flags & CHECK_F_QUIET)
		return;
	for (dev = ctx->fs_info->fs_devices->devices; dev; dev = dev->next)
		if (dev->io)
			check_device_mirrors(ctx, dev);
}

int check_pass_super(struct check_ctx *ctx)
{
	check_features(ctx);
	check_sizes_and_generations(ctx);
	check_log_root(ctx);
	check_backups(ctx);
	check_mirrors(ctx);
	check_progress_add(ctx, 1);
	return 0;
}
