// SPDX-License-Identifier: GPL-2.0
/*
 * btrfs check pass 8: subvolume references, the uuid tree, quota groups.
 *
 * Root refs: every ROOT_REF (parent -> child) of the root tree has its
 * ROOT_BACKREF (child -> parent) with the same directory, sequence and
 * name, and back; the child has a root item; the parent tree has the
 * directory index entry the ref describes (name and location).
 *
 * UUID tree: when the uuid tree is current (its generation in the
 * superblock equals the filesystem's), every live subvolume with a uuid
 * (and a received uuid) has its entry.  An entry naming a subvolume that
 * does not exist or has another uuid only gets a warning: the kernel
 * removes such stale entries itself when it mounts.
 *
 * Quota groups: relation items come in both directions; a live subvolume
 * without qgroup gets a warning; the referenced and exclusive bytes of the
 * level-0 qgroups are recomputed and compared (qgroup-verify.c), and -Q
 * prints both sides.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <uuid/uuid.h>

#include "common/array.h"
#include "common/csum.h"
#include "cmds/check/check.h"
#include "kernel-shared/disk-io.h"

/* One ROOT_REF or ROOT_BACKREF, normalized to (parent, child). */
struct ref_rec {
	u64 parent;
	u64 child;
	u64 dirid;
	u64 sequence;
	u64 name_hash;
	u16 name_len;
	bool backref;
	bool matched;
	struct btrfs_key key;	/* of the item, for messages */
};

/* One subvolume root item. */
struct subvol_rec {
	u64 id;
	u64 key_offset;		/* of its root item */
	u32 refs;
	u8 uuid[BTRFS_UUID_SIZE];
	u8 received_uuid[BTRFS_UUID_SIZE];
	bool has_uuid_entry;
	bool has_received_entry;
	bool has_backref;
	bool has_qgroup;
};

struct roots_state {
	struct ref_rec *refs;
	size_t nr_refs, cap_refs;
	struct subvol_rec *subs;
	size_t nr_subs, cap_subs;
};

static void *grow(void **arr, size_t *nr, size_t *cap, size_t size)
{
	if (array_reserve_raw(arr, cap, *nr + 1, size, 32))
		return NULL;
	memset((char *)*arr + *nr * size, 0, size);
	return (char *)*arr + (*nr)++ * size;
}

static struct subvol_rec *find_sub(struct roots_state *st, u64 id)
{
	size_t lo = 0, hi = st->nr_subs;

	/* root items come in key order: the array is sorted by id */
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (st->subs[mid].id == id)
			return &st->subs[mid];
		if (st->subs[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* ------------------------------------------------------------------ */
/* Collect root items and refs from the root tree. */

static int add_ref(struct check_ctx *ctx, struct roots_state *st,
		   struct extent_buffer *eb, int slot,
		   const struct btrfs_key *key)
{
	struct btrfs_root_ref *ref = btrfs_item_ptr(eb, slot,
						    struct btrfs_root_ref);
	u32 size = btrfs_item_size(eb, slot);
	struct ref_rec *r;
	u16 len;

	if (size < sizeof(*ref))
		return 0;
	len = btrfs_root_ref_name_len(eb, ref);
	if (len > size - sizeof(*ref)) {
		/* the kernel's tree checker refuses the leaf */
		struct check_finding f = {
			.code = CHECK_ROOT_REF,
			.root = BTRFS_ROOT_TREE_OBJECTID,
			.key = *key,
			.has_values = true,
			.expected = size - sizeof(*ref),
			.found = len,
		};

		check_report(ctx, &f,
			     "%s name_len %u runs past the item (%zu bytes of name)",
			     key->type == BTRFS_ROOT_REF_KEY ? "root ref" :
							       "root backref",
			     len, (size_t)(size - sizeof(*ref)));
		/* compared with the other side clamped */
		len = (u16)(size - sizeof(*ref));
	}
	r = grow((void **)&st->refs, &st->nr_refs, &st->cap_refs, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->backref = key->type == BTRFS_ROOT_BACKREF_KEY;
	r->parent = r->backref ? key->offset : key->objectid;
	r->child = r->backref ? key->objectid : key->offset;
	r->dirid = btrfs_root_ref_dirid(eb, ref);
	r->sequence = btrfs_root_ref_sequence(eb, ref);
	r->name_len = len;
	r->name_hash = btrfs_name_hash((const char *)(ref + 1), len);
	r->key = *key;
	return 0;
}

static int add_subvol(struct roots_state *st, struct extent_buffer *eb,
		      int slot, const struct btrfs_key *key)
{
	struct btrfs_root_item *ri = btrfs_item_ptr(eb, slot,
						    struct btrfs_root_item);
	u32 size = btrfs_item_size(eb, slot);
	struct subvol_rec *s;

	if (size < BTRFS_LEGACY_ROOT_ITEM_SIZE)
		return 0;
	if (st->nr_subs && st->subs[st->nr_subs - 1].id == key->objectid)
		s = &st->subs[st->nr_subs - 1];	/* keep the newest */
	else
		s = grow((void **)&st->subs, &st->nr_subs, &st->cap_subs,
			 sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->id = key->objectid;
	s->key_offset = key->offset;
	s->refs = btrfs_root_refs(eb, ri);
	if (size >= sizeof(*ri)) {
		memcpy(s->uuid, ri->uuid, BTRFS_UUID_SIZE);
		memcpy(s->received_uuid, ri->received_uuid, BTRFS_UUID_SIZE);
	}
	return 0;
}

static int collect_root_tree(struct check_ctx *ctx, struct extent_buffer *eb,
			     int slot, const struct btrfs_key *key, void *data)
{
	(void)ctx;
	if (key->type == BTRFS_ROOT_REF_KEY ||
	    key->type == BTRFS_ROOT_BACKREF_KEY)
		return add_ref(ctx, data, eb, slot, key);
	if (key->type == BTRFS_ROOT_ITEM_KEY && check_is_fstree(key->objectid))
		return add_subvol(data, eb, slot, key);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Refs against backrefs, and against the parent's directory. */

static int cmp_ref(const void *a, const void *b)
{
	const struct ref_rec *x = a, *y = b;

	if (x->parent != y->parent)
		return x->parent < y->parent ? -1 : 1;
	if (x->child != y->child)
		return x->child < y->child ? -1 : 1;
	if (x->backref != y->backref)
		return x->backref ? 1 : -1;
	return 0;
}

static void ref_finding(struct check_ctx *ctx, const struct ref_rec *r,
			const char *msg)
{
	struct check_finding f = {
		.code = CHECK_ROOT_REF,
		.root = BTRFS_ROOT_TREE_OBJECTID,
		.key = r->key,
	};

	check_report(ctx, &f, "%s: parent %llu child %llu", msg,
		     (unsigned long long)r->parent,
		     (unsigned long long)r->child);
}

static bool same_ref(const struct ref_rec *a, const struct ref_rec *b)
{
	return a->dirid == b->dirid && a->sequence == b->sequence &&
	       a->name_len == b->name_len && a->name_hash == b->name_hash;
}

/*
 * The directory index entry in the parent for ref @r; true when it is
 * there and names the child (the subvolume is linked).
 */
static bool check_dir_entry(struct check_ctx *ctx, const struct ref_rec *r)
{
	struct btrfs_key loc = { r->parent, BTRFS_ROOT_ITEM_KEY, (u64)-1 };
	struct btrfs_key key = { r->dirid, BTRFS_DIR_INDEX_KEY, r->sequence };
	struct btrfs_root *parent = btrfs_read_tree_root(ctx->fs_info, &loc);
	struct btrfs_path *path;
	struct btrfs_dir_item *di;
	struct btrfs_key target;
	bool ok = false;

	if (IS_ERR(parent))
		return false;	/* pass 3 reported an unreadable tree */
	path = btrfs_alloc_path();
	if (path && btrfs_search_slot(NULL, parent, &key, path, 0, 0) == 0 &&
	    btrfs_item_size(path->nodes[0], path->slots[0]) >= sizeof(*di)) {
		struct extent_buffer *eb = path->nodes[0];
		u32 size = btrfs_item_size(eb, path->slots[0]);

		di = btrfs_item_ptr(eb, path->slots[0], struct btrfs_dir_item);
		btrfs_disk_key_to_cpu(&target, &di->location);
		ok = target.objectid == r->child &&
		     target.type == BTRFS_ROOT_ITEM_KEY &&
		     btrfs_dir_name_len(eb, di) == r->name_len &&
		     r->name_len <= size - sizeof(*di) &&
		     btrfs_name_hash((const char *)(di + 1), r->name_len) ==
			     r->name_hash;
	}
	if (path && !ok)
		ref_finding(ctx, r,
			    "root ref without matching directory index in the parent");
	btrfs_free_path(path);
	btrfs_free_root(parent);
	return ok;
}

/*
 * A root item with refs 0 is a deleted subvolume waiting for the cleaner;
 * one that a directory still links to is not deleted, and the kernel
 * refuses to look it up.
 */
static void check_linked_refs(struct check_ctx *ctx, const struct ref_rec *r,
			      const struct subvol_rec *child)
{
	struct check_finding f = {
		.code = CHECK_ROOT_ITEM,
		.root = BTRFS_ROOT_TREE_OBJECTID,
		.key = { child->id, BTRFS_ROOT_ITEM_KEY, child->key_offset },
		.has_values = true,
		.expected = 1,
		.found = 0,
	};

	check_report(ctx, &f,
		     "subvolume %llu root item refs is 0 while directory %llu of tree %llu links it",
		     (unsigned long long)child->id,
		     (unsigned long long)r->dirid,
		     (unsigned long long)r->parent);
}

static void check_refs(struct check_ctx *ctx, struct roots_state *st)
{
	size_t i;

	if (st->nr_refs)
		qsort(st->refs, st->nr_refs, sizeof(*st->refs), cmp_ref);
	for (i = 0; i < st->nr_refs; i++) {
		struct ref_rec *r = &st->refs[i];
		struct ref_rec *n = i + 1 < st->nr_refs ? r + 1 : NULL;
		struct subvol_rec *child;

		if (r->matched)
			continue;
		if (!r->backref && n && n->backref && n->parent == r->parent &&
		    n->child == r->child) {
			n->matched = true;
			if (!same_ref(r, n))
				ref_finding(ctx, r,
					    "root ref and backref differ");
		} else {
			ref_finding(ctx, r, r->backref ?
				    "root backref without root ref" :
				    "root ref without root backref");
		}
		child = find_sub(st, r->child);
		if (!child)
			ref_finding(ctx, r, "root ref to a missing subvolume");
		else if (r->backref || (n && n->matched))
			child->has_backref = true;
		if (!r->backref && check_dir_entry(ctx, r) && child &&
		    child->refs == 0)
			check_linked_refs(ctx, r, child);
	}
	for (i = 0; i < st->nr_subs; i++) {
		struct subvol_rec *s = &st->subs[i];
		struct check_finding f = {
			.code = CHECK_ROOT_ITEM,
			.root = BTRFS_ROOT_TREE_OBJECTID,
			.key = { s->id, BTRFS_ROOT_ITEM_KEY, 0 },
		};

		if (s->id != BTRFS_FS_TREE_OBJECTID && s->refs &&
		    !s->has_backref)
			check_report(ctx, &f,
				     "subvolume %llu has no root backref",
				     (unsigned long long)s->id);
	}
}

/* ------------------------------------------------------------------ */
/* The uuid tree. */

static void uuid_of_key(const struct btrfs_key *key, u8 *uuid)
{
	put_unaligned_le64(key->objectid, uuid);
	put_unaligned_le64(key->offset, uuid + 8);
}

static int check_uuid_item(struct check_ctx *ctx, struct extent_buffer *eb,
			   int slot, const struct btrfs_key *key, void *data)
{
	struct roots_state *st = data;
	u32 size = btrfs_item_size(eb, slot);
	const u8 *p = btrfs_item_ptr(eb, slot, u8);
	u8 uuid[BTRFS_UUID_SIZE];
	u32 off;

	if (key->type != BTRFS_UUID_KEY_SUBVOL &&
	    key->type != BTRFS_UUID_KEY_RECEIVED_SUBVOL)
		return 0;
	uuid_of_key(key, uuid);
	for (off = 0; off + 8 <= size; off += 8) {
		u64 id = get_unaligned_le64(p + off);
		struct subvol_rec *s = find_sub(st, id);
		bool recv = key->type == BTRFS_UUID_KEY_RECEIVED_SUBVOL;

		if (s && !memcmp(recv ? s->received_uuid : s->uuid, uuid,
				 BTRFS_UUID_SIZE)) {
			if (recv)
				s->has_received_entry = true;
			else
				s->has_uuid_entry = true;
			continue;
		}
		/* the kernel drops such stale entries itself at mount */
		if (!(ctx->flags & CHECK_F_QUIET))
			fprintf(ctx->err,
				"WARNING: stale uuid tree entry (%llu %u %llu) for subvolume %llu which %s\n",
				(unsigned long long)key->objectid, key->type,
				(unsigned long long)key->offset,
				(unsigned long long)id,
				s ? "has another uuid" : "does not exist");
	}
	return 0;
}

static bool uuid_zero(const u8 *u)
{
	static const u8 zero[BTRFS_UUID_SIZE];

	return memcmp(u, zero, BTRFS_UUID_SIZE) == 0;
}

static void check_uuid_tree(struct check_ctx *ctx, struct roots_state *st)
{
	const struct btrfs_super_block *sb = &ctx->fs_info->super_copy;
	size_t i;
	int ret;

	if (!ctx->fs_info->uuid_root)
		return;
	ret = check_for_each_item(ctx, ctx->fs_info->uuid_root, NULL,
				  check_uuid_item, st);
	if (ret) {
		check_tree_unreadable(ctx, BTRFS_UUID_TREE_OBJECTID, ret,
				      "uuid tree");
		return;
	}
	if (btrfs_super_uuid_tree_generation(sb) != btrfs_super_generation(sb))
		return;	/* the kernel rescans it at the next mount */
	for (i = 0; i < st->nr_subs; i++) {
		struct subvol_rec *s = &st->subs[i];
		char buf[37];
		struct check_finding f = {
			.code = CHECK_UUID_TREE,
			.root = BTRFS_UUID_TREE_OBJECTID,
		};

		if (!s->refs)
			continue;
		if (!uuid_zero(s->uuid) && !s->has_uuid_entry) {
			uuid_unparse(s->uuid, buf);
			check_report(ctx, &f,
				     "subvolume %llu uuid %s missing from the uuid tree",
				     (unsigned long long)s->id, buf);
		}
		if (!uuid_zero(s->received_uuid) && !s->has_received_entry) {
			uuid_unparse(s->received_uuid, buf);
			check_report(ctx, &f,
				     "subvolume %llu received uuid %s missing from the uuid tree",
				     (unsigned long long)s->id, buf);
		}
	}
}

/* ------------------------------------------------------------------ */
/* Quota groups. */

struct qgroup_scan {
	struct roots_state *st;
	u64 status_flags;
	bool has_status;
	u64 nr_relations;	/* each direction counts */
	u64 relation_fp;	/* sum of hashes: forward minus backward */
};

static u64 relation_hash(u64 a, u64 b)
{
	u8 buf[16];

	put_unaligned_le64(a, buf);
	put_unaligned_le64(b, buf + 8);
	return btrfs_name_hash((const char *)buf, sizeof(buf)) | 1;
}

static int qgroup_item(struct check_ctx *ctx, struct extent_buffer *eb,
		       int slot, const struct btrfs_key *key, void *data)
{
	struct qgroup_scan *q = data;
	struct btrfs_qgroup_status_item *status;
	struct subvol_rec *s;

	(void)ctx;
	switch (key->type) {
	case BTRFS_QGROUP_STATUS_KEY:
		if (btrfs_item_size(eb, slot) >= sizeof(*status)) {
			status = btrfs_item_ptr(eb, slot,
					struct btrfs_qgroup_status_item);
			q->has_status = true;
			q->status_flags = btrfs_qgroup_status_flags(eb, status);
		}
		break;
	case BTRFS_QGROUP_INFO_KEY:
		if ((key->offset >> 48) == 0) {
			s = find_sub(q->st, key->offset);
			if (s)
				s->has_qgroup = true;
		}
		break;
	case BTRFS_QGROUP_RELATION_KEY:
		/* (child, parent) and (parent, child) cancel out */
		if (key->objectid < key->offset)
			q->relation_fp += relation_hash(key->objectid,
							key->offset);
		else
			q->relation_fp -= relation_hash(key->offset,
							key->objectid);
		break;
	}
	return 0;
}

static void check_qgroups(struct check_ctx *ctx, struct roots_state *st)
{
	struct qgroup_scan q = { .st = st };
	struct check_finding f = {
		.code = CHECK_QGROUP,
		.root = BTRFS_QUOTA_TREE_OBJECTID,
	};
	size_t i;
	int ret;

	if (!ctx->fs_info->quota_root)
		return;
	ret = check_for_each_item(ctx, ctx->fs_info->quota_root, NULL,
				  qgroup_item, &q);
	if (ret) {
		check_tree_unreadable(ctx, BTRFS_QUOTA_TREE_OBJECTID, ret,
				      "quota tree");
		return;
	}
	if (!q.has_status) {
		/* the kernel then treats quotas as disabled */
		if (!(ctx->flags & CHECK_F_QUIET))
			fprintf(ctx->err,
				"WARNING: quota tree without status item: quotas are off\n");
		return;
	}
	if (q.relation_fp)
		check_report(ctx, &f,
			     "qgroup relation items are not paired in both directions");
	for (i = 0; i < st->nr_subs; i++) {
		struct subvol_rec *s = &st->subs[i];

		f.key.objectid = 0;
		f.key.type = BTRFS_QGROUP_INFO_KEY;
		f.key.offset = s->id;
		/* a destroyed level-0 qgroup is legal: a warning */
		if (s->refs && !s->has_qgroup &&
		    s->id >= BTRFS_FIRST_FREE_OBJECTID &&
		    !(ctx->flags & CHECK_F_QUIET))
			fprintf(ctx->err,
				"WARNING: subvolume %llu has no qgroup\n",
				(unsigned long long)s->id);
	}
	if (ctx->flags & CHECK_F_QGROUP_REPORT)
		fprintf(ctx->out, "Print quota groups, status flags 0x%llx\n",
			(unsigned long long)q.status_flags);
	check_verify_qgroups(ctx, q.status_flags);
}

int check_pass_roots(struct check_ctx *ctx)
{
	struct roots_state st = { 0 };
	int ret;

	if (!ctx->fs_info->tree_root)
		return -EIO;
	ret = check_for_each_item(ctx, ctx->fs_info->tree_root, NULL,
				  collect_root_tree, &st);
	if (ret) {
		check_tree_unreadable(ctx, BTRFS_ROOT_TREE_OBJECTID, ret,
				      "root refs not checked");
		goto out;
	}
	check_refs(ctx, &st);
	check_uuid_tree(ctx, &st);
	check_qgroups(ctx, &st);
out:
	free(st.refs);
	free(st.subs);
	return ret;
}
