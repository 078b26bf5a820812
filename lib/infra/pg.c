/*
 * pg.c: a worker's PostgreSQL connection, with every wait bounded.
 *
 * libpq's blocking calls wait as long as the kernel lets them, and a
 * server that is stopped (SIGSTOP, a frozen VM) still completes the TCP
 * handshake, so a blocking call could hold a worker for good.  Everything
 * here uses the asynchronous interface instead: the connection is started
 * with PQconnectStartParams() and driven by PQconnectPoll(), a statement
 * is sent with PQsendQueryParams() and its answer gathered with
 * PQconsumeInput(), and every wait in between is a poll(2) that ends at
 * the caller's deadline.
 *
 * Statements are prepared once per connection and then only executed:
 * the server parses each text once, not at every request.  A statement is
 * known by its address and its text, so the callers' statements are
 * static strings; past PG_PREPARED_MAX of them, the rest run unprepared.
 *
 * Note: libpq resolves a host name with getaddrinfo(3) before any of
 * this, and that call is not bounded; where DNS could hang, configure an
 * address, a name in /etc/hosts, or a Unix socket.
 */
#include <config.h>	/* the build's, not infra/config.h beside this file */

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>

#include "infra/config.h"
#include "infra/log.h"
#include "infra/pg.h"

/*
 * After a failed connection attempt, requests get NULL at once for this
 * long instead of each waiting out its own attempt against a database
 * that is down.
 */
#define PG_BACKOFF_MS	250

/* How many statements a connection keeps prepared. */
#define PG_PREPARED_MAX	64

/* A statement prepared on the open connection as "gt<index>". */
struct pg_prepared {
	const char	*sql;		/* the caller's string, to match */
	char		*text;		/* a copy, should the address be reused */
};

struct pgconn {
	char	*conninfo;	/* database_url: may hold a password */
	char	*options;	/* the "options" keyword: settings, timeout */
	int	 connect_timeout_ms; /* cap on connecting; 0 for none */
	PGconn	*conn;		/* NULL until connected */
	int64_t	 retry_at;	/* no new attempt before this (monotonic ms) */
	struct pg_prepared prepared[PG_PREPARED_MAX]; /* on conn */
	size_t	 nprepared;
};

/* Which way poll_socket() waits. */
enum pg_wait {
	PG_WAIT_READ,
	PG_WAIT_WRITE,
	PG_WAIT_EITHER
};

static int64_t
now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Waits until fd is ready the given way or the deadline passes.  Returns
 * 1 when ready (an error or hang-up counts: the next libpq call reports
 * it), 0 at the deadline, -1 when poll(2) itself fails.
 */
static int
poll_socket(int fd, enum pg_wait how, int64_t deadline)
{
	struct pollfd	 pfd;
	int64_t		 left;
	int		 rc;

	pfd.fd = fd;
	pfd.events = how == PG_WAIT_READ ? POLLIN :
	    how == PG_WAIT_WRITE ? POLLOUT : POLLIN | POLLOUT;
	for (;;) {
		left = deadline - now_ms();
		if (left <= 0)
			return 0;
		pfd.revents = 0;
		rc = poll(&pfd, 1, left > INT32_MAX ? INT32_MAX : (int)left);
		if (rc > 0)
			return 1;
		if (rc == -1 && errno != EINTR)
			return -1;
	}
}

/*
 * Logs why the database could not be used, with the first line of
 * libpq's message (the others are hints for a person at a terminal).
 * libpq's messages never hold the password; the conninfo is never logged.
 */
static void
log_unavailable(const char *why, const char *detail)
{
	char	 msg[512];
	int	 dlen = 0;

	if (detail != NULL)
		dlen = (int)strcspn(detail, "\n");
	snprintf(msg, sizeof(msg), "%s%s%.*s", why, dlen > 0 ? ": " : "",
	    dlen, dlen > 0 ? detail : "");
	log_event(LOG_WARN, "pg_unavailable", "error", msg, NULL);
}

/* Forgets the statements prepared on a connection that is closing. */
static void
forget_prepared(struct pgconn *pc)
{
	size_t	 i;

	for (i = 0; i < pc->nprepared; i++)
		free(pc->prepared[i].text);
	pc->nprepared = 0;
}

/*
 * Closes the connection and logs why, with libpq's message unless the
 * failure was ours (a deadline), when that message says nothing useful.
 */
static void
drop(struct pgconn *pc, const char *why, int with_detail)
{
	log_unavailable(why, with_detail && pc->conn != NULL ?
	    PQerrorMessage(pc->conn) : NULL);
	PQfinish(pc->conn);
	pc->conn = NULL;
	forget_prepared(pc);
}

/*
 * Receives the server's notices and warnings, and the error a backend
 * sends when it is told to end while idle (why the connection is about
 * to close).  libpq would print them on standard error.
 */
static void
log_notice(void *arg, const PGresult *res)
{
	const char	*sev, *msg;
	int		 bad;

	(void)arg;
	sev = PQresultErrorField(res, PG_DIAG_SEVERITY_NONLOCALIZED);
	msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
	bad = sev != NULL && (strcmp(sev, "ERROR") == 0 ||
	    strcmp(sev, "FATAL") == 0 || strcmp(sev, "PANIC") == 0);
	log_event(bad ? LOG_WARN : LOG_DEBUG, "pg_notice", "severity", sev,
	    "message", msg, NULL);
}

struct pgconn *
pgconn_new(const struct config *cfg)
{
	struct pgconn		*pc;
	PQconninfoOption	*opts, *o;
	const char		*given = NULL;
	int			 n;

	if ((pc = calloc(1, sizeof(*pc))) == NULL)
		return NULL;
	pc->connect_timeout_ms = cfg->db_connect_timeout_ms;
	if ((pc->conninfo = strdup(cfg->database_url != NULL ?
	    cfg->database_url : "")) == NULL)
		goto out_free;

	/*
	 * The settings travel in the startup packet, so they hold from the
	 * first statement and cost no round trip:
	 *
	 *  - no JIT compilation and no parallel workers: the statements are
	 *    short and many run at once, and the planner's cost estimates
	 *    of a prepared statement's generic plan can be high enough to
	 *    start either, which costs tens of milliseconds for nothing;
	 *  - the statement timeout.
	 *
	 * Options the conninfo carries come between the two, so they may
	 * change the first but not the timeout, which is configured on its
	 * own.  A conninfo that does not parse fails later, at connect time,
	 * with libpq's own message.
	 */
	opts = PQconninfoParse(pc->conninfo, NULL);
	for (o = opts; o != NULL && o->keyword != NULL; o++)
		if (strcmp(o->keyword, "options") == 0 && o->val != NULL &&
		    *o->val != '\0')
			given = o->val;
	n = asprintf(&pc->options, "-c jit=off "
	    "-c max_parallel_workers_per_gather=0 %s%s-c statement_timeout=%d",
	    given != NULL ? given : "", given != NULL ? " " : "",
	    cfg->statement_timeout_ms);
	PQconninfoFree(opts);
	if (n == -1) {
		pc->options = NULL;
		goto out_free;
	}
	return pc;

out_free:
	pgconn_free(pc);
	return NULL;
}

void
pgconn_free(struct pgconn *pc)
{
	if (pc == NULL)
		return;
	PQfinish(pc->conn);
	forget_prepared(pc);
	if (pc->conninfo != NULL) {
		explicit_bzero(pc->conninfo, strlen(pc->conninfo));
		free(pc->conninfo);
	}
	free(pc->options);
	free(pc);
}

void
pgconn_reset(struct pgconn *pc)
{
	PQfinish(pc->conn);
	pc->conn = NULL;
	forget_prepared(pc);
}

/*
 * Whether an idle connection is still alive.  An idle connection has
 * nothing to read but the odd notice; a readable socket usually means the
 * server has said goodbye (it was restarted, or the backend terminated),
 * which PQconsumeInput() turns into CONNECTION_BAD.
 */
static int
still_alive(PGconn *conn)
{
	struct pollfd	 pfd;
	int		 i;

	/*
	 * A goodbye takes two reads: the error message, then the end of
	 * the stream.  PQisBusy() parses what was read, handing messages
	 * that arrive while idle to the notice receiver.  A few rounds are
	 * enough; a server chattering past them is taken as alive.
	 */
	for (i = 0; i < 4; i++) {
		if (PQstatus(conn) != CONNECTION_OK)
			return 0;
		pfd.fd = PQsocket(conn);
		pfd.events = POLLIN;
		pfd.revents = 0;
		if (poll(&pfd, 1, 0) <= 0)
			return 1;
		if (PQconsumeInput(conn) == 0)
			return 0;
		(void)PQisBusy(conn);
	}
	return PQstatus(conn) == CONNECTION_OK;
}

/*
 * Opens the connection, waiting until the deadline at most.  Returns 0,
 * or -1 (logged) when the server could not be reached in time.
 */
static int
open_conn(struct pgconn *pc, int64_t deadline)
{
	const char *const	 keys[] = { "dbname", "application_name",
	    "options", NULL };
	const char *const	 vals[] = { pc->conninfo, "gittinkerer",
	    pc->options, NULL };
	PostgresPollingStatusType st;
	int			 rc;

	if (pc->connect_timeout_ms > 0 &&
	    now_ms() + pc->connect_timeout_ms < deadline)
		deadline = now_ms() + pc->connect_timeout_ms;

	/*
	 * The conninfo is given as dbname with expansion on, so that it may
	 * be a URI or key=value pairs; the keywords after it win.
	 */
	if ((pc->conn = PQconnectStartParams(keys, vals, 1)) == NULL) {
		log_unavailable("cannot connect", "out of memory");
		goto out_fail;
	}
	if (PQstatus(pc->conn) == CONNECTION_BAD) {
		drop(pc, "cannot connect", 1);
		goto out_fail;
	}
	(void)PQsetNoticeReceiver(pc->conn, log_notice, NULL);

	/* As libpq's documentation asks: start as if it had said writing. */
	st = PGRES_POLLING_WRITING;
	while (st != PGRES_POLLING_OK) {
		if (st == PGRES_POLLING_FAILED) {
			drop(pc, "cannot connect", 1);
			goto out_fail;
		}
		rc = poll_socket(PQsocket(pc->conn), st ==
		    PGRES_POLLING_READING ? PG_WAIT_READ : PG_WAIT_WRITE,
		    deadline);
		if (rc == 0) {
			drop(pc, "connecting timed out", 0);
			goto out_fail;
		}
		if (rc == -1) {
			drop(pc, "cannot wait for the server", 0);
			goto out_fail;
		}
		st = PQconnectPoll(pc->conn);
	}

	if (PQsetnonblocking(pc->conn, 1) == -1) {
		drop(pc, "cannot make the connection non-blocking", 1);
		goto out_fail;
	}
	pc->retry_at = 0;
	return 0;

out_fail:
	pc->retry_at = now_ms() + PG_BACKOFF_MS;
	return -1;
}

/*
 * The connection, opened if needed.  During the back-off after a failed
 * attempt, NULL comes back at once unless force is set.
 */
static PGconn *
get_conn(struct pgconn *pc, int64_t deadline, int force)
{
	if (pc->conn != NULL && !still_alive(pc->conn))
		drop(pc, "connection lost", 1);
	if (pc->conn != NULL)
		return pc->conn;
	if (!force && now_ms() < pc->retry_at)
		return NULL;
	if (open_conn(pc, deadline) == -1)
		return NULL;
	return pc->conn;
}

PGconn *
pgconn_get(struct pgconn *pc, int timeout_ms)
{
	return get_conn(pc, now_ms() + timeout_ms, 0);
}

/*
 * Waits by the deadline for the socket as how says, then reads what the
 * server sent.  Returns 0, or -1 with *why (and *detail: whether libpq's
 * message says more) set for the caller to drop the connection.
 */
static int
wait_and_read(PGconn *conn, enum pg_wait how, int64_t deadline,
    const char **why, int *detail)
{
	int	 rc;

	if ((rc = poll_socket(PQsocket(conn), how, deadline)) != 1) {
		*why = rc == 0 ? "statement timed out" :
		    "cannot wait for the server";
		*detail = 0;
		return -1;
	}
	if (!PQconsumeInput(conn)) {
		*why = "connection lost";
		return -1;
	}
	return 0;
}

/*
 * Sends what libpq still holds of the statements, by the deadline.
 * Returns 0, or -1 as wait_and_read() does.
 */
static int
flush_out(PGconn *conn, int64_t deadline, const char **why, int *detail)
{
	int	 rc;

	/* In non-blocking mode, what did not fit waits in libpq's buffer. */
	while ((rc = PQflush(conn)) == 1)
		if (wait_and_read(conn, PG_WAIT_EITHER, deadline, why,
		    detail) == -1)
			return -1;
	if (rc == -1) {
		*why = "cannot send the statement";
		return -1;
	}
	return 0;
}

/*
 * Waits by the deadline until PQgetResult() can answer without blocking.
 * Returns 0, or -1 as wait_and_read() does.
 */
static int
await_result(PGconn *conn, int64_t deadline, const char **why, int *detail)
{
	while (PQisBusy(conn))
		if (wait_and_read(conn, PG_WAIT_READ, deadline, why,
		    detail) == -1)
			return -1;
	return 0;
}

/*
 * Flushes what was sent and gathers its results by the deadline.  Returns
 * the last result, or NULL with the connection dropped.
 */
static PGresult *
gather(struct pgconn *pc, int64_t deadline)
{
	PGconn		*conn = pc->conn;
	PGresult	*res, *last = NULL;
	const char	*why;
	int		 detail = 1;

	if (flush_out(conn, deadline, &why, &detail) == -1)
		goto out_drop;
	for (;;) {
		if (await_result(conn, deadline, &why, &detail) == -1)
			goto out_drop;
		if ((res = PQgetResult(conn)) == NULL)
			break;
		PQclear(last);
		last = res;
	}

	/*
	 * A backend that ends mid-statement answers with an error and then
	 * closes: that is the server going away, not an answer.
	 */
	if (PQstatus(conn) != CONNECTION_OK) {
		why = "connection lost";
		goto out_drop;
	}
	return last;

out_drop:
	PQclear(last);
	drop(pc, why, detail);
	return NULL;
}

/*
 * The index of sql among the connection's prepared statements, preparing
 * it first when it is new.  Returns -1 when it is to run unprepared (no
 * room left, or the server refused it: the plain run then gets the same
 * error, for the caller), or -2 with the connection dropped.
 */
static int
prepared(struct pgconn *pc, const char *sql, int n, int64_t deadline)
{
	struct pg_prepared	*p;
	PGresult		*res;
	char			 name[16];
	size_t			 i;
	int			 ok;

	for (i = 0; i < pc->nprepared; i++) {
		p = &pc->prepared[i];
		if (p->sql == sql && strcmp(p->text, sql) == 0)
			return (int)i;
	}
	if (pc->nprepared == PG_PREPARED_MAX)
		return -1;

	p = &pc->prepared[pc->nprepared];
	if ((p->text = strdup(sql)) == NULL)
		return -1;
	snprintf(name, sizeof(name), "gt%zu", pc->nprepared);
	if (!PQsendPrepare(pc->conn, name, sql, n, NULL)) {
		free(p->text);
		drop(pc, "cannot send the statement", 1);
		return -2;
	}
	if ((res = gather(pc, deadline)) == NULL) {
		free(p->text);
		return -2;
	}
	ok = PQresultStatus(res) == PGRES_COMMAND_OK;
	PQclear(res);
	if (!ok) {
		free(p->text);
		return -1;
	}
	p->sql = sql;
	return (int)pc->nprepared++;
}

/*
 * Sends the statement, as the prepared statement at index i when i is not
 * negative.  Returns 0, or -1 with the connection dropped.
 */
static int
send_one(struct pgconn *pc, int i, const char *sql, int n,
    const char *const *params)
{
	char	 name[16];
	int	 sent;

	if (i >= 0) {
		snprintf(name, sizeof(name), "gt%d", i);
		sent = PQsendQueryPrepared(pc->conn, name, n, params, NULL,
		    NULL, 0);
	} else
		sent = PQsendQueryParams(pc->conn, sql, n, NULL, params, NULL,
		    NULL, 0);
	if (!sent) {
		drop(pc, "cannot send the statement", 1);
		return -1;
	}
	return 0;
}

/*
 * Runs the statement, prepared when it can be, and gathers its results by
 * the deadline.  Returns the last result, or NULL with the connection
 * dropped.
 */
static PGresult *
run(struct pgconn *pc, const char *sql, int n, const char *const *params,
    int64_t deadline)
{
	int	 i;

	if ((i = prepared(pc, sql, n, deadline)) == -2 ||
	    send_one(pc, i, sql, n, params) == -1)
		return NULL;
	return gather(pc, deadline);
}

/*
 * The statements run_generic() puts around the caller's.  RESET goes back
 * to the session's own value, which the conninfo's options may have set.
 */
static const char generic_on[] = "SET plan_cache_mode = force_generic_plan";
static const char generic_off[] = "RESET plan_cache_mode";

/*
 * Gathers one statement's results in a pipeline, up to its sync point,
 * by the deadline.  Returns 0 with its last result (or NULL) in *out, or
 * -1 as wait_and_read() does.
 */
static int
gather_step(PGconn *conn, int64_t deadline, PGresult **out,
    const char **why, int *detail)
{
	PGresult	*res, *last = NULL;

	for (;;) {
		if (await_result(conn, deadline, why, detail) == -1) {
			PQclear(last);
			return -1;
		}
		/* NULL ends the statement's results; its sync point follows. */
		if ((res = PQgetResult(conn)) == NULL)
			continue;
		if (PQresultStatus(res) == PGRES_PIPELINE_SYNC) {
			PQclear(res);
			break;
		}
		PQclear(last);
		last = res;
	}
	*out = last;
	return 0;
}

/*
 * Runs the statement as run() does, but with the generic plan the server
 * keeps for it, between generic_on and generic_off.  The three go in one
 * pipeline, in one write and one round trip, each followed by a sync
 * point: each is a transaction of its own, so generic_off runs even when
 * the statement fails.  Should it fail itself, the connection is dropped
 * after the answer is read, rather than kept with the wrong setting.
 */
static PGresult *
run_generic(struct pgconn *pc, const char *sql, int n,
    const char *const *params, int64_t deadline)
{
	const char *const	 steps[] = { generic_on, sql, generic_off };
	PGresult		*res[3] = { NULL, NULL, NULL };
	const char		*why = "cannot send the statement";
	int			 idx[3], i, detail = 1, restored;

	for (i = 0; i < 3; i++)
		if ((idx[i] = prepared(pc, steps[i], i == 1 ? n : 0,
		    deadline)) == -2)
			return NULL;
	if (!PQenterPipelineMode(pc->conn))
		goto out_drop;
	for (i = 0; i < 3; i++) {
		if (send_one(pc, idx[i], steps[i], i == 1 ? n : 0,
		    i == 1 ? params : NULL) == -1)
			return NULL;
		if (!PQpipelineSync(pc->conn))
			goto out_drop;
	}
	if (flush_out(pc->conn, deadline, &why, &detail) == -1)
		goto out_drop;
	for (i = 0; i < 3; i++)
		if (gather_step(pc->conn, deadline, &res[i], &why,
		    &detail) == -1)
			goto out_drop;
	if (!PQexitPipelineMode(pc->conn) ||
	    PQstatus(pc->conn) != CONNECTION_OK) {
		why = "connection lost";
		goto out_drop;
	}

	if (res[1] == NULL) {	/* a sync point without an answer */
		why = "no answer to the statement";
		detail = 0;
		goto out_drop;
	}
	restored = res[2] != NULL &&
	    PQresultStatus(res[2]) == PGRES_COMMAND_OK;
	PQclear(res[0]);
	PQclear(res[2]);
	if (!restored)
		drop(pc, "cannot reset plan_cache_mode", 0);
	return res[1];

out_drop:
	for (i = 0; i < 3; i++)
		PQclear(res[i]);
	drop(pc, why, detail);
	return NULL;
}

PGresult *
pgconn_exec(struct pgconn *pc, const char *sql, int n,
    const char *const *params, int timeout_ms)
{
	int64_t	 deadline = now_ms() + timeout_ms;

	if (get_conn(pc, deadline, 0) == NULL)
		return NULL;
	return run(pc, sql, n, params, deadline);
}

PGresult *
pgconn_exec_generic(struct pgconn *pc, const char *sql, int n,
    const char *const *params, int timeout_ms)
{
	int64_t	 deadline = now_ms() + timeout_ms;

	if (get_conn(pc, deadline, 0) == NULL)
		return NULL;
	return run_generic(pc, sql, n, params, deadline);
}

int
pgconn_ping(struct pgconn *pc, int timeout_ms)
{
	int64_t		 deadline = now_ms() + timeout_ms;
	PGresult	*res;
	int		 ok;

	/*
	 * The back-off is ignored here: a health check must see a database
	 * that has just come back, not the memory of its last failure.
	 */
	if (get_conn(pc, deadline, 1) == NULL)
		return -1;
	if ((res = run(pc, "SELECT 1", 0, NULL, deadline)) == NULL)
		return -1;
	ok = PQresultStatus(res) == PGRES_TUPLES_OK;
	PQclear(res);
	return ok ? 0 : -1;
}
