/*
 * check_sentry.c: reporting errors to Sentry, against the fake Sentry
 * (t/tools/fake_sentry.py), which main() starts on a free loopback port
 * and which records each envelope it takes in envelopes.jsonl.
 *
 * The DSN parser is checked on its own first; then reports are sent and
 * read back as the fake recorded them.  GT_SRCDIR names the source tree.
 */
#include <config.h>

#include <sys/wait.h>

#include <check.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "infra/config.h"
#include "infra/sentry.h"

#define SECRET		"s3cr3t-token-never-sent-anywhere"
#define TIMEOUT_MS	300
#define SLACK_MS	400

static char	 state_dir[] = "/tmp/gt_sentry_XXXXXX";
static char	 base_url[64];
static pid_t	 fake_pid = -1;

static int64_t
now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ------------------------------------------------------------------ */
/* The DSN. */

struct dsn_case {
	const char	*dsn;
	const char	*url;		/* NULL: refused */
	const char	*key;
};

static const struct dsn_case dsns[] = {
	{ "https://abc123@o1.ingest.sentry.io/42",
	    "https://o1.ingest.sentry.io/api/42/envelope/", "abc123" },
	{ "http://k@127.0.0.1:9000/7", "http://127.0.0.1:9000/api/7/envelope/",
	    "k" },
	{ "https://k@example.com/sentry/prefix/3",
	    "https://example.com/sentry/prefix/api/3/envelope/", "k" },
	{ "ftp://k@example.com/3", NULL, NULL },
	{ "https://example.com/3", NULL, NULL },	/* no key */
	{ "https://@example.com/3", NULL, NULL },
	{ "https://k:secret@example.com/3", NULL, NULL }, /* old form */
	{ "https://k@example.com/", NULL, NULL },	/* no project */
	{ "https://k@example.com/abc", NULL, NULL },
	{ "https://k@example.com", NULL, NULL },
	{ "https://k@/3", NULL, NULL },
	{ "https://k@example.com/3?x=1", NULL, NULL },
	{ "", NULL, NULL },
};

START_TEST(dsn_parses_as_documented)
{
	const struct dsn_case	*c = &dsns[_i];
	char			 url[SENTRY_URL_MAX], key[SENTRY_KEY_MAX];
	int			 rc;

	rc = sentry_dsn_parse(c->dsn, url, sizeof(url), key, sizeof(key));
	if (c->url == NULL) {
		ck_assert_msg(rc == -1, "accepted '%s'", c->dsn);
		return;
	}
	ck_assert_msg(rc == 0, "refused '%s'", c->dsn);
	ck_assert_str_eq(url, c->url);
	ck_assert_str_eq(key, c->key);
}
END_TEST

/* ------------------------------------------------------------------ */
/* The fake. */

static size_t
ignore(char *d, size_t size, size_t n, void *ctx)
{
	(void)d;
	(void)ctx;
	return size * n;
}

/* POST /_control with body, or GET it when body is NULL: the status. */
static long
control(const char *body)
{
	char	 url[128];
	CURL	*c = curl_easy_init();
	long	 status = 0;

	snprintf(url, sizeof(url), "%s/_control", base_url);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 2000L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, ignore);
	if (body != NULL)
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	if (curl_easy_perform(c) == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(c);
	return status;
}

static int
fake_start(const char *srcdir)
{
	char	 script[1024], file[256];
	FILE	*fp;
	int	 port = 0, i, fd;

	snprintf(script, sizeof(script), "%s/t/tools/fake_sentry.py", srcdir);
	if ((fake_pid = fork()) == -1)
		return -1;
	if (fake_pid == 0) {
		snprintf(file, sizeof(file), "%s/fake.log", state_dir);
		if ((fd = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0600)) !=
		    -1) {
			(void)dup2(fd, STDOUT_FILENO);
			(void)dup2(fd, STDERR_FILENO);
		}
		execlp("python3", "python3", script, "--port", "0",
		    "--state-dir", state_dir, (char *)NULL);
		_exit(127);
	}
	snprintf(file, sizeof(file), "%s/port", state_dir);
	for (i = 0; i < 100; i++) {
		if (port == 0 && (fp = fopen(file, "r")) != NULL) {
			if (fscanf(fp, "%d", &port) != 1)
				port = 0;
			fclose(fp);
			snprintf(base_url, sizeof(base_url),
			    "http://127.0.0.1:%d", port);
		}
		if (port != 0 && control(NULL) == 200)
			return 0;
		usleep(100 * 1000);
	}
	return -1;
}

static void
fake_stop(void)
{
	static const char *const files[] = { "envelopes.jsonl", "port",
	    "fake.log" };
	char	 path[256];
	size_t	 i;

	if (fake_pid > 0) {
		(void)kill(fake_pid, SIGTERM);
		(void)waitpid(fake_pid, NULL, 0);
	}
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", state_dir, files[i]);
		(void)unlink(path);
	}
	(void)rmdir(state_dir);
}

/* What the fake recorded, whole; "" when nothing. */
static char *
recorded(void)
{
	char	 path[256], *text;
	FILE	*f;
	long	 n;

	snprintf(path, sizeof(path), "%s/envelopes.jsonl", state_dir);
	if ((f = fopen(path, "r")) == NULL)
		return strdup("");
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	ck_assert_ptr_nonnull(text = calloc(1, (size_t)n + 1));
	ck_assert_uint_eq(fread(text, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	return text;
}

static int
lines(const char *s)
{
	int	 n = 0;

	for (; *s != '\0'; s++)
		n += *s == '\n';
	return n;
}

/* ------------------------------------------------------------------ */
/* Reports. */

static struct config	 cfg;
static char		 dsn[128];
static char		 environment[] = "test";
static char		 secret[] = SECRET;
static char		 nowhere[] = "http://k@127.0.0.1:1/42";

static void
setup(void)
{
	char	 path[256];

	snprintf(path, sizeof(path), "%s/envelopes.jsonl", state_dir);
	(void)unlink(path);
	ck_assert_int_eq(control("{\"delay\": 0}"), 200);
	memset(&cfg, 0, sizeof(cfg));
	snprintf(dsn, sizeof(dsn), "http://publickey1@%s/42",
	    base_url + strlen("http://"));
	cfg.sentry_dsn = dsn;
	cfg.sentry_timeout_ms = TIMEOUT_MS;
	cfg.sentry_environment = environment;
	cfg.webhook_secret = secret;
}

START_TEST(report_sends_one_envelope_with_the_request)
{
	struct sentry	*s;
	char		*text;

	ck_assert_ptr_nonnull(s = sentry_new(&cfg, "worker"));
	ck_assert(sentry_enabled(s));
	ck_assert_int_eq(sentry_report(s, "internal error on runs.create",
	    "req-1234", "runs.create"), 0);
	sentry_free(s);

	text = recorded();
	ck_assert_int_eq(lines(text), 1);
	ck_assert_ptr_nonnull(strstr(text, "\"path\": \"/api/42/envelope/\""));
	ck_assert_ptr_nonnull(strstr(text, "sentry_key=publickey1"));
	ck_assert_ptr_nonnull(strstr(text,
	    "application/x-sentry-envelope"));
	ck_assert_ptr_nonnull(strstr(text,
	    "internal error on runs.create"));
	ck_assert_ptr_nonnull(strstr(text, "req-1234"));
	ck_assert_ptr_nonnull(strstr(text, "\\\"route\\\":\\\"runs.create\\\""));
	ck_assert_ptr_nonnull(strstr(text, "gittinkerer@" PACKAGE_VERSION));
	ck_assert_ptr_nonnull(strstr(text, "\\\"environment\\\":\\\"test\\\""));
	ck_assert_ptr_nonnull(strstr(text, "\\\"type\\\":\\\"event\\\""));
	ck_assert_ptr_null(strstr(text, SECRET));
	free(text);
}
END_TEST

START_TEST(no_dsn_sends_nothing)
{
	struct sentry	*s;
	char		*text;

	cfg.sentry_dsn = NULL;
	ck_assert_ptr_nonnull(s = sentry_new(&cfg, "worker"));
	ck_assert(!sentry_enabled(s));
	ck_assert_int_eq(sentry_report(s, "boom", NULL, NULL), -1);
	ck_assert_int_eq(sentry_report(NULL, "boom", NULL, NULL), -1);
	sentry_free(s);
	sentry_free(NULL);
	text = recorded();
	ck_assert_str_eq(text, "");
	free(text);
}
END_TEST

START_TEST(hanging_sentry_costs_at_most_the_timeout)
{
	struct sentry	*s;
	int64_t		 start, took;

	ck_assert_int_eq(control("{\"delay\": 5}"), 200);
	ck_assert_ptr_nonnull(s = sentry_new(&cfg, "dispatcher"));
	start = now_ms();
	ck_assert_int_eq(sentry_report(s, "the dispatcher failed", NULL,
	    NULL), -1);
	took = now_ms() - start;
	sentry_free(s);
	ck_assert_msg(took < TIMEOUT_MS + SLACK_MS, "took %lld ms",
	    (long long)took);
}
END_TEST

START_TEST(unreachable_sentry_fails_quietly)
{
	struct sentry	*s;

	cfg.sentry_dsn = nowhere;	/* nothing listens on port 1 */
	ck_assert_ptr_nonnull(s = sentry_new(&cfg, "worker"));
	ck_assert_int_eq(sentry_report(s, "boom", NULL, NULL), -1);
	sentry_free(s);
}
END_TEST

static Suite *
sentry_suite(void)
{
	Suite	*s = suite_create("sentry");
	TCase	*tc;

	tc = tcase_create("dsn");
	tcase_add_loop_test(tc, dsn_parses_as_documented, 0,
	    sizeof(dsns) / sizeof(dsns[0]));
	suite_add_tcase(s, tc);

	tc = tcase_create("report");
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, report_sends_one_envelope_with_the_request);
	tcase_add_test(tc, no_dsn_sends_nothing);
	tcase_add_test(tc, hanging_sentry_costs_at_most_the_timeout);
	tcase_add_test(tc, unreachable_sentry_fails_quietly);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	const char	*srcdir = getenv("GT_SRCDIR");
	SRunner		*sr;
	int		 failed;

	if (srcdir == NULL || *srcdir == '\0') {
		fprintf(stderr, "check_sentry: GT_SRCDIR must name the source "
		    "tree\n");
		return EXIT_FAILURE;
	}
	signal(SIGPIPE, SIG_IGN);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (mkdtemp(state_dir) == NULL || fake_start(srcdir) == -1) {
		fprintf(stderr, "check_sentry: the fake Sentry did not start\n");
		fake_stop();
		return EXIT_FAILURE;
	}
	sr = srunner_create(sentry_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	fake_stop();
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
