/*
 * github.c: the GitHub REST API client, over libcurl.
 *
 * The easy handle is reset before each request, which keeps its
 * connections and caches, and every option is set again, so no setting
 * of one request leaks into the next.  Secrets pass through as few
 * buffers as can be, and each is wiped when done with: the Authorization
 * header and curl's list of headers, the JWT, the token, and the body of
 * a token's answer.
 */
#include <config.h>	/* the build's, not infra/config.h beside this file */

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>
#include <hiredis/hiredis.h>
#include <json-c/json.h>

#include "domain/arena.h"
#include "domain/buf.h"
#include "domain/error.h"
#include "domain/runner_io.h"
#include "domain/text.h"
#include "infra/clock.h"
#include "infra/config.h"
#include "infra/github.h"
#include "infra/github_quota_redis.h"
#include "infra/jwt.h"
#include "infra/log.h"
#include "infra/redis.h"

#define DEFAULT_API_URL		"https://api.github.com"
#define DEFAULT_TIMEOUT_MS	10000
#define TOKEN_KEY_PREFIX	"gt:ghtoken:"
#define PATH_MAX_LEN		2048	/* a path with its query */
#define HEADER_VALUE_MAX	4096	/* a longer header is not read */
#define NUMBER_MAX		10000000000LL /* in a header; 2286 in s */
#define REF_MAX			1024	/* bytes of a branch name */
#define COMMENT_MAX		65536	/* code points: GitHub's limit */
#define MESSAGE_MAX		200	/* of GitHub's message, logged */
#define JSON_DEPTH		32

struct github {
	CURL		*curl;
	struct rconn	*redis;		/* token cache; not owned, or NULL */
	char		*api_url;	/* without a trailing '/' */
	long		 app_id;	/* 0 when no App is configured */
	char		*pem;		/* the App's key; wiped when freed */
	long		 timeout_ms;
	char		 user_agent[64];
	char		 errbuf[CURL_ERROR_SIZE];

	/* The last answer, as read. */
	struct buf	 body;
	int		 too_large;	/* body over GITHUB_BODY_MAX */
	int64_t		 retry_after_s;
	int64_t		 rate_remaining;
	int64_t		 rate_reset_s;
	char		 next_cursor[GITHUB_CURSOR_MAX]; /* "" for none */
};

/* The methods a request may use. */
static const char *const methods[] = {
	"GET", "POST", "PATCH", "PUT", "DELETE"
};

/* The reactions GitHub knows. */
static const char *const reactions[] = {
	"+1", "-1", "laugh", "confused", "heart", "hooray", "rocket", "eyes"
};

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

const char *
github_outcome_name(enum github_outcome o)
{
	switch (o) {
	case GITHUB_OK:
		return "ok";
	case GITHUB_RATE_LIMITED:
		return "rate_limited";
	case GITHUB_TRANSIENT:
		return "transient";
	case GITHUB_PERMANENT:
		return "permanent";
	}
	return "unknown";
}

struct github *
github_new(const struct config *cfg, struct rconn *redis)
{
	struct github	*gh;
	const char	*url;
	size_t		 len;

	if ((gh = calloc(1, sizeof(*gh))) == NULL)
		return NULL;
	buf_init(&gh->body);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		free(gh);
		return NULL;
	}
	gh->redis = redis;
	gh->app_id = cfg->github_app_id;
	gh->timeout_ms = cfg->github_timeout_ms > 0 ? cfg->github_timeout_ms :
	    DEFAULT_TIMEOUT_MS;
	(void)snprintf(gh->user_agent, sizeof(gh->user_agent),
	    "gittinkerer/%s", PACKAGE_VERSION);

	url = cfg->github_api_url != NULL ? cfg->github_api_url :
	    DEFAULT_API_URL;
	for (len = strlen(url); len > 0 && url[len - 1] == '/'; len--)
		;
	if ((gh->api_url = strndup(url, len)) == NULL)
		goto out_free;
	if (cfg->github_private_key != NULL &&
	    (gh->pem = strdup(cfg->github_private_key)) == NULL)
		goto out_free;
	if ((gh->curl = curl_easy_init()) == NULL)
		goto out_free;
	return gh;

out_free:
	github_free(gh);
	return NULL;
}

void
github_free(struct github *gh)
{
	if (gh == NULL)
		return;
	if (gh->curl != NULL)
		curl_easy_cleanup(gh->curl);
	if (gh->pem != NULL) {
		explicit_bzero(gh->pem, strlen(gh->pem));
		free(gh->pem);
	}
	if (gh->body.data != NULL)
		explicit_bzero(gh->body.data, gh->body.cap);
	buf_free(&gh->body);
	free(gh->api_url);
	free(gh);
	curl_global_cleanup();
}

/* Empties *res: no request made yet. */
static void
result_init(struct github_result *res)
{
	memset(res, 0, sizeof(*res));
	res->outcome = GITHUB_OK;
	res->body = "";
	res->retry_after_s = -1;
	res->rate_remaining = -1;
	res->rate_reset_s = -1;
}

/*
 * Logs a request that failed, or one refused before it was made (status
 * 0).  why is curl's message or GitHub's, neither of which holds what
 * was sent.
 */
static void
log_failure(const char *method, const char *path,
    const struct github_result *res, const char *why)
{
	char	 status[24], at[CLOCK_RFC3339_LEN];

	(void)snprintf(status, sizeof(status), "%ld", res->status);
	log_event(res->outcome == GITHUB_PERMANENT ? LOG_ERROR : LOG_WARN,
	    "github_request_failed", "method", method, "path", path,
	    "status", status, "outcome", github_outcome_name(res->outcome),
	    "retry_at", res->outcome == GITHUB_RATE_LIMITED ?
	    clock_format_rfc3339(res->retry_at_ms, at, sizeof(at)) : NULL,
	    "error", why, NULL);
}

/* Fails a request before it is made: logged, no retry can help. */
static enum gt_err
refuse(struct github_result *res, const char *method, const char *path,
    const char *why)
{
	res->outcome = GITHUB_PERMANENT;
	log_failure(method, path, res, why);
	return GT_ERR_INVALID;
}

/*
 * Parses the n bytes at text as one JSON value with nothing but white
 * space after it.  Returns it, which the caller puts, or NULL.
 */
static json_object *
json_read(const char *text, size_t n)
{
	json_tokener	*tok;
	json_object	*o;
	size_t		 end;

	if (n == 0 || n > INT_MAX ||
	    (tok = json_tokener_new_ex(JSON_DEPTH)) == NULL)
		return NULL;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	o = json_tokener_parse_ex(tok, text, (int)n);
	if (o != NULL && json_tokener_get_error(tok) == json_tokener_success) {
		end = json_tokener_get_parse_end(tok);
		while (end < n && strchr(" \t\r\n", text[end]) != NULL)
			end++;
		if (end != n) {
			json_object_put(o);
			o = NULL;
		}
	} else {
		json_object_put(o);
		o = NULL;
	}
	json_tokener_free(tok);
	return o;
}

/*
 * The string member key of o when it is a string of 1 to max bytes
 * without a NUL inside, else NULL.  Valid while o is.
 */
static const char *
json_str(json_object *o, const char *key, size_t max)
{
	json_object	*v;
	const char	*s;
	size_t		 len;

	if (!json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	s = json_object_get_string(v);
	len = (size_t)json_object_get_string_len(v);
	if (len == 0 || len > max || strlen(s) != len)
		return NULL;
	return s;
}

/*
 * GitHub's message in the error answer now in the handle, cut to fit
 * out; "" when there is none.
 */
static const char *
answer_message(struct github *gh, char *out, size_t outlen)
{
	json_object	*o;
	const char	*msg;

	out[0] = '\0';
	if ((o = json_read(buf_str(&gh->body), gh->body.len)) == NULL)
		return out;
	if ((msg = json_str(o, "message", SIZE_MAX)) != NULL)
		(void)snprintf(out, outlen, "%s", msg);
	json_object_put(o);
	return out;
}

/*
 * Parses a header's number: decimal digits only, at most NUMBER_MAX.
 * Returns it, or -1.
 */
static int64_t
parse_count(const char *s)
{
	int64_t	 v;

	if (*s < '0' || *s > '9' || parse_int64(s, 0, NUMBER_MAX, &v) == -1)
		return -1;
	return v;
}

/*
 * Parses retry-after, in seconds: delay-seconds or an HTTP-date (RFC 9110
 * section 10.2.3); a date in the past is 0.  Returns -1 for anything
 * else.
 */
static int64_t
parse_retry_after(const char *s)
{
	int64_t	 now_s, v;
	time_t	 t;

	if ((v = parse_count(s)) != -1)
		return v;
	if ((t = curl_getdate(s, NULL)) == (time_t)-1)
		return -1;
	now_s = clock_now_ms() / 1000;
	v = (int64_t)t - now_s;
	return v < 0 ? 0 : v > NUMBER_MAX ? NUMBER_MAX : v;
}

/*
 * Whether c may appear in a page cursor: RFC 3986's unreserved
 * characters and '%' of an escape, so that it goes back into a query
 * as it came.
 */
static int
cursor_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || strchr("-._~%", c) != NULL;
}

static int
cursor_ok(const char *s)
{
	size_t	 n = strlen(s);

	if (n == 0 || n >= GITHUB_CURSOR_MAX)
		return 0;
	for (; *s != '\0'; s++)
		if (!cursor_char(*s))
			return 0;
	return 1;
}

/*
 * Finds the cursor of the rel="next" link in a Link header (RFC 8288),
 * as GitHub paginates /app/hook/deliveries:
 *
 *	<https://api.github.com/app/hook/deliveries?per_page=2&cursor=v1_1>;
 *	    rel="next"
 *
 * and copies it into out (GITHUB_CURSOR_MAX bytes); out is left alone
 * when there is none or it holds a character cursor_char() refuses.
 */
static void
parse_link_next(char *value, char *out)
{
	char	*link, *save = NULL, *lt, *gt, *q, *end;
	size_t	 n;

	for (link = strtok_r(value, ",", &save); link != NULL;
	    link = strtok_r(NULL, ",", &save)) {
		if ((lt = strchr(link, '<')) == NULL ||
		    (gt = strchr(lt, '>')) == NULL)
			continue;
		if (strstr(gt, "rel=\"next\"") == NULL &&
		    strstr(gt, "rel=next") == NULL)
			continue;
		*gt = '\0';
		if ((q = strstr(lt, "?cursor=")) == NULL &&
		    (q = strstr(lt, "&cursor=")) == NULL)
			return;
		q += strlen("?cursor=");
		n = (end = strchr(q, '&')) == NULL ? strlen(q) :
		    (size_t)(end - q);
		if (n == 0 || n >= GITHUB_CURSOR_MAX)
			return;
		memcpy(out, q, n);
		out[n] = '\0';
		if (!cursor_ok(out))
			out[0] = '\0';
		return;
	}
}

/* Whether the n bytes at s are the header name, in any case. */
static int
header_is(const char *s, size_t n, const char *name)
{
	return n == strlen(name) && strncasecmp(s, name, n) == 0;
}

/*
 * libcurl's header callback: reads the rate limit headers and Link, by
 * name in any case (RFC 9110 section 5.1).  A status line starts a new
 * answer (after a 100 Continue, say): what the one before said is
 * forgotten.
 */
static size_t
on_header(char *data, size_t size, size_t nmemb, void *arg)
{
	struct github	*gh = arg;
	size_t		 n = size * nmemb, namelen, vlen;
	const char	*colon, *v;
	char		 value[HEADER_VALUE_MAX];

	if (n >= 5 && memcmp(data, "HTTP/", 5) == 0) {
		gh->retry_after_s = gh->rate_remaining = gh->rate_reset_s = -1;
		gh->next_cursor[0] = '\0';
		return n;
	}
	if ((colon = memchr(data, ':', n)) == NULL)
		return n;
	namelen = (size_t)(colon - data);

	/* The value without the white space around it (OWS) and CR LF. */
	v = colon + 1;
	vlen = n - namelen - 1;
	while (vlen > 0 && (*v == ' ' || *v == '\t')) {
		v++;
		vlen--;
	}
	while (vlen > 0 && strchr(" \t\r\n", v[vlen - 1]) != NULL)
		vlen--;
	if (vlen >= sizeof(value) || memchr(v, '\0', vlen) != NULL)
		return n;
	memcpy(value, v, vlen);
	value[vlen] = '\0';

	if (header_is(data, namelen, "retry-after"))
		gh->retry_after_s = parse_retry_after(value);
	else if (header_is(data, namelen, "x-ratelimit-remaining"))
		gh->rate_remaining = parse_count(value);
	else if (header_is(data, namelen, "x-ratelimit-reset"))
		gh->rate_reset_s = parse_count(value);
	else if (header_is(data, namelen, "link"))
		parse_link_next(value, gh->next_cursor);
	return n;
}

/* libcurl's write callback: keeps the body, up to GITHUB_BODY_MAX. */
static size_t
on_body(char *data, size_t size, size_t nmemb, void *arg)
{
	struct github	*gh = arg;
	size_t		 n = size * nmemb;

	if (n > GITHUB_BODY_MAX - gh->body.len) {
		gh->too_large = 1;
		return 0;
	}
	if (buf_add(&gh->body, data, n) == -1)
		return 0;
	return n;
}

/*
 * Whether an answer of this status is a rate limit, as GitHub documents
 * them ("Rate limits for the REST API"): a 429, or a 403 that says so by
 * its headers or, for a secondary limit without retry-after, by its
 * message.  Any other 403 is a permission refused.
 */
static int
is_rate_limit(struct github *gh, long status)
{
	char	 msg[MESSAGE_MAX];

	if (status == 429)
		return 1;
	if (status != 403)
		return 0;
	if (gh->rate_remaining == 0 || gh->retry_after_s >= 0)
		return 1;
	return strcasestr(answer_message(gh, msg, sizeof(msg)),
	    "rate limit") != NULL;
}

/* When a rate-limited request may be made again, in epoch ms. */
static int64_t
retry_at(const struct github *gh)
{
	int64_t	 now = clock_now_ms(), at = 0;

	if (gh->retry_after_s >= 0)
		at = now + gh->retry_after_s * 1000;
	if (gh->rate_remaining == 0 && gh->rate_reset_s >= 0 &&
	    gh->rate_reset_s * 1000 > at)
		at = gh->rate_reset_s * 1000;
	if (at == 0)
		at = now + (int64_t)GITHUB_RATE_WAIT_S * 1000;
	return at < now ? now : at;
}

/*
 * Sorts the answer (or the failure to get one) into res's outcome and
 * returns the error code that goes with it; *why says what failed.
 */
static enum gt_err
classify(struct github *gh, CURLcode cc, struct github_result *res,
    const char **why)
{
	*why = NULL;
	if (cc == CURLE_OK) {
		if (res->status >= 200 && res->status <= 299) {
			res->outcome = GITHUB_OK;
			return GT_OK;
		}
		if (is_rate_limit(gh, res->status)) {
			res->outcome = GITHUB_RATE_LIMITED;
			res->retry_at_ms = retry_at(gh);
			return GT_ERR_RATE_LIMITED;
		}
		if (res->status >= 500 || res->status == 408) {
			res->outcome = GITHUB_TRANSIENT;
			return GT_ERR_UNAVAILABLE;
		}
		res->outcome = GITHUB_PERMANENT;
		return res->status == 404 ? GT_ERR_NOT_FOUND : GT_ERR_INVALID;
	}

	*why = gh->errbuf[0] != '\0' ? gh->errbuf : curl_easy_strerror(cc);
	if (gh->too_large) {
		*why = "answer over 1 MiB";
		res->outcome = GITHUB_PERMANENT;
		return GT_ERR_TOO_LARGE;
	}
	if (cc == CURLE_OUT_OF_MEMORY || gh->body.oom) {
		*why = "out of memory";
		res->outcome = GITHUB_TRANSIENT;
		return GT_ERR_NOMEM;
	}
	if (cc == CURLE_URL_MALFORMAT || cc == CURLE_UNSUPPORTED_PROTOCOL ||
	    cc == CURLE_BAD_FUNCTION_ARGUMENT) {
		res->outcome = GITHUB_PERMANENT;
		return GT_ERR_INVALID;
	}

	/* Timeouts, refused or cut connections, TLS trouble, and the rest. */
	res->outcome = GITHUB_TRANSIENT;
	return GT_ERR_UNAVAILABLE;
}

/* Whether path can go into a URL as it is: '/' then visible ASCII. */
static int
path_ok(const char *path)
{
	size_t	 n = strlen(path);

	if (n == 0 || n > PATH_MAX_LEN || path[0] != '/' ||
	    strstr(path, "/../") != NULL)
		return 0;
	for (; *path != '\0'; path++)
		if (*path < 0x21 || *path > 0x7e)
			return 0;
	return 1;
}

static int
method_ok(const char *method)
{
	size_t	 i;

	for (i = 0; i < NELEM(methods); i++)
		if (strcmp(method, methods[i]) == 0)
			return 1;
	return 0;
}

/* Wipes the header lines, which hold the credential, before curl frees. */
static void
headers_free(struct curl_slist *headers)
{
	struct curl_slist	*h;

	for (h = headers; h != NULL; h = h->next)
		explicit_bzero(h->data, strlen(h->data));
	curl_slist_free_all(headers);
}

/*
 * Sets the options of one request.  Returns 0, or -1 when libcurl
 * refuses one.
 */
static int
set_options(struct github *gh, const char *url, const char *method,
    const char *json, struct curl_slist *headers)
{
	CURL		*c = gh->curl;
	curl_off_t	 len = json != NULL ? (curl_off_t)strlen(json) : 0;

	if (curl_easy_setopt(c, CURLOPT_URL, url) != CURLE_OK ||
#if LIBCURL_VERSION_NUM >= 0x075500	/* 7.85.0 */
	    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https") !=
	    CURLE_OK ||
#else
	    curl_easy_setopt(c, CURLOPT_PROTOCOLS,
	    (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS)) != CURLE_OK ||
#endif
	    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, gh->timeout_ms) !=
	    CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, gh->timeout_ms) !=
	    CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_USERAGENT, gh->user_agent) !=
	    CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "") != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, gh->errbuf) !=
	    CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_WRITEDATA, gh) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header) !=
	    CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_HEADERDATA, gh) != CURLE_OK)
		return -1;

	if (strcmp(method, "GET") == 0)
		return curl_easy_setopt(c, CURLOPT_HTTPGET, 1L) == CURLE_OK ?
		    0 : -1;
	if (strcmp(method, "POST") != 0 &&
	    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method) != CURLE_OK)
		return -1;
	if (json == NULL && strcmp(method, "DELETE") == 0)
		return 0;

	/* A POST without a body still sends Content-Length: 0. */
	if (curl_easy_setopt(c, CURLOPT_POSTFIELDS, json != NULL ? json : "")
	    != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, len) != CURLE_OK)
		return -1;
	return 0;
}

/*
 * The request's header lines, authz ("Authorization: ...") among them,
 * or NULL when memory is short.  "Expect:" keeps curl from waiting for a
 * 100 Continue before a large body: GitHub has no use for the pause.
 */
static struct curl_slist *
make_headers(const char *authz, int has_body)
{
	const char		*lines[] = {
		"Accept: application/vnd.github+json",
		"X-GitHub-Api-Version: 2022-11-28",
		"Expect:",
		authz,
		has_body ? "Content-Type: application/json" : NULL
	};
	struct curl_slist	*headers = NULL, *h;
	size_t			 i;

	for (i = 0; i < NELEM(lines) && lines[i] != NULL; i++) {
		if ((h = curl_slist_append(headers, lines[i])) == NULL) {
			headers_free(headers);
			return NULL;
		}
		headers = h;
	}
	return headers;
}

/*
 * Makes one request with the Authorization header's value auth and fills
 * *res, which result_init() prepared.  A failure is logged.
 */
static enum gt_err
perform(struct github *gh, const char *method, const char *path,
    const char *auth, const char *json, struct github_result *res)
{
	struct curl_slist	*headers = NULL;
	struct buf		 url, authz;
	const char		*why;
	char			 msg[MESSAGE_MAX];
	CURLcode		 cc;
	enum gt_err		 err;

	if (!method_ok(method) || !path_ok(path))
		return refuse(res, method, path, "bad method or path");

	buf_reset(&gh->body);
	gh->too_large = 0;
	gh->errbuf[0] = '\0';
	gh->retry_after_s = gh->rate_remaining = gh->rate_reset_s = -1;
	gh->next_cursor[0] = '\0';

	buf_init(&url);
	buf_init(&authz);
	(void)buf_printf(&url, "%s%s", gh->api_url, path);
	(void)buf_printf(&authz, "Authorization: %s", auth);
	if (url.oom || authz.oom ||
	    (headers = make_headers(buf_str(&authz), json != NULL)) == NULL) {
		err = GT_ERR_NOMEM;
		res->outcome = GITHUB_TRANSIENT;
		log_failure(method, path, res, "out of memory");
		goto out_free;
	}

	curl_easy_reset(gh->curl);
	cc = set_options(gh, buf_str(&url), method, json, headers) == 0 ?
	    curl_easy_perform(gh->curl) : CURLE_BAD_FUNCTION_ARGUMENT;
	(void)curl_easy_getinfo(gh->curl, CURLINFO_RESPONSE_CODE,
	    &res->status);

	err = classify(gh, cc, res, &why);
	res->body = buf_str(&gh->body);
	res->len = gh->body.len;
	res->retry_after_s = gh->retry_after_s;
	res->rate_remaining = gh->rate_remaining;
	res->rate_reset_s = gh->rate_reset_s;
	res->next_cursor = gh->next_cursor[0] != '\0' ? gh->next_cursor :
	    NULL;

	/* For /metrics: the quota this answer left, shared in Redis. */
	github_quota_record(gh->redis, gh->rate_remaining, gh->rate_reset_s,
	    clock_now_ms() / 1000);

	if (err != GT_OK)
		log_failure(method, path, res, why != NULL ? why :
		    answer_message(gh, msg, sizeof(msg)));

out_free:
	headers_free(headers);
	if (authz.data != NULL)
		explicit_bzero(authz.data, authz.len);
	buf_free(&authz);
	buf_free(&url);
	return err;
}

enum gt_err
github_app_request(struct github *gh, const char *method, const char *path,
    const char *json, struct github_result *res)
{
	struct github_result	 local;
	char			 jwt[JWT_MAX_LEN], auth[JWT_MAX_LEN + 8];
	enum gt_err		 err;

	if (res == NULL)
		res = &local;
	result_init(res);
	if (gh->app_id == 0)
		return refuse(res, method, path, "no github app configured");

	err = jwt_app_token(gh->pem, gh->app_id, clock_now_ms() / 1000, jwt,
	    sizeof(jwt));
	if (err != GT_OK) {
		res->outcome = err == GT_ERR_INVALID ? GITHUB_PERMANENT :
		    GITHUB_TRANSIENT;
		log_failure(method, path, res, "cannot make the app's jwt");
		return err;
	}
	(void)snprintf(auth, sizeof(auth), "Bearer %s", jwt);
	err = perform(gh, method, path, auth, json, res);

	explicit_bzero(jwt, sizeof(jwt));
	explicit_bzero(auth, sizeof(auth));
	return err;
}

/* Whether the n bytes at s can be a token: visible ASCII, nothing else. */
static int
token_ok(const char *s, size_t n)
{
	size_t	 i;

	if (n == 0)
		return 0;
	for (i = 0; i < n; i++)
		if (s[i] < 0x21 || s[i] > 0x7e)
			return 0;
	return 1;
}

/* The installation's key in the cache. */
static void
token_key(char *key, size_t keylen, int64_t installation_id)
{
	(void)snprintf(key, keylen, TOKEN_KEY_PREFIX "%lld",
	    (long long)installation_id);
}

/*
 * Reads the installation's token from the cache into out.  Returns GT_OK,
 * GT_ERR_NOT_FOUND when none is cached, GT_ERR_TOO_LARGE when it does not
 * fit in out, or GT_ERR_UNAVAILABLE when Redis cannot be asked.
 */
static enum gt_err
cache_get(struct github *gh, const char *key, char *out, size_t outlen)
{
	const char	*argv[] = { "GET", key };
	size_t		 argvlen[] = { 3, strlen(key) };
	redisReply	*r;
	enum gt_err	 err = GT_ERR_NOT_FOUND;

	if (gh->redis == NULL)
		return GT_ERR_UNAVAILABLE;
	if ((r = rconn_command(gh->redis, 2, argv, argvlen)) == NULL)
		return GT_ERR_UNAVAILABLE;

	if (r->type == REDIS_REPLY_STRING && token_ok(r->str, r->len)) {
		if (r->len < outlen) {
			memcpy(out, r->str, r->len);
			out[r->len] = '\0';
			err = GT_OK;
		} else
			err = GT_ERR_TOO_LARGE;
	} else if (r->type != REDIS_REPLY_NIL)
		log_event(LOG_WARN, "github_token_cache_failed", "op", "get",
		    "key", key, "error", "not a token", NULL);
	if (r->type == REDIS_REPLY_STRING)
		explicit_bzero(r->str, r->len);
	freeReplyObject(r);
	return err;
}

/* Sends a cache command whose reply only tells whether it worked. */
static void
cache_command(struct github *gh, const char *op, int argc,
    const char **argv, const size_t *argvlen)
{
	redisReply	*r;

	if (gh->redis == NULL)
		return;
	if ((r = rconn_command(gh->redis, argc, argv, argvlen)) == NULL)
		return;	/* logged as redis_unavailable */
	if (r->type == REDIS_REPLY_ERROR)
		log_event(LOG_WARN, "github_token_cache_failed", "op", op,
		    "key", argv[1], "error", r->str, NULL);
	freeReplyObject(r);
}

/* Caches the token for ttl_ms: a key that expires, whatever happens. */
static void
cache_put(struct github *gh, const char *key, const char *token,
    int64_t ttl_ms)
{
	char		 ttl[24];
	const char	*argv[] = { "SET", key, token, "PX", ttl };
	size_t		 argvlen[5];
	int		 i;

	(void)snprintf(ttl, sizeof(ttl), "%lld", (long long)ttl_ms);
	for (i = 0; i < 5; i++)
		argvlen[i] = strlen(argv[i]);
	cache_command(gh, "set", 5, argv, argvlen);
}

static void
cache_drop(struct github *gh, const char *key)
{
	const char	*argv[] = { "DEL", key };
	size_t		 argvlen[] = { 3, strlen(key) };

	cache_command(gh, "del", 2, argv, argvlen);
}

/* The number of the n digits at s, or -1 when one is not a digit. */
static int
digits(const char *s, int n)
{
	int	 v = 0, i;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/*
 * Parses an RFC 3339 date-time (section 5.6), "2025-03-03T10:14:10Z" as
 * GitHub writes expires_at, with an optional fraction (dropped) and
 * either Z or a numeric offset.  Returns 0 with epoch ms in *ms, or -1.
 */
int
github_parse_time(const char *s, int64_t *ms)
{
	struct tm	 tm;
	const char	*p;
	time_t		 t;
	int		 off = 0, oh, om;

	if (strlen(s) < 20 || s[4] != '-' || s[7] != '-' ||
	    (s[10] != 'T' && s[10] != 't') || s[13] != ':' || s[16] != ':')
		return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = digits(s, 4);
	tm.tm_mon = digits(s + 5, 2);
	tm.tm_mday = digits(s + 8, 2);
	tm.tm_hour = digits(s + 11, 2);
	tm.tm_min = digits(s + 14, 2);
	tm.tm_sec = digits(s + 17, 2);
	if (tm.tm_year < 1970 || tm.tm_mon < 1 || tm.tm_mon > 12 ||
	    tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour < 0 ||
	    tm.tm_hour > 23 || tm.tm_min < 0 || tm.tm_min > 59 ||
	    tm.tm_sec < 0 || tm.tm_sec > 60)
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;

	p = s + 19;
	if (*p == '.') {
		if (p[1] < '0' || p[1] > '9')
			return -1;
		for (p++; *p >= '0' && *p <= '9'; p++)
			;
	}
	if (*p == 'Z' || *p == 'z')
		p++;
	else if ((*p == '+' || *p == '-') && strlen(p) >= 6 && p[3] == ':') {
		if ((oh = digits(p + 1, 2)) == -1 || oh > 23 ||
		    (om = digits(p + 4, 2)) == -1 || om > 59)
			return -1;
		off = (*p == '+' ? 1 : -1) * (oh * 3600 + om * 60);
		p += 6;
	} else
		return -1;
	if (*p != '\0' || (t = timegm(&tm)) == (time_t)-1)
		return -1;
	*ms = ((int64_t)t - off) * 1000;
	return 0;
}

/*
 * Reads the token and its expiry (0 when not given or malformed) from an
 * access_tokens answer in the handle.  Returns GT_OK, GT_ERR_TOO_LARGE
 * when it does not fit in out, or GT_ERR_INVALID.
 */
static enum gt_err
read_token(struct github *gh, char *out, size_t outlen, int64_t *expires_ms)
{
	json_object	*o;
	const char	*token, *expires;
	enum gt_err	 err = GT_ERR_INVALID;
	size_t		 n;

	*expires_ms = 0;
	if ((o = json_read(buf_str(&gh->body), gh->body.len)) == NULL)
		return GT_ERR_INVALID;
	if ((token = json_str(o, "token", SIZE_MAX)) != NULL &&
	    token_ok(token, n = strlen(token))) {
		if (n < outlen) {
			memcpy(out, token, n + 1);
			err = GT_OK;
		} else
			err = GT_ERR_TOO_LARGE;
	}
	if ((expires = json_str(o, "expires_at", 64)) == NULL ||
	    github_parse_time(expires, expires_ms) == -1)
		*expires_ms = 0;
	json_object_put(o);
	return err;
}

/*
 * Asks GitHub for a token of the installation, writes it into out and
 * caches it under key until GITHUB_TOKEN_MARGIN_S before it expires.
 */
static enum gt_err
token_fetch(struct github *gh, int64_t installation_id, const char *key,
    char *out, size_t outlen, struct github_result *res)
{
	char		 path[80];
	int64_t		 expires_ms, ttl_ms;
	enum gt_err	 err;

	(void)snprintf(path, sizeof(path), "/app/installations/%lld/"
	    "access_tokens", (long long)installation_id);
	if ((err = github_app_request(gh, "POST", path, NULL, res)) != GT_OK)
		return err;

	err = read_token(gh, out, outlen, &expires_ms);
	if (gh->body.data != NULL)
		explicit_bzero(gh->body.data, gh->body.len);
	buf_reset(&gh->body);
	res->body = "";
	res->len = 0;
	if (err != GT_OK) {
		res->outcome = GITHUB_PERMANENT;
		log_failure("POST", path, res, err == GT_ERR_TOO_LARGE ?
		    "token too long" : "answer without a token");
		return err;
	}

	/* A token about to expire is still used once, not shared. */
	ttl_ms = expires_ms - clock_now_ms() -
	    (int64_t)GITHUB_TOKEN_MARGIN_S * 1000;
	if (expires_ms == 0)
		log_event(LOG_WARN, "github_token_uncached", "installation",
		    key + strlen(TOKEN_KEY_PREFIX), "error",
		    "no valid expires_at", NULL);
	else if (ttl_ms >= 1000)
		cache_put(gh, key, out, ttl_ms);
	return GT_OK;
}

/*
 * A token of the installation into out, from the cache or from GitHub;
 * *cached tells which.
 */
static enum gt_err
token_get(struct github *gh, int64_t installation_id, char *out,
    size_t outlen, int *cached, struct github_result *res)
{
	char		 key[64];
	enum gt_err	 err;

	*cached = 0;
	if (outlen > 0)
		out[0] = '\0';
	if (gh->app_id == 0)
		return refuse(res, "POST", "/app/installations/-/access_tokens",
		    "no github app configured");
	if (installation_id <= 0)
		return refuse(res, "POST", "/app/installations/-/access_tokens",
		    "installation id not positive");
	if (outlen == 0) {
		res->outcome = GITHUB_PERMANENT;
		return GT_ERR_TOO_LARGE;
	}
	token_key(key, sizeof(key), installation_id);

	switch (err = cache_get(gh, key, out, outlen)) {
	case GT_OK:
		*cached = 1;
		return GT_OK;
	case GT_ERR_TOO_LARGE:
		res->outcome = GITHUB_PERMANENT;
		return err;
	default:
		break;
	}
	return token_fetch(gh, installation_id, key, out, outlen, res);
}

enum gt_err
github_installation_token(struct github *gh, int64_t installation_id,
    char *out, size_t outlen, struct github_result *res)
{
	struct github_result	 local;
	int			 cached;

	if (res == NULL)
		res = &local;
	result_init(res);
	return token_get(gh, installation_id, out, outlen, &cached, res);
}

enum gt_err
github_repo_request(struct github *gh, int64_t installation_id,
    const char *method, const char *path, const char *json,
    struct github_result *res)
{
	struct github_result	 local;
	char			 token[GITHUB_TOKEN_MAX];
	char			 auth[GITHUB_TOKEN_MAX + 8], key[64];
	enum gt_err		 err;
	int			 cached;

	if (res == NULL)
		res = &local;
	result_init(res);
	err = token_get(gh, installation_id, token, sizeof(token), &cached,
	    res);
	if (err != GT_OK)
		goto out_wipe;
	(void)snprintf(auth, sizeof(auth), "token %s", token);
	err = perform(gh, method, path, auth, json, res);

	/*
	 * A cached token GitHub no longer takes (revoked, or the App was
	 * reinstalled) would be refused until it expired: drop it and try
	 * once more with a new one.
	 */
	if (res->status == 401 && cached) {
		token_key(key, sizeof(key), installation_id);
		cache_drop(gh, key);
		result_init(res);
		err = token_fetch(gh, installation_id, key, token,
		    sizeof(token), res);
		if (err != GT_OK)
			goto out_wipe;
		(void)snprintf(auth, sizeof(auth), "token %s", token);
		result_init(res);
		err = perform(gh, method, path, auth, json, res);
	}

out_wipe:
	explicit_bzero(token, sizeof(token));
	explicit_bzero(auth, sizeof(auth));
	return err;
}

/* Whether s is 1 to max characters of the set chars, or alphanumerics. */
static int
name_ok(const char *s, size_t n, size_t max, const char *chars)
{
	size_t	 i;

	if (n == 0 || n > max)
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') ||
		    strchr(chars, s[i]) != NULL))
			return 0;
	return 1;
}

/*
 * Whether repo is "owner/name" as GitHub allows: an owner of 1-39
 * letters, digits and '-', a name of 1-100 letters, digits, '.', '-' and
 * '_' other than "." and "..".  It goes into a URL path as it is.
 */
static int
repo_ok(const char *repo)
{
	const char	*slash;
	size_t		 n;

	if (repo == NULL || (slash = strchr(repo, '/')) == NULL)
		return 0;
	n = strlen(slash + 1);
	return name_ok(repo, (size_t)(slash - repo), 39, "-") &&
	    name_ok(slash + 1, n, 100, ".-_") &&
	    strcmp(slash + 1, ".") != 0 && strcmp(slash + 1, "..") != 0;
}

/* Whether s is a commit id: 40 (SHA-1) or 64 (SHA-256) hex digits. */
static int
sha_ok(const char *s)
{
	size_t	 n = strlen(s), i;

	if (n != 40 && n != 64)
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

/*
 * Writes "/repos/<repo>/<rest>" into path.  Returns 0, or -1 (refused in
 * *res) when repo or a number is malformed.
 */
static int
repo_path(char *path, size_t pathlen, struct github_result *res,
    const char *method, const char *repo, const char *what, int64_t a,
    const char *rest)
{
	int	 n;

	if (!repo_ok(repo)) {
		(void)refuse(res, method, "/repos/-", "malformed repository");
		return -1;
	}
	if (a <= 0) {
		(void)refuse(res, method, "/repos/-", "number not positive");
		return -1;
	}
	n = snprintf(path, pathlen, "/repos/%s/%s/%lld%s", repo, what,
	    (long long)a, rest);
	if (n < 0 || (size_t)n >= pathlen) {
		(void)refuse(res, method, "/repos/-", "path too long");
		return -1;
	}
	return 0;
}

enum gt_err
github_pull(struct github *gh, struct arena *a, int64_t installation_id,
    const char *repo, int64_t number, struct pull_info *out,
    struct github_result *res)
{
	struct github_result	 local;
	json_object		*root = NULL, *head, *base;
	const char		*head_ref = NULL, *head_sha = NULL;
	const char		*base_ref = NULL;
	char			 path[256];
	enum gt_err		 err;

	if (res == NULL)
		res = &local;
	result_init(res);
	memset(out, 0, sizeof(*out));
	if (repo_path(path, sizeof(path), res, "GET", repo, "pulls", number,
	    "") == -1)
		return GT_ERR_INVALID;
	err = github_repo_request(gh, installation_id, "GET", path, NULL, res);
	if (err != GT_OK)
		return err;

	if ((root = json_read(res->body, res->len)) != NULL &&
	    json_object_object_get_ex(root, "head", &head) &&
	    json_object_object_get_ex(root, "base", &base)) {
		head_ref = json_str(head, "ref", REF_MAX);
		head_sha = json_str(head, "sha", 64);
		base_ref = json_str(base, "ref", REF_MAX);
	}
	if (head_ref == NULL || head_sha == NULL || !sha_ok(head_sha) ||
	    base_ref == NULL) {
		res->outcome = GITHUB_PERMANENT;
		log_failure("GET", path, res, "no head.ref, head.sha or "
		    "base.ref of the right type");
		err = GT_ERR_INVALID;
		goto out_put;
	}

	out->head_ref = arena_strdup(a, head_ref);
	out->head_sha = arena_strdup(a, head_sha);
	out->base_ref = arena_strdup(a, base_ref);
	if (out->head_ref == NULL || out->head_sha == NULL ||
	    out->base_ref == NULL) {
		memset(out, 0, sizeof(*out));
		res->outcome = GITHUB_TRANSIENT;
		err = GT_ERR_NOMEM;
	}

out_put:
	json_object_put(root);
	return err;
}

enum gt_err
github_react(struct github *gh, int64_t installation_id, const char *repo,
    enum github_comment_kind kind, int64_t comment_id, const char *content,
    struct github_result *res)
{
	struct github_result	 local;
	char			 path[256], json[64];
	size_t			 i;

	if (res == NULL)
		res = &local;
	result_init(res);
	for (i = 0; i < NELEM(reactions); i++)
		if (content != NULL && strcmp(content, reactions[i]) == 0)
			break;
	if (i == NELEM(reactions))
		return refuse(res, "POST", "/repos/-", "unknown reaction");
	if (repo_path(path, sizeof(path), res, "POST", repo,
	    kind == GITHUB_REVIEW_COMMENT ? "pulls/comments" :
	    "issues/comments", comment_id, "/reactions") == -1)
		return GT_ERR_INVALID;

	/* The content is one of the names above: nothing to escape. */
	(void)snprintf(json, sizeof(json), "{\"content\":\"%s\"}", content);
	return github_repo_request(gh, installation_id, "POST", path, json,
	    res);
}

/* The body of a comment: {"body": text}; the caller puts it. */
static json_object *
comment_body(const char *text, size_t n)
{
	json_object	*o, *s;

	if ((o = json_object_new_object()) == NULL)
		return NULL;
	if ((s = json_object_new_string_len(text, (int)n)) == NULL ||
	    json_object_object_add(o, "body", s) != 0) {
		json_object_put(s);
		json_object_put(o);
		return NULL;
	}
	return o;
}

enum gt_err
github_comment(struct github *gh, int64_t installation_id, const char *repo,
    int64_t number, const char *text, struct github_result *res)
{
	struct github_result	 local;
	json_object		*o;
	const char		*json = NULL;
	char			 path[256];
	enum gt_err		 err;
	size_t			 n;

	if (res == NULL)
		res = &local;
	result_init(res);
	if (text == NULL || !utf8_valid(text, n = strlen(text)) ||
	    utf8_count(text, n) > COMMENT_MAX)
		return refuse(res, "POST", "/repos/-", "comment not UTF-8, "
		    "or over 65536 code points");
	if (repo_path(path, sizeof(path), res, "POST", repo, "issues",
	    number, "/comments") == -1)
		return GT_ERR_INVALID;

	if ((o = comment_body(text, n)) == NULL ||
	    (json = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE)) == NULL) {
		json_object_put(o);
		res->outcome = GITHUB_TRANSIENT;
		log_failure("POST", path, res, "out of memory");
		return GT_ERR_NOMEM;
	}
	err = github_repo_request(gh, installation_id, "POST", path, json, res);
	json_object_put(o);
	return err;
}

enum gt_err
github_hook_deliveries(struct github *gh, int per_page, const char *cursor,
    struct github_result *res)
{
	struct github_result	 local;
	char			 path[64 + GITHUB_CURSOR_MAX];

	if (res == NULL)
		res = &local;
	result_init(res);
	if (per_page < 1 || per_page > 100 ||
	    (cursor != NULL && !cursor_ok(cursor)))
		return refuse(res, "GET", "/app/hook/deliveries",
		    "bad per_page or cursor");
	(void)snprintf(path, sizeof(path),
	    "/app/hook/deliveries?per_page=%d%s%s", per_page,
	    cursor != NULL ? "&cursor=" : "", cursor != NULL ? cursor : "");
	return github_app_request(gh, "GET", path, NULL, res);
}

enum gt_err
github_redeliver(struct github *gh, int64_t delivery_id,
    struct github_result *res)
{
	struct github_result	 local;
	char			 path[80];

	if (res == NULL)
		res = &local;
	result_init(res);
	if (delivery_id <= 0)
		return refuse(res, "POST", "/app/hook/deliveries/-/attempts",
		    "delivery id not positive");
	(void)snprintf(path, sizeof(path), "/app/hook/deliveries/%lld/attempts",
	    (long long)delivery_id);
	return github_app_request(gh, "POST", path, NULL, res);
}
