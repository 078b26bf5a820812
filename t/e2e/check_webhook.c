/*
 * check_webhook.c: POST /api/github/webhook end to end, through the real
 * nginx, as GitHub delivers.
 *
 * The payloads are the GitHub fixtures of t/fixtures/github/webhook,
 * signed here with the stack's webhook secret.  They all name one
 * repository and fixed comment ids, and the service knows a delivery by
 * its id and a comment by its id, so each delivery is rewritten before it
 * is sent: a repository of the test's own, a fresh comment id and a fresh
 * delivery id.  What the webhook leaves behind (the delivery's record,
 * the run, the work queued for GitHub) is read back from PostgreSQL.
 */
#include <config.h>

#include <sys/stat.h>

#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>
#include <libpq-fe.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "e2e/client.h"

/*
 * GitHub gives up on a delivery after 10 s; the contract asks for well
 * within.  A stopped database must not hold the answer either.
 */
#define ANSWER_BOUND_MS		1000

/* The webhook's body limit (api.md), which nginx enforces first. */
#define WEBHOOK_BODY_MAX	(25 * 1024 * 1024)

/* The installation every repository event of the fixtures names. */
#define INSTALLATION_ID		"51234567"

#define RUN_ID_BUF		64
#define REPO_BUF		64

static const char	*db_url;
static const char	*webhook_secret;
static unsigned		 run_tag;	/* random, for this run of the tests */

/* The fixtures, as t/fixtures/github/README.md lists them. */
enum fixture {
	FX_PING,
	FX_ISSUE,
	FX_PULL_REQUEST,
	FX_REVIEW,
	FX_NO_TRIGGER,
	FX_BOT,
	FX_CANCEL,
	FX_EDITED,
	FX_DELETED,
	FX_ISSUES_OPENED
};

static const struct {
	const char	*file;
	const char	*event;
	const char	*comment_id;	/* NULL: no comment to rewrite */
	const char	*body;		/* the comment's body, JSON-escaped */
} fixtures[] = {
	[FX_PING] = { "ping.json", "ping", NULL, NULL },
	[FX_ISSUE] = { "issue_comment.created.issue.json", "issue_comment",
	    "2694438120", "/gittinkerer Fix the failing date parser test\\n\\n"
	    "It breaks on leap years." },
	[FX_PULL_REQUEST] = { "issue_comment.created.pull_request.json",
	    "issue_comment", "2694549902", NULL },
	[FX_REVIEW] = { "pull_request_review_comment.created.json",
	    "pull_request_review_comment", "1979554213", NULL },
	[FX_NO_TRIGGER] = { "issue_comment.created.no_trigger.json",
	    "issue_comment", "2694417705", NULL },
	[FX_BOT] = { "issue_comment.created.bot.json", "issue_comment",
	    "2694462488", NULL },
	[FX_CANCEL] = { "issue_comment.created.cancel.json", "issue_comment",
	    "2694462409", "/gittinkerer cancel" },
	[FX_EDITED] = { "issue_comment.edited.json", "issue_comment",
	    "2694451976", NULL },
	[FX_DELETED] = { "issue_comment.deleted.json", "issue_comment",
	    "2694458530", NULL },
	[FX_ISSUES_OPENED] = { "issues.opened.json", "issues", NULL, NULL },
};

/* One delivery: GitHub's headers that vary, and the payload. */
struct delivery {
	const char	*event;		/* X-GitHub-Event */
	char		 id[80];	/* X-GitHub-Delivery */
	char		 comment_id[24]; /* empty without a comment */
	enum fixture	 fx;
	char		*body;		/* NUL-terminated, malloc'd */
};

/* What deliver_as() leaves out or changes of a well-formed delivery. */
enum {
	OMIT_SIGNATURE = 1 << 0,
	OMIT_EVENT = 1 << 1,
	OMIT_DELIVERY = 1 << 2,
	AS_TEXT = 1 << 3	/* Content-Type: text/plain */
};

/*
 * A number unique to this run of the tests (run_tag), this test (Check
 * runs each in a process of its own) and this call, below 2^53.
 */
static int64_t
unique(void)
{
	static int	 n;

	return (((int64_t)run_tag << 22) | (getpid() & 0x3fffff)) * 1000 +
	    ++n;
}

/* Names a repository that no other test or call has named. */
static void
repo_new(char repo[REPO_BUF])
{
	static int	 n;

	snprintf(repo, REPO_BUF, "wh%05x-%ld-%d/widgets", run_tag,
	    (long)getpid(), ++n);
}

static void
upper(char *dst, size_t size, const char *s)
{
	size_t	 i;

	for (i = 0; s[i] != '\0' && i + 1 < size; i++)
		dst[i] = (s[i] >= 'a' && s[i] <= 'z') ? s[i] - 32 : s[i];
	dst[i] = '\0';
}

/*
 * Replaces every from in text (malloc'd) by to, in a new string; frees
 * text.  from must occur: a fixture that changed fails here, not later.
 */
static char *
replace(char *text, const char *from, const char *to)
{
	size_t		 nfrom = strlen(from), nto = strlen(to), n = 0;
	const char	*p, *q;
	char		*out, *o;

	for (p = text; (q = strstr(p, from)) != NULL; p = q + nfrom)
		n++;
	ck_assert_msg(n > 0, "the payload has no %s", from);
	out = malloc(strlen(text) + n * nto + 1);
	ck_assert_ptr_nonnull(out);
	for (o = out, p = text; (q = strstr(p, from)) != NULL; p = q + nfrom) {
		memcpy(o, p, (size_t)(q - p));
		o += q - p;
		memcpy(o, to, nto);
		o += nto;
	}
	memcpy(o, p, strlen(p) + 1);
	free(text);
	return out;
}

/* Gives d a delivery id never used before. */
static void
delivery_renew(struct delivery *d)
{
	snprintf(d->id, sizeof(d->id), "wh-%05x-%ld-%" PRId64, run_tag,
	    (long)getpid(), unique());
}

/* Reads fixture fx from the source tree. */
static char *
fixture_text(enum fixture fx)
{
	char		 path[4200];
	struct stat	 st;
	char		*text;
	int		 fd;

	snprintf(path, sizeof(path), "%s/t/fixtures/github/webhook/%s",
	    client_src_dir, fixtures[fx].file);
	fd = open(path, O_RDONLY);
	ck_assert_msg(fd != -1, "cannot open %s", path);
	ck_assert_int_eq(fstat(fd, &st), 0);
	text = malloc((size_t)st.st_size + 1);
	ck_assert_ptr_nonnull(text);
	ck_assert_int_eq(read(fd, text, (size_t)st.st_size), st.st_size);
	text[st.st_size] = '\0';
	close(fd);
	return text;
}

/*
 * Loads fixture fx as a delivery on repo (NULL for none) with a fresh
 * comment id and delivery id.
 */
static void
delivery_load(struct delivery *d, enum fixture fx, const char *repo)
{
	char	 to[160];

	memset(d, 0, sizeof(*d));
	d->fx = fx;
	d->event = fixtures[fx].event;
	d->body = fixture_text(fx);
	delivery_renew(d);
	if (repo != NULL) {
		snprintf(to, sizeof(to), "\"full_name\": \"%s\"", repo);
		d->body = replace(d->body,
		    "\"full_name\": \"octo-org/widgets\"", to);
	}
	if (fixtures[fx].comment_id != NULL) {
		snprintf(d->comment_id, sizeof(d->comment_id), "%" PRId64,
		    unique());
		d->body = replace(d->body, fixtures[fx].comment_id,
		    d->comment_id);
	}
}

/* A delivery of event with text as its payload, as it is. */
static void
delivery_raw(struct delivery *d, const char *event, const char *text)
{
	memset(d, 0, sizeof(*d));
	d->event = event;
	d->body = strdup(text);
	ck_assert_ptr_nonnull(d->body);
	delivery_renew(d);
}

static void
delivery_edit(struct delivery *d, const char *from, const char *to)
{
	d->body = replace(d->body, from, to);
}

/* Gives the comment the body text (JSON-escaped). */
static void
delivery_set_body(struct delivery *d, const char *text)
{
	char	*from, *to;

	ck_assert_ptr_nonnull(fixtures[d->fx].body);
	ck_assert_int_ne(asprintf(&from, "\"body\": \"%s\"",
	    fixtures[d->fx].body), -1);
	ck_assert_int_ne(asprintf(&to, "\"body\": \"%s\"", text), -1);
	d->body = replace(d->body, from, to);
	free(from);
	free(to);
}

static void
delivery_free(struct delivery *d)
{
	free(d->body);
	d->body = NULL;
}

/* "X-Hub-Signature-256: sha256=..." of body under secret. */
static void
signature_header(const char *secret, const char *body, size_t n,
    char *out, size_t size)
{
	unsigned char	 mac[EVP_MAX_MD_SIZE];
	unsigned int	 maclen = 0, i;
	int		 o;

	ck_assert_ptr_nonnull(HMAC(EVP_sha256(), secret, (int)strlen(secret),
	    (const unsigned char *)body, n, mac, &maclen));
	o = snprintf(out, size, "X-Hub-Signature-256: sha256=");
	for (i = 0; i < maclen; i++)
		o += snprintf(out + o, size - (size_t)o, "%02x", mac[i]);
	ck_assert_uint_lt((size_t)o, size);
}

/*
 * Posts d as GitHub does, signed with secret, less what flags leave out.
 */
static void
deliver_as(const struct delivery *d, const char *secret, int flags,
    struct answer *a)
{
	const char	*h[8];
	char		 sig[128], event[128], id[128];
	size_t		 n = 0, len = strlen(d->body);

	h[n++] = flags & AS_TEXT ? "Content-Type: text/plain" :
	    "Content-Type: application/json";
	h[n++] = "User-Agent: GitHub-Hookshot/5c7a91e";
	h[n++] = "X-GitHub-Hook-ID: 487201934";
	if (!(flags & OMIT_EVENT)) {
		snprintf(event, sizeof(event), "X-GitHub-Event: %s", d->event);
		h[n++] = event;
	}
	if (!(flags & OMIT_DELIVERY)) {
		snprintf(id, sizeof(id), "X-GitHub-Delivery: %s", d->id);
		h[n++] = id;
	}
	if (!(flags & OMIT_SIGNATURE)) {
		signature_header(secret, d->body, len, sig, sizeof(sig));
		h[n++] = sig;
	}
	h[n] = NULL;
	http_request("POST", "/api/github/webhook", d->body, len, h, a);
}

static void
deliver(const struct delivery *d, struct answer *a)
{
	deliver_as(d, webhook_secret, 0, a);
}

/*
 * The answer's body as an object of exactly nkeys members, after its
 * status and content type are checked; the caller puts it.
 */
static json_object *
outcome(const struct answer *a, long status, int nkeys)
{
	json_object	*o;

	ck_assert_msg(a->status == status, "status %ld, want %ld: %s",
	    a->status, status, a->body);
	ck_assert_pstr_eq(answer_header(a, "Content-Type"),
	    "application/json; charset=utf-8");
	o = answer_json(a);
	ck_assert_msg(json_object_object_length(o) == nkeys,
	    "want %d members: %s", nkeys, a->body);
	return o;
}

static void
expect_pong(const struct answer *a)
{
	json_object	*o = outcome(a, 200, 1);

	ck_assert_pstr_eq(json_str_at(o, "status"), "pong");
	json_object_put(o);
}

static void
expect_ignored(const struct answer *a, const char *reason)
{
	json_object	*o = outcome(a, 200, 2);

	ck_assert_pstr_eq(json_str_at(o, "status"), "ignored");
	ck_assert_pstr_eq(json_str_at(o, "reason"), reason);
	json_object_put(o);
}

/*
 * Asserts {"status": what, "run_id": <a run id>} with status code; the
 * id goes to id.
 */
static void
expect_run(const struct answer *a, long status, const char *what,
    char id[RUN_ID_BUF])
{
	json_object	*o = outcome(a, status, 2);
	const char	*s;

	ck_assert_pstr_eq(json_str_at(o, "status"), what);
	s = json_str_at(o, "run_id");
	ck_assert_msg(s != NULL && strlen(s) == 36, "run_id: %s", a->body);
	snprintf(id, RUN_ID_BUF, "%s", s);
	json_object_put(o);
}

/* Delivers d, which must be accepted; its run's id goes to id. */
static void
deliver_accepted(const struct delivery *d, char id[RUN_ID_BUF])
{
	struct answer	 a;

	deliver(d, &a);
	expect_run(&a, 202, "accepted", id);
	answer_free(&a);
}

/* Asserts a validation_failed answer whose first detail names field. */
static void
expect_field(const struct answer *a, const char *field)
{
	json_object	*o, *details;

	assert_error(a, 400, "validation_failed");
	o = answer_json(a);
	details = json_at(o, "error.details");
	ck_assert_msg(details != NULL &&
	    json_object_is_type(details, json_type_array) &&
	    json_object_array_length(details) > 0, "no details: %s", a->body);
	ck_assert_pstr_eq(json_str_at(json_object_array_get_idx(details, 0),
	    "field"), field);
	json_object_put(o);
}

/*
 * Runs sql with n text parameters on the stack's database; returns the
 * first column of its only row, or NULL when it answered no row or a
 * NULL.  The caller frees.
 */
static char *
db_value(const char *sql, int n, ...)
{
	const char	*params[4];
	PGconn		*c;
	PGresult	*res;
	char		*v = NULL;
	va_list		 ap;
	int		 i;

	ck_assert_int_le(n, 4);
	va_start(ap, n);
	for (i = 0; i < n; i++)
		params[i] = va_arg(ap, const char *);
	va_end(ap);

	c = PQconnectdb(db_url);
	ck_assert_msg(PQstatus(c) == CONNECTION_OK, "%s", PQerrorMessage(c));
	res = PQexecParams(c, sql, n, NULL, params, NULL, NULL, 0);
	ck_assert_msg(PQresultStatus(res) == PGRES_COMMAND_OK ||
	    PQresultStatus(res) == PGRES_TUPLES_OK, "%s: %s", sql,
	    PQresultErrorMessage(res));
	ck_assert_int_le(PQntuples(res), 1);
	if (PQntuples(res) == 1 && !PQgetisnull(res, 0, 0)) {
		v = strdup(PQgetvalue(res, 0, 0));
		ck_assert_ptr_nonnull(v);
	}
	PQclear(res);
	PQfinish(c);
	return v;
}

/* Runs a statement with one parameter that answers nothing. */
static void
db_exec(const char *sql, const char *param)
{
	ck_assert_ptr_null(db_value(sql, 1, param));
}

/* The number a query answers in its only row. */
static long
db_number(const char *sql, int n, const char *p1, const char *p2,
    const char *p3)
{
	char	*v = db_value(sql, n, p1, p2, p3);
	long	 number;

	ck_assert_ptr_nonnull(v);
	number = strtol(v, NULL, 10);
	free(v);
	return number;
}

/*
 * Asserts the count(*) query sql, with n of the parameters p1 to p3,
 * answers want.
 */
static void
expect_rows(long want, const char *sql, int n, const char *p1,
    const char *p2, const char *p3)
{
	long	 got = db_number(sql, n, p1, p2, p3);

	ck_assert_msg(got == want, "%ld rows, want %ld: %s ($1 = %s)", got,
	    want, sql, p1);
}

/*
 * Asserts the delivery's record: the status answered, the reason and
 * the run ("-" for none), or no record at all when status is NULL.
 */
static void
expect_recorded(const struct delivery *d, const char *status,
    const char *reason, const char *run_id)
{
	char	*got, want[256];

	got = db_value("SELECT concat_ws(' ', outcome, coalesce(reason, '-'), "
	    "coalesce(run_id::text, '-')) FROM webhook_deliveries "
	    "WHERE delivery_id = $1", 1, d->id);
	if (status == NULL) {
		ck_assert_msg(got == NULL, "%s recorded: %s", d->id, got);
		return;
	}
	snprintf(want, sizeof(want), "%s %s %s", status,
	    reason != NULL ? reason : "-", run_id != NULL ? run_id : "-");
	ck_assert_pstr_eq(got, want);
	free(got);
}

/* The runs made from the comment of d. */
static long
runs_of_comment(const struct delivery *d)
{
	return db_number("SELECT count(*) FROM runs WHERE comment_kind = $1 "
	    "AND comment_id = $2::bigint", 2, d->event, d->comment_id, NULL);
}

/* Asserts nothing was made for repo: no run, no work for GitHub. */
static void
expect_nothing_made(const char *repo)
{
	expect_rows(0, "SELECT count(*) FROM runs "
	    "WHERE repo_key = lower($1)", 1, repo, NULL, NULL);
	expect_rows(0, "SELECT count(*) FROM github_outbox "
	    "WHERE lower(repo) = lower($1)", 1, repo, NULL, NULL);
}

/*
 * Asserts repo has exactly one reply queued for GitHub: pending, to the
 * comment of d, saying it was refused for reason.
 */
static void
expect_reply(const char *repo, const struct delivery *d, const char *reason)
{
	char	 want[256];

	snprintf(want, sizeof(want), "{\"reason\": \"%s\", \"comment_id\": "
	    "%s, \"comment_kind\": \"%s\"}", reason, d->comment_id, d->event);
	expect_rows(1, "SELECT count(*) FROM github_outbox "
	    "WHERE lower(repo) = lower($1) AND kind = 'reply'", 1, repo, NULL,
	    NULL);
	expect_rows(1, "SELECT count(*) FROM github_outbox "
	    "WHERE lower(repo) = lower($1) AND kind = 'reply' AND "
	    "status = 'pending' AND run_id IS NULL AND "
	    "installation_id = " INSTALLATION_ID " AND payload @> $2::jsonb",
	    2, repo, want, NULL);
}

static void
get_run(const char *id, struct answer *a)
{
	char	 path[256];

	snprintf(path, sizeof(path), "/api/runs/%s", id);
	http_as(client_operator_token, "GET", path, NULL, NULL, a);
}

/* Asserts the run's source, target, requester and instruction. */
static void
expect_webhook_run(const char *id, const char *repo, const char *type,
    int number, const char *login, const char *instruction)
{
	struct answer	 a;
	json_object	*o;

	get_run(id, &a);
	ck_assert_msg(a.status == 200, "%ld %s", a.status, a.body);
	o = answer_json(&a);
	ck_assert_pstr_eq(json_str_at(o, "id"), id);
	ck_assert_pstr_eq(json_str_at(o, "repo"), repo);
	ck_assert_pstr_eq(json_str_at(o, "source"), "webhook");
	ck_assert_pstr_eq(json_str_at(o, "status"), "queued");
	ck_assert_pstr_eq(json_str_at(o, "target.type"), type);
	ck_assert_int_eq(json_object_get_int(json_at(o, "target.number")),
	    number);
	ck_assert_pstr_eq(json_str_at(o, "requested_by"), login);
	ck_assert_pstr_eq(json_str_at(o, "instruction"), instruction);
	json_object_put(o);
	answer_free(&a);
}

/*
 * Asserts what the run records of the comment of d, and the one reaction
 * queued for it.
 */
static void
expect_comment_run(const char *id, const struct delivery *d)
{
	char	*got, want[512];

	got = db_value("SELECT concat_ws(' ', comment_kind, comment_id, "
	    "delivery_id, installation_id) FROM runs WHERE id = $1::uuid", 1,
	    id);
	snprintf(want, sizeof(want), "%s %s %s " INSTALLATION_ID, d->event,
	    d->comment_id, d->id);
	ck_assert_pstr_eq(got, want);
	free(got);

	snprintf(want, sizeof(want), "{\"content\": \"eyes\", \"comment_id\": "
	    "%s, \"comment_kind\": \"%s\"}", d->comment_id, d->event);
	expect_rows(1, "SELECT count(*) FROM github_outbox "
	    "WHERE run_id = $1::uuid", 1, id, NULL, NULL);
	expect_rows(1, "SELECT count(*) FROM github_outbox "
	    "WHERE run_id = $1::uuid AND kind = 'reaction' AND "
	    "status = 'pending' AND installation_id = " INSTALLATION_ID
	    " AND payload = $2::jsonb", 2, id, want, NULL);
}

START_TEST(test_ping_is_pong_and_recorded)
{
	struct delivery	 d;
	struct answer	 a;

	delivery_load(&d, FX_PING, NULL);
	deliver(&d, &a);
	expect_pong(&a);
	ck_assert_pstr_eq(answer_header(&a, "Cache-Control"), "no-store");
	ck_assert_ptr_nonnull(answer_header(&a, "X-Request-Id"));
	answer_free(&a);
	expect_recorded(&d, "pong", NULL, NULL);
	delivery_free(&d);
}
END_TEST

START_TEST(test_owner_comment_on_issue_is_accepted_as_a_run)
{
	char		 repo[REPO_BUF], id[RUN_ID_BUF];
	struct delivery	 d;

	repo_new(repo);
	delivery_load(&d, FX_ISSUE, repo);
	deliver_accepted(&d, id);
	expect_webhook_run(id, repo, "issue", 42, "mona-lead",
	    "Fix the failing date parser test\n\nIt breaks on leap years.");
	expect_comment_run(id, &d);
	expect_recorded(&d, "accepted", NULL, id);
	delivery_free(&d);
}
END_TEST

START_TEST(test_comment_on_pull_request_targets_it_with_lf_line_ends)
{
	char		 repo[REPO_BUF], id[RUN_ID_BUF];
	struct delivery	 d;

	repo_new(repo);
	delivery_load(&d, FX_PULL_REQUEST, repo);
	deliver_accepted(&d, id);
	expect_webhook_run(id, repo, "pull_request", 57, "devon-m",
	    "Address the review on this PR:\n"
	    "- add a regression test for 2100-02-29 (not a leap year)\n"
	    "- keep `parse_date` accepting the compact `YYYYMMDD` form\n"
	    "\n"
	    "Push the fix to this branch; do not open a new PR.");
	expect_rows(1, "SELECT count(*) FROM runs WHERE "
	    "id = $1::uuid AND strpos(instruction, chr(13)) = 0", 1, id, NULL,
	    NULL);
	expect_comment_run(id, &d);
	delivery_free(&d);
}
END_TEST

START_TEST(test_review_comment_targets_its_pull_request)
{
	char		 repo[REPO_BUF], id[RUN_ID_BUF];
	struct delivery	 d;

	repo_new(repo);
	delivery_load(&d, FX_REVIEW, repo);
	deliver_accepted(&d, id);
	expect_webhook_run(id, repo, "pull_request", 57, "devon-m",
	    "Add tests for 1900-02-29 (rejected) and 2000-02-29 (accepted) "
	    "next to this check: both century rules matter.");
	expect_comment_run(id, &d);
	expect_recorded(&d, "accepted", NULL, id);
	delivery_free(&d);
}
END_TEST

START_TEST(test_same_delivery_twice_is_duplicate_of_its_run)
{
	char		 repo[REPO_BUF], id[RUN_ID_BUF], again[RUN_ID_BUF];
	struct delivery	 d;
	struct answer	 a;

	repo_new(repo);
	delivery_load(&d, FX_ISSUE, repo);
	deliver_accepted(&d, id);
	deliver(&d, &a);
	expect_run(&a, 200, "duplicate", again);
	ck_assert_str_eq(again, id);
	answer_free(&a);
	ck_assert_int_eq(runs_of_comment(&d), 1);
	expect_recorded(&d, "accepted", NULL, id);
	delivery_free(&d);
}
END_TEST

START_TEST(test_redelivered_refusal_is_duplicate_without_run)
{
	struct delivery	 d;
	struct answer	 a;
	json_object	*o;
	char		 repo[REPO_BUF];

	repo_new(repo);
	delivery_load(&d, FX_NO_TRIGGER, repo);
	deliver(&d, &a);
	expect_ignored(&a, "no_trigger");
	answer_free(&a);
	deliver(&d, &a);
	o = outcome(&a, 200, 2);
	ck_assert_pstr_eq(json_str_at(o, "status"), "duplicate");
	ck_assert(json_object_is_type(json_at(o, "run_id"), json_type_null));
	json_object_put(o);
	answer_free(&a);
	expect_recorded(&d, "ignored", "no_trigger", NULL);
	delivery_free(&d);
}
END_TEST

START_TEST(test_same_comment_from_another_hook_is_duplicate_of_its_run)
{
	char		 repo[REPO_BUF], id[RUN_ID_BUF], again[RUN_ID_BUF];
	struct delivery	 d;
	struct answer	 a;

	repo_new(repo);
	delivery_load(&d, FX_ISSUE, repo);
	deliver_accepted(&d, id);
	delivery_renew(&d);
	deliver(&d, &a);
	expect_run(&a, 200, "duplicate", again);
	ck_assert_str_eq(again, id);
	answer_free(&a);
	ck_assert_int_eq(runs_of_comment(&d), 1);
	expect_recorded(&d, "duplicate", NULL, id);
	delivery_free(&d);
}
END_TEST

START_TEST(test_events_other_than_created_comments_are_unsupported)
{
	static const enum fixture	 fxs[] = { FX_EDITED, FX_DELETED,
	    FX_ISSUES_OPENED };
	char				 repo[REPO_BUF];
	struct delivery			 d;
	struct answer			 a;
	size_t				 i;

	repo_new(repo);
	for (i = 0; i < sizeof(fxs) / sizeof(fxs[0]); i++) {
		delivery_load(&d, fxs[i], repo);
		deliver(&d, &a);
		expect_ignored(&a, "unsupported_event");
		answer_free(&a);
		expect_recorded(&d, "ignored", "unsupported_event", NULL);
		delivery_free(&d);
	}
	expect_nothing_made(repo);
}
END_TEST

START_TEST(test_bot_comment_is_not_authorized)
{
	char		 repo[REPO_BUF];
	struct delivery	 d;
	struct answer	 a;

	repo_new(repo);
	delivery_load(&d, FX_BOT, repo);
	deliver(&d, &a);
	expect_ignored(&a, "not_authorized");
	answer_free(&a);
	expect_nothing_made(repo);
	delivery_free(&d);
}
END_TEST

START_TEST(test_comment_without_trigger_is_no_trigger)
{
	char		 repo[REPO_BUF];
	struct delivery	 d;
	struct answer	 a;

	repo_new(repo);
	delivery_load(&d, FX_NO_TRIGGER, repo);
	deliver(&d, &a);
	expect_ignored(&a, "no_trigger");
	answer_free(&a);
	expect_recorded(&d, "ignored", "no_trigger", NULL);
	expect_nothing_made(repo);
	delivery_free(&d);
}
END_TEST

START_TEST(test_trigger_without_instruction_is_empty_instruction)
{
	static const char *const	 bodies[] = {
	    "/gittinkerer", "/gittinkerer   \\r\\n  " };
	char				 repo[REPO_BUF];
	struct delivery			 d;
	struct answer			 a;
	size_t				 i;

	repo_new(repo);
	for (i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		delivery_load(&d, FX_ISSUE, repo);
		delivery_set_body(&d, bodies[i]);
		deliver(&d, &a);
		expect_ignored(&a, "empty_instruction");
		answer_free(&a);
		delivery_free(&d);
	}
	expect_nothing_made(repo);
}
END_TEST

START_TEST(test_instruction_over_4000_code_points_is_too_long)
{
	char		 repo[REPO_BUF], id[RUN_ID_BUF];
	char		 text[32 + 2 * 4001 + 1];
	struct delivery	 d;
	struct answer	 a;
	size_t		 i, o;

	/* 4000 two-byte characters pass; one more does not. */
	repo_new(repo);
	o = (size_t)snprintf(text, sizeof(text), "/gittinkerer ");
	for (i = 0; i < 4000; i++) {
		text[o++] = (char)0xc3;
		text[o++] = (char)0xa9;
	}
	text[o] = '\0';
	delivery_load(&d, FX_ISSUE, repo);
	delivery_set_body(&d, text);
	deliver_accepted(&d, id);
	ck_assert_int_eq(db_number("SELECT char_length(instruction) FROM runs "
	    "WHERE id = $1::uuid", 1, id, NULL, NULL), 4000);
	delivery_free(&d);

	text[o++] = (char)0xc3;
	text[o++] = (char)0xa9;
	text[o] = '\0';
	delivery_load(&d, FX_ISSUE, repo);
	delivery_set_body(&d, text);
	deliver(&d, &a);
	expect_ignored(&a, "instruction_too_long");
	answer_free(&a);
	ck_assert_int_eq(runs_of_comment(&d), 0);
	delivery_free(&d);
}
END_TEST

START_TEST(test_only_owner_member_collaborator_may_trigger)
{
	static const struct {
		const char	*association;
		int		 allowed;
	} cases[] = {
		{ "OWNER", 1 },
		{ "MEMBER", 1 },
		{ "COLLABORATOR", 1 },
		{ "CONTRIBUTOR", 0 },
		{ "FIRST_TIME_CONTRIBUTOR", 0 },
		{ "FIRST_TIMER", 0 },
		{ "MANNEQUIN", 0 },
		{ "NONE", 0 },
	};
	struct delivery	 d;
	struct answer	 a;
	char		 repo[REPO_BUF], to[64], id[RUN_ID_BUF];
	size_t		 i;

	repo_new(repo);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		delivery_load(&d, FX_ISSUE, repo);
		snprintf(to, sizeof(to), "\"author_association\": \"%s\"",
		    cases[i].association);
		delivery_edit(&d, "\"author_association\": \"OWNER\"", to);
		deliver(&d, &a);
		if (cases[i].allowed) {
			expect_run(&a, 202, "accepted", id);
			ck_assert_int_eq(runs_of_comment(&d), 1);
		} else {
			expect_ignored(&a, "not_authorized");
			ck_assert_int_eq(runs_of_comment(&d), 0);
		}
		answer_free(&a);
		delivery_free(&d);
	}
}
END_TEST

START_TEST(test_paused_repo_is_ignored_with_a_reply)
{
	char		 repo[REPO_BUF], shout[128];
	struct delivery	 d;
	struct answer	 a;

	/* Pausing OCTO/WIDGETS pauses octo/widgets. */
	repo_new(repo);
	upper(shout, sizeof(shout), repo);
	db_exec("INSERT INTO paused_repos (repo_key, repo) "
	    "VALUES (lower($1), $1)", shout);
	delivery_load(&d, FX_ISSUE, repo);
	deliver(&d, &a);
	expect_ignored(&a, "repo_paused");
	answer_free(&a);
	expect_recorded(&d, "ignored", "repo_paused", NULL);
	ck_assert_int_eq(runs_of_comment(&d), 0);
	expect_reply(repo, &d, "repo_paused");
	delivery_free(&d);
}
END_TEST

START_TEST(test_paused_target_is_ignored_with_a_reply)
{
	char		 repo[REPO_BUF];
	struct delivery	 d;
	struct answer	 a;

	repo_new(repo);
	db_exec("INSERT INTO paused_run_targets (repo_key, repo, "
	    "target_type, target_number) VALUES (lower($1), $1, 'issue', 42)",
	    repo);
	delivery_load(&d, FX_ISSUE, repo);
	deliver(&d, &a);
	expect_ignored(&a, "target_paused");
	answer_free(&a);
	ck_assert_int_eq(runs_of_comment(&d), 0);
	expect_reply(repo, &d, "target_paused");
	delivery_free(&d);
}
END_TEST

START_TEST(test_over_the_repo_limit_is_ignored_with_a_reply)
{
	char		 repo[REPO_BUF], id[RUN_ID_BUF];
	struct delivery	 d;
	struct answer	 a;

	repo_new(repo);
	db_exec("INSERT INTO rate_limits (repo_key, repo, \"limit\", "
	    "window_seconds) VALUES (lower($1), $1, 1, 3600)", repo);
	delivery_load(&d, FX_ISSUE, repo);
	deliver_accepted(&d, id);
	delivery_free(&d);

	delivery_load(&d, FX_ISSUE, repo);
	deliver(&d, &a);
	expect_ignored(&a, "rate_limited");
	answer_free(&a);
	ck_assert_int_eq(runs_of_comment(&d), 0);
	expect_reply(repo, &d, "rate_limited");
	delivery_free(&d);
}
END_TEST

/*
 * Sends a cancel comment (body text) on the issue of repo's runs and
 * checks it cancelled run id, which is then cancelled with its outcome
 * queued.
 */
static void
expect_cancel_of(const char *repo, const char *text, const char *id)
{
	struct delivery	 d;
	struct answer	 a;
	json_object	*o;
	char		 got[RUN_ID_BUF];

	delivery_load(&d, FX_CANCEL, repo);
	if (text != NULL)
		delivery_set_body(&d, text);
	deliver(&d, &a);
	expect_run(&a, 200, "cancelled", got);
	ck_assert_str_eq(got, id);
	answer_free(&a);
	expect_recorded(&d, "cancelled", NULL, id);
	delivery_free(&d);

	get_run(id, &a);
	ck_assert_int_eq(a.status, 200);
	o = answer_json(&a);
	ck_assert_pstr_eq(json_str_at(o, "status"), "cancelled");
	ck_assert_pstr_eq(json_str_at(o, "error.stage"), "cancelled");
	json_object_put(o);
	answer_free(&a);
	expect_rows(1, "SELECT count(*) FROM github_outbox "
	    "WHERE run_id = $1::uuid AND kind = 'outcome' AND "
	    "status = 'pending' AND payload @> '{\"status\": \"cancelled\", "
	    "\"target\": {\"type\": \"issue\", \"number\": 42}}'", 1, id, NULL,
	    NULL);
}

START_TEST(test_cancel_comment_cancels_the_queued_run_once)
{
	char		 repo[REPO_BUF], id[RUN_ID_BUF];
	struct delivery	 d;
	struct answer	 a;

	repo_new(repo);
	delivery_load(&d, FX_ISSUE, repo);
	deliver_accepted(&d, id);
	delivery_free(&d);
	expect_cancel_of(repo, NULL, id);

	delivery_load(&d, FX_CANCEL, repo);
	deliver(&d, &a);
	expect_ignored(&a, "nothing_to_cancel");
	answer_free(&a);
	expect_recorded(&d, "ignored", "nothing_to_cancel", NULL);
	delivery_free(&d);
}
END_TEST

START_TEST(test_cancel_in_upper_case_cancels_too)
{
	char		 repo[REPO_BUF], id[RUN_ID_BUF];
	struct delivery	 d;

	repo_new(repo);
	delivery_load(&d, FX_ISSUE, repo);
	deliver_accepted(&d, id);
	delivery_free(&d);
	expect_cancel_of(repo, "/gittinkerer CANCEL", id);
}
END_TEST

START_TEST(test_missing_signature_is_401_and_nothing_recorded)
{
	char		 repo[REPO_BUF];
	struct delivery	 d;
	struct answer	 a;

	repo_new(repo);
	delivery_load(&d, FX_ISSUE, repo);
	deliver_as(&d, NULL, OMIT_SIGNATURE, &a);
	assert_error(&a, 401, "invalid_signature");
	answer_free(&a);
	expect_recorded(&d, NULL, NULL, NULL);
	expect_nothing_made(repo);
	delivery_free(&d);
}
END_TEST

START_TEST(test_signature_with_another_secret_is_401)
{
	char		 repo[REPO_BUF];
	struct delivery	 d;
	struct answer	 a;

	/* The secret of the fixtures' README, which the stack does not use. */
	repo_new(repo);
	delivery_load(&d, FX_ISSUE, repo);
	deliver_as(&d, "It's a Secret to Everybody", 0, &a);
	assert_error(&a, 401, "invalid_signature");
	answer_free(&a);
	expect_recorded(&d, NULL, NULL, NULL);
	expect_nothing_made(repo);
	delivery_free(&d);
}
END_TEST

START_TEST(test_signed_body_not_sent_as_json_is_415)
{
	char		 repo[REPO_BUF];
	struct delivery	 d;
	struct answer	 a;

	repo_new(repo);
	delivery_load(&d, FX_ISSUE, repo);
	deliver_as(&d, webhook_secret, AS_TEXT, &a);
	assert_error(&a, 415, "unsupported_media_type");
	answer_free(&a);
	expect_recorded(&d, NULL, NULL, NULL);
	expect_nothing_made(repo);
	delivery_free(&d);
}
END_TEST

START_TEST(test_missing_github_headers_are_named)
{
	static const struct {
		int		 omit;
		const char	*field;
	} cases[] = {
		{ OMIT_EVENT, "X-GitHub-Event" },
		{ OMIT_DELIVERY, "X-GitHub-Delivery" },
	};
	char		 repo[REPO_BUF];
	struct delivery	 d;
	struct answer	 a;
	size_t		 i;

	repo_new(repo);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		delivery_load(&d, FX_ISSUE, repo);
		deliver_as(&d, webhook_secret, cases[i].omit, &a);
		expect_field(&a, cases[i].field);
		answer_free(&a);
		expect_recorded(&d, NULL, NULL, NULL);
		delivery_free(&d);
	}
	expect_nothing_made(repo);
}
END_TEST

START_TEST(test_signed_malformed_json_is_invalid_json)
{
	struct delivery	 d;
	struct answer	 a;

	delivery_raw(&d, "issue_comment", "{\"action\": \"created\", ");
	deliver(&d, &a);
	assert_error(&a, 400, "invalid_json");
	answer_free(&a);
	expect_recorded(&d, NULL, NULL, NULL);
	delivery_free(&d);
}
END_TEST

/* nginx refuses it by its Content-Length (the worker would too). */
START_TEST(test_body_over_25_mib_is_413_before_the_signature)
{
	static const char *const	 hdr[] = {
	    "Content-Type: application/json", "X-GitHub-Event: ping",
	    "X-GitHub-Delivery: wh-too-large", NULL };
	struct answer			 a;
	size_t				 n = WEBHOOK_BODY_MAX + 1;
	char				*body = malloc(n);

	ck_assert_ptr_nonnull(body);
	memset(body, ' ', n);
	body[0] = '{';
	body[n - 1] = '}';
	http_request("POST", "/api/github/webhook", body, n, hdr, &a);
	assert_error(&a, 413, "payload_too_large");
	answer_free(&a);
	free(body);
}
END_TEST

START_TEST(test_comment_without_id_is_validation_failed)
{
	char		 repo[REPO_BUF], from[64];
	struct delivery	 d;
	struct answer	 a;

	repo_new(repo);
	delivery_load(&d, FX_ISSUE, repo);
	snprintf(from, sizeof(from), "\"id\": %s,", d.comment_id);
	delivery_edit(&d, from, "");
	deliver(&d, &a);
	expect_field(&a, "comment.id");
	answer_free(&a);
	expect_recorded(&d, NULL, NULL, NULL);
	expect_nothing_made(repo);
	delivery_free(&d);
}
END_TEST

START_TEST(test_accepted_delivery_answers_within_a_second)
{
	char		 repo[REPO_BUF], id[RUN_ID_BUF];
	struct delivery	 d;
	struct answer	 a;

	repo_new(repo);
	delivery_load(&d, FX_ISSUE, repo);
	deliver(&d, &a);
	expect_run(&a, 202, "accepted", id);
	ck_assert_msg(a.ms < ANSWER_BOUND_MS, "answered in %lld ms",
	    (long long)a.ms);
	answer_free(&a);
	delivery_free(&d);
}
END_TEST

/*
 * Without the database nothing can be judged or recorded: 503, which
 * GitHub shows as a failed delivery, to be redelivered once it is back.
 */
START_TEST(test_without_postgres_delivery_is_503_then_accepted_once)
{
	char		 repo[REPO_BUF], id[RUN_ID_BUF];
	struct delivery	 d;
	struct answer	 a;

	repo_new(repo);
	delivery_load(&d, FX_ISSUE, repo);
	stack_cmd("pg-stop");
	deliver(&d, &a);
	assert_error(&a, 503, "unavailable");
	ck_assert_msg(a.ms < ANSWER_BOUND_MS, "answered in %lld ms",
	    (long long)a.ms);
	answer_free(&a);
	stack_cmd("pg-start");

	/* Every worker reconnects within its quarter-second pause. */
	usleep(600 * 1000);
	deliver_accepted(&d, id);
	ck_assert_int_eq(runs_of_comment(&d), 1);
	expect_recorded(&d, "accepted", NULL, id);
	delivery_free(&d);
}
END_TEST

static Suite *
webhook_suite(void)
{
	Suite	*s = suite_create("webhook");
	TCase	*outcomes = tcase_create("outcomes");
	TCase	*refusals = tcase_create("refusals");
	TCase	*faults = tcase_create("faults");

	tcase_set_timeout(outcomes, 60);
	tcase_add_test(outcomes, test_ping_is_pong_and_recorded);
	tcase_add_test(outcomes,
	    test_owner_comment_on_issue_is_accepted_as_a_run);
	tcase_add_test(outcomes,
	    test_comment_on_pull_request_targets_it_with_lf_line_ends);
	tcase_add_test(outcomes, test_review_comment_targets_its_pull_request);
	tcase_add_test(outcomes,
	    test_same_delivery_twice_is_duplicate_of_its_run);
	tcase_add_test(outcomes,
	    test_redelivered_refusal_is_duplicate_without_run);
	tcase_add_test(outcomes,
	    test_same_comment_from_another_hook_is_duplicate_of_its_run);
	tcase_add_test(outcomes,
	    test_events_other_than_created_comments_are_unsupported);
	tcase_add_test(outcomes, test_bot_comment_is_not_authorized);
	tcase_add_test(outcomes, test_comment_without_trigger_is_no_trigger);
	tcase_add_test(outcomes,
	    test_trigger_without_instruction_is_empty_instruction);
	tcase_add_test(outcomes,
	    test_instruction_over_4000_code_points_is_too_long);
	tcase_add_test(outcomes,
	    test_only_owner_member_collaborator_may_trigger);
	tcase_add_test(outcomes, test_paused_repo_is_ignored_with_a_reply);
	tcase_add_test(outcomes, test_paused_target_is_ignored_with_a_reply);
	tcase_add_test(outcomes,
	    test_over_the_repo_limit_is_ignored_with_a_reply);
	tcase_add_test(outcomes,
	    test_cancel_comment_cancels_the_queued_run_once);
	tcase_add_test(outcomes, test_cancel_in_upper_case_cancels_too);
	tcase_add_test(outcomes,
	    test_accepted_delivery_answers_within_a_second);
	suite_add_tcase(s, outcomes);

	tcase_set_timeout(refusals, 60);
	tcase_add_test(refusals,
	    test_missing_signature_is_401_and_nothing_recorded);
	tcase_add_test(refusals, test_signature_with_another_secret_is_401);
	tcase_add_test(refusals, test_signed_body_not_sent_as_json_is_415);
	tcase_add_test(refusals, test_missing_github_headers_are_named);
	tcase_add_test(refusals, test_signed_malformed_json_is_invalid_json);
	tcase_add_test(refusals,
	    test_body_over_25_mib_is_413_before_the_signature);
	tcase_add_test(refusals, test_comment_without_id_is_validation_failed);
	suite_add_tcase(s, refusals);

	tcase_set_timeout(faults, 120);
	tcase_add_test(faults,
	    test_without_postgres_delivery_is_503_then_accepted_once);
	suite_add_tcase(s, faults);
	return s;
}

int
main(void)
{
	SRunner		*sr;
	unsigned char	 r[4];
	int		 fd, failed;

	client_init();
	db_url = getenv("GT_DATABASE_URL");
	webhook_secret = getenv("GT_WEBHOOK_SECRET");
	if (db_url == NULL || webhook_secret == NULL ||
	    *webhook_secret == '\0') {
		fprintf(stderr, "check_webhook: GT_DATABASE_URL and "
		    "GT_WEBHOOK_SECRET must be set (t/stack-tests.sh sets "
		    "them)\n");
		return 1;
	}
	if ((fd = open("/dev/urandom", O_RDONLY)) == -1 ||
	    read(fd, r, sizeof(r)) != (ssize_t)sizeof(r)) {
		perror("check_webhook: /dev/urandom");
		return 1;
	}
	close(fd);
	run_tag = ((unsigned)r[0] << 16 | (unsigned)r[1] << 8 | r[2]) &
	    0xfffff;

	sr = srunner_create(webhook_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
