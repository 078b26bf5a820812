/*
 * admin.h: the admin use cases: pausing and resuming repositories and
 * single issues or pull requests, and overriding a repository's
 * run-creation limit.
 *
 * A pause is a row the run creation checks (POST /api/runs and the
 * webhook refuse a paused repository or target) and the dispatchers'
 * claim skips (queued runs wait), so a pause takes effect for the next
 * creation and the next claim.  A resume removes the row and wakes the
 * dispatchers, so the runs it held back start without waiting for a
 * dispatcher's next poll.  An override is what the run creation reads
 * as the repository's limit in place of the configured default.
 *
 * Repository names compare case-insensitively: a pause or an override
 * is kept under the lower-case name (repo_key()), with the display name
 * it was stored with.  Pausing is idempotent: pausing what is paused
 * keeps the first paused_at and the display name it was first paused
 * with, and a reason given again replaces the one kept (no reason keeps
 * it).  Resuming and removing an override are idempotent too: doing
 * either to what has none succeeds.
 *
 * The use cases check their input against the same rules the
 * controllers report field by field, and answer GT_ERR_INVALID without
 * asking the store when it breaks one.
 */
#ifndef GT_ADMIN_H
#define GT_ADMIN_H

#include <stddef.h>
#include <stdint.h>

#include "domain/error.h"
#include "domain/run.h"

struct arena;

#define ADMIN_REASON_MAX	500		/* code points */
#define ADMIN_LIMIT_MAX		1000000		/* api.md */
#define ADMIN_WINDOW_MAX	2592000		/* 30 days, in seconds */

/* What a pause names: a repository, or one issue or pull request in it. */
struct pause_key {
	const char	*repo;
	int		 has_target;
	enum target_type target_type;	/* with has_target */
	int32_t		 target_number;	/* with has_target */
};

/* A pause as stored. */
struct pause {
	struct pause_key key;		/* key.repo: the display name */
	const char	*reason;	/* NULL when none was given */
	int64_t		 paused_at_ms;
};

/* An admin's override of a repository's run-creation limit, as stored. */
struct limit_override {
	const char	*repo;		/* the display name */
	int64_t		 limit;
	int64_t		 window_s;
	int64_t		 updated_at_ms;
};

/*
 * The pauses and overrides: in PostgreSQL (infra/admin_pg.h), or a fake
 * in the unit tests.  Every function takes ctx first; what it hands back
 * is taken from the arena it is given.  Inputs have been checked.
 * Failures: GT_ERR_UNAVAILABLE when the database could not answer in
 * time, GT_ERR_NOMEM, GT_ERR_INTERNAL (logged).
 */
struct admin_store {
	void	*ctx;

	/*
	 * Pauses what key names, or keeps the pause there is; reason
	 * replaces the kept reason unless it is NULL.  Fills out with the
	 * pause as stored afterwards.
	 */
	enum gt_err (*pause)(void *ctx, struct arena *,
	    const struct pause_key *, const char *reason, struct pause *out);

	/*
	 * Removes the pause of what key names, if there is one, and then
	 * wakes the dispatchers, atomically with the removal.
	 */
	enum gt_err (*resume)(void *ctx, const struct pause_key *);

	/*
	 * Every pause: the repositories' and the targets', each an array
	 * in the arena, oldest pause first.
	 */
	enum gt_err (*paused)(void *ctx, struct arena *, struct pause **repos,
	    size_t *nrepos, struct pause **targets, size_t *ntargets);

	/*
	 * Sets the repository's override, replacing any there is (its
	 * display name included), and fills out with it as stored.
	 */
	enum gt_err (*set_limit)(void *ctx, struct arena *, const char *repo,
	    int64_t limit, int64_t window_s, struct limit_override *out);

	/* Removes the repository's override, if there is one. */
	enum gt_err (*remove_limit)(void *ctx, const char *repo);
};

struct admin_ports {
	const struct admin_store	*store;
};

/* Every pause, as GET /api/admin/paused lists them. */
struct admin_pauses {
	struct pause	*repos;
	size_t		 nrepos;
	struct pause	*targets;
	size_t		 ntargets;
};

/*
 * Whether the n bytes at s are a pause's reason: valid UTF-8 without a
 * NUL byte, at most ADMIN_REASON_MAX code points.
 */
int		 admin_reason_valid(const char *s, size_t n);

/*
 * Pauses what key names (a valid repository name, and a valid target
 * when has_target is set).  reason is NULL or a valid reason; an empty
 * one is the same as none.  GT_OK with out filled (its strings in the
 * arena); GT_ERR_INVALID; or the store's error.
 */
enum gt_err	 admin_pause(const struct admin_ports *, struct arena *,
		    const struct pause_key *key, const char *reason,
		    struct pause *out);

/* Resumes what key names, paused or not: GT_OK, GT_ERR_INVALID. */
enum gt_err	 admin_resume(const struct admin_ports *,
		    const struct pause_key *key);

/* Every pause, in the arena. */
enum gt_err	 admin_paused(const struct admin_ports *, struct arena *,
		    struct admin_pauses *out);

/*
 * Sets repo's override to limit (1 to ADMIN_LIMIT_MAX) creations per
 * window_s (1 to ADMIN_WINDOW_MAX) seconds: GT_OK with out filled;
 * GT_ERR_INVALID; or the store's error.
 */
enum gt_err	 admin_set_limit(const struct admin_ports *, struct arena *,
		    const char *repo, int64_t limit, int64_t window_s,
		    struct limit_override *out);

/* Removes repo's override, if any: GT_OK, GT_ERR_INVALID. */
enum gt_err	 admin_remove_limit(const struct admin_ports *,
		    const char *repo);

#endif
