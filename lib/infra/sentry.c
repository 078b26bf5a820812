/*
 * sentry.c: reporting unexpected errors to Sentry, over libcurl.
 */
#include <config.h>	/* the build's, not infra/config.h */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include "domain/buf.h"
#include "domain/jsonw.h"
#include "infra/clock.h"
#include "infra/config.h"
#include "infra/log.h"
#include "infra/random.h"
#include "infra/sentry.h"

#define MESSAGE_MAX	1000	/* bytes of a message that are sent */

struct sentry {
	CURL			*curl;		/* NULL: reports are not sent */
	char			 url[SENTRY_URL_MAX];
	char			 auth[SENTRY_KEY_MAX + 128];
	const char		*program;
	const char		*environment;
	long			 timeout_ms;
	char			 host[256];
};

int
sentry_dsn_parse(const char *dsn, char *url, size_t urllen, char *key,
    size_t keylen)
{
	const char	*p, *at, *slash, *project;
	size_t		 schemelen, n;
	int		 w;

	if (dsn == NULL)
		return -1;
	if (strncmp(dsn, "https://", 8) == 0)
		schemelen = 8;
	else if (strncmp(dsn, "http://", 7) == 0)
		schemelen = 7;
	else
		return -1;

	/* The public key: letters and digits, before the '@'. */
	p = dsn + schemelen;
	if ((at = strchr(p, '@')) == NULL || at == p ||
	    (size_t)(at - p) >= keylen)
		return -1;
	for (n = 0; p + n < at; n++)
		if (!((p[n] >= 'a' && p[n] <= 'z') || (p[n] >= 'A' &&
		    p[n] <= 'Z') || (p[n] >= '0' && p[n] <= '9')))
			return -1;
	memcpy(key, p, n);
	key[n] = '\0';

	/* The host, an optional path, and the project's number last. */
	p = at + 1;
	if ((slash = strchr(p, '/')) == NULL || slash == p ||
	    strcspn(p, "?#@ ") < strlen(p))
		return -1;
	project = strrchr(slash, '/') + 1;
	if (*project == '\0' || strspn(project, "0123456789") !=
	    strlen(project))
		return -1;
	w = snprintf(url, urllen, "%.*s%.*sapi/%s/envelope/", (int)schemelen,
	    dsn, (int)(project - p), p, project);
	return w < 0 || (size_t)w >= urllen ? -1 : 0;
}

struct sentry *
sentry_new(const struct config *cfg, const char *program)
{
	struct sentry	*s;
	char		 key[SENTRY_KEY_MAX];

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	s->program = program;
	s->environment = cfg->sentry_environment;
	s->timeout_ms = cfg->sentry_timeout_ms;
	if (gethostname(s->host, sizeof(s->host)) == -1)
		snprintf(s->host, sizeof(s->host), "unknown");
	s->host[sizeof(s->host) - 1] = '\0';
	if (cfg->sentry_dsn == NULL)
		return s;

	if (sentry_dsn_parse(cfg->sentry_dsn, s->url, sizeof(s->url), key,
	    sizeof(key)) == -1) {
		log_event(LOG_ERROR, "sentry_dsn_invalid", NULL);
		return s;
	}
	snprintf(s->auth, sizeof(s->auth), "X-Sentry-Auth: Sentry "
	    "sentry_version=7, sentry_key=%s, sentry_client=gittinkerer/%s",
	    key, PACKAGE_VERSION);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK ||
	    (s->curl = curl_easy_init()) == NULL) {
		log_event(LOG_ERROR, "sentry_failed", "error",
		    "libcurl could not start", NULL);
		free(s);
		return NULL;
	}
	return s;
}

void
sentry_free(struct sentry *s)
{
	if (s == NULL)
		return;
	if (s->curl != NULL)
		curl_easy_cleanup(s->curl);
	free(s);
}

int
sentry_enabled(const struct sentry *s)
{
	return s != NULL && s->curl != NULL;
}

/* Sentry's answer is not read. */
static size_t
discard(char *data, size_t size, size_t n, void *ctx)
{
	(void)data;
	(void)ctx;
	return size * n;
}

/* The event, one JSON object, into b. */
static void
event_json(const struct sentry *s, struct buf *b, const char *id,
    const char *when, const char *message, const char *request_id,
    const char *route)
{
	struct jsonw	 w;
	size_t		 len = strlen(message);

	jw_init(&w, b);
	jw_object_open(&w);
	jw_key(&w, "event_id");
	jw_string(&w, id);
	jw_key(&w, "timestamp");
	jw_string(&w, when);
	jw_key(&w, "platform");
	jw_string(&w, "c");
	jw_key(&w, "level");
	jw_string(&w, "error");
	jw_key(&w, "logger");
	jw_string(&w, s->program);
	jw_key(&w, "release");
	jw_string(&w, "gittinkerer@" PACKAGE_VERSION);
	jw_key(&w, "environment");
	jw_string(&w, s->environment);
	jw_key(&w, "server_name");
	jw_string(&w, s->host);
	jw_key(&w, "message");
	jw_object_open(&w);
	jw_key(&w, "formatted");
	jw_stringn(&w, message, len > MESSAGE_MAX ? MESSAGE_MAX : len);
	jw_object_close(&w);
	jw_key(&w, "tags");
	jw_object_open(&w);
	jw_key(&w, "program");
	jw_string(&w, s->program);
	if (request_id != NULL) {
		jw_key(&w, "request_id");
		jw_string(&w, request_id);
	}
	if (route != NULL) {
		jw_key(&w, "route");
		jw_string(&w, route);
	}
	jw_object_close(&w);
	jw_object_close(&w);
}

int
sentry_report(struct sentry *s, const char *message, const char *request_id,
    const char *route)
{
	struct curl_slist	*headers = NULL, *h;
	struct buf		 event, env;
	char			 id[33], when[64];
	long			 status = 0;
	CURLcode		 rc = CURLE_FAILED_INIT;
	int			 ok = -1;

	if (!sentry_enabled(s) || message == NULL)
		return -1;
	if (random_hex(id, 16) == -1)
		return -1;
	clock_format_rfc3339(clock_now_ms(), when, sizeof(when));

	/* An envelope: its header, the item's header, the item. */
	buf_init(&event);
	buf_init(&env);
	event_json(s, &event, id, when, message, request_id, route);
	buf_printf(&env, "{\"event_id\":\"%s\",\"sent_at\":\"%s\"}\n"
	    "{\"type\":\"event\",\"length\":%zu}\n", id, when, event.len);
	buf_add(&env, event.data, event.len);
	buf_putc(&env, '\n');
	if (event.oom || env.oom)
		goto out_free;

	if ((h = curl_slist_append(NULL, "Content-Type: "
	    "application/x-sentry-envelope")) == NULL)
		goto out_free;
	headers = h;
	if ((h = curl_slist_append(headers, s->auth)) == NULL)
		goto out_free;
	headers = h;

	curl_easy_reset(s->curl);
	if (curl_easy_setopt(s->curl, CURLOPT_URL, s->url) != CURLE_OK ||
#if LIBCURL_VERSION_NUM >= 0x075500	/* 7.85.0 */
	    curl_easy_setopt(s->curl, CURLOPT_PROTOCOLS_STR, "http,https") !=
	    CURLE_OK ||
#else
	    curl_easy_setopt(s->curl, CURLOPT_PROTOCOLS,
	    (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS)) != CURLE_OK ||
#endif
	    curl_easy_setopt(s->curl, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
	    curl_easy_setopt(s->curl, CURLOPT_TIMEOUT_MS, s->timeout_ms) !=
	    CURLE_OK ||
	    curl_easy_setopt(s->curl, CURLOPT_CONNECTTIMEOUT_MS,
	    s->timeout_ms) != CURLE_OK ||
	    curl_easy_setopt(s->curl, CURLOPT_HTTPHEADER, headers) !=
	    CURLE_OK ||
	    curl_easy_setopt(s->curl, CURLOPT_USERAGENT,
	    "gittinkerer/" PACKAGE_VERSION) != CURLE_OK ||
	    curl_easy_setopt(s->curl, CURLOPT_POSTFIELDS, env.data) !=
	    CURLE_OK ||
	    curl_easy_setopt(s->curl, CURLOPT_POSTFIELDSIZE_LARGE,
	    (curl_off_t)env.len) != CURLE_OK ||
	    curl_easy_setopt(s->curl, CURLOPT_WRITEFUNCTION, discard) !=
	    CURLE_OK)
		goto out_free;
	rc = curl_easy_perform(s->curl);
	if (rc == CURLE_OK)
		(void)curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE,
		    &status);
	ok = rc == CURLE_OK && status >= 200 && status <= 299 ? 0 : -1;

out_free:
	if (ok == -1) {
		char	 st[16];

		snprintf(st, sizeof(st), "%ld", status);
		log_event(LOG_WARN, "sentry_failed", "status", st, "error",
		    rc == CURLE_OK ? "refused" : curl_easy_strerror(rc), NULL);
	}
	curl_slist_free_all(headers);
	buf_free(&env);
	buf_free(&event);
	return ok;
}
