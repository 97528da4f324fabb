/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The undo recorder: a device layer (io.h) that saves the old bytes of
 * every range before the first overwrite into an undo file, and the
 * replay that puts them back (btrfs rescue undo).
 *
 * The undo file (all numbers little-endian):
 *
 *   header, UNDO_HEADER_SIZE bytes at offset 0
 *     0   magic "BTRFSUND"
 *     8   u32 version (1)
 *     12  u32 header size
 *     16  u32 flags: 1 = complete (the recorder was closed normally)
 *     20  u32 number of devices
 *     24  u64 creation time (seconds since the epoch)
 *     32  char[32] the tool that wrote it, NUL-padded
 *     64  u32 block size: old bytes are saved in whole blocks (4096)
 *     68  u32, u64: zero
 *     80  one 256-byte entry per device (below)
 *     header size - 4: u32 crc32c of everything before it
 *
 *   device entry
 *     0   u64 size of the device in bytes
 *     8   u32 flags: 1 = it held a btrfs superblock when opened,
 *         2 = it was closed (the "after" fields are set),
 *         4 = it held a btrfs superblock when closed
 *     12  u32 zero
 *     16  u64 devid, 24 fsid[16], 40 device uuid[16]: of the btrfs found
 *     56  sha256[32] of the 4096 bytes at 64KiB (the primary superblock
 *         region; zeros past the end) as found
 *     88  u64 devid, 96 fsid[16], 112 device uuid[16], 128 sha256[32]:
 *         the same when closed
 *     160 char[96] the path it was opened by, NUL-padded
 *
 *   records, from the end of the header, each at a 512-byte boundary:
 *     0   u32 magic "UREC", 4 u32 type, 8 u32 device index,
 *     12  u32 data length, 16 u64 device offset, 24 u64 sequence number
 *         (0, 1, 2, ...), 32 u32 crc32c of the data, 36..59 zero,
 *     60  u32 crc32c of bytes 0..59; then the data, then zeros to the
 *         next 512-byte boundary.
 *     type 1, old data: the bytes [offset, +length) held before the
 *         command first wrote there (whole blocks, at most 1MiB each)
 *     type 2, superblock state: the 4096 bytes of the primary superblock
 *         region (offset 64KiB) as the write that follows leaves it
 *
 * Every record is made durable (fdatasync) before the device write it
 * protects, so an interrupted command leaves a file whose records up to
 * the last good one restore the device: a torn record at the end is
 * ignored; a bad record followed by a good one, or any bad record in a
 * complete file, makes the file unusable.
 *
 * A device is recognised on replay by its size and its primary superblock
 * region, which must be in a state the file knows: as found, as any
 * recorded write left it, or as closed; or, after a write torn by a power
 * cut, each of its 512-byte sectors as in one of those states.
 */
#ifndef BTRFS_UNDO_H
#define BTRFS_UNDO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernel-shared/io.h"

#define BTRFS_UNDO_HEADER_SIZE	16384
#define BTRFS_UNDO_MAX_DEVICES	63
#define BTRFS_UNDO_BLOCK	4096
#define BTRFS_UNDO_MAX_RECORD	(1U << 20)

struct btrfs_undo;

/*
 * Create the undo file @path for a command named @tool ("mkfs.btrfs").
 * A file that exists and is not empty is refused (-EEXIST): it may be
 * the undo file of an earlier command.  0 and *undo set, or -errno.
 */
int btrfs_undo_create(const char *path, const char *tool,
		      struct btrfs_undo **undo);

/*
 * Stack the recorder over @lower: records the device as found and
 * rewrites the header.  Devices are numbered in the order they are pushed.
 * 0 and *io set, or -errno (-E2BIG past BTRFS_UNDO_MAX_DEVICES).  Its
 * discard fails with -EOPNOTSUPP: a discard cannot be undone.
 */
int btrfs_undo_push(struct btrfs_undo *undo, struct btrfs_io *lower,
		    struct btrfs_io **io);

/*
 * After every pushed device was closed: mark the file complete, make it
 * durable and free @undo.  0 or -errno (the file is then left incomplete,
 * which replay still accepts).  -EBUSY (and nothing freed) while a device
 * is still open.
 */
int btrfs_undo_finish(struct btrfs_undo *undo);

/* Without finishing (after a failed create path): close and free. */
void btrfs_undo_abort(struct btrfs_undo *undo);

/* Bytes of old data saved and records written so far. */
void btrfs_undo_stats(const struct btrfs_undo *undo, uint64_t *bytes,
		      uint64_t *records);

/* ------------------------------------------------------------------ */
/* Replay. */

enum btrfs_undo_rec_type {
	BTRFS_UNDO_OLD_DATA = 1,
	BTRFS_UNDO_SB_STATE = 2,
};

struct btrfs_undo_device {
	uint64_t size;
	uint32_t flags;
	uint64_t old_devid, new_devid;
	uint8_t old_fsid[16], old_uuid[16], old_hash[32];
	uint8_t new_fsid[16], new_uuid[16], new_hash[32];
	char path[97];
};

#define BTRFS_UNDO_DEV_OLD_BTRFS	(1U << 0)
#define BTRFS_UNDO_DEV_CLOSED		(1U << 1)
#define BTRFS_UNDO_DEV_NEW_BTRFS	(1U << 2)

struct btrfs_undo_record {
	uint32_t type;
	uint32_t dev;
	uint32_t len;
	uint64_t off;		/* on the device */
	uint64_t file_off;	/* of the data in the undo file */
	uint32_t csum;
	uint8_t hash[32];	/* BTRFS_UNDO_SB_STATE: sha256 of region */
	uint8_t *region;	/* BTRFS_UNDO_SB_STATE: its 4096 bytes */
};

struct btrfs_undo_info {
	char tool[33];
	uint64_t ctime;
	bool complete;
	bool torn;		/* an incomplete record at the end was ignored */
	uint64_t torn_at;	/* its offset */
	int nr_devices;
	struct btrfs_undo_device devices[BTRFS_UNDO_MAX_DEVICES];
	struct btrfs_undo_record *records;
	size_t nr_records;
	uint64_t old_bytes;	/* of all old-data records */
	struct btrfs_io *file;	/* the undo file */
};

/*
 * Read and verify the whole undo file @path (every checksum).  0 and
 * *info set, or -errno with a one-line reason in @why: -EINVAL for a
 * file that is not an undo file or is damaged.
 */
int btrfs_undo_load(const char *path, struct btrfs_undo_info **info,
		    char *why, size_t why_len);

void btrfs_undo_info_free(struct btrfs_undo_info *info);

/*
 * Decide which of the @nr opened devices @ios is which recorded device:
 * map[recorded index] = index into @ios.  0, or -ENODEV with the reason
 * in @why (a device the file does not know, one it records that was not
 * given, or sizes that do not match).
 */
int btrfs_undo_match(const struct btrfs_undo_info *info,
		     struct btrfs_io **ios, int nr, int *map,
		     char *why, size_t why_len);

/*
 * Write the old data back to the devices @ios (by @map from
 * btrfs_undo_match()), in record order, then flush each.  With @dry_run
 * nothing is written and the undo file is still read and verified.
 * @each (may be NULL) is called for every old-data record before it is
 * written.  0, or -errno with the reason in @why.
 */
int btrfs_undo_apply(const struct btrfs_undo_info *info,
		     struct btrfs_io **ios, const int *map, bool dry_run,
		     void (*each)(void *ctx, const struct btrfs_undo_record *rec,
				  const char *path),
		     void *ctx, char *why, size_t why_len);

#endif
