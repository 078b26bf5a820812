/*
 * check_dispatcher.c: the dispatcher's rounds: claiming queued runs,
 * watching and stopping their runners, recording what came of them.
 *
 * Every port is an in-memory fake kept in this file: the queue holds
 * runs in an array, the cache records what was put and removed, the
 * runner port keeps one fake process per handle that a test ends by
 * hand, and both clocks move only when a test advances them.  Each fake
 * remembers the arguments it was given and notes each call in one trace
 * shared by all of them, so a test can tell what was asked and in which
 * order.
 */
#include <config.h>

#include <check.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/arena.h"
#include "domain/run.h"
#include "domain/runner_io.h"
#include "usecase/dispatcher.h"

#define RUN_A		"2f1c0a4e-8b7d-4c3a-9e21-5d6f7a8b9c0d"
#define RUN_B		"7b0e9d2c-1a3f-4e5d-8c6b-0f1e2d3c4b5a"
#define RUN_C		"c3d4e5f6-0a1b-4c2d-8e3f-4a5b6c7d8e9f"
#define RUN_LOST_1	"e1e2e3e4-f5f6-4a7b-8c9d-0e1f2a3b4c5d"
#define RUN_LOST_2	"5a4b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d"
#define SELF		"dispatcher-test-1"

#define MONO_START	500000
#define WALL_START	1764786200000LL
#define QUEUE_WAIT_MS	4000	/* how long a queued run waited */
#define TIMEOUT_MS	60000
#define GRACE_MS	5000
#define LEASE_MS	30000
#define HEARTBEAT_MS	10000
#define POLL_MS		5000

#define HANDLE_BASE	40	/* handles are not slot numbers */
#define START_ERROR	"cannot execute /opt/runner: no such file"
#define RESULT_JSON	"{\"summary\":\"Fixed the off-by-one\"}"

/* ------------------------------------------------------------------ */
/* The trace: every fake call, in order, names separated by spaces. */

static char	 trace[16384];

static void
note(const char *call)
{
	size_t	 len = strlen(trace);
	int	 n;

	n = snprintf(trace + len, sizeof(trace) - len, "%s%s",
	    len > 0 ? " " : "", call);
	ck_assert(n >= 0 && (size_t)n < sizeof(trace) - len);
}

/* Where call first appears in the trace, or -1. */
static int
called_at(const char *call)
{
	const char	*p = strstr(trace, call);

	return p == NULL ? -1 : (int)(p - trace);
}

/* Whether then appears in the trace after the first first. */
static int
called_after(const char *first, const char *then)
{
	const char	*p = strstr(trace, first);

	return p != NULL && strstr(p + strlen(first), then) != NULL;
}

/* ------------------------------------------------------------------ */
/* The fakes' state. */

#define QUEUE_MAX	8
#define STORED_MAX	8
#define PROC_MAX	16
#define CACHE_CALLS	64

struct queued_run {
	struct claimed_run	 cr;
	int			 claimed;
};

/* An outcome as finish was given it, its strings copied. */
struct kept_outcome {
	struct run_outcome	 o;
	char			 id[RUN_ID_LEN + 1];
	char			 message[256];
	char			 result_json[256];
};

struct fake_queue {
	struct queued_run	 runs[QUEUE_MAX];
	size_t			 nruns;
	enum gt_err		 claim_fail;
	int			 claims;

	/* heartbeat: its last ids, and the one run to report cancelled. */
	int			 heartbeats;
	char			 hb_ids[DISPATCHER_MAX_SLOTS][RUN_ID_LEN + 1];
	size_t			 hb_n;
	char			 cancel[RUN_ID_LEN + 1];
	enum gt_err		 heartbeat_fail;

	/* finish: refuses unavailable times, then stores (or transition). */
	int			 finishes;
	int			 unavailable;
	int			 refused;	/* times it answers internal */
	int			 transition;
	struct kept_outcome	 stored[STORED_MAX];
	size_t			 nstored;

	/* reap: the runs it answers with. */
	int			 reaps;
	int64_t			 lease_s;
	enum gt_err		 reap_fail;
	struct run		 lost[2];
	size_t			 nlost;
};

struct cache_call {
	char		 id[RUN_ID_LEN + 1];
	int		 put;		/* 0: an invalidate */
	enum run_status	 status;
};

struct fake_cache {
	struct cache_call	 calls[CACHE_CALLS];
	size_t			 n;
};

/* A runner process, by the handle start gave it. */
struct fake_proc {
	char		 id[RUN_ID_LEN + 1];
	int		 ended;
	int		 has_exit;
	int		 exit_code;
	char		 msg[128];
	int		 sigterms;
	int		 sigkills;
	int		 other_signals;
	int		 released;
};

struct fake_runner {
	struct fake_proc	 procs[PROC_MAX];
	size_t			 nprocs;
	int			 starts;
	int			 start_fail;	/* start answers GT_ERR_IO */
	const char		*start_err;	/* what it writes in err */
	int			 results;
	char			 result_id[RUN_ID_LEN + 1];
	int			 has_result;
	struct runner_result	 result;
};

static struct {
	struct fake_queue	 queue;
	struct fake_cache	 cache;
	struct fake_runner	 runner;
	int64_t			 mono;
	int64_t			 wall;
} fakes;

static struct dispatcher	*d;

/* ------------------------------------------------------------------ */
/* The fake queue. */

static void
copy_id(char *dst, const char *id)
{
	ck_assert_ptr_nonnull(id);
	ck_assert_int_eq(snprintf(dst, RUN_ID_LEN + 1, "%s", id), RUN_ID_LEN);
}

static struct queued_run *
queued_find(const char *id)
{
	size_t	 i;

	for (i = 0; i < fakes.queue.nruns; i++)
		if (strcmp(fakes.queue.runs[i].cr.run.id, id) == 0)
			return &fakes.queue.runs[i];
	return NULL;
}

static enum gt_err
fake_claim(void *ctx, struct arena *ar, const char *self,
    struct claimed_run *out)
{
	struct fake_queue	*q = &fakes.queue;
	size_t			 i;

	ck_assert_ptr_eq(ctx, q);
	ck_assert_ptr_nonnull(ar);
	ck_assert_str_eq(self, SELF);
	q->claims++;
	note("queue.claim");
	if (q->claim_fail != GT_OK)
		return q->claim_fail;
	for (i = 0; i < q->nruns; i++) {
		struct queued_run	*r = &q->runs[i];

		if (r->claimed)
			continue;
		r->claimed = 1;
		r->cr.run.status = RUN_RUNNING;
		r->cr.run.started_at_ms = fakes.wall;
		*out = r->cr;
		return GT_OK;
	}
	return GT_ERR_NOT_FOUND;
}

static enum gt_err
fake_heartbeat(void *ctx, struct arena *ar, const char *self,
    const char *const *ids, size_t n, int **cancel)
{
	struct fake_queue	*q = &fakes.queue;
	int			*c;
	size_t			 i;

	ck_assert_ptr_eq(ctx, q);
	ck_assert_ptr_nonnull(ar);
	ck_assert_str_eq(self, SELF);
	ck_assert_uint_le(n, DISPATCHER_MAX_SLOTS);
	q->heartbeats++;
	note("queue.heartbeat");
	q->hb_n = n;
	for (i = 0; i < n; i++)
		copy_id(q->hb_ids[i], ids[i]);

	/* Filled even on failure: the dispatcher must not trust it then. */
	c = arena_calloc(ar, n + 1, sizeof(*c));
	ck_assert_ptr_nonnull(c);
	for (i = 0; i < n; i++)
		c[i] = strcmp(ids[i], q->cancel) == 0;
	*cancel = c;
	return q->heartbeat_fail;
}

static void
keep(struct kept_outcome *k, const struct run_outcome *o)
{
	k->o = *o;
	copy_id(k->id, o->id);
	k->o.id = k->id;
	if (o->message != NULL) {
		ck_assert_uint_lt(strlen(o->message), sizeof(k->message));
		memcpy(k->message, o->message, strlen(o->message) + 1);
		k->o.message = k->message;
	}
	if (o->result_json != NULL) {
		ck_assert_uint_lt(strlen(o->result_json),
		    sizeof(k->result_json));
		memcpy(k->result_json, o->result_json,
		    strlen(o->result_json) + 1);
		k->o.result_json = k->result_json;
	}
}

static enum gt_err
fake_finish(void *ctx, struct arena *ar, const struct run_outcome *o,
    struct run *out)
{
	struct fake_queue	*q = &fakes.queue;
	struct queued_run	*r;

	ck_assert_ptr_eq(ctx, q);
	ck_assert_ptr_nonnull(ar);
	q->finishes++;
	note("queue.finish");
	if (q->unavailable > 0) {
		q->unavailable--;
		return GT_ERR_UNAVAILABLE;
	}
	if (q->refused > 0) {
		q->refused--;
		return GT_ERR_INTERNAL;
	}
	if (q->transition)
		return GT_ERR_TRANSITION;

	r = queued_find(o->id);
	ck_assert_ptr_nonnull(r);
	ck_assert(r->claimed);
	ck_assert_uint_lt(q->nstored, STORED_MAX);
	keep(&q->stored[q->nstored++], o);
	*out = r->cr.run;
	out->status = o->status;
	out->finished_at_ms = fakes.wall;
	out->has_exit_code = o->has_exit_code;
	out->exit_code = o->exit_code;
	out->error_stage = o->stage;
	out->error_message = o->message;
	out->result_json = o->result_json;
	return GT_OK;
}

static enum gt_err
fake_reap(void *ctx, struct arena *ar, int64_t lease_s, struct run **runs,
    size_t *n)
{
	struct fake_queue	*q = &fakes.queue;

	ck_assert_ptr_eq(ctx, q);
	ck_assert_ptr_nonnull(ar);
	q->reaps++;
	note("queue.reap");
	q->lease_s = lease_s;
	if (q->reap_fail != GT_OK)
		return q->reap_fail;
	*runs = arena_calloc(ar, q->nlost + 1, sizeof(**runs));
	ck_assert_ptr_nonnull(*runs);
	memcpy(*runs, q->lost, q->nlost * sizeof(**runs));
	*n = q->nlost;
	return GT_OK;
}

static int
fake_wait_fd(void *ctx)
{
	ck_assert_ptr_eq(ctx, &fakes.queue);
	return -1;
}

static int
fake_drain(void *ctx)
{
	ck_assert_ptr_eq(ctx, &fakes.queue);
	return 0;
}

static const struct run_queue queue_port = {
	&fakes.queue, fake_claim, fake_heartbeat, fake_finish, fake_reap,
	fake_wait_fd, fake_drain
};

/* ------------------------------------------------------------------ */
/* The fake cache. */

static struct cache_call *
cache_call(const char *id)
{
	struct cache_call	*c;

	ck_assert_uint_lt(fakes.cache.n, CACHE_CALLS);
	c = &fakes.cache.calls[fakes.cache.n++];
	copy_id(c->id, id);
	return c;
}

static enum gt_err
fake_cache_get(void *ctx, struct arena *ar, const char *id,
    const char **json, size_t *len)
{
	(void)ar;
	(void)id;
	(void)json;
	(void)len;
	ck_assert_ptr_eq(ctx, &fakes.cache);
	ck_abort_msg("the dispatcher never reads the cache");
	return GT_ERR_INTERNAL;
}

static void
fake_cache_put(void *ctx, const char *id, enum run_status status,
    const char *json, size_t len)
{
	struct cache_call	*c;

	ck_assert_ptr_eq(ctx, &fakes.cache);
	ck_assert_ptr_nonnull(json);
	ck_assert_uint_gt(len, 0);
	ck_assert_ptr_nonnull(memmem(json, len, id, RUN_ID_LEN));
	note("cache.put");
	c = cache_call(id);
	c->put = 1;
	c->status = status;
}

static void
fake_cache_invalidate(void *ctx, const char *id)
{
	ck_assert_ptr_eq(ctx, &fakes.cache);
	note("cache.invalidate");
	(void)cache_call(id);
}

static const struct run_cache cache_port = {
	&fakes.cache, fake_cache_get, fake_cache_put, fake_cache_invalidate
};

/* How many puts of id with status the cache was given. */
static int
cache_puts(const char *id, enum run_status status)
{
	size_t	 i;
	int	 n = 0;

	for (i = 0; i < fakes.cache.n; i++)
		n += fakes.cache.calls[i].put &&
		    fakes.cache.calls[i].status == status &&
		    strcmp(fakes.cache.calls[i].id, id) == 0;
	return n;
}

static int
cache_invalidates(const char *id)
{
	size_t	 i;
	int	 n = 0;

	for (i = 0; i < fakes.cache.n; i++)
		n += !fakes.cache.calls[i].put &&
		    strcmp(fakes.cache.calls[i].id, id) == 0;
	return n;
}

/* ------------------------------------------------------------------ */
/* The fake runner port. */

/* The process of a handle start gave; it must not have been released. */
static struct fake_proc *
proc_at(int handle)
{
	struct fake_proc	*p;

	ck_assert_int_ge(handle, HANDLE_BASE);
	ck_assert_int_lt(handle, HANDLE_BASE + (int)fakes.runner.nprocs);
	p = &fakes.runner.procs[handle - HANDLE_BASE];
	ck_assert_int_eq(p->released, 0);
	return p;
}

static enum gt_err
fake_start(void *ctx, const struct claimed_run *cr, int *handle, char *err,
    size_t errlen)
{
	struct fake_runner	*r = &fakes.runner;
	struct fake_proc	*p;

	ck_assert_ptr_eq(ctx, r);
	ck_assert_int_eq(cr->run.status, RUN_RUNNING);
	r->starts++;
	note("runner.start");
	if (r->start_fail) {
		ck_assert_int_lt(snprintf(err, errlen, "%s", r->start_err),
		    (int)errlen);
		return GT_ERR_IO;
	}
	ck_assert_uint_lt(r->nprocs, PROC_MAX);
	p = &r->procs[r->nprocs];
	copy_id(p->id, cr->run.id);
	*handle = HANDLE_BASE + (int)r->nprocs++;
	return GT_OK;
}

/* As the real adapter does, msg is emptied for a clean exit. */
static int
fake_ended(void *ctx, int handle, int *has_exit, int *exit_code, char *msg,
    size_t msglen)
{
	struct fake_proc	*p;

	ck_assert_ptr_eq(ctx, &fakes.runner);
	note("runner.ended");
	p = proc_at(handle);
	msg[0] = '\0';
	if (!p->ended)
		return 0;
	*has_exit = p->has_exit;
	*exit_code = p->exit_code;
	ck_assert_int_lt(snprintf(msg, msglen, "%s", p->msg), (int)msglen);
	return 1;
}

static void
fake_signal(void *ctx, int handle, int sig)
{
	struct fake_proc	*p;

	ck_assert_ptr_eq(ctx, &fakes.runner);
	note("runner.signal");
	p = proc_at(handle);
	if (sig == SIGTERM)
		p->sigterms++;
	else if (sig == SIGKILL)
		p->sigkills++;
	else
		p->other_signals++;
}

static enum gt_err
fake_result(void *ctx, struct arena *ar, const char *id,
    struct runner_result *out)
{
	struct fake_runner	*r = &fakes.runner;

	ck_assert_ptr_eq(ctx, r);
	ck_assert_ptr_nonnull(ar);
	r->results++;
	note("runner.result");
	copy_id(r->result_id, id);
	if (!r->has_result)
		return GT_ERR_NOT_FOUND;
	*out = r->result;
	return GT_OK;
}

static void
fake_release(void *ctx, int handle)
{
	ck_assert_ptr_eq(ctx, &fakes.runner);
	note("runner.release");
	proc_at(handle)->released++;
}

static const struct runner_port runner_port = {
	&fakes.runner, fake_start, fake_ended, fake_signal, fake_result,
	fake_release
};

/* ------------------------------------------------------------------ */
/* The clocks. */

static int64_t
fake_now_ms(void)
{
	return fakes.mono;
}

static int64_t
fake_wall_ms(void)
{
	return fakes.wall;
}

/* What the dispatcher reported: the last report and how many. */
static struct {
	int	 n;
	char	 what[256];
	char	 run_id[RUN_ID_LEN + 1];
} reports;

static void
fake_report(const char *what, const char *run_id)
{
	reports.n++;
	ck_assert_int_lt(snprintf(reports.what, sizeof(reports.what), "%s",
	    what), (int)sizeof(reports.what));
	copy_id(reports.run_id, run_id);
	note("report");
}

static const struct dispatcher_ports ports = {
	&queue_port, &cache_port, &runner_port, fake_now_ms, fake_wall_ms,
	fake_report
};

/* ------------------------------------------------------------------ */
/* Fixtures and helpers. */

static struct dispatcher_conf
default_conf(void)
{
	struct dispatcher_conf	 c;

	memset(&c, 0, sizeof(c));
	c.id = SELF;
	c.slots = 2;
	c.timeout_ms = TIMEOUT_MS;
	c.grace_ms = GRACE_MS;
	c.lease_ms = LEASE_MS;
	c.heartbeat_ms = HEARTBEAT_MS;
	c.poll_ms = POLL_MS;
	return c;
}

/* Replaces the fixture's dispatcher by one of slots. */
static void
restart_with_slots(int slots)
{
	struct dispatcher_conf	 c = default_conf();

	c.slots = slots;
	dispatcher_free(d);
	d = dispatcher_new(&c, &ports);
	ck_assert_ptr_nonnull(d);
}

static void
setup(void)
{
	memset(&fakes, 0, sizeof(fakes));
	memset(&reports, 0, sizeof(reports));
	trace[0] = '\0';
	fakes.mono = MONO_START;
	fakes.wall = WALL_START;
	fakes.runner.start_err = START_ERROR;
	restart_with_slots(2);
}

static void
teardown(void)
{
	dispatcher_free(d);
	d = NULL;
}

/* Queues a run that has waited QUEUE_WAIT_MS so far. */
static void
enqueue(const char *id)
{
	struct queued_run	*r;

	ck_assert_uint_lt(fakes.queue.nruns, QUEUE_MAX);
	r = &fakes.queue.runs[fakes.queue.nruns++];
	memset(r, 0, sizeof(*r));
	copy_id(r->cr.run.id, id);
	r->cr.run.repo = "octo/widgets";
	r->cr.run.target_type = TARGET_PULL_REQUEST;
	r->cr.run.target_number = 7;
	r->cr.run.instruction = "Fix the failing date parser test";
	r->cr.run.status = RUN_QUEUED;
	r->cr.run.source = SOURCE_WEBHOOK;
	r->cr.run.requested_by = "alice";
	r->cr.run.created_at_ms = fakes.wall - QUEUE_WAIT_MS;
	r->cr.run.started_at_ms = -1;
	r->cr.run.finished_at_ms = -1;
	r->cr.installation_id = 123;
	r->cr.comment_id = 456;
	r->cr.comment_kind = "issue_comment";
}

static void
tick(void)
{
	dispatcher_tick(d);
}

/* Moves both clocks. */
static void
advance(int64_t ms)
{
	fakes.mono += ms;
	fakes.wall += ms;
}

/* Moves both clocks by ms, ticking every second on the way. */
static void
advance_ticking(int64_t ms)
{
	int64_t	 step;

	while (ms > 0) {
		step = ms < 1000 ? ms : 1000;
		advance(step);
		tick();
		ms -= step;
	}
}

/* Queues a run and claims it. */
static void
start_run(const char *id)
{
	enqueue(id);
	dispatcher_poke(d);
	tick();
}

/* The fake process started for run id. */
static struct fake_proc *
proc_of(const char *id)
{
	size_t	 i;

	for (i = 0; i < fakes.runner.nprocs; i++)
		if (strcmp(fakes.runner.procs[i].id, id) == 0)
			return &fakes.runner.procs[i];
	ck_abort_msg("no runner was started for %s", id);
	return NULL;
}

/* Makes run id's runner exit with code, with the adapter's message. */
static void
end_with_exit(const char *id, int code)
{
	struct fake_proc	*p = proc_of(id);

	p->ended = 1;
	p->has_exit = 1;
	p->exit_code = code;
	if (code != 0)
		(void)snprintf(p->msg, sizeof(p->msg),
		    "the runner exited with status %d", code);
}

static void
end_by_signal(const char *id, int sig)
{
	struct fake_proc	*p = proc_of(id);

	p->ended = 1;
	p->has_exit = 0;
	p->exit_code = 0;
	(void)snprintf(p->msg, sizeof(p->msg),
	    "the runner was killed by signal %d", sig);
}

/* The outcome stored for run id. */
static const struct run_outcome *
stored_of(const char *id)
{
	size_t	 i;

	for (i = 0; i < fakes.queue.nstored; i++)
		if (strcmp(fakes.queue.stored[i].id, id) == 0)
			return &fakes.queue.stored[i].o;
	ck_abort_msg("no outcome was stored for %s", id);
	return NULL;
}

static int
heartbeat_named(const char *id)
{
	size_t	 i;

	for (i = 0; i < fakes.queue.hb_n; i++)
		if (strcmp(fakes.queue.hb_ids[i], id) == 0)
			return 1;
	return 0;
}

/* Starts run id and lets it run into its timeout: SIGTERM was sent. */
static void
time_out(const char *id)
{
	start_run(id);
	advance_ticking(TIMEOUT_MS);
	ck_assert_int_eq(proc_of(id)->sigterms, 1);
}

/* ------------------------------------------------------------------ */
/* Claiming. */

START_TEST(claims_no_more_runs_than_slots)
{
	enqueue(RUN_A);
	enqueue(RUN_B);
	enqueue(RUN_C);
	tick();
	ck_assert_int_eq(dispatcher_running(d), 2);
	ck_assert_int_eq(fakes.queue.claims, 2);
	ck_assert_int_eq(fakes.runner.starts, 2);
	ck_assert_str_eq(fakes.runner.procs[0].id, RUN_A);
	ck_assert_str_eq(fakes.runner.procs[1].id, RUN_B);

	advance_ticking(POLL_MS * 3);
	dispatcher_poke(d);
	tick();
	ck_assert_int_eq(fakes.queue.claims, 2);
	ck_assert_int_eq(dispatcher_running(d), 2);
	ck_assert_int_eq(fakes.queue.runs[2].claimed, 0);
}
END_TEST

START_TEST(claim_caches_the_run_as_running)
{
	start_run(RUN_A);
	ck_assert_int_eq(cache_puts(RUN_A, RUN_RUNNING), 1);
	ck_assert(called_after("queue.claim", "cache.put"));
}
END_TEST

START_TEST(freed_slot_takes_the_next_run_in_the_same_tick)
{
	enqueue(RUN_A);
	enqueue(RUN_B);
	enqueue(RUN_C);
	tick();
	end_with_exit(RUN_A, 0);
	tick();
	ck_assert_uint_eq(fakes.queue.nstored, 1);
	ck_assert_int_eq(dispatcher_running(d), 2);
	ck_assert_int_eq(fakes.queue.runs[2].claimed, 1);
	ck_assert_str_eq(fakes.runner.procs[2].id, RUN_C);
}
END_TEST

START_TEST(claims_once_per_poll_interval)
{
	tick();
	ck_assert_int_eq(fakes.queue.claims, 1);
	enqueue(RUN_A);
	advance(POLL_MS - 1);
	tick();
	ck_assert_int_eq(fakes.queue.claims, 1);
	ck_assert_int_eq(dispatcher_running(d), 0);

	/* One claim takes the run, one finds nothing for the other slot. */
	advance(1);
	tick();
	ck_assert_int_eq(fakes.queue.claims, 3);
	ck_assert_int_eq(dispatcher_running(d), 1);
}
END_TEST

START_TEST(poke_claims_before_the_poll_interval)
{
	tick();
	enqueue(RUN_A);
	advance(1);
	dispatcher_poke(d);
	tick();
	ck_assert_int_eq(fakes.queue.claims, 3);
	ck_assert_int_eq(dispatcher_running(d), 1);
}
END_TEST

START_TEST(failed_claim_ends_the_rounds_claims)
{
	fakes.queue.claim_fail = GT_ERR_UNAVAILABLE;
	enqueue(RUN_A);
	tick();
	ck_assert_int_eq(fakes.queue.claims, 1);
	ck_assert_int_eq(fakes.runner.starts, 0);
	ck_assert_int_eq(dispatcher_running(d), 0);

	fakes.queue.claim_fail = GT_OK;
	advance(POLL_MS);
	tick();
	ck_assert_int_eq(dispatcher_running(d), 1);
}
END_TEST

START_TEST(spawn_failure_frees_its_slot_for_the_next_tick)
{
	restart_with_slots(1);
	fakes.runner.start_fail = 1;
	enqueue(RUN_A);
	enqueue(RUN_B);
	tick();
	ck_assert_uint_eq(fakes.queue.nstored, 1);
	ck_assert_int_eq(dispatcher_next_ms(d), 0);

	tick();
	ck_assert_int_eq(fakes.queue.runs[1].claimed, 1);
	ck_assert_uint_eq(fakes.queue.nstored, 2);
	ck_assert_int_eq(stored_of(RUN_B)->stage, STAGE_SPAWN);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Success and failure. */

START_TEST(exit_0_is_recorded_as_succeeded)
{
	const struct run_outcome	*o;

	start_run(RUN_A);
	end_with_exit(RUN_A, 0);
	tick();
	o = stored_of(RUN_A);
	ck_assert_int_eq(o->status, RUN_SUCCEEDED);
	ck_assert_int_eq(o->stage, STAGE_NONE);
	ck_assert_int_eq(o->has_exit_code, 1);
	ck_assert_int_eq(o->exit_code, 0);
	ck_assert_ptr_null(o->message);
	ck_assert_int_eq(dispatcher_running(d), 0);
	ck_assert_int_eq(proc_of(RUN_A)->sigterms, 0);
	ck_assert_int_eq(proc_of(RUN_A)->sigkills, 0);
}
END_TEST

START_TEST(outcome_copies_the_runners_result)
{
	const struct run_outcome	*o;
	struct runner_result		*rr = &fakes.runner.result;

	fakes.runner.has_result = 1;
	rr->json = RESULT_JSON;
	rr->summary = "Fixed the off-by-one";
	rr->has_tokens_in = 1;
	rr->tokens_in = 12000;
	rr->has_tokens_out = 0;
	rr->tokens_out = 3400;
	rr->has_cost = 1;
	rr->cost_usd = 0.41;
	rr->has_files_changed = 1;
	rr->files_changed = 3;

	start_run(RUN_A);
	end_with_exit(RUN_A, 0);
	tick();
	ck_assert_int_eq(fakes.runner.results, 1);
	ck_assert_str_eq(fakes.runner.result_id, RUN_A);
	o = stored_of(RUN_A);
	ck_assert_str_eq(o->result_json, RESULT_JSON);
	ck_assert_int_eq(o->has_tokens_in, 1);
	ck_assert_int_eq(o->tokens_in, 12000);
	ck_assert_int_eq(o->has_tokens_out, 0);
	ck_assert_int_eq(o->tokens_out, 3400);
	ck_assert_int_eq(o->has_cost, 1);
	ck_assert_double_eq(o->cost_usd, 0.41);
	ck_assert_int_eq(o->has_files_changed, 1);
	ck_assert_int_eq(o->files_changed, 3);
}
END_TEST

START_TEST(outcome_without_a_result_has_no_runner_figures)
{
	const struct run_outcome	*o;

	start_run(RUN_A);
	end_with_exit(RUN_A, 0);
	tick();
	ck_assert_int_eq(fakes.runner.results, 1);
	o = stored_of(RUN_A);
	ck_assert_ptr_null(o->result_json);
	ck_assert_int_eq(o->has_tokens_in, 0);
	ck_assert_int_eq(o->has_tokens_out, 0);
	ck_assert_int_eq(o->has_cost, 0);
	ck_assert_int_eq(o->has_files_changed, 0);
}
END_TEST

START_TEST(duration_and_queue_wait_come_from_the_wall_clock)
{
	const struct run_outcome	*o;

	start_run(RUN_A);
	fakes.wall += 12345;
	fakes.mono += 1;
	end_with_exit(RUN_A, 0);
	tick();
	o = stored_of(RUN_A);
	ck_assert_int_eq(o->duration_ms, 12345);
	ck_assert_int_eq(o->queue_wait_ms, QUEUE_WAIT_MS);
}
END_TEST

START_TEST(duration_and_queue_wait_are_never_negative)
{
	const struct run_outcome	*o;

	enqueue(RUN_A);
	fakes.queue.runs[0].cr.run.created_at_ms = fakes.wall + 700;
	tick();
	fakes.wall -= 3000;		/* the real-time clock was set back */
	end_with_exit(RUN_A, 0);
	tick();
	o = stored_of(RUN_A);
	ck_assert_int_eq(o->duration_ms, 0);
	ck_assert_int_eq(o->queue_wait_ms, 0);
}
END_TEST

START_TEST(finish_comes_before_the_cache_and_the_release)
{
	struct fake_proc	*p;

	start_run(RUN_A);
	p = proc_of(RUN_A);
	end_with_exit(RUN_A, 0);
	trace[0] = '\0';
	tick();
	ck_assert_int_eq(cache_puts(RUN_A, RUN_SUCCEEDED), 1);
	ck_assert_int_eq(p->released, 1);
	ck_assert_int_ge(called_at("runner.result"), 0);
	ck_assert(called_after("runner.result", "queue.finish"));
	ck_assert(called_after("queue.finish", "cache.put"));
	ck_assert(called_after("queue.finish", "runner.release"));
}
END_TEST

START_TEST(non_zero_exit_fails_at_stage_runner)
{
	const struct run_outcome	*o;

	start_run(RUN_A);
	end_with_exit(RUN_A, 3);
	tick();
	o = stored_of(RUN_A);
	ck_assert_int_eq(o->status, RUN_FAILED);
	ck_assert_int_eq(o->stage, STAGE_RUNNER);
	ck_assert_int_eq(o->has_exit_code, 1);
	ck_assert_int_eq(o->exit_code, 3);
	ck_assert_str_eq(o->message, "the runner exited with status 3");
	ck_assert_int_eq(cache_puts(RUN_A, RUN_FAILED), 1);
	ck_assert_int_eq(proc_of(RUN_A)->released, 1);
}
END_TEST

START_TEST(killed_by_a_signal_fails_at_stage_runner_without_exit_code)
{
	const struct run_outcome	*o;

	start_run(RUN_A);
	end_by_signal(RUN_A, SIGSEGV);
	tick();
	o = stored_of(RUN_A);
	ck_assert_int_eq(o->status, RUN_FAILED);
	ck_assert_int_eq(o->stage, STAGE_RUNNER);
	ck_assert_int_eq(o->has_exit_code, 0);
	ck_assert_str_eq(o->message, proc_of(RUN_A)->msg);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Spawn failure. */

START_TEST(spawn_failure_is_recorded_at_once_at_stage_spawn)
{
	const struct run_outcome	*o;

	fakes.runner.start_fail = 1;
	enqueue(RUN_A);
	tick();
	ck_assert_int_eq(fakes.runner.starts, 1);
	o = stored_of(RUN_A);
	ck_assert_int_eq(o->status, RUN_FAILED);
	ck_assert_int_eq(o->stage, STAGE_SPAWN);
	ck_assert_int_eq(o->has_exit_code, 0);
	ck_assert_str_eq(o->message, START_ERROR);
	ck_assert_int_eq(cache_puts(RUN_A, RUN_FAILED), 1);
	ck_assert_int_eq(dispatcher_running(d), 0);
	ck_assert_int_eq(called_at("runner.ended"), -1);
	ck_assert_int_eq(called_at("runner.signal"), -1);
	ck_assert_int_eq(called_at("runner.result"), -1);
	ck_assert_int_eq(called_at("runner.release"), -1);
}
END_TEST

START_TEST(spawn_failure_without_a_reason_still_has_a_message)
{
	const struct run_outcome	*o;

	fakes.runner.start_fail = 1;
	fakes.runner.start_err = "";
	enqueue(RUN_A);
	tick();
	o = stored_of(RUN_A);
	ck_assert_int_eq(o->stage, STAGE_SPAWN);
	ck_assert_ptr_nonnull(o->message);
	ck_assert_uint_gt(strlen(o->message), 0);
}
END_TEST

START_TEST(unstored_spawn_failure_is_retried_without_a_release)
{
	fakes.runner.start_fail = 1;
	fakes.queue.unavailable = 1;
	enqueue(RUN_A);
	tick();
	ck_assert_int_eq(fakes.queue.finishes, 1);
	ck_assert_uint_eq(fakes.queue.nstored, 0);
	ck_assert_int_eq(dispatcher_running(d), 1);

	dispatcher_stop(d);
	advance(1000);
	tick();
	ck_assert_int_eq(fakes.queue.finishes, 2);
	ck_assert_int_eq(stored_of(RUN_A)->stage, STAGE_SPAWN);
	ck_assert_int_eq(dispatcher_running(d), 0);
	ck_assert_int_eq(called_at("runner.ended"), -1);
	ck_assert_int_eq(called_at("runner.signal"), -1);
	ck_assert_int_eq(called_at("runner.release"), -1);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Timeout. */

START_TEST(timeout_sends_sigterm_once)
{
	struct fake_proc	*p;

	start_run(RUN_A);
	p = proc_of(RUN_A);
	advance_ticking(TIMEOUT_MS - 1);
	ck_assert_int_eq(p->sigterms, 0);
	advance(1);
	tick();
	ck_assert_int_eq(p->sigterms, 1);

	advance_ticking(GRACE_MS - 1);
	ck_assert_int_eq(p->sigterms, 1);
	ck_assert_int_eq(p->sigkills, 0);
	ck_assert_int_eq(p->other_signals, 0);
}
END_TEST

START_TEST(grace_over_sends_sigkill_once)
{
	struct fake_proc	*p;

	time_out(RUN_A);
	p = proc_of(RUN_A);
	advance(GRACE_MS);
	tick();
	ck_assert_int_eq(p->sigkills, 1);
	advance_ticking(3000);
	ck_assert_int_eq(p->sigkills, 1);
	ck_assert_int_eq(p->sigterms, 1);
}
END_TEST

START_TEST(killed_run_fails_at_stage_timeout)
{
	const struct run_outcome	*o;

	time_out(RUN_A);
	advance_ticking(GRACE_MS);
	ck_assert_int_eq(proc_of(RUN_A)->sigkills, 1);
	end_by_signal(RUN_A, SIGKILL);
	tick();
	o = stored_of(RUN_A);
	ck_assert_int_eq(o->status, RUN_FAILED);
	ck_assert_int_eq(o->stage, STAGE_TIMEOUT);
	ck_assert_int_eq(o->has_exit_code, 0);
	ck_assert_ptr_nonnull(o->message);
}
END_TEST

START_TEST(timed_out_run_exiting_0_still_fails_at_stage_timeout)
{
	const struct run_outcome	*o;

	time_out(RUN_A);
	end_with_exit(RUN_A, 0);
	tick();
	o = stored_of(RUN_A);
	ck_assert_int_eq(o->status, RUN_FAILED);
	ck_assert_int_eq(o->stage, STAGE_TIMEOUT);
	ck_assert_int_eq(o->has_exit_code, 1);
	ck_assert_int_eq(o->exit_code, 0);
	ck_assert_ptr_nonnull(o->message);
	ck_assert_int_eq(proc_of(RUN_A)->sigkills, 0);
	ck_assert_int_eq(cache_puts(RUN_A, RUN_FAILED), 1);
}
END_TEST

START_TEST(stop_after_a_timeout_keeps_the_timeout)
{
	time_out(RUN_A);
	dispatcher_stop(d);
	ck_assert_int_eq(proc_of(RUN_A)->sigterms, 1);
	end_by_signal(RUN_A, SIGTERM);
	tick();
	ck_assert_int_eq(stored_of(RUN_A)->stage, STAGE_TIMEOUT);
}
END_TEST

START_TEST(sigterm_at_clock_zero_is_still_followed_by_sigkill)
{
	fakes.mono = 0;
	start_run(RUN_A);
	dispatcher_stop(d);
	ck_assert_int_eq(proc_of(RUN_A)->sigterms, 1);
	advance_ticking(GRACE_MS + 1000);
	ck_assert_int_eq(proc_of(RUN_A)->sigkills, 1);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Cancellation. */

START_TEST(cancel_from_the_heartbeat_sends_sigterm)
{
	/* The poke that starts B refreshes A's heartbeat: no cancel yet. */
	start_run(RUN_A);
	start_run(RUN_B);
	ck_assert_int_eq(fakes.queue.heartbeats, 1);
	ck_assert_int_eq(proc_of(RUN_A)->sigterms, 0);

	copy_id(fakes.queue.cancel, RUN_A);
	advance(HEARTBEAT_MS);
	tick();
	ck_assert_int_eq(fakes.queue.heartbeats, 2);
	ck_assert_int_eq(proc_of(RUN_A)->sigterms, 1);
	ck_assert_int_eq(proc_of(RUN_B)->sigterms, 0);

	advance(HEARTBEAT_MS);
	tick();
	ck_assert_int_eq(fakes.queue.heartbeats, 3);
	ck_assert_int_eq(proc_of(RUN_A)->sigterms, 1);
}
END_TEST

START_TEST(cancelled_run_ends_cancelled)
{
	const struct run_outcome	*o;

	start_run(RUN_A);
	start_run(RUN_B);
	copy_id(fakes.queue.cancel, RUN_A);
	advance(HEARTBEAT_MS);
	tick();
	end_by_signal(RUN_A, SIGTERM);
	tick();
	o = stored_of(RUN_A);
	ck_assert_int_eq(o->status, RUN_CANCELLED);
	ck_assert_int_eq(o->stage, STAGE_CANCELLED);
	ck_assert_ptr_nonnull(o->message);
	ck_assert_int_eq(cache_puts(RUN_A, RUN_CANCELLED), 1);
	ck_assert_int_eq(dispatcher_running(d), 1);
	ck_assert_int_eq(proc_of(RUN_B)->released, 0);
}
END_TEST

START_TEST(failed_heartbeat_cancels_nothing)
{
	start_run(RUN_A);
	copy_id(fakes.queue.cancel, RUN_A);
	fakes.queue.heartbeat_fail = GT_ERR_UNAVAILABLE;
	advance(HEARTBEAT_MS);
	tick();
	ck_assert_int_eq(fakes.queue.heartbeats, 1);
	ck_assert_int_eq(proc_of(RUN_A)->sigterms, 0);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Stopping. */

START_TEST(stop_sends_sigterm_to_every_running_run)
{
	start_run(RUN_A);
	start_run(RUN_B);
	dispatcher_stop(d);
	ck_assert_int_eq(proc_of(RUN_A)->sigterms, 1);
	ck_assert_int_eq(proc_of(RUN_B)->sigterms, 1);
	advance_ticking(GRACE_MS - 1000);
	ck_assert_int_eq(proc_of(RUN_A)->sigterms, 1);
	ck_assert_int_eq(proc_of(RUN_B)->sigterms, 1);
	ck_assert_int_eq(proc_of(RUN_A)->sigkills, 0);
}
END_TEST

START_TEST(stop_claims_no_more)
{
	enqueue(RUN_A);
	enqueue(RUN_B);
	enqueue(RUN_C);
	tick();
	dispatcher_stop(d);
	end_with_exit(RUN_A, 0);
	tick();
	dispatcher_poke(d);
	advance_ticking(POLL_MS * 2);
	ck_assert_int_eq(fakes.queue.claims, 2);
	ck_assert_int_eq(fakes.queue.runs[2].claimed, 0);
	ck_assert_int_eq(dispatcher_running(d), 1);
}
END_TEST

START_TEST(stopped_runs_fail_interrupted_as_they_end)
{
	start_run(RUN_A);
	start_run(RUN_B);
	dispatcher_stop(d);
	ck_assert_int_eq(dispatcher_running(d), 2);

	end_with_exit(RUN_A, 0);
	tick();
	ck_assert_int_eq(dispatcher_running(d), 1);
	ck_assert_int_eq(stored_of(RUN_A)->status, RUN_FAILED);
	ck_assert_int_eq(stored_of(RUN_A)->stage, STAGE_INTERRUPTED);

	end_by_signal(RUN_B, SIGTERM);
	tick();
	ck_assert_int_eq(dispatcher_running(d), 0);
	ck_assert_int_eq(stored_of(RUN_B)->status, RUN_FAILED);
	ck_assert_int_eq(stored_of(RUN_B)->stage, STAGE_INTERRUPTED);
	ck_assert_ptr_nonnull(stored_of(RUN_B)->message);
}
END_TEST

START_TEST(stop_kills_a_runner_alive_after_the_grace)
{
	start_run(RUN_A);
	dispatcher_stop(d);
	advance(GRACE_MS);
	tick();
	ck_assert_int_eq(proc_of(RUN_A)->sigkills, 1);
}
END_TEST

START_TEST(stop_does_not_signal_an_ended_run)
{
	start_run(RUN_A);
	start_run(RUN_B);
	fakes.queue.unavailable = 100;
	end_with_exit(RUN_A, 0);
	tick();
	ck_assert_int_eq(dispatcher_running(d), 2);
	dispatcher_stop(d);
	advance_ticking(GRACE_MS * 2);
	ck_assert_int_eq(proc_of(RUN_A)->sigterms, 0);
	ck_assert_int_eq(proc_of(RUN_A)->sigkills, 0);
	ck_assert_int_eq(proc_of(RUN_B)->sigterms, 1);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Storing the outcome. */

START_TEST(spawn_failure_is_reported_with_its_reason)
{
	fakes.runner.start_fail = 1;
	start_run(RUN_A);
	ck_assert_int_eq(reports.n, 1);
	ck_assert_str_eq(reports.what, START_ERROR);
	ck_assert_str_eq(reports.run_id, RUN_A);
}
END_TEST

START_TEST(refused_outcome_is_reported_once_and_retried)
{
	start_run(RUN_A);
	fakes.queue.refused = 3;
	end_with_exit(RUN_A, 0);
	tick();
	advance(1000);
	tick();
	ck_assert_int_eq(reports.n, 1);
	ck_assert_str_eq(reports.run_id, RUN_A);
	ck_assert_int_eq(dispatcher_running(d), 1);
	advance(1000);
	tick();
	advance(1000);
	tick();
	ck_assert_int_eq(reports.n, 1);
	ck_assert_uint_eq(fakes.queue.nstored, 1);
	ck_assert_int_eq(dispatcher_running(d), 0);
}
END_TEST

START_TEST(unavailable_outcome_is_not_reported)
{
	start_run(RUN_A);
	fakes.queue.unavailable = 2;
	end_with_exit(RUN_A, 0);
	advance_ticking(3000);
	ck_assert_uint_eq(fakes.queue.nstored, 1);
	ck_assert_int_eq(reports.n, 0);
}
END_TEST

START_TEST(unavailable_finish_is_retried_until_stored)
{
	const struct run_outcome	*o;

	start_run(RUN_A);
	fakes.queue.unavailable = 2;
	advance(2500);
	end_with_exit(RUN_A, 0);
	tick();
	ck_assert_int_eq(fakes.queue.finishes, 1);
	ck_assert_int_eq(dispatcher_running(d), 1);
	ck_assert_int_eq(cache_puts(RUN_A, RUN_SUCCEEDED), 0);
	ck_assert_int_eq(proc_of(RUN_A)->released, 0);

	advance(1000);
	tick();
	ck_assert_int_eq(fakes.queue.finishes, 2);
	ck_assert_uint_eq(fakes.queue.nstored, 0);
	advance(1000);
	tick();
	ck_assert_int_eq(fakes.queue.finishes, 3);
	o = stored_of(RUN_A);
	ck_assert_int_eq(o->status, RUN_SUCCEEDED);
	ck_assert_int_eq(o->duration_ms, 2500);
	ck_assert_int_eq(fakes.runner.results, 1);
	ck_assert_int_eq(cache_puts(RUN_A, RUN_SUCCEEDED), 1);
	ck_assert_int_eq(proc_of(RUN_A)->released, 1);
	ck_assert_int_eq(dispatcher_running(d), 0);

	advance(1000);
	tick();
	ck_assert_int_eq(fakes.queue.finishes, 3);
}
END_TEST

START_TEST(unstored_outcome_keeps_its_slot)
{
	restart_with_slots(1);
	start_run(RUN_A);
	enqueue(RUN_B);
	fakes.queue.unavailable = 1;
	end_with_exit(RUN_A, 0);
	dispatcher_poke(d);
	tick();
	ck_assert_int_eq(fakes.queue.runs[1].claimed, 0);

	tick();
	ck_assert_uint_eq(fakes.queue.nstored, 1);
	ck_assert_int_eq(fakes.queue.runs[1].claimed, 1);
	ck_assert_int_eq(dispatcher_running(d), 1);
}
END_TEST

START_TEST(transition_refused_invalidates_the_cache_and_frees_the_slot)
{
	start_run(RUN_A);
	fakes.queue.transition = 1;
	end_with_exit(RUN_A, 0);
	tick();
	ck_assert_int_eq(fakes.queue.finishes, 1);
	ck_assert_uint_eq(fakes.queue.nstored, 0);
	ck_assert_int_eq(cache_invalidates(RUN_A), 1);
	ck_assert_int_eq(cache_puts(RUN_A, RUN_SUCCEEDED), 0);
	ck_assert_int_eq(proc_of(RUN_A)->released, 1);
	ck_assert_int_eq(dispatcher_running(d), 0);

	advance(1000);
	tick();
	ck_assert_int_eq(fakes.queue.finishes, 1);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Reaping the runs of dead dispatchers. */

START_TEST(first_tick_reaps_with_the_lease_in_seconds)
{
	tick();
	ck_assert_int_eq(fakes.queue.reaps, 1);
	ck_assert_int_eq(fakes.queue.lease_s, LEASE_MS / 1000);
}
END_TEST

START_TEST(reaps_at_most_once_per_half_lease)
{
	tick();
	dispatcher_poke(d);
	advance_ticking(LEASE_MS / 2 - 1);
	ck_assert_int_eq(fakes.queue.reaps, 1);
	advance(1);
	tick();
	ck_assert_int_eq(fakes.queue.reaps, 2);
	tick();
	ck_assert_int_eq(fakes.queue.reaps, 2);
}
END_TEST

START_TEST(reaped_runs_are_cached)
{
	struct run	*r;
	size_t		 i;

	for (i = 0; i < 2; i++) {
		r = &fakes.queue.lost[i];
		copy_id(r->id, i == 0 ? RUN_LOST_1 : RUN_LOST_2);
		r->repo = "octo/widgets";
		r->instruction = "Fix it";
		r->status = RUN_FAILED;
		r->created_at_ms = WALL_START - 90000;
		r->started_at_ms = WALL_START - 80000;
		r->finished_at_ms = WALL_START;
		r->error_stage = STAGE_INTERRUPTED;
		r->error_message = "its dispatcher stopped answering";
	}
	fakes.queue.nlost = 2;
	tick();
	ck_assert_int_eq(cache_puts(RUN_LOST_1, RUN_FAILED), 1);
	ck_assert_int_eq(cache_puts(RUN_LOST_2, RUN_FAILED), 1);
}
END_TEST

START_TEST(failed_reap_caches_nothing)
{
	copy_id(fakes.queue.lost[0].id, RUN_LOST_1);
	fakes.queue.lost[0].status = RUN_FAILED;
	fakes.queue.nlost = 1;
	fakes.queue.reap_fail = GT_ERR_UNAVAILABLE;
	tick();
	ck_assert_int_eq(fakes.queue.reaps, 1);
	ck_assert_uint_eq(fakes.cache.n, 0);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Heartbeats. */

START_TEST(heartbeat_once_per_interval)
{
	start_run(RUN_A);
	ck_assert_int_eq(fakes.queue.heartbeats, 0);
	advance_ticking(HEARTBEAT_MS - 1);
	ck_assert_int_eq(fakes.queue.heartbeats, 0);
	advance(1);
	tick();
	ck_assert_int_eq(fakes.queue.heartbeats, 1);
	ck_assert_uint_eq(fakes.queue.hb_n, 1);
	ck_assert_str_eq(fakes.queue.hb_ids[0], RUN_A);
	advance_ticking(HEARTBEAT_MS - 1);
	ck_assert_int_eq(fakes.queue.heartbeats, 1);
	advance(1);
	tick();
	ck_assert_int_eq(fakes.queue.heartbeats, 2);
}
END_TEST

START_TEST(heartbeat_names_only_running_runs)
{
	restart_with_slots(3);
	start_run(RUN_A);
	start_run(RUN_B);
	fakes.queue.unavailable = 100;
	end_with_exit(RUN_A, 0);
	advance(HEARTBEAT_MS);
	tick();
	ck_assert_int_eq(dispatcher_running(d), 2);
	ck_assert_int_eq(fakes.queue.heartbeats, 2);
	ck_assert_uint_eq(fakes.queue.hb_n, 1);
	ck_assert(heartbeat_named(RUN_B));
	ck_assert(!heartbeat_named(RUN_A));
}
END_TEST

START_TEST(no_heartbeat_without_a_running_run)
{
	tick();
	advance_ticking(HEARTBEAT_MS * 2);
	ck_assert_int_eq(fakes.queue.heartbeats, 0);
}
END_TEST

START_TEST(poke_refreshes_the_heartbeat_at_once)
{
	start_run(RUN_A);
	advance(1);
	dispatcher_poke(d);
	tick();
	ck_assert_int_eq(fakes.queue.heartbeats, 1);
}
END_TEST

/* ------------------------------------------------------------------ */
/* When the next tick is due. */

START_TEST(new_dispatcher_is_due_at_once)
{
	ck_assert_int_eq(dispatcher_next_ms(d), 0);
}
END_TEST

START_TEST(next_tick_is_at_most_a_second_away)
{
	tick();
	ck_assert_int_eq(dispatcher_next_ms(d), 1000);
	start_run(RUN_A);
	advance_ticking(3500);
	ck_assert_int_eq(dispatcher_next_ms(d), 1000);
}
END_TEST

START_TEST(next_tick_comes_sooner_for_a_nearer_timeout)
{
	start_run(RUN_A);
	advance(TIMEOUT_MS - 300);
	tick();
	ck_assert_int_eq(proc_of(RUN_A)->sigterms, 0);
	ck_assert_int_eq(dispatcher_next_ms(d), 300);
}
END_TEST

START_TEST(next_tick_comes_sooner_for_a_nearer_grace_end)
{
	time_out(RUN_A);
	advance(GRACE_MS - 200);
	tick();
	ck_assert_int_eq(dispatcher_next_ms(d), 200);
}
END_TEST

START_TEST(next_tick_after_sigkill_is_not_at_once)
{
	int64_t	 next;

	time_out(RUN_A);
	advance_ticking(GRACE_MS);
	ck_assert_int_eq(proc_of(RUN_A)->sigkills, 1);
	next = dispatcher_next_ms(d);
	ck_assert_int_gt(next, 0);
	ck_assert_int_le(next, 1000);
}
END_TEST

START_TEST(next_tick_with_an_unstored_outcome_is_not_at_once)
{
	int64_t	 next;

	start_run(RUN_A);
	fakes.queue.unavailable = 1000;
	end_with_exit(RUN_A, 0);
	advance_ticking(TIMEOUT_MS + GRACE_MS);
	ck_assert_int_eq(dispatcher_running(d), 1);
	next = dispatcher_next_ms(d);
	ck_assert_int_gt(next, 0);
	ck_assert_int_le(next, 1000);
}
END_TEST

START_TEST(next_tick_after_stop_does_not_wait_for_claims)
{
	start_run(RUN_A);
	start_run(RUN_B);
	dispatcher_stop(d);
	end_with_exit(RUN_A, 0);
	tick();
	ck_assert_int_eq(dispatcher_running(d), 1);
	ck_assert_int_gt(dispatcher_next_ms(d), 0);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Creation. */

static const int refused_slots[] = { 0, -1, DISPATCHER_MAX_SLOTS + 1 };
static const int accepted_slots[] = { 1, DISPATCHER_MAX_SLOTS };

START_TEST(new_refuses_slots_out_of_range)
{
	struct dispatcher_conf	 c = default_conf();

	c.slots = refused_slots[_i];
	ck_assert_ptr_null(dispatcher_new(&c, &ports));
}
END_TEST

START_TEST(new_accepts_slots_in_range)
{
	struct dispatcher_conf	 c = default_conf();
	struct dispatcher	*nd;

	c.slots = accepted_slots[_i];
	nd = dispatcher_new(&c, &ports);
	ck_assert_ptr_nonnull(nd);
	ck_assert_int_eq(dispatcher_running(nd), 0);
	dispatcher_free(nd);
	dispatcher_free(NULL);
}
END_TEST

/* ------------------------------------------------------------------ */

#define NELEM(a)	((int)(sizeof(a) / sizeof((a)[0])))

static TCase *
fixture(const char *name)
{
	TCase	*tc = tcase_create(name);

	tcase_add_checked_fixture(tc, setup, teardown);
	return tc;
}

static Suite *
dispatcher_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("dispatcher");

	tc = fixture("claim");
	tcase_add_test(tc, claims_no_more_runs_than_slots);
	tcase_add_test(tc, claim_caches_the_run_as_running);
	tcase_add_test(tc, freed_slot_takes_the_next_run_in_the_same_tick);
	tcase_add_test(tc, claims_once_per_poll_interval);
	tcase_add_test(tc, poke_claims_before_the_poll_interval);
	tcase_add_test(tc, failed_claim_ends_the_rounds_claims);
	tcase_add_test(tc, spawn_failure_frees_its_slot_for_the_next_tick);
	suite_add_tcase(s, tc);

	tc = fixture("outcome");
	tcase_add_test(tc, exit_0_is_recorded_as_succeeded);
	tcase_add_test(tc, outcome_copies_the_runners_result);
	tcase_add_test(tc, outcome_without_a_result_has_no_runner_figures);
	tcase_add_test(tc, duration_and_queue_wait_come_from_the_wall_clock);
	tcase_add_test(tc, duration_and_queue_wait_are_never_negative);
	tcase_add_test(tc, finish_comes_before_the_cache_and_the_release);
	tcase_add_test(tc, non_zero_exit_fails_at_stage_runner);
	tcase_add_test(tc,
	    killed_by_a_signal_fails_at_stage_runner_without_exit_code);
	suite_add_tcase(s, tc);

	tc = fixture("spawn failure");
	tcase_add_test(tc, spawn_failure_is_recorded_at_once_at_stage_spawn);
	tcase_add_test(tc, spawn_failure_without_a_reason_still_has_a_message);
	tcase_add_test(tc, unstored_spawn_failure_is_retried_without_a_release);
	suite_add_tcase(s, tc);

	tc = fixture("timeout");
	tcase_add_test(tc, timeout_sends_sigterm_once);
	tcase_add_test(tc, grace_over_sends_sigkill_once);
	tcase_add_test(tc, killed_run_fails_at_stage_timeout);
	tcase_add_test(tc, timed_out_run_exiting_0_still_fails_at_stage_timeout);
	tcase_add_test(tc, stop_after_a_timeout_keeps_the_timeout);
	tcase_add_test(tc, sigterm_at_clock_zero_is_still_followed_by_sigkill);
	suite_add_tcase(s, tc);

	tc = fixture("cancel");
	tcase_add_test(tc, cancel_from_the_heartbeat_sends_sigterm);
	tcase_add_test(tc, cancelled_run_ends_cancelled);
	tcase_add_test(tc, failed_heartbeat_cancels_nothing);
	suite_add_tcase(s, tc);

	tc = fixture("stop");
	tcase_add_test(tc, stop_sends_sigterm_to_every_running_run);
	tcase_add_test(tc, stop_claims_no_more);
	tcase_add_test(tc, stopped_runs_fail_interrupted_as_they_end);
	tcase_add_test(tc, stop_kills_a_runner_alive_after_the_grace);
	tcase_add_test(tc, stop_does_not_signal_an_ended_run);
	suite_add_tcase(s, tc);

	tc = fixture("finish");
	tcase_add_test(tc, unavailable_finish_is_retried_until_stored);
	tcase_add_test(tc, spawn_failure_is_reported_with_its_reason);
	tcase_add_test(tc, refused_outcome_is_reported_once_and_retried);
	tcase_add_test(tc, unavailable_outcome_is_not_reported);
	tcase_add_test(tc, unstored_outcome_keeps_its_slot);
	tcase_add_test(tc,
	    transition_refused_invalidates_the_cache_and_frees_the_slot);
	suite_add_tcase(s, tc);

	tc = fixture("reap");
	tcase_add_test(tc, first_tick_reaps_with_the_lease_in_seconds);
	tcase_add_test(tc, reaps_at_most_once_per_half_lease);
	tcase_add_test(tc, reaped_runs_are_cached);
	tcase_add_test(tc, failed_reap_caches_nothing);
	suite_add_tcase(s, tc);

	tc = fixture("heartbeat");
	tcase_add_test(tc, heartbeat_once_per_interval);
	tcase_add_test(tc, heartbeat_names_only_running_runs);
	tcase_add_test(tc, no_heartbeat_without_a_running_run);
	tcase_add_test(tc, poke_refreshes_the_heartbeat_at_once);
	suite_add_tcase(s, tc);

	tc = fixture("next tick");
	tcase_add_test(tc, new_dispatcher_is_due_at_once);
	tcase_add_test(tc, next_tick_is_at_most_a_second_away);
	tcase_add_test(tc, next_tick_comes_sooner_for_a_nearer_timeout);
	tcase_add_test(tc, next_tick_comes_sooner_for_a_nearer_grace_end);
	tcase_add_test(tc, next_tick_after_sigkill_is_not_at_once);
	tcase_add_test(tc, next_tick_with_an_unstored_outcome_is_not_at_once);
	tcase_add_test(tc, next_tick_after_stop_does_not_wait_for_claims);
	suite_add_tcase(s, tc);

	tc = fixture("new");
	tcase_add_loop_test(tc, new_refuses_slots_out_of_range, 0,
	    NELEM(refused_slots));
	tcase_add_loop_test(tc, new_accepts_slots_in_range, 0,
	    NELEM(accepted_slots));
	suite_add_tcase(s, tc);

	return s;
}

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	sr = srunner_create(dispatcher_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
