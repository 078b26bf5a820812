/*
 * app.h: one worker's application: its adapters, its use cases' ports and
 * its routes, wired together in app.c.
 */
#ifndef GT_APP_H
#define GT_APP_H

#include "http/dispatch.h"
#include "usecase/admin.h"
#include "usecase/analytics.h"
#include "usecase/gauges.h"
#include "usecase/health.h"
#include "usecase/ports.h"
#include "usecase/runs.h"
#include "usecase/webhook.h"

struct artifacts_fs;
struct config;
struct limiter_redis;
struct memo;
struct pg_store;
struct pgconn;
struct rconn;
struct run_cache_redis;

struct app {
	const struct config	*cfg;
	struct pgconn		*pg;
	struct rconn		*redis;

	/* The adapters, on the connections above. */
	struct pg_store		*pg_store;	/* for the PostgreSQL ones */
	struct run_cache_redis	*cache_redis;
	struct limiter_redis	*limiter_redis;
	struct artifacts_fs	*artifacts_fs;

	/* The ports they fill. */
	struct run_store	 store;
	struct run_cache	 cache;
	struct limiter		 limiter;
	struct artifact_store	 artifacts;
	struct webhook_store	 webhook_store;
	struct analytics_store	 analytics_store;
	struct admin_store	 admin_store;

	/* The use cases' ports, filled with the adapters above. */
	struct health_ports	 health;
	struct runs_ports	 runs;
	struct webhook_ports	 webhook;
	struct analytics_ports	 analytics;
	struct admin_ports	 admin;
	struct gauge_ports	 gauges;		/* for GET /metrics */

	struct dispatch_conf	 dispatch;

	/*
	 * The bodies of GET /api/runs/:run_id for finished runs, which never
	 * change: a poll of one needs neither Redis nor the artifacts
	 * folder again.  Bounded by APP_FINISHED_SLOTS * APP_FINISHED_MAX.
	 */
	struct memo		*finished;
};

#define APP_FINISHED_SLOTS	128
#define APP_FINISHED_MAX	8192

/*
 * Builds a worker's application on cfg, which must outlive it.  No server
 * is contacted yet.  Returns NULL when memory is short.  Free it with
 * app_free().
 */
struct app	*app_new(const struct config *cfg);

/* Closes the connections and frees the application.  Accepts NULL. */
void		 app_free(struct app *);

#endif
