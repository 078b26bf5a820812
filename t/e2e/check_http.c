/*
 * check_http.c: the service end to end, through the real nginx, as a
 * client sees it.
 *
 * The stack is the one t/stack-tests.sh started: GT_URL is nginx's
 * address, GT_STACK_DIR its folder and GT_SRCDIR the source tree, whose
 * t/stack.sh stops, freezes and restarts the servers for the fault cases.
 * Every fault case puts the server back as it found it, and checks that
 * the pool recovered on its own: its supervisor's pid is the same before
 * and after.
 */
#include "config.h"

#include <sys/wait.h>

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <check.h>
#include <curl/curl.h>
#include <json-c/json.h>

/*
 * The contract's bound on /health when a dependency hangs, and how long a
 * restarted server may take to be seen as up again.
 */
#define HEALTH_BOUND_MS		1000
#define RECOVERY_MS		10000

static const char	*base_url;
static const char	*stack_dir;
static const char	*src_dir;

/* An answer: status, a few headers, the body and the time it took. */
struct answer {
	long	 status;
	char	 content_type[128];
	char	 cache_control[64];
	char	 request_id[128];
	char	 allow[64];
	char	*body;
	size_t	 len;
	int64_t	 ms;
};

static int64_t
now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static size_t
on_body(char *data, size_t size, size_t n, void *arg)
{
	struct answer	*a = arg;
	char		*grown;

	if ((grown = realloc(a->body, a->len + size * n + 1)) == NULL)
		return 0;
	a->body = grown;
	memcpy(a->body + a->len, data, size * n);
	a->len += size * n;
	a->body[a->len] = '\0';
	return size * n;
}

/* Keeps the value of header name (case-insensitive) when line is it. */
static void
keep_header(const char *line, size_t n, const char *name, char *out,
    size_t outlen)
{
	size_t	 nl = strlen(name), vl;

	if (n <= nl + 1 || strncasecmp(line, name, nl) != 0 || line[nl] != ':')
		return;
	line += nl + 1;
	n -= nl + 1;
	while (n > 0 && (*line == ' ' || *line == '\t')) {
		line++;
		n--;
	}
	while (n > 0 && (line[n - 1] == '\r' || line[n - 1] == '\n'))
		n--;
	vl = n < outlen - 1 ? n : outlen - 1;
	memcpy(out, line, vl);
	out[vl] = '\0';
}

static size_t
on_header(char *line, size_t size, size_t n, void *arg)
{
	struct answer	*a = arg;

	keep_header(line, size * n, "Content-Type", a->content_type,
	    sizeof(a->content_type));
	keep_header(line, size * n, "Cache-Control", a->cache_control,
	    sizeof(a->cache_control));
	keep_header(line, size * n, "X-Request-Id", a->request_id,
	    sizeof(a->request_id));
	keep_header(line, size * n, "Allow", a->allow, sizeof(a->allow));
	return size * n;
}

/*
 * Sends method path with an optional body and extra header lines; fills
 * a, whose body the caller frees with answer_free().
 */
static void
request(const char *method, const char *path, const char *body,
    size_t bodylen, const char *const *headers, struct answer *a)
{
	CURL			*c;
	struct curl_slist	*hl = NULL;
	char			 url[1024];
	CURLcode		 rc;
	int64_t			 start;

	memset(a, 0, sizeof(*a));
	snprintf(url, sizeof(url), "%s%s", base_url, path);
	c = curl_easy_init();
	ck_assert_ptr_nonnull(c);
	for (; headers != NULL && *headers != NULL; headers++)
		hl = curl_slist_append(hl, *headers);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, a);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, a);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 15000L);
	if (body != NULL) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)bodylen);
	}

	start = now_ms();
	rc = curl_easy_perform(c);
	a->ms = now_ms() - start;
	ck_assert_msg(rc == CURLE_OK, "%s %s: %s", method, path,
	    curl_easy_strerror(rc));
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &a->status);
	curl_slist_free_all(hl);
	curl_easy_cleanup(c);
	if (a->body == NULL)
		a->body = calloc(1, 1);
	ck_assert_ptr_nonnull(a->body);
}

static void
answer_free(struct answer *a)
{
	free(a->body);
	a->body = NULL;
}

/* The body parsed as a JSON object; the caller puts it. */
static json_object *
parse(const struct answer *a)
{
	json_object	*o = json_tokener_parse(a->body);

	ck_assert_msg(o != NULL && json_object_is_type(o, json_type_object),
	    "not a JSON object: %s", a->body);
	return o;
}

/* The string at a dotted path ("checks.redis") of o, or NULL. */
static const char *
str_at(json_object *o, const char *path)
{
	char		 key[64];
	const char	*dot;
	size_t		 n;

	while ((dot = strchr(path, '.')) != NULL) {
		n = (size_t)(dot - path);
		ck_assert_uint_lt(n, sizeof(key));
		memcpy(key, path, n);
		key[n] = '\0';
		if (!json_object_object_get_ex(o, key, &o))
			return NULL;
		path = dot + 1;
	}
	if (!json_object_object_get_ex(o, path, &o) ||
	    !json_object_is_type(o, json_type_string))
		return NULL;
	return json_object_get_string(o);
}

/* Asserts the answer is the contract's error with this status and code. */
static void
assert_error(const struct answer *a, long status, const char *code)
{
	json_object	*o;
	const char	*msg;

	ck_assert_int_eq(a->status, status);
	ck_assert_str_eq(a->content_type, "application/json; charset=utf-8");
	ck_assert_str_eq(a->cache_control, "no-store");
	ck_assert_uint_gt(strlen(a->request_id), 0);
	o = parse(a);
	ck_assert_pstr_eq(str_at(o, "error.code"), code);
	msg = str_at(o, "error.message");
	ck_assert_ptr_nonnull(msg);
	ck_assert_uint_gt(strlen(msg), 0);
	json_object_put(o);
}

/* Runs t/stack.sh cmd on the stack, which must succeed. */
static void
stack(const char *cmd)
{
	char	 script[1024];
	pid_t	 pid;
	int	 status;

	snprintf(script, sizeof(script), "%s/t/stack.sh", src_dir);
	pid = fork();
	ck_assert_int_ne(pid, -1);
	if (pid == 0) {
		execlp("bash", "bash", script, cmd, stack_dir, (char *)NULL);
		_exit(127);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "t/stack.sh %s failed", cmd);
}

/* The pid of the pool's supervisor. */
static long
pool_pid(void)
{
	char	 cmd[1200], line[64];
	FILE	*p;
	long	 pid = -1;

	snprintf(cmd, sizeof(cmd), "bash '%s/t/stack.sh' pool-pid '%s'",
	    src_dir, stack_dir);
	p = popen(cmd, "r");
	ck_assert_ptr_nonnull(p);
	if (fgets(line, sizeof(line), p) != NULL)
		pid = strtol(line, NULL, 10);
	pclose(p);
	ck_assert_int_gt(pid, 0);
	return pid;
}

/* Asks /health and checks status, "status" and the two checks. */
static void
health_is(long status, const char *overall, const char *pg,
    const char *redis, struct answer *a)
{
	json_object	*o;

	request("GET", "/health", NULL, 0, NULL, a);
	ck_assert_msg(a->status == status, "/health: %ld %s, want %ld",
	    a->status, a->body, status);
	o = parse(a);
	ck_assert_pstr_eq(str_at(o, "status"), overall);
	ck_assert_pstr_eq(str_at(o, "checks.postgres"), pg);
	ck_assert_pstr_eq(str_at(o, "checks.redis"), redis);
	ck_assert_ptr_nonnull(str_at(o, "version"));
	json_object_put(o);
}

/* Waits for /health to be ok again, without anything being restarted. */
static void
wait_ok(void)
{
	struct answer	 a;
	int64_t		 until = now_ms() + RECOVERY_MS;
	long		 status;

	do {
		request("GET", "/health", NULL, 0, NULL, &a);
		status = a.status;
		if (status == 200 && strstr(a.body, "\"ok\",\"version\"") !=
		    NULL) {
			answer_free(&a);
			break;
		}
		answer_free(&a);
		usleep(100 * 1000);
	} while (now_ms() < until);
	health_is(200, "ok", "ok", "ok", &a);
	answer_free(&a);
}

/* Whether the file at path holds the string needle. */
static int
file_has(const char *path, const char *needle)
{
	FILE	*f = fopen(path, "r");
	char	 line[4096];
	int	 found = 0;

	ck_assert_msg(f != NULL, "cannot open %s", path);
	while (!found && fgets(line, sizeof(line), f) != NULL)
		found = strstr(line, needle) != NULL;
	fclose(f);
	return found;
}

START_TEST(test_health_is_ok_with_every_dependency_up)
{
	struct answer	 a;
	size_t		 i;

	health_is(200, "ok", "ok", "ok", &a);
	ck_assert_str_eq(a.content_type, "application/json; charset=utf-8");
	ck_assert_str_eq(a.cache_control, "no-store");
	ck_assert_uint_eq(strlen(a.request_id), 32);
	for (i = 0; i < 32; i++)
		ck_assert(isxdigit((unsigned char)a.request_id[i]));
	ck_assert(strstr(a.body, "\"version\":\"" PACKAGE_VERSION "\"") !=
	    NULL);
	answer_free(&a);
}
END_TEST

START_TEST(test_request_id_is_nginx_one_and_logged_by_both)
{
	static const char *const	 hdr[] = { "X-Request-Id: chosen-by-me",
	    NULL };
	struct answer			 a;
	char				 path[1024];

	request("GET", "/health", NULL, 0, hdr, &a);
	ck_assert_int_eq(a.status, 200);
	ck_assert_str_ne(a.request_id, "chosen-by-me");
	ck_assert_uint_eq(strlen(a.request_id), 32);

	/* nginx logs when the request ends; give it a moment. */
	usleep(200 * 1000);
	snprintf(path, sizeof(path), "%s/log/nginx-access.log", stack_dir);
	ck_assert_msg(file_has(path, a.request_id), "%s not in %s",
	    a.request_id, path);
	snprintf(path, sizeof(path), "%s/log/pool.log", stack_dir);
	ck_assert_msg(file_has(path, a.request_id), "%s not in %s",
	    a.request_id, path);
	answer_free(&a);
}
END_TEST

START_TEST(test_unknown_api_route_is_json_404)
{
	struct answer	 a;

	request("GET", "/api/no/such/route", NULL, 0, NULL, &a);
	assert_error(&a, 404, "not_found");
	answer_free(&a);
}
END_TEST

START_TEST(test_path_outside_the_service_is_json_404_from_nginx)
{
	struct answer	 a;

	request("GET", "/index.html", NULL, 0, NULL, &a);
	assert_error(&a, 404, "not_found");
	answer_free(&a);
}
END_TEST

START_TEST(test_wrong_method_is_405_with_allow)
{
	struct answer	 a;

	request("POST", "/health", "{}", 2, NULL, &a);
	assert_error(&a, 405, "method_not_allowed");
	ck_assert_str_eq(a.allow, "GET");
	answer_free(&a);
}
END_TEST

START_TEST(test_api_body_over_64k_is_json_413)
{
	static const char *const	 hdr[] = {
	    "Content-Type: application/json", NULL };
	struct answer			 a;
	size_t				 n = 65 * 1024;
	char				*body = malloc(n);

	ck_assert_ptr_nonnull(body);
	memset(body, ' ', n);
	request("POST", "/api/runs", body, n, hdr, &a);
	assert_error(&a, 413, "payload_too_large");
	answer_free(&a);
	free(body);
}
END_TEST

START_TEST(test_health_degraded_while_redis_is_stopped)
{
	struct answer	 a;
	long		 pid = pool_pid();

	stack("redis-stop");
	health_is(200, "degraded", "ok", "down", &a);
	ck_assert_int_le(a.ms, HEALTH_BOUND_MS);
	answer_free(&a);
	stack("redis-start");
	wait_ok();
	ck_assert_int_eq(pool_pid(), pid);
}
END_TEST

START_TEST(test_health_degraded_within_bound_while_redis_is_frozen)
{
	struct answer	 a;
	long		 pid = pool_pid();

	stack("redis-freeze");
	health_is(200, "degraded", "ok", "down", &a);
	ck_assert_int_le(a.ms, HEALTH_BOUND_MS);
	answer_free(&a);
	stack("redis-thaw");
	wait_ok();
	ck_assert_int_eq(pool_pid(), pid);
}
END_TEST

START_TEST(test_health_503_within_bound_while_postgres_is_stopped)
{
	struct answer	 a;
	long		 pid = pool_pid();

	stack("pg-stop");
	health_is(503, "unavailable", "down", "ok", &a);
	ck_assert_int_le(a.ms, HEALTH_BOUND_MS);
	answer_free(&a);
	stack("pg-start");
	wait_ok();
	ck_assert_int_eq(pool_pid(), pid);
}
END_TEST

START_TEST(test_health_503_within_bound_while_postgres_is_frozen)
{
	struct answer	 a;
	long		 pid = pool_pid();
	int		 i;

	stack("pg-freeze");
	/* Each worker meets the frozen server on its own connection. */
	for (i = 0; i < 6; i++) {
		health_is(503, "unavailable", "down", "ok", &a);
		ck_assert_int_le(a.ms, HEALTH_BOUND_MS);
		answer_free(&a);
	}
	stack("pg-thaw");
	wait_ok();
	ck_assert_int_eq(pool_pid(), pid);
}
END_TEST

static Suite *
http_suite(void)
{
	Suite	*s = suite_create("http");
	TCase	*tc = tcase_create("through nginx");
	TCase	*faults = tcase_create("dependency faults");

	tcase_add_test(tc, test_health_is_ok_with_every_dependency_up);
	tcase_add_test(tc, test_request_id_is_nginx_one_and_logged_by_both);
	tcase_add_test(tc, test_unknown_api_route_is_json_404);
	tcase_add_test(tc,
	    test_path_outside_the_service_is_json_404_from_nginx);
	tcase_add_test(tc, test_wrong_method_is_405_with_allow);
	tcase_add_test(tc, test_api_body_over_64k_is_json_413);
	suite_add_tcase(s, tc);

	tcase_set_timeout(faults, 120);
	tcase_add_test(faults, test_health_degraded_while_redis_is_stopped);
	tcase_add_test(faults,
	    test_health_degraded_within_bound_while_redis_is_frozen);
	tcase_add_test(faults,
	    test_health_503_within_bound_while_postgres_is_stopped);
	tcase_add_test(faults,
	    test_health_503_within_bound_while_postgres_is_frozen);
	suite_add_tcase(s, faults);
	return s;
}

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	base_url = getenv("GT_URL");
	stack_dir = getenv("GT_STACK_DIR");
	src_dir = getenv("GT_SRCDIR");
	if (base_url == NULL || stack_dir == NULL || src_dir == NULL) {
		fprintf(stderr, "check_http: GT_URL, GT_STACK_DIR and "
		    "GT_SRCDIR must be set (t/stack-tests.sh sets them)\n");
		return 1;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	sr = srunner_create(http_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	curl_global_cleanup();
	return failed == 0 ? 0 : 1;
}
