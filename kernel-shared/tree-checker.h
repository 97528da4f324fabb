/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Structural validation of tree blocks, run on every block read before
 * anything else trusts it.  A verifier returns a reason and a slot, so that
 * messages and tests can name the exact failure.
 */
#ifndef BTRFS_TREE_CHECKER_H
#define BTRFS_TREE_CHECKER_H

#include "kernel-shared/ctree.h"

enum btrfs_tree_check_reason {
	TREE_CHECK_OK = 0,
	TREE_CHECK_BAD_LEVEL,		/* level >= BTRFS_MAX_LEVEL */
	TREE_CHECK_NRITEMS,		/* too many items / ptrs for the node size */
	TREE_CHECK_EMPTY_NODE,		/* a node with no pointers */
	TREE_CHECK_ITEM_OFFSET,		/* item data outside the leaf or overlapping the item array */
	TREE_CHECK_ITEM_GAP,		/* item data not contiguous / out of order */
	TREE_CHECK_KEY_ORDER,		/* keys not strictly increasing */
	TREE_CHECK_BLOCKPTR,		/* child pointer zero or unaligned */
	TREE_CHECK_ITEM_SIZE,		/* item too small for its type */
};

struct btrfs_tree_check_result {
	enum btrfs_tree_check_reason reason;
	int slot;			/* offending slot, -1 for the header */
};

/* Text for a reason, e.g. "keys out of order". */
const char *btrfs_tree_check_reason_str(enum btrfs_tree_check_reason r);

/*
 * Check a leaf (level 0) or node of @fs_info's node size.  Returns 0 or
 * -EUCLEAN with @res filled (res may be NULL).  Checks the structure only;
 * checksum and header identity are verified by read_tree_block.
 */
int btrfs_check_tree_block(const struct btrfs_fs_info *fs_info,
			   const struct extent_buffer *eb,
			   struct btrfs_tree_check_result *res);

int btrfs_check_leaf(const struct btrfs_fs_info *fs_info,
		     const struct extent_buffer *eb,
		     struct btrfs_tree_check_result *res);

int btrfs_check_node(const struct btrfs_fs_info *fs_info,
		     const struct extent_buffer *eb,
		     struct btrfs_tree_check_result *res);

#endif
