/*
 * check_spawner.c: the spawner, driven with small runners that each test
 * writes as a shell script into a temporary folder, and the example
 * runner.  The spawner executes a script directly; its "#!/bin/sh" line
 * is the runner's own business.
 *
 * The test process is made a child subreaper by spawner_init(), as the
 * dispatcher is.  Every wait is bounded: a runner is watched in a poll(2)
 * loop with a deadline, and one that outlives its test is killed with its
 * group by child_free() in the teardown.
 */
#include <config.h>

#include <sys/types.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "domain/arena.h"
#include "domain/json.h"
#include "infra/spawner.h"

#define DIR_TEMPLATE	"/tmp/gt-spawn.XXXXXX"
#define WAIT_MS		5000
#define RUN_ID		"run-1"
#define TEST_PATH	"/usr/bin:/bin"
#define TEST_LANG	"C.UTF-8"

static char		 dir[] = DIR_TEMPLATE;
static char		 runner_path[PATH_MAX];
static char		 payload_path[PATH_MAX];
static char		 log_path[PATH_MAX];
static char		**envp;
static struct spawn_spec spec;
static struct child	*child;		/* the test's runner */

static int64_t
mono_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
sleep_ms(int ms)
{
	struct timespec	 ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		continue;
}

/* Fills out with dir/name. */
static void
path_in(char *out, size_t len, const char *name)
{
	int	 n;

	n = snprintf(out, len, "%s/%s", dir, name);
	ck_assert(n > 0 && (size_t)n < len);
}

static void
write_file(const char *path, const char *text, mode_t mode)
{
	size_t	 len = strlen(text);
	int	 fd;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	ck_assert_int_ne(fd, -1);
	ck_assert_int_eq(write(fd, text, len), (ssize_t)len);
	ck_assert_int_eq(fchmod(fd, mode), 0);
	ck_assert_int_eq(close(fd), 0);
}

/* Reads the whole file at path, NUL-terminated; the caller frees it. */
static char *
slurp(const char *path, size_t *lenp)
{
	struct stat	 st;
	char		*buf;
	ssize_t		 n;
	int		 fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	ck_assert_msg(fd != -1, "open %s: %s", path, strerror(errno));
	ck_assert_int_eq(fstat(fd, &st), 0);
	ck_assert_ptr_nonnull(buf = malloc((size_t)st.st_size + 1));
	n = read(fd, buf, (size_t)st.st_size);
	ck_assert_int_eq(n, st.st_size);
	buf[n] = '\0';
	(void)close(fd);
	if (lenp != NULL)
		*lenp = (size_t)n;
	return buf;
}

static char *
read_log(size_t *lenp)
{
	return slurp(log_path, lenp);
}

/* Writes the runner: a shell script of body. */
static void
make_runner(const char *body)
{
	char	 text[4096];
	int	 n;

	n = snprintf(text, sizeof(text), "#!/bin/sh\n%s\n", body);
	ck_assert(n > 0 && (size_t)n < sizeof(text));
	write_file(runner_path, text, 0755);
}

static void
start(void)
{
	char	 err[256] = "";

	child = child_spawn(&spec, err, sizeof(err));
	ck_assert_msg(child != NULL, "child_spawn: %s", err);
}

/*
 * Watches the runner as the dispatcher would until it is reaped (returns
 * 1, its status in *status) or until deadline (returns 0).
 */
static int
watch_until(int64_t deadline, int *status)
{
	struct pollfd	 pfd;
	int64_t		 left;
	int		 rc;

	for (;;) {
		rc = child_reap(child, status);
		ck_assert_int_ne(rc, -1);
		if (rc == 1)
			return 1;
		if ((left = deadline - mono_ms()) <= 0)
			return 0;
		pfd.fd = child_output_fd(child);
		pfd.events = POLLIN;
		pfd.revents = 0;
		if (poll(&pfd, 1, left < 20 ? (int)left : 20) > 0)
			ck_assert_int_ne(child_pump(child), -1);
	}
}

/* The runner's wait status once it has exited; fails after ms. */
static int
finish(int ms)
{
	int	 status = 0;

	ck_assert_msg(watch_until(mono_ms() + ms, &status) == 1,
	    "runner still running after %d ms", ms);
	return status;
}

/* Pumps the output until the log holds needle; fails after ms. */
static void
wait_log(const char *needle, int ms)
{
	int64_t	 deadline = mono_ms() + ms;
	char	*log;
	int	 found, status;

	for (;;) {
		log = read_log(NULL);
		found = strstr(log, needle) != NULL;
		free(log);
		if (found)
			return;
		ck_assert_msg(mono_ms() < deadline, "no \"%s\" in the log",
		    needle);
		ck_assert_msg(watch_until(mono_ms() + 20, &status) == 0,
		    "runner exited before \"%s\"", needle);
	}
}

static void
expect_log(const char *want)
{
	char	*log = read_log(NULL);

	ck_assert_str_eq(log, want);
	free(log);
}

static void
expect_status(int status, const char *want)
{
	char	 buf[SPAWN_STATUS_LEN];

	ck_assert_str_eq(spawner_describe_status(status, buf, sizeof(buf)),
	    want);
}

/* The pid a runner wrote into dir/name, waiting for it up to ms. */
static pid_t
read_pid(const char *name, int ms)
{
	char	 path[PATH_MAX], *text, *end;
	int64_t	 deadline = mono_ms() + ms;
	long	 v;

	path_in(path, sizeof(path), name);
	while (access(path, F_OK) == -1) {
		ck_assert_msg(mono_ms() < deadline, "no %s", name);
		sleep_ms(10);
	}
	text = slurp(path, NULL);
	v = strtol(text, &end, 10);
	ck_assert_msg(v > 1 && *end == '\n', "bad pid \"%s\"", text);
	free(text);
	return (pid_t)v;
}

/* Whether pid is gone or a zombie. */
static int
is_dead(pid_t pid)
{
	char	 path[64], *stat, *p;
	int	 dead, fd;
	char	 buf[512];
	ssize_t	 n;

	(void)snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return 1;
	n = read(fd, buf, sizeof(buf) - 1);
	(void)close(fd);
	if (n <= 0)
		return 1;
	buf[n] = '\0';
	stat = buf;
	ck_assert_ptr_nonnull(p = strrchr(stat, ')'));
	dead = p[1] == ' ' && p[2] == 'Z';
	return dead;
}

/* Waits up to ms for pid to die, without reaping orphans. */
static void
wait_dead(pid_t pid, int ms)
{
	int64_t	 deadline = mono_ms() + ms;

	while (!is_dead(pid)) {
		ck_assert_msg(mono_ms() < deadline, "pid %d alive after %d ms",
		    (int)pid, ms);
		sleep_ms(10);
	}
}

/* Calls spawner_reap_orphans() until pid is reaped; fails after ms. */
static void
wait_gone(pid_t pid, int ms)
{
	int64_t	 deadline = mono_ms() + ms;

	for (;;) {
		ck_assert_int_ne(spawner_reap_orphans(), -1);
		if (kill(pid, 0) == -1 && errno == ESRCH)
			return;
		ck_assert_msg(mono_ms() < deadline, "pid %d there after %d ms",
		    (int)pid, ms);
		sleep_ms(10);
	}
}

static int
remove_entry(const char *path, const struct stat *st, int flag,
    struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static char **
env_for_test(const char *gh_token)
{
	struct runner_env	 env;

	memset(&env, 0, sizeof(env));
	env.path = TEST_PATH;
	env.home = dir;
	env.lang = TEST_LANG;
	env.run_id = RUN_ID;
	env.artifacts_dir = dir;
	env.payload = payload_path;
	env.gh_token = gh_token;
	return spawner_env_new(&env);
}

static void
setup(void)
{
	memcpy(dir, DIR_TEMPLATE, sizeof(dir));
	ck_assert_ptr_nonnull(mkdtemp(dir));
	path_in(runner_path, sizeof(runner_path), "runner");
	path_in(payload_path, sizeof(payload_path), "payload.json");
	path_in(log_path, sizeof(log_path), "log.txt");
	write_file(payload_path, "{\"run_id\": \"" RUN_ID "\"}\n", 0600);
	ck_assert_ptr_nonnull(envp = env_for_test(NULL));

	memset(&spec, 0, sizeof(spec));
	spec.path = runner_path;
	spec.payload_path = payload_path;
	spec.envp = envp;
	spec.run_dir = dir;
	spec.log_path = log_path;
	spec.log_cap = 1024 * 1024;
	ck_assert_int_eq(spawner_init(), 0);
}

static void
teardown(void)
{
	int	 i;

	child_free(child);
	child = NULL;
	for (i = 0; i < 50 && spawner_reap_orphans() > 0; i++)
		sleep_ms(10);
	spawner_env_free(envp);
	envp = NULL;
	(void)nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

START_TEST(exit_0_succeeds_and_the_log_holds_both_streams)
{
	make_runner("echo to stdout\necho to stderr >&2\nexit 0");
	start();
	expect_status(finish(WAIT_MS), "exited with status 0");
	expect_log("to stdout\nto stderr\n");
}
END_TEST

START_TEST(log_is_appended_to)
{
	write_file(log_path, "before\n", 0640);
	make_runner("echo after");
	start();
	expect_status(finish(WAIT_MS), "exited with status 0");
	expect_log("before\nafter\n");
}
END_TEST

START_TEST(exit_3_is_described_with_its_status)
{
	make_runner("echo failing\nexit 3");
	start();
	expect_status(finish(WAIT_MS), "exited with status 3");
	expect_log("failing\n");
}
END_TEST

START_TEST(killed_runner_is_described_with_its_signal)
{
	make_runner("kill -9 $$");
	start();
	expect_status(finish(WAIT_MS), "killed by signal 9 (Killed)");
}
END_TEST

START_TEST(describer_names_a_core_dump)
{
	expect_status(SIGSEGV | WCOREFLAG,
	    "killed by signal 11 (Segmentation fault), core dumped");
	expect_status(W_EXITCODE(255, 0), "exited with status 255");
}
END_TEST

/* Waits up to ms until the process has no child left unreaped. */
static void
wait_no_children(int ms)
{
	int64_t	 deadline = mono_ms() + ms;
	int	 status;

	while (waitpid(-1, &status, WNOHANG) != -1 || errno != ECHILD) {
		ck_assert_msg(mono_ms() < deadline, "a child is left");
		(void)spawner_reap_orphans();
		sleep_ms(10);
	}
}

static void
expect_spawn_error(const char *what, const char *why)
{
	char	 err[256] = "", want[PATH_MAX + 64];

	ck_assert_ptr_null(child = child_spawn(&spec, err, sizeof(err)));
	(void)snprintf(want, sizeof(want), "%s: %s", what, why);
	ck_assert_str_eq(err, want);
	wait_no_children(2000);
}

START_TEST(missing_runner_fails_at_spawn)
{
	char	 what[PATH_MAX + 8];

	path_in(runner_path, sizeof(runner_path), "absent");
	(void)snprintf(what, sizeof(what), "execve %s", runner_path);
	expect_spawn_error(what, strerror(ENOENT));
}
END_TEST

START_TEST(non_executable_runner_fails_at_spawn)
{
	char	 what[PATH_MAX + 8];

	make_runner("exit 0");
	ck_assert_int_eq(chmod(runner_path, 0644), 0);
	(void)snprintf(what, sizeof(what), "execve %s", runner_path);
	expect_spawn_error(what, strerror(EACCES));
}
END_TEST

START_TEST(missing_run_dir_fails_at_spawn)
{
	char	 run_dir[PATH_MAX], what[PATH_MAX + 8];

	make_runner("exit 0");
	path_in(run_dir, sizeof(run_dir), "absent");
	spec.run_dir = run_dir;
	(void)snprintf(what, sizeof(what), "chdir %s", run_dir);
	expect_spawn_error(what, strerror(ENOENT));
}
END_TEST

START_TEST(unopenable_log_fails_at_spawn)
{
	char	 what[PATH_MAX + 8];

	make_runner("exit 0");
	path_in(log_path, sizeof(log_path), "absent/log.txt");
	(void)snprintf(what, sizeof(what), "open %s", log_path);
	expect_spawn_error(what, strerror(ENOENT));
}
END_TEST

START_TEST(environment_is_exactly_the_built_one)
{
	char	 want[4 * PATH_MAX];
	int	 n;

	/* A secret of the service's own environment must stay there. */
	ck_assert_int_eq(setenv("GT_FAKE_SECRET", "hunter2", 1), 0);
	spawner_env_free(envp);
	ck_assert_ptr_nonnull(envp = env_for_test("ghs_installation"));
	spec.envp = envp;

	make_runner("tr '\\0' '\\n' </proc/$$/environ");
	start();
	expect_status(finish(WAIT_MS), "exited with status 0");
	n = snprintf(want, sizeof(want),
	    "PATH=" TEST_PATH "\nHOME=%s\nLANG=" TEST_LANG "\n"
	    "GITTINKERER_RUN_ID=" RUN_ID "\nGITTINKERER_ARTIFACTS_DIR=%s\n"
	    "GITTINKERER_PAYLOAD=%s\nGH_TOKEN=ghs_installation\n",
	    dir, dir, payload_path);
	ck_assert(n > 0 && (size_t)n < sizeof(want));
	expect_log(want);
}
END_TEST

START_TEST(env_has_gh_token_only_when_given)
{
	size_t	 i;

	for (i = 0; envp[i] != NULL; i++)
		ck_assert(strncmp(envp[i], "GH_TOKEN=", 9) != 0);
	ck_assert_uint_eq(i, 6);
	spawner_env_free(envp);

	ck_assert_ptr_nonnull(envp = env_for_test(""));
	for (i = 0; envp[i] != NULL; i++)
		continue;
	ck_assert_uint_eq(i, 6);
	spawner_env_free(envp);

	ck_assert_ptr_nonnull(envp = env_for_test("t0ken"));
	for (i = 0; envp[i] != NULL; i++)
		continue;
	ck_assert_uint_eq(i, 7);
	ck_assert_str_eq(envp[6], "GH_TOKEN=t0ken");
}
END_TEST

START_TEST(env_refuses_a_missing_variable)
{
	struct runner_env	 env;

	memset(&env, 0, sizeof(env));
	env.path = TEST_PATH;
	env.home = dir;
	env.lang = TEST_LANG;
	env.run_id = RUN_ID;
	env.artifacts_dir = dir;
	errno = 0;
	ck_assert_ptr_null(spawner_env_new(&env));
	ck_assert_int_eq(errno, EINVAL);
}
END_TEST

START_TEST(stdin_is_dev_null)
{
	int	 p[2];

	/* The test's own stdin has a line waiting: it must not leak. */
	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_eq(write(p[1], "secret input\n", 13), 13);
	ck_assert_int_ne(dup2(p[0], STDIN_FILENO), -1);

	make_runner("readlink /proc/$$/fd/0\n"
	    "if read line; then echo \"read $line\"; else echo at end; fi");
	start();
	expect_status(finish(WAIT_MS), "exited with status 0");
	expect_log("/dev/null\nat end\n");
}
END_TEST

START_TEST(no_descriptor_of_the_service_reaches_the_runner)
{
	char	*log, *line, *arrow, *num, *save;
	int	 p[2], seen = 0;
	long	 fd;

	/* Descriptors without close-on-exec, as a careless caller has. */
	ck_assert_int_ne(open("/dev/null", O_RDONLY), -1);
	ck_assert_int_eq(pipe(p), 0);

	/*
	 * The shell's own descriptors: 0 to 2, and the one it reads the
	 * script from, which names the runner.
	 */
	make_runner("ls -l /proc/$$/fd");
	start();
	expect_status(finish(WAIT_MS), "exited with status 0");
	log = read_log(NULL);
	for (line = strtok_r(log, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		if ((arrow = strstr(line, " -> ")) == NULL)
			continue;
		*arrow = '\0';
		ck_assert_ptr_nonnull(num = strrchr(line, ' '));
		fd = strtol(num + 1, NULL, 10);
		if (fd <= 2) {
			seen |= 1 << fd;
			continue;
		}
		ck_assert_msg(strcmp(arrow + 4, runner_path) == 0,
		    "descriptor %ld reached the runner: %s", fd, arrow + 4);
	}
	ck_assert_int_eq(seen, 7);
	free(log);
}
END_TEST

/* Signals 32 and 33, as bits of /proc's masks (bit n - 1: signal n). */
#define RESERVED_SIGNALS	(3ULL << 31)

START_TEST(signals_are_default_and_unblocked)
{
	sigset_t		 set;
	char			*log, *ign;
	unsigned long long	 mask;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	ck_assert_int_eq(sigprocmask(SIG_BLOCK, &set, NULL), 0);
	ck_assert(signal(SIGUSR2, SIG_IGN) != SIG_ERR);

	/*
	 * cat(1) itself is the runner's image (a shell would clear the
	 * mask): it prints its own status, then the script and payload.
	 */
	write_file(runner_path, "#!/bin/cat /proc/self/status\n", 0755);
	start();
	expect_status(finish(WAIT_MS), "exited with status 0");
	log = read_log(NULL);
	ck_assert_ptr_nonnull(strstr(log, "\nSigBlk:\t0000000000000000\n"));
	ck_assert_ptr_nonnull(ign = strstr(log, "\nSigIgn:\t"));
	mask = strtoull(ign + 9, NULL, 16);

	/*
	 * glibc keeps signals 32 and 33 for itself and refuses to change
	 * their disposition, so they stay as the test's parent left them
	 * (make ignores them on some systems); glibc sets them again in a
	 * runner that needs them.
	 */
	ck_assert_msg((mask & ~RESERVED_SIGNALS) == 0,
	    "ignored signals reached the runner: %llx", mask);
	free(log);
}
END_TEST

START_TEST(runner_starts_in_run_dir)
{
	char	 want[PATH_MAX + 2], real[PATH_MAX];

	ck_assert_ptr_nonnull(realpath(dir, real));
	(void)snprintf(want, sizeof(want), "%s\n", real);
	make_runner("readlink /proc/$$/cwd");
	start();
	expect_status(finish(WAIT_MS), "exited with status 0");
	expect_log(want);
}
END_TEST

START_TEST(payload_path_is_argv1)
{
	char	 want[3 * PATH_MAX];

	make_runner("echo \"$# $0 $1\"\ncat \"$1\"");
	start();
	expect_status(finish(WAIT_MS), "exited with status 0");
	(void)snprintf(want, sizeof(want), "1 %s %s\n{\"run_id\": \"" RUN_ID
	    "\"}\n", runner_path, payload_path);
	expect_log(want);
}
END_TEST

START_TEST(output_over_the_cap_is_cut_with_one_marker)
{
	const char	*marker = "\n[gittinkerer: log cut at 1000 bytes; "
			    "later output discarded]\n";
	char		 want[2048], path[PATH_MAX], *log;
	size_t		 len = 0, loglen;
	int		 i, n;

	/* 20000 lines, far more than a pipe holds. */
	make_runner("i=0\n"
	    "while [ $i -lt 20000 ]; do\n"
	    "	echo \"line $i of the output\"\n"
	    "	i=$((i + 1))\n"
	    "done\n"
	    "echo done >finished");
	spec.log_cap = 1000;
	start();
	expect_status(finish(20000), "exited with status 0");
	path_in(path, sizeof(path), "finished");
	ck_assert_int_eq(access(path, F_OK), 0);

	for (i = 0; len < 1000; i++) {
		n = snprintf(want + len, sizeof(want) - len,
		    "line %d of the output\n", i);
		len += (size_t)n;
	}
	/* 1000 bytes end mid-line: the marker starts a line of its own. */
	ck_assert_uint_ne(want[999], '\n');
	memcpy(want + 1000, marker, strlen(marker) + 1);

	log = read_log(&loglen);
	ck_assert_uint_eq(loglen, 1000 + strlen(marker));
	ck_assert_str_eq(log, want);
	free(log);
}
END_TEST

START_TEST(output_left_in_the_pipe_is_drained_at_reap)
{
	int64_t	 deadline = mono_ms() + WAIT_MS;
	int	 status, rc;

	/* Never pumped: the output is still in the pipe at the exit. */
	make_runner("echo last words\nexit 4");
	start();
	while ((rc = child_reap(child, &status)) == 0) {
		ck_assert_msg(mono_ms() < deadline, "runner still running");
		sleep_ms(10);
	}
	ck_assert_int_eq(rc, 1);
	expect_status(status, "exited with status 4");
	expect_log("last words\n");
}
END_TEST

START_TEST(sigterm_to_the_group_ends_a_sleeping_runner)
{
	int	 status;

	make_runner("echo ready\nsleep 30\necho not reached");
	start();
	wait_log("ready\n", WAIT_MS);
	child_signal(child, SIGTERM);
	status = finish(WAIT_MS);
	expect_status(status, "killed by signal 15 (Terminated)");
	expect_log("ready\n");
}
END_TEST

START_TEST(runner_ignoring_sigterm_needs_sigkill)
{
	int	 status;

	make_runner("trap '' TERM\necho ready\nsleep 30");
	start();
	wait_log("ready\n", WAIT_MS);
	child_signal(child, SIGTERM);
	ck_assert_msg(watch_until(mono_ms() + 300, &status) == 0,
	    "runner ended on SIGTERM");
	child_signal(child, SIGKILL);
	expect_status(finish(WAIT_MS), "killed by signal 9 (Killed)");
}
END_TEST

START_TEST(grandchild_in_the_group_dies_with_the_leader)
{
	pid_t	 gc;

	make_runner("sleep 30 &\necho $! >gc.pid\nexit 0");
	start();
	expect_status(finish(WAIT_MS), "exited with status 0");
	gc = read_pid("gc.pid", WAIT_MS);
	wait_dead(gc, WAIT_MS);
	wait_gone(gc, WAIT_MS);
}
END_TEST

START_TEST(grandchild_that_called_setsid_is_killed)
{
	pid_t	 gc;

	/* The runner leaves once the grandchild has left its group. */
	make_runner("setsid sh -c 'echo $$ >gc.tmp; mv gc.tmp gc.pid;"
	    " exec sleep 30' &\n"
	    "while [ ! -e gc.pid ]; do sleep 0.01; done\n"
	    "exit 0");
	start();
	expect_status(finish(WAIT_MS), "exited with status 0");
	gc = read_pid("gc.pid", WAIT_MS);

	/* The group's SIGKILL did not reach it; the orphans' reaping does. */
	ck_assert_msg(!is_dead(gc), "escaped grandchild died with the group");
	ck_assert_int_ne(getsid(gc), child_pid(child));
	wait_gone(gc, WAIT_MS);
}
END_TEST

START_TEST(orphan_in_a_running_group_is_left_alone)
{
	pid_t	 gc;
	int	 i;

	/* The subshell exits at once: its sleep is handed to us. */
	make_runner("(sleep 30 & echo $! >gc.pid)\necho ready\nsleep 30");
	start();
	wait_log("ready\n", WAIT_MS);
	gc = read_pid("gc.pid", WAIT_MS);
	for (i = 0; i < 5; i++) {
		ck_assert_int_eq(spawner_reap_orphans(), 0);
		sleep_ms(20);
	}
	ck_assert(!is_dead(gc));

	child_signal(child, SIGKILL);
	expect_status(finish(WAIT_MS), "killed by signal 9 (Killed)");
	wait_dead(gc, WAIT_MS);
	wait_gone(gc, WAIT_MS);
}
END_TEST

START_TEST(freeing_a_running_child_kills_its_group)
{
	pid_t	 gc, leader;

	make_runner("sleep 30 &\necho $! >gc.pid\necho ready\nsleep 30");
	start();
	wait_log("ready\n", WAIT_MS);
	gc = read_pid("gc.pid", WAIT_MS);
	leader = child_pid(child);
	child_free(child);
	child = NULL;
	wait_gone(leader, WAIT_MS);
	wait_gone(gc, WAIT_MS);
}
END_TEST

START_TEST(open_files_limit_applies)
{
	make_runner("ulimit -n");
	spec.max_open_files = 64;
	start();
	expect_status(finish(WAIT_MS), "exited with status 0");
	expect_log("64\n");
}
END_TEST

/* The soft and hard values of the line of /proc/PID/limits for name. */
static void
limits_of(const char *log, const char *name, unsigned long long *soft,
    unsigned long long *hard)
{
	const char	*p;

	ck_assert_msg((p = strstr(log, name)) != NULL, "no %s", name);
	ck_assert_int_eq(sscanf(p + strlen(name), " %llu %llu", soft, hard),
	    2);
}

START_TEST(process_and_memory_limits_apply)
{
	struct rlimit		 nproc;
	unsigned long long	 soft, hard, want;
	char			*log;

	ck_assert_int_eq(getrlimit(RLIMIT_NPROC, &nproc), 0);
	want = nproc.rlim_max != RLIM_INFINITY && nproc.rlim_max < 4000 ?
	    nproc.rlim_max : 4000;
	make_runner("cat /proc/$$/limits");
	spec.max_procs = 4000;
	spec.max_memory_bytes = 2L * 1024 * 1024 * 1024;
	start();
	expect_status(finish(WAIT_MS), "exited with status 0");

	log = read_log(NULL);
	limits_of(log, "Max processes", &soft, &hard);
	ck_assert_uint_eq(soft, want);
	ck_assert_uint_eq(hard, want);
	limits_of(log, "Max address space", &soft, &hard);
	ck_assert_uint_eq(soft, 2ULL * 1024 * 1024 * 1024);
	ck_assert_uint_eq(hard, 2ULL * 1024 * 1024 * 1024);
	free(log);
}
END_TEST

static const struct json *
member(const struct json *o, const char *key, enum json_type type)
{
	const struct json	*v;

	ck_assert_msg((v = json_get(o, key)) != NULL, "no %s", key);
	ck_assert_msg(v->type == type, "%s of type %d", key, (int)v->type);
	return v;
}

START_TEST(example_runner_writes_summary_and_result)
{
	static char		 delay[] = "GITTINKERER_EXAMPLE_DELAY_MS=20";
	static const char *const metrics[] = { "tokens_in", "tokens_out",
	    "cost_usd", "files_changed" };
	const struct json	*root, *m;
	struct arena		*a;
	enum json_error		 jerr;
	char			*env[16], path[PATH_MAX], *text, *log;
	size_t			 i, len;

	write_file(payload_path, "{\"run_id\": \"" RUN_ID "\", \"repo\": "
	    "{\"owner\": \"octo\", \"name\": \"widgets\", \"full_name\": "
	    "\"octo/widgets\"}, \"target\": {\"type\": \"pull_request\", "
	    "\"number\": 7}, \"instruction\": \"fix the dates\"}\n", 0600);
	for (i = 0; envp[i] != NULL; i++)
		env[i] = envp[i];
	env[i++] = delay;
	env[i] = NULL;
	spec.envp = env;
	spec.path = GT_EXAMPLE_RUNNER;
	start();
	expect_status(finish(WAIT_MS), "exited with status 0");

	log = read_log(NULL);
	ck_assert_ptr_nonnull(strstr(log, "run " RUN_ID " started"));
	free(log);
	path_in(path, sizeof(path), "summary.txt");
	text = slurp(path, NULL);
	ck_assert_ptr_nonnull(strstr(text, RUN_ID));
	ck_assert_ptr_nonnull(strstr(text, "fix the dates"));
	free(text);

	path_in(path, sizeof(path), "result.json");
	text = slurp(path, &len);
	ck_assert_ptr_nonnull(a = arena_new());
	root = json_parse(a, text, len, &jerr);
	ck_assert_msg(root != NULL, "result.json: %s", json_error_name(jerr));
	ck_assert_int_eq(root->type, JSON_OBJECT);
	ck_assert_uint_gt(member(root, "summary", JSON_STRING)->len, 0);
	ck_assert_str_eq(member(root, "pr_url", JSON_STRING)->str,
	    "https://github.com/octo/widgets/pull/7");
	(void)member(root, "commit_sha", JSON_NULL);
	m = member(root, "metrics", JSON_OBJECT);
	for (i = 0; i < sizeof(metrics) / sizeof(metrics[0]); i++)
		ck_assert_str_eq(member(m, metrics[i], JSON_NUMBER)->str, "0");
	arena_free(a);
	free(text);
}
END_TEST

static Suite *
spawner_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("spawner");
	tc = tcase_create("runner");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, exit_0_succeeds_and_the_log_holds_both_streams);
	tcase_add_test(tc, log_is_appended_to);
	tcase_add_test(tc, exit_3_is_described_with_its_status);
	tcase_add_test(tc, killed_runner_is_described_with_its_signal);
	tcase_add_test(tc, describer_names_a_core_dump);
	tcase_add_test(tc, missing_runner_fails_at_spawn);
	tcase_add_test(tc, non_executable_runner_fails_at_spawn);
	tcase_add_test(tc, missing_run_dir_fails_at_spawn);
	tcase_add_test(tc, unopenable_log_fails_at_spawn);
	tcase_add_test(tc, environment_is_exactly_the_built_one);
	tcase_add_test(tc, env_has_gh_token_only_when_given);
	tcase_add_test(tc, env_refuses_a_missing_variable);
	tcase_add_test(tc, stdin_is_dev_null);
	tcase_add_test(tc, no_descriptor_of_the_service_reaches_the_runner);
	tcase_add_test(tc, signals_are_default_and_unblocked);
	tcase_add_test(tc, runner_starts_in_run_dir);
	tcase_add_test(tc, payload_path_is_argv1);
	tcase_add_test(tc, output_over_the_cap_is_cut_with_one_marker);
	tcase_add_test(tc, output_left_in_the_pipe_is_drained_at_reap);
	tcase_add_test(tc, sigterm_to_the_group_ends_a_sleeping_runner);
	tcase_add_test(tc, runner_ignoring_sigterm_needs_sigkill);
	tcase_add_test(tc, grandchild_in_the_group_dies_with_the_leader);
	tcase_add_test(tc, grandchild_that_called_setsid_is_killed);
	tcase_add_test(tc, orphan_in_a_running_group_is_left_alone);
	tcase_add_test(tc, freeing_a_running_child_kills_its_group);
	tcase_add_test(tc, process_and_memory_limits_apply);
	tcase_add_test(tc, example_runner_writes_summary_and_result);
	suite_add_tcase(s, tc);

	/*
	 * valgrind refuses a change of the descriptors' hard limit in the
	 * process it watches (the child before its execve), so make
	 * check-valgrind leaves this case out by its tag; make check and
	 * make check-sanitizers run it.
	 */
	tc = tcase_create("open_files");
	tcase_set_tags(tc, "no_valgrind");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, open_files_limit_applies);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	sr = srunner_create(spawner_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
