/*
 * check_metrics.c: GET /metrics end to end, through the real nginx.
 *
 * The stack is shared with the other tests, so nothing here assumes what
 * a counter holds: each test reads /metrics, does something whose effect
 * it knows exactly, reads /metrics again and asserts the difference.  The
 * scripted mix of requests is sent by several processes at once, so the
 * pool's workers serve it together; killing every worker, or reloading
 * the pool, must not lose a count.  Rows this program writes to the
 * database name repositories after its pid and are deleted at the end.
 *
 * The fault cases stop or freeze PostgreSQL and Redis through t/stack.sh
 * and put them back, as check_http.c's do.
 */
#include <config.h>

#include <sys/types.h>
#include <sys/wait.h>

#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <check.h>
#include <curl/curl.h>
#include <libpq-fe.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "e2e/client.h"
#include "infra/config.h"
#include "infra/github_quota_redis.h"
#include "infra/redis.h"

#define SCRAPE_BOUND_MS	1000	/* /metrics answers within this, always */
#define RECOVERY_MS	10000	/* for a restarted server to be used again */
#define SENDERS		8	/* processes sending the mix at once */
#define WORKERS_MAX	64

static const char	*db_url;
static const char	*redis_addr;
static const char	*webhook_secret;
static long		 runner_pid;
static char		 owner[40];	/* of this run's repositories */

/* ------------------------------------------------------------------ */
/* Reading /metrics */

/* GET /metrics, which must answer 200 in the text format. */
static char *
scrape(int64_t *ms)
{
	struct answer	 a;
	char		*body;

	http_request("GET", "/metrics", NULL, 0, NULL, &a);
	ck_assert_msg(a.status == 200, "/metrics: %ld %s", a.status, a.body);
	ck_assert_pstr_eq(answer_header(&a, "Content-Type"),
	    "text/plain; version=0.0.4; charset=utf-8");
	if (ms != NULL)
		*ms = a.ms;
	body = a.body;
	a.body = NULL;
	answer_free(&a);
	return body;
}

/*
 * The value of the sample named exactly series ("name{a=\"b\"}"), or -1
 * when there is none.
 */
static double
value_of(const char *body, const char *series)
{
	const char	*line = body;
	size_t		 n = strlen(series);

	while (line != NULL && *line != '\0') {
		if (strncmp(line, series, n) == 0 && line[n] == ' ')
			return strtod(line + n + 1, NULL);
		if ((line = strchr(line, '\n')) != NULL)
			line++;
	}
	return -1;
}

/* A counter: absent is 0, as for a series nothing has touched yet. */
static double
counter(const char *body, const char *series)
{
	double	 v = value_of(body, series);

	return v < 0 ? 0 : v;
}

static double
requests(const char *body, const char *route, long status)
{
	char	 series[160];

	snprintf(series, sizeof(series), "gittinkerer_http_requests_total"
	    "{route=\"%s\",status=\"%ld\"}", route, status);
	return counter(body, series);
}

static double
duration_count(const char *body, const char *route)
{
	char	 series[160];

	snprintf(series, sizeof(series), "gittinkerer_http_request_duration_"
	    "seconds_count{route=\"%s\"}", route);
	return counter(body, series);
}

/* The sum of every gittinkerer_http_requests_total sample. */
static double
all_requests(const char *body)
{
	static const char	 name[] = "gittinkerer_http_requests_total{";
	const char		*line = body, *sp;
	double			 sum = 0;

	while (line != NULL && *line != '\0') {
		if (strncmp(line, name, sizeof(name) - 1) == 0 &&
		    (sp = strchr(line, ' ')) != NULL)
			sum += strtod(sp + 1, NULL);
		if ((line = strchr(line, '\n')) != NULL)
			line++;
	}
	return sum;
}

/* ------------------------------------------------------------------ */
/* The pool's processes */

static long
pool_pid(void)
{
	char	 cmd[4200], line[64];
	FILE	*p;
	long	 pid = -1;

	snprintf(cmd, sizeof(cmd), "bash '%s/t/stack.sh' pool-pid '%s'",
	    client_src_dir, client_stack_dir);
	ck_assert_ptr_nonnull(p = popen(cmd, "r"));
	if (fgets(line, sizeof(line), p) != NULL)
		pid = strtol(line, NULL, 10);
	pclose(p);
	ck_assert_int_gt(pid, 0);
	return pid;
}

/* The supervisor's live children (zombies left out); returns how many. */
static size_t
worker_pids(long sup, long *pids, size_t max)
{
	char	 cmd[96], stat[16];
	FILE	*p;
	long	 pid;
	size_t	 n = 0;

	snprintf(cmd, sizeof(cmd), "ps -o pid=,stat= --ppid %ld", sup);
	ck_assert_ptr_nonnull(p = popen(cmd, "r"));
	while (n < max && fscanf(p, "%ld %15s", &pid, stat) == 2)
		if (stat[0] != 'Z')
			pids[n++] = pid;
	pclose(p);
	return n;
}

static int
listed(long pid, const long *pids, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (pids[i] == pid)
			return 1;
	return 0;
}

/*
 * Polls /health until every one of want workers is new (none of old[])
 * and /health answers 200.  Returns how many polls were answered 200: the
 * pool counted those.
 */
static int
wait_for_new_workers(long sup, const long *old, size_t nold, size_t want)
{
	struct answer	 a;
	long		 now[WORKERS_MAX];
	int64_t		 until = now_ms() + RECOVERY_MS;
	size_t		 n, i;
	int		 ok = 0, fresh;

	for (;;) {
		http_request("GET", "/health", NULL, 0, NULL, &a);
		ok += a.status == 200;
		answer_free(&a);

		n = worker_pids(sup, now, WORKERS_MAX);
		fresh = n == want;
		for (i = 0; i < n && fresh; i++)
			fresh = !listed(now[i], old, nold);
		if (fresh && a.status == 200)
			return ok;
		ck_assert_msg(now_ms() < until, "the workers were not "
		    "replaced within %d ms", RECOVERY_MS);
		usleep(100 * 1000);
	}
}

/* ------------------------------------------------------------------ */
/* The scripted mix */

enum body_kind {
	NO_BODY,
	PING_SIGNED,	/* a ping delivery, signed: 200 pong */
	PING_UNSIGNED	/* the same without a signature: 401 */
};

/* One kind of request, how many are sent, and what the pool counts. */
struct kind {
	const char	*method;
	const char	*path;
	int		 token;		/* send the operator token */
	enum body_kind	 body;
	int		 times;
	long		 status;
	const char	*route;		/* the route label it counts under */
};

static const struct kind mix[] = {
	{ "GET", "/health", 0, NO_BODY, 37, 200, "health" },
	{ "GET", "/api/no-such-route", 0, NO_BODY, 12, 404, "unmatched" },
	{ "DELETE", "/health", 0, NO_BODY, 4, 405, "unmatched" },
	{ "GET", "/api/runs", 0, NO_BODY, 5, 401, "runs.list" },
	{ "GET", "/api/runs", 1, NO_BODY, 6, 200, "runs.list" },
	{ "GET", "/api/runs/not-a-run-id", 1, NO_BODY, 3, 400, "runs.get" },
	{ "POST", "/api/github/webhook", 0, PING_UNSIGNED, 3, 401,
	    "github.webhook" },
	{ "POST", "/api/github/webhook", 0, PING_SIGNED, 2, 200,
	    "github.webhook" },
};
#define NKINDS	(sizeof(mix) / sizeof(mix[0]))

static size_t
discard(char *data, size_t size, size_t n, void *arg)
{
	return size * n;
}

/*
 * Sends one request of kind k (the n-th of the mix) without Check's
 * assertions, as it runs in a sender process.  Returns the status, or 0
 * when no answer came.
 */
static long
send_one(const struct kind *k, int n)
{
	static const char	 ping[] = "{\"zen\":\"Keep it logically "
	    "awesome.\",\"hook_id\":1}";
	struct curl_slist	*hl = NULL;
	unsigned char		 mac[EVP_MAX_MD_SIZE];
	unsigned int		 maclen = 0, i;
	char			 url[4200], line[600];
	long			 status = 0;
	size_t			 o;
	CURL			*c;

	if ((c = curl_easy_init()) == NULL)
		return 0;
	snprintf(url, sizeof(url), "%s%s", client_url, k->path);
	if (k->token) {
		snprintf(line, sizeof(line), "Authorization: Bearer %s",
		    client_operator_token);
		hl = curl_slist_append(hl, line);
	}
	if (k->body != NO_BODY) {
		hl = curl_slist_append(hl, "Content-Type: application/json");
		hl = curl_slist_append(hl, "X-GitHub-Event: ping");
		snprintf(line, sizeof(line), "X-GitHub-Delivery: "
		    "metrics-%ld-%d", runner_pid, n);
		hl = curl_slist_append(hl, line);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, ping);
	}
	if (k->body == PING_SIGNED && HMAC(EVP_sha256(), webhook_secret,
	    (int)strlen(webhook_secret), (const unsigned char *)ping,
	    sizeof(ping) - 1, mac, &maclen) != NULL) {
		o = (size_t)snprintf(line, sizeof(line),
		    "X-Hub-Signature-256: sha256=");
		for (i = 0; i < maclen; i++)
			o += (size_t)snprintf(line + o, sizeof(line) - o,
			    "%02x", mac[i]);
		hl = curl_slist_append(hl, line);
	}
	hl = curl_slist_append(hl, "Expect:");
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, k->method);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 15000L);
	if (curl_easy_perform(c) == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_slist_free_all(hl);
	curl_easy_cleanup(c);
	return status;
}

/*
 * Sender me's share of the mix: every SENDERS-th request.  Exits with
 * the number of answers that were not as expected.
 */
static void __attribute__((noreturn))
sender(int me)
{
	size_t	 k;
	int	 n = 0, i, wrong = 0;
	long	 got;

	for (k = 0; k < NKINDS; k++)
		for (i = 0; i < mix[k].times; i++, n++) {
			if (n % SENDERS != me)
				continue;
			if ((got = send_one(&mix[k], n)) != mix[k].status) {
				fprintf(stderr, "%s %s: %ld, want %ld\n",
				    mix[k].method, mix[k].path, got,
				    mix[k].status);
				wrong++;
			}
		}
	_exit(wrong > 100 ? 100 : wrong);
}

static void
send_mix(void)
{
	pid_t	 pids[SENDERS];
	int	 i, status;

	for (i = 0; i < SENDERS; i++) {
		ck_assert_int_ne(pids[i] = fork(), -1);
		if (pids[i] == 0)
			sender(i);
	}
	for (i = 0; i < SENDERS; i++) {
		ck_assert_int_eq(waitpid(pids[i], &status, 0), pids[i]);
		ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		    "sender %d: %d answers not as expected", i,
		    WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	}
}

/* The mix's count of (route, status), or of route when status is 0. */
static int
mix_count(const char *route, long status)
{
	size_t	 k;
	int	 n = 0;

	for (k = 0; k < NKINDS; k++)
		if (strcmp(mix[k].route, route) == 0 &&
		    (status == 0 || mix[k].status == status))
			n += mix[k].times;
	return n;
}

START_TEST(test_metrics_is_prometheus_text_without_a_token)
{
	struct answer	 a;

	http_request("GET", "/metrics", NULL, 0, NULL, &a);
	ck_assert_int_eq(a.status, 200);
	ck_assert_pstr_eq(answer_header(&a, "Content-Type"),
	    "text/plain; version=0.0.4; charset=utf-8");
	ck_assert_pstr_eq(answer_header(&a, "Cache-Control"), "no-store");
	ck_assert_ptr_nonnull(answer_header(&a, "X-Request-Id"));
	ck_assert_ptr_nonnull(strstr(a.body, "# TYPE gittinkerer_http_"
	    "requests_total counter\n"));
	ck_assert_ptr_nonnull(strstr(a.body, "# TYPE gittinkerer_http_"
	    "request_duration_seconds histogram\n"));
	ck_assert(value_of(a.body, "gittinkerer_dependency_up"
	    "{dependency=\"postgres\"}") == 1);
	ck_assert(value_of(a.body, "gittinkerer_dependency_up"
	    "{dependency=\"redis\"}") == 1);
	ck_assert(value_of(a.body, "gittinkerer_runs{status=\"queued\"}") >=
	    0);
	ck_assert(value_of(a.body, "gittinkerer_github_outbox_failed") >= 0);
	answer_free(&a);
}
END_TEST

/* nginx serves /metrics to its allowed addresses only (127.0.0.1). */
START_TEST(test_metrics_is_refused_to_another_address)
{
	char	 url[4200];
	long	 status = 0;
	CURL	*c;

	snprintf(url, sizeof(url), "%s/metrics", client_url);
	ck_assert_ptr_nonnull(c = curl_easy_init());
	curl_easy_setopt(c, CURLOPT_URL, url);
	/* Another loopback address: nginx sees remote_addr 127.0.0.2. */
	curl_easy_setopt(c, CURLOPT_INTERFACE, "host!127.0.0.2");
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 5000L);
	ck_assert_int_eq(curl_easy_perform(c), CURLE_OK);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(c);
	ck_assert_int_eq(status, 403);
}
END_TEST

START_TEST(test_mix_across_workers_is_counted_exactly)
{
	char	*before, *after;
	size_t	 k, total = 0;

	before = scrape(NULL);
	send_mix();
	after = scrape(NULL);

	for (k = 0; k < NKINDS; k++) {
		total += (size_t)mix[k].times;
		ck_assert_msg(requests(after, mix[k].route, mix[k].status) -
		    requests(before, mix[k].route, mix[k].status) ==
		    mix_count(mix[k].route, mix[k].status),
		    "%s %ld: %.0f before, %.0f after, want +%d",
		    mix[k].route, mix[k].status,
		    requests(before, mix[k].route, mix[k].status),
		    requests(after, mix[k].route, mix[k].status),
		    mix_count(mix[k].route, mix[k].status));
		ck_assert(duration_count(after, mix[k].route) -
		    duration_count(before, mix[k].route) ==
		    mix_count(mix[k].route, 0));
	}

	/* The first scrape is counted once it is answered. */
	ck_assert(requests(after, "metrics", 200) -
	    requests(before, "metrics", 200) == 1);
	ck_assert(all_requests(after) - all_requests(before) ==
	    (double)total + 1);
	ck_assert(counter(after, "gittinkerer_webhook_deliveries_total"
	    "{status=\"pong\"}") - counter(before, "gittinkerer_webhook_"
	    "deliveries_total{status=\"pong\"}") == 2);
	free(before);
	free(after);
}
END_TEST

/* Sends n GET /health, which must all answer 200. */
static void
health_times(int n)
{
	struct answer	 a;
	int		 i;

	for (i = 0; i < n; i++) {
		http_request("GET", "/health", NULL, 0, NULL, &a);
		ck_assert_int_eq(a.status, 200);
		answer_free(&a);
	}
}

START_TEST(test_counts_survive_every_worker_killed)
{
	long	 sup = pool_pid(), old[WORKERS_MAX];
	char	*before, *after;
	size_t	 n, i;
	int	 polls;

	before = scrape(NULL);
	health_times(10);
	n = worker_pids(sup, old, WORKERS_MAX);
	ck_assert_uint_ge(n, 2);
	for (i = 0; i < n; i++)
		ck_assert_int_eq(kill((pid_t)old[i], SIGKILL), 0);
	polls = wait_for_new_workers(sup, old, n, n);
	after = scrape(NULL);

	ck_assert_int_eq(pool_pid(), sup);
	ck_assert_msg(requests(after, "health", 200) -
	    requests(before, "health", 200) == 10 + polls,
	    "health 200: %.0f before, %.0f after, want +%d",
	    requests(before, "health", 200), requests(after, "health", 200),
	    10 + polls);
	ck_assert(requests(after, "metrics", 200) >
	    requests(before, "metrics", 200));
	free(before);
	free(after);
}
END_TEST

START_TEST(test_counts_go_on_across_a_reload)
{
	long	 sup = pool_pid(), old[WORKERS_MAX];
	char	*before, *after;
	size_t	 n;
	int	 polls;

	before = scrape(NULL);
	health_times(7);
	n = worker_pids(sup, old, WORKERS_MAX);
	ck_assert_int_eq(kill((pid_t)sup, SIGHUP), 0);
	polls = wait_for_new_workers(sup, old, n, n);
	after = scrape(NULL);

	ck_assert_int_eq(pool_pid(), sup);
	ck_assert(requests(after, "health", 200) -
	    requests(before, "health", 200) == 7 + polls);
	free(before);
	free(after);
}
END_TEST

/* ------------------------------------------------------------------ */
/* The figures read at scrape time */

static PGconn *
db(void)
{
	PGconn	*c = PQconnectdb(db_url);

	ck_assert_msg(PQstatus(c) == CONNECTION_OK, "cannot connect: %s",
	    PQerrorMessage(c));
	return c;
}

/* Runs sql with one parameter, this program's repository owner. */
static void
db_exec(const char *sql)
{
	PGconn		*c = db();
	PGresult	*res;
	const char	*params[] = { owner };

	res = PQexecParams(c, sql, 1, NULL, params, NULL, NULL, 0);
	ck_assert_msg(PQresultStatus(res) == PGRES_COMMAND_OK ||
	    PQresultStatus(res) == PGRES_TUPLES_OK, "%s: %s", sql,
	    PQresultErrorMessage(res));
	PQclear(res);
	PQfinish(c);
}

static double
gauge_delta(const char *before, const char *after, const char *series)
{
	double	 b = value_of(before, series), a = value_of(after, series);

	ck_assert_msg(b >= 0 && a >= 0, "no %s", series);
	return a - b;
}

START_TEST(test_database_figures_follow_the_database)
{
	char	*before, *after;

	before = scrape(NULL);

	/*
	 * 3 queued runs (the oldest two days old), 1 running, 2 succeeded,
	 * 1 failed and 1 cancelled; 2 pending and 1 failed outbox items.
	 */
	db_exec("INSERT INTO runs (repo, target_type, target_number, "
	    "    instruction, status, source, requester, created_at, "
	    "    started_at, finished_at, error_stage, error_message) "
	    "SELECT $1::text || '/widgets', 'issue', v.n, 'metrics', "
	    "    v.status, 'api', 'e2e', now() - v.age, "
	    "    CASE WHEN v.status IN ('running', 'succeeded', 'failed') "
	    "        THEN now() - v.age END, "
	    "    CASE WHEN v.status IN ('succeeded', 'failed', 'cancelled') "
	    "        THEN now() - v.age END, "
	    "    CASE v.status WHEN 'failed' THEN 'runner' "
	    "        WHEN 'cancelled' THEN 'cancelled' END, "
	    "    CASE WHEN v.status IN ('failed', 'cancelled') "
	    "        THEN 'written by the metrics test' END "
	    "FROM (VALUES (1, 'queued', interval '2 days'), "
	    "    (2, 'queued', interval '1 hour'), "
	    "    (3, 'queued', interval '1 minute'), "
	    "    (4, 'running', interval '1 minute'), "
	    "    (5, 'succeeded', interval '1 hour'), "
	    "    (6, 'succeeded', interval '1 hour'), "
	    "    (7, 'failed', interval '1 hour'), "
	    "    (8, 'cancelled', interval '1 hour')) AS v (n, status, age)");
	db_exec("INSERT INTO github_outbox (kind, repo, payload, status) "
	    "SELECT 'reply', $1::text || '/widgets', '{}', v.status "
	    "FROM (VALUES ('pending'), ('pending'), ('failed')) AS v (status)");
	after = scrape(NULL);

	ck_assert(gauge_delta(before, after,
	    "gittinkerer_runs{status=\"queued\"}") == 3);
	ck_assert(gauge_delta(before, after,
	    "gittinkerer_runs{status=\"running\"}") == 1);
	ck_assert(gauge_delta(before, after,
	    "gittinkerer_runs{status=\"succeeded\"}") == 2);
	ck_assert(gauge_delta(before, after,
	    "gittinkerer_runs{status=\"failed\"}") == 1);
	ck_assert(gauge_delta(before, after,
	    "gittinkerer_runs{status=\"cancelled\"}") == 1);
	ck_assert(gauge_delta(before, after,
	    "gittinkerer_run_queue_depth") == 3);
	ck_assert(value_of(after,
	    "gittinkerer_run_queue_oldest_age_seconds") >= 2 * 86400);
	ck_assert(gauge_delta(before, after,
	    "gittinkerer_github_outbox_pending") == 2);
	ck_assert(gauge_delta(before, after,
	    "gittinkerer_github_outbox_failed") == 1);
	free(before);
	free(after);
}
END_TEST

START_TEST(test_rate_limit_refusal_is_counted_by_limit)
{
	static const char	 series[] = "gittinkerer_rate_limit_refusals_"
	    "total{source=\"api\",limit=\"repo\"}";
	struct answer		 a;
	char			*before, *after, body[256];

	/* This repository may create one run an hour. */
	db_exec("INSERT INTO rate_limits (repo_key, repo, \"limit\", "
	    "    window_seconds) "
	    "VALUES ($1::text || '/limited', $1::text || '/limited', 1, 3600)");
	snprintf(body, sizeof(body), "{\"repo\": \"%s/limited\", "
	    "\"target\": {\"type\": \"issue\", \"number\": 1}, "
	    "\"instruction\": \"count me\"}", owner);

	before = scrape(NULL);
	http_as(client_operator_token, "POST", "/api/runs", body, NULL, &a);
	ck_assert_msg(a.status == 201, "%ld %s", a.status, a.body);
	answer_free(&a);
	http_as(client_operator_token, "POST", "/api/runs", body, NULL, &a);
	assert_error(&a, 429, "rate_limited");
	answer_free(&a);
	after = scrape(NULL);

	ck_assert(counter(after, series) - counter(before, series) == 1);
	ck_assert(requests(after, "runs.create", 429) -
	    requests(before, "runs.create", 429) == 1);
	free(before);
	free(after);
}
END_TEST

/* A Redis handle on the stack's server, as the GitHub client has. */
static struct rconn *
redis(struct config *cfg)
{
	struct rconn	*rc;

	memset(cfg, 0, sizeof(*cfg));
	cfg->redis = (char *)(uintptr_t)redis_addr;
	cfg->redis_connect_timeout_ms = 1000;
	cfg->redis_command_timeout_ms = 1000;
	ck_assert_ptr_nonnull(rc = rconn_new(cfg));
	return rc;
}

START_TEST(test_github_quota_is_shown_while_known)
{
	const char	*del[] = { "DEL", GITHUB_QUOTA_KEY };
	size_t		 dellen[] = { 3, strlen(GITHUB_QUOTA_KEY) };
	struct config	 cfg;
	struct rconn	*rc = redis(&cfg);
	redisReply	*r;
	char		*body;
	long long	 reset = (long long)time(NULL) + 600;

	/* As the GitHub client records an answer. */
	github_quota_record(rc, 4321, reset, time(NULL));
	body = scrape(NULL);
	ck_assert(value_of(body, "gittinkerer_github_ratelimit_remaining") ==
	    4321);
	ck_assert(value_of(body, "gittinkerer_github_ratelimit_reset_"
	    "timestamp_seconds") == (double)reset);
	free(body);

	ck_assert_ptr_nonnull(r = rconn_command(rc, 2, del, dellen));
	freeReplyObject(r);
	body = scrape(NULL);
	ck_assert_ptr_null(strstr(body, "gittinkerer_github_ratelimit"));
	ck_assert(value_of(body, "gittinkerer_dependency_up"
	    "{dependency=\"redis\"}") == 1);
	free(body);
	rconn_free(rc);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Dependencies down */

/*
 * Scrapes once per worker, so that each meets the fault on its own
 * connection: every answer is 200 within the bound, with the counters,
 * and says which dependency answered.
 */
static void
scrapes_say(int pg_up, int redis_up)
{
	char	*body;
	int64_t	 ms;
	int	 i;

	for (i = 0; i < 6; i++) {
		body = scrape(&ms);
		ck_assert_msg(ms <= SCRAPE_BOUND_MS, "/metrics took %lld ms",
		    (long long)ms);
		ck_assert(value_of(body, "gittinkerer_dependency_up"
		    "{dependency=\"postgres\"}") == pg_up);
		ck_assert(value_of(body, "gittinkerer_dependency_up"
		    "{dependency=\"redis\"}") == redis_up);
		ck_assert((value_of(body, "gittinkerer_runs"
		    "{status=\"queued\"}") >= 0) == pg_up);
		ck_assert(requests(body, "metrics", 200) >= 1);
		free(body);
	}
}

/* Waits for a scrape that finds both dependencies up again. */
static void
wait_both_up(void)
{
	int64_t	 until = now_ms() + RECOVERY_MS;
	char	*body;
	int	 up;

	do {
		body = scrape(NULL);
		up = value_of(body, "gittinkerer_dependency_up"
		    "{dependency=\"postgres\"}") == 1 && value_of(body,
		    "gittinkerer_dependency_up{dependency=\"redis\"}") == 1;
		free(body);
		if (!up)
			usleep(100 * 1000);
	} while (!up && now_ms() < until);
	ck_assert_msg(up, "a dependency still down %d ms after its restart",
	    RECOVERY_MS);

	/* Every worker's connections, not only one's. */
	usleep(600 * 1000);
}

START_TEST(test_scrape_with_postgres_stopped)
{
	stack_cmd("pg-stop");
	scrapes_say(0, 1);
	stack_cmd("pg-start");
	wait_both_up();
}
END_TEST

START_TEST(test_scrape_within_bound_with_postgres_frozen)
{
	stack_cmd("pg-freeze");
	scrapes_say(0, 1);
	stack_cmd("pg-thaw");
	wait_both_up();
}
END_TEST

START_TEST(test_scrape_within_bound_with_redis_frozen)
{
	stack_cmd("redis-freeze");
	scrapes_say(1, 0);
	stack_cmd("redis-thaw");
	wait_both_up();
}
END_TEST

START_TEST(test_scrape_within_bound_with_both_frozen)
{
	stack_cmd("pg-freeze");
	stack_cmd("redis-freeze");
	scrapes_say(0, 0);
	stack_cmd("redis-thaw");
	stack_cmd("pg-thaw");
	wait_both_up();
}
END_TEST

static void
cleanup(void)
{
	db_exec("DELETE FROM github_outbox WHERE repo LIKE $1::text || '/%'");
	db_exec("DELETE FROM runs WHERE repo LIKE $1::text || '/%'");
	db_exec("DELETE FROM rate_limits WHERE repo LIKE $1::text || '/%'");
}

static Suite *
metrics_suite(void)
{
	Suite	*s = suite_create("metrics");
	TCase	*tc = tcase_create("through nginx");
	TCase	*figures = tcase_create("figures");
	TCase	*faults = tcase_create("dependency faults");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_metrics_is_prometheus_text_without_a_token);
	tcase_add_test(tc, test_metrics_is_refused_to_another_address);
	tcase_add_test(tc, test_mix_across_workers_is_counted_exactly);
	tcase_add_test(tc, test_counts_survive_every_worker_killed);
	tcase_add_test(tc, test_counts_go_on_across_a_reload);
	suite_add_tcase(s, tc);

	tcase_add_unchecked_fixture(figures, NULL, cleanup);
	tcase_add_test(figures, test_database_figures_follow_the_database);
	tcase_add_test(figures, test_rate_limit_refusal_is_counted_by_limit);
	tcase_add_test(figures, test_github_quota_is_shown_while_known);
	suite_add_tcase(s, figures);

	tcase_set_timeout(faults, 120);
	tcase_add_test(faults, test_scrape_with_postgres_stopped);
	tcase_add_test(faults, test_scrape_within_bound_with_postgres_frozen);
	tcase_add_test(faults, test_scrape_within_bound_with_redis_frozen);
	tcase_add_test(faults, test_scrape_within_bound_with_both_frozen);
	suite_add_tcase(s, faults);
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
	webhook_secret = getenv("GT_WEBHOOK_SECRET");
	if (db_url == NULL || redis_addr == NULL || webhook_secret == NULL) {
		fprintf(stderr, "check_metrics: GT_DATABASE_URL, GT_REDIS and "
		    "GT_WEBHOOK_SECRET must be set (t/stack-tests.sh sets "
		    "them)\n");
		return EXIT_FAILURE;
	}
	runner_pid = (long)getpid();

	/* Unique across runs too: the limiter remembers a window in Redis. */
	snprintf(owner, sizeof(owner), "metrics-%ld-%lld", runner_pid,
	    (long long)time(NULL));

	sr = srunner_create(metrics_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
