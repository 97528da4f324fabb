/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Finding the block devices that belong to a multi-device filesystem, with
 * libblkid.  Used by the engine when the superblock counts more devices than
 * the user named.  Probing only reads; no device and no blkid cache file is
 * ever written.
 */
#ifndef BTRFS_COMMON_DEVICE_SCAN_H
#define BTRFS_COMMON_DEVICE_SCAN_H

#include <stdint.h>

/* Bytes of a filesystem UUID (the superblock's fsid). */
#define DEVICE_SCAN_FSID_SIZE 16

/*
 * Format @uuid (16 bytes) the way libblkid and the reference tools print it,
 * "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx", into @out (at least 37 bytes).
 */
void device_scan_uuid_unparse(const uint8_t *uuid, char *out);

/*
 * Call @fn(path, ctx) for every block device that libblkid reports as
 * TYPE=btrfs with filesystem UUID @fsid.  The caller must still read each
 * device's own superblock: blkid's answer is a hint, not proof.  Stops at
 * the first nonzero return of @fn and returns it.  Returns 0 when every
 * candidate was visited (including when there were none), or -ENOMEM /
 * -EIO when libblkid could not be set up.
 */
int device_scan_for_fsid(const uint8_t *fsid,
			 int (*fn)(const char *path, void *ctx), void *ctx);

#endif
