// SPDX-License-Identifier: GPL-2.0
/*
 * The "btrfs rescue" group.  Today one command: undo, which puts back what
 * a command run with --undo FILE overwrote (kernel-shared/undo.h).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmds/commands.h"
#include "common/messages.h"
#include "common/utils.h"
#include "kernel-shared/undo.h"

static const char * const cmd_rescue_undo_usage[] = {
	"btrfs rescue undo [options] <undo-file> <device> [<device>...]",
	"Put back what a command run with --undo overwrote",
	"",
	"Writes the old contents saved in <undo-file> (by mkfs.btrfs --undo)",
	"back to the devices, which must be exactly the devices the command",
	"wrote to, in any order.  The undo file and the devices are checked",
	"first; if anything does not match, nothing is written.  An undo file",
	"left by an interrupted command is used up to its last complete record.",
	"Running it again is harmless: it writes the same old contents.",
	"",
	OPTLINE("-n|--dry-run", "check everything and list the writes, write nothing"),
	OPTLINE("-v|--verbose", "list every write"),
	"",
	"Exit status: 0 when the devices were restored (or would be), 1 otherwise.",
	NULL
};

static const struct option undo_long_options[] = {
	{ "dry-run", no_argument, NULL, 'n' },
	{ "verbose", no_argument, NULL, 'v' },
	{ NULL, 0, NULL, 0 }
};

struct undo_listing {
	bool list;
	bool dry_run;
	uint64_t bytes;
	uint64_t ranges;
};

static void list_write(void *ctx, const struct btrfs_undo_record *rec,
		       const char *path)
{
	struct undo_listing *l = ctx;

	l->bytes += rec->len;
	l->ranges++;
	if (l->list)
		printf("%s %u %s at offset %llu of %s\n",
		       l->dry_run ? "would write" : "write", rec->len,
		       plural(rec->len, "byte", "bytes"),
		       (unsigned long long)rec->off, path);
}

static void print_file_info(const char *path,
			    const struct btrfs_undo_info *info)
{
	char when[64] = "an unknown time";
	time_t t = (time_t)info->ctime;
	struct tm tm;

	if (localtime_r(&t, &tm))
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S %Z", &tm);
	printf("Undo file %s: written by %s at %s, %d device%s, %s\n", path,
	       info->tool[0] ? info->tool : "an unknown command", when,
	       info->nr_devices, info->nr_devices == 1 ? "" : "s",
	       info->complete ? "complete" : "interrupted");
	if (info->torn)
		warning("%s ends with an incomplete record at offset %llu (the command was interrupted): using the %zu %s before it",
			path, (unsigned long long)info->torn_at,
			info->nr_records,
			plural(info->nr_records, "record", "records"));
}

/* Open every device, writable unless @dry_run.  0 or 1 (printed). */
static int open_devices(char **paths, int nr, bool dry_run,
			struct btrfs_io **ios)
{
	for (int i = 0; i < nr; i++) {
		unsigned int flags = dry_run ? 0 : BTRFS_IO_WRITE | BTRFS_IO_EXCL;
		int ret = btrfs_io_open(paths[i], flags, &ios[i]);

		if (ret == -EBUSY)
			error("%s is in use (mounted?): refusing to write to it",
			      paths[i]);
		else if (ret)
			error("cannot open %s: %s", paths[i], strerror(-ret));
		if (ret)
			return 1;
		for (int j = 0; j < i; j++) {
			char *a = realpath(paths[j], NULL);
			char *b = realpath(paths[i], NULL);
			bool same = a && b && !strcmp(a, b);

			free(a);
			free(b);
			if (same) {
				error("%s is given twice", paths[i]);
				return 1;
			}
		}
	}
	return 0;
}

static int run_undo(const char *file, char **paths, int nr, bool dry_run,
		    bool verbose)
{
	struct undo_listing listing = { verbose || dry_run, dry_run, 0, 0 };
	struct btrfs_undo_info *info = NULL;
	struct btrfs_io **ios;
	int map[BTRFS_UNDO_MAX_DEVICES];
	char why[512];
	int ret = 1;

	ios = calloc(nr, sizeof(*ios));
	if (!ios) {
		error("not enough memory");
		return 1;
	}
	if (btrfs_undo_load(file, &info, why, sizeof(why))) {
		error("%s", why);
		goto out;
	}
	print_file_info(file, info);
	if (open_devices(paths, nr, dry_run, ios))
		goto out;
	if (btrfs_undo_match(info, ios, nr, map, why, sizeof(why))) {
		error("%s; nothing written", why);
		goto out;
	}
	if (btrfs_undo_apply(info, ios, map, dry_run, list_write, &listing,
			     why, sizeof(why))) {
		error("%s", why);
		if (!dry_run)
			error("the devices are partly restored: run the same command again once the cause is fixed");
		goto out;
	}
	printf("%s %llu %s in %llu %s on %d %s\n",
	       dry_run ? "Would restore" : "Restored",
	       (unsigned long long)listing.bytes,
	       plural(listing.bytes, "byte", "bytes"),
	       (unsigned long long)listing.ranges,
	       plural(listing.ranges, "range", "ranges"), nr,
	       plural((unsigned long long)nr, "device", "devices"));
	ret = 0;
out:
	for (int i = 0; i < nr; i++) {
		if (ios[i] && btrfs_io_close(ios[i]) && !ret) {
			error("closing %s failed", paths[i]);
			ret = 1;
		}
	}
	free(ios);
	btrfs_undo_info_free(info);
	return ret;
}

static int cmd_rescue_undo(const struct cmd_struct *cmd, int argc,
			   char **argv)
{
	bool dry_run = false, verbose = false;
	int c, nargs;

	optind = 1;
	while ((c = getopt_long(argc, argv, "nv", undo_long_options,
				NULL)) != -1) {
		switch (c) {
		case 'n':
			dry_run = true;
			break;
		case 'v':
			verbose = true;
			break;
		default:
			usage_unknown_option(cmd, argv);
		}
	}
	nargs = argc - optind;
	if (check_argc_min(nargs, 2))
		return 1;
	if (nargs - 1 > BTRFS_UNDO_MAX_DEVICES) {
		error("too many devices: an undo file records at most %d",
		      BTRFS_UNDO_MAX_DEVICES);
		return 1;
	}
	return run_undo(argv[optind], argv + optind + 1, nargs - 1, dry_run,
			verbose);
}

static DEFINE_SIMPLE_COMMAND(rescue_undo, "undo");

static const char * const rescue_cmd_group_usage[] = {
	"btrfs rescue <command> [options] <path>",
	NULL
};

const struct cmd_group rescue_cmd_group = {
	.usagestr = rescue_cmd_group_usage,
	.infostr = "toolbox for specific rescue operations",
	.commands = {
		&cmd_struct_rescue_undo,
		NULL
	}
};

DEFINE_GROUP_COMMAND(rescue, "rescue");
