/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Basic types and helpers shared by the whole engine: fixed-width integer
 * names as the kernel spells them, unaligned little-endian loads and stores,
 * and the ERR_PTR convention for functions that return a pointer or an error.
 */
#ifndef BTRFS_KERNCOMPAT_H
#define BTRFS_KERNCOMPAT_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
typedef int8_t s8;
typedef int16_t s16;
typedef int32_t s32;
typedef int64_t s64;

/* On-disk little-endian fields: only ever touched through the accessors. */
typedef uint16_t __le16;
typedef uint32_t __le32;
typedef uint64_t __le64;

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define min_t(type, a, b) ((type)(a) < (type)(b) ? (type)(a) : (type)(b))
#define max_t(type, a, b) ((type)(a) > (type)(b) ? (type)(a) : (type)(b))
#define IS_ALIGNED(x, a) (((x) & ((typeof(x))(a) - 1)) == 0)
#define round_down(x, a) ((x) & ~((typeof(x))(a) - 1))
#define round_up(x, a) round_down((x) + (a) - 1, (a))
#define is_power_of_2(n) ((n) != 0 && (((n) & ((n) - 1)) == 0))

#define __packed __attribute__((__packed__))
#define __maybe_unused __attribute__((__unused__))

#ifndef EUCLEAN
#define EUCLEAN 117
#endif

static inline u16 get_unaligned_le16(const void *p)
{
	const u8 *b = p;

	return (u16)(b[0] | (b[1] << 8));
}

static inline u32 get_unaligned_le32(const void *p)
{
	const u8 *b = p;

	return (u32)b[0] | ((u32)b[1] << 8) | ((u32)b[2] << 16) |
	       ((u32)b[3] << 24);
}

static inline u64 get_unaligned_le64(const void *p)
{
	const u8 *b = p;

	return (u64)get_unaligned_le32(b) | ((u64)get_unaligned_le32(b + 4) << 32);
}

static inline u8 get_unaligned_le8(const void *p)
{
	return *(const u8 *)p;
}

static inline void put_unaligned_le8(u8 val, void *p)
{
	*(u8 *)p = val;
}

static inline void put_unaligned_le16(u16 val, void *p)
{
	u8 *b = p;

	b[0] = (u8)val;
	b[1] = (u8)(val >> 8);
}

static inline void put_unaligned_le32(u32 val, void *p)
{
	u8 *b = p;

	b[0] = (u8)val;
	b[1] = (u8)(val >> 8);
	b[2] = (u8)(val >> 16);
	b[3] = (u8)(val >> 24);
}

static inline void put_unaligned_le64(u64 val, void *p)
{
	put_unaligned_le32((u32)val, p);
	put_unaligned_le32((u32)(val >> 32), (u8 *)p + 4);
}

/*
 * Pointer-or-error returns, as in the kernel: an error is a negative errno
 * folded into the top page of the address space.
 */
#define MAX_ERRNO 4095

static inline void *ERR_PTR(long error)
{
	return (void *)error;
}

static inline long PTR_ERR(const void *ptr)
{
	return (long)ptr;
}

static inline bool IS_ERR(const void *ptr)
{
	return (unsigned long)ptr >= (unsigned long)-MAX_ERRNO;
}

static inline bool IS_ERR_OR_NULL(const void *ptr)
{
	return !ptr || IS_ERR(ptr);
}

#endif
