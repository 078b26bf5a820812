/*
 * scratch.h: scratch PostgreSQL databases for the integration tests.
 *
 * The server is GT_DATABASE_URL and the migrations are in $GT_SRCDIR/sql.
 * Each test works in a database of its own, <prefix>_<runner pid>_<test
 * pid>, created and migrated by scratch_create() and dropped by
 * scratch_drop(); scratch_drop_all(), an unchecked teardown, drops what
 * a failed test left.  Every function asserts with Check, so a test
 * stops at the first thing that is not as it should be.
 */
#ifndef GT_TEST_SCRATCH_H
#define GT_TEST_SCRATCH_H

#include <libpq-fe.h>

struct pgconn;

/* The running test's database, from scratch_create() to scratch_drop(). */
struct scratch_db {
	char	 name[64];
	char	*url;		/* its conninfo */
	PGconn	*side;		/* a plain libpq connection to it */
};

extern struct scratch_db scratch;

/*
 * Reads GT_DATABASE_URL and GT_SRCDIR and remembers the database name
 * prefix, such as "gt_store_test".  Returns 0, or -1 after telling
 * stderr, as prog, what is missing.  Call it once, from main().
 */
int		 scratch_init(const char *prog, const char *prefix);

/* Creates and migrates the test's database and fills in scratch. */
void		 scratch_create(void);

/* Closes scratch.side, frees scratch.url and drops the database. */
void		 scratch_drop(void);

/* Drops every database this run made; fine when there is none. */
void		 scratch_drop_all(void);

/* A conninfo of the server for the database name; the caller frees. */
char		*scratch_url_for(const char *name);

/* A connection on conninfo, which must succeed; the caller finishes. */
PGconn		*scratch_connect(const char *conninfo);

/*
 * Runs sql with n parameters on c; it must succeed.  Returns the result,
 * which the caller clears.
 */
PGresult	*scratch_must_p(PGconn *c, const char *sql, int n,
		    const char *const *params);

/* Runs sql on c; it must succeed. */
void		 scratch_must(PGconn *c, const char *sql);

/* Runs sql on the server's own database, over a connection of its own. */
void		 scratch_server_exec(const char *sql);

/*
 * The one value a query on scratch.side answers, "(null)" for NULL;
 * the caller frees it.
 */
char		*scratch_value_p(const char *sql, int n,
		    const char *const *params);

/* Asserts the one value a query on scratch.side answers is want. */
void		 scratch_value_is_p(const char *sql, int n,
		    const char *const *params, const char *want);
void		 scratch_value_is(const char *sql, const char *want);

/*
 * A worker's connection handle on conninfo, which connects within
 * timeout_ms and runs statements within twice that; the caller frees it
 * with pgconn_free().
 */
struct pgconn	*scratch_handle(const char *conninfo, int timeout_ms);

#endif
