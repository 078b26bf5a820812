/*
 * webhook.h: handling one GitHub webhook delivery.
 *
 * The delivery has been authenticated (its signature checked) and read
 * by the HTTP layer; here it is judged, in this order:
 *
 *  1. a ping is answered "pong", even when it was delivered before or
 *     the database is down;
 *  2. a delivery recorded before is a "duplicate" (GitHub redelivers);
 *  3. anything but a comment created (issue_comment or
 *     pull_request_review_comment, action created) is ignored as
 *     unsupported_event;
 *  4. a comment by a bot (a Bot account, or the service's own GitHub App)
 *     is ignored as not_authorized, so the service never answers itself;
 *  5. the comment's trigger (trigger.h): no_trigger, empty_instruction,
 *     instruction_too_long;
 *  6. the author's association must be an allowed one, else
 *     not_authorized;
 *  7. "cancel" cancels the target's queued or running run ("cancelled"),
 *     or is ignored as nothing_to_cancel;
 *  8. a comment that already made a run (another hook delivered it) is a
 *     "duplicate" naming that run;
 *  9. the run is created as POST /api/runs creates one (pauses, rate
 *     limits, the status cache), with the commenter as requester:
 *     "accepted", or ignored as repo_paused, target_paused or
 *     rate_limited, those three with a reply queued for GitHub.
 *
 * Every answer but a duplicate of a recorded delivery is recorded with
 * the delivery, so that a redelivery is known; an accepted one by the
 * run's insert, in the same commit as the run.  Nothing here calls
 * GitHub: the reaction on an accepted comment is queued with the run
 * (run_store.insert), replies with the record.
 */
#ifndef GT_WEBHOOK_H
#define GT_WEBHOOK_H

#include <stddef.h>
#include <stdint.h>

#include "domain/run.h"
#include "usecase/ports.h"
#include "usecase/runs.h"

struct arena;

/* A delivery, as the HTTP layer read it. */
struct webhook_event {
	const char	*event;		/* X-GitHub-Event */
	const char	*delivery_id;	/* X-GitHub-Delivery */
	const char	*action;	/* NULL when the payload has none */

	/*
	 * For a supported event (webhook_event_supported()) the comment,
	 * validated; unset otherwise.
	 */
	int64_t		 comment_id;
	const char	*body;		/* valid UTF-8 */
	size_t		 body_len;
	const char	*login;		/* its author */
	int		 author_is_bot;	/* a Bot account or our own App */
	const char	*association;	/* author_association */
	const char	*repo;		/* a valid repository name */
	enum target_type target_type;
	int32_t		 target_number;
	int64_t		 installation_id; /* 0 when the payload has none */
};

struct webhook_conf {
	const char	*command;	/* "/gittinkerer" */
	char *const	*associations;	/* allowed author_association values */
	size_t		 nassociations;
};

struct webhook_ports {
	const struct runs_ports		*runs;
	const struct webhook_store	*store;
	struct webhook_conf		 conf;
};

enum webhook_status {
	WEBHOOK_PONG,
	WEBHOOK_DUPLICATE,
	WEBHOOK_IGNORED,
	WEBHOOK_CANCELLED,
	WEBHOOK_ACCEPTED
};

struct webhook_answer {
	enum webhook_status	 status;
	const char		*reason;	/* WEBHOOK_IGNORED's */
	const char		*run_id;	/* NULL when none */
	const char		*limit;		/* rate_limited: which, if known */
};

/* Whether the event and action name a comment that may trigger a run. */
int		 webhook_event_supported(const char *event, const char *action);

/* The contract's name of a status: "pong", "duplicate", ... */
const char	*webhook_status_name(enum webhook_status);

/*
 * Judges the delivery as above and fills out (strings in the arena or
 * static).  member names this request to the rate limiter.  Returns
 * GT_OK, or GT_ERR_UNAVAILABLE when the database could not be reached
 * (nothing was recorded: GitHub's redelivery will bring it again),
 * GT_ERR_INVALID when the event or the delivery id is NULL, GT_ERR_NOMEM
 * or GT_ERR_INTERNAL.
 */
enum gt_err	 webhook_handle(const struct webhook_ports *, struct arena *,
		    const struct webhook_event *, const char *member,
		    struct webhook_answer *out);

#endif
