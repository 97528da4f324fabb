/* SPDX-License-Identifier: GPL-2.0 */
/*
 * RAID5/6 parity for tree block writes (the kernel's raid56.c, write side,
 * and lib/raid6's syndrome).  A write is a read-modify-write of one full
 * stripe row: the other data elements of the row are read, the new bytes
 * put in place, P (xor) and for RAID6 Q (the Reed-Solomon syndrome over
 * GF(2^8) with the polynomial 0x11d and generator 2, Q = sum of 2^i * D_i
 * over the data elements i) recomputed, and the data and parity written.
 *
 * Layout (the kernel's): a chunk of n stripes has n - nparity data
 * elements per row; data element j of row r is on stripe (r + j) % n, P on
 * stripe (r + n - nparity) % n, Q on the next one.
 */
#ifndef BTRFS_RAID56_H
#define BTRFS_RAID56_H

#include "kernel-shared/kerncompat.h"

/* Number of parity stripes of @type (0 when not RAID5/6). */
int btrfs_raid56_nparity(u64 type);

/*
 * P and (when @q is not NULL) Q of @nr_data buffers of @len bytes each.
 */
void btrfs_raid56_gen_pq(int nr_data, size_t len, const u8 * const *data,
			 u8 *p, u8 *q);

/* Where the stripes of one RAID5/6 chunk are, and how to reach them. */
struct btrfs_raid56_io {
	u64 type;			/* chunk type with its profile */
	int num_stripes;
	u64 stripe_len;
	/* I/O on stripe @stripe at device offset @physical: 0 or <0. */
	int (*read)(void *ctx, int stripe, void *buf, size_t len,
		    u64 physical);
	int (*write)(void *ctx, int stripe, const void *buf, size_t len,
		     u64 physical);
	void *ctx;
	const u64 *physical;		/* each stripe's device offset */
};

/*
 * Write @len bytes of @buf at offset @offset of the chunk (the range must
 * lie inside one stripe element) and update the parity of its row.
 * 0, -EINVAL (bad range or layout), -ENOMEM, or the I/O error.
 */
int btrfs_raid56_write(const struct btrfs_raid56_io *io, u64 offset,
		       const void *buf, u32 len);

#endif
