/*
 * log.c: key=value event lines on standard error.
 *
 * A line is assembled in a fixed buffer and written with one write(2), so
 * lines from the processes of a pool sharing one descriptor do not
 * interleave (writes of up to PIPE_BUF bytes to a pipe are atomic; to a
 * file opened O_APPEND each write lands whole).  A line longer than the
 * buffer is cut and ends with "truncated=1".
 */
#include <config.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "infra/clock.h"
#include "infra/log.h"

#define LOG_LINE_MAX	4096
#define LOG_VALUE_MAX	1024	/* bytes of one value kept before cutting */

static enum log_level	 min_level = LOG_INFO;
static char		 request_id[65];
static const char	*program;

static const char *const level_names[] = {
	[LOG_DEBUG] = "debug",
	[LOG_INFO] = "info",
	[LOG_WARN] = "warn",
	[LOG_ERROR] = "error",
};

void
log_set_level(enum log_level level)
{
	min_level = level;
}

int
log_level_parse(const char *s, enum log_level *out)
{
	size_t	 i;

	for (i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++)
		if (strcmp(s, level_names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	return -1;
}

void
log_set_request_id(const char *id)
{
	if (id == NULL)
		request_id[0] = '\0';
	else
		snprintf(request_id, sizeof(request_id), "%s", id);
}

void
log_set_program(const char *name)
{
	program = name;
}

static int
needs_quotes(const unsigned char *s, size_t n)
{
	size_t	 i;

	if (n == 0)
		return 1;
	for (i = 0; i < n; i++)
		if (s[i] <= ' ' || s[i] >= 0x7f || s[i] == '"' ||
		    s[i] == '=' || s[i] == '\\')
			return 1;
	return 0;
}

size_t
log_escape(char *out, size_t outlen, const char *str, size_t n)
{
	static const char	 hex[] = "0123456789abcdef";
	const unsigned char	*s = (const unsigned char *)str;
	size_t			 o = 0, i;
	int			 quote;

	if (outlen == 0)
		return 0;
	quote = needs_quotes(s, n);
	if (quote && outlen < 3) {
		/* No room for both quotes: a lone one would be worse. */
		out[0] = '\0';
		return 0;
	}

	/* Each input byte takes at most 4 output bytes; keep room for '"'. */
	if (quote)
		out[o++] = '"';
	for (i = 0; i < n; i++) {
		if (o + 6 >= outlen)
			break;
		if (s[i] == '"' || s[i] == '\\') {
			out[o++] = '\\';
			out[o++] = (char)s[i];
		} else if (s[i] < ' ' || s[i] >= 0x7f) {
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[s[i] >> 4];
			out[o++] = hex[s[i] & 0xf];
		} else
			out[o++] = (char)s[i];
	}
	if (quote && o + 1 < outlen)
		out[o++] = '"';
	out[o] = '\0';
	return o;
}

/* Appends s to the line; returns -1 once the line is full. */
static int
line_add(char *line, size_t *len, const char *s, size_t n)
{
	if (*len + n >= LOG_LINE_MAX - 16)
		return -1;
	memcpy(line + *len, s, n);
	*len += n;
	return 0;
}

static int
line_pair(char *line, size_t *len, const char *key, const char *value)
{
	char	 esc[LOG_VALUE_MAX * 4 + 3];
	size_t	 vlen, elen;

	if (line_add(line, len, " ", 1) == -1 ||
	    line_add(line, len, key, strlen(key)) == -1 ||
	    line_add(line, len, "=", 1) == -1)
		return -1;
	if (value == NULL)
		return line_add(line, len, "-", 1);
	vlen = strnlen(value, LOG_VALUE_MAX);
	elen = log_escape(esc, sizeof(esc), value, vlen);
	return line_add(line, len, esc, elen);
}

void
log_event(enum log_level level, const char *event, ...)
{
	char		 line[LOG_LINE_MAX], ts[CLOCK_RFC3339_LEN];
	const char	*key, *value;
	size_t		 len = 0;
	va_list		 ap;
	int		 full = 0, saved_errno = errno;

	if (level < min_level)
		return;

	clock_format_rfc3339(clock_now_ms(), ts, sizeof(ts));
	len = (size_t)snprintf(line, sizeof(line), "ts=%s level=%s", ts,
	    level_names[level]);
	if (program != NULL)
		full = line_pair(line, &len, "prog", program);
	if (!full)
		full = line_pair(line, &len, "event", event);
	if (!full && request_id[0] != '\0')
		full = line_pair(line, &len, "req", request_id);

	va_start(ap, event);
	while (!full && (key = va_arg(ap, const char *)) != NULL) {
		value = va_arg(ap, const char *);
		full = line_pair(line, &len, key, value);
	}
	va_end(ap);

	if (full) {
		memcpy(line + len, " truncated=1", 12);
		len += 12;
	}
	line[len++] = '\n';

	/* A failed log write has nowhere to be reported. */
	if (write(STDERR_FILENO, line, len) == -1)
		(void)0;
	errno = saved_errno;
}
