// SPDX-License-Identifier: GPL-2.0
/*
 * Delayed references: heads kept in an array sorted by bytenr (binary
 * search), each with the small list of refs it changes.
 */
#include <stdlib.h>

#include "common/array.h"
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

static bool head_exists(const struct btrfs_delayed_ref_root *d, u64 bytenr)
{
	bool found;

	head_index(d, bytenr, &found);
	return found;
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

	if (array_reserve(d->heads, d->cap, d->nr + 1, 64))
		return NULL;
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

/* Same reference?  A shared ref is identified by its parent alone. */
static bool same_ref(const struct btrfs_delayed_tree_ref *a,
		     const struct btrfs_delayed_tree_ref *b)
{
	if (a->parent || b->parent)
		return a->parent == b->parent;
	return a->root == b->root && a->owner == b->owner &&
	       a->offset == b->offset;
}

/* Merge @want (its ref_mod the action) into the refs of @head. */
static int merge_ref(struct btrfs_delayed_ref_head *head,
		     const struct btrfs_delayed_tree_ref *want)
{
	int i;

	for (i = 0; i < head->nr_refs; i++) {
		struct btrfs_delayed_tree_ref *ref = &head->refs[i];

		if (!same_ref(ref, want))
			continue;
		ref->ref_mod += want->ref_mod;
		if (ref->ref_mod == 0) {
			head->refs[i] = head->refs[head->nr_refs - 1];
			head->nr_refs--;
		}
		return 0;
	}
	if (array_reserve(head->refs, head->max_refs,
			  (size_t)head->nr_refs + 1, 2))
		return -ENOMEM;
	head->refs[head->nr_refs++] = *want;
	return 0;
}

/*
 * Find or make the head of @bytenr; *idx gets its index.  A head must keep
 * its size and kind, and only the first ref of an extent may insert it.
 */
static int get_head(struct btrfs_delayed_ref_root *d, u64 bytenr,
		    u64 num_bytes, bool is_data, bool insert_reserved,
		    struct btrfs_delayed_ref_head **ret_head, size_t *idx)
{
	struct btrfs_delayed_ref_head *head;
	bool found;

	*idx = head_index(d, bytenr, &found);
	if (found) {
		head = d->heads[*idx];
		if (insert_reserved || head->num_bytes != num_bytes ||
		    head->is_data != is_data)
			return -EUCLEAN;	/* a block allocated twice */
		*ret_head = head;
		return 0;
	}
	head = new_head(d, *idx, bytenr, num_bytes);
	if (!head)
		return -ENOMEM;
	head->is_data = is_data;
	head->insert_reserved = insert_reserved;
	*ret_head = head;
	return 0;
}

/* Apply @ref to @head at @idx; 1 when the head cancelled out and was freed
 * for an extent reserved in this transaction. */
static int add_ref_to_head(struct btrfs_delayed_ref_root *d, size_t idx,
			   struct btrfs_delayed_ref_head *head,
			   const struct btrfs_delayed_tree_ref *ref)
{
	int ret = merge_ref(head, ref);

	if (ret)
		return ret;
	head->total_ref_mod += ref->ref_mod;
	if (head->nr_refs || (head->set_flags && !head->insert_reserved))
		return 0;
	/* Everything cancelled out. */
	remove_head_at(d, idx);
	ret = head->insert_reserved ? 1 : 0;
	free_head(head);
	return ret;
}

int btrfs_add_delayed_tree_ref(struct btrfs_trans_handle *trans, u64 bytenr,
			       u64 num_bytes, u64 root, u64 parent, int level,
			       const struct btrfs_key *first_key, int action,
			       bool insert_reserved)
{
	struct btrfs_delayed_ref_root *d = &trans->delayed_refs;
	struct btrfs_delayed_tree_ref ref = { root, parent, action, 0, 0 };
	struct btrfs_delayed_ref_head *head;
	size_t idx;
	bool fresh;
	int ret;

	if (action != 1 && action != -1)
		return -EINVAL;
	fresh = !head_exists(d, bytenr);
	ret = get_head(d, bytenr, num_bytes, false, insert_reserved, &head,
		       &idx);
	if (ret)
		return ret;
	if (fresh) {
		head->level = level;
		if (first_key)
			head->first_key = *first_key;
	}
	return add_ref_to_head(d, idx, head, &ref);
}

int btrfs_add_delayed_data_ref(struct btrfs_trans_handle *trans, u64 bytenr,
			       u64 num_bytes, u64 root, u64 parent, u64 owner,
			       u64 offset, int action, bool insert_reserved)
{
	struct btrfs_delayed_ref_root *d = &trans->delayed_refs;
	struct btrfs_delayed_tree_ref ref = { root, parent, action, owner,
					      offset };
	struct btrfs_delayed_ref_head *head;
	size_t idx;
	int ret;

	if (action == 0 || (insert_reserved && action < 0))
		return -EINVAL;
	if (parent)
		ref.root = ref.owner = ref.offset = 0;
	ret = get_head(d, bytenr, num_bytes, true, insert_reserved, &head,
		       &idx);
	if (ret)
		return ret;
	return add_ref_to_head(d, idx, head, &ref);
}

int btrfs_add_delayed_extent_op(struct btrfs_trans_handle *trans, u64 bytenr,
				u64 num_bytes, int level, u64 flags)
{
	struct btrfs_delayed_ref_root *d = &trans->delayed_refs;
	struct btrfs_delayed_ref_head *head;
	bool fresh = !head_exists(d, bytenr);
	size_t idx;
	int ret;

	ret = get_head(d, bytenr, num_bytes, false, false, &head, &idx);
	if (ret)
		return ret;
	if (fresh)
		head->level = level;
	head->set_flags |= flags;
	return 0;
}

struct btrfs_delayed_ref_head *
btrfs_find_delayed_ref_head(struct btrfs_trans_handle *trans, u64 bytenr)
{
	struct btrfs_delayed_ref_root *d = &trans->delayed_refs;
	bool found;
	size_t idx = head_index(d, bytenr, &found);

	return found ? d->heads[idx] : NULL;
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
