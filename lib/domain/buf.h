/*
 * buf.h: a growable byte buffer.
 *
 * A failed allocation is remembered (buf.oom) instead of being reported by
 * every call, so a writer can append many pieces and check once at the end.
 * The contents are always NUL-terminated once anything was added.
 */
#ifndef GT_BUF_H
#define GT_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
	char	*data;	/* NUL-terminated, or NULL before the first append */
	size_t	 len;
	size_t	 cap;
	int	 oom;	/* set when an append could not allocate */
};

/* Initialises an empty buffer; no allocation is made yet. */
void	 buf_init(struct buf *);

/* Frees the storage and leaves the buffer empty.  Accepts NULL. */
void	 buf_free(struct buf *);

/* Empties the buffer and clears oom, keeping its storage for reuse. */
void	 buf_reset(struct buf *);

/* Appends bytes; returns 0, or -1 (and sets oom) when memory is short. */
int	 buf_add(struct buf *, const void *, size_t);
int	 buf_puts(struct buf *, const char *);
int	 buf_putc(struct buf *, char);
int	 buf_printf(struct buf *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));

/* The contents as a string: "" when nothing was added. */
const char *buf_str(const struct buf *);

#endif
