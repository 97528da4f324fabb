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

/* Print "ERROR: <fmt...>\n" to stderr. */
void error(const char *fmt, ...) BTRFS_PRINTF(1, 2);

/* Print "WARNING: <fmt...>\n" to stderr. */
void warning(const char *fmt, ...) BTRFS_PRINTF(1, 2);

/*
 * If @cond is true, print the error and return true; otherwise print
 * nothing and return false. Meant for: if (error_on(ret < 0, "...")) ...
 */
bool error_on(bool cond, const char *fmt, ...) BTRFS_PRINTF(2, 3);

/* Same as error_on() for warnings. */
bool warning_on(bool cond, const char *fmt, ...) BTRFS_PRINTF(2, 3);

#endif
