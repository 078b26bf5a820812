/*
 * migrate.h: the schema migrations.
 *
 * Migrations are files named NNN_name.sql in one folder, applied in the
 * order of NNN, each once, each in its own transaction together with its
 * row in schema_migrations.  A transaction-scoped advisory lock serialises
 * concurrent runs (two hosts migrating at once): the second waits, then
 * finds the migration recorded and skips it.
 */
#ifndef GT_MIGRATE_H
#define GT_MIGRATE_H

#include <stdio.h>

#include <libpq-fe.h>

/*
 * Applies every pending migration in dir on conn, writing one line per
 * migration applied to out (which may be NULL).  Returns 0, or -1 with a
 * message in err naming the migration that failed (whose transaction was
 * rolled back; the ones before it stay applied).
 */
int	 migrate_apply(PGconn *conn, const char *dir, FILE *out, char *err,
	    size_t errlen);

/*
 * Writes one line per migration found in dir or recorded in the database:
 * its version, name, and "applied <time>" or "pending".  Returns the number
 * pending, or -1 with a message in err.
 */
int	 migrate_status(PGconn *conn, const char *dir, FILE *out, char *err,
	    size_t errlen);

#endif
