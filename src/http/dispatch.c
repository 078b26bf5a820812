/*
 * dispatch.c: routing, authentication and body intake.
 */
#include <config.h>

#include <string.h>
#include <strings.h>

#include "domain/arena.h"
#include "domain/text.h"
#include "http/dispatch.h"
#include "http/request.h"
#include "http/response.h"
#include "infra/log.h"

static int
token_listed(char *const *tokens, size_t n, const char *token, size_t len)
{
	size_t	 i;
	int	 found = 0;

	for (i = 0; i < n; i++)
		found |= equal_const_time(tokens[i], strlen(tokens[i]), token,
		    len);
	return found;
}

enum route_role
dispatch_token_role(const struct dispatch_conf *c, const char *auth)
{
	const char	*token;
	size_t		 len;
	int		 admin, operator;

	/* RFC 6750, section 2.1: the scheme is case-insensitive. */
	if (auth == NULL || strncasecmp(auth, "Bearer ", 7) != 0)
		return ROLE_NONE;
	token = auth + 7;
	while (*token == ' ')
		token++;
	len = strlen(token);
	while (len > 0 && token[len - 1] == ' ')
		len--;
	if (len == 0)
		return ROLE_NONE;

	admin = token_listed(c->admin_tokens, c->admin_tokens_n, token, len);
	operator = token_listed(c->operator_tokens, c->operator_tokens_n,
	    token, len);
	if (admin)
		return ROLE_ADMIN;
	return operator ? ROLE_OPERATOR : ROLE_NONE;
}

static int
authorize(const struct dispatch_conf *c, struct request *req,
    struct response *resp)
{
	enum route_role	 role;

	if (req->route->role == ROLE_NONE)
		return 0;
	role = dispatch_token_role(c, req_env(req, "HTTP_AUTHORIZATION"));
	req->role = (int)role;
	if (role == ROLE_NONE) {
		resp_error(resp, 401, "unauthorized", "Send a valid token as "
		    "'Authorization: Bearer <token>'.");
		resp_header(resp, "WWW-Authenticate", "Bearer");
		return -1;
	}
	if (req->route->role == ROLE_ADMIN && role != ROLE_ADMIN) {
		resp_error(resp, 403, "forbidden",
		    "This route needs an admin token.");
		return -1;
	}
	return 0;
}

/* Reads the remaining body and throws it away, so the peer is not reset. */
static void
drain(struct body_reader *br, int64_t left)
{
	char	 scratch[16384];
	ssize_t	 got;

	while (left > 0) {
		got = br->read(br->ctx, scratch,
		    left < (int64_t)sizeof(scratch) ? (size_t)left :
		    sizeof(scratch));
		if (got <= 0)
			return;
		left -= got;
	}
}

static int
read_body(struct request *req, struct body_reader *br, struct response *resp)
{
	const struct route	*route = req->route;
	char			*body;
	size_t			 want, have = 0;
	ssize_t			 got;

	if (req->content_length <= 0) {
		req->body = "";
		req->body_len = 0;
		return 0;
	}
	if ((uint64_t)req->content_length > route->max_body) {
		drain(br, req->content_length);
		resp_error(resp, 413, "payload_too_large", "The request body "
		    "is larger than this route accepts.");
		return -1;
	}
	if ((route->flags & ROUTE_JSON_BODY) && !req_is_json(req)) {
		drain(br, req->content_length);
		resp_error(resp, 415, "unsupported_media_type",
		    "Send the body as JSON with 'Content-Type: "
		    "application/json'.");
		return -1;
	}

	want = (size_t)req->content_length;
	if ((body = arena_alloc(req->arena, want + 1)) == NULL) {
		resp_from_err(resp, GT_ERR_NOMEM, NULL);
		return -1;
	}
	while (have < want) {
		got = br->read(br->ctx, body + have, want - have);
		if (got <= 0)
			break;
		have += (size_t)got;
	}
	if (have != want) {
		log_event(LOG_WARN, "body_short", "route", route->name, NULL);
		resp_error(resp, 400, "invalid_json", "The request body ended "
		    "before its declared Content-Length.");
		return -1;
	}
	body[have] = '\0';
	req->body = body;
	req->body_len = have;
	return 0;
}

void
dispatch(const struct dispatch_conf *c, struct request *req,
    struct body_reader *br, struct response *resp)
{
	const struct route	*route;
	char			 allow[64];

	switch (router_match(c->routes, c->nroutes, req, &route, allow,
	    sizeof(allow))) {
	case ROUTE_FOUND:
		break;
	case ROUTE_BAD_METHOD:
		drain(br, req->content_length);
		resp_error(resp, 405, "method_not_allowed", "This path does "
		    "not accept that method; see the Allow header.");
		resp_header(resp, "Allow", allow);
		return;
	case ROUTE_BAD_PARAM:
		drain(br, req->content_length);
		resp_error(resp, 400, "invalid_parameter", "A path parameter "
		    "holds a malformed percent-escape or a NUL byte.");
		return;
	case ROUTE_NOT_FOUND:
		drain(br, req->content_length);
		resp_error(resp, 404, "not_found",
		    "No route matches this path.");
		return;
	}
	req->route = route;

	if (authorize(c, req, resp) == -1) {
		drain(br, req->content_length);
		return;
	}
	if (read_body(req, br, resp) == -1)
		return;
	route->fn(c->ctx, req, resp);
}
