/*
 * random.h: identifiers from the kernel's random source.
 */
#ifndef GT_RANDOM_H
#define GT_RANDOM_H

#include <stddef.h>

/* Fills buf with n random bytes; returns 0, or -1 when the kernel fails. */
int	 random_bytes(void *buf, size_t n);

/*
 * Writes a version 4 UUID in canonical lower-case form (36 characters and
 * a NUL) into out, which holds at least RANDOM_UUID_LEN bytes.  Returns 0,
 * or -1 when no randomness could be had.
 */
#define RANDOM_UUID_LEN	37
int	 random_uuid(char *out);

/* Writes n random bytes as 2n lower-case hex digits and a NUL into out. */
int	 random_hex(char *out, size_t n);

#endif
