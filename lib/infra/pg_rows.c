/*
 * pg_rows.c: reading libpq results, for the PostgreSQL adapters.
 */
#include <config.h>	/* the build's, not infra/config.h */

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "domain/arena.h"
#include "domain/run.h"
#include "infra/log.h"
#include "infra/pg_rows.h"

static const char *const run_col_names[PGROW_RUN_NCOLS] = {
	"id", "repo", "target_type", "target_number", "instruction",
	"status", "source", "requested_by", "created_at", "started_at",
	"finished_at", "exit_code", "error_stage", "error_message", "result",
};

/*
 * Whether a failed statement's SQLSTATE says the server could not serve
 * it rather than that the statement was wrong: a connection exception
 * (08), insufficient resources (53), operator intervention (57: a
 * statement timeout, a shutdown), or a server that has become read-only.
 */
static int
sqlstate_unavailable(const char *st)
{
	return strncmp(st, "08", 2) == 0 || strncmp(st, "53", 2) == 0 ||
	    strncmp(st, "57", 2) == 0 || strcmp(st, "25006") == 0;
}

/*
 * Translates a statement's result: GT_OK when its status is want,
 * GT_ERR_UNAVAILABLE when there was none (pg.c has logged why) or the
 * server could not serve it, else GT_ERR_INTERNAL.  Failures with a
 * result are logged with what the server said, never the parameters.
 */
enum gt_err
pgrow_check(const char *op, const PGresult *res, ExecStatusType want)
{
	const char	*st, *constraint, *msg;
	int		 unavailable;

	if (res == NULL)
		return GT_ERR_UNAVAILABLE;
	if (PQresultStatus(res) == want)
		return GT_OK;

	st = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	constraint = PQresultErrorField(res, PG_DIAG_CONSTRAINT_NAME);
	msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
	if (msg == NULL)
		msg = PQresStatus(PQresultStatus(res));
	unavailable = st != NULL && sqlstate_unavailable(st);
	log_event(unavailable ? LOG_WARN : LOG_ERROR,
	    unavailable ? "pg_unavailable" : "pg_error", "op", op,
	    "sqlstate", st, "constraint", constraint, "error", msg, NULL);
	return unavailable ? GT_ERR_UNAVAILABLE : GT_ERR_INTERNAL;
}

/* Logs a row that does not read as the statement promised. */
enum gt_err
pgrow_bad(const char *op, const char *column)
{
	log_event(LOG_ERROR, "pg_bad_row", "op", op, "column", column, NULL);
	return GT_ERR_INTERNAL;
}

void
pgrow_counts_refreshed(PGresult *res)
{
	if (res != NULL && PQresultStatus(res) != PGRES_TUPLES_OK)
		log_event(LOG_WARN, "run_counts_refresh_failed", "error",
		    PQresultErrorMessage(res), NULL);
	PQclear(res);
}

/* Parses a whole decimal int64, without trailing bytes. */
static int
parse_i64(const char *s, int64_t *out)
{
	char		*end;
	long long	 v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0')
		return -1;
	*out = v;
	return 0;
}

/* Column col of row as an int64: -1 when malformed, 1 when NULL, else 0. */
int
pgrow_i64(const PGresult *res, int row, int col, int64_t *out)
{
	if (PQgetisnull(res, row, col))
		return 1;
	return parse_i64(PQgetvalue(res, row, col), out);
}

/* Column col of row as a boolean: -1 when not 't' or 'f'. */
int
pgrow_bool(const PGresult *res, int row, int col, int *out)
{
	const char	*v = PQgetvalue(res, row, col);

	if (PQgetisnull(res, row, col) || (strcmp(v, "t") != 0 &&
	    strcmp(v, "f") != 0))
		return -1;
	*out = v[0] == 't';
	return 0;
}

/* Column col of row as a finite double: -1 when malformed, 1 when NULL. */
int
pgrow_f64(const PGresult *res, int row, int col, double *out)
{
	const char	*v;
	char		*end;
	double		 d;

	if (PQgetisnull(res, row, col))
		return 1;
	v = PQgetvalue(res, row, col);
	errno = 0;
	d = strtod(v, &end);
	if (errno != 0 || end == v || *end != '\0' || !isfinite(d))
		return -1;
	*out = d;
	return 0;
}

/* Column col of row copied into the arena; NULL stays NULL. */
enum gt_err
pgrow_text(struct arena *a, const PGresult *res, int row, int col,
    const char **out)
{
	if (PQgetisnull(res, row, col)) {
		*out = NULL;
		return GT_OK;
	}
	*out = arena_strndup(a, PQgetvalue(res, row, col),
	    (size_t)PQgetlength(res, row, col));
	return *out == NULL ? GT_ERR_NOMEM : GT_OK;
}

/* A time column: -1 when NULL. */
static int
time_at(const PGresult *res, int row, int col, int64_t *ms)
{
	int	 rc = pgrow_i64(res, row, col, ms);

	if (rc == 1)
		*ms = -1;
	return rc == -1 ? -1 : 0;
}

/*
 * Reads the run in the PGROW_RUN_NCOLS columns of row starting at base into
 * out, its strings copied into the arena.
 */
enum gt_err
pgrow_run(const char *op, struct arena *a, const PGresult *res, int row,
    int base, struct run *out)
{
	const char	*v;
	int64_t		 n;
	int		 bad = -1;

	memset(out, 0, sizeof(*out));
	if (PQnfields(res) < base + PGROW_RUN_NCOLS)
		return pgrow_bad(op, "count");

	v = PQgetvalue(res, row, base + PGROW_COL_ID);
	if (run_id_parse(v, out->id) == -1)
		bad = PGROW_COL_ID;
	else if (PQgetisnull(res, row, base + PGROW_COL_REPO) ||
	    PQgetisnull(res, row, base + PGROW_COL_INSTRUCTION))
		bad = PGROW_COL_REPO;
	else if (target_type_parse(PQgetvalue(res, row,
	    base + PGROW_COL_TARGET_TYPE), &out->target_type) == -1)
		bad = PGROW_COL_TARGET_TYPE;
	else if (pgrow_i64(res, row, base + PGROW_COL_TARGET_NUMBER, &n) != 0 ||
	    !target_number_valid(n))
		bad = PGROW_COL_TARGET_NUMBER;
	else if (run_status_parse(PQgetvalue(res, row, base + PGROW_COL_STATUS),
	    &out->status) == -1)
		bad = PGROW_COL_STATUS;
	else if (run_source_parse(PQgetvalue(res, row, base + PGROW_COL_SOURCE),
	    &out->source) == -1)
		bad = PGROW_COL_SOURCE;
	else if (pgrow_i64(res, row, base + PGROW_COL_CREATED, &out->created_at_ms)
	    != 0)
		bad = PGROW_COL_CREATED;
	else if (time_at(res, row, base + PGROW_COL_STARTED, &out->started_at_ms)
	    == -1)
		bad = PGROW_COL_STARTED;
	else if (time_at(res, row, base + PGROW_COL_FINISHED,
	    &out->finished_at_ms) == -1)
		bad = PGROW_COL_FINISHED;
	if (bad != -1)
		return pgrow_bad(op, run_col_names[bad]);
	out->target_number = (int32_t)n;

	switch (pgrow_i64(res, row, base + PGROW_COL_EXIT_CODE, &n)) {
	case 0:
		if (n < INT32_MIN || n > INT32_MAX)
			return pgrow_bad(op, run_col_names[PGROW_COL_EXIT_CODE]);
		out->has_exit_code = 1;
		out->exit_code = (int)n;
		break;
	case 1:
		break;
	default:
		return pgrow_bad(op, run_col_names[PGROW_COL_EXIT_CODE]);
	}

	out->error_stage = STAGE_NONE;
	if (!PQgetisnull(res, row, base + PGROW_COL_ERROR_STAGE) &&
	    run_stage_parse(PQgetvalue(res, row, base + PGROW_COL_ERROR_STAGE),
	    &out->error_stage) == -1)
		return pgrow_bad(op, run_col_names[PGROW_COL_ERROR_STAGE]);

	if (pgrow_text(a, res, row, base + PGROW_COL_REPO, &out->repo) != GT_OK ||
	    pgrow_text(a, res, row, base + PGROW_COL_INSTRUCTION,
	    &out->instruction) != GT_OK ||
	    pgrow_text(a, res, row, base + PGROW_COL_REQUESTED_BY,
	    &out->requested_by) != GT_OK ||
	    pgrow_text(a, res, row, base + PGROW_COL_ERROR_MESSAGE,
	    &out->error_message) != GT_OK ||
	    pgrow_text(a, res, row, base + PGROW_COL_RESULT, &out->result_json) != GT_OK)
		return GT_ERR_NOMEM;
	return GT_OK;
}

