// SPDX-License-Identifier: GPL-2.0
/*
 * Delayed references: heads kept in an array sorted by bytenr (binary
 * search), each with the small list of (root, parent) refs it changes.
 */
#include <stdlib.h>

#include "kernel-shared/delayed-ref.h"
#include "kernel-shared/extent-tree.h"
#include "kernel-shared/transaction.h"

/* Index of @bytenr's head, or where it would go (*found false). */
static size_t head_index(const struct btrfs_delayed_ref_root *d, u64 bytenr,
			 bool *found)
{
	size_t lo = 0, hi = d->nr;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (d->heads[mid]->bytenr < bytenr)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = lo < d->nr && d->heads[lo]->bytenr == bytenr;
	return lo;
}

static void free_head(struct btrfs_delayed_ref_head *head)
{
	if (head) {
		free(head->refs);
		free(head);
	}
}

static void remove_head_at(struct btrfs_delayed_ref_root *d, size_t idx)
{
	memmove(&d->heads[idx], &d->heads[idx + 1],
		(d->nr - idx - 1) * sizeof(*d->heads));
	d->nr--;
}

static struct btrfs_delayed_ref_head *
new_head(struct btrfs_delayed_ref_root *d, size_t idx, u64 bytenr,
	 u64 num_bytes)
{
	struct btrfs_delayed_ref_head *head;

	if (d->nr == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 64;
		struct btrfs_delayed_ref_head **heads;

		heads = realloc(d->heads, cap * sizeof(*heads));
		if (!heads)
			return NULL;
		d->heads = heads;
		d->cap = cap;
	}
	head = calloc(1, sizeof(*head));
	if (!head)
		return NULL;
	head->bytenr = bytenr;
	head->num_bytes = num_bytes;
	memmove(&d->heads[idx + 1], &d->heads[idx],
		(d->nr - idx) * sizeof(*d->heads));
	d->heads[idx] = head;
	d->nr++;
	return head;
}

/* Merge @action into the (root, parent) ref of @head. */
static int merge_ref(struct btrfs_delayed_ref_head *head, u64 root,
		     u64 parent, int action)
{
	int i;

	for (i = 0; i < head->nr_refs; i++) {
		struct btrfs_delayed_tree_ref *ref = &head->refs[i];

		if (ref->root != root || ref->parent != parent)
			continue;
		ref->ref_mod += action;
		if (ref->ref_mod == 0) {
			head->refs[i] = head->refs[head->nr_refs - 1];
			head->nr_refs--;
		}
		return 0;
	}
	if (head->nr_refs == head->max_refs) {
		int max = head->max_refs ? head->max_refs * 2 : 2;
		struct btrfs_delayed_tree_ref *refs;

		refs = realloc(head->refs, (size_t)max * sizeof(*refs));
		if (!refs)
			return -ENOMEM;
		head->refs = refs;
		head->max_refs = max;
	}
	head->refs[head->nr_refs++] =
		(struct btrfs_delayed_tree_ref){ root, parent, action };
	return 0;
}

int btrfs_add_delayed_tree_ref(struct btrfs_trans_handle *trans, u64 bytenr,
			       u64 num_bytes, u64 root, u64 parent, int level,
			       const struct btrfs_key *first_key, int action,
			       bool insert_reserved)
{
	struct btrfs_delayed_ref_root *d = &trans->delayed_refs;
	struct btrfs_delayed_ref_head *head;
	bool found;
	size_t idx = head_index(d, bytenr, &found);
	int ret;

	if (action != 1 && action != -1)
		return -EINVAL;
	head = found ? d->heads[idx] : new_head(d, idx, bytenr, num_bytes);
	if (!head)
		return -ENOMEM;
	if (found && (insert_reserved || head->num_bytes != num_bytes))
		return -EUCLEAN;	/* a block allocated twice */
	if (!found) {
		head->level = level;
		head->insert_reserved = insert_reserved;
		if (first_key)
			head->first_key = *first_key;
	}
	ret = merge_ref(head, root, parent, action);
	if (ret)
		return ret;
	head->total_ref_mod += action;
	if (head->nr_refs)
		return 0;
	/* Everything cancelled out. */
	remove_head_at(d, idx);
	ret = head->insert_reserved ? 1 : 0;
	free_head(head);
	return ret;
}

int btrfs_run_delayed_refs(struct btrfs_trans_handle *trans,
			   unsigned long count)
{
	struct btrfs_delayed_ref_root *d = &trans->delayed_refs;
	unsigned long done = 0;

	while (d->nr && (count == 0 || done < count)) {
		struct btrfs_delayed_ref_head *head = d->heads[0];
		int ret;

		remove_head_at(d, 0);
		ret = btrfs_run_delayed_ref_head(trans, head);
		free_head(head);
		if (ret)
			return ret;
		done++;
	}
	return 0;
}

size_t btrfs_delayed_refs_pending(const struct btrfs_trans_handle *trans)
{
	return trans->delayed_refs.nr;
}

void btrfs_delayed_refs_release(struct btrfs_delayed_ref_root *d)
{
	for (size_t i = 0; i < d->nr; i++)
		free_head(d->heads[i]);
	free(d->heads);
	memset(d, 0, sizeof(*d));
}
