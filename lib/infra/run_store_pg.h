/*
 * run_store_pg.h: the run store (struct run_store, usecase/ports.h) in
 * PostgreSQL, over a struct pg_store (infra/pg_store.h).
 *
 * Every statement is parameterised and waits at most the store's
 * timeout_ms.  A call makes one statement, except an insert counting
 * rate limits (four: BEGIN, the locks, the insert, COMMIT) and a cancel
 * of a finished or absent run (two: the guarded UPDATE, then a read).
 * Beyond what ports.h says:
 *
 *   - A run id that is not a canonical UUID is GT_ERR_INVALID (get and
 *     cancel), and never reaches the database.
 *   - A statement that got no answer is GT_ERR_UNAVAILABLE, as is an error
 *     of the server's own state rather than of the statement (SQLSTATE
 *     classes 08, 53 and 57, such as a statement timeout or a shutdown,
 *     and a read-only server); any other error is GT_ERR_INTERNAL.  Both
 *     are logged, with the SQLSTATE, the constraint and the server's
 *     primary message, never with a parameter.
 *   - Times are milliseconds since the epoch, the floor of the stored
 *     microseconds; -1 when absent.  result_json is the jsonb's text.
 *   - An Idempotency-Key holds for 24 hours from its run's created_at:
 *     find_by_key sees a run created less than 24 hours ago; insert first
 *     releases the key from a run created 24 hours ago or more.  The
 *     request hash kept with the key is the hex SHA-256 of the
 *     fingerprint's UTF-8 bytes, computed by the server.  A key without a
 *     fingerprint is GT_ERR_INVALID.
 *   - insert's GT_ERR_CONFLICT covers both unique keys a run has: its
 *     Idempotency-Key and its triggering comment (kind and id).  ports.h
 *     has one code for both; the caller tells them apart by what the run
 *     carries (an API run has a key and no comment, a webhook run the
 *     other way round).
 *   - With rules, insert serialises the creations they count with one
 *     transaction-scoped advisory lock per rule key, taken in the order
 *     of the lock ids so that two creators cannot deadlock, and counts
 *     under the locks; a creation made while Redis answers takes no lock
 *     and is simply counted.  A rule counts the runs created less than
 *     window_s seconds ago (LIMIT_REPO by repo_key, LIMIT_REQUESTER by
 *     requester).
 *   - The decision: remaining[i] is what is left after this creation
 *     (insert, allowed), else what is left now (insert refused, and
 *     count_limits, which takes nothing), never below 0.  reset_s[i] is
 *     the whole seconds, rounded up, until the oldest run the rule
 *     counts leaves its window; with none in it, window_s after a
 *     creation (the new run is the oldest) and 0 otherwise (nothing to
 *     wait for).  retry_after_s, when refused, is the seconds until every
 *     refusing rule has room for one more (at least 1), else 0.  With
 *     nrules == 0, d may be NULL; when given it says allowed with zeros.
 *   - nrules over LIMIT_MAX_RULES, a limit or window below 1, or a page
 *     or page size below 1 are GT_ERR_INVALID.
 *   - cancel of a queued run records error stage "cancelled" with the
 *     message "cancelled by request"; of a running run, it sets
 *     cancel_requested_at (the first request's time is kept) and sends
 *     NOTIFY runs_cancel with the run's id on every request.
 *
 * Note: pgconn_exec() opens a new connection when it finds the old one
 * closed, so the statements of one transaction could land on two server
 * sessions.  The insert with rules checks that its insert and its commit
 * ran in the session that began the transaction, and answers
 * GT_ERR_UNAVAILABLE (nothing created) otherwise.
 */
#ifndef GT_RUN_STORE_PG_H
#define GT_RUN_STORE_PG_H

#include "usecase/ports.h"

struct pg_store;

/*
 * Fills out with the store's functions, with s as ctx.  s is borrowed:
 * out is valid as long as s is, and the caller frees s (pg_store_free()).
 */
void	 run_store_pg_port(struct pg_store *s, struct run_store *out);

#endif
