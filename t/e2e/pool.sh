#!/usr/bin/env bash
#
# t/e2e/pool.sh: the worker pool end to end, through the real nginx, while
# t/tools/load.py sends traffic: what src/pool/supervisor.h promises, seen
# by a client.
#
#   a. a worker killed with SIGKILL is replaced, and only the request it
#      held may fail;
#   b. SIGHUP starts a new generation of workers and drops no request;
#   c. SIGTERM lets the requests in hand finish, within the drain timeout,
#      and no worker takes a request queued behind them;
#   d. a worker that served max_requests requests exits and is replaced,
#      and no request fails;
#   e. such a worker answers a request sent on its kept connection after
#      its last one (t/tools/fcgi_keep.py, as nginx keeps connections)
#      before it closes the connection: nginx retries a GET it had sent on
#      a connection closed under it, but answers a POST 502.
#
# Run by t/stack-tests.sh with the stack's env file exported (GT_URL,
# GT_STACK_DIR, GT_CONFIG, GT_SRCDIR, ...).  Each case prints "ok - name"
# or "not ok - name: why"; the last line is "pool tests: N passed, N
# failed" and the exit status is 1 when one failed.  The stack is left
# running and healthy: what a case stops or freezes is put back, by the
# case itself or, if the script is interrupted, by its EXIT trap.

set -u -o pipefail

: "${GT_URL:?GT_URL must be the URL of the nginx of the stack}"
: "${GT_STACK_DIR:?GT_STACK_DIR must name the stack folder}"
: "${GT_CONFIG:?GT_CONFIG must name the configuration of the service}"
: "${GT_SRCDIR:?GT_SRCDIR must name the source folder}"

readonly STACK=$GT_SRCDIR/t/stack.sh
readonly LOAD=$GT_SRCDIR/t/tools/load.py
readonly POOL_LOG=$GT_STACK_DIR/log/pool.log
readonly POOL_SOCK=$GT_STACK_DIR/run/pool.sock

# Bounds, in seconds, on every wait below.  The machine may be small and
# shared: each is several times what the event takes on an idle one.
readonly READY_TIMEOUT=10	# load.py's threads to start
readonly REPLACE_TIMEOUT=5	# a dead worker to be replaced
readonly IN_HAND_TIMEOUT=5	# slow requests to reach the workers
readonly HEALTH_TIMEOUT=20	# /health to answer 200 after a restart
readonly RECYCLE_DURATION=180	# load.py's bound while waiting for a recycle

# Load that runs before and after the event a case watches, so that the
# event happens while requests flow.
readonly LOAD_THREADS=4
readonly SETTLE=0.5
readonly MIN_REQUESTS=100	# fewer means the load did not really run

TMP=$(mktemp -d "${TMPDIR:-/tmp}/gt-pool-test.XXXXXX") || exit 1
readonly TMP
passed=0
failed=0
redis_frozen=0
LOAD_PID=''	# the load.py running in the background, if one does
REASON=''
KILLED=''

# The figures of the last load.py run, set by load_figures.
L_total=0 L_ok=0 L_failed=0 L_conn_errors=0 L_stopped_by='' L_min_ms=''
L_max_ms='' L_status='' L_failures=''

# ---------------------------------------------------------------------------
# Reporting

pass() {
	echo "ok - $1"
	passed=$((passed + 1))
}

# The reason may come in several words, joined with spaces.
fail() {
	local name=$1

	shift
	echo "not ok - $name: $*"
	failed=$((failed + 1))
}

# A figure for the reader of the log, not a verdict.
note() {
	echo "# $*"
}

# ---------------------------------------------------------------------------
# The stack

# Runs a t/stack.sh command quietly; its output is shown when it fails.
stack() {
	if ! bash "$STACK" "$1" "$GT_STACK_DIR" >"$TMP/stack.out" 2>&1; then
		sed 's/^/#   /' "$TMP/stack.out"
		return 1
	fi
}

supervisor_pid() {
	bash "$STACK" pool-pid "$GT_STACK_DIR" 2>/dev/null
}

# Prints the supervisor's live children, one pid a line, in the order
# comm(1) wants.  A zombie is left out: it is a worker that has exited but
# is not reaped.
worker_pids() {
	ps -o pid=,stat= --ppid "$1" 2>/dev/null |
		awk '$2 !~ /^Z/ { print $1 }' | sort
}

# The supervisor's workers on one line, for a message.
pids_line() {
	worker_pids "$1" | tr '\n' ' '
}

count_lines() {
	if [[ -z "$1" ]]; then
		echo 0
	else
		printf '%s\n' "$1" | wc -l
	fi
}

# Whether pid is gone; a zombie counts as gone, as the supervisor is not
# our child and its reaper may take its time.
is_gone() {
	local stat

	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
	stat=${stat##*) }
	[[ "${stat:0:1}" == Z ]]
}

# A value of the service's configuration, or the default when unset.
conf_value() {
	local value

	value=$(awk -F '=' -v key="$1" '
		{ k = $1; gsub(/[ \t]/, "", k) }
		k == key { v = $2; gsub(/[ \t]/, "", v); print v; exit }
	' "$GT_CONFIG")
	printf '%s\n' "${value:-$2}"
}

health_code() {
	curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$GT_URL/health"
}

# Polls a command every 100 ms until it succeeds or timeout seconds pass.
wait_for() {
	local timeout=$1 i

	shift
	for ((i = 0; i < timeout * 10; i++)); do
		"$@" && return 0
		sleep 0.1
	done
	"$@"
}

health_is_200() {
	[[ "$(health_code)" == 200 ]]
}

# Makes sure the pool runs and answers before a case: one case's failure
# must not become the next one's.  Prints the supervisor's pid.
pool_ready() {
	local pid

	if ! pid=$(supervisor_pid); then
		stack pool-start >/dev/null || return 1
		pid=$(supervisor_pid) || return 1
	fi
	wait_for "$HEALTH_TIMEOUT" health_is_200 || return 1
	printf '%s\n' "$pid"
}

redis_freeze() {
	stack redis-freeze || return 1
	redis_frozen=1
}

redis_thaw() {
	stack redis-thaw || return 1
	redis_frozen=0
}

# ---------------------------------------------------------------------------
# Load

# Starts load.py in the background against $GT_URL/health and waits for
# its threads to be sending.  Sets LOAD_PID; its summary goes to
# $TMP/NAME.json.  The remaining arguments go to load.py.  One runs at a
# time.
load_start() {
	local name=$1

	shift
	rm -f "$TMP/$name.ready"
	python3 "$LOAD" --url "$GT_URL" --path /health \
	    --ready-file "$TMP/$name.ready" "$@" \
	    >"$TMP/$name.json" 2>"$TMP/$name.err" &
	LOAD_PID=$!
	wait_for "$READY_TIMEOUT" test -e "$TMP/$name.ready"
}

load_alive() {
	kill -0 "$1" 2>/dev/null
}

load_gone() {
	! load_alive "$1"
}

# Waits for load.py to end (asking it to with SIGTERM unless told to let
# it run out), at most 30 s: a request in hand ends by load.py's own
# timeout, 10 s by default.  Once reaped, its pid is forgotten, so that
# the EXIT trap cannot signal another process that got the same number.
load_stop() {
	local pid=$1 how=${2:-term}

	[[ "$how" == term ]] && kill -TERM "$pid" 2>/dev/null
	wait_for 30 load_gone "$pid" || kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	[[ "$pid" != "$LOAD_PID" ]] || LOAD_PID=''
}

# Reads the summary load.py printed into L_* variables.  Returns 1 when
# there is none (load.py failed: its stderr is shown).
load_figures() {
	local file=$TMP/$1.json

	if ! eval "$(python3 - "$file" 2>/dev/null <<'EOF'
import json, shlex, sys
s = json.loads(open(sys.argv[1]).readline())
for k in ("total", "ok", "failed", "conn_errors", "stopped_by",
          "min_ms", "max_ms"):
    print("L_%s=%s" % (k, shlex.quote(str(s[k]))))
print("L_status=%s" % shlex.quote(json.dumps(s["status"])))
print("L_failures=%s" % shlex.quote(json.dumps(s["failures"])))
EOF
	)"; then
		note "load.py left no summary in $file"
		sed 's/^/#   /' "$TMP/$1.err"
		return 1
	fi
	note "$1: total=$L_total ok=$L_ok failed=$L_failed" \
	    "conn_errors=$L_conn_errors status=$L_status" \
	    "min_ms=$L_min_ms max_ms=$L_max_ms failures=$L_failures"
}

# Whether the load ran across the whole event: stopped by us, not by its
# own bounds, after enough requests to mean something.  Sets REASON.
load_covered() {
	REASON="the load did not run across the $1"
	REASON+=" ($L_total requests, stopped by $L_stopped_by)"
	[[ "$L_stopped_by" == signal ]] && ((L_total >= MIN_REQUESTS))
}

# ---------------------------------------------------------------------------
# The cases

# Whether the worker set has count pids, none of them in old (when all is
# given, no pid of old may remain; else only gone must be gone).
workers_replaced() {
	local sup=$1 count=$2 old=$3 gone=$4 now pid

	now=$(worker_pids "$sup")
	[[ "$(count_lines "$now")" == "$count" ]] || return 1
	for pid in $now; do
		if [[ "$gone" == all ]]; then
			grep -qx "$pid" <<<"$old" && return 1
		else
			[[ "$pid" == "$gone" ]] && return 1
		fi
	done
	# Something new must be there, not merely the old set minus one.
	comm -13 <(printf '%s\n' "$old") <(printf '%s\n' "$now") | grep -q .
}

# Sends SIGKILL to one live worker of the supervisor; sets KILLED to its
# pid.
kill_a_worker() {
	local pid

	for pid in $(worker_pids "$1"); do
		if kill -KILL "$pid" 2>/dev/null; then
			KILLED=$pid
			return 0
		fi
	done
	return 1
}

case_sigkill() {
	local name="a worker killed with SIGKILL is replaced, at most its request fails"
	local sup before count victim

	sup=$(pool_ready) || { fail "$name" "the pool does not answer"; return; }
	before=$(worker_pids "$sup")
	count=$(count_lines "$before")

	load_start sigkill --threads "$LOAD_THREADS" --duration 60 ||
		{ fail "$name" "load.py did not start"; return; }
	sleep "$SETTLE"
	# The worker may have exited meanwhile, at the end of its quota: then
	# another one is the victim.
	if ! kill_a_worker "$sup"; then
		load_stop "$LOAD_PID"
		fail "$name" "no worker could be killed"
		return
	fi
	victim=$KILLED
	if ! wait_for "$REPLACE_TIMEOUT" workers_replaced "$sup" "$count" \
	    "$before" "$victim"; then
		load_stop "$LOAD_PID"
		fail "$name" "worker $victim was not replaced within" \
		    "${REPLACE_TIMEOUT}s (workers: $(pids_line "$sup"))"
		return
	fi
	sleep "$SETTLE"
	load_stop "$LOAD_PID"
	load_figures sigkill || { fail "$name" "no load figures"; return; }

	if ! load_covered kill; then
		fail "$name" "$REASON"
	elif ! grep -q " event=worker_exited pid=$victim signal=9\$" "$POOL_LOG"; then
		fail "$name" "the pool did not log the death of worker $victim by SIGKILL"
	elif ((L_failed > 1)); then
		fail "$name" "$L_failed of $L_total requests failed: $L_failures"
	else
		pass "$name"
	fi
}

case_sighup() {
	local name="SIGHUP replaces every worker and drops no request"
	local sup before count drain

	sup=$(pool_ready) || { fail "$name" "the pool does not answer"; return; }
	before=$(worker_pids "$sup")
	count=$(count_lines "$before")
	drain=$(conf_value drain_timeout 30)

	load_start sighup --threads "$LOAD_THREADS" --duration 60 ||
		{ fail "$name" "load.py did not start"; return; }
	sleep "$SETTLE"
	kill -HUP "$sup"
	# The old generation may take up to the drain timeout to go.
	if ! wait_for $((drain + 5)) workers_replaced "$sup" "$count" \
	    "$before" all; then
		load_stop "$LOAD_PID"
		fail "$name" "the workers were not all replaced within" \
		    "$((drain + 5))s (before: $(tr '\n' ' ' <<<"$before")," \
		    "after: $(pids_line "$sup"))"
		return
	fi
	sleep "$SETTLE"
	load_stop "$LOAD_PID"
	load_figures sighup || { fail "$name" "no load figures"; return; }

	if [[ "$(supervisor_pid)" != "$sup" ]]; then
		fail "$name" "the supervisor changed: $sup before, $(supervisor_pid) after"
	elif ! load_covered reload; then
		fail "$name" "$REASON"
	elif ((L_failed != 0)); then
		fail "$name" "$L_failed of $L_total requests failed: $L_failures"
	else
		pass "$name"
	fi
}

# How many workers hold a connection from nginx: a connection still in the
# listen queue has no process, so it is not counted.
workers_in_hand() {
	local workers=$1

	ss -xnp 2>/dev/null | awk -v sock="$POOL_SOCK" -v workers="$workers" '
		BEGIN { n = split(workers, w, " "); for (i = 1; i <= n; i++) ours[w[i]] = 1 }
		$2 == "ESTAB" && $5 == sock && match($0, /pid=[0-9]+/) {
			pid = substr($0, RSTART + 4, RLENGTH - 4)
			if (pid in ours && !(pid in seen)) { seen[pid] = 1; count++ }
		}
		END { print count + 0 }'
}

all_in_hand() {
	[[ "$(workers_in_hand "$1")" == "$2" ]]
}

# Restarts the pool after a drain and checks that /health answers 200.
# Returns 1 with the reason in REASON.
restart_after_drain() {
	REASON=''
	if ((redis_frozen)) && ! redis_thaw; then
		REASON="Redis could not be thawed"
	elif ! stack pool-start; then
		REASON="the pool did not start again"
	elif ! wait_for "$HEALTH_TIMEOUT" health_is_200; then
		REASON="/health answers $(health_code), not 200, after the restart"
	fi
	[[ -z "$REASON" ]]
}

# Whether every pid given is gone.
all_gone() {
	local pid

	for pid in "$@"; do
		is_gone "$pid" || return 1
	done
}

# Whether /health is slow with Redis frozen: frozen, Redis accepts
# connections but never answers, so each /health waits for the command
# timeout.  Returns 1 with the reason in REASON.
health_is_slow() {
	local want_ms=$1

	REASON=''
	load_start slow --threads 1 --requests 2 && load_stop "$LOAD_PID" wait
	if ! load_figures slow || ((L_ok != 2)); then
		REASON="/health did not answer with Redis frozen"
	elif ! awk -v got="$L_min_ms" -v want="$want_ms" \
	    'BEGIN { exit !(got + 0 >= want + 0) }'; then
		REASON="/health took $L_min_ms ms with Redis frozen, not $want_ms"
	fi
	[[ -z "$REASON" ]]
}

# Sends two slow requests for each worker, SIGTERM to the supervisor once
# every worker holds one (the others wait in the socket's queue), and
# checks how the drain went: each worker finishes the request in hand and
# takes no other.  Returns 1 with the reason in REASON.
drain_slow_requests() {
	local sup=$1 workers=$2 count=$3 drain=$4 sent_ms took_ms

	REASON=''
	load_start drain --threads $((2 * count)) --requests $((2 * count)) \
	    --timeout 20 --duration 60 || { REASON="load.py did not start"; return 1; }
	if command -v ss >/dev/null &&
	    ! wait_for "$IN_HAND_TIMEOUT" all_in_hand "$workers" "$count"; then
		note "only $(workers_in_hand "$workers") of $count workers hold a request"
	fi
	sleep 0.1

	sent_ms=$(date +%s%3N)
	kill -TERM "$sup"
	wait_for $((drain + 5)) is_gone "$sup"
	took_ms=$(($(date +%s%3N) - sent_ms))
	load_stop "$LOAD_PID" wait
	note "the supervisor exited ${took_ms} ms after SIGTERM"

	# Word splitting of $workers is meant: one pid a word.
	# shellcheck disable=SC2086
	if ! is_gone "$sup"; then
		REASON="the supervisor still runs $((drain + 5))s after SIGTERM"
	elif ((took_ms >= drain * 1000)); then
		REASON="the supervisor took $took_ms ms, the drain timeout is ${drain}s"
	elif ! all_gone $workers; then
		REASON="workers outlived the supervisor"
	elif ! load_figures drain; then
		REASON="no load figures"
	elif ((L_ok != count)); then
		REASON="$L_ok slow requests got 200, not one per worker ($count):"
		REASON+=" $L_failures"
	elif ((L_failed != count)); then
		REASON="$L_failed queued requests failed, not $count: $L_failures"
	fi
	[[ -z "$REASON" ]]
}

case_sigterm() {
	local name="SIGTERM lets the requests in hand finish, takes no queued one"
	local sup workers count why=''

	sup=$(pool_ready) || { fail "$name" "the pool does not answer"; return; }
	workers=$(worker_pids "$sup" | tr '\n' ' ')
	count=$(count_lines "$(worker_pids "$sup")")

	if ! redis_freeze; then
		why="Redis could not be frozen"
	elif ! health_is_slow "$(conf_value redis_command_timeout_ms 200)"; then
		why=$REASON
	elif ! drain_slow_requests "$sup" "$workers" "$count" \
	    "$(conf_value drain_timeout 30)"; then
		why=$REASON
	fi

	# Put back whatever happened above.
	if ! restart_after_drain; then
		why="${why:+$why; }$REASON"
	fi
	if [[ -n "$why" ]]; then
		fail "$name" "$why"
	else
		pass "$name"
	fi
}

# Prints how many requests the pool logged since its last start, before
# the first worker exit, and that exit's line.
first_exit_in_log() {
	awk '
		/^--- t\/stack.sh starts the pool/ { n = 0; line = ""; done = 0; next }
		done { next }
		/ event=request / { n++ }
		/ event=worker_exited / { line = $0; done = 1 }
		END { print n; print line }
	' "$POOL_LOG"
}

# Prints the first pid of old that is no longer a worker.
first_gone() {
	comm -23 <(printf '%s\n' "$2") <(worker_pids "$1") | head -n 1
}

case_recycle() {
	local name="a worker that served max_requests is replaced, no request fails"
	local sup before count quota requests exited served line gone

	quota=$(conf_value max_requests 10000)
	if ((quota == 0)); then
		fail "$name" "max_requests is 0 in the stack's configuration: workers are never recycled"
		return
	fi

	# A fresh pool, so that no worker has served a request before.
	if ! stack pool-stop || ! sup=$(pool_ready); then
		fail "$name" "the pool could not be restarted"
		return
	fi
	before=$(worker_pids "$sup")
	count=$(count_lines "$before")

	# Once count * (quota - 1) + 1 requests are served, one worker has
	# served quota of them, so a recycle must have happened by then; a
	# tenth more keeps the load running across it.
	requests=$((count * quota + count * quota / 10 + 10))
	if ((requests > 500000)); then
		fail "$name" "$requests requests would be needed to see a recycle: lower max_requests in the stack's configuration"
		return
	fi
	load_start recycle --threads "$LOAD_THREADS" --requests "$requests" \
	    --duration "$RECYCLE_DURATION" ||
		{ fail "$name" "load.py did not start"; return; }
	gone=''
	while load_alive "$LOAD_PID"; do
		gone=$(first_gone "$sup" "$before")
		[[ -n "$gone" ]] && break
		sleep 0.2
	done
	[[ -n "$gone" ]] || gone=$(first_gone "$sup" "$before")
	if [[ -n "$gone" ]]; then
		wait_for "$REPLACE_TIMEOUT" workers_replaced "$sup" "$count" \
		    "$before" "$gone"
		sleep "$SETTLE"
	fi
	load_stop "$LOAD_PID"
	load_figures recycle || { fail "$name" "no load figures"; return; }
	{ read -r served; read -r line; } < <(first_exit_in_log)
	exited=$(sed -n 's/.* pid=\([0-9]*\).*/\1/p' <<<"$line")
	note "first exit after $served logged requests: ${line:-none}"

	if [[ -z "$gone" ]]; then
		fail "$name" "no worker left after $L_total requests" \
		    "($count workers, max_requests $quota)"
	elif ! workers_replaced "$sup" "$count" "$before" "$gone"; then
		fail "$name" "worker $gone was not replaced within ${REPLACE_TIMEOUT}s"
	elif ! grep -qx "$exited" <<<"$before" || [[ ! "$line" =~ \ status=0$ ]]; then
		fail "$name" "the first worker exit is not a clean one:" \
		    "${line:-none logged}"
	elif ((served < quota)); then
		# Even one worker taking every request could not reach its
		# quota so soon.
		fail "$name" "worker $exited exited when the pool had served" \
		    "$served requests in all, fewer than max_requests ($quota)"
	elif ! load_covered recycle; then
		fail "$name" "$REASON"
	elif ((L_failed != 0)); then
		fail "$name" "$L_failed of $L_total requests failed: $L_failures"
	elif [[ "$(supervisor_pid)" != "$sup" ]]; then
		fail "$name" "the supervisor changed"
	else
		pass "$name"
	fi
}

# ---------------------------------------------------------------------------
# Whatever happens, no load.py is left behind and the stack is put back.

cleanup() {
	[[ -z "$LOAD_PID" ]] || load_stop "$LOAD_PID"
	if ((redis_frozen)); then
		redis_thaw || echo "# could not thaw Redis"
	fi
	if ! pool_ready >/dev/null; then
		echo "# the pool could not be brought back"
	fi
	rm -rf "$TMP"
}

case_recycle_kept() {
	local name="a worker at max_requests answers its kept connection's request"
	local out want

	# One worker, which exits after each request.
	if ! stack pool-stop ||
	    ! GITTINKERER_WORKERS=1 GITTINKERER_MAX_REQUESTS=1 stack pool-start ||
	    ! pool_ready >/dev/null; then
		fail "$name" "the pool could not be restarted with one worker"
		stack pool-stop
		return
	fi
	out=$(python3 "$GT_SRCDIR/t/tools/fcgi_keep.py" \
	    "$GT_STACK_DIR/run/pool.sock" /health 2 2>&1)
	want=$(printf '1 200\n2 200\nclosed')
	if ! stack pool-stop || ! pool_ready >/dev/null; then
		fail "$name" "the pool could not be brought back"
	elif [[ "$out" != "$want" ]]; then
		fail "$name" "two requests on one kept connection:" \
		    "$(tr '\n' ' ' <<<"$out")(want: 1 200, 2 200, closed)"
	else
		pass "$name"
	fi
}

main() {
	trap cleanup EXIT
	trap 'exit 1' INT TERM HUP

	case_sigkill
	case_sighup
	case_sigterm
	case_recycle
	case_recycle_kept

	echo "pool tests: $passed passed, $failed failed"
	((failed == 0))
}

main "$@"
