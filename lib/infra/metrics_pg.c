/*
 * metrics_pg.c: the figures of GET /metrics in PostgreSQL.
 *
 * Each count is a scalar subquery on the predicate of a partial index or
 * the leading column of runs_list_status_idx, so that the planner can
 * read an index alone; see metrics_pg.h for what each costs.
 */
#include <config.h>	/* the build's, not infra/config.h */

#include <libpq-fe.h>

#include "domain/run.h"
#include "infra/metrics_pg.h"
#include "infra/pg.h"
#include "infra/pg_rows.h"

/* The columns, in this order: enum run_status, then the rest. */
enum figures_col {
	COL_OLDEST_QUEUED = RUN_NSTATUS,
	COL_OUTBOX_PENDING,
	COL_OUTBOX_FAILED,
	NCOLS
};

_Static_assert(RUN_QUEUED == 0 && RUN_RUNNING == 1 && RUN_SUCCEEDED == 2 &&
    RUN_FAILED == 3 && RUN_CANCELLED == 4 && RUN_NSTATUS == 5,
    "figures_sql counts the statuses in enum run_status's order");

static const char figures_sql[] =
    "SELECT "
    "    (SELECT count(*) FROM runs WHERE status = 'queued'), "
    "    (SELECT count(*) FROM runs WHERE status = 'running'), "
    "    (SELECT count(*) FROM runs WHERE status = 'succeeded'), "
    "    (SELECT count(*) FROM runs WHERE status = 'failed'), "
    "    (SELECT count(*) FROM runs WHERE status = 'cancelled'), "
    "    (SELECT floor(date_part('epoch', now() - min(created_at)) * "
    "        1000)::bigint FROM runs WHERE status = 'queued'), "
    "    (SELECT count(*) FROM github_outbox WHERE status = 'pending'), "
    "    (SELECT count(*) FROM github_outbox WHERE status = 'failed')";

static enum gt_err
read_row(const PGresult *res, struct db_figures *out)
{
	int64_t	*slots[NCOLS];
	int	 col;

	if (PQntuples(res) != 1 || PQnfields(res) != NCOLS)
		return pgrow_bad("metrics", "shape");
	for (col = 0; col < RUN_NSTATUS; col++)
		slots[col] = &out->runs[col];
	slots[COL_OLDEST_QUEUED] = &out->oldest_queued_ms;
	slots[COL_OUTBOX_PENDING] = &out->outbox_pending;
	slots[COL_OUTBOX_FAILED] = &out->outbox_failed;

	for (col = 0; col < NCOLS; col++) {
		*slots[col] = 0;
		if (pgrow_i64(res, 0, col, slots[col]) == -1)
			return pgrow_bad("metrics", PQfname(res, col));
	}

	/* No queued run: min() is NULL, read as 0.  A clock step: not < 0. */
	if (out->oldest_queued_ms < 0)
		out->oldest_queued_ms = 0;
	return GT_OK;
}

static enum gt_err
db_figures(void *ctx, int timeout_ms, struct db_figures *out)
{
	struct pgconn	*pc = ctx;
	PGresult	*res;
	enum gt_err	 e;

	res = pgconn_exec(pc, figures_sql, 0, NULL, timeout_ms);
	if ((e = pgrow_check("metrics", res, PGRES_TUPLES_OK)) == GT_OK)
		e = read_row(res, out);
	PQclear(res);
	return e;
}

void
metrics_pg_port(struct pgconn *pc, struct gauge_ports *out)
{
	out->db_ctx = pc;
	out->db_figures = db_figures;
}
