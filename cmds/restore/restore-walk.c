// SPDX-License-Identifier: GPL-2.0
/*
 * btrfs restore: the directory walk.
 *
 * Every directory's DIR_INDEX entries are read first (the whole listing,
 * so that a damaged block is reported before anything of the directory is
 * created), then each entry is checked, filtered and recreated below the
 * destination.  Everything is created with *at() calls relative to the
 * parent's descriptor, never following a symlink that may already be there,
 * and names from disk that could escape the directory ('/', ".", "..") are
 * refused: nothing is ever created outside the destination.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmds/restore/restore.h"
#include "cmds/restore/restore-sys.h"
#include "common/array.h"
#include "common/messages.h"
#include "kernel-shared/dir-item.h"
#include "kernel-shared/disk-io.h"
#include "kernel-shared/inode.h"

/* One directory on the walk's path, to refuse directory loops. */
struct walk_frame {
	u64 root;
	u64 ino;
	const struct walk_frame *parent;
};

/* Directories go in the hard link table under this flag in the root id. */
#define DIR_NAMESPACE (1ULL << 63)

/* Where an entry is created: the parent's descriptor and relative path. */
struct walk_dir {
	struct btrfs_root *root;
	int fd;				/* -1 in a dry run */
	const char *path;		/* "" at the top */
	const struct walk_frame *frame;
};

/* The listing of one directory. */
struct dir_list {
	struct btrfs_dir_entry *entries;
	size_t nr;
	size_t cap;
};

enum filter_verdict {
	FILTER_SKIP,
	FILTER_DESCEND,		/* only on the way to an --include path */
	FILTER_RESTORE,
};

/* Something of the source could not be restored: go on with the rest. */
static void count_error(struct restore_ctx *ctx)
{
	ctx->st.errors++;
}

/* The destination refused a change: stop, unless -i. */
static void dest_error(struct restore_ctx *ctx)
{
	ctx->st.errors++;
	if (!ctx->opts->ignore_errors)
		ctx->stop = true;
}

/* ------------------------------------------------------------------ */
/* Damaged tree blocks. */

static bool block_reported(struct restore_ctx *ctx, u64 bytenr)
{
	size_t i;

	for (i = 0; i < ctx->nr_bad_blocks; i++)
		if (ctx->bad_blocks[i] == bytenr)
			return true;
	if (array_reserve(ctx->bad_blocks, ctx->bad_blocks_cap,
			  ctx->nr_bad_blocks + 1, 16))
		return false;
	ctx->bad_blocks[ctx->nr_bad_blocks++] = bytenr;
	return false;
}

void restore_report_skip(const struct btrfs_key *lo, const struct btrfs_key *hi,
			 u64 bytenr, int err, void *priv)
{
	struct restore_ctx *ctx = priv;

	if (ctx && block_reported(ctx, bytenr))
		return;
	if (ctx)
		ctx->st.bad_blocks++;
	if (hi)
		error("cannot read tree block %llu (%s): skipping the items of inodes %llu to %llu",
		      (unsigned long long)bytenr, strerror(-err),
		      (unsigned long long)lo->objectid,
		      (unsigned long long)hi->objectid);
	else
		error("cannot read tree block %llu (%s): skipping the items of inodes %llu to the last",
		      (unsigned long long)bytenr, strerror(-err),
		      (unsigned long long)lo->objectid);
}

/* ------------------------------------------------------------------ */
/* Hard links: (root, ino) -> first path restored. */

static u64 link_hash(u64 root, u64 ino)
{
	u64 h = ino * 0x9e3779b97f4a7c15ULL ^ root * 0xc2b2ae3d27d4eb4fULL;

	return h ^ (h >> 29);
}

static struct restore_link *link_slot(struct restore_ctx *ctx, u64 root,
				      u64 ino)
{
	size_t mask = ctx->links_cap - 1;
	size_t i = (size_t)link_hash(root, ino) & mask;

	while (ctx->links[i].path &&
	       (ctx->links[i].root != root || ctx->links[i].ino != ino))
		i = (i + 1) & mask;
	return &ctx->links[i];
}

static const char *link_find(struct restore_ctx *ctx, u64 root, u64 ino)
{
	if (!ctx->links_cap)
		return NULL;
	return link_slot(ctx, root, ino)->path;
}

static int links_grow(struct restore_ctx *ctx)
{
	struct restore_link *old = ctx->links;
	size_t old_cap = ctx->links_cap, i;

	ctx->links_cap = old_cap ? old_cap * 2 : 256;
	ctx->links = calloc(ctx->links_cap, sizeof(*ctx->links));
	if (!ctx->links) {
		ctx->links = old;
		ctx->links_cap = old_cap;
		return -ENOMEM;
	}
	for (i = 0; i < old_cap; i++)
		if (old[i].path)
			*link_slot(ctx, old[i].root, old[i].ino) = old[i];
	free(old);
	return 0;
}

static void link_add(struct restore_ctx *ctx, u64 root, u64 ino,
		     const char *path)
{
	struct restore_link *slot;

	if ((ctx->nr_links + 1) * 2 > ctx->links_cap && links_grow(ctx))
		return;
	slot = link_slot(ctx, root, ino);
	if (slot->path)
		return;
	slot->path = strdup(path);
	if (!slot->path)
		return;
	slot->root = root;
	slot->ino = ino;
	ctx->nr_links++;
}

void restore_links_free(struct restore_ctx *ctx)
{
	size_t i;

	for (i = 0; i < ctx->links_cap; i++)
		free(ctx->links[i].path);
	free(ctx->links);
	ctx->links = NULL;
	ctx->links_cap = ctx->nr_links = 0;
}

/* ------------------------------------------------------------------ */
/* Names, paths and filters. */

/* Why @e's name cannot be created, or NULL when it can. */
static const char *bad_name(const struct btrfs_dir_entry *e)
{
	if (memchr(e->name, '\0', e->name_len))
		return "it contains a NUL byte";
	if (memchr(e->name, '/', e->name_len))
		return "it contains '/'";
	if (!strcmp(e->name, ".") || !strcmp(e->name, ".."))
		return "it is '.' or '..'";
	return NULL;
}

static char *join_path(const char *dir, const char *name)
{
	size_t a = strlen(dir), b = strlen(name);
	char *p = malloc(a + b + 2);

	if (!p)
		return NULL;
	if (a) {
		memcpy(p, dir, a);
		p[a++] = '/';
	}
	memcpy(p + a, name, b + 1);
	return p;
}

/* Is @path @prefix itself or below it? */
static bool path_within(const char *path, const char *prefix)
{
	size_t n = strlen(prefix);

	if (n == 0)
		return true;
	return !strncmp(path, prefix, n) && (path[n] == '\0' || path[n] == '/');
}

static bool regex_match(struct restore_ctx *ctx, const char *path)
{
	size_t len = strlen(path);
	char *full = malloc(len + 2);
	bool match;

	if (!full)
		return false;
	full[0] = '/';
	memcpy(full + 1, path, len + 1);
	match = regexec(&ctx->regex, full, 0, NULL, 0) == 0;
	free(full);
	return match;
}

void restore_warn_includes(const struct restore_ctx *ctx)
{
	const struct restore_opts *o = ctx->opts;
	int i;

	for (i = 0; ctx->include_seen && i < o->nr_includes; i++) {
		if (ctx->include_seen[i] & INCLUDE_IN_SKIPPED_SUBVOL)
			warning("--include /%s is in a subvolume, which is not restored without -s",
				o->includes[i]);
		else if (!(ctx->include_seen[i] & INCLUDE_MET))
			warning("--include /%s matches nothing", o->includes[i]);
	}
}

static enum filter_verdict filter_path(struct restore_ctx *ctx,
				       const char *path, bool is_dir)
{
	const struct restore_opts *o = ctx->opts;
	bool on_the_way = false;
	int i;

	for (i = 0; i < o->nr_excludes; i++)
		if (path_within(path, o->excludes[i]))
			return FILTER_SKIP;
	if (ctx->have_regex && !regex_match(ctx, path))
		return FILTER_SKIP;
	if (!o->nr_includes)
		return FILTER_RESTORE;
	for (i = 0; i < o->nr_includes; i++) {
		if (path_within(path, o->includes[i])) {
			if (ctx->include_seen)
				ctx->include_seen[i] |= INCLUDE_MET;
			return FILTER_RESTORE;
		}
		if (is_dir && path_within(o->includes[i], path))
			on_the_way = true;
	}
	return on_the_way ? FILTER_DESCEND : FILTER_SKIP;
}

/* ------------------------------------------------------------------ */
/* Reading a directory. */

static int collect_entry(const struct btrfs_dir_entry *e, void *priv)
{
	struct dir_list *list = priv;

	if (array_reserve(list->entries, list->cap, list->nr + 1, 64))
		return -ENOMEM;
	list->entries[list->nr++] = *e;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Creating entries. */

static void say_restoring(struct restore_ctx *ctx, const char *path)
{
	if (ctx->opts->dry_run || ctx->opts->verbose)
		printf("%s%s/%s\n", ctx->opts->dry_run ? "" : "Restoring ",
		       ctx->opts->dest, path);
}

/*
 * Make room for a new entry @name when -o is given: remove what is there
 * unless it is a directory.  0 when the name is free now.
 */
static int make_room(struct restore_ctx *ctx, int dir_fd, const char *name,
		     const char *path)
{
	int kind = rsys_kind_at(dir_fd, name);

	if (kind == RSYS_NONE || kind < 0)
		return kind;
	if (!ctx->opts->overwrite) {
		/* one line per file only when asked: a summary at the end */
		ctx->st.skipped++;
		if (ctx->opts->verbose)
			warning("skipping existing %s/%s (use -o to overwrite)",
				ctx->opts->dest, path);
		return -EEXIST;
	}
	if (kind == RSYS_DIR) {
		error("cannot overwrite directory %s/%s with a non-directory",
		      ctx->opts->dest, path);
		return -EISDIR;
	}
	if (unlinkat(dir_fd, name, 0))
		return -errno;
	return 0;
}

/* An extra name for an inode restored before.  0 done, <0 not done. */
static int make_hardlink(struct restore_ctx *ctx, const struct walk_dir *wd,
			 const char *name, const char *path, const char *first)
{
	say_restoring(ctx, path);
	if (ctx->opts->dry_run) {
		ctx->st.hardlinks++;
		return 0;
	}
	if (make_room(ctx, wd->fd, name, path))
		return 0;	/* reported, or kept as asked */
	if (linkat(ctx->dest_fd, first, wd->fd, name, 0)) {
		warning("cannot link %s/%s to %s: %m; copying instead",
			ctx->opts->dest, path, first);
		return -errno;
	}
	ctx->st.hardlinks++;
	return 0;
}

static void restore_regular(struct restore_ctx *ctx, const struct walk_dir *wd,
			    const char *name, const char *path, u64 ino,
			    const struct btrfs_inode_item *inode)
{
	u64 size = btrfs_stack_inode_size(inode);
	int fd, ret;

	say_restoring(ctx, path);
	if (ctx->opts->dry_run) {
		ctx->st.files++;
		ctx->st.bytes += size;
		return;
	}
	ret = make_room(ctx, wd->fd, name, path);
	if (ret) {
		if (ret != -EEXIST && ret != -EISDIR) {
			error("cannot replace %s/%s: %s", ctx->opts->dest, path,
			      strerror(-ret));
			dest_error(ctx);
		}
		return;
	}
	fd = openat(wd->fd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
				  O_CLOEXEC, 0644);
	if (fd < 0) {
		error("cannot create %s/%s: %m", ctx->opts->dest, path);
		dest_error(ctx);
		return;
	}
	ret = restore_file_data(ctx, wd->root, ino, size,
				btrfs_stack_inode_flags(inode), fd, path);
	if (ret && !ctx->opts->ignore_errors) {
		close(fd);
		unlinkat(wd->fd, name, 0);
		count_error(ctx);
		return;
	}
	if (ret) {
		ctx->st.errors++;
		ctx->st.incomplete++;	/* -i: written with what could be read */
	}
	restore_apply_meta(ctx, wd->root, ino, inode, wd->fd, name, fd, path);
	close(fd);
	ctx->st.files++;
	if (btrfs_stack_inode_nlink(inode) > 1)
		link_add(ctx, wd->root->root_key.objectid, ino, path);
}

static void restore_symlink(struct restore_ctx *ctx, const struct walk_dir *wd,
			    const char *name, const char *path, u64 ino,
			    const struct btrfs_inode_item *inode)
{
	char *target;

	say_restoring(ctx, path);
	target = restore_read_symlink(ctx, wd->root, ino,
				      btrfs_stack_inode_size(inode), path);
	if (!target) {
		count_error(ctx);
		return;
	}
	if (ctx->opts->dry_run) {
		ctx->st.symlinks++;
		free(target);
		return;
	}
	if (make_room(ctx, wd->fd, name, path)) {
		free(target);
		return;
	}
	if (symlinkat(target, wd->fd, name)) {
		error("cannot create symlink %s/%s: %m", ctx->opts->dest, path);
		dest_error(ctx);
	} else {
		restore_apply_meta(ctx, wd->root, ino, inode, wd->fd, name, -1,
				   path);
		ctx->st.symlinks++;
	}
	free(target);
}

static void restore_special(struct restore_ctx *ctx, const struct walk_dir *wd,
			    const char *name, const char *path, u64 ino,
			    const struct btrfs_inode_item *inode)
{
	u32 mode = btrfs_stack_inode_mode(inode);
	u64 rdev = btrfs_stack_inode_rdev(inode);
	int ret;

	say_restoring(ctx, path);
	if (ctx->opts->dry_run) {
		ctx->st.special++;
		return;
	}
	if (make_room(ctx, wd->fd, name, path))
		return;
	/* the kernel keeps a 12-bit major and a 20-bit minor */
	ret = rsys_mknodat(wd->fd, name, (mode & S_IFMT) | 0600,
			   (unsigned int)(rdev >> 20) & 0xfff,
			   (unsigned int)(rdev & 0xfffff));
	if (ret) {
		error("cannot create %s/%s: %s", ctx->opts->dest, path,
		      strerror(-ret));
		dest_error(ctx);
		return;
	}
	restore_apply_meta(ctx, wd->root, ino, inode, wd->fd, name, -1, path);
	ctx->st.special++;
	if (btrfs_stack_inode_nlink(inode) > 1)
		link_add(ctx, wd->root->root_key.objectid, ino, path);
}

/* Create (or reuse) directory @name and open it.  -1 on error. */
static int make_dir(struct restore_ctx *ctx, int parent_fd, const char *name,
		    const char *path)
{
	int fd;

	int ret = rsys_mkdirat(parent_fd, name, 0700);

	if (ret && ret != -EEXIST) {
		error("cannot create directory %s/%s: %s", ctx->opts->dest,
		      path, strerror(-ret));
		return -1;
	}
	fd = openat(parent_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
				     O_CLOEXEC);
	if (fd < 0)
		error("cannot open directory %s/%s: %m", ctx->opts->dest, path);
	return fd;
}

static bool in_frames(const struct walk_frame *f, u64 root, u64 ino)
{
	for (; f; f = f->parent)
		if (f->root == root && f->ino == ino)
			return true;
	return false;
}

static void walk_dir(struct restore_ctx *ctx, const struct walk_dir *wd,
		     u64 dir_ino, bool restore_all);

/*
 * A directory entry of the walk: create it, descend, then give it its
 * metadata (last, so that its times and a read-only mode stick).
 */
static void restore_directory(struct restore_ctx *ctx,
			      const struct walk_dir *wd,
			      struct btrfs_root *root,
			      const char *name, const char *path, u64 ino,
			      const struct btrfs_inode_item *inode,
			      bool restore_all)
{
	struct walk_frame frame = { root->root_key.objectid, ino, wd->frame };
	struct walk_dir sub = { root, -1, path, &frame };
	const char *first;

	if (in_frames(wd->frame, frame.root, ino)) {
		error("directory loop: %s/%s is its own ancestor (inode %llu)",
		      ctx->opts->dest, path, (unsigned long long)ino);
		count_error(ctx);
		return;
	}
	/* a directory has one name; a second one is damage (and repeated
	 * links could make the walk exponential) */
	first = link_find(ctx, frame.root ^ DIR_NAMESPACE, ino);
	if (first) {
		error("directory %s/%s (inode %llu) was already restored as %s/%s, skipped",
		      ctx->opts->dest, path, (unsigned long long)ino,
		      ctx->opts->dest, first);
		count_error(ctx);
		return;
	}
	link_add(ctx, frame.root ^ DIR_NAMESPACE, ino, path);
	say_restoring(ctx, path);
	if (!ctx->opts->dry_run) {
		sub.fd = make_dir(ctx, wd->fd, name, path);
		if (sub.fd < 0) {
			dest_error(ctx);
			return;
		}
	}
	ctx->st.dirs++;
	walk_dir(ctx, &sub, ino, restore_all);
	if (sub.fd >= 0) {
		restore_apply_meta(ctx, root, ino, inode, wd->fd, name, sub.fd,
				   path);
		close(sub.fd);
	}
}

/*
 * Does tree @parent hold subvolume @child (a ROOT_REF in the root tree)?
 * A snapshot copies the entries of the subvolumes nested in its source,
 * but not their refs: the kernel shows such an entry as an empty
 * directory, and so do we.
 */
static bool has_root_ref(struct restore_ctx *ctx, u64 parent, u64 child)
{
	struct btrfs_key key = { parent, BTRFS_ROOT_REF_KEY, child };
	struct btrfs_item_iter it;
	struct btrfs_key found;
	int ret;

	btrfs_item_iter_init(&it, ctx->fs_info->tree_root, &key, &key,
			     restore_report_skip, ctx);
	ret = btrfs_item_iter_next(&it, &found);
	btrfs_item_iter_release(&it);
	return ret == 0;
}

/* An entry for a subvolume that is not there: an empty directory. */
static void restore_empty_dir(struct restore_ctx *ctx,
			      const struct walk_dir *wd, const char *name,
			      const char *path)
{
	int fd;

	say_restoring(ctx, path);
	ctx->st.dirs++;
	if (ctx->opts->dry_run)
		return;
	fd = make_dir(ctx, wd->fd, name, path);
	if (fd < 0) {
		dest_error(ctx);
		return;
	}
	if (ctx->opts->metadata)
		rsys_chmod(fd, -1, NULL, 0755);
	close(fd);
}

/* A subvolume or snapshot met in a directory (-s). */
static void restore_subvol_entry(struct restore_ctx *ctx,
				 const struct walk_dir *wd,
				 const struct btrfs_dir_entry *e,
				 const char *path, bool restore_all)
{
	struct btrfs_key key = { e->location.objectid, BTRFS_ROOT_ITEM_KEY,
				 (u64)-1 };
	struct btrfs_inode_item inode;
	struct btrfs_root *sub;
	u64 dir;
	int i;

	if (!has_root_ref(ctx, wd->root->root_key.objectid, key.objectid)) {
		restore_empty_dir(ctx, wd, e->name, path);
		return;
	}
	if (!ctx->opts->snapshots) {
		for (i = 0; ctx->include_seen && i < ctx->opts->nr_includes; i++)
			if (path_within(ctx->opts->includes[i], path))
				ctx->include_seen[i] |= INCLUDE_IN_SKIPPED_SUBVOL;
		if (ctx->opts->verbose)
			printf("Skipping subvolume %s/%s (use -s)\n",
			       ctx->opts->dest, path);
		return;
	}
	for (i = 0; i < ctx->root_depth; i++) {
		if (ctx->root_stack[i] == key.objectid) {
			error("subvolume loop at %s/%s (tree %llu)",
			      ctx->opts->dest, path,
			      (unsigned long long)key.objectid);
			count_error(ctx);
			return;
		}
	}
	if (ctx->root_depth >= (int)ARRAY_SIZE(ctx->root_stack)) {
		error("subvolumes nested too deep at %s/%s", ctx->opts->dest,
		      path);
		count_error(ctx);
		return;
	}
	sub = btrfs_read_tree_root(ctx->fs_info, &key);
	if (IS_ERR(sub)) {
		error("cannot read subvolume %s/%s (tree %llu): %s",
		      ctx->opts->dest, path, (unsigned long long)key.objectid,
		      strerror(-(int)PTR_ERR(sub)));
		count_error(ctx);
		return;
	}
	dir = btrfs_stack_root_dirid(&sub->root_item);
	if (btrfs_read_inode_item(sub, dir, &inode, restore_report_skip, ctx)) {
		error("cannot read the top directory of subvolume %s/%s (tree %llu)",
		      ctx->opts->dest, path, (unsigned long long)key.objectid);
		count_error(ctx);
	} else {
		ctx->root_stack[ctx->root_depth++] = key.objectid;
		restore_directory(ctx, wd, sub, e->name, path, dir, &inode,
				  restore_all);
		ctx->root_depth--;
	}
	btrfs_free_root(sub);
}

#define MODE_IS(mode, type) (((mode) & S_IFMT) == (type))

/* Dispatch on the inode's type. */
static void restore_inode(struct restore_ctx *ctx, const struct walk_dir *wd,
			  const struct btrfs_dir_entry *e, const char *path,
			  const struct btrfs_inode_item *inode,
			  enum filter_verdict verdict)
{
	u32 mode = btrfs_stack_inode_mode(inode);
	u64 ino = e->location.objectid;
	const char *first;

	if (MODE_IS(mode, S_IFDIR)) {
		restore_directory(ctx, wd, wd->root, e->name, path, ino, inode,
				  verdict == FILTER_RESTORE);
		return;
	}
	if (verdict != FILTER_RESTORE)
		return;
	if (MODE_IS(mode, S_IFLNK) && !ctx->opts->symlinks)
		return;
	if (!MODE_IS(mode, S_IFREG) && !MODE_IS(mode, S_IFLNK) &&
	    !ctx->opts->metadata)
		return;
	first = btrfs_stack_inode_nlink(inode) > 1 ?
		link_find(ctx, wd->root->root_key.objectid, ino) : NULL;
	if (first && make_hardlink(ctx, wd, e->name, path, first) == 0)
		return;
	if (MODE_IS(mode, S_IFREG))
		restore_regular(ctx, wd, e->name, path, ino, inode);
	else if (MODE_IS(mode, S_IFLNK))
		restore_symlink(ctx, wd, e->name, path, ino, inode);
	else if (MODE_IS(mode, S_IFIFO) || MODE_IS(mode, S_IFSOCK) ||
		 MODE_IS(mode, S_IFCHR) || MODE_IS(mode, S_IFBLK))
		restore_special(ctx, wd, e->name, path, ino, inode);
	else
		warning("%s/%s has an unknown file type (mode %o), skipped",
			ctx->opts->dest, path, mode);
}

static void restore_entry(struct restore_ctx *ctx, const struct walk_dir *wd,
			  u64 dir_ino, const struct btrfs_dir_entry *e,
			  bool restore_all)
{
	struct btrfs_inode_item inode;
	enum filter_verdict verdict;
	const char *why;
	char *path;
	int ret;

	if (e->problem) {
		error("malformed entry %llu in directory %llu of tree %llu, skipped",
		      (unsigned long long)e->index, (unsigned long long)dir_ino,
		      (unsigned long long)wd->root->root_key.objectid);
		count_error(ctx);
		return;
	}
	why = bad_name(e);
	if (why) {
		error("refusing entry %llu of directory %s/%s: %s",
		      (unsigned long long)e->index, ctx->opts->dest, wd->path,
		      why);
		count_error(ctx);
		return;
	}
	path = join_path(wd->path, e->name);
	if (!path) {
		error("not enough memory");
		ctx->stop = true;
		return;
	}
	verdict = filter_path(ctx, path,
			      e->type == BTRFS_FT_DIR ||
			      e->location.type == BTRFS_ROOT_ITEM_KEY);
	if (restore_all && verdict == FILTER_DESCEND)
		verdict = FILTER_RESTORE;
	if (verdict == FILTER_SKIP)
		goto out;
	if (e->location.type == BTRFS_ROOT_ITEM_KEY) {
		restore_subvol_entry(ctx, wd, e, path,
				     verdict == FILTER_RESTORE);
		goto out;
	}
	if (e->location.type != BTRFS_INODE_ITEM_KEY) {
		error("entry %s/%s points to an unknown key type %u, skipped",
		      ctx->opts->dest, path, e->location.type);
		count_error(ctx);
		goto out;
	}
	ret = btrfs_read_inode_item(wd->root, e->location.objectid, &inode,
				    restore_report_skip, ctx);
	if (ret) {
		error("cannot read inode %llu of %s/%s: %s",
		      (unsigned long long)e->location.objectid,
		      ctx->opts->dest, path, strerror(-ret));
		count_error(ctx);
		goto out;
	}
	restore_inode(ctx, wd, e, path, &inode, verdict);
	restore_progress(ctx, false);
out:
	free(path);
}

static void walk_dir(struct restore_ctx *ctx, const struct walk_dir *wd,
		     u64 dir_ino, bool restore_all)
{
	struct dir_list list = { 0 };
	size_t i;
	int ret;

	ret = btrfs_iterate_dir_index(wd->root, dir_ino, collect_entry, &list,
				      restore_report_skip, ctx);
	if (ret < 0) {
		error("cannot read directory %s/%s (inode %llu): %s",
		      ctx->opts->dest, wd->path,
		      (unsigned long long)dir_ino, strerror(-ret));
		count_error(ctx);
	}
	for (i = 0; i < list.nr && !ctx->stop; i++)
		restore_entry(ctx, wd, dir_ino, &list.entries[i], restore_all);
	free(list.entries);
}

int restore_subvolume(struct restore_ctx *ctx, struct btrfs_root *root,
		      u64 dir_ino)
{
	struct walk_frame frame = { root->root_key.objectid, dir_ino, NULL };
	struct walk_dir wd = { root, ctx->dest_fd, "", &frame };

	ctx->root_stack[0] = root->root_key.objectid;
	ctx->root_depth = 1;
	walk_dir(ctx, &wd, dir_ino, false);
	return ctx->stop ? -1 : 0;
}
