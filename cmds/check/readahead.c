// SPDX-License-Identifier: GPL-2.0
/*
 * btrfs check: tree block read-ahead on worker threads (see readahead.h).
 *
 * A bounded ring of requests under one mutex; workers take the oldest
 * request and read it through read_tree_block_ex(), which verifies the
 * block and inserts it in the (locked, shared) block cache, then drop
 * their reference.  Failures are ignored here: the walker reads the block
 * again and reports it.
 */
#include <pthread.h>
#include <stdlib.h>

#include "cmds/check/readahead.h"
#include "kernel-shared/extent-io.h"

#define RA_QUEUE	256
#define RA_MAX_THREADS	8

struct ra_request {
	u64 bytenr;
	struct btrfs_tree_parent_check check;
};

struct check_readahead {
	struct btrfs_fs_info *fs_info;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	struct ra_request ring[RA_QUEUE];
	unsigned int head;	/* next to take */
	unsigned int count;	/* queued */
	bool stop;
	int nr_threads;
	pthread_t threads[RA_MAX_THREADS];
};

static void *ra_worker(void *arg)
{
	struct check_readahead *ra = arg;

	pthread_mutex_lock(&ra->lock);
	while (1) {
		struct ra_request req;
		struct extent_buffer *eb;

		while (!ra->stop && !ra->count)
			pthread_cond_wait(&ra->wake, &ra->lock);
		if (ra->stop)
			break;
		req = ra->ring[ra->head];
		ra->head = (ra->head + 1) % RA_QUEUE;
		ra->count--;
		pthread_mutex_unlock(&ra->lock);
		eb = read_tree_block_ex(ra->fs_info, req.bytenr, &req.check,
					NULL);
		if (!IS_ERR(eb))
			free_extent_buffer(eb);
		pthread_mutex_lock(&ra->lock);
	}
	pthread_mutex_unlock(&ra->lock);
	return NULL;
}

struct check_readahead *check_readahead_start(struct btrfs_fs_info *fs_info,
					      int nr_threads)
{
	struct check_readahead *ra = calloc(1, sizeof(*ra));
	int i;

	if (!ra)
		return NULL;
	ra->fs_info = fs_info;
	if (pthread_mutex_init(&ra->lock, NULL)) {
		free(ra);
		return NULL;
	}
	if (pthread_cond_init(&ra->wake, NULL)) {
		pthread_mutex_destroy(&ra->lock);
		free(ra);
		return NULL;
	}
	if (nr_threads > RA_MAX_THREADS)
		nr_threads = RA_MAX_THREADS;
	for (i = 0; i < nr_threads; i++) {
		if (pthread_create(&ra->threads[i], NULL, ra_worker, ra))
			break;
		ra->nr_threads++;
	}
	if (!ra->nr_threads) {
		check_readahead_stop(ra);
		return NULL;
	}
	return ra;
}

void check_readahead_add(struct check_readahead *ra, u64 bytenr,
			 const struct btrfs_tree_parent_check *check)
{
	if (!ra)
		return;
	pthread_mutex_lock(&ra->lock);
	if (ra->count < RA_QUEUE) {
		struct ra_request *req =
			&ra->ring[(ra->head + ra->count) % RA_QUEUE];

		req->bytenr = bytenr;
		req->check = *check;
		ra->count++;
		pthread_cond_signal(&ra->wake);
	}
	pthread_mutex_unlock(&ra->lock);
}

void check_readahead_stop(struct check_readahead *ra)
{
	int i;

	if (!ra)
		return;
	pthread_mutex_lock(&ra->lock);
	ra->stop = true;
	pthread_cond_broadcast(&ra->wake);
	pthread_mutex_unlock(&ra->lock);
	for (i = 0; i < ra->nr_threads; i++)
		pthread_join(ra->threads[i], NULL);
	pthread_cond_destroy(&ra->wake);
	pthread_mutex_destroy(&ra->lock);
	free(ra);
}
