/*
 * health.c: the health check.
 */
#include <config.h>

#include "usecase/health.h"

enum health_status
health_check(const struct health_ports *p, int timeout_ms,
    struct health_report *out)
{
	out->db_up = p->db_ping(p->ctx, timeout_ms) == 0;
	out->cache_up = p->cache_ping(p->ctx, timeout_ms) == 0;

	if (!out->db_up)
		out->status = HEALTH_UNAVAILABLE;
	else if (!out->cache_up)
		out->status = HEALTH_DEGRADED;
	else
		out->status = HEALTH_OK;
	return out->status;
}
