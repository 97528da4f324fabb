/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Growable arrays: one helper instead of a realloc-doubling loop at every
 * list.  An array is a pointer, a capacity (size_t) and a count kept by
 * the caller:
 *
 *	if (array_reserve(l->items, l->cap, l->nr + 1, 16))
 *		return -ENOMEM;
 *	l->items[l->nr++] = item;
 *
 * Usable by the engine and the frontends alike.
 */
#ifndef BTRFS_COMMON_ARRAY_H
#define BTRFS_COMMON_ARRAY_H

#include <stddef.h>

/*
 * Make room for @need elements of @size bytes in *@arr, which has room
 * for *@cap: grows to the first of @min_cap, 2 * *@cap, 4 * *@cap ... that
 * holds @need.  0 (also when there is room already), or -ENOMEM with
 * *@arr and *@cap unchanged (also when the byte count would overflow).
 */
int array_reserve_raw(void **arr, size_t *cap, size_t need, size_t size,
		      size_t min_cap);

/* array_reserve_raw() for a typed pointer @arr and a size_t @cap. */
#define array_reserve(arr, cap, need, min_cap) __extension__ ({	\
	void *__arr = (arr);						\
	int __ret = array_reserve_raw(&__arr, &(cap), (need),		\
				      sizeof(*(arr)), (min_cap));	\
	(arr) = __arr;							\
	__ret;								\
})

#endif
