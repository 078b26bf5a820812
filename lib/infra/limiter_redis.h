/*
 * limiter_redis.h: the rate limiter (struct limiter) in Redis.
 *
 * Each rule is a sliding-window log: the sorted set "gt:rl:<kind>:<key>"
 * ("gt:rl:repo:octo/widgets", "gt:rl:requester:alice"), one member per
 * creation taken, scored by the time it was taken in milliseconds.  The
 * key is used as given: it travels as a command argument, never inside a
 * script's text, so any bytes are safe in it.
 *
 * A decision is one Lua script over every rule, so it is atomic against
 * every other worker on every host, and it reads the time from the
 * server (TIME), so hosts whose clocks differ still share one window.
 * The script drops the entries older than the window, counts the rest,
 * and, for take, adds the member to every set only when every rule
 * counts fewer than its limit.  Each set that is left non-empty expires
 * when its newest entry leaves the window, so no key outlives its use;
 * one that is left empty no longer exists.
 *
 * The decision's figures, for each rule i:
 *
 *	remaining[i]	the limit less the entries in the window after
 *			the decision (0 when over it: a lowered limit)
 *	reset_s[i]	whole seconds, rounded up and at least 1, until
 *			the oldest entry leaves the window; 0 when the
 *			window is empty, as there is nothing to wait for
 *	retry_after_s	when refused: the longest wait, among the rules
 *			that refused, until the rule counts fewer than
 *			its limit (at least 1); 0 when allowed
 *
 * Errors: GT_ERR_UNAVAILABLE when Redis could not be reached (the caller
 * falls back to the database); GT_ERR_INTERNAL, logged as
 * event=limiter_failed, when it answered with an error (a key holding
 * another type, say) or an answer of the wrong shape; GT_ERR_INVALID when
 * a rule's key is longer than LIMITER_KEY_MAX bytes.
 *
 * A member taken twice is one entry, timed by the later take.  A take
 * answered GT_ERR_UNAVAILABLE because the answer timed out may have been
 * recorded all the same: that creation then counts for one window.
 *
 * Rules must be 1 to LIMIT_MAX_RULES, each with a limit and a window of at
 * least 1 and a kind of enum limit_kind: the callers build them from
 * validated configuration, and anything else is a bug (assert).
 *
 * Note: the keys of one decision may lie in different hash slots, which
 * Redis Cluster refuses; this limiter wants one server (or a primary with
 * replicas), of version 5 or later, whose scripts may write after TIME.
 */
#ifndef GT_LIMITER_REDIS_H
#define GT_LIMITER_REDIS_H

/* The longest rule key accepted, in bytes (a repository is 140 at most). */
#define LIMITER_KEY_MAX	256

struct limiter;
struct limiter_redis;
struct rconn;

/*
 * A limiter on rc, which stays the caller's: it must outlive the limiter
 * and is freed by the caller after limiter_redis_free().  Returns NULL
 * when memory is short.
 */
struct limiter_redis	*limiter_redis_new(struct rconn *rc);

/* Frees the limiter (not its connection).  Accepts NULL. */
void			 limiter_redis_free(struct limiter_redis *);

/*
 * Fills out with the port's functions, their ctx being the limiter: out
 * is valid as long as the limiter is.  give_back logs its failures as
 * event=limiter_failed; the creation it could not give back leaves the
 * window with the others.
 */
void			 limiter_redis_port(struct limiter_redis *,
			    struct limiter *out);

#endif
