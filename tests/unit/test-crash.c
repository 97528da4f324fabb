// SPDX-License-Identifier: GPL-2.0
/*
 * Crash safety of the write path, printed as TAP.
 *
 * Engine write workloads, each on a fresh copy of an image made by the
 * reference mkfs.btrfs (by ours for the block-group tree, which the
 * reference 6.2 makes only when built experimental):
 *   xattrs      transactions of xattr inserts and deletes on the FS tree;
 *   chunk       metadata used up until the allocator makes a chunk (chunk
 *               tree, dev extents, block group item, free-space tree),
 *               then inserts that land in it;
 *   bg-tree     the xattrs with the block-group tree;
 *   snapshot    a snapshot of the FS tree between changes to both trees;
 *   raid1       the xattrs on two devices, RAID1 data and metadata.
 *
 * Each runs once through a counting layer, which gives the numbers of
 * writes W and flushes F and, for every commit, the write and flush
 * counts at its end and at its first (primary) superblock write, its
 * generation and a digest of every tree's keys and xattrs.  Then it runs
 * again through the fault injector with a power cut at every flush
 * point 1..F (lose=all, lose=none, lose=random,torn with three seeds) and
 * at a sample of the write points, every superblock write among them
 * (lose=random,torn with the point as the seed, and 3 more seeds at the
 * superblock writes; lose=all and lose=none), and after each:
 * - the workload stopped with an error (and no sanitizer report);
 * - the image opens read-only from the primary superblock, with the
 *   generation of the last durable commit or, when the cut came after
 *   the next commit's primary superblock was sent, that one (lose=all:
 *   never; lose=none at a flush past it: always), and its digest equals
 *   the one recorded for it;
 * - the image opens for writing, and verify_fs and verify_chunks
 *   (unit-verify.h: references derived from the trees, block group and
 *   super accounting, free-space tree, csums; chunks against block
 *   groups, dev extents, dev items and the sys_chunk_array) pass;
 * - our btrfs check and the reference btrfs check pass;
 * - on every 4th state, as root, the kernel mounts the image, a file is
 *   written, it unmounts, and the reference check passes again.
 *
 * The same sampled write points also fail with EIO without a cut: the
 * commit must abort and leave the last commit (or the next, when a
 * primary superblock was written before the failing write), judged the
 * same.
 *
 * A primary superblock torn by the model (its 512-byte sectors reached
 * the device in part) fails its checksum.  No order of writes prevents
 * that, and the documented way out is "btrfs rescue super-recover", so
 * such states are counted, the primary is restored from a mirror with the
 * reference tool, and then they are judged like all the others; when no
 * copy of a device survived, the state fails.
 *
 * CRASH_STRIDE=N samples every Nth write point of every workload instead,
 * CRASH_SEEDS=N cuts each flush point with N random seeds instead of 3;
 * CRASH_ONLY=NAME runs only that workload.
 */
/* csum.h (btrfs_name_hash) declares an enum whose names format.h also
 * #defines: include it first. */
#include "common/csum.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kernel-shared/ctree.h"
#include "kernel-shared/disk-io.h"
#include "kernel-shared/extent-tree.h"
#include "kernel-shared/io.h"
#include "kernel-shared/snapshot.h"
#include "kernel-shared/transaction.h"
#include "tests/unit/unit-util.h"
#include "tests/unit/unit-verify.h"

#define XATTR_INO 256ULL
#define MAX_DEVS 2
#define MAX_COMMITS 8
#define SNAP_ID 256ULL
#define SUPER_SEEDS 3		/* extra torn cuts at each superblock write */

static char btrfs_bin[1024];
static char our_mkfs[1100];
static char workdir[] = "/tmp/test-crash.XXXXXX";

/* ------------------------------------------------------------------ */
/* A counting layer: writes and flushes, as the fault injector counts. */

struct commit_rec {
	u64 gen;
	u64 digest;
	u64 writes_end;		/* writes when the commit returned */
	u64 flushes_end;
	u64 first_super_write;	/* index of its first superblock write */
	/*
	 * Of its first primary superblock write, which decides what the
	 * kernel (and an open of copy 0) finds: the index, and the flushes
	 * before it.
	 */
	u64 first_primary_write;
	u64 flushes_before_primary;
};

static struct {
	bool on;
	u64 writes, flushes;
	int nr;			/* commits done (rec[1..nr]); rec[0] the start */
	struct commit_rec rec[MAX_COMMITS + 1];
	bool super_seen;	/* by the commit running */
	bool primary_seen;
} cnt;

static bool is_super_offset(uint64_t off)
{
	for (int i = 0; i < 3; i++)
		if (off == btrfs_sb_offset(i))
			return true;
	return false;
}

static ssize_t cnt_read(struct btrfs_io *io, void *buf, size_t len,
			uint64_t off)
{
	return io->lower->ops->read(io->lower, buf, len, off);
}

static ssize_t cnt_write(struct btrfs_io *io, const void *buf, size_t len,
			 uint64_t off)
{
	cnt.writes++;
	if (is_super_offset(off) && !cnt.super_seen &&
	    cnt.nr < MAX_COMMITS) {
		cnt.super_seen = true;
		cnt.rec[cnt.nr + 1].first_super_write = cnt.writes;
	}
	if (off == btrfs_sb_offset(0) && !cnt.primary_seen &&
	    cnt.nr < MAX_COMMITS) {
		cnt.primary_seen = true;
		cnt.rec[cnt.nr + 1].first_primary_write = cnt.writes;
		cnt.rec[cnt.nr + 1].flushes_before_primary = cnt.flushes;
	}
	return io->lower->ops->write(io->lower, buf, len, off);
}

static int cnt_flush(struct btrfs_io *io)
{
	cnt.flushes++;
	return io->lower->ops->flush(io->lower);
}

static int cnt_discard(struct btrfs_io *io, uint64_t off, uint64_t len)
{
	return io->lower->ops->discard(io->lower, off, len);
}

static int cnt_close(struct btrfs_io *io)
{
	free(io);
	return 0;
}

static const struct btrfs_io_ops cnt_ops = {
	.read = cnt_read,
	.write = cnt_write,
	.flush = cnt_flush,
	.discard = cnt_discard,
	.close = cnt_close,
};

/* ------------------------------------------------------------------ */
/* What a generation holds: a digest of every tree's keys and xattrs. */

static u64 fnv(u64 h, const void *p, size_t len)
{
	const u8 *b = p;

	for (size_t i = 0; i < len; i++) {
		h ^= b[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

static u64 digest_tree(struct btrfs_root *root, u64 h)
{
	struct btrfs_key key = { 0, 0, 0 };
	struct btrfs_path *path = btrfs_alloc_path();
	int ret;

	ret = btrfs_search_slot_for_read(root, &key, path);
	while (ret == 0) {
		struct extent_buffer *leaf = path->nodes[0];
		int slot = path->slots[0];
		u64 k[3];

		btrfs_item_key_to_cpu(leaf, &key, slot);
		k[0] = key.objectid;
		k[1] = key.type;
		k[2] = key.offset;
		h = fnv(h, k, sizeof(k));
		if (key.type == BTRFS_XATTR_ITEM_KEY) {
			u32 size = btrfs_item_size(leaf, slot);
			u8 *buf = xrealloc(NULL, size);

			read_extent_buffer(leaf, buf, (unsigned long)
				((u8 *)btrfs_item_ptr_raw(leaf, slot) -
				 leaf->data), size);
			/* Not the transid: the same bytes in any run. */
			h = fnv(h, buf + sizeof(struct btrfs_dir_item),
				size - sizeof(struct btrfs_dir_item));
			free(buf);
		}
		ret = btrfs_next_item(root, path);
	}
	btrfs_free_path(path);
	return ret < 0 ? 0 : h;
}

/*
 * The root and chunk trees and every tree of a ROOT_ITEM but the uuid
 * tree (its keys are random uuids).  Keys and xattrs only: root items,
 * inodes and snapshots hold times and uuids that differ between runs.
 */
static u64 digest_fs(struct btrfs_fs_info *fs)
{
	struct btrfs_key key = { 0, BTRFS_ROOT_ITEM_KEY, 0 };
	struct btrfs_path *path = btrfs_alloc_path();
	u64 h = 0xcbf29ce484222325ULL;
	int ret;

	h = digest_tree(fs->tree_root, h);
	h = digest_tree(fs->chunk_root, h);
	ret = btrfs_search_slot_for_read(fs->tree_root, &key, path);
	while (ret == 0) {
		btrfs_item_key_to_cpu(path->nodes[0], &key, path->slots[0]);
		if (key.type == BTRFS_ROOT_ITEM_KEY &&
		    key.objectid != BTRFS_UUID_TREE_OBJECTID) {
			struct btrfs_key loc = key;
			struct btrfs_root *root = btrfs_read_tree_root(fs, &loc);

			if (IS_ERR(root)) {
				h = 0;
				break;
			}
			h = fnv(h, &key.objectid, sizeof(key.objectid));
			h = digest_tree(root, h);
			btrfs_free_root(root);
		}
		ret = btrfs_next_item(fs->tree_root, path);
	}
	btrfs_free_path(path);
	return ret < 0 ? 0 : h;
}

/* ------------------------------------------------------------------ */
/* The workloads. */

static u8 val_byte(u32 n, u32 i)
{
	u64 v = ((u64)n << 32 | i) * 0x9e3779b97f4a7c15ULL;

	return (u8)(v >> 56);
}

static int set_xattr(struct btrfs_trans_handle *trans, struct btrfs_root *root,
		     u32 n, u32 len)
{
	struct btrfs_key key = { XATTR_INO, BTRFS_XATTR_ITEM_KEY, 0 };
	struct btrfs_dir_item *di;
	char name[32];
	u32 nlen, size;
	u8 *buf;
	int ret;

	nlen = (u32)snprintf(name, sizeof(name), "user.crash%u", n);
	key.offset = btrfs_name_hash(name, nlen);
	size = (u32)sizeof(*di) + nlen + len;
	buf = xrealloc(NULL, size);
	memset(buf, 0, size);
	di = (struct btrfs_dir_item *)buf;
	btrfs_set_stack_dir_transid(di, trans->transid);
	btrfs_set_stack_dir_data_len(di, (u16)len);
	btrfs_set_stack_dir_name_len(di, (u16)nlen);
	btrfs_set_stack_dir_flags(di, BTRFS_FT_XATTR);
	memcpy(buf + sizeof(*di), name, nlen);
	for (u32 i = 0; i < len; i++)
		buf[sizeof(*di) + nlen + i] = val_byte(n, i);
	ret = btrfs_insert_item(trans, root, &key, buf, size);
	free(buf);
	return ret == -EEXIST ? 0 : ret;
}

static int del_xattr(struct btrfs_trans_handle *trans, struct btrfs_root *root,
		     u32 n)
{
	struct btrfs_key key = { XATTR_INO, BTRFS_XATTR_ITEM_KEY, 0 };
	struct btrfs_path *path = btrfs_alloc_path();
	char name[32];
	u32 nlen;
	int ret;

	nlen = (u32)snprintf(name, sizeof(name), "user.crash%u", n);
	key.offset = btrfs_name_hash(name, nlen);
	ret = btrfs_search_slot(trans, root, &key, path, -1, 1);
	if (ret == 0)
		ret = btrfs_del_item(trans, root, path);
	else if (ret > 0)
		ret = 0;
	btrfs_free_path(path);
	return ret;
}

/* Record a commit (counting run only). */
static void note_commit(struct btrfs_fs_info *fs)
{
	struct commit_rec *r;

	if (!cnt.on || cnt.nr == MAX_COMMITS)
		return;
	r = &cnt.rec[++cnt.nr];
	r->gen = btrfs_super_generation(&fs->super_copy);
	r->writes_end = cnt.writes;
	r->flushes_end = cnt.flushes;
	if (!cnt.super_seen)
		r->first_super_write = ~0ULL;
	if (!cnt.primary_seen)
		r->first_primary_write = r->flushes_before_primary = ~0ULL;
	cnt.super_seen = cnt.primary_seen = false;
	r->digest = digest_fs(fs);
}

static int commit(struct btrfs_trans_handle *trans)
{
	struct btrfs_fs_info *fs = trans->fs_info;
	int ret = btrfs_commit_transaction(trans);

	if (!ret)
		note_commit(fs);
	return ret;
}

/* Insert xattrs [from, to) with values of @min + up to @spread bytes. */
static int insert_range(struct btrfs_trans_handle *trans,
			struct btrfs_root *root, u32 from, u32 to, u32 min,
			u32 spread)
{
	int ret = 0;

	for (u32 n = from; n < to && !ret; n++)
		ret = set_xattr(trans, root, n, min + rnd_below(spread));
	return ret;
}

static int delete_every(struct btrfs_trans_handle *trans,
			struct btrfs_root *root, u32 from, u32 to, u32 step)
{
	int ret = 0;

	for (u32 n = from; n < to && !ret; n += step)
		ret = del_xattr(trans, root, n);
	return ret;
}

/*
 * Evaluates @body in a transaction named trans and commits it: 0, or the
 * error (the transaction aborted when @body failed).
 */
#define IN_TRANS(fs, body) ({						\
	struct btrfs_trans_handle *trans = btrfs_start_transaction(fs);	\
	int __ret = IS_ERR(trans) ? (int)PTR_ERR(trans) : 0;		\
									\
	if (!__ret) {							\
		__ret = (body);						\
		if (__ret)						\
			btrfs_abort_transaction(trans);			\
		else							\
			__ret = commit(trans);				\
	}								\
	__ret;								\
})

static int wl_xattrs(struct btrfs_fs_info *fs)
{
	struct btrfs_root *root = fs->fs_root;
	int ret;

	ret = IN_TRANS(fs, insert_range(trans, root, 0, 60, 100, 1500));
	if (!ret)
		ret = IN_TRANS(fs, delete_every(trans, root, 0, 60, 3) ?:
			       insert_range(trans, root, 60, 90, 50, 2500));
	if (!ret)
		ret = IN_TRANS(fs, delete_every(trans, root, 1, 90, 4) ?:
			       insert_range(trans, root, 90, 100, 2000, 1500));
	return ret;
}

static int count_meta_groups(struct btrfs_fs_info *fs)
{
	int n = 0;

	for (size_t i = 0; i < fs->nr_block_groups; i++)
		n += !!(fs->block_groups[i]->flags & BTRFS_BLOCK_GROUP_METADATA);
	return n;
}

/*
 * Reserve tree blocks until the allocator has made a metadata chunk, add
 * xattrs (their blocks land in the new chunk), give the reservations back.
 */
static int fill_new_chunk(struct btrfs_trans_handle *trans,
			  struct btrfs_root *root)
{
	struct btrfs_fs_info *fs = trans->fs_info;
	int before = count_meta_groups(fs);
	struct btrfs_key *res = NULL;
	size_t nr = 0, cap = 0;
	int ret = 0;

	while (!ret && count_meta_groups(fs) == before) {
		if (nr == cap) {
			cap = cap ? cap * 2 : 1024;
			res = xrealloc(res, cap * sizeof(*res));
		}
		ret = btrfs_reserve_extent(trans, root, fs->nodesize, 0, 0,
					   &res[nr], false);
		nr += !ret;
	}
	if (!ret)
		ret = insert_range(trans, root, 100, 140, 500, 2500);
	for (size_t i = 0; i < nr; i++)
		btrfs_free_reserved_extent(fs, res[i].objectid, res[i].offset);
	free(res);
	if (!ret && count_meta_groups(fs) == before)
		ret = bad("no metadata chunk was made");
	return ret;
}

static int wl_chunk(struct btrfs_fs_info *fs)
{
	struct btrfs_root *root = fs->fs_root;
	int ret;

	ret = IN_TRANS(fs, insert_range(trans, root, 0, 30, 100, 1500));
	if (!ret)
		ret = IN_TRANS(fs, fill_new_chunk(trans, root));
	if (!ret)
		ret = IN_TRANS(fs, delete_every(trans, root, 0, 140, 3));
	return ret;
}

/* Changes, a snapshot of the FS tree, changes that COW what they share. */
static int make_snapshot(struct btrfs_trans_handle *trans,
			 struct btrfs_root *root, struct btrfs_root **snap)
{
	int ret = insert_range(trans, root, 40, 50, 100, 1000);

	if (ret)
		return ret;
	*snap = btrfs_create_snapshot(trans, root, SNAP_ID, root,
				      BTRFS_FIRST_FREE_OBJECTID, "snap", 4,
				      false);
	if (IS_ERR(*snap)) {
		ret = (int)PTR_ERR(*snap);
		*snap = NULL;
		return ret;
	}
	return delete_every(trans, root, 0, 50, 4) ?:
	       insert_range(trans, root, 50, 70, 100, 1500);
}

static int wl_snapshot(struct btrfs_fs_info *fs)
{
	struct btrfs_root *root = fs->fs_root, *snap = NULL;
	int ret;

	ret = IN_TRANS(fs, insert_range(trans, root, 0, 40, 100, 1500));
	if (!ret) {
		ret = IN_TRANS(fs, make_snapshot(trans, root, &snap));
		/* Freed after the commit (or the abort), as the API asks. */
		if (snap)
			btrfs_free_root(snap);
	}
	if (!ret)
		ret = IN_TRANS(fs, delete_every(trans, root, 1, 70, 3) ?:
			       insert_range(trans, root, 70, 80, 1000, 2000));
	return ret;
}

struct workload {
	const char *name;
	const char *mkfs_opts;
	int nr_devs;
	const char *dev_size;
	int (*run)(struct btrfs_fs_info *fs);
	int write_points;	/* how many write points to sample, 0 all */
	bool our_mkfs;		/* the reference cannot make it */
};

static const struct workload workloads[] = {
	{ "xattrs", "", 1, "256M", wl_xattrs, 0, false },
	/* 4K nodes: deeper trees, many more blocks per commit. */
	{ "chunk", "-n 4096", 1, "256M", wl_chunk, 40, false },
	/* The reference 6.2 makes it only when built experimental. */
	{ "bg-tree", "-O block-group-tree", 1, "256M", wl_xattrs, 24, true },
	{ "snapshot", "", 1, "256M", wl_snapshot, 24, false },
	{ "raid1", "-d raid1 -m raid1", 2, "256M", wl_xattrs, 24, false },
};

/* ------------------------------------------------------------------ */
/* Images. */

/* Copy @src to @dst, holes kept. 0 or -errno. */
static int copy_sparse(const char *src, const char *dst)
{
	int in = open(src, O_RDONLY), out = -1, ret = 0;
	static char buf[1 << 20];
	off_t pos = 0, size = -1;

	if (in >= 0)
		size = lseek(in, 0, SEEK_END);
	if (size < 0)
		ret = -errno;
	if (!ret) {
		out = open(dst, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (out < 0 || ftruncate(out, size))
			ret = -errno;
	}
	while (!ret && pos < size) {
		off_t data = lseek(in, pos, SEEK_DATA), hole;

		if (data < 0)
			break;		/* only a hole is left */
		hole = lseek(in, data, SEEK_HOLE);
		for (pos = data; !ret && pos < hole; ) {
			size_t n = (size_t)(hole - pos) < sizeof(buf) ?
				   (size_t)(hole - pos) : sizeof(buf);
			ssize_t got = pread(in, buf, n, pos);

			if (got <= 0 || pwrite(out, buf, (size_t)got, pos) != got)
				ret = -EIO;
			else
				pos += got;
		}
	}
	if (in >= 0)
		close(in);
	if (out >= 0 && close(out) && !ret)
		ret = -errno;
	return ret;
}

struct images {
	int nr;
	char base[MAX_DEVS][700];
	char work[MAX_DEVS][700];
	char files[1500];	/* the work images, space separated */
};

static int copy_images(const struct images *im)
{
	for (int i = 0; i < im->nr; i++)
		if (copy_sparse(im->base[i], im->work[i]))
			return bad("copy of %s failed", im->base[i]);
	return 0;
}

/*
 * Open the work images for the workload, each through @faults (the fault
 * injector) or the counting layer, and the filesystem on them.
 */
static int open_faulted(const struct images *im, bool faults,
			struct btrfs_io **ios, struct btrfs_fs_info **fs)
{
	struct open_ctree_args args = {
		.ios = (struct btrfs_io * const *)ios, .nr_devices = im->nr,
		.super_mirror = 0,
		.flags = OPEN_CTREE_WRITES | OPEN_CTREE_NO_SCAN,
	};
	struct open_ctree_error why = { 0 };
	int ret = 0;

	for (int i = 0; i < im->nr; i++)
		ios[i] = NULL;
	for (int i = 0; i < im->nr && !ret; i++) {
		struct btrfs_io *file;

		ret = btrfs_io_open(im->work[i], BTRFS_IO_WRITE |
				    BTRFS_IO_NO_FAULTS, &file);
		if (ret)
			break;
		if (faults) {
			ret = btrfs_io_faults_push(file, &ios[i]);
		} else {
			ios[i] = calloc(1, sizeof(*ios[i]));
			if (ios[i])
				btrfs_io_init_layer(ios[i], &cnt_ops, file);
			else
				ret = -ENOMEM;
		}
		if (ret)
			btrfs_io_close(file);
	}
	if (!ret)
		ret = open_ctree(&args, fs, &why);
	if (ret) {
		for (int i = 0; i < im->nr; i++)
			if (ios[i])
				btrfs_io_close(ios[i]);
		return bad("open for the workload: %d at %s", ret,
			   why.what ? why.what : "?");
	}
	return 0;
}

static void close_faulted(const struct images *im, struct btrfs_io **ios,
			  struct btrfs_fs_info *fs)
{
	close_ctree(fs);
	for (int i = 0; i < im->nr; i++)
		btrfs_io_close(ios[i]);
}

static int open_paths(const struct images *im, unsigned int flags,
		      int mirror, struct btrfs_fs_info **fs)
{
	const char *devs[MAX_DEVS];
	struct open_ctree_args args = {
		.devices = devs, .nr_devices = im->nr, .super_mirror = mirror,
		.flags = flags | OPEN_CTREE_NO_SCAN,
	};
	struct open_ctree_error why = { 0 };
	int ret;

	for (int i = 0; i < im->nr; i++)
		devs[i] = im->work[i];
	ret = open_ctree(&args, fs, &why);
	if (ret)
		bad("open_ctree(flags %#x, mirror %d): %d at %s %llu", flags,
		    mirror, ret, why.what ? why.what : "?",
		    (unsigned long long)why.bytenr);
	return ret;
}

/* Is the primary superblock of every work image intact? */
static bool primaries_intact(const struct images *im)
{
	bool intact = true;

	for (int i = 0; i < im->nr && intact; i++) {
		struct btrfs_super_block sb;
		struct btrfs_io *io;

		if (btrfs_io_open(im->work[i], BTRFS_IO_NO_FAULTS, &io))
			return false;
		intact = !btrfs_read_super_raw(io, btrfs_sb_offset(0), &sb) &&
			 btrfs_check_super(&sb, btrfs_sb_offset(0), false) ==
			 SUPER_OK;
		btrfs_io_close(io);
	}
	return intact;
}

/* ------------------------------------------------------------------ */
/* One cut. */

/* Chunks from here on were made by the workload (see verify_chunks). */
static u64 new_chunks_from;

struct tally {
	int states, failed, torn_supers, kernel, kernel_skipped;
	int at_prev, at_next;
	char first[700];
};

static const char *kernel_why_not;

/*
 * The kernel mounts @k, writes a file and unmounts; then the reference
 * check.  0, -1 (first_err set), or 1 when a loop device was detached
 * or reused under us meanwhile (other programs share the machine).
 */
static int kernel_try(const struct images *k)
{
	char mnt[800], log[900];
	bool intact;
	int rc;

	snprintf(mnt, sizeof(mnt), "%s/mnt", workdir);
	snprintf(log, sizeof(log), "%s/mount.log", workdir);
	if (loop_attach(workdir, k->files)) {
		loop_detach(workdir);
		return bad("no loop devices");
	}
	rc = loop_mount(workdir, mnt);
	if (!rc) {
		rc = run_cmd("echo after the crash > '%s/crash-file' && sync",
			     mnt);
		rc = unmount(mnt) || rc;
	}
	intact = loops_intact(workdir, k->files);
	loop_detach(workdir);
	if (!intact)
		return 1;
	if (rc) {
		show_file(log, 10);
		return bad("the kernel did not mount it, write a file and "
			   "unmount cleanly");
	}
	if (ref_check_run(workdir, k->files))
		return bad("reference check fails after the kernel wrote");
	return 0;
}

/* The kernel round trip, on copies of the images (tried again on new
 * copies when a loop device was taken away). */
static int kernel_round_trip(const struct images *im)
{
	struct images k = { .nr = im->nr };
	int rc = 1;

	for (int i = 0; i < im->nr; i++) {
		snprintf(k.work[i], sizeof(k.work[i]), "%s/kernel-dev%d.img",
			 workdir, i + 1);
		strncat(k.files, " ", sizeof(k.files) - strlen(k.files) - 1);
		strncat(k.files, k.work[i],
			sizeof(k.files) - strlen(k.files) - 1);
	}
	for (int try = 0; try < 3 && rc == 1; try++) {
		for (int i = 0; i < im->nr; i++)
			if (copy_sparse(im->work[i], k.work[i]))
				return bad("copy of %s failed", im->work[i]);
		rc = kernel_try(&k);
		if (rc == 1)
			printf("# a loop device went away during the kernel "
			       "round trip: again\n");
	}
	for (int i = 0; i < im->nr; i++)
		unlink(k.work[i]);
	return rc == 1 ? bad("loop devices kept going away") : rc;
}

/*
 * Judge the images after a cut: @prev is the index of the last durable
 * commit; @maybe_next whether the next one may have reached the disk,
 * @must_next whether it must have.
 */
static int judge(const struct images *im, int prev, bool maybe_next,
		 bool must_next, struct tally *t, bool kernel)
{
	struct btrfs_fs_info *fs = NULL, *wfs = NULL;
	u64 gen, lo = cnt.rec[prev].gen, hi = lo;
	int ret, at;

	if (maybe_next && prev < cnt.nr)
		hi = cnt.rec[prev + 1].gen;
	if (must_next && prev < cnt.nr)
		lo = hi;
	if (!primaries_intact(im)) {
		t->torn_supers++;
		/* It exits 2 when it recovered something. */
		for (int i = 0; i < im->nr; i++)
			run_cmd(REF_BTRFS " rescue super-recover -y '%s' "
				">'%s/recover.log' 2>&1", im->work[i], workdir);
		if (!primaries_intact(im))
			return bad("a primary superblock is torn and "
				   "super-recover did not restore it");
	}
	if (open_paths(im, 0, 0, &fs))
		return -1;
	gen = btrfs_super_generation(&fs->super_copy);
	at = gen == cnt.rec[prev].gen ? prev :
	     prev < cnt.nr && gen == cnt.rec[prev + 1].gen ? prev + 1 : -1;
	if (gen < lo || gen > hi || at < 0) {
		close_ctree(fs);
		return bad("generation %llu, expected %llu..%llu",
			   (unsigned long long)gen, (unsigned long long)lo,
			   (unsigned long long)hi);
	}
	if (digest_fs(fs) != cnt.rec[at].digest) {
		close_ctree(fs);
		return bad("generation %llu does not hold what its commit "
			   "wrote", (unsigned long long)gen);
	}
	if (open_paths(im, OPEN_CTREE_WRITES, 0, &wfs)) {
		close_ctree(fs);
		return -1;
	}
	ret = verify_fs(fs, wfs, NULL);
	if (!ret)
		ret = verify_chunks(wfs, &new_chunks_from, NULL, NULL);
	close_ctree(wfs);
	close_ctree(fs);
	if (ret)
		return ret;
	if (run_cmd("'%s' check %s >'%s/our-check.log' 2>&1", btrfs_bin,
		    im->files, workdir))
		return bad("our btrfs check fails (generation %llu)",
			   (unsigned long long)gen);
	if (ref_check_run(workdir, im->files))
		return bad("the reference btrfs check fails (generation %llu)",
			   (unsigned long long)gen);
	t->at_prev += at == prev;
	t->at_next += at != prev;
	if (kernel) {
		if (kernel_why_not) {
			t->kernel_skipped++;
		} else {
			if (kernel_round_trip(im))
				return -1;
			t->kernel++;
		}
	}
	return 0;
}

/*
 * Run the workload with the plan @spec, a power cut or (!@cut) a failing
 * write; then judge what is left.
 */
static void one_run(const struct workload *w, const struct images *im,
		    const char *spec, bool cut, int prev, bool maybe_next,
		    bool must_next, struct tally *t)
{
	struct btrfs_io *ios[MAX_DEVS];
	struct btrfs_fs_info *fs;
	int ret;

	first_err[0] = '\0';
	t->states++;
	ret = copy_images(im);
	if (!ret && btrfs_io_faults_setup(spec))
		ret = bad("plan %s does not parse", spec);
	if (!ret)
		ret = open_faulted(im, true, ios, &fs);
	if (!ret) {
		rng_state = 1;
		ret = w->run(fs);
		close_faulted(im, ios, fs);
		first_err[0] = '\0';
		if (!ret)
			ret = bad("the workload went on past the fault");
		else if (btrfs_io_faults_cut() != cut)
			ret = bad("the workload failed (%d) %s a cut", ret,
				  cut ? "without" : "with");
		else
			ret = 0;
	}
	/* Inactive plan: the images are judged as they were left. */
	btrfs_io_faults_setup("");
	if (!ret)
		ret = judge(im, prev, maybe_next, must_next, t,
			    t->states % 4 == 0);
	if (ret) {
		t->failed++;
		printf("# %s, %s: %s\n", w->name, spec, first_err);
		if (!t->first[0])
			snprintf(t->first, sizeof(t->first), "(first: %s: %s)",
				 spec, first_err);
		run_cmd("sed 's/^/#   /' '%s/check.log' '%s/our-check.log' "
			"2>/dev/null | head -20", workdir, workdir);
		run_cmd("rm -f '%s/check.log' '%s/our-check.log'", workdir,
			workdir);
	}
	fflush(stdout);
}

/*
 * The last durable commit before a cut at flush @n, and the next's fate
 * as the primary superblocks tell it: it may be there when a primary copy
 * was sent before; lose=all loses it unless a device already flushed one
 * (the cut is past the first flush after them: on several devices the
 * others may be behind).  Mirror copies of the next may be there earlier;
 * they count only when a torn primary is restored from them, which
 * happens only once a primary was sent.
 */
static int durable_at_flush(u64 n, bool *maybe_next, bool *all_loses_next)
{
	int prev = 0;

	while (prev < cnt.nr && cnt.rec[prev + 1].flushes_end < n)
		prev++;
	*maybe_next = prev < cnt.nr &&
		      cnt.rec[prev + 1].flushes_before_primary < n;
	*all_loses_next = !*maybe_next ||
			  n <= cnt.rec[prev + 1].flushes_before_primary + 1;
	return prev;
}

static int durable_at_write(u64 n, bool *maybe_next)
{
	int prev = 0;

	while (prev < cnt.nr && cnt.rec[prev + 1].writes_end < n)
		prev++;
	*maybe_next = prev < cnt.nr &&
		      cnt.rec[prev + 1].first_primary_write <= n;
	return prev;
}

/*
 * May the commit after @prev be on disk when write @n failed?  When a
 * primary copy was written before it.
 */
static bool written_before_failure(int prev, u64 n)
{
	return prev < cnt.nr && cnt.rec[prev + 1].first_primary_write < n;
}

/* Is write @n a superblock write of some commit? */
static bool is_super_write(u64 n)
{
	for (int k = 1; k <= cnt.nr; k++)
		if (n >= cnt.rec[k].first_super_write &&
		    n <= cnt.rec[k].writes_end)
			return true;
	return false;
}

/* ------------------------------------------------------------------ */

static int env_int(const char *name)
{
	const char *s = getenv(name);

	return s && atoi(s) > 0 ? atoi(s) : 0;
}

static void test_workload(const struct workload *w)
{
	struct btrfs_io *ios[MAX_DEVS];
	struct tally tf = { 0 }, tw = { 0 }, te = { 0 };
	struct btrfs_fs_info *fs;
	struct images im = { .nr = w->nr_devs };
	char spec[128];
	time_t t0 = time(NULL);
	int ret, sampled = 0, seeds = env_int("CRASH_SEEDS") ?: 3;
	u64 writes, flushes, stride;

	for (int i = 0; i < im.nr; i++) {
		snprintf(im.base[i], sizeof(im.base[i]), "%s/%s-base%d.img",
			 workdir, w->name, i + 1);
		snprintf(im.work[i], sizeof(im.work[i]), "%s/%s-dev%d.img",
			 workdir, w->name, i + 1);
		strncat(im.files, " ", sizeof(im.files) - strlen(im.files) - 1);
		strncat(im.files, im.work[i],
			sizeof(im.files) - strlen(im.files) - 1);
	}
	ret = run_cmd("rm -f %s/%s-base*.img; for i in $(seq 1 %d); do "
		      "truncate -s %s %s/%s-base$i.img; done; '%s' -f %s "
		      "$(ls %s/%s-base*.img) >'%s/mkfs.log' 2>&1",
		      workdir, w->name, im.nr, w->dev_size, workdir, w->name,
		      w->our_mkfs ? our_mkfs : REF_MKFS, w->mkfs_opts, workdir,
		      w->name, workdir);
	ok(ret == 0, "%s: %s mkfs.btrfs %s", w->name,
	   w->our_mkfs ? "our" : "reference", w->mkfs_opts);
	if (ret)
		return;

	/* The counting run. */
	first_err[0] = '\0';
	memset(&cnt, 0, sizeof(cnt));
	ret = copy_images(&im);
	if (!ret)
		ret = open_faulted(&im, false, ios, &fs);
	if (!ret) {
		new_chunks_from = ~0ULL;
		ret = verify_chunks(fs, &new_chunks_from, NULL, NULL);
		cnt.rec[0].gen = btrfs_super_generation(&fs->super_copy);
		cnt.rec[0].digest = digest_fs(fs);
		cnt.on = true;
		rng_state = 1;
		if (!ret)
			ret = w->run(fs);
		cnt.on = false;
		close_faulted(&im, ios, fs);
	}
	writes = cnt.writes;
	flushes = cnt.flushes;
	for (int k = 0; !ret && k <= cnt.nr; k++)
		if (!cnt.rec[k].digest)
			ret = bad("the trees of generation %llu could not be "
				  "read", (unsigned long long)cnt.rec[k].gen);
	ok(!ret && cnt.nr >= 2, "%s: uncut run: %d commits (generations "
	   "%llu..%llu), %llu writes, %llu flushes %s", w->name, cnt.nr,
	   (unsigned long long)cnt.rec[0].gen,
	   (unsigned long long)cnt.rec[cnt.nr].gen,
	   (unsigned long long)writes, (unsigned long long)flushes, first_err);
	if (ret || cnt.nr < 2)
		return;
	for (int k = 1; k <= cnt.nr; k++)
		printf("# commit %d: generation %llu, writes to %llu, flushes "
		       "to %llu, first superblock write %llu, first primary "
		       "%llu after %llu flushes\n", k,
		       (unsigned long long)cnt.rec[k].gen,
		       (unsigned long long)cnt.rec[k].writes_end,
		       (unsigned long long)cnt.rec[k].flushes_end,
		       (unsigned long long)cnt.rec[k].first_super_write,
		       (unsigned long long)cnt.rec[k].first_primary_write,
		       (unsigned long long)cnt.rec[k].flushes_before_primary);

	/* Every flush point. */
	for (u64 n = 1; n <= flushes; n++) {
		bool maybe_next, all_loses_next;
		int prev = durable_at_flush(n, &maybe_next, &all_loses_next);

		/* lose=all, lose=none, then random subsets torn by seed. */
		for (int m = 0; m < 2 + seeds; m++) {
			if (m < 2)
				snprintf(spec, sizeof(spec), "cut-flush=%llu,"
					 "lose=%s", (unsigned long long)n,
					 m ? "none" : "all");
			else
				snprintf(spec, sizeof(spec), "cut-flush=%llu,"
					 "lose=random,torn,seed=%d",
					 (unsigned long long)n, m - 1);
			one_run(w, &im, spec, true, prev,
				maybe_next && !(m == 0 && all_loses_next),
				maybe_next && m == 1, &tf);
		}
	}
	ok(tf.failed == 0, "%s: cut at each of the %llu flushes, %d ways: "
	   "%d states, %d failed; %d at the last commit, %d at the next; "
	   "%d primary superblocks torn and recovered; kernel mounted %d "
	   "(%d skipped) %s", w->name, (unsigned long long)flushes,
	   2 + seeds, tf.states, tf.failed, tf.at_prev, tf.at_next, tf.torn_supers,
	   tf.kernel, tf.kernel_skipped, tf.first);

	/*
	 * A sample of the write points (all of them for the first): every
	 * stride-th and every superblock write, where the fate of a commit
	 * is decided.
	 */
	stride = (u64)env_int("CRASH_STRIDE");
	if (!stride)
		stride = w->write_points ?
			 (writes + (u64)w->write_points - 1) / (u64)w->write_points :
			 1;
	for (u64 n = 1; n <= writes; n++) {
		bool maybe_next;
		int prev = durable_at_write(n, &maybe_next);

		if ((n - 1) % stride && !is_super_write(n))
			continue;
		sampled++;
		/*
		 * Torn superblock copies decide whether a device keeps a
		 * valid one: more seeds there.
		 */
		for (int k = 0; k < (is_super_write(n) ? 1 + SUPER_SEEDS : 1);
		     k++) {
			snprintf(spec, sizeof(spec), "cut-write=%llu,lose=random,"
				 "torn,seed=%llu", (unsigned long long)n,
				 (unsigned long long)(n + 1000ULL * k));
			one_run(w, &im, spec, true, prev, maybe_next, false,
				&tw);
		}
		snprintf(spec, sizeof(spec), "cut-write=%llu,lose=all",
			 (unsigned long long)n);
		one_run(w, &im, spec, true, prev, false, false, &tw);
		snprintf(spec, sizeof(spec), "cut-write=%llu,lose=none",
			 (unsigned long long)n);
		one_run(w, &im, spec, true, prev, maybe_next, false, &tw);
		/*
		 * No cut, the write fails: the commit must abort without a
		 * superblock, unless an earlier copy of it was written.
		 */
		snprintf(spec, sizeof(spec), "fail-write=%llu",
			 (unsigned long long)n);
		one_run(w, &im, spec, false, prev,
			written_before_failure(prev, n), false, &te);
	}
	ok(tw.failed == 0, "%s: cut after %d of the %llu writes (every %llu "
	   "and each superblock write), torn, lose=all and lose=none: %d "
	   "states, %d failed; %d at the "
	   "last commit, %d at the next; %d primary superblocks torn and "
	   "recovered; kernel mounted %d (%d skipped) %s", w->name, sampled,
	   (unsigned long long)writes, (unsigned long long)stride, tw.states,
	   tw.failed, tw.at_prev, tw.at_next, tw.torn_supers, tw.kernel,
	   tw.kernel_skipped, tw.first);
	ok(te.failed == 0, "%s: the same %d writes failing with EIO (no cut): "
	   "%d states, %d failed; %d at the last commit, %d at the next; "
	   "kernel mounted %d (%d skipped) %s", w->name, sampled, te.states,
	   te.failed, te.at_prev, te.at_next, te.kernel, te.kernel_skipped,
	   te.first);
	if (kernel_why_not)
		skip("%s: kernel round trips: %s", w->name, kernel_why_not);
	printf("# %s: %ld s\n", w->name, (long)(time(NULL) - t0));
	for (int i = 0; i < im.nr; i++) {
		unlink(im.base[i]);
		unlink(im.work[i]);
	}
}

static void find_btrfs_bin(void)
{
	const char *env = getenv("BTRFS_BIN");
	char self[900];
	ssize_t n;

	if (env && *env) {
		snprintf(btrfs_bin, sizeof(btrfs_bin), "%s", env);
		return;
	}
	env = getenv("TOP_BUILDDIR");
	if (env && *env) {
		snprintf(btrfs_bin, sizeof(btrfs_bin), "%s/btrfs", env);
		return;
	}
	/* tests/unit/test-crash -> the btrfs of the same build */
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	self[n > 0 ? n : 0] = '\0';
	if (strrchr(self, '/'))
		*strrchr(self, '/') = '\0';
	snprintf(btrfs_bin, sizeof(btrfs_bin), "%s/../../btrfs", self);
}

int main(void)
{
	const char *only = getenv("CRASH_ONLY");

	if (!have_reference()) {
		printf("1..0 # SKIP no reference mkfs.btrfs and btrfs\n");
		return 0;
	}
	find_btrfs_bin();
	snprintf(our_mkfs, sizeof(our_mkfs), "%s", btrfs_bin);
	if (strrchr(our_mkfs, '/'))
		strcpy(strrchr(our_mkfs, '/') + 1, "mkfs.btrfs");
	if (access(btrfs_bin, X_OK) || access(our_mkfs, X_OK)) {
		printf("1..0 # SKIP our btrfs or mkfs.btrfs is not at %s\n",
		       btrfs_bin);
		return 0;
	}
	if (!mkdtemp(workdir)) {
		printf("1..0 # SKIP no temporary directory\n");
		return 0;
	}
	kernel_why_not = kernel_unavailable(NEED_REF_BTRFS);
	for (size_t i = 0; i < ARRAY_SIZE(workloads); i++)
		if (!only || !strcmp(only, workloads[i].name))
			test_workload(&workloads[i]);
	run_cmd("rm -rf '%s'", workdir);
	printf("1..%d\n", tap_count);
	return tap_failed ? 1 : 0;
}
