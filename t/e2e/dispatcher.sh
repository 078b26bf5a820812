#!/usr/bin/env bash
#
# t/e2e/dispatcher.sh: the dispatcher end to end.  Runs are created through
# nginx with POST /api/runs, dispatchers started with t/stack.sh run them
# with t/runners/test-runner.sh (whose behaviour each run's instruction
# chooses), and the runs are read back through the API:
#
#   - a runner that succeeds, fails, hangs past the timeout, ignores
#     SIGTERM, prints past the log cap, writes a malformed result.json or
#     leaves processes behind: each run ends in the status and stage
#     runner.md gives, and no process of it is left;
#   - the example runner's run, created through nginx, succeeds with its
#     log and artifacts listed and downloadable;
#   - cancelling a queued and a running run ends in cancelled;
#   - two dispatchers and 200 queued runs: every run is started exactly
#     once, as the runner itself counts;
#   - kill -9 of a dispatcher while its run runs: the run fails with stage
#     interrupted within the lease, and is not started again.
#
# Run by t/stack-tests.sh with the stack's env file exported.  Each case
# prints "ok - name" or "not ok - name: why"; the last line is
# "dispatcher tests: N passed, N failed".  The dispatchers it starts are
# stopped on any exit.

set -u -o pipefail

: "${GT_URL:?}" "${GT_STACK_DIR:?}" "${GT_SRCDIR:?}" "${GT_OPERATOR_TOKEN:?}"
: "${GT_DATABASE_URL:?}"

readonly STACK=$GT_SRCDIR/t/stack.sh
readonly RUNNER=$GT_SRCDIR/t/runners/test-runner.sh
readonly ARTIFACTS=$GT_STACK_DIR/artifacts
readonly TMP=$(mktemp -d)

# The test dispatchers' settings: short times, so that a timeout, a
# grace period and a lease pass within seconds.
export GITTINKERER_RUNNER_PATH=$RUNNER
export GITTINKERER_RUN_TIMEOUT=4
export GITTINKERER_RUN_GRACE=2
export GITTINKERER_LEASE=6
export GITTINKERER_HEARTBEAT_INTERVAL=1
export GITTINKERER_POLL_INTERVAL=1
export GITTINKERER_LOG_CAP=65536
export GITTINKERER_DISPATCHER_SLOTS=4

passed=0
failed=0
owner="disp$$"

pass() { echo "ok - $1"; passed=$((passed + 1)); }
fail() { echo "not ok - $1: $2"; failed=$((failed + 1)); }
note() { echo "# $*"; }

stack() {
	bash "$STACK" "$@" "$GT_STACK_DIR" >/dev/null 2>"$TMP/stack.err" ||
		{ sed 's/^/#   /' "$TMP/stack.err"; return 1; }
}

start_dispatcher() {
	bash "$STACK" dispatcher-start "$GT_STACK_DIR" "$1" >/dev/null \
	    2>"$TMP/stack.err" || { sed 's/^/#   /' "$TMP/stack.err"; return 1; }
}

stop_dispatcher() {
	bash "$STACK" dispatcher-stop "$GT_STACK_DIR" "$1" >/dev/null 2>&1
}

dispatcher_pid() {
	bash "$STACK" dispatcher-pid "$GT_STACK_DIR" "$1" 2>/dev/null
}

cleanup() {
	stop_dispatcher d1
	stop_dispatcher d2
	rm -rf "$TMP"
}
trap cleanup EXIT

# Creates a run on repo/issue with the instruction; prints its id and a
# newline (the body ends without one, and so would sed's output).
create_run() {
	local repo=$1 number=$2 instruction=$3 body id

	body=$(printf '{"repo": "%s/%s", "target": {"type": "issue", "number": %d}, "instruction": "%s"}' \
	    "$owner" "$repo" "$number" "$instruction")
	id=$(curl -s -X POST -H "Authorization: Bearer $GT_OPERATOR_TOKEN" \
	    -H 'Content-Type: application/json' -d "$body" \
	    "$GT_URL/api/runs" | sed -n 's/^{"id":"\([0-9a-f-]*\)".*/\1/p')
	printf '%s\n' "$id"
}

# Prints the run's JSON.
get_run() {
	curl -s -H "Authorization: Bearer $GT_OPERATOR_TOKEN" \
	    "$GT_URL/api/runs/$1"
}

# Prints one field of a JSON text read on stdin ("status", "error.stage").
field() {
	python3 -c '
import json, sys
v = json.load(sys.stdin)
for k in sys.argv[1].split("."):
    v = v.get(k) if isinstance(v, dict) else None
print("" if v is None else (json.dumps(v) if isinstance(v, (dict, list)) else v))
' "$1"
}

# Waits up to timeout seconds for the run to finish; prints its JSON.
wait_finished() {
	local id=$1 timeout=$2 json status i

	for ((i = 0; i < timeout * 5; i++)); do
		json=$(get_run "$id")
		status=$(field status <<<"$json")
		case "$status" in
		succeeded|failed|cancelled) printf '%s\n' "$json"; return 0 ;;
		esac
		sleep 0.2
	done
	printf '%s\n' "$json"
	return 1
}

# Waits up to timeout seconds for the run to be running.
wait_running() {
	local id=$1 timeout=$2 i

	for ((i = 0; i < timeout * 10; i++)); do
		[[ "$(get_run "$id" | field status)" == running ]] && return 0
		sleep 0.1
	done
	return 1
}

# Whether every pid the run's processes recorded is gone.
no_process_left() {
	local id=$1 pid left=''

	[[ -r "$ARTIFACTS/$id/pids.txt" ]] || { REASON="no pids.txt"; return 1; }
	while read -r pid; do
		if kill -0 "$pid" 2>/dev/null &&
		    [[ "$(cut -d' ' -f3 "/proc/$pid/stat" 2>/dev/null)" != Z ]]; then
			left+=" $pid"
		fi
	done <"$ARTIFACTS/$id/pids.txt"
	[[ -z "$left" ]] || { REASON="processes left:$left"; return 1; }
}

# Checks a finished run: status, stage, and that no process is left.
expect_run() {
	local name=$1 id=$2 want_status=$3 want_stage=$4 timeout=$5 json
	local status stage

	REASON=''
	if ! json=$(wait_finished "$id" "$timeout"); then
		fail "$name" "not finished after ${timeout}s: $json"
		return 1
	fi
	status=$(field status <<<"$json")
	stage=$(field error.stage <<<"$json")
	if [[ "$status" != "$want_status" || "$stage" != "$want_stage" ]]; then
		fail "$name" "status $status stage '$stage', want $want_status '$want_stage': $json"
		return 1
	fi
	sleep 0.3
	if ! no_process_left "$id"; then
		fail "$name" "$REASON"
		return 1
	fi
	LAST_JSON=$json
	return 0
}

case_outcomes() {
	local id json log size

	id=$(create_run outcomes 1 succeed)
	if expect_run "a runner that exits 0 succeeds, with its result" "$id" \
	    succeeded "" 20; then
		json=$LAST_JSON
		if [[ "$(field result.summary <<<"$json")" != done ||
		    "$(field exit_code <<<"$json")" != 0 ]]; then
			fail "a runner that exits 0 succeeds, with its result" "$json"
		elif ! psql -X -A -t "$GT_DATABASE_URL" -c \
		    "SELECT tokens_in, files_changed FROM run_metrics WHERE run_id = '$id'" |
		    grep -q '^5|2$'; then
			fail "a runner that exits 0 succeeds, with its result" \
			    "no run_metrics row with the runner's figures"
		else
			pass "a runner that exits 0 succeeds, with its result"
		fi
	fi

	id=$(create_run outcomes 2 fail)
	if expect_run "a runner that exits 3 fails at stage runner" "$id" \
	    failed runner 20; then
		if [[ "$(field exit_code <<<"$LAST_JSON")" != 3 ]]; then
			fail "a runner that exits 3 fails at stage runner" "$LAST_JSON"
		else
			pass "a runner that exits 3 fails at stage runner"
		fi
	fi

	id=$(create_run outcomes 3 hang)
	expect_run "a runner that hangs fails at stage timeout" "$id" failed \
	    timeout 30 && pass "a runner that hangs fails at stage timeout"

	id=$(create_run outcomes 4 ignore-term)
	expect_run "a runner ignoring SIGTERM is killed, stage timeout" "$id" \
	    failed timeout 30 &&
		pass "a runner ignoring SIGTERM is killed, stage timeout"

	id=$(create_run outcomes 5 "flood 500000")
	if expect_run "output past the cap is cut, with a marker" "$id" \
	    succeeded "" 20; then
		log=$ARTIFACTS/$id/log.txt
		size=$(stat -c %s "$log")
		if ((size > 65536 + 200)) || ! grep -q 'log cut at' "$log"; then
			fail "output past the cap is cut, with a marker" \
			    "log.txt is $size bytes"
		else
			pass "output past the cap is cut, with a marker"
		fi
	fi

	id=$(create_run outcomes 6 bad-result)
	if expect_run "a malformed result.json is ignored" "$id" succeeded "" 20; then
		if [[ -n "$(field result <<<"$LAST_JSON")" ]]; then
			fail "a malformed result.json is ignored" "$LAST_JSON"
		else
			pass "a malformed result.json is ignored"
		fi
	fi

	id=$(create_run outcomes 7 grandchild)
	expect_run "processes a runner leaves behind are killed" "$id" \
	    succeeded "" 20 && pass "processes a runner leaves behind are killed"
}

case_example_runner() {
	local name="the example runner's run succeeds; its artifacts download"
	local id json names code

	export GITTINKERER_RUNNER_PATH=$GT_BINDIR/src/gittinkerer-example-runner
	stop_dispatcher d1
	start_dispatcher d1 || { fail "$name" "no dispatcher"; return; }
	id=$(create_run example 1 "Fix the failing date parser test")
	if ! json=$(wait_finished "$id" 20) ||
	    [[ "$(field status <<<"$json")" != succeeded ]]; then
		fail "$name" "$json"
	else
		names=$(field artifacts <<<"$json")
		code=$(curl -s -o "$TMP/log.txt" -w '%{http_code}' \
		    -H "Authorization: Bearer $GT_OPERATOR_TOKEN" \
		    "$GT_URL/api/runs/$id/artifacts/log.txt")
		if [[ "$names" != *'"log.txt"'* || "$names" != *'"summary.txt"'* ||
		    "$names" == *payload.json* ]]; then
			fail "$name" "artifacts: $names"
		elif [[ "$code" != 200 ]] || ! grep -q "$id" "$TMP/log.txt"; then
			fail "$name" "log.txt: $code"
		else
			pass "$name"
		fi
	fi
	export GITTINKERER_RUNNER_PATH=$RUNNER
	stop_dispatcher d1
	start_dispatcher d1
}

case_cancel() {
	local id json code

	# Queued: no dispatcher runs while it is cancelled.
	stop_dispatcher d1
	id=$(create_run cancel 1 succeed)
	code=$(curl -s -o /dev/null -w '%{http_code}' -X POST \
	    -H "Authorization: Bearer $GT_OPERATOR_TOKEN" \
	    "$GT_URL/api/runs/$id/cancel")
	json=$(get_run "$id")
	if [[ "$code" != 202 || "$(field status <<<"$json")" != cancelled ]]; then
		fail "cancelling a queued run cancels it" "$code $json"
	else
		pass "cancelling a queued run cancels it"
	fi
	start_dispatcher d1

	id=$(create_run cancel 2 hang)
	if ! wait_running "$id" 10; then
		fail "cancelling a running run ends it cancelled" "never ran"
		return
	fi
	json=$(curl -s -X POST -H "Authorization: Bearer $GT_OPERATOR_TOKEN" \
	    "$GT_URL/api/runs/$id/cancel")
	if [[ "$(field status <<<"$json")" != running ]]; then
		fail "cancelling a running run ends it cancelled" "202 showed $json"
		return
	fi
	expect_run "cancelling a running run ends it cancelled" "$id" \
	    cancelled cancelled 10 &&
		pass "cancelling a running run ends it cancelled"
}

case_exactly_once() {
	local name="two dispatchers start each of 200 runs exactly once"
	local count=$TMP/count.txt ids=$TMP/ids.txt i n dup left

	stop_dispatcher d1
	: >"$count"
	: >"$ids"
	for ((i = 1; i <= 200; i++)); do
		create_run once "$i" "count $count" >>"$ids"
	done
	n=$(grep -c . "$ids")
	start_dispatcher d1 && start_dispatcher d2 ||
		{ fail "$name" "dispatchers did not start"; return; }
	for ((i = 0; i < 600; i++)); do
		left=$(psql -X -A -t "$GT_DATABASE_URL" -c "SELECT count(*) FROM runs WHERE repo = '$owner/once' AND status IN ('queued', 'running')")
		[[ "$left" == 0 ]] && break
		sleep 0.2
	done
	dup=$(sort "$count" | uniq -d | wc -l)
	if [[ "$n" != 200 ]]; then
		fail "$name" "only $n runs were created"
	elif [[ "$left" != 0 ]]; then
		fail "$name" "$left runs still queued or running"
	elif [[ "$(sort -u "$count" | wc -l)" != 200 || "$dup" != 0 ]]; then
		fail "$name" "$(sort -u "$count" | wc -l) runs started, $dup twice"
	elif ! grep -q event=runner_started "$GT_STACK_DIR/log/d2.log"; then
		fail "$name" "the second dispatcher started none"
	else
		pass "$name"
	fi
	stop_dispatcher d2
}

case_killed_dispatcher() {
	local name="a run whose dispatcher is killed fails, stage interrupted"
	local id pid json

	id=$(create_run killed 1 hang)
	if ! wait_running "$id" 10; then
		fail "$name" "never ran"
		return
	fi
	pid=$(dispatcher_pid d1)
	kill -9 "$pid"
	start_dispatcher d2
	# The lease is 6 s; the second dispatcher reaps within half of it.
	# The runner writes a line to pids.txt each time it starts.
	if expect_run "$name" "$id" failed interrupted 15; then
		if [[ $(grep -c . "$ARTIFACTS/$id/pids.txt") != 1 ]]; then
			fail "$name" "the run was started again"
		else
			pass "$name"
		fi
	fi
	stop_dispatcher d2
	start_dispatcher d1
}

main() {
	stop_dispatcher dispatcher
	start_dispatcher d1 || { fail "dispatcher starts" "see its log"; exit 1; }
	case_outcomes
	case_example_runner
	case_cancel
	case_exactly_once
	case_killed_dispatcher
	echo "dispatcher tests: $passed passed, $failed failed"
	((failed == 0))
}

main
