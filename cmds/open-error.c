// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/messages.h"
#include "cmds/device-kind.h"
#include "cmds/open-error.h"
#include "kernel-shared/io.h"

/*
 * Is @path a damaged btrfs that another superblock copy may open: the
 * primary copy still has the magic, or a mirror copy is valid?
 */
static bool mirrors_may_help(const char *path)
{
	struct btrfs_super_block *sb = malloc(sizeof(*sb));
	struct btrfs_io *io;
	bool yes = false;
	u64 bytenr;
	int m;

	if (!sb)
		return false;
	if (btrfs_io_open(path, BTRFS_IO_NO_FAULTS, &io)) {
		free(sb);
		return false;
	}
	if (btrfs_read_super_raw(io, BTRFS_SUPER_INFO_OFFSET, sb) == 0 &&
	    btrfs_check_super(sb, BTRFS_SUPER_INFO_OFFSET, true) == SUPER_OK)
		yes = true;
	for (m = 1; !yes && m < BTRFS_SUPER_MIRROR_MAX; m++)
		yes = btrfs_read_dev_super(io, m, sb, &bytenr, NULL) == 0;
	btrfs_io_close(io);
	btrfs_io_clear_error();
	free(sb);
	return yes;
}

void error_open_ctree(const char *device, const struct open_ctree_error *why,
		      const char *super_hint, const char *block_hint)
{
	const char *what = why->what ? why->what : "filesystem";
	const char *path = why->path[0] ? why->path : device;
	char kind[128];

	/* a wrong path: say what it is rather than what it lacks */
	if ((why->super_problem != SUPER_OK || why->err == -EISDIR ||
	     why->err == -ENODEV) && device_not_btrfs(path, kind, sizeof(kind))) {
		error("%s %s", path, kind);
		return;
	}
	if (why->super_problem != SUPER_OK)
		error("%s: no valid btrfs superblock: %s%s", path,
		      btrfs_super_problem_str(why->super_problem),
		      super_hint && mirrors_may_help(path) ? super_hint : "");
	else if (why->devid)
		error("%s: device %llu of the filesystem is missing", device,
		      (unsigned long long)why->devid);
	else if (why->bytenr && why->unmapped)
		error("%s: cannot read %s at block %llu: the address is not in any chunk%s",
		      path, what, (unsigned long long)why->bytenr,
		      block_hint ? block_hint : "");
	else if (why->bytenr)
		error("%s: cannot read %s at block %llu: %s%s", path, what,
		      (unsigned long long)why->bytenr, strerror(-why->err),
		      block_hint ? block_hint : "");
	else
		error("%s: cannot open %s: %s", path, what,
		      strerror(-why->err));
}

bool error_last_io(void)
{
	const struct btrfs_io_error *e = btrfs_io_last_error();

	if (!e)
		return false;
	if (e->len)
		error("%s of %llu %s at offset %llu of %s failed: %s", e->op,
		      (unsigned long long)e->len,
		      plural(e->len, "byte", "bytes"),
		      (unsigned long long)e->off,
		      e->path, strerror(-e->err));
	else
		error("%s of %s failed: %s", e->op, e->path,
		      strerror(-e->err));
	btrfs_io_clear_error();
	return true;
}
