/*
 * check_analytics.c: GET /api/analytics end to end, through the real
 * nginx.
 *
 * The stack's database is shared with the other tests and a window always
 * ends now, so this program never assumes what the database holds: it
 * reads the route, writes runs of its own directly in PostgreSQL (with
 * the statuses, sources and ages it needs, under repositories named
 * after this process), reads the route again, and asserts the exact
 * difference.  Its repositories get more runs than any repository the
 * first reading showed, so they lead top_repos.  The exact statistics are
 * t/integration/check_analytics_pg.c's, on a database of its own; here
 * they are checked for their types and for agreeing with the counts.
 *
 * Queued and running runs written here are cancelled when the tests end,
 * so that no dispatcher started later picks them up.
 */
#include <config.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <check.h>
#include <libpq-fe.h>

#include "e2e/client.h"

#define DAY_S		86400
#define DELTA_DAYS	7
#define ATTEMPTS	3	/* a window moving at midnight: read again */

static const char	*db_url;

/* This program's pid, in the names of the repositories it writes. */
static long		 runner_pid;

/* ------------------------------------------------------------------ */
/* Reading the route. */

/* GET /api/analytics with query (or ""), which must answer 200. */
static json_object *
analytics(const char *query)
{
	struct answer	 a;
	json_object	*o;
	char		 path[256];

	snprintf(path, sizeof(path), "/api/analytics%s", query);
	http_as(client_operator_token, "GET", path, NULL, NULL, &a);
	ck_assert_msg(a.status == 200, "%s: %ld %s", path, a.status, a.body);
	ck_assert_pstr_eq(answer_header(&a, "Content-Type"),
	    "application/json; charset=utf-8");
	ck_assert_pstr_eq(answer_header(&a, "Cache-Control"), "no-store");
	ck_assert_ptr_nonnull(answer_header(&a, "X-Request-Id"));
	o = answer_json(&a);
	answer_free(&a);
	return o;
}

/* The member key of o, which must be present; *v is NULL for null. */
static json_object *
member(json_object *o, const char *key)
{
	json_object	*v = NULL;

	ck_assert_msg(json_object_object_get_ex(o, key, &v), "no %s in %s",
	    key, json_object_to_json_string(o));
	return v;
}

static int64_t
int_member(json_object *o, const char *key)
{
	json_object	*v = member(o, key);

	ck_assert_msg(v != NULL && json_object_is_type(v, json_type_int),
	    "%s is not an integer in %s", key, json_object_to_json_string(o));
	ck_assert_int_ge(json_object_get_int64(v), 0);
	return json_object_get_int64(v);
}

/* A number or null: 1 and *out for a number, 0 for null. */
static int
number_member(json_object *o, const char *key, double *out)
{
	json_object	*v = member(o, key);

	if (v == NULL)
		return 0;
	ck_assert_msg(json_object_is_type(v, json_type_double) ||
	    json_object_is_type(v, json_type_int), "%s is not a number in %s",
	    key, json_object_to_json_string(o));
	*out = json_object_get_double(v);
	ck_assert(*out >= 0);
	return 1;
}

static const char *
string_member(json_object *o, const char *key)
{
	json_object	*v = member(o, key);

	ck_assert_msg(v != NULL && json_object_is_type(v, json_type_string),
	    "%s is not a string", key);
	return json_object_get_string(v);
}

/* Seconds since the epoch of "YYYY-MM-DD" at 00:00 UTC. */
static time_t
date_s(const char *date)
{
	struct tm	 tm;
	char		*end;

	memset(&tm, 0, sizeof(tm));
	end = strptime(date, "%Y-%m-%d", &tm);
	ck_assert_msg(end != NULL && *end == '\0', "bad date %s", date);
	return timegm(&tm);
}

static int
is_rfc3339_ms(const char *s)
{
	struct tm	 tm;
	const char	*end;

	memset(&tm, 0, sizeof(tm));
	end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	return strlen(s) == 24 && end == s + 19 && s[19] == '.' &&
	    s[23] == 'Z';
}

/* The array member key of o, of n entries. */
static json_object *
array_member(json_object *o, const char *key, size_t *n)
{
	json_object	*v = member(o, key);

	ck_assert_msg(v != NULL && json_object_is_type(v, json_type_array),
	    "%s is not an array", key);
	*n = json_object_array_length(v);
	return v;
}

/*
 * Asserts everything the contract says of an answer for days: the
 * window, the types, one day per day of the window, and that the parts
 * agree with each other (one snapshot).
 */
static void
assert_shape(json_object *o, int64_t days)
{
	static const char *const statuses[] = { "queued", "running",
	    "succeeded", "failed", "cancelled" };
	json_object	*win, *runs, *dur, *wait, *per_day, *top, *src, *e;
	const char	*from, *to, *date = NULL;
	time_t		 prev = 0;
	double		 d;
	int64_t		 total, sum = 0, s, f;
	size_t		 i, n;

	win = member(o, "window");
	from = string_member(win, "from");
	to = string_member(win, "to");
	ck_assert(is_rfc3339_ms(from) && is_rfc3339_ms(to));
	ck_assert_msg(strcmp(from + 10, "T00:00:00.000Z") == 0, "%s", from);
	ck_assert_int_eq(int_member(win, "days"), days);

	runs = member(o, "runs");
	total = int_member(runs, "total");
	for (i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++)
		sum += int_member(runs, statuses[i]);
	ck_assert_int_eq(sum, total);

	s = int_member(runs, "succeeded");
	f = int_member(runs, "failed");
	if (number_member(o, "success_rate", &d)) {
		ck_assert_int_gt(s + f, 0);
		ck_assert_double_eq_tol(d, (double)((s * 20000 + s + f) /
		    (2 * (s + f))) / 10000.0, 1e-12);
	} else
		ck_assert_int_eq(s + f, 0);

	dur = member(o, "duration_seconds");
	number_member(dur, "avg", &d);
	number_member(dur, "p50", &d);
	number_member(dur, "p95", &d);
	wait = member(o, "queue_wait_seconds");
	number_member(wait, "avg", &d);
	number_member(wait, "p95", &d);
	ck_assert_int_eq(json_object_object_length(dur), 3);
	ck_assert_int_eq(json_object_object_length(wait), 2);

	/* Every day, oldest first, from the window's first to today's. */
	per_day = array_member(o, "per_day", &n);
	ck_assert_int_eq((int64_t)n, days);
	sum = 0;
	for (i = 0; i < n; i++) {
		e = json_object_array_get_idx(per_day, i);
		date = string_member(e, "date");
		ck_assert_uint_eq(strlen(date), 10);
		if (i == 0)
			ck_assert_int_eq(strncmp(date, from, 10), 0);
		else
			ck_assert_int_eq(date_s(date), prev + DAY_S);
		prev = date_s(date);
		sum += int_member(e, "total");
		ck_assert_int_ge(int_member(e, "total"),
		    int_member(e, "succeeded") + int_member(e, "failed"));
	}
	ck_assert_int_eq(strncmp(date, to, 10), 0);
	ck_assert_int_eq(sum, total);

	top = array_member(o, "top_repos", &n);
	ck_assert_uint_le(n, 10);
	for (i = 0; i < n; i++) {
		e = json_object_array_get_idx(top, i);
		string_member(e, "repo");
		ck_assert_int_ge(int_member(e, "total"),
		    int_member(e, "succeeded") + int_member(e, "failed"));
		if (i > 0)
			ck_assert_int_le(int_member(e, "total"),
			    int_member(json_object_array_get_idx(top, i - 1),
			    "total"));
	}

	src = member(o, "sources");
	ck_assert_int_eq(json_object_object_length(src), 2);
	ck_assert_int_eq(int_member(src, "api") + int_member(src, "webhook"),
	    total);
}

/* ------------------------------------------------------------------ */
/* Writing runs. */

/* Runs sql with n parameters on the stack's database; it must succeed. */
static PGresult *
db_exec(const char *sql, int n, const char *const *params)
{
	PGconn		*c = PQconnectdb(db_url);
	PGresult	*res;

	ck_assert_msg(PQstatus(c) == CONNECTION_OK, "%s", PQerrorMessage(c));
	res = PQexecParams(c, sql, n, NULL, params, NULL, NULL, 0);
	ck_assert_msg(PQresultStatus(res) == PGRES_COMMAND_OK ||
	    PQresultStatus(res) == PGRES_TUPLES_OK, "%s: %s", sql,
	    PQresultErrorMessage(res));
	PQfinish(c);
	return res;
}

/*
 * n runs of repo with status and source, created age ago (an interval),
 * in one statement.  A run that is not queued started 5 seconds after
 * its creation; a finished one ended 30 seconds after that.  Their date
 * (UTC) goes to date.
 */
static void
add_runs(const char *repo, const char *status, const char *source, int n,
    const char *age, char *date)
{
	char		 count[16];
	const char	*params[] = { repo, status, source, count, age };
	PGresult	*res;

	snprintf(count, sizeof(count), "%d", n);
	res = db_exec(
	    "INSERT INTO runs (repo, target_type, target_number, instruction, "
	    "    status, source, requester, created_at, started_at, "
	    "    finished_at, error_stage, error_message) "
	    "SELECT $1::text, 'issue', g.i, 'analytics end to end', $2::text, "
	    "    $3::text, 'e2e', c, s, "
	    "    CASE WHEN $2::text IN ('succeeded', 'failed', 'cancelled') "
	    "        THEN s + interval '30 seconds' END, "
	    "    CASE $2::text WHEN 'failed' THEN 'runner' "
	    "        WHEN 'cancelled' THEN 'cancelled' END, "
	    "    CASE WHEN $2::text IN ('failed', 'cancelled') THEN "
	    "        'written by the analytics test' END "
	    "FROM generate_series(1, $4::integer) AS g (i), "
	    "    LATERAL (SELECT now() - $5::interval AS c) AS t, "
	    "    LATERAL (SELECT CASE WHEN $2::text <> 'queued' THEN "
	    "        c + interval '5 seconds' END AS s) AS u "
	    "RETURNING to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')",
	    5, params);
	ck_assert_int_eq(PQntuples(res), n);
	snprintf(date, 11, "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
}

/* Cancels the queued and running runs this process wrote. */
static void
cancel_leftovers(void)
{
	char		 like[64];
	const char	*params[] = { like };

	snprintf(like, sizeof(like), "an-%ld-%%", runner_pid);
	PQclear(db_exec("UPDATE runs SET status = 'cancelled', "
	    "finished_at = now(), error_stage = 'cancelled', "
	    "error_message = 'cancelled by the analytics test' "
	    "WHERE repo_key LIKE $1::text AND "
	    "status IN ('queued', 'running')", 1, params));
}

/* ------------------------------------------------------------------ */
/* Differences. */

/* What a day of per_day should have gained. */
struct day_delta {
	char	 date[11];
	int64_t	 total;
	int64_t	 succeeded;
	int64_t	 failed;
};

#define MAX_DELTAS	8

/* Adds n runs of status on date to the deltas. */
static void
expect_day(struct day_delta *d, size_t *nd, const char *date, int n,
    const char *status)
{
	size_t	 i;

	for (i = 0; i < *nd && strcmp(d[i].date, date) != 0; i++)
		;
	if (i == *nd) {
		ck_assert_uint_lt(*nd, MAX_DELTAS);
		memset(&d[i], 0, sizeof(d[i]));
		snprintf(d[i].date, sizeof(d[i].date), "%s", date);
		(*nd)++;
	}
	d[i].total += n;
	if (strcmp(status, "succeeded") == 0)
		d[i].succeeded += n;
	if (strcmp(status, "failed") == 0)
		d[i].failed += n;
}

/* The entry of per_day for date, which must be there. */
static json_object *
day_of(json_object *o, const char *date)
{
	json_object	*per_day, *e;
	size_t		 i, n;

	per_day = array_member(o, "per_day", &n);
	for (i = 0; i < n; i++) {
		e = json_object_array_get_idx(per_day, i);
		if (strcmp(string_member(e, "date"), date) == 0)
			return e;
	}
	ck_abort_msg("no day %s in per_day", date);
	return NULL;
}

/* Asserts member key of the object at path grew by exactly want. */
static void
assert_grew(json_object *before, json_object *after, const char *path,
    const char *key, int64_t want)
{
	json_object	*b = json_at(before, path);
	json_object	*a = json_at(after, path);

	ck_assert_ptr_nonnull(b);
	ck_assert_ptr_nonnull(a);
	ck_assert_msg(int_member(a, key) - int_member(b, key) == want,
	    "%s.%s grew by %lld, want %lld", path, key,
	    (long long)(int_member(a, key) - int_member(b, key)),
	    (long long)want);
}

static void
assert_repo(json_object *o, size_t i, const char *repo, int64_t total,
    int64_t succeeded, int64_t failed)
{
	json_object	*e;
	size_t		 n;

	e = json_object_array_get_idx(array_member(o, "top_repos", &n), i);
	ck_assert_msg(e != NULL, "top_repos has %zu entries", n);
	ck_assert_str_eq(string_member(e, "repo"), repo);
	ck_assert_int_eq(int_member(e, "total"), total);
	ck_assert_int_eq(int_member(e, "succeeded"), succeeded);
	ck_assert_int_eq(int_member(e, "failed"), failed);
}

/* The most runs any repository has in o's window. */
static int64_t
busiest(json_object *o)
{
	json_object	*top;
	size_t		 n;

	top = array_member(o, "top_repos", &n);
	return n == 0 ? 0 :
	    int_member(json_object_array_get_idx(top, 0), "total");
}

/* ------------------------------------------------------------------ */
/* The tests. */

START_TEST(test_without_a_valid_token_is_401)
{
	struct answer	 a;

	http_request("GET", "/api/analytics", NULL, 0, NULL, &a);
	assert_error(&a, 401, "unauthorized");
	ck_assert_pstr_eq(answer_header(&a, "WWW-Authenticate"), "Bearer");
	answer_free(&a);

	http_as("not-a-token", "GET", "/api/analytics?days=7", NULL, NULL,
	    &a);
	assert_error(&a, 401, "unauthorized");
	answer_free(&a);
}
END_TEST

START_TEST(test_malformed_days_are_invalid_parameter)
{
	static const char *const bad[] = {
		"days=0", "days=366", "days=abc", "days=", "days=-1",
		"days=1.5", "days=%2B5", "days=30x", "days=%2030",
		"days=1&days=1", "days=99999999999999999999",
	};
	struct answer	 a;
	char		 path[128];
	size_t		 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(path, sizeof(path), "/api/analytics?%s", bad[i]);
		http_as(client_operator_token, "GET", path, NULL, NULL, &a);
		assert_error(&a, 400, "invalid_parameter");
		answer_free(&a);
	}
}
END_TEST

START_TEST(test_default_window_is_thirty_days)
{
	json_object	*o = analytics("");

	assert_shape(o, 30);
	json_object_put(o);
}
END_TEST

START_TEST(test_one_day_and_a_year_have_a_day_each)
{
	json_object	*o;

	o = analytics("?days=1");
	assert_shape(o, 1);
	json_object_put(o);

	o = analytics("?days=365");
	assert_shape(o, 365);
	json_object_put(o);

	o = analytics("?days=7&unknown=1");
	assert_shape(o, 7);
	json_object_put(o);
}
END_TEST

START_TEST(test_an_admin_token_may_read_it)
{
	struct answer	 a;

	http_as(client_admin_token, "GET", "/api/analytics?days=2", NULL, NULL,
	    &a);
	ck_assert_int_eq(a.status, 200);
	answer_free(&a);
}
END_TEST

/*
 * Writes runs of two repositories of this process and asserts the
 * figures grew by exactly them.  Alpha: base - 3 succeeded (api, ten
 * minutes ago, named "An-…/Alpha") and 5 failed two days ago under the
 * lower-case name; Beta (webhook): base - 9 failed a day ago, 5
 * cancelled three days ago, 3 running and 2 queued.  base is above every
 * repository's total before, so Alpha (base + 2) and Beta (base + 1)
 * lead top_repos.
 */
static int
written_runs_round(int attempt)
{
	struct day_delta	 days[MAX_DELTAS];
	json_object		*before, *after;
	char			 alpha[64], alpha_old[64], beta[64];
	char			 date[11];
	char			 query[32];
	int64_t			 base;
	size_t			 nd = 0, i;
	int			 moved;

	snprintf(query, sizeof(query), "?days=%d", DELTA_DAYS);
	before = analytics(query);
	base = busiest(before) > 30 ? busiest(before) : 30;
	snprintf(alpha, sizeof(alpha), "An-%ld-%d/Alpha", runner_pid,
	    attempt);
	snprintf(alpha_old, sizeof(alpha_old), "an-%ld-%d/alpha",
	    runner_pid, attempt);
	snprintf(beta, sizeof(beta), "An-%ld-%d/Beta", runner_pid,
	    attempt);

	add_runs(alpha_old, "failed", "api", 5, "2 days", date);
	expect_day(days, &nd, date, 5, "failed");
	add_runs(alpha, "succeeded", "api", (int)base - 3, "10 minutes", date);
	expect_day(days, &nd, date, (int)base - 3, "succeeded");
	add_runs(beta, "failed", "webhook", (int)base - 9, "1 day", date);
	expect_day(days, &nd, date, (int)base - 9, "failed");
	add_runs(beta, "cancelled", "webhook", 5, "3 days", date);
	expect_day(days, &nd, date, 5, "cancelled");
	add_runs(beta, "running", "webhook", 3, "20 minutes", date);
	expect_day(days, &nd, date, 3, "running");
	add_runs(beta, "queued", "webhook", 2, "30 minutes", date);
	expect_day(days, &nd, date, 2, "queued");
	after = analytics(query);

	/* Midnight passed between the two readings: nothing compares. */
	moved = strcmp(json_str_at(before, "window.from"),
	    json_str_at(after, "window.from")) != 0;
	if (!moved) {
		assert_shape(after, DELTA_DAYS);
		assert_grew(before, after, "runs", "total", 2 * base + 3);
		assert_grew(before, after, "runs", "queued", 2);
		assert_grew(before, after, "runs", "running", 3);
		assert_grew(before, after, "runs", "succeeded", base - 3);
		assert_grew(before, after, "runs", "failed", base - 4);
		assert_grew(before, after, "runs", "cancelled", 5);
		assert_grew(before, after, "sources", "api", base + 2);
		assert_grew(before, after, "sources", "webhook", base + 1);
		for (i = 0; i < nd; i++) {
			ck_assert_int_eq(int_member(day_of(after,
			    days[i].date), "total") - int_member(day_of(before,
			    days[i].date), "total"), days[i].total);
			ck_assert_int_eq(int_member(day_of(after,
			    days[i].date), "succeeded") -
			    int_member(day_of(before, days[i].date),
			    "succeeded"), days[i].succeeded);
			ck_assert_int_eq(int_member(day_of(after,
			    days[i].date), "failed") - int_member(day_of(before,
			    days[i].date), "failed"), days[i].failed);
		}
		assert_repo(after, 0, alpha, base + 2, base - 3, 5);
		assert_repo(after, 1, beta, base + 1, 0, base - 9);
		ck_assert_ptr_nonnull(json_at(after, "duration_seconds.p95"));
		ck_assert_ptr_nonnull(json_at(after, "queue_wait_seconds.p95"));
	}
	json_object_put(before);
	json_object_put(after);
	return moved ? -1 : 0;
}

START_TEST(test_written_runs_change_the_figures_by_exactly_themselves)
{
	int	 attempt;

	for (attempt = 1; attempt <= ATTEMPTS; attempt++)
		if (written_runs_round(attempt) == 0)
			return;
	ck_abort_msg("the window moved during every attempt");
}
END_TEST

static Suite *
analytics_suite(void)
{
	Suite	*s = suite_create("analytics");
	TCase	*tc = tcase_create("route");

	tcase_set_timeout(tc, 60);
	tcase_add_unchecked_fixture(tc, NULL, cancel_leftovers);
	tcase_add_test(tc, test_without_a_valid_token_is_401);
	tcase_add_test(tc, test_malformed_days_are_invalid_parameter);
	tcase_add_test(tc, test_default_window_is_thirty_days);
	tcase_add_test(tc, test_one_day_and_a_year_have_a_day_each);
	tcase_add_test(tc, test_an_admin_token_may_read_it);
	tcase_add_test(tc,
	    test_written_runs_change_the_figures_by_exactly_themselves);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	client_init();
	runner_pid = (long)getpid();
	db_url = getenv("GT_DATABASE_URL");
	if (db_url == NULL || *db_url == '\0') {
		fprintf(stderr, "check_analytics: GT_DATABASE_URL must be set "
		    "(t/stack-tests.sh sets it)\n");
		return 1;
	}
	sr = srunner_create(analytics_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
