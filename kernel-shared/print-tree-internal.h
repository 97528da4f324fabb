/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared between print-tree.c (headers, keys, dispatch, fs-tree items) and
 * print-tree-items.c (chunk, device, extent, block group, free space, uuid,
 * quota, balance, replace, stats and temporary items).
 */
#ifndef BTRFS_PRINT_TREE_INTERNAL_H
#define BTRFS_PRINT_TREE_INTERNAL_H

#include "kernel-shared/print-tree.h"

/* A name for one bit (or value) of a flags word. */
struct btrfs_flag_name {
	u64 flag;
	const char *name;
};

/*
 * Write the names of the bits set in @flags joined by '|' into @buf; bits
 * without a name are appended as a hex value.  "none" when @flags is 0 and
 * @none_word is non-NULL (print-tree.c).
 */
void btrfs_flags_to_str(u64 flags, const struct btrfs_flag_name *names,
			int nr_names, const char *none_word, char *buf,
			size_t size);

/* Print a 16-byte uuid in the canonical form (print-tree.c). */
void btrfs_print_uuid(FILE *out, const u8 uuid[BTRFS_UUID_SIZE]);

/* Print seconds.nanoseconds (date) as dump-tree does (print-tree.c). */
void btrfs_print_timespec(FILE *out, const char *prefix,
			  const struct extent_buffer *eb,
			  const struct btrfs_timespec *ts);

/*
 * Print the body of item @slot (the lines after "item N key ...") for the
 * key types handled by print-tree-items.c.  Returns true if it handled the
 * type, false to let print-tree.c handle it (print-tree-items.c).
 */
bool btrfs_print_meta_item(const struct btrfs_print_opts *opts,
			   const struct extent_buffer *eb, int slot,
			   const struct btrfs_key *key);

#endif
