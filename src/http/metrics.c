/*
 * metrics.c: the pool's shared counters and the Prometheus text.
 *
 * The table is one struct in an anonymous shared mapping; see metrics.h
 * for who maps it and why it outlives workers.  Route names are not in
 * it: the routes table is static, the same in every process forked from
 * the supervisor, so an index is enough.
 */
#include <config.h>

#include <sys/mman.h>

#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#include "domain/buf.h"
#include "domain/run.h"
#include "http/metrics.h"
#include "http/router.h"
#include "usecase/gauges.h"
#include "usecase/webhook.h"

_Static_assert(ATOMIC_LLONG_LOCK_FREE == 2,
    "counters shared between processes need lock-free atomics");

#define NSLOTS		(METRICS_ROUTES_MAX + 1)
#define UNMATCHED_SLOT	METRICS_ROUTES_MAX
#define STATUS_MIN	100
#define STATUS_MAX	599
#define NSTATUS		(STATUS_MAX - STATUS_MIN + 1)

/*
 * The duration buckets' upper bounds, in microseconds and as Prometheus
 * writes them: the client libraries' defaults, from 5 ms to 10 s.
 */
static const struct {
	int64_t		 us;
	const char	*le;
} buckets[] = {
	{ 5000, "0.005" }, { 10000, "0.01" }, { 25000, "0.025" },
	{ 50000, "0.05" }, { 100000, "0.1" }, { 250000, "0.25" },
	{ 500000, "0.5" }, { 1000000, "1" }, { 2500000, "2.5" },
	{ 5000000, "5" }, { 10000000, "10" },
};
#define NBUCKETS	(sizeof(buckets) / sizeof(buckets[0]))

static const char *const sources[] = {
	[METRICS_API] = "api",
	[METRICS_WEBHOOK] = "webhook",
};
#define NSOURCES	(sizeof(sources) / sizeof(sources[0]))

/* The last is where any other name goes. */
static const char *const limits[] = { "repo", "requester", "unknown" };
#define NLIMITS		(sizeof(limits) / sizeof(limits[0]))

/*
 * The webhook outcomes of webhook.h: a reason for "ignored" only.  The
 * last is where a reason this list lacks goes.
 */
static const struct {
	const char	*status;
	const char	*reason;
} outcomes[] = {
	{ "pong", NULL }, { "duplicate", NULL }, { "cancelled", NULL },
	{ "accepted", NULL },
	{ "ignored", "unsupported_event" }, { "ignored", "not_authorized" },
	{ "ignored", "no_trigger" }, { "ignored", "empty_instruction" },
	{ "ignored", "instruction_too_long" },
	{ "ignored", "nothing_to_cancel" }, { "ignored", "repo_paused" },
	{ "ignored", "target_paused" }, { "ignored", "rate_limited" },
	{ "ignored", "other" },
};
#define NOUTCOMES	(sizeof(outcomes) / sizeof(outcomes[0]))

struct table {
	atomic_ullong	 requests[NSLOTS][NSTATUS];
	atomic_ullong	 bucket[NSLOTS][NBUCKETS + 1]; /* last: over 10 s */
	atomic_ullong	 duration_us[NSLOTS];
	atomic_ullong	 rate_limited[NSOURCES][NLIMITS];
	atomic_ullong	 webhooks[NOUTCOMES];
};

/* Set in the supervisor before the fork; inherited by every worker. */
static struct table	*shared;

int
metrics_init(void)
{
	void	*p;

	if (shared != NULL)
		return 0;
	p = mmap(NULL, sizeof(*shared), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return -1;
	/* An anonymous mapping is zeroed, and zero is a valid atomic. */
	shared = p;
	return 0;
}

void
metrics_free(void)
{
	if (shared == NULL)
		return;
	(void)munmap(shared, sizeof(*shared));
	shared = NULL;
}

static void
add(atomic_ullong *counter)
{
	atomic_fetch_add_explicit(counter, 1, memory_order_relaxed);
}

static unsigned long long
get(const atomic_ullong *counter)
{
	return atomic_load_explicit(counter, memory_order_relaxed);
}

void
metrics_count_request(int route, int status, int64_t duration_us)
{
	size_t	 slot, b;

	if (shared == NULL)
		return;
	slot = route >= 0 && route < METRICS_ROUTES_MAX ? (size_t)route :
	    UNMATCHED_SLOT;
	if (status < STATUS_MIN || status > STATUS_MAX)
		status = 500;
	if (duration_us < 0)
		duration_us = 0;

	for (b = 0; b < NBUCKETS && duration_us > buckets[b].us; b++)
		continue;
	add(&shared->requests[slot][status - STATUS_MIN]);
	add(&shared->bucket[slot][b]);
	atomic_fetch_add_explicit(&shared->duration_us[slot],
	    (unsigned long long)duration_us, memory_order_relaxed);
}

void
metrics_count_rate_limited(enum metrics_source source, const char *limit)
{
	size_t	 i;

	if (shared == NULL || (size_t)source >= NSOURCES)
		return;
	for (i = 0; i < NLIMITS - 1; i++)
		if (limit != NULL && strcmp(limit, limits[i]) == 0)
			break;
	add(&shared->rate_limited[source][i]);
}

void
metrics_count_webhook(const struct webhook_answer *a)
{
	const char	*status = webhook_status_name(a->status);
	size_t		 i;

	if (shared == NULL || status == NULL)
		return;
	for (i = 0; i < NOUTCOMES - 1; i++) {
		if (strcmp(outcomes[i].status, status) != 0)
			continue;
		if (outcomes[i].reason == NULL || (a->reason != NULL &&
		    strcmp(outcomes[i].reason, a->reason) == 0))
			break;
	}
	if (i == NOUTCOMES - 1 && strcmp(status, "ignored") != 0)
		return;	/* a status webhook.h does not list */
	add(&shared->webhooks[i]);

	if (a->status == WEBHOOK_IGNORED && a->reason != NULL &&
	    strcmp(a->reason, "rate_limited") == 0)
		metrics_count_rate_limited(METRICS_WEBHOOK, a->limit);
}

/* ------------------------------------------------------------------ */
/* The text */

static void
family(struct buf *out, const char *name, const char *type,
    const char *help)
{
	(void)buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help,
	    name, type);
}

/* A label value, escaped as the format asks: \\, \" and \n. */
static void
label_value(struct buf *out, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '\\')
			(void)buf_puts(out, "\\\\");
		else if (*s == '"')
			(void)buf_puts(out, "\\\"");
		else if (*s == '\n')
			(void)buf_puts(out, "\\n");
		else
			(void)buf_putc(out, *s);
	}
}

/* Starts a sample: name{label="value" (the caller closes the braces). */
static void
sample(struct buf *out, const char *name, const char *label,
    const char *value)
{
	(void)buf_printf(out, "%s{%s=\"", name, label);
	label_value(out, value);
	(void)buf_putc(out, '"');
}

/* The name of a slot, or NULL for one no route has. */
static const char *
slot_name(size_t slot, const struct route *routes, size_t nroutes)
{
	if (slot == UNMATCHED_SLOT)
		return "unmatched";
	return slot < nroutes ? routes[slot].name : NULL;
}

static void
render_requests(struct buf *out, const struct table *t,
    const struct route *routes, size_t nroutes)
{
	static const char	 name[] = "gittinkerer_http_requests_total";
	const char		*route;
	unsigned long long	 n;
	size_t			 slot, st;

	family(out, name, "counter", "Requests answered by the worker pool, "
	    "by route (\"unmatched\" when none matched) and status.");
	for (slot = 0; slot < NSLOTS; slot++) {
		if ((route = slot_name(slot, routes, nroutes)) == NULL)
			continue;
		for (st = 0; st < NSTATUS; st++) {
			if ((n = get(&t->requests[slot][st])) == 0)
				continue;
			sample(out, name, "route", route);
			(void)buf_printf(out, ",status=\"%zu\"} %llu\n",
			    st + STATUS_MIN, n);
		}
	}
}

/* One route's histogram: cumulative buckets, +Inf, _sum and _count. */
static void
render_histogram(struct buf *out, const char *route,
    const unsigned long long *counts, unsigned long long sum_us)
{
	static const char	 bucket[] =
	    "gittinkerer_http_request_duration_seconds_bucket";
	static const char	 sum[] =
	    "gittinkerer_http_request_duration_seconds_sum";
	static const char	 count[] =
	    "gittinkerer_http_request_duration_seconds_count";
	unsigned long long	 total = 0;
	size_t			 b;

	for (b = 0; b <= NBUCKETS; b++) {
		total += counts[b];
		sample(out, bucket, "route", route);
		(void)buf_printf(out, ",le=\"%s\"} %llu\n",
		    b < NBUCKETS ? buckets[b].le : "+Inf", total);
	}
	sample(out, sum, "route", route);
	(void)buf_printf(out, "} %llu.%06llu\n", sum_us / 1000000,
	    sum_us % 1000000);
	sample(out, count, "route", route);
	(void)buf_printf(out, "} %llu\n", total);
}

static void
render_durations(struct buf *out, const struct table *t,
    const struct route *routes, size_t nroutes)
{
	unsigned long long	 counts[NBUCKETS + 1], total;
	const char		*route;
	size_t			 slot, b;

	family(out, "gittinkerer_http_request_duration_seconds", "histogram",
	    "Time from a request's arrival at a worker to its answer, by "
	    "route.");
	for (slot = 0; slot < NSLOTS; slot++) {
		if ((route = slot_name(slot, routes, nroutes)) == NULL)
			continue;
		total = 0;
		for (b = 0; b <= NBUCKETS; b++)
			total += counts[b] = get(&t->bucket[slot][b]);
		if (total > 0)
			render_histogram(out, route, counts,
			    get(&t->duration_us[slot]));
	}
}

static void
render_refusals(struct buf *out, const struct table *t)
{
	static const char	 name[] =
	    "gittinkerer_rate_limit_refusals_total";
	size_t			 s, l;

	family(out, name, "counter", "Run creations refused by a rate "
	    "limit, by source and by the limit that refused.");
	for (s = 0; s < NSOURCES; s++)
		for (l = 0; l < NLIMITS; l++) {
			sample(out, name, "source", sources[s]);
			(void)buf_printf(out, ",limit=\"%s\"} %llu\n",
			    limits[l], get(&t->rate_limited[s][l]));
		}
}

static void
render_webhooks(struct buf *out, const struct table *t)
{
	static const char	 name[] = "gittinkerer_webhook_deliveries_total";
	size_t			 i;

	family(out, name, "counter", "GitHub deliveries answered, by status "
	    "and, for ignored ones, reason.");
	for (i = 0; i < NOUTCOMES; i++) {
		sample(out, name, "status", outcomes[i].status);
		if (outcomes[i].reason != NULL)
			(void)buf_printf(out, ",reason=\"%s\"",
			    outcomes[i].reason);
		(void)buf_printf(out, "} %llu\n", get(&t->webhooks[i]));
	}
}

void
metrics_render(struct buf *out, const struct route *routes, size_t nroutes)
{
	static struct table	 zero;	/* in .bss: costs nothing unread */
	const struct table	*t = shared != NULL ? shared : &zero;

	render_requests(out, t, routes, nroutes);
	render_durations(out, t, routes, nroutes);
	render_refusals(out, t);
	render_webhooks(out, t);
}

/* A gauge family of one sample without labels; milli: v is thousandths. */
static void
gauge(struct buf *out, const char *name, const char *help, int64_t v,
    int milli)
{
	family(out, name, "gauge", help);
	if (milli)
		(void)buf_printf(out, "%s %lld.%03lld\n", name,
		    (long long)(v / 1000), (long long)(v % 1000));
	else
		(void)buf_printf(out, "%s %lld\n", name, (long long)v);
}

void
metrics_render_gauges(struct buf *out, const struct gauge_report *rep)
{
	const struct db_figures	*db = &rep->db;
	int			 s;

	family(out, "gittinkerer_dependency_up", "gauge", "Whether the "
	    "dependency answered this scrape in time (1) or not (0); what it "
	    "gives is left out when not.");
	(void)buf_printf(out, "gittinkerer_dependency_up"
	    "{dependency=\"postgres\"} %d\n", rep->db_up ? 1 : 0);
	(void)buf_printf(out, "gittinkerer_dependency_up"
	    "{dependency=\"redis\"} %d\n", rep->cache_up ? 1 : 0);

	if (rep->db_up) {
		family(out, "gittinkerer_runs", "gauge",
		    "Runs in the database, by status.");
		for (s = 0; s < RUN_NSTATUS; s++)
			(void)buf_printf(out, "gittinkerer_runs"
			    "{status=\"%s\"} %lld\n",
			    run_status_name((enum run_status)s),
			    (long long)db->runs[s]);
		gauge(out, "gittinkerer_run_queue_depth",
		    "Queued runs, waiting for a dispatcher.",
		    db->runs[RUN_QUEUED], 0);
		gauge(out, "gittinkerer_run_queue_oldest_age_seconds",
		    "Age of the oldest queued run; 0 when none is queued.",
		    db->oldest_queued_ms, 1);
		gauge(out, "gittinkerer_github_outbox_pending",
		    "Actions on GitHub queued and not done yet.",
		    db->outbox_pending, 0);
		gauge(out, "gittinkerer_github_outbox_failed",
		    "Actions on GitHub given up on after their last attempt.",
		    db->outbox_failed, 0);
	}

	if (rep->quota_known) {
		gauge(out, "gittinkerer_github_ratelimit_remaining",
		    "Requests left in GitHub's API quota, as its last answer "
		    "said.", rep->quota.remaining, 0);
		if (rep->quota.reset_s >= 0)
			gauge(out,
			    "gittinkerer_github_ratelimit_reset_timestamp_seconds",
			    "When GitHub refills that quota, in seconds since "
			    "the epoch.", rep->quota.reset_s, 0);
	}
}
