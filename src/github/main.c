/*
 * main.c: gittinkerer-github, the daemon that acts on GitHub.
 *
 *	gittinkerer-github [-c FILE] [--check-config] [--version]
 *
 * It sends what the service queued for GitHub (usecase/outbox.h), every
 * outbox_poll_interval seconds and at once again while there is more,
 * and, every redelivery_interval seconds, asks GitHub to send again the
 * webhook deliveries the service lost (usecase/redeliver.h).  Request
 * workers never call GitHub: this daemon does, so that a slow GitHub
 * holds no request.  Several may run against one database.  SIGTERM or
 * SIGINT: it finishes the item at hand and exits.
 *
 * It needs a GitHub App (github_app_id and its key) and refuses to start
 * without one.  This file is its wiring.
 */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/daemon.h"
#include "domain/arena.h"
#include "infra/clock.h"
#include "infra/config.h"
#include "infra/github.h"
#include "infra/github_ports.h"
#include "infra/log.h"
#include "infra/outbox_pg.h"
#include "infra/pg.h"
#include "infra/pg_store.h"
#include "infra/redelivery_pg.h"
#include "infra/redis.h"
#include "infra/sentry.h"
#include "usecase/outbox.h"
#include "usecase/redeliver.h"

#define OUTBOX_BATCH	20

struct wiring {
	struct config		*cfg;
	struct pgconn		*pg;
	struct rconn		*redis;
	struct github		*gh;
	struct pg_store		*pg_store;
	struct github_deliveries deliveries;
	struct outbox_store	 outbox_store;
	struct redelivery_store	 redelivery_store;
	struct github_port	 github;
	struct deliveries_port	 deliveries_port;
	struct outbox		*outbox;
	struct redeliver_ports	 redeliver;
	struct arena		*arena;
};

/* Where failures are reported besides the log; NULL without Sentry. */
static struct sentry	*reporter;

/*
 * The outbox's reports, logged; an item that failed for good is sent to
 * Sentry too (daemon.h).
 */
static void
report(const char *event, int64_t item, const char *error)
{
	char	 id[24], msg[256];
	int	 failed = strcmp(event, "outbox_failed") == 0;

	snprintf(id, sizeof(id), "%" PRId64, item);
	log_event(failed ? LOG_ERROR : strcmp(event, "outbox_sent") == 0 ?
	    LOG_INFO : LOG_WARN, event, "item", id, "error", error, NULL);
	if (!failed)
		return;
	snprintf(msg, sizeof(msg), "github: outbox item %s failed for good: "
	    "%s", id, error != NULL ? error : "no reason");
	daemon_report(reporter, msg);
}

static int64_t
wall_s(void)
{
	return clock_now_ms() / 1000;
}

static void
unwire(struct wiring *w)
{
	arena_free(w->arena);
	outbox_free(w->outbox);
	pg_store_free(w->pg_store);
	github_free(w->gh);
	rconn_free(w->redis);
	pgconn_free(w->pg);
}

static int
wire(struct wiring *w)
{
	const struct config	*cfg = w->cfg;
	struct outbox_conf	 oc;
	struct outbox_ports	 op;

	if ((w->pg = pgconn_new(cfg)) == NULL ||
	    (w->redis = rconn_new(cfg)) == NULL ||
	    (w->gh = github_new(cfg, w->redis)) == NULL ||
	    (w->pg_store = pg_store_new(w->pg,
	    cfg->statement_timeout_ms)) == NULL ||
	    (w->arena = arena_new()) == NULL)
		return -1;
	outbox_pg_port(w->pg_store, &w->outbox_store);
	redelivery_pg_port(w->pg_store, &w->redelivery_store);
	github_outbox_port(w->gh, &w->github);
	w->deliveries.gh = w->gh;
	github_deliveries_port(&w->deliveries, &w->deliveries_port);

	memset(&oc, 0, sizeof(oc));
	oc.max_attempts = cfg->outbox_max_attempts;
	oc.backoff_s = cfg->outbox_backoff_s;
	/* Long enough for the request to end before another takes it. */
	oc.lease_s = cfg->github_timeout_ms / 1000 * 2 + 30;
	oc.batch = OUTBOX_BATCH;
	memset(&op, 0, sizeof(op));
	op.store = &w->outbox_store;
	op.github = &w->github;
	op.now_ms = clock_mono_ms;
	op.report = report;
	if ((w->outbox = outbox_new(&oc, &op)) == NULL)
		return -1;

	w->redeliver.github = &w->deliveries_port;
	w->redeliver.store = &w->redelivery_store;
	w->redeliver.wall_s = wall_s;
	return 0;
}

/* Waits up to ms; returns 1 when a signal asks to stop. */
static int
wait_for(int sfd, int64_t ms)
{
	struct pollfd	 pfd;

	pfd.fd = sfd;
	pfd.events = POLLIN;
	if (poll(&pfd, 1, ms > 60000 ? 60000 : (int)ms) > 0)
		return daemon_read_signals(sfd);
	return 0;
}

/* One look for lost deliveries. */
static void
reconcile(struct wiring *w)
{
	const char	*why;
	char		 n[16];
	int		 asked;
	int64_t		 window_s = (int64_t)w->cfg->redelivery_hours * 3600;

	arena_reset(w->arena);
	w->deliveries.since_s = wall_s() - window_s;
	asked = redeliver_round(&w->redeliver, w->arena, window_s, &why);
	if (asked == -1) {
		log_event(LOG_WARN, "redelivery_failed", "reason", why, NULL);
		return;
	}
	snprintf(n, sizeof(n), "%d", asked);
	log_event(asked > 0 ? LOG_INFO : LOG_DEBUG, "redelivery_looked",
	    "asked", n, NULL);
}

static void
run(struct wiring *w, int sfd)
{
	const struct config	*cfg = w->cfg;
	int64_t			 next_look = 0, now, wait_ms, held;
	int			 n;

	log_event(LOG_INFO, "github_started", NULL);
	for (;;) {
		now = clock_mono_ms();
		if (cfg->redelivery_interval_s > 0 && now >= next_look) {
			reconcile(w);
			next_look = now + (int64_t)cfg->redelivery_interval_s *
			    1000;
		}

		n = outbox_round(w->outbox);
		wait_ms = (int64_t)cfg->outbox_poll_s * 1000;
		if (n >= OUTBOX_BATCH)
			wait_ms = 0;		/* there may be more */
		if ((held = outbox_held_ms(w->outbox)) > 0 && held < wait_ms)
			wait_ms = held;
		if (wait_for(sfd, wait_ms))
			break;
	}
	log_event(LOG_INFO, "github_stopped", NULL);
}

int
main(int argc, char *argv[])
{
	struct daemon_args	 args;
	struct wiring		 w;
	char			 err[512];
	int			 sfd, rc = 0;

	log_set_program("github");
	if ((rc = daemon_args("gittinkerer-github", argc, argv, &args)) != -1)
		return rc;
	rc = 0;

	memset(&w, 0, sizeof(w));
	if ((w.cfg = config_load(args.config_path, err, sizeof(err))) ==
	    NULL) {
		fprintf(stderr, "gittinkerer-github: %s\n", err);
		return 1;
	}
	if (w.cfg->github_app_id == 0) {
		fprintf(stderr, "gittinkerer-github: github_app_id is not "
		    "set: without a GitHub App there is nothing to send\n");
		config_free(w.cfg);
		return 1;
	}
	if (args.check_only) {
		printf("configuration ok\n");
		config_free(w.cfg);
		return 0;
	}
	log_set_level((enum log_level)w.cfg->log_level);

	if ((sfd = daemon_signal_fd(0)) == -1) {
		log_event(LOG_ERROR, "github_signals_failed", "error",
		    strerror(errno), NULL);
		config_free(w.cfg);
		return 1;
	}
	reporter = sentry_new(w.cfg, "github");
	if (wire(&w) == -1) {
		log_event(LOG_ERROR, "github_init_failed", NULL);
		(void)sentry_report(reporter, "github: it could not set itself "
		    "up", NULL, NULL);
		rc = 1;
	} else
		run(&w, sfd);
	unwire(&w);
	sentry_free(reporter);
	close(sfd);
	config_free(w.cfg);
	return rc;
}
