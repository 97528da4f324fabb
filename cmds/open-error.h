/* SPDX-License-Identifier: GPL-2.0 */
/*
 * One ERROR line explaining why open_ctree() failed, shared by every
 * command that opens a filesystem.
 */
#ifndef BTRFS_CMDS_OPEN_ERROR_H
#define BTRFS_CMDS_OPEN_ERROR_H

#include <stdbool.h>

#include "kernel-shared/disk-io.h"

/*
 * Print why @device (the first path the user gave) could not be opened.
 * A path that plainly is no btrfs (a directory, an empty file, another
 * filesystem) is said to be what it is.  @super_hint (may be NULL) is
 * appended when no superblock was valid but the device still looks like a
 * btrfs (the primary copy has the magic, or a mirror copy is valid), and
 * @block_hint (may be NULL) when a tree block could not be read: a command
 * names its own options there (" (try -u 1 or -u 2)").
 */
void error_open_ctree(const char *device, const struct open_ctree_error *why,
		      const char *super_hint, const char *block_hint);

/*
 * When the last device I/O of this thread failed (btrfs_io_last_error()),
 * print one ERROR line naming the operation, device, offset and errno,
 * and clear the record.  Returns whether it printed.
 */
bool error_last_io(void);

#endif
