/*
 * webhook_store_pg.h: the webhook's records (struct webhook_store,
 * usecase/ports.h) in PostgreSQL: webhook_deliveries, and the replies it
 * queues in github_outbox.
 *
 * Each call is one parameterised statement run through a struct pg_store
 * (infra/pg_store.h), waiting at most its timeout_ms.  Errors are
 * translated and logged as in run_store_pg.h.  A reply is queued as a
 * pending github_outbox row of kind "reply" in the statement that
 * records its delivery, and only when that delivery was not recorded
 * before.
 */
#ifndef GT_WEBHOOK_STORE_PG_H
#define GT_WEBHOOK_STORE_PG_H

#include "usecase/ports.h"

struct pg_store;

/*
 * Fills out with the store's functions, with s as ctx.  s is borrowed:
 * out is valid as long as s is, and the caller frees s (pg_store_free()).
 */
void	 webhook_store_pg_port(struct pg_store *s, struct webhook_store *out);

#endif
