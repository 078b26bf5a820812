/*
 * sentry.h: reporting unexpected errors to Sentry.
 *
 * When sentry_dsn is configured, an error is sent as one event in an
 * envelope to the project's envelope endpoint ("Envelopes", Sentry's
 * developer documentation): POST <scheme>://<host>/api/<project>/
 * envelope/ with the DSN's public key in X-Sentry-Auth.  The event holds
 * a message the caller wrote, the program, the release, the environment,
 * the host name, and, for a request, its id and route; never a token, a
 * secret, a header or a body.  Sending takes at most sentry_timeout_ms
 * (a second at most) and its failure is logged, never passed on: a
 * report cannot fail what it reports on.  Without a DSN nothing is sent.
 *
 * A DSN is "<scheme>://<public key>@<host>[:<port>][/<path>]/<project>",
 * scheme http or https, the project a number.
 */
#ifndef GT_SENTRY_H
#define GT_SENTRY_H

#include <stddef.h>

struct config;
struct sentry;

#define SENTRY_URL_MAX	1024	/* an endpoint URL and its NUL */
#define SENTRY_KEY_MAX	128	/* a public key and its NUL */

/*
 * Whether dsn is a DSN as above; fills the endpoint URL (of urllen
 * bytes) and the public key (of keylen bytes).  Returns 0, or -1 for a
 * malformed DSN or one too long for the buffers.
 */
int		 sentry_dsn_parse(const char *dsn, char *url, size_t urllen,
		    char *key, size_t keylen);

/*
 * A reporter for program ("worker", "dispatcher", ...) on cfg, which
 * must outlive it.  Without a DSN it reports nothing.  NULL when memory
 * is short or libcurl cannot start.  Free with sentry_free().
 */
struct sentry	*sentry_new(const struct config *cfg, const char *program);
void		 sentry_free(struct sentry *);

/* Whether reports are sent at all. */
int		 sentry_enabled(const struct sentry *);

/*
 * Sends message (one line, no secret in it) as an error event, with the
 * request's id and route when not NULL.  Returns 0 when Sentry took it
 * (2xx), -1 otherwise (not configured, or the send failed; logged as
 * event=sentry_failed).  Accepts a NULL reporter.
 */
int		 sentry_report(struct sentry *, const char *message,
		    const char *request_id, const char *route);

#endif
