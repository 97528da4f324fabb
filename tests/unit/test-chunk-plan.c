// SPDX-License-Identifier: GPL-2.0
/*
 * btrfs_plan_chunk() printed as TAP, in two parts.
 *
 * Rules: hand-made device layouts whose expected chunk was worked out on
 * paper from the kernel's rules (fs/btrfs/volumes.c: btrfs_raid_array,
 * init_alloc_chunk_ctl_policy_regular, gather_device_info,
 * find_free_dev_extent, decide_stripe_size_regular).  Each case names the
 * arithmetic in its comment.
 *
 * Kernel: filesystems made by the reference mkfs.btrfs on image files of
 * several sizes and profiles are mounted and filled, so that the kernel
 * allocates chunks.  Then every chunk the kernel made is replayed: the
 * free space of each device at the moment the chunk was made is rebuilt
 * from the dev extents of the chunks before it (chunks are made at
 * increasing logical addresses and none is removed while we only write),
 * and our plan for that free space must be the kernel's chunk: type,
 * length, stripe count and the same (devid, physical) stripes, in any
 * order.  The kernel sorts devices with an unstable sort, so among
 * devices with equal room it may pick another one than our stable sort:
 * such a chunk counts as alike when our plan with the kernel's devices
 * listed first is the kernel's chunk (the count is printed).  Needs
 * root, loop devices, the kernel's btrfs and the reference mkfs; skipped
 * with the reason otherwise.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "kernel-shared/ctree.h"
#include "kernel-shared/disk-io.h"
#include "kernel-shared/volumes.h"
#include "tests/unit/unit-util.h"

#define K (1ULL << 10)
#define M (1ULL << 20)
#define G (1ULL << 30)

#define DATA BTRFS_BLOCK_GROUP_DATA
#define META BTRFS_BLOCK_GROUP_METADATA
#define SYS BTRFS_BLOCK_GROUP_SYSTEM

/* ------------------------------------------------------------------ */
/* Rules, by hand. */

#define MAX_CASE_DEVS 300
#define MAX_CASE_RANGES 4

struct case_dev {
	struct btrfs_dev_free_range r[MAX_CASE_RANGES];
};

/* An expected stripe; devid 0 ends the list. */
struct exp_stripe {
	u64 devid;
	u64 physical;
};

struct plan_case {
	const char *name;
	u64 type;
	u64 total_bytes;
	u64 max_stripe;
	int nr_devs;
	struct case_dev devs[8];	/* devid = index + 1 */
	int ret;
	u64 length;
	u64 stripe_size;
	int num_stripes;
	int sub_stripes;
	struct exp_stripe stripes[8];
};

/* One free range [1MiB, size) per device. */
#define WHOLE(size) { { { 1 * M, (size) - 1 * M } } }

static const struct plan_case cases[] = {
	/* 10% of 10GiB = 1GiB = the data stripe limit: one full stripe. */
	{ "single data, 10GiB", DATA, 10 * G, 0, 1, { WHOLE(10 * G) },
	  0, 1 * G, 1 * G, 1, 1, { { 1, 1 * M } } },
	/*
	 * DUP metadata on 1GiB: wants 2 x 256MiB, the hole has it; the chunk
	 * (256MiB) is over 10% (107374182): stripe = round_up(107374182,
	 * 16MiB) = 112MiB; the second stripe follows the first.
	 */
	{ "dup metadata, 1GiB", META | BTRFS_BLOCK_GROUP_DUP, 1 * G, 0, 1,
	  { WHOLE(1 * G) }, 0, 112 * M, 112 * M, 2, 1,
	  { { 1, 1 * M }, { 1, 113 * M } } },
	/* 10% of 256MiB = 25.6MiB rounds up to 32MiB: no cut. */
	{ "dup system, 256MiB", SYS | BTRFS_BLOCK_GROUP_DUP, 256 * M, 0, 1,
	  { WHOLE(256 * M) }, 0, 32 * M, 32 * M, 2, 1,
	  { { 1, 1 * M }, { 1, 33 * M } } },
	/* 10% of 100MiB = 10MiB rounds up to 16MiB. */
	{ "dup system, 100MiB", SYS | BTRFS_BLOCK_GROUP_DUP, 100 * M, 0, 1,
	  { WHOLE(100 * M) }, 0, 16 * M, 16 * M, 2, 1,
	  { { 1, 1 * M }, { 1, 17 * M } } },
	/* Over 50GiB metadata stripes are 1GiB. */
	{ "raid1 metadata, 2 x 100GiB", META | BTRFS_BLOCK_GROUP_RAID1,
	  200 * G, 0, 2, { WHOLE(100 * G), WHOLE(100 * G) },
	  0, 1 * G, 1 * G, 2, 1, { { 1, 1 * M }, { 2, 1 * M } } },
	/* 50GiB exactly is not over 50GiB: 256MiB. */
	{ "raid1 metadata, 2 x 25GiB", META | BTRFS_BLOCK_GROUP_RAID1,
	  50 * G, 0, 2, { WHOLE(25 * G), WHOLE(25 * G) },
	  0, 256 * M, 256 * M, 2, 1, { { 1, 1 * M }, { 2, 1 * M } } },
	/* RAID10 on 4: two data stripes of 1GiB. */
	{ "raid10 data, 4 x 100GiB", DATA | BTRFS_BLOCK_GROUP_RAID10,
	  400 * G, 0, 4,
	  { WHOLE(100 * G), WHOLE(100 * G), WHOLE(100 * G), WHOLE(100 * G) },
	  0, 2 * G, 1 * G, 4, 2,
	  { { 1, 1 * M }, { 2, 1 * M }, { 3, 1 * M }, { 4, 1 * M } } },
	/*
	 * RAID10 on 5 unequal: 5 rounds down to 4, the biggest ones by free
	 * bytes (all have the 1GiB wanted): 5, 3, 2, 4; device 1 has 1GiB
	 * + 1MiB - 1MiB reserved = exactly 1GiB: still a candidate, but
	 * the smallest by total.
	 */
	{ "raid10 data, 5 unequal", DATA | BTRFS_BLOCK_GROUP_RAID10,
	  100 * G, 0, 5,
	  { WHOLE(1 * G + 1 * M), WHOLE(30 * G), WHOLE(40 * G),
	    WHOLE(20 * G), WHOLE(50 * G) },
	  0, 2 * G, 1 * G, 4, 2,
	  { { 5, 1 * M }, { 3, 1 * M }, { 2, 1 * M }, { 4, 1 * M } } },
	/*
	 * RAID1 on 3 unequal, 9GiB: 3 devices round down to 2 (the two
	 * with most free bytes); 10% = 966367641 < 1GiB: stripe =
	 * round_up(966367641, 16MiB) = 928MiB.
	 */
	{ "raid1 data, 3 unequal", DATA | BTRFS_BLOCK_GROUP_RAID1, 9 * G, 0, 3,
	  { WHOLE(1 * G), WHOLE(3 * G), WHOLE(5 * G) },
	  0, 928 * M, 928 * M, 2, 1, { { 3, 1 * M }, { 2, 1 * M } } },
	/* RAID1 when the second device has only 640MiB left. */
	{ "raid1 data, one nearly full", DATA | BTRFS_BLOCK_GROUP_RAID1,
	  200 * G, 0, 2,
	  { WHOLE(100 * G), { { { 99 * G + 384 * M, 640 * M } } } },
	  0, 640 * M, 640 * M, 2, 1,
	  { { 1, 1 * M }, { 2, 99 * G + 384 * M } } },
	/* RAID0 on one device is allowed (degenerate). */
	{ "raid0 data, 1 device", DATA | BTRFS_BLOCK_GROUP_RAID0, 20 * G, 0, 1,
	  { WHOLE(20 * G) }, 0, 1 * G, 1 * G, 1, 1, { { 1, 1 * M } } },
	/* RAID5 on 3: two data stripes. */
	{ "raid5 data, 3 x 10GiB", DATA | BTRFS_BLOCK_GROUP_RAID5, 30 * G, 0, 3,
	  { WHOLE(10 * G), WHOLE(10 * G), WHOLE(10 * G) },
	  0, 2 * G, 1 * G, 3, 1, { { 1, 1 * M }, { 2, 1 * M }, { 3, 1 * M } } },
	/* RAID6 on 3: one data stripe. */
	{ "raid6 data, 3 x 10GiB", DATA | BTRFS_BLOCK_GROUP_RAID6, 30 * G, 0, 3,
	  { WHOLE(10 * G), WHOLE(10 * G), WHOLE(10 * G) },
	  0, 1 * G, 1 * G, 3, 1, { { 1, 1 * M }, { 2, 1 * M }, { 3, 1 * M } } },
	/* RAID1C3 and RAID1C4 need 3 and 4 devices. */
	{ "raid1c3 metadata, 2 devices", META | BTRFS_BLOCK_GROUP_RAID1C3,
	  20 * G, 0, 2, { WHOLE(10 * G), WHOLE(10 * G) },
	  -ENOSPC, 0, 0, 0, 0, { { 0, 0 } } },
	{ "raid1c3 metadata, 4 devices", META | BTRFS_BLOCK_GROUP_RAID1C3,
	  40 * G, 0, 4,
	  { WHOLE(10 * G), WHOLE(10 * G), WHOLE(11 * G), WHOLE(10 * G) },
	  0, 256 * M, 256 * M, 3, 1,
	  { { 3, 1 * M }, { 1, 1 * M }, { 2, 1 * M } } },
	{ "raid1c4 system, 4 devices", SYS | BTRFS_BLOCK_GROUP_RAID1C4,
	  40 * G, 0, 4,
	  { WHOLE(10 * G), WHOLE(10 * G), WHOLE(10 * G), WHOLE(10 * G) },
	  0, 32 * M, 32 * M, 4, 1,
	  { { 1, 1 * M }, { 2, 1 * M }, { 3, 1 * M }, { 4, 1 * M } } },
	/*
	 * DUP without a hole for 2 x 256MiB: the first largest hole (300MiB
	 * at 200MiB) holds two 150MiB stripes.
	 */
	{ "dup metadata, fragmented", META | BTRFS_BLOCK_GROUP_DUP, 10 * G, 0,
	  1, { { { { 1 * M, 100 * M }, { 120 * M, 50 * M },
		  { 200 * M, 300 * M }, { 600 * M, 300 * M } } } },
	  0, 150 * M, 150 * M, 2, 1, { { 1, 200 * M }, { 1, 350 * M } } },
	/* The first hole big enough wins, even if a later one is bigger. */
	{ "single data, first fitting hole", DATA, 100 * G, 0, 1,
	  { { { { 1 * M, 100 * M }, { 2 * G, 1 * G }, { 4 * G, 50 * G } } } },
	  0, 1 * G, 1 * G, 1, 1, { { 1, 2 * G } } },
	/* Stripes round down to 64KiB. */
	{ "single metadata, odd hole", META, 100 * G, 0, 1,
	  { { { { 5 * M, 100 * M + 100 * K } } } },
	  0, 100 * M + 64 * K, 100 * M + 64 * K, 1, 1, { { 1, 5 * M } } },
	/* A range reaching into the first MiB is clipped. */
	{ "single system, reserved first MiB", SYS, 10 * G, 0, 1,
	  { { { { 0, 8 * M } } } }, 0, 7 * M, 7 * M, 1, 1, { { 1, 1 * M } } },
	/* Less than 64KiB is no room; DUP needs 128KiB. */
	{ "single data, 60KiB", DATA, 10 * G, 0, 1,
	  { { { { 1 * M, 60 * K } } } }, -ENOSPC, 0, 0, 0, 0, { { 0, 0 } } },
	{ "dup metadata, 100KiB", META | BTRFS_BLOCK_GROUP_DUP, 10 * G, 0, 1,
	  { { { { 1 * M, 100 * K } } } }, -ENOSPC, 0, 0, 0, 0, { { 0, 0 } } },
	{ "dup metadata, 128KiB", META | BTRFS_BLOCK_GROUP_DUP, 10 * G, 0, 1,
	  { { { { 1 * M, 128 * K } } } }, 0, 64 * K, 64 * K, 2, 1,
	  { { 1, 1 * M }, { 1, 1 * M + 64 * K } } },
	/* RAID1 with a device that has no room: ENOSPC. */
	{ "raid1 data, second device full", DATA | BTRFS_BLOCK_GROUP_RAID1,
	  20 * G, 0, 2, { WHOLE(10 * G), { { { 0, 0 } } } },
	  -ENOSPC, 0, 0, 0, 0, { { 0, 0 } } },
	/* The caller's limit (mkfs's first chunks). */
	{ "dup system, 8MiB asked", SYS | BTRFS_BLOCK_GROUP_DUP, 1 * G, 8 * M,
	  1, { WHOLE(1 * G) }, 0, 8 * M, 8 * M, 2, 1,
	  { { 1, 1 * M }, { 1, 9 * M } } },
	/*
	 * Mixed block groups follow the data rules: 1GiB wanted, the
	 * 1023MiB hole is all there is; 10% of 1GiB rounds up to 112MiB.
	 */
	{ "mixed single, 1GiB", DATA | META, 1 * G, 0, 1, { WHOLE(1 * G) },
	  0, 112 * M, 112 * M, 1, 1, { { 1, 1 * M } } },
	/* Invalid types. */
	{ "two profiles",
	  DATA | BTRFS_BLOCK_GROUP_RAID1 | BTRFS_BLOCK_GROUP_DUP,
	  10 * G, 0, 1, { WHOLE(10 * G) }, -EINVAL, 0, 0, 0, 0, { { 0, 0 } } },
	{ "no type", BTRFS_BLOCK_GROUP_RAID1, 10 * G, 0, 1, { WHOLE(10 * G) },
	  -EINVAL, 0, 0, 0, 0, { { 0, 0 } } },
	{ "system and data", SYS | DATA, 10 * G, 0, 1, { WHOLE(10 * G) },
	  -EINVAL, 0, 0, 0, 0, { { 0, 0 } } },
	{ "unknown bit", DATA | (1ULL << 20), 10 * G, 0, 1, { WHOLE(10 * G) },
	  -EINVAL, 0, 0, 0, 0, { { 0, 0 } } },
	/* Ranges out of order are refused. */
	{ "unsorted ranges", DATA, 10 * G, 0, 1,
	  { { { { 5 * G, 1 * G }, { 1 * G, 1 * G } } } },
	  -EINVAL, 0, 0, 0, 0, { { 0, 0 } } },
	{ "overlapping ranges", DATA, 10 * G, 0, 1,
	  { { { { 1 * G, 2 * G }, { 2 * G, 1 * G } } } },
	  -EINVAL, 0, 0, 0, 0, { { 0, 0 } } },
};

static int count_ranges(const struct case_dev *d)
{
	int n = 0;

	while (n < MAX_CASE_RANGES && d->r[n].len)
		n++;
	return n;
}

static void fill_devs(const struct plan_case *c, struct btrfs_dev_free *devs)
{
	for (int i = 0; i < c->nr_devs; i++) {
		memset(&devs[i], 0, sizeof(devs[i]));
		devs[i].devid = (u64)i + 1;
		memset(devs[i].uuid, i + 1, BTRFS_UUID_SIZE);
		devs[i].ranges = c->devs[i].r;
		devs[i].nr_ranges = count_ranges(&c->devs[i]);
	}
}

static bool stripes_match(const struct plan_case *c,
			  const struct btrfs_chunk_plan *p, char *why,
			  size_t len)
{
	for (int i = 0; i < p->num_stripes; i++) {
		const struct btrfs_chunk_plan_stripe *s = &p->stripes[i];
		u8 uuid[BTRFS_UUID_SIZE];

		memset(uuid, (int)s->devid, sizeof(uuid));
		if (s->devid != c->stripes[i].devid ||
		    s->physical != c->stripes[i].physical ||
		    memcmp(s->dev_uuid, uuid, sizeof(uuid))) {
			snprintf(why, len, "stripe %d is devid %llu at %llu, "
				 "expected devid %llu at %llu", i,
				 (unsigned long long)s->devid,
				 (unsigned long long)s->physical,
				 (unsigned long long)c->stripes[i].devid,
				 (unsigned long long)c->stripes[i].physical);
			return false;
		}
	}
	return true;
}

static void run_case(const struct plan_case *c)
{
	struct btrfs_dev_free devs[8];
	struct btrfs_chunk_plan *p = calloc(1, sizeof(*p));
	char why[200] = "";
	int ret;

	if (!p) {
		ok(0, "%s: out of memory", c->name);
		return;
	}
	fill_devs(c, devs);
	ret = btrfs_plan_chunk(c->type, devs, c->nr_devs, c->total_bytes,
			       c->max_stripe, p);
	if (ret != c->ret)
		snprintf(why, sizeof(why), "returned %d, expected %d", ret,
			 c->ret);
	else if (!ret && (p->length != c->length ||
			  p->stripe_size != c->stripe_size ||
			  p->num_stripes != c->num_stripes ||
			  p->sub_stripes != c->sub_stripes ||
			  p->type != c->type))
		snprintf(why, sizeof(why), "length %llu stripe %llu x %d "
			 "sub %d, expected %llu, %llu x %d sub %d",
			 (unsigned long long)p->length,
			 (unsigned long long)p->stripe_size, p->num_stripes,
			 p->sub_stripes, (unsigned long long)c->length,
			 (unsigned long long)c->stripe_size, c->num_stripes,
			 c->sub_stripes);
	else if (!ret)
		stripes_match(c, p, why, sizeof(why));
	ok(!why[0], "rules: %s%s%s", c->name, why[0] ? ": " : "", why);
	free(p);
}

/* Cases with many devices, built in code. */
static void run_many_devs(const char *name, u64 type, int nr, u64 size,
			  int exp_stripes, u64 exp_stripe_size)
{
	struct btrfs_dev_free *devs = calloc((size_t)nr, sizeof(*devs));
	struct btrfs_dev_free_range range = { 1 * M, size - 1 * M };
	struct btrfs_chunk_plan *p = calloc(1, sizeof(*p));
	int ret = -ENOMEM;
	bool good = false;

	if (devs && p) {
		for (int i = 0; i < nr; i++) {
			devs[i].devid = (u64)i + 1;
			devs[i].ranges = &range;
			devs[i].nr_ranges = 1;
		}
		ret = btrfs_plan_chunk(type, devs, nr, size * (u64)nr, 0, p);
		good = !ret && p->num_stripes == exp_stripes &&
		       p->stripe_size == exp_stripe_size;
		for (int i = 0; good && i < p->num_stripes; i++)
			good = p->stripes[i].devid == (u64)i + 1 &&
			       p->stripes[i].physical == 1 * M;
	}
	ok(good, "rules: %s: ret %d, %d stripes of %llu (expected %d of %llu)",
	   name, ret, good || !p ? exp_stripes : p->num_stripes,
	   good || !p ? (unsigned long long)exp_stripe_size :
	   (unsigned long long)p->stripe_size, exp_stripes,
	   (unsigned long long)exp_stripe_size);
	free(devs);
	free(p);
}

static void test_rules(void)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		run_case(&cases[i]);
	/*
	 * RAID0 on 12 x 100GiB: 12GiB of 1GiB stripes is over the 10GiB
	 * data chunk: round_up(10GiB / 12, 16MiB) = 864MiB.
	 */
	run_many_devs("raid0 data, 12 x 100GiB", DATA | BTRFS_BLOCK_GROUP_RAID0,
		      12, 100 * G, 12, 864 * M);
	/*
	 * System chunks stop at 58 stripes (two must fit the sys array);
	 * 58 x 32MiB is over the 32MiB system chunk: round_up(32MiB / 58,
	 * 16MiB) = 16MiB.
	 */
	run_many_devs("raid0 system, 60 devices", SYS | BTRFS_BLOCK_GROUP_RAID0,
		      60, 10 * G, 58, 16 * M);
	/*
	 * RAID0 data on 300 x 10GiB stops at our 256 stripes: 10GiB / 256 =
	 * 40MiB, rounded up to 48MiB.
	 */
	run_many_devs("raid0 data, 300 devices", DATA | BTRFS_BLOCK_GROUP_RAID0,
		      300, 10 * G, 256, 48 * M);
	/*
	 * RAID10 on 7 uses 6; 70GiB is over 50GiB: 1GiB metadata chunks,
	 * three data stripes: round_up(1GiB / 3, 16MiB) = 352MiB.
	 */
	run_many_devs("raid10 metadata, 7 devices",
		      META | BTRFS_BLOCK_GROUP_RAID10, 7, 10 * G, 6, 352 * M);
}

/* ------------------------------------------------------------------ */
/* The kernel's chunks, replayed. */

#define MAX_KDEVS 8
#define MAX_KCHUNKS 1024

struct kscenario {
	const char *name;
	const char *mkfs_opts;
	u64 sizes[MAX_KDEVS];		/* device sizes, 0 ends */
	int meta_mb;			/* xattr MiB per metadata round */
};

static const struct kscenario kscenarios[] = {
	{ "1 x 512MiB, metadata dup, data single", "", { 512 * M }, 160 },
	{ "1 x 768MiB, mixed", "-M", { 768 * M }, 160 },
	{ "3 unequal, raid1", "-m raid1 -d raid1",
	  { 1 * G, 1536 * M, 2 * G }, 8 },
	{ "5 unequal, raid10", "-m raid10 -d raid10",
	  { 1 * G, 1 * G, 1536 * M, 2 * G, 2 * G }, 8 },
	{ "4 unequal, raid1c3", "-m raid1c3 -d raid1c3",
	  { 256 * M, 320 * M, 384 * M, 512 * M }, 200 },
	{ "5 unequal, raid1c4", "-m raid1c4 -d raid1c4",
	  { 256 * M, 256 * M, 320 * M, 384 * M, 512 * M }, 200 },
	{ "4 unequal, raid6", "-m raid6 -d raid6",
	  { 256 * M, 256 * M, 384 * M, 512 * M }, 200 },
	{ "3 unequal, metadata raid1, data raid5", "-m raid1 -d raid5",
	  { 1 * G, 1 * G, 1536 * M }, 8 },
	{ "4 unequal, metadata raid1c3, data raid0", "-m raid1c3 -d raid0",
	  { 1 * G, 1280 * M, 1536 * M, 2 * G }, 8 },
	{ "4 x 1GiB, metadata raid1c4, data dup", "-m raid1c4 -d dup",
	  { 1 * G, 1 * G, 1 * G, 1 * G }, 8 },
	{ "6 x 512MiB, metadata raid1, data raid0", "-m raid1 -d raid0",
	  { 512 * M, 512 * M, 512 * M, 512 * M, 512 * M, 512 * M }, 8 },
	{ "12GiB + 16GiB, raid1 (1GiB data stripes)", "-m raid1 -d raid1",
	  { 12 * G, 16 * G }, 8 },
	{ "3 x 12GiB, data raid0 (3GiB chunks)", "-m raid1 -d raid0",
	  { 12 * G, 12 * G, 12 * G }, 8 },
};

struct kchunk {
	u64 start;
	u64 length;
	u64 type;
	int num_stripes;
	u64 devid[BTRFS_CHUNK_PLAN_MAX_STRIPES];
	u64 physical[BTRFS_CHUNK_PLAN_MAX_STRIPES];
};

struct kstate {
	struct kchunk *chunks;
	int nr;
	struct {
		u64 devid;
		u8 uuid[BTRFS_UUID_SIZE];
		u64 total_bytes;
	} devs[MAX_KDEVS];
	int nr_devs;
};

static int collect_chunk(const struct map_lookup *map, void *ctx)
{
	struct kstate *st = ctx;
	struct kchunk *c;

	if (st->nr >= MAX_KCHUNKS ||
	    map->num_stripes > BTRFS_CHUNK_PLAN_MAX_STRIPES)
		return -E2BIG;
	c = &st->chunks[st->nr++];
	c->start = map->start;
	c->length = map->length;
	c->type = map->type;
	c->num_stripes = map->num_stripes;
	for (int i = 0; i < map->num_stripes; i++) {
		c->devid[i] = map->stripes[i].devid;
		c->physical[i] = map->stripes[i].physical;
	}
	return 0;
}

/* Read the chunks and devices of the image made of @paths with our engine. */
static int read_state(const char * const *paths, int nr, struct kstate *st)
{
	struct open_ctree_args args = {
		.devices = paths, .nr_devices = nr, .super_mirror = 0,
		.flags = OPEN_CTREE_NO_SCAN | OPEN_CTREE_CHUNK_ONLY,
	};
	struct btrfs_fs_info *fs;
	struct btrfs_device *d;
	int ret;

	ret = open_ctree(&args, &fs, NULL);
	if (ret)
		return ret;
	st->nr = 0;
	ret = btrfs_for_each_chunk_map(fs, collect_chunk, st);
	st->nr_devs = 0;
	for (d = fs->fs_devices->devices; d && !ret; d = d->next) {
		if (st->nr_devs == MAX_KDEVS) {
			ret = -E2BIG;
			break;
		}
		st->devs[st->nr_devs].devid = d->devid;
		memcpy(st->devs[st->nr_devs].uuid, d->uuid, BTRFS_UUID_SIZE);
		st->devs[st->nr_devs].total_bytes = d->total_bytes;
		st->nr_devs++;
	}
	close_ctree(fs);
	return ret;
}

/* Bytes of each dev extent of @c (the kernel's stripe size). */
static u64 kchunk_stripe_size(const struct kchunk *c)
{
	int data = 1;

	switch (c->type & BTRFS_BLOCK_GROUP_PROFILE_MASK) {
	case BTRFS_BLOCK_GROUP_RAID0:
		data = c->num_stripes;
		break;
	case BTRFS_BLOCK_GROUP_RAID10:
		data = c->num_stripes / 2;
		break;
	case BTRFS_BLOCK_GROUP_RAID5:
		data = c->num_stripes - 1;
		break;
	case BTRFS_BLOCK_GROUP_RAID6:
		data = c->num_stripes - 2;
		break;
	}
	return c->length / (u64)data;
}

struct kextent {
	u64 start;
	u64 end;
};

static int cmp_kextent(const void *a, const void *b)
{
	const struct kextent *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

/*
 * Free ranges of device @devid of @st when chunk @upto was made: [1MiB,
 * total) minus the stripes of the chunks before it.  Returns the count.
 */
static int free_ranges_before(const struct kstate *st, int dev, int upto,
			      struct btrfs_dev_free_range *out, int max)
{
	struct kextent *ext = calloc(MAX_KCHUNKS * 4, sizeof(*ext));
	u64 pos = 1 * M, total = st->devs[dev].total_bytes;
	int n = 0, nr = 0;

	if (!ext)
		return -ENOMEM;
	for (int i = 0; i < upto; i++) {
		const struct kchunk *c = &st->chunks[i];
		u64 size = kchunk_stripe_size(c);

		for (int s = 0; s < c->num_stripes; s++)
			if (c->devid[s] == st->devs[dev].devid &&
			    n < MAX_KCHUNKS * 4)
				ext[n++] = (struct kextent){ c->physical[s],
						c->physical[s] + size };
	}
	qsort(ext, (size_t)n, sizeof(*ext), cmp_kextent);
	for (int i = 0; i <= n && nr < max; i++) {
		u64 end = i < n ? ext[i].start : total;

		if (end > pos)
			out[nr++] = (struct btrfs_dev_free_range){ pos,
								   end - pos };
		if (i < n && ext[i].end > pos)
			pos = ext[i].end;
	}
	free(ext);
	return nr;
}

static int cmp_u128(const void *a, const void *b)
{
	const u64 *x = a, *y = b;

	if (x[0] != y[0])
		return x[0] < y[0] ? -1 : 1;
	return x[1] < y[1] ? -1 : x[1] > y[1];
}

/* Same stripes, in any order (the kernel's device sort is not stable)? */
static bool same_stripes(const struct kchunk *c,
			 const struct btrfs_chunk_plan *p, bool *same_order)
{
	static u64 a[BTRFS_CHUNK_PLAN_MAX_STRIPES][2];
	static u64 b[BTRFS_CHUNK_PLAN_MAX_STRIPES][2];
	int n = c->num_stripes;

	*same_order = true;
	for (int i = 0; i < n; i++) {
		a[i][0] = c->devid[i];
		a[i][1] = c->physical[i];
		b[i][0] = p->stripes[i].devid;
		b[i][1] = p->stripes[i].physical;
		if (a[i][0] != b[i][0] || a[i][1] != b[i][1])
			*same_order = false;
	}
	qsort(a, (size_t)n, sizeof(a[0]), cmp_u128);
	qsort(b, (size_t)n, sizeof(b[0]), cmp_u128);
	return !memcmp(a, b, (size_t)n * sizeof(a[0]));
}

/*
 * Plan chunk @idx of @st from the free space before it, with the devices
 * in @order (indexes into st->devs).  0 and @p filled, or <0.
 */
static int plan_from(const struct kstate *st, int idx, u64 total_bytes,
		     const int *order, struct btrfs_chunk_plan *p)
{
	static struct btrfs_dev_free_range ranges[MAX_KDEVS][64];
	struct btrfs_dev_free devs[MAX_KDEVS];

	for (int i = 0; i < st->nr_devs; i++) {
		int d = order[i];

		devs[i].devid = st->devs[d].devid;
		memcpy(devs[i].uuid, st->devs[d].uuid, BTRFS_UUID_SIZE);
		devs[i].ranges = ranges[i];
		devs[i].nr_ranges = free_ranges_before(st, d, idx, ranges[i],
						       64);
	}
	return btrfs_plan_chunk(st->chunks[idx].type, devs, st->nr_devs,
				total_bytes, 0, p);
}

/*
 * The devices in the order of the kernel's stripes, then the others: our
 * sort breaks ties by this order, so if the kernel's choice among devices
 * with equal room is one our rules allow, this plan is the kernel's.
 */
static void kernel_order(const struct kstate *st, const struct kchunk *c,
			 int *order)
{
	int n = 0;

	for (int s = 0; s < c->num_stripes; s++)
		for (int d = 0; d < st->nr_devs; d++) {
			bool seen = false;

			for (int k = 0; k < n; k++)
				seen |= order[k] == d;
			if (!seen && st->devs[d].devid == c->devid[s])
				order[n++] = d;
		}
	for (int d = 0; d < st->nr_devs; d++) {
		bool seen = false;

		for (int k = 0; k < n; k++)
			seen |= order[k] == d;
		if (!seen)
			order[n++] = d;
	}
}

static bool plan_is(const struct kchunk *c, const struct btrfs_chunk_plan *p,
		    bool *same_order)
{
	return p->length == c->length && p->num_stripes == c->num_stripes &&
	       p->type == c->type && same_stripes(c, p, same_order);
}

/*
 * Replay chunk @idx of @st: 0 planned alike, 1 alike once ties between
 * devices with equal room are broken the kernel's way, or -1 and @why.
 */
static int replay_chunk(const struct kstate *st, int idx, u64 total_bytes,
			char *why, size_t len, bool *same_order)
{
	const struct kchunk *c = &st->chunks[idx];
	struct btrfs_chunk_plan *p = calloc(1, sizeof(*p));
	int order[MAX_KDEVS];
	int ret, result = -1;

	if (!p)
		return -1;
	for (int d = 0; d < st->nr_devs; d++)
		order[d] = d;
	ret = plan_from(st, idx, total_bytes, order, p);
	if (!ret && plan_is(c, p, same_order)) {
		result = 0;
		goto out;
	}
	kernel_order(st, c, order);
	ret = plan_from(st, idx, total_bytes, order, p);
	if (!ret && plan_is(c, p, same_order)) {
		result = 1;
		goto out;
	}
	if (ret)
		snprintf(why, len, "chunk %llu (%s %s, %llu bytes): plan "
			 "returned %d", (unsigned long long)c->start,
			 c->type & BTRFS_BLOCK_GROUP_DATA ? "data" : "meta",
			 btrfs_bg_profile_str(c->type),
			 (unsigned long long)c->length, ret);
	else
		snprintf(why, len, "chunk %llu (type 0x%llx): kernel %llu "
			 "bytes on %d stripes, first devid %llu at %llu; plan "
			 "%llu bytes on %d stripes, first devid %llu at %llu",
			 (unsigned long long)c->start,
			 (unsigned long long)c->type,
			 (unsigned long long)c->length, c->num_stripes,
			 (unsigned long long)c->devid[0],
			 (unsigned long long)c->physical[0],
			 (unsigned long long)p->length, p->num_stripes,
			 (unsigned long long)p->stripes[0].devid,
			 (unsigned long long)p->stripes[0].physical);
out:
	free(p);
	return result;
}

/* About @mb MiB of big xattrs (metadata only), stopping at ENOSPC. */
static void fill_metadata(const char *mnt, int round, int mb)
{
	static char val[12000];
	char path[700], name[40];
	int fd = -1;

	memset(val, 'x', sizeof(val));
	for (int i = 0; i < mb * (int)(M / sizeof(val)); i++) {
		if (i % 1000 == 0) {
			if (fd >= 0)
				close(fd);
			snprintf(path, sizeof(path), "%s/m%d-%d", mnt, round,
				 i / 1000);
			fd = open(path, O_WRONLY | O_CREAT, 0644);
			if (fd < 0)
				return;
		}
		snprintf(name, sizeof(name), "user.x%d", i);
		if (fsetxattr(fd, name, val, sizeof(val), 0))
			break;
	}
	if (fd >= 0)
		close(fd);
}

/* Preallocated files (data extents, no data written) until ENOSPC. */
static void fill_data(const char *mnt)
{
	char path[700];

	for (int i = 0; i < 4096; i++) {
		int fd, ret;

		snprintf(path, sizeof(path), "%s/d%d", mnt, i);
		fd = open(path, O_WRONLY | O_CREAT, 0644);
		if (fd < 0)
			return;
		ret = fallocate(fd, 0, 0, 32 * M);
		close(fd);
		if (ret)
			return;
	}
}

/* mkfs, note the chunks mkfs made, mount, fill, unmount.  0 or why not. */
static const char *make_kernel_chunks(const struct kscenario *sc,
				      const char *dir, char **paths, int nr,
				      struct kstate *st, int *first_kernel)
{
	char files[1024] = "", mnt[600];
	int rc;

	for (int i = 0; i < nr; i++) {
		int fd = open(paths[i], O_RDWR | O_CREAT | O_TRUNC, 0644);

		if (fd < 0 || ftruncate(fd, (off_t)sc->sizes[i])) {
			if (fd >= 0)
				close(fd);
			return "cannot make the image files";
		}
		close(fd);
		strncat(files, " ", sizeof(files) - strlen(files) - 1);
		strncat(files, paths[i], sizeof(files) - strlen(files) - 1);
	}
	if (run_cmd(REF_MKFS " -f %s %s >'%s/mkfs.log' 2>&1", sc->mkfs_opts,
		    files, dir))
		return "reference mkfs.btrfs failed";
	if (read_state((const char * const *)paths, nr, st))
		return "cannot read the new image";
	*first_kernel = st->nr;
	snprintf(mnt, sizeof(mnt), "%s/mnt", dir);
	rc = loop_attach(dir, files);
	if (!rc)
		rc = loop_mount(dir, mnt);
	if (rc) {
		loop_detach(dir);
		return "the kernel did not mount the image";
	}
	fill_metadata(mnt, 0, sc->meta_mb);
	fill_data(mnt);
	fill_metadata(mnt, 1, sc->meta_mb);
	run_cmd("sync");
	rc = unmount(mnt);
	loop_detach(dir);
	return rc ? "unmount failed" : NULL;
}

static void kernel_scenario(const struct kscenario *sc)
{
	char dir[] = "/tmp/test-chunk-plan.XXXXXX";
	char *paths[MAX_KDEVS];
	struct kstate st = { .chunks = calloc(MAX_KCHUNKS,
					      sizeof(struct kchunk)) };
	int nr = 0, first_kernel = 0, matched = 0, in_order = 0, ties = 0;
	int nr_meta = 0, nr_tail = 0;
	const char *fail = NULL;
	char why[400] = "";
	u64 total = 0;

	if (!st.chunks || !mkdtemp(dir)) {
		ok(0, "kernel: %s: setup failed", sc->name);
		free(st.chunks);
		return;
	}
	while (nr < MAX_KDEVS && sc->sizes[nr]) {
		paths[nr] = malloc(600);
		snprintf(paths[nr], 600, "%s/dev%d.img", dir, nr + 1);
		nr++;
	}
	fail = make_kernel_chunks(sc, dir, paths, nr, &st, &first_kernel);
	if (!fail && read_state((const char * const *)paths, nr, &st))
		fail = "cannot read the filled image";
	for (int d = 0; !fail && d < st.nr_devs; d++)
		total += st.devs[d].total_bytes;
	for (int i = first_kernel; !fail && i < st.nr && !why[0]; i++) {
		bool same_order = true;

		if (i > 0 && st.chunks[i].start !=
		    st.chunks[i - 1].start + st.chunks[i - 1].length)
			snprintf(why, sizeof(why), "a chunk before %llu was "
				 "removed: cannot replay",
				 (unsigned long long)st.chunks[i].start);
		else {
			int r = replay_chunk(&st, i, total, why, sizeof(why),
					     &same_order);

			matched += r >= 0;
			ties += r == 1;
			nr_meta += !!(st.chunks[i].type &
				      BTRFS_BLOCK_GROUP_METADATA);
			nr_tail += r >= 0 && st.chunks[i].length <
				   st.chunks[i - 1].length;
			in_order += r >= 0 && same_order;
		}
	}
	if (fail)
		ok(0, "kernel: %s: %s", sc->name, fail);
	else
		ok(!why[0] && matched >= 3, "kernel: %s: %d of %d chunks the "
		   "kernel made are planned alike (%d metadata or mixed, %d "
		   "smaller than the one before; %d with a tie between "
		   "devices broken the kernel's way; %d with the stripes in "
		   "the same order)%s%s", sc->name, matched,
		   st.nr - first_kernel, nr_meta, nr_tail, ties, in_order,
		   why[0] ? "; " : "", why);
	for (int i = 0; i < nr; i++) {
		unlink(paths[i]);
		free(paths[i]);
	}
	run_cmd("rm -rf '%s'", dir);
	free(st.chunks);
}

static void test_kernel(void)
{
	const char *why_not = kernel_unavailable(NEED_REF_MKFS);

	for (size_t i = 0; i < ARRAY_SIZE(kscenarios); i++) {
		if (why_not)
			skip("kernel: %s: %s", kscenarios[i].name, why_not);
		else
			kernel_scenario(&kscenarios[i]);
	}
}

int main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	test_rules();
	test_kernel();
	printf("1..%d\n", tap_count);
	return tap_failed ? 1 : 0;
}
