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
#include <config.h>

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <check.h>

#include "e2e/client.h"

/*
 * The contract's bound on /health when a dependency hangs, and how long a
 * restarted server may take to be seen as up again.
 */
#define HEALTH_BOUND_MS		1000
#define RECOVERY_MS		10000

/* The pid of the pool's supervisor. */
static long
pool_pid(void)
{
	char	 cmd[4200], line[64];
	FILE	*p;
	long	 pid = -1;

	snprintf(cmd, sizeof(cmd), "bash '%s/t/stack.sh' pool-pid '%s'",
	    client_src_dir, client_stack_dir);
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

	http_request("GET", "/health", NULL, 0, NULL, a);
	ck_assert_msg(a->status == status, "/health: %ld %s, want %ld",
	    a->status, a->body, status);
	o = answer_json(a);
	ck_assert_pstr_eq(json_str_at(o, "status"), overall);
	ck_assert_pstr_eq(json_str_at(o, "checks.postgres"), pg);
	ck_assert_pstr_eq(json_str_at(o, "checks.redis"), redis);
	ck_assert_ptr_nonnull(json_str_at(o, "version"));
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
		http_request("GET", "/health", NULL, 0, NULL, &a);
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

	/*
	 * /health reached one worker; another may still be in the quarter
	 * second it waits after a failed connection before trying again.
	 * The next test must not meet it.
	 */
	usleep(600 * 1000);
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
	const char	*id;
	size_t		 i;

	health_is(200, "ok", "ok", "ok", &a);
	id = answer_header(&a, "X-Request-Id");
	ck_assert_pstr_eq(answer_header(&a, "Content-Type"),
	    "application/json; charset=utf-8");
	ck_assert_pstr_eq(answer_header(&a, "Cache-Control"), "no-store");
	ck_assert_ptr_nonnull(id);
	ck_assert_uint_eq(strlen(id), 32);
	for (i = 0; i < 32; i++)
		ck_assert(isxdigit((unsigned char)id[i]));
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
	const char			*id;
	char				 path[4200];

	http_request("GET", "/health", NULL, 0, hdr, &a);
	ck_assert_int_eq(a.status, 200);
	id = answer_header(&a, "X-Request-Id");
	ck_assert_ptr_nonnull(id);
	ck_assert_str_ne(id, "chosen-by-me");
	ck_assert_uint_eq(strlen(id), 32);

	/* nginx logs when the request ends; give it a moment. */
	usleep(200 * 1000);
	snprintf(path, sizeof(path), "%s/log/nginx-access.log",
	    client_stack_dir);
	ck_assert_msg(file_has(path, id), "%s not in %s", id, path);
	snprintf(path, sizeof(path), "%s/log/pool.log", client_stack_dir);
	ck_assert_msg(file_has(path, id), "%s not in %s", id, path);
	answer_free(&a);
}
END_TEST

START_TEST(test_unknown_api_route_is_json_404)
{
	struct answer	 a;

	http_request("GET", "/api/no/such/route", NULL, 0, NULL, &a);
	assert_error(&a, 404, "not_found");
	answer_free(&a);
}
END_TEST

START_TEST(test_path_outside_the_service_is_json_404_from_nginx)
{
	struct answer	 a;

	http_request("GET", "/no-such-page.html", NULL, 0, NULL, &a);
	assert_error(&a, 404, "not_found");
	answer_free(&a);
}
END_TEST

START_TEST(test_wrong_method_is_405_with_allow)
{
	struct answer	 a;

	http_request("POST", "/health", "{}", 2, NULL, &a);
	assert_error(&a, 405, "method_not_allowed");
	ck_assert_pstr_eq(answer_header(&a, "Allow"), "GET");
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
	http_request("POST", "/api/runs", body, n, hdr, &a);
	assert_error(&a, 413, "payload_too_large");
	answer_free(&a);
	free(body);
}
END_TEST

START_TEST(test_health_degraded_while_redis_is_stopped)
{
	struct answer	 a;
	long		 pid = pool_pid();

	stack_cmd("redis-stop");
	health_is(200, "degraded", "ok", "down", &a);
	ck_assert_int_le(a.ms, HEALTH_BOUND_MS);
	answer_free(&a);
	stack_cmd("redis-start");
	wait_ok();
	ck_assert_int_eq(pool_pid(), pid);
}
END_TEST

START_TEST(test_health_degraded_within_bound_while_redis_is_frozen)
{
	struct answer	 a;
	long		 pid = pool_pid();

	stack_cmd("redis-freeze");
	health_is(200, "degraded", "ok", "down", &a);
	ck_assert_int_le(a.ms, HEALTH_BOUND_MS);
	answer_free(&a);
	stack_cmd("redis-thaw");
	wait_ok();
	ck_assert_int_eq(pool_pid(), pid);
}
END_TEST

START_TEST(test_health_503_within_bound_while_postgres_is_stopped)
{
	struct answer	 a;
	long		 pid = pool_pid();

	stack_cmd("pg-stop");
	health_is(503, "unavailable", "down", "ok", &a);
	ck_assert_int_le(a.ms, HEALTH_BOUND_MS);
	answer_free(&a);
	stack_cmd("pg-start");
	wait_ok();
	ck_assert_int_eq(pool_pid(), pid);
}
END_TEST

START_TEST(test_health_503_within_bound_while_postgres_is_frozen)
{
	struct answer	 a;
	long		 pid = pool_pid();
	int		 i;

	stack_cmd("pg-freeze");
	/* Each worker meets the frozen server on its own connection. */
	for (i = 0; i < 6; i++) {
		health_is(503, "unavailable", "down", "ok", &a);
		ck_assert_int_le(a.ms, HEALTH_BOUND_MS);
		answer_free(&a);
	}
	stack_cmd("pg-thaw");
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

	client_init();
	sr = srunner_create(http_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
