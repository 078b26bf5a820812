/*
 * run_store_pg.c: the runs, pauses and rate-limit overrides in PostgreSQL.
 *
 * Each function is one statement where one can do the work, with CTEs
 * rather than round trips.  The statements rely on READ COMMITTED: an
 * UPDATE guarded by "WHERE status = ..." that meets a row another
 * transaction has just changed waits for it, then checks the guard
 * against the row as committed, so a guarded move never acts on a status
 * the run has already left.
 *
 * The rate-limit fallback needs more than one statement: a statement's
 * snapshot is taken when it starts, so a count made in the statement
 * that took the locks would miss the runs committed while it waited.
 * The locks are taken in one statement and the count made in the next,
 * inside one transaction.
 */
#include <config.h>	/* the build's, not infra/config.h */

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <libpq-fe.h>

#include "domain/arena.h"
#include "domain/run.h"
#include "infra/log.h"
#include "infra/pg_rows.h"
#include "infra/pg_store.h"
#include "infra/run_store_pg.h"
#include "usecase/ports.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

/* What a cancelled queued run says (api.md: error stage "cancelled"). */
#define CANCEL_MESSAGE	"cancelled by request"

/*
 * The rules' counts, as CTEs over parameters $1 to $8: for each of the
 * two possible rules its repo_key or its requester (the other NULL), its
 * limit and its window in seconds; an absent rule is all NULL.  counted
 * holds one row per rule: n, the runs created in its window; oldest_s,
 * the seconds until the oldest of them leaves it; frees_s, the seconds
 * until the limit-th newest leaves it, which is when one more fits again
 * (NULL while it fits).  The two scans of recent each use an index
 * (runs_list_repo_idx, runs_requester_idx); a NULL key matches nothing.
 */
#define RULE_PARAMS	8
#define LIMIT_CTES \
	"WITH rules (i, repo_key, requester, lim, win) AS (VALUES " \
	"    (0, $1::text, $2::text, $3::bigint, $4::bigint), " \
	"    (1, $5::text, $6::text, $7::bigint, $8::bigint)), " \
	"windows AS (" \
	"    SELECT i, repo_key, requester, lim, win, " \
	"        statement_timestamp() - win * interval '1 second' AS since " \
	"    FROM rules WHERE lim IS NOT NULL), " \
	"recent AS (" \
	"    SELECT w.i, r.created_at FROM windows w JOIN runs r " \
	"        ON r.repo_key = w.repo_key AND r.created_at > w.since " \
	"    UNION ALL " \
	"    SELECT w.i, r.created_at FROM windows w JOIN runs r " \
	"        ON r.requester = w.requester AND r.created_at > w.since), " \
	"ranked AS (" \
	"    SELECT i, created_at, row_number() OVER (PARTITION BY i " \
	"        ORDER BY created_at DESC) AS k FROM recent), " \
	"counted AS (" \
	"    SELECT w.i, w.lim, count(k.created_at) AS n, " \
	"        ceil(extract(epoch FROM min(k.created_at)) + w.win - " \
	"            extract(epoch FROM statement_timestamp()))::bigint " \
	"            AS oldest_s, " \
	"        ceil(extract(epoch FROM max(k.created_at) " \
	"            FILTER (WHERE k.k = w.lim)) + w.win - " \
	"            extract(epoch FROM statement_timestamp()))::bigint " \
	"            AS frees_s " \
	"    FROM windows w LEFT JOIN ranked k ON k.i = w.i " \
	"    GROUP BY w.i, w.lim, w.win)"

/* The columns of a counted row, wherever they start. */
enum count_col {
	CNT_I,
	CNT_N,
	CNT_LIM,
	CNT_OLDEST,
	CNT_FREES,
	CNT_NCOLS
};

static const char count_sql[] =
    LIMIT_CTES " SELECT i, n, lim, oldest_s, frees_s FROM counted ORDER BY i";

/*
 * Takes one transaction-scoped advisory lock per rule key ($1 and $3 repo
 * keys, $2 and $4 requesters, NULL when absent), in the order of the lock
 * ids: every creator takes the locks it shares with another in the same
 * order, so none waits for a lock held by one waiting for its own.  The
 * subquery's ORDER BY fixes the order the aggregate calls the function in.
 */
static const char lock_sql[] =
    "SELECT count(pg_advisory_xact_lock(k)) FROM ("
    "    SELECT DISTINCT hashtextextended(t, 0) AS k FROM unnest(ARRAY["
    "        'gt_limit repo ' || $1::text, "
    "        'gt_limit requester ' || $2::text, "
    "        'gt_limit repo ' || $3::text, "
    "        'gt_limit requester ' || $4::text]) AS u (t) "
    "    WHERE t IS NOT NULL ORDER BY k) AS keys";

/*
 * Inserts a queued run ($9 to $21) when every rule ($1 to $8) allows it
 * and, inside a transaction, when the statement runs in the session that
 * began it ($22, the backend's pid; NULL outside a transaction).  An
 * expired key is released first: the INSERT reads released, which makes
 * the UPDATE finish before it, and the unique index no longer counts the
 * row the UPDATE changed.  One row per rule (one row when there is none):
 * the verdict, the rule's counts, and the run when it was inserted.  A
 * run made from a comment ($19, $20) queues, in the same statement, the
 * reaction that tells the commenter it was accepted, and records its
 * delivery ($21, event $20, action $23) as accepted: one commit where
 * the webhook would otherwise pay a second.
 */
static const char insert_sql[] =
    LIMIT_CTES ", "
    "verdict AS ("
    "    SELECT coalesce(bool_and(n < lim), true) AS fits, "
    "        ($22::integer IS NULL OR $22::integer = pg_backend_pid()) "
    "            AS same_session "
    "    FROM counted), "
    "released AS ("
    "    UPDATE runs SET idempotency_key = NULL, request_hash = NULL "
    "    WHERE idempotency_key = $16::text AND "
    "        created_at <= statement_timestamp() - interval '24 hours' "
    "    RETURNING 1), "
    "inserted AS ("
    "    INSERT INTO runs (repo, target_type, target_number, instruction, "
    "        source, requested_by, requester, created_at, "
    "        idempotency_key, request_hash, installation_id, comment_id, "
    "        comment_kind, delivery_id) "
    "    SELECT $9::text, $10::text, $11::integer, $12::text, $13::text, "
    "        $14::text, $15::text, statement_timestamp(), $16::text, "
    "        CASE WHEN $16::text IS NOT NULL THEN "
    "            encode(sha256(convert_to($17::text, 'UTF8')), 'hex') END, "
    "        $18::bigint, $19::bigint, $20::text, $21::text "
    "    FROM verdict "
    "    WHERE fits AND same_session AND "
    "        (SELECT count(*) FROM released) >= 0 "
    "    RETURNING " PGROW_RUN_COLUMNS "), "
    "reacted AS ("
    "    INSERT INTO github_outbox (kind, run_id, repo, installation_id, "
    "        payload) "
    "    SELECT 'reaction', id::uuid, repo, $18::bigint, "
    "        jsonb_build_object('comment_id', $19::bigint, "
    "            'comment_kind', $20::text, 'content', 'eyes') "
    "    FROM inserted WHERE $19::bigint IS NOT NULL RETURNING 1), "
    "noted AS ("
    "    INSERT INTO webhook_deliveries (delivery_id, event, action, "
    "        outcome, run_id) "
    "    SELECT $21::text, $20::text, $23::text, 'accepted', id::uuid "
    "    FROM inserted WHERE $21::text IS NOT NULL "
    "    ON CONFLICT (delivery_id) DO NOTHING RETURNING 1) "
    "SELECT v.fits, v.same_session, c.i, c.n, c.lim, c.oldest_s, "
    "    c.frees_s, ins.* "
    "FROM verdict v LEFT JOIN inserted ins ON true "
    "    LEFT JOIN counted c ON true "
    "ORDER BY c.i";

#define INSERT_PARAMS	23
#define INS_FITS	0
#define INS_SAME	1
#define INS_COUNT	2			/* the counted columns */
#define INS_RUN		(INS_COUNT + CNT_NCOLS)	/* the run's columns */

static const char get_sql[] =
    "SELECT " PGROW_RUN_COLUMNS " FROM runs WHERE id = $1::uuid";

static const char find_by_key_sql[] =
    "SELECT request_hash = "
    "    encode(sha256(convert_to($2::text, 'UTF8')), 'hex'), "
    PGROW_RUN_COLUMNS " FROM runs "
    "WHERE idempotency_key = $1::text AND "
    "    created_at > statement_timestamp() - interval '24 hours'";

/*
 * Whether the repository ($1, any case) and the target ($2, $3) are
 * paused, and the repository's limit override: one row, the override's
 * columns NULL when it has none.
 */
static const char gate_sql[] =
    "SELECT EXISTS (SELECT 1 FROM paused_repos "
    "        WHERE repo_key = lower($1::text)), "
    "    EXISTS (SELECT 1 FROM paused_run_targets "
    "        WHERE repo_key = lower($1::text) AND "
    "        target_type = $2::text AND target_number = $3::integer), "
    "    o.\"limit\", o.window_seconds "
    "FROM (SELECT 1) AS one LEFT JOIN rate_limits o "
    "    ON o.repo_key = lower($1::text)";

/*
 * The page and the total in one statement.
 *
 * The total is the kept counts of finished runs created before the mark
 * (run_counts, see sql/004_run_counts.sql) plus a count of the matching
 * runs created since, which the list indexes find by created_at: it costs
 * what the runs since the mark cost, not the whole table.  fresh is that
 * second count, for the caller to move the mark when it grows.
 *
 * The page is read from whichever end of the ordering is nearer: a page
 * in the second half is the matching runs oldest first, skipping those
 * after it, and is put back in order at the end.  Only one of the two
 * halves of the union runs; the other's condition is false before any
 * row is read.  (Its LIMIT and OFFSET are still computed, and must not
 * overflow or go below zero, hence the least() of the offset.)  The left
 * join keeps the total when the page is past the end (one row, the run's
 * columns NULL).
 *
 * A page read so costs what its distance from the nearer end costs.  This
 * statement serves the first pages of every list, and every page of one
 * repository's list, which has no counts per day; a page deeper in any
 * other list is found through the days (list_deep_sql).
 */
#define LIST_COUNTED \
    "WITH kept AS (" \
    "    SELECT coalesce(sum(n), 0)::bigint AS n FROM run_counts " \
    "    WHERE ($1::text IS NULL OR status = $1::text) AND " \
    "        ($2::text IS NULL OR repo_key = lower($2::text))), " \
    "fresh AS (" \
    "    SELECT count(*) AS n FROM runs " \
    "    WHERE created_at >= (SELECT upto FROM run_counts_mark) AND " \
    "        ($1::text IS NULL OR status = $1::text) AND " \
    "        ($2::text IS NULL OR repo_key = lower($2::text))), "

/* The two ends' branches, which give way when t.by_day holds. */
#define LIST_FROM_THE_ENDS \
    "    (SELECT * FROM runs " \
    "    WHERE ($1::text IS NULL OR status = $1::text) AND " \
    "        ($2::text IS NULL OR repo_key = lower($2::text)) AND " \
    "        NOT t.by_day AND $4::bigint <= t.total / 2 " \
    "    ORDER BY created_at DESC, id DESC " \
    "    LIMIT $3::bigint OFFSET $4::bigint) " \
    "    UNION ALL " \
    "    (SELECT * FROM runs " \
    "    WHERE ($1::text IS NULL OR status = $1::text) AND " \
    "        ($2::text IS NULL OR repo_key = lower($2::text)) AND " \
    "        NOT t.by_day AND $4::bigint > t.total / 2 AND " \
    "        $4::bigint < t.total " \
    "    ORDER BY created_at, id " \
    "    LIMIT least($3::bigint, t.total - least($4::bigint, t.total)) " \
    "    OFFSET greatest(t.total - least($4::bigint, t.total) - " \
    "        $3::bigint, 0)) "

static const char list_sql[] =
    LIST_COUNTED
    "t AS (SELECT kept.n + fresh.n AS total, fresh.n AS fresh, "
    "    false AS by_day FROM kept, fresh) "
    "SELECT t.total, t.fresh, " PGROW_RUN_COLUMNS " "
    "FROM t LEFT JOIN LATERAL (" LIST_FROM_THE_ENDS ") AS p "
    "ON true "
    "ORDER BY p.created_at DESC, p.id DESC";

/*
 * A page at least this far from both ends of an unfiltered or
 * status-filtered list, past the runs created since the mark, is found
 * through the day counts (list_deep_sql).  Nearer, stepping over the runs
 * costs less than summing the days.  With a million runs over two years,
 * a page found through the 760 days cost 1.4 to 1.9 ms, planning
 * included; stepping over 2 000 runs cost 0.8 to 1.2 ms, and over 4 000,
 * 1.6 to 2.6 ms.  The threshold sits below where the two cross, which
 * moves with the machine and the cache, so that no page costs more than
 * one found through the days.  Below it the store runs list_sql, whose
 * plan is quicker to make: the first pages do not pay for planning a
 * branch they cannot take.
 */
#define LIST_DAY_MIN		2000
#define LIST_DAY_MIN_SQL	LIST_TEXT(LIST_DAY_MIN)	/* in a statement */
#define LIST_TEXT(n)		LIST_TEXT_OF(n)
#define LIST_TEXT_OF(n)		#n

/*
 * list_sql with a third way to a page, for a deep one when no repository
 * is given.  The runs created before the mark are all finished and all
 * counted, per UTC day and status too (run_day_counts, see
 * sql/005_run_day_counts.sql).  The page's first run is at position $4
 * less fresh among them, newest first.  Summing the days newest first
 * finds the day that holds that position, and newer, the matching runs
 * of the days after it.  The page is then the matching runs created
 * before the start of the next day (and before the mark), newest first,
 * past the first $4 - fresh - newer: the runs before that bound are
 * exactly the counted runs of that day and of the days before.  It costs
 * one day's runs and the number of days, however deep it is.
 *
 * by_day makes the choice: no repository, and a page at least
 * LIST_DAY_MIN runs into the counted ones and more than that from the
 * oldest run.  Otherwise one of the first two branches reads the page as
 * list_sql would; only one of the three runs.  The refresh moves
 * run_counts and run_day_counts in one transaction and this statement
 * reads both in one snapshot, so the day that holds the position exists.
 *
 * For the whole list, the store runs it with its generic plan
 * (pg_store_exec_generic()).  Left to choose, PostgreSQL plans it again
 * at every call: the generic plan's estimates (a tenth of the rows for a
 * LIMIT it cannot see) make it look twice as dear as one made for the
 * parameters.  Planning costs about 0.6 ms, a third of a middle page of
 * a million runs, and the generic plan reads that page as quickly.  Not
 * for a status, though: a plan that cannot know the status steps over
 * the runs of every status, which costs 100 ms and more for a rare one.
 */
static const char list_deep_sql[] =
    LIST_COUNTED
    "t AS (SELECT kept.n + fresh.n AS total, fresh.n AS fresh, "
    "        $2::text IS NULL AND "
    "        $4::bigint >= fresh.n + " LIST_DAY_MIN_SQL " AND "
    "        kept.n + fresh.n - $4::bigint > " LIST_DAY_MIN_SQL " AS by_day "
    "    FROM kept, fresh) "
    "SELECT t.total, t.fresh, " PGROW_RUN_COLUMNS " "
    "FROM t LEFT JOIN LATERAL (" LIST_FROM_THE_ENDS
    "    UNION ALL "
    "    (SELECT r.* FROM ("
    "        SELECT d.day, d.newer FROM ("
    "            SELECT day, n, sum(n) OVER (ORDER BY day DESC) - n "
    "                AS newer "
    "            FROM (SELECT day, sum(n)::integer AS n "
    "                FROM run_day_counts "
    "                WHERE ($1::text IS NULL OR status = $1::text) "
    "                GROUP BY day ORDER BY day DESC) AS g) AS d "
    "        WHERE d.newer <= $4::bigint - t.fresh AND "
    "            d.newer + d.n > $4::bigint - t.fresh) AS l, "
    "        LATERAL (SELECT * FROM runs "
    "            WHERE ($1::text IS NULL OR status = $1::text) AND "
    "                created_at < least("
    "                    (SELECT upto FROM run_counts_mark), "
    "                    to_timestamp((l.day + 1) * 86400.0)) "
    "            ORDER BY created_at DESC, id DESC "
    "            LIMIT $3::bigint "
    "            OFFSET $4::bigint - t.fresh - l.newer) AS r "
    "    WHERE t.by_day)) AS p "
    "ON true "
    "ORDER BY p.created_at DESC, p.id DESC";

/*
 * When a list counted more runs than this since the mark, it moves the
 * mark after answering.  The dispatcher moves it every minute; this is
 * for a database filled by other means, or a dispatcher that is down.
 */
#define LIST_REFRESH_FRESH	20000

/*
 * Cancels a queued run, or records the cancel of a running one and tells
 * the dispatchers, in one guarded UPDATE: when a dispatcher moves the run
 * meanwhile, the SET is computed again from the status it committed.  No
 * row: the run has finished, or does not exist.  A webhook run cancelled
 * here has finished, and its outcome comment is queued with the move.
 */
static const char cancel_sql[] =
    "WITH moved AS ("
    "    UPDATE runs SET "
    "        status = CASE status WHEN 'queued' THEN 'cancelled' "
    "            ELSE status END, "
    "        finished_at = CASE status WHEN 'queued' THEN now() "
    "            ELSE finished_at END, "
    "        error_stage = CASE status WHEN 'queued' THEN 'cancelled' "
    "            ELSE error_stage END, "
    "        error_message = CASE status WHEN 'queued' THEN "
    "            '" CANCEL_MESSAGE "' ELSE error_message END, "
    "        cancel_requested_at = CASE status WHEN 'running' THEN "
    "            coalesce(cancel_requested_at, now()) "
    "            ELSE cancel_requested_at END "
    "    WHERE id = $1::uuid AND status IN ('queued', 'running') "
    "    RETURNING *), "
    "done AS (SELECT * FROM moved WHERE status = 'cancelled'), "
    PGROW_OUTCOME_CTE ", "
    "told AS ("
    "    SELECT pg_notify('runs_cancel', id::text) FROM moved "
    "    WHERE status = 'running') "
    "SELECT " PGROW_RUN_COLUMNS " FROM moved "
    "WHERE (SELECT count(*) FROM told) >= 0";

/*
 * Runs a statement answering at most one run and reads it: GT_OK with out
 * filled, GT_ERR_NOT_FOUND when no row came.  The run's columns start at
 * base; *resp, when not NULL, keeps the result for the caller to read
 * the columns before base (and free it), on GT_OK only.
 */
static enum gt_err
one_run(struct pg_store *s, const char *op, struct arena *a,
    const char *sql, int n, const char *const *params, int base,
    struct run *out, PGresult **resp)
{
	PGresult	*res;
	enum gt_err	 e;

	res = pg_store_exec(s, sql, n, params);
	if ((e = pgrow_check(op, res, PGRES_TUPLES_OK)) != GT_OK)
		goto out_clear;
	if (PQntuples(res) == 0) {
		e = GT_ERR_NOT_FOUND;
		goto out_clear;
	}
	if (PQntuples(res) != 1) {
		e = pgrow_bad(op, "rows");
		goto out_clear;
	}
	if ((e = pgrow_run(op, a, res, 0, base, out)) != GT_OK)
		goto out_clear;
	if (resp != NULL) {
		*resp = res;
		return GT_OK;
	}

out_clear:
	PQclear(res);
	return e;
}

static enum gt_err
store_get(void *ctx, struct arena *a, const char *id, struct run *out)
{
	char			 canon[RUN_ID_LEN + 1];
	const char *const	 params[] = { canon };

	if (run_id_parse(id, canon) == -1)
		return GT_ERR_INVALID;
	return one_run(ctx, "get", a, get_sql, 1, params, 0, out, NULL);
}

static enum gt_err
store_find_by_key(void *ctx, struct arena *a, const char *key,
    const char *fingerprint, struct run *out, int *same)
{
	const char *const	 params[] = { key, fingerprint };
	PGresult		*res;
	enum gt_err		 e;

	if (key == NULL || fingerprint == NULL)
		return GT_ERR_INVALID;
	e = one_run(ctx, "find_by_key", a, find_by_key_sql, 2, params, 1,
	    out, &res);
	if (e != GT_OK)
		return e;
	if (pgrow_bool(res, 0, 0, same) == -1)
		e = pgrow_bad("find_by_key", "request_hash");
	PQclear(res);
	return e;
}

static enum gt_err
store_gate(void *ctx, const char *repo, enum target_type type,
    int32_t number, struct create_gate *out)
{
	char			 num[16];
	const char *const	 params[] = { repo, target_type_name(type),
	    num };
	PGresult		*res;
	enum gt_err		 e;

	memset(out, 0, sizeof(*out));
	if (repo == NULL || params[1] == NULL)
		return GT_ERR_INVALID;
	snprintf(num, sizeof(num), "%" PRId32, number);

	res = pg_store_exec(ctx, gate_sql, 3, params);
	if ((e = pgrow_check("gate", res, PGRES_TUPLES_OK)) != GT_OK)
		goto out_clear;
	if (PQntuples(res) != 1 ||
	    pgrow_bool(res, 0, 0, &out->repo_paused) == -1 ||
	    pgrow_bool(res, 0, 1, &out->target_paused) == -1) {
		e = pgrow_bad("gate", "paused");
		goto out_clear;
	}
	if (PQgetisnull(res, 0, 2))
		goto out_clear;
	out->has_override = 1;
	if (pgrow_i64(res, 0, 2, &out->limit) != 0 ||
	    pgrow_i64(res, 0, 3, &out->window_s) != 0)
		e = pgrow_bad("gate", "limit");

out_clear:
	PQclear(res);
	return e;
}

/* The text of the rules' parameters, $1 to $8 of LIMIT_CTES. */
struct rule_text {
	char	 lim[LIMIT_MAX_RULES][24];
	char	 win[LIMIT_MAX_RULES][24];
};

_Static_assert(RULE_PARAMS == 4 * LIMIT_MAX_RULES,
    "LIMIT_CTES has four parameters per rule");

/*
 * Fills params[0..RULE_PARAMS) for the rules; returns GT_ERR_INVALID for
 * too many rules or a rule that can never be counted.
 */
static enum gt_err
rule_params(const struct limit_rule *rules, size_t nrules,
    struct rule_text *rt, const char **params)
{
	size_t	 i;

	if (nrules > LIMIT_MAX_RULES)
		return GT_ERR_INVALID;
	for (i = 0; i < RULE_PARAMS; i++)
		params[i] = NULL;
	for (i = 0; i < nrules; i++) {
		if (rules[i].key == NULL || rules[i].limit < 1 ||
		    rules[i].window_s < 1 || (rules[i].kind != LIMIT_REPO &&
		    rules[i].kind != LIMIT_REQUESTER))
			return GT_ERR_INVALID;
		snprintf(rt->lim[i], sizeof(rt->lim[i]), "%" PRId64,
		    rules[i].limit);
		snprintf(rt->win[i], sizeof(rt->win[i]), "%" PRId64,
		    rules[i].window_s);
		params[4 * i + (rules[i].kind == LIMIT_REPO ? 0 : 1)] =
		    rules[i].key;
		params[4 * i + 2] = rt->lim[i];
		params[4 * i + 3] = rt->win[i];
	}
	return GT_OK;
}

/*
 * Fills d from the counted rows of res (one per rule, in order, their
 * columns starting at col).  created says whether the run was made, so
 * that it counts in remaining and reset_s; allowed is the verdict.
 */
static enum gt_err
read_decision(const char *op, const PGresult *res, int col,
    const struct limit_rule *rules, size_t nrules, int created,
    struct limit_decision *d)
{
	int64_t	 i, n, lim, oldest_s, frees_s;
	int	 row, has_oldest, has_frees;

	memset(d, 0, sizeof(*d));
	d->allowed = 1;
	if ((size_t)PQntuples(res) != nrules)
		return pgrow_bad(op, "rules");
	for (row = 0; (size_t)row < nrules; row++) {
		if (pgrow_i64(res, row, col + CNT_I, &i) != 0 || i != row ||
		    pgrow_i64(res, row, col + CNT_N, &n) != 0 || n < 0 ||
		    pgrow_i64(res, row, col + CNT_LIM, &lim) != 0 ||
		    lim != rules[row].limit)
			return pgrow_bad(op, "counted");
		if ((has_oldest = pgrow_i64(res, row, col + CNT_OLDEST,
		    &oldest_s)) == -1 || (has_frees = pgrow_i64(res, row,
		    col + CNT_FREES, &frees_s)) == -1)
			return pgrow_bad(op, "counted");
		has_oldest = has_oldest == 0;
		has_frees = has_frees == 0;

		if (created) {
			d->remaining[row] = lim - n - 1;
			d->reset_s[row] = has_oldest ? oldest_s :
			    rules[row].window_s;
		} else {
			d->remaining[row] = n < lim ? lim - n : 0;
			d->reset_s[row] = has_oldest ? oldest_s : 0;
		}
		if (d->remaining[row] < 0)
			d->remaining[row] = 0;
		if (d->reset_s[row] < 0)
			d->reset_s[row] = 0;
		if (n >= lim) {
			d->allowed = 0;
			if (!has_frees)
				return pgrow_bad(op, "frees_s");
			if (frees_s < 1)
				frees_s = 1;
			if (frees_s > d->retry_after_s)
				d->retry_after_s = frees_s;
		}
	}
	return GT_OK;
}

static enum gt_err
store_count_limits(void *ctx, const struct limit_rule *rules,
    size_t nrules, struct limit_decision *d)
{
	struct rule_text	 rt;
	const char		*params[RULE_PARAMS];
	PGresult		*res;
	enum gt_err		 e;

	if ((e = rule_params(rules, nrules, &rt, params)) != GT_OK)
		return e;
	if (nrules == 0) {
		memset(d, 0, sizeof(*d));
		d->allowed = 1;
		return GT_OK;
	}
	res = pg_store_exec(ctx, count_sql, RULE_PARAMS, params);
	if ((e = pgrow_check("count_limits", res, PGRES_TUPLES_OK)) == GT_OK)
		e = read_decision("count_limits", res, 0, rules, nrules, 0, d);
	PQclear(res);
	return e;
}

/*
 * Ends the transaction after a failed or refused step whose statement got
 * an answer, so the connection is idle again; when even that fails, the
 * connection is dropped, which ends the transaction on the server.
 */
static void
tx_rollback(struct pg_store *s)
{
	PGresult	*res;

	res = pg_store_exec(s, "ROLLBACK", 0, NULL);
	if (res != NULL && PQresultStatus(res) != PGRES_COMMAND_OK)
		pg_store_reset(s);
	PQclear(res);
}

/* Logs statements of one transaction landing on two server sessions. */
static enum gt_err
session_replaced(void)
{
	log_event(LOG_WARN, "pg_unavailable", "error",
	    "connection replaced during a transaction", NULL);
	return GT_ERR_UNAVAILABLE;
}

/*
 * Begins the transaction of a creation counted against rules and takes
 * their locks.  Returns GT_OK with *pid, the backend serving it; on
 * failure nothing is left open.
 */
static enum gt_err
tx_begin_locked(struct pg_store *s, const char *const *rp, int *pid)
{
	const char *const	 keys[] = { rp[0], rp[1], rp[4], rp[5] };
	PGresult		*res;
	PGconn			*conn;
	enum gt_err		 e;

	res = pg_store_exec(s, "BEGIN", 0, NULL);
	e = pgrow_check("insert", res, PGRES_COMMAND_OK);
	PQclear(res);
	if (e != GT_OK)
		return e;

	/*
	 * The store answers with the connection BEGIN ran on, unless that
	 * one has closed since, when it opens a fresh (idle) one.
	 */
	if ((conn = pg_store_conn(s)) == NULL)
		return GT_ERR_UNAVAILABLE;
	if (PQtransactionStatus(conn) != PQTRANS_INTRANS)
		return session_replaced();
	*pid = PQbackendPID(conn);

	res = pg_store_exec(s, lock_sql, (int)NELEM(keys), keys);
	if ((e = pgrow_check("insert", res, PGRES_TUPLES_OK)) != GT_OK &&
	    res != NULL)
		tx_rollback(s);
	PQclear(res);
	return e;
}

/*
 * Commits the transaction tx_begin_locked() began on backend pid.  A
 * COMMIT sent on a fresh connection would answer with a mere warning,
 * having committed nothing: the backend is checked after it.
 */
static enum gt_err
tx_commit(struct pg_store *s, int pid)
{
	PGresult	*res;
	PGconn		*conn;
	enum gt_err	 e;

	res = pg_store_exec(s, "COMMIT", 0, NULL);
	e = pgrow_check("insert", res, PGRES_COMMAND_OK);
	PQclear(res);
	if (e != GT_OK)
		return e;
	if ((conn = pg_store_conn(s)) == NULL || PQbackendPID(conn) != pid)
		return session_replaced();
	return GT_OK;
}

/*
 * Reads the insert statement's answer: the run and the decision, or why
 * there is no run.
 */
static enum gt_err
read_insert(struct arena *a, const PGresult *res,
    const struct limit_rule *rules, size_t nrules,
    struct limit_decision *d, struct run *out)
{
	const char	*st, *constraint;
	enum gt_err	 e;
	int		 fits, same;

	if (res != NULL && PQresultStatus(res) == PGRES_FATAL_ERROR) {
		st = PQresultErrorField(res, PG_DIAG_SQLSTATE);
		constraint = PQresultErrorField(res, PG_DIAG_CONSTRAINT_NAME);
		if (st != NULL && strcmp(st, "23505") == 0 &&
		    constraint != NULL &&
		    (strcmp(constraint, "runs_idempotency_key_key") == 0 ||
		    strcmp(constraint, "runs_comment_key") == 0))
			return GT_ERR_CONFLICT;
	}
	if ((e = pgrow_check("insert", res, PGRES_TUPLES_OK)) != GT_OK)
		return e;

	if (PQntuples(res) < 1 || pgrow_bool(res, 0, INS_FITS, &fits) == -1 ||
	    pgrow_bool(res, 0, INS_SAME, &same) == -1)
		return pgrow_bad("insert", "verdict");
	if (!same)
		return session_replaced();
	if (nrules > 0 && (e = read_decision("insert", res, INS_COUNT, rules,
	    nrules, fits, d)) != GT_OK)
		return e;
	if (nrules > 0 && fits != d->allowed)
		return pgrow_bad("insert", "fits");
	if (!fits)
		return GT_ERR_RATE_LIMITED;
	return pgrow_run("insert", a, res, 0, INS_RUN, out);
}

static enum gt_err
store_insert(void *ctx, struct arena *a, const struct run_new *rn,
    const struct limit_rule *rules, size_t nrules,
    struct limit_decision *d, struct run *out)
{
	struct pg_store		*s = ctx;
	struct rule_text	 rt;
	const char		*params[INSERT_PARAMS];
	char			 num[16], inst[24], comment[24], pidtext[16];
	PGresult		*res;
	enum gt_err		 e;
	int			 pid = 0;

	if ((nrules > 0 && d == NULL) || rn->repo == NULL ||
	    rn->instruction == NULL || rn->requester == NULL ||
	    (rn->idempotency_key != NULL && rn->fingerprint == NULL) ||
	    (rn->comment_id != 0) != (rn->comment_kind != NULL) ||
	    (rn->delivery_id != NULL && (rn->comment_kind == NULL ||
	    rn->delivery_action == NULL)))
		return GT_ERR_INVALID;
	if ((e = rule_params(rules, nrules, &rt, params)) != GT_OK)
		return e;
	snprintf(num, sizeof(num), "%" PRId32, rn->target_number);
	snprintf(inst, sizeof(inst), "%" PRId64, rn->installation_id);
	snprintf(comment, sizeof(comment), "%" PRId64, rn->comment_id);
	params[8] = rn->repo;
	params[9] = target_type_name(rn->target_type);
	params[10] = num;
	params[11] = rn->instruction;
	params[12] = run_source_name(rn->source);
	params[13] = rn->requested_by;
	params[14] = rn->requester;
	params[15] = rn->idempotency_key;
	params[16] = rn->fingerprint;
	params[17] = rn->installation_id != 0 ? inst : NULL;
	params[18] = rn->comment_id != 0 ? comment : NULL;
	params[19] = rn->comment_kind;
	params[20] = rn->delivery_id;
	params[21] = NULL;
	params[22] = rn->delivery_action;
	if (params[9] == NULL || params[12] == NULL)
		return GT_ERR_INVALID;

	if (nrules == 0) {
		if (d != NULL) {
			memset(d, 0, sizeof(*d));
			d->allowed = 1;
		}
		res = pg_store_exec(s, insert_sql, INSERT_PARAMS, params);
		e = read_insert(a, res, rules, 0, d, out);
		PQclear(res);
		return e;
	}

	if ((e = tx_begin_locked(s, params, &pid)) != GT_OK)
		return e;
	snprintf(pidtext, sizeof(pidtext), "%d", pid);
	params[21] = pidtext;
	res = pg_store_exec(s, insert_sql, INSERT_PARAMS, params);
	e = read_insert(a, res, rules, nrules, d, out);
	if (e != GT_OK && res != NULL)
		tx_rollback(s);
	PQclear(res);
	if (e != GT_OK)
		return e;
	return tx_commit(s, pid);
}

/*
 * The total each filter without a repository last answered, in this
 * process, plus one (0: none yet).  PostgreSQL plans list_deep_sql
 * again at every call, and list_sql once: a page that, by this total,
 * is too near the oldest end to be found through the days (the last
 * pages, which a reader often asks for) is read with list_sql.  A stale
 * total only picks the statement, and either answers any page.
 */
static int64_t	 list_totals[1 + RUN_NSTATUS];

static int
list_deep_for(const struct run_filter *f, int64_t off)
{
	int64_t	 known;

	if (f->repo != NULL || off < LIST_DAY_MIN)
		return 0;
	known = list_totals[f->has_status ? 1 + (int)f->status : 0];
	return known == 0 || known - 1 - off > LIST_DAY_MIN;
}

static enum gt_err
store_list(void *ctx, struct arena *a, const struct run_filter *f,
    struct run **runs, size_t *n, int64_t *total)
{
	char			 limit[24], offset[24];
	const char		*params[4];
	PGresult		*res;
	struct run		*rs;
	enum gt_err		 e;
	int64_t			 off, fresh = 0;
	int			 i, rows;

	*runs = NULL;
	*n = 0;
	if (f->page < 1 || f->limit < 1)
		return GT_ERR_INVALID;
	params[0] = NULL;
	if (f->has_status && (params[0] = run_status_name(f->status)) == NULL)
		return GT_ERR_INVALID;
	params[1] = f->repo;

	/* A page too far to count to is simply past the end. */
	off = f->page - 1 > INT64_MAX / f->limit ? INT64_MAX :
	    (f->page - 1) * f->limit;
	snprintf(limit, sizeof(limit), "%" PRId64, f->limit);
	snprintf(offset, sizeof(offset), "%" PRId64, off);
	params[2] = limit;
	params[3] = offset;

	if (!list_deep_for(f, off))
		res = pg_store_exec(ctx, list_sql, (int)NELEM(params), params);
	else if (f->has_status)
		res = pg_store_exec(ctx, list_deep_sql, (int)NELEM(params),
		    params);
	else
		res = pg_store_exec_generic(ctx, list_deep_sql,
		    (int)NELEM(params), params);
	if ((e = pgrow_check("list", res, PGRES_TUPLES_OK)) != GT_OK)
		goto out_clear;
	if ((rows = PQntuples(res)) < 1 || pgrow_i64(res, 0, 0, total) != 0 ||
	    pgrow_i64(res, 0, 1, &fresh) != 0) {
		e = pgrow_bad("list", "total");
		goto out_clear;
	}
	if (f->repo == NULL && *total < INT64_MAX)
		list_totals[f->has_status ? 1 + (int)f->status : 0] =
		    *total + 1;
	if (PQgetisnull(res, 0, 2 + PGROW_COL_ID))
		goto out_clear;		/* past the end: no run */

	if ((rs = arena_calloc(a, (size_t)rows, sizeof(*rs))) == NULL) {
		e = GT_ERR_NOMEM;
		goto out_clear;
	}
	for (i = 0; i < rows; i++)
		if ((e = pgrow_run("list", a, res, i, 2, &rs[i])) != GT_OK)
			goto out_clear;
	*runs = rs;
	*n = (size_t)rows;

out_clear:
	PQclear(res);
	if (e == GT_OK && fresh > LIST_REFRESH_FRESH)
		pgrow_counts_refreshed(pg_store_exec(ctx,
		    PGROW_REFRESH_COUNTS_SQL, 0, NULL));
	return e;
}

/*
 * How many times cancel tries its UPDATE: a run it could not move but
 * then reads unfinished can only be one whose insert had not committed
 * when the UPDATE ran (a status never moves back), so a second try finds
 * it.
 */
#define CANCEL_TRIES	2

static enum gt_err
store_cancel(void *ctx, struct arena *a, const char *id, struct run *out)
{
	char			 canon[RUN_ID_LEN + 1];
	const char *const	 params[] = { canon };
	enum gt_err		 e;
	int			 i;

	if (run_id_parse(id, canon) == -1)
		return GT_ERR_INVALID;
	for (i = 0; i < CANCEL_TRIES; i++) {
		e = one_run(ctx, "cancel", a, cancel_sql, 1, params, 0, out,
		    NULL);
		if (e != GT_ERR_NOT_FOUND)
			return e;

		/* Neither queued nor running: finished, or absent. */
		if ((e = one_run(ctx, "cancel", a, get_sql, 1, params, 0, out,
		    NULL)) != GT_OK)
			return e;
		if (run_status_finished(out->status))
			return GT_ERR_TRANSITION;
	}
	return pgrow_bad("cancel", "status");
}

void
run_store_pg_port(struct pg_store *s, struct run_store *out)
{
	memset(out, 0, sizeof(*out));
	out->ctx = s;
	out->get = store_get;
	out->find_by_key = store_find_by_key;
	out->gate = store_gate;
	out->insert = store_insert;
	out->count_limits = store_count_limits;
	out->list = store_list;
	out->cancel = store_cancel;
}
