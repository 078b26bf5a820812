/*
 * redelivery_pg.h: what the redelivery reconciler knows of deliveries
 * (struct redelivery_store, usecase/redeliver.h), in PostgreSQL: the
 * webhook's webhook_deliveries and the reconciler's own
 * webhook_redeliveries.  One statement a call, run through a struct
 * pg_store (infra/pg_store.h); errors translated and logged as in
 * run_store_pg.h.
 */
#ifndef GT_REDELIVERY_PG_H
#define GT_REDELIVERY_PG_H

#include "usecase/redeliver.h"

struct pg_store;

/*
 * Fills out with the store's functions, with s as ctx.  s is borrowed:
 * out is valid as long as s is, and the caller frees s (pg_store_free()).
 */
void	 redelivery_pg_port(struct pg_store *s,
	    struct redelivery_store *out);

#endif
