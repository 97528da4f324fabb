// SPDX-License-Identifier: GPL-2.0
/*
 * Snapshots, data references and COW of shared blocks, printed as TAP.
 *
 * The kernel makes an image (reference mkfs.btrfs, node size 4K or 16K):
 * files of random data written in several extents, reflinked copies,
 * zstd-compressed files, preallocated files, small inline files, many
 * small files (multi-level trees), a subvolume, a kernel snapshot of the
 * top tree and writes after it (so the kernel has already turned shared
 * blocks to full backrefs).  The sha256 of every file is recorded.
 *
 * Then the engine, with fixed seeds: snapshots the top tree (with writes
 * before and after the snapshot in the same transaction), the subvolume,
 * and later a snapshot of its snapshot; and over many transactions on all
 * these trees does random
 * - xattr inserts (values up to a quarter node) and deletes, on inodes
 *   spread over the key space, so shared blocks are COWed at every level
 *   and leaves split and merge;
 * - reflinks made by the engine: a file extent item copied to the end of
 *   its file or of another file (a new EXTENT_DATA_REF, or more count on
 *   one), half of them from the same file so its extents go keyed;
 * - truncation of the last extent, or of a whole file (data refs dropped;
 *   extents whose last ref goes are freed with their csums);
 * - new preallocated extents (btrfs_reserve_extent for data, then
 *   btrfs_alloc_reserved_file_extent and btrfs_insert_file_extent),
 *   sometimes dropped again in the same transaction.
 *
 * After every commit the image is opened read-only and verified: every
 * tree of every ROOT_ITEM is walked and the references the extent tree
 * must hold are derived from what is really there (a block reached from
 * parent P: SHARED_BLOCK_REF P when P is FULL_BACKREF, else
 * TREE_BLOCK_REF of P's owner; a root node: its tree's ref; each regular
 * or prealloc file extent item: SHARED_DATA_REF of its leaf when the leaf
 * is FULL_BACKREF, else EXTENT_DATA_REF (leaf owner, inode, offset - extent
 * offset)); every extent item must hold exactly those (inline or keyed,
 * keyed data refs at their hash, counts, refs field), every tree block
 * and data extent must have its item and no item may be left over; block
 * group used and super bytes_used equal the extents; the free-space tree
 * equals the complement of the extents in every group and the writer's
 * free space adds up; no data checksum is left outside a data extent.
 *
 * At the end the reference btrfs check must pass, the kernel must mount,
 * list the snapshots, read every file (untouched ones with the sha256
 * recorded before, in the original and in the snapshots) and every xattr
 * we made; the kernel deletes the snapshots (subvolume delete, then
 * subvolume sync so the cleaner drops them); our verifier and the
 * reference check pass again.
 */
#include "common/csum.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "kernel-shared/ctree.h"
#include "kernel-shared/delayed-ref.h"
#include "kernel-shared/disk-io.h"
#include "kernel-shared/extent-tree.h"
#include "kernel-shared/file-item.h"
#include "kernel-shared/snapshot.h"
#include "kernel-shared/transaction.h"
#include "tests/unit/unit-util.h"
#include "tests/unit/unit-verify.h"

static int open_fs(const char *img, unsigned int flags,
		   struct btrfs_fs_info **fs)
{
	const char *devs[1] = { img };
	struct open_ctree_args args = {
		.devices = devs, .nr_devices = 1, .super_mirror = 0,
		.flags = flags | OPEN_CTREE_NO_SCAN,
	};
	struct open_ctree_error why;
	int ret = open_ctree(&args, fs, &why);

	if (ret)
		bad("open_ctree(%s, flags %#x): %d at %s %llu", img, flags, ret,
		    why.what ? why.what : "?", (unsigned long long)why.bytenr);
	return ret;
}

/*
 * Open @img read-only and verify references, block groups, free space
 * and csums; @wfs is the writer (its block groups), or NULL to open one.
 */
static int verify_image(const char *img, struct btrfs_fs_info *wfs,
			struct verify_stats *st)
{
	struct btrfs_fs_info *own = NULL, *fs;
	int ret;

	if (!wfs) {
		if (open_fs(img, OPEN_CTREE_WRITES, &own))
			return -1;
		wfs = own;
	}
	if (open_fs(img, 0, &fs)) {
		close_ctree(own);
		return -1;
	}
	ret = verify_fs(fs, wfs, st);
	close_ctree(fs);
	close_ctree(own);
	return ret;
}

/* ------------------------------------------------------------------ */
/* The trees the engine changes, and what it changed. */

struct file {
	u64 ino;
	char sha[65];
	char path[200];		/* relative to the tree's top */
	bool touched;		/* data changed by the engine */
};

struct xattr_rec {
	u64 ino;
	char name[32];
	u32 val_len;
	u32 seed;		/* value bytes are derived from it */
};

struct tree {
	const char *name;	/* directory under the mount point, "" top */
	struct btrfs_root *root;
	bool own_root;		/* free the struct at the end */
	struct file *files;	/* by inode number */
	size_t nr_files;
	size_t nr_data;		/* the first ones, outside many/ */
	struct xattr_rec *x;
	size_t nr_x;
	bool readonly;		/* an engine snapshot made read-only */
	int src;		/* engine snapshots: the source tree */
	u64 id;
	u64 otransid;
};

#define MAX_TREES 8

struct world {
	struct btrfs_fs_info *fs;
	struct tree t[MAX_TREES];
	int nr;
	u64 next_id;
	u64 seed;
	unsigned long xattr_counter;
	unsigned long ops[6];
};

static int load_manifest(const char *file, struct tree *t)
{
	FILE *f = fopen(file, "r");
	char line[512];

	if (!f)
		return bad("no manifest %s", file);
	while (fgets(line, sizeof(line), f)) {
		struct file fl = { 0 };

		if (sscanf(line, "%" SCNu64 " %64s %199s", &fl.ino, fl.sha,
			   fl.path) != 3)
			continue;
		t->files = xrealloc(t->files, (t->nr_files + 1) *
				    sizeof(*t->files));
		t->files[t->nr_files++] = fl;
	}
	fclose(f);
	while (t->nr_data < t->nr_files &&
	       strncmp(t->files[t->nr_data].path, "many/", 5))
		t->nr_data++;
	return t->nr_files ? 0 : bad("empty manifest %s", file);
}

static void copy_files(struct tree *dst, const struct tree *src)
{
	dst->files = xrealloc(NULL, src->nr_files * sizeof(*dst->files));
	memcpy(dst->files, src->files, src->nr_files * sizeof(*dst->files));
	dst->nr_files = src->nr_files;
	dst->nr_data = src->nr_data;
	/* The snapshot holds the source's current data and xattrs. */
	dst->x = xrealloc(NULL, src->nr_x * sizeof(*dst->x));
	if (src->nr_x)
		memcpy(dst->x, src->x, src->nr_x * sizeof(*dst->x));
	dst->nr_x = src->nr_x;
}

static void fill_value(u8 *buf, u32 len, u32 seed)
{
	u64 s = seed * 0x9E3779B97F4A7C15ULL + 1;

	for (u32 i = 0; i < len; i++) {
		s ^= s << 13;
		s ^= s >> 7;
		s ^= s << 17;
		buf[i] = (u8)('a' + s % 26);
	}
}

/* ------------------------------------------------------------------ */
/* Operations through the engine. */

static int op_xattr_set(struct btrfs_trans_handle *trans, struct world *w,
			struct tree *t, struct file *f)
{
	u32 nodesize = w->fs->nodesize;
	struct xattr_rec x = { .ino = f->ino };
	struct btrfs_dir_item *di;
	struct btrfs_key key;
	u32 name_len, size;
	int ret;

	snprintf(x.name, sizeof(x.name), "user.e%lu", ++w->xattr_counter);
	name_len = (u32)strlen(x.name);
	x.val_len = rnd_below(4) ? 1 + rnd_below(200) :
				   1 + rnd_below(nodesize / 4);
	x.seed = (u32)rnd();
	size = (u32)sizeof(*di) + name_len + x.val_len;
	di = calloc(1, size);
	btrfs_set_stack_dir_transid(di, trans->transid);
	btrfs_set_stack_dir_data_len(di, (u16)x.val_len);
	btrfs_set_stack_dir_name_len(di, (u16)name_len);
	btrfs_set_stack_dir_flags(di, BTRFS_FT_XATTR);
	memcpy(di + 1, x.name, name_len);
	fill_value((u8 *)(di + 1) + name_len, x.val_len, x.seed);
	key = (struct btrfs_key){ f->ino, BTRFS_XATTR_ITEM_KEY,
				  btrfs_name_hash(x.name, name_len) };
	ret = btrfs_insert_item(trans, t->root, &key, di, size);
	free(di);
	if (ret == -EEXIST)
		return 0;	/* a hash collision: not worth modelling */
	if (ret)
		return bad("xattr insert in %s: %d", t->name, ret);
	t->x = xrealloc(t->x, (t->nr_x + 1) * sizeof(*t->x));
	t->x[t->nr_x++] = x;
	w->ops[0]++;
	return 0;
}

static int op_xattr_del(struct btrfs_trans_handle *trans, struct world *w,
			struct tree *t)
{
	struct btrfs_path *path;
	struct btrfs_key key;
	size_t i;
	int ret;

	if (!t->nr_x)
		return 0;
	i = rnd_below((u32)t->nr_x);
	key = (struct btrfs_key){ t->x[i].ino, BTRFS_XATTR_ITEM_KEY,
				  btrfs_name_hash(t->x[i].name,
						  strlen(t->x[i].name)) };
	path = btrfs_alloc_path();
	ret = btrfs_search_slot(trans, t->root, &key, path, -1, 1);
	if (ret == 0)
		ret = btrfs_del_item(trans, t->root, path);
	btrfs_free_path(path);
	if (ret)
		return bad("xattr delete in %s: %d", t->name, ret);
	t->x[i] = t->x[--t->nr_x];
	w->ops[1]++;
	return 0;
}

/* What the engine needs to know about a file's extents. */
struct file_state {
	u64 size, nbytes;
	bool has_inline;
	u64 end;			/* end of the last extent */
	int nr;				/* regular / prealloc with data */
	struct btrfs_key keys[64];	/* of those, the first 64 */
	struct btrfs_file_extent_item fis[64];
	bool have_last;
	struct btrfs_key last_key;	/* the last EXTENT_DATA item */
	struct btrfs_file_extent_item last_fi;
};

static int read_file_state(struct btrfs_root *root, u64 ino,
			   struct file_state *s)
{
	struct btrfs_key key = { ino, BTRFS_INODE_ITEM_KEY, 0 };
	struct btrfs_path *path = btrfs_alloc_path();
	int ret;

	memset(s, 0, sizeof(*s));
	ret = btrfs_search_slot(NULL, root, &key, path, 0, 0);
	if (ret) {
		btrfs_free_path(path);
		return bad("inode %llu not found (%d)", (unsigned long long)ino,
			   ret);
	}
	{
		struct btrfs_inode_item *ii = btrfs_item_ptr(path->nodes[0],
			path->slots[0], struct btrfs_inode_item);

		s->size = btrfs_inode_size(path->nodes[0], ii);
		s->nbytes = btrfs_inode_nbytes(path->nodes[0], ii);
	}
	btrfs_release_path(path);
	key = (struct btrfs_key){ ino, BTRFS_EXTENT_DATA_KEY, 0 };
	ret = btrfs_search_slot_for_read(root, &key, path);
	while (ret == 0) {
		struct extent_buffer *leaf = path->nodes[0];
		struct btrfs_file_extent_item *fi;
		u8 type;

		btrfs_item_key_to_cpu(leaf, &key, path->slots[0]);
		if (key.objectid != ino || key.type != BTRFS_EXTENT_DATA_KEY)
			break;
		fi = btrfs_item_ptr(leaf, path->slots[0],
				    struct btrfs_file_extent_item);
		type = btrfs_file_extent_type(leaf, fi);
		s->have_last = true;
		s->last_key = key;
		if (type == BTRFS_FILE_EXTENT_INLINE) {
			s->has_inline = true;
		} else {
			read_extent_buffer(leaf, &s->last_fi,
				(unsigned long)((u8 *)fi - leaf->data),
				sizeof(*fi));
			s->end = max_t(u64, s->end, key.offset +
				       btrfs_file_extent_num_bytes(leaf, fi));
			if (btrfs_file_extent_disk_bytenr(leaf, fi) &&
			    s->nr < 64) {
				s->keys[s->nr] = key;
				s->fis[s->nr++] = s->last_fi;
			}
		}
		ret = btrfs_next_item(root, path);
	}
	btrfs_free_path(path);
	return ret < 0 ? bad("file extents of %llu: %d",
			     (unsigned long long)ino, ret) : 0;
}

static int update_inode(struct btrfs_trans_handle *trans,
			struct btrfs_root *root, u64 ino, u64 size,
			u64 nbytes)
{
	struct btrfs_key key = { ino, BTRFS_INODE_ITEM_KEY, 0 };
	struct btrfs_path *path = btrfs_alloc_path();
	struct btrfs_inode_item *ii;
	int ret;

	ret = btrfs_search_slot(trans, root, &key, path, 0, 1);
	if (ret == 0) {
		ii = btrfs_item_ptr(path->nodes[0], path->slots[0],
				    struct btrfs_inode_item);
		btrfs_set_inode_size(path->nodes[0], ii, size);
		btrfs_set_inode_nbytes(path->nodes[0], ii, nbytes);
		btrfs_set_inode_transid(path->nodes[0], ii, trans->transid);
		ret = btrfs_mark_buffer_dirty(trans, path->nodes[0]);
	}
	btrfs_free_path(path);
	return ret ? bad("inode %llu update: %d", (unsigned long long)ino,
			 ret) : 0;
}

static u64 append_offset(const struct btrfs_fs_info *fs,
			 const struct file_state *s)
{
	u64 ss = fs->sectorsize;

	return max_t(u64, (s->size + ss - 1) / ss * ss, s->end);
}

/* Copy one of the file's extents to its end: a reflink by the engine. */
static int op_reflink(struct btrfs_trans_handle *trans, struct world *w,
		      struct tree *t, struct file *f)
{
	struct btrfs_file_extent_item fi;
	struct file_state s, ds;
	struct btrfs_ref ref = { 0 };
	struct file *d;
	struct btrfs_key key;
	u64 off, num;
	int i, ret;

	/*
	 * From @f, or half the time from the first file (piling refs on its
	 * extents), to the end of the same file or of another one.
	 */
	if (rnd_below(2))
		f = &t->files[0];
	d = rnd_below(3) ? &t->files[rnd_below((u32)t->nr_data)] : f;
	if (read_file_state(t->root, f->ino, &s) ||
	    read_file_state(t->root, d->ino, &ds))
		return -1;
	if (!s.nr || ds.has_inline ||
	    append_offset(w->fs, &ds) > (64ULL << 20))
		return 0;
	i = (int)rnd_below((u32)s.nr);
	fi = s.fis[i];
	off = append_offset(w->fs, &ds);
	num = btrfs_stack_file_extent_num_bytes(&fi);
	btrfs_set_stack_file_extent_generation(&fi, trans->transid);
	key = (struct btrfs_key){ d->ino, BTRFS_EXTENT_DATA_KEY, off };
	ret = btrfs_insert_item(trans, t->root, &key, &fi, sizeof(fi));
	if (ret)
		return bad("reflink insert: %d", ret);
	ref.bytenr = btrfs_stack_file_extent_disk_bytenr(&fi);
	ref.num_bytes = btrfs_stack_file_extent_disk_num_bytes(&fi);
	ref.root = t->root->root_key.objectid;
	ref.owner = d->ino;
	ref.offset = off - btrfs_stack_file_extent_offset(&fi);
	ref.is_data = true;
	ret = btrfs_inc_extent_ref(trans, &ref);
	if (ret)
		return bad("reflink ref: %d", ret);
	d->touched = true;
	w->ops[2]++;
	return update_inode(trans, t->root, d->ino, off + num,
			    ds.nbytes + num);
}

/* Drop the file's last extent item (1 done, 0 nothing to drop, -1). */
static int truncate_last(struct btrfs_trans_handle *trans, struct world *w,
			 struct tree *t, struct file *f)
{
	struct btrfs_file_extent_item *fi = NULL;
	struct btrfs_path *path;
	struct file_state s;
	u64 bytenr, num;
	int ret;

	(void)w;
	if (read_file_state(t->root, f->ino, &s))
		return -1;
	if (!s.have_last || s.has_inline)
		return 0;
	path = btrfs_alloc_path();
	ret = btrfs_search_slot(trans, t->root, &s.last_key, path, -1, 1);
	if (ret == 0)
		ret = btrfs_del_item(trans, t->root, path);
	btrfs_free_path(path);
	if (ret)
		return bad("truncate delete: %d", ret);
	fi = &s.last_fi;
	bytenr = btrfs_stack_file_extent_disk_bytenr(fi);
	num = btrfs_stack_file_extent_num_bytes(fi);
	if (bytenr) {
		struct btrfs_ref ref = {
			.bytenr = bytenr,
			.num_bytes = btrfs_stack_file_extent_disk_num_bytes(fi),
			.root = t->root->root_key.objectid,
			.owner = f->ino,
			.offset = s.last_key.offset -
				  btrfs_stack_file_extent_offset(fi),
			.is_data = true,
		};

		ret = btrfs_free_extent(trans, &ref);
		if (ret)
			return bad("truncate ref drop: %d", ret);
		s.nbytes -= num;
	}
	f->touched = true;
	ret = update_inode(trans, t->root, f->ino,
			   min_t(u64, s.size, s.last_key.offset), s.nbytes);
	return ret ? -1 : 1;
}

static int op_truncate(struct btrfs_trans_handle *trans, struct world *w,
		       struct tree *t, struct file *f, bool whole)
{
	int n = 0, ret;

	do {
		ret = truncate_last(trans, w, t, f);
		n += ret > 0;
	} while (whole && ret > 0 && n < 40);
	if (ret < 0)
		return -1;
	if (n)
		w->ops[whole ? 4 : 3]++;
	return 0;
}

/* A new preallocated extent at the end of the file. */
static int op_prealloc(struct btrfs_trans_handle *trans, struct world *w,
		       struct tree *t, struct file *f)
{
	struct btrfs_file_extent fe = { 0 };
	u64 len = (1 + rnd_below(16)) * (u64)w->fs->sectorsize;
	struct file_state s;
	struct btrfs_key ins;
	u64 off;
	int ret;

	if (read_file_state(t->root, f->ino, &s))
		return -1;
	if (s.has_inline || append_offset(w->fs, &s) > (64ULL << 20))
		return 0;
	off = append_offset(w->fs, &s);
	ret = btrfs_reserve_extent(trans, t->root, len, 0, 0, &ins, true);
	if (ret == -ENOSPC)
		return 0;
	if (ret)
		return bad("data reserve: %d", ret);
	ret = btrfs_alloc_reserved_file_extent(trans,
					       t->root->root_key.objectid,
					       f->ino, off, &ins);
	if (ret)
		return bad("alloc reserved file extent: %d", ret);
	fe.file_offset = off;
	fe.ram_bytes = len;
	fe.type = BTRFS_FILE_EXTENT_PREALLOC;
	fe.disk_bytenr = ins.objectid;
	fe.disk_num_bytes = len;
	fe.num_bytes = len;
	ret = btrfs_insert_file_extent(trans, t->root, f->ino, &fe);
	if (ret)
		return bad("prealloc insert: %d", ret);
	f->touched = true;
	w->ops[5]++;
	return update_inode(trans, t->root, f->ino, off + len, s.nbytes + len);
}

static int random_op(struct btrfs_trans_handle *trans, struct world *w)
{
	struct tree *t = &w->t[rnd_below((u32)w->nr)];
	struct file *f;
	u32 pick, r;

	while (t->readonly)
		t = &w->t[rnd_below((u32)w->nr)];
	pick = rnd_below(4) ? (u32)t->nr_data : (u32)t->nr_files;
	f = &t->files[rnd_below(pick ? pick : 1)];
	r = rnd_below(100);

	if (r < 35)
		return op_xattr_set(trans, w, t, f);
	if (r < 50)
		return op_xattr_del(trans, w, t);
	if (r < 70)
		return op_reflink(trans, w, t, f);
	if (r < 83)
		return op_truncate(trans, w, t, f, false);
	if (r < 87)
		return op_truncate(trans, w, t, f, true);
	return op_prealloc(trans, w, t, f);
}

/* Snapshot tree @src as @name at the top of the FS tree. */
static int snapshot(struct btrfs_trans_handle *trans, struct world *w,
		    int src, const char *name, bool readonly)
{
	struct tree *t = &w->t[w->nr];
	struct btrfs_root *root;

	root = btrfs_create_snapshot(trans, w->t[src].root, w->next_id,
				     w->fs->fs_root, BTRFS_FIRST_FREE_OBJECTID,
				     name, (u16)strlen(name), readonly);
	if (IS_ERR(root))
		return bad("snapshot %s of %s: %ld", name, w->t[src].name,
			   PTR_ERR(root));
	w->next_id++;
	memset(t, 0, sizeof(*t));
	t->name = name;
	t->root = root;
	t->own_root = true;
	t->readonly = readonly;
	t->src = src;
	t->id = root->root_key.objectid;
	t->otransid = trans->transid;
	copy_files(t, &w->t[src]);
	w->nr++;
	return 0;
}

static u64 max_root_id(struct btrfs_fs_info *fs)
{
	struct btrfs_key key = { BTRFS_LAST_FREE_OBJECTID, 0, 0 };
	struct btrfs_path *path = btrfs_alloc_path();
	u64 id = BTRFS_FIRST_FREE_OBJECTID;
	int ret;

	ret = btrfs_search_slot(NULL, fs->tree_root, &key, path, 0, 0);
	if (ret > 0)
		ret = btrfs_previous_item(fs->tree_root, path,
					  BTRFS_FIRST_FREE_OBJECTID,
					  BTRFS_ROOT_ITEM_KEY);
	if (ret == 0) {
		btrfs_item_key_to_cpu(path->nodes[0], &key, path->slots[0]);
		id = key.objectid;
	}
	btrfs_free_path(path);
	return id;
}

static struct btrfs_root *read_root(struct btrfs_fs_info *fs, u64 id)
{
	struct btrfs_key loc = { id, BTRFS_ROOT_ITEM_KEY, (u64)-1 };

	return btrfs_read_tree_root(fs, &loc);
}

/* Close the writer; the trees' records stay for the kernel's side. */
static void world_close(struct world *w)
{
	for (int i = 0; i < w->nr; i++) {
		if (w->t[i].own_root)
			btrfs_free_root(w->t[i].root);
		w->t[i].root = NULL;
	}
	close_ctree(w->fs);
	w->fs = NULL;
}

static void world_free(struct world *w)
{
	for (int i = 0; i < w->nr; i++) {
		free(w->t[i].files);
		free(w->t[i].x);
	}
	w->nr = 0;
}

/* Is there an item at @key in @root with @size bytes?  Its data in @buf. */
static int item_at(struct btrfs_root *root, const struct btrfs_key *key,
		   void *buf, u32 size)
{
	struct btrfs_path *path = btrfs_alloc_path();
	int ret = btrfs_search_slot(NULL, root, key, path, 0, 0);

	if (ret == 0 && btrfs_item_size(path->nodes[0], path->slots[0]) < size)
		ret = -EUCLEAN;
	if (ret == 0)
		read_extent_buffer(path->nodes[0], buf,
			(unsigned long)((u8 *)btrfs_item_ptr_raw(path->nodes[0],
				path->slots[0]) - path->nodes[0]->data), size);
	btrfs_free_path(path);
	return ret;
}

/*
 * The engine's snapshots as the image holds them: ROOT_ITEM at offset
 * otransid with the fields the kernel sets, parent_uuid = the source's
 * uuid, RDONLY as asked; ROOT_REF / ROOT_BACKREF with the name; the uuid
 * tree maps the new uuid to the id.
 */
static int check_snapshot_items(const char *img, const struct world *w)
{
	struct btrfs_fs_info *fs;
	int ret = 0;

	if (open_fs(img, 0, &fs))
		return -1;
	for (int i = 3; i < w->nr && !ret; i++) {
		const struct tree *t = &w->t[i];
		struct btrfs_key key = { t->id, BTRFS_ROOT_ITEM_KEY,
					 t->otransid };
		struct btrfs_root_item item, src_item;
		u8 ref[sizeof(struct btrfs_root_ref) + 16];
		struct btrfs_root *src;
		u64 src_id, flags;
		u8 le[8];

		if (t->src == 0)
			src_id = BTRFS_FS_TREE_OBJECTID;
		else if (t->src == 1)
			src_id = 256;
		else
			src_id = w->t[t->src].id;
		if (item_at(fs->tree_root, &key, &item, sizeof(item))) {
			ret = bad("%s: no ROOT_ITEM (%llu ROOT_ITEM %llu)",
				  t->name, (unsigned long long)t->id,
				  (unsigned long long)t->otransid);
			break;
		}
		key = (struct btrfs_key){ src_id, BTRFS_ROOT_ITEM_KEY,
					  (u64)-1 };
		src = btrfs_read_tree_root(fs, &key);
		if (IS_ERR(src)) {
			ret = bad("%s: source %llu unreadable", t->name,
				  (unsigned long long)src_id);
			break;
		}
		src_item = src->root_item;
		btrfs_free_root(src);
		flags = btrfs_stack_root_flags(&item);
		if (memcmp(item.parent_uuid, src_item.uuid, BTRFS_UUID_SIZE) ||
		    !memcmp(item.uuid, src_item.uuid, BTRFS_UUID_SIZE) ||
		    btrfs_stack_root_otransid(&item) != t->otransid ||
		    btrfs_stack_root_refs(&item) != 1 ||
		    !!(flags & BTRFS_ROOT_SUBVOL_RDONLY) != t->readonly ||
		    btrfs_stack_root_last_snapshot(&item) < t->otransid ||
		    btrfs_stack_root_last_snapshot(&src_item) < t->otransid) {
			ret = bad("%s: root item fields (otransid %llu, flags "
				  "%llu, refs %u, uuids)", t->name,
				  (unsigned long long)
				  btrfs_stack_root_otransid(&item),
				  (unsigned long long)flags,
				  btrfs_stack_root_refs(&item));
			break;
		}
		key = (struct btrfs_key){ BTRFS_FS_TREE_OBJECTID,
					  BTRFS_ROOT_REF_KEY, t->id };
		if (item_at(fs->tree_root, &key, ref,
			    (u32)(sizeof(struct btrfs_root_ref) +
				  strlen(t->name))) ||
		    memcmp(ref + sizeof(struct btrfs_root_ref), t->name,
			   strlen(t->name)))
			ret = bad("%s: no ROOT_REF with its name", t->name);
		key = (struct btrfs_key){ t->id, BTRFS_ROOT_BACKREF_KEY,
					  BTRFS_FS_TREE_OBJECTID };
		if (!ret && item_at(fs->tree_root, &key, ref,
				    sizeof(struct btrfs_root_ref)))
			ret = bad("%s: no ROOT_BACKREF", t->name);
		key.objectid = get_unaligned_le64(item.uuid);
		key.type = BTRFS_UUID_KEY_SUBVOL;
		key.offset = get_unaligned_le64(item.uuid + 8);
		if (!ret && (!fs->uuid_root ||
			     item_at(fs->uuid_root, &key, le, sizeof(le)) ||
			     get_unaligned_le64(le) != t->id))
			ret = bad("%s: the uuid tree does not map its uuid to "
				  "%llu", t->name, (unsigned long long)t->id);
	}
	close_ctree(fs);
	return ret;
}

/* ------------------------------------------------------------------ */
/* The kernel's side. */

/* Make the image with the kernel; manifests of the trees in @dir. */
static int make_image(const char *dir, const char *img, u32 nodesize,
		      const char *opts)
{
	return run_cmd(
		"set -e; D='%s'; I='%s'; M=\"$D/mnt\"; mkdir -p \"$M\"; "
		"rm -f \"$I\"; truncate -s 1G \"$I\"; "
		REF_MKFS " -q -f -n %u %s \"$I\" >/dev/null; "
		"mount -o loop \"$I\" \"$M\"; "
		"trap 'umount \"$M\" 2>/dev/null || umount -l \"$M\"' EXIT; "
		"cd \"$M\"; "
		"for i in $(seq 1 24); do "
		"  head -c $((i * 37000 + 1000)) /dev/urandom > f$i; sync; "
		"  head -c $((i * 9000)) /dev/urandom >> f$i; done; "
		"for i in $(seq 1 30); do "
		"  head -c $((i * 60 + 10)) /dev/urandom > s$i; done; "
		"for i in 1 5 9 13; do cp --reflink=always f$i r$i; done; "
		"mkdir c; " REF_BTRFS " property set c compression zstd; "
		"for i in $(seq 1 10); do "
		"  (for k in $(seq 1 $((i * 300))); do echo line $k of $i; done)"
		"  > c/z$i; done; "
		"fallocate -l 300K p1; fallocate -l 128K p2; "
		"head -c 20000 /dev/urandom | dd of=p2 conv=notrunc "
		"  status=none; "
		": > p3; fallocate -n -l 200K p3; "
		"mkdir many; for i in $(seq 1 %d); do "
		"  echo $i > many/m$i; done; "
		REF_BTRFS " subvolume create sub >/dev/null; "
		"for i in $(seq 1 12); do "
		"  head -c $((i * 21000)) /dev/urandom > sub/g$i; done; "
		"cp --reflink=always f2 sub/rf2; "
		"sync; " REF_BTRFS " subvolume snapshot . snap0 >/dev/null; "
		"head -c 50000 /dev/urandom >> f3; "
		"head -c 8192 /dev/urandom | dd of=f4 bs=4096 seek=3 "
		"  conv=notrunc status=none; "
		"for i in $(seq 1 40); do echo x > many/n$i; done; sync; "
		"man() { find . -xdev -type f -printf '%%i %%P\\n' | sort -n |"
		"  while read ino p; do "
		"  echo \"$ino $(sha256sum < \"$p\" | cut -c1-64) $p\"; done; }; "
		"man > \"$D/top.txt\"; (cd sub && man) > \"$D/sub.txt\"; "
		"(cd snap0 && man) > \"$D/snap0.txt\"; "
		"cd /; umount \"$M\"; trap - EXIT",
		dir, img, nodesize, opts, nodesize == 4096 ? 900 : 300);
}

/* Kernel view: files of @t at @mnt/<name>/ path: untouched ones intact. */
static int kernel_check_tree(const char *mnt, const struct tree *t,
			     u64 *checked)
{
	for (size_t i = 0; i < t->nr_files; i++) {
		const struct file *f = &t->files[i];
		char path[1200], cmd[1300], sha[80] = "";
		FILE *p;

		snprintf(path, sizeof(path), "%s/%s%s%s", mnt, t->name,
			 *t->name ? "/" : "", f->path);
		if (f->touched) {
			/* Changed by us: the kernel must read all of it. */
			if (run_cmd("cat '%s' > /dev/null", path))
				return bad("kernel cannot read %s", path);
			continue;
		}
		snprintf(cmd, sizeof(cmd), "sha256sum < '%s'", path);
		p = popen(cmd, "r");
		if (!p || !fgets(sha, sizeof(sha), p)) {
			if (p)
				pclose(p);
			return bad("kernel cannot read %s", path);
		}
		pclose(p);
		if (strncmp(sha, f->sha, 64))
			return bad("%s: sha256 differs from before", path);
		(*checked)++;
	}
	for (size_t i = 0; i < t->nr_x; i++) {
		const struct xattr_rec *x = &t->x[i];
		const struct file *f = NULL;
		char path[1200];
		u8 want[8192], got[8192];
		ssize_t n;

		for (size_t j = 0; j < t->nr_files && !f; j++)
			if (t->files[j].ino == x->ino)
				f = &t->files[j];
		snprintf(path, sizeof(path), "%s/%s%s%s", mnt, t->name,
			 *t->name ? "/" : "", f->path);
		fill_value(want, x->val_len, x->seed);
		n = lgetxattr(path, x->name, got, sizeof(got));
		if (n != (ssize_t)x->val_len || memcmp(want, got, x->val_len))
			return bad("%s: xattr %s differs (%zd bytes)", path,
				   x->name, n);
	}
	return 0;
}

static void ref_check(const char *img, const char *dir, const char *what)
{
	ref_check_files(dir, img, "%s: reference btrfs check passes", what);
}

/* ------------------------------------------------------------------ */

#define TRANSACTIONS 24
#define OPS_PER_TRANS 60
#define RESULTS_PER_CONFIG 13

static void skip_rest(int n, const char *why)
{
	for (int i = 0; i < n; i++)
		skip("%s", why);
}

/*
 * Engine phase: snapshots and random changes, every commit verified.
 * 0 or -1.
 */
static int engine_phase(const char *img, struct world *w, const char *dir,
			struct verify_stats *vs, unsigned long *commits)
{
	struct btrfs_trans_handle *trans;
	char file[512];
	int ret;

	if (open_fs(img, OPEN_CTREE_WRITES, &w->fs))
		return -1;
	w->t[0] = (struct tree){ .name = "", .root = w->fs->fs_root };
	w->t[1] = (struct tree){ .name = "sub", .root = read_root(w->fs, 256),
				 .own_root = true };
	w->t[2] = (struct tree){ .name = "snap0",
				 .root = read_root(w->fs, 257),
				 .own_root = true };
	w->nr = 3;
	if (IS_ERR(w->t[1].root) || IS_ERR(w->t[2].root)) {
		w->t[1].root = w->t[2].root = NULL;
		return bad("subvolumes 256/257 not found");
	}
	snprintf(file, sizeof(file), "%s/top.txt", dir);
	ret = load_manifest(file, &w->t[0]);
	snprintf(file, sizeof(file), "%s/sub.txt", dir);
	ret = ret ? ret : load_manifest(file, &w->t[1]);
	snprintf(file, sizeof(file), "%s/snap0.txt", dir);
	ret = ret ? ret : load_manifest(file, &w->t[2]);
	if (ret)
		return ret;
	w->next_id = max_root_id(w->fs) + 1;

	for (int n = 0; n < TRANSACTIONS && !ret; n++) {
		int nr_ops = OPS_PER_TRANS;

		snprintf(fail_ctx, sizeof(fail_ctx), "nodesize %u seed %llu "
			 "transaction %d", w->fs->nodesize,
			 (unsigned long long)w->seed, n);
		trans = btrfs_start_transaction(w->fs);
		if (IS_ERR(trans))
			return bad("start transaction: %ld", PTR_ERR(trans));
		/* Snapshots: with changes before and after, same transaction. */
		if (n == 0 || n == 4 || n == 9 || n == 14) {
			for (int i = 0; i < nr_ops / 2 && !ret; i++)
				ret = random_op(trans, w);
			nr_ops /= 2;
			if (!ret && n == 0)
				ret = snapshot(trans, w, 0, "esnap", false);
			if (!ret && n == 4)
				ret = snapshot(trans, w, 1, "esub", false);
			if (!ret && n == 9)
				ret = snapshot(trans, w, 3, "esnap2", false);
			if (!ret && n == 14)
				ret = snapshot(trans, w, 0, "ero", true);
		}
		for (int i = 0; i < nr_ops && !ret; i++)
			ret = random_op(trans, w);
		if (ret) {
			btrfs_abort_transaction(trans);
			return ret;
		}
		ret = btrfs_commit_transaction(trans);
		if (ret)
			return bad("commit %d: %d", n, ret);
		(*commits)++;
		ret = verify_image(img, w->fs, vs);
	}
	return ret;
}

static void test_config(u32 nodesize, const char *opts, u64 seed,
			const char *dir)
{
	struct verify_stats vs = { 0 };
	struct world w = { 0 };
	unsigned long commits = 0;
	const char *why_not;
	char img[512], mnt[512], what[64];
	u64 checked = 0;
	int rc;

	why_not = kernel_unavailable(NEED_REF_MKFS | NEED_REF_BTRFS);
	snprintf(what, sizeof(what), "nodesize %u%s%s", nodesize,
		 *opts ? " " : "", opts);
	if (why_not) {
		skip_rest(RESULTS_PER_CONFIG, why_not);
		return;
	}
	snprintf(img, sizeof(img), "%s/s%u.img", dir, nodesize);
	snprintf(mnt, sizeof(mnt), "%s/mnt", dir);
	snprintf(fail_ctx, sizeof(fail_ctx), "%s seed %llu", what,
		 (unsigned long long)seed);
	rc = make_image(dir, img, nodesize, opts);
	ok(rc == 0, "%s: the kernel made the image (files, reflinks, zstd, "
	   "prealloc, subvolume, snapshot)", what);
	if (rc) {
		skip_rest(RESULTS_PER_CONFIG - 1, "no image");
		return;
	}
	first_err[0] = '\0';
	rc = verify_image(img, NULL, &vs);
	ok(rc == 0, "%s: the verifier accepts the kernel's image (%llu tree "
	   "blocks, %llu data extents, %llu full backref blocks) %s", what,
	   (unsigned long long)vs.tree_blocks,
	   (unsigned long long)vs.data_extents,
	   (unsigned long long)vs.full_backref_blocks, first_err);

	rng_state = seed;
	w.seed = seed;
	first_err[0] = '\0';
	memset(&vs, 0, sizeof(vs));
	rc = engine_phase(img, &w, dir, &vs, &commits);
	ok(rc == 0, "%s: 4 engine snapshots and %lu xattr sets, %lu deletes, "
	   "%lu reflinks, %lu extent truncations, %lu file truncations, %lu "
	   "preallocations on %d trees in %lu commits, each verified (max %llu"
	   " full backref blocks, %llu shared data refs, %llu keyed refs, "
	   "%llu refs on one extent, level %llu) %s",
	   what, w.ops[0], w.ops[1], w.ops[2], w.ops[3], w.ops[4], w.ops[5],
	   w.nr, commits, (unsigned long long)vs.full_backref_blocks,
	   (unsigned long long)vs.shared_refs,
	   (unsigned long long)vs.keyed_refs, (unsigned long long)vs.max_refs,
	   (unsigned long long)vs.max_level, first_err);
	if (w.fs)
		world_close(&w);
	if (rc) {
		skip_rest(RESULTS_PER_CONFIG - 3, "the engine phase failed");
		world_free(&w);
		return;
	}
	first_err[0] = '\0';
	rc = check_snapshot_items(img, &w);
	ok(rc == 0, "%s: the snapshots' root items (uuid, parent uuid, "
	   "otransid, read-only flag), root refs and uuid tree entries %s",
	   what, first_err);
	ref_check(img, dir, what);
	rc = run_cmd("mount -o loop '%s' '%s'", img, mnt);
	ok(rc == 0, "%s: the kernel mounts the image", what);
	if (rc) {
		skip_rest(RESULTS_PER_CONFIG - 6, "no mount");
		world_free(&w);
		return;
	}
	rc = run_cmd("LC_ALL=C; export LC_ALL; " REF_BTRFS
		     " subvolume list '%s' | awk '{print $NF}' | "
		     "sort | tr '\\n' ' ' | grep -qx 'ero esnap esnap2 esub snap0 "
		     "sub '", mnt);
	ok(rc == 0, "%s: the kernel lists the subvolumes sub, snap0, esnap, "
	   "esub, esnap2, ero", what);
	rc = run_cmd(REF_BTRFS " property get -ts '%s/ero' ro | grep -qx "
		     "ro=true && " REF_BTRFS " property get -ts '%s/esnap' ro | "
		     "grep -qx ro=false", mnt, mnt);
	ok(rc == 0, "%s: the kernel sees ero read-only, esnap writable", what);
	first_err[0] = '\0';
	rc = run_cmd("find '%s' -type f -exec cat {} + > /dev/null", mnt);
	if (rc)
		bad("reading every file failed (exit %d)", rc);
	ok(rc == 0, "%s: the kernel reads every file %s", what, first_err);
	first_err[0] = '\0';
	rc = 0;
	for (int i = 0; i < w.nr && !rc; i++)
		rc = kernel_check_tree(mnt, &w.t[i], &checked);
	ok(rc == 0, "%s: %llu files the engine left alone in the 7 trees have "
	   "their sha256 from before, every xattr we set reads back %s", what,
	   (unsigned long long)checked, first_err);
	world_free(&w);
	rc = run_cmd(REF_BTRFS " subvolume delete '%s/esnap' '%s/esub' "
		     "'%s/esnap2' '%s/ero' >/dev/null && " REF_BTRFS
		     " subvolume sync '%s' >/dev/null", mnt, mnt, mnt, mnt, mnt);
	unmount(mnt);
	ok(rc == 0, "%s: the kernel deletes the engine's snapshots and its "
	   "cleaner drops them", what);
	first_err[0] = '\0';
	rc = verify_image(img, NULL, NULL);
	ok(rc == 0, "%s: after the kernel dropped them the verifier passes %s",
	   what, first_err);
	ref_check(img, dir, "after the kernel dropped the snapshots");
	run_cmd("rm -f '%s'", img);
}

/* ------------------------------------------------------------------ */
/* Delayed data refs and extent ops, without a filesystem. */

#define DELAYED_RESULTS 5

static void test_delayed_data_refs(void)
{
	struct btrfs_fs_info fs_info = { .nodesize = 16384 };
	struct btrfs_trans_handle t = { .fs_info = &fs_info, .transid = 9 };
	struct btrfs_delayed_ref_head *h;
	int r1, r2, r3;

	r1 = btrfs_add_delayed_data_ref(&t, 1 << 20, 8192, 5, 0, 257, 0, 1,
					false);
	r2 = btrfs_add_delayed_data_ref(&t, 1 << 20, 8192, 5, 0, 257, 0, -1,
					false);
	ok(r1 == 0 && r2 == 0 && t.delayed_refs.nr == 0,
	   "delayed data refs: an add and a drop of one (root, inode, offset) "
	   "cancel");

	btrfs_add_delayed_data_ref(&t, 2 << 20, 8192, 5, 0, 257, 0, 1, false);
	btrfs_add_delayed_data_ref(&t, 2 << 20, 8192, 5, 0, 257, 0, 2, false);
	btrfs_add_delayed_data_ref(&t, 2 << 20, 8192, 5, 0, 257, 4096, 1,
				   false);
	btrfs_add_delayed_data_ref(&t, 2 << 20, 8192, 5, 3 << 20, 0, 0, -1,
				   false);
	btrfs_add_delayed_data_ref(&t, 2 << 20, 8192, 7, 3 << 20, 300, 9, -1,
				   false);
	h = btrfs_find_delayed_ref_head(&t, 2 << 20);
	ok(h && h->is_data && h->nr_refs == 3 && h->total_ref_mod == 2 &&
	   h->refs[0].ref_mod == 3 && h->refs[1].ref_mod == 1 &&
	   h->refs[2].parent == (3 << 20) && h->refs[2].ref_mod == -2,
	   "delayed data refs: counts add per (root, inode, offset), another "
	   "offset stays apart, shared refs merge by parent alone");

	r1 = btrfs_add_delayed_data_ref(&t, 4 << 20, 4096, 5, 0, 258, 0, 1,
					true);
	r2 = btrfs_add_delayed_data_ref(&t, 4 << 20, 4096, 5, 0, 258, 0, -1,
					false);
	ok(r1 == 0 && r2 == 1 && !btrfs_find_delayed_ref_head(&t, 4 << 20),
	   "delayed data refs: a new extent dropped in its transaction cancels "
	   "out and says so");

	r1 = btrfs_add_delayed_data_ref(&t, 2 << 20, 8192, 5, 0, 257, 0, 1,
					true);
	r2 = btrfs_add_delayed_tree_ref(&t, 2 << 20, 8192, 5, 0, 0, NULL, 1,
					false);
	r3 = btrfs_add_delayed_data_ref(&t, 2 << 20, 8192, 5, 0, 257, 0, 1,
					false);
	ok(r1 == -EUCLEAN && r2 == -EUCLEAN && r3 == 0,
	   "delayed data refs: reserving a queued extent again, or a tree ref "
	   "on a data head, is refused");

	r1 = btrfs_add_delayed_extent_op(&t, 5 << 20, 16384, 1,
					 BTRFS_BLOCK_FLAG_FULL_BACKREF);
	r2 = btrfs_add_delayed_tree_ref(&t, 5 << 20, 16384, 5, 0, 1, NULL, 1,
					false);
	r3 = btrfs_add_delayed_tree_ref(&t, 5 << 20, 16384, 5, 0, 1, NULL, -1,
					false);
	h = btrfs_find_delayed_ref_head(&t, 5 << 20);
	ok(!r1 && !r2 && !r3 && h && h->nr_refs == 0 &&
	   h->set_flags == BTRFS_BLOCK_FLAG_FULL_BACKREF,
	   "delayed refs: a head with flags to set stays when its refs "
	   "cancel");
	btrfs_delayed_refs_release(&t.delayed_refs);
}

int main(void)
{
	char dir[] = "/tmp/test-btree-snapshot.XXXXXX";

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!mkdtemp(dir)) {
		printf("1..1\nnot ok 1 - mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	printf("1..%d\n", DELAYED_RESULTS + 4 * RESULTS_PER_CONFIG);
	test_delayed_data_refs();
	test_config(4096, "", 0x5eed0001ULL, dir);
	test_config(16384, "", 0x5eed0002ULL, dir);
	test_config(4096, "-O ^skinny-metadata", 0x5eed0003ULL, dir);
	test_config(4096, "--mixed", 0x5eed0004ULL, dir);
	run_cmd("umount '%s/mnt' 2>/dev/null; rm -rf '%s'", dir, dir);
	return tap_failed ? 1 : 0;
}
