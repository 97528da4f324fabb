// SPDX-License-Identifier: GPL-2.0
/*
 * Chunk allocation in transactions, printed as TAP.
 *
 * Images made by the reference mkfs.btrfs (one to four image files, several
 * profiles, mixed groups, 4KiB nodes without a free-space tree) are opened
 * for writing and filled, with fixed seeds, with big xattrs on the top
 * directory until the engine has had to make several metadata chunks by
 * itself (btrfs_reserve_extent running out of room in the middle of btree
 * operations).  Each round also makes a data chunk with btrfs_alloc_chunk()
 * (-ENOSPC once the devices are full must leave the transaction usable),
 * one round a system chunk the same way, and one round uses up the system
 * groups with reservations so that the chunk tree's own COW must make a
 * system chunk.  After every commit the image is reopened and checked:
 *
 * - every chunk item has a block group item (start, length, flags) and
 *   the other way round;
 * - every stripe has its dev extent (devid, physical, stripe size, chunk
 *   offset), there are no other dev extents, they do not overlap and lie
 *   in [1MiB, device size);
 * - each dev item's bytes_used, and the one in each device's superblock,
 *   is the sum of its dev extents;
 * - the superblock's sys_chunk_array holds exactly the system chunks of
 *   the chunk tree, byte for byte;
 * - block group used bytes add up to the superblock's bytes_used, the
 *   free-space tree (when there is one) records length - used free in
 *   every group, and the image opens for writing (which checks every
 *   group's used against its extent items).
 *
 * At the end the reference btrfs check passes, the kernel mounts the
 * image, reads back every xattr, writes a file and unmounts, and the
 * reference check passes again.  Two configurations fill the devices to
 * -ENOSPC (metadata only; data chunks first): the transaction aborts, the
 * image is the last commit and still checks clean.  Last, system chunks
 * are made until the superblock's sys_chunk_array is full.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "common/csum.h"
#include "kernel-shared/ctree.h"
#include "kernel-shared/disk-io.h"
#include "kernel-shared/extent-tree.h"
#include "kernel-shared/transaction.h"
#include "kernel-shared/volumes.h"
#include "tests/unit/unit-util.h"
#include "tests/unit/unit-verify.h"

#define M (1ULL << 20)
#define XATTR_INO 256ULL
#define MAX_DEVS 4
#define MAX_ROUNDS 40

static u64 rng;

static u64 rnd_lcg(void)
{
	rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
	return rng >> 17;
}

/* ------------------------------------------------------------------ */
/* The xattrs written: name "user.c<n>", value bytes from (seed, n). */

struct xattr_rec {
	u32 n;
	u32 len;
	u64 hash;
};

struct model {
	struct xattr_rec *x;
	size_t nr, cap;
	u64 seed;
};

static u8 val_byte(u64 seed, u32 n, u32 i)
{
	u64 v = seed ^ ((u64)n << 32) ^ i;

	v *= 0x9e3779b97f4a7c15ULL;
	return (u8)(v >> 56);
}

static bool model_has_hash(const struct model *m, u64 hash)
{
	for (size_t i = 0; i < m->nr; i++)
		if (m->x[i].hash == hash)
			return true;
	return false;
}

static int insert_xattr(struct btrfs_trans_handle *trans,
			struct btrfs_root *root, struct model *m, u32 n)
{
	u32 max = btrfs_max_item_size(root->fs_info->nodesize);
	struct btrfs_key key = { XATTR_INO, BTRFS_XATTR_ITEM_KEY, 0 };
	struct btrfs_dir_item *di;
	char name[32];
	u32 nlen, len, size;
	u8 *buf;
	int ret;

	nlen = (u32)snprintf(name, sizeof(name), "user.c%u", n);
	key.offset = btrfs_name_hash(name, nlen);
	if (model_has_hash(m, key.offset))
		return 0;
	max -= (u32)sizeof(*di) + nlen;
	len = max / 2 + (u32)(rnd_lcg() % (max / 2));
	size = (u32)sizeof(*di) + nlen + len;
	buf = calloc(1, size);
	if (!buf)
		return -ENOMEM;
	di = (struct btrfs_dir_item *)buf;
	btrfs_set_stack_dir_transid(di, trans->transid);
	btrfs_set_stack_dir_data_len(di, (u16)len);
	btrfs_set_stack_dir_name_len(di, (u16)nlen);
	btrfs_set_stack_dir_flags(di, BTRFS_FT_XATTR);
	memcpy(buf + sizeof(*di), name, nlen);
	for (u32 i = 0; i < len; i++)
		buf[sizeof(*di) + nlen + i] = val_byte(m->seed, n, i);
	ret = btrfs_insert_item(trans, root, &key, buf, size);
	free(buf);
	if (ret)
		return ret;
	if (m->nr == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 256;
		void *p = realloc(m->x, cap * sizeof(*m->x));

		if (!p)
			return -ENOMEM;
		m->x = p;
		m->cap = cap;
	}
	m->x[m->nr++] = (struct xattr_rec){ n, len, key.offset };
	return 0;
}

/* Chunks at or after this were made by the engine (checked strictly). */
static u64 new_chunks_from = ~0ULL;

static int open_image(char **paths, int nr, unsigned int flags,
		      struct btrfs_fs_info **fs)
{
	struct open_ctree_args args = {
		.devices = (const char * const *)paths, .nr_devices = nr,
		.super_mirror = 0, .flags = flags | OPEN_CTREE_NO_SCAN,
	};
	struct open_ctree_error why = { 0 };
	int ret = open_ctree(&args, fs, &why);

	if (ret)
		bad("open_ctree(flags %#x): %d at %s %llu", flags, ret,
		    why.what ? why.what : "?", (unsigned long long)why.bytenr);
	return ret;
}

/* Check the image; 0 or -1 with first_err.  Counts go to @nr_chunks. */
static int verify_image(char **paths, int nr, size_t *nr_chunks,
			size_t *nr_sys)
{
	struct btrfs_fs_info *fs;
	int ret;

	/* Writable open: loads the groups and checks used vs extents. */
	if (open_image(paths, nr, OPEN_CTREE_WRITES, &fs))
		return -1;
	ret = verify_chunks(fs, &new_chunks_from, nr_chunks, nr_sys);
	close_ctree(fs);
	return ret;
}

/* ------------------------------------------------------------------ */
/* Oracles. */

static int ref_check(const char *dir, const char *files, const char *what)
{
	return ref_check_files(dir, files, "%s: reference btrfs check passes",
			       what);
}

static int kernel_reads_model(const char *mnt, const struct model *m)
{
	size_t cap = 65536;
	u8 *buf = malloc(cap);
	int ret = 0;

	for (size_t i = 0; buf && i < m->nr && !ret; i++) {
		char name[32];
		ssize_t got;

		snprintf(name, sizeof(name), "user.c%u", m->x[i].n);
		got = getxattr(mnt, name, buf, cap);
		if (got != (ssize_t)m->x[i].len) {
			ret = bad("kernel: %s has %zd bytes, expected %u", name,
				  got, m->x[i].len);
			break;
		}
		for (u32 k = 0; k < m->x[i].len; k++)
			if (buf[k] != val_byte(m->seed, m->x[i].n, k)) {
				ret = bad("kernel: %s differs at %u", name, k);
				break;
			}
	}
	free(buf);
	return buf ? ret : bad("out of memory");
}

static void kernel_round_trip(const char *dir, const char *files,
			      const struct model *m, bool full,
			      const char *what)
{
	char mnt[600];
	int rc;

	snprintf(mnt, sizeof(mnt), "%s/mnt", dir);
	first_err[0] = '\0';
	rc = loop_attach(dir, files);
	if (!rc)
		rc = loop_mount(dir, mnt);
	ok(rc == 0, "%s: the kernel mounts the image", what);
	if (rc) {
		loop_detach(dir);
		return;
	}
	rc = kernel_reads_model(mnt, m);
	ok(rc == 0, "%s: the kernel reads all %zu xattrs %s", what, m->nr,
	   first_err);
	if (!full) {
		rc = run_cmd("dd if=/dev/urandom of='%s/file' bs=64k count=32 "
			     "status=none && sync", mnt);
		ok(rc == 0, "%s: the kernel writes a 2MiB file", what);
	}
	rc = unmount(mnt);
	loop_detach(dir);
	ok(rc == 0, "%s: unmount", what);
}

/* ------------------------------------------------------------------ */
/* Configurations. */

struct config {
	const char *name;
	const char *mkfs_opts;
	int nr_devs;
	u64 dev_size;
	int want_meta_chunks;	/* new metadata chunks to make; 0: to ENOSPC */
	bool exhaust_meta;	/* also make one by reservations alone */
	bool fill_data;		/* to ENOSPC: data chunks first */
};

static const struct config configs[] = {
	{ "single device, metadata dup", "", 1, 1024 * M, 2, false, false },
	{ "raid1 on 2", "-m raid1 -d raid1", 2, 768 * M, 2, true, false },
	{ "raid10 on 4", "-m raid10 -d raid10", 4, 512 * M, 1, true, false },
	{ "raid1c3 on 3", "-m raid1c3 -d raid1c3", 3, 768 * M, 1, true, false },
	{ "mixed, single device", "-M", 1, 512 * M, 2, false, false },
	{ "4KiB nodes, no free-space tree",
	  "-n 4096 -R ^free-space-tree", 1, 768 * M, 2, false, false },
	{ "single device to ENOSPC", "", 1, 256 * M, 0, false, false },
	{ "single device, data chunks to ENOSPC first", "", 1, 256 * M, 0,
	  false, true },
};

struct counts {
	int meta;		/* metadata chunks the allocator made */
	int meta_reserved;	/* of which by reservations alone */
	int sys_nested;		/* system chunks made by reservations */
	int sys_explicit;
	int data;		/* data chunks made with btrfs_alloc_chunk */
	int data_enospc;	/* btrfs_alloc_chunk said -ENOSPC */
	int commits;
};

static u64 type_of(struct btrfs_fs_info *fs, u64 type)
{
	for (size_t i = 0; i < fs->nr_block_groups; i++) {
		u64 f = fs->block_groups[i]->flags;

		if ((f & BTRFS_BLOCK_GROUP_TYPE_MASK) == type)
			return f;
	}
	return type;
}

static int count_groups(struct btrfs_fs_info *fs, u64 type)
{
	int n = 0;

	for (size_t i = 0; i < fs->nr_block_groups; i++)
		n += !!(fs->block_groups[i]->flags & type);
	return n;
}

/*
 * Use up the groups of @type with reservations for tree blocks of @root
 * until the allocator makes a new one; then give them back.  Returns 0 or
 * the error, *made the number of new groups.
 */
static int exhaust(struct btrfs_trans_handle *trans, struct btrfs_root *root,
		   u64 type, int *made)
{
	struct btrfs_fs_info *fs = trans->fs_info;
	int before = count_groups(fs, type);
	struct btrfs_key *res = NULL;
	size_t nr = 0, cap = 0;
	int ret = 0;

	while (count_groups(fs, type) == before) {
		res = grow_array(res, &cap, nr, sizeof(*res));
		if (!res)
			return -ENOMEM;
		ret = btrfs_reserve_extent(trans, root, fs->nodesize, 0, 0,
					   &res[nr], false);
		if (ret)
			break;
		nr++;
	}
	*made += count_groups(fs, type) - before;
	for (size_t i = 0; i < nr; i++)
		btrfs_free_reserved_extent(fs, res[i].objectid, res[i].offset);
	free(res);
	return ret;
}

/* After a commit, the writer's groups: free + used + excluded = length. */
static int check_accounting(struct btrfs_fs_info *fs)
{
	for (size_t i = 0; i < fs->nr_block_groups; i++) {
		struct btrfs_block_group *bg = fs->block_groups[i];

		if (bg->reserved || bg->pinned || bg->new_chunk ||
		    bg->needs_free_space ||
		    bg->free_space.free_bytes + bg->used + bg->excluded !=
		    bg->length)
			return bad("group %llu after commit: free %llu used "
				   "%llu excluded %llu reserved %llu pinned "
				   "%llu length %llu%s",
				   (unsigned long long)bg->start,
				   (unsigned long long)
				   bg->free_space.free_bytes,
				   (unsigned long long)bg->used,
				   (unsigned long long)bg->excluded,
				   (unsigned long long)bg->reserved,
				   (unsigned long long)bg->pinned,
				   (unsigned long long)bg->length,
				   bg->new_chunk ? ", items pending" : "");
	}
	return 0;
}

/*
 * One transaction of round @r.  Returns 0, or the error that made it
 * abort (the transaction is gone either way).
 */
static int one_round(struct btrfs_fs_info *fs, int r, struct model *m,
		     u32 *next_n, struct counts *cnt, bool fill_data,
		     bool exhaust_meta)
{
	struct btrfs_trans_handle *trans = btrfs_start_transaction(fs);
	u64 meta_type = btrfs_fs_incompat(fs,
				BTRFS_FEATURE_INCOMPAT_MIXED_GROUPS) ?
		BTRFS_BLOCK_GROUP_DATA | BTRFS_BLOCK_GROUP_METADATA :
		BTRFS_BLOCK_GROUP_METADATA;
	int meta_before = count_groups(fs, BTRFS_BLOCK_GROUP_METADATA);
	int ret = 0;

	if (IS_ERR(trans))
		return (int)PTR_ERR(trans);
	/* A data chunk in the first round, or in every one until ENOSPC. */
	if (!(meta_type & BTRFS_BLOCK_GROUP_DATA) && (r == 0 || fill_data)) {
		u64 t = type_of(fs, BTRFS_BLOCK_GROUP_DATA);

		do {
			ret = btrfs_alloc_chunk(trans, t, NULL);
			cnt->data += !ret;
		} while (!ret && fill_data);
		/* -ENOSPC changes nothing: the transaction goes on. */
		cnt->data_enospc += ret == -ENOSPC;
		if (ret == -ENOSPC)
			ret = 0;
	}
	if (!ret && r == 1)
		ret = exhaust(trans, fs->chunk_root, BTRFS_BLOCK_GROUP_SYSTEM,
			      &cnt->sys_nested);
	if (!ret && r == 3 && exhaust_meta)
		ret = exhaust(trans, fs->fs_root, BTRFS_BLOCK_GROUP_METADATA,
			      &cnt->meta_reserved);
	if (!ret && r == 2) {
		ret = btrfs_alloc_chunk(trans,
				type_of(fs, BTRFS_BLOCK_GROUP_SYSTEM), NULL);
		cnt->sys_explicit += !ret;
	}
	/*
	 * About 32MiB of xattrs; 1MiB in the transaction that filled the
	 * devices with data chunks, which must still commit.
	 */
	for (int i = 0; !ret && i < (int)((fill_data && r == 0 ? 1 : 32) * M /
					  fs->nodesize); i++)
		ret = insert_xattr(trans, fs->fs_root, m, (*next_n)++);
	cnt->meta += count_groups(fs, BTRFS_BLOCK_GROUP_METADATA) - meta_before;
	if (ret) {
		btrfs_abort_transaction(trans);
		return ret;
	}
	ret = btrfs_commit_transaction(trans);
	cnt->commits += !ret;
	return ret ? ret : check_accounting(fs);
}

static void test_config(const struct config *c, u64 seed)
{
	char dir[] = "/tmp/test-chunk-alloc.XXXXXX";
	char *paths[MAX_DEVS], files[1024] = "";
	struct model m = { .seed = seed };
	struct counts cnt = { 0 };
	struct btrfs_fs_info *fs = NULL;
	size_t nr_chunks = 0, first_chunks = 0, nr_sys = 0, model_nr = 0;
	int ret = 0, verified = 0, r;
	u32 next_n = 0;
	bool enospc = false;

	rng = seed;
	if (!mkdtemp(dir)) {
		ok(0, "%s: temporary directory", c->name);
		return;
	}
	for (int i = 0; i < c->nr_devs; i++) {
		paths[i] = malloc(700);
		snprintf(paths[i], 700, "%s/dev%d.img", dir, i + 1);
		strncat(files, " ", sizeof(files) - strlen(files) - 1);
		strncat(files, paths[i], sizeof(files) - strlen(files) - 1);
		run_cmd("truncate -s %llu '%s'",
			(unsigned long long)c->dev_size, paths[i]);
	}
	ret = run_cmd(REF_MKFS " -f %s %s >'%s/mkfs.log' 2>&1", c->mkfs_opts,
		      files, dir);
	ok(ret == 0, "%s (seed %llu): reference mkfs.btrfs %s", c->name,
	   (unsigned long long)seed, c->mkfs_opts);
	if (ret)
		goto out;
	first_err[0] = '\0';
	new_chunks_from = ~0ULL;
	ret = verify_image(paths, c->nr_devs, &first_chunks, NULL);
	for (r = 0; !ret && r < MAX_ROUNDS; r++) {
		first_err[0] = '\0';
		ret = open_image(paths, c->nr_devs, OPEN_CTREE_WRITES, &fs);
		if (ret)
			break;
		model_nr = m.nr;
		ret = one_round(fs, r, &m, &next_n, &cnt, c->fill_data,
				c->exhaust_meta);
		close_ctree(fs);
		if (ret)
			m.nr = model_nr;	/* aborted: not written */
		if (ret == -ENOSPC && c->want_meta_chunks == 0) {
			enospc = true;
			ret = 0;
			break;
		}
		if (ret) {
			bad("round %d: %d", r, ret);
			break;
		}
		ret = verify_image(paths, c->nr_devs, &nr_chunks, &nr_sys);
		verified += !ret;
		if (c->want_meta_chunks && cnt.meta >= c->want_meta_chunks &&
		    r >= 3 && (!c->exhaust_meta || cnt.meta_reserved))
			break;
	}
	ok(!ret, "%s: %d commits, each verified: chunks %zu -> %zu (%d "
	   "metadata chunks made when space ran out, %d of them by "
	   "reservations alone, %d data chunks made, "
	   "%d refused with ENOSPC, system chunks %d by reservation + %d "
	   "directly; %zu system chunks in the array) %s", c->name,
	   cnt.commits, first_chunks, nr_chunks, cnt.meta, cnt.meta_reserved,
	   cnt.data,
	   cnt.data_enospc, cnt.sys_nested, cnt.sys_explicit, nr_sys,
	   first_err);
	if (c->want_meta_chunks)
		ok(cnt.meta >= c->want_meta_chunks && cnt.sys_nested >= 1 &&
		   cnt.sys_explicit == 1 && verified == cnt.commits,
		   "%s: the allocator made the chunks it was pushed to",
		   c->name);
	else {
		first_err[0] = '\0';
		ret = enospc ? verify_image(paths, c->nr_devs, NULL, NULL) : -1;
		ok(enospc && !ret && cnt.commits > 0 &&
		   (!c->fill_data || cnt.data_enospc > 0) &&
		   (c->fill_data || cnt.meta > 0), "%s: %d data chunks made "
		   "(%d refused with ENOSPC, the transaction went on), %d "
		   "metadata chunks, then ENOSPC aborts cleanly after %d "
		   "commits; the image is the last commit %s", c->name,
		   cnt.data, cnt.data_enospc, cnt.meta, cnt.commits, first_err);
	}
	if (ref_check(dir, files, c->name))
		goto out;
	kernel_round_trip(dir, files, &m, c->want_meta_chunks == 0, c->name);
	ref_check(dir, files, c->name);
out:
	for (int i = 0; i < c->nr_devs; i++) {
		unlink(paths[i]);
		free(paths[i]);
	}
	run_cmd("rm -rf '%s'", dir);
	free(m.x);
}

/*
 * System chunks with btrfs_alloc_chunk() until the superblock's 2048-byte
 * sys_chunk_array is full: -ENOSPC exactly when the next entry would not
 * fit, nothing changed by the refusal, the commit verified, the reference
 * check and the kernel happy with a full array.
 */
static void test_sys_array_full(void)
{
	const char *what = "system chunks until the sys_chunk_array is full";
	char dir[] = "/tmp/test-chunk-alloc.XXXXXX";
	char path[700], *paths[1] = { path }, files[720];
	struct btrfs_trans_handle *trans;
	struct btrfs_fs_info *fs = NULL;
	struct model m = { .seed = 1 };
	u32 before = 0, entry = 0;
	size_t nr_sys = 0;
	int made = 0, ret;
	u64 type;

	if (!mkdtemp(dir)) {
		ok(0, "%s: temporary directory", what);
		return;
	}
	snprintf(path, sizeof(path), "%s/dev1.img", dir);
	snprintf(files, sizeof(files), " %s", path);
	ret = run_cmd("truncate -s 8G '%s' && " REF_MKFS " -f '%s' "
		      ">'%s/mkfs.log' 2>&1", path, path, dir);
	ok(ret == 0, "%s: reference mkfs.btrfs", what);
	if (ret)
		goto out;
	first_err[0] = '\0';
	new_chunks_from = ~0ULL;
	ret = verify_image(paths, 1, NULL, NULL);
	if (!ret)
		ret = open_image(paths, 1, OPEN_CTREE_WRITES, &fs);
	if (ret)
		goto report;
	type = type_of(fs, BTRFS_BLOCK_GROUP_SYSTEM);
	trans = btrfs_start_transaction(fs);
	ret = IS_ERR(trans) ? (int)PTR_ERR(trans) : 0;
	while (!ret) {
		before = btrfs_super_sys_array_size(&fs->super_copy);
		ret = btrfs_alloc_chunk(trans, type, NULL);
		if (!ret) {
			entry = btrfs_super_sys_array_size(&fs->super_copy) -
				before;
			made++;
		}
	}
	if (ret == -ENOSPC && made > 0 &&
	    btrfs_super_sys_array_size(&fs->super_copy) == before &&
	    before + entry > BTRFS_SYSTEM_CHUNK_ARRAY_SIZE) {
		ret = btrfs_commit_transaction(trans);
	} else {
		if (!IS_ERR(trans))
			btrfs_abort_transaction(trans);
		ret = bad("btrfs_alloc_chunk returned %d after %d chunks, "
			  "array at %u bytes", ret, made, before);
	}
	close_ctree(fs);
	if (!ret)
		ret = verify_image(paths, 1, NULL, &nr_sys);
report:
	ok(!ret, "%s: %d made, then ENOSPC with %u of 2048 bytes used "
	   "(%u per entry); %zu system chunks in the array and the chunk "
	   "tree %s", what, made, before, entry, nr_sys, first_err);
	if (ret || ref_check(dir, files, what))
		goto out;
	kernel_round_trip(dir, files, &m, false, what);
	ref_check(dir, files, what);
out:
	unlink(path);
	run_cmd("rm -rf '%s'", dir);
}

int main(int argc, char **argv)
{
	const char *why_not;

	(void)argc;
	(void)argv;
	why_not = kernel_unavailable(NEED_REF_MKFS | NEED_REF_BTRFS);
	if (why_not) {
		printf("1..0 # SKIP %s\n", why_not);
		return 0;
	}
	for (size_t i = 0; i < sizeof(configs) / sizeof(configs[0]); i++)
		test_config(&configs[i], 1000 + i);
	test_sys_array_full();
	printf("1..%d\n", tap_count);
	return tap_failed ? 1 : 0;
}
