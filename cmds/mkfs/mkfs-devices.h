/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mkfs.btrfs: checking and opening the target devices.  Plain C types
 * only: the implementation needs <sys/stat.h> and <linux/fs.h>, whose
 * <linux/types.h> cannot be mixed with the engine headers.
 */
#ifndef BTRFS_CMDS_MKFS_DEVICES_H
#define BTRFS_CMDS_MKFS_DEVICES_H

#include <stdbool.h>
#include <stdint.h>

#include "kernel-shared/io.h"

struct mkfs_device {
	struct btrfs_io *io;	/* writable, block devices exclusive */
	const char *path;	/* as given on the command line */
	uint64_t size;		/* bytes to use: the device's, or -b */
	bool is_bdev;		/* block device (discard, SSD detection) */
	unsigned int dev_major;	/* of a block device, for sysfs; kept */
	unsigned int dev_minor;	/* after close for the summary */
};

/*
 * Open the @nr devices @paths for writing into @devs, after refusing a
 * missing path, one that is neither a block device nor a regular file,
 * the same device given twice, a mounted device (an image file through
 * its loop device too), a device smaller than @byte_count (when not 0)
 * and, unless @force, a device where libblkid finds a filesystem or a
 * partition table.  Returns 0, or -1 after printing the reason (every
 * device opened so far is closed again).
 */
int mkfs_open_devices(char **paths, int nr, bool force, uint64_t byte_count,
		      struct mkfs_device *devs);

/*
 * Close what mkfs_open_devices() opened (io NULL afterwards).  0, or -1
 * after printing the first device whose close failed.
 */
int mkfs_close_devices(struct mkfs_device *devs, int nr);

/* Whether a block device among @devs reports itself non-rotational. */
bool mkfs_any_ssd(const struct mkfs_device *devs, int nr);

/*
 * Discard the first @dev->size bytes of a block device that supports
 * discard, printing "Performing full device TRIM <path> (<size>) ..." when
 * @verbose.  Image files and devices without discard are left alone; a
 * refused discard is not an error (the old data just stays).
 */
void mkfs_discard_device(const struct mkfs_device *dev, int verbose);

/*
 * Whether libblkid sees a btrfs filesystem with UUID @fsid (16 bytes) on
 * any block device of this machine.
 */
bool mkfs_fsid_in_use(const uint8_t *fsid);

#endif
