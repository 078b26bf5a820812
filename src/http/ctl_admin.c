/*
 * ctl_admin.c: the /api/admin routes: pauses and rate-limit overrides.
 *
 * The dispatch step has let through admin tokens only.  Each controller
 * checks its whole input first (a malformed body or path never reaches
 * the database), calls one admin use case, and writes the answer:
 *
 *	pause     {"repo", ["target",] "paused": true, "reason", "paused_at"}
 *	resume    {"repo", ["target",] "paused": false}
 *	paused    {"repos": [pause, ...], "targets": [pause, ...]}
 *	override  {"repo", "limit", "window_seconds", "updated_at"}
 *
 * A pause answers the pause as stored (its display name is the one it
 * was first paused with); a resume, having nothing stored left, answers
 * the name as sent.  Removing an override answers 204 without a body.
 */
#include <config.h>

#include <string.h>

#include "domain/arena.h"
#include "domain/json.h"
#include "domain/jsonw.h"
#include "domain/run.h"
#include "domain/timefmt.h"
#include "http/app.h"
#include "http/controllers.h"
#include "http/fields.h"
#include "http/request.h"
#include "http/response.h"
#include "infra/log.h"
#include "usecase/admin.h"

/* Answers a use case's failure. */
static void
answer_err(struct response *resp, enum gt_err e)
{
	if (e == GT_ERR_UNAVAILABLE) {
		resp_from_err(resp, e, "The database is unavailable; retry "
		    "in a few seconds.");
		return;
	}

	/* The controller checked what the use case checks: a bug. */
	log_event(LOG_ERROR, "admin_failed", "error", gt_err_name(e), NULL);
	resp_from_err(resp, GT_ERR_INTERNAL, NULL);
}

static void
write_time(struct jsonw *w, const char *key, int64_t ms)
{
	char	 t[TIME_RFC3339_LEN];

	jw_key(w, key);
	jw_string(w, time_format_rfc3339(ms, t, sizeof(t)));
}

/* The members a pause and a resume share: "repo" and the target. */
static void
write_key(struct jsonw *w, const struct pause_key *key)
{
	jw_key(w, "repo");
	jw_string(w, key->repo);
	if (!key->has_target)
		return;
	jw_key(w, "target");
	jw_object_open(w);
	jw_key(w, "type");
	jw_string(w, target_type_name(key->target_type));
	jw_key(w, "number");
	jw_int(w, key->target_number);
	jw_object_close(w);
}

static void
write_pause(struct jsonw *w, const struct pause *p)
{
	jw_object_open(w);
	write_key(w, &p->key);
	jw_key(w, "paused");
	jw_bool(w, 1);
	jw_key(w, "reason");
	jw_string(w, p->reason);
	write_time(w, "paused_at", p->paused_at_ms);
	jw_object_close(w);
}

/* "issue#12" for a log line, or NULL for a repository's pause. */
static const char *
log_target(struct arena *arena, const struct pause_key *key)
{
	if (!key->has_target)
		return NULL;
	return arena_printf(arena, "%s#%d", target_type_name(key->target_type),
	    (int)key->target_number);
}

/* ------------------------------------------------------------------ */
/* POST /api/admin/pause-repo, resume-repo, pause-target, resume-target */

/* The fields of each of the four bodies, by [target][pause]. */
static const char *const resume_repo_fields[] = { "repo", NULL };
static const char *const pause_repo_fields[] = { "repo", "reason", NULL };
static const char *const resume_target_fields[] = { "repo", "target",
    NULL };
static const char *const pause_target_fields[] = { "repo", "target",
    "reason", NULL };
static const char *const *const pause_fields[2][2] = {
	{ resume_repo_fields, pause_repo_fields },
	{ resume_target_fields, pause_target_fields },
};

/*
 * Reads a pause's or a resume's body into key and *reason (NULL when
 * absent or null).  Returns 0, or -1 with the 400 answered.
 */
static int
read_pause_body(struct request *req, struct response *resp, int target,
    int pause, struct pause_key *key, const char **reason)
{
	const struct json	*root, *j;
	struct fields		 f;

	memset(key, 0, sizeof(*key));
	memset(&f, 0, sizeof(f));
	*reason = NULL;
	if ((root = fields_body(req, resp)) == NULL)
		return -1;
	fields_unknown(&f, req->arena, root, pause_fields[target][pause], "");

	key->repo = fields_repo(&f, root);
	if (target && fields_target(&f, req->arena, root, &key->target_type,
	    &key->target_number) == 0)
		key->has_target = 1;
	j = json_get(root, "reason");
	if (pause && j != NULL && j->type != JSON_NULL) {
		if (j->type != JSON_STRING ||
		    !admin_reason_valid(j->str, j->len))
			fields_problem(&f, "reason", "must be a string of at "
			    "most 500 characters, or null");
		else
			*reason = j->str;
	}
	return fields_answer(&f, resp);
}

static void
pause_route(struct app *app, struct request *req, struct response *resp,
    int target)
{
	struct pause_key	 key;
	struct pause		 p;
	const char		*reason;
	enum gt_err		 e;

	if (read_pause_body(req, resp, target, 1, &key, &reason) == -1)
		return;
	if ((e = admin_pause(&app->admin, req->arena, &key, reason, &p)) !=
	    GT_OK) {
		answer_err(resp, e);
		return;
	}
	write_pause(resp_json(resp, 200), &p);
	log_event(LOG_INFO, "admin_paused", "repo", p.key.repo, "target",
	    log_target(req->arena, &p.key), NULL);
}

static void
resume_route(struct app *app, struct request *req, struct response *resp,
    int target)
{
	struct pause_key	 key;
	struct jsonw		*w;
	const char		*reason;
	enum gt_err		 e;

	if (read_pause_body(req, resp, target, 0, &key, &reason) == -1)
		return;
	if ((e = admin_resume(&app->admin, &key)) != GT_OK) {
		answer_err(resp, e);
		return;
	}
	w = resp_json(resp, 200);
	jw_object_open(w);
	write_key(w, &key);
	jw_key(w, "paused");
	jw_bool(w, 0);
	jw_object_close(w);
	log_event(LOG_INFO, "admin_resumed", "repo", key.repo, "target",
	    log_target(req->arena, &key), NULL);
}

void
ctl_admin_pause_repo(void *ctx, struct request *req, struct response *resp)
{
	pause_route(ctx, req, resp, 0);
}

void
ctl_admin_resume_repo(void *ctx, struct request *req, struct response *resp)
{
	resume_route(ctx, req, resp, 0);
}

void
ctl_admin_pause_target(void *ctx, struct request *req, struct response *resp)
{
	pause_route(ctx, req, resp, 1);
}

void
ctl_admin_resume_target(void *ctx, struct request *req,
    struct response *resp)
{
	resume_route(ctx, req, resp, 1);
}

/* ------------------------------------------------------------------ */
/* GET /api/admin/paused */

void
ctl_admin_paused(void *ctx, struct request *req, struct response *resp)
{
	struct app		*app = ctx;
	struct admin_pauses	 all;
	struct jsonw		*w;
	enum gt_err		 e;
	size_t			 i;

	if ((e = admin_paused(&app->admin, req->arena, &all)) != GT_OK) {
		answer_err(resp, e);
		return;
	}
	w = resp_json(resp, 200);
	jw_object_open(w);
	jw_key(w, "repos");
	jw_array_open(w);
	for (i = 0; i < all.nrepos; i++)
		write_pause(w, &all.repos[i]);
	jw_array_close(w);
	jw_key(w, "targets");
	jw_array_open(w);
	for (i = 0; i < all.ntargets; i++)
		write_pause(w, &all.targets[i]);
	jw_array_close(w);
	jw_object_close(w);
}

/* ------------------------------------------------------------------ */
/* PUT and DELETE /api/admin/rate-limits/:owner/:name */

/* The repository the path names, or NULL with the 400 answered. */
static const char *
path_repo(struct request *req, struct response *resp)
{
	const char	*repo;

	repo = arena_printf(req->arena, "%s/%s", req_param(req, "owner"),
	    req_param(req, "name"));
	if (repo == NULL) {
		resp_from_err(resp, GT_ERR_NOMEM, NULL);
		return NULL;
	}
	if (!repo_name_valid(repo)) {
		resp_error(resp, 400, "invalid_parameter", "The path must name "
		    "a GitHub repository, as in "
		    "/api/admin/rate-limits/octo/widgets.");
		return NULL;
	}
	return repo;
}

void
ctl_admin_set_limit(void *ctx, struct request *req, struct response *resp)
{
	static const char *const names[] = { "limit", "window_seconds",
	    NULL };
	struct app		*app = ctx;
	struct limit_override	 o;
	struct fields		 f;
	struct jsonw		*w;
	const struct json	*root, *j;
	const char		*repo;
	int64_t			 limit = 0, window_s = 0;
	enum gt_err		 e;

	if ((repo = path_repo(req, resp)) == NULL ||
	    (root = fields_body(req, resp)) == NULL)
		return;
	memset(&f, 0, sizeof(f));
	fields_unknown(&f, req->arena, root, names, "");
	if ((j = json_get(root, "limit")) == NULL)
		fields_problem(&f, "limit", "is required");
	else if (json_int(j, 1, ADMIN_LIMIT_MAX, &limit) == -1)
		fields_problem(&f, "limit", "must be an integer from 1 to "
		    "1000000");
	if ((j = json_get(root, "window_seconds")) == NULL)
		fields_problem(&f, "window_seconds", "is required");
	else if (json_int(j, 1, ADMIN_WINDOW_MAX, &window_s) == -1)
		fields_problem(&f, "window_seconds", "must be an integer from "
		    "1 to 2592000 (30 days)");
	if (fields_answer(&f, resp) == -1)
		return;

	e = admin_set_limit(&app->admin, req->arena, repo, limit, window_s,
	    &o);
	if (e != GT_OK) {
		answer_err(resp, e);
		return;
	}
	w = resp_json(resp, 200);
	jw_object_open(w);
	jw_key(w, "repo");
	jw_string(w, o.repo);
	jw_key(w, "limit");
	jw_int(w, o.limit);
	jw_key(w, "window_seconds");
	jw_int(w, o.window_s);
	write_time(w, "updated_at", o.updated_at_ms);
	jw_object_close(w);
	log_event(LOG_INFO, "rate_limit_set", "repo", o.repo, "limit",
	    arena_printf(req->arena, "%lld", (long long)o.limit), "window",
	    arena_printf(req->arena, "%lld", (long long)o.window_s), NULL);
}

void
ctl_admin_remove_limit(void *ctx, struct request *req,
    struct response *resp)
{
	struct app	*app = ctx;
	const char	*repo;
	enum gt_err	 e;

	if ((repo = path_repo(req, resp)) == NULL)
		return;
	if ((e = admin_remove_limit(&app->admin, repo)) != GT_OK) {
		answer_err(resp, e);
		return;
	}
	resp_body(resp, 204, CONTENT_TYPE_JSON);
	log_event(LOG_INFO, "rate_limit_removed", "repo", repo, NULL);
}
