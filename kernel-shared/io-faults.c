// SPDX-License-Identifier: GPL-2.0
/*
 * The fault-injecting backend (see io.h for the plan's syntax).
 *
 * When a power cut is planned, writes are held per device in arrival order
 * until that device is flushed, as a volatile write cache would hold them;
 * reads are served from the device below with the held writes laid over
 * them.  The cut decides the fate of each held write (lost, kept, or kept
 * torn) and applies the kept ones in a shuffled order, then every device
 * stops answering.  Without a planned cut, writes pass straight through.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/array.h"
#include "kernel-shared/io.h"

#define FAULT_SECTOR 512
#define MAX_EIO_RANGES 8

enum lose_mode { LOSE_RANDOM, LOSE_ALL, LOSE_NONE };

struct held_write {
	uint64_t off;
	size_t len;
	uint8_t *data;
};

struct fault_io {
	struct btrfs_io io;
	struct held_write *held;
	size_t nr_held;
	size_t cap_held;
	struct fault_io *next;		/* every open faulted device */
};

static struct {
	bool active;
	uint64_t fail_read, fail_write, short_write, cut_flush, cut_write;
	struct { uint64_t start, len; } eio[MAX_EIO_RANGES];
	int nr_eio;
	enum lose_mode lose;
	bool torn;
	bool count;
	uint64_t rng;
	uint64_t reads, writes, flushes;
	bool cut;
	struct fault_io *devices;
} plan;

static uint64_t next_random(void)
{
	/* xorshift64*: reproducible from the seed, good enough for choices. */
	plan.rng ^= plan.rng >> 12;
	plan.rng ^= plan.rng << 25;
	plan.rng ^= plan.rng >> 27;
	return plan.rng * 0x2545F4914F6CDD1DULL;
}

static void print_counts(void)
{
	fprintf(stderr, "faults: %" PRIu64 " reads, %" PRIu64 " writes, %" PRIu64
		" flushes\n", plan.reads, plan.writes, plan.flushes);
}

static int parse_u64(const char *s, uint64_t *v)
{
	char *end;

	if (!*s)
		return -EINVAL;
	errno = 0;
	*v = strtoull(s, &end, 0);
	return errno || *end ? -EINVAL : 0;
}

static int parse_item(char *item)
{
	char *val = strchr(item, '=');

	if (val)
		*val++ = '\0';
	if (!strcmp(item, "torn") && !val) {
		plan.torn = true;
		return 0;
	}
	if (!strcmp(item, "count") && !val) {
		plan.count = true;
		return 0;
	}
	if (!val)
		return -EINVAL;
	if (!strcmp(item, "fail-read"))
		return parse_u64(val, &plan.fail_read);
	if (!strcmp(item, "fail-write"))
		return parse_u64(val, &plan.fail_write);
	if (!strcmp(item, "short-write"))
		return parse_u64(val, &plan.short_write);
	if (!strcmp(item, "cut-flush"))
		return parse_u64(val, &plan.cut_flush);
	if (!strcmp(item, "cut-write"))
		return parse_u64(val, &plan.cut_write);
	if (!strcmp(item, "seed")) {
		int ret = parse_u64(val, &plan.rng);

		plan.rng = plan.rng * 2 + 1;	/* never zero */
		return ret;
	}
	if (!strcmp(item, "lose")) {
		if (!strcmp(val, "all"))
			plan.lose = LOSE_ALL;
		else if (!strcmp(val, "none"))
			plan.lose = LOSE_NONE;
		else if (!strcmp(val, "random"))
			plan.lose = LOSE_RANDOM;
		else
			return -EINVAL;
		return 0;
	}
	if (!strcmp(item, "eio")) {
		char *plus = strchr(val, '+');
		int i = plan.nr_eio;

		if (!plus || i == MAX_EIO_RANGES)
			return -EINVAL;
		*plus++ = '\0';
		plan.nr_eio++;
		if (parse_u64(val, &plan.eio[i].start) ||
		    parse_u64(plus, &plan.eio[i].len))
			return -EINVAL;
		return 0;
	}
	return -EINVAL;
}

int btrfs_io_faults_setup(const char *spec)
{
	char *copy = strdup(spec);
	char *item, *save = NULL;
	int ret = 0;

	if (!copy)
		return -ENOMEM;
	memset(&plan, 0, sizeof(plan));
	plan.rng = 3;
	for (item = strtok_r(copy, ",", &save); item && !ret;
	     item = strtok_r(NULL, ",", &save))
		ret = parse_item(item);
	free(copy);
	if (ret) {
		fprintf(stderr, "faults: cannot parse BTRFS_IO_FAULTS '%s'\n",
			spec);
		memset(&plan, 0, sizeof(plan));
		return ret;
	}
	plan.active = true;
	if (plan.count)
		atexit(print_counts);
	return 0;
}

bool btrfs_io_faults_cut(void)
{
	return plan.cut;
}

static struct fault_io *to_fault(struct btrfs_io *io)
{
	return (struct fault_io *)io;
}

static bool holding(void)
{
	return plan.cut_flush || plan.cut_write;
}

static bool in_eio_range(uint64_t off, size_t len)
{
	for (int i = 0; i < plan.nr_eio; i++)
		if (off < plan.eio[i].start + plan.eio[i].len &&
		    plan.eio[i].start < off + len)
			return true;
	return false;
}

static void drop_held(struct fault_io *f)
{
	for (size_t i = 0; i < f->nr_held; i++)
		free(f->held[i].data);
	f->nr_held = 0;
}

/* Write every held write of @f to the device below, oldest first. */
static int apply_held(struct fault_io *f)
{
	int ret = 0;

	for (size_t i = 0; i < f->nr_held && !ret; i++)
		ret = btrfs_io_pwrite(f->io.lower, f->held[i].data,
				      f->held[i].len, f->held[i].off);
	drop_held(f);
	return ret;
}

/* Keep a random subset of the sectors of @w. */
static void apply_torn(struct fault_io *f, const struct held_write *w)
{
	for (size_t done = 0; done < w->len; done += FAULT_SECTOR) {
		size_t n = w->len - done < FAULT_SECTOR ? w->len - done :
							  FAULT_SECTOR;

		if (next_random() & 1)
			btrfs_io_pwrite(f->io.lower, w->data + done, n,
					w->off + done);
	}
}

static void cut_device(struct fault_io *f)
{
	size_t n = f->nr_held;

	/* Shuffle: the cache may have sent them in any order. */
	for (size_t i = n; i > 1; i--) {
		size_t j = (size_t)(next_random() % i);
		struct held_write tmp = f->held[i - 1];

		f->held[i - 1] = f->held[j];
		f->held[j] = tmp;
	}
	for (size_t i = 0; i < n; i++) {
		const struct held_write *w = &f->held[i];
		bool keep = plan.lose == LOSE_NONE ||
			    (plan.lose == LOSE_RANDOM && (next_random() & 1));

		if (!keep)
			continue;
		if (plan.torn && (next_random() & 1))
			apply_torn(f, w);
		else
			btrfs_io_pwrite(f->io.lower, w->data, w->len, w->off);
	}
	drop_held(f);
}

static void power_cut(const char *what, uint64_t nth)
{
	struct fault_io *f;

	fprintf(stderr, "faults: power cut at %s %" PRIu64 "\n", what, nth);
	for (f = plan.devices; f; f = f->next)
		cut_device(f);
	plan.cut = true;
}

static ssize_t fault_read(struct btrfs_io *io, void *buf, size_t len,
			  uint64_t off)
{
	struct fault_io *f = to_fault(io);
	uint64_t nth = ++plan.reads;
	ssize_t got;

	if (plan.cut || nth == plan.fail_read || in_eio_range(off, len))
		return -EIO;
	got = io->lower->ops->read(io->lower, buf, len, off);
	if (got <= 0)
		return got;
	for (size_t i = 0; i < f->nr_held; i++) {
		const struct held_write *w = &f->held[i];
		uint64_t s = w->off > off ? w->off : off;
		uint64_t e = w->off + w->len < off + (uint64_t)got ?
			     w->off + w->len : off + (uint64_t)got;

		if (s < e)
			memcpy((uint8_t *)buf + (s - off), w->data + (s - w->off),
			       (size_t)(e - s));
	}
	return got;
}

static int hold_write(struct fault_io *f, const void *buf, size_t len,
		      uint64_t off)
{
	struct held_write *w;

	if (array_reserve(f->held, f->cap_held, f->nr_held + 1, 64))
		return -ENOMEM;
	w = &f->held[f->nr_held];
	w->data = malloc(len);
	if (!w->data)
		return -ENOMEM;
	memcpy(w->data, buf, len);
	w->off = off;
	w->len = len;
	f->nr_held++;
	return 0;
}

static ssize_t fault_write(struct btrfs_io *io, const void *buf, size_t len,
			   uint64_t off)
{
	struct fault_io *f = to_fault(io);
	uint64_t nth = ++plan.writes;
	ssize_t ret;

	if (plan.cut || nth == plan.fail_write || in_eio_range(off, len))
		return -EIO;
	if (!io->writable)
		return -EBADF;
	if (nth == plan.short_write) {
		size_t half = (len / 2) & ~(size_t)(FAULT_SECTOR - 1);

		len = half ? half : len / 2;
		if (!len)
			return -EIO;
	}
	if (holding()) {
		ret = hold_write(f, buf, len, off);
		ret = ret ? ret : (ssize_t)len;
	} else {
		ret = io->lower->ops->write(io->lower, buf, len, off);
	}
	if (nth == plan.cut_write)
		power_cut("write", nth);
	return ret;
}

static int fault_flush(struct btrfs_io *io)
{
	struct fault_io *f = to_fault(io);
	uint64_t nth = ++plan.flushes;
	int ret;

	if (plan.cut)
		return -EIO;
	if (nth == plan.cut_flush) {
		power_cut("flush", nth);
		return -EIO;
	}
	ret = apply_held(f);
	return ret ? ret : io->lower->ops->flush(io->lower);
}

static int fault_discard(struct btrfs_io *io, uint64_t off, uint64_t len)
{
	if (plan.cut)
		return -EIO;
	return io->lower->ops->discard(io->lower, off, len);
}

static int fault_close(struct btrfs_io *io)
{
	struct fault_io *f = to_fault(io);
	struct fault_io **pos;
	int ret = 0;

	/* Closing without a cut: the cache drains, as the OS would. */
	if (!plan.cut)
		ret = apply_held(f);
	drop_held(f);
	for (pos = &plan.devices; *pos; pos = &(*pos)->next) {
		if (*pos == f) {
			*pos = f->next;
			break;
		}
	}
	free(f->held);
	free(f);
	return ret;
}

static const struct btrfs_io_ops fault_io_ops = {
	.read = fault_read,
	.write = fault_write,
	.flush = fault_flush,
	.discard = fault_discard,
	.close = fault_close,
};

int btrfs_io_faults_push(struct btrfs_io *lower, struct btrfs_io **io)
{
	struct fault_io *f = calloc(1, sizeof(*f));

	if (!f)
		return -ENOMEM;
	btrfs_io_init_layer(&f->io, &fault_io_ops, lower);
	f->next = plan.devices;
	plan.devices = f;
	*io = &f->io;
	return 0;
}
