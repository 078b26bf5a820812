/*
 * outbox.h: doing on GitHub what the service decided, outside any request.
 *
 * The webhook and the dispatcher queue work in the github_outbox table
 * in the same transaction as the decision: a reaction on an accepted
 * comment, a reply to a refused one, the outcome of a finished run.  A
 * sender takes the items that are due, does each on GitHub, and records
 * what came of it:
 *
 *   - success: the item is sent, and never sent again;
 *   - a rate limit (GitHub said when to come back): the item, and every
 *     other, waits until then, and no request at all is made before;
 *   - a transient failure (5xx, a timeout, no connection): retried after
 *     a backoff that doubles with each attempt, from the configured
 *     first delay up to an hour;
 *   - a permanent failure (another 4xx), or the last allowed attempt
 *     failing: the item is marked failed and logged, never dropped
 *     silently.
 *
 * A claimed item is leased for a while, so that several senders can
 * share the table without two doing the same item.
 */
#ifndef GT_OUTBOX_H
#define GT_OUTBOX_H

#include <stddef.h>
#include <stdint.h>

#include "domain/error.h"
#include "domain/run.h"

struct arena;

enum outbox_kind {
	OUTBOX_REACTION,	/* 👀 on the triggering comment */
	OUTBOX_REPLY,		/* a comment answering a refused trigger */
	OUTBOX_OUTCOME		/* a comment with a finished run's outcome */
};

/* An item due for sending, with its payload read. */
struct outbox_item {
	int64_t		 id;
	enum outbox_kind kind;
	const char	*repo;
	int64_t		 installation_id;	/* 0: none recorded */
	int		 attempts;		/* made before this one */

	/* From the payload: what the item answers. */
	int64_t		 comment_id;		/* reaction */
	const char	*comment_kind;		/* reaction */
	const char	*content;		/* reaction: "eyes" */
	int32_t		 target_number;		/* reply, outcome */
	const char	*reason;		/* reply */
	const char	*login;			/* reply */
	int64_t		 retry_after_s;		/* reply */

	int		 has_run;		/* outcome: the run */
	struct run	 run;
};

/* The outbox table. */
struct outbox_store {
	void	*ctx;

	/*
	 * Claims up to max items that are due, oldest first, leasing each
	 * for lease_s seconds.  *items is an array of *n in the arena.
	 */
	enum gt_err (*claim)(void *ctx, struct arena *, size_t max,
	    int64_t lease_s, struct outbox_item **items, size_t *n);

	/* The item was done on GitHub. */
	enum gt_err (*sent)(void *ctx, int64_t id);

	/* A failed attempt: the next one after delay_s seconds. */
	enum gt_err (*retry)(void *ctx, int64_t id, int64_t delay_s,
	    const char *error);

	/* No attempt was made: the item is due again after delay_s. */
	enum gt_err (*defer)(void *ctx, int64_t id, int64_t delay_s);

	/* No more attempts: the item failed for good. */
	enum gt_err (*failed)(void *ctx, int64_t id, const char *error);
};

/* What GitHub answered a request, as the sender needs it. */
enum gh_verdict {
	GH_DONE,		/* 2xx */
	GH_LIMITED,		/* rate limited: wait_s says how long */
	GH_TRANSIENT,		/* 5xx, a timeout, no connection */
	GH_PERMANENT		/* any other answer */
};

struct gh_answer {
	enum gh_verdict	 verdict;
	int64_t		 wait_s;	/* GH_LIMITED: seconds to wait */
	char		 error[160];	/* for the log and last_error */
};

/* The GitHub calls the sender makes, with an installation's token. */
struct github_port {
	void	*ctx;

	/* Puts content ("eyes") on a comment of the kind given. */
	void	(*react)(void *ctx, int64_t installation_id, const char *repo,
	    const char *comment_kind, int64_t comment_id, const char *content,
	    struct gh_answer *);

	/* Posts a comment on an issue or pull request. */
	void	(*comment)(void *ctx, int64_t installation_id,
	    const char *repo, int32_t number, const char *body,
	    struct gh_answer *);
};

struct outbox_conf {
	int		 max_attempts;	/* >= 1 */
	int64_t		 backoff_s;	/* the first retry's delay, >= 1 */
	int64_t		 lease_s;	/* a claimed item's lease */
	size_t		 batch;		/* items claimed at once */
};

struct outbox_ports {
	const struct outbox_store	*store;
	const struct github_port	*github;
	int64_t				(*now_ms)(void);	/* monotonic */

	/*
	 * Told of each item's fate, for the log: event is "outbox_sent",
	 * "outbox_rate_limited", "outbox_retry" or "outbox_failed", error
	 * NULL for a success.
	 */
	void				(*report)(const char *event,
					    int64_t item, const char *error);
};

struct outbox;

/* A sender; NULL when memory is short.  Free with outbox_free(). */
struct outbox	*outbox_new(const struct outbox_conf *,
		    const struct outbox_ports *);
void		 outbox_free(struct outbox *);

/*
 * Claims the items that are due and sends them, unless a rate limit
 * holds every request back.  Returns how many were handled (sent,
 * retried or failed), or -1 when the store could not be reached.
 */
int		 outbox_round(struct outbox *);

/* Milliseconds until a rate limit lets requests go again; 0 when none. */
int64_t		 outbox_held_ms(const struct outbox *);

/* The delay before attempt n + 1 after n failed ones (n >= 1). */
int64_t		 outbox_backoff_s(int64_t first_s, int n);

#endif
