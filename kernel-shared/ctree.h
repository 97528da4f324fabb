/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Core in-memory types of the engine (keys, paths, roots, the filesystem)
 * and btree navigation.  Mirrors the kernel's fs/btrfs/ctree.h naming.
 */
#ifndef BTRFS_CTREE_H
#define BTRFS_CTREE_H

#include <pthread.h>

#include "kernel-shared/format.h"

struct btrfs_fs_devices;
struct btrfs_mapping_tree;
struct btrfs_trans_handle;

/* A key in CPU byte order.  Keys sort by objectid, then type, then offset. */
struct btrfs_key {
	u64 objectid;
	u8 type;
	u64 offset;
};

/* -1, 0, 1 as @a sorts before, equal to, after @b. */
int btrfs_comp_cpu_keys(const struct btrfs_key *a, const struct btrfs_key *b);

static inline void btrfs_disk_key_to_cpu(struct btrfs_key *cpu,
					 const struct btrfs_disk_key *disk)
{
	cpu->objectid = btrfs_stack_disk_key_objectid(disk);
	cpu->type = btrfs_stack_disk_key_type(disk);
	cpu->offset = btrfs_stack_disk_key_offset(disk);
}

static inline void btrfs_cpu_key_to_disk(struct btrfs_disk_key *disk,
					 const struct btrfs_key *cpu)
{
	btrfs_set_stack_disk_key_objectid(disk, cpu->objectid);
	btrfs_set_stack_disk_key_type(disk, cpu->type);
	btrfs_set_stack_disk_key_offset(disk, cpu->offset);
}

/* ------------------------------------------------------------------ */
/* Leaf and node layout inside an extent buffer. */

#define BTRFS_LEAF_DATA_OFFSET sizeof(struct btrfs_header)

/* Bytes for items and their data in a leaf of @nodesize. */
static inline u32 btrfs_leaf_data_size(u32 nodesize)
{
	return nodesize - (u32)sizeof(struct btrfs_header);
}

/* Maximum key pointers in a node of @nodesize. */
static inline u32 btrfs_max_node_ptrs(u32 nodesize)
{
	return btrfs_leaf_data_size(nodesize) / (u32)sizeof(struct btrfs_key_ptr);
}

static inline struct btrfs_item *btrfs_item_nr(const struct extent_buffer *eb,
					       int slot)
{
	return (struct btrfs_item *)(eb->data + BTRFS_LEAF_DATA_OFFSET +
				     sizeof(struct btrfs_item) * (size_t)slot);
}

static inline struct btrfs_key_ptr *
btrfs_key_ptr_nr(const struct extent_buffer *eb, int slot)
{
	return (struct btrfs_key_ptr *)(eb->data + BTRFS_LEAF_DATA_OFFSET +
					sizeof(struct btrfs_key_ptr) *
						(size_t)slot);
}

/* Offset of item @slot's data, relative to the end of the header. */
static inline u32 btrfs_item_offset(const struct extent_buffer *eb, int slot)
{
	return btrfs_raw_item_offset(eb, btrfs_item_nr(eb, slot));
}

static inline u32 btrfs_item_size(const struct extent_buffer *eb, int slot)
{
	return btrfs_raw_item_size(eb, btrfs_item_nr(eb, slot));
}

/* End of item @slot's data (offset + size), relative to header end. */
static inline u32 btrfs_item_data_end(const struct extent_buffer *eb, int slot)
{
	return btrfs_item_offset(eb, slot) + btrfs_item_size(eb, slot);
}

/*
 * Items or pointers in @eb, never more than fit in the buffer, so that a
 * block that skipped the tree checker cannot make a walker address
 * outside it.  The one clamp every walker uses.
 */
static inline int btrfs_header_nritems_clamped(const struct extent_buffer *eb)
{
	u32 nr = btrfs_header_nritems(eb);
	u32 cap;

	if (eb->len <= BTRFS_LEAF_DATA_OFFSET)
		return 0;
	if (btrfs_header_level(eb) == 0)
		cap = btrfs_leaf_data_size(eb->len) / sizeof(struct btrfs_item);
	else
		cap = btrfs_max_node_ptrs(eb->len);
	return (int)min_t(u32, nr, cap);
}

/*
 * Pointer to the data of item @slot.  Only valid for a buffer that passed
 * the tree checker (item data within the leaf).
 */
static inline void *btrfs_item_ptr_raw(const struct extent_buffer *eb, int slot)
{
	return (void *)(eb->data + BTRFS_LEAF_DATA_OFFSET +
			btrfs_item_offset(eb, slot));
}

#define btrfs_item_ptr(eb, slot, type) ((type *)btrfs_item_ptr_raw(eb, slot))

/*
 * Byte offset in @eb of the data of item @slot, for read_extent_buffer()
 * and write_extent_buffer(); plus @field_off for a field inside it
 * (offsetof() of the item's struct).
 */
static inline unsigned long btrfs_item_ptr_offset(const struct extent_buffer *eb,
						  int slot)
{
	return BTRFS_LEAF_DATA_OFFSET + btrfs_item_offset(eb, slot);
}

/*
 * The drop_progress key of root item @ri in @eb; false (and @key zeroed)
 * when the field lies outside the buffer (a legacy, short item).
 */
static inline bool btrfs_root_drop_progress(const struct extent_buffer *eb,
					    const struct btrfs_root_item *ri,
					    struct btrfs_key *key)
{
	if (!eb_range_ok(eb, &ri->drop_progress, sizeof(ri->drop_progress))) {
		memset(key, 0, sizeof(*key));
		return false;
	}
	btrfs_disk_key_to_cpu(key, &ri->drop_progress);
	return true;
}

static inline void btrfs_item_key(const struct extent_buffer *eb,
				  struct btrfs_disk_key *key, int slot)
{
	memcpy(key, &btrfs_item_nr(eb, slot)->key, sizeof(*key));
}

static inline void btrfs_item_key_to_cpu(const struct extent_buffer *eb,
					 struct btrfs_key *key, int slot)
{
	btrfs_disk_key_to_cpu(key, &btrfs_item_nr(eb, slot)->key);
}

static inline void btrfs_node_key(const struct extent_buffer *eb,
				  struct btrfs_disk_key *key, int slot)
{
	memcpy(key, &btrfs_key_ptr_nr(eb, slot)->key, sizeof(*key));
}

static inline void btrfs_node_key_to_cpu(const struct extent_buffer *eb,
					 struct btrfs_key *key, int slot)
{
	btrfs_disk_key_to_cpu(key, &btrfs_key_ptr_nr(eb, slot)->key);
}

static inline u64 btrfs_node_blockptr(const struct extent_buffer *eb, int slot)
{
	return btrfs_key_ptr_blockptr(eb, btrfs_key_ptr_nr(eb, slot));
}

static inline u64 btrfs_node_ptr_generation(const struct extent_buffer *eb,
					    int slot)
{
	return btrfs_key_ptr_generation(eb, btrfs_key_ptr_nr(eb, slot));
}

/* First key of a block: item 0 of a leaf, key pointer 0 of a node. */
static inline void btrfs_first_key_to_cpu(const struct extent_buffer *eb,
					  struct btrfs_key *key)
{
	if (btrfs_header_level(eb) == 0)
		btrfs_item_key_to_cpu(eb, key, 0);
	else
		btrfs_node_key_to_cpu(eb, key, 0);
}

/* ------------------------------------------------------------------ */
/* Paths. */

/*
 * A path from a root down to a slot.  nodes[0] is the leaf; nodes[level] is
 * NULL above the root.  Each held node carries one reference.
 */
struct btrfs_path {
	struct extent_buffer *nodes[BTRFS_MAX_LEVEL];
	int slots[BTRFS_MAX_LEVEL];
	int lowest_level;	/* stop the search at this level */
	unsigned int skip_release_on_error:1;
};

struct btrfs_path *btrfs_alloc_path(void);
void btrfs_free_path(struct btrfs_path *path);	/* NULL ok */
void btrfs_release_path(struct btrfs_path *path); /* drop all nodes */

/* ------------------------------------------------------------------ */
/* Roots and the filesystem. */

/* One tree: its root item and its root block. */
struct btrfs_root {
	struct btrfs_key root_key;	/* (objectid, ROOT_ITEM, offset) */
	struct btrfs_root_item root_item; /* copy of the on-disk item */
	struct extent_buffer *node;	/* root block, one reference */
	struct btrfs_fs_info *fs_info;
};

/* What a repair open (OPEN_CTREE_REPAIR) found wrong and set right. */
enum btrfs_open_fixup_kind {
	BTRFS_FIXUP_BG_USED,		/* id: block group start */
	BTRFS_FIXUP_DEV_BYTES_USED,	/* id: devid */
	BTRFS_FIXUP_SUPER_BYTES_USED,	/* id: 0 */
	BTRFS_FIXUP_FST_NOT_VALID,	/* id, found, expected: 0 */
	BTRFS_FIXUP_LOG_DROPPED,	/* id: log root bytenr */
};

struct btrfs_open_fixup {
	enum btrfs_open_fixup_kind kind;
	u64 id;
	u64 found;			/* on disk */
	u64 expected;			/* recomputed, in memory now */
};

/*
 * An open filesystem.  Filled by open_ctree(); read-only users only read it.
 * Invariants: nodesize/sectorsize/csum_type are validated copies of the
 * chosen superblock; every non-NULL root has a verified root node.
 */
struct btrfs_bad_copy;

struct btrfs_fs_info {
	struct btrfs_super_block super_copy; /* the superblock in use */
	u64 super_bytenr;		/* where super_copy was read */
	u8 fsid[BTRFS_FSID_SIZE];
	u8 metadata_uuid[BTRFS_FSID_SIZE];
	u8 chunk_tree_uuid[BTRFS_UUID_SIZE];
	u32 nodesize;
	u32 sectorsize;
	u32 stripesize;
	u16 csum_type;
	u16 csum_size;
	u64 generation;

	struct btrfs_root *tree_root;
	struct btrfs_root *chunk_root;
	struct btrfs_root *extent_root;
	struct btrfs_root *dev_root;
	struct btrfs_root *csum_root;
	struct btrfs_root *fs_root;
	struct btrfs_root *uuid_root;
	struct btrfs_root *quota_root;
	struct btrfs_root *free_space_root;
	struct btrfs_root *block_group_root;
	struct btrfs_root *log_root_tree;

	struct btrfs_fs_devices *fs_devices;
	struct btrfs_mapping_tree *mapping_tree;
	struct extent_buffer_cache *eb_cache;
	unsigned int open_flags;	/* OPEN_CTREE_* from disk-io.h */
	/* open_ctree_args.on_bad_copy (disk-io.h): told of bad tree copies */
	void (*on_bad_copy)(const struct btrfs_bad_copy *bad, void *data);
	void *on_bad_copy_data;

	/*
	 * Write path, only with OPEN_CTREE_WRITES (else NULL / 0).  One writer:
	 * none of this is locked.
	 */
	struct btrfs_block_group **block_groups;	/* sorted by start */
	size_t nr_block_groups;
	size_t cap_block_groups;
	struct btrfs_trans_handle *running_transaction;
	bool write_failed;		/* after an abort: close only */

	/* OPEN_CTREE_REPAIR: what the open set right (disk-io.h). */
	struct btrfs_open_fixup *open_fixups;
	size_t nr_open_fixups;
	size_t cap_open_fixups;
	bool drop_log;			/* the next commit clears the log root */
};

static inline bool btrfs_fs_incompat(const struct btrfs_fs_info *fs_info,
				     u64 flag)
{
	return (btrfs_super_incompat_flags(&fs_info->super_copy) & flag) != 0;
}

static inline bool btrfs_fs_compat_ro(const struct btrfs_fs_info *fs_info,
				      u64 flag)
{
	return (btrfs_super_compat_ro_flags(&fs_info->super_copy) & flag) != 0;
}

/* ------------------------------------------------------------------ */
/* Btree navigation. */

/*
 * Find @key in @root.  On return path->nodes[0]/slots[0] point at the key
 * (return 0) or at the slot where it would be inserted (return 1; the slot
 * may equal nritems).  Negative errno on read errors (-EIO, -EUCLEAN).
 * Read-only with @cow 0 (@trans may be NULL, @ins_len must be <= 0); with
 * @cow 1 see "Btree modification" below.
 */
int btrfs_search_slot(struct btrfs_trans_handle *trans, struct btrfs_root *root,
		      const struct btrfs_key *key, struct btrfs_path *path,
		      int ins_len, int cow);

/*
 * Move to the first item of the next leaf.  0 on success, 1 when there is
 * no next leaf, negative errno on error.
 */
int btrfs_next_leaf(struct btrfs_root *root, struct btrfs_path *path);

/* Move to the last item of the previous leaf: 0, 1 at the start, <0. */
int btrfs_prev_leaf(struct btrfs_root *root, struct btrfs_path *path);

/* Advance one item, crossing leaves: 0, 1 at the end, <0. */
int btrfs_next_item(struct btrfs_root *root, struct btrfs_path *path);

/*
 * Step back to the previous item with objectid >= @min_objectid and the
 * given @type (any type if 0): 0 found, 1 none, <0 error.
 */
int btrfs_previous_item(struct btrfs_root *root, struct btrfs_path *path,
			u64 min_objectid, int type);

/*
 * Find the first item with key >= @key: 0 found (path at it), 1 no such
 * item, <0 error.
 */
int btrfs_search_slot_for_read(struct btrfs_root *root,
			       const struct btrfs_key *key,
			       struct btrfs_path *path);

/*
 * Read child @slot of node @parent with the parent's expectations (level,
 * generation, first key).  Returns the buffer (one reference) or ERR_PTR.
 */
struct extent_buffer *btrfs_read_node_slot(struct btrfs_fs_info *fs_info,
					   struct extent_buffer *parent,
					   int slot);

/*
 * Visit every block of the tree under @root_eb, each exactly once, calling
 * @visit(eb, ctx) parents before children.  Depth-first in key order when
 * @bfs is false, level by level (breadth-first) when true.  Blocks that fail
 * to read are reported through @on_error(bytenr, err, ctx) (may be NULL)
 * and skipped.  A block reached twice (a loop or a shared pointer within one
 * tree) is visited once.  A nonzero return from @visit stops the walk and
 * is returned.
 */
struct btrfs_tree_walk_ops {
	int (*visit)(struct extent_buffer *eb, void *ctx);
	void (*on_error)(u64 bytenr, int err, void *ctx);
};
int btrfs_walk_tree(struct btrfs_fs_info *fs_info, struct extent_buffer *root_eb,
		    bool bfs, const struct btrfs_tree_walk_ops *ops, void *ctx);

/* ------------------------------------------------------------------ */
/*
 * Btree modification (write path).  All of these need a transaction on a
 * filesystem opened with OPEN_CTREE_WRITES and a path that came from
 * btrfs_search_slot(trans, root, key, path, ins_len, 1), which copied (COWed)
 * every block on the path into this transaction:
 *
 * - ins_len > 0: room for ins_len bytes (items and their headers) is made in
 *   the leaf, splitting it and any full node on the way down;
 * - ins_len < 0: the path is about to delete; a root node left with a
 *   single child is replaced by that child first.
 *
 * COW is done in two stages as in the kernel: the destination extent is
 * reserved (btrfs_reserve_extent) before the path is modified, then the
 * block is copied into it (btrfs_cow_block); a reservation left unused is
 * returned with btrfs_free_reserved_extent.  Blocks already copied in this
 * transaction are modified in place.  Every new block queues a delayed ref
 * adding it, every replaced one a delayed ref dropping it.
 */

/*
 * Reference counted trees (subvolumes, snapshots, the relocation tree),
 * whose blocks snapshots may share.
 */
bool btrfs_root_is_shareable(const struct btrfs_root *root);

/* Largest item (data bytes) a leaf of @nodesize holds. */
static inline u32 btrfs_max_item_size(u32 nodesize)
{
	return btrfs_leaf_data_size(nodesize) - (u32)sizeof(struct btrfs_item);
}

/* Bytes left for items and their data in @leaf. */
u32 btrfs_leaf_free_space(const struct extent_buffer *leaf);

/*
 * Copy @buf into the reserved extent @ins (stage two of COW) and make its
 * parent (@parent at @parent_slot, or the root when @buf is the root node)
 * point to the copy.  *cow_ret gets the copy with one reference.  The
 * reservation is consumed whether or not this succeeds.  A block that
 * snapshots may share gets the kernel's update_ref_for_cow (see ctree.c).
 * 0 or <0; -EOPNOTSUPP for relocation trees and blocks and old-format
 * backrefs.
 */
int btrfs_cow_block(struct btrfs_trans_handle *trans, struct btrfs_root *root,
		    struct extent_buffer *buf, struct extent_buffer *parent,
		    int parent_slot, struct extent_buffer **cow_ret,
		    const struct btrfs_key *ins);

/*
 * A new tree block of @root in the reserved extent @ins (its header as
 * btrfs_alloc_reserved_tree_block() writes it, with @buf's level and first
 * key) holding a copy of @buf's items or pointers.  One reference, or
 * ERR_PTR.  References to what the copy points at are the caller's.
 */
struct extent_buffer *btrfs_alloc_tree_block_copy(
				struct btrfs_trans_handle *trans,
				struct btrfs_root *root,
				const struct btrfs_key *ins,
				const struct extent_buffer *buf);

/*
 * Insert @nr empty items with sorted @keys and data @sizes at the place
 * the keys belong; path->nodes[0] / slots[0] point at the first one.
 * 0, -EEXIST (the first key exists), -EOVERFLOW (too big for a leaf), <0.
 */
int btrfs_insert_empty_items(struct btrfs_trans_handle *trans,
			     struct btrfs_root *root, struct btrfs_path *path,
			     const struct btrfs_key *keys, const u32 *sizes,
			     int nr);

static inline int btrfs_insert_empty_item(struct btrfs_trans_handle *trans,
					  struct btrfs_root *root,
					  struct btrfs_path *path,
					  const struct btrfs_key *key, u32 size)
{
	return btrfs_insert_empty_items(trans, root, path, key, &size, 1);
}

/* Insert one item with @size bytes of @data. 0, -EEXIST, <0. */
int btrfs_insert_item(struct btrfs_trans_handle *trans, struct btrfs_root *root,
		      const struct btrfs_key *key, const void *data, u32 size);

/*
 * Search with COW for the item that must exist at exactly @key, to change
 * it in place (@ins_len 0) or delete it (@ins_len -1).  0 with the path at
 * it; -EUCLEAN when it is missing or has fewer than @min_size bytes; <0
 * when the search fails.
 */
int btrfs_search_existing_item(struct btrfs_trans_handle *trans,
			       struct btrfs_root *root,
			       const struct btrfs_key *key,
			       struct btrfs_path *path, int ins_len,
			       u32 min_size);

/*
 * Delete @nr items from @slot of path->nodes[0] (a path searched with
 * ins_len < 0 and cow).  A leaf left empty is removed from the tree; a leaf
 * left less than a third full gives its items to its neighbours when they
 * have room.  The path must be released before it is used again.
 */
int btrfs_del_items(struct btrfs_trans_handle *trans, struct btrfs_root *root,
		    struct btrfs_path *path, int slot, int nr);

static inline int btrfs_del_item(struct btrfs_trans_handle *trans,
				 struct btrfs_root *root,
				 struct btrfs_path *path)
{
	return btrfs_del_items(trans, root, path, path->slots[0], 1);
}

/*
 * Grow the item at the path by @data_size zeroed bytes at its end; the path
 * must come from a search for its key with ins_len >= @data_size (which
 * fails with -EOVERFLOW when the item would outgrow btrfs_max_item_size).
 * 0, -ENOSPC.
 */
int btrfs_extend_item(struct btrfs_trans_handle *trans,
		      struct btrfs_path *path, u32 data_size);

/*
 * Shrink the item at the path to @new_size bytes, keeping its first bytes
 * (@from_end true) or its last ones.  0, -EINVAL.
 */
int btrfs_truncate_item(struct btrfs_trans_handle *trans,
			struct btrfs_path *path, u32 new_size, bool from_end);

#endif
