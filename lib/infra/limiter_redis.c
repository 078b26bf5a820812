/*
 * limiter_redis.c: sliding-window rate limits in Redis sorted sets.
 */
#include <config.h>	/* the build's, not infra/config.h beside this file */

#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "domain/error.h"
#include "infra/limiter_redis.h"
#include "infra/log.h"
#include "infra/redis.h"
#include "infra/redis_script.h"
#include "usecase/ports.h"

/* "gt:rl:", the longest kind name, ':', the key and its NUL. */
#define KEY_BUF		(sizeof("gt:rl:requester:") + LIMITER_KEY_MAX)

/*
 * One decision over every rule; see limiter_redis.h for the figures.
 *
 * KEYS[i]: rule i's log.  ARGV[1]: '1' to take, '0' to peek; ARGV[2]:
 * the member to take; ARGV[1 + 2i], ARGV[2 + 2i]: rule i's limit and
 * window in milliseconds.  Returns { allowed, retry_after_s, then
 * remaining and reset_s for each rule }.  An entry scored s is in the
 * window until s + window: at that time it is dropped.
 */
static const char decide_lua[] =
    "local t = redis.call('TIME')\n"
    "local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"
    "local count, allowed = {}, 1\n"
    "for i = 1, #KEYS do\n"
    "	local window = tonumber(ARGV[2 + 2 * i])\n"
    "	redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now - window)\n"
    "	count[i] = redis.call('ZCARD', KEYS[i])\n"
    "	if count[i] >= tonumber(ARGV[1 + 2 * i]) then\n"
    "		allowed = 0\n"
    "	end\n"
    "end\n"
    "if allowed == 1 and ARGV[1] == '1' then\n"
    "	for i = 1, #KEYS do\n"
    "		local added = redis.call('ZADD', KEYS[i], now, ARGV[2])\n"
    "		count[i] = count[i] + added\n"
    "	end\n"
    "end\n"
    "\n"
    "-- milliseconds until the entry of rank r (0 the oldest, -1 the\n"
    "-- newest) leaves the window\n"
    "local function leaves(key, r, window)\n"
    "	local e = redis.call('ZRANGE', key, r, r, 'WITHSCORES')\n"
    "	return tonumber(e[2]) + window - now\n"
    "end\n"
    "local function seconds(ms)\n"
    "	return math.max(1, math.ceil(ms / 1000))\n"
    "end\n"
    "\n"
    "local out = { allowed, 0 }\n"
    "for i = 1, #KEYS do\n"
    "	local limit = tonumber(ARGV[1 + 2 * i])\n"
    "	local window = tonumber(ARGV[2 + 2 * i])\n"
    "	out[1 + 2 * i] = math.max(0, limit - count[i])\n"
    "	out[2 + 2 * i] = 0\n"
    "	if count[i] > 0 then\n"
    "		local newest = leaves(KEYS[i], -1, window)\n"
    "		out[2 + 2 * i] = seconds(leaves(KEYS[i], 0, window))\n"
    "		redis.call('PEXPIRE', KEYS[i], newest)\n"
    "	end\n"
    "	if allowed == 0 and count[i] >= limit then\n"
    "		local wait = leaves(KEYS[i], count[i] - limit, window)\n"
    "		out[2] = math.max(out[2], seconds(wait))\n"
    "	end\n"
    "end\n"
    "return out\n";

/* The kinds' names in keys, by enum limit_kind. */
static const char *const kind_names[] = {
	[LIMIT_REPO] = "repo",
	[LIMIT_REQUESTER] = "requester"
};

struct limiter_redis {
	struct rconn		*rc;
	struct redis_script	 decide;
};

/* A decision's command arguments, with the texts they point into. */
struct decide_args {
	char		 keys[LIMIT_MAX_RULES][KEY_BUF];
	char		 nums[LIMIT_MAX_RULES][2][24];
	const char	*argv[3 * LIMIT_MAX_RULES + 2];
	size_t		 argvlen[3 * LIMIT_MAX_RULES + 2];
};

struct limiter_redis *
limiter_redis_new(struct rconn *rc)
{
	struct limiter_redis	*l;

	if ((l = calloc(1, sizeof(*l))) == NULL)
		return NULL;
	l->rc = rc;
	if (redis_script_init(&l->decide, decide_lua) == -1) {
		free(l);
		return NULL;
	}
	return l;
}

void
limiter_redis_free(struct limiter_redis *l)
{
	free(l);
}

static void
log_failed(const char *op, const char *why)
{
	log_event(LOG_WARN, "limiter_failed", "op", op, "error", why, NULL);
}

/*
 * Writes the rule's key into buf of KEY_BUF bytes.  Returns its length,
 * or -1 when the rule's key is longer than LIMITER_KEY_MAX.
 */
static int
rule_key(char *buf, const struct limit_rule *rule)
{
	assert(rule->kind == LIMIT_REPO || rule->kind == LIMIT_REQUESTER);
	assert(rule->key != NULL);

	if (strlen(rule->key) > LIMITER_KEY_MAX)
		return -1;
	return snprintf(buf, KEY_BUF, "gt:rl:%s:%s", kind_names[rule->kind],
	    rule->key);
}

/*
 * Fills a with the script's keys and arguments for the rules.  Returns
 * GT_OK, or GT_ERR_INVALID (logged) for a key that is too long.
 */
static enum gt_err
build_args(struct decide_args *a, const struct limit_rule *rules, size_t n,
    int take, const char *member)
{
	size_t	 i, arg;
	int	 len;

	assert(n >= 1 && n <= LIMIT_MAX_RULES);

	for (i = 0; i < n; i++) {
		assert(rules[i].limit >= 1 && rules[i].window_s >= 1);
		assert(rules[i].window_s <= INT64_MAX / 1000);
		if ((len = rule_key(a->keys[i], &rules[i])) == -1) {
			log_failed(take ? "take" : "peek", "rule key too long");
			return GT_ERR_INVALID;
		}
		a->argv[i] = a->keys[i];
		a->argvlen[i] = (size_t)len;
	}

	arg = n;
	a->argv[arg] = take ? "1" : "0";
	a->argvlen[arg++] = 1;
	a->argv[arg] = member;
	a->argvlen[arg++] = strlen(member);
	for (i = 0; i < n; i++) {
		snprintf(a->nums[i][0], sizeof(a->nums[i][0]), "%lld",
		    (long long)rules[i].limit);
		snprintf(a->nums[i][1], sizeof(a->nums[i][1]), "%lld",
		    (long long)rules[i].window_s * 1000);
		a->argv[arg] = a->nums[i][0];
		a->argvlen[arg++] = strlen(a->nums[i][0]);
		a->argv[arg] = a->nums[i][1];
		a->argvlen[arg++] = strlen(a->nums[i][1]);
	}
	return GT_OK;
}

/*
 * Reads the script's answer for n rules into d.  Returns GT_OK, or
 * GT_ERR_INTERNAL (logged) for an error or an answer of another shape.
 */
static enum gt_err
read_decision(const redisReply *r, size_t n, const char *op,
    struct limit_decision *d)
{
	size_t	 i;

	if (r->type == REDIS_REPLY_ERROR) {
		log_failed(op, r->str);
		return GT_ERR_INTERNAL;
	}
	if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 + 2 * n)
		goto bad_shape;
	for (i = 0; i < r->elements; i++)
		if (r->element[i]->type != REDIS_REPLY_INTEGER)
			goto bad_shape;

	memset(d, 0, sizeof(*d));
	d->allowed = r->element[0]->integer == 1;
	d->retry_after_s = r->element[1]->integer;
	for (i = 0; i < n; i++) {
		d->remaining[i] = r->element[2 + 2 * i]->integer;
		d->reset_s[i] = r->element[3 + 2 * i]->integer;
	}
	return GT_OK;

bad_shape:
	log_failed(op, "unexpected reply to the decision script");
	return GT_ERR_INTERNAL;
}

/* take and peek: one run of the decision script. */
static enum gt_err
decide(struct limiter_redis *l, const struct limit_rule *rules, size_t n,
    int take, const char *member, struct limit_decision *d)
{
	struct decide_args	 a;
	redisReply		*r;
	enum gt_err		 err;

	if ((err = build_args(&a, rules, n, take, member)) != GT_OK)
		return err;
	r = redis_script_run(l->rc, &l->decide, (int)n, (int)(2 + 2 * n),
	    a.argv, a.argvlen);
	if (r == NULL)
		return GT_ERR_UNAVAILABLE;
	err = read_decision(r, n, take ? "take" : "peek", d);
	freeReplyObject(r);
	return err;
}

static enum gt_err
limiter_take(void *ctx, const struct limit_rule *rules, size_t n,
    const char *member, struct limit_decision *d)
{
	assert(member != NULL);
	return decide(ctx, rules, n, 1, member, d);
}

static enum gt_err
limiter_peek(void *ctx, const struct limit_rule *rules, size_t n,
    struct limit_decision *d)
{
	return decide(ctx, rules, n, 0, "", d);
}

static void
limiter_give_back(void *ctx, const struct limit_rule *rules, size_t n,
    const char *member)
{
	struct limiter_redis	*l = ctx;
	char			 key[KEY_BUF];
	const char		*argv[] = { "ZREM", key, member };
	size_t			 argvlen[3];
	redisReply		*r;
	size_t			 i;
	int			 len;

	assert(n <= LIMIT_MAX_RULES && member != NULL);

	for (i = 0; i < n; i++) {
		if ((len = rule_key(key, &rules[i])) == -1) {
			log_failed("give_back", "rule key too long");
			continue;
		}
		argvlen[0] = strlen(argv[0]);
		argvlen[1] = (size_t)len;
		argvlen[2] = strlen(member);
		if ((r = rconn_command(l->rc, 3, argv, argvlen)) == NULL) {
			log_failed("give_back", "redis unavailable");
			return;
		}
		if (r->type == REDIS_REPLY_ERROR)
			log_failed("give_back", r->str);
		freeReplyObject(r);
	}
}

void
limiter_redis_port(struct limiter_redis *l, struct limiter *out)
{
	assert(l != NULL);
	out->ctx = l;
	out->take = limiter_take;
	out->peek = limiter_peek;
	out->give_back = limiter_give_back;
}
