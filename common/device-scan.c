// SPDX-License-Identifier: GPL-2.0
/*
 * Multi-device discovery through libblkid.  The blkid cache is opened on
 * /dev/null so that no stale system cache is trusted and nothing is saved:
 * every block device listed by the kernel is probed afresh.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <blkid.h>

#include "common/device-scan.h"

void device_scan_uuid_unparse(const uint8_t *uuid, char *out)
{
	static const char hex[] = "0123456789abcdef";
	int i;

	for (i = 0; i < DEVICE_SCAN_FSID_SIZE; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			*out++ = '-';
		*out++ = hex[uuid[i] >> 4];
		*out++ = hex[uuid[i] & 0xf];
	}
	*out = '\0';
}

/* Visit the btrfs devices of @cache whose UUID tag is @want. */
static int visit_matching(blkid_cache cache, const char *want,
			  int (*fn)(const char *path, void *ctx), void *ctx)
{
	blkid_dev_iterate iter;
	blkid_dev dev;
	int ret = 0;

	iter = blkid_dev_iterate_begin(cache);
	if (!iter)
		return -ENOMEM;
	blkid_dev_set_search(iter, "TYPE", "btrfs");
	while (ret == 0 && blkid_dev_next(iter, &dev) == 0) {
		const char *name = blkid_dev_devname(dev);
		char *uuid;

		if (!name)
			continue;
		uuid = blkid_get_tag_value(cache, "UUID", name);
		if (uuid && strcmp(uuid, want) == 0)
			ret = fn(name, ctx);
		free(uuid);
	}
	blkid_dev_iterate_end(iter);
	return ret;
}

int device_scan_for_fsid(const uint8_t *fsid,
			 int (*fn)(const char *path, void *ctx), void *ctx)
{
	char want[40];
	blkid_cache cache = NULL;
	int ret;

	device_scan_uuid_unparse(fsid, want);
	if (blkid_get_cache(&cache, "/dev/null") < 0 || !cache)
		return -ENOMEM;
	if (blkid_probe_all(cache) < 0) {
		blkid_put_cache(cache);
		return -EIO;
	}
	ret = visit_matching(cache, want, fn, ctx);
	blkid_put_cache(cache);
	return ret;
}
