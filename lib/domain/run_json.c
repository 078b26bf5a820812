/*
 * run_json.c: writing a run as JSON and reading it back.
 */
#include <config.h>

#include <string.h>

#include "domain/arena.h"
#include "domain/json.h"
#include "domain/jsonw.h"
#include "domain/run.h"
#include "domain/run_json.h"
#include "domain/timefmt.h"

/* Writes a time, or null for -1. */
static void
write_time(struct jsonw *w, const char *key, int64_t ms)
{
	char	 text[TIME_RFC3339_LEN];

	jw_key(w, key);
	if (ms < 0)
		jw_null(w);
	else
		jw_string(w, time_format_rfc3339(ms, text, sizeof(text)));
}

void
run_json_members(struct jsonw *w, const struct run *r)
{
	jw_key(w, "id");
	jw_string(w, r->id);
	jw_key(w, "repo");
	jw_string(w, r->repo);
	jw_key(w, "target");
	jw_object_open(w);
	jw_key(w, "type");
	jw_string(w, target_type_name(r->target_type));
	jw_key(w, "number");
	jw_int(w, r->target_number);
	jw_object_close(w);
	jw_key(w, "instruction");
	jw_string(w, r->instruction);
	jw_key(w, "status");
	jw_string(w, run_status_name(r->status));
	jw_key(w, "source");
	jw_string(w, run_source_name(r->source));
	jw_key(w, "requested_by");
	jw_string(w, r->requested_by);
	write_time(w, "created_at", r->created_at_ms);
	write_time(w, "started_at", r->started_at_ms);
	write_time(w, "finished_at", r->finished_at_ms);
	jw_key(w, "exit_code");
	if (r->has_exit_code)
		jw_int(w, r->exit_code);
	else
		jw_null(w);
	jw_key(w, "error");
	if (r->error_stage == STAGE_NONE)
		jw_null(w);
	else {
		jw_object_open(w);
		jw_key(w, "stage");
		jw_string(w, run_stage_name(r->error_stage));
		jw_key(w, "message");
		jw_string(w, r->error_message != NULL ? r->error_message : "");
		jw_object_close(w);
	}
	jw_key(w, "result");
	if (r->result_json != NULL)
		jw_raw(w, r->result_json, strlen(r->result_json));
	else
		jw_null(w);
}

/* A string member, or NULL for null when nullable; -1 for anything else. */
static int
read_string(const struct json *o, const char *key, int nullable,
    const char **out)
{
	const struct json	*j = json_get(o, key);

	if (j != NULL && j->type == JSON_STRING) {
		*out = j->str;
		return 0;
	}
	if (nullable && j != NULL && j->type == JSON_NULL) {
		*out = NULL;
		return 0;
	}
	return -1;
}

static int
read_time(const struct json *o, const char *key, int64_t *ms)
{
	const char	*s;

	if (read_string(o, key, 1, &s) == -1)
		return -1;
	if (s == NULL) {
		*ms = -1;
		return 0;
	}
	return time_parse_rfc3339(s, ms);
}

enum gt_err
run_json_read(struct arena *arena, const char *text, size_t n,
    struct run *r)
{
	const struct json	*root, *target, *j, *err;
	const char		*s;
	enum json_error		 je;
	int64_t			 v;

	memset(r, 0, sizeof(*r));
	if ((root = json_parse(arena, text, n, &je)) == NULL)
		return je == JSON_ERR_NOMEM ? GT_ERR_NOMEM : GT_ERR_INVALID;
	target = json_get(root, "target");

	if (read_string(root, "id", 0, &s) == -1 ||
	    run_id_parse(s, r->id) == -1 ||
	    read_string(root, "repo", 0, &r->repo) == -1 ||
	    read_string(target, "type", 0, &s) == -1 ||
	    target_type_parse(s, &r->target_type) == -1 ||
	    json_int(json_get(target, "number"), 1, TARGET_NUMBER_MAX,
	    &v) == -1)
		return GT_ERR_INVALID;
	r->target_number = (int32_t)v;

	if (read_string(root, "instruction", 0, &r->instruction) == -1 ||
	    read_string(root, "status", 0, &s) == -1 ||
	    run_status_parse(s, &r->status) == -1 ||
	    read_string(root, "source", 0, &s) == -1 ||
	    run_source_parse(s, &r->source) == -1 ||
	    read_string(root, "requested_by", 1, &r->requested_by) == -1 ||
	    read_time(root, "created_at", &r->created_at_ms) == -1 ||
	    r->created_at_ms < 0 ||
	    read_time(root, "started_at", &r->started_at_ms) == -1 ||
	    read_time(root, "finished_at", &r->finished_at_ms) == -1)
		return GT_ERR_INVALID;

	j = json_get(root, "exit_code");
	if (j != NULL && j->type == JSON_NUMBER) {
		if (json_int(j, INT32_MIN, INT32_MAX, &v) == -1)
			return GT_ERR_INVALID;
		r->has_exit_code = 1;
		r->exit_code = (int)v;
	} else if (j == NULL || j->type != JSON_NULL)
		return GT_ERR_INVALID;

	err = json_get(root, "error");
	if (err != NULL && err->type == JSON_OBJECT) {
		if (read_string(err, "stage", 0, &s) == -1 ||
		    run_stage_parse(s, &r->error_stage) == -1 ||
		    read_string(err, "message", 0, &r->error_message) == -1)
			return GT_ERR_INVALID;
	} else if (err == NULL || err->type != JSON_NULL)
		return GT_ERR_INVALID;

	j = json_get(root, "result");
	if (j != NULL && j->type == JSON_OBJECT) {
		if ((r->result_json = arena_strndup(arena, j->raw,
		    j->rawlen)) == NULL)
			return GT_ERR_NOMEM;
	} else if (j == NULL || j->type != JSON_NULL)
		return GT_ERR_INVALID;
	return GT_OK;
}
