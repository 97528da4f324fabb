/* SPDX-License-Identifier: GPL-2.0 */
/*
 * User-facing diagnostics for the frontends (cmds/ and common/).
 *
 * One convention everywhere: the message starts in lower case, has no
 * trailing period and no trailing newline, and is never split across
 * calls. error() prints "ERROR: <message>" and warning() prints
 * "WARNING: <message>", each on its own line on stderr, as the reference
 * btrfs tools do. The engine (kernel-shared/) never calls these.
 */
#ifndef BTRFS_COMMON_MESSAGES_H
#define BTRFS_COMMON_MESSAGES_H

#include <stdbool.h>

#define BTRFS_PRINTF(fmt_idx, arg_idx) \
	__attribute__((__format__(__printf__, fmt_idx, arg_idx)))

/*
 * How much the user wants to hear (btrfs -q, -v, --log=LEVEL): errors are
 * always printed, warnings from MSG_DEFAULT up, pr_verbose() lines at or
 * below the level set.
 */
enum msg_level {
	MSG_QUIET = 0,		/* -q, --log=quiet: errors only */
	MSG_DEFAULT = 1,	/* --log=default */
	MSG_INFO = 2,		/* -v once, --log=info */
	MSG_VERBOSE = 3,	/* -vv, --log=verbose */
	MSG_DEBUG = 4,		/* -vvv, --log=debug */
};

void msg_set_level(int level);
int msg_level(void);

/* Print @fmt... and a newline on stdout if the level is @level or more. */
void pr_verbose(int level, const char *fmt, ...) BTRFS_PRINTF(2, 3);

/* The word for a count: plural(1, "file", "files") is "file". */
static inline const char *plural(unsigned long long n, const char *one,
				 const char *many)
{
	return n == 1 ? one : many;
}

/* Print "ERROR: <fmt...>\n" to stderr. */
void error(const char *fmt, ...) BTRFS_PRINTF(1, 2);

/* Print "WARNING: <fmt...>\n" to stderr, unless quiet. */
void warning(const char *fmt, ...) BTRFS_PRINTF(1, 2);

/*
 * If @cond is true, print the error and return true; otherwise print
 * nothing and return false. Meant for: if (error_on(ret < 0, "...")) ...
 */
bool error_on(bool cond, const char *fmt, ...) BTRFS_PRINTF(2, 3);

/* Same as error_on() for warnings. */
bool warning_on(bool cond, const char *fmt, ...) BTRFS_PRINTF(2, 3);

#endif
