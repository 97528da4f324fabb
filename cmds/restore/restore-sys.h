/* SPDX-License-Identifier: GPL-2.0 */
/*
 * btrfs restore: the few system calls that need <sys/stat.h>, which cannot
 * be included together with the engine headers (its <linux/types.h> has
 * its own __le64).  Plain C types only; every call returns 0 or -errno.
 */
#ifndef BTRFS_CMDS_RESTORE_SYS_H
#define BTRFS_CMDS_RESTORE_SYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What a name in a directory is (never following a symlink). */
enum rsys_kind {
	RSYS_NONE,		/* does not exist */
	RSYS_DIR,
	RSYS_OTHER,
};

/* RSYS_* or -errno. */
int rsys_kind_at(int dir_fd, const char *name);

int rsys_mkdirat(int dir_fd, const char *name, unsigned int mode);

/* A fifo, socket or device node: @mode includes the S_IF* type bits. */
int rsys_mknodat(int dir_fd, const char *name, unsigned int mode,
		 unsigned int major, unsigned int minor);

/* chmod of @fd, or of @name in @dir_fd when @fd < 0. */
int rsys_chmod(int fd, int dir_fd, const char *name, unsigned int mode);

/* atime and mtime of @fd, or of @name in @dir_fd (not followed). */
int rsys_set_times(int fd, int dir_fd, const char *name, int64_t atime_sec,
		   uint32_t atime_nsec, int64_t mtime_sec, uint32_t mtime_nsec);

/* Is @path (followed) a directory? */
bool rsys_is_dir(const char *path);

#endif
