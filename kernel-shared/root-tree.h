/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Creating trees and the items that tie them together (the kernel's
 * btrfs_create_tree() in disk-io.c, root-tree.c, the inode / dir item
 * inserts of inode.c and dir-item.c, and uuid-tree.c).  Write path only:
 * every function needs a running transaction.
 */
#ifndef BTRFS_ROOT_TREE_H
#define BTRFS_ROOT_TREE_H

#include "kernel-shared/ctree.h"

/* Set @ts (in a stack item) to the current time. */
void btrfs_set_stack_time_now(struct btrfs_timespec *ts);

/*
 * Create the empty tree @objectid: a new leaf owned by it and its
 * ROOT_ITEM (offset 0) in the root tree, with the kernel's fields:
 * generation / generation_v2 the transaction's, level 0, refs 1,
 * bytes_used one node; subvolume trees (FS_TREE and the free objectid
 * range) also get a random uuid and ctime = otime = now, and root_dirid
 * BTRFS_FIRST_FREE_OBJECTID like DATA_RELOC_TREE.  The inode part of the
 * item is zero, as the kernel writes it.
 *
 * Returns the new root, owned by the caller (btrfs_free_root), who must
 * keep it until the transaction is committed; or ERR_PTR(-EEXIST: the
 * root item exists, -ENOSPC, -ENOMEM, ...).  The caller stores the
 * well-known ones in fs_info (csum_root, fs_root ...).
 */
struct btrfs_root *btrfs_create_tree(struct btrfs_trans_handle *trans,
				     u64 objectid);

/*
 * Insert the INODE_ITEM of directory @ino in @root (mode 040755, one
 * link, times now, generation the transaction's, @nbytes as given) and
 * its INODE_REF ".." to itself (a tree's top directory).  0, -EEXIST, <0.
 */
int btrfs_make_root_dir(struct btrfs_trans_handle *trans,
			struct btrfs_root *root, u64 ino, u64 nbytes);

/* Insert an INODE_REF (@ino -> @parent, @name, @index).  0, -EEXIST, <0. */
int btrfs_insert_inode_ref(struct btrfs_trans_handle *trans,
			   struct btrfs_root *root, const char *name,
			   u16 name_len, u64 ino, u64 parent, u64 index);

/*
 * Insert the DIR_ITEM for @name in directory @dir of @root pointing at
 * @location with file type @type; with a non-zero @index also its
 * DIR_INDEX.  A hash collision with an existing name is refused with
 * -EEXIST (the kernel appends to the item; not needed yet).
 */
int btrfs_insert_dir_item(struct btrfs_trans_handle *trans,
			  struct btrfs_root *root, const char *name,
			  u16 name_len, u64 dir,
			  const struct btrfs_key *location, u8 type, u64 index);

/*
 * Record @subid under @uuid (UUID_KEY_SUBVOL or UUID_KEY_RECEIVED_SUBVOL
 * @type) in the uuid tree fs_info->uuid_root.  0, -EEXIST (already
 * there), -ENOENT (no uuid tree), <0.
 */
int btrfs_uuid_tree_add(struct btrfs_trans_handle *trans, const u8 *uuid,
			u8 type, u64 subid);

#endif
