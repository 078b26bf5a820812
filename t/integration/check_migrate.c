/*
 * check_migrate.c: the migrator and the first schema, against a real
 * PostgreSQL.
 *
 * The server is GT_DATABASE_URL and the migrations are in $GT_SRCDIR/sql;
 * without either the test fails.  Every test works in scratch databases
 * named gt_migrate_test_<pid>_..., which are dropped when their test case
 * ends (whether its tests passed or not); migration folders of the tests'
 * own are made under /tmp and removed.
 */
#include <config.h>

#include <sys/stat.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>
#include <libpq-fe.h>

#include "infra/migrate.h"

static const char	*db_url;
static char		 sql_dir[4096];
static long		 runner_pid;

/* The scratch database of the schema test case, migrated once. */
static char		 schema_db[64];

/* The scratch database of the running migrate test. */
static char		 fresh_db[64];

/* A connection to the server's own database, to create and drop others. */
static PGconn *
server_conn(void)
{
	PGconn	*c = PQconnectdb(db_url);

	ck_assert_msg(PQstatus(c) == CONNECTION_OK, "cannot connect: %s",
	    PQerrorMessage(c));
	return c;
}

/* A connection to the database name on the same server. */
static PGconn *
db_conn(const char *name)
{
	const char *const	 keys[] = { "dbname", "dbname", NULL };
	const char *const	 vals[] = { db_url, name, NULL };
	PGconn			*c = PQconnectdbParams(keys, vals, 1);

	ck_assert_msg(PQstatus(c) == CONNECTION_OK, "cannot connect to %s: %s",
	    name, PQerrorMessage(c));
	return c;
}

/* Runs sql (no parameters), which must succeed. */
static void
must(PGconn *c, const char *sql)
{
	PGresult	*res = PQexec(c, sql);

	ck_assert_msg(PQresultStatus(res) == PGRES_COMMAND_OK ||
	    PQresultStatus(res) == PGRES_TUPLES_OK, "%s: %s", sql,
	    PQresultErrorMessage(res));
	PQclear(res);
}

/* Runs a one-value query and returns the value, copied. */
static char *
value(PGconn *c, const char *sql)
{
	PGresult	*res = PQexec(c, sql);
	char		*v;

	ck_assert_msg(PQresultStatus(res) == PGRES_TUPLES_OK, "%s: %s", sql,
	    PQresultErrorMessage(res));
	ck_assert_int_eq(PQntuples(res), 1);
	v = strdup(PQgetvalue(res, 0, 0));
	ck_assert_ptr_nonnull(v);
	PQclear(res);
	return v;
}

/* Asserts that a one-value query answers want. */
static void
value_is(PGconn *c, const char *sql, const char *want)
{
	char	*v = value(c, sql);

	ck_assert_msg(strcmp(v, want) == 0, "%s: got %s, want %s", sql, v,
	    want);
	free(v);
}

static void
create_db(const char *name)
{
	PGconn	*c = server_conn();
	char	 sql[128];

	snprintf(sql, sizeof(sql), "CREATE DATABASE %s", name);
	must(c, sql);
	PQfinish(c);
}

/* Drops every scratch database this run made; fine when there is none. */
static void
drop_scratch_dbs(void)
{
	PGconn		*c = server_conn();
	PGresult	*res;
	char		 sql[160];
	int		 i;

	snprintf(sql, sizeof(sql), "SELECT datname FROM pg_database WHERE "
	    "datname LIKE 'gt\\_migrate\\_test\\_%ld\\_%%'", runner_pid);
	res = PQexec(c, sql);
	ck_assert_int_eq(PQresultStatus(res), PGRES_TUPLES_OK);
	for (i = 0; i < PQntuples(res); i++) {
		snprintf(sql, sizeof(sql), "DROP DATABASE %s WITH (FORCE)",
		    PQgetvalue(res, i, 0));
		must(c, sql);
	}
	PQclear(res);
	PQfinish(c);
}

/* The output a migrate function wrote, captured in memory. */
struct capture {
	FILE	*f;
	char	*text;
	size_t	 len;
};

static void
capture_open(struct capture *cap)
{
	cap->text = NULL;
	cap->f = open_memstream(&cap->text, &cap->len);
	ck_assert_ptr_nonnull(cap->f);
}

static const char *
capture_text(struct capture *cap)
{
	ck_assert_int_eq(fclose(cap->f), 0);
	cap->f = NULL;
	return cap->text;
}

static void
capture_free(struct capture *cap)
{
	if (cap->f != NULL)
		fclose(cap->f);
	free(cap->text);
}

#define ck_assert_contains(s, part) \
	ck_assert_msg(strstr((s), (part)) != NULL, "%s: not in \"%s\"", \
	    (part), (s))

/* A migration folder of the test's own. */
static void
dir_make(char *dir, size_t dirlen)
{
	snprintf(dir, dirlen, "/tmp/gt_check_migrate_XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void
dir_add(const char *dir, const char *file, const char *text)
{
	char	 path[4200];
	FILE	*f;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	ck_assert_int_ge(fputs(text, f), 0);
	ck_assert_int_eq(fclose(f), 0);
}

static void
unlink_file(const char *dir, const char *file)
{
	char	 path[4200];

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	ck_assert_int_eq(unlink(path), 0);
}

static void
dir_remove(const char *dir)
{
	DIR		*d;
	struct dirent	*de;
	char		 path[4200];

	ck_assert_ptr_nonnull(d = opendir(dir));
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		ck_assert_int_eq(unlink(path), 0);
	}
	closedir(d);
	ck_assert_int_eq(rmdir(dir), 0);
}

/* The number of migrations in the project's sql folder. */
static int
count_project_migrations(void)
{
	DIR		*d;
	struct dirent	*de;
	size_t		 len;
	int		 n = 0;

	ck_assert_ptr_nonnull(d = opendir(sql_dir));
	while ((de = readdir(d)) != NULL) {
		len = strlen(de->d_name);
		if (de->d_name[0] != '.' && len > 4 &&
		    strcmp(de->d_name + len - 4, ".sql") == 0)
			n++;
	}
	closedir(d);
	return n;
}

/* The text of the project's first migration. */
static char *
project_schema(void)
{
	char	 path[4200];
	char	*text;
	FILE	*f;
	long	 len;

	snprintf(path, sizeof(path), "%s/001_schema.sql", sql_dir);
	ck_assert_ptr_nonnull(f = fopen(path, "r"));
	ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
	ck_assert_int_gt(len = ftell(f), 0);
	rewind(f);
	ck_assert_ptr_nonnull(text = malloc((size_t)len + 1));
	ck_assert_uint_eq(fread(text, 1, (size_t)len, f), (size_t)len);
	text[len] = '\0';
	fclose(f);
	return text;
}

/* Checked fixture of the migrate case: an empty database per test. */
static void
fresh_setup(void)
{
	snprintf(fresh_db, sizeof(fresh_db), "gt_migrate_test_%ld_%ld",
	    runner_pid, (long)getpid());
	create_db(fresh_db);
}

static void
fresh_teardown(void)
{
	PGconn	*c = server_conn();
	char	 sql[128];

	snprintf(sql, sizeof(sql), "DROP DATABASE %s WITH (FORCE)", fresh_db);
	must(c, sql);
	PQfinish(c);
}

START_TEST(test_apply_applies_each_migration_once)
{
	PGconn		*c = db_conn(fresh_db);
	struct capture	 cap;
	char		 err[512], want[16];

	capture_open(&cap);
	ck_assert_msg(migrate_apply(c, sql_dir, cap.f, err, sizeof(err)) == 0,
	    "%s", err);
	ck_assert_contains(capture_text(&cap), "applied 001_schema.sql\n");
	capture_free(&cap);

	snprintf(want, sizeof(want), "%d", count_project_migrations());
	value_is(c, "SELECT count(*) FROM schema_migrations", want);
	value_is(c, "SELECT name FROM schema_migrations WHERE version = 1",
	    "schema");
	value_is(c, "SELECT to_regclass('runs') IS NOT NULL", "t");

	/* A second run finds everything applied and says nothing. */
	capture_open(&cap);
	ck_assert_msg(migrate_apply(c, sql_dir, cap.f, err, sizeof(err)) == 0,
	    "%s", err);
	ck_assert_str_eq(capture_text(&cap), "");
	capture_free(&cap);
	value_is(c, "SELECT count(*) FROM schema_migrations", want);
	PQfinish(c);
}
END_TEST

START_TEST(test_status_lists_pending_then_applied)
{
	PGconn		*c = db_conn(fresh_db);
	struct capture	 cap;
	const char	*out;
	char		 err[512];
	int		 n = count_project_migrations();

	capture_open(&cap);
	ck_assert_int_eq(migrate_status(c, sql_dir, cap.f, err, sizeof(err)),
	    n);
	ck_assert_contains(capture_text(&cap), "001 schema pending\n");
	capture_free(&cap);

	ck_assert_msg(migrate_apply(c, sql_dir, NULL, err, sizeof(err)) == 0,
	    "%s", err);

	capture_open(&cap);
	ck_assert_int_eq(migrate_status(c, sql_dir, cap.f, err, sizeof(err)),
	    0);
	out = capture_text(&cap);
	ck_assert_contains(out, "001 schema applied 2");
	ck_assert_msg(strstr(out, "pending") == NULL, "%s", out);
	capture_free(&cap);
	PQfinish(c);
}
END_TEST

/*
 * One of two migrators racing: connects, waits for the start signal on
 * fd, migrates, and exits 0 when that worked.  Reports by exit status
 * only (it is not the test's process).
 */
static void __attribute__((noreturn))
racer(int fd, const char *dir)
{
	PGconn	*c;
	char	 err[512], go;

	c = PQconnectdbParams((const char *const[]){ "dbname", "dbname",
	    NULL }, (const char *const[]){ db_url, fresh_db, NULL }, 1);
	if (PQstatus(c) != CONNECTION_OK || read(fd, &go, 1) != 1)
		_exit(2);
	if (migrate_apply(c, dir, NULL, err, sizeof(err)) == -1) {
		fprintf(stderr, "racer %ld: %s\n", (long)getpid(), err);
		_exit(1);
	}
	PQfinish(c);
	_exit(0);
}

START_TEST(test_concurrent_apply_applies_each_migration_once)
{
	PGconn	*c;
	char	 dir[64], *schema;
	pid_t	 pid[2];
	int	 go[2], i, status;

	/* A slow second migration widens the window for a race. */
	dir_make(dir, sizeof(dir));
	schema = project_schema();
	dir_add(dir, "001_schema.sql", schema);
	free(schema);
	dir_add(dir, "002_slow.sql",
	    "SELECT pg_sleep(0.3);\nCREATE TABLE once (n integer);\n");
	dir_add(dir, "003_row.sql", "INSERT INTO once VALUES (3);\n");

	ck_assert_int_eq(pipe(go), 0);
	for (i = 0; i < 2; i++) {
		ck_assert_int_ne(pid[i] = fork(), -1);
		if (pid[i] == 0) {
			close(go[1]);
			racer(go[0], dir);
		}
	}
	close(go[0]);
	ck_assert_int_eq(write(go[1], "gg", 2), 2);
	close(go[1]);
	for (i = 0; i < 2; i++) {
		ck_assert_int_eq(waitpid(pid[i], &status, 0), pid[i]);
		ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		    "migrator %d failed (status %d)", i, status);
	}

	c = db_conn(fresh_db);
	value_is(c, "SELECT count(*) FROM schema_migrations", "3");
	value_is(c, "SELECT string_agg(name, ',' ORDER BY version) "
	    "FROM schema_migrations", "schema,slow,row");
	value_is(c, "SELECT count(*) FROM once", "1");
	PQfinish(c);
	dir_remove(dir);
}
END_TEST

START_TEST(test_bad_file_name_is_refused_with_its_name)
{
	static const char *const bad[] = { "1_short.sql", "0001_long.sql",
	    "001-dash.sql", "001_Upper.sql", "001_.sql", "001_x.txt",
	    "001_x.sql~", "abc_x.sql", "README" };
	PGconn		*c = db_conn(fresh_db);
	char		 dir[64], err[512];
	size_t		 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		dir_make(dir, sizeof(dir));
		dir_add(dir, "001_good.sql", "SELECT 1;\n");
		dir_add(dir, bad[i], "SELECT 1;\n");
		ck_assert_int_eq(migrate_apply(c, dir, NULL, err,
		    sizeof(err)), -1);
		ck_assert_contains(err, bad[i]);
		ck_assert_int_eq(migrate_status(c, dir, NULL, err,
		    sizeof(err)), -1);
		ck_assert_contains(err, bad[i]);
		dir_remove(dir);
	}

	/* Nothing was applied: the folder is checked first. */
	value_is(c, "SELECT to_regclass('schema_migrations') IS NULL", "t");
	PQfinish(c);
}
END_TEST

START_TEST(test_version_gap_is_refused)
{
	PGconn	*c = db_conn(fresh_db);
	char	 dir[64], err[512];

	dir_make(dir, sizeof(dir));
	dir_add(dir, "001_a.sql", "CREATE TABLE a (n integer);\n");
	dir_add(dir, "003_c.sql", "CREATE TABLE c (n integer);\n");
	ck_assert_int_eq(migrate_apply(c, dir, NULL, err, sizeof(err)), -1);
	ck_assert_contains(err, "002");
	ck_assert_contains(err, "003_c.sql");
	value_is(c, "SELECT to_regclass('a') IS NULL", "t");
	dir_remove(dir);
	PQfinish(c);
}
END_TEST

START_TEST(test_first_version_must_be_one)
{
	PGconn	*c = db_conn(fresh_db);
	char	 dir[64], err[512];

	dir_make(dir, sizeof(dir));
	dir_add(dir, "002_b.sql", "SELECT 1;\n");
	ck_assert_int_eq(migrate_apply(c, dir, NULL, err, sizeof(err)), -1);
	ck_assert_contains(err, "001");
	dir_remove(dir);
	PQfinish(c);
}
END_TEST

START_TEST(test_duplicate_version_is_refused)
{
	PGconn	*c = db_conn(fresh_db);
	char	 dir[64], err[512];

	dir_make(dir, sizeof(dir));
	dir_add(dir, "001_a.sql", "SELECT 1;\n");
	dir_add(dir, "001_b.sql", "SELECT 1;\n");
	ck_assert_int_eq(migrate_apply(c, dir, NULL, err, sizeof(err)), -1);
	ck_assert_contains(err, "001_a.sql");
	ck_assert_contains(err, "001_b.sql");
	dir_remove(dir);
	PQfinish(c);
}
END_TEST

START_TEST(test_failed_migration_rolls_back_alone)
{
	PGconn		*c = db_conn(fresh_db);
	struct capture	 cap;
	char		 dir[64], err[512];

	dir_make(dir, sizeof(dir));
	dir_add(dir, "001_a.sql", "CREATE TABLE a (n integer);\n");
	dir_add(dir, "002_b.sql",
	    "CREATE TABLE b (n integer);\nCREATE TABLE c (n integer);\n"
	    "SELECT 1 / 0;\n");
	dir_add(dir, "003_c.sql", "CREATE TABLE d (n integer);\n"
	    "SELEC 1;\n");

	capture_open(&cap);
	ck_assert_int_eq(migrate_apply(c, dir, cap.f, err, sizeof(err)), -1);
	ck_assert_str_eq(capture_text(&cap), "applied 001_a.sql\n");
	capture_free(&cap);
	ck_assert_contains(err, "002_b.sql");
	ck_assert_contains(err, "division by zero");

	/* The one before stays; the failed one left nothing behind. */
	value_is(c, "SELECT to_regclass('a') IS NOT NULL", "t");
	value_is(c, "SELECT to_regclass('b') IS NULL", "t");
	value_is(c, "SELECT to_regclass('c') IS NULL", "t");
	value_is(c, "SELECT string_agg(version::text, ',') "
	    "FROM schema_migrations", "1");

	/* A syntax error is placed by its line. */
	unlink_file(dir, "002_b.sql");
	dir_add(dir, "002_b.sql", "CREATE TABLE b (n integer);\n");
	ck_assert_int_eq(migrate_apply(c, dir, NULL, err, sizeof(err)), -1);
	ck_assert_contains(err, "003_c.sql failed at line 2");
	ck_assert_contains(err, "syntax error");
	value_is(c, "SELECT string_agg(version::text, ',') "
	    "FROM schema_migrations", "1,2");
	value_is(c, "SELECT count(*) FROM pg_locks WHERE locktype = "
	    "'advisory' AND database = (SELECT oid FROM pg_database "
	    "WHERE datname = current_database())", "0");
	dir_remove(dir);
	PQfinish(c);
}
END_TEST

START_TEST(test_migration_ending_its_transaction_is_refused)
{
	PGconn	*c = db_conn(fresh_db);
	char	 dir[64], err[512];

	dir_make(dir, sizeof(dir));
	dir_add(dir, "001_a.sql", "CREATE TABLE a (n integer);\nCOMMIT;\n");
	ck_assert_int_eq(migrate_apply(c, dir, NULL, err, sizeof(err)), -1);
	ck_assert_contains(err, "001_a.sql");
	ck_assert_contains(err, "transaction");
	value_is(c, "SELECT count(*) FROM schema_migrations", "0");
	dir_remove(dir);
	PQfinish(c);
}
END_TEST

START_TEST(test_renamed_applied_migration_is_refused)
{
	PGconn	*c = db_conn(fresh_db);
	char	 dir[64], dir2[64], err[512];

	dir_make(dir, sizeof(dir));
	dir_add(dir, "001_first.sql", "SELECT 1;\n");
	ck_assert_msg(migrate_apply(c, dir, NULL, err, sizeof(err)) == 0,
	    "%s", err);

	dir_make(dir2, sizeof(dir2));
	dir_add(dir2, "001_other.sql", "SELECT 1;\n");
	ck_assert_int_eq(migrate_apply(c, dir2, NULL, err, sizeof(err)), -1);
	ck_assert_contains(err, "first");
	dir_remove(dir);
	dir_remove(dir2);
	PQfinish(c);
}
END_TEST

START_TEST(test_missing_folder_is_refused)
{
	PGconn	*c = db_conn(fresh_db);
	char	 err[512];

	ck_assert_int_eq(migrate_apply(c, "/nonexistent/gt_sql", NULL, err,
	    sizeof(err)), -1);
	ck_assert_contains(err, "/nonexistent/gt_sql");
	PQfinish(c);
}
END_TEST

START_TEST(test_status_shows_recorded_migration_without_file)
{
	PGconn		*c = db_conn(fresh_db);
	struct capture	 cap;
	char		 dir[64], dir2[64], err[512];

	dir_make(dir, sizeof(dir));
	dir_add(dir, "001_a.sql", "SELECT 1;\n");
	dir_add(dir, "002_b.sql", "SELECT 1;\n");
	ck_assert_msg(migrate_apply(c, dir, NULL, err, sizeof(err)) == 0,
	    "%s", err);

	/* An older release's folder, without 002. */
	dir_make(dir2, sizeof(dir2));
	dir_add(dir2, "001_a.sql", "SELECT 1;\n");
	capture_open(&cap);
	ck_assert_int_eq(migrate_status(c, dir2, cap.f, err, sizeof(err)), 0);
	ck_assert_contains(capture_text(&cap), "002 b applied ");
	capture_free(&cap);
	dir_remove(dir);
	dir_remove(dir2);
	PQfinish(c);
}
END_TEST

/* Unchecked fixture of the schema case: one migrated database. */
static void
schema_setup(void)
{
	PGconn	*c;
	char	 err[512];

	snprintf(schema_db, sizeof(schema_db), "gt_migrate_test_%ld_schema",
	    runner_pid);
	create_db(schema_db);
	c = db_conn(schema_db);
	ck_assert_msg(migrate_apply(c, sql_dir, NULL, err, sizeof(err)) == 0,
	    "%s", err);
	PQfinish(c);
}

/*
 * Runs a statement with parameters; returns its result, which the
 * caller frees.
 */
static PGresult *
run(PGconn *c, const char *sql, int n, const char *const *params)
{
	return PQexecParams(c, sql, n, NULL, params, NULL, NULL, 0);
}

/* Asserts that a statement succeeds. */
static void
accepted(PGconn *c, const char *what, const char *sql, int n,
    const char *const *params)
{
	PGresult	*res = run(c, sql, n, params);

	ck_assert_msg(PQresultStatus(res) == PGRES_COMMAND_OK ||
	    PQresultStatus(res) == PGRES_TUPLES_OK, "%s: refused: %s", what,
	    PQresultErrorMessage(res));
	PQclear(res);
}

/*
 * Asserts that a statement is refused as an integrity violation (class
 * 23), naming constraint when it is not NULL.
 */
static void
refused(PGconn *c, const char *what, const char *sql, int n,
    const char *const *params, const char *constraint)
{
	PGresult	*res = run(c, sql, n, params);
	const char	*state, *name;

	ck_assert_msg(PQresultStatus(res) == PGRES_FATAL_ERROR,
	    "%s: accepted", what);
	state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	name = PQresultErrorField(res, PG_DIAG_CONSTRAINT_NAME);
	ck_assert_msg(state != NULL && strncmp(state, "23", 2) == 0,
	    "%s: not an integrity error: %s", what,
	    PQresultErrorMessage(res));
	ck_assert_msg(constraint == NULL || (name != NULL &&
	    strcmp(name, constraint) == 0), "%s: constraint %s, want %s",
	    what, name != NULL ? name : "(none)", constraint);
	PQclear(res);
}

#define INSERT_RUN \
	"INSERT INTO runs (repo, target_type, target_number, instruction, " \
	"source, requester) VALUES ($1, $2, $3, $4, 'api', 'role:operator')"

/* Inserts a run with these fields; asserts it is accepted. */
static void
run_accepted(PGconn *c, const char *what, const char *repo,
    const char *type, const char *number, const char *instruction)
{
	const char *const	 p[] = { repo, type, number, instruction };

	accepted(c, what, INSERT_RUN, 4, p);
}

static void
run_refused(PGconn *c, const char *what, const char *repo,
    const char *type, const char *number, const char *instruction,
    const char *constraint)
{
	const char *const	 p[] = { repo, type, number, instruction };

	refused(c, what, INSERT_RUN, 4, p, constraint);
}

/* The columns that put a new run in each status consistently. */
static const struct state {
	const char	*status;
	const char	*cols;
	const char	*vals;
} states[] = {
	{ "queued", "", "" },
	{ "running", ", status, started_at, heartbeat_at",
	    ", 'running', now(), now()" },
	{ "succeeded", ", status, started_at, finished_at, exit_code",
	    ", 'succeeded', now(), now(), 0" },
	{ "failed", ", status, started_at, finished_at, exit_code, "
	    "error_stage, error_message",
	    ", 'failed', now(), now(), 1, 'runner', 'exit status 1'" },
	{ "cancelled", ", status, finished_at, error_stage, error_message",
	    ", 'cancelled', now(), 'cancelled', 'cancelled by an operator'" },
};

/*
 * Inserts a run in the given status, on an issue of its own (one target
 * cannot have two running runs); returns its id, which caller frees.
 */
static char *
run_in(PGconn *c, const char *status)
{
	static int		 number = 1000;
	const struct state	*st = NULL;
	char			 sql[512];
	size_t			 i;

	for (i = 0; i < sizeof(states) / sizeof(states[0]); i++)
		if (strcmp(states[i].status, status) == 0)
			st = &states[i];
	ck_assert_ptr_nonnull(st);
	snprintf(sql, sizeof(sql), "INSERT INTO runs (repo, target_type, "
	    "target_number, instruction, requester, source%s) VALUES "
	    "('octo/widgets', 'issue', %d, 'fix it', 'alice', 'api'%s) "
	    "RETURNING id", st->cols, ++number, st->vals);
	return value(c, sql);
}

/* Updates one run with the SET clause given. */
static void
update_run(PGconn *c, const char *id, const char *set, const char *what,
    const char *constraint, int allowed)
{
	const char *const	 p[] = { id };
	char			 sql[512];

	snprintf(sql, sizeof(sql), "UPDATE runs SET %s WHERE id = $1", set);
	if (allowed)
		accepted(c, what, sql, 1, p);
	else
		refused(c, what, sql, 1, p, constraint);
}

START_TEST(test_valid_run_is_queued_by_default)
{
	PGconn	*c = db_conn(schema_db);
	char	*id, sql[160];

	id = run_in(c, "queued");
	ck_assert_uint_eq(strlen(id), 36);
	snprintf(sql, sizeof(sql), "SELECT status || ' ' || repo_key || ' ' "
	    "|| (started_at IS NULL) FROM runs WHERE id = '%s'", id);
	value_is(c, sql, "queued octo/widgets true");
	free(id);
	PQfinish(c);
}
END_TEST

START_TEST(test_bad_repo_names_are_refused)
{
	static const char *const bad[] = { "octo", "octo/", "/widgets",
	    "octo/widgets/x", "-octo/widgets", "octo-/widgets",
	    "oc--to/widgets", "oc_to/widgets", "oc.to/widgets",
	    "octo/.", "octo/..", "octo/widgets.git", "octo/widgets.GIT",
	    "octo/wid gets", "octo/wid/gets", "octo/wïdgets", "Ärger/x",
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/x" /* 40 */, "" };
	PGconn	*c = db_conn(schema_db);
	char	 longname[128];
	size_t	 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		run_refused(c, bad[i], bad[i], "issue", "1", "x",
		    "runs_repo_name");

	snprintf(longname, sizeof(longname), "o/%0101d", 0);
	run_refused(c, "name of 101", longname, "issue", "1", "x",
	    "runs_repo_name");
	PQfinish(c);
}
END_TEST

START_TEST(test_good_repo_names_are_accepted)
{
	static const char *const good[] = { "a/b", "Octo-Cat/My.Repo_1",
	    "octo/.github", "octo/...", "octo/git", "octo/x.gitx",
	    "0/-", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/x" /* 39 */ };
	PGconn	*c = db_conn(schema_db);
	char	 longname[128];
	size_t	 i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		run_accepted(c, good[i], good[i], "issue", "1", "x");
	snprintf(longname, sizeof(longname), "o/%0100d", 0);
	run_accepted(c, "name of 100", longname, "issue", "1", "x");

	/* The name is kept as given; the key compares. */
	value_is(c, "SELECT repo || ' ' || repo_key FROM runs "
	    "WHERE repo = 'Octo-Cat/My.Repo_1'",
	    "Octo-Cat/My.Repo_1 octo-cat/my.repo_1");
	PQfinish(c);
}
END_TEST

START_TEST(test_bad_targets_are_refused)
{
	PGconn	*c = db_conn(schema_db);

	run_refused(c, "number 0", "o/r", "issue", "0", "x",
	    "runs_target_number");
	run_refused(c, "number -1", "o/r", "issue", "-1", "x",
	    "runs_target_number");
	run_refused(c, "type commit", "o/r", "commit", "1", "x",
	    "runs_target_type");
	run_accepted(c, "largest number", "o/r", "pull_request",
	    "2147483647", "x");
	PQfinish(c);
}
END_TEST

START_TEST(test_instruction_length_counts_code_points)
{
	PGconn	*c = db_conn(schema_db);
	char	*s;
	size_t	 i;

	/* 4001 two-byte characters: 8002 bytes. */
	ck_assert_ptr_nonnull(s = malloc(4001 * 2 + 1));
	for (i = 0; i < 4001; i++)
		memcpy(s + 2 * i, "\xc3\xa9", 2);
	s[4001 * 2] = '\0';
	run_refused(c, "4001 code points", "o/r", "issue", "1", s,
	    "runs_instruction_length");
	s[4000 * 2] = '\0';
	run_accepted(c, "4000 code points", "o/r", "issue", "1", s);
	run_refused(c, "empty", "o/r", "issue", "1", "",
	    "runs_instruction_length");
	free(s);
	PQfinish(c);
}
END_TEST

START_TEST(test_bad_requested_by_is_refused)
{
	static const char *const bad[] = { "", "has space", "under_score",
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" /* 40 */ };
	static const char sql[] = "INSERT INTO runs (repo, target_type, "
	    "target_number, instruction, source, requester, requested_by) "
	    "VALUES ('o/r', 'issue', 1, 'x', 'webhook', 'alice', $1)";
	PGconn		*c = db_conn(schema_db);
	const char	*p[1];
	size_t		 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		p[0] = bad[i];
		refused(c, bad[i], sql, 1, p, "runs_requested_by");
	}
	p[0] = "alice-1";
	accepted(c, "alice-1", sql, 1, p);
	p[0] = NULL;
	accepted(c, "no requester", sql, 1, p);
	PQfinish(c);
}
END_TEST

START_TEST(test_inconsistent_runs_are_refused)
{
	static const struct {
		const char	*what;
		const char	*cols;
		const char	*vals;
		const char	*constraint;
	} bad[] = {
		{ "queued but started", ", started_at", ", now()",
		    "runs_queued_times" },
		{ "queued but finished", ", finished_at", ", now()",
		    "runs_queued_times" },
		{ "running without start", ", status", ", 'running'",
		    "runs_running_times" },
		{ "running but finished", ", status, started_at, finished_at",
		    ", 'running', now(), now()", "runs_running_times" },
		{ "succeeded without finish", ", status, started_at",
		    ", 'succeeded', now()", "runs_finished_times" },
		{ "succeeded without start", ", status, finished_at",
		    ", 'succeeded', now()", "runs_started_times" },
		{ "started before created", ", status, created_at, started_at",
		    ", 'running', now(), now() - interval '1 hour'",
		    "runs_time_order" },
		{ "finished before started",
		    ", status, started_at, finished_at",
		    ", 'succeeded', now(), now() - interval '1 second'",
		    "runs_time_order" },
		{ "succeeded with an error",
		    ", status, started_at, finished_at, error_stage, "
		    "error_message", ", 'succeeded', now(), now(), 'runner', "
		    "'boom'", "runs_error_status" },
		{ "failed without an error",
		    ", status, started_at, finished_at",
		    ", 'failed', now(), now()", "runs_error_status" },
		{ "cancelled with another stage",
		    ", status, finished_at, error_stage, error_message",
		    ", 'cancelled', now(), 'runner', 'boom'",
		    "runs_error_status" },
		{ "stage without message", ", status, started_at, "
		    "finished_at, error_stage", ", 'failed', now(), now(), "
		    "'runner'", "runs_error_pair" },
		{ "unknown stage", ", status, started_at, finished_at, "
		    "error_stage, error_message", ", 'failed', now(), now(), "
		    "'oops', 'boom'", "runs_error_stage_value" },
		{ "unknown status", ", status, started_at, finished_at",
		    ", 'paused', now(), now()", "runs_status" },
		{ "queued with an exit code", ", exit_code", ", 0",
		    "runs_outcome_finished" },
		{ "result not an object",
		    ", status, started_at, finished_at, result",
		    ", 'succeeded', now(), now(), '[1]'",
		    "runs_result_object" },
		{ "comment id without kind", ", comment_id", ", 7",
		    "runs_comment_pair" },
		{ "key without hash", ", idempotency_key", ", 'k'",
		    "runs_idempotency_pair" },
		{ "key not printable", ", idempotency_key, request_hash",
		    ", E'a\\tb', 'h'", "runs_idempotency_key" },
		{ "unknown source", ", source", ", 'cron'", NULL },
	};
	PGconn	*c = db_conn(schema_db);
	char	 sql[512];
	size_t	 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		/* The last column given wins over the default source. */
		snprintf(sql, sizeof(sql), "INSERT INTO runs (repo, "
		    "target_type, target_number, instruction, requester%s%s) "
		    "VALUES ('o/r', 'issue', 1, 'x', 'alice'%s%s)",
		    strstr(bad[i].cols, "source") ? "" : ", source",
		    bad[i].cols,
		    strstr(bad[i].cols, "source") ? "" : ", 'api'",
		    bad[i].vals);
		refused(c, bad[i].what, sql, 0, NULL, bad[i].constraint);
	}
	PQfinish(c);
}
END_TEST

START_TEST(test_allowed_status_moves_are_accepted)
{
	static const struct {
		const char	*from;
		const char	*set;
	} moves[] = {
		{ "queued", "status = 'running', started_at = now(), "
		    "heartbeat_at = now(), dispatcher_id = 'd1'" },
		{ "queued", "status = 'cancelled', finished_at = now(), "
		    "error_stage = 'cancelled', error_message = 'cancelled'" },
		{ "queued", "cancel_requested_at = now()" },
		{ "running", "heartbeat_at = now() + interval '1 second'" },
		{ "running", "cancel_requested_at = now()" },
		{ "running", "status = 'succeeded', finished_at = now(), "
		    "exit_code = 0, result = '{\"summary\": \"done\"}'" },
		{ "running", "status = 'failed', finished_at = now(), "
		    "exit_code = 2, error_stage = 'runner', "
		    "error_message = 'exit status 2'" },
		{ "running", "status = 'failed', finished_at = now(), "
		    "error_stage = 'interrupted', "
		    "error_message = 'dispatcher lost'" },
		{ "running", "status = 'cancelled', finished_at = now(), "
		    "error_stage = 'cancelled', error_message = 'cancelled'" },
	};
	PGconn	*c = db_conn(schema_db);
	char	*id;
	size_t	 i;

	for (i = 0; i < sizeof(moves) / sizeof(moves[0]); i++) {
		id = run_in(c, moves[i].from);
		update_run(c, id, moves[i].set, moves[i].set, NULL, 1);
		free(id);
	}
	PQfinish(c);
}
END_TEST

START_TEST(test_forbidden_status_moves_are_refused)
{
	static const struct {
		const char	*from;
		const char	*set;
		const char	*constraint;
	} moves[] = {
		{ "queued", "status = 'succeeded', started_at = now(), "
		    "finished_at = now()", "runs_status_move" },
		{ "queued", "status = 'failed', started_at = now(), "
		    "finished_at = now(), error_stage = 'runner', "
		    "error_message = 'x'", "runs_status_move" },
		{ "running", "status = 'queued', started_at = NULL",
		    "runs_status_move" },
		{ "succeeded", "status = 'running', finished_at = NULL",
		    "runs_finished" },
		{ "failed", "status = 'succeeded', error_stage = NULL, "
		    "error_message = NULL", "runs_finished" },
		{ "cancelled", "status = 'queued', finished_at = NULL, "
		    "error_stage = NULL, error_message = NULL",
		    "runs_finished" },
		{ "cancelled", "status = 'running', started_at = now(), "
		    "finished_at = NULL, error_stage = NULL, "
		    "error_message = NULL", "runs_finished" },
	};
	PGconn	*c = db_conn(schema_db);
	char	*id;
	size_t	 i;

	for (i = 0; i < sizeof(moves) / sizeof(moves[0]); i++) {
		id = run_in(c, moves[i].from);
		update_run(c, id, moves[i].set, moves[i].set,
		    moves[i].constraint, 0);
		free(id);
	}
	PQfinish(c);
}
END_TEST

START_TEST(test_finished_run_never_changes)
{
	static const char *const sets[] = { "exit_code = 3",
	    "heartbeat_at = now()", "result = '{}'",
	    "cancel_requested_at = now()", "dispatcher_id = 'd2'",
	    "instruction = 'other'", "idempotency_key = 'k', "
	    "request_hash = 'h'" };
	static const char *const finished[] = { "succeeded", "failed",
	    "cancelled" };
	PGconn	*c = db_conn(schema_db);
	char	*id;
	size_t	 i, j;

	for (i = 0; i < sizeof(finished) / sizeof(finished[0]); i++) {
		id = run_in(c, finished[i]);
		for (j = 0; j < sizeof(sets) / sizeof(sets[0]); j++)
			update_run(c, id, sets[j], sets[j], "runs_finished",
			    0);
		free(id);
	}
	PQfinish(c);
}
END_TEST

START_TEST(test_what_a_run_asks_never_changes)
{
	static const char *const sets[] = { "repo = 'octo/other'",
	    "target_number = 13", "target_type = 'pull_request'",
	    "instruction = 'other'", "source = 'webhook'",
	    "requested_by = 'mallory'", "requester = 'mallory'",
	    "created_at = created_at - "
	    "interval '1 day'", "comment_kind = 'issue_comment', "
	    "comment_id = 99" };
	PGconn	*c = db_conn(schema_db);
	char	*id;
	size_t	 i;

	id = run_in(c, "queued");
	for (i = 0; i < sizeof(sets) / sizeof(sets[0]); i++)
		update_run(c, id, sets[i], sets[i], "runs_fixed_columns", 0);
	free(id);

	id = run_in(c, "running");
	update_run(c, id, "started_at = now() + interval '1 second'",
	    "moving started_at", "runs_fixed_columns", 0);
	free(id);
	PQfinish(c);
}
END_TEST

START_TEST(test_one_run_per_comment)
{
	static const char sql[] = "INSERT INTO runs (repo, target_type, "
	    "target_number, instruction, source, requester, comment_kind, "
	    "comment_id) VALUES ('o/r', 'issue', 1, 'x', 'webhook', 'alice', "
	    "$1, $2)";
	PGconn		*c = db_conn(schema_db);
	char		 cid[32];
	const char	*p[] = { "issue_comment", cid };

	snprintf(cid, sizeof(cid), "%ld", (long)getpid() * 1000 + 1);
	accepted(c, "first run of a comment", sql, 2, p);
	refused(c, "second run of a comment", sql, 2, p, "runs_comment_key");

	/* The other kind of comment has its own ids. */
	p[0] = "pull_request_review_comment";
	accepted(c, "same id, other kind", sql, 2, p);
	p[0] = "commit_comment";
	refused(c, "unknown kind", sql, 2, p, "runs_comment_kind");
	PQfinish(c);
}
END_TEST

START_TEST(test_one_running_run_per_target)
{
	static const char sql[] = "INSERT INTO runs (repo, target_type, "
	    "target_number, instruction, source, requester, status, "
	    "started_at) VALUES ($1, 'issue', 7, 'x', 'api', 'alice', "
	    "'running', now())";
	PGconn		*c = db_conn(schema_db);
	const char	*p[] = { "Target/Alone" };

	accepted(c, "first running run of a target", sql, 1, p);
	p[0] = "target/alone";
	refused(c, "second running run of a target", sql, 1, p,
	    "runs_one_running_per_target");
	p[0] = "target/other";
	accepted(c, "running run of another target", sql, 1, p);
	PQfinish(c);
}
END_TEST

START_TEST(test_idempotency_key_is_unique_until_released)
{
	static const char sql[] = "INSERT INTO runs (repo, target_type, "
	    "target_number, instruction, source, requester, idempotency_key, "
	    "request_hash) VALUES ('o/r', 'issue', 1, 'x', 'api', 'alice', $1, "
	    "'h') RETURNING id";
	PGconn		*c = db_conn(schema_db);
	PGresult	*res;
	char		 key[64], *id;
	const char	*p[] = { key };

	snprintf(key, sizeof(key), "key-%ld", (long)getpid());
	res = run(c, sql, 1, p);
	ck_assert_int_eq(PQresultStatus(res), PGRES_TUPLES_OK);
	id = strdup(PQgetvalue(res, 0, 0));
	PQclear(res);
	refused(c, "same key again", sql, 1, p, "runs_idempotency_key_key");

	/* Finished and expired, the key is released and can be used anew. */
	update_run(c, id, "status = 'cancelled', finished_at = now(), "
	    "error_stage = 'cancelled', error_message = 'cancelled'",
	    "cancel", NULL, 1);
	update_run(c, id, "idempotency_key = NULL, request_hash = NULL",
	    "release", NULL, 1);
	accepted(c, "key after release", sql, 1, p);
	free(id);
	PQfinish(c);
}
END_TEST

START_TEST(test_queued_run_is_notified)
{
	PGconn		*listener = db_conn(schema_db);
	PGconn		*c = db_conn(schema_db);
	PGnotify	*n = NULL;
	struct pollfd	 pfd;
	char		*id;
	int		 i;

	must(listener, "LISTEN runs_queued");
	id = run_in(c, "queued");

	for (i = 0; i < 50 && n == NULL; i++) {
		ck_assert_int_eq(PQconsumeInput(listener), 1);
		while ((n = PQnotifies(listener)) != NULL &&
		    strcmp(n->extra, id) != 0)
			PQfreemem(n);
		if (n == NULL) {
			pfd.fd = PQsocket(listener);
			pfd.events = POLLIN;
			(void)poll(&pfd, 1, 100);
		}
	}
	ck_assert_msg(n != NULL, "no notification for run %s", id);
	ck_assert_str_eq(n->relname, "runs_queued");
	PQfreemem(n);
	free(id);
	PQfinish(c);
	PQfinish(listener);
}
END_TEST

/*
 * runs is vacuumed after a small share of it changed, so that the index
 * reads of its recent rows stay index-only; PostgreSQL's defaults would
 * wait for a fifth of the table.
 */
START_TEST(test_runs_are_vacuumed_after_a_small_share_changed)
{
	PGconn	*c = db_conn(schema_db);

	value_is(c, "SELECT array_to_string(ARRAY(SELECT o FROM "
	    "unnest(reloptions) AS o ORDER BY o), ' ') FROM pg_class "
	    "WHERE oid = 'runs'::regclass",
	    "autovacuum_vacuum_insert_scale_factor=0.01 "
	    "autovacuum_vacuum_scale_factor=0.02");
	PQfinish(c);
}
END_TEST

START_TEST(test_other_tables_check_their_rows)
{
	static const struct {
		const char	*what;
		const char	*sql;
		const char	*constraint;
	} bad[] = {
		{ "limit 0", "INSERT INTO rate_limits (repo_key, repo, "
		    "\"limit\", window_seconds) VALUES ('o/r0', 'o/r0', 0, 60)",
		    "rate_limits_limit_check" },
		{ "window too long", "INSERT INTO rate_limits (repo_key, "
		    "repo, \"limit\", window_seconds) VALUES ('o/r1', "
		    "'o/r1', 1, 2592001)", "rate_limits_window_seconds_check" },
		{ "key not lower-case", "INSERT INTO rate_limits (repo_key, "
		    "repo, \"limit\", window_seconds) VALUES ('O/R2', 'O/R2', "
		    "1, 60)", "rate_limits_key_lower" },
		{ "pause key mismatch", "INSERT INTO paused_repos (repo_key, "
		    "repo) VALUES ('o/a', 'o/b')", "paused_repos_key_lower" },
		{ "target pause number 0", "INSERT INTO paused_run_targets "
		    "(repo_key, target_type, target_number, repo) VALUES "
		    "('o/r', 'issue', 0, 'o/r')",
		    "paused_run_targets_target_number_check" },
		{ "outbox sent without time", "INSERT INTO github_outbox "
		    "(kind, repo, payload, status) VALUES ('reply', 'o/r', "
		    "'{}', 'sent')", "github_outbox_sent" },
		{ "outbox unknown kind", "INSERT INTO github_outbox (kind, "
		    "repo, payload) VALUES ('email', 'o/r', '{}')",
		    "github_outbox_kind_check" },
		{ "metrics of no run", "INSERT INTO run_metrics (run_id) "
		    "VALUES (gen_random_uuid())", "run_metrics_run_id_fkey" },
	};
	PGconn	*c = db_conn(schema_db);
	char	 sql[256], *id;
	size_t	 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		refused(c, bad[i].what, bad[i].sql, 0, NULL,
		    bad[i].constraint);

	accepted(c, "an override", "INSERT INTO rate_limits (repo_key, repo, "
	    "\"limit\", window_seconds) VALUES ('octo/limited', "
	    "'Octo/Limited', 5, 3600)", 0, NULL);
	accepted(c, "an outbox row", "INSERT INTO github_outbox (kind, repo, "
	    "payload) VALUES ('reaction', 'o/r', '{\"content\": \"eyes\"}')",
	    0, NULL);

	/* A run's metrics go with it. */
	id = run_in(c, "succeeded");
	snprintf(sql, sizeof(sql), "INSERT INTO run_metrics (run_id, "
	    "duration_ms, cost_usd) VALUES ('%s', 1200, 0.41)", id);
	must(c, sql);
	snprintf(sql, sizeof(sql), "DELETE FROM runs WHERE id = '%s'", id);
	must(c, sql);
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM run_metrics "
	    "WHERE run_id = '%s'", id);
	value_is(c, sql, "0");
	free(id);
	PQfinish(c);
}
END_TEST

static Suite *
migrate_suite(void)
{
	Suite	*s = suite_create("migrate");
	TCase	*tc;

	tc = tcase_create("migrate");
	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, fresh_setup, fresh_teardown);
	tcase_add_unchecked_fixture(tc, NULL, drop_scratch_dbs);
	tcase_add_test(tc, test_apply_applies_each_migration_once);
	tcase_add_test(tc, test_status_lists_pending_then_applied);
	tcase_add_test(tc, test_concurrent_apply_applies_each_migration_once);
	tcase_add_test(tc, test_bad_file_name_is_refused_with_its_name);
	tcase_add_test(tc, test_version_gap_is_refused);
	tcase_add_test(tc, test_first_version_must_be_one);
	tcase_add_test(tc, test_duplicate_version_is_refused);
	tcase_add_test(tc, test_failed_migration_rolls_back_alone);
	tcase_add_test(tc, test_migration_ending_its_transaction_is_refused);
	tcase_add_test(tc, test_renamed_applied_migration_is_refused);
	tcase_add_test(tc, test_missing_folder_is_refused);
	tcase_add_test(tc, test_status_shows_recorded_migration_without_file);
	suite_add_tcase(s, tc);

	tc = tcase_create("schema");
	tcase_set_timeout(tc, 60);
	tcase_add_unchecked_fixture(tc, schema_setup, drop_scratch_dbs);
	tcase_add_test(tc, test_valid_run_is_queued_by_default);
	tcase_add_test(tc, test_bad_repo_names_are_refused);
	tcase_add_test(tc, test_good_repo_names_are_accepted);
	tcase_add_test(tc, test_bad_targets_are_refused);
	tcase_add_test(tc, test_instruction_length_counts_code_points);
	tcase_add_test(tc, test_bad_requested_by_is_refused);
	tcase_add_test(tc, test_inconsistent_runs_are_refused);
	tcase_add_test(tc, test_allowed_status_moves_are_accepted);
	tcase_add_test(tc, test_forbidden_status_moves_are_refused);
	tcase_add_test(tc, test_finished_run_never_changes);
	tcase_add_test(tc, test_what_a_run_asks_never_changes);
	tcase_add_test(tc, test_one_run_per_comment);
	tcase_add_test(tc, test_one_running_run_per_target);
	tcase_add_test(tc, test_idempotency_key_is_unique_until_released);
	tcase_add_test(tc, test_queued_run_is_notified);
	tcase_add_test(tc, test_other_tables_check_their_rows);
	tcase_add_test(tc, test_runs_are_vacuumed_after_a_small_share_changed);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner		*sr;
	const char	*srcdir;
	int		 n, failed;

	db_url = getenv("GT_DATABASE_URL");
	srcdir = getenv("GT_SRCDIR");
	if (db_url == NULL || *db_url == '\0') {
		fprintf(stderr, "check_migrate: GT_DATABASE_URL is not set: it "
		    "must be the conninfo of a PostgreSQL server to test "
		    "against\n");
		return EXIT_FAILURE;
	}
	if (srcdir == NULL || *srcdir == '\0') {
		fprintf(stderr, "check_migrate: GT_SRCDIR is not set: it must "
		    "be the source tree, holding sql/\n");
		return EXIT_FAILURE;
	}
	n = snprintf(sql_dir, sizeof(sql_dir), "%s/sql", srcdir);
	if (n < 0 || (size_t)n >= sizeof(sql_dir)) {
		fprintf(stderr, "check_migrate: GT_SRCDIR is too long\n");
		return EXIT_FAILURE;
	}
	runner_pid = (long)getpid();

	sr = srunner_create(migrate_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
