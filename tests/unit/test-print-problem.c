// SPDX-License-Identifier: GPL-2.0
/*
 * The tree printer's problem reports, printed as TAP.
 *
 * Oracles: hand-built leaves and nodes, each broken in one way the tree
 * checker would reject (so no image can reach these paths through dump-tree),
 * must reach the caller's sink as exactly one problem of the expected kind
 * and numbers, after the text before it has been written, with nothing on
 * stderr; and the frontend's words for every kind are compared with the
 * lines the printer used to write itself, which are those of the reference
 * btrfs-progs 6.2.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmds/print-problem.h"
#include "kernel-shared/ctree.h"
#include "kernel-shared/extent-io.h"
#include "kernel-shared/print-tree.h"

#define NODESIZE 4096U
#define MAX_PROBLEMS 8

struct tap {
	int count;
	int failed;
};

static void tap_result(struct tap *tap, int ok, const char *desc)
{
	tap->count++;
	if (!ok)
		tap->failed++;
	printf("%s %d - %s\n", ok ? "ok" : "not ok", tap->count, desc);
}

/* What a test sink received: the problems and the text printed before each. */
struct sink {
	FILE *out;
	char **text;
	size_t *text_len;
	int nr;
	struct btrfs_print_problem p[MAX_PROBLEMS];
	size_t text_before[MAX_PROBLEMS];
};

static void sink_problem(void *arg, const struct btrfs_print_problem *p)
{
	struct sink *s = arg;

	if (s->nr == MAX_PROBLEMS)
		return;
	fflush(s->out);
	s->text_before[s->nr] = *s->text_len;
	s->p[s->nr++] = *p;
}

/* Redirect fd 2 to a temporary file; returns the saved fd. */
static int stderr_capture(FILE **tmp)
{
	int saved;

	fflush(stderr);
	*tmp = tmpfile();
	saved = dup(2);
	if (!*tmp || saved < 0 || dup2(fileno(*tmp), 2) < 0)
		abort();
	return saved;
}

/* Put fd 2 back; returns what was written to it (malloc'ed). */
static char *stderr_release(FILE *tmp, int saved)
{
	long len;
	char *buf;

	fflush(stderr);
	if (dup2(saved, 2) < 0)
		abort();
	close(saved);
	len = ftell(tmp);
	buf = calloc(1, (size_t)(len > 0 ? len : 0) + 1);
	if (!buf)
		abort();
	rewind(tmp);
	if (len > 0 && fread(buf, 1, (size_t)len, tmp) != (size_t)len)
		abort();
	fclose(tmp);
	return buf;
}

/*
 * Print @eb with a test sink into @s (text in *@text); returns whether
 * nothing reached stderr.
 */
static bool print_block(struct extent_buffer *eb, struct sink *s,
			char **text, size_t *len)
{
	struct btrfs_print_opts opts = { 0 };
	FILE *tmp;
	int saved;
	char *err;
	bool quiet;

	memset(s, 0, sizeof(*s));
	s->out = open_memstream(text, len);
	if (!s->out)
		abort();
	s->text = text;
	s->text_len = len;
	opts.out = s->out;
	opts.problem = sink_problem;
	opts.problem_arg = s;
	saved = stderr_capture(&tmp);
	btrfs_print_tree(&opts, eb);
	err = stderr_release(tmp, saved);
	fclose(s->out);
	quiet = err[0] == '\0';
	free(err);
	return quiet;
}

static struct extent_buffer *new_block(u64 bytenr, int level, u32 nritems)
{
	struct extent_buffer *eb = alloc_extent_buffer(bytenr, NODESIZE);

	if (!eb)
		abort();
	btrfs_set_header_bytenr(eb, bytenr);
	btrfs_set_header_level(eb, (u8)level);
	btrfs_set_header_generation(eb, 7);
	btrfs_set_header_owner(eb, BTRFS_FS_TREE_OBJECTID);
	btrfs_set_header_nritems(eb, nritems);
	return eb;
}

/* Item @slot of a leaf: an INODE_ITEM key, data at @offset, @size bytes. */
static void set_item(struct extent_buffer *eb, int slot, u32 offset, u32 size)
{
	struct btrfs_key key = {
		.objectid = 256 + (u64)slot,
		.type = BTRFS_INODE_ITEM_KEY,
	};
	struct btrfs_item *item = btrfs_item_nr(eb, slot);

	btrfs_cpu_key_to_disk(&item->key, &key);
	btrfs_set_raw_item_offset(eb, item, offset);
	btrfs_set_raw_item_size(eb, item, size);
}

static void test_item_out_of_leaf(struct tap *tap)
{
	u32 limit = btrfs_leaf_data_size(NODESIZE);
	struct extent_buffer *eb = new_block(1 << 20, 0, 3);
	struct sink s;
	char *text = NULL;
	size_t len = 0;
	bool quiet;

	set_item(eb, 0, limit - 160, 160);
	set_item(eb, 1, limit - 10, 20);
	set_item(eb, 2, limit - 480, 160);
	quiet = print_block(eb, &s, &text, &len);
	tap_result(tap, quiet, "item outside the leaf: nothing on stderr");
	tap_result(tap, s.nr == 1 && s.p[0].kind == BTRFS_PRINT_ITEM_OUT_OF_LEAF &&
			s.p[0].bytenr == 1 << 20 && s.p[0].slot == 1 &&
			s.p[0].offset == limit - 10 && s.p[0].size == 20 &&
			s.p[0].limit == limit,
		   "item outside the leaf: one problem naming leaf, slot, offset, size, limit");
	tap_result(tap, s.nr == 1 && strstr(text, "item 0 key (256 ") &&
			strstr(text, "item 0 key (256 ") < text + s.text_before[0] &&
			!strstr(text, "item 1 key") && !strstr(text, "item 2 key"),
		   "item outside the leaf: reported after item 0, the rest not printed");
	free(text);
	free_extent_buffer(eb);
}

static void test_leaf_space(struct tap *tap)
{
	u32 limit = btrfs_leaf_data_size(NODESIZE);
	struct extent_buffer *eb = new_block(1 << 20, 0, 1);
	struct sink s;
	char *text = NULL;
	size_t len = 0;
	bool quiet;

	set_item(eb, 0, 0, limit);
	quiet = print_block(eb, &s, &text, &len);
	tap_result(tap, quiet && s.nr == 1 &&
			s.p[0].kind == BTRFS_PRINT_LEAF_OVERFULL &&
			s.p[0].free_space == -25 &&
			s.p[0].used == (int)limit + 25 && s.p[0].nritems == 1 &&
			s.p[0].limit == limit && s.text_before[0] == 0 &&
			strstr(text, " free space -25 "),
		   "overfull leaf: reported before its header, nothing on stderr");
	free(text);
	free_extent_buffer(eb);

	eb = new_block(1 << 20, 0, 2);
	set_item(eb, 0, 100, 10);
	set_item(eb, 1, 3000, 10);
	text = NULL;
	quiet = print_block(eb, &s, &text, &len);
	tap_result(tap, quiet && s.nr == 1 &&
			s.p[0].kind == BTRFS_PRINT_LEAF_USED_NEGATIVE &&
			s.p[0].bytenr == 1 << 20 && strstr(text, "item 1 key"),
		   "overlapping leaf items: reported, both printed, nothing on stderr");
	free(text);
	free_extent_buffer(eb);
}

static void test_node_nritems(struct tap *tap)
{
	u32 max = btrfs_max_node_ptrs(NODESIZE);
	struct extent_buffer *eb = new_block(2 << 20, 1, max + 1);
	struct btrfs_print_opts opts = { 0 };
	struct sink s;
	char *text = NULL;
	size_t len = 0;
	bool quiet;

	quiet = print_block(eb, &s, &text, &len);
	tap_result(tap, quiet && s.nr == 1 &&
			s.p[0].kind == BTRFS_PRINT_NODE_NRITEMS &&
			s.p[0].bytenr == 2 << 20 && s.p[0].nritems == max + 1 &&
			s.p[0].limit == max && s.text_before[0] == 0,
		   "node with too many pointers: reported first, nothing on stderr");
	free(text);

	/* no sink: the problem is dropped, still nothing on stderr */
	text = NULL;
	opts.out = open_memstream(&text, &len);
	if (!opts.out)
		abort();
	{
		FILE *tmp;
		int saved = stderr_capture(&tmp);
		char *err;

		btrfs_print_tree(&opts, eb);
		err = stderr_release(tmp, saved);
		tap_result(tap, err[0] == '\0',
			   "no sink: problems are not written anywhere");
		free(err);
	}
	fclose(opts.out);
	free(text);
	free_extent_buffer(eb);
}

/* The frontend's words for @p, as print_tree_problem() writes them. */
static char *words(const struct btrfs_print_problem *p)
{
	FILE *tmp;
	int saved = stderr_capture(&tmp);

	print_tree_problem(stdout, p);
	return stderr_release(tmp, saved);
}

static void expect_words(struct tap *tap, const struct btrfs_print_problem *p,
			 const char *want, const char *desc)
{
	char *got = words(p);

	tap_result(tap, !strcmp(got, want), desc);
	if (strcmp(got, want))
		printf("# got: %s# want: %s", got, want);
	free(got);
}

static void test_words_block(struct tap *tap)
{
	struct btrfs_print_problem p = { .kind = BTRFS_PRINT_LEAF_USED_NEGATIVE };

	expect_words(tap, &p, "kernel-shared/ctree.c:1948: leaf_space_used: Warning: assertion `data_len < 0` failed, value 1\n",
		     "words: overlapping leaf items");
	p = (struct btrfs_print_problem){ .kind = BTRFS_PRINT_LEAF_OVERFULL,
		.free_space = -25, .limit = 3995, .used = 4020, .nritems = 1 };
	expect_words(tap, &p, "leaf free space ret -25, leaf data size 3995, used 4020 nritems 1\n",
		     "words: overfull leaf");
	p = (struct btrfs_print_problem){ .kind = BTRFS_PRINT_ITEM_OUT_OF_LEAF,
		.bytenr = 30408704, .slot = 3, .offset = 3990, .size = 20,
		.limit = 3995 };
	expect_words(tap, &p, "ERROR: leaf 30408704 slot 3 pointer invalid, offset 3990 size 20 leaf data limit 3995\nERROR: skip remaining slots\n",
		     "words: item outside the leaf");
	p = (struct btrfs_print_problem){ .kind = BTRFS_PRINT_NODE_NRITEMS,
		.nritems = 122, .limit = 121 };
	expect_words(tap, &p, "WARNING: node nr_items corrupted, has 122 limit 121, continue anyway\n",
		     "words: node with too many pointers");
}

static void test_words_child(struct tap *tap)
{
	struct btrfs_print_problem p = { .kind = BTRFS_PRINT_CHILD_UNMAPPED,
		.bytenr = 68719476736ULL, .size = 16384 };

	expect_words(tap, &p, "No mapping for 68719476736-68719493120\nCouldn't map the block 68719476736\n",
		     "words: unmapped child");
	p = (struct btrfs_print_problem){ .kind = BTRFS_PRINT_CHILD_CSUM,
		.bytenr = 30425088, .csum_size = 4,
		.csum_wanted = { 0x12, 0x34, 0xab, 0x00 },
		.csum_found = { 0x0f, 0xed, 0x01, 0x9c } };
	expect_words(tap, &p, "checksum verify failed on 30425088 wanted 0x1234ab00 found 0x0fed019c\n",
		     "words: child checksum");
	p = (struct btrfs_print_problem){ .kind = BTRFS_PRINT_CHILD_TRANSID,
		.bytenr = 30425088, .wanted = 9, .found = 8 };
	expect_words(tap, &p, "parent transid verify failed on 30425088 wanted 9 found 8\n",
		     "words: child generation");
	p = (struct btrfs_print_problem){ .kind = BTRFS_PRINT_CHILD_UNREADABLE,
		.bytenr = 30425088, .owner = 5 };
	expect_words(tap, &p, "failed to read 30425088 in tree 5\n",
		     "words: unreadable child");
	p = (struct btrfs_print_problem){ .kind = BTRFS_PRINT_CHILD_LEVEL_SKIPPED,
		.bytenr = 29671424, .slot = 1, .level = 1, .child = 29704192,
		.child_level = 1 };
	expect_words(tap, &p, "WARNING: eb corrupted: parent bytenr 29671424 slot 1 level 1 child bytenr 29704192 level has 1 expect 0, skipping the slot\n",
		     "words: child at the wrong level, depth first");
	p.kind = BTRFS_PRINT_CHILD_LEVEL_STOPPED;
	expect_words(tap, &p, "ERROR: child eb corrupted: parent bytenr=29671424 item=1 parent level=1 child bytenr=29704192 child level=1\n",
		     "words: child at the wrong level, breadth first");
}

int main(void)
{
	struct tap tap = { 0, 0 };

	test_item_out_of_leaf(&tap);
	test_leaf_space(&tap);
	test_node_nritems(&tap);
	test_words_block(&tap);
	test_words_child(&tap);
	printf("1..%d\n", tap.count);
	return tap.failed ? 1 : 0;
}
