// SPDX-License-Identifier: GPL-2.0
/*
 * btrfs check read-ahead (cmds/check/readahead.c), printed as TAP.
 *
 * Several worker threads read every block of the fs tree of a kernel-made
 * image (m-many: 20k files, a multi-level tree) into the block cache while
 * this thread keeps asking; then every block must be in the cache, and
 * reading it with its parent's expectations must give the same bytes as a
 * read from the device by a fresh filesystem handle (the oracle: the
 * single-threaded read path).  Run under the sanitizers, this also shows
 * the workers and the cache get along.  Skips without the image cache
 * ($BTRFS_TEST_IMAGES, default /var/tmp/btrfs-test-images).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmds/check/readahead.h"
#include "kernel-shared/disk-io.h"
#include "kernel-shared/extent-io.h"

#define NR_TESTS 5

struct req {
	u64 bytenr;
	struct btrfs_tree_parent_check check;
};

struct reqs {
	struct req *r;
	size_t nr, cap;
};

static int tap_count;
static int tap_failed;

static void ok(int cond, const char *desc)
{
	tap_count++;
	if (!cond)
		tap_failed++;
	printf("%s %d - %s\n", cond ? "ok" : "not ok", tap_count, desc);
}

/* Walk visitor: every child pointer of a node becomes a request. */
static int collect(struct extent_buffer *eb, void *data)
{
	struct reqs *q = data;
	int i, nr = (int)btrfs_header_nritems(eb);

	if (btrfs_header_level(eb) == 0)
		return 0;
	for (i = 0; i < nr; i++) {
		struct req *r;

		if (q->nr == q->cap) {
			size_t n = q->cap ? q->cap * 2 : 256;
			void *p = realloc(q->r, n * sizeof(*q->r));

			if (!p)
				return -1;
			q->r = p;
			q->cap = n;
		}
		r = &q->r[q->nr++];
		memset(r, 0, sizeof(*r));
		r->bytenr = btrfs_node_blockptr(eb, i);
		r->check.level = btrfs_header_level(eb) - 1;
		r->check.transid = btrfs_node_ptr_generation(eb, i);
		r->check.has_first_key = true;
		btrfs_node_key_to_cpu(eb, &r->check.first_key, i);
	}
	return 0;
}

static int open_image(const char *path, struct btrfs_fs_info **fs_info)
{
	const char *devs[] = { path };
	struct open_ctree_args args = {
		.devices = devs,
		.nr_devices = 1,
		.super_mirror = 0,
		.flags = OPEN_CTREE_NO_SCAN,
	};

	return open_ctree(&args, fs_info, NULL);
}

static size_t nr_cached(struct btrfs_fs_info *fs_info)
{
	struct eb_cache_stats st;

	eb_cache_get_stats(fs_info->eb_cache, &st);
	return st.nr_cached;
}

/* Ask for @q in batches the queue can hold, waiting for each to land. */
static void ask_all(struct check_readahead *ra, struct btrfs_fs_info *fs_info,
		    const struct reqs *q)
{
	const struct timespec pause = { 0, 2000000 };
	size_t i, j, start;

	for (i = 0; i < q->nr; i += 128) {
		size_t fresh = 0;
		int waited;

		start = nr_cached(fs_info);
		for (j = i; j < q->nr && j < i + 128; j++) {
			struct extent_buffer *c;

			/* only blocks not cached yet can make the count grow */
			c = find_extent_buffer(fs_info->eb_cache,
					       q->r[j].bytenr,
					       fs_info->nodesize);
			if (!c)
				fresh++;
			free_extent_buffer(c);
			check_readahead_add(ra, q->r[j].bytenr, &q->r[j].check);
		}
		for (waited = 0; waited < 2500 &&
		     nr_cached(fs_info) < start + fresh; waited++)
			nanosleep(&pause, NULL);
	}
}

/* Every requested block is cached and reads as the device has it. */
static int verify(struct btrfs_fs_info *fs_info, struct btrfs_fs_info *fresh,
		  const struct reqs *q, size_t *missing)
{
	size_t i;
	int same = 1;

	*missing = 0;
	for (i = 0; i < q->nr; i++) {
		struct extent_buffer *c, *a, *b;

		c = find_extent_buffer(fs_info->eb_cache, q->r[i].bytenr,
				       fs_info->nodesize);
		if (!c)
			(*missing)++;
		free_extent_buffer(c);
		a = read_tree_block(fs_info, q->r[i].bytenr, &q->r[i].check);
		b = read_tree_block(fresh, q->r[i].bytenr, &q->r[i].check);
		if (IS_ERR(a) || IS_ERR(b) || memcmp(a->data, b->data, a->len))
			same = 0;
		if (!IS_ERR(a))
			free_extent_buffer(a);
		if (!IS_ERR(b))
			free_extent_buffer(b);
	}
	return same;
}

int main(void)
{
	static const struct btrfs_tree_walk_ops ops = { .visit = collect };
	const char *dir = getenv("BTRFS_TEST_IMAGES");
	struct btrfs_fs_info *fs_info = NULL, *fresh = NULL;
	struct check_readahead *ra;
	struct reqs q = { 0 };
	char path[512];
	size_t missing = 0;
	int i, same;

	printf("1..%d\n", NR_TESTS);
	snprintf(path, sizeof(path), "%s/m-many.img",
		 dir ? dir : "/var/tmp/btrfs-test-images");
	if (access(path, R_OK) || open_image(path, &fs_info) ||
	    open_image(path, &fresh)) {
		for (i = 0; i < NR_TESTS; i++)
			printf("ok %d - # SKIP no image %s (tests/helpers/make-images.sh)\n",
			       i + 1, path);
		close_ctree(fs_info);
		return 0;
	}
	/* the walk fills the cache of @fresh only */
	ok(btrfs_walk_tree(fresh, fresh->fs_root->node, false, &ops,
			   &q) == 0 && q.nr > 100,
	   "the fs tree of m-many has more than 100 child blocks");
	ra = check_readahead_start(fs_info, 3);
	ok(ra != NULL, "three read-ahead workers start");
	ask_all(ra, fs_info, &q);
	/* more requests than the queue holds, left pending at stop */
	for (i = 0; i < 3; i++)
		ask_all(ra, fs_info, &q);
	check_readahead_stop(ra);
	ok(1, "the workers stop with requests pending");
	same = verify(fs_info, fresh, &q, &missing);
	ok(missing == 0, "every requested block is in the cache");
	ok(same, "every block reads as a single-threaded read gives it");
	free(q.r);
	close_ctree(fresh);
	close_ctree(fs_info);
	return tap_failed ? 1 : 0;
}
