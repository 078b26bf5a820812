/*
 * admin_pg.h: the admin store (struct admin_store, usecase/admin.h) in
 * PostgreSQL, over a struct pg_store (infra/pg_store.h).
 *
 * Pauses are the rows of paused_repos and paused_run_targets, overrides
 * those of rate_limits (sql/001_schema.sql), each under the lower-case
 * name, which is what the run store and the dispatchers' claim compare.
 * Every call is one parameterised statement, waiting at most the store's
 * timeout_ms.  Beyond what admin.h says:
 *
 *   - A pause is an INSERT that, on the row already there, only updates
 *     the reason (when one is given), so two concurrent pauses of one
 *     thing leave one row, with the first paused_at.
 *   - A resume that removed a pause sends NOTIFY runs_queued, with the
 *     repository's lower-case name as payload, in the statement that
 *     removed it: the notification goes out when the removal commits,
 *     and the dispatchers LISTENing on that channel look at the queue.
 *     A resume of what was not paused sends nothing.
 *   - The list is repositories then targets, each by paused_at (to the
 *     millisecond), then by name, type and number.
 *   - Times are milliseconds since the epoch, the floor of the stored
 *     microseconds.
 *   - A statement that got no answer, or an error of the server's own
 *     state, is GT_ERR_UNAVAILABLE; any other error GT_ERR_INTERNAL;
 *     both logged by pg_rows.h without parameters.
 */
#ifndef GT_ADMIN_PG_H
#define GT_ADMIN_PG_H

#include "usecase/admin.h"

struct pg_store;

/*
 * Fills out with the store's functions, with s as ctx.  s is borrowed:
 * out is valid as long as s is, and the caller frees s (pg_store_free()).
 */
void	 admin_pg_port(struct pg_store *s, struct admin_store *out);

#endif
