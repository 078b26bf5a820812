/*
 * check_github_quota.c: the GitHub quota shared through Redis, against a
 * real server.
 *
 * The server is GT_REDIS (HOST:PORT); without it the test fails.  The key
 * is the one the service uses (there is one quota), so each test sets it
 * as it needs and deletes it when done; the stack tests run one program
 * at a time.
 */
#include <config.h>

#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <check.h>
#include <hiredis/hiredis.h>

#include "infra/config.h"
#include "infra/github_quota_redis.h"
#include "infra/redis.h"
#include "usecase/gauges.h"

#define TIMEOUT_MS	1000
#define UNREACHABLE	"127.0.0.1:1"	/* nothing listens on port 1 */

static const char	*redis_addr;
static struct rconn	*rc;
static struct gauge_ports ports;

static struct rconn *
handle(const char *addr)
{
	struct config	 cfg;
	struct rconn	*h;

	memset(&cfg, 0, sizeof(cfg));
	cfg.redis = (char *)(uintptr_t)addr;
	cfg.redis_connect_timeout_ms = TIMEOUT_MS;
	cfg.redis_command_timeout_ms = TIMEOUT_MS;
	ck_assert_ptr_nonnull(h = rconn_new(&cfg));
	return h;
}

/* Sends the words of a command; the caller frees the reply. */
static redisReply *
command(const char *a0, const char *a1, const char *a2)
{
	const char	*argv[] = { a0, a1, a2 };
	size_t		 len[3];
	int		 argc = a2 != NULL ? 3 : 2, i;
	redisReply	*r;

	for (i = 0; i < argc; i++)
		len[i] = strlen(argv[i]);
	ck_assert_ptr_nonnull(r = rconn_command(rc, argc, argv, len));
	ck_assert_int_ne(r->type, REDIS_REPLY_ERROR);
	return r;
}

static long long
ttl(void)
{
	redisReply	*r = command("TTL", GITHUB_QUOTA_KEY, NULL);
	long long	 n;

	ck_assert_int_eq(r->type, REDIS_REPLY_INTEGER);
	n = r->integer;
	freeReplyObject(r);
	return n;
}

static void
drop(void)
{
	freeReplyObject(command("DEL", GITHUB_QUOTA_KEY, NULL));
}

static enum gt_err
read_quota(struct github_quota *q)
{
	memset(q, 0xa5, sizeof(*q));
	return ports.github_quota(ports.cache_ctx, TIMEOUT_MS, q);
}

static void
setup(void)
{
	rc = handle(redis_addr);
	memset(&ports, 0, sizeof(ports));
	github_quota_redis_port(rc, &ports);
	ck_assert_ptr_eq(ports.cache_ctx, rc);
	drop();
}

static void
teardown(void)
{
	drop();
	rconn_free(rc);
}

START_TEST(recorded_quota_is_read_back_until_the_reset)
{
	struct github_quota	 q;
	int64_t			 now = time(NULL);

	github_quota_record(rc, 4999, now + 1200, now);
	ck_assert_int_eq(read_quota(&q), GT_OK);
	ck_assert_int_eq(q.remaining, 4999);
	ck_assert_int_eq(q.reset_s, now + 1200);
	ck_assert_int_le(ttl(), 1200);
	ck_assert_int_ge(ttl(), 1195);

	/* The next answer replaces it. */
	github_quota_record(rc, 4998, now + 1199, now + 1);
	ck_assert_int_eq(read_quota(&q), GT_OK);
	ck_assert_int_eq(q.remaining, 4998);
}
END_TEST

START_TEST(quota_is_kept_an_hour_at_most)
{
	int64_t	 now = time(NULL);

	github_quota_record(rc, 10, now + 7200, now);
	ck_assert_int_le(ttl(), GITHUB_QUOTA_TTL_MAX_S);
	ck_assert_int_ge(ttl(), GITHUB_QUOTA_TTL_MAX_S - 5);
}
END_TEST

START_TEST(quota_without_a_reset_ahead_is_kept_a_minute)
{
	struct github_quota	 q;
	int64_t			 now = time(NULL);

	github_quota_record(rc, 0, -1, now);
	ck_assert_int_eq(read_quota(&q), GT_OK);
	ck_assert_int_eq(q.remaining, 0);
	ck_assert_int_eq(q.reset_s, -1);
	ck_assert_int_le(ttl(), GITHUB_QUOTA_TTL_DEF_S);
	ck_assert_int_ge(ttl(), GITHUB_QUOTA_TTL_DEF_S - 5);

	github_quota_record(rc, 3, now - 10, now);
	ck_assert_int_eq(read_quota(&q), GT_OK);
	ck_assert_int_eq(q.reset_s, now - 10);
	ck_assert_int_le(ttl(), GITHUB_QUOTA_TTL_DEF_S);
}
END_TEST

START_TEST(answer_without_the_header_records_nothing)
{
	struct github_quota	 q;

	github_quota_record(rc, -1, time(NULL) + 60, time(NULL));
	github_quota_record(NULL, 5, time(NULL) + 60, time(NULL));
	ck_assert_int_eq(read_quota(&q), GT_ERR_NOT_FOUND);
}
END_TEST

START_TEST(malformed_value_is_unknown)
{
	static const char *const values[] = {
		"", "12", "12 ", " 12 34", "12 34 56", "-3 100", "12 -2",
		"12 abc", "99999999999 1",
	};
	struct github_quota	 q;
	size_t			 i;

	for (i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		freeReplyObject(command("SET", GITHUB_QUOTA_KEY, values[i]));
		ck_assert_msg(read_quota(&q) == GT_ERR_NOT_FOUND, "\"%s\"",
		    values[i]);
	}
}
END_TEST

START_TEST(unreachable_redis_is_unavailable)
{
	struct rconn		*down = handle(UNREACHABLE);
	struct gauge_ports	 p;
	struct github_quota	 q;

	memset(&p, 0, sizeof(p));
	github_quota_redis_port(down, &p);
	ck_assert_int_eq(p.github_quota(p.cache_ctx, TIMEOUT_MS, &q),
	    GT_ERR_UNAVAILABLE);

	/* Recording there fails quietly: the GitHub request goes on. */
	github_quota_record(down, 1, time(NULL) + 60, time(NULL));
	rconn_free(down);
}
END_TEST

static Suite *
quota_suite(void)
{
	Suite	*s = suite_create("github_quota");
	TCase	*tc = tcase_create("redis");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, recorded_quota_is_read_back_until_the_reset);
	tcase_add_test(tc, quota_is_kept_an_hour_at_most);
	tcase_add_test(tc, quota_without_a_reset_ahead_is_kept_a_minute);
	tcase_add_test(tc, answer_without_the_header_records_nothing);
	tcase_add_test(tc, malformed_value_is_unknown);
	tcase_add_test(tc, unreachable_redis_is_unavailable);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	if ((redis_addr = getenv("GT_REDIS")) == NULL || *redis_addr == '\0') {
		fprintf(stderr, "check_github_quota: GT_REDIS is not set: it "
		    "must be the HOST:PORT of a Redis server to test against\n");
		return EXIT_FAILURE;
	}

	/* As the programs using the adapter do (see redis.h). */
	signal(SIGPIPE, SIG_IGN);
	sr = srunner_create(quota_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
