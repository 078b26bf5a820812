/*
 * daemon.c: the command line and the signals of the daemons.
 */
#include <config.h>

#include <sys/signalfd.h>

#include <getopt.h>
#include <stdint.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "daemon/daemon.h"
#include "infra/clock.h"
#include "infra/config.h"
#include "infra/sentry.h"

#define REPORT_EVERY_MS	60000

int
daemon_args(const char *prog, int argc, char *argv[],
    struct daemon_args *args)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check-config", no_argument, NULL, 'C' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	int	 ch;

	memset(args, 0, sizeof(*args));
	args->config_path = config_default_path();
	while ((ch = getopt_long(argc, argv, "c:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			args->config_path = optarg;
			break;
		case 'C':
			args->check_only = 1;
			break;
		case 'V':
			printf("%s %s\n", prog, PACKAGE_VERSION);
			return 0;
		default:
			goto out_usage;
		}
	}
	if (optind == argc)
		return -1;

out_usage:
	fprintf(stderr, "usage: %s [-c file] [--check-config] [--version]\n",
	    prog);
	return 2;
}

int
daemon_signal_fd(int with_sigchld)
{
	struct sigaction sa;
	sigset_t	 set;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	if (sigaction(SIGPIPE, &sa, NULL) == -1)
		return -1;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	if (with_sigchld)
		sigaddset(&set, SIGCHLD);
	if (sigprocmask(SIG_BLOCK, &set, NULL) == -1)
		return -1;
	return signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
}

int
daemon_read_signals(int sfd)
{
	struct signalfd_siginfo	 si;
	int			 stop = 0;

	while (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
		if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT)
			stop = 1;
	return stop;
}

void
daemon_report(struct sentry *s, const char *message)
{
	static int64_t	 last;
	int64_t		 now = clock_mono_ms();

	if (!sentry_enabled(s) || (last != 0 && now - last < REPORT_EVERY_MS))
		return;
	last = now;
	(void)sentry_report(s, message, NULL, NULL);
}
