/*
 * ctl_runs.c: the /api/runs routes.
 *
 * Each controller checks its input completely before calling its use case,
 * so a malformed request never reaches the database; the use case's error
 * is then turned into the contract's status and code.
 */
#include <config.h>

#include <stdio.h>
#include <string.h>

#include "domain/arena.h"
#include "domain/buf.h"
#include "domain/json.h"
#include "domain/jsonw.h"
#include "domain/memo.h"
#include "domain/run.h"
#include "domain/run_json.h"
#include "domain/text.h"
#include "http/app.h"
#include "http/controllers.h"
#include "http/fields.h"
#include "http/metrics.h"
#include "http/request.h"
#include "http/response.h"
#include "infra/log.h"
#include "usecase/runs.h"

#define PAGE_MAX	1000000
#define LIST_LIMIT_MAX	100
#define LIST_LIMIT_DEF	20

/* Answers a use case's error with a sentence a person can act on. */
static void
answer_err(struct response *resp, enum gt_err e)
{
	static const char *const messages[] = {
		[GT_ERR_NOT_FOUND] = "No run has this id.",
		[GT_ERR_TRANSITION] = "The run has finished and cannot be "
		    "cancelled.",
		[GT_ERR_CONFLICT] = "Another request created this run at the "
		    "same moment; retry to read it.",
		[GT_ERR_PAUSED_REPO] = "The repository is paused by an "
		    "operator: no run can be created for it until it is "
		    "resumed.",
		[GT_ERR_PAUSED_TARGET] = "This issue or pull request is "
		    "paused by an operator: no run can be created for it "
		    "until it is resumed.",
		[GT_ERR_RATE_LIMITED] = "Too many runs were created recently; "
		    "retry after the number of seconds in Retry-After.",
		[GT_ERR_IDEMPOTENCY] = "This Idempotency-Key was used with a "
		    "different request; use a new key for a new request.",
		[GT_ERR_UNAVAILABLE] = "The database is unavailable; retry "
		    "in a few seconds.",
	};
	const char	*m = NULL;

	if ((size_t)e < sizeof(messages) / sizeof(messages[0]))
		m = messages[e];
	if (e == GT_ERR_NOMEM || e == GT_ERR_IO || e == GT_ERR_INTERNAL)
		log_event(LOG_ERROR, "runs_failed", "error", gt_err_name(e),
		    NULL);
	resp_from_err(resp, e, m);
}

/* The run id of the path, canonical, or a 400 answered. */
static int
path_run_id(struct request *req, struct response *resp, char *id)
{
	if (run_id_parse(req_param(req, "run_id"), id) == -1) {
		resp_error(resp, 400, "invalid_parameter", "The run id must "
		    "be a UUID such as 2f1c0b8e-3f4a-4c1d-9e8f-0a1b2c3d4e5f.");
		return -1;
	}
	return 0;
}

static void
write_run(struct jsonw *w, const struct run *r)
{
	jw_object_open(w);
	run_json_members(w, r);
	jw_object_close(w);
}

/* ------------------------------------------------------------------ */
/* POST /api/runs */

static const char *const create_fields[] = {
	"repo", "target", "instruction", "requested_by", NULL
};

static void
check_instruction(struct arena *arena, const struct json *j,
    struct run_new *rn, struct fields *p)
{
	const char	*start;
	size_t		 len;

	if (j == NULL) {
		fields_problem(p, "instruction", "is required");
		return;
	}
	if (j->type != JSON_STRING) {
		fields_problem(p, "instruction", "must be a string");
		return;
	}
	switch (instruction_trim(j->str, j->len, &start, &len)) {
	case GT_OK:
		rn->instruction = arena_strndup(arena, start, len);
		break;
	case GT_ERR_TOO_LARGE:
		fields_problem(p, "instruction", "must be at most 4000 characters "
		    "after trimming white space");
		break;
	default:
		fields_problem(p, "instruction", "must not be empty after trimming "
		    "white space");
		break;
	}
}

/*
 * A canonical text of the validated fields: the same request always gives
 * the same text, and two requests that differ give different ones.
 */
static const char *
fingerprint(struct arena *arena, const struct run_new *rn)
{
	struct buf	 b;
	struct jsonw	 w;
	const char	*s = NULL;

	buf_init(&b);
	jw_init(&w, &b);
	jw_array_open(&w);
	jw_string(&w, rn->repo);
	jw_string(&w, target_type_name(rn->target_type));
	jw_int(&w, rn->target_number);
	jw_string(&w, rn->instruction);
	jw_string(&w, rn->requested_by);
	jw_array_close(&w);
	if (jw_ok(&w))
		s = arena_strndup(arena, b.data, b.len);
	buf_free(&b);
	return s;
}

/*
 * Reads and validates the body and the Idempotency-Key into rn.  Returns
 * 0, or -1 with the 400 answered.
 */
static int
read_create(struct request *req, struct response *resp, struct run_new *rn)
{
	const struct json	*root, *j;
	struct fields		 p;
	const char		*key;

	memset(rn, 0, sizeof(*rn));
	memset(&p, 0, sizeof(p));
	if ((root = fields_body(req, resp)) == NULL)
		return -1;
	fields_unknown(&p, req->arena, root, create_fields, "");
	rn->repo = fields_repo(&p, root);
	(void)fields_target(&p, req->arena, root, &rn->target_type,
	    &rn->target_number);
	check_instruction(req->arena, json_get(root, "instruction"), rn, &p);
	j = json_get(root, "requested_by");
	if (j != NULL && j->type != JSON_NULL) {
		if (j->type != JSON_STRING || !login_valid(j->str))
			fields_problem(&p, "requested_by", "must be a GitHub "
			    "login: 1 to 39 letters, digits or '-'");
		else
			rn->requested_by = j->str;
	}

	key = req_env(req, "HTTP_IDEMPOTENCY_KEY");
	if (key != NULL && !idempotency_key_valid(key))
		fields_problem(&p, "Idempotency-Key", "must be 1 to 255 "
		    "printable ASCII characters");

	if (fields_answer(&p, resp) == -1)
		return -1;
	rn->source = SOURCE_API;
	rn->requester = rn->requested_by != NULL ? rn->requested_by :
	    req->role == ROLE_ADMIN ? "role:admin" : "role:operator";
	if (key != NULL) {
		rn->idempotency_key = key;
		if ((rn->fingerprint = fingerprint(req->arena, rn)) == NULL) {
			resp_from_err(resp, GT_ERR_NOMEM, NULL);
			return -1;
		}
	}
	if (rn->instruction == NULL) {
		resp_from_err(resp, GT_ERR_NOMEM, NULL);
		return -1;
	}
	return 0;
}

/*
 * The draft RateLimit headers (draft-ietf-httpapi-ratelimit-headers):
 * every policy that applied, and the figures of the tightest one.
 */
static void
ratelimit_headers(struct response *resp, struct arena *arena,
    const struct create_outcome *oc)
{
	const char	*policy = "", *tight;
	size_t		 i, t = 0;

	if (!oc->has_decision || oc->nrules == 0)
		return;
	for (i = 0; i < oc->nrules; i++) {
		policy = arena_printf(arena, "%s%s\"%s\";q=%lld;w=%lld", policy,
		    i > 0 ? ", " : "", oc->rules[i].name,
		    (long long)oc->rules[i].limit,
		    (long long)oc->rules[i].window_s);
		if (policy == NULL)
			return;
		if (oc->d.remaining[i] < oc->d.remaining[t])
			t = i;
	}
	tight = arena_printf(arena, "\"%s\";r=%lld;t=%lld", oc->rules[t].name,
	    (long long)oc->d.remaining[t], (long long)oc->d.reset_s[t]);
	resp_header(resp, "RateLimit-Policy", policy);
	if (tight != NULL)
		resp_header(resp, "RateLimit", tight);
}

void
ctl_runs_create(void *ctx, struct request *req, struct response *resp)
{
	struct app		*app = ctx;
	struct run_new		 rn;
	struct run		 run;
	struct create_outcome	 oc;
	enum gt_err		 e;
	char			 retry[32];

	if (read_create(req, resp, &rn) == -1)
		return;

	e = runs_create(&app->runs, req->arena, &rn, req->request_id, &run,
	    &oc);
	if (e != GT_OK) {
		answer_err(resp, e);
		if (e == GT_ERR_RATE_LIMITED)
			metrics_count_rate_limited(METRICS_API,
			    runs_refused_by(&oc));
		if (e == GT_ERR_RATE_LIMITED && oc.has_decision) {
			snprintf(retry, sizeof(retry), "%lld",
			    (long long)(oc.d.retry_after_s > 0 ?
			    oc.d.retry_after_s : 1));
			resp_header(resp, "Retry-After", retry);
		}
		if (e == GT_ERR_RATE_LIMITED || e == GT_ERR_PAUSED_REPO ||
		    e == GT_ERR_PAUSED_TARGET)
			ratelimit_headers(resp, req->arena, &oc);
		return;
	}

	write_run(resp_json(resp, oc.created ? 201 : 200), &run);
	resp_header(resp, "Location", arena_printf(req->arena,
	    "/api/runs/%s", run.id));
	ratelimit_headers(resp, req->arena, &oc);
	if (oc.created)
		log_event(LOG_INFO, "run_created", "run", run.id, "repo",
		    run.repo, NULL);
}

/* ------------------------------------------------------------------ */
/* GET /api/runs/:run_id */

void
ctl_runs_get(void *ctx, struct request *req, struct response *resp)
{
	struct app	*app = ctx;
	struct run	 run;
	struct artifact	*arts;
	struct jsonw	*w;
	char		 id[RUN_ID_LEN + 1];
	const char	*kept;
	size_t		 n, i, len;
	enum gt_err	 e;

	if (path_run_id(req, resp, id) == -1)
		return;
	if (memo_get(app->finished, id, &kept, &len) == 0) {
		(void)buf_add(resp_body(resp, 200, CONTENT_TYPE_JSON), kept,
		    len);
		return;
	}
	e = runs_get(&app->runs, req->arena, id, &run, &arts, &n);
	if (e == GT_ERR_IO) {
		arts = NULL;
		n = 0;
	} else if (e != GT_OK) {
		answer_err(resp, e);
		return;
	}

	w = resp_json(resp, 200);
	jw_object_open(w);
	run_json_members(w, &run);
	jw_key(w, "artifacts");
	jw_array_open(w);
	for (i = 0; i < n; i++) {
		jw_object_open(w);
		jw_key(w, "name");
		jw_string(w, arts[i].name);
		jw_key(w, "size");
		jw_int(w, arts[i].size);
		jw_key(w, "url");
		jw_string(w, arena_printf(req->arena,
		    "/api/runs/%s/artifacts/%s", run.id, arts[i].name));
		jw_object_close(w);
	}
	jw_array_close(w);
	jw_object_close(w);

	/*
	 * A finished run and its artifacts never change again (the runner
	 * has ended before the run is finished), so its answer is kept;
	 * not when the artifacts could not be read.
	 */
	if (e == GT_OK && run_status_finished(run.status) && !resp->body.oom)
		memo_put(app->finished, id, resp->body.data, resp->body.len);
}

/* ------------------------------------------------------------------ */
/* GET /api/runs */

/*
 * Reads the integer query parameter name within [min, max] into *out,
 * leaving it as it is when absent.  Returns -1 when it is malformed.
 */
static int
query_int(struct request *req, const char *name, int64_t min, int64_t max,
    int64_t *out)
{
	const char	*v;
	int		 bad = 0;

	v = req_query(req, name, &bad);
	if (bad)
		return -1;
	if (v == NULL)
		return 0;
	return parse_int64(v, min, max, out);
}

void
ctl_runs_list(void *ctx, struct request *req, struct response *resp)
{
	struct app		*app = ctx;
	struct run_filter	 f;
	struct run		*runs;
	struct jsonw		*w;
	const char		*status, *repo;
	int64_t			 total;
	size_t			 n, i;
	enum gt_err		 e;
	int			 bad = 0;

	memset(&f, 0, sizeof(f));
	f.page = 1;
	f.limit = LIST_LIMIT_DEF;
	if (query_int(req, "page", 1, PAGE_MAX, &f.page) == -1 ||
	    query_int(req, "limit", 1, LIST_LIMIT_MAX, &f.limit) == -1) {
		resp_error(resp, 400, "invalid_parameter", "page must be an "
		    "integer of at least 1 and limit one from 1 to 100.");
		return;
	}
	status = req_query(req, "status", &bad);
	if (bad || (status != NULL && run_status_parse(status, &f.status) ==
	    -1)) {
		resp_error(resp, 400, "invalid_parameter", "status must be "
		    "one of queued, running, succeeded, failed, cancelled.");
		return;
	}
	f.has_status = status != NULL;
	repo = req_query(req, "repo", &bad);
	if (bad || (repo != NULL && !repo_name_valid(repo))) {
		resp_error(resp, 400, "invalid_parameter", "repo must be a "
		    "GitHub repository such as octo/widgets.");
		return;
	}
	f.repo = repo;

	if ((e = runs_list(&app->runs, req->arena, &f, &runs, &n, &total)) !=
	    GT_OK) {
		answer_err(resp, e);
		return;
	}

	w = resp_json(resp, 200);
	jw_object_open(w);
	jw_key(w, "runs");
	jw_array_open(w);
	for (i = 0; i < n; i++)
		write_run(w, &runs[i]);
	jw_array_close(w);
	jw_key(w, "page");
	jw_int(w, f.page);
	jw_key(w, "limit");
	jw_int(w, f.limit);
	jw_key(w, "total");
	jw_int(w, total);
	jw_key(w, "total_pages");
	jw_int(w, (total + f.limit - 1) / f.limit);
	jw_object_close(w);
}

/* ------------------------------------------------------------------ */
/* POST /api/runs/:run_id/cancel */

void
ctl_runs_cancel(void *ctx, struct request *req, struct response *resp)
{
	struct app	*app = ctx;
	struct run	 run;
	char		 id[RUN_ID_LEN + 1];
	enum gt_err	 e;

	if (path_run_id(req, resp, id) == -1)
		return;
	if ((e = runs_cancel(&app->runs, req->arena, id, &run)) != GT_OK) {
		answer_err(resp, e);
		return;
	}
	write_run(resp_json(resp, 202), &run);
	log_event(LOG_INFO, "run_cancel_requested", "run", run.id, "status",
	    run_status_name(run.status), NULL);
}

/* ------------------------------------------------------------------ */
/* GET /api/runs/:run_id/artifacts/:name */

void
ctl_runs_artifact(void *ctx, struct request *req, struct response *resp)
{
	struct app	*app = ctx;
	const char	*name = req_param(req, "name");
	char		 id[RUN_ID_LEN + 1];
	int64_t		 size;
	enum gt_err	 e;
	int		 fd;

	if (path_run_id(req, resp, id) == -1)
		return;
	if (!artifact_name_valid(name)) {
		resp_error(resp, 400, "invalid_parameter", "An artifact name "
		    "is 1 to 128 letters, digits, '.', '_' or '-', starting "
		    "with a letter or digit.");
		return;
	}
	e = runs_open_artifact(&app->runs, req->arena, id, name, &fd, &size);
	if (e == GT_ERR_NOT_FOUND) {
		resp_error(resp, 404, "not_found", "The run has no artifact "
		    "of this name.");
		return;
	}
	if (e != GT_OK) {
		answer_err(resp, e);
		return;
	}
	resp_file(resp, fd, (off_t)size, artifact_content_type(name));
}
