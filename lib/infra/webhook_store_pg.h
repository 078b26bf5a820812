/*
 * webhook_store_pg.h: the webhook's records (struct webhook_store,
 * usecase/ports.h) in PostgreSQL: webhook_deliveries, and the replies it
 * queues in github_outbox.
 *
 * Each call is one parameterised statement over a borrowed bounded
 * connection (infra/pg.h), waiting at most timeout_ms.  Errors are
 * translated and logged as in run_store_pg.h.  A reply is queued as a
 * pending github_outbox row of kind "reply" in the statement that
 * records its delivery, and only when that delivery was not recorded
 * before.
 */
#ifndef GT_WEBHOOK_STORE_PG_H
#define GT_WEBHOOK_STORE_PG_H

#include "usecase/ports.h"

struct pgconn;
struct webhook_store_pg;

/*
 * A store over pc (borrowed: it must outlive the store), each statement
 * waiting at most timeout_ms (> 0).  NULL when memory is short.  Free
 * with webhook_store_pg_free().
 */
struct webhook_store_pg	*webhook_store_pg_new(struct pgconn *pc,
			    int timeout_ms);

/* Frees the store (not its connection).  Accepts NULL. */
void			 webhook_store_pg_free(struct webhook_store_pg *);

/* Fills out with the store's functions; valid as long as the store is. */
void			 webhook_store_pg_port(struct webhook_store_pg *,
			    struct webhook_store *out);

#endif
