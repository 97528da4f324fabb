// SPDX-License-Identifier: GPL-2.0
/*
 * btrfs check: printing findings and progress.
 *
 * Findings go to ctx->err, one line each: "ERROR: <message> [<location>]"
 * where the location lists only the fields of the record that are set, in
 * a fixed order, so that a user can paste the numbers into dump-tree and a
 * test can grep them.  Progress lines go to ctx->out; with -p and a
 * terminal, the current pass also shows a count and a rate, redrawn in
 * place at most a few times a second.
 */
#include <stdarg.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "cmds/check/check.h"

static double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Append the set location fields of @f ("[root 5 inode 257 ...]"). */
static void print_location(FILE *out, const struct check_finding *f)
{
	const struct btrfs_key *k = &f->key;
	bool has_key = k->objectid || k->type || k->offset;
	const char *sep = "";

	if (!f->root && !f->inode && !has_key && !f->bytenr && !f->has_values)
		return;
	fputs(" [", out);
	if (f->root) {
		fprintf(out, "root %llu", (unsigned long long)f->root);
		sep = " ";
	}
	if (f->inode) {
		fprintf(out, "%sinode %llu", sep, (unsigned long long)f->inode);
		sep = " ";
	}
	if (has_key) {
		fprintf(out, "%skey (%llu %u %llu)", sep,
			(unsigned long long)k->objectid, k->type,
			(unsigned long long)k->offset);
		sep = " ";
	}
	if (f->bytenr) {
		fprintf(out, "%sbytenr %llu", sep,
			(unsigned long long)f->bytenr);
		sep = " ";
	}
	if (f->has_values)
		fprintf(out, "%sexpected %llu found %llu", sep,
			(unsigned long long)f->expected,
			(unsigned long long)f->found);
	fputc(']', out);
}

/* A progress line drawn in place must be ended before other output. */
static void end_progress_line(struct check_ctx *ctx)
{
	if (ctx->progress_drawn) {
		fputc('\n', ctx->out);
		fflush(ctx->out);
		ctx->progress_drawn = false;
	}
}

void check_report(struct check_ctx *ctx, const struct check_finding *f,
		  const char *fmt, ...)
{
	va_list ap;

	end_progress_line(ctx);
	fflush(ctx->out);
	fputs("ERROR: ", ctx->err);
	va_start(ap, fmt);
	vfprintf(ctx->err, fmt, ap);
	va_end(ap);
	print_location(ctx->err, f);
	fputc('\n', ctx->err);
	ctx->nr_findings++;
	if (ctx->on_finding)
		ctx->on_finding(f, ctx->on_finding_data);
}

void check_fatal(struct check_ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	end_progress_line(ctx);
	fflush(ctx->out);
	fputs("ERROR: ", ctx->err);
	va_start(ap, fmt);
	vfprintf(ctx->err, fmt, ap);
	va_end(ap);
	fputc('\n', ctx->err);
	ctx->nr_findings++;
}

void check_progress_begin(struct check_ctx *ctx, int nr, int total,
			  const char *what)
{
	ctx->progress_nr = nr;
	ctx->progress_total = total;
	ctx->progress_what = what;
	ctx->progress_count = 0;
	ctx->progress_start = now_seconds();
	ctx->progress_last = ctx->progress_start;
	ctx->progress_tty = (ctx->flags & CHECK_F_PROGRESS) &&
			    isatty(fileno(ctx->out));
	if (ctx->flags & CHECK_F_QUIET)
		return;
	fprintf(ctx->out, "[%d/%d] %s\n", nr, total, what);
	fflush(ctx->out);
}

static void draw_progress(struct check_ctx *ctx, double t)
{
	double elapsed = t - ctx->progress_start;
	double rate = elapsed > 0 ? (double)ctx->progress_count / elapsed : 0;

	fprintf(ctx->out, "\r      %llu items, %.0f items/s, %.1fs",
		(unsigned long long)ctx->progress_count, rate, elapsed);
	fflush(ctx->out);
	ctx->progress_drawn = true;
}

void check_progress_add(struct check_ctx *ctx, u64 items)
{
	double t;

	ctx->progress_count += items;
	if (!ctx->progress_tty || (ctx->flags & CHECK_F_QUIET))
		return;
	/* look at the clock only every few thousand items */
	if ((ctx->progress_count & 4095) >= items && items < 4096)
		return;
	t = now_seconds();
	if (t - ctx->progress_last < 0.25)
		return;
	ctx->progress_last = t;
	draw_progress(ctx, t);
}

void check_progress_end(struct check_ctx *ctx)
{
	if (ctx->progress_tty && !(ctx->flags & CHECK_F_QUIET) &&
	    ctx->progress_count) {
		draw_progress(ctx, now_seconds());
		end_progress_line(ctx);
	}
	ctx->progress_tty = false;
}
