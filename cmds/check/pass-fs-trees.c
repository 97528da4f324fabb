// SPDX-License-Identifier: GPL-2.0
/*
 * Pass 6: inodes, names and file extents of every fs tree.
 *
 * Each fs tree (the top-level one, every subvolume and snapshot, the data
 * relocation tree) is read once in key order, which groups all items of
 * one inode: the inode item, its names (INODE_REF / INODE_EXTREF), its
 * xattrs, its directory entries (DIR_ITEM / DIR_INDEX) and its file
 * extents.  Everything about one inode is checked when its group ends.
 *
 * A name links two inodes: the child's inode ref and the parent's
 * DIR_ITEM and DIR_INDEX must agree (name, index, child, file type).  To
 * keep memory per directory rather than per name, each directory record
 * holds order-independent fingerprints (sums of 64-bit hashes) of the
 * entries its DIR_INDEX and DIR_ITEM items hold and of the names children
 * claim in it; only for the directories whose sums differ does a second
 * read collect the entries themselves and say exactly which one is wrong.
 *
 * Not findings: several names in one DIR_ITEM (hash collisions), orphan
 * items (valid for unlinked and for half-truncated inodes, whose extents
 * and counts are then not checked), a snapshot being dropped (skipped),
 * entries that link a subvolume (their back reference is a ROOT_REF in the
 * root tree, checked by pass 8), and the root directory's ".." ref to
 * itself.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/array.h"
#include "common/csum.h"
#include "cmds/check/check.h"
#include "cmds/check/tree-walk.h"
#include "cmds/check/u64-map.h"
#include "kernel-shared/disk-io.h"
#include "kernel-shared/extent-io.h"

/* Per directory (or claimed parent): the four fingerprints. */
struct dir_rec {
	u64 ino;		/* 0: free slot */
	u64 fp_index;		/* DIR_INDEX entries of this directory */
	u64 fp_index_ref;	/* (index, name) claimed by children */
	u64 fp_item;		/* DIR_ITEM entries */
	u64 fp_item_ref;	/* names claimed by children */
};

/* The inode whose items are being read. */
struct ino_state {
	u64 ino;
	bool has_item;
	bool is_dir;
	bool orphan;		/* has an orphan item */
	u8 ftype;		/* BTRFS_FT_* from the mode, 0 unknown */
	u32 mode;
	u32 nlink;
	u64 isize;
	u64 nbytes;
	u64 flags;
	u32 names;		/* refs and extrefs found */
	u64 dir_names_len;	/* sum of name lengths of DIR_ITEM + INDEX */
	u64 found_nbytes;
	u64 ext_end;		/* end of the last file extent */
	bool has_extents;
	bool reported_not_dir;
};

struct dent {
	u64 dir;
	u64 name_fp;
	u64 child;
	u64 index;
	u8 src;			/* DENT_* */
	u8 type;
	u16 name_len;
	char name[40];
};

enum { DENT_REF, DENT_INDEX, DENT_ITEM };

struct fs_state {
	struct check_ctx *ctx;
	struct btrfs_fs_info *fs_info;
	u64 root_id;
	u64 root_dirid;
	struct u64_map dirs;		/* of struct dir_rec */
	bool alloc_failed;
	u64 *orphans;		/* sorted inodes with orphan items */
	size_t nr_orphans, orphans_cap;
	struct ino_state cur;
	bool seen_root_dir;
	bool no_holes;
	/* detail pass */
	u64 *bad_dirs;
	size_t nr_bad;
	struct dent *dents;
	size_t nr_dents, dents_cap;
	u64 unreadable;
};

static void report(struct fs_state *st, enum check_code code, u64 ino,
		   const struct btrfs_key *key, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static void report(struct fs_state *st, enum check_code code, u64 ino,
		   const struct btrfs_key *key, const char *fmt, ...)
{
	struct check_finding f = {
		.code = code,
		.root = st->root_id,
		.inode = ino,
	};
	char msg[512];
	va_list ap;

	if (key)
		f.key = *key;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	check_report(st->ctx, &f, "%s", msg);
}

static void report_values(struct fs_state *st, enum check_code code, u64 ino,
			  u64 expected, u64 found, const char *what)
{
	struct check_finding f = {
		.code = code,
		.root = st->root_id,
		.inode = ino,
		.has_values = true,
		.expected = expected,
		.found = found,
	};

	check_report(st->ctx, &f, "%s", what);
}

static u64 name_fp(const char *name, u32 len)
{
	u64 h = 0x243f6a8885a308d3ULL ^ len;
	u32 i;

	for (i = 0; i < len; i += 8) {
		u64 v = 0;
		u32 n = len - i < 8 ? len - i : 8;

		memcpy(&v, name + i, n);
		h = cw_mix(h, v);
	}
	return h;
}

static u64 entry_fp(int kind, u64 dir, u64 index, u64 nfp, u64 child,
		    u8 type)
{
	u64 h = cw_mix(0x13198a2e03707344ULL, (u64)kind);

	h = cw_mix(h, dir);
	h = cw_mix(h, index);
	h = cw_mix(h, nfp);
	h = cw_mix(h, child);
	return cw_mix(h, type);
}

/* ------------------------------------------------------------------ */
/* Directory records, keyed by inode number. */

static struct dir_rec *dir_get(struct fs_state *st, u64 ino)
{
	struct dir_rec *d = u64_map_get(&st->dirs, ino, NULL);

	if (!d)
		st->alloc_failed = true;
	return d;
}

static bool sorted_has(const u64 *a, size_t nr, u64 v)
{
	size_t lo = 0, hi = nr;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (a[mid] == v)
			return true;
		if (a[mid] < v)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

/* The file type bits of an on-disk mode (POSIX values, as Linux stores). */
static u8 mode_to_ftype(u32 mode)
{
	switch (mode & 0170000) {
	case 0100000: return BTRFS_FT_REG_FILE;
	case 0040000: return BTRFS_FT_DIR;
	case 0020000: return BTRFS_FT_CHRDEV;
	case 0060000: return BTRFS_FT_BLKDEV;
	case 0010000: return BTRFS_FT_FIFO;
	case 0140000: return BTRFS_FT_SOCK;
	case 0120000: return BTRFS_FT_SYMLINK;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Per-inode items. */

#define INODE_FLAGS_KNOWN (0xfffULL | BTRFS_INODE_ROOT_ITEM_INIT | \
			   BTRFS_INODE_RO_VERITY)

static void inode_item(struct fs_state *st, struct extent_buffer *eb, int slot,
		       const struct btrfs_key *key)
{
	struct ino_state *c = &st->cur;
	struct btrfs_inode_item *ii;
	u64 limit = st->fs_info->generation + 1;
	u64 gen, transid;

	if (btrfs_item_size(eb, slot) != sizeof(*ii)) {
		report(st, CHECK_INODE_ITEM, key->objectid, key,
		       "inode item size %u, expected %zu",
		       btrfs_item_size(eb, slot), sizeof(*ii));
		return;
	}
	ii = btrfs_item_ptr(eb, slot, struct btrfs_inode_item);
	c->has_item = true;
	c->mode = btrfs_inode_mode(eb, ii);
	c->nlink = btrfs_inode_nlink(eb, ii);
	c->isize = btrfs_inode_size(eb, ii);
	c->nbytes = btrfs_inode_nbytes(eb, ii);
	c->flags = btrfs_inode_flags(eb, ii);
	c->ftype = mode_to_ftype(c->mode);
	c->is_dir = c->ftype == BTRFS_FT_DIR;
	if (!c->ftype)
		report(st, CHECK_INODE_MODE, key->objectid, key,
		       "inode mode %o has no valid file type", c->mode);
	/* the kernel's tree checker: S_IFMT and the permission bits only */
	if (c->mode & ~0177777U)
		report(st, CHECK_INODE_MODE, key->objectid, key,
		       "inode mode %o has bits outside the file type and permission bits (%o)",
		       c->mode, c->mode & ~0177777U);
	if (c->flags & ~INODE_FLAGS_KNOWN)
		report(st, CHECK_INODE_MODE, key->objectid, key,
		       "unknown inode flags 0x%llx",
		       (unsigned long long)(c->flags & ~INODE_FLAGS_KNOWN));
	gen = btrfs_inode_generation(eb, ii);
	transid = btrfs_inode_transid(eb, ii);
	if (gen > limit || transid > limit)
		report(st, CHECK_INODE_GENERATION, key->objectid, key,
		       "inode generation %llu / transid %llu newer than the filesystem (%llu)",
		       (unsigned long long)gen, (unsigned long long)transid,
		       (unsigned long long)st->fs_info->generation);
}

/* One name of the current inode in directory @parent. */
static void add_name(struct fs_state *st, u64 parent, u64 index,
		     const char *name, u32 len)
{
	struct ino_state *c = &st->cur;
	struct dir_rec *d;
	u64 nfp;

	if (parent == c->ino) {
		/* the ".." of a tree's root directory */
		if (c->ino != st->root_dirid)
			report(st, CHECK_INODE_REF, c->ino, NULL,
			       "inode ref names the inode itself as parent");
		return;
	}
	c->names++;
	d = dir_get(st, parent);
	if (!d)
		return;
	nfp = name_fp(name, len);
	d->fp_index_ref += entry_fp(DENT_INDEX, parent, index, nfp, c->ino,
				    c->ftype);
	d->fp_item_ref += entry_fp(DENT_ITEM, parent, 0, nfp, c->ino,
				   c->ftype);
}

static bool name_ok(const char *name, u32 len)
{
	if (len == 0 || len > BTRFS_NAME_LEN)
		return false;
	if ((len == 1 && name[0] == '.') ||
	    (len == 2 && name[0] == '.' && name[1] == '.'))
		return false;
	return !memchr(name, '/', len) && !memchr(name, '\0', len);
}

/* One name of an INODE_REF or INODE_EXTREF item. */
struct ref_entry {
	u64 parent;
	u64 index;
	const char *name;
	u32 len;
};

/*
 * Parse the entry at @ptr of a ref item ending at @end: bytes it takes, or
 * 0 when it is truncated.
 */
static u32 parse_ref(struct extent_buffer *eb, const struct btrfs_key *key,
		     u8 *ptr, const u8 *end, struct ref_entry *e)
{
	u32 hdr;

	if (key->type == BTRFS_INODE_EXTREF_KEY) {
		struct btrfs_inode_extref *x = (void *)ptr;

		hdr = sizeof(*x);
		if (ptr + hdr > end)
			return 0;
		e->parent = btrfs_inode_extref_parent(eb, x);
		e->index = btrfs_inode_extref_index(eb, x);
		e->len = btrfs_inode_extref_name_len(eb, x);
	} else {
		struct btrfs_inode_ref *r = (void *)ptr;

		hdr = sizeof(*r);
		if (ptr + hdr > end)
			return 0;
		e->parent = key->offset;
		e->index = btrfs_inode_ref_index(eb, r);
		e->len = btrfs_inode_ref_name_len(eb, r);
	}
	if (ptr + hdr + e->len > end)
		return 0;
	e->name = (const char *)ptr + hdr;
	return hdr + e->len;
}

/* One entry of a DIR_ITEM, DIR_INDEX or XATTR_ITEM item. */
struct dir_entry {
	struct btrfs_key location;
	const char *name;
	u32 name_len;
	u32 data_len;
	u8 type;		/* without the encryption bit */
};

static u32 parse_dir_entry(struct extent_buffer *eb, u8 *ptr, const u8 *end,
			   struct dir_entry *e)
{
	struct btrfs_dir_item *di = (void *)ptr;
	struct btrfs_disk_key dk;

	if (ptr + sizeof(*di) > end)
		return 0;
	e->name_len = btrfs_dir_name_len(eb, di);
	e->data_len = btrfs_dir_data_len(eb, di);
	if (ptr + sizeof(*di) + e->name_len + e->data_len > end)
		return 0;
	e->name = (const char *)(di + 1);
	e->type = btrfs_dir_ftype(eb, di);
	memcpy(&dk, &di->location, sizeof(dk));
	btrfs_disk_key_to_cpu(&e->location, &dk);
	return (u32)sizeof(*di) + e->name_len + e->data_len;
}

static void inode_ref(struct fs_state *st, struct extent_buffer *eb, int slot,
		      const struct btrfs_key *key)
{
	u8 *ptr = btrfs_item_ptr(eb, slot, u8);
	u8 *end = ptr + btrfs_item_size(eb, slot);

	while (ptr < end) {
		struct ref_entry e;
		u32 n = parse_ref(eb, key, ptr, end, &e);

		if (!n) {
			report(st, CHECK_INODE_REF, key->objectid, key,
			       "inode ref item truncated");
			return;
		}
		if (!(e.parent == key->objectid && e.len == 2 &&
		      !memcmp(e.name, "..", 2)) && !name_ok(e.name, e.len))
			report(st, CHECK_INODE_REF, key->objectid, key,
			       "invalid name (length %u) in inode ref", e.len);
		if (key->type == BTRFS_INODE_EXTREF_KEY &&
		    btrfs_extref_hash(e.parent, e.name, e.len) != key->offset)
			report(st, CHECK_INODE_REF, key->objectid, key,
			       "inode extref hash does not match name in dir %llu",
			       (unsigned long long)e.parent);
		add_name(st, e.parent, e.index, e.name, e.len);
		ptr += n;
	}
}

/* A name of the current directory, into its fingerprints. */
static bool add_entry(struct fs_state *st, const struct btrfs_key *key,
		      const struct dir_entry *e)
{
	struct dir_rec *d = dir_get(st, st->cur.ino);
	u64 nfp = name_fp(e->name, e->name_len);

	if (!d)
		return false;
	if (key->type == BTRFS_DIR_INDEX_KEY)
		d->fp_index += entry_fp(DENT_INDEX, st->cur.ino, key->offset,
					nfp, e->location.objectid, e->type);
	else
		d->fp_item += entry_fp(DENT_ITEM, st->cur.ino, 0, nfp,
				       e->location.objectid, e->type);
	return true;
}

/* DIR_ITEM, DIR_INDEX and XATTR_ITEM entries. */
static void dir_entries(struct fs_state *st, struct extent_buffer *eb,
			int slot, const struct btrfs_key *key)
{
	struct ino_state *c = &st->cur;
	u8 *ptr = btrfs_item_ptr(eb, slot, u8);
	u8 *end = ptr + btrfs_item_size(eb, slot);
	bool xattr = key->type == BTRFS_XATTR_ITEM_KEY;
	int nr = 0;

	if (!xattr && c->has_item && !c->is_dir) {
		if (!c->reported_not_dir)
			report(st, CHECK_DIR_ITEM, c->ino, key,
			       "directory entries in an inode that is not a directory");
		c->reported_not_dir = true;
		return;
	}
	while (ptr < end) {
		struct dir_entry e;
		u32 n = parse_dir_entry(eb, ptr, end, &e);
		const struct btrfs_key *loc = &e.location;
		u32 name_len = e.name_len, data_len = e.data_len;
		const char *name = e.name;
		u8 type = e.type;

		if (!n)
			goto bad;
		ptr += n;
		nr++;
		if (key->type != BTRFS_DIR_INDEX_KEY &&
		    btrfs_name_hash(name, name_len) != key->offset)
			report(st, CHECK_DIR_ITEM, c->ino, key,
			       "name hash does not match the key");
		if (xattr) {
			if (type != BTRFS_FT_XATTR || name_len == 0)
				report(st, CHECK_DIR_ITEM, c->ino, key,
				       "bad xattr item");
			continue;
		}
		c->dir_names_len += name_len;
		if (!name_ok(name, name_len) || data_len ||
		    type == 0 || type >= BTRFS_FT_XATTR) {
			report(st, CHECK_DIR_ITEM, c->ino, key,
			       "bad directory entry (name length %u, type %u, data %u)",
			       name_len, type, data_len);
			continue;
		}
		if (loc->type == BTRFS_ROOT_ITEM_KEY) {
			/* a subvolume: its back reference is a ROOT_REF */
			if (type != BTRFS_FT_DIR)
				report(st, CHECK_DIR_ITEM, c->ino, key,
				       "subvolume entry with type %u", type);
			continue;
		}
		if (loc->type != BTRFS_INODE_ITEM_KEY || loc->offset != 0 ||
		    loc->objectid < BTRFS_FIRST_FREE_OBJECTID ||
		    loc->objectid > BTRFS_LAST_FREE_OBJECTID) {
			report(st, CHECK_DIR_ITEM, c->ino, key,
			       "directory entry location (%llu %u %llu) is not an inode",
			       (unsigned long long)loc->objectid, loc->type,
			       (unsigned long long)loc->offset);
			continue;
		}
		if (!add_entry(st, key, &e))
			return;
	}
	if (key->type == BTRFS_DIR_INDEX_KEY && nr != 1)
		report(st, CHECK_DIR_ITEM, c->ino, key,
		       "DIR_INDEX item holds %d entries", nr);
	return;
bad:
	report(st, CHECK_DIR_ITEM, c->ino, key, "directory item truncated");
}

static void file_extent(struct fs_state *st, struct extent_buffer *eb,
			int slot, const struct btrfs_key *key)
{
	struct ino_state *c = &st->cur;
	struct btrfs_file_extent_item *fi;
	u32 size = btrfs_item_size(eb, slot);
	u32 ss = st->fs_info->sectorsize;
	u64 start = key->offset, end, num;
	u8 type, comp;

	if (c->has_item && c->ftype != BTRFS_FT_REG_FILE &&
	    c->ftype != BTRFS_FT_SYMLINK) {
		report(st, CHECK_FILE_EXTENT, c->ino, key,
		       "file extent in an inode that is not a file or symlink");
		return;
	}
	if (size < BTRFS_FILE_EXTENT_INLINE_DATA_START) {
		report(st, CHECK_FILE_EXTENT, c->ino, key,
		       "file extent item too small (%u)", size);
		return;
	}
	fi = btrfs_item_ptr(eb, slot, struct btrfs_file_extent_item);
	type = btrfs_file_extent_type(eb, fi);
	comp = btrfs_file_extent_compression(eb, fi);
	if (comp > BTRFS_COMPRESS_ZSTD ||
	    btrfs_file_extent_encryption(eb, fi) ||
	    btrfs_file_extent_other_encoding(eb, fi)) {
		report(st, CHECK_FILE_EXTENT, c->ino, key,
		       "unknown compression %u or encoding", comp);
		return;
	}
	if (btrfs_file_extent_generation(eb, fi) > st->fs_info->generation + 1)
		report(st, CHECK_FILE_EXTENT, c->ino, key,
		       "file extent generation newer than the filesystem");
	if (type == BTRFS_FILE_EXTENT_INLINE) {
		u64 ram = btrfs_file_extent_ram_bytes(eb, fi);
		u32 data = size - BTRFS_FILE_EXTENT_INLINE_DATA_START;

		if (start != 0)
			report(st, CHECK_FILE_EXTENT, c->ino, key,
			       "inline extent not at offset 0");
		if ((comp == BTRFS_COMPRESS_NONE && ram != data) ||
		    ram > ss || ram == 0)
			report(st, CHECK_FILE_EXTENT, c->ino, key,
			       "inline extent size %llu (data %u) out of limits",
			       (unsigned long long)ram, data);
		/* the inline data stands for its whole sector */
		num = round_up(ram, (u64)ss);
		c->found_nbytes += ram;
	} else if (type == BTRFS_FILE_EXTENT_REG ||
		   type == BTRFS_FILE_EXTENT_PREALLOC) {
		u64 bytenr = btrfs_file_extent_disk_bytenr(eb, fi);
		u64 disk = btrfs_file_extent_disk_num_bytes(eb, fi);

		if (size != sizeof(*fi)) {
			report(st, CHECK_FILE_EXTENT, c->ino, key,
			       "file extent item size %u", size);
			return;
		}
		num = btrfs_file_extent_num_bytes(eb, fi);
		if (num == 0 || !IS_ALIGNED(num, ss) ||
		    !IS_ALIGNED(start, ss) || !IS_ALIGNED(bytenr, ss) ||
		    !IS_ALIGNED(disk, ss) ||
		    (bytenr && disk == 0) ||
		    (type == BTRFS_FILE_EXTENT_PREALLOC && comp)) {
			report(st, CHECK_FILE_EXTENT, c->ino, key,
			       "bad file extent (offset, sizes, alignment or type)");
			return;
		}
		if (bytenr)
			c->found_nbytes += num;
	} else {
		report(st, CHECK_FILE_EXTENT, c->ino, key,
		       "unknown file extent type %u", type);
		return;
	}
	end = start + num;
	if (end < start) {
		report(st, CHECK_FILE_EXTENT, c->ino, key,
		       "file extent end overflows");
		return;
	}
	if (c->has_extents && start < c->ext_end)
		report(st, CHECK_FILE_EXTENT, c->ino, key,
		       "file extent overlaps the previous one (ending at %llu)",
		       (unsigned long long)c->ext_end);
	else if (!st->no_holes && start > c->ext_end &&
		 c->ext_end < round_up(c->isize, (u64)ss))
		/* past the size (fallocate -n) the kernel leaves gaps */
		report(st, CHECK_FILE_EXTENT_HOLE, c->ino, key,
		       "gap [%llu, %llu) without hole extent and no NO_HOLES",
		       (unsigned long long)c->ext_end,
		       (unsigned long long)min_t(u64, start,
				round_up(c->isize, (u64)ss)));
	c->has_extents = true;
	if (end > c->ext_end)
		c->ext_end = end;
}

/* All items of the current inode were seen. */
static void end_inode(struct fs_state *st)
{
	struct ino_state *c = &st->cur;
	u64 ino = c->ino;
	bool orphan;

	if (!ino)
		return;
	orphan = sorted_has(st->orphans, st->nr_orphans, ino);
	if (ino == st->root_dirid) {
		st->seen_root_dir = true;
		if (c->has_item && !c->is_dir)
			report(st, CHECK_ROOT_DIR, ino, NULL,
			       "root directory is not a directory");
	}
	if (!c->has_item) {
		report(st, CHECK_INODE_ITEM, ino, NULL,
		       "items of inode %llu without inode item",
		       (unsigned long long)ino);
		goto out;
	}
	if (c->is_dir) {
		u32 expect = c->names ? 1 : 0;

		if (ino == st->root_dirid)
			expect = 1;
		if (c->names > 1)
			report_values(st, CHECK_INODE_REF, ino, 1, c->names,
				      "directory has more than one name");
		if (c->nlink != expect && !(c->nlink == 0 && orphan))
			report_values(st, CHECK_INODE_NLINK, ino, expect,
				      c->nlink, "directory link count wrong");
		if (c->isize != c->dir_names_len && !orphan)
			report_values(st, CHECK_DIR_ISIZE, ino,
				      c->dir_names_len, c->isize,
				      "directory size differs from its names");
	} else if (c->nlink != c->names) {
		report_values(st, CHECK_INODE_NLINK, ino, c->names, c->nlink,
			      "link count differs from names found");
	}
	if (c->nlink == 0 && !orphan && ino != st->root_dirid)
		report(st, CHECK_INODE_ORPHANED, ino, NULL,
		       "unlinked inode without orphan item");
	if (orphan)
		goto out;	/* may be half truncated or half deleted */
	/* directories: mkfs gives the top one nbytes; nothing else counts */
	if (!c->is_dir && c->found_nbytes != c->nbytes)
		report_values(st, CHECK_INODE_NBYTES, ino, c->found_nbytes,
			      c->nbytes, "nbytes differs from file extents");
	if (c->ftype == BTRFS_FT_REG_FILE && !st->no_holes &&
	    c->ext_end < round_up(c->isize, (u64)st->fs_info->sectorsize))
		report(st, CHECK_FILE_EXTENT_HOLE, ino, NULL,
		       "no extent or hole covers [%llu, %llu) below the size, without NO_HOLES",
		       (unsigned long long)c->ext_end,
		       (unsigned long long)round_up(c->isize,
				(u64)st->fs_info->sectorsize));
out:
	memset(c, 0, sizeof(*c));
}

static void orphan_item(struct fs_state *st, const struct btrfs_key *key,
			u32 size)
{
	if (key->type != BTRFS_ORPHAN_ITEM_KEY)
		return;
	if (size != 0 || key->offset < BTRFS_FIRST_FREE_OBJECTID)
		report(st, CHECK_ORPHAN, 0, key, "bad orphan item");
}

static int fs_leaf(struct extent_buffer *eb, void *arg)
{
	struct fs_state *st = arg;
	int nr, slot;

	if (btrfs_header_level(eb) != 0)
		return 0;
	nr = (int)btrfs_header_nritems(eb);
	check_progress_add(st->ctx, (u64)nr);
	for (slot = 0; slot < nr; slot++) {
		struct btrfs_key key;

		btrfs_item_key_to_cpu(eb, &key, slot);
		if (key.objectid == BTRFS_ORPHAN_OBJECTID) {
			end_inode(st);
			orphan_item(st, &key, btrfs_item_size(eb, slot));
			continue;
		}
		if (key.objectid < BTRFS_FIRST_FREE_OBJECTID ||
		    key.objectid > BTRFS_LAST_FREE_OBJECTID)
			continue;	/* free-ino cache and the like */
		if (key.objectid != st->cur.ino) {
			end_inode(st);
			st->cur.ino = key.objectid;
		}
		switch (key.type) {
		case BTRFS_INODE_ITEM_KEY:
			inode_item(st, eb, slot, &key);
			break;
		case BTRFS_INODE_REF_KEY:
		case BTRFS_INODE_EXTREF_KEY:
			inode_ref(st, eb, slot, &key);
			break;
		case BTRFS_XATTR_ITEM_KEY:
		case BTRFS_DIR_ITEM_KEY:
		case BTRFS_DIR_INDEX_KEY:
			dir_entries(st, eb, slot, &key);
			break;
		case BTRFS_EXTENT_DATA_KEY:
			file_extent(st, eb, slot, &key);
			break;
		}
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Second read for the directories whose fingerprints differ. */

static void add_dent(struct fs_state *st, u8 src, u64 dir, u64 index,
		     const char *name, u32 len, u64 child, u8 type)
{
	struct dent *d;

	if (!sorted_has(st->bad_dirs, st->nr_bad, dir))
		return;
	if (array_reserve(st->dents, st->dents_cap, st->nr_dents + 1, 256)) {
		st->alloc_failed = true;
		return;
	}
	d = &st->dents[st->nr_dents++];
	memset(d, 0, sizeof(*d));
	d->src = src;
	d->dir = dir;
	d->index = index;
	d->child = child;
	d->type = type;
	d->name_fp = name_fp(name, len);
	d->name_len = (u16)len;
	memcpy(d->name, name, len < sizeof(d->name) - 1 ? len :
						       sizeof(d->name) - 1);
}

static void detail_refs(struct fs_state *st, struct extent_buffer *eb,
			int slot, const struct btrfs_key *key)
{
	u8 *ptr = btrfs_item_ptr(eb, slot, u8);
	u8 *end = ptr + btrfs_item_size(eb, slot);

	while (ptr < end) {
		struct ref_entry e;
		u32 n = parse_ref(eb, key, ptr, end, &e);

		if (!n)
			return;
		if (e.parent != key->objectid)
			add_dent(st, DENT_REF, e.parent, e.index, e.name, e.len,
				 key->objectid, st->cur.ftype);
		ptr += n;
	}
}

static void detail_entries(struct fs_state *st, struct extent_buffer *eb,
			   int slot, const struct btrfs_key *key)
{
	u8 *ptr = btrfs_item_ptr(eb, slot, u8);
	u8 *end = ptr + btrfs_item_size(eb, slot);
	bool index = key->type == BTRFS_DIR_INDEX_KEY;

	while (ptr < end) {
		struct dir_entry e;
		u32 n = parse_dir_entry(eb, ptr, end, &e);

		if (!n)
			return;
		if (e.location.type == BTRFS_INODE_ITEM_KEY)
			add_dent(st, index ? DENT_INDEX : DENT_ITEM,
				 key->objectid, index ? key->offset : 0,
				 e.name, e.name_len, e.location.objectid,
				 e.type);
		ptr += n;
	}
}

static int detail_leaf(struct extent_buffer *eb, void *arg)
{
	struct fs_state *st = arg;
	int nr = (int)btrfs_header_nritems(eb), slot;

	if (btrfs_header_level(eb) != 0)
		return 0;
	for (slot = 0; slot < nr; slot++) {
		struct btrfs_key key;

		btrfs_item_key_to_cpu(eb, &key, slot);
		if (key.objectid != st->cur.ino) {
			memset(&st->cur, 0, sizeof(st->cur));
			st->cur.ino = key.objectid;
		}
		switch (key.type) {
		case BTRFS_INODE_ITEM_KEY: {
			struct btrfs_inode_item *ii = btrfs_item_ptr(eb, slot,
						struct btrfs_inode_item);

			if (btrfs_item_size(eb, slot) == sizeof(*ii))
				st->cur.ftype =
					mode_to_ftype(btrfs_inode_mode(eb, ii));
			break;
		}
		case BTRFS_INODE_REF_KEY:
		case BTRFS_INODE_EXTREF_KEY:
			detail_refs(st, eb, slot, &key);
			break;
		case BTRFS_DIR_ITEM_KEY:
		case BTRFS_DIR_INDEX_KEY:
			detail_entries(st, eb, slot, &key);
			break;
		}
	}
	return 0;
}

static int dent_cmp(const void *a, const void *b)
{
	const struct dent *x = a, *y = b;

	if (x->dir != y->dir)
		return x->dir < y->dir ? -1 : 1;
	if (x->name_fp != y->name_fp)
		return x->name_fp < y->name_fp ? -1 : 1;
	if (x->child != y->child)
		return x->child < y->child ? -1 : 1;
	if (x->src != y->src)
		return x->src < y->src ? -1 : 1;
	if (x->index != y->index)
		return x->index < y->index ? -1 : 1;
	return 0;
}

static int u64_cmp(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;

	return x < y ? -1 : x > y;
}

static void dent_report(struct fs_state *st, const struct dent *d,
			enum check_code code, const char *what)
{
	struct btrfs_key key = {
		.objectid = d->src == DENT_REF ? d->child : d->dir,
		.type = d->src == DENT_REF ? BTRFS_INODE_REF_KEY :
			d->src == DENT_INDEX ? BTRFS_DIR_INDEX_KEY :
					       BTRFS_DIR_ITEM_KEY,
		.offset = d->src == DENT_REF ? d->dir :
			  d->src == DENT_INDEX ? d->index :
			  btrfs_name_hash(d->name, d->name_len),
	};

	if (d->src == DENT_ITEM && d->name_len >= sizeof(d->name))
		key.offset = 0;		/* name cut: hash unknown */
	report(st, code, d->child, &key,
	       "%s: dir %llu name '%s'%s index %llu inode %llu type %u", what,
	       (unsigned long long)d->dir, d->name,
	       d->name_len >= sizeof(d->name) ? "..." : "",
	       (unsigned long long)d->index, (unsigned long long)d->child,
	       d->type);
}

static void detail(struct fs_state *st, struct extent_buffer *root_eb)
{
	static const struct cw_ops ops = { .block = detail_leaf };
	struct dir_rec *d;
	size_t i, j, n = 0, pos = 0;

	while ((d = u64_map_next(&st->dirs, &pos)))
		if (d->fp_index != d->fp_index_ref ||
		    d->fp_item != d->fp_item_ref)
			n++;
	if (!n)
		return;
	st->bad_dirs = malloc(n * sizeof(u64));
	if (!st->bad_dirs) {
		check_fatal(st->ctx, "out of memory for %zu directories", n);
		return;
	}
	pos = 0;
	while ((d = u64_map_next(&st->dirs, &pos)))
		if (d->fp_index != d->fp_index_ref ||
		    d->fp_item != d->fp_item_ref)
			st->bad_dirs[st->nr_bad++] = d->ino;
	qsort(st->bad_dirs, st->nr_bad, sizeof(u64), u64_cmp);
	memset(&st->cur, 0, sizeof(st->cur));
	cw_walk(st->fs_info, root_eb, NULL, &ops, st, NULL);
	if (st->nr_dents > 1)
		qsort(st->dents, st->nr_dents, sizeof(*st->dents), dent_cmp);

	for (i = 0; i < st->nr_dents; i = j) {
		const struct dent *ref = NULL, *idx = NULL, *item = NULL;
		const struct dent *any = &st->dents[i];
		u32 nref = 0, nidx = 0, nitem = 0;

		for (j = i; j < st->nr_dents &&
			    st->dents[j].dir == any->dir &&
			    st->dents[j].name_fp == any->name_fp &&
			    st->dents[j].child == any->child; j++) {
			const struct dent *d = &st->dents[j];

			if (d->src == DENT_REF) {
				ref = d;
				nref++;
			} else if (d->src == DENT_INDEX) {
				idx = d;
				nidx++;
			} else {
				item = d;
				nitem++;
			}
		}
		if (nref > 1 || nidx > 1 || nitem > 1) {
			dent_report(st, any, CHECK_DIR_ITEM,
				    "name listed more than once");
			continue;
		}
		if (!ref) {
			dent_report(st, any, CHECK_INODE_REF,
				    "directory entry without inode ref");
			continue;
		}
		if (ref->type == 0 && (idx || item)) {
			dent_report(st, idx ? idx : item, CHECK_DIR_ITEM,
				    "directory entry for an inode without inode item or file type");
			continue;
		}
		if (!idx)
			dent_report(st, ref, CHECK_DIR_ITEM,
				    "DIR_INDEX missing for inode ref");
		else if (idx->index != ref->index)
			dent_report(st, idx, CHECK_DIR_ITEM,
				    "DIR_INDEX index differs from inode ref");
		else if (idx->type != ref->type)
			dent_report(st, idx, CHECK_DIR_ITEM,
				    "DIR_INDEX type differs from the inode's mode");
		if (!item)
			dent_report(st, ref, CHECK_DIR_ITEM,
				    "DIR_ITEM missing for inode ref");
		else if (item->type != ref->type)
			dent_report(st, item, CHECK_DIR_ITEM,
				    "DIR_ITEM type differs from the inode's mode");
	}
}

/* ------------------------------------------------------------------ */

static int collect_orphans(struct fs_state *st, struct extent_buffer *root_eb)
{
	struct btrfs_root root = {
		.node = root_eb,
		.fs_info = st->fs_info,
	};
	struct btrfs_key key = {
		.objectid = BTRFS_ORPHAN_OBJECTID,
		.type = BTRFS_ORPHAN_ITEM_KEY,
		.offset = 0,
	};
	struct btrfs_path *path = btrfs_alloc_path();
	int ret;

	if (!path)
		return -ENOMEM;
	ret = btrfs_search_slot_for_read(&root, &key, path);
	while (ret == 0) {
		btrfs_item_key_to_cpu(path->nodes[0], &key, path->slots[0]);
		if (key.objectid != BTRFS_ORPHAN_OBJECTID ||
		    key.type != BTRFS_ORPHAN_ITEM_KEY)
			break;
		if (array_reserve(st->orphans, st->orphans_cap, st->nr_orphans + 1, 16)) {
			ret = -ENOMEM;
			break;
		}
		st->orphans[st->nr_orphans++] = key.offset;
		ret = btrfs_next_item(&root, path);
	}
	btrfs_free_path(path);
	return ret < 0 ? ret : 0;
}

static void check_tree(struct fs_state *st, struct extent_buffer *root_eb)
{
	static const struct cw_ops ops = { .block = fs_leaf };

	collect_orphans(st, root_eb);
	memset(&st->cur, 0, sizeof(st->cur));
	cw_walk(st->fs_info, root_eb, NULL, &ops, st, &st->unreadable);
	end_inode(st);
	if (!st->seen_root_dir)
		report(st, CHECK_ROOT_DIR, st->root_dirid, NULL,
		       "root directory missing");
	if (st->alloc_failed) {
		check_fatal(st->ctx, "out of memory checking root %llu",
			    (unsigned long long)st->root_id);
		return;
	}
	detail(st, root_eb);
}

static bool is_fs_tree(u64 id)
{
	return id == BTRFS_FS_TREE_OBJECTID ||
	       id == BTRFS_DATA_RELOC_TREE_OBJECTID ||
	       (id >= BTRFS_FIRST_FREE_OBJECTID &&
		id <= BTRFS_LAST_FREE_OBJECTID);
}

static int fs_root_item(struct extent_buffer *leaf, int slot,
			const struct btrfs_key *key, void *arg)
{
	struct check_ctx *ctx = arg;
	struct btrfs_root_item *ri;
	struct extent_buffer *eb;
	struct cw_drop drop;
	struct fs_state st = {
		.ctx = ctx,
		.fs_info = ctx->fs_info,
		.root_id = key->objectid,
		.no_holes = btrfs_fs_incompat(ctx->fs_info,
					      BTRFS_FEATURE_INCOMPAT_NO_HOLES),
	};

	if (!is_fs_tree(key->objectid))
		return 0;
	ri = btrfs_item_ptr(leaf, slot, struct btrfs_root_item);
	eb = cw_read_root_item(ctx->fs_info, leaf, ri,
			       btrfs_item_size(leaf, slot), &drop);
	if (IS_ERR(eb))
		return 0;	/* pass 3 reports unreadable roots */
	if (drop.key.objectid != 0) {
		/* a snapshot being dropped: what is left is no fs tree */
		free_extent_buffer(eb);
		return 0;
	}
	st.root_dirid = btrfs_root_dirid(leaf, ri);
	u64_map_init(&st.dirs, sizeof(struct dir_rec));
	check_tree(&st, eb);
	free_extent_buffer(eb);
	u64_map_free(&st.dirs);
	free(st.orphans);
	free(st.bad_dirs);
	free(st.dents);
	return 0;
}

int check_pass_fs_trees(struct check_ctx *ctx)
{
	int ret;

	ret = cw_for_each_root_item(ctx->fs_info, fs_root_item, ctx);
	if (ret < 0) {
		check_fatal(ctx, "cannot read the root tree: %s",
			    strerror(-ret));
		return ret;
	}
	return 0;
}
