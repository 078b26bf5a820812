/*
 * admin_pg.c: pauses and rate-limit overrides in PostgreSQL.
 *
 * Every statement names the row by lower($1), the repository's key, as
 * the tables' CHECKs require it to be; the name as given goes into the
 * repo column for display.
 */
#include <config.h>	/* the build's, not infra/config.h */

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <libpq-fe.h>

#include "domain/arena.h"
#include "domain/run.h"
#include "infra/admin_pg.h"
#include "infra/pg_rows.h"
#include "infra/pg_store.h"
#include "usecase/admin.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

/* The channel the dispatchers LISTEN on (run_queue_pg.c). */
#define CHANNEL_QUEUED	"runs_queued"

/*
 * A pause's columns, in the order of enum pause_col; a repository's
 * pause has no target (NULL type and number).
 */
#define PAUSE_AT	"floor(extract(epoch FROM p.paused_at) * 1000)::bigint"
#define REPO_PAUSE_COLUMNS \
	"p.repo, NULL::text, NULL::integer, p.reason, " PAUSE_AT
#define TARGET_PAUSE_COLUMNS \
	"p.repo, p.target_type, p.target_number, p.reason, " PAUSE_AT

enum pause_col {
	PAUSE_REPO,
	PAUSE_TARGET_TYPE,
	PAUSE_TARGET_NUMBER,
	PAUSE_REASON,
	PAUSE_PAUSED_AT,
	PAUSE_NCOLS
};

/* $1 repository, $2 reason or NULL. */
static const char pause_repo_sql[] =
    "INSERT INTO paused_repos AS p (repo_key, repo, reason) "
    "VALUES (lower($1::text), $1::text, $2::text) "
    "ON CONFLICT (repo_key) DO UPDATE "
    "    SET reason = coalesce(EXCLUDED.reason, p.reason) "
    "RETURNING " REPO_PAUSE_COLUMNS;

/* $1 repository, $2 target type, $3 number, $4 reason or NULL. */
static const char pause_target_sql[] =
    "INSERT INTO paused_run_targets AS p (repo_key, target_type, "
    "    target_number, repo, reason) "
    "VALUES (lower($1::text), $2::text, $3::integer, $1::text, $4::text) "
    "ON CONFLICT (repo_key, target_type, target_number) DO UPDATE "
    "    SET reason = coalesce(EXCLUDED.reason, p.reason) "
    "RETURNING " TARGET_PAUSE_COLUMNS;

/*
 * The removal and the wake-up in one statement: the data-modifying CTE
 * runs whether or not its rows are read, and each row it removed sends
 * one notification.
 */
static const char resume_repo_sql[] =
    "WITH gone AS ("
    "    DELETE FROM paused_repos WHERE repo_key = lower($1::text) "
    "    RETURNING repo_key) "
    "SELECT pg_notify('" CHANNEL_QUEUED "', repo_key) FROM gone";

static const char resume_target_sql[] =
    "WITH gone AS ("
    "    DELETE FROM paused_run_targets "
    "    WHERE repo_key = lower($1::text) AND target_type = $2::text AND "
    "        target_number = $3::integer "
    "    RETURNING repo_key) "
    "SELECT pg_notify('" CHANNEL_QUEUED "', repo_key) FROM gone";

/*
 * Both kinds of pause: is_target first, then the pause's columns (as
 * enum pause_col, from column 1), then the key the order needs.
 */
static const char paused_sql[] =
    "SELECT false AS is_target, " REPO_PAUSE_COLUMNS " AS paused_ms, "
    "    p.repo_key, NULL::text AS type_order, NULL::integer AS num_order "
    "FROM paused_repos p "
    "UNION ALL "
    "SELECT true, " TARGET_PAUSE_COLUMNS ", p.repo_key, p.target_type, "
    "    p.target_number "
    "FROM paused_run_targets p "
    "ORDER BY is_target, paused_ms, repo_key, type_order, num_order";

#define PAUSED_IS_TARGET	0
#define PAUSED_BASE		1

/* $1 repository, $2 limit, $3 window in seconds. */
static const char set_limit_sql[] =
    "INSERT INTO rate_limits AS l (repo_key, repo, \"limit\", "
    "    window_seconds) "
    "VALUES (lower($1::text), $1::text, $2::integer, $3::integer) "
    "ON CONFLICT (repo_key) DO UPDATE "
    "    SET repo = EXCLUDED.repo, \"limit\" = EXCLUDED.\"limit\", "
    "        window_seconds = EXCLUDED.window_seconds, updated_at = now() "
    "RETURNING l.repo, l.\"limit\", l.window_seconds, "
    "    floor(extract(epoch FROM l.updated_at) * 1000)::bigint";

static const char remove_limit_sql[] =
    "DELETE FROM rate_limits WHERE repo_key = lower($1::text)";

/*
 * Reads the pause in the PAUSE_NCOLS columns of row starting at base,
 * its strings copied into the arena.
 */
static enum gt_err
read_pause(const char *op, struct arena *a, const PGresult *res, int row,
    int base, struct pause *out)
{
	int64_t	 n;

	memset(out, 0, sizeof(*out));
	if (PQnfields(res) < base + PAUSE_NCOLS)
		return pgrow_bad(op, "count");
	if (PQgetisnull(res, row, base + PAUSE_REPO))
		return pgrow_bad(op, "repo");
	if (pgrow_i64(res, row, base + PAUSE_PAUSED_AT, &out->paused_at_ms) !=
	    0)
		return pgrow_bad(op, "paused_at");

	if (!PQgetisnull(res, row, base + PAUSE_TARGET_TYPE)) {
		if (target_type_parse(PQgetvalue(res, row,
		    base + PAUSE_TARGET_TYPE), &out->key.target_type) == -1)
			return pgrow_bad(op, "target_type");
		if (pgrow_i64(res, row, base + PAUSE_TARGET_NUMBER, &n) != 0 ||
		    !target_number_valid(n))
			return pgrow_bad(op, "target_number");
		out->key.has_target = 1;
		out->key.target_number = (int32_t)n;
	}

	if (pgrow_text(a, res, row, base + PAUSE_REPO, &out->key.repo) !=
	    GT_OK || pgrow_text(a, res, row, base + PAUSE_REASON,
	    &out->reason) != GT_OK)
		return GT_ERR_NOMEM;
	return GT_OK;
}

static enum gt_err
pg_pause(void *ctx, struct arena *a, const struct pause_key *key,
    const char *reason, struct pause *out)
{
	char		 num[16];
	const char	*params[4];
	PGresult	*res;
	enum gt_err	 e;

	params[0] = key->repo;
	if (key->has_target) {
		if ((params[1] = target_type_name(key->target_type)) == NULL)
			return GT_ERR_INVALID;
		snprintf(num, sizeof(num), "%" PRId32, key->target_number);
		params[2] = num;
		params[3] = reason;
		res = pg_store_exec(ctx, pause_target_sql, 4, params);
	} else {
		params[1] = reason;
		res = pg_store_exec(ctx, pause_repo_sql, 2, params);
	}

	if ((e = pgrow_check("pause", res, PGRES_TUPLES_OK)) != GT_OK)
		goto out_clear;
	if (PQntuples(res) != 1) {
		e = pgrow_bad("pause", "rows");
		goto out_clear;
	}
	e = read_pause("pause", a, res, 0, 0, out);

out_clear:
	PQclear(res);
	return e;
}

static enum gt_err
pg_resume(void *ctx, const struct pause_key *key)
{
	char		 num[16];
	const char	*params[3];
	PGresult	*res;
	enum gt_err	 e;

	params[0] = key->repo;
	if (key->has_target) {
		if ((params[1] = target_type_name(key->target_type)) == NULL)
			return GT_ERR_INVALID;
		snprintf(num, sizeof(num), "%" PRId32, key->target_number);
		params[2] = num;
		res = pg_store_exec(ctx, resume_target_sql, 3, params);
	} else
		res = pg_store_exec(ctx, resume_repo_sql, 1, params);

	e = pgrow_check("resume", res, PGRES_TUPLES_OK);
	PQclear(res);
	return e;
}

static enum gt_err
pg_paused(void *ctx, struct arena *a, struct pause **repos, size_t *nrepos,
    struct pause **targets, size_t *ntargets)
{
	PGresult	*res;
	struct pause	*all = NULL, *p;
	enum gt_err	 e;
	size_t		 nr = 0;
	int		 i, rows, is_target;

	*repos = *targets = NULL;
	*nrepos = *ntargets = 0;
	res = pg_store_exec(ctx, paused_sql, 0, NULL);
	if ((e = pgrow_check("paused", res, PGRES_TUPLES_OK)) != GT_OK)
		goto out_clear;
	if ((rows = PQntuples(res)) == 0)
		goto out_clear;
	if ((all = arena_calloc(a, (size_t)rows, sizeof(*all))) == NULL) {
		e = GT_ERR_NOMEM;
		goto out_clear;
	}

	/* The repositories come first: one array, split where they end. */
	for (i = 0; i < rows; i++) {
		p = &all[i];
		if (pgrow_bool(res, i, PAUSED_IS_TARGET, &is_target) == -1) {
			e = pgrow_bad("paused", "is_target");
			goto out_clear;
		}
		if ((e = read_pause("paused", a, res, i, PAUSED_BASE, p)) !=
		    GT_OK)
			goto out_clear;
		if (is_target != p->key.has_target ||
		    (!is_target && (size_t)i != nr)) {
			e = pgrow_bad("paused", "order");
			goto out_clear;
		}
		if (!is_target)
			nr++;
	}
	*repos = all;
	*nrepos = nr;
	*targets = all + nr;
	*ntargets = (size_t)rows - nr;

out_clear:
	PQclear(res);
	return e;
}

static enum gt_err
pg_set_limit(void *ctx, struct arena *a, const char *repo, int64_t limit,
    int64_t window_s, struct limit_override *out)
{
	char			 lim[24], win[24];
	const char *const	 params[] = { repo, lim, win };
	PGresult		*res;
	enum gt_err		 e;

	memset(out, 0, sizeof(*out));
	snprintf(lim, sizeof(lim), "%" PRId64, limit);
	snprintf(win, sizeof(win), "%" PRId64, window_s);
	res = pg_store_exec(ctx, set_limit_sql, (int)NELEM(params), params);
	if ((e = pgrow_check("set_limit", res, PGRES_TUPLES_OK)) != GT_OK)
		goto out_clear;
	if (PQntuples(res) != 1 || PQgetisnull(res, 0, 0) ||
	    pgrow_i64(res, 0, 1, &out->limit) != 0 ||
	    pgrow_i64(res, 0, 2, &out->window_s) != 0 ||
	    pgrow_i64(res, 0, 3, &out->updated_at_ms) != 0) {
		e = pgrow_bad("set_limit", "override");
		goto out_clear;
	}
	e = pgrow_text(a, res, 0, 0, &out->repo);

out_clear:
	PQclear(res);
	return e;
}

static enum gt_err
pg_remove_limit(void *ctx, const char *repo)
{
	const char *const	 params[] = { repo };
	PGresult		*res;
	enum gt_err		 e;

	res = pg_store_exec(ctx, remove_limit_sql, 1, params);
	e = pgrow_check("remove_limit", res, PGRES_COMMAND_OK);
	PQclear(res);
	return e;
}

void
admin_pg_port(struct pg_store *s, struct admin_store *out)
{
	memset(out, 0, sizeof(*out));
	out->ctx = s;
	out->pause = pg_pause;
	out->resume = pg_resume;
	out->paused = pg_paused;
	out->set_limit = pg_set_limit;
	out->remove_limit = pg_remove_limit;
}
