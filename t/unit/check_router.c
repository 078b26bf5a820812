/*
 * check_router.c: matching requests to routes, and reading their
 * parameters.
 *
 * The router and the request helpers are driven directly, with a
 * request built by hand as the FastCGI layer would build it: no server
 * is involved.
 */
#include <config.h>

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/arena.h"
#include "http/request.h"
#include "http/router.h"

static struct arena	*arena;
static struct request	 req;

static void
noop(void *ctx, struct request *r, struct response *resp)
{
	(void)ctx;
	(void)r;
	(void)resp;
}

static const struct route routes[] = {
	{ "GET", "/health", "health", noop, ROLE_NONE, 0, 0 },
	{ "GET", "/api/runs", "runs.list", noop, ROLE_OPERATOR, 0, 0 },
	{ "POST", "/api/runs", "runs.create", noop, ROLE_OPERATOR, 1024,
	    ROUTE_JSON_BODY },
	{ "GET", "/api/runs/:run_id", "runs.get", noop, ROLE_OPERATOR, 0, 0 },
	{ "POST", "/api/runs/:run_id/cancel", "runs.cancel", noop,
	    ROLE_OPERATOR, 0, 0 },
	{ "GET", "/api/runs/:run_id/artifacts/:name", "artifacts.get", noop,
	    ROLE_OPERATOR, 0, 0 },
	{ "GET", "/four/:a/:b/:c/:d", "four", noop, ROLE_NONE, 0, 0 },
	{ "GET", "/five/:a/:b/:c/:d/:e", "five", noop, ROLE_NONE, 0, 0 },
};

#define NROUTES	(sizeof(routes) / sizeof(routes[0]))

static void
setup(void)
{
	arena = arena_new();
	ck_assert_ptr_nonnull(arena);
	memset(&req, 0, sizeof(req));
	req.arena = arena;
	req.query = "";
	req.content_length = -1;
}

static void
teardown(void)
{
	arena_free(arena);
	arena = NULL;
}

/*
 * Gives req a copy of the NULL-terminated list vars in the arena, as the
 * FastCGI layer hands over its parameters.
 */
static void
set_env(const char *const *vars)
{
	size_t	 i, n;

	for (n = 0; vars[n] != NULL; n++)
		continue;
	req.env = arena_calloc(arena, n + 1, sizeof(*req.env));
	ck_assert_ptr_nonnull(req.env);
	for (i = 0; i < n; i++) {
		req.env[i] = arena_strdup(arena, vars[i]);
		ck_assert_ptr_nonnull(req.env[i]);
	}
}

/* Matches method and path against the table above. */
static enum route_match
match(const char *method, const char *path, const struct route **out,
    char *allow, size_t allowlen)
{
	req.method = method;
	req.path = path;
	return router_match(routes, NROUTES, &req, out, allow, allowlen);
}

/* Asserts that method and path reach the route called name. */
static void
assert_found(const char *method, const char *path, const char *name)
{
	const struct route	*route;
	char			 allow[64];

	ck_assert_msg(match(method, path, &route, allow, sizeof(allow)) ==
	    ROUTE_FOUND, "%s %s did not match", method, path);
	ck_assert_ptr_nonnull(route);
	ck_assert_str_eq(route->name, name);
}

/* Asserts that method and path give the result want and no route. */
static void
assert_result(const char *method, const char *path, enum route_match want)
{
	const struct route	*route = routes;
	char			 allow[64];
	enum route_match	 got;

	got = match(method, path, &route, allow, sizeof(allow));
	ck_assert_msg(got == want, "%s %s gave %d, not %d", method, path,
	    (int)got, (int)want);
	ck_assert_ptr_null(route);
	ck_assert_uint_eq(req.nparams, 0);
}

START_TEST(literal_path_matches_its_route)
{
	assert_found("GET", "/health", "health");
	ck_assert_uint_eq(req.nparams, 0);
}
END_TEST

START_TEST(method_chooses_among_routes_of_one_path)
{
	assert_found("GET", "/api/runs", "runs.list");
	assert_found("POST", "/api/runs", "runs.create");
}
END_TEST

START_TEST(method_is_compared_exactly)
{
	assert_result("get", "/health", ROUTE_BAD_METHOD);
}
END_TEST

START_TEST(param_is_captured_by_name)
{
	assert_found("GET", "/api/runs/abc-123", "runs.get");
	ck_assert_uint_eq(req.nparams, 1);
	ck_assert_str_eq(req.param_names[0], "run_id");
	ck_assert_str_eq(req_param(&req, "run_id"), "abc-123");
}
END_TEST

START_TEST(two_params_are_captured)
{
	assert_found("GET", "/api/runs/r1/artifacts/log.txt",
	    "artifacts.get");
	ck_assert_uint_eq(req.nparams, 2);
	ck_assert_str_eq(req_param(&req, "run_id"), "r1");
	ck_assert_str_eq(req_param(&req, "name"), "log.txt");
}
END_TEST

START_TEST(literal_after_param_must_match)
{
	assert_found("POST", "/api/runs/r1/cancel", "runs.cancel");
	ck_assert_uint_eq(req.nparams, 1);
	ck_assert_str_eq(req_param(&req, "run_id"), "r1");
	assert_result("POST", "/api/runs/r1/cancelled", ROUTE_NOT_FOUND);
}
END_TEST

START_TEST(captured_param_is_percent_decoded)
{
	assert_found("GET", "/api/runs/a%20b%41%6a", "runs.get");
	ck_assert_str_eq(req_param(&req, "run_id"), "a bAj");
}
END_TEST

START_TEST(plus_in_path_param_stays_a_plus)
{
	assert_found("GET", "/api/runs/a+b", "runs.get");
	ck_assert_str_eq(req_param(&req, "run_id"), "a+b");
}
END_TEST

START_TEST(encoded_slash_stays_inside_param)
{
	assert_found("GET", "/api/runs/a%2fb/artifacts/c%2Fd", "artifacts.get");
	ck_assert_uint_eq(req.nparams, 2);
	ck_assert_str_eq(req_param(&req, "run_id"), "a/b");
	ck_assert_str_eq(req_param(&req, "name"), "c/d");
}
END_TEST

START_TEST(encoded_slash_does_not_reach_another_route)
{
	const struct route	*route;
	char			 allow[64];

	/* "x%2fcancel" is one segment: the run route, not the cancel one. */
	assert_found("GET", "/api/runs/x%2fcancel", "runs.get");
	ck_assert_str_eq(req_param(&req, "run_id"), "x/cancel");

	ck_assert_int_eq(match("POST", "/api/runs/x%2fcancel", &route, allow,
	    sizeof(allow)), ROUTE_BAD_METHOD);
	ck_assert_str_eq(allow, "GET");
}
END_TEST

START_TEST(literal_segment_is_not_decoded)
{
	assert_result("GET", "/%68ealth", ROUTE_NOT_FOUND);
	assert_result("GET", "/api/%72uns", ROUTE_NOT_FOUND);
}
END_TEST

START_TEST(trailing_slash_is_another_path)
{
	assert_result("GET", "/health/", ROUTE_NOT_FOUND);
	assert_result("GET", "/api/runs/", ROUTE_NOT_FOUND);
	assert_result("GET", "/api/runs/r1/", ROUTE_NOT_FOUND);
}
END_TEST

START_TEST(empty_segment_is_not_captured)
{
	assert_result("POST", "/api/runs//cancel", ROUTE_NOT_FOUND);
	assert_result("GET", "/api//runs", ROUTE_NOT_FOUND);
}
END_TEST

START_TEST(segment_count_must_match)
{
	assert_result("GET", "/api", ROUTE_NOT_FOUND);
	assert_result("GET", "/api/runs/r1/artifacts", ROUTE_NOT_FOUND);
	assert_result("GET", "/api/runs/r1/artifacts/n/more", ROUTE_NOT_FOUND);
}
END_TEST

START_TEST(unknown_path_is_not_found)
{
	const struct route	*route = routes;
	char			 allow[8];

	memset(allow, 'x', sizeof(allow));
	ck_assert_int_eq(match("GET", "/nowhere", &route, allow,
	    sizeof(allow)), ROUTE_NOT_FOUND);
	ck_assert_ptr_null(route);
	ck_assert_str_eq(allow, "");
}
END_TEST

START_TEST(path_without_leading_slash_matches_nothing)
{
	assert_result("GET", "health", ROUTE_NOT_FOUND);
	assert_result("GET", "", ROUTE_NOT_FOUND);
}
END_TEST

START_TEST(root_pattern_matches_only_root)
{
	static const struct route root[] = {
		{ "GET", "/", "root", noop, ROLE_NONE, 0, 0 },
	};
	const struct route	*route;
	char			 allow[16];

	req.method = "GET";
	req.path = "/";
	ck_assert_int_eq(router_match(root, 1, &req, &route, allow,
	    sizeof(allow)), ROUTE_FOUND);
	ck_assert_ptr_eq(route, &root[0]);

	req.path = "//";
	ck_assert_int_eq(router_match(root, 1, &req, &route, allow,
	    sizeof(allow)), ROUTE_NOT_FOUND);
}
END_TEST

START_TEST(wrong_method_lists_allowed_methods)
{
	const struct route	*route = routes;
	char			 allow[64];

	ck_assert_int_eq(match("DELETE", "/api/runs", &route, allow,
	    sizeof(allow)), ROUTE_BAD_METHOD);
	ck_assert_ptr_null(route);
	ck_assert_str_eq(allow, "GET, POST");
	ck_assert_uint_eq(req.nparams, 0);

	ck_assert_int_eq(match("POST", "/health", &route, allow,
	    sizeof(allow)), ROUTE_BAD_METHOD);
	ck_assert_str_eq(allow, "GET");
}
END_TEST

START_TEST(allow_names_each_method_once)
{
	static const struct route twice[] = {
		{ "GET", "/x/:id", "x.get", noop, ROLE_NONE, 0, 0 },
		{ "GET", "/x/y", "y.get", noop, ROLE_NONE, 0, 0 },
		{ "POST", "/x/y", "y.post", noop, ROLE_NONE, 0, 0 },
		{ "POST", "/x/:id", "x.post", noop, ROLE_NONE, 0, 0 },
	};
	const struct route	*route;
	char			 allow[64];

	req.method = "PUT";
	req.path = "/x/y";
	ck_assert_int_eq(router_match(twice, 4, &req, &route, allow,
	    sizeof(allow)), ROUTE_BAD_METHOD);
	ck_assert_str_eq(allow, "GET, POST");
}
END_TEST

START_TEST(first_route_in_table_wins)
{
	static const struct route order[] = {
		{ "GET", "/x/:id", "x.get", noop, ROLE_NONE, 0, 0 },
		{ "GET", "/x/y", "y.get", noop, ROLE_NONE, 0, 0 },
	};
	const struct route	*route;
	char			 allow[16];

	req.method = "GET";
	req.path = "/x/y";
	ck_assert_int_eq(router_match(order, 2, &req, &route, allow,
	    sizeof(allow)), ROUTE_FOUND);
	ck_assert_ptr_eq(route, &order[0]);
	ck_assert_str_eq(req_param(&req, "id"), "y");
}
END_TEST

START_TEST(allow_is_cut_to_its_buffer)
{
	const struct route	*route;
	char			 allow[8];

	/* Five bytes offered, a canary behind them. */
	memset(allow, '#', sizeof(allow));
	ck_assert_int_eq(match("PUT", "/api/runs", &route, allow, 5),
	    ROUTE_BAD_METHOD);
	ck_assert_uint_lt(strlen(allow), 5);
	ck_assert_int_eq(strncmp(allow, "GET", 3), 0);
	ck_assert_int_eq(allow[5], '#');

	memset(allow, '#', sizeof(allow));
	ck_assert_int_eq(match("PUT", "/api/runs", &route, allow, 0),
	    ROUTE_BAD_METHOD);
	ck_assert_int_eq(allow[0], '#');
}
END_TEST

START_TEST(malformed_escape_is_bad_param)
{
	assert_result("GET", "/api/runs/%zz", ROUTE_BAD_PARAM);
	assert_result("GET", "/api/runs/ab%2", ROUTE_BAD_PARAM);
	assert_result("GET", "/api/runs/ab%", ROUTE_BAD_PARAM);
	assert_result("GET", "/api/runs/%g0", ROUTE_BAD_PARAM);
	assert_result("GET", "/api/runs/r1/artifacts/%0", ROUTE_BAD_PARAM);
}
END_TEST

START_TEST(decoded_nul_is_bad_param)
{
	assert_result("GET", "/api/runs/a%00b", ROUTE_BAD_PARAM);
}
END_TEST

START_TEST(bad_escape_in_path_of_no_route_is_not_found)
{
	/* No pattern has this many segments, whatever the second holds. */
	assert_result("GET", "/api/runs/%zz/nothing/here", ROUTE_NOT_FOUND);
	assert_result("GET", "/api/runs/%zz/nothing", ROUTE_NOT_FOUND);
}
END_TEST

START_TEST(four_params_are_captured)
{
	assert_found("GET", "/four/1/2/3/4", "four");
	ck_assert_uint_eq(req.nparams, REQ_MAX_PARAMS);
	ck_assert_str_eq(req_param(&req, "a"), "1");
	ck_assert_str_eq(req_param(&req, "d"), "4");
}
END_TEST

START_TEST(pattern_over_max_params_never_matches)
{
	assert_result("GET", "/five/1/2/3/4/5", ROUTE_NOT_FOUND);
}
END_TEST

START_TEST(failed_route_leaves_no_params)
{
	/* The run route captures "r1" before failing on the extra segment. */
	assert_result("GET", "/api/runs/r1/extra", ROUTE_NOT_FOUND);
	ck_assert_ptr_null(req_param(&req, "run_id"));
}
END_TEST

START_TEST(env_value_is_found_by_exact_name)
{
	static const char *const env[] = { "CONTENT_TYPE_EXTRA=no",
	    "CONTENT=no", "CONTENT_TYPE=text/plain", "EMPTY=", NULL };

	set_env(env);
	ck_assert_str_eq(req_env(&req, "CONTENT_TYPE"), "text/plain");
	ck_assert_str_eq(req_env(&req, "EMPTY"), "");
	ck_assert_ptr_null(req_env(&req, "CONTENT_T"));
	ck_assert_ptr_null(req_env(&req, "HTTP_AUTHORIZATION"));
}
END_TEST

START_TEST(env_first_occurrence_wins)
{
	static const char *const env[] = { "A=1", "A=2", NULL };

	set_env(env);
	ck_assert_str_eq(req_env(&req, "A"), "1");
}
END_TEST

START_TEST(no_env_means_no_value)
{
	req.env = NULL;
	ck_assert_ptr_null(req_env(&req, "CONTENT_TYPE"));
}
END_TEST

START_TEST(unknown_param_name_is_null)
{
	assert_found("GET", "/api/runs/r1", "runs.get");
	ck_assert_ptr_null(req_param(&req, "run"));
	ck_assert_ptr_null(req_param(&req, "run_id_x"));
	ck_assert_ptr_null(req_param(&req, "name"));
}
END_TEST

/* The query parameter name of req.query, asserting *bad stays clear. */
static const char *
query_ok(const char *query, const char *name)
{
	const char	*v;
	int		 bad = 0;

	req.query = query;
	v = req_query(&req, name, &bad);
	ck_assert_msg(bad == 0, "\"%s\" in \"%s\" set bad", name, query);
	return v;
}

/* Asserts that asking for name in query sets *bad and returns NULL. */
static void
assert_query_bad(const char *query, const char *name)
{
	int	 bad = 0;

	req.query = query;
	ck_assert_ptr_null(req_query(&req, name, &bad));
	ck_assert_msg(bad == 1, "\"%s\" in \"%s\" did not set bad", name,
	    query);
}

START_TEST(query_value_is_found)
{
	ck_assert_str_eq(query_ok("page=2&limit=10", "page"), "2");
	ck_assert_str_eq(query_ok("page=2&limit=10", "limit"), "10");
}
END_TEST

START_TEST(query_value_is_decoded)
{
	ck_assert_str_eq(query_ok("q=a%20b%2Fc", "q"), "a b/c");
}
END_TEST

START_TEST(query_plus_is_a_space)
{
	ck_assert_str_eq(query_ok("q=a+b+c&x=1", "q"), "a b c");
	ck_assert_str_eq(query_ok("q=%2B", "q"), "+");
}
END_TEST

START_TEST(absent_query_param_is_null)
{
	ck_assert_ptr_null(query_ok("page=2", "limit"));
	ck_assert_ptr_null(query_ok("", "page"));
	ck_assert_ptr_null(query_ok(NULL, "page"));
}
END_TEST

START_TEST(query_name_is_matched_whole)
{
	ck_assert_str_eq(query_ok("pagesize=9&page=3", "page"), "3");
	ck_assert_ptr_null(query_ok("pagesize=9", "page"));
	ck_assert_ptr_null(query_ok("pag=9", "page"));
}
END_TEST

START_TEST(query_param_without_value_is_empty)
{
	ck_assert_str_eq(query_ok("flag&x=1", "flag"), "");
	ck_assert_str_eq(query_ok("x=1&flag=", "flag"), "");
}
END_TEST

START_TEST(query_value_keeps_later_equals_signs)
{
	ck_assert_str_eq(query_ok("a=b=c", "a"), "b=c");
}
END_TEST

START_TEST(empty_query_segments_are_skipped)
{
	ck_assert_str_eq(query_ok("&&page=4&", "page"), "4");
}
END_TEST

START_TEST(duplicated_query_param_is_bad)
{
	assert_query_bad("page=1&page=2", "page");
	assert_query_bad("page=1&x=0&page", "page");
	assert_query_bad("page=%zz&page=2", "page");
}
END_TEST

START_TEST(malformed_query_escape_is_bad)
{
	assert_query_bad("q=%zz", "q");
	assert_query_bad("q=abc%4", "q");
	assert_query_bad("q=abc%&x=1", "q");
	assert_query_bad("q=a%00b", "q");
}
END_TEST

START_TEST(bad_escape_elsewhere_does_not_matter)
{
	ck_assert_str_eq(query_ok("x=%zz&q=ok", "q"), "ok");
}
END_TEST

/* Whether a request with this Content-Type counts as JSON. */
static int
is_json(const char *content_type)
{
	char		 var[128];
	const char	*env[] = { var, NULL };

	ck_assert_int_lt(snprintf(var, sizeof(var), "CONTENT_TYPE=%s",
	    content_type), (int)sizeof(var));
	set_env(env);
	return req_is_json(&req);
}

START_TEST(json_type_is_recognised)
{
	ck_assert_int_eq(is_json("application/json"), 1);
}
END_TEST

START_TEST(json_type_may_have_parameters)
{
	ck_assert_int_eq(is_json("application/json; charset=utf-8"), 1);
	ck_assert_int_eq(is_json("application/json;charset=UTF-8"), 1);
	ck_assert_int_eq(is_json("application/json ; charset=utf-8"), 1);
}
END_TEST

START_TEST(json_type_is_case_insensitive)
{
	ck_assert_int_eq(is_json("Application/JSON"), 1);
	ck_assert_int_eq(is_json("APPLICATION/JSON; charset=utf-8"), 1);
}
END_TEST

START_TEST(json_type_may_have_surrounding_blanks)
{
	ck_assert_int_eq(is_json(" \tapplication/json"), 1);
	ck_assert_int_eq(is_json("application/json \t"), 1);
}
END_TEST

START_TEST(other_types_are_not_json)
{
	ck_assert_int_eq(is_json("text/plain"), 0);
	ck_assert_int_eq(is_json("application/jsonp"), 0);
	ck_assert_int_eq(is_json("application/json-seq"), 0);
	ck_assert_int_eq(is_json("application/problem+json"), 0);
	ck_assert_int_eq(is_json("application/js"), 0);
	ck_assert_int_eq(is_json("application/json x"), 0);
	ck_assert_int_eq(is_json(""), 0);
}
END_TEST

START_TEST(absent_type_is_not_json)
{
	static const char *const env[] = { "CONTENT_LENGTH=2", NULL };

	set_env(env);
	ck_assert_int_eq(req_is_json(&req), 0);
	req.env = NULL;
	ck_assert_int_eq(req_is_json(&req), 0);
}
END_TEST

/* Decodes the string s whole. */
static char *
decode(const char *s, int plus_space)
{
	return req_percent_decode(arena, s, strlen(s), plus_space);
}

START_TEST(escapes_are_decoded_in_either_case)
{
	ck_assert_str_eq(decode("a%41%62%7e%7E", 0), "aAb~~");
	ck_assert_str_eq(decode("%e2%82%AC", 0), "\xe2\x82\xac");
}
END_TEST

START_TEST(plain_text_is_copied)
{
	ck_assert_str_eq(decode("run-1_x.txt", 0), "run-1_x.txt");
	ck_assert_str_eq(decode("", 0), "");
}
END_TEST

START_TEST(plus_becomes_space_only_when_asked)
{
	ck_assert_str_eq(decode("a+b", 0), "a+b");
	ck_assert_str_eq(decode("a+b", 1), "a b");
	ck_assert_str_eq(decode("%2b", 1), "+");
}
END_TEST

static const char *const bad_escapes[] = {
	"%", "%4", "ab%", "ab%4", "%zz", "%g1", "%1g", "%%41", "% 41",
	"%00", "a%00", "%-1", "%+1",
};

START_TEST(malformed_escape_is_refused)
{
	ck_assert_msg(decode(bad_escapes[_i], 0) == NULL, "\"%s\" decoded",
	    bad_escapes[_i]);
}
END_TEST

START_TEST(only_n_bytes_are_decoded)
{
	char	*v;

	v = req_percent_decode(arena, "abcdef", 3, 0);
	ck_assert_str_eq(v, "abc");

	/* An escape cut by n is malformed, whatever follows. */
	ck_assert_ptr_null(req_percent_decode(arena, "a%41", 3, 0));
	ck_assert_ptr_null(req_percent_decode(arena, "a%41", 2, 0));
}
END_TEST

START_TEST(raw_nul_byte_is_refused)
{
	ck_assert_ptr_null(req_percent_decode(arena, "a\0b", 3, 0));
}
END_TEST

static Suite *
router_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("router");

	tc = tcase_create("match");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, literal_path_matches_its_route);
	tcase_add_test(tc, method_chooses_among_routes_of_one_path);
	tcase_add_test(tc, method_is_compared_exactly);
	tcase_add_test(tc, param_is_captured_by_name);
	tcase_add_test(tc, two_params_are_captured);
	tcase_add_test(tc, literal_after_param_must_match);
	tcase_add_test(tc, captured_param_is_percent_decoded);
	tcase_add_test(tc, plus_in_path_param_stays_a_plus);
	tcase_add_test(tc, encoded_slash_stays_inside_param);
	tcase_add_test(tc, encoded_slash_does_not_reach_another_route);
	tcase_add_test(tc, literal_segment_is_not_decoded);
	tcase_add_test(tc, trailing_slash_is_another_path);
	tcase_add_test(tc, empty_segment_is_not_captured);
	tcase_add_test(tc, segment_count_must_match);
	tcase_add_test(tc, unknown_path_is_not_found);
	tcase_add_test(tc, path_without_leading_slash_matches_nothing);
	tcase_add_test(tc, root_pattern_matches_only_root);
	tcase_add_test(tc, first_route_in_table_wins);
	tcase_add_test(tc, failed_route_leaves_no_params);
	tcase_add_test(tc, four_params_are_captured);
	tcase_add_test(tc, pattern_over_max_params_never_matches);
	suite_add_tcase(s, tc);

	tc = tcase_create("method");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, wrong_method_lists_allowed_methods);
	tcase_add_test(tc, allow_names_each_method_once);
	tcase_add_test(tc, allow_is_cut_to_its_buffer);
	suite_add_tcase(s, tc);

	tc = tcase_create("bad_param");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, malformed_escape_is_bad_param);
	tcase_add_test(tc, decoded_nul_is_bad_param);
	tcase_add_test(tc, bad_escape_in_path_of_no_route_is_not_found);
	suite_add_tcase(s, tc);

	tc = tcase_create("request");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, env_value_is_found_by_exact_name);
	tcase_add_test(tc, env_first_occurrence_wins);
	tcase_add_test(tc, no_env_means_no_value);
	tcase_add_test(tc, unknown_param_name_is_null);
	suite_add_tcase(s, tc);

	tc = tcase_create("query");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, query_value_is_found);
	tcase_add_test(tc, query_value_is_decoded);
	tcase_add_test(tc, query_plus_is_a_space);
	tcase_add_test(tc, absent_query_param_is_null);
	tcase_add_test(tc, query_name_is_matched_whole);
	tcase_add_test(tc, query_param_without_value_is_empty);
	tcase_add_test(tc, query_value_keeps_later_equals_signs);
	tcase_add_test(tc, empty_query_segments_are_skipped);
	tcase_add_test(tc, duplicated_query_param_is_bad);
	tcase_add_test(tc, malformed_query_escape_is_bad);
	tcase_add_test(tc, bad_escape_elsewhere_does_not_matter);
	suite_add_tcase(s, tc);

	tc = tcase_create("content_type");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, json_type_is_recognised);
	tcase_add_test(tc, json_type_may_have_parameters);
	tcase_add_test(tc, json_type_is_case_insensitive);
	tcase_add_test(tc, json_type_may_have_surrounding_blanks);
	tcase_add_test(tc, other_types_are_not_json);
	tcase_add_test(tc, absent_type_is_not_json);
	suite_add_tcase(s, tc);

	tc = tcase_create("percent_decode");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, escapes_are_decoded_in_either_case);
	tcase_add_test(tc, plain_text_is_copied);
	tcase_add_test(tc, plus_becomes_space_only_when_asked);
	tcase_add_loop_test(tc, malformed_escape_is_refused, 0,
	    sizeof(bad_escapes) / sizeof(bad_escapes[0]));
	tcase_add_test(tc, only_n_bytes_are_decoded);
	tcase_add_test(tc, raw_nul_byte_is_refused);
	suite_add_tcase(s, tc);

	return s;
}

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	sr = srunner_create(router_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
