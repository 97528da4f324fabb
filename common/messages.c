// SPDX-License-Identifier: GPL-2.0
/*
 * Diagnostics printed by the frontends; see messages.h for the convention.
 */
#include <stdarg.h>
#include <stdio.h>

#include "common/messages.h"

/* Write one whole line, "<prefix><message>\n", to stderr. */
static void print_line(const char *prefix, const char *fmt, va_list ap)
{
	fputs(prefix, stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

static int level = MSG_DEFAULT;

void msg_set_level(int l)
{
	level = l < MSG_QUIET ? MSG_QUIET : l > MSG_DEBUG ? MSG_DEBUG : l;
}

int msg_level(void)
{
	return level;
}

void pr_verbose(int at, const char *fmt, ...)
{
	va_list ap;

	if (level < at)
		return;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

void error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	print_line("ERROR: ", fmt, ap);
	va_end(ap);
}

void warning(const char *fmt, ...)
{
	va_list ap;

	if (level == MSG_QUIET)
		return;
	va_start(ap, fmt);
	print_line("WARNING: ", fmt, ap);
	va_end(ap);
}

bool error_on(bool cond, const char *fmt, ...)
{
	va_list ap;

	if (!cond)
		return false;
	va_start(ap, fmt);
	print_line("ERROR: ", fmt, ap);
	va_end(ap);
	return true;
}

bool warning_on(bool cond, const char *fmt, ...)
{
	va_list ap;

	if (!cond)
		return false;
	if (level == MSG_QUIET)
		return true;
	va_start(ap, fmt);
	print_line("WARNING: ", fmt, ap);
	va_end(ap);
	return true;
}
