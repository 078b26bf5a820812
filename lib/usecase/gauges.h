/*
 * gauges.h: the figures GET /metrics reads from the dependencies at each
 * scrape.
 *
 * The database gives the runs by status, the queue and the GitHub outbox;
 * the cache gives the GitHub API quota the GitHub client saw last (see
 * infra/github_quota_redis.h).  Each source gets a bounded time, so that
 * a scrape answers within a second even when a server hangs instead of
 * refusing.  A source that does not answer is reported down and its
 * figures are left out; the others are still given.
 */
#ifndef GT_GAUGES_H
#define GT_GAUGES_H

#include <stdint.h>

#include "domain/error.h"
#include "domain/run.h"

/* What the database holds now. */
struct db_figures {
	int64_t	 runs[RUN_NSTATUS];	/* by enum run_status */
	int64_t	 oldest_queued_ms;	/* its age; 0 when none is queued */
	int64_t	 outbox_pending;	/* GitHub work not done yet */
	int64_t	 outbox_failed;		/* GitHub work given up on */
};

/* GitHub's x-ratelimit-remaining and x-ratelimit-reset, as last seen. */
struct github_quota {
	int64_t	 remaining;
	int64_t	 reset_s;	/* epoch seconds; -1 when not given */
};

struct gauge_ports {
	/*
	 * Fills out from the database within timeout_ms.  Returns GT_OK,
	 * GT_ERR_UNAVAILABLE when the server did not answer in time, or
	 * GT_ERR_INTERNAL.
	 */
	void		*db_ctx;
	enum gt_err	(*db_figures)(void *ctx, int timeout_ms,
			    struct db_figures *out);

	/*
	 * Fills out from the cache within timeout_ms.  Returns GT_OK,
	 * GT_ERR_NOT_FOUND when no quota is known (none seen lately), or
	 * GT_ERR_UNAVAILABLE when the cache did not answer.
	 */
	void		*cache_ctx;
	enum gt_err	(*github_quota)(void *ctx, int timeout_ms,
			    struct github_quota *out);
};

struct gauge_report {
	int			 db_up;		/* db was read */
	struct db_figures	 db;
	int			 cache_up;	/* the cache answered */
	int			 quota_known;	/* quota was read */
	struct github_quota	 quota;
};

/*
 * Asks each source in turn, allowing each timeout_ms, and fills out.
 * What a source did not give is zero in out, with its flag cleared.
 */
void	 gauges_read(const struct gauge_ports *, int timeout_ms,
	    struct gauge_report *out);

#endif
