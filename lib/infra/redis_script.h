/*
 * redis_script.h: Lua scripts run on a worker's Redis connection.
 *
 * A script is sent as EVALSHA with the SHA-1 of its text, computed here
 * once, so a call carries forty bytes instead of the script.  When the
 * server does not know the script (NOSCRIPT: it restarted, or SCRIPT
 * FLUSH was run), the same call is sent again as EVAL, which runs the
 * script and leaves it in the server's cache for the next EVALSHA.
 *
 * Keys and arguments always travel as the command's arguments, never in
 * the script's text: they may be untrusted bytes.
 */
#ifndef GT_REDIS_SCRIPT_H
#define GT_REDIS_SCRIPT_H

#include <stddef.h>

#include <hiredis/hiredis.h>

struct rconn;

/* The most keys and arguments one call may pass, together. */
#define REDIS_SCRIPT_MAXARGS	16

/* A script and its SHA-1 in hexadecimal, as EVALSHA wants it. */
struct redis_script {
	const char	*text;		/* not copied: a constant */
	char		 sha[41];
};

/*
 * Fills script for text.  Returns 0, or -1 when the SHA-1 could not be
 * computed (libcrypto failed, which is out of memory in practice).
 */
int		 redis_script_init(struct redis_script *, const char *text);

/*
 * Runs the script with nkeys keys followed by nargs arguments, given in
 * argv with their lengths in argvlen (nkeys + nargs entries, at most
 * REDIS_SCRIPT_MAXARGS).  Returns the reply as rconn_command() does: the
 * caller frees it with freeReplyObject(), an error reply (a script
 * error) is returned like any other, and NULL means Redis could not be
 * reached (rconn_command() has logged why).
 */
redisReply	*redis_script_run(struct rconn *, const struct redis_script *,
		    int nkeys, int nargs, const char **argv,
		    const size_t *argvlen);

#endif
