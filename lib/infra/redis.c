/*
 * redis.c: a worker's Redis connection.
 *
 * hiredis's blocking context is used with a connect timeout and a socket
 * timeout on every read and write, so no call waits past the timeouts
 * configured.  Any failure drops the context: a reply read half-way
 * leaves the stream out of step, and a fresh connection is the only sure
 * way back.
 *
 * Note: as with libpq, a host name is resolved by a getaddrinfo(3) call
 * that the timeouts do not bound.
 */
#include <config.h>	/* the build's, not infra/config.h beside this file */

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include <hiredis/hiredis.h>

#include "infra/config.h"
#include "infra/log.h"
#include "infra/redis.h"

/* After a failure, commands answer NULL at once for this long. */
#define REDIS_BACKOFF_MS	500

struct rconn {
	char		*host;		/* TCP host, or NULL */
	int		 port;
	char		*path;		/* Unix socket path, or NULL */
	char		*password;	/* AUTH password, or NULL */
	int		 connect_timeout_ms;
	int		 command_timeout_ms;
	redisContext	*ctx;		/* NULL until connected */
	int64_t		 retry_at;	/* no attempt before (monotonic ms) */
};

static int64_t
now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct timeval
ms_to_tv(int ms)
{
	struct timeval	 tv;

	if (ms < 1)
		ms = 1;
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	return tv;
}

/*
 * Reads "unix:PATH", "HOST:PORT" or "[HOST]:PORT" (IPv6) into rc.
 * Returns 0, or -1 when the address is malformed (rc is left as it was)
 * or memory is short.
 */
static int
parse_address(struct rconn *rc, const char *addr)
{
	const char	*colon, *host;
	size_t		 hostlen;
	char		*end;
	long		 port;

	if (strncmp(addr, "unix:", 5) == 0) {
		if (addr[5] == '\0')
			return -1;
		return (rc->path = strdup(addr + 5)) == NULL ? -1 : 0;
	}

	if ((colon = strrchr(addr, ':')) == NULL)
		return -1;
	host = addr;
	hostlen = (size_t)(colon - addr);
	if (hostlen >= 2 && host[0] == '[' && host[hostlen - 1] == ']') {
		host++;
		hostlen -= 2;
	}
	if (hostlen == 0)
		return -1;

	errno = 0;
	port = strtol(colon + 1, &end, 10);
	if (colon[1] == '\0' || *end != '\0' || errno != 0 || port < 1 ||
	    port > 65535)
		return -1;
	if ((rc->host = strndup(host, hostlen)) == NULL)
		return -1;
	rc->port = (int)port;
	return 0;
}

/*
 * Logs why Redis could not be used.  hiredis's messages hold neither the
 * password nor anything sent.
 */
static void
log_unavailable(const char *why, const char *detail)
{
	char	 msg[256];

	snprintf(msg, sizeof(msg), "%s%s%s", why,
	    detail != NULL && *detail != '\0' ? ": " : "",
	    detail != NULL ? detail : "");
	log_event(LOG_WARN, "redis_unavailable", "error", msg, NULL);
}

/*
 * Drops the context, logs why, and starts the back-off.  A socket timeout
 * reaches hiredis as EAGAIN, which it reports by strerror(): it is named
 * for what it is here.
 */
static void
fail(struct rconn *rc, const char *why)
{
	const char	*detail = NULL;

	if (rc->ctx != NULL)
		detail = rc->ctx->err == REDIS_ERR_IO && (errno == EAGAIN ||
		    errno == EWOULDBLOCK) ? "timed out" : rc->ctx->errstr;
	log_unavailable(why, detail);
	if (rc->ctx != NULL)
		redisFree(rc->ctx);
	rc->ctx = NULL;
	rc->retry_at = now_ms() + REDIS_BACKOFF_MS;
}

struct rconn *
rconn_new(const struct config *cfg)
{
	struct rconn	*rc;

	if ((rc = calloc(1, sizeof(*rc))) == NULL)
		return NULL;
	rc->connect_timeout_ms = cfg->redis_connect_timeout_ms;
	rc->command_timeout_ms = cfg->redis_command_timeout_ms;

	/*
	 * The configuration was validated when loaded; an address that
	 * still does not parse (or could not be copied) is reported by
	 * every connection attempt, as an unreachable server would be.
	 */
	if (cfg->redis != NULL)
		(void)parse_address(rc, cfg->redis);
	if (cfg->redis_password != NULL && *cfg->redis_password != '\0' &&
	    (rc->password = strdup(cfg->redis_password)) == NULL)
		goto out_free;
	return rc;

out_free:
	rconn_free(rc);
	return NULL;
}

void
rconn_free(struct rconn *rc)
{
	if (rc == NULL)
		return;
	if (rc->ctx != NULL)
		redisFree(rc->ctx);
	if (rc->password != NULL) {
		explicit_bzero(rc->password, strlen(rc->password));
		free(rc->password);
	}
	free(rc->host);
	free(rc->path);
	free(rc);
}

/*
 * Sends AUTH with the configured password.  Returns 0, or -1 with the
 * context's error set.
 */
static int
authenticate(redisContext *ctx, const char *password)
{
	const char	*argv[] = { "AUTH", password };
	size_t		 argvlen[] = { 4, strlen(password) };
	redisReply	*r;
	int		 ok;

	if ((r = redisCommandArgv(ctx, 2, argv, argvlen)) == NULL)
		return -1;
	ok = r->type == REDIS_REPLY_STATUS;
	if (!ok)
		snprintf(ctx->errstr, sizeof(ctx->errstr), "%s",
		    r->type == REDIS_REPLY_ERROR ? r->str :
		    "unexpected reply to AUTH");
	freeReplyObject(r);
	return ok ? 0 : -1;
}

/* The milliseconds left until deadline, at least 1. */
static int
left_ms(int64_t deadline)
{
	int64_t	 left = deadline - now_ms();

	return left < 1 ? 1 : left > INT32_MAX ? INT32_MAX : (int)left;
}

/*
 * Connects and authenticates by the deadline, then sets the command
 * timeout.  Returns 0, or -1 (logged, back-off started).
 */
static int
open_conn(struct rconn *rc, int64_t deadline)
{
	struct timeval	 tv = ms_to_tv(left_ms(deadline));

	if (rc->path != NULL)
		rc->ctx = redisConnectUnixWithTimeout(rc->path, tv);
	else if (rc->host != NULL)
		rc->ctx = redisConnectWithTimeout(rc->host, rc->port, tv);
	else {
		fail(rc, "cannot connect: malformed address");
		return -1;
	}
	if (rc->ctx == NULL) {
		fail(rc, "cannot connect: out of memory");
		return -1;
	}
	if (rc->ctx->err) {
		fail(rc, "cannot connect");
		return -1;
	}
	if (rc->host != NULL && redisEnableKeepAlive(rc->ctx) != REDIS_OK) {
		fail(rc, "cannot enable keepalive");
		return -1;
	}

	if (rc->password != NULL) {
		if (redisSetTimeout(rc->ctx, ms_to_tv(left_ms(deadline))) !=
		    REDIS_OK) {
			fail(rc, "cannot set the socket timeout");
			return -1;
		}
		if (authenticate(rc->ctx, rc->password) == -1) {
			fail(rc, "authentication failed");
			return -1;
		}
	}
	if (redisSetTimeout(rc->ctx, ms_to_tv(rc->command_timeout_ms)) !=
	    REDIS_OK) {
		fail(rc, "cannot set the command timeout");
		return -1;
	}
	rc->retry_at = 0;
	return 0;
}

/*
 * Whether an idle connection is still open.  Outside pub/sub, Redis sends
 * nothing unasked, so a readable socket means it closed the connection
 * (CLIENT KILL, a restart, an idle timeout).  Catching that here makes
 * the next command go to a new connection instead of failing.
 */
static int
still_open(redisContext *ctx)
{
	struct pollfd	 pfd;

	pfd.fd = ctx->fd;
	pfd.events = POLLIN;
	pfd.revents = 0;
	return poll(&pfd, 1, 0) == 0;
}

/*
 * The connection, opened if needed by the deadline; NULL during the
 * back-off unless force is set, or when Redis cannot be reached.
 */
static redisContext *
get_ctx(struct rconn *rc, int64_t deadline, int force)
{
	if (rc->ctx != NULL && !still_open(rc->ctx)) {
		redisFree(rc->ctx);
		rc->ctx = NULL;
	}
	if (rc->ctx != NULL)
		return rc->ctx;
	if (!force && now_ms() < rc->retry_at)
		return NULL;
	if (open_conn(rc, deadline) == -1)
		return NULL;
	return rc->ctx;
}

redisReply *
rconn_command(struct rconn *rc, int argc, const char **argv,
    const size_t *argvlen)
{
	redisReply	*r;

	if (get_ctx(rc, now_ms() + rc->connect_timeout_ms, 0) == NULL)
		return NULL;
	if ((r = redisCommandArgv(rc->ctx, argc, argv, argvlen)) == NULL)
		fail(rc, "command failed");
	return r;
}

redisReply *
rconn_transaction(struct rconn *rc, size_t n, const struct rcmd *cmds)
{
	const char	*multi[] = { "MULTI" }, *exec[] = { "EXEC" };
	const size_t	 multilen[] = { 5 }, execlen[] = { 4 };
	redisContext	*ctx;
	void		*reply;
	size_t		 i;

	if ((ctx = get_ctx(rc, now_ms() + rc->connect_timeout_ms, 0)) ==
	    NULL)
		return NULL;
	if (redisAppendCommandArgv(ctx, 1, multi, multilen) != REDIS_OK)
		goto failed;
	for (i = 0; i < n; i++)
		if (redisAppendCommandArgv(ctx, cmds[i].argc, cmds[i].argv,
		    cmds[i].argvlen) != REDIS_OK)
			goto failed;
	if (redisAppendCommandArgv(ctx, 1, exec, execlen) != REDIS_OK)
		goto failed;

	/* MULTI's and each command's acknowledgement, then EXEC's reply. */
	for (i = 0; i < n + 2; i++) {
		if (redisGetReply(ctx, &reply) != REDIS_OK)
			goto failed;
		if (i == n + 1)
			return reply;
		freeReplyObject(reply);
	}
failed:
	/* Whatever was half sent or half read, the connection is dropped. */
	fail(rc, "transaction failed");
	return NULL;
}

int
rconn_ping(struct rconn *rc, int timeout_ms)
{
	const char	*argv[] = { "PING" };
	size_t		 argvlen[] = { 4 };
	int64_t		 deadline = now_ms() + timeout_ms;
	int64_t		 connect_by = deadline;
	redisReply	*r;
	int		 ok;

	/*
	 * The back-off is ignored here, as a health check must see a
	 * server that has just come back; the wait is bounded by timeout_ms
	 * however the configured timeouts are set.
	 */
	if (rc->connect_timeout_ms > 0 &&
	    now_ms() + rc->connect_timeout_ms < connect_by)
		connect_by = now_ms() + rc->connect_timeout_ms;
	if (get_ctx(rc, connect_by, 1) == NULL)
		return -1;
	if (redisSetTimeout(rc->ctx, ms_to_tv(left_ms(deadline))) !=
	    REDIS_OK) {
		fail(rc, "cannot set the command timeout");
		return -1;
	}

	if ((r = redisCommandArgv(rc->ctx, 1, argv, argvlen)) == NULL) {
		fail(rc, "ping failed");
		return -1;
	}
	ok = r->type == REDIS_REPLY_STATUS && strcmp(r->str, "PONG") == 0;
	freeReplyObject(r);

	if (redisSetTimeout(rc->ctx, ms_to_tv(rc->command_timeout_ms)) !=
	    REDIS_OK) {
		fail(rc, "cannot set the command timeout");
		return -1;
	}
	return ok ? 0 : -1;
}
