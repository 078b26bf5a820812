/*
 * supervisor.c: forks the pool's workers and keeps their number steady.
 *
 * The signals the supervisor acts on (SIGCHLD, SIGTERM, SIGINT, SIGHUP)
 * stay blocked while it runs and are taken with sigtimedwait(2): one that
 * arrives while the supervisor is busy waits pending and cannot be lost.
 * The wait's timeout is the nearest deadline, either a delayed fork or
 * the SIGKILL of a worker that will not stop, on the monotonic clock.
 *
 * Each worker has a slot.  A slot remembers its worker's start and its
 * own backoff, so one crash-looping slot does not slow the others down.
 * A slot that is stopping (its worker was sent SIGTERM, by a drain or
 * because a newer generation replaced it) goes away with its worker.
 */
#include <config.h>

#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "infra/clock.h"
#include "infra/log.h"
#include "pool/supervisor.h"

#define BACKOFF_FIRST_MS	100
#define BACKOFF_MAX_MS		10000
#define MIN_UPTIME_MS		1000	/* dying sooner counts as a crash */
#define NO_DEADLINE		INT64_MAX

struct slot {
	pid_t	 pid;		/* the worker, or 0 while none runs */
	int	 stopping;	/* sent SIGTERM: not replaced on exit */
	int	 killed;	/* sent SIGKILL */
	int64_t	 started_ms;	/* when pid was forked */
	int64_t	 due_ms;	/* no worker: when to fork one */
	int64_t	 kill_ms;	/* stopping: when to send SIGKILL */
	int64_t	 backoff_ms;	/* delay after the last quick crash, or 0 */
};

struct pool {
	int			 fd;
	const struct pool_hooks	*hooks;
	struct pool_opts	 opts;
	struct slot		*slots;
	size_t			 nslots;
	size_t			 cap;
	int			 draining;
};

/* The signals taken with sigtimedwait(2) while the supervisor runs. */
static const int pool_signals[] = { SIGCHLD, SIGTERM, SIGINT, SIGHUP };
#define NSIGNALS	(sizeof(pool_signals) / sizeof(pool_signals[0]))

struct sigsave {
	sigset_t		 mask;
	struct sigaction	 act[NSIGNALS];
};

/*
 * Never runs, as the signals stay blocked.  It is installed because a
 * signal whose action is to be ignored (SIGCHLD's default, or a SIG_IGN
 * inherited from nohup) may be discarded instead of left pending, and an
 * ignored SIGCHLD even makes the kernel reap the workers itself.
 */
static void
on_signal(int sig)
{
	(void)sig;
}

static int
signals_take(struct sigsave *save, sigset_t *set)
{
	struct sigaction	 sa;
	size_t			 i;

	sigemptyset(set);
	for (i = 0; i < NSIGNALS; i++)
		sigaddset(set, pool_signals[i]);
	if (sigprocmask(SIG_BLOCK, set, &save->mask) == -1)
		return -1;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < NSIGNALS; i++) {
		sa.sa_flags = pool_signals[i] == SIGCHLD ? SA_NOCLDSTOP : 0;
		if (sigaction(pool_signals[i], &sa, &save->act[i]) == -1)
			goto out_restore;
	}
	return 0;

out_restore:
	while (i-- > 0)
		(void)sigaction(pool_signals[i], &save->act[i], NULL);
	(void)sigprocmask(SIG_SETMASK, &save->mask, NULL);
	return -1;
}

/*
 * Gives the caller back its signal actions and mask.  Signals still
 * pending are taken first, so that a second SIGTERM cannot kill the
 * caller the moment its mask is restored.
 */
static void
signals_give_back(const struct sigsave *save, const sigset_t *set)
{
	struct timespec	 zero = { 0, 0 };
	size_t		 i;

	while (sigtimedwait(set, NULL, &zero) > 0)
		continue;
	for (i = 0; i < NSIGNALS; i++)
		(void)sigaction(pool_signals[i], &save->act[i], NULL);
	(void)sigprocmask(SIG_SETMASK, &save->mask, NULL);
}

/* Formats v for a log value into buf, which is large enough for any. */
static const char *
num(char *buf, size_t len, long long v)
{
	(void)snprintf(buf, len, "%lld", v);
	return buf;
}

static int
opts_valid(const struct pool_opts *opts)
{
	if (opts->workers >= 1 && opts->drain_timeout_s >= 0)
		return 1;
	log_event(LOG_ERROR, "pool_opts_invalid",
	    "reason", "workers must be at least 1, drain timeout at least 0",
	    NULL);
	return 0;
}

/* Runs in the forked child; does not return. */
static void __attribute__((noreturn))
worker_main(const struct pool *p)
{
	sigset_t	 empty;
	size_t		 i;

	for (i = 0; i < NSIGNALS; i++)
		(void)signal(pool_signals[i], SIG_DFL);
	sigemptyset(&empty);
	(void)sigprocmask(SIG_SETMASK, &empty, NULL);

	/* exit(3), not _exit(2): the worker's own buffers are flushed. */
	exit(p->hooks->worker(p->hooks->arg, p->fd));
}

/* Appends n slots due at now.  Returns 0, or -1 when out of memory. */
static int
slots_add(struct pool *p, size_t n, int64_t now)
{
	struct slot	*slots;
	size_t		 i, cap;

	if (n > SIZE_MAX / sizeof(*slots) - p->nslots)
		return -1;
	if (p->nslots + n > p->cap) {
		cap = p->nslots + n;
		if ((slots = realloc(p->slots, cap * sizeof(*slots))) == NULL)
			return -1;
		p->slots = slots;
		p->cap = cap;
	}
	for (i = 0; i < n; i++) {
		memset(&p->slots[p->nslots], 0, sizeof(*slots));
		p->slots[p->nslots++].due_ms = now;
	}
	return 0;
}

/* Drops the slots that are stopping and have no worker left, in order. */
static void
slots_compact(struct pool *p)
{
	size_t	 i, n = 0;

	for (i = 0; i < p->nslots; i++)
		if (!(p->slots[i].stopping && p->slots[i].pid == 0))
			p->slots[n++] = p->slots[i];
	p->nslots = n;
}

/* Schedules the slot's next fork after a worker died young. */
static void
slot_back_off(struct slot *s, int64_t now)
{
	char	 delay[24];

	if (s->backoff_ms == 0)
		s->backoff_ms = BACKOFF_FIRST_MS;
	else if (s->backoff_ms < BACKOFF_MAX_MS / 2)
		s->backoff_ms *= 2;
	else
		s->backoff_ms = BACKOFF_MAX_MS;
	s->due_ms = now + s->backoff_ms;
	log_event(LOG_WARN, "worker_backoff",
	    "delay_ms", num(delay, sizeof(delay), s->backoff_ms), NULL);
}

static int
slot_fork(struct pool *p, struct slot *s, int64_t now)
{
	char	 pid[24];
	pid_t	 child;

	/* Nothing buffered may be written twice, by parent and child. */
	(void)fflush(NULL);
	if ((child = fork()) == -1) {
		log_event(LOG_ERROR, "worker_fork_failed",
		    "error", strerror(errno), NULL);
		slot_back_off(s, now);
		return -1;
	}
	if (child == 0)
		worker_main(p);

	s->pid = child;
	s->started_ms = now;
	log_event(LOG_INFO, "worker_started",
	    "pid", num(pid, sizeof(pid), child), NULL);
	return 0;
}

/*
 * Forks a worker for every slot, from first on, that is due.  Returns how
 * many were started.
 */
static int
slots_fork_due(struct pool *p, size_t first, int64_t now)
{
	struct slot	*s;
	size_t		 i;
	int		 started = 0;

	for (i = first; i < p->nslots; i++) {
		s = &p->slots[i];
		if (s->pid == 0 && !s->stopping && s->due_ms <= now &&
		    slot_fork(p, s, now) == 0)
			started++;
	}
	return started;
}

/*
 * Sends the slot's worker SIGTERM, with drain_timeout_s before SIGKILL.
 * A slot already stopping keeps its deadline; one without a worker is
 * left for slots_compact().
 */
static void
slot_stop(struct pool *p, struct slot *s, int64_t now)
{
	if (s->stopping)
		return;
	s->stopping = 1;
	if (s->pid == 0)
		return;
	s->kill_ms = now + (int64_t)p->opts.drain_timeout_s * 1000;
	(void)kill(s->pid, SIGTERM);
}

static void
slots_kill_overdue(struct pool *p, int64_t now)
{
	struct slot	*s;
	char		 pid[24];
	size_t		 i;

	for (i = 0; i < p->nslots; i++) {
		s = &p->slots[i];
		if (!s->stopping || s->pid == 0 || s->killed ||
		    s->kill_ms > now)
			continue;
		(void)kill(s->pid, SIGKILL);
		s->killed = 1;
		log_event(LOG_WARN, "worker_killed",
		    "pid", num(pid, sizeof(pid), s->pid),
		    "reason", "drain timeout", NULL);
	}
}

static int64_t
slots_next_deadline(const struct pool *p)
{
	const struct slot	*s;
	int64_t			 next = NO_DEADLINE;
	size_t			 i;

	for (i = 0; i < p->nslots; i++) {
		s = &p->slots[i];
		if (s->pid == 0 && !s->stopping && !p->draining &&
		    s->due_ms < next)
			next = s->due_ms;
		if (s->pid != 0 && s->stopping && !s->killed &&
		    s->kill_ms < next)
			next = s->kill_ms;
	}
	return next;
}

static void
log_exit(const struct slot *s, int status)
{
	char		 pid[24], code[24];
	enum log_level	 level = LOG_INFO;

	num(pid, sizeof(pid), s->pid);
	if (WIFEXITED(status)) {
		if (!s->stopping && WEXITSTATUS(status) != POOL_EXIT_RECYCLE)
			level = LOG_WARN;
		log_event(level, "worker_exited", "pid", pid,
		    "status", num(code, sizeof(code), WEXITSTATUS(status)),
		    NULL);
	} else {
		if (!s->stopping || s->killed)
			level = LOG_WARN;
		log_event(level, "worker_exited", "pid", pid,
		    "signal", num(code, sizeof(code), WTERMSIG(status)), NULL);
	}
}

/*
 * A worker that served its quota is replaced at once.  One that died is
 * replaced at once when it had lived long enough, and after its slot's
 * growing backoff when it had not.
 */
static void
slot_exited(const struct pool *p, struct slot *s, int status, int64_t now)
{
	int64_t	 uptime = now - s->started_ms;

	log_exit(s, status);
	if (!s->stopping && p->hooks->died != NULL &&
	    (WIFSIGNALED(status) || (WIFEXITED(status) &&
	    WEXITSTATUS(status) != POOL_EXIT_RECYCLE)))
		p->hooks->died(p->hooks->arg, s->pid, status);
	s->pid = 0;
	s->killed = 0;
	if (s->stopping)
		return;

	if (uptime >= MIN_UPTIME_MS)
		s->backoff_ms = 0;
	if ((WIFEXITED(status) &&
	    WEXITSTATUS(status) == POOL_EXIT_RECYCLE) ||
	    uptime >= MIN_UPTIME_MS)
		s->due_ms = now;
	else
		slot_back_off(s, now);
}

static void
pool_reap(struct pool *p, int64_t now)
{
	size_t	 i;
	pid_t	 pid;
	int	 status;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (i = 0; i < p->nslots; i++)
			if (p->slots[i].pid == pid) {
				slot_exited(p, &p->slots[i], status, now);
				break;
			}
	}
	slots_compact(p);
}

static void
pool_drain(struct pool *p, int64_t now)
{
	char	 n[24], timeout[24];
	size_t	 i;

	log_event(LOG_INFO, "pool_draining",
	    "workers", num(n, sizeof(n), (long long)p->nslots),
	    "timeout_s", num(timeout, sizeof(timeout),
	    p->opts.drain_timeout_s), NULL);
	p->draining = 1;
	for (i = 0; i < p->nslots; i++)
		slot_stop(p, &p->slots[i], now);
	slots_compact(p);
}

/*
 * Loads the configuration again and, when it is valid, starts a new
 * generation before stopping the old one: the listening socket always has
 * a worker that will accept.  When no new worker can be forked, the old
 * ones stay.
 */
static void
pool_reload(struct pool *p, int64_t now)
{
	struct pool_opts	 opts = p->opts;
	size_t			 nold = p->nslots, i;
	char			 n[24];

	if (p->hooks->load(p->hooks->arg, &opts) == -1) {
		log_event(LOG_ERROR, "pool_reload", "result", "failed",
		    "reason", "configuration not loaded", NULL);
		return;
	}
	if (!opts_valid(&opts)) {
		log_event(LOG_ERROR, "pool_reload", "result", "failed",
		    "reason", "invalid pool options", NULL);
		return;
	}
	if (slots_add(p, (size_t)opts.workers, now) == -1) {
		log_event(LOG_ERROR, "pool_reload", "result", "failed",
		    "reason", "out of memory", NULL);
		return;
	}
	if (slots_fork_due(p, nold, now) == 0) {
		p->nslots = nold;
		log_event(LOG_ERROR, "pool_reload", "result", "failed",
		    "reason", "no worker could be started", NULL);
		return;
	}

	p->opts = opts;
	log_event(LOG_INFO, "pool_reload", "result", "ok",
	    "workers", num(n, sizeof(n), opts.workers), NULL);
	for (i = 0; i < nold; i++)
		slot_stop(p, &p->slots[i], now);
	slots_compact(p);
}

/* Waits for the next signal or deadline.  Returns the signal, or 0. */
static int
pool_wait(const struct pool *p, const sigset_t *set)
{
	struct timespec	 ts;
	int64_t		 next, wait;
	int		 sig;

	if ((next = slots_next_deadline(p)) == NO_DEADLINE)
		sig = sigwaitinfo(set, NULL);
	else {
		wait = next - clock_mono_ms();
		if (wait < 0)
			wait = 0;
		ts.tv_sec = (time_t)(wait / 1000);
		ts.tv_nsec = (long)(wait % 1000) * 1000000;
		sig = sigtimedwait(set, NULL, &ts);
	}
	return sig == -1 ? 0 : sig;
}

static void
pool_loop(struct pool *p, const sigset_t *set)
{
	int64_t	 now;
	int	 sig;

	for (;;) {
		now = clock_mono_ms();
		if (!p->draining)
			(void)slots_fork_due(p, 0, now);
		slots_kill_overdue(p, now);
		if (p->draining && p->nslots == 0)
			break;

		sig = pool_wait(p, set);
		now = clock_mono_ms();
		switch (sig) {
		case SIGCHLD:
			pool_reap(p, now);
			break;
		case SIGTERM:
		case SIGINT:
			if (!p->draining)
				pool_drain(p, now);
			break;
		case SIGHUP:
			if (!p->draining)
				pool_reload(p, now);
			break;
		default:
			break;
		}
	}
	log_event(LOG_INFO, "pool_stopped", NULL);
}

int
supervisor_run(int listen_fd, const struct pool_hooks *hooks)
{
	struct pool	 p;
	struct sigsave	 save;
	sigset_t	 set;
	int64_t		 now;
	int		 rc = 1;

	memset(&p, 0, sizeof(p));
	p.fd = listen_fd;
	p.hooks = hooks;
	if (hooks->load(hooks->arg, &p.opts) == -1 || !opts_valid(&p.opts))
		return 1;
	if (signals_take(&save, &set) == -1) {
		log_event(LOG_ERROR, "pool_start_failed",
		    "error", strerror(errno), NULL);
		return 1;
	}

	now = clock_mono_ms();
	if (slots_add(&p, (size_t)p.opts.workers, now) == -1) {
		log_event(LOG_ERROR, "pool_start_failed",
		    "error", "out of memory", NULL);
		goto out_give_back;
	}
	if (slots_fork_due(&p, 0, now) == 0) {
		log_event(LOG_ERROR, "pool_start_failed",
		    "error", "no worker could be started", NULL);
		goto out_free;
	}

	pool_loop(&p, &set);
	rc = 0;

out_free:
	free(p.slots);
out_give_back:
	signals_give_back(&save, &set);
	return rc;
}
