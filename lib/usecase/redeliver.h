/*
 * redeliver.h: asking GitHub again for the deliveries the service lost.
 *
 * GitHub does not retry a failed webhook delivery.  A delivery fails
 * when the service answered with an error (PostgreSQL was down: 503) or
 * did not answer at all (it was down itself).  Every few minutes the
 * reconciler reads the App's recent deliveries, newest first, and for
 * each delivery (a guid, which GitHub keeps across redeliveries) that
 *
 *   - was delivered within the window,
 *   - has no successful (2xx) attempt in the list,
 *   - is not recorded by the webhook (webhook_deliveries), and
 *   - was not asked for before,
 *
 * asks GitHub to send its newest failed attempt again, and records that
 * it asked, so each delivery is asked for once.  The redelivery reaches
 * the webhook like any delivery, and its duplicate checks keep a run
 * from being made twice.
 */
#ifndef GT_REDELIVER_H
#define GT_REDELIVER_H

#include <stddef.h>
#include <stdint.h>

#include "domain/error.h"
#include "usecase/outbox.h"

struct arena;

/* One attempt of a delivery, as GET /app/hook/deliveries lists it. */
struct hook_delivery {
	int64_t		 id;		/* the attempt's id */
	const char	*guid;		/* the delivery's X-GitHub-Delivery */
	int64_t		 delivered_s;	/* seconds since the epoch */
	int		 status_code;	/* 0 when nothing answered */
};

/* The App's deliveries on GitHub, with the App's own token. */
struct deliveries_port {
	void	*ctx;

	/* The recent attempts, newest first, in the arena. */
	void	(*list)(void *ctx, struct arena *, struct hook_delivery **,
	    size_t *n, struct gh_answer *);

	/* Asks GitHub to send attempt id's delivery again. */
	void	(*redeliver)(void *ctx, int64_t id, struct gh_answer *);
};

/* What the service knows of deliveries, in PostgreSQL. */
struct redelivery_store {
	void	*ctx;

	/*
	 * For each of the n guids, whether the webhook recorded it or a
	 * redelivery was asked for it: (*known)[i], an array in the arena.
	 */
	enum gt_err (*known)(void *ctx, struct arena *,
	    const char *const *guids, size_t n, int **known);

	/* Records that attempt id of guid was asked to be sent again. */
	enum gt_err (*asked)(void *ctx, const char *guid, int64_t id);
};

struct redeliver_ports {
	const struct deliveries_port	*github;
	const struct redelivery_store	*store;
	int64_t				(*wall_s)(void);
};

/*
 * One look, over deliveries made in the last window_s seconds.  Returns
 * the number of deliveries asked for, or -1 when GitHub or the database
 * could not be asked (the next look tries again); *why then says which.
 */
int	 redeliver_round(const struct redeliver_ports *, struct arena *,
	    int64_t window_s, const char **why);

#endif
