/*
 * run_cache_redis.c: the run status cache in Redis.
 */
#include <config.h>	/* the build's, not infra/config.h beside this file */

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "domain/arena.h"
#include "domain/error.h"
#include "domain/run.h"
#include "infra/log.h"
#include "infra/redis.h"
#include "infra/redis_script.h"
#include "infra/run_cache_redis.h"
#include "usecase/ports.h"

#define KEY_PREFIX	"gt:run:"

/* Ranks, as stored: a later status never ranks lower. */
#define RANK_QUEUED	0
#define RANK_RUNNING	1
#define RANK_FINISHED	2

/*
 * KEYS[1]: the entry; ARGV[1], ARGV[2], ARGV[3]: the rank, the JSON text
 * and the expiry in milliseconds.  Stores unless a higher rank is cached
 * (a rank that does not read as a number was not written here and is
 * replaced).  Returns 1 when it stored, 0 when it did not.
 */
static const char put_lua[] =
    "local cached = tonumber(redis.call('HGET', KEYS[1], 'rank'))\n"
    "if cached and cached > tonumber(ARGV[1]) then\n"
    "	return 0\n"
    "end\n"
    "redis.call('HSET', KEYS[1], 'rank', ARGV[1], 'json', ARGV[2])\n"
    "redis.call('PEXPIRE', KEYS[1], ARGV[3])\n"
    "return 1\n";

struct run_cache_redis {
	struct rconn		*rc;
	struct redis_script	 put;
};

struct run_cache_redis *
run_cache_redis_new(struct rconn *rc)
{
	struct run_cache_redis	*c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->rc = rc;
	if (redis_script_init(&c->put, put_lua) == -1) {
		free(c);
		return NULL;
	}
	return c;
}

void
run_cache_redis_free(struct run_cache_redis *c)
{
	free(c);
}

/* Logs that an operation on the run's entry failed, and why. */
static void
log_failed(const char *op, const char *id, const char *why)
{
	log_event(LOG_WARN, "run_cache_failed", "op", op, "run", id,
	    "error", why, NULL);
}

/*
 * Writes the run's key into buf.  Returns its length, or -1 (logged)
 * when the id does not fit, which no valid run id does.
 */
static int
run_key(char *buf, size_t bufsz, const char *op, const char *id)
{
	int	 n;

	n = snprintf(buf, bufsz, KEY_PREFIX "%s", id);
	if (n < 0 || (size_t)n >= bufsz) {
		log_failed(op, id, "run id too long");
		return -1;
	}
	return n;
}

static enum gt_err
cache_get(void *ctx, struct arena *a, const char *id, const char **json,
    size_t *len)
{
	struct run_cache_redis	*c = ctx;
	char			 key[128];
	const char		*argv[] = { "HGET", key, "json" };
	size_t			 argvlen[3];
	redisReply		*r;
	enum gt_err		 err = GT_OK;
	char			*copy;
	int			 keylen;

	if ((keylen = run_key(key, sizeof(key), "get", id)) == -1)
		return GT_ERR_INTERNAL;
	argvlen[0] = strlen(argv[0]);
	argvlen[1] = (size_t)keylen;
	argvlen[2] = strlen(argv[2]);
	if ((r = rconn_command(c->rc, 3, argv, argvlen)) == NULL)
		return GT_ERR_UNAVAILABLE;

	switch (r->type) {
	case REDIS_REPLY_NIL:
		err = GT_ERR_NOT_FOUND;
		break;
	case REDIS_REPLY_STRING:
		if ((copy = arena_alloc(a, r->len + 1)) == NULL) {
			err = GT_ERR_NOMEM;
			break;
		}
		memcpy(copy, r->str, r->len);
		copy[r->len] = '\0';
		*json = copy;
		*len = r->len;
		break;
	case REDIS_REPLY_ERROR:
		log_failed("get", id, r->str);
		err = GT_ERR_INTERNAL;
		break;
	default:
		log_failed("get", id, "unexpected reply to HGET");
		err = GT_ERR_INTERNAL;
		break;
	}
	freeReplyObject(r);
	return err;
}

/*
 * A finished run ranks highest, so its put stores whatever is cached:
 * HSET and PEXPIRE in one transaction do what the script does, without
 * its cost.  (Redis runs a short script an order of magnitude slower
 * than the two commands.)
 */
static void
put_finished(struct run_cache_redis *c, const char *id, const char *key,
    size_t keylen, const char *json, size_t len)
{
	char		 rank[4], ttl[24];
	const char	*hset[] = { "HSET", key, "rank", rank, "json", json };
	const char	*pexpire[] = { "PEXPIRE", key, ttl };
	size_t		 hsetlen[6], pexpirelen[3], i;
	struct rcmd	 cmds[2];
	redisReply	*r;

	snprintf(rank, sizeof(rank), "%d", RANK_FINISHED);
	snprintf(ttl, sizeof(ttl), "%lld", RUN_CACHE_FINISHED_TTL_MS);
	hsetlen[0] = 4;
	hsetlen[1] = pexpirelen[1] = keylen;
	hsetlen[2] = 4;
	hsetlen[3] = strlen(rank);
	hsetlen[4] = 4;
	hsetlen[5] = len;
	pexpirelen[0] = 7;
	pexpirelen[2] = strlen(ttl);
	cmds[0] = (struct rcmd){ 6, hset, hsetlen };
	cmds[1] = (struct rcmd){ 3, pexpire, pexpirelen };

	if ((r = rconn_transaction(c->rc, 2, cmds)) == NULL) {
		log_failed("put", id, "redis unavailable");
		return;
	}
	if (r->type == REDIS_REPLY_ERROR)
		log_failed("put", id, r->str);
	else if (r->type != REDIS_REPLY_ARRAY || r->elements != 2)
		log_failed("put", id, "unexpected reply to the transaction");
	else
		for (i = 0; i < r->elements; i++)
			if (r->element[i]->type == REDIS_REPLY_ERROR) {
				log_failed("put", id, r->element[i]->str);
				break;
			}
	freeReplyObject(r);
}

static void
cache_put(void *ctx, const char *id, enum run_status status,
    const char *json, size_t len)
{
	struct run_cache_redis	*c = ctx;
	char			 key[128], rank[4], ttl[24];
	const char		*argv[] = { key, rank, json, ttl };
	size_t			 argvlen[4];
	redisReply		*r;
	int			 keylen;

	if ((keylen = run_key(key, sizeof(key), "put", id)) == -1)
		return;
	if (run_status_finished(status)) {
		put_finished(c, id, key, (size_t)keylen, json, len);
		return;
	}
	snprintf(rank, sizeof(rank), "%d",
	    status == RUN_RUNNING ? RANK_RUNNING : RANK_QUEUED);
	snprintf(ttl, sizeof(ttl), "%lld", RUN_CACHE_UNFINISHED_TTL_MS);
	argvlen[0] = (size_t)keylen;
	argvlen[1] = strlen(rank);
	argvlen[2] = len;
	argvlen[3] = strlen(ttl);

	if ((r = redis_script_run(c->rc, &c->put, 1, 3, argv, argvlen)) ==
	    NULL) {
		log_failed("put", id, "redis unavailable");
		return;
	}
	if (r->type == REDIS_REPLY_ERROR)
		log_failed("put", id, r->str);
	else if (r->type != REDIS_REPLY_INTEGER)
		log_failed("put", id, "unexpected reply to the put script");
	freeReplyObject(r);
}

static void
cache_invalidate(void *ctx, const char *id)
{
	struct run_cache_redis	*c = ctx;
	char			 key[128];
	const char		*argv[] = { "DEL", key };
	size_t			 argvlen[2];
	redisReply		*r;
	int			 keylen;

	if ((keylen = run_key(key, sizeof(key), "invalidate", id)) == -1)
		return;
	argvlen[0] = strlen(argv[0]);
	argvlen[1] = (size_t)keylen;
	if ((r = rconn_command(c->rc, 2, argv, argvlen)) == NULL) {
		log_failed("invalidate", id, "redis unavailable");
		return;
	}
	if (r->type == REDIS_REPLY_ERROR)
		log_failed("invalidate", id, r->str);
	freeReplyObject(r);
}

void
run_cache_redis_port(struct run_cache_redis *c, struct run_cache *out)
{
	assert(c != NULL);
	out->ctx = c;
	out->get = cache_get;
	out->put = cache_put;
	out->invalidate = cache_invalidate;
}
