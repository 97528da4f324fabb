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

/* ------------------------------------------------------------------ */
/* Is the device part of a mounted btrfs? */

/* Read the first line of @path into @buf (newline dropped). */
static int read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "re");
	size_t n;

	if (!f)
		return -errno;
	if (!fgets(buf, (int)len, f)) {
		fclose(f);
		return -EIO;
	}
	fclose(f);
	n = strlen(buf);
	if (n && buf[n - 1] == '\n')
		buf[n - 1] = '\0';
	return 0;
}

/* Is block device @name ("loop3") a member of a mounted btrfs? */
static bool member_of_mounted(const char *name, char *where, size_t len)
{
	DIR *d = opendir("/sys/fs/btrfs");
	struct dirent *de;
	char p[PATH_MAX];
	bool found = false;

	if (!d)
		return false;
	while (!found && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "/sys/fs/btrfs/%s/devices/%s",
			 de->d_name, name);
		if (access(p, F_OK) == 0) {
			snprintf(where, len, "/dev/%s (filesystem %s)", name,
				 de->d_name);
			found = true;
		}
	}
	closedir(d);
	return found;
}

/* Loop devices backed by the file @real: is one of them mounted? */
static bool loop_of_file_mounted(const char *real, char *where, size_t len)
{
	DIR *d = opendir("/sys/block");
	struct dirent *de;
	char p[PATH_MAX], backing[PATH_MAX];
	bool found = false;

	if (!d)
		return false;
	while (!found && (de = readdir(d))) {
		if (strncmp(de->d_name, "loop", 4))
			continue;
		snprintf(p, sizeof(p), "/sys/block/%s/loop/backing_file",
			 de->d_name);
		if (read_line(p, backing, sizeof(backing)))
			continue;
		if (strcmp(backing, real))
			continue;
		found = member_of_mounted(de->d_name, where, len);
	}
	closedir(d);
	return found;
}

int restore_device_mounted(const char *device, char *where, size_t len)
{
	char real[PATH_MAX];
	struct stat st;
	const char *base;

	if (stat(device, &st) || !realpath(device, real))
		return -errno;
	if (S_ISREG(st.st_mode))
		return loop_of_file_mounted(real, where, len) ? 1 : 0;
	if (!S_ISBLK(st.st_mode))
		return 0;
	base = strrchr(real, '/');
	base = base ? base + 1 : real;
	return member_of_mounted(base, where, len) ? 1 : 0;
}
