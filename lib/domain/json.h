/*
 * json.h: a strict JSON reader (RFC 8259) for untrusted request bodies.
 *
 * The whole text is parsed into a tree of nodes taken from an arena, so
 * nothing needs freeing on its own and everything is gone when the
 * request ends.  It is stricter than the RFC requires, on purpose, since
 * every body it reads comes from outside:
 *
 *  - the text must be valid UTF-8 (RFC 3629) and one value with nothing
 *    but white space after it;
 *  - a string may not hold an escaped NUL ("\u0000") nor an unpaired
 *    surrogate escape, so every string can be used as a C string;
 *  - an object may not repeat a member name (RFC 8259, section 4, leaves
 *    the meaning of a repeated name open: refusing it leaves no doubt);
 *  - nesting is limited to JSON_MAX_DEPTH arrays and objects;
 *  - a text holds at most JSON_MAX_VALUES values in all, so that its tree
 *    stays within about 100 MB: a node takes some 100 bytes, and 25 MiB
 *    of "0," (a webhook's limit) would otherwise take 1.2 GB.
 *
 * Numbers are kept as their text; json_int() converts one that is an
 * integer without fraction or exponent.
 */
#ifndef GT_JSON_H
#define GT_JSON_H

#include <stddef.h>
#include <stdint.h>

#define JSON_MAX_DEPTH	32
#define JSON_MAX_VALUES	1000000

struct arena;

enum json_type {
	JSON_NULL,
	JSON_FALSE,
	JSON_TRUE,
	JSON_NUMBER,
	JSON_STRING,
	JSON_ARRAY,
	JSON_OBJECT
};

struct json {
	enum json_type	 type;
	const char	*str;	/* STRING: decoded; NUMBER: the text */
	size_t		 len;	/* of str, in bytes */
	const char	*key;	/* the member name, inside an object */
	struct json	*child;	/* ARRAY, OBJECT: the first element */
	struct json	*next;	/* the next sibling */
	size_t		 n;	/* ARRAY, OBJECT: the number of elements */
	const char	*raw;	/* the value's text in the input */
	size_t		 rawlen;
};

/* Why a text was refused. */
enum json_error {
	JSON_OK = 0,
	JSON_ERR_SYNTAX,	/* not JSON */
	JSON_ERR_UTF8,		/* not valid UTF-8 */
	JSON_ERR_NUL,		/* a string holds U+0000 */
	JSON_ERR_DUPLICATE,	/* an object repeats a member name */
	JSON_ERR_DEPTH,		/* nested deeper than JSON_MAX_DEPTH */
	JSON_ERR_NOMEM,		/* the arena is out of memory */
	JSON_ERR_TOO_MANY	/* more than JSON_MAX_VALUES values */
};

/*
 * Parses the n bytes at text.  Returns the root, owned by the arena, or
 * NULL with the reason in *err.
 */
struct json	*json_parse(struct arena *, const char *text, size_t n,
		    enum json_error *err);

/* The member called key of an object, or NULL (also when o is no object). */
const struct json *json_get(const struct json *o, const char *key);

/*
 * Converts an integer number (digits with an optional '-', no fraction or
 * exponent) within [min, max].  Returns 0, or -1 for anything else.
 */
int		 json_int(const struct json *, int64_t min, int64_t max,
		    int64_t *out);

/* A short lowercase description of an error, for log lines. */
const char	*json_error_name(enum json_error);

#endif
