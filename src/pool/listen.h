/*
 * listen.h: where the worker pool's listening socket comes from.
 *
 * In order of preference:
 *
 *  1. --listen unix:PATH or HOST:PORT: the pool binds the socket itself
 *     (a stale unix socket file is replaced, but a regular file or a
 *     socket another process still listens on is left alone and reported;
 *     the file is made 0660 unless another mode is asked for).
 *  2. systemd socket activation: LISTEN_PID equal to our pid and
 *     LISTEN_FDS of 1 pass the socket as fd 3 (sd_listen_fds(3), without
 *     linking libsystemd).  The variables are removed from the environment
 *     so that children do not believe they were passed sockets too.
 *  3. spawn-fcgi and other FastCGI launchers: a listening socket on fd 0
 *     (the FastCGI specification's FCGI_LISTENSOCK_FILENO).
 */
#ifndef GT_LISTEN_H
#define GT_LISTEN_H

#include <stddef.h>

/*
 * Returns a listening socket, close-on-exec, or -1 with a one-line message
 * in err.  spec is the --listen value or NULL; mode is the unix socket
 * file's permission bits (0 for the default 0660).
 */
int	 listen_acquire(const char *spec, unsigned int mode, char *err,
	    size_t errlen);

/*
 * Binds and listens on spec (unix:PATH or HOST:PORT, IPv6 as [ADDR]:PORT).
 * Returns the socket, or -1 with a message in err.
 */
int	 listen_bind(const char *spec, unsigned int mode, char *err,
	    size_t errlen);

/*
 * The socket passed by systemd, or -1 when none was (err left empty) or
 * the variables are malformed (err filled).
 */
int	 listen_from_systemd(char *err, size_t errlen);

/* Whether fd is a listening stream socket (SO_ACCEPTCONN). */
int	 listen_fd_is_listening(int fd);

#endif
