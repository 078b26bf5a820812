/*
 * check_json.c: the strict JSON reader.
 *
 * Each text is parsed into a fresh arena, as a request body is.  Inputs
 * are written with their length, so that NUL bytes and bytes that are
 * not UTF-8 reach the parser as they would from a client.
 */
#include <config.h>

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/arena.h"
#include "domain/json.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

/* A byte string with its length, for inputs that hold NUL. */
struct bytes {
	const char	*s;
	size_t		 n;
	const char	*why;
};

#define B(lit, why)	{ lit, sizeof(lit) - 1, why }

static struct arena	*arena;

static void
setup(void)
{
	arena = arena_new();
	ck_assert_ptr_nonnull(arena);
}

static void
teardown(void)
{
	arena_free(arena);
	arena = NULL;
}

/* Parses the C string s, which must be accepted. */
static struct json *
parse_ok(const char *s)
{
	struct json	*j;
	enum json_error	 err = JSON_ERR_NOMEM;

	j = json_parse(arena, s, strlen(s), &err);
	ck_assert_msg(j != NULL, "%s refused: %s", s, json_error_name(err));
	ck_assert_int_eq(err, JSON_OK);
	return j;
}

/* Asserts that the n bytes at s are refused for the reason want. */
static void
assert_refused(const char *s, size_t n, enum json_error want,
    const char *why)
{
	struct json	*j;
	enum json_error	 err = JSON_OK;

	j = json_parse(arena, s, n, &err);
	ck_assert_msg(j == NULL, "%s: accepted", why);
	ck_assert_msg(err == want, "%s: %s, not %s", why, json_error_name(err),
	    json_error_name(want));
}

/*
 * Nests depth copies of open around inner, each closed by close, in a
 * buffer the caller frees.
 */
static char *
nest(const char *open, const char *inner, const char *close, size_t depth,
    size_t *lenp)
{
	size_t	 olen = strlen(open), ilen = strlen(inner);
	size_t	 clen = strlen(close), n = 0, i;
	char	*s;

	s = malloc(depth * (olen + clen) + ilen + 1);
	ck_assert_ptr_nonnull(s);
	for (i = 0; i < depth; i++, n += olen)
		memcpy(s + n, open, olen);
	memcpy(s + n, inner, ilen);
	n += ilen;
	for (i = 0; i < depth; i++, n += clen)
		memcpy(s + n, close, clen);
	s[n] = '\0';
	*lenp = n;
	return s;
}

/*
 * Types and structure.
 */

static const struct {
	const char	*text;
	enum json_type	 type;
} types[] = {
	{ "null", JSON_NULL },
	{ "false", JSON_FALSE },
	{ "true", JSON_TRUE },
	{ "0", JSON_NUMBER },
	{ "-12.5e+3", JSON_NUMBER },
	{ "\"text\"", JSON_STRING },
	{ "[]", JSON_ARRAY },
	{ "{}", JSON_OBJECT },
	{ " \t\r\n null \t\r\n", JSON_NULL },
};

START_TEST(every_type_is_parsed)
{
	struct json	*j = parse_ok(types[_i].text);

	ck_assert_int_eq(j->type, types[_i].type);
	ck_assert_ptr_null(j->key);
	ck_assert_ptr_null(j->next);
}
END_TEST

START_TEST(empty_containers_have_no_elements)
{
	struct json	*j;

	j = parse_ok("[ ]");
	ck_assert_uint_eq(j->n, 0);
	ck_assert_ptr_null(j->child);
	j = parse_ok("{\n}");
	ck_assert_uint_eq(j->n, 0);
	ck_assert_ptr_null(j->child);
}
END_TEST

START_TEST(array_keeps_its_elements_in_order)
{
	static const enum json_type want[] = {
		JSON_NUMBER, JSON_STRING, JSON_NULL, JSON_TRUE, JSON_FALSE,
		JSON_ARRAY, JSON_OBJECT,
	};
	struct json	*j, *e;
	size_t		 i = 0;

	j = parse_ok("[1, \"a\", null, true, false, [2, [3]], {\"k\": 4}]");
	ck_assert_int_eq(j->type, JSON_ARRAY);
	ck_assert_uint_eq(j->n, NELEM(want));
	for (e = j->child; e != NULL; e = e->next, i++) {
		ck_assert_uint_lt(i, NELEM(want));
		ck_assert_int_eq(e->type, want[i]);
		ck_assert_ptr_null(e->key);
	}
	ck_assert_uint_eq(i, NELEM(want));

	e = j->child->next->next->next->next->next;
	ck_assert_uint_eq(e->n, 2);
	ck_assert_str_eq(e->child->str, "2");
	ck_assert_uint_eq(e->child->next->n, 1);
	ck_assert_str_eq(e->child->next->child->str, "3");
	ck_assert_uint_eq(e->next->n, 1);
}
END_TEST

START_TEST(object_keeps_its_members_in_order)
{
	static const char *const keys[] = { "zeta", "alpha", "", "mid" };
	struct json	*j, *m;
	size_t		 i = 0;

	j = parse_ok("{\"zeta\": 1, \"alpha\": [], \"\": null, \"mid\": {}}");
	ck_assert_int_eq(j->type, JSON_OBJECT);
	ck_assert_uint_eq(j->n, NELEM(keys));
	for (m = j->child; m != NULL; m = m->next, i++) {
		ck_assert_uint_lt(i, NELEM(keys));
		ck_assert_ptr_nonnull(m->key);
		ck_assert_str_eq(m->key, keys[i]);
	}
	ck_assert_uint_eq(i, NELEM(keys));
}
END_TEST

START_TEST(get_finds_a_member_by_its_whole_name)
{
	const struct json	*j, *m;

	j = parse_ok("{\"ab\": 1, \"a\": \"x\", \"b\": {\"c\": true}}");
	m = json_get(j, "a");
	ck_assert_ptr_nonnull(m);
	ck_assert_int_eq(m->type, JSON_STRING);
	ck_assert_str_eq(m->str, "x");
	m = json_get(j, "ab");
	ck_assert_ptr_nonnull(m);
	ck_assert_str_eq(m->str, "1");
	m = json_get(json_get(j, "b"), "c");
	ck_assert_ptr_nonnull(m);
	ck_assert_int_eq(m->type, JSON_TRUE);
}
END_TEST

START_TEST(get_of_absent_member_is_null)
{
	const struct json	*j;

	j = parse_ok("{\"ab\": 1, \"b\": {\"c\": 2}}");
	ck_assert_ptr_null(json_get(j, "a"));
	ck_assert_ptr_null(json_get(j, "abc"));
	ck_assert_ptr_null(json_get(j, "AB"));
	ck_assert_ptr_null(json_get(j, "c"));
	ck_assert_ptr_null(json_get(j, ""));
	ck_assert_ptr_null(json_get(parse_ok("{}"), "a"));
}
END_TEST

START_TEST(get_of_non_object_is_null)
{
	ck_assert_ptr_null(json_get(NULL, "a"));
	ck_assert_ptr_null(json_get(parse_ok("[\"a\"]"), "a"));
	ck_assert_ptr_null(json_get(parse_ok("\"a\""), "a"));
	ck_assert_ptr_null(json_get(parse_ok("null"), "a"));
}
END_TEST

/*
 * Strings.
 */

struct decoded {
	const char	*text;
	const char	*out;	/* the decoded bytes */
	size_t		 outlen;
	const char	*why;
};

#define D(text, out, why)	{ text, out, sizeof(out) - 1, why }

static const struct decoded strings[] = {
	D("\"\"", "", "empty"),
	D("\"plain\"", "plain", "plain"),
	D("\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"", "\"\\/\b\f\n\r\t",
	    "every short escape"),
	D("\"a\\nb\"", "a\nb", "escape inside"),
	D("\"\\u0041\"", "A", "U+0041"),
	D("\"\\u0001\"", "\x01", "U+0001, an escaped control"),
	D("\"\\u007f\"", "\x7f", "U+007F, last one-byte"),
	D("\"\\u0080\"", "\xc2\x80", "U+0080, first two-byte"),
	D("\"\\u00e9\"", "\xc3\xa9", "U+00E9, lower-case hex"),
	D("\"\\u00E9\"", "\xc3\xa9", "U+00E9, upper-case hex"),
	D("\"\\u07FF\"", "\xdf\xbf", "U+07FF, last two-byte"),
	D("\"\\u0800\"", "\xe0\xa0\x80", "U+0800, first three-byte"),
	D("\"\\u20ac\"", "\xe2\x82\xac", "U+20AC"),
	D("\"\\ud7ff\"", "\xed\x9f\xbf", "U+D7FF, below the surrogates"),
	D("\"\\ue000\"", "\xee\x80\x80", "U+E000, above the surrogates"),
	D("\"\\uFFFF\"", "\xef\xbf\xbf", "U+FFFF, last three-byte"),
	D("\"\\uD800\\uDC00\"", "\xf0\x90\x80\x80", "U+10000, first pair"),
	D("\"\\ud83d\\ude00\"", "\xf0\x9f\x98\x80", "U+1F600, lower case"),
	D("\"\\uDBFF\\uDFFF\"", "\xf4\x8f\xbf\xbf", "U+10FFFF, last pair"),
	D("\"x\\uD83D\\uDE00y\"", "x\xf0\x9f\x98\x80y", "pair inside"),
	D("\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"",
	    "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", "raw UTF-8 is kept"),
	D("\"\x7f\"", "\x7f", "raw DEL is no control character"),
	D("\"a b\"", "a b", "a raw space"),
};

START_TEST(string_is_decoded)
{
	const struct decoded	*t = &strings[_i];
	struct json		*j = parse_ok(t->text);

	ck_assert_int_eq(j->type, JSON_STRING);
	ck_assert_msg(j->len == t->outlen && memcmp(j->str, t->out,
	    t->outlen) == 0, "%s: %zu bytes", t->why, j->len);
	ck_assert_msg(j->str[j->len] == '\0', "%s: no NUL", t->why);
}
END_TEST

START_TEST(member_name_is_decoded)
{
	struct json	*j;

	j = parse_ok("{\"\\u00e9t\\u00E9\": 1, \"a\\tb\": 2}");
	ck_assert_str_eq(j->child->key, "\xc3\xa9t\xc3\xa9");
	ck_assert_str_eq(j->child->next->key, "a\tb");
	ck_assert_ptr_nonnull(json_get(j, "a\tb"));
}
END_TEST

static const struct bytes bad_strings[] = {
	B("\"\\uD800\"", "lone high surrogate"),
	B("\"\\uDBFF\"", "lone last high surrogate"),
	B("\"\\uDC00\"", "lone low surrogate"),
	B("\"\\uDFFF\"", "lone last low surrogate"),
	B("\"\\uDC00\\uD800\"", "pair in the wrong order"),
	B("\"\\uD800x\"", "high surrogate and a letter"),
	B("\"\\uD800\\u0041\"", "high surrogate and U+0041"),
	B("\"\\uD800\\uD800\"", "two high surrogates"),
	B("\"\\uD800\\uE000\"", "high surrogate and U+E000"),
	B("\"\\uD800\\n\"", "high surrogate and another escape"),
	B("\"\\uD800abcdef\"", "high surrogate and text"),
	B("\"\\uD800\\nabcdef\"", "high surrogate, escape and text"),
	B("\"\\uD800\\u\"", "high surrogate and a short escape"),
	B("\"\\uD800\\uDC0G\"", "high surrogate and a bad escape"),
	B("\"\\uD800\\\"", "high surrogate at the end"),
	B("\"\\u12\"", "short \\u escape"),
	B("\"\\u12G4\"", "non-hex in \\u escape"),
	B("\"\\u12g4\"", "lower-case non-hex in \\u escape"),
	B("\"\\u-123\"", "sign in \\u escape"),
	B("\"\\u 123\"", "space in \\u escape"),
	B("\"\\U0041\"", "upper-case \\U"),
	B("\"\\x41\"", "\\x escape"),
	B("\"\\'\"", "escaped single quote"),
	B("\"\\a\"", "\\a escape"),
	B("\"\\0\"", "\\0 escape"),
	B("\"\\\xc3\xa9\"", "escaped non-ASCII"),
	B("\"abc", "unterminated"),
	B("\"abc\\\"", "escaped closing quote"),
	B("\"abc\\", "backslash at the end"),
	B("\"\\u00", "\\u escape cut at the end"),
	B("\"", "a lone quote"),
	B("\"a\tb\"", "raw tab"),
	B("\"a\nb\"", "raw newline"),
	B("\"\x01\"", "raw U+0001"),
	B("\"\x1f\"", "raw U+001F"),
	B("\"a\0b\"", "raw NUL"),
	B("{\"a\tb\": 1}", "raw tab in a member name"),
	B("{\"\\uD800\": 1}", "lone surrogate in a member name"),
};

START_TEST(malformed_string_is_refused)
{
	const struct bytes	*t = &bad_strings[_i];

	assert_refused(t->s, t->n, JSON_ERR_SYNTAX, t->why);
}
END_TEST

static const struct bytes nul_strings[] = {
	B("\"\\u0000\"", "U+0000 alone"),
	B("\"a\\u0000b\"", "U+0000 inside"),
	B("[\"ok\", \"\\u0000\"]", "U+0000 in an array"),
	B("{\"\\u0000\": 1}", "U+0000 in a member name"),
	B("{\"k\": \"a\\u0000\"}", "U+0000 in a member value"),
};

START_TEST(escaped_nul_is_refused)
{
	const struct bytes	*t = &nul_strings[_i];

	assert_refused(t->s, t->n, JSON_ERR_NUL, t->why);
}
END_TEST

static const struct bytes bad_utf8[] = {
	B("\"\xc0\xaf\"", "overlong two-byte slash"),
	B("\"\xc1\xbf\"", "overlong two-byte"),
	B("\"\xe0\x80\xaf\"", "overlong three-byte"),
	B("\"\xf0\x80\x80\xaf\"", "overlong four-byte"),
	B("\"\xc3\"", "two-byte cut"),
	B("\"\xe2\x82\"", "three-byte cut"),
	B("\"\xf0\x9f\x98\"", "four-byte cut"),
	B("\"\xe2\x82", "cut at the end of the text"),
	B("\"\xed\xa0\x80\"", "U+D800 as bytes"),
	B("\"\xed\xbf\xbf\"", "U+DFFF as bytes"),
	B("\"\xed\xa0\xbd\xed\xb8\x80\"", "a surrogate pair as bytes"),
	B("\"\xf4\x90\x80\x80\"", "above U+10FFFF"),
	B("\"\x80\"", "lone continuation"),
	B("\"\xff\"", "byte FF"),
	B("[1]\xc3", "bad byte after the value"),
	B("\xef\xbb", "cut byte order mark"),
	B("{\"\xc3\x28\": 1}", "bad member name"),
};

START_TEST(invalid_utf8_is_refused)
{
	const struct bytes	*t = &bad_utf8[_i];

	assert_refused(t->s, t->n, JSON_ERR_UTF8, t->why);
}
END_TEST

/*
 * Member names.
 */

static const struct bytes duplicates[] = {
	B("{\"a\": 1, \"a\": 2}", "repeated name"),
	B("{\"a\": 1, \"a\": 1}", "repeated member"),
	B("{\"a\": 1, \"b\": 2, \"a\": 3}", "repeated after another"),
	B("{\"\": 1, \"\": 2}", "repeated empty name"),
	B("{\"a\": 1, \"\\u0061\": 2}", "repeated through an escape"),
	B("{\"\xc3\xa9\": 1, \"\\u00e9\": 2}", "repeated as raw and escaped"),
	B("{\"x\": {\"a\": 1, \"a\": 2}}", "repeated in a nested object"),
	B("[{\"a\": 1, \"a\": 2}]", "repeated in an array's object"),
	B("{\"a\": [1, {\"b\": {}, \"b\": []}]}", "repeated deep inside"),
};

START_TEST(duplicate_member_is_refused)
{
	const struct bytes	*t = &duplicates[_i];

	assert_refused(t->s, t->n, JSON_ERR_DUPLICATE, t->why);
}
END_TEST

START_TEST(similar_member_names_are_distinct)
{
	struct json	*j;

	j = parse_ok("{\"a\": 1, \"A\": 2, \"ab\": 3, \"a \": 4, \"\": 5}");
	ck_assert_uint_eq(j->n, 5);
	j = parse_ok("{\"x\":{\"a\":1},\"y\":{\"a\":1},\"a\":[{\"a\":1}]}");
	ck_assert_uint_eq(j->n, 3);
}
END_TEST

/*
 * An object of n members named "k0", "k1", ..., except that member
 * again (when not -1) is named as member 0 is.  The caller frees it.
 */
static char *
wide_object(size_t n, long again, size_t *lenp)
{
	char	*s;
	size_t	 i, cap = 32 + n * 24, len = 0;

	s = malloc(cap);
	ck_assert_ptr_nonnull(s);
	s[len++] = '{';
	for (i = 0; i < n; i++)
		len += (size_t)snprintf(s + len, cap - len, "%s\"k%zu\": %zu",
		    i > 0 ? ", " : "", (long)i == again ? (size_t)0 : i, i);
	s[len++] = '}';
	s[len] = '\0';
	*lenp = len;
	return s;
}

START_TEST(repeated_name_past_the_first_members_is_refused)
{
	static const long	 where[] = { 16, 17, 100, 9999 };
	size_t			 len, i;
	char			*s;

	for (i = 0; i < NELEM(where); i++) {
		s = wide_object(10000, where[i], &len);
		assert_refused(s, len, JSON_ERR_DUPLICATE, "a late repeat");
		free(s);
	}
}
END_TEST

/*
 * As many members as the limit on values allows (the object is one of
 * them): read in moments.  Comparing each name with every one before it
 * would take hours, far beyond the test's time limit.
 */
START_TEST(object_of_the_most_members_allowed_is_read)
{
	struct json	*j;
	enum json_error	 err = JSON_ERR_NOMEM;
	size_t		 len;
	char		*s;

	s = wide_object(JSON_MAX_VALUES - 1, -1, &len);
	j = json_parse(arena, s, len, &err);
	ck_assert_msg(j != NULL, "refused: %s", json_error_name(err));
	ck_assert_uint_eq(j->n, JSON_MAX_VALUES - 1);
	ck_assert_ptr_nonnull(json_get(j, "k999998"));
	free(s);
}
END_TEST

/* An array of n - 1 zeros: n values with the array itself. */
static char *
zeros(size_t n, size_t *lenp)
{
	char	*s;
	size_t	 i, len = 0;

	s = malloc(2 * n + 2);
	ck_assert_ptr_nonnull(s);
	s[len++] = '[';
	for (i = 1; i < n; i++) {
		if (i > 1)
			s[len++] = ',';
		s[len++] = '0';
	}
	s[len++] = ']';
	*lenp = len;
	return s;
}

START_TEST(values_up_to_the_limit_are_read)
{
	struct json	*j;
	enum json_error	 err = JSON_ERR_NOMEM;
	size_t		 len;
	char		*s;

	s = zeros(JSON_MAX_VALUES, &len);
	j = json_parse(arena, s, len, &err);
	ck_assert_msg(j != NULL, "refused: %s", json_error_name(err));
	ck_assert_uint_eq(j->n, JSON_MAX_VALUES - 1);
	free(s);
}
END_TEST

START_TEST(values_past_the_limit_are_refused)
{
	size_t	 len;
	char	*s;

	s = zeros(JSON_MAX_VALUES + 1, &len);
	assert_refused(s, len, JSON_ERR_TOO_MANY, "one value too many");
	free(s);
	s = zeros(12 * 1024 * 1024, &len);
	assert_refused(s, len, JSON_ERR_TOO_MANY, "25 MiB of zeros");
	free(s);
}
END_TEST

/*
 * Depth.
 */

static const struct {
	const char	*open;
	const char	*inner;
	const char	*close;
	size_t		 per;	/* containers opened by one open */
	size_t		 ininner; /* containers in inner */
} shapes[] = {
	{ "[", "", "]", 1, 0 },
	{ "[", "1", "]", 1, 0 },
	{ "{\"a\":", "{}", "}", 1, 1 },
	{ "{\"a\":", "null", "}", 1, 0 },
	{ "[{\"a\":", "[[]]", "}]", 2, 2 },
	{ "{\"a\":[", "{\"b\":[]}", "]}", 2, 2 },
};

/* Shape i nested exactly JSON_MAX_DEPTH deep. */
static char *
nest_to_max(size_t i, size_t *lenp)
{
	size_t	 depth;

	depth = (JSON_MAX_DEPTH - shapes[i].ininner) / shapes[i].per;
	ck_assert_uint_eq(depth * shapes[i].per + shapes[i].ininner,
	    JSON_MAX_DEPTH);
	return nest(shapes[i].open, shapes[i].inner, shapes[i].close, depth,
	    lenp);
}

START_TEST(nesting_to_max_depth_is_accepted)
{
	const struct json	*j;
	size_t			 len, d;
	char			*s;

	s = nest_to_max((size_t)_i, &len);
	j = parse_ok(s);
	for (d = 1; d < JSON_MAX_DEPTH; d++) {
		ck_assert_msg(j->type == JSON_ARRAY || j->type == JSON_OBJECT,
		    "level %zu of %s", d, s);
		ck_assert_uint_eq(j->n, 1);
		j = j->child;
	}
	ck_assert_msg(j->type == JSON_ARRAY || j->type == JSON_OBJECT,
	    "innermost of %s", s);
	free(s);
}
END_TEST

START_TEST(nesting_one_past_max_depth_is_refused)
{
	size_t	 len;
	char	*s, *t;

	s = nest_to_max((size_t)_i, &len);
	t = nest("[", s, "]", 1, &len);
	assert_refused(t, len, JSON_ERR_DEPTH, t);
	free(t);
	t = nest("{\"k\": ", s, "}", 1, &len);
	assert_refused(t, len, JSON_ERR_DEPTH, t);
	free(t);
	free(s);
}
END_TEST

START_TEST(hostile_nesting_is_refused_without_crash)
{
	size_t	 len;
	char	*s;

	s = nest("[", "", "]", 100000, &len);
	assert_refused(s, len, JSON_ERR_DEPTH, "100000 arrays");
	assert_refused(s, 100000, JSON_ERR_DEPTH, "100000 unclosed arrays");
	free(s);
	s = nest("{\"a\":", "1", "}", 100000, &len);
	assert_refused(s, len, JSON_ERR_DEPTH, "100000 objects");
	free(s);
}
END_TEST

/*
 * Syntax.
 */

static const struct bytes syntax_errors[] = {
	B("", "empty input"),
	B(" \t\r\n", "only white space"),
	B("\0", "a NUL byte"),
	B("null\0", "a NUL byte after the value"),
	B("1 2", "two values"),
	B("[1] x", "garbage after an array"),
	B("{}{}", "two objects"),
	B("\"a\"\"b\"", "two strings"),
	B("truex", "garbage after a literal"),
	B("[1,]", "trailing comma in an array"),
	B("{\"a\": 1,}", "trailing comma in an object"),
	B("[,1]", "leading comma in an array"),
	B("[1,,2]", "double comma"),
	B("{,}", "comma alone in an object"),
	B("[1 2]", "missing comma in an array"),
	B("{\"a\": 1 \"b\": 2}", "missing comma in an object"),
	B("{\"a\" 1}", "missing colon"),
	B("{\"a\":}", "missing member value"),
	B("{\"a\"}", "member without value"),
	B("{a: 1}", "bare member name"),
	B("{1: 1}", "number as member name"),
	B("{'a': 1}", "single-quoted member name"),
	B("'a'", "single-quoted string"),
	B("[", "unclosed array"),
	B("[1", "unclosed array after a value"),
	B("{", "unclosed object"),
	B("{\"a\"", "unclosed object after a name"),
	B("{\"a\": 1", "unclosed object after a value"),
	B("]", "lone bracket"),
	B("}", "lone brace"),
	B("[}", "mismatched close"),
	B("01", "leading zero"),
	B("-01", "negative leading zero"),
	B("00", "two zeros"),
	B("[01]", "leading zero in an array"),
	B("-", "a minus alone"),
	B("[-]", "a minus alone in an array"),
	B("--1", "two minus signs"),
	B("+1", "a plus sign"),
	B("1.", "no digit after the point"),
	B("1.e5", "no digit between point and exponent"),
	B(".5", "no digit before the point"),
	B("1e", "no exponent digit"),
	B("1e+", "no exponent digit after a sign"),
	B("1E-", "no exponent digit after a minus"),
	B("1e5.0", "fraction after the exponent"),
	B("0x10", "hexadecimal"),
	B("1_000", "digit separator"),
	B("NaN", "NaN"),
	B("Infinity", "Infinity"),
	B("-Infinity", "minus Infinity"),
	B("tru", "cut true"),
	B("trux", "misspelt true"),
	B("nulL", "misspelt null"),
	B("nul", "cut null"),
	B("fals", "cut false"),
	B("True", "capital True"),
	B("NULL", "capital NULL"),
	B("undefined", "undefined"),
	B("\xef\xbb\xbf{}", "byte order mark"),
	B("\f1", "form feed is no JSON white space"),
	B("\v1", "vertical tab is no JSON white space"),
	B("\xc2\xa0" "1", "U+00A0 is no JSON white space"),
	B("/* */ 1", "comment"),
	B("[1] // x", "line comment"),
};

START_TEST(malformed_text_is_a_syntax_error)
{
	const struct bytes	*t = &syntax_errors[_i];

	assert_refused(t->s, t->n, JSON_ERR_SYNTAX, t->why);
}
END_TEST

START_TEST(only_n_bytes_are_parsed)
{
	struct json	*j;
	enum json_error	 err = JSON_ERR_NOMEM;

	j = json_parse(arena, "[1] trailing", 3, &err);
	ck_assert_ptr_nonnull(j);
	ck_assert_int_eq(err, JSON_OK);
	ck_assert_uint_eq(j->n, 1);
	assert_refused("[1]", 2, JSON_ERR_SYNTAX, "cut before the bracket");
	assert_refused("\"ab\"", 3, JSON_ERR_SYNTAX, "cut before the quote");
	assert_refused("true", 3, JSON_ERR_SYNTAX, "cut literal");
	assert_refused("1.5", 2, JSON_ERR_SYNTAX, "cut after the point");
}
END_TEST

/*
 * Numbers.
 */

static const char *const numbers[] = {
	"0", "-0", "1", "-1", "10", "1234567890", "0.5", "-0.0", "1.25",
	"1e5", "1E5", "1e+5", "1e-5", "1.5e10", "-1.5E-10", "0e0", "1e007",
	"123456789012345678901234567890",
};

START_TEST(number_keeps_its_text)
{
	struct json	*j;
	char		 text[64];

	j = parse_ok(numbers[_i]);
	ck_assert_int_eq(j->type, JSON_NUMBER);
	ck_assert_str_eq(j->str, numbers[_i]);
	ck_assert_uint_eq(j->len, strlen(numbers[_i]));

	(void)snprintf(text, sizeof(text), "[%s,%s]", numbers[_i],
	    numbers[_i]);
	j = parse_ok(text);
	ck_assert_str_eq(j->child->str, numbers[_i]);
	ck_assert_str_eq(j->child->next->str, numbers[_i]);
}
END_TEST

static const struct {
	const char	*text;
	int64_t		 min;
	int64_t		 max;
	int		 ok;
	int64_t		 want;
} ints[] = {
	{ "42", 0, 100, 1, 42 },
	{ "0", 0, 100, 1, 0 },
	{ "-0", 0, 100, 1, 0 },
	{ "-5", -10, 10, 1, -5 },
	{ "1", 1, 2147483647, 1, 1 },
	{ "2147483647", 1, 2147483647, 1, 2147483647 },
	{ "0", 1, 2147483647, 0, 0 },
	{ "2147483648", 1, 2147483647, 0, 0 },
	{ "-11", -10, 10, 0, 0 },
	{ "11", -10, 10, 0, 0 },
	{ "9223372036854775807", INT64_MIN, INT64_MAX, 1, INT64_MAX },
	{ "-9223372036854775808", INT64_MIN, INT64_MAX, 1, INT64_MIN },
	{ "9223372036854775808", INT64_MIN, INT64_MAX, 0, 0 },
	{ "-9223372036854775809", INT64_MIN, INT64_MAX, 0, 0 },
	{ "123456789012345678901234567890", INT64_MIN, INT64_MAX, 0, 0 },
	{ "1.0", 0, 100, 0, 0 },
	{ "1.5", 0, 100, 0, 0 },
	{ "1e2", 0, 1000, 0, 0 },
	{ "1E2", 0, 1000, 0, 0 },
	{ "1e-0", 0, 100, 0, 0 },
	{ "\"1\"", 0, 100, 0, 0 },
	{ "true", 0, 100, 0, 0 },
	{ "null", 0, 100, 0, 0 },
	{ "[1]", 0, 100, 0, 0 },
};

START_TEST(json_int_converts_only_integers_in_range)
{
	int64_t	 v = 7777;
	int	 rc;

	rc = json_int(parse_ok(ints[_i].text), ints[_i].min, ints[_i].max,
	    &v);
	if (ints[_i].ok) {
		ck_assert_msg(rc == 0, "%s refused", ints[_i].text);
		ck_assert_int_eq(v, ints[_i].want);
	} else {
		ck_assert_msg(rc == -1, "%s accepted", ints[_i].text);
		ck_assert_int_eq(v, 7777);
	}
}
END_TEST

START_TEST(json_int_of_null_is_refused)
{
	int64_t	 v = 7777;

	ck_assert_int_eq(json_int(NULL, INT64_MIN, INT64_MAX, &v), -1);
	ck_assert_int_eq(v, 7777);
}
END_TEST

/*
 * Error names.
 */

static const struct {
	enum json_error	 err;
	const char	*name;
} error_names[] = {
	{ JSON_OK, "ok" },
	{ JSON_ERR_SYNTAX, "syntax" },
	{ JSON_ERR_UTF8, "utf8" },
	{ JSON_ERR_NUL, "nul" },
	{ JSON_ERR_DUPLICATE, "duplicate_key" },
	{ JSON_ERR_DEPTH, "too_deep" },
	{ JSON_ERR_NOMEM, "nomem" },
	{ JSON_ERR_TOO_MANY, "too_many_values" },
};

START_TEST(every_error_has_its_own_name)
{
	size_t	 i, k;

	for (i = 0; i < NELEM(error_names); i++) {
		ck_assert_str_eq(json_error_name(error_names[i].err),
		    error_names[i].name);
		for (k = 0; k < i; k++)
			ck_assert_str_ne(json_error_name(error_names[i].err),
			    json_error_name(error_names[k].err));
	}
}
END_TEST

START_TEST(unknown_error_still_has_a_name)
{
	ck_assert_str_eq(json_error_name((enum json_error)(JSON_ERR_TOO_MANY +
	    1)), "unknown");
	ck_assert_str_eq(json_error_name((enum json_error)-1), "unknown");
}
END_TEST

static Suite *
json_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("json");

	tc = tcase_create("structure");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, every_type_is_parsed, 0, NELEM(types));
	tcase_add_test(tc, empty_containers_have_no_elements);
	tcase_add_test(tc, array_keeps_its_elements_in_order);
	tcase_add_test(tc, object_keeps_its_members_in_order);
	tcase_add_test(tc, get_finds_a_member_by_its_whole_name);
	tcase_add_test(tc, get_of_absent_member_is_null);
	tcase_add_test(tc, get_of_non_object_is_null);
	suite_add_tcase(s, tc);

	tc = tcase_create("string");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, string_is_decoded, 0, NELEM(strings));
	tcase_add_test(tc, member_name_is_decoded);
	tcase_add_loop_test(tc, malformed_string_is_refused, 0,
	    NELEM(bad_strings));
	tcase_add_loop_test(tc, escaped_nul_is_refused, 0,
	    NELEM(nul_strings));
	tcase_add_loop_test(tc, invalid_utf8_is_refused, 0, NELEM(bad_utf8));
	suite_add_tcase(s, tc);

	tc = tcase_create("member");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, duplicate_member_is_refused, 0,
	    NELEM(duplicates));
	tcase_add_test(tc, similar_member_names_are_distinct);
	tcase_add_test(tc, repeated_name_past_the_first_members_is_refused);
	tcase_add_test(tc, object_of_the_most_members_allowed_is_read);
	tcase_add_test(tc, values_up_to_the_limit_are_read);
	tcase_add_test(tc, values_past_the_limit_are_refused);
	suite_add_tcase(s, tc);

	tc = tcase_create("depth");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, nesting_to_max_depth_is_accepted, 0,
	    NELEM(shapes));
	tcase_add_loop_test(tc, nesting_one_past_max_depth_is_refused, 0,
	    NELEM(shapes));
	tcase_add_test(tc, hostile_nesting_is_refused_without_crash);
	suite_add_tcase(s, tc);

	tc = tcase_create("syntax");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, malformed_text_is_a_syntax_error, 0,
	    NELEM(syntax_errors));
	tcase_add_test(tc, only_n_bytes_are_parsed);
	suite_add_tcase(s, tc);

	tc = tcase_create("number");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, number_keeps_its_text, 0, NELEM(numbers));
	tcase_add_loop_test(tc, json_int_converts_only_integers_in_range, 0,
	    NELEM(ints));
	tcase_add_test(tc, json_int_of_null_is_refused);
	suite_add_tcase(s, tc);

	tc = tcase_create("error");
	tcase_add_test(tc, every_error_has_its_own_name);
	tcase_add_test(tc, unknown_error_still_has_a_name);
	suite_add_tcase(s, tc);

	return s;
}

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	sr = srunner_create(json_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
