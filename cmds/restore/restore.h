/* SPDX-License-Identifier: GPL-2.0 */
/*
 * btrfs restore: shared state of the command's files.
 *
 * restore.c        options, opening the filesystem, choosing the tree, -l
 * restore-walk.c   the directory walk: names, filters, creating entries
 * restore-data.c   file contents: every extent kind, checksums, mirrors
 * restore-pool.c   worker threads that read, check and write file data
 * restore-meta.c   owner / mode / times, xattrs, progress
 * restore-sys.c    calls that need <sys/stat.h>; the mounted-device check
 */
#ifndef BTRFS_CMDS_RESTORE_H
#define BTRFS_CMDS_RESTORE_H

#include <regex.h>
#include <stdbool.h>

#include "kernel-shared/ctree.h"

/* What the user asked for; filled by option parsing, then read-only. */
struct restore_opts {
	bool dry_run;		/* -D */
	bool ignore_errors;	/* -i */
	bool overwrite;		/* -o */
	bool metadata;		/* -m */
	bool symlinks;		/* -S */
	bool snapshots;		/* -s */
	bool xattrs;		/* -x */
	bool list_roots;	/* -l */
	bool find_dir;		/* -d */
	bool ignore_case;	/* -c */
	bool force;		/* --force: source may be mounted */
	bool noscan;		/* --noscan */
	int verbose;		/* -v, repeatable */
	int super_mirror;	/* -u */
	u64 root_id;		/* -r, 0: default */
	u64 tree_bytenr;	/* -t */
	u64 fs_bytenr;		/* -f */
	const char *path_regex;	/* --path-regex */
	char **includes;	/* --include, normalised (no leading '/') */
	int nr_includes;
	char **excludes;	/* --exclude, normalised */
	int nr_excludes;
	char **devices;
	int nr_devices;
	const char *dest;
};

struct restore_stats {
	u64 files;		/* regular files written (incomplete ones too) */
	u64 incomplete;		/* of them, written with errors (-i) */
	u64 skipped;		/* already in the destination, no -o */
	u64 dirs;
	u64 symlinks;
	u64 special;		/* fifos, sockets, device nodes */
	u64 hardlinks;		/* extra names made as links */
	u64 bytes;		/* file data bytes written */
	u64 errors;		/* things not (completely) restored */
	u64 bad_blocks;		/* tree blocks stepped over */
	u64 repaired;		/* data sectors read from another copy */
};

/* A (tree, inode) already restored, for hard links. */
struct restore_link {
	u64 root;
	u64 ino;
	char *path;		/* relative to the destination */
};

struct btrfs_decomp_ws;

/* Run state, one per run (no globals). */
struct restore_ctx {
	const struct restore_opts *opts;
	struct btrfs_fs_info *fs_info;
	int dest_fd;			/* -1 in a dry run */
	regex_t regex;
	bool have_regex;
	bool stop;			/* a fatal error: stop the walk */
	struct restore_stats st;

	/* file data workers (restore-pool.c, restore-data.c) */
	struct restore_pool *pool;

	/* hard links: open hash table keyed by (root, ino) */
	struct restore_link *links;
	size_t nr_links;
	size_t links_cap;		/* a power of two, or 0 */

	/* per --include: INCLUDE_MET, INCLUDE_IN_SKIPPED_SUBVOL bits */
	u8 *include_seen;

	/* tree blocks already reported as unreadable */
	u64 *bad_blocks;
	size_t nr_bad_blocks;
	size_t bad_blocks_cap;

	/* subvolumes on the walk's stack, to refuse loops */
	u64 root_stack[64];
	int root_depth;

	/* progress (restore-meta.c) */
	bool progress;			/* stderr is a terminal */
	double start_time;
	double last_progress;
};

#define INCLUDE_MET		0x1	/* the walk reached the path */
#define INCLUDE_IN_SKIPPED_SUBVOL 0x2	/* it is in a subvolume, no -s */

/* Read buffer size for uncompressed extents (a multiple of any sector). */
#define RESTORE_CHUNK (1024U * 1024)

/* restore-walk.c */
int restore_subvolume(struct restore_ctx *ctx, struct btrfs_root *root,
		      u64 dir_ino);
void restore_report_skip(const struct btrfs_key *lo, const struct btrfs_key *hi,
			 u64 bytenr, int err, void *ctx);
void restore_links_free(struct restore_ctx *ctx);
/* After the walk: warn about each --include that restored nothing. */
void restore_warn_includes(const struct restore_ctx *ctx);

/* restore-pool.c */

/* Buffers and state of one worker thread (or of the walking thread). */
struct restore_worker {
	struct btrfs_decomp_ws *ws;
	u8 *rbuf;		/* BTRFS_MAX_COMPRESSED_BYTES: raw compressed */
	u8 *buf;		/* RESTORE_CHUNK: data to write */
	u8 *csums;		/* checksums of RESTORE_CHUNK bytes */
	u8 *have;
};

struct restore_pool;
typedef void (*restore_job_fn)(void *arg, struct restore_worker *w);

/*
 * Start up to @nr_threads workers (0: none, jobs then run on the caller's
 * thread).  NULL when out of memory.
 */
struct restore_pool *restore_pool_start(int nr_threads, u32 sectorsize);
/* Finish the queued jobs, stop the threads, free everything. */
void restore_pool_stop(struct restore_pool *pool);
/* Queue @fn(@arg, worker); waits while the queue is full. */
void restore_pool_submit(struct restore_pool *pool, restore_job_fn fn,
			 void *arg);
/* Wait until every submitted job has run. */
void restore_pool_wait(struct restore_pool *pool);
/* The buffers for work done on the walking thread itself. */
struct restore_worker *restore_pool_local(struct restore_pool *pool);

/* restore-data.c */
int restore_data_init(struct restore_ctx *ctx);
void restore_data_free(struct restore_ctx *ctx);
/*
 * Write the contents of inode @ino (size @isize, inode flags @iflags) of
 * @root to @fd.  0 when all of it was restored; <0 after reporting why
 * (the file is then incomplete).
 */
int restore_file_data(struct restore_ctx *ctx, struct btrfs_root *root,
		      u64 ino, u64 isize, u64 iflags, int fd, const char *path);
/* The target of symlink @ino into a new string (free it); NULL on error. */
char *restore_read_symlink(struct restore_ctx *ctx, struct btrfs_root *root,
			   u64 ino, u64 isize, const char *path);

/* restore-meta.c */
/* Apply owner, mode, times (-m) and xattrs (-x) to @name in @dir_fd. */
int restore_apply_meta(struct restore_ctx *ctx, struct btrfs_root *root,
		       u64 ino, const struct btrfs_inode_item *inode,
		       int dir_fd, const char *name, int fd, const char *path);
void restore_progress(struct restore_ctx *ctx, bool final);
double restore_now(void);

#endif
