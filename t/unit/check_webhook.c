/*
 * check_webhook.c: judging one GitHub webhook delivery.
 *
 * Every port the use case reaches is an in-memory fake kept in this file.
 * One table of runs stands for the database: the webhook store finds a
 * comment's run and a target's active run in it, the run store inserts
 * into it and cancels in it.  The webhook store keeps the notes it is
 * given, and knows a delivery as seen when it holds a note of it.  The
 * limiter allows everything unless told to refuse; the cache only counts.
 * Each fake notes its calls in one trace, so a test can tell what was
 * asked and in which order.  The run store's get, find_by_key, list and
 * count_limits, the cache's get and the artifact store are never reached
 * from a webhook: they are left NULL.
 */
#include <config.h>

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "domain/arena.h"
#include "domain/json.h"
#include "domain/run.h"
#include "usecase/runs.h"
#include "usecase/webhook.h"

#define DELIVERY	"72d3162e-cc78-11e3-81ab-4c9367dc0958"
#define COMMENT_ID	1234567890123LL
#define INSTALLATION	987654LL
#define MEMBER		"req-7"
#define RUN_A		"2f1c0a4e-8b7d-4c3a-9e21-5d6f7a8b9c0d"
#define RUN_B		"7b0e9d2c-1a3f-4e5d-8c6b-0f1e2d3c4b5a"
#define RUN_NEW		"00000000-0000-4000-8000-000000000001"
#define RETRY_AFTER_S	1234
#define TRIGGER		"/gittinkerer Fix the failing date parser test"
#define CANCEL		"/gittinkerer cancel"

/* ------------------------------------------------------------------ */
/* The trace: every fake call, in order, names separated by spaces. */

static char	 trace[1024];

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

#define RUNS_MAX	4
#define NOTES_MAX	4

/* A row of the runs table. */
struct fake_run {
	struct run	 run;
	const char	*comment_kind;	/* NULL: not made by a comment */
	int64_t		 comment_id;
};

struct fake_hooks {
	struct delivery_note	 notes[NOTES_MAX];
	size_t			 nnotes;
	enum gt_err		 seen_fail;	/* GT_OK: answers normally */
	enum gt_err		 record_fail;
	enum gt_err		 active_fail;

	/* The arguments of the last run_by_comment and active_run. */
	const char		*kind;
	int64_t			 comment_id;
	const char		*repo;
	enum target_type	 target_type;
	int32_t			 target_number;
};

struct fake_store {
	int			 repo_paused;
	int			 target_paused;
	int			 race;		/* RUN_B wins the next insert */
	int			 finish_first;	/* the run ends before cancel */
	enum gt_err		 insert_fail;
	int			 inserts;
	struct run_new		 inserted;	/* the last insert's */
	const char		*cancelled;	/* the last cancel's id */
};

struct fake_limiter {
	int			 refuse;	/* take refuses */
	const char		*member;	/* take's */
};

static struct {
	struct fake_run		 runs[RUNS_MAX];
	size_t			 nruns;
	struct fake_hooks	 hooks;
	struct fake_store	 store;
	int			 cache;		/* the cache's context */
	struct fake_limiter	 limiter;
} fakes;

static struct arena		*arena;
static struct runs_ports	 runs_ports;
static struct webhook_ports	 ports;
static struct webhook_answer	 ans;

/* Adds a run on the event's target (its repository in lower case). */
static struct fake_run *
add_run(const char *id, enum run_status status)
{
	struct fake_run	*f;

	ck_assert_uint_lt(fakes.nruns, RUNS_MAX);
	f = &fakes.runs[fakes.nruns++];
	memset(f, 0, sizeof(*f));
	ck_assert_int_eq(snprintf(f->run.id, sizeof(f->run.id), "%s", id),
	    RUN_ID_LEN);
	f->run.repo = "octo/widgets";
	f->run.target_type = TARGET_PULL_REQUEST;
	f->run.target_number = 42;
	f->run.instruction = "Fix it";
	f->run.status = status;
	f->run.source = SOURCE_WEBHOOK;
	f->run.requested_by = "bob";
	f->run.created_at_ms = 1764786191123;
	f->run.started_at_ms = status == RUN_QUEUED ? -1 : 1764786192000;
	f->run.finished_at_ms = run_status_finished(status) ?
	    1764786250500 : -1;
	return f;
}

static struct fake_run *
find_run(const char *id)
{
	size_t	 i;

	for (i = 0; i < fakes.nruns; i++)
		if (strcmp(fakes.runs[i].run.id, id) == 0)
			return &fakes.runs[i];
	return NULL;
}

/* ------------------------------------------------------------------ */
/* The fake webhook store. */

static enum gt_err
fake_seen(void *ctx, struct arena *ar, const char *delivery_id,
    const char **run_id)
{
	size_t	 i;

	ck_assert_ptr_eq(ctx, &fakes.hooks);
	ck_assert_ptr_eq(ar, arena);
	note("webhook.seen");
	if (fakes.hooks.seen_fail != GT_OK)
		return fakes.hooks.seen_fail;
	for (i = 0; i < fakes.hooks.nnotes; i++)
		if (strcmp(fakes.hooks.notes[i].delivery_id, delivery_id) ==
		    0) {
			*run_id = fakes.hooks.notes[i].run_id;
			return GT_OK;
		}
	return GT_ERR_NOT_FOUND;
}

/* Keeps the note; its strings live as long as the test's arena. */
static enum gt_err
fake_record(void *ctx, const struct delivery_note *n)
{
	ck_assert_ptr_eq(ctx, &fakes.hooks);
	note("webhook.record");
	if (fakes.hooks.record_fail != GT_OK)
		return fakes.hooks.record_fail;
	ck_assert_uint_lt(fakes.hooks.nnotes, NOTES_MAX);
	fakes.hooks.notes[fakes.hooks.nnotes++] = *n;
	return GT_OK;
}

static enum gt_err
fake_run_by_comment(void *ctx, struct arena *ar, const char *kind,
    int64_t comment_id, struct run *out)
{
	size_t	 i;

	ck_assert_ptr_eq(ctx, &fakes.hooks);
	ck_assert_ptr_eq(ar, arena);
	note("webhook.run_by_comment");
	fakes.hooks.kind = kind;
	fakes.hooks.comment_id = comment_id;
	for (i = 0; i < fakes.nruns; i++)
		if (fakes.runs[i].comment_kind != NULL &&
		    strcmp(fakes.runs[i].comment_kind, kind) == 0 &&
		    fakes.runs[i].comment_id == comment_id) {
			*out = fakes.runs[i].run;
			return GT_OK;
		}
	return GT_ERR_NOT_FOUND;
}

static enum gt_err
fake_active_run(void *ctx, struct arena *ar, const char *repo,
    enum target_type type, int32_t number, struct run *out)
{
	size_t	 i;

	ck_assert_ptr_eq(ctx, &fakes.hooks);
	ck_assert_ptr_eq(ar, arena);
	note("webhook.active_run");
	fakes.hooks.repo = repo;
	fakes.hooks.target_type = type;
	fakes.hooks.target_number = number;
	if (fakes.hooks.active_fail != GT_OK)
		return fakes.hooks.active_fail;
	for (i = fakes.nruns; i-- > 0;) {
		const struct run	*r = &fakes.runs[i].run;

		if (strcasecmp(r->repo, repo) == 0 &&
		    r->target_type == type && r->target_number == number &&
		    !run_status_finished(r->status)) {
			*out = *r;
			return GT_OK;
		}
	}
	return GT_ERR_NOT_FOUND;
}

static const struct webhook_store hooks_port = {
	.ctx = &fakes.hooks,
	.seen = fake_seen,
	.record = fake_record,
	.run_by_comment = fake_run_by_comment,
	.active_run = fake_active_run,
};

/* ------------------------------------------------------------------ */
/* The fake run store, cache and limiter. */

static enum gt_err
fake_gate(void *ctx, const char *repo, enum target_type type,
    int32_t number, struct create_gate *out)
{
	ck_assert_ptr_eq(ctx, &fakes.store);
	note("runs.gate");
	memset(out, 0, sizeof(*out));
	out->repo_paused = fakes.store.repo_paused;
	out->target_paused = fakes.store.target_paused;
	return GT_OK;
}

/*
 * As the real insert does: records the run's delivery as accepted, unless
 * a note for it is kept already.
 */
static void
insert_noted(const struct run_new *rn, const char *run_id)
{
	struct delivery_note	*n;
	size_t			 i;

	for (i = 0; i < fakes.hooks.nnotes; i++)
		if (strcmp(fakes.hooks.notes[i].delivery_id,
		    rn->delivery_id) == 0)
			return;
	ck_assert_uint_lt(fakes.hooks.nnotes, NOTES_MAX);
	n = &fakes.hooks.notes[fakes.hooks.nnotes++];
	memset(n, 0, sizeof(*n));
	n->delivery_id = rn->delivery_id;
	n->event = rn->comment_kind;
	n->action = rn->delivery_action;
	n->outcome = "accepted";
	n->run_id = run_id;
}

static enum gt_err
fake_insert(void *ctx, struct arena *ar, const struct run_new *rn,
    const struct limit_rule *rules, size_t nrules,
    struct limit_decision *d, struct run *out)
{
	struct fake_run	*f;

	ck_assert_ptr_eq(ctx, &fakes.store);
	ck_assert_ptr_eq(ar, arena);
	note("runs.insert");
	fakes.store.inserts++;
	fakes.store.inserted = *rn;
	if (fakes.store.insert_fail != GT_OK)
		return fakes.store.insert_fail;

	if (fakes.store.race) {
		/* Another delivery of the comment inserted first. */
		f = add_run(RUN_B, RUN_QUEUED);
		f->comment_kind = rn->comment_kind;
		f->comment_id = rn->comment_id;
		return GT_ERR_CONFLICT;
	}
	f = add_run(RUN_NEW, RUN_QUEUED);
	f->run.repo = rn->repo;
	f->run.instruction = rn->instruction;
	f->run.requested_by = rn->requested_by;
	f->comment_kind = rn->comment_kind;
	f->comment_id = rn->comment_id;
	*out = f->run;
	if (rn->delivery_id != NULL)
		insert_noted(rn, f->run.id);
	return GT_OK;
}

static enum gt_err
fake_cancel(void *ctx, struct arena *ar, const char *id, struct run *out)
{
	struct fake_run	*f;

	ck_assert_ptr_eq(ctx, &fakes.store);
	ck_assert_ptr_eq(ar, arena);
	note("runs.cancel");
	fakes.store.cancelled = id;
	if ((f = find_run(id)) == NULL)
		return GT_ERR_NOT_FOUND;
	if (fakes.store.finish_first) {
		f->run.status = RUN_SUCCEEDED;
		f->run.started_at_ms = 1764786192000;
		f->run.finished_at_ms = 1764786250500;
		f->run.has_exit_code = 1;
	}
	if (run_status_finished(f->run.status)) {
		*out = f->run;
		return GT_ERR_TRANSITION;
	}
	f->run.status = RUN_CANCELLED;
	f->run.finished_at_ms = f->run.created_at_ms + 1000;
	f->run.error_stage = STAGE_CANCELLED;
	f->run.error_message = "cancelled by a comment";
	*out = f->run;
	return GT_OK;
}

static const struct run_store store_port = {
	.ctx = &fakes.store,
	.gate = fake_gate,
	.insert = fake_insert,
	.cancel = fake_cancel,
};

static void
fake_cache_put(void *ctx, const char *id, enum run_status status,
    const char *json, size_t len)
{
	ck_assert_ptr_eq(ctx, &fakes.cache);
	note("cache.put");
}

static void
fake_cache_invalidate(void *ctx, const char *id)
{
	ck_assert_ptr_eq(ctx, &fakes.cache);
	note("cache.invalidate");
}

static const struct run_cache cache_port = {
	.ctx = &fakes.cache,
	.put = fake_cache_put,
	.invalidate = fake_cache_invalidate,
};

/* Allows every creation, or refuses it when told to. */
static enum gt_err
fake_take(void *ctx, const struct limit_rule *rules, size_t n,
    const char *member, struct limit_decision *d)
{
	ck_assert_ptr_eq(ctx, &fakes.limiter);
	note("limiter.take");
	fakes.limiter.member = member;
	memset(d, 0, sizeof(*d));
	d->allowed = !fakes.limiter.refuse;
	if (fakes.limiter.refuse)
		d->retry_after_s = RETRY_AFTER_S;
	return GT_OK;
}

static enum gt_err
fake_peek(void *ctx, const struct limit_rule *rules, size_t n,
    struct limit_decision *d)
{
	ck_assert_ptr_eq(ctx, &fakes.limiter);
	note("limiter.peek");
	memset(d, 0, sizeof(*d));
	d->allowed = 1;
	return GT_OK;
}

static void
fake_give_back(void *ctx, const struct limit_rule *rules, size_t n,
    const char *member)
{
	ck_assert_ptr_eq(ctx, &fakes.limiter);
	note("limiter.give_back");
}

static const struct limiter limiter_port = {
	.ctx = &fakes.limiter,
	.take = fake_take,
	.peek = fake_peek,
	.give_back = fake_give_back,
};

/* ------------------------------------------------------------------ */
/* Fixtures and helpers. */

static char	 assoc_owner[] = "OWNER", assoc_member[] = "MEMBER",
		 assoc_collaborator[] = "COLLABORATOR",
		 assoc_contributor[] = "CONTRIBUTOR";
static char *const default_associations[] = {
	assoc_owner, assoc_member, assoc_collaborator
};
static char *const contributors_only[] = { assoc_contributor };

static void
setup(void)
{
	memset(&fakes, 0, sizeof(fakes));
	trace[0] = '\0';
	memset(&ans, 0, sizeof(ans));

	memset(&runs_ports, 0, sizeof(runs_ports));
	runs_ports.store = &store_port;
	runs_ports.cache = &cache_port;
	runs_ports.limiter = &limiter_port;
	runs_ports.artifacts = NULL;
	runs_ports.limits.repo_limit = 30;
	runs_ports.limits.repo_window_s = 3600;
	runs_ports.limits.requester_limit = 20;
	runs_ports.limits.requester_window_s = 3600;

	memset(&ports, 0, sizeof(ports));
	ports.runs = &runs_ports;
	ports.store = &hooks_port;
	ports.conf.command = "/gittinkerer";
	ports.conf.associations = default_associations;
	ports.conf.nassociations = 3;

	arena = arena_new();
	ck_assert_ptr_nonnull(arena);
}

static void
teardown(void)
{
	arena_free(arena);
	arena = NULL;
}

/* A comment created by a member on pull request 42, as the HTTP layer reads. */
static struct webhook_event
comment(const char *body)
{
	struct webhook_event	 ev;

	memset(&ev, 0, sizeof(ev));
	ev.event = "issue_comment";
	ev.delivery_id = DELIVERY;
	ev.action = "created";
	ev.comment_id = COMMENT_ID;
	ev.body = body;
	ev.body_len = strlen(body);
	ev.login = "alice";
	ev.association = "MEMBER";
	ev.repo = "Octo/Widgets";
	ev.target_type = TARGET_PULL_REQUEST;
	ev.target_number = 42;
	ev.installation_id = INSTALLATION;
	return ev;
}

/* The command and an instruction of n code points, each two bytes. */
static const char *
long_trigger(size_t n)
{
	size_t	 prefix = strlen("/gittinkerer ");
	char	*body;
	size_t	 i;

	body = arena_alloc(arena, prefix + 2 * n + 1);
	ck_assert_ptr_nonnull(body);
	memcpy(body, "/gittinkerer ", prefix);
	for (i = 0; i < n; i++)
		memcpy(body + prefix + 2 * i, "\xc3\xa9", 2);
	body[prefix + 2 * n] = '\0';
	return body;
}

static enum gt_err
handle(const struct webhook_event *ev)
{
	return webhook_handle(&ports, arena, ev, MEMBER, &ans);
}

/* A delivery recorded before, naming run_id (or NULL). */
static void
seen_before(const char *run_id)
{
	struct delivery_note	*n;

	ck_assert_uint_lt(fakes.hooks.nnotes, NOTES_MAX);
	n = &fakes.hooks.notes[fakes.hooks.nnotes++];
	memset(n, 0, sizeof(*n));
	n->delivery_id = DELIVERY;
	n->event = "issue_comment";
	n->action = "created";
	n->outcome = run_id != NULL ? "accepted" : "ignored";
	n->reason = run_id != NULL ? NULL : "no_trigger";
	n->run_id = run_id;
}

/* The one note the delivery left. */
static const struct delivery_note *
recorded(void)
{
	ck_assert_uint_eq(fakes.hooks.nnotes, 1);
	return &fakes.hooks.notes[0];
}

/*
 * The answer is ignored for reason, recorded so, with no run named, no
 * reply, and no run made.
 */
static void
assert_ignored(const char *reason)
{
	const struct delivery_note	*n;

	ck_assert_int_eq(ans.status, WEBHOOK_IGNORED);
	ck_assert_str_eq(ans.reason, reason);
	ck_assert_ptr_null(ans.run_id);

	n = recorded();
	ck_assert_str_eq(n->delivery_id, DELIVERY);
	ck_assert_str_eq(n->outcome, "ignored");
	ck_assert_str_eq(n->reason, reason);
	ck_assert_ptr_null(n->run_id);
	ck_assert_ptr_null(n->reply_json);
	ck_assert_ptr_null(n->reply_repo);
	ck_assert_int_eq(n->reply_installation_id, 0);
	ck_assert_int_eq(fakes.store.inserts, 0);
}

static void
assert_str_or_null_eq(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		ck_assert_ptr_eq(a, b);
	else
		ck_assert_str_eq(a, b);
}

/* The reply's JSON object, parsed. */
static const struct json *
reply_of(const struct delivery_note *n)
{
	const struct json	*root;
	enum json_error		 err = JSON_OK;

	ck_assert_ptr_nonnull(n->reply_json);
	root = json_parse(arena, n->reply_json, strlen(n->reply_json), &err);
	ck_assert_msg(root != NULL, "reply %s: %s", n->reply_json,
	    json_error_name(err));
	ck_assert_int_eq(root->type, JSON_OBJECT);
	return root;
}

static const char *
string_member(const struct json *o, const char *key)
{
	const struct json	*m = json_get(o, key);

	ck_assert_msg(m != NULL && m->type == JSON_STRING,
	    "%s is no string", key);
	return m->str;
}

static int64_t
int_member(const struct json *o, const char *key)
{
	int64_t	 v = 0;

	ck_assert_msg(json_int(json_get(o, key), INT64_MIN, INT64_MAX, &v) ==
	    0, "%s is no integer", key);
	return v;
}

/* ------------------------------------------------------------------ */
/* Before judging: ping, a delivery seen before, a malformed call. */

START_TEST(ping_is_answered_pong_and_recorded)
{
	struct webhook_event		 ev;
	const struct delivery_note	*n;

	memset(&ev, 0, sizeof(ev));
	ev.event = "ping";
	ev.delivery_id = DELIVERY;

	ck_assert_int_eq(handle(&ev), GT_OK);
	ck_assert_int_eq(ans.status, WEBHOOK_PONG);
	ck_assert_ptr_null(ans.reason);
	ck_assert_ptr_null(ans.run_id);

	n = recorded();
	ck_assert_str_eq(n->delivery_id, DELIVERY);
	ck_assert_str_eq(n->event, "ping");
	ck_assert_ptr_null(n->action);
	ck_assert_str_eq(n->outcome, "pong");
	ck_assert_ptr_null(n->reason);
	ck_assert_ptr_null(n->run_id);
	ck_assert_ptr_null(n->reply_json);
	ck_assert_str_eq(trace, "webhook.record");
}
END_TEST

START_TEST(ping_is_pong_even_when_seen_or_the_store_is_down)
{
	struct webhook_event	 ev;

	memset(&ev, 0, sizeof(ev));
	ev.event = "ping";
	ev.delivery_id = DELIVERY;
	seen_before(NULL);
	fakes.hooks.seen_fail = GT_ERR_UNAVAILABLE;
	ck_assert_int_eq(handle(&ev), GT_OK);
	ck_assert_int_eq(ans.status, WEBHOOK_PONG);
	ck_assert_ptr_null(strstr(trace, "webhook.seen"));
}
END_TEST

START_TEST(seen_delivery_is_a_duplicate_naming_its_run)
{
	struct webhook_event	 ev = comment(TRIGGER);

	seen_before(RUN_A);
	ck_assert_int_eq(handle(&ev), GT_OK);
	ck_assert_int_eq(ans.status, WEBHOOK_DUPLICATE);
	ck_assert_ptr_null(ans.reason);
	ck_assert_str_eq(ans.run_id, RUN_A);
	ck_assert_uint_eq(fakes.hooks.nnotes, 1);
	ck_assert_str_eq(trace, "webhook.seen");
}
END_TEST

START_TEST(seen_delivery_without_a_run_is_a_duplicate_naming_none)
{
	struct webhook_event	 ev = comment(TRIGGER);

	seen_before(NULL);
	ck_assert_int_eq(handle(&ev), GT_OK);
	ck_assert_int_eq(ans.status, WEBHOOK_DUPLICATE);
	ck_assert_ptr_null(ans.run_id);
	ck_assert_uint_eq(fakes.hooks.nnotes, 1);
	ck_assert_str_eq(trace, "webhook.seen");
}
END_TEST

START_TEST(redelivered_accepted_comment_names_its_run)
{
	struct webhook_event	 ev = comment(TRIGGER);

	ck_assert_int_eq(handle(&ev), GT_OK);
	ck_assert_int_eq(ans.status, WEBHOOK_ACCEPTED);
	trace[0] = '\0';

	ck_assert_int_eq(handle(&ev), GT_OK);
	ck_assert_int_eq(ans.status, WEBHOOK_DUPLICATE);
	ck_assert_str_eq(ans.run_id, RUN_NEW);
	ck_assert_int_eq(fakes.store.inserts, 1);
	ck_assert_uint_eq(fakes.hooks.nnotes, 1);
	ck_assert_str_eq(trace, "webhook.seen");
}
END_TEST

START_TEST(delivery_without_event_or_id_is_invalid)
{
	struct webhook_event	 ev = comment(TRIGGER);

	if (_i == 0)
		ev.event = NULL;
	else
		ev.delivery_id = NULL;
	ck_assert_int_eq(handle(&ev), GT_ERR_INVALID);
	ck_assert_str_eq(trace, "");
}
END_TEST

/* ------------------------------------------------------------------ */
/* Events, bots and triggers. */

static const struct {
	const char	*event;
	const char	*action;
} unsupported[] = {
	{ "issues", "opened" },
	{ "issue_comment", "edited" },
	{ "issue_comment", "deleted" },
	{ "issue_comment", NULL },
	{ "pull_request_review_comment", "edited" },
	{ "pull_request_review", "submitted" },
};

START_TEST(unsupported_event_is_ignored_and_recorded)
{
	struct webhook_event		 ev = comment(TRIGGER);
	const struct delivery_note	*n;

	ev.event = unsupported[_i].event;
	ev.action = unsupported[_i].action;
	ck_assert_int_eq(handle(&ev), GT_OK);
	assert_ignored("unsupported_event");

	n = recorded();
	ck_assert_str_eq(n->event, ev.event);
	assert_str_or_null_eq(n->action, ev.action);
	ck_assert_int_eq(called_at("webhook.run_by_comment"), -1);
	ck_assert_int_eq(called_at("runs."), -1);
}
END_TEST

START_TEST(review_comment_makes_a_run_of_its_kind)
{
	struct webhook_event	 ev = comment(TRIGGER);

	ev.event = "pull_request_review_comment";
	ck_assert_int_eq(handle(&ev), GT_OK);
	ck_assert_int_eq(ans.status, WEBHOOK_ACCEPTED);
	ck_assert_str_eq(fakes.hooks.kind, "pull_request_review_comment");
	ck_assert_str_eq(fakes.store.inserted.comment_kind,
	    "pull_request_review_comment");
}
END_TEST

START_TEST(bot_comment_with_a_trigger_is_not_authorized)
{
	struct webhook_event	 ev = comment(TRIGGER);

	ev.author_is_bot = 1;
	ck_assert_int_eq(handle(&ev), GT_OK);
	assert_ignored("not_authorized");
	ck_assert_int_eq(called_at("webhook.run_by_comment"), -1);
	ck_assert_int_eq(called_at("runs."), -1);
}
END_TEST

START_TEST(bot_comment_is_refused_before_its_trigger_is_read)
{
	struct webhook_event	 ev = comment("Thanks, merged.");

	ev.author_is_bot = 1;
	ck_assert_int_eq(handle(&ev), GT_OK);
	assert_ignored("not_authorized");
}
END_TEST

START_TEST(comment_without_the_command_has_no_trigger)
{
	struct webhook_event	 ev = comment("Please fix the parser.");

	ck_assert_int_eq(handle(&ev), GT_OK);
	assert_ignored("no_trigger");
	ck_assert_int_eq(called_at("runs."), -1);
}
END_TEST

START_TEST(command_alone_is_an_empty_instruction)
{
	struct webhook_event	 ev = comment("/gittinkerer");

	ck_assert_int_eq(handle(&ev), GT_OK);
	assert_ignored("empty_instruction");
	ck_assert_int_eq(called_at("runs."), -1);
}
END_TEST

START_TEST(instruction_over_4000_code_points_is_too_long)
{
	struct webhook_event	 ev = comment(long_trigger(4001));

	ck_assert_int_eq(handle(&ev), GT_OK);
	assert_ignored("instruction_too_long");
	ck_assert_int_eq(called_at("runs."), -1);
}
END_TEST

START_TEST(instruction_of_4000_code_points_is_accepted)
{
	struct webhook_event	 ev = comment(long_trigger(4000));

	ck_assert_int_eq(handle(&ev), GT_OK);
	ck_assert_int_eq(ans.status, WEBHOOK_ACCEPTED);
	ck_assert_uint_eq(strlen(fakes.store.inserted.instruction), 8000);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Who may trigger. */

static const char *const refused_associations[] = {
	"CONTRIBUTOR", "NONE", "FIRST_TIME_CONTRIBUTOR", "owner", "", NULL
};

START_TEST(association_outside_the_allowed_list_is_not_authorized)
{
	struct webhook_event	 ev = comment(TRIGGER);

	ev.association = refused_associations[_i];
	ck_assert_int_eq(handle(&ev), GT_OK);
	assert_ignored("not_authorized");
	ck_assert_int_eq(called_at("runs."), -1);
}
END_TEST

START_TEST(configured_association_is_allowed)
{
	struct webhook_event	 ev = comment(TRIGGER);

	ports.conf.associations = contributors_only;
	ports.conf.nassociations = 1;
	ev.association = "CONTRIBUTOR";
	ck_assert_int_eq(handle(&ev), GT_OK);
	ck_assert_int_eq(ans.status, WEBHOOK_ACCEPTED);
}
END_TEST

START_TEST(association_left_out_of_the_configuration_is_not_authorized)
{
	struct webhook_event	 ev = comment(TRIGGER);

	ports.conf.associations = contributors_only;
	ports.conf.nassociations = 1;
	ck_assert_int_eq(handle(&ev), GT_OK);
	assert_ignored("not_authorized");
}
END_TEST

START_TEST(cancel_by_an_unauthorized_author_is_not_authorized)
{
	struct webhook_event	 ev = comment(CANCEL);

	add_run(RUN_A, RUN_RUNNING);
	ev.association = "CONTRIBUTOR";
	ck_assert_int_eq(handle(&ev), GT_OK);
	assert_ignored("not_authorized");
	ck_assert_int_eq(called_at("webhook.active_run"), -1);
	ck_assert_int_eq(called_at("runs.cancel"), -1);
	ck_assert_int_eq(find_run(RUN_A)->run.status, RUN_RUNNING);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Cancel. */

START_TEST(cancel_cancels_the_targets_active_run)
{
	struct webhook_event		 ev = comment(CANCEL);
	const struct delivery_note	*n;

	add_run(RUN_A, RUN_QUEUED);
	ck_assert_int_eq(handle(&ev), GT_OK);
	ck_assert_int_eq(ans.status, WEBHOOK_CANCELLED);
	ck_assert_ptr_null(ans.reason);
	ck_assert_str_eq(ans.run_id, RUN_A);

	ck_assert_str_eq(fakes.hooks.repo, "Octo/Widgets");
	ck_assert_int_eq(fakes.hooks.target_type, TARGET_PULL_REQUEST);
	ck_assert_int_eq(fakes.hooks.target_number, 42);
	ck_assert_str_eq(fakes.store.cancelled, RUN_A);
	ck_assert_int_eq(find_run(RUN_A)->run.status, RUN_CANCELLED);

	n = recorded();
	ck_assert_str_eq(n->outcome, "cancelled");
	ck_assert_ptr_null(n->reason);
	ck_assert_str_eq(n->run_id, RUN_A);
	ck_assert_ptr_null(n->reply_json);
	ck_assert(called_after("runs.cancel", "webhook.record"));
}
END_TEST

START_TEST(cancel_neither_creates_nor_counts_a_run)
{
	struct webhook_event	 ev = comment(CANCEL);

	add_run(RUN_A, RUN_RUNNING);
	ck_assert_int_eq(handle(&ev), GT_OK);
	ck_assert_int_eq(ans.status, WEBHOOK_CANCELLED);
	ck_assert_int_eq(fakes.store.inserts, 0);
	ck_assert_int_eq(called_at("limiter."), -1);
}
END_TEST

START_TEST(cancel_without_an_active_run_is_nothing_to_cancel)
{
	struct webhook_event	 ev = comment(CANCEL);

	add_run(RUN_A, RUN_SUCCEEDED);
	ck_assert_int_eq(handle(&ev), GT_OK);
	assert_ignored("nothing_to_cancel");
	ck_assert_int_eq(called_at("runs."), -1);
}
END_TEST

START_TEST(cancel_of_a_run_finished_meanwhile_is_nothing_to_cancel)
{
	struct webhook_event	 ev = comment(CANCEL);

	add_run(RUN_A, RUN_RUNNING);
	fakes.store.finish_first = 1;
	ck_assert_int_eq(handle(&ev), GT_OK);
	ck_assert_str_eq(fakes.store.cancelled, RUN_A);
	assert_ignored("nothing_to_cancel");
}
END_TEST

START_TEST(cancel_with_the_store_down_is_unavailable)
{
	struct webhook_event	 ev = comment(CANCEL);

	add_run(RUN_A, RUN_RUNNING);
	fakes.hooks.active_fail = GT_ERR_UNAVAILABLE;
	ck_assert_int_eq(handle(&ev), GT_ERR_UNAVAILABLE);
	ck_assert_uint_eq(fakes.hooks.nnotes, 0);
	ck_assert_int_eq(called_at("runs.cancel"), -1);
}
END_TEST

/* ------------------------------------------------------------------ */
/* A comment that made a run already. */

START_TEST(comment_that_made_a_run_is_a_duplicate_naming_it)
{
	struct webhook_event		 ev = comment(TRIGGER);
	struct fake_run			*f;
	const struct delivery_note	*n;

	f = add_run(RUN_B, RUN_RUNNING);
	f->comment_kind = "issue_comment";
	f->comment_id = COMMENT_ID;

	ck_assert_int_eq(handle(&ev), GT_OK);
	ck_assert_int_eq(ans.status, WEBHOOK_DUPLICATE);
	ck_assert_str_eq(ans.run_id, RUN_B);
	ck_assert_str_eq(fakes.hooks.kind, "issue_comment");
	ck_assert_int_eq(fakes.hooks.comment_id, COMMENT_ID);
	ck_assert_int_eq(fakes.store.inserts, 0);
	ck_assert_int_eq(called_at("limiter."), -1);

	n = recorded();
	ck_assert_str_eq(n->outcome, "duplicate");
	ck_assert_str_eq(n->run_id, RUN_B);
	ck_assert_ptr_null(n->reply_json);
}
END_TEST

START_TEST(insert_lost_to_another_delivery_is_a_duplicate_naming_the_winner)
{
	struct webhook_event		 ev = comment(TRIGGER);
	const struct delivery_note	*n;

	fakes.store.race = 1;
	ck_assert_int_eq(handle(&ev), GT_OK);
	ck_assert_int_eq(ans.status, WEBHOOK_DUPLICATE);
	ck_assert_str_eq(ans.run_id, RUN_B);
	ck_assert(called_after("runs.insert", "webhook.run_by_comment"));

	n = recorded();
	ck_assert_str_eq(n->outcome, "duplicate");
	ck_assert_str_eq(n->run_id, RUN_B);
}
END_TEST

START_TEST(insert_conflict_without_a_winner_is_internal)
{
	struct webhook_event	 ev = comment(TRIGGER);

	fakes.store.insert_fail = GT_ERR_CONFLICT;
	ck_assert_int_eq(handle(&ev), GT_ERR_INTERNAL);
	ck_assert_uint_eq(fakes.hooks.nnotes, 0);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Accepted. */

START_TEST(run_is_created_from_the_comment)
{
	struct webhook_event	 ev;
	const struct run_new	*rn = &fakes.store.inserted;

	ev = comment("Thanks!\r\n/gittinkerer   Fix the date parser \r\n");
	ck_assert_int_eq(handle(&ev), GT_OK);
	ck_assert_int_eq(fakes.store.inserts, 1);
	ck_assert_str_eq(rn->repo, "Octo/Widgets");
	ck_assert_int_eq(rn->target_type, TARGET_PULL_REQUEST);
	ck_assert_int_eq(rn->target_number, 42);
	ck_assert_str_eq(rn->instruction, "Fix the date parser");
	ck_assert_int_eq(rn->source, SOURCE_WEBHOOK);
	ck_assert_str_eq(rn->requested_by, "alice");
	ck_assert_str_eq(rn->requester, "alice");
	ck_assert_ptr_null(rn->idempotency_key);
	ck_assert_ptr_null(rn->fingerprint);
	ck_assert_int_eq(rn->installation_id, INSTALLATION);
	ck_assert_int_eq(rn->comment_id, COMMENT_ID);
	ck_assert_str_eq(rn->comment_kind, "issue_comment");
	ck_assert_str_eq(rn->delivery_id, DELIVERY);
	ck_assert_str_eq(rn->delivery_action, "created");
}
END_TEST

START_TEST(accepted_comment_is_answered_and_recorded_by_the_insert)
{
	struct webhook_event		 ev = comment(TRIGGER);
	const struct run_new		*rn = &fakes.store.inserted;
	const struct delivery_note	*n;

	ck_assert_int_eq(handle(&ev), GT_OK);
	ck_assert_int_eq(ans.status, WEBHOOK_ACCEPTED);
	ck_assert_ptr_null(ans.reason);
	ck_assert_str_eq(ans.run_id, RUN_NEW);

	/* The insert records the delivery with the run: no second record. */
	ck_assert_str_eq(rn->delivery_id, DELIVERY);
	ck_assert_str_eq(rn->comment_kind, "issue_comment");
	ck_assert_str_eq(rn->delivery_action, "created");
	ck_assert_int_eq(called_at("webhook.record"), -1);
	n = recorded();
	ck_assert_str_eq(n->delivery_id, DELIVERY);
	ck_assert_str_eq(n->event, "issue_comment");
	ck_assert_str_eq(n->action, "created");
	ck_assert_str_eq(n->outcome, "accepted");
	ck_assert_ptr_null(n->reason);
	ck_assert_str_eq(n->run_id, RUN_NEW);
	ck_assert_ptr_null(n->reply_json);
}
END_TEST

START_TEST(accepted_comment_is_made_after_the_checks)
{
	struct webhook_event	 ev = comment(TRIGGER);

	ck_assert_int_eq(handle(&ev), GT_OK);
	ck_assert(called_after("webhook.seen", "webhook.run_by_comment"));
	ck_assert(called_after("webhook.run_by_comment", "runs.insert"));
}
END_TEST

START_TEST(creation_is_counted_under_the_requests_member)
{
	struct webhook_event	 ev = comment(TRIGGER);

	ck_assert_int_eq(handle(&ev), GT_OK);
	ck_assert_str_eq(fakes.limiter.member, MEMBER);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Refused creations, answered on GitHub by a reply. */

static const struct refusal {
	const char	*reason;
	int		 repo_paused;
	int		 target_paused;
	int		 rate_limited;
} refusals[] = {
	{ "repo_paused", 1, 0, 0 },
	{ "target_paused", 0, 1, 0 },
	{ "rate_limited", 0, 0, 1 },
};

#define NPAUSES	2	/* the first refusals */

static void
refuse(const struct refusal *r)
{
	fakes.store.repo_paused = r->repo_paused;
	fakes.store.target_paused = r->target_paused;
	fakes.limiter.refuse = r->rate_limited;
}

START_TEST(refusal_is_ignored_and_recorded_with_a_reply)
{
	const struct refusal		*r = &refusals[_i];
	struct webhook_event		 ev = comment(TRIGGER);
	const struct delivery_note	*n;
	const struct json		*reply, *target;

	refuse(r);
	ck_assert_int_eq(handle(&ev), GT_OK);
	ck_assert_int_eq(ans.status, WEBHOOK_IGNORED);
	ck_assert_str_eq(ans.reason, r->reason);
	ck_assert_ptr_null(ans.run_id);
	ck_assert_uint_eq(fakes.nruns, 0);

	n = recorded();
	ck_assert_str_eq(n->outcome, "ignored");
	ck_assert_str_eq(n->reason, r->reason);
	ck_assert_ptr_null(n->run_id);
	ck_assert_str_eq(n->reply_repo, "Octo/Widgets");
	ck_assert_int_eq(n->reply_installation_id, INSTALLATION);

	reply = reply_of(n);
	ck_assert_str_eq(string_member(reply, "reason"), r->reason);
	ck_assert_int_eq(int_member(reply, "comment_id"), COMMENT_ID);
	ck_assert_str_eq(string_member(reply, "comment_kind"),
	    "issue_comment");
	ck_assert_str_eq(string_member(reply, "requested_by"), "alice");
	target = json_get(reply, "target");
	ck_assert_ptr_nonnull(target);
	ck_assert_str_eq(string_member(target, "type"), "pull_request");
	ck_assert_int_eq(int_member(target, "number"), 42);
	ck_assert_uint_eq(target->n, 2);
}
END_TEST

START_TEST(rate_limited_reply_tells_when_to_retry)
{
	struct webhook_event	 ev = comment(TRIGGER);
	const struct json	*reply;

	fakes.limiter.refuse = 1;
	ck_assert_int_eq(handle(&ev), GT_OK);
	ck_assert_pstr_eq(ans.limit, "repo");	/* the first with none left */
	reply = reply_of(recorded());
	ck_assert_int_eq(int_member(reply, "retry_after_s"), RETRY_AFTER_S);
	ck_assert_uint_eq(reply->n, 6);
}
END_TEST

START_TEST(pause_reply_has_no_retry_time)
{
	struct webhook_event	 ev = comment(TRIGGER);
	const struct json	*reply;

	refuse(&refusals[_i]);
	ck_assert_int_eq(handle(&ev), GT_OK);
	reply = reply_of(recorded());
	ck_assert_ptr_null(json_get(reply, "retry_after_s"));
	ck_assert_uint_eq(reply->n, 5);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Failures of the stores. */

START_TEST(seen_with_the_store_down_is_unavailable_and_records_nothing)
{
	struct webhook_event	 ev = comment(TRIGGER);

	fakes.hooks.seen_fail = GT_ERR_UNAVAILABLE;
	ck_assert_int_eq(handle(&ev), GT_ERR_UNAVAILABLE);
	ck_assert_uint_eq(fakes.hooks.nnotes, 0);
	ck_assert_str_eq(trace, "webhook.seen");
}
END_TEST

START_TEST(insert_with_the_store_down_is_unavailable_and_records_nothing)
{
	struct webhook_event	 ev = comment(TRIGGER);

	fakes.store.insert_fail = GT_ERR_UNAVAILABLE;
	ck_assert_int_eq(handle(&ev), GT_ERR_UNAVAILABLE);
	ck_assert_uint_eq(fakes.hooks.nnotes, 0);
	ck_assert_int_eq(called_at("webhook.record"), -1);
}
END_TEST

START_TEST(failed_record_after_a_cancel_still_cancels)
{
	struct webhook_event	 ev = comment(CANCEL);

	add_run(RUN_A, RUN_QUEUED);
	fakes.hooks.record_fail = GT_ERR_UNAVAILABLE;
	ck_assert_int_eq(handle(&ev), GT_OK);
	ck_assert_int_eq(ans.status, WEBHOOK_CANCELLED);
	ck_assert_str_eq(ans.run_id, RUN_A);
}
END_TEST

START_TEST(failed_record_of_an_ignored_comment_is_returned)
{
	struct webhook_event	 ev = comment("Please fix the parser.");

	fakes.hooks.record_fail = GT_ERR_UNAVAILABLE;
	ck_assert_int_eq(handle(&ev), GT_ERR_UNAVAILABLE);
}
END_TEST

START_TEST(failed_record_of_a_refusal_is_returned)
{
	struct webhook_event	 ev = comment(TRIGGER);

	fakes.limiter.refuse = 1;
	fakes.hooks.record_fail = GT_ERR_INTERNAL;
	ck_assert_int_eq(handle(&ev), GT_ERR_INTERNAL);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Names and supported events. */

static const struct {
	enum webhook_status	 status;
	const char		*name;
} status_names[] = {
	{ WEBHOOK_PONG, "pong" },
	{ WEBHOOK_DUPLICATE, "duplicate" },
	{ WEBHOOK_IGNORED, "ignored" },
	{ WEBHOOK_CANCELLED, "cancelled" },
	{ WEBHOOK_ACCEPTED, "accepted" },
};

START_TEST(status_has_its_contract_name)
{
	ck_assert_str_eq(webhook_status_name(status_names[_i].status),
	    status_names[_i].name);
}
END_TEST

START_TEST(status_out_of_range_has_no_name)
{
	ck_assert_ptr_null(webhook_status_name(
	    (enum webhook_status)(WEBHOOK_ACCEPTED + 1)));
	ck_assert_ptr_null(webhook_status_name((enum webhook_status)-1));
}
END_TEST

static const struct {
	const char	*event;
	const char	*action;
	int		 supported;
} events[] = {
	{ "issue_comment", "created", 1 },
	{ "pull_request_review_comment", "created", 1 },
	{ "issue_comment", "edited", 0 },
	{ "issue_comment", "deleted", 0 },
	{ "pull_request_review_comment", "edited", 0 },
	{ "pull_request_review_comment", "deleted", 0 },
	{ "issues", "opened", 0 },
	{ "pull_request_review", "submitted", 0 },
	{ "commit_comment", "created", 0 },
	{ "Issue_Comment", "created", 0 },
	{ "issue_comment", "Created", 0 },
	{ "issue_comment", NULL, 0 },
	{ NULL, "created", 0 },
	{ "ping", NULL, 0 },
};

START_TEST(only_a_created_comment_is_supported)
{
	ck_assert_msg(webhook_event_supported(events[_i].event,
	    events[_i].action) == events[_i].supported, "%s %s",
	    events[_i].event != NULL ? events[_i].event : "(null)",
	    events[_i].action != NULL ? events[_i].action : "(null)");
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
webhook_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("webhook");

	tc = fixture("before judging");
	tcase_add_test(tc, ping_is_answered_pong_and_recorded);
	tcase_add_test(tc, ping_is_pong_even_when_seen_or_the_store_is_down);
	tcase_add_test(tc, seen_delivery_is_a_duplicate_naming_its_run);
	tcase_add_test(tc,
	    seen_delivery_without_a_run_is_a_duplicate_naming_none);
	tcase_add_test(tc, redelivered_accepted_comment_names_its_run);
	tcase_add_loop_test(tc, delivery_without_event_or_id_is_invalid, 0,
	    2);
	suite_add_tcase(s, tc);

	tc = fixture("events and triggers");
	tcase_add_loop_test(tc, unsupported_event_is_ignored_and_recorded, 0,
	    NELEM(unsupported));
	tcase_add_test(tc, review_comment_makes_a_run_of_its_kind);
	tcase_add_test(tc, bot_comment_with_a_trigger_is_not_authorized);
	tcase_add_test(tc, bot_comment_is_refused_before_its_trigger_is_read);
	tcase_add_test(tc, comment_without_the_command_has_no_trigger);
	tcase_add_test(tc, command_alone_is_an_empty_instruction);
	tcase_add_test(tc, instruction_over_4000_code_points_is_too_long);
	tcase_add_test(tc, instruction_of_4000_code_points_is_accepted);
	suite_add_tcase(s, tc);

	tc = fixture("authorization");
	tcase_add_loop_test(tc,
	    association_outside_the_allowed_list_is_not_authorized, 0,
	    NELEM(refused_associations));
	tcase_add_test(tc, configured_association_is_allowed);
	tcase_add_test(tc,
	    association_left_out_of_the_configuration_is_not_authorized);
	tcase_add_test(tc, cancel_by_an_unauthorized_author_is_not_authorized);
	suite_add_tcase(s, tc);

	tc = fixture("cancel");
	tcase_add_test(tc, cancel_cancels_the_targets_active_run);
	tcase_add_test(tc, cancel_neither_creates_nor_counts_a_run);
	tcase_add_test(tc, cancel_without_an_active_run_is_nothing_to_cancel);
	tcase_add_test(tc,
	    cancel_of_a_run_finished_meanwhile_is_nothing_to_cancel);
	tcase_add_test(tc, cancel_with_the_store_down_is_unavailable);
	suite_add_tcase(s, tc);

	tc = fixture("duplicate comment");
	tcase_add_test(tc, comment_that_made_a_run_is_a_duplicate_naming_it);
	tcase_add_test(tc,
	    insert_lost_to_another_delivery_is_a_duplicate_naming_the_winner);
	tcase_add_test(tc, insert_conflict_without_a_winner_is_internal);
	suite_add_tcase(s, tc);

	tc = fixture("accepted");
	tcase_add_test(tc, run_is_created_from_the_comment);
	tcase_add_test(tc,
	    accepted_comment_is_answered_and_recorded_by_the_insert);
	tcase_add_test(tc, accepted_comment_is_made_after_the_checks);
	tcase_add_test(tc, creation_is_counted_under_the_requests_member);
	suite_add_tcase(s, tc);

	tc = fixture("refused");
	tcase_add_loop_test(tc, refusal_is_ignored_and_recorded_with_a_reply,
	    0, NELEM(refusals));
	tcase_add_test(tc, rate_limited_reply_tells_when_to_retry);
	tcase_add_loop_test(tc, pause_reply_has_no_retry_time, 0, NPAUSES);
	suite_add_tcase(s, tc);

	tc = fixture("store failures");
	tcase_add_test(tc,
	    seen_with_the_store_down_is_unavailable_and_records_nothing);
	tcase_add_test(tc,
	    insert_with_the_store_down_is_unavailable_and_records_nothing);
	tcase_add_test(tc, failed_record_after_a_cancel_still_cancels);
	tcase_add_test(tc, failed_record_of_an_ignored_comment_is_returned);
	tcase_add_test(tc, failed_record_of_a_refusal_is_returned);
	suite_add_tcase(s, tc);

	tc = fixture("names");
	tcase_add_loop_test(tc, status_has_its_contract_name, 0,
	    NELEM(status_names));
	tcase_add_test(tc, status_out_of_range_has_no_name);
	tcase_add_loop_test(tc, only_a_created_comment_is_supported, 0,
	    NELEM(events));
	suite_add_tcase(s, tc);

	return s;
}

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	sr = srunner_create(webhook_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
