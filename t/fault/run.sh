#!/usr/bin/env bash
#
# t/fault/run.sh: the fault-injection suite.  Each scenario drives steady
# load through nginx (t/fault/load.py: creates, polls, signed webhooks)
# while it breaks one thing, puts it back, measures the recovery, then
# checks the books (t/fault/books.py): every accepted request's run
# exists exactly once, every run has ended, the API agrees with the
# table, and no worker, dispatcher or server is left dead.
#
#   redis-kill       Redis stopped for 4 s, then started again
#   redis-freeze     Redis stopped with SIGSTOP for 4 s, then SIGCONT
#   pg-restart       PostgreSQL stopped for 3 s, then started again
#   pg-freeze        PostgreSQL and its backends SIGSTOPped for 4 s
#   pg-freeze-long   the same for 11 s, longer than the dispatcher's lease
#   worker-kill      a pool worker killed with SIGKILL, 8 times
#   worker-kill-busy the same, each time while PostgreSQL is frozen for
#                    0.3 s, so that the worker dies in a request
#   pool-restart     the whole pool stopped (SIGTERM) and started again
#   nginx-reload     nginx reloaded 8 times, every half second
#   dispatcher-kill  the dispatcher killed with SIGKILL while runs run,
#                    and started again 2 s later
#   artifacts-full   the artifact filesystem (a tmpfs) filled for 4 s
#   runner-limits    a runner that forks for ever and one that eats
#                    memory, beside the steady runs
#
#   t/fault/run.sh [SCENARIO...]      (all of them by default)
#
# Environment: GT_SRCDIR and GT_BUILDDIR (the source and build folders;
# make check-faults sets them), GT_FAULT_PORT_BASE (default 18680: nginx
# on it, PostgreSQL and Redis on the next two).  The stack lives in
# $GT_BUILDDIR/t/fault.d, each scenario's files in t/fault.d/fault/out,
# and the table goes to stdout and to $GT_BUILDDIR/fault-table.txt.
#
# It needs root: it mounts a tmpfs on the artifacts folder, and runs the
# dispatcher as an unprivileged user (gtfault, created when missing), as
# production does, since RLIMIT_NPROC does not bind root.  Whatever
# happens, the load, the dispatcher, the stack and the mount are taken
# down on exit.  The exit status is 0 when every scenario passed.

set -u -o pipefail

: "${GT_SRCDIR:?GT_SRCDIR must name the source folder}"
: "${GT_BUILDDIR:?GT_BUILDDIR must name the build folder}"

readonly SRC=$GT_SRCDIR
readonly STACK=$SRC/t/stack.sh
readonly LOAD=$SRC/t/fault/load.py
readonly BOOKS=$SRC/t/fault/books.py
readonly PORT_BASE=${GT_FAULT_PORT_BASE:-18680}
readonly D=$GT_BUILDDIR/t/fault.d
readonly F=$D/fault
readonly OUT=$F/out
readonly TABLE=$GT_BUILDDIR/fault-table.txt
readonly FAULT_USER=gtfault

# The dispatcher's settings: short times, so that a timeout, a grace
# and a lease pass within seconds; limits small enough that a hostile
# runner meets them at once.
readonly SLOTS=8
readonly RUN_TIMEOUT=8
readonly RUN_GRACE=2
readonly LEASE=8
readonly MAX_PROCS=64
readonly MAX_MEMORY_MB=256
readonly ARTIFACTS_MB=64

# Bounds, in seconds.
readonly WARMUP=3		# load before the fault
readonly AFTER=2		# load after the recovery
readonly RECOVERY_BOUND=20	# documented in doc/reliability.md
readonly PROBE_TIMEOUT=60
readonly HEALTH_WAIT=20		# for GET /health during a fault
readonly DRAIN=60
readonly WORKERS=4
readonly KILLS=8		# workers killed in worker-kill

ALL=(redis-kill redis-freeze pg-restart pg-freeze pg-freeze-long worker-kill
    worker-kill-busy pool-restart nginx-reload dispatcher-kill artifacts-full
    runner-limits)

OWNER=''
SCEN=''		# the scenario under way
LOAD_PID=''
HEALTH_PID=''	# GET /health during the fault
HEALTH_WANT=''
MOUNTED=0
FAILS=()	# what the current scenario found besides the books
RESULTS=()

say() { printf 'faults: %s\n' "$*"; }
die() { printf 'faults: %s\n' "$*" >&2; exit 1; }

stack() {
	bash "$STACK" "$1" "$D" "${@:2}" >>"$F/stack.log" 2>&1
}

psql_value() {
	psql -X -q -A -t -v ON_ERROR_STOP=1 -d "$GT_DATABASE_URL" -c "$1"
}

# ---------------------------------------------------------------------------
# The dispatcher, as the unprivileged user

dispatcher_pid() {
	local pid

	pid=$(cat "$F/run/dispatcher.pid" 2>/dev/null) || return 1
	[[ "$pid" =~ ^[0-9]+$ ]] || return 1
	[[ "$({ tr '\0' ' ' <"/proc/$pid/cmdline"; } 2>/dev/null)" == \
	    *gittinkerer-dispatcher*"$F/dispatcher.conf"* ]] || return 1
	printf '%s\n' "$pid"
}

# The stack's configuration, its secrets left out (the dispatcher needs
# none, and they are root's), with the suite's settings.
dispatcher_config() {
	local keys='runner_path|runner_home|dispatcher_slots|run_timeout|run_grace'

	keys+='|lease|heartbeat_interval|poll_interval|runner_max_[a-z_]+'
	grep -v -E "^($keys|[a-z_]+_file) *=" "$D/gittinkerer.conf" \
	    >"$F/dispatcher.conf.new"
	cat >>"$F/dispatcher.conf.new" <<EOF

# The fault suite's dispatcher (t/fault/run.sh).
runner_path = $F/bin/runner.py
runner_home = $F/home
dispatcher_slots = $SLOTS
run_timeout = $RUN_TIMEOUT
run_grace = $RUN_GRACE
lease = $LEASE
heartbeat_interval = 1
poll_interval = 1
runner_max_procs = $MAX_PROCS
runner_max_memory_mb = $MAX_MEMORY_MB
runner_max_open_files = 256
EOF
	chmod 0644 "$F/dispatcher.conf.new"
	mv "$F/dispatcher.conf.new" "$F/dispatcher.conf"
}

# Started in a session of its own, as t/stack.sh starts daemons, with
# setpriv (which execs, so the pid file holds the dispatcher's pid).  A
# coverage build writes its counters under GCOV_PREFIX, which the user
# may write.
dispatcher_start() {
	local log=$D/log/fault-dispatcher.log lines i

	touch "$log"
	lines=$(wc -l <"$log")
	# Not a job of this shell, which would report its SIGKILL.
	# shellcheck disable=SC2016 # $$ and $0 are the inner shell's
	(setsid bash -c 'echo $$ >"$0" && exec "$@"' "$F/run/dispatcher.pid" \
	    setpriv --reuid="$FAULT_USER" --regid="$FAULT_USER" --clear-groups \
	    env GCOV_PREFIX="$F/gcov" \
	    "$GT_BUILDDIR/src/gittinkerer-dispatcher" -c "$F/dispatcher.conf" \
	    </dev/null >>"$log" 2>&1 &)
	for ((i = 0; i < 200; i++)); do
		if dispatcher_pid >/dev/null &&
		    tail -n +"$((lines + 1))" "$log" |
		    grep -q event=dispatcher_started; then
			return 0
		fi
		sleep 0.1
	done
	tail -n 20 "$log" >&2
	return 1
}

dispatcher_stop() {
	local pid i

	pid=$(dispatcher_pid) || return 0
	kill -TERM "$pid" 2>/dev/null
	for ((i = 0; i < 150; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL -- "-$pid" 2>/dev/null || true
	rm -f "$F/run/dispatcher.pid"
}

# The live processes of the suite's user: the dispatcher and its
# runners.  A zombie has ended: its parent (init, for the runners of a
# killed dispatcher) may take its time to reap it.
user_pids() {
	ps -o pid=,stat= -u "$FAULT_USER" 2>/dev/null |
		awk '$2 !~ /^Z/ { print $1 }' | sort -n
}

# ---------------------------------------------------------------------------
# Setting up and taking down

ensure_user() {
	id "$FAULT_USER" >/dev/null 2>&1 && return 0
	useradd --system --no-create-home --home-dir /nonexistent \
	    --shell /usr/sbin/nologin --user-group "$FAULT_USER" ||
		die "cannot create the user $FAULT_USER"
}

mount_artifacts() {
	local opts="size=${ARTIFACTS_MB}m,mode=0755"

	opts+=",uid=$(id -u "$FAULT_USER"),gid=$(id -g "$FAULT_USER")"
	# One left by a run that was killed outright goes first.
	while mountpoint -q "$D/artifacts"; do
		umount "$D/artifacts" || return 1
	done
	rm -rf "${D:?}/artifacts"
	mkdir -p "$D/artifacts"
	mount -t tmpfs -o "$opts" gt-fault-artifacts "$D/artifacts" || return 1
	MOUNTED=1
}

unmount_artifacts() {
	((MOUNTED)) || return 0
	umount "$D/artifacts" 2>/dev/null || umount -l "$D/artifacts" ||
		say "could not unmount $D/artifacts"
	MOUNTED=0
}

load_stop() {
	[[ -n "$LOAD_PID" ]] || return 0
	kill -TERM "$LOAD_PID" 2>/dev/null
	wait "$LOAD_PID" 2>/dev/null
	LOAD_PID=''
}

cleanup() {
	load_stop
	bash "$STACK" redis-thaw "$D" >/dev/null 2>&1
	bash "$STACK" pg-thaw "$D" >/dev/null 2>&1
	dispatcher_stop
	bash "$STACK" stop "$D" >>"$F/stack.log" 2>&1
	unmount_artifacts
}

setup() {
	((EUID == 0)) ||
		die "the fault suite needs root: it mounts a tmpfs and runs the dispatcher as $FAULT_USER"
	for bin in setpriv ps psql python3 mount mountpoint useradd; do
		command -v "$bin" >/dev/null || die "$bin is not installed"
	done
	ensure_user
	mkdir -p "$F"
	rm -rf "${OUT:?}" "${F:?}/home" "${F:?}/bin" "${F:?}/run" "${F:?}/gcov"
	mkdir -p "$OUT" "$F/home" "$F/bin" "$F/run" "$F/gcov"
	: >"$F/stack.log"
	cp "$SRC/t/fault/runner.py" "$F/bin/runner.py"
	chmod 0755 "$F" "$F/bin" "$F/bin/runner.py"
	chown "$FAULT_USER:" "$F/home" "$F/gcov"
	setpriv --reuid="$FAULT_USER" --regid="$FAULT_USER" --clear-groups \
	    test -x "$GT_BUILDDIR/src/gittinkerer-dispatcher" -a -r "$F/bin/runner.py" ||
		die "$FAULT_USER cannot reach $GT_BUILDDIR/src/gittinkerer-dispatcher or $F: make the folders above them searchable (chmod o+x)"

	trap cleanup EXIT
	trap 'exit 130' INT TERM
	say "starting the stack in $D (port base $PORT_BASE)"
	if ! bash "$STACK" start "$D" --srcdir "$SRC" --bindir "$GT_BUILDDIR" \
	    --port-base "$PORT_BASE" --workers "$WORKERS" >>"$F/stack.log" 2>&1; then
		tail -n 30 "$F/stack.log" >&2
		die "the stack could not be started"
	fi
	set -a
	# shellcheck source=/dev/null
	. "$D/env"
	set +a
	mount_artifacts || die "cannot mount a tmpfs on $D/artifacts"
	dispatcher_config
	dispatcher_start || die "the dispatcher did not start as $FAULT_USER"
	# A name no earlier run of the suite used: the database is kept.
	OWNER=fault-$(od -An -tx1 -N4 /dev/urandom | tr -d ' \n')
	say "the stack runs; repositories $OWNER/*"
}

# ---------------------------------------------------------------------------
# One scenario

# Starts the load for scenario $1 (which the steps below then work on);
# the rest goes to load.py.
load_start() {
	local i

	SCEN=$1
	shift
	rm -f "$OUT/$SCEN.ready" "$OUT/$SCEN.health"
	python3 "$LOAD" drive --url "$GT_URL" --owner "$OWNER" \
	    --scenario "$SCEN" --out "$OUT/$SCEN.load.json" \
	    --ready-file "$OUT/$SCEN.ready" "$@" 2>"$OUT/$SCEN.load.err" &
	LOAD_PID=$!
	for ((i = 0; i < 100; i++)); do
		[[ -e "$OUT/$SCEN.ready" ]] && break
		sleep 0.1
	done
	sleep "$WARMUP"
}

# Measures the recovery; the arguments go to load.py probe.
probe() {
	python3 "$LOAD" probe --url "$GT_URL" --owner "$OWNER" \
	    --scenario "$SCEN" --out "$OUT/$SCEN.probe.json" \
	    --timeout "$PROBE_TIMEOUT" "$@" 2>>"$OUT/$SCEN.load.err"
}

# Whether the server named is really out of reach: it must not answer
# within 2 s.
fault_took() {
	local answered=no

	case "$1" in
	postgres)
		timeout 2 psql -X -q -d "$GT_DATABASE_URL" -c 'SELECT 1' \
		    >/dev/null 2>&1 && answered=yes ;;
	redis)
		[[ "$(timeout 2 redis-cli -h "${GT_REDIS%:*}" \
		    -p "${GT_REDIS##*:}" ping 2>/dev/null)" == PONG ]] &&
			answered=yes ;;
	esac
	[[ "$answered" == no ]] ||
		FAILS+=("the fault did not take: $1 still answers")
}

# GET /health in the middle of the fault, in the background so that the
# fault lasts as long as planned whatever the answer takes; how long it
# took goes to the table.  Given a status code and a word,
# health_verdict then checks that the answer had that code and that word
# as its "status" (or, from nginx, its error "code").
health_during() {
	HEALTH_WANT="${1:-} ${2:-}"
	curl -s -o "$OUT/$SCEN.health.json" -w '%{http_code} %{time_total}' \
	    --max-time "$HEALTH_WAIT" "$GT_URL/health" >"$OUT/$SCEN.health.out" &
	HEALTH_PID=$!
}

health_verdict() {
	local code ms want_code want

	[[ -n "$HEALTH_PID" ]] || return 0
	wait "$HEALTH_PID"
	HEALTH_PID=''
	read -r code ms <"$OUT/$SCEN.health.out"
	awk '{ printf "%d\n", $1 * 1000 }' <<<"$ms" >"$OUT/$SCEN.health"
	read -r want_code want <<<"$HEALTH_WANT"
	[[ -n "$want_code" ]] || return 0
	if [[ "$code" != "$want_code" ]] || ! grep -q -E \
	    "\"(status|code)\": *\"$want\"" "$OUT/$SCEN.health.json"; then
		FAILS+=("/health answered $code, not $want_code $want:" \
		    "$(head -c 200 "$OUT/$SCEN.health.json" 2>/dev/null)")
	fi
}

pool_workers() {
	local sup

	sup=$(bash "$STACK" pool-pid "$D" 2>/dev/null) || return 0
	ps -o pid=,stat= --ppid "$sup" 2>/dev/null | awk '$2 !~ /^Z/' | wc -l
}

# Every server and daemon runs, unfrozen, and the pool has all its
# workers (a dead one is replaced within seconds).
check_processes() {
	local status n i

	status=$(bash "$STACK" status "$D" 2>&1)
	if [[ $? -ne 0 || "$status" == *frozen* ]]; then
		FAILS+=("a server is down or frozen: $(tr '\n' ' ' <<<"$status")")
	fi
	dispatcher_pid >/dev/null || FAILS+=("the dispatcher is dead")
	for ((i = 0; i < 50; i++)); do
		n=$(pool_workers)
		((n == WORKERS)) && break
		sleep 0.1
	done
	((n == WORKERS)) || FAILS+=("the pool has $n workers, not $WORKERS")
}

# Stops the load, checks the processes and the books, and frees the
# artifacts of the finished runs.  The arguments go to books.py.
finish() {
	local args=() f rc

	sleep "$AFTER"
	load_stop
	health_verdict
	check_processes
	for f in "${FAILS[@]}"; do
		args+=(--fail "$f")
	done
	if [[ -s "$OUT/$SCEN.health" ]]; then
		args+=(--health-ms "$(cat "$OUT/$SCEN.health")")
	fi
	python3 "$BOOKS" check --scenario "$SCEN" --owner "$OWNER" \
	    --url "$GT_URL" --out "$OUT/$SCEN.json" \
	    --ledger "$OUT/$SCEN.load.json" --ledger "$OUT/$SCEN.probe.json" \
	    --starts "$F/home/starts.log" --drain "$DRAIN" \
	    --recovery-bound "$RECOVERY_BOUND" "${args[@]}" "$@"
	rc=$?
	RESULTS+=("$OUT/$SCEN.json")
	FAILS=()
	find "$D/artifacts" -mindepth 1 -maxdepth 1 -exec rm -rf {} +
	if ((rc == 0)); then
		say "$SCEN: ok"
	else
		say "$SCEN: FAILED"
	fi
}

# ---------------------------------------------------------------------------
# The scenarios

# Scenario name: a server out of reach for secs seconds, from the
# stack's break command to its mend command.  A second in, the server
# must not answer, and GET /health is sent.  The rest goes to load.py
# drive.
server_fault() {
	local name=$1 server=$2 brk=$3 mend=$4 secs=$5 t0

	shift 5
	load_start "$name" "$@"
	t0=$(date +%s%N)
	stack "$brk"
	sleep 1
	health_during
	fault_took "$server"
	hold "$t0" "$secs"
	stack "$mend"
	probe
}

# Sleeps until secs seconds after t0 (date +%s%N).
hold() {
	local left

	left=$(( $1 + $2 * 1000000000 - $(date +%s%N) ))
	((left <= 0)) || sleep "$(awk -v ns="$left" 'BEGIN { printf "%.3f", ns / 1e9 }')"
}

sc_redis_kill() {
	server_fault redis-kill redis redis-stop redis-start 4
	finish --max-errors 0
}

sc_redis_freeze() {
	server_fault redis-freeze redis redis-freeze redis-thaw 4
	finish --max-errors 0
}

sc_pg_restart() {
	server_fault pg-restart postgres pg-stop pg-start 3
	finish
}

sc_pg_freeze() {
	server_fault pg-freeze postgres pg-freeze pg-thaw 4
	finish
}

# Longer than the lease: the dispatcher cannot tell its runs are alive,
# and the first look after the thaw may fail them as interrupted.  Their
# runners are stopped, nothing is lost or doubled.
sc_pg_freeze_long() {
	server_fault pg-freeze-long postgres pg-freeze pg-thaw \
	    $((LEASE + 3)) --work-ms 2000
	finish --allow-stage interrupted
}

sc_worker_kill() {
	local i sup victim

	load_start worker-kill
	for ((i = 0; i < KILLS; i++)); do
		sup=$(bash "$STACK" pool-pid "$D" 2>/dev/null) ||
			{ FAILS+=("the pool is gone"); break; }
		victim=$(ps -o pid=,stat= --ppid "$sup" |
		    awk '$2 !~ /^Z/ { print $1 }' | shuf -n 1)
		[[ -n "$victim" ]] && kill -KILL "$victim"
		((i == 4)) && health_during
		sleep 0.5
	done
	probe
	# Only the request a worker held as it died may fail.
	finish --max-errors "$KILLS"
}

# Workers killed in the middle of a request: PostgreSQL is frozen for a
# moment, so that every worker holds one, and a worker is killed before
# it is thawed.  A create whose commit went through before the kill must
# be found by its key when sent again, one that did not must be made
# then: either way, one run.
sc_worker_kill_busy() {
	local i sup victim

	load_start worker-kill-busy
	for ((i = 0; i < KILLS; i++)); do
		sup=$(bash "$STACK" pool-pid "$D" 2>/dev/null) ||
			{ FAILS+=("the pool is gone"); break; }
		stack pg-freeze
		sleep 0.3
		victim=$(ps -o pid=,stat= --ppid "$sup" |
		    awk '$2 !~ /^Z/ { print $1 }' | shuf -n 1)
		[[ -n "$victim" ]] && kill -KILL "$victim"
		stack pg-thaw
		((i == 4)) && health_during
		sleep 0.7
	done
	probe
	finish --max-errors "$KILLS"
}

sc_pool_restart() {
	load_start pool-restart
	stack pool-stop
	health_during 503 unavailable
	health_verdict
	stack pool-start || FAILS+=("the pool did not start again")
	probe
	finish
}

sc_nginx_reload() {
	local i

	load_start nginx-reload
	for ((i = 0; i < 8; i++)); do
		stack nginx-reload || FAILS+=("nginx-reload failed")
		((i == 4)) && health_during
		sleep 0.5
	done
	probe
	finish --max-errors 0
}

# The runs are longer here, so that the dispatcher dies with runs in
# hand; those fail at stage interrupted once the lease has passed.
sc_dispatcher_kill() {
	local i pid running=0 q left

	load_start dispatcher-kill --work-ms 1500
	q="SELECT count(*) FROM runs WHERE status = 'running' AND"
	q+=" repo_key LIKE lower('$OWNER/dispatcher-kill%')"
	for ((i = 0; i < 50; i++)); do
		running=$(psql_value "$q")
		((running > 0)) && break
		sleep 0.1
	done
	((running > 0)) || FAILS+=("no run was running when the dispatcher was killed")
	pid=$(dispatcher_pid) && kill -KILL "$pid"
	# The kernel kills its runners with it (PR_SET_PDEATHSIG); the runs
	# are the lease's to fail.
	sleep 1
	left=$(user_pids | tr '\n' ' ')
	if [[ -n "$left" ]]; then
		ps -o pid=,stat=,args= -p "$(tr -s ' ' , <<<"${left% }")" \
		    >"$OUT/orphans.ps"
		FAILS+=("runners outlived their killed dispatcher: $(tr -s ' \n' ' ' <"$OUT/orphans.ps")")
	fi
	health_during
	sleep 1
	dispatcher_start || FAILS+=("the dispatcher did not start again")
	probe --run
	finish --expect-stage interrupted
}

# Each run needs its folder, payload and log on the full filesystem: a
# run started meanwhile fails (stage spawn when its payload cannot be
# written, stage runner when the runner cannot write its result).
sc_artifacts_full() {
	load_start artifacts-full
	dd if=/dev/zero of="$D/artifacts/filler" bs=1M \
	    count="$ARTIFACTS_MB" >/dev/null 2>&1
	sleep 1
	health_during
	sleep 3
	rm -f "$D/artifacts/filler"
	probe --run
	finish --expect-stage spawn --allow-stage runner
}

# Prints the status and stage of a run, "status stage".
run_state() {
	psql_value "SELECT status || ' ' || coalesce(error_stage, '-') FROM runs WHERE id = '$1'"
}

create_hostile() {
	curl -s -X POST -H "Authorization: Bearer $GT_OPERATOR_TOKEN" \
	    -H 'Content-Type: application/json' \
	    -d "{\"repo\": \"$OWNER/hostile\", \"instruction\": \"$2\",
	        \"target\": {\"type\": \"issue\", \"number\": $1}}" \
	    "$GT_URL/api/runs" | sed -n 's/^{"id":"\([0-9a-f-]*\)".*/\1/p'
}

# A fork bomb and a memory eater, beside the steady runs: each fails
# (the bomb at its timeout, the eater when RLIMIT_AS refuses it), the
# user's processes stay under RLIMIT_NPROC, and none is left after.
sc_runner_limits() {
	local bomb eater i n most=0 left state

	load_start runner-limits
	bomb=$(create_hostile 1 forkbomb)
	eater=$(create_hostile 2 eat-memory)
	[[ -n "$bomb" && -n "$eater" ]] ||
		FAILS+=("the hostile runs were not created")
	for ((i = 0; i < (RUN_TIMEOUT + RUN_GRACE + 10) * 5; i++)); do
		n=$(user_pids | wc -l)
		((n > most)) && most=$n
		((i == 10)) && health_during
		state=$(run_state "$bomb")
		[[ "$state" == failed* || "$state" == succeeded* ]] && break
		sleep 0.2
	done
	say "runner-limits: at most $most processes of $FAULT_USER at once (RLIMIT_NPROC $MAX_PROCS)"
	((most > 2)) || FAILS+=("the fork bomb never forked ($most processes)")
	# The bomb forks while its user has fewer than RLIMIT_NPROC
	# processes; the dispatcher (which has no such limit) may start a
	# runner for each of its slots past that.
	((most <= MAX_PROCS + SLOTS)) ||
		FAILS+=("$most processes of $FAULT_USER, over RLIMIT_NPROC $MAX_PROCS and $SLOTS runners")
	state=$(run_state "$bomb")
	[[ "$state" == "failed timeout" ]] ||
		FAILS+=("the fork bomb's run is '$state', not 'failed timeout'")
	state=$(run_state "$eater")
	[[ "$state" == "failed runner" ]] ||
		FAILS+=("the memory eater's run is '$state', not 'failed runner'")
	grep -q MemoryError "$D/artifacts/$eater/log.txt" 2>/dev/null ||
		FAILS+=("the memory eater was not stopped by RLIMIT_AS")
	probe --run
	load_stop
	# Once every run has ended, the dispatcher is its user's only process.
	for ((i = 0; i < 100; i++)); do
		left=$(user_pids | grep -v -x "$(dispatcher_pid)" | tr '\n' ' ')
		[[ -z "$left" ]] && break
		sleep 0.1
	done
	[[ -z "$left" ]] || FAILS+=("processes left by runners: $left")
	finish
}

# The books must see what they are there to see: a run created through
# the API, a copy of it inserted behind the service's back (doubled), and
# an accepted answer naming a run that does not exist (lost).
check_the_books() {
	local tag=$OWNER-selftest-c1 id out=$OUT/selftest

	id=$(curl -s -X POST -H "Authorization: Bearer $GT_OPERATOR_TOKEN" \
	    -H 'Content-Type: application/json' -H "Idempotency-Key: $tag" \
	    -d "{\"repo\": \"$OWNER/selftest\", \"instruction\": \"work 10 $tag\",
	        \"target\": {\"type\": \"issue\", \"number\": 1}}" \
	    "$GT_URL/api/runs" | sed -n 's/^{"id":"\([0-9a-f-]*\)".*/\1/p')
	[[ -n "$id" ]] || die "the books' own check could not create a run"
	psql_value "INSERT INTO runs (repo, target_type, target_number,
	    instruction, source, requester) VALUES ('$OWNER/selftest', 'issue',
	    2, 'work 10 $tag', 'api', 'role:operator')" >/dev/null ||
		die "the books' own check could not insert a run"
	cat >"$out.load.json" <<EOF
{"scenario": "selftest", "requests": {"create": 2}, "causes": {},
 "accepted": [
  {"kind": "create", "key": "$tag", "tag": "$tag", "run_id": "$id",
   "comment_id": null, "why": null},
  {"kind": "create", "key": "$OWNER-selftest-c2",
   "tag": "$OWNER-selftest-c2", "run_id": "$(cat /proc/sys/kernel/random/uuid)",
   "comment_id": null, "why": null}],
 "unresolved": [], "refused": [], "ignored": []}
EOF
	if python3 "$BOOKS" check --scenario selftest --owner "$OWNER" \
	    --url "$GT_URL" --out "$out.json" --ledger "$out.load.json" \
	    --starts "$F/home/starts.log" --drain 20 >"$out.txt"; then
		die "the books found nothing wrong with a lost and a doubled run"
	fi
	python3 -c 'import json, sys
r = json.load(open(sys.argv[1]))
sys.exit(0 if (r["lost"], r["doubled"]) == (1, 1) else 1)' "$out.json" ||
		die "the books miscounted a lost and a doubled run: $(cat "$out.txt")"
	say "the books catch a lost and a doubled run"
}

# ---------------------------------------------------------------------------

main() {
	local name start rc=0

	for name in "$@"; do
		[[ " ${ALL[*]} " == *" $name "* ]] || die "unknown scenario: $name"
	done
	(($# > 0)) || set -- "${ALL[@]}"
	start=$SECONDS
	setup
	check_the_books
	for name in "$@"; do
		say "$name"
		"sc_${name//-/_}"
	done
	echo
	python3 "$BOOKS" table "${RESULTS[@]}" --out "$TABLE" || rc=1
	say "the table is in $TABLE; each scenario's files in $OUT"
	say "$# scenarios in $((SECONDS - start)) s"
	return "$rc"
}

main "$@"
