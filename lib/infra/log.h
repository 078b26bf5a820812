/*
 * log.h: one line per event, as key=value pairs, on standard error.
 *
 * A line reads
 *
 *	ts=2026-12-03T18:23:11.123Z level=info event=request req=ab12 status=200
 *
 * Every value passes through the escaper: a value holding a space, a quote,
 * an '=' or a byte outside printable ASCII is quoted, with '"' and '\'
 * escaped and other bytes written as \xHH, so an untrusted value can never
 * forge a second line or a second key.  Secrets (tokens, signatures, the
 * webhook secret, passwords) are never passed to these functions.
 */
#ifndef GT_LOG_H
#define GT_LOG_H

enum log_level {
	LOG_DEBUG = 0,	/* detail for developers; off unless asked for */
	LOG_INFO,	/* ordinary events: a request answered, a run started */
	LOG_WARN,	/* something failed and was recovered from */
	LOG_ERROR	/* something failed and was not */
};

/* Sets the lowest level written; LOG_INFO until called. */
void	 log_set_level(enum log_level);

/* Parses "debug", "info", "warn" or "error"; returns -1 for anything else. */
int	 log_level_parse(const char *, enum log_level *);

/*
 * Sets the request id added to every line as req=..., or clears it with
 * NULL.  The string is copied (at most 64 bytes are kept).
 */
void	 log_set_request_id(const char *);

/* Sets the program name added to every line as prog=...; not copied. */
void	 log_set_program(const char *);

/*
 * Writes one event: pairs of key and value strings ending with a NULL key.
 * A NULL value is written as key=-.  Keys are trusted constants; values
 * are escaped.
 */
void	 log_event(enum log_level, const char *event, ...)
	    __attribute__((sentinel));

/*
 * Escapes the n bytes at s as log_event() would write a value, into out of
 * size outlen (always NUL-terminated, cut short when too small).  Returns
 * the length written.  Exposed for tests.
 */
size_t	 log_escape(char *out, size_t outlen, const char *s, size_t n);

#endif
