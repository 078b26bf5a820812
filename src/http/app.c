/*
 * app.c: the wiring of a worker.
 *
 * This is the one place where adapters meet use cases: it opens the
 * worker's PostgreSQL and Redis handles, fills each use case's ports with
 * them, and lists the routes with their controllers, roles and body caps.
 * Reading this file shows the whole graph of a worker.
 */
#include <config.h>

#include <stdlib.h>

#include "domain/memo.h"
#include "http/app.h"
#include "http/controllers.h"
#include "infra/admin_pg.h"
#include "infra/analytics_pg.h"
#include "infra/artifacts_fs.h"
#include "infra/clock.h"
#include "infra/config.h"
#include "infra/github_quota_redis.h"
#include "infra/limiter_redis.h"
#include "infra/metrics_pg.h"
#include "infra/pg.h"
#include "infra/pg_store.h"
#include "infra/redis.h"
#include "infra/run_cache_redis.h"
#include "infra/run_store_pg.h"
#include "infra/webhook_store_pg.h"

#define API_BODY_MAX	(64 * 1024)
#define WEBHOOK_BODY_MAX (25 * 1024 * 1024)	/* GitHub's own cap */

/* Every route: method, pattern, name for logs, controller, role, body cap. */
static const struct route routes[] = {
	{ "GET", "/health", "health", ctl_health, ROLE_NONE, 0, 0 },
	{ "POST", "/api/runs", "runs.create", ctl_runs_create, ROLE_OPERATOR,
	    API_BODY_MAX, ROUTE_JSON_BODY },
	{ "GET", "/api/runs", "runs.list", ctl_runs_list, ROLE_OPERATOR, 0,
	    0 },
	{ "GET", "/api/runs/:run_id", "runs.get", ctl_runs_get,
	    ROLE_OPERATOR, 0, 0 },
	{ "POST", "/api/runs/:run_id/cancel", "runs.cancel", ctl_runs_cancel,
	    ROLE_OPERATOR, API_BODY_MAX, 0 },
	{ "GET", "/api/runs/:run_id/artifacts/:name", "runs.artifact",
	    ctl_runs_artifact, ROLE_OPERATOR, 0, 0 },
	{ "POST", "/api/github/webhook", "github.webhook", ctl_webhook,
	    ROLE_NONE, WEBHOOK_BODY_MAX, 0 },
	{ "GET", "/api/analytics", "analytics", ctl_analytics, ROLE_OPERATOR, 0, 0 },
	{ "GET", "/metrics", "metrics", ctl_metrics, ROLE_NONE, 0, 0 },
	{ "POST", "/api/admin/pause-repo", "admin.pause_repo",
	    ctl_admin_pause_repo, ROLE_ADMIN, API_BODY_MAX, ROUTE_JSON_BODY },
	{ "POST", "/api/admin/resume-repo", "admin.resume_repo",
	    ctl_admin_resume_repo, ROLE_ADMIN, API_BODY_MAX, ROUTE_JSON_BODY },
	{ "POST", "/api/admin/pause-target", "admin.pause_target",
	    ctl_admin_pause_target, ROLE_ADMIN, API_BODY_MAX, ROUTE_JSON_BODY },
	{ "POST", "/api/admin/resume-target", "admin.resume_target",
	    ctl_admin_resume_target, ROLE_ADMIN, API_BODY_MAX,
	    ROUTE_JSON_BODY },
	{ "GET", "/api/admin/paused", "admin.paused", ctl_admin_paused,
	    ROLE_ADMIN, 0, 0 },
	{ "PUT", "/api/admin/rate-limits/:owner/:name", "admin.set_limit",
	    ctl_admin_set_limit, ROLE_ADMIN, API_BODY_MAX, ROUTE_JSON_BODY },
	{ "DELETE", "/api/admin/rate-limits/:owner/:name",
	    "admin.remove_limit", ctl_admin_remove_limit, ROLE_ADMIN, 0, 0 },
};

static int
db_ping(void *ctx, int timeout_ms)
{
	struct app	*app = ctx;

	return pgconn_ping(app->pg, timeout_ms);
}

static int
cache_ping(void *ctx, int timeout_ms)
{
	struct app	*app = ctx;

	return rconn_ping(app->redis, timeout_ms);
}

struct app *
app_new(const struct config *cfg)
{
	struct app	*app;

	if ((app = calloc(1, sizeof(*app))) == NULL)
		return NULL;
	app->cfg = cfg;
	if ((app->pg = pgconn_new(cfg)) == NULL ||
	    (app->redis = rconn_new(cfg)) == NULL ||
	    (app->pg_store = pg_store_new(app->pg,
	    cfg->statement_timeout_ms)) == NULL ||
	    (app->cache_redis = run_cache_redis_new(app->redis)) == NULL ||
	    (app->limiter_redis = limiter_redis_new(app->redis)) == NULL ||
	    (app->artifacts_fs = artifacts_fs_new(cfg->artifacts_root)) == NULL ||
	    (app->finished = memo_new(APP_FINISHED_SLOTS,
	    APP_FINISHED_MAX)) == NULL)
		goto out_free;
	run_store_pg_port(app->pg_store, &app->store);
	run_cache_redis_port(app->cache_redis, &app->cache);
	limiter_redis_port(app->limiter_redis, &app->limiter);
	artifacts_fs_port(app->artifacts_fs, &app->artifacts);
	webhook_store_pg_port(app->pg_store, &app->webhook_store);
	analytics_pg_port(app->pg_store, &app->analytics_store);
	admin_pg_port(app->pg_store, &app->admin_store);

	app->health.ctx = app;
	app->health.db_ping = db_ping;
	app->health.cache_ping = cache_ping;

	app->runs.store = &app->store;
	app->runs.cache = &app->cache;
	app->runs.limiter = &app->limiter;
	app->runs.artifacts = &app->artifacts;
	app->runs.limits.repo_limit = cfg->repo_rate_limit;
	app->runs.limits.repo_window_s = cfg->repo_rate_window_s;
	app->runs.limits.requester_limit = cfg->requester_rate_limit;
	app->runs.limits.requester_window_s = cfg->requester_rate_window_s;

	app->webhook.runs = &app->runs;
	app->webhook.store = &app->webhook_store;
	app->webhook.conf.command = cfg->webhook_command;
	app->webhook.conf.associations = cfg->webhook_associations;
	app->webhook.conf.nassociations = cfg->webhook_associations_n;

	app->analytics.store = &app->analytics_store;
	app->analytics.now_ms = clock_now_ms;

	app->admin.store = &app->admin_store;

	metrics_pg_port(app->pg, &app->gauges);
	github_quota_redis_port(app->redis, &app->gauges);

	app->dispatch.routes = routes;
	app->dispatch.nroutes = sizeof(routes) / sizeof(routes[0]);
	app->dispatch.ctx = app;
	app->dispatch.operator_tokens = cfg->operator_tokens;
	app->dispatch.operator_tokens_n = cfg->operator_tokens_n;
	app->dispatch.admin_tokens = cfg->admin_tokens;
	app->dispatch.admin_tokens_n = cfg->admin_tokens_n;
	return app;

out_free:
	app_free(app);
	return NULL;
}

void
app_free(struct app *app)
{
	if (app == NULL)
		return;
	memo_free(app->finished);
	artifacts_fs_free(app->artifacts_fs);
	limiter_redis_free(app->limiter_redis);
	run_cache_redis_free(app->cache_redis);
	pg_store_free(app->pg_store);
	pgconn_free(app->pg);
	rconn_free(app->redis);
	free(app);
}
