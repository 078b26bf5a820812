/*
 * fuzz_router.c: the router and the path and query parameters, through
 * the real route table and controllers (fuzz_app.h).
 *
 * Input: a request line, "METHOD TARGET" (GET when there is no space),
 * where TARGET is a path with an optional "?query"; a NUL or LF ends it.
 * The request carries an admin token and no body.  Checked: a match
 * captures one decoded parameter per ":name" of its pattern; the answer
 * keeps the contract (fuzz_app.c), and no request is answered 500, since
 * every store answers.
 */
#include <config.h>

#include <stdlib.h>
#include <string.h>

#include "domain/arena.h"
#include "fuzz/fuzz.h"
#include "fuzz/fuzz_app.h"
#include "http/dispatch.h"
#include "http/request.h"
#include "http/router.h"

static size_t
captures(const char *pattern)
{
	size_t	 n = 0;

	for (; *pattern != '\0'; pattern++)
		if (*pattern == ':')
			n++;
	return n;
}

/* Matches the path directly, to check what the router captured. */
static void
check_match(const char *method, const char *target)
{
	const struct dispatch_conf	*dc = fuzz_app_dispatch();
	const struct route		*route;
	struct request			 req;
	char				 allow[64];
	size_t				 i;

	memset(&req, 0, sizeof(req));
	fuzz_require((req.arena = arena_new()) != NULL, "an arena");
	req.method = method;
	req.path = arena_strndup(req.arena, target, strcspn(target, "?"));
	req.query = "";
	fuzz_require(req.path != NULL, "a path");

	if (router_match(dc->routes, dc->nroutes, &req, &route, allow,
	    sizeof(allow)) == ROUTE_FOUND) {
		fuzz_require(strcmp(route->method, method) == 0,
		    "the route found has the request's method");
		fuzz_require(req.nparams == captures(route->pattern),
		    "one parameter per capture of the pattern");
		for (i = 0; i < req.nparams; i++)
			fuzz_require(req.param_values[i] != NULL &&
			    req.param_values[i][0] != '\0' &&
			    req_param(&req, req.param_names[i]) != NULL,
			    "every parameter is captured and found by name");
	} else
		fuzz_require(route == NULL, "no route without a match");
	arena_free(req.arena);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
	const uint8_t	*rest;
	size_t		 restlen;
	char		*line, *target;
	const char	*method = "GET";
	int		 status;

	if (fuzz_first_line(data, n, &line, &rest, &restlen) == -1)
		return 0;
	if ((target = strchr(line, ' ')) != NULL) {
		*target++ = '\0';
		method = line;
	} else
		target = line;

	check_match(method, target);
	status = fuzz_app_request(method, target, NULL, 0, "", 0);
	fuzz_require(status < 500 || status == 503,
	    "no request is answered 500 while every store answers");
	free(line);
	return 0;
}
