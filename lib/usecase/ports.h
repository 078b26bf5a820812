/*
 * ports.h: what the run use cases need from the world, as structs of
 * function pointers.
 *
 * Each port is filled by an adapter in lib/infra/ (PostgreSQL, Redis, the
 * file system) in the one wiring file of each program, and by in-memory
 * fakes in the unit tests.  Every function takes the port's ctx first.
 * Memory a function hands back is taken from the arena it is given, so it
 * lives as long as the request; nothing it returns needs freeing.
 *
 * Failures are enum gt_err values: GT_ERR_UNAVAILABLE when the server
 * behind the port could not be reached or did not answer in time (the
 * adapter has logged why), GT_ERR_NOMEM, GT_ERR_INTERNAL for a bug such as
 * an unexpected database error (logged too).
 */
#ifndef GT_PORTS_H
#define GT_PORTS_H

#include <stddef.h>
#include <stdint.h>

#include "domain/error.h"
#include "domain/run.h"

struct arena;

/* A run to create, validated. */
struct run_new {
	const char	*repo;
	enum target_type target_type;
	int32_t		 target_number;
	const char	*instruction;	/* trimmed */
	const char	*requested_by;	/* NULL when not given */
	enum run_source	 source;

	/*
	 * Who the requester rate limit counts: requested_by, else the
	 * caller's role ("role:operator").  Stored with the run, so that the
	 * limits can be counted from the database when Redis is down.
	 */
	const char	*requester;

	/*
	 * The Idempotency-Key, or NULL; with it, a canonical text of the
	 * validated fields, which the store keeps (hashed) to tell the same
	 * request from another one.
	 */
	const char	*idempotency_key;
	const char	*fingerprint;

	/*
	 * Webhook runs only: 0 and NULL otherwise.  The delivery that asked
	 * for the run is recorded as accepted with it, in the same commit:
	 * its event is comment_kind, its action delivery_action.
	 */
	int64_t		 installation_id;
	int64_t		 comment_id;
	const char	*comment_kind;	/* "issue_comment", ... */
	const char	*delivery_id;
	const char	*delivery_action; /* "created" */
};

/* What run_store.gate answers. */
struct create_gate {
	int		 repo_paused;
	int		 target_paused;
	int		 has_override;	/* then limit and window_s: */
	int64_t		 limit;
	int64_t		 window_s;
};

/* GET /api/runs's filters and page. */
struct run_filter {
	int		 has_status;
	enum run_status	 status;
	const char	*repo;		/* NULL: every repository */
	int64_t		 page;		/* 1-based */
	int64_t		 limit;
};

/* What a rate limit counts. */
enum limit_kind {
	LIMIT_REPO,		/* runs of one repository; key: its repo_key() */
	LIMIT_REQUESTER		/* runs of one requester; key: run_new.requester */
};

/*
 * One rate limit: at most limit run creations per window_s seconds for
 * key.  name is the limit's name in the RateLimit headers ("repo",
 * "requester").
 */
struct limit_rule {
	enum limit_kind	 kind;
	const char	*name;
	const char	*key;
	int64_t		 limit;
	int64_t		 window_s;
};

#define LIMIT_MAX_RULES	2

/*
 * A decision over up to LIMIT_MAX_RULES rules: whether one more creation
 * fits under every rule, and for each rule the creations left after it
 * and the seconds until the window frees one.
 */
struct limit_decision {
	int	 allowed;
	int64_t	 remaining[LIMIT_MAX_RULES];
	int64_t	 reset_s[LIMIT_MAX_RULES];
	int64_t	 retry_after_s;	/* when refused: seconds to wait */
};

/* The runs, pauses and rate-limit overrides, in PostgreSQL. */
struct run_store {
	void	*ctx;

	/* The run with this id (canonical lower-case): GT_ERR_NOT_FOUND. */
	enum gt_err (*get)(void *ctx, struct arena *, const char *id,
	    struct run *out);

	/*
	 * The run created with this Idempotency-Key in the last 24 hours:
	 * GT_OK with *same set when its fingerprint equals this one,
	 * GT_ERR_NOT_FOUND when there is none.
	 */
	enum gt_err (*find_by_key)(void *ctx, struct arena *, const char *key,
	    const char *fingerprint, struct run *out, int *same);

	/*
	 * What a creation must know of the repository and the target
	 * before it takes anything, read together: whether they are
	 * paused, and an admin's override of the repository's limit.
	 */
	enum gt_err (*gate)(void *ctx, const char *repo,
	    enum target_type type, int32_t number, struct create_gate *out);

	/*
	 * Inserts a queued run and commits it, releasing first an
	 * Idempotency-Key older than 24 hours.  When nrules > 0 (Redis is
	 * down), the rules are counted from the runs table and the insert
	 * made only when every rule allows it, atomically with concurrent
	 * creations, and *d is filled.  GT_ERR_CONFLICT when another run
	 * holds the key (out is then not filled: look it up again);
	 * GT_ERR_RATE_LIMITED when a rule refused.  A run with a delivery
	 * id records the delivery as accepted (a delivery recorded already
	 * keeps its first note).
	 */
	enum gt_err (*insert)(void *ctx, struct arena *,
	    const struct run_new *, const struct limit_rule *rules,
	    size_t nrules, struct limit_decision *d, struct run *out);

	/* Counts the rules from the runs table without creating anything. */
	enum gt_err (*count_limits)(void *ctx, const struct limit_rule *rules,
	    size_t nrules, struct limit_decision *d);

	/*
	 * A page of runs, newest first, and the number of runs matching the
	 * filter.  *runs is an array of *n runs in the arena.
	 */
	enum gt_err (*list)(void *ctx, struct arena *,
	    const struct run_filter *, struct run **runs, size_t *n,
	    int64_t *total);

	/*
	 * Cancels a run: a queued one becomes cancelled at once; for a
	 * running one, the cancel is recorded and the dispatcher told, and
	 * it stays running.  Fills out with the run as it is afterwards.
	 * GT_ERR_TRANSITION when it had finished (out filled),
	 * GT_ERR_NOT_FOUND.
	 */
	enum gt_err (*cancel)(void *ctx, struct arena *, const char *id,
	    struct run *out);
};

/*
 * The status cache, in Redis: a run's JSON text by its id, so that a
 * poll costs no database query.  An entry carries the run's status: put
 * never replaces an entry of a later status with one of an earlier
 * status (a run's status only moves forward), so a slow writer cannot
 * put an old status back.  A finished run is kept long; an unfinished
 * one a few seconds at most.
 */
struct run_cache {
	void	*ctx;

	/* GT_OK with *json and *len, GT_ERR_NOT_FOUND, GT_ERR_UNAVAILABLE. */
	enum gt_err (*get)(void *ctx, struct arena *, const char *id,
	    const char **json, size_t *len);

	/* Stores, unless a later status is cached; failures are logged. */
	void	(*put)(void *ctx, const char *id, enum run_status,
	    const char *json, size_t len);

	/* Removes the entry; failures are logged. */
	void	(*invalidate)(void *ctx, const char *id);
};

/*
 * The rate limiter, in Redis: sliding windows, shared by every worker on
 * every host, one atomic decision per call, time taken from the server.
 */
struct limiter {
	void	*ctx;

	/*
	 * Takes one creation under every rule when all allow it (none is
	 * taken otherwise), recording it as member (unique per request).
	 * GT_ERR_UNAVAILABLE when Redis cannot decide: the caller falls
	 * back to the database.
	 */
	enum gt_err (*take)(void *ctx, const struct limit_rule *, size_t n,
	    const char *member, struct limit_decision *);

	/* Fills the decision as take would, without taking anything. */
	enum gt_err (*peek)(void *ctx, const struct limit_rule *, size_t n,
	    struct limit_decision *);

	/* Gives back what take recorded as member (the run was not made). */
	void	(*give_back)(void *ctx, const struct limit_rule *, size_t n,
	    const char *member);
};

/* A run a dispatcher has claimed, with what it needs to start it. */
struct claimed_run {
	struct run	 run;		/* status running, started_at set */
	int64_t		 installation_id; /* 0: not from an installation */
	int64_t		 comment_id;	/* 0: not from a comment */
	const char	*comment_kind;	/* NULL with comment_id 0 */
};

/* What came of a run, as its dispatcher records it. */
struct run_outcome {
	const char	*id;
	enum run_status	 status;	/* succeeded, failed or cancelled */
	int		 has_exit_code;
	int		 exit_code;
	enum run_stage	 stage;		/* STAGE_NONE for a success */
	const char	*message;	/* with a stage */
	const char	*result_json;	/* checked result.json, or NULL */

	/* The run_metrics row; runner figures only when has_* is set. */
	int64_t		 duration_ms;
	int64_t		 queue_wait_ms;
	int		 has_tokens_in, has_tokens_out, has_cost,
			 has_files_changed;
	int64_t		 tokens_in;
	int64_t		 tokens_out;
	double		 cost_usd;
	int64_t		 files_changed;
};

/*
 * The queue of runs, for dispatchers, in PostgreSQL.  Several dispatchers
 * on several hosts share it: claiming is one transaction that skips rows
 * another holds, so no run is started twice.
 */
struct run_queue {
	void	*ctx;

	/*
	 * Claims the oldest queued run whose repository and target are not
	 * paused and whose target has no running run, moving it to running
	 * with started_at, a heartbeat and dispatcher_id.  GT_OK with *out;
	 * GT_ERR_NOT_FOUND when none can be claimed now.
	 */
	enum gt_err (*claim)(void *ctx, struct arena *,
	    const char *dispatcher_id, struct claimed_run *out);

	/*
	 * Refreshes the heartbeat of the n runs this dispatcher runs, and
	 * tells which of them an operator asked to cancel: (*cancel)[i] is
	 * set for ids[i] (an array of n in the arena).
	 */
	enum gt_err (*heartbeat)(void *ctx, struct arena *,
	    const char *dispatcher_id, const char *const *ids, size_t n,
	    int **cancel);

	/*
	 * Records how a running run ended, its metrics row and, for a run
	 * from a webhook, the outcome comment in the GitHub outbox, in one
	 * transaction.  Fills out with the finished run.  GT_ERR_TRANSITION
	 * when the run is no longer running (another dispatcher took it
	 * for lost): nothing is recorded.
	 */
	enum gt_err (*finish)(void *ctx, struct arena *,
	    const struct run_outcome *, struct run *out);

	/*
	 * Fails every running run whose heartbeat is older than lease_s
	 * seconds (its dispatcher died), stage interrupted, queueing their
	 * outcome comments as finish does.  *runs is an array of the *n runs
	 * failed, in the arena.
	 */
	enum gt_err (*reap)(void *ctx, struct arena *, int64_t lease_s,
	    struct run **runs, size_t *n);

	/*
	 * A descriptor that becomes readable when a run is queued or a
	 * cancel asked for (LISTEN), or -1 while the listening connection is
	 * down (the dispatcher then polls).  drain() consumes what arrived
	 * and re-opens the connection when needed; it returns how many
	 * notifications it read, and 1 when it has just begun listening
	 * (what came before may have been missed), so that the caller
	 * looks at the queue at once.
	 */
	int	(*wait_fd)(void *ctx);
	int	(*drain)(void *ctx);
};

/*
 * What became of one webhook delivery, as it is recorded, with the reply
 * to post on GitHub when the delivery was refused for a pause or a rate
 * limit.
 */
struct delivery_note {
	const char	*delivery_id;	/* X-GitHub-Delivery */
	const char	*event;		/* X-GitHub-Event */
	const char	*action;	/* the payload's action, or NULL */
	const char	*outcome;	/* the answer's status: "accepted", ... */
	const char	*reason;	/* an "ignored" answer's reason, or NULL */
	const char	*run_id;	/* the run it made or named, or NULL */

	/* The reply: NULL reply_json for none. */
	const char	*reply_repo;
	int64_t		 reply_installation_id;	/* 0: none */
	const char	*reply_json;	/* the outbox payload, an object */
};

/* The webhook's records, in PostgreSQL. */
struct webhook_store {
	void	*ctx;

	/*
	 * Whether this delivery was recorded before: GT_OK with *run_id
	 * (in the arena; NULL when it named no run), or GT_ERR_NOT_FOUND.
	 */
	enum gt_err (*seen)(void *ctx, struct arena *,
	    const char *delivery_id, const char **run_id);

	/*
	 * Records the note and queues its reply, together.  A delivery
	 * recorded already keeps its first note, and no reply is queued.
	 */
	enum gt_err (*record)(void *ctx, const struct delivery_note *);

	/* The run this comment made: GT_ERR_NOT_FOUND when none. */
	enum gt_err (*run_by_comment)(void *ctx, struct arena *,
	    const char *comment_kind, int64_t comment_id, struct run *out);

	/*
	 * The newest queued or running run of the target (the repository
	 * compared case-insensitively): GT_ERR_NOT_FOUND when none.
	 */
	enum gt_err (*active_run)(void *ctx, struct arena *, const char *repo,
	    enum target_type, int32_t number, struct run *out);
};

/* An artifact: a regular file in the run's folder. */
struct artifact {
	const char	*name;
	int64_t		 size;
};

/* The runs' artifact folders, <root>/<run id>/. */
struct artifact_store {
	void	*ctx;

	/*
	 * The run's artifacts sorted by name: regular files with valid
	 * artifact names, payload.json aside.  No folder: none.
	 */
	enum gt_err (*list)(void *ctx, struct arena *, const char *id,
	    struct artifact **out, size_t *n);

	/*
	 * Opens one for reading: GT_OK with *fd (the caller closes it) and
	 * *size, GT_ERR_NOT_FOUND when it is not an artifact (absent, not a
	 * regular file, a symbolic link, payload.json).
	 */
	enum gt_err (*open)(void *ctx, const char *id, const char *name,
	    int *fd, int64_t *size);
};

#endif
