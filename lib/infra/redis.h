/*
 * redis.h: a worker's Redis connection.
 *
 * One connection per process, with a connect timeout and a command
 * timeout, authenticated with AUTH when a password is configured, with
 * TCP keepalive on.  After a failure the connection is dropped and not
 * tried again for a short back-off (half a second), so a Redis that is
 * down costs each request nothing (the callers fall back) instead of a
 * timeout each.  A connection the server closed while idle is noticed
 * before the next command, which goes to a new one.
 *
 * Failures are logged as event=redis_unavailable; the password never is.
 *
 * Note: hiredis writes with write(2), so a program using this module must
 * ignore SIGPIPE, or a server closing the connection at the wrong moment
 * kills it.
 */
#ifndef GT_REDIS_H
#define GT_REDIS_H

#include <stddef.h>

#include <hiredis/hiredis.h>

struct config;
struct rconn;

/*
 * A handle for the Redis server in cfg; no connection is made yet.
 * Returns NULL when memory is short.  Free it with rconn_free().
 */
struct rconn	*rconn_new(const struct config *cfg);

/* Closes the connection and frees the handle.  Accepts NULL. */
void		 rconn_free(struct rconn *);

/*
 * Sends one command given as argc arguments of the given lengths and
 * returns its reply, which the caller frees with freeReplyObject(); a
 * REDIS_REPLY_ERROR reply is returned like any other.  Returns NULL when
 * Redis is unreachable, timed out, or in back-off.
 */
redisReply	*rconn_command(struct rconn *, int argc, const char **argv,
		    const size_t *argvlen);

/* One command of a transaction: argc arguments of the given lengths. */
struct rcmd {
	int		 argc;
	const char	**argv;
	const size_t	*argvlen;
};

/*
 * Sends the n commands as one MULTI ... EXEC transaction, in a single
 * write, and returns EXEC's reply (an array of the commands' replies, or
 * an error), which the caller frees with freeReplyObject().  Returns NULL
 * as rconn_command() does.
 */
redisReply	*rconn_transaction(struct rconn *, size_t n,
		    const struct rcmd *cmds);

/*
 * Whether PING is answered within timeout_ms, connecting first if needed,
 * even during the back-off: 0 when it is, else -1.
 */
int		 rconn_ping(struct rconn *, int timeout_ms);

#endif
