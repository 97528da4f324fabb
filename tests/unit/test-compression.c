// SPDX-License-Identifier: GPL-2.0
/*
 * Decompression tests (common/compression.c), printed as TAP.
 *
 * Oracles are the compression libraries themselves: data is compressed
 * with zlib, liblzo2 and libzstd (lzo framed the way the kernel frames it:
 * a total length, then per sector-sized piece a length and the lzo1x data,
 * never letting a length cross a sector boundary), then decompressed by
 * our code and compared with the input.  Kernel-made extents of all three
 * kinds are covered by tests/restore/restore.bats.  Malformed input (cut
 * short, flipped bytes, lying lengths) must give -EUCLEAN or a short
 * result, never a crash or a write past the output buffer (the buffer
 * is followed by a guard area that must stay untouched).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lzo1x.h>
#include <zlib.h>
#include <zstd.h>

#include "common/compression.h"

#define SECTOR 4096U
#define GUARD 4096U

static int count, failed;

static void ok(int cond, const char *fmt, const char *what)
{
	count++;
	if (!cond)
		failed++;
	printf("%s %d - ", cond ? "ok" : "not ok", count);
	printf(fmt, what);
	printf("\n");
}

static void fill_text(unsigned char *buf, size_t len, unsigned seed)
{
	static const char *words[] = { "extent ", "inode ", "csum ", "leaf ",
				       "node ", "chunk ", "tree ", "\n" };
	size_t i = 0;

	srand(seed);
	while (i < len) {
		const char *w = words[rand() % 8];

		while (*w && i < len)
			buf[i++] = (unsigned char)*w++;
	}
}

static void put_le32(unsigned char *p, uint32_t v)
{
	p[0] = v & 0xff;
	p[1] = (v >> 8) & 0xff;
	p[2] = (v >> 16) & 0xff;
	p[3] = (v >> 24) & 0xff;
}

/* lzo with the kernel's framing; returns the framed length. */
static size_t lzo_frame(const unsigned char *in, size_t len, unsigned char *out)
{
	static unsigned char wrk[LZO1X_1_MEM_COMPRESS];
	size_t pos = 4;

	for (size_t off = 0; off < len; off += SECTOR) {
		lzo_uint clen;
		size_t left = SECTOR - pos % SECTOR;

		if (left < 4) {
			memset(out + pos, 0, left);
			pos += left;
		}
		lzo1x_1_compress(in + off, len - off < SECTOR ? len - off : SECTOR,
				 out + pos + 4, &clen, wrk);
		put_le32(out + pos, (uint32_t)clen);
		pos += 4 + clen;
	}
	put_le32(out, (uint32_t)pos);
	return pos;
}

static size_t compress_with(int type, const unsigned char *in, size_t len,
			    unsigned char *out, size_t cap)
{
	uLongf zlen = cap;

	switch (type) {
	case BTRFS_COMPRESS_TYPE_ZLIB:
		return compress2(out, &zlen, in, len, 3) == Z_OK ? zlen : 0;
	case BTRFS_COMPRESS_TYPE_ZSTD:
		return ZSTD_compress(out, cap, in, len, 3);
	case BTRFS_COMPRESS_TYPE_LZO:
		return lzo_frame(in, len, out);
	}
	return 0;
}

static int guard_intact(const unsigned char *g)
{
	for (unsigned i = 0; i < GUARD; i++)
		if (g[i] != 0xa5)
			return 0;
	return 1;
}

static void round_trip(struct btrfs_decomp_ws *ws, int type)
{
	const char *name = btrfs_compress_type_name(type);
	size_t len = 128 * 1024, clen;
	unsigned char *in = malloc(len);
	unsigned char *c = malloc(2 * len + 4096);
	unsigned char *out = malloc(len + GUARD);
	ssize_t got;

	fill_text(in, len, 7);
	if (type == BTRFS_COMPRESS_TYPE_LZO)
		memset(in + 5000, 0, 20000);	/* tiny segments: padding */
	clen = compress_with(type, in, len, c, 2 * len + 4096);
	/* sector padding after the stream, as on disk */
	memset(c + clen, 0, 4096 - clen % 4096);

	memset(out, 0xa5, len + GUARD);
	got = btrfs_decompress(ws, type, c, clen + (4096 - clen % 4096), out,
			       len, SECTOR);
	ok(got == (ssize_t)len && !memcmp(in, out, len) && guard_intact(out + len),
	   "%s: a 128 KiB extent round-trips", name);

	/* the first 300 bytes of a bigger stream, as an inline extent asks */
	memset(out, 0xa5, len + GUARD);
	got = btrfs_decompress(ws, type, c, clen, out, 300, SECTOR);
	ok(got == 300 && !memcmp(in, out, 300) && out[300] == 0xa5,
	   "%s: output stops at the buffer size", name);

	/* cut short: a short result or an error, within bounds */
	memset(out, 0xa5, len + GUARD);
	got = btrfs_decompress(ws, type, c, clen / 2, out, len, SECTOR);
	ok((got == -EUCLEAN || (got >= 0 && got < (ssize_t)len)) &&
	   guard_intact(out + len), "%s: a truncated stream is refused", name);

	/* garbage */
	for (size_t i = 16; i < clen; i += 97)
		c[i] ^= 0x5a;
	memset(out, 0xa5, len + GUARD);
	got = btrfs_decompress(ws, type, c, clen, out, len, SECTOR);
	ok((got == -EUCLEAN || (got >= 0 && got <= (ssize_t)len)) &&
	   guard_intact(out + len), "%s: flipped bytes stay in bounds", name);
	free(in);
	free(c);
	free(out);
}

static void lzo_lies(struct btrfs_decomp_ws *ws)
{
	unsigned char in[64] = { 0 }, out[SECTOR];

	put_le32(in, 1000);	/* total longer than the input */
	ok(btrfs_decompress(ws, BTRFS_COMPRESS_TYPE_LZO, in, sizeof(in), out,
			    sizeof(out), SECTOR) == -EUCLEAN,
	   "%s: a total length past the input is refused", "lzo");
	put_le32(in, 64);
	put_le32(in + 4, 1 << 30);	/* segment longer than the total */
	ok(btrfs_decompress(ws, BTRFS_COMPRESS_TYPE_LZO, in, sizeof(in), out,
			    sizeof(out), SECTOR) == -EUCLEAN,
	   "%s: a segment length past the total is refused", "lzo");
	ok(btrfs_decompress(ws, BTRFS_COMPRESS_TYPE_LZO, in, 3, out,
			    sizeof(out), SECTOR) == -EUCLEAN,
	   "%s: input shorter than the header is refused", "lzo");
	ok(btrfs_decompress(ws, 7, in, sizeof(in), out, sizeof(out), SECTOR) ==
	   -EOPNOTSUPP, "%s: an unknown type is refused", "compression");
}

int main(void)
{
	struct btrfs_decomp_ws *ws = btrfs_decomp_ws_alloc();

	printf("1..16\n");
	if (!ws) {
		printf("Bail out! cannot allocate a workspace\n");
		return 1;
	}
	round_trip(ws, BTRFS_COMPRESS_TYPE_ZLIB);
	round_trip(ws, BTRFS_COMPRESS_TYPE_LZO);
	round_trip(ws, BTRFS_COMPRESS_TYPE_ZSTD);
	lzo_lies(ws);
	btrfs_decomp_ws_free(ws);
	return failed ? 1 : 0;
}
