/*
 * analytics_pg.h: the analytics store (struct analytics_store,
 * usecase/analytics.h) in PostgreSQL, over a struct pg_store
 * (infra/pg_store.h).
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

struct pg_store;

/*
 * Fills out with the store's function, with s as ctx.  s is borrowed:
 * out is valid as long as s is, and the caller frees s (pg_store_free()).
 */
void	 analytics_pg_port(struct pg_store *s, struct analytics_store *out);

#endif
