/*
 * check_text.c: checks of untrusted text, error names, the clocks and the
 * random identifiers.
 */
#include <config.h>

#include <check.h>
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "domain/error.h"
#include "domain/text.h"
#include "infra/clock.h"
#include "infra/random.h"

/* A byte string with its length, for inputs that hold NUL. */
struct bytes {
	const char	*s;
	size_t		 n;
	const char	*why;
};

#define B(lit, why)	{ lit, sizeof(lit) - 1, why }

static const struct bytes well_formed[] = {
	B("", "empty"),
	B("plain ascii", "ascii"),
	B("a\0b", "NUL byte"),
	B("\xc2\x80", "U+0080, first two-byte"),
	B("\xdf\xbf", "U+07FF, last two-byte"),
	B("\xe0\xa0\x80", "U+0800, first three-byte"),
	B("\xed\x9f\xbf", "U+D7FF, below surrogates"),
	B("\xee\x80\x80", "U+E000, above surrogates"),
	B("\xef\xbf\xbf", "U+FFFF"),
	B("\xf0\x90\x80\x80", "U+10000, first four-byte"),
	B("\xf4\x8f\xbf\xbf", "U+10FFFF, last code point"),
	B("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", "mixed"),
};

static const struct bytes malformed[] = {
	B("\x80", "lone continuation"),
	B("a\xbf", "continuation after ascii"),
	B("\xc0\x80", "overlong NUL"),
	B("\xc1\xbf", "overlong two-byte"),
	B("\xe0\x9f\xbf", "overlong three-byte"),
	B("\xe0\x80\xaf", "overlong slash"),
	B("\xf0\x8f\xbf\xbf", "overlong four-byte"),
	B("\xed\xa0\x80", "U+D800, first surrogate"),
	B("\xed\xbf\xbf", "U+DFFF, last surrogate"),
	B("\xf4\x90\x80\x80", "U+110000"),
	B("\xf5\x80\x80\x80", "lead byte F5"),
	B("\xf8\x88\x80\x80\x80", "five-byte form"),
	B("\xfe", "byte FE"),
	B("\xff", "byte FF"),
	B("\xc2", "two-byte cut after one"),
	B("\xe0\xa0", "three-byte cut after two"),
	B("\xf0\x90\x80", "four-byte cut after three"),
	B("ok\xe2\x82", "cut at the end"),
	B("\xc2\x41", "ascii as continuation"),
	B("\xe0\xa0\x41", "ascii as third byte"),
	B("\xf0\x90\x80\x41", "ascii as fourth byte"),
	B("\xc2\xc2\x80", "lead byte as continuation"),
};

START_TEST(well_formed_utf8_is_accepted)
{
	const struct bytes	*t = &well_formed[_i];

	ck_assert_msg(utf8_valid(t->s, t->n), "%s refused", t->why);
}
END_TEST

START_TEST(malformed_utf8_is_refused)
{
	const struct bytes	*t = &malformed[_i];

	ck_assert_msg(!utf8_valid(t->s, t->n), "%s accepted", t->why);
}
END_TEST

START_TEST(utf8_length_bounds_the_check)
{
	/* Only the bytes counted by n are looked at. */
	ck_assert(!utf8_valid("\xc3\xa9", 1));
	ck_assert(utf8_valid("ab\xff", 2));
}
END_TEST

START_TEST(utf8_count_counts_code_points)
{
	/* One code point each of one, two, three and four bytes. */
	static const char	 mixed[] =
	    "a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80";

	ck_assert_uint_eq(utf8_count("", 0), 0);
	ck_assert_uint_eq(utf8_count("abc", 3), 3);
	ck_assert_uint_eq(utf8_count("a\0b", 3), 3);
	ck_assert_uint_eq(utf8_count("\xc3\xa9", 2), 1);
	ck_assert_uint_eq(utf8_count("\xe2\x82\xac", 3), 1);
	ck_assert_uint_eq(utf8_count("\xf0\x9f\x98\x80", 4), 1);
	ck_assert_uint_eq(utf8_count(mixed, sizeof(mixed) - 1), 4);
	ck_assert_uint_eq(utf8_count(mixed, 3), 2);
}
END_TEST

struct int_case {
	const char	*s;
	int64_t		 min, max;
	int64_t		 want;
};

static const struct int_case ints_accepted[] = {
	{ "0", INT64_MIN, INT64_MAX, 0 },
	{ "-0", INT64_MIN, INT64_MAX, 0 },
	{ "42", INT64_MIN, INT64_MAX, 42 },
	{ "-42", INT64_MIN, INT64_MAX, -42 },
	{ "007", 0, 10, 7 },
	{ "9223372036854775807", INT64_MIN, INT64_MAX, INT64_MAX },
	{ "-9223372036854775808", INT64_MIN, INT64_MAX, INT64_MIN },
	{ "10", 10, 20, 10 },
	{ "20", 10, 20, 20 },
	{ "-5", -5, -5, -5 },
};

static const struct int_case ints_refused[] = {
	{ NULL, INT64_MIN, INT64_MAX, 0 },
	{ "", INT64_MIN, INT64_MAX, 0 },
	{ "+1", INT64_MIN, INT64_MAX, 0 },
	{ " 1", INT64_MIN, INT64_MAX, 0 },
	{ "\t1", INT64_MIN, INT64_MAX, 0 },
	{ "1 ", INT64_MIN, INT64_MAX, 0 },
	{ "1\n", INT64_MIN, INT64_MAX, 0 },
	{ "1x", INT64_MIN, INT64_MAX, 0 },
	{ "x1", INT64_MIN, INT64_MAX, 0 },
	{ "-", INT64_MIN, INT64_MAX, 0 },
	{ "--1", INT64_MIN, INT64_MAX, 0 },
	{ "-+1", INT64_MIN, INT64_MAX, 0 },
	{ "- 1", INT64_MIN, INT64_MAX, 0 },
	{ "0x10", INT64_MIN, INT64_MAX, 0 },
	{ "1.5", INT64_MIN, INT64_MAX, 0 },
	{ "1e3", INT64_MIN, INT64_MAX, 0 },
	{ "9223372036854775808", INT64_MIN, INT64_MAX, 0 },
	{ "-9223372036854775809", INT64_MIN, INT64_MAX, 0 },
	{ "99999999999999999999", INT64_MIN, INT64_MAX, 0 },
	{ "9", 10, 20, 0 },
	{ "21", 10, 20, 0 },
	{ "-1", 0, 100, 0 },
};

START_TEST(integer_in_range_is_parsed)
{
	const struct int_case	*t = &ints_accepted[_i];
	int64_t			 out = 12345;

	ck_assert_msg(parse_int64(t->s, t->min, t->max, &out) == 0,
	    "'%s' refused", t->s);
	ck_assert_msg(out == t->want, "'%s' parsed as %lld", t->s,
	    (long long)out);
}
END_TEST

START_TEST(bad_integer_is_refused_leaving_output)
{
	const struct int_case	*t = &ints_refused[_i];
	int64_t			 out = 12345;

	ck_assert_msg(parse_int64(t->s, t->min, t->max, &out) == -1,
	    "'%s' accepted", t->s ? t->s : "(null)");
	ck_assert_int_eq(out, 12345);
}
END_TEST

START_TEST(equal_bytes_compare_equal)
{
	ck_assert_int_eq(equal_const_time("secret", 6, "secret", 6), 1);
	ck_assert_int_eq(equal_const_time("a\0b", 3, "a\0b", 3), 1);
	ck_assert_int_eq(equal_const_time("", 0, "", 0), 1);
}
END_TEST

START_TEST(different_bytes_compare_unequal)
{
	ck_assert_int_eq(equal_const_time("secret", 6, "Secret", 6), 0);
	ck_assert_int_eq(equal_const_time("secret", 6, "secreT", 6), 0);
	ck_assert_int_eq(equal_const_time("a\0b", 3, "a\0c", 3), 0);
	ck_assert_int_eq(equal_const_time("\x01", 1, "\x81", 1), 0);
}
END_TEST

START_TEST(different_lengths_compare_unequal)
{
	ck_assert_int_eq(equal_const_time("secret", 6, "secrets", 7), 0);
	ck_assert_int_eq(equal_const_time("secret", 6, "secret", 5), 0);
	ck_assert_int_eq(equal_const_time("", 0, "x", 1), 0);
}
END_TEST

START_TEST(every_error_has_its_own_name)
{
	const char	*names[GT_ERR_INTERNAL + 1];
	int		 e, f;

	for (e = GT_OK; e <= GT_ERR_INTERNAL; e++) {
		names[e] = gt_err_name((enum gt_err)e);
		ck_assert_ptr_nonnull(names[e]);
		ck_assert_str_ne(names[e], "");
		ck_assert_str_ne(names[e], "unknown");
		for (f = GT_OK; f < e; f++)
			ck_assert_msg(strcmp(names[e], names[f]) != 0,
			    "codes %d and %d are both %s", f, e, names[e]);
	}
}
END_TEST

START_TEST(error_names_match_their_codes)
{
	ck_assert_str_eq(gt_err_name(GT_OK), "ok");
	ck_assert_str_eq(gt_err_name(GT_ERR_NOT_FOUND), "not_found");
	ck_assert_str_eq(gt_err_name(GT_ERR_TRANSITION), "invalid_transition");
	ck_assert_str_eq(gt_err_name(GT_ERR_INTERNAL), "internal");
}
END_TEST

START_TEST(unknown_error_code_still_has_a_name)
{
	ck_assert_str_eq(gt_err_name((enum gt_err)(GT_ERR_INTERNAL + 1)),
	    "unknown");
	ck_assert_str_eq(gt_err_name((enum gt_err)-1), "unknown");
	ck_assert_str_eq(gt_err_name((enum gt_err)1000000), "unknown");
}
END_TEST

struct time_case {
	int64_t		 ms;
	const char	*want;
};

static const struct time_case times[] = {
	{ 0, "1970-01-01T00:00:00.000Z" },
	{ 1, "1970-01-01T00:00:00.001Z" },
	{ 45, "1970-01-01T00:00:00.045Z" },
	{ 999, "1970-01-01T00:00:00.999Z" },
	{ 1000, "1970-01-01T00:00:01.000Z" },
	{ -1, "1969-12-31T23:59:59.999Z" },
	{ -1000, "1969-12-31T23:59:59.000Z" },
	{ -1001, "1969-12-31T23:59:58.999Z" },
	{ INT64_C(951868799999), "2000-02-29T23:59:59.999Z" },
	{ INT64_C(951868800000), "2000-03-01T00:00:00.000Z" },
	{ INT64_C(1709210096789), "2024-02-29T12:34:56.789Z" },
	{ INT64_C(4107542400000), "2100-03-01T00:00:00.000Z" },
	{ INT64_C(1796322191123), "2026-12-03T18:23:11.123Z" },
	{ INT64_C(253402300799999), "9999-12-31T23:59:59.999Z" },
};

START_TEST(rfc3339_has_the_exact_form)
{
	const struct time_case	*t = &times[_i];
	char			 out[CLOCK_RFC3339_LEN];

	memset(out, 'x', sizeof(out));
	ck_assert_ptr_eq(clock_format_rfc3339(t->ms, out, sizeof(out)), out);
	ck_assert_str_eq(out, t->want);
}
END_TEST

START_TEST(rfc3339_is_cut_to_the_buffer)
{
	char	 out[11];

	ck_assert_ptr_eq(clock_format_rfc3339(0, out, sizeof(out)), out);
	ck_assert_str_eq(out, "1970-01-01");
}
END_TEST

START_TEST(realtime_clock_reads_now)
{
	int64_t	 before, now;

	before = (int64_t)time(NULL) * 1000;
	now = clock_now_ms();
	ck_assert_int_ge(now, before);
	ck_assert_int_le(now, before + 2000);
}
END_TEST

START_TEST(monotonic_clock_never_goes_back)
{
	struct timespec	 nap = { 0, 20 * 1000 * 1000 };
	int64_t		 prev, now, start;
	int		 i;

	start = prev = clock_mono_ms();
	for (i = 0; i < 100000; i++) {
		now = clock_mono_ms();
		ck_assert_int_ge(now, prev);
		prev = now;
	}
	ck_assert_int_eq(nanosleep(&nap, NULL), 0);
	ck_assert_int_ge(clock_mono_ms() - start, 19);
}
END_TEST

static int
all_lower_hex(const char *s, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]) ||
		    isupper((unsigned char)s[i]))
			return 0;
	return 1;
}

START_TEST(random_bytes_differ_between_calls)
{
	unsigned char	 x[32], y[32];

	memset(x, 0, sizeof(x));
	memset(y, 0, sizeof(y));
	ck_assert_int_eq(random_bytes(x, sizeof(x)), 0);
	ck_assert_int_eq(random_bytes(y, sizeof(y)), 0);
	ck_assert(memcmp(x, y, sizeof(x)) != 0);
	ck_assert_int_eq(random_bytes(x, 0), 0);
}
END_TEST

START_TEST(random_hex_writes_two_digits_a_byte)
{
	char	 out[2 * 150 + 2];
	size_t	 n;

	/* 150 bytes take more than one round of the internal buffer. */
	for (n = 0; n <= 150; n += 15) {
		memset(out, '!', sizeof(out));
		ck_assert_int_eq(random_hex(out, n), 0);
		ck_assert_uint_eq(strlen(out), 2 * n);
		ck_assert(all_lower_hex(out, 2 * n));
		ck_assert_int_eq(out[2 * n + 1], '!');
	}
}
END_TEST

START_TEST(random_uuid_is_version_4)
{
	char	 u[RANDOM_UUID_LEN], v[RANDOM_UUID_LEN];
	int	 i, k;

	for (k = 0; k < 64; k++) {
		ck_assert_int_eq(random_uuid(u), 0);
		ck_assert_uint_eq(strlen(u), 36);
		for (i = 0; i < 36; i++) {
			if (i == 8 || i == 13 || i == 18 || i == 23)
				ck_assert_int_eq(u[i], '-');
			else
				ck_assert_msg(all_lower_hex(u + i, 1), "%s", u);
		}
		ck_assert_int_eq(u[14], '4');
		ck_assert_msg(strchr("89ab", u[19]) != NULL, "%s", u);
	}
	ck_assert_int_eq(random_uuid(v), 0);
	ck_assert_str_ne(u, v);
}
END_TEST

static Suite *
text_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("text");

	tc = tcase_create("utf8");
	tcase_add_loop_test(tc, well_formed_utf8_is_accepted, 0,
	    sizeof(well_formed) / sizeof(well_formed[0]));
	tcase_add_loop_test(tc, malformed_utf8_is_refused, 0,
	    sizeof(malformed) / sizeof(malformed[0]));
	tcase_add_test(tc, utf8_length_bounds_the_check);
	tcase_add_test(tc, utf8_count_counts_code_points);
	suite_add_tcase(s, tc);

	tc = tcase_create("int64");
	tcase_add_loop_test(tc, integer_in_range_is_parsed, 0,
	    sizeof(ints_accepted) / sizeof(ints_accepted[0]));
	tcase_add_loop_test(tc, bad_integer_is_refused_leaving_output, 0,
	    sizeof(ints_refused) / sizeof(ints_refused[0]));
	suite_add_tcase(s, tc);

	tc = tcase_create("compare");
	tcase_add_test(tc, equal_bytes_compare_equal);
	tcase_add_test(tc, different_bytes_compare_unequal);
	tcase_add_test(tc, different_lengths_compare_unequal);
	suite_add_tcase(s, tc);

	tc = tcase_create("error");
	tcase_add_test(tc, every_error_has_its_own_name);
	tcase_add_test(tc, error_names_match_their_codes);
	tcase_add_test(tc, unknown_error_code_still_has_a_name);
	suite_add_tcase(s, tc);

	tc = tcase_create("clock");
	tcase_add_loop_test(tc, rfc3339_has_the_exact_form, 0,
	    sizeof(times) / sizeof(times[0]));
	tcase_add_test(tc, rfc3339_is_cut_to_the_buffer);
	tcase_add_test(tc, realtime_clock_reads_now);
	tcase_add_test(tc, monotonic_clock_never_goes_back);
	suite_add_tcase(s, tc);

	tc = tcase_create("random");
	tcase_add_test(tc, random_bytes_differ_between_calls);
	tcase_add_test(tc, random_hex_writes_two_digits_a_byte);
	tcase_add_test(tc, random_uuid_is_version_4);
	suite_add_tcase(s, tc);

	return s;
}

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	sr = srunner_create(text_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
