/*
 * fields.c: reading a JSON request body field by field.
 */
#include <config.h>

#include <string.h>

#include "domain/arena.h"
#include "domain/json.h"
#include "http/fields.h"
#include "http/request.h"

void
fields_problem(struct fields *f, const char *field, const char *message)
{
	f->faults++;
	if (f->n < FIELDS_MAX) {
		f->d[f->n].field = field;
		f->d[f->n].message = message;
		f->n++;
	}
}

const struct json *
fields_body(struct request *req, struct response *resp)
{
	const struct json	*root;
	enum json_error		 je = JSON_OK;

	root = json_parse(req->arena, req->body, req->body_len, &je);
	if (root != NULL && root->type == JSON_OBJECT)
		return root;
	resp_error(resp, 400, "invalid_json", je == JSON_ERR_DUPLICATE ?
	    "The body repeats a field name; send each field once." :
	    "The body must be a JSON object in UTF-8, without NUL "
	    "characters, nested at most 32 deep.");
	return NULL;
}

static int
listed(const char *const *names, const char *key)
{
	for (; *names != NULL; names++)
		if (strcmp(*names, key) == 0)
			return 1;
	return 0;
}

void
fields_unknown(struct fields *f, struct arena *arena, const struct json *o,
    const char *const *names, const char *prefix)
{
	const struct json	*m;
	const char		*field;

	for (m = o->child; m != NULL; m = m->next) {
		if (listed(names, m->key))
			continue;
		field = arena_printf(arena, "%s%s", prefix, m->key);
		fields_problem(f, field != NULL ? field : "?",
		    "is not a known field");
	}
}

const char *
fields_repo(struct fields *f, const struct json *root)
{
	const struct json	*j = json_get(root, "repo");

	if (j == NULL) {
		fields_problem(f, "repo", "is required");
		return NULL;
	}
	if (j->type != JSON_STRING || !repo_name_valid(j->str)) {
		fields_problem(f, "repo", "must be a GitHub repository such "
		    "as octo/widgets");
		return NULL;
	}
	return j->str;
}

int
fields_target(struct fields *f, struct arena *arena, const struct json *root,
    enum target_type *type, int32_t *number)
{
	static const char *const names[] = { "type", "number", NULL };
	const struct json	*t = json_get(root, "target"), *j;
	size_t			 before = f->faults;
	int64_t			 n;

	if (t == NULL) {
		fields_problem(f, "target", "is required");
		return -1;
	}
	if (t->type != JSON_OBJECT) {
		fields_problem(f, "target", "must be an object with type and "
		    "number");
		return -1;
	}
	fields_unknown(f, arena, t, names, "target.");

	if ((j = json_get(t, "type")) == NULL)
		fields_problem(f, "target.type", "is required");
	else if (j->type != JSON_STRING || target_type_parse(j->str, type) ==
	    -1)
		fields_problem(f, "target.type", "must be \"issue\" or "
		    "\"pull_request\"");

	if ((j = json_get(t, "number")) == NULL)
		fields_problem(f, "target.number", "is required");
	else if (json_int(j, 1, TARGET_NUMBER_MAX, &n) == -1)
		fields_problem(f, "target.number", "must be an integer from 1 "
		    "to 2147483647");
	else
		*number = (int32_t)n;
	return f->faults == before ? 0 : -1;
}

int
fields_answer(const struct fields *f, struct response *resp)
{
	if (f->faults == 0)
		return 0;
	resp_validation(resp, "The request has invalid fields; see details.",
	    f->d, f->n);
	return -1;
}
