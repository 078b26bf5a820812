/*
 * error.h: the one error code shared by the domain and the use cases.
 *
 * Adapters keep their library's own message in their logs and translate
 * failures into one of these values at the boundary; the HTTP layer maps
 * each value to a status and a contract error code.
 */
#ifndef GT_ERROR_H
#define GT_ERROR_H

enum gt_err {
	GT_OK = 0,		/* success */
	GT_ERR_INVALID,		/* the caller's input breaks a rule */
	GT_ERR_NOT_FOUND,	/* the thing asked for does not exist */
	GT_ERR_CONFLICT,	/* the request clashes with current state */
	GT_ERR_TRANSITION,	/* a status move the run's life cycle forbids */
	GT_ERR_PAUSED_REPO,	/* the repository is paused */
	GT_ERR_PAUSED_TARGET,	/* the issue or pull request is paused */
	GT_ERR_RATE_LIMITED,	/* over a rate limit */
	GT_ERR_IDEMPOTENCY,	/* idempotency key reused with another request */
	GT_ERR_UNAVAILABLE,	/* a dependency is unreachable or timed out */
	GT_ERR_TOO_LARGE,	/* an input is over its size limit */
	GT_ERR_NOMEM,		/* memory could not be allocated */
	GT_ERR_IO,		/* a local file or system call failed */
	GT_ERR_INTERNAL		/* a bug: an invariant did not hold */
};

/* A short lowercase name of the code, for log lines; never NULL. */
const char	*gt_err_name(enum gt_err);

#endif
