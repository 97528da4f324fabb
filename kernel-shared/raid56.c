// SPDX-License-Identifier: GPL-2.0
/*
 * RAID5/6 full stripe row read-modify-write with parity.
 */
#include <stdlib.h>

#include "kernel-shared/format.h"
#include "kernel-shared/raid56.h"

int btrfs_raid56_nparity(u64 type)
{
	if (type & BTRFS_BLOCK_GROUP_RAID6)
		return 2;
	if (type & BTRFS_BLOCK_GROUP_RAID5)
		return 1;
	return 0;
}

/* Multiply by the generator 2 in GF(2^8) modulo x^8+x^4+x^3+x^2+1. */
static inline u8 gf_mul2(u8 x)
{
	return (u8)((x << 1) ^ ((x & 0x80) ? 0x1d : 0));
}

void btrfs_raid56_gen_pq(int nr_data, size_t len, const u8 * const *data,
			 u8 *p, u8 *q)
{
	for (size_t b = 0; b < len; b++) {
		u8 pv = 0, qv = 0;

		/* Horner's rule from the highest data element down. */
		for (int i = nr_data - 1; i >= 0; i--) {
			pv ^= data[i][b];
			qv = (u8)(gf_mul2(qv) ^ data[i][b]);
		}
		p[b] = pv;
		if (q)
			q[b] = qv;
	}
}

struct row_pos {
	u64 row;
	u64 in_elem;		/* byte offset inside the element */
	int data_elem;		/* which data element of the row */
	int nr_data;
	int nparity;
};

static int row_position(const struct btrfs_raid56_io *io, u64 offset,
			u32 len, struct row_pos *rp)
{
	u64 elem;

	rp->nparity = btrfs_raid56_nparity(io->type);
	rp->nr_data = io->num_stripes - rp->nparity;
	if (!rp->nparity || rp->nr_data < 1 || !io->stripe_len)
		return -EINVAL;
	elem = offset / io->stripe_len;
	rp->in_elem = offset % io->stripe_len;
	if (rp->in_elem + len > io->stripe_len)
		return -EINVAL;
	rp->row = elem / (u64)rp->nr_data;
	rp->data_elem = (int)(elem % (u64)rp->nr_data);
	return 0;
}

/* Stripe holding element @k of row @row (data 0..nr_data-1, then P, Q). */
static int elem_stripe(const struct btrfs_raid56_io *io, u64 row, int k)
{
	return (int)((row + (u64)k) % (u64)io->num_stripes);
}

int btrfs_raid56_write(const struct btrfs_raid56_io *io, u64 offset,
		       const void *buf, u32 len)
{
	size_t sl = (size_t)io->stripe_len;
	struct row_pos rp;
	const u8 **data;
	u8 *mem;
	int ret;

	ret = row_position(io, offset, len, &rp);
	if (ret)
		return ret;
	mem = malloc(sl * (size_t)(rp.nr_data + 2));
	data = calloc((size_t)rp.nr_data, sizeof(*data));
	if (!mem || !data) {
		free(mem);
		free(data);
		return -ENOMEM;
	}
	for (int j = 0; !ret && j < rp.nr_data; j++) {
		int s = elem_stripe(io, rp.row, j);

		data[j] = mem + sl * (size_t)j;
		ret = io->read(io->ctx, s, mem + sl * (size_t)j, sl,
			       io->physical[s] + rp.row * io->stripe_len);
	}
	if (!ret) {
		u8 *p = mem + sl * (size_t)rp.nr_data;
		u8 *q = rp.nparity > 1 ? p + sl : NULL;
		int s = elem_stripe(io, rp.row, rp.data_elem);

		memcpy(mem + sl * (size_t)rp.data_elem + rp.in_elem, buf, len);
		btrfs_raid56_gen_pq(rp.nr_data, sl, data, p, q);
		ret = io->write(io->ctx, s, buf, len, io->physical[s] +
				rp.row * io->stripe_len + rp.in_elem);
		for (int k = 0; !ret && k < rp.nparity; k++) {
			s = elem_stripe(io, rp.row, rp.nr_data + k);
			ret = io->write(io->ctx, s, p + sl * (size_t)k, sl,
					io->physical[s] +
						rp.row * io->stripe_len);
		}
	}
	free(mem);
	free(data);
	return ret;
}
