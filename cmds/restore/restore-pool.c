// SPDX-License-Identifier: GPL-2.0
/*
 * btrfs restore: the worker threads that read, check, decompress and
 * write file data.
 *
 * The walking thread turns the extents of a file into jobs (an inline
 * extent, a compressed extent, or up to RESTORE_CHUNK bytes of a regular
 * extent) and queues them; each worker runs jobs with its own buffers and
 * decompression workspace.  The queue is bounded, so the walker waits when
 * the workers are behind, and the walker waits for the queue to drain
 * before it truncates, stamps or closes a file.  When no thread can be
 * started, jobs run right away on the walking thread.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "cmds/restore/restore.h"
#include "common/compression.h"

#define QUEUE_LEN 16
#define MAX_WORKERS 8

struct pool_job {
	restore_job_fn fn;
	void *arg;
};

struct restore_pool {
	pthread_t threads[MAX_WORKERS];
	struct restore_worker workers[MAX_WORKERS];
	int nr_threads;
	struct restore_worker local;	/* for jobs run without threads */
	pthread_mutex_t lock;
	pthread_cond_t job_ready;	/* a job was queued, or quit */
	pthread_cond_t slot_free;	/* the queue has room */
	pthread_cond_t idle;		/* nothing queued or running */
	struct pool_job queue[QUEUE_LEN];
	int head;
	int nr_queued;
	int nr_busy;			/* queued + running */
	bool quit;
};

static int worker_init(struct restore_worker *w, u32 sectorsize)
{
	size_t sectors = RESTORE_CHUNK / sectorsize;

	w->ws = btrfs_decomp_ws_alloc();
	w->rbuf = malloc(BTRFS_MAX_COMPRESSED_BYTES);
	w->buf = malloc(RESTORE_CHUNK);
	w->csums = malloc(sectors * BTRFS_CSUM_SIZE);
	w->have = malloc(sectors);
	return w->ws && w->rbuf && w->buf && w->csums && w->have ? 0 : -ENOMEM;
}

static void worker_free(struct restore_worker *w)
{
	btrfs_decomp_ws_free(w->ws);
	free(w->rbuf);
	free(w->buf);
	free(w->csums);
	free(w->have);
}

struct worker_arg {
	struct restore_pool *pool;
	struct restore_worker *w;
};

static void *worker_main(void *arg)
{
	struct restore_pool *pool = ((struct worker_arg *)arg)->pool;
	struct restore_worker *w = ((struct worker_arg *)arg)->w;
	struct pool_job job;

	free(arg);
	pthread_mutex_lock(&pool->lock);
	while (1) {
		while (!pool->nr_queued && !pool->quit)
			pthread_cond_wait(&pool->job_ready, &pool->lock);
		if (!pool->nr_queued)
			break;
		job = pool->queue[pool->head];
		pool->head = (pool->head + 1) % QUEUE_LEN;
		pool->nr_queued--;
		pthread_cond_signal(&pool->slot_free);
		pthread_mutex_unlock(&pool->lock);
		job.fn(job.arg, w);
		pthread_mutex_lock(&pool->lock);
		if (--pool->nr_busy == 0)
			pthread_cond_broadcast(&pool->idle);
	}
	pthread_mutex_unlock(&pool->lock);
	return NULL;
}

static void start_threads(struct restore_pool *pool, int nr, u32 sectorsize)
{
	int i;

	for (i = 0; i < nr; i++) {
		struct worker_arg *a = malloc(sizeof(*a));
		struct restore_worker *w = &pool->workers[i];

		if (!a || worker_init(w, sectorsize)) {
			free(a);
			worker_free(w);
			memset(w, 0, sizeof(*w));
			break;
		}
		a->pool = pool;
		a->w = w;
		if (pthread_create(&pool->threads[i], NULL, worker_main, a)) {
			free(a);
			worker_free(w);
			memset(w, 0, sizeof(*w));
			break;
		}
		pool->nr_threads++;
	}
}

struct restore_pool *restore_pool_start(int nr_threads, u32 sectorsize)
{
	struct restore_pool *pool = calloc(1, sizeof(*pool));

	if (!pool)
		return NULL;
	if (worker_init(&pool->local, sectorsize)) {
		worker_free(&pool->local);
		free(pool);
		return NULL;
	}
	pthread_mutex_init(&pool->lock, NULL);
	pthread_cond_init(&pool->job_ready, NULL);
	pthread_cond_init(&pool->slot_free, NULL);
	pthread_cond_init(&pool->idle, NULL);
	if (nr_threads > MAX_WORKERS)
		nr_threads = MAX_WORKERS;
	start_threads(pool, nr_threads, sectorsize);
	return pool;
}

void restore_pool_stop(struct restore_pool *pool)
{
	int i;

	if (!pool)
		return;
	pthread_mutex_lock(&pool->lock);
	pool->quit = true;
	pthread_cond_broadcast(&pool->job_ready);
	pthread_mutex_unlock(&pool->lock);
	for (i = 0; i < pool->nr_threads; i++) {
		pthread_join(pool->threads[i], NULL);
		worker_free(&pool->workers[i]);
	}
	worker_free(&pool->local);
	pthread_mutex_destroy(&pool->lock);
	pthread_cond_destroy(&pool->job_ready);
	pthread_cond_destroy(&pool->slot_free);
	pthread_cond_destroy(&pool->idle);
	free(pool);
}

struct restore_worker *restore_pool_local(struct restore_pool *pool)
{
	return &pool->local;
}

void restore_pool_submit(struct restore_pool *pool, restore_job_fn fn,
			 void *arg)
{
	if (!pool->nr_threads) {
		fn(arg, &pool->local);
		return;
	}
	pthread_mutex_lock(&pool->lock);
	while (pool->nr_queued == QUEUE_LEN)
		pthread_cond_wait(&pool->slot_free, &pool->lock);
	pool->queue[(pool->head + pool->nr_queued) % QUEUE_LEN] =
		(struct pool_job){ fn, arg };
	pool->nr_queued++;
	pool->nr_busy++;
	pthread_cond_signal(&pool->job_ready);
	pthread_mutex_unlock(&pool->lock);
}

void restore_pool_wait(struct restore_pool *pool)
{
	pthread_mutex_lock(&pool->lock);
	while (pool->nr_busy)
		pthread_cond_wait(&pool->idle, &pool->lock);
	pthread_mutex_unlock(&pool->lock);
}
