/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What a path given as a btrfs device is when it plainly is not one, for
 * error messages.  Kept apart from the engine headers because <sys/stat.h>
 * and kerncompat.h both define __le64.
 */
#ifndef BTRFS_CMDS_DEVICE_KIND_H
#define BTRFS_CMDS_DEVICE_KIND_H

#include <stdbool.h>
#include <stddef.h>

/*
 * True when @path is certainly no btrfs device, with a phrase saying what
 * it is in @buf ("is a directory", "is an empty file", "holds an ext4
 * filesystem, not btrfs" as libblkid identifies it).  False when it may be
 * a (damaged) btrfs, or cannot be looked at.
 */
bool device_not_btrfs(const char *path, char *buf, size_t len);

#endif
