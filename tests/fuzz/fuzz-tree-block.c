// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: a tree block from arbitrary bytes goes through the tree
 * checker, and when the checker accepts it, through the printer, exactly as
 * a block read from a damaged device would. The first input byte picks the
 * node size and the checksum type so that every size limit is exercised.
 * Built by tests/fuzz/build.sh; run by tests/fuzz/fuzz.bats.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/csum.h"
#include "kernel-shared/ctree.h"
#include "kernel-shared/extent-io.h"
#include "kernel-shared/print-tree.h"
#include "kernel-shared/tree-checker.h"

static const u32 node_sizes[] = { 4096, 16384, 65536 };
static const u16 csum_types[] = {
	BTRFS_CSUM_TYPE_CRC32, BTRFS_CSUM_TYPE_XXHASH,
	BTRFS_CSUM_TYPE_SHA256, BTRFS_CSUM_TYPE_BLAKE2,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *devnull;
	struct btrfs_fs_info fs_info;
	struct btrfs_print_opts opts;
	struct extent_buffer *eb;
	u32 nodesize;
	u8 pick;

	if (size < 1)
		return 0;
	if (!devnull) {
		devnull = fopen("/dev/null", "w");
		if (!devnull)
			abort();
	}
	pick = data[0];
	data++;
	size--;
	nodesize = node_sizes[pick % 3];
	memset(&fs_info, 0, sizeof(fs_info));
	fs_info.nodesize = nodesize;
	fs_info.sectorsize = 4096;
	fs_info.csum_type = csum_types[(pick / 3) % 4];
	fs_info.csum_size = (u16)btrfs_csum_type_size(fs_info.csum_type);

	eb = alloc_extent_buffer(0, nodesize);
	if (!eb)
		return 0;
	/* the block as read from disk: the bytes given, zeros after them */
	memcpy(eb->data, data, size < nodesize ? size : nodesize);
	eb->start = btrfs_header_bytenr(eb);

	if (btrfs_check_tree_block(&fs_info, eb, NULL) == 0) {
		opts.out = devnull;
		opts.flags = (pick & 0x80) ? BTRFS_PRINT_CSUM_ITEMS : 0;
		if (pick & 0x40)
			opts.flags |= BTRFS_PRINT_HIDE_NAMES;
		opts.fs_info = &fs_info;
		btrfs_print_tree(&opts, eb);
	}
	free_extent_buffer(eb);
	return 0;
}
