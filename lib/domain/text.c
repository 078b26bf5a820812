/*
 * text.c: UTF-8 validation, integer parsing and constant-time comparison.
 */
#include <config.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "domain/text.h"

int
utf8_valid(const char *str, size_t n)
{
	const unsigned char	*s = (const unsigned char *)str;
	size_t			 i = 0, len, k;
	uint32_t		 cp;

	while (i < n) {
		if (s[i] < 0x80) {
			i++;
			continue;
		}
		if (s[i] >= 0xc2 && s[i] <= 0xdf) {
			len = 2;
			cp = s[i] & 0x1f;
		} else if ((s[i] & 0xf0) == 0xe0) {
			len = 3;
			cp = s[i] & 0x0f;
		} else if (s[i] >= 0xf0 && s[i] <= 0xf4) {
			len = 4;
			cp = s[i] & 0x07;
		} else
			return 0;
		if (n - i < len)
			return 0;
		for (k = 1; k < len; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += len;
	}
	return 1;
}

size_t
utf8_count(const char *str, size_t n)
{
	const unsigned char	*s = (const unsigned char *)str;
	size_t			 i, count = 0;

	for (i = 0; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			count++;
	return count;
}

int
parse_int64(const char *s, int64_t min, int64_t max, int64_t *out)
{
	char		*end;
	long long	 v;

	if (s == NULL || *s == '\0')
		return -1;
	if (!(*s == '-' || (*s >= '0' && *s <= '9')))
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || end == s)
		return -1;
	if (v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int
equal_const_time(const void *a, size_t alen, const void *b, size_t blen)
{
	const volatile unsigned char	*x = a, *y = b;
	unsigned char			 diff = 0;
	size_t				 i;

	if (alen != blen)
		return 0;
	for (i = 0; i < alen; i++)
		diff |= x[i] ^ y[i];
	return diff == 0;
}
