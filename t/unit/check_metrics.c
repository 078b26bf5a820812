/*
 * check_metrics.c: the pool's shared counters and the Prometheus text.
 *
 * Each test maps a table of its own (Check runs every test in a process
 * of its own), counts into it, here or from forked processes as workers
 * would, and reads the counters back through the rendered text, as a
 * scraper does.  The gauges' text and the use case that reads them are
 * tested with fake ports.
 */
#include <config.h>

#include <sys/types.h>
#include <sys/wait.h>

#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "domain/buf.h"
#include "http/metrics.h"
#include "http/router.h"
#include "usecase/gauges.h"
#include "usecase/webhook.h"

#define PROCS		8
#define PER_PROC	20000

/* A routes table as app.c's, the second name needing every escape. */
static const struct route routes[] = {
	{ "GET", "/a", "alpha", NULL, ROLE_NONE, 0, 0 },
	{ "GET", "/b", "be\"ta\\x\ny", NULL, ROLE_NONE, 0, 0 },
};
#define NROUTES	(sizeof(routes) / sizeof(routes[0]))

static struct buf	 text;

static void
setup(void)
{
	ck_assert_int_eq(metrics_init(), 0);
	buf_init(&text);
}

static void
teardown(void)
{
	buf_free(&text);
	metrics_free();
}

/* Renders the counters into text, replacing what it held. */
static const char *
render(void)
{
	buf_reset(&text);
	metrics_render(&text, routes, NROUTES);
	ck_assert(!text.oom);
	return buf_str(&text);
}

/*
 * The value of the sample whose name and labels are exactly series
 * ("name{a=\"b\"}"), as a string in out; NULL when there is none.
 */
static const char *
sample_of(const char *body, const char *series, char *out, size_t outlen)
{
	size_t		 n = strlen(series), len;
	const char	*line, *end;

	for (line = body; *line != '\0'; line = end + 1) {
		if ((end = strchr(line, '\n')) == NULL)
			end = line + strlen(line);
		if (strncmp(line, series, n) == 0 && line[n] == ' ') {
			len = (size_t)(end - line) - n - 1;
			ck_assert_uint_lt(len, outlen);
			memcpy(out, line + n + 1, len);
			out[len] = '\0';
			return out;
		}
		if (*end == '\0')
			break;
	}
	return NULL;
}

/* The sample's value, which must be there and a whole number. */
static unsigned long long
count_of(const char *series)
{
	char		 v[64], *end;
	unsigned long long n;

	ck_assert_msg(sample_of(render(), series, v, sizeof(v)) != NULL,
	    "no sample %s in:\n%s", series, buf_str(&text));
	n = strtoull(v, &end, 10);
	ck_assert_msg(*end == '\0', "%s: %s is not a count", series, v);
	return n;
}

static void
assert_sample(const char *body, const char *series, const char *want)
{
	char	 v[64];

	ck_assert_msg(sample_of(body, series, v, sizeof(v)) != NULL,
	    "no sample %s in:\n%s", series, body);
	ck_assert_str_eq(v, want);
}

static void
assert_no_sample(const char *body, const char *series)
{
	char	 v[64];

	ck_assert_msg(sample_of(body, series, v, sizeof(v)) == NULL,
	    "unexpected sample %s in:\n%s", series, body);
}

/* Forks n processes that each run fn(i) and exit 0; waits for them. */
static void
in_processes(int n, void (*fn)(int))
{
	pid_t	 pids[PROCS];
	int	 gate[2], i, status;
	char	 c;

	ck_assert_int_le(n, PROCS);
	ck_assert_int_eq(pipe(gate), 0);
	for (i = 0; i < n; i++) {
		ck_assert_int_ne(pids[i] = fork(), -1);
		if (pids[i] == 0) {
			/* Every process starts when the gate opens. */
			close(gate[1]);
			if (read(gate[0], &c, 1) == -1)
				_exit(1);
			fn(i);
			_exit(0);
		}
	}
	close(gate[0]);
	close(gate[1]);
	for (i = 0; i < n; i++) {
		ck_assert_int_eq(waitpid(pids[i], &status, 0), pids[i]);
		ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
}

static void
hammer(int i)
{
	struct webhook_answer	 a = { WEBHOOK_ACCEPTED, NULL, NULL, NULL };
	int			 k;

	(void)i;
	for (k = 0; k < PER_PROC; k++) {
		metrics_count_request(0, 200, 1500);
		metrics_count_rate_limited(METRICS_API, "repo");
		metrics_count_webhook(&a);
	}
}

START_TEST(concurrent_increments_from_processes_sum_exactly)
{
	const unsigned long long	 want = (unsigned long long)PROCS *
	    PER_PROC;
	char				 sum[32];

	in_processes(PROCS, hammer);

	ck_assert_uint_eq(count_of("gittinkerer_http_requests_total"
	    "{route=\"alpha\",status=\"200\"}"), want);
	ck_assert_uint_eq(count_of("gittinkerer_http_request_duration_seconds"
	    "_bucket{route=\"alpha\",le=\"0.005\"}"), want);
	ck_assert_uint_eq(count_of("gittinkerer_http_request_duration_seconds"
	    "_count{route=\"alpha\"}"), want);
	snprintf(sum, sizeof(sum), "%llu.000000", want * 1500 / 1000000);
	assert_sample(render(), "gittinkerer_http_request_duration_seconds"
	    "_sum{route=\"alpha\"}", sum);
	ck_assert_uint_eq(count_of("gittinkerer_rate_limit_refusals_total"
	    "{source=\"api\",limit=\"repo\"}"), want);
	ck_assert_uint_eq(count_of("gittinkerer_webhook_deliveries_total"
	    "{status=\"accepted\"}"), want);
}
END_TEST

/* A worker that serves 5 requests and exits, as one recycled does. */
static void
serve_five(int i)
{
	int	 k;

	(void)i;
	for (k = 0; k < 5; k++)
		metrics_count_request(1, 201, 100);
}

START_TEST(counts_outlive_workers_killed_or_recycled)
{
	pid_t	 pid;
	int	 ready[2], status;
	char	 c = 0;

	in_processes(1, serve_five);

	/* A worker killed with SIGKILL after 3 requests. */
	ck_assert_int_eq(pipe(ready), 0);
	ck_assert_int_ne(pid = fork(), -1);
	if (pid == 0) {
		metrics_count_request(1, 201, 100);
		metrics_count_request(1, 201, 100);
		metrics_count_request(1, 201, 100);
		if (write(ready[1], &c, 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	ck_assert_int_eq(read(ready[0], &c, 1), 1);
	ck_assert_int_eq(kill(pid, SIGKILL), 0);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFSIGNALED(status));
	close(ready[0]);
	close(ready[1]);

	/* A new generation (SIGHUP) maps nothing new: the table stays. */
	ck_assert_int_eq(metrics_init(), 0);
	in_processes(1, serve_five);

	ck_assert_uint_eq(count_of("gittinkerer_http_requests_total"
	    "{route=\"be\\\"ta\\\\x\\ny\",status=\"201\"}"), 13);
}
END_TEST

START_TEST(label_values_are_escaped)
{
	const char	*body;

	metrics_count_request(1, 200, 10);
	body = render();
	ck_assert_ptr_nonnull(strstr(body, "gittinkerer_http_requests_total"
	    "{route=\"be\\\"ta\\\\x\\ny\",status=\"200\"} 1\n"));
	ck_assert_ptr_nonnull(strstr(body, "_bucket{route=\"be\\\"ta\\\\x\\ny"
	    "\",le=\"+Inf\"} 1\n"));
	/* No raw newline inside a sample: every line is a whole sample. */
	ck_assert_ptr_null(strstr(body, "be\"ta"));
}
END_TEST

START_TEST(histogram_buckets_are_cumulative_with_inf_sum_and_count)
{
	static const int64_t	 us[] = { 1000, 5000, 7000, 30000, 2000000,
	    20000000 };
	static const struct {
		const char	*le;
		const char	*count;
	} want[] = {
		{ "0.005", "2" }, { "0.01", "3" }, { "0.025", "3" },
		{ "0.05", "4" }, { "0.1", "4" }, { "0.25", "4" },
		{ "0.5", "4" }, { "1", "4" }, { "2.5", "5" }, { "5", "5" },
		{ "10", "5" }, { "+Inf", "6" },
	};
	const char	*body, *at, *prev = NULL;
	char		 series[160];
	size_t		 i;

	for (i = 0; i < sizeof(us) / sizeof(us[0]); i++)
		metrics_count_request(0, 200, us[i]);
	body = render();

	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		snprintf(series, sizeof(series),
		    "gittinkerer_http_request_duration_seconds_bucket"
		    "{route=\"alpha\",le=\"%s\"}", want[i].le);
		assert_sample(body, series, want[i].count);

		/* In order of le, +Inf last. */
		ck_assert_ptr_nonnull(at = strstr(body, series));
		ck_assert(prev == NULL || at > prev);
		prev = at;
	}
	assert_sample(body, "gittinkerer_http_request_duration_seconds_sum"
	    "{route=\"alpha\"}", "22.043000");
	assert_sample(body, "gittinkerer_http_request_duration_seconds_count"
	    "{route=\"alpha\"}", "6");
	ck_assert_ptr_nonnull(strstr(body, "# TYPE gittinkerer_http_request_"
	    "duration_seconds histogram\n"));

	/* A route without requests has no histogram. */
	ck_assert_ptr_null(strstr(body, "_count{route=\"be"));
}
END_TEST

START_TEST(unmatched_and_out_of_range_are_bounded)
{
	const char	*body;

	metrics_count_request(METRICS_UNMATCHED, 404, 10);
	metrics_count_request(METRICS_ROUTES_MAX + 5, 405, 10);
	metrics_count_request(0, 42, 10);
	metrics_count_request(0, 200, -7);
	body = render();

	assert_sample(body, "gittinkerer_http_requests_total"
	    "{route=\"unmatched\",status=\"404\"}", "1");
	assert_sample(body, "gittinkerer_http_requests_total"
	    "{route=\"unmatched\",status=\"405\"}", "1");
	assert_sample(body, "gittinkerer_http_requests_total"
	    "{route=\"alpha\",status=\"500\"}", "1");
	assert_sample(body, "gittinkerer_http_requests_total"
	    "{route=\"alpha\",status=\"200\"}", "1");
	assert_sample(body, "gittinkerer_http_request_duration_seconds_sum"
	    "{route=\"alpha\"}", "0.000010");
	assert_no_sample(body, "gittinkerer_http_requests_total"
	    "{route=\"alpha\",status=\"42\"}");
}
END_TEST

START_TEST(refusals_are_counted_by_source_and_limit)
{
	struct webhook_answer	 limited = { WEBHOOK_IGNORED, "rate_limited",
	    NULL, "requester" };
	const char		*body;

	metrics_count_rate_limited(METRICS_API, "requester");
	metrics_count_rate_limited(METRICS_API, NULL);
	metrics_count_rate_limited(METRICS_API, "bogus");
	metrics_count_webhook(&limited);
	body = render();

	assert_sample(body, "gittinkerer_rate_limit_refusals_total"
	    "{source=\"api\",limit=\"repo\"}", "0");
	assert_sample(body, "gittinkerer_rate_limit_refusals_total"
	    "{source=\"api\",limit=\"requester\"}", "1");
	assert_sample(body, "gittinkerer_rate_limit_refusals_total"
	    "{source=\"api\",limit=\"unknown\"}", "2");
	assert_sample(body, "gittinkerer_rate_limit_refusals_total"
	    "{source=\"webhook\",limit=\"requester\"}", "1");
	assert_sample(body, "gittinkerer_webhook_deliveries_total"
	    "{status=\"ignored\",reason=\"rate_limited\"}", "1");
}
END_TEST

START_TEST(webhook_outcomes_are_counted_by_status_and_reason)
{
	struct webhook_answer	 pong = { WEBHOOK_PONG, NULL, NULL, NULL };
	struct webhook_answer	 no_trigger = { WEBHOOK_IGNORED, "no_trigger",
	    NULL, NULL };
	struct webhook_answer	 odd = { WEBHOOK_IGNORED, "new_reason", NULL,
	    NULL };
	const char		*body;

	metrics_count_webhook(&pong);
	metrics_count_webhook(&pong);
	metrics_count_webhook(&no_trigger);
	metrics_count_webhook(&odd);
	body = render();

	assert_sample(body, "gittinkerer_webhook_deliveries_total"
	    "{status=\"pong\"}", "2");
	assert_sample(body, "gittinkerer_webhook_deliveries_total"
	    "{status=\"ignored\",reason=\"no_trigger\"}", "1");
	assert_sample(body, "gittinkerer_webhook_deliveries_total"
	    "{status=\"ignored\",reason=\"other\"}", "1");
	assert_sample(body, "gittinkerer_webhook_deliveries_total"
	    "{status=\"duplicate\"}", "0");
	/* Not a refusal: only rate_limited counts there. */
	assert_sample(body, "gittinkerer_rate_limit_refusals_total"
	    "{source=\"webhook\",limit=\"unknown\"}", "0");
}
END_TEST

START_TEST(counting_before_init_does_nothing)
{
	const char	*body;

	metrics_free();
	metrics_count_request(0, 200, 10);
	metrics_count_rate_limited(METRICS_API, "repo");
	body = render();
	assert_no_sample(body, "gittinkerer_http_requests_total"
	    "{route=\"alpha\",status=\"200\"}");
	assert_sample(body, "gittinkerer_rate_limit_refusals_total"
	    "{source=\"api\",limit=\"repo\"}", "0");
}
END_TEST

/*
 * Whether every line of body is a comment or a sample of a family whose
 * TYPE came before it, each family declared once, every value a number.
 */
static void
assert_exposition_format(const char *body)
{
	char		 families[64][96], name[96], *end;
	const char	*line, *nl, *sp, *brace;
	size_t		 nfam = 0, i, len;
	int		 known;

	for (line = body; *line != '\0'; line = nl + 1) {
		ck_assert_ptr_nonnull(nl = strchr(line, '\n'));
		if (strncmp(line, "# TYPE ", 7) == 0) {
			sp = strchr(line + 7, ' ');
			len = (size_t)(sp - line - 7);
			ck_assert_uint_lt(len, sizeof(name));
			for (i = 0; i < nfam; i++)
				ck_assert(strncmp(families[i], line + 7,
				    len) != 0 || families[i][len] != '\0');
			ck_assert_uint_lt(nfam, 64);
			memcpy(families[nfam], line + 7, len);
			families[nfam++][len] = '\0';
			continue;
		}
		if (line[0] == '#')
			continue;

		sp = memchr(line, ' ', (size_t)(nl - line));
		brace = memchr(line, '{', (size_t)(nl - line));
		len = (size_t)((brace != NULL && brace < sp ? brace : sp) -
		    line);
		memcpy(name, line, len);
		name[len] = '\0';
		known = 0;
		for (i = 0; i < nfam && !known; i++)
			known = strcmp(name, families[i]) == 0 ||
			    (strncmp(name, families[i], strlen(families[i])) ==
			    0 && (strcmp(name + strlen(families[i]),
			    "_bucket") == 0 || strcmp(name +
			    strlen(families[i]), "_sum") == 0 ||
			    strcmp(name + strlen(families[i]), "_count") ==
			    0));
		ck_assert_msg(known, "sample before its TYPE: %.*s",
		    (int)(nl - line), line);
		(void)strtod(sp + 1, &end);
		ck_assert_msg(end == nl, "not a number: %.*s",
		    (int)(nl - line), line);
	}
}

START_TEST(text_is_exposition_format)
{
	struct gauge_report	 rep;

	memset(&rep, 0, sizeof(rep));
	rep.db_up = rep.cache_up = rep.quota_known = 1;
	rep.quota.remaining = 10;
	rep.quota.reset_s = 1700000000;
	metrics_count_request(0, 200, 10);
	metrics_count_request(1, 404, 10);
	(void)render();
	metrics_render_gauges(&text, &rep);
	assert_exposition_format(buf_str(&text));
}
END_TEST

START_TEST(gauges_give_what_each_dependency_gave)
{
	struct gauge_report	 rep;
	const char		*body;

	memset(&rep, 0, sizeof(rep));
	rep.db_up = 1;
	rep.db.runs[RUN_QUEUED] = 3;
	rep.db.runs[RUN_CANCELLED] = 7;
	rep.db.oldest_queued_ms = 61234;
	rep.db.outbox_pending = 2;
	rep.db.outbox_failed = 1;
	rep.cache_up = 1;
	rep.quota_known = 1;
	rep.quota.remaining = 4321;
	rep.quota.reset_s = 1767225600;
	metrics_render_gauges(&text, &rep);
	body = buf_str(&text);

	assert_sample(body, "gittinkerer_dependency_up"
	    "{dependency=\"postgres\"}", "1");
	assert_sample(body, "gittinkerer_dependency_up"
	    "{dependency=\"redis\"}", "1");
	assert_sample(body, "gittinkerer_runs{status=\"queued\"}", "3");
	assert_sample(body, "gittinkerer_runs{status=\"running\"}", "0");
	assert_sample(body, "gittinkerer_runs{status=\"cancelled\"}", "7");
	assert_sample(body, "gittinkerer_run_queue_depth", "3");
	assert_sample(body, "gittinkerer_run_queue_oldest_age_seconds",
	    "61.234");
	assert_sample(body, "gittinkerer_github_outbox_pending", "2");
	assert_sample(body, "gittinkerer_github_outbox_failed", "1");
	assert_sample(body, "gittinkerer_github_ratelimit_remaining", "4321");
	assert_sample(body, "gittinkerer_github_ratelimit_reset_timestamp_"
	    "seconds", "1767225600");
}
END_TEST

START_TEST(gauges_of_a_dependency_down_are_left_out)
{
	struct gauge_report	 rep;
	const char		*body;

	memset(&rep, 0, sizeof(rep));
	rep.cache_up = 1;
	rep.quota_known = 1;
	rep.quota.remaining = 0;
	rep.quota.reset_s = -1;
	metrics_render_gauges(&text, &rep);
	body = buf_str(&text);

	assert_sample(body, "gittinkerer_dependency_up"
	    "{dependency=\"postgres\"}", "0");
	assert_sample(body, "gittinkerer_dependency_up"
	    "{dependency=\"redis\"}", "1");
	ck_assert_ptr_null(strstr(body, "gittinkerer_runs"));
	ck_assert_ptr_null(strstr(body, "gittinkerer_run_queue"));
	ck_assert_ptr_null(strstr(body, "gittinkerer_github_outbox"));
	assert_sample(body, "gittinkerer_github_ratelimit_remaining", "0");
	ck_assert_ptr_null(strstr(body, "reset_timestamp"));

	rep.quota_known = 0;
	buf_reset(&text);
	metrics_render_gauges(&text, &rep);
	ck_assert_ptr_null(strstr(buf_str(&text), "ratelimit"));
}
END_TEST

/* ------------------------------------------------------------------ */
/* gauges_read(), with fake ports */

static struct {
	enum gt_err	 db_rc, cache_rc;
	int		 db_timeout, cache_timeout;
} fakes;

static enum gt_err
fake_db(void *ctx, int timeout_ms, struct db_figures *out)
{
	fakes.db_timeout = timeout_ms;
	out->runs[RUN_RUNNING] = 5;	/* written even when failing */
	return fakes.db_rc;
}

static enum gt_err
fake_quota(void *ctx, int timeout_ms, struct github_quota *out)
{
	fakes.cache_timeout = timeout_ms;
	out->remaining = 99;
	out->reset_s = 1234;
	return fakes.cache_rc;
}

static void
read_with(enum gt_err db_rc, enum gt_err cache_rc, struct gauge_report *rep)
{
	struct gauge_ports	 p = { NULL, fake_db, NULL, fake_quota };

	fakes.db_rc = db_rc;
	fakes.cache_rc = cache_rc;
	memset(rep, 0xa5, sizeof(*rep));
	gauges_read(&p, 321, rep);
	ck_assert_int_eq(fakes.db_timeout, 321);
	ck_assert_int_eq(fakes.cache_timeout, 321);
}

START_TEST(gauges_read_reports_each_source)
{
	struct gauge_report	 rep;

	read_with(GT_OK, GT_OK, &rep);
	ck_assert(rep.db_up && rep.cache_up && rep.quota_known);
	ck_assert_int_eq(rep.db.runs[RUN_RUNNING], 5);
	ck_assert_int_eq(rep.quota.remaining, 99);

	read_with(GT_ERR_UNAVAILABLE, GT_ERR_NOT_FOUND, &rep);
	ck_assert(!rep.db_up && rep.cache_up && !rep.quota_known);
	ck_assert_int_eq(rep.db.runs[RUN_RUNNING], 0);
	ck_assert_int_eq(rep.quota.remaining, 0);

	read_with(GT_ERR_INTERNAL, GT_ERR_UNAVAILABLE, &rep);
	ck_assert(!rep.db_up && !rep.cache_up && !rep.quota_known);
}
END_TEST

static Suite *
metrics_suite(void)
{
	Suite	*s = suite_create("metrics");
	TCase	*shared = tcase_create("shared counters");
	TCase	*gauges = tcase_create("gauges");

	tcase_add_checked_fixture(shared, setup, teardown);
	tcase_set_timeout(shared, 60);
	tcase_add_test(shared,
	    concurrent_increments_from_processes_sum_exactly);
	tcase_add_test(shared, counts_outlive_workers_killed_or_recycled);
	tcase_add_test(shared, label_values_are_escaped);
	tcase_add_test(shared,
	    histogram_buckets_are_cumulative_with_inf_sum_and_count);
	tcase_add_test(shared, unmatched_and_out_of_range_are_bounded);
	tcase_add_test(shared, refusals_are_counted_by_source_and_limit);
	tcase_add_test(shared,
	    webhook_outcomes_are_counted_by_status_and_reason);
	tcase_add_test(shared, counting_before_init_does_nothing);
	tcase_add_test(shared, text_is_exposition_format);
	suite_add_tcase(s, shared);

	tcase_add_checked_fixture(gauges, setup, teardown);
	tcase_add_test(gauges, gauges_give_what_each_dependency_gave);
	tcase_add_test(gauges, gauges_of_a_dependency_down_are_left_out);
	tcase_add_test(gauges, gauges_read_reports_each_source);
	suite_add_tcase(s, gauges);
	return s;
}

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	sr = srunner_create(metrics_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
