/*
 * client.c: the end-to-end tests' HTTP client, on libcurl.
 */
#include <config.h>

#include <sys/wait.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <check.h>
#include <curl/curl.h>

#include "e2e/client.h"

const char	*client_url;
const char	*client_stack_dir;
const char	*client_src_dir;
const char	*client_operator_token;
const char	*client_admin_token;

void
client_init(void)
{
	client_url = getenv("GT_URL");
	client_stack_dir = getenv("GT_STACK_DIR");
	client_src_dir = getenv("GT_SRCDIR");
	client_operator_token = getenv("GT_OPERATOR_TOKEN");
	client_admin_token = getenv("GT_ADMIN_TOKEN");
	if (client_url == NULL || client_stack_dir == NULL ||
	    client_src_dir == NULL || client_operator_token == NULL ||
	    client_admin_token == NULL) {
		fprintf(stderr, "GT_URL, GT_STACK_DIR, GT_SRCDIR, "
		    "GT_OPERATOR_TOKEN and GT_ADMIN_TOKEN must be set "
		    "(t/stack-tests.sh sets them)\n");
		exit(1);
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

int64_t
now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static size_t
on_body(char *data, size_t size, size_t n, void *arg)
{
	struct answer	*a = arg;
	char		*grown;

	if ((grown = realloc(a->body, a->len + size * n + 1)) == NULL)
		return 0;
	a->body = grown;
	memcpy(a->body + a->len, data, size * n);
	a->len += size * n;
	a->body[a->len] = '\0';
	return size * n;
}

static size_t
on_header(char *line, size_t size, size_t n, void *arg)
{
	struct answer	*a = arg;
	size_t		 len = size * n;

	/* A status line starts a new set of headers (after a 100). */
	if (len >= 5 && strncmp(line, "HTTP/", 5) == 0) {
		while (a->nheaders > 0)
			free(a->headers[--a->nheaders]);
		return len;
	}
	while (len > 0 && (line[len - 1] == '\r' || line[len - 1] == '\n'))
		len--;
	if (len > 0 && a->nheaders < ANSWER_MAX_HEADERS)
		a->headers[a->nheaders++] = strndup(line, len);
	return size * n;
}

void
http_request(const char *method, const char *path, const char *body,
    size_t bodylen, const char *const *headers, struct answer *a)
{
	CURL			*c;
	struct curl_slist	*hl = NULL;
	char			 url[4096];
	CURLcode		 rc;
	int64_t			 start;

	memset(a, 0, sizeof(*a));
	snprintf(url, sizeof(url), "%s%s", client_url, path);
	c = curl_easy_init();
	ck_assert_ptr_nonnull(c);
	for (; headers != NULL && *headers != NULL; headers++)
		hl = curl_slist_append(hl, *headers);
	/* No "Expect: 100-continue": the body goes at once. */
	hl = curl_slist_append(hl, "Expect:");
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, a);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, a);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 15000L);
	curl_easy_setopt(c, CURLOPT_PATH_AS_IS, 1L);
	if (body != NULL) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)bodylen);
	}

	start = now_ms();
	rc = curl_easy_perform(c);
	a->ms = now_ms() - start;
	ck_assert_msg(rc == CURLE_OK, "%s %s: %s", method, path,
	    curl_easy_strerror(rc));
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &a->status);
	curl_slist_free_all(hl);
	curl_easy_cleanup(c);
	if (a->body == NULL)
		a->body = calloc(1, 1);
	ck_assert_ptr_nonnull(a->body);
}

void
http_as(const char *token, const char *method, const char *path,
    const char *body, const char *const *headers, struct answer *a)
{
	const char	*all[16];
	char		 auth[512];
	size_t		 n = 0;

	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
	all[n++] = auth;
	if (body != NULL)
		all[n++] = "Content-Type: application/json";
	for (; headers != NULL && *headers != NULL && n < 15; headers++)
		all[n++] = *headers;
	all[n] = NULL;
	http_request(method, path, body, body != NULL ? strlen(body) : 0, all,
	    a);
}

void
answer_free(struct answer *a)
{
	while (a->nheaders > 0)
		free(a->headers[--a->nheaders]);
	free(a->body);
	a->body = NULL;
}

const char *
answer_header(const struct answer *a, const char *name)
{
	size_t		 i, nl = strlen(name);
	const char	*v;

	for (i = 0; i < a->nheaders; i++) {
		if (strncasecmp(a->headers[i], name, nl) != 0 ||
		    a->headers[i][nl] != ':')
			continue;
		for (v = a->headers[i] + nl + 1; *v == ' ' || *v == '\t'; v++)
			;
		return v;
	}
	return NULL;
}

json_object *
answer_json(const struct answer *a)
{
	json_object	*o = json_tokener_parse(a->body);

	ck_assert_msg(o != NULL && json_object_is_type(o, json_type_object),
	    "not a JSON object: %s", a->body);
	return o;
}

json_object *
json_at(json_object *o, const char *path)
{
	char		 key[128];
	const char	*dot;
	size_t		 n;

	while ((dot = strchr(path, '.')) != NULL) {
		n = (size_t)(dot - path);
		ck_assert_uint_lt(n, sizeof(key));
		memcpy(key, path, n);
		key[n] = '\0';
		if (!json_object_object_get_ex(o, key, &o))
			return NULL;
		path = dot + 1;
	}
	if (!json_object_object_get_ex(o, path, &o))
		return NULL;
	return o;
}

const char *
json_str_at(json_object *o, const char *path)
{
	json_object	*v = json_at(o, path);

	if (v == NULL || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

void
assert_error(const struct answer *a, long status, const char *code)
{
	json_object	*o;
	const char	*msg, *ct, *cc, *id;

	ck_assert_msg(a->status == status, "status %ld, want %ld: %s",
	    a->status, status, a->body);
	ct = answer_header(a, "Content-Type");
	cc = answer_header(a, "Cache-Control");
	id = answer_header(a, "X-Request-Id");
	ck_assert_pstr_eq(ct, "application/json; charset=utf-8");
	ck_assert_pstr_eq(cc, "no-store");
	ck_assert_ptr_nonnull(id);
	ck_assert_uint_gt(strlen(id), 0);
	o = answer_json(a);
	ck_assert_pstr_eq(json_str_at(o, "error.code"), code);
	msg = json_str_at(o, "error.message");
	ck_assert_ptr_nonnull(msg);
	ck_assert_uint_gt(strlen(msg), 0);
	json_object_put(o);
}

void
assert_validation_names(const struct answer *a, const char *field)
{
	json_object	*o, *details, *d;
	const char	*name;
	size_t		 i, n;
	int		 found = 0;

	assert_error(a, 400, "validation_failed");
	o = answer_json(a);
	details = json_at(o, "error.details");
	ck_assert_msg(details != NULL &&
	    json_object_is_type(details, json_type_array), "no details: %s",
	    a->body);
	n = json_object_array_length(details);
	for (i = 0; i < n; i++) {
		d = json_object_array_get_idx(details, i);
		name = json_str_at(d, "field");
		if (name != NULL && strcmp(name, field) == 0)
			found = 1;
	}
	ck_assert_msg(found, "%s not named in %s", field, a->body);
	json_object_put(o);
}

void
stack_cmd(const char *cmd)
{
	char	 script[4096];
	pid_t	 pid;
	int	 status;

	snprintf(script, sizeof(script), "%s/t/stack.sh", client_src_dir);
	pid = fork();
	ck_assert_int_ne(pid, -1);
	if (pid == 0) {
		execlp("bash", "bash", script, cmd, client_stack_dir,
		    (char *)NULL);
		_exit(127);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "t/stack.sh %s failed", cmd);
}
