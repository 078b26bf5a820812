/*
 * redelivery_pg.c: what the redelivery reconciler knows, in PostgreSQL.
 */
#include <config.h>	/* the build's, not infra/config.h */

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <libpq-fe.h>

#include "domain/arena.h"
#include "domain/buf.h"
#include "domain/jsonw.h"
#include "infra/pg_rows.h"
#include "infra/pg_store.h"
#include "infra/redelivery_pg.h"

/*
 * For each guid of the JSON array $1, in order: whether the webhook
 * recorded it or a redelivery was asked for it.  The guids come from
 * GitHub: they travel as a JSON text, which jsonw escapes, rather than
 * as an array literal that would need quoting rules of its own.
 */
static const char known_sql[] =
    "SELECT EXISTS (SELECT 1 FROM webhook_deliveries "
    "        WHERE delivery_id = g) OR "
    "    EXISTS (SELECT 1 FROM webhook_redeliveries WHERE guid = g) "
    "FROM jsonb_array_elements_text($1::jsonb) WITH ORDINALITY AS u (g, i) "
    "ORDER BY i";

static const char asked_sql[] =
    "INSERT INTO webhook_redeliveries (guid, hook_delivery_id) "
    "VALUES ($1, $2::bigint) ON CONFLICT (guid) DO NOTHING";

static enum gt_err
store_known(void *ctx, struct arena *a, const char *const *guids, size_t n,
    int **known)
{
	struct buf		 b;
	struct jsonw		 w;
	const char		*params[1];
	PGresult		*res = NULL;
	enum gt_err		 e;
	size_t			 i;
	int			*k;

	*known = NULL;
	if ((k = arena_calloc(a, n > 0 ? n : 1, sizeof(*k))) == NULL)
		return GT_ERR_NOMEM;
	if (n == 0) {
		*known = k;
		return GT_OK;
	}
	buf_init(&b);
	jw_init(&w, &b);
	jw_array_open(&w);
	for (i = 0; i < n; i++)
		jw_string(&w, guids[i]);
	jw_array_close(&w);
	if (!jw_ok(&w)) {
		e = GT_ERR_NOMEM;
		goto out_free;
	}
	params[0] = b.data;
	res = pg_store_exec(ctx, known_sql, 1, params);
	if ((e = pgrow_check("redelivery_known", res, PGRES_TUPLES_OK)) !=
	    GT_OK)
		goto out_free;
	if ((size_t)PQntuples(res) != n) {
		e = pgrow_bad("redelivery_known", "rows");
		goto out_free;
	}
	for (i = 0; i < n; i++)
		if (pgrow_bool(res, (int)i, 0, &k[i]) == -1) {
			e = pgrow_bad("redelivery_known", "known");
			goto out_free;
		}
	*known = k;

out_free:
	PQclear(res);
	buf_free(&b);
	return e;
}

static enum gt_err
store_asked(void *ctx, const char *guid, int64_t id)
{
	char			 idtext[24];
	const char *const	 params[] = { guid, idtext };
	PGresult		*res;
	enum gt_err		 e;

	if (guid == NULL || id <= 0)
		return GT_ERR_INVALID;
	snprintf(idtext, sizeof(idtext), "%" PRId64, id);
	res = pg_store_exec(ctx, asked_sql, 2, params);
	e = pgrow_check("redelivery_asked", res, PGRES_COMMAND_OK);
	PQclear(res);
	return e;
}

void
redelivery_pg_port(struct pg_store *s, struct redelivery_store *out)
{
	memset(out, 0, sizeof(*out));
	out->ctx = s;
	out->known = store_known;
	out->asked = store_asked;
}
