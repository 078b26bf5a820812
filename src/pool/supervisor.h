/*
 * supervisor.h: the worker pool's supervisor.
 *
 * The supervisor forks workers that share one listening socket and keeps
 * their number steady:
 *
 *  - a worker that dies is replaced; one that dies within a second of
 *    starting is replaced after a delay that starts at 100 ms and doubles
 *    up to 10 s, so a crash loop cannot spin, and the delay resets once a
 *    worker has lived a second;
 *  - a worker that exits with POOL_EXIT_RECYCLE (it served its quota of
 *    requests) is replaced at once;
 *  - SIGTERM or SIGINT: every worker gets SIGTERM, finishes the request in
 *    hand and exits; those still alive after the drain timeout get SIGKILL;
 *    then the supervisor returns 0;
 *  - SIGHUP: the configuration is loaded again; when it is valid, a new
 *    generation of workers is started and only then is the old one sent
 *    SIGTERM, so the socket always has workers accepting and no request
 *    is dropped.  When it is not valid, the error is logged and the old
 *    workers go on.
 *
 * A worker receives SIGTERM as its request to stop: it must finish the
 * request it is serving, accept no other, and exit 0.
 *
 * While it runs, the supervisor blocks SIGCHLD, SIGTERM, SIGINT and SIGHUP
 * and takes them with sigtimedwait(2); it gives the caller's signal mask
 * and actions back when it returns.  It reaps every child of the process,
 * so the caller must have no children of its own.
 */
#ifndef GT_SUPERVISOR_H
#define GT_SUPERVISOR_H

#include <sys/types.h>

/* Exit status of a worker that stopped after serving its quota. */
#define POOL_EXIT_RECYCLE	0

struct pool_opts {
	int	workers;	/* workers to keep running, at least 1 */
	int	drain_timeout_s; /* seconds a stopping worker may take */
};

struct pool_hooks {
	void	*arg;

	/*
	 * Called once before the first workers start and again on each
	 * SIGHUP, in the supervisor: (re)loads the configuration and fills
	 * opts.  Returns 0, or -1 to keep the configuration in force (the
	 * hook logs why).
	 */
	int	(*load)(void *arg, struct pool_opts *opts);

	/*
	 * The body of a worker, run in the forked child with default signal
	 * dispositions and an empty signal mask.  Returns the child's exit
	 * status.
	 */
	int	(*worker)(void *arg, int listen_fd);

	/*
	 * Called in the supervisor when a worker it did not ask to stop
	 * ended otherwise than by serving its quota: killed by a signal, or
	 * exited with a status other than POOL_EXIT_RECYCLE.  status is
	 * waitpid(2)'s.  May be NULL.
	 */
	void	(*died)(void *arg, pid_t pid, int status);
};

/*
 * Runs the pool on listen_fd until SIGTERM or SIGINT.  Returns 0 after a
 * clean drain, 1 when the first load failed or workers could not be
 * started at all.
 */
int	 supervisor_run(int listen_fd, const struct pool_hooks *hooks);

#endif
