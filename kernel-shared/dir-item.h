/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Directory entries and extended attributes, both stored as struct
 * btrfs_dir_item (the kernel's fs/btrfs/dir-item.c, read side only):
 * iterate a directory's DIR_INDEX items in index order, look a name up
 * through its DIR_ITEM (keyed by the name hash), iterate an inode's
 * XATTR_ITEMs.
 */
#ifndef BTRFS_DIR_ITEM_H
#define BTRFS_DIR_ITEM_H

#include "kernel-shared/ctree.h"
#include "kernel-shared/item-iter.h"

/*
 * One directory entry, copied out of its leaf.  @name holds @name_len bytes
 * and a terminating NUL; the bytes come from disk and may themselves hold
 * '/', NUL or anything else: callers creating files must check them.
 * @problem is 0, or -EUCLEAN for an item that is malformed (a name length
 * of 0, over BTRFS_NAME_LEN or past the item): then only @dir and @index
 * are meaningful.
 */
struct btrfs_dir_entry {
	u64 dir;			/* inode number of the directory */
	u64 index;			/* DIR_INDEX key offset */
	struct btrfs_key location;	/* INODE_ITEM or ROOT_ITEM key */
	u8 type;			/* BTRFS_FT_*, encryption bit cleared */
	u16 name_len;
	int problem;
	char name[BTRFS_NAME_LEN + 1];
};

/* Called for each entry; a nonzero return stops the iteration. */
typedef int (*btrfs_dir_entry_fn)(const struct btrfs_dir_entry *entry,
				  void *ctx);

/*
 * Call @fn for each DIR_INDEX entry of directory @dir of @root, in index
 * order.  Unreadable blocks are reported through @on_skip and stepped over.
 * Returns 0, @fn's nonzero return, or <0 when the iteration failed.
 */
int btrfs_iterate_dir_index(struct btrfs_root *root, u64 dir,
			    btrfs_dir_entry_fn fn, void *ctx,
			    btrfs_iter_skip_fn on_skip, void *skip_ctx);

/*
 * Find @name (@len bytes) in directory @dir through its DIR_ITEM.
 * 0 and *@entry filled (index is 0), -ENOENT, or <0.
 */
int btrfs_lookup_dir_item(struct btrfs_root *root, u64 dir, const char *name,
			  size_t len, struct btrfs_dir_entry *entry,
			  btrfs_iter_skip_fn on_skip, void *skip_ctx);

/*
 * Called for each extended attribute: @name (@name_len bytes, not
 * NUL-terminated) and @value (@value_len bytes).  Nonzero stops.
 */
typedef int (*btrfs_xattr_fn)(const char *name, size_t name_len,
			      const void *value, size_t value_len, void *ctx);

/*
 * Call @fn for each extended attribute of inode @ino of @root.  A
 * malformed XATTR_ITEM stops nothing: its entries are skipped and counted
 * in *@nr_bad (may be NULL).  Returns 0, @fn's nonzero return, or <0.
 */
int btrfs_iterate_xattrs(struct btrfs_root *root, u64 ino,
			 btrfs_xattr_fn fn, void *ctx, int *nr_bad,
			 btrfs_iter_skip_fn on_skip, void *skip_ctx);

#endif
