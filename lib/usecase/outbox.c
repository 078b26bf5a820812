/*
 * outbox.c: doing on GitHub what the service decided.
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/arena.h"
#include "domain/buf.h"
#include "domain/gh_comment.h"
#include "domain/run.h"
#include "domain/runner_io.h"
#include "usecase/outbox.h"

#define BACKOFF_MAX_S	3600

/*
 * Items done on GitHub whose success the store could not record yet;
 * they are recorded before anything else is claimed.
 */
#define UNSAVED_MAX	64

struct outbox {
	struct outbox_conf	 conf;
	struct outbox_ports	 p;
	struct arena		*arena;		/* reset every round */
	int64_t			 held_until;	/* monotonic ms; 0 none */
	int64_t			 unsaved[UNSAVED_MAX];
	size_t			 nunsaved;
};

struct outbox *
outbox_new(const struct outbox_conf *conf, const struct outbox_ports *p)
{
	struct outbox	*o;

	if (conf->max_attempts < 1 || conf->backoff_s < 1 ||
	    conf->lease_s < 1 || conf->batch < 1)
		return NULL;
	if ((o = calloc(1, sizeof(*o))) == NULL)
		return NULL;
	o->conf = *conf;
	o->p = *p;
	if ((o->arena = arena_new()) == NULL) {
		free(o);
		return NULL;
	}
	return o;
}

void
outbox_free(struct outbox *o)
{
	if (o == NULL)
		return;
	arena_free(o->arena);
	free(o);
}

int64_t
outbox_backoff_s(int64_t first_s, int n)
{
	int64_t	 d = first_s;

	while (--n > 0 && d < BACKOFF_MAX_S)
		d *= 2;
	return d > BACKOFF_MAX_S ? BACKOFF_MAX_S : d;
}

int64_t
outbox_held_ms(const struct outbox *o)
{
	int64_t	 now = o->p.now_ms();

	return o->held_until > now ? o->held_until - now : 0;
}

/* Does one item on GitHub. */
static void
send_item(struct outbox *o, const struct outbox_item *it,
    struct gh_answer *a)
{
	const struct github_port	*gh = o->p.github;
	struct runner_result		 rr;
	struct buf			 body;
	const char			*why;
	int				 have_rr = 0;

	memset(a, 0, sizeof(*a));
	if (it->installation_id == 0 || it->repo == NULL) {
		a->verdict = GH_PERMANENT;
		snprintf(a->error, sizeof(a->error),
		    "no GitHub App installation to act as");
		return;
	}

	buf_init(&body);
	switch (it->kind) {
	case OUTBOX_REACTION:
		gh->react(gh->ctx, it->installation_id, it->repo,
		    it->comment_kind, it->comment_id, it->content, a);
		break;
	case OUTBOX_REPLY:
		refusal_comment(&body, it->reason, it->login,
		    it->retry_after_s);
		break;
	case OUTBOX_OUTCOME:
		if (it->run.result_json != NULL && result_parse(o->arena,
		    it->run.result_json, strlen(it->run.result_json), &rr,
		    &why) == GT_OK)
			have_rr = 1;
		outcome_comment(&body, &it->run, have_rr ? &rr : NULL);
		break;
	}
	if (it->kind != OUTBOX_REACTION) {
		if (body.oom) {
			a->verdict = GH_TRANSIENT;
			snprintf(a->error, sizeof(a->error), "out of memory");
		} else
			gh->comment(gh->ctx, it->installation_id, it->repo,
			    it->target_number, buf_str(&body), a);
	}
	buf_free(&body);
}

/* Records the success of items sent earlier; -1 while the store is away. */
static int
save_unsaved(struct outbox *o)
{
	const struct outbox_store	*st = o->p.store;

	while (o->nunsaved > 0) {
		if (st->sent(st->ctx, o->unsaved[o->nunsaved - 1]) != GT_OK)
			return -1;
		o->nunsaved--;
	}
	return 0;
}

/* Records what came of one item. */
static void
settle(struct outbox *o, const struct outbox_item *it,
    const struct gh_answer *a)
{
	const struct outbox_store	*st = o->p.store;
	int				 n = it->attempts + 1;

	switch (a->verdict) {
	case GH_DONE:
		if (st->sent(st->ctx, it->id) != GT_OK &&
		    o->nunsaved < UNSAVED_MAX)
			o->unsaved[o->nunsaved++] = it->id;
		o->p.report("outbox_sent", it->id, NULL);
		return;
	case GH_LIMITED:
		/* Not the item's failure: it does not count as an attempt. */
		o->held_until = o->p.now_ms() + a->wait_s * 1000;
		(void)st->defer(st->ctx, it->id, a->wait_s);
		o->p.report("outbox_rate_limited", it->id, a->error);
		return;
	case GH_TRANSIENT:
		if (n < o->conf.max_attempts) {
			(void)st->retry(st->ctx, it->id,
			    outbox_backoff_s(o->conf.backoff_s, n), a->error);
			o->p.report("outbox_retry", it->id, a->error);
			return;
		}
		break;
	case GH_PERMANENT:
		break;
	}
	(void)st->failed(st->ctx, it->id, a->error);
	o->p.report("outbox_failed", it->id, a->error);
}

int
outbox_round(struct outbox *o)
{
	const struct outbox_store	*st = o->p.store;
	struct outbox_item		*items;
	struct gh_answer		 a;
	size_t				 n, i;
	int				 done = 0;
	int64_t				 wait_s;

	arena_reset(o->arena);
	if (save_unsaved(o) == -1)
		return -1;
	if (outbox_held_ms(o) > 0)
		return 0;
	if (st->claim(st->ctx, o->arena, o->conf.batch, o->conf.lease_s,
	    &items, &n) != GT_OK)
		return -1;

	for (i = 0; i < n; i++, done++) {
		if ((wait_s = (outbox_held_ms(o) + 999) / 1000) > 0) {
			/* A rate limit came: the rest wait for it too. */
			(void)st->defer(st->ctx, items[i].id, wait_s);
			continue;
		}
		send_item(o, &items[i], &a);
		settle(o, &items[i], &a);
	}
	return done;
}
