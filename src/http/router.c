/*
 * router.c: segment-by-segment matching of paths against patterns.
 */
#include <config.h>

#include <stdio.h>
#include <string.h>

#include "domain/arena.h"
#include "http/request.h"
#include "http/router.h"

/* Length of the segment starting at s: up to the next '/' or the end. */
static size_t
seglen(const char *s)
{
	const char	*slash = strchr(s, '/');

	return slash != NULL ? (size_t)(slash - s) : strlen(s);
}

/*
 * Whether path matches pattern; on a match fills the captures of r.
 * Returns 1 on a match, 0 otherwise, -1 when the path has the pattern's
 * shape but a captured segment is malformed.  A path that would not
 * match anyway is not blamed on its parameter: that is a 404.
 */
static int
match(const char *pattern, const char *path, struct request *r)
{
	const char	*p = pattern, *s = path;
	size_t		 plen, slen, n = 0;
	char		*value;
	int		 bad = 0;

	if (*p != '/' || *s != '/')
		return 0;
	while (*p == '/' && *s == '/') {
		p++;
		s++;
		plen = seglen(p);
		slen = seglen(s);
		if (*p == ':') {
			if (slen == 0 || n == REQ_MAX_PARAMS)
				return 0;
			value = req_percent_decode(r->arena, s, slen, 0);
			if (value == NULL)
				bad = 1;
			r->param_names[n] = arena_strndup(r->arena, p + 1,
			    plen - 1);
			r->param_values[n] = value;
			n++;
		} else if (plen != slen || strncmp(p, s, plen) != 0)
			return 0;
		p += plen;
		s += slen;
	}
	if (*p != '\0' || *s != '\0')
		return 0;
	if (bad)
		return -1;
	r->nparams = n;
	return 1;
}

enum route_match
router_match(const struct route *routes, size_t n, struct request *r,
    const struct route **out, char *allow, size_t allowlen)
{
	size_t	 i, used = 0;
	int	 path_known = 0, bad_param = 0, m;

	if (allowlen > 0)
		allow[0] = '\0';
	*out = NULL;
	for (i = 0; i < n; i++) {
		r->nparams = 0;
		m = match(routes[i].pattern, r->path, r);
		if (m == -1) {
			bad_param = 1;
			continue;
		}
		if (m == 0)
			continue;
		if (strcmp(routes[i].method, r->method) == 0) {
			*out = &routes[i];
			return ROUTE_FOUND;
		}
		if (used < allowlen && (!path_known ||
		    strstr(allow, routes[i].method) == NULL))
			used += (size_t)snprintf(allow + used, allowlen - used,
			    "%s%s", path_known ? ", " : "", routes[i].method);
		path_known = 1;
	}
	r->nparams = 0;
	if (path_known)
		return ROUTE_BAD_METHOD;
	return bad_param ? ROUTE_BAD_PARAM : ROUTE_NOT_FOUND;
}
