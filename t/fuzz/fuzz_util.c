/*
 * fuzz_util.c: helpers of the fuzz harnesses.
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz/fuzz.h"

void
fuzz_require(int ok, const char *what)
{
	if (ok)
		return;
	fprintf(stderr, "fuzz: property broken: %s\n", what);
	abort();
}

int
fuzz_first_line(const uint8_t *data, size_t n, char **line,
    const uint8_t **rest, size_t *restlen)
{
	const uint8_t	*lf = n > 0 ? memchr(data, '\n', n) : NULL;
	size_t		 len = lf != NULL ? (size_t)(lf - data) : n;

	if ((*line = malloc(len + 1)) == NULL)
		return -1;
	if (len > 0)
		memcpy(*line, data, len);
	(*line)[len] = '\0';
	*rest = lf != NULL ? lf + 1 : data + n;
	*restlen = lf != NULL ? n - len - 1 : 0;
	return 0;
}
