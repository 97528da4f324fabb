// SPDX-License-Identifier: GPL-2.0
/*
 * btrfs restore: file contents.
 *
 * Each EXTENT_DATA item of the inode is written at its file offset:
 * inline data (decompressed if needed), regular extents read in chunks and
 * checked against the csum tree (a bad sector is read from the other
 * copies), compressed extents read whole, checked, decompressed and cut to
 * the part the file uses.  Holes and preallocated ranges are not written at
 * all, and the file is finally truncated to its size, so they stay sparse
 * where the destination supports it.  Nothing is written past the inode's
 * size.
 *
 * The walking thread decodes the extent items and checks what it can;
 * reading, checking, decompressing and writing happen in jobs on the
 * worker threads of restore-pool.c (an inline extent, a compressed extent,
 * or one RESTORE_CHUNK of a regular extent per job).  The extents of a
 * healthy file never overlap, so the order in which jobs finish does not
 * matter.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmds/restore/restore.h"
#include "common/compression.h"
#include "common/messages.h"
#include "kernel-shared/disk-io.h"
#include "kernel-shared/file-item.h"
#include "kernel-shared/volumes.h"

/* Largest regular extent the kernel makes (BTRFS_MAX_EXTENT_SIZE). */
#define MAX_EXTENT_BYTES (128ULL * 1024 * 1024)

/* One file being restored; shared by its jobs. */
struct file_ctx {
	struct restore_ctx *ctx;
	u64 isize;
	bool nodatasum;
	int fd;
	const char *path;
	bool lost;		/* extent items were in an unreadable block */
	int ret;		/* first error, 0 when all is well (atomic) */
};

/* One piece of work: an extent, or one chunk of a regular extent. */
struct data_job {
	struct file_ctx *fc;
	struct btrfs_file_extent fe;	/* inline_data points at inline[] */
	u64 chunk;			/* regular: aligned disk start */
	u64 chunk_len;
	u8 inline_copy[];
};

static void file_skip(const struct btrfs_key *lo, const struct btrfs_key *hi,
		      u64 bytenr, int err, void *priv)
{
	struct file_ctx *fc = priv;

	fc->lost = true;
	restore_report_skip(lo, hi, bytenr, err, fc->ctx);
}

static int nr_workers(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n < 1 ? 1 : (int)min_t(long, n, 8);
}

int restore_data_init(struct restore_ctx *ctx)
{
	ctx->pool = restore_pool_start(ctx->opts->dry_run ? 0 : nr_workers(),
				       ctx->fs_info->sectorsize);
	return ctx->pool ? 0 : -ENOMEM;
}

void restore_data_free(struct restore_ctx *ctx)
{
	restore_pool_stop(ctx->pool);
	ctx->pool = NULL;
}

/* Record the first error of a file; 0 with -i (go on), else @err. */
static int fail(struct file_ctx *fc, int err)
{
	int zero = 0;

	__atomic_compare_exchange_n(&fc->ret, &zero, err, false,
				    __ATOMIC_RELAXED, __ATOMIC_RELAXED);
	return fc->ctx->opts->ignore_errors ? 0 : err;
}

static bool file_failed(struct file_ctx *fc)
{
	return __atomic_load_n(&fc->ret, __ATOMIC_RELAXED) != 0;
}

static void stop_walk(struct restore_ctx *ctx)
{
	if (!ctx->opts->ignore_errors)
		__atomic_store_n(&ctx->stop, true, __ATOMIC_RELAXED);
}

/* Write @len bytes at file offset @off, never past the size. */
static void write_out(struct file_ctx *fc, const u8 *data, u64 len, u64 off)
{
	struct restore_ctx *ctx = fc->ctx;

	if (off >= fc->isize)
		return;
	len = min_t(u64, len, fc->isize - off);
	while (len > 0) {
		ssize_t n = pwrite(fc->fd, data, len, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			error("cannot write %s/%s at offset %llu: %s",
			      ctx->opts->dest, fc->path,
			      (unsigned long long)off,
			      n < 0 ? strerror(errno) : "short write");
			stop_walk(ctx);
			fail(fc, -EIO);
			return;
		}
		data += n;
		len -= (u64)n;
		off += (u64)n;
		__atomic_add_fetch(&ctx->st.bytes, (u64)n, __ATOMIC_RELAXED);
	}
}

/*
 * Fill w->csums / w->have for [@bytenr, +@len), or return NULL when the
 * data has no checksums to check (nodatasum, no csum tree, or the csum
 * tree cannot be read there: then a warning says so).
 */
static const u8 *get_csums(struct file_ctx *fc, struct restore_worker *w,
			   u64 bytenr, u64 len)
{
	struct restore_ctx *ctx = fc->ctx;
	int ret;

	if (fc->nodatasum || !ctx->fs_info->csum_root)
		return NULL;
	ret = btrfs_lookup_data_csums(ctx->fs_info, bytenr, len, w->csums,
				      w->have);
	if (ret < 0) {
		warning("cannot read the checksums of %s/%s at disk bytenr %llu: %s; data not verified",
			ctx->opts->dest, fc->path,
			(unsigned long long)bytenr, strerror(-ret));
		return NULL;
	}
	return ret > 0 ? w->csums : NULL;
}

/*
 * Say in @why why the sector at @logical is bad on every copy: where each
 * copy that cannot be read lies (beyond the end of a truncated device, on a
 * missing device), else that it fails its checksum or cannot be read.
 * Returns whether some copy lies on a device (its bytes were kept).
 */
static bool explain_bad(struct btrfs_fs_info *fs_info, u64 logical,
			bool verified, char *why, size_t size)
{
	u32 ss = fs_info->sectorsize;
	int copies = btrfs_num_copies(fs_info, logical);
	bool on_device = false, away = false;
	size_t used = 0;
	int m;

	why[0] = 0;
	for (m = 1; m <= copies; m++) {
		u64 devid;
		enum btrfs_copy_place place = btrfs_copy_place(fs_info, logical,
							       ss, m, &devid);
		const char *what;

		if (place == BTRFS_COPY_MISSING)
			what = "is on missing device";
		else if (place == BTRFS_COPY_PAST_END)
			what = "lies beyond the end of device";
		else {
			on_device = true;
			continue;
		}
		away = true;
		if (used >= size)
			continue;
		if (copies > 1)
			used += (size_t)snprintf(why + used, size - used,
						 "%scopy %d ", used ? ", " : "",
						 m);
		if (used < size)
			used += (size_t)snprintf(why + used, size - used,
						 "%s %llu", what,
						 (unsigned long long)devid);
	}
	if (!away) {
		snprintf(why, size, "%s on every copy",
			 verified ? "fails its checksum" : "cannot be read");
		return true;
	}
	if (on_device && used < size)
		snprintf(why + used, size - used, ", %s on the other%s",
			 verified ? "fails its checksum" : "cannot be read",
			 copies > 2 ? "s" : "");
	return on_device;
}

/*
 * Read and verify [@bytenr, +@len) into @buf.  0, or <0 when the data is
 * bad on every copy (reported; with -i the bytes read are kept and 0 is
 * returned).
 */
static int read_checked(struct file_ctx *fc, struct restore_worker *w,
			u64 bytenr, u64 len, u8 *buf, u64 file_off)
{
	struct restore_ctx *ctx = fc->ctx;
	struct btrfs_data_read_result res;
	const u8 *csums = get_csums(fc, w, bytenr, len);
	int ret;

	ret = btrfs_read_data_verified(ctx->fs_info, bytenr, len, buf, csums,
				       csums ? w->have : NULL, &res);
	if (res.nr_repaired) {
		__atomic_add_fetch(&ctx->st.repaired, res.nr_repaired,
				   __ATOMIC_RELAXED);
		if (ctx->opts->verbose)
			printf("%s/%s: %llu %s read from another copy\n",
			       ctx->opts->dest, fc->path,
			       (unsigned long long)res.nr_repaired,
			       plural(res.nr_repaired, "sector", "sectors"));
	}
	if (ret == -EIO) {
		char why[256];
		bool readable = explain_bad(ctx->fs_info, bytenr + res.first_bad,
					    !!csums, why, sizeof(why));

		error("%s/%s: data at file offset %llu (disk bytenr %llu, %llu %s) %s%s",
		      ctx->opts->dest, fc->path,
		      (unsigned long long)(file_off + res.first_bad),
		      (unsigned long long)(bytenr + res.first_bad),
		      (unsigned long long)res.nr_bad,
		      plural(res.nr_bad, "sector", "sectors"), why,
		      !ctx->opts->ignore_errors ? "" :
		      readable ? "; written as read" : "; written as zeros");
		return fail(fc, -EIO);
	}
	if (ret) {
		error("%s/%s: cannot read disk bytenr %llu: %s", ctx->opts->dest,
		      fc->path, (unsigned long long)bytenr, strerror(-ret));
		return fail(fc, ret);
	}
	return 0;
}

static void restore_inline(struct file_ctx *fc, struct restore_worker *w,
			   const struct btrfs_file_extent *fe)
{
	struct restore_ctx *ctx = fc->ctx;
	u64 need = min_t(u64, fe->ram_bytes, fc->isize - fe->file_offset);
	ssize_t got;

	if (fe->compression == BTRFS_COMPRESS_NONE) {
		write_out(fc, fe->inline_data, fe->inline_len, fe->file_offset);
		return;
	}
	got = btrfs_decompress(w->ws, fe->compression, fe->inline_data,
			       fe->inline_len, w->buf, fe->ram_bytes,
			       ctx->fs_info->sectorsize);
	if (got < 0 || (u64)got < need) {
		error("%s/%s: cannot decompress the inline %s extent: %s",
		      ctx->opts->dest, fc->path,
		      btrfs_compress_type_name(fe->compression),
		      got < 0 ? strerror(-(int)got) : "data ends early");
		fail(fc, -EUCLEAN);
		return;
	}
	write_out(fc, w->buf, need, fe->file_offset);
}

static void restore_compressed(struct file_ctx *fc, struct restore_worker *w,
			       const struct btrfs_file_extent *fe)
{
	struct restore_ctx *ctx = fc->ctx;
	u64 need = min_t(u64, fe->num_bytes, fc->isize - fe->file_offset);
	ssize_t got;

	if (read_checked(fc, w, fe->disk_bytenr, fe->disk_num_bytes, w->rbuf,
			 fe->file_offset))
		return;
	got = btrfs_decompress(w->ws, fe->compression, w->rbuf,
			       fe->disk_num_bytes, w->buf, fe->ram_bytes,
			       ctx->fs_info->sectorsize);
	if (got < 0 || (u64)got < fe->offset + need) {
		error("%s/%s: cannot decompress the %s extent at file offset %llu (disk bytenr %llu): %s",
		      ctx->opts->dest, fc->path,
		      btrfs_compress_type_name(fe->compression),
		      (unsigned long long)fe->file_offset,
		      (unsigned long long)fe->disk_bytenr,
		      got < 0 ? strerror(-(int)got) : "data ends early");
		if (fail(fc, -EUCLEAN) || got < 0)
			return;		/* with -i: left as a hole */
		memset(w->buf + got, 0, fe->offset + need - (u64)got);
	}
	write_out(fc, w->buf + fe->offset, need, fe->file_offset);
}

/* One chunk [@cur, +@len) (aligned disk range) of a regular extent. */
static void restore_plain_chunk(struct file_ctx *fc, struct restore_worker *w,
				const struct btrfs_file_extent *fe, u64 cur,
				u64 len)
{
	u64 need = min_t(u64, fe->num_bytes, fc->isize - fe->file_offset);
	u64 start = fe->disk_bytenr + fe->offset;
	u64 from = max_t(u64, cur, start);
	u64 to = min_t(u64, cur + len, start + need);

	if (read_checked(fc, w, cur, len, w->buf,
			 cur > start ? fe->file_offset + (cur - start) :
				       fe->file_offset))
		return;
	write_out(fc, w->buf + (from - cur), to - from,
		  fe->file_offset + (from - start));
}

static void run_job(void *arg, struct restore_worker *w)
{
	struct data_job *job = arg;
	struct file_ctx *fc = job->fc;

	if (!__atomic_load_n(&fc->ctx->stop, __ATOMIC_RELAXED) &&
	    (!file_failed(fc) || fc->ctx->opts->ignore_errors)) {
		if (job->fe.type == BTRFS_FILE_EXTENT_INLINE)
			restore_inline(fc, w, &job->fe);
		else if (job->fe.compression != BTRFS_COMPRESS_NONE)
			restore_compressed(fc, w, &job->fe);
		else
			restore_plain_chunk(fc, w, &job->fe, job->chunk,
					    job->chunk_len);
	}
	free(job);
}

/* Queue a job for @fe (with @extra bytes of inline data). */
static int queue_job(struct file_ctx *fc, const struct btrfs_file_extent *fe,
		     u64 chunk, u64 chunk_len)
{
	u32 extra = fe->type == BTRFS_FILE_EXTENT_INLINE ? fe->inline_len : 0;
	struct data_job *job = malloc(sizeof(*job) + extra);

	if (!job) {
		error("not enough memory");
		__atomic_store_n(&fc->ctx->stop, true, __ATOMIC_RELAXED);
		return fail(fc, -ENOMEM);
	}
	job->fc = fc;
	job->fe = *fe;
	job->chunk = chunk;
	job->chunk_len = chunk_len;
	if (extra) {
		memcpy(job->inline_copy, fe->inline_data, extra);
		job->fe.inline_data = job->inline_copy;
	}
	restore_pool_submit(fc->ctx->pool, run_job, job);
	return 0;
}

static bool compressed_extent_sane(const struct file_ctx *fc,
				   const struct btrfs_file_extent *fe, u64 need)
{
	u32 ss = fc->ctx->fs_info->sectorsize;

	return fe->disk_num_bytes > 0 &&
	       fe->disk_num_bytes <= BTRFS_MAX_COMPRESSED_BYTES &&
	       IS_ALIGNED(fe->disk_num_bytes, (u64)ss) &&
	       fe->ram_bytes <= BTRFS_MAX_UNCOMPRESSED_BYTES &&
	       fe->offset <= fe->ram_bytes &&
	       need <= fe->ram_bytes - fe->offset;
}

static int malformed(struct file_ctx *fc, const struct btrfs_file_extent *fe,
		     const char *what)
{
	error("%s/%s: malformed %s at file offset %llu", fc->ctx->opts->dest,
	      fc->path, what, (unsigned long long)fe->file_offset);
	return fail(fc, -EUCLEAN);
}

static int queue_inline(struct file_ctx *fc, const struct btrfs_file_extent *fe)
{
	if (fe->compression != BTRFS_COMPRESS_NONE &&
	    fe->ram_bytes > BTRFS_MAX_UNCOMPRESSED_BYTES)
		return malformed(fc, fe, "inline extent (uncompressed size)");
	return queue_job(fc, fe, 0, 0);
}

static int queue_compressed(struct file_ctx *fc,
			    const struct btrfs_file_extent *fe)
{
	u64 need = min_t(u64, fe->num_bytes, fc->isize - fe->file_offset);

	if (!compressed_extent_sane(fc, fe, need))
		return malformed(fc, fe, "compressed extent");
	return queue_job(fc, fe, 0, 0);
}

static int queue_plain(struct file_ctx *fc, const struct btrfs_file_extent *fe)
{
	u32 ss = fc->ctx->fs_info->sectorsize;
	u64 need = min_t(u64, fe->num_bytes, fc->isize - fe->file_offset);
	u64 start = fe->disk_bytenr + fe->offset;
	u64 astart = round_down(start, (u64)ss);
	u64 aend = round_up(start + need, (u64)ss);
	u64 cur;
	int ret;

	/* a regular extent is at most 128 MiB and the file uses part of it */
	if (start < fe->disk_bytenr || aend < astart ||
	    fe->disk_num_bytes > MAX_EXTENT_BYTES ||
	    fe->offset > fe->disk_num_bytes ||
	    need > fe->disk_num_bytes - fe->offset)
		return malformed(fc, fe, "extent");
	for (cur = astart; cur < aend; cur += RESTORE_CHUNK) {
		if (fc->ctx->stop ||
		    (file_failed(fc) && !fc->ctx->opts->ignore_errors))
			return -EINTR;
		ret = queue_job(fc, fe, cur, min_t(u64, RESTORE_CHUNK,
						   aend - cur));
		if (ret)
			return ret;
		restore_progress(fc->ctx, false);
	}
	return 0;
}

static int extent_cb(const struct btrfs_file_extent *fe, void *priv)
{
	struct file_ctx *fc = priv;
	struct restore_ctx *ctx = fc->ctx;

	if (ctx->stop || (file_failed(fc) && !ctx->opts->ignore_errors))
		return -EINTR;
	if (fe->problem)
		return malformed(fc, fe, "extent item");
	if (fe->file_offset >= fc->isize)
		return 0;
	if (fe->encryption || fe->other_encoding ||
	    fe->compression > BTRFS_COMPRESS_ZSTD) {
		error("%s/%s: extent at file offset %llu uses an unsupported encoding (compression %u, encryption %u)",
		      ctx->opts->dest, fc->path,
		      (unsigned long long)fe->file_offset, fe->compression,
		      fe->encryption);
		return fail(fc, -EOPNOTSUPP);
	}
	if (fe->type == BTRFS_FILE_EXTENT_INLINE)
		return queue_inline(fc, fe);
	if (fe->type == BTRFS_FILE_EXTENT_PREALLOC || fe->disk_bytenr == 0)
		return 0;	/* zeros: left as a hole */
	if (fe->compression != BTRFS_COMPRESS_NONE)
		return queue_compressed(fc, fe);
	return queue_plain(fc, fe);
}

int restore_file_data(struct restore_ctx *ctx, struct btrfs_root *root,
		      u64 ino, u64 isize, u64 iflags, int fd, const char *path)
{
	struct file_ctx fc = {
		.ctx = ctx, .isize = isize,
		.nodatasum = iflags & BTRFS_INODE_NODATASUM, .fd = fd,
		.path = path,
	};
	int ret;

	ret = btrfs_iterate_file_extents(root, ino, 0, extent_cb, &fc,
					 file_skip, &fc);
	restore_pool_wait(ctx->pool);
	if (ret < 0 && ret != -EINTR && !fc.ret) {
		error("%s/%s: cannot list the extents: %s", ctx->opts->dest,
		      path, strerror(-ret));
		fc.ret = ret;
	}
	if (fc.lost && !fc.ret) {
		error("%s/%s: part of its extent list was in an unreadable block",
		      ctx->opts->dest, path);
		fc.ret = -EIO;
	}
	if (isize > (u64)INT64_MAX || ftruncate(fd, (off_t)isize)) {
		bool too_big = isize > (u64)INT64_MAX || errno == EINVAL ||
			       errno == EFBIG;

		/* an absurd size comes from the source, not the destination */
		error("cannot set the size of %s/%s to %llu: %s",
		      ctx->opts->dest, path, (unsigned long long)isize,
		      too_big ? "file too large" : strerror(errno));
		if (!too_big)
			stop_walk(ctx);
		if (!fc.ret)
			fc.ret = -EIO;
	}
	return fc.ret;
}

/* ------------------------------------------------------------------ */
/* Symlink targets: an inline extent at offset 0. */

struct link_ctx {
	struct restore_ctx *ctx;
	char *target;
	u64 len;
	int ret;
};

static int symlink_cb(const struct btrfs_file_extent *fe, void *priv)
{
	struct link_ctx *lc = priv;
	struct restore_ctx *ctx = lc->ctx;
	ssize_t got;

	if (fe->problem || fe->file_offset != 0 ||
	    fe->type != BTRFS_FILE_EXTENT_INLINE) {
		lc->ret = -EUCLEAN;
		return 1;
	}
	if (fe->compression == BTRFS_COMPRESS_NONE) {
		if (fe->inline_len < lc->len) {
			lc->ret = -EUCLEAN;
			return 1;
		}
		memcpy(lc->target, fe->inline_data, lc->len);
		lc->ret = 0;
		return 1;
	}
	got = btrfs_decompress(restore_pool_local(ctx->pool)->ws,
			       fe->compression, fe->inline_data,
			       fe->inline_len, lc->target, lc->len,
			       ctx->fs_info->sectorsize);
	lc->ret = got == (ssize_t)lc->len ? 0 : -EUCLEAN;
	return 1;
}

char *restore_read_symlink(struct restore_ctx *ctx, struct btrfs_root *root,
			   u64 ino, u64 isize, const char *path)
{
	struct link_ctx lc = { .ctx = ctx, .len = isize, .ret = -ENOENT };

	if (isize == 0 || isize >= 4096) {
		error("%s/%s: symlink target length %llu is invalid",
		      ctx->opts->dest, path, (unsigned long long)isize);
		return NULL;
	}
	lc.target = calloc(1, isize + 1);
	if (!lc.target)
		return NULL;
	btrfs_iterate_file_extents(root, ino, 0, symlink_cb, &lc,
				   restore_report_skip, ctx);
	if (!lc.ret && memchr(lc.target, '\0', isize))
		lc.ret = -EUCLEAN;
	if (lc.ret) {
		error("%s/%s: cannot read the symlink target: %s",
		      ctx->opts->dest, path, strerror(-lc.ret));
		free(lc.target);
		return NULL;
	}
	return lc.target;
}
