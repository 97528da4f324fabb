/* SPDX-License-Identifier: GPL-2.0 */
/*
 * File data: the EXTENT_DATA items of an inode, the data checksums of the
 * csum tree, and reading data verified against them from every copy (the
 * kernel's fs/btrfs/file-item.c and the read-repair logic of bio.c, read
 * side only).
 */
#ifndef BTRFS_FILE_ITEM_H
#define BTRFS_FILE_ITEM_H

#include "kernel-shared/ctree.h"
#include "kernel-shared/item-iter.h"

/*
 * One file extent item, decoded.  For an inline extent @inline_data points
 * at @inline_len bytes inside the leaf, valid only during the callback;
 * the disk_* / offset / num_bytes fields are then 0.  @problem is 0, or
 * -EUCLEAN for an item too small for its type or of an unknown type (then
 * only @file_offset is meaningful).
 */
struct btrfs_file_extent {
	u64 file_offset;	/* key offset */
	u64 generation;
	u64 ram_bytes;
	u8 type;		/* BTRFS_FILE_EXTENT_* */
	u8 compression;		/* BTRFS_COMPRESS_* */
	u8 encryption;
	u16 other_encoding;
	u64 disk_bytenr;	/* 0: a hole */
	u64 disk_num_bytes;
	u64 offset;		/* into the (decompressed) extent */
	u64 num_bytes;		/* bytes of the file this item covers */
	const u8 *inline_data;
	u32 inline_len;
	int problem;
};

/* Called for each extent; a nonzero return stops the iteration. */
typedef int (*btrfs_file_extent_fn)(const struct btrfs_file_extent *fe,
				    void *ctx);

/*
 * Call @fn for each EXTENT_DATA item of inode @ino of @root whose key offset
 * is >= @start, in file offset order.  Unreadable blocks are reported
 * through @on_skip and stepped over.  Returns 0, @fn's nonzero return, or
 * <0 when the iteration failed.
 */
int btrfs_iterate_file_extents(struct btrfs_root *root, u64 ino, u64 start,
			       btrfs_file_extent_fn fn, void *ctx,
			       btrfs_iter_skip_fn on_skip, void *skip_ctx);

/*
 * Look up the data checksums of the sectors of [@bytenr, @bytenr + @len)
 * (both sector aligned) in the csum tree.  Sector i's checksum goes to
 * @csums + i * csum_size and @have[i] is set to 1 when the tree has one, 0
 * when it has none (nodatasum data, or preallocated).
 * Returns the number of sectors found (>= 0), -ENOENT when there is no
 * csum tree, -EINVAL for unaligned arguments, or <0 when the csum tree
 * cannot be read there.
 */
int btrfs_lookup_data_csums(struct btrfs_fs_info *fs_info, u64 bytenr, u64 len,
			    u8 *csums, u8 *have);

/* What btrfs_read_data_verified() found. */
struct btrfs_data_read_result {
	u64 nr_bad;		/* sectors bad on every copy */
	u64 first_bad;		/* byte offset of the first (from @bytenr) */
	u64 nr_repaired;	/* sectors bad on one copy, good on another */
	u64 nr_unverified;	/* sectors without a checksum */
	int read_error;		/* an I/O error seen (0 or negative errno) */
};

/*
 * Read @len bytes (a sector multiple) of data at logical @bytenr into @buf
 * and check each sector that has a checksum (@csums / @have as filled by
 * btrfs_lookup_data_csums; both NULL: verify nothing).  A sector that does
 * not read or does not match is read again from every other copy
 * (btrfs_num_copies) until one matches.  A sector bad on all copies keeps
 * the bytes of the first copy that could be read (zeros if none could).
 * Returns 0 when every sector is good or unverified, -EIO when some are bad
 * (see @res), -EINVAL for bad arguments, -ENOMEM.
 */
int btrfs_read_data_verified(struct btrfs_fs_info *fs_info, u64 bytenr,
			     u64 len, void *buf, const u8 *csums,
			     const u8 *have,
			     struct btrfs_data_read_result *res);

/*
 * Write side.  Delete the data checksums of [@bytenr, @bytenr + @len) (sector
 * aligned) from the csum tree, cutting items that reach outside the range
 * (done when a data extent is freed).  0, -EINVAL, or negative errno.
 */
int btrfs_del_csums(struct btrfs_trans_handle *trans, u64 bytenr, u64 len);

/*
 * Insert the EXTENT_DATA item of inode @ino at @fe->file_offset in @root
 * from the decoded @fe: regular or prealloc (disk_bytenr 0: a hole), or
 * inline (@fe->inline_data, at file offset 0); generation 0 means the
 * transaction's.  Only the item: the data reference is the caller's
 * (btrfs_alloc_reserved_file_extent for a new extent, btrfs_inc_extent_ref
 * for one more user), as are the inode's size and nbytes.
 * 0, -EEXIST, -EINVAL, <0.
 */
int btrfs_insert_file_extent(struct btrfs_trans_handle *trans,
			     struct btrfs_root *root, u64 ino,
			     const struct btrfs_file_extent *fe);

#endif
