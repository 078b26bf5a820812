/*
 * check_run_queue.c: the PostgreSQL run queue against a real server.
 *
 * The server is GT_DATABASE_URL and the migrations are in $GT_SRCDIR/sql;
 * without either the test fails.  Each test works in a scratch database
 * of its own, gt_queue_test_<runner pid>_<test pid>, migrated with
 * migrate_apply() and dropped when the test ends (or, when it failed,
 * when the test case ends).  The queue reaches it through a dispatcher's
 * bounded connection (infra/pg.h) and listens on a connection of its
 * own; the tests queue runs behind its back through a plain libpq
 * connection, which lets them choose when each run was created, and read
 * what the queue wrote the same way.  Concurrent dispatchers are forked
 * processes, each with connections of its own.
 */
#include <config.h>

#include <sys/stat.h>
#include <sys/wait.h>

#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <check.h>
#include <libpq-fe.h>

#include "domain/arena.h"
#include "domain/run.h"
#include "infra/config.h"
#include "infra/migrate.h"
#include "infra/pg.h"
#include "infra/pg_store.h"
#include "infra/run_queue_pg.h"
#include "infra/run_store_pg.h"
#include "integration/scratch.h"
#include "usecase/ports.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

/* What a queue call may wait. */
#define TIMEOUT_MS	5000

/*
 * How long a notification may take to reach the listener: it leaves at
 * commit, over loopback.
 */
#define NOTIFY_MS	1000

/* The queue's pause between two tries to listen (run_queue_pg.c). */
#define LISTEN_RETRY_MS	1000

/*
 * When the seeded runs were created, plus their own offset in seconds: a
 * fixed past, so that a test decides their order, ties included.
 */
#define CREATED_BASE	"'2026-01-01 00:00:00+00'::timestamptz"
#define CREATED_BASE_MS	1767225600000LL

/* The installation and comment kind of every seeded webhook run. */
#define INSTALLATION	"9001"
#define COMMENT_KIND	"issue_comment"

/* The backends that LISTEN: their last statement was one. */
#define LISTENERS_SQL \
	"FROM pg_stat_activity WHERE datname = current_database() AND " \
	"query LIKE 'LISTEN %'"

/* The queue over the running test's scratch database (scratch.h). */
static struct config	 cfg;		/* the queue's: must outlive it */
static struct pgconn	*pc;
static struct run_queue_pg *qp;
static struct run_queue	 queue;
static struct pg_store	*sp;
static struct run_store	 store;
static struct arena	*arena;

static int64_t
now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Asserts what expr says of the run id, read behind the queue's back. */
static void
run_is(const char *id, const char *expr, const char *want)
{
	char	 sql[512];
	int	 n;

	n = snprintf(sql, sizeof(sql), "SELECT %s FROM runs WHERE id = $1",
	    expr);
	ck_assert(n > 0 && (size_t)n < sizeof(sql));
	scratch_value_is_p(sql, 1, (const char *const[]){ id }, want);
}

/*
 * Checked fixture: a migrated scratch database, a queue over it, and a
 * run store on the same connection to ask for cancels as a worker does.
 * Nothing connects before the first call.
 */
static void
queue_setup(void)
{
	scratch_create();

	memset(&cfg, 0, sizeof(cfg));
	cfg.database_url = scratch.url;
	cfg.db_connect_timeout_ms = TIMEOUT_MS;
	cfg.statement_timeout_ms = 2 * TIMEOUT_MS;
	ck_assert_ptr_nonnull(pc = pgconn_new(&cfg));
	ck_assert_ptr_nonnull(qp = run_queue_pg_new(pc, &cfg, TIMEOUT_MS));
	run_queue_pg_port(qp, &queue);
	ck_assert_ptr_nonnull(sp = pg_store_new(pc, TIMEOUT_MS));
	run_store_pg_port(sp, &store);
	ck_assert_ptr_nonnull(arena = arena_new());
}

static void
queue_teardown(void)
{
	arena_free(arena);
	pg_store_free(sp);
	run_queue_pg_free(qp);
	pgconn_free(pc);
	scratch_drop();
}

/*
 * Queues a run behind the queue's back on repo's target (type, number),
 * created at seconds after CREATED_BASE.  A comment_id other than 0
 * makes it a webhook run from that comment, of installation INSTALLATION.
 * Returns its id, which the caller frees.
 */
static char *
seed_run(const char *repo, const char *type, int number, int at,
    int64_t comment_id)
{
	char		 num[16], sec[16], comment[24];
	const char	*p[5] = { repo, type, num, sec, NULL };

	snprintf(num, sizeof(num), "%d", number);
	snprintf(sec, sizeof(sec), "%d", at);
	if (comment_id != 0) {
		snprintf(comment, sizeof(comment), "%lld",
		    (long long)comment_id);
		p[4] = comment;
	}
	return scratch_value_p("INSERT INTO runs (repo, target_type, "
	    "target_number, instruction, source, requester, created_at, "
	    "installation_id, comment_id, comment_kind) VALUES ($1, $2, "
	    "$3::integer, 'seeded', CASE WHEN $5::bigint IS NULL THEN 'api' "
	    "ELSE 'webhook' END, 'alice', " CREATED_BASE " + $4::integer * "
	    "interval '1 second', CASE WHEN $5::bigint IS NULL THEN NULL ELSE "
	    INSTALLATION " END, $5::bigint, CASE WHEN $5::bigint IS NULL THEN "
	    "NULL ELSE '" COMMENT_KIND "' END) RETURNING id", 5, p);
}

/* Claims for dispatcher; the claim must take the run want. */
static void
claims(const char *dispatcher, const char *want)
{
	struct claimed_run	 cr;

	ck_assert_int_eq(queue.claim(queue.ctx, arena, dispatcher, &cr),
	    GT_OK);
	ck_assert_str_eq(cr.run.id, want);
}

static void
claims_nothing(const char *dispatcher)
{
	struct claimed_run	 cr;

	ck_assert_int_eq(queue.claim(queue.ctx, arena, dispatcher, &cr),
	    GT_ERR_NOT_FOUND);
}

/* A success as a dispatcher reports it, without the runner's figures. */
static struct run_outcome
success(const char *id)
{
	struct run_outcome	 o;

	memset(&o, 0, sizeof(o));
	o.id = id;
	o.status = RUN_SUCCEEDED;
	o.has_exit_code = 1;
	o.stage = STAGE_NONE;
	o.duration_ms = 1000;
	o.queue_wait_ms = 10;
	return o;
}

static void
finishes(const char *id)
{
	struct run_outcome	 o = success(id);
	struct run		 got;

	ck_assert_int_eq(queue.finish(queue.ctx, arena, &o, &got), GT_OK);
	ck_assert_int_eq(got.status, RUN_SUCCEEDED);
}

/*
 * Fails a running run behind the queue's back, as another dispatcher
 * does with a run it took for lost.
 */
static void
fail_behind(const char *id)
{
	PQclear(scratch_must_p(scratch.side, "UPDATE runs SET status = "
	    "'failed', finished_at = greatest(now(), started_at), error_stage "
	    "= 'interrupted', error_message = 'lost' WHERE id = $1 AND status "
	    "= 'running'", 1, (const char *const[]){ id }));
}

/* Moves the run's heartbeat s seconds into the past. */
static void
age_heartbeat(const char *id, int s)
{
	char	 sec[16];

	snprintf(sec, sizeof(sec), "%d", s);
	PQclear(scratch_must_p(scratch.side, "UPDATE runs SET heartbeat_at = "
	    "now() - $2::integer * interval '1 second' WHERE id = $1", 2,
	    (const char *const[]){ id, sec }));
}

/* Whether fd becomes readable (or hung up) within ms milliseconds. */
static int
readable(int fd, int ms)
{
	struct pollfd	 pfd;
	int		 rc;

	pfd.fd = fd;
	pfd.events = POLLIN;
	pfd.revents = 0;
	ck_assert_int_ne(rc = poll(&pfd, 1, ms), -1);
	return rc == 1;
}

START_TEST(test_claim_takes_the_oldest_queued_run_first)
{
	struct claimed_run	 cr;
	char			*late, *early, *twin_a, *twin_b;
	const char		*order[4];
	int64_t			 before, after;
	size_t			 i;

	claims_nothing("d-1");

	late = seed_run("octo/widgets", "issue", 4, 30, 0);
	early = seed_run("Octo/Widgets", "pull_request", 1, 10, 0);
	twin_a = seed_run("octo/widgets", "issue", 2, 20, 0);
	twin_b = seed_run("octo/widgets", "issue", 3, 20, 0);

	/* Created at the same instant, the twins go by id. */
	order[0] = early;
	order[1] = strcmp(twin_a, twin_b) < 0 ? twin_a : twin_b;
	order[2] = order[1] == twin_a ? twin_b : twin_a;
	order[3] = late;
	for (i = 0; i < NELEM(order); i++) {
		before = (int64_t)time(NULL) * 1000;
		ck_assert_int_eq(queue.claim(queue.ctx, arena, "d-1", &cr),
		    GT_OK);
		after = (int64_t)time(NULL) * 1000 + 1000;
		ck_assert_str_eq(cr.run.id, order[i]);
		ck_assert_int_eq(cr.run.status, RUN_RUNNING);
		ck_assert_int_ge(cr.run.started_at_ms, before);
		ck_assert_int_le(cr.run.started_at_ms, after);
		ck_assert_int_eq(cr.run.finished_at_ms, -1);
		run_is(order[i], "concat_ws(' ', status, dispatcher_id, "
		    "started_at IS NOT NULL, heartbeat_at = started_at)",
		    "running d-1 t t");
	}
	claims_nothing("d-1");
	free(late);
	free(early);
	free(twin_a);
	free(twin_b);
}
END_TEST

START_TEST(test_claim_reads_the_run_it_took)
{
	struct claimed_run	 cr;
	char			*id;

	id = seed_run("Octo/Widgets", "pull_request", 2147483647, 10, 0);
	ck_assert_int_eq(queue.claim(queue.ctx, arena, "d-1", &cr), GT_OK);
	ck_assert_str_eq(cr.run.id, id);
	ck_assert_str_eq(cr.run.repo, "Octo/Widgets");
	ck_assert_int_eq(cr.run.target_type, TARGET_PULL_REQUEST);
	ck_assert_int_eq(cr.run.target_number, 2147483647);
	ck_assert_str_eq(cr.run.instruction, "seeded");
	ck_assert_int_eq(cr.run.source, SOURCE_API);
	ck_assert_int_eq(cr.run.created_at_ms, CREATED_BASE_MS + 10000);
	ck_assert_int_eq(cr.run.has_exit_code, 0);
	ck_assert_int_eq(cr.run.error_stage, STAGE_NONE);
	ck_assert_ptr_null(cr.run.result_json);
	free(id);
}
END_TEST

START_TEST(test_claim_passes_over_a_run_another_session_holds)
{
	PGconn	*holder = scratch_connect(scratch.url);
	char	*held, *next;
	int64_t	 start;

	held = seed_run("octo/widgets", "issue", 1, 10, 0);
	next = seed_run("octo/widgets", "issue", 2, 20, 0);

	/* Another dispatcher is in the middle of claiming the oldest. */
	scratch_must(holder, "BEGIN");
	PQclear(scratch_must_p(holder, "SELECT 1 FROM runs WHERE id = $1 FOR "
	    "UPDATE", 1, (const char *const[]){ held }));
	start = now_ms();
	claims("d-1", next);
	ck_assert_int_lt(now_ms() - start, NOTIFY_MS);
	run_is(held, "status", "queued");

	scratch_must(holder, "ROLLBACK");
	claims("d-1", held);
	PQfinish(holder);
	free(held);
	free(next);
}
END_TEST

START_TEST(test_claim_waits_out_paused_repositories_and_targets)
{
	char	*in_paused_repo, *on_paused_target, *other_type;

	in_paused_repo = seed_run("octo/repo", "issue", 1, 10, 0);
	on_paused_target = seed_run("Octo/Other", "issue", 5, 20, 0);
	other_type = seed_run("octo/other", "pull_request", 5, 30, 0);

	/* Pauses are kept by repo_key: they match whatever the case. */
	scratch_must(scratch.side, "INSERT INTO paused_repos (repo_key, repo) "
	    "VALUES ('octo/repo', 'Octo/Repo')");
	scratch_must(scratch.side, "INSERT INTO paused_run_targets (repo_key, "
	    "target_type, target_number, repo) VALUES ('octo/other', 'issue', "
	    "5, 'OCTO/other')");
	claims("d-1", other_type);
	claims_nothing("d-1");

	/* Resumed: the waiting runs are taken. */
	scratch_must(scratch.side, "DELETE FROM paused_repos");
	claims("d-1", in_paused_repo);
	claims_nothing("d-1");
	scratch_must(scratch.side, "DELETE FROM paused_run_targets");
	claims("d-1", on_paused_target);
	free(in_paused_repo);
	free(on_paused_target);
	free(other_type);
}
END_TEST

START_TEST(test_claim_skips_a_target_that_has_a_running_run)
{
	char	*first, *same_target, *other_target;

	first = seed_run("octo/widgets", "issue", 1, 10, 0);
	same_target = seed_run("Octo/Widgets", "issue", 1, 20, 0);
	other_target = seed_run("octo/widgets", "issue", 2, 30, 0);

	claims("d-1", first);
	claims("d-2", other_target);
	claims_nothing("d-2");
	finishes(first);
	claims("d-2", same_target);
	free(first);
	free(same_target);
	free(other_target);
}
END_TEST

START_TEST(test_claim_tells_where_a_webhook_run_came_from)
{
	struct claimed_run	 cr;
	char			*hook, *api;

	hook = seed_run("octo/widgets", "issue", 1, 10, 4242);
	api = seed_run("octo/widgets", "issue", 2, 20, 0);

	ck_assert_int_eq(queue.claim(queue.ctx, arena, "d-1", &cr), GT_OK);
	ck_assert_str_eq(cr.run.id, hook);
	ck_assert_int_eq(cr.run.source, SOURCE_WEBHOOK);
	ck_assert_int_eq(cr.installation_id, 9001);
	ck_assert_int_eq(cr.comment_id, 4242);
	ck_assert_str_eq(cr.comment_kind, COMMENT_KIND);

	ck_assert_int_eq(queue.claim(queue.ctx, arena, "d-1", &cr), GT_OK);
	ck_assert_str_eq(cr.run.id, api);
	ck_assert_int_eq(cr.run.source, SOURCE_API);
	ck_assert_int_eq(cr.installation_id, 0);
	ck_assert_int_eq(cr.comment_id, 0);
	ck_assert_ptr_null(cr.comment_kind);
	free(hook);
	free(api);
}
END_TEST

#define RACE_RUNS		60
#define RACE_DISPATCHERS	4

/* What a racing dispatcher reports, in the order it happened. */
struct report {
	char	 what;			/* 'c' claimed, 'f' about to finish */
	char	 id[RUN_ID_LEN + 1];
};

/*
 * One of several dispatchers racing over the queue, with connections of
 * its own: waits for the start byte on go, then claims, holds and
 * finishes runs until none is left queued.  It reports each claim once
 * made and each finish before making it, so that the reports of one
 * target's runs can only interleave if the runs did.  It is not the
 * test's process, so it answers by exit status.
 */
static void __attribute__((noreturn))
racer(int go, int out, const char *id)
{
	struct pgconn		*dpc;
	struct run_queue_pg	*dqp;
	struct run_queue	 q;
	struct arena		*a;
	struct claimed_run	 cr;
	struct run_outcome	 o;
	struct run		 done;
	struct report		 r;
	PGconn			*look;
	PGresult		*res;
	enum gt_err		 e;
	char			 start;
	int			 left;

	if ((dpc = pgconn_new(&cfg)) == NULL ||
	    (dqp = run_queue_pg_new(dpc, &cfg, TIMEOUT_MS)) == NULL ||
	    (a = arena_new()) == NULL || pgconn_ping(dpc, TIMEOUT_MS) == -1 ||
	    PQstatus(look = PQconnectdb(scratch.url)) != CONNECTION_OK ||
	    read(go, &start, 1) != 1)
		_exit(2);
	run_queue_pg_port(dqp, &q);

	for (;;) {
		arena_reset(a);
		if ((e = q.claim(q.ctx, a, id, &cr)) == GT_ERR_NOT_FOUND) {
			/* Runs may still wait for another's target. */
			res = PQexec(look, "SELECT count(*) FROM runs "
			    "WHERE status = 'queued'");
			if (PQresultStatus(res) != PGRES_TUPLES_OK)
				_exit(3);
			left = atoi(PQgetvalue(res, 0, 0));
			PQclear(res);
			if (left == 0)
				_exit(0);
			usleep(1000);
			continue;
		}
		if (e != GT_OK)
			_exit(4);

		r.what = 'c';
		memcpy(r.id, cr.run.id, sizeof(r.id));
		if (write(out, &r, sizeof(r)) != (ssize_t)sizeof(r))
			_exit(5);
		usleep(2000);	/* the runner at work: others claim */
		r.what = 'f';
		if (write(out, &r, sizeof(r)) != (ssize_t)sizeof(r))
			_exit(5);
		o = success(cr.run.id);
		if (q.finish(q.ctx, a, &o, &done) != GT_OK)
			_exit(6);
	}
}

/* The index of id among the n ids. */
static size_t
index_of(char ids[][RUN_ID_LEN + 1], size_t n, const char *id)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (strcmp(ids[i], id) == 0)
			return i;
	ck_abort_msg("unknown run %s", id);
	return n;
}

START_TEST(test_concurrent_claims_take_each_run_once_one_per_target)
{
	char		 ids[RACE_RUNS][RUN_ID_LEN + 1], name[16], count[16];
	char		 go[RACE_DISPATCHERS];
	int		 target[RACE_RUNS], claimed[RACE_RUNS] = { 0 };
	int		 busy[RACE_RUNS] = { 0 };
	struct report	 r;
	PGresult	*res;
	pid_t		 pid[RACE_DISPATCHERS];
	ssize_t		 got;
	size_t		 i, k, reports = 0;
	int		 gofd[2], outfd[2], status;

	/*
	 * The runs over 8 targets, five in a row on each in turn: the
	 * oldest runs share a target, so that dispatchers claiming at once
	 * meet on the index of running targets.  The repository's name
	 * changes case from run to run and stays the same repository.
	 */
	snprintf(count, sizeof(count), "%d", RACE_RUNS);
	PQclear(scratch_must_p(scratch.side, "INSERT INTO runs (repo, "
	    "target_type, target_number, instruction, source, requester, "
	    "created_at) SELECT CASE i % 2 WHEN 0 THEN 'octo/race' ELSE "
	    "'Octo/Race' END, 'issue', (i - 1) / 5 % 8 + 1, 'race', 'api', "
	    "'x', " CREATED_BASE " + i * interval '1 second' FROM "
	    "generate_series(1, $1::integer) AS i", 1,
	    (const char *const[]){ count }));
	res = scratch_must_p(scratch.side, "SELECT id, dense_rank() OVER "
	    "(ORDER BY repo_key, target_type, target_number) - 1 FROM runs", 0,
	    NULL);
	ck_assert_int_eq(PQntuples(res), RACE_RUNS);
	for (i = 0; i < RACE_RUNS; i++) {
		snprintf(ids[i], sizeof(ids[i]), "%s",
		    PQgetvalue(res, (int)i, 0));
		target[i] = atoi(PQgetvalue(res, (int)i, 1));
	}
	PQclear(res);

	ck_assert_int_eq(pipe(gofd), 0);
	ck_assert_int_eq(pipe(outfd), 0);
	for (i = 0; i < RACE_DISPATCHERS; i++) {
		snprintf(name, sizeof(name), "d-%zu", i);
		ck_assert_int_ne(pid[i] = fork(), -1);
		if (pid[i] == 0) {
			close(gofd[1]);
			close(outfd[0]);
			racer(gofd[0], outfd[1], name);
		}
	}
	close(gofd[0]);
	close(outfd[1]);
	memset(go, 'g', sizeof(go));
	ck_assert_int_eq(write(gofd[1], go, sizeof(go)), (ssize_t)sizeof(go));
	close(gofd[1]);

	/* Replays the reports: a target is busy from claim to finish. */
	while ((got = read(outfd[0], &r, sizeof(r))) > 0) {
		ck_assert_int_eq(got, (ssize_t)sizeof(r));
		k = index_of(ids, RACE_RUNS, r.id);
		if (r.what == 'c') {
			ck_assert_msg(!claimed[k], "run %s claimed twice",
			    r.id);
			ck_assert_msg(!busy[target[k]], "run %s claimed while "
			    "its target runs another", r.id);
			claimed[k] = busy[target[k]] = 1;
		} else {
			ck_assert(claimed[k] && busy[target[k]]);
			busy[target[k]] = 0;
		}
		reports++;
	}
	ck_assert_int_eq(got, 0);
	close(outfd[0]);
	for (i = 0; i < RACE_DISPATCHERS; i++) {
		ck_assert_int_eq(waitpid(pid[i], &status, 0), pid[i]);
		ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		    "dispatcher %zu failed (status %d)", i, status);
	}

	ck_assert_uint_eq(reports, 2 * RACE_RUNS);
	scratch_value_is("SELECT count(*) FROM runs WHERE status = 'succeeded'",
	    count);
	scratch_value_is("SELECT count(*) FROM run_metrics", count);
	scratch_value_is("SELECT count(DISTINCT dispatcher_id) > 1 FROM runs",
	    "t");
}
END_TEST

START_TEST(test_heartbeat_refreshes_own_runs_and_tells_which_to_stop)
{
	struct run	 got;
	char		*mine, *cancelled, *lost, *theirs;
	const char	*ids[4];
	int		*cancel;

	mine = seed_run("octo/widgets", "issue", 1, 10, 0);
	cancelled = seed_run("octo/widgets", "issue", 2, 20, 0);
	lost = seed_run("octo/widgets", "issue", 3, 30, 0);
	theirs = seed_run("octo/widgets", "issue", 4, 40, 0);
	claims("d-1", mine);
	claims("d-1", cancelled);
	claims("d-1", lost);
	claims("d-2", theirs);
	scratch_must(scratch.side, "UPDATE runs SET heartbeat_at = now() - "
	    "interval '1 hour'");

	/* An operator cancels one; another dispatcher took one for lost. */
	ck_assert_int_eq(store.cancel(store.ctx, arena, cancelled, &got),
	    GT_OK);
	ck_assert_int_eq(got.status, RUN_RUNNING);
	fail_behind(lost);

	ids[0] = mine;
	ids[1] = cancelled;
	ids[2] = lost;
	ids[3] = theirs;
	ck_assert_int_eq(queue.heartbeat(queue.ctx, arena, "d-1", ids, 4,
	    &cancel), GT_OK);
	ck_assert_int_eq(cancel[0], 0);
	ck_assert_int_eq(cancel[1], 1);
	ck_assert_int_eq(cancel[2], 1);
	ck_assert_int_eq(cancel[3], 1);

	run_is(mine, "heartbeat_at > now() - interval '1 minute'", "t");
	run_is(cancelled, "concat_ws(' ', status, heartbeat_at > now() - "
	    "interval '1 minute')", "running t");
	run_is(lost, "heartbeat_at > now() - interval '1 minute'", "f");
	run_is(theirs, "concat_ws(' ', dispatcher_id, heartbeat_at > now() - "
	    "interval '1 minute')", "d-2 f");

	/* A dispatcher running nothing: nothing to tell. */
	ck_assert_int_eq(queue.heartbeat(queue.ctx, arena, "d-3", NULL, 0,
	    &cancel), GT_OK);
	ck_assert_ptr_nonnull(cancel);
	free(mine);
	free(cancelled);
	free(lost);
	free(theirs);
}
END_TEST

START_TEST(test_finish_records_the_outcome_and_its_metrics)
{
	struct claimed_run	 cr;
	struct run_outcome	 o;
	struct run		 got;
	char			*id;

	id = seed_run("octo/widgets", "issue", 1, 10, 0);
	ck_assert_int_eq(queue.claim(queue.ctx, arena, "d-1", &cr), GT_OK);

	memset(&o, 0, sizeof(o));
	o.id = id;
	o.status = RUN_FAILED;
	o.has_exit_code = 1;
	o.exit_code = 3;
	o.stage = STAGE_RUNNER;
	o.message = "exit status 3";
	o.result_json = "{\"summary\": \"half done\", \"files\": [\"a.c\"]}";
	o.duration_ms = 61234;
	o.queue_wait_ms = 56;
	o.has_tokens_in = 1;
	o.tokens_in = 1500;
	o.has_cost = 1;
	o.cost_usd = 0.25;
	ck_assert_int_eq(queue.finish(queue.ctx, arena, &o, &got), GT_OK);

	ck_assert_str_eq(got.id, id);
	ck_assert_int_eq(got.status, RUN_FAILED);
	ck_assert_int_eq(got.started_at_ms, cr.run.started_at_ms);
	ck_assert_int_ge(got.finished_at_ms, got.started_at_ms);
	ck_assert_int_eq(got.has_exit_code, 1);
	ck_assert_int_eq(got.exit_code, 3);
	ck_assert_int_eq(got.error_stage, STAGE_RUNNER);
	ck_assert_str_eq(got.error_message, "exit status 3");
	ck_assert_str_eq(got.result_json,
	    "{\"files\": [\"a.c\"], \"summary\": \"half done\"}");

	run_is(id, "concat_ws(' ', status, exit_code, error_stage, "
	    "finished_at >= started_at, result ->> 'summary')",
	    "failed 3 runner t half done");
	scratch_value_is_p("SELECT concat_ws(' ', duration_ms, queue_wait_ms, "
	    "exit_code, tokens_in, coalesce(tokens_out::text, 'null'), "
	    "cost_usd, coalesce(files_changed::text, 'null')) "
	    "FROM run_metrics WHERE run_id = $1", 1,
	    (const char *const[]){ id }, "61234 56 3 1500 null 0.250000 null");
	scratch_value_is("SELECT count(*) FROM github_outbox", "0");
	free(id);
}
END_TEST

START_TEST(test_finish_of_a_webhook_run_queues_its_outcome_comment)
{
	char	*hook, *api;

	hook = seed_run("Octo/Widgets", "pull_request", 7, 10, 4242);
	api = seed_run("octo/widgets", "issue", 1, 20, 0);
	claims("d-1", hook);
	claims("d-1", api);
	finishes(hook);
	finishes(api);

	/* One row, for the webhook run: the API caller polls instead. */
	scratch_value_is("SELECT count(*) FROM github_outbox", "1");
	scratch_value_is_p("SELECT concat_ws(' ', kind, status, run_id = "
	    "$1::uuid, repo, installation_id, attempts) FROM github_outbox", 1,
	    (const char *const[]){ hook }, "outcome pending t Octo/Widgets "
	    INSTALLATION " 0");
	scratch_value_is("SELECT CASE WHEN payload = '{\"status\": "
	    "\"succeeded\", \"target\": {\"type\": \"pull_request\", "
	    "\"number\": 7}, \"comment_id\": 4242, \"comment_kind\": \""
	    COMMENT_KIND "\"}'::jsonb THEN 'as expected' ELSE payload::text "
	    "END FROM github_outbox", "as expected");
	free(hook);
	free(api);
}
END_TEST

START_TEST(test_finish_of_a_run_no_longer_running_changes_nothing)
{
	struct run_outcome	 o;
	struct run		 got;
	char			*lost, *queued;
	const char		*ids[3];
	size_t			 i;

	lost = seed_run("octo/widgets", "issue", 1, 10, 4242);
	queued = seed_run("octo/widgets", "issue", 2, 20, 0);
	claims("d-1", lost);
	fail_behind(lost);

	ids[0] = lost;
	ids[1] = queued;
	ids[2] = "2f1c0000-0000-4000-8000-000000000000";
	for (i = 0; i < NELEM(ids); i++) {
		o = success(ids[i]);
		ck_assert_int_eq(queue.finish(queue.ctx, arena, &o, &got),
		    GT_ERR_TRANSITION);
	}
	run_is(lost, "concat_ws(' ', status, error_stage, exit_code IS NULL)",
	    "failed interrupted t");
	run_is(queued, "concat_ws(' ', status, finished_at IS NULL)",
	    "queued t");
	scratch_value_is("SELECT count(*) FROM run_metrics", "0");
	scratch_value_is("SELECT count(*) FROM github_outbox", "0");
	free(lost);
	free(queued);
}
END_TEST

START_TEST(test_finish_stores_the_outcome_without_a_refused_result)
{
	static const char *const results[] = {
		"{\"log\": \"a\\u0000b\"}",	/* jsonb holds no NUL */
		"[\"not\", \"an object\"]",	/* the schema wants one */
		"{\"cut\": ",			/* not JSON at all */
	};
	struct run_outcome	 o;
	struct run		 got;
	char			*id;
	size_t			 i;

	for (i = 0; i < NELEM(results); i++) {
		id = seed_run("octo/widgets", "issue", (int)i + 1, (int)i, 0);
		claims("d-1", id);
		o = success(id);
		o.result_json = results[i];
		ck_assert_int_eq(queue.finish(queue.ctx, arena, &o, &got),
		    GT_OK);
		ck_assert_int_eq(got.status, RUN_SUCCEEDED);
		ck_assert_ptr_null(got.result_json);
		run_is(id, "concat_ws(' ', status, exit_code, result IS NULL)",
		    "succeeded 0 t");
		scratch_value_is_p("SELECT duration_ms FROM run_metrics "
		    "WHERE run_id = $1", 1, (const char *const[]){ id },
		    "1000");
		free(id);
	}
}
END_TEST

START_TEST(test_reap_fails_runs_whose_heartbeat_is_past_the_lease)
{
	struct run	*runs;
	char		*hook, *api, *fresh, *recent;
	size_t		 n, i;

	hook = seed_run("octo/widgets", "issue", 1, 10, 4242);
	api = seed_run("octo/widgets", "issue", 2, 20, 0);
	fresh = seed_run("octo/widgets", "issue", 3, 30, 0);
	recent = seed_run("octo/widgets", "issue", 4, 40, 0);
	claims("d-1", hook);
	claims("d-1", api);
	claims("d-1", fresh);
	claims("d-1", recent);
	age_heartbeat(api, 120);
	age_heartbeat(hook, 90);
	age_heartbeat(recent, 30);

	ck_assert_int_eq(queue.reap(queue.ctx, arena, 60, &runs, &n), GT_OK);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(runs[0].id, hook);	/* oldest created first */
	ck_assert_str_eq(runs[1].id, api);
	for (i = 0; i < n; i++) {
		ck_assert_int_eq(runs[i].status, RUN_FAILED);
		ck_assert_int_eq(runs[i].error_stage, STAGE_INTERRUPTED);
		ck_assert_ptr_nonnull(runs[i].error_message);
		ck_assert_int_ge(runs[i].finished_at_ms, runs[i].started_at_ms);
		run_is(runs[i].id, "concat_ws(' ', status, error_stage)",
		    "failed interrupted");
	}
	run_is(fresh, "status", "running");
	run_is(recent, "status", "running");

	/* Their metrics: how long they ran, and waited, by the database. */
	scratch_value_is("SELECT count(*) FROM run_metrics", "2");
	scratch_value_is("SELECT count(*) FROM run_metrics m JOIN runs r "
	    "ON r.id = m.run_id WHERE r.status = 'failed' AND "
	    "m.duration_ms = floor(extract(epoch FROM r.finished_at - "
	    "r.started_at) * 1000) AND m.queue_wait_ms = floor(extract(epoch "
	    "FROM r.started_at - r.created_at) * 1000)", "2");
	scratch_value_is_p("SELECT concat_ws(' ', count(*), bool_and(run_id = "
	    "$1), min(payload ->> 'status')) FROM github_outbox", 1,
	    (const char *const[]){ hook }, "1 t failed");

	/* Nothing more to reap. */
	ck_assert_int_eq(queue.reap(queue.ctx, arena, 60, &runs, &n), GT_OK);
	ck_assert_uint_eq(n, 0);
	free(hook);
	free(api);
	free(fresh);
	free(recent);
}
END_TEST

START_TEST(test_wait_fd_wakes_on_a_queued_run_and_a_cancel)
{
	struct stat	 st;
	struct run	 got;
	char		*id;
	int		 fd;

	/* Nothing listens before the first drain. */
	ck_assert_int_eq(queue.wait_fd(queue.ctx), -1);
	ck_assert_int_eq(queue.drain(queue.ctx), 1);
	ck_assert_int_ge(fd = queue.wait_fd(queue.ctx), 0);
	ck_assert_int_eq(fstat(fd, &st), 0);
	ck_assert(S_ISSOCK(st.st_mode));
	ck_assert(!readable(fd, 0));

	/* Another session queues a run. */
	id = seed_run("octo/widgets", "issue", 1, 10, 0);
	ck_assert(readable(fd, NOTIFY_MS));
	ck_assert_int_eq(queue.drain(queue.ctx), 1);
	ck_assert_int_eq(queue.wait_fd(queue.ctx), fd);
	ck_assert(!readable(fd, 0));
	ck_assert_int_eq(queue.drain(queue.ctx), 0);

	/* A claim says nothing; a worker's cancel of the run does. */
	claims("d-1", id);
	ck_assert(!readable(fd, 0));
	ck_assert_int_eq(store.cancel(store.ctx, arena, id, &got), GT_OK);
	ck_assert(readable(fd, NOTIFY_MS));
	ck_assert_int_eq(queue.drain(queue.ctx), 1);
	ck_assert(!readable(fd, 0));
	free(id);
}
END_TEST

START_TEST(test_wait_fd_leaves_a_notification_for_its_caller)
{
	char	*id;
	int	 fd;

	queue.drain(queue.ctx);
	ck_assert_int_ge(fd = queue.wait_fd(queue.ctx), 0);
	id = seed_run("octo/widgets", "issue", 1, 10, 0);
	ck_assert(readable(fd, NOTIFY_MS));

	/*
	 * A dispatcher asks for the descriptor afresh before each poll:
	 * the news must still be there to wake it, until it drains.
	 */
	ck_assert_int_eq(queue.wait_fd(queue.ctx), fd);
	ck_assert(readable(fd, 0));
	queue.drain(queue.ctx);
	ck_assert(!readable(fd, 0));
	free(id);
}
END_TEST

START_TEST(test_listening_resumes_after_the_connection_is_lost)
{
	char	*pid, *id;
	int64_t	 lost_at, pause_ms;
	int	 fd;

	queue.drain(queue.ctx);
	ck_assert_int_ge(fd = queue.wait_fd(queue.ctx), 0);

	/* An administrator ends the listening session. */
	pid = scratch_value_p("SELECT pid " LISTENERS_SQL, 0, NULL);
	scratch_value_is_p("SELECT pg_terminate_backend($1::integer, 5000)", 1,
	    (const char *const[]){ pid }, "t");
	ck_assert(readable(fd, NOTIFY_MS));
	queue.drain(queue.ctx);
	lost_at = now_ms();
	ck_assert_int_eq(queue.wait_fd(queue.ctx), -1);

	/* The next try waits its turn. */
	queue.drain(queue.ctx);
	ck_assert_int_eq(queue.wait_fd(queue.ctx), -1);
	scratch_value_is("SELECT count(*) " LISTENERS_SQL, "0");

	if ((pause_ms = lost_at + LISTEN_RETRY_MS + 50 - now_ms()) > 0)
		usleep((useconds_t)pause_ms * 1000);
	ck_assert_int_eq(queue.drain(queue.ctx), 1);
	ck_assert_int_ge(fd = queue.wait_fd(queue.ctx), 0);
	scratch_value_is_p("SELECT count(*) FILTER (WHERE pid <> $1::integer) "
	    LISTENERS_SQL, 1, (const char *const[]){ pid }, "1");

	/* Notifications arrive again. */
	id = seed_run("octo/widgets", "issue", 1, 10, 0);
	ck_assert(readable(fd, NOTIFY_MS));
	queue.drain(queue.ctx);
	ck_assert(!readable(fd, 0));
	free(pid);
	free(id);
}
END_TEST

START_TEST(test_invalid_input_is_refused_without_a_statement)
{
	static const char *const bad_ids[] = {
		"not-a-run",
		"2f1c0000-0000-4000-8000-00000000000}",
		"2f1c0000-0000-4000-8000-000000000000,x",
		"",
	};
	static const enum run_status unfinished[] = { RUN_QUEUED,
	    RUN_RUNNING };
	struct claimed_run	 cr;
	struct run_outcome	 o;
	struct run		 got, *runs;
	const char		*ids[2];
	char			*id;
	size_t			 i, n;
	int			*cancel;

	id = seed_run("octo/widgets", "issue", 1, 10, 0);
	ck_assert_int_eq(queue.claim(queue.ctx, arena, NULL, &cr),
	    GT_ERR_INVALID);

	ids[0] = id;
	ck_assert_int_eq(queue.heartbeat(queue.ctx, arena, NULL, ids, 1,
	    &cancel), GT_ERR_INVALID);
	for (i = 0; i < NELEM(bad_ids); i++) {
		ids[1] = bad_ids[i];
		ck_assert_int_eq(queue.heartbeat(queue.ctx, arena, "d-1", ids,
		    2, &cancel), GT_ERR_INVALID);
		o = success(bad_ids[i]);
		ck_assert_int_eq(queue.finish(queue.ctx, arena, &o, &got),
		    GT_ERR_INVALID);
	}

	o = success(NULL);
	ck_assert_int_eq(queue.finish(queue.ctx, arena, &o, &got),
	    GT_ERR_INVALID);
	for (i = 0; i < NELEM(unfinished); i++) {
		o = success(id);
		o.status = unfinished[i];
		ck_assert_int_eq(queue.finish(queue.ctx, arena, &o, &got),
		    GT_ERR_INVALID);
	}
	o = success(id);
	o.message = "a message without a stage";
	ck_assert_int_eq(queue.finish(queue.ctx, arena, &o, &got),
	    GT_ERR_INVALID);
	o = success(id);
	o.status = RUN_FAILED;
	o.stage = STAGE_RUNNER;
	ck_assert_int_eq(queue.finish(queue.ctx, arena, &o, &got),
	    GT_ERR_INVALID);
	o = success(id);
	o.duration_ms = -1;
	ck_assert_int_eq(queue.finish(queue.ctx, arena, &o, &got),
	    GT_ERR_INVALID);

	ck_assert_int_eq(queue.reap(queue.ctx, arena, 0, &runs, &n),
	    GT_ERR_INVALID);
	ck_assert_int_eq(queue.reap(queue.ctx, arena, -60, &runs, &n),
	    GT_ERR_INVALID);

	/* The queue never even connected. */
	scratch_value_is("SELECT count(*) FROM pg_stat_activity WHERE datname "
	    "= current_database() AND application_name = 'gittinkerer'", "0");
	run_is(id, "status", "queued");
	free(id);
}
END_TEST

static Suite *
run_queue_suite(void)
{
	Suite	*s = suite_create("run_queue");
	TCase	*tc;

	tc = tcase_create("run_queue");
	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, queue_setup, queue_teardown);
	tcase_add_unchecked_fixture(tc, NULL, scratch_drop_all);
	tcase_add_test(tc, test_claim_takes_the_oldest_queued_run_first);
	tcase_add_test(tc, test_claim_reads_the_run_it_took);
	tcase_add_test(tc, test_claim_passes_over_a_run_another_session_holds);
	tcase_add_test(tc,
	    test_claim_waits_out_paused_repositories_and_targets);
	tcase_add_test(tc, test_claim_skips_a_target_that_has_a_running_run);
	tcase_add_test(tc, test_claim_tells_where_a_webhook_run_came_from);
	tcase_add_test(tc,
	    test_concurrent_claims_take_each_run_once_one_per_target);
	tcase_add_test(tc,
	    test_heartbeat_refreshes_own_runs_and_tells_which_to_stop);
	tcase_add_test(tc, test_finish_records_the_outcome_and_its_metrics);
	tcase_add_test(tc,
	    test_finish_of_a_webhook_run_queues_its_outcome_comment);
	tcase_add_test(tc,
	    test_finish_of_a_run_no_longer_running_changes_nothing);
	tcase_add_test(tc,
	    test_finish_stores_the_outcome_without_a_refused_result);
	tcase_add_test(tc,
	    test_reap_fails_runs_whose_heartbeat_is_past_the_lease);
	tcase_add_test(tc, test_wait_fd_wakes_on_a_queued_run_and_a_cancel);
	tcase_add_test(tc, test_wait_fd_leaves_a_notification_for_its_caller);
	tcase_add_test(tc,
	    test_listening_resumes_after_the_connection_is_lost);
	tcase_add_test(tc, test_invalid_input_is_refused_without_a_statement);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	if (scratch_init("check_run_queue", "gt_queue_test") == -1)
		return EXIT_FAILURE;

	sr = srunner_create(run_queue_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
