/*
 * check_health.c: what the health check concludes from its dependencies.
 *
 * The ports are fakes that answer as told and remember how they were
 * asked, so each outcome is reached without a database or a cache.
 */
#include <config.h>

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "usecase/health.h"

/* One fake dependency: its answer, and the calls it received. */
struct fake_dep {
	int	 rc;
	int	 calls;
	int	 timeout_ms;
	void	*ctx;
};

static struct {
	struct fake_dep	 db;
	struct fake_dep	 cache;
} fakes;

static int
fake_ping(struct fake_dep *d, void *ctx, int timeout_ms)
{
	d->calls++;
	d->timeout_ms = timeout_ms;
	d->ctx = ctx;
	return d->rc;
}

static int
fake_db_ping(void *ctx, int timeout_ms)
{
	return fake_ping(&fakes.db, ctx, timeout_ms);
}

static int
fake_cache_ping(void *ctx, int timeout_ms)
{
	return fake_ping(&fakes.cache, ctx, timeout_ms);
}

static const struct health_ports ports = {
	&fakes, fake_db_ping, fake_cache_ping
};

static void
setup(void)
{
	memset(&fakes, 0, sizeof(fakes));
}

/* Runs the check with the given answers; fills rep, returns its status. */
static enum health_status
check(int db_rc, int cache_rc, struct health_report *rep)
{
	enum health_status	 st;

	fakes.db.rc = db_rc;
	fakes.cache.rc = cache_rc;
	memset(rep, 0xa5, sizeof(*rep));
	st = health_check(&ports, 500, rep);
	ck_assert_int_eq(st, rep->status);
	return st;
}

START_TEST(everything_up_is_ok)
{
	struct health_report	 rep;

	ck_assert_int_eq(check(0, 0, &rep), HEALTH_OK);
	ck_assert_int_eq(rep.db_up, 1);
	ck_assert_int_eq(rep.cache_up, 1);
}
END_TEST

START_TEST(cache_down_is_degraded)
{
	struct health_report	 rep;

	ck_assert_int_eq(check(0, -1, &rep), HEALTH_DEGRADED);
	ck_assert_int_eq(rep.db_up, 1);
	ck_assert_int_eq(rep.cache_up, 0);
}
END_TEST

START_TEST(database_down_is_unavailable)
{
	struct health_report	 rep;

	ck_assert_int_eq(check(-1, 0, &rep), HEALTH_UNAVAILABLE);
	ck_assert_int_eq(rep.db_up, 0);
	ck_assert_int_eq(rep.cache_up, 1);
}
END_TEST

START_TEST(both_down_is_unavailable)
{
	struct health_report	 rep;

	ck_assert_int_eq(check(-1, -1, &rep), HEALTH_UNAVAILABLE);
	ck_assert_int_eq(rep.db_up, 0);
	ck_assert_int_eq(rep.cache_up, 0);
}
END_TEST

START_TEST(cache_is_asked_when_database_is_down)
{
	struct health_report	 rep;

	(void)check(-1, 0, &rep);
	ck_assert_int_eq(fakes.db.calls, 1);
	ck_assert_int_eq(fakes.cache.calls, 1);
}
END_TEST

START_TEST(each_port_is_asked_once)
{
	struct health_report	 rep;

	(void)check(0, 0, &rep);
	ck_assert_int_eq(fakes.db.calls, 1);
	ck_assert_int_eq(fakes.cache.calls, 1);
}
END_TEST

START_TEST(timeout_reaches_each_port)
{
	struct health_report	 rep;

	(void)health_check(&ports, 250, &rep);
	ck_assert_int_eq(fakes.db.timeout_ms, 250);
	ck_assert_int_eq(fakes.cache.timeout_ms, 250);

	(void)health_check(&ports, 1, &rep);
	ck_assert_int_eq(fakes.db.timeout_ms, 1);
	ck_assert_int_eq(fakes.cache.timeout_ms, 1);
}
END_TEST

START_TEST(context_reaches_each_port)
{
	struct health_report	 rep;

	(void)check(0, 0, &rep);
	ck_assert_ptr_eq(fakes.db.ctx, &fakes);
	ck_assert_ptr_eq(fakes.cache.ctx, &fakes);
}
END_TEST

static Suite *
health_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("health");

	tc = tcase_create("status");
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, everything_up_is_ok);
	tcase_add_test(tc, cache_down_is_degraded);
	tcase_add_test(tc, database_down_is_unavailable);
	tcase_add_test(tc, both_down_is_unavailable);
	suite_add_tcase(s, tc);

	tc = tcase_create("ports");
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, cache_is_asked_when_database_is_down);
	tcase_add_test(tc, each_port_is_asked_once);
	tcase_add_test(tc, timeout_reaches_each_port);
	tcase_add_test(tc, context_reaches_each_port);
	suite_add_tcase(s, tc);

	return s;
}

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	sr = srunner_create(health_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
