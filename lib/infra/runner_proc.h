/*
 * runner_proc.h: the dispatcher's runner port, on real processes.
 *
 * For each run it makes <artifacts root>/<run id>/ (mode 0750), writes
 * payload.json there (mode 0600), and starts the configured runner with
 * the spawner (spawner.h) and the environment the contract lists, its
 * output going to log.txt in the same folder.  The dispatcher's loop
 * polls the descriptors runner_proc_pollfds() gives and calls
 * runner_proc_pump() after each poll, which also collects processes
 * that escaped a run's process group.
 */
#ifndef GT_RUNNER_PROC_H
#define GT_RUNNER_PROC_H

#include <poll.h>
#include <stddef.h>

struct config;
struct github;
struct runner_port;
struct runner_proc;

/*
 * An adapter on cfg (which must outlive it), holding at most max_runs
 * runners at once.  NULL when memory is short.  Free it with
 * runner_proc_free(), which kills runners still alive.
 */
struct runner_proc	*runner_proc_new(const struct config *cfg,
			    int max_runs);
void			 runner_proc_free(struct runner_proc *);

/*
 * Gives the adapter a GitHub client (which must outlive it): a run from
 * an App installation is then started with an installation token as
 * GH_TOKEN and, on a pull request, the pull request's branches in its
 * payload.  When either cannot be had, the run fails to start (stage
 * spawn) with GitHub's answer as the reason.  Without a client runs get
 * neither.
 */
void			 runner_proc_set_github(struct runner_proc *,
			    struct github *);

/* Fills port with the adapter, which must outlive it. */
void			 runner_proc_port(struct runner_proc *,
			    struct runner_port *port);

/*
 * Writes a pollfd for each live runner's output into pfds (room for
 * max) and returns how many.
 */
size_t			 runner_proc_pollfds(struct runner_proc *,
			    struct pollfd *pfds, size_t max);

/* Reads what the runners wrote, and reaps escaped processes. */
void			 runner_proc_pump(struct runner_proc *);

#endif
