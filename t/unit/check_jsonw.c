/*
 * check_jsonw.c: the streaming JSON writer.
 *
 * Every case writes into a fresh buffer and compares the whole text, so a
 * misplaced comma or a missing escape shows as a difference.
 */
#include <config.h>

#include <check.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/buf.h"
#include "domain/jsonw.h"

static struct buf	 b;
static struct jsonw	 w;

static void
setup(void)
{
	buf_init(&b);
	jw_init(&w, &b);
}

static void
teardown(void)
{
	buf_free(&b);
}

/* Asserts the writer finished cleanly with exactly want. */
static void
assert_json(const char *want)
{
	ck_assert_msg(jw_ok(&w), "writer not ok after %s", buf_str(&b));
	ck_assert_str_eq(buf_str(&b), want);
}

/* Writes s as a lone string value. */
static void
assert_string(const char *s, size_t n, const char *want)
{
	jw_stringn(&w, s, n);
	assert_json(want);
}

/* Writes v with the given decimals as a lone value. */
static void
assert_double(double v, int decimals, const char *want)
{
	buf_reset(&b);
	jw_init(&w, &b);
	jw_double(&w, v, decimals);
	ck_assert_msg(strcmp(buf_str(&b), want) == 0,
	    "%.17g with %d decimals: got %s, want %s", v, decimals,
	    buf_str(&b), want);
	ck_assert(jw_ok(&w));
}

START_TEST(empty_containers)
{
	jw_array_open(&w);
	jw_object_open(&w);
	jw_object_close(&w);
	jw_array_open(&w);
	jw_array_close(&w);
	jw_array_close(&w);
	assert_json("[{},[]]");
}
END_TEST

START_TEST(members_get_colons_and_commas)
{
	jw_object_open(&w);
	jw_key(&w, "a");
	jw_int(&w, 1);
	jw_key(&w, "b");
	jw_bool(&w, 1);
	jw_key(&w, "c");
	jw_bool(&w, 0);
	jw_key(&w, "d");
	jw_null(&w);
	jw_key(&w, "e");
	jw_string(&w, "x");
	jw_object_close(&w);
	assert_json("{\"a\":1,\"b\":true,\"c\":false,\"d\":null,\"e\":\"x\"}");
}
END_TEST

START_TEST(array_elements_get_commas)
{
	jw_array_open(&w);
	jw_int(&w, 0);
	jw_int(&w, -2);
	jw_string(&w, "");
	jw_null(&w);
	jw_double(&w, 1.5, 1);
	jw_array_close(&w);
	assert_json("[0,-2,\"\",null,1.5]");
}
END_TEST

START_TEST(containers_nest)
{
	jw_object_open(&w);
	jw_key(&w, "a");
	jw_array_open(&w);
	jw_int(&w, 1);
	jw_object_open(&w);
	jw_key(&w, "b");
	jw_array_open(&w);
	jw_array_close(&w);
	jw_object_close(&w);
	jw_array_open(&w);
	jw_array_close(&w);
	jw_array_close(&w);
	jw_key(&w, "c");
	jw_object_open(&w);
	jw_object_close(&w);
	jw_object_close(&w);
	assert_json("{\"a\":[1,{\"b\":[]},[]],\"c\":{}}");
}
END_TEST

START_TEST(int64_extremes_are_exact)
{
	jw_array_open(&w);
	jw_int(&w, INT64_MAX);
	jw_int(&w, INT64_MIN);
	jw_array_close(&w);
	assert_json("[9223372036854775807,-9223372036854775808]");
}
END_TEST

START_TEST(writer_appends_to_what_the_buffer_holds)
{
	buf_puts(&b, "data: ");
	jw_init(&w, &b);
	jw_array_open(&w);
	jw_array_close(&w);
	assert_json("data: []");
}
END_TEST

START_TEST(quote_and_backslash_are_escaped)
{
	assert_string("a\"b\\c", 5, "\"a\\\"b\\\\c\"");
}
END_TEST

START_TEST(common_controls_get_short_escapes)
{
	assert_string("\n\r\t", 3, "\"\\n\\r\\t\"");
}
END_TEST

START_TEST(other_controls_get_unicode_escapes)
{
	assert_string("\x01\b\f\x1f|\x7f", 6,
	    "\"\\u0001\\u0008\\u000c\\u001f|\x7f\"");
}
END_TEST

START_TEST(line_separators_are_escaped)
{
	assert_string("x\xe2\x80\xa8y\xe2\x80\xa9", 8,
	    "\"x\\u2028y\\u2029\"");
}
END_TEST

START_TEST(other_three_byte_characters_pass_through)
{
	/* U+2026 and U+20AC share the lead byte; a cut sequence is kept. */
	assert_string("\xe2\x80\xa6\xe2\x82\xac\xe2\x80", 8,
	    "\"\xe2\x80\xa6\xe2\x82\xac\xe2\x80\"");
}
END_TEST

START_TEST(multibyte_text_passes_through)
{
	assert_string("caf\xc3\xa9 \xf0\x9f\x98\x80", 10,
	    "\"caf\xc3\xa9 \xf0\x9f\x98\x80\"");
}
END_TEST

START_TEST(stringn_writes_exactly_n_bytes)
{
	jw_array_open(&w);
	jw_stringn(&w, "a\0b", 3);
	jw_stringn(&w, "abcdef", 3);
	jw_stringn(&w, "ignored", 0);
	jw_array_close(&w);
	assert_json("[\"a\\u0000b\",\"abc\",\"\"]");
}
END_TEST

START_TEST(null_string_is_written_as_null)
{
	jw_object_open(&w);
	jw_key(&w, "s");
	jw_string(&w, NULL);
	jw_object_close(&w);
	assert_json("{\"s\":null}");
}
END_TEST

START_TEST(keys_are_escaped)
{
	jw_object_open(&w);
	jw_key(&w, "a\"b\n");
	jw_int(&w, 1);
	jw_object_close(&w);
	assert_json("{\"a\\\"b\\n\":1}");
}
END_TEST

START_TEST(double_is_rounded_and_trimmed)
{
	assert_double(0.869565, 4, "0.8696");
	assert_double(250.0, 2, "250");
	assert_double(12.5, 3, "12.5");
	assert_double(100.0, 2, "100");
	assert_double(1234.0, 0, "1234");
	assert_double(2.6, 0, "3");
	assert_double(-1.26, 1, "-1.3");
	assert_double(0.0, 3, "0");
	assert_double(0.0009, 3, "0.001");
}
END_TEST

START_TEST(negative_zero_is_written_as_zero)
{
	assert_double(-0.0, 2, "0");
	assert_double(-0.0001, 2, "0");
	assert_double(-0.4, 0, "0");
}
END_TEST

START_TEST(decimals_are_clamped)
{
	assert_double(3.7, -1, "4");
	assert_double(0.1234567891234, 12, "0.123456789");
}
END_TEST

START_TEST(huge_double_is_written_whole)
{
	char	 want[400];

	(void)snprintf(want, sizeof(want), "%.0f", 1e300);
	ck_assert_uint_eq(strlen(want), 301);
	assert_double(1e300, 2, want);

	(void)snprintf(want, sizeof(want), "%.0f", -DBL_MAX);
	ck_assert_uint_eq(strlen(want), 310);
	assert_double(-DBL_MAX, 9, want);
}
END_TEST

START_TEST(non_finite_double_is_null)
{
	jw_array_open(&w);
	jw_double(&w, NAN, 2);
	jw_double(&w, INFINITY, 2);
	jw_double(&w, -INFINITY, 2);
	jw_array_close(&w);
	assert_json("[null,null,null]");
}
END_TEST

START_TEST(raw_text_is_one_value)
{
	static const char	 raw[] = "{\"x\":[2]}";

	jw_object_open(&w);
	jw_key(&w, "a");
	jw_raw(&w, raw, sizeof(raw) - 1);
	jw_key(&w, "b");
	jw_array_open(&w);
	jw_int(&w, 1);
	jw_raw(&w, "true", 4);
	jw_raw(&w, "3,ignored", 1);
	jw_array_close(&w);
	jw_object_close(&w);
	assert_json("{\"a\":{\"x\":[2]},\"b\":[1,true,3]}");
}
END_TEST

/* Ways to misuse the writer, each of which jw_ok() must report. */
static void
close_at_top(struct jsonw *jw)
{
	jw_object_close(jw);
}

static void
close_too_often(struct jsonw *jw)
{
	jw_array_open(jw);
	jw_array_close(jw);
	jw_array_close(jw);
}

static void
leave_open(struct jsonw *jw)
{
	jw_object_open(jw);
	jw_key(jw, "a");
	jw_array_open(jw);
}

static void
close_after_key(struct jsonw *jw)
{
	jw_object_open(jw);
	jw_key(jw, "a");
	jw_object_close(jw);
}

static void
key_at_top(struct jsonw *jw)
{
	jw_key(jw, "a");
	jw_int(jw, 1);
}

static void
key_after_key(struct jsonw *jw)
{
	jw_object_open(jw);
	jw_key(jw, "a");
	jw_key(jw, "b");
	jw_int(jw, 1);
	jw_object_close(jw);
}

static void
nest_too_deep(struct jsonw *jw)
{
	int	 i;

	for (i = 0; i < JSONW_DEPTH; i++)
		jw_array_open(jw);
	for (i = 0; i < JSONW_DEPTH; i++)
		jw_array_close(jw);
}

static void (*const misuses[])(struct jsonw *) = {
	close_at_top,
	close_too_often,
	leave_open,
	close_after_key,
	key_at_top,
	key_after_key,
	nest_too_deep,
};

START_TEST(misuse_is_reported)
{
	misuses[_i](&w);
	ck_assert_msg(!jw_ok(&w), "misuse %d passed as %s", _i, buf_str(&b));
}
END_TEST

START_TEST(deepest_allowed_nesting_is_fine)
{
	int	 i;

	for (i = 0; i < JSONW_DEPTH - 1; i++)
		jw_array_open(&w);
	for (i = 0; i < JSONW_DEPTH - 1; i++)
		jw_array_close(&w);
	ck_assert(jw_ok(&w));
	ck_assert_uint_eq(b.len, 2 * (JSONW_DEPTH - 1));
}
END_TEST

START_TEST(exhausted_buffer_fails_the_writer)
{
	jw_object_open(&w);
	ck_assert_int_eq(buf_add(&b, "", SIZE_MAX), -1);
	jw_key(&w, "a");
	jw_int(&w, 1);
	jw_object_close(&w);
	ck_assert(!jw_ok(&w));
}
END_TEST

static Suite *
jsonw_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("jsonw");

	tc = tcase_create("structure");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, empty_containers);
	tcase_add_test(tc, members_get_colons_and_commas);
	tcase_add_test(tc, array_elements_get_commas);
	tcase_add_test(tc, containers_nest);
	tcase_add_test(tc, int64_extremes_are_exact);
	tcase_add_test(tc, writer_appends_to_what_the_buffer_holds);
	tcase_add_test(tc, raw_text_is_one_value);
	suite_add_tcase(s, tc);

	tc = tcase_create("strings");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, quote_and_backslash_are_escaped);
	tcase_add_test(tc, common_controls_get_short_escapes);
	tcase_add_test(tc, other_controls_get_unicode_escapes);
	tcase_add_test(tc, line_separators_are_escaped);
	tcase_add_test(tc, other_three_byte_characters_pass_through);
	tcase_add_test(tc, multibyte_text_passes_through);
	tcase_add_test(tc, stringn_writes_exactly_n_bytes);
	tcase_add_test(tc, null_string_is_written_as_null);
	tcase_add_test(tc, keys_are_escaped);
	suite_add_tcase(s, tc);

	tc = tcase_create("numbers");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, double_is_rounded_and_trimmed);
	tcase_add_test(tc, negative_zero_is_written_as_zero);
	tcase_add_test(tc, decimals_are_clamped);
	tcase_add_test(tc, huge_double_is_written_whole);
	tcase_add_test(tc, non_finite_double_is_null);
	suite_add_tcase(s, tc);

	tc = tcase_create("misuse");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, misuse_is_reported, 0,
	    sizeof(misuses) / sizeof(misuses[0]));
	tcase_add_test(tc, deepest_allowed_nesting_is_fine);
	tcase_add_test(tc, exhausted_buffer_fails_the_writer);
	suite_add_tcase(s, tc);

	return s;
}

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	sr = srunner_create(jsonw_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
