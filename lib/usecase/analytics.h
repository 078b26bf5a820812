/*
 * analytics.h: the usage figures of GET /api/analytics.
 *
 * The window is the last `days` calendar days in UTC, today included: it
 * starts at 00:00 UTC of its first day and ends now, both ends included.
 * A run counts in it by its created_at.  The use case reads the time
 * through its clock, asks its store for the figures of the runs created
 * in the window, and completes them as the contract shows them: the
 * success rate, the statistics rounded, one entry per day of the window
 * (zeros included, oldest first), and the busiest repositories.
 *
 * Rounding is to the nearest, halves away from zero: the success rate
 * to 4 decimals, seconds to 3 (whole milliseconds).
 */
#ifndef GT_ANALYTICS_H
#define GT_ANALYTICS_H

#include <stddef.h>
#include <stdint.h>

#include "domain/error.h"

struct arena;

#define ANALYTICS_DAYS_MIN	1
#define ANALYTICS_DAYS_MAX	365
#define ANALYTICS_DAYS_DEFAULT	30
#define ANALYTICS_TOP_REPOS	10	/* the most top_repos lists */
#define ANALYTICS_DAY_MS	86400000LL

/* The runs of a window by status and by source. */
struct analytics_counts {
	int64_t	 total;
	int64_t	 queued;
	int64_t	 running;
	int64_t	 succeeded;
	int64_t	 failed;
	int64_t	 cancelled;
	int64_t	 api;
	int64_t	 webhook;
};

/*
 * How long finished runs ran (finished_at - started_at, over the runs
 * that started and finished), in seconds; none when has is 0.
 */
struct analytics_durations {
	int	 has;
	double	 avg;
	double	 p50;
	double	 p95;
};

/*
 * How long started runs waited in the queue (started_at - created_at),
 * in seconds; none when has is 0.
 */
struct analytics_waits {
	int	 has;
	double	 avg;
	double	 p95;
};

/* One calendar day (UTC) of the window, by days since 1970-01-01. */
struct analytics_day {
	int64_t	 day;
	int64_t	 total;
	int64_t	 succeeded;
	int64_t	 failed;
};

/* One repository; repo is a display name of it (names compare lower). */
struct analytics_repo {
	const char	*repo;
	int64_t		 total;
	int64_t		 succeeded;
	int64_t		 failed;
};

/* What the store reads over the runs of a window. */
struct analytics_figures {
	struct analytics_counts		 counts;
	struct analytics_durations	 durations;
	struct analytics_waits		 waits;

	/* The days that have runs, oldest first: an array of ndays. */
	struct analytics_day		*days;
	size_t				 ndays;

	/*
	 * The repositories with the most runs, at most the number asked
	 * for: by total, descending, then by lower-case name.
	 */
	struct analytics_repo		*repos;
	size_t				 nrepos;
};

/*
 * The runs, for their figures: in PostgreSQL (infra/analytics_pg.h),
 * or a fake in the unit tests.  Memory it hands back is taken from the
 * arena it is given.
 */
struct analytics_store {
	void	*ctx;

	/*
	 * The figures of the runs created from from_ms to to_ms
	 * (milliseconds since the epoch, both included), with at most
	 * top_n repositories, read in one snapshot so that they agree with
	 * each other.  GT_ERR_UNAVAILABLE when the database could not
	 * answer in time, GT_ERR_NOMEM, GT_ERR_INTERNAL (logged).
	 */
	enum gt_err (*figures)(void *ctx, struct arena *, int64_t from_ms,
	    int64_t to_ms, size_t top_n, struct analytics_figures *out);
};

struct analytics_ports {
	const struct analytics_store	*store;

	/* The real-time clock: milliseconds since the epoch. */
	int64_t				(*now_ms)(void);
};

/* The figures as GET /api/analytics shows them. */
struct analytics_report {
	/* The window: 00:00 UTC of its first day, and now. */
	int64_t				 from_ms;
	int64_t				 to_ms;
	int				 days;

	struct analytics_counts		 runs;

	/* succeeded / (succeeded + failed); none when both are 0. */
	int				 has_success_rate;
	double				 success_rate;

	struct analytics_durations	 durations;
	struct analytics_waits		 waits;

	/* Every day of the window, oldest first: days entries. */
	struct analytics_day		*per_day;

	/* At most ANALYTICS_TOP_REPOS, busiest first. */
	struct analytics_repo		*top_repos;
	size_t				 ntop_repos;
};

/*
 * Fills out with the figures of the last days calendar days (UTC).
 * Arrays and strings are in the arena; nothing needs freeing.  Returns
 * GT_OK; GT_ERR_INVALID when days is outside ANALYTICS_DAYS_MIN to
 * ANALYTICS_DAYS_MAX (the store is not asked); GT_ERR_INTERNAL when the
 * store answered a day outside the window or more repositories than
 * asked; or the store's error.
 */
enum gt_err	 analytics_get(const struct analytics_ports *,
		    struct arena *, int days, struct analytics_report *out);

#endif
