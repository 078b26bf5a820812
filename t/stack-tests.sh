#!/usr/bin/env bash
#
# t/stack-tests.sh: the tests that need the real servers, run by make check.
#
# Starts a private stack (t/stack.sh) in $GT_BUILDDIR/t/stack.d, exports
# the settings of its env file (GT_URL, GT_OPERATOR_TOKEN, GT_DATABASE_URL,
# ...), runs each program of GT_STACK_TESTS (paths under the build folder)
# and then each script of GT_STACK_SCRIPTS (paths under the source folder,
# run with bash), in order, and stops the stack whatever happens.
#
# A test that leaves a server stopped or frozen (the fault tests do so on
# purpose) gets the stack restarted before the next one runs, so one test's
# failure does not become the next one's.
#
# Environment: GT_SRCDIR, GT_BUILDDIR, GT_STACK_TESTS (from Makefile.am);
# GT_STACK_SCRIPTS, GT_TEST_PORT_BASE (default 18480) and
# GT_STACK_TEST_TIMEOUT (seconds per test, default 600) optionally.
#
# Exit status, for Automake's test driver: 0 when every test passed, 1 when
# one failed, 99 (a hard error) when the stack could not be started.  The
# last line is always "stack tests: N passed, N failed".

set -uo pipefail

: "${GT_SRCDIR:?GT_SRCDIR must name the source folder}"
: "${GT_BUILDDIR:?GT_BUILDDIR must name the build folder}"

stack=$GT_SRCDIR/t/stack.sh
stack_dir=$GT_BUILDDIR/t/stack.d
port_base=${GT_TEST_PORT_BASE:-18480}
limit=${GT_STACK_TEST_TIMEOUT:-600}
read -r -a programs <<<"${GT_STACK_TESTS:-}"
read -r -a scripts <<<"${GT_STACK_SCRIPTS:-}"
passed=0
failed=0

summary() {
	echo "stack tests: $passed passed, $failed failed"
}

stop_stack() {
	echo "=== stopping the stack"
	bash "$stack" stop "$stack_dir"
}

start_stack() {
	bash "$stack" start "$stack_dir" --srcdir "$GT_SRCDIR" \
	    --bindir "$GT_BUILDDIR" --port-base "$port_base"
}

# Restarts the stack when a server is stopped or frozen.  Returns non-zero
# when it cannot be brought back.
heal_stack() {
	local status

	status=$(bash "$stack" status "$stack_dir" 2>&1)
	if [[ $? -eq 0 && "$status" != *frozen* ]]; then
		return 0
	fi
	echo "=== the stack was left degraded; restarting it"
	printf '%s\n' "$status"
	start_stack
}

# Runs one test with a time limit, its output shown as it comes.
run_one() {
	local name=$1 rc start

	shift
	echo "=== $name"
	start=$SECONDS
	timeout --kill-after=10 "$limit" "$@"
	rc=$?
	if ((rc == 0)); then
		passed=$((passed + 1))
		echo "PASS: $name ($((SECONDS - start))s)"
	else
		failed=$((failed + 1))
		if ((rc == 124)); then
			echo "FAIL: $name (timed out after ${limit}s)"
		else
			echo "FAIL: $name (exit status $rc, $((SECONDS - start))s)"
		fi
	fi
}

mkdir -p "$GT_BUILDDIR/t"
trap stop_stack EXIT

echo "=== starting the stack in $stack_dir (port base $port_base)"
if ! start_stack; then
	# Nothing could run: each test counts as failed, never as skipped.
	failed=$((${#programs[@]} + ${#scripts[@]}))
	((failed > 0)) || failed=1
	echo "FAIL: the stack could not be started"
	trap - EXIT
	stop_stack
	summary
	exit 99
fi

set -a
# shellcheck source=/dev/null
. "$stack_dir/env"
set +a

for test in "${programs[@]}"; do
	if ! heal_stack; then
		failed=$((failed + 1))
		echo "FAIL: $test (the stack could not be restarted)"
		continue
	fi
	if [[ ! -x "$GT_BUILDDIR/$test" ]]; then
		failed=$((failed + 1))
		echo "FAIL: $test (not built: $GT_BUILDDIR/$test)"
		continue
	fi
	run_one "$test" "$GT_BUILDDIR/$test"
done

for script in "${scripts[@]}"; do
	if ! heal_stack; then
		failed=$((failed + 1))
		echo "FAIL: $script (the stack could not be restarted)"
		continue
	fi
	if [[ ! -r "$GT_SRCDIR/$script" ]]; then
		failed=$((failed + 1))
		echo "FAIL: $script (no such file: $GT_SRCDIR/$script)"
		continue
	fi
	run_one "$script" bash "$GT_SRCDIR/$script"
done

trap - EXIT
stop_stack
summary
((failed == 0))
