// SPDX-License-Identifier: GPL-2.0
/*
 * btrfs-corrupt: make targeted damage in a btrfs image, for tests only.
 *
 * It finds its target through the read engine (open_ctree, tree search,
 * btrfs_map_block) and then WRITES to the image files with pwrite: every
 * mirror of a tree block, with the block checksum recomputed unless asked
 * not to.  Never point it at a filesystem you care about.
 *
 *   btrfs-corrupt IMG... --super-field NAME VALUE
 *   btrfs-corrupt IMG... --block BYTENR --offset OFF --hex HEX [--no-csum]
 *   btrfs-corrupt IMG... --item ROOT OBJECTID TYPE OFFSET --field NAME
 *                        --value V
 *   btrfs-corrupt IMG... --del-item ROOT OBJECTID TYPE OFFSET
 *   btrfs-corrupt IMG... --sys-chunk START --field NAME --value V
 *   btrfs-corrupt IMG... --data LOGICAL --hex HEX [--mirror N]
 *   btrfs-corrupt IMG... --cache-page BG PAGE --offset OFF --hex HEX
 *                        [--xor] [--no-csum]
 *
 * --cache-page writes (or with --xor, xors) HEX into 4KiB page PAGE of the
 * v1 space cache of the block group at BG and recomputes that page's
 * crc32c in the crc array at the start of page 0 unless --no-csum.  The
 * space cache header (key FREE_SPACE 0 BG, type 0) has the --item fields
 * generation, num_entries and num_bitmaps.
 *
 * Exit 0 when the damage was written, 1 when the target was not found or
 * anything failed (one "ERROR: ..." line), 2 on a usage error.
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "common/csum.h"
#include "common/messages.h"
#include "common/utils.h"
#include "kernel-shared/ctree.h"
#include "kernel-shared/disk-io.h"
#include "kernel-shared/extent-io.h"
#include "kernel-shared/file-item.h"
#include "kernel-shared/inode.h"
#include "kernel-shared/print-tree.h"
#include "kernel-shared/volumes.h"

#define MAX_IMAGES 16

/* Read-write file descriptors of the devices, opened on first write. */
struct rw_dev {
	u64 devid;
	int fd;
};

struct corrupt {
	char *images[MAX_IMAGES];
	int nr_images;
	struct btrfs_fs_info *fs_info;
	struct rw_dev devs[MAX_IMAGES];
	int nr_devs;
};

static void usage_exit(void)
{
	fprintf(stderr,
		"usage: btrfs-corrupt IMG... --super-field NAME VALUE\n"
		"       btrfs-corrupt IMG... --block BYTENR --offset OFF --hex HEX [--no-csum]\n"
		"       btrfs-corrupt IMG... --item ROOT OBJECTID TYPE OFFSET --field NAME --value V\n"
		"       btrfs-corrupt IMG... --del-item ROOT OBJECTID TYPE OFFSET\n"
		"       btrfs-corrupt IMG... --sys-chunk START --field NAME --value V\n"
		"       btrfs-corrupt IMG... --data LOGICAL --hex HEX [--mirror N]\n"
		"       btrfs-corrupt IMG... --cache-page BG PAGE --offset OFF --hex HEX [--xor] [--no-csum]\n");
	exit(2);
}

static u64 arg_u64(const char *what, const char *s)
{
	u64 v;

	if (strcmp(s, "-1") == 0)
		return (u64)-1;
	if (parse_u64(s, &v)) {
		error("bad %s: %s", what, s);
		exit(2);
	}
	return v;
}

/* Decode a hex string ("dead00", optional 0x) into a malloc'd buffer. */
static u8 *parse_hex(const char *s, size_t *len)
{
	size_t n, i;
	u8 *buf;

	if (strncmp(s, "0x", 2) == 0)
		s += 2;
	n = strlen(s);
	if (n == 0 || n % 2 || n > 2 * 65536) {
		error("bad hex string (need an even number of digits)");
		exit(2);
	}
	buf = malloc(n / 2);
	if (!buf)
		exit(1);
	for (i = 0; i < n / 2; i++) {
		unsigned int b;

		if (sscanf(s + 2 * i, "%2x", &b) != 1 ||
		    !strchr("0123456789abcdefABCDEF", s[2 * i]) ||
		    !strchr("0123456789abcdefABCDEF", s[2 * i + 1])) {
			error("bad hex digit in %s", s);
			exit(2);
		}
		buf[i] = (u8)b;
	}
	*len = n / 2;
	return buf;
}

/* ------------------------------------------------------------------ */
/* Device access. */

static int open_fs(struct corrupt *c)
{
	struct open_ctree_args args = {
		.devices = (const char * const *)c->images,
		.nr_devices = c->nr_images,
		.super_mirror = 0,
		.flags = OPEN_CTREE_PARTIAL | OPEN_CTREE_NO_SCAN,
	};
	struct open_ctree_error why = { 0 };

	if (open_ctree(&args, &c->fs_info, &why)) {
		error("cannot open %s: %s%s%s", c->images[0], strerror(-why.err),
		      why.what ? " at " : "", why.what ? why.what : "");
		return -1;
	}
	return 0;
}

static int rw_fd(struct corrupt *c, struct btrfs_device *dev)
{
	int i, fd;

	for (i = 0; i < c->nr_devs; i++)
		if (c->devs[i].devid == dev->devid)
			return c->devs[i].fd;
	if (!dev->name || c->nr_devs == MAX_IMAGES) {
		error("device %llu is missing", (unsigned long long)dev->devid);
		return -1;
	}
	fd = open(dev->name, O_RDWR);
	if (fd < 0) {
		error("cannot open %s for writing: %m", dev->name);
		return -1;
	}
	c->devs[c->nr_devs].devid = dev->devid;
	c->devs[c->nr_devs++].fd = fd;
	return fd;
}

/*
 * Read (@write false) or write @len bytes at @logical of copy @mirror,
 * following the chunk map across stripe boundaries.
 */
static int logical_io(struct corrupt *c, u64 logical, int mirror, void *buf,
		      size_t len, bool write)
{
	u8 *p = buf;

	while (len) {
		struct btrfs_device *dev;
		u64 phys, avail;
		size_t n;
		ssize_t ret;
		int fd;

		if (btrfs_map_block(c->fs_info, logical, mirror, &dev, &phys,
				    &avail)) {
			error("logical %llu mirror %d is not mapped",
			      (unsigned long long)logical, mirror);
			return -1;
		}
		n = min_t(u64, avail, len);
		if (write) {
			fd = rw_fd(c, dev);
			if (fd < 0)
				return -1;
			ret = pwrite(fd, p, n, (off_t)phys);
		} else {
			if (!dev->io) {
				error("device %llu is missing",
				      (unsigned long long)dev->devid);
				return -1;
			}
			ret = btrfs_io_pread(dev->io, p, n, phys) ? -1 :
							 (ssize_t)n;
		}
		if (ret != (ssize_t)n) {
			error("%s failed at physical %llu of device %llu",
			      write ? "write" : "read",
			      (unsigned long long)phys,
			      (unsigned long long)dev->devid);
			return -1;
		}
		p += n;
		len -= n;
		logical += n;
	}
	return 0;
}

static void block_csum(struct btrfs_fs_info *fs_info, u8 *block)
{
	u8 out[BTRFS_CSUM_SIZE] = { 0 };

	btrfs_csum_data(fs_info->csum_type, block + BTRFS_CSUM_SIZE,
			fs_info->nodesize - BTRFS_CSUM_SIZE, out);
	memset(block, 0, BTRFS_CSUM_SIZE);
	memcpy(block, out, fs_info->csum_size);
}

/* Write a whole tree block (csum fixed unless !fix) to every mirror. */
static int write_block_all(struct corrupt *c, u64 bytenr, u8 *block, bool fix)
{
	int copies = btrfs_num_copies(c->fs_info, bytenr);
	int m;

	if (copies < 1) {
		error("block %llu is not mapped", (unsigned long long)bytenr);
		return -1;
	}
	if (fix)
		block_csum(c->fs_info, block);
	for (m = 1; m <= copies; m++)
		if (logical_io(c, bytenr, m, block, c->fs_info->nodesize, true))
			return -1;
	return 0;
}

/* ------------------------------------------------------------------ */
/* --super-field */

struct field {
	const char *name;
	size_t offset;
	int bits;
};

#define SB(name, member, bits) \
	{ name, offsetof(struct btrfs_super_block, member), bits }
#define SB_DEV(name, member, bits)                                          \
	{ "dev_item." name, offsetof(struct btrfs_super_block, dev_item) +   \
		offsetof(struct btrfs_dev_item, member), bits }

static const struct field super_fields[] = {
	SB("bytenr", bytenr, 64), SB("flags", flags, 64),
	SB("magic", magic, 64), SB("generation", generation, 64),
	SB("root", root, 64), SB("chunk_root", chunk_root, 64),
	SB("log_root", log_root, 64),
	SB("log_root_transid", log_root_transid, 64),
	SB("total_bytes", total_bytes, 64), SB("bytes_used", bytes_used, 64),
	SB("root_dir", root_dir_objectid, 64),
	SB("num_devices", num_devices, 64), SB("sectorsize", sectorsize, 32),
	SB("nodesize", nodesize, 32), SB("leafsize", leafsize, 32),
	SB("stripesize", stripesize, 32),
	SB("sys_array_size", sys_chunk_array_size, 32),
	SB("chunk_root_generation", chunk_root_generation, 64),
	SB("compat_flags", compat_flags, 64),
	SB("compat_ro_flags", compat_ro_flags, 64),
	SB("incompat_flags", incompat_flags, 64),
	SB("csum_type", csum_type, 16), SB("root_level", root_level, 8),
	SB("chunk_root_level", chunk_root_level, 8),
	SB("log_root_level", log_root_level, 8),
	SB("cache_generation", cache_generation, 64),
	SB("uuid_tree_generation", uuid_tree_generation, 64),
	SB_DEV("devid", devid, 64), SB_DEV("total_bytes", total_bytes, 64),
	SB_DEV("bytes_used", bytes_used, 64),
	SB_DEV("sector_size", sector_size, 32),
};

static void put_field(u8 *base, const struct field *f, u64 v)
{
	switch (f->bits) {
	case 8: put_unaligned_le8((u8)v, base + f->offset); break;
	case 16: put_unaligned_le16((u16)v, base + f->offset); break;
	case 32: put_unaligned_le32((u32)v, base + f->offset); break;
	default: put_unaligned_le64(v, base + f->offset); break;
	}
}

/* "backupN.FIELD": a field of backup root N (0..3). */
static int backup_field(const char *name, struct field *f)
{
	static const struct {
		const char *name;
		size_t off;
		int bits;
	} bf[] = {
#define BK(n, m, b) { n, offsetof(struct btrfs_root_backup, m), b }
		BK("tree_root", tree_root, 64),
		BK("tree_root_gen", tree_root_gen, 64),
		BK("chunk_root", chunk_root, 64),
		BK("extent_root", extent_root, 64),
		BK("fs_root", fs_root, 64), BK("dev_root", dev_root, 64),
		BK("csum_root", csum_root, 64),
		BK("total_bytes", total_bytes, 64),
		BK("bytes_used", bytes_used, 64),
		BK("num_devices", num_devices, 64),
		BK("tree_root_level", tree_root_level, 8),
#undef BK
	};
	size_t i;

	if (strncmp(name, "backup", 6) || name[6] < '0' || name[6] > '3' ||
	    name[7] != '.')
		return -1;
	for (i = 0; i < ARRAY_SIZE(bf); i++) {
		if (strcmp(name + 8, bf[i].name))
			continue;
		f->name = name;
		f->offset = offsetof(struct btrfs_super_block, super_roots) +
			    sizeof(struct btrfs_root_backup) *
				    (size_t)(name[6] - '0') + bf[i].off;
		f->bits = bf[i].bits;
		return 0;
	}
	return -1;
}

static int do_super_field(struct corrupt *c, const char *name, u64 value)
{
	struct btrfs_super_block sb;
	struct field f = { 0 };
	u8 out[BTRFS_CSUM_SIZE] = { 0 };
	unsigned int type;
	size_t i;
	int n;

	for (i = 0; i < ARRAY_SIZE(super_fields); i++)
		if (strcmp(super_fields[i].name, name) == 0)
			f = super_fields[i];
	if (!f.name && backup_field(name, &f)) {
		error("unknown superblock field %s", name);
		return 1;
	}
	for (n = 0; n < c->nr_images; n++) {
		int fd = open(c->images[n], O_RDWR);

		if (fd < 0) {
			error("cannot open %s: %m", c->images[n]);
			return 1;
		}
		if (pread(fd, &sb, sizeof(sb), BTRFS_SUPER_INFO_OFFSET) !=
		    (ssize_t)sizeof(sb)) {
			error("%s: cannot read the superblock", c->images[n]);
			close(fd);
			return 1;
		}
		put_field((u8 *)&sb, &f, value);
		type = btrfs_super_csum_type(&sb);
		if (btrfs_csum_type_valid(type)) {
			btrfs_csum_data(type, (u8 *)&sb + BTRFS_CSUM_SIZE,
					sizeof(sb) - BTRFS_CSUM_SIZE, out);
			memset(sb.csum, 0, BTRFS_CSUM_SIZE);
			memcpy(sb.csum, out, btrfs_csum_type_size(type));
		}
		if (pwrite(fd, &sb, sizeof(sb), BTRFS_SUPER_INFO_OFFSET) !=
		    (ssize_t)sizeof(sb)) {
			error("%s: cannot write the superblock", c->images[n]);
			close(fd);
			return 1;
		}
		close(fd);
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* --block */

static int do_block(struct corrupt *c, u64 bytenr, u64 offset,
		    const u8 *hex, size_t hex_len, bool fix)
{
	u32 nodesize = c->fs_info->nodesize;
	int copies = btrfs_num_copies(c->fs_info, bytenr);
	u8 *block;
	int m, ret = 0;

	if (copies < 1) {
		error("block %llu is not mapped", (unsigned long long)bytenr);
		return 1;
	}
	if (offset > nodesize || hex_len > nodesize - offset) {
		error("offset %llu + %zu bytes is past the block end (%u)",
		      (unsigned long long)offset, hex_len, nodesize);
		return 1;
	}
	block = malloc(nodesize);
	if (!block)
		return 1;
	for (m = 1; m <= copies && !ret; m++) {
		if (logical_io(c, bytenr, m, block, nodesize, false)) {
			ret = 1;
			break;
		}
		memcpy(block + offset, hex, hex_len);
		if (fix)
			block_csum(c->fs_info, block);
		if (logical_io(c, bytenr, m, block, nodesize, true))
			ret = 1;
	}
	free(block);
	return ret;
}

/* ------------------------------------------------------------------ */
/* --data */

static int do_data(struct corrupt *c, u64 logical, const u8 *hex,
		   size_t hex_len, int mirror)
{
	int copies = btrfs_num_copies(c->fs_info, logical);
	int m;

	if (copies < 1) {
		error("logical %llu is not mapped", (unsigned long long)logical);
		return 1;
	}
	if (mirror > copies) {
		error("logical %llu has %d copies, no mirror %d",
		      (unsigned long long)logical, copies, mirror);
		return 1;
	}
	for (m = 1; m <= copies; m++) {
		if (mirror && m != mirror)
			continue;
		if (logical_io(c, logical, m, (void *)hex, hex_len, true))
			return 1;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* --cache-page */

#define CACHE_PAGE 4096

struct cache_find {
	u64 file_off;
	u64 logical;		/* 0: not found */
};

static int find_cache_extent(const struct btrfs_file_extent *fe, void *data)
{
	struct cache_find *cf = data;

	if (fe->type == BTRFS_FILE_EXTENT_INLINE || fe->disk_bytenr == 0 ||
	    cf->file_off < fe->file_offset ||
	    cf->file_off - fe->file_offset >= fe->num_bytes)
		return 0;
	cf->logical = fe->disk_bytenr + fe->offset + cf->file_off -
		      fe->file_offset;
	return 1;
}

/* Logical address of byte @off of the cache file of block group @bg. */
static int cache_logical(struct corrupt *c, u64 bg, u64 off, u64 *logical,
			 u64 *size)
{
	struct btrfs_key key = { BTRFS_FREE_SPACE_OBJECTID, 0, bg };
	struct btrfs_path *path = btrfs_alloc_path();
	struct btrfs_free_space_header *h;
	struct btrfs_inode_item ii;
	struct cache_find cf = { .file_off = off };
	struct btrfs_key loc;
	int ret;

	if (!path)
		return -1;
	ret = btrfs_search_slot(NULL, c->fs_info->tree_root, &key, path, 0, 0);
	if (ret) {
		error("no space cache header for block group %llu",
		      (unsigned long long)bg);
		btrfs_free_path(path);
		return -1;
	}
	h = btrfs_item_ptr(path->nodes[0], path->slots[0],
			   struct btrfs_free_space_header);
	btrfs_disk_key_to_cpu(&loc, &h->location);
	btrfs_free_path(path);
	if (btrfs_read_inode_item(c->fs_info->tree_root, loc.objectid, &ii,
				  NULL, NULL)) {
		error("space cache inode %llu not found",
		      (unsigned long long)loc.objectid);
		return -1;
	}
	*size = btrfs_stack_inode_size(&ii);
	btrfs_iterate_file_extents(c->fs_info->tree_root, loc.objectid, 0,
				   find_cache_extent, &cf, NULL, NULL);
	if (!cf.logical) {
		error("space cache of block group %llu has no data at %llu",
		      (unsigned long long)bg, (unsigned long long)off);
		return -1;
	}
	*logical = cf.logical;
	return 0;
}

/* Write @len bytes at @logical to every copy. */
static int write_all_copies(struct corrupt *c, u64 logical, const u8 *buf,
			    size_t len)
{
	int copies = btrfs_num_copies(c->fs_info, logical);
	int m;

	for (m = 1; m <= copies; m++)
		if (logical_io(c, logical, m, (void *)buf, len, true))
			return -1;
	return copies < 1 ? -1 : 0;
}

static int do_cache_page(struct corrupt *c, u64 bg, u64 page, u64 off,
			 const u8 *hex, size_t hex_len, bool xor, bool fix)
{
	size_t i;
	u8 first[CACHE_PAGE], buf[CACHE_PAGE];
	u64 l0, lp, size, nr_pages;
	u32 skip, crc;

	if (off > CACHE_PAGE || hex_len > CACHE_PAGE - off) {
		error("offset %llu + %zu bytes is outside the page",
		      (unsigned long long)off, hex_len);
		return 1;
	}
	if (cache_logical(c, bg, 0, &l0, &size) ||
	    cache_logical(c, bg, page * CACHE_PAGE, &lp, &size))
		return 1;
	nr_pages = (size + CACHE_PAGE - 1) / CACHE_PAGE;
	if (page >= nr_pages || nr_pages * 4 > CACHE_PAGE) {
		error("page %llu is not in the cache (%llu pages)",
		      (unsigned long long)page, (unsigned long long)nr_pages);
		return 1;
	}
	if (logical_io(c, l0, 1, first, CACHE_PAGE, false) ||
	    logical_io(c, lp, 1, buf, CACHE_PAGE, false))
		return 1;
	for (i = 0; i < hex_len; i++)
		buf[off + i] = xor ? buf[off + i] ^ hex[i] : hex[i];
	if (page == 0)
		memcpy(first, buf, CACHE_PAGE);
	if (fix) {
		skip = page == 0 ? (u32)nr_pages * 4 : 0;
		crc = ~btrfs_crc32c(~0U, buf + skip, CACHE_PAGE - skip);
		put_unaligned_le32(crc, first + page * 4);
		if (page == 0)
			memcpy(buf, first, CACHE_PAGE);
	}
	if (write_all_copies(c, lp, buf, CACHE_PAGE))
		return 1;
	if (page != 0 && fix && write_all_copies(c, l0, first, CACHE_PAGE))
		return 1;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Item lookup: ROOT OBJECTID TYPE OFFSET. */

static const struct {
	const char *name;
	u64 id;
} root_names[] = {
	{ "root", BTRFS_ROOT_TREE_OBJECTID },
	{ "extent", BTRFS_EXTENT_TREE_OBJECTID },
	{ "chunk", BTRFS_CHUNK_TREE_OBJECTID },
	{ "dev", BTRFS_DEV_TREE_OBJECTID },
	{ "fs", BTRFS_FS_TREE_OBJECTID },
	{ "csum", BTRFS_CSUM_TREE_OBJECTID },
	{ "quota", BTRFS_QUOTA_TREE_OBJECTID },
	{ "uuid", BTRFS_UUID_TREE_OBJECTID },
	{ "free_space", BTRFS_FREE_SPACE_TREE_OBJECTID },
	{ "block_group", BTRFS_BLOCK_GROUP_TREE_OBJECTID },
};

static u64 parse_root(const char *s)
{
	char buf[64];
	size_t i, n;

	for (n = 0; s[n] && n < sizeof(buf) - 1; n++)
		buf[n] = s[n];
	buf[n] = 0;
	for (i = 0; i < ARRAY_SIZE(root_names); i++) {
		const char *name = root_names[i].name;
		size_t len = strlen(name);

		if (strncasecmp(buf, name, len) == 0 &&
		    (buf[len] == 0 || strcasecmp(buf + len, "_tree") == 0))
			return root_names[i].id;
	}
	return arg_u64("root", s);
}

/* A key type by name ("INODE_ITEM", as dump-tree prints it) or number. */
static u8 parse_type(const char *s)
{
	char buf[64];
	unsigned int t;
	u64 v;

	for (t = 0; t < 256; t++) {
		FILE *f = fmemopen(buf, sizeof(buf), "w");

		if (!f)
			break;
		/* objectid 0 gives the plain name of every type */
		btrfs_print_key_type(f, 0, (u8)t);
		fclose(f);
		buf[sizeof(buf) - 1] = 0;
		if (strcasecmp(buf, s) == 0)
			return (u8)t;
	}
	v = arg_u64("key type", s);
	if (v > 255) {
		error("bad key type %s", s);
		exit(2);
	}
	return (u8)v;
}

struct item_target {
	struct btrfs_root *root;
	struct btrfs_path *path;
	struct btrfs_key key;
};

static struct btrfs_root *get_root(struct corrupt *c, u64 id)
{
	struct btrfs_key loc = { id, BTRFS_ROOT_ITEM_KEY, (u64)-1 };
	struct btrfs_root *root = btrfs_read_tree_root(c->fs_info, &loc);

	if (IS_ERR(root)) {
		error("cannot read tree %llu: %s", (unsigned long long)id,
		      strerror((int)-PTR_ERR(root)));
		return NULL;
	}
	return root;
}

static int find_item(struct corrupt *c, char **argv, struct item_target *t)
{
	int ret;

	t->key.objectid = arg_u64("objectid", argv[1]);
	t->key.type = parse_type(argv[2]);
	t->key.offset = arg_u64("offset", argv[3]);
	t->root = get_root(c, parse_root(argv[0]));
	if (!t->root)
		return -1;
	t->path = btrfs_alloc_path();
	if (!t->path)
		return -1;
	ret = btrfs_search_slot(NULL, t->root, &t->key, t->path, 0, 0);
	if (ret) {
		error("item (%llu %u %llu) not found in tree %llu%s%s",
		      (unsigned long long)t->key.objectid, t->key.type,
		      (unsigned long long)t->key.offset,
		      (unsigned long long)t->root->root_key.objectid,
		      ret < 0 ? ": " : "", ret < 0 ? strerror(-ret) : "");
		return -1;
	}
	return 0;
}

static void put_item_target(struct item_target *t)
{
	btrfs_free_path(t->path);
	if (t->root)
		btrfs_free_root(t->root);
}

/* A private, writable copy of a held block. */
static struct extent_buffer *clone_eb(const struct extent_buffer *eb)
{
	struct extent_buffer *copy = alloc_extent_buffer(eb->start, eb->len);

	if (copy)
		memcpy(copy->data, eb->data, eb->len);
	return copy;
}

/* ------------------------------------------------------------------ */
/* --item ... --field NAME --value V */

struct item_field {
	u8 type;
	u8 type2;		/* a second key type with the same layout */
	const char *name;
	size_t offset;
	int bits;
};

#define IF(t, t2, n, st, m, b) { t, t2, n, offsetof(st, m), b }
#define DI_LOC(n, m, b)                                                    \
	{ BTRFS_DIR_ITEM_KEY, BTRFS_DIR_INDEX_KEY, "location." n,           \
	  offsetof(struct btrfs_dir_item, location) +                      \
		  offsetof(struct btrfs_disk_key, m), b }

#define CH_STRIPE0(n, m, b)                                                \
	{ BTRFS_CHUNK_ITEM_KEY, 0, "stripe0." n,                            \
	  offsetof(struct btrfs_chunk, stripe) +                           \
		  offsetof(struct btrfs_stripe, m), b }

static const struct item_field item_fields[] = {
	IF(BTRFS_INODE_ITEM_KEY, 0, "size", struct btrfs_inode_item, size, 64),
	IF(BTRFS_INODE_ITEM_KEY, 0, "nbytes", struct btrfs_inode_item, nbytes, 64),
	IF(BTRFS_INODE_ITEM_KEY, 0, "nlink", struct btrfs_inode_item, nlink, 32),
	IF(BTRFS_INODE_ITEM_KEY, 0, "mode", struct btrfs_inode_item, mode, 32),
	IF(BTRFS_INODE_ITEM_KEY, 0, "generation", struct btrfs_inode_item, generation, 64),
	IF(BTRFS_INODE_ITEM_KEY, 0, "transid", struct btrfs_inode_item, transid, 64),
	IF(BTRFS_INODE_ITEM_KEY, 0, "flags", struct btrfs_inode_item, flags, 64),
	IF(BTRFS_INODE_ITEM_KEY, 0, "uid", struct btrfs_inode_item, uid, 32),
	IF(BTRFS_INODE_REF_KEY, 0, "index", struct btrfs_inode_ref, index, 64),
	IF(BTRFS_INODE_REF_KEY, 0, "name_len", struct btrfs_inode_ref, name_len, 16),
	IF(BTRFS_INODE_EXTREF_KEY, 0, "index", struct btrfs_inode_extref, index, 64),
	DI_LOC("objectid", objectid, 64),
	DI_LOC("type", type, 8),
	DI_LOC("offset", offset, 64),
	IF(BTRFS_DIR_ITEM_KEY, BTRFS_DIR_INDEX_KEY, "type", struct btrfs_dir_item, type, 8),
	IF(BTRFS_DIR_ITEM_KEY, BTRFS_DIR_INDEX_KEY, "transid", struct btrfs_dir_item, transid, 64),
	IF(BTRFS_DIR_ITEM_KEY, BTRFS_DIR_INDEX_KEY, "name_len", struct btrfs_dir_item, name_len, 16),
	IF(BTRFS_EXTENT_DATA_KEY, 0, "generation", struct btrfs_file_extent_item, generation, 64),
	IF(BTRFS_EXTENT_DATA_KEY, 0, "ram_bytes", struct btrfs_file_extent_item, ram_bytes, 64),
	IF(BTRFS_EXTENT_DATA_KEY, 0, "compression", struct btrfs_file_extent_item, compression, 8),
	IF(BTRFS_EXTENT_DATA_KEY, 0, "type", struct btrfs_file_extent_item, type, 8),
	IF(BTRFS_EXTENT_DATA_KEY, 0, "disk_bytenr", struct btrfs_file_extent_item, disk_bytenr, 64),
	IF(BTRFS_EXTENT_DATA_KEY, 0, "disk_num_bytes", struct btrfs_file_extent_item, disk_num_bytes, 64),
	IF(BTRFS_EXTENT_DATA_KEY, 0, "offset", struct btrfs_file_extent_item, offset, 64),
	IF(BTRFS_EXTENT_DATA_KEY, 0, "num_bytes", struct btrfs_file_extent_item, num_bytes, 64),
	IF(BTRFS_EXTENT_ITEM_KEY, BTRFS_METADATA_ITEM_KEY, "refs", struct btrfs_extent_item, refs, 64),
	IF(BTRFS_EXTENT_ITEM_KEY, BTRFS_METADATA_ITEM_KEY, "generation", struct btrfs_extent_item, generation, 64),
	IF(BTRFS_EXTENT_ITEM_KEY, BTRFS_METADATA_ITEM_KEY, "flags", struct btrfs_extent_item, flags, 64),
	IF(BTRFS_EXTENT_DATA_REF_KEY, 0, "count", struct btrfs_extent_data_ref, count, 32),
	IF(BTRFS_EXTENT_DATA_REF_KEY, 0, "root", struct btrfs_extent_data_ref, root, 64),
	IF(BTRFS_EXTENT_DATA_REF_KEY, 0, "objectid", struct btrfs_extent_data_ref, objectid, 64),
	IF(BTRFS_SHARED_DATA_REF_KEY, 0, "count", struct btrfs_shared_data_ref, count, 32),
	IF(BTRFS_BLOCK_GROUP_ITEM_KEY, 0, "used", struct btrfs_block_group_item, used, 64),
	IF(BTRFS_BLOCK_GROUP_ITEM_KEY, 0, "flags", struct btrfs_block_group_item, flags, 64),
	IF(BTRFS_BLOCK_GROUP_ITEM_KEY, 0, "chunk_objectid", struct btrfs_block_group_item, chunk_objectid, 64),
	IF(BTRFS_DEV_ITEM_KEY, 0, "bytes_used", struct btrfs_dev_item, bytes_used, 64),
	IF(BTRFS_DEV_ITEM_KEY, 0, "total_bytes", struct btrfs_dev_item, total_bytes, 64),
	IF(BTRFS_DEV_EXTENT_KEY, 0, "chunk_offset", struct btrfs_dev_extent, chunk_offset, 64),
	IF(BTRFS_DEV_EXTENT_KEY, 0, "length", struct btrfs_dev_extent, length, 64),
	IF(BTRFS_CHUNK_ITEM_KEY, 0, "length", struct btrfs_chunk, length, 64),
	IF(BTRFS_CHUNK_ITEM_KEY, 0, "type", struct btrfs_chunk, type, 64),
	IF(BTRFS_CHUNK_ITEM_KEY, 0, "owner", struct btrfs_chunk, owner, 64),
	IF(BTRFS_CHUNK_ITEM_KEY, 0, "stripe_len", struct btrfs_chunk, stripe_len, 64),
	IF(BTRFS_CHUNK_ITEM_KEY, 0, "io_align", struct btrfs_chunk, io_align, 32),
	IF(BTRFS_CHUNK_ITEM_KEY, 0, "io_width", struct btrfs_chunk, io_width, 32),
	IF(BTRFS_CHUNK_ITEM_KEY, 0, "sector_size", struct btrfs_chunk, sector_size, 32),
	IF(BTRFS_CHUNK_ITEM_KEY, 0, "num_stripes", struct btrfs_chunk, num_stripes, 16),
	IF(BTRFS_CHUNK_ITEM_KEY, 0, "sub_stripes", struct btrfs_chunk, sub_stripes, 16),
	CH_STRIPE0("devid", devid, 64),
	CH_STRIPE0("offset", offset, 64),
	/* the first 8 bytes of the device uuid, little-endian */
	CH_STRIPE0("uuid_lo", dev_uuid, 64),
	IF(BTRFS_DEV_ITEM_KEY, 0, "devid", struct btrfs_dev_item, devid, 64),
	IF(BTRFS_DEV_ITEM_KEY, 0, "uuid_lo", struct btrfs_dev_item, uuid, 64),
	IF(BTRFS_DEV_ITEM_KEY, 0, "fsid_lo", struct btrfs_dev_item, fsid, 64),
	IF(BTRFS_ROOT_ITEM_KEY, 0, "bytenr", struct btrfs_root_item, bytenr, 64),
	IF(BTRFS_ROOT_ITEM_KEY, 0, "refs", struct btrfs_root_item, refs, 32),
	IF(BTRFS_ROOT_ITEM_KEY, 0, "generation", struct btrfs_root_item, generation, 64),
	IF(BTRFS_ROOT_ITEM_KEY, 0, "generation_v2", struct btrfs_root_item, generation_v2, 64),
	IF(BTRFS_ROOT_ITEM_KEY, 0, "level", struct btrfs_root_item, level, 8),
	IF(BTRFS_ROOT_ITEM_KEY, 0, "flags", struct btrfs_root_item, flags, 64),
	IF(BTRFS_ROOT_ITEM_KEY, 0, "root_dirid", struct btrfs_root_item, root_dirid, 64),
	IF(BTRFS_ROOT_ITEM_KEY, 0, "last_snapshot", struct btrfs_root_item, last_snapshot, 64),
	IF(BTRFS_ROOT_REF_KEY, BTRFS_ROOT_BACKREF_KEY, "sequence", struct btrfs_root_ref, sequence, 64),
	IF(BTRFS_ROOT_REF_KEY, BTRFS_ROOT_BACKREF_KEY, "dirid", struct btrfs_root_ref, dirid, 64),
	IF(BTRFS_ROOT_REF_KEY, BTRFS_ROOT_BACKREF_KEY, "name_len", struct btrfs_root_ref, name_len, 16),
	IF(0, 0, "generation", struct btrfs_free_space_header, generation, 64),
	IF(0, 0, "num_entries", struct btrfs_free_space_header, num_entries, 64),
	IF(0, 0, "num_bitmaps", struct btrfs_free_space_header, num_bitmaps, 64),
	IF(BTRFS_FREE_SPACE_INFO_KEY, 0, "extent_count", struct btrfs_free_space_info, extent_count, 32),
	IF(BTRFS_FREE_SPACE_INFO_KEY, 0, "flags", struct btrfs_free_space_info, flags, 32),
	IF(BTRFS_QGROUP_INFO_KEY, 0, "rfer", struct btrfs_qgroup_info_item, rfer, 64),
	IF(BTRFS_QGROUP_INFO_KEY, 0, "excl", struct btrfs_qgroup_info_item, excl, 64),
	IF(BTRFS_QGROUP_INFO_KEY, 0, "rfer_cmpr", struct btrfs_qgroup_info_item, rfer_cmpr, 64),
	IF(BTRFS_QGROUP_INFO_KEY, 0, "excl_cmpr", struct btrfs_qgroup_info_item, excl_cmpr, 64),
};

static const struct item_field *find_item_field(u8 type, const char *name)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(item_fields); i++) {
		const struct item_field *f = &item_fields[i];

		if ((f->type == type || (f->type2 && f->type2 == type)) &&
		    strcmp(f->name, name) == 0)
			return f;
	}
	return NULL;
}

static int do_item(struct corrupt *c, char **key_argv, const char *fname,
		   u64 value)
{
	struct item_target t = { 0 };
	const struct item_field *f;
	struct extent_buffer *leaf;
	struct field raw;
	u8 *item;
	int ret = 1;

	if (find_item(c, key_argv, &t))
		goto out;
	f = find_item_field(t.key.type, fname);
	if (!f) {
		error("no field %s for key type %u", fname, t.key.type);
		goto out;
	}
	leaf = clone_eb(t.path->nodes[0]);
	if (!leaf)
		goto out;
	if (f->offset + (size_t)f->bits / 8 >
	    btrfs_item_size(leaf, t.path->slots[0])) {
		error("item (%llu %u %llu) is too small for field %s",
		      (unsigned long long)t.key.objectid, t.key.type,
		      (unsigned long long)t.key.offset, fname);
		free_extent_buffer(leaf);
		goto out;
	}
	item = btrfs_item_ptr(leaf, t.path->slots[0], u8);
	raw.name = f->name;
	raw.offset = f->offset;
	raw.bits = f->bits;
	put_field(item, &raw, value);
	ret = write_block_all(c, leaf->start, leaf->data, true) ? 1 : 0;
	free_extent_buffer(leaf);
out:
	put_item_target(&t);
	return ret;
}

/* ------------------------------------------------------------------ */
/* --sys-chunk START --field NAME --value V */

/*
 * Set a chunk item field (the CHUNK_ITEM fields of --item) of the chunk
 * at logical @start in the sys_chunk_array of the primary superblock of
 * each image, checksum recomputed.
 */
static int do_sys_chunk(struct corrupt *c, u64 start, const char *fname,
			u64 value)
{
	const struct item_field *f = find_item_field(BTRFS_CHUNK_ITEM_KEY,
						     fname);
	struct btrfs_super_block sb;
	u8 out[BTRFS_CSUM_SIZE] = { 0 };
	unsigned int type;
	int n;

	if (!f) {
		error("no chunk item field %s", fname);
		return 1;
	}
	for (n = 0; n < c->nr_images; n++) {
		struct btrfs_sys_array_entry e;
		struct field raw = { f->name, 0, f->bits };
		u32 size, cur = 0;
		bool done = false;
		int fd = open(c->images[n], O_RDWR);

		if (fd < 0) {
			error("cannot open %s: %m", c->images[n]);
			return 1;
		}
		if (pread(fd, &sb, sizeof(sb), BTRFS_SUPER_INFO_OFFSET) !=
		    (ssize_t)sizeof(sb)) {
			error("%s: cannot read the superblock", c->images[n]);
			close(fd);
			return 1;
		}
		size = min_t(u32, btrfs_super_sys_array_size(&sb),
			     BTRFS_SYSTEM_CHUNK_ARRAY_SIZE);
		while (!done && btrfs_sys_array_next(sb.sys_chunk_array, size,
						     &cur, &e) > 0) {
			if (btrfs_stack_disk_key_offset(e.key) != start)
				continue;
			if (f->offset + (size_t)f->bits / 8 > e.chunk_size)
				break;
			raw.offset = f->offset;
			put_field(sb.sys_chunk_array + e.chunk_offset, &raw,
				  value);
			done = true;
		}
		if (!done) {
			error("%s: no system chunk at %llu (or field %s past it)",
			      c->images[n], (unsigned long long)start, fname);
			close(fd);
			return 1;
		}
		type = btrfs_super_csum_type(&sb);
		if (btrfs_csum_type_valid(type)) {
			btrfs_csum_data(type, (u8 *)&sb + BTRFS_CSUM_SIZE,
					sizeof(sb) - BTRFS_CSUM_SIZE, out);
			memset(sb.csum, 0, BTRFS_CSUM_SIZE);
			memcpy(sb.csum, out, btrfs_csum_type_size(type));
		}
		if (pwrite(fd, &sb, sizeof(sb), BTRFS_SUPER_INFO_OFFSET) !=
		    (ssize_t)sizeof(sb)) {
			error("%s: cannot write the superblock", c->images[n]);
			close(fd);
			return 1;
		}
		close(fd);
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* --del-item */

/* Remove item @slot of @leaf in place. */
static void leaf_del_item(struct extent_buffer *leaf, int slot)
{
	u32 nr = btrfs_header_nritems(leaf);
	u8 *data = leaf->data + BTRFS_LEAF_DATA_OFFSET;
	u32 size = btrfs_item_size(leaf, slot);
	u32 off = btrfs_item_offset(leaf, slot);
	u32 low = btrfs_item_offset(leaf, (int)nr - 1);
	u32 i;

	/* data of later items lies below this one's: move it up */
	memmove(data + low + size, data + low, off - low);
	for (i = (u32)slot + 1; i < nr; i++) {
		struct btrfs_item *it = btrfs_item_nr(leaf, (int)i);
		u32 off_i = btrfs_raw_item_offset(leaf, it);

		btrfs_set_raw_item_offset(leaf, it, off_i + size);
	}
	memmove(btrfs_item_nr(leaf, slot), btrfs_item_nr(leaf, slot + 1),
		sizeof(struct btrfs_item) * (nr - (u32)slot - 1));
	memset(btrfs_item_nr(leaf, (int)nr - 1), 0, sizeof(struct btrfs_item));
	btrfs_set_header_nritems(leaf, nr - 1);
}

/* The first key of a leaf changed: fix the key pointers above it. */
static int fix_parent_keys(struct corrupt *c, struct btrfs_path *path,
			   const struct btrfs_disk_key *key)
{
	int level;

	for (level = 1; level < BTRFS_MAX_LEVEL && path->nodes[level];
	     level++) {
		struct extent_buffer *node = clone_eb(path->nodes[level]);
		int slot = path->slots[level];

		if (!node)
			return -1;
		memcpy(&btrfs_key_ptr_nr(node, slot)->key, key, sizeof(*key));
		if (write_block_all(c, node->start, node->data, true)) {
			free_extent_buffer(node);
			return -1;
		}
		free_extent_buffer(node);
		if (slot != 0)
			break;
	}
	return 0;
}

static int do_del_item(struct corrupt *c, char **key_argv)
{
	struct item_target t = { 0 };
	struct extent_buffer *leaf = NULL;
	struct btrfs_disk_key first;
	int slot, ret = 1;

	if (find_item(c, key_argv, &t))
		goto out;
	slot = t.path->slots[0];
	if (btrfs_header_nritems(t.path->nodes[0]) < 2) {
		error("item (%llu %u %llu) is the only item of leaf %llu",
		      (unsigned long long)t.key.objectid, t.key.type,
		      (unsigned long long)t.key.offset,
		      (unsigned long long)t.path->nodes[0]->start);
		goto out;
	}
	leaf = clone_eb(t.path->nodes[0]);
	if (!leaf)
		goto out;
	leaf_del_item(leaf, slot);
	if (write_block_all(c, leaf->start, leaf->data, true))
		goto out;
	if (slot == 0) {
		btrfs_item_key(leaf, &first, 0);
		if (fix_parent_keys(c, t.path, &first))
			goto out;
	}
	ret = 0;
out:
	free_extent_buffer(leaf);
	put_item_target(&t);
	return ret;
}

/* ------------------------------------------------------------------ */

static void need(int argc, int i, int n)
{
	if (i + n >= argc)
		usage_exit();
}

int main(int argc, char **argv)
{
	struct corrupt c = { 0 };
	const char *mode;
	size_t hex_len = 0;
	u8 *hex = NULL;
	int i = 1, ret, j;

	while (i < argc && strncmp(argv[i], "--", 2) != 0) {
		if (c.nr_images == MAX_IMAGES)
			usage_exit();
		c.images[c.nr_images++] = argv[i++];
	}
	if (!c.nr_images || i >= argc)
		usage_exit();
	mode = argv[i];
	if (strcmp(mode, "--super-field") == 0) {
		need(argc, i, 2);
		if (i + 3 != argc)
			usage_exit();
		return do_super_field(&c, argv[i + 1],
				      arg_u64("value", argv[i + 2]));
	}
	if (strcmp(mode, "--sys-chunk") == 0) {
		if (i + 6 != argc || strcmp(argv[i + 2], "--field") ||
		    strcmp(argv[i + 4], "--value"))
			usage_exit();
		return do_sys_chunk(&c, arg_u64("start", argv[i + 1]),
				    argv[i + 3], arg_u64("value", argv[i + 5]));
	}
	if (open_fs(&c))
		return 1;
	if (strcmp(mode, "--block") == 0) {
		u64 bytenr, off;
		bool fix = true;

		need(argc, i, 5);
		if (strcmp(argv[i + 2], "--offset") ||
		    strcmp(argv[i + 4], "--hex"))
			usage_exit();
		bytenr = arg_u64("bytenr", argv[i + 1]);
		off = arg_u64("offset", argv[i + 3]);
		hex = parse_hex(argv[i + 5], &hex_len);
		if (i + 6 < argc) {
			if (strcmp(argv[i + 6], "--no-csum") || i + 7 != argc)
				usage_exit();
			fix = false;
		}
		ret = do_block(&c, bytenr, off, hex, hex_len, fix);
	} else if (strcmp(mode, "--item") == 0) {
		need(argc, i, 8);
		if (strcmp(argv[i + 5], "--field") ||
		    strcmp(argv[i + 7], "--value") || i + 9 != argc)
			usage_exit();
		ret = do_item(&c, argv + i + 1, argv[i + 6],
			      arg_u64("value", argv[i + 8]));
	} else if (strcmp(mode, "--del-item") == 0) {
		if (i + 5 != argc)
			usage_exit();
		ret = do_del_item(&c, argv + i + 1);
	} else if (strcmp(mode, "--data") == 0) {
		int mirror = 0;

		need(argc, i, 3);
		if (strcmp(argv[i + 2], "--hex"))
			usage_exit();
		hex = parse_hex(argv[i + 3], &hex_len);
		if (i + 4 < argc) {
			if (strcmp(argv[i + 4], "--mirror") || i + 6 != argc)
				usage_exit();
			mirror = (int)arg_u64("mirror", argv[i + 5]);
			if (mirror < 1 || mirror > 4)
				usage_exit();
		}
		ret = do_data(&c, arg_u64("logical", argv[i + 1]), hex,
			      hex_len, mirror);
	} else if (strcmp(mode, "--cache-page") == 0) {
		bool fix = true, xor = false;

		need(argc, i, 6);
		if (strcmp(argv[i + 3], "--offset") ||
		    strcmp(argv[i + 5], "--hex"))
			usage_exit();
		hex = parse_hex(argv[i + 6], &hex_len);
		for (j = i + 7; j < argc; j++) {
			if (strcmp(argv[j], "--no-csum") == 0)
				fix = false;
			else if (strcmp(argv[j], "--xor") == 0)
				xor = true;
			else
				usage_exit();
		}
		ret = do_cache_page(&c, arg_u64("bg", argv[i + 1]),
				    arg_u64("page", argv[i + 2]),
				    arg_u64("offset", argv[i + 4]), hex,
				    hex_len, xor, fix);
	} else {
		usage_exit();
	}
	free(hex);
	for (j = 0; j < c.nr_devs; j++) {
		if (fsync(c.devs[j].fd) || close(c.devs[j].fd)) {
			error("cannot flush device %llu",
			      (unsigned long long)c.devs[j].devid);
			ret = 1;
		}
	}
	close_ctree(c.fs_info);
	return ret;
}
