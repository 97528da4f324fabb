// SPDX-License-Identifier: GPL-2.0
#include <string.h>

#include "common/messages.h"
#include "cmds/open-error.h"

void error_open_ctree(const char *device, const struct open_ctree_error *why,
		      const char *super_hint, const char *block_hint)
{
	const char *what = why->what ? why->what : "filesystem";
	const char *path = why->path[0] ? why->path : device;

	if (why->super_problem != SUPER_OK)
		error("%s: no valid btrfs superblock: %s%s", path,
		      btrfs_super_problem_str(why->super_problem),
		      super_hint ? super_hint : "");
	else if (why->devid)
		error("%s: device %llu of the filesystem is missing", device,
		      (unsigned long long)why->devid);
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
		error("%s of %llu bytes at offset %llu of %s failed: %s", e->op,
		      (unsigned long long)e->len, (unsigned long long)e->off,
		      e->path, strerror(-e->err));
	else
		error("%s of %s failed: %s", e->op, e->path,
		      strerror(-e->err));
	btrfs_io_clear_error();
	return true;
}
