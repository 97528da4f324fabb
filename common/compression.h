/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Decompression of btrfs file data: zlib, lzo (btrfs's own per-sector
 * framing) and zstd, for regular and inline extents.
 *
 * Everything handed in comes from disk and is untrusted: every length is
 * checked against the input, the output never grows past the buffer the
 * caller gives, and memory use is bounded (zstd's window is capped).  Uses
 * only <stdint.h> types so that common/ does not depend on the engine.
 */
#ifndef BTRFS_COMMON_COMPRESSION_H
#define BTRFS_COMMON_COMPRESSION_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* On-disk compression types (file extent item "compression" field). */
#define BTRFS_COMPRESS_TYPE_NONE	0
#define BTRFS_COMPRESS_TYPE_ZLIB	1
#define BTRFS_COMPRESS_TYPE_LZO		2
#define BTRFS_COMPRESS_TYPE_ZSTD	3

/*
 * Largest compressed extent on disk and largest decompressed extent the
 * kernel writes (128 KiB each).  Bigger values in an extent item mean
 * damage.
 */
#define BTRFS_MAX_COMPRESSED_BYTES	(128U * 1024)
#define BTRFS_MAX_UNCOMPRESSED_BYTES	(128U * 1024)

/*
 * Per-thread decompression state (zlib stream, zstd context, lzo scratch
 * sector).  Reusing one avoids an allocation per extent.  Not shareable
 * between threads.
 */
struct btrfs_decomp_ws;

/* A new workspace, or NULL on allocation failure. */
struct btrfs_decomp_ws *btrfs_decomp_ws_alloc(void);

/* Free a workspace (NULL is fine). */
void btrfs_decomp_ws_free(struct btrfs_decomp_ws *ws);

/*
 * Decompress @in_len bytes at @in, compressed with @type, into @out, which
 * holds @out_len bytes.  Output that does not fit is dropped without error:
 * the kernel compresses inline data as a whole sector while the extent item
 * records the real length, and a caller asking for the first @out_len bytes
 * must get them.  Input after the end of the compressed stream (sector
 * padding) is ignored.  @sectorsize is the filesystem's sector size (the
 * lzo segment framing depends on it; 4096 if 0).
 *
 * Returns the number of bytes written to @out (less than @out_len when the
 * stream ends early; the caller decides whether that is an error),
 * -EUCLEAN when the compressed data is malformed, -EOPNOTSUPP for an
 * unknown @type, -ENOMEM, -EINVAL for a bad argument.
 */
ssize_t btrfs_decompress(struct btrfs_decomp_ws *ws, int type,
			 const void *in, size_t in_len,
			 void *out, size_t out_len, uint32_t sectorsize);

/* "zlib", "lzo", "zstd", "none" or "unknown". */
const char *btrfs_compress_type_name(int type);

#endif
