/*
 * jsonw.c: the streaming JSON writer.
 */
#include <config.h>

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "domain/jsonw.h"

void
jw_init(struct jsonw *w, struct buf *out)
{
	w->out = out;
	w->depth = 0;
	w->first[0] = 1;
	w->after_key = 0;
	w->error = 0;
}

/* Writes the separator that comes before a value or a key. */
static void
before_item(struct jsonw *w)
{
	if (w->after_key) {
		w->after_key = 0;
		return;
	}
	if (!w->first[w->depth])
		buf_putc(w->out, ',');
	w->first[w->depth] = 0;
}

static void
open_container(struct jsonw *w, char c)
{
	before_item(w);
	if (w->depth + 1 >= JSONW_DEPTH) {
		w->error = 1;
		return;
	}
	buf_putc(w->out, c);
	w->depth++;
	w->first[w->depth] = 1;
}

static void
close_container(struct jsonw *w, char c)
{
	if (w->depth == 0 || w->after_key) {
		w->error = 1;
		return;
	}
	buf_putc(w->out, c);
	w->depth--;
}

void
jw_object_open(struct jsonw *w)
{
	open_container(w, '{');
}

void
jw_object_close(struct jsonw *w)
{
	close_container(w, '}');
}

void
jw_array_open(struct jsonw *w)
{
	open_container(w, '[');
}

void
jw_array_close(struct jsonw *w)
{
	close_container(w, ']');
}

static void
put_escaped(struct buf *b, const char *str, size_t n)
{
	static const char	 hex[] = "0123456789abcdef";
	const unsigned char	*s = (const unsigned char *)str;
	size_t			 i, run = 0;
	char			 esc[7];

	buf_putc(b, '"');
	for (i = 0; i < n; i++) {
		const char	*rep = NULL;
		size_t		 replen = 2;

		switch (s[i]) {
		case '"':
			rep = "\\\"";
			break;
		case '\\':
			rep = "\\\\";
			break;
		case '\n':
			rep = "\\n";
			break;
		case '\r':
			rep = "\\r";
			break;
		case '\t':
			rep = "\\t";
			break;
		default:
			if (s[i] < 0x20) {
				memcpy(esc, "\\u00", 4);
				esc[4] = hex[s[i] >> 4];
				esc[5] = hex[s[i] & 0xf];
				rep = esc;
				replen = 6;
			} else if (s[i] == 0xe2 && i + 2 < n &&
			    s[i + 1] == 0x80 &&
			    (s[i + 2] == 0xa8 || s[i + 2] == 0xa9)) {
				/* U+2028 and U+2029 end lines in scripts. */
				rep = s[i + 2] == 0xa8 ? "\\u2028" : "\\u2029";
				replen = 6;
			}
		}
		if (rep == NULL) {
			run++;
			continue;
		}
		buf_add(b, str + i - run, run);
		run = 0;
		buf_add(b, rep, replen);
		if (replen == 6 && s[i] == 0xe2)
			i += 2;
	}
	buf_add(b, str + n - run, run);
	buf_putc(b, '"');
}

void
jw_key(struct jsonw *w, const char *key)
{
	if (w->depth == 0 || w->after_key) {
		w->error = 1;
		return;
	}
	before_item(w);
	put_escaped(w->out, key, strlen(key));
	buf_putc(w->out, ':');
	w->after_key = 1;
}

void
jw_stringn(struct jsonw *w, const char *s, size_t n)
{
	before_item(w);
	put_escaped(w->out, s, n);
}

void
jw_string(struct jsonw *w, const char *s)
{
	if (s == NULL)
		jw_null(w);
	else
		jw_stringn(w, s, strlen(s));
}

void
jw_int(struct jsonw *w, int64_t v)
{
	before_item(w);
	buf_printf(w->out, "%lld", (long long)v);
}

void
jw_bool(struct jsonw *w, int v)
{
	before_item(w);
	buf_puts(w->out, v ? "true" : "false");
}

void
jw_null(struct jsonw *w)
{
	before_item(w);
	buf_puts(w->out, "null");
}

/*
 * Room for the longest finite value: a sign, DBL_MAX_10_EXP + 1 integer
 * digits, the point, 9 decimals and the NUL.
 */
#define DOUBLE_TEXT_MAX	(DBL_MAX_10_EXP + 16)

void
jw_double(struct jsonw *w, double v, int decimals)
{
	char	 tmp[DOUBLE_TEXT_MAX];
	size_t	 len;

	if (!isfinite(v)) {
		jw_null(w);
		return;
	}
	if (decimals < 0)
		decimals = 0;
	if (decimals > 9)
		decimals = 9;
	snprintf(tmp, sizeof(tmp), "%.*f", decimals, v);
	len = strlen(tmp);
	if (strchr(tmp, '.') != NULL) {
		while (len > 0 && tmp[len - 1] == '0')
			len--;
		if (len > 0 && tmp[len - 1] == '.')
			len--;
	}
	tmp[len] = '\0';
	if (strcmp(tmp, "-0") == 0)
		snprintf(tmp, sizeof(tmp), "0");
	before_item(w);
	buf_puts(w->out, tmp);
}

void
jw_raw(struct jsonw *w, const char *s, size_t n)
{
	before_item(w);
	buf_add(w->out, s, n);
}

int
jw_ok(const struct jsonw *w)
{
	return !w->error && !w->out->oom && w->depth == 0 && !w->after_key;
}
