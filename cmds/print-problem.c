// SPDX-License-Identifier: GPL-2.0
/*
 * Messages for the problems the tree printer reports.  Some of the
 * reference's lines carry no ERROR / WARNING prefix (they come from its
 * read path or from an assertion); they are printed as they are.
 */
#include <stdbool.h>
#include <stdio.h>

#include "cmds/print-problem.h"
#include "common/messages.h"

/* "0x" and @n bytes as lower-case hex, into @buf of 2 * n + 3 bytes. */
static const char *csum_hex(char *buf, const u8 *csum, u32 n)
{
	static const char digits[] = "0123456789abcdef";
	char *p = buf;
	u32 i;

	*p++ = '0';
	*p++ = 'x';
	for (i = 0; i < n; i++) {
		*p++ = digits[csum[i] >> 4];
		*p++ = digits[csum[i] & 15];
	}
	*p = '\0';
	return buf;
}

/* The problems a leaf or node itself has; false for any other kind. */
static bool print_block_problem(const struct btrfs_print_problem *p)
{
	switch (p->kind) {
	case BTRFS_PRINT_LEAF_USED_NEGATIVE:
		fputs("kernel-shared/ctree.c:1948: leaf_space_used: Warning: assertion `data_len < 0` failed, value 1\n",
		      stderr);
		break;
	case BTRFS_PRINT_LEAF_OVERFULL:
		fprintf(stderr, "leaf free space ret %d, leaf data size %u, used %d nritems %d\n",
			p->free_space, p->limit, p->used, (int)p->nritems);
		break;
	case BTRFS_PRINT_ITEM_OUT_OF_LEAF:
		error("leaf %llu slot %d pointer invalid, offset %u size %u leaf data limit %u",
		      (unsigned long long)p->bytenr, p->slot, p->offset,
		      p->size, p->limit);
		error("skip remaining slots");
		break;
	case BTRFS_PRINT_NODE_NRITEMS:
		warning("node nr_items corrupted, has %u limit %u, continue anyway",
			p->nritems, p->limit);
		break;
	default:
		return false;
	}
	return true;
}

/* The problems met reading a node's child. */
static void print_child_problem(const struct btrfs_print_problem *p)
{
	char wanted[2 * BTRFS_CSUM_SIZE + 3];
	char found[2 * BTRFS_CSUM_SIZE + 3];
	unsigned long long bytenr = p->bytenr;

	switch (p->kind) {
	case BTRFS_PRINT_CHILD_UNMAPPED:
		fprintf(stderr, "No mapping for %llu-%llu\nCouldn't map the block %llu\n",
			bytenr, bytenr + p->size, bytenr);
		break;
	case BTRFS_PRINT_CHILD_CSUM:
		fprintf(stderr, "checksum verify failed on %llu wanted %s found %s\n",
			bytenr, csum_hex(wanted, p->csum_wanted, p->csum_size),
			csum_hex(found, p->csum_found, p->csum_size));
		break;
	case BTRFS_PRINT_CHILD_TRANSID:
		fprintf(stderr, "parent transid verify failed on %llu wanted %llu found %llu\n",
			bytenr, (unsigned long long)p->wanted,
			(unsigned long long)p->found);
		break;
	case BTRFS_PRINT_CHILD_UNREADABLE:
		fprintf(stderr, "failed to read %llu in tree %llu\n", bytenr,
			(unsigned long long)p->owner);
		break;
	case BTRFS_PRINT_CHILD_LEVEL_SKIPPED:
		warning("eb corrupted: parent bytenr %llu slot %d level %d child bytenr %llu level has %d expect %d, skipping the slot",
			bytenr, p->slot, p->level,
			(unsigned long long)p->child, p->child_level,
			p->level - 1);
		break;
	case BTRFS_PRINT_CHILD_LEVEL_STOPPED:
		error("child eb corrupted: parent bytenr=%llu item=%d parent level=%d child bytenr=%llu child level=%d",
		      bytenr, p->slot, p->level,
		      (unsigned long long)p->child, p->child_level);
		break;
	default:
		break;
	}
}

void print_tree_problem(void *out, const struct btrfs_print_problem *p)
{
	fflush(out);
	if (!print_block_problem(p))
		print_child_problem(p);
}
