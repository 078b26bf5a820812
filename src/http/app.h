/*
 * app.h: one worker's application: its adapters, its use cases' ports and
 * its routes, wired together in app.c.
 */
#ifndef GT_APP_H
#define GT_APP_H

#include "http/dispatch.h"
#include "usecase/health.h"

struct config;
struct pgconn;
struct rconn;

struct app {
	const struct config	*cfg;
	struct pgconn		*pg;
	struct rconn		*redis;

	/* The use cases' ports, filled with the adapters above. */
	struct health_ports	 health;

	struct dispatch_conf	 dispatch;
};

/*
 * Builds a worker's application on cfg, which must outlive it.  No server
 * is contacted yet.  Returns NULL when memory is short.  Free it with
 * app_free().
 */
struct app	*app_new(const struct config *cfg);

/* Closes the connections and frees the application.  Accepts NULL. */
void		 app_free(struct app *);

#endif
