// SPDX-License-Identifier: GPL-2.0
/*
 * The text form of tree blocks: block headers, node pointers, keys and the
 * items of file trees and the root tree (inodes, refs, directory entries,
 * file extents, root items, checksums), plus following a node's children
 * depth-first or breadth-first.  The space and device items are printed by
 * print-tree-items.c through btrfs_print_meta_item().
 *
 * The output matches btrfs-progs 6.2 `dump-tree` byte for byte, quirks
 * included: names are printed as "%.*s" would (cut at a NUL byte), a root
 * item prints its v2 fields only when generation_v2 equals generation, and a
 * field of an item too short for its struct is read from the bytes that
 * follow it in the leaf.  Nothing is ever read outside the extent buffer:
 * the accessors return 0 there and names are cut at the block's end.
 *
 * Output goes through a small buffer in struct pt_ctx with our own integer
 * formatting: a large filesystem prints hundreds of MB and printf() parsing
 * would dominate.  Every public entry point flushes the buffer to the FILE
 * before it returns and before it reports a problem to the caller.
 *
 * Nothing here writes to stderr: what 6.2 complains about while printing
 * (bad leaves, unreadable children) goes to the caller's problem sink as a
 * struct btrfs_print_problem, and the frontend words it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Before format.h: its BTRFS_CSUM_TYPE_* macros would rename the enum. */
#include "common/csum.h"

#include "kernel-shared/disk-io.h"
#include "kernel-shared/print-tree-internal.h"
#include "kernel-shared/volumes.h"

#define PT_BUF_SIZE 16384

/* State of one printing call: options, output buffer, time cache. */
struct pt_ctx {
	const struct btrfs_print_opts *opts;
	FILE *f;
	char *buf;
	size_t len;
	size_t cap;
	bool have_time;		/* time_str holds the date of time_sec */
	u64 time_sec;
	size_t time_len;
	char time_str[64];
};

static void pt_init(struct pt_ctx *c, const struct btrfs_print_opts *opts,
		    FILE *f, char *buf, size_t cap)
{
	memset(c, 0, sizeof(*c));
	c->opts = opts;
	c->f = f;
	c->buf = buf;
	c->cap = cap;
}

static void pt_flush(struct pt_ctx *c)
{
	if (c->len)
		fwrite(c->buf, 1, c->len, c->f);
	c->len = 0;
}

static void pt_mem_slow(struct pt_ctx *c, const void *p, size_t n)
{
	pt_flush(c);
	if (n > c->cap) {
		fwrite(p, 1, n, c->f);
		return;
	}
	memcpy(c->buf, p, n);
	c->len = n;
}

/* Inlined so that copies of literals become a few moves. */
static inline __attribute__((__always_inline__)) void
pt_mem(struct pt_ctx *c, const void *p, size_t n)
{
	if (__builtin_expect(n > c->cap - c->len, 0)) {
		pt_mem_slow(c, p, n);
		return;
	}
	memcpy(c->buf + c->len, p, n);
	c->len += n;
}

#define PT_LIT(c, lit) pt_mem((c), (lit), sizeof(lit) - 1)

/* A literal label followed by a decimal value. */
#define PT_LU(c, lit, v) (PT_LIT((c), (lit)), pt_u64((c), (v)))

static void pt_str(struct pt_ctx *c, const char *s)
{
	pt_mem(c, s, strlen(s));
}

static void pt_chr(struct pt_ctx *c, char ch)
{
	if (c->len == c->cap)
		pt_flush(c);
	c->buf[c->len++] = ch;
}

static void pt_u64(struct pt_ctx *c, u64 v)
{
	char tmp[20];
	char *p = tmp + sizeof(tmp);
	char *dst;

	do {
		*--p = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	if (c->cap - c->len < sizeof(tmp))
		pt_flush(c);
	/* At most 20 digits: a byte loop beats a memcpy() call. */
	dst = c->buf + c->len;
	c->len += (size_t)(tmp + sizeof(tmp) - p);
	while (p < tmp + sizeof(tmp))
		*dst++ = *p++;
}

/* Digits of @v in base 8 or 16, lower case, no prefix. */
static void pt_base(struct pt_ctx *c, u64 v, unsigned int shift)
{
	static const char digits[] = "0123456789abcdef";
	const u64 mask = (1ULL << shift) - 1;
	char tmp[24];
	char *p = tmp + sizeof(tmp);

	do {
		*--p = digits[v & mask];
		v >>= shift;
	} while (v);
	pt_mem(c, p, (size_t)(tmp + sizeof(tmp) - p));
}

/* "%02x" for each of @n bytes. */
static void pt_hex_bytes(struct pt_ctx *c, const u8 *p, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		pt_chr(c, digits[p[i] >> 4]);
		pt_chr(c, digits[p[i] & 15]);
	}
}

/* "0x%016llx" */
static void pt_hex16(struct pt_ctx *c, u64 v)
{
	u8 be[8];
	int i;

	for (i = 0; i < 8; i++)
		be[i] = (u8)(v >> (56 - 8 * i));
	PT_LIT(c, "0x");
	pt_hex_bytes(c, be, sizeof(be));
}

/* Write everything buffered so far, then hand @p to the caller's sink. */
static void pt_problem(struct pt_ctx *c, const struct btrfs_print_problem *p)
{
	pt_flush(c);
	if (c->opts->problem)
		c->opts->problem(c->opts->problem_arg, p);
}

/* ------------------------------------------------------------------ */
/* Names of objects and key types. */

static const char * const tree_names[] = {
	[BTRFS_ROOT_TREE_OBJECTID] = "ROOT_TREE",
	[BTRFS_EXTENT_TREE_OBJECTID] = "EXTENT_TREE",
	[BTRFS_CHUNK_TREE_OBJECTID] = "CHUNK_TREE",
	[BTRFS_DEV_TREE_OBJECTID] = "DEV_TREE",
	[BTRFS_FS_TREE_OBJECTID] = "FS_TREE",
	[BTRFS_ROOT_TREE_DIR_OBJECTID] = "ROOT_TREE_DIR",
	[BTRFS_CSUM_TREE_OBJECTID] = "CSUM_TREE",
	[BTRFS_QUOTA_TREE_OBJECTID] = "QUOTA_TREE",
	[BTRFS_UUID_TREE_OBJECTID] = "UUID_TREE",
	[BTRFS_FREE_SPACE_TREE_OBJECTID] = "FREE_SPACE_TREE",
	[BTRFS_BLOCK_GROUP_TREE_OBJECTID] = "BLOCK_GROUP_TREE",
};

/* Special objects at the top of the id space, indexed by -objectid. */
static const char * const special_names[] = {
	[(size_t)-(u64)-1] = "-1",
	[(size_t)-BTRFS_BALANCE_OBJECTID] = "BALANCE",
	[(size_t)-BTRFS_ORPHAN_OBJECTID] = "ORPHAN",
	[(size_t)-BTRFS_TREE_LOG_OBJECTID] = "TREE_LOG",
	[(size_t)-BTRFS_TREE_LOG_FIXUP_OBJECTID] = "LOG_FIXUP",
	[(size_t)-BTRFS_TREE_RELOC_OBJECTID] = "TREE_RELOC",
	[(size_t)-BTRFS_DATA_RELOC_TREE_OBJECTID] = "DATA_RELOC_TREE",
	[(size_t)-BTRFS_EXTENT_CSUM_OBJECTID] = "EXTENT_CSUM",
	[(size_t)-BTRFS_FREE_SPACE_OBJECTID] = "FREE_SPACE",
	[(size_t)-BTRFS_FREE_INO_OBJECTID] = "FREE_INO",
	[(size_t)-BTRFS_MULTIPLE_OBJECTIDS] = "MULTIPLE",
};

static const char * const key_type_names[256] = {
	[BTRFS_INODE_ITEM_KEY] = "INODE_ITEM",
	[BTRFS_INODE_REF_KEY] = "INODE_REF",
	[BTRFS_INODE_EXTREF_KEY] = "INODE_EXTREF",
	[BTRFS_XATTR_ITEM_KEY] = "XATTR_ITEM",
	[BTRFS_VERITY_DESC_ITEM_KEY] = "VERITY_DESC_ITEM",
	[BTRFS_VERITY_MERKLE_ITEM_KEY] = "VERITY_MERKLE_ITEM",
	[BTRFS_ORPHAN_ITEM_KEY] = "ORPHAN_ITEM",
	[BTRFS_DIR_LOG_ITEM_KEY] = "DIR_LOG_ITEM",
	[BTRFS_DIR_LOG_INDEX_KEY] = "DIR_LOG_INDEX",
	[BTRFS_DIR_ITEM_KEY] = "DIR_ITEM",
	[BTRFS_DIR_INDEX_KEY] = "DIR_INDEX",
	[BTRFS_EXTENT_DATA_KEY] = "EXTENT_DATA",
	[BTRFS_CSUM_ITEM_KEY] = "CSUM_ITEM",
	[BTRFS_EXTENT_CSUM_KEY] = "EXTENT_CSUM",
	[BTRFS_ROOT_ITEM_KEY] = "ROOT_ITEM",
	[BTRFS_ROOT_BACKREF_KEY] = "ROOT_BACKREF",
	[BTRFS_ROOT_REF_KEY] = "ROOT_REF",
	[BTRFS_EXTENT_ITEM_KEY] = "EXTENT_ITEM",
	[BTRFS_METADATA_ITEM_KEY] = "METADATA_ITEM",
	[BTRFS_TREE_BLOCK_REF_KEY] = "TREE_BLOCK_REF",
	[BTRFS_EXTENT_DATA_REF_KEY] = "EXTENT_DATA_REF",
	[BTRFS_EXTENT_REF_V0_KEY] = "EXTENT_REF_V0",
	[BTRFS_SHARED_BLOCK_REF_KEY] = "SHARED_BLOCK_REF",
	[BTRFS_SHARED_DATA_REF_KEY] = "SHARED_DATA_REF",
	[BTRFS_BLOCK_GROUP_ITEM_KEY] = "BLOCK_GROUP_ITEM",
	[BTRFS_FREE_SPACE_INFO_KEY] = "FREE_SPACE_INFO",
	[BTRFS_FREE_SPACE_EXTENT_KEY] = "FREE_SPACE_EXTENT",
	[BTRFS_FREE_SPACE_BITMAP_KEY] = "FREE_SPACE_BITMAP",
	[BTRFS_DEV_EXTENT_KEY] = "DEV_EXTENT",
	[BTRFS_DEV_ITEM_KEY] = "DEV_ITEM",
	[BTRFS_CHUNK_ITEM_KEY] = "CHUNK_ITEM",
	[BTRFS_QGROUP_STATUS_KEY] = "QGROUP_STATUS",
	[BTRFS_QGROUP_INFO_KEY] = "QGROUP_INFO",
	[BTRFS_QGROUP_LIMIT_KEY] = "QGROUP_LIMIT",
	[BTRFS_QGROUP_RELATION_KEY] = "QGROUP_RELATION",
	/* 6.2 names 248 and 249 by their generic use, whatever the objectid. */
	[BTRFS_TEMPORARY_ITEM_KEY] = "TEMPORARY_ITEM",
	[BTRFS_PERSISTENT_ITEM_KEY] = "PERSISTENT_ITEM",
	[BTRFS_DEV_REPLACE_KEY] = "DEV_REPLACE",
	[BTRFS_UUID_KEY_SUBVOL] = "UUID_KEY_SUBVOL",
	[BTRFS_UUID_KEY_RECEIVED_SUBVOL] = "UUID_KEY_RECEIVED_SUBVOL",
	[BTRFS_STRING_ITEM_KEY] = "STRING_ITEM",
};

/* A qgroup id as "level/subvolid". */
static void pt_qgroup(struct pt_ctx *c, u64 id)
{
	pt_u64(c, id >> BTRFS_QGROUP_LEVEL_SHIFT);
	pt_chr(c, '/');
	pt_u64(c, id & ((1ULL << BTRFS_QGROUP_LEVEL_SHIFT) - 1));
}

/* The name of a tree or special object, NULL for a plain number. */
static const char *objectid_name(u64 objectid)
{
	u64 neg = 0 - objectid;

	if (objectid < ARRAY_SIZE(tree_names))
		return tree_names[objectid];
	if (neg < ARRAY_SIZE(special_names))
		return special_names[neg];
	return NULL;
}

/* Key types whose objectid is never a tree name. */
static bool pt_objectid_special(struct pt_ctx *c, u64 objectid, u8 type)
{
	switch (type) {
	case BTRFS_PERSISTENT_ITEM_KEY:
		if (objectid == BTRFS_DEV_STATS_OBJECTID)
			PT_LIT(c, "DEV_STATS");
		else
			pt_u64(c, objectid);
		return true;
	case BTRFS_DEV_EXTENT_KEY:
		pt_u64(c, objectid);
		return true;
	case BTRFS_QGROUP_RELATION_KEY:
		pt_qgroup(c, objectid);
		return true;
	case BTRFS_UUID_KEY_SUBVOL:
	case BTRFS_UUID_KEY_RECEIVED_SUBVOL:
		pt_hex16(c, objectid);
		return true;
	}
	return false;
}

static void pt_objectid(struct pt_ctx *c, u64 objectid, u8 type)
{
	const char *name;

	if (pt_objectid_special(c, objectid, type))
		return;
	if (objectid == BTRFS_DEV_ITEMS_OBJECTID && type == BTRFS_DEV_ITEM_KEY)
		name = "DEV_ITEMS";
	else if (objectid == BTRFS_FIRST_CHUNK_TREE_OBJECTID &&
		 type == BTRFS_CHUNK_ITEM_KEY)
		name = "FIRST_CHUNK_TREE";
	else
		name = objectid_name(objectid);
	if (name)
		pt_str(c, name);
	else
		pt_u64(c, objectid);
}

static void pt_key_type(struct pt_ctx *c, u64 objectid, u8 type)
{
	if (type == 0 && objectid == BTRFS_FREE_SPACE_OBJECTID) {
		PT_LIT(c, "UNTYPED");
		return;
	}
	if (key_type_names[type]) {
		pt_str(c, key_type_names[type]);
		return;
	}
	PT_LU(c, "UNKNOWN.", type);
}

static void pt_key_offset(struct pt_ctx *c, u64 objectid, u8 type, u64 offset)
{
	switch (type) {
	case BTRFS_QGROUP_RELATION_KEY:
	case BTRFS_QGROUP_INFO_KEY:
	case BTRFS_QGROUP_LIMIT_KEY:
		pt_qgroup(c, offset);
		return;
	case BTRFS_UUID_KEY_SUBVOL:
	case BTRFS_UUID_KEY_RECEIVED_SUBVOL:
		pt_hex16(c, offset);
		return;
	case BTRFS_ROOT_ITEM_KEY:
		/* A reloc tree's offset is the id of the tree it relocates. */
		if (objectid == BTRFS_TREE_RELOC_OBJECTID)
			pt_objectid(c, offset, type);
		else
			pt_u64(c, offset);
		return;
	}
	if (offset == (u64)-1)
		PT_LIT(c, "-1");
	else
		pt_u64(c, offset);
}

static void pt_cpu_key(struct pt_ctx *c, u64 objectid, u8 type, u64 offset)
{
	PT_LIT(c, "key (");
	pt_objectid(c, objectid, type);
	pt_chr(c, ' ');
	pt_key_type(c, objectid, type);
	pt_chr(c, ' ');
	pt_key_offset(c, objectid, type, offset);
	pt_chr(c, ')');
}

/* A disk key in plain memory. */
static void pt_disk_key(struct pt_ctx *c, const struct btrfs_disk_key *key)
{
	pt_cpu_key(c, btrfs_stack_disk_key_objectid(key),
		   btrfs_stack_disk_key_type(key),
		   btrfs_stack_disk_key_offset(key));
}

/* A disk key inside @eb; fields outside the block read as 0. */
static void pt_eb_key(struct pt_ctx *c, const struct extent_buffer *eb,
		      const struct btrfs_disk_key *key)
{
	pt_cpu_key(c, btrfs_disk_key_objectid(eb, key),
		   btrfs_disk_key_type(eb, key),
		   btrfs_disk_key_offset(eb, key));
}

/* ------------------------------------------------------------------ */
/* Flags, uuids, times, names. */

void btrfs_flags_to_str(u64 flags, const struct btrfs_flag_name *names,
			int nr_names, const char *none_word, char *buf,
			size_t size)
{
	size_t len = 0;
	u64 left = flags;
	int i;

	if (!size)
		return;
	buf[0] = '\0';
	if (!flags && none_word) {
		snprintf(buf, size, "%s", none_word);
		return;
	}
	for (i = 0; i < nr_names; i++) {
		if (!(flags & names[i].flag))
			continue;
		left &= ~names[i].flag;
		len += (size_t)snprintf(buf + min_t(size_t, len, size - 1),
					size - min_t(size_t, len, size - 1),
					"%s%s", len ? "|" : "", names[i].name);
	}
	if (left)
		snprintf(buf + min_t(size_t, len, size - 1),
			 size - min_t(size_t, len, size - 1), "%s0x%llx",
			 len ? "|" : "", (unsigned long long)left);
}

static void pt_uuid(struct pt_ctx *c, const u8 *uuid)
{
	pt_hex_bytes(c, uuid, 4);
	pt_chr(c, '-');
	pt_hex_bytes(c, uuid + 4, 2);
	pt_chr(c, '-');
	pt_hex_bytes(c, uuid + 6, 2);
	pt_chr(c, '-');
	pt_hex_bytes(c, uuid + 8, 2);
	pt_chr(c, '-');
	pt_hex_bytes(c, uuid + 10, 6);
}

/* "%Y-%m-%d %H:%M:%S" in local time; the last one is remembered. */
static void pt_date(struct pt_ctx *c, u64 sec)
{
	time_t t = (time_t)sec;
	struct tm tm;

	if (!c->have_time || c->time_sec != sec) {
		/*
		 * Out of range, localtime_r() fails after filling some
		 * fields; 6.2 then shows a day of 01-01 from its stack.
		 */
		memset(&tm, 0, sizeof(tm));
		tm.tm_mday = 1;
		localtime_r(&t, &tm);
		c->time_len = strftime(c->time_str, sizeof(c->time_str),
				       "%Y-%m-%d %H:%M:%S", &tm);
		c->time_sec = sec;
		c->have_time = true;
	}
	pt_mem(c, c->time_str, c->time_len);
}

/* "<prefix>sec.nsec (date)" without a newline. */
static void pt_timespec(struct pt_ctx *c, const char *prefix,
			const struct extent_buffer *eb,
			const struct btrfs_timespec *ts)
{
	u64 sec = btrfs_timespec_sec(eb, ts);

	pt_str(c, prefix);
	pt_u64(c, sec);
	pt_chr(c, '.');
	pt_u64(c, btrfs_timespec_nsec(eb, ts));
	PT_LIT(c, " (");
	pt_date(c, sec);
	pt_chr(c, ')');
}

/*
 * Up to @len bytes of a name at @p as "%.*s" prints them: cut at the first
 * NUL byte, and here also at the end of the block.
 */
static void pt_name(struct pt_ctx *c, const struct extent_buffer *eb,
		    const u8 *p, size_t len)
{
	const u8 *end = eb->data + eb->len;
	const u8 *nul;

	if (p < eb->data || p >= end)
		return;
	len = min_t(size_t, len, (size_t)(end - p));
	nul = memchr(p, 0, len);
	if (nul)
		len = (size_t)(nul - p);
	pt_mem(c, p, len);
}

/* ------------------------------------------------------------------ */
/* Items of file trees and the root tree. */

/* What an item printer gets; @ptr is inside the leaf, @size is unchecked. */
struct pt_item {
	const struct extent_buffer *eb;
	int slot;
	struct btrfs_key key;
	const u8 *ptr;
	u32 size;
};

/* The reference copies names into a BTRFS_NAME_LEN buffer. */
#define PT_NAME_MAX BTRFS_NAME_LEN

static bool pt_hide_names(const struct pt_ctx *c)
{
	return (c->opts->flags & BTRFS_PRINT_HIDE_NAMES) != 0;
}

static const struct btrfs_flag_name inode_flag_names[] = {
	{ BTRFS_INODE_NODATASUM, "NODATASUM" },
	{ BTRFS_INODE_NODATACOW, "NODATACOW" },
	{ BTRFS_INODE_READONLY, "READONLY" },
	{ BTRFS_INODE_NOCOMPRESS, "NOCOMPRESS" },
	{ BTRFS_INODE_PREALLOC, "PREALLOC" },
	{ BTRFS_INODE_SYNC, "SYNC" },
	{ BTRFS_INODE_IMMUTABLE, "IMMUTABLE" },
	{ BTRFS_INODE_APPEND, "APPEND" },
	{ BTRFS_INODE_NODUMP, "NODUMP" },
	{ BTRFS_INODE_NOATIME, "NOATIME" },
	{ BTRFS_INODE_DIRSYNC, "DIRSYNC" },
	{ BTRFS_INODE_COMPRESS, "COMPRESS" },
};

/* Names of the known bits joined by '|', "none" when none is set. */
static void pt_known_flags(struct pt_ctx *c, u64 flags,
			   const struct btrfs_flag_name *names, int nr)
{
	bool first = true;
	int i;

	for (i = 0; i < nr; i++) {
		if (!(flags & names[i].flag))
			continue;
		if (!first)
			pt_chr(c, '|');
		pt_str(c, names[i].name);
		first = false;
	}
	if (first)
		PT_LIT(c, "none");
}

/* Where the times of an item are and how each line starts. */
struct pt_time_field {
	const char *prefix;
	size_t offset;
};

static const struct pt_time_field inode_times[] = {
	{ "\t\tatime ", offsetof(struct btrfs_inode_item, atime) },
	{ "\t\tctime ", offsetof(struct btrfs_inode_item, ctime) },
	{ "\t\tmtime ", offsetof(struct btrfs_inode_item, mtime) },
	{ "\t\totime ", offsetof(struct btrfs_inode_item, otime) },
};

static const struct pt_time_field root_times[] = {
	{ "\t\tctime ", offsetof(struct btrfs_root_item, ctime) },
	{ "\t\totime ", offsetof(struct btrfs_root_item, otime) },
	{ "\t\tstime ", offsetof(struct btrfs_root_item, stime) },
	{ "\t\trtime ", offsetof(struct btrfs_root_item, rtime) },
};

/* The four time lines of the item at @base (times read from the leaf). */
static void pt_times(struct pt_ctx *c, const struct extent_buffer *eb,
		     const u8 *base, const struct pt_time_field *fields)
{
	int i;

	for (i = 0; i < 4; i++) {
		pt_timespec(c, fields[i].prefix, eb,
			    (const void *)(base + fields[i].offset));
		pt_chr(c, '\n');
	}
}

static void print_inode_item(struct pt_ctx *c, const struct pt_item *it)
{
	const struct extent_buffer *eb = it->eb;
	const struct btrfs_inode_item *ii = (const void *)it->ptr;
	u64 flags = btrfs_inode_flags(eb, ii);

	PT_LU(c, "\t\tgeneration ", btrfs_inode_generation(eb, ii));
	PT_LU(c, " transid ", btrfs_inode_transid(eb, ii));
	PT_LU(c, " size ", btrfs_inode_size(eb, ii));
	PT_LU(c, " nbytes ", btrfs_inode_nbytes(eb, ii));
	PT_LU(c, "\n\t\tblock group ", btrfs_inode_block_group(eb, ii));
	PT_LIT(c, " mode ");
	pt_base(c, btrfs_inode_mode(eb, ii), 3);
	PT_LU(c, " links ", btrfs_inode_nlink(eb, ii));
	PT_LU(c, " uid ", btrfs_inode_uid(eb, ii));
	PT_LU(c, " gid ", btrfs_inode_gid(eb, ii));
	PT_LU(c, " rdev ", btrfs_inode_rdev(eb, ii));
	PT_LU(c, "\n\t\tsequence ", btrfs_inode_sequence(eb, ii));
	PT_LIT(c, " flags 0x");
	pt_base(c, flags, 4);
	pt_chr(c, '(');
	pt_known_flags(c, flags, inode_flag_names,
		       (int)ARRAY_SIZE(inode_flag_names));
	PT_LIT(c, ")\n");
	pt_times(c, eb, it->ptr, inode_times);
}

/* "name: <name>\n" or "name: HIDDEN\n" for refs. */
static void pt_ref_name(struct pt_ctx *c, const struct extent_buffer *eb,
			const u8 *name, u32 name_len)
{
	PT_LIT(c, "name: ");
	if (pt_hide_names(c))
		PT_LIT(c, "HIDDEN");
	else
		pt_name(c, eb, name, min_t(u32, name_len, PT_NAME_MAX));
	pt_chr(c, '\n');
}

static void print_inode_ref(struct pt_ctx *c, const struct pt_item *it)
{
	const struct extent_buffer *eb = it->eb;
	u32 cur = 0;

	while (cur < it->size) {
		const struct btrfs_inode_ref *ref = (const void *)(it->ptr + cur);
		u32 name_len = btrfs_inode_ref_name_len(eb, ref);

		PT_LU(c, "\t\tindex ", btrfs_inode_ref_index(eb, ref));
		PT_LU(c, " namelen ", name_len);
		pt_chr(c, ' ');
		pt_ref_name(c, eb, (const u8 *)(ref + 1), name_len);
		cur += (u32)sizeof(*ref) + name_len;
	}
}

static void print_inode_extref(struct pt_ctx *c, const struct pt_item *it)
{
	const struct extent_buffer *eb = it->eb;
	u32 cur = 0;

	while (cur < it->size) {
		const struct btrfs_inode_extref *ref =
			(const void *)(it->ptr + cur);
		u32 name_len = btrfs_inode_extref_name_len(eb, ref);

		PT_LU(c, "\t\tindex ", btrfs_inode_extref_index(eb, ref));
		PT_LU(c, " parent ", btrfs_inode_extref_parent(eb, ref));
		PT_LU(c, " namelen ", name_len);
		pt_chr(c, ' ');
		pt_ref_name(c, eb, (const u8 *)(ref + 1), name_len);
		cur += (u32)sizeof(*ref) + name_len;
	}
}

static const char * const dir_type_names[] = {
	[BTRFS_FT_REG_FILE] = "FILE",
	[BTRFS_FT_DIR] = "DIR",
	[BTRFS_FT_CHRDEV] = "CHRDEV",
	[BTRFS_FT_BLKDEV] = "BLKDEV",
	[BTRFS_FT_FIFO] = "FIFO",
	[BTRFS_FT_SOCK] = "SOCK",
	[BTRFS_FT_SYMLINK] = "SYMLINK",
	[BTRFS_FT_XATTR] = "XATTR",
};

/* The whole type byte, encryption bit included, as 6.2 prints it. */
static void pt_dir_type(struct pt_ctx *c, u8 type)
{
	if (type < ARRAY_SIZE(dir_type_names) && dir_type_names[type]) {
		pt_str(c, dir_type_names[type]);
		return;
	}
	PT_LU(c, "DIR_ITEM.", type);
}

/* One entry of a dir item; returns its length in the item. */
static u32 print_dir_entry(struct pt_ctx *c, const struct extent_buffer *eb,
			   const struct btrfs_dir_item *di)
{
	u32 name_len = btrfs_dir_name_len(eb, di);
	u32 data_len = btrfs_dir_data_len(eb, di);
	const u8 *name = (const u8 *)(di + 1);

	PT_LIT(c, "\t\tlocation ");
	pt_eb_key(c, eb, &di->location);
	PT_LIT(c, " type ");
	pt_dir_type(c, btrfs_dir_flags(eb, di));
	PT_LU(c, "\n\t\ttransid ", btrfs_dir_transid(eb, di));
	PT_LU(c, " data_len ", data_len);
	PT_LU(c, " name_len ", name_len);
	PT_LIT(c, "\n\t\t");
	pt_ref_name(c, eb, name, name_len);
	if (data_len) {
		PT_LIT(c, "\t\tdata ");
		if (pt_hide_names(c))
			PT_LIT(c, "HIDDEN");
		else
			pt_name(c, eb, name + name_len,
				min_t(u32, data_len, PT_NAME_MAX));
		pt_chr(c, '\n');
	}
	return (u32)sizeof(*di) + name_len + data_len;
}

static void print_dir_item(struct pt_ctx *c, const struct pt_item *it)
{
	u32 cur = 0;

	while (cur < it->size)
		cur += print_dir_entry(c, it->eb, (const void *)(it->ptr + cur));
}

static void print_dir_log(struct pt_ctx *c, const struct pt_item *it)
{
	PT_LU(c, "\t\tdir log end ", btrfs_dir_log_end(it->eb, (const void *)it->ptr));
	pt_chr(c, '\n');
}

static void print_orphan(struct pt_ctx *c, const struct pt_item *it)
{
	(void)it;
	PT_LIT(c, "\t\torphan item\n");
}

static void print_csum_item(struct pt_ctx *c, const struct pt_item *it)
{
	(void)it;
	PT_LIT(c, "\t\tcsum item\n");
}

static void print_string_item(struct pt_ctx *c, const struct pt_item *it)
{
	PT_LIT(c, "\t\titem data ");
	pt_name(c, it->eb, it->ptr, it->size);
	pt_chr(c, '\n');
}

static void print_root_ref(struct pt_ctx *c, const struct pt_item *it)
{
	const struct btrfs_root_ref *ref = (const void *)it->ptr;
	const struct extent_buffer *eb = it->eb;

	PT_LIT(c, "\t\troot ");
	if (it->key.type == BTRFS_ROOT_REF_KEY)
		PT_LIT(c, "ref");
	else
		PT_LIT(c, "backref");
	PT_LU(c, " key dirid ", btrfs_root_ref_dirid(eb, ref));
	PT_LU(c, " sequence ", btrfs_root_ref_sequence(eb, ref));
	PT_LIT(c, " name ");
	pt_name(c, eb, (const u8 *)(ref + 1), btrfs_root_ref_name_len(eb, ref));
	pt_chr(c, '\n');
}

static const char *file_extent_type_str(u8 type)
{
	switch (type) {
	case BTRFS_FILE_EXTENT_INLINE:
		return "inline";
	case BTRFS_FILE_EXTENT_REG:
		return "regular";
	case BTRFS_FILE_EXTENT_PREALLOC:
		return "prealloc";
	}
	return "unknown";
}

static const char * const compression_names[] = {
	[BTRFS_COMPRESS_NONE] = "none",
	[BTRFS_COMPRESS_ZLIB] = "zlib",
	[BTRFS_COMPRESS_LZO] = "lzo",
	[BTRFS_COMPRESS_ZSTD] = "zstd",
};

/* "N (name)" for a compression type. */
static void pt_compression(struct pt_ctx *c, u8 type)
{
	pt_u64(c, type);
	PT_LIT(c, " (");
	if (type < ARRAY_SIZE(compression_names)) {
		pt_str(c, compression_names[type]);
	} else {
		PT_LU(c, "UNKNOWN.", type);
	}
	pt_chr(c, ')');
}

/* "<what> disk byte B nr N\n<what> offset O nr N" */
static void pt_extent_ranges(struct pt_ctx *c, const struct extent_buffer *eb,
			     const struct btrfs_file_extent_item *fi,
			     const char *what)
{
	PT_LIT(c, "\t\t");
	pt_str(c, what);
	PT_LU(c, " disk byte ", btrfs_file_extent_disk_bytenr(eb, fi));
	PT_LU(c, " nr ", btrfs_file_extent_disk_num_bytes(eb, fi));
	PT_LIT(c, "\n\t\t");
	pt_str(c, what);
	PT_LU(c, " offset ", btrfs_file_extent_offset(eb, fi));
	PT_LU(c, " nr ", btrfs_file_extent_num_bytes(eb, fi));
}

static void print_file_extent(struct pt_ctx *c, const struct pt_item *it)
{
	const struct extent_buffer *eb = it->eb;
	const struct btrfs_file_extent_item *fi = (const void *)it->ptr;
	u8 type = btrfs_file_extent_type(eb, fi);
	u8 compression = btrfs_file_extent_compression(eb, fi);

	PT_LU(c, "\t\tgeneration ", btrfs_file_extent_generation(eb, fi));
	PT_LU(c, " type ", type);
	PT_LIT(c, " (");
	pt_str(c, file_extent_type_str(type));
	PT_LIT(c, ")\n");
	if (type == BTRFS_FILE_EXTENT_INLINE) {
		PT_LU(c, "\t\tinline extent data size ",
		      (u32)(it->size - BTRFS_FILE_EXTENT_INLINE_DATA_START));
		PT_LU(c, " ram_bytes ", btrfs_file_extent_ram_bytes(eb, fi));
		PT_LIT(c, " compression ");
		pt_compression(c, compression);
		pt_chr(c, '\n');
		return;
	}
	if (type == BTRFS_FILE_EXTENT_PREALLOC) {
		pt_extent_ranges(c, eb, fi, "prealloc data");
		pt_chr(c, '\n');
		return;
	}
	pt_extent_ranges(c, eb, fi, "extent data");
	PT_LU(c, " ram ", btrfs_file_extent_ram_bytes(eb, fi));
	PT_LIT(c, "\n\t\textent compression ");
	pt_compression(c, compression);
	pt_chr(c, '\n');
}

/* One "[offset] 0xCSUM" per sector, 32 bytes of checksums per line. */
static void print_csum_values(struct pt_ctx *c, const u8 *csum, u64 offset,
			      u32 size, u32 csum_size, u32 sectorsize)
{
	const int per_line = max_t(int, 1, BTRFS_CSUM_SIZE / (int)csum_size / 2);
	int left = per_line;

	PT_LIT(c, "\t\t");
	while (size > 0) {
		if (left == 0) {
			left = per_line;
			PT_LIT(c, "\n\t\t");
		} else if (left != per_line) {
			pt_chr(c, ' ');
		}
		pt_chr(c, '[');
		pt_u64(c, offset);
		PT_LIT(c, "] 0x");
		pt_hex_bytes(c, csum, csum_size);
		csum += csum_size;
		offset += sectorsize;
		size -= min_t(u32, size, sectorsize);
		left--;
	}
	pt_chr(c, '\n');
}

static void print_extent_csum(struct pt_ctx *c, const struct pt_item *it)
{
	const struct btrfs_fs_info *fs_info = c->opts->fs_info;
	u32 csum_size = fs_info ? fs_info->csum_size : 0;
	u32 sectorsize = fs_info ? fs_info->sectorsize : 0;
	u64 start = it->key.offset;
	u32 size;

	PT_LU(c, "\t\trange start ", start);
	if (!csum_size || !sectorsize) {
		pt_chr(c, '\n');
		return;
	}
	size = (it->size / csum_size) * sectorsize;
	PT_LU(c, " end ", start + size);
	PT_LU(c, " length ", size);
	pt_chr(c, '\n');
	if (c->opts->flags & BTRFS_PRINT_CSUM_ITEMS)
		print_csum_values(c, it->ptr, start, size, csum_size,
				  sectorsize);
}

/*
 * Root item.  Like the reference, the item (however long or short) is
 * copied over a zeroed struct and the v2 part is printed only when
 * generation_v2 equals generation; the four times are read from the leaf.
 */
static void print_root_v2(struct pt_ctx *c, const struct btrfs_root_item *ri)
{
	PT_LIT(c, "\t\tuuid ");
	pt_uuid(c, ri->uuid);
	PT_LIT(c, "\n\t\tparent_uuid ");
	pt_uuid(c, ri->parent_uuid);
	PT_LIT(c, "\n\t\treceived_uuid ");
	pt_uuid(c, ri->received_uuid);
	PT_LU(c, "\n\t\tctransid ", btrfs_stack_root_ctransid(ri));
	PT_LU(c, " otransid ", btrfs_stack_root_otransid(ri));
	PT_LU(c, " stransid ", btrfs_stack_root_stransid(ri));
	PT_LU(c, " rtransid ", btrfs_stack_root_rtransid(ri));
	pt_chr(c, '\n');
}

static void print_root_v1(struct pt_ctx *c, const struct btrfs_root_item *ri)
{
	u64 flags = btrfs_stack_root_flags(ri);

	PT_LU(c, "\t\tgeneration ", btrfs_stack_root_generation(ri));
	PT_LU(c, " root_dirid ", btrfs_stack_root_dirid(ri));
	PT_LU(c, " bytenr ", btrfs_stack_root_bytenr(ri));
	PT_LU(c, " byte_limit ", btrfs_stack_root_byte_limit(ri));
	PT_LU(c, " bytes_used ", btrfs_stack_root_used(ri));
	PT_LU(c, "\n\t\tlast_snapshot ", btrfs_stack_root_last_snapshot(ri));
	PT_LIT(c, " flags 0x");
	pt_base(c, flags, 4);
	if (flags & BTRFS_ROOT_SUBVOL_RDONLY)
		PT_LIT(c, "(RDONLY) refs ");
	else
		PT_LIT(c, "(none) refs ");
	pt_u64(c, btrfs_stack_root_refs(ri));
	PT_LIT(c, "\n\t\tdrop_progress ");
	pt_disk_key(c, &ri->drop_progress);
	PT_LU(c, " drop_level ", btrfs_stack_root_drop_level(ri));
	PT_LU(c, "\n\t\tlevel ", btrfs_stack_root_level(ri));
	PT_LU(c, " generation_v2 ", btrfs_stack_root_generation_v2(ri));
	pt_chr(c, '\n');
}

static void print_root_item(struct pt_ctx *c, const struct pt_item *it)
{
	const u8 *end = it->eb->data + it->eb->len;
	struct btrfs_root_item ri;
	size_t len = min_t(size_t, it->size, sizeof(ri));

	memset(&ri, 0, sizeof(ri));
	if (it->ptr < end)
		memcpy(&ri, it->ptr, min_t(size_t, len, (size_t)(end - it->ptr)));
	print_root_v1(c, &ri);
	if (btrfs_stack_root_generation(&ri) !=
	    btrfs_stack_root_generation_v2(&ri))
		return;
	print_root_v2(c, &ri);
	pt_times(c, it->eb, it->ptr, root_times);
}

typedef void (*pt_item_fn)(struct pt_ctx *c, const struct pt_item *it);

/* Key types printed here; every other type goes to btrfs_print_meta_item. */
static const pt_item_fn item_printers[256] = {
	[BTRFS_INODE_ITEM_KEY] = print_inode_item,
	[BTRFS_INODE_REF_KEY] = print_inode_ref,
	[BTRFS_INODE_EXTREF_KEY] = print_inode_extref,
	[BTRFS_DIR_ITEM_KEY] = print_dir_item,
	[BTRFS_DIR_INDEX_KEY] = print_dir_item,
	[BTRFS_XATTR_ITEM_KEY] = print_dir_item,
	[BTRFS_DIR_LOG_ITEM_KEY] = print_dir_log,
	[BTRFS_DIR_LOG_INDEX_KEY] = print_dir_log,
	[BTRFS_ORPHAN_ITEM_KEY] = print_orphan,
	[BTRFS_ROOT_ITEM_KEY] = print_root_item,
	[BTRFS_ROOT_REF_KEY] = print_root_ref,
	[BTRFS_ROOT_BACKREF_KEY] = print_root_ref,
	[BTRFS_CSUM_ITEM_KEY] = print_csum_item,
	[BTRFS_EXTENT_CSUM_KEY] = print_extent_csum,
	[BTRFS_EXTENT_DATA_KEY] = print_file_extent,
	[BTRFS_STRING_ITEM_KEY] = print_string_item,
};

/* ------------------------------------------------------------------ */
/* Block headers. */

static u32 pt_leaf_data_size(const struct extent_buffer *eb)
{
	return eb->len > sizeof(struct btrfs_header) ?
		       btrfs_leaf_data_size(eb->len) : 0;
}

static u32 pt_node_ptrs(const struct extent_buffer *eb)
{
	return pt_leaf_data_size(eb) / (u32)sizeof(struct btrfs_key_ptr);
}

/* An item header slot that lies inside the block. */
static bool pt_slot_ok(const struct extent_buffer *eb, u32 slot)
{
	return slot < pt_leaf_data_size(eb) / (u32)sizeof(struct btrfs_item);
}

static u32 pt_item_offset(const struct extent_buffer *eb, u32 slot)
{
	return pt_slot_ok(eb, slot) ? btrfs_item_offset(eb, (int)slot) : 0;
}

static u32 pt_item_size(const struct extent_buffer *eb, u32 slot)
{
	return pt_slot_ok(eb, slot) ? btrfs_item_size(eb, (int)slot) : 0;
}

/* Free bytes in a leaf, computed (and complained about) as 6.2 does. */
static int pt_leaf_free_space(struct pt_ctx *c, const struct extent_buffer *eb)
{
	u32 nr = btrfs_header_nritems(eb);
	u32 data_size = pt_leaf_data_size(eb);
	int used = 0;
	int ret;

	if (nr) {
		used = (int)(pt_item_offset(eb, 0) + pt_item_size(eb, 0) -
			     pt_item_offset(eb, nr - 1) +
			     (u32)sizeof(struct btrfs_item) * nr);
		if (used < 0) {
			struct btrfs_print_problem p = {
				.kind = BTRFS_PRINT_LEAF_USED_NEGATIVE,
				.bytenr = btrfs_header_bytenr(eb),
			};

			pt_problem(c, &p);
		}
	}
	ret = (int)(data_size - (u32)used);
	if (ret < 0) {
		struct btrfs_print_problem p = {
			.kind = BTRFS_PRINT_LEAF_OVERFULL,
			.bytenr = btrfs_header_bytenr(eb),
			.free_space = ret,
			.limit = data_size,
			.used = used,
			.nritems = nr,
		};

		pt_problem(c, &p);
	}
	return ret;
}

static void pt_header_flags(struct pt_ctx *c, u64 flags)
{
	if (flags & BTRFS_HEADER_FLAG_WRITTEN) {
		PT_LIT(c, "WRITTEN");
		if (flags & BTRFS_HEADER_FLAG_RELOC)
			PT_LIT(c, "|RELOC");
	} else if (flags & BTRFS_HEADER_FLAG_RELOC) {
		PT_LIT(c, "RELOC");
	}
}

/* The "leaf|node B flags ..." line, the uuids and the first line's end. */
static void pt_header_rest(struct pt_ctx *c, const struct extent_buffer *eb)
{
	const struct btrfs_fs_info *fs_info = c->opts->fs_info;
	u64 flags = btrfs_header_flags(eb);

	pt_objectid(c, btrfs_header_owner(eb), 0);
	pt_chr(c, '\n');
	if (btrfs_header_level(eb))
		PT_LIT(c, "node ");
	else
		PT_LIT(c, "leaf ");
	pt_u64(c, btrfs_header_bytenr(eb));
	PT_LIT(c, " flags 0x");
	pt_base(c, flags & ~BTRFS_BACKREF_REV_MASK, 4);
	pt_chr(c, '(');
	pt_header_flags(c, flags);
	PT_LU(c, ") backref revision ", flags >> BTRFS_BACKREF_REV_SHIFT);
	if (fs_info && (c->opts->flags & BTRFS_PRINT_CSUM_HEADERS)) {
		PT_LIT(c, " csum 0x");
		pt_hex_bytes(c, btrfs_header_csum(eb),
			     min_t(u32, fs_info->csum_size, BTRFS_CSUM_SIZE));
	}
	PT_LIT(c, "\nfs uuid ");
	pt_uuid(c, btrfs_header_fsid(eb));
	PT_LIT(c, "\nchunk uuid ");
	pt_uuid(c, btrfs_header_chunk_tree_uuid(eb));
	pt_chr(c, '\n');
}

static void pt_leaf_header(struct pt_ctx *c, const struct extent_buffer *eb)
{
	int free_space = pt_leaf_free_space(c, eb);

	PT_LU(c, "leaf ", btrfs_header_bytenr(eb));
	PT_LU(c, " items ", btrfs_header_nritems(eb));
	PT_LIT(c, " free space ");
	if (free_space < 0)
		pt_chr(c, '-');
	pt_u64(c, free_space < 0 ? 0 - (u64)free_space : (u64)free_space);
	PT_LU(c, " generation ", btrfs_header_generation(eb));
	PT_LIT(c, " owner ");
	pt_header_rest(c, eb);
}

static void pt_node_header(struct pt_ctx *c, const struct extent_buffer *eb)
{
	u32 nr = btrfs_header_nritems(eb);

	PT_LU(c, "node ", eb->start);
	PT_LU(c, " level ", btrfs_header_level(eb));
	PT_LU(c, " items ", nr);
	PT_LU(c, " free space ", (u32)(pt_node_ptrs(eb) - nr));
	PT_LU(c, " generation ", btrfs_header_generation(eb));
	PT_LIT(c, " owner ");
	pt_header_rest(c, eb);
}

/* ------------------------------------------------------------------ */
/* Leaves. */

static void pt_item_line(struct pt_ctx *c, const struct pt_item *it, u32 off)
{
	PT_LU(c, "\titem ", (u32)it->slot);
	pt_chr(c, ' ');
	pt_cpu_key(c, it->key.objectid, it->key.type, it->key.offset);
	PT_LU(c, " itemoff ", off);
	PT_LU(c, " itemsize ", it->size);
	pt_chr(c, '\n');
}

static void pt_item_body(struct pt_ctx *c, const struct pt_item *it)
{
	pt_item_fn fn = item_printers[it->key.type];

	if (fn) {
		fn(c, it);
		return;
	}
	/* The other printer writes to the FILE directly. */
	pt_flush(c);
	btrfs_print_meta_item(c->opts, it->eb, it->slot, &it->key);
}

/*
 * Print item @slot; false when its data lies outside the leaf (reported to
 * the caller as 6.2 reports it, and the caller stops).
 */
static bool pt_leaf_item(struct pt_ctx *c, const struct extent_buffer *eb,
			 u32 slot)
{
	u32 limit = pt_leaf_data_size(eb);
	u32 off = pt_item_offset(eb, slot);
	struct pt_item it;

	it.size = pt_item_size(eb, slot);
	if (!pt_slot_ok(eb, slot) || off > limit ||
	    (u64)off + it.size > limit) {
		struct btrfs_print_problem p = {
			.kind = BTRFS_PRINT_ITEM_OUT_OF_LEAF,
			.bytenr = btrfs_header_bytenr(eb),
			.slot = (int)slot,
			.offset = off,
			.size = it.size,
			.limit = limit,
		};

		pt_problem(c, &p);
		return false;
	}
	it.eb = eb;
	it.slot = (int)slot;
	it.ptr = eb->data + sizeof(struct btrfs_header) + off;
	btrfs_item_key_to_cpu(eb, &it.key, (int)slot);
	pt_item_line(c, &it, off);
	pt_item_body(c, &it);
	return true;
}

static void pt_leaf(struct pt_ctx *c, const struct extent_buffer *eb)
{
	u32 nr = btrfs_header_nritems(eb);
	u32 i;

	pt_leaf_header(c, eb);
	for (i = 0; i < nr; i++) {
		if (!pt_leaf_item(c, eb, i))
			break;
	}
}

/* ------------------------------------------------------------------ */
/* Nodes and their children. */

static void pt_node(struct pt_ctx *c, const struct extent_buffer *eb)
{
	u32 nr = btrfs_header_nritems(eb);
	u32 max = pt_node_ptrs(eb);
	struct btrfs_disk_key key;
	u32 i;

	if (nr > max) {
		struct btrfs_print_problem p = {
			.kind = BTRFS_PRINT_NODE_NRITEMS,
			.bytenr = btrfs_header_bytenr(eb),
			.nritems = nr,
			.limit = max,
		};

		pt_problem(c, &p);
	}
	pt_node_header(c, eb);
	for (i = 0; i < nr && i < max; i++) {
		btrfs_node_key(eb, &key, (int)i);
		pt_chr(c, '\t');
		pt_disk_key(c, &key);
		PT_LU(c, " block ", btrfs_node_blockptr(eb, (int)i));
		PT_LU(c, " gen ", btrfs_node_ptr_generation(eb, (int)i));
		pt_chr(c, '\n');
	}
}

/*
 * Whether the checksum stored in a raw copy differs from the computed one;
 * if so, both go into @p (stored as wanted, computed as found).
 */
static bool pt_raw_csum_bad(const struct btrfs_fs_info *fs_info,
			    const u8 *raw, struct btrfs_print_problem *p)
{
	u32 size = min_t(u32, fs_info->csum_size, BTRFS_CSUM_SIZE);

	if (btrfs_csum_data(fs_info->csum_type, raw + BTRFS_CSUM_SIZE,
			    fs_info->nodesize - BTRFS_CSUM_SIZE,
			    p->csum_found) < 0)
		return false;
	if (!memcmp(p->csum_found, raw, size))
		return false;
	memcpy(p->csum_wanted, raw, size);
	p->csum_size = size;
	return true;
}

/* What 6.2's read path finds wrong with one copy of a tree block. */
static void pt_report_copy(struct pt_ctx *c, const u8 *raw, u64 bytenr,
			   u64 transid)
{
	const struct btrfs_fs_info *fs_info = c->opts->fs_info;
	const struct btrfs_header *h = (const void *)raw;
	struct btrfs_print_problem p = {
		.kind = BTRFS_PRINT_CHILD_CSUM,
		.bytenr = bytenr,
	};
	u64 gen = btrfs_stack_header_generation(h);

	if (pt_raw_csum_bad(fs_info, raw, &p)) {
		pt_problem(c, &p);
		return;
	}
	if (btrfs_stack_header_bytenr(h) != bytenr ||
	    memcmp(h->fsid, fs_info->metadata_uuid, BTRFS_FSID_SIZE))
		return;
	if (transid && gen != transid) {
		memset(&p, 0, sizeof(p));
		p.kind = BTRFS_PRINT_CHILD_TRANSID;
		p.bytenr = bytenr;
		p.wanted = transid;
		p.found = gen;
		pt_problem(c, &p);
	}
}

/*
 * A child failed to read: say what 6.2's read_tree_block says, copy by
 * copy (checksum and generation mismatches; an unmapped address).
 */
static void pt_report_read_error(struct pt_ctx *c, u64 bytenr, u64 transid)
{
	struct btrfs_fs_info *fs_info = c->opts->fs_info;
	int copies = btrfs_num_copies(fs_info, bytenr);
	u8 *raw;
	int m;

	if (copies <= 0) {
		struct btrfs_print_problem p = {
			.kind = BTRFS_PRINT_CHILD_UNMAPPED,
			.bytenr = bytenr,
			.size = fs_info->nodesize,
		};

		pt_problem(c, &p);
		return;
	}
	if (fs_info->nodesize < sizeof(struct btrfs_header))
		return;
	raw = malloc(fs_info->nodesize);
	if (!raw)
		return;
	for (m = 1; m <= copies; m++) {
		if (read_data_from_disk(fs_info, raw, bytenr, fs_info->nodesize,
					m) == 0)
			pt_report_copy(c, raw, bytenr, transid);
	}
	free(raw);
}

/* Read child @slot of @parent checking only its generation, as 6.2 does. */
static struct extent_buffer *pt_read_child(struct pt_ctx *c,
					   const struct extent_buffer *parent,
					   u32 slot)
{
	struct btrfs_tree_parent_check check = { .level = -1 };
	u64 bytenr = btrfs_node_blockptr(parent, (int)slot);
	struct extent_buffer *eb;

	check.transid = btrfs_node_ptr_generation(parent, (int)slot);
	eb = read_tree_block(c->opts->fs_info, bytenr, &check);
	if (IS_ERR_OR_NULL(eb)) {
		pt_report_read_error(c, bytenr, check.transid);
		return NULL;
	}
	return eb;
}

static void pt_block(struct pt_ctx *c, struct extent_buffer *eb, bool bfs,
		     bool follow);

/* Child @slot of @parent, read as @child, is not one level below it. */
static void pt_child_level(struct pt_ctx *c,
			   enum btrfs_print_problem_kind kind,
			   const struct extent_buffer *parent, u32 slot,
			   const struct extent_buffer *child)
{
	struct btrfs_print_problem p = {
		.kind = kind,
		.bytenr = btrfs_header_bytenr(parent),
		.slot = (int)slot,
		.level = btrfs_header_level(parent),
		.child = btrfs_header_bytenr(child),
		.child_level = btrfs_header_level(child),
	};

	pt_problem(c, &p);
}

/* Depth first: every child in order; a bad child is reported and skipped. */
static void pt_dfs_children(struct pt_ctx *c, const struct extent_buffer *eb)
{
	u32 nr = min_t(u32, btrfs_header_nritems(eb), pt_node_ptrs(eb));
	int level = btrfs_header_level(eb);
	struct extent_buffer *next;
	u32 i;

	for (i = 0; i < nr; i++) {
		next = pt_read_child(c, eb, i);
		if (!next) {
			struct btrfs_print_problem p = {
				.kind = BTRFS_PRINT_CHILD_UNREADABLE,
				.bytenr = btrfs_node_blockptr(eb, (int)i),
				.owner = btrfs_header_owner(eb),
			};

			pt_problem(c, &p);
			continue;
		}
		if (btrfs_header_level(next) != level - 1) {
			pt_child_level(c, BTRFS_PRINT_CHILD_LEVEL_SKIPPED, eb,
				       i, next);
			free_extent_buffer(next);
			continue;
		}
		pt_block(c, next, false, true);
		free_extent_buffer(next);
	}
}

/* The breadth-first cursor: one block and slot per level, as a path. */
struct pt_bfs {
	struct extent_buffer *nodes[BTRFS_MAX_LEVEL];
	u32 slots[BTRFS_MAX_LEVEL];
	int lowest;
};

/* 6.2's read_node_slot(): NULL past the last pointer or on any error. */
static struct extent_buffer *pt_node_slot(struct pt_ctx *c,
					  const struct extent_buffer *parent,
					  u32 slot)
{
	int level = btrfs_header_level(parent);
	struct extent_buffer *eb;

	if (level == 0 || slot >= btrfs_header_nritems(parent) ||
	    slot >= pt_node_ptrs(parent))
		return NULL;
	eb = pt_read_child(c, parent, slot);
	if (eb && btrfs_header_level(eb) != level - 1) {
		pt_child_level(c, BTRFS_PRINT_CHILD_LEVEL_STOPPED, parent, slot,
			       eb);
		free_extent_buffer(eb);
		return NULL;
	}
	return eb;
}

static void pt_bfs_release(struct pt_bfs *p, int below)
{
	int i;

	for (i = 0; i < below; i++) {
		free_extent_buffer(p->nodes[i]);
		p->nodes[i] = NULL;
		p->slots[i] = 0;
	}
}

/* Go down slot 0 from @top to the lowest level; false on a bad block. */
static bool pt_bfs_leftmost(struct pt_ctx *c, struct pt_bfs *p, int top)
{
	int i;

	pt_bfs_release(p, top);
	for (i = top; i > p->lowest; i--) {
		p->slots[i] = 0;
		p->nodes[i - 1] = pt_node_slot(c, p->nodes[i], 0);
		if (!p->nodes[i - 1])
			return false;
	}
	return true;
}

/* Move to the next block of the lowest level: 0, 1 at the end, -1 error. */
static int pt_bfs_next(struct pt_ctx *c, struct pt_bfs *p)
{
	int level = p->lowest + 1;

	while (level < BTRFS_MAX_LEVEL && p->nodes[level]) {
		u32 slot = p->slots[level] + 1;
		struct extent_buffer *next;

		if (slot >= btrfs_header_nritems(p->nodes[level])) {
			level++;
			continue;
		}
		next = pt_node_slot(c, p->nodes[level], slot);
		if (!next)
			return -1;
		p->slots[level] = slot;
		pt_bfs_release(p, level);
		p->nodes[level - 1] = next;
		return pt_bfs_leftmost(c, p, level - 1) ? 0 : -1;
	}
	return 1;
}

/*
 * Breadth first, level by level from the top: each level is walked from
 * its leftmost block through its siblings.  As in 6.2 the walk ends at the
 * first block that cannot be read.
 */
static void pt_bfs_children(struct pt_ctx *c, struct extent_buffer *root)
{
	int root_level = btrfs_header_level(root);
	struct pt_bfs p;
	int ret = 0;

	memset(&p, 0, sizeof(p));
	p.nodes[root_level] = extent_buffer_get(root);
	for (p.lowest = root_level - 1; p.lowest >= 0 && ret >= 0; p.lowest--) {
		if (!pt_bfs_leftmost(c, &p, root_level))
			break;
		do {
			pt_block(c, p.nodes[p.lowest], true, false);
			ret = pt_bfs_next(c, &p);
		} while (ret == 0);
	}
	pt_bfs_release(&p, BTRFS_MAX_LEVEL);
}

static void pt_block(struct pt_ctx *c, struct extent_buffer *eb, bool bfs,
		     bool follow)
{
	if (btrfs_header_level(eb) == 0) {
		pt_leaf(c, eb);
		return;
	}
	pt_node(c, eb);
	if (!follow || !c->opts->fs_info ||
	    btrfs_header_level(eb) >= BTRFS_MAX_LEVEL)
		return;
	if (bfs)
		pt_bfs_children(c, eb);
	else
		pt_dfs_children(c, eb);
}

/* ------------------------------------------------------------------ */
/* Public entry points. */

void btrfs_print_leaf(const struct btrfs_print_opts *opts,
		      const struct extent_buffer *eb)
{
	char buf[PT_BUF_SIZE];
	struct pt_ctx c;

	pt_init(&c, opts, opts->out, buf, sizeof(buf));
	pt_leaf(&c, eb);
	pt_flush(&c);
}

void btrfs_print_tree(const struct btrfs_print_opts *opts,
		      struct extent_buffer *eb)
{
	bool bfs = !(opts->flags & BTRFS_PRINT_DFS) ||
		   (opts->flags & BTRFS_PRINT_BFS);
	char buf[PT_BUF_SIZE];
	struct pt_ctx c;

	if (IS_ERR_OR_NULL(eb))
		return;
	pt_init(&c, opts, opts->out, buf, sizeof(buf));
	pt_block(&c, eb, bfs, (opts->flags & BTRFS_PRINT_FOLLOW) != 0);
	pt_flush(&c);
}

/* A context for the small printers: no options, a small buffer. */
#define PT_SMALL_CTX(c, out, buf, opts)                                     \
	static const struct btrfs_print_opts opts = { 0 };                 \
	char buf[256];                                                     \
	struct pt_ctx c;                                                   \
	pt_init(&c, &opts, (out), buf, sizeof(buf))

void btrfs_print_key(FILE *out, const struct btrfs_disk_key *key)
{
	PT_SMALL_CTX(c, out, buf, opts);
	pt_disk_key(&c, key);
	pt_flush(&c);
}

void btrfs_print_objectid(FILE *out, u64 objectid, u8 type)
{
	PT_SMALL_CTX(c, out, buf, opts);
	pt_objectid(&c, objectid, type);
	pt_flush(&c);
}

void btrfs_print_key_type(FILE *out, u64 objectid, u8 type)
{
	PT_SMALL_CTX(c, out, buf, opts);
	pt_key_type(&c, objectid, type);
	pt_flush(&c);
}

void btrfs_print_uuid(FILE *out, const u8 uuid[BTRFS_UUID_SIZE])
{
	PT_SMALL_CTX(c, out, buf, opts);
	pt_uuid(&c, uuid);
	pt_flush(&c);
}

void btrfs_print_timespec(FILE *out, const char *prefix,
			  const struct extent_buffer *eb,
			  const struct btrfs_timespec *ts)
{
	PT_SMALL_CTX(c, out, buf, opts);
	pt_timespec(&c, prefix, eb, ts);
	pt_flush(&c);
}
