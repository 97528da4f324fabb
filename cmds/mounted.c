// SPDX-License-Identifier: GPL-2.0
/*
 * check, restore: is one of the filesystem's devices mounted?
 *
 * Every btrfs line of /proc/self/mounts names a block device; it is ours
 * when it is the same block device as one of our paths, or a loop device
 * whose backing file (from sysfs) is one of our image files.  The other
 * devices of a mounted multi-device filesystem are found in sysfs.  The
 * fsid alone proves nothing: an unmounted copy of a mounted image has it.
 */
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "cmds/mounted.h"

static bool same_file(const struct stat *a, const struct stat *b)
{
	if (S_ISBLK(a->st_mode) && S_ISBLK(b->st_mode))
		return a->st_rdev == b->st_rdev;
	return !S_ISBLK(a->st_mode) && !S_ISBLK(b->st_mode) &&
	       a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

/* The file behind the loop device @loop, into @st.  0 or -1. */
static int loop_backing_file(const struct stat *loop, struct stat *st)
{
	char path[96], file[PATH_MAX];
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/loop/backing_file",
		 major(loop->st_rdev), minor(loop->st_rdev));
	f = fopen(path, "r");
	if (!f)
		return -1;
	n = fread(file, 1, sizeof(file) - 1, f);
	fclose(f);
	file[n] = 0;
	while (n && file[n - 1] == '\n')
		file[--n] = 0;
	return n && stat(file, st) == 0 ? 0 : -1;
}

static bool check_mounts_file(const char * const *paths, int nr, char *where,
			      size_t len);

static bool source_is_ours(const char *src, const char * const *paths, int nr)
{
	struct stat s, backing, d;
	bool has_backing;
	int i;

	if (stat(src, &s) || !S_ISBLK(s.st_mode))
		return false;
	has_backing = loop_backing_file(&s, &backing) == 0;
	for (i = 0; i < nr; i++) {
		if (stat(paths[i], &d))
			continue;
		if (same_file(&s, &d) ||
		    (has_backing && same_file(&backing, &d)))
			return true;
	}
	return false;
}

/*
 * The kernel lists the devices of each mounted filesystem under
 * /sys/fs/btrfs/FSID/devices/ (one entry per block device name): this
 * finds a member that /proc/self/mounts does not name (the second device
 * of a multi-device filesystem).
 */
static bool sysfs_member_is_ours(const char *fsid, const char * const *paths,
				 int nr)
{
	char dir[128], dev[PATH_MAX];
	struct dirent *de;
	bool found = false;
	DIR *d;

	snprintf(dir, sizeof(dir), "/sys/fs/btrfs/%s/devices", fsid);
	d = opendir(dir);
	if (!d)
		return false;
	while (!found && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(dev, sizeof(dev), "/dev/%s", de->d_name);
		found = source_is_ours(dev, paths, nr);
	}
	closedir(d);
	return found;
}

bool devices_mounted(const char * const *paths, int nr,
		     const char *fsid, char *where, size_t len)
{
	if (check_mounts_file(paths, nr, where, len))
		return true;
	if (fsid && sysfs_member_is_ours(fsid, paths, nr)) {
		snprintf(where, len, "(filesystem %s)", fsid);
		return true;
	}
	return false;
}

static bool check_mounts_file(const char * const *paths, int nr, char *where,
			      size_t len)
{
	char src[PATH_MAX], dir[PATH_MAX], type[64];
	FILE *f = fopen("/proc/self/mounts", "r");
	bool found = false;
	char *line = NULL;
	size_t cap = 0;

	if (!f)
		return false;
	while (!found && getline(&line, &cap, f) > 0) {
		if (sscanf(line, "%4095s %4095s %63s", src, dir, type) != 3 ||
		    strcmp(type, "btrfs"))
			continue;
		if (source_is_ours(src, paths, nr)) {
			snprintf(where, len, "%s", dir);
			found = true;
		}
	}
	free(line);
	fclose(f);
	return found;
}
