// SPDX-License-Identifier: GPL-2.0
/*
 * "btrfs inspect-internal dump-super": print superblock copies in text form.
 *
 * The output follows the reference btrfs-progs 6.2 byte for byte, quirks
 * included: a superblock beyond the end of the device is skipped silently,
 * a bad magic stops the whole command unless --force is given, and the
 * incompat bit EXTENT_TREE_V2 is only named after another named bit.
 *
 * Reading is a plain pread of the 4 KiB at the requested offset: nothing is
 * validated besides the magic, since showing damaged superblocks is the
 * point of the command.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <uuid/uuid.h>

/* Before format.h: csum.h declares the checksum types as an enum. */
#include "common/csum.h"

#include "cmds/commands.h"
#include "cmds/help.h"
#include "common/messages.h"
#include "kernel-shared/ctree.h"
#include "kernel-shared/disk-io.h"
#include "kernel-shared/extent-io.h"
#include "kernel-shared/print-tree.h"
#include "kernel-shared/volumes.h"

/* Values printed after a field name start at this column (3 tabs). */
#define SB_VALUE_COLUMN 24
#define UUID_STR_LEN 37

/* Long-only option values, outside the range of characters. */
enum { GETOPT_VAL_BYTENR = 256 };

/* What the command line asked for. */
struct dump_super_opts {
	bool full;		/* also the sys_chunk_array and backup roots */
	bool all;		/* every superblock copy */
	bool force;		/* dump even with a bad magic */
	u64 bytenr;		/* offset of the copy to dump without --all */
};

/* ------------------------------------------------------------------ */
/* Flag words. */

struct flag_name {
	u64 bit;
	const char *name;
	/* Named only when another name was printed before it (reference quirk). */
	bool only_after_other;
};

struct flag_set {
	const struct flag_name *names;
	size_t nr_names;
	/* Bits not reported as "unknown flag" (may include unnamed ones). */
	u64 known;
};

static const struct flag_name super_flag_names[] = {
	{ BTRFS_HEADER_FLAG_WRITTEN, "WRITTEN", false },
	{ BTRFS_HEADER_FLAG_RELOC, "RELOC", false },
	{ BTRFS_SUPER_FLAG_CHANGING_FSID, "CHANGING_FSID", false },
	{ BTRFS_SUPER_FLAG_SEEDING, "SEEDING", false },
	{ BTRFS_SUPER_FLAG_METADUMP, "METADUMP", false },
	{ BTRFS_SUPER_FLAG_METADUMP_V2, "METADUMP_V2", false },
};

static const struct flag_set super_flags = {
	.names = super_flag_names,
	.nr_names = ARRAY_SIZE(super_flag_names),
	.known = BTRFS_HEADER_FLAG_WRITTEN | BTRFS_HEADER_FLAG_RELOC |
		 BTRFS_SUPER_FLAG_CHANGING_FSID | BTRFS_SUPER_FLAG_SEEDING |
		 BTRFS_SUPER_FLAG_METADUMP | BTRFS_SUPER_FLAG_METADUMP_V2,
};

static const struct flag_name compat_ro_flag_names[] = {
	{ BTRFS_FEATURE_COMPAT_RO_FREE_SPACE_TREE, "FREE_SPACE_TREE", false },
	{ BTRFS_FEATURE_COMPAT_RO_FREE_SPACE_TREE_VALID,
	  "FREE_SPACE_TREE_VALID", false },
	{ BTRFS_FEATURE_COMPAT_RO_BLOCK_GROUP_TREE, "BLOCK_GROUP_TREE", false },
};

/* VERITY is known to the reference but has no name there. */
static const struct flag_set compat_ro_flags = {
	.names = compat_ro_flag_names,
	.nr_names = ARRAY_SIZE(compat_ro_flag_names),
	.known = BTRFS_FEATURE_COMPAT_RO_FREE_SPACE_TREE |
		 BTRFS_FEATURE_COMPAT_RO_FREE_SPACE_TREE_VALID |
		 BTRFS_FEATURE_COMPAT_RO_VERITY |
		 BTRFS_FEATURE_COMPAT_RO_BLOCK_GROUP_TREE,
};

static const struct flag_name incompat_flag_names[] = {
	{ BTRFS_FEATURE_INCOMPAT_MIXED_BACKREF, "MIXED_BACKREF", false },
	{ BTRFS_FEATURE_INCOMPAT_DEFAULT_SUBVOL, "DEFAULT_SUBVOL", false },
	{ BTRFS_FEATURE_INCOMPAT_MIXED_GROUPS, "MIXED_GROUPS", false },
	{ BTRFS_FEATURE_INCOMPAT_COMPRESS_LZO, "COMPRESS_LZO", false },
	{ BTRFS_FEATURE_INCOMPAT_COMPRESS_ZSTD, "COMPRESS_ZSTD", false },
	{ BTRFS_FEATURE_INCOMPAT_BIG_METADATA, "BIG_METADATA", false },
	{ BTRFS_FEATURE_INCOMPAT_EXTENDED_IREF, "EXTENDED_IREF", false },
	{ BTRFS_FEATURE_INCOMPAT_RAID56, "RAID56", false },
	{ BTRFS_FEATURE_INCOMPAT_SKINNY_METADATA, "SKINNY_METADATA", false },
	{ BTRFS_FEATURE_INCOMPAT_NO_HOLES, "NO_HOLES", false },
	{ BTRFS_FEATURE_INCOMPAT_METADATA_UUID, "METADATA_UUID", false },
	{ BTRFS_FEATURE_INCOMPAT_RAID1C34, "RAID1C34", false },
	{ BTRFS_FEATURE_INCOMPAT_ZONED, "ZONED", false },
	{ BTRFS_FEATURE_INCOMPAT_EXTENT_TREE_V2, "EXTENT_TREE_V2", true },
};

/* The reference build does not support EXTENT_TREE_V2: also "unknown". */
static const struct flag_set incompat_flags = {
	.names = incompat_flag_names,
	.nr_names = ARRAY_SIZE(incompat_flag_names),
	.known = BTRFS_FEATURE_INCOMPAT_EXTENT_TREE_V2 - 1,
};

/* One element of a "( A |\n\t\t\t  B )" list. */
static void print_flag_element(FILE *out, bool *first, const char *text)
{
	fprintf(out, *first ? "%s " : "|\n\t\t\t  %s ", text);
	*first = false;
}

/* The names of the bits of @flags, under the line that showed the value. */
static void print_flag_names(FILE *out, u64 flags, const struct flag_set *set)
{
	u64 unknown = flags & ~set->known;
	char text[64];
	bool first = true;
	size_t i;

	if (!flags)
		return;
	fputs("\t\t\t( ", out);
	for (i = 0; i < set->nr_names; i++) {
		const struct flag_name *fn = &set->names[i];

		if (!(flags & fn->bit) || (fn->only_after_other && first))
			continue;
		print_flag_element(out, &first, fn->name);
	}
	if (unknown) {
		snprintf(text, sizeof(text), "unknown flag: 0x%llx",
			 (unsigned long long)unknown);
		print_flag_element(out, &first, text);
	}
	fputs(")\n", out);
}

/* ------------------------------------------------------------------ */
/* Field printers. */

static bool is_printable(char c)
{
	return c >= 0x20 && c <= 0x7e;
}

/* @len bytes of @s up to the first NUL, non-printable ones as '.'. */
static void print_sanitized(FILE *out, const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len && s[i]; i++)
		fputc(is_printable(s[i]) ? s[i] : '.', out);
}

static void print_uuid(FILE *out, const u8 *uuid)
{
	char buf[UUID_STR_LEN];

	uuid_unparse(uuid, buf);
	fputs(buf, out);
}

static bool has_metadata_uuid(const struct btrfs_super_block *sb)
{
	return btrfs_super_incompat_flags(sb) &
	       BTRFS_FEATURE_INCOMPAT_METADATA_UUID;
}

/* Bytes of the csum field that are shown: all of them for unknown types. */
static u32 shown_csum_size(const struct btrfs_super_block *sb)
{
	u16 type = btrfs_super_csum_type(sb);

	if (!btrfs_csum_type_valid(type))
		return BTRFS_CSUM_SIZE;
	return btrfs_csum_type_size(type);
}

static bool super_csum_matches(const struct btrfs_super_block *sb)
{
	u16 type = btrfs_super_csum_type(sb);
	u8 result[BTRFS_CSUM_SIZE];

	if (btrfs_csum_data(type, (const u8 *)sb + BTRFS_CSUM_SIZE,
			    BTRFS_SUPER_INFO_SIZE - BTRFS_CSUM_SIZE, result))
		return false;
	return !memcmp(sb->csum, result, btrfs_csum_type_size(type));
}

struct sb_field;
typedef u64 (*sb_get_fn)(const struct btrfs_super_block *sb);
typedef void (*sb_print_fn)(FILE *out, const struct sb_field *field,
			    const struct btrfs_super_block *sb);

/* One line (or block of lines) of the superblock dump. */
struct sb_field {
	const char *name;
	sb_print_fn print;	/* prints the value and the newline */
	sb_get_fn get;		/* numeric fields */
	const struct flag_set *flags;	/* flag words */
};

static void print_dec(FILE *out, const struct sb_field *field,
		      const struct btrfs_super_block *sb)
{
	fprintf(out, "%llu\n", (unsigned long long)field->get(sb));
}

static void print_hex(FILE *out, const struct sb_field *field,
		      const struct btrfs_super_block *sb)
{
	fprintf(out, "0x%llx\n", (unsigned long long)field->get(sb));
}

static void print_flags(FILE *out, const struct sb_field *field,
			const struct btrfs_super_block *sb)
{
	u64 flags = field->get(sb);

	fprintf(out, "0x%llx\n", (unsigned long long)flags);
	print_flag_names(out, flags, field->flags);
}

static void print_csum_type(FILE *out, const struct sb_field *field,
			    const struct btrfs_super_block *sb)
{
	u16 type = btrfs_super_csum_type(sb);
	const char *name = btrfs_csum_type_name(type);

	(void)field;
	fprintf(out, "%hu (%s)\n", type,
		btrfs_csum_type_valid(type) && name ? name : "INVALID");
}

static void print_csum_size(FILE *out, const struct sb_field *field,
			    const struct btrfs_super_block *sb)
{
	(void)field;
	fprintf(out, "%u\n", shown_csum_size(sb));
}

static void print_csum(FILE *out, const struct sb_field *field,
		       const struct btrfs_super_block *sb)
{
	u32 size = shown_csum_size(sb);
	const char *verdict;
	u32 i;

	(void)field;
	fputs("0x", out);
	for (i = 0; i < size; i++)
		fprintf(out, "%02x", sb->csum[i]);
	if (!btrfs_csum_type_valid(btrfs_super_csum_type(sb)))
		verdict = "UNKNOWN CSUM TYPE OR SIZE";
	else
		verdict = super_csum_matches(sb) ? "match" : "DON'T MATCH";
	fprintf(out, " [%s]\n", verdict);
}

static void print_magic(FILE *out, const struct sb_field *field,
			const struct btrfs_super_block *sb)
{
	const char *magic = (const char *)&sb->magic;
	size_t i;

	(void)field;
	for (i = 0; i < sizeof(sb->magic); i++)
		fputc(is_printable(magic[i]) ? magic[i] : '.', out);
	fprintf(out, " [%s]\n", btrfs_super_magic(sb) == BTRFS_MAGIC ?
		"match" : "DON'T MATCH");
}

static void print_fsid(FILE *out, const struct sb_field *field,
		       const struct btrfs_super_block *sb)
{
	(void)field;
	print_uuid(out, sb->fsid);
	fputc('\n', out);
}

/* The metadata uuid if the feature is on, otherwise the fsid again. */
static void print_metadata_uuid(FILE *out, const struct sb_field *field,
				const struct btrfs_super_block *sb)
{
	(void)field;
	print_uuid(out, has_metadata_uuid(sb) ? sb->metadata_uuid : sb->fsid);
	fputc('\n', out);
}

static void print_label(FILE *out, const struct sb_field *field,
			const struct btrfs_super_block *sb)
{
	(void)field;
	print_sanitized(out, sb->label, sizeof(sb->label));
	fputc('\n', out);
}

static void print_dev_uuid(FILE *out, const struct sb_field *field,
			   const struct btrfs_super_block *sb)
{
	(void)field;
	print_uuid(out, sb->dev_item.uuid);
	fputc('\n', out);
}

/* The device's fsid, checked against the fsid metadata blocks carry. */
static void print_dev_fsid(FILE *out, const struct sb_field *field,
			   const struct btrfs_super_block *sb)
{
	const u8 *expect = has_metadata_uuid(sb) ? sb->metadata_uuid : sb->fsid;
	bool match = !memcmp(sb->dev_item.fsid, expect, BTRFS_FSID_SIZE);

	(void)field;
	print_uuid(out, sb->dev_item.fsid);
	fprintf(out, " [%s]\n", match ? "match" : "DON'T MATCH");
}

/* Getters with one signature for the field table. */
#define SB_GETTER(field)						\
	static u64 sb_get_##field(const struct btrfs_super_block *sb)	\
	{								\
		return btrfs_super_##field(sb);				\
	}
#define DEV_GETTER(field)						\
	static u64 dev_get_##field(const struct btrfs_super_block *sb)	\
	{								\
		return btrfs_stack_device_##field(&sb->dev_item);	\
	}

SB_GETTER(bytenr)
SB_GETTER(flags)
SB_GETTER(generation)
SB_GETTER(root)
SB_GETTER(sys_array_size)
SB_GETTER(chunk_root_generation)
SB_GETTER(root_level)
SB_GETTER(chunk_root)
SB_GETTER(chunk_root_level)
SB_GETTER(log_root)
SB_GETTER(log_root_transid)
SB_GETTER(log_root_level)
SB_GETTER(total_bytes)
SB_GETTER(bytes_used)
SB_GETTER(sectorsize)
SB_GETTER(nodesize)
SB_GETTER(leafsize)
SB_GETTER(stripesize)
SB_GETTER(root_dir)
SB_GETTER(num_devices)
SB_GETTER(compat_flags)
SB_GETTER(compat_ro_flags)
SB_GETTER(incompat_flags)
SB_GETTER(cache_generation)
SB_GETTER(uuid_tree_generation)
DEV_GETTER(type)
DEV_GETTER(total_bytes)
DEV_GETTER(bytes_used)
DEV_GETTER(io_align)
DEV_GETTER(io_width)
DEV_GETTER(sector_size)
DEV_GETTER(id)
DEV_GETTER(group)
DEV_GETTER(seek_speed)
DEV_GETTER(bandwidth)
DEV_GETTER(generation)

#define SPECIAL(name, fn) { name, fn, NULL, NULL }
#define DEC(name, getter) { name, print_dec, getter, NULL }
#define HEX(name, getter) { name, print_hex, getter, NULL }
#define FLAGS(name, getter, set) { name, print_flags, getter, set }

/* Every line of the dump, in the reference's order. */
static const struct sb_field sb_fields[] = {
	SPECIAL("csum_type", print_csum_type),
	SPECIAL("csum_size", print_csum_size),
	SPECIAL("csum", print_csum),
	DEC("bytenr", sb_get_bytenr),
	FLAGS("flags", sb_get_flags, &super_flags),
	SPECIAL("magic", print_magic),
	SPECIAL("fsid", print_fsid),
	SPECIAL("metadata_uuid", print_metadata_uuid),
	SPECIAL("label", print_label),
	DEC("generation", sb_get_generation),
	DEC("root", sb_get_root),
	DEC("sys_array_size", sb_get_sys_array_size),
	DEC("chunk_root_generation", sb_get_chunk_root_generation),
	DEC("root_level", sb_get_root_level),
	DEC("chunk_root", sb_get_chunk_root),
	DEC("chunk_root_level", sb_get_chunk_root_level),
	DEC("log_root", sb_get_log_root),
	DEC("log_root_transid (deprecated)", sb_get_log_root_transid),
	DEC("log_root_level", sb_get_log_root_level),
	DEC("total_bytes", sb_get_total_bytes),
	DEC("bytes_used", sb_get_bytes_used),
	DEC("sectorsize", sb_get_sectorsize),
	DEC("nodesize", sb_get_nodesize),
	DEC("leafsize (deprecated)", sb_get_leafsize),
	DEC("stripesize", sb_get_stripesize),
	DEC("root_dir", sb_get_root_dir),
	DEC("num_devices", sb_get_num_devices),
	HEX("compat_flags", sb_get_compat_flags),
	FLAGS("compat_ro_flags", sb_get_compat_ro_flags, &compat_ro_flags),
	FLAGS("incompat_flags", sb_get_incompat_flags, &incompat_flags),
	DEC("cache_generation", sb_get_cache_generation),
	DEC("uuid_tree_generation", sb_get_uuid_tree_generation),
	SPECIAL("dev_item.uuid", print_dev_uuid),
	SPECIAL("dev_item.fsid", print_dev_fsid),
	DEC("dev_item.type", dev_get_type),
	DEC("dev_item.total_bytes", dev_get_total_bytes),
	DEC("dev_item.bytes_used", dev_get_bytes_used),
	DEC("dev_item.io_align", dev_get_io_align),
	DEC("dev_item.io_width", dev_get_io_width),
	DEC("dev_item.sector_size", dev_get_sector_size),
	DEC("dev_item.devid", dev_get_id),
	DEC("dev_item.dev_group", dev_get_group),
	DEC("dev_item.seek_speed", dev_get_seek_speed),
	DEC("dev_item.bandwidth", dev_get_bandwidth),
	DEC("dev_item.generation", dev_get_generation),
};

/* "name" and tabs up to the value column, at least one tab. */
static void print_field_name(FILE *out, const char *name)
{
	size_t col = strlen(name);

	fputs(name, out);
	do {
		fputc('\t', out);
		col = (col / 8 + 1) * 8;
	} while (col < SB_VALUE_COLUMN);
}

static void print_fields(FILE *out, const struct btrfs_super_block *sb)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(sb_fields); i++) {
		print_field_name(out, sb_fields[i].name);
		sb_fields[i].print(out, &sb_fields[i], sb);
	}
}

/* ------------------------------------------------------------------ */
/* sys_chunk_array. */

/* Why the walk of the array stopped, in the reference's words. */
static void sys_array_error(const struct btrfs_sys_array_entry *e)
{
	switch (e->problem) {
	case BTRFS_SYS_ARRAY_NOT_CHUNK:
		error("unexpected item type %u in sys_array at offset %u",
		      btrfs_stack_disk_key_type(e->key), e->at);
		break;
	case BTRFS_SYS_ARRAY_NO_STRIPES:
		error("invalid number of stripes %u in sys_array at offset %u",
		      0U, e->at);
		break;
	case BTRFS_SYS_ARRAY_SHORT:
		error("sys_array too short to read %u bytes at offset %u",
		      e->need, e->at);
		break;
	}
}

/*
 * Walk the keys and chunks of the array held in @eb (a superblock copy),
 * with the engine's parser; the chunks are printed from @eb.
 */
static void print_sys_array_items(FILE *out, const struct extent_buffer *eb,
				  u32 array_size)
{
	const size_t array_start = offsetof(struct btrfs_super_block,
					    sys_chunk_array);
	const u8 *array = (const u8 *)eb->data + array_start;
	struct btrfs_sys_array_entry e;
	u32 cur = 0;
	int item, ret;

	for (item = 0; (ret = btrfs_sys_array_next(array, array_size, &cur,
						   &e)) != 0; item++) {
		if (e.key) {
			fprintf(out, "\titem %d ", item);
			btrfs_print_key(out, e.key);
			fputc('\n', out);
		}
		if (ret < 0) {
			sys_array_error(&e);
			return;
		}
		btrfs_print_chunk(out, eb,
				  (const struct btrfs_chunk *)(eb->data +
							     array_start +
							     e.chunk_offset),
				  e.chunk_size);
	}
}

static void print_sys_chunk_array(FILE *out, const struct btrfs_super_block *sb)
{
	u32 array_size = btrfs_super_sys_array_size(sb);
	struct extent_buffer *eb;

	fprintf(out, "sys_chunk_array[%d]:\n", BTRFS_SYSTEM_CHUNK_ARRAY_SIZE);
	if (array_size > BTRFS_SYSTEM_CHUNK_ARRAY_SIZE) {
		error("sys_array_size %u shouldn't exceed %u bytes", array_size,
		      BTRFS_SYSTEM_CHUNK_ARRAY_SIZE);
		return;
	}
	eb = alloc_extent_buffer(0, BTRFS_SUPER_INFO_SIZE);
	if (!eb) {
		error("not enough memory");
		return;
	}
	write_extent_buffer(eb, sb, 0, BTRFS_SUPER_INFO_SIZE);
	print_sys_array_items(out, eb, array_size);
	free_extent_buffer(eb);
}

/* ------------------------------------------------------------------ */
/* Backup roots. */

static void print_backup_root_line(FILE *out, const char *name, u64 bytenr,
				   u64 gen, u8 level)
{
	fprintf(out, "\t\t%s%llu\tgen: %llu\tlevel: %d\n", name,
		(unsigned long long)bytenr, (unsigned long long)gen, level);
}

/* One backup slot; with extent tree v2 its extent root is the bg root. */
static void print_backup_root(FILE *out, const struct btrfs_root_backup *b,
			      bool extent_tree_v2)
{
	print_backup_root_line(out, "backup_tree_root:\t",
			       btrfs_stack_backup_tree_root(b),
			       btrfs_stack_backup_tree_root_gen(b),
			       btrfs_stack_backup_tree_root_level(b));
	print_backup_root_line(out, "backup_chunk_root:\t",
			       btrfs_stack_backup_chunk_root(b),
			       btrfs_stack_backup_chunk_root_gen(b),
			       btrfs_stack_backup_chunk_root_level(b));
	print_backup_root_line(out, extent_tree_v2 ?
			       "backup_block_group_root:\t" :
			       "backup_extent_root:\t",
			       btrfs_stack_backup_extent_root(b),
			       btrfs_stack_backup_extent_root_gen(b),
			       btrfs_stack_backup_extent_root_level(b));
	print_backup_root_line(out, "backup_fs_root:\t\t",
			       btrfs_stack_backup_fs_root(b),
			       btrfs_stack_backup_fs_root_gen(b),
			       btrfs_stack_backup_fs_root_level(b));
	print_backup_root_line(out, "backup_dev_root:\t",
			       btrfs_stack_backup_dev_root(b),
			       btrfs_stack_backup_dev_root_gen(b),
			       btrfs_stack_backup_dev_root_level(b));
	print_backup_root_line(out, "csum_root:\t",
			       btrfs_stack_backup_csum_root(b),
			       btrfs_stack_backup_csum_root_gen(b),
			       btrfs_stack_backup_csum_root_level(b));
	fprintf(out, "\t\tbackup_total_bytes:\t%llu\n",
		(unsigned long long)btrfs_stack_backup_total_bytes(b));
	fprintf(out, "\t\tbackup_bytes_used:\t%llu\n",
		(unsigned long long)btrfs_stack_backup_bytes_used(b));
	fprintf(out, "\t\tbackup_num_devices:\t%llu\n\n",
		(unsigned long long)btrfs_stack_backup_num_devices(b));
}

/* Slots whose tree root and its generation are both zero are unused. */
static void print_backup_roots(FILE *out, const struct btrfs_super_block *sb)
{
	bool v2 = btrfs_super_incompat_flags(sb) &
		  BTRFS_FEATURE_INCOMPAT_EXTENT_TREE_V2;
	const struct btrfs_root_backup *b;
	int i;

	fprintf(out, "backup_roots[%d]:\n", BTRFS_NUM_BACKUP_ROOTS);
	for (i = 0; i < BTRFS_NUM_BACKUP_ROOTS; i++) {
		b = &sb->super_roots[i];
		if (!btrfs_stack_backup_tree_root(b) &&
		    !btrfs_stack_backup_tree_root_gen(b))
			continue;
		fprintf(out, "\tbackup %d:\n", i);
		print_backup_root(out, b, v2);
	}
}

/* ------------------------------------------------------------------ */
/* Reading and dumping one copy. */

static void dump_superblock(FILE *out, const struct btrfs_super_block *sb,
			    bool full)
{
	print_fields(out, sb);
	if (!full)
		return;
	print_sys_chunk_array(out, sb);
	print_backup_roots(out, sb);
}

/*
 * Read the copy at @bytenr of @io.  Returns 1 when it was read, 0 when the
 * device ends at or before @bytenr (nothing to show), -1 after reporting a
 * failed or partial read.
 */
static int read_super_copy(struct btrfs_io *io, const char *path, u64 bytenr,
			   struct btrfs_super_block *sb)
{
	int ret;

	/* past the largest file offset: as the reference, an EINVAL read */
	if (bytenr > (u64)INT64_MAX)
		ret = -EINVAL;
	else if (bytenr >= io->size)
		return 0;
	else
		ret = btrfs_io_pread(io, sb, BTRFS_SUPER_INFO_SIZE, bytenr);
	if (!ret)
		return 1;
	/* a partial read: the reference's words for it */
	if (ret == -ENODATA)
		ret = 0;
	error("failed to read the superblock on %s at %llu", path,
	      (unsigned long long)bytenr);
	error("error = '%s', errno = %d", strerror(-ret), -ret);
	return -1;
}

/* Print the copy at @bytenr.  0, or 1 when the command has to stop. */
static int dump_copy(const struct dump_super_opts *opts, struct btrfs_io *io,
		     const char *path, u64 bytenr)
{
	struct btrfs_super_block sb;
	int ret;

	ret = read_super_copy(io, path, bytenr, &sb);
	if (ret < 0)
		return 1;
	/*
	 * A device too short for a mirror simply has no such copy (an empty
	 * line, as btrfs-progs prints), but one too short for the primary
	 * holds no btrfs at all: btrfs-progs prints an empty line and exits 0
	 * there too, we say so and fail.
	 */
	if (ret == 0 && bytenr == BTRFS_SUPER_INFO_OFFSET) {
		error("%s ends before the superblock at %llu: not a btrfs device",
		      path, (unsigned long long)bytenr);
		return 1;
	}
	if (ret == 0)
		return 0;
	fprintf(stdout, "superblock: bytenr=%llu, device=%s\n",
		(unsigned long long)bytenr, path);
	fputs("---------------------------------------------------------\n",
	      stdout);
	if (btrfs_super_magic(&sb) != BTRFS_MAGIC && !opts->force) {
		error("bad magic on superblock on %s at %llu (use --force to dump it anyway)",
		      path, (unsigned long long)bytenr);
		return 1;
	}
	dump_superblock(stdout, &sb, opts->full);
	return 0;
}

/* Every requested copy of one device, each followed by an empty line. */
static int dump_device(const struct dump_super_opts *opts, const char *path)
{
	int nr_copies = opts->all ? BTRFS_SUPER_MIRROR_MAX : 1;
	struct btrfs_io *io;
	int ret = 0;
	int i;

	ret = btrfs_io_open(path, 0, &io);
	if (ret == -EISDIR) {
		/* the reference opens it and fails the read */
		error("failed to read the superblock on %s at %llu", path,
		      (unsigned long long)(opts->all ? btrfs_sb_offset(0) :
					   opts->bytenr));
		error("error = '%s', errno = %d", strerror(EISDIR), EISDIR);
		return 1;
	}
	if (ret) {
		error("cannot open %s: %s", path, strerror(-ret));
		return 1;
	}
	for (i = 0; i < nr_copies && !ret; i++) {
		ret = dump_copy(opts, io, path,
				opts->all ? btrfs_sb_offset(i) : opts->bytenr);
		if (!ret)
			fputc('\n', stdout);
	}
	btrfs_io_close(io);
	return ret;
}

/* ------------------------------------------------------------------ */
/* Command line. */

/*
 * A number as the reference reads option values: strtoull base 0 (so
 * leading blanks, "0x" and octal are accepted, "" is 0), but a leading '-'
 * is refused and ULLONG_MAX counts as too large.  Exits on error.
 */
static u64 parse_number_arg(const char *arg)
{
	unsigned long long value;
	char *end;

	if (arg[0] == '-') {
		error("%s: negative value is invalid", arg);
		exit(1);
	}
	errno = 0;
	value = strtoull(arg, &end, 0);
	if (*end) {
		error("%s is not a valid numeric value", arg);
		exit(1);
	}
	if (value == ULLONG_MAX) {
		error("%s is too large", arg);
		exit(1);
	}
	return value;
}

/* -i: a copy number, refused when out of range.  Does not clear --all. */
static void parse_mirror_arg(struct dump_super_opts *opts, const char *arg)
{
	u64 mirror;

	warning("option -i is deprecated, please use -s or --super");
	mirror = parse_number_arg(arg);
	if (mirror >= BTRFS_SUPER_MIRROR_MAX) {
		error("super mirror too big: %llu >= %d",
		      (unsigned long long)mirror, BTRFS_SUPER_MIRROR_MAX);
		exit(1);
	}
	opts->bytenr = btrfs_sb_offset((int)mirror);
}

/* -s / --super: a copy number, or (deprecated) a byte offset. */
static void parse_super_arg(struct dump_super_opts *opts, const char *arg)
{
	u64 value = parse_number_arg(arg);

	if (value < BTRFS_SUPER_MIRROR_MAX) {
		opts->bytenr = btrfs_sb_offset((int)value);
	} else {
		warning("deprecated use of -s <bytenr> with %llu, assuming --bytenr",
			(unsigned long long)value);
		opts->bytenr = value;
	}
	opts->all = false;
}

static void parse_options(const struct cmd_struct *cmd, int argc, char **argv,
			  struct dump_super_opts *opts)
{
	static const struct option long_options[] = {
		{ "all", no_argument, NULL, 'a' },
		{ "bytenr", required_argument, NULL, GETOPT_VAL_BYTENR },
		{ "full", no_argument, NULL, 'f' },
		{ "force", no_argument, NULL, 'F' },
		{ "super", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 }
	};
	int c;

	/* "+": options end at the first device, as in the reference. */
	while ((c = getopt_long(argc, argv, "+fFai:s:", long_options,
				NULL)) != -1) {
		switch (c) {
		case 'f':
			opts->full = true;
			break;
		case 'F':
			opts->force = true;
			break;
		case 'a':
			opts->all = true;
			break;
		case 'i':
			parse_mirror_arg(opts, optarg);
			break;
		case 's':
			parse_super_arg(opts, optarg);
			break;
		case GETOPT_VAL_BYTENR:
			opts->bytenr = parse_number_arg(optarg);
			opts->all = false;
			break;
		default:
			usage_unknown_option(cmd, argv);
		}
	}
}

static const char * const cmd_inspect_dump_super_usage[] = {
	"btrfs inspect-internal dump-super [options] device [device...]",
	"Dump superblock from a device in a textual form",
	"",
	OPTLINE("-f|--full", "print full superblock information, backup roots etc."),
	OPTLINE("-a|--all", "print information about all superblocks"),
	OPTLINE("-s|--super <super>", "specify which copy to print out (values: 0, 1, 2)"),
	OPTLINE("-F|--force", "attempt to dump superblocks with bad magic"),
	OPTLINE("--bytenr <offset>", "specify alternate superblock offset"),
	"",
	"Deprecated syntax:",
	OPTLINE("-s <bytenr>", "specify alternate superblock offset, values other than 0, 1, 2 will be interpreted\n"
		"as --bytenr for backward compatibility, option renamed for consistency with other\n"
		"tools (eg. check)"),
	OPTLINE("-i <super>", "specify which copy to print out (values: 0, 1, 2), now moved to --super"),
	NULL
};

static int cmd_inspect_dump_super(const struct cmd_struct *cmd, int argc,
				  char **argv)
{
	struct dump_super_opts opts = { .bytenr = BTRFS_SUPER_INFO_OFFSET };
	int ret = 0;
	int i;

	parse_options(cmd, argc, argv, &opts);
	if (check_argc_min(argc - optind, 1))
		return 1;
	for (i = optind; i < argc && !ret; i++)
		ret = dump_device(&opts, argv[i]);
	return ret;
}
DEFINE_SIMPLE_COMMAND(inspect_dump_super, "dump-super");
