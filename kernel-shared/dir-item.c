// SPDX-License-Identifier: GPL-2.0
/*
 * Directory entries and extended attributes (see dir-item.h).
 */
#include "common/csum.h"

#include <stdlib.h>

#include "kernel-shared/dir-item.h"

/* Size of the fixed part of a dir item. */
#define DIR_ITEM_HDR ((u32)sizeof(struct btrfs_dir_item))

/*
 * Parse the dir item at byte @off of item @slot into @entry.  Returns the
 * size of the whole entry (header, name, data) or -EUCLEAN.
 */
static int parse_dir_item(const struct extent_buffer *leaf, int slot, u32 off,
			  struct btrfs_dir_entry *entry)
{
	struct btrfs_dir_item di;
	u32 size = btrfs_item_size(leaf, slot);
	u32 name_len, data_len;

	if (btrfs_read_item_data(leaf, slot, &di, off, DIR_ITEM_HDR))
		return -EUCLEAN;
	name_len = btrfs_stack_dir_name_len(&di);
	data_len = btrfs_stack_dir_data_len(&di);
	if (name_len == 0 || name_len > BTRFS_NAME_LEN ||
	    name_len + data_len > size - off - DIR_ITEM_HDR)
		return -EUCLEAN;
	btrfs_disk_key_to_cpu(&entry->location, &di.location);
	entry->type = btrfs_stack_dir_flags(&di) & ~BTRFS_FT_ENCRYPTED;
	entry->name_len = (u16)name_len;
	if (btrfs_read_item_data(leaf, slot, entry->name, off + DIR_ITEM_HDR,
				 name_len))
		return -EUCLEAN;
	entry->name[name_len] = '\0';
	return (int)(DIR_ITEM_HDR + name_len + data_len);
}

int btrfs_iterate_dir_index(struct btrfs_root *root, u64 dir,
			    btrfs_dir_entry_fn fn, void *ctx,
			    btrfs_iter_skip_fn on_skip, void *skip_ctx)
{
	struct btrfs_key min = { dir, BTRFS_DIR_INDEX_KEY, 0 };
	struct btrfs_key max = { dir, BTRFS_DIR_INDEX_KEY, (u64)-1 };
	struct btrfs_dir_entry *entry = malloc(sizeof(*entry));
	struct btrfs_item_iter it;
	struct btrfs_key key;
	int stop = 0;
	int ret;

	if (!entry)
		return -ENOMEM;
	btrfs_item_iter_init(&it, root, &min, &max, on_skip, skip_ctx);
	while ((ret = btrfs_item_iter_next(&it, &key)) == 0) {
		memset(entry, 0, sizeof(*entry));
		entry->dir = dir;
		entry->index = key.offset;
		if (parse_dir_item(it.leaf, it.slot, 0, entry) < 0)
			entry->problem = -EUCLEAN;
		stop = fn(entry, ctx);
		if (stop)
			break;
	}
	btrfs_item_iter_release(&it);
	free(entry);
	if (stop)
		return stop;
	return ret < 0 ? ret : 0;
}

/* Look for @name among the entries packed in DIR_ITEM @slot. */
static int match_in_item(const struct extent_buffer *leaf, int slot,
			 const char *name, size_t len,
			 struct btrfs_dir_entry *entry)
{
	u32 size = btrfs_item_size(leaf, slot);
	u32 off = 0;

	while (off < size) {
		int got = parse_dir_item(leaf, slot, off, entry);

		if (got < 0)
			return got;
		if (entry->name_len == len && !memcmp(entry->name, name, len))
			return 0;
		off += (u32)got;
	}
	return -ENOENT;
}

int btrfs_lookup_dir_item(struct btrfs_root *root, u64 dir, const char *name,
			  size_t len, struct btrfs_dir_entry *entry,
			  btrfs_iter_skip_fn on_skip, void *skip_ctx)
{
	u64 hash = btrfs_name_hash(name, len);
	struct btrfs_key min = { dir, BTRFS_DIR_ITEM_KEY, hash };
	struct btrfs_item_iter it;
	struct btrfs_key key;
	int ret;

	if (len == 0 || len > BTRFS_NAME_LEN)
		return -ENOENT;
	memset(entry, 0, sizeof(*entry));
	entry->dir = dir;
	btrfs_item_iter_init(&it, root, &min, &min, on_skip, skip_ctx);
	ret = btrfs_item_iter_next(&it, &key);
	if (ret == 0)
		ret = match_in_item(it.leaf, it.slot, name, len, entry);
	else if (ret > 0)
		ret = -ENOENT;
	btrfs_item_iter_release(&it);
	return ret;
}

/* The xattrs packed in one XATTR_ITEM. */
static int xattrs_in_item(const struct extent_buffer *leaf, int slot,
			  btrfs_xattr_fn fn, void *ctx, int *nr_bad)
{
	u32 size = btrfs_item_size(leaf, slot);
	struct btrfs_dir_item di;
	u32 off = 0;
	char *buf;
	int ret = 0;

	buf = malloc(size ? size : 1);
	if (!buf)
		return -ENOMEM;
	while (off < size && ret == 0) {
		u32 name_len, data_len;

		if (btrfs_read_item_data(leaf, slot, &di, off, DIR_ITEM_HDR))
			goto bad;
		name_len = btrfs_stack_dir_name_len(&di);
		data_len = btrfs_stack_dir_data_len(&di);
		if (name_len == 0 ||
		    name_len + data_len > size - off - DIR_ITEM_HDR)
			goto bad;
		if (btrfs_read_item_data(leaf, slot, buf, off + DIR_ITEM_HDR,
					 name_len + data_len))
			goto bad;
		ret = fn(buf, name_len, buf + name_len, data_len, ctx);
		off += DIR_ITEM_HDR + name_len + data_len;
	}
	free(buf);
	return ret;
bad:
	if (nr_bad)
		(*nr_bad)++;
	free(buf);
	return 0;
}

int btrfs_iterate_xattrs(struct btrfs_root *root, u64 ino,
			 btrfs_xattr_fn fn, void *ctx, int *nr_bad,
			 btrfs_iter_skip_fn on_skip, void *skip_ctx)
{
	struct btrfs_key min = { ino, BTRFS_XATTR_ITEM_KEY, 0 };
	struct btrfs_key max = { ino, BTRFS_XATTR_ITEM_KEY, (u64)-1 };
	struct btrfs_item_iter it;
	struct btrfs_key key;
	int stop = 0;
	int ret;

	btrfs_item_iter_init(&it, root, &min, &max, on_skip, skip_ctx);
	while ((ret = btrfs_item_iter_next(&it, &key)) == 0) {
		stop = xattrs_in_item(it.leaf, it.slot, fn, ctx, nr_bad);
		if (stop)
			break;
	}
	btrfs_item_iter_release(&it);
	if (stop)
		return stop;
	return ret < 0 ? ret : 0;
}
