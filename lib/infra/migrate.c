/*
 * migrate.c: applying the schema migrations in sql/.
 *
 * Each migration runs in a transaction that first takes a
 * transaction-scoped advisory lock, then creates schema_migrations if it
 * is missing, then looks the migration up.  Everything after the lock is
 * serialised between processes: a second migrator waits for the first to
 * commit, then finds the migration recorded and skips it.  The lock goes
 * with the transaction, so a migrator that dies holds nothing.
 *
 * The file's text is sent with PQexec(), the simple query protocol, so
 * one file may hold many statements; they run inside the transaction and
 * must not end it.
 */
#include <config.h>	/* the build's, not infra/config.h beside this file */

#include <sys/stat.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "infra/migrate.h"

/*
 * The advisory lock's key: any constant works as long as nothing else in
 * the database uses it.  This one is "gtmigrat" read as a big-endian
 * 64-bit integer.
 */
#define MIGRATE_LOCK_SQL \
	"SELECT pg_advisory_xact_lock(7454703582679556468)"

#define MIGRATE_TABLE_SQL \
	"CREATE TABLE IF NOT EXISTS schema_migrations (" \
	" version integer PRIMARY KEY," \
	" name text NOT NULL," \
	" applied_at timestamptz NOT NULL DEFAULT now())"

/* A migration file is refused past this size. */
#define MIGRATE_MAX_BYTES	(16 * 1024 * 1024)

struct migration {
	int	 version;	/* NNN */
	char	*name;		/* the part between NNN_ and .sql */
	char	*file;		/* the file's name in the folder */
};

struct migrations {
	struct migration	*v;
	size_t			 n;
	size_t			 cap;
};

static void
migrations_free(struct migrations *ms)
{
	size_t	 i;

	for (i = 0; i < ms->n; i++) {
		free(ms->v[i].name);
		free(ms->v[i].file);
	}
	free(ms->v);
	ms->v = NULL;
	ms->n = ms->cap = 0;
}

/*
 * Reads a file name of the form NNN_name.sql: three digits, an
 * underscore, then lower-case letters, digits and underscores.  Returns
 * the version and the length of name, or -1 when the name is another
 * shape.
 */
static int
parse_file_name(const char *file, int *version, size_t *namelen)
{
	size_t	 len = strlen(file), i;

	if (len < 9 || strcmp(file + len - 4, ".sql") != 0)
		return -1;
	for (i = 0; i < 3; i++)
		if (!isdigit((unsigned char)file[i]))
			return -1;
	if (file[3] != '_')
		return -1;
	for (i = 4; i < len - 4; i++)
		if (!islower((unsigned char)file[i]) &&
		    !isdigit((unsigned char)file[i]) && file[i] != '_')
			return -1;
	*version = (file[0] - '0') * 100 + (file[1] - '0') * 10 +
	    (file[2] - '0');
	*namelen = len - 8;
	return 0;
}

/* Adds one migration; returns 0, or -1 when memory is short. */
static int
migrations_add(struct migrations *ms, const char *file, int version,
    size_t namelen)
{
	struct migration	*v, *m;
	size_t			 cap;

	if (ms->n == ms->cap) {
		cap = ms->cap ? ms->cap * 2 : 16;
		if ((v = reallocarray(ms->v, cap, sizeof(*v))) == NULL)
			return -1;
		ms->v = v;
		ms->cap = cap;
	}
	m = &ms->v[ms->n];
	m->version = version;
	m->name = strndup(file + 4, namelen);
	m->file = strdup(file);
	if (m->name == NULL || m->file == NULL) {
		free(m->name);
		free(m->file);
		return -1;
	}
	ms->n++;
	return 0;
}

static int
by_version(const void *a, const void *b)
{
	const struct migration	*ma = a, *mb = b;

	return (ma->version > mb->version) - (ma->version < mb->version);
}

/*
 * Lists the migrations in dir, in order of version, checking that the
 * versions run 1, 2, 3... without a gap or a duplicate.  Names starting
 * with a dot are passed over; any other name not of the form NNN_name.sql
 * is an error.  Returns 0, or -1 with a message in err.
 */
static int
scan_dir(const char *dir, struct migrations *ms, char *err, size_t errlen)
{
	DIR		*d;
	struct dirent	*de;
	size_t		 i, namelen;
	int		 version;

	if ((d = opendir(dir)) == NULL) {
		snprintf(err, errlen, "cannot open migrations folder %s: %s",
		    dir, strerror(errno));
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (parse_file_name(de->d_name, &version, &namelen) == -1) {
			snprintf(err, errlen, "bad migration file name %s: "
			    "expected NNN_name.sql", de->d_name);
			goto out_fail;
		}
		if (migrations_add(ms, de->d_name, version, namelen) == -1) {
			snprintf(err, errlen, "out of memory");
			goto out_fail;
		}
	}
	closedir(d);
	d = NULL;

	if (ms->n > 0)
		qsort(ms->v, ms->n, sizeof(ms->v[0]), by_version);
	for (i = 0; i < ms->n; i++) {
		if (i > 0 && ms->v[i].version == ms->v[i - 1].version) {
			snprintf(err, errlen, "duplicate migration version "
			    "%03d: %s and %s", ms->v[i].version,
			    ms->v[i - 1].file, ms->v[i].file);
			goto out_fail;
		}
		if (ms->v[i].version != (int)i + 1) {
			snprintf(err, errlen, "migration %03zu is missing "
			    "before %s", i + 1, ms->v[i].file);
			goto out_fail;
		}
	}
	return 0;

out_fail:
	if (d != NULL)
		closedir(d);
	migrations_free(ms);
	return -1;
}

/*
 * Reads a migration's text into a new string, which the caller frees.
 * Returns NULL with a message in err.
 */
static char *
read_text(const char *dir, const char *file, char *err, size_t errlen)
{
	char		 path[4096];
	struct stat	 st;
	char		*text = NULL;
	size_t		 got = 0;
	ssize_t		 n;
	int		 fd, len;

	len = snprintf(path, sizeof(path), "%s/%s", dir, file);
	if (len < 0 || (size_t)len >= sizeof(path)) {
		snprintf(err, errlen, "migration %s: path too long", file);
		return NULL;
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		snprintf(err, errlen, "cannot open %s: %s", path,
		    strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_size > MIGRATE_MAX_BYTES) {
		snprintf(err, errlen, "migration %s: not a regular file "
		    "of at most %d bytes", file, MIGRATE_MAX_BYTES);
		goto out_close;
	}
	if ((text = malloc((size_t)st.st_size + 1)) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto out_close;
	}
	while (got < (size_t)st.st_size) {
		n = read(fd, text + got, (size_t)st.st_size - got);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(err, errlen, "cannot read %s: %s", path,
			    n == 0 ? "file shrank" : strerror(errno));
			goto out_free_text;
		}
		got += (size_t)n;
	}
	text[got] = '\0';
	if (strlen(text) != got) {
		snprintf(err, errlen, "migration %s: holds a NUL byte", file);
		goto out_free_text;
	}
	close(fd);
	return text;

out_free_text:
	free(text);
	text = NULL;
out_close:
	close(fd);
	return NULL;
}

/* The server's message for a failed result, without its newline. */
static void
pg_message(PGconn *conn, const PGresult *res, char *out, size_t outlen)
{
	const char	*msg = NULL;
	size_t		 n;

	if (res != NULL)
		msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
	if (msg == NULL)
		msg = PQerrorMessage(conn);
	snprintf(out, outlen, "%s", msg);
	n = strlen(out);
	while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == ' '))
		out[--n] = '\0';
}

/*
 * Runs one statement that needs no parameters and expects the given
 * status.  Returns 0, or -1 with "<file>: <what>: <why>" in err.
 */
static int
exec_step(PGconn *conn, const char *sql, ExecStatusType want,
    const char *file, const char *what, char *err, size_t errlen)
{
	PGresult	*res;
	char		 msg[512];
	int		 rc = 0;

	res = PQexec(conn, sql);
	if (PQresultStatus(res) != want) {
		pg_message(conn, res, msg, sizeof(msg));
		snprintf(err, errlen, "migration %s: %s: %s", file, what, msg);
		rc = -1;
	}
	PQclear(res);
	return rc;
}

/*
 * The line of text that a 1-based character position (as the server
 * reports in an error) falls on, counting UTF-8 characters.
 */
static int
line_of(const char *text, const char *pos)
{
	long		 want;
	long		 chars = 0;
	int		 line = 1;
	char		*end;

	if (pos == NULL)
		return 0;
	want = strtol(pos, &end, 10);
	if (*end != '\0' || want < 1)
		return 0;
	for (; *text != '\0'; text++) {
		if (((unsigned char)*text & 0xc0) == 0x80)
			continue;
		if (++chars >= want)
			break;
		if (*text == '\n')
			line++;
	}
	return line;
}

/* Runs a migration file's text; returns 0, or -1 with a message in err. */
static int
exec_text(PGconn *conn, const struct migration *m, const char *text,
    char *err, size_t errlen)
{
	PGresult	*res;
	ExecStatusType	 st;
	char		 msg[512];
	int		 line, rc = -1;

	res = PQexec(conn, text);
	st = PQresultStatus(res);
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK &&
	    st != PGRES_EMPTY_QUERY) {
		pg_message(conn, res, msg, sizeof(msg));
		line = line_of(text, res == NULL ? NULL :
		    PQresultErrorField(res, PG_DIAG_STATEMENT_POSITION));
		if (line > 0)
			snprintf(err, errlen, "migration %s failed at line "
			    "%d: %s", m->file, line, msg);
		else
			snprintf(err, errlen, "migration %s failed: %s",
			    m->file, msg);
		goto out_clear;
	}
	if (PQtransactionStatus(conn) != PQTRANS_INTRANS) {
		snprintf(err, errlen, "migration %s ends its transaction: "
		    "remove its BEGIN, COMMIT or ROLLBACK", m->file);
		goto out_clear;
	}
	rc = 0;

out_clear:
	PQclear(res);
	return rc;
}

/*
 * Looks a migration up in schema_migrations.  Returns 1 when it is
 * recorded, 0 when not, -1 with a message in err (also when another
 * migration is recorded under its version).
 */
static int
recorded(PGconn *conn, const struct migration *m, char *err, size_t errlen)
{
	const char	*params[1];
	char		 version[16], msg[512];
	PGresult	*res;
	int		 rc = -1;

	snprintf(version, sizeof(version), "%d", m->version);
	params[0] = version;
	res = PQexecParams(conn,
	    "SELECT name FROM schema_migrations WHERE version = $1",
	    1, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		pg_message(conn, res, msg, sizeof(msg));
		snprintf(err, errlen, "migration %s: cannot read "
		    "schema_migrations: %s", m->file, msg);
		goto out_clear;
	}
	if (PQntuples(res) == 0) {
		rc = 0;
		goto out_clear;
	}
	if (strcmp(PQgetvalue(res, 0, 0), m->name) != 0) {
		snprintf(err, errlen, "migration %s: version %03d is "
		    "recorded as %s", m->file, m->version,
		    PQgetvalue(res, 0, 0));
		goto out_clear;
	}
	rc = 1;

out_clear:
	PQclear(res);
	return rc;
}

/* Records a migration as applied; returns 0, or -1 with err set. */
static int
record(PGconn *conn, const struct migration *m, char *err, size_t errlen)
{
	const char	*params[2];
	char		 version[16], msg[512];
	PGresult	*res;
	int		 rc = 0;

	snprintf(version, sizeof(version), "%d", m->version);
	params[0] = version;
	params[1] = m->name;
	res = PQexecParams(conn,
	    "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
	    2, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		pg_message(conn, res, msg, sizeof(msg));
		snprintf(err, errlen, "migration %s: cannot record it: %s",
		    m->file, msg);
		rc = -1;
	}
	PQclear(res);
	return rc;
}

/*
 * Applies one migration unless it is recorded.  Returns 1 when it was
 * applied, 0 when it was already, -1 with a message in err (the
 * transaction rolled back).
 */
static int
apply_one(PGconn *conn, const char *dir, const struct migration *m,
    char *err, size_t errlen)
{
	char	*text = NULL;
	int	 rc = -1, found;

	if (exec_step(conn, "BEGIN", PGRES_COMMAND_OK, m->file,
	    "cannot begin", err, errlen) == -1)
		goto out_rollback;

	/* CREATE TABLE IF NOT EXISTS tells, as a notice, what it skipped. */
	if (exec_step(conn, "SET LOCAL client_min_messages = warning",
	    PGRES_COMMAND_OK, m->file, "cannot quieten notices", err,
	    errlen) == -1)
		goto out_rollback;
	if (exec_step(conn, MIGRATE_LOCK_SQL, PGRES_TUPLES_OK, m->file,
	    "cannot take the migration lock", err, errlen) == -1)
		goto out_rollback;
	if (exec_step(conn, MIGRATE_TABLE_SQL, PGRES_COMMAND_OK, m->file,
	    "cannot create schema_migrations", err, errlen) == -1)
		goto out_rollback;

	if ((found = recorded(conn, m, err, errlen)) == -1)
		goto out_rollback;
	if (found) {
		rc = 0;
		goto out_rollback;
	}

	if ((text = read_text(dir, m->file, err, errlen)) == NULL)
		goto out_rollback;
	if (exec_text(conn, m, text, err, errlen) == -1)
		goto out_rollback;
	if (record(conn, m, err, errlen) == -1)
		goto out_rollback;
	if (exec_step(conn, "COMMIT", PGRES_COMMAND_OK, m->file,
	    "cannot commit", err, errlen) == -1)
		goto out_rollback;
	rc = 1;

out_rollback:
	/* Ends the transaction if it is still open; a no-op otherwise. */
	if (PQtransactionStatus(conn) != PQTRANS_IDLE)
		PQclear(PQexec(conn, "ROLLBACK"));
	free(text);
	return rc;
}

int
migrate_apply(PGconn *conn, const char *dir, FILE *out, char *err,
    size_t errlen)
{
	struct migrations	 ms = { NULL, 0, 0 };
	size_t			 i;
	int			 rc = -1, applied;

	if (scan_dir(dir, &ms, err, errlen) == -1)
		return -1;
	for (i = 0; i < ms.n; i++) {
		if ((applied = apply_one(conn, dir, &ms.v[i], err,
		    errlen)) == -1)
			goto out_free;
		if (applied && out != NULL)
			fprintf(out, "applied %s\n", ms.v[i].file);
	}
	rc = 0;

out_free:
	migrations_free(&ms);
	return rc;
}

/*
 * Reads schema_migrations: version, name and time applied, in order of
 * version, or no rows when the table does not exist yet.  Returns the
 * result, which the caller frees, or NULL with a message in err.
 */
static PGresult *
read_recorded(PGconn *conn, char *err, size_t errlen)
{
	PGresult	*res;
	char		 msg[512];
	int		 exists;

	res = PQexec(conn,
	    "SELECT to_regclass('schema_migrations') IS NOT NULL");
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1)
		goto out_fail;
	exists = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);

	res = PQexec(conn, exists ?
	    "SELECT version, name, to_char(applied_at AT TIME ZONE 'UTC', "
	    "'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') "
	    "FROM schema_migrations ORDER BY version" :
	    "SELECT NULL::integer, NULL::text, NULL::text WHERE false");
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		goto out_fail;
	return res;

out_fail:
	pg_message(conn, res, msg, sizeof(msg));
	snprintf(err, errlen, "cannot read schema_migrations: %s", msg);
	PQclear(res);
	return NULL;
}

int
migrate_status(PGconn *conn, const char *dir, FILE *out, char *err,
    size_t errlen)
{
	struct migrations	 ms = { NULL, 0, 0 };
	PGresult		*res;
	size_t			 i = 0;
	long			 rv, fv;
	int			 r = 0, nr, pending = 0;

	if (scan_dir(dir, &ms, err, errlen) == -1)
		return -1;
	if ((res = read_recorded(conn, err, errlen)) == NULL) {
		migrations_free(&ms);
		return -1;
	}

	/*
	 * Both lists are in order of version: walk them side by side.  A
	 * version recorded without a file was applied by a newer release.
	 */
	nr = PQntuples(res);
	while (i < ms.n || r < nr) {
		rv = r < nr ? strtol(PQgetvalue(res, r, 0), NULL, 10) :
		    LONG_MAX;
		fv = i < ms.n ? ms.v[i].version : LONG_MAX;
		if (rv <= fv) {
			if (out != NULL)
				fprintf(out, "%03ld %s applied %s%s\n", rv,
				    PQgetvalue(res, r, 1),
				    PQgetvalue(res, r, 2),
				    rv == fv ? "" : " (no file)");
			if (rv == fv)
				i++;
			r++;
		} else {
			if (out != NULL)
				fprintf(out, "%03ld %s pending\n", fv,
				    ms.v[i].name);
			pending++;
			i++;
		}
	}
	PQclear(res);
	migrations_free(&ms);
	return pending;
}
