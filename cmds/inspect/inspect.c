// SPDX-License-Identifier: GPL-2.0
/*
 * The "btrfs inspect-internal" group: low-level views of a filesystem's
 * metadata. Each command lives in its own cmds/inspect/inspect-*.c file.
 */
#include "cmds/commands.h"

static const char * const inspect_cmd_group_usage[] = {
	"btrfs inspect-internal <command> <args>",
	NULL
};

const struct cmd_group inspect_cmd_group = {
	.usagestr = inspect_cmd_group_usage,
	.infostr = "query various internal information",
	.commands = {
		&cmd_struct_inspect_dump_tree,
		&cmd_struct_inspect_dump_super,
		NULL
	}
};

DEFINE_GROUP_COMMAND(inspect, "inspect-internal");
