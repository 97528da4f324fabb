/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Usage printing and argument-count checks for declared commands
 * (struct cmd_struct and struct cmd_group, see cmds/commands.h). The texts
 * and exit codes follow the reference btrfs tool.
 */
#ifndef BTRFS_CMDS_HELP_H
#define BTRFS_CMDS_HELP_H

#include <stdbool.h>
#include <stdio.h>

struct cmd_struct;
struct cmd_group;

/*
 * Print the full usage of @cmd (a group's listing if @cmd is a group) and
 * exit with @exit_code: to stdout when it is 0, to stderr otherwise.
 */
void usage(const struct cmd_struct *cmd, int exit_code)
	__attribute__((__noreturn__));

/*
 * Report the option getopt_long() just rejected (it returned '?'), as
 * "btrfs inspect-internal dump-super: unrecognized option '--foo'" and
 * "Try 'btrfs inspect-internal dump-super --help' for more information",
 * on stderr, then exit(1). @argv is the argv the command parsed.
 */
void usage_unknown_option(const struct cmd_struct *cmd, char **argv)
	__attribute__((__noreturn__));

/*
 * Check the number of arguments left after the options (argc - optind).
 * Return 0 if @nargs is acceptable; otherwise print the reference's error
 * ("<command>: not enough arguments: 0 but at least 1 expected") to
 * stderr and return 1. The caller then exits with status 1.
 */
int check_argc_exact(int nargs, int expected);
int check_argc_min(int nargs, int expected);
int check_argc_max(int nargs, int expected);

/*
 * Record the full name of the command about to run ("btrfs inspect-internal
 * dump-super"), used as the prefix of the messages above. Called by the
 * dispatcher only, once, before the command function runs.
 */
void help_set_command_path(const char *path);

/* The name recorded by help_set_command_path(), "btrfs" before that. */
const char *help_command_path(void);

/* Print the full usage of the plain command @cmd to @out. */
void help_print_command(const struct cmd_struct *cmd, FILE *out);

/*
 * Print the usage of @grp: its usage line, the summary of every visible
 * command (all of them in full if @full), then its info string.
 */
void help_print_group(const struct cmd_group *grp, bool full, FILE *out);

/*
 * Print the two-line summary of every visible command of @grp and, in
 * turn, of its sub-groups, with a blank line around each sub-group; with
 * @full, print each command's full usage instead.
 */
void help_print_listing(const struct cmd_group *grp, bool full, FILE *out);

#endif
