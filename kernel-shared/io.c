// SPDX-License-Identifier: GPL-2.0
/*
 * The device interface and its bottom backend: a regular file or a block
 * device, read and written with pread/pwrite, flushed with fsync,
 * discarded with BLKDISCARD.  This file and io-faults.c / undo.c are the
 * only places that touch a device's file descriptor.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "kernel-shared/io.h"

struct file_io {
	struct btrfs_io io;
	int fd;
	char *path;
};

static struct file_io *to_file(struct btrfs_io *io)
{
	return (struct file_io *)io;
}

static ssize_t file_read(struct btrfs_io *io, void *buf, size_t len,
			 uint64_t off)
{
	ssize_t ret;

	do {
		ret = pread(to_file(io)->fd, buf, len, (off_t)off);
	} while (ret < 0 && errno == EINTR);
	return ret < 0 ? -errno : ret;
}

static ssize_t file_write(struct btrfs_io *io, const void *buf, size_t len,
			  uint64_t off)
{
	ssize_t ret;

	if (!io->writable)
		return -EBADF;
	do {
		ret = pwrite(to_file(io)->fd, buf, len, (off_t)off);
	} while (ret < 0 && errno == EINTR);
	if (ret == 0)
		return -EIO;
	return ret < 0 ? -errno : ret;
}

static int file_flush(struct btrfs_io *io)
{
	if (!io->writable)
		return 0;
	return fsync(to_file(io)->fd) ? -errno : 0;
}

static int file_discard(struct btrfs_io *io, uint64_t off, uint64_t len)
{
	uint64_t range[2] = { off, len };

	if (!io->is_bdev || !io->writable)
		return -EOPNOTSUPP;
	if (ioctl(to_file(io)->fd, BLKDISCARD, range) < 0)
		return errno == ENOTTY ? -EOPNOTSUPP : -errno;
	return 0;
}

static int file_close(struct btrfs_io *io)
{
	struct file_io *f = to_file(io);
	int ret = close(f->fd) ? -errno : 0;

	free(f->path);
	free(f);
	return ret;
}

static const struct btrfs_io_ops file_io_ops = {
	.read = file_read,
	.write = file_write,
	.flush = file_flush,
	.discard = file_discard,
	.close = file_close,
};

static int file_size(int fd, const struct stat *st, uint64_t *size)
{
	if (S_ISBLK(st->st_mode)) {
		uint64_t bytes = 0;

		if (ioctl(fd, BLKGETSIZE64, &bytes) < 0)
			return -errno;
		*size = bytes;
		return 0;
	}
	*size = (uint64_t)st->st_size;
	return 0;
}

static int open_file(const char *path, unsigned int flags,
		     struct btrfs_io **out)
{
	int oflags = ((flags & BTRFS_IO_WRITE) ? O_RDWR : O_RDONLY) | O_CLOEXEC;
	struct file_io *f;
	struct stat st;
	int fd, ret;

	/* Set on every path: the compiler cannot know -errno is never 0. */
	*out = NULL;
	if (stat(path, &st) < 0)
		return -errno;
	if (S_ISDIR(st.st_mode))
		return -EISDIR;
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
		return -ENODEV;
	if ((flags & BTRFS_IO_EXCL) && S_ISBLK(st.st_mode))
		oflags |= O_EXCL;
	fd = open(path, oflags);
	if (fd < 0)
		return -errno;
	f = calloc(1, sizeof(*f));
	if (!f || !(f->path = strdup(path))) {
		free(f);
		close(fd);
		return -ENOMEM;
	}
	ret = fstat(fd, &st) < 0 ? -errno : file_size(fd, &st, &f->io.size);
	if (ret)
		goto fail;
	f->fd = fd;
	f->io.ops = &file_io_ops;
	f->io.path = f->path;
	f->io.writable = flags & BTRFS_IO_WRITE;
	f->io.is_bdev = S_ISBLK(st.st_mode);
	if (f->io.is_bdev) {
		f->io.dev_major = major(st.st_rdev);
		f->io.dev_minor = minor(st.st_rdev);
	}
	*out = &f->io;
	return 0;
fail:
	free(f->path);
	free(f);
	close(fd);
	return ret;
}

int btrfs_io_open(const char *path, unsigned int flags, struct btrfs_io **io)
{
	static int faults_state;	/* 0 unknown, 1 none, 2 set up */
	struct btrfs_io *file = NULL;
	int ret;

	ret = open_file(path, flags, &file);
	if (ret)
		return ret;
	if (faults_state == 0) {
		const char *spec = getenv("BTRFS_IO_FAULTS");

		faults_state = 1;
		if (spec && *spec) {
			ret = btrfs_io_faults_setup(spec);
			if (ret) {
				btrfs_io_close(file);
				faults_state = 0;
				return ret;
			}
			faults_state = 2;
		}
	}
	if (faults_state == 2 && !(flags & BTRFS_IO_NO_FAULTS)) {
		ret = btrfs_io_faults_push(file, io);
		if (ret)
			btrfs_io_close(file);
		return ret;
	}
	*io = file;
	return 0;
}

int btrfs_io_close(struct btrfs_io *io)
{
	int ret = 0;

	while (io) {
		struct btrfs_io *lower = io->lower;
		int err = io->ops->close(io);

		if (!ret)
			ret = err;
		io = lower;
	}
	return ret;
}

static _Thread_local struct btrfs_io_error last_error;
static _Thread_local bool have_error;

static int record_error(const struct btrfs_io *io, const char *op,
			uint64_t off, uint64_t len, int err)
{
	last_error.op = op;
	snprintf(last_error.path, sizeof(last_error.path), "%s",
		 io->path ? io->path : "?");
	last_error.off = off;
	last_error.len = len;
	last_error.err = err;
	have_error = true;
	return err;
}

const struct btrfs_io_error *btrfs_io_last_error(void)
{
	return have_error ? &last_error : NULL;
}

void btrfs_io_clear_error(void)
{
	have_error = false;
}

int btrfs_io_pread(struct btrfs_io *io, void *buf, size_t len, uint64_t off)
{
	size_t done = 0;

	while (done < len) {
		ssize_t ret = io->ops->read(io, (uint8_t *)buf + done,
					    len - done, off + done);

		if (ret < 0)
			return record_error(io, "read", off, len, (int)ret);
		if (ret == 0) {
			memset((uint8_t *)buf + done, 0, len - done);
			return -ENODATA;
		}
		done += (size_t)ret;
	}
	return 0;
}

int btrfs_io_pwrite(struct btrfs_io *io, const void *buf, size_t len,
		    uint64_t off)
{
	size_t done = 0;

	while (done < len) {
		ssize_t ret = io->ops->write(io, (const uint8_t *)buf + done,
					     len - done, off + done);

		if (ret < 0)
			return record_error(io, "write", off, len, (int)ret);
		if (ret == 0)
			return record_error(io, "write", off, len, -EIO);
		done += (size_t)ret;
	}
	return 0;
}

int btrfs_io_flush(struct btrfs_io *io)
{
	int ret = io->ops->flush(io);

	return ret ? record_error(io, "flush", 0, 0, ret) : 0;
}

int btrfs_io_zero(struct btrfs_io *io, uint64_t off, uint64_t len)
{
	static const uint8_t zeros[65536];

	while (len) {
		size_t n = len < sizeof(zeros) ? (size_t)len : sizeof(zeros);
		int ret = btrfs_io_pwrite(io, zeros, n, off);

		if (ret)
			return ret;
		off += n;
		len -= n;
	}
	return 0;
}

struct btrfs_io *btrfs_io_bottom(struct btrfs_io *io)
{
	while (io->lower)
		io = io->lower;
	return io;
}

void btrfs_io_init_layer(struct btrfs_io *io, const struct btrfs_io_ops *ops,
			 struct btrfs_io *lower)
{
	io->ops = ops;
	io->lower = lower;
	io->path = lower->path;
	io->size = lower->size;
	io->writable = lower->writable;
	io->is_bdev = lower->is_bdev;
	io->dev_major = lower->dev_major;
	io->dev_minor = lower->dev_minor;
}
