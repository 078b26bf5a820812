/*
 * health.h: is the service able to work?
 *
 * PostgreSQL holds every run: without it nothing can be done, and the
 * service is unavailable.  Redis holds rate-limit counters and the status
 * cache, both of which fall back to PostgreSQL: without it the service is
 * degraded but working.
 */
#ifndef GT_HEALTH_H
#define GT_HEALTH_H

struct health_ports {
	void	*ctx;

	/* 0 when the database answers within timeout_ms, else -1. */
	int	(*db_ping)(void *ctx, int timeout_ms);

	/* 0 when the cache answers within timeout_ms, else -1. */
	int	(*cache_ping)(void *ctx, int timeout_ms);
};

enum health_status {
	HEALTH_OK,		/* every dependency answers */
	HEALTH_DEGRADED,	/* the cache is down; requests still served */
	HEALTH_UNAVAILABLE	/* the database is down */
};

struct health_report {
	enum health_status	 status;
	int			 db_up;
	int			 cache_up;
};

/*
 * Asks each dependency in turn, allowing each timeout_ms, so the whole
 * check takes at most twice that.  Fills and returns the report's status.
 */
enum health_status health_check(const struct health_ports *, int timeout_ms,
		    struct health_report *);

#endif
