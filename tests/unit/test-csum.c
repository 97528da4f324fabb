// SPDX-License-Identifier: GPL-2.0
/*
 * Checksum and name hash tests, printed as TAP.
 *
 * Oracles, none of them our own code:
 * - published vectors: CRC-32C check value and the iSCSI vectors of
 *   RFC 3720 B.4, SHA-256 from FIPS 180-2, BLAKE2b-256 as printed by
 *   coreutils "b2sum -l 256", XXH64 of the empty input;
 * - values the Linux kernel wrote: data block checksums of a known pattern
 *   read from csum items, for all four checksum types, and DIR_ITEM and
 *   INODE_EXTREF key offsets read with the reference dump-tree;
 * - if /sbin/mkfs.btrfs can be run: the superblock checksum of a freshly made
 *   image of every checksum type (skipped otherwise).
 * The three crc32c implementations must also agree with each other on
 * random buffers of many lengths, alignments and seeds.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/csum.h"

#define REF_MKFS "/sbin/mkfs.btrfs"

struct tap {
	int count;
	int failed;
};

static void tap_result(struct tap *tap, int ok, const char *desc)
{
	tap->count++;
	if (!ok)
		tap->failed++;
	printf("%s %d - %s\n", ok ? "ok" : "not ok", tap->count, desc);
}

static void tap_skip(struct tap *tap, const char *desc, const char *why)
{
	tap->count++;
	printf("ok %d - %s # SKIP %s\n", tap->count, desc, why);
}

static void to_hex(const uint8_t *b, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", b[i]);
	out[2 * n] = 0;
}

/* Checks btrfs_csum_data() output against the hex of the on-disk bytes. */
static void check_csum(struct tap *tap, unsigned type, const void *data,
		       size_t len, const char *hex, const char *desc)
{
	uint8_t out[BTRFS_CSUM_SIZE];
	char got[2 * BTRFS_CSUM_SIZE + 1];
	int ret = btrfs_csum_data(type, data, len, out);
	unsigned size = btrfs_csum_type_size(type);

	to_hex(out, size, got);
	tap_result(tap, ret == 0 && strcmp(got, hex) == 0, desc);
	if (ret || strcmp(got, hex))
		printf("# ret %d got %s want %s\n", ret, got, hex);
}

static uint32_t std_crc32c(enum btrfs_crc32c_impl impl, const void *p,
			   size_t len)
{
	return ~btrfs_crc32c_impl(impl, ~0u, p, len);
}

static void test_crc32c_vectors(struct tap *tap)
{
	static const struct {
		const char *desc;
		int kind;		/* 0 text, 1 zeros, 2 ones, 3 up, 4 down */
		const char *text;
		uint32_t want;
	} vec[] = {
		{ "check value \"123456789\"", 0, "123456789", 0xe3069283 },
		{ "empty input", 0, "", 0x00000000 },
		{ "RFC 3720: 32 zero bytes", 1, NULL, 0x8a9136aa },
		{ "RFC 3720: 32 0xff bytes", 2, NULL, 0x62a8ab43 },
		{ "RFC 3720: 32 incrementing bytes", 3, NULL, 0x46dd794e },
		{ "RFC 3720: 32 decrementing bytes", 4, NULL, 0x113fdb5c },
	};
	char desc[160];

	for (size_t v = 0; v < sizeof(vec) / sizeof(vec[0]); v++) {
		uint8_t buf[32];
		const void *p = buf;
		size_t len = 32;

		for (int i = 0; i < 32; i++)
			buf[i] = vec[v].kind == 1 ? 0 : vec[v].kind == 2 ? 0xff :
				 vec[v].kind == 3 ? i : 31 - i;
		if (vec[v].kind == 0) {
			p = vec[v].text;
			len = strlen(vec[v].text);
		}
		for (int impl = 0; impl < BTRFS_CRC32C_NR_IMPLS; impl++) {
			uint32_t got = std_crc32c(impl, p, len);

			snprintf(desc, sizeof(desc), "crc32c %s: %s",
				 btrfs_crc32c_impl_name(impl), vec[v].desc);
			tap_result(tap, got == vec[v].want, desc);
		}
		tap_result(tap, ~btrfs_crc32c(~0u, p, len) == vec[v].want,
			   "crc32c default path matches the vector");
	}
}

static void test_crc32c_raw(struct tap *tap)
{
	/* ISA-L and the kernel keep the register raw: no inversions. */
	tap_result(tap, btrfs_crc32c(~0u, "123456789", 9) == 0x1cf96d7c,
		   "btrfs_crc32c does not invert the result");
	tap_result(tap, btrfs_crc32c(0x1234, "", 0) == 0x1234,
		   "btrfs_crc32c of nothing returns the seed");
	tap_result(tap, btrfs_crc32c(btrfs_crc32c(~0u, "1234", 4), "56789", 5)
			== 0x1cf96d7c,
		   "btrfs_crc32c chains over split input");
}

/* xorshift64*, fixed seed: the same buffers every run. */
static uint64_t rnd_next(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dull;
}

static int crc32c_agree(const uint8_t *p, size_t len, uint32_t seed)
{
	uint32_t a = btrfs_crc32c_impl(BTRFS_CRC32C_IMPL_ISAL, seed, p, len);
	uint32_t b = btrfs_crc32c_impl(BTRFS_CRC32C_IMPL_SSE42, seed, p, len);
	uint32_t c = btrfs_crc32c_impl(BTRFS_CRC32C_IMPL_TABLE, seed, p, len);
	uint32_t d = btrfs_crc32c(seed, p, len);

	if (a == b && b == c && c == d)
		return 1;
	printf("# len %zu align %u seed %08" PRIx32 ": isal %08" PRIx32
	       " sse42 %08" PRIx32 " table %08" PRIx32 " default %08" PRIx32
	       "\n", len, (unsigned)((uintptr_t)p & 7), seed, a, b, c, d);
	return 0;
}

static void test_crc32c_agree(struct tap *tap)
{
	const size_t max = 200000;
	uint8_t *buf = malloc(max + 8);
	uint64_t s = 0x9e3779b97f4a7c15ull;
	int ok_small = 1, ok_big = 1;

	if (!buf) {
		tap_result(tap, 0, "allocate random buffer");
		return;
	}
	for (size_t i = 0; i < max + 8; i++)
		buf[i] = (uint8_t)rnd_next(&s);
	for (size_t len = 0; len <= 3300 && ok_small; len++)
		ok_small = crc32c_agree(buf + len % 8, len,
					(uint32_t)rnd_next(&s));
	for (int i = 0; i < 400 && ok_big; i++) {
		size_t len = rnd_next(&s) % max;

		ok_big = crc32c_agree(buf + i % 8, len, (uint32_t)rnd_next(&s));
	}
	tap_result(tap, ok_small,
		   "crc32c implementations agree, every length 0..3300");
	tap_result(tap, ok_big,
		   "crc32c implementations agree, random lengths up to 200000");
	tap_result(tap, crc32c_agree(buf, 4096, ~0u) &&
			crc32c_agree(buf, 16384, ~0u) &&
			crc32c_agree(buf + 1, 16384, ~0u),
		   "crc32c implementations agree on 4K and 16K blocks");
	free(buf);
}

static void test_digest_vectors(struct tap *tap)
{
	static const char *const fips2 =
		"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";

	check_csum(tap, BTRFS_CSUM_TYPE_SHA256, "abc", 3,
		   "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
		   "sha256 FIPS 180-2 \"abc\"");
	check_csum(tap, BTRFS_CSUM_TYPE_SHA256, fips2, strlen(fips2),
		   "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
		   "sha256 FIPS 180-2 two-block message");
	check_csum(tap, BTRFS_CSUM_TYPE_SHA256, "", 0,
		   "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
		   "sha256 empty input");
	check_csum(tap, BTRFS_CSUM_TYPE_BLAKE2, "abc", 3,
		   "bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319",
		   "blake2b-256 \"abc\"");
	check_csum(tap, BTRFS_CSUM_TYPE_BLAKE2, "", 0,
		   "0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8",
		   "blake2b-256 empty input");
	/* XXH64("") = 0xef46db3751d8e999, stored little-endian. */
	check_csum(tap, BTRFS_CSUM_TYPE_XXHASH, "", 0, "99e9d85137db46ef",
		   "xxhash64 empty input, little-endian");
	check_csum(tap, BTRFS_CSUM_TYPE_CRC32, "123456789", 9, "839206e3",
		   "crc32c csum is the check value, little-endian");
}

/*
 * A file of two 4 KiB blocks, byte i of the first being i & 0xff and of the
 * second (7 * i + 3) & 0xff, was written through the kernel on images of
 * each checksum type; these are the csum item bytes it stored.
 */
static void test_kernel_data_csums(struct tap *tap)
{
	static const struct {
		unsigned type;
		const char *hex[2];
	} vec[] = {
		{ BTRFS_CSUM_TYPE_CRC32, { "32fe719c", "43b696ed" } },
		{ BTRFS_CSUM_TYPE_XXHASH,
		  { "a4f66a18be646e0f", "cc972743cd986379" } },
		{ BTRFS_CSUM_TYPE_SHA256,
		  { "c8f5d0341d54d951a71b136e6e2afcb14d11ed8489a7ae126a8fee0df6ecf193",
		    "7486da8f1e13943fae21a0b043f1e99640d7d8ebafb25266478b5cddae1272b5" } },
		{ BTRFS_CSUM_TYPE_BLAKE2,
		  { "81baab4ea5d75a0aa53b8780ae5dbd7c8dac7f07e7c103644399492bb9ea6f87",
		    "3b7dcca5dcb409b9ee1d33ac58a03966d5e86581278891945e3d2fd80e3aad58" } },
	};
	uint8_t block[2][4096];
	char desc[128];

	for (int i = 0; i < 4096; i++) {
		block[0][i] = (uint8_t)i;
		block[1][i] = (uint8_t)(7 * i + 3);
	}
	for (size_t v = 0; v < sizeof(vec) / sizeof(vec[0]); v++) {
		for (int b = 0; b < 2; b++) {
			snprintf(desc, sizeof(desc),
				 "%s data block %d matches the kernel's csum",
				 btrfs_csum_type_name(vec[v].type), b);
			check_csum(tap, vec[v].type, block[b], 4096,
				   vec[v].hex[b], desc);
		}
	}
}

/* DIR_ITEM key offsets in directory 256 of a kernel-written image. */
static void test_name_hash(struct tap *tap)
{
	static const struct {
		const char *name;
		uint64_t hash;
	} vec[] = {
		{ "hello", 1570712351 },
		{ "dir1", 2363071922 },
		{ "a", 3427024844 },
		{ "n\xc3\xa9" "e", 3707426523 },
		{ "123456789", 3905403700 },
		{ "file.txt", 3956591618 },
	};
	char x255[256], desc[96];
	uint64_t got;

	for (size_t v = 0; v < sizeof(vec) / sizeof(vec[0]); v++) {
		got = btrfs_name_hash(vec[v].name, strlen(vec[v].name));
		snprintf(desc, sizeof(desc), "name hash of \"%s\" is %" PRIu64,
			 vec[v].name, vec[v].hash);
		tap_result(tap, got == vec[v].hash, desc);
	}
	memset(x255, 'x', 255);
	x255[255] = 0;
	tap_result(tap, btrfs_name_hash(x255, 255) == 2015063892,
		   "name hash of a 255-byte name");
}

/* INODE_EXTREF key offsets of hard links "L<nnn>" + 200 'y' in dir 265. */
static void test_extref_hash(struct tap *tap)
{
	static const struct {
		const char *prefix;
		uint64_t hash;
	} vec[] = {
		{ "L078", 34770499 },
		{ "L088", 160657876 },
		{ "L108", 190164681 },
	};
	char name[205], desc[96];

	for (size_t v = 0; v < sizeof(vec) / sizeof(vec[0]); v++) {
		memcpy(name, vec[v].prefix, 4);
		memset(name + 4, 'y', 200);
		name[204] = 0;
		snprintf(desc, sizeof(desc), "extref hash of %s... in dir 265",
			 vec[v].prefix);
		tap_result(tap, btrfs_extref_hash(265, name, 204) ==
				vec[v].hash, desc);
	}
}

static void test_type_table(struct tap *tap)
{
	static const char *const names[] = {
		"crc32c", "xxhash64", "sha256", "blake2"
	};
	static const unsigned sizes[] = { 4, 8, 32, 32 };
	int ok = 1;

	for (unsigned t = 0; t < 4; t++)
		ok &= btrfs_csum_type_valid(t) &&
		      btrfs_csum_type_size(t) == sizes[t] &&
		      strcmp(btrfs_csum_type_name(t), names[t]) == 0;
	tap_result(tap, ok, "type sizes and dump-super names");
	tap_result(tap, !btrfs_csum_type_valid(4) &&
			btrfs_csum_type_size(4) == 0 &&
			btrfs_csum_type_name(4) == NULL &&
			btrfs_csum_type_name(~0u) == NULL,
		   "unknown types are rejected");
	tap_result(tap, btrfs_csum_type_parse("crc32c") == 0 &&
			btrfs_csum_type_parse("XXHASH") == 1 &&
			btrfs_csum_type_parse("xxhash64") == 1 &&
			btrfs_csum_type_parse("sha256") == 2 &&
			btrfs_csum_type_parse("blake2") == 3 &&
			btrfs_csum_type_parse("Blake2b") == 3 &&
			btrfs_csum_type_parse("crc32") == -EINVAL &&
			btrfs_csum_type_parse("sha-256") == -EINVAL &&
			btrfs_csum_type_parse(NULL) == -EINVAL,
		   "type names parse as mkfs --csum accepts them");
}

static void test_csum_data_edges(struct tap *tap)
{
	uint8_t out[BTRFS_CSUM_SIZE];
	int ok = 1;

	for (unsigned t = 0; t < 4; t++) {
		unsigned size = btrfs_csum_type_size(t);

		memset(out, 0xaa, sizeof(out));
		ok &= btrfs_csum_data(t, "abc", 3, out) == 0;
		for (unsigned i = size; i < BTRFS_CSUM_SIZE; i++)
			ok &= out[i] == 0;
	}
	tap_result(tap, ok, "csum tail past the type's size is zeroed");
	memset(out, 0xaa, sizeof(out));
	ok = btrfs_csum_data(4, "abc", 3, out) == -EINVAL;
	for (unsigned i = 0; i < BTRFS_CSUM_SIZE; i++)
		ok &= out[i] == 0;
	tap_result(tap, ok, "unknown type gives -EINVAL and a zero csum");
	tap_result(tap, btrfs_crc32c_impl_name(BTRFS_CRC32C_NR_IMPLS) == NULL &&
			btrfs_crc32c_impl_available(BTRFS_CRC32C_NR_IMPLS) ==
			-EINVAL &&
			btrfs_crc32c_impl_available(BTRFS_CRC32C_IMPL_TABLE) == 1,
		   "crc32c implementation table");
}

/* Reads the primary superblock (4 KiB at 64 KiB) of @path into @sb. */
static int read_super(const char *path, uint8_t sb[4096])
{
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = pread(fd, sb, 4096, 65536);
	close(fd);
	return n == 4096 ? 0 : -EIO;
}

static int make_ref_image(const char *path, const char *csum)
{
	char cmd[512];
	int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0600);

	if (fd < 0)
		return -errno;
	if (ftruncate(fd, 300 << 20)) {
		close(fd);
		return -errno;
	}
	close(fd);
	snprintf(cmd, sizeof(cmd), "%s -q -f --csum %s '%s' >/dev/null 2>&1",
		 REF_MKFS, csum, path);
	return system(cmd) == 0 ? 0 : -EIO;
}

/* The stored superblock checksum covers bytes 32..4095 of the block. */
static void check_ref_super(struct tap *tap, const char *dir, unsigned type)
{
	static const char *const opt[] = { "crc32c", "xxhash", "sha256",
					   "blake2" };
	char path[256], desc[96];
	uint8_t sb[4096], out[BTRFS_CSUM_SIZE];
	unsigned size = btrfs_csum_type_size(type);
	int ok;

	snprintf(path, sizeof(path), "%s/img-%s", dir, opt[type]);
	snprintf(desc, sizeof(desc),
		 "superblock csum of a reference-made %s image", opt[type]);
	ok = make_ref_image(path, opt[type]) == 0 && read_super(path, sb) == 0;
	unlink(path);
	if (!ok) {
		tap_result(tap, 0, desc);
		return;
	}
	ok = sb[196] == type && sb[197] == 0 &&
	     btrfs_csum_data(type, sb + 32, 4096 - 32, out) == 0 &&
	     memcmp(out, sb, size) == 0;
	tap_result(tap, ok, desc);
}

static void test_ref_superblocks(struct tap *tap)
{
	char dir[] = "/tmp/test-csum.XXXXXX";

	if (access(REF_MKFS, X_OK) != 0 || !mkdtemp(dir)) {
		for (unsigned t = 0; t < 4; t++)
			tap_skip(tap, "superblock csum of a reference image",
				 REF_MKFS " not available");
		return;
	}
	for (unsigned t = 0; t < 4; t++)
		check_ref_super(tap, dir, t);
	rmdir(dir);
}

int main(void)
{
	struct tap tap = { 0 };

	for (int impl = 0; impl < BTRFS_CRC32C_NR_IMPLS; impl++)
		printf("# crc32c %s: %s\n", btrfs_crc32c_impl_name(impl),
		       btrfs_crc32c_impl_available(impl) ? "native" :
		       "falls back to table");
	test_crc32c_vectors(&tap);
	test_crc32c_raw(&tap);
	test_crc32c_agree(&tap);
	test_digest_vectors(&tap);
	test_kernel_data_csums(&tap);
	test_name_hash(&tap);
	test_extref_hash(&tap);
	test_type_table(&tap);
	test_csum_data_edges(&tap);
	test_ref_superblocks(&tap);
	printf("1..%d\n", tap.count);
	return tap.failed ? 1 : 0;
}
