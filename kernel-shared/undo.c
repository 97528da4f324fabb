// SPDX-License-Identifier: GPL-2.0
/*
 * The undo recorder and its replay (the file format is in undo.h).
 *
 * Recording: each device layer keeps the set of blocks whose old bytes are
 * already in the file.  A write first appends a record with the old bytes
 * of every block it touches that is not in the set yet (read from the
 * device below), and, when it touches the primary superblock region, a
 * record of the region's hash after the write; then the undo file is made
 * durable, and only then the write goes down.  If the undo file cannot be
 * written the device write is refused and every later one too: a device
 * write the file does not cover would make the file a lie.
 */
#include "common/csum.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/array.h"
#include "kernel-shared/undo.h"

#define UNDO_MAGIC		"BTRFSUND"
#define UNDO_VERSION		1
#define UNDO_FLAG_COMPLETE	1U
#define UNDO_REC_MAGIC		0x43455255U	/* "UREC" */
#define UNDO_REC_HDR		64
#define UNDO_ALIGN		512
#define UNDO_DEV_ENTRY		256
#define UNDO_DEV_START		80

/*
 * The primary superblock region whose hash identifies a device, and the
 * superblock fields read from it (on-disk offsets; this file stays out of
 * the engine headers because <sys/stat.h> cannot be mixed with them).
 */
#define SB_REGION_OFF		65536ULL
#define SB_REGION_LEN		4096
#define SB_FSID			32
#define SB_MAGIC		64
#define SB_MAGIC_VALUE		0x4D5F53665248425FULL	/* "_BHRfS_M" */
#define SB_DEV_ITEM		201
#define DEV_ITEM_DEVID		0
#define DEV_ITEM_UUID		66

struct saved_range {
	uint64_t start, end;	/* block-aligned (end clamped to the size) */
};

struct undo_dev {
	struct btrfs_io io;
	struct btrfs_undo *undo;
	int index;
	struct saved_range *saved;
	size_t nr_saved, cap_saved;
};

struct btrfs_undo {
	struct btrfs_io *file;	/* the undo file */
	char tool[32];
	uint64_t ctime;
	uint64_t end;		/* where the next record goes */
	uint64_t seq;
	bool failed;
	int nr_devices;
	int nr_open;
	struct btrfs_undo_device devices[BTRFS_UNDO_MAX_DEVICES];
	uint64_t old_bytes;
	uint64_t nr_records;
};

static void put_le32(uint8_t *p, uint32_t v)
{
	v = htole32(v);
	memcpy(p, &v, 4);
}

static void put_le64(uint8_t *p, uint64_t v)
{
	v = htole64(v);
	memcpy(p, &v, 8);
}

static uint32_t get_le32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return le32toh(v);
}

static uint64_t get_le64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return le64toh(v);
}

static uint32_t crc32c(const void *data, size_t len)
{
	return ~btrfs_crc32c(~0U, data, len);
}

static uint64_t align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) / a * a;
}

/*
 * The undo file itself is read and written through the device interface
 * too (without the fault injector, so that a test's cut points count the
 * devices' operations only): btrfs_io_pread() gives -ENODATA at its end.
 */

/* ------------------------------------------------------------------ */
/* Device identity. */

/* The superblock region of @io, zero-filled past its end. */
static int read_sb_region(struct btrfs_io *io, uint8_t *buf)
{
	int ret;

	memset(buf, 0, SB_REGION_LEN);
	if (io->size <= SB_REGION_OFF)
		return 0;
	ret = btrfs_io_pread(io, buf, SB_REGION_LEN, SB_REGION_OFF);
	return ret == -ENODATA ? 0 : ret;
}

static int hash_region(const uint8_t *region, uint8_t *hash)
{
	uint8_t out[BTRFS_CSUM_SIZE];
	int ret = btrfs_csum_data(BTRFS_CSUM_TYPE_SHA256, region,
				  SB_REGION_LEN, out);

	memcpy(hash, out, 32);
	return ret;
}

/* Fill devid/fsid/uuid from a superblock region; whether it is btrfs. */
static bool parse_identity(const uint8_t *region, uint64_t *devid,
			   uint8_t *fsid, uint8_t *uuid)
{
	if (get_le64(region + SB_MAGIC) != SB_MAGIC_VALUE) {
		*devid = 0;
		memset(fsid, 0, 16);
		memset(uuid, 0, 16);
		return false;
	}
	*devid = get_le64(region + SB_DEV_ITEM + DEV_ITEM_DEVID);
	memcpy(fsid, region + SB_FSID, 16);
	memcpy(uuid, region + SB_DEV_ITEM + DEV_ITEM_UUID, 16);
	return true;
}

/* ------------------------------------------------------------------ */
/* The header. */

static void encode_device(uint8_t *p, const struct btrfs_undo_device *d)
{
	memset(p, 0, UNDO_DEV_ENTRY);
	put_le64(p, d->size);
	put_le32(p + 8, d->flags);
	put_le64(p + 16, d->old_devid);
	memcpy(p + 24, d->old_fsid, 16);
	memcpy(p + 40, d->old_uuid, 16);
	memcpy(p + 56, d->old_hash, 32);
	put_le64(p + 88, d->new_devid);
	memcpy(p + 96, d->new_fsid, 16);
	memcpy(p + 112, d->new_uuid, 16);
	memcpy(p + 128, d->new_hash, 32);
	strncpy((char *)p + 160, d->path, 96);
}

static void decode_device(const uint8_t *p, struct btrfs_undo_device *d)
{
	memset(d, 0, sizeof(*d));
	d->size = get_le64(p);
	d->flags = get_le32(p + 8);
	d->old_devid = get_le64(p + 16);
	memcpy(d->old_fsid, p + 24, 16);
	memcpy(d->old_uuid, p + 40, 16);
	memcpy(d->old_hash, p + 56, 32);
	d->new_devid = get_le64(p + 88);
	memcpy(d->new_fsid, p + 96, 16);
	memcpy(d->new_uuid, p + 112, 16);
	memcpy(d->new_hash, p + 128, 32);
	memcpy(d->path, p + 160, 96);
	d->path[96] = '\0';
}

/* Write the header and make the file durable. */
static int write_header(struct btrfs_undo *undo, bool complete)
{
	uint8_t *h = calloc(1, BTRFS_UNDO_HEADER_SIZE);
	int ret;

	if (!h)
		return -ENOMEM;
	memcpy(h, UNDO_MAGIC, 8);
	put_le32(h + 8, UNDO_VERSION);
	put_le32(h + 12, BTRFS_UNDO_HEADER_SIZE);
	put_le32(h + 16, complete ? UNDO_FLAG_COMPLETE : 0);
	put_le32(h + 20, (uint32_t)undo->nr_devices);
	put_le64(h + 24, undo->ctime);
	memcpy(h + 32, undo->tool, sizeof(undo->tool));
	put_le32(h + 64, BTRFS_UNDO_BLOCK);
	for (int i = 0; i < undo->nr_devices; i++)
		encode_device(h + UNDO_DEV_START + i * UNDO_DEV_ENTRY,
			      &undo->devices[i]);
	put_le32(h + BTRFS_UNDO_HEADER_SIZE - 4,
		 crc32c(h, BTRFS_UNDO_HEADER_SIZE - 4));
	ret = btrfs_io_pwrite(undo->file, h, BTRFS_UNDO_HEADER_SIZE, 0);
	free(h);
	if (!ret)
		ret = btrfs_io_flush(undo->file);
	return ret;
}

int btrfs_undo_create(const char *path, const char *tool,
		      struct btrfs_undo **out)
{
	struct btrfs_undo *undo;
	struct stat st;
	int fd, ret;

	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		ret = -errno;
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		ret = -EINVAL;
		goto fail;
	}
	if (st.st_size) {
		ret = -EEXIST;
		goto fail;
	}
	close(fd);
	undo = calloc(1, sizeof(*undo));
	if (!undo)
		return -ENOMEM;
	ret = btrfs_io_open(path, BTRFS_IO_WRITE | BTRFS_IO_NO_FAULTS,
			    &undo->file);
	if (ret) {
		free(undo);
		return ret;
	}
	snprintf(undo->tool, sizeof(undo->tool), "%s", tool);
	undo->ctime = (uint64_t)time(NULL);
	undo->end = BTRFS_UNDO_HEADER_SIZE;
	ret = write_header(undo, false);
	if (ret) {
		btrfs_io_close(undo->file);
		free(undo);
		return ret;
	}
	*out = undo;
	return 0;
fail:
	close(fd);
	return ret;
}

/* ------------------------------------------------------------------ */
/* Records. */

static int append_record(struct btrfs_undo *undo, uint32_t type, int dev,
			 uint64_t off, const void *data, uint32_t len)
{
	uint64_t total = align_up(UNDO_REC_HDR + (uint64_t)len, UNDO_ALIGN);
	uint8_t *rec = calloc(1, total);
	int ret;

	if (!rec)
		return -ENOMEM;
	put_le32(rec, UNDO_REC_MAGIC);
	put_le32(rec + 4, type);
	put_le32(rec + 8, (uint32_t)dev);
	put_le32(rec + 12, len);
	put_le64(rec + 16, off);
	put_le64(rec + 24, undo->seq);
	put_le32(rec + 32, crc32c(data, len));
	put_le32(rec + 60, crc32c(rec, 60));
	memcpy(rec + UNDO_REC_HDR, data, len);
	ret = btrfs_io_pwrite(undo->file, rec, total, undo->end);
	free(rec);
	if (ret)
		return ret;
	undo->end += total;
	undo->seq++;
	undo->nr_records++;
	if (type == BTRFS_UNDO_OLD_DATA)
		undo->old_bytes += len;
	return 0;
}

static struct undo_dev *to_undo(struct btrfs_io *io)
{
	return (struct undo_dev *)io;
}

/* Index of the first saved range ending after @pos. */
static size_t first_after(const struct undo_dev *u, uint64_t pos)
{
	size_t lo = 0, hi = u->nr_saved;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (u->saved[mid].end <= pos)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Add [start, end) to the saved set, merging neighbours. */
static int mark_saved(struct undo_dev *u, uint64_t start, uint64_t end)
{
	size_t i = first_after(u, start ? start - 1 : 0);
	size_t j = i;

	/* ranges i..j-1 touch or overlap [start, end) and are merged */
	while (j < u->nr_saved && u->saved[j].start <= end) {
		if (u->saved[j].start < start)
			start = u->saved[j].start;
		if (u->saved[j].end > end)
			end = u->saved[j].end;
		j++;
	}
	if (j == i) {
		if (array_reserve(u->saved, u->cap_saved, u->nr_saved + 1, 64))
			return -ENOMEM;
		memmove(&u->saved[i + 1], &u->saved[i],
			(u->nr_saved - i) * sizeof(*u->saved));
		u->nr_saved++;
	} else if (j > i + 1) {
		memmove(&u->saved[i + 1], &u->saved[j],
			(u->nr_saved - j) * sizeof(*u->saved));
		u->nr_saved -= j - i - 1;
	}
	u->saved[i].start = start;
	u->saved[i].end = end;
	return 0;
}

/* Save the old bytes of [start, end), in records of at most 1MiB. */
static int save_old(struct undo_dev *u, uint64_t start, uint64_t end)
{
	uint8_t *buf = malloc(BTRFS_UNDO_MAX_RECORD);
	int ret = 0;

	if (!buf)
		return -ENOMEM;
	for (uint64_t pos = start; pos < end && !ret;) {
		uint32_t n = end - pos > BTRFS_UNDO_MAX_RECORD ?
			     BTRFS_UNDO_MAX_RECORD : (uint32_t)(end - pos);

		ret = btrfs_io_pread(u->io.lower, buf, n, pos);
		if (ret == -ENODATA)
			ret = -EIO;
		if (!ret)
			ret = append_record(u->undo, BTRFS_UNDO_OLD_DATA,
					    u->index, pos, buf, n);
		pos += n;
	}
	free(buf);
	return ret ? ret : mark_saved(u, start, end);
}

/*
 * Make sure the old bytes of every block of [off, +len) are in the file.
 * Returns 1 when records were added, 0 when there was nothing to save.
 */
static int protect_range(struct undo_dev *u, uint64_t off, uint64_t len)
{
	uint64_t size = u->io.size;
	uint64_t start = off / BTRFS_UNDO_BLOCK * BTRFS_UNDO_BLOCK;
	uint64_t end = align_up(off + len, BTRFS_UNDO_BLOCK);
	bool added = false;
	size_t i;

	if (end > size)
		end = size;
	if (start >= end)
		return 0;
	i = first_after(u, start);
	while (start < end) {
		uint64_t gap_end = end;
		int ret;

		if (i < u->nr_saved && u->saved[i].start <= start) {
			start = u->saved[i].end;
			i++;
			continue;
		}
		if (i < u->nr_saved && u->saved[i].start < gap_end)
			gap_end = u->saved[i].start;
		ret = save_old(u, start, gap_end);
		if (ret)
			return ret;
		added = true;
		start = gap_end;
		i = first_after(u, start);
	}
	return added;
}

/* Record the hash of the superblock region as this write will leave it. */
static int record_sb_state(struct undo_dev *u, const void *buf, size_t len,
			   uint64_t off)
{
	uint8_t region[SB_REGION_LEN];
	uint64_t from, to;
	int ret;

	if (off >= SB_REGION_OFF + SB_REGION_LEN ||
	    off + len <= SB_REGION_OFF || u->io.size <= SB_REGION_OFF)
		return 0;
	ret = read_sb_region(u->io.lower, region);
	if (ret)
		return ret;
	from = off > SB_REGION_OFF ? off : SB_REGION_OFF;
	to = off + len < SB_REGION_OFF + SB_REGION_LEN ?
	     off + len : SB_REGION_OFF + SB_REGION_LEN;
	if (to > u->io.size)
		to = u->io.size;
	if (from < to)
		memcpy(region + (from - SB_REGION_OFF),
		       (const uint8_t *)buf + (from - off), to - from);
	ret = append_record(u->undo, BTRFS_UNDO_SB_STATE, u->index,
			    SB_REGION_OFF, region, sizeof(region));
	return ret ? ret : 1;
}

static ssize_t undo_write(struct btrfs_io *io, const void *buf, size_t len,
			  uint64_t off)
{
	struct undo_dev *u = to_undo(io);
	struct btrfs_undo *undo = u->undo;
	int saved, state;

	if (undo->failed)
		return -EIO;
	saved = protect_range(u, off, len);
	state = saved < 0 ? 0 : record_sb_state(u, buf, len, off);
	if (saved < 0 || state < 0) {
		undo->failed = true;
		return saved < 0 ? saved : state;
	}
	if (saved || state) {
		int err = btrfs_io_flush(undo->file);

		if (err) {
			undo->failed = true;
			return err;
		}
	}
	return io->lower->ops->write(io->lower, buf, len, off);
}

static ssize_t undo_read(struct btrfs_io *io, void *buf, size_t len,
			 uint64_t off)
{
	return io->lower->ops->read(io->lower, buf, len, off);
}

static int undo_flush(struct btrfs_io *io)
{
	return io->lower->ops->flush(io->lower);
}

static int undo_discard(struct btrfs_io *io, uint64_t off, uint64_t len)
{
	(void)io;
	(void)off;
	(void)len;
	return -EOPNOTSUPP;
}

static int undo_close(struct btrfs_io *io)
{
	struct undo_dev *u = to_undo(io);
	struct btrfs_undo_device *d = &u->undo->devices[u->index];
	uint8_t region[SB_REGION_LEN];
	int ret;

	ret = read_sb_region(io->lower, region);
	if (!ret)
		ret = hash_region(region, d->new_hash);
	if (!ret) {
		d->flags |= BTRFS_UNDO_DEV_CLOSED;
		if (parse_identity(region, &d->new_devid, d->new_fsid,
				   d->new_uuid))
			d->flags |= BTRFS_UNDO_DEV_NEW_BTRFS;
	}
	u->undo->nr_open--;
	free(u->saved);
	free(u);
	/* not knowing the final state only costs replay one way to match */
	return 0;
}

static const struct btrfs_io_ops undo_io_ops = {
	.read = undo_read,
	.write = undo_write,
	.flush = undo_flush,
	.discard = undo_discard,
	.close = undo_close,
};

int btrfs_undo_push(struct btrfs_undo *undo, struct btrfs_io *lower,
		    struct btrfs_io **io)
{
	struct btrfs_undo_device *d;
	uint8_t region[SB_REGION_LEN];
	struct undo_dev *u;
	int ret;

	if (undo->nr_devices >= BTRFS_UNDO_MAX_DEVICES)
		return -E2BIG;
	u = calloc(1, sizeof(*u));
	if (!u)
		return -ENOMEM;
	d = &undo->devices[undo->nr_devices];
	memset(d, 0, sizeof(*d));
	ret = read_sb_region(lower, region);
	if (!ret)
		ret = hash_region(region, d->old_hash);
	if (ret) {
		free(u);
		return ret;
	}
	d->size = lower->size;
	if (parse_identity(region, &d->old_devid, d->old_fsid, d->old_uuid))
		d->flags |= BTRFS_UNDO_DEV_OLD_BTRFS;
	snprintf(d->path, sizeof(d->path), "%s", lower->path ? lower->path : "");
	undo->nr_devices++;
	ret = write_header(undo, false);
	if (ret) {
		undo->nr_devices--;
		free(u);
		return ret;
	}
	btrfs_io_init_layer(&u->io, &undo_io_ops, lower);
	u->undo = undo;
	u->index = undo->nr_devices - 1;
	undo->nr_open++;
	*io = &u->io;
	return 0;
}

int btrfs_undo_finish(struct btrfs_undo *undo)
{
	int ret;

	if (undo->nr_open)
		return -EBUSY;
	ret = undo->failed ? -EIO : write_header(undo, true);
	if (btrfs_io_close(undo->file) && !ret)
		ret = -EIO;
	free(undo);
	return ret;
}

void btrfs_undo_abort(struct btrfs_undo *undo)
{
	if (!undo)
		return;
	btrfs_io_close(undo->file);
	free(undo);
}

void btrfs_undo_stats(const struct btrfs_undo *undo, uint64_t *bytes,
		      uint64_t *records)
{
	*bytes = undo->old_bytes;
	*records = undo->nr_records;
}

/* ------------------------------------------------------------------ */
/* Replay: reading the file. */

#define WHY(...) snprintf(why, why_len, __VA_ARGS__)

static int load_header(struct btrfs_undo_info *info, const char *path,
		       char *why, size_t why_len)
{
	uint8_t *h = malloc(BTRFS_UNDO_HEADER_SIZE);
	uint32_t version, size, flags, nr, block;
	int ret;

	if (!h)
		return -ENOMEM;
	ret = btrfs_io_pread(info->file, h, BTRFS_UNDO_HEADER_SIZE, 0);
	if (ret == -ENODATA || (!ret && memcmp(h, UNDO_MAGIC, 8))) {
		WHY("%s is not an undo file (no header)", path);
		ret = -EINVAL;
		goto out;
	}
	if (ret) {
		WHY("cannot read %s: %s", path, strerror(-ret));
		goto out;
	}
	version = get_le32(h + 8);
	size = get_le32(h + 12);
	flags = get_le32(h + 16);
	nr = get_le32(h + 20);
	block = get_le32(h + 64);
	ret = -EINVAL;
	if (version != UNDO_VERSION) {
		WHY("%s is an undo file of version %u, this tool reads version %u",
		    path, version, UNDO_VERSION);
		goto out;
	}
	if (size != BTRFS_UNDO_HEADER_SIZE ||
	    get_le32(h + BTRFS_UNDO_HEADER_SIZE - 4) !=
	    crc32c(h, BTRFS_UNDO_HEADER_SIZE - 4)) {
		WHY("the header of undo file %s is damaged (checksum mismatch)",
		    path);
		goto out;
	}
	if (nr == 0 || nr > BTRFS_UNDO_MAX_DEVICES ||
	    block != BTRFS_UNDO_BLOCK || (flags & ~UNDO_FLAG_COMPLETE)) {
		WHY("the header of undo file %s is invalid (%u devices, block size %u, flags 0x%x)",
		    path, nr, block, flags);
		goto out;
	}
	info->complete = flags & UNDO_FLAG_COMPLETE;
	info->nr_devices = (int)nr;
	info->ctime = get_le64(h + 24);
	memcpy(info->tool, h + 32, 32);
	info->tool[32] = '\0';
	for (uint32_t i = 0; i < nr; i++)
		decode_device(h + UNDO_DEV_START + i * UNDO_DEV_ENTRY,
			      &info->devices[i]);
	ret = 0;
out:
	free(h);
	return ret;
}

/*
 * Parse the record header at @pos: 1 when it is a well-formed record
 * (filled into @rec, with *@next after it), 0 when it is not one.
 */
static int parse_record(const struct btrfs_undo_info *info, const uint8_t *r,
			uint64_t pos, struct btrfs_undo_record *rec,
			uint64_t *seq, uint64_t *next)
{
	(void)info;
	if (get_le32(r) != UNDO_REC_MAGIC || get_le32(r + 60) != crc32c(r, 60))
		return 0;
	memset(rec, 0, sizeof(*rec));
	rec->type = get_le32(r + 4);
	rec->dev = get_le32(r + 8);
	rec->len = get_le32(r + 12);
	rec->off = get_le64(r + 16);
	*seq = get_le64(r + 24);
	rec->csum = get_le32(r + 32);
	rec->file_off = pos + UNDO_REC_HDR;
	*next = align_up(pos + UNDO_REC_HDR + rec->len, UNDO_ALIGN);
	return 1;
}

/* Whether a valid record header starts anywhere in [pos, size). */
static bool any_record_after(const struct btrfs_undo_info *info,
			     uint64_t pos, uint64_t size)
{
	uint8_t r[UNDO_REC_HDR];

	for (pos = align_up(pos, UNDO_ALIGN); pos + UNDO_REC_HDR <= size;
	     pos += UNDO_ALIGN) {
		struct btrfs_undo_record rec;
		uint64_t seq, next;

		if (btrfs_io_pread(info->file, r, sizeof(r), pos))
			return false;
		if (parse_record(info, r, pos, &rec, &seq, &next))
			return true;
	}
	return false;
}

/* Check the record's fields and data. 0, or a reason. */
static const char *check_record(const struct btrfs_undo_info *info,
				const struct btrfs_undo_record *rec,
				uint64_t seq, uint64_t want_seq, uint8_t *buf)
{
	const struct btrfs_undo_device *d;

	if (seq != want_seq)
		return "out of sequence";
	if (rec->dev >= (uint32_t)info->nr_devices)
		return "names a device the header does not list";
	d = &info->devices[rec->dev];
	if (rec->type == BTRFS_UNDO_OLD_DATA) {
		if (!rec->len || rec->len > BTRFS_UNDO_MAX_RECORD ||
		    rec->off % BTRFS_UNDO_BLOCK || rec->off > d->size ||
		    rec->len > d->size - rec->off)
			return "has an impossible range";
	} else if (rec->type == BTRFS_UNDO_SB_STATE) {
		if (rec->len != SB_REGION_LEN || rec->off != SB_REGION_OFF)
			return "has an impossible superblock state";
	} else {
		return "has an unknown type";
	}
	if (btrfs_io_pread(info->file, buf, rec->len, rec->file_off))
		return "is cut short";
	if (crc32c(buf, rec->len) != rec->csum)
		return "has data that does not match its checksum";
	return NULL;
}

static int add_record(struct btrfs_undo_info *info,
		      const struct btrfs_undo_record *rec, size_t *cap)
{
	if (array_reserve(info->records, *cap, info->nr_records + 1, 256))
		return -ENOMEM;
	info->records[info->nr_records++] = *rec;
	return 0;
}

static int load_records(struct btrfs_undo_info *info, const char *path,
			uint64_t size, char *why, size_t why_len)
{
	uint8_t *buf = malloc(BTRFS_UNDO_MAX_RECORD);
	uint64_t pos = BTRFS_UNDO_HEADER_SIZE, seq = 0;
	size_t cap = 0;
	int ret = 0;

	if (!buf)
		return -ENOMEM;
	while (pos < size) {
		uint8_t r[UNDO_REC_HDR];
		struct btrfs_undo_record rec;
		const char *bad = "is cut short";
		uint64_t rseq, next;

		if (!btrfs_io_pread(info->file, r, sizeof(r), pos)) {
			bad = "has a damaged header";
			if (parse_record(info, r, pos, &rec, &rseq, &next))
				bad = check_record(info, &rec, rseq, seq, buf);
		}
		if (bad) {
			if (info->complete ||
			    any_record_after(info, pos + UNDO_ALIGN, size)) {
				WHY("undo file %s is damaged: record %llu at offset %llu %s",
				    path, (unsigned long long)seq,
				    (unsigned long long)pos, bad);
				ret = -EINVAL;
				goto out;
			}
			info->torn = true;
			info->torn_at = pos;
			break;
		}
		if (rec.type == BTRFS_UNDO_SB_STATE) {
			rec.region = malloc(SB_REGION_LEN);
			if (rec.region) {
				memcpy(rec.region, buf, SB_REGION_LEN);
				ret = hash_region(rec.region, rec.hash);
			}
		} else {
			info->old_bytes += rec.len;
		}
		if (!ret && rec.type == BTRFS_UNDO_SB_STATE && !rec.region)
			ret = -ENOMEM;
		if (!ret)
			ret = add_record(info, &rec, &cap);
		if (ret) {
			free(rec.region);
			WHY("not enough memory for the records of %s", path);
			goto out;
		}
		seq++;
		pos = next;
	}
out:
	free(buf);
	return ret;
}

int btrfs_undo_load(const char *path, struct btrfs_undo_info **out,
		    char *why, size_t why_len)
{
	struct btrfs_undo_info *info;
	int ret;

	info = calloc(1, sizeof(*info));
	if (!info) {
		WHY("not enough memory");
		return -ENOMEM;
	}
	ret = btrfs_io_open(path, BTRFS_IO_NO_FAULTS, &info->file);
	if (ret == -EISDIR || ret == -ENODEV) {
		WHY("%s is not an undo file (not a regular file)", path);
		free(info);
		return -EINVAL;
	}
	if (ret) {
		WHY("cannot open undo file %s: %s", path, strerror(-ret));
		free(info);
		return ret;
	}
	if (info->file->is_bdev) {
		WHY("%s is not an undo file (not a regular file)", path);
		ret = -EINVAL;
		goto fail;
	}
	ret = load_header(info, path, why, why_len);
	if (!ret)
		ret = load_records(info, path, info->file->size, why,
				   why_len);
	if (ret)
		goto fail;
	*out = info;
	return 0;
fail:
	btrfs_undo_info_free(info);
	return ret;
}

void btrfs_undo_info_free(struct btrfs_undo_info *info)
{
	if (!info)
		return;
	if (info->file)
		btrfs_io_close(info->file);
	for (size_t i = 0; i < info->nr_records; i++)
		free(info->records[i].region);
	free(info->records);
	free(info);
}

/* ------------------------------------------------------------------ */
/* Replay: which device is which. */

static bool hash_known(const struct btrfs_undo_info *info, int dev,
		       const uint8_t *hash)
{
	const struct btrfs_undo_device *d = &info->devices[dev];

	if (!memcmp(hash, d->old_hash, 32))
		return true;
	if ((d->flags & BTRFS_UNDO_DEV_CLOSED) && !memcmp(hash, d->new_hash, 32))
		return true;
	for (size_t i = 0; i < info->nr_records; i++) {
		const struct btrfs_undo_record *r = &info->records[i];

		if (r->type == BTRFS_UNDO_SB_STATE && r->dev == (uint32_t)dev &&
		    !memcmp(hash, r->hash, 32))
			return true;
	}
	return false;
}

/*
 * The superblock region of recorded device @dev as found, from its first
 * old-data record covering it.  false when the command never wrote there.
 */
static bool old_region(const struct btrfs_undo_info *info, int dev,
		       uint8_t *region)
{
	for (size_t i = 0; i < info->nr_records; i++) {
		const struct btrfs_undo_record *r = &info->records[i];

		if (r->type != BTRFS_UNDO_OLD_DATA || r->dev != (uint32_t)dev ||
		    r->off > SB_REGION_OFF ||
		    r->off + r->len < SB_REGION_OFF + SB_REGION_LEN)
			continue;
		return !btrfs_io_pread(info->file, region, SB_REGION_LEN,
				   r->file_off + (SB_REGION_OFF - r->off));
	}
	return false;
}

/*
 * A power cut may tear the write of the superblock region: whether every
 * 512-byte sector of @cur is as in one of the states of @dev.
 */
static bool sectors_known(const struct btrfs_undo_info *info, int dev,
			  const uint8_t *cur)
{
	uint8_t old[SB_REGION_LEN];
	bool have_old = old_region(info, dev, old);

	for (size_t s = 0; s < SB_REGION_LEN; s += 512) {
		bool found = have_old && !memcmp(cur + s, old + s, 512);

		for (size_t i = 0; i < info->nr_records && !found; i++) {
			const struct btrfs_undo_record *r = &info->records[i];

			found = r->type == BTRFS_UNDO_SB_STATE &&
				r->dev == (uint32_t)dev &&
				!memcmp(cur + s, r->region + s, 512);
		}
		if (!found)
			return false;
	}
	return true;
}

int btrfs_undo_match(const struct btrfs_undo_info *info,
		     struct btrfs_io **ios, int nr, int *map,
		     char *why, size_t why_len)
{
	bool taken[BTRFS_UNDO_MAX_DEVICES] = { false };
	uint8_t region[SB_REGION_LEN], hash[32];
	int ret;

	for (int e = 0; e < info->nr_devices; e++)
		map[e] = -1;
	for (int g = 0; g < nr; g++) {
		int pick = -1;

		ret = read_sb_region(ios[g], region);
		if (!ret)
			ret = hash_region(region, hash);
		if (ret) {
			WHY("cannot read the superblock region of %s: %s",
			    ios[g]->path, strerror(-ret));
			return ret;
		}
		/* prefer the entry recorded under the same path */
		for (int pass = 0; pass < 2 && pick < 0; pass++) {
			for (int e = 0; e < info->nr_devices; e++) {
				const struct btrfs_undo_device *d =
					&info->devices[e];

				if (taken[e] || d->size != ios[g]->size ||
				    (!hash_known(info, e, hash) &&
				     !sectors_known(info, e, region)))
					continue;
				if (pass == 0 && strcmp(d->path, ios[g]->path))
					continue;
				pick = e;
				break;
			}
		}
		if (pick < 0) {
			bool size_known = false;

			for (int e = 0; e < info->nr_devices; e++)
				if (info->devices[e].size == ios[g]->size)
					size_known = true;
			if (!size_known)
				WHY("%s is not a device this undo file recorded: its size %llu matches none of them",
				    ios[g]->path,
				    (unsigned long long)ios[g]->size);
			else
				WHY("%s is not a device this undo file recorded: its superblock is in none of the states the file knows",
				    ios[g]->path);
			return -ENODEV;
		}
		taken[pick] = true;
		map[pick] = g;
	}
	for (int e = 0; e < info->nr_devices; e++) {
		if (map[e] < 0) {
			WHY("the undo file records %d device%s; device %d (%s, %llu bytes) was not given",
			    info->nr_devices, info->nr_devices == 1 ? "" : "s",
			    e + 1, info->devices[e].path,
			    (unsigned long long)info->devices[e].size);
			return -ENODEV;
		}
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Replay: writing the old bytes back. */

int btrfs_undo_apply(const struct btrfs_undo_info *info,
		     struct btrfs_io **ios, const int *map, bool dry_run,
		     void (*each)(void *ctx, const struct btrfs_undo_record *rec,
				  const char *path),
		     void *ctx, char *why, size_t why_len)
{
	uint8_t *buf = malloc(BTRFS_UNDO_MAX_RECORD);
	int ret = 0;

	if (!buf) {
		WHY("not enough memory");
		return -ENOMEM;
	}
	for (size_t i = 0; i < info->nr_records && !ret; i++) {
		const struct btrfs_undo_record *r = &info->records[i];
		struct btrfs_io *io;

		if (r->type != BTRFS_UNDO_OLD_DATA)
			continue;
		io = ios[map[r->dev]];
		if (each)
			each(ctx, r, io->path);
		if (dry_run)
			continue;
		/* the file was verified; check again what is written */
		ret = btrfs_io_pread(info->file, buf, r->len, r->file_off);
		if (!ret && crc32c(buf, r->len) != r->csum)
			ret = -EIO;
		if (ret) {
			WHY("the undo file changed while it was replayed (record at offset %llu)",
			    (unsigned long long)r->file_off);
			break;
		}
		ret = btrfs_io_pwrite(io, buf, r->len, r->off);
		if (ret)
			WHY("writing %u bytes at offset %llu of %s failed: %s",
			    r->len, (unsigned long long)r->off, io->path,
			    strerror(-ret));
	}
	free(buf);
	if (ret || dry_run)
		return ret;
	for (int e = 0; e < info->nr_devices; e++) {
		struct btrfs_io *io = ios[map[e]];

		ret = btrfs_io_flush(io);
		if (ret) {
			WHY("flushing %s failed: %s", io->path, strerror(-ret));
			return ret;
		}
	}
	return 0;
}
