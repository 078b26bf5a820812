/*
 * outbox_pg.h: the outbox table (struct outbox_store, usecase/outbox.h)
 * in PostgreSQL, over a struct pg_store (infra/pg_store.h).
 *
 * claim takes pending rows whose next_attempt_at has come, oldest first,
 * skipping rows another sender holds (FOR UPDATE SKIP LOCKED), and moves
 * their next_attempt_at lease_s seconds ahead in the same statement: a
 * sender that dies with an item leaves it due again after the lease.
 * The item's payload is read here; an outcome item comes with its run.
 * A row whose payload does not read as its kind says is marked failed
 * at once and logged, not handed out.  sent, retry, defer and failed
 * change a pending row only.  Errors are translated and logged as in
 * run_store_pg.h.
 */
#ifndef GT_OUTBOX_PG_H
#define GT_OUTBOX_PG_H

#include "usecase/outbox.h"

struct pg_store;

/*
 * Fills out with the outbox's functions, with s as ctx.  s is borrowed:
 * out is valid as long as s is, and the caller frees s (pg_store_free()).
 */
void	 outbox_pg_port(struct pg_store *s, struct outbox_store *out);

#endif
