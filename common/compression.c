// SPDX-License-Identifier: GPL-2.0
/*
 * Decompression of btrfs file data (see compression.h for the contract).
 *
 * Formats, as the kernel writes them:
 * - zlib: one zlib stream per extent (a raw deflate stream is accepted too,
 *   as the kernel does when the two header bytes are not a zlib header);
 * - zstd: one zstd frame per extent, followed by zero padding to a sector;
 * - lzo: a 4-byte little-endian total length (header included), then
 *   segments of a 4-byte little-endian length and that many bytes of
 *   lzo1x data, each decompressing to at most one sector.  A segment header
 *   never crosses a sector boundary: when fewer than 4 bytes are left in the
 *   current sector they are zero padding and the next header starts at the
 *   next sector.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <lzo1x.h>
#include <zlib.h>
#include <zstd.h>

#include "common/compression.h"

/* Largest zstd window we accept (the kernel writes at most 128 KiB ones). */
#define ZSTD_WINDOW_LOG_MAX 27
#define LZO_LEN 4U
#define DEFAULT_SECTORSIZE 4096U
#define MAX_SECTORSIZE (64U * 1024)

struct btrfs_decomp_ws {
	z_stream zs;
	int zs_ready;		/* inflateInit2 done: 1 zlib header, 2 raw */
	ZSTD_DCtx *zstd;
	unsigned char *lzo_buf;	/* one sector of lzo output */
	size_t lzo_buf_len;
};

struct btrfs_decomp_ws *btrfs_decomp_ws_alloc(void)
{
	struct btrfs_decomp_ws *ws = calloc(1, sizeof(*ws));

	if (!ws)
		return NULL;
	if (lzo_init() != LZO_E_OK) {
		free(ws);
		return NULL;
	}
	ws->zstd = ZSTD_createDCtx();
	if (!ws->zstd ||
	    ZSTD_isError(ZSTD_DCtx_setParameter(ws->zstd, ZSTD_d_windowLogMax,
						ZSTD_WINDOW_LOG_MAX))) {
		btrfs_decomp_ws_free(ws);
		return NULL;
	}
	return ws;
}

void btrfs_decomp_ws_free(struct btrfs_decomp_ws *ws)
{
	if (!ws)
		return;
	if (ws->zs_ready)
		inflateEnd(&ws->zs);
	ZSTD_freeDCtx(ws->zstd);
	free(ws->lzo_buf);
	free(ws);
}

const char *btrfs_compress_type_name(int type)
{
	switch (type) {
	case BTRFS_COMPRESS_TYPE_NONE: return "none";
	case BTRFS_COMPRESS_TYPE_ZLIB: return "zlib";
	case BTRFS_COMPRESS_TYPE_LZO: return "lzo";
	case BTRFS_COMPRESS_TYPE_ZSTD: return "zstd";
	}
	return "unknown";
}

static uint32_t get_le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

/* ------------------------------------------------------------------ */
/* zlib */

/* Do the first two bytes form a zlib header (deflate, valid check bits)? */
static int has_zlib_header(const unsigned char *in, size_t len)
{
	if (len < 2)
		return 0;
	return (in[0] & 0x0f) == Z_DEFLATED && (in[0] >> 4) <= 7 &&
	       ((unsigned)in[0] << 8 | in[1]) % 31 == 0;
}

/* (Re)initialise the inflate stream for a zlib (1) or raw (2) stream. */
static int zlib_setup(struct btrfs_decomp_ws *ws, int kind)
{
	int bits = kind == 1 ? MAX_WBITS : -MAX_WBITS;
	int ret;

	if (ws->zs_ready) {
		ret = inflateReset2(&ws->zs, bits);
	} else {
		memset(&ws->zs, 0, sizeof(ws->zs));
		ret = inflateInit2(&ws->zs, bits);
	}
	if (ret != Z_OK) {
		if (ws->zs_ready)
			inflateEnd(&ws->zs);
		ws->zs_ready = 0;
		return ret == Z_MEM_ERROR ? -ENOMEM : -EINVAL;
	}
	ws->zs_ready = kind;
	return 0;
}

static ssize_t zlib_decompress(struct btrfs_decomp_ws *ws,
			       const unsigned char *in, size_t in_len,
			       unsigned char *out, size_t out_len)
{
	z_stream *zs = &ws->zs;
	int ret;

	if (in_len > UINT32_MAX || out_len > UINT32_MAX)
		return -EINVAL;
	ret = zlib_setup(ws, has_zlib_header(in, in_len) ? 1 : 2);
	if (ret)
		return ret;
	zs->next_in = (unsigned char *)in;
	zs->avail_in = (uInt)in_len;
	zs->next_out = out;
	zs->avail_out = (uInt)out_len;
	while (zs->avail_out > 0) {
		ret = inflate(zs, Z_NO_FLUSH);
		if (ret == Z_STREAM_END)
			break;
		if (ret == Z_BUF_ERROR)	/* input ended: a short result */
			break;
		if (ret != Z_OK)
			return ret == Z_MEM_ERROR ? -ENOMEM : -EUCLEAN;
	}
	return (ssize_t)(out_len - zs->avail_out);
}

/* ------------------------------------------------------------------ */
/* zstd */

static ssize_t zstd_decompress(struct btrfs_decomp_ws *ws,
			       const unsigned char *in, size_t in_len,
			       unsigned char *out, size_t out_len)
{
	ZSTD_inBuffer ib = { in, in_len, 0 };
	ZSTD_outBuffer ob = { out, out_len, 0 };
	size_t ret;

	if (ZSTD_isError(ZSTD_DCtx_reset(ws->zstd, ZSTD_reset_session_only)))
		return -EINVAL;
	while (ob.pos < ob.size) {
		size_t in_before = ib.pos, out_before = ob.pos;

		ret = ZSTD_decompressStream(ws->zstd, &ob, &ib);
		if (ZSTD_isError(ret))
			return -EUCLEAN;
		if (ret == 0)		/* frame complete; padding follows */
			break;
		if (ib.pos == in_before && ob.pos == out_before)
			break;		/* input ended: a short result */
	}
	return (ssize_t)ob.pos;
}

/* ------------------------------------------------------------------ */
/* lzo */

static size_t lzo_worst(size_t len)
{
	return len + len / 16 + 64 + 3;
}

static int lzo_scratch(struct btrfs_decomp_ws *ws, size_t len)
{
	unsigned char *buf;

	if (ws->lzo_buf_len >= len)
		return 0;
	buf = realloc(ws->lzo_buf, len);
	if (!buf)
		return -ENOMEM;
	ws->lzo_buf = buf;
	ws->lzo_buf_len = len;
	return 0;
}

/* Decompress one segment of @seg_len bytes; append to @out. */
static int lzo_segment(struct btrfs_decomp_ws *ws, const unsigned char *seg,
		       size_t seg_len, uint32_t sectorsize, unsigned char *out,
		       size_t out_len, size_t *produced)
{
	lzo_uint got = sectorsize;
	size_t take;
	int ret;

	ret = lzo1x_decompress_safe(seg, seg_len, ws->lzo_buf, &got, NULL);
	if (ret != LZO_E_OK)
		return -EUCLEAN;
	take = out_len - *produced;
	if (take > got)
		take = got;
	memcpy(out + *produced, ws->lzo_buf, take);
	*produced += take;
	return 0;
}

static ssize_t lzo_decompress(struct btrfs_decomp_ws *ws,
			      const unsigned char *in, size_t in_len,
			      unsigned char *out, size_t out_len,
			      uint32_t sectorsize)
{
	size_t total, pos = LZO_LEN, produced = 0;
	int ret;

	if (in_len < LZO_LEN)
		return -EUCLEAN;
	total = get_le32(in);
	if (total < LZO_LEN || total > in_len)
		return -EUCLEAN;
	ret = lzo_scratch(ws, sectorsize);
	if (ret)
		return ret;
	while (pos < total && produced < out_len) {
		size_t left_in_sector = sectorsize - pos % sectorsize;
		size_t seg_len;

		if (left_in_sector < LZO_LEN) {
			pos += left_in_sector;	/* zero padding */
			continue;
		}
		if (total - pos < LZO_LEN)
			return -EUCLEAN;
		seg_len = get_le32(in + pos);
		pos += LZO_LEN;
		if (seg_len == 0 || seg_len > total - pos ||
		    seg_len > lzo_worst(sectorsize))
			return -EUCLEAN;
		ret = lzo_segment(ws, in + pos, seg_len, sectorsize, out,
				  out_len, &produced);
		if (ret)
			return ret;
		pos += seg_len;
	}
	return (ssize_t)produced;
}

/* ------------------------------------------------------------------ */

ssize_t btrfs_decompress(struct btrfs_decomp_ws *ws, int type,
			 const void *in, size_t in_len,
			 void *out, size_t out_len, uint32_t sectorsize)
{
	if (!ws || (!in && in_len) || (!out && out_len))
		return -EINVAL;
	if (!sectorsize)
		sectorsize = DEFAULT_SECTORSIZE;
	if (sectorsize > MAX_SECTORSIZE || (sectorsize & (sectorsize - 1)))
		return -EINVAL;
	if (out_len == 0)
		return 0;
	switch (type) {
	case BTRFS_COMPRESS_TYPE_ZLIB:
		return zlib_decompress(ws, in, in_len, out, out_len);
	case BTRFS_COMPRESS_TYPE_LZO:
		return lzo_decompress(ws, in, in_len, out, out_len, sectorsize);
	case BTRFS_COMPRESS_TYPE_ZSTD:
		return zstd_decompress(ws, in, in_len, out, out_len);
	}
	return -EOPNOTSUPP;
}
