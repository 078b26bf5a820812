/*
 * text.h: checks and conversions of untrusted text.
 */
#ifndef GT_TEXT_H
#define GT_TEXT_H

#include <stddef.h>
#include <stdint.h>

/*
 * Whether the n bytes at s are well-formed UTF-8 (RFC 3629: no overlong
 * forms, no surrogates, nothing above U+10FFFF).  A NUL byte is valid
 * UTF-8; callers that refuse it check for it themselves.
 */
int	 utf8_valid(const char *s, size_t n);

/* The number of code points in n bytes of valid UTF-8. */
size_t	 utf8_count(const char *s, size_t n);

/*
 * Parses all of s as a base-10 integer within [min, max], with no sign
 * other than a leading '-', no white space and no trailing bytes.
 * Returns 0 and stores it, or -1 leaving *out untouched.
 */
int	 parse_int64(const char *s, int64_t min, int64_t max, int64_t *out);

/*
 * Compares two byte strings of equal length in time that does not depend
 * on where they differ; unequal lengths compare unequal at once (the
 * length of a secret is not what is protected).  Returns 1 when equal.
 */
int	 equal_const_time(const void *a, size_t alen, const void *b,
	    size_t blen);

#endif
