/*
 * run_queue_pg.c: the queue of runs in PostgreSQL, for dispatchers.
 *
 * Every move is one statement, so that it commits as a whole: the claim
 * picks and moves a run, finish and reap write the run, its metrics row
 * and its outcome for GitHub together.  The statements rely on READ
 * COMMITTED: a guarded UPDATE ("WHERE status = 'running'") that meets a
 * row another transaction has just changed waits for it and checks the
 * guard again against the committed row, so a run is finished once,
 * whichever of its dispatcher and a reaper comes first.
 */
#include <config.h>	/* the build's, not infra/config.h */

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "domain/arena.h"
#include "domain/buf.h"
#include "domain/run.h"
#include "infra/clock.h"
#include "infra/log.h"
#include "infra/pg.h"
#include "infra/pg_rows.h"
#include "infra/run_queue_pg.h"
#include "usecase/ports.h"

/* The notification channels, as the schema and the run store name them. */
#define CHANNEL_QUEUED	"runs_queued"
#define CHANNEL_CANCEL	"runs_cancel"

/*
 * How often a claim that lost a race on the index of running targets is
 * tried again: each try sees the winner's run as running and skips its
 * target, so a second try rarely loses again.
 */
#define CLAIM_TRIES	3

/* How long a failed attempt to listen waits before the next one. */
#define LISTEN_RETRY_MS	1000

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

struct run_queue_pg {
	struct pgconn	*pc;		/* statements; borrowed */
	struct pgconn	*lc;		/* LISTEN; owned */
	int		 timeout_ms;
	PGconn		*listening;	/* lc's session that LISTENs, or NULL */
	int		 listen_pid;	/* its backend */
	int64_t		 listen_at;	/* no try to listen before this */
	int64_t		 counts_at;	/* no refresh of the counts before */
};

/*
 * Claims one run.  The candidate is found in the queued runs' index,
 * oldest first; the row lock is taken with SKIP LOCKED, so a dispatcher
 * never waits for a run another is claiming.  A row whose lock was
 * released meanwhile is checked again against its committed version and
 * left out when it is no longer queued, and the next candidate taken.
 * The candidate's column is not called id: PGROW_RUN_COLUMNS names id
 * unqualified, which would then be ambiguous in RETURNING.
 */
static const char claim_sql[] =
    "WITH candidate AS ("
    "    SELECT r.id AS run_id FROM runs r "
    "    WHERE r.status = 'queued' "
    "        AND NOT EXISTS (SELECT 1 FROM paused_repos p "
    "            WHERE p.repo_key = r.repo_key) "
    "        AND NOT EXISTS (SELECT 1 FROM paused_run_targets t "
    "            WHERE t.repo_key = r.repo_key AND "
    "            t.target_type = r.target_type AND "
    "            t.target_number = r.target_number) "
    "        AND NOT EXISTS (SELECT 1 FROM runs o "
    "            WHERE o.repo_key = r.repo_key AND "
    "            o.target_type = r.target_type AND "
    "            o.target_number = r.target_number AND "
    "            o.status = 'running') "
    "    ORDER BY r.created_at, r.id "
    "    LIMIT 1 "
    "    FOR UPDATE OF r SKIP LOCKED) "
    "UPDATE runs SET status = 'running', "
    "    started_at = greatest(now(), runs.created_at), "
    "    heartbeat_at = now(), dispatcher_id = $1::text "
    "FROM candidate WHERE runs.id = candidate.run_id AND "
    "    runs.status = 'queued' "
    "RETURNING " PGROW_RUN_COLUMNS ", runs.installation_id, "
    "    runs.comment_id, runs.comment_kind";

/* The columns after the run's in claim_sql. */
#define CLAIM_INSTALLATION	(PGROW_RUN_NCOLS + 0)
#define CLAIM_COMMENT_ID	(PGROW_RUN_NCOLS + 1)
#define CLAIM_COMMENT_KIND	(PGROW_RUN_NCOLS + 2)

/*
 * Refreshes the heartbeats of this dispatcher's running runs ($2, an
 * array of ids) and answers, for each, whether its cancel was asked for.
 */
static const char heartbeat_sql[] =
    "UPDATE runs SET heartbeat_at = now() "
    "WHERE id = ANY ($2::uuid[]) AND status = 'running' AND "
    "    dispatcher_id = $1::text "
    "RETURNING id::text, cancel_requested_at IS NOT NULL";

/*
 * Records how a running run ended ($1 to $6: id, status, exit code,
 * error stage and message, result) with its metrics row ($7 to $12:
 * duration, queue wait, and the runner's figures) and its outcome.
 * finished_at is never before started_at, whatever the clocks did.  The
 * final WHERE makes the run's row wait for both inserts.
 */
static const char finish_sql[] =
    "WITH done AS ("
    "    UPDATE runs SET status = $2::text, "
    "        finished_at = greatest(now(), started_at), "
    "        exit_code = $3::integer, error_stage = $4::text, "
    "        error_message = $5::text, result = $6::jsonb "
    "    WHERE id = $1::uuid AND status = 'running' "
    "    RETURNING *), "
    "metrics AS ("
    "    INSERT INTO run_metrics (run_id, duration_ms, queue_wait_ms, "
    "        exit_code, tokens_in, tokens_out, cost_usd, files_changed) "
    "    SELECT id, $7::bigint, $8::bigint, exit_code, $9::bigint, "
    "        $10::bigint, $11::numeric, $12::integer FROM done "
    "    ON CONFLICT (run_id) DO NOTHING RETURNING 1), "
    PGROW_OUTCOME_CTE
    "SELECT " PGROW_RUN_COLUMNS " FROM done "
    "WHERE (SELECT count(*) FROM metrics) + "
    "    (SELECT count(*) FROM outcome) >= 0";

#define FINISH_PARAMS	12

/*
 * Fails the running runs whose heartbeat is older than $1 seconds, with
 * a metrics row of their duration up to now and their queue wait, and
 * their outcomes, oldest first.
 */
static const char reap_sql[] =
    "WITH done AS ("
    "    UPDATE runs SET status = 'failed', "
    "        finished_at = greatest(now(), started_at), "
    "        error_stage = 'interrupted', "
    "        error_message = 'the dispatcher running it stopped "
    "answering for over ' || $1::bigint || ' seconds' "
    "    WHERE status = 'running' AND "
    "        heartbeat_at < now() - $1::bigint * interval '1 second' "
    "    RETURNING *), "
    "metrics AS ("
    "    INSERT INTO run_metrics (run_id, duration_ms, queue_wait_ms) "
    "    SELECT id, "
    "        floor(extract(epoch FROM finished_at - started_at) * 1000), "
    "        floor(extract(epoch FROM started_at - created_at) * 1000) "
    "    FROM done "
    "    ON CONFLICT (run_id) DO NOTHING RETURNING 1), "
    PGROW_OUTCOME_CTE
    "SELECT " PGROW_RUN_COLUMNS " FROM done "
    "WHERE (SELECT count(*) FROM metrics) + "
    "    (SELECT count(*) FROM outcome) >= 0 "
    "ORDER BY created_at, id";

static PGresult *
exec(struct run_queue_pg *q, const char *sql, int n,
    const char *const *params)
{
	return pgconn_exec(q->pc, sql, n, params, q->timeout_ms);
}

/* Whether res is claim_sql's loss on the index of running targets. */
static int
lost_target_race(const PGresult *res)
{
	const char	*st, *constraint;

	if (res == NULL || PQresultStatus(res) != PGRES_FATAL_ERROR)
		return 0;
	st = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	constraint = PQresultErrorField(res, PG_DIAG_CONSTRAINT_NAME);
	return st != NULL && strcmp(st, "23505") == 0 && constraint != NULL &&
	    strcmp(constraint, "runs_one_running_per_target") == 0;
}

/* Reads claim_sql's one row into out. */
static enum gt_err
read_claim(struct arena *a, const PGresult *res, struct claimed_run *out)
{
	enum gt_err	 e;
	int		 rc;

	memset(out, 0, sizeof(*out));
	if (PQntuples(res) != 1)
		return pgrow_bad("claim", "rows");
	if ((e = pgrow_run("claim", a, res, 0, 0, &out->run)) != GT_OK)
		return e;
	if ((rc = pgrow_i64(res, 0, CLAIM_INSTALLATION,
	    &out->installation_id)) == -1)
		return pgrow_bad("claim", "installation_id");
	if (rc == 1)
		out->installation_id = 0;
	if ((rc = pgrow_i64(res, 0, CLAIM_COMMENT_ID, &out->comment_id)) == -1)
		return pgrow_bad("claim", "comment_id");
	if (rc == 1)
		out->comment_id = 0;
	if ((e = pgrow_text(a, res, 0, CLAIM_COMMENT_KIND,
	    &out->comment_kind)) != GT_OK)
		return e;
	if ((out->comment_id != 0) != (out->comment_kind != NULL))
		return pgrow_bad("claim", "comment_kind");
	if (out->run.status != RUN_RUNNING || out->run.started_at_ms < 0)
		return pgrow_bad("claim", "status");
	return GT_OK;
}

static enum gt_err
queue_claim(void *ctx, struct arena *a, const char *dispatcher_id,
    struct claimed_run *out)
{
	struct run_queue_pg	*q = ctx;
	const char *const	 params[] = { dispatcher_id };
	PGresult		*res = NULL;
	enum gt_err		 e = GT_ERR_NOT_FOUND;
	int			 i;

	if (dispatcher_id == NULL)
		return GT_ERR_INVALID;
	for (i = 0; i < CLAIM_TRIES; i++) {
		PQclear(res);
		res = exec(q, claim_sql, (int)NELEM(params), params);
		if (!lost_target_race(res))
			break;
		e = GT_ERR_NOT_FOUND;
	}
	if (lost_target_race(res))
		goto out_clear;		/* others keep winning: next round */
	if ((e = pgrow_check("claim", res, PGRES_TUPLES_OK)) != GT_OK)
		goto out_clear;
	if (PQntuples(res) == 0)
		e = GT_ERR_NOT_FOUND;
	else
		e = read_claim(a, res, out);

out_clear:
	PQclear(res);
	return e;
}

/*
 * Writes ids as a PostgreSQL array literal into b.  The ids are run ids,
 * which hold hexadecimal digits and dashes only; anything else is
 * refused rather than quoted.
 */
static int
id_array(struct buf *b, const char *const *ids, size_t n)
{
	char	 canon[RUN_ID_LEN + 1];
	size_t	 i;

	buf_putc(b, '{');
	for (i = 0; i < n; i++) {
		if (run_id_parse(ids[i], canon) == -1)
			return -1;
		if (i > 0)
			buf_putc(b, ',');
		buf_puts(b, canon);
	}
	buf_putc(b, '}');
	return b->oom ? -1 : 0;
}

static enum gt_err
queue_heartbeat(void *ctx, struct arena *a, const char *dispatcher_id,
    const char *const *ids, size_t n, int **cancel)
{
	struct run_queue_pg	*q = ctx;
	struct buf		 b;
	const char		*params[2];
	char			 canon[RUN_ID_LEN + 1];
	PGresult		*res = NULL;
	enum gt_err		 e;
	size_t			 i;
	int			*c, row, *seen, flag;

	*cancel = NULL;
	if (dispatcher_id == NULL)
		return GT_ERR_INVALID;
	if ((c = arena_calloc(a, n > 0 ? n : 1, sizeof(*c))) == NULL ||
	    (seen = arena_calloc(a, n > 0 ? n : 1, sizeof(*seen))) == NULL)
		return GT_ERR_NOMEM;
	if (n == 0) {
		*cancel = c;
		return GT_OK;
	}

	buf_init(&b);
	if (id_array(&b, ids, n) == -1) {
		e = b.oom ? GT_ERR_NOMEM : GT_ERR_INVALID;
		goto out_free;
	}
	params[0] = dispatcher_id;
	params[1] = b.data;
	res = exec(q, heartbeat_sql, (int)NELEM(params), params);
	if ((e = pgrow_check("heartbeat", res, PGRES_TUPLES_OK)) != GT_OK)
		goto out_free;

	for (row = 0; row < PQntuples(res); row++) {
		if (run_id_parse(PQgetvalue(res, row, 0), canon) == -1 ||
		    pgrow_bool(res, row, 1, &flag) == -1) {
			e = pgrow_bad("heartbeat", "id");
			goto out_free;
		}
		for (i = 0; i < n; i++)
			if (strcmp(ids[i], canon) == 0) {
				seen[i] = 1;
				c[i] = flag;
			}
	}

	/* A run no longer ours and running must stop as well. */
	for (i = 0; i < n; i++)
		if (!seen[i]) {
			log_event(LOG_WARN, "run_lost", "run_id", ids[i],
			    "dispatcher_id", dispatcher_id, NULL);
			c[i] = 1;
		}
	*cancel = c;

out_free:
	PQclear(res);
	buf_free(&b);
	return e;
}

/* The text of finish_sql's numeric parameters. */
struct finish_text {
	char	 exit_code[16];
	char	 duration[24];
	char	 wait[24];
	char	 tokens_in[24];
	char	 tokens_out[24];
	char	 cost[40];
	char	 files[24];
};

static enum gt_err
finish_params(const struct run_outcome *o, char *canon,
    struct finish_text *t, const char **params)
{
	if (o->id == NULL || run_id_parse(o->id, canon) == -1 ||
	    !run_status_finished(o->status) ||
	    (o->stage == STAGE_NONE) != (o->message == NULL) ||
	    o->duration_ms < 0 || o->queue_wait_ms < 0)
		return GT_ERR_INVALID;

	memset(t, 0, sizeof(*t));
	snprintf(t->exit_code, sizeof(t->exit_code), "%d", o->exit_code);
	snprintf(t->duration, sizeof(t->duration), "%" PRId64,
	    o->duration_ms);
	snprintf(t->wait, sizeof(t->wait), "%" PRId64, o->queue_wait_ms);
	snprintf(t->tokens_in, sizeof(t->tokens_in), "%" PRId64,
	    o->tokens_in);
	snprintf(t->tokens_out, sizeof(t->tokens_out), "%" PRId64,
	    o->tokens_out);
	snprintf(t->cost, sizeof(t->cost), "%.6f", o->cost_usd);
	snprintf(t->files, sizeof(t->files), "%" PRId64, o->files_changed);

	params[0] = canon;
	params[1] = run_status_name(o->status);
	params[2] = o->has_exit_code ? t->exit_code : NULL;
	params[3] = o->stage == STAGE_NONE ? NULL : run_stage_name(o->stage);
	params[4] = o->message;
	params[5] = o->result_json;
	params[6] = t->duration;
	params[7] = t->wait;
	params[8] = o->has_tokens_in ? t->tokens_in : NULL;
	params[9] = o->has_tokens_out ? t->tokens_out : NULL;
	params[10] = o->has_cost ? t->cost : NULL;
	params[11] = o->has_files_changed ? t->files : NULL;
	if (params[1] == NULL || (o->stage != STAGE_NONE && params[3] == NULL))
		return GT_ERR_INVALID;
	return GT_OK;
}

/*
 * Whether res refused the outcome for its result or its runner's
 * figures (invalid JSON for jsonb, such as an escaped NUL; a figure out
 * of the column's range), which storing without them would cure.
 */
static int
refused_runner_data(const PGresult *res)
{
	const char	*st;

	if (res == NULL || PQresultStatus(res) != PGRES_FATAL_ERROR ||
	    (st = PQresultErrorField(res, PG_DIAG_SQLSTATE)) == NULL)
		return 0;
	return strncmp(st, "22", 2) == 0 || strcmp(st, "23514") == 0;
}

static enum gt_err
queue_finish(void *ctx, struct arena *a, const struct run_outcome *o,
    struct run *out)
{
	struct run_queue_pg	*q = ctx;
	struct finish_text	 t;
	char			 canon[RUN_ID_LEN + 1];
	const char		*params[FINISH_PARAMS];
	PGresult		*res;
	enum gt_err		 e;

	if ((e = finish_params(o, canon, &t, params)) != GT_OK)
		return e;
	res = exec(q, finish_sql, FINISH_PARAMS, params);
	if (refused_runner_data(res) && (params[5] != NULL ||
	    params[8] != NULL || params[9] != NULL || params[10] != NULL ||
	    params[11] != NULL)) {
		log_event(LOG_WARN, "run_result_refused", "run_id", canon,
		    "error", PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY),
		    NULL);
		PQclear(res);
		params[5] = params[8] = params[9] = params[10] = NULL;
		params[11] = NULL;
		res = exec(q, finish_sql, FINISH_PARAMS, params);
	}
	if ((e = pgrow_check("finish", res, PGRES_TUPLES_OK)) != GT_OK)
		goto out_clear;
	if (PQntuples(res) == 0)
		e = GT_ERR_TRANSITION;
	else if (PQntuples(res) != 1)
		e = pgrow_bad("finish", "rows");
	else
		e = pgrow_run("finish", a, res, 0, 0, out);

out_clear:
	PQclear(res);
	return e;
}

/*
 * The kept counts behind the totals of GET /api/runs
 * (sql/004_run_counts.sql) are moved forward from the reap round, once a
 * minute at most: the dispatcher is the one process that is always
 * running and already wakes up regularly.  A failure is logged and tried
 * again at the next round; the totals stay exact meanwhile, only slower.
 */
#define COUNTS_EVERY_MS	60000

static void
refresh_counts(struct run_queue_pg *q)
{
	int64_t		 now = clock_mono_ms();

	if (now < q->counts_at)
		return;
	q->counts_at = now + COUNTS_EVERY_MS;
	pgrow_counts_refreshed(exec(q, PGROW_REFRESH_COUNTS_SQL, 0, NULL));
}

static enum gt_err
queue_reap(void *ctx, struct arena *a, int64_t lease_s, struct run **runs,
    size_t *n)
{
	struct run_queue_pg	*q = ctx;
	char			 lease[24];
	const char *const	 params[] = { lease };
	struct run		*rs;
	PGresult		*res;
	enum gt_err		 e;
	int			 i, rows;

	*runs = NULL;
	*n = 0;
	if (lease_s < 1)
		return GT_ERR_INVALID;
	snprintf(lease, sizeof(lease), "%" PRId64, lease_s);

	refresh_counts(q);
	res = exec(q, reap_sql, (int)NELEM(params), params);
	if ((e = pgrow_check("reap", res, PGRES_TUPLES_OK)) != GT_OK ||
	    (rows = PQntuples(res)) == 0)
		goto out_clear;
	if ((rs = arena_calloc(a, (size_t)rows, sizeof(*rs))) == NULL) {
		e = GT_ERR_NOMEM;
		goto out_clear;
	}
	for (i = 0; i < rows; i++) {
		if ((e = pgrow_run("reap", a, res, i, 0, &rs[i])) != GT_OK)
			goto out_clear;
		log_event(LOG_WARN, "run_interrupted", "run_id", rs[i].id,
		    NULL);
	}
	*runs = rs;
	*n = (size_t)rows;

out_clear:
	PQclear(res);
	return e;
}

/* Drops the listening connection; the next try waits a while. */
static void
listen_lost(struct run_queue_pg *q)
{
	pgconn_reset(q->lc);
	q->listening = NULL;
	q->listen_at = clock_mono_ms() + LISTEN_RETRY_MS;
}

/*
 * The listening connection, or NULL when there is none or the handle
 * has opened another one since the LISTENs ran (a new session listens on
 * nothing).
 */
static PGconn *
listen_conn(struct run_queue_pg *q)
{
	PGconn	*conn;

	if (q->listening == NULL)
		return NULL;
	if ((conn = pgconn_get(q->lc, q->timeout_ms)) != q->listening ||
	    PQbackendPID(conn) != q->listen_pid) {
		log_event(LOG_WARN, "queue_listen_lost", "error",
		    "connection replaced", NULL);
		listen_lost(q);
		return NULL;
	}
	return conn;
}

/* Opens the listening connection and LISTENs on both channels. */
static void
listen_open(struct run_queue_pg *q)
{
	static const char *const stmts[] = {
		"LISTEN " CHANNEL_QUEUED,
		"LISTEN " CHANNEL_CANCEL,
	};
	PGresult	*res;
	PGconn		*conn;
	size_t		 i;
	int		 pid = 0;

	for (i = 0; i < NELEM(stmts); i++) {
		res = pgconn_exec(q->lc, stmts[i], 0, NULL, q->timeout_ms);
		if (pgrow_check("listen", res, PGRES_COMMAND_OK) != GT_OK) {
			PQclear(res);
			listen_lost(q);
			return;
		}
		PQclear(res);
		if ((conn = pgconn_get(q->lc, q->timeout_ms)) == NULL ||
		    (i > 0 && PQbackendPID(conn) != pid)) {
			listen_lost(q);
			return;
		}
		pid = PQbackendPID(conn);
	}
	q->listening = conn;
	q->listen_pid = pid;
	log_event(LOG_INFO, "queue_listening", NULL);
}

/*
 * The socket is handed out without a look at the connection: looking
 * reads what waits on it, and a notification read here would no longer
 * wake the caller's poll.  A connection that died leaves its socket
 * readable, so the caller drains and drain() finds out.
 */
static int
queue_wait_fd(void *ctx)
{
	struct run_queue_pg	*q = ctx;

	return q->listening == NULL ? -1 : PQsocket(q->listening);
}

static int
queue_drain(void *ctx)
{
	struct run_queue_pg	*q = ctx;
	PGconn			*conn;
	PGnotify		*note;
	int			 n = 0;

	if (q->listening == NULL) {
		if (clock_mono_ms() < q->listen_at)
			return 0;
		listen_open(q);
		return q->listening != NULL;	/* news may have been missed */
	}
	if ((conn = listen_conn(q)) == NULL)
		return 0;
	if (PQconsumeInput(conn) == 0 || PQstatus(conn) != CONNECTION_OK) {
		log_event(LOG_WARN, "queue_listen_lost", "error",
		    PQerrorMessage(conn), NULL);
		listen_lost(q);
		return 0;
	}
	while ((note = PQnotifies(conn)) != NULL) {
		PQfreemem(note);
		n++;
	}
	return n;
}

struct run_queue_pg *
run_queue_pg_new(struct pgconn *pc, const struct config *cfg,
    int timeout_ms)
{
	struct run_queue_pg	*q;

	assert(pc != NULL && cfg != NULL && timeout_ms > 0);
	if ((q = calloc(1, sizeof(*q))) == NULL)
		return NULL;
	if ((q->lc = pgconn_new(cfg)) == NULL) {
		free(q);
		return NULL;
	}
	q->pc = pc;
	q->timeout_ms = timeout_ms;
	return q;
}

void
run_queue_pg_free(struct run_queue_pg *q)
{
	if (q == NULL)
		return;
	pgconn_free(q->lc);
	free(q);
}

void
run_queue_pg_port(struct run_queue_pg *q, struct run_queue *out)
{
	memset(out, 0, sizeof(*out));
	out->ctx = q;
	out->claim = queue_claim;
	out->heartbeat = queue_heartbeat;
	out->finish = queue_finish;
	out->reap = queue_reap;
	out->wait_fd = queue_wait_fd;
	out->drain = queue_drain;
}
