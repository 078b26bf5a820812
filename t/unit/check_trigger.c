/*
 * check_trigger.c: finding the command in a comment, and the allowed
 * author associations.
 */
#include <config.h>

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "domain/arena.h"
#include "domain/run.h"
#include "domain/trigger.h"

#define CMD	"/gittinkerer"

static struct arena	*arena;

static void
setup(void)
{
	ck_assert_ptr_nonnull(arena = arena_new());
}

static void
teardown(void)
{
	arena_free(arena);
}

/* A comment, what it must parse to, and why. */
struct example {
	const char		*body;
	enum trigger_kind	 kind;
	const char		*instruction;	/* TRIGGER_RUN only */
	const char		*why;
};

static const struct example examples[] = {
	{ "/gittinkerer Fix the parser", TRIGGER_RUN, "Fix the parser",
	    "one line" },
	{ "   /gittinkerer Fix it", TRIGGER_RUN, "Fix it", "leading spaces" },
	{ "\t/gittinkerer\tFix it", TRIGGER_RUN, "Fix it", "tabs" },
	{ "/gittinkerer Fix it\n\nIt breaks on leap years.\n", TRIGGER_RUN,
	    "Fix it\n\nIt breaks on leap years.", "several lines" },
	{ "/gittinkerer Fix it\r\n\r\nOn leap years.\r\n", TRIGGER_RUN,
	    "Fix it\n\nOn leap years.", "CRLF becomes LF" },
	{ "Thanks!\n/gittinkerer Fix it\nplease", TRIGGER_RUN,
	    "Fix it\nplease", "trigger on a later line" },
	{ "Hi\r\n/gittinkerer Fix it", TRIGGER_RUN, "Fix it",
	    "trigger after a CRLF line" },
	{ "/gittinkerer\nFix it on the next line", TRIGGER_RUN,
	    "Fix it on the next line", "instruction below the command" },
	{ "/gittinkerer one\n/gittinkerer two", TRIGGER_RUN,
	    "one\n/gittinkerer two", "the first trigger line counts" },
	{ "/gittinkerer \xe2\x80\x83" "Fix it\xc2\xa0", TRIGGER_RUN, "Fix it",
	    "Unicode spaces trimmed" },
	{ "/gittinkerer", TRIGGER_EMPTY, NULL, "command alone" },
	{ "/gittinkerer   \r\n  \n\t", TRIGGER_EMPTY, NULL,
	    "command and white space" },
	{ "/gittinkerer cancel", TRIGGER_CANCEL, NULL, "cancel" },
	{ "/gittinkerer CANCEL\n", TRIGGER_CANCEL, NULL, "cancel in capitals" },
	{ "/gittinkerer cancel it", TRIGGER_RUN, "cancel it",
	    "cancel and more is an instruction" },
	{ "", TRIGGER_NONE, NULL, "empty comment" },
	{ "Looks good to me", TRIGGER_NONE, NULL, "no command" },
	{ "Please /gittinkerer fix it", TRIGGER_NONE, NULL,
	    "command not the first word" },
	{ "> /gittinkerer fix it", TRIGGER_NONE, NULL, "quoted command" },
	{ "/gittinkerers fix it", TRIGGER_NONE, NULL, "longer word" },
	{ "/gittinkerer: fix it", TRIGGER_NONE, NULL, "punctuation" },
	{ "/GitTinkerer fix it", TRIGGER_NONE, NULL, "other case" },
	{ "/other fix it", TRIGGER_NONE, NULL, "other command" },
	{ "`/gittinkerer fix it`", TRIGGER_NONE, NULL, "in code" },
};

START_TEST(comments_parse_as_documented)
{
	const struct example	*ex = &examples[_i];
	enum trigger_kind	 kind;
	const char		*instruction;

	ck_assert_int_eq(trigger_parse(arena, ex->body, strlen(ex->body), CMD,
	    &kind, &instruction), 0);
	ck_assert_msg(kind == ex->kind, "%s: kind %d, want %d", ex->why,
	    kind, ex->kind);
	if (ex->instruction == NULL)
		ck_assert_ptr_null(instruction);
	else
		ck_assert_msg(instruction != NULL &&
		    strcmp(instruction, ex->instruction) == 0,
		    "%s: instruction '%s'", ex->why,
		    instruction == NULL ? "(null)" : instruction);
}
END_TEST

/* A trigger line followed by n copies of c. */
static char *
trigger_with(size_t n, const char *c)
{
	size_t	 clen = strlen(c), i;
	char	*s, *p;

	ck_assert_ptr_nonnull(s = malloc(sizeof(CMD) + 1 + n * clen));
	memcpy(s, CMD " ", sizeof(CMD));
	p = s + sizeof(CMD);
	for (i = 0; i < n; i++, p += clen)
		memcpy(p, c, clen);
	*p = '\0';
	return s;
}

START_TEST(instruction_is_counted_in_code_points)
{
	enum trigger_kind	 kind;
	const char		*instruction;
	char			*body;

	/* 4000 two-byte characters fit; one more does not. */
	body = trigger_with(INSTRUCTION_MAX, "\xc3\xa9");
	ck_assert_int_eq(trigger_parse(arena, body, strlen(body), CMD, &kind,
	    &instruction), 0);
	ck_assert_int_eq(kind, TRIGGER_RUN);
	ck_assert_uint_eq(strlen(instruction), 2 * INSTRUCTION_MAX);
	free(body);

	body = trigger_with(INSTRUCTION_MAX + 1, "a");
	ck_assert_int_eq(trigger_parse(arena, body, strlen(body), CMD, &kind,
	    &instruction), 0);
	ck_assert_int_eq(kind, TRIGGER_TOO_LONG);
	ck_assert_ptr_null(instruction);
	free(body);
}
END_TEST

START_TEST(body_is_read_to_its_length_only)
{
	enum trigger_kind	 kind;
	const char		*instruction;
	const char		 body[] = "/gittinkerer Fix it\nand more";

	ck_assert_int_eq(trigger_parse(arena, body, strlen("/gittinkerer Fix"),
	    CMD, &kind, &instruction), 0);
	ck_assert_int_eq(kind, TRIGGER_RUN);
	ck_assert_str_eq(instruction, "Fix");
}
END_TEST

START_TEST(configured_command_is_used)
{
	enum trigger_kind	 kind;
	const char		*instruction;
	const char		*body = "/gittinkerer a\n@bot do it";

	ck_assert_int_eq(trigger_parse(arena, body, strlen(body), "@bot",
	    &kind, &instruction), 0);
	ck_assert_int_eq(kind, TRIGGER_RUN);
	ck_assert_str_eq(instruction, "do it");
}
END_TEST

START_TEST(unusable_command_matches_nothing)
{
	static const char *const commands[] = { "", "/a b", NULL };
	enum trigger_kind	 kind;
	const char		*instruction;
	const char		*body = "/a b c\n\n c";
	size_t			 i;

	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		ck_assert_int_eq(trigger_parse(arena, body, strlen(body),
		    commands[i], &kind, &instruction), 0);
		ck_assert_int_eq(kind, TRIGGER_NONE);
	}
}
END_TEST

START_TEST(allowed_associations_compare_exactly)
{
	static char	 owner[] = "OWNER", member[] = "MEMBER",
			 collaborator[] = "COLLABORATOR";
	char		*allowed[] = { owner, member, collaborator };

	ck_assert(association_allowed("OWNER", allowed, 3));
	ck_assert(association_allowed("COLLABORATOR", allowed, 3));
	ck_assert(!association_allowed("owner", allowed, 3));
	ck_assert(!association_allowed("CONTRIBUTOR", allowed, 3));
	ck_assert(!association_allowed("NONE", allowed, 3));
	ck_assert(!association_allowed("", allowed, 3));
	ck_assert(!association_allowed(NULL, allowed, 3));
	ck_assert(!association_allowed("OWNER", allowed, 0));
}
END_TEST

static Suite *
trigger_suite(void)
{
	Suite	*s = suite_create("trigger");
	TCase	*tc = tcase_create("parse");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, comments_parse_as_documented, 0,
	    sizeof(examples) / sizeof(examples[0]));
	tcase_add_test(tc, instruction_is_counted_in_code_points);
	tcase_add_test(tc, body_is_read_to_its_length_only);
	tcase_add_test(tc, configured_command_is_used);
	tcase_add_test(tc, unusable_command_matches_nothing);
	tcase_add_test(tc, allowed_associations_compare_exactly);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	sr = srunner_create(trigger_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
