/*
 * ctl_health.c: GET /health.
 *
 * 200 {"status": "ok" | "degraded", ...} while the database answers, 503
 * {"status": "unavailable", ...} when it does not.  Each dependency gets a
 * bounded time, so the answer comes within a second even when a server
 * hangs instead of refusing.
 */
#include <config.h>

#include "http/app.h"
#include "http/controllers.h"
#include "http/request.h"
#include "http/response.h"
#include "infra/config.h"
#include "usecase/health.h"

void
ctl_health(void *ctx, struct request *req, struct response *resp)
{
	static const char *const names[] = {
		[HEALTH_OK] = "ok",
		[HEALTH_DEGRADED] = "degraded",
		[HEALTH_UNAVAILABLE] = "unavailable",
	};
	struct app		*app = ctx;
	struct health_report	 rep;
	struct jsonw		*w;

	health_check(&app->health, app->cfg->health_timeout_ms, &rep);

	w = resp_json(resp, rep.status == HEALTH_UNAVAILABLE ? 503 : 200);
	jw_object_open(w);
	jw_key(w, "status");
	jw_string(w, names[rep.status]);
	jw_key(w, "version");
	jw_string(w, PACKAGE_VERSION);
	jw_key(w, "checks");
	jw_object_open(w);
	jw_key(w, "postgres");
	jw_string(w, rep.db_up ? "ok" : "down");
	jw_key(w, "redis");
	jw_string(w, rep.cache_up ? "ok" : "down");
	jw_object_close(w);
	jw_object_close(w);
}
