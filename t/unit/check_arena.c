/*
 * check_arena.c: the request arena and the growable buffer.
 *
 * The arena's block size is private to arena.c; the tests learn what they
 * need from arena_footprint() and from where pointers land, so they hold
 * whatever the size is.
 */
#include <config.h>

#include <check.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "domain/arena.h"
#include "domain/buf.h"

#define ALIGN	(_Alignof(max_align_t))

static struct arena	*a;

/* A wide character no multibyte encoding has: printf fails on it. */
static const wchar_t	 unencodable[] = { 0x110000, 0 };

static void
arena_setup(void)
{
	a = arena_new();
	ck_assert_ptr_nonnull(a);
}

static void
arena_teardown(void)
{
	arena_free(a);
	a = NULL;
}

START_TEST(new_arena_holds_one_block)
{
	size_t	 start = arena_footprint(a);

	ck_assert_uint_gt(start, 0);
	ck_assert_ptr_nonnull(arena_alloc(a, 16));
	ck_assert_ptr_nonnull(arena_alloc(a, 100));
	ck_assert_uint_eq(arena_footprint(a), start);
}
END_TEST

START_TEST(allocations_do_not_overlap)
{
	unsigned char	*p[200];
	size_t		 i, j;

	for (i = 0; i < 200; i++) {
		p[i] = arena_alloc(a, 1 + i % 70);
		ck_assert_ptr_nonnull(p[i]);
		memset(p[i], (int)i, 1 + i % 70);
	}
	for (i = 0; i < 200; i++)
		for (j = 0; j < 1 + i % 70; j++)
			ck_assert_uint_eq(p[i][j], i);
}
END_TEST

START_TEST(allocations_are_aligned_for_any_type)
{
	void	*p;
	size_t	 n;

	for (n = 0; n < 3 * ALIGN + 2; n++) {
		p = arena_alloc(a, n);
		ck_assert_ptr_nonnull(p);
		ck_assert_msg((uintptr_t)p % ALIGN == 0,
		    "%zu bytes at %p are not aligned", n, p);
	}
	p = arena_alloc(a, 100000);
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_eq((uintptr_t)p % ALIGN, 0);
}
END_TEST

START_TEST(zero_bytes_still_get_a_pointer_of_their_own)
{
	char	*p, *q;

	p = arena_alloc(a, 0);
	q = arena_alloc(a, 0);
	ck_assert_ptr_nonnull(p);
	ck_assert_ptr_nonnull(q);
	ck_assert_ptr_ne(p, q);
}
END_TEST

START_TEST(full_block_is_followed_by_a_new_one)
{
	unsigned char	*p[64];
	size_t		 start = arena_footprint(a), i, j;

	/* 1000-byte pieces are small; 64 of them overflow any one block. */
	for (i = 0; i < 64; i++) {
		p[i] = arena_alloc(a, 1000);
		ck_assert_ptr_nonnull(p[i]);
		memset(p[i], (int)i, 1000);
	}
	ck_assert_uint_gt(arena_footprint(a), start);
	for (i = 0; i < 64; i++)
		for (j = 0; j < 1000; j += 111)
			ck_assert_uint_eq(p[i][j], i);
}
END_TEST

START_TEST(large_request_gets_a_block_of_its_own)
{
	char	*small, *big, *next;
	size_t	 start = arena_footprint(a);

	small = arena_alloc(a, ALIGN);
	big = arena_alloc(a, 100000);
	ck_assert_ptr_nonnull(big);
	memset(big, 'x', 100000);
	ck_assert_uint_ge(arena_footprint(a), start + 100000);

	/* The block that served small still serves what comes next. */
	next = arena_alloc(a, ALIGN);
	ck_assert_ptr_eq(next, small + ALIGN);
	ck_assert_int_eq(big[99999], 'x');
}
END_TEST

START_TEST(reset_keeps_only_the_first_block)
{
	void	*first, *again;
	size_t	 start = arena_footprint(a), i;

	first = arena_alloc(a, 64);
	for (i = 0; i < 100; i++)
		ck_assert_ptr_nonnull(arena_alloc(a, 1000));
	ck_assert_ptr_nonnull(arena_alloc(a, 200000));
	ck_assert_uint_gt(arena_footprint(a), start);

	arena_reset(a);
	ck_assert_uint_eq(arena_footprint(a), start);
	again = arena_alloc(a, 64);
	ck_assert_ptr_eq(again, first);

	/* The arena fills and grows again as before. */
	for (i = 0; i < 100; i++)
		ck_assert_ptr_nonnull(arena_alloc(a, 1000));
	ck_assert_uint_gt(arena_footprint(a), start);
	arena_reset(a);
	ck_assert_uint_eq(arena_footprint(a), start);
}
END_TEST

START_TEST(null_arena_can_be_reset_and_freed)
{
	arena_reset(NULL);
	arena_free(NULL);
}
END_TEST

START_TEST(absurd_sizes_are_refused)
{
	size_t	 start = arena_footprint(a);

	ck_assert_ptr_null(arena_alloc(a, SIZE_MAX));
	ck_assert_ptr_null(arena_alloc(a, SIZE_MAX - ALIGN));
	ck_assert_ptr_null(arena_alloc(a, SIZE_MAX - 2 * ALIGN));
	ck_assert_ptr_null(arena_alloc(a, SIZE_MAX / 2));
	ck_assert_uint_eq(arena_footprint(a), start);

	/* A refusal leaves the arena working. */
	ck_assert_ptr_nonnull(arena_alloc(a, 32));
}
END_TEST

START_TEST(calloc_zero_fills)
{
	unsigned char	*p, *z;
	size_t		 i;

	p = arena_alloc(a, 64);
	memset(p, 0xff, 64);
	arena_reset(a);

	/* The same memory comes back, and must come back cleared. */
	z = arena_calloc(a, 8, 8);
	ck_assert_ptr_eq(z, p);
	for (i = 0; i < 64; i++)
		ck_assert_uint_eq(z[i], 0);
}
END_TEST

START_TEST(calloc_overflow_is_refused)
{
	ck_assert_ptr_null(arena_calloc(a, SIZE_MAX / 2 + 1, 2));
	ck_assert_ptr_null(arena_calloc(a, 2, SIZE_MAX / 2 + 1));
	ck_assert_ptr_null(arena_calloc(a, SIZE_MAX, SIZE_MAX));
	ck_assert_ptr_nonnull(arena_calloc(a, 0, 16));
	ck_assert_ptr_nonnull(arena_calloc(a, 16, 0));
}
END_TEST

START_TEST(strndup_copies_n_bytes_and_terminates)
{
	char	*s;

	s = arena_strndup(a, "hello world", 5);
	ck_assert_str_eq(s, "hello");

	s = arena_strndup(a, "a\0b", 3);
	ck_assert_ptr_nonnull(s);
	ck_assert_mem_eq(s, "a\0b", 4);

	s = arena_strndup(a, "anything", 0);
	ck_assert_str_eq(s, "");
}
END_TEST

START_TEST(strndup_of_size_max_is_refused)
{
	ck_assert_ptr_null(arena_strndup(a, "x", SIZE_MAX));
}
END_TEST

START_TEST(strdup_copies_and_keeps_null)
{
	const char	*src = "a string";
	char		*s;

	s = arena_strdup(a, src);
	ck_assert_ptr_ne(s, src);
	ck_assert_str_eq(s, src);
	ck_assert_ptr_null(arena_strdup(a, NULL));
}
END_TEST

START_TEST(printf_formats_into_the_arena)
{
	char	*s;

	s = arena_printf(a, "%s-%d-%05.1f", "run", 42, 3.14159);
	ck_assert_str_eq(s, "run-42-003.1");

	s = arena_printf(a, "%s", "");
	ck_assert_str_eq(s, "");

	/* Longer than a quarter block: it gets a block of its own. */
	s = arena_printf(a, "%20000d", 7);
	ck_assert_ptr_nonnull(s);
	ck_assert_uint_eq(strlen(s), 20000);
	ck_assert_int_eq(s[19999], '7');
	ck_assert_int_eq(s[0], ' ');
}
END_TEST

START_TEST(printf_that_cannot_encode_returns_null)
{
	ck_assert_ptr_null(arena_printf(a, "%ls", unencodable));
}
END_TEST

START_TEST(empty_buffer_reads_as_empty_string)
{
	struct buf	 b;

	buf_init(&b);
	ck_assert_ptr_null(b.data);
	ck_assert_uint_eq(b.len, 0);
	ck_assert_int_eq(b.oom, 0);
	ck_assert_str_eq(buf_str(&b), "");
}
END_TEST

START_TEST(appends_accumulate_in_order)
{
	struct buf	 b;

	buf_init(&b);
	ck_assert_int_eq(buf_add(&b, "ab", 2), 0);
	ck_assert_int_eq(buf_puts(&b, "cd"), 0);
	ck_assert_int_eq(buf_putc(&b, '-'), 0);
	ck_assert_int_eq(buf_printf(&b, "%d:%s", 12, "x"), 0);
	ck_assert_str_eq(buf_str(&b), "abcd-12:x");
	ck_assert_uint_eq(b.len, 9);
	ck_assert_uint_gt(b.cap, b.len);
	buf_free(&b);
}
END_TEST

START_TEST(adding_nothing_still_terminates)
{
	struct buf	 b;

	buf_init(&b);
	ck_assert_int_eq(buf_add(&b, "x", 0), 0);
	ck_assert_ptr_nonnull(b.data);
	ck_assert_str_eq(buf_str(&b), "");
	ck_assert_int_eq(buf_puts(&b, ""), 0);
	ck_assert_uint_eq(b.len, 0);
	buf_free(&b);
}
END_TEST

START_TEST(growth_keeps_contents_and_embedded_nul)
{
	struct buf	 b;
	size_t		 i;

	buf_init(&b);
	for (i = 0; i < 10000; i++)
		ck_assert_int_eq(buf_putc(&b, (char)('a' + i % 26)), 0);
	ck_assert_int_eq(buf_add(&b, "\0z", 2), 0);
	ck_assert_uint_eq(b.len, 10002);
	ck_assert_uint_ge(b.cap, b.len + 1);
	for (i = 0; i < 10000; i++)
		ck_assert_int_eq(b.data[i], 'a' + i % 26);
	ck_assert_int_eq(b.data[10000], '\0');
	ck_assert_int_eq(b.data[10001], 'z');
	ck_assert_int_eq(b.data[10002], '\0');
	buf_free(&b);
}
END_TEST

START_TEST(printf_grows_past_capacity)
{
	struct buf	 b;

	buf_init(&b);
	ck_assert_int_eq(buf_puts(&b, "head:"), 0);
	ck_assert_int_eq(buf_printf(&b, "%3000d|", 5), 0);
	ck_assert_uint_eq(b.len, 5 + 3000 + 1);
	ck_assert_uint_eq(strlen(buf_str(&b)), b.len);
	ck_assert_int_eq(strncmp(b.data, "head:   ", 8), 0);
	ck_assert_str_eq(b.data + b.len - 2, "5|");
	buf_free(&b);
}
END_TEST

START_TEST(reset_empties_and_keeps_storage)
{
	struct buf	 b;
	char		*data;
	size_t		 cap;

	buf_init(&b);
	buf_reset(&b);
	ck_assert_str_eq(buf_str(&b), "");

	ck_assert_int_eq(buf_puts(&b, "something"), 0);
	data = b.data;
	cap = b.cap;
	buf_reset(&b);
	ck_assert_ptr_eq(b.data, data);
	ck_assert_uint_eq(b.cap, cap);
	ck_assert_uint_eq(b.len, 0);
	ck_assert_str_eq(buf_str(&b), "");
	ck_assert_int_eq(buf_puts(&b, "new"), 0);
	ck_assert_str_eq(buf_str(&b), "new");
	buf_free(&b);
}
END_TEST

START_TEST(impossible_size_sets_oom_until_reset)
{
	struct buf	 b;

	buf_init(&b);
	ck_assert_int_eq(buf_puts(&b, "kept"), 0);
	ck_assert_int_eq(buf_add(&b, "x", SIZE_MAX - 2), -1);
	ck_assert_int_eq(b.oom, 1);

	/* Later appends fail at once and leave the contents alone. */
	ck_assert_int_eq(buf_puts(&b, "more"), -1);
	ck_assert_int_eq(buf_putc(&b, 'c'), -1);
	ck_assert_int_eq(buf_printf(&b, "%d", 1), -1);
	ck_assert_str_eq(buf_str(&b), "kept");

	buf_reset(&b);
	ck_assert_int_eq(b.oom, 0);
	ck_assert_int_eq(buf_puts(&b, "again"), 0);
	ck_assert_str_eq(buf_str(&b), "again");
	buf_free(&b);
}
END_TEST

START_TEST(growth_beyond_memory_sets_oom)
{
	struct buf	 b;

	buf_init(&b);
	ck_assert_int_eq(buf_add(&b, "x", SIZE_MAX / 2), -1);
	ck_assert_int_eq(b.oom, 1);
	ck_assert_str_eq(buf_str(&b), "");
	buf_free(&b);
}
END_TEST

START_TEST(printf_that_cannot_encode_sets_oom)
{
	struct buf	 b;

	buf_init(&b);
	ck_assert_int_eq(buf_puts(&b, "ok"), 0);
	ck_assert_int_eq(buf_printf(&b, "%ls", unencodable), -1);
	ck_assert_int_eq(b.oom, 1);
	ck_assert_str_eq(buf_str(&b), "ok");
	buf_free(&b);
}
END_TEST

START_TEST(free_accepts_null_and_a_freed_buffer)
{
	struct buf	 b;

	buf_free(NULL);
	buf_init(&b);
	ck_assert_int_eq(buf_puts(&b, "data"), 0);
	buf_free(&b);
	ck_assert_ptr_null(b.data);
	ck_assert_uint_eq(b.len, 0);
	ck_assert_uint_eq(b.cap, 0);
	ck_assert_str_eq(buf_str(&b), "");
	buf_free(&b);
}
END_TEST

static Suite *
arena_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("arena");

	tc = tcase_create("arena");
	tcase_add_checked_fixture(tc, arena_setup, arena_teardown);
	tcase_add_test(tc, new_arena_holds_one_block);
	tcase_add_test(tc, allocations_do_not_overlap);
	tcase_add_test(tc, allocations_are_aligned_for_any_type);
	tcase_add_test(tc, zero_bytes_still_get_a_pointer_of_their_own);
	tcase_add_test(tc, full_block_is_followed_by_a_new_one);
	tcase_add_test(tc, large_request_gets_a_block_of_its_own);
	tcase_add_test(tc, reset_keeps_only_the_first_block);
	tcase_add_test(tc, null_arena_can_be_reset_and_freed);
	tcase_add_test(tc, absurd_sizes_are_refused);
	tcase_add_test(tc, calloc_zero_fills);
	tcase_add_test(tc, calloc_overflow_is_refused);
	tcase_add_test(tc, strndup_copies_n_bytes_and_terminates);
	tcase_add_test(tc, strndup_of_size_max_is_refused);
	tcase_add_test(tc, strdup_copies_and_keeps_null);
	tcase_add_test(tc, printf_formats_into_the_arena);
	tcase_add_test(tc, printf_that_cannot_encode_returns_null);
	suite_add_tcase(s, tc);

	tc = tcase_create("buf");
	tcase_add_test(tc, empty_buffer_reads_as_empty_string);
	tcase_add_test(tc, appends_accumulate_in_order);
	tcase_add_test(tc, adding_nothing_still_terminates);
	tcase_add_test(tc, growth_keeps_contents_and_embedded_nul);
	tcase_add_test(tc, printf_grows_past_capacity);
	tcase_add_test(tc, reset_empties_and_keeps_storage);
	tcase_add_test(tc, impossible_size_sets_oom_until_reset);
	tcase_add_test(tc, growth_beyond_memory_sets_oom);
	tcase_add_test(tc, printf_that_cannot_encode_sets_oom);
	tcase_add_test(tc, free_accepts_null_and_a_freed_buffer);
	suite_add_tcase(s, tc);

	return s;
}

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	sr = srunner_create(arena_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
