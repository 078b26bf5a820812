/*
 * request.c: reading parameters of a request.
 */
#include <config.h>

#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "domain/arena.h"
#include "http/request.h"

const char *
req_env(const struct request *r, const char *name)
{
	size_t	 len = strlen(name);
	char	**e;

	if (r->env == NULL)
		return NULL;
	for (e = r->env; *e != NULL; e++)
		if (strncmp(*e, name, len) == 0 && (*e)[len] == '=')
			return *e + len + 1;
	return NULL;
}

const char *
req_param(const struct request *r, const char *name)
{
	size_t	 i;

	for (i = 0; i < r->nparams; i++)
		if (strcmp(r->param_names[i], name) == 0)
			return r->param_values[i];
	return NULL;
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

char *
req_percent_decode(struct arena *a, const char *s, size_t n, int plus_space)
{
	char	*out;
	size_t	 i, o = 0;
	int	 hi, lo;

	if ((out = arena_alloc(a, n + 1)) == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		if (s[i] == '%') {
			if (n - i < 3 || (hi = hexval((unsigned char)s[i + 1]))
			    < 0 || (lo = hexval((unsigned char)s[i + 2])) < 0)
				return NULL;
			out[o] = (char)(hi << 4 | lo);
			if (out[o] == '\0')
				return NULL;
			o++;
			i += 2;
		} else if (s[i] == '+' && plus_space)
			out[o++] = ' ';
		else if (s[i] == '\0')
			return NULL;
		else
			out[o++] = s[i];
	}
	out[o] = '\0';
	return out;
}

const char *
req_query(const struct request *r, const char *name, int *bad)
{
	const char	*p = r->query, *amp, *eq, *found = NULL;
	size_t		 namelen = strlen(name), foundlen = 0, seglen;
	char		*value;

	if (p == NULL)
		return NULL;
	while (*p != '\0') {
		amp = strchr(p, '&');
		seglen = amp != NULL ? (size_t)(amp - p) : strlen(p);
		eq = memchr(p, '=', seglen);
		if ((size_t)((eq != NULL ? eq : p + seglen) - p) == namelen &&
		    strncmp(p, name, namelen) == 0) {
			if (found != NULL) {
				*bad = 1;
				return NULL;
			}
			found = eq != NULL ? eq + 1 : p + seglen;
			foundlen = eq != NULL ? seglen - namelen - 1 : 0;
		}
		if (amp == NULL)
			break;
		p = amp + 1;
	}
	if (found == NULL)
		return NULL;
	if ((value = req_percent_decode(r->arena, found, foundlen, 1)) == NULL)
		*bad = 1;
	return value;
}

int
req_is_json(const struct request *r)
{
	const char	*ct = req_env(r, "CONTENT_TYPE");
	size_t		 len = strlen("application/json");

	if (ct == NULL)
		return 0;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	if (strncasecmp(ct, "application/json", len) != 0)
		return 0;
	ct += len;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	return *ct == '\0' || *ct == ';';
}
