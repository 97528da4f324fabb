/* SPDX-License-Identifier: GPL-2.0 */
/*
 * btrfs check: tree block read-ahead on worker threads.  Workers read and
 * verify requested blocks (checksum, header, structure) into the engine's
 * block cache, so that the walking thread finds them there.  Read-ahead
 * only primes the cache: a request may be dropped, and the walker reads
 * and reports every block itself as if there were none.
 */
#ifndef BTRFS_CMDS_CHECK_READAHEAD_H
#define BTRFS_CMDS_CHECK_READAHEAD_H

#include "kernel-shared/disk-io.h"

struct check_readahead;

/*
 * Start @nr_threads workers (at most 8).  NULL when no thread could be
 * started (then every call below is a no-op with NULL).
 */
struct check_readahead *check_readahead_start(struct btrfs_fs_info *fs_info,
					      int nr_threads);

/* Ask for @bytenr with the parent's expectations; dropped when busy. */
void check_readahead_add(struct check_readahead *ra, u64 bytenr,
			 const struct btrfs_tree_parent_check *check);

/* Stop the workers (pending requests are dropped) and free @ra. */
void check_readahead_stop(struct check_readahead *ra);

#endif
