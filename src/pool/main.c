/*
 * main.c: gittinkerer-pool, the FastCGI worker pool.
 *
 *	gittinkerer-pool [-c FILE] [--listen unix:PATH | HOST:PORT]
 *	    [--socket-mode OCTAL] [--workers N] [--check-config] [--version]
 *
 * The supervisor loads the configuration, takes the listening socket and
 * keeps the workers running; SIGHUP reloads the configuration and replaces
 * the workers without dropping a request; SIGTERM drains and exits.
 */
#include <config.h>

#include <sys/wait.h>

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "domain/text.h"
#include "http/app.h"
#include "http/fcgi_worker.h"
#include "http/metrics.h"
#include "infra/config.h"
#include "infra/log.h"
#include "infra/sentry.h"
#include "pool/listen.h"
#include "pool/supervisor.h"

struct pool_main {
	const char	*config_path;
	long		 workers_override;	/* 0: from the configuration */
	pid_t		 supervisor;		/* our pid, the workers' parent */
	struct config	*cfg;			/* the configuration in force */
	struct sentry	*sentry;		/* on cfg; reports nothing
						   without a DSN */
};

static int
load(void *arg, struct pool_opts *opts)
{
	struct pool_main	*pm = arg;
	struct config		*cfg;
	char			 err[512];

	if ((cfg = config_load(pm->config_path, err, sizeof(err))) == NULL) {
		log_event(LOG_ERROR, "config_invalid", "error", err, NULL);
		return -1;
	}
	sentry_free(pm->sentry);
	config_free(pm->cfg);
	pm->cfg = cfg;
	pm->sentry = sentry_new(cfg, "pool");
	log_set_level((enum log_level)cfg->log_level);

	opts->workers = pm->workers_override > 0 ? (int)pm->workers_override :
	    cfg->workers;
	opts->drain_timeout_s = cfg->drain_timeout_s;
	return 0;
}

/* A worker died unasked: Sentry hears of it when configured. */
static void
died(void *arg, pid_t pid, int status)
{
	struct pool_main	*pm = arg;
	char			 msg[128];

	if (WIFSIGNALED(status))
		snprintf(msg, sizeof(msg), "pool: worker %ld was killed by "
		    "signal %d", (long)pid, WTERMSIG(status));
	else
		snprintf(msg, sizeof(msg), "pool: worker %ld exited with "
		    "status %d", (long)pid, WEXITSTATUS(status));
	(void)sentry_report(pm->sentry, msg, NULL, NULL);
}

static int
worker(void *arg, int listen_fd)
{
	struct pool_main	*pm = arg;
	struct app		*app;
	int			 rc;

	log_set_program("worker");
	sentry_free(pm->sentry);	/* the supervisor's */
	pm->sentry = NULL;
	if ((app = app_new(pm->cfg)) == NULL) {
		log_event(LOG_ERROR, "worker_init_failed", NULL);
		return 1;
	}
	rc = fcgi_worker_run(listen_fd, app, pm->cfg->max_requests,
	    pm->supervisor);
	app_free(app);
	config_free(pm->cfg);
	return rc;
}

static void
usage(void)
{
	fprintf(stderr, "usage: gittinkerer-pool [-c file] [--listen "
	    "unix:PATH | HOST:PORT] [--socket-mode octal] [--workers n] "
	    "[--check-config] [--version]\n");
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "listen", required_argument, NULL, 'l' },
		{ "socket-mode", required_argument, NULL, 'm' },
		{ "workers", required_argument, NULL, 'w' },
		{ "check-config", no_argument, NULL, 'C' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	struct pool_main	 pm;
	struct pool_hooks	 hooks;
	struct pool_opts	 opts;
	const char		*listen_spec = NULL;
	char			 err[512], *end;
	unsigned long		 mode = 0;
	int64_t			 n;
	int			 ch, check_only = 0, fd, rc;

	memset(&pm, 0, sizeof(pm));
	pm.config_path = config_default_path();
	log_set_program("pool");

	while ((ch = getopt_long(argc, argv, "c:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			pm.config_path = optarg;
			break;
		case 'l':
			listen_spec = optarg;
			break;
		case 'm':
			mode = strtoul(optarg, &end, 8);
			if (*optarg == '\0' || *end != '\0' || mode > 0777) {
				fprintf(stderr, "gittinkerer-pool: "
				    "--socket-mode: not an octal mode: %s\n",
				    optarg);
				return 2;
			}
			break;
		case 'w':
			if (parse_int64(optarg, 1, 256, &n) == -1) {
				fprintf(stderr, "gittinkerer-pool: --workers: "
				    "must be from 1 to 256\n");
				return 2;
			}
			pm.workers_override = (long)n;
			break;
		case 'C':
			check_only = 1;
			break;
		case 'V':
			printf("gittinkerer-pool %s\n", PACKAGE_VERSION);
			return 0;
		default:
			usage();
			return 2;
		}
	}
	if (optind != argc) {
		usage();
		return 2;
	}

	if (check_only) {
		struct config	*cfg = config_load(pm.config_path, err,
		    sizeof(err));

		if (cfg == NULL) {
			fprintf(stderr, "gittinkerer-pool: %s\n", err);
			return 1;
		}
		config_free(cfg);
		printf("configuration ok\n");
		return 0;
	}

	if (load(&pm, &opts) == -1)
		return 1;

	/*
	 * The pool's counters (http/metrics.h), mapped once in this process,
	 * the supervisor, before any fork: every worker of every generation
	 * inherits the mapping, so no reload or replacement resets them.
	 */
	if (metrics_init() == -1) {
		log_event(LOG_ERROR, "metrics_init_failed", "error",
		    strerror(errno), NULL);
		config_free(pm.cfg);
		return 1;
	}

	/*
	 * --listen wins; then a socket passed by systemd or on fd 0; then the
	 * configuration's listen key.
	 */
	fd = listen_acquire(listen_spec, (unsigned int)mode, err, sizeof(err));
	if (fd == -1 && listen_spec == NULL && pm.cfg->listen != NULL)
		fd = listen_acquire(pm.cfg->listen, (unsigned int)mode, err,
		    sizeof(err));
	if (fd == -1) {
		log_event(LOG_ERROR, "listen_failed", "error", err, NULL);
		config_free(pm.cfg);
		return 1;
	}

	/* The supervisor calls load() again before the first workers. */
	pm.supervisor = getpid();
	hooks.arg = &pm;
	hooks.load = load;
	hooks.worker = worker;
	hooks.died = died;
	rc = supervisor_run(fd, &hooks);
	close(fd);
	sentry_free(pm.sentry);
	config_free(pm.cfg);
	return rc;
}
