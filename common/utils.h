/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Small parsing and formatting helpers for the frontends: numbers from the
 * command line and human-readable sizes. Uses only <stdint.h> types so that
 * common/ does not depend on the engine headers.
 */
#ifndef BTRFS_COMMON_UTILS_H
#define BTRFS_COMMON_UTILS_H

#include <stddef.h>
#include <stdint.h>

/* Buffer size that always fits the result of pretty_size(). */
#define PRETTY_SIZE_LEN 32

/*
 * Parse an unsigned 64-bit number: decimal ("4096") or hexadecimal with a
 * 0x / 0X prefix ("0x1000"). The whole string must be consumed: no sign, no
 * blanks, no suffix, not empty.
 * Return 0 and set *@out on success; -EINVAL if @s is not such a number;
 * -ERANGE if it does not fit 64 bits. *@out is untouched on error.
 */
int parse_u64(const char *s, uint64_t *out);

/* As parse_u64(), and additionally -ERANGE if the value exceeds UINT32_MAX. */
int parse_u32(const char *s, uint32_t *out);

/*
 * Parse a size: a number as for parse_u64() followed by at most one unit
 * suffix, binary multiples: b/B (bytes), k/K (KiB), m/M, g/G, t/T, p/P, e/E.
 * "16k" is 16384, "1G" is 1073741824, "512" is 512.
 * Return 0 and set *@out; -EINVAL on a malformed string or unknown suffix;
 * -ERANGE if the result does not fit 64 bits.
 */
int parse_size(const char *s, uint64_t *out);

/*
 * Format @size as the reference tools do: two decimals and a binary unit,
 * "0.00B", "16.00KiB", "1.50GiB". Writes into @buf (PRETTY_SIZE_LEN bytes)
 * and returns @buf.
 */
const char *pretty_size(uint64_t size, char buf[PRETTY_SIZE_LEN]);

#endif
