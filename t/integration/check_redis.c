/*
 * check_redis.c: the Redis adapter against a real server.
 *
 * The server is GT_REDIS (HOST:PORT); without it the test fails.  Keys
 * are named gt:test:<pid>:... and deleted by the test that made them.
 * Failures are played by sockets of the test's own: a port nobody
 * listens on, a listener that never accepts (a frozen server), and a
 * child answering +PONG to anything.
 */
#include <config.h>

#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include <check.h>
#include <hiredis/hiredis.h>

#include "infra/config.h"
#include "infra/redis.h"

/* How late a bounded call may come back: scheduling, not waiting. */
#define SLACK_MS	500

static const char	*redis_addr;

static int64_t
now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A handle on addr with the given password (or NULL) and timeouts. */
static struct rconn *
handle(const char *addr, const char *password, int timeout_ms)
{
	struct config	 cfg;
	struct rconn	*rc;

	memset(&cfg, 0, sizeof(cfg));
	cfg.redis = strdup(addr);
	ck_assert_ptr_nonnull(cfg.redis);
	if (password != NULL) {
		cfg.redis_password = strdup(password);
		ck_assert_ptr_nonnull(cfg.redis_password);
	}
	cfg.redis_connect_timeout_ms = timeout_ms;
	cfg.redis_command_timeout_ms = timeout_ms;
	rc = rconn_new(&cfg);
	ck_assert_ptr_nonnull(rc);
	free(cfg.redis);
	free(cfg.redis_password);
	return rc;
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

/* A key private to this process. */
static void
test_key(char *out, size_t outlen, const char *name)
{
	snprintf(out, outlen, "gt:test:%ld:%s", (long)getpid(), name);
}

static void
del_key(struct rconn *rc, const char *key)
{
	const char	*argv[] = { "DEL", key };
	redisReply	*r = command(rc, 2, argv);

	ck_assert_ptr_nonnull(r);
	freeReplyObject(r);
}

/* The connection's CLIENT ID. */
static long long
client_id(struct rconn *rc)
{
	const char	*argv[] = { "CLIENT", "ID" };
	redisReply	*r = command(rc, 2, argv);
	long long	 id;

	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(r->type, REDIS_REPLY_INTEGER);
	id = r->integer;
	freeReplyObject(r);
	return id;
}

/* A TCP listener on 127.0.0.1 at a port the kernel picks. */
static int
listener(int *port)
{
	struct sockaddr_in	 sin;
	socklen_t		 len = sizeof(sin);
	int			 fd, on = 1;

	fd = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_ne(fd, -1);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons((uint16_t)*port);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(listen(fd, 64), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	*port = ntohs(sin.sin_port);
	return fd;
}

/*
 * Accepts and closes the connections waiting on a listener; returns how
 * many there were, that is, how many attempts the adapter made.
 */
static int
take_pending(int lfd)
{
	struct pollfd	 pfd;
	int		 n = 0, fd;

	pfd.fd = lfd;
	pfd.events = POLLIN;
	while (poll(&pfd, 1, 0) == 1) {
		ck_assert_int_ne(fd = accept(lfd, NULL, NULL), -1);
		close(fd);
		n++;
	}
	return n;
}

/* A listener on a Unix socket at path. */
static int
unix_listener(const char *path)
{
	struct sockaddr_un	 sun;
	int			 fd;

	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	ck_assert_int_ne(fd, -1);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	unlink(path);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	ck_assert_int_eq(listen(fd, 16), 0);
	return fd;
}

/*
 * Forks a child that answers +PONG to every read on connections to lfd,
 * until its parent is gone.  Returns the child's pid.
 */
static pid_t
pong_server(int lfd)
{
	struct pollfd	 pfd[9];
	char		 buf[4096];
	pid_t		 parent = getpid(), pid;
	int		 i, n = 1;

	pid = fork();
	ck_assert_int_ne(pid, -1);
	if (pid != 0) {
		close(lfd);
		return pid;
	}
#ifdef __linux__
	prctl(PR_SET_PDEATHSIG, SIGKILL);
#endif
	signal(SIGPIPE, SIG_IGN);
	pfd[0].fd = lfd;
	pfd[0].events = POLLIN;
	while (getppid() == parent) {
		if (poll(pfd, (nfds_t)n, 200) <= 0)
			continue;
		for (i = n - 1; i > 0; i--) {
			if (pfd[i].revents == 0)
				continue;
			if (read(pfd[i].fd, buf, sizeof(buf)) <= 0 ||
			    write(pfd[i].fd, "+PONG\r\n", 7) != 7) {
				close(pfd[i].fd);
				pfd[i] = pfd[--n];
			}
		}
		if ((pfd[0].revents & POLLIN) && n < 9) {
			if ((pfd[n].fd = accept(lfd, NULL, NULL)) != -1) {
				pfd[n].events = POLLIN;
				pfd[n++].revents = 0;
			}
		}
	}
	_exit(0);
}

static void
stop_child(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

/* A TCP port on 127.0.0.1 that nothing listens on, as HOST:PORT. */
static void
closed_port(char *addr, size_t addrlen, int *port)
{
	int	 lfd;

	*port = 0;
	lfd = listener(port);
	close(lfd);
	snprintf(addr, addrlen, "127.0.0.1:%d", *port);
}

START_TEST(test_command_round_trip)
{
	struct rconn	*rc = handle(redis_addr, NULL, 2000);
	char		 key[64];
	const char	*set[] = { "SET", key, "value", "PX", "60000" };
	const char	*get[] = { "GET", key };
	redisReply	*r;

	test_key(key, sizeof(key), "round_trip");
	r = command(rc, 5, set);
	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(r->type, REDIS_REPLY_STATUS);
	freeReplyObject(r);

	r = command(rc, 2, get);
	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(r->type, REDIS_REPLY_STRING);
	ck_assert_str_eq(r->str, "value");
	freeReplyObject(r);

	del_key(rc, key);
	rconn_free(rc);
}
END_TEST

START_TEST(test_arguments_are_binary_safe)
{
	struct rconn	*rc = handle(redis_addr, NULL, 2000);
	static const char value[] = "a\0b\r\nc";
	char		 key[64];
	const char	*set[] = { "SET", key, value };
	const char	*get[] = { "GET", key };
	size_t		 setlen[3], getlen[2];
	redisReply	*r;

	test_key(key, sizeof(key), "binary");
	setlen[0] = 3;
	setlen[1] = getlen[1] = strlen(key);
	setlen[2] = sizeof(value) - 1;
	getlen[0] = 3;
	r = rconn_command(rc, 3, set, setlen);
	ck_assert_ptr_nonnull(r);
	freeReplyObject(r);

	r = rconn_command(rc, 2, get, getlen);
	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(r->type, REDIS_REPLY_STRING);
	ck_assert_uint_eq(r->len, sizeof(value) - 1);
	ck_assert_int_eq(memcmp(r->str, value, r->len), 0);
	freeReplyObject(r);

	del_key(rc, key);
	rconn_free(rc);
}
END_TEST

START_TEST(test_error_reply_is_returned_as_a_reply)
{
	struct rconn	*rc = handle(redis_addr, NULL, 2000);
	char		 key[64];
	const char	*set[] = { "SET", key, "not a number", "PX", "60000" };
	const char	*incr[] = { "INCR", key };
	redisReply	*r;

	test_key(key, sizeof(key), "error_reply");
	r = command(rc, 5, set);
	ck_assert_ptr_nonnull(r);
	freeReplyObject(r);

	r = command(rc, 2, incr);
	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(r->type, REDIS_REPLY_ERROR);
	freeReplyObject(r);

	/* The connection goes on working after an error reply. */
	del_key(rc, key);
	rconn_free(rc);
}
END_TEST

START_TEST(test_ping_answers)
{
	struct rconn	*rc = handle(redis_addr, NULL, 2000);

	ck_assert_int_eq(rconn_ping(rc, 1000), 0);
	ck_assert_int_eq(rconn_ping(rc, 1000), 0);
	rconn_free(rc);
}
END_TEST

START_TEST(test_command_reconnects_after_client_kill)
{
	struct rconn	*rc = handle(redis_addr, NULL, 2000);
	struct rconn	*side = handle(redis_addr, NULL, 2000);
	char		 id[32];
	const char	*kill_argv[] = { "CLIENT", "KILL", "ID", id };
	redisReply	*r;
	long long	 before, after;

	before = client_id(rc);
	snprintf(id, sizeof(id), "%lld", before);
	r = command(side, 4, kill_argv);
	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(r->type, REDIS_REPLY_INTEGER);
	ck_assert_int_eq(r->integer, 1);
	freeReplyObject(r);

	/* Let the server's close reach the socket. */
	usleep(50 * 1000);
	after = client_id(rc);
	ck_assert_int_ne(before, after);

	rconn_free(side);
	rconn_free(rc);
}
END_TEST

START_TEST(test_closed_port_backs_off_quickly)
{
	struct rconn	*rc;
	const char	*ping[] = { "PING" };
	char		 addr[64];
	int64_t		 t0, took;
	int		 port;

	closed_port(addr, sizeof(addr), &port);
	rc = handle(addr, NULL, 1000);

	t0 = now_ms();
	ck_assert_ptr_null(command(rc, 1, ping));
	took = now_ms() - t0;
	ck_assert_msg(took < 1000 + SLACK_MS, "took %lld ms",
	    (long long)took);

	/* During the back-off: NULL without trying. */
	t0 = now_ms();
	ck_assert_ptr_null(command(rc, 1, ping));
	ck_assert_ptr_null(command(rc, 1, ping));
	took = now_ms() - t0;
	ck_assert_msg(took < 100, "back-off answer took %lld ms",
	    (long long)took);

	t0 = now_ms();
	ck_assert_int_eq(rconn_ping(rc, 200), -1);
	took = now_ms() - t0;
	ck_assert_msg(took < 200 + SLACK_MS, "ping took %lld ms",
	    (long long)took);
	rconn_free(rc);
}
END_TEST

START_TEST(test_silent_server_is_bounded)
{
	struct rconn	*rc;
	const char	*ping[] = { "PING" };
	char		 addr[64];
	int64_t		 t0, took;
	int		 port = 0, lfd;

	/* Listens, never accepts: connecting succeeds, nothing answers. */
	lfd = listener(&port);
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", port);
	rc = handle(addr, NULL, 300);

	t0 = now_ms();
	ck_assert_ptr_null(command(rc, 1, ping));
	took = now_ms() - t0;
	ck_assert_msg(took < 2 * 300 + SLACK_MS, "command took %lld ms",
	    (long long)took);
	ck_assert_int_eq(take_pending(lfd), 1);

	/* The failure started the back-off: no new attempt is made. */
	t0 = now_ms();
	ck_assert_ptr_null(command(rc, 1, ping));
	took = now_ms() - t0;
	ck_assert_msg(took < 100, "back-off answer took %lld ms",
	    (long long)took);
	ck_assert_int_eq(take_pending(lfd), 0);

	t0 = now_ms();
	ck_assert_int_eq(rconn_ping(rc, 100), -1);
	took = now_ms() - t0;
	ck_assert_msg(took < 100 + SLACK_MS, "ping took %lld ms",
	    (long long)took);

	rconn_free(rc);
	close(lfd);
}
END_TEST

START_TEST(test_silent_server_bounds_authentication)
{
	struct rconn	*rc;
	char		 addr[64];
	int64_t		 t0, took;
	int		 port = 0, lfd;

	/* AUTH waits on the connection too, within ping's own timeout. */
	lfd = listener(&port);
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", port);
	rc = handle(addr, "secret", 5000);

	t0 = now_ms();
	ck_assert_int_eq(rconn_ping(rc, 200), -1);
	took = now_ms() - t0;
	ck_assert_msg(took < 200 + SLACK_MS, "ping took %lld ms",
	    (long long)took);

	rconn_free(rc);
	close(lfd);
}
END_TEST

START_TEST(test_ping_sees_recovery_during_back_off)
{
	struct rconn	*rc;
	const char	*ping[] = { "PING" };
	char		 addr[64];
	redisReply	*r;
	pid_t		 server;
	int		 port;

	closed_port(addr, sizeof(addr), &port);
	rc = handle(addr, NULL, 1000);
	ck_assert_ptr_null(command(rc, 1, ping));

	/* The server comes back on the same port, within the back-off. */
	server = pong_server(listener(&port));
	ck_assert_ptr_null(command(rc, 1, ping));
	ck_assert_int_eq(rconn_ping(rc, 1000), 0);

	/* ping's connection serves the commands that follow. */
	r = command(rc, 1, ping);
	ck_assert_ptr_nonnull(r);
	ck_assert_str_eq(r->str, "PONG");
	freeReplyObject(r);

	rconn_free(rc);
	stop_child(server);
}
END_TEST

START_TEST(test_unix_socket_address_is_used)
{
	struct rconn	*rc;
	char		 path[64], addr[80];
	pid_t		 server;

	snprintf(path, sizeof(path), "/tmp/gt_check_redis_%ld.sock",
	    (long)getpid());
	snprintf(addr, sizeof(addr), "unix:%s", path);
	server = pong_server(unix_listener(path));
	rc = handle(addr, NULL, 1000);

	ck_assert_int_eq(rconn_ping(rc, 1000), 0);

	rconn_free(rc);
	stop_child(server);
	unlink(path);
}
END_TEST

START_TEST(test_refused_password_fails_the_connection)
{
	struct rconn	*rc = handle(redis_addr, "not-the-password", 1000);
	const char	*ping[] = { "PING" };

	/* The test server has no password: AUTH is an error reply. */
	ck_assert_ptr_null(command(rc, 1, ping));
	ck_assert_int_eq(rconn_ping(rc, 1000), -1);
	rconn_free(rc);
}
END_TEST

/* Sets the lengths of a transaction command's arguments. */
static struct rcmd
rcmd(int argc, const char **argv, size_t *len)
{
	int	 i;

	for (i = 0; i < argc; i++)
		len[i] = strlen(argv[i]);
	return (struct rcmd){ argc, argv, len };
}

START_TEST(test_transaction_answers_each_command)
{
	struct rconn	*rc = handle(redis_addr, NULL, 2000);
	char		 key[64];
	const char	*hset[] = { "HSET", key, "a", "1", "b", "2" };
	const char	*pexpire[] = { "PEXPIRE", key, "60000" };
	const char	*incr[] = { "INCR", key };
	const char	*pttl[] = { "PTTL", key };
	size_t		 l0[6], l1[3], l2[2];
	struct rcmd	 cmds[3];
	redisReply	*r;

	test_key(key, sizeof(key), "transaction");
	cmds[0] = rcmd(6, hset, l0);
	cmds[1] = rcmd(3, pexpire, l1);
	r = rconn_transaction(rc, 2, cmds);
	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(r->type, REDIS_REPLY_ARRAY);
	ck_assert_uint_eq(r->elements, 2);
	ck_assert_int_eq(r->element[0]->type, REDIS_REPLY_INTEGER);
	ck_assert_int_eq(r->element[0]->integer, 2);
	ck_assert_int_eq(r->element[1]->integer, 1);
	freeReplyObject(r);
	r = command(rc, 2, pttl);
	ck_assert_int_gt(r->integer, 0);
	ck_assert_int_le(r->integer, 60000);
	freeReplyObject(r);

	/* A command that fails inside fails alone, and says why. */
	cmds[0] = rcmd(2, incr, l2);
	cmds[1] = rcmd(2, pttl, l1);
	r = rconn_transaction(rc, 2, cmds);
	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(r->type, REDIS_REPLY_ARRAY);
	ck_assert_int_eq(r->element[0]->type, REDIS_REPLY_ERROR);
	ck_assert_ptr_nonnull(strstr(r->element[0]->str, "WRONGTYPE"));
	ck_assert_int_eq(r->element[1]->type, REDIS_REPLY_INTEGER);
	freeReplyObject(r);

	/* The connection still serves the next command. */
	r = command(rc, 2, pttl);
	ck_assert_int_eq(r->type, REDIS_REPLY_INTEGER);
	freeReplyObject(r);
	del_key(rc, key);
	rconn_free(rc);
}
END_TEST

START_TEST(test_transaction_of_an_unreachable_server_is_null)
{
	struct rconn	*rc = handle("no-port-here", NULL, 1000);
	const char	*ping[] = { "PING" };
	size_t		 len[1];
	struct rcmd	 cmd = rcmd(1, ping, len);

	ck_assert_ptr_null(rconn_transaction(rc, 1, &cmd));
	rconn_free(rc);
}
END_TEST

START_TEST(test_malformed_address_is_unreachable)
{
	struct rconn	*rc = handle("no-port-here", NULL, 1000);
	const char	*ping[] = { "PING" };

	ck_assert_ptr_null(command(rc, 1, ping));
	ck_assert_int_eq(rconn_ping(rc, 1000), -1);
	rconn_free(rc);
}
END_TEST

START_TEST(test_free_accepts_null)
{
	rconn_free(NULL);
}
END_TEST

static Suite *
redis_suite(void)
{
	Suite	*s = suite_create("redis");
	TCase	*tc;

	tc = tcase_create("commands");
	tcase_add_test(tc, test_command_round_trip);
	tcase_add_test(tc, test_arguments_are_binary_safe);
	tcase_add_test(tc, test_error_reply_is_returned_as_a_reply);
	tcase_add_test(tc, test_ping_answers);
	tcase_add_test(tc, test_transaction_answers_each_command);
	tcase_add_test(tc, test_free_accepts_null);
	suite_add_tcase(s, tc);

	tc = tcase_create("failures");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_command_reconnects_after_client_kill);
	tcase_add_test(tc, test_closed_port_backs_off_quickly);
	tcase_add_test(tc, test_silent_server_is_bounded);
	tcase_add_test(tc, test_silent_server_bounds_authentication);
	tcase_add_test(tc, test_ping_sees_recovery_during_back_off);
	tcase_add_test(tc, test_unix_socket_address_is_used);
	tcase_add_test(tc, test_refused_password_fails_the_connection);
	tcase_add_test(tc, test_malformed_address_is_unreachable);
	tcase_add_test(tc, test_transaction_of_an_unreachable_server_is_null);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	if ((redis_addr = getenv("GT_REDIS")) == NULL || *redis_addr == '\0') {
		fprintf(stderr, "check_redis: GT_REDIS is not set: it must be "
		    "the HOST:PORT of a Redis server to test against\n");
		return EXIT_FAILURE;
	}

	/* As the programs using the adapter do (see redis.h). */
	signal(SIGPIPE, SIG_IGN);
	sr = srunner_create(redis_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
