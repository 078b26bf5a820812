/*
 * ctl_metrics.c: GET /metrics, in Prometheus's text format 0.0.4.
 *
 * No token: nginx serves the path to the addresses its configuration
 * allows and to no other (nginx/local.conf.in; README.md, Metrics).
 * Always 200 with what could be read: the pool's counters come from
 * shared memory and cannot fail; PostgreSQL and Redis each get
 * health_timeout_ms (at most 450 ms), so the answer comes within a second
 * even when both hang, and gittinkerer_dependency_up says which did not
 * answer.
 */
#include <config.h>

#include "domain/buf.h"
#include "http/app.h"
#include "http/controllers.h"
#include "http/metrics.h"
#include "http/request.h"
#include "http/response.h"
#include "infra/config.h"
#include "usecase/gauges.h"

void
ctl_metrics(void *ctx, struct request *req, struct response *resp)
{
	struct app		*app = ctx;
	struct gauge_report	 rep;
	struct buf		*out;

	gauges_read(&app->gauges, app->cfg->health_timeout_ms, &rep);

	out = resp_body(resp, 200, METRICS_CONTENT_TYPE);
	metrics_render(out, app->dispatch.routes, app->dispatch.nroutes);
	metrics_render_gauges(out, &rep);
}
