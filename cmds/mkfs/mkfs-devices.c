// SPDX-License-Identifier: GPL-2.0
/*
 * mkfs.btrfs: looking at the devices before anything is written.  A device
 * is refused when it is missing, given twice, mounted or held by someone
 * else, smaller than -b, or (without -f) when libblkid finds a filesystem
 * or partition table on it.  Block devices are opened exclusively, so the
 * kernel itself refuses one that a mounted filesystem holds.
 */
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <mntent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <blkid.h>

#include "cmds/mkfs/mkfs-devices.h"
#include "common/device-scan.h"
#include "common/messages.h"
#include "common/utils.h"

/* The most loop devices one image file is looked up in. */
#define MAX_LOOPS 64

/* Whether a mount source in /proc/self/mounts is block device @rdev. */
static bool rdev_is_mounted(dev_t rdev)
{
	struct mntent ent, *m;
	char buf[4096];
	struct stat st;
	bool found = false;
	FILE *f = setmntent("/proc/self/mounts", "r");

	if (!f)
		return false;
	while (!found && (m = getmntent_r(f, &ent, buf, sizeof(buf)))) {
		if (m->mnt_fsname[0] != '/' || stat(m->mnt_fsname, &st))
			continue;
		found = S_ISBLK(st.st_mode) && st.st_rdev == rdev;
	}
	endmntent(f);
	return found;
}

/* Whether block device @path is held exclusively (a mount holds it). */
static bool bdev_busy(const char *path)
{
	struct btrfs_io *io;
	int ret = btrfs_io_open(path, BTRFS_IO_EXCL | BTRFS_IO_NO_FAULTS, &io);

	if (!ret) {
		btrfs_io_close(io);
		return false;
	}
	return ret == -EBUSY;
}

/* Read the first line of sysfs file @path into @buf; 0 or -1. */
static int read_sysfs(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "r");
	bool ok;

	if (!f)
		return -1;
	ok = fgets(buf, (int)size, f) != NULL;
	fclose(f);
	if (!ok)
		return -1;
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

/*
 * Whether image file @st is the backing file of a loop device that is
 * mounted or held exclusively; *@loop names it.
 */
static bool file_in_use(const struct stat *st, char *loop, size_t size)
{
	char backing[PATH_MAX], path[PATH_MAX];
	struct stat bst;
	glob_t g;
	bool used = false;
	size_t i;

	if (glob("/sys/block/loop*/loop/backing_file", 0, NULL, &g))
		return false;
	for (i = 0; i < g.gl_pathc && i < MAX_LOOPS && !used; i++) {
		const char *name = g.gl_pathv[i] + strlen("/sys/block/");

		if (read_sysfs(g.gl_pathv[i], backing, sizeof(backing)) ||
		    stat(backing, &bst) || bst.st_dev != st->st_dev ||
		    bst.st_ino != st->st_ino)
			continue;
		snprintf(path, sizeof(path), "/dev/%.*s",
			 (int)strcspn(name, "/"), name);
		if (stat(path, &bst) || !S_ISBLK(bst.st_mode))
			continue;
		used = rdev_is_mounted(bst.st_rdev) || bdev_busy(path);
		if (used)
			snprintf(loop, size, "%s", path);
	}
	globfree(&g);
	return used;
}

/* Refuse a mounted device (even with -f). */
static int check_not_mounted(const char *path, const struct stat *st)
{
	char loop[PATH_MAX];

	if (S_ISBLK(st->st_mode) && rdev_is_mounted(st->st_rdev)) {
		error("%s is mounted", path);
		return -1;
	}
	if (S_ISREG(st->st_mode) && file_in_use(st, loop, sizeof(loop))) {
		error("%s is mounted (through loop device %s)", path, loop);
		return -1;
	}
	return 0;
}

/*
 * Without -f: refuse a device where libblkid finds a filesystem, a
 * partition table or an ambiguous signature.
 */
static int check_unused(const char *path)
{
	const char *value = NULL;
	blkid_probe pr;
	int ret;

	pr = blkid_new_probe_from_filename(path);
	if (!pr) {
		error("cannot probe %s for an existing filesystem: %m", path);
		return -1;
	}
	blkid_probe_enable_superblocks(pr, 1);
	blkid_probe_set_superblocks_flags(pr, BLKID_SUBLKS_TYPE);
	blkid_probe_enable_partitions(pr, 1);
	ret = blkid_do_fullprobe(pr);
	if (ret == 1) {
		blkid_free_probe(pr);
		return 0;
	}
	if (ret == 0 && !blkid_probe_lookup_value(pr, "TYPE", &value, NULL))
		error("%s appears to contain an existing filesystem (%s)",
		      path, value);
	else if (ret == 0 &&
		 !blkid_probe_lookup_value(pr, "PTTYPE", &value, NULL))
		error("%s appears to contain a partition table (%s)", path,
		      value);
	else if (ret == 0 || ret == -2)
		error("%s appears to contain something unknown or several signatures according to blkid",
		      path);
	else
		error("cannot probe %s for an existing filesystem", path);
	blkid_free_probe(pr);
	if (ret == 0 || ret == -2)
		error("use the -f option to force overwrite of %s", path);
	return -1;
}

/* Same file or block device as one given before it? */
static int check_duplicate(char **paths, int idx, const struct stat *sts)
{
	const struct stat *a = &sts[idx], *b;
	int i;

	for (i = 0; i < idx; i++) {
		b = &sts[i];
		if (S_ISBLK(a->st_mode) ? (S_ISBLK(b->st_mode) &&
					   a->st_rdev == b->st_rdev) :
		    (a->st_dev == b->st_dev && a->st_ino == b->st_ino)) {
			error("%s is given more than once (also as %s)",
			      paths[idx], paths[i]);
			return -1;
		}
	}
	return 0;
}

/* Open @path for writing; block devices exclusively.  NULL on error. */
static struct btrfs_io *open_device(const char *path)
{
	struct btrfs_io *io;
	int ret = btrfs_io_open(path, BTRFS_IO_WRITE | BTRFS_IO_EXCL, &io);

	if (ret == -EBUSY)
		error("cannot open %s: device busy (mounted or held by another program)",
		      path);
	else if (ret)
		error("cannot open %s: %s", path, strerror(-ret));
	return ret ? NULL : io;
}

/* Steps of one device before it is opened: exists, kind, twice, mounted. */
static int check_device(char **paths, int idx, bool force, struct stat *sts)
{
	const char *path = paths[idx];
	struct stat *st = &sts[idx];

	if (stat(path, st) < 0) {
		error("cannot access %s: %m", path);
		return -1;
	}
	if (!S_ISBLK(st->st_mode) && !S_ISREG(st->st_mode)) {
		error("%s is neither a block device nor a regular file", path);
		return -1;
	}
	if (check_duplicate(paths, idx, sts) || check_not_mounted(path, st))
		return -1;
	if (!force && check_unused(path))
		return -1;
	return 0;
}

/* Open @path into @dev, with its size (@byte_count applied). */
static int prepare_device(const char *path, uint64_t byte_count,
			  const struct stat *st, struct mkfs_device *dev)
{
	char want[PRETTY_SIZE_LEN], have[PRETTY_SIZE_LEN];

	dev->path = path;
	dev->is_bdev = S_ISBLK(st->st_mode);
	dev->io = open_device(path);
	if (!dev->io)
		return -1;
	dev->size = dev->io->size;
	dev->dev_major = dev->io->dev_major;
	dev->dev_minor = dev->io->dev_minor;
	if (byte_count) {
		if (byte_count > dev->size) {
			error("%s is smaller than the requested size: %s (%llu bytes) available, -b asks for %s (%llu bytes)",
			      path, pretty_size(dev->size, have),
			      (unsigned long long)dev->size,
			      pretty_size(byte_count, want),
			      (unsigned long long)byte_count);
			return -1;
		}
		dev->size = byte_count;
	}
	return 0;
}

int mkfs_open_devices(char **paths, int nr, bool force, uint64_t byte_count,
		      struct mkfs_device *devs)
{
	struct stat *sts;
	int i, ret = 0;

	sts = calloc(nr, sizeof(*sts));
	if (!sts) {
		error("not enough memory");
		return -1;
	}
	for (i = 0; i < nr; i++)
		devs[i].io = NULL;
	for (i = 0; i < nr && !ret; i++)
		ret = check_device(paths, i, force, sts);
	for (i = 0; i < nr && !ret; i++)
		ret = prepare_device(paths[i], byte_count, &sts[i], &devs[i]);
	free(sts);
	if (ret)
		mkfs_close_devices(devs, nr);
	return ret;
}

int mkfs_close_devices(struct mkfs_device *devs, int nr)
{
	int i, ret = 0;

	for (i = 0; i < nr; i++) {
		if (devs[i].io) {
			int err = btrfs_io_close(devs[i].io);

			if (err && !ret) {
				error("closing %s failed: %s", devs[i].path,
				      strerror(-err));
				ret = -1;
			}
		}
		devs[i].io = NULL;
	}
	return ret;
}

/*
 * Read queue attribute @attr of the disk holding block device @io (a
 * partition's own directory has no queue/, its parent has).
 */
static int read_queue_attr(const struct mkfs_device *dev, const char *attr,
			   char *buf, size_t size)
{
	char path[128];

	if (!dev->is_bdev)
		return -1;
	snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/queue/%s",
		 dev->dev_major, dev->dev_minor, attr);
	if (!read_sysfs(path, buf, size))
		return 0;
	snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/../queue/%s",
		 dev->dev_major, dev->dev_minor, attr);
	return read_sysfs(path, buf, size);
}

bool mkfs_any_ssd(const struct mkfs_device *devs, int nr)
{
	char buf[16];
	int i;

	for (i = 0; i < nr; i++)
		if (!read_queue_attr(&devs[i], "rotational", buf,
				     sizeof(buf)) && strcmp(buf, "0") == 0)
			return true;
	return false;
}

/* Discard at most this much per ioctl, so a slow device still progresses. */
#define DISCARD_STEP (1ULL << 30)

void mkfs_discard_device(const struct mkfs_device *dev, int verbose)
{
	char buf[32], size[PRETTY_SIZE_LEN];
	uint64_t off, len;

	if (!dev->is_bdev ||
	    read_queue_attr(dev, "discard_max_bytes", buf, sizeof(buf)) ||
	    strtoull(buf, NULL, 10) == 0)
		return;
	if (verbose)
		printf("Performing full device TRIM %s (%s) ...\n", dev->path,
		       pretty_size(dev->size, size));
	for (off = 0; off < dev->size; off += len) {
		len = dev->size - off < DISCARD_STEP ? dev->size - off :
						       DISCARD_STEP;
		/* A device that refuses a discard keeps its old data: fine. */
		if (btrfs_io_discard(dev->io, off, len))
			break;
	}
}

static int found_fsid(const char *path, void *ctx)
{
	(void)path;
	(void)ctx;
	return 1;
}

bool mkfs_fsid_in_use(const uint8_t *fsid)
{
	return device_scan_for_fsid(fsid, found_fsid, NULL) == 1;
}
