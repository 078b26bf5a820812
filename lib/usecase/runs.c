/*
 * runs.c: creating, reading, listing and cancelling runs.
 */
#include <config.h>

#include <string.h>

#include "domain/arena.h"
#include "domain/buf.h"
#include "domain/jsonw.h"
#include "domain/run.h"
#include "domain/run_json.h"
#include "usecase/runs.h"

void
runs_cache_put(const struct run_cache *cache, const struct run *r)
{
	struct buf	 b;
	struct jsonw	 w;

	buf_init(&b);
	jw_init(&w, &b);
	jw_object_open(&w);
	run_json_members(&w, r);
	jw_object_close(&w);
	if (jw_ok(&w))
		cache->put(cache->ctx, r->id, r->status, b.data, b.len);
	buf_free(&b);
}

/*
 * The rules for a creation: the repository's (the default, which an
 * admin's override replaces) and the requester's.
 */
static enum gt_err
make_rules(const struct runs_ports *p, struct arena *arena,
    const struct run_new *rn, struct create_outcome *oc)
{
	struct limit_rule	*repo = &oc->rules[0], *who = &oc->rules[1];
	char			 key[REPO_MAX + 1];

	if (repo_key(rn->repo, key, sizeof(key)) == -1)
		return GT_ERR_INVALID;
	repo->kind = LIMIT_REPO;
	repo->name = "repo";
	if ((repo->key = arena_strdup(arena, key)) == NULL)
		return GT_ERR_NOMEM;
	repo->limit = p->limits.repo_limit;
	repo->window_s = p->limits.repo_window_s;

	who->kind = LIMIT_REQUESTER;
	who->name = "requester";
	who->key = rn->requester;
	who->limit = p->limits.requester_limit;
	who->window_s = p->limits.requester_window_s;
	oc->nrules = 2;
	return GT_OK;
}

/*
 * The figures for the headers of an answer that takes nothing: from
 * Redis, else counted in the database, else none (the answer goes out
 * without them rather than fail).
 */
static void
peek(const struct runs_ports *p, struct create_outcome *oc)
{
	if (p->limiter->peek(p->limiter->ctx, oc->rules, oc->nrules,
	    &oc->d) == GT_OK ||
	    p->store->count_limits(p->store->ctx, oc->rules, oc->nrules,
	    &oc->d) == GT_OK)
		oc->has_decision = 1;
}

/* The run an earlier request with this key created, or why not. */
static enum gt_err
replay(const struct runs_ports *p, struct arena *arena,
    const struct run_new *rn, struct run *out, struct create_outcome *oc)
{
	enum gt_err	 e;
	int		 same = 0;

	e = p->store->find_by_key(p->store->ctx, arena, rn->idempotency_key,
	    rn->fingerprint, out, &same);
	if (e != GT_OK)
		return e;
	if (!same)
		return GT_ERR_IDEMPOTENCY;
	oc->created = 0;
	peek(p, oc);
	return GT_OK;
}

enum gt_err
runs_create(const struct runs_ports *p, struct arena *arena,
    const struct run_new *rn, const char *member, struct run *out,
    struct create_outcome *oc)
{
	struct create_gate	 g;
	enum gt_err		 e;
	int			 taken = 0;

	memset(oc, 0, sizeof(*oc));
	if ((e = make_rules(p, arena, rn, oc)) != GT_OK)
		return e;
	/*
	 * The pauses are read with the override, in one statement, but
	 * only a new creation heeds them: a replay answers what was made.
	 */
	if ((e = p->store->gate(p->store->ctx, rn->repo, rn->target_type,
	    rn->target_number, &g)) != GT_OK)
		return e;
	if (g.has_override) {
		oc->rules[0].limit = g.limit;
		oc->rules[0].window_s = g.window_s;
	}

	if (rn->idempotency_key != NULL) {
		e = replay(p, arena, rn, out, oc);
		if (e != GT_ERR_NOT_FOUND)
			return e;
	}

	if (g.repo_paused || g.target_paused) {
		peek(p, oc);
		return g.repo_paused ? GT_ERR_PAUSED_REPO :
		    GT_ERR_PAUSED_TARGET;
	}

	e = p->limiter->take(p->limiter->ctx, oc->rules, oc->nrules, member,
	    &oc->d);
	if (e == GT_OK) {
		oc->has_decision = 1;
		if (!oc->d.allowed)
			return GT_ERR_RATE_LIMITED;
		taken = 1;
		e = p->store->insert(p->store->ctx, arena, rn, NULL, 0, NULL,
		    out);
	} else {
		/* Redis cannot decide: the database counts and inserts. */
		e = p->store->insert(p->store->ctx, arena, rn, oc->rules,
		    oc->nrules, &oc->d, out);
		if (e == GT_OK || e == GT_ERR_RATE_LIMITED)
			oc->has_decision = 1;
	}

	if (e != GT_OK && taken)
		p->limiter->give_back(p->limiter->ctx, oc->rules, oc->nrules,
		    member);
	if (e == GT_ERR_CONFLICT && rn->idempotency_key != NULL) {
		/* Another request with the same key won the race. */
		oc->has_decision = 0;
		e = replay(p, arena, rn, out, oc);
		return e == GT_ERR_NOT_FOUND ? GT_ERR_CONFLICT : e;
	}
	if (e != GT_OK)
		return e;

	oc->created = 1;
	runs_cache_put(p->cache, out);
	return GT_OK;
}

const char *
runs_refused_by(const struct create_outcome *oc)
{
	size_t	 i;

	if (!oc->has_decision || oc->d.allowed)
		return NULL;
	for (i = 0; i < oc->nrules; i++)
		if (oc->d.remaining[i] <= 0)
			return oc->rules[i].name;
	return NULL;
}

enum gt_err
runs_get(const struct runs_ports *p, struct arena *arena, const char *id,
    struct run *out, struct artifact **arts, size_t *narts)
{
	const char	*json;
	size_t		 len;
	enum gt_err	 e;
	int		 hit = 0;

	if (p->cache->get(p->cache->ctx, arena, id, &json, &len) == GT_OK &&
	    run_json_read(arena, json, len, out) == GT_OK &&
	    strcmp(out->id, id) == 0)
		hit = 1;
	if (!hit) {
		if ((e = p->store->get(p->store->ctx, arena, id, out)) !=
		    GT_OK)
			return e;
		runs_cache_put(p->cache, out);
	}

	if (arts == NULL)
		return GT_OK;
	*arts = NULL;
	*narts = 0;
	return p->artifacts->list(p->artifacts->ctx, arena, id, arts, narts);
}

enum gt_err
runs_list(const struct runs_ports *p, struct arena *arena,
    const struct run_filter *f, struct run **runs, size_t *n, int64_t *total)
{
	return p->store->list(p->store->ctx, arena, f, runs, n, total);
}

enum gt_err
runs_cancel(const struct runs_ports *p, struct arena *arena, const char *id,
    struct run *out)
{
	enum gt_err	 e;

	p->cache->invalidate(p->cache->ctx, id);
	e = p->store->cancel(p->store->ctx, arena, id, out);
	if (e == GT_OK || e == GT_ERR_TRANSITION)
		runs_cache_put(p->cache, out);
	return e;
}

enum gt_err
runs_open_artifact(const struct runs_ports *p, struct arena *arena,
    const char *id, const char *name, int *fd, int64_t *size)
{
	struct run	 r;
	const char	*json;
	size_t		 len;
	enum gt_err	 e;

	if (p->cache->get(p->cache->ctx, arena, id, &json, &len) != GT_OK &&
	    (e = p->store->get(p->store->ctx, arena, id, &r)) != GT_OK)
		return e;
	return p->artifacts->open(p->artifacts->ctx, id, name, fd, size);
}
