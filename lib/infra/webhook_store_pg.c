/*
 * webhook_store_pg.c: the webhook's records in PostgreSQL.
 */
#include <config.h>	/* the build's, not infra/config.h */

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <libpq-fe.h>

#include "domain/arena.h"
#include "domain/run.h"
#include "infra/pg_rows.h"
#include "infra/pg_store.h"
#include "infra/webhook_store_pg.h"
#include "usecase/ports.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

static const char seen_sql[] =
    "SELECT run_id::text FROM webhook_deliveries WHERE delivery_id = $1";

/*
 * Records a delivery ($1 to $6) and, when it is new and $7 is given,
 * queues the reply ($7 repository, $8 installation, $9 payload).  The
 * final WHERE makes the answer wait for the reply's insert.
 */
static const char record_sql[] =
    "WITH noted AS ("
    "    INSERT INTO webhook_deliveries (delivery_id, event, action, "
    "        outcome, reason, run_id) "
    "    VALUES ($1, $2, $3, $4, $5, $6::uuid) "
    "    ON CONFLICT (delivery_id) DO NOTHING RETURNING 1), "
    "replied AS ("
    "    INSERT INTO github_outbox (kind, repo, installation_id, payload) "
    "    SELECT 'reply', $7, $8::bigint, $9::jsonb FROM noted "
    "    WHERE $7::text IS NOT NULL RETURNING 1) "
    "SELECT (SELECT count(*) FROM noted), (SELECT count(*) FROM replied)";

static const char by_comment_sql[] =
    "SELECT " PGROW_RUN_COLUMNS " FROM runs "
    "WHERE comment_kind = $1 AND comment_id = $2::bigint";

static const char active_sql[] =
    "SELECT " PGROW_RUN_COLUMNS " FROM runs "
    "WHERE repo_key = lower($1) AND target_type = $2 AND "
    "    target_number = $3::integer AND status IN ('queued', 'running') "
    "ORDER BY created_at DESC, id DESC LIMIT 1";

static enum gt_err
store_seen(void *ctx, struct arena *a, const char *delivery_id,
    const char **run_id)
{
	const char *const	 params[] = { delivery_id };
	PGresult		*res;
	enum gt_err		 e;

	*run_id = NULL;
	if (delivery_id == NULL)
		return GT_ERR_INVALID;
	res = pg_store_exec(ctx, seen_sql, (int)NELEM(params), params);
	if ((e = pgrow_check("seen", res, PGRES_TUPLES_OK)) != GT_OK)
		goto out_clear;
	if (PQntuples(res) == 0)
		e = GT_ERR_NOT_FOUND;
	else
		e = pgrow_text(a, res, 0, 0, run_id);

out_clear:
	PQclear(res);
	return e;
}

static enum gt_err
store_record(void *ctx, const struct delivery_note *n)
{
	char			 inst[24];
	const char		*params[9];
	PGresult		*res;
	enum gt_err		 e;

	if (n->delivery_id == NULL || n->event == NULL ||
	    n->outcome == NULL ||
	    (n->reply_json != NULL && n->reply_repo == NULL))
		return GT_ERR_INVALID;
	snprintf(inst, sizeof(inst), "%" PRId64, n->reply_installation_id);
	params[0] = n->delivery_id;
	params[1] = n->event;
	params[2] = n->action;
	params[3] = n->outcome;
	params[4] = n->reason;
	params[5] = n->run_id;
	params[6] = n->reply_json != NULL ? n->reply_repo : NULL;
	params[7] = n->reply_installation_id != 0 ? inst : NULL;
	params[8] = n->reply_json;

	res = pg_store_exec(ctx, record_sql, (int)NELEM(params), params);
	e = pgrow_check("record", res, PGRES_TUPLES_OK);
	PQclear(res);
	return e;
}

/* Runs a statement answering at most one run, read into out. */
static enum gt_err
one_run(struct pg_store *s, const char *op, struct arena *a,
    const char *sql, int n, const char *const *params, struct run *out)
{
	PGresult	*res;
	enum gt_err	 e;

	res = pg_store_exec(s, sql, n, params);
	if ((e = pgrow_check(op, res, PGRES_TUPLES_OK)) != GT_OK)
		goto out_clear;
	if (PQntuples(res) == 0)
		e = GT_ERR_NOT_FOUND;
	else if (PQntuples(res) != 1)
		e = pgrow_bad(op, "rows");
	else
		e = pgrow_run(op, a, res, 0, 0, out);

out_clear:
	PQclear(res);
	return e;
}

static enum gt_err
store_run_by_comment(void *ctx, struct arena *a, const char *kind,
    int64_t comment_id, struct run *out)
{
	char			 id[24];
	const char *const	 params[] = { kind, id };

	if (kind == NULL || comment_id <= 0)
		return GT_ERR_INVALID;
	snprintf(id, sizeof(id), "%" PRId64, comment_id);
	return one_run(ctx, "run_by_comment", a, by_comment_sql,
	    (int)NELEM(params), params, out);
}

static enum gt_err
store_active_run(void *ctx, struct arena *a, const char *repo,
    enum target_type type, int32_t number, struct run *out)
{
	char			 num[16];
	const char *const	 params[] = { repo, target_type_name(type),
	    num };

	if (repo == NULL || params[1] == NULL)
		return GT_ERR_INVALID;
	snprintf(num, sizeof(num), "%" PRId32, number);
	return one_run(ctx, "active_run", a, active_sql, (int)NELEM(params),
	    params, out);
}

void
webhook_store_pg_port(struct pg_store *s, struct webhook_store *out)
{
	memset(out, 0, sizeof(*out));
	out->ctx = s;
	out->seen = store_seen;
	out->record = store_record;
	out->run_by_comment = store_run_by_comment;
	out->active_run = store_active_run;
}
