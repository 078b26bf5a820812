/*
 * check_admin.c: the admin use cases with a fake store.
 *
 * The fake store remembers the arguments of its last call and how many
 * calls each function had, and answers what the test set, or a failure.
 * Input that breaks a rule must never reach it.
 */
#include <config.h>

#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "domain/arena.h"
#include "usecase/admin.h"

/* ------------------------------------------------------------------ */
/* The fake store. */

enum fake_fn {
	FN_PAUSE,
	FN_RESUME,
	FN_PAUSED,
	FN_SET_LIMIT,
	FN_REMOVE_LIMIT,
	FN_N
};

struct fake_store {
	enum gt_err		 fail;		/* GT_OK: no failure */
	int			 calls[FN_N];

	/* The last call's arguments. */
	struct pause_key	 key;
	const char		*reason;
	int			 reason_given;
	const char		*repo;
	int64_t			 limit;
	int64_t			 window_s;

	/* What paused() answers. */
	struct pause		 repos[2];
	size_t			 nrepos;
	struct pause		 targets[2];
	size_t			 ntargets;
};

static struct fake_store	 fake;
static struct admin_store	 store;
static struct admin_ports	 ports;
static struct arena		*arena;

static int
total_calls(void)
{
	int	 i, n = 0;

	for (i = 0; i < FN_N; i++)
		n += fake.calls[i];
	return n;
}

static enum gt_err
fake_pause(void *ctx, struct arena *a, const struct pause_key *key,
    const char *reason, struct pause *out)
{
	ck_assert_ptr_eq(ctx, &fake);
	ck_assert_ptr_eq(a, arena);
	fake.calls[FN_PAUSE]++;
	fake.key = *key;
	fake.reason = reason;
	fake.reason_given = 1;
	if (fake.fail != GT_OK)
		return fake.fail;
	memset(out, 0, sizeof(*out));
	out->key = *key;
	out->reason = reason;
	out->paused_at_ms = 1764786191123LL;
	return GT_OK;
}

static enum gt_err
fake_resume(void *ctx, const struct pause_key *key)
{
	ck_assert_ptr_eq(ctx, &fake);
	fake.calls[FN_RESUME]++;
	fake.key = *key;
	return fake.fail;
}

static enum gt_err
fake_paused(void *ctx, struct arena *a, struct pause **repos,
    size_t *nrepos, struct pause **targets, size_t *ntargets)
{
	ck_assert_ptr_eq(ctx, &fake);
	ck_assert_ptr_eq(a, arena);
	fake.calls[FN_PAUSED]++;
	if (fake.fail != GT_OK)
		return fake.fail;
	*repos = fake.repos;
	*nrepos = fake.nrepos;
	*targets = fake.targets;
	*ntargets = fake.ntargets;
	return GT_OK;
}

static enum gt_err
fake_set_limit(void *ctx, struct arena *a, const char *repo, int64_t limit,
    int64_t window_s, struct limit_override *out)
{
	ck_assert_ptr_eq(ctx, &fake);
	ck_assert_ptr_eq(a, arena);
	fake.calls[FN_SET_LIMIT]++;
	fake.repo = repo;
	fake.limit = limit;
	fake.window_s = window_s;
	if (fake.fail != GT_OK)
		return fake.fail;
	out->repo = repo;
	out->limit = limit;
	out->window_s = window_s;
	out->updated_at_ms = 1764786191123LL;
	return GT_OK;
}

static enum gt_err
fake_remove_limit(void *ctx, const char *repo)
{
	ck_assert_ptr_eq(ctx, &fake);
	fake.calls[FN_REMOVE_LIMIT]++;
	fake.repo = repo;
	return fake.fail;
}

static void
setup(void)
{
	memset(&fake, 0, sizeof(fake));
	memset(&store, 0, sizeof(store));
	store.ctx = &fake;
	store.pause = fake_pause;
	store.resume = fake_resume;
	store.paused = fake_paused;
	store.set_limit = fake_set_limit;
	store.remove_limit = fake_remove_limit;
	ports.store = &store;
	ck_assert_ptr_nonnull(arena = arena_new());
}

static void
teardown(void)
{
	arena_free(arena);
}

static struct pause_key
repo_key_of(const char *repo)
{
	struct pause_key	 k;

	memset(&k, 0, sizeof(k));
	k.repo = repo;
	return k;
}

static struct pause_key
target_key_of(const char *repo, enum target_type type, int32_t number)
{
	struct pause_key	 k = repo_key_of(repo);

	k.has_target = 1;
	k.target_type = type;
	k.target_number = number;
	return k;
}

/* A string of n copies of the UTF-8 character c (in the arena). */
static char *
repeat(const char *c, size_t n)
{
	size_t	 len = strlen(c), i;
	char	*s;

	ck_assert_ptr_nonnull(s = arena_alloc(arena, len * n + 1));
	for (i = 0; i < n; i++)
		memcpy(s + i * len, c, len);
	s[len * n] = '\0';
	return s;
}

/* Repository names the contract refuses. */
static const char *const bad_repos[] = {
	"", "octo", "/widgets", "octo/", "-octo/widgets", "octo-/widgets",
	"oc--to/widgets", "octo/.", "octo/..", "octo/widgets.git",
	"octo/widgets.GIT", "octo/wid gets", "octo/widgets/x", "o_o/widgets",
	"a234567890123456789012345678901234567890/widgets",
};
#define NBAD_REPOS	(sizeof(bad_repos) / sizeof(bad_repos[0]))

/* ------------------------------------------------------------------ */
/* Pauses. */

START_TEST(pause_of_a_repository_passes_its_name_and_reason)
{
	struct pause_key	 k = repo_key_of("Octo/Widgets");
	struct pause		 p;

	ck_assert_int_eq(admin_pause(&ports, arena, &k, "flaky runner", &p),
	    GT_OK);
	ck_assert_int_eq(fake.calls[FN_PAUSE], 1);
	ck_assert_str_eq(fake.key.repo, "Octo/Widgets");
	ck_assert_int_eq(fake.key.has_target, 0);
	ck_assert_pstr_eq(fake.reason, "flaky runner");
	ck_assert_str_eq(p.key.repo, "Octo/Widgets");
	ck_assert_pstr_eq(p.reason, "flaky runner");
	ck_assert_int_eq(p.paused_at_ms, 1764786191123LL);
}
END_TEST

START_TEST(pause_without_a_reason_passes_none)
{
	struct pause_key	 k = repo_key_of("octo/widgets");
	struct pause		 p;

	ck_assert_int_eq(admin_pause(&ports, arena, &k, NULL, &p), GT_OK);
	ck_assert_int_eq(fake.reason_given, 1);
	ck_assert_ptr_null(fake.reason);
}
END_TEST

START_TEST(pause_with_an_empty_reason_passes_none)
{
	struct pause_key	 k = repo_key_of("octo/widgets");
	struct pause		 p;

	ck_assert_int_eq(admin_pause(&ports, arena, &k, "", &p), GT_OK);
	ck_assert_int_eq(fake.calls[FN_PAUSE], 1);
	ck_assert_ptr_null(fake.reason);
}
END_TEST

START_TEST(pause_of_a_target_passes_the_target)
{
	struct pause_key	 k = target_key_of("octo/widgets",
	    TARGET_PULL_REQUEST, 2147483647);
	struct pause		 p;

	ck_assert_int_eq(admin_pause(&ports, arena, &k, "wait", &p), GT_OK);
	ck_assert_int_eq(fake.key.has_target, 1);
	ck_assert_int_eq(fake.key.target_type, TARGET_PULL_REQUEST);
	ck_assert_int_eq(fake.key.target_number, 2147483647);
	ck_assert_int_eq(p.key.has_target, 1);
}
END_TEST

START_TEST(pause_of_a_malformed_repository_never_reaches_the_store)
{
	struct pause_key	 k = repo_key_of(bad_repos[_i]);
	struct pause		 p;

	ck_assert_int_eq(admin_pause(&ports, arena, &k, NULL, &p),
	    GT_ERR_INVALID);
	ck_assert_int_eq(admin_resume(&ports, &k), GT_ERR_INVALID);
	k = target_key_of(bad_repos[_i], TARGET_ISSUE, 1);
	ck_assert_int_eq(admin_pause(&ports, arena, &k, NULL, &p),
	    GT_ERR_INVALID);
	ck_assert_int_eq(admin_resume(&ports, &k), GT_ERR_INVALID);
	ck_assert_int_eq(total_calls(), 0);
}
END_TEST

START_TEST(pause_of_a_null_repository_is_invalid)
{
	struct pause_key	 k = repo_key_of(NULL);
	struct pause		 p;

	ck_assert_int_eq(admin_pause(&ports, arena, &k, NULL, &p),
	    GT_ERR_INVALID);
	ck_assert_int_eq(admin_pause(&ports, arena, NULL, NULL, &p),
	    GT_ERR_INVALID);
	ck_assert_int_eq(total_calls(), 0);
}
END_TEST

START_TEST(pause_of_a_target_out_of_range_is_invalid)
{
	static const int32_t	 numbers[] = { 0, -1, INT32_MIN };
	struct pause_key	 k;
	struct pause		 p;
	size_t			 i;

	for (i = 0; i < sizeof(numbers) / sizeof(numbers[0]); i++) {
		k = target_key_of("octo/widgets", TARGET_ISSUE, numbers[i]);
		ck_assert_int_eq(admin_pause(&ports, arena, &k, NULL, &p),
		    GT_ERR_INVALID);
		ck_assert_int_eq(admin_resume(&ports, &k), GT_ERR_INVALID);
	}
	k = target_key_of("octo/widgets", (enum target_type)7, 1);
	ck_assert_int_eq(admin_pause(&ports, arena, &k, NULL, &p),
	    GT_ERR_INVALID);
	ck_assert_int_eq(total_calls(), 0);
}
END_TEST

START_TEST(reason_of_500_characters_passes_and_501_does_not)
{
	struct pause_key	 k = repo_key_of("octo/widgets");
	struct pause		 p;
	char			*r;

	/* Code points, not bytes: 500 three-byte characters pass. */
	r = repeat("\xe2\x98\x83", ADMIN_REASON_MAX);
	ck_assert(admin_reason_valid(r, strlen(r)));
	ck_assert_int_eq(admin_pause(&ports, arena, &k, r, &p), GT_OK);
	ck_assert_pstr_eq(fake.reason, r);

	r = repeat("x", ADMIN_REASON_MAX + 1);
	ck_assert(!admin_reason_valid(r, strlen(r)));
	ck_assert_int_eq(admin_pause(&ports, arena, &k, r, &p),
	    GT_ERR_INVALID);
	ck_assert_int_eq(fake.calls[FN_PAUSE], 1);
}
END_TEST

START_TEST(reason_that_is_not_utf8_or_holds_a_nul_is_refused)
{
	ck_assert(!admin_reason_valid("\xff\xfe", 2));
	ck_assert(!admin_reason_valid("\xc3", 1));
	ck_assert(!admin_reason_valid("a\0b", 3));
	ck_assert(!admin_reason_valid(NULL, 0));
	ck_assert(admin_reason_valid("", 0));
	ck_assert(admin_reason_valid("caf\xc3\xa9", 5));
}
END_TEST

/* ------------------------------------------------------------------ */
/* Resumes and the list. */

START_TEST(resume_passes_what_to_resume)
{
	struct pause_key	 k = target_key_of("Octo/Widgets", TARGET_ISSUE,
	    12);

	ck_assert_int_eq(admin_resume(&ports, &k), GT_OK);
	ck_assert_int_eq(fake.calls[FN_RESUME], 1);
	ck_assert_str_eq(fake.key.repo, "Octo/Widgets");
	ck_assert_int_eq(fake.key.has_target, 1);
	ck_assert_int_eq(fake.key.target_type, TARGET_ISSUE);
	ck_assert_int_eq(fake.key.target_number, 12);

	k = repo_key_of("octo/widgets");
	ck_assert_int_eq(admin_resume(&ports, &k), GT_OK);
	ck_assert_int_eq(fake.key.has_target, 0);
}
END_TEST

START_TEST(paused_answers_the_stores_lists)
{
	struct admin_pauses	 all;

	fake.repos[0].key = repo_key_of("octo/a");
	fake.repos[1].key = repo_key_of("octo/b");
	fake.nrepos = 2;
	fake.targets[0].key = target_key_of("octo/c", TARGET_ISSUE, 3);
	fake.ntargets = 1;
	ck_assert_int_eq(admin_paused(&ports, arena, &all), GT_OK);
	ck_assert_uint_eq(all.nrepos, 2);
	ck_assert_str_eq(all.repos[1].key.repo, "octo/b");
	ck_assert_uint_eq(all.ntargets, 1);
	ck_assert_int_eq(all.targets[0].key.target_number, 3);
}
END_TEST

START_TEST(paused_with_nothing_paused_is_two_empty_lists)
{
	struct admin_pauses	 all;

	ck_assert_int_eq(admin_paused(&ports, arena, &all), GT_OK);
	ck_assert_uint_eq(all.nrepos, 0);
	ck_assert_uint_eq(all.ntargets, 0);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Overrides. */

START_TEST(set_limit_accepts_the_bounds_of_each_range)
{
	static const int64_t	 ok[][2] = {
		{ 1, 1 }, { ADMIN_LIMIT_MAX, ADMIN_WINDOW_MAX }, { 5, 3600 },
	};
	struct limit_override	 o;
	size_t			 i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		ck_assert_int_eq(admin_set_limit(&ports, arena, "Octo/Widgets",
		    ok[i][0], ok[i][1], &o), GT_OK);
		ck_assert_str_eq(fake.repo, "Octo/Widgets");
		ck_assert_int_eq(fake.limit, ok[i][0]);
		ck_assert_int_eq(fake.window_s, ok[i][1]);
		ck_assert_int_eq(o.limit, ok[i][0]);
		ck_assert_int_eq(o.window_s, ok[i][1]);
	}
	ck_assert_int_eq(fake.calls[FN_SET_LIMIT], 3);
}
END_TEST

START_TEST(set_limit_out_of_range_never_reaches_the_store)
{
	static const int64_t	 bad[][2] = {
		{ 0, 3600 }, { -1, 3600 }, { ADMIN_LIMIT_MAX + 1, 3600 },
		{ 5, 0 }, { 5, ADMIN_WINDOW_MAX + 1 }, { 5, -3600 },
		{ INT64_MAX, INT64_MAX },
	};
	struct limit_override	 o;
	size_t			 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_int_eq(admin_set_limit(&ports, arena, "octo/widgets",
		    bad[i][0], bad[i][1], &o), GT_ERR_INVALID);
	ck_assert_int_eq(admin_set_limit(&ports, arena, "octo", 5, 60, &o),
	    GT_ERR_INVALID);
	ck_assert_int_eq(total_calls(), 0);
}
END_TEST

START_TEST(remove_limit_passes_the_repository)
{
	ck_assert_int_eq(admin_remove_limit(&ports, "Octo/Widgets"), GT_OK);
	ck_assert_int_eq(fake.calls[FN_REMOVE_LIMIT], 1);
	ck_assert_str_eq(fake.repo, "Octo/Widgets");
}
END_TEST

START_TEST(remove_limit_of_a_malformed_repository_is_invalid)
{
	ck_assert_int_eq(admin_remove_limit(&ports, bad_repos[_i]),
	    GT_ERR_INVALID);
	ck_assert_int_eq(admin_remove_limit(&ports, NULL), GT_ERR_INVALID);
	ck_assert_int_eq(total_calls(), 0);
}
END_TEST

/* ------------------------------------------------------------------ */
/* The store's failures. */

static const enum gt_err failures[] = {
	GT_ERR_UNAVAILABLE, GT_ERR_NOMEM, GT_ERR_INTERNAL,
};
#define NFAILURES	(sizeof(failures) / sizeof(failures[0]))

START_TEST(store_failure_is_passed_on_by_every_use_case)
{
	struct pause_key	 k = repo_key_of("octo/widgets");
	struct pause		 p;
	struct admin_pauses	 all;
	struct limit_override	 o;
	enum gt_err		 e = failures[_i];

	fake.fail = e;
	ck_assert_int_eq(admin_pause(&ports, arena, &k, "r", &p), e);
	ck_assert_int_eq(admin_resume(&ports, &k), e);
	ck_assert_int_eq(admin_paused(&ports, arena, &all), e);
	ck_assert_int_eq(admin_set_limit(&ports, arena, "octo/widgets", 5, 60,
	    &o), e);
	ck_assert_int_eq(admin_remove_limit(&ports, "octo/widgets"), e);
	ck_assert_int_eq(total_calls(), FN_N);
}
END_TEST

static Suite *
admin_suite(void)
{
	Suite	*s = suite_create("admin");
	TCase	*tc;

	tc = tcase_create("pauses");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, pause_of_a_repository_passes_its_name_and_reason);
	tcase_add_test(tc, pause_without_a_reason_passes_none);
	tcase_add_test(tc, pause_with_an_empty_reason_passes_none);
	tcase_add_test(tc, pause_of_a_target_passes_the_target);
	tcase_add_loop_test(tc,
	    pause_of_a_malformed_repository_never_reaches_the_store, 0,
	    NBAD_REPOS);
	tcase_add_test(tc, pause_of_a_null_repository_is_invalid);
	tcase_add_test(tc, pause_of_a_target_out_of_range_is_invalid);
	tcase_add_test(tc, reason_of_500_characters_passes_and_501_does_not);
	tcase_add_test(tc, reason_that_is_not_utf8_or_holds_a_nul_is_refused);
	suite_add_tcase(s, tc);

	tc = tcase_create("resumes");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, resume_passes_what_to_resume);
	tcase_add_test(tc, paused_answers_the_stores_lists);
	tcase_add_test(tc, paused_with_nothing_paused_is_two_empty_lists);
	suite_add_tcase(s, tc);

	tc = tcase_create("overrides");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, set_limit_accepts_the_bounds_of_each_range);
	tcase_add_test(tc, set_limit_out_of_range_never_reaches_the_store);
	tcase_add_test(tc, remove_limit_passes_the_repository);
	tcase_add_loop_test(tc,
	    remove_limit_of_a_malformed_repository_is_invalid, 0, NBAD_REPOS);
	suite_add_tcase(s, tc);

	tc = tcase_create("failures");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, store_failure_is_passed_on_by_every_use_case,
	    0, NFAILURES);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	sr = srunner_create(admin_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
