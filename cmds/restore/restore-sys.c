// SPDX-License-Identifier: GPL-2.0
/*
 * btrfs restore: system calls that need <sys/stat.h> (see restore-sys.h).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "cmds/restore/restore-sys.h"

int rsys_kind_at(int dir_fd, const char *name)
{
	struct stat st;

	if (fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW))
		return errno == ENOENT ? RSYS_NONE : -errno;
	return S_ISDIR(st.st_mode) ? RSYS_DIR : RSYS_OTHER;
}

int rsys_mkdirat(int dir_fd, const char *name, unsigned int mode)
{
	return mkdirat(dir_fd, name, mode) ? -errno : 0;
}

int rsys_mknodat(int dir_fd, const char *name, unsigned int mode,
		 unsigned int major, unsigned int minor)
{
	return mknodat(dir_fd, name, mode, makedev(major, minor)) ? -errno : 0;
}

int rsys_chmod(int fd, int dir_fd, const char *name, unsigned int mode)
{
	int ret = fd >= 0 ? fchmod(fd, mode) : fchmodat(dir_fd, name, mode, 0);

	return ret ? -errno : 0;
}

int rsys_set_times(int fd, int dir_fd, const char *name, int64_t atime_sec,
		   uint32_t atime_nsec, int64_t mtime_sec, uint32_t mtime_nsec)
{
	struct timespec ts[2] = {
		{ .tv_sec = (time_t)atime_sec,
		  .tv_nsec = atime_nsec % 1000000000 },
		{ .tv_sec = (time_t)mtime_sec,
		  .tv_nsec = mtime_nsec % 1000000000 },
	};
	int ret;

	if (fd >= 0)
		ret = futimens(fd, ts);
	else
		ret = utimensat(dir_fd, name, ts, AT_SYMLINK_NOFOLLOW);
	return ret ? -errno : 0;
}

bool rsys_is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}
