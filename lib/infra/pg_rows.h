/*
 * pg_rows.h: reading libpq results, for the PostgreSQL adapters.
 *
 * The adapters' statements answer runs in the same columns, and their
 * failures are translated into enum gt_err the same way: both are here,
 * so that every adapter reads a run and judges an error alike.  Nothing
 * here logs a statement's parameters.
 */
#ifndef GT_PG_ROWS_H
#define GT_PG_ROWS_H

#include <stdint.h>

#include <libpq-fe.h>

#include "domain/error.h"

struct arena;
struct run;

/*
 * A run's columns, in the order of enum pgrow_run_col, as every statement
 * returning runs selects them: times as whole milliseconds (the floor of
 * the microseconds stored), the result as the jsonb's text.
 */
#define PGROW_RUN_COLUMNS \
	"id::text, repo, target_type, target_number, instruction, status, " \
	"source, requested_by, " \
	"floor(extract(epoch FROM created_at) * 1000)::bigint, " \
	"floor(extract(epoch FROM started_at) * 1000)::bigint, " \
	"floor(extract(epoch FROM finished_at) * 1000)::bigint, " \
	"exit_code, error_stage, error_message, result::text"

enum pgrow_run_col {
	PGROW_COL_ID,
	PGROW_COL_REPO,
	PGROW_COL_TARGET_TYPE,
	PGROW_COL_TARGET_NUMBER,
	PGROW_COL_INSTRUCTION,
	PGROW_COL_STATUS,
	PGROW_COL_SOURCE,
	PGROW_COL_REQUESTED_BY,
	PGROW_COL_CREATED,
	PGROW_COL_STARTED,
	PGROW_COL_FINISHED,
	PGROW_COL_EXIT_CODE,
	PGROW_COL_ERROR_STAGE,
	PGROW_COL_ERROR_MESSAGE,
	PGROW_COL_RESULT,
	PGROW_RUN_NCOLS
};

/*
 * The outcome comment of a finished webhook run, queued for GitHub's
 * sender, as a CTE named "outcome" over the rows of a CTE named "done".  The payload
 * names what the comment answers; the sender reads the rest from the run.
 */
#define PGROW_OUTCOME_CTE \
	"outcome AS (" \
	"    INSERT INTO github_outbox (kind, run_id, repo, " \
	"        installation_id, payload) " \
	"    SELECT 'outcome', id, repo, installation_id, " \
	"        jsonb_build_object('status', status, " \
	"            'target', jsonb_build_object('type', target_type, " \
	"                'number', target_number), " \
	"            'comment_id', comment_id, " \
	"            'comment_kind', comment_kind) " \
	"    FROM done WHERE source = 'webhook' RETURNING 1) "

/*
 * Moves the mark of the kept run counts behind the totals of
 * GET /api/runs (sql/004_run_counts.sql).  The dispatcher runs it every
 * minute, the list route when it counted many runs since the mark.
 */
#define PGROW_REFRESH_COUNTS_SQL	"SELECT run_counts_refresh()"

/*
 * Clears the result of PGROW_REFRESH_COUNTS_SQL, logging a failure: the
 * totals stay exact without the move, only slower, so it is not the
 * caller's error.  Accepts NULL (no answer: pg.c has logged why).
 */
void		 pgrow_counts_refreshed(PGresult *);

/*
 * Translates a statement's result: GT_OK when its status is want,
 * GT_ERR_UNAVAILABLE when there was none (pg.c has logged why) or the
 * server could not serve it (SQLSTATE classes 08, 53 and 57, and a
 * read-only server), else GT_ERR_INTERNAL.  A failure with a result is
 * logged with op, the SQLSTATE, the constraint and the server's primary
 * message.
 */
enum gt_err	 pgrow_check(const char *op, const PGresult *,
		    ExecStatusType want);

/* Logs a row that does not read as op's statement promised. */
enum gt_err	 pgrow_bad(const char *op, const char *column);

/*
 * Column col of row as an int64: 0, 1 when NULL, -1 when it is not a
 * whole decimal number in range.
 */
int		 pgrow_i64(const PGresult *, int row, int col, int64_t *out);

/* Column col of row as a boolean: 0, or -1 when not 't' or 'f'. */
int		 pgrow_bool(const PGresult *, int row, int col, int *out);

/*
 * Column col of row as a finite double (float8's text): 0, 1 when NULL,
 * -1 when it is not a finite number.
 */
int		 pgrow_f64(const PGresult *, int row, int col, double *out);

/*
 * Column col of row copied into the arena; NULL stays NULL.  GT_OK or
 * GT_ERR_NOMEM.
 */
enum gt_err	 pgrow_text(struct arena *, const PGresult *, int row,
		    int col, const char **out);

/*
 * Reads the run in the PGROW_RUN_NCOLS columns of row starting at base
 * into out, its strings copied into the arena; times in milliseconds,
 * -1 when NULL.  GT_OK, GT_ERR_NOMEM, or GT_ERR_INTERNAL (logged by op)
 * for a row that does not read as a run.
 */
enum gt_err	 pgrow_run(const char *op, struct arena *, const PGresult *,
		    int row, int base, struct run *out);

#endif
