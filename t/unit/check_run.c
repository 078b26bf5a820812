/*
 * check_run.c: a run's life cycle, and the rules for the names and texts
 * a run is made of.
 *
 * Everything in run.h is pure, so each check calls it directly with
 * inputs written out here or built to an exact length.
 */
#include <config.h>

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/error.h"
#include "domain/run.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

/* Room for the longest text built below: 4001 four-byte code points. */
static char	 big[4 * (INSTRUCTION_MAX + 1) + 1024];

/* Fills big with count copies of unit after pad, then pad; its length. */
static size_t
build(const char *pad, const char *unit, size_t count)
{
	size_t	 plen = strlen(pad), ulen = strlen(unit), n = 0, i;

	ck_assert_uint_le(2 * plen + count * ulen, sizeof(big) - 1);
	memcpy(big, pad, plen);
	n += plen;
	for (i = 0; i < count; i++) {
		memcpy(big + n, unit, ulen);
		n += ulen;
	}
	memcpy(big + n, pad, plen);
	n += plen;
	big[n] = '\0';
	return n;
}

/* Fills big with c repeated n times. */
static const char *
repeat(char c, size_t n)
{
	ck_assert_uint_lt(n, sizeof(big));
	memset(big, c, n);
	big[n] = '\0';
	return big;
}

/*
 * Repository names.
 */

static const char *const good_repos[] = {
	"octo/widgets",
	"a/b",
	"Octo-Cat/Widgets",
	"o-c-t-o/w",
	"0/0",
	"octo/my_repo.js",
	"octo/-",
	"octo/_",
	"octo/...",
	"octo/.github",
	"octo/a..b",
	"octo/git",
	"octo/a.gi",
	"octo/a.gitx",
	"octo/a.git.x",
	"octo/a-git",
	"octo/.a",
};

static const char *const bad_repos[] = {
	"",
	"octo",
	"octo/",
	"/widgets",
	"/",
	"octo//widgets",
	"octo/wid/gets",
	"octo/widgets/",
	"-octo/widgets",
	"octo-/widgets",
	"-/widgets",
	"oc--to/widgets",
	"oc_to/widgets",
	"oc.to/widgets",
	"oc~to/widgets",
	"octo/wid{gets",
	"octo/.",
	"octo/..",
	"octo/.git",
	"octo/a.git",
	"octo/a.GIT",
	"octo/a.Git",
	"octo/a.gIt",
	"octo/wid gets",
	" octo/widgets",
	"octo/widgets ",
	"octo/widgets\n",
	"octo\\widgets",
	"octo/wid%2fgets",
	"octo/caf\xc3\xa9",
	"\xc3\xa9t\xc3\xa9/widgets",
	"octo/a\xff",
	"octo/\xe2\x80\x8b",
};

START_TEST(valid_repo_name_is_accepted)
{
	ck_assert_msg(repo_name_valid(good_repos[_i]), "\"%s\" refused",
	    good_repos[_i]);
}
END_TEST

START_TEST(invalid_repo_name_is_refused)
{
	ck_assert_msg(!repo_name_valid(bad_repos[_i]), "\"%s\" accepted",
	    bad_repos[_i]);
}
END_TEST

static const struct {
	size_t	 owner;
	size_t	 name;
	int	 valid;
} repo_lengths[] = {
	{ 1, 1, 1 },
	{ REPO_OWNER_MAX, 1, 1 },
	{ REPO_OWNER_MAX + 1, 1, 0 },
	{ 1, REPO_NAME_MAX, 1 },
	{ 1, REPO_NAME_MAX + 1, 0 },
	{ REPO_OWNER_MAX, REPO_NAME_MAX, 1 },
	{ 0, 1, 0 },
	{ 1, 0, 0 },
};

START_TEST(repo_name_parts_are_bounded_in_length)
{
	char	 repo[REPO_MAX + 8];
	size_t	 o = repo_lengths[_i].owner, n = repo_lengths[_i].name;

	memset(repo, 'a', o);
	repo[o] = '/';
	memset(repo + o + 1, 'b', n);
	repo[o + 1 + n] = '\0';
	ck_assert_msg(repo_name_valid(repo) == repo_lengths[_i].valid,
	    "owner of %zu, name of %zu", o, n);
}
END_TEST

START_TEST(null_repo_name_is_refused)
{
	ck_assert_int_eq(repo_name_valid(NULL), 0);
}
END_TEST

START_TEST(repo_key_lowers_ascii_letters_only)
{
	char	 key[REPO_MAX + 1];

	ck_assert_int_eq(repo_key("Octo-Cat/My_Repo.JS", key, sizeof(key)), 0);
	ck_assert_str_eq(key, "octo-cat/my_repo.js");
	ck_assert_int_eq(repo_key("AZ@[`{/\xc3\x89", key, sizeof(key)), 0);
	ck_assert_str_eq(key, "az@[`{/\xc3\x89");
}
END_TEST

START_TEST(repo_key_of_names_differing_in_case_is_equal)
{
	char	 a[REPO_MAX + 1], b[REPO_MAX + 1];

	ck_assert_int_eq(repo_key("Octo/Repo", a, sizeof(a)), 0);
	ck_assert_int_eq(repo_key("octo/REPO", b, sizeof(b)), 0);
	ck_assert_str_eq(a, b);
}
END_TEST

START_TEST(repo_key_needs_room_for_its_nul)
{
	char	 key[9];

	memset(key, 'x', sizeof(key));
	ck_assert_int_eq(repo_key("OCTO/REP", key, 8), -1);
	ck_assert_int_eq(repo_key("OCTO/REP", key, 9), 0);
	ck_assert_str_eq(key, "octo/rep");
	ck_assert_int_eq(repo_key("", key, 0), -1);
	ck_assert_int_eq(repo_key("", key, 1), 0);
	ck_assert_str_eq(key, "");
}
END_TEST

/*
 * Logins and target numbers.
 */

static const char *const good_logins[] = {
	"a", "alice", "Alice-Bob", "a-b-c", "0", "a1b2",
};

static const char *const bad_logins[] = {
	"", "a_b", "a.b", "a b", "a/b", "alice\n", "caf\xc3\xa9", "@alice",
};

START_TEST(valid_login_is_accepted)
{
	ck_assert_msg(login_valid(good_logins[_i]), "\"%s\" refused",
	    good_logins[_i]);
}
END_TEST

START_TEST(invalid_login_is_refused)
{
	ck_assert_msg(!login_valid(bad_logins[_i]), "\"%s\" accepted",
	    bad_logins[_i]);
}
END_TEST

START_TEST(login_is_at_most_39_characters)
{
	ck_assert_int_eq(login_valid(repeat('a', LOGIN_MAX)), 1);
	ck_assert_int_eq(login_valid(repeat('a', LOGIN_MAX + 1)), 0);
	ck_assert_int_eq(login_valid(NULL), 0);
}
END_TEST

static const struct {
	int64_t	 n;
	int	 valid;
} target_numbers[] = {
	{ INT64_MIN, 0 },
	{ -1, 0 },
	{ 0, 0 },
	{ 1, 1 },
	{ 12, 1 },
	{ INT32_MAX, 1 },
	{ (int64_t)INT32_MAX + 1, 0 },
	{ INT64_MAX, 0 },
};

START_TEST(target_number_is_bounded)
{
	ck_assert_msg(target_number_valid(target_numbers[_i].n) ==
	    target_numbers[_i].valid, "%lld", (long long)target_numbers[_i].n);
}
END_TEST

/*
 * The life cycle.
 */

static const int moves[RUN_NSTATUS][RUN_NSTATUS] = {
	/* to:		queued running succeeded failed cancelled */
	[RUN_QUEUED] =	  { 0, 1, 0, 0, 1 },
	[RUN_RUNNING] =	  { 0, 0, 1, 1, 1 },
	[RUN_SUCCEEDED] = { 0, 0, 0, 0, 0 },
	[RUN_FAILED] =	  { 0, 0, 0, 0, 0 },
	[RUN_CANCELLED] = { 0, 0, 0, 0, 0 },
};

START_TEST(status_move_follows_the_life_cycle)
{
	enum run_status	 from = (enum run_status)(_i / RUN_NSTATUS);
	enum run_status	 to = (enum run_status)(_i % RUN_NSTATUS);

	ck_assert_msg(run_can_move(from, to) == moves[from][to],
	    "%s -> %s", run_status_name(from), run_status_name(to));
}
END_TEST

START_TEST(move_from_unknown_status_is_refused)
{
	ck_assert_int_eq(run_can_move((enum run_status)RUN_NSTATUS,
	    RUN_CANCELLED), 0);
}
END_TEST

START_TEST(only_end_statuses_are_finished)
{
	ck_assert_int_eq(run_status_finished(RUN_QUEUED), 0);
	ck_assert_int_eq(run_status_finished(RUN_RUNNING), 0);
	ck_assert_int_eq(run_status_finished(RUN_SUCCEEDED), 1);
	ck_assert_int_eq(run_status_finished(RUN_FAILED), 1);
	ck_assert_int_eq(run_status_finished(RUN_CANCELLED), 1);
}
END_TEST

START_TEST(finished_status_can_never_move)
{
	enum run_status	 from = (enum run_status)_i, to;

	for (to = RUN_QUEUED; to < RUN_NSTATUS; to++)
		if (run_can_move(from, to))
			ck_assert_msg(!run_status_finished(from), "%s -> %s",
			    run_status_name(from), run_status_name(to));
}
END_TEST

/*
 * Contract names.  The four enums are handled through one table, so
 * every name is checked the same way.
 */

enum kind {
	KIND_STATUS,
	KIND_STAGE,
	KIND_TARGET,
	KIND_SOURCE
};

static const char *
kind_name(enum kind k, int v)
{
	switch (k) {
	case KIND_STATUS:
		return run_status_name((enum run_status)v);
	case KIND_STAGE:
		return run_stage_name((enum run_stage)v);
	case KIND_TARGET:
		return target_type_name((enum target_type)v);
	default:
		return run_source_name((enum run_source)v);
	}
}

/* Parses s as a name of kind k into *v; 0 or -1 as the parser returns. */
static int
kind_parse(enum kind k, const char *s, int *v)
{
	enum run_status	 status;
	enum run_stage	 stage;
	enum target_type target;
	enum run_source	 source;
	int		 rc;

	switch (k) {
	case KIND_STATUS:
		if ((rc = run_status_parse(s, &status)) == 0)
			*v = (int)status;
		return rc;
	case KIND_STAGE:
		if ((rc = run_stage_parse(s, &stage)) == 0)
			*v = (int)stage;
		return rc;
	case KIND_TARGET:
		if ((rc = target_type_parse(s, &target)) == 0)
			*v = (int)target;
		return rc;
	default:
		if ((rc = run_source_parse(s, &source)) == 0)
			*v = (int)source;
		return rc;
	}
}

static const struct {
	enum kind	 kind;
	int		 value;
	const char	*name;
} names[] = {
	{ KIND_STATUS, RUN_QUEUED, "queued" },
	{ KIND_STATUS, RUN_RUNNING, "running" },
	{ KIND_STATUS, RUN_SUCCEEDED, "succeeded" },
	{ KIND_STATUS, RUN_FAILED, "failed" },
	{ KIND_STATUS, RUN_CANCELLED, "cancelled" },
	{ KIND_STAGE, STAGE_SPAWN, "spawn" },
	{ KIND_STAGE, STAGE_RUNNER, "runner" },
	{ KIND_STAGE, STAGE_TIMEOUT, "timeout" },
	{ KIND_STAGE, STAGE_INTERRUPTED, "interrupted" },
	{ KIND_STAGE, STAGE_CANCELLED, "cancelled" },
	{ KIND_STAGE, STAGE_INTERNAL, "internal" },
	{ KIND_TARGET, TARGET_ISSUE, "issue" },
	{ KIND_TARGET, TARGET_PULL_REQUEST, "pull_request" },
	{ KIND_SOURCE, SOURCE_API, "api" },
	{ KIND_SOURCE, SOURCE_WEBHOOK, "webhook" },
};

START_TEST(contract_name_round_trips)
{
	const char	*name;
	int		 v = -1;

	name = kind_name(names[_i].kind, names[_i].value);
	ck_assert_ptr_nonnull(name);
	ck_assert_str_eq(name, names[_i].name);
	ck_assert_int_eq(kind_parse(names[_i].kind, name, &v), 0);
	ck_assert_int_eq(v, names[_i].value);
}
END_TEST

/* One past the last value of each kind, in the order of enum kind. */
static const int kind_count[] = {
	RUN_NSTATUS, STAGE_INTERNAL + 1, TARGET_PULL_REQUEST + 1,
	SOURCE_WEBHOOK + 1,
};

START_TEST(value_out_of_range_has_no_name)
{
	enum kind	 k = (enum kind)_i;

	ck_assert_ptr_null(kind_name(k, kind_count[k]));
	ck_assert_ptr_null(kind_name(k, kind_count[k] + 100));
	ck_assert_ptr_null(kind_name(k, -1));
}
END_TEST

START_TEST(no_stage_has_no_name)
{
	int	 v = -1;

	ck_assert_ptr_null(run_stage_name(STAGE_NONE));
	ck_assert_int_eq(kind_parse(KIND_STAGE, "none", &v), -1);
	ck_assert_int_eq(kind_parse(KIND_STAGE, "", &v), -1);
	ck_assert_int_eq(v, -1);
}
END_TEST

static const char *const unknown_names[] = {
	"", "QUEUED", "Queued", "queued ", " queued", "queue", "queuedx",
	"Spawn", "ISSUE", "pull-request", "pullrequest", "API", "github",
	"none", "null",
};

START_TEST(unknown_name_is_refused)
{
	enum kind	 k;
	int		 v = -1;

	for (k = KIND_STATUS; k <= KIND_SOURCE; k++)
		ck_assert_msg(kind_parse(k, unknown_names[_i], &v) == -1,
		    "\"%s\" parsed as kind %d", unknown_names[_i], (int)k);
	ck_assert_int_eq(v, -1);
}
END_TEST

START_TEST(null_name_is_refused)
{
	enum kind	 k;
	int		 v = -1;

	for (k = KIND_STATUS; k <= KIND_SOURCE; k++)
		ck_assert_int_eq(kind_parse(k, NULL, &v), -1);
	ck_assert_int_eq(v, -1);
}
END_TEST

START_TEST(name_of_one_kind_is_not_another)
{
	int	 v = -1;

	ck_assert_int_eq(kind_parse(KIND_STATUS, "spawn", &v), -1);
	ck_assert_int_eq(kind_parse(KIND_STAGE, "queued", &v), -1);
	ck_assert_int_eq(kind_parse(KIND_TARGET, "api", &v), -1);
	ck_assert_int_eq(kind_parse(KIND_SOURCE, "issue", &v), -1);
	ck_assert_int_eq(v, -1);
}
END_TEST

/*
 * Instructions.
 */

struct trim_case {
	const char	*in;
	size_t		 inlen;
	const char	*out;	/* what is left, as bytes */
	size_t		 outlen;
	const char	*why;
};

#define T(in, out, why)	{ in, sizeof(in) - 1, out, sizeof(out) - 1, why }

static const struct trim_case trims[] = {
	T("fix it", "fix it", "nothing to trim"),
	T("  fix it  ", "fix it", "ASCII spaces"),
	T("\t\n\r\v\ffix\t\n\r\v\f", "fix", "tabs, newlines, VT, FF"),
	T("a \t\nb", "a \t\nb", "inner white space is kept"),
	T("\xc2\x85x\xc2\x85", "x", "U+0085 NEL"),
	T("\xc2\xa0x\xc2\xa0", "x", "U+00A0 no-break space"),
	T("\xe1\x9a\x80x\xe1\x9a\x80", "x", "U+1680 ogham space"),
	T("\xe2\x80\x80x\xe2\x80\x8a", "x", "U+2000 and U+200A"),
	T("\xe2\x80\x83x\xe2\x80\x83", "x", "U+2003 em space"),
	T("\xe2\x80\xa8x\xe2\x80\xa9", "x", "U+2028 and U+2029"),
	T("\xe2\x80\xafx\xe2\x81\x9f", "x", "U+202F and U+205F"),
	T("\xe3\x80\x80x\xe3\x80\x80", "x", "U+3000 ideographic space"),
	T(" \xc2\xa0\xe3\x80\x80 x \xe2\x80\x83\t ", "x", "mixed spaces"),
	T("a\xc2\xa0" "b", "a\xc2\xa0" "b", "inner U+00A0 is kept"),
	T("\xef\xbb\xbfx\xef\xbb\xbf", "\xef\xbb\xbfx\xef\xbb\xbf",
	    "U+FEFF is no White_Space"),
	T("\xe2\x80\x8bx\xe2\x80\x8b", "\xe2\x80\x8bx\xe2\x80\x8b",
	    "U+200B is no White_Space"),
	T("\xe1\xa0\x8ex\xe1\xa0\x8e", "\xe1\xa0\x8ex\xe1\xa0\x8e",
	    "U+180E is no White_Space"),
	T("\x1cx\x1f", "\x1cx\x1f", "U+001C-001F are no White_Space"),
	T("\xc2\xa9x\xc2\xa9", "\xc2\xa9x\xc2\xa9", "U+00A9 is kept"),
	T("\xe1\x9a\x81x\xe1\x9a\x81", "\xe1\x9a\x81x\xe1\x9a\x81",
	    "U+1681 is kept"),
	T("\xe2\x81\xa0x\xe2\x81\xa0", "\xe2\x81\xa0x\xe2\x81\xa0",
	    "U+2060 is kept"),
	T("\xe3\x80\x81x\xe3\x80\x81", "\xe3\x80\x81x\xe3\x80\x81",
	    "U+3001 is kept"),
	T(" caf\xc3\xa9 ", "caf\xc3\xa9", "ends in a two-byte letter"),
	T(" \xe2\x82\xac ", "\xe2\x82\xac", "ends in a three-byte sign"),
	T(" \xe3\x81\x80", "\xe3\x81\x80", "U+3040 is kept"),
	T("\xf0\x9f\x98\x80 ", "\xf0\x9f\x98\x80", "ends in an emoji"),
	T("x\xf0\x9f\x80\x80", "x\xf0\x9f\x80\x80", "U+1F000 ends in 80 80"),
};

START_TEST(instruction_is_trimmed_of_white_space)
{
	const struct trim_case	*t = &trims[_i];
	const char		*start = NULL;
	size_t			 len = 0;

	ck_assert_msg(instruction_trim(t->in, t->inlen, &start, &len) ==
	    GT_OK, "%s: refused", t->why);
	ck_assert_msg(start >= t->in && start + len <= t->in + t->inlen,
	    "%s: result outside the input", t->why);
	ck_assert_msg(len == t->outlen && memcmp(start, t->out, len) == 0,
	    "%s: left %zu bytes \"%.*s\"", t->why, len, (int)len, start);
}
END_TEST

static const struct trim_case refused_trims[] = {
	T("", "", "empty"),
	T(" ", "", "one space"),
	T(" \t\r\n\v\f", "", "ASCII white space only"),
	T("\xc2\xa0\xe3\x80\x80\xe2\x80\xa8", "", "Unicode white space only"),
	T("\xe2\x80\x80", "", "U+2000 alone"),
	T("\0", "", "a NUL alone"),
	T("a\0b", "", "a NUL inside"),
	T(" \0 ", "", "a NUL between spaces"),
	T("fix it\0", "", "a NUL at the end"),
	T("\0fix it", "", "a NUL at the start"),
};

START_TEST(empty_or_nul_instruction_is_invalid)
{
	const struct trim_case	*t = &refused_trims[_i];
	const char		*start = NULL;
	size_t			 len = 0;

	ck_assert_msg(instruction_trim(t->in, t->inlen, &start, &len) ==
	    GT_ERR_INVALID, "%s: not refused", t->why);
}
END_TEST

static const struct {
	const char	*unit;
	size_t		 count;
	enum gt_err	 want;
} lengths[] = {
	{ "a", INSTRUCTION_MAX, GT_OK },
	{ "a", INSTRUCTION_MAX + 1, GT_ERR_TOO_LARGE },
	{ "\xc3\xa9", INSTRUCTION_MAX, GT_OK },
	{ "\xc3\xa9", INSTRUCTION_MAX + 1, GT_ERR_TOO_LARGE },
	{ "\xe2\x82\xac", INSTRUCTION_MAX, GT_OK },
	{ "\xe2\x82\xac", INSTRUCTION_MAX + 1, GT_ERR_TOO_LARGE },
	{ "\xf0\x9f\x98\x80", INSTRUCTION_MAX, GT_OK },
	{ "\xf0\x9f\x98\x80", INSTRUCTION_MAX + 1, GT_ERR_TOO_LARGE },
};

START_TEST(instruction_length_counts_code_points)
{
	const char	*start = NULL;
	size_t		 len = 0, n;
	enum gt_err	 got;

	n = build("", lengths[_i].unit, lengths[_i].count);
	got = instruction_trim(big, n, &start, &len);
	ck_assert_msg(got == lengths[_i].want, "%zu of \"%s\": %s",
	    lengths[_i].count, lengths[_i].unit, gt_err_name(got));
	if (got == GT_OK) {
		ck_assert_ptr_eq(start, big);
		ck_assert_uint_eq(len, n);
	}
}
END_TEST

START_TEST(trimming_happens_before_counting)
{
	const char	*start = NULL, *pad = " \t\xe3\x80\x80\xc2\xa0\n";
	size_t		 len = 0, n;

	n = build(pad, "a", INSTRUCTION_MAX);
	ck_assert_int_eq(instruction_trim(big, n, &start, &len), GT_OK);
	ck_assert_ptr_eq(start, big + strlen(pad));
	ck_assert_uint_eq(len, INSTRUCTION_MAX);

	n = build(pad, "a", INSTRUCTION_MAX + 1);
	ck_assert_int_eq(instruction_trim(big, n, &start, &len),
	    GT_ERR_TOO_LARGE);
}
END_TEST

START_TEST(kept_zero_width_no_break_space_counts)
{
	const char	*start = NULL;
	size_t		 len = 0, n;

	n = build("", "a", INSTRUCTION_MAX - 1);
	memcpy(big + n, "\xef\xbb\xbf", 4);
	ck_assert_int_eq(instruction_trim(big, n + 3, &start, &len), GT_OK);
	ck_assert_uint_eq(len, n + 3);

	n = build("", "a", INSTRUCTION_MAX);
	memcpy(big + n, "\xef\xbb\xbf", 4);
	ck_assert_int_eq(instruction_trim(big, n + 3, &start, &len),
	    GT_ERR_TOO_LARGE);
}
END_TEST

START_TEST(only_n_bytes_are_trimmed)
{
	const char	*start = NULL;
	size_t		 len = 0;

	ck_assert_int_eq(instruction_trim(" fix it  more", 8, &start, &len),
	    GT_OK);
	ck_assert_uint_eq(len, 6);
	ck_assert_int_eq(memcmp(start, "fix it", 6), 0);
}
END_TEST

/*
 * Run ids.
 */

START_TEST(lower_case_run_id_is_kept)
{
	const char	*id = "123e4567-e89b-12d3-a456-426614174000";
	char		 out[RUN_ID_LEN + 1];

	ck_assert_int_eq(run_id_parse(id, out), 0);
	ck_assert_str_eq(out, id);
}
END_TEST

START_TEST(upper_case_run_id_is_lowered)
{
	char	 out[RUN_ID_LEN + 1];

	ck_assert_int_eq(run_id_parse("ABCDEF01-2345-6789-ABCD-EF0123456789",
	    out), 0);
	ck_assert_str_eq(out, "abcdef01-2345-6789-abcd-ef0123456789");
	ck_assert_int_eq(run_id_parse("aBcDeF01-2345-6789-AbCd-eF0123456789",
	    out), 0);
	ck_assert_str_eq(out, "abcdef01-2345-6789-abcd-ef0123456789");
}
END_TEST

static const char *const bad_ids[] = {
	"",
	"123e4567-e89b-12d3-a456-42661417400",
	"123e4567-e89b-12d3-a456-4266141740000",
	"123e4567-e89b-12d3-a456-426614174000 ",
	" 123e4567-e89b-12d3-a456-426614174000",
	"123e4567e89b12d3a456426614174000",
	"123e4567e-89b-12d3-a456-426614174000",
	"123e456-7e89b-12d3-a456-426614174000",
	"123e4567-e89b1-2d3-a456-426614174000",
	"123e4567-e89b-12d3a-456-426614174000",
	"123e4567-e89b-12d3-a4564-26614174000",
	"123e4567-e89b-12d3-a456-42661417400-",
	"-23e4567-e89b-12d3-a456-426614174000",
	"123e4567_e89b_12d3_a456_426614174000",
	"123e4567-e89b-12d3-a456-42661417400g",
	"g23e4567-e89b-12d3-a456-426614174000",
	"123e4567-e89b-12d3-a456-42661417400G",
	"123e4567-e89b-12d3-a456-4266141740 0",
	"{23e4567-e89b-12d3-a456-42661417400}",
	"123e4567-e89b-12d3-a456-42661417400\xc3",
	"123e4567-e89b-12d3-a456-4266141740\xc3\xa9",
};

START_TEST(malformed_run_id_is_refused)
{
	char	 out[RUN_ID_LEN + 1];

	ck_assert_msg(run_id_parse(bad_ids[_i], out) == -1, "\"%s\" parsed",
	    bad_ids[_i]);
}
END_TEST

START_TEST(null_run_id_is_refused)
{
	char	 out[RUN_ID_LEN + 1];

	ck_assert_int_eq(run_id_parse(NULL, out), -1);
}
END_TEST

/*
 * Idempotency keys.
 */

static const char *const good_keys[] = {
	"a", "~", " ", "key-1", "2f1c0a4e-9b3d-4c5e-8f70-1a2b3c4d5e6f",
	"!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~",
};

static const char *const bad_keys[] = {
	"", "a\tb", "a\nb", "\r", "\x01", "a\x1f", "a\x7f", "\x7f",
	"caf\xc3\xa9", "\x80", "\xff",
};

START_TEST(valid_idempotency_key_is_accepted)
{
	ck_assert_msg(idempotency_key_valid(good_keys[_i]), "\"%s\" refused",
	    good_keys[_i]);
}
END_TEST

START_TEST(invalid_idempotency_key_is_refused)
{
	ck_assert_msg(!idempotency_key_valid(bad_keys[_i]), "\"%s\" accepted",
	    bad_keys[_i]);
}
END_TEST

START_TEST(idempotency_key_is_at_most_255_characters)
{
	ck_assert_int_eq(idempotency_key_valid(repeat('k',
	    IDEMPOTENCY_KEY_MAX)), 1);
	ck_assert_int_eq(idempotency_key_valid(repeat('k',
	    IDEMPOTENCY_KEY_MAX + 1)), 0);
	ck_assert_int_eq(idempotency_key_valid(NULL), 0);
}
END_TEST

/*
 * Artifacts.
 */

static const char *const good_artifacts[] = {
	"a", "0", "log.txt", "result.json", "A-b_c.d", "a.", "a..b",
	"changes.patch", "x-1.tar.gz",
};

static const char *const bad_artifacts[] = {
	"", ".", "..", ".hidden", "-a", "_a", "a/b", "/a", "../a", "a/..",
	"a%2fb", "a\\b", "a b", "a:b", "a\nb", "caf\xc3\xa9", "\xc3\xa9",
};

START_TEST(valid_artifact_name_is_accepted)
{
	ck_assert_msg(artifact_name_valid(good_artifacts[_i]),
	    "\"%s\" refused", good_artifacts[_i]);
}
END_TEST

START_TEST(invalid_artifact_name_is_refused)
{
	ck_assert_msg(!artifact_name_valid(bad_artifacts[_i]),
	    "\"%s\" accepted", bad_artifacts[_i]);
}
END_TEST

START_TEST(artifact_name_is_at_most_128_characters)
{
	ck_assert_int_eq(artifact_name_valid(repeat('a', ARTIFACT_NAME_MAX)),
	    1);
	ck_assert_int_eq(artifact_name_valid(repeat('a',
	    ARTIFACT_NAME_MAX + 1)), 0);
	ck_assert_int_eq(artifact_name_valid(NULL), 0);
}
END_TEST

#define TEXT	"text/plain; charset=utf-8"
#define JSON	"application/json"
#define BYTES	"application/octet-stream"

static const struct {
	const char	*name;
	const char	*type;
} content_types[] = {
	{ "log.txt", TEXT },
	{ "run.log", TEXT },
	{ "fix.patch", TEXT },
	{ "fix.diff", TEXT },
	{ "result.json", JSON },
	{ "LOG.TXT", TEXT },
	{ "run.Log", TEXT },
	{ "fix.PATCH", TEXT },
	{ "fix.DiFf", TEXT },
	{ "result.JSON", JSON },
	{ "a.b.json", JSON },
	{ "log.txt.gz", BYTES },
	{ "result.jsonl", BYTES },
	{ "notes.text", BYTES },
	{ "txt", BYTES },
	{ "json", BYTES },
	{ "a.", BYTES },
	{ "a.bin", BYTES },
	{ "", BYTES },
};

START_TEST(content_type_follows_extension)
{
	ck_assert_str_eq(artifact_content_type(content_types[_i].name),
	    content_types[_i].type);
}
END_TEST

static Suite *
run_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("run");

	tc = tcase_create("repo");
	tcase_add_loop_test(tc, valid_repo_name_is_accepted, 0,
	    NELEM(good_repos));
	tcase_add_loop_test(tc, invalid_repo_name_is_refused, 0,
	    NELEM(bad_repos));
	tcase_add_loop_test(tc, repo_name_parts_are_bounded_in_length, 0,
	    NELEM(repo_lengths));
	tcase_add_test(tc, null_repo_name_is_refused);
	tcase_add_test(tc, repo_key_lowers_ascii_letters_only);
	tcase_add_test(tc, repo_key_of_names_differing_in_case_is_equal);
	tcase_add_test(tc, repo_key_needs_room_for_its_nul);
	suite_add_tcase(s, tc);

	tc = tcase_create("login_target");
	tcase_add_loop_test(tc, valid_login_is_accepted, 0,
	    NELEM(good_logins));
	tcase_add_loop_test(tc, invalid_login_is_refused, 0,
	    NELEM(bad_logins));
	tcase_add_test(tc, login_is_at_most_39_characters);
	tcase_add_loop_test(tc, target_number_is_bounded, 0,
	    NELEM(target_numbers));
	suite_add_tcase(s, tc);

	tc = tcase_create("life_cycle");
	tcase_add_loop_test(tc, status_move_follows_the_life_cycle, 0,
	    RUN_NSTATUS * RUN_NSTATUS);
	tcase_add_test(tc, move_from_unknown_status_is_refused);
	tcase_add_test(tc, only_end_statuses_are_finished);
	tcase_add_loop_test(tc, finished_status_can_never_move, 0,
	    RUN_NSTATUS);
	suite_add_tcase(s, tc);

	tc = tcase_create("names");
	tcase_add_loop_test(tc, contract_name_round_trips, 0, NELEM(names));
	tcase_add_loop_test(tc, value_out_of_range_has_no_name, 0,
	    NELEM(kind_count));
	tcase_add_test(tc, no_stage_has_no_name);
	tcase_add_loop_test(tc, unknown_name_is_refused, 0,
	    NELEM(unknown_names));
	tcase_add_test(tc, null_name_is_refused);
	tcase_add_test(tc, name_of_one_kind_is_not_another);
	suite_add_tcase(s, tc);

	tc = tcase_create("instruction");
	tcase_add_loop_test(tc, instruction_is_trimmed_of_white_space, 0,
	    NELEM(trims));
	tcase_add_loop_test(tc, empty_or_nul_instruction_is_invalid, 0,
	    NELEM(refused_trims));
	tcase_add_loop_test(tc, instruction_length_counts_code_points, 0,
	    NELEM(lengths));
	tcase_add_test(tc, trimming_happens_before_counting);
	tcase_add_test(tc, kept_zero_width_no_break_space_counts);
	tcase_add_test(tc, only_n_bytes_are_trimmed);
	suite_add_tcase(s, tc);

	tc = tcase_create("run_id");
	tcase_add_test(tc, lower_case_run_id_is_kept);
	tcase_add_test(tc, upper_case_run_id_is_lowered);
	tcase_add_loop_test(tc, malformed_run_id_is_refused, 0,
	    NELEM(bad_ids));
	tcase_add_test(tc, null_run_id_is_refused);
	suite_add_tcase(s, tc);

	tc = tcase_create("idempotency_key");
	tcase_add_loop_test(tc, valid_idempotency_key_is_accepted, 0,
	    NELEM(good_keys));
	tcase_add_loop_test(tc, invalid_idempotency_key_is_refused, 0,
	    NELEM(bad_keys));
	tcase_add_test(tc, idempotency_key_is_at_most_255_characters);
	suite_add_tcase(s, tc);

	tc = tcase_create("artifact");
	tcase_add_loop_test(tc, valid_artifact_name_is_accepted, 0,
	    NELEM(good_artifacts));
	tcase_add_loop_test(tc, invalid_artifact_name_is_refused, 0,
	    NELEM(bad_artifacts));
	tcase_add_test(tc, artifact_name_is_at_most_128_characters);
	tcase_add_loop_test(tc, content_type_follows_extension, 0,
	    NELEM(content_types));
	suite_add_tcase(s, tc);

	return s;
}

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	sr = srunner_create(run_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
