/*
 * check_github.c: the GitHub client against t/tools/fake_github.py, with
 * the token cache in a real Redis.
 *
 * main() starts the fake on a free loopback port (it picks one and writes
 * it to its state folder) and stops it at the end; GT_SRCDIR names the
 * source tree it is run from and GT_REDIS the Redis server (HOST:PORT).
 * Without either the test fails.  An RSA key made here is the App's.
 *
 * The fake records every request in requests.jsonl, which the cases read
 * back.  Cases share the fake and Redis, so each works under installation
 * ids, pull request numbers and comment ids of its own, drawn at random.
 */
#include <config.h>

#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <check.h>
#include <curl/curl.h>
#include <hiredis/hiredis.h>
#include <json-c/json.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "domain/arena.h"
#include "domain/runner_io.h"
#include "infra/clock.h"
#include "infra/config.h"
#include "infra/github.h"
#include "infra/github_quota_redis.h"
#include "infra/random.h"
#include "infra/redis.h"

#define APP_ID		912345L
#define REPO		"octo-org/widgets"
#define TIMEOUT_MS	2000
#define UNREACHABLE	"127.0.0.1:1"	/* nothing listens on port 1 */

static const char	*redis_addr;
static char		 state_dir[] = "/tmp/gt-fakegh.XXXXXX";
static char		 api_url[64];
static char		*app_pem;
static pid_t		 fake_pid = -1;

/* What a case works with: a configuration, Redis, and the client. */
struct fixture {
	struct config	 cfg;
	struct rconn	*rc;
	struct github	*gh;
};

static void
fixture_open(struct fixture *f, const char *redis, const char *url,
    int timeout_ms)
{
	memset(&f->cfg, 0, sizeof(f->cfg));
	f->cfg.redis = (char *)(uintptr_t)redis;
	f->cfg.redis_connect_timeout_ms = 1000;
	f->cfg.redis_command_timeout_ms = 1000;
	f->cfg.github_api_url = (char *)(uintptr_t)url;
	f->cfg.github_app_id = APP_ID;
	f->cfg.github_private_key = app_pem;
	f->cfg.github_timeout_ms = timeout_ms;
	ck_assert_ptr_nonnull(f->rc = rconn_new(&f->cfg));
	ck_assert_ptr_nonnull(f->gh = github_new(&f->cfg, f->rc));
}

static void
fixture_close(struct fixture *f)
{
	github_free(f->gh);
	rconn_free(f->rc);
}

/* A positive id no other case uses. */
static int64_t
fresh_id(void)
{
	uint32_t	 r;

	ck_assert_int_eq(random_bytes(&r, sizeof(r)), 0);
	return 1000000000LL + r;
}

static size_t
discard(char *data, size_t size, size_t nmemb, void *arg)
{
	return size * nmemb;
}

/* Sends method path (body if not NULL) to the fake; returns the status. */
static long
fake_call(const char *method, const char *path, const char *body)
{
	CURL	*c;
	char	 url[256];
	long	 status = 0;

	snprintf(url, sizeof(url), "%s%s", api_url, path);
	if ((c = curl_easy_init()) == NULL)
		return 0;
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 5000L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
	if (strcmp(method, "POST") == 0)
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body != NULL ? body :
		    "");
	if (curl_easy_perform(c) == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(c);
	return status;
}

/* Tells the fake what to do (see the order forms in fake_github.py). */
static void
control(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void
control(const char *fmt, ...)
{
	char	 order[1024];
	va_list	 ap;
	int	 n;

	va_start(ap, fmt);
	n = vsnprintf(order, sizeof(order), fmt, ap);
	va_end(ap);
	ck_assert(n > 0 && (size_t)n < sizeof(order));
	ck_assert_int_eq(fake_call("POST", "/_control", order), 200);
}

/*
 * The requests the fake recorded for method and path, oldest first, as
 * a JSON array the caller puts.
 */
static json_object *
recorded(const char *method, const char *path)
{
	char		 file[256], *line = NULL;
	size_t		 cap = 0;
	json_object	*all, *r, *v;
	FILE		*fp;

	snprintf(file, sizeof(file), "%s/requests.jsonl", state_dir);
	ck_assert_ptr_nonnull(all = json_object_new_array());
	if ((fp = fopen(file, "r")) == NULL)
		return all;
	while (getline(&line, &cap, fp) != -1) {
		ck_assert_ptr_nonnull(r = json_tokener_parse(line));
		if (json_object_object_get_ex(r, "method", &v) &&
		    strcmp(json_object_get_string(v), method) == 0 &&
		    json_object_object_get_ex(r, "path", &v) &&
		    strcmp(json_object_get_string(v), path) == 0)
			json_object_array_add(all, r);
		else
			json_object_put(r);
	}
	free(line);
	fclose(fp);
	return all;
}

/* How many requests the fake recorded in all. */
static size_t
count_all(void)
{
	char	 file[256];
	FILE	*fp;
	size_t	 n = 0;
	int	 c;

	snprintf(file, sizeof(file), "%s/requests.jsonl", state_dir);
	if ((fp = fopen(file, "r")) == NULL)
		return 0;
	while ((c = getc(fp)) != EOF)
		n += c == '\n';
	fclose(fp);
	return n;
}

static size_t
count_requests(const char *method, const char *path)
{
	json_object	*all = recorded(method, path);
	size_t		 n = json_object_array_length(all);

	json_object_put(all);
	return n;
}

/* The string member key of the object o ("" when absent). */
static const char *
str_of(json_object *o, const char *key)
{
	json_object	*v;

	if (!json_object_object_get_ex(o, key, &v))
		return "";
	return json_object_get_string(v);
}

/* Header name of a recorded request ("" when absent). */
static const char *
header_of(json_object *request, const char *name)
{
	json_object	*h;

	ck_assert(json_object_object_get_ex(request, "headers", &h));
	return str_of(h, name);
}

/*
 * Asserts that the only request to method path was made once, as the
 * installation, with the headers GitHub asks for, and with a JSON body
 * equal to want_body (NULL: none); returns the request, which the
 * caller puts.
 */
static json_object *
assert_repo_request(const char *method, const char *path,
    const char *want_body)
{
	json_object	*all = recorded(method, path), *r, *body, *want;

	ck_assert_uint_eq(json_object_array_length(all), 1);
	r = json_object_get(json_object_array_get_idx(all, 0));
	json_object_put(all);

	ck_assert_str_eq(header_of(r, "accept"),
	    "application/vnd.github+json");
	ck_assert_str_eq(header_of(r, "x-github-api-version"), "2022-11-28");
	ck_assert_str_eq(header_of(r, "user-agent"),
	    "gittinkerer/" PACKAGE_VERSION);
	ck_assert_msg(strncmp(header_of(r, "authorization"), "token ghs_",
	    10) == 0, "not an installation token: %.10s",
	    header_of(r, "authorization"));
	if (want_body == NULL) {
		ck_assert_str_eq(str_of(r, "body"), "");
		return r;
	}
	ck_assert_str_eq(header_of(r, "content-type"), "application/json");
	ck_assert_ptr_nonnull(body = json_tokener_parse(str_of(r, "body")));
	ck_assert_ptr_nonnull(want = json_tokener_parse(want_body));
	ck_assert_msg(json_object_equal(body, want), "body %s, want %s",
	    str_of(r, "body"), want_body);
	json_object_put(body);
	json_object_put(want);
	return r;
}

static void
token_path(char *path, size_t len, int64_t installation)
{
	snprintf(path, len, "/app/installations/%lld/access_tokens",
	    (long long)installation);
}

static void
pull_path(char *path, size_t len, int64_t number)
{
	snprintf(path, len, "/repos/" REPO "/pulls/%lld", (long long)number);
}

/* Sends a Redis command of NUL-terminated words; the caller frees. */
static redisReply *
redis_cmd(struct rconn *rc, int argc, const char **argv)
{
	size_t		 len[8];
	redisReply	*r;
	int		 i;

	ck_assert_int_le(argc, 8);
	for (i = 0; i < argc; i++)
		len[i] = strlen(argv[i]);
	ck_assert_ptr_nonnull(r = rconn_command(rc, argc, argv, len));
	return r;
}

static void
cache_key(char *key, size_t len, int64_t installation)
{
	snprintf(key, len, "gt:ghtoken:%lld", (long long)installation);
}

/* The cache entry's time to live in milliseconds; -2 when none. */
static long long
cache_pttl(struct rconn *rc, int64_t installation)
{
	char		 key[64];
	const char	*argv[] = { "PTTL", key };
	redisReply	*r;
	long long	 v;

	cache_key(key, sizeof(key), installation);
	r = redis_cmd(rc, 2, argv);
	ck_assert_int_eq(r->type, REDIS_REPLY_INTEGER);
	v = r->integer;
	freeReplyObject(r);
	return v;
}

START_TEST(test_token_is_fetched_once_and_shared_through_redis)
{
	struct fixture	 a, b;
	char		 t1[GITHUB_TOKEN_MAX], t2[GITHUB_TOKEN_MAX];
	char		 path[96];
	int64_t		 inst = fresh_id();

	token_path(path, sizeof(path), inst);
	fixture_open(&a, redis_addr, api_url, TIMEOUT_MS);
	fixture_open(&b, redis_addr, api_url, TIMEOUT_MS);

	ck_assert_int_eq(github_installation_token(a.gh, inst, t1,
	    sizeof(t1), NULL), GT_OK);
	ck_assert_int_eq(strncmp(t1, "ghs_", 4), 0);
	ck_assert_uint_eq(count_requests("POST", path), 1);

	/* Another handle, as another process would be: Redis answers. */
	ck_assert_int_eq(github_installation_token(b.gh, inst, t2,
	    sizeof(t2), NULL), GT_OK);
	ck_assert_str_eq(t1, t2);
	ck_assert_uint_eq(count_requests("POST", path), 1);
	fixture_close(&a);
	fixture_close(&b);
}
END_TEST

START_TEST(test_cached_token_expires_five_minutes_early)
{
	struct fixture	 f;
	char		 token[GITHUB_TOKEN_MAX];
	int64_t		 inst = fresh_id();
	long long	 pttl;

	fixture_open(&f, redis_addr, api_url, TIMEOUT_MS);
	ck_assert_int_eq(github_installation_token(f.gh, inst, token,
	    sizeof(token), NULL), GT_OK);

	/* The fake's tokens live an hour: cached for 55 minutes. */
	pttl = cache_pttl(f.rc, inst);
	ck_assert_int_le(pttl, 3300 * 1000LL);
	ck_assert_int_gt(pttl, 3290 * 1000LL);
	fixture_close(&f);
}
END_TEST

START_TEST(test_token_near_expiry_is_fetched_again)
{
	struct fixture	 f;
	char		 t1[GITHUB_TOKEN_MAX], t2[GITHUB_TOKEN_MAX];
	char		 path[96];
	int64_t		 inst = fresh_id();

	token_path(path, sizeof(path), inst);
	control("{\"token_ttl\": {\"installation\": %lld, \"seconds\": 240}}",
	    (long long)inst);
	fixture_open(&f, redis_addr, api_url, TIMEOUT_MS);

	ck_assert_int_eq(github_installation_token(f.gh, inst, t1,
	    sizeof(t1), NULL), GT_OK);
	ck_assert_int_eq(cache_pttl(f.rc, inst), -2);
	ck_assert_int_eq(github_installation_token(f.gh, inst, t2,
	    sizeof(t2), NULL), GT_OK);
	ck_assert_str_ne(t1, t2);
	ck_assert_uint_eq(count_requests("POST", path), 2);
	fixture_close(&f);
}
END_TEST

START_TEST(test_token_is_fetched_without_redis)
{
	struct fixture	 f;
	char		 token[GITHUB_TOKEN_MAX], path[96];
	int64_t		 inst = fresh_id();

	token_path(path, sizeof(path), inst);
	fixture_open(&f, UNREACHABLE, api_url, TIMEOUT_MS);
	ck_assert_int_eq(github_installation_token(f.gh, inst, token,
	    sizeof(token), NULL), GT_OK);
	ck_assert_int_eq(github_installation_token(f.gh, inst, token,
	    sizeof(token), NULL), GT_OK);
	ck_assert_uint_eq(count_requests("POST", path), 2);
	fixture_close(&f);
}
END_TEST

START_TEST(test_refused_cached_token_is_replaced)
{
	struct fixture		 f;
	struct github_result	 res;
	struct pull_info	 pr;
	struct arena		*a;
	char			 key[64], tpath[96], ppath[96];
	const char		*set[] = { "SET", key, "ghs_revoked", "EX",
				    "600" };
	const char		*get[] = { "GET", key };
	redisReply		*r;
	int64_t			 inst = fresh_id(), number = fresh_id();

	cache_key(key, sizeof(key), inst);
	token_path(tpath, sizeof(tpath), inst);
	pull_path(ppath, sizeof(ppath), number);
	fixture_open(&f, redis_addr, api_url, TIMEOUT_MS);
	ck_assert_ptr_nonnull(a = arena_new());
	freeReplyObject(redis_cmd(f.rc, 5, set));

	ck_assert_int_eq(github_pull(f.gh, a, inst, REPO, number, &pr, &res),
	    GT_OK);
	ck_assert_int_eq(res.status, 200);
	ck_assert_uint_eq(count_requests("GET", ppath), 2);
	ck_assert_uint_eq(count_requests("POST", tpath), 1);

	r = redis_cmd(f.rc, 2, get);
	ck_assert_int_eq(r->type, REDIS_REPLY_STRING);
	ck_assert_str_ne(r->str, "ghs_revoked");
	freeReplyObject(r);
	arena_free(a);
	fixture_close(&f);
}
END_TEST

START_TEST(test_primary_rate_limit_gives_reset_time)
{
	struct fixture		 f;
	struct github_result	 res;
	struct pull_info	 pr;
	struct arena		*a;
	char			 path[96];
	int64_t			 number = fresh_id();
	long long		 reset = (long long)time(NULL) + 120;

	pull_path(path, sizeof(path), number);
	control("{\"fault\": {\"count\": 1, \"prefix\": \"%s\", "
	    "\"mode\": \"rate_limit\", \"reset\": %lld}}", path, reset);
	fixture_open(&f, redis_addr, api_url, TIMEOUT_MS);
	ck_assert_ptr_nonnull(a = arena_new());

	ck_assert_int_eq(github_pull(f.gh, a, fresh_id(), REPO, number, &pr,
	    &res), GT_ERR_RATE_LIMITED);
	ck_assert_int_eq(res.outcome, GITHUB_RATE_LIMITED);
	ck_assert_int_eq(res.status, 403);
	ck_assert_int_eq(res.rate_remaining, 0);
	ck_assert_int_eq(res.rate_reset_s, reset);
	ck_assert_int_eq(res.retry_at_ms, reset * 1000);
	ck_assert_ptr_null(pr.head_ref);

	/* Nothing is retried here: that is the caller's call. */
	ck_assert_uint_eq(count_requests("GET", path), 1);
	arena_free(a);
	fixture_close(&f);
}
END_TEST

/* What github_quota_redis.h shares for /metrics, from the last answer. */
START_TEST(test_rate_headers_are_shared_for_metrics)
{
	const char		*get[] = { "GET", GITHUB_QUOTA_KEY };
	struct fixture		 f;
	struct pull_info	 pr;
	struct arena		*a;
	redisReply		*r;
	char			 path[96], want[48];
	int64_t			 number = fresh_id();
	long long		 reset = (long long)time(NULL) + 120;

	pull_path(path, sizeof(path), number);
	control("{\"fault\": {\"count\": 1, \"prefix\": \"%s\", "
	    "\"mode\": \"rate_limit\", \"reset\": %lld}}", path, reset);
	fixture_open(&f, redis_addr, api_url, TIMEOUT_MS);
	ck_assert_ptr_nonnull(a = arena_new());

	ck_assert_int_eq(github_pull(f.gh, a, fresh_id(), REPO, number, &pr,
	    NULL), GT_ERR_RATE_LIMITED);
	r = redis_cmd(f.rc, 2, get);
	ck_assert_int_eq(r->type, REDIS_REPLY_STRING);
	snprintf(want, sizeof(want), "0 %lld", reset);
	ck_assert_str_eq(r->str, want);
	freeReplyObject(r);
	arena_free(a);
	fixture_close(&f);
}
END_TEST

START_TEST(test_retry_after_429_is_parsed)
{
	struct fixture		 f;
	struct github_result	 res;
	char			 path[96];
	int64_t			 comment = fresh_id(), before, after;

	snprintf(path, sizeof(path), "/repos/" REPO "/issues/comments/%lld/"
	    "reactions", (long long)comment);
	control("{\"fault\": {\"count\": 1, \"prefix\": \"%s\", "
	    "\"mode\": \"retry_after\", \"status\": 429, \"seconds\": 7}}",
	    path);
	fixture_open(&f, redis_addr, api_url, TIMEOUT_MS);

	before = clock_now_ms();
	ck_assert_int_eq(github_react(f.gh, fresh_id(), REPO,
	    GITHUB_ISSUE_COMMENT, comment, "eyes", &res),
	    GT_ERR_RATE_LIMITED);
	after = clock_now_ms();
	ck_assert_int_eq(res.outcome, GITHUB_RATE_LIMITED);
	ck_assert_int_eq(res.status, 429);
	ck_assert_int_eq(res.retry_after_s, 7);
	ck_assert_int_ge(res.retry_at_ms, before + 7000);
	ck_assert_int_le(res.retry_at_ms, after + 7000);
	ck_assert_uint_eq(count_requests("POST", path), 1);
	fixture_close(&f);
}
END_TEST

START_TEST(test_retry_after_http_date_is_parsed)
{
	struct fixture		 f;
	struct github_result	 res;
	char			 path[96], date[64];
	int64_t			 comment = fresh_id();
	time_t			 when = time(NULL) + 3600;
	struct tm		 tm;

	/* RFC 9110 section 10.2.3 allows an HTTP-date as well. */
	ck_assert_ptr_nonnull(gmtime_r(&when, &tm));
	ck_assert_uint_gt(strftime(date, sizeof(date),
	    "%a, %d %b %Y %H:%M:%S GMT", &tm), 0);
	snprintf(path, sizeof(path), "/repos/" REPO "/issues/comments/%lld/"
	    "reactions", (long long)comment);
	control("{\"fault\": {\"count\": 1, \"prefix\": \"%s\", "
	    "\"mode\": \"retry_after\", \"status\": 429, "
	    "\"seconds\": \"%s\"}}", path, date);
	fixture_open(&f, redis_addr, api_url, TIMEOUT_MS);

	ck_assert_int_eq(github_react(f.gh, fresh_id(), REPO,
	    GITHUB_ISSUE_COMMENT, comment, "eyes", &res),
	    GT_ERR_RATE_LIMITED);
	ck_assert_int_ge(res.retry_after_s, 3598);
	ck_assert_int_le(res.retry_after_s, 3600);
	ck_assert_int_ge(res.retry_at_ms, (int64_t)when * 1000 - 2000);
	fixture_close(&f);
}
END_TEST

START_TEST(test_secondary_rate_limit_403_is_rate_limited)
{
	struct fixture		 f;
	struct github_result	 res;
	char			 path[96];
	int64_t			 number = fresh_id(), before;

	snprintf(path, sizeof(path), "/repos/" REPO "/issues/%lld/comments",
	    (long long)number);
	control("{\"fault\": {\"count\": 1, \"prefix\": \"%s\", "
	    "\"mode\": \"retry_after\", \"status\": 403, \"seconds\": 60}}",
	    path);
	fixture_open(&f, redis_addr, api_url, TIMEOUT_MS);

	before = clock_now_ms();
	ck_assert_int_eq(github_comment(f.gh, fresh_id(), REPO, number,
	    "done", &res), GT_ERR_RATE_LIMITED);
	ck_assert_int_eq(res.status, 403);
	ck_assert_int_eq(res.retry_after_s, 60);
	ck_assert_int_eq(res.rate_remaining, -1);
	ck_assert_int_ge(res.retry_at_ms, before + 60000);
	fixture_close(&f);
}
END_TEST

START_TEST(test_server_error_is_transient)
{
	struct fixture		 f;
	struct github_result	 res;
	struct pull_info	 pr;
	struct arena		*a;
	char			 path[96];
	int64_t			 number = fresh_id();

	pull_path(path, sizeof(path), number);
	control("{\"fault\": {\"count\": 1, \"prefix\": \"%s\", "
	    "\"mode\": \"error\", \"status\": 502}}", path);
	fixture_open(&f, redis_addr, api_url, TIMEOUT_MS);
	ck_assert_ptr_nonnull(a = arena_new());

	ck_assert_int_eq(github_pull(f.gh, a, fresh_id(), REPO, number, &pr,
	    &res), GT_ERR_UNAVAILABLE);
	ck_assert_int_eq(res.outcome, GITHUB_TRANSIENT);
	ck_assert_int_eq(res.status, 502);
	ck_assert_int_eq(res.retry_at_ms, 0);
	arena_free(a);
	fixture_close(&f);
}
END_TEST

START_TEST(test_slow_answer_times_out_as_transient)
{
	struct fixture		 f;
	struct github_result	 res;
	struct pull_info	 pr;
	struct arena		*a;
	char			 path[96], token[GITHUB_TOKEN_MAX];
	int64_t			 number = fresh_id(), inst = fresh_id();
	int64_t			 start, took;

	pull_path(path, sizeof(path), number);
	control("{\"fault\": {\"count\": 1, \"prefix\": \"%s\", "
	    "\"mode\": \"slow\", \"seconds\": 3}}", path);
	fixture_open(&f, redis_addr, api_url, 500);
	ck_assert_ptr_nonnull(a = arena_new());
	ck_assert_int_eq(github_installation_token(f.gh, inst, token,
	    sizeof(token), NULL), GT_OK);

	start = clock_mono_ms();
	ck_assert_int_eq(github_pull(f.gh, a, inst, REPO, number, &pr, &res),
	    GT_ERR_UNAVAILABLE);
	took = clock_mono_ms() - start;
	ck_assert_int_eq(res.outcome, GITHUB_TRANSIENT);
	ck_assert_int_eq(res.status, 0);
	ck_assert_int_ge(took, 450);
	ck_assert_int_lt(took, 500 + 500);
	arena_free(a);
	fixture_close(&f);
}
END_TEST

START_TEST(test_refused_connection_is_transient)
{
	struct fixture		 f;
	struct github_result	 res;

	fixture_open(&f, redis_addr, "http://" UNREACHABLE, TIMEOUT_MS);
	ck_assert_int_eq(github_hook_deliveries(f.gh, 10, NULL, &res),
	    GT_ERR_UNAVAILABLE);
	ck_assert_int_eq(res.outcome, GITHUB_TRANSIENT);
	ck_assert_int_eq(res.status, 0);
	fixture_close(&f);
}
END_TEST

START_TEST(test_not_found_is_permanent)
{
	struct fixture		 f;
	struct github_result	 res;
	int64_t			 comment = fresh_id();
	char			 path[128];

	snprintf(path, sizeof(path), "/repos/" REPO "/pulls/comments/%lld/"
	    "reactions", (long long)comment);
	control("{\"fault\": {\"count\": 1, \"prefix\": \"%s\", "
	    "\"mode\": \"error\", \"status\": 404, \"body\": "
	    "{\"message\": \"Not Found\"}}}", path);
	fixture_open(&f, redis_addr, api_url, TIMEOUT_MS);
	ck_assert_int_eq(github_react(f.gh, fresh_id(), REPO,
	    GITHUB_REVIEW_COMMENT, comment, "eyes", &res), GT_ERR_NOT_FOUND);
	ck_assert_int_eq(res.outcome, GITHUB_PERMANENT);
	ck_assert_int_eq(res.status, 404);
	ck_assert_ptr_nonnull(strstr(res.body, "Not Found"));
	fixture_close(&f);
}
END_TEST

START_TEST(test_forbidden_without_rate_headers_is_permanent)
{
	struct fixture		 f;
	struct github_result	 res;
	int64_t			 number = fresh_id();
	char			 path[128];

	snprintf(path, sizeof(path), "/repos/" REPO "/issues/%lld/comments",
	    (long long)number);
	control("{\"fault\": {\"count\": 1, \"prefix\": \"%s\", "
	    "\"mode\": \"error\", \"status\": 403, \"body\": {\"message\": "
	    "\"Resource not accessible by integration\"}}}", path);
	fixture_open(&f, redis_addr, api_url, TIMEOUT_MS);
	ck_assert_int_eq(github_comment(f.gh, fresh_id(), REPO, number, "x",
	    &res), GT_ERR_INVALID);
	ck_assert_int_eq(res.outcome, GITHUB_PERMANENT);
	ck_assert_int_eq(res.status, 403);
	fixture_close(&f);
}
END_TEST

START_TEST(test_oversized_answer_is_refused)
{
	struct fixture		 f;
	struct github_result	 res;
	struct pull_info	 pr;
	struct arena		*a;
	char			 path[96];
	int64_t			 number = fresh_id();

	pull_path(path, sizeof(path), number);
	control("{\"fault\": {\"count\": 1, \"prefix\": \"%s\", "
	    "\"mode\": \"huge\", \"bytes\": %d}}", path,
	    GITHUB_BODY_MAX + 1);
	fixture_open(&f, redis_addr, api_url, TIMEOUT_MS);
	ck_assert_ptr_nonnull(a = arena_new());
	ck_assert_int_eq(github_pull(f.gh, a, fresh_id(), REPO, number, &pr,
	    &res), GT_ERR_TOO_LARGE);
	ck_assert_int_eq(res.outcome, GITHUB_PERMANENT);
	arena_free(a);
	fixture_close(&f);
}
END_TEST

START_TEST(test_pull_is_fetched_and_parsed)
{
	struct fixture		 f;
	struct github_result	 res;
	struct pull_info	 pr;
	struct arena		*a;
	char			 path[96];
	int64_t			 number = fresh_id();

	pull_path(path, sizeof(path), number);
	fixture_open(&f, redis_addr, api_url, TIMEOUT_MS);
	ck_assert_ptr_nonnull(a = arena_new());
	ck_assert_int_eq(github_pull(f.gh, a, fresh_id(), REPO, number, &pr,
	    &res), GT_OK);
	ck_assert_int_eq(res.outcome, GITHUB_OK);
	ck_assert_int_eq(res.status, 200);
	ck_assert_str_eq(pr.head_ref, "fix/date-parser-leap-year");
	ck_assert_str_eq(pr.head_sha,
	    "83700cf4ab2d34e6642dfdb2fc4560dfed579d7c");
	ck_assert_str_eq(pr.base_ref, "main");
	json_object_put(assert_repo_request("GET", path, NULL));
	arena_free(a);
	fixture_close(&f);
}
END_TEST

START_TEST(test_pull_of_the_wrong_shape_is_invalid)
{
	struct fixture		 f;
	struct github_result	 res;
	struct pull_info	 pr;
	struct arena		*a;
	char			 path[96];
	int64_t			 number = fresh_id();

	pull_path(path, sizeof(path), number);
	control("{\"fault\": {\"count\": 1, \"prefix\": \"%s\", "
	    "\"mode\": \"error\", \"status\": 200, \"body\": {\"head\": "
	    "{\"ref\": 5, \"sha\": \"83700cf4\"}, \"base\": {\"ref\": "
	    "\"main\"}}}}", path);
	fixture_open(&f, redis_addr, api_url, TIMEOUT_MS);
	ck_assert_ptr_nonnull(a = arena_new());
	ck_assert_int_eq(github_pull(f.gh, a, fresh_id(), REPO, number, &pr,
	    &res), GT_ERR_INVALID);
	ck_assert_int_eq(res.outcome, GITHUB_PERMANENT);
	ck_assert_int_eq(res.status, 200);
	ck_assert_ptr_null(pr.head_ref);
	arena_free(a);
	fixture_close(&f);
}
END_TEST

START_TEST(test_issue_comment_reaction_is_posted)
{
	struct fixture		 f;
	struct github_result	 res;
	int64_t			 comment = fresh_id();
	char			 path[128];

	snprintf(path, sizeof(path), "/repos/" REPO "/issues/comments/%lld/"
	    "reactions", (long long)comment);
	fixture_open(&f, redis_addr, api_url, TIMEOUT_MS);
	ck_assert_int_eq(github_react(f.gh, fresh_id(), REPO,
	    GITHUB_ISSUE_COMMENT, comment, "eyes", &res), GT_OK);
	ck_assert_int_eq(res.status, 201);
	ck_assert_ptr_nonnull(strstr(res.body, "\"eyes\""));
	json_object_put(assert_repo_request("POST", path,
	    "{\"content\": \"eyes\"}"));
	fixture_close(&f);
}
END_TEST

START_TEST(test_review_comment_reaction_uses_pulls_path)
{
	struct fixture		 f;
	struct github_result	 res;
	int64_t			 comment = fresh_id();
	char			 path[128];

	snprintf(path, sizeof(path), "/repos/" REPO "/pulls/comments/%lld/"
	    "reactions", (long long)comment);
	fixture_open(&f, redis_addr, api_url, TIMEOUT_MS);
	ck_assert_int_eq(github_react(f.gh, fresh_id(), REPO,
	    GITHUB_REVIEW_COMMENT, comment, "rocket", &res), GT_OK);
	json_object_put(assert_repo_request("POST", path,
	    "{\"content\": \"rocket\"}"));
	fixture_close(&f);
}
END_TEST

START_TEST(test_unknown_reaction_makes_no_request)
{
	struct fixture		 f;
	struct github_result	 res;
	int64_t			 comment = fresh_id();
	char			 path[128];

	snprintf(path, sizeof(path), "/repos/" REPO "/issues/comments/%lld/"
	    "reactions", (long long)comment);
	fixture_open(&f, redis_addr, api_url, TIMEOUT_MS);
	ck_assert_int_eq(github_react(f.gh, fresh_id(), REPO,
	    GITHUB_ISSUE_COMMENT, comment, "thumbsup", &res), GT_ERR_INVALID);
	ck_assert_int_eq(res.outcome, GITHUB_PERMANENT);
	ck_assert_uint_eq(count_requests("POST", path), 0);
	fixture_close(&f);
}
END_TEST

START_TEST(test_comment_body_is_sent_as_json)
{
	static const char	 text[] = "Run \"r_1\" succeeded \xe2\x80\x94 "
	    "see `log.txt`\n\n- a\\b </script>\ttab";
	struct fixture		 f;
	struct github_result	 res;
	json_object		*want, *r;
	int64_t			 number = fresh_id();
	char			 path[128];

	snprintf(path, sizeof(path), "/repos/" REPO "/issues/%lld/comments",
	    (long long)number);
	fixture_open(&f, redis_addr, api_url, TIMEOUT_MS);
	ck_assert_int_eq(github_comment(f.gh, fresh_id(), REPO, number, text,
	    &res), GT_OK);
	ck_assert_int_eq(res.status, 201);

	ck_assert_ptr_nonnull(want = json_object_new_object());
	json_object_object_add(want, "body", json_object_new_string(text));
	r = assert_repo_request("POST", path,
	    json_object_to_json_string(want));
	json_object_put(r);
	json_object_put(want);
	fixture_close(&f);
}
END_TEST

START_TEST(test_malformed_repo_makes_no_request)
{
	static const char *const bad[] = {
		"octo-org", "octo-org/", "/widgets", "octo-org/..",
		"octo-org/wid gets", "octo org/widgets", "octo-org/a/b",
		"octo-org/widgets?x=1", "octo-org/%2e%2e"
	};
	struct fixture		 f;
	struct github_result	 res;
	struct pull_info	 pr;
	struct arena		*a;
	size_t			 i, before = count_all();

	fixture_open(&f, redis_addr, api_url, TIMEOUT_MS);
	ck_assert_ptr_nonnull(a = arena_new());
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_int_eq(github_pull(f.gh, a, fresh_id(), bad[i], 57,
		    &pr, &res), GT_ERR_INVALID);
		ck_assert_int_eq(res.outcome, GITHUB_PERMANENT);
		ck_assert_int_eq(res.status, 0);
	}
	ck_assert_int_eq(github_pull(f.gh, a, fresh_id(), REPO, 0, &pr, &res),
	    GT_ERR_INVALID);
	ck_assert_int_eq(github_pull(f.gh, a, 0, REPO, 57, &pr, &res),
	    GT_ERR_INVALID);
	ck_assert_uint_eq(count_all(), before);
	arena_free(a);
	fixture_close(&f);
}
END_TEST

START_TEST(test_no_app_configured_makes_no_request)
{
	struct fixture		 f;
	struct github_result	 res;
	char			 token[GITHUB_TOKEN_MAX], path[96];
	int64_t			 inst = fresh_id();

	token_path(path, sizeof(path), inst);
	fixture_open(&f, redis_addr, api_url, TIMEOUT_MS);
	github_free(f.gh);
	f.cfg.github_app_id = 0;
	ck_assert_ptr_nonnull(f.gh = github_new(&f.cfg, f.rc));
	ck_assert_int_eq(github_installation_token(f.gh, inst, token,
	    sizeof(token), &res), GT_ERR_INVALID);
	ck_assert_int_eq(res.outcome, GITHUB_PERMANENT);
	ck_assert_str_eq(token, "");
	ck_assert_int_eq(github_redeliver(f.gh, 1, &res), GT_ERR_INVALID);
	ck_assert_uint_eq(count_requests("POST", path), 0);
	fixture_close(&f);
}
END_TEST

START_TEST(test_app_requests_carry_the_jwt)
{
	struct fixture		 f;
	struct github_result	 res;
	json_object		*all, *r;
	const char		*auth;
	int64_t			 delivery = fresh_id();
	char			 path[96];

	snprintf(path, sizeof(path), "/app/hook/deliveries/%lld/attempts",
	    (long long)delivery);
	fixture_open(&f, redis_addr, api_url, TIMEOUT_MS);
	ck_assert_int_eq(github_redeliver(f.gh, delivery, &res), GT_OK);
	ck_assert_int_eq(res.status, 202);

	all = recorded("POST", path);
	ck_assert_uint_eq(json_object_array_length(all), 1);
	r = json_object_array_get_idx(all, 0);
	auth = header_of(r, "authorization");
	ck_assert_int_eq(strncmp(auth, "Bearer ey", 9), 0);
	ck_assert_ptr_nonnull(strchr(strchr(auth, '.') + 1, '.'));
	ck_assert_str_eq(header_of(r, "x-github-api-version"), "2022-11-28");
	json_object_put(all);
	fixture_close(&f);
}
END_TEST

/* The ids of a deliveries page, which must hold n of them. */
static void
assert_page(const struct github_result *res, size_t n, int64_t first)
{
	json_object	*list, *v;

	ck_assert_ptr_nonnull(list = json_tokener_parse(res->body));
	ck_assert(json_object_is_type(list, json_type_array));
	ck_assert_uint_eq(json_object_array_length(list), n);
	ck_assert(json_object_object_get_ex(json_object_array_get_idx(list,
	    0), "id", &v));
	ck_assert_int_eq(json_object_get_int64(v), first);
	json_object_put(list);
}

START_TEST(test_deliveries_are_paged_by_cursor)
{
	struct fixture		 f;
	struct github_result	 res;
	char			 cursor[GITHUB_CURSOR_MAX];

	fixture_open(&f, redis_addr, api_url, TIMEOUT_MS);

	/* The fixture's twelve deliveries, five at a time. */
	ck_assert_int_eq(github_hook_deliveries(f.gh, 5, NULL, &res), GT_OK);
	assert_page(&res, 5, 128452093377LL);
	ck_assert_ptr_nonnull(res.next_cursor);
	snprintf(cursor, sizeof(cursor), "%s", res.next_cursor);
	ck_assert_str_eq(cursor, "v1_5");

	ck_assert_int_eq(github_hook_deliveries(f.gh, 5, cursor, &res),
	    GT_OK);
	assert_page(&res, 5, 128442268903LL);
	snprintf(cursor, sizeof(cursor), "%s", res.next_cursor);

	ck_assert_int_eq(github_hook_deliveries(f.gh, 5, cursor, &res),
	    GT_OK);
	assert_page(&res, 2, 128439984716LL);
	ck_assert_ptr_null(res.next_cursor);

	ck_assert_int_eq(github_hook_deliveries(f.gh, 5, "v1_5&x=1", &res),
	    GT_ERR_INVALID);
	ck_assert_int_eq(github_hook_deliveries(f.gh, 0, NULL, &res),
	    GT_ERR_INVALID);
	fixture_close(&f);
}
END_TEST

START_TEST(test_deliveries_are_served_as_set)
{
	struct fixture		 f;
	struct github_result	 res;

	control("{\"deliveries\": [{\"id\": 7, \"guid\": \"g\"}]}");
	fixture_open(&f, redis_addr, api_url, TIMEOUT_MS);
	ck_assert_int_eq(github_hook_deliveries(f.gh, 30, NULL, &res), GT_OK);
	control("{\"deliveries\": null}");
	assert_page(&res, 1, 7);
	fixture_close(&f);
}
END_TEST

/* Points fd 2 at an unlinked file; returns the saved fd 2. */
static int
capture_begin(int *fd)
{
	char	 path[] = "/tmp/gt-ghlog.XXXXXX";
	int	 saved;

	ck_assert_int_ne(*fd = mkstemp(path), -1);
	(void)unlink(path);
	ck_assert_int_ne(saved = dup(STDERR_FILENO), -1);
	ck_assert_int_eq(dup2(*fd, STDERR_FILENO), STDERR_FILENO);
	return saved;
}

/* Puts fd 2 back and reads what was logged into out. */
static void
capture_end(int fd, int saved, char *out, size_t outlen)
{
	ssize_t	 n;

	(void)dup2(saved, STDERR_FILENO);
	close(saved);
	ck_assert_int_eq(lseek(fd, 0, SEEK_SET), 0);
	n = read(fd, out, outlen - 1);
	close(fd);
	ck_assert_int_ge(n, 0);
	out[n] = '\0';
}

START_TEST(test_no_secret_reaches_the_log)
{
	struct fixture		 f;
	struct github_result	 res;
	struct pull_info	 pr;
	struct arena		*a;
	char			 token[GITHUB_TOKEN_MAX], key[64], path[96];
	char			 logged[16384];
	const char		*set[] = { "SET", key, "ghs_revokedXYZ", "EX",
				    "600" };
	int64_t			 inst = fresh_id(), number = fresh_id();
	int			 fd, saved;

	cache_key(key, sizeof(key), inst);
	pull_path(path, sizeof(path), number);
	fixture_open(&f, redis_addr, api_url, TIMEOUT_MS);
	ck_assert_ptr_nonnull(a = arena_new());
	freeReplyObject(redis_cmd(f.rc, 5, set));

	/* A refused token (401), a rate limit, then an app request's 500. */
	saved = capture_begin(&fd);
	(void)github_pull(f.gh, a, inst, REPO, number, &pr, &res);
	control("{\"fault\": {\"count\": 1, \"prefix\": \"%s\", "
	    "\"mode\": \"rate_limit\"}}", path);
	(void)github_pull(f.gh, a, inst, REPO, number, &pr, &res);
	(void)github_installation_token(f.gh, inst, token, sizeof(token),
	    NULL);
	control("{\"fault\": {\"count\": 1, \"prefix\": "
	    "\"/app/hook/deliveries\", \"mode\": \"error\", \"status\": 500}}");
	(void)github_hook_deliveries(f.gh, 10, NULL, &res);
	capture_end(fd, saved, logged, sizeof(logged));

	ck_assert_msg(strstr(logged, "event=github_request_failed "
	    "method=GET path=/repos/octo-org/widgets/pulls/") != NULL,
	    "no failure line: %s", logged);
	ck_assert_ptr_nonnull(strstr(logged, "status=401"));
	ck_assert_ptr_nonnull(strstr(logged, "status=403 "
	    "outcome=rate_limited"));
	ck_assert_ptr_nonnull(strstr(logged, "status=500 outcome=transient"));
	ck_assert_ptr_null(strstr(logged, "ghs_"));
	ck_assert_ptr_null(strstr(logged, token));
	ck_assert_ptr_null(strstr(logged, "eyJ"));
	ck_assert_ptr_null(strstr(logged, "Bearer"));
	arena_free(a);
	fixture_close(&f);
}
END_TEST

static Suite *
github_suite(void)
{
	Suite	*s = suite_create("github");
	TCase	*tc;

	tc = tcase_create("installation tokens");
	tcase_add_test(tc, test_token_is_fetched_once_and_shared_through_redis);
	tcase_add_test(tc, test_cached_token_expires_five_minutes_early);
	tcase_add_test(tc, test_token_near_expiry_is_fetched_again);
	tcase_add_test(tc, test_token_is_fetched_without_redis);
	tcase_add_test(tc, test_refused_cached_token_is_replaced);
	tcase_add_test(tc, test_no_app_configured_makes_no_request);
	suite_add_tcase(s, tc);

	tc = tcase_create("outcomes");
	tcase_add_test(tc, test_primary_rate_limit_gives_reset_time);
	tcase_add_test(tc, test_rate_headers_are_shared_for_metrics);
	tcase_add_test(tc, test_retry_after_429_is_parsed);
	tcase_add_test(tc, test_retry_after_http_date_is_parsed);
	tcase_add_test(tc, test_secondary_rate_limit_403_is_rate_limited);
	tcase_add_test(tc, test_server_error_is_transient);
	tcase_add_test(tc, test_slow_answer_times_out_as_transient);
	tcase_add_test(tc, test_refused_connection_is_transient);
	tcase_add_test(tc, test_not_found_is_permanent);
	tcase_add_test(tc, test_forbidden_without_rate_headers_is_permanent);
	tcase_add_test(tc, test_oversized_answer_is_refused);
	tcase_add_test(tc, test_no_secret_reaches_the_log);
	suite_add_tcase(s, tc);

	tc = tcase_create("endpoints");
	tcase_add_test(tc, test_pull_is_fetched_and_parsed);
	tcase_add_test(tc, test_pull_of_the_wrong_shape_is_invalid);
	tcase_add_test(tc, test_issue_comment_reaction_is_posted);
	tcase_add_test(tc, test_review_comment_reaction_uses_pulls_path);
	tcase_add_test(tc, test_unknown_reaction_makes_no_request);
	tcase_add_test(tc, test_comment_body_is_sent_as_json);
	tcase_add_test(tc, test_malformed_repo_makes_no_request);
	tcase_add_test(tc, test_app_requests_carry_the_jwt);
	tcase_add_test(tc, test_deliveries_are_paged_by_cursor);
	tcase_add_test(tc, test_deliveries_are_served_as_set);
	suite_add_tcase(s, tc);
	return s;
}

/* The App's key: a new RSA key in PKCS#1 PEM, as GitHub hands out. */
static char *
make_key(void)
{
	EVP_PKEY	*key;
	BIO		*bio;
	char		*data, *pem = NULL;
	long		 n;

	if ((key = EVP_RSA_gen(2048)) == NULL)
		return NULL;
	if ((bio = BIO_new(BIO_s_mem())) != NULL &&
	    PEM_write_bio_PrivateKey_traditional(bio, key, NULL, NULL, 0,
	    NULL, NULL) == 1 && (n = BIO_get_mem_data(bio, &data)) > 0)
		pem = strndup(data, (size_t)n);
	BIO_free(bio);
	EVP_PKEY_free(key);
	return pem;
}

/*
 * Starts the fake in state_dir with its output in fake.log, and waits
 * (up to ten seconds) until it answers.  Returns 0, or -1 with a message.
 */
static int
fake_start(const char *srcdir)
{
	char		 script[1024], file[256], log[256];
	FILE		*fp;
	int		 port = 0, i, fd;

	snprintf(script, sizeof(script), "%s/t/tools/fake_github.py", srcdir);
	snprintf(log, sizeof(log), "%s/fake.log", state_dir);
	if ((fake_pid = fork()) == -1)
		return -1;
	if (fake_pid == 0) {
		fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fd != -1) {
			(void)dup2(fd, STDOUT_FILENO);
			(void)dup2(fd, STDERR_FILENO);
		}
		execlp("python3", "python3", script, "--port", "0",
		    "--state-dir", state_dir, "--app-id", "912345",
		    (char *)NULL);
		_exit(127);
	}

	snprintf(file, sizeof(file), "%s/port", state_dir);
	for (i = 0; i < 100; i++) {
		if (port == 0 && (fp = fopen(file, "r")) != NULL) {
			if (fscanf(fp, "%d", &port) != 1)
				port = 0;
			fclose(fp);
			snprintf(api_url, sizeof(api_url),
			    "http://127.0.0.1:%d", port);
		}
		if (port != 0 && fake_call("GET", "/_control", NULL) == 200)
			return 0;
		if (waitpid(fake_pid, NULL, WNOHANG) == fake_pid) {
			fake_pid = -1;
			break;
		}
		usleep(100 * 1000);
	}
	fprintf(stderr, "check_github: the fake GitHub did not start; see "
	    "%s\n", log);
	return -1;
}

static void
fake_stop(int keep)
{
	static const char *const files[] = { "requests.jsonl", "port",
	    "fake.log" };
	char	 path[256];
	size_t	 i;

	if (fake_pid > 0) {
		(void)kill(fake_pid, SIGTERM);
		(void)waitpid(fake_pid, NULL, 0);
	}
	if (keep) {
		fprintf(stderr, "check_github: the fake's state is kept in "
		    "%s\n", state_dir);
		return;
	}
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", state_dir, files[i]);
		(void)unlink(path);
	}
	(void)rmdir(state_dir);
}

int
main(void)
{
	const char	*srcdir;
	SRunner		*sr;
	int		 failed;

	if ((redis_addr = getenv("GT_REDIS")) == NULL || *redis_addr == '\0' ||
	    (srcdir = getenv("GT_SRCDIR")) == NULL || *srcdir == '\0') {
		fprintf(stderr, "check_github: GT_REDIS (the HOST:PORT of a "
		    "Redis server) and GT_SRCDIR (the source tree) must be "
		    "set\n");
		return EXIT_FAILURE;
	}

	/* As the programs using the client do (see github.h). */
	signal(SIGPIPE, SIG_IGN);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if ((app_pem = make_key()) == NULL) {
		fprintf(stderr, "check_github: cannot make an RSA key\n");
		return EXIT_FAILURE;
	}
	if (mkdtemp(state_dir) == NULL) {
		perror("check_github: mkdtemp");
		return EXIT_FAILURE;
	}
	if (fake_start(srcdir) == -1) {
		fake_stop(1);
		return EXIT_FAILURE;
	}

	sr = srunner_create(github_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	fake_stop(failed != 0);
	free(app_pem);
	curl_global_cleanup();
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
