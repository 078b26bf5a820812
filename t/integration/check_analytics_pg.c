/*
 * check_analytics_pg.c: the PostgreSQL analytics store against a real
 * server, alone and under the use case with a fixed clock.
 *
 * The server is GT_DATABASE_URL and the migrations are in $GT_SRCDIR/sql.
 * Each test works in a scratch database of its own,
 * gt_analytics_test_<runner pid>_<test pid>, migrated with
 * migrate_apply() and dropped when the test ends (or, when it failed,
 * when the test case ends), so every figure can be asserted exactly.
 * Runs are written directly with SQL, with the times and statuses each
 * test needs; the windows are fixed dates in the past, never now.
 */
#include <config.h>

#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>
#include <libpq-fe.h>

#include "domain/arena.h"
#include "domain/timefmt.h"
#include "infra/analytics_pg.h"
#include "infra/config.h"
#include "infra/migrate.h"
#include "infra/pg.h"
#include "infra/pg_store.h"
#include "integration/scratch.h"
#include "usecase/analytics.h"

#define TIMEOUT_MS	5000

/* The store over the running test's scratch database (scratch.h). */
static struct pgconn	*pc;
static struct pg_store	*sp;
static struct analytics_store store;
static struct arena	*arena;

/* The clock of the tests that go through the use case. */
static int64_t		 clock_ms;

static int64_t
fixed_now(void)
{
	return clock_ms;
}

/* Checked fixture: a migrated scratch database and a store over it. */
static void
store_setup(void)
{
	scratch_create();

	pc = scratch_handle(scratch.url, TIMEOUT_MS);
	ck_assert_ptr_nonnull(sp = pg_store_new(pc, TIMEOUT_MS));
	analytics_pg_port(sp, &store);
	ck_assert_ptr_nonnull(arena = arena_new());
}

static void
store_teardown(void)
{
	arena_free(arena);
	pg_store_free(sp);
	pgconn_free(pc);
	scratch_drop();
}

/* ------------------------------------------------------------------ */
/* Writing runs and reading figures. */

static int64_t
at(const char *rfc3339)
{
	int64_t	 ms;

	ck_assert_msg(time_parse_rfc3339(rfc3339, &ms) == 0, "%s", rfc3339);
	return ms;
}

/*
 * Writes a run of repo created at created (RFC 3339) with status and
 * source.  wait and dur are seconds as text, NULL for none: a run with a
 * wait has started that long after its creation, and a finished one
 * ended dur seconds after it started (one second after its creation
 * when it never started).
 */
static void
add_run(const char *repo, const char *status, const char *source,
    const char *created, const char *wait, const char *dur)
{
	const char *const	 params[] = { repo, status, source, created,
	    wait, dur };

	PQclear(scratch_must_p(scratch.side,
	    "WITH t AS (SELECT $4::timestamptz AS created, "
	    "    $4::timestamptz + $5::numeric * interval '1 second' "
	    "        AS started) "
	    "INSERT INTO runs (repo, target_type, target_number, instruction, "
	    "    status, source, requester, created_at, started_at, "
	    "    finished_at, error_stage, error_message) "
	    "SELECT $1::text, 'issue', 1, 'do it', $2::text, $3::text, "
	    "    'tester', created, "
	    "    started, "
	    "    CASE WHEN $2::text IN ('succeeded', 'failed', 'cancelled') "
	    "        THEN coalesce(started + $6::numeric * "
	    "            interval '1 second', created + interval '1 second') "
	    "        END, "
	    "    CASE $2::text WHEN 'failed' THEN 'runner' "
	    "        WHEN 'cancelled' THEN 'cancelled' END, "
	    "    CASE WHEN $2::text IN ('failed', 'cancelled') THEN "
	    "        'it ended' END "
	    "FROM t", 6, params));
}

/* Adds n succeeded runs of repo created at created. */
static void
add_runs(const char *repo, int n, const char *created)
{
	int	 i;

	for (i = 0; i < n; i++)
		add_run(repo, "succeeded", "api", created, "1", "1");
}

static void
figures_ok(const char *from, const char *to, size_t top_n,
    struct analytics_figures *f)
{
	ck_assert_int_eq(store.figures(store.ctx, arena, at(from), at(to),
	    top_n, f), GT_OK);
}

static void
assert_day(const struct analytics_day *d, const char *date, int64_t total,
    int64_t succeeded, int64_t failed)
{
	ck_assert_int_eq(d->day, at(date) / ANALYTICS_DAY_MS);
	ck_assert_int_eq(d->total, total);
	ck_assert_int_eq(d->succeeded, succeeded);
	ck_assert_int_eq(d->failed, failed);
}

static void
assert_repo(const struct analytics_repo *r, const char *repo, int64_t total,
    int64_t succeeded, int64_t failed)
{
	ck_assert_str_eq(r->repo, repo);
	ck_assert_int_eq(r->total, total);
	ck_assert_int_eq(r->succeeded, succeeded);
	ck_assert_int_eq(r->failed, failed);
}

/*
 * Eight runs over three days of January 2026, of every status, with
 * durations 10 to 50 seconds (five finished runs that started) and
 * waits 2 to 12 seconds (six started runs).
 */
static void
add_fixed_set(void)
{
	add_run("octo/widgets", "succeeded", "api",
	    "2026-01-10T01:00:00.000Z", "2", "10");
	add_run("Octo/Widgets", "succeeded", "webhook",
	    "2026-01-10T02:00:00.000Z", "4", "20");
	add_run("acme/tools", "failed", "webhook",
	    "2026-01-11T03:00:00.000Z", "6", "30");
	add_run("acme/tools", "failed", "webhook",
	    "2026-01-11T04:00:00.000Z", "8", "40");
	add_run("OCTO/widgets", "cancelled", "api",
	    "2026-01-12T05:00:00.000Z", "10", "50");
	add_run("zeta/app", "cancelled", "webhook",
	    "2026-01-12T06:00:00.000Z", NULL, NULL);
	add_run("zeta/app", "running", "api",
	    "2026-01-12T07:00:00.000Z", "12", NULL);
	add_run("acme/tools", "queued", "webhook",
	    "2026-01-12T08:00:00.000Z", NULL, NULL);
}

/* ------------------------------------------------------------------ */
/* The store alone. */

START_TEST(test_every_figure_of_a_fixed_set)
{
	struct analytics_figures	 f;

	add_fixed_set();
	figures_ok("2026-01-10T00:00:00.000Z", "2026-01-12T12:00:00.000Z",
	    10, &f);

	ck_assert_int_eq(f.counts.total, 8);
	ck_assert_int_eq(f.counts.queued, 1);
	ck_assert_int_eq(f.counts.running, 1);
	ck_assert_int_eq(f.counts.succeeded, 2);
	ck_assert_int_eq(f.counts.failed, 2);
	ck_assert_int_eq(f.counts.cancelled, 2);
	ck_assert_int_eq(f.counts.api, 3);
	ck_assert_int_eq(f.counts.webhook, 5);

	/* 10, 20, 30, 40, 50: p95 at position 1 + 0.95 * 4 = 4.8. */
	ck_assert(f.durations.has);
	ck_assert_double_eq(f.durations.avg, 30.0);
	ck_assert_double_eq(f.durations.p50, 30.0);
	ck_assert_double_eq(f.durations.p95, 48.0);

	/* 2, 4, ..., 12: p95 at position 1 + 0.95 * 5 = 5.75. */
	ck_assert(f.waits.has);
	ck_assert_double_eq(f.waits.avg, 7.0);
	ck_assert_double_eq(f.waits.p95, 11.5);

	ck_assert_uint_eq(f.ndays, 3);
	assert_day(&f.days[0], "2026-01-10T00:00:00.000Z", 2, 2, 0);
	assert_day(&f.days[1], "2026-01-11T00:00:00.000Z", 2, 0, 2);
	assert_day(&f.days[2], "2026-01-12T00:00:00.000Z", 4, 0, 0);

	/* Three each: acme before octo; octo's newest run names it. */
	ck_assert_uint_eq(f.nrepos, 3);
	assert_repo(&f.repos[0], "acme/tools", 3, 0, 2);
	assert_repo(&f.repos[1], "OCTO/widgets", 3, 2, 0);
	assert_repo(&f.repos[2], "zeta/app", 2, 0, 0);
}
END_TEST

START_TEST(test_an_empty_window_has_zeros_and_no_statistics)
{
	struct analytics_figures	 f;

	add_fixed_set();
	figures_ok("2026-02-01T00:00:00.000Z", "2026-02-10T00:00:00.000Z",
	    10, &f);
	ck_assert_int_eq(f.counts.total, 0);
	ck_assert_int_eq(f.counts.succeeded, 0);
	ck_assert_int_eq(f.counts.api, 0);
	ck_assert_int_eq(f.counts.webhook, 0);
	ck_assert(!f.durations.has);
	ck_assert(!f.waits.has);
	ck_assert_uint_eq(f.ndays, 0);
	ck_assert_uint_eq(f.nrepos, 0);
}
END_TEST

START_TEST(test_runs_that_never_started_have_no_statistics)
{
	struct analytics_figures	 f;

	add_run("octo/widgets", "queued", "api", "2026-01-10T01:00:00.000Z",
	    NULL, NULL);
	add_run("octo/widgets", "cancelled", "api",
	    "2026-01-10T02:00:00.000Z", NULL, NULL);
	add_run("octo/widgets", "running", "api", "2026-01-10T03:00:00.000Z",
	    "5", NULL);
	figures_ok("2026-01-10T00:00:00.000Z", "2026-01-11T00:00:00.000Z",
	    10, &f);
	ck_assert_int_eq(f.counts.total, 3);
	ck_assert(!f.durations.has);
	ck_assert(f.waits.has);
	ck_assert_double_eq(f.waits.avg, 5.0);
	ck_assert_double_eq(f.waits.p95, 5.0);
}
END_TEST

START_TEST(test_both_ends_of_the_window_are_included)
{
	struct analytics_figures	 f;

	add_run("octo/before", "queued", "api", "2026-01-09T23:59:59.999Z",
	    NULL, NULL);
	add_run("octo/first", "queued", "api", "2026-01-10T00:00:00.000Z",
	    NULL, NULL);
	add_run("octo/last", "queued", "webhook", "2026-01-12T12:00:00.000Z",
	    NULL, NULL);
	add_run("octo/after", "queued", "api", "2026-01-12T12:00:00.001Z",
	    NULL, NULL);
	figures_ok("2026-01-10T00:00:00.000Z", "2026-01-12T12:00:00.000Z",
	    10, &f);
	ck_assert_int_eq(f.counts.total, 2);
	ck_assert_int_eq(f.counts.api, 1);
	ck_assert_int_eq(f.counts.webhook, 1);
	ck_assert_uint_eq(f.ndays, 2);
	assert_day(&f.days[0], "2026-01-10T00:00:00.000Z", 1, 0, 0);
	assert_day(&f.days[1], "2026-01-12T00:00:00.000Z", 1, 0, 0);
	ck_assert_uint_eq(f.nrepos, 2);
	assert_repo(&f.repos[0], "octo/first", 1, 0, 0);
	assert_repo(&f.repos[1], "octo/last", 1, 0, 0);
}
END_TEST

START_TEST(test_durations_keep_microseconds)
{
	struct analytics_figures	 f;

	add_run("octo/widgets", "succeeded", "api",
	    "2026-01-10T01:00:00.000Z", "0.000001", "0.000002");
	figures_ok("2026-01-10T00:00:00.000Z", "2026-01-11T00:00:00.000Z",
	    10, &f);
	ck_assert_double_eq(f.durations.avg, 0.000002);
	ck_assert_double_eq(f.durations.p50, 0.000002);
	ck_assert_double_eq(f.waits.avg, 0.000001);
}
END_TEST

START_TEST(test_top_is_limited_by_total_then_name)
{
	static const struct {
		const char	*repo;
		int		 n;
	} plan[] = {
		{ "b/two", 2 }, { "a/two", 2 }, { "c/five", 5 },
		{ "d/one", 1 }, { "E/three", 3 }, { "e/three", 1 },
		{ "f/four", 4 },
	};
	struct analytics_figures	 f;
	size_t				 i;

	for (i = 0; i < sizeof(plan) / sizeof(plan[0]); i++)
		add_runs(plan[i].repo, plan[i].n, "2026-01-10T01:00:00.000Z");
	figures_ok("2026-01-10T00:00:00.000Z", "2026-01-11T00:00:00.000Z",
	    4, &f);
	ck_assert_int_eq(f.counts.total, 18);
	ck_assert_uint_eq(f.nrepos, 4);
	assert_repo(&f.repos[0], "c/five", 5, 5, 0);
	ck_assert_int_eq(f.repos[1].total, 4);	/* e/three, two names */
	ck_assert_int_eq(f.repos[2].total, 4);
	ck_assert_str_eq(f.repos[2].repo, "f/four");
	assert_repo(&f.repos[3], "a/two", 2, 2, 0);
}
END_TEST

START_TEST(test_display_name_is_the_newest_in_the_window)
{
	struct analytics_figures	 f;

	add_runs("Octo/Widgets", 1, "2026-01-10T01:00:00.000Z");
	add_runs("octo/WIDGETS", 1, "2026-01-10T02:00:00.000Z");
	add_runs("OCTO/widgets", 1, "2026-01-11T05:00:00.000Z"); /* after */
	figures_ok("2026-01-10T00:00:00.000Z", "2026-01-10T23:59:59.999Z",
	    10, &f);
	ck_assert_uint_eq(f.nrepos, 1);
	assert_repo(&f.repos[0], "octo/WIDGETS", 2, 2, 0);
}
END_TEST

START_TEST(test_days_are_utc_whatever_the_server_time_zone)
{
	struct analytics_figures	 f;
	char				 sql[160];

	/* Set before the store's first connection, which is lazy. */
	snprintf(sql, sizeof(sql), "ALTER DATABASE %s SET TimeZone = "
	    "'Pacific/Kiritimati'", scratch.name);
	scratch_must(scratch.side, sql);
	add_runs("octo/widgets", 1, "2026-01-10T23:30:00.000Z");
	add_runs("octo/widgets", 1, "2026-01-11T00:30:00.000Z");
	figures_ok("2026-01-10T00:00:00.000Z", "2026-01-12T00:00:00.000Z",
	    10, &f);
	ck_assert_uint_eq(f.ndays, 2);
	assert_day(&f.days[0], "2026-01-10T00:00:00.000Z", 1, 1, 0);
	assert_day(&f.days[1], "2026-01-11T00:00:00.000Z", 1, 1, 0);
}
END_TEST

START_TEST(test_unreachable_server_is_unavailable)
{
	struct sockaddr_in		 sin;
	socklen_t			 len = sizeof(sin);
	struct pgconn			*down;
	struct pg_store			*dsp;
	struct analytics_store		 ds;
	struct analytics_figures	 f;
	char				 url[128];
	int				 fd;

	/* A port nothing listens on: bound, then closed. */
	ck_assert_int_ne(fd = socket(AF_INET, SOCK_STREAM, 0), -1);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	close(fd);
	snprintf(url, sizeof(url), "host=127.0.0.1 port=%d dbname=x user=x",
	    ntohs(sin.sin_port));

	down = scratch_handle(url, TIMEOUT_MS);
	ck_assert_ptr_nonnull(dsp = pg_store_new(down, TIMEOUT_MS));
	analytics_pg_port(dsp, &ds);
	ck_assert_int_eq(ds.figures(ds.ctx, arena, 0, 1, 10, &f),
	    GT_ERR_UNAVAILABLE);
	pg_store_free(dsp);
	pgconn_free(down);
}
END_TEST

START_TEST(test_a_statement_error_is_internal)
{
	struct analytics_figures	 f;

	scratch_must(scratch.side,
	    "ALTER TABLE runs RENAME COLUMN source TO origin");
	ck_assert_int_eq(store.figures(store.ctx, arena, 0, 1, 10, &f),
	    GT_ERR_INTERNAL);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Through the use case, with a fixed clock. */

static void
report_ok(int days, struct analytics_report *r)
{
	struct analytics_ports	 p;

	p.store = &store;
	p.now_ms = fixed_now;
	ck_assert_int_eq(analytics_get(&p, arena, days, r), GT_OK);
}

START_TEST(test_one_day_is_today_alone)
{
	struct analytics_report	 r;

	add_fixed_set();
	clock_ms = at("2026-01-12T12:00:00.000Z");
	report_ok(1, &r);
	ck_assert_int_eq(r.runs.total, 4);
	ck_assert_int_eq(r.runs.cancelled, 2);
	ck_assert(!r.has_success_rate);
	ck_assert(r.durations.has);
	ck_assert_double_eq(r.durations.avg, 50.0);
	ck_assert_double_eq(r.waits.avg, 11.0);
	ck_assert_double_eq(r.waits.p95, 11.9);
	assert_day(&r.per_day[0], "2026-01-12T00:00:00.000Z", 4, 0, 0);
	ck_assert_uint_eq(r.ntop_repos, 3);
	assert_repo(&r.top_repos[0], "zeta/app", 2, 0, 0);
}
END_TEST

START_TEST(test_a_year_reaches_midnight_of_its_first_day)
{
	struct analytics_report	 r;

	add_fixed_set();
	add_run("old/edge", "succeeded", "api", "2025-01-13T00:00:00.000Z",
	    "0.0005", "1.0005");
	add_run("old/outside", "failed", "api", "2025-01-12T23:59:59.999Z",
	    "1", "1");
	clock_ms = at("2026-01-12T12:00:00.000Z");
	report_ok(365, &r);
	ck_assert_int_eq(r.from_ms, at("2025-01-13T00:00:00.000Z"));
	ck_assert_int_eq(r.runs.total, 9);
	ck_assert_int_eq(r.runs.succeeded, 3);
	ck_assert_int_eq(r.runs.failed, 2);
	ck_assert_double_eq(r.success_rate, 0.6);

	/* 1.0005, 10, 20, 30, 40, 50: the average is 25.16675 s. */
	ck_assert_double_eq(r.durations.avg, 25.167);
	ck_assert_double_eq(r.durations.p50, 25.0);
	assert_day(&r.per_day[0], "2025-01-13T00:00:00.000Z", 1, 1, 0);
	assert_day(&r.per_day[362], "2026-01-10T00:00:00.000Z", 2, 2, 0);
	assert_day(&r.per_day[364], "2026-01-12T00:00:00.000Z", 4, 0, 0);
	ck_assert_int_eq(r.per_day[100].total, 0);
}
END_TEST

static Suite *
analytics_pg_suite(void)
{
	Suite	*s = suite_create("analytics_pg");
	TCase	*tc;

	tc = tcase_create("store");
	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, store_setup, store_teardown);
	tcase_add_unchecked_fixture(tc, NULL, scratch_drop_all);
	tcase_add_test(tc, test_every_figure_of_a_fixed_set);
	tcase_add_test(tc, test_an_empty_window_has_zeros_and_no_statistics);
	tcase_add_test(tc, test_runs_that_never_started_have_no_statistics);
	tcase_add_test(tc, test_both_ends_of_the_window_are_included);
	tcase_add_test(tc, test_durations_keep_microseconds);
	tcase_add_test(tc, test_top_is_limited_by_total_then_name);
	tcase_add_test(tc, test_display_name_is_the_newest_in_the_window);
	tcase_add_test(tc, test_days_are_utc_whatever_the_server_time_zone);
	tcase_add_test(tc, test_unreachable_server_is_unavailable);
	tcase_add_test(tc, test_a_statement_error_is_internal);
	suite_add_tcase(s, tc);

	tc = tcase_create("use case");
	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, store_setup, store_teardown);
	tcase_add_unchecked_fixture(tc, NULL, scratch_drop_all);
	tcase_add_test(tc, test_one_day_is_today_alone);
	tcase_add_test(tc, test_a_year_reaches_midnight_of_its_first_day);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	if (scratch_init("check_analytics_pg", "gt_analytics_test") == -1)
		return EXIT_FAILURE;

	sr = srunner_create(analytics_pg_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
