/*
 * run_cache_redis.h: the run status cache (struct run_cache) in Redis.
 *
 * A run's entry is the hash "gt:run:<id>" with two fields: "json", the
 * run's JSON text as GET /api/runs/:run_id sends it, and "rank", how far
 * the run has gone: 0 queued, 1 running, 2 finished (succeeded, failed
 * and cancelled rank alike, as a finished run never changes again).
 *
 * put of a queued or running run is one Lua script, so the check and the
 * write are atomic: an entry is replaced only by one of the same or a
 * higher rank.  A writer that read a run before its dispatcher moved it
 * forward therefore cannot put the old status back.  A finished run ranks
 * highest and replaces any entry, so its put needs no check: HSET and
 * PEXPIRE in one MULTI transaction, cheaper for Redis.  Each put sets the entry's expiry, by the rank it
 * stores: RUN_CACHE_FINISHED_TTL_MS for a finished run, which never
 * changes, and RUN_CACHE_UNFINISHED_TTL_MS for one that may still move,
 * which bounds how stale a poll can be when Redis missed a change.
 *
 * Note: the rank guard lasts as long as the entry does.  Once an
 * unfinished entry has expired, a slow writer may put an older status
 * back; it is then stale for RUN_CACHE_UNFINISHED_TTL_MS at most.
 */
#ifndef GT_RUN_CACHE_REDIS_H
#define GT_RUN_CACHE_REDIS_H

/* How long a finished run stays cached: 24 hours. */
#define RUN_CACHE_FINISHED_TTL_MS	(24LL * 60 * 60 * 1000)

/* How long a queued or running run stays cached: 5 seconds. */
#define RUN_CACHE_UNFINISHED_TTL_MS	5000LL

struct rconn;
struct run_cache;
struct run_cache_redis;

/*
 * A cache on rc, which stays the caller's: it must outlive the cache and
 * is freed by the caller after run_cache_redis_free().  Returns NULL
 * when memory is short.
 */
struct run_cache_redis	*run_cache_redis_new(struct rconn *rc);

/* Frees the cache (not its connection).  Accepts NULL. */
void			 run_cache_redis_free(struct run_cache_redis *);

/*
 * Fills out with the port's functions, their ctx being the cache: out is
 * valid as long as the cache is.
 *
 * get copies the JSON text into the arena and answers GT_OK, or
 * GT_ERR_NOT_FOUND when nothing is cached, GT_ERR_UNAVAILABLE when Redis
 * could not be reached, GT_ERR_NOMEM, or GT_ERR_INTERNAL (logged) when
 * Redis answered with an error (a key of another type, say) or the id is
 * far longer than a run id.  put and invalidate log their failures as
 * event=run_cache_failed.
 */
void			 run_cache_redis_port(struct run_cache_redis *,
			    struct run_cache *out);

#endif
