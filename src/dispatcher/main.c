/*
 * main.c: gittinkerer-dispatcher, the daemon that runs the runs.
 *
 *	gittinkerer-dispatcher [-c FILE] [--check-config] [--version]
 *
 * It claims queued runs from PostgreSQL, starts the configured runner for
 * each, watches it, and records what came of it (see usecase/dispatcher.h
 * for the rounds, infra/runner_proc.h for the processes).  It sleeps in
 * poll(2) on the queue's LISTEN connection, the runners' output, and a
 * signalfd for SIGCHLD, SIGTERM and SIGINT, never longer than the next
 * round is due.  SIGTERM or SIGINT: stop claiming, ask the runners to
 * stop, record their outcomes, exit.
 *
 * This file is the dispatcher's wiring: every adapter it uses is made and
 * given to the use case here.
 */
#include <config.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/daemon.h"
#include "infra/clock.h"
#include "infra/config.h"
#include "infra/github.h"
#include "infra/log.h"
#include "infra/pg.h"
#include "infra/redis.h"
#include "infra/run_cache_redis.h"
#include "infra/run_queue_pg.h"
#include "infra/runner_proc.h"
#include "infra/sentry.h"
#include "usecase/dispatcher.h"

/* How long a stopping dispatcher waits for its runs past the grace. */
#define STOP_SLACK_MS	5000

struct wiring {
	struct config		*cfg;
	struct pgconn		*pg;
	struct rconn		*redis;
	struct github		*gh;		/* NULL without an App */
	struct run_queue_pg	*queue_pg;
	struct run_cache_redis	*cache_redis;
	struct runner_proc	*runners;
	struct run_queue	 queue;
	struct run_cache	 cache;
	struct runner_port	 runner;
	struct dispatcher	*d;
	char			 id[128];
};

/* Where failures are reported besides the log; NULL without Sentry. */
static struct sentry	*reporter;

/* The use case's reports: logged, and sent to Sentry (daemon.h). */
static void
report(const char *what, const char *run_id)
{
	char	 msg[512];

	log_event(LOG_ERROR, "dispatcher_failure", "run", run_id, "error",
	    what, NULL);
	snprintf(msg, sizeof(msg), "dispatcher: %s (run %s)", what,
	    run_id != NULL ? run_id : "none");
	daemon_report(reporter, msg);
}

static void
unwire(struct wiring *w)
{
	dispatcher_free(w->d);
	runner_proc_free(w->runners);
	github_free(w->gh);
	run_cache_redis_free(w->cache_redis);
	run_queue_pg_free(w->queue_pg);
	rconn_free(w->redis);
	pgconn_free(w->pg);
}

static int
wire(struct wiring *w)
{
	const struct config	*cfg = w->cfg;
	struct dispatcher_conf	 dc;
	struct dispatcher_ports	 dp;
	char			 host[64];

	if (cfg->dispatcher_id != NULL)
		snprintf(w->id, sizeof(w->id), "%s", cfg->dispatcher_id);
	else {
		if (gethostname(host, sizeof(host)) == -1)
			snprintf(host, sizeof(host), "localhost");
		host[sizeof(host) - 1] = '\0';
		snprintf(w->id, sizeof(w->id), "%s:%ld", host, (long)getpid());
	}

	if ((w->pg = pgconn_new(cfg)) == NULL ||
	    (w->redis = rconn_new(cfg)) == NULL ||
	    (w->queue_pg = run_queue_pg_new(w->pg, cfg,
	    cfg->statement_timeout_ms)) == NULL ||
	    (w->cache_redis = run_cache_redis_new(w->redis)) == NULL ||
	    (w->runners = runner_proc_new(cfg, cfg->dispatcher_slots)) == NULL)
		return -1;
	if (cfg->github_app_id != 0) {
		if ((w->gh = github_new(cfg, w->redis)) == NULL)
			return -1;
		runner_proc_set_github(w->runners, w->gh);
	}
	run_queue_pg_port(w->queue_pg, &w->queue);
	run_cache_redis_port(w->cache_redis, &w->cache);
	runner_proc_port(w->runners, &w->runner);

	memset(&dc, 0, sizeof(dc));
	dc.id = w->id;
	dc.slots = cfg->dispatcher_slots;
	dc.timeout_ms = (int64_t)cfg->run_timeout_s * 1000;
	dc.grace_ms = (int64_t)cfg->run_grace_s * 1000;
	dc.lease_ms = (int64_t)cfg->lease_s * 1000;
	dc.heartbeat_ms = (int64_t)cfg->heartbeat_s * 1000;
	dc.poll_ms = (int64_t)cfg->poll_s * 1000;
	memset(&dp, 0, sizeof(dp));
	dp.queue = &w->queue;
	dp.cache = &w->cache;
	dp.runner = &w->runner;
	dp.now_ms = clock_mono_ms;
	dp.wall_ms = clock_now_ms;
	dp.report = report;
	if ((w->d = dispatcher_new(&dc, &dp)) == NULL)
		return -1;
	return 0;
}

static int
run(struct wiring *w, int sfd)
{
	struct pollfd	 pfds[2 + DISPATCHER_MAX_SLOTS];
	const struct run_queue *q = &w->queue;
	int64_t		 next, stop_by = 0;
	size_t		 n;
	int		 rc;

	log_event(LOG_INFO, "dispatcher_started", "id", w->id, NULL);
	for (;;) {
		dispatcher_tick(w->d);
		if (stop_by != 0 && dispatcher_running(w->d) == 0)
			break;
		if (stop_by != 0 && clock_mono_ms() > stop_by) {
			report("runners outlived the stop's grace period",
			    NULL);
			break;
		}

		pfds[0].fd = sfd;
		pfds[0].events = POLLIN;
		pfds[1].fd = q->wait_fd(q->ctx);
		pfds[1].events = POLLIN;
		n = 2 + runner_proc_pollfds(w->runners, pfds + 2,
		    DISPATCHER_MAX_SLOTS);
		next = dispatcher_next_ms(w->d);
		rc = poll(pfds, n, (int)(next > 1000 ? 1000 : next));
		if (rc == -1 && errno != EINTR) {
			report(strerror(errno), NULL);
			return 1;
		}
		runner_proc_pump(w->runners);
		if (q->drain(q->ctx) > 0)
			dispatcher_poke(w->d);
		if ((pfds[0].revents & POLLIN) && daemon_read_signals(sfd) &&
		    stop_by == 0) {
			log_event(LOG_INFO, "dispatcher_stopping", NULL);
			dispatcher_stop(w->d);
			stop_by = clock_mono_ms() + (int64_t)w->cfg->run_grace_s *
			    1000 + STOP_SLACK_MS;
		}
	}
	log_event(LOG_INFO, "dispatcher_stopped", NULL);
	return 0;
}

int
main(int argc, char *argv[])
{
	struct daemon_args	 args;
	struct wiring		 w;
	char			 err[512];
	int			 sfd, rc;

	log_set_program("dispatcher");
	if ((rc = daemon_args("gittinkerer-dispatcher", argc, argv,
	    &args)) != -1)
		return rc;

	memset(&w, 0, sizeof(w));
	if ((w.cfg = config_load(args.config_path, err, sizeof(err))) ==
	    NULL) {
		fprintf(stderr, "gittinkerer-dispatcher: %s\n", err);
		return 1;
	}
	if (args.check_only) {
		printf("configuration ok\n");
		config_free(w.cfg);
		return 0;
	}
	log_set_level((enum log_level)w.cfg->log_level);

	if ((sfd = daemon_signal_fd(1)) == -1) {
		log_event(LOG_ERROR, "dispatcher_signals_failed", "error",
		    strerror(errno), NULL);
		config_free(w.cfg);
		return 1;
	}
	reporter = sentry_new(w.cfg, "dispatcher");
	if (wire(&w) == -1) {
		report("it could not set itself up", NULL);
		rc = 1;
	} else
		rc = run(&w, sfd);
	unwire(&w);
	sentry_free(reporter);
	close(sfd);
	config_free(w.cfg);
	return rc;
}
