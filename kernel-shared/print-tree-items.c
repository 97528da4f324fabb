// SPDX-License-Identifier: GPL-2.0
/*
 * Text form of the items that describe space rather than files: chunks,
 * devices, dev extents, block groups, extent items and their backrefs, the
 * free space tree and the v1 space cache header, the uuid tree, quota
 * items, and the balance / dev stats / temporary items of the root tree.
 *
 * The output matches btrfs-progs 6.2 `dump-tree` byte for byte, including
 * its quirks (see btrfs_bg_flags_to_str(), print_extent_item(),
 * print_dev_stats_extra() and pb_chunk()).
 *
 * Layout of this file:
 * - output through a small per-item buffer written with one fwrite (the
 *   extent tree of a large filesystem is hundreds of MB of text; printf()
 *   parsing and per-token stdio calls would dominate);
 * - field tables: most items are a fixed struct printed as "label value"
 *   runs, described by rows of (text before, offset, width, format);
 * - one printer per item family and a dispatch table indexed by key type.
 *
 * Every read goes through read_field() / read_bytes(), which give 0 for
 * bytes outside the extent buffer.  Like the reference, a field may be read
 * past the end of its item when the item is too short for its struct (the
 * bytes then belong to the leaf), but never past the end of the block; the
 * reference reads whatever memory follows the block there, we print 0.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdio.h>

#include "kernel-shared/print-tree-internal.h"

/* ------------------------------------------------------------------ */
/* Output: a small buffer per item, written with one fwrite. */

#define PBUF_SIZE 1024

struct pbuf {
	FILE *out;
	size_t len;
	char buf[PBUF_SIZE];
};

static void pb_init(struct pbuf *pb, FILE *out)
{
	pb->out = out;
	pb->len = 0;
}

static void pb_flush(struct pbuf *pb)
{
	if (pb->len)
		fwrite_unlocked(pb->buf, 1, pb->len, pb->out);
	pb->len = 0;
}

/* Room for @n more bytes, flushing first if needed (@n <= PBUF_SIZE). */
static char *pb_room(struct pbuf *pb, size_t n)
{
	if (pb->len + n > sizeof(pb->buf))
		pb_flush(pb);
	return pb->buf + pb->len;
}

static void pb_mem(struct pbuf *pb, const char *s, size_t n)
{
	if (n > sizeof(pb->buf)) {
		pb_flush(pb);
		fwrite_unlocked(s, 1, n, pb->out);
		return;
	}
	memcpy(pb_room(pb, n), s, n);
	pb->len += n;
}

static void pb_str(struct pbuf *pb, const char *s)
{
	pb_mem(pb, s, strlen(s));
}

/* A string literal, its length known at compile time. */
#define PB_LIT(pb, lit) pb_mem(pb, lit, sizeof(lit) - 1)

static void pb_u64(struct pbuf *pb, u64 v)
{
	char tmp[20];
	char *p = tmp + sizeof(tmp);

	do {
		*--p = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	pb_mem(pb, p, (size_t)(tmp + sizeof(tmp) - p));
}

static void pb_s64(struct pbuf *pb, s64 v)
{
	if (v < 0) {
		PB_LIT(pb, "-");
		pb_u64(pb, 0 - (u64)v);
		return;
	}
	pb_u64(pb, (u64)v);
}

static const char hex_digits[] = "0123456789abcdef";

static void pb_hex(struct pbuf *pb, u64 v)
{
	char tmp[16];
	char *p = tmp + sizeof(tmp);

	do {
		*--p = hex_digits[v & 0xf];
		v >>= 4;
	} while (v);
	pb_mem(pb, p, (size_t)(tmp + sizeof(tmp) - p));
}

/* The canonical 8-4-4-4-12 lower-case form. */
static void pb_uuid(struct pbuf *pb, const u8 uuid[BTRFS_UUID_SIZE])
{
	char *p = pb_room(pb, 36);
	int i;

	for (i = 0; i < BTRFS_UUID_SIZE; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			*p++ = '-';
		*p++ = hex_digits[uuid[i] >> 4];
		*p++ = hex_digits[uuid[i] & 0xf];
	}
	pb->len += 36;
}

/*
 * A tree id as print-tree.c names it.  Only ids below 256 and the top 255
 * values have names (with key type 0), so the common case stays local.
 */
static void pb_root(struct pbuf *pb, u64 id)
{
	if (id >= BTRFS_FIRST_FREE_OBJECTID && id < BTRFS_MULTIPLE_OBJECTIDS) {
		pb_u64(pb, id);
		return;
	}
	pb_flush(pb);
	btrfs_print_objectid(pb->out, id, 0);
}

/* ------------------------------------------------------------------ */
/* Bounded reads. */

/* Little-endian integer of @width bytes at @p, 0 if not inside @eb. */
static u64 read_field(const struct extent_buffer *eb, const u8 *p,
		      unsigned int width)
{
	if (!eb_range_ok(eb, p, width))
		return 0;
	switch (width) {
	case 1:
		return get_unaligned_le8(p);
	case 2:
		return get_unaligned_le16(p);
	case 4:
		return get_unaligned_le32(p);
	case 8:
		return get_unaligned_le64(p);
	}
	return 0;
}

/* Copy @len bytes at @p into @dst, zeros if not inside @eb. */
static void read_bytes(const struct extent_buffer *eb, const u8 *p, void *dst,
		       size_t len)
{
	if (eb_range_ok(eb, p, len))
		memcpy(dst, p, len);
	else
		memset(dst, 0, len);
}

/* ------------------------------------------------------------------ */
/* Flag words. */

/* Profile names by priority, as the reference picks one from the bits. */
static const struct btrfs_flag_name bg_profiles[] = {
	{ BTRFS_BLOCK_GROUP_RAID10, "RAID10" },
	{ BTRFS_BLOCK_GROUP_RAID1, "RAID1" },
	{ BTRFS_BLOCK_GROUP_RAID1C3, "RAID1C3" },
	{ BTRFS_BLOCK_GROUP_RAID1C4, "RAID1C4" },
	{ BTRFS_BLOCK_GROUP_DUP, "DUP" },
	{ BTRFS_BLOCK_GROUP_RAID0, "RAID0" },
	{ BTRFS_BLOCK_GROUP_RAID5, "RAID5" },
	{ BTRFS_BLOCK_GROUP_RAID6, "RAID6" },
};

static void buf_append(char *buf, size_t size, size_t *len, const char *s)
{
	while (*s && *len + 1 < size)
		buf[(*len)++] = *s++;
	if (size)
		buf[*len] = '\0';
}

/*
 * "DATA|METADATA|RAID1" style.  Two quirks of the reference are kept: only
 * DATA counts as a preceding word for the '|' separator (so METADATA and
 * SYSTEM together read "METADATASYSTEM"), and the profile is always
 * appended, the single profile in lower case ("DATA|single").
 */
void btrfs_bg_flags_to_str(u64 flags, char *buf, size_t size)
{
	const bool data = flags & BTRFS_BLOCK_GROUP_DATA;
	const char *profile = "single";
	size_t len = 0;
	size_t i;

	if (size)
		buf[0] = '\0';
	if (flags & BTRFS_BLOCK_GROUP_DATA)
		buf_append(buf, size, &len, "DATA");
	if (flags & BTRFS_BLOCK_GROUP_METADATA)
		buf_append(buf, size, &len, data ? "|METADATA" : "METADATA");
	if (flags & BTRFS_BLOCK_GROUP_SYSTEM)
		buf_append(buf, size, &len, data ? "|SYSTEM" : "SYSTEM");
	for (i = 0; i < ARRAY_SIZE(bg_profiles); i++) {
		if (flags & bg_profiles[i].flag) {
			profile = bg_profiles[i].name;
			break;
		}
	}
	buf_append(buf, size, &len, "|");
	buf_append(buf, size, &len, profile);
}

/* Extent item flags; FULL_BACKREF always gets a leading '|'. */
static void pb_extent_flags(struct pbuf *pb, u64 flags)
{
	if (flags & BTRFS_EXTENT_FLAG_DATA)
		PB_LIT(pb, "DATA");
	if ((flags & BTRFS_EXTENT_FLAG_DATA) &&
	    (flags & BTRFS_EXTENT_FLAG_TREE_BLOCK))
		PB_LIT(pb, "|");
	if (flags & BTRFS_EXTENT_FLAG_TREE_BLOCK)
		PB_LIT(pb, "TREE_BLOCK");
	if (flags & BTRFS_BLOCK_FLAG_FULL_BACKREF)
		PB_LIT(pb, "|FULL_BACKREF");
}

static void pb_qgroup_flags(struct pbuf *pb, u64 flags)
{
	if (flags & BTRFS_QGROUP_STATUS_FLAG_ON)
		PB_LIT(pb, "ON");
	else
		PB_LIT(pb, "OFF");
	if (flags & BTRFS_QGROUP_STATUS_FLAG_RESCAN)
		PB_LIT(pb, "|SCANNING");
	if (flags & BTRFS_QGROUP_STATUS_FLAG_INCONSISTENT)
		PB_LIT(pb, "|INCONSISTENT");
}

static void pb_bg_flags(struct pbuf *pb, u64 flags)
{
	char str[64];

	btrfs_bg_flags_to_str(flags, str, sizeof(str));
	pb_str(pb, str);
}

/* ------------------------------------------------------------------ */
/* Field tables. */

enum field_fmt {
	FMT_TEXT,		/* the text alone, no value */
	FMT_U,			/* unsigned decimal */
	FMT_S,			/* signed decimal */
	FMT_X,			/* hexadecimal, no prefix */
	FMT_UUID,		/* 16 bytes as a uuid */
	FMT_KEY,		/* a disk key, "key (...)" */
	FMT_ROOT,		/* a tree id by name ("FS_TREE", "256") */
	FMT_BG_FLAGS,		/* block group / chunk type */
	FMT_EXTENT_FLAGS,	/* extent item flags */
	FMT_QGROUP_FLAGS,	/* qgroup status flags */
};

/*
 * One value of a fixed struct: @text, then the @width bytes at @offset
 * (from the struct's start) in format @fmt.
 */
struct field {
	const char *text;
	u8 text_len;
	u8 width;
	u8 fmt;
	u16 offset;
};

#define FIELD_AT(text, base, type, member, fmt)                              \
	{ text, sizeof(text) - 1, sizeof(((type *)0)->member), fmt,          \
	  (base) + offsetof(type, member) }
#define FIELD(text, type, member, fmt) FIELD_AT(text, 0, type, member, fmt)
#define TEXT(text) { text, sizeof(text) - 1, 0, FMT_TEXT, 0 }

static void pb_disk_key(struct pbuf *pb, const struct extent_buffer *eb,
			const u8 *p)
{
	struct btrfs_disk_key key;

	read_bytes(eb, p, &key, sizeof(key));
	pb_flush(pb);
	btrfs_print_key(pb->out, &key);
}

static void pb_field(struct pbuf *pb, const struct extent_buffer *eb,
		     const u8 *base, const struct field *f)
{
	const u8 *p = base + f->offset;
	u8 uuid[BTRFS_UUID_SIZE];

	pb_mem(pb, f->text, f->text_len);
	switch (f->fmt) {
	case FMT_TEXT:
		break;
	case FMT_U:
		pb_u64(pb, read_field(eb, p, f->width));
		break;
	case FMT_S:
		pb_s64(pb, (s64)read_field(eb, p, f->width));
		break;
	case FMT_X:
		pb_hex(pb, read_field(eb, p, f->width));
		break;
	case FMT_UUID:
		read_bytes(eb, p, uuid, sizeof(uuid));
		pb_uuid(pb, uuid);
		break;
	case FMT_KEY:
		pb_disk_key(pb, eb, p);
		break;
	case FMT_ROOT:
		pb_root(pb, read_field(eb, p, f->width));
		break;
	case FMT_BG_FLAGS:
		pb_bg_flags(pb, read_field(eb, p, f->width));
		break;
	case FMT_EXTENT_FLAGS:
		pb_extent_flags(pb, read_field(eb, p, f->width));
		break;
	case FMT_QGROUP_FLAGS:
		pb_qgroup_flags(pb, read_field(eb, p, f->width));
		break;
	}
}

static void pb_fields(struct pbuf *pb, const struct extent_buffer *eb,
		      const u8 *base, const struct field *fields,
		      size_t nr_fields)
{
	size_t i;

	for (i = 0; i < nr_fields; i++)
		pb_field(pb, eb, base, &fields[i]);
}

#define PB_FIELDS(pb, eb, base, table)                                       \
	pb_fields(pb, eb, base, table, ARRAY_SIZE(table))

/* ------------------------------------------------------------------ */
/* The tables themselves. */

static const struct field dev_item_fields[] = {
	FIELD("\t\tdevid ", struct btrfs_dev_item, devid, FMT_U),
	FIELD(" total_bytes ", struct btrfs_dev_item, total_bytes, FMT_U),
	FIELD(" bytes_used ", struct btrfs_dev_item, bytes_used, FMT_U),
	FIELD("\n\t\tio_align ", struct btrfs_dev_item, io_align, FMT_U),
	FIELD(" io_width ", struct btrfs_dev_item, io_width, FMT_U),
	FIELD(" sector_size ", struct btrfs_dev_item, sector_size, FMT_U),
	FIELD(" type ", struct btrfs_dev_item, type, FMT_U),
	FIELD("\n\t\tgeneration ", struct btrfs_dev_item, generation, FMT_U),
	FIELD(" start_offset ", struct btrfs_dev_item, start_offset, FMT_U),
	FIELD(" dev_group ", struct btrfs_dev_item, dev_group, FMT_U),
	FIELD("\n\t\tseek_speed ", struct btrfs_dev_item, seek_speed, FMT_U),
	FIELD(" bandwidth ", struct btrfs_dev_item, bandwidth, FMT_U),
	FIELD("\n\t\tuuid ", struct btrfs_dev_item, uuid, FMT_UUID),
	FIELD("\n\t\tfsid ", struct btrfs_dev_item, fsid, FMT_UUID),
	TEXT("\n"),
};

static const struct field dev_extent_fields[] = {
	FIELD("\t\tdev extent chunk_tree ", struct btrfs_dev_extent,
	      chunk_tree, FMT_U),
	FIELD("\n\t\tchunk_objectid ", struct btrfs_dev_extent, chunk_objectid,
	      FMT_U),
	FIELD(" chunk_offset ", struct btrfs_dev_extent, chunk_offset, FMT_U),
	FIELD(" length ", struct btrfs_dev_extent, length, FMT_U),
	FIELD("\n\t\tchunk_tree_uuid ", struct btrfs_dev_extent,
	      chunk_tree_uuid, FMT_UUID),
	TEXT("\n"),
};

static const struct field chunk_fields[] = {
	FIELD("\t\tlength ", struct btrfs_chunk, length, FMT_U),
	FIELD(" owner ", struct btrfs_chunk, owner, FMT_U),
	FIELD(" stripe_len ", struct btrfs_chunk, stripe_len, FMT_U),
	FIELD(" type ", struct btrfs_chunk, type, FMT_BG_FLAGS),
	FIELD("\n\t\tio_align ", struct btrfs_chunk, io_align, FMT_U),
	FIELD(" io_width ", struct btrfs_chunk, io_width, FMT_U),
	FIELD(" sector_size ", struct btrfs_chunk, sector_size, FMT_U),
	FIELD("\n\t\tnum_stripes ", struct btrfs_chunk, num_stripes, FMT_U),
	FIELD(" sub_stripes ", struct btrfs_chunk, sub_stripes, FMT_U),
	TEXT("\n"),
};

/* Printed after "\t\t\tstripe N". */
static const struct field stripe_fields[] = {
	FIELD(" devid ", struct btrfs_stripe, devid, FMT_U),
	FIELD(" offset ", struct btrfs_stripe, offset, FMT_U),
	FIELD("\n\t\t\tdev_uuid ", struct btrfs_stripe, dev_uuid, FMT_UUID),
	TEXT("\n"),
};

static const struct field block_group_fields[] = {
	FIELD("\t\tblock group used ", struct btrfs_block_group_item, used,
	      FMT_U),
	FIELD(" chunk_objectid ", struct btrfs_block_group_item,
	      chunk_objectid, FMT_U),
	FIELD(" flags ", struct btrfs_block_group_item, flags, FMT_BG_FLAGS),
	TEXT("\n"),
};

static const struct field extent_item_fields[] = {
	FIELD("\t\trefs ", struct btrfs_extent_item, refs, FMT_U),
	FIELD(" gen ", struct btrfs_extent_item, generation, FMT_U),
	FIELD(" flags ", struct btrfs_extent_item, flags, FMT_EXTENT_FLAGS),
	TEXT("\n"),
};

static const struct field tree_block_info_fields[] = {
	FIELD("\t\ttree block ", struct btrfs_tree_block_info, key, FMT_KEY),
	FIELD(" level ", struct btrfs_tree_block_info, level, FMT_U),
	TEXT("\n"),
};

/* An extent data ref, alone as a keyed item or inside an inline ref. */
#define EXTENT_DATA_REF_FIELDS(base)                                         \
	FIELD_AT("\t\textent data backref root ", base,                      \
		 struct btrfs_extent_data_ref, root, FMT_ROOT),              \
	FIELD_AT(" objectid ", base, struct btrfs_extent_data_ref, objectid, \
		 FMT_U),                                                     \
	FIELD_AT(" offset ", base, struct btrfs_extent_data_ref, offset,     \
		 FMT_U),                                                     \
	FIELD_AT(" count ", base, struct btrfs_extent_data_ref, count,       \
		 FMT_U),                                                     \
	TEXT("\n")

static const struct field extent_data_ref_fields[] = {
	EXTENT_DATA_REF_FIELDS(0),
};

static const struct field shared_data_ref_fields[] = {
	FIELD("\t\tshared data backref count ", struct btrfs_shared_data_ref,
	      count, FMT_U),
	TEXT("\n"),
};

static const struct field tree_block_ref_fields[] = {
	TEXT("\t\ttree block backref\n"),
};

static const struct field shared_block_ref_fields[] = {
	TEXT("\t\tshared block backref\n"),
};

static const struct field extent_ref_v0_fields[] = {
	TEXT("\t\textent ref v0 (deprecated)\n"),
};

static const struct field free_space_info_fields[] = {
	FIELD("\t\tfree space info extent count ", struct btrfs_free_space_info,
	      extent_count, FMT_U),
	FIELD(" flags ", struct btrfs_free_space_info, flags, FMT_U),
	TEXT("\n"),
};

static const struct field free_space_extent_fields[] = {
	TEXT("\t\tfree space extent\n"),
};

static const struct field free_space_bitmap_fields[] = {
	TEXT("\t\tfree space bitmap\n"),
};

/* v1 space cache header, key (FREE_SPACE, 0, block group start). */
static const struct field free_space_header_fields[] = {
	FIELD("\t\tlocation ", struct btrfs_free_space_header, location,
	      FMT_KEY),
	FIELD("\n\t\tcache generation ", struct btrfs_free_space_header,
	      generation, FMT_U),
	FIELD(" entries ", struct btrfs_free_space_header, num_entries, FMT_U),
	FIELD(" bitmaps ", struct btrfs_free_space_header, num_bitmaps, FMT_U),
	TEXT("\n"),
};

/* The reference ignores enable_gen (simple quotas came after 6.2). */
static const struct field qgroup_status_fields[] = {
	FIELD("\t\tversion ", struct btrfs_qgroup_status_item, version, FMT_U),
	FIELD(" generation ", struct btrfs_qgroup_status_item, generation,
	      FMT_U),
	FIELD(" flags ", struct btrfs_qgroup_status_item, flags,
	      FMT_QGROUP_FLAGS),
	FIELD(" scan ", struct btrfs_qgroup_status_item, rescan, FMT_U),
	TEXT("\n"),
};

static const struct field qgroup_info_fields[] = {
	FIELD("\t\tgeneration ", struct btrfs_qgroup_info_item, generation,
	      FMT_U),
	FIELD("\n\t\treferenced ", struct btrfs_qgroup_info_item, rfer, FMT_U),
	FIELD(" referenced_compressed ", struct btrfs_qgroup_info_item,
	      rfer_cmpr, FMT_U),
	FIELD("\n\t\texclusive ", struct btrfs_qgroup_info_item, excl, FMT_U),
	FIELD(" exclusive_compressed ", struct btrfs_qgroup_info_item,
	      excl_cmpr, FMT_U),
	TEXT("\n"),
};

static const struct field qgroup_limit_fields[] = {
	FIELD("\t\tflags ", struct btrfs_qgroup_limit_item, flags, FMT_X),
	FIELD("\n\t\tmax_referenced ", struct btrfs_qgroup_limit_item,
	      max_rfer, FMT_S),
	FIELD(" max_exclusive ", struct btrfs_qgroup_limit_item, max_excl,
	      FMT_S),
	FIELD("\n\t\trsv_referenced ", struct btrfs_qgroup_limit_item,
	      rsv_rfer, FMT_S),
	FIELD(" rsv_exclusive ", struct btrfs_qgroup_limit_item, rsv_excl,
	      FMT_S),
	TEXT("\n"),
};

static const struct field balance_flags_fields[] = {
	FIELD("\t\tbalance status flags ", struct btrfs_balance_item, flags,
	      FMT_U),
	TEXT("\n"),
};

static const struct field balance_args_fields[] = {
	FIELD("\t\tprofiles ", struct btrfs_disk_balance_args, profiles, FMT_U),
	FIELD(" devid ", struct btrfs_disk_balance_args, devid, FMT_U),
	FIELD(" target ", struct btrfs_disk_balance_args, target, FMT_U),
	FIELD(" flags ", struct btrfs_disk_balance_args, flags, FMT_U),
	FIELD("\n\t\tusage_min ", struct btrfs_disk_balance_args, usage_min,
	      FMT_U),
	FIELD(" usage_max ", struct btrfs_disk_balance_args, usage_max, FMT_U),
	FIELD(" pstart ", struct btrfs_disk_balance_args, pstart, FMT_U),
	FIELD(" pend ", struct btrfs_disk_balance_args, pend, FMT_U),
	FIELD("\n\t\tvstart ", struct btrfs_disk_balance_args, vstart, FMT_U),
	FIELD(" vend ", struct btrfs_disk_balance_args, vend, FMT_U),
	FIELD(" limit_min ", struct btrfs_disk_balance_args, limit_min, FMT_U),
	FIELD(" limit_max ", struct btrfs_disk_balance_args, limit_max, FMT_U),
	FIELD("\n\t\tstripes_min ", struct btrfs_disk_balance_args,
	      stripes_min, FMT_U),
	FIELD(" stripes_max ", struct btrfs_disk_balance_args, stripes_max,
	      FMT_U),
	TEXT("\n"),
};

static const struct field dev_stats_fields[] = {
	TEXT("\t\tdevice stats\n"),
	FIELD("\t\twrite_errs ", struct btrfs_dev_stats_item, values[0], FMT_U),
	FIELD(" read_errs ", struct btrfs_dev_stats_item, values[1], FMT_U),
	FIELD(" flush_errs ", struct btrfs_dev_stats_item, values[2], FMT_U),
	FIELD(" corruption_errs ", struct btrfs_dev_stats_item, values[3],
	      FMT_U),
	FIELD(" generation ", struct btrfs_dev_stats_item, values[4], FMT_U),
	TEXT("\n"),
};

/* ------------------------------------------------------------------ */
/* Inline backrefs of extent items. */

/* An inline ref: type byte, then for most kinds a u64 offset. */
#define IREF_OFFSET offsetof(struct btrfs_extent_inline_ref, offset)

static const struct field iref_tree_block_fields[] = {
	FIELD("\t\ttree block backref root ", struct btrfs_extent_inline_ref,
	      offset, FMT_ROOT),
	TEXT("\n"),
};

static const struct field iref_shared_block_fields[] = {
	FIELD("\t\tshared block backref parent ",
	      struct btrfs_extent_inline_ref, offset, FMT_U),
	TEXT("\n"),
};

/* The data ref overlays the offset field. */
static const struct field iref_extent_data_fields[] = {
	EXTENT_DATA_REF_FIELDS(IREF_OFFSET),
};

static const struct field iref_shared_data_fields[] = {
	FIELD("\t\tshared data backref parent ",
	      struct btrfs_extent_inline_ref, offset, FMT_U),
	FIELD_AT(" count ", sizeof(struct btrfs_extent_inline_ref),
		 struct btrfs_shared_data_ref, count, FMT_U),
	TEXT("\n"),
};

struct inline_ref_kind {
	u8 size;		/* bytes the ref takes in the item */
	const struct field *fields;
	u8 nr_fields;
};

#define IREF_KIND(sz, table) { sz, table, ARRAY_SIZE(table) }

/*
 * The kinds btrfs-progs 6.2 knows.  Any other type (including the later
 * EXTENT_OWNER_REF) ends the list silently, as in the reference.
 */
static const struct inline_ref_kind inline_ref_kinds[256] = {
	[BTRFS_TREE_BLOCK_REF_KEY] = IREF_KIND(
		sizeof(struct btrfs_extent_inline_ref), iref_tree_block_fields),
	[BTRFS_SHARED_BLOCK_REF_KEY] = IREF_KIND(
		sizeof(struct btrfs_extent_inline_ref),
		iref_shared_block_fields),
	[BTRFS_EXTENT_DATA_REF_KEY] = IREF_KIND(
		IREF_OFFSET + sizeof(struct btrfs_extent_data_ref),
		iref_extent_data_fields),
	[BTRFS_SHARED_DATA_REF_KEY] = IREF_KIND(
		sizeof(struct btrfs_extent_inline_ref) +
			sizeof(struct btrfs_shared_data_ref),
		iref_shared_data_fields),
};

/* ------------------------------------------------------------------ */
/* Item printers. */

/* What a printer gets: the item's bytes, inside the block. */
struct item_ctx {
	struct pbuf *pb;
	const struct extent_buffer *eb;
	const struct btrfs_key *key;
	const u8 *ptr;		/* item data */
	u32 size;		/* item size */
};

struct item_desc;
typedef void (*item_print_fn)(const struct item_ctx *ctx,
			      const struct item_desc *desc);

/* How to print one key type: a function, or a field table at the item. */
struct item_desc {
	item_print_fn print;
	const struct field *fields;
	u8 nr_fields;
};

static void print_field_item(const struct item_ctx *ctx,
			     const struct item_desc *desc)
{
	pb_fields(ctx->pb, ctx->eb, ctx->ptr, desc->fields, desc->nr_fields);
}

/* Types the reference names but prints no body for. */
static void print_nothing(const struct item_ctx *ctx,
			  const struct item_desc *desc)
{
	(void)ctx;
	(void)desc;
}

/*
 * The reference (6.2) prints nothing at all for an extent item shorter than
 * struct btrfs_extent_item, which covers the 4-byte v0 item.  Inline refs
 * are walked while the cursor is inside the item; an unknown type ends the
 * walk.  A last ref that sticks out of the item is printed from the bytes
 * that follow (inside the block), as the reference does.
 */
static void print_extent_item(const struct item_ctx *ctx,
			      const struct item_desc *desc)
{
	const u8 *end = ctx->ptr + ctx->size;
	const u8 *cur = ctx->ptr + sizeof(struct btrfs_extent_item);
	u64 flags;

	(void)desc;
	if (ctx->size < sizeof(struct btrfs_extent_item))
		return;
	PB_FIELDS(ctx->pb, ctx->eb, ctx->ptr, extent_item_fields);
	flags = read_field(ctx->eb, ctx->ptr +
			   offsetof(struct btrfs_extent_item, flags), 8);
	if (ctx->key->type == BTRFS_METADATA_ITEM_KEY) {
		/* The level is the key offset, shown as a C int. */
		PB_LIT(ctx->pb, "\t\ttree block skinny level ");
		pb_s64(ctx->pb, (s32)(u32)ctx->key->offset);
		PB_LIT(ctx->pb, "\n");
	} else if (flags & BTRFS_EXTENT_FLAG_TREE_BLOCK) {
		PB_FIELDS(ctx->pb, ctx->eb, cur, tree_block_info_fields);
		cur += sizeof(struct btrfs_tree_block_info);
	}
	while (cur < end) {
		const struct inline_ref_kind *kind =
			&inline_ref_kinds[read_field(ctx->eb, cur, 1)];

		if (!kind->size)
			return;
		pb_fields(ctx->pb, ctx->eb, cur, kind->fields, kind->nr_fields);
		cur += kind->size;
	}
}

/* A list of subvolume ids; the size must be a multiple of 8. */
static void print_uuid_item(const struct item_ctx *ctx,
			    const struct item_desc *desc)
{
	u32 done;

	(void)desc;
	if (ctx->size % sizeof(u64)) {
		PB_LIT(ctx->pb, "btrfs: uuid item with illegal size ");
		pb_u64(ctx->pb, ctx->size);
		PB_LIT(ctx->pb, "!\n");
		return;
	}
	for (done = 0; done < ctx->size; done += sizeof(u64)) {
		PB_LIT(ctx->pb, "\t\tsubvol_id ");
		pb_u64(ctx->pb, read_field(ctx->eb, ctx->ptr + done, 8));
		PB_LIT(ctx->pb, "\n");
	}
}

/* "\t\t<what> item objectid <name> offset <offset>\n" */
static void print_special_header(const struct item_ctx *ctx, const char *what)
{
	PB_LIT(ctx->pb, "\t\t");
	pb_str(ctx->pb, what);
	PB_LIT(ctx->pb, " item objectid ");
	pb_flush(ctx->pb);
	btrfs_print_objectid(ctx->pb->out, ctx->key->objectid, ctx->key->type);
	PB_LIT(ctx->pb, " offset ");
	pb_u64(ctx->pb, ctx->key->offset);
	PB_LIT(ctx->pb, "\n");
}

static void print_unknown_objectid(const struct item_ctx *ctx,
				   const char *what)
{
	PB_LIT(ctx->pb, "\t\tunknown ");
	pb_str(ctx->pb, what);
	PB_LIT(ctx->pb, " item objectid ");
	pb_u64(ctx->pb, ctx->key->objectid);
	PB_LIT(ctx->pb, "\n");
}

/* Values past the five known counters, as the reference lists them. */
static void print_dev_stats_extra(const struct item_ctx *ctx)
{
	const u32 known = BTRFS_DEV_STAT_VALUES_MAX * sizeof(u64);
	u32 i;

	if (ctx->size <= known)
		return;
	/* No newline here: the reference runs this into the next line. */
	PB_LIT(ctx->pb, "\t\tunknown stats item bytes ");
	pb_u64(ctx->pb, ctx->size - known);
	for (i = BTRFS_DEV_STAT_VALUES_MAX; i * sizeof(u64) < ctx->size; i++) {
		PB_LIT(ctx->pb, "\t\tunknown item ");
		pb_u64(ctx->pb, i);
		PB_LIT(ctx->pb, " offset ");
		pb_u64(ctx->pb, i * sizeof(u64));
		PB_LIT(ctx->pb, " value ");
		pb_u64(ctx->pb,
		       read_field(ctx->eb, ctx->ptr + i * sizeof(u64), 8));
		PB_LIT(ctx->pb, "\n");
	}
}

/* PERSISTENT_ITEM (alias DEV_STATS_KEY). */
static void print_persistent_item(const struct item_ctx *ctx,
				  const struct item_desc *desc)
{
	(void)desc;
	print_special_header(ctx, "persistent");
	if (ctx->key->objectid != BTRFS_DEV_STATS_OBJECTID) {
		print_unknown_objectid(ctx, "persistent");
		return;
	}
	PB_FIELDS(ctx->pb, ctx->eb, ctx->ptr, dev_stats_fields);
	print_dev_stats_extra(ctx);
}

static void print_balance_item(const struct item_ctx *ctx)
{
	static const struct field parts[] = {
		TEXT("\t\tDATA\n"),
		TEXT("\t\tMETADATA\n"),
		TEXT("\t\tSYSTEM\n"),
	};
	static const u16 offsets[] = {
		offsetof(struct btrfs_balance_item, data),
		offsetof(struct btrfs_balance_item, meta),
		offsetof(struct btrfs_balance_item, sys),
	};
	size_t i;

	PB_FIELDS(ctx->pb, ctx->eb, ctx->ptr, balance_flags_fields);
	for (i = 0; i < ARRAY_SIZE(parts); i++) {
		pb_field(ctx->pb, ctx->eb, ctx->ptr, &parts[i]);
		PB_FIELDS(ctx->pb, ctx->eb, ctx->ptr + offsets[i],
			  balance_args_fields);
	}
}

/*
 * Objectid 13 was the temporary csum tree of the 6.2-era checksum
 * conversion; its key offset is the tree's root block.
 */
#define CSUM_TREE_TMP_OBJECTID 13ULL

/* TEMPORARY_ITEM (alias BALANCE_ITEM_KEY). */
static void print_temporary_item(const struct item_ctx *ctx,
				 const struct item_desc *desc)
{
	(void)desc;
	print_special_header(ctx, "temporary");
	switch (ctx->key->objectid) {
	case BTRFS_BALANCE_OBJECTID:
		print_balance_item(ctx);
		break;
	case CSUM_TREE_TMP_OBJECTID:
		PB_LIT(ctx->pb, "\t\tcsum tree tmp root ");
		pb_u64(ctx->pb, ctx->key->offset);
		PB_LIT(ctx->pb, "\n");
		break;
	default:
		print_unknown_objectid(ctx, "temporary");
		break;
	}
}

/*
 * The reference checks the stripe array against the end of the block, not
 * of the item: a chunk item too short for its stripes but inside the block
 * prints the bytes that follow.
 */
static void pb_chunk(struct pbuf *pb, const struct extent_buffer *eb,
		     const u8 *chunk)
{
	const u8 *stripe = chunk + offsetof(struct btrfs_chunk, stripe);
	u64 num_stripes;
	u64 i;

	num_stripes = read_field(eb, chunk + offsetof(struct btrfs_chunk,
						      num_stripes), 2);
	if (num_stripes < 1) {
		PB_LIT(pb, "invalid num_stripes: ");
		pb_u64(pb, num_stripes);
		PB_LIT(pb, "\n");
		return;
	}
	if (!eb_range_ok(eb, chunk, btrfs_chunk_item_size((int)num_stripes))) {
		PB_LIT(pb, "\t\tchunk item invalid\n");
		return;
	}
	PB_FIELDS(pb, eb, chunk, chunk_fields);
	for (i = 0; i < num_stripes; i++) {
		PB_LIT(pb, "\t\t\tstripe ");
		pb_u64(pb, i);
		PB_FIELDS(pb, eb, stripe, stripe_fields);
		stripe += sizeof(struct btrfs_stripe);
	}
}

static void print_chunk_item(const struct item_ctx *ctx,
			     const struct item_desc *desc)
{
	(void)desc;
	pb_chunk(ctx->pb, ctx->eb, ctx->ptr);
}

void btrfs_print_chunk(FILE *out, const struct extent_buffer *eb,
		       const struct btrfs_chunk *chunk, u32 item_size)
{
	struct pbuf pb;

	(void)item_size;
	pb_init(&pb, out);
	pb_chunk(&pb, eb, (const u8 *)chunk);
	pb_flush(&pb);
}

/* ------------------------------------------------------------------ */
/* Dispatch. */

#define DESC_FIELDS(table) { print_field_item, table, ARRAY_SIZE(table) }
#define DESC_FN(fn) { fn, NULL, 0 }

static const struct item_desc item_descs[256] = {
	[BTRFS_CHUNK_ITEM_KEY] = DESC_FN(print_chunk_item),
	[BTRFS_DEV_ITEM_KEY] = DESC_FIELDS(dev_item_fields),
	[BTRFS_DEV_EXTENT_KEY] = DESC_FIELDS(dev_extent_fields),
	[BTRFS_BLOCK_GROUP_ITEM_KEY] = DESC_FIELDS(block_group_fields),
	[BTRFS_EXTENT_ITEM_KEY] = DESC_FN(print_extent_item),
	[BTRFS_METADATA_ITEM_KEY] = DESC_FN(print_extent_item),
	[BTRFS_EXTENT_OWNER_REF_KEY] = DESC_FN(print_nothing),
	[BTRFS_TREE_BLOCK_REF_KEY] = DESC_FIELDS(tree_block_ref_fields),
	[BTRFS_SHARED_BLOCK_REF_KEY] = DESC_FIELDS(shared_block_ref_fields),
	[BTRFS_EXTENT_DATA_REF_KEY] = DESC_FIELDS(extent_data_ref_fields),
	[BTRFS_SHARED_DATA_REF_KEY] = DESC_FIELDS(shared_data_ref_fields),
	[BTRFS_EXTENT_REF_V0_KEY] = DESC_FIELDS(extent_ref_v0_fields),
	[BTRFS_FREE_SPACE_INFO_KEY] = DESC_FIELDS(free_space_info_fields),
	[BTRFS_FREE_SPACE_EXTENT_KEY] = DESC_FIELDS(free_space_extent_fields),
	[BTRFS_FREE_SPACE_BITMAP_KEY] = DESC_FIELDS(free_space_bitmap_fields),
	[BTRFS_UUID_KEY_SUBVOL] = DESC_FN(print_uuid_item),
	[BTRFS_UUID_KEY_RECEIVED_SUBVOL] = DESC_FN(print_uuid_item),
	[BTRFS_QGROUP_STATUS_KEY] = DESC_FIELDS(qgroup_status_fields),
	[BTRFS_QGROUP_INFO_KEY] = DESC_FIELDS(qgroup_info_fields),
	[BTRFS_QGROUP_LIMIT_KEY] = DESC_FIELDS(qgroup_limit_fields),
	[BTRFS_QGROUP_RELATION_KEY] = DESC_FN(print_nothing),
	[BTRFS_TEMPORARY_ITEM_KEY] = DESC_FN(print_temporary_item),
	[BTRFS_PERSISTENT_ITEM_KEY] = DESC_FN(print_persistent_item),
	[BTRFS_DEV_REPLACE_KEY] = DESC_FN(print_nothing),
	[BTRFS_RAID_STRIPE_KEY] = DESC_FN(print_nothing),
};

static const struct item_desc free_space_header_desc =
	DESC_FIELDS(free_space_header_fields);

/* The printer for @key, or NULL when print-tree.c owns the type. */
static const struct item_desc *find_desc(const struct btrfs_key *key)
{
	if (key->type == 0)
		return key->objectid == BTRFS_FREE_SPACE_OBJECTID ?
			       &free_space_header_desc : NULL;
	if (!item_descs[key->type].print)
		return NULL;
	return &item_descs[key->type];
}

bool btrfs_print_meta_item(const struct btrfs_print_opts *opts,
			   const struct extent_buffer *eb, int slot,
			   const struct btrfs_key *key)
{
	const struct item_desc *desc = find_desc(key);
	struct item_ctx ctx;
	struct pbuf pb;

	if (!desc)
		return false;
	ctx.pb = &pb;
	ctx.eb = eb;
	ctx.key = key;
	ctx.size = btrfs_item_size(eb, slot);
	ctx.ptr = btrfs_item_ptr(eb, slot, const u8);
	/* The caller stops at items outside the leaf; never print those. */
	if (!eb_range_ok(eb, ctx.ptr, ctx.size))
		return true;
	pb_init(&pb, opts->out);
	desc->print(&ctx, desc);
	pb_flush(&pb);
	return true;
}
