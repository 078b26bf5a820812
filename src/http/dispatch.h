/*
 * dispatch.h: the steps every request goes through before its controller.
 *
 * In order: match the route (404, 405 with Allow, 400 for a malformed path
 * parameter); check the bearer token against the route's role (401 with
 * WWW-Authenticate, 403); refuse a body over the route's cap (413) or, on
 * a JSON route, of another media type (415); read the body, exactly
 * CONTENT_LENGTH bytes; call the controller.  Nothing here knows about
 * FastCGI: the body comes through a reader, so tests can drive it directly.
 */
#ifndef GT_DISPATCH_H
#define GT_DISPATCH_H

#include <stddef.h>
#include <sys/types.h>

#include "http/router.h"

struct request;
struct response;

struct body_reader {
	void	*ctx;

	/* Reads up to n bytes; returns the count, 0 at the end, -1 on error. */
	ssize_t	(*read)(void *ctx, char *buf, size_t n);
};

struct dispatch_conf {
	const struct route	*routes;
	size_t			 nroutes;
	void			*ctx;		/* passed to controllers */
	char *const		*operator_tokens;
	size_t			 operator_tokens_n;
	char *const		*admin_tokens;
	size_t			 admin_tokens_n;
};

/* Runs the steps above for req and fills resp. */
void	 dispatch(const struct dispatch_conf *, struct request *req,
	    struct body_reader *, struct response *resp);

/*
 * The role a bearer token grants: ROLE_ADMIN, ROLE_OPERATOR, or ROLE_NONE
 * for a missing or unknown token.  Every configured token is compared, in
 * constant time, whatever matches first.
 */
enum route_role dispatch_token_role(const struct dispatch_conf *,
		    const char *authorization);

#endif
