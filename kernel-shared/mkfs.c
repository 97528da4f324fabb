// SPDX-License-Identifier: GPL-2.0
/*
 * Making a new filesystem.  Two parts, as every mkfs:
 *
 * - the bootstrap (mkfs-bootstrap.c, the only special case): the first
 *   SYSTEM, METADATA (or mixed) and DATA chunks are planned on the empty
 *   devices with btrfs_plan_chunk(), in the reference's sizes (which
 *   differ from the kernel's rules btrfs_alloc_chunk follows), and the
 *   four leaves the engine needs to open a filesystem for writing (chunk,
 *   root, extent and dev tree) are built in memory and written to every
 *   copy of their chunk, with superblocks carrying the temporary magic, so
 *   that an interrupted mkfs leaves nothing mountable;
 * - the engine steps: open_ctree() on the devices, then transactions that
 *   use the general engine functions (btrfs_create_tree, the free-space
 *   tree and block group tree conversions); after the last commit the
 *   same superblocks are written once more with the real magic.
 */
#include "common/csum.h"
#include <stdlib.h>

#include "kernel-shared/block-group-tree.h"
#include "kernel-shared/disk-io.h"
#include "kernel-shared/free-space-tree.h"
#include "kernel-shared/mkfs-internal.h"
#include "kernel-shared/root-tree.h"
#include "kernel-shared/transaction.h"
#include "kernel-shared/volumes.h"

#define SZ_1M (1ULL << 20)
#define SZ_4M (4ULL << 20)

/* ------------------------------------------------------------------ */
/* Sizes. */

static bool profile_is(u64 profile, u64 bit)
{
	return (profile & BTRFS_BLOCK_GROUP_PROFILE_MASK) == bit;
}

/* Multi-device profiles (not single, not dup). */
static bool profile_spans_devices(u64 profile)
{
	u64 p = profile & BTRFS_BLOCK_GROUP_PROFILE_MASK;

	return p && p != BTRFS_BLOCK_GROUP_DUP;
}

/*
 * Measured on the reference mkfs.btrfs 6.2 (the minimum it prints for
 * each profile combination): 45MiB with single profiles, plus 64MiB for
 * DUP metadata or 24MiB for a multi-device metadata profile, plus 120MiB
 * for DUP data or 56MiB for a multi-device data profile; mixed groups
 * need twice (4MiB + 1024 nodes).
 */
static u64 reference_min_dev_size(const struct btrfs_mkfs_config *cfg)
{
	u64 size = 45 * SZ_1M;

	if (cfg->mixed)
		return 2 * (SZ_4M + (u64)cfg->nodesize * 1024);
	if (profile_is(cfg->metadata_profile, BTRFS_BLOCK_GROUP_DUP))
		size += 64 * SZ_1M;
	else if (profile_spans_devices(cfg->metadata_profile))
		size += 24 * SZ_1M;
	if (profile_is(cfg->data_profile, BTRFS_BLOCK_GROUP_DUP))
		size += 120 * SZ_1M;
	else if (profile_spans_devices(cfg->data_profile))
		size += 56 * SZ_1M;
	return size;
}

/*
 * The reference's minimum, unless our first chunks need more: the
 * reference's own minimum for mixed DUP is too small for the chunks it
 * then makes (it fails there).
 */
u64 btrfs_mkfs_min_dev_size(const struct btrfs_mkfs_config *cfg)
{
	u64 size = reference_min_dev_size(cfg);
	u64 need = mkfs_boot_layout_need(cfg, size);

	return max_t(u64, size, round_up(need, SZ_1M));
}

/* ------------------------------------------------------------------ */
/* The engine steps. */

static int open_new_fs(const struct btrfs_mkfs_config *cfg,
		       struct btrfs_fs_info **fs_info)
{
	struct open_ctree_args args = { 0 };
	struct btrfs_io **ios;
	int ret;

	ios = calloc((size_t)cfg->nr_devices, sizeof(*ios));
	if (!ios)
		return -ENOMEM;
	for (int i = 0; i < cfg->nr_devices; i++)
		ios[i] = cfg->devices[i].io;
	args.ios = ios;
	args.nr_devices = cfg->nr_devices;
	args.flags = OPEN_CTREE_WRITES | OPEN_CTREE_ALLOW_TEMP |
		     OPEN_CTREE_NO_SCAN;
	ret = open_ctree(&args, fs_info, NULL);
	free(ios);
	return ret;
}

/* Trees made in the first transaction and kept until its commit. */
struct mkfs_trees {
	struct btrfs_root *data_reloc;
};

/* The root tree's directory: "default" names the FS_TREE. */
static int make_root_tree_dir(struct btrfs_trans_handle *trans)
{
	struct btrfs_fs_info *fs_info = trans->fs_info;
	struct btrfs_root *tree_root = fs_info->tree_root;
	struct btrfs_key location = { BTRFS_FS_TREE_OBJECTID,
				      BTRFS_ROOT_ITEM_KEY, (u64)-1 };
	int ret;

	ret = btrfs_make_root_dir(trans, tree_root,
				  BTRFS_ROOT_TREE_DIR_OBJECTID,
				  fs_info->nodesize);
	if (!ret)
		ret = btrfs_insert_dir_item(trans, tree_root, "default", 7,
					    BTRFS_ROOT_TREE_DIR_OBJECTID,
					    &location, BTRFS_FT_DIR, 0);
	/* The reference also links the FS_TREE back to the directory. */
	if (!ret)
		ret = btrfs_insert_inode_ref(trans, tree_root, "default", 7,
					     BTRFS_FS_TREE_OBJECTID,
					     BTRFS_ROOT_TREE_DIR_OBJECTID, 0);
	return ret;
}

static int make_global_tree(struct btrfs_trans_handle *trans, u64 objectid,
			    struct btrfs_root **slot)
{
	struct btrfs_root *root = btrfs_create_tree(trans, objectid);

	if (IS_ERR(root))
		return (int)PTR_ERR(root);
	*slot = root;
	return 0;
}

static int make_trees(struct btrfs_trans_handle *trans,
		      struct mkfs_trees *t, const char **what)
{
	struct btrfs_fs_info *fs_info = trans->fs_info;
	struct btrfs_root *reloc;
	int ret;

	*what = "creating the fs tree";
	ret = make_global_tree(trans, BTRFS_FS_TREE_OBJECTID,
			       &fs_info->fs_root);
	if (!ret)
		ret = btrfs_make_root_dir(trans, fs_info->fs_root,
					  BTRFS_FIRST_FREE_OBJECTID,
					  fs_info->nodesize);
	if (!ret) {
		*what = "creating the root tree directory";
		ret = make_root_tree_dir(trans);
	}
	if (!ret) {
		*what = "creating the csum tree";
		ret = make_global_tree(trans, BTRFS_CSUM_TREE_OBJECTID,
				       &fs_info->csum_root);
	}
	if (!ret) {
		*what = "creating the uuid tree";
		ret = make_global_tree(trans, BTRFS_UUID_TREE_OBJECTID,
				       &fs_info->uuid_root);
	}
	if (!ret)
		ret = btrfs_uuid_tree_add(trans,
					  fs_info->fs_root->root_item.uuid,
					  BTRFS_UUID_KEY_SUBVOL,
					  BTRFS_FS_TREE_OBJECTID);
	if (ret)
		return ret;
	*what = "creating the data relocation tree";
	reloc = btrfs_create_tree(trans, BTRFS_DATA_RELOC_TREE_OBJECTID);
	if (IS_ERR(reloc))
		return (int)PTR_ERR(reloc);
	t->data_reloc = reloc;
	return btrfs_make_root_dir(trans, reloc, BTRFS_FIRST_FREE_OBJECTID, 0);
}

/* Bytes of tree blocks of @root (its qgroup's referenced bytes). */
static int count_block(struct extent_buffer *eb, void *ctx)
{
	*(u64 *)ctx += eb->len;
	return 0;
}

static void walk_error(u64 bytenr, int err, void *ctx)
{
	(void)bytenr;
	(void)err;
	*(u64 *)ctx = (u64)-1;
}

static int tree_bytes(struct btrfs_root *root, u64 *bytes)
{
	struct btrfs_tree_walk_ops ops = { count_block, walk_error };
	int ret;

	*bytes = 0;
	ret = btrfs_walk_tree(root->fs_info, root->node, false, &ops, bytes);
	if (ret)
		return ret;
	return *bytes == (u64)-1 ? -EIO : 0;
}

/*
 * Quota tree with the status item (on, consistent) and the FS_TREE's
 * qgroup 0/5 counting its tree blocks.  Written in the last transaction:
 * the kernel trusts a status whose generation is the filesystem's.
 */
static int make_quota_tree(struct btrfs_trans_handle *trans)
{
	struct btrfs_fs_info *fs_info = trans->fs_info;
	struct btrfs_qgroup_status_item status = { 0 };
	struct btrfs_qgroup_info_item info = { 0 };
	struct btrfs_qgroup_limit_item limit = { 0 };
	struct btrfs_key key = { 0, BTRFS_QGROUP_STATUS_KEY, 0 };
	u64 bytes;
	int ret;

	ret = tree_bytes(fs_info->fs_root, &bytes);
	if (!ret)
		ret = make_global_tree(trans, BTRFS_QUOTA_TREE_OBJECTID,
				       &fs_info->quota_root);
	if (ret)
		return ret;
	btrfs_set_stack_qgroup_status_version(&status, 1);
	btrfs_set_stack_qgroup_status_generation(&status, trans->transid);
	btrfs_set_stack_qgroup_status_flags(&status,
					    BTRFS_QGROUP_STATUS_FLAG_ON);
	/* Without simple quotas the item ends before enable_gen. */
	ret = btrfs_insert_item(trans, fs_info->quota_root, &key, &status,
				offsetof(struct btrfs_qgroup_status_item,
					 enable_gen));
	btrfs_set_stack_qgroup_info_generation(&info, trans->transid);
	btrfs_set_stack_qgroup_info_rfer(&info, bytes);
	btrfs_set_stack_qgroup_info_rfer_cmpr(&info, bytes);
	btrfs_set_stack_qgroup_info_excl(&info, bytes);
	btrfs_set_stack_qgroup_info_excl_cmpr(&info, bytes);
	key.type = BTRFS_QGROUP_INFO_KEY;
	key.offset = BTRFS_FS_TREE_OBJECTID;
	if (!ret)
		ret = btrfs_insert_item(trans, fs_info->quota_root, &key,
					&info, sizeof(info));
	key.type = BTRFS_QGROUP_LIMIT_KEY;
	if (!ret)
		ret = btrfs_insert_item(trans, fs_info->quota_root, &key,
					&limit, sizeof(limit));
	return ret;
}

static int first_transaction(struct btrfs_fs_info *fs_info,
			     const char **what)
{
	struct btrfs_trans_handle *trans = btrfs_start_transaction(fs_info);
	struct mkfs_trees t = { 0 };
	int ret;

	if (IS_ERR(trans))
		return (int)PTR_ERR(trans);
	ret = make_trees(trans, &t, what);
	if (ret) {
		btrfs_abort_transaction(trans);
	} else {
		*what = "committing the new trees";
		ret = btrfs_commit_transaction(trans);
	}
	btrfs_free_root(t.data_reloc);
	return ret;
}

/* One transaction running @fn (a conversion); committed, or aborted. */
static int run_step(struct btrfs_fs_info *fs_info,
		    int (*fn)(struct btrfs_trans_handle *trans))
{
	struct btrfs_trans_handle *trans = btrfs_start_transaction(fs_info);
	int ret;

	if (IS_ERR(trans))
		return (int)PTR_ERR(trans);
	ret = fn(trans);
	if (ret) {
		btrfs_abort_transaction(trans);
		return ret;
	}
	return btrfs_commit_transaction(trans);
}

/* The last commit: quota if asked; then the real magic. */
static int final_transaction(struct btrfs_fs_info *fs_info,
			     const struct btrfs_mkfs_config *cfg,
			     const char **what)
{
	struct btrfs_trans_handle *trans = btrfs_start_transaction(fs_info);
	int ret = 0;

	if (IS_ERR(trans))
		return (int)PTR_ERR(trans);
	if (cfg->quota) {
		*what = "creating the quota tree";
		ret = make_quota_tree(trans);
	}
	if (ret) {
		btrfs_abort_transaction(trans);
		return ret;
	}
	*what = "writing superblocks";
	ret = btrfs_commit_transaction(trans);
	if (ret)
		return ret;
	/*
	 * The commit wrote the final superblocks with the temporary magic.
	 * Now the same blocks again with the real one: they differ only in
	 * the first sector (checksum and magic), so a write torn by a power
	 * cut leaves either the whole temporary or the whole real block,
	 * never the real magic over a block that fails its checksum.
	 */
	btrfs_set_super_magic(&fs_info->super_copy, BTRFS_MAGIC);
	return write_all_supers(fs_info);
}

static int record_chunk(const struct map_lookup *map, void *ctx)
{
	struct btrfs_mkfs_result *res = ctx;

	if (res->nr_chunks >= BTRFS_MKFS_MAX_CHUNKS)
		return 1;
	res->chunks[res->nr_chunks].type = map->type;
	res->chunks[res->nr_chunks].length = map->length;
	res->nr_chunks++;
	return 0;
}

static int engine_steps(const struct btrfs_mkfs_config *cfg,
			struct btrfs_mkfs_result *res, const char **what)
{
	struct btrfs_fs_info *fs_info;
	int ret;

	*what = "opening the new filesystem";
	ret = open_new_fs(cfg, &fs_info);
	if (ret)
		return ret;
	ret = first_transaction(fs_info, what);
	if (!ret && (cfg->compat_ro_flags &
		     BTRFS_FEATURE_COMPAT_RO_FREE_SPACE_TREE)) {
		*what = "creating the free space tree";
		ret = run_step(fs_info, btrfs_create_free_space_tree);
	}
	if (!ret && (cfg->compat_ro_flags &
		     BTRFS_FEATURE_COMPAT_RO_BLOCK_GROUP_TREE)) {
		*what = "creating the block group tree";
		ret = run_step(fs_info, btrfs_convert_to_block_group_tree);
	}
	if (!ret)
		ret = final_transaction(fs_info, cfg, what);
	if (!ret) {
		memset(res, 0, sizeof(*res));
		btrfs_for_each_chunk_map(fs_info, record_chunk, res);
		res->total_bytes =
			btrfs_super_total_bytes(&fs_info->super_copy);
	}
	close_ctree(fs_info);
	return ret;
}

static int check_config(const struct btrfs_mkfs_config *cfg)
{
	if (!cfg->devices || cfg->nr_devices < 1 ||
	    cfg->nr_devices > BTRFS_CHUNK_PLAN_MAX_STRIPES)
		return -EINVAL;
	if (!is_power_of_2(cfg->sectorsize) || cfg->sectorsize < 4096 ||
	    !is_power_of_2(cfg->nodesize) || cfg->nodesize < cfg->sectorsize ||
	    cfg->nodesize > BTRFS_STRIPE_LEN)
		return -EINVAL;
	if (btrfs_csum_type_size(cfg->csum_type) == 0)
		return -EINVAL;
	/* The kernel refuses a block group tree without these. */
	if ((cfg->compat_ro_flags & BTRFS_FEATURE_COMPAT_RO_BLOCK_GROUP_TREE) &&
	    (!(cfg->compat_ro_flags & BTRFS_FEATURE_COMPAT_RO_FREE_SPACE_TREE) ||
	     !(cfg->incompat_flags & BTRFS_FEATURE_INCOMPAT_NO_HOLES)))
		return -EINVAL;
	for (int i = 0; i < cfg->nr_devices; i++)
		if (!cfg->devices[i].io || !cfg->devices[i].io->writable)
			return -EINVAL;
	return 0;
}

int btrfs_make_filesystem(const struct btrfs_mkfs_config *cfg,
			  struct btrfs_mkfs_result *res, const char **what)
{
	const char *local;
	int ret;

	if (!what)
		what = &local;
	*what = "checking the configuration";
	ret = check_config(cfg);
	if (!ret)
		ret = mkfs_bootstrap(cfg, what);
	if (!ret)
		ret = engine_steps(cfg, res, what);
	return ret;
}
