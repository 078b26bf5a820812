/*
 * check_run_store.c: the PostgreSQL run store against a real server.
 *
 * The server is GT_DATABASE_URL and the migrations are in $GT_SRCDIR/sql;
 * without either the test fails.  Each test works in a scratch database
 * of its own, gt_store_test_<runner pid>_<test pid>, migrated with
 * migrate_apply() and dropped when the test ends (or, when it failed,
 * when the test case ends).  The store reaches it through the worker's
 * bounded connection (infra/pg.h); the tests set the scene and look
 * behind the store's back through a plain libpq connection.  Concurrent
 * creators are forked processes, each with a connection of its own.
 */
#include <config.h>

#include <sys/socket.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <fcntl.h>
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
#include "infra/run_store_pg.h"
#include "integration/scratch.h"
#include "usecase/ports.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

/* What a store call may wait, and how late it may come back. */
#define TIMEOUT_MS	5000
#define SLACK_MS	1000

/* The store over the running test's scratch database (scratch.h). */
static struct pgconn	*pc;
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

static int64_t
wall_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Checked fixture: a migrated scratch database and a store over it. */
static void
store_setup(void)
{
	scratch_create();

	pc = scratch_handle(scratch.url, TIMEOUT_MS);
	ck_assert_ptr_nonnull(sp = pg_store_new(pc, TIMEOUT_MS));
	run_store_pg_port(sp, &store);
	ck_assert_ptr_nonnull(arena = arena_new());
}

static void
store_teardown(void)
{
	arena_free(arena);
	pg_store_free(sp);
	pgconn_free(pc);
	scratch_drop();
}

/* A validated API run, as the use case would hand it over. */
static struct run_new
api_run(const char *repo, const char *instruction)
{
	struct run_new	 rn;

	memset(&rn, 0, sizeof(rn));
	rn.repo = repo;
	rn.target_type = TARGET_ISSUE;
	rn.target_number = 12;
	rn.instruction = instruction;
	rn.source = SOURCE_API;
	rn.requester = "role:operator";
	return rn;
}

/* A webhook run from one comment. */
static struct run_new
webhook_run(const char *kind, int64_t comment_id, const char *delivery)
{
	struct run_new	 rn = api_run("octo/widgets", "fix it");

	rn.source = SOURCE_WEBHOOK;
	rn.requested_by = "alice";
	rn.requester = "alice";
	rn.installation_id = 9001;
	rn.comment_kind = kind;
	rn.comment_id = comment_id;
	rn.delivery_id = delivery;
	rn.delivery_action = "created";
	return rn;
}

static void
insert_ok(const struct run_new *rn, struct run *out)
{
	ck_assert_int_eq(store.insert(store.ctx, arena, rn, NULL, 0, NULL,
	    out), GT_OK);
}

/* One rule, as the use case builds it. */
static struct limit_rule
rule(enum limit_kind kind, const char *key, int64_t limit, int64_t window)
{
	struct limit_rule	 r;

	r.kind = kind;
	r.name = kind == LIMIT_REPO ? "repo" : "requester";
	r.key = key;
	r.limit = limit;
	r.window_s = window;
	return r;
}

/*
 * Inserts a run behind the store's back: status with its consistent
 * columns, created the given seconds ago, for repo and requester.
 * Returns its id, which the caller frees.
 */
static char *
side_run(const char *repo, const char *requester, const char *status,
    int ago_s)
{
	static const struct {
		const char	*status;
		const char	*cols;
		const char	*vals;
	} states[] = {
		{ "queued", "", "" },
		{ "running", ", started_at", ", now()" },
		{ "succeeded", ", started_at, finished_at, exit_code",
		    ", now(), now(), 0" },
		{ "failed", ", started_at, finished_at, exit_code, "
		    "error_stage, error_message",
		    ", now(), now(), 1, 'runner', 'exit status 1'" },
		{ "cancelled", ", finished_at, error_stage, error_message",
		    ", now(), 'cancelled', 'stopped'" },
	};
	char		 ago[16], sql[512];
	const char	*p[4] = { repo, requester, ago, status };
	size_t		 i;

	for (i = 0; i < NELEM(states); i++)
		if (strcmp(states[i].status, status) == 0)
			break;
	ck_assert_uint_lt(i, NELEM(states));
	snprintf(ago, sizeof(ago), "%d", ago_s);
	snprintf(sql, sizeof(sql), "INSERT INTO runs (repo, target_type, "
	    "target_number, instruction, source, requester, created_at, "
	    "status%s) VALUES ($1, 'issue', 1, 'seeded', 'api', $2, "
	    "now() - $3::integer * interval '1 second', $4%s) RETURNING id",
	    states[i].cols, states[i].vals);
	return scratch_value_p(sql, 4, p);
}

static void
count_runs_is(const char *want)
{
	scratch_value_is("SELECT count(*) FROM runs", want);
}

/*
 * Asserts that the store left nothing open: no advisory lock held in the
 * database, and its session idle rather than in a transaction.
 */
static void
nothing_left_open(void)
{
	struct create_gate	 g;

	scratch_value_is("SELECT count(*) FROM pg_locks WHERE locktype = "
	    "'advisory' AND database = (SELECT oid FROM pg_database WHERE "
	    "datname = current_database())", "0");
	scratch_value_is("SELECT count(*) FROM pg_stat_activity WHERE datname "
	    "= current_database() AND application_name = 'gittinkerer' AND "
	    "state <> 'idle'", "0");
	ck_assert_int_eq(store.gate(store.ctx, "octo/widgets", TARGET_ISSUE,
	    1, &g), GT_OK);
}

/* A forked creator's store: a connection of its own. */
struct child {
	struct pgconn		*pc;
	struct pg_store		*sp;
	struct run_store	 store;
	struct arena		*arena;
};

static int
child_open(struct child *ch)
{
	struct config	 cfg;

	memset(&cfg, 0, sizeof(cfg));
	cfg.database_url = scratch.url;
	cfg.db_connect_timeout_ms = TIMEOUT_MS;
	cfg.statement_timeout_ms = 2 * TIMEOUT_MS;
	if ((ch->pc = pgconn_new(&cfg)) == NULL ||
	    (ch->sp = pg_store_new(ch->pc, 4 * TIMEOUT_MS)) == NULL ||
	    (ch->arena = arena_new()) == NULL ||
	    pgconn_ping(ch->pc, TIMEOUT_MS) == -1)
		return -1;
	run_store_pg_port(ch->sp, &ch->store);
	return 0;
}

/* The exit status a creator reports its answer with. */
static int
exit_code_of(enum gt_err e)
{
	return e == GT_OK ? 0 : e == GT_ERR_CONFLICT ? 1 :
	    e == GT_ERR_RATE_LIMITED ? 2 : 10 + (int)e;
}

/*
 * One of many creators racing: connects, waits for the start byte on fd,
 * inserts rn counted against rules, and exits with exit_code_of() its
 * answer (it is not the test's process, so it reports by exit status).
 */
static void __attribute__((noreturn))
creator(int fd, const struct run_new *rn, const struct limit_rule *rules,
    size_t nrules)
{
	struct child		 ch;
	struct limit_decision	 d;
	struct run		 out;
	char			 go;

	if (child_open(&ch) == -1 || read(fd, &go, 1) != 1)
		_exit(3);
	_exit(exit_code_of(ch.store.insert(ch.store.ctx, ch.arena, rn, rules,
	    nrules, &d, &out)));
}

/*
 * Runs n creators at once and counts their answers by exit status:
 * counts[0] succeeded, counts[1] conflicted, counts[2] were refused.
 */
static void
race(int n, const struct run_new *rn, const struct limit_rule *rules,
    size_t nrules, int counts[3])
{
	pid_t	 pid[64];
	char	 go[64];
	int	 fds[2], i, status;

	ck_assert_int_le(n, (int)NELEM(pid));
	ck_assert_int_eq(pipe(fds), 0);
	for (i = 0; i < n; i++) {
		ck_assert_int_ne(pid[i] = fork(), -1);
		if (pid[i] == 0) {
			close(fds[1]);
			creator(fds[0], rn, rules, nrules);
		}
	}
	close(fds[0]);
	memset(go, 'g', sizeof(go));
	ck_assert_int_eq(write(fds[1], go, (size_t)n), n);
	close(fds[1]);
	counts[0] = counts[1] = counts[2] = 0;
	for (i = 0; i < n; i++) {
		ck_assert_int_eq(waitpid(pid[i], &status, 0), pid[i]);
		ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) <= 2,
		    "creator %d failed (status %d)", i, status);
		counts[WEXITSTATUS(status)]++;
	}
}

START_TEST(test_insert_stores_a_queued_run)
{
	struct run_new	 rn = api_run("Octo/Widgets", "Fix the parser");
	struct run	 out, got;
	int64_t		 before = wall_ms(), after;

	rn.target_type = TARGET_PULL_REQUEST;
	rn.target_number = 2147483647;
	rn.requested_by = "alice";
	rn.requester = "alice";
	insert_ok(&rn, &out);
	after = wall_ms();

	ck_assert_int_eq(strlen(out.id), RUN_ID_LEN);
	ck_assert_str_eq(out.repo, "Octo/Widgets");
	ck_assert_int_eq(out.target_type, TARGET_PULL_REQUEST);
	ck_assert_int_eq(out.target_number, 2147483647);
	ck_assert_str_eq(out.instruction, "Fix the parser");
	ck_assert_int_eq(out.status, RUN_QUEUED);
	ck_assert_int_eq(out.source, SOURCE_API);
	ck_assert_str_eq(out.requested_by, "alice");
	ck_assert_int_ge(out.created_at_ms, before - SLACK_MS);
	ck_assert_int_le(out.created_at_ms, after + SLACK_MS);
	ck_assert_int_eq(out.started_at_ms, -1);
	ck_assert_int_eq(out.finished_at_ms, -1);
	ck_assert_int_eq(out.has_exit_code, 0);
	ck_assert_int_eq(out.error_stage, STAGE_NONE);
	ck_assert_ptr_null(out.error_message);
	ck_assert_ptr_null(out.result_json);

	/* Committed: another session sees it, and get reads it back. */
	scratch_value_is_p("SELECT status || ' ' || requester || ' ' || "
	    "(idempotency_key IS NULL) || ' ' || (comment_id IS NULL) "
	    "FROM runs WHERE id = $1", 1, (const char *const[]){ out.id },
	    "queued alice true true");
	ck_assert_int_eq(store.get(store.ctx, arena, out.id, &got), GT_OK);
	ck_assert_str_eq(got.id, out.id);
	ck_assert_str_eq(got.repo, out.repo);
	ck_assert_int_eq(got.created_at_ms, out.created_at_ms);
	ck_assert_str_eq(got.requested_by, "alice");
}
END_TEST

START_TEST(test_insert_records_where_a_webhook_run_came_from)
{
	struct run_new	 rn = webhook_run("issue_comment", 4242, "d-1");
	struct run	 out;

	rn.requested_by = NULL;
	insert_ok(&rn, &out);
	ck_assert_int_eq(out.source, SOURCE_WEBHOOK);
	ck_assert_ptr_null(out.requested_by);
	scratch_value_is_p("SELECT concat_ws(' ', source, requester, "
	    "installation_id, comment_kind, comment_id, delivery_id, "
	    "requested_by IS NULL) FROM runs WHERE id = $1", 1,
	    (const char *const[]){ out.id }, "webhook alice 9001 issue_comment "
	    "4242 d-1 t");

	/* The delivery is recorded as accepted, naming the run. */
	scratch_value_is_p("SELECT concat_ws(' ', event, action, outcome, "
	    "reason IS NULL, run_id = $1::uuid) FROM webhook_deliveries "
	    "WHERE delivery_id = 'd-1'", 1, (const char *const[]){ out.id },
	    "issue_comment created accepted t t");

	/* A delivery recorded before keeps its first note. */
	rn.comment_id = 4243;
	insert_ok(&rn, &out);
	scratch_value_is("SELECT count(*) FROM webhook_deliveries", "1");
	scratch_value_is("SELECT count(*) FROM runs", "2");

	/* Without its action the delivery cannot be recorded. */
	rn.comment_id = 4244;
	rn.delivery_action = NULL;
	ck_assert_int_eq(store.insert(store.ctx, arena, &rn, NULL, 0, NULL,
	    &out), GT_ERR_INVALID);
	scratch_value_is("SELECT count(*) FROM runs", "2");
}
END_TEST

START_TEST(test_get_reads_every_column)
{
	struct run	 got;
	char		*id, upper[RUN_ID_LEN + 1];
	size_t		 i;

	id = scratch_value_p("INSERT INTO runs (repo, target_type, "
	    "target_number, instruction, source, requester, status, "
	    "created_at, started_at, finished_at, exit_code, error_stage, "
	    "error_message, result) VALUES ('o/r', 'issue', 3, 'x', 'webhook', "
	    "'bob', 'failed', '2026-01-02 03:04:05.678999+00', "
	    "'2026-01-02 03:05:00+00', '2026-01-02 03:09:00.0005+00', 3, "
	    "'runner', 'exit status 3', '{\"summary\": \"s\", \"n\": 1}') "
	    "RETURNING id", 0, NULL);
	for (i = 0; i <= RUN_ID_LEN; i++)
		upper[i] = (char)(id[i] >= 'a' && id[i] <= 'f' ? id[i] - 32 :
		    id[i]);

	/* Upper case is accepted; the id comes back canonical. */
	ck_assert_int_eq(store.get(store.ctx, arena, upper, &got), GT_OK);
	ck_assert_str_eq(got.id, id);
	ck_assert_int_eq(got.status, RUN_FAILED);
	ck_assert_int_eq(got.source, SOURCE_WEBHOOK);
	ck_assert_int_eq(got.target_number, 3);
	ck_assert_ptr_null(got.requested_by);
	ck_assert_int_eq(got.created_at_ms, 1767323045678LL);
	ck_assert_int_eq(got.started_at_ms, 1767323100000LL);
	ck_assert_int_eq(got.finished_at_ms, 1767323340000LL);
	ck_assert_int_eq(got.has_exit_code, 1);
	ck_assert_int_eq(got.exit_code, 3);
	ck_assert_int_eq(got.error_stage, STAGE_RUNNER);
	ck_assert_str_eq(got.error_message, "exit status 3");
	ck_assert_str_eq(got.result_json, "{\"n\": 1, \"summary\": \"s\"}");
	free(id);
}
END_TEST

START_TEST(test_get_of_unknown_or_malformed_id_fails)
{
	struct run	 got;

	ck_assert_int_eq(store.get(store.ctx, arena,
	    "2f1c0000-0000-4000-8000-000000000000", &got), GT_ERR_NOT_FOUND);
	ck_assert_int_eq(store.get(store.ctx, arena, "2f1c'; SELECT 1; --",
	    &got), GT_ERR_INVALID);
	ck_assert_int_eq(store.get(store.ctx, arena, "", &got),
	    GT_ERR_INVALID);
}
END_TEST

START_TEST(test_sql_metacharacters_are_stored_intact)
{
	static const char	 text[] = "Robert'); DROP TABLE runs; -- "
	    "\\x00 \\' \"quoted\" $1 $$ %s %n E'\\n' ;COMMIT; "
	    "\xc3\xbc" "n" "\xc3\xaf" "c" "\xc3\xb8" "d" "\xc3\xa9 "
	    "\xf0\x9f\x99\x82\n\tnext line";
	struct run_new		 rn = api_run("octo/widgets", text);
	struct run		 out, got;

	rn.idempotency_key = "'; DELETE FROM runs; --";
	rn.fingerprint = "\\'\"$1";
	insert_ok(&rn, &out);
	ck_assert_str_eq(out.instruction, text);
	ck_assert_int_eq(store.get(store.ctx, arena, out.id, &got), GT_OK);
	ck_assert_str_eq(got.instruction, text);
	scratch_value_is_p("SELECT instruction = $1 FROM runs", 1,
	    (const char *const[]){ text }, "t");
	ck_assert_int_eq(store.find_by_key(store.ctx, arena,
	    rn.idempotency_key, rn.fingerprint, &got, &(int){ 0 }), GT_OK);
	count_runs_is("1");
}
END_TEST

START_TEST(test_find_by_key_tells_the_same_request_from_another)
{
	struct run_new	 rn = api_run("octo/widgets", "fix it");
	struct run	 out, got;
	int		 same = -1;

	rn.idempotency_key = "key-1";
	rn.fingerprint = "fp-a";
	insert_ok(&rn, &out);
	scratch_value_is("SELECT request_hash FROM runs",
	    "cdd4b177f8ace0216b4d633e403dd9b5fac90b934b623fae87ab3ec49f5a99aa");

	ck_assert_int_eq(store.find_by_key(store.ctx, arena, "key-1", "fp-a",
	    &got, &same), GT_OK);
	ck_assert_int_eq(same, 1);
	ck_assert_str_eq(got.id, out.id);
	ck_assert_int_eq(store.find_by_key(store.ctx, arena, "key-1", "fp-b",
	    &got, &same), GT_OK);
	ck_assert_int_eq(same, 0);
	ck_assert_str_eq(got.id, out.id);
	ck_assert_int_eq(store.find_by_key(store.ctx, arena, "key-2", "fp-a",
	    &got, &same), GT_ERR_NOT_FOUND);

	/* The key is held: a second run with it is refused. */
	rn.fingerprint = "fp-b";
	ck_assert_int_eq(store.insert(store.ctx, arena, &rn, NULL, 0, NULL,
	    &got), GT_ERR_CONFLICT);
	count_runs_is("1");
}
END_TEST

START_TEST(test_expired_key_is_released_and_reusable)
{
	struct run_new	 rn = api_run("octo/widgets", "again");
	struct run	 out, got;
	char		*old, *young;
	int		 same;

	/* A finished run whose key is 25 hours old; another 23 hours. */
	old = scratch_value_p("INSERT INTO runs (repo, target_type, "
	    "target_number, instruction, source, requester, created_at, "
	    "status, started_at, finished_at, exit_code, idempotency_key, "
	    "request_hash) VALUES ('octo/widgets', 'issue', 1, 'old', 'api', "
	    "'x', now() - interval '25 hours', 'succeeded', now(), now(), 0, "
	    "'old-key', 'h') RETURNING id", 0, NULL);
	young = scratch_value_p("INSERT INTO runs (repo, target_type, "
	    "target_number, instruction, source, requester, created_at, "
	    "idempotency_key, request_hash) VALUES ('octo/widgets', 'issue', "
	    "1, 'young', 'api', 'x', now() - interval '23 hours', 'young-key', "
	    "'h') RETURNING id", 0, NULL);

	ck_assert_int_eq(store.find_by_key(store.ctx, arena, "old-key", "fp",
	    &got, &same), GT_ERR_NOT_FOUND);
	ck_assert_int_eq(store.find_by_key(store.ctx, arena, "young-key", "fp",
	    &got, &same), GT_OK);
	ck_assert_str_eq(got.id, young);

	rn.idempotency_key = "old-key";
	rn.fingerprint = "fp";
	insert_ok(&rn, &out);
	ck_assert_str_ne(out.id, old);
	scratch_value_is_p("SELECT (idempotency_key IS NULL AND request_hash "
	    "IS NULL) || ' ' || status FROM runs WHERE id = $1", 1,
	    (const char *const[]){ old }, "true succeeded");
	ck_assert_int_eq(store.find_by_key(store.ctx, arena, "old-key", "fp",
	    &got, &same), GT_OK);
	ck_assert_str_eq(got.id, out.id);
	ck_assert_int_eq(same, 1);

	rn.idempotency_key = "young-key";
	ck_assert_int_eq(store.insert(store.ctx, arena, &rn, NULL, 0, NULL,
	    &got), GT_ERR_CONFLICT);
	count_runs_is("3");
	free(old);
	free(young);
}
END_TEST

START_TEST(test_concurrent_inserts_with_one_key_create_one_run)
{
	struct run_new	 rn = api_run("octo/widgets", "once");
	int		 counts[3];

	rn.idempotency_key = "shared-key";
	rn.fingerprint = "fp";
	race(12, &rn, NULL, 0, counts);
	ck_assert_int_eq(counts[0], 1);
	ck_assert_int_eq(counts[1], 11);
	count_runs_is("1");
}
END_TEST

START_TEST(test_one_run_per_comment)
{
	struct run_new	 rn = webhook_run("issue_comment", 77, "d-1");
	struct run	 out;

	insert_ok(&rn, &out);
	rn.delivery_id = "d-2";
	ck_assert_int_eq(store.insert(store.ctx, arena, &rn, NULL, 0, NULL,
	    &out), GT_ERR_CONFLICT);

	/* The same id in the other kind's space is another comment. */
	rn.comment_kind = "pull_request_review_comment";
	insert_ok(&rn, &out);
	count_runs_is("2");
}
END_TEST

START_TEST(test_pauses_compare_case_insensitively)
{
	static const struct {
		const char	*repo;
		enum target_type type;
		int32_t		 number;
		int		 repo_paused, target_paused;
	} cases[] = {
		{ "OCTO/WIDGETS", TARGET_ISSUE, 1, 1, 0 },
		{ "octo/widgets", TARGET_PULL_REQUEST, 9, 1, 0 },
		{ "octo/OTHER", TARGET_ISSUE, 5, 0, 1 },
		{ "octo/other", TARGET_PULL_REQUEST, 5, 0, 0 },
		{ "octo/other", TARGET_ISSUE, 6, 0, 0 },
		{ "octo/none", TARGET_ISSUE, 5, 0, 0 },
	};
	struct create_gate	 g;
	size_t			 i;

	scratch_must(scratch.side, "INSERT INTO paused_repos (repo_key, repo) "
	    "VALUES ('octo/widgets', 'Octo/Widgets')");
	scratch_must(scratch.side, "INSERT INTO paused_run_targets (repo_key, "
	    "target_type, target_number, repo) VALUES ('octo/other', 'issue', "
	    "5, 'Octo/Other')");
	for (i = 0; i < NELEM(cases); i++) {
		g.repo_paused = g.target_paused = g.has_override = -1;
		ck_assert_int_eq(store.gate(store.ctx, cases[i].repo,
		    cases[i].type, cases[i].number, &g), GT_OK);
		ck_assert_msg(g.repo_paused == cases[i].repo_paused &&
		    g.target_paused == cases[i].target_paused,
		    "%s %d: got %d %d", cases[i].repo, cases[i].number,
		    g.repo_paused, g.target_paused);
		ck_assert_int_eq(g.has_override, 0);
	}
}
END_TEST

START_TEST(test_limit_override_is_read_by_repo_key)
{
	struct create_gate	 g;

	ck_assert_int_eq(store.gate(store.ctx, "Octo/Limited", TARGET_ISSUE, 1,
	    &g), GT_OK);
	ck_assert_int_eq(g.has_override, 0);
	scratch_must(scratch.side, "INSERT INTO rate_limits (repo_key, repo, "
	    "\"limit\", window_seconds) VALUES ('octo/limited', "
	    "'Octo/Limited', 5, 600)");
	ck_assert_int_eq(store.gate(store.ctx, "OCTO/limited", TARGET_ISSUE, 1,
	    &g), GT_OK);
	ck_assert_int_eq(g.has_override, 1);
	ck_assert_int_eq(g.limit, 5);
	ck_assert_int_eq(g.window_s, 600);
	ck_assert_int_eq(g.repo_paused, 0);
	ck_assert_int_eq(g.target_paused, 0);

	/* With a pause, in the same answer. */
	scratch_must(scratch.side, "INSERT INTO paused_repos (repo_key, repo) "
	    "VALUES ('octo/limited', 'Octo/Limited')");
	ck_assert_int_eq(store.gate(store.ctx, "octo/LIMITED", TARGET_ISSUE, 1,
	    &g), GT_OK);
	ck_assert_int_eq(g.repo_paused, 1);
	ck_assert_int_eq(g.has_override, 1);
	ck_assert_int_eq(g.limit, 5);
}
END_TEST

START_TEST(test_fallback_limiter_refuses_past_the_limit)
{
	struct limit_rule	 rules[2];
	struct limit_decision	 d;
	struct run_new		 rn = api_run("Octo/Widgets", "limited");
	struct run		 out;
	int			 i;

	rn.requester = "alice";
	rules[0] = rule(LIMIT_REPO, "octo/widgets", 3, 3600);
	rules[1] = rule(LIMIT_REQUESTER, "alice", 10, 60);
	for (i = 0; i < 3; i++) {
		ck_assert_int_eq(store.insert(store.ctx, arena, &rn, rules, 2,
		    &d, &out), GT_OK);
		ck_assert_int_eq(out.status, RUN_QUEUED);
		ck_assert_int_eq(d.allowed, 1);
		ck_assert_int_eq(d.remaining[0], 2 - i);
		ck_assert_int_eq(d.remaining[1], 9 - i);
		ck_assert_int_ge(d.reset_s[0], 3599);
		ck_assert_int_le(d.reset_s[0], 3600);
		ck_assert_int_ge(d.reset_s[1], 59);
		ck_assert_int_le(d.reset_s[1], 60);
		ck_assert_int_eq(d.retry_after_s, 0);
	}

	ck_assert_int_eq(store.insert(store.ctx, arena, &rn, rules, 2, &d,
	    &out), GT_ERR_RATE_LIMITED);
	ck_assert_int_eq(d.allowed, 0);
	ck_assert_int_eq(d.remaining[0], 0);
	ck_assert_int_eq(d.remaining[1], 7);
	ck_assert_int_ge(d.retry_after_s, 3599);
	ck_assert_int_le(d.retry_after_s, 3600);
	count_runs_is("3");
	nothing_left_open();
}
END_TEST

START_TEST(test_fallback_limiter_counts_only_its_window)
{
	struct limit_rule	 r = rule(LIMIT_REPO, "octo/widgets", 2, 3600);
	struct limit_decision	 d;
	struct run_new		 rn = api_run("octo/widgets", "limited");
	struct run		 out;
	int			 ago[] = { 7300, 7200, 100 };
	size_t			 i;

	for (i = 0; i < NELEM(ago); i++)
		free(side_run("octo/widgets", "role:operator", "succeeded",
		    ago[i]));

	/* One run in the window, 100 s old: it leaves in 3500 s. */
	ck_assert_int_eq(store.insert(store.ctx, arena, &rn, &r, 1, &d, &out),
	    GT_OK);
	ck_assert_int_eq(d.remaining[0], 0);
	ck_assert_int_ge(d.reset_s[0], 3499);
	ck_assert_int_le(d.reset_s[0], 3501);
	ck_assert_int_eq(store.insert(store.ctx, arena, &rn, &r, 1, &d, &out),
	    GT_ERR_RATE_LIMITED);
	ck_assert_int_ge(d.retry_after_s, 3499);
	ck_assert_int_le(d.retry_after_s, 3501);
	count_runs_is("4");
}
END_TEST

START_TEST(test_fallback_limiter_waits_for_enough_runs_to_leave)
{
	struct limit_rule	 r = rule(LIMIT_REPO, "octo/widgets", 2, 3600);
	struct limit_decision	 d;
	struct run_new		 rn = api_run("octo/widgets", "limited");
	struct run		 out;
	int			 ago[] = { 300, 200, 100 };
	size_t			 i;

	/* Three runs under a limit lowered to two: two must leave. */
	for (i = 0; i < NELEM(ago); i++)
		free(side_run("octo/widgets", "role:operator", "queued",
		    ago[i]));
	ck_assert_int_eq(store.insert(store.ctx, arena, &rn, &r, 1, &d, &out),
	    GT_ERR_RATE_LIMITED);
	ck_assert_int_eq(d.remaining[0], 0);
	ck_assert_int_ge(d.reset_s[0], 3299);
	ck_assert_int_le(d.reset_s[0], 3301);
	ck_assert_int_ge(d.retry_after_s, 3399);
	ck_assert_int_le(d.retry_after_s, 3401);
	count_runs_is("3");
}
END_TEST

START_TEST(test_fallback_limiter_counts_a_requester_across_repos)
{
	struct limit_rule	 rules[2];
	struct limit_decision	 d;
	struct run_new		 rn = api_run("octo/a", "limited");
	struct run		 out;

	rn.requester = "bob";
	rules[0] = rule(LIMIT_REQUESTER, "bob", 2, 3600);
	rules[1] = rule(LIMIT_REPO, "octo/a", 10, 3600);
	ck_assert_int_eq(store.insert(store.ctx, arena, &rn, rules, 2, &d,
	    &out), GT_OK);
	rn.repo = "octo/b";
	rules[1].key = "octo/b";
	ck_assert_int_eq(store.insert(store.ctx, arena, &rn, rules, 2, &d,
	    &out), GT_OK);
	ck_assert_int_eq(d.remaining[0], 0);
	ck_assert_int_eq(d.remaining[1], 9);

	rn.repo = "octo/c";
	rules[1].key = "octo/c";
	ck_assert_int_eq(store.insert(store.ctx, arena, &rn, rules, 2, &d,
	    &out), GT_ERR_RATE_LIMITED);
	ck_assert_int_eq(d.remaining[1], 10);
	ck_assert_int_eq(d.reset_s[1], 0);

	rn.requester = "carol";
	rules[0].key = "carol";
	ck_assert_int_eq(store.insert(store.ctx, arena, &rn, rules, 2, &d,
	    &out), GT_OK);
	count_runs_is("3");
}
END_TEST

START_TEST(test_fallback_limiter_is_exact_under_concurrency)
{
	struct limit_rule	 rules[2];
	struct run_new		 rn = api_run("octo/widgets", "race");
	int			 counts[3];

	rules[0] = rule(LIMIT_REPO, "octo/widgets", 5, 3600);
	rules[1] = rule(LIMIT_REQUESTER, "role:operator", 1000, 3600);
	race(15, &rn, rules, 2, counts);
	ck_assert_int_eq(counts[0], 5);
	ck_assert_int_eq(counts[2], 10);
	count_runs_is("5");
	nothing_left_open();
}
END_TEST

START_TEST(test_failed_fallback_creation_leaves_nothing)
{
	struct limit_rule	 r = rule(LIMIT_REPO, "octo/widgets", 10, 60);
	struct limit_decision	 d;
	struct run_new		 rn = api_run("octo/widgets", "first");
	struct run		 out;

	rn.idempotency_key = "k";
	rn.fingerprint = "fp";
	ck_assert_int_eq(store.insert(store.ctx, arena, &rn, &r, 1, &d, &out),
	    GT_OK);

	/* The key is held: the transaction is rolled back. */
	ck_assert_int_eq(store.insert(store.ctx, arena, &rn, &r, 1, &d, &out),
	    GT_ERR_CONFLICT);
	nothing_left_open();

	/* A row the schema refuses is a bug, rolled back as well. */
	rn = api_run("-not-a-repo/x", "second");
	ck_assert_int_eq(store.insert(store.ctx, arena, &rn, &r, 1, &d, &out),
	    GT_ERR_INTERNAL);
	nothing_left_open();
	count_runs_is("1");
}
END_TEST

START_TEST(test_bad_rules_are_refused)
{
	struct limit_rule	 rules[3];
	struct limit_decision	 d;
	struct run_new		 rn = api_run("octo/widgets", "x");
	struct run		 out;

	rules[0] = rule(LIMIT_REPO, "octo/widgets", 1, 60);
	rules[1] = rule(LIMIT_REQUESTER, "role:operator", 1, 60);
	rules[2] = rule(LIMIT_REPO, "octo/widgets", 1, 60);
	ck_assert_int_eq(store.insert(store.ctx, arena, &rn, rules, 3, &d,
	    &out), GT_ERR_INVALID);
	ck_assert_int_eq(store.count_limits(store.ctx, rules, 3, &d),
	    GT_ERR_INVALID);
	rules[0].limit = 0;
	ck_assert_int_eq(store.count_limits(store.ctx, rules, 1, &d),
	    GT_ERR_INVALID);
	rules[0].limit = 1;
	rules[0].window_s = 0;
	ck_assert_int_eq(store.insert(store.ctx, arena, &rn, rules, 1, &d,
	    &out), GT_ERR_INVALID);
	rn.idempotency_key = "k";
	ck_assert_int_eq(store.insert(store.ctx, arena, &rn, NULL, 0, NULL,
	    &out), GT_ERR_INVALID);
	count_runs_is("0");
}
END_TEST

START_TEST(test_count_limits_takes_nothing)
{
	struct limit_rule	 rules[2];
	struct limit_decision	 d;
	struct run_new		 rn = api_run("octo/widgets", "x");
	struct run		 out;

	rules[0] = rule(LIMIT_REPO, "octo/widgets", 2, 3600);
	rules[1] = rule(LIMIT_REQUESTER, "role:operator", 5, 60);
	ck_assert_int_eq(store.count_limits(store.ctx, rules, 2, &d), GT_OK);
	ck_assert_int_eq(d.allowed, 1);
	ck_assert_int_eq(d.remaining[0], 2);
	ck_assert_int_eq(d.remaining[1], 5);
	ck_assert_int_eq(d.reset_s[0], 0);
	ck_assert_int_eq(d.reset_s[1], 0);
	ck_assert_int_eq(d.retry_after_s, 0);

	insert_ok(&rn, &out);
	ck_assert_int_eq(store.count_limits(store.ctx, rules, 2, &d), GT_OK);
	ck_assert_int_eq(d.allowed, 1);
	ck_assert_int_eq(d.remaining[0], 1);
	ck_assert_int_eq(d.remaining[1], 4);
	ck_assert_int_ge(d.reset_s[0], 3599);
	ck_assert_int_le(d.reset_s[1], 60);

	insert_ok(&rn, &out);
	ck_assert_int_eq(store.count_limits(store.ctx, rules, 2, &d), GT_OK);
	ck_assert_int_eq(d.allowed, 0);
	ck_assert_int_eq(d.remaining[0], 0);
	ck_assert_int_eq(d.remaining[1], 3);
	ck_assert_int_ge(d.retry_after_s, 3599);
	ck_assert_int_eq(store.count_limits(store.ctx, rules, 2, &d), GT_OK);
	ck_assert_int_eq(d.remaining[1], 3);
	count_runs_is("2");

	ck_assert_int_eq(store.count_limits(store.ctx, NULL, 0, &d), GT_OK);
	ck_assert_int_eq(d.allowed, 1);
}
END_TEST

/*
 * Seeds n runs in repo, two by two created at the same instant (so that
 * the id decides their order), each with its index as instruction.
 */
static void
seed_list(int n, const char *repo, const char *status)
{
	char		 num[16], inst[16];
	const char	*p[4] = { repo, num, inst, status };
	int		 i;

	for (i = 0; i < n; i++) {
		snprintf(num, sizeof(num), "%d", i / 2);
		snprintf(inst, sizeof(inst), "run %d", i);
		PQclear(scratch_must_p(scratch.side, "INSERT INTO runs (repo, "
		    "target_type, target_number, instruction, source, "
		    "requester, status, created_at, started_at, finished_at, "
		    "exit_code) SELECT $1, 'issue', 1, $3, 'api', 'x', $4, t, "
		    "CASE WHEN $4 = 'queued' THEN NULL ELSE t END, CASE WHEN "
		    "$4 = 'queued' THEN NULL ELSE t END, CASE WHEN $4 = "
		    "'queued' THEN NULL ELSE 0 END FROM (SELECT "
		    "'2026-01-01 00:00:00+00'::timestamptz + $2::integer * "
		    "interval '1 minute' AS t) AS at", 4, p));
	}
}

/* Asserts that the page holds exactly the runs the reference query picks. */
static void
page_is(const struct run *runs, size_t n, const char *reference,
    int nparams, const char *const *params)
{
	PGresult	*res = scratch_must_p(scratch.side, reference, nparams,
	    params);
	size_t		 i;

	ck_assert_uint_eq(n, (size_t)PQntuples(res));
	for (i = 0; i < n; i++) {
		ck_assert_str_eq(runs[i].id, PQgetvalue(res, (int)i, 0));
		if (i > 0 && runs[i].created_at_ms == runs[i - 1].created_at_ms)
			ck_assert_int_lt(strcmp(runs[i].id, runs[i - 1].id), 0);
		else if (i > 0)
			ck_assert_int_lt(runs[i].created_at_ms,
			    runs[i - 1].created_at_ms);
	}
	PQclear(res);
}

START_TEST(test_list_pages_newest_first_with_the_total)
{
	struct run_filter	 f;
	struct run		*runs;
	size_t			 n;
	int64_t			 total;

	seed_list(25, "octo/widgets", "queued");
	memset(&f, 0, sizeof(f));
	f.page = 1;
	f.limit = 10;
	ck_assert_int_eq(store.list(store.ctx, arena, &f, &runs, &n, &total),
	    GT_OK);
	ck_assert_int_eq(total, 25);
	ck_assert_str_eq(runs[0].instruction, "run 24");
	page_is(runs, n, "SELECT id FROM runs ORDER BY created_at DESC, "
	    "id DESC LIMIT 10", 0, NULL);

	f.page = 3;
	ck_assert_int_eq(store.list(store.ctx, arena, &f, &runs, &n, &total),
	    GT_OK);
	ck_assert_int_eq(total, 25);
	page_is(runs, n, "SELECT id FROM runs ORDER BY created_at DESC, "
	    "id DESC OFFSET 20", 0, NULL);
	ck_assert_uint_eq(n, 5);

	/* Past the end: no run, and still the total. */
	f.page = 4;
	ck_assert_int_eq(store.list(store.ctx, arena, &f, &runs, &n, &total),
	    GT_OK);
	ck_assert_uint_eq(n, 0);
	ck_assert_int_eq(total, 25);
	f.page = INT64_MAX;
	f.limit = 100;
	ck_assert_int_eq(store.list(store.ctx, arena, &f, &runs, &n, &total),
	    GT_OK);
	ck_assert_uint_eq(n, 0);
	ck_assert_int_eq(total, 25);

	f.page = 0;
	ck_assert_int_eq(store.list(store.ctx, arena, &f, &runs, &n, &total),
	    GT_ERR_INVALID);
	f.page = 1;
	f.limit = 0;
	ck_assert_int_eq(store.list(store.ctx, arena, &f, &runs, &n, &total),
	    GT_ERR_INVALID);
}
END_TEST

START_TEST(test_list_filters_by_status_and_repo)
{
	static const struct {
		int		 has_status;
		enum run_status	 status;
		const char	*repo;
		int64_t		 total;
		const char	*reference;
	} cases[] = {
		{ 0, RUN_QUEUED, "OCTO/a", 5, "repo_key = 'octo/a'" },
		{ 1, RUN_SUCCEEDED, NULL, 2, "status = 'succeeded'" },
		{ 1, RUN_QUEUED, "octo/A", 3,
		    "repo_key = 'octo/a' AND status = 'queued'" },
		{ 1, RUN_RUNNING, NULL, 1, "status = 'running'" },
		{ 1, RUN_FAILED, NULL, 0, "false" },
		{ 0, RUN_QUEUED, "octo/none", 0, "false" },
		{ 0, RUN_QUEUED, NULL, 6, "true" },
	};
	struct run_filter	 f;
	struct run		*runs;
	char			 sql[256];
	size_t			 i, n;
	int64_t			 total;

	seed_list(3, "Octo/A", "queued");
	seed_list(2, "Octo/A", "succeeded");
	free(side_run("octo/b", "x", "running", 10));
	for (i = 0; i < NELEM(cases); i++) {
		memset(&f, 0, sizeof(f));
		f.has_status = cases[i].has_status;
		f.status = cases[i].status;
		f.repo = cases[i].repo;
		f.page = 1;
		f.limit = 20;
		ck_assert_int_eq(store.list(store.ctx, arena, &f, &runs, &n,
		    &total), GT_OK);
		ck_assert_msg(total == cases[i].total, "case %zu: total %jd",
		    i, (intmax_t)total);
		snprintf(sql, sizeof(sql), "SELECT id FROM runs WHERE %s "
		    "ORDER BY created_at DESC, id DESC", cases[i].reference);
		page_is(runs, n, sql, 0, NULL);
		if (cases[i].repo != NULL && n > 0)
			ck_assert_str_eq(runs[0].repo, "Octo/A");
	}
}
END_TEST

/*
 * The totals come from the kept counts of finished runs created before
 * the mark, plus the runs since: they must stay exact for every filter,
 * and a page far down must be the same from either end.
 */
START_TEST(test_list_totals_from_kept_counts)
{
	static const struct {
		int		 has_status;
		enum run_status	 status;
		const char	*repo;
		int64_t		 total;
		const char	*reference;
	} cases[] = {
		{ 0, RUN_QUEUED, NULL, 53, "true" },
		{ 1, RUN_SUCCEEDED, NULL, 50, "status = 'succeeded'" },
		{ 0, RUN_QUEUED, "OCTO/a", 43, "repo_key = 'octo/a'" },
		{ 1, RUN_SUCCEEDED, "octo/B", 10,
		    "repo_key = 'octo/b' AND status = 'succeeded'" },
		{ 1, RUN_QUEUED, NULL, 3, "status = 'queued'" },
		{ 1, RUN_QUEUED, "octo/b", 0, "false" },
	};
	struct run_new		 rn = api_run("Octo/A", "fresh");
	struct run_filter	 f;
	struct run		*runs, out;
	char			 sql[256], off[24];
	const char		*params[] = { off };
	size_t			 i, n;
	int64_t			 total, page;

	seed_list(40, "Octo/A", "succeeded");
	seed_list(10, "octo/b", "succeeded");
	scratch_value_is("SELECT run_counts_refresh() > now() - "
	    "interval '6 minutes'", "t");
	scratch_value_is("SELECT sum(n) FROM run_counts", "50");
	for (i = 0; i < 3; i++) {
		rn.target_number = 100 + (int32_t)i;
		insert_ok(&rn, &out);
	}

	for (i = 0; i < NELEM(cases); i++) {
		memset(&f, 0, sizeof(f));
		f.has_status = cases[i].has_status;
		f.status = cases[i].status;
		f.repo = cases[i].repo;
		f.limit = 7;
		for (page = 1; page <= cases[i].total / 7 + 1; page++) {
			f.page = page;
			ck_assert_int_eq(store.list(store.ctx, arena, &f, &runs,
			    &n, &total), GT_OK);
			ck_assert_msg(total == cases[i].total,
			    "case %zu page %jd: total %jd", i, (intmax_t)page,
			    (intmax_t)total);
			snprintf(off, sizeof(off), "%jd",
			    (intmax_t)((page - 1) * 7));
			snprintf(sql, sizeof(sql), "SELECT id FROM runs "
			    "WHERE %s ORDER BY created_at DESC, id DESC "
			    "LIMIT 7 OFFSET $1::bigint", cases[i].reference);
			page_is(runs, n, sql, 1, params);
		}
	}

	/* A run dated before the mark (an import) starts them again too. */
	scratch_value_is("SELECT run_counts_refresh() > '-infinity'", "t");
	seed_list(2, "octo/c", "succeeded");
	scratch_value_is("SELECT count(*) FROM run_counts", "0");
	memset(&f, 0, sizeof(f));
	f.page = 1;
	f.limit = 7;
	ck_assert_int_eq(store.list(store.ctx, arena, &f, &runs, &n, &total),
	    GT_OK);
	ck_assert_int_eq(total, 55);
	scratch_value_is("SELECT run_counts_refresh() > '-infinity'", "t");
	scratch_value_is("SELECT sum(n) FROM run_counts", "52");
	ck_assert_int_eq(store.list(store.ctx, arena, &f, &runs, &n, &total),
	    GT_OK);
	ck_assert_int_eq(total, 55);

	/* A deletion starts the counts again; the totals stay exact. */
	scratch_must(scratch.side, "DELETE FROM runs WHERE repo_key = 'octo/b'");
	scratch_value_is("SELECT count(*) FROM run_counts", "0");
	scratch_value_is("SELECT upto FROM run_counts_mark", "-infinity");
	ck_assert_int_eq(store.list(store.ctx, arena, &f, &runs, &n, &total),
	    GT_OK);
	ck_assert_int_eq(total, 45);
}
END_TEST

/*
 * The finished runs seed_days() makes, day by day from the UTC day
 * day0, oldest first.  Some days hold none and one a single run, so the
 * deep pages of the whole list and of its failed runs cross empty days
 * and a day of one run as well as full ones.
 */
static const int day_runs[] = {
	1000, 0, 900, 15, 800, 1, 0, 0, 600, 40, 400, 2500
};

/*
 * seed_days() also makes a queued run on the last day, at the instant of
 * its run of this index: the kept counts' mark cannot pass it, so that
 * day is counted only up to there, and enough of the day is before it
 * for some deep pages to start in it.
 */
#define HOLD_AT		2300

/*
 * When a seeded run was created: its day's midnight plus an even share
 * of the day for each pair of runs (the two of a pair at the same
 * instant, so that the id decides their order), and the day's last pair
 * one microsecond before the next midnight.  A day's first pair is at
 * midnight exactly.  Over the columns d (the day, from 1), i (the run's
 * index in its day) and n (the day's runs), and the parameter $1, day0.
 * Seconds, not days: adding a day to a timestamptz follows the session's
 * time zone.
 */
#define SEED_AT \
	"to_timestamp(($1::bigint + d - 1) * 86400) + CASE " \
	"    WHEN i >= 2 AND i >= n - 2 " \
	"    THEN interval '86399.999999 seconds' " \
	"    ELSE (i / 2) * (86400.0 / n)::float8 * interval '1 second' END"

/* The UTC day of seed_days()'s first, as days since 1970-01-01. */
static char	 day0[24];

/*
 * Seeds the days of day_runs, the last of them 19 days ago, and the
 * queued run that holds the mark back.  Eight runs in ten fail, one
 * succeeds and one is cancelled; one in seven is in Octo/A, the rest in
 * octo/b.
 */
static void
seed_days(void)
{
	char		 days[256], hold[16], *v;
	const char	*params[] = { day0, days, hold };
	size_t		 i, len = 0;

	v = scratch_value_p("SELECT floor(extract(epoch FROM now()) / 86400)"
	    "::bigint - 30", 0, NULL);
	snprintf(day0, sizeof(day0), "%s", v);
	free(v);
	for (i = 0; i < NELEM(day_runs); i++) {
		len += (size_t)snprintf(days + len, sizeof(days) - len, "%s%d",
		    i == 0 ? "{" : ",", day_runs[i]);
		ck_assert_uint_lt(len, sizeof(days) - 1);
	}
	snprintf(days + len, sizeof(days) - len, "}");
	snprintf(hold, sizeof(hold), "%d", HOLD_AT);

	PQclear(scratch_must_p(scratch.side, "INSERT INTO runs (repo, "
	    "target_type, target_number, instruction, source, requester, "
	    "status, created_at, started_at, finished_at, exit_code, "
	    "error_stage, error_message) "
	    "SELECT CASE WHEN i % 7 = 0 THEN 'Octo/A' ELSE 'octo/b' END, "
	    "'issue', 1, 'day ' || d || ' run ' || i, 'api', 'x', st, t, t, "
	    "t, CASE st WHEN 'succeeded' THEN 0 WHEN 'failed' THEN 1 END, "
	    "CASE st WHEN 'failed' THEN 'runner' "
	    "    WHEN 'cancelled' THEN 'cancelled' END, "
	    "CASE st WHEN 'failed' THEN 'exit status 1' "
	    "    WHEN 'cancelled' THEN 'cancelled by request' END "
	    "FROM unnest($2::integer[]) WITH ORDINALITY AS c (n, d), "
	    "    generate_series(0, c.n - 1) AS i, "
	    "    LATERAL (SELECT " SEED_AT " AS t, "
	    "        CASE WHEN i % 10 < 8 THEN 'failed' "
	    "            WHEN i % 10 < 9 THEN 'succeeded' "
	    "            ELSE 'cancelled' END AS st) AS at", 2, params));
	PQclear(scratch_must_p(scratch.side, "INSERT INTO runs (repo, "
	    "target_type, target_number, instruction, source, requester, "
	    "created_at) "
	    "SELECT 'octo/b', 'issue', 2, 'holds the mark', 'api', 'x', "
	    SEED_AT " "
	    "FROM (SELECT cardinality($2::integer[]) AS d, $3::integer AS i, "
	    "    ($2::integer[])[cardinality($2::integer[])] AS n) AS c",
	    3, params));
	scratch_must(scratch.side, "ANALYZE runs");
}

/*
 * Forty runs since the mark, a second apart: queued, running, failed and
 * succeeded in turn, one in three in Octo/A.
 */
static void
seed_fresh(void)
{
	scratch_must(scratch.side, "INSERT INTO runs (repo, target_type, "
	    "target_number, instruction, source, requester, status, "
	    "created_at, started_at, finished_at, exit_code, error_stage, "
	    "error_message) "
	    "SELECT CASE WHEN i % 3 = 0 THEN 'Octo/A' ELSE 'octo/b' END, "
	    "'issue', 100 + i, 'fresh ' || i, 'api', 'x', st, t, "
	    "CASE WHEN st <> 'queued' THEN t END, "
	    "CASE WHEN st IN ('failed', 'succeeded') THEN t END, "
	    "CASE st WHEN 'succeeded' THEN 0 WHEN 'failed' THEN 1 END, "
	    "CASE st WHEN 'failed' THEN 'runner' END, "
	    "CASE st WHEN 'failed' THEN 'exit status 1' END "
	    "FROM generate_series(0, 39) AS i, "
	    "    LATERAL (SELECT now() - i * interval '1 second' AS t, "
	    "        (ARRAY['queued', 'running', 'failed', 'succeeded'])"
	    "        [i % 4 + 1] AS st) AS at");
}

/*
 * Asserts the day counts, summed over the statuses, per day from day0:
 * day_runs, the last day holding last runs.
 */
static void
days_are(int last)
{
	char		 want[256];
	const char	*params[] = { day0 };
	size_t		 i, len = 0;
	int		 n;

	want[0] = '\0';
	for (i = 0; i < NELEM(day_runs); i++) {
		n = i + 1 == NELEM(day_runs) ? last : day_runs[i];
		if (n == 0)
			continue;
		len += (size_t)snprintf(want + len, sizeof(want) - len,
		    "%s%zu:%d", len == 0 ? "" : ",", i, n);
		ck_assert_uint_lt(len, sizeof(want));
	}
	scratch_value_is_p("SELECT string_agg((day - $1::bigint) || ':' || n, "
	    "',' ORDER BY day) "
	    "FROM (SELECT day, sum(n) AS n FROM run_day_counts "
	    "    GROUP BY day) AS g", 1, params, want);
}

/* Asserts the day counts, summed per status, are the runs before the mark. */
static void
day_statuses_are_the_runs_before_the_mark(void)
{
	char	*want;

	want = scratch_value_p("SELECT string_agg(status || ':' || n, ',' "
	    "ORDER BY status) "
	    "FROM (SELECT status, count(*) AS n FROM runs "
	    "    WHERE created_at < (SELECT upto FROM run_counts_mark) "
	    "    GROUP BY status) AS s", 0, NULL);
	scratch_value_is("SELECT string_agg(status || ':' || n, ',' "
	    "ORDER BY status) "
	    "FROM (SELECT status, sum(n) AS n FROM run_day_counts "
	    "    GROUP BY status) AS s", want);
	free(want);
}

/* Asserts the counts started again: nothing kept, the mark at the start. */
static void
counts_started_again(void)
{
	scratch_value_is("SELECT (SELECT count(*) FROM run_counts) + "
	    "(SELECT count(*) FROM run_day_counts)", "0");
	scratch_value_is("SELECT upto FROM run_counts_mark", "-infinity");
}

/*
 * The refresh counts the runs before the mark per UTC day and status too,
 * whatever the session's time zone.  A mark inside a day counts the part
 * of it before the mark, and the next refresh adds the rest to the same
 * rows.  Each way of starting the counts again empties them.
 */
START_TEST(test_day_counts_hold_the_runs_before_the_mark)
{
	const char	*params[1];
	char		*import;

	seed_days();

	/* Far east of UTC: there, 14 hours of each UTC day are the next day. */
	scratch_must(scratch.side, "SET TimeZone = 'Pacific/Kiritimati'");
	scratch_value_is("SELECT run_counts_refresh() = (SELECT created_at "
	    "FROM runs WHERE status = 'queued')", "t");
	days_are(HOLD_AT);
	day_statuses_are_the_runs_before_the_mark();

	/* The held run ends: the rest of its day is counted with it. */
	scratch_must(scratch.side, "UPDATE runs SET status = 'cancelled', "
	    "finished_at = created_at, error_stage = 'cancelled', "
	    "error_message = 'cancelled by request' "
	    "WHERE instruction = 'holds the mark'");
	scratch_value_is("SELECT run_counts_refresh() > now() - "
	    "interval '6 minutes'", "t");
	days_are(day_runs[NELEM(day_runs) - 1] + 1);
	day_statuses_are_the_runs_before_the_mark();
	scratch_must(scratch.side, "RESET TimeZone");

	/* A run dated before the mark, a deletion, a truncation. */
	import = side_run("octo/b", "x", "succeeded", 40 * 86400);
	counts_started_again();
	scratch_value_is("SELECT run_counts_refresh() > '-infinity'", "t");
	day_statuses_are_the_runs_before_the_mark();
	params[0] = import;
	PQclear(scratch_must_p(scratch.side, "DELETE FROM runs "
	    "WHERE id = $1::uuid", 1, params));
	free(import);
	counts_started_again();
	scratch_value_is("SELECT run_counts_refresh() > '-infinity'", "t");
	days_are(day_runs[NELEM(day_runs) - 1] + 1);
	scratch_must(scratch.side, "SET client_min_messages = warning");
	scratch_must(scratch.side, "TRUNCATE runs CASCADE");
	counts_started_again();
}
END_TEST

/* A filter of the list, and the runs it picks as SQL, for the reference. */
struct list_case {
	int		 has_status;
	enum run_status	 status;
	const char	*repo;
	const char	*where;
};

/* Every filter the deep pages may meet. */
static const struct list_case list_cases[] = {
	{ 0, RUN_QUEUED, NULL, "true" },
	{ 1, RUN_FAILED, NULL, "status = 'failed'" },
	{ 1, RUN_SUCCEEDED, NULL, "status = 'succeeded'" },
	{ 1, RUN_CANCELLED, NULL, "status = 'cancelled'" },
	{ 1, RUN_QUEUED, NULL, "status = 'queued'" },
	{ 1, RUN_RUNNING, NULL, "status = 'running'" },
	{ 0, RUN_QUEUED, "OCTO/a", "repo_key = 'octo/a'" },
	{ 1, RUN_FAILED, "octo/B", "repo_key = 'octo/b' AND status = 'failed'" },
};

/* The two of list_cases whose deep pages seed_days() sends to the days. */
#define CASE_ALL	(&list_cases[0])
#define CASE_FAILED	(&list_cases[1])

static void
filter_of(const struct list_case *c, struct run_filter *f)
{
	memset(f, 0, sizeof(*f));
	f->has_status = c->has_status;
	f->status = c->status;
	f->repo = c->repo;
}

/*
 * Asserts every page of the case at each of the limits, the page just
 * past the end, and one too far to count to, total included, against the
 * order of the reference query.  That order is read once: a reference
 * query for each page would cost the square of the runs.
 */
static void
every_page_is(const struct list_case *c, const int64_t *limits,
    size_t nlimits)
{
	struct run_filter	 f;
	struct run		*runs;
	PGresult		*ref;
	char			 sql[256];
	const char		*want;
	size_t			 i, k, n, wanted;
	int64_t			 rows, total, off;

	snprintf(sql, sizeof(sql), "SELECT id FROM runs WHERE %s "
	    "ORDER BY created_at DESC, id DESC", c->where);
	ref = scratch_must_p(scratch.side, sql, 0, NULL);
	rows = PQntuples(ref);
	filter_of(c, &f);
	for (k = 0; k < nlimits; k++) {
		f.limit = limits[k];
		for (f.page = 1; (f.page - 1) * f.limit <= rows; f.page++) {
			off = (f.page - 1) * f.limit;
			wanted = (size_t)(rows - off < f.limit ? rows - off :
			    f.limit);
			ck_assert_int_eq(store.list(store.ctx, arena, &f, &runs,
			    &n, &total), GT_OK);
			ck_assert_msg(total == rows && n == wanted,
			    "%s, %jd a page, page %jd: %zu runs of %jd, "
			    "want %zu of %jd", c->where, (intmax_t)f.limit,
			    (intmax_t)f.page, n, (intmax_t)total, wanted,
			    (intmax_t)rows);
			for (i = 0; i < n; i++) {
				want = PQgetvalue(ref, (int)(off + (int64_t)i),
				    0);
				ck_assert_msg(strcmp(runs[i].id, want) == 0,
				    "%s, %jd a page, page %jd: run %zu is %s, "
				    "want %s", c->where, (intmax_t)f.limit,
				    (intmax_t)f.page, i, runs[i].id, want);
			}
			arena_reset(arena);
		}
		f.page = INT64_MAX;
		ck_assert_int_eq(store.list(store.ctx, arena, &f, &runs, &n,
		    &total), GT_OK);
		ck_assert_uint_eq(n, 0);
		ck_assert_int_eq(total, rows);
	}
	PQclear(ref);
}

/* A page of a few runs, and the largest the API allows. */
static const int64_t	 limits[] = { 7, 100 };

/*
 * The scene of the deep pages: seed_days(), the counts taken up to the
 * held run, and runs since.
 */
static void
seed_deep_list(void)
{
	seed_days();
	scratch_value_is("SELECT run_counts_refresh() = (SELECT created_at "
	    "FROM runs WHERE status = 'queued')", "t");
	days_are(HOLD_AT);
	seed_fresh();
}

/*
 * A page deep in the list, found through the day counts, holds the same
 * runs as a plain ORDER BY ... OFFSET, at every page of every filter:
 * with runs since the mark on top, a mark inside a day, days empty or of
 * one run, runs at midnight and a microsecond before it, and pairs of
 * runs at one instant.
 */
START_TEST(test_deep_pages_match_a_plain_offset)
{
	size_t	 i;

	seed_deep_list();
	for (i = 0; i < NELEM(list_cases); i++)
		every_page_is(&list_cases[i], limits, NELEM(limits));
}
END_TEST

/*
 * So does a page of one run at every position of the lists whose deep
 * pages go through the days: each day's first and last run, and each
 * side of the mark, start a page.
 */
START_TEST(test_deep_pages_of_one_run_match_a_plain_offset)
{
	static const int64_t	 one[] = { 1 };

	seed_deep_list();
	every_page_is(CASE_ALL, one, NELEM(one));
	every_page_is(CASE_FAILED, one, NELEM(one));
}
END_TEST

/* And at every position of the lists of the other filters. */
START_TEST(test_other_pages_of_one_run_match_a_plain_offset)
{
	static const int64_t	 one[] = { 1 };
	size_t			 i;

	seed_deep_list();
	for (i = 0; i < NELEM(list_cases); i++)
		if (&list_cases[i] != CASE_ALL && &list_cases[i] != CASE_FAILED)
			every_page_is(&list_cases[i], one, NELEM(one));
}
END_TEST

/*
 * The deep pages stay right when the counts start again (the list then
 * counts every run, and reads each page from the nearer end), and once
 * they are taken again, with the mark past every seeded day.
 */
START_TEST(test_deep_pages_after_the_counts_start_again)
{
	seed_deep_list();

	scratch_must(scratch.side, "DELETE FROM runs "
	    "WHERE instruction = 'holds the mark'");
	counts_started_again();
	every_page_is(CASE_ALL, limits, NELEM(limits));
	every_page_is(CASE_FAILED, limits, NELEM(limits));

	scratch_value_is("SELECT run_counts_refresh() > "
	    "(SELECT max(created_at) FROM runs WHERE instruction LIKE 'day %')",
	    "t");
	days_are(day_runs[NELEM(day_runs) - 1]);
	every_page_is(CASE_ALL, limits, NELEM(limits));
	every_page_is(CASE_FAILED, limits, NELEM(limits));
}
END_TEST

/*
 * The first run of the page at offset, for the case at 10 a page: its id,
 * which the caller frees.
 */
static char *
first_of_page(const struct list_case *c, int64_t off, int64_t *total)
{
	struct run_filter	 f;
	struct run		*runs;
	size_t			 n;
	char			*id;

	filter_of(c, &f);
	f.limit = 10;
	f.page = off / 10 + 1;
	ck_assert_int_eq(store.list(store.ctx, arena, &f, &runs, &n, total),
	    GT_OK);
	ck_assert_uint_eq(n, 10);
	ck_assert_ptr_nonnull(id = strdup(runs[0].id));
	arena_reset(arena);
	return id;
}

/*
 * The id of the run at position pos of the case's list (the reference
 * order); the caller frees it.
 */
static char *
run_at(const struct list_case *c, int64_t pos)
{
	char		 sql[256], at[24];
	const char	*params[] = { at };

	snprintf(at, sizeof(at), "%jd", (intmax_t)pos);
	snprintf(sql, sizeof(sql), "SELECT id FROM runs WHERE %s "
	    "ORDER BY created_at DESC, id DESC OFFSET $1::bigint LIMIT 1",
	    c->where);
	return scratch_value_p(sql, 1, params);
}

/*
 * The deep pages of the whole list and of a status's runs do come from
 * the day counts, and from the counts of that status only, while the
 * first pages and a repository's pages do not read them.  With the
 * newest day's count made 3 too high behind the store's back, a page
 * found through the days starts 3 runs earlier.
 */
START_TEST(test_deep_pages_come_from_the_day_counts)
{
	static const struct {
		const struct list_case	*c;
		int64_t			 off;
		int			 shifts;	/* for statuses[i]: 1 << i */
	} pages[] = {
		/* The middle of the ninth day, in the whole list... */
		{ &list_cases[0], 3280, 3 },
		/* ...and among the failed runs. */
		{ &list_cases[1], 2600, 1 },
		/* The first pages, and a repository's deep page. */
		{ &list_cases[0], 10, 0 },
		{ &list_cases[1], 10, 0 },
		{ &list_cases[7], 2600, 0 },
	};
	static const char *const statuses[] = { "failed", "succeeded" };
	const char	*params[2];
	char		*before[NELEM(pages)], *after, *want;
	int64_t		 total, total_after;
	size_t		 s, i;

	seed_deep_list();
	for (i = 0; i < NELEM(pages); i++)
		before[i] = first_of_page(pages[i].c, pages[i].off, &total);

	for (s = 0; s < NELEM(statuses); s++) {
		params[0] = statuses[s];
		params[1] = "3";
		PQclear(scratch_must_p(scratch.side, "UPDATE run_day_counts "
		    "SET n = n + $2::integer WHERE status = $1::text AND "
		    "day = (SELECT max(day) FROM run_day_counts)", 2, params));
		for (i = 0; i < NELEM(pages); i++) {
			after = first_of_page(pages[i].c, pages[i].off,
			    &total_after);
			if (pages[i].shifts & (1 << s)) {
				want = run_at(pages[i].c, pages[i].off - 3);
				ck_assert_str_eq(after, want);
				free(want);
			} else
				ck_assert_str_eq(after, before[i]);
			free(after);
		}
		params[1] = "-3";
		PQclear(scratch_must_p(scratch.side, "UPDATE run_day_counts "
		    "SET n = n + $2::integer WHERE status = $1::text AND "
		    "day = (SELECT max(day) FROM run_day_counts)", 2, params));
	}
	for (i = 0; i < NELEM(pages); i++)
		free(before[i]);
}
END_TEST

/* The plans the store's session made for the deep pages' statement. */
static void
deep_plans_are(const char *want)
{
	PGresult	*res;

	res = pgconn_exec(pc, "SELECT generic_plans || ' ' || custom_plans "
	    "FROM pg_prepared_statements "
	    "WHERE statement LIKE '%run_day_counts%' AND "
	    "statement NOT LIKE '%pg_prepared_statements%'", 0, NULL, 5000);
	ck_assert_ptr_nonnull(res);
	ck_assert_int_eq(PQresultStatus(res), PGRES_TUPLES_OK);
	ck_assert_int_eq(PQntuples(res), 1);
	ck_assert_str_eq(PQgetvalue(res, 0, 0), want);
	PQclear(res);
}

/*
 * The deep pages of the whole list run with the statement's generic
 * plan, those of one status with a plan for their parameters, which
 * PostgreSQL makes for the first five calls at least.
 */
START_TEST(test_deep_pages_of_the_whole_list_use_the_generic_plan)
{
	int64_t	 total;
	int	 i;

	seed_deep_list();
	pgconn_reset(pc);	/* statements prepared afresh */
	for (i = 0; i < 3; i++)
		free(first_of_page(CASE_ALL, 3280 + 10 * i, &total));
	deep_plans_are("3 0");
	for (i = 0; i < 2; i++)
		free(first_of_page(CASE_FAILED, 2600 + 10 * i, &total));
	deep_plans_are("3 2");
}
END_TEST

START_TEST(test_cancel_of_a_queued_run_cancels_it)
{
	struct run_new	 rn = api_run("octo/widgets", "stop me");
	struct run	 out, got;

	insert_ok(&rn, &out);
	ck_assert_int_eq(store.cancel(store.ctx, arena, out.id, &got), GT_OK);
	ck_assert_str_eq(got.id, out.id);
	ck_assert_int_eq(got.status, RUN_CANCELLED);
	ck_assert_int_ge(got.finished_at_ms, got.created_at_ms);
	ck_assert_int_eq(got.started_at_ms, -1);
	ck_assert_int_eq(got.error_stage, STAGE_CANCELLED);
	ck_assert_str_eq(got.error_message, "cancelled by request");
	scratch_value_is("SELECT status FROM runs", "cancelled");

	/* Cancelling it again: it has finished. */
	ck_assert_int_eq(store.cancel(store.ctx, arena, out.id, &got),
	    GT_ERR_TRANSITION);
	ck_assert_int_eq(got.status, RUN_CANCELLED);
}
END_TEST

/* Waits for a notification on c; returns its payload, copied. */
static char *
notification(PGconn *c, const char *channel)
{
	struct pollfd	 pfd;
	PGnotify	*nt;
	char		*payload;

	pfd.fd = PQsocket(c);
	pfd.events = POLLIN;
	for (;;) {
		ck_assert_int_eq(PQconsumeInput(c), 1);
		if ((nt = PQnotifies(c)) != NULL)
			break;
		ck_assert_int_eq(poll(&pfd, 1, TIMEOUT_MS), 1);
	}
	ck_assert_str_eq(nt->relname, channel);
	ck_assert_ptr_nonnull(payload = strdup(nt->extra));
	PQfreemem(nt);
	return payload;
}

START_TEST(test_cancel_of_a_running_run_asks_the_dispatcher)
{
	PGconn		*listener = scratch_connect(scratch.url);
	struct run	 got;
	char		*id, *first, *payload;
	const char	*p[1];

	scratch_must(listener, "LISTEN runs_cancel");
	id = side_run("octo/widgets", "x", "running", 5);
	p[0] = id;
	ck_assert_int_eq(store.cancel(store.ctx, arena, id, &got), GT_OK);
	ck_assert_int_eq(got.status, RUN_RUNNING);
	ck_assert_int_eq(got.finished_at_ms, -1);
	ck_assert_int_eq(got.error_stage, STAGE_NONE);
	payload = notification(listener, "runs_cancel");
	ck_assert_str_eq(payload, id);
	free(payload);
	first = scratch_value_p("SELECT cancel_requested_at::text FROM runs "
	    "WHERE id = $1", 1, p);
	ck_assert_str_ne(first, "(null)");

	/* A second request keeps the first one's time, and tells again. */
	ck_assert_int_eq(store.cancel(store.ctx, arena, id, &got), GT_OK);
	ck_assert_int_eq(got.status, RUN_RUNNING);
	scratch_value_is_p("SELECT cancel_requested_at::text FROM runs WHERE "
	    "id = $1", 1, p, first);
	payload = notification(listener, "runs_cancel");
	ck_assert_str_eq(payload, id);
	scratch_value_is_p("SELECT status FROM runs WHERE id = $1", 1, p,
	    "running");
	free(payload);
	free(first);
	free(id);
	PQfinish(listener);
}
END_TEST

START_TEST(test_cancel_of_a_finished_run_is_a_transition)
{
	static const struct {
		const char	*status;
		enum run_status	 want;
	} cases[] = {
		{ "succeeded", RUN_SUCCEEDED },
		{ "failed", RUN_FAILED },
		{ "cancelled", RUN_CANCELLED },
	};
	struct run	 got;
	char		*id;
	size_t		 i;

	for (i = 0; i < NELEM(cases); i++) {
		id = side_run("octo/widgets", "x", cases[i].status, 5);
		memset(&got, 0, sizeof(got));
		ck_assert_int_eq(store.cancel(store.ctx, arena, id, &got),
		    GT_ERR_TRANSITION);
		ck_assert_str_eq(got.id, id);
		ck_assert_int_eq(got.status, cases[i].want);
		scratch_value_is_p("SELECT status FROM runs WHERE id = $1", 1,
		    (const char *const[]){ id }, cases[i].status);
		free(id);
	}
}
END_TEST

START_TEST(test_cancel_of_an_unknown_run_is_not_found)
{
	struct run	 got;

	ck_assert_int_eq(store.cancel(store.ctx, arena,
	    "2f1c0000-0000-4000-8000-000000000000", &got), GT_ERR_NOT_FOUND);
	ck_assert_int_eq(store.cancel(store.ctx, arena, "2f1c", &got),
	    GT_ERR_INVALID);
}
END_TEST

START_TEST(test_cancel_follows_a_dispatcher_starting_the_run)
{
	struct run_new	 rn = api_run("octo/widgets", "racing");
	struct child	 ch;
	struct run	 out, got;
	PGconn		*dispatcher = scratch_connect(scratch.url);
	pid_t		 pid;
	int		 status;

	insert_ok(&rn, &out);

	/* The dispatcher has moved the run but not committed yet. */
	scratch_must(dispatcher, "BEGIN");
	PQclear(scratch_must_p(dispatcher, "UPDATE runs SET status = "
	    "'running', started_at = now() WHERE id = $1 AND status = 'queued'",
	    1, (const char *const[]){ out.id }));

	ck_assert_int_ne(pid = fork(), -1);
	if (pid == 0) {
		if (child_open(&ch) == -1)
			_exit(3);
		if (ch.store.cancel(ch.store.ctx, ch.arena, out.id, &got) !=
		    GT_OK)
			_exit(4);
		_exit(got.status == RUN_RUNNING ? 0 : 5);
	}

	/* The cancel waits on the row until the move commits. */
	scratch_value_is("SELECT count(*) > 0 FROM pg_sleep(0.3), "
	    "pg_stat_activity WHERE datname = current_database() AND "
	    "wait_event_type = 'Lock'", "t");
	scratch_must(dispatcher, "COMMIT");
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "cancel failed (status %d)", status);
	scratch_value_is_p("SELECT status || ' ' || (cancel_requested_at IS "
	    "NOT NULL) FROM runs WHERE id = $1", 1,
	    (const char *const[]){ out.id }, "running true");
	PQfinish(dispatcher);
}
END_TEST

START_TEST(test_every_call_is_unavailable_without_a_server)
{
	struct sockaddr_in	 sin;
	socklen_t		 len = sizeof(sin);
	struct pgconn		*down;
	struct pg_store		*dsp;
	struct run_store	 ds;
	struct limit_rule	 r = rule(LIMIT_REPO, "octo/widgets", 1, 60);
	struct limit_decision	 d;
	struct run_new		 rn = api_run("octo/widgets", "x");
	struct run_filter	 f;
	struct run		 out, *runs;
	struct create_gate	 g;
	char			 url[128];
	size_t			 n;
	int64_t			 i64a;
	int			 fd, a;

	/* A port nothing listens on: bound, then closed. */
	ck_assert_int_ne(fd = socket(AF_INET, SOCK_STREAM, 0), -1);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	close(fd);
	snprintf(url, sizeof(url), "host=127.0.0.1 port=%d dbname=x user=x",
	    ntohs(sin.sin_port));

	down = scratch_handle(url, TIMEOUT_MS);
	ck_assert_ptr_nonnull(dsp = pg_store_new(down, TIMEOUT_MS));
	run_store_pg_port(dsp, &ds);
	memset(&f, 0, sizeof(f));
	f.page = f.limit = 1;
	ck_assert_int_eq(ds.get(ds.ctx, arena,
	    "2f1c0000-0000-4000-8000-000000000000", &out), GT_ERR_UNAVAILABLE);
	ck_assert_int_eq(ds.find_by_key(ds.ctx, arena, "k", "fp", &out, &a),
	    GT_ERR_UNAVAILABLE);
	ck_assert_int_eq(ds.gate(ds.ctx, "octo/widgets", TARGET_ISSUE, 1, &g),
	    GT_ERR_UNAVAILABLE);
	ck_assert_int_eq(ds.insert(ds.ctx, arena, &rn, NULL, 0, NULL, &out),
	    GT_ERR_UNAVAILABLE);
	ck_assert_int_eq(ds.insert(ds.ctx, arena, &rn, &r, 1, &d, &out),
	    GT_ERR_UNAVAILABLE);
	ck_assert_int_eq(ds.count_limits(ds.ctx, &r, 1, &d),
	    GT_ERR_UNAVAILABLE);
	ck_assert_int_eq(ds.list(ds.ctx, arena, &f, &runs, &n, &i64a),
	    GT_ERR_UNAVAILABLE);
	ck_assert_int_eq(ds.cancel(ds.ctx, arena,
	    "2f1c0000-0000-4000-8000-000000000000", &out), GT_ERR_UNAVAILABLE);
	pg_store_free(dsp);
	pgconn_free(down);
}
END_TEST

START_TEST(test_a_statement_past_its_timeout_is_unavailable)
{
	struct pg_store		*quick;
	struct run_store	 qs;
	struct run		 got;
	PGconn			*holder = scratch_connect(scratch.url);
	char			*id;
	int64_t			 start;

	/* Another session holds the run's row: the UPDATE has to wait. */
	id = side_run("octo/widgets", "x", "queued", 5);
	scratch_must(holder, "BEGIN");
	PQclear(scratch_must_p(holder, "SELECT 1 FROM runs WHERE id = $1 FOR "
	    "UPDATE", 1, (const char *const[]){ id }));

	ck_assert_ptr_nonnull(quick = pg_store_new(pc, 300));
	run_store_pg_port(quick, &qs);
	start = now_ms();
	ck_assert_int_eq(qs.cancel(qs.ctx, arena, id, &got),
	    GT_ERR_UNAVAILABLE);
	ck_assert_int_lt(now_ms() - start, 300 + SLACK_MS);
	scratch_must(holder, "ROLLBACK");

	/*
	 * The store connects again on the next call.  (The abandoned
	 * UPDATE may still have run on the server once the row was free:
	 * an unanswered statement may or may not have taken effect.)
	 */
	ck_assert_int_eq(qs.get(qs.ctx, arena, id, &got), GT_OK);
	pg_store_free(quick);
	PQfinish(holder);
	free(id);
}
END_TEST

START_TEST(test_unexpected_error_is_internal_and_logged)
{
	char			 path[] = "/tmp/gt_check_run_store_XXXXXX";
	char			 text[4096];
	struct create_gate	 g;
	ssize_t			 len;
	int			 fd, saved;

	scratch_must(scratch.side, "ALTER TABLE rate_limits RENAME TO "
	    "rate_limits_gone");

	/* Catch the log line, written on standard error. */
	ck_assert_int_ne(fd = mkstemp(path), -1);
	ck_assert_int_ne(saved = dup(STDERR_FILENO), -1);
	ck_assert_int_ne(dup2(fd, STDERR_FILENO), -1);
	ck_assert_int_eq(store.gate(store.ctx, "Secret-Owner/x", TARGET_ISSUE,
	    1, &g), GT_ERR_INTERNAL);
	ck_assert_int_ne(dup2(saved, STDERR_FILENO), -1);
	close(saved);

	ck_assert_int_ge(len = pread(fd, text, sizeof(text) - 1, 0), 0);
	text[len] = '\0';
	close(fd);
	unlink(path);
	ck_assert_msg(strstr(text, "event=pg_error") != NULL &&
	    strstr(text, "op=gate") != NULL &&
	    strstr(text, "sqlstate=42P01") != NULL &&
	    strstr(text, "rate_limits") != NULL, "log: %s", text);
	ck_assert_msg(strstr(text, "Secret") == NULL &&
	    strstr(text, "secret") == NULL, "log: %s", text);
	ck_assert_msg(strchr(text, '\n') == text + len - 1, "log: %s", text);
}
END_TEST

static Suite *
run_store_suite(void)
{
	Suite	*s = suite_create("run_store");
	TCase	*tc;

	tc = tcase_create("run_store");
	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, store_setup, store_teardown);
	tcase_add_unchecked_fixture(tc, NULL, scratch_drop_all);
	tcase_add_test(tc, test_insert_stores_a_queued_run);
	tcase_add_test(tc, test_insert_records_where_a_webhook_run_came_from);
	tcase_add_test(tc, test_get_reads_every_column);
	tcase_add_test(tc, test_get_of_unknown_or_malformed_id_fails);
	tcase_add_test(tc, test_sql_metacharacters_are_stored_intact);
	tcase_add_test(tc,
	    test_find_by_key_tells_the_same_request_from_another);
	tcase_add_test(tc, test_expired_key_is_released_and_reusable);
	tcase_add_test(tc, test_concurrent_inserts_with_one_key_create_one_run);
	tcase_add_test(tc, test_one_run_per_comment);
	tcase_add_test(tc, test_pauses_compare_case_insensitively);
	tcase_add_test(tc, test_limit_override_is_read_by_repo_key);
	tcase_add_test(tc, test_fallback_limiter_refuses_past_the_limit);
	tcase_add_test(tc, test_fallback_limiter_counts_only_its_window);
	tcase_add_test(tc,
	    test_fallback_limiter_waits_for_enough_runs_to_leave);
	tcase_add_test(tc,
	    test_fallback_limiter_counts_a_requester_across_repos);
	tcase_add_test(tc, test_fallback_limiter_is_exact_under_concurrency);
	tcase_add_test(tc, test_failed_fallback_creation_leaves_nothing);
	tcase_add_test(tc, test_bad_rules_are_refused);
	tcase_add_test(tc, test_count_limits_takes_nothing);
	tcase_add_test(tc, test_list_pages_newest_first_with_the_total);
	tcase_add_test(tc, test_list_filters_by_status_and_repo);
	tcase_add_test(tc, test_list_totals_from_kept_counts);
	tcase_add_test(tc, test_day_counts_hold_the_runs_before_the_mark);
	tcase_add_test(tc, test_deep_pages_match_a_plain_offset);
	tcase_add_test(tc, test_deep_pages_of_one_run_match_a_plain_offset);
	tcase_add_test(tc, test_other_pages_of_one_run_match_a_plain_offset);
	tcase_add_test(tc, test_deep_pages_after_the_counts_start_again);
	tcase_add_test(tc, test_deep_pages_come_from_the_day_counts);
	tcase_add_test(tc, test_deep_pages_of_the_whole_list_use_the_generic_plan);
	tcase_add_test(tc, test_cancel_of_a_queued_run_cancels_it);
	tcase_add_test(tc, test_cancel_of_a_running_run_asks_the_dispatcher);
	tcase_add_test(tc, test_cancel_of_a_finished_run_is_a_transition);
	tcase_add_test(tc, test_cancel_of_an_unknown_run_is_not_found);
	tcase_add_test(tc, test_cancel_follows_a_dispatcher_starting_the_run);
	tcase_add_test(tc, test_every_call_is_unavailable_without_a_server);
	tcase_add_test(tc, test_a_statement_past_its_timeout_is_unavailable);
	tcase_add_test(tc, test_unexpected_error_is_internal_and_logged);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	if (scratch_init("check_run_store", "gt_store_test") == -1)
		return EXIT_FAILURE;

	sr = srunner_create(run_store_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
