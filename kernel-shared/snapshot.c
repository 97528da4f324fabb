// SPDX-License-Identifier: GPL-2.0
/*
 * Snapshots: copying a subvolume's root node and tying the new tree into
 * the root tree, the parent directory and the uuid tree.
 */
#include "common/csum.h"

#include <stdlib.h>
#include <uuid/uuid.h>

#include "kernel-shared/dir-item.h"
#include "kernel-shared/disk-io.h"
#include "kernel-shared/extent-tree.h"
#include "kernel-shared/inode.h"
#include "kernel-shared/root-tree.h"
#include "kernel-shared/snapshot.h"
#include "kernel-shared/transaction.h"

int btrfs_copy_root(struct btrfs_trans_handle *trans,
		    struct btrfs_root *new_root, struct extent_buffer *buf,
		    struct extent_buffer **cow_ret)
{
	struct btrfs_fs_info *fs_info = trans->fs_info;
	struct extent_buffer *cow;
	struct btrfs_key ins;
	int ret;

	ret = btrfs_reserve_extent(trans, new_root, fs_info->nodesize, 0,
				   buf->start, &ins, false);
	if (ret)
		return ret;
	cow = btrfs_alloc_tree_block_copy(trans, new_root, &ins, buf);
	if (IS_ERR(cow))
		return (int)PTR_ERR(cow);
	ret = btrfs_inc_ref(trans, new_root, cow, false);
	if (ret) {
		free_extent_buffer(cow);
		return ret;
	}
	*cow_ret = cow;
	return 0;
}

/* COW the root node of @root into this transaction. */
static int cow_root_node(struct btrfs_trans_handle *trans,
			 struct btrfs_root *root)
{
	struct btrfs_key key = { 0, 0, 0 };
	struct btrfs_path *path = btrfs_alloc_path();
	int ret;

	if (!path)
		return -ENOMEM;
	path->lowest_level = btrfs_header_level(root->node);
	ret = btrfs_search_slot(trans, root, &key, path, 0, 1);
	btrfs_free_path(path);
	return ret < 0 ? ret : 0;
}

/*
 * Blocks of @root_id made in this transaction are now shared with the
 * snapshot: mark them written so that every later change COWs them (with
 * the reference updates of a shared block) instead of changing them in
 * place.  They are still written at commit.  This is what the kernel gets
 * from BTRFS_ROOT_FORCE_COW.
 */
static void freeze_dirty_blocks(struct btrfs_trans_handle *trans, u64 root_id)
{
	for (size_t i = 0; i < trans->nr_dirty; i++) {
		struct extent_buffer *eb = trans->dirty[i];

		if (!extent_buffer_dirty(eb) ||
		    btrfs_header_owner(eb) != root_id ||
		    btrfs_header_generation(eb) != trans->transid)
			continue;
		btrfs_set_header_flags(eb, btrfs_header_flags(eb) |
					   BTRFS_HEADER_FLAG_WRITTEN);
	}
}

/* Does the root tree have any item of @objectid?  1, 0, <0. */
static int root_id_used(struct btrfs_fs_info *fs_info, u64 objectid)
{
	struct btrfs_key key = { objectid, 0, 0 };
	struct btrfs_path *path = btrfs_alloc_path();
	int ret;

	if (!path)
		return -ENOMEM;
	ret = btrfs_search_slot_for_read(fs_info->tree_root, &key, path);
	if (ret == 0) {
		btrfs_item_key_to_cpu(path->nodes[0], &key, path->slots[0]);
		ret = key.objectid == objectid;
	} else if (ret > 0) {
		ret = 0;
	}
	btrfs_free_path(path);
	return ret;
}

/* The next DIR_INDEX of directory @dir: the highest one + 1, at least 2. */
static int next_dir_index(struct btrfs_root *root, u64 dir, u64 *index)
{
	struct btrfs_key key = { dir, BTRFS_DIR_INDEX_KEY, (u64)-1 };
	struct btrfs_path *path = btrfs_alloc_path();
	int ret;

	if (!path)
		return -ENOMEM;
	*index = 2;
	ret = btrfs_search_slot(NULL, root, &key, path, 0, 0);
	if (ret > 0)
		ret = btrfs_previous_item(root, path, dir,
					  BTRFS_DIR_INDEX_KEY);
	if (ret == 0) {
		btrfs_item_key_to_cpu(path->nodes[0], &key, path->slots[0]);
		if (key.objectid == dir && key.type == BTRFS_DIR_INDEX_KEY) {
			if (key.offset >= (u64)-2)
				ret = -EOVERFLOW;
			else if (key.offset + 1 > *index)
				*index = key.offset + 1;
		}
	}
	btrfs_free_path(path);
	return ret < 0 ? ret : 0;
}

/* ROOT_REF (@parent_id -> @child_id) or ROOT_BACKREF (the other way). */
static int insert_root_ref(struct btrfs_trans_handle *trans, u64 objectid,
			   u8 type, u64 offset, u64 dir, u64 index,
			   const char *name, u16 name_len)
{
	struct btrfs_key key = { objectid, type, offset };
	u32 size = (u32)sizeof(struct btrfs_root_ref) + name_len;
	struct btrfs_root_ref *ref = calloc(1, size);
	int ret;

	if (!ref)
		return -ENOMEM;
	btrfs_set_stack_root_ref_dirid(ref, dir);
	btrfs_set_stack_root_ref_sequence(ref, index);
	btrfs_set_stack_root_ref_name_len(ref, name_len);
	memcpy(ref + 1, name, name_len);
	ret = btrfs_insert_item(trans, trans->fs_info->tree_root, &key, ref,
				size);
	free(ref);
	return ret;
}

/* The directory got an entry of @name_len bytes: size, times, transid. */
static int update_parent_dir(struct btrfs_trans_handle *trans,
			     struct btrfs_root *root, u64 dir, u16 name_len)
{
	struct btrfs_key key = { dir, BTRFS_INODE_ITEM_KEY, 0 };
	struct btrfs_path *path = btrfs_alloc_path();
	struct btrfs_inode_item *ii;
	struct extent_buffer *leaf;
	struct btrfs_timespec now;
	int ret;

	if (!path)
		return -ENOMEM;
	ret = btrfs_search_slot(trans, root, &key, path, 0, 1);
	if (ret > 0)
		ret = -ENOENT;
	if (!ret && btrfs_item_size(path->nodes[0], path->slots[0]) <
			    sizeof(*ii))
		ret = -EUCLEAN;
	if (ret)
		goto out;
	leaf = path->nodes[0];
	ii = btrfs_item_ptr(leaf, path->slots[0], struct btrfs_inode_item);
	btrfs_set_stack_time_now(&now);
	btrfs_set_inode_size(leaf, ii, btrfs_inode_size(leaf, ii) +
				       2ULL * name_len);
	btrfs_set_inode_transid(leaf, ii, trans->transid);
	btrfs_set_inode_sequence(leaf, ii, btrfs_inode_sequence(leaf, ii) + 1);
	write_extent_buffer(leaf, &now,
			    btrfs_item_ptr_offset(leaf, path->slots[0]) +
			    offsetof(struct btrfs_inode_item, mtime),
			    sizeof(now));
	write_extent_buffer(leaf, &now,
			    btrfs_item_ptr_offset(leaf, path->slots[0]) +
			    offsetof(struct btrfs_inode_item, ctime),
			    sizeof(now));
	ret = btrfs_mark_buffer_dirty(trans, leaf);
out:
	btrfs_free_path(path);
	return ret;
}

/* The new root item: a copy of the source's, as the kernel fills it. */
static void init_snapshot_item(struct btrfs_trans_handle *trans,
			       struct btrfs_root *src,
			       struct btrfs_root *snap, bool readonly)
{
	struct btrfs_root_item *item = &snap->root_item;
	u64 flags;

	*item = src->root_item;
	flags = btrfs_stack_root_flags(item);
	if (readonly)
		flags |= BTRFS_ROOT_SUBVOL_RDONLY;
	else
		flags &= ~BTRFS_ROOT_SUBVOL_RDONLY;
	btrfs_set_stack_root_flags(item, flags);
	btrfs_set_stack_root_generation_v2(item, trans->transid);
	uuid_generate(item->uuid);
	memcpy(item->parent_uuid, src->root_item.uuid, BTRFS_UUID_SIZE);
	if (!readonly) {
		memset(item->received_uuid, 0, BTRFS_UUID_SIZE);
		memset(&item->stime, 0, sizeof(item->stime));
		memset(&item->rtime, 0, sizeof(item->rtime));
		btrfs_set_stack_root_stransid(item, 0);
		btrfs_set_stack_root_rtransid(item, 0);
	}
	btrfs_set_stack_time_now(&item->otime);
	btrfs_set_stack_root_otransid(item, trans->transid);
	btrfs_set_stack_root_refs(item, 1);
}

static int check_snapshot_args(struct btrfs_trans_handle *trans,
			       struct btrfs_root *src, u64 new_objectid,
			       struct btrfs_root *parent_root, u64 parent_dir,
			       const char *name, u16 name_len)
{
	struct btrfs_inode_item ii;
	struct btrfs_dir_entry entry;
	int ret;

	if (!btrfs_root_is_shareable(src) ||
	    src->root_key.objectid == BTRFS_TREE_RELOC_OBJECTID ||
	    !btrfs_root_is_shareable(parent_root) ||
	    new_objectid < BTRFS_FIRST_FREE_OBJECTID ||
	    new_objectid > BTRFS_LAST_FREE_OBJECTID ||
	    name_len == 0 || name_len > BTRFS_NAME_LEN ||
	    memchr(name, '/', name_len) || memchr(name, 0, name_len) ||
	    (name_len == 1 && name[0] == '.') ||
	    (name_len == 2 && name[0] == '.' && name[1] == '.'))
		return -EINVAL;
	ret = root_id_used(trans->fs_info, new_objectid);
	if (ret)
		return ret < 0 ? ret : -EEXIST;
	ret = btrfs_read_inode_item(parent_root, parent_dir, &ii, NULL, NULL);
	if (ret)
		return ret;
	if ((btrfs_stack_inode_mode(&ii) & 0170000) != 0040000)
		return -ENOTDIR;
	ret = btrfs_lookup_dir_item(parent_root, parent_dir, name, name_len,
				    &entry, NULL, NULL);
	if (ret == 0)
		return -EEXIST;
	return ret == -ENOENT ? 0 : ret;
}

struct btrfs_root *btrfs_create_snapshot(struct btrfs_trans_handle *trans,
					 struct btrfs_root *src,
					 u64 new_objectid,
					 struct btrfs_root *parent_root,
					 u64 parent_dir, const char *name,
					 u16 name_len, bool readonly)
{
	struct btrfs_fs_info *fs_info = trans->fs_info;
	struct btrfs_root *snap;
	struct extent_buffer *node;
	struct btrfs_key location = { new_objectid, BTRFS_ROOT_ITEM_KEY,
				      (u64)-1 };
	u64 parent_id = parent_root->root_key.objectid;
	u64 index;
	int ret;

	ret = check_snapshot_args(trans, src, new_objectid, parent_root,
				  parent_dir, name, name_len);
	if (!ret)
		ret = next_dir_index(parent_root, parent_dir, &index);
	if (ret)
		return ERR_PTR(ret);
	snap = calloc(1, sizeof(*snap));
	if (!snap)
		return ERR_PTR(-ENOMEM);
	snap->fs_info = fs_info;
	snap->root_key = (struct btrfs_key){ new_objectid, BTRFS_ROOT_ITEM_KEY,
					     trans->transid };

	ret = cow_root_node(trans, src);
	if (ret)
		goto fail;
	btrfs_set_stack_root_last_snapshot(&src->root_item, trans->transid);
	ret = btrfs_mark_root_dirty(trans, src);
	if (ret)
		goto fail;
	init_snapshot_item(trans, src, snap, readonly);
	freeze_dirty_blocks(trans, src->root_key.objectid);
	ret = btrfs_copy_root(trans, snap, src->node, &node);
	if (ret)
		goto fail;
	snap->node = node;
	btrfs_set_stack_root_bytenr(&snap->root_item, node->start);
	btrfs_set_stack_root_level(&snap->root_item, btrfs_header_level(node));
	btrfs_set_stack_root_generation(&snap->root_item, trans->transid);
	ret = btrfs_insert_item(trans, fs_info->tree_root, &snap->root_key,
				&snap->root_item, sizeof(snap->root_item));
	if (!ret)
		ret = btrfs_mark_root_dirty(trans, snap);
	if (!ret)
		ret = insert_root_ref(trans, parent_id, BTRFS_ROOT_REF_KEY,
				      new_objectid, parent_dir, index, name,
				      name_len);
	if (!ret)
		ret = insert_root_ref(trans, new_objectid,
				      BTRFS_ROOT_BACKREF_KEY, parent_id,
				      parent_dir, index, name, name_len);
	if (!ret)
		ret = btrfs_insert_dir_item(trans, parent_root, name, name_len,
					    parent_dir, &location,
					    BTRFS_FT_DIR, index);
	if (!ret)
		ret = update_parent_dir(trans, parent_root, parent_dir,
					name_len);
	if (!ret && fs_info->uuid_root)
		ret = btrfs_uuid_tree_add(trans, snap->root_item.uuid,
					  BTRFS_UUID_KEY_SUBVOL, new_objectid);
	if (ret)
		goto fail;
	return snap;
fail:
	/* The transaction must be aborted: nothing of it reaches the disk. */
	btrfs_free_root(snap);
	return ERR_PTR(ret);
}
