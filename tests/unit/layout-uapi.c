// SPDX-License-Identifier: GPL-2.0
/*
 * The kernel's view of the on-disk layout, from the installed uapi header,
 * as a table that test-layout.c compares with ours.
 */
#include <stddef.h>
#include <linux/btrfs_tree.h>

#include "layout.h"

#define LAYOUT_FIELD(s, f) \
	{ #s "." #f, offsetof(struct s, f), sizeof(((struct s *)0)->f) },
#define LAYOUT_STRUCT(s)
const struct layout_entry uapi_fields[] = {
#include "layout-fields.h"
	{ NULL, 0, 0 }
};
#undef LAYOUT_FIELD
#undef LAYOUT_STRUCT

#define LAYOUT_FIELD(s, f)
#define LAYOUT_STRUCT(s) { #s, 0, sizeof(struct s) },
const struct layout_entry uapi_structs[] = {
#include "layout-fields.h"
	{ NULL, 0, 0 }
};
