// SPDX-License-Identifier: GPL-2.0
/*
 * Unit test of cmds/check/tree-walk.c: which pointers of a half-dropped
 * snapshot the check passes skip (cw_child_dropped), against cases worked
 * out from how the kernel drops a snapshot: depth first, in key order,
 * saving in the root item the key and level of the next pointer to drop.
 * Prints TAP.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmds/check/tree-walk.h"
#include "kernel-shared/extent-io.h"

static int count, failed;

static void ok(int cond, const char *what)
{
	count++;
	if (!cond)
		failed++;
	printf("%sok %d - %s\n", cond ? "" : "not ", count, what);
}

/* A node of @level with pointers keyed (objectid, INODE_ITEM, 0). */
static struct extent_buffer *make_node(int level, const u64 *objectids,
				       int nr)
{
	struct extent_buffer *eb = alloc_extent_buffer(1 << 20, 4096);
	int i;

	if (!eb)
		exit(1);
	btrfs_set_header_level(eb, (u8)level);
	btrfs_set_header_nritems(eb, (u32)nr);
	for (i = 0; i < nr; i++) {
		struct btrfs_key_ptr *p = btrfs_key_ptr_nr(eb, i);
		struct btrfs_key key = {
			objectids[i], BTRFS_INODE_ITEM_KEY, 0
		};

		btrfs_cpu_key_to_disk(&p->key, &key);
		btrfs_set_key_ptr_blockptr(eb, p, (u64)(i + 1) << 20);
	}
	return eb;
}

int main(void)
{
	static const u64 keys[] = { 256, 300, 400, 500 };
	struct extent_buffer *l1 = make_node(1, keys, 4);
	struct extent_buffer *l2 = make_node(2, keys, 4);
	struct cw_drop none = { { 0, 0, 0 }, 0 };
	struct cw_drop at400 = { { 400, BTRFS_INODE_ITEM_KEY, 0 }, 1 };
	struct cw_drop mid = { { 350, BTRFS_INODE_ITEM_KEY, 0 }, 1 };
	int slot, n;

	/* no drop in progress: nothing is skipped */
	for (n = 0, slot = 0; slot < 4; slot++)
		n += cw_child_dropped(&none, l1, slot) ||
		     cw_child_dropped(NULL, l2, slot);
	ok(n == 0, "nothing dropped without drop_progress");

	/* at drop_level: pointers before the key are gone, from it on live */
	ok(cw_child_dropped(&at400, l1, 0),
	   "level 1: slot before the key dropped");
	ok(cw_child_dropped(&at400, l1, 1),
	   "level 1: second slot before the key dropped");
	ok(!cw_child_dropped(&at400, l1, 2), "level 1: slot at the key lives");
	ok(!cw_child_dropped(&at400, l1, 3),
	   "level 1: slot after the key lives");

	/* above drop_level: only children wholly before the key are gone */
	ok(cw_child_dropped(&mid, l2, 0),
	   "level 2: [256, 300) before 350 dropped");
	ok(!cw_child_dropped(&mid, l2, 1),
	   "level 2: [300, 400) holds 350: partly live");
	ok(!cw_child_dropped(&mid, l2, 2),
	   "level 2: [400, 500) after 350 lives");
	ok(!cw_child_dropped(&mid, l2, 3), "level 2: last child lives");
	ok(cw_child_dropped(&at400, l2, 1),
	   "level 2: [300, 400) ends at the key: dropped");

	/* below drop_level: a live subtree is live throughout */
	{
		struct cw_drop high = { { 450, BTRFS_INODE_ITEM_KEY, 0 }, 2 };

		ok(!cw_child_dropped(&high, l1, 0),
		   "below drop_level nothing is skipped");
	}

	free_extent_buffer(l1);
	free_extent_buffer(l2);
	printf("1..%d\n", count);
	return failed ? 1 : 0;
}
