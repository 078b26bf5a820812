/*
 * analytics_pg.h: the analytics store (struct analytics_store,
 * usecase/analytics.h) in PostgreSQL, over a worker's bounded connection
 * (infra/pg.h).
 *
 * One statement answers every figure, so they all come from one
 * snapshot.  It reads the runs of the window through range scans of
 * runs_analytics_idx (created_at, with the other columns it needs
 * included), index-only where the visibility map allows, so its cost
 * follows the runs created inside the window and not the size of the
 * table; doc/analytics.md shows the plan.  Beyond what analytics.h says:
 *
 *   - Durations and waits are computed in seconds, with microseconds;
 *     p50 and p95 are percentile_cont's: exact, interpolating linearly
 *     between the two nearest values (for n values sorted, position
 *     1 + p * (n - 1)).  The store does not round; the use case does.
 *   - A day is a calendar day in UTC, whatever the server's TimeZone.
 *   - A repository's display name is the repo of its newest run inside
 *     the window (ties by id), read for the top_n repositories only.
 *   - A statement that got no answer, or an error of the server's own
 *     state, is GT_ERR_UNAVAILABLE; any other error GT_ERR_INTERNAL;
 *     both logged by pg_rows.h without parameters.  from_ms after to_ms
 *     is simply an empty window.
 */
#ifndef GT_ANALYTICS_PG_H
#define GT_ANALYTICS_PG_H

#include "usecase/analytics.h"

struct pgconn;
struct analytics_pg;

/*
 * A store over pc, its statement waiting at most timeout_ms (> 0).  pc
 * is borrowed: it must outlive the store, which never frees it.  Returns
 * NULL when memory is short.  The caller frees the store with
 * analytics_pg_free().
 */
struct analytics_pg	*analytics_pg_new(struct pgconn *pc, int timeout_ms);

/* Frees the store (not its connection).  Accepts NULL. */
void			 analytics_pg_free(struct analytics_pg *);

/*
 * Fills out with the store's function, with the store as ctx.  out is
 * valid as long as the store is.
 */
void			 analytics_pg_port(struct analytics_pg *,
			    struct analytics_store *out);

#endif
