/* SPDX-License-Identifier: GPL-2.0 */
#ifndef TESTS_UNIT_LAYOUT_H
#define TESTS_UNIT_LAYOUT_H

#include <stddef.h>

/* One field (or whole struct when offset is 0 and name has no '.'). */
struct layout_entry {
	const char *name;
	size_t offset;
	size_t size;
};

extern const struct layout_entry uapi_fields[];
extern const struct layout_entry uapi_structs[];

#endif
