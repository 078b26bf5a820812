/*
 * pg.h: a worker's PostgreSQL connection.
 *
 * One connection per process, opened on first use and opened again after
 * any failure, so a database restart costs the requests made while it is
 * down and nothing more.  Every wait is bounded by a deadline: connecting
 * uses libpq's non-blocking interface under poll(2), and a statement that
 * does not answer in time drops the connection (a cancel request could
 * hang on a frozen server as well).  statement_timeout is set on every
 * connection, and application_name is "gittinkerer".  Only parameterised
 * statements are offered.
 *
 * After a failed connection attempt, no new one is made for a short
 * back-off (a quarter of a second): the calls made meanwhile answer NULL at
 * once, so a database that is down does not cost every request a full
 * timeout.  pgconn_ping() alone ignores the back-off.
 *
 * Failures are logged as event=pg_unavailable; the conninfo never is.
 */
#ifndef GT_PG_H
#define GT_PG_H

#include <libpq-fe.h>

struct config;
struct pgconn;

/*
 * A handle for the database in cfg; no connection is made yet.  Returns
 * NULL when memory is short.  The caller frees it with pgconn_free().
 */
struct pgconn	*pgconn_new(const struct config *cfg);

/* Closes the connection and frees the handle.  Accepts NULL. */
void		 pgconn_free(struct pgconn *);

/*
 * Runs sql with n text parameters (NULL entries are SQL NULL), waiting at
 * most timeout_ms for connecting and answering together.  Returns the
 * result, which the caller frees with PQclear(), whatever its status (a
 * statement error is a PGRES_FATAL_ERROR result); or NULL when the server
 * could not be reached, did not answer in time, or closed the connection
 * (which is then dropped and the failure logged), or during the back-off.
 * A statement that got NULL may or may not have run.
 */
PGresult	*pgconn_exec(struct pgconn *, const char *sql, int n,
		    const char *const *params, int timeout_ms);

/*
 * pgconn_exec() with the generic plan the server keeps for the prepared
 * statement.  Left to choose, the server plans a statement again at every
 * call when it judges a plan made for the parameters cheaper; this is for
 * a statement whose planning costs more than its generic plan loses.
 * plan_cache_mode is set around it in the same round trip and reset
 * after.  Answers as pgconn_exec() does.
 */
PGresult	*pgconn_exec_generic(struct pgconn *, const char *sql, int n,
		    const char *const *params, int timeout_ms);

/*
 * Whether the server answers a trivial statement within timeout_ms,
 * connecting first if needed, even during the back-off.  Returns 0 when
 * it does, -1 otherwise.
 */
int		 pgconn_ping(struct pgconn *, int timeout_ms);

/*
 * The open PGconn, connecting first if needed within timeout_ms; NULL when
 * unreachable or during the back-off.  The connection is in non-blocking
 * mode.  The handle still owns it: do not PQfinish() it, and leave it idle
 * (no transaction or result pending).
 */
PGconn		*pgconn_get(struct pgconn *, int timeout_ms);

/* Drops the connection; the next call connects again. */
void		 pgconn_reset(struct pgconn *);

#endif
