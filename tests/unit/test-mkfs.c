// SPDX-License-Identifier: GPL-2.0
/*
 * btrfs_make_filesystem() on sparse image files, one configuration after
 * another (node sizes, checksums, profiles over 1-4 files, mixed groups,
 * features, quota, sizes from the minimum to 1TiB).  For each, printed as
 * TAP:
 *
 * - our engine opens the result read-only and reads every tree, and opens
 *   it for writing (which loads the block groups and checks that their
 *   used bytes equal the extents);
 * - the reference `btrfs check` passes;
 * - with redundant multi-device profiles, the kernel mounts it read-only
 *   and degraded without each device (RAID6: each pair), rebuilding from
 *   the other copies or, for RAID5/6, from the parity we wrote;
 * - the kernel mounts it, a read-only scrub finds no error, a file is
 *   written, read back
 *   after a remount (sha256) and the filesystem unmounted; the reference
 *   check passes again;
 * - for configurations the reference mkfs.btrfs 6.2 can make too: the same
 *   trees with the same item types (dump-tree), the same superblock flags
 *   and fields except uuids, sizes, addresses and generations, and the
 *   same chunks (type, length, number of stripes).
 *
 * Needs root, loop devices and the kernel's btrfs for the kernel steps and
 * the reference tools for the others; what is missing is skipped with the
 * reason.  MKFS_TEST_ONLY=NAME runs one configuration.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>
#include <uuid/uuid.h>

#include "common/csum.h"
#include "kernel-shared/ctree.h"
#include "kernel-shared/disk-io.h"
#include "kernel-shared/mkfs.h"
#include "tests/unit/unit-util.h"

#define MAX_DEVS 4

#define KiB(x) ((u64)(x) << 10)
#define MiB(x) ((u64)(x) << 20)
#define GiB(x) ((u64)(x) << 30)
#define TiB(x) ((u64)(x) << 40)

/* ------------------------------------------------------------------ */
/* Configurations. */

#define DEFAULT_INCOMPAT (BTRFS_FEATURE_INCOMPAT_MIXED_BACKREF | \
			  BTRFS_FEATURE_INCOMPAT_EXTENDED_IREF | \
			  BTRFS_FEATURE_INCOMPAT_SKINNY_METADATA | \
			  BTRFS_FEATURE_INCOMPAT_NO_HOLES)
#define FST (BTRFS_FEATURE_COMPAT_RO_FREE_SPACE_TREE | \
	     BTRFS_FEATURE_COMPAT_RO_FREE_SPACE_TREE_VALID)
#define BGT BTRFS_FEATURE_COMPAT_RO_BLOCK_GROUP_TREE

struct mkfs_case {
	const char *name;
	int nr_devs;
	u64 size;		/* of each device */
	u32 nodesize;
	u16 csum;
	u64 data;		/* profiles */
	u64 meta;
	bool mixed;
	u64 incompat_off;	/* taken out of the defaults */
	u64 compat_ro;
	bool quota;
	const char *ref_args;	/* reference mkfs options, NULL: no compare */
};

#define P(x) BTRFS_BLOCK_GROUP_##x

static const struct mkfs_case cases[] = {
	{ "default-1g", 1, GiB(1), 16384, 0, 0, P(DUP), false, 0, FST, false,
	  "" },
	{ "min-default", 1, 0, 16384, 0, 0, P(DUP), false, 0, FST, false,
	  "" },
	{ "128m", 1, MiB(128), 16384, 0, 0, P(DUP), false, 0, FST, false,
	  "" },
	{ "10g", 1, GiB(10), 16384, 0, 0, P(DUP), false, 0, FST, false, "" },
	{ "100g", 1, GiB(100), 16384, 0, 0, P(DUP), false, 0, FST, false,
	  "" },
	{ "1t", 1, TiB(1), 16384, 0, 0, P(DUP), false, 0, FST, false, "" },
	{ "node4k", 1, GiB(1), 4096, 0, 0, P(DUP), false, 0, FST, false,
	  "-n 4096" },
	{ "node64k", 1, GiB(1), 65536, 0, 0, P(DUP), false, 0, FST, false,
	  "-n 65536" },
	{ "xxhash", 1, GiB(1), 16384, BTRFS_CSUM_TYPE_XXHASH, 0, P(DUP), false,
	  0, FST, false, "--csum xxhash" },
	{ "sha256", 1, GiB(1), 16384, BTRFS_CSUM_TYPE_SHA256, 0, P(DUP), false,
	  0, FST, false, "--csum sha256" },
	{ "blake2", 1, GiB(1), 16384, BTRFS_CSUM_TYPE_BLAKE2, 0, P(DUP), false,
	  0, FST, false, "--csum blake2" },
	{ "single-single", 1, GiB(1), 16384, 0, 0, 0, false, 0, FST, false,
	  "-m single -d single" },
	{ "min-single", 1, 0, 16384, 0, 0, 0, false, 0, FST, false, NULL },
	{ "dup-dup", 1, GiB(1), 16384, 0, P(DUP), P(DUP), false, 0, FST, false,
	  "-m dup -d dup" },
	{ "mixed", 1, GiB(1), 4096, 0, 0, 0, true, 0, FST, false, "-M" },
	{ "mixed-dup", 1, GiB(1), 4096, 0, P(DUP), P(DUP), true, 0, FST, false,
	  "-M -m dup -d dup" },
	{ "min-mixed", 1, 0, 4096, 0, 0, 0, true, 0, FST, false, NULL },
	{ "no-holes-off", 1, GiB(1), 16384, 0, 0, P(DUP), false,
	  BTRFS_FEATURE_INCOMPAT_NO_HOLES, FST, false, "-O ^no-holes" },
	{ "no-fst", 1, GiB(1), 16384, 0, 0, P(DUP), false, 0, 0, false,
	  "-R ^free-space-tree" },
	{ "not-skinny", 1, GiB(1), 16384, 0, 0, P(DUP), false,
	  BTRFS_FEATURE_INCOMPAT_SKINNY_METADATA, FST, false,
	  "-O ^skinny-metadata" },
	{ "bg-tree", 1, GiB(1), 16384, 0, 0, P(DUP), false, 0, FST | BGT,
	  false, NULL },
	{ "quota", 1, GiB(1), 16384, 0, 0, P(DUP), false, 0, FST, true,
	  "-R quota" },
	{ "raid0", 2, GiB(1), 16384, 0, P(RAID0), P(RAID0), false, 0, FST,
	  false, "-m raid0 -d raid0" },
	{ "raid1", 2, GiB(1), 16384, 0, P(RAID1), P(RAID1), false, 0, FST,
	  false, "-m raid1 -d raid1" },
	{ "raid1-single", 2, GiB(1), 16384, 0, 0, P(RAID1), false, 0, FST,
	  false, "-m raid1 -d single" },
	{ "raid10", 4, GiB(1), 16384, 0, P(RAID10), P(RAID10), false, 0, FST,
	  false, "-m raid10 -d raid10" },
	{ "raid1c3", 3, GiB(1), 16384, 0, P(RAID1C3), P(RAID1C3), false, 0,
	  FST, false, "-m raid1c3 -d raid1c3" },
	{ "raid1c4", 4, GiB(1), 16384, 0, P(RAID1C4), P(RAID1C4), false, 0,
	  FST, false, "-m raid1c4 -d raid1c4" },
	{ "min-raid1", 2, 0, 16384, 0, P(RAID1), P(RAID1), false, 0, FST,
	  false, NULL },
	{ "raid0-3dev-4k", 3, GiB(2), 4096, BTRFS_CSUM_TYPE_XXHASH, P(RAID0),
	  P(RAID1), false, 0, FST | BGT, true, NULL },
	{ "raid5", 3, GiB(1), 16384, 0, P(RAID5), P(RAID5), false, 0, FST,
	  false, "-m raid5 -d raid5" },
	{ "raid6", 4, GiB(1), 16384, 0, P(RAID6), P(RAID6), false, 0, FST,
	  false, "-m raid6 -d raid6" },
	{ "raid6-10g-64k", 4, GiB(10), 65536, BTRFS_CSUM_TYPE_SHA256,
	  P(RAID6), P(RAID6), false, 0, FST, false,
	  "-n 65536 --csum sha256 -m raid6 -d raid6" },
	{ "raid5-data", 3, GiB(1), 16384, 0, P(RAID5), P(RAID1), false, 0, FST,
	  false, "-m raid1 -d raid5" },
	{ "min-raid5", 3, 0, 16384, 0, P(RAID5), P(RAID5), false, 0, FST,
	  false, NULL },
	{ "single-4dev", 4, MiB(512), 16384, 0, 0, 0, false, 0, FST, false,
	  "-m single -d single" },
	{ "mixed-quota", 1, GiB(2), 4096, 0, 0, 0, true, 0, FST, true,
	  "-M -R quota" },
	{ "raid10-64k-bgt", 4, GiB(1), 65536, BTRFS_CSUM_TYPE_BLAKE2,
	  P(RAID10), P(RAID10), false, BTRFS_FEATURE_INCOMPAT_SKINNY_METADATA,
	  FST | BGT, true, NULL },
};

/* ------------------------------------------------------------------ */
/* Making the filesystem. */

struct images {
	char dir[256];
	char paths[MAX_DEVS][300];
	struct btrfs_io *ios[MAX_DEVS];
	int nr;
};

static void images_close(struct images *im)
{
	for (int i = 0; i < im->nr; i++) {
		btrfs_io_close(im->ios[i]);
		im->ios[i] = NULL;
	}
}

static void fill_config(const struct mkfs_case *c, u64 size,
			struct btrfs_mkfs_device *devs,
			struct btrfs_mkfs_config *cfg, const struct images *im)
{
	memset(cfg, 0, sizeof(*cfg));
	for (int i = 0; i < c->nr_devs; i++) {
		devs[i].io = im->ios[i];
		devs[i].path = im->paths[i];
		devs[i].size = size;
		uuid_generate(devs[i].uuid);
	}
	cfg->devices = devs;
	cfg->nr_devices = c->nr_devs;
	snprintf(cfg->label, sizeof(cfg->label), "mkfs-%s", c->name);
	uuid_generate(cfg->fsid);
	cfg->nodesize = c->nodesize;
	cfg->sectorsize = 4096;
	cfg->csum_type = c->csum;
	cfg->data_profile = c->data;
	cfg->metadata_profile = c->meta;
	cfg->mixed = c->mixed;
	cfg->incompat_flags = DEFAULT_INCOMPAT & ~c->incompat_off;
	if (c->mixed)
		cfg->incompat_flags |= BTRFS_FEATURE_INCOMPAT_MIXED_GROUPS;
	cfg->compat_ro_flags = c->compat_ro;
	cfg->quota = c->quota;
}

static int images_create(struct images *im, const char *tmp, int nr,
			 u64 size)
{
	im->nr = nr;
	snprintf(im->dir, sizeof(im->dir), "%s", tmp);
	for (int i = 0; i < nr; i++) {
		snprintf(im->paths[i], sizeof(im->paths[i]), "%s/dev%d.img",
			 tmp, i);
		unlink(im->paths[i]);
		int fd = open(im->paths[i], O_RDWR | O_CREAT | O_TRUNC, 0600);

		im->ios[i] = NULL;
		if (fd < 0)
			return -1;
		if (ftruncate(fd, (off_t)size)) {
			close(fd);
			return -1;
		}
		close(fd);
		if (btrfs_io_open(im->paths[i], BTRFS_IO_WRITE, &im->ios[i]))
			return -1;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Our engine reads it back. */

struct walk_count {
	u64 blocks;
	int errors;
};

static int count_visit(struct extent_buffer *eb, void *ctx)
{
	(void)eb;
	((struct walk_count *)ctx)->blocks++;
	return 0;
}

static void count_error(u64 bytenr, int err, void *ctx)
{
	(void)bytenr;
	(void)err;
	((struct walk_count *)ctx)->errors++;
}

/* Walk every tree the root tree lists; *trees gets the number. */
static int walk_all_trees(struct btrfs_fs_info *fs, int *trees,
			  struct walk_count *wc)
{
	struct btrfs_tree_walk_ops ops = { count_visit, count_error };
	struct btrfs_key key = { 0, BTRFS_ROOT_ITEM_KEY, 0 };
	struct btrfs_path *path = btrfs_alloc_path();
	int ret;

	*trees = 0;
	btrfs_walk_tree(fs, fs->chunk_root->node, false, &ops, wc);
	btrfs_walk_tree(fs, fs->tree_root->node, false, &ops, wc);
	ret = btrfs_search_slot_for_read(fs->tree_root, &key, path);
	while (ret == 0) {
		btrfs_item_key_to_cpu(path->nodes[0], &key, path->slots[0]);
		if (key.type == BTRFS_ROOT_ITEM_KEY) {
			struct btrfs_root *root = btrfs_read_tree_root(fs, &key);

			if (IS_ERR(root)) {
				wc->errors++;
			} else {
				btrfs_walk_tree(fs, root->node, false, &ops, wc);
				btrfs_free_root(root);
				(*trees)++;
			}
		}
		ret = btrfs_next_item(fs->tree_root, path);
	}
	btrfs_free_path(path);
	return ret < 0 ? ret : 0;
}

static int open_fs(const struct images *im, unsigned int flags,
		   struct btrfs_fs_info **fs)
{
	const char *paths[MAX_DEVS];
	struct open_ctree_args args = { 0 };

	for (int i = 0; i < im->nr; i++)
		paths[i] = im->paths[i];
	args.devices = paths;
	args.nr_devices = im->nr;
	args.flags = flags | OPEN_CTREE_NO_SCAN;
	return open_ctree(&args, fs, NULL);
}

/* The trees a configuration must have. */
static bool expected_trees(const struct mkfs_case *c, struct btrfs_fs_info *fs)
{
	return fs->extent_root && fs->dev_root && fs->fs_root &&
	       fs->csum_root && fs->uuid_root &&
	       !fs->quota_root == !c->quota &&
	       !fs->free_space_root == !(c->compat_ro & FST) &&
	       !fs->block_group_root == !(c->compat_ro & BGT);
}

static void verify_ours(const struct mkfs_case *c, const struct images *im)
{
	struct btrfs_fs_info *fs;
	struct walk_count wc = { 0 };
	int trees = 0, ret;

	ret = open_fs(im, 0, &fs);
	ok(ret == 0, "%s: our engine opens the new filesystem (%d)", c->name,
	   ret);
	if (ret)
		return;
	ret = walk_all_trees(fs, &trees, &wc);
	ok(ret == 0 && wc.errors == 0 && trees >= 6 &&
	   btrfs_super_magic(&fs->super_copy) == BTRFS_MAGIC &&
	   expected_trees(c, fs),
	   "%s: every tree reads (%d trees, %llu blocks, %d errors), the "
	   "expected trees exist, real magic", c->name, trees,
	   (unsigned long long)wc.blocks, wc.errors);
	close_ctree(fs);
	ret = open_fs(im, OPEN_CTREE_WRITES, &fs);
	ok(ret == 0 && fs->nr_block_groups >= 2,
	   "%s: opens for writing: block groups load, used bytes match the "
	   "extents (%d)", c->name, ret);
	if (!ret)
		close_ctree(fs);
}

/* ------------------------------------------------------------------ */
/* Oracles. */

/* "f1 f2 ..." of the images. */
static void file_list(const struct images *im, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (int i = 0; i < im->nr && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s ",
					im->paths[i]);
}

/* Reference check; several devices go through loop devices. */
static void ref_check(const struct mkfs_case *c, const struct images *im,
		      const char *when)
{
	char files[1400];

	file_list(im, files, sizeof(files));
	ref_check_files(im->dir, files, "%s: reference btrfs check passes %s",
			c->name, when);
}

/*
 * Mount through loop devices, write 3MiB of random data and a directory,
 * remount, compare the sha256, unmount.  Loop devices are always detached.
 */
static void kernel_round_trip(const struct mkfs_case *c,
			      const struct images *im)
{
	char files[1400];
	int rc;

	file_list(im, files, sizeof(files));
	rc = run_cmd(
		"d='%s'; m=$d/mnt; mkdir -p $m; L=''; rc=0; "
		"for f in %s; do l=$(losetup -f --show $f) || exit 90; "
		"L=\"$L $l\"; done; "
		REF_BTRFS " device scan $L >/dev/null 2>&1; "
		"set -- $L; "
		"if mount -t btrfs $1 $m 2>$d/mount.log; then "
		"  " REF_BTRFS " scrub start -B -r $m >$d/scrub.log 2>&1 || rc=4; "
		"  mkdir $m/dir && head -c 3145728 /dev/urandom >$m/dir/file && "
		"  s1=$(sha256sum <$m/dir/file) && umount $m && "
		"  mount -t btrfs $1 $m && s2=$(sha256sum <$m/dir/file) && "
		"  [ \"$s1\" = \"$s2\" ] || rc=2; "
		"  umount $m || { umount -l $m; rc=3; }; "
		"else rc=1; fi; "
		"for l in $L; do losetup -d $l; done; exit $rc",
		im->dir, files);
	ok(rc == 0, "%s: the kernel mounts it, a read-only scrub finds no "
	   "error, it writes a file and reads it back after a remount, "
	   "unmounts (%d)", c->name, rc);
	if (rc == 4) {
		char log[300];

		snprintf(log, sizeof(log), "%s/scrub.log", im->dir);
		show_file(log, 20);
	}
	if (rc == 1) {
		char log[300];

		snprintf(log, sizeof(log), "%s/mount.log", im->dir);
		show_file(log, 10);
		run_cmd("dmesg | tail -n 15 | sed 's/^/# /'");
	}
}

/* Copies a chunk of @profile survives losing (0: none). */
static int tolerated_failures(u64 profile)
{
	if (profile & (BTRFS_BLOCK_GROUP_RAID1C4))
		return 3;
	if (profile & (BTRFS_BLOCK_GROUP_RAID1C3 | BTRFS_BLOCK_GROUP_RAID6))
		return 2;
	if (profile & (BTRFS_BLOCK_GROUP_RAID1 | BTRFS_BLOCK_GROUP_RAID10 |
		       BTRFS_BLOCK_GROUP_RAID5))
		return 1;
	return 0;
}

/*
 * Redundant multi-device profiles: the kernel mounts the filesystem
 * read-only and degraded without each device (RAID6: each pair), so every
 * tree block it reads at mount comes from the other copies, or for
 * RAID5/6 is rebuilt from the parity we wrote.
 */
static void kernel_degraded(const struct mkfs_case *c, const struct images *im)
{
	int lose = min_t(int, tolerated_failures(c->meta),
			 tolerated_failures(c->data));
	int failed = 0, tried = 0;

	lose = min_t(int, lose, 2);
	if (c->nr_devs < 2 || c->mixed || lose == 0)
		return;
	for (int a = 0; a < im->nr; a++) {
		int first = lose > 1 ? a + 1 : a;
		int end = lose > 1 ? im->nr : a + 1;

		for (int b = first; b < end; b++) {
			char files[1400] = "";
			int rc;

			for (int i = 0; i < im->nr; i++) {
				if (i == a || i == b)
					continue;
				strcat(files, im->paths[i]);
				strcat(files, " ");
			}
			rc = run_cmd(
				"d='%s'; m=$d/mnt; mkdir -p $m; L=''; rc=0; "
				"for f in %s; do l=$(losetup -f --show $f) || "
				"exit 90; L=\"$L $l\"; done; "
				REF_BTRFS " device scan $L >/dev/null 2>&1; "
				"set -- $L; "
				"if mount -t btrfs -o ro,degraded $1 $m "
				"2>/dev/null; then ls $m >/dev/null || rc=2; "
				"umount $m || { umount -l $m; rc=3; }; "
				"else rc=1; fi; "
				"for l in $L; do losetup -d $l; done; exit $rc",
				im->dir, files);
			tried++;
			if (rc) {
				failed++;
				printf("# without device %d%s%.0d: exit %d\n", a,
				       b != a ? " and " : "", b != a ? b : 0, rc);
			}
		}
	}
	ok(failed == 0, "%s: the kernel mounts it degraded without any %d "
	   "device%s (%d of %d combinations failed)", c->name, lose,
	   lose > 1 ? "s" : "", failed, tried);
}

/*
 * Normal form of dump-tree output: one "tree: ITEM_TYPE" line per tree and
 * item type, sorted, unique.
 */
#define NORMALIZE_TREES \
	"awk '/^[a-z][a-z ]* tree( key .*)?$/ { t = $0; sub(/ key .*/, \"\", t) } " \
	"/^\\titem [0-9]+ key \\(/ { s = $0; sub(/^.*key \\(/, \"\", s); " \
	"split(s, w, \" \"); print t \": \" w[2] }' | sort -u"

/* Superblock fields that must match (values, not uuids or sizes). */
#define SUPER_FIELDS \
	"grep -E '^(flags|magic|csum_type|csum_size|sectorsize|nodesize|" \
	"leafsize|stripesize|root_dir|num_devices|compat_flags|" \
	"compat_ro_flags|incompat_flags|cache_generation|" \
	"uuid_tree_generation|log_root|root_level|chunk_root_level|" \
	"dev_item.type|dev_item.io_align|dev_item.io_width|" \
	"dev_item.sector_size|dev_item.dev_group|dev_item.seek_speed|" \
	"dev_item.bandwidth|dev_item.generation|sys_array_size)\\b' | " \
	"sed 's/\\[match\\]//'"

/* The chunks as "type length num_stripes" lines. */
#define FIRST_CHUNKS \
	"awk '/length/ { l = $2; t = $8 } /num_stripes/ { print t, l, $2 }' | " \
	"sort"

/*
 * Run dump-@what on the first of @files through @filter into @out; several
 * files go through loop devices and a device scan, so that every stripe
 * can be read.
 */
static int dump_once(const char *files, int nr, const char *what,
		     const char *filter, const char *out)
{
	if (nr == 1)
		return run_cmd(REF_BTRFS " inspect-internal %s %s 2>/dev/null | "
			       "%s >'%s'", what, files, filter, out);
	return run_cmd("L=''; for f in %s; do "
		       "L=\"$L $(losetup -f --show $f)\" || exit 90; done; "
		       REF_BTRFS " device scan $L >/dev/null 2>&1; set -- $L; "
		       REF_BTRFS " inspect-internal %s $1 2>/dev/null | %s "
		       ">'%s'; for l in $L; do losetup -d $l; done",
		       files, what, filter, out);
}

/*
 * Several devices are found by a blkid scan, which loop devices other
 * tests attach and detach at the same time can disturb: an empty dump is
 * retried (a real difference is never empty).
 */
static int dump_to(const char *files, int nr, const char *what,
		   const char *filter, const char *out)
{
	int rc = 0;

	for (int i = 0; i < 3; i++) {
		rc = dump_once(files, nr, what, filter, out);
		if (run_cmd("test -s '%s'", out) == 0)
			break;
	}
	return rc;
}

static void diff_report(const char *a, const char *b)
{
	run_cmd("diff '%s' '%s' | head -n 20 | sed 's/^/# /'", a, b);
}

static void compare_with_reference(const struct mkfs_case *c,
				   const struct images *im, u64 size)
{
	char files[1400], ref[MAX_DEVS][300], refs[1400] = "";
	char o[4][320], r[4][320];
	const char *names[] = { "trees", "super", "chunks" };
	int rc;

	for (int i = 0; i < im->nr; i++) {
		snprintf(ref[i], sizeof(ref[i]), "%s/ref%d.img", im->dir, i);
		strcat(refs, ref[i]);
		strcat(refs, " ");
	}
	rc = run_cmd("for f in %s; do rm -f $f; truncate -s %llu $f; done; "
		     REF_MKFS " -f %s %s >'%s/refmkfs.log' 2>&1", refs,
		     (unsigned long long)size, c->ref_args, refs, im->dir);
	if (rc) {
		ok(0, "%s: the reference mkfs.btrfs %s works (%d)", c->name,
		   c->ref_args, rc);
		return;
	}
	file_list(im, files, sizeof(files));
	for (int k = 0; k < 3; k++) {
		snprintf(o[k], sizeof(o[k]), "%s/ours.%s", im->dir, names[k]);
		snprintf(r[k], sizeof(r[k]), "%s/ref.%s", im->dir, names[k]);
	}
	dump_to(files, im->nr, "dump-tree", NORMALIZE_TREES, o[0]);
	dump_to(refs, im->nr, "dump-tree", NORMALIZE_TREES, r[0]);
	dump_to(files, 1, "dump-super -f", SUPER_FIELDS, o[1]);
	dump_to(refs, 1, "dump-super -f", SUPER_FIELDS, r[1]);
	dump_to(files, im->nr, "dump-tree -t chunk", FIRST_CHUNKS, o[2]);
	dump_to(refs, im->nr, "dump-tree -t chunk", FIRST_CHUNKS, r[2]);
	for (int k = 0; k < 3; k++) {
		rc = run_cmd("test -s '%s' && cmp -s '%s' '%s'", o[k], o[k],
			     r[k]);
		ok(rc == 0, "%s: %s equal the reference mkfs.btrfs %s's",
		   c->name, k == 0 ? "trees and item types" :
			    k == 1 ? "superblock fields" :
				     "chunks (type, length, stripes)",
		   c->ref_args);
		if (rc)
			diff_report(o[k], r[k]);
	}
	run_cmd("for f in %s; do rm -f $f; done", refs);
}

/* ------------------------------------------------------------------ */

static void run_case(const struct mkfs_case *c, const char *tmp)
{
	struct btrfs_mkfs_device devs[MAX_DEVS];
	struct btrfs_mkfs_config cfg;
	struct btrfs_mkfs_result res;
	struct images im = { 0 };
	const char *what = NULL;
	const char *why;
	u64 size = c->size;
	int ret;

	fill_config(c, 0, devs, &cfg, &im);
	if (!size)
		size = btrfs_mkfs_min_dev_size(&cfg);
	if (images_create(&im, tmp, c->nr_devs, size)) {
		ok(0, "%s: image files", c->name);
		return;
	}
	fill_config(c, size, devs, &cfg, &im);
	ret = btrfs_make_filesystem(&cfg, &res, &what);
	images_close(&im);
	ok(ret == 0, "%s: btrfs_make_filesystem on %d x %llu bytes (%d%s%s)",
	   c->name, c->nr_devs, (unsigned long long)size, ret,
	   ret ? ", " : "", ret && what ? what : "");
	if (ret)
		return;
	for (int i = 0; i < res.nr_chunks; i++)
		printf("# chunk %s 0x%llx %llu\n", c->name,
		       (unsigned long long)res.chunks[i].type,
		       (unsigned long long)res.chunks[i].length);
	verify_ours(c, &im);
	if (!have_reference()) {
		skip("%s: no reference btrfs-progs", c->name);
		return;
	}
	ref_check(c, &im, "on the new filesystem");
	if (c->ref_args)
		compare_with_reference(c, &im, size);
	why = kernel_unavailable(0);
	if (why) {
		skip("%s: %s", c->name, why);
	} else {
		kernel_degraded(c, &im);
		kernel_round_trip(c, &im);
		ref_check(c, &im, "after the kernel wrote");
	}
}

/* Refusals: what the frontend relies on. */
static void test_refusals(const char *tmp)
{
	struct mkfs_case c = { "refusals", 3, GiB(1), 16384, 0, 0, P(DUP),
			       false, 0, FST, false, NULL };
	struct btrfs_mkfs_device devs[MAX_DEVS];
	struct btrfs_mkfs_config cfg;
	struct btrfs_mkfs_result res;
	struct images im = { 0 };
	const char *what = NULL;
	int ret;

	if (images_create(&im, tmp, 3, GiB(1))) {
		ok(0, "refusals: image files");
		return;
	}
	fill_config(&c, GiB(1), devs, &cfg, &im);
	cfg.nr_devices = 0;
	ret = btrfs_make_filesystem(&cfg, &res, &what);
	ok(ret == -EINVAL, "no device is refused with -EINVAL (%d)", ret);
	cfg.nr_devices = 3;
	cfg.nodesize = 3000;
	ret = btrfs_make_filesystem(&cfg, &res, &what);
	ok(ret == -EINVAL, "a node size that is not a power of two is "
	   "refused with -EINVAL (%d)", ret);
	cfg.nodesize = 16384;
	cfg.compat_ro_flags = FST | BGT;
	cfg.incompat_flags &= ~BTRFS_FEATURE_INCOMPAT_NO_HOLES;
	ret = btrfs_make_filesystem(&cfg, &res, &what);
	ok(ret == -EINVAL, "a block group tree without no-holes (the kernel "
	   "would refuse it) is refused with -EINVAL (%d)", ret);
	images_close(&im);

	c.nr_devs = 1;
	c.data = 0;
	c.meta = P(DUP);
	if (images_create(&im, tmp, 1, MiB(16))) {
		ok(0, "refusals: image files");
		return;
	}
	fill_config(&c, MiB(16), devs, &cfg, &im);
	ret = btrfs_make_filesystem(&cfg, &res, &what);
	ok(ret == -ENOSPC && what && !strcmp(what, "planning the first chunks"),
	   "a 16MiB device for DUP metadata: -ENOSPC while %s (%d)",
	   what ? what : "?", ret);
	images_close(&im);
}

/* Is there a superblock with magic @magic at @off of @path? */
static bool magic_is(const char *path, u64 off, u64 magic)
{
	struct btrfs_super_block sb;
	int fd = open(path, O_RDONLY);
	bool found;

	if (fd < 0)
		return false;
	found = pread(fd, &sb, sizeof(sb), (off_t)off) == sizeof(sb) &&
		btrfs_super_magic(&sb) == magic;
	close(fd);
	return found;
}

static bool magic_at(const char *path, u64 off)
{
	return magic_is(path, off, BTRFS_MAGIC);
}

/*
 * A device layer for the interrupted mkfs: once the primary superblock has
 * been written (the end of the bootstrap), every read fails, so the engine
 * cannot open the new filesystem.
 */
struct broken_io {
	struct btrfs_io io;
	bool super_written;
};

static ssize_t broken_read(struct btrfs_io *io, void *buf, size_t len,
			   uint64_t off)
{
	if (((struct broken_io *)io)->super_written)
		return -EIO;
	return io->lower->ops->read(io->lower, buf, len, off);
}

static ssize_t broken_write(struct btrfs_io *io, const void *buf, size_t len,
			    uint64_t off)
{
	if (off <= BTRFS_SUPER_INFO_OFFSET && off + len > BTRFS_SUPER_INFO_OFFSET)
		((struct broken_io *)io)->super_written = true;
	return io->lower->ops->write(io->lower, buf, len, off);
}

static int broken_flush(struct btrfs_io *io)
{
	return io->lower->ops->flush(io->lower);
}

static int broken_discard(struct btrfs_io *io, uint64_t off, uint64_t len)
{
	return io->lower->ops->discard(io->lower, off, len);
}

static int broken_close(struct btrfs_io *io)
{
	free(io);
	return 0;
}

static const struct btrfs_io_ops broken_ops = {
	.read = broken_read,
	.write = broken_write,
	.flush = broken_flush,
	.discard = broken_discard,
	.close = broken_close,
};

/*
 * An mkfs interrupted after the bootstrap (here: the engine cannot read
 * the device any more) leaves only temporary-magic superblocks: the
 * reference check and the kernel refuse the device.
 */
static void test_interrupted(const char *tmp)
{
	struct mkfs_case c = { "interrupted", 1, GiB(1), 16384, 0, 0, P(DUP),
			       false, 0, FST, false, NULL };
	struct btrfs_mkfs_device devs[MAX_DEVS];
	struct btrfs_mkfs_config cfg;
	struct btrfs_mkfs_result res;
	struct images im = { 0 };
	struct broken_io *broken;
	const char *what = NULL;
	const char *why;
	int ret, rc;

	if (images_create(&im, tmp, 1, GiB(1))) {
		ok(0, "interrupted: image files");
		return;
	}
	broken = calloc(1, sizeof(*broken));
	if (!broken) {
		ok(0, "interrupted: memory");
		images_close(&im);
		return;
	}
	btrfs_io_init_layer(&broken->io, &broken_ops, im.ios[0]);
	im.ios[0] = &broken->io;
	fill_config(&c, GiB(1), devs, &cfg, &im);
	ret = btrfs_make_filesystem(&cfg, &res, &what);
	images_close(&im);
	ok(ret < 0 && what && !strcmp(what, "opening the new filesystem") &&
	   magic_is(im.paths[0], btrfs_sb_offset(0), BTRFS_MAGIC_TEMPORARY) &&
	   !magic_at(im.paths[0], btrfs_sb_offset(1)),
	   "interrupted: fails while %s (%d), the device has only a "
	   "temporary-magic superblock", what ? what : "?", ret);
	if (!have_reference()) {
		skip("interrupted: no reference btrfs");
		return;
	}
	rc = run_cmd(REF_BTRFS " check '%s' >/dev/null 2>&1", im.paths[0]);
	ok(rc != 0, "interrupted: the reference check refuses it (exit %d)",
	   rc);
	why = kernel_unavailable(0);
	if (why) {
		skip("interrupted: %s", why);
		return;
	}
	rc = run_cmd("m='%s/mnt'; mkdir -p $m; "
		     "if mount -o loop '%s' $m 2>/dev/null; then umount $m; "
		     "exit 1; fi; exit 0", tmp, im.paths[0]);
	ok(rc == 0, "interrupted: the kernel does not mount it (%d)", rc);
}

/*
 * A filesystem smaller than its file (mkfs -b) over an older btrfs: the
 * old superblock copy at 64MiB, beyond the new filesystem, is wiped.
 */
static void test_stale_mirror(const char *tmp)
{
	struct mkfs_case c = { "stale-mirror", 1, MiB(60), 16384, 0, 0, 0,
			       false, 0, FST, false, NULL };
	struct btrfs_mkfs_device devs[MAX_DEVS];
	struct btrfs_mkfs_config cfg;
	struct btrfs_mkfs_result res;
	struct images im = { 0 };
	const char *what = NULL;
	int ret;

	if (!have_reference()) {
		skip("stale mirror: no reference mkfs.btrfs");
		return;
	}
	if (images_create(&im, tmp, 1, MiB(300)) ||
	    run_cmd(REF_MKFS " -f '%s' >/dev/null 2>&1", im.paths[0]) ||
	    !magic_at(im.paths[0], btrfs_sb_offset(1))) {
		ok(0, "stale mirror: a reference filesystem with a copy at "
		   "64MiB");
		images_close(&im);
		return;
	}
	fill_config(&c, MiB(60), devs, &cfg, &im);
	ret = btrfs_make_filesystem(&cfg, &res, &what);
	images_close(&im);
	im.nr = 1;
	ok(ret == 0 && !magic_at(im.paths[0], btrfs_sb_offset(1)) &&
	   magic_at(im.paths[0], btrfs_sb_offset(0)),
	   "stale mirror: a 60MiB filesystem over an old 300MiB one wipes "
	   "the old copy at 64MiB (%d)", ret);
	if (!ret)
		ref_check(&c, &im, "on the new filesystem");
}

int main(void)
{
	const char *only = getenv("MKFS_TEST_ONLY");
	char tmp[] = "/var/tmp/test-mkfs.XXXXXX";

	if (!mkdtemp(tmp)) {
		printf("1..0 # SKIP no temporary directory\n");
		return 0;
	}
	test_refusals(tmp);
	test_stale_mirror(tmp);
	test_interrupted(tmp);
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		if (only && strcmp(only, cases[i].name))
			continue;
		run_case(&cases[i], tmp);
	}
	run_cmd("rm -rf '%s'", tmp);
	printf("1..%d\n", tap_count);
	return tap_failed ? 1 : 0;
}
