// SPDX-License-Identifier: GPL-2.0
/*
 * Checksum wrappers: crc32c (ISA-L, our SSE4.2 code, or a portable table),
 * xxhash64 (libxxhash), sha256 and blake2b-256 (libgcrypt).
 *
 * The only state is set up once and never changed afterwards: the crc32c
 * tables (plus whether the CPU has SSE4.2) and libgcrypt's initialization,
 * each under its own pthread_once.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include <gcrypt.h>
#include <isa-l/crc.h>
#include <xxhash.h>

#include "common/csum.h"

/* CRC-32C polynomial, bit-reflected. */
#define CRC32C_POLY 0x82f63b78u

/*
 * Lane lengths for the three-stream SSE4.2 loop, longest first.  A buffer
 * is cut into three equal lanes whose crcs are computed side by side and
 * then joined by "shifting" the earlier lanes over the later ones' length.
 */
#define CRC32C_NR_LANE_LENS 4
static const size_t crc32c_lane_len[CRC32C_NR_LANE_LENS] = {
	4096, 1024, 256, 64
};

/*
 * Tables built once.  slice[k][b] is the register after feeding byte b and
 * then k zero bytes into a zero register (slicing-by-8).  shift[i] maps a
 * register to the register after crc32c_lane_len[i] zero bytes, one
 * 256-entry table per register byte (the map is linear, so the four
 * lookups are XORed).
 */
struct crc32c_tables {
	bool have_sse42;
	uint32_t slice[8][256];
	uint32_t shift[CRC32C_NR_LANE_LENS][4][256];
};

static struct crc32c_tables crc32c_tables;
static pthread_once_t crc32c_once = PTHREAD_ONCE_INIT;

static uint32_t crc32c_bitwise_byte(uint32_t crc)
{
	for (int i = 0; i < 8; i++)
		crc = (crc >> 1) ^ (CRC32C_POLY & (0u - (crc & 1)));
	return crc;
}

/* The register after @nbytes zero bytes, starting from @crc. */
static uint32_t crc32c_zeros(const uint32_t *byte_table, uint32_t crc,
			     size_t nbytes)
{
	while (nbytes--)
		crc = (crc >> 8) ^ byte_table[crc & 0xff];
	return crc;
}

static void crc32c_build_shift(struct crc32c_tables *t, int lane)
{
	uint32_t bit_image[32];

	for (int i = 0; i < 32; i++)
		bit_image[i] = crc32c_zeros(t->slice[0], 1u << i,
					    crc32c_lane_len[lane]);
	for (int k = 0; k < 4; k++) {
		for (int b = 0; b < 256; b++) {
			uint32_t v = 0;

			for (int i = 0; i < 8; i++)
				if (b & (1 << i))
					v ^= bit_image[8 * k + i];
			t->shift[lane][k][b] = v;
		}
	}
}

static void crc32c_init_tables(void)
{
	struct crc32c_tables *t = &crc32c_tables;

	for (int b = 0; b < 256; b++)
		t->slice[0][b] = crc32c_bitwise_byte(b);
	for (int k = 1; k < 8; k++)
		for (int b = 0; b < 256; b++)
			t->slice[k][b] = (t->slice[k - 1][b] >> 8) ^
					 t->slice[0][t->slice[k - 1][b] & 0xff];
	for (int lane = 0; lane < CRC32C_NR_LANE_LENS; lane++)
		crc32c_build_shift(t, lane);
#if defined(__x86_64__)
	__builtin_cpu_init();
	t->have_sse42 = __builtin_cpu_supports("sse4.2");
#endif
}

static const struct crc32c_tables *crc32c_get_tables(void)
{
	pthread_once(&crc32c_once, crc32c_init_tables);
	return &crc32c_tables;
}

static uint64_t load_le64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	v = __builtin_bswap64(v);
#endif
	return v;
}

static uint32_t crc32c_table(uint32_t crc, const uint8_t *p, size_t len)
{
	const struct crc32c_tables *t = crc32c_get_tables();

	for (; len && ((uintptr_t)p & 7); len--)
		crc = (crc >> 8) ^ t->slice[0][(crc ^ *p++) & 0xff];
	for (; len >= 8; len -= 8, p += 8) {
		uint64_t v = load_le64(p) ^ crc;

		crc = t->slice[7][v & 0xff] ^ t->slice[6][(v >> 8) & 0xff] ^
		      t->slice[5][(v >> 16) & 0xff] ^
		      t->slice[4][(v >> 24) & 0xff] ^
		      t->slice[3][(v >> 32) & 0xff] ^
		      t->slice[2][(v >> 40) & 0xff] ^
		      t->slice[1][(v >> 48) & 0xff] ^ t->slice[0][v >> 56];
	}
	while (len--)
		crc = (crc >> 8) ^ t->slice[0][(crc ^ *p++) & 0xff];
	return crc;
}

static uint32_t crc32c_isal(uint32_t crc, const uint8_t *p, size_t len)
{
	/* crc32_iscsi() takes an int length and a non-const pointer. */
	const size_t step = (size_t)1 << 30;

	while (len) {
		size_t n = len < step ? len : step;

		crc = crc32_iscsi((unsigned char *)p, (int)n, crc);
		p += n;
		len -= n;
	}
	return crc;
}

#if defined(__x86_64__)
#define CRC32C_SSE42 __attribute__((target("sse4.2")))

CRC32C_SSE42 static uint32_t sse42_bytes(uint32_t crc, const uint8_t *p,
					 size_t len)
{
	while (len--)
		crc = __builtin_ia32_crc32qi(crc, *p++);
	return crc;
}

CRC32C_SSE42 static uint32_t sse42_words(uint32_t crc, const uint8_t *p,
					 size_t nwords)
{
	uint64_t c = crc;

	for (; nwords; nwords--, p += 8)
		c = __builtin_ia32_crc32di(c, load_le64(p));
	return (uint32_t)c;
}

static uint32_t crc32c_shift(const uint32_t (*shift)[256], uint32_t crc)
{
	return shift[0][crc & 0xff] ^ shift[1][(crc >> 8) & 0xff] ^
	       shift[2][(crc >> 16) & 0xff] ^ shift[3][crc >> 24];
}

/*
 * Three lanes of @lane bytes each at @p, the first continuing from @crc:
 * the crc of the three in a row is shift(shift(c0) ^ c1) ^ c2, because the
 * register is linear in its starting value.
 */
CRC32C_SSE42 static uint32_t sse42_three_lanes(const uint32_t (*shift)[256],
					       uint32_t crc, const uint8_t *p,
					       size_t lane)
{
	uint64_t c0 = crc, c1 = 0, c2 = 0;

	for (size_t i = 0; i < lane; i += 8) {
		c0 = __builtin_ia32_crc32di(c0, load_le64(p + i));
		c1 = __builtin_ia32_crc32di(c1, load_le64(p + lane + i));
		c2 = __builtin_ia32_crc32di(c2, load_le64(p + 2 * lane + i));
	}
	crc = crc32c_shift(shift, (uint32_t)c0) ^ (uint32_t)c1;
	return crc32c_shift(shift, crc) ^ (uint32_t)c2;
}

static uint32_t crc32c_sse42(const struct crc32c_tables *t, uint32_t crc,
			     const uint8_t *p, size_t len)
{
	size_t head = (8 - ((uintptr_t)p & 7)) & 7;

	if (head > len)
		head = len;
	crc = sse42_bytes(crc, p, head);
	p += head;
	len -= head;
	for (int i = 0; i < CRC32C_NR_LANE_LENS; i++) {
		size_t chunk = 3 * crc32c_lane_len[i];

		for (; len >= chunk; len -= chunk, p += chunk)
			crc = sse42_three_lanes(t->shift[i], crc, p,
						crc32c_lane_len[i]);
	}
	crc = sse42_words(crc, p, len / 8);
	return sse42_bytes(crc, p + (len & ~(size_t)7), len & 7);
}
#endif

const char *btrfs_crc32c_impl_name(enum btrfs_crc32c_impl impl)
{
	static const char *const names[BTRFS_CRC32C_NR_IMPLS] = {
		[BTRFS_CRC32C_IMPL_ISAL] = "isal",
		[BTRFS_CRC32C_IMPL_SSE42] = "sse42",
		[BTRFS_CRC32C_IMPL_TABLE] = "table",
	};

	if ((unsigned)impl >= BTRFS_CRC32C_NR_IMPLS)
		return NULL;
	return names[impl];
}

int btrfs_crc32c_impl_available(enum btrfs_crc32c_impl impl)
{
	if ((unsigned)impl >= BTRFS_CRC32C_NR_IMPLS)
		return -EINVAL;
	if (impl == BTRFS_CRC32C_IMPL_SSE42)
		return crc32c_get_tables()->have_sse42;
	return 1;
}

uint32_t btrfs_crc32c_impl(enum btrfs_crc32c_impl impl, uint32_t seed,
			   const void *data, size_t len)
{
	if (impl == BTRFS_CRC32C_IMPL_ISAL)
		return crc32c_isal(seed, data, len);
#if defined(__x86_64__)
	if (impl == BTRFS_CRC32C_IMPL_SSE42) {
		const struct crc32c_tables *t = crc32c_get_tables();

		if (t->have_sse42)
			return crc32c_sse42(t, seed, data, len);
	}
#endif
	return crc32c_table(seed, data, len);
}

/*
 * ISA-L is the default: it measured fastest on 4 KiB and 16 KiB blocks (see
 * bench/README.md) and picks its own code for the CPU, including a
 * portable one.
 */
uint32_t btrfs_crc32c(uint32_t seed, const void *data, size_t len)
{
	return crc32c_isal(seed, data, len);
}

uint64_t btrfs_name_hash(const char *name, size_t len)
{
	return btrfs_crc32c(~(uint32_t)1, name, len);
}

uint64_t btrfs_extref_hash(uint64_t parent_objectid, const char *name,
			   size_t len)
{
	return btrfs_crc32c((uint32_t)parent_objectid, name, len);
}

struct csum_type_info {
	const char *name;
	unsigned size;
};

static const struct csum_type_info csum_types[] = {
	[BTRFS_CSUM_TYPE_CRC32] = { "crc32c", 4 },
	[BTRFS_CSUM_TYPE_XXHASH] = { "xxhash64", 8 },
	[BTRFS_CSUM_TYPE_SHA256] = { "sha256", 32 },
	[BTRFS_CSUM_TYPE_BLAKE2] = { "blake2", 32 },
};

#define NR_CSUM_TYPES (sizeof(csum_types) / sizeof(csum_types[0]))

int btrfs_csum_type_valid(unsigned type)
{
	return type < NR_CSUM_TYPES;
}

unsigned btrfs_csum_type_size(unsigned type)
{
	return btrfs_csum_type_valid(type) ? csum_types[type].size : 0;
}

const char *btrfs_csum_type_name(unsigned type)
{
	return btrfs_csum_type_valid(type) ? csum_types[type].name : NULL;
}

int btrfs_csum_type_parse(const char *name)
{
	static const struct {
		const char *name;
		int type;
	} aliases[] = {
		{ "crc32c", BTRFS_CSUM_TYPE_CRC32 },
		{ "xxhash", BTRFS_CSUM_TYPE_XXHASH },
		{ "xxhash64", BTRFS_CSUM_TYPE_XXHASH },
		{ "sha256", BTRFS_CSUM_TYPE_SHA256 },
		{ "blake2", BTRFS_CSUM_TYPE_BLAKE2 },
		{ "blake2b", BTRFS_CSUM_TYPE_BLAKE2 },
	};

	for (size_t i = 0; name && i < sizeof(aliases) / sizeof(aliases[0]); i++)
		if (strcasecmp(name, aliases[i].name) == 0)
			return aliases[i].type;
	return -EINVAL;
}

/* libgcrypt must be initialized once before use; we do it lazily. */
struct gcrypt_state {
	bool ok;
};

static struct gcrypt_state gcrypt_state;
static pthread_once_t gcrypt_once = PTHREAD_ONCE_INIT;

static void gcrypt_init(void)
{
	/* Someone else (the program) may have initialized it already. */
	if (gcry_control(GCRYCTL_INITIALIZATION_FINISHED_P)) {
		gcrypt_state.ok = true;
		return;
	}
	if (!gcry_check_version(GCRYPT_VERSION))
		return;
	gcry_control(GCRYCTL_DISABLE_SECMEM, 0);
	gcry_control(GCRYCTL_INITIALIZATION_FINISHED, 0);
	gcrypt_state.ok = true;
}

static int csum_gcrypt(int algo, const void *data, size_t len, uint8_t *out)
{
	gcry_buffer_t iov = { .size = len, .len = len, .data = (void *)data };

	pthread_once(&gcrypt_once, gcrypt_init);
	if (!gcrypt_state.ok)
		return -EIO;
	if (gcry_md_hash_buffers(algo, 0, out, &iov, 1))
		return -EIO;
	return 0;
}

static void store_le(uint8_t *out, uint64_t v, int nbytes)
{
	for (int i = 0; i < nbytes; i++, v >>= 8)
		out[i] = (uint8_t)v;
}

int btrfs_csum_data(unsigned type, const void *data, size_t len,
		    uint8_t out[BTRFS_CSUM_SIZE])
{
	memset(out, 0, BTRFS_CSUM_SIZE);
	switch (type) {
	case BTRFS_CSUM_TYPE_CRC32:
		store_le(out, ~btrfs_crc32c(~(uint32_t)0, data, len), 4);
		return 0;
	case BTRFS_CSUM_TYPE_XXHASH:
		store_le(out, XXH64(data, len, 0), 8);
		return 0;
	case BTRFS_CSUM_TYPE_SHA256:
		return csum_gcrypt(GCRY_MD_SHA256, data, len, out);
	case BTRFS_CSUM_TYPE_BLAKE2:
		return csum_gcrypt(GCRY_MD_BLAKE2B_256, data, len, out);
	}
	return -EINVAL;
}
