/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Checksums and name hashes as btrfs stores them on disk.
 *
 * What the bytes on disk are, for each checksum type (the checksum field of
 * a superblock, a tree block header or a csum item is BTRFS_CSUM_SIZE bytes,
 * of which only the first btrfs_csum_type_size() are meaningful):
 *
 *   0 crc32c    4 bytes: the standard CRC-32C (Castagnoli; initial register
 *               0xffffffff, final inversion; "123456789" gives 0xe3069283),
 *               stored little-endian.  In terms of btrfs_crc32c() below that
 *               is ~btrfs_crc32c(~0u, data, len).
 *   1 xxhash64  8 bytes: XXH64 with seed 0, the 64-bit value stored
 *               little-endian (not XXH64's big-endian "canonical" form).
 *   2 sha256    32 bytes: the SHA-256 digest as is.
 *   3 blake2    32 bytes: the BLAKE2b digest with a 32-byte output length,
 *               unkeyed, as is.
 *
 * Every function here is safe to call from several threads at once; the
 * one-time library and table set-up is done under pthread_once.
 */
#ifndef BTRFS_COMMON_CSUM_H
#define BTRFS_COMMON_CSUM_H

#include <stddef.h>
#include <stdint.h>

/* Room for the largest checksum; on-disk checksum fields are this long. */
#define BTRFS_CSUM_SIZE 32

enum btrfs_csum_type {
	BTRFS_CSUM_TYPE_CRC32 = 0,
	BTRFS_CSUM_TYPE_XXHASH = 1,
	BTRFS_CSUM_TYPE_SHA256 = 2,
	BTRFS_CSUM_TYPE_BLAKE2 = 3,
};

/* Returns 1 if @type is one of the checksum types above, 0 otherwise. */
int btrfs_csum_type_valid(unsigned type);

/* Bytes of checksum that @type produces (4, 8 or 32); 0 for an unknown type. */
unsigned btrfs_csum_type_size(unsigned type);

/*
 * The name the reference tools print for @type in dump-super ("crc32c",
 * "xxhash64", "sha256", "blake2"); NULL for an unknown type.
 */
const char *btrfs_csum_type_name(unsigned type);

/*
 * Parses a checksum type name as mkfs.btrfs --csum accepts it, ignoring
 * case: "crc32c", "xxhash" or "xxhash64", "sha256", "blake2" or "blake2b".
 * Returns the type (>= 0), or -EINVAL for anything else.
 */
int btrfs_csum_type_parse(const char *name);

/*
 * Computes the on-disk checksum of type @type over @len bytes at @data into
 * @out, in the byte order described at the top of this file, and zero-fills
 * @out past btrfs_csum_type_size(@type).
 * Returns 0; -EINVAL if @type is unknown (then @out is all zero); -EIO if the
 * crypto library refused the algorithm (e.g. a FIPS-restricted libgcrypt).
 */
int btrfs_csum_data(unsigned type, const void *data, size_t len,
		    uint8_t out[BTRFS_CSUM_SIZE]);

/*
 * The kernel's crc32c(seed, data, len): feeds @len bytes into a CRC-32C
 * register that starts at @seed and returns the register, with NO inversion
 * on entry or exit.  Chaining works: btrfs_crc32c(btrfs_crc32c(s, a, n), b, m)
 * equals the crc of a followed by b.
 * The standard CRC-32C of a buffer is ~btrfs_crc32c(~0u, data, len).
 * Uses the fastest implementation (see bench/README.md).
 */
uint32_t btrfs_crc32c(uint32_t seed, const void *data, size_t len);

/*
 * Hash of a directory entry name: the key offset of DIR_ITEM items (and of
 * the kernel's name hash in general).  It is btrfs_crc32c((u32)~1, ...),
 * without final inversion, widened to 64 bits.
 */
uint64_t btrfs_name_hash(const char *name, size_t len);

/*
 * Hash for INODE_EXTREF key offsets: btrfs_crc32c() seeded with the low 32
 * bits of the parent directory's inode number, widened to 64 bits.
 */
uint64_t btrfs_extref_hash(uint64_t parent_objectid, const char *name,
			   size_t len);

/* The crc32c implementations, selectable for tests and benchmarks. */
enum btrfs_crc32c_impl {
	BTRFS_CRC32C_IMPL_ISAL,		/* Intel ISA-L crc32_iscsi() */
	BTRFS_CRC32C_IMPL_SSE42,	/* our own, SSE4.2 crc32 instruction */
	BTRFS_CRC32C_IMPL_TABLE,	/* our own, portable slicing-by-8 */
	BTRFS_CRC32C_NR_IMPLS,
};

/* Short name of @impl ("isal", "sse42", "table"); NULL if out of range. */
const char *btrfs_crc32c_impl_name(enum btrfs_crc32c_impl impl);

/*
 * Returns 1 if @impl runs natively on this CPU (SSE4.2 needs the instruction;
 * the others always run), 0 if it would fall back, -EINVAL if out of range.
 */
int btrfs_crc32c_impl_available(enum btrfs_crc32c_impl impl);

/*
 * btrfs_crc32c() through one chosen implementation.  SSE4.2 on a CPU
 * without it, or an out-of-range @impl, uses the table code.
 */
uint32_t btrfs_crc32c_impl(enum btrfs_crc32c_impl impl, uint32_t seed,
			   const void *data, size_t len);

#endif
