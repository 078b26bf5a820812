/*
 * webhook.c: handling one GitHub webhook delivery.
 */
#include <config.h>

#include <string.h>

#include "domain/arena.h"
#include "domain/buf.h"
#include "domain/jsonw.h"
#include "domain/run.h"
#include "domain/trigger.h"
#include "usecase/webhook.h"

static const char *const status_names[] = {
	[WEBHOOK_PONG] = "pong",
	[WEBHOOK_DUPLICATE] = "duplicate",
	[WEBHOOK_IGNORED] = "ignored",
	[WEBHOOK_CANCELLED] = "cancelled",
	[WEBHOOK_ACCEPTED] = "accepted",
};

const char *
webhook_status_name(enum webhook_status s)
{
	if ((size_t)s >= sizeof(status_names) / sizeof(status_names[0]))
		return NULL;
	return status_names[s];
}

int
webhook_event_supported(const char *event, const char *action)
{
	return event != NULL && action != NULL &&
	    strcmp(action, "created") == 0 &&
	    (strcmp(event, "issue_comment") == 0 ||
	    strcmp(event, "pull_request_review_comment") == 0);
}

static void
answer(struct webhook_answer *out, enum webhook_status status,
    const char *reason, const char *run_id)
{
	out->status = status;
	out->reason = reason;
	out->run_id = run_id;
}

/*
 * The payload of the reply to a refused comment: what it answers (the
 * comment and its target), who asked, and why it was refused.  NULL when
 * memory is short.
 */
static const char *
reply_json(struct arena *arena, const struct webhook_event *ev,
    const char *reason, int64_t retry_after_s)
{
	struct buf	 b;
	struct jsonw	 w;
	const char	*text = NULL;

	buf_init(&b);
	jw_init(&w, &b);
	jw_object_open(&w);
	jw_key(&w, "reason");
	jw_string(&w, reason);
	jw_key(&w, "comment_id");
	jw_int(&w, ev->comment_id);
	jw_key(&w, "comment_kind");
	jw_string(&w, ev->event);
	jw_key(&w, "target");
	jw_object_open(&w);
	jw_key(&w, "type");
	jw_string(&w, target_type_name(ev->target_type));
	jw_key(&w, "number");
	jw_int(&w, ev->target_number);
	jw_object_close(&w);
	jw_key(&w, "requested_by");
	jw_string(&w, ev->login);
	if (retry_after_s > 0) {
		jw_key(&w, "retry_after_s");
		jw_int(&w, retry_after_s);
	}
	jw_object_close(&w);
	if (jw_ok(&w))
		text = arena_strndup(arena, b.data, b.len);
	buf_free(&b);
	return text;
}

/* Records the answer with the delivery, and the reply when one is due. */
static enum gt_err
record(const struct webhook_ports *p, const struct webhook_event *ev,
    const struct webhook_answer *out, const char *reply)
{
	struct delivery_note	 note;

	memset(&note, 0, sizeof(note));
	note.delivery_id = ev->delivery_id;
	note.event = ev->event;
	note.action = ev->action;
	note.outcome = webhook_status_name(out->status);
	note.reason = out->reason;
	note.run_id = out->run_id;
	if (reply != NULL) {
		note.reply_repo = ev->repo;
		note.reply_installation_id = ev->installation_id;
		note.reply_json = reply;
	}
	return p->store->record(p->store->ctx, &note);
}

/* Step 7: "cancel" cancels the target's queued or running run. */
static enum gt_err
cancel(const struct webhook_ports *p, struct arena *arena,
    const struct webhook_event *ev, struct webhook_answer *out)
{
	struct run	 run;
	const char	*id;
	enum gt_err	 e;

	e = p->store->active_run(p->store->ctx, arena, ev->repo,
	    ev->target_type, ev->target_number, &run);
	if (e == GT_ERR_NOT_FOUND) {
		answer(out, WEBHOOK_IGNORED, "nothing_to_cancel", NULL);
		return GT_OK;
	}
	if (e != GT_OK)
		return e;
	if ((id = arena_strdup(arena, run.id)) == NULL)
		return GT_ERR_NOMEM;

	e = runs_cancel(p->runs, arena, id, &run);
	if (e == GT_ERR_TRANSITION || e == GT_ERR_NOT_FOUND) {
		/* It finished in the meantime. */
		answer(out, WEBHOOK_IGNORED, "nothing_to_cancel", NULL);
		return GT_OK;
	}
	if (e != GT_OK)
		return e;
	answer(out, WEBHOOK_CANCELLED, NULL, id);
	return GT_OK;
}

/* The run this comment made, as a duplicate answer; GT_ERR_NOT_FOUND. */
static enum gt_err
made_before(const struct webhook_ports *p, struct arena *arena,
    const struct webhook_event *ev, struct webhook_answer *out)
{
	struct run	 run;
	const char	*id;
	enum gt_err	 e;

	e = p->store->run_by_comment(p->store->ctx, arena, ev->event,
	    ev->comment_id, &run);
	if (e != GT_OK)
		return e;
	if ((id = arena_strdup(arena, run.id)) == NULL)
		return GT_ERR_NOMEM;
	answer(out, WEBHOOK_DUPLICATE, NULL, id);
	return GT_OK;
}

/* Step 9; *reply is set for a refusal GitHub should be told of. */
static enum gt_err
create(const struct webhook_ports *p, struct arena *arena,
    const struct webhook_event *ev, const char *instruction,
    const char *member, struct webhook_answer *out, const char **reply)
{
	struct run_new		 rn;
	struct run		 run;
	struct create_outcome	 oc;
	const char		*reason, *id;
	enum gt_err		 e;

	memset(&rn, 0, sizeof(rn));
	rn.repo = ev->repo;
	rn.target_type = ev->target_type;
	rn.target_number = ev->target_number;
	rn.instruction = instruction;
	rn.requested_by = ev->login;
	rn.requester = ev->login;
	rn.source = SOURCE_WEBHOOK;
	rn.installation_id = ev->installation_id;
	rn.comment_id = ev->comment_id;
	rn.comment_kind = ev->event;
	rn.delivery_id = ev->delivery_id;
	rn.delivery_action = ev->action;

	e = runs_create(p->runs, arena, &rn, member, &run, &oc);
	switch (e) {
	case GT_OK:
		if ((id = arena_strdup(arena, run.id)) == NULL)
			return GT_ERR_NOMEM;
		answer(out, WEBHOOK_ACCEPTED, NULL, id);
		return GT_OK;
	case GT_ERR_CONFLICT:
		/* Another delivery of the comment won the race. */
		e = made_before(p, arena, ev, out);
		return e == GT_ERR_NOT_FOUND ? GT_ERR_INTERNAL : e;
	case GT_ERR_PAUSED_REPO:
		reason = "repo_paused";
		break;
	case GT_ERR_PAUSED_TARGET:
		reason = "target_paused";
		break;
	case GT_ERR_RATE_LIMITED:
		reason = "rate_limited";
		break;
	default:
		return e;
	}
	answer(out, WEBHOOK_IGNORED, reason, NULL);
	if (e == GT_ERR_RATE_LIMITED)
		out->limit = runs_refused_by(&oc);
	*reply = reply_json(arena, ev, reason, e == GT_ERR_RATE_LIMITED &&
	    oc.has_decision ? oc.d.retry_after_s : 0);
	return *reply == NULL ? GT_ERR_NOMEM : GT_OK;
}

/* Steps 3 to 9, for a delivery not seen before. */
static enum gt_err
judge(const struct webhook_ports *p, struct arena *arena,
    const struct webhook_event *ev, const char *member,
    struct webhook_answer *out, const char **reply)
{
	enum trigger_kind	 kind;
	const char		*instruction;
	enum gt_err		 e;

	if (!webhook_event_supported(ev->event, ev->action)) {
		answer(out, WEBHOOK_IGNORED, "unsupported_event", NULL);
		return GT_OK;
	}
	if (ev->author_is_bot) {
		answer(out, WEBHOOK_IGNORED, "not_authorized", NULL);
		return GT_OK;
	}

	if (trigger_parse(arena, ev->body, ev->body_len, p->conf.command,
	    &kind, &instruction) == -1)
		return GT_ERR_NOMEM;
	switch (kind) {
	case TRIGGER_NONE:
		answer(out, WEBHOOK_IGNORED, "no_trigger", NULL);
		return GT_OK;
	case TRIGGER_EMPTY:
		answer(out, WEBHOOK_IGNORED, "empty_instruction", NULL);
		return GT_OK;
	case TRIGGER_TOO_LONG:
		answer(out, WEBHOOK_IGNORED, "instruction_too_long", NULL);
		return GT_OK;
	case TRIGGER_RUN:
	case TRIGGER_CANCEL:
		break;
	}

	if (!association_allowed(ev->association, p->conf.associations,
	    p->conf.nassociations)) {
		answer(out, WEBHOOK_IGNORED, "not_authorized", NULL);
		return GT_OK;
	}
	if (kind == TRIGGER_CANCEL)
		return cancel(p, arena, ev, out);

	e = made_before(p, arena, ev, out);
	if (e != GT_ERR_NOT_FOUND)
		return e;
	return create(p, arena, ev, instruction, member, out, reply);
}

enum gt_err
webhook_handle(const struct webhook_ports *p, struct arena *arena,
    const struct webhook_event *ev, const char *member,
    struct webhook_answer *out)
{
	const char	*run_id = NULL, *reply = NULL;
	enum gt_err	 e;

	memset(out, 0, sizeof(*out));
	if (ev->event == NULL || ev->delivery_id == NULL)
		return GT_ERR_INVALID;

	/*
	 * A ping is answered whatever else is known or reachable: GitHub
	 * sends one to check the hook, and it changes nothing.  Its record
	 * is a courtesy (a ping recorded already keeps its first note).
	 */
	if (strcmp(ev->event, "ping") == 0) {
		answer(out, WEBHOOK_PONG, NULL, NULL);
		(void)record(p, ev, out, NULL);
		return GT_OK;
	}

	e = p->store->seen(p->store->ctx, arena, ev->delivery_id, &run_id);
	if (e == GT_OK) {
		answer(out, WEBHOOK_DUPLICATE, NULL, run_id);
		return GT_OK;
	}
	if (e != GT_ERR_NOT_FOUND)
		return e;
	if ((e = judge(p, arena, ev, member, out, &reply)) != GT_OK)
		return e;

	/* The run's insert recorded the delivery with the run. */
	if (out->status == WEBHOOK_ACCEPTED)
		return GT_OK;

	/*
	 * A record that fails after a run was cancelled loses nothing: the
	 * cancel is done.  A refusal whose record fails is answered 503, so
	 * that GitHub's redelivery brings its reply back.
	 */
	e = record(p, ev, out, reply);
	if (e != GT_OK && out->status == WEBHOOK_CANCELLED)
		return GT_OK;
	return e;
}
