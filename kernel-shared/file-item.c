// SPDX-License-Identifier: GPL-2.0
/*
 * File extents, data checksums and verified data reads (see file-item.h).
 */
#include "common/csum.h"

#include <stdlib.h>

#include "common/array.h"
#include "kernel-shared/disk-io.h"
#include "kernel-shared/file-item.h"
#include "kernel-shared/transaction.h"
#include "kernel-shared/volumes.h"

/* Decode EXTENT_DATA item @slot of @leaf into @fe. */
static void parse_file_extent(const struct extent_buffer *leaf, int slot,
			      struct btrfs_file_extent *fe)
{
	struct btrfs_file_extent_item fi = { 0 };
	u32 size = btrfs_item_size(leaf, slot);
	u32 fixed = (u32)sizeof(fi);

	if (size < BTRFS_FILE_EXTENT_INLINE_DATA_START ||
	    btrfs_read_item_data(leaf, slot, &fi, 0,
				 min_t(u32, size, fixed))) {
		fe->problem = -EUCLEAN;
		return;
	}
	fe->generation = btrfs_stack_file_extent_generation(&fi);
	fe->ram_bytes = btrfs_stack_file_extent_ram_bytes(&fi);
	fe->type = btrfs_stack_file_extent_type(&fi);
	fe->compression = btrfs_stack_file_extent_compression(&fi);
	fe->encryption = btrfs_stack_file_extent_encryption(&fi);
	fe->other_encoding = btrfs_stack_file_extent_other_encoding(&fi);
	switch (fe->type) {
	case BTRFS_FILE_EXTENT_INLINE:
		fe->inline_data = (const u8 *)btrfs_item_ptr_raw(leaf, slot) +
				  BTRFS_FILE_EXTENT_INLINE_DATA_START;
		fe->inline_len = size - BTRFS_FILE_EXTENT_INLINE_DATA_START;
		return;
	case BTRFS_FILE_EXTENT_REG:
	case BTRFS_FILE_EXTENT_PREALLOC:
		if (size < fixed) {
			fe->problem = -EUCLEAN;
			return;
		}
		fe->disk_bytenr = btrfs_stack_file_extent_disk_bytenr(&fi);
		fe->disk_num_bytes =
			btrfs_stack_file_extent_disk_num_bytes(&fi);
		fe->offset = btrfs_stack_file_extent_offset(&fi);
		fe->num_bytes = btrfs_stack_file_extent_num_bytes(&fi);
		return;
	}
	fe->problem = -EUCLEAN;
}

int btrfs_iterate_file_extents(struct btrfs_root *root, u64 ino, u64 start,
			       btrfs_file_extent_fn fn, void *ctx,
			       btrfs_iter_skip_fn on_skip, void *skip_ctx)
{
	struct btrfs_key min = { ino, BTRFS_EXTENT_DATA_KEY, start };
	struct btrfs_key max = { ino, BTRFS_EXTENT_DATA_KEY, (u64)-1 };
	struct btrfs_item_iter it;
	struct btrfs_file_extent fe;
	struct btrfs_key key;
	int stop = 0;
	int ret;

	btrfs_item_iter_init(&it, root, &min, &max, on_skip, skip_ctx);
	while ((ret = btrfs_item_iter_next(&it, &key)) == 0) {
		memset(&fe, 0, sizeof(fe));
		fe.file_offset = key.offset;
		parse_file_extent(it.leaf, it.slot, &fe);
		stop = fn(&fe, ctx);
		if (stop)
			break;
	}
	btrfs_item_iter_release(&it);
	if (stop)
		return stop;
	return ret < 0 ? ret : 0;
}

/* ------------------------------------------------------------------ */
/* Data checksums. */

/* Copy the part of csum item @slot that overlaps [bytenr, end). */
static int copy_csums(struct btrfs_fs_info *fs_info,
		      const struct extent_buffer *leaf, int slot, u64 start,
		      u64 bytenr, u64 end, u8 *csums, u8 *have)
{
	u32 ss = fs_info->sectorsize, cs = fs_info->csum_size;
	u64 n = btrfs_item_size(leaf, slot) / cs;
	u64 item_end = start + n * ss;
	u64 from = max_t(u64, start, bytenr);
	u64 to = min_t(u64, item_end, end);
	int found = 0;

	if (item_end < start)	/* overflow: a damaged key */
		return 0;
	for (; from < to; from += ss) {
		u64 i = (from - bytenr) / ss;
		u32 off = (u32)((from - start) / ss * cs);

		if (btrfs_read_item_data(leaf, slot, csums + i * cs, off, cs))
			break;
		if (!have[i])
			found++;
		have[i] = 1;
	}
	return found;
}

/* Position @path at the last csum item starting at or before @bytenr. */
static int csum_search(struct btrfs_root *root, u64 bytenr,
		       struct btrfs_path *path)
{
	struct btrfs_key key = { BTRFS_EXTENT_CSUM_OBJECTID,
				 BTRFS_EXTENT_CSUM_KEY, bytenr };
	int ret;

	ret = btrfs_search_slot(NULL, root, &key, path, 0, 0);
	if (ret <= 0)
		return ret;
	ret = btrfs_previous_item(root, path, BTRFS_EXTENT_CSUM_OBJECTID,
				  BTRFS_EXTENT_CSUM_KEY);
	if (ret > 0)	/* nothing before: start at the first item after */
		ret = btrfs_search_slot(NULL, root, &key, path, 0, 0);
	return ret < 0 ? ret : 0;
}

/*
 * The csum item @path points at, going on to the next leaf when the path
 * is past the end of one: 0 with its key in @key when it starts before
 * @end, 1 when there is no such item, <0 on errors.
 */
static int csum_item_before(struct btrfs_root *root, struct btrfs_path *path,
			    u64 end, struct btrfs_key *key)
{
	int ret;

	while (!path->nodes[0] ||
	       path->slots[0] >= (int)btrfs_header_nritems(path->nodes[0])) {
		ret = btrfs_next_leaf(root, path);
		if (ret)
			return ret;
	}
	btrfs_item_key_to_cpu(path->nodes[0], key, path->slots[0]);
	if (key->objectid != BTRFS_EXTENT_CSUM_OBJECTID ||
	    key->type != BTRFS_EXTENT_CSUM_KEY || key->offset >= end)
		return 1;
	return 0;
}

int btrfs_lookup_data_csums(struct btrfs_fs_info *fs_info, u64 bytenr, u64 len,
			    u8 *csums, u8 *have)
{
	struct btrfs_root *root = fs_info->csum_root;
	u64 end = bytenr + len;
	struct btrfs_path *path;
	int found = 0;
	int ret;

	if (!IS_ALIGNED(bytenr, (u64)fs_info->sectorsize) ||
	    !IS_ALIGNED(len, (u64)fs_info->sectorsize) || end < bytenr)
		return -EINVAL;
	memset(have, 0, len / fs_info->sectorsize);
	if (!root)
		return -ENOENT;
	path = btrfs_alloc_path();
	if (!path)
		return -ENOMEM;
	ret = csum_search(root, bytenr, path);
	while (ret == 0) {
		struct btrfs_key key;

		ret = csum_item_before(root, path, end, &key);
		if (ret)
			break;
		found += copy_csums(fs_info, path->nodes[0], path->slots[0],
				    key.offset, bytenr, end, csums, have);
		path->slots[0]++;
	}
	btrfs_free_path(path);
	return ret < 0 ? ret : found;
}

/* ------------------------------------------------------------------ */
/* Verified reads. */

static bool sector_ok(struct btrfs_fs_info *fs_info, const u8 *data,
		      const u8 *want)
{
	u8 csum[BTRFS_CSUM_SIZE];

	if (btrfs_csum_data(fs_info->csum_type, data, fs_info->sectorsize,
			    csum))
		return false;
	return memcmp(csum, want, fs_info->csum_size) == 0;
}

/*
 * Sector @i did not read or did not match: try every copy.  true when one
 * is good (copied into @dst).  @dst keeps the first readable copy otherwise.
 */
static bool repair_sector(struct btrfs_fs_info *fs_info, u64 logical,
			  u8 *dst, const u8 *want, bool have_data, u8 *tmp,
			  int *read_error)
{
	u32 ss = fs_info->sectorsize;
	int copies = btrfs_num_copies(fs_info, logical);
	int m;

	for (m = 1; m <= copies; m++) {
		int ret = read_data_from_disk(fs_info, tmp, logical, ss, m);

		if (ret) {
			*read_error = ret;
			continue;
		}
		if (!have_data) {
			memcpy(dst, tmp, ss);
			have_data = true;
		}
		if (want && sector_ok(fs_info, tmp, want)) {
			memcpy(dst, tmp, ss);
			return true;
		}
		if (!want)
			return true;
	}
	if (!have_data)
		memset(dst, 0, ss);
	return false;
}

int btrfs_read_data_verified(struct btrfs_fs_info *fs_info, u64 bytenr,
			     u64 len, void *buf, const u8 *csums,
			     const u8 *have, struct btrfs_data_read_result *res)
{
	u32 ss = fs_info->sectorsize, cs = fs_info->csum_size;
	u64 nr = len / ss, i;
	bool whole_ok;
	u8 *tmp;
	int ret;

	memset(res, 0, sizeof(*res));
	if (!IS_ALIGNED(len, (u64)ss) || bytenr + len < bytenr)
		return -EINVAL;
	ret = read_data_from_disk(fs_info, buf, bytenr, len, 0);
	whole_ok = ret == 0;
	if (ret)
		res->read_error = ret;
	if (whole_ok && !csums)
		return 0;
	tmp = malloc(ss);
	if (!tmp)
		return -ENOMEM;
	for (i = 0; i < nr; i++) {
		u8 *dst = (u8 *)buf + i * ss;
		const u8 *want = csums && have && have[i] ?
				 csums + i * cs : NULL;

		if (!want && whole_ok) {
			res->nr_unverified++;
			continue;
		}
		if (whole_ok && sector_ok(fs_info, dst, want))
			continue;
		if (repair_sector(fs_info, bytenr + i * ss, dst, want, whole_ok,
				  tmp, &res->read_error)) {
			if (whole_ok)
				res->nr_repaired++;
			if (!want)
				res->nr_unverified++;
			continue;
		}
		if (!res->nr_bad)
			res->first_bad = i * ss;
		res->nr_bad++;
	}
	free(tmp);
	return res->nr_bad ? -EIO : 0;
}

/* ------------------------------------------------------------------ */
/* Write side. */

/* Keys of the csum items overlapping [bytenr, end), read-only. */
static int collect_csum_items(struct btrfs_fs_info *fs_info, u64 bytenr,
			      u64 end, u64 **keys, size_t *nr)
{
	struct btrfs_root *root = fs_info->csum_root;
	struct btrfs_path *path = btrfs_alloc_path();
	size_t cap = 0;
	int ret;

	*keys = NULL;
	*nr = 0;
	if (!path)
		return -ENOMEM;
	ret = csum_search(root, bytenr, path);
	while (ret == 0) {
		struct btrfs_key key;
		u64 covered;

		ret = csum_item_before(root, path, end, &key);
		if (ret)
			break;
		covered = btrfs_item_size(path->nodes[0], path->slots[0]) /
			  fs_info->csum_size * (u64)fs_info->sectorsize;
		if (key.offset + covered > bytenr) {
			if (array_reserve(*keys, cap, *nr + 1, 8)) {
				ret = -ENOMEM;
				break;
			}
			(*keys)[(*nr)++] = key.offset;
		}
		ret = btrfs_next_item(root, path);
	}
	btrfs_free_path(path);
	if (ret < 0) {
		free(*keys);
		*keys = NULL;
		return ret;
	}
	return 0;
}

/* Insert a csum item at @start with @n checksums from @csums. */
static int insert_csum_piece(struct btrfs_trans_handle *trans, u64 start,
			     const u8 *csums, u64 n)
{
	struct btrfs_key key = { BTRFS_EXTENT_CSUM_OBJECTID,
				 BTRFS_EXTENT_CSUM_KEY, start };

	return btrfs_insert_item(trans, trans->fs_info->csum_root, &key, csums,
				 (u32)(n * trans->fs_info->csum_size));
}

/* Cut [bytenr, end) out of the csum item at @start. */
static int cut_csum_item(struct btrfs_trans_handle *trans, u64 start,
			 u64 bytenr, u64 end)
{
	struct btrfs_fs_info *fs_info = trans->fs_info;
	struct btrfs_root *root = fs_info->csum_root;
	struct btrfs_key key = { BTRFS_EXTENT_CSUM_OBJECTID,
				 BTRFS_EXTENT_CSUM_KEY, start };
	struct btrfs_path *path = btrfs_alloc_path();
	u64 ss = fs_info->sectorsize, cs = fs_info->csum_size;
	u8 *data = NULL;
	u64 n, item_end;
	u32 size;
	int ret;

	if (!path)
		return -ENOMEM;
	ret = btrfs_search_existing_item(trans, root, &key, path, -1, 0);
	if (ret)
		goto out;
	size = btrfs_item_size(path->nodes[0], path->slots[0]);
	n = size / cs;
	item_end = start + n * ss;
	data = malloc(size ? size : 1);
	if (!data) {
		ret = -ENOMEM;
		goto out;
	}
	read_extent_buffer(path->nodes[0], data,
			   btrfs_item_ptr_offset(path->nodes[0], path->slots[0]),
			   size);
	ret = btrfs_del_item(trans, root, path);
	btrfs_release_path(path);
	if (!ret && start < bytenr)
		ret = insert_csum_piece(trans, start, data, (bytenr - start) / ss);
	if (!ret && item_end > end)
		ret = insert_csum_piece(trans, end,
					data + (end - start) / ss * cs,
					(item_end - end) / ss);
out:
	free(data);
	btrfs_free_path(path);
	return ret;
}

int btrfs_del_csums(struct btrfs_trans_handle *trans, u64 bytenr, u64 len)
{
	struct btrfs_fs_info *fs_info = trans->fs_info;
	u64 end = bytenr + len;
	u64 *keys;
	size_t nr;
	int ret;

	if (!fs_info->csum_root || !len)
		return 0;
	if (!IS_ALIGNED(bytenr, (u64)fs_info->sectorsize) ||
	    !IS_ALIGNED(len, (u64)fs_info->sectorsize) || end < bytenr)
		return -EINVAL;
	ret = collect_csum_items(fs_info, bytenr, end, &keys, &nr);
	for (size_t i = 0; !ret && i < nr; i++)
		ret = cut_csum_item(trans, keys[i], bytenr, end);
	free(keys);
	return ret;
}

int btrfs_insert_file_extent(struct btrfs_trans_handle *trans,
			     struct btrfs_root *root, u64 ino,
			     const struct btrfs_file_extent *fe)
{
	struct btrfs_key key = { ino, BTRFS_EXTENT_DATA_KEY, fe->file_offset };
	u32 size = sizeof(struct btrfs_file_extent_item);
	u32 max = btrfs_max_item_size(trans->fs_info->nodesize) -
		  BTRFS_FILE_EXTENT_INLINE_DATA_START;
	struct btrfs_file_extent_item *fi;
	int ret;

	if (fe->type == BTRFS_FILE_EXTENT_INLINE) {
		if (fe->file_offset || !fe->inline_len || fe->inline_len > max)
			return -EINVAL;
		size = BTRFS_FILE_EXTENT_INLINE_DATA_START + fe->inline_len;
	} else if (fe->type != BTRFS_FILE_EXTENT_REG &&
		   fe->type != BTRFS_FILE_EXTENT_PREALLOC) {
		return -EINVAL;
	}
	fi = calloc(1, size);
	if (!fi)
		return -ENOMEM;
	btrfs_set_stack_file_extent_generation(fi, fe->generation ?
					       fe->generation : trans->transid);
	btrfs_set_stack_file_extent_ram_bytes(fi, fe->ram_bytes);
	btrfs_set_stack_file_extent_compression(fi, fe->compression);
	btrfs_set_stack_file_extent_encryption(fi, fe->encryption);
	btrfs_set_stack_file_extent_other_encoding(fi, fe->other_encoding);
	btrfs_set_stack_file_extent_type(fi, fe->type);
	if (fe->type == BTRFS_FILE_EXTENT_INLINE) {
		memcpy((u8 *)fi + BTRFS_FILE_EXTENT_INLINE_DATA_START,
		       fe->inline_data, fe->inline_len);
	} else {
		btrfs_set_stack_file_extent_disk_bytenr(fi, fe->disk_bytenr);
		btrfs_set_stack_file_extent_disk_num_bytes(fi,
							   fe->disk_num_bytes);
		btrfs_set_stack_file_extent_offset(fi, fe->offset);
		btrfs_set_stack_file_extent_num_bytes(fi, fe->num_bytes);
	}
	ret = btrfs_insert_item(trans, root, &key, fi, size);
	free(fi);
	return ret;
}
