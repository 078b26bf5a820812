/*
 * check_config.c: loading the configuration from defaults, a file and the
 * environment.
 *
 * Each case writes its files into a fresh temporary folder and starts with
 * no GITTINKERER_ variable set.  Check runs each case in a child process,
 * so what a case puts in the environment goes with it; the fixture clears
 * the variables all the same.
 */
#include <config.h>

#include <check.h>
#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "infra/config.h"
#include "infra/log.h"

#define DIR_TEMPLATE	"/tmp/gt-config.XXXXXX"
#define PATH_SIZE	(sizeof(DIR_TEMPLATE) + 64)

static char	 dir[] = DIR_TEMPLATE;
static char	 err[1024];

/* Tokens long enough for validate(). */
#define TOKEN_A	"aaaaaaaaaaaaaaaa"
#define TOKEN_B	"bbbbbbbbbbbbbbbbbb"
#define TOKEN_C	"cccccccccccccccc"

static const char *const key_names[] = {
	"listen", "workers", "max_requests", "drain_timeout", "log_level",
	"database_url", "db_connect_timeout_ms", "statement_timeout_ms",
	"migrations_dir", "redis", "redis_password",
	"redis_connect_timeout_ms", "redis_command_timeout_ms",
	"health_timeout_ms", "operator_tokens", "admin_tokens",
	"webhook_secret", "artifacts_root", "repo_rate_limit",
	"repo_rate_window", "requester_rate_limit", "requester_rate_window",
};

static void
unset_key_env(const char *name)
{
	char	 var[128];
	size_t	 i, o;

	o = (size_t)snprintf(var, sizeof(var), "GITTINKERER_");
	for (i = 0; name[i] != '\0' && o < sizeof(var) - 6; i++)
		var[o++] = (char)toupper((unsigned char)name[i]);
	var[o] = '\0';
	(void)unsetenv(var);
	memcpy(var + o, "_FILE", 6);
	(void)unsetenv(var);
}

static void
clear_env(void)
{
	size_t	 i;

	for (i = 0; i < sizeof(key_names) / sizeof(key_names[0]); i++)
		unset_key_env(key_names[i]);
	(void)unsetenv("GITTINKERER_CONFIG");
}

static void
setup(void)
{
	memcpy(dir, DIR_TEMPLATE, sizeof(dir));
	ck_assert_ptr_nonnull(mkdtemp(dir));
	clear_env();
	err[0] = '\0';
}

static void
teardown(void)
{
	struct dirent	*de;
	char		 path[PATH_SIZE + 256];
	DIR		*d;

	clear_env();
	if ((d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) <
		    (int)sizeof(path))
			(void)unlink(path);
	}
	closedir(d);
	(void)rmdir(dir);
}

/*
 * Writes n bytes into the file name in the folder and returns its path,
 * which stays valid for the next few calls.
 */
static const char *
file_with(const char *name, const char *data, size_t n)
{
	static char	 paths[4][PATH_SIZE];
	static int	 next;
	char		*path = paths[next++ % 4];
	int		 fd;

	ck_assert_int_lt(snprintf(path, PATH_SIZE, "%s/%s", dir, name),
	    (int)PATH_SIZE);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_ne(fd, -1);
	ck_assert_int_eq(write(fd, data, n), (ssize_t)n);
	close(fd);
	return path;
}

static const char *
text_file(const char *name, const char *text)
{
	return file_with(name, text, strlen(text));
}

/* Loads a configuration file holding text. */
static struct config *
load(const char *text)
{
	return config_load(text_file("gt.conf", text), err, sizeof(err));
}

/* Asserts that loading text fails with a message holding each of want. */
static void
assert_refused(const char *text, const char *want, const char *want2)
{
	struct config	*cfg;

	cfg = load(text);
	ck_assert_msg(cfg == NULL, "accepted: %s", text);
	ck_assert_msg(strstr(err, want) != NULL, "'%s' not in: %s", want, err);
	if (want2 != NULL)
		ck_assert_msg(strstr(err, want2) != NULL, "'%s' not in: %s",
		    want2, err);
}

static struct config *
load_ok(const char *text)
{
	struct config	*cfg;

	cfg = load(text);
	ck_assert_msg(cfg != NULL, "%s", err);
	return cfg;
}

START_TEST(defaults_apply_without_a_file)
{
	struct config	*cfg;

	cfg = config_load(NULL, err, sizeof(err));
	ck_assert_msg(cfg != NULL, "%s", err);
	ck_assert_ptr_null(cfg->listen);
	ck_assert_int_eq(cfg->workers, 4);
	ck_assert_int_eq(cfg->max_requests, 10000);
	ck_assert_int_eq(cfg->drain_timeout_s, 30);
	ck_assert_int_eq(cfg->log_level, LOG_INFO);
	ck_assert_str_eq(cfg->database_url, "dbname=gittinkerer");
	ck_assert_int_eq(cfg->db_connect_timeout_ms, 2000);
	ck_assert_int_eq(cfg->statement_timeout_ms, 5000);
	ck_assert_str_eq(cfg->migrations_dir, GT_DATADIR "/sql");
	ck_assert_str_eq(cfg->redis, "127.0.0.1:6379");
	ck_assert_ptr_null(cfg->redis_password);
	ck_assert_int_eq(cfg->redis_connect_timeout_ms, 200);
	ck_assert_int_eq(cfg->redis_command_timeout_ms, 200);
	ck_assert_int_eq(cfg->health_timeout_ms, 400);
	ck_assert_ptr_null(cfg->operator_tokens);
	ck_assert_uint_eq(cfg->operator_tokens_n, 0);
	ck_assert_ptr_null(cfg->admin_tokens);
	ck_assert_uint_eq(cfg->admin_tokens_n, 0);
	ck_assert_ptr_null(cfg->webhook_secret);
	ck_assert_str_eq(cfg->artifacts_root, "/var/lib/gittinkerer/artifacts");
	config_free(cfg);
}
END_TEST

START_TEST(file_sets_each_key)
{
	struct config	*cfg;

	cfg = load_ok(
	    "listen = unix:/run/gt/pool.sock\n"
	    "workers = 8\n"
	    "max_requests = 0\n"
	    "drain_timeout = 5\n"
	    "log_level = debug\n"
	    "database_url = host=db dbname=gt\n"
	    "db_connect_timeout_ms = 10\n"
	    "statement_timeout_ms = 600000\n"
	    "migrations_dir = /srv/sql\n"
	    "redis = unix:/run/redis.sock\n"
	    "redis_password = hunter2\n"
	    "redis_connect_timeout_ms = 60000\n"
	    "redis_command_timeout_ms = 15\n"
	    "health_timeout_ms = 450\n"
	    "operator_tokens = " TOKEN_A "\n"
	    "admin_tokens = " TOKEN_B "\n"
	    "webhook_secret = whsec\n"
	    "artifacts_root = /srv/artifacts\n");
	ck_assert_str_eq(cfg->listen, "unix:/run/gt/pool.sock");
	ck_assert_int_eq(cfg->workers, 8);
	ck_assert_int_eq(cfg->max_requests, 0);
	ck_assert_int_eq(cfg->drain_timeout_s, 5);
	ck_assert_int_eq(cfg->log_level, LOG_DEBUG);
	ck_assert_str_eq(cfg->database_url, "host=db dbname=gt");
	ck_assert_int_eq(cfg->db_connect_timeout_ms, 10);
	ck_assert_int_eq(cfg->statement_timeout_ms, 600000);
	ck_assert_str_eq(cfg->migrations_dir, "/srv/sql");
	ck_assert_str_eq(cfg->redis, "unix:/run/redis.sock");
	ck_assert_str_eq(cfg->redis_password, "hunter2");
	ck_assert_int_eq(cfg->redis_connect_timeout_ms, 60000);
	ck_assert_int_eq(cfg->redis_command_timeout_ms, 15);
	ck_assert_int_eq(cfg->health_timeout_ms, 450);
	ck_assert_uint_eq(cfg->operator_tokens_n, 1);
	ck_assert_str_eq(cfg->operator_tokens[0], TOKEN_A);
	ck_assert_uint_eq(cfg->admin_tokens_n, 1);
	ck_assert_str_eq(cfg->admin_tokens[0], TOKEN_B);
	ck_assert_str_eq(cfg->webhook_secret, "whsec");
	ck_assert_str_eq(cfg->artifacts_root, "/srv/artifacts");
	config_free(cfg);
}
END_TEST

START_TEST(comments_blank_lines_and_spaces_are_ignored)
{
	struct config	*cfg;

	cfg = load_ok(
	    "# the pool\n"
	    "\n"
	    "   \t \n"
	    "\t workers\t=\t 12 \t\n"
	    "   # an indented comment = 3\n"
	    "redis=db:6380\r\n"
	    "drain_timeout = 7");
	ck_assert_int_eq(cfg->workers, 12);
	ck_assert_str_eq(cfg->redis, "db:6380");
	ck_assert_int_eq(cfg->drain_timeout_s, 7);
	config_free(cfg);
}
END_TEST

START_TEST(value_runs_to_the_end_of_the_line)
{
	struct config	*cfg;

	cfg = load_ok("database_url = host=db user=gt # not a comment\n");
	ck_assert_str_eq(cfg->database_url, "host=db user=gt # not a comment");
	config_free(cfg);
}
END_TEST

START_TEST(later_line_wins)
{
	struct config	*cfg;

	cfg = load_ok("redis = a:1\nredis = b:2\nworkers = 2\nworkers = 3\n");
	ck_assert_str_eq(cfg->redis, "b:2");
	ck_assert_int_eq(cfg->workers, 3);
	config_free(cfg);
}
END_TEST

START_TEST(integer_bounds_are_inclusive)
{
	struct config	*cfg;

	cfg = load_ok("workers = 1\nmax_requests = 9223372036854775807\n"
	    "drain_timeout = 3600\nhealth_timeout_ms = 10\n");
	ck_assert_int_eq(cfg->workers, 1);
	ck_assert_int_eq(cfg->max_requests, LONG_MAX);
	ck_assert_int_eq(cfg->drain_timeout_s, 3600);
	ck_assert_int_eq(cfg->health_timeout_ms, 10);
	config_free(cfg);

	cfg = load_ok("workers = 256\n");
	ck_assert_int_eq(cfg->workers, 256);
	config_free(cfg);
}
END_TEST

START_TEST(every_level_name_is_accepted)
{
	static const char *const names[] = { "debug", "info", "warn", "error" };
	struct config		*cfg;
	char			 line[64];
	int			 level;

	for (level = LOG_DEBUG; level <= LOG_ERROR; level++) {
		(void)snprintf(line, sizeof(line), "log_level = %s\n",
		    names[level]);
		cfg = load_ok(line);
		ck_assert_int_eq(cfg->log_level, level);
		config_free(cfg);
	}
}
END_TEST

START_TEST(unknown_key_is_refused_by_name_and_line)
{
	assert_refused("workers = 2\n# note\ncolour = blue\n",
	    "gt.conf:3: unknown key 'colour'", NULL);
}
END_TEST

START_TEST(line_without_equals_is_refused)
{
	assert_refused("\nworkers 8\n", "gt.conf:2: expected 'key = value'",
	    NULL);
}
END_TEST

START_TEST(line_without_key_is_refused)
{
	assert_refused(" = 8\n", "unknown key ''", NULL);
}
END_TEST

/* One bad value for each kind of check, with the key the message names. */
static const char *const bad_values[][2] = {
	{ "workers = 0", "workers" },
	{ "workers = 257", "workers" },
	{ "workers = four", "workers" },
	{ "workers =", "workers" },
	{ "workers = 4x", "workers" },
	{ "max_requests = -1", "max_requests" },
	{ "max_requests = 9223372036854775808", "max_requests" },
	{ "drain_timeout = 0", "drain_timeout" },
	{ "drain_timeout = 3601", "drain_timeout" },
	{ "log_level = verbose", "log_level" },
	{ "log_level = INFO", "log_level" },
	{ "db_connect_timeout_ms = 9", "db_connect_timeout_ms" },
	{ "statement_timeout_ms = 600001", "statement_timeout_ms" },
	{ "redis_connect_timeout_ms = 60001", "redis_connect_timeout_ms" },
	{ "redis_command_timeout_ms = 1.5", "redis_command_timeout_ms" },
	{ "health_timeout_ms = 451", "health_timeout_ms" },
	{ "listen =", "listen" },
	{ "database_url =", "database_url" },
	{ "migrations_dir =", "migrations_dir" },
	{ "redis =", "redis" },
	{ "redis_password =", "redis_password" },
	{ "webhook_secret =", "webhook_secret" },
	{ "artifacts_root =", "artifacts_root" },
	{ "operator_tokens =", "operator_tokens" },
	{ "operator_tokens = " TOKEN_A ",," TOKEN_C, "operator_tokens" },
	{ "admin_tokens = " TOKEN_A ",", "admin_tokens" },
	{ "admin_tokens = , " TOKEN_A, "admin_tokens" },
};

START_TEST(bad_value_is_refused_naming_the_key)
{
	char	 want[128];

	(void)snprintf(want, sizeof(want), "gt.conf:1: %s: ",
	    bad_values[_i][1]);
	assert_refused(bad_values[_i][0], want, NULL);
}
END_TEST

START_TEST(bad_integer_message_gives_range_and_value)
{
	assert_refused("workers = 300\n",
	    "workers: must be an integer from 1 to 256, not '300'", NULL);
}
END_TEST

START_TEST(bad_secret_is_not_echoed)
{
	assert_refused("operator_tokens = topsecretvalue00,,\n",
	    "operator_tokens", NULL);
	ck_assert_ptr_null(strstr(err, "topsecret"));
}
END_TEST

START_TEST(overlong_line_is_refused)
{
	char	 text[9000];

	memcpy(text, "database_url = ", 15);
	memset(text + 15, 'x', sizeof(text) - 17);
	memcpy(text + sizeof(text) - 2, "\n", 2);
	assert_refused(text, "gt.conf:1: line too long", NULL);
}
END_TEST

START_TEST(missing_file_is_reported)
{
	char	 path[PATH_SIZE];

	(void)snprintf(path, sizeof(path), "%s/absent.conf", dir);
	ck_assert_ptr_null(config_load(path, err, sizeof(err)));
	ck_assert_msg(strncmp(err, "cannot open configuration '", 27) == 0,
	    "%s", err);
	ck_assert_msg(strstr(err, path) != NULL, "%s", err);
}
END_TEST

START_TEST(unreadable_file_is_reported)
{
	ck_assert_ptr_null(config_load(dir, err, sizeof(err)));
	ck_assert_msg(strncmp(err, "cannot read configuration '", 27) == 0,
	    "%s", err);
}
END_TEST

START_TEST(message_is_cut_to_its_buffer)
{
	char	 small[12];

	ck_assert_ptr_null(config_load(text_file("gt.conf", "colour = 1\n"),
	    small, sizeof(small)));
	ck_assert_uint_eq(strlen(small), sizeof(small) - 1);
}
END_TEST

START_TEST(environment_overrides_the_file)
{
	struct config	*cfg;

	ck_assert_int_eq(setenv("GITTINKERER_WORKERS", "16", 1), 0);
	ck_assert_int_eq(setenv("GITTINKERER_REDIS", "unix:/tmp/r.sock", 1),
	    0);
	ck_assert_int_eq(setenv("GITTINKERER_LOG_LEVEL", "error", 1), 0);
	cfg = load_ok("workers = 8\nredis = db:6379\n");
	ck_assert_int_eq(cfg->workers, 16);
	ck_assert_str_eq(cfg->redis, "unix:/tmp/r.sock");
	ck_assert_int_eq(cfg->log_level, LOG_ERROR);
	config_free(cfg);
}
END_TEST

START_TEST(environment_applies_without_a_file)
{
	struct config	*cfg;

	ck_assert_int_eq(setenv("GITTINKERER_MAX_REQUESTS", "77", 1), 0);
	cfg = config_load(NULL, err, sizeof(err));
	ck_assert_msg(cfg != NULL, "%s", err);
	ck_assert_int_eq(cfg->max_requests, 77);
	config_free(cfg);
}
END_TEST

START_TEST(bad_environment_value_names_the_variable)
{
	static const char	 want[] =
	    "environment GITTINKERER_WORKERS: workers: ";

	ck_assert_int_eq(setenv("GITTINKERER_WORKERS", "0", 1), 0);
	ck_assert_ptr_null(config_load(NULL, err, sizeof(err)));
	ck_assert_msg(strncmp(err, want, sizeof(want) - 1) == 0, "%s", err);
}
END_TEST

START_TEST(environment_list_replaces_the_file_list)
{
	struct config	*cfg;

	ck_assert_int_eq(setenv("GITTINKERER_OPERATOR_TOKENS", TOKEN_C, 1), 0);
	cfg = load_ok("operator_tokens = " TOKEN_A ", " TOKEN_B "\n");
	ck_assert_uint_eq(cfg->operator_tokens_n, 1);
	ck_assert_str_eq(cfg->operator_tokens[0], TOKEN_C);
	config_free(cfg);
}
END_TEST

START_TEST(token_list_is_split_and_trimmed)
{
	struct config	*cfg;

	cfg = load_ok("operator_tokens = " TOKEN_A " ,\t" TOKEN_B "," TOKEN_C
	    " \n");
	ck_assert_uint_eq(cfg->operator_tokens_n, 3);
	ck_assert_str_eq(cfg->operator_tokens[0], TOKEN_A);
	ck_assert_str_eq(cfg->operator_tokens[1], TOKEN_B);
	ck_assert_str_eq(cfg->operator_tokens[2], TOKEN_C);
	ck_assert_uint_eq(cfg->admin_tokens_n, 0);
	config_free(cfg);
}
END_TEST

START_TEST(short_token_is_refused)
{
	assert_refused("operator_tokens = " TOKEN_A ", short\n",
	    "operator_tokens: every token must be at least 16 characters",
	    NULL);
	assert_refused("admin_tokens = 123456789012345\n",
	    "admin_tokens: every token must be at least 16 characters", NULL);
}
END_TEST

START_TEST(token_in_both_lists_is_refused)
{
	assert_refused("operator_tokens = " TOKEN_A "," TOKEN_B "\n"
	    "admin_tokens = " TOKEN_C ", " TOKEN_B "\n",
	    "admin_tokens: a token is also listed in operator_tokens", NULL);
	ck_assert_ptr_null(strstr(err, TOKEN_B));
}
END_TEST

START_TEST(listen_needs_a_port_or_unix_prefix)
{
	struct config	*cfg;

	assert_refused("listen = localhost\n",
	    "listen: must be unix:PATH or HOST:PORT, not 'localhost'", NULL);

	cfg = load_ok("listen = 127.0.0.1:9000\n");
	ck_assert_str_eq(cfg->listen, "127.0.0.1:9000");
	config_free(cfg);
}
END_TEST

START_TEST(secret_file_drops_one_trailing_newline)
{
	static const char *const contents[][2] = {
		{ "s3cret\n", "s3cret" },
		{ "s3cret\r\n", "s3cret" },
		{ "s3cret", "s3cret" },
		{ "two\n\n", "two\n" },
		{ "in side\n", "in side" },
	};
	struct config	*cfg;
	char		 line[PATH_SIZE + 32];
	size_t		 i;

	for (i = 0; i < sizeof(contents) / sizeof(contents[0]); i++) {
		(void)snprintf(line, sizeof(line), "webhook_secret_file = %s\n",
		    text_file("secret", contents[i][0]));
		cfg = load_ok(line);
		ck_assert_str_eq(cfg->webhook_secret, contents[i][1]);
		config_free(cfg);
	}
}
END_TEST

START_TEST(secret_file_from_the_environment)
{
	struct config	*cfg;

	ck_assert_int_eq(setenv("GITTINKERER_REDIS_PASSWORD_FILE",
	    text_file("redis.pw", "pa55word\n"), 1), 0);
	ck_assert_int_eq(setenv("GITTINKERER_ADMIN_TOKENS_FILE",
	    text_file("admin", TOKEN_A "," TOKEN_B "\n"), 1), 0);
	cfg = config_load(NULL, err, sizeof(err));
	ck_assert_msg(cfg != NULL, "%s", err);
	ck_assert_str_eq(cfg->redis_password, "pa55word");
	ck_assert_uint_eq(cfg->admin_tokens_n, 2);
	ck_assert_str_eq(cfg->admin_tokens[1], TOKEN_B);
	config_free(cfg);
}
END_TEST

START_TEST(secret_file_in_the_environment_beats_the_file)
{
	struct config	*cfg;

	ck_assert_int_eq(setenv("GITTINKERER_WEBHOOK_SECRET_FILE",
	    text_file("env.secret", "from-env\n"), 1), 0);
	cfg = load_ok("webhook_secret = from-file\n");
	ck_assert_str_eq(cfg->webhook_secret, "from-env");
	config_free(cfg);
}
END_TEST

START_TEST(missing_secret_file_is_refused)
{
	char	 line[PATH_SIZE + 32];

	(void)snprintf(line, sizeof(line), "webhook_secret_file = %s/none\n",
	    dir);
	assert_refused(line, "gt.conf:1: webhook_secret_file: cannot open '",
	    "/none'");
}
END_TEST

START_TEST(missing_secret_file_in_the_environment_is_refused)
{
	static const char	 want[] =
	    "environment GITTINKERER_DATABASE_URL_FILE: database_url_file: "
	    "cannot open '/nonexistent'";

	ck_assert_int_eq(setenv("GITTINKERER_DATABASE_URL_FILE", "/nonexistent",
	    1), 0);
	ck_assert_ptr_null(config_load(NULL, err, sizeof(err)));
	ck_assert_msg(strncmp(err, want, sizeof(want) - 1) == 0, "%s", err);
}
END_TEST

START_TEST(empty_secret_file_is_refused)
{
	char	 line[PATH_SIZE + 32];

	(void)snprintf(line, sizeof(line), "redis_password_file = %s\n",
	    text_file("newline", "\n"));
	assert_refused(line, "redis_password: must not be empty", NULL);

	(void)snprintf(line, sizeof(line), "redis_password_file = %s\n",
	    text_file("empty", ""));
	assert_refused(line, "redis_password: must not be empty", NULL);
}
END_TEST

START_TEST(secret_file_holding_nul_is_refused)
{
	char	 line[PATH_SIZE + 32];

	(void)snprintf(line, sizeof(line), "webhook_secret_file = %s\n",
	    file_with("nul", "ab\0cd\n", 6));
	assert_refused(line, "webhook_secret_file: '", "holds a NUL byte");
}
END_TEST

START_TEST(secret_file_of_64k_is_the_limit)
{
	struct config	*cfg;
	char		 line[PATH_SIZE + 32];
	char		*big;

	big = malloc(65537);
	ck_assert_ptr_nonnull(big);
	memset(big, 'k', 65537);

	(void)snprintf(line, sizeof(line), "webhook_secret_file = %s\n",
	    file_with("big", big, 65536));
	cfg = load_ok(line);
	ck_assert_uint_eq(strlen(cfg->webhook_secret), 65536);
	config_free(cfg);

	(void)snprintf(line, sizeof(line), "webhook_secret_file = %s\n",
	    file_with("big", big, 65537));
	assert_refused(line, "webhook_secret_file: '", "is too large");
	free(big);
}
END_TEST

START_TEST(unreadable_secret_file_is_refused)
{
	char	 line[PATH_SIZE + 32];

	(void)snprintf(line, sizeof(line), "webhook_secret_file = %s\n", dir);
	assert_refused(line, "webhook_secret_file: '", "cannot be read");
}
END_TEST

START_TEST(plain_key_has_no_file_form)
{
	assert_refused("workers_file = /etc/passwd\n",
	    "unknown key 'workers_file'", NULL);
	assert_refused("webhook_secret_path = /etc/passwd\n",
	    "unknown key 'webhook_secret_path'", NULL);
}
END_TEST

START_TEST(free_accepts_null)
{
	config_free(NULL);
}
END_TEST

START_TEST(default_path_comes_from_the_environment)
{
	ck_assert_ptr_null(config_default_path());
	ck_assert_int_eq(setenv("GITTINKERER_CONFIG", "", 1), 0);
	ck_assert_ptr_null(config_default_path());
	ck_assert_int_eq(setenv("GITTINKERER_CONFIG", "/etc/gt/gt.conf", 1),
	    0);
	ck_assert_str_eq(config_default_path(), "/etc/gt/gt.conf");
}
END_TEST

static Suite *
config_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("config");

	tc = tcase_create("file");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, defaults_apply_without_a_file);
	tcase_add_test(tc, file_sets_each_key);
	tcase_add_test(tc, comments_blank_lines_and_spaces_are_ignored);
	tcase_add_test(tc, value_runs_to_the_end_of_the_line);
	tcase_add_test(tc, later_line_wins);
	tcase_add_test(tc, integer_bounds_are_inclusive);
	tcase_add_test(tc, every_level_name_is_accepted);
	tcase_add_test(tc, unknown_key_is_refused_by_name_and_line);
	tcase_add_test(tc, line_without_equals_is_refused);
	tcase_add_test(tc, line_without_key_is_refused);
	tcase_add_loop_test(tc, bad_value_is_refused_naming_the_key, 0,
	    sizeof(bad_values) / sizeof(bad_values[0]));
	tcase_add_test(tc, bad_integer_message_gives_range_and_value);
	tcase_add_test(tc, bad_secret_is_not_echoed);
	tcase_add_test(tc, overlong_line_is_refused);
	tcase_add_test(tc, missing_file_is_reported);
	tcase_add_test(tc, unreadable_file_is_reported);
	tcase_add_test(tc, message_is_cut_to_its_buffer);
	tcase_add_test(tc, free_accepts_null);
	suite_add_tcase(s, tc);

	tc = tcase_create("environment");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, environment_overrides_the_file);
	tcase_add_test(tc, environment_applies_without_a_file);
	tcase_add_test(tc, bad_environment_value_names_the_variable);
	tcase_add_test(tc, environment_list_replaces_the_file_list);
	tcase_add_test(tc, default_path_comes_from_the_environment);
	suite_add_tcase(s, tc);

	tc = tcase_create("tokens");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, token_list_is_split_and_trimmed);
	tcase_add_test(tc, short_token_is_refused);
	tcase_add_test(tc, token_in_both_lists_is_refused);
	tcase_add_test(tc, listen_needs_a_port_or_unix_prefix);
	suite_add_tcase(s, tc);

	tc = tcase_create("secrets");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, secret_file_drops_one_trailing_newline);
	tcase_add_test(tc, secret_file_from_the_environment);
	tcase_add_test(tc, secret_file_in_the_environment_beats_the_file);
	tcase_add_test(tc, missing_secret_file_is_refused);
	tcase_add_test(tc, missing_secret_file_in_the_environment_is_refused);
	tcase_add_test(tc, empty_secret_file_is_refused);
	tcase_add_test(tc, secret_file_holding_nul_is_refused);
	tcase_add_test(tc, secret_file_of_64k_is_the_limit);
	tcase_add_test(tc, unreadable_secret_file_is_refused);
	tcase_add_test(tc, plain_key_has_no_file_form);
	suite_add_tcase(s, tc);

	return s;
}

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	sr = srunner_create(config_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
