/*
 * runs.h: the run use cases: create, get, list, cancel, and an artifact.
 *
 * They reach the database, the cache, the limiter and the artifact
 * folders only through the ports in ports.h.  The status cache is kept
 * in step with the database: a change is preceded by removing the run's
 * entry and followed by writing the new one, so a poll made meanwhile
 * reads the database rather than an old entry (and the cache's status
 * guard keeps such a poll from writing the old status back).
 */
#ifndef GT_RUNS_H
#define GT_RUNS_H

#include <stddef.h>
#include <stdint.h>

#include "usecase/ports.h"

struct arena;

/* The configured default limits, for a repository and a requester. */
struct runs_limits {
	int64_t	 repo_limit;
	int64_t	 repo_window_s;
	int64_t	 requester_limit;
	int64_t	 requester_window_s;
};

struct runs_ports {
	const struct run_store		*store;
	const struct run_cache		*cache;
	const struct limiter		*limiter;
	const struct artifact_store	*artifacts;
	struct runs_limits		 limits;
};

/* What came of a creation, besides the run. */
struct create_outcome {
	int			 created;	/* 0: an earlier run replayed */

	/* The limits that applied, for the RateLimit headers. */
	struct limit_rule	 rules[LIMIT_MAX_RULES];
	size_t			 nrules;
	int			 has_decision;	/* d was filled */
	struct limit_decision	 d;
};

/*
 * Creates a queued run, or finds the one an earlier request with the same
 * Idempotency-Key created.  member names this request to the limiter
 * (unique, such as the request id).  Returns GT_OK (out and oc filled);
 * GT_ERR_IDEMPOTENCY when the key was used for another request;
 * GT_ERR_PAUSED_REPO, GT_ERR_PAUSED_TARGET, GT_ERR_RATE_LIMITED (oc
 * filled for the headers); GT_ERR_UNAVAILABLE when the database is down.
 */
enum gt_err	 runs_create(const struct runs_ports *, struct arena *,
		    const struct run_new *, const char *member,
		    struct run *out, struct create_outcome *oc);

/*
 * The name of the limit that refused a creation ("repo", "requester"):
 * the first rule with nothing left, when oc holds a refusing decision.
 * NULL otherwise.
 */
const char	*runs_refused_by(const struct create_outcome *oc);

/*
 * The run with this canonical id, from the cache when it holds it, and
 * its artifacts (*arts, *narts).  GT_ERR_NOT_FOUND, GT_ERR_UNAVAILABLE.
 */
enum gt_err	 runs_get(const struct runs_ports *, struct arena *,
		    const char *id, struct run *out, struct artifact **arts,
		    size_t *narts);

/* A page of runs and the total matching (see struct run_filter). */
enum gt_err	 runs_list(const struct runs_ports *, struct arena *,
		    const struct run_filter *, struct run **runs, size_t *n,
		    int64_t *total);

/*
 * Cancels a run (see run_store.cancel): GT_OK with the run as it is now;
 * GT_ERR_TRANSITION for a finished run; GT_ERR_NOT_FOUND.
 */
enum gt_err	 runs_cancel(const struct runs_ports *, struct arena *,
		    const char *id, struct run *out);

/*
 * Opens the artifact name (already validated) of the run id: GT_OK with
 * *fd, which the caller closes, and *size; GT_ERR_NOT_FOUND when the run
 * or the artifact does not exist.
 */
enum gt_err	 runs_open_artifact(const struct runs_ports *, struct arena *,
		    const char *id, const char *name, int *fd, int64_t *size);

/*
 * The cache entry of a run: its JSON text, as runs_get() reads it back.
 * Exposed for the dispatcher, which changes statuses too.
 */
void		 runs_cache_put(const struct run_cache *, const struct run *);

#endif
