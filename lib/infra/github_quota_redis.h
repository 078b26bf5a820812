/*
 * github_quota_redis.h: the GitHub API quota, shared through Redis.
 *
 * The GitHub client (github.h) runs in gittinkerer-github and the
 * dispatcher; /metrics is answered by the pool's workers.  The client
 * records what each answer's x-ratelimit-remaining and x-ratelimit-reset
 * said under one key, GITHUB_QUOTA_KEY, as "REMAINING RESET" (decimal;
 * RESET in epoch seconds, -1 when GitHub gave none), and the workers read
 * it back.  The key expires at the reset time, when GitHub refills the
 * quota and the figure is stale, and within the hour whatever happens, so
 * a quota nobody has seen lately is unknown rather than wrong.
 *
 * Note: GitHub keeps one quota per installation and one for the App's own
 * requests (made with its JWT).  The key holds whichever answer came
 * last, so with several installations it moves between their figures;
 * any of them near 0 means some work is about to wait.
 */
#ifndef GT_GITHUB_QUOTA_REDIS_H
#define GT_GITHUB_QUOTA_REDIS_H

#include <stdint.h>

#include "usecase/gauges.h"

struct rconn;

#define GITHUB_QUOTA_KEY	"gt:github:ratelimit"
#define GITHUB_QUOTA_TTL_MAX_S	3600	/* GitHub's window is an hour */
#define GITHUB_QUOTA_TTL_DEF_S	60	/* when no reset time is ahead */

/*
 * Records remaining and reset_s (epoch seconds, or -1) at now_s, to
 * expire at reset_s (GITHUB_QUOTA_TTL_DEF_S when reset_s is not ahead),
 * at most GITHUB_QUOTA_TTL_MAX_S.  Does nothing when rc is NULL or
 * remaining is negative (the answer had no such header).  A failure is
 * logged and otherwise ignored: the quota is for operators, the request
 * that saw it goes on.
 */
void	 github_quota_record(struct rconn *rc, int64_t remaining,
	    int64_t reset_s, int64_t now_s);

/*
 * Fills out's cache members with a reader of the key on rc, which is
 * borrowed: it must outlive out.  The reader asks PING within its
 * timeout first, so a hung server costs a scrape that timeout alone.
 */
void	 github_quota_redis_port(struct rconn *rc, struct gauge_ports *out);

#endif
