/*
 * check_dispatch.c: the steps before a controller, and the answers they
 * prepare.
 *
 * dispatch() is driven with a route table of its own whose controllers
 * only record what they were given, a request filled as the FastCGI layer
 * fills one (its parameters as "NAME=value" strings), and a body read from
 * memory.  Error bodies are parsed with json-c, so a test checks what a
 * client would read rather than how the writer spaced it.
 */
#include <config.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "domain/arena.h"
#include "domain/error.h"
#include "http/dispatch.h"
#include "http/request.h"
#include "http/response.h"

/* What the last controller call was given. */
static struct {
	int			 calls;
	void			*ctx;
	const struct route	*route;
	const char		*body;
	size_t			 body_len;
	int			 role;
	const char		*run_id;
} seen;

static void
ctl_record(void *ctx, struct request *req, struct response *resp)
{
	struct jsonw	*w;

	seen.calls++;
	seen.ctx = ctx;
	seen.route = req->route;
	seen.body = req->body;
	seen.body_len = req->body_len;
	seen.role = req->role;
	seen.run_id = req_param(req, "run_id");

	w = resp_json(resp, 200);
	jw_object_open(w);
	jw_key(w, "ok");
	jw_bool(w, 1);
	jw_object_close(w);
}

enum {
	R_HEALTH, R_RUNS_LIST, R_RUNS_CREATE, R_RUNS_GET, R_PAUSES,
	R_UPLOAD, R_WEBHOOK
};

#define BODY_CAP	64

static const struct route routes[] = {
	[R_HEALTH] = { "GET", "/health", "health", ctl_record, ROLE_NONE, 0,
	    0 },
	[R_RUNS_LIST] = { "GET", "/api/runs", "runs.list", ctl_record,
	    ROLE_OPERATOR, 0, 0 },
	[R_RUNS_CREATE] = { "POST", "/api/runs", "runs.create", ctl_record,
	    ROLE_OPERATOR, BODY_CAP, ROUTE_JSON_BODY },
	[R_RUNS_GET] = { "GET", "/api/runs/:run_id", "runs.get", ctl_record,
	    ROLE_OPERATOR, 0, 0 },
	[R_PAUSES] = { "POST", "/api/admin/pauses", "pauses.create",
	    ctl_record, ROLE_ADMIN, BODY_CAP, ROUTE_JSON_BODY },
	[R_UPLOAD] = { "POST", "/api/upload", "upload", ctl_record,
	    ROLE_OPERATOR, BODY_CAP, 0 },
	[R_WEBHOOK] = { "POST", "/api/github/webhook", "webhook", ctl_record,
	    ROLE_NONE, BODY_CAP, ROUTE_JSON_BODY },
};

static char	 op1[] = "op-token-one", op2[] = "op-token-two";
static char	 ad1[] = "ad-token-one", ad2[] = "ad-token-two";
static char *const operators[] = { op1, op2 };
static char *const admins[] = { ad1, ad2 };
static int	 app_ctx;

static const struct dispatch_conf conf = {
	routes, sizeof(routes) / sizeof(routes[0]), &app_ctx,
	operators, 2, admins, 2
};

/* A body served from memory, at most chunk bytes a read. */
struct membody {
	const char	*data;
	size_t		 len;
	size_t		 pos;
	size_t		 chunk;		/* 0: as much as asked */
	size_t		 fail_at;	/* a read from here fails */
	int		 reads;
};

static ssize_t
mem_read(void *ctx, char *buf, size_t n)
{
	struct membody	*m = ctx;

	m->reads++;
	if (m->pos >= m->fail_at) {
		errno = EIO;
		return -1;
	}
	if (n > m->len - m->pos)
		n = m->len - m->pos;
	if (m->chunk > 0 && n > m->chunk)
		n = m->chunk;
	memcpy(buf, m->data + m->pos, n);
	m->pos += n;
	return (ssize_t)n;
}

static struct arena		*arena;
static struct request		 req;
static struct response		 resp;
static struct membody		 body;
static struct body_reader	 reader = { &body, mem_read };
static const char		*env_vars[8];
static size_t			 nenv;
static json_object		*parsed;

static void
setup(void)
{
	arena = arena_new();
	ck_assert_ptr_nonnull(arena);
	memset(&seen, 0, sizeof(seen));
	memset(&req, 0, sizeof(req));
	req.arena = arena;
	req.query = "";
	req.request_id = "test";
	req.content_length = -1;
	memset(&body, 0, sizeof(body));
	body.data = "";
	body.fail_at = (size_t)-1;
	nenv = 0;
	env_vars[0] = NULL;
	resp_init(&resp);
	resp_reset(&resp, arena);
	parsed = NULL;
}

static void
teardown(void)
{
	json_object_put(parsed);
	resp_free(&resp);
	arena_free(arena);
	arena = NULL;
}

/* Adds a FastCGI parameter "NAME=value" to the request. */
static void
add_env(const char *var)
{
	ck_assert_uint_lt(nenv, sizeof(env_vars) / sizeof(env_vars[0]) - 1);
	env_vars[nenv++] = var;
	env_vars[nenv] = NULL;
}

/* Sets the body the reader serves and the Content-Length declared. */
static void
set_body(const char *data, size_t len, int64_t content_length)
{
	static char	 cl[32];

	body.data = data;
	body.len = len;
	req.content_length = content_length;
	(void)snprintf(cl, sizeof(cl), "CONTENT_LENGTH=%lld",
	    (long long)content_length);
	add_env(cl);
}

/* Runs dispatch() for method and path with the parameters added so far. */
static void
run(const char *method, const char *path)
{
	size_t	 i;

	req.method = method;
	req.path = path;
	req.env = arena_calloc(arena, nenv + 1, sizeof(*req.env));
	ck_assert_ptr_nonnull(req.env);
	for (i = 0; i < nenv; i++)
		req.env[i] = arena_strdup(arena, env_vars[i]);
	dispatch(&conf, &req, &reader, &resp);
}

/* The value of the response header name, or NULL. */
static const char *
header(const char *name)
{
	size_t	 i;

	for (i = 0; i < resp.nheaders; i++)
		if (strcmp(resp.headers[i].name, name) == 0)
			return resp.headers[i].value;
	return NULL;
}

/* Parses the JSON body; the teardown frees it. */
static json_object *
body_json(void)
{
	json_object_put(parsed);
	parsed = json_tokener_parse(buf_str(&resp.body));
	ck_assert_msg(parsed != NULL, "body is not JSON: %s",
	    buf_str(&resp.body));
	return parsed;
}

/* The member key of object o, which must be a string. */
static const char *
member_string(json_object *o, const char *key)
{
	json_object	*v;

	ck_assert_msg(json_object_object_get_ex(o, key, &v), "no \"%s\" in %s",
	    key, json_object_to_json_string(o));
	ck_assert_msg(json_object_is_type(v, json_type_string),
	    "\"%s\" is not a string", key);
	return json_object_get_string(v);
}

/*
 * Asserts that the response is the contract's error body with status and
 * code, and no details; returns the message.
 */
static const char *
assert_error(int status, const char *code)
{
	json_object	*top, *err;

	ck_assert_int_eq(resp.status, status);
	ck_assert_str_eq(resp.content_type, CONTENT_TYPE_JSON);
	top = body_json();
	ck_assert(json_object_is_type(top, json_type_object));
	ck_assert_int_eq(json_object_object_length(top), 1);
	ck_assert(json_object_object_get_ex(top, "error", &err));
	ck_assert(json_object_is_type(err, json_type_object));
	ck_assert_int_eq(json_object_object_length(err), 2);
	ck_assert_str_eq(member_string(err, "code"), code);
	ck_assert_str_ne(member_string(err, "message"), "");
	return member_string(err, "message");
}

/* Asserts that the controller ran and answered 200. */
static void
assert_reached(int route)
{
	ck_assert_int_eq(seen.calls, 1);
	ck_assert_ptr_eq(seen.route, &routes[route]);
	ck_assert_ptr_eq(seen.ctx, &app_ctx);
	ck_assert_int_eq(resp.status, 200);
	ck_assert_str_eq(buf_str(&resp.body), "{\"ok\":true}");
}

START_TEST(unknown_path_is_404)
{
	set_body("{}", 2, 2);
	run("GET", "/nowhere");
	assert_error(404, "not_found");
	ck_assert_int_eq(seen.calls, 0);
	ck_assert_ptr_null(header("Allow"));
	ck_assert_uint_eq(body.pos, 2);
}
END_TEST

START_TEST(wrong_method_is_405_with_allow)
{
	run("DELETE", "/api/runs");
	assert_error(405, "method_not_allowed");
	ck_assert_int_eq(seen.calls, 0);
	ck_assert_ptr_nonnull(header("Allow"));
	ck_assert_str_eq(header("Allow"), "GET, POST");
}
END_TEST

START_TEST(malformed_path_param_is_400)
{
	add_env("HTTP_AUTHORIZATION=Bearer op-token-one");
	run("GET", "/api/runs/%zz");
	assert_error(400, "invalid_parameter");
	ck_assert_int_eq(seen.calls, 0);
}
END_TEST

START_TEST(decoded_param_reaches_controller)
{
	add_env("HTTP_AUTHORIZATION=Bearer op-token-one");
	run("GET", "/api/runs/a%2Fb");
	assert_reached(R_RUNS_GET);
	ck_assert_str_eq(seen.run_id, "a/b");
}
END_TEST

START_TEST(missing_token_is_401_with_challenge)
{
	run("GET", "/api/runs");
	assert_error(401, "unauthorized");
	ck_assert_int_eq(seen.calls, 0);
	ck_assert_ptr_nonnull(header("WWW-Authenticate"));
	ck_assert_str_eq(header("WWW-Authenticate"), "Bearer");
}
END_TEST

static const char *const bad_auth[] = {
	"HTTP_AUTHORIZATION=Bearer wrong",
	"HTTP_AUTHORIZATION=Bearer op-token-on",
	"HTTP_AUTHORIZATION=Bearer op-token-one1",
	"HTTP_AUTHORIZATION=Bearer ",
	"HTTP_AUTHORIZATION=Bearer",
	"HTTP_AUTHORIZATION=",
	"HTTP_AUTHORIZATION=Basic op-token-one",
	"HTTP_AUTHORIZATION=op-token-one",
	"HTTP_AUTHORIZATION=Bearerop-token-one",
};

START_TEST(wrong_token_is_401_with_challenge)
{
	add_env(bad_auth[_i]);
	run("GET", "/api/runs");
	assert_error(401, "unauthorized");
	ck_assert_int_eq(seen.calls, 0);
	ck_assert_ptr_nonnull(header("WWW-Authenticate"));
	ck_assert_str_eq(header("WWW-Authenticate"), "Bearer");
}
END_TEST

START_TEST(operator_token_on_admin_route_is_403)
{
	add_env("HTTP_AUTHORIZATION=Bearer op-token-two");
	add_env("CONTENT_TYPE=application/json");
	set_body("{}", 2, 2);
	run("POST", "/api/admin/pauses");
	assert_error(403, "forbidden");
	ck_assert_int_eq(seen.calls, 0);
	ck_assert_ptr_null(header("WWW-Authenticate"));
	ck_assert_uint_eq(body.pos, 2);
}
END_TEST

START_TEST(missing_token_on_admin_route_is_401)
{
	run("POST", "/api/admin/pauses");
	assert_error(401, "unauthorized");
	ck_assert_int_eq(seen.calls, 0);
}
END_TEST

START_TEST(admin_token_is_accepted_on_admin_route)
{
	add_env("HTTP_AUTHORIZATION=Bearer ad-token-two");
	add_env("CONTENT_TYPE=application/json");
	set_body("{}", 2, 2);
	run("POST", "/api/admin/pauses");
	assert_reached(R_PAUSES);
	ck_assert_int_eq(seen.role, ROLE_ADMIN);
}
END_TEST

START_TEST(admin_token_is_accepted_on_operator_route)
{
	add_env("HTTP_AUTHORIZATION=Bearer ad-token-one");
	run("GET", "/api/runs");
	assert_reached(R_RUNS_LIST);
	ck_assert_int_eq(seen.role, ROLE_ADMIN);
}
END_TEST

START_TEST(operator_token_is_accepted_on_operator_route)
{
	add_env("HTTP_AUTHORIZATION=Bearer op-token-two");
	run("GET", "/api/runs");
	assert_reached(R_RUNS_LIST);
	ck_assert_int_eq(seen.role, ROLE_OPERATOR);
}
END_TEST

START_TEST(open_route_needs_no_token)
{
	run("GET", "/health");
	assert_reached(R_HEALTH);
}
END_TEST

START_TEST(token_is_checked_before_body)
{
	set_body("0123456789", 10, BODY_CAP + 1);
	run("POST", "/api/runs");
	assert_error(401, "unauthorized");
	ck_assert_uint_eq(body.pos, 10);
}
END_TEST

START_TEST(body_over_cap_is_413)
{
	static char	 big[BODY_CAP + 1];

	memset(big, 'x', sizeof(big));
	add_env("HTTP_AUTHORIZATION=Bearer op-token-one");
	add_env("CONTENT_TYPE=application/json");
	set_body(big, sizeof(big), sizeof(big));
	run("POST", "/api/runs");
	assert_error(413, "payload_too_large");
	ck_assert_int_eq(seen.calls, 0);
	ck_assert_uint_eq(body.pos, sizeof(big));
}
END_TEST

START_TEST(declared_length_over_cap_is_413_before_reading)
{
	/* The declared length alone decides; the body is drained, not kept. */
	add_env("HTTP_AUTHORIZATION=Bearer op-token-one");
	add_env("CONTENT_TYPE=application/json");
	set_body("{}", 2, 1 << 20);
	run("POST", "/api/runs");
	assert_error(413, "payload_too_large");
	ck_assert_int_eq(seen.calls, 0);
	ck_assert_uint_eq(body.pos, 2);
}
END_TEST

START_TEST(body_at_cap_is_accepted)
{
	static char	 full[BODY_CAP + 1];

	memset(full, 'x', BODY_CAP);
	add_env("HTTP_AUTHORIZATION=Bearer op-token-one");
	add_env("CONTENT_TYPE=application/json");
	set_body(full, BODY_CAP, BODY_CAP);
	run("POST", "/api/runs");
	assert_reached(R_RUNS_CREATE);
	ck_assert_uint_eq(seen.body_len, BODY_CAP);
}
END_TEST

START_TEST(body_on_route_taking_none_is_413)
{
	add_env("HTTP_AUTHORIZATION=Bearer op-token-one");
	set_body("x", 1, 1);
	run("GET", "/api/runs");
	assert_error(413, "payload_too_large");
	ck_assert_int_eq(seen.calls, 0);
}
END_TEST

START_TEST(json_route_without_json_type_is_415)
{
	add_env("HTTP_AUTHORIZATION=Bearer op-token-one");
	add_env("CONTENT_TYPE=text/plain");
	set_body("{}", 2, 2);
	run("POST", "/api/runs");
	assert_error(415, "unsupported_media_type");
	ck_assert_int_eq(seen.calls, 0);
	ck_assert_uint_eq(body.pos, 2);
}
END_TEST

START_TEST(json_route_without_any_type_is_415)
{
	add_env("HTTP_AUTHORIZATION=Bearer op-token-one");
	set_body("{}", 2, 2);
	run("POST", "/api/runs");
	assert_error(415, "unsupported_media_type");
	ck_assert_int_eq(seen.calls, 0);
}
END_TEST

START_TEST(size_is_checked_before_type)
{
	add_env("HTTP_AUTHORIZATION=Bearer op-token-one");
	add_env("CONTENT_TYPE=text/plain");
	set_body("{}", 2, BODY_CAP + 1);
	run("POST", "/api/runs");
	assert_error(413, "payload_too_large");
}
END_TEST

START_TEST(open_json_route_checks_type_too)
{
	set_body("{}", 2, 2);
	run("POST", "/api/github/webhook");
	assert_error(415, "unsupported_media_type");
}
END_TEST

START_TEST(other_route_takes_any_type)
{
	add_env("HTTP_AUTHORIZATION=Bearer op-token-one");
	add_env("CONTENT_TYPE=application/octet-stream");
	set_body("\x01\x02\x03", 3, 3);
	run("POST", "/api/upload");
	assert_reached(R_UPLOAD);
	ck_assert_uint_eq(seen.body_len, 3);
	ck_assert_int_eq(memcmp(seen.body, "\x01\x02\x03", 4), 0);
}
END_TEST

START_TEST(no_body_on_json_route_reaches_controller)
{
	/* Nothing was sent, so there is no media type to refuse. */
	add_env("HTTP_AUTHORIZATION=Bearer op-token-one");
	set_body("", 0, 0);
	run("POST", "/api/runs");
	assert_reached(R_RUNS_CREATE);
	ck_assert_ptr_nonnull(seen.body);
	ck_assert_str_eq(seen.body, "");
	ck_assert_uint_eq(seen.body_len, 0);
	ck_assert_int_eq(body.reads, 0);
}
END_TEST

START_TEST(missing_length_means_empty_body)
{
	add_env("HTTP_AUTHORIZATION=Bearer op-token-one");
	add_env("CONTENT_TYPE=application/json");
	body.data = "{}";
	body.len = 2;
	run("POST", "/api/runs");
	assert_reached(R_RUNS_CREATE);
	ck_assert_uint_eq(seen.body_len, 0);
	ck_assert_str_eq(seen.body, "");
	ck_assert_int_eq(body.reads, 0);
}
END_TEST

START_TEST(body_is_exactly_content_length_bytes)
{
	add_env("HTTP_AUTHORIZATION=Bearer op-token-one");
	add_env("CONTENT_TYPE=application/json; charset=utf-8");
	set_body("{\"a\":1}", 7, 7);
	run("POST", "/api/runs");
	assert_reached(R_RUNS_CREATE);
	ck_assert_uint_eq(seen.body_len, 7);
	ck_assert_int_eq(memcmp(seen.body, "{\"a\":1}", 7), 0);
	ck_assert_int_eq(seen.body[7], '\0');
}
END_TEST

START_TEST(body_with_nul_byte_keeps_its_length)
{
	add_env("HTTP_AUTHORIZATION=Bearer op-token-one");
	add_env("CONTENT_TYPE=application/json");
	set_body("{\0}", 3, 3);
	run("POST", "/api/runs");
	assert_reached(R_RUNS_CREATE);
	ck_assert_uint_eq(seen.body_len, 3);
	ck_assert_int_eq(memcmp(seen.body, "{\0}", 4), 0);
}
END_TEST

START_TEST(body_arriving_in_pieces_is_joined)
{
	static const char	 text[] = "{\"title\":\"split over reads\"}";

	add_env("HTTP_AUTHORIZATION=Bearer op-token-one");
	add_env("CONTENT_TYPE=application/json");
	set_body(text, sizeof(text) - 1, sizeof(text) - 1);
	body.chunk = 3;
	run("POST", "/api/runs");
	assert_reached(R_RUNS_CREATE);
	ck_assert_uint_eq(seen.body_len, sizeof(text) - 1);
	ck_assert_str_eq(seen.body, text);
	ck_assert_int_ge(body.reads, (int)((sizeof(text) - 1) / 3));
}
END_TEST

START_TEST(bytes_past_content_length_are_not_read)
{
	add_env("HTTP_AUTHORIZATION=Bearer op-token-one");
	add_env("CONTENT_TYPE=application/json");
	set_body("{}trailing", 10, 2);
	run("POST", "/api/runs");
	assert_reached(R_RUNS_CREATE);
	ck_assert_uint_eq(seen.body_len, 2);
	ck_assert_str_eq(seen.body, "{}");
	ck_assert_uint_eq(body.pos, 2);
}
END_TEST

START_TEST(body_shorter_than_content_length_is_400)
{
	add_env("HTTP_AUTHORIZATION=Bearer op-token-one");
	add_env("CONTENT_TYPE=application/json");
	set_body("{\"a\"", 4, 10);
	run("POST", "/api/runs");
	assert_error(400, "invalid_json");
	ck_assert_int_eq(seen.calls, 0);
	ck_assert_uint_eq(body.pos, 4);
}
END_TEST

START_TEST(reader_error_is_400)
{
	add_env("HTTP_AUTHORIZATION=Bearer op-token-one");
	add_env("CONTENT_TYPE=application/json");
	set_body("{\"a\":1}", 7, 7);
	body.chunk = 2;
	body.fail_at = 4;
	run("POST", "/api/runs");
	assert_error(400, "invalid_json");
	ck_assert_int_eq(seen.calls, 0);
	ck_assert_uint_eq(body.pos, 4);
}
END_TEST

START_TEST(reader_error_while_draining_stops_it)
{
	set_body("0123456789", 10, 10);
	body.fail_at = 0;
	run("GET", "/nowhere");
	assert_error(404, "not_found");
	ck_assert_int_eq(body.reads, 1);
}
END_TEST

START_TEST(long_body_is_drained_in_pieces)
{
	static char	 big[40000];

	memset(big, 'x', sizeof(big));
	set_body(big, sizeof(big), sizeof(big));
	run("GET", "/nowhere");
	assert_error(404, "not_found");
	ck_assert_uint_eq(body.pos, sizeof(big));
	ck_assert_int_ge(body.reads, 3);
}
END_TEST

/* The role dispatch_token_role() gives the header value auth. */
static enum route_role
role_of(const char *auth)
{
	return dispatch_token_role(&conf, auth);
}

START_TEST(every_configured_token_grants_its_role)
{
	ck_assert_int_eq(role_of("Bearer op-token-one"), ROLE_OPERATOR);
	ck_assert_int_eq(role_of("Bearer op-token-two"), ROLE_OPERATOR);
	ck_assert_int_eq(role_of("Bearer ad-token-one"), ROLE_ADMIN);
	ck_assert_int_eq(role_of("Bearer ad-token-two"), ROLE_ADMIN);
}
END_TEST

START_TEST(unknown_or_missing_token_grants_nothing)
{
	ck_assert_int_eq(role_of(NULL), ROLE_NONE);
	ck_assert_int_eq(role_of(""), ROLE_NONE);
	ck_assert_int_eq(role_of("Bearer nope"), ROLE_NONE);
	ck_assert_int_eq(role_of("Bearer op-token-"), ROLE_NONE);
	ck_assert_int_eq(role_of("Bearer ad-token-one-more"), ROLE_NONE);
	ck_assert_int_eq(role_of("Bearer    "), ROLE_NONE);
	ck_assert_int_eq(role_of("Basic ad-token-one"), ROLE_NONE);
	ck_assert_int_eq(role_of("ad-token-one"), ROLE_NONE);
}
END_TEST

START_TEST(scheme_is_case_insensitive)
{
	ck_assert_int_eq(role_of("bearer op-token-one"), ROLE_OPERATOR);
	ck_assert_int_eq(role_of("BEARER ad-token-two"), ROLE_ADMIN);
}
END_TEST

START_TEST(token_case_matters)
{
	ck_assert_int_eq(role_of("Bearer OP-TOKEN-ONE"), ROLE_NONE);
}
END_TEST

START_TEST(spaces_around_token_are_ignored)
{
	ck_assert_int_eq(role_of("Bearer   op-token-two  "), ROLE_OPERATOR);
}
END_TEST

START_TEST(token_in_both_lists_is_admin)
{
	static char *const both[] = { op1, ad1 };
	struct dispatch_conf	 c = conf;

	c.admin_tokens = both;
	c.admin_tokens_n = 2;
	ck_assert_int_eq(dispatch_token_role(&c, "Bearer op-token-one"),
	    ROLE_ADMIN);
}
END_TEST

START_TEST(no_configured_tokens_grant_nothing)
{
	struct dispatch_conf	 c = conf;

	c.operator_tokens = NULL;
	c.operator_tokens_n = 0;
	c.admin_tokens = NULL;
	c.admin_tokens_n = 0;
	ck_assert_int_eq(dispatch_token_role(&c, "Bearer op-token-one"),
	    ROLE_NONE);
}
END_TEST

START_TEST(header_value_is_copied)
{
	char	 value[] = "abc";

	ck_assert_int_eq(resp_header(&resp, "X-Test", value), 0);
	value[0] = 'z';
	ck_assert_uint_eq(resp.nheaders, 1);
	ck_assert_str_eq(resp.headers[0].name, "X-Test");
	ck_assert_str_eq(resp.headers[0].value, "abc");
}
END_TEST

static const char *const split_values[] = {
	"a\rb", "a\nb", "a\r\nX-Evil: 1", "\r", "\n", "trailing\n",
};

START_TEST(header_with_line_break_is_refused)
{
	ck_assert_int_eq(resp_header(&resp, "X-Test", split_values[_i]), -1);
	ck_assert_uint_eq(resp.nheaders, 0);
}
END_TEST

START_TEST(header_value_ends_at_nul)
{
	/* A C string cannot carry a NUL: what follows one is not sent. */
	ck_assert_int_eq(resp_header(&resp, "X-Test", "a\0\r\nX-Evil: 1"), 0);
	ck_assert_str_eq(resp.headers[0].value, "a");
}
END_TEST

START_TEST(header_past_limit_is_refused)
{
	char	 v[16];
	size_t	 i;

	for (i = 0; i < RESP_MAX_HEADERS; i++) {
		(void)snprintf(v, sizeof(v), "%zu", i);
		ck_assert_int_eq(resp_header(&resp, "X-N", v), 0);
	}
	ck_assert_int_eq(resp_header(&resp, "X-Over", "1"), -1);
	ck_assert_uint_eq(resp.nheaders, RESP_MAX_HEADERS);
	ck_assert_str_eq(resp.headers[0].value, "0");
	ck_assert_str_eq(resp.headers[RESP_MAX_HEADERS - 1].name, "X-N");
}
END_TEST

START_TEST(error_body_is_the_contract_format)
{
	resp_error(&resp, 404, "not_found", "No run has this id.");
	ck_assert_str_eq(assert_error(404, "not_found"), "No run has this id.");
	ck_assert_str_eq(buf_str(&resp.body),
	    "{\"error\":{\"code\":\"not_found\","
	    "\"message\":\"No run has this id.\"}}");
}
END_TEST

START_TEST(error_message_is_escaped)
{
	static const char	 msg[] = "say \"hi\"\\\n\tnow";

	resp_error(&resp, 400, "invalid_parameter", msg);
	ck_assert_str_eq(assert_error(400, "invalid_parameter"), msg);
}
END_TEST

START_TEST(error_replaces_body_and_keeps_headers)
{
	struct jsonw	*w;

	ck_assert_int_eq(resp_header(&resp, "Retry-After", "5"), 0);
	w = resp_json(&resp, 201);
	jw_object_open(w);
	jw_key(w, "id");
	jw_string(w, "half");
	resp_error(&resp, 429, "rate_limited", "Slow down.");
	assert_error(429, "rate_limited");
	ck_assert_ptr_nonnull(header("Retry-After"));
	ck_assert_str_eq(header("Retry-After"), "5");
	ck_assert(jw_ok(&resp.jw));
}
END_TEST

START_TEST(error_replaces_file)
{
	int	 p[2];

	ck_assert_int_eq(pipe(p), 0);
	resp_file(&resp, p[0], 10, "application/gzip");
	resp_error(&resp, 404, "not_found", "No such artifact.");
	assert_error(404, "not_found");
	ck_assert_int_eq(resp.file_fd, -1);
	ck_assert_int_eq(fcntl(p[0], F_GETFD), -1);
	close(p[1]);
}
END_TEST

START_TEST(validation_lists_details)
{
	static const struct resp_detail	 d[] = {
		{ "target.number", "must be a positive integer" },
		{ "repo", "must be owner/name" },
	};
	json_object	*top, *err, *details, *item;
	size_t		 i;

	resp_validation(&resp, "Fix the fields listed.", d, 2);
	ck_assert_int_eq(resp.status, 400);
	top = body_json();
	ck_assert(json_object_object_get_ex(top, "error", &err));
	ck_assert_int_eq(json_object_object_length(err), 3);
	ck_assert_str_eq(member_string(err, "code"), "validation_failed");
	ck_assert_str_eq(member_string(err, "message"),
	    "Fix the fields listed.");
	ck_assert(json_object_object_get_ex(err, "details", &details));
	ck_assert(json_object_is_type(details, json_type_array));
	ck_assert_uint_eq(json_object_array_length(details), 2);
	for (i = 0; i < 2; i++) {
		item = json_object_array_get_idx(details, i);
		ck_assert_int_eq(json_object_object_length(item), 2);
		ck_assert_str_eq(member_string(item, "field"), d[i].field);
		ck_assert_str_eq(member_string(item, "message"),
		    d[i].message);
	}
}
END_TEST

START_TEST(validation_without_details_has_empty_list)
{
	static const struct resp_detail	 none[1];
	json_object	*err, *details;

	resp_validation(&resp, "Fix the body.", none, 0);
	ck_assert(json_object_object_get_ex(body_json(), "error", &err));
	ck_assert(json_object_object_get_ex(err, "details", &details));
	ck_assert_uint_eq(json_object_array_length(details), 0);
}
END_TEST

/* What the contract answers for each error code. */
static const struct {
	enum gt_err	 e;
	int		 status;
	const char	*code;
} err_map[] = {
	{ GT_OK, 500, "internal" },
	{ GT_ERR_INVALID, 400, "validation_failed" },
	{ GT_ERR_NOT_FOUND, 404, "not_found" },
	{ GT_ERR_CONFLICT, 409, "invalid_transition" },
	{ GT_ERR_TRANSITION, 409, "invalid_transition" },
	{ GT_ERR_PAUSED_REPO, 409, "repo_paused" },
	{ GT_ERR_PAUSED_TARGET, 409, "target_paused" },
	{ GT_ERR_RATE_LIMITED, 429, "rate_limited" },
	{ GT_ERR_IDEMPOTENCY, 422, "idempotency_key_reused" },
	{ GT_ERR_UNAVAILABLE, 503, "unavailable" },
	{ GT_ERR_TOO_LARGE, 413, "payload_too_large" },
	{ GT_ERR_NOMEM, 500, "internal" },
	{ GT_ERR_IO, 500, "internal" },
	{ GT_ERR_INTERNAL, 500, "internal" },
	{ (enum gt_err)99, 500, "internal" },
};

#define SECRET	"pg: relation runs missing at /srv/db"

START_TEST(error_code_maps_to_contract)
{
	const char	*msg;
	json_object	*err;

	resp_from_err(&resp, err_map[_i].e, SECRET);
	msg = assert_error(err_map[_i].status, err_map[_i].code);
	if (err_map[_i].status == 500)
		ck_assert_msg(strstr(msg, "pg:") == NULL &&
		    strstr(buf_str(&resp.body), "/srv/db") == NULL,
		    "internal detail shown: %s", buf_str(&resp.body));
	else
		ck_assert_str_eq(msg, SECRET);
	ck_assert(json_object_object_get_ex(parsed, "error", &err));
	ck_assert(!json_object_object_get_ex(err, "details", NULL));
}
END_TEST

/* The statuses and codes of the contract's error table. */
static const struct {
	int		 status;
	const char	*code;
} contract[] = {
	{ 400, "invalid_json" }, { 400, "validation_failed" },
	{ 400, "invalid_parameter" }, { 401, "unauthorized" },
	{ 401, "invalid_signature" }, { 403, "forbidden" },
	{ 404, "not_found" }, { 405, "method_not_allowed" },
	{ 409, "repo_paused" }, { 409, "target_paused" },
	{ 409, "invalid_transition" }, { 413, "payload_too_large" },
	{ 415, "unsupported_media_type" },
	{ 422, "idempotency_key_reused" }, { 429, "rate_limited" },
	{ 500, "internal" }, { 503, "unavailable" },
};

START_TEST(every_error_code_gives_a_contract_pair)
{
	json_object	*err;
	const char	*code;
	size_t		 i;
	int		 e, known;

	/* Also catches a value added to enum gt_err but not to the map. */
	for (e = GT_OK; e <= GT_ERR_INTERNAL; e++) {
		resp_reset(&resp, arena);
		resp_from_err(&resp, (enum gt_err)e, "m");
		ck_assert(json_object_object_get_ex(body_json(), "error",
		    &err));
		code = member_string(err, "code");
		known = 0;
		for (i = 0; i < sizeof(contract) / sizeof(contract[0]); i++)
			if (contract[i].status == resp.status &&
			    strcmp(contract[i].code, code) == 0)
				known = 1;
		ck_assert_msg(known, "error %d gave %d %s", e, resp.status,
		    code);
	}
}
END_TEST

START_TEST(unavailable_has_a_default_message)
{
	const char	*msg;

	resp_from_err(&resp, GT_ERR_UNAVAILABLE, NULL);
	msg = assert_error(503, "unavailable");
	ck_assert_ptr_nonnull(strstr(msg, "retry"));
}
END_TEST

START_TEST(missing_message_still_gives_a_string)
{
	resp_from_err(&resp, GT_ERR_NOT_FOUND, NULL);
	assert_error(404, "not_found");
	resp_from_err(&resp, GT_ERR_INTERNAL, NULL);
	assert_error(500, "internal");
}
END_TEST

START_TEST(reason_phrases_follow_rfc9110)
{
	static const struct {
		int		 status;
		const char	*reason;
	} t[] = {
		{ 200, "OK" }, { 201, "Created" }, { 202, "Accepted" },
		{ 204, "No Content" }, { 400, "Bad Request" },
		{ 401, "Unauthorized" }, { 403, "Forbidden" },
		{ 404, "Not Found" }, { 405, "Method Not Allowed" },
		{ 409, "Conflict" }, { 413, "Content Too Large" },
		{ 415, "Unsupported Media Type" },
		{ 422, "Unprocessable Content" },
		{ 429, "Too Many Requests" },
		{ 500, "Internal Server Error" },
		{ 503, "Service Unavailable" },
		{ 299, "Unknown" }, { 0, "Unknown" },
	};
	size_t	 i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		ck_assert_str_eq(resp_reason(t[i].status), t[i].reason);
}
END_TEST

START_TEST(reset_keeps_body_storage)
{
	const char	*data;
	size_t		 cap;

	resp_error(&resp, 404, "not_found", "gone");
	ck_assert_int_eq(resp_header(&resp, "Allow", "GET"), 0);
	data = resp.body.data;
	cap = resp.body.cap;
	ck_assert_ptr_nonnull(data);

	resp_reset(&resp, arena);
	ck_assert_ptr_eq(resp.body.data, data);
	ck_assert_uint_eq(resp.body.cap, cap);
	ck_assert_uint_eq(resp.body.len, 0);
	ck_assert_str_eq(buf_str(&resp.body), "");
	ck_assert_uint_eq(resp.nheaders, 0);
	ck_assert_int_eq(resp.status, 200);
	ck_assert_str_eq(resp.content_type, CONTENT_TYPE_JSON);
}
END_TEST

START_TEST(reset_closes_file)
{
	int	 p[2];

	ck_assert_int_eq(pipe(p), 0);
	resp_file(&resp, p[0], 3, "text/plain");
	ck_assert_int_eq(resp.file_fd, p[0]);
	resp_reset(&resp, arena);
	ck_assert_int_eq(resp.file_fd, -1);
	ck_assert_int_eq(resp.file_len, 0);
	ck_assert_int_eq(fcntl(p[0], F_GETFD), -1);
	close(p[1]);
}
END_TEST

START_TEST(file_replaces_body_and_earlier_file)
{
	struct jsonw	*w;
	int		 a[2], b[2];

	w = resp_json(&resp, 201);
	jw_string(w, "x");
	ck_assert_int_eq(pipe(a), 0);
	ck_assert_int_eq(pipe(b), 0);
	resp_file(&resp, a[0], 5, "text/plain");
	resp_file(&resp, b[0], 7, "application/gzip");
	ck_assert_int_eq(fcntl(a[0], F_GETFD), -1);
	ck_assert_int_eq(resp.file_fd, b[0]);
	ck_assert_int_eq(resp.file_len, 7);
	ck_assert_int_eq(resp.status, 200);
	ck_assert_str_eq(resp.content_type, "application/gzip");
	ck_assert_uint_eq(resp.body.len, 0);
	close(a[1]);
	close(b[1]);
}
END_TEST

START_TEST(free_closes_file_and_accepts_null)
{
	int	 p[2];

	ck_assert_int_eq(pipe(p), 0);
	resp_file(&resp, p[0], 1, "text/plain");
	resp_free(&resp);
	ck_assert_int_eq(fcntl(p[0], F_GETFD), -1);
	ck_assert_int_eq(resp.file_fd, -1);
	ck_assert_ptr_null(resp.body.data);
	resp_free(NULL);
	close(p[1]);
}
END_TEST

START_TEST(json_sets_status_and_clears_body)
{
	struct jsonw	*w;

	resp_error(&resp, 500, "internal", "x");
	w = resp_json(&resp, 202);
	ck_assert_ptr_eq(w, &resp.jw);
	jw_int(w, 7);
	ck_assert_int_eq(resp.status, 202);
	ck_assert_str_eq(buf_str(&resp.body), "7");
}
END_TEST

static Suite *
dispatch_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("dispatch");

	tc = tcase_create("route");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, unknown_path_is_404);
	tcase_add_test(tc, wrong_method_is_405_with_allow);
	tcase_add_test(tc, malformed_path_param_is_400);
	tcase_add_test(tc, decoded_param_reaches_controller);
	suite_add_tcase(s, tc);

	tc = tcase_create("auth");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, missing_token_is_401_with_challenge);
	tcase_add_loop_test(tc, wrong_token_is_401_with_challenge, 0,
	    sizeof(bad_auth) / sizeof(bad_auth[0]));
	tcase_add_test(tc, operator_token_on_admin_route_is_403);
	tcase_add_test(tc, missing_token_on_admin_route_is_401);
	tcase_add_test(tc, admin_token_is_accepted_on_admin_route);
	tcase_add_test(tc, admin_token_is_accepted_on_operator_route);
	tcase_add_test(tc, operator_token_is_accepted_on_operator_route);
	tcase_add_test(tc, open_route_needs_no_token);
	tcase_add_test(tc, token_is_checked_before_body);
	suite_add_tcase(s, tc);

	tc = tcase_create("token_role");
	tcase_add_test(tc, every_configured_token_grants_its_role);
	tcase_add_test(tc, unknown_or_missing_token_grants_nothing);
	tcase_add_test(tc, scheme_is_case_insensitive);
	tcase_add_test(tc, token_case_matters);
	tcase_add_test(tc, spaces_around_token_are_ignored);
	tcase_add_test(tc, token_in_both_lists_is_admin);
	tcase_add_test(tc, no_configured_tokens_grant_nothing);
	suite_add_tcase(s, tc);

	tc = tcase_create("body");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, body_over_cap_is_413);
	tcase_add_test(tc, declared_length_over_cap_is_413_before_reading);
	tcase_add_test(tc, body_at_cap_is_accepted);
	tcase_add_test(tc, body_on_route_taking_none_is_413);
	tcase_add_test(tc, json_route_without_json_type_is_415);
	tcase_add_test(tc, json_route_without_any_type_is_415);
	tcase_add_test(tc, size_is_checked_before_type);
	tcase_add_test(tc, open_json_route_checks_type_too);
	tcase_add_test(tc, other_route_takes_any_type);
	tcase_add_test(tc, no_body_on_json_route_reaches_controller);
	tcase_add_test(tc, missing_length_means_empty_body);
	tcase_add_test(tc, body_is_exactly_content_length_bytes);
	tcase_add_test(tc, body_with_nul_byte_keeps_its_length);
	tcase_add_test(tc, body_arriving_in_pieces_is_joined);
	tcase_add_test(tc, bytes_past_content_length_are_not_read);
	tcase_add_test(tc, body_shorter_than_content_length_is_400);
	tcase_add_test(tc, reader_error_is_400);
	tcase_add_test(tc, reader_error_while_draining_stops_it);
	tcase_add_test(tc, long_body_is_drained_in_pieces);
	suite_add_tcase(s, tc);

	tc = tcase_create("response");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, header_value_is_copied);
	tcase_add_loop_test(tc, header_with_line_break_is_refused, 0,
	    sizeof(split_values) / sizeof(split_values[0]));
	tcase_add_test(tc, header_value_ends_at_nul);
	tcase_add_test(tc, header_past_limit_is_refused);
	tcase_add_test(tc, error_body_is_the_contract_format);
	tcase_add_test(tc, error_message_is_escaped);
	tcase_add_test(tc, error_replaces_body_and_keeps_headers);
	tcase_add_test(tc, error_replaces_file);
	tcase_add_test(tc, validation_lists_details);
	tcase_add_test(tc, validation_without_details_has_empty_list);
	tcase_add_loop_test(tc, error_code_maps_to_contract, 0,
	    sizeof(err_map) / sizeof(err_map[0]));
	tcase_add_test(tc, every_error_code_gives_a_contract_pair);
	tcase_add_test(tc, unavailable_has_a_default_message);
	tcase_add_test(tc, missing_message_still_gives_a_string);
	tcase_add_test(tc, reason_phrases_follow_rfc9110);
	tcase_add_test(tc, reset_keeps_body_storage);
	tcase_add_test(tc, reset_closes_file);
	tcase_add_test(tc, file_replaces_body_and_earlier_file);
	tcase_add_test(tc, free_closes_file_and_accepts_null);
	tcase_add_test(tc, json_sets_status_and_clears_body);
	suite_add_tcase(s, tc);

	return s;
}

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	sr = srunner_create(dispatch_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
