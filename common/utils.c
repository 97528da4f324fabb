// SPDX-License-Identifier: GPL-2.0
/*
 * Number parsing and size formatting for the frontends; see utils.h.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>

#include "common/utils.h"

/* Value of hex digit @c, or -1 if it is not one. */
static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Parse the leading digits of @s in @base (10 or 16). Stop at the first
 * character that is not a digit of that base and report it in *@end.
 * At least one digit is required.
 */
static int parse_digits(const char *s, unsigned int base, uint64_t *out,
			const char **end)
{
	uint64_t val = 0;
	const char *p = s;
	int d;

	for (; (d = hex_digit(*p)) >= 0 && (unsigned int)d < base; p++) {
		if (val > (UINT64_MAX - (unsigned int)d) / base)
			return -ERANGE;
		val = val * base + (unsigned int)d;
	}
	if (p == s)
		return -EINVAL;
	*out = val;
	*end = p;
	return 0;
}

/* Parse a decimal or 0x-prefixed number at the start of @s. */
static int parse_number_prefix(const char *s, uint64_t *out, const char **end)
{
	if (!s)
		return -EINVAL;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		return parse_digits(s + 2, 16, out, end);
	return parse_digits(s, 10, out, end);
}

int parse_u64(const char *s, uint64_t *out)
{
	const char *end;
	uint64_t val;
	int ret;

	ret = parse_number_prefix(s, &val, &end);
	if (ret < 0)
		return ret;
	if (*end != '\0')
		return -EINVAL;
	*out = val;
	return 0;
}

int parse_u32(const char *s, uint32_t *out)
{
	uint64_t val;
	int ret;

	ret = parse_u64(s, &val);
	if (ret < 0)
		return ret;
	if (val > UINT32_MAX)
		return -ERANGE;
	*out = (uint32_t)val;
	return 0;
}

/* Power-of-1024 exponent for a size suffix, or -1 if unknown. */
static int suffix_shift(char c)
{
	static const char units[] = "bkmgtpe";
	int i;

	if (c >= 'A' && c <= 'Z')
		c = (char)(c - 'A' + 'a');
	for (i = 0; units[i]; i++) {
		if (units[i] == c)
			return i * 10;
	}
	return -1;
}

int parse_size(const char *s, uint64_t *out)
{
	const char *end;
	uint64_t val;
	int shift = 0;
	int ret;

	ret = parse_number_prefix(s, &val, &end);
	if (ret < 0)
		return ret;
	if (*end != '\0') {
		shift = suffix_shift(*end);
		if (shift < 0 || end[1] != '\0')
			return -EINVAL;
	}
	if (shift && val > (UINT64_MAX >> shift))
		return -ERANGE;
	*out = val << shift;
	return 0;
}

const char *pretty_size(uint64_t size, char buf[PRETTY_SIZE_LEN])
{
	static const char * const units[] = {
		"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"
	};
	unsigned int divs = 0;
	uint64_t rest = size;

	while (rest >= 1024 && divs + 1 < sizeof(units) / sizeof(units[0])) {
		rest /= 1024;
		divs++;
	}
	snprintf(buf, PRETTY_SIZE_LEN, "%.2f%s",
		 (double)size / (double)(1ULL << (10 * divs)), units[divs]);
	return buf;
}
