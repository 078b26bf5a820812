/*
 * gauges.c: reading the scrape-time figures.
 */
#include <config.h>

#include <string.h>

#include "usecase/gauges.h"

void
gauges_read(const struct gauge_ports *p, int timeout_ms,
    struct gauge_report *out)
{
	enum gt_err	 e;

	memset(out, 0, sizeof(*out));
	if (p->db_figures(p->db_ctx, timeout_ms, &out->db) == GT_OK)
		out->db_up = 1;
	else
		memset(&out->db, 0, sizeof(out->db));

	e = p->github_quota(p->cache_ctx, timeout_ms, &out->quota);
	out->cache_up = e == GT_OK || e == GT_ERR_NOT_FOUND;
	out->quota_known = e == GT_OK;
	if (!out->quota_known)
		memset(&out->quota, 0, sizeof(out->quota));
}
