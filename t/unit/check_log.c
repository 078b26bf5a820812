/*
 * check_log.c: the value escaper and the shape of event lines.
 *
 * log_event() writes to fd 2, so each case that reads a line points fd 2 at
 * an unlinked temporary file for the call and reads the file back.  Check
 * reports results through its own descriptor, not fd 2.
 */
#include <config.h>

#include <check.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "infra/clock.h"
#include "infra/log.h"

#define LINE_MAX_SEEN	8192

static int	 saved_stderr = -1;
static int	 capture_fd = -1;
static char	 out[LINE_MAX_SEEN];

static void
capture_begin(void)
{
	char	 path[] = "/tmp/gt-log.XXXXXX";

	capture_fd = mkstemp(path);
	ck_assert_int_ne(capture_fd, -1);
	(void)unlink(path);
	saved_stderr = dup(STDERR_FILENO);
	ck_assert_int_ne(saved_stderr, -1);
	ck_assert_int_eq(dup2(capture_fd, STDERR_FILENO), STDERR_FILENO);
}

/* Puts fd 2 back and returns what was written to it, in out. */
static const char *
capture_end(void)
{
	ssize_t	 n;

	(void)dup2(saved_stderr, STDERR_FILENO);
	close(saved_stderr);
	ck_assert_int_eq(lseek(capture_fd, 0, SEEK_SET), 0);
	n = read(capture_fd, out, sizeof(out) - 1);
	close(capture_fd);
	ck_assert_int_ge(n, 0);
	out[n] = '\0';
	return out;
}

/*
 * Checks that line starts with a well-formed ts= field and returns what
 * follows it.
 */
static const char *
after_timestamp(const char *line)
{
	static const char	 shape[] = "dddd-dd-ddTdd:dd:dd.dddZ";
	size_t			 i;

	ck_assert_msg(strncmp(line, "ts=", 3) == 0, "%s", line);
	line += 3;
	for (i = 0; i < sizeof(shape) - 1; i++) {
		if (shape[i] == 'd')
			ck_assert_msg(isdigit((unsigned char)line[i]), "%s",
			    line);
		else
			ck_assert_msg(line[i] == shape[i], "%s", line);
	}
	return line + sizeof(shape) - 1;
}

static void
setup(void)
{
	log_set_level(LOG_INFO);
	log_set_request_id(NULL);
	log_set_program(NULL);
}

struct escape_case {
	const char	*in;
	size_t		 n;
	const char	*want;
};

#define E(lit, want)	{ lit, sizeof(lit) - 1, want }

static const struct escape_case escapes[] = {
	E("plain", "plain"),
	E("a-b_c.d/e:f,g", "a-b_c.d/e:f,g"),
	E("", "\"\""),
	E("a b", "\"a b\""),
	E("a\"b", "\"a\\\"b\""),
	E("k=v", "\"k=v\""),
	E("a\\b", "\"a\\\\b\""),
	E("line\nnext", "\"line\\x0anext\""),
	E("\r\t", "\"\\x0d\\x09\""),
	E("a\0b", "\"a\\x00b\""),
	E("del\x7f", "\"del\\x7f\""),
	E("caf\xc3\xa9", "\"caf\\xc3\\xa9\""),
	E("\xff", "\"\\xff\""),
};

START_TEST(value_is_escaped_as_documented)
{
	const struct escape_case	*t = &escapes[_i];
	char				 buf[256];
	size_t				 len;

	len = log_escape(buf, sizeof(buf), t->in, t->n);
	ck_assert_str_eq(buf, t->want);
	ck_assert_uint_eq(len, strlen(t->want));
}
END_TEST

/* Whether pos in the escaped text full falls between two escapes. */
static int
at_escape_boundary(const char *full, size_t pos)
{
	size_t	 i = full[0] == '"' ? 1 : 0;

	while (i < pos) {
		if (full[i] == '\\')
			i += full[i + 1] == 'x' ? 4 : 2;
		else
			i++;
	}
	return i == pos;
}

/*
 * Cut to any size, the output is terminated, never splits an escape and
 * keeps its quotes balanced.
 */
START_TEST(cut_value_stays_well_formed)
{
	static const char	 in[] =
	    "say \"hi\"\n\\ to \xc3\xa9 all; say \"bye\"\t\\ to \x7f too";
	char			 full[256], buf[64];
	size_t			 fulllen, len, size;

	fulllen = log_escape(full, sizeof(full), in, sizeof(in) - 1);
	ck_assert_uint_gt(fulllen, sizeof(buf));

	for (size = 1; size < sizeof(buf); size++) {
		memset(buf, '#', sizeof(buf));
		len = log_escape(buf, size, in, sizeof(in) - 1);
		ck_assert_uint_lt(len, size);
		ck_assert_uint_eq(strlen(buf), len);
		ck_assert_int_eq(buf[size], '#');
		if (len == 0)
			continue;
		ck_assert_msg(len >= 2 && buf[0] == '"' && buf[len - 1] == '"',
		    "size %zu gave %s", size, buf);
		ck_assert_msg(strncmp(buf, full, len - 1) == 0,
		    "size %zu gave %s", size, buf);
		ck_assert_msg(at_escape_boundary(full, len - 1),
		    "size %zu split an escape: %s", size, buf);
	}
}
END_TEST

START_TEST(cut_plain_value_is_a_prefix)
{
	char	 buf[10];
	size_t	 len;

	len = log_escape(buf, sizeof(buf), "abcdefghijklmnop", 16);
	ck_assert_uint_lt(len, sizeof(buf));
	ck_assert_uint_gt(len, 0);
	ck_assert_int_eq(strncmp(buf, "abcdefghijklmnop", len), 0);
	ck_assert_uint_eq(strlen(buf), len);
}
END_TEST

START_TEST(zero_sized_output_is_left_alone)
{
	char	 buf[4] = "xyz";

	ck_assert_uint_eq(log_escape(buf, 0, "a b", 3), 0);
	ck_assert_str_eq(buf, "xyz");
}
END_TEST

START_TEST(info_is_the_level_until_set)
{
	const char	*line;

	capture_begin();
	log_event(LOG_DEBUG, "hidden", NULL);
	log_event(LOG_INFO, "shown", NULL);
	line = capture_end();
	ck_assert_str_eq(after_timestamp(line), " level=info event=shown\n");
}
END_TEST

START_TEST(line_has_timestamp_level_and_event)
{
	char		 before[CLOCK_RFC3339_LEN];
	char		 after[CLOCK_RFC3339_LEN];
	const char	*line;

	clock_format_rfc3339(clock_now_ms(), before, sizeof(before));
	capture_begin();
	log_event(LOG_ERROR, "started", NULL);
	line = capture_end();
	clock_format_rfc3339(clock_now_ms(), after, sizeof(after));
	ck_assert_str_eq(after_timestamp(line), " level=error event=started\n");

	/* RFC 3339 stamps of one length sort as the times they stand for. */
	ck_assert_msg(strncmp(line + 3, before, 24) >= 0, "%s before %s", line,
	    before);
	ck_assert_msg(strncmp(line + 3, after, 24) <= 0, "%s after %s", line,
	    after);
}
END_TEST

START_TEST(pairs_follow_in_order_and_are_escaped)
{
	const char	*line;

	capture_begin();
	log_event(LOG_WARN, "request", "status", "200", "path", "/a b",
	    "note", "x=1", NULL);
	line = capture_end();
	ck_assert_str_eq(after_timestamp(line),
	    " level=warn event=request status=200 path=\"/a b\" "
	    "note=\"x=1\"\n");
}
END_TEST

START_TEST(null_value_is_a_dash)
{
	const char	*line;

	capture_begin();
	log_event(LOG_INFO, "run", "repo", NULL, "n", "1", NULL);
	line = capture_end();
	ck_assert_str_eq(after_timestamp(line),
	    " level=info event=run repo=- n=1\n");
}
END_TEST

START_TEST(event_name_is_escaped)
{
	const char	*line;

	capture_begin();
	log_event(LOG_INFO, "two words", NULL);
	line = capture_end();
	ck_assert_str_eq(after_timestamp(line),
	    " level=info event=\"two words\"\n");
}
END_TEST

START_TEST(request_id_follows_the_event)
{
	const char	*line;

	log_set_request_id("ab12");
	capture_begin();
	log_event(LOG_INFO, "request", "status", "204", NULL);
	line = capture_end();
	ck_assert_str_eq(after_timestamp(line),
	    " level=info event=request req=ab12 status=204\n");

	log_set_request_id(NULL);
	capture_begin();
	log_event(LOG_INFO, "idle", NULL);
	line = capture_end();
	ck_assert_str_eq(after_timestamp(line), " level=info event=idle\n");
}
END_TEST

START_TEST(request_id_is_kept_to_64_bytes)
{
	static const char	 head[] = " level=info event=e req=";
	char			 id[101], want[sizeof(head) + 64 + 1];
	const char		*line;

	memset(id, 'r', sizeof(id) - 1);
	id[sizeof(id) - 1] = '\0';
	log_set_request_id(id);
	memset(id, 'X', sizeof(id) - 1);	/* the logger keeps a copy */

	memcpy(want, head, sizeof(head) - 1);
	memset(want + sizeof(head) - 1, 'r', 64);
	memcpy(want + sizeof(head) - 1 + 64, "\n", 2);
	capture_begin();
	log_event(LOG_INFO, "e", NULL);
	line = capture_end();
	ck_assert_str_eq(after_timestamp(line), want);
}
END_TEST

START_TEST(program_is_named_when_set)
{
	const char	*line;

	log_set_program("pool");
	log_set_request_id("r1");
	capture_begin();
	log_event(LOG_INFO, "start", "k", "v", NULL);
	line = capture_end();
	ck_assert_str_eq(after_timestamp(line),
	    " level=info prog=pool event=start req=r1 k=v\n");

	log_set_program(NULL);
	log_set_request_id(NULL);
	capture_begin();
	log_event(LOG_INFO, "start", NULL);
	line = capture_end();
	ck_assert_str_eq(after_timestamp(line), " level=info event=start\n");
}
END_TEST

START_TEST(lines_below_the_level_are_dropped)
{
	const char	*line, *second;

	log_set_level(LOG_WARN);
	capture_begin();
	log_event(LOG_DEBUG, "d", NULL);
	log_event(LOG_INFO, "i", NULL);
	log_event(LOG_WARN, "w", NULL);
	log_event(LOG_ERROR, "e", NULL);
	line = capture_end();
	second = strchr(line, '\n');
	ck_assert_ptr_nonnull(second);
	second++;
	ck_assert_int_eq(strncmp(after_timestamp(line), " level=warn event=w\n",
	    20), 0);
	ck_assert_str_eq(after_timestamp(second), " level=error event=e\n");

	log_set_level(LOG_DEBUG);
	capture_begin();
	log_event(LOG_DEBUG, "d", NULL);
	line = capture_end();
	ck_assert_str_eq(after_timestamp(line), " level=debug event=d\n");
}
END_TEST

START_TEST(untrusted_value_cannot_forge_a_line)
{
	const char	*line;

	capture_begin();
	log_event(LOG_INFO, "hook", "body", "x\nts=0 level=error event=evil",
	    NULL);
	line = capture_end();
	ck_assert_str_eq(after_timestamp(line),
	    " level=info event=hook body=\"x\\x0ats=0 level=error "
	    "event=evil\"\n");
}
END_TEST

START_TEST(long_value_is_cut_to_1024_bytes)
{
	char		 value[2001], want[1200];
	const char	*line;

	memset(value, 'a', sizeof(value) - 1);
	value[sizeof(value) - 1] = '\0';
	(void)snprintf(want, sizeof(want), " level=info event=e v=%.1024s\n",
	    value);
	capture_begin();
	log_event(LOG_INFO, "e", "v", value, NULL);
	line = capture_end();
	ck_assert_str_eq(after_timestamp(line), want);
}
END_TEST

START_TEST(overlong_line_is_cut_and_marked)
{
	static const char	 end[] = " truncated=1\n";
	char			 value[1001];
	const char		*line;
	size_t			 len;

	memset(value, 'v', sizeof(value) - 1);
	value[sizeof(value) - 1] = '\0';
	capture_begin();
	log_event(LOG_INFO, "big", "k1", value, "k2", value, "k3", value,
	    "k4", value, "k5", value, "k6", value, NULL);
	line = capture_end();
	len = strlen(line);
	ck_assert_uint_le(len, 4096);
	ck_assert_uint_gt(len, sizeof(end));
	ck_assert_str_eq(line + len - (sizeof(end) - 1), end);
	ck_assert_ptr_eq(strchr(line, '\n'), line + len - 1);
	ck_assert_ptr_nonnull(strstr(line, " k4="));
	ck_assert_ptr_null(strstr(line, " k6="));
}
END_TEST

START_TEST(escaped_value_too_long_for_the_line_is_marked)
{
	char		 value[1100];
	const char	*line;
	size_t		 len;

	/* Every byte takes four to write: the value cannot fit. */
	memset(value, '\x01', sizeof(value) - 1);
	value[sizeof(value) - 1] = '\0';
	capture_begin();
	log_event(LOG_INFO, "ctl", "v", value, NULL);
	line = capture_end();
	len = strlen(line);
	ck_assert_str_eq(after_timestamp(line),
	    " level=info event=ctl v= truncated=1\n");
	ck_assert_uint_lt(len, 100);
}
END_TEST

START_TEST(logging_keeps_errno)
{
	capture_begin();
	errno = EAGAIN;
	log_event(LOG_INFO, "e", NULL);
	ck_assert_int_eq(errno, EAGAIN);
	(void)capture_end();
}
END_TEST

START_TEST(failed_write_is_silent_and_keeps_errno)
{
	int	 saved, e;

	saved = dup(STDERR_FILENO);
	ck_assert_int_ne(saved, -1);
	close(STDERR_FILENO);
	errno = ENOENT;
	log_event(LOG_ERROR, "nowhere", NULL);
	e = errno;
	(void)dup2(saved, STDERR_FILENO);
	close(saved);
	ck_assert_int_eq(e, ENOENT);
}
END_TEST

struct level_case {
	const char	*name;
	enum log_level	 level;
};

static const struct level_case levels[] = {
	{ "debug", LOG_DEBUG },
	{ "info", LOG_INFO },
	{ "warn", LOG_WARN },
	{ "error", LOG_ERROR },
};

static const char *const bad_levels[] = {
	"", "INFO", "Info", "warning", "inf", "info ", "err", "trace",
};

START_TEST(level_name_is_parsed)
{
	enum log_level	 level = (enum log_level)99;

	ck_assert_int_eq(log_level_parse(levels[_i].name, &level), 0);
	ck_assert_int_eq(level, levels[_i].level);
}
END_TEST

START_TEST(unknown_level_name_is_refused)
{
	enum log_level	 level = LOG_WARN;

	ck_assert_int_eq(log_level_parse(bad_levels[_i], &level), -1);
	ck_assert_int_eq(level, LOG_WARN);
}
END_TEST

static Suite *
log_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("log");

	/* First, before any case sets a level in this process. */
	tc = tcase_create("defaults");
	tcase_add_test(tc, info_is_the_level_until_set);
	suite_add_tcase(s, tc);

	tc = tcase_create("escape");
	tcase_add_loop_test(tc, value_is_escaped_as_documented, 0,
	    sizeof(escapes) / sizeof(escapes[0]));
	tcase_add_test(tc, cut_value_stays_well_formed);
	tcase_add_test(tc, cut_plain_value_is_a_prefix);
	tcase_add_test(tc, zero_sized_output_is_left_alone);
	suite_add_tcase(s, tc);

	tc = tcase_create("event");
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, line_has_timestamp_level_and_event);
	tcase_add_test(tc, pairs_follow_in_order_and_are_escaped);
	tcase_add_test(tc, null_value_is_a_dash);
	tcase_add_test(tc, event_name_is_escaped);
	tcase_add_test(tc, request_id_follows_the_event);
	tcase_add_test(tc, request_id_is_kept_to_64_bytes);
	tcase_add_test(tc, program_is_named_when_set);
	tcase_add_test(tc, lines_below_the_level_are_dropped);
	tcase_add_test(tc, untrusted_value_cannot_forge_a_line);
	tcase_add_test(tc, long_value_is_cut_to_1024_bytes);
	tcase_add_test(tc, overlong_line_is_cut_and_marked);
	tcase_add_test(tc, escaped_value_too_long_for_the_line_is_marked);
	tcase_add_test(tc, logging_keeps_errno);
	tcase_add_test(tc, failed_write_is_silent_and_keeps_errno);
	suite_add_tcase(s, tc);

	tc = tcase_create("level");
	tcase_add_loop_test(tc, level_name_is_parsed, 0,
	    sizeof(levels) / sizeof(levels[0]));
	tcase_add_loop_test(tc, unknown_level_name_is_refused, 0,
	    sizeof(bad_levels) / sizeof(bad_levels[0]));
	suite_add_tcase(s, tc);

	return s;
}

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	sr = srunner_create(log_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
