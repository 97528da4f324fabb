// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: a superblock from arbitrary bytes is validated as
 * open_ctree does (once as found, once with its checksum made right so the
 * later checks are reached), and when it passes, its sys_chunk_array is
 * parsed into the chunk map. Built by tests/fuzz/build.sh.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/csum.h"
#include "kernel-shared/ctree.h"
#include "kernel-shared/disk-io.h"
#include "kernel-shared/volumes.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void parse_sys_array(const struct btrfs_super_block *sb)
{
	struct btrfs_fs_info *fs_info = calloc(1, sizeof(*fs_info));
	struct btrfs_fs_devices *fs_devices = calloc(1, sizeof(*fs_devices));

	if (!fs_info || !fs_devices)
		abort();
	memcpy(&fs_info->super_copy, sb, sizeof(*sb));
	fs_info->fs_devices = fs_devices;
	fs_info->mapping_tree = btrfs_mapping_tree_alloc();
	if (!fs_info->mapping_tree)
		abort();
	fs_info->nodesize = btrfs_super_nodesize(sb);
	fs_info->sectorsize = btrfs_super_sectorsize(sb);
	fs_info->stripesize = btrfs_super_stripesize(sb);
	if (btrfs_read_sys_array(fs_info) == 0)
		(void)btrfs_num_copies(fs_info, btrfs_super_chunk_root(sb));
	btrfs_mapping_tree_free(fs_info->mapping_tree);
	btrfs_close_devices(fs_devices);
	free(fs_info);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct btrfs_super_block sb;
	unsigned type;

	memset(&sb, 0, sizeof(sb));
	memcpy(&sb, data, size < sizeof(sb) ? size : sizeof(sb));
	if (btrfs_check_super(&sb, BTRFS_SUPER_INFO_OFFSET, false) == SUPER_OK)
		parse_sys_array(&sb);

	/* the same bytes with a valid checksum reach every later check */
	type = btrfs_super_csum_type(&sb);
	if (!btrfs_csum_type_valid(type))
		return 0;
	if (btrfs_csum_data(type, (const u8 *)&sb + BTRFS_CSUM_SIZE,
			    sizeof(sb) - BTRFS_CSUM_SIZE, sb.csum) < 0)
		return 0;
	if (btrfs_check_super(&sb, BTRFS_SUPER_INFO_OFFSET, false) == SUPER_OK)
		parse_sys_array(&sb);
	return 0;
}
