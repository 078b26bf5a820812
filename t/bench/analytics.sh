#!/usr/bin/env bash
#
# t/bench/analytics.sh: how GET /api/analytics's latency follows the size
# of the runs table and the number of runs inside its window.
#
#   t/bench/analytics.sh [--srcdir S] [--bindir B] [--dir D]
#       [--port-base P] [--requests N] [--explain] [--keep]
#
# Starts a stack of its own (t/stack.sh, in D, default a new temporary
# folder removed at the end; ports P to P+2, default 18680), then
# measures the route with days=30, N times in a row (default 200) on one
# kept-alive connection after a few unmeasured ones, in three states of
# the database:
#
#   A. 10 000 runs: 1 000 inside the window, 9 000 over the two years
#      before it;
#   B. 1 000 000 runs: the same 1 000 inside the window, 999 000 before;
#   C. 1 099 000 runs: 100 000 inside the window.
#
# Between B and C, state D: 30 000 runs written into the window one
# transaction each, as the service writes them, and not vacuumed;
# measured right away, after VACUUM_WAIT seconds with PostgreSQL's own
# autovacuum settings for runs, and once autovacuum has visited runs with
# those of sql/006_runs_vacuum.sql; then deleted.
#
# A to B grows the history a hundredfold and keeps the window's volume:
# the latency should stay put.  B to C grows the window a hundredfold:
# the latency grows with it, which is the design's limit
# (doc/analytics.md).  Each fill ends with VACUUM ANALYZE, as autovacuum
# would in time, so that the scans can be index-only.  --explain also
# prints the plan of the adapter's statement (read from
# lib/infra/analytics_pg.c) in states B and C; --keep leaves the stack
# running.
#
# It prints figures; it is not a test and make check does not run it.
# Needs psql and Python 3 besides what the stack needs.

set -euo pipefail

srcdir=$(cd "$(dirname "$0")/../.." && pwd)
bindir=''
dir=''
port_base=18680
requests=200
explain=no
keep=no
made_dir=no

readonly WARMUP=10
readonly DAYS=30
readonly BURST=30000		# the runs written at once in state D
readonly VACUUM_WAIT=150	# seconds; autovacuum looks every 60 by default

die() { printf 'analytics.sh: %s\n' "$*" >&2; exit 1; }

while (($# > 0)); do
	case "$1" in
	--srcdir) srcdir=${2:?}; shift 2 ;;
	--bindir) bindir=${2:?}; shift 2 ;;
	--dir) dir=${2:?}; shift 2 ;;
	--port-base) port_base=${2:?}; shift 2 ;;
	--requests) requests=${2:?}; shift 2 ;;
	--explain) explain=yes; shift ;;
	--keep) keep=yes; shift ;;
	*) die "unknown option $1 (see the comment at the top)" ;;
	esac
done
[[ "$requests" =~ ^[1-9][0-9]*$ ]] || die "--requests must be a count"
bindir=${bindir:-$srcdir}
if [[ -z "$dir" ]]; then
	dir=$(mktemp -d "${TMPDIR:-/tmp}/gt-analytics-bench.XXXXXX")
	chmod 0755 "$dir"	# PostgreSQL's user must reach it
	made_dir=yes
fi

stack=$srcdir/t/stack.sh
# Stops the stack, and removes its folder (some 2 GB) when this script
# made it.
stop_stack() {
	[[ "$keep" == no ]] || return 0
	bash "$stack" stop "$dir" >/dev/null
	[[ "$made_dir" == no ]] || rm -rf "$dir"
}
trap stop_stack EXIT

echo "starting a stack in $dir (port base $port_base)"
bash "$stack" start "$dir" --srcdir "$srcdir" --bindir "$bindir" \
    --port-base "$port_base" >"$dir/bench-start.log" 2>&1 ||
	die "the stack did not start; see $dir/bench-start.log"
set -a
# shellcheck source=/dev/null
. "$dir/env"
set +a

sql() {
	psql -X -q -v ON_ERROR_STOP=1 "$GT_DATABASE_URL" "$@"
}

# The window's first instant, as the use case computes it: 00:00 UTC of
# the first of the last DAYS days.
readonly RFC3339='YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'
window_from=$(sql -At -c "SELECT to_char(date_trunc('day',
    now() AT TIME ZONE 'UTC') - interval '$((DAYS - 1)) days', '$RFC3339')")

# fill N FROM TO: N finished runs created evenly over [FROM, TO), of 300
# repositories (named in two cases), three in four succeeded, one in
# five from the API, with waits under a minute and durations of one to
# sixteen minutes.  One statement; then VACUUM ANALYZE.
fill() {
	sql -v n="$1" -v lo="$2" -v hi="$3" <<'EOF'
INSERT INTO runs (repo, target_type, target_number, instruction, status,
    source, requester, created_at, started_at, finished_at, exit_code,
    error_stage, error_message)
SELECT
    CASE WHEN i % 2 = 0 THEN 'Bench-Org/Repo-' ELSE 'bench-org/repo-' END
        || (i * 7919 % 300),
    'issue', 1 + i % 1000, 'benchmark run', st,
    CASE WHEN i % 5 = 0 THEN 'api' ELSE 'webhook' END, 'bench', c,
    CASE WHEN st <> 'cancelled' OR i % 40 = 18 THEN
        c + (i % 60) * interval '1 second' END,
    c + (i % 60) * interval '1 second' +
        (60 + i * 37 % 900) * interval '1 second',
    CASE st WHEN 'succeeded' THEN 0 WHEN 'failed' THEN 1 END,
    CASE st WHEN 'failed' THEN 'runner' WHEN 'cancelled' THEN 'cancelled'
        END,
    CASE st WHEN 'failed' THEN 'exit status 1'
        WHEN 'cancelled' THEN 'cancelled by request' END
FROM generate_series(0::bigint, :n - 1) AS g (i),
    LATERAL (SELECT :'lo'::timestamptz +
        (:'hi'::timestamptz - :'lo'::timestamptz) * i / :n AS c,
        CASE WHEN i % 20 < 15 THEN 'succeeded'
            WHEN i % 20 < 18 THEN 'failed' ELSE 'cancelled' END AS st) AS x;
VACUUM ANALYZE runs;
EOF
}

# burst N: N runs written now, each in a transaction of its own as the
# service writes them, and not vacuumed: of the same 300 repositories,
# three in four succeeded and the others failed, with a wait of a few
# seconds and durations of one to sixteen minutes (recorded as if they
# had run).
burst() {
	sql <<EOF
DO \$\$
BEGIN
    FOR i IN 0 .. $1 - 1 LOOP
        INSERT INTO runs (repo, target_type, target_number, instruction,
            status, source, requester, started_at, finished_at,
            exit_code, error_stage, error_message)
        SELECT 'bench-org/repo-' || (i * 7919 % 300), 'issue',
            1 + i % 1000, 'benchmark run', st,
            CASE WHEN i % 5 = 0 THEN 'api' ELSE 'webhook' END, 'bench',
            now() + (i % 10) * interval '1 second',
            now() + (i % 10 + 60 + i * 37 % 900) * interval '1 second',
            CASE st WHEN 'succeeded' THEN 0 ELSE 1 END,
            CASE st WHEN 'failed' THEN 'runner' END,
            CASE st WHEN 'failed' THEN 'exit status 1' END
        FROM (SELECT CASE WHEN i % 4 < 3 THEN 'succeeded'
            ELSE 'failed' END AS st) AS x;
        COMMIT;
    END LOOP;
END
\$\$;
EOF
}

in_window() {
	fill "$1" "$window_from" "$(sql -At -c "SELECT now() - interval '20 minutes'")"
}

in_history() {
	fill "$1" "$(sql -At -c "SELECT now() - interval '730 days'")" \
	    "$(sql -At -c "SELECT '$window_from'::timestamptz - interval '1 day'")"
}

counts() {
	sql -At -F ' ' -c "SELECT count(*), count(*) FILTER (WHERE
	    created_at >= '$window_from') FROM runs"
}

# Prints "p50 p99" in milliseconds of the route over the requests.
measure() {
	python3 - "$GT_URL" "$GT_OPERATOR_TOKEN" "$requests" "$WARMUP" \
	    "$DAYS" <<'EOF'
import http.client, sys, time, urllib.parse

url, token, n, warmup, days = sys.argv[1], sys.argv[2], *map(int, sys.argv[3:])
u = urllib.parse.urlsplit(url)
conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
headers = {"Authorization": "Bearer " + token}
times = []
for i in range(warmup + n):
    start = time.perf_counter()
    conn.request("GET", "/api/analytics?days=%d" % days, headers=headers)
    resp = conn.getresponse()
    body = resp.read()
    took = (time.perf_counter() - start) * 1000
    if resp.status != 200:
        sys.exit("analytics.sh: GET /api/analytics: %d %s" % (resp.status,
                 body[:200]))
    if i >= warmup:
        times.append(took)
times.sort()
rank = lambda p: times[max(0, -(-len(times) * p // 100) - 1)]  # nearest rank
print("%.2f %.2f" % (rank(50), rank(99)))
EOF
}

# Prints the plan of the adapter's statement over the route's window.
explain_plan() {
	local text

	text=$(python3 - "$srcdir/lib/infra/analytics_pg.c" <<'EOF'
import re, sys
src = open(sys.argv[1]).read()
body = re.search(r'figures_sql\[\] =(.*?);\n', src, re.S).group(1)
print("".join(re.findall(r'"((?:[^"\\]|\\.)*)"', body)))
EOF
)
	sql <<EOF
PREPARE figures (text, text, bigint) AS $text;
EXPLAIN (ANALYZE, BUFFERS)
    EXECUTE figures ('$window_from',
        to_char(now() AT TIME ZONE 'UTC', '$RFC3339'), 10);
EOF
}

# Prints "xR", R being $2 / $1.
ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN { printf "x%.2f", b / a }'
}

# compare LABEL RUNS1 RUNS2 WINDOW1 WINDOW2 P50_1 P50_2 P99_1 P99_2:
# prints one line setting two states side by side.
compare() {
	printf '%s: runs %d -> %d, in the window %d -> %d: ' "$1" "$2" "$3" \
	    "$4" "$5"
	printf 'p50 %.2f -> %.2f ms (%s), p99 %.2f -> %.2f ms (%s)\n' \
	    "$6" "$7" "$(ratio "$6" "$7")" "$8" "$9" "$(ratio "$8" "$9")"
}

state() {
	local label=$1 figures total inwin p50 p99

	figures=$(counts)
	read -r total inwin <<<"$figures"
	figures=$(measure)
	read -r p50 p99 <<<"$figures"
	printf '  %s: %8d runs, %6d in the window: p50 %7.2f ms, p99 %7.2f ms\n' \
	    "$label" "$total" "$inwin" "$p50" "$p99" >&2
	echo "$total $inwin $p50 $p99"
}

echo "filling state A: 1000 runs in the window, 9000 before it"
in_window 1000
in_history 9000
figures=$(state A)
read -r a_total a_win a_p50 a_p99 <<<"$figures"

echo "filling state B: 990000 more runs before the window"
in_history 990000
figures=$(state B)
read -r b_total b_win b_p50 b_p99 <<<"$figures"
[[ "$explain" == no ]] || explain_plan

# Prints how many times autovacuum has visited runs.
autovacuums() {
	sql -At -c "SELECT autovacuum_count FROM pg_stat_user_tables
	    WHERE relid = 'runs'::regclass"
}

# await_autovacuum COUNT: waits up to VACUUM_WAIT seconds for autovacuum to
# have visited runs more than COUNT times; prints the seconds it took, or
# "none".
await_autovacuum() {
	local start=$SECONDS

	while ((SECONDS - start < VACUUM_WAIT)); do
		if (($(autovacuums) > $1)); then
			echo $((SECONDS - start))
			return
		fi
		sleep 1
	done
	echo none
}

# State D: a burst of runs written into the window, not vacuumed, read
# right away; again after VACUUM_WAIT seconds under PostgreSQL's own
# autovacuum settings; and again once autovacuum has come under those of
# sql/006_runs_vacuum.sql.  The burst is then deleted, back to state B.
echo "state D: $BURST runs written into the window, a transaction each"
sql -c "ALTER TABLE runs RESET (autovacuum_vacuum_insert_scale_factor,
    autovacuum_vacuum_scale_factor)"
burst_from=$(sql -At -c "SELECT now()")
av=$(autovacuums)
burst "$BURST"
figures=$(state 'D, just written')
read -r _ d_win d0_p50 d0_p99 <<<"$figures"
echo "  PostgreSQL's autovacuum settings: waiting up to $VACUUM_WAIT s"
d1_wait=$(await_autovacuum "$av")
figures=$(state "D, defaults, autovacuum: $d1_wait")
read -r _ _ d1_p50 _ <<<"$figures"
echo "  sql/006_runs_vacuum.sql's settings: waiting up to $VACUUM_WAIT s"
av=$(autovacuums)
sql -f "$srcdir/sql/006_runs_vacuum.sql"
d2_wait=$(await_autovacuum "$av")
figures=$(state "D, sql/006, autovacuum: $d2_wait")
read -r _ _ d2_p50 _ <<<"$figures"
sql -c "DELETE FROM runs WHERE created_at >= '$burst_from'"
sql -c 'VACUUM ANALYZE runs'

echo "filling state C: 99000 more runs inside the window"
in_window 99000
figures=$(state C)
read -r c_total c_win c_p50 c_p99 <<<"$figures"
[[ "$explain" == no ]] || explain_plan

echo
echo "GET /api/analytics?days=$DAYS, $requests requests per state, one at a time:"
compare "history x$((b_total / a_total))" "$a_total" "$b_total" "$a_win" \
    "$b_win" "$a_p50" "$b_p50" "$a_p99" "$b_p99"
compare "window  x$((c_win / b_win))" "$b_total" "$c_total" "$b_win" \
    "$c_win" "$b_p50" "$c_p50" "$b_p99" "$c_p99"
printf 'burst of %d runs (%d in the window), just written: p50 %.2f ms, p99 %.2f ms\n' \
    "$BURST" "$d_win" "$d0_p50" "$d0_p99"
printf '  with PostgreSQL'"'"'s autovacuum settings, %s s later (autovacuum: %s): p50 %.2f ms (%s)\n' \
    "$VACUUM_WAIT" "$d1_wait" "$d1_p50" "$(ratio "$d0_p50" "$d1_p50")"
printf '  with sql/006_runs_vacuum.sql'"'"'s, once autovacuum came (after %s s): p50 %.2f ms (%s)\n' \
    "$d2_wait" "$d2_p50" "$(ratio "$d0_p50" "$d2_p50")"
