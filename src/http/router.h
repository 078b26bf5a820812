/*
 * router.h: matching a method and path to a route.
 *
 * A pattern is a path whose segments are literal or ":name" captures, as
 * "/api/runs/:run_id/artifacts/:name".  Literal segments are compared with
 * the raw path; captured ones are percent-decoded, so an encoded slash
 * ("%2f") lands inside a parameter, where the controller's validation
 * refuses it, instead of changing which route matches.
 */
#ifndef GT_ROUTER_H
#define GT_ROUTER_H

#include <stddef.h>

struct request;
struct response;

/* Who may call a route. */
enum route_role {
	ROLE_NONE = 0,	/* no token: /health, the webhook */
	ROLE_OPERATOR,	/* an operator or an admin token */
	ROLE_ADMIN	/* an admin token only */
};

/* The route reads a JSON body: the FastCGI layer checks its media type. */
#define ROUTE_JSON_BODY	0x01

typedef void	(*route_fn)(void *ctx, struct request *, struct response *);

struct route {
	const char	*method;
	const char	*pattern;
	const char	*name;		/* for logs and metrics: "runs.get" */
	route_fn	 fn;
	enum route_role	 role;
	size_t		 max_body;	/* bytes; 0 refuses any body */
	int		 flags;
};

enum route_match {
	ROUTE_FOUND,		/* *out is the route; params are captured */
	ROUTE_NOT_FOUND,	/* no pattern has this path */
	ROUTE_BAD_METHOD,	/* the path exists with other methods */
	ROUTE_BAD_PARAM		/* a captured segment cannot be decoded */
};

/*
 * Finds the route for r->method and r->path among n routes, storing
 * captured parameters in r.  For ROUTE_BAD_METHOD, allow receives the
 * methods the path has, comma-separated ("GET, POST").
 */
enum route_match router_match(const struct route *routes, size_t n,
		    struct request *r, const struct route **out, char *allow,
		    size_t allowlen);

#endif
