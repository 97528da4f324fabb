/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The device interface: every byte any tool reads from or writes to a
 * device or image goes through a struct btrfs_io.  A handle is made by a
 * backend and backends stack: the file/block-device backend at the bottom,
 * then optionally the fault injector (tests) and the undo recorder
 * (undo.h) on top, each passing what it does not handle to ->lower.
 *
 * Plain C types only: the file backend needs <sys/stat.h> and <linux/fs.h>,
 * whose <linux/types.h> cannot be mixed with the engine headers, and this
 * header is included from both sides.
 */
#ifndef BTRFS_IO_H
#define BTRFS_IO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct btrfs_io;

struct btrfs_io_ops {
	/* Bytes read (0 at the end) or -errno; may be short. */
	ssize_t (*read)(struct btrfs_io *io, void *buf, size_t len,
			uint64_t off);
	/* Bytes written (> 0) or -errno; may be short. */
	ssize_t (*write)(struct btrfs_io *io, const void *buf, size_t len,
			 uint64_t off);
	/* Make every completed write durable. 0 or -errno. */
	int (*flush)(struct btrfs_io *io);
	/* Drop the contents of a range. 0, -EOPNOTSUPP, or -errno. */
	int (*discard)(struct btrfs_io *io, uint64_t off, uint64_t len);
	/* Release the backend's state (not ->lower). 0 or -errno. */
	int (*close)(struct btrfs_io *io);
};

struct btrfs_io {
	const struct btrfs_io_ops *ops;
	struct btrfs_io *lower;		/* the backend below, NULL at the bottom */
	const char *path;		/* for messages (owned by the bottom) */
	uint64_t size;			/* bytes of the device or image */
	bool writable;
	bool is_bdev;			/* a block device */
	unsigned int dev_major;		/* of a block device, for sysfs */
	unsigned int dev_minor;
};

/* Flags for btrfs_io_open(). */
#define BTRFS_IO_WRITE		(1U << 0)	/* open read-write */
#define BTRFS_IO_EXCL		(1U << 1)	/* a block device exclusively */
#define BTRFS_IO_NO_FAULTS	(1U << 2)	/* ignore BTRFS_IO_FAULTS */

/*
 * Open the regular file or block device @path.  Its size is taken from
 * BLKGETSIZE64 or the file length.  When the environment variable
 * BTRFS_IO_FAULTS is set (tests), the fault injector is stacked on top
 * (see btrfs_io_faults_setup()).  0 and *io set, or -errno: -EISDIR for a
 * directory, -ENODEV for anything else that is neither a file nor a block
 * device, -EBUSY when a block device is in use and EXCL was asked.
 */
int btrfs_io_open(const char *path, unsigned int flags, struct btrfs_io **io);

/* Close the whole stack from @io down. 0 or the first error. */
int btrfs_io_close(struct btrfs_io *io);

/*
 * Read exactly @len bytes at @off: 0, -ENODATA when the device ends before
 * (the part past the end is zeroed), or -errno (-EIO for a failed read).
 */
int btrfs_io_pread(struct btrfs_io *io, void *buf, size_t len, uint64_t off);

/* Write exactly @len bytes at @off: 0 or -errno (-EIO for a short write). */
int btrfs_io_pwrite(struct btrfs_io *io, const void *buf, size_t len,
		    uint64_t off);

/* Make every completed write of @io durable. 0 or -errno. */
int btrfs_io_flush(struct btrfs_io *io);

/* Discard [@off, +@len): -EOPNOTSUPP when the device cannot. */
static inline int btrfs_io_discard(struct btrfs_io *io, uint64_t off,
				   uint64_t len)
{
	return io->ops->discard(io, off, len);
}

/* Write zeros over [@off, +@len). 0 or -errno. */
int btrfs_io_zero(struct btrfs_io *io, uint64_t off, uint64_t len);

/*
 * The last failed btrfs_io_pread/pwrite/flush/zero of this thread, so that
 * a command can say which device and offset failed after the engine
 * returned only an errno.  op is "read", "write" or "flush"; err is
 * negative; path NULL when nothing failed since the last clear.  The path
 * is copied, so the record outlives the device.
 */
struct btrfs_io_error {
	const char *op;
	char path[256];
	uint64_t off;
	uint64_t len;
	int err;
};

const struct btrfs_io_error *btrfs_io_last_error(void);
void btrfs_io_clear_error(void);

/* The bottom of the stack (the file or block device itself). */
struct btrfs_io *btrfs_io_bottom(struct btrfs_io *io);

/*
 * For a stacking backend: fill @io as a layer over @lower (path, size and
 * kind copied from it).
 */
void btrfs_io_init_layer(struct btrfs_io *io, const struct btrfs_io_ops *ops,
			 struct btrfs_io *lower);

/* ------------------------------------------------------------------ */
/*
 * The fault injector, for tests.  One process-wide plan applies to every
 * device opened while it is set: operations are counted across all devices
 * (1-based), so "the 3rd write" is the 3rd write of the command.
 *
 *   fail-read=N     the Nth read fails with EIO
 *   fail-write=N    the Nth write fails with EIO (nothing written)
 *   eio=START+LEN   reads and writes touching byte range [START, START+LEN)
 *                   of any device fail with EIO
 *   short-write=N   the Nth write writes the first half of its 512-byte
 *                   sectors and returns the short count
 *   cut-flush=N     power cut at the Nth flush: it fails, and the writes
 *                   since each device's previous flush are lost, in a
 *                   subset (see lose=)
 *   cut-write=N     power cut right after the Nth write, likewise
 *   lose=all|none|random   which unflushed writes the cut loses (random:
 *                   each kept or lost by the seed; default)
 *   torn            a kept unflushed write may also be torn: only some of
 *                   its 512-byte sectors reach the device
 *   seed=S          the random choices (default 1)
 *   count           print "faults: R reads, W writes, F flushes" to stderr
 *                   at exit, so that a test can walk every cut point
 *
 * Once the power is cut every later operation of every device fails with
 * EIO, as if the machine stopped; "faults: power cut at ..." is printed to
 * stderr once.  Unflushed writes are held in memory until their device is
 * flushed (a write-back cache), and reads see them.  Items are separated
 * by commas.  -EINVAL for a spec that does not parse.
 */
int btrfs_io_faults_setup(const char *spec);

/* Stack the fault injector over @lower. 0 and *io set, or -ENOMEM. */
int btrfs_io_faults_push(struct btrfs_io *lower, struct btrfs_io **io);

/* Whether the simulated power cut has happened. */
bool btrfs_io_faults_cut(void);

#endif
