/*
 * metrics_pg.h: the database's figures for GET /metrics (struct
 * gauge_ports, usecase/gauges.h) in PostgreSQL, over a worker's bounded
 * connection (infra/pg.h).
 *
 * One statement reads every figure, from one snapshot.  Its cost, at each
 * scrape:
 *
 *   - queued and running runs, and the oldest queued run, are read from
 *     index entries of active runs only (the queued range of
 *     runs_list_status_idx, the partial indexes runs_queued_idx and
 *     runs_one_running_per_target), so their cost follows the queue and
 *     not the table;
 *   - pending and failed outbox items come from the partial indexes
 *     github_outbox_due_idx and github_outbox_failed_idx, likewise;
 *   - succeeded, failed and cancelled runs are counted over the whole
 *     table: index-only over runs_list_status_idx for a rare status, a
 *     (parallel) sequential scan for the common one.  That cost grows
 *     with the finished runs, about 55 ms per million on a small machine
 *     with the table cached (85 ms without parallel workers).
 *
 * Note: the finished counts are a full count, accepted because an exact
 * figure needs every finished run and no summary of them is kept.  The
 * statement gets the scrape's bound (health_timeout_ms, at most 450 ms),
 * so past about five million runs it would time out and the scrape say
 * PostgreSQL is down; before then, remove the three finished statuses
 * from the statement or keep their counts in a table a trigger updates.
 *
 * A statement that got no answer in time, or an error of the server's
 * own state, is GT_ERR_UNAVAILABLE; any other error GT_ERR_INTERNAL;
 * both logged by pg_rows.h.
 */
#ifndef GT_METRICS_PG_H
#define GT_METRICS_PG_H

#include "usecase/gauges.h"

struct pgconn;

/*
 * Fills out's database members with the statement above on pc, which is
 * borrowed: it must outlive out.  Nothing is allocated.
 */
void	 metrics_pg_port(struct pgconn *pc, struct gauge_ports *out);

#endif
