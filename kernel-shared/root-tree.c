// SPDX-License-Identifier: GPL-2.0
/*
 * New trees, top directories, inode refs, dir items and uuid tree entries.
 */
#include "common/csum.h"
#include <stdlib.h>
#include <time.h>
#include <uuid/uuid.h>

#include "kernel-shared/disk-io.h"
#include "kernel-shared/extent-tree.h"
#include "kernel-shared/root-tree.h"
#include "kernel-shared/transaction.h"

/* Trees whose root item describes a subvolume (the kernel's is_fstree). */
static bool is_subvol_tree(u64 objectid)
{
	return objectid == BTRFS_FS_TREE_OBJECTID ||
	       (objectid >= BTRFS_FIRST_FREE_OBJECTID &&
		objectid <= BTRFS_LAST_FREE_OBJECTID);
}

void btrfs_set_stack_time_now(struct btrfs_timespec *ts)
{
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	btrfs_set_stack_timespec_sec(ts, (u64)now.tv_sec);
	btrfs_set_stack_timespec_nsec(ts, (u32)now.tv_nsec);
}

static void fill_new_root_item(struct btrfs_trans_handle *trans,
			       struct btrfs_root *root)
{
	struct btrfs_root_item *item = &root->root_item;
	u64 objectid = root->root_key.objectid;

	memset(item, 0, sizeof(*item));
	btrfs_set_stack_root_generation(item, trans->transid);
	btrfs_set_stack_root_generation_v2(item, trans->transid);
	btrfs_set_stack_root_bytenr(item, root->node->start);
	btrfs_set_stack_root_level(item, 0);
	btrfs_set_stack_root_refs(item, 1);
	btrfs_set_stack_root_used(item, root->node->len);
	if (is_subvol_tree(objectid) ||
	    objectid == BTRFS_DATA_RELOC_TREE_OBJECTID)
		btrfs_set_stack_root_dirid(item, BTRFS_FIRST_FREE_OBJECTID);
	if (is_subvol_tree(objectid)) {
		uuid_generate(item->uuid);
		btrfs_set_stack_time_now(&item->ctime);
		item->otime = item->ctime;
	}
}

/* A new empty leaf for @root (root_key set, node NULL). */
static int alloc_root_leaf(struct btrfs_trans_handle *trans,
			   struct btrfs_root *root)
{
	struct btrfs_fs_info *fs_info = trans->fs_info;
	struct extent_buffer *eb;
	struct btrfs_key ins;
	int ret;

	ret = btrfs_reserve_extent(trans, root, fs_info->nodesize, 0, 0, &ins,
				   false);
	if (ret)
		return ret;
	eb = btrfs_alloc_reserved_tree_block(trans, root, &ins, 0, NULL);
	if (IS_ERR(eb))
		return (int)PTR_ERR(eb);
	root->node = eb;
	return 0;
}

struct btrfs_root *btrfs_create_tree(struct btrfs_trans_handle *trans,
				     u64 objectid)
{
	struct btrfs_fs_info *fs_info = trans->fs_info;
	struct btrfs_root *root = calloc(1, sizeof(*root));
	int ret;

	if (!root)
		return ERR_PTR(-ENOMEM);
	root->fs_info = fs_info;
	root->root_key.objectid = objectid;
	root->root_key.type = BTRFS_ROOT_ITEM_KEY;
	root->root_key.offset = 0;
	ret = alloc_root_leaf(trans, root);
	if (ret) {
		free(root);
		return ERR_PTR(ret);
	}
	fill_new_root_item(trans, root);
	ret = btrfs_insert_item(trans, fs_info->tree_root, &root->root_key,
				&root->root_item, sizeof(root->root_item));
	if (!ret)
		ret = btrfs_mark_root_dirty(trans, root);
	if (ret) {
		/* The leaf stays queued: the transaction must abort. */
		btrfs_free_root(root);
		return ERR_PTR(ret);
	}
	return root;
}

int btrfs_make_root_dir(struct btrfs_trans_handle *trans,
			struct btrfs_root *root, u64 ino, u64 nbytes)
{
	struct btrfs_key key = { ino, BTRFS_INODE_ITEM_KEY, 0 };
	struct btrfs_inode_item item;
	int ret;

	memset(&item, 0, sizeof(item));
	btrfs_set_stack_inode_generation(&item, trans->transid);
	btrfs_set_stack_inode_nbytes(&item, nbytes);
	btrfs_set_stack_inode_nlink(&item, 1);
	btrfs_set_stack_inode_mode(&item, 040755);
	btrfs_set_stack_time_now(&item.atime);
	item.ctime = item.atime;
	item.mtime = item.atime;
	item.otime = item.atime;
	ret = btrfs_insert_item(trans, root, &key, &item, sizeof(item));
	if (ret)
		return ret;
	return btrfs_insert_inode_ref(trans, root, "..", 2, ino, ino, 0);
}

int btrfs_insert_inode_ref(struct btrfs_trans_handle *trans,
			   struct btrfs_root *root, const char *name,
			   u16 name_len, u64 ino, u64 parent, u64 index)
{
	struct btrfs_key key = { ino, BTRFS_INODE_REF_KEY, parent };
	u32 size = (u32)sizeof(struct btrfs_inode_ref) + name_len;
	struct btrfs_inode_ref *ref;
	int ret;

	if (name_len == 0 || name_len > BTRFS_NAME_LEN)
		return -EINVAL;
	ref = calloc(1, size);
	if (!ref)
		return -ENOMEM;
	btrfs_set_stack_inode_ref_index(ref, index);
	btrfs_set_stack_inode_ref_name_len(ref, name_len);
	memcpy(ref + 1, name, name_len);
	ret = btrfs_insert_item(trans, root, &key, ref, size);
	free(ref);
	return ret;
}

static int insert_dir_entry(struct btrfs_trans_handle *trans,
			    struct btrfs_root *root,
			    const struct btrfs_key *key, const char *name,
			    u16 name_len, const struct btrfs_key *location,
			    u8 type)
{
	u32 size = (u32)sizeof(struct btrfs_dir_item) + name_len;
	struct btrfs_dir_item *di = calloc(1, size);
	int ret;

	if (!di)
		return -ENOMEM;
	btrfs_cpu_key_to_disk(&di->location, location);
	btrfs_set_stack_dir_transid(di, trans->transid);
	btrfs_set_stack_dir_data_len(di, 0);
	btrfs_set_stack_dir_name_len(di, name_len);
	btrfs_set_stack_dir_flags(di, type);
	memcpy(di + 1, name, name_len);
	ret = btrfs_insert_item(trans, root, key, di, size);
	free(di);
	return ret;
}

int btrfs_insert_dir_item(struct btrfs_trans_handle *trans,
			  struct btrfs_root *root, const char *name,
			  u16 name_len, u64 dir,
			  const struct btrfs_key *location, u8 type, u64 index)
{
	struct btrfs_key key = { dir, BTRFS_DIR_ITEM_KEY, 0 };
	int ret;

	if (name_len == 0 || name_len > BTRFS_NAME_LEN)
		return -EINVAL;
	key.offset = btrfs_name_hash(name, name_len);
	ret = insert_dir_entry(trans, root, &key, name, name_len, location,
			       type);
	if (ret || !index)
		return ret;
	key.type = BTRFS_DIR_INDEX_KEY;
	key.offset = index;
	return insert_dir_entry(trans, root, &key, name, name_len, location,
				type);
}

int btrfs_uuid_tree_add(struct btrfs_trans_handle *trans, const u8 *uuid,
			u8 type, u64 subid)
{
	struct btrfs_root *root = trans->fs_info->uuid_root;
	struct btrfs_key key;
	u8 data[sizeof(u64)];

	if (!root)
		return -ENOENT;
	key.objectid = get_unaligned_le64(uuid);
	key.type = type;
	key.offset = get_unaligned_le64(uuid + sizeof(u64));
	put_unaligned_le64(subid, data);
	return btrfs_insert_item(trans, root, &key, data, sizeof(data));
}
