/*
 * analytics.c: the window, the rates, the rounding and the days of
 * GET /api/analytics.
 */
#include <config.h>

#include <string.h>

#include "domain/arena.h"
#include "usecase/analytics.h"

/*
 * Past this magnitude a double holds no fraction worth rounding (2^52),
 * and it still converts to int64_t exactly.
 */
#define ROUND_LIMIT	4503599627370496.0

/* The days since 1970-01-01 (UTC) of ms, rounding down before 1970 too. */
static int64_t
day_of(int64_t ms)
{
	int64_t	 d = ms / ANALYTICS_DAY_MS;

	if (ms % ANALYTICS_DAY_MS < 0)
		d--;
	return d;
}

/*
 * v rounded to the nearest multiple of 1/scale, halves away from zero.
 * The whole part is split off first, so that adding a half cannot carry
 * a value just below it over the next integer.
 */
static double
round_to(double v, int64_t scale)
{
	double	 x = v * (double)scale, frac;
	int64_t	 whole;

	if (!(x < ROUND_LIMIT && x > -ROUND_LIMIT))
		return v;	/* too large to have a fraction, or NaN */
	whole = (int64_t)x;	/* towards zero */
	frac = x - (double)whole;
	if (frac >= 0.5)
		whole++;
	else if (frac <= -0.5)
		whole--;
	return (double)whole / (double)scale;
}

/*
 * succeeded / (succeeded + failed) to 4 decimals, in integers so that
 * a half is exactly a half (1/32 is 0.0313).  0 when both are 0.
 */
static int
success_rate(int64_t succeeded, int64_t failed, double *out)
{
	int64_t	 n = succeeded + failed;

	if (n <= 0)
		return 0;
	*out = (double)((succeeded * 20000 + n) / (2 * n)) / 10000.0;
	return 1;
}

/*
 * Spreads the store's days (those with runs, oldest first) over one
 * entry per day of the window, the others zero.  GT_ERR_INTERNAL when a
 * day is outside the window or out of order.
 */
static enum gt_err
fill_days(struct arena *arena, int64_t first, int days,
    const struct analytics_figures *fig, struct analytics_day **out)
{
	struct analytics_day	*all;
	size_t			 i;
	int64_t			 at, prev = first - 1;
	int			 k;

	if ((all = arena_calloc(arena, (size_t)days, sizeof(*all))) == NULL)
		return GT_ERR_NOMEM;
	for (k = 0; k < days; k++)
		all[k].day = first + k;
	for (i = 0; i < fig->ndays; i++) {
		at = fig->days[i].day;
		if (at <= prev || at >= first + days)
			return GT_ERR_INTERNAL;
		all[at - first] = fig->days[i];
		prev = at;
	}
	*out = all;
	return GT_OK;
}

enum gt_err
analytics_get(const struct analytics_ports *p, struct arena *arena, int days,
    struct analytics_report *out)
{
	struct analytics_figures	 fig;
	int64_t				 now, first;
	enum gt_err			 e;

	memset(out, 0, sizeof(*out));
	if (days < ANALYTICS_DAYS_MIN || days > ANALYTICS_DAYS_MAX)
		return GT_ERR_INVALID;

	now = p->now_ms();
	first = day_of(now) - (days - 1);
	out->days = days;
	out->from_ms = first * ANALYTICS_DAY_MS;
	out->to_ms = now;

	memset(&fig, 0, sizeof(fig));
	e = p->store->figures(p->store->ctx, arena, out->from_ms, out->to_ms,
	    ANALYTICS_TOP_REPOS, &fig);
	if (e != GT_OK)
		return e;
	if (fig.nrepos > ANALYTICS_TOP_REPOS)
		return GT_ERR_INTERNAL;
	if ((e = fill_days(arena, first, days, &fig, &out->per_day)) != GT_OK)
		return e;

	out->runs = fig.counts;
	out->has_success_rate = success_rate(fig.counts.succeeded,
	    fig.counts.failed, &out->success_rate);

	out->durations.has = fig.durations.has;
	if (fig.durations.has) {
		out->durations.avg = round_to(fig.durations.avg, 1000);
		out->durations.p50 = round_to(fig.durations.p50, 1000);
		out->durations.p95 = round_to(fig.durations.p95, 1000);
	}
	out->waits.has = fig.waits.has;
	if (fig.waits.has) {
		out->waits.avg = round_to(fig.waits.avg, 1000);
		out->waits.p95 = round_to(fig.waits.p95, 1000);
	}

	out->top_repos = fig.repos;
	out->ntop_repos = fig.nrepos;
	return GT_OK;
}
