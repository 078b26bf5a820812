/*
 * check_runs.c: the /api/runs routes end to end, through the real nginx.
 *
 * Each test works on repositories of its own (named after this process
 * and the test), so the tests can share the stack's database.  What the
 * routes of this program cannot do yet from outside (pausing, overriding a
 * limit) is set up directly in PostgreSQL, and an artifact is planted in
 * the run's folder as a runner would leave it.
 */
#include <config.h>

#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>
#include <hiredis/hiredis.h>
#include <libpq-fe.h>

#include "e2e/client.h"

static const char	*db_url;
static const char	*redis_addr;

/* A repository name unique to this run of the tests and to tag. */
static const char *
repo_for(const char *tag)
{
	static char	 name[128];

	snprintf(name, sizeof(name), "E2e-%ld/%s", (long)getpid(), tag);
	return name;
}

/* Runs sql with one parameter on the stack's database; it must succeed. */
static void
db_exec(const char *sql, const char *param)
{
	PGconn		*c = PQconnectdb(db_url);
	PGresult	*res;
	const char	*p[1] = { param };

	ck_assert_msg(PQstatus(c) == CONNECTION_OK, "%s", PQerrorMessage(c));
	res = PQexecParams(c, sql, param != NULL ? 1 : 0, NULL, p, NULL,
	    NULL, 0);
	ck_assert_msg(PQresultStatus(res) == PGRES_COMMAND_OK ||
	    PQresultStatus(res) == PGRES_TUPLES_OK, "%s: %s", sql,
	    PQresultErrorMessage(res));
	PQclear(res);
	PQfinish(c);
}

/* Gives repo an override of limit runs per window_s seconds. */
static void
set_limit(const char *repo, int limit, int window_s)
{
	char	 sql[512];

	snprintf(sql, sizeof(sql), "INSERT INTO rate_limits (repo_key, repo, "
	    "\"limit\", window_seconds) VALUES (lower($1), $1, %d, %d) ON "
	    "CONFLICT (repo_key) DO UPDATE SET \"limit\" = EXCLUDED.\"limit\", "
	    "window_seconds = EXCLUDED.window_seconds", limit, window_s);
	db_exec(sql, repo);
}

/* The body of a creation for repo and issue number. */
static char *
create_body(const char *repo, int number, const char *instruction)
{
	static char	 body[32768];

	snprintf(body, sizeof(body), "{\"repo\": \"%s\", \"target\": "
	    "{\"type\": \"issue\", \"number\": %d}, \"instruction\": \"%s\", "
	    "\"requested_by\": \"alice\"}", repo, number, instruction);
	return body;
}

/* Creates a run, which must answer 201; its id goes to id. */
static void
create_ok(const char *repo, int number, char *id, size_t idlen)
{
	struct answer	 a;
	json_object	*o;

	http_as(client_operator_token, "POST", "/api/runs",
	    create_body(repo, number, "Fix the failing date parser test"),
	    NULL, &a);
	ck_assert_msg(a.status == 201, "create: %ld %s", a.status, a.body);
	o = answer_json(&a);
	snprintf(id, idlen, "%s", json_str_at(o, "id"));
	json_object_put(o);
	answer_free(&a);
}

static void
get_run(const char *id, struct answer *a)
{
	char	 path[256];

	snprintf(path, sizeof(path), "/api/runs/%s", id);
	http_as(client_operator_token, "GET", path, NULL, NULL, a);
}

/* Asserts a validation_failed answer names field among its details. */
static void
assert_names_field(const struct answer *a, const char *field)
{
	json_object	*o, *details, *d;
	size_t		 i, n;
	int		 found = 0;

	assert_error(a, 400, "validation_failed");
	o = answer_json(a);
	details = json_at(o, "error.details");
	ck_assert_msg(details != NULL &&
	    json_object_is_type(details, json_type_array), "no details: %s",
	    a->body);
	n = json_object_array_length(details);
	for (i = 0; i < n; i++) {
		d = json_object_array_get_idx(details, i);
		if (json_str_at(d, "field") != NULL &&
		    strcmp(json_str_at(d, "field"), field) == 0)
			found = 1;
	}
	ck_assert_msg(found, "%s not named in %s", field, a->body);
	json_object_put(o);
}

static int
is_rfc3339_ms(const char *s)
{
	return s != NULL && strlen(s) == 24 && s[4] == '-' && s[10] == 'T' &&
	    s[19] == '.' && s[23] == 'Z';
}

START_TEST(test_create_answers_201_with_the_queued_run)
{
	struct answer	 a;
	json_object	*o;
	const char	*id, *loc;
	char		 want[128];

	http_as(client_operator_token, "POST", "/api/runs",
	    create_body(repo_for("Create"), 12, "  Fix the parser \\n "), NULL,
	    &a);
	ck_assert_msg(a.status == 201, "%ld %s", a.status, a.body);
	o = answer_json(&a);
	id = json_str_at(o, "id");
	ck_assert_ptr_nonnull(id);
	ck_assert_uint_eq(strlen(id), 36);
	snprintf(want, sizeof(want), "/api/runs/%s", id);
	loc = answer_header(&a, "Location");
	ck_assert_pstr_eq(loc, want);
	ck_assert_pstr_eq(json_str_at(o, "repo"), repo_for("Create"));
	ck_assert_pstr_eq(json_str_at(o, "target.type"), "issue");
	ck_assert_int_eq(json_object_get_int(json_at(o, "target.number")), 12);
	ck_assert_pstr_eq(json_str_at(o, "instruction"), "Fix the parser");
	ck_assert_pstr_eq(json_str_at(o, "status"), "queued");
	ck_assert_pstr_eq(json_str_at(o, "source"), "api");
	ck_assert_pstr_eq(json_str_at(o, "requested_by"), "alice");
	ck_assert(is_rfc3339_ms(json_str_at(o, "created_at")));
	ck_assert(json_object_is_type(json_at(o, "started_at"),
	    json_type_null));
	ck_assert(json_object_is_type(json_at(o, "error"), json_type_null));
	ck_assert(json_object_is_type(json_at(o, "result"), json_type_null));
	ck_assert_ptr_null(json_at(o, "artifacts"));
	ck_assert_pstr_eq(answer_header(&a, "Content-Type"),
	    "application/json; charset=utf-8");
	ck_assert_pstr_eq(answer_header(&a, "Cache-Control"), "no-store");
	ck_assert_ptr_nonnull(answer_header(&a, "RateLimit-Policy"));
	ck_assert(strstr(answer_header(&a, "RateLimit-Policy"),
	    "\"repo\";q=") != NULL);
	ck_assert(strstr(answer_header(&a, "RateLimit-Policy"),
	    "\"requester\";q=") != NULL);
	ck_assert_ptr_nonnull(answer_header(&a, "RateLimit"));
	json_object_put(o);
	answer_free(&a);
}
END_TEST

START_TEST(test_get_answers_the_run_with_artifacts)
{
	struct answer	 a;
	json_object	*o;
	char		 id[64], upper[64];
	size_t		 i;

	create_ok(repo_for("Get"), 3, id, sizeof(id));
	get_run(id, &a);
	ck_assert_int_eq(a.status, 200);
	o = answer_json(&a);
	ck_assert_pstr_eq(json_str_at(o, "id"), id);
	ck_assert(json_object_is_type(json_at(o, "artifacts"),
	    json_type_array));
	json_object_put(o);
	answer_free(&a);

	/* Upper case is accepted; the answer is lower case. */
	for (i = 0; id[i] != '\0'; i++)
		upper[i] = (id[i] >= 'a' && id[i] <= 'f') ? id[i] - 32 : id[i];
	upper[i] = '\0';
	get_run(upper, &a);
	ck_assert_int_eq(a.status, 200);
	o = answer_json(&a);
	ck_assert_pstr_eq(json_str_at(o, "id"), id);
	json_object_put(o);
	answer_free(&a);
}
END_TEST

START_TEST(test_get_of_malformed_id_is_400_and_unknown_404)
{
	struct answer	 a;

	get_run("not-a-uuid", &a);
	assert_error(&a, 400, "invalid_parameter");
	answer_free(&a);
	get_run("2f1c0b8e-3f4a-4c1d-9e8f-0a1b2c3d4e5fx", &a);
	assert_error(&a, 400, "invalid_parameter");
	answer_free(&a);
	get_run("00000000-0000-4000-8000-000000000000", &a);
	assert_error(&a, 404, "not_found");
	answer_free(&a);
}
END_TEST

START_TEST(test_tokens_are_required_and_checked)
{
	static const char *const	 json[] = {
	    "Content-Type: application/json", NULL };
	struct answer			 a;
	const char			*body = create_body(repo_for("Auth"),
	    1, "x");

	http_request("POST", "/api/runs", body, strlen(body), json, &a);
	assert_error(&a, 401, "unauthorized");
	ck_assert_pstr_eq(answer_header(&a, "WWW-Authenticate"), "Bearer");
	answer_free(&a);

	http_as("wrong-token", "GET", "/api/runs", NULL, NULL, &a);
	assert_error(&a, 401, "unauthorized");
	answer_free(&a);

	http_as(client_admin_token, "GET", "/api/runs", NULL, NULL, &a);
	ck_assert_int_eq(a.status, 200);
	answer_free(&a);
}
END_TEST

START_TEST(test_bad_fields_are_validation_failed_naming_them)
{
	static const struct {
		const char	*body;
		const char	*field;
	} cases[] = {
		{ "{\"target\": {\"type\": \"issue\", \"number\": 1}, "
		    "\"instruction\": \"x\"}", "repo" },
		{ "{\"repo\": \"o/r.git\", \"target\": {\"type\": \"issue\", "
		    "\"number\": 1}, \"instruction\": \"x\"}", "repo" },
		{ "{\"repo\": \"o/r\", \"target\": {\"type\": \"issue\", "
		    "\"number\": \"1\"}, \"instruction\": \"x\"}",
		    "target.number" },
		{ "{\"repo\": \"o/r\", \"target\": {\"type\": \"issue\", "
		    "\"number\": 0}, \"instruction\": \"x\"}", "target.number" },
		{ "{\"repo\": \"o/r\", \"target\": {\"type\": \"issue\", "
		    "\"number\": 2147483648}, \"instruction\": \"x\"}",
		    "target.number" },
		{ "{\"repo\": \"o/r\", \"target\": {\"type\": \"issue\", "
		    "\"number\": 1.5}, \"instruction\": \"x\"}",
		    "target.number" },
		{ "{\"repo\": \"o/r\", \"target\": {\"type\": \"commit\", "
		    "\"number\": 1}, \"instruction\": \"x\"}", "target.type" },
		{ "{\"repo\": \"o/r\", \"target\": {\"type\": \"issue\", "
		    "\"number\": 1, \"extra\": 1}, \"instruction\": \"x\"}",
		    "target.extra" },
		{ "{\"repo\": \"o/r\", \"target\": {\"type\": \"issue\", "
		    "\"number\": 1}, \"instruction\": \" \\t\\u3000 \"}",
		    "instruction" },
		{ "{\"repo\": \"o/r\", \"target\": {\"type\": \"issue\", "
		    "\"number\": 1}, \"instruction\": 7}", "instruction" },
		{ "{\"repo\": \"o/r\", \"target\": {\"type\": \"issue\", "
		    "\"number\": 1}, \"instruction\": \"x\", "
		    "\"requested_by\": \"not a login\"}", "requested_by" },
		{ "{\"repo\": \"o/r\", \"target\": {\"type\": \"issue\", "
		    "\"number\": 1}, \"instruction\": \"x\", \"priority\": 1}",
		    "priority" },
	};
	struct answer	 a;
	size_t		 i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		http_as(client_operator_token, "POST", "/api/runs",
		    cases[i].body, NULL, &a);
		assert_names_field(&a, cases[i].field);
		ck_assert_ptr_null(answer_header(&a, "RateLimit"));
		answer_free(&a);
	}
}
END_TEST

START_TEST(test_instruction_of_4001_characters_is_refused)
{
	static char	 body[32768];
	struct answer	 a;
	char		 text[4 * 4001 + 1];
	size_t		 i, o = 0;

	/* 4000 two-byte characters pass; one more does not. */
	for (i = 0; i < 4000; i++) {
		text[o++] = (char)0xc3;
		text[o++] = (char)0xa9;
	}
	text[o] = '\0';
	snprintf(body, sizeof(body), "%s", create_body(repo_for("Long"), 1,
	    text));
	http_as(client_operator_token, "POST", "/api/runs", body, NULL, &a);
	ck_assert_msg(a.status == 201, "%ld %s", a.status, a.body);
	answer_free(&a);

	text[o++] = 'x';
	text[o] = '\0';
	snprintf(body, sizeof(body), "%s", create_body(repo_for("Long"), 1,
	    text));
	http_as(client_operator_token, "POST", "/api/runs", body, NULL, &a);
	assert_names_field(&a, "instruction");
	answer_free(&a);
}
END_TEST

START_TEST(test_malformed_json_is_invalid_json)
{
	static const char *const bodies[] = {
		"{\"repo\": ",
		"[1, 2]",
		"\"just a string\"",
		"{\"repo\": \"o/r\", \"repo\": \"o/s\"}",
		"{\"instruction\": \"a\\u0000b\"}",
		"{\"instruction\": \"\xff\xfe\"}",
		"{\"a\": 1,}",
		"",
	};
	struct answer	 a;
	char		 deep[200];
	size_t		 i;

	for (i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		http_as(client_operator_token, "POST", "/api/runs", bodies[i],
		    NULL, &a);
		assert_error(&a, 400, "invalid_json");
		answer_free(&a);
	}

	for (i = 0; i < 60; i++)
		deep[i] = '[';
	deep[i] = '\0';
	http_as(client_operator_token, "POST", "/api/runs", deep, NULL, &a);
	assert_error(&a, 400, "invalid_json");
	answer_free(&a);
}
END_TEST

START_TEST(test_body_without_json_type_is_415)
{
	static const char *const	 hdr[] = {
	    "Content-Type: text/plain", NULL };
	struct answer			 a;
	char				 auth[512];
	const char			*all[3];
	const char			*body = create_body(repo_for("Type"),
	    1, "x");

	snprintf(auth, sizeof(auth), "Authorization: Bearer %s",
	    client_operator_token);
	all[0] = auth;
	all[1] = hdr[0];
	all[2] = NULL;
	http_request("POST", "/api/runs", body, strlen(body), all, &a);
	assert_error(&a, 415, "unsupported_media_type");
	answer_free(&a);
}
END_TEST

START_TEST(test_body_of_64k_plus_one_is_413)
{
	struct answer	 a;
	char		*body;
	size_t		 n = 64 * 1024 + 1;

	body = malloc(n + 1);
	ck_assert_ptr_nonnull(body);
	memset(body, ' ', n);
	body[0] = '{';
	body[n - 1] = '}';
	body[n] = '\0';
	http_as(client_operator_token, "POST", "/api/runs", body, NULL, &a);
	assert_error(&a, 413, "payload_too_large");
	answer_free(&a);
	free(body);
}
END_TEST

START_TEST(test_sql_metacharacters_are_stored_intact)
{
	static const char	 text[] = "x'); DROP TABLE runs; -- \\\" %_ "
	    "\\u00e9\\u2603";
	struct answer		 a;
	json_object		*o;
	char			 id[64];

	http_as(client_operator_token, "POST", "/api/runs",
	    create_body(repo_for("Sql"), 5, text), NULL, &a);
	ck_assert_msg(a.status == 201, "%ld %s", a.status, a.body);
	o = answer_json(&a);
	snprintf(id, sizeof(id), "%s", json_str_at(o, "id"));
	json_object_put(o);
	answer_free(&a);

	get_run(id, &a);
	ck_assert_int_eq(a.status, 200);
	o = answer_json(&a);
	ck_assert_pstr_eq(json_str_at(o, "instruction"),
	    "x'); DROP TABLE runs; -- \" %_ \xc3\xa9\xe2\x98\x83");
	json_object_put(o);
	answer_free(&a);
}
END_TEST

START_TEST(test_list_is_newest_first_with_filters_and_pages)
{
	struct answer	 a;
	json_object	*o, *runs;
	char		 ids[3][64], path[512], lower[128];
	const char	*repo = repo_for("List");
	size_t		 i;

	for (i = 0; i < 3; i++)
		create_ok(repo, (int)i + 1, ids[i], sizeof(ids[i]));

	/* repo compares case-insensitively. */
	for (i = 0; repo[i] != '\0'; i++)
		lower[i] = (repo[i] >= 'A' && repo[i] <= 'Z') ? repo[i] + 32 :
		    repo[i];
	lower[i] = '\0';
	snprintf(path, sizeof(path), "/api/runs?repo=%s&limit=2", lower);
	http_as(client_operator_token, "GET", path, NULL, NULL, &a);
	ck_assert_msg(a.status == 200, "%ld %s", a.status, a.body);
	o = answer_json(&a);
	runs = json_at(o, "runs");
	ck_assert_uint_eq(json_object_array_length(runs), 2);
	ck_assert_pstr_eq(json_str_at(json_object_array_get_idx(runs, 0),
	    "id"), ids[2]);
	ck_assert_pstr_eq(json_str_at(json_object_array_get_idx(runs, 1),
	    "id"), ids[1]);
	ck_assert_ptr_null(json_at(json_object_array_get_idx(runs, 0),
	    "artifacts"));
	ck_assert_int_eq(json_object_get_int(json_at(o, "total")), 3);
	ck_assert_int_eq(json_object_get_int(json_at(o, "total_pages")), 2);
	ck_assert_int_eq(json_object_get_int(json_at(o, "page")), 1);
	ck_assert_int_eq(json_object_get_int(json_at(o, "limit")), 2);
	json_object_put(o);
	answer_free(&a);

	snprintf(path, sizeof(path), "/api/runs?repo=%s&limit=2&page=2",
	    repo);
	http_as(client_operator_token, "GET", path, NULL, NULL, &a);
	o = answer_json(&a);
	runs = json_at(o, "runs");
	ck_assert_uint_eq(json_object_array_length(runs), 1);
	ck_assert_pstr_eq(json_str_at(json_object_array_get_idx(runs, 0),
	    "id"), ids[0]);
	json_object_put(o);
	answer_free(&a);

	snprintf(path, sizeof(path), "/api/runs?repo=%s&page=9", repo);
	http_as(client_operator_token, "GET", path, NULL, NULL, &a);
	ck_assert_int_eq(a.status, 200);
	o = answer_json(&a);
	ck_assert_uint_eq(json_object_array_length(json_at(o, "runs")), 0);
	json_object_put(o);
	answer_free(&a);

	snprintf(path, sizeof(path), "/api/runs?repo=%s&status=running",
	    repo);
	http_as(client_operator_token, "GET", path, NULL, NULL, &a);
	o = answer_json(&a);
	ck_assert_int_eq(json_object_get_int(json_at(o, "total")), 0);
	ck_assert_int_eq(json_object_get_int(json_at(o, "total_pages")), 0);
	json_object_put(o);
	answer_free(&a);
}
END_TEST

START_TEST(test_list_with_malformed_parameters_is_400)
{
	static const char *const paths[] = {
		"/api/runs?page=0", "/api/runs?limit=1000", "/api/runs?page=abc",
		"/api/runs?status=bogus", "/api/runs?limit=0",
		"/api/runs?repo=not-a-repo", "/api/runs?page=1&page=2",
	};
	struct answer	 a;
	size_t		 i;

	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		http_as(client_operator_token, "GET", paths[i], NULL, NULL, &a);
		assert_error(&a, 400, "invalid_parameter");
		answer_free(&a);
	}
}
END_TEST

START_TEST(test_cancel_of_queued_run_is_202_then_409)
{
	struct answer	 a;
	json_object	*o;
	char		 id[64], path[256];

	create_ok(repo_for("Cancel"), 8, id, sizeof(id));
	snprintf(path, sizeof(path), "/api/runs/%s/cancel", id);
	http_as(client_operator_token, "POST", path, NULL, NULL, &a);
	ck_assert_msg(a.status == 202, "%ld %s", a.status, a.body);
	o = answer_json(&a);
	ck_assert_pstr_eq(json_str_at(o, "status"), "cancelled");
	ck_assert_pstr_eq(json_str_at(o, "error.stage"), "cancelled");
	ck_assert_ptr_nonnull(json_str_at(o, "error.message"));
	ck_assert(is_rfc3339_ms(json_str_at(o, "finished_at")));
	json_object_put(o);
	answer_free(&a);

	/* A poll sees the new status at once. */
	get_run(id, &a);
	o = answer_json(&a);
	ck_assert_pstr_eq(json_str_at(o, "status"), "cancelled");
	json_object_put(o);
	answer_free(&a);

	http_as(client_operator_token, "POST", path, NULL, NULL, &a);
	assert_error(&a, 409, "invalid_transition");
	answer_free(&a);

	http_as(client_operator_token, "POST",
	    "/api/runs/00000000-0000-4000-8000-000000000000/cancel", NULL,
	    NULL, &a);
	assert_error(&a, 404, "not_found");
	answer_free(&a);
}
END_TEST

START_TEST(test_idempotency_key_replays_or_refuses)
{
	struct answer	 a;
	json_object	*o;
	char		 id[64], hdr[400], longkey[300];
	const char	*k[2];
	const char	*repo = repo_for("Idem");

	snprintf(hdr, sizeof(hdr), "Idempotency-Key: e2e key %ld",
	    (long)getpid());
	k[0] = hdr;
	k[1] = NULL;
	http_as(client_operator_token, "POST", "/api/runs",
	    create_body(repo, 1, "first"), k, &a);
	ck_assert_msg(a.status == 201, "%ld %s", a.status, a.body);
	o = answer_json(&a);
	snprintf(id, sizeof(id), "%s", json_str_at(o, "id"));
	json_object_put(o);
	answer_free(&a);

	http_as(client_operator_token, "POST", "/api/runs",
	    create_body(repo, 1, "first"), k, &a);
	ck_assert_msg(a.status == 200, "%ld %s", a.status, a.body);
	o = answer_json(&a);
	ck_assert_pstr_eq(json_str_at(o, "id"), id);
	json_object_put(o);
	answer_free(&a);

	http_as(client_operator_token, "POST", "/api/runs",
	    create_body(repo, 1, "second"), k, &a);
	assert_error(&a, 422, "idempotency_key_reused");
	answer_free(&a);

	memset(longkey, 'k', 256);
	longkey[256] = '\0';
	snprintf(hdr, sizeof(hdr), "Idempotency-Key: %s", longkey);
	http_as(client_operator_token, "POST", "/api/runs",
	    create_body(repo, 1, "first"), k, &a);
	assert_names_field(&a, "Idempotency-Key");
	answer_free(&a);
}
END_TEST

START_TEST(test_paused_repo_and_target_are_409)
{
	struct answer	 a;
	const char	*repo = repo_for("Paused");
	char		 upper[128];
	size_t		 i;

	db_exec("INSERT INTO paused_repos (repo_key, repo, reason) VALUES "
	    "(lower($1), $1, 'e2e')", repo);
	for (i = 0; repo[i] != '\0'; i++)
		upper[i] = (repo[i] >= 'a' && repo[i] <= 'z') ? repo[i] - 32 :
		    repo[i];
	upper[i] = '\0';
	http_as(client_operator_token, "POST", "/api/runs",
	    create_body(upper, 1, "x"), NULL, &a);
	assert_error(&a, 409, "repo_paused");
	ck_assert_ptr_nonnull(answer_header(&a, "RateLimit-Policy"));
	answer_free(&a);

	repo = repo_for("PausedTarget");
	db_exec("INSERT INTO paused_run_targets (repo_key, repo, target_type, "
	    "target_number) VALUES (lower($1), $1, 'issue', 4)", repo);
	http_as(client_operator_token, "POST", "/api/runs",
	    create_body(repo, 4, "x"), NULL, &a);
	assert_error(&a, 409, "target_paused");
	answer_free(&a);
	http_as(client_operator_token, "POST", "/api/runs",
	    create_body(repo, 5, "x"), NULL, &a);
	ck_assert_int_eq(a.status, 201);
	answer_free(&a);
}
END_TEST

START_TEST(test_over_the_limit_is_429_with_retry_after)
{
	struct answer	 a;
	const char	*repo = repo_for("Limited");
	const char	*rl;
	char		 id[64];
	int		 i;

	set_limit(repo, 2, 3600);
	for (i = 0; i < 2; i++)
		create_ok(repo, 1, id, sizeof(id));
	http_as(client_operator_token, "POST", "/api/runs",
	    create_body(repo, 1, "x"), NULL, &a);
	assert_error(&a, 429, "rate_limited");
	ck_assert_ptr_nonnull(answer_header(&a, "Retry-After"));
	ck_assert_int_gt(atoi(answer_header(&a, "Retry-After")), 0);
	ck_assert(strstr(answer_header(&a, "RateLimit-Policy"),
	    "\"repo\";q=2;w=3600") != NULL);
	rl = answer_header(&a, "RateLimit");
	ck_assert_msg(rl != NULL && strstr(rl, "\"repo\";r=0;t=") != NULL,
	    "RateLimit: %s", rl != NULL ? rl : "(none)");
	answer_free(&a);
}
END_TEST

/*
 * Limit N, 4N creations from parallel clients, which nginx spreads over
 * the workers: exactly N are created.
 */
START_TEST(test_limit_is_exact_under_concurrency)
{
	enum { LIMIT = 6, CLIENTS = 4 };
	const char	*repo = repo_for("Race");
	char		 repo_copy[128];
	pid_t		 pids[CLIENTS];
	int		 i, j, status, created = 0, limited = 0;

	snprintf(repo_copy, sizeof(repo_copy), "%s", repo);
	set_limit(repo_copy, LIMIT, 3600);
	for (i = 0; i < CLIENTS; i++) {
		pids[i] = fork();
		ck_assert_int_ne(pids[i], -1);
		if (pids[i] == 0) {
			int		 mine = 0;
			struct answer	 a;

			for (j = 0; j < LIMIT; j++) {
				http_as(client_operator_token, "POST",
				    "/api/runs", create_body(repo_copy, j + 1,
				    "race"), NULL, &a);
				if (a.status == 201)
					mine++;
				else if (a.status != 429)
					_exit(100);
				answer_free(&a);
			}
			_exit(mine);
		}
	}
	for (i = 0; i < CLIENTS; i++) {
		ck_assert_int_eq(waitpid(pids[i], &status, 0), pids[i]);
		ck_assert(WIFEXITED(status));
		ck_assert_int_ne(WEXITSTATUS(status), 100);
		created += WEXITSTATUS(status);
		limited += LIMIT - WEXITSTATUS(status);
	}
	ck_assert_int_eq(created, LIMIT);
	ck_assert_int_eq(limited, (CLIENTS - 1) * LIMIT);
}
END_TEST

/* Whether Redis holds the status cache entry of run id. */
static int
cached(const char *id)
{
	char		 host[64];
	const char	*colon = strrchr(redis_addr, ':');
	redisContext	*c;
	redisReply	*r;
	int		 exists;

	snprintf(host, sizeof(host), "%.*s", (int)(colon - redis_addr),
	    redis_addr);
	c = redisConnect(host, atoi(colon + 1));
	ck_assert_msg(c != NULL && c->err == 0, "cannot reach Redis");
	r = redisCommand(c, "EXISTS gt:run:%s", id);
	ck_assert_ptr_nonnull(r);
	exists = r->type == REDIS_REPLY_INTEGER && r->integer == 1;
	freeReplyObject(r);
	redisFree(c);
	return exists;
}

START_TEST(test_without_redis_limits_hold_and_gets_are_served)
{
	struct answer	 a;
	const char	*repo = repo_for("NoRedis");
	char		 id[64], id2[64];

	set_limit(repo, 2, 3600);
	create_ok(repo, 1, id, sizeof(id));

	stack_cmd("redis-stop");
	create_ok(repo, 1, id2, sizeof(id2));
	http_as(client_operator_token, "POST", "/api/runs",
	    create_body(repo, 1, "x"), NULL, &a);
	assert_error(&a, 429, "rate_limited");
	ck_assert_ptr_nonnull(answer_header(&a, "Retry-After"));
	answer_free(&a);
	get_run(id2, &a);
	ck_assert_int_eq(a.status, 200);
	answer_free(&a);

	stack_cmd("redis-start");
	/* Redis is empty again: the next poll fills the cache. */
	usleep(600 * 1000);
	get_run(id2, &a);
	ck_assert_int_eq(a.status, 200);
	answer_free(&a);
	ck_assert(cached(id2));
}
END_TEST

START_TEST(test_without_postgres_creates_are_503_and_cached_gets_served)
{
	struct answer	 a;
	char		 id[64];

	create_ok(repo_for("NoPg"), 1, id, sizeof(id));
	get_run(id, &a);
	ck_assert_int_eq(a.status, 200);
	answer_free(&a);

	stack_cmd("pg-stop");
	http_as(client_operator_token, "POST", "/api/runs",
	    create_body(repo_for("NoPg"), 1, "x"), NULL, &a);
	assert_error(&a, 503, "unavailable");
	answer_free(&a);
	http_as(client_operator_token, "GET", "/api/runs", NULL, NULL, &a);
	assert_error(&a, 503, "unavailable");
	answer_free(&a);
	/* A poll of a run in the cache needs no database. */
	get_run(id, &a);
	ck_assert_msg(a.status == 200, "%ld %s", a.status, a.body);
	answer_free(&a);
	stack_cmd("pg-start");

	/* Every worker reconnects within its quarter-second pause. */
	usleep(600 * 1000);
	http_as(client_operator_token, "GET", "/api/runs", NULL, NULL, &a);
	ck_assert_int_eq(a.status, 200);
	answer_free(&a);
}
END_TEST

START_TEST(test_wrong_method_on_runs_is_405_with_allow)
{
	struct answer	 a;

	http_as(client_operator_token, "DELETE", "/api/runs", NULL, NULL, &a);
	assert_error(&a, 405, "method_not_allowed");
	ck_assert_ptr_nonnull(answer_header(&a, "Allow"));
	ck_assert(strstr(answer_header(&a, "Allow"), "GET") != NULL);
	ck_assert(strstr(answer_header(&a, "Allow"), "POST") != NULL);
	answer_free(&a);
	http_as(client_operator_token, "GET",
	    "/api/runs/00000000-0000-4000-8000-000000000000/cancel", NULL,
	    NULL, &a);
	assert_error(&a, 405, "method_not_allowed");
	ck_assert_pstr_eq(answer_header(&a, "Allow"), "POST");
	answer_free(&a);
}
END_TEST

/* Plants a file in the run's artifact folder, as a runner would. */
static void
plant(const char *id, const char *name, const char *data, size_t n)
{
	char	 path[4200];
	int	 fd;

	snprintf(path, sizeof(path), "%s/artifacts/%s", client_stack_dir, id);
	ck_assert(mkdir(path, 0750) == 0 || errno == EEXIST);
	snprintf(path, sizeof(path), "%s/artifacts/%s/%s", client_stack_dir,
	    id, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0640);
	ck_assert_int_ne(fd, -1);
	ck_assert_int_eq(write(fd, data, n), (ssize_t)n);
	close(fd);
}

START_TEST(test_artifacts_are_listed_and_downloaded)
{
	struct answer	 a;
	json_object	*o, *arts, *first;
	char		 id[64], path[512], link[4200], *big;
	size_t		 bign = 3 * 1024 * 1024 + 17, i;

	create_ok(repo_for("Artifacts"), 2, id, sizeof(id));
	plant(id, "log.txt", "hello\n", 6);
	plant(id, "payload.json", "{}", 2);
	plant(id, "result.json", "{\"summary\": \"s\"}", 16);
	big = malloc(bign);
	ck_assert_ptr_nonnull(big);
	for (i = 0; i < bign; i++)
		big[i] = (char)(i * 7 + 3);
	plant(id, "out.bin", big, bign);
	snprintf(link, sizeof(link), "%s/artifacts/%s/passwd",
	    client_stack_dir, id);
	ck_assert_int_eq(symlink("/etc/passwd", link), 0);

	get_run(id, &a);
	o = answer_json(&a);
	arts = json_at(o, "artifacts");
	ck_assert_uint_eq(json_object_array_length(arts), 3);
	first = json_object_array_get_idx(arts, 0);
	ck_assert_pstr_eq(json_str_at(first, "name"), "log.txt");
	ck_assert_int_eq(json_object_get_int(json_at(first, "size")), 6);
	snprintf(path, sizeof(path), "/api/runs/%s/artifacts/log.txt", id);
	ck_assert_pstr_eq(json_str_at(first, "url"), path);
	json_object_put(o);
	answer_free(&a);

	http_as(client_operator_token, "GET", path, NULL, NULL, &a);
	ck_assert_int_eq(a.status, 200);
	ck_assert_pstr_eq(answer_header(&a, "Content-Type"),
	    "text/plain; charset=utf-8");
	ck_assert_pstr_eq(answer_header(&a, "Content-Length"), "6");
	ck_assert_str_eq(a.body, "hello\n");
	answer_free(&a);

	snprintf(path, sizeof(path), "/api/runs/%s/artifacts/out.bin", id);
	http_as(client_operator_token, "GET", path, NULL, NULL, &a);
	ck_assert_int_eq(a.status, 200);
	ck_assert_pstr_eq(answer_header(&a, "Content-Type"),
	    "application/octet-stream");
	ck_assert_uint_eq(a.len, bign);
	ck_assert(memcmp(a.body, big, bign) == 0);
	answer_free(&a);
	free(big);

	snprintf(path, sizeof(path), "/api/runs/%s/artifacts/result.json", id);
	http_as(client_operator_token, "GET", path, NULL, NULL, &a);
	ck_assert_int_eq(a.status, 200);
	ck_assert_pstr_eq(answer_header(&a, "Content-Type"),
	    "application/json");
	answer_free(&a);

	snprintf(path, sizeof(path), "/api/runs/%s/artifacts/passwd", id);
	http_as(client_operator_token, "GET", path, NULL, NULL, &a);
	assert_error(&a, 404, "not_found");
	answer_free(&a);
	snprintf(path, sizeof(path), "/api/runs/%s/artifacts/payload.json",
	    id);
	http_as(client_operator_token, "GET", path, NULL, NULL, &a);
	assert_error(&a, 404, "not_found");
	answer_free(&a);
}
END_TEST

/*
 * A finished run's answer is kept by each worker: every poll of it, on
 * whichever worker, must be the same bytes as the first, with its own
 * request id.
 */
START_TEST(test_finished_run_answers_are_the_same_each_time)
{
	struct answer	 a, first;
	json_object	*o;
	char		 id[64], path[256], first_rid[128];
	int		 i;

	create_ok(repo_for("Finished"), 3, id, sizeof(id));
	plant(id, "log.txt", "done\n", 5);
	snprintf(path, sizeof(path), "/api/runs/%s/cancel", id);
	http_as(client_operator_token, "POST", path, NULL, NULL, &a);
	ck_assert_int_eq(a.status, 202);
	answer_free(&a);

	get_run(id, &first);
	ck_assert_int_eq(first.status, 200);
	o = answer_json(&first);
	ck_assert_pstr_eq(json_str_at(o, "status"), "cancelled");
	ck_assert_uint_eq(json_object_array_length(json_at(o, "artifacts")),
	    1);
	ck_assert_pstr_eq(json_str_at(json_object_array_get_idx(json_at(o,
	    "artifacts"), 0), "name"), "log.txt");
	json_object_put(o);
	ck_assert_ptr_nonnull(answer_header(&first, "X-Request-Id"));
	snprintf(first_rid, sizeof(first_rid), "%s",
	    answer_header(&first, "X-Request-Id"));

	/* More polls than workers: some worker answers twice. */
	for (i = 0; i < 16; i++) {
		get_run(id, &a);
		ck_assert_int_eq(a.status, 200);
		ck_assert_uint_eq(a.len, first.len);
		ck_assert(memcmp(a.body, first.body, a.len) == 0);
		ck_assert_pstr_eq(answer_header(&a, "Content-Type"),
		    "application/json; charset=utf-8");
		ck_assert_pstr_ne(answer_header(&a, "X-Request-Id"),
		    first_rid);
		answer_free(&a);
	}
	answer_free(&first);
}
END_TEST

START_TEST(test_artifact_names_that_could_escape_are_400)
{
	static const char *const names[] = {
		"..", "...", ".hidden", "..%2f..%2fetc%2fpasswd", "a%2fb",
		"a%00b", "%2e%2e", "a%5cb",
	};
	struct answer	 a;
	char		 id[64], path[512];
	size_t		 i;

	create_ok(repo_for("Escape"), 2, id, sizeof(id));
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "/api/runs/%s/artifacts/%s", id,
		    names[i]);
		http_as(client_operator_token, "GET", path, NULL, NULL, &a);
		ck_assert_msg(a.status == 400 || a.status == 404,
		    "%s: %ld", names[i], a.status);
		if (a.status == 400)
			assert_error(&a, 400, "invalid_parameter");
		else
			assert_error(&a, 404, "not_found");
		answer_free(&a);
	}
}
END_TEST

static Suite *
runs_suite(void)
{
	Suite	*s = suite_create("runs");
	TCase	*api = tcase_create("api");
	TCase	*limits = tcase_create("limits");
	TCase	*files = tcase_create("artifacts");

	tcase_set_timeout(api, 60);
	tcase_add_test(api, test_create_answers_201_with_the_queued_run);
	tcase_add_test(api, test_get_answers_the_run_with_artifacts);
	tcase_add_test(api, test_get_of_malformed_id_is_400_and_unknown_404);
	tcase_add_test(api, test_tokens_are_required_and_checked);
	tcase_add_test(api, test_bad_fields_are_validation_failed_naming_them);
	tcase_add_test(api, test_instruction_of_4001_characters_is_refused);
	tcase_add_test(api, test_malformed_json_is_invalid_json);
	tcase_add_test(api, test_body_without_json_type_is_415);
	tcase_add_test(api, test_body_of_64k_plus_one_is_413);
	tcase_add_test(api, test_sql_metacharacters_are_stored_intact);
	tcase_add_test(api, test_list_is_newest_first_with_filters_and_pages);
	tcase_add_test(api, test_list_with_malformed_parameters_is_400);
	tcase_add_test(api, test_cancel_of_queued_run_is_202_then_409);
	tcase_add_test(api, test_idempotency_key_replays_or_refuses);
	tcase_add_test(api, test_wrong_method_on_runs_is_405_with_allow);
	suite_add_tcase(s, api);

	tcase_set_timeout(limits, 120);
	tcase_add_test(limits, test_paused_repo_and_target_are_409);
	tcase_add_test(limits, test_over_the_limit_is_429_with_retry_after);
	tcase_add_test(limits, test_limit_is_exact_under_concurrency);
	tcase_add_test(limits,
	    test_without_redis_limits_hold_and_gets_are_served);
	tcase_add_test(limits,
	    test_without_postgres_creates_are_503_and_cached_gets_served);
	suite_add_tcase(s, limits);

	tcase_set_timeout(files, 60);
	tcase_add_test(files, test_artifacts_are_listed_and_downloaded);
	tcase_add_test(files, test_finished_run_answers_are_the_same_each_time);
	tcase_add_test(files, test_artifact_names_that_could_escape_are_400);
	suite_add_tcase(s, files);
	return s;
}

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	client_init();
	db_url = getenv("GT_DATABASE_URL");
	redis_addr = getenv("GT_REDIS");
	if (db_url == NULL || redis_addr == NULL ||
	    strchr(redis_addr, ':') == NULL) {
		fprintf(stderr, "check_runs: GT_DATABASE_URL and GT_REDIS "
		    "must be set (t/stack-tests.sh sets them)\n");
		return 1;
	}
	sr = srunner_create(runs_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
