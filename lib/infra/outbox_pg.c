/*
 * outbox_pg.c: the outbox table in PostgreSQL.
 */
#include <config.h>	/* the build's, not infra/config.h */

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <libpq-fe.h>

#include "domain/arena.h"
#include "domain/json.h"
#include "domain/run.h"
#include "infra/log.h"
#include "infra/outbox_pg.h"
#include "infra/pg_rows.h"
#include "infra/pg_store.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

/*
 * Claims up to $1 due rows and leases them for $2 seconds; each comes
 * with its run's columns (NULL without a run).
 */
static const char claim_sql[] =
    "WITH due AS ("
    "    SELECT id FROM github_outbox "
    "    WHERE status = 'pending' AND next_attempt_at <= now() "
    "    ORDER BY next_attempt_at, id LIMIT $1::integer "
    "    FOR UPDATE SKIP LOCKED), "
    "leased AS ("
    "    UPDATE github_outbox o "
    "    SET next_attempt_at = now() + $2::bigint * interval '1 second' "
    "    FROM due WHERE o.id = due.id "
    "    RETURNING o.id, o.kind, o.repo, o.installation_id, o.attempts, "
    "        o.payload::text, o.run_id, o.created_at) "
    "SELECT l.id, l.kind, l.repo, l.installation_id, l.attempts, "
    "    l.payload, r.* "
    "FROM leased l LEFT JOIN LATERAL (SELECT " PGROW_RUN_COLUMNS " "
    "    FROM runs WHERE runs.id = l.run_id) r ON true "
    "ORDER BY l.created_at, l.id";

enum claim_col {
	CL_ID,
	CL_KIND,
	CL_REPO,
	CL_INSTALLATION,
	CL_ATTEMPTS,
	CL_PAYLOAD,
	CL_RUN			/* the run's columns start here */
};

static const char sent_sql[] =
    "UPDATE github_outbox SET status = 'sent', sent_at = now(), "
    "    attempts = attempts + 1, last_error = NULL "
    "WHERE id = $1::bigint AND status = 'pending'";

static const char retry_sql[] =
    "UPDATE github_outbox SET attempts = attempts + 1, "
    "    next_attempt_at = now() + $2::bigint * interval '1 second', "
    "    last_error = $3 "
    "WHERE id = $1::bigint AND status = 'pending'";

static const char defer_sql[] =
    "UPDATE github_outbox "
    "SET next_attempt_at = now() + $2::bigint * interval '1 second' "
    "WHERE id = $1::bigint AND status = 'pending'";

static const char failed_sql[] =
    "UPDATE github_outbox SET status = 'failed', "
    "    attempts = attempts + 1, last_error = $2 "
    "WHERE id = $1::bigint AND status = 'pending'";

/* Runs an UPDATE of one row by id. */
static enum gt_err
update(struct pg_store *s, const char *op, const char *sql, int64_t id,
    const char *p2, const char *p3)
{
	char		 idtext[24];
	const char	*params[] = { idtext, p2, p3 };
	PGresult	*res;
	enum gt_err	 e;

	snprintf(idtext, sizeof(idtext), "%" PRId64, id);
	res = pg_store_exec(s, sql, p3 != NULL ? 3 : p2 != NULL ? 2 : 1,
	    params);
	e = pgrow_check(op, res, PGRES_COMMAND_OK);
	PQclear(res);
	return e;
}

/* An integer member of o within [min, max]; -1 when absent or not one. */
static int
int_member(const struct json *o, const char *key, int64_t min, int64_t max,
    int64_t *out)
{
	return json_int(json_get(o, key), min, max, out);
}

static const char *
string_member(const struct json *o, const char *key)
{
	const struct json	*j = json_get(o, key);

	return j != NULL && j->type == JSON_STRING ? j->str : NULL;
}

/* Reads the payload of an item of its kind; -1 when it does not read. */
static int
read_payload(struct arena *a, const char *text, struct outbox_item *it)
{
	const struct json	*root, *target;
	enum json_error		 je;
	int64_t			 n;

	root = json_parse(a, text, strlen(text), &je);
	if (root == NULL || root->type != JSON_OBJECT)
		return -1;
	switch (it->kind) {
	case OUTBOX_REACTION:
		it->comment_kind = string_member(root, "comment_kind");
		it->content = string_member(root, "content");
		return int_member(root, "comment_id", 1, INT64_MAX,
		    &it->comment_id) == -1 || it->comment_kind == NULL ||
		    it->content == NULL ? -1 : 0;
	case OUTBOX_REPLY:
	case OUTBOX_OUTCOME:
		target = json_get(root, "target");
		if (int_member(target, "number", 1, TARGET_NUMBER_MAX,
		    &n) == -1)
			return -1;
		it->target_number = (int32_t)n;
		if (it->kind == OUTBOX_OUTCOME)
			return it->has_run ? 0 : -1;
		it->reason = string_member(root, "reason");
		it->login = string_member(root, "requested_by");
		if (json_get(root, "retry_after_s") != NULL &&
		    int_member(root, "retry_after_s", 0, INT64_MAX,
		    &it->retry_after_s) == -1)
			return -1;
		return it->reason == NULL ? -1 : 0;
	}
	return -1;
}

/* Reads row i; 1 when the row is unusable and was marked failed. */
static int
read_item(struct pg_store *s, struct arena *a, const PGresult *res,
    int row, struct outbox_item *it, enum gt_err *e)
{
	const char	*kind = PQgetvalue(res, row, CL_KIND);
	int64_t		 n;
	int		 rc;

	memset(it, 0, sizeof(*it));
	*e = GT_OK;
	if (pgrow_i64(res, row, CL_ID, &it->id) != 0 ||
	    pgrow_i64(res, row, CL_ATTEMPTS, &n) != 0 || n < 0 ||
	    n > INT32_MAX) {
		*e = pgrow_bad("outbox_claim", "id");
		return 0;
	}
	it->attempts = (int)n;
	if ((rc = pgrow_i64(res, row, CL_INSTALLATION,
	    &it->installation_id)) == -1) {
		*e = pgrow_bad("outbox_claim", "installation_id");
		return 0;
	}
	if (rc == 1)
		it->installation_id = 0;
	if ((*e = pgrow_text(a, res, row, CL_REPO, &it->repo)) != GT_OK)
		return 0;
	if (!PQgetisnull(res, row, CL_RUN)) {
		if ((*e = pgrow_run("outbox_claim", a, res, row, CL_RUN,
		    &it->run)) != GT_OK)
			return 0;
		it->has_run = 1;
	}

	if (strcmp(kind, "reaction") == 0)
		it->kind = OUTBOX_REACTION;
	else if (strcmp(kind, "reply") == 0)
		it->kind = OUTBOX_REPLY;
	else if (strcmp(kind, "outcome") == 0)
		it->kind = OUTBOX_OUTCOME;
	else
		goto out_unusable;
	if (read_payload(a, PQgetvalue(res, row, CL_PAYLOAD), it) == -1)
		goto out_unusable;
	return 0;

out_unusable:
	log_event(LOG_ERROR, "outbox_unusable", "kind", kind, NULL);
	*e = update(s, "outbox_failed", failed_sql, it->id,
	    "the payload does not read as its kind", NULL);
	return 1;
}

static enum gt_err
outbox_claim(void *ctx, struct arena *a, size_t max, int64_t lease_s,
    struct outbox_item **items, size_t *n)
{
	struct pg_store		*s = ctx;
	char			 maxtext[24], lease[24];
	const char *const	 params[] = { maxtext, lease };
	struct outbox_item	*its;
	PGresult		*res;
	enum gt_err		 e;
	int			 row, rows;
	size_t			 k = 0;

	*items = NULL;
	*n = 0;
	if (max < 1 || max > 1000 || lease_s < 1)
		return GT_ERR_INVALID;
	snprintf(maxtext, sizeof(maxtext), "%zu", max);
	snprintf(lease, sizeof(lease), "%" PRId64, lease_s);

	res = pg_store_exec(s, claim_sql, (int)NELEM(params), params);
	if ((e = pgrow_check("outbox_claim", res, PGRES_TUPLES_OK)) != GT_OK ||
	    (rows = PQntuples(res)) == 0)
		goto out_clear;
	if ((its = arena_calloc(a, (size_t)rows, sizeof(*its))) == NULL) {
		e = GT_ERR_NOMEM;
		goto out_clear;
	}
	for (row = 0; row < rows; row++) {
		if (read_item(s, a, res, row, &its[k], &e) == 0 && e == GT_OK)
			k++;
		else if (e != GT_OK)
			goto out_clear;
	}
	*items = its;
	*n = k;

out_clear:
	PQclear(res);
	return e;
}

static enum gt_err
outbox_sent(void *ctx, int64_t id)
{
	return update(ctx, "outbox_sent", sent_sql, id, NULL, NULL);
}

static enum gt_err
outbox_retry(void *ctx, int64_t id, int64_t delay_s, const char *error)
{
	char	 delay[24];

	snprintf(delay, sizeof(delay), "%" PRId64, delay_s < 0 ? 0 : delay_s);
	return update(ctx, "outbox_retry", retry_sql, id, delay,
	    error != NULL ? error : "");
}

static enum gt_err
outbox_defer(void *ctx, int64_t id, int64_t delay_s)
{
	char	 delay[24];

	snprintf(delay, sizeof(delay), "%" PRId64, delay_s < 0 ? 0 : delay_s);
	return update(ctx, "outbox_defer", defer_sql, id, delay, NULL);
}

static enum gt_err
outbox_failed(void *ctx, int64_t id, const char *error)
{
	return update(ctx, "outbox_failed", failed_sql, id,
	    error != NULL ? error : "", NULL);
}

void
outbox_pg_port(struct pg_store *s, struct outbox_store *out)
{
	memset(out, 0, sizeof(*out));
	out->ctx = s;
	out->claim = outbox_claim;
	out->sent = outbox_sent;
	out->retry = outbox_retry;
	out->defer = outbox_defer;
	out->failed = outbox_failed;
}
