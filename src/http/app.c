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

#include "http/app.h"
#include "http/controllers.h"
#include "infra/config.h"
#include "infra/pg.h"
#include "infra/redis.h"

static const struct route routes[] = {
	{ "GET", "/health", "health", ctl_health, ROLE_NONE, 0, 0 },
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
	    (app->redis = rconn_new(cfg)) == NULL)
		goto out_free;

	app->health.ctx = app;
	app->health.db_ping = db_ping;
	app->health.cache_ping = cache_ping;

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
	pgconn_free(app->pg);
	rconn_free(app->redis);
	free(app);
}
