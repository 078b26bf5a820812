/*
 * check_run_cache.c: the Redis run status cache against a real server.
 *
 * The server is GT_REDIS (HOST:PORT); without it the test fails.  Every
 * test caches runs under fresh random ids, so tests sharing the server
 * never meet, and removes its entries when it is done.
 */
#include <config.h>

#include <sys/socket.h>

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

#include "domain/arena.h"
#include "domain/run.h"
#include "infra/config.h"
#include "infra/random.h"
#include "infra/redis.h"
#include "infra/redis_script.h"
#include "infra/run_cache_redis.h"
#include "usecase/ports.h"

static const char	*redis_addr;

/* What a test works with: a connection, the cache on it, an arena. */
struct fixture {
	struct rconn		*rc;
	struct run_cache_redis	*impl;
	struct run_cache	 cache;
	struct arena		*arena;
};

static struct rconn *
handle(const char *addr)
{
	struct config	 cfg;
	struct rconn	*rc;

	memset(&cfg, 0, sizeof(cfg));
	cfg.redis = strdup(addr);
	ck_assert_ptr_nonnull(cfg.redis);
	cfg.redis_connect_timeout_ms = 1000;
	cfg.redis_command_timeout_ms = 1000;
	rc = rconn_new(&cfg);
	ck_assert_ptr_nonnull(rc);
	free(cfg.redis);
	return rc;
}

static void
fixture_open(struct fixture *f, const char *addr)
{
	f->rc = handle(addr);
	f->impl = run_cache_redis_new(f->rc);
	ck_assert_ptr_nonnull(f->impl);
	run_cache_redis_port(f->impl, &f->cache);
	f->arena = arena_new();
	ck_assert_ptr_nonnull(f->arena);
}

static void
fixture_close(struct fixture *f)
{
	arena_free(f->arena);
	run_cache_redis_free(f->impl);
	rconn_free(f->rc);
}

/* A run id no other test uses. */
static void
fresh_id(char *id)
{
	ck_assert_int_eq(random_uuid(id), 0);
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

/* The entry's time to live in milliseconds (-2: no entry). */
static long long
entry_pttl(struct rconn *rc, const char *id)
{
	char		 key[80];
	const char	*argv[] = { "PTTL", key };

	snprintf(key, sizeof(key), "gt:run:%s", id);
	return command_int(rc, 2, argv);
}

static void
put_text(struct fixture *f, const char *id, enum run_status s,
    const char *json)
{
	f->cache.put(f->cache.ctx, id, s, json, strlen(json));
}

/* Asserts that the cache holds json for id. */
static void
assert_cached(struct fixture *f, const char *id, const char *json)
{
	const char	*got = NULL;
	size_t		 len = 0;

	ck_assert_int_eq(f->cache.get(f->cache.ctx, f->arena, id, &got,
	    &len), GT_OK);
	ck_assert_uint_eq(len, strlen(json));
	ck_assert_str_eq(got, json);
}

START_TEST(test_put_then_get_returns_the_json)
{
	struct fixture	 f;
	char		 id[RANDOM_UUID_LEN];

	fixture_open(&f, redis_addr);
	fresh_id(id);
	put_text(&f, id, RUN_QUEUED, "{\"status\":\"queued\"}");
	assert_cached(&f, id, "{\"status\":\"queued\"}");
	f.cache.invalidate(f.cache.ctx, id);
	fixture_close(&f);
}
END_TEST

START_TEST(test_put_stores_exactly_len_bytes)
{
	struct fixture	 f;
	char		 id[RANDOM_UUID_LEN];
	const char	*text = "{\"a\":1}trailing bytes not given";

	fixture_open(&f, redis_addr);
	fresh_id(id);
	f.cache.put(f.cache.ctx, id, RUN_QUEUED, text, 7);
	assert_cached(&f, id, "{\"a\":1}");
	f.cache.invalidate(f.cache.ctx, id);
	fixture_close(&f);
}
END_TEST

START_TEST(test_get_of_uncached_run_is_not_found)
{
	struct fixture	 f;
	char		 id[RANDOM_UUID_LEN];
	const char	*got = NULL;
	size_t		 len = 0;

	fixture_open(&f, redis_addr);
	fresh_id(id);
	ck_assert_int_eq(f.cache.get(f.cache.ctx, f.arena, id, &got, &len),
	    GT_ERR_NOT_FOUND);
	ck_assert_ptr_null(got);
	fixture_close(&f);
}
END_TEST

START_TEST(test_later_status_replaces_earlier)
{
	struct fixture	 f;
	char		 id[RANDOM_UUID_LEN];

	fixture_open(&f, redis_addr);
	fresh_id(id);
	put_text(&f, id, RUN_QUEUED, "{\"status\":\"queued\"}");
	put_text(&f, id, RUN_RUNNING, "{\"status\":\"running\"}");
	assert_cached(&f, id, "{\"status\":\"running\"}");
	put_text(&f, id, RUN_CANCELLED, "{\"status\":\"cancelled\"}");
	assert_cached(&f, id, "{\"status\":\"cancelled\"}");
	f.cache.invalidate(f.cache.ctx, id);
	fixture_close(&f);
}
END_TEST

START_TEST(test_running_cannot_replace_finished)
{
	struct fixture	 f;
	char		 id[RANDOM_UUID_LEN];

	fixture_open(&f, redis_addr);
	fresh_id(id);
	put_text(&f, id, RUN_SUCCEEDED, "{\"status\":\"succeeded\"}");
	put_text(&f, id, RUN_RUNNING, "{\"status\":\"running\"}");
	put_text(&f, id, RUN_QUEUED, "{\"status\":\"queued\"}");
	assert_cached(&f, id, "{\"status\":\"succeeded\"}");

	/* The refused puts left the finished run's long expiry alone. */
	ck_assert_int_gt(entry_pttl(f.rc, id), RUN_CACHE_UNFINISHED_TTL_MS);
	f.cache.invalidate(f.cache.ctx, id);
	fixture_close(&f);
}
END_TEST

START_TEST(test_queued_cannot_replace_running)
{
	struct fixture	 f;
	char		 id[RANDOM_UUID_LEN];

	fixture_open(&f, redis_addr);
	fresh_id(id);
	put_text(&f, id, RUN_RUNNING, "{\"status\":\"running\"}");
	put_text(&f, id, RUN_QUEUED, "{\"status\":\"queued\"}");
	assert_cached(&f, id, "{\"status\":\"running\"}");
	f.cache.invalidate(f.cache.ctx, id);
	fixture_close(&f);
}
END_TEST

START_TEST(test_same_rank_replaces)
{
	struct fixture	 f;
	char		 id[RANDOM_UUID_LEN];

	fixture_open(&f, redis_addr);
	fresh_id(id);
	put_text(&f, id, RUN_RUNNING, "{\"status\":\"running\",\"v\":1}");
	put_text(&f, id, RUN_RUNNING, "{\"status\":\"running\",\"v\":2}");
	assert_cached(&f, id, "{\"status\":\"running\",\"v\":2}");

	/* Every finished status ranks alike. */
	put_text(&f, id, RUN_FAILED, "{\"status\":\"failed\"}");
	put_text(&f, id, RUN_SUCCEEDED, "{\"status\":\"succeeded\"}");
	assert_cached(&f, id, "{\"status\":\"succeeded\"}");
	f.cache.invalidate(f.cache.ctx, id);
	fixture_close(&f);
}
END_TEST

START_TEST(test_finished_run_is_kept_a_day)
{
	struct fixture	 f;
	char		 id[RANDOM_UUID_LEN];
	long long	 ttl;

	ck_assert_int_eq(RUN_CACHE_FINISHED_TTL_MS, 86400000LL);
	fixture_open(&f, redis_addr);
	fresh_id(id);
	put_text(&f, id, RUN_FAILED, "{\"status\":\"failed\"}");
	ttl = entry_pttl(f.rc, id);
	ck_assert_int_le(ttl, RUN_CACHE_FINISHED_TTL_MS);
	ck_assert_int_gt(ttl, RUN_CACHE_FINISHED_TTL_MS - 60 * 1000);
	f.cache.invalidate(f.cache.ctx, id);
	fixture_close(&f);
}
END_TEST

START_TEST(test_unfinished_run_is_kept_seconds)
{
	struct fixture	 f;
	char		 id[RANDOM_UUID_LEN];
	long long	 ttl;

	ck_assert_int_eq(RUN_CACHE_UNFINISHED_TTL_MS, 5000LL);
	fixture_open(&f, redis_addr);
	fresh_id(id);
	put_text(&f, id, RUN_QUEUED, "{\"status\":\"queued\"}");
	ttl = entry_pttl(f.rc, id);
	ck_assert_int_le(ttl, RUN_CACHE_UNFINISHED_TTL_MS);
	ck_assert_int_gt(ttl, 0);

	put_text(&f, id, RUN_RUNNING, "{\"status\":\"running\"}");
	ttl = entry_pttl(f.rc, id);
	ck_assert_int_le(ttl, RUN_CACHE_UNFINISHED_TTL_MS);
	ck_assert_int_gt(ttl, 0);
	f.cache.invalidate(f.cache.ctx, id);
	fixture_close(&f);
}
END_TEST

START_TEST(test_invalidate_removes_the_entry)
{
	struct fixture	 f;
	char		 id[RANDOM_UUID_LEN];
	const char	*got;
	size_t		 len;

	fixture_open(&f, redis_addr);
	fresh_id(id);
	put_text(&f, id, RUN_SUCCEEDED, "{\"status\":\"succeeded\"}");
	f.cache.invalidate(f.cache.ctx, id);
	ck_assert_int_eq(f.cache.get(f.cache.ctx, f.arena, id, &got, &len),
	    GT_ERR_NOT_FOUND);
	ck_assert_int_eq(entry_pttl(f.rc, id), -2);

	/* With the guard gone, any status may be cached again. */
	put_text(&f, id, RUN_QUEUED, "{\"status\":\"queued\"}");
	assert_cached(&f, id, "{\"status\":\"queued\"}");
	f.cache.invalidate(f.cache.ctx, id);
	fixture_close(&f);
}
END_TEST

START_TEST(test_key_of_another_type_is_internal)
{
	struct fixture	 f;
	char		 id[RANDOM_UUID_LEN], key[80];
	const char	*set[] = { "SET", key, "not a hash", "PX", "60000" };
	const char	*del[] = { "DEL", key };
	const char	*get[] = { "GET", key };
	const char	*got;
	size_t		 len;
	redisReply	*r;

	fixture_open(&f, redis_addr);
	fresh_id(id);
	snprintf(key, sizeof(key), "gt:run:%s", id);
	r = command(f.rc, 5, set);
	ck_assert_ptr_nonnull(r);
	freeReplyObject(r);

	ck_assert_int_eq(f.cache.get(f.cache.ctx, f.arena, id, &got, &len),
	    GT_ERR_INTERNAL);
	put_text(&f, id, RUN_QUEUED, "{\"status\":\"queued\"}");
	ck_assert_int_eq(f.cache.get(f.cache.ctx, f.arena, id, &got, &len),
	    GT_ERR_INTERNAL);

	/*
	 * A finished run's put fails there too and leaves the value alone
	 * (its expiry, set in the same transaction, may change).
	 */
	put_text(&f, id, RUN_SUCCEEDED, "{\"status\":\"succeeded\"}");
	ck_assert_int_eq(f.cache.get(f.cache.ctx, f.arena, id, &got, &len),
	    GT_ERR_INTERNAL);
	r = command(f.rc, 2, get);
	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(r->type, REDIS_REPLY_STRING);
	ck_assert_str_eq(r->str, "not a hash");
	freeReplyObject(r);
	command_int(f.rc, 2, del);
	fixture_close(&f);
}
END_TEST

START_TEST(test_put_survives_script_flush)
{
	struct fixture	 f;
	char		 id[RANDOM_UUID_LEN];
	const char	*flush[] = { "SCRIPT", "FLUSH" };
	redisReply	*r;

	fixture_open(&f, redis_addr);
	fresh_id(id);
	put_text(&f, id, RUN_QUEUED, "{\"status\":\"queued\"}");

	/* As after a restart: EVALSHA meets NOSCRIPT, EVAL follows. */
	r = command(f.rc, 2, flush);
	ck_assert_ptr_nonnull(r);
	freeReplyObject(r);
	put_text(&f, id, RUN_RUNNING, "{\"status\":\"running\"}");
	assert_cached(&f, id, "{\"status\":\"running\"}");
	f.cache.invalidate(f.cache.ctx, id);
	fixture_close(&f);
}
END_TEST

START_TEST(test_script_sha_is_the_servers)
{
	struct rconn		*rc = handle(redis_addr);
	struct redis_script	 s;
	char			 text[96], sha[41];
	const char		*exists[] = { "SCRIPT", "EXISTS", sha };
	redisReply		*r;

	/* A script no other test loads, so the server cannot know it. */
	snprintf(text, sizeof(text), "return %ld -- check_run_cache %ld",
	    (long)42, (long)getpid() * 1000 + (long)(random() % 1000));
	ck_assert_int_eq(redis_script_init(&s, text), 0);
	snprintf(sha, sizeof(sha), "%s", s.sha);
	r = command(rc, 3, exists);
	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(r->type, REDIS_REPLY_ARRAY);
	ck_assert_int_eq(r->element[0]->integer, 0);
	freeReplyObject(r);

	r = redis_script_run(rc, &s, 0, 0, NULL, NULL);
	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(r->type, REDIS_REPLY_INTEGER);
	ck_assert_int_eq(r->integer, 42);
	freeReplyObject(r);

	/* EVAL cached it under the SHA-1 computed here. */
	r = command(rc, 3, exists);
	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(r->element[0]->integer, 1);
	freeReplyObject(r);
	rconn_free(rc);
}
END_TEST

START_TEST(test_unreachable_redis_is_unavailable)
{
	struct sockaddr_in	 sin;
	socklen_t		 slen = sizeof(sin);
	struct fixture		 f;
	char			 addr[64], id[RANDOM_UUID_LEN];
	const char		*got;
	size_t			 len;
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

	fixture_open(&f, addr);
	fresh_id(id);
	ck_assert_int_eq(f.cache.get(f.cache.ctx, f.arena, id, &got, &len),
	    GT_ERR_UNAVAILABLE);
	put_text(&f, id, RUN_QUEUED, "{}");
	f.cache.invalidate(f.cache.ctx, id);
	ck_assert_int_eq(f.cache.get(f.cache.ctx, f.arena, id, &got, &len),
	    GT_ERR_UNAVAILABLE);
	fixture_close(&f);
}
END_TEST

START_TEST(test_free_accepts_null)
{
	run_cache_redis_free(NULL);
}
END_TEST

static Suite *
run_cache_suite(void)
{
	Suite	*s = suite_create("run_cache");
	TCase	*tc;

	tc = tcase_create("entries");
	tcase_add_test(tc, test_put_then_get_returns_the_json);
	tcase_add_test(tc, test_put_stores_exactly_len_bytes);
	tcase_add_test(tc, test_get_of_uncached_run_is_not_found);
	tcase_add_test(tc, test_invalidate_removes_the_entry);
	tcase_add_test(tc, test_free_accepts_null);
	suite_add_tcase(s, tc);

	tc = tcase_create("rank guard");
	tcase_add_test(tc, test_later_status_replaces_earlier);
	tcase_add_test(tc, test_running_cannot_replace_finished);
	tcase_add_test(tc, test_queued_cannot_replace_running);
	tcase_add_test(tc, test_same_rank_replaces);
	suite_add_tcase(s, tc);

	tc = tcase_create("expiry");
	tcase_add_test(tc, test_finished_run_is_kept_a_day);
	tcase_add_test(tc, test_unfinished_run_is_kept_seconds);
	suite_add_tcase(s, tc);

	tc = tcase_create("scripts");
	tcase_add_test(tc, test_put_survives_script_flush);
	tcase_add_test(tc, test_script_sha_is_the_servers);
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
		fprintf(stderr, "check_run_cache: GT_REDIS is not set: it must "
		    "be the HOST:PORT of a Redis server to test against\n");
		return EXIT_FAILURE;
	}

	/* As the programs using the adapter do (see redis.h). */
	signal(SIGPIPE, SIG_IGN);
	srandom((unsigned int)getpid());
	sr = srunner_create(run_cache_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
