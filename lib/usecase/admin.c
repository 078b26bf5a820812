/*
 * admin.c: pauses and rate-limit overrides.
 */
#include <config.h>

#include <string.h>

#include "domain/text.h"
#include "usecase/admin.h"

int
admin_reason_valid(const char *s, size_t n)
{
	return s != NULL && utf8_valid(s, n) && memchr(s, '\0', n) == NULL &&
	    utf8_count(s, n) <= ADMIN_REASON_MAX;
}

static int
key_valid(const struct pause_key *key)
{
	if (key == NULL || !repo_name_valid(key->repo))
		return 0;
	if (!key->has_target)
		return 1;
	return target_type_name(key->target_type) != NULL &&
	    target_number_valid(key->target_number);
}

enum gt_err
admin_pause(const struct admin_ports *p, struct arena *arena,
    const struct pause_key *key, const char *reason, struct pause *out)
{
	if (!key_valid(key))
		return GT_ERR_INVALID;
	if (reason != NULL && !admin_reason_valid(reason, strlen(reason)))
		return GT_ERR_INVALID;

	/* An empty reason says nothing: it does not replace a kept one. */
	if (reason != NULL && reason[0] == '\0')
		reason = NULL;
	return p->store->pause(p->store->ctx, arena, key, reason, out);
}

enum gt_err
admin_resume(const struct admin_ports *p, const struct pause_key *key)
{
	if (!key_valid(key))
		return GT_ERR_INVALID;
	return p->store->resume(p->store->ctx, key);
}

enum gt_err
admin_paused(const struct admin_ports *p, struct arena *arena,
    struct admin_pauses *out)
{
	memset(out, 0, sizeof(*out));
	return p->store->paused(p->store->ctx, arena, &out->repos,
	    &out->nrepos, &out->targets, &out->ntargets);
}

enum gt_err
admin_set_limit(const struct admin_ports *p, struct arena *arena,
    const char *repo, int64_t limit, int64_t window_s,
    struct limit_override *out)
{
	if (!repo_name_valid(repo) || limit < 1 || limit > ADMIN_LIMIT_MAX ||
	    window_s < 1 || window_s > ADMIN_WINDOW_MAX)
		return GT_ERR_INVALID;
	return p->store->set_limit(p->store->ctx, arena, repo, limit,
	    window_s, out);
}

enum gt_err
admin_remove_limit(const struct admin_ports *p, const char *repo)
{
	if (!repo_name_valid(repo))
		return GT_ERR_INVALID;
	return p->store->remove_limit(p->store->ctx, repo);
}
