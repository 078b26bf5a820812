/*
 * request.h: one HTTP request as the FastCGI layer hands it over.
 *
 * Everything here lives in the request's arena and is gone when the
 * request ends.  Header values come from the FastCGI parameters (CGI
 * names: HTTP_X_GITHUB_EVENT for X-GitHub-Event; RFC 3875, section 4.1.18).
 */
#ifndef GT_REQUEST_H
#define GT_REQUEST_H

#include <stddef.h>
#include <stdint.h>

#define REQ_MAX_PARAMS	4

struct arena;
struct route;

struct request {
	struct arena	*arena;
	const char	*method;
	const char	*path;		/* raw path, without the query */
	const char	*query;		/* raw query string, "" when none */
	const char	*request_id;
	const char	*remote_addr;
	int64_t		 content_length; /* -1 when not given */
	const char	*body;		/* NUL-terminated copy of the body */
	size_t		 body_len;

	/* Path parameters captured by the router, percent-decoded. */
	const char	*param_names[REQ_MAX_PARAMS];
	const char	*param_values[REQ_MAX_PARAMS];
	size_t		 nparams;

	const struct route *route;	/* the route matched, or NULL */
	int		 role;		/* the caller's role, when checked */

	char		**env;		/* FastCGI parameters, NAME=value */
};

/* A FastCGI parameter such as "CONTENT_TYPE" or "HTTP_X_GITHUB_EVENT". */
const char	*req_env(const struct request *, const char *name);

/* A path parameter captured by the router, by its name in the pattern. */
const char	*req_param(const struct request *, const char *name);

/*
 * A query parameter, percent-decoded ('+' is a space), in the arena; NULL
 * when absent.  Sets *bad when the first occurrence cannot be decoded or
 * decodes to a NUL, or the name occurs more than once.
 */
const char	*req_query(const struct request *, const char *name, int *bad);

/*
 * Whether the Content-Type is application/json, with or without
 * parameters (RFC 9110, section 8.3.1: the type is case-insensitive).
 */
int		 req_is_json(const struct request *);

/*
 * Decodes %XX escapes in the n bytes at s into the arena; plus_space also
 * turns '+' into a space.  Returns NULL for a malformed escape or a
 * decoded NUL byte.
 */
char		*req_percent_decode(struct arena *, const char *s, size_t n,
		    int plus_space);

#endif
