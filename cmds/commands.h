/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Declared commands: every `btrfs ...` command is a const struct cmd_struct
 * with its usage text, and every group of commands is a const struct
 * cmd_group listing them. The dispatcher (cmds/btrfs.c) resolves the words
 * on the command line (unique prefixes allowed), handles --help itself, and
 * then calls the command's function.
 *
 * Contract for a command function:
 * - argv[0] is the command token ("dump-super"), argc counts it; options are
 *   parsed with getopt_long (opterr is 0 and optind is 1 on entry).
 * - On an unknown option call usage_unknown_option(cmd, argv); check the
 *   number of non-option arguments with check_argc_*() and exit(1) if they
 *   return nonzero.
 * - Return the process exit status: 0 on success, 1 on failure. The value
 *   is passed to exit() as is, so a negative errno becomes 256 - errno
 *   (-EIO: 251), as the reference tool does; return 1 unless the reference
 *   behaves otherwise.
 */
#ifndef BTRFS_CMDS_COMMANDS_H
#define BTRFS_CMDS_COMMANDS_H

#include "cmds/help.h"

/* cmd_struct.flags */
#define CMD_HIDDEN	(1U << 0)	/* not listed in help, no abbreviation */

struct cmd_group;

struct cmd_struct {
	/* The word on the command line. */
	const char *token;
	/* argv[0] is the command token; NULL for a group (see @next). */
	int (*fn)(const struct cmd_struct *cmd, int argc, char **argv);
	/*
	 * [0] full usage line "btrfs inspect-internal dump-super [options]
	 * device [device...]" (several alternatives: separate with "\n"),
	 * [1] one-line summary, then the description and option lines
	 * (OPTLINE), "" for an empty line; NULL-terminated.
	 */
	const char * const *usagestr;
	/* Sub-group this token leads to, or NULL for a plain command. */
	const struct cmd_group *next;
	/* CMD_HIDDEN ... */
	unsigned int flags;
};

struct cmd_group {
	/* [0] "btrfs inspect-internal <command> <args>", NULL-terminated. */
	const char * const *usagestr;
	/* One-line description of the group, printed after its listing. */
	const char *infostr;
	/* The commands and sub-groups, in help order, NULL-terminated. */
	const struct cmd_struct * const commands[];
};

#define DEFINE_COMMAND(name, _token, _usagestr)			\
	const struct cmd_struct cmd_struct_##name = {		\
		.token = _token,				\
		.fn = cmd_##name,				\
		.usagestr = _usagestr,				\
	}

#define DEFINE_SIMPLE_COMMAND(name, token)			\
	DEFINE_COMMAND(name, token, cmd_##name##_usage)

/* A group: token @_token leads to "const struct cmd_group name_cmd_group". */
#define DEFINE_GROUP_COMMAND(name, _token)			\
	const struct cmd_struct cmd_struct_##name = {		\
		.token = _token,				\
		.next = &name##_cmd_group,			\
	}

/*
 * An option line in a usage array: OPTLINE("-f|--full", "print everything")
 * is printed with the description aligned in a column; "\n" inside the
 * description continues it on the next line in the same column.
 */
#define HELP_OPT_SEP "\x1f"
#define OPTLINE(opt, text) opt HELP_OPT_SEP text

/* Top level of `btrfs` (cmds/btrfs.c). */
extern const struct cmd_group btrfs_cmd_group;

/* Groups. */
extern const struct cmd_group inspect_cmd_group;
extern const struct cmd_struct cmd_struct_inspect;
extern const struct cmd_group rescue_cmd_group;
extern const struct cmd_struct cmd_struct_rescue;

/* Commands. */
extern const struct cmd_struct cmd_struct_inspect_dump_super;
extern const struct cmd_struct cmd_struct_inspect_dump_tree;
extern const struct cmd_struct cmd_struct_check;
extern const struct cmd_struct cmd_struct_restore;

#endif
