/*
 * ctl_analytics.c: GET /api/analytics?days=N.
 *
 * days is 1 to 365 (default 30); anything else, given twice or not a
 * plain decimal number, is 400 invalid_parameter before the database is
 * asked.  The figures are written in the contract's shape, with null for
 * a rate or a statistic over no runs.
 */
#include <config.h>

#include "domain/jsonw.h"
#include "domain/text.h"
#include "domain/timefmt.h"
#include "http/app.h"
#include "http/controllers.h"
#include "http/request.h"
#include "http/response.h"
#include "infra/log.h"
#include "usecase/analytics.h"

#define RATE_DECIMALS		4
#define SECONDS_DECIMALS	3
#define DATE_LEN		10	/* RFC 3339's full-date: 2026-11-04 */

/* Reads days into *days: 0, or -1 with the 400 answered. */
static int
read_days(struct request *req, struct response *resp, int *days)
{
	const char	*v;
	int64_t		 n = ANALYTICS_DAYS_DEFAULT;
	int		 bad = 0;

	v = req_query(req, "days", &bad);
	if (bad || (v != NULL && parse_int64(v, ANALYTICS_DAYS_MIN,
	    ANALYTICS_DAYS_MAX, &n) == -1)) {
		resp_error(resp, 400, "invalid_parameter", "days must be a "
		    "whole number of days from 1 to 365, given once.");
		return -1;
	}
	*days = (int)n;
	return 0;
}

static void
write_time(struct jsonw *w, const char *key, int64_t ms)
{
	char	 t[TIME_RFC3339_LEN];

	jw_key(w, key);
	jw_string(w, time_format_rfc3339(ms, t, sizeof(t)));
}

/* A number of seconds, or null when has is 0. */
static void
write_seconds(struct jsonw *w, const char *key, int has, double v)
{
	jw_key(w, key);
	if (has)
		jw_double(w, v, SECONDS_DECIMALS);
	else
		jw_null(w);
}

static void
write_counts(struct jsonw *w, const struct analytics_counts *c)
{
	jw_key(w, "runs");
	jw_object_open(w);
	jw_key(w, "total");
	jw_int(w, c->total);
	jw_key(w, "queued");
	jw_int(w, c->queued);
	jw_key(w, "running");
	jw_int(w, c->running);
	jw_key(w, "succeeded");
	jw_int(w, c->succeeded);
	jw_key(w, "failed");
	jw_int(w, c->failed);
	jw_key(w, "cancelled");
	jw_int(w, c->cancelled);
	jw_object_close(w);
}

static void
write_stats(struct jsonw *w, const struct analytics_report *r)
{
	jw_key(w, "duration_seconds");
	jw_object_open(w);
	write_seconds(w, "avg", r->durations.has, r->durations.avg);
	write_seconds(w, "p50", r->durations.has, r->durations.p50);
	write_seconds(w, "p95", r->durations.has, r->durations.p95);
	jw_object_close(w);

	jw_key(w, "queue_wait_seconds");
	jw_object_open(w);
	write_seconds(w, "avg", r->waits.has, r->waits.avg);
	write_seconds(w, "p95", r->waits.has, r->waits.p95);
	jw_object_close(w);
}

static void
write_per_day(struct jsonw *w, const struct analytics_report *r)
{
	char	 t[TIME_RFC3339_LEN];
	int	 i;

	jw_key(w, "per_day");
	jw_array_open(w);
	for (i = 0; i < r->days; i++) {
		jw_object_open(w);
		jw_key(w, "date");
		time_format_rfc3339(r->per_day[i].day * ANALYTICS_DAY_MS, t,
		    sizeof(t));
		jw_stringn(w, t, DATE_LEN);
		jw_key(w, "total");
		jw_int(w, r->per_day[i].total);
		jw_key(w, "succeeded");
		jw_int(w, r->per_day[i].succeeded);
		jw_key(w, "failed");
		jw_int(w, r->per_day[i].failed);
		jw_object_close(w);
	}
	jw_array_close(w);
}

static void
write_top_repos(struct jsonw *w, const struct analytics_report *r)
{
	size_t	 i;

	jw_key(w, "top_repos");
	jw_array_open(w);
	for (i = 0; i < r->ntop_repos; i++) {
		jw_object_open(w);
		jw_key(w, "repo");
		jw_string(w, r->top_repos[i].repo);
		jw_key(w, "total");
		jw_int(w, r->top_repos[i].total);
		jw_key(w, "succeeded");
		jw_int(w, r->top_repos[i].succeeded);
		jw_key(w, "failed");
		jw_int(w, r->top_repos[i].failed);
		jw_object_close(w);
	}
	jw_array_close(w);
}

void
ctl_analytics(void *ctx, struct request *req, struct response *resp)
{
	struct app		*app = ctx;
	struct analytics_report	 r;
	struct jsonw		*w;
	enum gt_err		 e;
	int			 days;

	if (read_days(req, resp, &days) == -1)
		return;
	if ((e = analytics_get(&app->analytics, req->arena, days, &r)) !=
	    GT_OK) {
		if (e != GT_ERR_UNAVAILABLE)
			log_event(LOG_ERROR, "analytics_failed", "error",
			    gt_err_name(e), NULL);
		resp_from_err(resp, e, NULL);
		return;
	}

	w = resp_json(resp, 200);
	jw_object_open(w);
	jw_key(w, "window");
	jw_object_open(w);
	write_time(w, "from", r.from_ms);
	write_time(w, "to", r.to_ms);
	jw_key(w, "days");
	jw_int(w, r.days);
	jw_object_close(w);

	write_counts(w, &r.runs);
	jw_key(w, "success_rate");
	if (r.has_success_rate)
		jw_double(w, r.success_rate, RATE_DECIMALS);
	else
		jw_null(w);
	write_stats(w, &r);
	write_per_day(w, &r);
	write_top_repos(w, &r);

	jw_key(w, "sources");
	jw_object_open(w);
	jw_key(w, "api");
	jw_int(w, r.runs.api);
	jw_key(w, "webhook");
	jw_int(w, r.runs.webhook);
	jw_object_close(w);
	jw_object_close(w);
}
