/*
 * listen.c: the worker pool's listening socket, bound from --listen,
 * passed by systemd, or inherited on fd 0.
 */
#include <config.h>

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <netinet/in.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pool/listen.h"

#define LISTEN_BACKLOG		SOMAXCONN
#define LISTEN_DEFAULT_MODE	0660

/* sd_listen_fds(3): the first passed descriptor. */
#define SD_LISTEN_FDS_START	3

static const char bad_spec[] =
    "expected unix:PATH, HOST:PORT or [ADDR]:PORT";
static const char no_socket[] =
"no listening socket: pass --listen unix:PATH or HOST:PORT, or start under systemd or spawn-fcgi";

/*
 * Writes a message into err.  A message longer than err is cut short: the
 * start of it, which says what failed, is what matters.
 */
static void __attribute__((format(printf, 3, 4)))
seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list	 ap;

	if (errlen == 0)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static void
err_clear(char *err, size_t errlen)
{
	if (errlen > 0)
		err[0] = '\0';
}

/* Parses a decimal number in [0, max], digits only.  Returns 0 or -1. */
static int
parse_number(const char *s, long long max, long long *out)
{
	char		*end;
	long long	 v;

	if (!isdigit((unsigned char)s[0]))
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno == ERANGE || *end != '\0' || v > max)
		return -1;
	*out = v;
	return 0;
}

static int
set_cloexec(int fd)
{
	int	 flags;

	if ((flags = fcntl(fd, F_GETFD)) == -1)
		return -1;
	if (flags & FD_CLOEXEC)
		return 0;
	return fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
}

/*
 * Whether a process listens on the socket file at sun: a connection is
 * accepted into its queue, or the queue is full.  The probe does not
 * block.
 */
static int
unix_in_use(const struct sockaddr_un *sun)
{
	int	 fd, rc;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return 0;
	rc = connect(fd, (const struct sockaddr *)sun, sizeof(*sun));
	rc = rc == 0 || errno == EAGAIN;
	close(fd);
	return rc;
}

static int
bind_unix(const char *path, unsigned int mode, char *err, size_t errlen)
{
	struct sockaddr_un	 sun;
	struct stat		 st;
	size_t			 len;
	int			 fd = -1;

	len = strlen(path);
	if (len == 0) {
		seterr(err, errlen, "bad listen address \"unix:\": empty path");
		return -1;
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (len >= sizeof(sun.sun_path)) {
		seterr(err, errlen, "unix socket path too long: %s", path);
		return -1;
	}
	memcpy(sun.sun_path, path, len + 1);

	/*
	 * A socket file left by a pool that is gone is replaced; anything
	 * else at the path, or a socket someone still listens on, is not.
	 */
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			seterr(err, errlen, "%s: exists and is not a socket",
			    path);
			return -1;
		}
		if (unix_in_use(&sun)) {
			seterr(err, errlen, "%s: in use by another process",
			    path);
			return -1;
		}
		if (unlink(path) == -1 && errno != ENOENT) {
			seterr(err, errlen, "unlink stale socket %s: %s", path,
			    strerror(errno));
			return -1;
		}
	} else if (errno != ENOENT) {
		seterr(err, errlen, "stat %s: %s", path, strerror(errno));
		return -1;
	}

	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		seterr(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		seterr(err, errlen, "bind %s: %s", path, strerror(errno));
		goto out_close;
	}
	if (chmod(path, mode) == -1) {
		seterr(err, errlen, "chmod %s: %s", path, strerror(errno));
		goto out_unlink;
	}
	if (listen(fd, LISTEN_BACKLOG) == -1) {
		seterr(err, errlen, "listen %s: %s", path, strerror(errno));
		goto out_unlink;
	}
	return fd;

out_unlink:
	(void)unlink(path);
out_close:
	close(fd);
	return -1;
}

/*
 * Splits HOST:PORT or [ADDR]:PORT into host (of size hostlen) and a
 * pointer to the port digits, checked to be in range.  Returns 0 or -1.
 */
static int
split_host_port(const char *spec, char *host, size_t hostlen,
    const char **port, int *numeric)
{
	const char	*sep;
	size_t		 n;
	long long	 num;

	*numeric = 0;
	if (spec[0] == '[') {
		if ((sep = strchr(spec, ']')) == NULL || sep[1] != ':')
			return -1;
		n = (size_t)(sep - spec - 1);
		spec++;
		*port = sep + 2;
		*numeric = 1;
	} else {
		if ((sep = strrchr(spec, ':')) == NULL)
			return -1;
		n = (size_t)(sep - spec);
		/* An IPv6 address without brackets cannot be split. */
		if (memchr(spec, ':', n) != NULL)
			return -1;
		*port = sep + 1;
	}
	if (n == 0 || n >= hostlen)
		return -1;
	memcpy(host, spec, n);
	host[n] = '\0';
	return parse_number(*port, 65535, &num);
}

/* Binds and listens on one resolved address.  Returns the socket or -1. */
static int
inet_listen(const struct addrinfo *ai)
{
	int	 fd, on = 1, saved;

	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
	    ai->ai_protocol);
	if (fd == -1)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) == -1)
		goto out_close;
	/* [::] takes IPv6 only: 0.0.0.0 is there for IPv4. */
	if (ai->ai_family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6,
	    IPV6_V6ONLY, &on, sizeof(on)) == -1)
		goto out_close;
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) == -1 ||
	    listen(fd, LISTEN_BACKLOG) == -1)
		goto out_close;
	return fd;

out_close:
	saved = errno;
	close(fd);
	errno = saved;
	return -1;
}

static int
bind_inet(const char *spec, char *err, size_t errlen)
{
	struct addrinfo	 hints, *res, *ai;
	char		 host[NI_MAXHOST];
	const char	*port;
	int		 fd = -1, numeric, rc, saved = 0;

	if (split_host_port(spec, host, sizeof(host), &port, &numeric)) {
		seterr(err, errlen, "bad listen address \"%s\": %s", spec,
		    bad_spec);
		return -1;
	}

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if (numeric)
		hints.ai_flags |= AI_NUMERICHOST;
	if ((rc = getaddrinfo(host, port, &hints, &res)) != 0) {
		seterr(err, errlen, "listen address %s: %s", spec,
		    gai_strerror(rc));
		return -1;
	}

	/* The first address that can be bound is the one listened on. */
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if ((fd = inet_listen(ai)) != -1)
			break;
		saved = errno;
	}
	freeaddrinfo(res);

	if (fd == -1)
		seterr(err, errlen, "bind %s: %s", spec, strerror(saved));
	return fd;
}

int
listen_bind(const char *spec, unsigned int mode, char *err, size_t errlen)
{
	err_clear(err, errlen);
	if (mode == 0)
		mode = LISTEN_DEFAULT_MODE;
	if (mode > 07777) {
		seterr(err, errlen, "bad unix socket mode %o", mode);
		return -1;
	}
	if (strncmp(spec, "unix:", 5) == 0)
		return bind_unix(spec + 5, mode, err, errlen);
	return bind_inet(spec, err, errlen);
}

/*
 * sd_listen_fds(3) without libsystemd.  Returns fd 3, or -1 with *bad set
 * when the variables are malformed or name more than one socket, or -1
 * alone when they are absent or meant for another process.  They are
 * removed from the environment in every case.
 */
static int
from_systemd(char *err, size_t errlen, int *bad)
{
	const char	*pidstr, *fdsstr;
	long long	 pid, nfds;
	int		 fd = -1;

	*bad = 0;
	pidstr = getenv("LISTEN_PID");
	fdsstr = getenv("LISTEN_FDS");
	if (pidstr == NULL && fdsstr == NULL)
		goto out_unset;

	*bad = 1;
	if (pidstr == NULL || parse_number(pidstr, INT_MAX, &pid) == -1) {
		seterr(err, errlen, "LISTEN_PID is not a process id: %s",
		    pidstr == NULL ? "(unset)" : pidstr);
		goto out_unset;
	}
	if (pid != (long long)getpid()) {
		*bad = 0;
		goto out_unset;
	}
	if (fdsstr == NULL ||
	    parse_number(fdsstr, INT_MAX - SD_LISTEN_FDS_START, &nfds) == -1) {
		seterr(err, errlen, "LISTEN_FDS is not a count: %s",
		    fdsstr == NULL ? "(unset)" : fdsstr);
		goto out_unset;
	}
	if (nfds == 0) {
		*bad = 0;
		goto out_unset;
	}
	if (nfds > 1) {
		seterr(err, errlen, "systemd passed %lld sockets, not one",
		    nfds);
		goto out_unset;
	}
	if (!listen_fd_is_listening(SD_LISTEN_FDS_START)) {
		seterr(err, errlen, "systemd fd %d is not a listening socket",
		    SD_LISTEN_FDS_START);
		goto out_unset;
	}
	if (set_cloexec(SD_LISTEN_FDS_START) == -1) {
		seterr(err, errlen, "fcntl fd %d: %s", SD_LISTEN_FDS_START,
		    strerror(errno));
		goto out_unset;
	}
	*bad = 0;
	fd = SD_LISTEN_FDS_START;

out_unset:
	(void)unsetenv("LISTEN_PID");
	(void)unsetenv("LISTEN_FDS");
	(void)unsetenv("LISTEN_FDNAMES");
	return fd;
}

int
listen_from_systemd(char *err, size_t errlen)
{
	int	 bad;

	err_clear(err, errlen);
	return from_systemd(err, errlen, &bad);
}

int
listen_acquire(const char *spec, unsigned int mode, char *err,
    size_t errlen)
{
	int	 fd, bad;

	err_clear(err, errlen);
	if (spec != NULL)
		return listen_bind(spec, mode, err, errlen);

	if ((fd = from_systemd(err, errlen, &bad)) != -1 || bad)
		return fd;

	/* FastCGI's FCGI_LISTENSOCK_FILENO, as spawn-fcgi passes it. */
	if (listen_fd_is_listening(STDIN_FILENO)) {
		if (set_cloexec(STDIN_FILENO) == -1) {
			seterr(err, errlen, "fcntl fd 0: %s", strerror(errno));
			return -1;
		}
		return STDIN_FILENO;
	}

	seterr(err, errlen, "%s", no_socket);
	return -1;
}

int
listen_fd_is_listening(int fd)
{
	socklen_t	 len;
	int		 val;

	len = sizeof(val);
	if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &val, &len) == -1 ||
	    val == 0)
		return 0;
	len = sizeof(val);
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &val, &len) == -1)
		return 0;
	return val == SOCK_STREAM;
}
