// SPDX-License-Identifier: GPL-2.0
/*
 * On-disk layout test (TAP): every field of format.h against the kernel's
 * uapi header, the superblock and tree block header against the offsets the
 * on-disk format documentation gives, and the generated accessors' byte
 * order and bounds checks.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel-shared/ctree.h"
#include "layout.h"

static int test_nr;
static int failures;

static void ok(int cond, const char *fmt, const char *what)
{
	test_nr++;
	printf("%s %d - ", cond ? "ok" : "not ok", test_nr);
	printf(fmt, what);
	printf("\n");
	if (!cond)
		failures++;
}

#define LAYOUT_FIELD(s, f) \
	{ #s "." #f, offsetof(struct s, f), sizeof(((struct s *)0)->f) },
#define LAYOUT_STRUCT(s)
static const struct layout_entry our_fields[] = {
#include "layout-fields.h"
	{ NULL, 0, 0 }
};
#undef LAYOUT_FIELD
#undef LAYOUT_STRUCT
#define LAYOUT_FIELD(s, f)
#define LAYOUT_STRUCT(s) { #s, 0, sizeof(struct s) },
static const struct layout_entry our_structs[] = {
#include "layout-fields.h"
	{ NULL, 0, 0 }
};

static void compare_tables(const struct layout_entry *ours,
			   const struct layout_entry *theirs)
{
	int i;

	for (i = 0; ours[i].name; i++) {
		int same = theirs[i].name && !strcmp(ours[i].name, theirs[i].name) &&
			   ours[i].offset == theirs[i].offset &&
			   ours[i].size == theirs[i].size;

		if (!same)
			fprintf(stderr, "# %s: ours offset %zu size %zu, uapi offset %zu size %zu\n",
				ours[i].name, ours[i].offset, ours[i].size,
				theirs[i].offset, theirs[i].size);
		ok(same, "%s matches the kernel uapi layout", ours[i].name);
	}
}

/* Offsets from the on-disk format documentation (not in the uapi header). */
static const struct layout_entry documented[] = {
#define SB(f, off, sz) { "btrfs_super_block." #f, offsetof(struct btrfs_super_block, f), 0 }, { #f, off, sz }
	SB(csum, 0x0, 32), SB(fsid, 0x20, 16), SB(bytenr, 0x30, 8),
	SB(flags, 0x38, 8), SB(magic, 0x40, 8), SB(generation, 0x48, 8),
	SB(root, 0x50, 8), SB(chunk_root, 0x58, 8), SB(log_root, 0x60, 8),
	SB(log_root_transid, 0x68, 8), SB(total_bytes, 0x70, 8),
	SB(bytes_used, 0x78, 8), SB(root_dir_objectid, 0x80, 8),
	SB(num_devices, 0x88, 8), SB(sectorsize, 0x90, 4),
	SB(nodesize, 0x94, 4), SB(leafsize, 0x98, 4), SB(stripesize, 0x9c, 4),
	SB(sys_chunk_array_size, 0xa0, 4), SB(chunk_root_generation, 0xa4, 8),
	SB(compat_flags, 0xac, 8), SB(compat_ro_flags, 0xb4, 8),
	SB(incompat_flags, 0xbc, 8), SB(csum_type, 0xc4, 2),
	SB(root_level, 0xc6, 1), SB(chunk_root_level, 0xc7, 1),
	SB(log_root_level, 0xc8, 1), SB(dev_item, 0xc9, 98),
	SB(label, 0x12b, 256), SB(cache_generation, 0x22b, 8),
	SB(uuid_tree_generation, 0x233, 8), SB(metadata_uuid, 0x23b, 16),
	SB(nr_global_roots, 0x24b, 8),
	SB(sys_chunk_array, 0x32b, 2048), SB(super_roots, 0xb2b, 672),
#undef SB
#define HD(f, off, sz) { "btrfs_header." #f, offsetof(struct btrfs_header, f), 0 }, { #f, off, sz }
	HD(csum, 0x0, 32), HD(fsid, 0x20, 16), HD(bytenr, 0x30, 8),
	HD(flags, 0x38, 8), HD(chunk_tree_uuid, 0x40, 16),
	HD(generation, 0x50, 8), HD(owner, 0x58, 8), HD(nritems, 0x60, 4),
	HD(level, 0x64, 1),
#undef HD
	{ NULL, 0, 0 }
};

static void check_documented(void)
{
	int i;

	for (i = 0; documented[i].name; i += 2)
		ok(documented[i].offset == documented[i + 1].offset,
		   "%s at its documented offset", documented[i].name);
	ok(sizeof(struct btrfs_super_block) == 4096, "%s is 4096 bytes",
	   "btrfs_super_block");
	ok(sizeof(struct btrfs_header) == 101, "%s is 101 bytes", "btrfs_header");
	ok(sizeof(struct btrfs_item) == 25, "%s is 25 bytes", "btrfs_item");
	ok(sizeof(struct btrfs_key_ptr) == 33, "%s is 33 bytes", "btrfs_key_ptr");
	ok(sizeof(struct btrfs_root_backup) == 168, "%s is 168 bytes",
	   "btrfs_root_backup");
	ok(BTRFS_LEGACY_ROOT_ITEM_SIZE == 239, "%s is 239 bytes",
	   "legacy root item");
}

/* Accessors store little-endian and refuse to touch bytes outside eb. */
static void check_accessors(void)
{
	struct extent_buffer *eb = alloc_extent_buffer(0, 4096);
	struct btrfs_inode_item *ii;
	static const u8 le[8] = { 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11 };

	if (!eb) {
		ok(0, "%s", "allocate an extent buffer");
		return;
	}
	ii = (struct btrfs_inode_item *)(eb->data + 200);
	btrfs_set_inode_size(eb, ii, 0x1122334455667788ULL);
	ok(!memcmp(&ii->size, le, 8), "%s stores little-endian", "inode_size");
	ok(btrfs_inode_size(eb, ii) == 0x1122334455667788ULL,
	   "%s reads back", "inode_size");
	ii = (struct btrfs_inode_item *)(eb->data + 4096 - 20);
	ok(btrfs_inode_size(eb, ii) == 0,
	   "%s straddling the buffer end reads as 0", "inode_size");
	ok(btrfs_inode_mode(eb, ii) == 0,
	   "%s outside the buffer reads as 0", "inode_mode");
	btrfs_set_inode_mode(eb, ii, 0755);
	ok(btrfs_inode_mode(eb, ii) == 0,
	   "%s outside the buffer is not written", "inode_mode");
	btrfs_set_header_nritems(eb, 7);
	ok(eb->data[0x60] == 7 && btrfs_header_nritems(eb) == 7,
	   "%s at 0x60", "header nritems");
	free_extent_buffer(eb);
}

int main(void)
{
	compare_tables(our_fields, uapi_fields);
	compare_tables(our_structs, uapi_structs);
	check_documented();
	check_accessors();
	printf("1..%d\n", test_nr);
	return failures ? 1 : 0;
}
