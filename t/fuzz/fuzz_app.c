/*
 * fuzz_app.c: a worker's application with in-memory stores.
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/arena.h"
#include "domain/json.h"
#include "fuzz/fuzz.h"
#include "fuzz/fuzz_app.h"
#include "http/app.h"
#include "http/dispatch.h"
#include "http/request.h"
#include "http/response.h"
#include "infra/config.h"
#include "infra/log.h"

#define FUZZ_RUN_ID	"2f1c0b8e-3f4a-4c1d-9e8f-0a1b2c3d4e5f"
#define FUZZ_MAX_ENV	24

static struct config	*cfg;
static struct app	*app;

/* ------------------------------------------------------------------ */
/* The run store: every run asked for exists, queued. */

static void
fill_run(struct run *out, const char *id)
{
	memset(out, 0, sizeof(*out));
	snprintf(out->id, sizeof(out->id), "%s", id);
	out->repo = "octo/widgets";
	out->target_type = TARGET_ISSUE;
	out->target_number = 7;
	out->instruction = "fix the bug";
	out->status = RUN_QUEUED;
	out->source = SOURCE_API;
	out->created_at_ms = 1700000000000;
	out->started_at_ms = -1;
	out->finished_at_ms = -1;
}

static enum gt_err
store_get(void *ctx, struct arena *a, const char *id, struct run *out)
{
	fill_run(out, id);
	return GT_OK;
}

static enum gt_err
store_find_by_key(void *ctx, struct arena *a, const char *key,
    const char *fingerprint, struct run *out, int *same)
{
	return GT_ERR_NOT_FOUND;
}

static enum gt_err
store_gate(void *ctx, const char *repo, enum target_type type,
    int32_t number, struct create_gate *out)
{
	memset(out, 0, sizeof(*out));
	return GT_OK;
}

static void
allow_all(size_t nrules, struct limit_decision *d)
{
	size_t	 i;

	memset(d, 0, sizeof(*d));
	d->allowed = 1;
	for (i = 0; i < nrules && i < LIMIT_MAX_RULES; i++) {
		d->remaining[i] = 9;
		d->reset_s[i] = 60;
	}
}

static enum gt_err
store_insert(void *ctx, struct arena *a, const struct run_new *rn,
    const struct limit_rule *rules, size_t nrules, struct limit_decision *d,
    struct run *out)
{
	fill_run(out, FUZZ_RUN_ID);
	out->repo = rn->repo;
	out->target_type = rn->target_type;
	out->target_number = rn->target_number;
	out->instruction = rn->instruction;
	out->source = rn->source;
	out->requested_by = rn->requested_by;
	if (nrules > 0)
		allow_all(nrules, d);
	return GT_OK;
}

static enum gt_err
store_count_limits(void *ctx, const struct limit_rule *rules, size_t nrules,
    struct limit_decision *d)
{
	allow_all(nrules, d);
	return GT_OK;
}

static enum gt_err
store_list(void *ctx, struct arena *a, const struct run_filter *f,
    struct run **runs, size_t *n, int64_t *total)
{
	if ((*runs = arena_calloc(a, 1, sizeof(**runs))) == NULL)
		return GT_ERR_NOMEM;
	fill_run(*runs, FUZZ_RUN_ID);
	if (f->repo != NULL)
		(*runs)->repo = f->repo;
	*n = 1;
	*total = 1;
	return GT_OK;
}

static enum gt_err
store_cancel(void *ctx, struct arena *a, const char *id, struct run *out)
{
	fill_run(out, id);
	out->status = RUN_CANCELLED;
	out->finished_at_ms = out->created_at_ms + 1000;
	return GT_OK;
}

/* ------------------------------------------------------------------ */
/* The status cache, empty; the limiter, allowing everything. */

static enum gt_err
cache_get(void *ctx, struct arena *a, const char *id, const char **json,
    size_t *len)
{
	return GT_ERR_NOT_FOUND;
}

static void
cache_put(void *ctx, const char *id, enum run_status s, const char *json,
    size_t len)
{
}

static void
cache_invalidate(void *ctx, const char *id)
{
}

static enum gt_err
limiter_take(void *ctx, const struct limit_rule *rules, size_t n,
    const char *member, struct limit_decision *d)
{
	allow_all(n, d);
	return GT_OK;
}

static enum gt_err
limiter_peek(void *ctx, const struct limit_rule *rules, size_t n,
    struct limit_decision *d)
{
	allow_all(n, d);
	return GT_OK;
}

static void
limiter_give_back(void *ctx, const struct limit_rule *rules, size_t n,
    const char *member)
{
}

/* ------------------------------------------------------------------ */
/* Artifacts: none.  Webhook records: nothing seen before. */

static enum gt_err
artifacts_list(void *ctx, struct arena *a, const char *id,
    struct artifact **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	return GT_OK;
}

static enum gt_err
artifacts_open(void *ctx, const char *id, const char *name, int *fd,
    int64_t *size)
{
	return GT_ERR_NOT_FOUND;
}

static enum gt_err
webhook_seen(void *ctx, struct arena *a, const char *delivery_id,
    const char **run_id)
{
	return GT_ERR_NOT_FOUND;
}

static enum gt_err
webhook_record(void *ctx, const struct delivery_note *note)
{
	struct arena		*a;
	const struct json	*root;
	enum json_error		 je;

	fuzz_require(note->outcome != NULL, "a delivery's note has an outcome");
	if (note->reply_json == NULL)
		return GT_OK;
	fuzz_require((a = arena_new()) != NULL, "an arena");
	root = json_parse(a, note->reply_json, strlen(note->reply_json), &je);
	fuzz_require(root != NULL && root->type == JSON_OBJECT,
	    "a queued reply is a JSON object");
	arena_free(a);
	return GT_OK;
}

static enum gt_err
webhook_run_by_comment(void *ctx, struct arena *a, const char *kind,
    int64_t comment_id, struct run *out)
{
	return GT_ERR_NOT_FOUND;
}

static enum gt_err
webhook_active_run(void *ctx, struct arena *a, const char *repo,
    enum target_type type, int32_t number, struct run *out)
{
	fill_run(out, FUZZ_RUN_ID);
	out->repo = repo;
	out->target_type = type;
	out->target_number = number;
	return GT_OK;
}

/* ------------------------------------------------------------------ */
/* Admin: every change succeeds; analytics and gauges: no database. */

static enum gt_err
fake_admin_pause(void *ctx, struct arena *a, const struct pause_key *key,
    const char *reason, struct pause *out)
{
	out->key = *key;
	out->reason = reason;
	out->paused_at_ms = 1700000000000;
	return GT_OK;
}

static enum gt_err
fake_admin_resume(void *ctx, const struct pause_key *key)
{
	return GT_OK;
}

static enum gt_err
fake_admin_paused(void *ctx, struct arena *a, struct pause **repos,
    size_t *nrepos, struct pause **targets, size_t *ntargets)
{
	*repos = NULL;
	*nrepos = 0;
	*targets = NULL;
	*ntargets = 0;
	return GT_OK;
}

static enum gt_err
fake_admin_set_limit(void *ctx, struct arena *a, const char *repo,
    int64_t limit, int64_t window_s, struct limit_override *out)
{
	out->repo = repo;
	out->limit = limit;
	out->window_s = window_s;
	out->updated_at_ms = 1700000000000;
	return GT_OK;
}

static enum gt_err
fake_admin_remove_limit(void *ctx, const char *repo)
{
	return GT_OK;
}

static enum gt_err
analytics_figures(void *ctx, struct arena *a, int64_t from_ms, int64_t to_ms,
    size_t top_n, struct analytics_figures *out)
{
	return GT_ERR_UNAVAILABLE;
}

static int
ping(void *ctx, int timeout_ms)
{
	return 0;
}

static enum gt_err
db_figures(void *ctx, int timeout_ms, struct db_figures *out)
{
	return GT_ERR_UNAVAILABLE;
}

static enum gt_err
github_quota(void *ctx, int timeout_ms, struct github_quota *out)
{
	return GT_ERR_NOT_FOUND;
}

/* ------------------------------------------------------------------ */

static void
app_done(void)
{
	app_free(app);
	config_free(cfg);
}

/* The application, built on the first request. */
static void
app_setup(void)
{
	char	 err[512];

	setenv("GITTINKERER_OPERATOR_TOKENS", FUZZ_OPERATOR_TOKEN, 1);
	setenv("GITTINKERER_ADMIN_TOKENS", FUZZ_ADMIN_TOKEN, 1);
	setenv("GITTINKERER_WEBHOOK_SECRET", FUZZ_WEBHOOK_SECRET, 1);
	if ((cfg = config_load(NULL, err, sizeof(err))) == NULL) {
		fprintf(stderr, "fuzz: configuration: %s\n", err);
		abort();
	}
	fuzz_require((app = app_new(cfg)) != NULL, "the application");
	atexit(app_done);
	log_set_level(LOG_ERROR);

	app->store = (struct run_store){ NULL, store_get, store_find_by_key,
	    store_gate, store_insert,
	    store_count_limits, store_list, store_cancel };
	app->cache = (struct run_cache){ NULL, cache_get, cache_put,
	    cache_invalidate };
	app->limiter = (struct limiter){ NULL, limiter_take, limiter_peek,
	    limiter_give_back };
	app->artifacts = (struct artifact_store){ NULL, artifacts_list,
	    artifacts_open };
	app->webhook_store = (struct webhook_store){ NULL, webhook_seen,
	    webhook_record, webhook_run_by_comment, webhook_active_run };
	app->admin_store = (struct admin_store){ NULL, fake_admin_pause,
	    fake_admin_resume, fake_admin_paused, fake_admin_set_limit,
	    fake_admin_remove_limit };
	app->analytics_store = (struct analytics_store){ NULL,
	    analytics_figures };
	app->health.db_ping = ping;
	app->health.cache_ping = ping;
	app->gauges.db_figures = db_figures;
	app->gauges.github_quota = github_quota;
}

/* The body, handed to dispatch() in pieces of at most 4 KiB. */
struct body {
	const char	*p;
	size_t		 left;
};

static ssize_t
body_read(void *ctx, char *buf, size_t n)
{
	struct body	*b = ctx;

	if (n > b->left)
		n = b->left;
	if (n > 4096)
		n = 4096;
	memcpy(buf, b->p, n);
	b->p += n;
	b->left -= n;
	return (ssize_t)n;
}

/* What every answer promises, whatever the request. */
static void
check_response(struct arena *a, const struct response *resp)
{
	const struct json	*root;
	enum json_error		 je;
	size_t			 i;

	fuzz_require(resp->status >= 200 && resp->status <= 599,
	    "the status is a final one");
	fuzz_require(resp_reason(resp->status) != NULL,
	    "the status has a reason phrase");
	fuzz_require(resp->file_fd == -1, "no file is sent");
	fuzz_require(jw_ok(&resp->jw), "the JSON writer did not fail");
	for (i = 0; i < resp->nheaders; i++)
		fuzz_require(strpbrk(resp->headers[i].value, "\r\n") == NULL,
		    "a header value holds no CR or LF");
	if (resp->status == 204) {
		fuzz_require(resp->body.len == 0, "a 204 has no body");
		return;
	}
	if (strcmp(resp->content_type, CONTENT_TYPE_JSON) != 0)
		return;
	root = json_parse(a, resp->body.data, resp->body.len, &je);
	fuzz_require(root != NULL, "a JSON answer parses");
	if (resp->status >= 400)
		fuzz_require(root->type == JSON_OBJECT &&
		    json_get(root, "error") != NULL,
		    "an error answer has the contract's error object");
}

const struct dispatch_conf *
fuzz_app_dispatch(void)
{
	if (app == NULL)
		app_setup();
	return &app->dispatch;
}

int
fuzz_app_request(const char *method, const char *target,
    const struct fuzz_header *headers, size_t n, const char *body,
    size_t bodylen)
{
	struct request	 req;
	struct response	 resp;
	struct body	 b = { body, bodylen };
	struct body_reader br = { &b, body_read };
	static char	 auth[] = "HTTP_AUTHORIZATION=Bearer " FUZZ_ADMIN_TOKEN;
	const char	*q;
	char		*env[FUZZ_MAX_ENV + 1];
	size_t		 i, nenv = 0;
	int		 status;

	if (app == NULL)
		app_setup();
	memset(&req, 0, sizeof(req));
	fuzz_require((req.arena = arena_new()) != NULL, "an arena");
	req.method = method;
	q = strchr(target, '?');
	req.path = q != NULL ? arena_strndup(req.arena, target,
	    (size_t)(q - target)) : target;
	req.query = q != NULL ? q + 1 : "";
	req.request_id = "fuzz-request";
	req.remote_addr = "127.0.0.1";
	req.content_length = (int64_t)bodylen;

	env[nenv++] = auth;
	for (i = 0; i < n && nenv < FUZZ_MAX_ENV; i++)
		env[nenv++] = arena_printf(req.arena, "%s=%s", headers[i].name,
		    headers[i].value);
	env[nenv] = NULL;
	req.env = env;

	resp_init(&resp);
	resp_reset(&resp, req.arena);
	dispatch(&app->dispatch, &req, &br, &resp);
	check_response(req.arena, &resp);
	status = resp.status;

	resp_free(&resp);
	arena_free(req.arena);
	return status;
}
