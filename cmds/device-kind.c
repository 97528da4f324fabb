// SPDX-License-Identifier: GPL-2.0
/*
 * Telling a user who gave the wrong path what it is: a directory, an empty
 * file, or another filesystem or a partition table (libblkid's probe).
 */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <blkid.h>

#include "cmds/device-kind.h"

/* "an ext4", "a vfat": the article of a type name as it is read aloud. */
static const char *article(const char *name)
{
	return strchr("aefhilmnorsx", name[0]) ? "an" : "a";
}

/* The filesystem or partition table libblkid finds on @path, if any. */
static bool probe_type(const char *path, char *buf, size_t len)
{
	blkid_probe pr = blkid_new_probe_from_filename(path);
	const char *type = NULL;
	bool found = false;

	if (!pr)
		return false;
	blkid_probe_enable_superblocks(pr, 1);
	blkid_probe_set_superblocks_flags(pr, BLKID_SUBLKS_TYPE);
	blkid_probe_enable_partitions(pr, 1);
	if (blkid_do_safeprobe(pr) == 0) {
		if (blkid_probe_lookup_value(pr, "TYPE", &type, NULL) == 0 &&
		    type && strcmp(type, "btrfs")) {
			snprintf(buf, len, "holds %s %s filesystem, not btrfs",
				 article(type), type);
			found = true;
		} else if (!type &&
			   blkid_probe_lookup_value(pr, "PTTYPE", &type,
						    NULL) == 0 && type) {
			snprintf(buf, len,
				 "holds %s %s partition table, not a btrfs filesystem",
				 article(type), type);
			found = true;
		}
	}
	blkid_free_probe(pr);
	return found;
}

bool device_not_btrfs(const char *path, char *buf, size_t len)
{
	struct stat st;

	if (stat(path, &st))
		return false;
	if (S_ISDIR(st.st_mode)) {
		snprintf(buf, len, "is a directory, not a device or an image file");
		return true;
	}
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) {
		snprintf(buf, len, "is neither a block device nor an image file");
		return true;
	}
	if (S_ISREG(st.st_mode) && st.st_size == 0) {
		snprintf(buf, len, "is an empty file");
		return true;
	}
	return probe_type(path, buf, len);
}
