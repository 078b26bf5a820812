/*
 * metrics.h: the worker pool's counters, and GET /metrics's text.
 *
 * The counters belong to the pool, not to one worker: they live in one
 * table of shared memory that the supervisor maps (anonymous, MAP_SHARED)
 * before it forks the first worker.  Every worker, a replacement or a
 * worker of a later generation included, inherits the mapping at fork and
 * adds to the same table, so a worker's death, its recycling after
 * max_requests, or a SIGHUP (a new generation forked by the same
 * supervisor, which keeps its mapping) loses nothing already counted.
 * Only the supervisor's exit ends the table: Prometheus sees that restart
 * as a counter reset.
 *
 * Each counter is a 64-bit C11 atomic, added to with one relaxed
 * fetch-and-add, so concurrent workers never lose an increment and a
 * worker killed at any moment leaves every counter either before or
 * after its addition.  The atomics are lock-free, as memory shared by
 * processes needs (C11 7.17.5: lock-free operations are address-free).
 * The counters of one request are not added as one step: a scrape may
 * see its requests_total before its duration, never one of them twice.
 *
 * Everything is bounded and fixed at build time: METRICS_ROUTES_MAX
 * routes plus one slot for requests no route matched (404, 405 and 400
 * for a malformed path), every status from 100 to 599, the duration
 * buckets below, the rate limits and the webhook outcomes.  The table is
 * a little over 130 KiB.
 *
 * The text is the Prometheus exposition format 0.0.4: families of
 * samples, each after its "# HELP" and "# TYPE" lines, label values with
 * '\\', '"' and newline escaped.
 */
#ifndef GT_METRICS_H
#define GT_METRICS_H

#include <stddef.h>
#include <stdint.h>

struct buf;
struct gauge_report;
struct route;
struct webhook_answer;

#define METRICS_CONTENT_TYPE	"text/plain; version=0.0.4; charset=utf-8"

/* Routes counted; the routes table (app.c) may not hold more. */
#define METRICS_ROUTES_MAX	32

/* The route index of a request no route matched. */
#define METRICS_UNMATCHED	(-1)

/*
 * Maps the table, zeroed, in the calling process: the supervisor, before
 * it forks.  A second call keeps the table mapped first.  Returns 0, or
 * -1 with errno set when the memory cannot be mapped.  Until it is
 * called, counting does nothing and the counters render as zero.
 */
int	 metrics_init(void);

/* Unmaps the table; counting does nothing again.  For tests. */
void	 metrics_free(void);

/*
 * Counts one answered request: route is its index in the routes table,
 * or METRICS_UNMATCHED (an index out of range counts as unmatched);
 * status its HTTP status (one outside 100-599 counts as 500); and
 * duration_us the time from its arrival to its answer.
 */
void	 metrics_count_request(int route, int status, int64_t duration_us);

/* Where a run creation was refused by a rate limit. */
enum metrics_source {
	METRICS_API,		/* POST /api/runs */
	METRICS_WEBHOOK		/* a comment delivered by GitHub */
};

/*
 * Counts one refusal by the limit named limit ("repo", "requester"; NULL
 * or another name counts as "unknown").
 */
void	 metrics_count_rate_limited(enum metrics_source,
	    const char *limit);

/*
 * Counts one webhook delivery by its answer's status and reason, and,
 * for a rate_limited one, the rate-limit refusal too.  A reason outside
 * webhook.h's list counts as "other".
 */
void	 metrics_count_webhook(const struct webhook_answer *);

/*
 * Appends the counters to out: requests and their durations by route,
 * named from routes (nroutes entries, as counted), rate-limit refusals
 * and webhook outcomes.  Memory shortage is left in out->oom.
 */
void	 metrics_render(struct buf *out, const struct route *routes,
	    size_t nroutes);

/*
 * Appends the scrape-time gauges of rep to out: which dependency
 * answered, and what each one that did gave.
 */
void	 metrics_render_gauges(struct buf *out, const struct gauge_report *);

#endif
