/*
 * analytics_pg.c: the figures of GET /api/analytics in PostgreSQL.
 *
 * One statement, so that every figure comes from the same snapshot (the
 * total is the sum of the days, whatever is committed meanwhile).  The
 * window's runs are a CTE that is not materialised: each of its three
 * readers (the totals and statistics, the days, the repositories) gets a
 * range scan of runs_analytics_idx of its own, reading only the index,
 * rather than one scan whose rows are copied into a tuple store that
 * spills to disk once the window holds a few ten thousand runs.  Both
 * ways cost in proportion to the runs in the window; three scans of
 * pages just read are the cheaper (doc/analytics.md).
 *
 * date_part() rather than extract(): it answers float8 where extract()
 * answers numeric, which is slower to sum and to sort, and float8 is what
 * percentile_cont() takes anyway.
 */
#include <config.h>	/* the build's, not infra/config.h */

#include <stdio.h>
#include <string.h>

#include <libpq-fe.h>

#include "domain/arena.h"
#include "domain/timefmt.h"
#include "infra/analytics_pg.h"
#include "infra/pg_rows.h"
#include "infra/pg_store.h"
#include "usecase/analytics.h"

/*
 * The figures of the runs created in [$1, $2], with the $3 busiest
 * repositories.  The first row carries the totals and the statistics;
 * with them, on every row, one item: a day (part 1, k its number since
 * 1970-01-01) or a repository (part 2, k its rank).  An empty window is
 * one row without an item.  The display name is read for the top
 * repositories only, through runs_list_repo_idx.
 */
static const char figures_sql[] =
    "WITH win AS NOT MATERIALIZED ("
    "    SELECT created_at, status, source, repo_key, "
    "        date_part('epoch', finished_at - started_at) AS dur, "
    "        date_part('epoch', started_at - created_at) AS wait "
    "    FROM runs "
    "    WHERE created_at >= $1::timestamptz AND "
    "        created_at <= $2::timestamptz), "
    "summary AS ("
    "    SELECT count(*) AS total, "
    "        count(*) FILTER (WHERE status = 'queued'), "
    "        count(*) FILTER (WHERE status = 'running'), "
    "        count(*) FILTER (WHERE status = 'succeeded'), "
    "        count(*) FILTER (WHERE status = 'failed'), "
    "        count(*) FILTER (WHERE status = 'cancelled'), "
    "        count(*) FILTER (WHERE source = 'api'), "
    "        count(*) FILTER (WHERE source = 'webhook'), "
    "        avg(dur), "
    "        percentile_cont(0.5) WITHIN GROUP (ORDER BY dur), "
    "        percentile_cont(0.95) WITHIN GROUP (ORDER BY dur), "
    "        avg(wait), "
    "        percentile_cont(0.95) WITHIN GROUP (ORDER BY wait) "
    "    FROM win), "
    "days AS ("
    "    SELECT (created_at AT TIME ZONE 'UTC')::date - DATE '1970-01-01' "
    "            AS day, "
    "        count(*) AS total, "
    "        count(*) FILTER (WHERE status = 'succeeded') AS succeeded, "
    "        count(*) FILTER (WHERE status = 'failed') AS failed "
    "    FROM win GROUP BY 1), "
    "top AS ("
    "    SELECT repo_key, count(*) AS total, "
    "        count(*) FILTER (WHERE status = 'succeeded') AS succeeded, "
    "        count(*) FILTER (WHERE status = 'failed') AS failed "
    "    FROM win GROUP BY repo_key "
    "    ORDER BY total DESC, repo_key LIMIT $3::bigint), "
    "items AS ("
    "    SELECT 1 AS part, day::bigint AS k, NULL::text AS name, total, "
    "        succeeded, failed FROM days "
    "    UNION ALL "
    "    SELECT 2, row_number() OVER (ORDER BY total DESC, repo_key), "
    "        (SELECT r.repo FROM runs r "
    "            WHERE r.repo_key = top.repo_key AND "
    "                r.created_at >= $1::timestamptz AND "
    "                r.created_at <= $2::timestamptz "
    "            ORDER BY r.created_at DESC, r.id DESC LIMIT 1), "
    "        total, succeeded, failed FROM top) "
    "SELECT s.*, i.* FROM summary s LEFT JOIN items i ON true "
    "ORDER BY i.part, i.k";

/* The statement's columns. */
enum figures_col {
	COL_TOTAL,
	COL_QUEUED,
	COL_RUNNING,
	COL_SUCCEEDED,
	COL_FAILED,
	COL_CANCELLED,
	COL_API,
	COL_WEBHOOK,
	COL_DUR_AVG,
	COL_DUR_P50,
	COL_DUR_P95,
	COL_WAIT_AVG,
	COL_WAIT_P95,
	COL_PART,
	COL_K,
	COL_NAME,
	COL_ITEM_TOTAL,
	COL_ITEM_SUCCEEDED,
	COL_ITEM_FAILED,
	COL_N
};

#define PART_DAY	1
#define PART_REPO	2

/* Reads the counts of row 0, in the columns from COL_TOTAL on. */
static enum gt_err
read_counts(const PGresult *res, struct analytics_counts *c)
{
	int64_t *const	 fields[] = { &c->total, &c->queued, &c->running,
	    &c->succeeded, &c->failed, &c->cancelled, &c->api, &c->webhook };
	int		 i;

	for (i = 0; i < (int)(sizeof(fields) / sizeof(fields[0])); i++)
		if (pgrow_i64(res, 0, COL_TOTAL + i, fields[i]) != 0)
			return pgrow_bad("analytics", "counts");
	return GT_OK;
}

/*
 * Reads the n statistics of row 0 in the columns from col on into outs:
 * *has is 1 when they are all present, 0 when they are all NULL (no
 * run to compute them over).
 */
static enum gt_err
read_stats(const PGresult *res, int col, double *const *outs, int n,
    int *has)
{
	int	 i, rc, nulls = 0;

	for (i = 0; i < n; i++) {
		if ((rc = pgrow_f64(res, 0, col + i, outs[i])) == -1)
			return pgrow_bad("analytics", "statistics");
		nulls += rc == 1;
	}
	if (nulls != 0 && nulls != n)
		return pgrow_bad("analytics", "statistics");
	*has = nulls == 0;
	return GT_OK;
}

/* Reads the totals and the statistics, which every row carries. */
static enum gt_err
read_summary(const PGresult *res, struct analytics_figures *out)
{
	double *const	 dur[] = { &out->durations.avg,
	    &out->durations.p50, &out->durations.p95 };
	double *const	 wait[] = { &out->waits.avg, &out->waits.p95 };
	enum gt_err	 e;

	if ((e = read_counts(res, &out->counts)) != GT_OK)
		return e;
	e = read_stats(res, COL_DUR_AVG, dur, 3, &out->durations.has);
	if (e != GT_OK)
		return e;
	return read_stats(res, COL_WAIT_AVG, wait, 2, &out->waits.has);
}

/* Reads an item's three counts. */
static int
read_item_counts(const PGresult *res, int row, int64_t *total,
    int64_t *succeeded, int64_t *failed)
{
	return pgrow_i64(res, row, COL_ITEM_TOTAL, total) == 0 &&
	    pgrow_i64(res, row, COL_ITEM_SUCCEEDED, succeeded) == 0 &&
	    pgrow_i64(res, row, COL_ITEM_FAILED, failed) == 0 ? 0 : -1;
}

/* Reads the days and the repositories, in the order they came. */
static enum gt_err
read_items(struct arena *a, const PGresult *res, size_t top_n,
    struct analytics_figures *out)
{
	struct analytics_day	*d;
	struct analytics_repo	*r;
	int64_t			 part;
	int			 i, rows = PQntuples(res);

	if (rows == 1 && PQgetisnull(res, 0, COL_PART))
		return GT_OK;	/* an empty window: no item */
	out->days = arena_calloc(a, (size_t)rows, sizeof(*out->days));
	out->repos = arena_calloc(a, (size_t)rows, sizeof(*out->repos));
	if (out->days == NULL || out->repos == NULL)
		return GT_ERR_NOMEM;

	for (i = 0; i < rows; i++) {
		if (pgrow_i64(res, i, COL_PART, &part) != 0)
			return pgrow_bad("analytics", "part");
		if (part == PART_DAY) {
			d = &out->days[out->ndays++];
			if (pgrow_i64(res, i, COL_K, &d->day) != 0 ||
			    read_item_counts(res, i, &d->total, &d->succeeded,
			    &d->failed) == -1)
				return pgrow_bad("analytics", "day");
		} else if (part == PART_REPO && out->nrepos < top_n) {
			r = &out->repos[out->nrepos++];
			if (PQgetisnull(res, i, COL_NAME) ||
			    read_item_counts(res, i, &r->total, &r->succeeded,
			    &r->failed) == -1)
				return pgrow_bad("analytics", "repo");
			if (pgrow_text(a, res, i, COL_NAME, &r->repo) != GT_OK)
				return GT_ERR_NOMEM;
		} else
			return pgrow_bad("analytics", "part");
	}
	return GT_OK;
}

static enum gt_err
pg_figures(void *ctx, struct arena *a, int64_t from_ms, int64_t to_ms,
    size_t top_n, struct analytics_figures *out)
{
	char			 from[TIME_RFC3339_LEN];
	char			 to[TIME_RFC3339_LEN];
	char			 limit[24];
	const char *const	 params[] = { from, to, limit };
	PGresult		*res;
	enum gt_err		 e;

	memset(out, 0, sizeof(*out));
	time_format_rfc3339(from_ms, from, sizeof(from));
	time_format_rfc3339(to_ms, to, sizeof(to));
	snprintf(limit, sizeof(limit), "%zu", top_n);

	res = pg_store_exec(ctx, figures_sql, 3, params);
	if ((e = pgrow_check("analytics", res, PGRES_TUPLES_OK)) != GT_OK)
		goto out_clear;
	if (PQntuples(res) < 1 || PQnfields(res) != COL_N) {
		e = pgrow_bad("analytics", "rows");
		goto out_clear;
	}
	if ((e = read_summary(res, out)) != GT_OK)
		goto out_clear;
	e = read_items(a, res, top_n, out);

out_clear:
	PQclear(res);
	return e;
}

void
analytics_pg_port(struct pg_store *s, struct analytics_store *out)
{
	memset(out, 0, sizeof(*out));
	out->ctx = s;
	out->figures = pg_figures;
}
