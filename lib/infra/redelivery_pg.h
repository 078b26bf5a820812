/*
 * redelivery_pg.h: what the redelivery reconciler knows of deliveries
 * (struct redelivery_store, usecase/redeliver.h), in PostgreSQL: the
 * webhook's webhook_deliveries and the reconciler's own
 * webhook_redeliveries.  One statement a call, over a borrowed bounded
 * connection; errors translated and logged as in run_store_pg.h.
 */
#ifndef GT_REDELIVERY_PG_H
#define GT_REDELIVERY_PG_H

#include "usecase/redeliver.h"

struct pgconn;
struct redelivery_pg;

/* A store over pc (borrowed), statements bounded by timeout_ms (> 0). */
struct redelivery_pg	*redelivery_pg_new(struct pgconn *pc,
			    int timeout_ms);
void			 redelivery_pg_free(struct redelivery_pg *);
void			 redelivery_pg_port(struct redelivery_pg *,
			    struct redelivery_store *out);

#endif
