/*
 * dispatcher.h: claiming queued runs, running them, recording what came
 * of them.
 *
 * A dispatcher holds a fixed number of slots, one run each.  The caller
 * calls dispatcher_tick() whenever something may have happened (a
 * notification, output from a runner, a child ending, a timer) and at
 * least every dispatcher_next_ms() milliseconds; each tick:
 *
 *  1. fails the runs of dead dispatchers (heartbeat older than the lease),
 *     once per half lease;
 *  2. for each run in a slot: records its outcome when its process has
 *     ended; else sends SIGTERM when it ran past its time, was cancelled
 *     or the dispatcher is stopping, and SIGKILL when the grace period
 *     after SIGTERM is over;
 *  3. refreshes the heartbeats of its runs, once per heartbeat interval,
 *     and learns which were cancelled;
 *  4. claims queued runs into free slots, unless stopping, once per poll
 *     interval or at once after dispatcher_poke() or a freed slot.
 *
 * Every status change refreshes the status cache after it is committed.
 * Processes and files are reached through struct runner_port, the
 * database through struct run_queue, the time through now_ms.
 */
#ifndef GT_DISPATCHER_H
#define GT_DISPATCHER_H

#include <stddef.h>
#include <stdint.h>

#include "usecase/ports.h"

struct runner_result;

#define DISPATCHER_MAX_SLOTS	64

/* The runner processes, one per slot, named by a handle. */
struct runner_port {
	void	*ctx;

	/*
	 * Makes the run's folder and payload and starts its runner.  GT_OK
	 * with *handle; anything else means it could not start (stage
	 * spawn), with a one-line reason in err.
	 */
	enum gt_err (*start)(void *ctx, const struct claimed_run *,
	    int *handle, char *err, size_t errlen);

	/*
	 * 1 when the runner has ended, with a sentence for a failure in
	 * msg (NULL for a clean exit) and its exit code when it exited
	 * (*has_exit set); 0 while it runs.
	 */
	int	(*ended)(void *ctx, int handle, int *has_exit, int *exit_code,
	    char *msg, size_t msglen);

	/* Sends sig to the runner's whole process group. */
	void	(*signal)(void *ctx, int handle, int sig);

	/*
	 * The run's result.json, checked (runner_io.h), with strings in the
	 * arena: GT_OK, or GT_ERR_NOT_FOUND when there is none or it was
	 * ignored as malformed or too large (the adapter logs why).
	 */
	enum gt_err (*result)(void *ctx, struct arena *, const char *id,
	    struct runner_result *out);

	/* Forgets an ended runner's handle. */
	void	(*release)(void *ctx, int handle);
};

struct dispatcher_conf {
	const char	*id;		/* this dispatcher, for dispatcher_id */
	int		 slots;		/* runs at once, 1..DISPATCHER_MAX_SLOTS */
	int64_t		 timeout_ms;	/* a run's time */
	int64_t		 grace_ms;	/* from SIGTERM to SIGKILL */
	int64_t		 lease_ms;	/* a heartbeat older is a dead one */
	int64_t		 heartbeat_ms;	/* how often heartbeats are written */
	int64_t		 poll_ms;	/* claim at least this often */
};

struct dispatcher_ports {
	const struct run_queue	*queue;
	const struct run_cache	*cache;
	const struct runner_port *runner;
	int64_t			(*now_ms)(void);	/* a monotonic clock */
	int64_t			(*wall_ms)(void);	/* the real-time clock */

	/*
	 * Told of what an operator should hear about (a runner that could
	 * not be started, an outcome the database refused for a reason
	 * other than being unreachable), with the run's id; may be NULL.
	 */
	void			(*report)(const char *what,
				    const char *run_id);
};

struct dispatcher;

/*
 * A dispatcher on conf and ports (both copied; the ports' contexts must
 * outlive it).  NULL when memory is short.  Free with dispatcher_free().
 */
struct dispatcher	*dispatcher_new(const struct dispatcher_conf *,
			    const struct dispatcher_ports *);

/* Frees the dispatcher; its runners must have ended.  Accepts NULL. */
void			 dispatcher_free(struct dispatcher *);

/* One round of the steps above. */
void			 dispatcher_tick(struct dispatcher *);

/*
 * Says that something happened outside (a run was queued, a cancel was
 * asked for): the next tick claims and refreshes heartbeats at once
 * instead of waiting for their intervals.
 */
void			 dispatcher_poke(struct dispatcher *);

/* Milliseconds until the next tick is due at the latest. */
int64_t			 dispatcher_next_ms(const struct dispatcher *);

/*
 * Stops claiming and asks every runner to stop (SIGTERM, then SIGKILL
 * after the grace period); their runs fail with stage interrupted.
 */
void			 dispatcher_stop(struct dispatcher *);

/* The number of runs in the slots. */
int			 dispatcher_running(const struct dispatcher *);

#endif
