/*
 * check_admin.c: the /api/admin routes end to end, through the real nginx.
 *
 * Each test works on repositories of its own (named after this process
 * and the test), so the tests can share the stack's database with the
 * other programs.  The effects are checked as a client sees them: a
 * pause through POST /api/runs (409, then 201 after the resume), an
 * override through the RateLimit headers of POST /api/runs, and the hold
 * on queued runs through a dispatcher started with t/stack.sh, which
 * runs t/runners/test-runner.sh.  That dispatcher polls the queue only
 * once a minute, so a run it starts within seconds of a resume was woken
 * by the resume's notification; it is stopped when its tests end,
 * whatever their outcome.
 */
#include <config.h>

#include <sys/wait.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <check.h>

#include "e2e/client.h"

#define DISPATCHER	"admin-e2e"
#define WAIT_S		30	/* for a run to reach a status */
#define HELD_S		3	/* watching a paused run stay queued */

static const char *const json_header[] = {
	"Content-Type: application/json", NULL
};

/* A repository name unique to this run of the tests and to tag. */
static const char *
repo_for(const char *tag)
{
	static char	 name[128];

	snprintf(name, sizeof(name), "Adm-%ld/%s", (long)getpid(), tag);
	return name;
}

/* s with its letters' case swapped, into out. */
static char *
swap_case(const char *s, char *out, size_t outlen)
{
	size_t	 i;

	ck_assert_uint_lt(strlen(s), outlen);
	for (i = 0; s[i] != '\0'; i++) {
		out[i] = s[i];
		if (s[i] >= 'a' && s[i] <= 'z')
			out[i] = (char)(s[i] - 32);
		else if (s[i] >= 'A' && s[i] <= 'Z')
			out[i] = (char)(s[i] + 32);
	}
	out[i] = '\0';
	return out;
}

/* An admin's request. */
static void
admin(const char *method, const char *path, const char *body,
    struct answer *a)
{
	http_as(client_admin_token, method, path, body, NULL, a);
}

/* An admin's request, which must answer status; returns its body. */
static json_object *
admin_ok(const char *method, const char *path, const char *body,
    long status)
{
	struct answer	 a;
	json_object	*o;

	admin(method, path, body, &a);
	ck_assert_msg(a.status == status, "%s %s %s: %ld %s", method, path,
	    body != NULL ? body : "", a.status, a.body);
	ck_assert_pstr_eq(answer_header(&a, "Content-Type"),
	    "application/json; charset=utf-8");
	ck_assert_pstr_eq(answer_header(&a, "Cache-Control"), "no-store");
	o = answer_json(&a);
	answer_free(&a);
	return o;
}

static const char *
repo_body(const char *repo, const char *reason)
{
	static char	 body[4096];

	if (reason == NULL)
		snprintf(body, sizeof(body), "{\"repo\": \"%s\"}", repo);
	else
		snprintf(body, sizeof(body), "{\"repo\": \"%s\", \"reason\": "
		    "\"%s\"}", repo, reason);
	return body;
}

static const char *
target_body(const char *repo, int number, const char *reason)
{
	static char	 body[4096];

	if (reason == NULL)
		snprintf(body, sizeof(body), "{\"repo\": \"%s\", \"target\": "
		    "{\"type\": \"issue\", \"number\": %d}}", repo, number);
	else
		snprintf(body, sizeof(body), "{\"repo\": \"%s\", \"target\": "
		    "{\"type\": \"issue\", \"number\": %d}, \"reason\": "
		    "\"%s\"}", repo, number, reason);
	return body;
}

static const char *
run_body(const char *repo, int number, const char *instruction)
{
	static char	 body[4096];

	snprintf(body, sizeof(body), "{\"repo\": \"%s\", \"target\": "
	    "{\"type\": \"issue\", \"number\": %d}, \"instruction\": \"%s\"}",
	    repo, number, instruction);
	return body;
}

/* POST /api/runs as an operator; the caller frees a. */
static void
create_run(const char *repo, int number, const char *instruction,
    struct answer *a)
{
	http_as(client_operator_token, "POST", "/api/runs",
	    run_body(repo, number, instruction), NULL, a);
}

/* Creates a run, which must answer 201; its id goes to id. */
static void
create_ok(const char *repo, int number, const char *instruction, char *id,
    size_t idlen)
{
	struct answer	 a;
	json_object	*o;

	create_run(repo, number, instruction, &a);
	ck_assert_msg(a.status == 201, "create %s: %ld %s", repo, a.status,
	    a.body);
	o = answer_json(&a);
	snprintf(id, idlen, "%s", json_str_at(o, "id"));
	json_object_put(o);
	answer_free(&a);
}

static int
is_rfc3339_ms(const char *s)
{
	return s != NULL && strlen(s) == 24 && s[4] == '-' && s[10] == 'T' &&
	    s[19] == '.' && s[23] == 'Z';
}

/* The entry of list ("repos" or "targets") of GET /paused for repo. */
static json_object *
listed(json_object *all, const char *list, const char *repo)
{
	json_object	*arr = json_at(all, list), *e;
	const char	*name;
	size_t		 i;

	ck_assert_msg(arr != NULL && json_object_is_type(arr, json_type_array),
	    "no %s list", list);
	for (i = 0; i < json_object_array_length(arr); i++) {
		e = json_object_array_get_idx(arr, i);
		name = json_str_at(e, "repo");
		if (name != NULL && strcasecmp(name, repo) == 0)
			return e;
	}
	return NULL;
}

/* ------------------------------------------------------------------ */
/* Pauses and resumes. */

START_TEST(test_pause_repo_is_idempotent_and_keeps_the_first_time)
{
	const char	*repo = repo_for("Pause");
	char		 other[128], at[64];
	json_object	*o, *all, *e;

	o = admin_ok("POST", "/api/admin/pause-repo",
	    repo_body(repo, "first"), 200);
	ck_assert_pstr_eq(json_str_at(o, "repo"), repo);
	ck_assert(json_object_get_boolean(json_at(o, "paused")));
	ck_assert(json_object_is_type(json_at(o, "paused"),
	    json_type_boolean));
	ck_assert_pstr_eq(json_str_at(o, "reason"), "first");
	ck_assert(is_rfc3339_ms(json_str_at(o, "paused_at")));
	ck_assert_ptr_null(json_at(o, "target"));
	snprintf(at, sizeof(at), "%s", json_str_at(o, "paused_at"));
	json_object_put(o);

	/* Again, in another case, without a reason: nothing changes. */
	usleep(20 * 1000);
	swap_case(repo, other, sizeof(other));
	o = admin_ok("POST", "/api/admin/pause-repo", repo_body(other, NULL),
	    200);
	ck_assert_pstr_eq(json_str_at(o, "repo"), repo);
	ck_assert_pstr_eq(json_str_at(o, "reason"), "first");
	ck_assert_pstr_eq(json_str_at(o, "paused_at"), at);
	json_object_put(o);

	/* A new reason replaces the old; the time stays. */
	o = admin_ok("POST", "/api/admin/pause-repo",
	    repo_body(repo, "second"), 200);
	ck_assert_pstr_eq(json_str_at(o, "reason"), "second");
	ck_assert_pstr_eq(json_str_at(o, "paused_at"), at);
	json_object_put(o);

	all = admin_ok("GET", "/api/admin/paused", NULL, 200);
	e = listed(all, "repos", repo);
	ck_assert_msg(e != NULL, "not listed");
	ck_assert_pstr_eq(json_str_at(e, "repo"), repo);
	ck_assert(json_object_get_boolean(json_at(e, "paused")));
	ck_assert_pstr_eq(json_str_at(e, "reason"), "second");
	ck_assert_pstr_eq(json_str_at(e, "paused_at"), at);
	ck_assert_ptr_null(listed(all, "targets", repo));
	json_object_put(all);

	/* Resumed in another case, twice: the same answer both times. */
	o = admin_ok("POST", "/api/admin/resume-repo", repo_body(other, NULL),
	    200);
	ck_assert_pstr_eq(json_str_at(o, "repo"), other);
	ck_assert(json_object_is_type(json_at(o, "paused"),
	    json_type_boolean));
	ck_assert(!json_object_get_boolean(json_at(o, "paused")));
	ck_assert_ptr_null(json_at(o, "reason"));
	json_object_put(o);
	o = admin_ok("POST", "/api/admin/resume-repo", repo_body(other, NULL),
	    200);
	ck_assert(!json_object_get_boolean(json_at(o, "paused")));
	json_object_put(o);

	all = admin_ok("GET", "/api/admin/paused", NULL, 200);
	ck_assert_ptr_null(listed(all, "repos", repo));
	json_object_put(all);
}
END_TEST

START_TEST(test_pause_target_is_idempotent_and_listed_with_its_target)
{
	const char	*repo = repo_for("PauseTarget");
	char		 at[64];
	json_object	*o, *all, *e;

	o = admin_ok("POST", "/api/admin/pause-target",
	    target_body(repo, 7, "flaky"), 200);
	ck_assert_pstr_eq(json_str_at(o, "repo"), repo);
	ck_assert_pstr_eq(json_str_at(o, "target.type"), "issue");
	ck_assert_int_eq(json_object_get_int(json_at(o, "target.number")), 7);
	ck_assert(json_object_get_boolean(json_at(o, "paused")));
	ck_assert_pstr_eq(json_str_at(o, "reason"), "flaky");
	ck_assert(is_rfc3339_ms(json_str_at(o, "paused_at")));
	snprintf(at, sizeof(at), "%s", json_str_at(o, "paused_at"));
	json_object_put(o);

	o = admin_ok("POST", "/api/admin/pause-target",
	    target_body(repo, 7, NULL), 200);
	ck_assert_pstr_eq(json_str_at(o, "reason"), "flaky");
	ck_assert_pstr_eq(json_str_at(o, "paused_at"), at);
	json_object_put(o);

	all = admin_ok("GET", "/api/admin/paused", NULL, 200);
	e = listed(all, "targets", repo);
	ck_assert_msg(e != NULL, "not listed");
	ck_assert_pstr_eq(json_str_at(e, "target.type"), "issue");
	ck_assert_int_eq(json_object_get_int(json_at(e, "target.number")), 7);
	ck_assert_pstr_eq(json_str_at(e, "paused_at"), at);
	ck_assert_ptr_null(listed(all, "repos", repo));
	json_object_put(all);

	o = admin_ok("POST", "/api/admin/resume-target",
	    target_body(repo, 7, NULL), 200);
	ck_assert_pstr_eq(json_str_at(o, "repo"), repo);
	ck_assert_int_eq(json_object_get_int(json_at(o, "target.number")), 7);
	ck_assert(!json_object_get_boolean(json_at(o, "paused")));
	json_object_put(o);
	o = admin_ok("POST", "/api/admin/resume-target",
	    target_body(repo, 7, NULL), 200);
	json_object_put(o);

	all = admin_ok("GET", "/api/admin/paused", NULL, 200);
	ck_assert_ptr_null(listed(all, "targets", repo));
	json_object_put(all);
}
END_TEST

START_TEST(test_reason_is_at_most_500_characters_or_null)
{
	static char	 body[8192];
	const char	*repo = repo_for("Reason");
	struct answer	 a;
	json_object	*o;
	char		 text[3 * 501 + 1];
	size_t		 i, n = 0;

	/* 500 three-byte characters pass; one more does not. */
	for (i = 0; i < 500; i++) {
		memcpy(text + n, "\xe2\x98\x83", 3);
		n += 3;
	}
	text[n] = '\0';
	o = admin_ok("POST", "/api/admin/pause-repo", repo_body(repo, text),
	    200);
	ck_assert_pstr_eq(json_str_at(o, "reason"), text);
	json_object_put(o);

	text[n++] = 'x';
	text[n] = '\0';
	admin("POST", "/api/admin/pause-repo", repo_body(repo, text), &a);
	assert_validation_names(&a, "reason");
	answer_free(&a);

	snprintf(body, sizeof(body), "{\"repo\": \"%s\", \"reason\": 7}",
	    repo);
	admin("POST", "/api/admin/pause-target", body, &a);
	assert_validation_names(&a, "reason");
	assert_validation_names(&a, "target");
	answer_free(&a);

	/* Without a reason, a new pause has none. */
	repo = repo_for("NoReason");
	snprintf(body, sizeof(body), "{\"repo\": \"%s\", \"reason\": null}",
	    repo);
	o = admin_ok("POST", "/api/admin/pause-repo", body, 200);
	ck_assert(json_object_is_type(json_at(o, "reason"), json_type_null));
	json_object_put(o);
	json_object_put(admin_ok("POST", "/api/admin/resume-repo",
	    repo_body(repo, NULL), 200));
	json_object_put(admin_ok("POST", "/api/admin/resume-repo",
	    repo_body(repo_for("Reason"), NULL), 200));
}
END_TEST

/* ------------------------------------------------------------------ */
/* Rate-limit overrides. */

START_TEST(test_put_limit_answers_the_stored_override)
{
	const char	*repo = repo_for("Limit");
	char		 path[256], other[128];
	json_object	*o;

	snprintf(path, sizeof(path), "/api/admin/rate-limits/%s", repo);
	o = admin_ok("PUT", path, "{\"limit\": 5, \"window_seconds\": 3600}",
	    200);
	ck_assert_pstr_eq(json_str_at(o, "repo"), repo);
	ck_assert_int_eq(json_object_get_int(json_at(o, "limit")), 5);
	ck_assert_int_eq(json_object_get_int(json_at(o, "window_seconds")),
	    3600);
	ck_assert(is_rfc3339_ms(json_str_at(o, "updated_at")));
	json_object_put(o);

	/* A PUT replaces it all, the name's case included. */
	swap_case(repo, other, sizeof(other));
	snprintf(path, sizeof(path), "/api/admin/rate-limits/%s", other);
	o = admin_ok("PUT", path, "{\"limit\": 1000000, \"window_seconds\": "
	    "2592000}", 200);
	ck_assert_pstr_eq(json_str_at(o, "repo"), other);
	ck_assert_int_eq(json_object_get_int(json_at(o, "limit")), 1000000);
	ck_assert_int_eq(json_object_get_int(json_at(o, "window_seconds")),
	    2592000);
	json_object_put(o);
}
END_TEST

START_TEST(test_delete_limit_is_204_also_when_there_is_none)
{
	const char	*repo = repo_for("Delete");
	char		 path[256];
	struct answer	 a;
	int		 i;

	snprintf(path, sizeof(path), "/api/admin/rate-limits/%s", repo);
	json_object_put(admin_ok("PUT", path,
	    "{\"limit\": 5, \"window_seconds\": 60}", 200));
	for (i = 0; i < 2; i++) {
		admin("DELETE", path, NULL, &a);
		ck_assert_msg(a.status == 204, "%ld %s", a.status, a.body);
		ck_assert_uint_eq(a.len, 0);
		ck_assert_ptr_nonnull(answer_header(&a, "X-Request-Id"));
		answer_free(&a);
	}
}
END_TEST

/* ------------------------------------------------------------------ */
/* Every error of the contract that applies. */

START_TEST(test_bad_fields_are_validation_failed_naming_them)
{
	static const struct {
		const char	*method;
		const char	*path;
		const char	*body;
		const char	*field;
	} cases[] = {
		{ "POST", "/api/admin/pause-repo", "{}", "repo" },
		{ "POST", "/api/admin/pause-repo", "{\"repo\": 5}", "repo" },
		{ "POST", "/api/admin/pause-repo", "{\"repo\": \"o/r.git\"}",
		    "repo" },
		{ "POST", "/api/admin/pause-repo", "{\"repo\": \"-o/r\"}",
		    "repo" },
		{ "POST", "/api/admin/pause-repo",
		    "{\"repo\": \"o/r\", \"until\": 1}", "until" },
		{ "POST", "/api/admin/pause-repo", "{\"repo\": \"o/r\", "
		    "\"target\": {\"type\": \"issue\", \"number\": 1}}",
		    "target" },
		{ "POST", "/api/admin/resume-repo",
		    "{\"repo\": \"o/r\", \"reason\": \"x\"}", "reason" },
		{ "POST", "/api/admin/resume-repo", "{\"repo\": null}",
		    "repo" },
		{ "POST", "/api/admin/pause-target", "{\"repo\": \"o/r\"}",
		    "target" },
		{ "POST", "/api/admin/pause-target",
		    "{\"repo\": \"o/r\", \"target\": 5}", "target" },
		{ "POST", "/api/admin/pause-target", "{\"repo\": \"o/r\", "
		    "\"target\": {\"type\": \"commit\", \"number\": 1}}",
		    "target.type" },
		{ "POST", "/api/admin/pause-target", "{\"repo\": \"o/r\", "
		    "\"target\": {\"type\": \"issue\", \"number\": 0}}",
		    "target.number" },
		{ "POST", "/api/admin/pause-target", "{\"repo\": \"o/r\", "
		    "\"target\": {\"type\": \"issue\", \"number\": \"1\"}}",
		    "target.number" },
		{ "POST", "/api/admin/pause-target", "{\"repo\": \"o/r\", "
		    "\"target\": {\"type\": \"issue\", "
		    "\"number\": 2147483648}}", "target.number" },
		{ "POST", "/api/admin/pause-target", "{\"repo\": \"o/r\", "
		    "\"target\": {\"type\": \"issue\", \"number\": 1, "
		    "\"x\": 1}}", "target.x" },
		{ "POST", "/api/admin/resume-target", "{\"repo\": \"o/r\", "
		    "\"target\": {\"type\": \"issue\"}}", "target.number" },
		{ "POST", "/api/admin/resume-target", "{\"target\": "
		    "{\"type\": \"pull_request\", \"number\": 1}}", "repo" },
		{ "PUT", "/api/admin/rate-limits/o/r",
		    "{\"window_seconds\": 60}", "limit" },
		{ "PUT", "/api/admin/rate-limits/o/r",
		    "{\"limit\": 0, \"window_seconds\": 60}", "limit" },
		{ "PUT", "/api/admin/rate-limits/o/r",
		    "{\"limit\": 1000001, \"window_seconds\": 60}", "limit" },
		{ "PUT", "/api/admin/rate-limits/o/r",
		    "{\"limit\": 1.5, \"window_seconds\": 60}", "limit" },
		{ "PUT", "/api/admin/rate-limits/o/r",
		    "{\"limit\": \"5\", \"window_seconds\": 60}", "limit" },
		{ "PUT", "/api/admin/rate-limits/o/r", "{\"limit\": 5}",
		    "window_seconds" },
		{ "PUT", "/api/admin/rate-limits/o/r",
		    "{\"limit\": 5, \"window_seconds\": 0}", "window_seconds" },
		{ "PUT", "/api/admin/rate-limits/o/r",
		    "{\"limit\": 5, \"window_seconds\": 2592001}",
		    "window_seconds" },
		{ "PUT", "/api/admin/rate-limits/o/r",
		    "{\"limit\": 5, \"window_seconds\": 60, \"burst\": 2}",
		    "burst" },
	};
	struct answer	 a;
	size_t		 i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		admin(cases[i].method, cases[i].path, cases[i].body, &a);
		assert_validation_names(&a, cases[i].field);
		answer_free(&a);
	}

	/* Every field at fault is named, not just the first. */
	admin("POST", "/api/admin/pause-target", "{\"extra\": 1, "
	    "\"reason\": 2}", &a);
	assert_validation_names(&a, "extra");
	assert_validation_names(&a, "repo");
	assert_validation_names(&a, "target");
	assert_validation_names(&a, "reason");
	answer_free(&a);
}
END_TEST

/* The routes with a JSON body, and a body each accepts. */
static const struct {
	const char	*method;
	const char	*path;
} body_routes[] = {
	{ "POST", "/api/admin/pause-repo" },
	{ "POST", "/api/admin/resume-repo" },
	{ "POST", "/api/admin/pause-target" },
	{ "POST", "/api/admin/resume-target" },
	{ "PUT", "/api/admin/rate-limits/octo/widgets" },
};
#define NBODY_ROUTES	(sizeof(body_routes) / sizeof(body_routes[0]))

START_TEST(test_malformed_json_is_invalid_json)
{
	static const char *const bodies[] = {
		"{\"repo\": ", "[1, 2]", "\"octo/widgets\"", "null",
		"{\"repo\": \"o/r\", \"repo\": \"o/s\"}",
		"{\"repo\": \"\xff\xfe\"}", "{\"reason\": \"a\\u0000b\"}",
		"{\"a\": 1,}", "",
	};
	struct answer	 a;
	size_t		 i, j;

	for (j = 0; j < NBODY_ROUTES; j++)
		for (i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
			admin(body_routes[j].method, body_routes[j].path,
			    bodies[i], &a);
			assert_error(&a, 400, "invalid_json");
			answer_free(&a);
		}
}
END_TEST

START_TEST(test_body_without_json_type_is_415)
{
	static const char *const text[] = { "Content-Type: text/plain", NULL };
	static const char	 body[] = "{\"repo\": \"octo/widgets\"}";
	struct answer		 a;
	char			 auth[512];
	const char		*hdr[3];
	size_t			 j;

	snprintf(auth, sizeof(auth), "Authorization: Bearer %s",
	    client_admin_token);
	hdr[0] = auth;
	hdr[1] = text[0];
	hdr[2] = NULL;
	for (j = 0; j < NBODY_ROUTES; j++) {
		http_request(body_routes[j].method, body_routes[j].path, body,
		    strlen(body), hdr, &a);
		assert_error(&a, 415, "unsupported_media_type");
		answer_free(&a);
	}
}
END_TEST

START_TEST(test_body_of_64k_plus_one_is_413)
{
	struct answer	 a;
	char		*body;
	size_t		 n = 64 * 1024 + 1, j;

	ck_assert_ptr_nonnull(body = malloc(n + 1));
	memset(body, ' ', n);
	body[0] = '{';
	body[n - 1] = '}';
	body[n] = '\0';
	for (j = 0; j < NBODY_ROUTES; j++) {
		admin(body_routes[j].method, body_routes[j].path, body, &a);
		assert_error(&a, 413, "payload_too_large");
		answer_free(&a);
	}
	free(body);
}
END_TEST

/* Every admin route, with a body it accepts. */
static const struct {
	const char	*method;
	const char	*path;
	const char	*body;
} all_routes[] = {
	{ "POST", "/api/admin/pause-repo", "{\"repo\": \"octo/widgets\"}" },
	{ "POST", "/api/admin/resume-repo", "{\"repo\": \"octo/widgets\"}" },
	{ "POST", "/api/admin/pause-target", "{\"repo\": \"octo/widgets\", "
	    "\"target\": {\"type\": \"issue\", \"number\": 1}}" },
	{ "POST", "/api/admin/resume-target", "{\"repo\": \"octo/widgets\", "
	    "\"target\": {\"type\": \"issue\", \"number\": 1}}" },
	{ "GET", "/api/admin/paused", NULL },
	{ "PUT", "/api/admin/rate-limits/octo/widgets",
	    "{\"limit\": 5, \"window_seconds\": 60}" },
	{ "DELETE", "/api/admin/rate-limits/octo/widgets", NULL },
};
#define NALL_ROUTES	(sizeof(all_routes) / sizeof(all_routes[0]))

START_TEST(test_without_an_admin_token_is_401_or_403)
{
	struct answer	 a;
	const char	*body;
	size_t		 j;

	for (j = 0; j < NALL_ROUTES; j++) {
		body = all_routes[j].body;
		http_request(all_routes[j].method, all_routes[j].path, body,
		    body != NULL ? strlen(body) : 0,
		    body != NULL ? json_header : NULL, &a);
		assert_error(&a, 401, "unauthorized");
		ck_assert_pstr_eq(answer_header(&a, "WWW-Authenticate"),
		    "Bearer");
		answer_free(&a);

		http_as("not-a-token", all_routes[j].method,
		    all_routes[j].path, body, NULL, &a);
		assert_error(&a, 401, "unauthorized");
		answer_free(&a);

		http_as(client_operator_token, all_routes[j].method,
		    all_routes[j].path, body, NULL, &a);
		assert_error(&a, 403, "forbidden");
		answer_free(&a);
	}
}
END_TEST

START_TEST(test_wrong_method_is_405_with_allow)
{
	static const struct {
		const char	*method;
		const char	*path;
		const char	*allow;
	} cases[] = {
		{ "GET", "/api/admin/pause-repo", "POST" },
		{ "PUT", "/api/admin/resume-repo", "POST" },
		{ "GET", "/api/admin/pause-target", "POST" },
		{ "DELETE", "/api/admin/resume-target", "POST" },
		{ "POST", "/api/admin/paused", "GET" },
		{ "GET", "/api/admin/rate-limits/octo/widgets", "PUT, DELETE" },
		{ "POST", "/api/admin/rate-limits/octo/widgets",
		    "PUT, DELETE" },
	};
	struct answer	 a;
	size_t		 i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		admin(cases[i].method, cases[i].path, NULL, &a);
		assert_error(&a, 405, "method_not_allowed");
		ck_assert_pstr_eq(answer_header(&a, "Allow"), cases[i].allow);
		answer_free(&a);
	}
}
END_TEST

START_TEST(test_unknown_admin_path_is_404)
{
	static const char *const paths[] = {
		"/api/admin", "/api/admin/", "/api/admin/pause",
		"/api/admin/pause-repo/octo/widgets",
		"/api/admin/rate-limits", "/api/admin/rate-limits/octo",
		"/api/admin/rate-limits/octo/widgets/more",
		"/api/admin/Paused",
	};
	struct answer	 a;
	size_t		 i;

	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		admin("GET", paths[i], NULL, &a);
		assert_error(&a, 404, "not_found");
		answer_free(&a);
	}
}
END_TEST

START_TEST(test_malformed_repository_in_the_path_is_400)
{
	static const char *const names[] = {
		"-octo/widgets", "octo-/widgets", "oc--to/widgets",
		"octo/widgets.git", "octo/..", "octo/.", "oc_to/widgets",
		"octo/wid%20gets", "octo/a%2fb", "octo%2fa/b", "octo/%zz",
		"a234567890123456789012345678901234567890/widgets",
	};
	struct answer	 a;
	char		 path[256];
	size_t		 i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "/api/admin/rate-limits/%s",
		    names[i]);
		admin("PUT", path, "{\"limit\": 5, \"window_seconds\": 60}",
		    &a);
		assert_error(&a, 400, "invalid_parameter");
		answer_free(&a);
		admin("DELETE", path, NULL, &a);
		assert_error(&a, 400, "invalid_parameter");
		answer_free(&a);
	}
}
END_TEST

/* ------------------------------------------------------------------ */
/* What pauses and overrides do to run creation. */

START_TEST(test_pauses_refuse_creation_until_resumed)
{
	const char	*repo = repo_for("Creation");
	char		 upper[128], copy[128], id[64];
	struct answer	 a;

	snprintf(copy, sizeof(copy), "%s", repo);
	swap_case(copy, upper, sizeof(upper));

	/* Paused in one case, refused in the other. */
	json_object_put(admin_ok("POST", "/api/admin/pause-repo",
	    repo_body(upper, "e2e"), 200));
	create_run(copy, 1, "x", &a);
	assert_error(&a, 409, "repo_paused");
	answer_free(&a);
	create_run(upper, 2, "x", &a);
	assert_error(&a, 409, "repo_paused");
	answer_free(&a);
	json_object_put(admin_ok("POST", "/api/admin/resume-repo",
	    repo_body(copy, NULL), 200));
	create_ok(copy, 1, "x", id, sizeof(id));

	/* A target's pause refuses that target alone. */
	json_object_put(admin_ok("POST", "/api/admin/pause-target",
	    target_body(upper, 4, NULL), 200));
	create_run(copy, 4, "x", &a);
	assert_error(&a, 409, "target_paused");
	answer_free(&a);
	create_ok(copy, 5, "x", id, sizeof(id));
	json_object_put(admin_ok("POST", "/api/admin/resume-target",
	    target_body(copy, 4, NULL), 200));
	create_ok(copy, 4, "x", id, sizeof(id));
}
END_TEST

START_TEST(test_override_changes_the_limit_and_delete_restores_it)
{
	const char	*repo = repo_for("Override");
	char		 copy[128], path[256], id[64];
	const char	*policy;
	struct answer	 a;

	snprintf(copy, sizeof(copy), "%s", repo);
	snprintf(path, sizeof(path), "/api/admin/rate-limits/%s", copy);
	json_object_put(admin_ok("PUT", path,
	    "{\"limit\": 2, \"window_seconds\": 3600}", 200));
	create_ok(copy, 1, "x", id, sizeof(id));
	create_ok(copy, 1, "x", id, sizeof(id));
	create_run(copy, 1, "x", &a);
	assert_error(&a, 429, "rate_limited");
	ck_assert_ptr_nonnull(answer_header(&a, "Retry-After"));
	policy = answer_header(&a, "RateLimit-Policy");
	ck_assert_msg(policy != NULL &&
	    strstr(policy, "\"repo\";q=2;w=3600") != NULL,
	    "RateLimit-Policy: %s", policy != NULL ? policy : "(none)");
	answer_free(&a);

	admin("DELETE", path, NULL, &a);
	ck_assert_int_eq(a.status, 204);
	answer_free(&a);

	/* Back to the stack's default of 100000 an hour. */
	create_run(copy, 1, "x", &a);
	ck_assert_msg(a.status == 201, "%ld %s", a.status, a.body);
	policy = answer_header(&a, "RateLimit-Policy");
	ck_assert_msg(policy != NULL &&
	    strstr(policy, "\"repo\";q=100000;") != NULL,
	    "RateLimit-Policy: %s", policy != NULL ? policy : "(none)");
	answer_free(&a);
}
END_TEST

/* ------------------------------------------------------------------ */
/* What pauses do to dispatch. */

/* Runs t/stack.sh cmd on the stack for the test dispatcher. */
static int
dispatcher_cmd(const char *cmd)
{
	char	 script[4096];
	pid_t	 pid;
	int	 status;

	snprintf(script, sizeof(script), "%s/t/stack.sh", client_src_dir);
	if ((pid = fork()) == -1)
		return -1;
	if (pid == 0) {
		execlp("bash", "bash", script, cmd, client_stack_dir,
		    DISPATCHER, (char *)NULL);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status) == 0 ? 0 : -1;
}

/*
 * Starts the test dispatcher: the test runner, and a poll of the queue
 * so rare that only a notification wakes it within a test.
 */
static void
dispatcher_start(void)
{
	char	 runner[4096];

	snprintf(runner, sizeof(runner), "%s/t/runners/test-runner.sh",
	    client_src_dir);
	ck_assert_int_eq(setenv("GITTINKERER_RUNNER_PATH", runner, 1), 0);
	ck_assert_int_eq(setenv("GITTINKERER_POLL_INTERVAL", "60", 1), 0);
	ck_assert_int_eq(setenv("GITTINKERER_HEARTBEAT_INTERVAL", "1", 1), 0);
	ck_assert_int_eq(setenv("GITTINKERER_RUN_TIMEOUT", "20", 1), 0);
	ck_assert_int_eq(setenv("GITTINKERER_DISPATCHER_SLOTS", "4", 1), 0);
	ck_assert_msg(dispatcher_cmd("dispatcher-start") == 0,
	    "t/stack.sh dispatcher-start failed");
}

/* The fixture's teardown, in the runner's process: after any outcome. */
static void
dispatcher_stop(void)
{
	if (dispatcher_cmd("dispatcher-stop") == -1)
		fprintf(stderr, "check_admin: t/stack.sh dispatcher-stop "
		    "failed\n");
}

/* The run's status now. */
static void
run_status(const char *id, char *status, size_t len)
{
	struct answer	 a;
	json_object	*o;
	char		 path[256];

	snprintf(path, sizeof(path), "/api/runs/%s", id);
	http_as(client_operator_token, "GET", path, NULL, NULL, &a);
	ck_assert_msg(a.status == 200, "%s: %ld %s", path, a.status, a.body);
	o = answer_json(&a);
	snprintf(status, len, "%s", json_str_at(o, "status"));
	json_object_put(o);
	answer_free(&a);
}

/* Waits up to seconds for the run to succeed. */
static void
wait_succeeded(const char *id, int seconds)
{
	char	 status[32] = "";
	int64_t	 until = now_ms() + seconds * 1000LL;

	while (now_ms() < until) {
		run_status(id, status, sizeof(status));
		if (strcmp(status, "succeeded") == 0)
			return;
		ck_assert_msg(strcmp(status, "failed") != 0 &&
		    strcmp(status, "cancelled") != 0, "run %s %s", id, status);
		usleep(100 * 1000);
	}
	ck_abort_msg("run %s still %s after %d s", id, status, seconds);
}

static void
assert_queued(const char *id)
{
	char	 status[32];

	run_status(id, status, sizeof(status));
	ck_assert_msg(strcmp(status, "queued") == 0, "run %s is %s while "
	    "paused", id, status);
}

START_TEST(test_paused_runs_wait_and_start_promptly_after_resume)
{
	char	 repo[128], other[128], probe[128], upper[128];
	char	 held[64], held_target[64], free_run[64], probe_run[64];

	snprintf(repo, sizeof(repo), "%s", repo_for("Held"));
	snprintf(other, sizeof(other), "%s", repo_for("HeldTarget"));
	snprintf(probe, sizeof(probe), "%s", repo_for("Probe"));

	/* Queued with no dispatcher of ours running, then paused. */
	create_ok(repo, 1, "succeed", held, sizeof(held));
	create_ok(other, 2, "succeed", held_target, sizeof(held_target));
	create_ok(other, 3, "succeed", free_run, sizeof(free_run));
	json_object_put(admin_ok("POST", "/api/admin/pause-repo",
	    repo_body(swap_case(repo, upper, sizeof(upper)), "hold"), 200));
	json_object_put(admin_ok("POST", "/api/admin/pause-target",
	    target_body(other, 2, "hold"), 200));

	/* The dispatcher runs what is not paused, and holds the rest. */
	dispatcher_start();
	wait_succeeded(free_run, WAIT_S);
	create_ok(probe, 1, "succeed", probe_run, sizeof(probe_run));
	wait_succeeded(probe_run, WAIT_S);
	sleep(HELD_S);
	assert_queued(held);
	assert_queued(held_target);

	/* Each resume wakes the dispatcher, long before its next poll. */
	json_object_put(admin_ok("POST", "/api/admin/resume-repo",
	    repo_body(repo, NULL), 200));
	wait_succeeded(held, 15);
	assert_queued(held_target);
	json_object_put(admin_ok("POST", "/api/admin/resume-target",
	    target_body(other, 2, NULL), 200));
	wait_succeeded(held_target, 15);
}
END_TEST

static Suite *
admin_suite(void)
{
	Suite	*s = suite_create("admin");
	TCase	*api = tcase_create("api");
	TCase	*errors = tcase_create("errors");
	TCase	*effects = tcase_create("effects");
	TCase	*dispatch = tcase_create("dispatch");

	tcase_set_timeout(api, 60);
	tcase_add_test(api,
	    test_pause_repo_is_idempotent_and_keeps_the_first_time);
	tcase_add_test(api,
	    test_pause_target_is_idempotent_and_listed_with_its_target);
	tcase_add_test(api, test_reason_is_at_most_500_characters_or_null);
	tcase_add_test(api, test_put_limit_answers_the_stored_override);
	tcase_add_test(api, test_delete_limit_is_204_also_when_there_is_none);
	suite_add_tcase(s, api);

	tcase_set_timeout(errors, 60);
	tcase_add_test(errors,
	    test_bad_fields_are_validation_failed_naming_them);
	tcase_add_test(errors, test_malformed_json_is_invalid_json);
	tcase_add_test(errors, test_body_without_json_type_is_415);
	tcase_add_test(errors, test_body_of_64k_plus_one_is_413);
	tcase_add_test(errors, test_without_an_admin_token_is_401_or_403);
	tcase_add_test(errors, test_wrong_method_is_405_with_allow);
	tcase_add_test(errors, test_unknown_admin_path_is_404);
	tcase_add_test(errors, test_malformed_repository_in_the_path_is_400);
	suite_add_tcase(s, errors);

	tcase_set_timeout(effects, 60);
	tcase_add_test(effects, test_pauses_refuse_creation_until_resumed);
	tcase_add_test(effects,
	    test_override_changes_the_limit_and_delete_restores_it);
	suite_add_tcase(s, effects);

	tcase_set_timeout(dispatch, 120);
	tcase_add_unchecked_fixture(dispatch, NULL, dispatcher_stop);
	tcase_add_test(dispatch,
	    test_paused_runs_wait_and_start_promptly_after_resume);
	suite_add_tcase(s, dispatch);
	return s;
}

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	client_init();
	sr = srunner_create(admin_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
