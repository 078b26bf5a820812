/*
 * runner_proc.c: starting runners for claimed runs.
 */
#include <config.h>

#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "domain/arena.h"
#include "domain/buf.h"
#include "domain/runner_io.h"
#include "infra/config.h"
#include "infra/github.h"
#include "infra/log.h"
#include "infra/runner_proc.h"
#include "infra/spawner.h"
#include "usecase/dispatcher.h"

struct runner_proc {
	const struct config	*cfg;
	struct child		**children;	/* by handle; NULL: free */
	int			 max;
	struct github		*gh;		/* NULL: no App */
	struct arena		*arena;		/* the pull request's text */
};

struct runner_proc *
runner_proc_new(const struct config *cfg, int max_runs)
{
	struct runner_proc	*rp;

	if ((rp = calloc(1, sizeof(*rp))) == NULL)
		return NULL;
	if ((rp->children = calloc((size_t)max_runs,
	    sizeof(*rp->children))) == NULL) {
		free(rp);
		return NULL;
	}
	if ((rp->arena = arena_new()) == NULL) {
		free(rp->children);
		free(rp);
		return NULL;
	}
	rp->cfg = cfg;
	rp->max = max_runs;
	if (spawner_init() == -1)
		log_event(LOG_WARN, "subreaper_failed", "error",
		    strerror(errno), NULL);
	return rp;
}

void
runner_proc_free(struct runner_proc *rp)
{
	int	 i;

	if (rp == NULL)
		return;
	for (i = 0; i < rp->max; i++)
		child_free(rp->children[i]);
	spawner_reap_orphans();
	arena_free(rp->arena);
	free(rp->children);
	free(rp);
}

void
runner_proc_set_github(struct runner_proc *rp, struct github *gh)
{
	rp->gh = gh;
}

/*
 * What a run from an App installation needs from GitHub: a token for the
 * runner and, for a pull request, its branches.  Returns 0, or -1 with
 * the reason in err: the run cannot do its work without them.
 */
static int
from_github(struct runner_proc *rp, const struct claimed_run *cr,
    char *token, size_t tokenlen, struct pull_info *pr, int *has_pr,
    char *err, size_t errlen)
{
	struct github_result	 res;

	*has_pr = 0;
	memset(&res, 0, sizeof(res));
	if (github_installation_token(rp->gh, cr->installation_id, token,
	    tokenlen, &res) != GT_OK) {
		snprintf(err, errlen, "GitHub gave no installation token "
		    "(%s, status %ld)", github_outcome_name(res.outcome),
		    res.status);
		return -1;
	}
	if (cr->run.target_type != TARGET_PULL_REQUEST)
		return 0;
	arena_reset(rp->arena);
	memset(pr, 0, sizeof(*pr));
	if (github_pull(rp->gh, rp->arena, cr->installation_id, cr->run.repo,
	    cr->run.target_number, pr, &res) != GT_OK) {
		explicit_bzero(token, tokenlen);
		snprintf(err, errlen, "GitHub did not give pull request #%d "
		    "(%s, status %ld)", (int)cr->run.target_number,
		    github_outcome_name(res.outcome), res.status);
		return -1;
	}
	*has_pr = 1;
	return 0;
}

/* Writes the payload file, mode 0600, replacing none that exists. */
static int
write_payload(const char *path, const struct buf *b, char *err,
    size_t errlen)
{
	size_t	 off = 0;
	ssize_t	 n;
	int	 fd;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
	    0600);
	if (fd == -1) {
		snprintf(err, errlen, "cannot write %s: %s", path,
		    strerror(errno));
		return -1;
	}
	while (off < b->len) {
		n = write(fd, b->data + off, b->len - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(err, errlen, "cannot write %s: %s", path,
			    strerror(errno));
			close(fd);
			return -1;
		}
		off += (size_t)n;
	}
	if (close(fd) == -1) {
		snprintf(err, errlen, "cannot write %s: %s", path,
		    strerror(errno));
		return -1;
	}
	return 0;
}

static int
path_in(char *out, size_t outlen, const char *root, const char *id,
    const char *name)
{
	int	 n;

	if (name != NULL)
		n = snprintf(out, outlen, "%s/%s/%s", root, id, name);
	else
		n = snprintf(out, outlen, "%s/%s", root, id);
	return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

static enum gt_err
rp_start(void *ctx, const struct claimed_run *cr, int *handle, char *err,
    size_t errlen)
{
	struct runner_proc	*rp = ctx;
	const struct config	*cfg = rp->cfg;
	struct runner_env	 env;
	struct spawn_spec	 spec;
	struct buf		 payload;
	char			 dir[PATH_MAX], pay[PATH_MAX], logp[PATH_MAX];
	char			**envp = NULL;
	struct child		*c;
	struct pull_info	 pr;
	char			 token[GITHUB_TOKEN_MAX];
	enum gt_err		 e;
	int			 slot, has_pr = 0;

	for (slot = 0; slot < rp->max && rp->children[slot] != NULL; slot++)
		;
	if (slot == rp->max) {
		snprintf(err, errlen, "no room for another runner");
		return GT_ERR_INTERNAL;
	}
	if (path_in(dir, sizeof(dir), cfg->artifacts_root, cr->run.id,
	    NULL) == -1 || path_in(pay, sizeof(pay), cfg->artifacts_root,
	    cr->run.id, "payload.json") == -1 || path_in(logp, sizeof(logp),
	    cfg->artifacts_root, cr->run.id, "log.txt") == -1) {
		snprintf(err, errlen, "the artifacts root path is too long");
		return GT_ERR_INVALID;
	}
	if (mkdir(dir, 0750) == -1 && errno != EEXIST) {
		snprintf(err, errlen, "cannot make %s: %s", dir,
		    strerror(errno));
		return GT_ERR_IO;
	}

	token[0] = '\0';
	if (rp->gh != NULL && cr->installation_id != 0 &&
	    from_github(rp, cr, token, sizeof(token), &pr, &has_pr, err,
	    errlen) == -1)
		return GT_ERR_UNAVAILABLE;

	buf_init(&payload);
	payload_build(&payload, &cr->run, has_pr ? &pr : NULL,
	    cr->installation_id);
	if (payload.oom) {
		buf_free(&payload);
		snprintf(err, errlen, "out of memory");
		e = GT_ERR_NOMEM;
		goto out_wipe;
	}
	if (write_payload(pay, &payload, err, errlen) == -1) {
		buf_free(&payload);
		e = GT_ERR_IO;
		goto out_wipe;
	}
	buf_free(&payload);

	memset(&env, 0, sizeof(env));
	env.path = cfg->runner_path_env;
	env.home = cfg->runner_home;
	env.lang = "C.UTF-8";
	env.run_id = cr->run.id;
	env.artifacts_dir = dir;
	env.payload = pay;
	env.gh_token = token[0] != '\0' ? token : NULL;
	envp = spawner_env_new(&env);
	explicit_bzero(token, sizeof(token));
	if (envp == NULL) {
		snprintf(err, errlen, "out of memory");
		return GT_ERR_NOMEM;
	}

	memset(&spec, 0, sizeof(spec));
	spec.path = cfg->runner_path;
	spec.payload_path = pay;
	spec.envp = envp;
	spec.run_dir = dir;
	spec.log_path = logp;
	spec.log_cap = (size_t)cfg->log_cap_bytes;
	spec.max_procs = cfg->runner_max_procs;
	spec.max_memory_bytes = (long)cfg->runner_max_memory_mb * 1024 * 1024;
	spec.max_open_files = cfg->runner_max_open_files;
	c = child_spawn(&spec, err, errlen);
	spawner_env_free(envp);
	if (c == NULL)
		return GT_ERR_IO;
	rp->children[slot] = c;
	*handle = slot;
	log_event(LOG_INFO, "runner_started", "run", cr->run.id, NULL);
	return GT_OK;

out_wipe:
	explicit_bzero(token, sizeof(token));
	return e;
}

static int
rp_ended(void *ctx, int handle, int *has_exit, int *exit_code, char *msg,
    size_t msglen)
{
	struct runner_proc	*rp = ctx;
	int			 ws;

	msg[0] = '\0';
	if (child_reap(rp->children[handle], &ws) != 1)
		return 0;
	*has_exit = WIFEXITED(ws);
	*exit_code = WIFEXITED(ws) ? WEXITSTATUS(ws) : 0;
	if (!WIFEXITED(ws) || WEXITSTATUS(ws) != 0) {
		char	 what[SPAWN_STATUS_LEN];

		snprintf(msg, msglen, "the runner %s",
		    spawner_describe_status(ws, what, sizeof(what)));
	}
	return 1;
}

static void
rp_signal(void *ctx, int handle, int sig)
{
	struct runner_proc	*rp = ctx;

	child_signal(rp->children[handle], sig);
}

static enum gt_err
rp_result(void *ctx, struct arena *arena, const char *id,
    struct runner_result *out)
{
	struct runner_proc	*rp = ctx;
	struct stat		 st;
	char			 path[PATH_MAX], *text;
	const char		*why;
	size_t			 got = 0;
	ssize_t			 n;
	int			 fd;

	if (path_in(path, sizeof(path), rp->cfg->artifacts_root, id,
	    "result.json") == -1)
		return GT_ERR_NOT_FOUND;
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd == -1)
		return GT_ERR_NOT_FOUND;
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_size > RESULT_MAX_BYTES) {
		log_event(LOG_WARN, "result_ignored", "run", id, "why",
		    "not a regular file of at most 64 KiB", NULL);
		close(fd);
		return GT_ERR_NOT_FOUND;
	}
	if ((text = arena_alloc(arena, (size_t)st.st_size + 1)) == NULL) {
		close(fd);
		return GT_ERR_NOMEM;
	}
	while (got < (size_t)st.st_size &&
	    (n = read(fd, text + got, (size_t)st.st_size - got)) > 0)
		got += (size_t)n;
	close(fd);
	if (result_parse(arena, text, got, out, &why) != GT_OK) {
		log_event(LOG_WARN, "result_ignored", "run", id, "why", why,
		    NULL);
		return GT_ERR_NOT_FOUND;
	}
	return GT_OK;
}

static void
rp_release(void *ctx, int handle)
{
	struct runner_proc	*rp = ctx;

	child_free(rp->children[handle]);
	rp->children[handle] = NULL;
}

void
runner_proc_port(struct runner_proc *rp, struct runner_port *port)
{
	port->ctx = rp;
	port->start = rp_start;
	port->ended = rp_ended;
	port->signal = rp_signal;
	port->result = rp_result;
	port->release = rp_release;
}

size_t
runner_proc_pollfds(struct runner_proc *rp, struct pollfd *pfds, size_t max)
{
	size_t	 n = 0;
	int	 i;

	for (i = 0; i < rp->max && n < max; i++) {
		if (rp->children[i] == NULL ||
		    child_output_fd(rp->children[i]) == -1)
			continue;
		pfds[n].fd = child_output_fd(rp->children[i]);
		pfds[n].events = POLLIN;
		pfds[n].revents = 0;
		n++;
	}
	return n;
}

void
runner_proc_pump(struct runner_proc *rp)
{
	int	 i;

	for (i = 0; i < rp->max; i++)
		if (rp->children[i] != NULL &&
		    child_output_fd(rp->children[i]) != -1)
			child_pump(rp->children[i]);
	spawner_reap_orphans();
}
