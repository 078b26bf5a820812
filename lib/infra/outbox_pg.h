/*
 * outbox_pg.h: the outbox table (struct outbox_store, usecase/outbox.h)
 * in PostgreSQL.
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

struct pgconn;
struct outbox_pg;

/*
 * An outbox over pc (borrowed: it must outlive it), each statement
 * waiting at most timeout_ms (> 0).  NULL when memory is short.
 */
struct outbox_pg	*outbox_pg_new(struct pgconn *pc, int timeout_ms);
void			 outbox_pg_free(struct outbox_pg *);

/* Fills out with the outbox's functions; valid as long as it is. */
void			 outbox_pg_port(struct outbox_pg *,
			    struct outbox_store *out);

#endif
