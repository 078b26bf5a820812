/*
 * github_quota_redis.c: recording and reading GitHub's quota in Redis.
 */
#include <config.h>	/* the build's, not infra/config.h */

#include <stdio.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "domain/text.h"
#include "infra/github_quota_redis.h"
#include "infra/log.h"
#include "infra/redis.h"

#define VALUE_MAX	48	/* two int64s, a space and the NUL */
#define FIGURE_MAX	10000000000LL	/* as github.c reads a header */

void
github_quota_record(struct rconn *rc, int64_t remaining, int64_t reset_s,
    int64_t now_s)
{
	char		 value[VALUE_MAX], ttl[24];
	const char	*argv[] = { "SET", GITHUB_QUOTA_KEY, value, "EX", ttl };
	size_t		 argvlen[5];
	int64_t		 secs;
	redisReply	*r;
	int		 i;

	if (rc == NULL || remaining < 0)
		return;
	if (reset_s < 0)
		reset_s = -1;
	secs = reset_s > now_s ? reset_s - now_s : GITHUB_QUOTA_TTL_DEF_S;
	if (secs > GITHUB_QUOTA_TTL_MAX_S)
		secs = GITHUB_QUOTA_TTL_MAX_S;

	(void)snprintf(value, sizeof(value), "%lld %lld",
	    (long long)remaining, (long long)reset_s);
	(void)snprintf(ttl, sizeof(ttl), "%lld", (long long)secs);
	for (i = 0; i < 5; i++)
		argvlen[i] = strlen(argv[i]);

	if ((r = rconn_command(rc, 5, argv, argvlen)) == NULL)
		return;	/* logged as redis_unavailable */
	if (r->type == REDIS_REPLY_ERROR)
		log_event(LOG_WARN, "github_quota_record_failed", "error",
		    r->str, NULL);
	freeReplyObject(r);
}

/* Parses "REMAINING RESET" into out; returns 0, or -1 when malformed. */
static int
parse_value(const char *s, size_t len, struct github_quota *out)
{
	char		 copy[VALUE_MAX];
	char		*space;

	if (len >= sizeof(copy) || memchr(s, '\0', len) != NULL)
		return -1;
	memcpy(copy, s, len);
	copy[len] = '\0';
	if ((space = strchr(copy, ' ')) == NULL)
		return -1;
	*space = '\0';
	if (parse_int64(copy, 0, FIGURE_MAX, &out->remaining) == -1 ||
	    parse_int64(space + 1, -1, FIGURE_MAX, &out->reset_s) == -1)
		return -1;
	return 0;
}

static enum gt_err
quota_read(void *ctx, int timeout_ms, struct github_quota *out)
{
	struct rconn	*rc = ctx;
	const char	*argv[] = { "GET", GITHUB_QUOTA_KEY };
	size_t		 argvlen[] = { 3, sizeof(GITHUB_QUOTA_KEY) - 1 };
	redisReply	*r;
	enum gt_err	 e = GT_ERR_NOT_FOUND;

	if (rconn_ping(rc, timeout_ms) == -1)
		return GT_ERR_UNAVAILABLE;
	if ((r = rconn_command(rc, 2, argv, argvlen)) == NULL)
		return GT_ERR_UNAVAILABLE;

	if (r->type == REDIS_REPLY_STRING &&
	    parse_value(r->str, r->len, out) == 0)
		e = GT_OK;
	else if (r->type != REDIS_REPLY_NIL)
		log_event(LOG_WARN, "github_quota_unreadable", "key",
		    GITHUB_QUOTA_KEY, NULL);
	freeReplyObject(r);
	return e;
}

void
github_quota_redis_port(struct rconn *rc, struct gauge_ports *out)
{
	out->cache_ctx = rc;
	out->github_quota = quota_read;
}
