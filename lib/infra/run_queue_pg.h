/*
 * run_queue_pg.h: the queue of runs (struct run_queue, usecase/ports.h)
 * in PostgreSQL, for dispatchers.
 *
 * Statements go through a borrowed bounded connection (infra/pg.h), each
 * waiting at most the queue's timeout_ms; notifications come on a second
 * connection of the queue's own, which LISTENs on the channels
 * runs_queued (sent by the schema when a run is inserted) and
 * runs_cancel (sent by the run store when a running run's cancel is
 * asked for).  Beyond what ports.h says:
 *
 *   - claim takes the oldest queued run (created_at, then id) whose
 *     repository and target are not paused and whose target has no
 *     running run, skipping rows another transaction holds (FOR UPDATE
 *     SKIP LOCKED), and moves it to running in the same statement, with
 *     started_at and heartbeat_at the claim's time and dispatcher_id.
 *     Two dispatchers claiming two runs of one target at once meet on
 *     the unique index of running targets; the loser tries again, and so
 *     takes another run or none.
 *   - heartbeat refreshes the runs that are still running under this
 *     dispatcher's id.  (*cancel)[i] is set both for a run whose cancel
 *     was asked for and for one that is no longer this dispatcher's
 *     running run (another dispatcher failed it as lost while this one
 *     could not reach the database): either way its runner must stop.
 *   - finish writes status, finished_at, exit_code, the error and the
 *     result, inserts the run_metrics row, and, for a webhook run, a
 *     pending "outcome" row in github_outbox whose payload names the
 *     run's status, target and triggering comment (the sender reads the
 *     rest from the run).  A result the server refuses as JSON is
 *     dropped with a log line and the outcome stored without it.
 *   - reap fails every running run whose heartbeat is older than lease_s
 *     seconds with stage interrupted, writes its metrics row (duration
 *     and queue wait) and queues its outcome as finish does.
 *   - wait_fd is the listening connection's socket.  drain reads the
 *     notifications that arrived; when the connection is down it tries
 *     to open it and LISTEN again, at most once a second, each try
 *     bounded by timeout_ms.
 *   - Errors are translated and logged as in run_store_pg.h: no answer
 *     or an error of the server's state is GT_ERR_UNAVAILABLE, any other
 *     error GT_ERR_INTERNAL.
 */
#ifndef GT_RUN_QUEUE_PG_H
#define GT_RUN_QUEUE_PG_H

#include "usecase/ports.h"

struct config;
struct pgconn;
struct run_queue_pg;

/*
 * A queue over pc (borrowed: it must outlive the queue) for statements,
 * with a listening connection of its own to the database in cfg (which
 * must outlive the queue too); each statement waits at most timeout_ms
 * (> 0).  No connection is made yet.  NULL when memory is short.  Free
 * with run_queue_pg_free().
 */
struct run_queue_pg	*run_queue_pg_new(struct pgconn *pc,
			    const struct config *cfg, int timeout_ms);

/* Closes the listening connection and frees the queue.  Accepts NULL. */
void			 run_queue_pg_free(struct run_queue_pg *);

/* Fills out with the queue's functions; valid as long as the queue is. */
void			 run_queue_pg_port(struct run_queue_pg *,
			    struct run_queue *out);

#endif
