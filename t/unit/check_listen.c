/*
 * check_listen.c: where the pool's listening socket comes from.
 *
 * The systemd and spawn-fcgi cases put a socket on fd 3 or fd 0.  Check
 * reports a result through a file it opened in the test process, which
 * may well be fd 3, so whatever sits on those descriptors is moved aside
 * first and put back before any assertion.
 */
#include <config.h>

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <netinet/in.h>

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pool/listen.h"

#define DIR_TEMPLATE	"/tmp/gt-listen.XXXXXX"

static char	 dir[] = DIR_TEMPLATE;
static char	 sock_path[sizeof(dir) + 16];
static char	 err[256];

static void
teardown(void)
{
	struct dirent	*de;
	char		 path[sizeof(dir) + 256];
	DIR		*d;

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

static void
setup(void)
{
	int	 n;

	memcpy(dir, DIR_TEMPLATE, sizeof(dir));
	ck_assert_ptr_nonnull(mkdtemp(dir));
	n = snprintf(sock_path, sizeof(sock_path), "%s/pool.sock", dir);
	ck_assert(n > 0 && (size_t)n < sizeof(sock_path));
	(void)unsetenv("LISTEN_PID");
	(void)unsetenv("LISTEN_FDS");
	(void)unsetenv("LISTEN_FDNAMES");
}

static int
is_cloexec(int fd)
{
	int	 flags = fcntl(fd, F_GETFD);

	return flags != -1 && (flags & FD_CLOEXEC);
}

/* Connects to the socket fd listens on; returns the client or -1. */
static int
connect_to(int fd)
{
	struct sockaddr_storage	 ss;
	socklen_t		 len = sizeof(ss);
	int			 c;

	if (getsockname(fd, (struct sockaddr *)&ss, &len) == -1)
		return -1;
	if ((c = socket(ss.ss_family, SOCK_STREAM, 0)) == -1)
		return -1;
	if (connect(c, (struct sockaddr *)&ss, len) == -1) {
		close(c);
		return -1;
	}
	return c;
}

/* Whether fd accepts a connection made to it. */
static int
accepts(int fd)
{
	int	 c, a;

	if ((c = connect_to(fd)) == -1)
		return 0;
	a = accept(fd, NULL, NULL);
	close(c);
	if (a == -1)
		return 0;
	close(a);
	return 1;
}

static int
tcp_listener(void)
{
	int	 fd;

	fd = listen_bind("127.0.0.1:0", 0, err, sizeof(err));
	ck_assert_msg(fd != -1, "%s", err);
	return fd;
}

/* Moves whatever is on fd out of the way; fd_put_back() restores it. */
struct fd_aside {
	int	 fd;
	int	 copy;	/* -1 when fd was closed */
};

static void
fd_set_aside(struct fd_aside *a, int fd)
{
	a->fd = fd;
	a->copy = fcntl(fd, F_DUPFD_CLOEXEC, 20);
}

static void
fd_put_back(struct fd_aside *a)
{
	if (a->copy == -1) {
		close(a->fd);
		return;
	}
	(void)dup2(a->copy, a->fd);
	close(a->copy);
}

static void
set_systemd_env(const char *pid, const char *fds)
{
	if (pid != NULL)
		ck_assert_int_eq(setenv("LISTEN_PID", pid, 1), 0);
	if (fds != NULL)
		ck_assert_int_eq(setenv("LISTEN_FDS", fds, 1), 0);
	ck_assert_int_eq(setenv("LISTEN_FDNAMES", "gittinkerer", 1), 0);
}

static const char *
our_pid(void)
{
	static char	 buf[24];

	(void)snprintf(buf, sizeof(buf), "%ld", (long)getpid());
	return buf;
}

static void
assert_systemd_env_gone(void)
{
	ck_assert_ptr_null(getenv("LISTEN_PID"));
	ck_assert_ptr_null(getenv("LISTEN_FDS"));
	ck_assert_ptr_null(getenv("LISTEN_FDNAMES"));
}

START_TEST(unix_spec_binds_listening_socket)
{
	char		 spec[sizeof(sock_path) + 8];
	struct stat	 st;
	int		 fd;

	(void)snprintf(spec, sizeof(spec), "unix:%s", sock_path);
	fd = listen_bind(spec, 0, err, sizeof(err));
	ck_assert_msg(fd != -1, "%s", err);
	ck_assert_str_eq(err, "");
	ck_assert(listen_fd_is_listening(fd));
	ck_assert(is_cloexec(fd));
	ck_assert(accepts(fd));

	ck_assert_int_eq(lstat(sock_path, &st), 0);
	ck_assert(S_ISSOCK(st.st_mode));
	ck_assert_uint_eq(st.st_mode & 07777, 0660);
	close(fd);
}
END_TEST

START_TEST(unix_socket_gets_requested_mode)
{
	char		 spec[sizeof(sock_path) + 8];
	struct stat	 st;
	int		 fd;

	(void)snprintf(spec, sizeof(spec), "unix:%s", sock_path);
	fd = listen_bind(spec, 0666, err, sizeof(err));
	ck_assert_msg(fd != -1, "%s", err);
	ck_assert_int_eq(stat(sock_path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0666);
	close(fd);
}
END_TEST

START_TEST(bad_socket_mode_is_rejected)
{
	char	 spec[sizeof(sock_path) + 8];

	(void)snprintf(spec, sizeof(spec), "unix:%s", sock_path);
	ck_assert_int_eq(listen_bind(spec, 010000, err, sizeof(err)), -1);
	ck_assert_str_ne(err, "");
	ck_assert_int_eq(access(sock_path, F_OK), -1);
}
END_TEST

START_TEST(stale_unix_socket_is_replaced)
{
	struct sockaddr_un	 sun;
	char			 spec[sizeof(sock_path) + 8];
	int			 old, fd;

	/* A socket file left behind by a process that is gone. */
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, sock_path, strlen(sock_path) + 1);
	old = socket(AF_UNIX, SOCK_STREAM, 0);
	ck_assert_int_ne(old, -1);
	ck_assert_int_eq(bind(old, (struct sockaddr *)&sun, sizeof(sun)), 0);
	close(old);
	ck_assert_int_eq(access(sock_path, F_OK), 0);

	(void)snprintf(spec, sizeof(spec), "unix:%s", sock_path);
	fd = listen_bind(spec, 0, err, sizeof(err));
	ck_assert_msg(fd != -1, "%s", err);
	ck_assert(accepts(fd));
	close(fd);
}
END_TEST

START_TEST(live_unix_socket_is_not_taken_over)
{
	char	 spec[sizeof(sock_path) + 8];
	int	 first, second;

	(void)snprintf(spec, sizeof(spec), "unix:%s", sock_path);
	first = listen_bind(spec, 0, err, sizeof(err));
	ck_assert_msg(first != -1, "%s", err);

	second = listen_bind(spec, 0, err, sizeof(err));
	ck_assert_int_eq(second, -1);
	ck_assert_msg(strstr(err, "in use") != NULL, "%s", err);

	/* The probe's connection is the only one queued. */
	ck_assert(accepts(first));
	close(first);
}
END_TEST

START_TEST(regular_file_at_unix_path_is_kept)
{
	char		 spec[sizeof(sock_path) + 8];
	struct stat	 st;
	int		 fd;

	fd = open(sock_path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	ck_assert_int_ne(fd, -1);
	close(fd);

	(void)snprintf(spec, sizeof(spec), "unix:%s", sock_path);
	ck_assert_int_eq(listen_bind(spec, 0, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "not a socket") != NULL, "%s", err);
	ck_assert_int_eq(lstat(sock_path, &st), 0);
	ck_assert(S_ISREG(st.st_mode));
}
END_TEST

START_TEST(long_unix_path_is_rejected)
{
	char	 spec[300];

	memcpy(spec, "unix:/tmp/", 10);
	memset(spec + 10, 'x', sizeof(spec) - 11);
	spec[sizeof(spec) - 1] = '\0';
	ck_assert_int_eq(listen_bind(spec, 0, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "too long") != NULL, "%s", err);
}
END_TEST

START_TEST(ipv4_port_zero_gets_free_port)
{
	struct sockaddr_in	 sin;
	socklen_t		 len = sizeof(sin);
	int			 fd, on = 0;

	fd = tcp_listener();
	ck_assert(listen_fd_is_listening(fd));
	ck_assert(is_cloexec(fd));
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	ck_assert_int_eq(sin.sin_family, AF_INET);
	ck_assert_int_ne(ntohs(sin.sin_port), 0);
	ck_assert_uint_eq(ntohl(sin.sin_addr.s_addr), INADDR_LOOPBACK);

	len = sizeof(on);
	ck_assert_int_eq(getsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, &len),
	    0);
	ck_assert_int_ne(on, 0);
	ck_assert(accepts(fd));
	close(fd);
}
END_TEST

START_TEST(ipv4_given_port_is_bound)
{
	struct sockaddr_in	 sin;
	socklen_t		 len = sizeof(sin);
	char			 spec[64];
	int			 fd, port;

	/* Learn a free port, release it, and ask for it by number. */
	fd = tcp_listener();
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	port = ntohs(sin.sin_port);
	close(fd);

	(void)snprintf(spec, sizeof(spec), "127.0.0.1:%d", port);
	fd = listen_bind(spec, 0, err, sizeof(err));
	ck_assert_msg(fd != -1, "%s", err);
	len = sizeof(sin);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	ck_assert_int_eq(ntohs(sin.sin_port), port);
	close(fd);
}
END_TEST

START_TEST(ipv6_loopback_in_brackets_is_bound)
{
	struct sockaddr_in6	 sin6;
	socklen_t		 len = sizeof(sin6);
	int			 fd;

	fd = listen_bind("[::1]:0", 0, err, sizeof(err));
	ck_assert_msg(fd != -1, "%s", err);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sin6, &len), 0);
	ck_assert_int_eq(sin6.sin6_family, AF_INET6);
	ck_assert(IN6_IS_ADDR_LOOPBACK(&sin6.sin6_addr));
	ck_assert_int_ne(ntohs(sin6.sin6_port), 0);
	ck_assert(accepts(fd));
	close(fd);
}
END_TEST

static const char *const malformed[] = {
	"",
	"unix:",
	"tcp:8080",
	"127.0.0.1",
	"127.0.0.1:",
	":8080",
	"127.0.0.1:65536",
	"127.0.0.1:99999999999999999999999",
	"127.0.0.1:-1",
	"127.0.0.1:+80",
	"127.0.0.1: 80",
	"127.0.0.1:80x",
	"127.0.0.1:0x50",
	"::1:8080",
	"[::1]",
	"[::1]8080",
	"[::1:8080",
	"[]:8080",
	"[127.0.0.1.5]:8080",
	"[not-an-address]:8080",
};

START_TEST(malformed_spec_is_rejected)
{
	const char	*spec = malformed[_i];

	ck_assert_msg(listen_bind(spec, 0, err, sizeof(err)) == -1,
	    "\"%s\" was accepted", spec);
	ck_assert_msg(err[0] != '\0', "no message for \"%s\"", spec);
}
END_TEST

START_TEST(only_listening_stream_socket_counts_as_listening)
{
	int	 lfd, fd, pair[2];

	lfd = tcp_listener();
	ck_assert_int_eq(listen_fd_is_listening(lfd), 1);

	fd = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_eq(listen_fd_is_listening(fd), 0);
	close(fd);

	fd = socket(AF_INET, SOCK_DGRAM, 0);
	ck_assert_int_eq(listen_fd_is_listening(fd), 0);
	close(fd);

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, pair), 0);
	ck_assert_int_eq(listen_fd_is_listening(pair[0]), 0);
	close(pair[0]);
	close(pair[1]);

	ck_assert_int_eq(pipe(pair), 0);
	ck_assert_int_eq(listen_fd_is_listening(pair[0]), 0);
	close(pair[0]);
	close(pair[1]);

	ck_assert_int_eq(listen_fd_is_listening(-1), 0);
	close(lfd);
}
END_TEST

START_TEST(systemd_socket_on_fd3_is_taken)
{
	struct fd_aside	 a;
	int		 lfd, fd, listening, cloexec;

	lfd = tcp_listener();
	ck_assert_int_eq(fcntl(lfd, F_SETFD, 0), 0);
	set_systemd_env(our_pid(), "1");

	fd_set_aside(&a, 3);
	(void)dup2(lfd, 3);
	fd = listen_from_systemd(err, sizeof(err));
	listening = listen_fd_is_listening(3);
	cloexec = is_cloexec(3);
	fd_put_back(&a);

	ck_assert_msg(fd == 3, "%s", err);
	ck_assert_str_eq(err, "");
	ck_assert(listening);
	ck_assert(cloexec);
	assert_systemd_env_gone();
	close(lfd);
}
END_TEST

START_TEST(systemd_variables_for_another_process_are_ignored)
{
	char	 pid[24];

	(void)snprintf(pid, sizeof(pid), "%ld", (long)getppid());
	set_systemd_env(pid, "1");
	ck_assert_int_eq(listen_from_systemd(err, sizeof(err)), -1);
	ck_assert_str_eq(err, "");
	assert_systemd_env_gone();
}
END_TEST

START_TEST(no_systemd_variables_means_no_socket)
{
	ck_assert_int_eq(listen_from_systemd(err, sizeof(err)), -1);
	ck_assert_str_eq(err, "");
}
END_TEST

START_TEST(systemd_passing_no_socket_means_no_socket)
{
	set_systemd_env(our_pid(), "0");
	ck_assert_int_eq(listen_from_systemd(err, sizeof(err)), -1);
	ck_assert_str_eq(err, "");
	assert_systemd_env_gone();
}
END_TEST

/* Pairs of LISTEN_PID and LISTEN_FDS; "self" stands for our pid. */
static const char *const bad_systemd[][2] = {
	{ "12x", "1" },
	{ "", "1" },
	{ "-1", "1" },
	{ " 1", "1" },
	{ "99999999999999999999", "1" },
	{ NULL, "1" },
	{ "self", "1x" },
	{ "self", "one" },
	{ "self", "-1" },
	{ "self", "" },
	{ "self", NULL },
};

START_TEST(malformed_systemd_variables_are_rejected)
{
	const char	*pid = bad_systemd[_i][0], *fds = bad_systemd[_i][1];

	if (pid != NULL && strcmp(pid, "self") == 0)
		pid = our_pid();
	set_systemd_env(pid, fds);
	ck_assert_int_eq(listen_from_systemd(err, sizeof(err)), -1);
	ck_assert_msg(err[0] != '\0', "no message for LISTEN_PID=%s LISTEN_FDS=%s",
	    pid ? pid : "(unset)", fds ? fds : "(unset)");
	assert_systemd_env_gone();
}
END_TEST

START_TEST(systemd_passing_two_sockets_is_an_error)
{
	set_systemd_env(our_pid(), "2");
	ck_assert_int_eq(listen_from_systemd(err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "2 sockets") != NULL, "%s", err);
	assert_systemd_env_gone();
}
END_TEST

START_TEST(systemd_fd3_that_does_not_listen_is_an_error)
{
	struct fd_aside	 a;
	int		 fd, pair[2];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, pair), 0);
	set_systemd_env(our_pid(), "1");

	fd_set_aside(&a, 3);
	(void)dup2(pair[0], 3);
	fd = listen_from_systemd(err, sizeof(err));
	fd_put_back(&a);

	ck_assert_int_eq(fd, -1);
	ck_assert_msg(strstr(err, "not a listening socket") != NULL, "%s",
	    err);
	assert_systemd_env_gone();
	close(pair[0]);
	close(pair[1]);
}
END_TEST

START_TEST(acquire_binds_given_spec)
{
	char	 spec[sizeof(sock_path) + 8];
	int	 fd;

	(void)snprintf(spec, sizeof(spec), "unix:%s", sock_path);
	fd = listen_acquire(spec, 0666, err, sizeof(err));
	ck_assert_msg(fd != -1, "%s", err);
	ck_assert(accepts(fd));
	close(fd);
}
END_TEST

START_TEST(acquire_takes_systemd_socket)
{
	struct fd_aside	 a;
	int		 lfd, fd;

	lfd = tcp_listener();
	set_systemd_env(our_pid(), "1");

	fd_set_aside(&a, 3);
	(void)dup2(lfd, 3);
	fd = listen_acquire(NULL, 0, err, sizeof(err));
	fd_put_back(&a);

	ck_assert_msg(fd == 3, "%s", err);
	assert_systemd_env_gone();
	close(lfd);
}
END_TEST

START_TEST(acquire_refuses_fd0_after_bad_systemd_variables)
{
	struct fd_aside	 a;
	int		 lfd, fd;

	lfd = tcp_listener();
	set_systemd_env(our_pid(), "3");

	fd_set_aside(&a, 0);
	(void)dup2(lfd, 0);
	fd = listen_acquire(NULL, 0, err, sizeof(err));
	fd_put_back(&a);

	ck_assert_int_eq(fd, -1);
	ck_assert_msg(strstr(err, "3 sockets") != NULL, "%s", err);
	close(lfd);
}
END_TEST

START_TEST(acquire_takes_listening_fd0)
{
	struct fd_aside	 a;
	int		 lfd, fd, cloexec;

	lfd = tcp_listener();
	ck_assert_int_eq(fcntl(lfd, F_SETFD, 0), 0);

	fd_set_aside(&a, 0);
	(void)dup2(lfd, 0);
	fd = listen_acquire(NULL, 0, err, sizeof(err));
	cloexec = is_cloexec(0);
	fd_put_back(&a);

	ck_assert_msg(fd == 0, "%s", err);
	ck_assert(cloexec);
	close(lfd);
}
END_TEST

START_TEST(acquire_without_any_socket_says_how_to_pass_one)
{
	struct fd_aside	 a;
	int		 null, fd;

	null = open("/dev/null", O_RDONLY);
	ck_assert_int_ne(null, -1);

	fd_set_aside(&a, 0);
	(void)dup2(null, 0);
	fd = listen_acquire(NULL, 0, err, sizeof(err));
	fd_put_back(&a);

	ck_assert_int_eq(fd, -1);
	ck_assert_msg(strncmp(err, "no listening socket:", 20) == 0, "%s", err);
	ck_assert_msg(strstr(err, "--listen unix:PATH") != NULL, "%s", err);
	close(null);
}
END_TEST

START_TEST(message_is_cut_to_buffer)
{
	char	 small[8];

	ck_assert_int_eq(listen_bind("nonsense", 0, small, sizeof(small)),
	    -1);
	ck_assert_uint_eq(strlen(small), sizeof(small) - 1);
	ck_assert_int_eq(listen_bind("nonsense", 0, NULL, 0), -1);
}
END_TEST

static Suite *
listen_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("listen");

	tc = tcase_create("bind");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, unix_spec_binds_listening_socket);
	tcase_add_test(tc, unix_socket_gets_requested_mode);
	tcase_add_test(tc, bad_socket_mode_is_rejected);
	tcase_add_test(tc, stale_unix_socket_is_replaced);
	tcase_add_test(tc, live_unix_socket_is_not_taken_over);
	tcase_add_test(tc, regular_file_at_unix_path_is_kept);
	tcase_add_test(tc, long_unix_path_is_rejected);
	tcase_add_test(tc, ipv4_port_zero_gets_free_port);
	tcase_add_test(tc, ipv4_given_port_is_bound);
	tcase_add_test(tc, ipv6_loopback_in_brackets_is_bound);
	tcase_add_loop_test(tc, malformed_spec_is_rejected, 0,
	    sizeof(malformed) / sizeof(malformed[0]));
	tcase_add_test(tc, only_listening_stream_socket_counts_as_listening);
	tcase_add_test(tc, message_is_cut_to_buffer);
	suite_add_tcase(s, tc);

	tc = tcase_create("systemd");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, systemd_socket_on_fd3_is_taken);
	tcase_add_test(tc, systemd_variables_for_another_process_are_ignored);
	tcase_add_test(tc, no_systemd_variables_means_no_socket);
	tcase_add_test(tc, systemd_passing_no_socket_means_no_socket);
	tcase_add_loop_test(tc, malformed_systemd_variables_are_rejected, 0,
	    sizeof(bad_systemd) / sizeof(bad_systemd[0]));
	tcase_add_test(tc, systemd_passing_two_sockets_is_an_error);
	tcase_add_test(tc, systemd_fd3_that_does_not_listen_is_an_error);
	suite_add_tcase(s, tc);

	tc = tcase_create("acquire");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, acquire_binds_given_spec);
	tcase_add_test(tc, acquire_takes_systemd_socket);
	tcase_add_test(tc, acquire_refuses_fd0_after_bad_systemd_variables);
	tcase_add_test(tc, acquire_takes_listening_fd0);
	tcase_add_test(tc, acquire_without_any_socket_says_how_to_pass_one);
	suite_add_tcase(s, tc);

	return s;
}

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	sr = srunner_create(listen_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
