/*
 * ctl_webhook.c: POST /api/github/webhook, GitHub's deliveries.
 *
 * The checks come in the contract's order: the body's size (413, by
 * dispatch.c before the body is read), the signature over the raw body
 * (401), the content type (415), the X-GitHub-Event and
 * X-GitHub-Delivery headers (400), the JSON (400).  A delivery refused
 * here is recorded nowhere.  The payload's fields are read only for the
 * events that may trigger a run; any other event is judged by its name.
 */
#include <config.h>

#include <string.h>

#include "domain/json.h"
#include "domain/jsonw.h"
#include "domain/run.h"
#include "http/app.h"
#include "http/controllers.h"
#include "http/metrics.h"
#include "http/request.h"
#include "http/response.h"
#include "infra/config.h"
#include "infra/log.h"
#include "infra/signature.h"
#include "usecase/webhook.h"

#define EVENT_MAX	64
#define DELIVERY_MAX	255

/* An event name as GitHub writes them: 1-64 of [a-z_]. */
static int
event_valid(const char *s)
{
	size_t	 n = strlen(s);

	if (n == 0 || n > EVENT_MAX)
		return 0;
	for (; *s != '\0'; s++)
		if (!((*s >= 'a' && *s <= 'z') || *s == '_'))
			return 0;
	return 1;
}

/* A delivery id: 1-255 printable ASCII characters (a GUID in practice). */
static int
delivery_valid(const char *s)
{
	size_t	 n = strlen(s);

	if (n == 0 || n > DELIVERY_MAX)
		return 0;
	for (; *s != '\0'; s++)
		if (*s < '!' || *s > '~')
			return 0;
	return 1;
}

static void
missing(struct response *resp, const char *field, const char *message)
{
	struct resp_detail	 d = { field, message };

	resp_validation(resp, "The delivery is not shaped as GitHub sends "
	    "it; see details.", &d, 1);
}

/* A member by path ("comment.user.login"); NULL when any step is absent. */
static const struct json *
member(const struct json *root, const char *const *path)
{
	for (; *path != NULL && root != NULL; path++)
		root = json_get(root, *path);
	return root;
}

#define PATH(...)	((const char *const[]){ __VA_ARGS__, NULL })

/* The string at path, or NULL when absent or of another type. */
static const char *
string_at(const struct json *root, const char *const *path)
{
	const struct json	*j = member(root, path);

	return j != NULL && j->type == JSON_STRING ? j->str : NULL;
}

/*
 * Whether the comment was written by a bot: a Bot account, a login of a
 * GitHub App's bot ("name[bot]"), or the configured App itself.
 */
static int
written_by_bot(const struct app *app, const struct json *comment,
    const char *login)
{
	const char	*type = string_at(comment, PATH("user", "type"));
	const struct json *via;
	size_t		 n = strlen(login);
	int64_t		 id;

	if ((type != NULL && strcmp(type, "Bot") == 0) ||
	    (n > 5 && strcmp(login + n - 5, "[bot]") == 0))
		return 1;
	via = json_get(comment, "performed_via_github_app");
	return app->cfg->github_app_id != 0 && via != NULL &&
	    json_int(json_get(via, "id"), 1, INT64_MAX, &id) == 0 &&
	    id == app->cfg->github_app_id;
}

/*
 * Reads the comment, its author, its repository and its target into ev.
 * Returns 0, or -1 with the 400 answered naming the first field at fault.
 */
static int
read_comment(const struct app *app, const struct json *root,
    struct webhook_event *ev, struct response *resp)
{
	const struct json	*comment = json_get(root, "comment"), *j;
	const char		*s;
	int64_t			 n;
	int			 review;

	review = strcmp(ev->event, "pull_request_review_comment") == 0;
	if (comment == NULL || comment->type != JSON_OBJECT) {
		missing(resp, "comment", "must be an object");
		return -1;
	}
	if (json_int(json_get(comment, "id"), 1, INT64_MAX,
	    &ev->comment_id) == -1) {
		missing(resp, "comment.id", "must be a positive integer");
		return -1;
	}
	j = json_get(comment, "body");
	if (j != NULL && j->type == JSON_STRING) {
		ev->body = j->str;
		ev->body_len = j->len;
	} else if (j == NULL || j->type == JSON_NULL) {
		ev->body = "";
		ev->body_len = 0;
	} else {
		missing(resp, "comment.body", "must be a string");
		return -1;
	}
	if ((ev->login = string_at(comment, PATH("user", "login"))) == NULL) {
		missing(resp, "comment.user.login", "must be a string");
		return -1;
	}
	ev->author_is_bot = written_by_bot(app, comment, ev->login);
	ev->association = string_at(comment, PATH("author_association"));

	s = string_at(root, PATH("repository", "full_name"));
	if (s == NULL || !repo_name_valid(s)) {
		missing(resp, "repository.full_name", "must be a repository "
		    "name such as octo/widgets");
		return -1;
	}
	ev->repo = s;

	j = member(root, review ? PATH("pull_request", "number") :
	    PATH("issue", "number"));
	if (json_int(j, 1, TARGET_NUMBER_MAX, &n) == -1) {
		missing(resp, review ? "pull_request.number" : "issue.number",
		    "must be a positive integer");
		return -1;
	}
	ev->target_number = (int32_t)n;
	j = member(root, PATH("issue", "pull_request"));
	ev->target_type = review || (j != NULL && j->type != JSON_NULL) ?
	    TARGET_PULL_REQUEST : TARGET_ISSUE;

	j = member(root, PATH("installation", "id"));
	if (j != NULL && json_int(j, 1, INT64_MAX,
	    &ev->installation_id) == -1) {
		missing(resp, "installation.id", "must be a positive integer");
		return -1;
	}

	/*
	 * A login outside the contract's pattern cannot be stored as the
	 * requester; only a bot's can look so, and bots trigger nothing.
	 */
	if (!ev->author_is_bot && !login_valid(ev->login)) {
		missing(resp, "comment.user.login", "must be a GitHub login");
		return -1;
	}
	return 0;
}

/* Reads the headers and the payload into ev; -1 with the error answered. */
static int
read_delivery(const struct app *app, struct request *req,
    struct response *resp, struct webhook_event *ev)
{
	const struct json	*root;
	enum json_error		 je;
	const char		*sig;

	memset(ev, 0, sizeof(*ev));
	sig = req_env(req, "HTTP_X_HUB_SIGNATURE_256");
	if (!signature_valid(app->cfg->webhook_secret, req->body,
	    req->body_len, sig)) {
		log_event(LOG_WARN, "webhook_signature_refused", "reason",
		    app->cfg->webhook_secret == NULL ? "no webhook_secret "
		    "configured" : sig == NULL ? "missing" : "wrong", NULL);
		resp_error(resp, 401, "invalid_signature", "The "
		    "X-Hub-Signature-256 header is missing or does not match "
		    "the body and the webhook's secret.");
		return -1;
	}
	if (!req_is_json(req)) {
		resp_error(resp, 415, "unsupported_media_type", "Configure the "
		    "webhook's content type as application/json.");
		return -1;
	}

	ev->event = req_env(req, "HTTP_X_GITHUB_EVENT");
	if (ev->event == NULL || !event_valid(ev->event)) {
		missing(resp, "X-GitHub-Event", "is required: 1 to 64 of "
		    "a-z and '_'");
		return -1;
	}
	ev->delivery_id = req_env(req, "HTTP_X_GITHUB_DELIVERY");
	if (ev->delivery_id == NULL || !delivery_valid(ev->delivery_id)) {
		missing(resp, "X-GitHub-Delivery", "is required: 1 to 255 "
		    "printable ASCII characters");
		return -1;
	}

	root = json_parse(req->arena, req->body, req->body_len, &je);
	if (root == NULL || root->type != JSON_OBJECT) {
		resp_error(resp, 400, "invalid_json", "The payload must be a "
		    "JSON object in UTF-8.");
		log_event(LOG_WARN, "webhook_invalid_json", "delivery",
		    ev->delivery_id, "error", root == NULL ?
		    json_error_name(je) : "not an object", NULL);
		return -1;
	}
	ev->action = string_at(root, PATH("action"));
	if (webhook_event_supported(ev->event, ev->action))
		return read_comment(app, root, ev, resp);
	return 0;
}

void
ctl_webhook(void *ctx, struct request *req, struct response *resp)
{
	struct app		*app = ctx;
	struct webhook_event	 ev;
	struct webhook_answer	 a;
	struct jsonw		*w;
	enum gt_err		 e;

	if (read_delivery(app, req, resp, &ev) == -1)
		return;

	e = webhook_handle(&app->webhook, req->arena, &ev, req->request_id,
	    &a);
	if (e != GT_OK) {
		log_event(e == GT_ERR_UNAVAILABLE ? LOG_WARN : LOG_ERROR,
		    "webhook_failed", "delivery", ev.delivery_id, "error",
		    gt_err_name(e), NULL);
		resp_from_err(resp, e, e == GT_ERR_UNAVAILABLE ? "The "
		    "database is unavailable; GitHub's redelivery will bring "
		    "this delivery again." : NULL);
		return;
	}

	metrics_count_webhook(&a);
	w = resp_json(resp, a.status == WEBHOOK_ACCEPTED ? 202 : 200);
	jw_object_open(w);
	jw_key(w, "status");
	jw_string(w, webhook_status_name(a.status));
	if (a.status == WEBHOOK_IGNORED) {
		jw_key(w, "reason");
		jw_string(w, a.reason);
	} else if (a.status != WEBHOOK_PONG) {
		jw_key(w, "run_id");
		jw_string(w, a.run_id);
	}
	jw_object_close(w);
	log_event(LOG_INFO, "webhook_handled", "delivery", ev.delivery_id,
	    "event", ev.event, "status", webhook_status_name(a.status),
	    "reason", a.reason, "run", a.run_id, NULL);
}
