// SPDX-License-Identifier: GPL-2.0
/*
 * Usage texts of declared commands and the argument checks shared by all
 * commands; the layout of the texts follows the reference btrfs tool.
 */
#include <ctype.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cmds/commands.h"
#include "cmds/help.h"

/* Column where option descriptions start, counted after the indent. */
#define HELP_OPT_WIDTH 26
#define HELP_INDENT "    "

/*
 * Full name of the running command, for message prefixes. Written once by
 * the dispatcher before the command runs, read-only afterwards; the fixed
 * check_argc_*() interface leaves no other way to reach it.
 */
static char command_path[256] = "btrfs";

void help_set_command_path(const char *path)
{
	snprintf(command_path, sizeof(command_path), "%s", path);
}

const char *help_command_path(void)
{
	return command_path;
}

/* Length of the first line of @text, without its "\n". */
static int line_len(const char *text)
{
	const char *nl = strchr(text, '\n');

	return nl ? (int)(nl - text) : (int)strlen(text);
}

/* Print each "\n"-separated line of @text after @indent; no trailing blanks. */
static void print_lines(FILE *out, const char *indent, const char *text)
{
	int len;

	for (;;) {
		len = line_len(text);
		if (len)
			fprintf(out, "%s%.*s", indent, len, text);
		fputc('\n', out);
		if (!text[len])
			break;
		text += len + 1;
	}
}

/* Print an OPTLINE(): the option, then its description in a column. */
static void print_optline(FILE *out, const char *line, const char *sep)
{
	int optlen = (int)(sep - line);
	int pad = optlen < HELP_OPT_WIDTH ? HELP_OPT_WIDTH - optlen : 1;
	const char *text = sep + 1;
	int len = line_len(text);

	fprintf(out, HELP_INDENT "%.*s%*s%.*s\n", optlen, line, pad, "", len,
		text);
	while (text[len]) {
		text += len + 1;
		len = line_len(text);
		fprintf(out, HELP_INDENT "%*s%.*s\n", HELP_OPT_WIDTH, "", len,
			text);
	}
}

/* Print one line of a usage body: plain text or an OPTLINE(). */
static void print_body_line(FILE *out, const char *line)
{
	const char *sep = strchr(line, HELP_OPT_SEP[0]);

	if (sep)
		print_optline(out, line, sep);
	else
		print_lines(out, HELP_INDENT, line);
}

/* "usage: <line>", further alternatives of the usage line indented below. */
static void print_usage_line(FILE *out, const char *usageline)
{
	int len = line_len(usageline);

	fprintf(out, "usage: %.*s\n", len, usageline);
	if (usageline[len])
		print_lines(out, "        ", usageline + len + 1);
}

void help_print_command(const struct cmd_struct *cmd, FILE *out)
{
	const char * const *line = cmd->usagestr;

	if (!line || !line[0])
		return;
	print_usage_line(out, line[0]);
	fputc('\n', out);
	if (!line[1])
		return;
	fprintf(out, HELP_INDENT "%s\n", line[1]);
	for (line += 2; *line; line++)
		print_body_line(out, *line);
	fputc('\n', out);
}

/* Two-line summary of a plain command: its usage line(s), its summary. */
static void print_command_brief(const struct cmd_struct *cmd, FILE *out)
{
	if (!cmd->usagestr || !cmd->usagestr[0])
		return;
	print_lines(out, HELP_INDENT, cmd->usagestr[0]);
	if (cmd->usagestr[1])
		fprintf(out, HELP_INDENT HELP_INDENT "%s\n", cmd->usagestr[1]);
}

void help_print_listing(const struct cmd_group *grp, bool full, FILE *out)
{
	const struct cmd_struct *cmd;
	bool first = true;
	bool prev_group = false;
	int i;

	for (i = 0; (cmd = grp->commands[i]); i++) {
		bool is_group = cmd->next && !cmd->fn;

		if (cmd->flags & CMD_HIDDEN)
			continue;
		if (!first && !full && (is_group || prev_group))
			fputc('\n', out);
		if (is_group)
			help_print_listing(cmd->next, full, out);
		else if (full)
			help_print_command(cmd, out);
		else
			print_command_brief(cmd, out);
		first = false;
		prev_group = is_group;
	}
}

void help_print_group(const struct cmd_group *grp, bool full, FILE *out)
{
	if (grp->usagestr && grp->usagestr[0])
		print_usage_line(out, grp->usagestr[0]);
	fputc('\n', out);
	help_print_listing(grp, full, out);
	if (grp->infostr) {
		if (!full)
			fputc('\n', out);
		fprintf(out, "%s\n", grp->infostr);
	}
}

void usage(const struct cmd_struct *cmd, int exit_code)
{
	FILE *out = exit_code ? stderr : stdout;

	if (cmd->next && !cmd->fn)
		help_print_group(cmd->next, false, out);
	else
		help_print_command(cmd, out);
	exit(exit_code);
}

/*
 * getopt_long() leaves optopt 0 for an unknown long option, the option's
 * value for a known one used wrongly, the character for a short one.
 */
void usage_unknown_option(const struct cmd_struct *cmd, char **argv)
{
	const char *path = help_command_path();
	const char *last = optind > 0 ? argv[optind - 1] : "";

	(void)cmd;
	if (!optopt)
		fprintf(stderr, "%s: unrecognized option '%s'\n", path, last);
	else if (optopt > 0 && optopt < 128 && isprint(optopt))
		fprintf(stderr, "%s: invalid option '%c'\n", path, optopt);
	else
		fprintf(stderr, "%s: option '%s' requires an argument\n", path,
			last);
	fprintf(stderr, "Try '%s --help' for more information\n", path);
	exit(1);
}

int check_argc_exact(int nargs, int expected)
{
	if (nargs == expected)
		return 0;
	fprintf(stderr, "%s: exactly %d argument%s expected, %d given\n",
		command_path, expected, expected == 1 ? "" : "s", nargs);
	return 1;
}

int check_argc_min(int nargs, int expected)
{
	if (nargs >= expected)
		return 0;
	fprintf(stderr, "%s: not enough arguments: %d but at least %d expected\n",
		command_path, nargs, expected);
	return 1;
}

int check_argc_max(int nargs, int expected)
{
	if (nargs <= expected)
		return 0;
	fprintf(stderr, "%s: too many arguments: %d but at most %d expected\n",
		command_path, nargs, expected);
	return 1;
}
