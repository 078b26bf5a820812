/*
 * random.c: random bytes, UUIDs and hex strings.
 */
#include <config.h>

#include <errno.h>
#include <stdio.h>
#include <sys/random.h>

#include "infra/random.h"

int
random_bytes(void *buf, size_t n)
{
	unsigned char	*p = buf;
	ssize_t		 got;

	while (n > 0) {
		got = getrandom(p, n, 0);
		if (got == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += got;
		n -= (size_t)got;
	}
	return 0;
}

int
random_hex(char *out, size_t n)
{
	static const char	 hex[] = "0123456789abcdef";
	unsigned char		 b[64];
	size_t			 i, chunk;

	while (n > 0) {
		chunk = n < sizeof(b) ? n : sizeof(b);
		if (random_bytes(b, chunk) == -1)
			return -1;
		for (i = 0; i < chunk; i++) {
			*out++ = hex[b[i] >> 4];
			*out++ = hex[b[i] & 0xf];
		}
		n -= chunk;
	}
	*out = '\0';
	return 0;
}

int
random_uuid(char *out)
{
	unsigned char	 b[16];

	if (random_bytes(b, sizeof(b)) == -1)
		return -1;

	/* RFC 9562, section 5.4: version 4, variant 10. */
	b[6] = (b[6] & 0x0f) | 0x40;
	b[8] = (b[8] & 0x3f) | 0x80;

	snprintf(out, RANDOM_UUID_LEN,
	    "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
	    "%02x%02x%02x%02x%02x%02x",
	    b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9],
	    b[10], b[11], b[12], b[13], b[14], b[15]);
	return 0;
}
