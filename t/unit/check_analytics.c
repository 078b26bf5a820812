/*
 * check_analytics.c: the analytics use case with a fake store and a
 * fixed clock.
 *
 * The fake store remembers the window and the number of repositories it
 * was asked for and answers the figures a test gave it, or a failure.
 * The clock is a variable the test sets.
 */
#include <config.h>

#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "domain/arena.h"
#include "domain/timefmt.h"
#include "usecase/analytics.h"

/* ------------------------------------------------------------------ */
/* The fakes. */

static int64_t	 clock_ms;

static int64_t
fake_now(void)
{
	return clock_ms;
}

struct fake_store {
	struct analytics_figures answer;
	enum gt_err		 fail;
	int			 calls;
	int64_t			 from_ms;
	int64_t			 to_ms;
	size_t			 top_n;
};

static struct fake_store	 fake;
static struct analytics_store	 store;
static struct analytics_ports	 ports;
static struct arena		*arena;

static enum gt_err
fake_figures(void *ctx, struct arena *a, int64_t from_ms, int64_t to_ms,
    size_t top_n, struct analytics_figures *out)
{
	struct fake_store	*f = ctx;

	(void)a;
	f->calls++;
	f->from_ms = from_ms;
	f->to_ms = to_ms;
	f->top_n = top_n;
	if (f->fail != GT_OK)
		return f->fail;
	*out = f->answer;
	return GT_OK;
}

static void
setup(void)
{
	memset(&fake, 0, sizeof(fake));
	store.ctx = &fake;
	store.figures = fake_figures;
	ports.store = &store;
	ports.now_ms = fake_now;
	clock_ms = 0;
	ck_assert_ptr_nonnull(arena = arena_new());
}

static void
teardown(void)
{
	arena_free(arena);
}

/* ------------------------------------------------------------------ */
/* Helpers. */

static int64_t
at(const char *rfc3339)
{
	int64_t	 ms;

	ck_assert_msg(time_parse_rfc3339(rfc3339, &ms) == 0, "%s", rfc3339);
	return ms;
}

static void
assert_time(int64_t ms, const char *want)
{
	char	 t[TIME_RFC3339_LEN];

	ck_assert_str_eq(time_format_rfc3339(ms, t, sizeof(t)), want);
}

/* The date of a day of per_day, "YYYY-MM-DD". */
static const char *
date_of(const struct analytics_day *d)
{
	static char	 t[TIME_RFC3339_LEN];

	time_format_rfc3339(d->day * ANALYTICS_DAY_MS, t, sizeof(t));
	t[10] = '\0';
	return t;
}

static void
report_ok(int days, struct analytics_report *r)
{
	ck_assert_int_eq(analytics_get(&ports, arena, days, r), GT_OK);
	ck_assert_int_eq(fake.calls, 1);
}

/* The report for success and failure counts alone. */
static void
report_rate(int64_t succeeded, int64_t failed, struct analytics_report *r)
{
	fake.answer.counts.succeeded = succeeded;
	fake.answer.counts.failed = failed;
	fake.answer.counts.total = succeeded + failed;
	report_ok(30, r);
}

/* ------------------------------------------------------------------ */
/* The window. */

START_TEST(test_thirty_days_end_now_and_start_at_midnight_utc)
{
	struct analytics_report	 r;

	clock_ms = at("2026-12-03T18:23:11.123Z");
	report_ok(30, &r);
	assert_time(r.from_ms, "2026-11-04T00:00:00.000Z");
	assert_time(r.to_ms, "2026-12-03T18:23:11.123Z");
	ck_assert_int_eq(r.days, 30);
	ck_assert_int_eq(fake.from_ms, r.from_ms);
	ck_assert_int_eq(fake.to_ms, r.to_ms);
	ck_assert_str_eq(date_of(&r.per_day[0]), "2026-11-04");
	ck_assert_str_eq(date_of(&r.per_day[29]), "2026-12-03");
}
END_TEST

START_TEST(test_one_day_just_after_midnight_is_today_alone)
{
	struct analytics_report	 r;

	clock_ms = at("2026-12-04T00:00:00.001Z");
	report_ok(1, &r);
	assert_time(r.from_ms, "2026-12-04T00:00:00.000Z");
	assert_time(r.to_ms, "2026-12-04T00:00:00.001Z");
	ck_assert_str_eq(date_of(&r.per_day[0]), "2026-12-04");
}
END_TEST

START_TEST(test_one_day_at_midnight_is_an_instant)
{
	struct analytics_report	 r;

	clock_ms = at("2026-12-04T00:00:00.000Z");
	report_ok(1, &r);
	ck_assert_int_eq(r.from_ms, clock_ms);
	ck_assert_int_eq(r.to_ms, clock_ms);
}
END_TEST

START_TEST(test_one_day_just_before_midnight_is_the_whole_day)
{
	struct analytics_report	 r;

	clock_ms = at("2026-12-03T23:59:59.999Z");
	report_ok(1, &r);
	assert_time(r.from_ms, "2026-12-03T00:00:00.000Z");
}
END_TEST

START_TEST(test_thirty_days_just_after_midnight)
{
	struct analytics_report	 r;

	clock_ms = at("2027-01-01T00:00:00.001Z");
	report_ok(30, &r);
	assert_time(r.from_ms, "2026-12-03T00:00:00.000Z");
	ck_assert_str_eq(date_of(&r.per_day[29]), "2027-01-01");
}
END_TEST

START_TEST(test_a_year_counts_a_leap_day_as_a_day)
{
	struct analytics_report	 r;

	clock_ms = at("2028-03-01T12:00:00.000Z");
	report_ok(365, &r);
	assert_time(r.from_ms, "2027-03-03T00:00:00.000Z");
	ck_assert_str_eq(date_of(&r.per_day[0]), "2027-03-03");
	ck_assert_str_eq(date_of(&r.per_day[363]), "2028-02-29");
	ck_assert_str_eq(date_of(&r.per_day[364]), "2028-03-01");
}
END_TEST

START_TEST(test_days_out_of_range_never_reach_the_store)
{
	static const int	 bad[] = { 0, -1, 366, 100000 };
	struct analytics_report	 r;
	size_t			 i;

	clock_ms = at("2026-12-03T18:23:11.123Z");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_int_eq(analytics_get(&ports, arena, bad[i], &r),
		    GT_ERR_INVALID);
	ck_assert_int_eq(fake.calls, 0);
}
END_TEST

START_TEST(test_ten_repositories_are_asked_for)
{
	struct analytics_report	 r;

	report_ok(7, &r);
	ck_assert_uint_eq(fake.top_n, ANALYTICS_TOP_REPOS);
	ck_assert_uint_eq(fake.top_n, 10);
}
END_TEST

/* ------------------------------------------------------------------ */
/* The days. */

START_TEST(test_every_day_is_listed_with_zeros_oldest_first)
{
	struct analytics_day	 d[2];
	struct analytics_report	 r;
	int64_t			 first;
	int			 i;

	clock_ms = at("2026-12-03T18:23:11.123Z");
	first = at("2026-11-27T00:00:00.000Z") / ANALYTICS_DAY_MS;
	d[0] = (struct analytics_day){ first + 1, 4, 3, 1 };
	d[1] = (struct analytics_day){ first + 6, 2, 0, 2 };
	fake.answer.days = d;
	fake.answer.ndays = 2;
	report_ok(7, &r);

	for (i = 0; i < 7; i++)
		ck_assert_int_eq(r.per_day[i].day, first + i);
	ck_assert_str_eq(date_of(&r.per_day[0]), "2026-11-27");
	ck_assert_int_eq(r.per_day[0].total, 0);
	ck_assert_int_eq(r.per_day[1].total, 4);
	ck_assert_int_eq(r.per_day[1].succeeded, 3);
	ck_assert_int_eq(r.per_day[1].failed, 1);
	for (i = 2; i < 6; i++)
		ck_assert_int_eq(r.per_day[i].total, 0);
	ck_assert_str_eq(date_of(&r.per_day[6]), "2026-12-03");
	ck_assert_int_eq(r.per_day[6].total, 2);
	ck_assert_int_eq(r.per_day[6].failed, 2);
}
END_TEST

START_TEST(test_a_day_outside_the_window_is_internal)
{
	struct analytics_day	 d;
	struct analytics_report	 r;
	int64_t			 today;

	clock_ms = at("2026-12-03T18:23:11.123Z");
	today = clock_ms / ANALYTICS_DAY_MS;
	fake.answer.days = &d;
	fake.answer.ndays = 1;

	d = (struct analytics_day){ today + 1, 1, 1, 0 };
	ck_assert_int_eq(analytics_get(&ports, arena, 3, &r),
	    GT_ERR_INTERNAL);
	d = (struct analytics_day){ today - 3, 1, 1, 0 };
	ck_assert_int_eq(analytics_get(&ports, arena, 3, &r),
	    GT_ERR_INTERNAL);
	d = (struct analytics_day){ today - 2, 1, 1, 0 };
	ck_assert_int_eq(analytics_get(&ports, arena, 3, &r), GT_OK);
}
END_TEST

START_TEST(test_days_out_of_order_are_internal)
{
	struct analytics_day	 d[2];
	struct analytics_report	 r;
	int64_t			 today;

	clock_ms = at("2026-12-03T18:23:11.123Z");
	today = clock_ms / ANALYTICS_DAY_MS;
	d[0] = (struct analytics_day){ today, 1, 1, 0 };
	d[1] = (struct analytics_day){ today - 1, 1, 1, 0 };
	fake.answer.days = d;
	fake.answer.ndays = 2;
	ck_assert_int_eq(analytics_get(&ports, arena, 3, &r),
	    GT_ERR_INTERNAL);
	d[1].day = today;
	ck_assert_int_eq(analytics_get(&ports, arena, 3, &r),
	    GT_ERR_INTERNAL);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Rates, statistics, repositories. */

START_TEST(test_success_rate_rounds_to_four_decimals)
{
	struct analytics_report	 r;

	report_rate(2, 1, &r);
	ck_assert(r.has_success_rate);
	ck_assert_double_eq(r.success_rate, 0.6667);
}
END_TEST

START_TEST(test_success_rate_rounds_a_half_up)
{
	struct analytics_report	 r;

	report_rate(1, 31, &r);		/* 0.03125 */
	ck_assert_double_eq(r.success_rate, 0.0313);
}
END_TEST

START_TEST(test_success_rate_of_the_contract_example)
{
	struct analytics_report	 r;

	report_rate(100, 15, &r);	/* 0.869565... */
	ck_assert_double_eq(r.success_rate, 0.8696);
}
END_TEST

START_TEST(test_success_rate_ignores_other_statuses)
{
	struct analytics_report	 r;

	fake.answer.counts.queued = 5;
	fake.answer.counts.running = 2;
	fake.answer.counts.cancelled = 9;
	report_rate(3, 1, &r);
	ck_assert_double_eq(r.success_rate, 0.75);
	ck_assert_int_eq(r.runs.queued, 5);
	ck_assert_int_eq(r.runs.running, 2);
	ck_assert_int_eq(r.runs.cancelled, 9);
}
END_TEST

START_TEST(test_success_rate_is_none_without_finished_outcomes)
{
	struct analytics_report	 r;

	fake.answer.counts.cancelled = 3;
	report_rate(0, 0, &r);
	ck_assert(!r.has_success_rate);
}
END_TEST

START_TEST(test_success_rate_is_zero_when_all_failed)
{
	struct analytics_report	 r;

	report_rate(0, 7, &r);
	ck_assert(r.has_success_rate);
	ck_assert_double_eq(r.success_rate, 0.0);
}
END_TEST

START_TEST(test_seconds_round_to_milliseconds)
{
	struct analytics_report	 r;

	fake.answer.durations = (struct analytics_durations){ 1, 312.4004,
	    250.0005, 901.19951 };
	fake.answer.waits = (struct analytics_waits){ 1, 3.0999999,
	    0.0004999 };
	report_ok(30, &r);
	ck_assert(r.durations.has);
	ck_assert_double_eq(r.durations.avg, 312.4);
	ck_assert_double_eq(r.durations.p50, 250.001);
	ck_assert_double_eq(r.durations.p95, 901.2);
	ck_assert(r.waits.has);
	ck_assert_double_eq(r.waits.avg, 3.1);
	ck_assert_double_eq(r.waits.p95, 0.0);
}
END_TEST

START_TEST(test_whole_and_large_seconds_stay_as_they_are)
{
	struct analytics_report	 r;

	fake.answer.durations = (struct analytics_durations){ 1, 7.0, 1e12,
	    1e300 };
	report_ok(30, &r);
	ck_assert_double_eq(r.durations.avg, 7.0);
	ck_assert_double_eq(r.durations.p50, 1e12);
	ck_assert_double_eq(r.durations.p95, 1e300);
}
END_TEST

START_TEST(test_statistics_over_no_runs_are_none)
{
	struct analytics_report	 r;

	fake.answer.counts.total = 2;
	fake.answer.counts.queued = 2;
	report_ok(30, &r);
	ck_assert(!r.durations.has);
	ck_assert(!r.waits.has);
	ck_assert(!r.has_success_rate);
	ck_assert_int_eq(r.runs.total, 2);
}
END_TEST

START_TEST(test_counts_and_sources_pass_through)
{
	struct analytics_report	 r;

	fake.answer.counts = (struct analytics_counts){ 120, 1, 2, 100, 15,
	    2, 20, 100 };
	report_ok(30, &r);
	ck_assert_int_eq(r.runs.total, 120);
	ck_assert_int_eq(r.runs.succeeded, 100);
	ck_assert_int_eq(r.runs.failed, 15);
	ck_assert_int_eq(r.runs.api, 20);
	ck_assert_int_eq(r.runs.webhook, 100);
}
END_TEST

START_TEST(test_top_repositories_pass_through_in_order)
{
	struct analytics_repo	 repos[2] = {
		{ "octo/widgets", 40, 35, 5 },
		{ "Octo/Gadgets", 7, 1, 6 },
	};
	struct analytics_report	 r;

	fake.answer.repos = repos;
	fake.answer.nrepos = 2;
	report_ok(30, &r);
	ck_assert_uint_eq(r.ntop_repos, 2);
	ck_assert_str_eq(r.top_repos[0].repo, "octo/widgets");
	ck_assert_int_eq(r.top_repos[0].total, 40);
	ck_assert_str_eq(r.top_repos[1].repo, "Octo/Gadgets");
	ck_assert_int_eq(r.top_repos[1].failed, 6);
}
END_TEST

START_TEST(test_more_repositories_than_asked_is_internal)
{
	struct analytics_repo	 repos[ANALYTICS_TOP_REPOS + 1];
	struct analytics_report	 r;

	memset(repos, 0, sizeof(repos));
	fake.answer.repos = repos;
	fake.answer.nrepos = ANALYTICS_TOP_REPOS + 1;
	ck_assert_int_eq(analytics_get(&ports, arena, 30, &r),
	    GT_ERR_INTERNAL);
}
END_TEST

START_TEST(test_store_failure_is_passed_on)
{
	struct analytics_report	 r;

	fake.fail = GT_ERR_UNAVAILABLE;
	ck_assert_int_eq(analytics_get(&ports, arena, 30, &r),
	    GT_ERR_UNAVAILABLE);
	fake.fail = GT_ERR_INTERNAL;
	ck_assert_int_eq(analytics_get(&ports, arena, 30, &r),
	    GT_ERR_INTERNAL);
}
END_TEST

static Suite *
analytics_suite(void)
{
	Suite	*s = suite_create("analytics");
	TCase	*tc;

	tc = tcase_create("window");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_thirty_days_end_now_and_start_at_midnight_utc);
	tcase_add_test(tc, test_one_day_just_after_midnight_is_today_alone);
	tcase_add_test(tc, test_one_day_at_midnight_is_an_instant);
	tcase_add_test(tc, test_one_day_just_before_midnight_is_the_whole_day);
	tcase_add_test(tc, test_thirty_days_just_after_midnight);
	tcase_add_test(tc, test_a_year_counts_a_leap_day_as_a_day);
	tcase_add_test(tc, test_days_out_of_range_never_reach_the_store);
	tcase_add_test(tc, test_ten_repositories_are_asked_for);
	suite_add_tcase(s, tc);

	tc = tcase_create("days");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_every_day_is_listed_with_zeros_oldest_first);
	tcase_add_test(tc, test_a_day_outside_the_window_is_internal);
	tcase_add_test(tc, test_days_out_of_order_are_internal);
	suite_add_tcase(s, tc);

	tc = tcase_create("figures");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_success_rate_rounds_to_four_decimals);
	tcase_add_test(tc, test_success_rate_rounds_a_half_up);
	tcase_add_test(tc, test_success_rate_of_the_contract_example);
	tcase_add_test(tc, test_success_rate_ignores_other_statuses);
	tcase_add_test(tc, test_success_rate_is_none_without_finished_outcomes);
	tcase_add_test(tc, test_success_rate_is_zero_when_all_failed);
	tcase_add_test(tc, test_seconds_round_to_milliseconds);
	tcase_add_test(tc, test_whole_and_large_seconds_stay_as_they_are);
	tcase_add_test(tc, test_statistics_over_no_runs_are_none);
	tcase_add_test(tc, test_counts_and_sources_pass_through);
	tcase_add_test(tc, test_top_repositories_pass_through_in_order);
	tcase_add_test(tc, test_more_repositories_than_asked_is_internal);
	tcase_add_test(tc, test_store_failure_is_passed_on);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	sr = srunner_create(analytics_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
