/*
 * spawner.h: starting one runner process and watching it, without
 * blocking.
 *
 * A runner is started as the contract (spec/runner.md) says: execve(2) of
 * its path, no shell, argv [path, payload path], the environment the
 * caller built and nothing inherited, in a new session and so a new
 * process group, in the run's folder, stdin /dev/null, stdout and stderr
 * together into one pipe that the caller reads with child_pump(), which
 * appends to the run's log up to a cap.  Every descriptor of the caller
 * other than those three is closed in the runner, and every signal has
 * its default action and is unblocked.
 *
 * No call here waits for a runner, with one bounded exception:
 * child_spawn() waits until the runner's execve(2) has succeeded or
 * failed, which takes as long as the kernel's own work, at most
 * SPAWN_EXEC_TIMEOUT_MS.
 *
 * Processes the runner leaves behind.  When the runner (the group's
 * leader) exits, child_reap() SIGKILLs what is left of its process
 * group.  A process that left the group (setsid(2), setpgid(2)) escapes
 * that, so the dispatcher is made a child subreaper (PR_SET_CHILD_SUBREAPER,
 * prctl(2)) by spawner_init(): every descendant of a runner whose parent
 * dies is handed to the dispatcher instead of to init, and
 * spawner_reap_orphans() SIGKILLs and reaps each child of the dispatcher
 * that is neither a runner nor in the process group of a runner still
 * running.
 *
 * The dispatcher's part:
 *
 *  1. spawner_init() once, before the first child_spawn();
 *  2. poll(2) each child's child_output_fd() for POLLIN and call
 *     child_pump() when it is readable, with a poll timeout of at most a
 *     second;
 *  3. on every wake (SIGCHLD or timeout), child_reap() each child still
 *     running, then spawner_reap_orphans();
 *  4. child_free() a child once its outcome is recorded.
 *
 * The process must not fork children of its own (spawner_reap_orphans()
 * would kill them), must not set SIGCHLD to SIG_IGN nor use SA_NOCLDWAIT
 * (the kernel would reap the runners itself), and must not reap with
 * waitpid(-1, ...) elsewhere.  Nothing here is thread-safe: call it from
 * one thread.
 *
 * Note: RLIMIT_NPROC counts every process of the runner's real user, not
 * those of the run alone, and is not enforced for root.  Processes
 * escaped from the group live until the next spawner_reap_orphans() after
 * their parent died.
 */
#ifndef GT_SPAWNER_H
#define GT_SPAWNER_H

#include <stddef.h>
#include <sys/types.h>

/* How long child_spawn() waits for the runner's execve(2). */
#define SPAWN_EXEC_TIMEOUT_MS	5000

/* Enough for any message of spawner_describe_status(). */
#define SPAWN_STATUS_LEN	96

struct child;

/*
 * What to start.  Nothing is kept after child_spawn() returns: the
 * caller keeps ownership of every string.
 */
struct spawn_spec {
	const char	 *path;		/* the runner, executed as is */
	const char	 *payload_path;	/* its argv[1] */
	char *const	 *envp;		/* its whole environment */
	const char	 *run_dir;	/* its working directory */
	const char	 *log_path;	/* appended to, created 0640 */
	size_t		  log_cap;	/* output bytes kept in the log */
	long		  max_procs;	/* RLIMIT_NPROC, 0 for none */
	long		  max_memory_bytes; /* RLIMIT_AS, 0 for none */
	long		  max_open_files; /* RLIMIT_NOFILE, 0 for none */
};

/*
 * The runner's environment, as the contract lists it.  Every member but
 * gh_token is required; gh_token is NULL (or "") when the run has no
 * installation token, and GH_TOKEN is then left out.
 */
struct runner_env {
	const char	*path;		/* PATH */
	const char	*home;		/* HOME */
	const char	*lang;		/* LANG */
	const char	*run_id;	/* GITTINKERER_RUN_ID */
	const char	*artifacts_dir;	/* GITTINKERER_ARTIFACTS_DIR */
	const char	*payload;	/* GITTINKERER_PAYLOAD */
	const char	*gh_token;	/* GH_TOKEN, or NULL */
};

/*
 * Makes the process a child subreaper, so that descendants of runners
 * whose parents die become its children (see above).  Call it once,
 * before any child_spawn().  Returns 0, or -1 with errno set; runners
 * still start after a failure, but an escaped process then goes to init
 * and may outlive its run.
 */
int		 spawner_init(void);

/*
 * SIGKILLs every child of the process that is neither a runner not yet
 * reaped nor in the process group of one, and reaps those that have
 * exited (including runners' group members killed by child_reap()).
 * Never blocks.  Returns how many processes it sent SIGKILL, or -1 with
 * errno set when /proc could not be read.
 */
int		 spawner_reap_orphans(void);

/*
 * A NULL-terminated environment for spawn_spec.envp built from env,
 * exactly the variables of struct runner_env.  Returns NULL with errno
 * set to EINVAL when a required member is NULL, or to ENOMEM.  The caller
 * frees it with spawner_env_free().
 */
char		**spawner_env_new(const struct runner_env *env);

/* Wipes (GH_TOKEN is a secret) and frees an environment.  Accepts NULL. */
void		 spawner_env_free(char **envp);

/*
 * Describes a wait status as the run's message: "exited with status 3",
 * "killed by signal 9 (Killed)", with ", core dumped" when it did.  Writes
 * into buf of len bytes (SPAWN_STATUS_LEN is enough) and returns buf.
 */
const char	*spawner_describe_status(int wstatus, char *buf, size_t len);

/*
 * Starts the runner spec describes and waits, at most
 * SPAWN_EXEC_TIMEOUT_MS, for its execve(2).  Returns the child, which the
 * caller frees with child_free(); or NULL with a message in err (errlen
 * bytes, may be 0) when the log could not be opened, the process could
 * not be made, or the runner could not be executed (missing, not
 * executable, a limit refused): the run then fails at stage "spawn".
 * A process that failed to become the runner is killed and reaped within
 * 100 ms more, or else by the next spawner_reap_orphans().
 *
 * The cap counts the runner's output only, not what the log held before.
 */
struct child	*child_spawn(const struct spawn_spec *spec, char *err,
		    size_t errlen);

/* The runner's process id, which is also its process group's. */
pid_t		 child_pid(const struct child *);

/*
 * The descriptor to poll(2) for POLLIN, or -1 once the output has ended
 * (poll(2) skips a negative descriptor).  The child owns it.
 */
int		 child_output_fd(const struct child *);

/*
 * Reads the output that is waiting, never blocking, and appends it to the
 * log.  At most a few hundred KiB are read per call, so one busy runner
 * cannot starve the others; poll again for the rest.  Past the cap,
 * output is read and discarded (the runner must never block on a full
 * pipe) and the log gets one line, "[gittinkerer: log cut at N bytes;
 * later output discarded]", after a newline when the kept output did not
 * end with one.
 *
 * Returns 1 while the output may go on, 0 once every writer has closed
 * it, -1 with errno set when reading or writing the log failed.  After a
 * failed write the log is left as it is and output is discarded; -1 is
 * returned once for it, and the child is still to be pumped.
 */
int		 child_pump(struct child *);

/*
 * Whether the runner has exited, never blocking.  When it has: SIGKILLs
 * the rest of its process group, drains what output is waiting into the
 * log, stores the wait status in *wstatus and returns 1 (and 1 with the
 * same status on any later call).  Returns 0 while the runner lives, -1
 * with errno set when it cannot be waited for.
 */
int		 child_reap(struct child *, int *wstatus);

/*
 * Sends sig to the runner's whole process group, unless the runner was
 * reaped already.  SIGTERM asks a run to stop; SIGKILL makes it.
 */
void		 child_signal(struct child *, int sig);

/*
 * Frees the child, closing its pipe and log.  A runner not yet reaped has
 * its group SIGKILLed first and is reaped by spawner_reap_orphans().
 * Accepts NULL.
 */
void		 child_free(struct child *);

#endif
