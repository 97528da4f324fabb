// SPDX-License-Identifier: GPL-2.0
/*
 * Checksum throughput: the three crc32c implementations of common/csum.c
 * (ISA-L, our SSE4.2 code, the slicing-by-8 table) and, for comparison, the
 * other btrfs checksum types, on 4 KiB and 16 KiB blocks (the sector and the
 * default node size).
 *
 * Two access patterns per block size:
 *   hot     the same block again and again (in L1: pure compute speed)
 *   stream  consecutive blocks of a 64 MiB buffer (memory bandwidth counts)
 * Each figure is the median of several timed runs, in MB/s (10^6 bytes).
 *
 * Usage: crc32c [-r RUNS] [-m MILLISECONDS_PER_RUN]
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/csum.h"

#define STREAM_BYTES (64u << 20)
#define MAX_RUNS 31

struct bench_opts {
	int runs;
	int msec;
};

struct bench_ctx {
	struct bench_opts opts;
	uint8_t *buf;
	uint32_t sink;
};

/* What is measured: a crc32c implementation, or a csum type (impl < 0). */
struct subject {
	int impl;
	unsigned csum_type;
	char label[32];
};

#define NR_SUBJECTS (BTRFS_CRC32C_NR_IMPLS + 4)

/* How it is measured: block size, and one hot block or a stream. */
struct column {
	const char *label;
	size_t block;
	int stream;
};

#define NR_COLUMNS 4
static const struct column columns[NR_COLUMNS] = {
	{ "4K hot", 4096, 0 },
	{ "4K stream", 4096, 1 },
	{ "16K hot", 16384, 0 },
	{ "16K stream", 16384, 1 },
};

/* CPU time of this thread: time the VM or other jobs take is not counted. */
static double now_sec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint32_t run_one(const struct subject *s, const uint8_t *p, size_t len)
{
	uint8_t out[BTRFS_CSUM_SIZE];

	if (s->impl >= 0)
		return btrfs_crc32c_impl(s->impl, ~0u, p, len);
	btrfs_csum_data(s->csum_type, p, len, out);
	return out[0];
}

/* One timed run of @s on the blocks of column @col; returns MB/s. */
static double timed_run(struct bench_ctx *ctx, const struct subject *s,
			const struct column *col)
{
	const size_t nblocks = STREAM_BYTES / col->block;
	double start = now_sec(), limit = ctx->opts.msec / 1e3, elapsed;
	uint64_t bytes = 0;
	size_t i = 0;

	do {
		for (int k = 0; k < 64; k++, i = (i + 1) % nblocks) {
			size_t off = col->stream ? i * col->block : 0;

			ctx->sink ^= run_one(s, ctx->buf + off, col->block);
		}
		bytes += 64 * col->block;
		elapsed = now_sec() - start;
	} while (elapsed < limit);
	return bytes / elapsed / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	qsort(v, n, sizeof(v[0]), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/*
 * Fills rate[subject][column] with medians.  Within a column the subjects
 * take turns run by run, so a slow moment of the machine hits all of them.
 */
static void measure(struct bench_ctx *ctx, const struct subject *subj,
		    int nsubj, double rate[][NR_COLUMNS])
{
	double runs[NR_SUBJECTS][MAX_RUNS];

	for (int c = 0; c < NR_COLUMNS; c++) {
		for (int r = 0; r < ctx->opts.runs; r++)
			for (int s = 0; s < nsubj; s++)
				runs[s][r] = timed_run(ctx, &subj[s],
						       &columns[c]);
		for (int s = 0; s < nsubj; s++)
			rate[s][c] = median(runs[s], ctx->opts.runs);
	}
}

static int make_subjects(struct subject *subj)
{
	int n = 0;

	for (int impl = 0; impl < BTRFS_CRC32C_NR_IMPLS; impl++, n++) {
		subj[n] = (struct subject){ .impl = impl };
		snprintf(subj[n].label, sizeof(subj[n].label), "crc32c-%s%s",
			 btrfs_crc32c_impl_name(impl),
			 btrfs_crc32c_impl_available(impl) == 1 ? "" : "(!)");
	}
	for (unsigned t = 0; t < 4; t++, n++) {
		subj[n] = (struct subject){ .impl = -1, .csum_type = t };
		snprintf(subj[n].label, sizeof(subj[n].label), "csum-%s",
			 btrfs_csum_type_name(t));
	}
	return n;
}

static void bench_all(struct bench_ctx *ctx)
{
	struct subject subj[NR_SUBJECTS];
	double rate[NR_SUBJECTS][NR_COLUMNS];
	int n = make_subjects(subj);

	measure(ctx, subj, n, rate);
	printf("%-16s", "MB/s (median)");
	for (int c = 0; c < NR_COLUMNS; c++)
		printf(" %12s", columns[c].label);
	printf("\n");
	for (int s = 0; s < n; s++) {
		printf("%-16s", subj[s].label);
		for (int c = 0; c < NR_COLUMNS; c++)
			printf(" %12.0f", rate[s][c]);
		printf("\n");
	}
}

static int parse_opts(int argc, char **argv, struct bench_opts *opts)
{
	int c;

	while ((c = getopt(argc, argv, "r:m:")) != -1) {
		if (c == 'r')
			opts->runs = atoi(optarg);
		else if (c == 'm')
			opts->msec = atoi(optarg);
		else
			return -1;
	}
	if (opts->runs < 1 || opts->runs > MAX_RUNS || opts->msec < 1)
		return -1;
	return 0;
}

int main(int argc, char **argv)
{
	struct bench_ctx ctx = { .opts = { .runs = 5, .msec = 300 } };

	if (parse_opts(argc, argv, &ctx.opts)) {
		fprintf(stderr, "usage: %s [-r RUNS (1..%d)] [-m MSEC]\n",
			argv[0], MAX_RUNS);
		return 2;
	}
	ctx.buf = malloc(STREAM_BYTES);
	if (!ctx.buf) {
		fprintf(stderr, "out of memory\n");
		return 1;
	}
	for (size_t i = 0; i < STREAM_BYTES; i++)
		ctx.buf[i] = (uint8_t)(i * 2654435761u >> 13);
	printf("runs %d x %d ms CPU time each; (!) = not native on this CPU\n",
	       ctx.opts.runs, ctx.opts.msec);
	bench_all(&ctx);
	/* Printing the results' XOR keeps the compiler from skipping work. */
	printf("(result xor %08x)\n", ctx.sink);
	free(ctx.buf);
	return 0;
}
