/*
 * jsonw.h: a streaming JSON writer (RFC 8259) onto a struct buf.
 *
 * The writer places commas and colons itself; the caller only opens and
 * closes containers and writes keys and values in order.  Strings are
 * escaped: '"', '\' and control characters, and U+2028/U+2029 so the
 * output is also safe inside a script.  Input strings must be valid
 * UTF-8 (checked at the boundary where they enter the service).
 */
#ifndef GT_JSONW_H
#define GT_JSONW_H

#include <stddef.h>
#include <stdint.h>

#include "domain/buf.h"

#define JSONW_DEPTH	32

struct jsonw {
	struct buf	*out;
	int		 depth;
	int		 first[JSONW_DEPTH]; /* no member written yet */
	int		 after_key;	/* a key was written; a value follows */
	int		 error;		/* nesting misuse or too deep */
};

/* Starts writing onto out (appending to what it holds). */
void	 jw_init(struct jsonw *, struct buf *out);

void	 jw_object_open(struct jsonw *);
void	 jw_object_close(struct jsonw *);
void	 jw_array_open(struct jsonw *);
void	 jw_array_close(struct jsonw *);

/* Writes a member name; the next call writes its value. */
void	 jw_key(struct jsonw *, const char *);

void	 jw_string(struct jsonw *, const char *);	/* NULL writes null */
void	 jw_stringn(struct jsonw *, const char *, size_t);
void	 jw_int(struct jsonw *, int64_t);
void	 jw_bool(struct jsonw *, int);
void	 jw_null(struct jsonw *);

/*
 * Writes v rounded to the given number of decimals, without trailing
 * zeros ("0.8696", "250", "12.5"); a value that is not finite is null.
 */
void	 jw_double(struct jsonw *, double v, int decimals);

/* Writes pre-formed JSON text as one value, unchanged. */
void	 jw_raw(struct jsonw *, const char *, size_t);

/* Whether everything was written: containers closed, no misuse, memory. */
int	 jw_ok(const struct jsonw *);

#endif
