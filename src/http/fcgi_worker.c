/*
 * fcgi_worker.c: the request loop of one worker process.
 *
 * Workers share the listening socket.  Each waits in ppoll(2) for a
 * connection with SIGTERM unblocked only for the duration of the wait, so
 * the stop request is seen either before a request is taken or after it
 * is answered, never in the middle of one.  The socket is non-blocking:
 * when another worker wins the race for a connection, libfcgi's accept
 * fails with EAGAIN and this worker simply waits again.
 *
 * nginx keeps connections to the pool open between requests
 * (FCGI_KEEP_CONN, FastCGI 1.0, section 5.1), but opens one for every
 * request it has in flight.  A worker that kept a single connection
 * would have to drop it whenever a new one waited, which under load is
 * at every request.  So a worker holds up to WORKER_CONNS connections,
 * each with its own libfcgi request, waits on all of them and on the
 * listener at once, and serves whichever brings a request, taking them
 * in turn, a new connection among them; it still serves one request at
 * a time.  A new connection that finds every slot taken replaces the
 * idle one used least recently, so idle connections never shut a worker
 * off from new ones.  A worker that has served its max_requests drains
 * its kept connections before it exits (drain()), so that nginx is not
 * left with a request on a connection closed under it; a stopped one
 * does not, and takes no request after those in hand.
 */
#include <config.h>

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <fcgiapp.h>

#include "domain/arena.h"
#include "domain/text.h"
#include "http/app.h"
#include "http/dispatch.h"
#include "http/fcgi_worker.h"
#include "http/metrics.h"
#include "http/request.h"
#include "http/response.h"
#include "infra/clock.h"
#include "infra/sentry.h"
#include "infra/log.h"
#include "infra/random.h"

#define FILE_CHUNK	65536
#define REQUEST_ID_MAX	64
#define WORKER_CONNS	8	/* connections a worker keeps open */

static volatile sig_atomic_t	 stopping;

static void
on_stop(int sig)
{
	(void)sig;
	stopping = 1;
}

static ssize_t
fcgi_read(void *ctx, char *buf, size_t n)
{
	FCGX_Stream	*in = ctx;
	int		 got;

	if (n > INT32_MAX)
		n = INT32_MAX;
	got = FCGX_GetStr(buf, (int)n, in);
	return got < 0 ? -1 : got;
}

/* Whether an id passed by the proxy is safe to echo and log. */
static int
request_id_ok(const char *id)
{
	size_t	 i;

	if (id == NULL || id[0] == '\0')
		return 0;
	for (i = 0; id[i] != '\0'; i++) {
		if (i == REQUEST_ID_MAX)
			return 0;
		if (!((id[i] >= 'a' && id[i] <= 'z') ||
		    (id[i] >= 'A' && id[i] <= 'Z') ||
		    (id[i] >= '0' && id[i] <= '9') || id[i] == '-' ||
		    id[i] == '_' || id[i] == '.'))
			return 0;
	}
	return 1;
}

static void
write_file(FCGX_Stream *out, int fd, off_t len)
{
	char	 chunk[FILE_CHUNK];
	ssize_t	 got;

	while (len > 0) {
		got = read(fd, chunk, len < FILE_CHUNK ? (size_t)len :
		    FILE_CHUNK);
		if (got == -1 && errno == EINTR)
			continue;
		if (got <= 0) {
			log_event(LOG_ERROR, "file_short_read", NULL);
			return;
		}
		if (FCGX_PutStr(chunk, (int)got, out) == -1)
			return;
		len -= got;
	}
}

static void
write_response(FCGX_Stream *out, struct response *resp, const char *req_id)
{
	size_t	 i;
	off_t	 len;

	len = resp->file_fd >= 0 ? resp->file_len : (off_t)resp->body.len;
	if (resp->body.oom || resp->jw.error) {
		log_event(LOG_ERROR, "response_incomplete", NULL);
		resp_from_err(resp, GT_ERR_NOMEM, NULL);
		len = (off_t)resp->body.len;
	}

	/* RFC 3875, section 6.3.3: the Status header of a CGI response. */
	FCGX_FPrintF(out, "Status: %d %s\r\nContent-Type: %s\r\n"
	    "Cache-Control: no-store\r\nX-Request-Id: %s\r\n"
	    "Content-Length: %lld\r\n", resp->status,
	    resp_reason(resp->status), resp->content_type, req_id,
	    (long long)len);
	for (i = 0; i < resp->nheaders; i++)
		FCGX_FPrintF(out, "%s: %s\r\n", resp->headers[i].name,
		    resp->headers[i].value);
	FCGX_PutS("\r\n", out);

	if (resp->file_fd >= 0)
		write_file(out, resp->file_fd, resp->file_len);
	else if (resp->body.len > 0)
		FCGX_PutStr(resp->body.data, (int)resp->body.len, out);
}

/* What the loop needs to know of a request once it has been answered. */
struct served {
	int		 status;
	const char	*route;		/* NULL when none matched */
	const char	*request_id;	/* in the request's arena */
};

static void
serve(FCGX_Request *fr, struct app *app, struct arena *arena,
    struct response *resp, struct served *done)
{
	struct request		 req;
	struct body_reader	 br;
	const char		*uri, *q, *cl, *id;
	char			 gen[33], status[8], ms[32];
	int64_t			 start_us = clock_mono_us(), took_us, n;

	arena_reset(arena);
	memset(&req, 0, sizeof(req));
	req.arena = arena;
	req.env = fr->envp;

	id = FCGX_GetParam("REQUEST_ID", fr->envp);
	if (!request_id_ok(id)) {
		if (random_hex(gen, 16) == -1)
			snprintf(gen, sizeof(gen), "%lld",
			    (long long)clock_now_ms());
		id = gen;
	}
	req.request_id = id;
	log_set_request_id(id);

	req.method = FCGX_GetParam("REQUEST_METHOD", fr->envp);
	if (req.method == NULL)
		req.method = "GET";
	uri = FCGX_GetParam("REQUEST_URI", fr->envp);
	if (uri == NULL)
		uri = FCGX_GetParam("DOCUMENT_URI", fr->envp);
	if (uri == NULL)
		uri = "/";
	q = strchr(uri, '?');
	req.path = q != NULL ? arena_strndup(arena, uri, (size_t)(q - uri)) :
	    uri;
	req.query = q != NULL ? q + 1 : "";
	req.remote_addr = FCGX_GetParam("REMOTE_ADDR", fr->envp);

	resp_reset(resp, arena);
	req.content_length = -1;
	cl = FCGX_GetParam("CONTENT_LENGTH", fr->envp);
	if (cl != NULL && *cl != '\0') {
		if (parse_int64(cl, 0, INT64_MAX, &n) == -1) {
			resp_error(resp, 400, "invalid_parameter",
			    "The Content-Length header is malformed.");
			goto out_write;
		}
		req.content_length = n;
	}

	if (req.path == NULL) {
		resp_from_err(resp, GT_ERR_NOMEM, NULL);
		goto out_write;
	}
	br.ctx = fr->in;
	br.read = fcgi_read;
	dispatch(&app->dispatch, &req, &br, resp);

out_write:
	write_response(fr->out, resp, id);

	/* The pool's counters: the route's index in the static table. */
	took_us = clock_mono_us() - start_us;
	metrics_count_request(req.route != NULL ?
	    (int)(req.route - app->dispatch.routes) : METRICS_UNMATCHED,
	    resp->status, took_us);

	done->status = resp->status;
	done->route = req.route != NULL ? req.route->name : NULL;
	/* id may be FastCGI's, which FCGX_Finish_r() frees. */
	done->request_id = arena_strdup(arena, id);

	snprintf(status, sizeof(status), "%d", resp->status);
	snprintf(ms, sizeof(ms), "%lld", (long long)(took_us / 1000));
	log_event(resp->status >= 500 ? LOG_ERROR : LOG_INFO, "request",
	    "method", req.method, "path", req.path, "route",
	    req.route != NULL ? req.route->name : NULL, "status", status,
	    "ms", ms, NULL);
	log_set_request_id(NULL);
}

/* Whether SIGTERM or SIGINT waits, blocked, to be delivered. */
static int
stop_pending(void)
{
	sigset_t	 set;

	if (sigpending(&set) == -1)
		return 0;
	return sigismember(&set, SIGTERM) == 1 || sigismember(&set, SIGINT) == 1;
}

/* Signals: SIGTERM and SIGINT ask to stop; they are blocked but in ppoll. */
static int
setup_signals(sigset_t *waitmask)
{
	struct sigaction	 sa;
	sigset_t		 block;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGTERM, &sa, NULL) == -1 ||
	    sigaction(SIGINT, &sa, NULL) == -1)
		return -1;
	sa.sa_handler = SIG_IGN;
	if (sigaction(SIGPIPE, &sa, NULL) == -1 ||
	    sigaction(SIGHUP, &sa, NULL) == -1)
		return -1;

	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	if (sigprocmask(SIG_BLOCK, &block, waitmask) == -1)
		return -1;
	sigdelset(waitmask, SIGTERM);
	sigdelset(waitmask, SIGINT);
	return 0;
}

/*
 * The kept connection to give up for a new one: the one used least
 * recently.  nginx takes its kept connections most recently used first,
 * so that one is the least likely to be carrying a request already.
 */
static int
stalest_slot(const FCGX_Request *fr, const unsigned long *used)
{
	int	 i, v = -1;

	for (i = 0; i < WORKER_CONNS; i++)
		if (fr[i].ipcFd >= 0 && (v == -1 || used[i] < used[v]))
			v = i;
	return v;
}

/* Whether fd has something to read (or was closed), without waiting. */
static int
readable(int fd)
{
	struct pollfd	 p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, 0) == 1;
}

/* The index of a slot without a connection, or -1. */
static int
free_slot(const FCGX_Request *fr)
{
	int	 i;

	for (i = 0; i < WORKER_CONNS; i++)
		if (fr[i].ipcFd < 0)
			return i;
	return -1;
}

/*
 * Adds the kept connections to pfd from index n on, waiting for a
 * request, with each one's slot at the same index of slot_of.  Returns
 * the new count.
 */
static int
poll_kept(const FCGX_Request *fr, struct pollfd *pfd, int *slot_of, int n)
{
	int	 i;

	for (i = 0; i < WORKER_CONNS; i++) {
		if (fr[i].ipcFd < 0)
			continue;
		pfd[n].fd = fr[i].ipcFd;
		pfd[n].events = POLLIN;
		pfd[n].revents = 0;
		slot_of[n++] = i;
	}
	return n;
}

/*
 * Serves the request on r and sends the answer.  Then, the answer gone,
 * reports an answer of 500 or more to Sentry: bounded by
 * sentry_timeout_ms, the report delays only this worker's next request.
 */
static void
serve_one(FCGX_Request *r, struct app *app, struct arena *arena,
    struct response *resp, struct sentry *sentry)
{
	struct served	 done;
	char		 msg[256];

	serve(r, app, arena, resp, &done);
	FCGX_Finish_r(r);
	if (done.status >= 500 && sentry_enabled(sentry)) {
		snprintf(msg, sizeof(msg), "worker: answered %d on %s",
		    done.status, done.route != NULL ? done.route : "no route");
		(void)sentry_report(sentry, msg, done.request_id, done.route);
	}
}

/*
 * How a worker that has served its max_requests leaves its kept
 * connections, while the pool goes on.  Closing one races with nginx, which
 * may be sending a request on it at that moment: a GET is then retried on
 * another worker, but a POST is answered 502.  So the worker takes no new
 * connection and serves what comes on its kept ones, closing each after
 * its answer, where nginx sees the close with the answer.  It closes the
 * rest once none has brought a request for DRAIN_QUIET_MS (nginx reuses
 * its most recently used connections first, so a quiet one is unlikely to
 * be picked at that instant), and waits DRAIN_MAX_MS at most.  SIGTERM is
 * blocked meanwhile: a stop asked for during the drain waits for its end.
 */
#define DRAIN_QUIET_MS	250
#define DRAIN_MAX_MS	2000

static void
drain(FCGX_Request *fr, struct app *app, struct arena *arena,
    struct response *resp, struct sentry *sentry)
{
	struct pollfd	 pfd[WORKER_CONNS];
	int		 slot_of[WORKER_CONNS];
	int64_t		 end = clock_mono_ms() + DRAIN_MAX_MS, left;
	int		 i, k, n, rc;

	for (;;) {
		n = poll_kept(fr, pfd, slot_of, 0);
		if (n == 0 || (left = end - clock_mono_ms()) <= 0)
			return;
		rc = poll(pfd, (nfds_t)n, (int)(left < DRAIN_QUIET_MS ? left :
		    DRAIN_QUIET_MS));
		if (rc == -1 && errno == EINTR)
			continue;
		if (rc <= 0)
			return;
		for (k = 0; k < n; k++) {
			if (pfd[k].revents == 0)
				continue;
			i = slot_of[k];
			/*
			 * A connection nginx closed makes libfcgi try the
			 * listener, which is non-blocking: it then fails, or
			 * brings one request that is served like the others.
			 */
			if (FCGX_Accept_r(&fr[i]) >= 0)
				serve_one(&fr[i], app, arena, resp, sentry);
			FCGX_Free(&fr[i], 1);
		}
	}
}

int
fcgi_worker_run(int listen_fd, struct app *app, long max_requests,
    pid_t supervisor)
{
	FCGX_Request	 fr[WORKER_CONNS];
	struct arena	*arena = NULL;
	struct response	 resp;
	struct pollfd	 pfd[1 + WORKER_CONNS]; /* the listener, then kept */
	int		 slot_of[1 + WORKER_CONNS];
	sigset_t	 waitmask;
	struct sentry	*sentry = NULL;
	unsigned long	 used[WORKER_CONNS] = { 0 }; /* served when last used */
	long		 served = 0;
	int		 flags, rc = 1, inited = 0, i, k, n, slot, spare;
	unsigned int	 turn = 0;

	/* metrics.h counts routes by index, up to its bound. */
	assert(app->dispatch.nroutes <= METRICS_ROUTES_MAX);

	resp_init(&resp);
	if (setup_signals(&waitmask) == -1) {
		log_event(LOG_ERROR, "worker_signals_failed", "error",
		    strerror(errno), NULL);
		return 1;
	}

	/*
	 * A worker outliving its supervisor would serve on unattended.  The
	 * supervisor may have died before the death signal was asked for:
	 * then the parent is no longer the supervisor.
	 */
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() != supervisor)
		return 1;

	if ((flags = fcntl(listen_fd, F_GETFL)) == -1 ||
	    fcntl(listen_fd, F_SETFL, flags | O_NONBLOCK) == -1 ||
	    FCGX_Init() != 0)
		goto out_setup;
	for (inited = 0; inited < WORKER_CONNS; inited++)
		if (FCGX_InitRequest(&fr[inited], listen_fd,
		    FCGI_FAIL_ACCEPT_ON_INTR) != 0)
			goto out_setup;
	if ((arena = arena_new()) == NULL ||
	    (sentry = sentry_new(app->cfg, "worker")) == NULL)
		goto out_setup;

	pfd[0].fd = listen_fd;
	while (!stopping && (max_requests == 0 || served < max_requests)) {
		pfd[0].events = POLLIN;
		pfd[0].revents = 0;
		n = poll_kept(fr, pfd, slot_of, 1);
		if (ppoll(pfd, (nfds_t)n, NULL, &waitmask) == -1) {
			if (errno == EINTR)
				continue;
			log_event(LOG_ERROR, "worker_poll_failed", "error",
			    strerror(errno), NULL);
			goto out_finish;
		}
		/*
		 * When a connection is waiting, ppoll(2) returns it without
		 * delivering a stop signal that arrived during the last
		 * request: the signal stays pending, so look for it here.
		 */
		if (stop_pending()) {
			stopping = 1;
			break;
		}

		/*
		 * A kept connection with a request (or closed by nginx), or a
		 * new connection when a slot is free, taken in turn so that
		 * none waits behind the others for long.  Served only when no
		 * kept connection had a request, a new connection would wait
		 * in the backlog for as long as every worker stays busy:
		 * seconds under load.
		 */
		spare = free_slot(fr);
		slot = -1;
		for (k = 0; k < n && slot == -1; k++) {
			i = (int)((turn + (unsigned int)k) % (unsigned int)n);
			if (i > 0 && pfd[i].revents != 0)
				slot = slot_of[i];
			else if (i == 0 && (pfd[0].revents & POLLIN))
				slot = spare;
		}
		turn++;
		if (slot == -1) {
			if (!(pfd[0].revents & POLLIN))
				continue;
			/*
			 * Every slot is taken and no kept connection has a
			 * request: the new connection replaces the idle one
			 * used least recently.  Only now, when this worker is
			 * idle, for nginx may be about to reuse it: a worker
			 * with a free slot takes the new connection instead.
			 * nginx may have sent a request on it since ppoll(2)
			 * returned: it is then served, and the new connection
			 * waits for the next round.  Closing it would drop
			 * that request.
			 */
			slot = stalest_slot(fr, used);
			if (!readable(fr[slot].ipcFd))
				FCGX_Free(&fr[slot], 1);
		}
		/*
		 * The request on the slot's kept connection, or on a new one
		 * when it has none; libfcgi also takes a new one when the
		 * kept connection turns out closed.
		 */
		if (FCGX_Accept_r(&fr[slot]) < 0)
			continue;
		serve_one(&fr[slot], app, arena, &resp, sentry);
		served++;
		used[slot] = (unsigned long)served;
	}
	if (!stopping && !stop_pending())
		drain(fr, app, arena, &resp, sentry);
	rc = 0;
	goto out_finish;

out_setup:
	log_event(LOG_ERROR, "worker_setup_failed", NULL);
out_finish:
	for (i = 0; i < inited; i++)
		FCGX_Free(&fr[i], 1);
	sentry_free(sentry);
	arena_free(arena);
	resp_free(&resp);
	return rc;
}
