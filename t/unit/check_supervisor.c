/*
 * check_supervisor.c: the pool's supervisor, run in a forked child with
 * small test workers on a unix socket in a temporary directory.
 *
 * The workers and the load hook report what they do as one line each on
 * a pipe the test reads: "start PID GEN MS", "begin PID", "done PID MS",
 * "stop PID GEN NEWER", "load PID CALL OK", "probe PID OK".  MS is read
 * from the monotonic clock in the reporting process, so gaps between
 * lines measure the supervisor, not how fast the test reads them.
 *
 * Every process started here dies with its parent (PR_SET_PDEATHSIG), so
 * a failing test leaves no worker behind.
 */
#include <config.h>

#include <sys/types.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <check.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pool/listen.h"
#include "pool/supervisor.h"

#define DIR_TEMPLATE	"/tmp/gt-pool.XXXXXX"
#define MAX_FIELDS	4

struct tctx {
	int	 events;	/* write end of the report pipe */
	int	 workers;
	int	 drain_s;
	int	 fail_first;	/* the first load fails */
	int	 fail_reload;	/* every load after the first fails */
	int	 slow_ms;	/* how long a request takes */
	int	 quota;		/* requests before recycling, 0 for none */
	int	 calls;		/* load calls so far */
	int	 gen;		/* successful loads so far */
};

struct event {
	char		 word[16];
	long long	 f[MAX_FIELDS - 1];	/* pid first */
};

static char		 dir[] = DIR_TEMPLATE;
static char		 sock_path[sizeof(dir) + 16];
static char		 count_path[sizeof(dir) + 16];
static int		 lfd = -1;
static int		 ev_fd = -1;
static pid_t		 sup = -1;
static char		 rbuf[8192];
static size_t		 rlen;
static struct tctx	 ctx;

static volatile sig_atomic_t	 stop_asked;

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

/* Parses a whole decimal number; returns 0 or -1. */
static int
parse_ll(const char *s, long long *out)
{
	char	*end;

	if (!isdigit((unsigned char)s[0]) && s[0] != '-')
		return -1;
	errno = 0;
	*out = strtoll(s, &end, 10);
	return errno == 0 && *end == '\0' ? 0 : -1;
}

/* Writes one report line in a single write(2), which the pipe keeps whole. */
static void __attribute__((format(printf, 2, 3)))
report(int fd, const char *fmt, ...)
{
	char	 line[128];
	va_list	 ap;
	int	 n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(line) - 1)
		return;
	line[n++] = '\n';
	if (write(fd, line, (size_t)n) == -1)
		return;
}

/*
 * Reads the next report line within timeout_ms.  Returns 1, 0 on timeout,
 * or -1 when every writer is gone.
 */
static int
next_event(struct event *e, int timeout_ms)
{
	struct pollfd	 pfd;
	int64_t		 deadline = mono_ms() + timeout_ms, left;
	char		*nl, *tok, *save;
	ssize_t		 n;
	int		 i;

	for (;;) {
		if ((nl = memchr(rbuf, '\n', rlen)) != NULL)
			break;
		if ((left = deadline - mono_ms()) <= 0)
			return 0;
		pfd.fd = ev_fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, (int)left) <= 0)
			continue;
		n = read(ev_fd, rbuf + rlen, sizeof(rbuf) - 1 - rlen);
		if (n <= 0)
			return -1;
		rlen += (size_t)n;
	}

	*nl = '\0';
	memset(e, 0, sizeof(*e));
	tok = strtok_r(rbuf, " ", &save);
	ck_assert_ptr_nonnull(tok);
	ck_assert_uint_lt(strlen(tok), sizeof(e->word));
	memcpy(e->word, tok, strlen(tok) + 1);
	for (i = 0; (tok = strtok_r(NULL, " ", &save)) != NULL; i++) {
		ck_assert_int_lt(i, MAX_FIELDS - 1);
		ck_assert_msg(parse_ll(tok, &e->f[i]) == 0, "bad field %s",
		    tok);
	}
	rlen -= (size_t)(nl + 1 - rbuf);
	memmove(rbuf, nl + 1, rlen);
	return 1;
}

/* Reads events until one with word arrives; fails after timeout_ms. */
static void
expect_event(struct event *e, const char *word, int timeout_ms)
{
	int64_t	 deadline = mono_ms() + timeout_ms;
	int	 rc;

	do {
		rc = next_event(e, (int)(deadline - mono_ms()));
		ck_assert_msg(rc == 1, "no \"%s\" report within %d ms", word,
		    timeout_ms);
	} while (strcmp(e->word, word) != 0);
}

/* Dies when the parent does, unless the parent is already gone. */
static void
die_with_parent(pid_t parent)
{
	(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(99);
}

static void
on_term(int sig)
{
	(void)sig;
	stop_asked = 1;
}

/*
 * How many children of our supervisor carry the name of generation gen.
 * The load hook names the supervisor after the generation it loads, and
 * a child has its parent's name from the moment it is forked, so this
 * counts the workers of gen forked so far, whether they have run yet or
 * not.  Linux only: it reads /proc/PID/stat.
 */
static int
count_generation(int gen)
{
	struct dirent	*de;
	char		 path[64], buf[512], name[32], *lparen, *rparen;
	long long	 ppid;
	ssize_t		 n;
	DIR		*d;
	int		 fd, count = 0;

	(void)snprintf(name, sizeof(name), "gtpool-g%d", gen);
	if ((d = opendir("/proc")) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		if (snprintf(path, sizeof(path), "/proc/%s/stat",
		    de->d_name) >= (int)sizeof(path))
			continue;
		if ((fd = open(path, O_RDONLY)) == -1)
			continue;
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n <= 0)
			continue;
		buf[n] = '\0';

		/* "pid (comm) state ppid ..." */
		lparen = strchr(buf, '(');
		rparen = strrchr(buf, ')');
		if (lparen == NULL || rparen == NULL || rparen[1] != ' ' ||
		    rparen[2] == '\0')
			continue;
		*rparen = '\0';
		ppid = strtoll(rparen + 4, NULL, 10);
		if (ppid == (long long)getppid() &&
		    strcmp(lparen + 1, name) == 0)
			count++;
	}
	closedir(d);
	return count;
}

/*
 * Sets a worker up as the real ones are: SIGTERM asks it to stop and is
 * only taken while it waits for a connection, never in a request.
 */
static void
worker_prepare(const struct tctx *c, int fd, sigset_t *waitmask)
{
	struct sigaction	 sa;
	sigset_t		 term;

	die_with_parent(getppid());
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;
	sigemptyset(&sa.sa_mask);
	(void)sigaction(SIGTERM, &sa, NULL);
	(void)signal(SIGPIPE, SIG_IGN);
	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	(void)sigprocmask(SIG_BLOCK, &term, waitmask);
	(void)fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	report(c->events, "start %ld %d %lld", (long)getpid(), c->gen,
	    (long long)mono_ms());
}

/* Answers each connection with its pid until asked to stop. */
static int
worker_serve(void *arg, int fd)
{
	const struct tctx	*c = arg;
	struct pollfd		 pfd;
	sigset_t		 waitmask;
	int			 conn, served = 0;

	worker_prepare(c, fd, &waitmask);
	while (!stop_asked) {
		pfd.fd = fd;
		pfd.events = POLLIN;
		if (ppoll(&pfd, 1, NULL, &waitmask) == -1 || stop_asked)
			continue;
		if ((conn = accept(fd, NULL, NULL)) == -1)
			continue;	/* another worker took it */

		report(c->events, "begin %ld", (long)getpid());
		if (c->slow_ms > 0)
			sleep_ms(c->slow_ms);
		report(conn, "%ld", (long)getpid());
		close(conn);
		report(c->events, "done %ld %lld", (long)getpid(),
		    (long long)mono_ms());
		if (c->quota > 0 && ++served >= c->quota)
			return POOL_EXIT_RECYCLE;
	}
	report(c->events, "stop %ld %d %d", (long)getpid(), c->gen,
	    count_generation(c->gen + 1));
	return 0;
}

static int
worker_crash(void *arg, int fd)
{
	sigset_t	 waitmask;

	worker_prepare(arg, fd, &waitmask);
	return 70;
}

/* Crashes at once, except the third, which lives 1.5 s first. */
static int
worker_flaky(void *arg, int fd)
{
	struct stat	 st;
	sigset_t	 waitmask;
	int		 cfd;

	worker_prepare(arg, fd, &waitmask);
	cfd = open(count_path, O_WRONLY | O_APPEND | O_CREAT, 0600);
	if (cfd == -1 || write(cfd, "x", 1) != 1 || fstat(cfd, &st) == -1)
		return 71;
	close(cfd);
	if (st.st_size == 3)
		sleep_ms(1500);
	return 70;
}

/* Ignores SIGTERM; only SIGKILL stops it. */
static int
worker_stuck(void *arg, int fd)
{
	sigset_t	 waitmask;

	worker_prepare(arg, fd, &waitmask);
	(void)signal(SIGTERM, SIG_IGN);
	for (;;)
		pause();
	return 0;
}

/* Reports whether it started with default actions and an empty mask. */
static int
worker_probe(void *arg, int fd)
{
	const struct tctx	*c = arg;
	static const int	 sigs[] = { SIGTERM, SIGINT, SIGHUP, SIGCHLD };
	struct sigaction	 sa;
	sigset_t		 mask;
	size_t			 i;
	int			 ok = 1;

	die_with_parent(getppid());
	(void)sigprocmask(SIG_BLOCK, NULL, &mask);
	if (sigismember(&mask, SIGUSR1))
		ok = 0;
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		if (sigismember(&mask, sigs[i]))
			ok = 0;
		if (sigaction(sigs[i], NULL, &sa) == -1 ||
		    sa.sa_handler != SIG_DFL)
			ok = 0;
	}
	report(c->events, "probe %ld %d", (long)getpid(), ok);
	for (;;)
		pause();
	return 0;
}

/* The supervisor's word that a worker died unasked. */
static void
test_died(void *arg, pid_t pid, int status)
{
	struct tctx	*c = arg;

	report(c->events, "died %ld %d", (long)pid, status);
}

static int
test_load(void *arg, struct pool_opts *opts)
{
	struct tctx	*c = arg;
	char		 name[32];
	int		 fail;

	c->calls++;
	fail = c->calls == 1 ? c->fail_first : c->fail_reload;
	report(c->events, "load %ld %d %d", (long)getpid(), c->calls, !fail);
	if (fail)
		return -1;
	c->gen++;
	opts->workers = c->workers;
	opts->drain_timeout_s = c->drain_s;
	/* The kernel keeps 15 bytes of the name: enough for any test. */
	(void)snprintf(name, sizeof(name), "gtpool-g%d", c->gen);
	(void)prctl(PR_SET_NAME, name);
	return 0;
}

/*
 * Runs in the supervisor before each fork after a reload.  Forking slowly
 * leaves an old worker told to stop too early the time to see that the
 * new generation is not there yet.
 */
static void
slow_fork(void)
{
	if (ctx.gen >= 2)
		sleep_ms(150);
}

static void
teardown(void)
{
	if (sup > 0) {
		(void)kill(sup, SIGKILL);
		(void)waitpid(sup, NULL, 0);
	}
	if (ctx.events != -1)
		close(ctx.events);
	close(ev_fd);
	close(lfd);
	(void)unlink(sock_path);
	(void)unlink(count_path);
	(void)rmdir(dir);
}

static void
setup(void)
{
	char	 spec[sizeof(sock_path) + 8];
	char	 err[256];
	int	 p[2];

	memcpy(dir, DIR_TEMPLATE, sizeof(dir));
	ck_assert_ptr_nonnull(mkdtemp(dir));
	(void)snprintf(sock_path, sizeof(sock_path), "%s/pool.sock", dir);
	(void)snprintf(count_path, sizeof(count_path), "%s/count", dir);
	(void)snprintf(spec, sizeof(spec), "unix:%s", sock_path);
	lfd = listen_bind(spec, 0600, err, sizeof(err));
	ck_assert_msg(lfd != -1, "%s", err);

	ck_assert_int_eq(pipe(p), 0);
	ev_fd = p[0];
	memset(&ctx, 0, sizeof(ctx));
	ctx.events = p[1];
	ctx.workers = 1;
	ctx.drain_s = 5;
	rlen = 0;
	sup = -1;
	stop_asked = 0;
}

/*
 * Forks the supervisor with the given worker.  In the child, SIGHUP is
 * ignored and SIGUSR1 blocked first, as a caller might have them, and the
 * exit status says whether supervisor_run() gave them back: its return
 * value, or 20 when it did not.
 */
static void
start_pool(int (*worker)(void *, int))
{
	struct pool_hooks	 hooks;
	struct sigaction	 sa;
	sigset_t		 usr1, mask;
	pid_t			 parent = getpid();
	int			 rc;

	sup = fork();
	ck_assert_int_ne(sup, -1);
	if (sup == 0) {
		die_with_parent(parent);
		close(ev_fd);
		(void)signal(SIGHUP, SIG_IGN);
		sigemptyset(&usr1);
		sigaddset(&usr1, SIGUSR1);
		(void)sigprocmask(SIG_BLOCK, &usr1, NULL);
		(void)pthread_atfork(slow_fork, NULL, NULL);

		memset(&hooks, 0, sizeof(hooks));
		hooks.arg = &ctx;
		hooks.load = test_load;
		hooks.worker = worker;
		hooks.died = test_died;
		rc = supervisor_run(lfd, &hooks);

		(void)sigprocmask(SIG_BLOCK, NULL, &mask);
		(void)sigaction(SIGHUP, NULL, &sa);
		if (!sigismember(&mask, SIGUSR1) ||
		    sigismember(&mask, SIGTERM) ||
		    sigismember(&mask, SIGCHLD) || sa.sa_handler != SIG_IGN)
			_exit(20);
		_exit(rc);
	}
	close(ctx.events);
	ctx.events = -1;
}

/* Waits for the supervisor to return; fails after timeout_ms. */
static int
wait_pool(int timeout_ms)
{
	int64_t	 deadline = mono_ms() + timeout_ms;
	pid_t	 pid;
	int	 status;

	while ((pid = waitpid(sup, &status, WNOHANG)) == 0 &&
	    mono_ms() < deadline)
		sleep_ms(10);
	ck_assert_msg(pid == sup, "supervisor still running after %d ms",
	    timeout_ms);
	sup = -1;
	ck_assert_msg(WIFEXITED(status), "supervisor died of signal %d",
	    WTERMSIG(status));
	return WEXITSTATUS(status);
}

static void
stop_pool(void)
{
	ck_assert_int_eq(kill(sup, SIGTERM), 0);
	ck_assert_int_eq(wait_pool(5000), 0);
}

static int
connect_pool(void)
{
	struct sockaddr_un	 sun;
	int			 fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, sock_path, strlen(sock_path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	ck_assert_int_ne(fd, -1);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	return fd;
}

/* Reads the pid a worker answered with on fd, within timeout_ms. */
static long long
read_answer(int fd, int timeout_ms)
{
	struct pollfd	 pfd = { fd, POLLIN, 0 };
	char		 buf[32];
	long long	 pid;
	size_t		 len = 0;
	ssize_t		 n;

	for (;;) {
		ck_assert_msg(poll(&pfd, 1, timeout_ms) == 1,
		    "no answer within %d ms", timeout_ms);
		n = read(fd, buf + len, sizeof(buf) - 1 - len);
		ck_assert_int_ne(n, -1);
		if (n == 0)
			break;
		len += (size_t)n;
	}
	ck_assert_uint_gt(len, 1);
	ck_assert_int_eq(buf[len - 1], '\n');
	buf[len - 1] = '\0';
	ck_assert_int_eq(parse_ll(buf, &pid), 0);
	return pid;
}

static long long
ask_pool(void)
{
	long long	 pid;
	int		 fd;

	fd = connect_pool();
	pid = read_answer(fd, 3000);
	close(fd);
	return pid;
}

START_TEST(workers_share_the_socket_and_answer)
{
	struct event	 e;
	long long	 pids[2], pid;
	int		 i, stops = 0;

	ctx.workers = 2;
	start_pool(worker_serve);
	for (i = 0; i < 2; i++) {
		expect_event(&e, "start", 3000);
		pids[i] = e.f[0];
	}
	ck_assert_int_ne(pids[0], pids[1]);

	for (i = 0; i < 8; i++) {
		pid = ask_pool();
		ck_assert_msg(pid == pids[0] || pid == pids[1],
		    "answer from %lld, not a worker", pid);
	}

	stop_pool();
	while (next_event(&e, 1000) == 1) {
		ck_assert_str_ne(e.word, "start");
		if (strcmp(e.word, "stop") == 0)
			stops++;
	}
	ck_assert_int_eq(stops, 2);
}
END_TEST

START_TEST(first_load_failing_starts_nothing)
{
	struct event	 e;

	ctx.fail_first = 1;
	start_pool(worker_serve);
	ck_assert_int_eq(wait_pool(3000), 1);
	expect_event(&e, "load", 1000);
	ck_assert_int_eq(e.f[2], 0);
	ck_assert_int_eq(next_event(&e, 1000), -1);
}
END_TEST

START_TEST(crashing_worker_is_backed_off)
{
	struct event	 e;
	long long	 starts[16], gap;
	int64_t		 window;
	int		 n = 0, i, rc;

	start_pool(worker_crash);
	expect_event(&e, "start", 3000);
	starts[n++] = e.f[2];
	expect_event(&e, "died", 1000);
	ck_assert_int_eq(WIFEXITED(e.f[1]) ? WEXITSTATUS(e.f[1]) : -1, 70);

	/* Forks at 0, 0.1, 0.3, 0.7 and 1.5 s; without backoff, hundreds. */
	window = starts[0] + 2500;
	while (n < 16 && mono_ms() < window) {
		rc = next_event(&e, 200);
		ck_assert_int_ne(rc, -1);
		if (rc == 1 && strcmp(e.word, "start") == 0 && e.f[2] < window)
			starts[n++] = e.f[2];
	}
	ck_assert_msg(n >= 3 && n <= 7, "%d forks in 2.5 s", n);

	/* Each delay doubles the one before, from 100 ms. */
	for (i = 1; i < n; i++) {
		gap = starts[i] - starts[i - 1];
		ck_assert_msg(gap >= (100LL << (i - 1)) - 2,
		    "fork %d came %lld ms after the one before", i + 1, gap);
	}

	/* A drain with no worker alive returns at once. */
	stop_pool();
}
END_TEST

START_TEST(backoff_resets_after_a_worker_lived_long)
{
	struct event	 e;
	long long	 starts[5];
	int		 n;

	start_pool(worker_flaky);
	for (n = 0; n < 5; n++) {
		expect_event(&e, "start", 4000);
		starts[n] = e.f[2];
	}

	/* The third lived 1.5 s: replaced at once, not after 400 ms. */
	ck_assert_msg(starts[3] - starts[2] < 1500 + 300,
	    "long-lived worker replaced after %lld ms",
	    starts[3] - starts[2]);

	/* Its successor crashed: the backoff starts over at 100 ms. */
	ck_assert_msg(starts[4] - starts[3] >= 98 &&
	    starts[4] - starts[3] < 300,
	    "crash after a reset backed off %lld ms", starts[4] - starts[3]);
	stop_pool();
}
END_TEST

START_TEST(recycled_worker_is_replaced_at_once)
{
	struct event	 e;
	long long	 pid, prev = 0, done_ms = 0, waited = 0;
	int		 i;

	ctx.quota = 1;
	start_pool(worker_serve);
	expect_event(&e, "start", 3000);
	pid = e.f[0];

	for (i = 0; i < 5; i++) {
		ck_assert_int_eq(ask_pool(), pid);
		ck_assert_int_ne(pid, prev);
		expect_event(&e, "done", 3000);
		done_ms = e.f[1];
		expect_event(&e, "start", 3000);
		waited += e.f[2] - done_ms;
		prev = pid;
		pid = e.f[0];
	}

	/* Backoff would have cost 100 + 200 + 400 + 800 + 1600 ms. */
	ck_assert_msg(waited < 400, "replacements took %lld ms in all",
	    waited);

	/* A worker that served its quota did not die. */
	while (next_event(&e, 200) == 1)
		ck_assert_str_ne(e.word, "died");
	stop_pool();
}
END_TEST

START_TEST(sigterm_lets_the_request_in_hand_finish)
{
	struct event	 e;
	long long	 worker;
	int64_t		 asked;
	int		 fd;

	ctx.slow_ms = 1000;
	start_pool(worker_serve);
	expect_event(&e, "start", 3000);
	worker = e.f[0];

	fd = connect_pool();
	expect_event(&e, "begin", 3000);
	asked = mono_ms();
	ck_assert_int_eq(kill(sup, SIGTERM), 0);

	sleep_ms(200);
	ck_assert_msg(waitpid(sup, NULL, WNOHANG) == 0,
	    "supervisor returned with a request in hand");
	ck_assert_int_eq(read_answer(fd, 3000), worker);
	close(fd);

	ck_assert_int_eq(wait_pool(3000), 0);
	ck_assert_msg(mono_ms() - asked < 4000, "drain took %lld ms",
	    (long long)(mono_ms() - asked));
	expect_event(&e, "stop", 1000);
	ck_assert_int_eq(e.f[0], worker);
}
END_TEST

START_TEST(worker_that_ignores_sigterm_is_killed_after_drain_timeout)
{
	struct event	 e;
	int64_t		 asked, took;

	ctx.drain_s = 1;
	start_pool(worker_stuck);
	expect_event(&e, "start", 3000);

	asked = mono_ms();
	ck_assert_int_eq(kill(sup, SIGTERM), 0);
	ck_assert_int_eq(wait_pool(4000), 0);
	took = mono_ms() - asked;
	ck_assert_msg(took >= 950 && took < 3500, "drain took %lld ms",
	    (long long)took);
	ck_assert_int_eq(kill((pid_t)e.f[0], 0), -1);
}
END_TEST

START_TEST(sighup_starts_new_generation_before_stopping_old)
{
	struct event	 e;
	long long	 old[2], pid;
	int		 new_started = 0, old_stopped = 0, i;

	ctx.workers = 2;
	start_pool(worker_serve);
	for (i = 0; i < 2; i++) {
		expect_event(&e, "start", 3000);
		ck_assert_int_eq(e.f[1], 1);
		old[i] = e.f[0];
	}

	ck_assert_int_eq(kill(sup, SIGHUP), 0);
	while (new_started < 2 || old_stopped < 2) {
		ck_assert_msg(next_event(&e, 3000) == 1,
		    "reload incomplete: %d started, %d stopped", new_started,
		    old_stopped);
		if (strcmp(e.word, "start") == 0) {
			ck_assert_int_eq(e.f[1], 2);
			new_started++;
		} else if (strcmp(e.word, "stop") == 0) {
			ck_assert_int_eq(e.f[1], 1);
			/* Both new workers existed when it was told. */
			ck_assert_msg(e.f[2] == 2,
			    "old worker stopped with %lld new ones", e.f[2]);
			old_stopped++;
		}
	}

	/* The old workers are not replaced; the new ones answer. */
	ck_assert_int_eq(next_event(&e, 300), 0);
	for (i = 0; i < 4; i++) {
		pid = ask_pool();
		ck_assert(pid != old[0] && pid != old[1]);
	}
	stop_pool();
}
END_TEST

START_TEST(failed_reload_keeps_old_workers)
{
	struct event	 e;
	long long	 old[2], pid;
	int		 i;

	ctx.workers = 2;
	ctx.fail_reload = 1;
	start_pool(worker_serve);
	for (i = 0; i < 2; i++) {
		expect_event(&e, "start", 3000);
		old[i] = e.f[0];
	}

	ck_assert_int_eq(kill(sup, SIGHUP), 0);
	expect_event(&e, "load", 3000);
	ck_assert_int_eq(e.f[1], 2);
	ck_assert_int_eq(e.f[2], 0);

	/* Nothing started, nothing stopped, the same workers answer. */
	ck_assert_int_eq(next_event(&e, 300), 0);
	for (i = 0; i < 4; i++) {
		pid = ask_pool();
		ck_assert(pid == old[0] || pid == old[1]);
	}
	ck_assert_int_eq(kill((pid_t)old[0], 0), 0);
	ck_assert_int_eq(kill((pid_t)old[1], 0), 0);
	stop_pool();
}
END_TEST

START_TEST(worker_starts_with_default_signals_and_empty_mask)
{
	struct event	 e;

	start_pool(worker_probe);
	expect_event(&e, "probe", 3000);
	ck_assert_msg(e.f[1] == 1, "worker inherited signal state");

	/* stop_pool() also checks the caller's signal state came back. */
	stop_pool();
}
END_TEST

static Suite *
supervisor_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("supervisor");
	tc = tcase_create("pool");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, workers_share_the_socket_and_answer);
	tcase_add_test(tc, first_load_failing_starts_nothing);
	tcase_add_test(tc, sigterm_lets_the_request_in_hand_finish);
	tcase_add_test(tc,
	    worker_that_ignores_sigterm_is_killed_after_drain_timeout);
	tcase_add_test(tc, sighup_starts_new_generation_before_stopping_old);
	tcase_add_test(tc, failed_reload_keeps_old_workers);
	tcase_add_test(tc, worker_starts_with_default_signals_and_empty_mask);
	suite_add_tcase(s, tc);

	/*
	 * These bound the backoff's delays to a few hundred milliseconds,
	 * which the slower fork and start of a worker under valgrind can
	 * exceed: make check-valgrind leaves them out by their tag.
	 */
	tc = tcase_create("backoff");
	tcase_set_tags(tc, "no_valgrind");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, crashing_worker_is_backed_off);
	tcase_add_test(tc, backoff_resets_after_a_worker_lived_long);
	tcase_add_test(tc, recycled_worker_is_replaced_at_once);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	sr = srunner_create(supervisor_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
