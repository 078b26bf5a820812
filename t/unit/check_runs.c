/*
 * check_runs.c: the run use cases, and the cache text they read back.
 *
 * Every port is an in-memory fake kept in this file: the store holds runs
 * in an array, the cache a few JSON entries by id, the limiter a count
 * per rule key, the artifact store a fixed list.  Each fake can be told
 * to fail, remembers the arguments it was given, and notes each call in
 * one trace shared by all of them, so a test can tell what was asked and
 * in which order.
 */
#include <config.h>

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/arena.h"
#include "domain/buf.h"
#include "domain/jsonw.h"
#include "domain/run.h"
#include "domain/run_json.h"
#include "usecase/runs.h"

#define RUN_A		"2f1c0a4e-8b7d-4c3a-9e21-5d6f7a8b9c0d"
#define RUN_B		"7b0e9d2c-1a3f-4e5d-8c6b-0f1e2d3c4b5a"
#define RUN_NONE	"00000000-0000-4000-8000-0000000000ff"
#define MEMBER		"req-1"
#define FAKE_FD		42
#define FAKE_SIZE	5321

/* ------------------------------------------------------------------ */
/* The trace: every fake call, in order, names separated by spaces. */

static char	 trace[2048];

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

/* ------------------------------------------------------------------ */
/* The fakes' state. */

enum store_fn {
	ST_GET,
	ST_FIND_BY_KEY,
	ST_GATE,
	ST_INSERT,
	ST_COUNT_LIMITS,
	ST_LIST,
	ST_CANCEL,
	ST_NFN
};

static const char *const store_fn_names[ST_NFN] = {
	[ST_GET] = "store.get",
	[ST_FIND_BY_KEY] = "store.find_by_key",
	[ST_GATE] = "store.gate",
	[ST_INSERT] = "store.insert",
	[ST_COUNT_LIMITS] = "store.count_limits",
	[ST_LIST] = "store.list",
	[ST_CANCEL] = "store.cancel",
};

/* A row of the runs table. */
struct stored_run {
	struct run	 run;
	const char	*key;		/* Idempotency-Key, or NULL */
	const char	*fingerprint;
	const char	*requester;
};

#define STORE_MAX	8

struct fake_store {
	struct stored_run	 runs[STORE_MAX];
	size_t			 nruns;
	int			 nextid;

	int			 repo_paused;
	int			 target_paused;
	int			 has_override;
	int64_t			 override_limit;
	int64_t			 override_window_s;
	int64_t			 list_total;

	/* Another request's run, which the next insert stores first. */
	int			 race;
	struct stored_run	 racer;

	/* When not GT_OK, what the function answers, doing nothing. */
	enum gt_err		 fail[ST_NFN];
	int			 calls[ST_NFN];

	/* The arguments of the last calls. */
	const char		*id;		/* get, cancel */
	const char		*repo;		/* gate */
	enum target_type	 target_type;
	int32_t			 target_number;
	const char		*key;		/* find_by_key */
	const char		*fingerprint;
	const struct run_new	*rn;		/* insert */
	struct limit_rule	 rules[LIMIT_MAX_RULES];
	size_t			 nrules;
	int			 has_d;
	const struct run_filter	*filter;	/* list */
};

#define CACHE_MAX	8

struct cache_entry {
	char		 id[RUN_ID_LEN + 1];
	enum run_status	 status;
	char		 json[2048];
	size_t		 len;
};

struct fake_cache {
	struct cache_entry	 entries[CACHE_MAX];
	size_t			 n;
	int			 down;
	int			 gets;
	int			 puts;
	int			 invalidates;
};

#define LIMITER_KEYS	8

struct limiter_count {
	char	 key[256];	/* rule name ':' rule key */
	int64_t	 n;
};

struct fake_limiter {
	struct limiter_count	 counts[LIMITER_KEYS];
	size_t			 ncounts;
	int			 down;
	int			 peek_down;	/* peek alone is unavailable */
	int			 takes;
	int			 peeks;
	int			 give_backs;

	/* take's arguments, and give_back's. */
	const char		*member;
	struct limit_rule	 rules[LIMIT_MAX_RULES];
	size_t			 nrules;
	const char		*given_back;
	size_t			 given_back_n;
};

struct fake_artifacts {
	struct artifact	 list[2];
	size_t		 n;
	enum gt_err	 list_fail;
	enum gt_err	 open_fail;
	int		 lists;
	int		 opens;
	const char	*id;
	const char	*name;
};

static struct {
	struct fake_store	 store;
	struct fake_cache	 cache;
	struct fake_limiter	 limiter;
	struct fake_artifacts	 artifacts;
} fakes;

static struct arena		*arena;
static struct runs_ports	 ports;

/* ------------------------------------------------------------------ */
/* The fake store. */

/* Counts and notes a call; returns the answer it was told to give. */
static enum gt_err
store_call(void *ctx, enum store_fn fn)
{
	ck_assert_ptr_eq(ctx, &fakes.store);
	fakes.store.calls[fn]++;
	note(store_fn_names[fn]);
	return fakes.store.fail[fn];
}

static struct stored_run *
store_find(const char *id)
{
	size_t	 i;

	for (i = 0; i < fakes.store.nruns; i++)
		if (strcmp(fakes.store.runs[i].run.id, id) == 0)
			return &fakes.store.runs[i];
	return NULL;
}

/* A queued run, as the store would have created it. */
static struct stored_run *
store_add(const char *id, enum run_status status)
{
	struct stored_run	*s;

	ck_assert_uint_lt(fakes.store.nruns, STORE_MAX);
	s = &fakes.store.runs[fakes.store.nruns++];
	memset(s, 0, sizeof(*s));
	ck_assert_int_eq(snprintf(s->run.id, sizeof(s->run.id), "%s", id),
	    RUN_ID_LEN);
	s->run.repo = "Octo/Widgets";
	s->run.target_type = TARGET_ISSUE;
	s->run.target_number = 12;
	s->run.instruction = "Fix the failing date parser test";
	s->run.status = status;
	s->run.source = SOURCE_API;
	s->run.requested_by = "alice";
	s->run.created_at_ms = 1764786191123;
	s->run.started_at_ms = status == RUN_QUEUED ? -1 : 1764786192000;
	s->run.finished_at_ms = run_status_finished(status) ?
	    1764786250500 : -1;
	if (status == RUN_SUCCEEDED) {
		s->run.has_exit_code = 1;
		s->run.result_json = "{\"summary\":\"fixed\"}";
	}
	s->requester = "alice";
	return s;
}

static enum gt_err
fake_store_get(void *ctx, struct arena *ar, const char *id, struct run *out)
{
	struct stored_run	*s;
	enum gt_err		 e;

	ck_assert_ptr_eq(ar, arena);
	if ((e = store_call(ctx, ST_GET)) != GT_OK)
		return e;
	fakes.store.id = id;
	if ((s = store_find(id)) == NULL)
		return GT_ERR_NOT_FOUND;
	*out = s->run;
	return GT_OK;
}

static enum gt_err
fake_store_find_by_key(void *ctx, struct arena *ar, const char *key,
    const char *fingerprint, struct run *out, int *same)
{
	size_t		 i;
	enum gt_err	 e;

	ck_assert_ptr_eq(ar, arena);
	if ((e = store_call(ctx, ST_FIND_BY_KEY)) != GT_OK)
		return e;
	fakes.store.key = key;
	fakes.store.fingerprint = fingerprint;
	for (i = 0; i < fakes.store.nruns; i++) {
		const struct stored_run	*s = &fakes.store.runs[i];

		if (s->key != NULL && strcmp(s->key, key) == 0) {
			*out = s->run;
			*same = strcmp(s->fingerprint, fingerprint) == 0;
			return GT_OK;
		}
	}
	return GT_ERR_NOT_FOUND;
}

static enum gt_err
fake_store_gate(void *ctx, const char *repo, enum target_type type,
    int32_t number, struct create_gate *out)
{
	enum gt_err	 e;

	memset(out, 0, sizeof(*out));
	if ((e = store_call(ctx, ST_GATE)) != GT_OK)
		return e;
	fakes.store.repo = repo;
	fakes.store.target_type = type;
	fakes.store.target_number = number;
	out->repo_paused = fakes.store.repo_paused;
	out->target_paused = fakes.store.target_paused;
	out->has_override = fakes.store.has_override;
	if (out->has_override) {
		out->limit = fakes.store.override_limit;
		out->window_s = fakes.store.override_window_s;
	}
	return GT_OK;
}

/* How many stored runs a rule counts (every stored run is recent). */
static int64_t
store_count(const struct limit_rule *rule)
{
	char		 key[REPO_MAX + 1];
	size_t		 i;
	int64_t		 n = 0;

	for (i = 0; i < fakes.store.nruns; i++) {
		const struct stored_run	*s = &fakes.store.runs[i];

		if (rule->kind == LIMIT_REPO) {
			ck_assert_int_eq(repo_key(s->run.repo, key,
			    sizeof(key)), 0);
			n += strcmp(key, rule->key) == 0;
		} else
			n += strcmp(s->requester, rule->key) == 0;
	}
	return n;
}

/* The database's decision over the rules, as count_limits makes it. */
static void
store_decide(const struct limit_rule *rules, size_t nrules,
    struct limit_decision *d)
{
	int64_t	 n[LIMIT_MAX_RULES];
	size_t	 i;

	ck_assert_uint_le(nrules, LIMIT_MAX_RULES);
	memset(d, 0, sizeof(*d));
	d->allowed = 1;
	for (i = 0; i < nrules; i++) {
		n[i] = store_count(&rules[i]);
		if (n[i] >= rules[i].limit)
			d->allowed = 0;
	}
	for (i = 0; i < nrules; i++) {
		d->remaining[i] = rules[i].limit - n[i] - d->allowed;
		if (d->remaining[i] < 0)
			d->remaining[i] = 0;
		d->reset_s[i] = rules[i].window_s;
	}
	if (!d->allowed)
		d->retry_after_s = rules[0].window_s;
}

static enum gt_err
fake_store_insert(void *ctx, struct arena *ar, const struct run_new *rn,
    const struct limit_rule *rules, size_t nrules,
    struct limit_decision *d, struct run *out)
{
	struct fake_store	*st = &fakes.store;
	struct stored_run	*s;
	size_t			 i;
	enum gt_err		 e;
	char			 id[RUN_ID_LEN + 1];

	ck_assert_ptr_eq(ar, arena);
	if ((e = store_call(ctx, ST_INSERT)) != GT_OK)
		return e;
	ck_assert_uint_le(nrules, LIMIT_MAX_RULES);
	st->rn = rn;
	st->nrules = nrules;
	for (i = 0; i < nrules; i++)
		st->rules[i] = rules[i];
	st->has_d = d != NULL;

	if (st->race) {
		ck_assert_uint_lt(st->nruns, STORE_MAX);
		st->runs[st->nruns++] = st->racer;
		st->race = 0;
	}
	if (rn->idempotency_key != NULL)
		for (i = 0; i < st->nruns; i++)
			if (st->runs[i].key != NULL &&
			    strcmp(st->runs[i].key, rn->idempotency_key) == 0)
				return GT_ERR_CONFLICT;
	if (nrules > 0) {
		ck_assert_ptr_nonnull(d);
		store_decide(rules, nrules, d);
		if (!d->allowed)
			return GT_ERR_RATE_LIMITED;
	}

	(void)snprintf(id, sizeof(id), "00000000-0000-4000-8000-%012d",
	    ++st->nextid);
	s = store_add(id, RUN_QUEUED);
	s->run.repo = rn->repo;
	s->run.target_type = rn->target_type;
	s->run.target_number = rn->target_number;
	s->run.instruction = rn->instruction;
	s->run.source = rn->source;
	s->run.requested_by = rn->requested_by;
	s->key = rn->idempotency_key;
	s->fingerprint = rn->fingerprint;
	s->requester = rn->requester;
	*out = s->run;
	return GT_OK;
}

static enum gt_err
fake_store_count_limits(void *ctx, const struct limit_rule *rules,
    size_t nrules, struct limit_decision *d)
{
	enum gt_err	 e;

	if ((e = store_call(ctx, ST_COUNT_LIMITS)) != GT_OK)
		return e;
	store_decide(rules, nrules, d);
	return GT_OK;
}

static enum gt_err
fake_store_list(void *ctx, struct arena *ar, const struct run_filter *f,
    struct run **runs, size_t *n, int64_t *total)
{
	size_t		 i;
	enum gt_err	 e;

	ck_assert_ptr_eq(ar, arena);
	if ((e = store_call(ctx, ST_LIST)) != GT_OK)
		return e;
	fakes.store.filter = f;
	*runs = arena_calloc(ar, fakes.store.nruns + 1, sizeof(**runs));
	ck_assert_ptr_nonnull(*runs);
	for (i = 0; i < fakes.store.nruns; i++)
		(*runs)[i] = fakes.store.runs[i].run;
	*n = fakes.store.nruns;
	*total = fakes.store.list_total;
	return GT_OK;
}

static enum gt_err
fake_store_cancel(void *ctx, struct arena *ar, const char *id,
    struct run *out)
{
	struct stored_run	*s;
	enum gt_err		 e;

	ck_assert_ptr_eq(ar, arena);
	if ((e = store_call(ctx, ST_CANCEL)) != GT_OK)
		return e;
	fakes.store.id = id;
	if ((s = store_find(id)) == NULL)
		return GT_ERR_NOT_FOUND;
	if (run_status_finished(s->run.status)) {
		*out = s->run;
		return GT_ERR_TRANSITION;
	}
	if (s->run.status == RUN_QUEUED) {
		s->run.status = RUN_CANCELLED;
		s->run.finished_at_ms = s->run.created_at_ms + 1000;
		s->run.error_stage = STAGE_CANCELLED;
		s->run.error_message = "cancelled by an operator";
	}
	*out = s->run;
	return GT_OK;
}

static const struct run_store store_port = {
	&fakes.store, fake_store_get, fake_store_find_by_key,
	fake_store_gate, fake_store_insert,
	fake_store_count_limits, fake_store_list, fake_store_cancel
};

/* ------------------------------------------------------------------ */
/* The fake cache, with the real one's status guard. */

/* Finished statuses are all later than running, running than queued. */
static int
status_rank(enum run_status s)
{
	return run_status_finished(s) ? 2 : s == RUN_RUNNING;
}

static struct cache_entry *
cache_find(const char *id)
{
	size_t	 i;

	for (i = 0; i < fakes.cache.n; i++)
		if (strcmp(fakes.cache.entries[i].id, id) == 0)
			return &fakes.cache.entries[i];
	return NULL;
}

/* Sets the entry of id to text, as another worker might have. */
static void
cache_set(const char *id, enum run_status status, const char *text)
{
	struct cache_entry	*c;
	size_t			 len = strlen(text);

	if ((c = cache_find(id)) == NULL) {
		ck_assert_uint_lt(fakes.cache.n, CACHE_MAX);
		c = &fakes.cache.entries[fakes.cache.n++];
	}
	ck_assert_int_eq(snprintf(c->id, sizeof(c->id), "%s", id),
	    RUN_ID_LEN);
	ck_assert_uint_lt(len, sizeof(c->json));
	memcpy(c->json, text, len + 1);
	c->len = len;
	c->status = status;
}

static enum gt_err
fake_cache_get(void *ctx, struct arena *ar, const char *id,
    const char **json, size_t *len)
{
	const struct cache_entry	*c;

	ck_assert_ptr_eq(ctx, &fakes.cache);
	ck_assert_ptr_eq(ar, arena);
	fakes.cache.gets++;
	note("cache.get");
	if (fakes.cache.down)
		return GT_ERR_UNAVAILABLE;
	if ((c = cache_find(id)) == NULL)
		return GT_ERR_NOT_FOUND;
	*json = arena_strndup(ar, c->json, c->len);
	ck_assert_ptr_nonnull(*json);
	*len = c->len;
	return GT_OK;
}

static void
fake_cache_put(void *ctx, const char *id, enum run_status status,
    const char *json, size_t len)
{
	struct cache_entry	*c;
	char			 text[sizeof(c->json)];

	ck_assert_ptr_eq(ctx, &fakes.cache);
	fakes.cache.puts++;
	note("cache.put");
	if (fakes.cache.down)
		return;
	c = cache_find(id);
	if (c != NULL && status_rank(c->status) > status_rank(status))
		return;
	ck_assert_uint_lt(len, sizeof(text));
	memcpy(text, json, len);
	text[len] = '\0';
	ck_assert_uint_eq(strlen(text), len);
	cache_set(id, status, text);
}

static void
fake_cache_invalidate(void *ctx, const char *id)
{
	struct cache_entry	*c;

	ck_assert_ptr_eq(ctx, &fakes.cache);
	fakes.cache.invalidates++;
	note("cache.invalidate");
	if (fakes.cache.down || (c = cache_find(id)) == NULL)
		return;
	*c = fakes.cache.entries[--fakes.cache.n];
}

static const struct run_cache cache_port = {
	&fakes.cache, fake_cache_get, fake_cache_put, fake_cache_invalidate
};

/* ------------------------------------------------------------------ */
/* The fake limiter: exact counts, no time. */

static int64_t *
limiter_counter(const struct limit_rule *rule)
{
	struct fake_limiter	*l = &fakes.limiter;
	char			 key[sizeof(l->counts[0].key)];
	size_t			 i;
	int			 n;

	n = snprintf(key, sizeof(key), "%s:%s", rule->name, rule->key);
	ck_assert(n > 0 && (size_t)n < sizeof(key));
	for (i = 0; i < l->ncounts; i++)
		if (strcmp(l->counts[i].key, key) == 0)
			return &l->counts[i].n;
	ck_assert_uint_lt(l->ncounts, LIMITER_KEYS);
	memcpy(l->counts[l->ncounts].key, key, (size_t)n + 1);
	l->counts[l->ncounts].n = 0;
	return &l->counts[l->ncounts++].n;
}

/* The count the limiter holds for a rule's name and key. */
static int64_t
limiter_count(const char *name, const char *key)
{
	struct limit_rule	 rule;

	memset(&rule, 0, sizeof(rule));
	rule.name = name;
	rule.key = key;
	return *limiter_counter(&rule);
}

/* Decides over the rules, taking one under each when commit is set. */
static void
limiter_decide(const struct limit_rule *rules, size_t n,
    struct limit_decision *d, int commit)
{
	size_t	 i;

	ck_assert_uint_le(n, LIMIT_MAX_RULES);
	memset(d, 0, sizeof(*d));
	d->allowed = 1;
	for (i = 0; i < n; i++)
		if (*limiter_counter(&rules[i]) >= rules[i].limit) {
			d->allowed = 0;
			d->retry_after_s = rules[i].window_s;
		}
	for (i = 0; i < n; i++) {
		int64_t	*c = limiter_counter(&rules[i]);

		if (commit && d->allowed)
			(*c)++;
		d->remaining[i] = rules[i].limit - *c -
		    (!commit && d->allowed);
		if (d->remaining[i] < 0)
			d->remaining[i] = 0;
		d->reset_s[i] = rules[i].window_s;
	}
}

static enum gt_err
fake_take(void *ctx, const struct limit_rule *rules, size_t n,
    const char *member, struct limit_decision *d)
{
	struct fake_limiter	*l = &fakes.limiter;
	size_t			 i;

	ck_assert_ptr_eq(ctx, l);
	l->takes++;
	note("limiter.take");
	if (l->down)
		return GT_ERR_UNAVAILABLE;
	ck_assert_uint_le(n, LIMIT_MAX_RULES);
	l->member = member;
	l->nrules = n;
	for (i = 0; i < n; i++)
		l->rules[i] = rules[i];
	limiter_decide(rules, n, d, 1);
	return GT_OK;
}

static enum gt_err
fake_peek(void *ctx, const struct limit_rule *rules, size_t n,
    struct limit_decision *d)
{
	ck_assert_ptr_eq(ctx, &fakes.limiter);
	fakes.limiter.peeks++;
	note("limiter.peek");
	if (fakes.limiter.down || fakes.limiter.peek_down)
		return GT_ERR_UNAVAILABLE;
	limiter_decide(rules, n, d, 0);
	return GT_OK;
}

static void
fake_give_back(void *ctx, const struct limit_rule *rules, size_t n,
    const char *member)
{
	size_t	 i;

	ck_assert_ptr_eq(ctx, &fakes.limiter);
	fakes.limiter.give_backs++;
	note("limiter.give_back");
	fakes.limiter.given_back = member;
	fakes.limiter.given_back_n = n;
	for (i = 0; i < n; i++) {
		int64_t	*c = limiter_counter(&rules[i]);

		if (*c > 0)
			(*c)--;
	}
}

static const struct limiter limiter_port = {
	&fakes.limiter, fake_take, fake_peek, fake_give_back
};

/* ------------------------------------------------------------------ */
/* The fake artifact store. */

static enum gt_err
fake_artifacts_list(void *ctx, struct arena *ar, const char *id,
    struct artifact **out, size_t *n)
{
	struct fake_artifacts	*a = &fakes.artifacts;

	ck_assert_ptr_eq(ctx, a);
	ck_assert_ptr_eq(ar, arena);
	a->lists++;
	note("artifacts.list");
	a->id = id;
	if (a->list_fail != GT_OK)
		return a->list_fail;
	*out = arena_calloc(ar, a->n + 1, sizeof(**out));
	ck_assert_ptr_nonnull(*out);
	memcpy(*out, a->list, a->n * sizeof(**out));
	*n = a->n;
	return GT_OK;
}

static enum gt_err
fake_artifacts_open(void *ctx, const char *id, const char *name, int *fd,
    int64_t *size)
{
	struct fake_artifacts	*a = &fakes.artifacts;

	ck_assert_ptr_eq(ctx, a);
	a->opens++;
	note("artifacts.open");
	a->id = id;
	a->name = name;
	if (a->open_fail != GT_OK)
		return a->open_fail;
	*fd = FAKE_FD;
	*size = FAKE_SIZE;
	return GT_OK;
}

static const struct artifact_store artifact_port = {
	&fakes.artifacts, fake_artifacts_list, fake_artifacts_open
};

/* ------------------------------------------------------------------ */
/* Fixtures and helpers. */

static void
setup(void)
{
	memset(&fakes, 0, sizeof(fakes));
	trace[0] = '\0';
	fakes.artifacts.list[0].name = "diff.patch";
	fakes.artifacts.list[0].size = 120;
	fakes.artifacts.list[1].name = "log.txt";
	fakes.artifacts.list[1].size = 5321;
	fakes.artifacts.n = 2;

	memset(&ports, 0, sizeof(ports));
	ports.store = &store_port;
	ports.cache = &cache_port;
	ports.limiter = &limiter_port;
	ports.artifacts = &artifact_port;
	ports.limits.repo_limit = 30;
	ports.limits.repo_window_s = 3600;
	ports.limits.requester_limit = 20;
	ports.limits.requester_window_s = 3600;

	arena = arena_new();
	ck_assert_ptr_nonnull(arena);
}

static void
teardown(void)
{
	arena_free(arena);
	arena = NULL;
}

/* A validated creation request, without an Idempotency-Key. */
static struct run_new
new_run(void)
{
	struct run_new	 rn;

	memset(&rn, 0, sizeof(rn));
	rn.repo = "Octo/Widgets";
	rn.target_type = TARGET_ISSUE;
	rn.target_number = 12;
	rn.instruction = "Fix the failing date parser test";
	rn.requested_by = "alice";
	rn.source = SOURCE_API;
	rn.requester = "alice";
	return rn;
}

/* A request with key and fingerprint, its run already stored as RUN_A. */
static struct stored_run *
store_keyed(const char *key, const char *fingerprint)
{
	struct stored_run	*s = store_add(RUN_A, RUN_QUEUED);

	s->key = key;
	s->fingerprint = fingerprint;
	return s;
}

static enum gt_err
create(const struct run_new *rn, struct run *out, struct create_outcome *oc)
{
	memset(out, 0, sizeof(*out));
	memset(oc, 0xa5, sizeof(*oc));
	return runs_create(&ports, arena, rn, MEMBER, out, oc);
}

/* A run with every member set, as a finished failed run has them. */
static struct run
full_run(void)
{
	struct run	 r;

	memset(&r, 0, sizeof(r));
	ck_assert_int_eq(snprintf(r.id, sizeof(r.id), "%s", RUN_B),
	    RUN_ID_LEN);
	r.repo = "Octo/Widgets";
	r.target_type = TARGET_PULL_REQUEST;
	r.target_number = TARGET_NUMBER_MAX;
	r.instruction = "Fix the \"date\" parser\n\ttwice \xc3\xa9";
	r.status = RUN_FAILED;
	r.source = SOURCE_WEBHOOK;
	r.requested_by = "alice";
	r.created_at_ms = 1764786191123;
	r.started_at_ms = 1764786192004;
	r.finished_at_ms = 1764786250999;
	r.has_exit_code = 1;
	r.exit_code = -3;
	r.error_stage = STAGE_RUNNER;
	r.error_message = "the runner exited with status 3";
	r.result_json = "{\"summary\":\"no fix\",\"files\":[1,2]}";
	return r;
}

static void
assert_str_or_null_eq(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		ck_assert_ptr_eq(a, b);
	else
		ck_assert_str_eq(a, b);
}

static void
assert_run_eq(const struct run *a, const struct run *b)
{
	ck_assert_str_eq(a->id, b->id);
	ck_assert_str_eq(a->repo, b->repo);
	ck_assert_int_eq(a->target_type, b->target_type);
	ck_assert_int_eq(a->target_number, b->target_number);
	ck_assert_str_eq(a->instruction, b->instruction);
	ck_assert_int_eq(a->status, b->status);
	ck_assert_int_eq(a->source, b->source);
	assert_str_or_null_eq(a->requested_by, b->requested_by);
	ck_assert_int_eq(a->created_at_ms, b->created_at_ms);
	ck_assert_int_eq(a->started_at_ms, b->started_at_ms);
	ck_assert_int_eq(a->finished_at_ms, b->finished_at_ms);
	ck_assert_int_eq(a->has_exit_code, b->has_exit_code);
	if (a->has_exit_code)
		ck_assert_int_eq(a->exit_code, b->exit_code);
	ck_assert_int_eq(a->error_stage, b->error_stage);
	assert_str_or_null_eq(a->error_message, b->error_message);
	assert_str_or_null_eq(a->result_json, b->result_json);
}

/* The run's JSON text as the cache holds it, into the arena. */
static const char *
run_text(const struct run *r)
{
	struct buf	 b;
	struct jsonw	 w;
	char		*text;

	buf_init(&b);
	jw_init(&w, &b);
	jw_object_open(&w);
	run_json_members(&w, r);
	jw_object_close(&w);
	ck_assert(jw_ok(&w));
	text = arena_strndup(arena, b.data, b.len);
	buf_free(&b);
	ck_assert_ptr_nonnull(text);
	return text;
}

/* Reads the cache's entry for id back; it must exist and be valid. */
static struct run
cached_run(const char *id)
{
	const struct cache_entry	*c = cache_find(id);
	struct run			 r;

	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(run_json_read(arena, c->json, c->len, &r), GT_OK);
	ck_assert_str_eq(r.id, id);
	ck_assert_int_eq(r.status, c->status);
	return r;
}

/* ------------------------------------------------------------------ */
/* runs_create: a new run. */

START_TEST(create_makes_a_queued_run)
{
	struct run_new		 rn = new_run();
	struct run		 out;
	struct create_outcome	 oc;

	ck_assert_int_eq(create(&rn, &out, &oc), GT_OK);
	ck_assert_int_eq(oc.created, 1);
	ck_assert_uint_eq(fakes.store.nruns, 1);
	ck_assert_str_eq(out.id, fakes.store.runs[0].run.id);
	ck_assert_int_eq(out.status, RUN_QUEUED);
	ck_assert_str_eq(out.repo, "Octo/Widgets");
	ck_assert_ptr_eq(fakes.store.rn, &rn);
	ck_assert_int_eq(oc.has_decision, 1);
	ck_assert_int_eq(oc.d.allowed, 1);
}
END_TEST

START_TEST(create_caches_the_run_as_queued_after_the_insert)
{
	struct run_new		 rn = new_run();
	struct run		 out, cached;
	struct create_outcome	 oc;

	ck_assert_int_eq(create(&rn, &out, &oc), GT_OK);
	ck_assert_int_eq(fakes.cache.puts, 1);
	ck_assert_int_lt(called_at("store.insert"), called_at("cache.put"));
	ck_assert_int_eq(fakes.cache.entries[0].status, RUN_QUEUED);
	cached = cached_run(out.id);
	assert_run_eq(&cached, &out);
}
END_TEST

START_TEST(create_takes_under_the_default_limits)
{
	struct run_new		 rn = new_run();
	struct run		 out;
	struct create_outcome	 oc;

	ck_assert_int_eq(create(&rn, &out, &oc), GT_OK);
	ck_assert_uint_eq(oc.nrules, 2);
	ck_assert_int_eq(oc.rules[0].kind, LIMIT_REPO);
	ck_assert_str_eq(oc.rules[0].name, "repo");
	ck_assert_str_eq(oc.rules[0].key, "octo/widgets");
	ck_assert_int_eq(oc.rules[0].limit, 30);
	ck_assert_int_eq(oc.rules[0].window_s, 3600);
	ck_assert_int_eq(oc.rules[1].kind, LIMIT_REQUESTER);
	ck_assert_str_eq(oc.rules[1].name, "requester");
	ck_assert_str_eq(oc.rules[1].key, "alice");
	ck_assert_int_eq(oc.rules[1].limit, 20);
	ck_assert_int_eq(oc.rules[1].window_s, 3600);

	ck_assert_int_eq(fakes.limiter.takes, 1);
	ck_assert_str_eq(fakes.limiter.member, MEMBER);
	ck_assert_uint_eq(fakes.limiter.nrules, 2);
	ck_assert_str_eq(fakes.limiter.rules[0].key, "octo/widgets");
	ck_assert_str_eq(fakes.limiter.rules[1].key, "alice");
	ck_assert_int_eq(limiter_count("repo", "octo/widgets"), 1);
	ck_assert_int_eq(limiter_count("requester", "alice"), 1);
	ck_assert_int_eq(oc.d.remaining[0], 29);
	ck_assert_int_eq(oc.d.remaining[1], 19);
}
END_TEST

START_TEST(create_without_limiter_take_inserts_without_rules)
{
	struct run_new		 rn = new_run();
	struct run		 out;
	struct create_outcome	 oc;

	ck_assert_int_eq(create(&rn, &out, &oc), GT_OK);
	ck_assert_uint_eq(fakes.store.nrules, 0);
	ck_assert_int_eq(fakes.store.has_d, 0);
}
END_TEST

START_TEST(create_uses_the_repository_override)
{
	struct run_new		 rn = new_run();
	struct run		 out;
	struct create_outcome	 oc;

	fakes.store.has_override = 1;
	fakes.store.override_limit = 5;
	fakes.store.override_window_s = 60;
	ck_assert_int_eq(create(&rn, &out, &oc), GT_OK);
	ck_assert_str_eq(fakes.store.repo, "Octo/Widgets");
	ck_assert_int_eq(oc.rules[0].limit, 5);
	ck_assert_int_eq(oc.rules[0].window_s, 60);
	ck_assert_int_eq(oc.rules[1].limit, 20);
	ck_assert_int_eq(oc.rules[1].window_s, 3600);
	ck_assert_int_eq(fakes.limiter.rules[0].limit, 5);
	ck_assert_int_eq(oc.d.remaining[0], 4);
}
END_TEST

START_TEST(create_counts_the_requester_of_the_request)
{
	struct run_new		 rn = new_run();
	struct run		 out;
	struct create_outcome	 oc;

	rn.requested_by = NULL;
	rn.requester = "role:operator";
	ck_assert_int_eq(create(&rn, &out, &oc), GT_OK);
	ck_assert_str_eq(oc.rules[1].key, "role:operator");
	ck_assert_int_eq(limiter_count("requester", "role:operator"), 1);
	ck_assert_int_eq(limiter_count("requester", "alice"), 0);
	ck_assert_ptr_null(out.requested_by);
}
END_TEST

START_TEST(create_counts_the_repository_in_lower_case)
{
	struct run_new		 rn = new_run();
	struct run		 out;
	struct create_outcome	 oc;

	rn.repo = "OCTO-Labs/Wid.Gets_2";
	ck_assert_int_eq(create(&rn, &out, &oc), GT_OK);
	ck_assert_str_eq(oc.rules[0].key, "octo-labs/wid.gets_2");
	ck_assert_str_eq(out.repo, "OCTO-Labs/Wid.Gets_2");

	rn.repo = "octo-labs/WID.GETS_2";
	ck_assert_int_eq(create(&rn, &out, &oc), GT_OK);
	ck_assert_int_eq(limiter_count("repo", "octo-labs/wid.gets_2"), 2);
}
END_TEST

START_TEST(create_with_a_repository_too_long_is_invalid)
{
	char			 repo[REPO_MAX + 2];
	struct run_new		 rn = new_run();
	struct run		 out;
	struct create_outcome	 oc;

	memset(repo, 'a', sizeof(repo) - 1);
	repo[sizeof(repo) - 1] = '\0';
	repo[REPO_OWNER_MAX] = '/';
	rn.repo = repo;
	ck_assert_int_eq(create(&rn, &out, &oc), GT_ERR_INVALID);
	ck_assert_int_eq(fakes.store.calls[ST_INSERT], 0);
	ck_assert_int_eq(fakes.limiter.takes, 0);
}
END_TEST

START_TEST(create_within_the_limit_is_exact)
{
	struct run_new		 rn = new_run();
	struct run		 out;
	struct create_outcome	 oc;
	int			 i;

	ports.limits.requester_limit = 3;
	for (i = 0; i < 3; i++) {
		ck_assert_int_eq(create(&rn, &out, &oc), GT_OK);
		ck_assert_int_eq(oc.d.remaining[1], 2 - i);
	}
	ck_assert_int_eq(create(&rn, &out, &oc), GT_ERR_RATE_LIMITED);
	ck_assert_pstr_eq(runs_refused_by(&oc), "requester");
	ck_assert_uint_eq(fakes.store.nruns, 3);
	ck_assert_int_eq(limiter_count("requester", "alice"), 3);
	ck_assert_int_eq(limiter_count("repo", "octo/widgets"), 3);
}
END_TEST

/* ------------------------------------------------------------------ */
/* runs_create: refusals. */

START_TEST(create_in_a_paused_repository_is_refused)
{
	struct run_new		 rn = new_run();
	struct run		 out;
	struct create_outcome	 oc;

	fakes.store.repo_paused = 1;
	ck_assert_int_eq(create(&rn, &out, &oc), GT_ERR_PAUSED_REPO);
	ck_assert_int_eq(oc.has_decision, 1);
	ck_assert_int_eq(fakes.limiter.peeks, 1);
	ck_assert_int_eq(oc.d.allowed, 1);
	ck_assert_int_eq(oc.d.remaining[0], 29);
	ck_assert_uint_eq(oc.nrules, 2);
	ck_assert_int_eq(fakes.limiter.takes, 0);
	ck_assert_int_eq(fakes.store.calls[ST_INSERT], 0);
	ck_assert_uint_eq(fakes.store.nruns, 0);
	ck_assert_int_eq(fakes.cache.puts, 0);
	ck_assert_int_eq(limiter_count("repo", "octo/widgets"), 0);
}
END_TEST

START_TEST(create_on_a_paused_target_is_refused)
{
	struct run_new		 rn = new_run();
	struct run		 out;
	struct create_outcome	 oc;

	rn.target_type = TARGET_PULL_REQUEST;
	rn.target_number = 77;
	fakes.store.target_paused = 1;
	ck_assert_int_eq(create(&rn, &out, &oc), GT_ERR_PAUSED_TARGET);
	ck_assert_str_eq(fakes.store.repo, "Octo/Widgets");
	ck_assert_int_eq(fakes.store.target_type, TARGET_PULL_REQUEST);
	ck_assert_int_eq(fakes.store.target_number, 77);
	ck_assert_int_eq(oc.has_decision, 1);
	ck_assert_int_eq(fakes.limiter.takes, 0);
	ck_assert_uint_eq(fakes.store.nruns, 0);
}
END_TEST

START_TEST(repository_pause_is_told_before_target_pause)
{
	struct run_new		 rn = new_run();
	struct run		 out;
	struct create_outcome	 oc;

	fakes.store.repo_paused = 1;
	fakes.store.target_paused = 1;
	ck_assert_int_eq(create(&rn, &out, &oc), GT_ERR_PAUSED_REPO);
}
END_TEST

START_TEST(pause_headers_are_counted_in_the_database_without_redis)
{
	struct run_new		 rn = new_run();
	struct run		 out;
	struct create_outcome	 oc;

	store_add(RUN_A, RUN_SUCCEEDED);
	fakes.limiter.down = 1;
	fakes.store.repo_paused = 1;
	ck_assert_int_eq(create(&rn, &out, &oc), GT_ERR_PAUSED_REPO);
	ck_assert_int_eq(fakes.store.calls[ST_COUNT_LIMITS], 1);
	ck_assert_int_eq(oc.has_decision, 1);
	ck_assert_int_eq(oc.d.remaining[0], 28);
	ck_assert_int_eq(fakes.store.calls[ST_INSERT], 0);
}
END_TEST

START_TEST(pause_is_told_without_headers_when_nothing_counts)
{
	struct run_new		 rn = new_run();
	struct run		 out;
	struct create_outcome	 oc;

	fakes.limiter.down = 1;
	fakes.store.fail[ST_COUNT_LIMITS] = GT_ERR_UNAVAILABLE;
	fakes.store.target_paused = 1;
	ck_assert_int_eq(create(&rn, &out, &oc), GT_ERR_PAUSED_TARGET);
	ck_assert_int_eq(oc.has_decision, 0);
}
END_TEST

START_TEST(create_over_the_limit_is_refused)
{
	struct run_new		 rn = new_run();
	struct run		 out;
	struct create_outcome	 oc;

	fakes.store.has_override = 1;
	fakes.store.override_limit = 0;
	fakes.store.override_window_s = 900;
	ck_assert_int_eq(create(&rn, &out, &oc), GT_ERR_RATE_LIMITED);
	ck_assert_int_eq(oc.has_decision, 1);
	ck_assert_int_eq(oc.d.allowed, 0);
	ck_assert_int_eq(oc.d.retry_after_s, 900);
	ck_assert_pstr_eq(runs_refused_by(&oc), "repo");
	ck_assert_int_eq(fakes.store.calls[ST_INSERT], 0);
	ck_assert_int_eq(fakes.limiter.give_backs, 0);
	ck_assert_int_eq(fakes.cache.puts, 0);
	ck_assert_int_eq(limiter_count("requester", "alice"), 0);
}
END_TEST

/* ------------------------------------------------------------------ */
/* runs_create: the database counts when the limiter cannot. */

START_TEST(create_without_redis_counts_in_the_database)
{
	struct run_new		 rn = new_run();
	struct run		 out;
	struct create_outcome	 oc;

	fakes.limiter.down = 1;
	ck_assert_int_eq(create(&rn, &out, &oc), GT_OK);
	ck_assert_int_eq(oc.created, 1);
	ck_assert_int_eq(fakes.store.calls[ST_INSERT], 1);
	ck_assert_uint_eq(fakes.store.nrules, 2);
	ck_assert_int_eq(fakes.store.has_d, 1);
	ck_assert_int_eq(fakes.store.rules[0].kind, LIMIT_REPO);
	ck_assert_str_eq(fakes.store.rules[0].key, "octo/widgets");
	ck_assert_int_eq(fakes.store.rules[0].limit, 30);
	ck_assert_int_eq(fakes.store.rules[1].kind, LIMIT_REQUESTER);
	ck_assert_str_eq(fakes.store.rules[1].key, "alice");
	ck_assert_int_eq(fakes.store.rules[1].limit, 20);
	ck_assert_int_eq(oc.has_decision, 1);
	ck_assert_int_eq(oc.d.allowed, 1);
	ck_assert_ptr_null(runs_refused_by(&oc));
	ck_assert_int_eq(oc.d.remaining[1], 19);
	ck_assert_int_eq(fakes.limiter.give_backs, 0);
	ck_assert_int_eq(fakes.cache.puts, 1);
}
END_TEST

START_TEST(database_limit_refusal_is_passed_through)
{
	struct run_new		 rn = new_run();
	struct run		 out;
	struct create_outcome	 oc;

	ports.limits.requester_limit = 1;
	store_add(RUN_A, RUN_RUNNING);
	fakes.limiter.down = 1;
	ck_assert_int_eq(create(&rn, &out, &oc), GT_ERR_RATE_LIMITED);
	ck_assert_int_eq(oc.has_decision, 1);
	ck_assert_int_eq(oc.d.allowed, 0);
	ck_assert_uint_eq(fakes.store.nruns, 1);
	ck_assert_int_eq(fakes.limiter.give_backs, 0);
	ck_assert_int_eq(fakes.cache.puts, 0);
}
END_TEST

START_TEST(failed_database_insert_without_redis_has_no_headers)
{
	struct run_new		 rn = new_run();
	struct run		 out;
	struct create_outcome	 oc;

	fakes.limiter.down = 1;
	fakes.store.fail[ST_INSERT] = GT_ERR_UNAVAILABLE;
	ck_assert_int_eq(create(&rn, &out, &oc), GT_ERR_UNAVAILABLE);
	ck_assert_int_eq(oc.has_decision, 0);
	ck_assert_int_eq(fakes.limiter.give_backs, 0);
}
END_TEST

START_TEST(failed_insert_gives_back_what_was_taken)
{
	struct run_new		 rn = new_run();
	struct run		 out;
	struct create_outcome	 oc;

	fakes.store.fail[ST_INSERT] = GT_ERR_UNAVAILABLE;
	ck_assert_int_eq(create(&rn, &out, &oc), GT_ERR_UNAVAILABLE);
	ck_assert_int_eq(fakes.limiter.takes, 1);
	ck_assert_int_eq(fakes.limiter.give_backs, 1);
	ck_assert_str_eq(fakes.limiter.given_back, MEMBER);
	ck_assert_ptr_eq(fakes.limiter.given_back, fakes.limiter.member);
	ck_assert_uint_eq(fakes.limiter.given_back_n, 2);
	ck_assert_int_lt(called_at("store.insert"),
	    called_at("limiter.give_back"));
	ck_assert_int_eq(limiter_count("repo", "octo/widgets"), 0);
	ck_assert_int_eq(limiter_count("requester", "alice"), 0);
	ck_assert_int_eq(fakes.cache.puts, 0);
}
END_TEST

START_TEST(conflict_without_a_key_gives_back_and_fails)
{
	struct run_new		 rn = new_run();
	struct run		 out;
	struct create_outcome	 oc;

	fakes.store.fail[ST_INSERT] = GT_ERR_CONFLICT;
	ck_assert_int_eq(create(&rn, &out, &oc), GT_ERR_CONFLICT);
	ck_assert_int_eq(fakes.limiter.give_backs, 1);
	ck_assert_int_eq(fakes.store.calls[ST_FIND_BY_KEY], 0);
}
END_TEST

/* ------------------------------------------------------------------ */
/* runs_create: Idempotency-Key. */

START_TEST(same_key_and_request_replays_the_first_run)
{
	struct run_new		 rn = new_run();
	struct run		 out;
	struct create_outcome	 oc;

	store_keyed("key-1", "fp-1");
	fakes.store.repo_paused = 1;
	rn.idempotency_key = "key-1";
	rn.fingerprint = "fp-1";
	ck_assert_int_eq(create(&rn, &out, &oc), GT_OK);
	ck_assert_int_eq(oc.created, 0);
	ck_assert_str_eq(out.id, RUN_A);
	ck_assert_str_eq(fakes.store.key, "key-1");
	ck_assert_str_eq(fakes.store.fingerprint, "fp-1");
	ck_assert_int_eq(fakes.store.calls[ST_INSERT], 0);
	ck_assert_int_eq(fakes.store.calls[ST_GATE], 1);
	ck_assert_int_eq(fakes.limiter.takes, 0);
	ck_assert_int_eq(fakes.cache.puts, 0);
	ck_assert_int_eq(oc.has_decision, 1);
	ck_assert_uint_eq(oc.nrules, 2);
	ck_assert_uint_eq(fakes.store.nruns, 1);
}
END_TEST

START_TEST(repeated_request_creates_one_run)
{
	struct run_new		 rn = new_run();
	struct run		 first, out;
	struct create_outcome	 oc;

	rn.idempotency_key = "key-2";
	rn.fingerprint = "fp-2";
	ck_assert_int_eq(create(&rn, &first, &oc), GT_OK);
	ck_assert_int_eq(oc.created, 1);
	ck_assert_int_eq(create(&rn, &out, &oc), GT_OK);
	ck_assert_int_eq(oc.created, 0);
	ck_assert_str_eq(out.id, first.id);
	ck_assert_uint_eq(fakes.store.nruns, 1);
	ck_assert_int_eq(fakes.limiter.takes, 1);
	ck_assert_int_eq(limiter_count("requester", "alice"), 1);
}
END_TEST

START_TEST(same_key_with_another_request_is_refused)
{
	struct run_new		 rn = new_run();
	struct run		 out;
	struct create_outcome	 oc;

	store_keyed("key-1", "fp-1");
	rn.idempotency_key = "key-1";
	rn.fingerprint = "fp-other";
	ck_assert_int_eq(create(&rn, &out, &oc), GT_ERR_IDEMPOTENCY);
	ck_assert_int_eq(fakes.store.calls[ST_INSERT], 0);
	ck_assert_int_eq(fakes.store.calls[ST_GATE], 1);
	ck_assert_int_eq(fakes.limiter.takes, 0);
	ck_assert_uint_eq(fakes.store.nruns, 1);
}
END_TEST

START_TEST(key_race_lost_replays_the_winner)
{
	struct run_new		 rn = new_run();
	struct run		 out;
	struct create_outcome	 oc;

	fakes.store.race = 1;
	fakes.store.racer = *store_keyed("key-3", "fp-3");
	fakes.store.nruns = 0;
	rn.idempotency_key = "key-3";
	rn.fingerprint = "fp-3";
	ck_assert_int_eq(create(&rn, &out, &oc), GT_OK);
	ck_assert_int_eq(oc.created, 0);
	ck_assert_str_eq(out.id, RUN_A);
	ck_assert_int_eq(fakes.store.calls[ST_FIND_BY_KEY], 2);
	ck_assert_int_eq(fakes.limiter.give_backs, 1);
	ck_assert_str_eq(fakes.limiter.given_back, MEMBER);
	ck_assert_int_eq(limiter_count("requester", "alice"), 0);
	ck_assert_int_eq(oc.has_decision, 1);
	ck_assert_int_eq(oc.d.remaining[1], 19);
	ck_assert_uint_eq(fakes.store.nruns, 1);
	ck_assert_int_eq(fakes.cache.puts, 0);
}
END_TEST

START_TEST(key_race_lost_to_another_request_is_refused)
{
	struct run_new		 rn = new_run();
	struct run		 out;
	struct create_outcome	 oc;

	fakes.store.race = 1;
	fakes.store.racer = *store_keyed("key-3", "fp-winner");
	fakes.store.nruns = 0;
	rn.idempotency_key = "key-3";
	rn.fingerprint = "fp-3";
	ck_assert_int_eq(create(&rn, &out, &oc), GT_ERR_IDEMPOTENCY);
	ck_assert_int_eq(fakes.limiter.give_backs, 1);
	ck_assert_uint_eq(fakes.store.nruns, 1);
}
END_TEST

START_TEST(key_race_without_redis_replays_the_winner)
{
	struct run_new		 rn = new_run();
	struct run		 out;
	struct create_outcome	 oc;

	fakes.limiter.down = 1;
	fakes.store.race = 1;
	fakes.store.racer = *store_keyed("key-3", "fp-3");
	fakes.store.nruns = 0;
	rn.idempotency_key = "key-3";
	rn.fingerprint = "fp-3";
	ck_assert_int_eq(create(&rn, &out, &oc), GT_OK);
	ck_assert_int_eq(oc.created, 0);
	ck_assert_str_eq(out.id, RUN_A);
	ck_assert_int_eq(fakes.limiter.give_backs, 0);
	ck_assert_int_eq(fakes.store.calls[ST_COUNT_LIMITS], 1);
	ck_assert_int_eq(oc.has_decision, 1);
}
END_TEST

START_TEST(key_race_replay_without_counts_has_no_headers)
{
	struct run_new		 rn = new_run();
	struct run		 out;
	struct create_outcome	 oc;

	fakes.limiter.peek_down = 1;
	fakes.store.fail[ST_COUNT_LIMITS] = GT_ERR_UNAVAILABLE;
	fakes.store.race = 1;
	fakes.store.racer = *store_keyed("key-3", "fp-3");
	fakes.store.nruns = 0;
	rn.idempotency_key = "key-3";
	rn.fingerprint = "fp-3";
	ck_assert_int_eq(create(&rn, &out, &oc), GT_OK);
	ck_assert_int_eq(oc.created, 0);
	ck_assert_int_eq(fakes.limiter.takes, 1);
	ck_assert_int_eq(fakes.limiter.give_backs, 1);
	ck_assert_int_eq(oc.has_decision, 0);
}
END_TEST

START_TEST(key_conflict_with_the_key_gone_is_a_conflict)
{
	struct run_new		 rn = new_run();
	struct run		 out;
	struct create_outcome	 oc;

	fakes.store.fail[ST_INSERT] = GT_ERR_CONFLICT;
	rn.idempotency_key = "key-4";
	rn.fingerprint = "fp-4";
	ck_assert_int_eq(create(&rn, &out, &oc), GT_ERR_CONFLICT);
	ck_assert_int_eq(fakes.store.calls[ST_FIND_BY_KEY], 2);
	ck_assert_int_eq(fakes.limiter.give_backs, 1);
}
END_TEST

/* ------------------------------------------------------------------ */
/* runs_create: the store down, at each step. */

static const enum store_fn create_steps[] = {
	ST_GATE, ST_FIND_BY_KEY, ST_INSERT
};

START_TEST(create_with_the_store_down_is_unavailable)
{
	struct run_new		 rn = new_run();
	struct run		 out;
	struct create_outcome	 oc;
	enum store_fn		 fn = create_steps[_i];

	rn.idempotency_key = "key-5";
	rn.fingerprint = "fp-5";
	fakes.store.fail[fn] = GT_ERR_UNAVAILABLE;
	ck_assert_int_eq(create(&rn, &out, &oc), GT_ERR_UNAVAILABLE);
	ck_assert_int_eq(fakes.store.calls[fn], 1);
	ck_assert_uint_eq(fakes.store.nruns, 0);
	ck_assert_int_eq(fakes.cache.puts, 0);
	ck_assert_int_eq(limiter_count("requester", "alice"), 0);
	if (fn != ST_INSERT)
		ck_assert_int_eq(fakes.limiter.takes, 0);
}
END_TEST

START_TEST(gate_down_makes_create_unavailable)
{
	struct run_new		 rn = new_run();
	struct run		 out;
	struct create_outcome	 oc;

	fakes.store.fail[ST_GATE] = GT_ERR_UNAVAILABLE;
	ck_assert_int_eq(create(&rn, &out, &oc), GT_ERR_UNAVAILABLE);
	ck_assert_int_eq(fakes.store.calls[ST_GATE], 1);
	ck_assert_int_eq(fakes.store.calls[ST_INSERT], 0);
	ck_assert_int_eq(fakes.limiter.takes, 0);
	ck_assert_int_eq(fakes.limiter.peeks, 0);
}
END_TEST

START_TEST(create_with_the_cache_down_still_creates)
{
	struct run_new		 rn = new_run();
	struct run		 out;
	struct create_outcome	 oc;

	fakes.cache.down = 1;
	ck_assert_int_eq(create(&rn, &out, &oc), GT_OK);
	ck_assert_int_eq(oc.created, 1);
	ck_assert_uint_eq(fakes.store.nruns, 1);
	ck_assert_int_eq(fakes.cache.puts, 1);
}
END_TEST

/* ------------------------------------------------------------------ */
/* runs_get. */

START_TEST(get_serves_a_cache_hit_without_the_store)
{
	struct run	 r = full_run(), out;
	struct artifact	*arts = NULL;
	size_t		 n = 0;

	cache_set(RUN_B, r.status, run_text(&r));
	ck_assert_int_eq(runs_get(&ports, arena, RUN_B, &out, &arts, &n),
	    GT_OK);
	assert_run_eq(&out, &r);
	ck_assert_int_eq(fakes.store.calls[ST_GET], 0);
	ck_assert_int_eq(fakes.cache.puts, 0);
	ck_assert_int_eq(fakes.artifacts.lists, 1);
}
END_TEST

START_TEST(get_on_a_miss_reads_the_store_then_caches)
{
	const struct stored_run	*s = store_add(RUN_A, RUN_SUCCEEDED);
	struct run		 out, cached;

	ck_assert_int_eq(runs_get(&ports, arena, RUN_A, &out, NULL, NULL),
	    GT_OK);
	assert_run_eq(&out, &s->run);
	ck_assert_str_eq(trace, "cache.get store.get cache.put");
	ck_assert_str_eq(fakes.store.id, RUN_A);
	cached = cached_run(RUN_A);
	ck_assert_int_eq(fakes.cache.entries[0].status, RUN_SUCCEEDED);
	assert_run_eq(&cached, &s->run);
}
END_TEST

START_TEST(get_after_a_miss_is_served_from_the_cache)
{
	const struct stored_run	*s = store_add(RUN_A, RUN_RUNNING);
	struct run		 out;

	ck_assert_int_eq(runs_get(&ports, arena, RUN_A, &out, NULL, NULL),
	    GT_OK);
	ck_assert_int_eq(runs_get(&ports, arena, RUN_A, &out, NULL, NULL),
	    GT_OK);
	assert_run_eq(&out, &s->run);
	ck_assert_int_eq(fakes.store.calls[ST_GET], 1);
	ck_assert_int_eq(fakes.cache.gets, 2);
}
END_TEST

static const char *const bad_entries[] = {
	"",
	"{\"id\":",
	"{\"id\":\"" RUN_A "\"}",
	"[]",
};

START_TEST(get_with_a_corrupt_entry_reads_the_store)
{
	const struct stored_run	*s = store_add(RUN_A, RUN_QUEUED);
	struct run		 out;

	cache_set(RUN_A, RUN_QUEUED, bad_entries[_i]);
	ck_assert_int_eq(runs_get(&ports, arena, RUN_A, &out, NULL, NULL),
	    GT_OK);
	assert_run_eq(&out, &s->run);
	ck_assert_int_eq(fakes.store.calls[ST_GET], 1);
	(void)cached_run(RUN_A);
}
END_TEST

START_TEST(get_with_another_runs_entry_reads_the_store)
{
	struct run		 other = full_run();
	const struct stored_run	*s = store_add(RUN_A, RUN_QUEUED);
	struct run		 out;

	cache_set(RUN_A, RUN_QUEUED, run_text(&other));
	ck_assert_int_eq(runs_get(&ports, arena, RUN_A, &out, NULL, NULL),
	    GT_OK);
	ck_assert_str_eq(out.id, RUN_A);
	assert_run_eq(&out, &s->run);
	ck_assert_int_eq(fakes.store.calls[ST_GET], 1);
}
END_TEST

START_TEST(get_with_the_cache_down_reads_the_store)
{
	const struct stored_run	*s = store_add(RUN_A, RUN_QUEUED);
	struct run		 out;

	fakes.cache.down = 1;
	ck_assert_int_eq(runs_get(&ports, arena, RUN_A, &out, NULL, NULL),
	    GT_OK);
	assert_run_eq(&out, &s->run);
	ck_assert_int_eq(fakes.store.calls[ST_GET], 1);
}
END_TEST

START_TEST(get_of_an_unknown_run_is_not_found)
{
	struct run	 out;
	struct artifact	*arts = NULL;
	size_t		 n = 0;

	store_add(RUN_A, RUN_QUEUED);
	ck_assert_int_eq(runs_get(&ports, arena, RUN_NONE, &out, &arts, &n),
	    GT_ERR_NOT_FOUND);
	ck_assert_int_eq(fakes.cache.puts, 0);
	ck_assert_int_eq(fakes.artifacts.lists, 0);
}
END_TEST

START_TEST(get_with_the_store_down_is_unavailable)
{
	struct run	 out;

	store_add(RUN_A, RUN_QUEUED);
	fakes.store.fail[ST_GET] = GT_ERR_UNAVAILABLE;
	ck_assert_int_eq(runs_get(&ports, arena, RUN_A, &out, NULL, NULL),
	    GT_ERR_UNAVAILABLE);
	ck_assert_int_eq(fakes.cache.puts, 0);
}
END_TEST

START_TEST(get_lists_the_runs_artifacts)
{
	struct run	 out;
	struct artifact	*arts = NULL;
	size_t		 n = 0;

	store_add(RUN_A, RUN_SUCCEEDED);
	ck_assert_int_eq(runs_get(&ports, arena, RUN_A, &out, &arts, &n),
	    GT_OK);
	ck_assert_str_eq(fakes.artifacts.id, RUN_A);
	ck_assert_uint_eq(n, 2);
	ck_assert_ptr_nonnull(arts);
	ck_assert_str_eq(arts[0].name, "diff.patch");
	ck_assert_int_eq(arts[0].size, 120);
	ck_assert_str_eq(arts[1].name, "log.txt");
	ck_assert_int_eq(arts[1].size, 5321);
}
END_TEST

START_TEST(get_without_artifacts_asked_lists_none)
{
	struct run	 out;

	store_add(RUN_A, RUN_SUCCEEDED);
	ck_assert_int_eq(runs_get(&ports, arena, RUN_A, &out, NULL, NULL),
	    GT_OK);
	ck_assert_int_eq(fakes.artifacts.lists, 0);
}
END_TEST

START_TEST(get_passes_an_artifact_listing_failure_through)
{
	struct run	 out;
	struct artifact	*arts = NULL;
	size_t		 n = 9;

	store_add(RUN_A, RUN_SUCCEEDED);
	fakes.artifacts.list_fail = GT_ERR_IO;
	ck_assert_int_eq(runs_get(&ports, arena, RUN_A, &out, &arts, &n),
	    GT_ERR_IO);
	ck_assert_ptr_null(arts);
	ck_assert_uint_eq(n, 0);
}
END_TEST

/* ------------------------------------------------------------------ */
/* runs_list. */

START_TEST(list_passes_the_filter_and_returns_the_page)
{
	struct run_filter	 f;
	struct run		*runs = NULL;
	size_t			 n = 0;
	int64_t			 total = 0;

	memset(&f, 0, sizeof(f));
	f.has_status = 1;
	f.status = RUN_RUNNING;
	f.repo = "octo/widgets";
	f.page = 2;
	f.limit = 2;
	store_add(RUN_A, RUN_RUNNING);
	store_add(RUN_B, RUN_RUNNING);
	fakes.store.list_total = 134;
	ck_assert_int_eq(runs_list(&ports, arena, &f, &runs, &n, &total),
	    GT_OK);
	ck_assert_ptr_eq(fakes.store.filter, &f);
	ck_assert_uint_eq(n, 2);
	ck_assert_int_eq(total, 134);
	ck_assert_str_eq(runs[0].id, RUN_A);
	ck_assert_str_eq(runs[1].id, RUN_B);
	ck_assert_str_eq(trace, "store.list");
}
END_TEST

START_TEST(list_passes_a_store_failure_through)
{
	struct run_filter	 f;
	struct run		*runs = NULL;
	size_t			 n = 0;
	int64_t			 total = 0;

	memset(&f, 0, sizeof(f));
	f.page = 1;
	f.limit = 20;
	fakes.store.fail[ST_LIST] = GT_ERR_UNAVAILABLE;
	ck_assert_int_eq(runs_list(&ports, arena, &f, &runs, &n, &total),
	    GT_ERR_UNAVAILABLE);
}
END_TEST

/* ------------------------------------------------------------------ */
/* runs_cancel. */

START_TEST(cancel_invalidates_before_and_caches_after)
{
	struct run	 out, cached;

	store_add(RUN_A, RUN_QUEUED);
	ck_assert_int_eq(runs_cancel(&ports, arena, RUN_A, &out), GT_OK);
	ck_assert_str_eq(trace, "cache.invalidate store.cancel cache.put");
	ck_assert_str_eq(fakes.store.id, RUN_A);
	ck_assert_int_eq(out.status, RUN_CANCELLED);
	ck_assert_int_eq(out.error_stage, STAGE_CANCELLED);
	cached = cached_run(RUN_A);
	assert_run_eq(&cached, &out);
}
END_TEST

START_TEST(cancel_replaces_a_stale_entry)
{
	struct stored_run	*s = store_add(RUN_A, RUN_QUEUED);
	struct run		 out, cached;

	cache_set(RUN_A, RUN_QUEUED, run_text(&s->run));
	ck_assert_int_eq(runs_cancel(&ports, arena, RUN_A, &out), GT_OK);
	cached = cached_run(RUN_A);
	ck_assert_int_eq(cached.status, RUN_CANCELLED);
	ck_assert_uint_eq(fakes.cache.n, 1);
}
END_TEST

START_TEST(cancel_of_a_running_run_caches_it_running)
{
	struct run	 out, cached;

	store_add(RUN_A, RUN_RUNNING);
	ck_assert_int_eq(runs_cancel(&ports, arena, RUN_A, &out), GT_OK);
	ck_assert_int_eq(out.status, RUN_RUNNING);
	cached = cached_run(RUN_A);
	ck_assert_int_eq(cached.status, RUN_RUNNING);
}
END_TEST

START_TEST(cancel_of_a_finished_run_refreshes_the_cache)
{
	const struct stored_run	*s = store_add(RUN_A, RUN_SUCCEEDED);
	struct run		 out, cached;

	ck_assert_int_eq(runs_cancel(&ports, arena, RUN_A, &out),
	    GT_ERR_TRANSITION);
	ck_assert_str_eq(trace, "cache.invalidate store.cancel cache.put");
	ck_assert_int_eq(out.status, RUN_SUCCEEDED);
	cached = cached_run(RUN_A);
	assert_run_eq(&cached, &s->run);
}
END_TEST

START_TEST(cancel_of_an_unknown_run_is_not_found)
{
	struct run	 out;

	ck_assert_int_eq(runs_cancel(&ports, arena, RUN_NONE, &out),
	    GT_ERR_NOT_FOUND);
	ck_assert_str_eq(trace, "cache.invalidate store.cancel");
	ck_assert_uint_eq(fakes.cache.n, 0);
}
END_TEST

START_TEST(cancel_with_the_store_down_is_unavailable)
{
	struct run	 out;

	store_add(RUN_A, RUN_QUEUED);
	fakes.store.fail[ST_CANCEL] = GT_ERR_UNAVAILABLE;
	ck_assert_int_eq(runs_cancel(&ports, arena, RUN_A, &out),
	    GT_ERR_UNAVAILABLE);
	ck_assert_int_eq(fakes.cache.puts, 0);
}
END_TEST

/* ------------------------------------------------------------------ */
/* runs_open_artifact. */

START_TEST(artifact_of_a_cached_run_is_opened)
{
	struct run	 r = full_run();
	int		 fd = -1;
	int64_t		 size = 0;

	cache_set(RUN_B, r.status, run_text(&r));
	ck_assert_int_eq(runs_open_artifact(&ports, arena, RUN_B, "log.txt",
	    &fd, &size), GT_OK);
	ck_assert_int_eq(fakes.store.calls[ST_GET], 0);
	ck_assert_str_eq(fakes.artifacts.id, RUN_B);
	ck_assert_str_eq(fakes.artifacts.name, "log.txt");
	ck_assert_int_eq(fd, FAKE_FD);
	ck_assert_int_eq(size, FAKE_SIZE);
}
END_TEST

START_TEST(artifact_of_a_stored_run_is_opened)
{
	int	 fd = -1;
	int64_t	 size = 0;

	store_add(RUN_A, RUN_SUCCEEDED);
	ck_assert_int_eq(runs_open_artifact(&ports, arena, RUN_A, "log.txt",
	    &fd, &size), GT_OK);
	ck_assert_str_eq(trace, "cache.get store.get artifacts.open");
	ck_assert_int_eq(fd, FAKE_FD);
	ck_assert_int_eq(size, FAKE_SIZE);
}
END_TEST

START_TEST(artifact_of_an_unknown_run_is_not_opened)
{
	int	 fd = -1;
	int64_t	 size = 0;

	ck_assert_int_eq(runs_open_artifact(&ports, arena, RUN_NONE,
	    "log.txt", &fd, &size), GT_ERR_NOT_FOUND);
	ck_assert_int_eq(fakes.artifacts.opens, 0);
	ck_assert_int_eq(fd, -1);
}
END_TEST

START_TEST(artifact_with_cache_and_store_down_is_unavailable)
{
	int	 fd = -1;
	int64_t	 size = 0;

	fakes.cache.down = 1;
	fakes.store.fail[ST_GET] = GT_ERR_UNAVAILABLE;
	ck_assert_int_eq(runs_open_artifact(&ports, arena, RUN_A, "log.txt",
	    &fd, &size), GT_ERR_UNAVAILABLE);
	ck_assert_int_eq(fakes.artifacts.opens, 0);
}
END_TEST

static const enum gt_err open_failures[] = {
	GT_ERR_NOT_FOUND, GT_ERR_IO
};

START_TEST(artifact_open_failure_is_passed_through)
{
	int	 fd = -1;
	int64_t	 size = 0;

	store_add(RUN_A, RUN_SUCCEEDED);
	fakes.artifacts.open_fail = open_failures[_i];
	ck_assert_int_eq(runs_open_artifact(&ports, arena, RUN_A,
	    "missing.txt", &fd, &size), open_failures[_i]);
	ck_assert_int_eq(fakes.artifacts.opens, 1);
	ck_assert_str_eq(fakes.artifacts.name, "missing.txt");
}
END_TEST

/* ------------------------------------------------------------------ */
/* runs_cache_put and run_json_read. */

START_TEST(cache_entry_reads_back_equal)
{
	struct run	 r = full_run(), back;

	runs_cache_put(&cache_port, &r);
	ck_assert_int_eq(fakes.cache.puts, 1);
	ck_assert_str_eq(fakes.cache.entries[0].id, RUN_B);
	ck_assert_int_eq(fakes.cache.entries[0].status, RUN_FAILED);
	back = cached_run(RUN_B);
	assert_run_eq(&back, &r);
}
END_TEST

START_TEST(cache_entry_of_an_unfinished_run_reads_back_equal)
{
	struct run	 r = full_run(), back;

	r.status = RUN_QUEUED;
	r.source = SOURCE_API;
	r.target_type = TARGET_ISSUE;
	r.target_number = 1;
	r.requested_by = NULL;
	r.created_at_ms = 0;
	r.started_at_ms = -1;
	r.finished_at_ms = -1;
	r.has_exit_code = 0;
	r.error_stage = STAGE_NONE;
	r.error_message = NULL;
	r.result_json = NULL;
	runs_cache_put(&cache_port, &r);
	back = cached_run(RUN_B);
	assert_run_eq(&back, &r);
}
END_TEST

START_TEST(cache_entry_keeps_every_stage_and_status)
{
	struct run	 r = full_run(), back;

	r.status = (enum run_status)(_i % RUN_NSTATUS);
	r.error_stage = (enum run_stage)(STAGE_SPAWN + _i % STAGE_INTERNAL);
	runs_cache_put(&cache_port, &r);
	back = cached_run(RUN_B);
	assert_run_eq(&back, &r);
}
END_TEST

START_TEST(cache_entry_of_an_error_without_message_has_an_empty_one)
{
	struct run	 r = full_run(), back;

	r.error_message = NULL;
	runs_cache_put(&cache_port, &r);
	back = cached_run(RUN_B);
	ck_assert_int_eq(back.error_stage, STAGE_RUNNER);
	ck_assert_str_eq(back.error_message, "");
}
END_TEST

static const int exit_codes[] = { INT32_MIN, -1, 0, 255, INT32_MAX };

START_TEST(cache_entry_of_extreme_exit_codes_reads_back)
{
	struct run	 r = full_run(), back;

	r.exit_code = exit_codes[_i];
	runs_cache_put(&cache_port, &r);
	back = cached_run(RUN_B);
	ck_assert_int_eq(back.has_exit_code, 1);
	ck_assert_int_eq(back.exit_code, exit_codes[_i]);
}
END_TEST

/* The members of a valid run text, each replaced in turn below. */
static const struct member {
	const char	*key;
	const char	*value;
} base_members[] = {
	{ "id", "\"" RUN_A "\"" },
	{ "repo", "\"octo/widgets\"" },
	{ "target", "{\"type\":\"issue\",\"number\":12}" },
	{ "instruction", "\"Fix it\"" },
	{ "status", "\"running\"" },
	{ "source", "\"api\"" },
	{ "requested_by", "\"alice\"" },
	{ "created_at", "\"2026-12-03T18:23:11.123Z\"" },
	{ "started_at", "\"2026-12-03T18:23:12.000Z\"" },
	{ "finished_at", "null" },
	{ "exit_code", "null" },
	{ "error", "null" },
	{ "result", "null" },
};

#define NBASE	(sizeof(base_members) / sizeof(base_members[0]))

/*
 * The base text with key's value replaced by value, or without key when
 * value is NULL; a key not in the base is added.
 */
static const char *
text_with(const char *key, const char *value)
{
	char	*text = arena_strdup(arena, "{");
	size_t	 i;
	int	 found = 0;

	for (i = 0; i < NBASE; i++) {
		const char	*v = base_members[i].value;

		if (key != NULL && strcmp(base_members[i].key, key) == 0) {
			found = 1;
			if ((v = value) == NULL)
				continue;
		}
		text = arena_printf(arena, "%s%s\"%s\":%s", text,
		    text[1] == '\0' ? "" : ",", base_members[i].key, v);
		ck_assert_ptr_nonnull(text);
	}
	if (key != NULL && !found)
		text = arena_printf(arena, "%s,\"%s\":%s", text, key, value);
	text = arena_printf(arena, "%s}", text);
	ck_assert_ptr_nonnull(text);
	return text;
}

START_TEST(base_text_is_read)
{
	const char	*text = text_with(NULL, NULL);
	struct run	 r;

	ck_assert_int_eq(run_json_read(arena, text, strlen(text), &r), GT_OK);
	ck_assert_str_eq(r.id, RUN_A);
	ck_assert_str_eq(r.repo, "octo/widgets");
	ck_assert_int_eq(r.target_type, TARGET_ISSUE);
	ck_assert_int_eq(r.target_number, 12);
	ck_assert_int_eq(r.status, RUN_RUNNING);
	ck_assert_str_eq(r.requested_by, "alice");
	ck_assert_int_eq(r.created_at_ms, 1796322191123);
	ck_assert_int_eq(r.started_at_ms, 1796322192000);
	ck_assert_int_eq(r.finished_at_ms, -1);
	ck_assert_int_eq(r.has_exit_code, 0);
	ck_assert_int_eq(r.error_stage, STAGE_NONE);
	ck_assert_ptr_null(r.error_message);
	ck_assert_ptr_null(r.result_json);
}
END_TEST

START_TEST(upper_case_id_is_read_canonical)
{
	const char	*text;
	struct run	 r;

	text = text_with("id", "\"2F1C0A4E-8B7D-4C3A-9E21-5D6F7A8B9C0D\"");
	ck_assert_int_eq(run_json_read(arena, text, strlen(text), &r), GT_OK);
	ck_assert_str_eq(r.id, RUN_A);
}
END_TEST

START_TEST(member_of_another_name_is_ignored)
{
	const char	*text = text_with("artifacts", "[]");
	struct run	 r;

	ck_assert_int_eq(run_json_read(arena, text, strlen(text), &r), GT_OK);
}
END_TEST

START_TEST(text_without_a_member_is_refused)
{
	const char	*text = text_with(base_members[_i].key, NULL);
	struct run	 r;

	ck_assert_int_eq(run_json_read(arena, text, strlen(text), &r),
	    GT_ERR_INVALID);
}
END_TEST

static const struct member bad_members[] = {
	{ "id", "42" },
	{ "id", "null" },
	{ "id", "\"not-a-uuid\"" },
	{ "id", "\"2f1c0a4e-8b7d-4c3a-9e21-5d6f7a8b9c0\"" },
	{ "id", "\"2f1c0a4e8b7d-4c3a-9e21-5d6f7a8b9c0d0\"" },
	{ "repo", "null" },
	{ "repo", "7" },
	{ "target", "\"issue\"" },
	{ "target", "null" },
	{ "target", "{\"type\":\"epic\",\"number\":1}" },
	{ "target", "{\"type\":1,\"number\":1}" },
	{ "target", "{\"number\":1}" },
	{ "target", "{\"type\":\"issue\"}" },
	{ "target", "{\"type\":\"issue\",\"number\":0}" },
	{ "target", "{\"type\":\"issue\",\"number\":-3}" },
	{ "target", "{\"type\":\"issue\",\"number\":2147483648}" },
	{ "target", "{\"type\":\"issue\",\"number\":1.5}" },
	{ "target", "{\"type\":\"issue\",\"number\":\"12\"}" },
	{ "instruction", "null" },
	{ "instruction", "[\"Fix it\"]" },
	{ "status", "\"done\"" },
	{ "status", "\"Queued\"" },
	{ "status", "0" },
	{ "status", "null" },
	{ "source", "\"cli\"" },
	{ "source", "true" },
	{ "requested_by", "7" },
	{ "requested_by", "false" },
	{ "created_at", "null" },
	{ "created_at", "1764786191123" },
	{ "created_at", "\"2026-12-03 18:23:11.123Z\"" },
	{ "created_at", "\"2026-12-03T18:23:11Z\"" },
	{ "created_at", "\"2026-13-03T18:23:11.123Z\"" },
	{ "created_at", "\"2026-12-03T18:23:11.123+01:00\"" },
	{ "started_at", "0" },
	{ "started_at", "\"yesterday\"" },
	{ "finished_at", "\"\"" },
	{ "finished_at", "{}" },
	{ "exit_code", "\"0\"" },
	{ "exit_code", "1.5" },
	{ "exit_code", "2147483648" },
	{ "exit_code", "-2147483649" },
	{ "exit_code", "true" },
	{ "error", "\"boom\"" },
	{ "error", "[]" },
	{ "error", "{}" },
	{ "error", "{\"stage\":\"runner\"}" },
	{ "error", "{\"message\":\"m\"}" },
	{ "error", "{\"stage\":\"runner\",\"message\":null}" },
	{ "error", "{\"stage\":\"none\",\"message\":\"m\"}" },
	{ "error", "{\"stage\":\"explosion\",\"message\":\"m\"}" },
	{ "error", "{\"stage\":3,\"message\":\"m\"}" },
	{ "result", "\"ok\"" },
	{ "result", "[1]" },
	{ "result", "0" },
	{ "result", "false" },
};

START_TEST(text_with_a_wrong_member_is_refused)
{
	const struct member	*m = &bad_members[_i];
	const char		*text = text_with(m->key, m->value);
	struct run		 r;

	ck_assert_msg(run_json_read(arena, text, strlen(text), &r) ==
	    GT_ERR_INVALID, "%s: %s was read", m->key, m->value);
}
END_TEST

static const char *const bad_texts[] = {
	"",
	" ",
	"{",
	"null",
	"[]",
	"\"" RUN_A "\"",
	"{\"id\":\"" RUN_A "\",\"id\":\"" RUN_A "\"}",
	"{\"repo\":\"\xff\"}",
};

START_TEST(text_that_is_no_run_object_is_refused)
{
	const char	*text = bad_texts[_i];
	struct run	 r;

	ck_assert_int_eq(run_json_read(arena, text, strlen(text), &r),
	    GT_ERR_INVALID);
}
END_TEST

START_TEST(text_with_trailing_bytes_is_refused)
{
	const char	*text = arena_printf(arena, "%s x",
	    text_with(NULL, NULL));
	struct run	 r;

	ck_assert_ptr_nonnull(text);
	ck_assert_int_eq(run_json_read(arena, text, strlen(text), &r),
	    GT_ERR_INVALID);
	ck_assert_int_eq(run_json_read(arena, text, strlen(text) - 2, &r),
	    GT_OK);
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
runs_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("runs");

	tc = fixture("create");
	tcase_add_test(tc, create_makes_a_queued_run);
	tcase_add_test(tc, create_caches_the_run_as_queued_after_the_insert);
	tcase_add_test(tc, create_takes_under_the_default_limits);
	tcase_add_test(tc, create_without_limiter_take_inserts_without_rules);
	tcase_add_test(tc, create_uses_the_repository_override);
	tcase_add_test(tc, create_counts_the_requester_of_the_request);
	tcase_add_test(tc, create_counts_the_repository_in_lower_case);
	tcase_add_test(tc, create_with_a_repository_too_long_is_invalid);
	tcase_add_test(tc, create_within_the_limit_is_exact);
	suite_add_tcase(s, tc);

	tc = fixture("create refused");
	tcase_add_test(tc, create_in_a_paused_repository_is_refused);
	tcase_add_test(tc, create_on_a_paused_target_is_refused);
	tcase_add_test(tc, repository_pause_is_told_before_target_pause);
	tcase_add_test(tc,
	    pause_headers_are_counted_in_the_database_without_redis);
	tcase_add_test(tc, pause_is_told_without_headers_when_nothing_counts);
	tcase_add_test(tc, create_over_the_limit_is_refused);
	suite_add_tcase(s, tc);

	tc = fixture("create without redis");
	tcase_add_test(tc, create_without_redis_counts_in_the_database);
	tcase_add_test(tc, database_limit_refusal_is_passed_through);
	tcase_add_test(tc, failed_database_insert_without_redis_has_no_headers);
	tcase_add_test(tc, failed_insert_gives_back_what_was_taken);
	tcase_add_test(tc, conflict_without_a_key_gives_back_and_fails);
	suite_add_tcase(s, tc);

	tc = fixture("create idempotency");
	tcase_add_test(tc, same_key_and_request_replays_the_first_run);
	tcase_add_test(tc, repeated_request_creates_one_run);
	tcase_add_test(tc, same_key_with_another_request_is_refused);
	tcase_add_test(tc, key_race_lost_replays_the_winner);
	tcase_add_test(tc, key_race_lost_to_another_request_is_refused);
	tcase_add_test(tc, key_race_without_redis_replays_the_winner);
	tcase_add_test(tc, key_race_replay_without_counts_has_no_headers);
	tcase_add_test(tc, key_conflict_with_the_key_gone_is_a_conflict);
	suite_add_tcase(s, tc);

	tc = fixture("create unavailable");
	tcase_add_loop_test(tc, create_with_the_store_down_is_unavailable, 0,
	    NELEM(create_steps));
	tcase_add_test(tc, gate_down_makes_create_unavailable);
	tcase_add_test(tc, create_with_the_cache_down_still_creates);
	suite_add_tcase(s, tc);

	tc = fixture("get");
	tcase_add_test(tc, get_serves_a_cache_hit_without_the_store);
	tcase_add_test(tc, get_on_a_miss_reads_the_store_then_caches);
	tcase_add_test(tc, get_after_a_miss_is_served_from_the_cache);
	tcase_add_loop_test(tc, get_with_a_corrupt_entry_reads_the_store, 0,
	    NELEM(bad_entries));
	tcase_add_test(tc, get_with_another_runs_entry_reads_the_store);
	tcase_add_test(tc, get_with_the_cache_down_reads_the_store);
	tcase_add_test(tc, get_of_an_unknown_run_is_not_found);
	tcase_add_test(tc, get_with_the_store_down_is_unavailable);
	tcase_add_test(tc, get_lists_the_runs_artifacts);
	tcase_add_test(tc, get_without_artifacts_asked_lists_none);
	tcase_add_test(tc, get_passes_an_artifact_listing_failure_through);
	suite_add_tcase(s, tc);

	tc = fixture("list");
	tcase_add_test(tc, list_passes_the_filter_and_returns_the_page);
	tcase_add_test(tc, list_passes_a_store_failure_through);
	suite_add_tcase(s, tc);

	tc = fixture("cancel");
	tcase_add_test(tc, cancel_invalidates_before_and_caches_after);
	tcase_add_test(tc, cancel_replaces_a_stale_entry);
	tcase_add_test(tc, cancel_of_a_running_run_caches_it_running);
	tcase_add_test(tc, cancel_of_a_finished_run_refreshes_the_cache);
	tcase_add_test(tc, cancel_of_an_unknown_run_is_not_found);
	tcase_add_test(tc, cancel_with_the_store_down_is_unavailable);
	suite_add_tcase(s, tc);

	tc = fixture("artifact");
	tcase_add_test(tc, artifact_of_a_cached_run_is_opened);
	tcase_add_test(tc, artifact_of_a_stored_run_is_opened);
	tcase_add_test(tc, artifact_of_an_unknown_run_is_not_opened);
	tcase_add_test(tc, artifact_with_cache_and_store_down_is_unavailable);
	tcase_add_loop_test(tc, artifact_open_failure_is_passed_through, 0,
	    NELEM(open_failures));
	suite_add_tcase(s, tc);

	tc = fixture("cache text");
	tcase_add_test(tc, cache_entry_reads_back_equal);
	tcase_add_test(tc, cache_entry_of_an_unfinished_run_reads_back_equal);
	tcase_add_loop_test(tc, cache_entry_keeps_every_stage_and_status, 0,
	    RUN_NSTATUS * STAGE_INTERNAL);
	tcase_add_test(tc,
	    cache_entry_of_an_error_without_message_has_an_empty_one);
	tcase_add_loop_test(tc, cache_entry_of_extreme_exit_codes_reads_back,
	    0, NELEM(exit_codes));
	suite_add_tcase(s, tc);

	tc = fixture("cache text refused");
	tcase_add_test(tc, base_text_is_read);
	tcase_add_test(tc, upper_case_id_is_read_canonical);
	tcase_add_test(tc, member_of_another_name_is_ignored);
	tcase_add_loop_test(tc, text_without_a_member_is_refused, 0,
	    (int)NBASE);
	tcase_add_loop_test(tc, text_with_a_wrong_member_is_refused, 0,
	    NELEM(bad_members));
	tcase_add_loop_test(tc, text_that_is_no_run_object_is_refused, 0,
	    NELEM(bad_texts));
	tcase_add_test(tc, text_with_trailing_bytes_is_refused);
	suite_add_tcase(s, tc);

	return s;
}

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	sr = srunner_create(runs_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
