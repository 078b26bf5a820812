/*
 * check_limiter.c: the Redis rate limiter against a real server.
 *
 * The server is GT_REDIS (HOST:PORT); without it the test fails.  Every
 * test limits keys of its own ("check-<random>-..."), so tests sharing
 * the server never count each other's creations, and deletes them when
 * it is done.  The windows that must slide are one or two seconds long,
 * so the whole program takes a few seconds.
 */
#include <config.h>

#include <sys/socket.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>
#include <hiredis/hiredis.h>

#include "infra/config.h"
#include "infra/limiter_redis.h"
#include "infra/random.h"
#include "infra/redis.h"
#include "usecase/ports.h"

/* Workers and attempts of the concurrency test. */
#define RACE_LIMIT	10
#define RACE_WORKERS	4

static const char	*redis_addr;

/* What a test works with: a connection, the limiter on it, its keys. */
struct fixture {
	struct rconn		*rc;
	struct limiter_redis	*impl;
	struct limiter		 lim;
	char			 key[2][64];	/* the rules' keys */
};

/* A handle on addr, or NULL; forked workers cannot ck_assert. */
static struct rconn *
try_handle(const char *addr)
{
	struct config	 cfg;
	struct rconn	*rc;

	memset(&cfg, 0, sizeof(cfg));
	if ((cfg.redis = strdup(addr)) == NULL)
		return NULL;
	cfg.redis_connect_timeout_ms = 2000;
	cfg.redis_command_timeout_ms = 2000;
	rc = rconn_new(&cfg);
	free(cfg.redis);
	return rc;
}

static void
fixture_open(struct fixture *f, const char *addr)
{
	char	 hex[17];
	int	 i;

	ck_assert_ptr_nonnull(f->rc = try_handle(addr));
	ck_assert_ptr_nonnull(f->impl = limiter_redis_new(f->rc));
	limiter_redis_port(f->impl, &f->lim);
	for (i = 0; i < 2; i++) {
		ck_assert_int_eq(random_hex(hex, (sizeof(hex) - 1) / 2), 0);
		snprintf(f->key[i], sizeof(f->key[i]), "check-%s-%d", hex, i);
	}
}

/* Sends a command given as NUL-terminated words. */
static redisReply *
command(struct rconn *rc, int argc, const char **argv)
{
	size_t	 len[8];
	int	 i;

	ck_assert_int_le(argc, 8);
	for (i = 0; i < argc; i++)
		len[i] = strlen(argv[i]);
	return rconn_command(rc, argc, argv, len);
}

/* The integer answer to a command that must give one. */
static long long
command_int(struct rconn *rc, int argc, const char **argv)
{
	redisReply	*r = command(rc, argc, argv);
	long long	 v;

	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(r->type, REDIS_REPLY_INTEGER);
	v = r->integer;
	freeReplyObject(r);
	return v;
}

/* The Redis key of the rule of this kind on the fixture's key i. */
static void
redis_key(char *out, size_t outlen, enum limit_kind kind, const char *key)
{
	snprintf(out, outlen, "gt:rl:%s:%s",
	    kind == LIMIT_REPO ? "repo" : "requester", key);
}

/* The rule's Redis key's time to live (-2: no key, -1: no expiry). */
static long long
rule_pttl(struct fixture *f, const struct limit_rule *rule)
{
	char		 key[128];
	const char	*argv[] = { "PTTL", key };

	redis_key(key, sizeof(key), rule->kind, rule->key);
	return command_int(f->rc, 2, argv);
}

/* The entries in the rule's log. */
static long long
rule_card(struct fixture *f, const struct limit_rule *rule)
{
	char		 key[128];
	const char	*argv[] = { "ZCARD", key };

	redis_key(key, sizeof(key), rule->kind, rule->key);
	return command_int(f->rc, 2, argv);
}

static void
fixture_close(struct fixture *f)
{
	char		 keys[4][128];
	const char	*argv[] = {
		"DEL", keys[0], keys[1], keys[2], keys[3]
	};
	int		 i;

	for (i = 0; i < 2; i++) {
		redis_key(keys[2 * i], sizeof(keys[0]), LIMIT_REPO, f->key[i]);
		redis_key(keys[2 * i + 1], sizeof(keys[0]), LIMIT_REQUESTER,
		    f->key[i]);
	}
	command_int(f->rc, 5, argv);
	limiter_redis_free(f->impl);
	rconn_free(f->rc);
}

static struct limit_rule
rule(enum limit_kind kind, const char *key, int64_t limit, int64_t window_s)
{
	struct limit_rule	 r;

	r.kind = kind;
	r.name = kind == LIMIT_REPO ? "repo" : "requester";
	r.key = key;
	r.limit = limit;
	r.window_s = window_s;
	return r;
}

static struct limit_decision
take(struct fixture *f, const struct limit_rule *rules, size_t n,
    const char *member)
{
	struct limit_decision	 d;

	ck_assert_int_eq(f->lim.take(f->lim.ctx, rules, n, member, &d), GT_OK);
	return d;
}

static struct limit_decision
peek(struct fixture *f, const struct limit_rule *rules, size_t n)
{
	struct limit_decision	 d;

	ck_assert_int_eq(f->lim.peek(f->lim.ctx, rules, n, &d), GT_OK);
	return d;
}

START_TEST(test_allows_the_limit_then_refuses)
{
	struct fixture		 f;
	struct limit_rule	 r[1];
	struct limit_decision	 d;
	char			 member[16];
	int			 i;

	fixture_open(&f, redis_addr);
	r[0] = rule(LIMIT_REPO, f.key[0], 3, 60);
	for (i = 0; i < 3; i++) {
		snprintf(member, sizeof(member), "m%d", i);
		d = take(&f, r, 1, member);
		ck_assert(d.allowed);
		ck_assert_int_eq(d.remaining[0], 2 - i);
		ck_assert_int_eq(d.reset_s[0], 60);
		ck_assert_int_eq(d.retry_after_s, 0);
	}

	d = take(&f, r, 1, "m3");
	ck_assert(!d.allowed);
	ck_assert_int_eq(d.remaining[0], 0);
	ck_assert_int_ge(d.retry_after_s, 59);
	ck_assert_int_le(d.retry_after_s, 60);
	ck_assert_int_eq(rule_card(&f, &r[0]), 3);
	fixture_close(&f);
}
END_TEST

START_TEST(test_full_rule_refuses_and_spares_the_other)
{
	struct fixture		 f;
	struct limit_rule	 r[2];
	struct limit_decision	 d;

	fixture_open(&f, redis_addr);
	r[0] = rule(LIMIT_REPO, f.key[0], 1, 60);
	r[1] = rule(LIMIT_REQUESTER, f.key[1], 5, 60);
	ck_assert(take(&f, r, 1, "first").allowed);

	d = take(&f, r, 2, "second");
	ck_assert(!d.allowed);
	ck_assert_int_eq(d.remaining[0], 0);
	ck_assert_int_eq(d.remaining[1], 5);
	ck_assert_int_eq(d.reset_s[1], 0);
	ck_assert_int_ge(d.retry_after_s, 59);
	ck_assert_int_eq(rule_card(&f, &r[0]), 1);
	ck_assert_int_eq(rule_card(&f, &r[1]), 0);

	/* The same the other way round: the second rule full. */
	d = take(&f, &r[1], 1, "third");
	ck_assert(d.allowed);
	r[1].limit = 1;
	ck_assert(!take(&f, r, 2, "fourth").allowed);
	ck_assert_int_eq(rule_card(&f, &r[0]), 1);
	ck_assert_int_eq(rule_card(&f, &r[1]), 1);
	fixture_close(&f);
}
END_TEST

START_TEST(test_retry_after_is_the_longest_refusing_wait)
{
	struct fixture		 f;
	struct limit_rule	 r[2];
	struct limit_decision	 d;

	fixture_open(&f, redis_addr);
	r[0] = rule(LIMIT_REPO, f.key[0], 1, 2);
	r[1] = rule(LIMIT_REQUESTER, f.key[1], 1, 60);
	ck_assert(take(&f, r, 2, "first").allowed);

	d = take(&f, r, 2, "second");
	ck_assert(!d.allowed);
	ck_assert_int_eq(d.reset_s[0], 2);
	ck_assert_int_eq(d.reset_s[1], 60);
	ck_assert_int_ge(d.retry_after_s, 59);
	ck_assert_int_le(d.retry_after_s, 60);
	fixture_close(&f);
}
END_TEST

START_TEST(test_window_slides_entry_by_entry)
{
	struct fixture		 f;
	struct limit_rule	 r[1];
	struct limit_decision	 d;

	/*
	 * One entry at 0 s, one at 1 s, a window of 2 s: at 2.2 s the
	 * first has left and the second has not, so exactly one more fits.
	 * A fixed window would free both at once.
	 */
	fixture_open(&f, redis_addr);
	r[0] = rule(LIMIT_REPO, f.key[0], 2, 2);
	ck_assert(take(&f, r, 1, "at0").allowed);
	usleep(1000 * 1000);
	ck_assert(take(&f, r, 1, "at1").allowed);
	d = take(&f, r, 1, "refused");
	ck_assert(!d.allowed);
	ck_assert_int_eq(d.retry_after_s, 1);
	ck_assert_int_eq(d.reset_s[0], 1);

	usleep(1200 * 1000);
	d = take(&f, r, 1, "at2");
	ck_assert(d.allowed);
	ck_assert_int_eq(d.remaining[0], 0);
	ck_assert_int_eq(d.reset_s[0], 1);
	ck_assert(!take(&f, r, 1, "refused again").allowed);
	ck_assert_int_eq(rule_card(&f, &r[0]), 2);
	fixture_close(&f);
}
END_TEST

START_TEST(test_give_back_frees_a_slot)
{
	struct fixture		 f;
	struct limit_rule	 r[2];

	fixture_open(&f, redis_addr);
	r[0] = rule(LIMIT_REPO, f.key[0], 1, 60);
	r[1] = rule(LIMIT_REQUESTER, f.key[1], 1, 60);
	ck_assert(take(&f, r, 2, "run-1").allowed);
	ck_assert(!take(&f, r, 2, "run-2").allowed);

	f.lim.give_back(f.lim.ctx, r, 2, "run-1");
	ck_assert_int_eq(rule_card(&f, &r[0]), 0);
	ck_assert_int_eq(rule_card(&f, &r[1]), 0);
	ck_assert(take(&f, r, 2, "run-3").allowed);
	fixture_close(&f);
}
END_TEST

START_TEST(test_peek_takes_nothing)
{
	struct fixture		 f;
	struct limit_rule	 r[2];
	struct limit_decision	 d;
	int			 i;

	fixture_open(&f, redis_addr);
	r[0] = rule(LIMIT_REPO, f.key[0], 2, 60);
	r[1] = rule(LIMIT_REQUESTER, f.key[1], 3, 60);
	for (i = 0; i < 5; i++) {
		d = peek(&f, r, 2);
		ck_assert(d.allowed);
		ck_assert_int_eq(d.remaining[0], 2);
		ck_assert_int_eq(d.remaining[1], 3);
	}
	ck_assert_int_eq(rule_pttl(&f, &r[0]), -2);

	ck_assert(take(&f, r, 2, "a").allowed);
	ck_assert(take(&f, r, 2, "b").allowed);
	d = peek(&f, r, 2);
	ck_assert(!d.allowed);
	ck_assert_int_eq(d.remaining[0], 0);
	ck_assert_int_eq(d.remaining[1], 1);
	ck_assert_int_eq(d.reset_s[0], 60);
	ck_assert_int_ge(d.retry_after_s, 59);
	ck_assert_int_eq(rule_card(&f, &r[0]), 2);
	ck_assert_int_eq(rule_card(&f, &r[1]), 2);
	fixture_close(&f);
}
END_TEST

START_TEST(test_empty_window_resets_in_zero)
{
	struct fixture		 f;
	struct limit_rule	 r[1];
	struct limit_decision	 d;

	fixture_open(&f, redis_addr);
	r[0] = rule(LIMIT_REQUESTER, f.key[0], 4, 60);
	d = peek(&f, r, 1);
	ck_assert(d.allowed);
	ck_assert_int_eq(d.remaining[0], 4);
	ck_assert_int_eq(d.reset_s[0], 0);
	ck_assert_int_eq(d.retry_after_s, 0);
	fixture_close(&f);
}
END_TEST

START_TEST(test_every_key_expires_with_its_window)
{
	struct fixture		 f;
	struct limit_rule	 r[2];
	long long		 ttl;

	fixture_open(&f, redis_addr);
	r[0] = rule(LIMIT_REPO, f.key[0], 1, 2);
	r[1] = rule(LIMIT_REQUESTER, f.key[1], 5, 60);
	ck_assert(take(&f, r, 2, "a").allowed);
	ck_assert(!take(&f, r, 2, "b").allowed);
	(void)peek(&f, r, 2);

	ttl = rule_pttl(&f, &r[0]);
	ck_assert_int_gt(ttl, 0);
	ck_assert_int_le(ttl, 2000);
	ttl = rule_pttl(&f, &r[1]);
	ck_assert_int_gt(ttl, 2000);
	ck_assert_int_le(ttl, 60000);

	/* A longer window than the key was made with stretches its life. */
	r[0].window_s = 30;
	(void)peek(&f, r, 1);
	ttl = rule_pttl(&f, &r[0]);
	ck_assert_int_gt(ttl, 2000);
	ck_assert_int_le(ttl, 30000);
	fixture_close(&f);
}
END_TEST

START_TEST(test_untrusted_key_is_used_as_given)
{
	struct fixture		 f;
	struct limit_rule	 r[1];
	char			 key[128], rkey[160];
	const char		*exists[] = { "EXISTS", rkey };
	const char		*del[] = { "DEL", rkey };

	fixture_open(&f, redis_addr);
	snprintf(key, sizeof(key), "%s') redis.call('FLUSHALL') --\n\"]] x",
	    f.key[0]);
	r[0] = rule(LIMIT_REQUESTER, key, 1, 60);
	ck_assert(take(&f, r, 1, "m").allowed);
	ck_assert(!take(&f, r, 1, "n").allowed);
	redis_key(rkey, sizeof(rkey), LIMIT_REQUESTER, key);
	ck_assert_int_eq(command_int(f.rc, 2, exists), 1);
	command_int(f.rc, 2, del);
	fixture_close(&f);
}
END_TEST

START_TEST(test_too_long_key_is_invalid)
{
	struct fixture		 f;
	struct limit_rule	 r[1];
	struct limit_decision	 d;
	char			 key[LIMITER_KEY_MAX + 2];

	fixture_open(&f, redis_addr);
	memset(key, 'k', sizeof(key) - 1);
	key[sizeof(key) - 1] = '\0';
	r[0] = rule(LIMIT_REPO, key, 1, 60);
	ck_assert_int_eq(f.lim.take(f.lim.ctx, r, 1, "m", &d),
	    GT_ERR_INVALID);
	ck_assert_int_eq(f.lim.peek(f.lim.ctx, r, 1, &d), GT_ERR_INVALID);

	key[LIMITER_KEY_MAX] = '\0';
	ck_assert(take(&f, r, 1, "m").allowed);
	f.lim.give_back(f.lim.ctx, r, 1, "m");
	ck_assert_int_eq(rule_pttl(&f, &r[0]), -2);
	fixture_close(&f);
}
END_TEST

START_TEST(test_take_survives_script_flush)
{
	struct fixture		 f;
	struct limit_rule	 r[1];
	const char		*flush[] = { "SCRIPT", "FLUSH" };
	redisReply		*rep;

	fixture_open(&f, redis_addr);
	r[0] = rule(LIMIT_REPO, f.key[0], 2, 60);
	ck_assert(take(&f, r, 1, "a").allowed);
	rep = command(f.rc, 2, flush);
	ck_assert_ptr_nonnull(rep);
	freeReplyObject(rep);
	ck_assert_int_eq(take(&f, r, 1, "b").remaining[0], 0);
	fixture_close(&f);
}
END_TEST

/*
 * A forked worker: its own connection and limiter, RACE_LIMIT attempts
 * once the start pipe closes.  Exits with the number allowed, or 255.
 */
static void
race_worker(int start_fd, int worker, const struct limit_rule *r)
{
	struct rconn		*rc;
	struct limiter_redis	*impl;
	struct limiter		 lim;
	struct limit_decision	 d;
	char			 member[32], c;
	int			 i, allowed = 0;

	if ((rc = try_handle(redis_addr)) == NULL ||
	    (impl = limiter_redis_new(rc)) == NULL)
		_exit(255);
	limiter_redis_port(impl, &lim);
	if (read(start_fd, &c, 1) == -1)	/* 0 at the start: closed */
		_exit(255);
	for (i = 0; i < RACE_LIMIT; i++) {
		snprintf(member, sizeof(member), "w%d-%d", worker, i);
		if (lim.take(lim.ctx, r, 2, member, &d) != GT_OK)
			_exit(255);
		allowed += d.allowed;
	}
	limiter_redis_free(impl);
	rconn_free(rc);
	_exit(allowed);
}

START_TEST(test_exact_under_concurrency)
{
	struct fixture		 f;
	struct limit_rule	 r[2];
	pid_t			 pid[RACE_WORKERS];
	int			 start[2], i, status, allowed = 0;

	fixture_open(&f, redis_addr);
	r[0] = rule(LIMIT_REPO, f.key[0], RACE_LIMIT, 60);
	r[1] = rule(LIMIT_REQUESTER, f.key[1], 4 * RACE_LIMIT, 60);
	ck_assert_int_eq(pipe(start), 0);
	for (i = 0; i < RACE_WORKERS; i++) {
		ck_assert_int_ne(pid[i] = fork(), -1);
		if (pid[i] == 0) {
			close(start[1]);
			race_worker(start[0], i, r);
		}
	}

	/* Closing the pipe starts every worker at once. */
	close(start[0]);
	close(start[1]);
	for (i = 0; i < RACE_WORKERS; i++) {
		ck_assert_int_eq(waitpid(pid[i], &status, 0), pid[i]);
		ck_assert(WIFEXITED(status));
		ck_assert_int_ne(WEXITSTATUS(status), 255);
		allowed += WEXITSTATUS(status);
	}
	ck_assert_int_eq(allowed, RACE_LIMIT);
	ck_assert_int_eq(rule_card(&f, &r[0]), RACE_LIMIT);
	ck_assert_int_eq(rule_card(&f, &r[1]), RACE_LIMIT);
	fixture_close(&f);
}
END_TEST

START_TEST(test_key_of_another_type_is_internal)
{
	struct fixture		 f;
	struct limit_rule	 r[1];
	struct limit_decision	 d;
	char			 key[128];
	const char		*set[] = { "SET", key, "x", "PX", "60000" };
	redisReply		*rep;

	fixture_open(&f, redis_addr);
	r[0] = rule(LIMIT_REPO, f.key[0], 1, 60);
	redis_key(key, sizeof(key), LIMIT_REPO, f.key[0]);
	rep = command(f.rc, 5, set);
	ck_assert_ptr_nonnull(rep);
	freeReplyObject(rep);
	ck_assert_int_eq(f.lim.take(f.lim.ctx, r, 1, "m", &d),
	    GT_ERR_INTERNAL);
	ck_assert_int_eq(f.lim.peek(f.lim.ctx, r, 1, &d), GT_ERR_INTERNAL);
	fixture_close(&f);
}
END_TEST

START_TEST(test_unreachable_redis_is_unavailable)
{
	struct sockaddr_in	 sin;
	socklen_t		 slen = sizeof(sin);
	struct rconn		*rc;
	struct limiter_redis	*impl;
	struct limiter		 lim;
	struct limit_rule	 r[1];
	struct limit_decision	 d;
	char			 addr[64];
	int			 fd;

	/* A port that was just free: nothing listens on it. */
	fd = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_ne(fd, -1);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sin, &slen), 0);
	close(fd);
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", ntohs(sin.sin_port));

	ck_assert_ptr_nonnull(rc = try_handle(addr));
	ck_assert_ptr_nonnull(impl = limiter_redis_new(rc));
	limiter_redis_port(impl, &lim);
	r[0] = rule(LIMIT_REPO, "any", 1, 60);
	ck_assert_int_eq(lim.take(lim.ctx, r, 1, "m", &d),
	    GT_ERR_UNAVAILABLE);
	ck_assert_int_eq(lim.peek(lim.ctx, r, 1, &d), GT_ERR_UNAVAILABLE);
	lim.give_back(lim.ctx, r, 1, "m");
	limiter_redis_free(impl);
	rconn_free(rc);
}
END_TEST

START_TEST(test_free_accepts_null)
{
	limiter_redis_free(NULL);
}
END_TEST

static Suite *
limiter_suite(void)
{
	Suite	*s = suite_create("limiter");
	TCase	*tc;

	tc = tcase_create("decisions");
	tcase_add_test(tc, test_allows_the_limit_then_refuses);
	tcase_add_test(tc, test_full_rule_refuses_and_spares_the_other);
	tcase_add_test(tc, test_retry_after_is_the_longest_refusing_wait);
	tcase_add_test(tc, test_give_back_frees_a_slot);
	tcase_add_test(tc, test_peek_takes_nothing);
	tcase_add_test(tc, test_empty_window_resets_in_zero);
	tcase_add_test(tc, test_free_accepts_null);
	suite_add_tcase(s, tc);

	tc = tcase_create("keys");
	tcase_add_test(tc, test_every_key_expires_with_its_window);
	tcase_add_test(tc, test_untrusted_key_is_used_as_given);
	tcase_add_test(tc, test_too_long_key_is_invalid);
	tcase_add_test(tc, test_take_survives_script_flush);
	suite_add_tcase(s, tc);

	tc = tcase_create("time and concurrency");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_window_slides_entry_by_entry);
	tcase_add_test(tc, test_exact_under_concurrency);
	suite_add_tcase(s, tc);

	tc = tcase_create("failures");
	tcase_add_test(tc, test_key_of_another_type_is_internal);
	tcase_add_test(tc, test_unreachable_redis_is_unavailable);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	if ((redis_addr = getenv("GT_REDIS")) == NULL || *redis_addr == '\0') {
		fprintf(stderr, "check_limiter: GT_REDIS is not set: it must "
		    "be the HOST:PORT of a Redis server to test against\n");
		return EXIT_FAILURE;
	}

	/* As the programs using the adapter do (see redis.h). */
	signal(SIGPIPE, SIG_IGN);
	sr = srunner_create(limiter_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
