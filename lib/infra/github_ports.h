/*
 * github_ports.h: the GitHub ports of the outbox sender and the
 * redelivery reconciler (usecase/outbox.h, usecase/redeliver.h) on the
 * GitHub client (github.h).
 *
 * The client's outcome becomes the use cases' verdict: a rate limit
 * waits until the time GitHub gave (at least a second), a transient
 * failure is retried with backoff, any other failure is final.  The
 * deliveries are read page by page, newest first, until a page ends
 * before the window the reconciler looks at, or after
 * GITHUB_DELIVERY_PAGES pages.
 */
#ifndef GT_GITHUB_PORTS_H
#define GT_GITHUB_PORTS_H

#include <stdint.h>

#include "usecase/outbox.h"
#include "usecase/redeliver.h"

struct github;

#define GITHUB_DELIVERY_PAGES	10	/* of 100 deliveries each */

/* The sender's calls on gh, which must outlive port. */
void	 github_outbox_port(struct github *gh, struct github_port *port);

/*
 * The reconciler's calls on gh; the list stops at deliveries older than
 * *since_s, which the caller sets before each look.
 */
struct github_deliveries {
	struct github	*gh;
	int64_t		 since_s;
};
void	 github_deliveries_port(struct github_deliveries *,
	    struct deliveries_port *port);

#endif
