/*
 * response.c: preparing answers and the contract's error bodies.
 */
#include <config.h>

#include <string.h>
#include <unistd.h>

#include "domain/arena.h"
#include "http/response.h"

void
resp_init(struct response *r)
{
	memset(r, 0, sizeof(*r));
	buf_init(&r->body);
	r->file_fd = -1;
}

void
resp_reset(struct response *r, struct arena *arena)
{
	r->arena = arena;
	r->status = 200;
	r->content_type = CONTENT_TYPE_JSON;
	r->nheaders = 0;
	buf_reset(&r->body);
	jw_init(&r->jw, &r->body);
	if (r->file_fd >= 0)
		close(r->file_fd);
	r->file_fd = -1;
	r->file_len = 0;
}

void
resp_free(struct response *r)
{
	if (r == NULL)
		return;
	buf_free(&r->body);
	if (r->file_fd >= 0)
		close(r->file_fd);
	r->file_fd = -1;
}

int
resp_header(struct response *r, const char *name, const char *value)
{
	char	*copy;

	if (strpbrk(value, "\r\n") != NULL || r->nheaders == RESP_MAX_HEADERS)
		return -1;
	if ((copy = arena_strdup(r->arena, value)) == NULL)
		return -1;
	r->headers[r->nheaders].name = name;
	r->headers[r->nheaders].value = copy;
	r->nheaders++;
	return 0;
}

struct jsonw *
resp_json(struct response *r, int status)
{
	r->status = status;
	r->content_type = CONTENT_TYPE_JSON;
	buf_reset(&r->body);
	jw_init(&r->jw, &r->body);
	return &r->jw;
}

struct buf *
resp_body(struct response *r, int status, const char *content_type)
{
	r->status = status;
	r->content_type = content_type;
	buf_reset(&r->body);
	jw_init(&r->jw, &r->body);
	return &r->body;
}

static void
error_body(struct response *r, int status, const char *code,
    const char *message, const struct resp_detail *details, size_t n)
{
	struct jsonw	*w;
	size_t		 i;

	if (r->file_fd >= 0) {
		close(r->file_fd);
		r->file_fd = -1;
	}
	w = resp_json(r, status);
	jw_object_open(w);
	jw_key(w, "error");
	jw_object_open(w);
	jw_key(w, "code");
	jw_string(w, code);
	jw_key(w, "message");
	jw_string(w, message);
	if (details != NULL) {
		jw_key(w, "details");
		jw_array_open(w);
		for (i = 0; i < n; i++) {
			jw_object_open(w);
			jw_key(w, "field");
			jw_string(w, details[i].field);
			jw_key(w, "message");
			jw_string(w, details[i].message);
			jw_object_close(w);
		}
		jw_array_close(w);
	}
	jw_object_close(w);
	jw_object_close(w);
}

void
resp_error(struct response *r, int status, const char *code,
    const char *message)
{
	error_body(r, status, code, message, NULL, 0);
}

void
resp_validation(struct response *r, const char *message,
    const struct resp_detail *details, size_t n)
{
	error_body(r, 400, "validation_failed", message, details, n);
}

void
resp_from_err(struct response *r, enum gt_err e, const char *message)
{
	static const struct {
		int		 status;
		const char	*code;
	} map[] = {
		[GT_OK] = { 500, "internal" },
		[GT_ERR_INVALID] = { 400, "validation_failed" },
		[GT_ERR_NOT_FOUND] = { 404, "not_found" },
		[GT_ERR_CONFLICT] = { 409, "invalid_transition" },
		[GT_ERR_TRANSITION] = { 409, "invalid_transition" },
		[GT_ERR_PAUSED_REPO] = { 409, "repo_paused" },
		[GT_ERR_PAUSED_TARGET] = { 409, "target_paused" },
		[GT_ERR_RATE_LIMITED] = { 429, "rate_limited" },
		[GT_ERR_IDEMPOTENCY] = { 422, "idempotency_key_reused" },
		[GT_ERR_UNAVAILABLE] = { 503, "unavailable" },
		[GT_ERR_TOO_LARGE] = { 413, "payload_too_large" },
		[GT_ERR_NOMEM] = { 500, "internal" },
		[GT_ERR_IO] = { 500, "internal" },
		[GT_ERR_INTERNAL] = { 500, "internal" },
	};

	if ((unsigned)e >= sizeof(map) / sizeof(map[0]))
		e = GT_ERR_INTERNAL;
	if (map[e].status == 500)
		message = "The service hit an unexpected error; it has been "
		    "logged with this request's id.";
	else if (e == GT_ERR_UNAVAILABLE && message == NULL)
		message = "The service cannot reach its database right now; "
		    "retry in a few seconds.";
	error_body(r, map[e].status, map[e].code,
	    message != NULL ? message : gt_err_name(e), NULL, 0);
}

void
resp_file(struct response *r, int fd, off_t len, const char *content_type)
{
	buf_reset(&r->body);
	if (r->file_fd >= 0)
		close(r->file_fd);
	r->status = 200;
	r->file_fd = fd;
	r->file_len = len;
	r->content_type = content_type;
}

const char *
resp_reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
	case 204: return "No Content";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 413: return "Content Too Large";
	case 415: return "Unsupported Media Type";
	case 422: return "Unprocessable Content";
	case 429: return "Too Many Requests";
	case 500: return "Internal Server Error";
	case 503: return "Service Unavailable";
	default: return "Unknown";
	}
}
