// SPDX-License-Identifier: GPL-2.0
/*
 * The repair open mode (OPEN_CTREE_REPAIR), printed as TAP.
 *
 * On images made by the reference mkfs.btrfs and damaged with
 * tests/tools/btrfs-corrupt: accounting that does not add up (block group
 * used, device bytes used in the chunk tree and in the superblock,
 * superblock bytes used) is refused by a plain write open and accepted by
 * a repair open, which lists each finding with the value found and the
 * recomputed one; an empty commit then writes the recomputed values, after
 * which a plain write open succeeds and the reference btrfs check passes.
 * A log tree is refused unless OPEN_CTREE_ZERO_LOG drops it; a backup root
 * and another superblock copy may be opened for writing in repair mode
 * only; a damaged tree the write path needs is still refused; and a read
 * open never accepts the repair flags.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/csum.h"
#include "kernel-shared/ctree.h"
#include "kernel-shared/disk-io.h"
#include "kernel-shared/extent-tree.h"
#include "kernel-shared/transaction.h"
#include "kernel-shared/volumes.h"
#include "tests/unit/unit-util.h"

static char corrupt_bin[600];

static int open_fs(const char *img, unsigned int flags, int mirror,
		   struct btrfs_fs_info **fs, struct open_ctree_error *why)
{
	const char *devs[1] = { img };
	struct open_ctree_args args = {
		.devices = devs, .nr_devices = 1, .super_mirror = mirror,
		.flags = flags | OPEN_CTREE_NO_SCAN,
	};

	return open_ctree(&args, fs, why);
}

/* An empty transaction: what a repair commits first. */
static int empty_commit(struct btrfs_fs_info *fs)
{
	struct btrfs_trans_handle *trans = btrfs_start_transaction(fs);

	if (IS_ERR(trans))
		return (int)PTR_ERR(trans);
	return btrfs_commit_transaction(trans);
}

static int make_image(const char *dir, const char *name, const char *opts,
		      char *path, size_t len)
{
	snprintf(path, len, "%s/%s.img", dir, name);
	return run_cmd("rm -f '%s' && truncate -s 1G '%s' && " REF_MKFS
		       " -q -f %s '%s' >/dev/null 2>&1", path, path, opts,
		       path);
}

static int ref_check(const char *img)
{
	return run_cmd(REF_BTRFS " check '%s' >/dev/null 2>&1", img);
}

static u64 super_u64(const char *img, size_t off)
{
	struct btrfs_io *io;
	u8 buf[BTRFS_SUPER_INFO_SIZE];
	u64 v = 0;

	if (btrfs_io_open(img, 0, &io))
		return 0;
	if (!btrfs_io_pread(io, buf, sizeof(buf), BTRFS_SUPER_INFO_OFFSET))
		v = get_unaligned_le64(buf + off);
	btrfs_io_close(io);
	return v;
}

static const struct btrfs_open_fixup *find_fixup(const struct btrfs_fs_info *fs,
						 enum btrfs_open_fixup_kind k)
{
	for (size_t i = 0; i < fs->nr_open_fixups; i++)
		if (fs->open_fixups[i].kind == k)
			return &fs->open_fixups[i];
	return NULL;
}

/* The first data block group (start, used) of an open filesystem. */
static int first_data_bg(const char *img, u64 *start, u64 *used, u64 *len)
{
	struct btrfs_fs_info *fs;
	struct open_ctree_error why;
	int ret = open_fs(img, OPEN_CTREE_WRITES, 0, &fs, &why);

	if (ret)
		return ret;
	ret = -ENOENT;
	for (size_t i = 0; i < fs->nr_block_groups; i++) {
		const struct btrfs_block_group *bg = fs->block_groups[i];

		if (bg->flags & BTRFS_BLOCK_GROUP_METADATA) {
			*start = bg->start;
			*used = bg->used;
			*len = bg->length;
			ret = 0;
			break;
		}
	}
	close_ctree(fs);
	return ret;
}

static void test_accounting(const char *dir)
{
	const struct btrfs_open_fixup *f;
	struct btrfs_fs_info *fs = NULL;
	struct open_ctree_error why;
	u64 start = 0, used = 0, len = 0, sb_used, dev_used;
	char img[700];
	int ret;

	if (make_image(dir, "acct", "", img, sizeof(img)) ||
	    first_data_bg(img, &start, &used, &len)) {
		ok(0, "accounting: reference image with a metadata block group");
		return;
	}
	sb_used = super_u64(img, offsetof(struct btrfs_super_block, bytes_used));
	dev_used = super_u64(img, offsetof(struct btrfs_super_block, dev_item) +
			     offsetof(struct btrfs_dev_item, bytes_used));
	ret = run_cmd("'%s' '%s' --item extent %llu BLOCK_GROUP_ITEM %llu "
		      "--field used --value %llu >/dev/null && "
		      "'%s' '%s' --item chunk 1 DEV_ITEM 1 --field bytes_used "
		      "--value %llu >/dev/null && "
		      "'%s' '%s' --super-field bytes_used %llu >/dev/null && "
		      "'%s' '%s' --super-field dev_item.bytes_used %llu "
		      ">/dev/null", corrupt_bin, img,
		      (unsigned long long)start, (unsigned long long)len,
		      (unsigned long long)(used + 65536), corrupt_bin, img,
		      (unsigned long long)(dev_used + 1048576), corrupt_bin,
		      img, (unsigned long long)(sb_used + 12345), corrupt_bin,
		      img, (unsigned long long)(dev_used + 1048576));
	ok(ret == 0, "accounting: damage made with btrfs-corrupt");
	if (ret)
		return;

	ret = open_fs(img, OPEN_CTREE_WRITES, 0, &fs, &why);
	ok(ret == -EUCLEAN && why.what && !strcmp(why.what, "block groups"),
	   "accounting: a plain write open refuses it (%d at %s)", ret,
	   why.what ? why.what : "?");
	if (!ret)
		close_ctree(fs);

	ret = open_fs(img, OPEN_CTREE_REPAIR, 0, &fs, &why);
	ok(ret == -EINVAL, "accounting: the repair flag without writes is refused (%d)",
	   ret);
	if (!ret)
		close_ctree(fs);

	ret = open_fs(img, OPEN_CTREE_WRITES | OPEN_CTREE_REPAIR, 0, &fs, &why);
	ok(ret == 0, "accounting: a repair open accepts it (%d at %s)", ret,
	   ret && why.what ? why.what : "-");
	if (ret)
		return;
	f = find_fixup(fs, BTRFS_FIXUP_BG_USED);
	ok(f && f->id == start && f->found == used + 65536 &&
	   f->expected == used,
	   "accounting: block group %llu used %llu found, %llu recomputed",
	   (unsigned long long)start, f ? (unsigned long long)f->found : 0ULL,
	   f ? (unsigned long long)f->expected : 0ULL);
	f = find_fixup(fs, BTRFS_FIXUP_DEV_BYTES_USED);
	ok(f && f->id == 1 && f->found == dev_used + 1048576 &&
	   f->expected == dev_used,
	   "accounting: device 1 bytes used %llu found, %llu recomputed",
	   f ? (unsigned long long)f->found : 0ULL,
	   f ? (unsigned long long)f->expected : 0ULL);
	f = find_fixup(fs, BTRFS_FIXUP_SUPER_BYTES_USED);
	ok(f && f->found == sb_used + 12345 && f->expected == sb_used,
	   "accounting: superblock bytes used %llu found, %llu recomputed",
	   f ? (unsigned long long)f->found : 0ULL,
	   f ? (unsigned long long)f->expected : 0ULL);
	ok(fs->nr_open_fixups == 3, "accounting: three findings, no more (%zu)",
	   fs->nr_open_fixups);
	ret = empty_commit(fs);
	close_ctree(fs);
	ok(ret == 0, "accounting: the first commit writes the values (%d)", ret);

	ret = open_fs(img, OPEN_CTREE_WRITES, 0, &fs, &why);
	ok(ret == 0, "accounting: a plain write open accepts it now (%d)", ret);
	if (!ret)
		close_ctree(fs);
	ok(super_u64(img, offsetof(struct btrfs_super_block, bytes_used)) ==
	   sb_used, "accounting: superblock bytes used written back");
	if (have_reference())
		ok(ref_check(img) == 0, "accounting: the reference check passes");
	else
		skip("accounting: no reference btrfs");
}

static void test_log(const char *dir)
{
	struct btrfs_fs_info *fs = NULL;
	struct open_ctree_error why;
	const struct btrfs_open_fixup *f;
	char img[700];
	int ret;

	if (make_image(dir, "log", "", img, sizeof(img))) {
		ok(0, "log: reference image");
		return;
	}
	/* a log root pointing at a block that is no log tree */
	ret = run_cmd("'%s' '%s' --super-field log_root 30474240 >/dev/null && "
		      "'%s' '%s' --super-field log_root_level 0 >/dev/null",
		      corrupt_bin, img, corrupt_bin, img);
	ok(ret == 0, "log: log root set with btrfs-corrupt");
	ret = open_fs(img, OPEN_CTREE_WRITES | OPEN_CTREE_REPAIR, 0, &fs, &why);
	ok(ret != 0, "log: a repair open without ZERO_LOG refuses it (%d at %s)",
	   ret, why.what ? why.what : "?");
	if (!ret)
		close_ctree(fs);
	ret = open_fs(img, OPEN_CTREE_WRITES | OPEN_CTREE_ZERO_LOG, 0, &fs,
		      &why);
	ok(ret == -EINVAL, "log: ZERO_LOG without REPAIR is refused (%d)", ret);
	if (!ret)
		close_ctree(fs);
	ret = open_fs(img, OPEN_CTREE_WRITES | OPEN_CTREE_REPAIR |
		      OPEN_CTREE_ZERO_LOG, 0, &fs, &why);
	ok(ret == 0, "log: a repair open with ZERO_LOG accepts it (%d at %s)",
	   ret, ret && why.what ? why.what : "-");
	if (ret)
		return;
	f = find_fixup(fs, BTRFS_FIXUP_LOG_DROPPED);
	ok(f && f->id == 30474240, "log: the dropped log root is listed");
	ret = empty_commit(fs);
	close_ctree(fs);
	ok(ret == 0 &&
	   super_u64(img, offsetof(struct btrfs_super_block, log_root)) == 0,
	   "log: the commit clears the log root (%d)", ret);
	if (have_reference())
		ok(ref_check(img) == 0, "log: the reference check passes");
	else
		skip("log: no reference btrfs");
}

static void test_roots(const char *dir)
{
	struct btrfs_fs_info *fs = NULL;
	struct open_ctree_error why;
	char img[700];
	u64 gen;
	int ret;

	if (make_image(dir, "roots", "", img, sizeof(img))) {
		ok(0, "roots: reference image");
		return;
	}
	/* a few generations, so that backup roots exist */
	for (int i = 0; i < 3; i++) {
		ret = open_fs(img, OPEN_CTREE_WRITES, 0, &fs, &why);
		if (!ret) {
			ret = empty_commit(fs);
			close_ctree(fs);
		}
		if (ret)
			break;
	}
	ok(ret == 0, "roots: three commits (%d)", ret);
	gen = super_u64(img, offsetof(struct btrfs_super_block, generation));
	ret = open_fs(img, OPEN_CTREE_WRITES | OPEN_CTREE_BACKUP_ROOT, 0, &fs,
		      &why);
	ok(ret == -EINVAL, "roots: a plain write open refuses a backup root (%d)",
	   ret);
	if (!ret)
		close_ctree(fs);
	ret = open_fs(img, OPEN_CTREE_WRITES | OPEN_CTREE_REPAIR, 1, &fs, &why);
	ok(ret == 0, "roots: a repair open takes superblock copy 1 (%d at %s)",
	   ret, ret && why.what ? why.what : "-");
	if (!ret) {
		ret = empty_commit(fs);
		close_ctree(fs);
		ok(ret == 0 && super_u64(img, offsetof(struct btrfs_super_block,
						      generation)) == gen + 1,
		   "roots: its commit is the next generation (%d)", ret);
	}
	ret = open_fs(img, OPEN_CTREE_WRITES | OPEN_CTREE_REPAIR |
		      OPEN_CTREE_BACKUP_ROOT, 0, &fs, &why);
	ok(ret == 0, "roots: a repair open takes a backup root (%d at %s)", ret,
	   ret && why.what ? why.what : "-");
	if (!ret) {
		ret = empty_commit(fs);
		close_ctree(fs);
		ok(ret == 0, "roots: and commits it (%d)", ret);
	}
	if (have_reference())
		ok(ref_check(img) == 0, "roots: the reference check passes");
	else
		skip("roots: no reference btrfs");
}

/* A tree the write path needs, unreadable: still refused for writing. */
static void test_broken_tree(const char *dir)
{
	struct btrfs_fs_info *fs = NULL;
	struct open_ctree_error why;
	char img[700];
	u64 bytenr = 0;
	int ret;

	if (make_image(dir, "broken", "", img, sizeof(img))) {
		ok(0, "broken tree: reference image");
		return;
	}
	ret = open_fs(img, 0, 0, &fs, &why);
	if (!ret) {
		bytenr = fs->csum_root->node->start;
		close_ctree(fs);
	}
	ret = ret ? ret : run_cmd("'%s' '%s' --block %llu --offset 100 "
				  "--hex ffffffff --no-csum >/dev/null",
				  corrupt_bin, img,
				  (unsigned long long)bytenr);
	ok(ret == 0, "broken tree: checksum tree root damaged (%llu)",
	   (unsigned long long)bytenr);
	ret = open_fs(img, OPEN_CTREE_WRITES | OPEN_CTREE_REPAIR |
		      OPEN_CTREE_PARTIAL, 0, &fs, &why);
	ok(ret == -EUCLEAN && why.what && !strcmp(why.what, "csum tree"),
	   "broken tree: a partial repair open refuses to write without it (%d at %s)",
	   ret, why.what ? why.what : "?");
	if (!ret)
		close_ctree(fs);
	ret = open_fs(img, OPEN_CTREE_PARTIAL, 0, &fs, &why);
	ok(ret == 0 && fs && !fs->csum_root,
	   "broken tree: a partial read open still works (%d)", ret);
	if (!ret)
		close_ctree(fs);
}

int main(void)
{
	const char *build = getenv("TOP_BUILDDIR");
	char dir[] = "/tmp/test-open-repair.XXXXXX";

	snprintf(corrupt_bin, sizeof(corrupt_bin), "%s/tests/tools/btrfs-corrupt",
		 build ? build : ".");
	if (!have_reference() || !mkdtemp(dir)) {
		printf("1..0 # SKIP needs the reference mkfs.btrfs and a temporary directory\n");
		return 0;
	}
	test_accounting(dir);
	test_log(dir);
	test_roots(dir);
	test_broken_tree(dir);
	run_cmd("rm -rf '%s'", dir);
	printf("1..%d\n", tap_count);
	return tap_failed ? 1 : 0;
}
