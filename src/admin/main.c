/*
 * main.c: gittinkerer-admin, the operator's command.
 *
 *	gittinkerer-admin [-c config] migrate | migrate-status | check-config
 *
 * Exits 0 on success, 1 when the command failed, 2 on a usage error.  A
 * command-line tool may block, so the database is reached with libpq's
 * plain blocking calls rather than the workers' bounded connection.
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "infra/config.h"
#include "infra/migrate.h"

#define ADMIN_EXIT_FAIL		1
#define ADMIN_EXIT_USAGE	2

static const char *progname = "gittinkerer-admin";

static void
usage(void)
{
	fprintf(stderr, "usage: %s [-c config] "
	    "migrate | migrate-status | check-config\n", progname);
}

/*
 * Connects to the configured database.  The conninfo may hold a password,
 * so it is never printed.  Returns the connection, which the caller
 * closes with PQfinish(), or NULL (reported).
 */
static PGconn *
connect_db(const struct config *cfg)
{
	const char *const	 keys[] = { "dbname", "application_name",
	    NULL };
	const char *const	 vals[] = { cfg->database_url,
	    "gittinkerer-admin", NULL };
	PGconn			*conn;

	if (cfg->database_url == NULL || *cfg->database_url == '\0') {
		fprintf(stderr, "%s: database_url is not configured\n",
		    progname);
		return NULL;
	}
	conn = PQconnectdbParams(keys, vals, 1);
	if (PQstatus(conn) != CONNECTION_OK) {
		fprintf(stderr, "%s: cannot connect to the database: %s",
		    progname, conn != NULL ? PQerrorMessage(conn) :
		    "out of memory\n");
		PQfinish(conn);
		return NULL;
	}
	return conn;
}

static int
cmd_migrate(const struct config *cfg)
{
	PGconn	*conn;
	char	 err[1024];
	int	 rc = ADMIN_EXIT_FAIL;

	if ((conn = connect_db(cfg)) == NULL)
		return ADMIN_EXIT_FAIL;
	if (migrate_apply(conn, cfg->migrations_dir, stdout, err,
	    sizeof(err)) == -1) {
		fprintf(stderr, "%s: %s\n", progname, err);
		goto out_finish;
	}
	printf("database is up to date\n");
	rc = 0;

out_finish:
	PQfinish(conn);
	return rc;
}

static int
cmd_migrate_status(const struct config *cfg)
{
	PGconn	*conn;
	char	 err[1024];
	int	 pending, rc = ADMIN_EXIT_FAIL;

	if ((conn = connect_db(cfg)) == NULL)
		return ADMIN_EXIT_FAIL;
	if ((pending = migrate_status(conn, cfg->migrations_dir, stdout, err,
	    sizeof(err))) == -1) {
		fprintf(stderr, "%s: %s\n", progname, err);
		goto out_finish;
	}
	printf("%d pending\n", pending);
	rc = 0;

out_finish:
	PQfinish(conn);
	return rc;
}

static int
cmd_check_config(const struct config *cfg)
{
	(void)cfg;
	printf("configuration ok\n");
	return 0;
}

static const struct command {
	const char	*name;
	int		(*run)(const struct config *);
} commands[] = {
	{ "migrate", cmd_migrate },
	{ "migrate-status", cmd_migrate_status },
	{ "check-config", cmd_check_config },
};

int
main(int argc, char *argv[])
{
	const struct command	*cmd = NULL;
	struct config		*cfg;
	const char		*path;
	char			 err[1024];
	size_t			 i;
	int			 ch, rc;

	path = config_default_path();
	while ((ch = getopt(argc, argv, "c:")) != -1) {
		switch (ch) {
		case 'c':
			path = optarg;
			break;
		default:
			usage();
			return ADMIN_EXIT_USAGE;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 1) {
		usage();
		return ADMIN_EXIT_USAGE;
	}
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[0], commands[i].name) == 0)
			cmd = &commands[i];
	if (cmd == NULL) {
		fprintf(stderr, "%s: unknown command %s\n", progname, argv[0]);
		usage();
		return ADMIN_EXIT_USAGE;
	}

	/* A configuration that does not load is check-config's answer too. */
	if ((cfg = config_load(path, err, sizeof(err))) == NULL) {
		fprintf(stderr, "%s: %s\n", progname, err);
		return ADMIN_EXIT_FAIL;
	}
	rc = cmd->run(cfg);
	config_free(cfg);

	if (fflush(stdout) == EOF && rc == 0) {
		fprintf(stderr, "%s: cannot write the output\n", progname);
		rc = ADMIN_EXIT_FAIL;
	}
	return rc;
}
