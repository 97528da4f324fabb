/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Snapshots (the kernel's create_pending_snapshot() in transaction.c and
 * btrfs_copy_root() in ctree.c).  Write path: a running transaction.
 */
#ifndef BTRFS_SNAPSHOT_H
#define BTRFS_SNAPSHOT_H

#include "kernel-shared/ctree.h"

/*
 * Copy @buf, the root node of a tree, into a new block owned by @new_root
 * (whose root_key names the new tree) and add a reference from it to each
 * block or data extent it points to (normal refs of the new tree).
 * *cow_ret gets the copy with one reference.  0 or negative errno.
 */
int btrfs_copy_root(struct btrfs_trans_handle *trans,
		    struct btrfs_root *new_root, struct extent_buffer *buf,
		    struct extent_buffer **cow_ret);

/*
 * Snapshot subvolume @src as new subvolume @new_objectid (in the free
 * objectid range, unused) linked as @name in directory @parent_dir of
 * @parent_root, like the kernel:
 * - @src's root node is COWed and copied for the snapshot, so both trees
 *   share everything below their roots; @src's last_snapshot becomes this
 *   transaction, so any block they share is COWed with reference updates
 *   (update_ref_for_cow).  Blocks of @src written earlier in this
 *   transaction are frozen (never changed in place again);
 * - ROOT_ITEM (@new_objectid, ROOT_ITEM, transid): a copy of @src's item
 *   with a new uuid, parent_uuid = @src's uuid, otransid / generation_v2
 *   this transaction, otime now, the received fields cleared, flags
 *   RDONLY as @readonly asks;
 * - ROOT_REF and ROOT_BACKREF, DIR_ITEM and DIR_INDEX (next index of the
 *   directory) pointing at the new root, the directory's size grown by
 *   twice the name length and its times and transid updated;
 * - UUID_KEY_SUBVOL entry when the filesystem has a uuid tree.
 * Returns the new root (the caller frees it with btrfs_free_root, after
 * the commit), or ERR_PTR: -EINVAL (bad name or ids), -EEXIST (the id or
 * the name exists, or another name of the directory has the same hash:
 * the kernel would share the DIR_ITEM, we refuse), -ENOENT (no such
 * directory), -ENOTDIR, -EOPNOTSUPP, -ENOSPC, <0.  After a failure past
 * the checks the transaction must be aborted.
 */
struct btrfs_root *btrfs_create_snapshot(struct btrfs_trans_handle *trans,
					 struct btrfs_root *src,
					 u64 new_objectid,
					 struct btrfs_root *parent_root,
					 u64 parent_dir, const char *name,
					 u16 name_len, bool readonly);

#endif
