/*
 * dispatcher.c: the dispatcher's rounds.
 */
#include <config.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/arena.h"
#include "domain/run.h"
#include "domain/runner_io.h"
#include "usecase/dispatcher.h"
#include "usecase/runs.h"

/* Why a runner was asked to stop, which decides its run's outcome. */
enum stop_reason {
	STOP_NONE,
	STOP_TIMEOUT,
	STOP_CANCEL,
	STOP_SHUTDOWN
};

struct slot {
	int			 used;
	int			 started;	/* the runner process exists */
	int			 handle;
	struct arena		*arena;		/* the claimed run's strings */
	struct claimed_run	 cr;
	int64_t			 started_mono;
	enum stop_reason	 reason;
	int64_t			 term_at;	/* when SIGTERM went; 0 not yet */
	int			 killed;

	/* Once the process ended, the outcome waits here until stored. */
	int			 ended;
	int			 reported;	/* a refusal was reported */
	struct run_outcome	 outcome;
	char			 message[256];
};

struct dispatcher {
	struct dispatcher_conf	 conf;
	struct dispatcher_ports	 p;
	struct slot		 slots[DISPATCHER_MAX_SLOTS];
	struct arena		*tick;		/* reset at every tick */
	int			 stopping;
	int64_t			 next_heartbeat;
	int64_t			 next_reap;
	int64_t			 next_claim;
};

struct dispatcher *
dispatcher_new(const struct dispatcher_conf *conf,
    const struct dispatcher_ports *p)
{
	struct dispatcher	*d;
	int			 i;

	if (conf->slots < 1 || conf->slots > DISPATCHER_MAX_SLOTS)
		return NULL;
	if ((d = calloc(1, sizeof(*d))) == NULL)
		return NULL;
	d->conf = *conf;
	d->p = *p;
	if ((d->tick = arena_new()) == NULL)
		goto out_free;
	for (i = 0; i < conf->slots; i++)
		if ((d->slots[i].arena = arena_new()) == NULL)
			goto out_free;
	return d;

out_free:
	dispatcher_free(d);
	return NULL;
}

void
dispatcher_free(struct dispatcher *d)
{
	int	 i;

	if (d == NULL)
		return;
	for (i = 0; i < DISPATCHER_MAX_SLOTS; i++)
		arena_free(d->slots[i].arena);
	arena_free(d->tick);
	free(d);
}

static void
free_slot(struct dispatcher *d, struct slot *s)
{
	struct arena	*a = s->arena;

	if (s->started)
		d->p.runner->release(d->p.runner->ctx, s->handle);
	arena_reset(a);
	memset(s, 0, sizeof(*s));
	s->arena = a;
}

/*
 * Decides the outcome of a run whose runner ended (or never started):
 * the reason it was stopped for comes first, then its exit.
 */
static void
decide(struct dispatcher *d, struct slot *s, int has_exit, int exit_code,
    const char *failure)
{
	struct run_outcome	*o = &s->outcome;
	struct runner_result	 rr;
	int64_t			 now = d->p.wall_ms();

	memset(o, 0, sizeof(*o));
	o->id = s->cr.run.id;
	o->has_exit_code = has_exit;
	o->exit_code = exit_code;
	switch (s->reason) {
	case STOP_CANCEL:
		o->status = RUN_CANCELLED;
		o->stage = STAGE_CANCELLED;
		o->message = "cancelled by request while it ran";
		break;
	case STOP_TIMEOUT:
		o->status = RUN_FAILED;
		o->stage = STAGE_TIMEOUT;
		snprintf(s->message, sizeof(s->message), "the runner ran "
		    "longer than %lld seconds and was stopped",
		    (long long)(d->conf.timeout_ms / 1000));
		o->message = s->message;
		break;
	case STOP_SHUTDOWN:
		o->status = RUN_FAILED;
		o->stage = STAGE_INTERRUPTED;
		o->message = "the dispatcher stopped while the run ran";
		break;
	case STOP_NONE:
		if (failure == NULL) {
			o->status = RUN_SUCCEEDED;
			o->stage = STAGE_NONE;
		} else {
			o->status = RUN_FAILED;
			o->stage = s->started ? STAGE_RUNNER : STAGE_SPAWN;
			snprintf(s->message, sizeof(s->message), "%s",
			    failure);
			o->message = s->message;
		}
		break;
	}

	if (s->started && d->p.runner->result(d->p.runner->ctx, s->arena,
	    s->cr.run.id, &rr) == GT_OK) {
		o->result_json = rr.json;
		o->has_tokens_in = rr.has_tokens_in;
		o->tokens_in = rr.tokens_in;
		o->has_tokens_out = rr.has_tokens_out;
		o->tokens_out = rr.tokens_out;
		o->has_cost = rr.has_cost;
		o->cost_usd = rr.cost_usd;
		o->has_files_changed = rr.has_files_changed;
		o->files_changed = rr.files_changed;
	}
	o->duration_ms = now - s->cr.run.started_at_ms;
	if (o->duration_ms < 0)
		o->duration_ms = 0;
	o->queue_wait_ms = s->cr.run.started_at_ms - s->cr.run.created_at_ms;
	if (o->queue_wait_ms < 0)
		o->queue_wait_ms = 0;
	s->ended = 1;
}

/* Stores an ended run's outcome; the slot is freed once it is. */
static void
record(struct dispatcher *d, struct slot *s)
{
	struct run	 run;
	enum gt_err	 e;

	e = d->p.queue->finish(d->p.queue->ctx, d->tick, &s->outcome, &run);
	if (e == GT_OK)
		runs_cache_put(d->p.cache, &run);
	else if (e == GT_ERR_TRANSITION)
		d->p.cache->invalidate(d->p.cache->ctx, s->cr.run.id);
	else {
		/* The database is away, or refused it: try again next tick. */
		if (e != GT_ERR_UNAVAILABLE && d->p.report != NULL &&
		    !s->reported) {
			d->p.report("the database refused a run's outcome",
			    s->cr.run.id);
			s->reported = 1;
		}
		return;
	}
	free_slot(d, s);
	d->next_claim = 0;	/* the slot can take the next run at once */
}

static void
ask_to_stop(struct dispatcher *d, struct slot *s, enum stop_reason why)
{
	if (s->reason == STOP_NONE)
		s->reason = why;
	if (s->term_at == 0) {
		d->p.runner->signal(d->p.runner->ctx, s->handle, SIGTERM);
		s->term_at = d->p.now_ms();
		if (s->term_at == 0)
			s->term_at = 1;
	}
}

/* Step 2 for one slot. */
static void
watch(struct dispatcher *d, struct slot *s)
{
	char	 msg[200];
	int	 has_exit = 0, code = 0;
	int64_t	 now = d->p.now_ms();

	if (!s->ended && d->p.runner->ended(d->p.runner->ctx, s->handle,
	    &has_exit, &code, msg, sizeof(msg)))
		decide(d, s, has_exit, code, msg[0] != '\0' ? msg : NULL);
	if (s->ended) {
		record(d, s);
		return;
	}

	if (d->stopping)
		ask_to_stop(d, s, STOP_SHUTDOWN);
	else if (now - s->started_mono >= d->conf.timeout_ms)
		ask_to_stop(d, s, STOP_TIMEOUT);
	if (s->term_at != 0 && !s->killed &&
	    now - s->term_at >= d->conf.grace_ms) {
		d->p.runner->signal(d->p.runner->ctx, s->handle, SIGKILL);
		s->killed = 1;
	}
}

/* Step 3. */
static void
heartbeat(struct dispatcher *d)
{
	const char	*ids[DISPATCHER_MAX_SLOTS];
	struct slot	*which[DISPATCHER_MAX_SLOTS];
	int		*cancel = NULL;
	size_t		 n = 0, i;
	int		 k;

	for (k = 0; k < d->conf.slots; k++) {
		if (!d->slots[k].used || d->slots[k].ended)
			continue;
		which[n] = &d->slots[k];
		ids[n++] = d->slots[k].cr.run.id;
	}
	if (n == 0 || d->p.queue->heartbeat(d->p.queue->ctx, d->tick,
	    d->conf.id, ids, n, &cancel) != GT_OK)
		return;
	for (i = 0; i < n; i++)
		if (cancel[i])
			ask_to_stop(d, which[i], STOP_CANCEL);
}

/* Step 4 for one free slot: 0 when a run was claimed. */
static int
claim(struct dispatcher *d, struct slot *s)
{
	char	 err[256];

	if (d->p.queue->claim(d->p.queue->ctx, s->arena, d->conf.id,
	    &s->cr) != GT_OK) {
		arena_reset(s->arena);
		return -1;
	}
	s->used = 1;
	s->started_mono = d->p.now_ms();
	runs_cache_put(d->p.cache, &s->cr.run);

	err[0] = '\0';
	if (d->p.runner->start(d->p.runner->ctx, &s->cr, &s->handle, err,
	    sizeof(err)) == GT_OK)
		s->started = 1;
	else {
		decide(d, s, 0, 0, err[0] != '\0' ? err :
		    "the runner could not be started");
		if (d->p.report != NULL)
			d->p.report(s->message, s->cr.run.id);
		record(d, s);
	}
	return 0;
}

static void
reap_dead(struct dispatcher *d)
{
	struct run	*runs;
	size_t		 n, i;

	if (d->p.queue->reap(d->p.queue->ctx, d->tick,
	    d->conf.lease_ms / 1000, &runs, &n) != GT_OK)
		return;
	for (i = 0; i < n; i++)
		runs_cache_put(d->p.cache, &runs[i]);
}

void
dispatcher_tick(struct dispatcher *d)
{
	int64_t	 now = d->p.now_ms();
	int	 i;

	arena_reset(d->tick);
	if (now >= d->next_reap) {
		reap_dead(d);
		d->next_reap = now + d->conf.lease_ms / 2;
	}
	for (i = 0; i < d->conf.slots; i++)
		if (d->slots[i].used)
			watch(d, &d->slots[i]);
	if (now >= d->next_heartbeat) {
		heartbeat(d);
		d->next_heartbeat = now + d->conf.heartbeat_ms;
	}
	if (!d->stopping && now >= d->next_claim) {
		/* Before the claims: a slot one frees asks for the next. */
		d->next_claim = now + d->conf.poll_ms;
		for (i = 0; i < d->conf.slots; i++)
			if (!d->slots[i].used && claim(d, &d->slots[i]) == -1)
				break;
	}
}

void
dispatcher_poke(struct dispatcher *d)
{
	d->next_claim = 0;
	d->next_heartbeat = 0;
}

/*
 * The soonest of the next heartbeat, reap and claim, and of a running
 * run's timeout or grace period; at most a second, so that runners'
 * ends are noticed promptly even without a wake-up.  A runner already
 * killed, or ended with its outcome not yet stored, has no time of its
 * own left: the second's cap paces the wait for it.
 */
int64_t
dispatcher_next_ms(const struct dispatcher *d)
{
	int64_t			 now = d->p.now_ms(), next = now + 1000, t;
	const struct slot	*s;
	int			 i;

	if (d->next_heartbeat < next)
		next = d->next_heartbeat;
	if (d->next_reap < next)
		next = d->next_reap;
	if (!d->stopping && d->next_claim < next)
		next = d->next_claim;
	for (i = 0; i < d->conf.slots; i++) {
		s = &d->slots[i];
		if (!s->used || s->ended || s->killed)
			continue;
		t = s->term_at != 0 ? s->term_at + d->conf.grace_ms :
		    s->started_mono + d->conf.timeout_ms;
		if (t < next)
			next = t;
	}
	return next > now ? next - now : 0;
}

void
dispatcher_stop(struct dispatcher *d)
{
	int	 i;

	d->stopping = 1;
	for (i = 0; i < d->conf.slots; i++)
		if (d->slots[i].used && !d->slots[i].ended)
			ask_to_stop(d, &d->slots[i], STOP_SHUTDOWN);
}

int
dispatcher_running(const struct dispatcher *d)
{
	int	 i, n = 0;

	for (i = 0; i < d->conf.slots; i++)
		n += d->slots[i].used;
	return n;
}
