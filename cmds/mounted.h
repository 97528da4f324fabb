/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Is a filesystem mounted?  Shared by check and restore.  Kept apart from the engine headers because
 * <sys/stat.h> and kerncompat.h both define __le64.
 */
#ifndef BTRFS_CMDS_MOUNTED_H
#define BTRFS_CMDS_MOUNTED_H

#include <stdbool.h>
#include <stddef.h>

/*
 * True when one of the @nr files or block devices @paths is a device of a
 * mounted btrfs (the same block device, or a loop device backed by the
 * same file): the source of a btrfs line of /proc/self/mounts, or a device
 * the kernel lists for filesystem @fsid (text form; may be NULL) in sysfs.
 * The mount point (or "(filesystem FSID)") is copied to @where.
 */
bool devices_mounted(const char * const *paths, int nr,
		     const char *fsid, char *where, size_t len);

#endif
