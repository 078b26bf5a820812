/*
 * check_pg.c: the PostgreSQL adapter against a real server.
 *
 * The server is GT_DATABASE_URL (a libpq conninfo); without it the test
 * fails.  A frozen server is played by a small TCP proxy in a child
 * process, stopped with SIGSTOP: like a stopped postmaster, it keeps
 * accepting connections in the kernel and never answers.
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
#include <libpq-fe.h>

#include "infra/config.h"
#include "infra/pg.h"

/* How late a bounded call may come back: scheduling, not waiting. */
#define SLACK_MS	500

static const char	*db_url;

static int64_t
now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A handle on url with the given statement timeout. */
static struct pgconn *
handle(const char *url, int statement_timeout_ms)
{
	struct config	 cfg;
	struct pgconn	*pc;

	memset(&cfg, 0, sizeof(cfg));
	cfg.database_url = strdup(url);
	ck_assert_ptr_nonnull(cfg.database_url);
	cfg.db_connect_timeout_ms = 5000;
	cfg.statement_timeout_ms = statement_timeout_ms;
	pc = pgconn_new(&cfg);
	ck_assert_ptr_nonnull(pc);
	free(cfg.database_url);
	return pc;
}

/* A second, ordinary connection to the server, to act behind its back. */
static PGconn *
side_conn(void)
{
	PGconn	*c = PQconnectdb(db_url);

	ck_assert_msg(PQstatus(c) == CONNECTION_OK, "cannot connect: %s",
	    PQerrorMessage(c));
	return c;
}

/* Runs sql on a plain connection and returns the first value, copied. */
static char *
side_value(PGconn *c, const char *sql)
{
	PGresult	*res = PQexec(c, sql);
	char		*v;

	ck_assert_msg(PQresultStatus(res) == PGRES_TUPLES_OK, "%s: %s", sql,
	    PQresultErrorMessage(res));
	ck_assert_int_eq(PQntuples(res), 1);
	v = strdup(PQgetvalue(res, 0, 0));
	ck_assert_ptr_nonnull(v);
	PQclear(res);
	return v;
}

/* Runs a one-value query through the handle and returns it, copied. */
static char *
value(struct pgconn *pc, const char *sql)
{
	PGresult	*res = pgconn_exec(pc, sql, 0, NULL, 5000);
	char		*v;

	ck_assert_ptr_nonnull(res);
	ck_assert_msg(PQresultStatus(res) == PGRES_TUPLES_OK, "%s: %s", sql,
	    PQresultErrorMessage(res));
	v = strdup(PQgetvalue(res, 0, 0));
	ck_assert_ptr_nonnull(v);
	PQclear(res);
	return v;
}

/* A TCP listener on 127.0.0.1 at a port the kernel picks. */
static int
listener(int *port)
{
	struct sockaddr_in	 sin;
	socklen_t		 len = sizeof(sin);
	int			 fd;

	fd = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_ne(fd, -1);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
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

/* Appends keyword='value' to a conninfo, quoted as libpq reads it. */
static void
conninfo_add(char *out, size_t outlen, const char *key, const char *val)
{
	size_t	 n = strlen(out);

	n += (size_t)snprintf(out + n, outlen - n, " %s='", key);
	for (; *val != '\0' && n + 3 < outlen; val++) {
		if (*val == '\'' || *val == '\\')
			out[n++] = '\\';
		out[n++] = *val;
	}
	ck_assert_msg(n + 2 < outlen, "conninfo too long");
	out[n++] = '\'';
	out[n] = '\0';
}

/* A conninfo for the server's user and database at 127.0.0.1:port. */
static char *
conninfo_at(int port)
{
	PGconn	*c = side_conn();
	char	 buf[1024];
	char	*s;

	snprintf(buf, sizeof(buf), "host=127.0.0.1 port=%d", port);
	conninfo_add(buf, sizeof(buf), "user", PQuser(c));
	conninfo_add(buf, sizeof(buf), "dbname", PQdb(c));
	if (PQpass(c) != NULL)
		conninfo_add(buf, sizeof(buf), "password", PQpass(c));
	PQfinish(c);
	s = strdup(buf);
	ck_assert_ptr_nonnull(s);
	return s;
}

/* Where the proxy forwards to: the server GT_DATABASE_URL reaches. */
struct upstream {
	int			 family;
	struct sockaddr_storage	 addr;
	socklen_t		 len;
};

static void
upstream_of_server(struct upstream *up)
{
	PGconn			*c = side_conn();
	const char		*host = PQhost(c);
	long			 port = strtol(PQport(c), NULL, 10);
	struct sockaddr_un	*sun = (struct sockaddr_un *)&up->addr;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&up->addr;

	memset(up, 0, sizeof(*up));
	if (host[0] == '/') {
		up->family = sun->sun_family = AF_UNIX;
		snprintf(sun->sun_path, sizeof(sun->sun_path),
		    "%s/.s.PGSQL.%ld", host, port);
		up->len = sizeof(*sun);
	} else {
		up->family = sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		ck_assert_msg(inet_pton(AF_INET, strcmp(host, "localhost") ==
		    0 ? "127.0.0.1" : host, &sin->sin_addr) == 1,
		    "the proxy needs a numeric IPv4 host, not %s", host);
		up->len = sizeof(*sin);
	}
	PQfinish(c);
}

#define PROXY_PAIRS	16

/* The proxy's loop: copies bytes both ways until its parent is gone. */
static void __attribute__((noreturn))
proxy_run(int lfd, const struct upstream *up, pid_t parent)
{
	struct pollfd	 pfd[1 + 2 * PROXY_PAIRS];
	int		 fds[2 * PROXY_PAIRS];
	char		 buf[16384];
	ssize_t		 n;
	int		 i, c, u, nfds;

	for (i = 0; i < 2 * PROXY_PAIRS; i++)
		fds[i] = -1;
	while (getppid() == parent) {
		pfd[0].fd = lfd;
		pfd[0].events = POLLIN;
		for (i = 0; i < 2 * PROXY_PAIRS; i++) {
			pfd[1 + i].fd = fds[i];
			pfd[1 + i].events = POLLIN;
		}
		nfds = 1 + 2 * PROXY_PAIRS;
		if (poll(pfd, (nfds_t)nfds, 200) <= 0)
			continue;
		if (pfd[0].revents & POLLIN) {
			for (i = 0; i < PROXY_PAIRS && fds[2 * i] != -1; i++)
				continue;
			c = accept(lfd, NULL, NULL);
			u = socket(up->family, SOCK_STREAM, 0);
			if (i == PROXY_PAIRS || c == -1 || u == -1 ||
			    connect(u, (const struct sockaddr *)&up->addr,
			    up->len) == -1) {
				close(c);
				close(u);
			} else {
				fds[2 * i] = c;
				fds[2 * i + 1] = u;
			}
		}
		for (i = 0; i < 2 * PROXY_PAIRS; i++) {
			if (fds[i] == -1 || pfd[1 + i].revents == 0)
				continue;
			n = read(fds[i], buf, sizeof(buf));
			if (n <= 0 || write(fds[i ^ 1], buf, (size_t)n) != n) {
				close(fds[i]);
				close(fds[i ^ 1]);
				fds[i] = fds[i ^ 1] = -1;
			}
		}
	}
	_exit(0);
}

/* Starts the proxy; returns its pid and the port it listens on. */
static pid_t
proxy_start(int *port)
{
	struct upstream	 up;
	pid_t		 parent = getpid(), pid;
	int		 lfd;

	upstream_of_server(&up);
	lfd = listener(port);
	signal(SIGPIPE, SIG_IGN);
	pid = fork();
	ck_assert_int_ne(pid, -1);
	if (pid == 0) {
#ifdef __linux__
		/* Stopped or not, it must not outlive a failed test. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
#endif
		proxy_run(lfd, &up, parent);
	}
	close(lfd);
	return pid;
}

static void
proxy_stop(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

START_TEST(test_exec_returns_rows_for_parameters)
{
	struct pgconn		*pc = handle(db_url, 5000);
	const char *const	 params[] = { "2", "3" };
	PGresult		*res;

	res = pgconn_exec(pc, "SELECT $1::int + $2::int, 'x'", 2, params,
	    5000);
	ck_assert_ptr_nonnull(res);
	ck_assert_int_eq(PQresultStatus(res), PGRES_TUPLES_OK);
	ck_assert_int_eq(PQntuples(res), 1);
	ck_assert_str_eq(PQgetvalue(res, 0, 0), "5");
	ck_assert_str_eq(PQgetvalue(res, 0, 1), "x");
	PQclear(res);
	pgconn_free(pc);
}
END_TEST

START_TEST(test_exec_sends_null_parameters_as_sql_null)
{
	struct pgconn		*pc = handle(db_url, 5000);
	const char *const	 params[] = { NULL };
	PGresult		*res;

	res = pgconn_exec(pc, "SELECT $1::text IS NULL", 1, params, 5000);
	ck_assert_ptr_nonnull(res);
	ck_assert_int_eq(PQresultStatus(res), PGRES_TUPLES_OK);
	ck_assert_str_eq(PQgetvalue(res, 0, 0), "t");
	PQclear(res);
	pgconn_free(pc);
}
END_TEST

START_TEST(test_statement_error_returns_fatal_result)
{
	struct pgconn	*pc = handle(db_url, 5000);
	PGresult	*res;
	char		*v;

	res = pgconn_exec(pc, "SELECT 1 / 0", 0, NULL, 5000);
	ck_assert_ptr_nonnull(res);
	ck_assert_int_eq(PQresultStatus(res), PGRES_FATAL_ERROR);
	ck_assert_str_eq(PQresultErrorField(res, PG_DIAG_SQLSTATE), "22012");
	PQclear(res);

	/* The connection is still good for the next statement. */
	v = value(pc, "SELECT 'after'");
	ck_assert_str_eq(v, "after");
	free(v);
	pgconn_free(pc);
}
END_TEST

START_TEST(test_connection_sets_statement_timeout_and_name)
{
	struct pgconn	*pc = handle(db_url, 1234);
	char		*v;

	v = value(pc, "SHOW statement_timeout");
	ck_assert_str_eq(v, "1234ms");
	free(v);
	v = value(pc, "SHOW application_name");
	ck_assert_str_eq(v, "gittinkerer");
	free(v);
	pgconn_free(pc);
}
END_TEST

/*
 * No JIT and no parallel workers for the service's short statements;
 * options the conninfo gives win over those, not over the timeout.  The
 * test's conninfo is in key=value form (t/stack.sh writes it so).
 */
START_TEST(test_connection_settings_and_given_options)
{
	struct pgconn	*pc = handle(db_url, 1234);
	char		*v, url[1024];

	v = value(pc, "SHOW jit");
	ck_assert_str_eq(v, "off");
	free(v);
	v = value(pc, "SHOW max_parallel_workers_per_gather");
	ck_assert_str_eq(v, "0");
	free(v);
	pgconn_free(pc);

	ck_assert_ptr_null(strstr(db_url, "options"));
	snprintf(url, sizeof(url), "%s options='-c jit=on -c work_mem=7MB "
	    "-c statement_timeout=1'", db_url);
	pc = handle(url, 1234);
	v = value(pc, "SHOW jit");
	ck_assert_str_eq(v, "on");
	free(v);
	v = value(pc, "SHOW work_mem");
	ck_assert_str_eq(v, "7MB");
	free(v);
	v = value(pc, "SHOW statement_timeout");
	ck_assert_str_eq(v, "1234ms");
	free(v);
	pgconn_free(pc);
}
END_TEST

/* Asserts that pc's session holds the test's statement prepared once. */
static void
prepared_once(struct pgconn *pc)
{
	char	*v;

	v = value(pc, "SELECT count(*) FROM pg_prepared_statements "
	    "WHERE statement = 'SELECT $1::int * 2'");
	ck_assert_str_eq(v, "1");
	free(v);
}

/*
 * A statement is prepared once per connection: a second run of the same
 * text executes the prepared one, and a connection opened again prepares
 * it again.
 */
START_TEST(test_statements_are_prepared_once_per_connection)
{
	static const char	 sql[] = "SELECT $1::int * 2";
	struct pgconn		*pc = handle(db_url, 5000);
	const char *const	 params[] = { "21" };
	PGresult		*res;
	char			*v;
	int			 i;

	for (i = 0; i < 3; i++) {
		res = pgconn_exec(pc, sql, 1, params, 5000);
		ck_assert_ptr_nonnull(res);
		ck_assert_int_eq(PQresultStatus(res), PGRES_TUPLES_OK);
		ck_assert_str_eq(PQgetvalue(res, 0, 0), "42");
		PQclear(res);
	}
	prepared_once(pc);

	pgconn_reset(pc);
	res = pgconn_exec(pc, sql, 1, params, 5000);
	ck_assert_ptr_nonnull(res);
	ck_assert_str_eq(PQgetvalue(res, 0, 0), "42");
	PQclear(res);
	prepared_once(pc);

	/* A statement the server refuses to prepare still gets its error. */
	res = pgconn_exec(pc, "SELECT no_such_column", 0, NULL, 5000);
	ck_assert_ptr_nonnull(res);
	ck_assert_int_eq(PQresultStatus(res), PGRES_FATAL_ERROR);
	ck_assert_str_eq(PQresultErrorField(res, PG_DIAG_SQLSTATE), "42703");
	PQclear(res);
	v = value(pc, "SELECT 'still good'");
	ck_assert_str_eq(v, "still good");
	free(v);
	pgconn_free(pc);
}
END_TEST

/*
 * Asserts that sql, without parameters, run for its generic plan, answers
 * want as its first value.
 */
static void
generic_value_is(struct pgconn *pc, const char *sql, const char *want)
{
	PGresult	*res;

	res = pgconn_exec_generic(pc, sql, 0, NULL, 5000);
	ck_assert_ptr_nonnull(res);
	ck_assert_int_eq(PQresultStatus(res), PGRES_TUPLES_OK);
	ck_assert_str_eq(PQgetvalue(res, 0, 0), want);
	PQclear(res);
}

/*
 * Asserts that sql, run for its generic plan, fails with sqlstate, and
 * that the session's plan_cache_mode is back to auto afterwards.
 */
static void
generic_fails(struct pgconn *pc, const char *sql, int n,
    const char *const *params, const char *sqlstate)
{
	PGresult	*res;
	char		*v;

	res = pgconn_exec_generic(pc, sql, n, params, 5000);
	ck_assert_ptr_nonnull(res);
	ck_assert_int_eq(PQresultStatus(res), PGRES_FATAL_ERROR);
	ck_assert_str_eq(PQresultErrorField(res, PG_DIAG_SQLSTATE), sqlstate);
	PQclear(res);
	v = value(pc, "SHOW plan_cache_mode");
	ck_assert_str_eq(v, "auto");
	free(v);
}

/*
 * A statement run for its generic plan runs with plan_cache_mode set to
 * force_generic_plan, gets that plan at every call (which the server
 * counts per prepared statement), and leaves the session's own setting
 * as it was, also when it fails.
 */
START_TEST(test_exec_generic_uses_the_generic_plan)
{
	static const char	 sql[] = "SELECT current_setting("
	    "'plan_cache_mode'), $1::int + 1";
	struct pgconn		*pc = handle(db_url, 5000);
	const char *const	 params[] = { "41" };
	const char *const	 zero[] = { "0" };
	PGresult		*res;
	char			*v;
	int			 i;

	for (i = 0; i < 3; i++) {
		res = pgconn_exec_generic(pc, sql, 1, params, 5000);
		ck_assert_ptr_nonnull(res);
		ck_assert_int_eq(PQresultStatus(res), PGRES_TUPLES_OK);
		ck_assert_int_eq(PQntuples(res), 1);
		ck_assert_str_eq(PQgetvalue(res, 0, 0), "force_generic_plan");
		ck_assert_str_eq(PQgetvalue(res, 0, 1), "42");
		PQclear(res);
		v = value(pc, "SHOW plan_cache_mode");
		ck_assert_str_eq(v, "auto");
		free(v);
	}
	v = value(pc, "SELECT generic_plans || ' ' || custom_plans "
	    "FROM pg_prepared_statements WHERE statement = "
	    "'SELECT current_setting(''plan_cache_mode''), $1::int + 1'");
	ck_assert_str_eq(v, "3 0");
	free(v);

	/* A failure is the statement's answer; the setting comes back. */
	generic_fails(pc, "SELECT 1 / $1::int", 1, zero, "22012");
	generic_fails(pc, "SELECT no_such_column", 0, NULL, "42703");
	pgconn_free(pc);
}
END_TEST

/* The setting goes back to the one the conninfo's options gave. */
START_TEST(test_exec_generic_restores_the_given_setting)
{
	struct pgconn	*pc;
	char		*v, url[1024];

	snprintf(url, sizeof(url), "%s options='-c "
	    "plan_cache_mode=force_custom_plan'", db_url);
	pc = handle(url, 5000);
	generic_value_is(pc, "SELECT current_setting('plan_cache_mode')",
	    "force_generic_plan");
	v = value(pc, "SHOW plan_cache_mode");
	ck_assert_str_eq(v, "force_custom_plan");
	free(v);
	pgconn_free(pc);
}
END_TEST

START_TEST(test_get_returns_the_open_connection)
{
	struct pgconn	*pc = handle(db_url, 5000);
	PGconn		*c;

	c = pgconn_get(pc, 5000);
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(PQstatus(c), CONNECTION_OK);
	ck_assert_ptr_eq(pgconn_get(pc, 5000), c);
	pgconn_reset(pc);
	ck_assert_ptr_nonnull(pgconn_get(pc, 5000));
	pgconn_free(pc);
}
END_TEST

START_TEST(test_exec_reconnects_after_backend_is_terminated)
{
	struct pgconn	*pc = handle(db_url, 5000);
	PGconn		*side = side_conn();
	char		*pid, *pid2, *killed, sql[128];

	pid = value(pc, "SELECT pg_backend_pid()");

	/* Waits (up to 5 s) until the backend has really gone. */
	snprintf(sql, sizeof(sql), "SELECT pg_terminate_backend(%s, 5000)",
	    pid);
	killed = side_value(side, sql);
	ck_assert_str_eq(killed, "t");

	pid2 = value(pc, "SELECT pg_backend_pid()");
	ck_assert_str_ne(pid, pid2);

	free(pid);
	free(pid2);
	free(killed);
	PQfinish(side);
	pgconn_free(pc);
}
END_TEST

START_TEST(test_slow_statement_times_out_and_next_call_reconnects)
{
	struct pgconn	*pc = handle(db_url, 20000);
	PGconn		*side;
	PGresult	*res;
	int64_t		 t0, took;
	char		*v, sql[160], mark[32];

	snprintf(mark, sizeof(mark), "gt_check_pg_%ld", (long)getpid());
	snprintf(sql, sizeof(sql), "SELECT pg_sleep(10) /* %s */", mark);
	v = value(pc, "SELECT 1");
	free(v);

	t0 = now_ms();
	res = pgconn_exec(pc, sql, 0, NULL, 300);
	took = now_ms() - t0;
	ck_assert_ptr_null(res);
	ck_assert_msg(took >= 250 && took < 300 + SLACK_MS,
	    "returned after %lld ms", (long long)took);

	v = value(pc, "SELECT 'again'");
	ck_assert_str_eq(v, "again");
	free(v);

	/* The abandoned backend sleeps on; end it. */
	side = side_conn();
	snprintf(sql, sizeof(sql), "SELECT count(pg_terminate_backend(pid, "
	    "5000)) FROM pg_stat_activity WHERE query LIKE '%%/* %s */%%' "
	    "AND pid <> pg_backend_pid()", mark);
	v = side_value(side, sql);
	ck_assert_str_eq(v, "1");
	free(v);
	PQfinish(side);
	pgconn_free(pc);
}
END_TEST

START_TEST(test_statement_timeout_cancels_on_the_server)
{
	struct pgconn	*pc = handle(db_url, 200);
	PGresult	*res;

	res = pgconn_exec(pc, "SELECT pg_sleep(5)", 0, NULL, 5000);
	ck_assert_ptr_nonnull(res);
	ck_assert_int_eq(PQresultStatus(res), PGRES_FATAL_ERROR);
	ck_assert_str_eq(PQresultErrorField(res, PG_DIAG_SQLSTATE), "57014");
	PQclear(res);
	pgconn_free(pc);
}
END_TEST

START_TEST(test_ping_reports_a_live_server)
{
	struct pgconn	*pc = handle(db_url, 5000);

	ck_assert_int_eq(pgconn_ping(pc, 2000), 0);
	ck_assert_int_eq(pgconn_ping(pc, 2000), 0);
	pgconn_free(pc);
}
END_TEST

START_TEST(test_connect_to_silent_server_is_bounded)
{
	struct pgconn	*pc;
	char		*url;
	int64_t		 t0, took;
	int		 port, lfd;

	/* Listens, never accepts: the handshake completes, nothing more. */
	lfd = listener(&port);
	url = conninfo_at(port);
	pc = handle(url, 5000);

	t0 = now_ms();
	ck_assert_ptr_null(pgconn_exec(pc, "SELECT 1", 0, NULL, 300));
	took = now_ms() - t0;
	ck_assert_msg(took < 300 + SLACK_MS, "returned after %lld ms",
	    (long long)took);

	t0 = now_ms();
	ck_assert_int_eq(pgconn_ping(pc, 300), -1);
	took = now_ms() - t0;
	ck_assert_msg(took < 300 + SLACK_MS, "ping took %lld ms",
	    (long long)took);

	pgconn_free(pc);
	free(url);
	close(lfd);
}
END_TEST

START_TEST(test_failed_connect_backs_off_then_tries_again)
{
	struct pgconn	*pc;
	char		*url;
	int64_t		 t0, took;
	int		 port, lfd;

	lfd = listener(&port);
	url = conninfo_at(port);
	pc = handle(url, 5000);

	ck_assert_ptr_null(pgconn_exec(pc, "SELECT 1", 0, NULL, 200));
	ck_assert_int_eq(take_pending(lfd), 1);

	/* Within the back-off: NULL at once, no new attempt. */
	t0 = now_ms();
	ck_assert_ptr_null(pgconn_exec(pc, "SELECT 1", 0, NULL, 200));
	ck_assert_ptr_null(pgconn_get(pc, 200));
	took = now_ms() - t0;
	ck_assert_msg(took < 100, "back-off answer took %lld ms",
	    (long long)took);
	ck_assert_int_eq(take_pending(lfd), 0);

	/* After it: a real attempt again. */
	usleep(400 * 1000);
	ck_assert_ptr_null(pgconn_exec(pc, "SELECT 1", 0, NULL, 200));
	ck_assert_int_eq(take_pending(lfd), 1);

	pgconn_free(pc);
	free(url);
	close(lfd);
}
END_TEST

START_TEST(test_closed_port_fails_at_once)
{
	struct pgconn	*pc;
	char		*url;
	int64_t		 t0, took;
	int		 port, lfd;

	lfd = listener(&port);
	close(lfd);
	url = conninfo_at(port);
	pc = handle(url, 5000);

	t0 = now_ms();
	ck_assert_ptr_null(pgconn_exec(pc, "SELECT 1", 0, NULL, 2000));
	ck_assert_int_eq(pgconn_ping(pc, 2000), -1);
	took = now_ms() - t0;
	ck_assert_msg(took < SLACK_MS, "took %lld ms", (long long)took);

	pgconn_free(pc);
	free(url);
}
END_TEST

START_TEST(test_frozen_server_statement_is_bounded)
{
	struct pgconn	*pc;
	char		*url, *v;
	int64_t		 t0, took;
	pid_t		 proxy;
	int		 port;

	proxy = proxy_start(&port);
	url = conninfo_at(port);
	pc = handle(url, 5000);
	v = value(pc, "SELECT 'through the proxy'");
	ck_assert_str_eq(v, "through the proxy");
	free(v);

	kill(proxy, SIGSTOP);
	t0 = now_ms();
	ck_assert_ptr_null(pgconn_exec(pc, "SELECT 1", 0, NULL, 300));
	took = now_ms() - t0;
	ck_assert_msg(took < 300 + SLACK_MS, "exec took %lld ms",
	    (long long)took);

	t0 = now_ms();
	ck_assert_int_eq(pgconn_ping(pc, 300), -1);
	took = now_ms() - t0;
	ck_assert_msg(took < 300 + SLACK_MS, "ping took %lld ms",
	    (long long)took);

	kill(proxy, SIGCONT);
	ck_assert_int_eq(pgconn_ping(pc, 5000), 0);

	pgconn_free(pc);
	free(url);
	proxy_stop(proxy);
}
END_TEST

/*
 * The same for a statement run for its generic plan, once its parts are
 * prepared (the wait is then on the pipeline): NULL by the deadline, and
 * the next call on a fresh connection runs it with the setting restored.
 */
START_TEST(test_frozen_server_generic_statement_is_bounded)
{
	static const char	 sql[] = "SELECT current_setting("
	    "'plan_cache_mode')";
	struct pgconn		*pc;
	char			*url, *v;
	int64_t			 t0, took;
	pid_t			 proxy;
	int			 port;

	proxy = proxy_start(&port);
	url = conninfo_at(port);
	pc = handle(url, 5000);
	generic_value_is(pc, sql, "force_generic_plan");

	kill(proxy, SIGSTOP);
	t0 = now_ms();
	ck_assert_ptr_null(pgconn_exec_generic(pc, sql, 0, NULL, 300));
	took = now_ms() - t0;
	ck_assert_msg(took < 300 + SLACK_MS, "exec took %lld ms",
	    (long long)took);

	kill(proxy, SIGCONT);
	ck_assert_int_eq(pgconn_ping(pc, 5000), 0);
	generic_value_is(pc, sql, "force_generic_plan");
	v = value(pc, "SHOW plan_cache_mode");
	ck_assert_str_eq(v, "auto");
	free(v);

	pgconn_free(pc);
	free(url);
	proxy_stop(proxy);
}
END_TEST

START_TEST(test_ping_sees_recovery_during_back_off)
{
	struct pgconn	*pc;
	char		*url, *v;
	int64_t		 t0, took;
	pid_t		 proxy;
	int		 port;

	proxy = proxy_start(&port);
	url = conninfo_at(port);
	pc = handle(url, 5000);

	/* A connection attempt that fails starts the back-off. */
	kill(proxy, SIGSTOP);
	ck_assert_ptr_null(pgconn_exec(pc, "SELECT 1", 0, NULL, 300));
	kill(proxy, SIGCONT);

	t0 = now_ms();
	ck_assert_ptr_null(pgconn_exec(pc, "SELECT 1", 0, NULL, 300));
	took = now_ms() - t0;
	ck_assert_msg(took < 100, "back-off answer took %lld ms",
	    (long long)took);

	/* The server is back: ping says so at once, and requests follow. */
	ck_assert_int_eq(pgconn_ping(pc, 5000), 0);
	v = value(pc, "SELECT 'back'");
	ck_assert_str_eq(v, "back");
	free(v);

	pgconn_free(pc);
	free(url);
	proxy_stop(proxy);
}
END_TEST

START_TEST(test_free_accepts_null)
{
	pgconn_free(NULL);
}
END_TEST

static Suite *
pg_suite(void)
{
	Suite	*s = suite_create("pg");
	TCase	*tc;

	tc = tcase_create("exec");
	tcase_add_test(tc, test_exec_returns_rows_for_parameters);
	tcase_add_test(tc, test_exec_sends_null_parameters_as_sql_null);
	tcase_add_test(tc, test_statement_error_returns_fatal_result);
	tcase_add_test(tc, test_connection_sets_statement_timeout_and_name);
	tcase_add_test(tc, test_connection_settings_and_given_options);
	tcase_add_test(tc, test_statements_are_prepared_once_per_connection);
	tcase_add_test(tc, test_exec_generic_uses_the_generic_plan);
	tcase_add_test(tc, test_exec_generic_restores_the_given_setting);
	tcase_add_test(tc, test_get_returns_the_open_connection);
	tcase_add_test(tc, test_statement_timeout_cancels_on_the_server);
	tcase_add_test(tc, test_free_accepts_null);
	suite_add_tcase(s, tc);

	tc = tcase_create("failures");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_exec_reconnects_after_backend_is_terminated);
	tcase_add_test(tc,
	    test_slow_statement_times_out_and_next_call_reconnects);
	tcase_add_test(tc, test_ping_reports_a_live_server);
	tcase_add_test(tc, test_connect_to_silent_server_is_bounded);
	tcase_add_test(tc, test_failed_connect_backs_off_then_tries_again);
	tcase_add_test(tc, test_closed_port_fails_at_once);
	tcase_add_test(tc, test_frozen_server_statement_is_bounded);
	tcase_add_test(tc, test_frozen_server_generic_statement_is_bounded);
	tcase_add_test(tc, test_ping_sees_recovery_during_back_off);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	if ((db_url = getenv("GT_DATABASE_URL")) == NULL || *db_url == '\0') {
		fprintf(stderr, "check_pg: GT_DATABASE_URL is not set: it must "
		    "be the conninfo of a PostgreSQL server to test against\n");
		return EXIT_FAILURE;
	}
	sr = srunner_create(pg_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
