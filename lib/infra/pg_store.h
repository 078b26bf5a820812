/*
 * pg_store.h: the statements of a PostgreSQL adapter, over a worker's
 * bounded connection (infra/pg.h).
 *
 * The adapters (run_store_pg.h, webhook_store_pg.h, outbox_pg.h,
 * redelivery_pg.h, admin_pg.h, analytics_pg.h) keep no state of their
 * own: each runs its statements through a store, which holds the
 * connection and the time each statement may wait on it.  One store can
 * serve every adapter of a process, since they would share its
 * connection anyway.
 */
#ifndef GT_PG_STORE_H
#define GT_PG_STORE_H

#include <libpq-fe.h>

struct pgconn;
struct pg_store;

/*
 * A store over pc, each statement waiting at most timeout_ms (> 0).  pc
 * is borrowed: it must outlive the store, which never frees it.  Returns
 * NULL when memory is short.  The caller frees the store with
 * pg_store_free(), once no adapter's port uses it.
 */
struct pg_store	*pg_store_new(struct pgconn *pc, int timeout_ms);

/* Frees the store (not its connection).  Accepts NULL. */
void		 pg_store_free(struct pg_store *);

/*
 * Runs sql with n text parameters as pgconn_exec() does, waiting at most
 * the store's timeout_ms.  Returns the result, which the caller frees with
 * PQclear(); or NULL when the statement got no answer.
 */
PGresult	*pg_store_exec(const struct pg_store *, const char *sql, int n,
		    const char *const *params);

/* pg_store_exec() with the statement's generic plan: pgconn_exec_generic(). */
PGresult	*pg_store_exec_generic(const struct pg_store *, const char *sql,
		    int n, const char *const *params);

/*
 * The open PGconn the store's statements run on, as pgconn_get() answers
 * it within the store's timeout_ms: NULL when unreachable.  The handle
 * still owns the connection.
 */
PGconn		*pg_store_conn(const struct pg_store *);

/* Drops the store's connection; the next statement connects again. */
void		 pg_store_reset(const struct pg_store *);

#endif
