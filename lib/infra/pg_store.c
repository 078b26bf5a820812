/*
 * pg_store.c: a PostgreSQL adapter's connection and statement timeout.
 */
#include <config.h>	/* the build's, not infra/config.h */

#include <assert.h>
#include <stdlib.h>

#include <libpq-fe.h>

#include "infra/pg.h"
#include "infra/pg_store.h"

struct pg_store {
	struct pgconn	*pc;		/* borrowed */
	int		 timeout_ms;	/* per statement */
};

struct pg_store *
pg_store_new(struct pgconn *pc, int timeout_ms)
{
	struct pg_store	*s;

	assert(pc != NULL && timeout_ms > 0);
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	s->pc = pc;
	s->timeout_ms = timeout_ms;
	return s;
}

void
pg_store_free(struct pg_store *s)
{
	free(s);
}

PGresult *
pg_store_exec(const struct pg_store *s, const char *sql, int n,
    const char *const *params)
{
	return pgconn_exec(s->pc, sql, n, params, s->timeout_ms);
}

PGresult *
pg_store_exec_generic(const struct pg_store *s, const char *sql, int n,
    const char *const *params)
{
	return pgconn_exec_generic(s->pc, sql, n, params, s->timeout_ms);
}

PGconn *
pg_store_conn(const struct pg_store *s)
{
	return pgconn_get(s->pc, s->timeout_ms);
}

void
pg_store_reset(const struct pg_store *s)
{
	pgconn_reset(s->pc);
}
