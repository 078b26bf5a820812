/*
 * main.c: gittinkerer-example-runner, an EXAMPLE runner for the local
 * stack, not the production one (that is GitTinkerer's bin/gittinkerer).
 *
 * It touches no repository and calls no agent.  It shows what a runner is
 * given and what it gives back (spec/runner.md), so that the dispatcher
 * and the UI can be tried without an AI agent or GitHub:
 *
 *  - argv[1] is the payload's path; the payload is read (at most
 *    PAYLOAD_MAX bytes) and parsed, for its run id, repository, target
 *    and instruction;
 *  - a few lines go to stdout, which is the run's log, the run id among
 *    them (from GITTINKERER_RUN_ID);
 *  - it waits GITTINKERER_EXAMPLE_DELAY_MS milliseconds (default 500, at
 *    most DELAY_MAX_MS), so that a UI can see the run running.  The
 *    dispatcher passes only the contract's variables, so under it the
 *    default applies;
 *  - it writes summary.txt and result.json into
 *    $GITTINKERER_ARTIFACTS_DIR, and exits 0.  pr_url is the pull
 *    request the run was about, or null for an issue.
 *
 * It exits 1 when the payload or the folder cannot be used.
 */
#include <config.h>

#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define PAYLOAD_MAX	(1024 * 1024)
#define DELAY_DEFAULT_MS 500
#define DELAY_MAX_MS	60000
#define SHOWN_MAX	200	/* bytes of the instruction in the log */

/* What the runner takes from its payload; the strings are json-c's. */
struct job {
	const char	*run_id;
	const char	*repo;		/* "owner/name" */
	const char	*target_type;	/* "issue" or "pull_request" */
	int64_t		 target_number;
	const char	*instruction;
};

static void __attribute__((format(printf, 1, 2)))
say(const char *fmt, ...)
{
	va_list	 ap;

	(void)fputs("example runner: ", stdout);
	va_start(ap, fmt);
	(void)vprintf(fmt, ap);
	va_end(ap);
	(void)putchar('\n');
}

static int
fail(const char *what, const char *why)
{
	(void)fprintf(stderr, "example runner: %s: %s\n", what, why);
	return 1;
}

/*
 * Reads the whole file at path, at most PAYLOAD_MAX bytes, into a
 * NUL-terminated buffer the caller frees.  Returns NULL with a message
 * already printed.
 */
static char *
read_payload(const char *path, size_t *lenp)
{
	char	*buf;
	size_t	 len = 0;
	ssize_t	 n;
	int	 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		(void)fail(path, strerror(errno));
		return NULL;
	}
	if ((buf = malloc(PAYLOAD_MAX + 1)) == NULL) {
		(void)fail(path, strerror(errno));
		goto out_close;
	}
	/* One byte more than allowed, to tell a payload that is too big. */
	while (len <= PAYLOAD_MAX) {
		n = read(fd, buf + len, PAYLOAD_MAX + 1 - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			(void)fail(path, strerror(errno));
			goto out_free;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len > PAYLOAD_MAX) {
		(void)fail(path, "payload larger than 1 MiB");
		goto out_free;
	}
	buf[len] = '\0';
	(void)close(fd);
	*lenp = len;
	return buf;

out_free:
	free(buf);
out_close:
	(void)close(fd);
	return NULL;
}

/* The string at key in o, or def when o has none there. */
static const char *
get_string(struct json_object *o, const char *key, const char *def)
{
	struct json_object	*v;

	if (o == NULL || !json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return def;
	return json_object_get_string(v);
}

static struct json_object *
get_object(struct json_object *o, const char *key)
{
	struct json_object	*v;

	if (o == NULL || !json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_object))
		return NULL;
	return v;
}

/* Parses the payload, which must be one JSON object and nothing else. */
static struct json_object *
parse_payload(const char *text, size_t len, const char *path,
    struct job *job)
{
	struct json_tokener	*tok;
	struct json_object	*root, *repo, *target, *num;

	if ((tok = json_tokener_new()) == NULL) {
		(void)fail(path, "out of memory");
		return NULL;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	root = json_tokener_parse_ex(tok, text, (int)len);
	if (root == NULL || json_tokener_get_parse_end(tok) != len ||
	    !json_object_is_type(root, json_type_object)) {
		(void)fail(path, "payload is not one JSON object");
		json_object_put(root);
		json_tokener_free(tok);
		return NULL;
	}
	json_tokener_free(tok);

	repo = get_object(root, "repo");
	target = get_object(root, "target");
	job->run_id = get_string(root, "run_id", "-");
	job->repo = get_string(repo, "full_name", "-");
	job->target_type = get_string(target, "type", "-");
	job->instruction = get_string(root, "instruction", "");
	job->target_number = 0;
	if (target != NULL && json_object_object_get_ex(target, "number",
	    &num) && json_object_is_type(num, json_type_int))
		job->target_number = json_object_get_int64(num);
	return root;
}

/* The delay asked for in the environment, or the default. */
static long
delay_ms(void)
{
	const char	*s;
	char		*end;
	long		 v;

	if ((s = getenv("GITTINKERER_EXAMPLE_DELAY_MS")) == NULL)
		return DELAY_DEFAULT_MS;
	errno = 0;
	v = strtol(s, &end, 10);
	if (s[0] == '\0' || *end != '\0' || errno != 0 || v < 0 ||
	    v > DELAY_MAX_MS) {
		say("GITTINKERER_EXAMPLE_DELAY_MS is not 0 to %d: using %d",
		    DELAY_MAX_MS, DELAY_DEFAULT_MS);
		return DELAY_DEFAULT_MS;
	}
	return v;
}

static void
sleep_ms(long ms)
{
	struct timespec	 ts = { ms / 1000, (ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		continue;
}

/* Writes len bytes of data to dir/name, replacing what was there. */
static int
write_file(const char *dir, const char *name, const char *data, size_t len)
{
	char	 path[PATH_MAX];
	ssize_t	 n;
	int	 fd, n_path;

	n_path = snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (n_path < 0 || (size_t)n_path >= sizeof(path))
		return fail(name, "artifact path too long");
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW |
	    O_CLOEXEC, 0640);
	if (fd == -1)
		return fail(path, strerror(errno));
	while (len > 0) {
		if ((n = write(fd, data, len)) == -1) {
			if (errno == EINTR)
				continue;
			(void)close(fd);
			return fail(path, strerror(errno));
		}
		data += n;
		len -= (size_t)n;
	}
	if (close(fd) == -1)
		return fail(path, strerror(errno));
	return 0;
}

/* The instruction for one log line: cut short, controls as '?'. */
static void
shown(char *out, size_t outlen, const char *s)
{
	size_t	 i;

	for (i = 0; s[i] != '\0' && i + 1 < outlen; i++)
		out[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' :
		    s[i];
	out[i] = '\0';
}

static int
write_summary(const char *dir, const struct job *job, const char *run_id)
{
	char	 text[4096];
	int	 n;

	n = snprintf(text, sizeof(text),
	    "Example run %s\n"
	    "Repository: %s\n"
	    "Target: %s %lld\n"
	    "Instruction: %s\n"
	    "\n"
	    "This is the example runner: nothing was changed.\n",
	    run_id, job->repo, job->target_type,
	    (long long)job->target_number, job->instruction);
	if (n < 0)
		return fail("summary.txt", "cannot be formatted");
	/* A long instruction is cut: the summary is an example. */
	if ((size_t)n >= sizeof(text))
		n = (int)sizeof(text) - 1;
	return write_file(dir, "summary.txt", text, (size_t)n);
}

static int
write_result(const char *dir, const struct job *job)
{
	struct json_object	*res, *metrics;
	char			 summary[256], url[512];
	const char		*text;
	int			 n, rc = 1;

	(void)snprintf(summary, sizeof(summary),
	    "Example run on %s: nothing was changed", job->repo);
	if ((res = json_object_new_object()) == NULL ||
	    (metrics = json_object_new_object()) == NULL) {
		json_object_put(res);
		return fail("result.json", "out of memory");
	}
	json_object_object_add(res, "summary",
	    json_object_new_string(summary));

	n = snprintf(url, sizeof(url), "https://github.com/%s/pull/%lld",
	    job->repo, (long long)job->target_number);
	if (strcmp(job->target_type, "pull_request") == 0 && n > 0 &&
	    (size_t)n < sizeof(url))
		json_object_object_add(res, "pr_url",
		    json_object_new_string(url));
	else
		json_object_object_add(res, "pr_url", NULL);
	json_object_object_add(res, "commit_sha", NULL);

	json_object_object_add(metrics, "tokens_in", json_object_new_int(0));
	json_object_object_add(metrics, "tokens_out", json_object_new_int(0));
	json_object_object_add(metrics, "cost_usd", json_object_new_int(0));
	json_object_object_add(metrics, "files_changed",
	    json_object_new_int(0));
	json_object_object_add(res, "metrics", metrics);

	text = json_object_to_json_string_ext(res,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	if (text == NULL)
		(void)fail("result.json", "out of memory");
	else
		rc = write_file(dir, "result.json", text, strlen(text));
	json_object_put(res);
	return rc;
}

int
main(int argc, char *argv[])
{
	struct json_object	*root;
	struct job		 job;
	const char		*dir, *run_id;
	char			*payload, line[SHOWN_MAX + 1];
	size_t			 len;
	long			 delay;
	int			 rc = 1;

	/* Each line reaches the log as it is printed, not at exit. */
	(void)setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc != 2)
		return fail("usage", "gittinkerer-example-runner payload.json");
	if ((dir = getenv("GITTINKERER_ARTIFACTS_DIR")) == NULL ||
	    dir[0] == '\0')
		return fail("GITTINKERER_ARTIFACTS_DIR", "not set");
	if ((run_id = getenv("GITTINKERER_RUN_ID")) == NULL)
		run_id = "-";

	say("run %s started", run_id);
	if ((payload = read_payload(argv[1], &len)) == NULL)
		return 1;
	if ((root = parse_payload(payload, len, argv[1], &job)) == NULL)
		goto out_free;
	say("payload %s: %zu bytes, run_id %s", argv[1], len, job.run_id);
	say("repository %s, %s %lld", job.repo, job.target_type,
	    (long long)job.target_number);
	shown(line, sizeof(line), job.instruction);
	say("instruction: %s", line);

	delay = delay_ms();
	say("working for %ld ms", delay);
	sleep_ms(delay);

	if (write_summary(dir, &job, run_id) == 0 &&
	    write_result(dir, &job) == 0) {
		say("wrote summary.txt and result.json into %s", dir);
		say("run %s done", run_id);
		rc = 0;
	}
	json_object_put(root);
out_free:
	free(payload);
	return rc;
}
