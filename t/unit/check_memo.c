/*
 * check_memo.c: the fixed-size memory of answers that never change.
 */
#include <config.h>

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "domain/memo.h"

static struct memo	*m;

static void
teardown(void)
{
	memo_free(m);
	m = NULL;
}

/* Asserts that key holds exactly the len bytes of want. */
static void
holds(const char *key, const char *want, size_t len)
{
	const char	*data;
	size_t		 got;

	ck_assert_int_eq(memo_get(m, key, &data, &got), 0);
	ck_assert_uint_eq(got, len);
	ck_assert_int_eq(memcmp(data, want, len), 0);
	ck_assert_int_eq(data[len], '\0');
}

static void
absent(const char *key)
{
	const char	*data;
	size_t		 len;

	ck_assert_int_eq(memo_get(m, key, &data, &len), -1);
}

START_TEST(test_keeps_what_was_put)
{
	ck_assert_ptr_nonnull(m = memo_new(64, 100));
	absent("a");
	memo_put(m, "a", "{\"x\":1}", 7);
	memo_put(m, "b", "bytes\0with a NUL", 16);
	holds("a", "{\"x\":1}", 7);
	holds("b", "bytes\0with a NUL", 16);
	absent("c");
	absent("");
}
END_TEST

START_TEST(test_a_new_key_takes_the_slot)
{
	ck_assert_ptr_nonnull(m = memo_new(1, 100));
	memo_put(m, "first", "one", 3);
	holds("first", "one", 3);
	memo_put(m, "second", "a longer value", 14);
	absent("first");
	holds("second", "a longer value", 14);

	/* A shorter value reuses the slot's storage, and reads back whole. */
	memo_put(m, "second", "ab", 2);
	holds("second", "ab", 2);
}
END_TEST

START_TEST(test_refuses_what_is_too_long)
{
	char	 key[MEMO_KEY_MAX + 2];

	ck_assert_ptr_nonnull(m = memo_new(1, 8));
	memo_put(m, "k", "12345678", 8);
	holds("k", "12345678", 8);

	/* Too long a value: not kept, and the slot's value is untouched. */
	memo_put(m, "other", "123456789", 9);
	absent("other");
	holds("k", "12345678", 8);

	memset(key, 'x', sizeof(key) - 1);
	key[sizeof(key) - 1] = '\0';
	memo_put(m, key, "v", 1);
	absent(key);
	key[MEMO_KEY_MAX] = '\0';	/* exactly the longest key */
	memo_put(m, key, "v", 1);
	holds(key, "v", 1);

	memo_put(m, "", "v", 1);
	absent("");
}
END_TEST

START_TEST(test_new_and_free_edges)
{
	ck_assert_ptr_null(memo_new(0, 10));
	memo_free(NULL);
	ck_assert_ptr_nonnull(m = memo_new(3, 0));
	memo_put(m, "empty", "", 0);
	holds("empty", "", 0);
	memo_put(m, "one", "x", 1);
	absent("one");
}
END_TEST

static Suite *
memo_suite(void)
{
	Suite	*s = suite_create("memo");
	TCase	*tc = tcase_create("memo");

	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, test_keeps_what_was_put);
	tcase_add_test(tc, test_a_new_key_takes_the_slot);
	tcase_add_test(tc, test_refuses_what_is_too_long);
	tcase_add_test(tc, test_new_and_free_edges);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr = srunner_create(memo_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
