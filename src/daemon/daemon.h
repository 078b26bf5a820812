/*
 * daemon.h: what the two daemons, gittinkerer-dispatcher and
 * gittinkerer-github, share around their loops: the command line and
 * the signals.
 *
 * Both take [-c FILE] [--check-config] [--version], and both wait in
 * poll(2) on a signalfd, so that SIGTERM and SIGINT (stop) end a wait at
 * once without a handler racing the loop.
 */
#ifndef GT_DAEMON_H
#define GT_DAEMON_H

struct daemon_args {
	const char	*config_path;	/* -c, else GITTINKERER_CONFIG */
	int		 check_only;	/* --check-config */
};

/*
 * Reads the command line of the program prog.  Returns -1 when the
 * program should go on with *args filled, or the status to exit with at
 * once: 0 after --version, 2 after a usage message on bad arguments.
 */
int	 daemon_args(const char *prog, int argc, char *argv[],
	    struct daemon_args *args);

/*
 * Ignores SIGPIPE (hiredis and libcurl write to sockets a peer may have
 * closed) and blocks SIGTERM, SIGINT and SIGHUP, with SIGCHLD too when
 * with_sigchld, into a non-blocking signalfd.  Returns it, or -1 with
 * errno set.
 */
int	 daemon_signal_fd(int with_sigchld);

/*
 * Reads every signal waiting on the signalfd; returns 1 when one of them
 * asks to stop (SIGTERM, SIGINT), else 0.  SIGCHLD and SIGHUP only end
 * the wait.
 */
int	 daemon_read_signals(int sfd);

struct sentry;

/*
 * Sends message to Sentry when it is configured (sentry.h), at most once
 * a minute in a process: a send may hold the daemon's loop for up to a
 * second, and a failure that repeats says nothing new.  The caller logs
 * the failure itself, every time.
 */
void	 daemon_report(struct sentry *, const char *message);

#endif
