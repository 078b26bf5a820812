/*
 * github.h: the GitHub REST API client, as the GitHub App.
 *
 * One handle per process, over one libcurl handle, so connections to
 * GitHub are kept and reused.  Every request is bounded by
 * github_timeout_ms (connecting included), and sends the headers GitHub
 * asks for: Accept application/vnd.github+json, X-GitHub-Api-Version
 * 2022-11-28 and a User-Agent naming the service.  Redirects are not
 * followed: an answer that is one is a permanent failure.
 *
 * Two identities are used.  The App itself, by a JWT (jwt.h), for the
 * /app endpoints; an installation, by an installation token, for a
 * repository's endpoints.  Installation tokens are kept in Redis (key
 * gt:ghtoken:<installation id>) until five minutes before they expire,
 * so every process shares one; when Redis is down or not given, a token
 * is asked from GitHub each time it is needed.
 *
 * Nothing logged holds a token, a JWT or the key.  Each failed request
 * is logged once as event=github_request_failed with its method, path,
 * status, outcome and why.
 *
 * Note: with CURLOPT_NOSIGNAL set (so that timeouts work without
 * SIGALRM), a program using this module must ignore SIGPIPE, as it must
 * for redis.h.
 */
#ifndef GT_GITHUB_H
#define GT_GITHUB_H

#include <stddef.h>
#include <stdint.h>

#include "domain/error.h"

struct arena;
struct config;
struct pull_info;
struct rconn;
struct github;

#define GITHUB_BODY_MAX		(1024 * 1024)	/* longer answers fail */
#define GITHUB_TOKEN_MAX	4096	/* a token and its NUL */
#define GITHUB_CURSOR_MAX	256	/* a page cursor and its NUL */
#define GITHUB_RATE_WAIT_S	60	/* when a limit names no time */
#define GITHUB_TOKEN_MARGIN_S	300	/* a token this near expiry is old */

/* What became of a request: what a caller that retries acts on. */
enum github_outcome {
	GITHUB_OK = 0,		/* a 2xx answer, in body */
	GITHUB_RATE_LIMITED,	/* over a limit: retry at retry_at_ms */
	GITHUB_TRANSIENT,	/* 5xx, 408, timeout, no connection: retry
				   later, with backoff */
	GITHUB_PERMANENT	/* any other answer, or a request that could
				   not be made: retrying cannot help */
};

/*
 * The result of a request.  The functions below return an enum gt_err
 * that agrees with it:
 *
 *	GITHUB_OK		GT_OK
 *	GITHUB_RATE_LIMITED	GT_ERR_RATE_LIMITED
 *	GITHUB_TRANSIENT	GT_ERR_UNAVAILABLE (GT_ERR_NOMEM when memory
 *				was short)
 *	GITHUB_PERMANENT	GT_ERR_NOT_FOUND for a 404, GT_ERR_TOO_LARGE
 *				for an answer over GITHUB_BODY_MAX, else
 *				GT_ERR_INVALID (a bad argument or
 *				configuration, an unexpected answer, no App
 *				configured)
 *
 * A rate limit is a 429, or a 403 with x-ratelimit-remaining 0 (the
 * primary limit), with retry-after (a secondary limit) or whose message
 * names a rate limit.  retry_at_ms is then the latest of the times the
 * headers give (x-ratelimit-reset when remaining is 0; now plus
 * retry-after), or GITHUB_RATE_WAIT_S from now when neither is given,
 * as GitHub's documentation asks.  Nothing is retried here: that is the
 * caller's decision.
 */
struct github_result {
	enum github_outcome	 outcome;
	long		 status;	/* HTTP status; 0 when none came */

	/*
	 * The answer's body, NUL-terminated, "" when none.  Owned by the
	 * handle and valid until its next request; a token's answer is
	 * wiped, not kept.
	 */
	const char	*body;
	size_t		 len;

	int64_t		 retry_at_ms;	/* RATE_LIMITED: epoch ms; else 0 */

	/* The rate headers as read; -1 when absent or malformed. */
	int64_t		 retry_after_s;	/* retry-after, seconds */
	int64_t		 rate_remaining; /* x-ratelimit-remaining */
	int64_t		 rate_reset_s;	/* x-ratelimit-reset, epoch s */

	/*
	 * The cursor parameter of the Link header's rel="next" page, for
	 * github_hook_deliveries(); NULL when there is none.  Owned by the
	 * handle, like body.
	 */
	const char	*next_cursor;
};

/*
 * A handle for GitHub as cfg describes it (github_api_url, github_app_id,
 * github_private_key, github_timeout_ms), caching installation tokens
 * in redis, which may be NULL and is not owned: it must outlive the
 * handle.  With github_app_id 0 every request fails with GT_ERR_INVALID
 * and makes no request.  Returns NULL when memory is short or libcurl
 * cannot start.  The caller frees it with github_free().
 */
struct github	*github_new(const struct config *cfg, struct rconn *redis);

/* Frees the handle and wipes the key it copied.  Accepts NULL. */
void		 github_free(struct github *);

/*
 * Sends method (GET, POST, PATCH, PUT or DELETE) to path (beginning with
 * '/', with its query if any) as the App, with json as the body when not
 * NULL.  For the /app endpoints: POST /app/installations/{id}/
 * access_tokens, GET /app/hook/deliveries, POST /app/hook/deliveries/
 * {id}/attempts.  Fills *res (which may be NULL) and returns as above.
 */
enum gt_err	 github_app_request(struct github *, const char *method,
		    const char *path, const char *json,
		    struct github_result *res);

/*
 * As github_app_request(), as the installation, with its token.  When a
 * token from the cache is refused (401: revoked, or the App reinstalled),
 * it is dropped and the request is made once more with a new one.  When
 * no token can be had, *res describes the token's request.
 */
enum gt_err	 github_repo_request(struct github *,
		    int64_t installation_id, const char *method,
		    const char *path, const char *json,
		    struct github_result *res);

/*
 * Writes a token of the installation into out (outlen bytes, at most
 * GITHUB_TOKEN_MAX needed), from the cache or else from GitHub (POST
 * /app/installations/{id}/access_tokens), which it then caches until
 * GITHUB_TOKEN_MARGIN_S before its expires_at.  A token granted for less
 * than that is returned but not cached.  res may be NULL; its status is
 * 0 when the cache answered.  Returns as above (GT_ERR_TOO_LARGE also
 * when out is too small); out holds "" on failure.  The caller wipes out
 * when done: it is a credential.
 */
enum gt_err	 github_installation_token(struct github *,
		    int64_t installation_id, char *out, size_t outlen,
		    struct github_result *res);

/*
 * GET /repos/{repo}/pulls/{number} as the installation, repo being
 * "owner/name".  Fills *out with the head branch and commit and the base
 * branch, copied into the arena.  Returns as above, GT_ERR_INVALID also
 * when repo or number is malformed (no request is made) or when the
 * answer lacks a field or has one of the wrong type.
 */
enum gt_err	 github_pull(struct github *, struct arena *,
		    int64_t installation_id, const char *repo,
		    int64_t number, struct pull_info *out,
		    struct github_result *res);

/* What a comment that gets a reaction is. */
enum github_comment_kind {
	GITHUB_ISSUE_COMMENT,	/* on an issue or pull request's thread */
	GITHUB_REVIEW_COMMENT	/* on a line of a pull request's diff */
};

/*
 * Adds the reaction content ("+1", "-1", "laugh", "confused", "heart",
 * "hooray", "rocket" or "eyes") to a comment of repo, as the
 * installation: POST /repos/{repo}/issues/comments/{id}/reactions, or
 * /pulls/comments/{id}/reactions for a review comment.  GitHub answers
 * 201, or 200 when the reaction was already there; both are GT_OK.
 */
enum gt_err	 github_react(struct github *, int64_t installation_id,
		    const char *repo, enum github_comment_kind,
		    int64_t comment_id, const char *content,
		    struct github_result *res);

/*
 * Posts text (UTF-8 Markdown, at most 65536 code points, GitHub's
 * limit) as a comment on issue or pull request number of repo, as the
 * installation: POST /repos/{repo}/issues/{number}/comments.
 */
enum gt_err	 github_comment(struct github *, int64_t installation_id,
		    const char *repo, int64_t number, const char *text,
		    struct github_result *res);

/*
 * GET /app/hook/deliveries, newest first, per_page (1-100) at a time,
 * from cursor (NULL for the first page; then res->next_cursor).  The
 * body is GitHub's array, for the caller to read.
 */
enum gt_err	 github_hook_deliveries(struct github *, int per_page,
		    const char *cursor, struct github_result *res);

/*
 * Asks GitHub to deliver the webhook delivery again: POST /app/hook/
 * deliveries/{id}/attempts, answered 202.
 */
enum gt_err	 github_redeliver(struct github *, int64_t delivery_id,
		    struct github_result *res);

/*
 * Parses a time as GitHub writes them (RFC 3339, section 5.6:
 * "2025-03-03T10:14:10Z", with an optional fraction, which is dropped,
 * and Z or a numeric offset).  Returns 0 with milliseconds since the
 * epoch in *ms, or -1.
 */
int		 github_parse_time(const char *s, int64_t *ms);

/* A short lowercase name of the outcome, for log lines; never NULL. */
const char	*github_outcome_name(enum github_outcome);

#endif
