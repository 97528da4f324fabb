// SPDX-License-Identifier: GPL-2.0
/*
 * btrfs restore: owner, mode, times and extended attributes; the progress
 * line; and whether a source device belongs to a mounted filesystem.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "cmds/restore/restore.h"
#include "cmds/restore/restore-sys.h"
#include "common/messages.h"
#include "common/utils.h"
#include "kernel-shared/dir-item.h"

/* Where to apply metadata: an open descriptor, or a name in a directory. */
struct meta_target {
	struct restore_ctx *ctx;
	int fd;			/* -1: use dir_fd + name */
	int dir_fd;
	const char *name;
	const char *path;
	int failed;
};

static int set_one_xattr(const char *name, size_t name_len,
			 const void *value, size_t value_len, void *priv)
{
	struct meta_target *t = priv;
	char cname[XATTR_NAME_MAX + 1];
	int ret;

	if (name_len > XATTR_NAME_MAX || memchr(name, '\0', name_len)) {
		warning("%s/%s: skipping an xattr with an invalid name",
			t->ctx->opts->dest, t->path);
		t->failed++;
		return 0;
	}
	memcpy(cname, name, name_len);
	cname[name_len] = '\0';
	if (t->fd >= 0) {
		ret = fsetxattr(t->fd, cname, value, value_len, 0);
	} else {
		/* no descriptor for symlinks and device nodes: go through
		 * the directory's descriptor, never following the name */
		char *full = NULL;

		ret = -1;
		if (asprintf(&full, "/proc/self/fd/%d/%s", t->dir_fd,
			     t->name) >= 0) {
			ret = lsetxattr(full, cname, value, value_len, 0);
			free(full);
		}
	}
	if (ret) {
		warning("%s/%s: cannot set xattr %s: %m", t->ctx->opts->dest,
			t->path, cname);
		t->failed++;
	}
	return 0;
}

static void set_times(struct meta_target *t,
		      const struct btrfs_inode_item *inode)
{
	int ret;

	ret = rsys_set_times(t->fd, t->dir_fd, t->name,
			     (int64_t)btrfs_stack_timespec_sec(&inode->atime),
			     btrfs_stack_timespec_nsec(&inode->atime),
			     (int64_t)btrfs_stack_timespec_sec(&inode->mtime),
			     btrfs_stack_timespec_nsec(&inode->mtime));
	if (ret) {
		warning("%s/%s: cannot set times: %s", t->ctx->opts->dest,
			t->path, strerror(-ret));
		t->failed++;
	}
}

static void set_owner(struct meta_target *t,
		      const struct btrfs_inode_item *inode)
{
	uid_t uid = btrfs_stack_inode_uid(inode);
	gid_t gid = btrfs_stack_inode_gid(inode);
	int ret;

	if (t->fd >= 0)
		ret = fchown(t->fd, uid, gid);
	else
		ret = fchownat(t->dir_fd, t->name, uid, gid,
			       AT_SYMLINK_NOFOLLOW);
	if (ret) {
		warning("%s/%s: cannot set owner %u:%u: %m",
			t->ctx->opts->dest, t->path, uid, gid);
		t->failed++;
	}
}

static void set_mode(struct meta_target *t,
		     const struct btrfs_inode_item *inode)
{
	u32 mode = btrfs_stack_inode_mode(inode);
	int ret;

	if ((mode & S_IFMT) == S_IFLNK)
		return;		/* symlinks have no mode of their own */
	ret = rsys_chmod(t->fd, t->dir_fd, t->name, mode & 07777);
	if (ret) {
		warning("%s/%s: cannot set mode %o: %s", t->ctx->opts->dest,
			t->path, mode & 07777, strerror(-ret));
		t->failed++;
	}
}

int restore_apply_meta(struct restore_ctx *ctx, struct btrfs_root *root,
		       u64 ino, const struct btrfs_inode_item *inode,
		       int dir_fd, const char *name, int fd, const char *path)
{
	struct meta_target t = { ctx, fd, dir_fd, name, path, 0 };
	int bad = 0;
	int ret;

	if (ctx->opts->metadata)
		set_owner(&t, inode);	/* first: it clears setuid bits */
	if (ctx->opts->xattrs) {
		ret = btrfs_iterate_xattrs(root, ino, set_one_xattr, &t, &bad,
					   restore_report_skip, ctx);
		if (ret < 0 || bad) {
			error("%s/%s: some xattrs cannot be read",
			      ctx->opts->dest, path);
			t.failed++;
		}
	}
	if (ctx->opts->metadata) {
		set_mode(&t, inode);
		set_times(&t, inode);
	}
	if (t.failed)
		ctx->st.errors++;
	return t.failed ? -1 : 0;
}

/* ------------------------------------------------------------------ */
/* Progress. */

double restore_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void restore_progress(struct restore_ctx *ctx, bool final)
{
	char size[PRETTY_SIZE_LEN], rate[PRETTY_SIZE_LEN];
	double now, elapsed;
	u64 bytes;

	if (!ctx->progress)
		return;
	now = restore_now();
	if (!final && now - ctx->last_progress < 0.5)
		return;
	if (final && ctx->last_progress == 0)
		return;		/* nothing shown: nothing to finish */
	ctx->last_progress = now;
	elapsed = now - ctx->start_time;
	bytes = __atomic_load_n(&ctx->st.bytes, __ATOMIC_RELAXED);
	pretty_size(bytes, size);
	pretty_size(elapsed > 0 ? (u64)((double)bytes / elapsed) : 0, rate);
	fprintf(stderr, "\rrestoring: %llu %s, %llu %s, %s, %s/s, %llu %s   %s",
		(unsigned long long)ctx->st.files,
		plural(ctx->st.files, "file", "files"),
		(unsigned long long)ctx->st.dirs,
		plural(ctx->st.dirs, "dir", "dirs"), size, rate,
		(unsigned long long)ctx->st.errors,
		plural(ctx->st.errors, "error", "errors"), final ? "\n" : "");
	fflush(stderr);
}
