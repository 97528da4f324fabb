// SPDX-License-Identifier: GPL-2.0
/*
 * The `btrfs` command: resolve the words on the command line through the
 * declared command groups (unique prefixes allowed), answer --help and
 * --version, and run the command found. Texts and exit codes follow the
 * reference tool: 0 success, 1 usage error or command failure, 129 for an
 * unknown global option.  The global options -q, -v and --log=LEVEL set
 * the level of common/messages.c.
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmds/commands.h"
#include "cmds/help.h"
#include "common/messages.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "unknown"
#endif

#define CMD_PATH_MAX 256

static const char * const btrfs_cmd_group_usage[] = {
	"btrfs [--help] [--version] <group> [<group>...] <command> [<args>]",
	NULL
};

static const char btrfs_options_help[] =
	"Global options:\n"
	"  -v|--verbose      increase verbosity of the subcommand\n"
	"  -q|--quiet        print only errors\n"
	"  --log <level>     set log level (default, info, verbose, debug, quiet)\n"
	"\n"
	"Options for the main command only:\n"
	"  --help            print condensed help for all subcommands\n"
	"  --version         print version string\n";

static const char btrfs_hint[] =
	"Run 'btrfs <command> --help' for the usage of one group or command,\n"
	"or 'btrfs help --full' for every command with all of its options.\n"
	"A command name may be shortened to any unambiguous prefix, but\n"
	"scripts should spell command names in full.\n"
	"Manual pages: btrfs(8) and btrfs-<group>(8).\n";

/* @dst = "@path @token", cut short if it does not fit (never in practice). */
static void join_path(char dst[CMD_PATH_MAX], const char *path,
		      const char *token)
{
	if (snprintf(dst, CMD_PATH_MAX, "%s %s", path, token) >= CMD_PATH_MAX)
		dst[CMD_PATH_MAX - 1] = '\0';
}

static bool is_group(const struct cmd_struct *cmd)
{
	return cmd->next && !cmd->fn;
}

/* "btrfs --help": every command with its summary (all options if @full). */
static void print_top_help(FILE *out, bool full)
{
	fprintf(out, "usage: %s\n\n%s\n", btrfs_cmd_group_usage[0],
		btrfs_options_help);
	help_print_listing(&btrfs_cmd_group, full, out);
	if (!full)
		fputc('\n', out);
	fprintf(out, "Use --help as an argument for information on a specific group or command.\n");
}

/* One "  token   description" line per visible top-level entry. */
static void print_top_entries(FILE *out, bool groups)
{
	const struct cmd_struct *cmd;
	int i;

	for (i = 0; (cmd = btrfs_cmd_group.commands[i]); i++) {
		if ((cmd->flags & CMD_HIDDEN) || is_group(cmd) != groups)
			continue;
		const char *text = groups ? cmd->next->infostr :
				   cmd->usagestr[1];

		fprintf(out, "  %-18s%s\n", cmd->token, text ? text : "");
	}
}

/* Plain "btrfs": the overview on stdout, the hint on stderr, status 1. */
static void __attribute__((__noreturn__)) top_overview_exit(void)
{
	printf("usage: %s\n\n%s\n", btrfs_cmd_group_usage[0],
	       btrfs_options_help);
	printf("Command groups:\n");
	print_top_entries(stdout, true);
	printf("\nCommands:\n");
	print_top_entries(stdout, false);
	printf("\n");
	fflush(stdout);
	fputs(btrfs_hint, stderr);
	exit(1);
}

/* Usage of a group, the top level included. */
static void print_group_usage(const struct cmd_group *grp, bool full, FILE *out)
{
	if (grp == &btrfs_cmd_group)
		print_top_help(out, full);
	else
		help_print_group(grp, full, out);
}

static void __attribute__((__noreturn__))
unknown_token_exit(const struct cmd_group *grp, const char *path,
		   const char *token)
{
	fprintf(stderr, "%s: unknown token '%s'\n", path, token);
	print_group_usage(grp, false, stderr);
	exit(1);
}

static bool matches_prefix(const struct cmd_struct *cmd, const char *token)
{
	return !(cmd->flags & CMD_HIDDEN) &&
	       !strncmp(cmd->token, token, strlen(token));
}

static void __attribute__((__noreturn__))
ambiguous_token_exit(const struct cmd_group *grp, const char *path,
		     const char *token)
{
	const struct cmd_struct *cmd;
	int i;

	fprintf(stderr, "%s: ambiguous token '%s'\n\nDid you mean one of these ?\n",
		path, token);
	for (i = 0; (cmd = grp->commands[i]); i++) {
		if (matches_prefix(cmd, token))
			fprintf(stderr, "\t%s\n", cmd->token);
	}
	exit(1);
}

/* The groups and commands of btrfs-progs that this suite does not have. */
static const char * const not_provided[] = {
	"balance", "device", "filesystem", "property", "qgroup", "quota",
	"receive", "replace", "scrub", "send", "subvolume", NULL
};

/*
 * @token names (exactly, or as the unique prefix) a btrfs-progs group we
 * do not have: say so, rather than show a usage that does not mention it.
 */
static void not_provided_exit(const char *token)
{
	const char *found = NULL;
	int i;

	for (i = 0; *token && not_provided[i]; i++) {
		if (!strcmp(not_provided[i], token)) {
			found = not_provided[i];
			break;
		}
		if (!strncmp(not_provided[i], token, strlen(token))) {
			if (found)
				return;		/* ambiguous: unknown token */
			found = not_provided[i];
		}
	}
	if (!found)
		return;
	error("btrfs %s is not provided by this build", found);
	exit(1);
}

/*
 * The entry of @grp named by @token: the exact name, else the only entry
 * it is a prefix of. Unknown or ambiguous tokens end the process with 1.
 */
static const struct cmd_struct *find_command(const struct cmd_group *grp,
					     const char *path, const char *token)
{
	const struct cmd_struct *cmd;
	const struct cmd_struct *found = NULL;
	int nr_found = 0;
	int i;

	for (i = 0; (cmd = grp->commands[i]); i++) {
		if (!strcmp(cmd->token, token))
			return cmd;
		if (*token && matches_prefix(cmd, token)) {
			found = cmd;
			nr_found++;
		}
	}
	if (nr_found == 1)
		return found;
	if (nr_found > 1)
		ambiguous_token_exit(grp, path, token);
	if (grp == &btrfs_cmd_group)
		not_provided_exit(token);
	unknown_token_exit(grp, path, token);
}

/*
 * Run a plain command; argv[0] is its token. Its return value becomes the
 * exit status as is (exit() keeps the low 8 bits: -EIO gives 251, as with
 * the reference).
 */
static int run_command(const struct cmd_struct *cmd, const char *path,
		       int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "--help"))
		usage(cmd, 0);
	help_set_command_path(path);
	opterr = 0;
	optind = 1;
	return cmd->fn(cmd, argc, argv);
}

/* Resolve argv[1] in @grp (whose own token is argv[0]) and go on. */
static int run_group(const struct cmd_group *grp, const char *path,
		     int argc, char **argv)
{
	const struct cmd_struct *cmd;
	char sub[CMD_PATH_MAX];

	if (argc < 2 && grp == &btrfs_cmd_group)
		top_overview_exit();
	if (argc < 2) {
		help_print_group(grp, false, stdout);
		exit(1);
	}
	if (!strcmp(argv[1], "--help")) {
		print_group_usage(grp, argc > 2 && !strcmp(argv[2], "--full"),
				  stdout);
		exit(0);
	}
	cmd = find_command(grp, path, argv[1]);
	join_path(sub, path, cmd->token);
	if (is_group(cmd))
		return run_group(cmd->next, sub, argc - 1, argv + 1);
	return run_command(cmd, sub, argc - 1, argv + 1);
}

static const char * const cmd_version_usage[] = {
	"btrfs version",
	"Display btrfs-tools version",
	NULL
};

static int cmd_version(const struct cmd_struct *cmd, int argc, char **argv)
{
	(void)cmd;
	(void)argc;
	(void)argv;
	printf("btrfs-tools v%s\n", PACKAGE_VERSION);
	return 0;
}
static DEFINE_SIMPLE_COMMAND(version, "version");

static const char * const cmd_help_usage[] = {
	"btrfs help [--full] [<group>...] [<command>]",
	"Display help information",
	"",
	OPTLINE("--full", "display detailed help on every command"),
	"",
	"Given the name of a group or a command (prefixes allowed), print the",
	"help of that group or command only.",
	NULL
};

/* "btrfs help WORD...": the help of the group or command they name. */
static int help_for_words(bool full, int nr_words, char **words)
{
	const struct cmd_group *grp = &btrfs_cmd_group;
	const struct cmd_struct *cmd = NULL;
	char path[CMD_PATH_MAX] = "btrfs";
	char sub[CMD_PATH_MAX];
	int i;

	for (i = 0; i < nr_words; i++) {
		if (cmd && !is_group(cmd)) {
			fprintf(stderr, "%s: unknown token '%s'\n", path, words[i]);
			return 1;
		}
		cmd = find_command(grp, path, words[i]);
		join_path(sub, path, cmd->token);
		memcpy(path, sub, sizeof(path));
		grp = cmd->next;
	}
	if (is_group(cmd))
		help_print_group(cmd->next, full, stdout);
	else
		help_print_command(cmd, stdout);
	return 0;
}

static int cmd_help(const struct cmd_struct *cmd, int argc, char **argv)
{
	static const struct option long_options[] = {
		{ "full", no_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 }
	};
	bool full = false;
	int c;

	while ((c = getopt_long(argc, argv, "", long_options, NULL)) != -1) {
		if (c != 'f')
			usage_unknown_option(cmd, argv);
		full = true;
	}
	if (optind >= argc) {
		print_top_help(stdout, full);
		return 0;
	}
	return help_for_words(full, argc - optind, argv + optind);
}
static DEFINE_SIMPLE_COMMAND(help, "help");

const struct cmd_group btrfs_cmd_group = {
	.usagestr = btrfs_cmd_group_usage,
	.infostr = NULL,
	.commands = {
		/* New top-level commands and groups go here, in help order. */
		&cmd_struct_check,
		&cmd_struct_inspect,
		&cmd_struct_rescue,
		&cmd_struct_restore,
		&cmd_struct_help,
		&cmd_struct_version,
		NULL
	}
};

/* --log=LEVEL: the level named, or -1. */
static int parse_log_level(const char *name)
{
	static const struct {
		const char *name;
		int level;
	} levels[] = {
		{ "default", MSG_DEFAULT }, { "info", MSG_INFO },
		{ "verbose", MSG_VERBOSE }, { "debug", MSG_DEBUG },
		{ "quiet", MSG_QUIET },
	};
	size_t i;

	for (i = 0; i < sizeof(levels) / sizeof(levels[0]); i++)
		if (!strcmp(levels[i].name, name))
			return levels[i].level;
	return -1;
}

/*
 * Options before the first command word.  -q, -v and --log set the message
 * level and are consumed (the count returned); --help and --version end the
 * process, as does anything else (status 129).
 */
static int global_options(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		const char *arg = argv[i];
		const char *level = NULL;
		int l;

		if (!strcmp(arg, "--help")) {
			print_top_help(stdout, i + 1 < argc &&
					       !strcmp(argv[i + 1], "--full"));
			exit(0);
		}
		if (!strcmp(arg, "--version")) {
			cmd_version(&cmd_struct_version, argc - i, argv + i);
			exit(0);
		}
		if (!strcmp(arg, "-q") || !strcmp(arg, "--quiet")) {
			msg_set_level(MSG_QUIET);
			continue;
		}
		if (!strcmp(arg, "--verbose")) {
			msg_set_level(msg_level() + 1);
			continue;
		}
		if (arg[1] == 'v' && arg[strspn(arg + 1, "v") + 1] == '\0') {
			/* -v, -vv, ...: one level each */
			msg_set_level(msg_level() + (int)strlen(arg + 1));
			continue;
		}
		if (!strncmp(arg, "--log=", 6))
			level = arg + 6;
		else if (!strcmp(arg, "--log") && i + 1 < argc)
			level = argv[++i];
		if (!level) {
			fprintf(stderr, "Unknown global option: %s\n", arg);
			exit(129);
		}
		l = parse_log_level(level);
		if (l < 0) {
			error("unrecognized log level: %s", level);
			exit(1);
		}
		msg_set_level(l);
	}
	return i - 1;
}

int main(int argc, char **argv)
{
	int skip = global_options(argc, argv);

	argv[skip] = argv[0];
	return run_group(&btrfs_cmd_group, "btrfs", argc - skip, argv + skip);
}
