/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Between mkfs.c (the engine steps) and mkfs-bootstrap.c (the first chunks
 * and leaves, written by hand).  Not for frontends.
 */
#ifndef BTRFS_MKFS_INTERNAL_H
#define BTRFS_MKFS_INTERNAL_H

#include "kernel-shared/mkfs.h"

/* Bytes each device of @cfg needs for the bootstrap chunks, @size each. */
u64 mkfs_boot_layout_need(const struct btrfs_mkfs_config *cfg, u64 size);

/*
 * Wipe the devices of @cfg, lay out the first chunks and write the leaves
 * the engine needs to open the filesystem, with temporary-magic
 * superblocks.  0, or negative errno with *what naming the step.
 */
int mkfs_bootstrap(const struct btrfs_mkfs_config *cfg, const char **what);

#endif
