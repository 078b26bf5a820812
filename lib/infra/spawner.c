/*
 * spawner.c: starts runners and watches them (see spawner.h).
 *
 * Between fork(2) and execve(2) the child makes system calls only: its
 * arguments, limits, descriptors and the highest descriptor to close are
 * all prepared by the parent before the fork, so that the child needs no
 * lock a thread of the parent could have held.  The child reports a step
 * that failed on a close-on-exec pipe, as two ints (the step and errno);
 * the parent reads end of file when execve(2) succeeded.  All signals are
 * blocked across the fork, so that no handler of the parent runs in the
 * child before the child has set every action back to its default.
 *
 * Every runner not yet reaped is on one list, which spawner_reap_orphans()
 * reads to tell the runners and their groups from orphans.
 */
#include <config.h>	/* the build's, not infra/config.h beside this file */

#include <sys/types.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "infra/clock.h"
#include "infra/spawner.h"

#define PUMP_CHUNK		16384
#define PUMP_MAX_READS		16	/* per child_pump(): 256 KiB */
#define DRAIN_MAX_READS		64	/* after the exit: 1 MiB */
#define CLOSE_MAX_FD		1048576	/* without close_range(2) */
#define REAP_WAIT_MS		100	/* for a runner not started */
#define STAT_MAX		1024	/* of /proc/PID/stat */

/* The steps of the child between fork(2) and execve(2), as reported. */
enum exec_step {
	STEP_SETSID,
	STEP_SIGNALS,
	STEP_DESCRIPTORS,
	STEP_CHDIR,
	STEP_RLIMIT_NPROC,
	STEP_RLIMIT_AS,
	STEP_RLIMIT_NOFILE,
	STEP_EXECVE,
	STEP_COUNT
};

/* What each step is called in a message; some name a path after it. */
static const struct {
	const char	*what;
	int		 names_path;	/* 1: the runner, 2: its folder */
} exec_steps[STEP_COUNT] = {
	[STEP_SETSID] = { "setsid", 0 },
	[STEP_SIGNALS] = { "resetting signals", 0 },
	[STEP_DESCRIPTORS] = { "setting up descriptors", 0 },
	[STEP_CHDIR] = { "chdir", 2 },
	[STEP_RLIMIT_NPROC] = { "setrlimit RLIMIT_NPROC", 0 },
	[STEP_RLIMIT_AS] = { "setrlimit RLIMIT_AS", 0 },
	[STEP_RLIMIT_NOFILE] = { "setrlimit RLIMIT_NOFILE", 0 },
	[STEP_EXECVE] = { "execve", 1 },
};

struct limit_plan {
	int		 resource;
	enum exec_step	 step;
	int		 set;
	struct rlimit	 rl;
};

/* Everything the child needs, made ready before the fork. */
struct exec_plan {
	char			*argv[3];
	char *const		*envp;
	const char		*run_dir;
	int			 null_fd;
	int			 out_fd;	/* the pipe's write end */
	int			 status_fd;	/* the status pipe's */
	int			 max_fd;	/* to close up to, if need be */
	struct limit_plan	 limits[3];
};

struct child {
	struct child	*next;		/* on the list of children */
	pid_t		 pid;
	int		 out_fd;	/* read end, -1 at end of output */
	int		 log_fd;
	size_t		 log_cap;
	size_t		 logged;	/* output bytes written to the log */
	char		 last;		/* the last byte written */
	int		 cut;		/* the cap was passed */
	int		 log_errno;	/* why writing the log failed */
	int		 log_reported;	/* child_pump() returned it */
	int		 reaped;
	int		 wstatus;
};

static struct child	*children;

static void __attribute__((format(printf, 3, 4)))
set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list	 ap;

	if (errlen == 0)
		return;
	va_start(ap, fmt);
	/* A message cut short still says what failed first. */
	(void)vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static void
child_link(struct child *c)
{
	c->next = children;
	children = c;
}

static void
child_unlink(struct child *c)
{
	struct child	**pp;

	for (pp = &children; *pp != NULL; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	c->next = NULL;
}

/* Whether pid leads the process group of a runner not yet reaped. */
static int
live_runner(pid_t pid)
{
	const struct child	*c;

	for (c = children; c != NULL; c = c->next)
		if (c->pid == pid && !c->reaped)
			return 1;
	return 0;
}

int
spawner_init(void)
{
	return prctl(PR_SET_CHILD_SUBREAPER, 1L, 0L, 0L, 0L) == -1 ? -1 : 0;
}

/* Parses a /proc entry's name as a process id; returns 0 or -1. */
static int
parse_pid(const char *s, pid_t *pid)
{
	char	*end;
	long	 v;

	if (*s < '1' || *s > '9')
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v > INT_MAX)
		return -1;
	*pid = (pid_t)v;
	return 0;
}

/*
 * Reads the state, parent and process group of pid from /proc/PID/stat.
 * The command name, in parentheses, may hold anything: the fields are
 * read after its last ')'.  Returns 0, or -1 when the process is gone.
 */
static int
proc_stat(pid_t pid, char *state, pid_t *ppid, pid_t *pgrp)
{
	char	 path[64], buf[STAT_MAX], *p;
	ssize_t	 n;
	int	 fd, a, b;

	if (snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid) >=
	    (int)sizeof(path))
		return -1;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	(void)close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';

	if ((p = strrchr(buf, ')')) == NULL ||
	    sscanf(p + 1, " %c %d %d", state, &a, &b) != 3)
		return -1;
	*ppid = (pid_t)a;
	*pgrp = (pid_t)b;
	return 0;
}

int
spawner_reap_orphans(void)
{
	struct dirent	*de;
	DIR		*dir;
	pid_t		 self = getpid(), pid, ppid, pgrp;
	char		 state;
	int		 killed = 0, status;

	if ((dir = opendir("/proc")) == NULL)
		return -1;
	while ((de = readdir(dir)) != NULL) {
		if (parse_pid(de->d_name, &pid) == -1 ||
		    proc_stat(pid, &state, &ppid, &pgrp) == -1 ||
		    ppid != self || live_runner(pid))
			continue;

		/*
		 * A child of ours that is no runner is an orphan (this
		 * process forks nothing else).  One still in a running
		 * runner's group goes with that group; any other dies.
		 * Being our child, it keeps its pid until we reap it, so
		 * the pid cannot name another process meanwhile.
		 */
		if (state != 'Z' && !live_runner(pgrp) &&
		    kill(pid, SIGKILL) == 0)
			killed++;
		(void)waitpid(pid, &status, WNOHANG);
	}
	(void)closedir(dir);
	return killed;
}

char **
spawner_env_new(const struct runner_env *env)
{
	const struct {
		const char	*name;
		const char	*value;
	} vars[] = {
		{ "PATH", env->path },
		{ "HOME", env->home },
		{ "LANG", env->lang },
		{ "GITTINKERER_RUN_ID", env->run_id },
		{ "GITTINKERER_ARTIFACTS_DIR", env->artifacts_dir },
		{ "GITTINKERER_PAYLOAD", env->payload },
		{ "GH_TOKEN", env->gh_token },	/* optional: the last */
	};
	const size_t	 nvars = sizeof(vars) / sizeof(vars[0]);
	char		**envp;
	size_t		 i, n = 0, len;
	int		 w;

	for (i = 0; i < nvars - 1; i++)
		if (vars[i].value == NULL) {
			errno = EINVAL;
			return NULL;
		}
	if ((envp = calloc(nvars + 1, sizeof(*envp))) == NULL)
		return NULL;

	for (i = 0; i < nvars; i++) {
		if (i == nvars - 1 &&
		    (vars[i].value == NULL || vars[i].value[0] == '\0'))
			continue;
		len = strlen(vars[i].name) + 1 + strlen(vars[i].value) + 1;
		if ((envp[n] = malloc(len)) == NULL)
			goto out_free;
		w = snprintf(envp[n], len, "%s=%s", vars[i].name,
		    vars[i].value);
		n++;
		if (w < 0 || (size_t)w != len - 1) {
			errno = EINVAL;
			goto out_free;
		}
	}
	return envp;

out_free:
	spawner_env_free(envp);
	return NULL;
}

void
spawner_env_free(char **envp)
{
	size_t	 i;

	if (envp == NULL)
		return;
	for (i = 0; envp[i] != NULL; i++) {
		explicit_bzero(envp[i], strlen(envp[i]));
		free(envp[i]);
	}
	free(envp);
}

const char *
spawner_describe_status(int wstatus, char *buf, size_t len)
{
	int	 sig;

	/* SPAWN_STATUS_LEN holds the longest: nothing is cut. */
	if (WIFEXITED(wstatus))
		(void)snprintf(buf, len, "exited with status %d",
		    WEXITSTATUS(wstatus));
	else if (WIFSIGNALED(wstatus)) {
		sig = WTERMSIG(wstatus);
		(void)snprintf(buf, len, "killed by signal %d (%s)%s", sig,
		    strsignal(sig), WCOREDUMP(wstatus) ? ", core dumped" : "");
	} else
		(void)snprintf(buf, len, "ended with wait status %d",
		    wstatus);
	return buf;
}

/* Runs in the child: reports step and errno to the parent, and exits. */
static void __attribute__((noreturn))
exec_fail(int status_fd, enum exec_step step)
{
	int	 report[2];
	ssize_t	 n;

	report[0] = (int)step;
	report[1] = errno;
	/* Under PIPE_BUF bytes: written whole or not at all. */
	n = write(status_fd, report, sizeof(report));
	(void)n;
	_exit(127);
}

/* Runs in the child: closes every descriptor from first on. */
static void
close_from(int first, int max_fd)
{
	int	 fd;

	if (close_range((unsigned int)first, ~0U, 0) == 0)
		return;
	for (fd = first; fd < max_fd; fd++)
		(void)close(fd);
}

/*
 * Runs in the child, between fork(2) and execve(2); does not return.
 * Descriptors are first copied above 2, so that none of them is lost
 * when 0, 1 and 2 are replaced, whatever numbers the parent gave them.
 * The status pipe ends up as 3, close-on-exec, and everything above it is
 * closed.
 */
static void __attribute__((noreturn))
child_exec(const struct exec_plan *p)
{
	struct sigaction	 sa;
	sigset_t		 empty;
	size_t			 i;
	int			 st = p->status_fd, out, null, moved, sig;

	if (setsid() == -1)
		exec_fail(st, STEP_SETSID);

	/*
	 * A dispatcher killed outright cannot stop its runners: the kernel
	 * then kills each runner itself.  What the runner started is left
	 * to the lease: its run is failed as interrupted by the next
	 * dispatcher.
	 */
	(void)prctl(PR_SET_PDEATHSIG, SIGKILL, 0L, 0L, 0L);

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	for (sig = 1; sig < NSIG; sig++)
		(void)sigaction(sig, &sa, NULL);	/* some cannot be set */
	sigemptyset(&empty);
	if (sigprocmask(SIG_SETMASK, &empty, NULL) == -1)
		exec_fail(st, STEP_SIGNALS);

	if ((out = fcntl(p->out_fd, F_DUPFD_CLOEXEC, 3)) == -1 ||
	    (null = fcntl(p->null_fd, F_DUPFD_CLOEXEC, 3)) == -1 ||
	    (moved = fcntl(st, F_DUPFD_CLOEXEC, 3)) == -1)
		exec_fail(st, STEP_DESCRIPTORS);
	st = moved;
	if (dup2(null, STDIN_FILENO) == -1 ||
	    dup2(out, STDOUT_FILENO) == -1 ||
	    dup2(out, STDERR_FILENO) == -1)
		exec_fail(st, STEP_DESCRIPTORS);
	if (st != 3) {
		if (dup2(st, 3) == -1 || fcntl(3, F_SETFD, FD_CLOEXEC) == -1)
			exec_fail(st, STEP_DESCRIPTORS);
		st = 3;
	}
	close_from(4, p->max_fd);

	if (chdir(p->run_dir) == -1)
		exec_fail(st, STEP_CHDIR);
	for (i = 0; i < sizeof(p->limits) / sizeof(p->limits[0]); i++)
		if (p->limits[i].set &&
		    setrlimit(p->limits[i].resource, &p->limits[i].rl) == -1)
			exec_fail(st, p->limits[i].step);

	(void)execve(p->argv[0], p->argv, p->envp);
	exec_fail(st, STEP_EXECVE);
}

/*
 * Plans the limit on resource: none for value 0, else value for both the
 * soft and hard limits, or the hard limit in force when that is lower
 * (only a privileged process may raise it).
 */
static int
limit_plan(struct limit_plan *l, int resource, enum exec_step step,
    long value)
{
	struct rlimit	 cur;
	rlim_t		 want;

	l->resource = resource;
	l->step = step;
	l->set = 0;
	if (value <= 0)
		return 0;
	if (getrlimit(resource, &cur) == -1)
		return -1;
	want = (rlim_t)value;
	if (cur.rlim_max != RLIM_INFINITY && want > cur.rlim_max)
		want = cur.rlim_max;
	l->rl.rlim_cur = want;
	l->rl.rlim_max = want;
	l->set = 1;
	return 0;
}

static void
plan_free(struct exec_plan *p)
{
	free(p->argv[0]);
	free(p->argv[1]);
	p->argv[0] = p->argv[1] = NULL;
}

static int
plan_init(struct exec_plan *p, const struct spawn_spec *spec, char *err,
    size_t errlen)
{
	struct rlimit	 nofile;

	memset(p, 0, sizeof(*p));
	p->null_fd = p->out_fd = p->status_fd = -1;
	p->envp = spec->envp;
	p->run_dir = spec->run_dir;
	if ((p->argv[0] = strdup(spec->path)) == NULL ||
	    (p->argv[1] = strdup(spec->payload_path)) == NULL) {
		set_err(err, errlen, "out of memory");
		return -1;
	}

	if (limit_plan(&p->limits[0], RLIMIT_NPROC, STEP_RLIMIT_NPROC,
	    spec->max_procs) == -1 ||
	    limit_plan(&p->limits[1], RLIMIT_AS, STEP_RLIMIT_AS,
	    spec->max_memory_bytes) == -1 ||
	    limit_plan(&p->limits[2], RLIMIT_NOFILE, STEP_RLIMIT_NOFILE,
	    spec->max_open_files) == -1 ||
	    getrlimit(RLIMIT_NOFILE, &nofile) == -1) {
		set_err(err, errlen, "getrlimit: %s", strerror(errno));
		return -1;
	}
	p->max_fd = nofile.rlim_cur > CLOSE_MAX_FD ? CLOSE_MAX_FD :
	    (int)nofile.rlim_cur;
	return 0;
}

/*
 * Waits, at most SPAWN_EXEC_TIMEOUT_MS, for the child to execve(2) the
 * runner (the status pipe then reads end of file) or to report the step
 * that failed.  Returns 0, or -1 with the message in err.
 */
static int
exec_wait(int fd, const struct spawn_spec *spec, char *err, size_t errlen)
{
	struct pollfd	 pfd;
	int64_t		 deadline, left;
	ssize_t		 n;
	int		 report[2];
	const char	*what, *path;

	deadline = clock_mono_ms() + SPAWN_EXEC_TIMEOUT_MS;
	for (;;) {
		if ((n = read(fd, report, sizeof(report))) == 0)
			return 0;
		if (n == (ssize_t)sizeof(report))
			break;
		if (n > 0) {
			set_err(err, errlen, "runner start: short report");
			return -1;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK) {
			set_err(err, errlen, "runner start: read: %s",
			    strerror(errno));
			return -1;
		}
		if ((left = deadline - clock_mono_ms()) <= 0) {
			set_err(err, errlen,
			    "runner %s not started within %d ms", spec->path,
			    SPAWN_EXEC_TIMEOUT_MS);
			return -1;
		}
		pfd.fd = fd;
		pfd.events = POLLIN;
		(void)poll(&pfd, 1, (int)left);
	}

	if (report[0] < 0 || report[0] >= STEP_COUNT) {
		set_err(err, errlen, "runner start: bad report");
		return -1;
	}
	what = exec_steps[report[0]].what;
	switch (exec_steps[report[0]].names_path) {
	case 1:
		path = spec->path;
		break;
	case 2:
		path = spec->run_dir;
		break;
	default:
		set_err(err, errlen, "%s: %s", what, strerror(report[1]));
		return -1;
	}
	set_err(err, errlen, "%s %s: %s", what, path, strerror(report[1]));
	return -1;
}

/*
 * Kills and reaps a child that did not become a runner, waiting at most
 * REAP_WAIT_MS; one still there is left to spawner_reap_orphans().
 */
static void
reap_failed(pid_t pid)
{
	struct timespec	 ms = { 0, 1000000 };
	int64_t		 deadline = clock_mono_ms() + REAP_WAIT_MS;
	int		 status;

	(void)kill(pid, SIGKILL);
	while (waitpid(pid, &status, WNOHANG) == 0 &&
	    clock_mono_ms() < deadline)
		(void)nanosleep(&ms, NULL);
}

static void
close_fd(int *fd)
{
	if (*fd != -1) {
		(void)close(*fd);
		*fd = -1;
	}
}

struct child *
child_spawn(const struct spawn_spec *spec, char *err, size_t errlen)
{
	struct exec_plan	 plan;
	struct child		*c;
	sigset_t		 all, saved;
	pid_t			 pid;
	int			 outp[2] = { -1, -1 }, statp[2] = { -1, -1 };
	int			 saved_errno;

	assert(spec->path != NULL && spec->payload_path != NULL);
	assert(spec->envp != NULL && spec->run_dir != NULL);
	assert(spec->log_path != NULL);

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		set_err(err, errlen, "out of memory");
		return NULL;
	}
	c->out_fd = c->log_fd = -1;
	c->log_cap = spec->log_cap;
	if (plan_init(&plan, spec, err, errlen) == -1)
		goto out_fail;

	c->log_fd = open(spec->log_path,
	    O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640);
	if (c->log_fd == -1) {
		set_err(err, errlen, "open %s: %s", spec->log_path,
		    strerror(errno));
		goto out_fail;
	}
	if ((plan.null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC)) == -1 ||
	    pipe2(outp, O_CLOEXEC) == -1 || pipe2(statp, O_CLOEXEC) == -1 ||
	    fcntl(outp[0], F_SETFL, O_NONBLOCK) == -1 ||
	    fcntl(statp[0], F_SETFL, O_NONBLOCK) == -1) {
		set_err(err, errlen, "runner descriptors: %s",
		    strerror(errno));
		goto out_fail;
	}
	plan.out_fd = outp[1];
	plan.status_fd = statp[1];

	sigfillset(&all);
	(void)sigprocmask(SIG_SETMASK, &all, &saved);
	if ((pid = fork()) == 0)
		child_exec(&plan);
	saved_errno = errno;
	(void)sigprocmask(SIG_SETMASK, &saved, NULL);
	if (pid == -1) {
		set_err(err, errlen, "fork: %s", strerror(saved_errno));
		goto out_fail;
	}

	/* Only the child holds the write ends now: end of file is its. */
	close_fd(&outp[1]);
	close_fd(&statp[1]);
	if (exec_wait(statp[0], spec, err, errlen) == -1) {
		reap_failed(pid);
		goto out_fail;
	}

	c->pid = pid;
	c->out_fd = outp[0];
	close_fd(&statp[0]);
	close_fd(&plan.null_fd);
	plan_free(&plan);
	child_link(c);
	return c;

out_fail:
	close_fd(&outp[0]);
	close_fd(&outp[1]);
	close_fd(&statp[0]);
	close_fd(&statp[1]);
	close_fd(&plan.null_fd);
	close_fd(&c->log_fd);
	plan_free(&plan);
	free(c);
	return NULL;
}

pid_t
child_pid(const struct child *c)
{
	return c->pid;
}

int
child_output_fd(const struct child *c)
{
	return c->out_fd;
}

static int
write_all(int fd, const char *buf, size_t n)
{
	ssize_t	 w;

	while (n > 0) {
		if ((w = write(fd, buf, n)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		buf += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Appends n bytes of output to the log, up to the cap, then the marker. */
static void
log_output(struct child *c, const char *buf, size_t n)
{
	char	 marker[128];
	size_t	 keep = 0;
	int	 len;

	if (c->log_errno != 0)
		return;
	if (c->logged < c->log_cap) {
		keep = c->log_cap - c->logged;
		if (keep > n)
			keep = n;
		if (write_all(c->log_fd, buf, keep) == -1) {
			c->log_errno = errno;
			return;
		}
		c->logged += keep;
		c->last = buf[keep - 1];
	}
	if (keep == n || c->cut)
		return;

	c->cut = 1;
	len = snprintf(marker, sizeof(marker),
	    "%s[gittinkerer: log cut at %zu bytes; later output discarded]\n",
	    c->logged > 0 && c->last != '\n' ? "\n" : "", c->log_cap);
	/* The marker always fits: 20 digits at most. */
	if (len > 0 && (size_t)len < sizeof(marker) &&
	    write_all(c->log_fd, marker, (size_t)len) == -1)
		c->log_errno = errno;
}

/*
 * Reads at most max chunks of output into the log.  Returns 1 while the
 * pipe is open, 0 at its end, -1 with errno set when reading failed (the
 * pipe is closed then as well).
 */
static int
pump_reads(struct child *c, int max)
{
	char	 buf[PUMP_CHUNK];
	ssize_t	 n;
	int	 i, saved_errno;

	for (i = 0; i < max && c->out_fd != -1; i++) {
		if ((n = read(c->out_fd, buf, sizeof(buf))) > 0) {
			log_output(c, buf, (size_t)n);
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 1;
		saved_errno = errno;
		close_fd(&c->out_fd);
		if (n == 0)
			return 0;
		errno = saved_errno;
		return -1;
	}
	return c->out_fd == -1 ? 0 : 1;
}

int
child_pump(struct child *c)
{
	int	 rc;

	rc = pump_reads(c, PUMP_MAX_READS);
	if (rc != -1 && c->log_errno != 0 && !c->log_reported) {
		c->log_reported = 1;
		errno = c->log_errno;
		return -1;
	}
	return rc;
}

int
child_reap(struct child *c, int *wstatus)
{
	siginfo_t	 si;
	pid_t		 pid;
	int		 status;

	if (c->reaped) {
		*wstatus = c->wstatus;
		return 1;
	}

	memset(&si, 0, sizeof(si));
	if (waitid(P_PID, (id_t)c->pid, &si, WEXITED | WNOHANG | WNOWAIT) ==
	    -1)
		return errno == EINTR ? 0 : -1;
	if (si.si_pid == 0)
		return 0;

	/*
	 * The leader is a zombie, not reaped yet: its pid, the group's id,
	 * cannot be given to another process before the group is killed.
	 */
	(void)kill(-c->pid, SIGKILL);
	while ((pid = waitpid(c->pid, &status, WNOHANG)) == -1 &&
	    errno == EINTR)
		continue;
	if (pid != c->pid) {
		if (pid == 0)
			errno = ECHILD;
		return -1;
	}
	c->reaped = 1;
	c->wstatus = status;

	/* What it wrote before it exited is in the pipe: into the log. */
	(void)pump_reads(c, DRAIN_MAX_READS);
	*wstatus = status;
	return 1;
}

void
child_signal(struct child *c, int sig)
{
	if (!c->reaped)
		(void)kill(-c->pid, sig);
}

void
child_free(struct child *c)
{
	int	 status;

	if (c == NULL)
		return;
	if (!c->reaped) {
		(void)kill(-c->pid, SIGKILL);
		(void)waitpid(c->pid, &status, WNOHANG);
	}
	child_unlink(c);
	close_fd(&c->out_fd);
	close_fd(&c->log_fd);
	free(c);
}
