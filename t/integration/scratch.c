/*
 * scratch.c: scratch PostgreSQL databases for the integration tests.
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>
#include <libpq-fe.h>

#include "infra/config.h"
#include "infra/migrate.h"
#include "infra/pg.h"
#include "integration/scratch.h"

struct scratch_db	 scratch;

static const char	*db_url;
static const char	*db_prefix;
static char		 sql_dir[4096];
static long		 runner_pid;

int
scratch_init(const char *prog, const char *prefix)
{
	const char	*srcdir;
	int		 n;

	db_url = getenv("GT_DATABASE_URL");
	srcdir = getenv("GT_SRCDIR");
	if (db_url == NULL || *db_url == '\0') {
		fprintf(stderr, "%s: GT_DATABASE_URL is not set: it must be "
		    "the conninfo of a PostgreSQL server to test against\n",
		    prog);
		return -1;
	}
	if (srcdir == NULL || *srcdir == '\0') {
		fprintf(stderr, "%s: GT_SRCDIR is not set: it must be the "
		    "source tree, holding sql/\n", prog);
		return -1;
	}
	n = snprintf(sql_dir, sizeof(sql_dir), "%s/sql", srcdir);
	if (n < 0 || (size_t)n >= sizeof(sql_dir)) {
		fprintf(stderr, "%s: GT_SRCDIR is too long\n", prog);
		return -1;
	}
	db_prefix = prefix;
	runner_pid = (long)getpid();
	return 0;
}

void
scratch_create(void)
{
	char	 sql[128], err[512];

	snprintf(scratch.name, sizeof(scratch.name), "%s_%ld_%ld",
	    db_prefix, runner_pid, (long)getpid());
	snprintf(sql, sizeof(sql), "CREATE DATABASE %s", scratch.name);
	scratch_server_exec(sql);
	scratch.url = scratch_url_for(scratch.name);
	scratch.side = scratch_connect(scratch.url);
	ck_assert_msg(migrate_apply(scratch.side, sql_dir, NULL, err,
	    sizeof(err)) == 0, "%s", err);
}

void
scratch_drop(void)
{
	char	 sql[128];

	PQfinish(scratch.side);
	scratch.side = NULL;
	free(scratch.url);
	scratch.url = NULL;
	snprintf(sql, sizeof(sql), "DROP DATABASE %s WITH (FORCE)",
	    scratch.name);
	scratch_server_exec(sql);
}

void
scratch_drop_all(void)
{
	PGconn		*c = scratch_connect(db_url);
	PGresult	*res;
	char		 like[64], sql[160];
	const char	*p;
	size_t		 n = 0;
	int		 i;

	/* LIKE takes '_' for any character: escape the prefix's own. */
	for (p = db_prefix; *p != '\0'; p++) {
		ck_assert_uint_lt(n + 2, sizeof(like));
		if (*p == '_')
			like[n++] = '\\';
		like[n++] = *p;
	}
	like[n] = '\0';

	snprintf(sql, sizeof(sql), "SELECT datname FROM pg_database WHERE "
	    "datname LIKE '%s\\_%ld\\_%%'", like, runner_pid);
	res = PQexec(c, sql);
	ck_assert_int_eq(PQresultStatus(res), PGRES_TUPLES_OK);
	for (i = 0; i < PQntuples(res); i++) {
		snprintf(sql, sizeof(sql), "DROP DATABASE %s WITH (FORCE)",
		    PQgetvalue(res, i, 0));
		scratch_must(c, sql);
	}
	PQclear(res);
	PQfinish(c);
}

char *
scratch_url_for(const char *name)
{
	PQconninfoOption	*opts, *o;
	const char		*v;
	char			*text = NULL, *err = NULL;
	size_t			 len;
	FILE			*f;

	opts = PQconninfoParse(db_url, &err);
	ck_assert_msg(opts != NULL, "GT_DATABASE_URL: %s", err);
	ck_assert_ptr_nonnull(f = open_memstream(&text, &len));
	for (o = opts; o->keyword != NULL; o++) {
		if (o->val == NULL || strcmp(o->keyword, "dbname") == 0)
			continue;
		fprintf(f, "%s='", o->keyword);
		for (v = o->val; *v != '\0'; v++) {
			if (*v == '\'' || *v == '\\')
				fputc('\\', f);
			fputc(*v, f);
		}
		fputs("' ", f);
	}
	fprintf(f, "dbname='%s'", name);
	ck_assert_int_eq(fclose(f), 0);
	PQconninfoFree(opts);
	return text;
}

PGconn *
scratch_connect(const char *conninfo)
{
	PGconn	*c = PQconnectdb(conninfo);

	ck_assert_msg(PQstatus(c) == CONNECTION_OK, "cannot connect: %s",
	    PQerrorMessage(c));
	return c;
}

PGresult *
scratch_must_p(PGconn *c, const char *sql, int n, const char *const *params)
{
	PGresult	*res = PQexecParams(c, sql, n, NULL, params, NULL,
	    NULL, 0);

	ck_assert_msg(PQresultStatus(res) == PGRES_COMMAND_OK ||
	    PQresultStatus(res) == PGRES_TUPLES_OK, "%s: %s", sql,
	    PQresultErrorMessage(res));
	return res;
}

void
scratch_must(PGconn *c, const char *sql)
{
	PQclear(scratch_must_p(c, sql, 0, NULL));
}

void
scratch_server_exec(const char *sql)
{
	PGconn	*c = scratch_connect(db_url);

	scratch_must(c, sql);
	PQfinish(c);
}

char *
scratch_value_p(const char *sql, int n, const char *const *params)
{
	PGresult	*res = scratch_must_p(scratch.side, sql, n, params);
	char		*v;

	ck_assert_int_eq(PQntuples(res), 1);
	v = strdup(PQgetisnull(res, 0, 0) ? "(null)" : PQgetvalue(res, 0, 0));
	ck_assert_ptr_nonnull(v);
	PQclear(res);
	return v;
}

void
scratch_value_is_p(const char *sql, int n, const char *const *params,
    const char *want)
{
	char	*v = scratch_value_p(sql, n, params);

	ck_assert_msg(strcmp(v, want) == 0, "%s: got %s, want %s", sql, v,
	    want);
	free(v);
}

void
scratch_value_is(const char *sql, const char *want)
{
	scratch_value_is_p(sql, 0, NULL, want);
}

struct pgconn *
scratch_handle(const char *conninfo, int timeout_ms)
{
	struct config	 cfg;
	struct pgconn	*h;

	memset(&cfg, 0, sizeof(cfg));
	ck_assert_ptr_nonnull(cfg.database_url = strdup(conninfo));
	cfg.db_connect_timeout_ms = timeout_ms;
	cfg.statement_timeout_ms = 2 * timeout_ms;
	ck_assert_ptr_nonnull(h = pgconn_new(&cfg));
	free(cfg.database_url);
	return h;
}
