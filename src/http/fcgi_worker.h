/*
 * fcgi_worker.h: a worker's FastCGI request loop.
 */
#ifndef GT_FCGI_WORKER_H
#define GT_FCGI_WORKER_H

#include <sys/types.h>

struct app;

/*
 * Serves requests arriving on listen_fd, one at a time, until SIGTERM or
 * SIGINT (the request in hand is finished first, and no other is taken)
 * or until max_requests were served (0: no limit).  supervisor is the pid
 * of the process that forked this worker: a worker whose parent is
 * already another one exits at once.  Returns the process's exit status:
 * 0 after a stop or a completed quota, 1 when FastCGI could not be set up
 * or the supervisor is gone.
 */
int	 fcgi_worker_run(int listen_fd, struct app *, long max_requests,
	    pid_t supervisor);

#endif
