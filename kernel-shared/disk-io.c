// SPDX-License-Identifier: GPL-2.0
/*
 * Opening a filesystem: superblocks, the chunk bootstrap, tree roots, and
 * read_tree_block_ex(), the one way tree blocks are read; and for the write
 * path, writing tree blocks and superblocks.
 *
 * Only write_tree_block() and write_all_supers() write to a device, and
 * only transaction commit calls them.  The read path keeps no mutable state
 * outside the extent buffer cache, so several threads may read at once.
 */
#include "common/csum.h"

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "kernel-shared/disk-io.h"
#include "kernel-shared/extent-io.h"
#include "kernel-shared/extent-tree.h"
#include "kernel-shared/free-space-tree.h"
#include "kernel-shared/raid56.h"
#include "kernel-shared/transaction.h"
#include "kernel-shared/tree-checker.h"
#include "kernel-shared/volumes.h"

#define DEFAULT_CACHE_BYTES (256ULL << 20)

/* ------------------------------------------------------------------ */
/* Problem texts. */

static const char * const super_problem_text[] = {
	[SUPER_OK] = "ok",
	[SUPER_SHORT_READ] = "short read",
	[SUPER_BAD_MAGIC] = "bad magic",
	[SUPER_BAD_CSUM_TYPE] = "unknown checksum type",
	[SUPER_BAD_CSUM] = "checksum mismatch",
	[SUPER_BAD_BYTENR] = "bytenr does not match its location",
	[SUPER_BAD_SECTORSIZE] = "invalid sectorsize",
	[SUPER_BAD_NODESIZE] = "invalid nodesize",
	[SUPER_BAD_STRIPESIZE] = "invalid stripesize",
	[SUPER_BAD_SYS_ARRAY] = "invalid system chunk array size",
	[SUPER_BAD_ROOT] = "invalid tree root or chunk root location",
	[SUPER_BAD_LEVEL] = "invalid tree level",
	[SUPER_BAD_DEVICES] = "invalid number of devices",
	[SUPER_BAD_SIZES] = "invalid total or used bytes",
	[SUPER_BAD_FLAGS] = "unsupported incompat features",
	[SUPER_BAD_FSID] = "device fsid does not match the filesystem",
};

const char *btrfs_super_problem_str(enum btrfs_super_problem p)
{
	if ((unsigned)p >= ARRAY_SIZE(super_problem_text) ||
	    !super_problem_text[p])
		return "unknown problem";
	return super_problem_text[p];
}

static const char * const block_problem_text[] = {
	[BLOCK_OK] = "ok",
	[BLOCK_IO] = "read error",
	[BLOCK_BAD_CSUM] = "checksum mismatch",
	[BLOCK_BAD_BYTENR] = "bytenr mismatch",
	[BLOCK_BAD_FSID] = "fsid mismatch",
	[BLOCK_BAD_LEVEL] = "level mismatch",
	[BLOCK_BAD_TRANSID] = "parent transid mismatch",
	[BLOCK_BAD_FIRST_KEY] = "first key mismatch",
	[BLOCK_BAD_OWNER] = "owner mismatch",
	[BLOCK_STRUCTURE] = "invalid tree block structure",
};

const char *btrfs_block_problem_str(enum btrfs_block_problem p)
{
	if ((unsigned)p >= ARRAY_SIZE(block_problem_text) ||
	    !block_problem_text[p])
		return "unknown problem";
	return block_problem_text[p];
}

/* ------------------------------------------------------------------ */
/* Superblocks. */

int btrfs_read_super_raw(struct btrfs_io *io, u64 bytenr,
			 struct btrfs_super_block *sb)
{
	int ret = btrfs_io_pread(io, sb, BTRFS_SUPER_INFO_SIZE, bytenr);

	if (ret == -ENODATA)
		return -ENOSPC;
	return ret ? -EIO : 0;
}

bool btrfs_super_csum_ok(const struct btrfs_super_block *sb)
{
	unsigned type = btrfs_super_csum_type(sb);
	u8 csum[BTRFS_CSUM_SIZE];

	if (!btrfs_csum_type_valid(type))
		return false;
	if (btrfs_csum_data(type, (const u8 *)sb + BTRFS_CSUM_SIZE,
			    BTRFS_SUPER_INFO_SIZE - BTRFS_CSUM_SIZE, csum))
		return false;
	return memcmp(csum, sb->csum, btrfs_csum_type_size(type)) == 0;
}

#define KNOWN_INCOMPAT_FLAGS                                                \
	(BTRFS_FEATURE_INCOMPAT_MIXED_BACKREF |                             \
	 BTRFS_FEATURE_INCOMPAT_DEFAULT_SUBVOL |                            \
	 BTRFS_FEATURE_INCOMPAT_MIXED_GROUPS |                              \
	 BTRFS_FEATURE_INCOMPAT_COMPRESS_LZO |                              \
	 BTRFS_FEATURE_INCOMPAT_COMPRESS_ZSTD |                             \
	 BTRFS_FEATURE_INCOMPAT_BIG_METADATA |                              \
	 BTRFS_FEATURE_INCOMPAT_EXTENDED_IREF |                             \
	 BTRFS_FEATURE_INCOMPAT_RAID56 |                                    \
	 BTRFS_FEATURE_INCOMPAT_SKINNY_METADATA |                           \
	 BTRFS_FEATURE_INCOMPAT_NO_HOLES |                                  \
	 BTRFS_FEATURE_INCOMPAT_METADATA_UUID |                             \
	 BTRFS_FEATURE_INCOMPAT_RAID1C34 | BTRFS_FEATURE_INCOMPAT_ZONED |   \
	 BTRFS_FEATURE_INCOMPAT_EXTENT_TREE_V2 |                            \
	 BTRFS_FEATURE_INCOMPAT_RAID_STRIPE_TREE |                          \
	 BTRFS_FEATURE_INCOMPAT_SIMPLE_QUOTA)

/* The fsid tree blocks carry: metadata_uuid when that feature is on. */
static const u8 *super_metadata_fsid(const struct btrfs_super_block *sb)
{
	if (btrfs_super_incompat_flags(sb) & BTRFS_FEATURE_INCOMPAT_METADATA_UUID)
		return sb->metadata_uuid;
	return sb->fsid;
}

static enum btrfs_super_problem check_super_identity(
	const struct btrfs_super_block *sb, u64 bytenr, bool allow_temp)
{
	u64 magic = btrfs_super_magic(sb);

	if (magic != BTRFS_MAGIC &&
	    !(allow_temp && magic == BTRFS_MAGIC_TEMPORARY))
		return SUPER_BAD_MAGIC;
	if (!btrfs_csum_type_valid(btrfs_super_csum_type(sb)))
		return SUPER_BAD_CSUM_TYPE;
	if (!btrfs_super_csum_ok(sb))
		return SUPER_BAD_CSUM;
	if (btrfs_super_bytenr(sb) != bytenr)
		return SUPER_BAD_BYTENR;
	return SUPER_OK;
}

static enum btrfs_super_problem check_super_geometry(
	const struct btrfs_super_block *sb)
{
	u32 sectorsize = btrfs_super_sectorsize(sb);
	u32 nodesize = btrfs_super_nodesize(sb);
	u32 stripesize = btrfs_super_stripesize(sb);
	u32 sys_size = btrfs_super_sys_array_size(sb);

	if (!is_power_of_2(sectorsize) || sectorsize < 4096 ||
	    sectorsize > BTRFS_MAX_NODESIZE)
		return SUPER_BAD_SECTORSIZE;
	if (!is_power_of_2(nodesize) || nodesize < sectorsize ||
	    nodesize > BTRFS_MAX_NODESIZE)
		return SUPER_BAD_NODESIZE;
	/* Old filesystems have 4096 whatever the sector size. */
	if (stripesize != sectorsize && stripesize != 4096)
		return SUPER_BAD_STRIPESIZE;
	if (sys_size > BTRFS_SYSTEM_CHUNK_ARRAY_SIZE ||
	    sys_size < sizeof(struct btrfs_disk_key) + sizeof(struct btrfs_chunk))
		return SUPER_BAD_SYS_ARRAY;
	return SUPER_OK;
}

static enum btrfs_super_problem check_super_roots(
	const struct btrfs_super_block *sb)
{
	u64 align = btrfs_super_sectorsize(sb);

	if (btrfs_super_root(sb) == 0 || btrfs_super_chunk_root(sb) == 0 ||
	    !IS_ALIGNED(btrfs_super_root(sb), align) ||
	    !IS_ALIGNED(btrfs_super_chunk_root(sb), align) ||
	    !IS_ALIGNED(btrfs_super_log_root(sb), align))
		return SUPER_BAD_ROOT;
	if (btrfs_super_root_level(sb) >= BTRFS_MAX_LEVEL ||
	    btrfs_super_chunk_root_level(sb) >= BTRFS_MAX_LEVEL ||
	    btrfs_super_log_root_level(sb) >= BTRFS_MAX_LEVEL)
		return SUPER_BAD_LEVEL;
	return SUPER_OK;
}

static enum btrfs_super_problem check_super_counts(
	const struct btrfs_super_block *sb)
{
	if (btrfs_super_num_devices(sb) == 0)
		return SUPER_BAD_DEVICES;
	/* An unfinished mkfs (temporary magic) has fewer than six trees. */
	if (btrfs_super_total_bytes(sb) == 0 ||
	    (btrfs_super_bytes_used(sb) < 6ULL * btrfs_super_nodesize(sb) &&
	     btrfs_super_magic(sb) != BTRFS_MAGIC_TEMPORARY))
		return SUPER_BAD_SIZES;
	if (btrfs_super_incompat_flags(sb) & ~KNOWN_INCOMPAT_FLAGS)
		return SUPER_BAD_FLAGS;
	if (memcmp(sb->dev_item.fsid, super_metadata_fsid(sb), BTRFS_FSID_SIZE))
		return SUPER_BAD_FSID;
	return SUPER_OK;
}

static enum btrfs_super_problem check_super(const struct btrfs_super_block *sb,
					    u64 bytenr, bool magic_only,
					    bool allow_temp)
{
	enum btrfs_super_problem p;
	u64 magic = btrfs_super_magic(sb);

	if (magic_only)
		return magic == BTRFS_MAGIC ||
		       (allow_temp && magic == BTRFS_MAGIC_TEMPORARY) ?
			       SUPER_OK : SUPER_BAD_MAGIC;
	p = check_super_identity(sb, bytenr, allow_temp);
	if (p == SUPER_OK)
		p = check_super_geometry(sb);
	if (p == SUPER_OK)
		p = check_super_roots(sb);
	if (p == SUPER_OK)
		p = check_super_counts(sb);
	return p;
}

enum btrfs_super_problem btrfs_check_super(const struct btrfs_super_block *sb,
					   u64 bytenr, bool magic_only)
{
	return check_super(sb, bytenr, magic_only, false);
}

/* Read and judge the copy at @bytenr. 0, -EINVAL (invalid), -EIO. */
static int read_super_at(struct btrfs_io *io, u64 bytenr,
			 struct btrfs_super_block *sb,
			 enum btrfs_super_problem *problem, bool allow_temp)
{
	int ret = btrfs_read_super_raw(io, bytenr, sb);

	*problem = SUPER_SHORT_READ;
	if (ret == -ENOSPC)
		return -EINVAL;
	if (ret)
		return ret;
	*problem = check_super(sb, bytenr, false, allow_temp);
	return *problem == SUPER_OK ? 0 : -EINVAL;
}

/* The valid copy with the highest generation, among those that fit. */
static int read_best_super(struct btrfs_io *io, struct btrfs_super_block *sb,
			   u64 *bytenr, enum btrfs_super_problem *problem,
			   bool allow_temp)
{
	struct btrfs_super_block tmp;
	enum btrfs_super_problem p;
	bool found = false;
	int i;

	*problem = SUPER_SHORT_READ;
	for (i = 0; i < BTRFS_SUPER_MIRROR_MAX; i++) {
		u64 off = btrfs_sb_offset(i);

		if (off + BTRFS_SUPER_INFO_SIZE > io->size)
			break;
		if (read_super_at(io, off, &tmp, &p, allow_temp)) {
			if (i == 0)
				*problem = p;
			continue;
		}
		if (found && btrfs_super_generation(&tmp) <=
			     btrfs_super_generation(sb))
			continue;
		memcpy(sb, &tmp, sizeof(tmp));
		*bytenr = off;
		found = true;
	}
	if (found)
		*problem = SUPER_OK;
	return found ? 0 : -EINVAL;
}

static int read_dev_super(struct btrfs_io *io, int mirror,
			  struct btrfs_super_block *sb, u64 *bytenr,
			  enum btrfs_super_problem *problem, bool allow_temp)
{
	enum btrfs_super_problem local;

	if (!problem)
		problem = &local;
	*problem = SUPER_SHORT_READ;
	if (mirror >= BTRFS_SUPER_MIRROR_MAX)
		return -EINVAL;
	if (!io->size)
		return -EINVAL;
	if (mirror < 0)
		return read_best_super(io, sb, bytenr, problem, allow_temp);
	*bytenr = btrfs_sb_offset(mirror);
	if (*bytenr + BTRFS_SUPER_INFO_SIZE > io->size)
		return -EINVAL;
	return read_super_at(io, *bytenr, sb, problem, allow_temp);
}

int btrfs_read_dev_super(struct btrfs_io *io, int mirror,
			 struct btrfs_super_block *sb, u64 *bytenr,
			 enum btrfs_super_problem *problem)
{
	return read_dev_super(io, mirror, sb, bytenr, problem, false);
}

/* ------------------------------------------------------------------ */
/* Reading logical ranges. */

/*
 * Read what @mirror holds contiguously at @logical, at most @len bytes.
 * Returns the bytes read (> 0) or negative errno.
 */
static s64 read_mapped(struct btrfs_fs_info *fs_info, void *buf, u64 logical,
		       u64 len, int mirror)
{
	struct btrfs_device *dev;
	u64 physical, maplen;
	int ret;

	ret = btrfs_map_block(fs_info, logical, mirror, &dev, &physical,
			      &maplen);
	if (ret)
		return ret;
	maplen = min_t(u64, maplen, len);
	if (maplen > SSIZE_MAX)
		maplen = SSIZE_MAX;
	ret = btrfs_io_pread(dev->io, buf, (size_t)maplen, physical);
	if (ret)
		return -EIO;	/* failed, or past the device's end */
	return (s64)maplen;
}

/* Read @len bytes at @logical from one mirror. */
static int read_logical(struct btrfs_fs_info *fs_info, void *buf, u64 logical,
			u64 len, int mirror)
{
	u64 done = 0;

	while (done < len) {
		s64 got = read_mapped(fs_info, (u8 *)buf + done, logical + done,
				      len - done, mirror);

		if (got < 0)
			return (int)got;
		done += (u64)got;
	}
	return 0;
}

/* One contiguous piece from the first mirror that reads it. */
static s64 read_piece_any_mirror(struct btrfs_fs_info *fs_info, void *buf,
				 u64 logical, u64 len)
{
	int copies = btrfs_num_copies(fs_info, logical);
	s64 got = -ENOENT;
	int mirror;

	for (mirror = 1; mirror <= copies; mirror++) {
		got = read_mapped(fs_info, buf, logical, len, mirror);
		if (got > 0)
			break;
	}
	return got;
}

int read_data_from_disk(struct btrfs_fs_info *fs_info, void *buf, u64 logical,
			u64 len, int mirror)
{
	u64 done = 0;

	if (mirror < 0)
		return -EINVAL;
	if (mirror > 0)
		return read_logical(fs_info, buf, logical, len, mirror);
	while (done < len) {
		s64 got = read_piece_any_mirror(fs_info, (u8 *)buf + done,
						logical + done, len - done);

		if (got < 0)
			return (int)got;
		done += (u64)got;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Tree blocks. */

static int tree_block_csum(const struct btrfs_fs_info *fs_info,
			   const struct extent_buffer *eb,
			   u8 out[BTRFS_CSUM_SIZE])
{
	if (eb->len <= BTRFS_CSUM_SIZE)
		return -EUCLEAN;
	return btrfs_csum_data(fs_info->csum_type, eb->data + BTRFS_CSUM_SIZE,
			       eb->len - BTRFS_CSUM_SIZE, out);
}

bool btrfs_tree_block_csum_ok(const struct btrfs_fs_info *fs_info,
			      const struct extent_buffer *eb)
{
	u8 csum[BTRFS_CSUM_SIZE];

	if (tree_block_csum(fs_info, eb, csum))
		return false;
	return memcmp(csum, eb->data, fs_info->csum_size) == 0;
}

/* The first min(size, 8) bytes of a checksum, read big-endian. */
static u64 csum_prefix(const u8 *csum, unsigned size)
{
	unsigned n = min_t(unsigned, size, 8);
	u64 val = 0;
	unsigned i;

	for (i = 0; i < n; i++)
		val = (val << 8) | csum[i];
	return val;
}

static int set_problem(struct btrfs_block_error *err,
		       enum btrfs_block_problem p, u64 wanted, u64 found)
{
	err->problem = p;
	err->wanted = wanted;
	err->found = found;
	switch (p) {
	case BLOCK_BAD_LEVEL:
	case BLOCK_BAD_FIRST_KEY:
	case BLOCK_BAD_OWNER:
	case BLOCK_STRUCTURE:
		return -EUCLEAN;
	default:
		return -EIO;
	}
}

static int verify_csum(const struct btrfs_fs_info *fs_info,
		       const struct extent_buffer *eb,
		       struct btrfs_block_error *err)
{
	u8 csum[BTRFS_CSUM_SIZE];
	unsigned size = fs_info->csum_size;

	if (tree_block_csum(fs_info, eb, csum))
		return set_problem(err, BLOCK_BAD_CSUM, 0, 0);
	if (memcmp(csum, eb->data, size) == 0)
		return 0;
	err->csum_size = (u16)size;
	memcpy(err->csum_wanted, eb->data, size);
	memcpy(err->csum_found, csum, size);
	return set_problem(err, BLOCK_BAD_CSUM, csum_prefix(eb->data, size),
			   csum_prefix(csum, size));
}

static int verify_first_key(const struct extent_buffer *eb,
			    const struct btrfs_key *want,
			    struct btrfs_block_error *err)
{
	struct btrfs_key found;

	if (btrfs_header_nritems(eb) == 0)
		return set_problem(err, BLOCK_BAD_FIRST_KEY, want->objectid, 0);
	btrfs_first_key_to_cpu(eb, &found);
	if (btrfs_comp_cpu_keys(&found, want) == 0)
		return 0;
	return set_problem(err, BLOCK_BAD_FIRST_KEY, want->objectid,
			   found.objectid);
}

/* Header identity and the parent's expectations. */
static int verify_header(const struct btrfs_fs_info *fs_info,
			 const struct extent_buffer *eb,
			 const struct btrfs_tree_parent_check *check,
			 struct btrfs_block_error *err)
{
	if (btrfs_header_bytenr(eb) != eb->start)
		return set_problem(err, BLOCK_BAD_BYTENR, eb->start,
				   btrfs_header_bytenr(eb));
	if (memcmp(btrfs_header_fsid(eb), fs_info->metadata_uuid,
		   BTRFS_FSID_SIZE))
		return set_problem(err, BLOCK_BAD_FSID, 0, 0);
	if (check->level >= 0 && btrfs_header_level(eb) != check->level)
		return set_problem(err, BLOCK_BAD_LEVEL, (u64)check->level,
				   btrfs_header_level(eb));
	if (check->transid && btrfs_header_generation(eb) != check->transid)
		return set_problem(err, BLOCK_BAD_TRANSID, check->transid,
				   btrfs_header_generation(eb));
	if (check->owner_root && btrfs_header_owner(eb) != check->owner_root)
		return set_problem(err, BLOCK_BAD_OWNER, check->owner_root,
				   btrfs_header_owner(eb));
	if (check->has_first_key)
		return verify_first_key(eb, &check->first_key, err);
	return 0;
}

/* Everything read_tree_block_ex promises about a returned block. */
static int verify_tree_block(const struct btrfs_fs_info *fs_info,
			     const struct extent_buffer *eb,
			     const struct btrfs_tree_parent_check *check,
			     struct btrfs_block_error *err)
{
	struct btrfs_tree_check_result res = { TREE_CHECK_OK, -1 };
	int ret;

	ret = verify_csum(fs_info, eb, err);
	if (!ret)
		ret = verify_header(fs_info, eb, check, err);
	if (ret)
		return ret;
	if (btrfs_check_tree_block(fs_info, eb, &res)) {
		err->checker_reason = (int)res.reason;
		err->checker_slot = res.slot;
		return set_problem(err, BLOCK_STRUCTURE, 0, 0);
	}
	return 0;
}

/* A cached block: verified already, only the expectations are new. */
static struct extent_buffer *check_cached(struct btrfs_fs_info *fs_info,
					  struct extent_buffer *eb,
					  const struct btrfs_tree_parent_check *check,
					  struct btrfs_block_error *err)
{
	int ret;

	if (eb->flags & EXTENT_BUFFER_UNCHECKED)
		ret = verify_tree_block(fs_info, eb, check, err);
	else
		ret = verify_header(fs_info, eb, check, err);
	if (ret == 0)
		return eb;
	err->mirror = eb->read_mirror;
	free_extent_buffer(eb);
	return ERR_PTR(ret);
}

/* Read and verify one mirror into @eb. */
static int read_one_mirror(struct btrfs_fs_info *fs_info,
			   struct extent_buffer *eb, int mirror,
			   const struct btrfs_tree_parent_check *check,
			   struct btrfs_block_error *err)
{
	int ret;

	memset(err, 0, sizeof(*err));
	err->mirror = mirror;
	err->checker_slot = -1;
	ret = read_logical(fs_info, eb->data, eb->start, eb->len, mirror);
	if (ret) {
		err->problem = BLOCK_IO;
		return ret;
	}
	return verify_tree_block(fs_info, eb, check, err);
}

/*
 * Try every mirror; 0 with @eb filled from the first good one, or the
 * error to return: a verification failure wins over plain read errors,
 * and -ENODEV means no copy was on a present device.
 */
#define MAX_TOLD_COPIES 4	/* raid1c4 */

/* Tell the open's caller about the copies that failed before @good. */
static void tell_bad_copies(struct btrfs_fs_info *fs_info,
			    const struct extent_buffer *eb, int good,
			    int copies, const struct btrfs_block_error *bad,
			    int nr_bad)
{
	struct btrfs_bad_copy rec = {
		.bytenr = eb->start,
		.good_mirror = good,
		.copies = copies,
		.good = eb,
	};
	int i;

	for (i = 0; i < nr_bad; i++) {
		struct btrfs_device *dev = NULL;
		u64 len;

		rec.mirror = bad[i].mirror;
		rec.err = &bad[i];
		rec.physical = 0;
		if (btrfs_map_block(fs_info, eb->start, rec.mirror, &dev,
				    &rec.physical, &len))
			dev = NULL;
		rec.devid = dev ? dev->devid : 0;
		fs_info->on_bad_copy(&rec, fs_info->on_bad_copy_data);
	}
}

static int read_mirrors(struct btrfs_fs_info *fs_info, struct extent_buffer *eb,
			const struct btrfs_tree_parent_check *check,
			struct btrfs_block_error *err)
{
	struct btrfs_block_error cur;
	struct btrfs_block_error bad[MAX_TOLD_COPIES];
	int copies = btrfs_num_copies(fs_info, eb->start);
	int result = -EIO;
	bool all_nodev = copies > 0;
	int nr_bad = 0;
	int mirror;
	int ret;

	err->problem = BLOCK_IO;
	for (mirror = 1; mirror <= copies; mirror++) {
		ret = read_one_mirror(fs_info, eb, mirror, check, &cur);
		if (ret == 0) {
			eb->read_mirror = mirror;
			if (fs_info->on_bad_copy && nr_bad)
				tell_bad_copies(fs_info, eb, mirror, copies,
						bad, nr_bad);
			return 0;
		}
		if (ret != -ENODEV && nr_bad < MAX_TOLD_COPIES)
			bad[nr_bad++] = cur;
		if (ret != -ENODEV)
			all_nodev = false;
		if (cur.problem != BLOCK_IO || err->problem == BLOCK_IO) {
			*err = cur;
			result = cur.problem == BLOCK_IO ? -EIO : ret;
		}
	}
	return all_nodev ? -ENODEV : result;
}

int btrfs_tree_block_copy_same(struct btrfs_fs_info *fs_info,
			       const struct extent_buffer *good, int mirror)
{
	u8 *buf = malloc(good->len);
	int ret;

	if (!buf)
		return -ENOMEM;
	ret = read_logical(fs_info, buf, good->start, good->len, mirror);
	if (!ret)
		ret = memcmp(buf, good->data, good->len) == 0;
	free(buf);
	return ret;
}

int btrfs_verify_tree_block_copy(struct btrfs_fs_info *fs_info, u64 bytenr,
				 int mirror,
				 const struct btrfs_tree_parent_check *check,
				 struct btrfs_block_error *err, u64 *devid,
				 u64 *physical)
{
	static const struct btrfs_tree_parent_check no_check = { .level = -1 };
	struct btrfs_device *dev = NULL;
	struct extent_buffer *eb;
	u64 phys = 0, len;
	int ret;

	if (btrfs_map_block(fs_info, bytenr, mirror, &dev, &phys, &len))
		dev = NULL;
	if (devid)
		*devid = dev ? dev->devid : 0;
	if (physical)
		*physical = dev ? phys : 0;
	eb = alloc_extent_buffer(bytenr, fs_info->nodesize);
	if (!eb)
		return -ENOMEM;
	ret = read_one_mirror(fs_info, eb, mirror, check ? check : &no_check,
			      err);
	free_extent_buffer(eb);
	return ret;
}

struct extent_buffer *read_tree_block_ex(struct btrfs_fs_info *fs_info,
					 u64 bytenr,
					 const struct btrfs_tree_parent_check *check,
					 struct btrfs_block_error *err)
{
	static const struct btrfs_tree_parent_check no_check = { .level = -1 };
	struct btrfs_block_error local;
	struct extent_buffer *eb;
	int ret;

	if (!err)
		err = &local;
	memset(err, 0, sizeof(*err));
	err->checker_slot = -1;
	if (!check)
		check = &no_check;
	if (bytenr == 0 || !IS_ALIGNED(bytenr, (u64)fs_info->sectorsize)) {
		err->problem = BLOCK_IO;
		return ERR_PTR(-EIO);
	}
	if (fs_info->eb_cache) {
		eb = find_extent_buffer(fs_info->eb_cache, bytenr,
					fs_info->nodesize);
		if (eb)
			return check_cached(fs_info, eb, check, err);
	}
	eb = alloc_extent_buffer(bytenr, fs_info->nodesize);
	if (!eb)
		return ERR_PTR(-ENOMEM);
	ret = read_mirrors(fs_info, eb, check, err);
	if (ret) {
		free_extent_buffer(eb);
		return ERR_PTR(ret);
	}
	eb->flags |= EXTENT_BUFFER_UPTODATE;
	if (!fs_info->eb_cache)
		return eb;	/* no cache (unit tests): the caller owns it */
	return eb_cache_insert(fs_info->eb_cache, eb);
}

/* ------------------------------------------------------------------ */
/* Roots. */

void btrfs_free_root(struct btrfs_root *root)
{
	if (IS_ERR_OR_NULL(root))
		return;
	free_extent_buffer(root->node);
	free(root);
}

/* A root object around an already read root block (takes @eb's ref). */
static struct btrfs_root *make_root(struct btrfs_fs_info *fs_info,
				    u64 objectid, u64 offset,
				    struct extent_buffer *eb)
{
	struct btrfs_root *root = calloc(1, sizeof(*root));

	if (!root) {
		free_extent_buffer(eb);
		return NULL;
	}
	root->fs_info = fs_info;
	root->root_key.objectid = objectid;
	root->root_key.type = BTRFS_ROOT_ITEM_KEY;
	root->root_key.offset = offset;
	root->node = eb;
	btrfs_set_stack_root_bytenr(&root->root_item, eb->start);
	btrfs_set_stack_root_generation(&root->root_item,
					btrfs_header_generation(eb));
	btrfs_set_stack_root_level(&root->root_item, btrfs_header_level(eb));
	btrfs_set_stack_root_refs(&root->root_item, 1);
	return root;
}

/* A second handle on a root fs_info already holds (tree or chunk root). */
static struct btrfs_root *clone_root(const struct btrfs_root *src)
{
	struct btrfs_root *root;

	if (!src)
		return ERR_PTR(-ENOENT);
	root = malloc(sizeof(*root));
	if (!root)
		return ERR_PTR(-ENOMEM);
	memcpy(root, src, sizeof(*root));
	root->node = extent_buffer_get(src->node);
	return root;
}

/* Position @path at the ROOT_ITEM @location names. 0, -ENOENT, <0. */
static int find_root_item(struct btrfs_root *tree_root,
			  const struct btrfs_key *location,
			  struct btrfs_path *path)
{
	struct btrfs_key key = *location;
	struct btrfs_key found;
	int ret;

	key.type = BTRFS_ROOT_ITEM_KEY;
	ret = btrfs_search_slot(NULL, tree_root, &key, path, 0, 0);
	if (ret > 0 && location->offset == (u64)-1)
		ret = btrfs_previous_item(tree_root, path, key.objectid,
					  BTRFS_ROOT_ITEM_KEY);
	if (ret < 0)
		return ret;
	if (ret > 0 || !path->nodes[0])
		return -ENOENT;
	btrfs_item_key_to_cpu(path->nodes[0], &found, path->slots[0]);
	if (found.objectid != key.objectid || found.type != key.type)
		return -ENOENT;
	return 0;
}

/* Copy the root item at @path into @root (legacy items zero-filled). */
static int copy_root_item(const struct btrfs_path *path,
			  struct btrfs_root *root)
{
	const struct extent_buffer *leaf = path->nodes[0];
	int slot = path->slots[0];
	u32 size = btrfs_item_size(leaf, slot);
	u32 offset = btrfs_item_offset(leaf, slot);
	u32 limit = btrfs_leaf_data_size(leaf->len);

	if (size < BTRFS_LEGACY_ROOT_ITEM_SIZE || offset > limit ||
	    size > limit - offset)
		return -EUCLEAN;
	memset(&root->root_item, 0, sizeof(root->root_item));
	memcpy(&root->root_item, btrfs_item_ptr_raw(leaf, slot),
	       min_t(u32, size, sizeof(root->root_item)));
	btrfs_item_key_to_cpu(leaf, &root->root_key, slot);
	return 0;
}

/* Read the root block its root item names; *bad gets the bytenr on error. */
static int read_root_node(struct btrfs_fs_info *fs_info,
			  struct btrfs_root *root, u64 *bad)
{
	struct btrfs_tree_parent_check check = { 0 };
	struct extent_buffer *eb;
	u64 bytenr = btrfs_stack_root_bytenr(&root->root_item);

	*bad = bytenr;
	check.level = btrfs_stack_root_level(&root->root_item);
	check.transid = btrfs_stack_root_generation(&root->root_item);
	if (check.level >= BTRFS_MAX_LEVEL)
		return -EUCLEAN;
	eb = read_tree_block(fs_info, bytenr, &check);
	if (IS_ERR(eb))
		return (int)PTR_ERR(eb);
	root->node = eb;
	return 0;
}

static struct btrfs_root *read_tree_root(struct btrfs_fs_info *fs_info,
					 const struct btrfs_key *location,
					 u64 *bad)
{
	struct btrfs_root *root;
	struct btrfs_path *path;
	int ret;

	*bad = 0;
	if (location->objectid == BTRFS_ROOT_TREE_OBJECTID)
		return clone_root(fs_info->tree_root);
	if (location->objectid == BTRFS_CHUNK_TREE_OBJECTID)
		return clone_root(fs_info->chunk_root);
	if (!fs_info->tree_root)
		return ERR_PTR(-ENOENT);
	root = calloc(1, sizeof(*root));
	path = btrfs_alloc_path();
	ret = root && path ? 0 : -ENOMEM;
	if (!ret)
		ret = find_root_item(fs_info->tree_root, location, path);
	if (!ret)
		ret = copy_root_item(path, root);
	btrfs_free_path(path);
	if (!ret)
		ret = read_root_node(fs_info, root, bad);
	if (ret) {
		free(root);
		return ERR_PTR(ret);
	}
	root->fs_info = fs_info;
	return root;
}

struct btrfs_root *btrfs_read_tree_root(struct btrfs_fs_info *fs_info,
					const struct btrfs_key *location)
{
	u64 bad;

	return read_tree_root(fs_info, location, &bad);
}

/* ------------------------------------------------------------------ */
/* open_ctree: each step fills @why on failure. */

static int fail(struct open_ctree_error *why, int err, const char *what,
		u64 bytenr)
{
	why->err = err;
	why->what = what;
	why->bytenr = bytenr;
	return err;
}

static void copy_path(struct open_ctree_error *why, const char *path)
{
	snprintf(why->path, sizeof(why->path), "%s", path ? path : "");
}

static void setup_from_super(struct btrfs_fs_info *fs_info)
{
	const struct btrfs_super_block *sb = &fs_info->super_copy;

	memcpy(fs_info->fsid, sb->fsid, BTRFS_FSID_SIZE);
	memcpy(fs_info->metadata_uuid, super_metadata_fsid(sb), BTRFS_FSID_SIZE);
	fs_info->nodesize = btrfs_super_nodesize(sb);
	fs_info->sectorsize = btrfs_super_sectorsize(sb);
	fs_info->stripesize = btrfs_super_stripesize(sb);
	fs_info->csum_type = btrfs_super_csum_type(sb);
	fs_info->csum_size = (u16)btrfs_csum_type_size(fs_info->csum_type);
	fs_info->generation = btrfs_super_generation(sb);
}

/* Pick the superblock from the first device as @args asks. */
static int load_super(struct btrfs_fs_info *fs_info,
		      const struct open_ctree_args *args,
		      struct open_ctree_error *why)
{
	bool temp = args->flags & OPEN_CTREE_ALLOW_TEMP;
	struct btrfs_io *io;
	int ret;

	if (args->ios) {
		io = args->ios[0];
		copy_path(why, io->path);
	} else {
		copy_path(why, args->devices[0]);
		ret = btrfs_io_open(args->devices[0], 0, &io);
		if (ret)
			return fail(why, ret == -ENODEV ? -EINVAL : ret,
				    "device", 0);
	}
	if (args->super_bytenr) {
		fs_info->super_bytenr = args->super_bytenr;
		ret = read_super_at(io, args->super_bytenr, &fs_info->super_copy,
				    &why->super_problem, temp);
	} else {
		ret = read_dev_super(io, args->super_mirror, &fs_info->super_copy,
				     &fs_info->super_bytenr, &why->super_problem,
				     temp);
	}
	if (!args->ios)
		btrfs_io_close(io);
	if (ret)
		return fail(why, ret, "superblock", fs_info->super_bytenr);
	why->path[0] = '\0';
	setup_from_super(fs_info);
	return 0;
}

static int open_devices(struct btrfs_fs_info *fs_info,
			const struct open_ctree_args *args,
			struct open_ctree_error *why)
{
	int ret;
	int i;

	if (args->flags & OPEN_CTREE_WRITES) {
		fs_info->fs_devices = calloc(1, sizeof(*fs_info->fs_devices));
		if (!fs_info->fs_devices)
			return fail(why, -ENOMEM, "memory", 0);
		fs_info->fs_devices->writable = true;
	}
	for (i = 0; i < args->nr_devices; i++) {
		if (args->ios)
			ret = btrfs_add_opened_device(fs_info, args->ios[i]);
		else
			ret = btrfs_open_devices(fs_info, &args->devices[i], 1,
						 true);
		if (ret) {
			copy_path(why, args->ios ? args->ios[i]->path :
						   args->devices[i]);
			return fail(why, ret, "device", 0);
		}
	}
	if (args->flags & OPEN_CTREE_NO_SCAN)
		return 0;
	ret = btrfs_open_devices(fs_info, NULL, 0, false);
	return ret ? fail(why, ret, "device", 0) : 0;
}

/* The devid of a missing device holding a copy of @logical, or 0. */
static u64 missing_devid(struct btrfs_fs_info *fs_info, u64 logical)
{
	const struct map_lookup *map = btrfs_find_chunk_map(fs_info, logical);
	int i;

	for (i = 0; map && i < map->num_stripes; i++)
		if (!map->stripes[i].dev)
			return map->stripes[i].devid;
	return 0;
}

static int fail_block(struct btrfs_fs_info *fs_info,
		      struct open_ctree_error *why, int err, const char *what,
		      u64 bytenr)
{
	if (err == -ENODEV)
		why->devid = missing_devid(fs_info, bytenr);
	if (why && btrfs_num_copies(fs_info, bytenr) == 0)
		why->unmapped = true;
	return fail(why, err, what, bytenr);
}

/* Read a root block the superblock (or an override) points at. */
static int read_super_root(struct btrfs_fs_info *fs_info, u64 objectid,
			   u64 bytenr, int level, u64 transid,
			   struct btrfs_root **out)
{
	struct btrfs_tree_parent_check check = { 0 };
	struct extent_buffer *eb;

	check.level = level;
	check.transid = transid;
	check.owner_root = objectid;
	eb = read_tree_block(fs_info, bytenr, &check);
	if (IS_ERR(eb))
		return (int)PTR_ERR(eb);
	*out = make_root(fs_info, objectid, 0, eb);
	return *out ? 0 : -ENOMEM;
}

static int setup_chunks(struct btrfs_fs_info *fs_info,
			const struct open_ctree_args *args,
			struct open_ctree_error *why)
{
	const struct btrfs_super_block *sb = &fs_info->super_copy;
	u64 bytenr = btrfs_super_chunk_root(sb);
	int level = btrfs_super_chunk_root_level(sb);
	u64 transid = btrfs_super_chunk_root_generation(sb);
	int ret;

	ret = btrfs_read_sys_array(fs_info);
	if (ret)
		return fail(why, ret, "sys chunk array", 0);
	if (args->chunk_root_bytenr) {
		bytenr = args->chunk_root_bytenr;
		level = -1;
		transid = 0;
	}
	ret = read_super_root(fs_info, BTRFS_CHUNK_TREE_OBJECTID, bytenr,
			      level, transid, &fs_info->chunk_root);
	if (ret)
		return fail_block(fs_info, why, ret, "chunk root", bytenr);
	memcpy(fs_info->chunk_tree_uuid,
	       btrfs_header_chunk_tree_uuid(fs_info->chunk_root->node),
	       BTRFS_UUID_SIZE);
	ret = btrfs_read_chunk_tree(fs_info);
	if (ret)
		return fail_block(fs_info, why, ret, "chunk tree", 0);
	return 0;
}

/* Index of the newest backup root not tried yet, or -1. */
static int newest_untried_backup(const struct btrfs_root_backup *b,
				 const bool *tried)
{
	int best = -1;
	int i;

	for (i = 0; i < BTRFS_NUM_BACKUP_ROOTS; i++) {
		if (tried[i] || !btrfs_stack_backup_tree_root(&b[i]))
			continue;
		if (best < 0 || btrfs_stack_backup_tree_root_gen(&b[i]) >
				btrfs_stack_backup_tree_root_gen(&b[best]))
			best = i;
	}
	return best;
}

/* The usable backup root with the newest generation. */
static int read_backup_tree_root(struct btrfs_fs_info *fs_info,
				 struct open_ctree_error *why)
{
	const struct btrfs_root_backup *b = fs_info->super_copy.super_roots;
	bool tried[BTRFS_NUM_BACKUP_ROOTS] = { false };
	int ret = -ENOENT;
	u64 bytenr = 0;
	int i;

	while ((i = newest_untried_backup(b, tried)) >= 0) {
		tried[i] = true;
		bytenr = btrfs_stack_backup_tree_root(&b[i]);
		ret = read_super_root(fs_info, BTRFS_ROOT_TREE_OBJECTID, bytenr,
				      btrfs_stack_backup_tree_root_level(&b[i]),
				      btrfs_stack_backup_tree_root_gen(&b[i]),
				      &fs_info->tree_root);
		if (ret == 0)
			return 0;
	}
	return fail_block(fs_info, why, ret, "tree root", bytenr);
}

static int setup_tree_root(struct btrfs_fs_info *fs_info,
			   const struct open_ctree_args *args,
			   struct open_ctree_error *why)
{
	const struct btrfs_super_block *sb = &fs_info->super_copy;
	u64 bytenr = btrfs_super_root(sb);
	int level = btrfs_super_root_level(sb);
	u64 transid = btrfs_super_generation(sb);
	int ret;

	if (args->tree_root_bytenr) {
		bytenr = args->tree_root_bytenr;
		level = -1;
		transid = 0;
	} else if (args->flags & OPEN_CTREE_BACKUP_ROOT) {
		return read_backup_tree_root(fs_info, why);
	}
	ret = read_super_root(fs_info, BTRFS_ROOT_TREE_OBJECTID, bytenr, level,
			      transid, &fs_info->tree_root);
	return ret ? fail_block(fs_info, why, ret, "tree root", bytenr) : 0;
}

/* The well-known trees read from the root tree. */
struct global_tree {
	u64 objectid;
	size_t field;		/* offset of the struct btrfs_root * in fs_info */
	const char *what;
};

#define GLOBAL_TREE(id, member, what) \
	{ id, offsetof(struct btrfs_fs_info, member), what }

static const struct global_tree global_trees[] = {
	GLOBAL_TREE(BTRFS_EXTENT_TREE_OBJECTID, extent_root, "extent tree"),
	GLOBAL_TREE(BTRFS_DEV_TREE_OBJECTID, dev_root, "dev tree"),
	GLOBAL_TREE(BTRFS_FS_TREE_OBJECTID, fs_root, "fs tree"),
	GLOBAL_TREE(BTRFS_CSUM_TREE_OBJECTID, csum_root, "csum tree"),
	GLOBAL_TREE(BTRFS_QUOTA_TREE_OBJECTID, quota_root, "quota tree"),
	GLOBAL_TREE(BTRFS_UUID_TREE_OBJECTID, uuid_root, "uuid tree"),
	GLOBAL_TREE(BTRFS_FREE_SPACE_TREE_OBJECTID, free_space_root,
		    "free space tree"),
	GLOBAL_TREE(BTRFS_BLOCK_GROUP_TREE_OBJECTID, block_group_root,
		    "block group tree"),
};

static struct btrfs_root **global_slot(struct btrfs_fs_info *fs_info,
				       const struct global_tree *t)
{
	return (struct btrfs_root **)((u8 *)fs_info + t->field);
}

/*
 * Must this tree exist?  Quota and uuid trees are optional.  A filesystem
 * mkfs has not finished (temporary magic) has only the trees the engine
 * needs to open it: extent and dev tree; mkfs creates the others.
 */
static bool global_tree_required(const struct btrfs_fs_info *fs_info,
				 u64 objectid)
{
	if (btrfs_super_magic(&fs_info->super_copy) == BTRFS_MAGIC_TEMPORARY)
		return objectid == BTRFS_EXTENT_TREE_OBJECTID ||
		       objectid == BTRFS_DEV_TREE_OBJECTID;
	switch (objectid) {
	case BTRFS_QUOTA_TREE_OBJECTID:
	case BTRFS_UUID_TREE_OBJECTID:
		return false;
	case BTRFS_FREE_SPACE_TREE_OBJECTID:
		return btrfs_fs_compat_ro(fs_info,
					  BTRFS_FEATURE_COMPAT_RO_FREE_SPACE_TREE);
	case BTRFS_BLOCK_GROUP_TREE_OBJECTID:
		return btrfs_fs_compat_ro(fs_info,
					  BTRFS_FEATURE_COMPAT_RO_BLOCK_GROUP_TREE);
	}
	return true;
}

static int setup_global_tree(struct btrfs_fs_info *fs_info,
			     const struct global_tree *t,
			     struct open_ctree_error *why)
{
	struct btrfs_key key = { t->objectid, BTRFS_ROOT_ITEM_KEY, 0 };
	bool partial = fs_info->open_flags & OPEN_CTREE_PARTIAL;
	struct btrfs_root *root;
	u64 bad;
	int ret;

	root = read_tree_root(fs_info, &key, &bad);
	if (!IS_ERR(root)) {
		*global_slot(fs_info, t) = root;
		return 0;
	}
	ret = (int)PTR_ERR(root);
	if (ret == -ENOMEM)
		return fail(why, ret, t->what, bad);
	if (partial ||
	    (ret == -ENOENT && !global_tree_required(fs_info, t->objectid)))
		return 0;
	return fail_block(fs_info, why, ret, t->what, bad);
}

static int setup_log_tree(struct btrfs_fs_info *fs_info,
			  struct open_ctree_error *why)
{
	const struct btrfs_super_block *sb = &fs_info->super_copy;
	u64 bytenr = btrfs_super_log_root(sb);
	struct btrfs_tree_parent_check check = { 0 };
	struct extent_buffer *eb;

	if (!bytenr)
		return 0;
	/* a log the caller drops is never read */
	if ((fs_info->open_flags & (OPEN_CTREE_WRITES | OPEN_CTREE_REPAIR |
				    OPEN_CTREE_ZERO_LOG)) ==
	    (OPEN_CTREE_WRITES | OPEN_CTREE_REPAIR | OPEN_CTREE_ZERO_LOG))
		return 0;
	check.level = btrfs_super_log_root_level(sb);
	check.transid = btrfs_super_generation(sb) + 1;
	eb = read_tree_block(fs_info, bytenr, &check);
	if (IS_ERR(eb)) {
		if (fs_info->open_flags & OPEN_CTREE_PARTIAL)
			return 0;
		return fail_block(fs_info, why, (int)PTR_ERR(eb), "log tree",
				  bytenr);
	}
	fs_info->log_root_tree = make_root(fs_info, BTRFS_TREE_LOG_OBJECTID,
					   BTRFS_TREE_LOG_OBJECTID, eb);
	return fs_info->log_root_tree ? 0 : fail(why, -ENOMEM, "log tree", 0);
}

static int setup_trees(struct btrfs_fs_info *fs_info,
		       const struct open_ctree_args *args,
		       struct open_ctree_error *why)
{
	size_t i;
	int ret;

	ret = setup_tree_root(fs_info, args, why);
	for (i = 0; ret == 0 && i < ARRAY_SIZE(global_trees); i++)
		ret = setup_global_tree(fs_info, &global_trees[i], why);
	if (ret == 0)
		ret = setup_log_tree(fs_info, why);
	return ret;
}

static int alloc_caches(struct btrfs_fs_info *fs_info,
			const struct open_ctree_args *args,
			struct open_ctree_error *why)
{
	size_t bytes = args->cache_bytes ? args->cache_bytes :
					   (size_t)DEFAULT_CACHE_BYTES;

	fs_info->eb_cache = eb_cache_create(bytes);
	fs_info->mapping_tree = btrfs_mapping_tree_alloc();
	if (!fs_info->eb_cache || !fs_info->mapping_tree)
		return fail(why, -ENOMEM, "memory", 0);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Opening for writing. */

static bool write_args_ok(const struct open_ctree_args *args)
{
	/* ALLOW_TEMP is fine: mkfs finishes a new filesystem that way. */
	unsigned int bad = OPEN_CTREE_PARTIAL | OPEN_CTREE_CHUNK_ONLY |
			   OPEN_CTREE_BACKUP_ROOT;

	if (!(args->flags & OPEN_CTREE_WRITES))
		return !(args->flags & (OPEN_CTREE_REPAIR | OPEN_CTREE_ZERO_LOG));
	if ((args->flags & OPEN_CTREE_ZERO_LOG) &&
	    !(args->flags & OPEN_CTREE_REPAIR))
		return false;
	/* a repair may start from any copy or root; the commit keeps it */
	if (args->flags & OPEN_CTREE_REPAIR)
		return !(args->flags & OPEN_CTREE_CHUNK_ONLY);
	return !(args->flags & bad) && args->super_mirror == 0 &&
	       !args->super_bytenr && !args->tree_root_bytenr &&
	       !args->chunk_root_bytenr;
}

/* What the write path cannot handle yet; NULL when writing is fine. */
static const char *unsupported_for_writes(const struct btrfs_fs_info *fs_info)
{
	const struct btrfs_super_block *sb = &fs_info->super_copy;
	bool repair = fs_info->open_flags & OPEN_CTREE_REPAIR;

	if (btrfs_fs_incompat(fs_info, BTRFS_FEATURE_INCOMPAT_ZONED))
		return "zoned (writing not supported)";
	if (btrfs_fs_incompat(fs_info, BTRFS_FEATURE_INCOMPAT_EXTENT_TREE_V2))
		return "extent tree v2 (writing not supported)";
	if (btrfs_fs_incompat(fs_info, BTRFS_FEATURE_INCOMPAT_RAID_STRIPE_TREE))
		return "raid stripe tree (writing not supported)";
	if (!btrfs_fs_incompat(fs_info, BTRFS_FEATURE_INCOMPAT_MIXED_BACKREF))
		return "old backref format (writing not supported)";
	if (btrfs_super_log_root(sb) &&
	    !(repair && (fs_info->open_flags & OPEN_CTREE_ZERO_LOG)))
		return "log tree to replay (mount the filesystem first)";
	if (btrfs_super_flags(sb) & ~BTRFS_HEADER_FLAG_WRITTEN)
		return "superblock flags (seeding, metadump or interrupted change)";
	if (btrfs_fs_compat_ro(fs_info, BTRFS_FEATURE_COMPAT_RO_FREE_SPACE_TREE) &&
	    !btrfs_fs_compat_ro(fs_info,
				BTRFS_FEATURE_COMPAT_RO_FREE_SPACE_TREE_VALID) &&
	    !repair)
		return "free space tree not valid";
	return NULL;
}

/* A repair open: the trees every write may touch must be there. */
static const char *missing_for_writes(const struct btrfs_fs_info *fs_info)
{
	for (size_t i = 0; i < ARRAY_SIZE(global_trees); i++) {
		const struct global_tree *t = &global_trees[i];

		if (t->objectid == BTRFS_FS_TREE_OBJECTID ||
		    t->objectid == BTRFS_QUOTA_TREE_OBJECTID ||
		    t->objectid == BTRFS_UUID_TREE_OBJECTID)
			continue;
		if (!global_tree_required(fs_info, t->objectid) &&
		    t->objectid != BTRFS_CSUM_TREE_OBJECTID)
			continue;
		if (!*global_slot((struct btrfs_fs_info *)fs_info, t))
			return t->what;
	}
	return NULL;
}

struct dev_usage {
	struct btrfs_fs_info *fs_info;
	int err;
};

/* Add the bytes @map takes on each device to that device's expected use. */
static int add_map_usage(const struct map_lookup *map, void *ctx)
{
	struct dev_usage *u = ctx;

	for (int i = 0; i < map->num_stripes; i++) {
		struct btrfs_device *dev =
			btrfs_find_device(u->fs_info->fs_devices,
					  map->stripes[i].devid, NULL);

		if (!dev) {
			u->err = -EUCLEAN;
			return 1;
		}
		dev->expected_used += btrfs_chunk_stripe_dev_len(map);
	}
	return 0;
}

/*
 * Repair open: device and superblock bytes used recomputed from the chunks
 * and the block groups, where they differ.
 */
static int fix_accounting(struct btrfs_fs_info *fs_info)
{
	struct btrfs_super_block *sb = &fs_info->super_copy;
	struct dev_usage u = { fs_info, 0 };
	struct btrfs_device *dev;
	u64 used = 0;
	int ret;

	for (dev = fs_info->fs_devices->devices; dev; dev = dev->next)
		dev->expected_used = 0;
	ret = btrfs_for_each_chunk_map(fs_info, add_map_usage, &u);
	if (u.err)
		return u.err;
	if (ret < 0)
		return ret;
	for (dev = fs_info->fs_devices->devices; dev; dev = dev->next) {
		if (dev->missing || dev->bytes_used == dev->expected_used)
			continue;
		ret = btrfs_add_open_fixup(fs_info, BTRFS_FIXUP_DEV_BYTES_USED,
					   dev->devid, dev->bytes_used,
					   dev->expected_used);
		if (ret)
			return ret;
		dev->bytes_used = dev->expected_used;
		dev->dirty = true;
	}
	for (size_t i = 0; i < fs_info->nr_block_groups; i++)
		used += fs_info->block_groups[i]->used;
	if (btrfs_super_bytes_used(sb) != used) {
		ret = btrfs_add_open_fixup(fs_info,
					   BTRFS_FIXUP_SUPER_BYTES_USED, 0,
					   btrfs_super_bytes_used(sb), used);
		if (ret)
			return ret;
		btrfs_set_super_bytes_used(sb, used);
	}
	return 0;
}

/* Repair open: the log and the free space tree's validity. */
static int note_repair_state(struct btrfs_fs_info *fs_info)
{
	const struct btrfs_super_block *sb = &fs_info->super_copy;
	int ret = 0;

	if (btrfs_super_log_root(sb)) {
		ret = btrfs_add_open_fixup(fs_info, BTRFS_FIXUP_LOG_DROPPED,
					   btrfs_super_log_root(sb), 0, 0);
		fs_info->drop_log = true;
	}
	if (!ret &&
	    btrfs_fs_compat_ro(fs_info, BTRFS_FEATURE_COMPAT_RO_FREE_SPACE_TREE) &&
	    !btrfs_fs_compat_ro(fs_info,
				BTRFS_FEATURE_COMPAT_RO_FREE_SPACE_TREE_VALID))
		ret = btrfs_add_open_fixup(fs_info, BTRFS_FIXUP_FST_NOT_VALID,
					   0, 0, 0);
	return ret;
}

static int setup_writes(struct btrfs_fs_info *fs_info,
			struct open_ctree_error *why)
{
	const char *what = unsupported_for_writes(fs_info);
	int ret;

	if (what)
		return fail(why, -EOPNOTSUPP, what, 0);
	if (fs_info->open_flags & OPEN_CTREE_REPAIR) {
		what = missing_for_writes(fs_info);
		if (what)
			return fail(why, -EUCLEAN, what, 0);
		ret = note_repair_state(fs_info);
		if (ret)
			return fail(why, ret, "memory", 0);
	}
	ret = btrfs_read_block_groups(fs_info);
	if (ret)
		return fail(why, ret, "block groups", 0);
	if (fs_info->open_flags & OPEN_CTREE_REPAIR) {
		ret = fix_accounting(fs_info);
		if (ret)
			return fail(why, ret, "device accounting", 0);
	}
	ret = btrfs_read_free_space_tree_formats(fs_info);
	return ret ? fail(why, ret, "free space tree", 0) : 0;
}

static int open_ctree_steps(struct btrfs_fs_info *fs_info,
			    const struct open_ctree_args *args,
			    struct open_ctree_error *why)
{
	int ret;

	if (args->nr_devices < 1 ||
	    (args->ios ? !args->ios[0] : !args->devices || !args->devices[0]))
		return fail(why, -EINVAL, "device", 0);
	if (!write_args_ok(args))
		return fail(why, -EINVAL, "open flags", 0);
	ret = load_super(fs_info, args, why);
	if (!ret)
		ret = open_devices(fs_info, args, why);
	if (!ret)
		ret = alloc_caches(fs_info, args, why);
	if (!ret)
		ret = setup_chunks(fs_info, args, why);
	if (ret || (args->flags & OPEN_CTREE_CHUNK_ONLY))
		return ret;
	ret = setup_trees(fs_info, args, why);
	if (!ret && (args->flags & OPEN_CTREE_WRITES))
		ret = setup_writes(fs_info, why);
	return ret;
}

int open_ctree(const struct open_ctree_args *args, struct btrfs_fs_info **out,
	       struct open_ctree_error *why)
{
	struct open_ctree_error local;
	struct btrfs_fs_info *fs_info;
	int ret;

	if (!why)
		why = &local;
	memset(why, 0, sizeof(*why));
	*out = NULL;
	fs_info = calloc(1, sizeof(*fs_info));
	if (!fs_info)
		return fail(why, -ENOMEM, "memory", 0);
	fs_info->open_flags = args->flags;
	fs_info->on_bad_copy = args->on_bad_copy;
	fs_info->on_bad_copy_data = args->on_bad_copy_data;
	ret = open_ctree_steps(fs_info, args, why);
	if (ret) {
		close_ctree(fs_info);
		return ret;
	}
	why->path[0] = '\0';
	*out = fs_info;
	return 0;
}

void close_ctree(struct btrfs_fs_info *fs_info)
{
	size_t i;

	if (!fs_info)
		return;
	if (fs_info->running_transaction)
		btrfs_abort_transaction(fs_info->running_transaction);
	btrfs_free_block_groups(fs_info);
	for (i = 0; i < ARRAY_SIZE(global_trees); i++)
		btrfs_free_root(*global_slot(fs_info, &global_trees[i]));
	btrfs_free_root(fs_info->log_root_tree);
	btrfs_free_root(fs_info->tree_root);
	btrfs_free_root(fs_info->chunk_root);
	if (fs_info->eb_cache)
		eb_cache_destroy(fs_info->eb_cache);
	btrfs_mapping_tree_free(fs_info->mapping_tree);
	btrfs_close_devices(fs_info->fs_devices);
	free(fs_info->open_fixups);
	free(fs_info);
}

/* ------------------------------------------------------------------ */
/* Writing. */

/* Write what @mirror holds of [@logical, +@len) from @buf. */
static int write_mirror(struct btrfs_fs_info *fs_info, const void *buf,
			u64 logical, u64 len, int mirror)
{
	u64 done = 0;

	while (done < len) {
		struct btrfs_device *dev;
		u64 physical, maplen;
		int ret;

		ret = btrfs_map_block(fs_info, logical + done, mirror, &dev,
				      &physical, &maplen);
		if (ret)
			return ret;
		maplen = min_t(u64, maplen, len - done);
		ret = btrfs_io_pwrite(dev->io, (const u8 *)buf + done,
				      (size_t)maplen, physical);
		if (ret)
			return ret;
		done += maplen;
	}
	return 0;
}

/* RAID5/6 stripe I/O for btrfs_raid56_write(), through the devices. */
static int raid56_stripe_io(const struct map_lookup *map, int stripe,
			    void *rbuf, const void *wbuf, size_t len,
			    u64 physical)
{
	struct btrfs_device *dev = map->stripes[stripe].dev;

	if (!dev || dev->missing || !dev->io)
		return -EIO;	/* no degraded writes */
	if (rbuf)
		return btrfs_io_pread(dev->io, rbuf, len, physical) ? -EIO : 0;
	return btrfs_io_pwrite(dev->io, wbuf, len, physical);
}

static int raid56_read(void *ctx, int stripe, void *buf, size_t len,
		       u64 physical)
{
	return raid56_stripe_io(ctx, stripe, buf, NULL, len, physical);
}

static int raid56_write(void *ctx, int stripe, const void *buf, size_t len,
			u64 physical)
{
	return raid56_stripe_io(ctx, stripe, NULL, buf, len, physical);
}

/* A tree block in a RAID5/6 chunk: its row's parity is rewritten too. */
static int write_raid56_block(const struct map_lookup *map,
			      const struct extent_buffer *eb)
{
	struct btrfs_raid56_io io = { 0 };
	u64 *physical = calloc((size_t)map->num_stripes, sizeof(*physical));
	int ret;

	if (!physical)
		return -ENOMEM;
	for (int i = 0; i < map->num_stripes; i++)
		physical[i] = map->stripes[i].physical;
	io.type = map->type;
	io.num_stripes = map->num_stripes;
	io.stripe_len = map->stripe_len;
	io.read = raid56_read;
	io.write = raid56_write;
	io.ctx = (void *)map;
	io.physical = physical;
	ret = btrfs_raid56_write(&io, eb->start - map->start, eb->data,
				 eb->len);
	free(physical);
	return ret;
}

int write_tree_block(struct btrfs_fs_info *fs_info, struct extent_buffer *eb)
{
	const struct map_lookup *map = btrfs_find_chunk_map(fs_info, eb->start);
	int copies = btrfs_num_copies(fs_info, eb->start);
	u64 flags = btrfs_header_flags(eb);
	int ret;

	if (!map || copies <= 0)
		return -EIO;
	btrfs_set_header_flags(eb, flags | BTRFS_HEADER_FLAG_WRITTEN);
	ret = tree_block_csum(fs_info, eb, eb->data);
	if (!ret && (map->type & BTRFS_BLOCK_GROUP_RAID56_MASK))
		return write_raid56_block(map, eb);
	for (int mirror = 1; !ret && mirror <= copies; mirror++)
		ret = write_mirror(fs_info, eb->data, eb->start, eb->len,
				   mirror);
	return ret;
}

int btrfs_flush_devices(struct btrfs_fs_info *fs_info)
{
	struct btrfs_device *dev;

	for (dev = fs_info->fs_devices->devices; dev; dev = dev->next) {
		int ret;

		if (dev->missing || !dev->io)
			continue;
		ret = btrfs_io_flush(dev->io);
		if (ret)
			return ret;
	}
	return 0;
}

static void backup_root(struct btrfs_root_backup *b, int which,
			const struct btrfs_root *root)
{
	u64 bytenr = 0, gen = 0;
	u8 level = 0;

	if (root && root->node) {
		bytenr = root->node->start;
		gen = btrfs_header_generation(root->node);
		level = btrfs_header_level(root->node);
	}
	switch (which) {
	case BTRFS_ROOT_TREE_OBJECTID:
		btrfs_set_stack_backup_tree_root(b, bytenr);
		btrfs_set_stack_backup_tree_root_gen(b, gen);
		btrfs_set_stack_backup_tree_root_level(b, level);
		break;
	case BTRFS_CHUNK_TREE_OBJECTID:
		btrfs_set_stack_backup_chunk_root(b, bytenr);
		btrfs_set_stack_backup_chunk_root_gen(b, gen);
		btrfs_set_stack_backup_chunk_root_level(b, level);
		break;
	case BTRFS_EXTENT_TREE_OBJECTID:
		btrfs_set_stack_backup_extent_root(b, bytenr);
		btrfs_set_stack_backup_extent_root_gen(b, gen);
		btrfs_set_stack_backup_extent_root_level(b, level);
		break;
	case BTRFS_FS_TREE_OBJECTID:
		btrfs_set_stack_backup_fs_root(b, bytenr);
		btrfs_set_stack_backup_fs_root_gen(b, gen);
		btrfs_set_stack_backup_fs_root_level(b, level);
		break;
	case BTRFS_DEV_TREE_OBJECTID:
		btrfs_set_stack_backup_dev_root(b, bytenr);
		btrfs_set_stack_backup_dev_root_gen(b, gen);
		btrfs_set_stack_backup_dev_root_level(b, level);
		break;
	case BTRFS_CSUM_TREE_OBJECTID:
		btrfs_set_stack_backup_csum_root(b, bytenr);
		btrfs_set_stack_backup_csum_root_gen(b, gen);
		btrfs_set_stack_backup_csum_root_level(b, level);
		break;
	}
}

void btrfs_backup_super_roots(struct btrfs_fs_info *fs_info)
{
	struct btrfs_super_block *sb = &fs_info->super_copy;
	struct btrfs_root_backup *b = sb->super_roots;
	int newest = -1, slot;

	for (int i = 0; i < BTRFS_NUM_BACKUP_ROOTS; i++) {
		if (!btrfs_stack_backup_tree_root(&b[i]))
			continue;
		if (newest < 0 || btrfs_stack_backup_tree_root_gen(&b[i]) >
				btrfs_stack_backup_tree_root_gen(&b[newest]))
			newest = i;
	}
	slot = (newest + 1) % BTRFS_NUM_BACKUP_ROOTS;
	memset(&b[slot], 0, sizeof(b[slot]));
	backup_root(&b[slot], BTRFS_ROOT_TREE_OBJECTID, fs_info->tree_root);
	backup_root(&b[slot], BTRFS_CHUNK_TREE_OBJECTID, fs_info->chunk_root);
	backup_root(&b[slot], BTRFS_EXTENT_TREE_OBJECTID, fs_info->extent_root);
	backup_root(&b[slot], BTRFS_FS_TREE_OBJECTID, fs_info->fs_root);
	backup_root(&b[slot], BTRFS_DEV_TREE_OBJECTID, fs_info->dev_root);
	backup_root(&b[slot], BTRFS_CSUM_TREE_OBJECTID, fs_info->csum_root);
	btrfs_set_stack_backup_total_bytes(&b[slot], btrfs_super_total_bytes(sb));
	btrfs_set_stack_backup_bytes_used(&b[slot], btrfs_super_bytes_used(sb));
	btrfs_set_stack_backup_num_devices(&b[slot], btrfs_super_num_devices(sb));
}

/*
 * Write @sb, with this device's dev item, to the primary copy of @dev, or
 * with !@primary to every mirror copy that fits.
 */
static int write_dev_supers(struct btrfs_device *dev,
			    struct btrfs_super_block *sb, bool primary)
{
	struct btrfs_super_block old;
	int ret;

	/* The device's own identity comes from its current primary copy. */
	ret = btrfs_read_super_raw(dev->io, btrfs_sb_offset(0), &old);
	if (ret)
		return ret == -ENOSPC ? -EIO : ret;
	if (btrfs_stack_device_id(&old.dev_item) != dev->devid)
		return -EUCLEAN;
	memcpy(&sb->dev_item, &old.dev_item, sizeof(sb->dev_item));
	btrfs_set_stack_device_bytes_used(&sb->dev_item, dev->bytes_used);
	btrfs_set_stack_device_total_bytes(&sb->dev_item, dev->total_bytes);
	for (int i = primary ? 0 : 1; i < BTRFS_SUPER_MIRROR_MAX; i++) {
		u64 off = btrfs_sb_offset(i);

		if (off + BTRFS_SUPER_INFO_SIZE > dev->device_size ||
		    off + BTRFS_SUPER_INFO_SIZE > dev->total_bytes)
			break;
		btrfs_set_super_bytenr(sb, off);
		ret = btrfs_csum_data(btrfs_super_csum_type(sb),
				      (const u8 *)sb + BTRFS_CSUM_SIZE,
				      BTRFS_SUPER_INFO_SIZE - BTRFS_CSUM_SIZE,
				      sb->csum);
		if (ret)
			return ret;
		ret = btrfs_io_pwrite(dev->io, sb, BTRFS_SUPER_INFO_SIZE, off);
		if (ret)
			return ret;
		if (primary)
			break;
	}
	return 0;
}

/* Every present device's primary copy, or every mirror; then flush. */
static int write_supers_stage(struct btrfs_fs_info *fs_info,
			      struct btrfs_super_block *sb, bool primary)
{
	struct btrfs_device *dev;
	int ret = 0;

	for (dev = fs_info->fs_devices->devices; !ret && dev; dev = dev->next) {
		if (dev->missing || !dev->io)
			continue;
		memcpy(sb, &fs_info->super_copy, sizeof(*sb));
		ret = write_dev_supers(dev, sb, primary);
	}
	return ret ? ret : btrfs_flush_devices(fs_info);
}

/*
 * The mirrors first and flushed, then the primaries: a power cut can tear
 * the copies being written (a device only promises its sectors whole), so
 * never have all copies of a device in flight at once.  A cut while the
 * mirrors are written leaves the old primary intact; one while the
 * primary is written leaves the new mirrors intact, and the trees they
 * name were flushed before either.
 */
int write_all_supers(struct btrfs_fs_info *fs_info)
{
	struct btrfs_super_block *sb = malloc(sizeof(*sb));
	int ret;

	if (!sb)
		return -ENOMEM;
	ret = write_supers_stage(fs_info, sb, false);
	if (!ret)
		ret = write_supers_stage(fs_info, sb, true);
	free(sb);
	if (!ret)
		btrfs_set_super_bytenr(&fs_info->super_copy, btrfs_sb_offset(0));
	return ret;
}
