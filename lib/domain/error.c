/*
 * error.c: names of the shared error codes.
 */
#include <config.h>

#include <stddef.h>

#include "domain/error.h"

const char *
gt_err_name(enum gt_err e)
{
	static const char *const names[] = {
		[GT_OK] = "ok",
		[GT_ERR_INVALID] = "invalid",
		[GT_ERR_NOT_FOUND] = "not_found",
		[GT_ERR_CONFLICT] = "conflict",
		[GT_ERR_TRANSITION] = "invalid_transition",
		[GT_ERR_PAUSED_REPO] = "repo_paused",
		[GT_ERR_PAUSED_TARGET] = "target_paused",
		[GT_ERR_RATE_LIMITED] = "rate_limited",
		[GT_ERR_IDEMPOTENCY] = "idempotency_key_reused",
		[GT_ERR_UNAVAILABLE] = "unavailable",
		[GT_ERR_TOO_LARGE] = "too_large",
		[GT_ERR_NOMEM] = "nomem",
		[GT_ERR_IO] = "io",
		[GT_ERR_INTERNAL] = "internal",
	};

	if ((unsigned)e >= sizeof(names) / sizeof(names[0]) || names[e] == NULL)
		return "unknown";
	return names[e];
}
