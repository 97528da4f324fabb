// SPDX-License-Identifier: GPL-2.0
/* Growable arrays (array.h). */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "common/array.h"

int array_reserve_raw(void **arr, size_t *cap, size_t need, size_t size,
		      size_t min_cap)
{
	size_t ncap = *cap ? *cap : (min_cap ? min_cap : 1);
	void *p;

	if (need <= *cap)
		return 0;
	while (ncap < need) {
		if (ncap > SIZE_MAX / 2)
			return -ENOMEM;
		ncap *= 2;
	}
	if (size && ncap > SIZE_MAX / size)
		return -ENOMEM;
	p = realloc(*arr, ncap * size);
	if (!p)
		return -ENOMEM;
	*arr = p;
	*cap = ncap;
	return 0;
}
