/*
 * runner_io.c: the runner's payload and prompt, and its result.
 */
#include <config.h>

#include <stdlib.h>
#include <string.h>

#include "domain/arena.h"
#include "domain/buf.h"
#include "domain/json.h"
#include "domain/jsonw.h"
#include "domain/run.h"
#include "domain/runner_io.h"
#include "domain/text.h"

void
prompt_build(struct buf *out, const struct run *r)
{
	const char	*what = r->target_type == TARGET_PULL_REQUEST ?
	    "pull request" : "issue";

	buf_printf(out, "You are working on the GitHub repository %s, on %s "
	    "#%d.\n", r->repo, what, (int)r->target_number);
	if (r->requested_by != NULL)
		buf_printf(out, "The request comes from @%s.\n",
		    r->requested_by);
	buf_puts(out, "Do what the instruction below asks, commit your work "
	    "and open a pull request for it.\n\nInstruction:\n");
	buf_puts(out, r->instruction);
	buf_putc(out, '\n');
}

void
payload_build(struct buf *out, const struct run *r,
    const struct pull_info *pr, int64_t installation_id)
{
	struct jsonw	 w;
	struct buf	 prompt, url;
	const char	*slash = strchr(r->repo, '/');

	buf_init(&prompt);
	prompt_build(&prompt, r);
	buf_init(&url);
	buf_printf(&url, "https://github.com/%s.git", r->repo);

	jw_init(&w, out);
	jw_object_open(&w);
	jw_key(&w, "run_id");
	jw_string(&w, r->id);
	jw_key(&w, "repo");
	jw_object_open(&w);
	jw_key(&w, "owner");
	jw_stringn(&w, r->repo, slash != NULL ? (size_t)(slash - r->repo) :
	    strlen(r->repo));
	jw_key(&w, "name");
	jw_string(&w, slash != NULL ? slash + 1 : "");
	jw_key(&w, "full_name");
	jw_string(&w, r->repo);
	jw_key(&w, "clone_url");
	jw_string(&w, buf_str(&url));
	jw_object_close(&w);
	jw_key(&w, "target");
	jw_object_open(&w);
	jw_key(&w, "type");
	jw_string(&w, target_type_name(r->target_type));
	jw_key(&w, "number");
	jw_int(&w, r->target_number);
	jw_object_close(&w);
	jw_key(&w, "instruction");
	jw_string(&w, r->instruction);
	jw_key(&w, "prompt");
	jw_string(&w, buf_str(&prompt));
	jw_key(&w, "requested_by");
	jw_string(&w, r->requested_by);
	jw_key(&w, "source");
	jw_string(&w, run_source_name(r->source));
	jw_key(&w, "pull_request");
	if (pr == NULL)
		jw_null(&w);
	else {
		jw_object_open(&w);
		jw_key(&w, "head_ref");
		jw_string(&w, pr->head_ref);
		jw_key(&w, "head_sha");
		jw_string(&w, pr->head_sha);
		jw_key(&w, "base_ref");
		jw_string(&w, pr->base_ref);
		jw_object_close(&w);
	}
	jw_key(&w, "installation_id");
	if (installation_id > 0)
		jw_int(&w, installation_id);
	else
		jw_null(&w);
	jw_object_close(&w);
	if (!jw_ok(&w) || prompt.oom || url.oom)
		out->oom = 1;
	buf_free(&prompt);
	buf_free(&url);
}

/* A text field: absent or null leaves *out NULL; -1 for anything else. */
static int
text_field(const struct json *o, const char *key, const char **out)
{
	const struct json	*j = json_get(o, key);

	*out = NULL;
	if (j == NULL || j->type == JSON_NULL)
		return 0;
	if (j->type != JSON_STRING ||
	    utf8_count(j->str, j->len) > RESULT_TEXT_MAX)
		return -1;
	*out = j->str;
	return 0;
}

/* A count: absent or null leaves *has 0; -1 for anything else. */
static int
count_field(const struct json *o, const char *key, int *has, int64_t *out)
{
	const struct json	*j = json_get(o, key);

	*has = 0;
	if (j == NULL || j->type == JSON_NULL)
		return 0;
	if (json_int(j, 0, INT64_MAX / 2, out) == -1)
		return -1;
	*has = 1;
	return 0;
}

/* A cost in dollars: a non-negative number below a billion. */
static int
cost_field(const struct json *o, const char *key, int *has, double *out)
{
	const struct json	*j = json_get(o, key);
	char			*end;

	*has = 0;
	if (j == NULL || j->type == JSON_NULL)
		return 0;
	if (j->type != JSON_NUMBER)
		return -1;
	*out = strtod(j->str, &end);
	if (*end != '\0' || !(*out >= 0 && *out < 1e9))
		return -1;
	*has = 1;
	return 0;
}

/* Writes the checked result back, with the known fields only. */
static const char *
rewrite(struct arena *arena, const struct runner_result *r)
{
	struct buf	 b;
	struct jsonw	 w;
	const char	*s = NULL;

	buf_init(&b);
	jw_init(&w, &b);
	jw_object_open(&w);
	jw_key(&w, "summary");
	jw_string(&w, r->summary);
	jw_key(&w, "pr_url");
	jw_string(&w, r->pr_url);
	jw_key(&w, "commit_sha");
	jw_string(&w, r->commit_sha);
	if (r->error != NULL) {
		jw_key(&w, "error");
		jw_string(&w, r->error);
	}
	jw_object_close(&w);
	if (jw_ok(&w))
		s = arena_strndup(arena, b.data, b.len);
	buf_free(&b);
	return s;
}

enum gt_err
result_parse(struct arena *arena, const char *text, size_t n,
    struct runner_result *out, const char **why)
{
	const struct json	*root, *m;
	enum json_error		 je;

	memset(out, 0, sizeof(*out));
	*why = NULL;
	if (n > RESULT_MAX_BYTES) {
		*why = "larger than 64 KiB";
		return GT_ERR_TOO_LARGE;
	}
	if ((root = json_parse(arena, text, n, &je)) == NULL) {
		*why = json_error_name(je);
		return je == JSON_ERR_NOMEM ? GT_ERR_NOMEM : GT_ERR_INVALID;
	}
	if (root->type != JSON_OBJECT) {
		*why = "not an object";
		return GT_ERR_INVALID;
	}
	if (text_field(root, "summary", &out->summary) == -1 ||
	    text_field(root, "pr_url", &out->pr_url) == -1 ||
	    text_field(root, "commit_sha", &out->commit_sha) == -1 ||
	    text_field(root, "error", &out->error) == -1) {
		*why = "a text field is not a string of at most 4000 characters";
		return GT_ERR_INVALID;
	}
	m = json_get(root, "metrics");
	if (m != NULL && m->type != JSON_NULL) {
		if (m->type != JSON_OBJECT ||
		    count_field(m, "tokens_in", &out->has_tokens_in,
		    &out->tokens_in) == -1 ||
		    count_field(m, "tokens_out", &out->has_tokens_out,
		    &out->tokens_out) == -1 ||
		    count_field(m, "files_changed", &out->has_files_changed,
		    &out->files_changed) == -1 ||
		    cost_field(m, "cost_usd", &out->has_cost,
		    &out->cost_usd) == -1) {
			*why = "metrics is not an object of non-negative numbers";
			return GT_ERR_INVALID;
		}
	}
	if ((out->json = rewrite(arena, out)) == NULL)
		return GT_ERR_NOMEM;
	return GT_OK;
}
