#!/usr/bin/env bash
#
# t/sanitizers.sh: the whole test suite built with AddressSanitizer and
# UndefinedBehaviorSanitizer (make check-sanitizers).
#
#   t/sanitizers.sh --srcdir S --builddir B [--port-base P]
#
# The source tree is configured in place, for gcc and coverage, and
# Automake refuses a second build beside an in-tree one; so the sources go
# through "make distdir" into B/t/sanitizers.d/src (exactly what a release
# holds), are configured there with --enable-sanitizers
# (-fsanitize=address,undefined, no recovery) and built, and make check
# runs there: the unit tests, the fuzz replays, and the stack tests with
# their own stack on port base P (default 18580, so that a make check of
# the main tree, on 18480, may run at the same time).
#
# Every sanitizer report fails the run, whichever process writes it:
# ASAN_OPTIONS and UBSAN_OPTIONS send the reports to files under
# B/t/sanitizers.d/reports/, and the environment carries them to every
# program the tests start, the pool and its forked workers, the
# dispatcher, the runner and the GitHub daemon included.  A report from a
# daemon whose test still passed is caught there: after make check, any
# file in that folder fails the run and is printed.  LeakSanitizer runs
# at each process's exit (detect_leaks=1); a daemon or worker that ends
# with _exit() is not checked for leaks, by design of LeakSanitizer.
#
# Exit status: 0 when the build, every test and the reports folder are
# clean; 1 otherwise.

set -uo pipefail

say() { printf 'sanitizers: %s\n' "$*"; }

srcdir=
builddir=
port_base=18580
while (($#)); do
	case "$1" in
	--srcdir) srcdir=${2:-}; shift ;;
	--builddir) builddir=${2:-}; shift ;;
	--port-base) port_base=${2:-}; shift ;;
	*) echo "usage: t/sanitizers.sh --srcdir S --builddir B [--port-base P]" >&2; exit 2 ;;
	esac
	shift
done
if [[ -z "$srcdir" || -z "$builddir" ]]; then
	echo "usage: t/sanitizers.sh --srcdir S --builddir B [--port-base P]" >&2
	exit 2
fi
builddir=$(cd "$builddir" && pwd -P)
scratch=$builddir/t/sanitizers.d
tree=$scratch/src
reports=$scratch/reports
start=$SECONDS

# A stack left running by an interrupted run would hold the ports.
if [[ -d "$tree/t/stack.d" ]]; then
	bash "$tree/t/stack.sh" stop "$tree/t/stack.d" >/dev/null 2>&1
fi
rm -rf "$scratch"
mkdir -p "$scratch" "$reports"

say "copying the sources (make distdir) into $tree"
if ! make -C "$builddir" distdir distdir="$tree" >"$scratch/distdir.log" 2>&1; then
	tail -n 30 "$scratch/distdir.log"
	say "FAILED: make distdir"
	exit 1
fi

say "configuring and building with -fsanitize=address,undefined"
if ! (cd "$tree" && ./configure --enable-sanitizers --enable-werror \
    CFLAGS='-g -O1' >"$scratch/configure.log" 2>&1); then
	tail -n 30 "$scratch/configure.log"
	say "FAILED: configure"
	exit 1
fi
# Two goals of one parallel make may build a shared object twice at once:
# the programs first, then the test programs.
if ! { make -C "$tree" -j2 && make -C "$tree" -j2 check TESTS=; } \
    >"$scratch/build.log" 2>&1; then
	grep -E 'error|Error' "$scratch/build.log" | head -n 30
	say "FAILED: the build"
	exit 1
fi
say "built in $((SECONDS - start))s"

# abort_on_error is left off: a report then exits with the sanitizer's
# exit code (1) instead of a core dump.  LeakSanitizer reads ASAN_OPTIONS
# in an ASan build, so its reports go to the same files.  Note:
# strict_string_checks is not set, since it takes a strndup() of a buffer
# without a NUL (legal, and done by the tests with OpenSSL's output) for
# an overflow.
export ASAN_OPTIONS="detect_leaks=1:halt_on_error=1:detect_stack_use_after_return=1:check_initialization_order=1:log_path=$reports/asan"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:log_path=$reports/ubsan"
export GT_TEST_PORT_BASE=$port_base

# ASan reserves terabytes of address space for its shadow memory at start,
# which the runner's address-space limit (runner_max_memory_mb, RLIMIT_AS)
# forbids: the dispatchers of the stack would see the instrumented example
# runner abort at once.  The limit is lifted for this run only, through
# the environment every program of the stack reads; check_spawner still
# tests that the limit is applied, with runners that are shell scripts.
export GITTINKERER_RUNNER_MAX_MEMORY_MB=0

check_rc=0
make -C "$tree" check >"$scratch/check.log" 2>&1 || check_rc=$?
grep -hE '^(FAIL|ERROR|XPASS):|^# (TOTAL|PASS|FAIL|ERROR):' \
    "$tree/test-suite.log" 2>/dev/null
grep -hE '^FAIL|^stack tests:' "$tree/t/stack-tests.sh.log" 2>/dev/null

nreports=$(find "$reports" -type f | wc -l)
if ((nreports > 0)); then
	say "$nreports sanitizer report(s):"
	for f in "$reports"/*; do
		echo "--- $f"
		head -n 60 "$f"
	done
fi
say "finished in $((SECONDS - start))s; logs in $scratch, the tests' in $tree/test-suite.log"
if ((check_rc != 0 || nreports > 0)); then
	say "FAILED: make check exit status $check_rc, $nreports report(s)"
	exit 1
fi
say "every test passed with no sanitizer report"
