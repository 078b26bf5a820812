#!/usr/bin/env bash
#
# t/bench/routes.sh: throughput and latency of the main routes under a
# fixed load, each set beside a limit measured in the same run.
#
#   t/bench/routes.sh [--srcdir S] [--bindir B] [--dir D] [--port-base P]
#       [--duration SECONDS] [--connections N] [--threads N] [--runs N]
#       [--keep]
#
# Unless --bindir names a build, it first builds an optimized copy of the
# source tree (-O2, no coverage: what a package builds) in D/build.  It
# starts a stack of its own on that build (t/stack.sh, in D, default a new
# temporary folder removed at the end; ports P to P+5, default 19580),
# with nginx keeping its FastCGI connections as the production site does
# and the pool reaching PostgreSQL through its Unix socket (as deploy.md
# sets it up), fills the runs table like t/bench/analytics.sh (10 000
# runs, then up to --runs, default 1 000 000), then drives each route
# with wrk (default 10 s, 16 connections, 2 threads) through the stack's
# nginx.  The pool runs with max_requests = 0, so that the memory read
# after the load is that of workers that served all of it.
#
# The limits, at the same concurrency:
#
#   nginx    a throwaway nginx on P+5 answering the route's bytes itself
#   redis    redis-benchmark HGET of the run's cache entry
#   pgbench  the route's statement (read from lib/infra/), by itself; for
#            the two creations the adapter's insert with each route's
#            parameters, and a plain INSERT into runs, which is less
#            than either route does
#
# It prints one table (requests a second, p50, p99, the share of its
# limit the route reaches, and for the read routes the p99 at half the
# rate the route reached, paced), the resident memory of the pool at rest
# and after a million requests, and the list and analytics routes at
# 10 000 and at 1 000 000 runs, one request at a time.
#
# It prints figures; it is not a test and make check does not run it.
# Needs wrk (installed with apt-get when missing), pgbench,
# redis-benchmark, psql and Python 3 besides what the stack needs.

set -euo pipefail

srcdir=$(cd "$(dirname "$0")/../.." && pwd)
bindir=''
dir=''
port_base=19580
duration=10
connections=16
threads=2
runs=1000000
keep=no
made_dir=no

readonly WEBHOOK_BODIES=20000	# more than the webhook answers in a run
readonly COLD_IDS=200000	# idem for GET /api/runs/:id
readonly SERIAL_SECONDS=3	# each route, one connection, in the size table
readonly DEEP_PAGE=40000	# with limit=25: the last page at 1 000 000 runs
readonly MIDDLE_PAGE=20000	# the page farthest from either end
readonly SOAK_REQUESTS=1000000	# served before the memory is read

die() { printf 'routes.sh: %s\n' "$*" >&2; exit 1; }
note() { printf '%s %s\n' "$(date -u +%T)" "$*" >&2; }

while (($# > 0)); do
	case "$1" in
	--srcdir) srcdir=${2:?}; shift 2 ;;
	--bindir) bindir=${2:?}; shift 2 ;;
	--dir) dir=${2:?}; shift 2 ;;
	--port-base) port_base=${2:?}; shift 2 ;;
	--duration) duration=${2:?}; shift 2 ;;
	--connections) connections=${2:?}; shift 2 ;;
	--threads) threads=${2:?}; shift 2 ;;
	--runs) runs=${2:?}; shift 2 ;;
	--keep) keep=yes; shift ;;
	*) die "unknown option $1 (see the comment at the top)" ;;
	esac
done
[[ "$runs" =~ ^[1-9][0-9]*$ ]] && ((runs > 10000)) || die "--runs must be a count over 10000"
for n in "$duration" "$connections" "$threads"; do
	[[ "$n" =~ ^[1-9][0-9]*$ ]] || die "--duration, --connections and --threads are counts"
done
bench=$srcdir/t/bench

if ! command -v wrk >/dev/null; then
	note "installing wrk"
	apt-get install -y wrk >/dev/null || die "wrk is missing and apt-get could not install it"
fi
for bin in wrk pgbench redis-benchmark redis-cli psql python3 nginx; do
	command -v "$bin" >/dev/null || die "$bin is not installed"
done

if [[ -z "$dir" ]]; then
	dir=$(mktemp -d "${TMPDIR:-/tmp}/gt-routes-bench.XXXXXX")
	chmod 0755 "$dir"	# PostgreSQL's user must reach it
	made_dir=yes
fi
mkdir -p "$dir"
work=$dir/bench

# The optimized copy: the files git knows of (committed or not, but not
# ignored), so that a tree configured for coverage is not disturbed.
if [[ -z "$bindir" ]]; then
	note "building an optimized copy in $dir/build"
	git -C "$srcdir" rev-parse --git-dir >/dev/null 2>&1 ||
		die "$srcdir is not a git checkout: build it and give --bindir"
	rm -rf "$dir/build"
	mkdir -p "$dir/build"
	(cd "$srcdir" && git ls-files -co --exclude-standard -z |
	    tar --null -T - -cf -) | tar -xf - -C "$dir/build"
	(cd "$dir/build" && autoreconf -fi && ./configure CFLAGS='-O2 -g' &&
	    make -j2) >"$dir/build.log" 2>&1 ||
		die "the optimized build failed; see $dir/build.log"
	srcdir=$dir/build
	bindir=$dir/build
fi
static_port=$((port_base + 5))
started=$SECONDS

stack=$srcdir/t/stack.sh
# Stops the throwaway nginx and the stack, and removes the folder when this
# script made it.
cleanup() {
	if [[ -s "$work/static/nginx.pid" ]]; then
		kill -QUIT "$(cat "$work/static/nginx.pid")" 2>/dev/null || true
	fi
	[[ "$keep" == no ]] || return 0
	bash "$stack" stop "$dir" >/dev/null 2>&1 || true
	[[ "$made_dir" == no ]] || rm -rf "$dir"
}
trap cleanup EXIT

note "starting a stack in $dir (port base $port_base)"
bash "$stack" start "$dir" --srcdir "$srcdir" --bindir "$bindir" \
    --port-base "$port_base" >"$dir/bench-start.log" 2>&1 ||
	die "the stack did not start; see $dir/bench-start.log"
set -a
# shellcheck source=/dev/null
. "$dir/env"
set +a
mkdir -p "$work/static" "$work/pgbench"

# The environment overrides the configuration file: no recycling of
# workers, limits no benchmark reaches, and PostgreSQL through its Unix
# socket, as production reaches it (doc/deploy.md); pgbench uses the same.
db_socket_url="host=$dir/pg/run ${GT_DATABASE_URL#*host=127.0.0.1 }"
[[ "$db_socket_url" != "$GT_DATABASE_URL" && -S "$dir/pg/run/.s.PGSQL.$((port_base + 1))" ]] ||
	die "no PostgreSQL socket in $dir/pg/run for $GT_DATABASE_URL"
bash "$stack" pool-stop "$dir" >/dev/null
GITTINKERER_MAX_REQUESTS=0 GITTINKERER_REPO_RATE_LIMIT=1000000 \
    GITTINKERER_REQUESTER_RATE_LIMIT=1000000 \
    GITTINKERER_DATABASE_URL=$db_socket_url \
    bash "$stack" pool-start "$dir" >/dev/null
redis_port=${GT_REDIS##*:}

sql() {
	psql -X -q -v ON_ERROR_STOP=1 "$GT_DATABASE_URL" "$@"
}

# ---------------------------------------------------------------------------
# Memory

# Prints "MEAN_KB MAX_KB TOTAL_KB COUNT": the mean and the largest
# resident size of a worker, and that of the supervisor and its workers
# together (VmRSS; pages shared after the fork are counted in each), and
# how many workers there are.
pool_rss() {
	local sup pid rss total=0 workers=0 count=0 max=0

	sup=$(bash "$stack" pool-pid "$dir")
	total=$(awk '/^VmRSS:/ { print $2 }' "/proc/$sup/status")
	for pid in $(ps -o pid= --ppid "$sup"); do
		rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status" 2>/dev/null) || continue
		workers=$((workers + rss))
		((rss <= max)) || max=$rss
		count=$((count + 1))
		total=$((total + rss))
	done
	((count > 0)) || die "the pool has no workers"
	echo "$((workers / count)) $max $total $count"
}

# ---------------------------------------------------------------------------
# Data

# fill N FROM TO: N finished runs created evenly over [FROM, TO), shaped as
# analytics.sh makes them; then VACUUM ANALYZE, and the kept counts moved
# as the dispatcher would within a minute (sql/004_run_counts.sql).
fill() {
	sql -v n="$1" -v lo="$2" -v hi="$3" <<'EOF'
INSERT INTO runs (repo, target_type, target_number, instruction, status,
    source, requester, created_at, started_at, finished_at, exit_code,
    error_stage, error_message)
SELECT 'bench-org/repo-' || (i * 7919 % 300), 'issue', 1 + i % 1000,
    'benchmark run', st, CASE WHEN i % 5 = 0 THEN 'api' ELSE 'webhook' END,
    'bench', c, c + (i % 60) * interval '1 second',
    c + (i % 60 + 60 + i * 37 % 900) * interval '1 second',
    CASE st WHEN 'succeeded' THEN 0 WHEN 'failed' THEN 1 END,
    CASE st WHEN 'failed' THEN 'runner' END,
    CASE st WHEN 'failed' THEN 'exit status 1' END
FROM generate_series(0::bigint, :n - 1) AS g (i),
    LATERAL (SELECT :'lo'::timestamptz +
        (:'hi'::timestamptz - :'lo'::timestamptz) * i / :n AS c,
        CASE WHEN i % 4 < 3 THEN 'succeeded' ELSE 'failed' END AS st) AS x;
VACUUM ANALYZE runs;
DO $$ BEGIN PERFORM run_counts_refresh(); END $$;
EOF
}

# in_window N and in_history N: N runs inside the last 30 days, or over
# the two years before them.
in_window() {
	fill "$1" "$(sql -At -c "SELECT now() - interval '29 days'")" \
	    "$(sql -At -c "SELECT now() - interval '20 minutes'")"
}

in_history() {
	fill "$1" "$(sql -At -c "SELECT now() - interval '760 days'")" \
	    "$(sql -At -c "SELECT now() - interval '31 days'")"
}

# ---------------------------------------------------------------------------
# Drivers: each prints "rps p50_ms p99_ms requests bad wrapped"

# wrk_run URL [CONNECTIONS THREADS SECONDS] with BENCH_* in the environment.
wrk_run() {
	local url=$1 c=${2:-$connections} t=${3:-$threads} d=${4:-$duration} out

	out=$(BENCH_THREADS=$t wrk -t "$t" -c "$c" -d "${d}s" --timeout 10s \
	    -s "$bench/routes.lua" "$url") || die "wrk failed on $url"
	grep '^RESULT ' <<<"$out" | cut -d' ' -f2- ||
		die "wrk printed no result for $url: $out"
}

# paced_run URL RATE: the route offered half RATE, its requests spread
# evenly over time (t/bench/routes.lua, delay()), for the latency a route
# shows when it is not saturated.  The connections are as many as when
# saturated, which is more than half the rate needs.
paced_run() {
	local half

	half=$(awk -v r="$2" 'BEGIN { printf "%d", r / 2 }')
	((half > 0)) || { echo "0 0 0 0 0 0"; return; }
	BENCH_RATE=$half wrk_run "$1" "$connections" "$threads"
}

# pgbench_run NAME SCRIPT_TEXT: the statement at the same concurrency; p50
# and p99 from pgbench's log of every transaction.  Like the service, it
# prepares its statement and runs without JIT or parallel workers
# (lib/infra/pg.c), so that both pay for the same plan.
readonly PG_SESSION='-c jit=off -c max_parallel_workers_per_gather=0'
pgbench_run() {
	local name=$1 out tps count

	rm -rf "$work/pgbench/$name"
	mkdir -p "$work/pgbench/$name"
	printf '%s\n' "$2" >"$work/pgbench/$name/script.sql"
	out=$(cd "$work/pgbench/$name" && PGOPTIONS=$PG_SESSION pgbench -n \
	    -M prepared -c "$connections" -j "$threads" -T "$duration" -l \
	    -f script.sql "$db_socket_url" 2>&1) ||
		die "pgbench $name failed: $out"
	tps=$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' <<<"$out" | head -n 1)
	count=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' <<<"$out")
	cat "$work/pgbench/$name"/pgbench_log.* | awk '{ print $3 / 1000 }' |
	    sort -n | awk -v tps="$tps" -v n="$count" '
		{ v[NR] = $1 }
		END {
			p50 = v[int((NR * 50 + 99) / 100)]
			p99 = v[int((NR * 99 + 99) / 100)]
			printf "%s %.3f %.3f %d 0 0\n", tps, p50, p99, n
		}'
}

# redis_run KEY FIELD: HGET at the same concurrency.
redis_run() {
	local out

	out=$(redis-benchmark -h 127.0.0.1 -p "$redis_port" -c "$connections" \
	    --threads "$threads" -n 600000 --csv HGET "$1" "$2") ||
		die "redis-benchmark failed"
	# "HGET ...","rps","avg","min","p50","p95","p99","max"
	tail -n 1 <<<"$out" | tr -d '"' |
	    awk -F, '{ printf "%s %s %s 600000 0 0\n", $2, $5, $7 }'
}

# The throwaway nginx: answers each path with the bytes the route answers
# (fetched once through the stack), with an access log like the stack's.
static_start() {
	local conf=$work/static/nginx.conf path body

	{
		cat <<EOF
worker_processes 2;
pid $work/static/nginx.pid;
events { worker_connections 512; }
http {
	access_log $work/static/access.log;
	client_body_temp_path $work/static/tmp;
	server {
		listen 127.0.0.1:$static_port;
		default_type "application/json; charset=utf-8";
		add_header X-Request-Id \$request_id;
		add_header Cache-Control no-store;
EOF
		while read -r path; do
			body=$(curl -sf -H "Authorization: Bearer $GT_OPERATOR_TOKEN" \
			    "$GT_URL$path") || die "GET $path failed"
			[[ "$body" != *"\$"* ]] || die "the body of $path holds a \$"
			body=${body//\\/\\\\}
			body=${body//\'/\\\'}
			printf "\t\tlocation = %s { return 200 '%s'; }\n" \
			    "${path%%\?*}" "$body"
		done <<<"$static_paths"
		printf '\t}\n}\n'
	} >"$conf"
	mkdir -p "$work/static/tmp"
	nginx -p "$work/static/" -c "$conf" -e "$work/static/error.log" ||
		die "the throwaway nginx did not start"
	sleep 0.5
}

# compose RESULT...: the rate of doing each driver's request one after the
# other, when each alone ran at its measured rate on the same cores (their
# costs per request add up), as a driver's line with no latency.
compose() {
	local r t=0

	for r in "$@"; do
		t=$(awk -v t="$t" -v r="$(rate_of "$r")" 'BEGIN { print t + 1 / r }')
	done
	awk -v t="$t" 'BEGIN { printf "%.1f - - 0 0 0\n", 1 / t }'
}

# ---------------------------------------------------------------------------
# The table

rows=()

# row ROUTE RESULT LIMIT_NAME LIMIT_RESULT [PACED_RESULT]
row() {
	rows+=("$1|$2|$3|$4|${5:-}")
}

print_table() {
	local r route res lname lres pres rps p50 p99 n bad wrap lrps paced

	printf '\n%-34s %9s %8s %8s %6s  %-28s %9s %8s %6s  %s\n' route 'req/s' \
	    'p50 ms' 'p99 ms' bad limit 'req/s' 'p99 ms' 'share' \
	    'paced at half: req/s, p99 ms'
	for r in "${rows[@]}"; do
		IFS='|' read -r route res lname lres pres <<<"$r"
		read -r rps p50 p99 n bad wrap <<<"$res"
		paced=''
		if [[ -n "$pres" ]]; then
			read -r prps _ pp99 _ pbad _ <<<"$pres"
			paced=$(printf '%7.0f %8.2f' "$prps" "$pp99")
			((pbad == 0)) || paced+=" ($pbad bad)"
		fi
		if [[ -n "$lres" ]]; then
			read -r lrps _ lp99 _ <<<"$lres"
			# A composed limit (compose()) has no latency.
			[[ "$lp99" == - ]] || lp99=$(printf '%.2f' "$lp99")
			printf '%-34s %9.0f %8.2f %8.2f %6d  %-28s %9.0f %8s %5.1f%%  %s\n' \
			    "$route" "$rps" "$p50" "$p99" "$bad" "$lname" "$lrps" \
			    "$lp99" "$(awk -v a="$rps" -v b="$lrps" \
			    'BEGIN { print 100 * a / b }')" "$paced"
		else
			printf '%-34s %9.0f %8.2f %8.2f %6d  %-28s %9s %8s %6s  %s\n' \
			    "$route" "$rps" "$p50" "$p99" "$bad" "$lname" '' '' '' \
			    "$paced"
		fi
		((wrap == 0)) || printf '    (%s: its ids or bodies wrapped %d times)\n' \
		    "$route" "$wrap"
	done
}

# ---------------------------------------------------------------------------
# The list and analytics routes as the table grows

size_paths() {
	local total=$1

	printf '%s\n' '/api/runs?page=1&limit=25' \
	    "/api/runs?page=$((total / 50))&limit=25" \
	    "/api/runs?page=$((total / 25))&limit=25" '/api/analytics?days=30'
}

# Prints one line per path: path and "p50 p99" one request at a time.
# First checks that the route's total is the table's: a page past a wrong
# total would be cheap for the wrong reason.
size_measure() {
	local total path res listed

	total=$(sql -At -c 'SELECT count(*) FROM runs')
	listed=$(curl -sf -H "Authorization: Bearer $GT_OPERATOR_TOKEN" \
	    "$GT_URL/api/runs?page=1&limit=1" |
	    python3 -c 'import json, sys; print(json.load(sys.stdin)["total"])') ||
		die "GET /api/runs failed"
	[[ "$listed" == "$total" ]] ||
		die "GET /api/runs says $listed runs, the table holds $total"
	while read -r path; do
		res=$(BENCH_TOKEN=$GT_OPERATOR_TOKEN wrk_run "$GT_URL$path" 1 1 \
		    "$SERIAL_SECONDS")
		read -r _ p50 p99 _ <<<"$res"
		printf '%s %s %s %s\n' "$total" "$path" "$p50" "$p99"
	done < <(size_paths "$total")
}

# ---------------------------------------------------------------------------
# Run

read -r rest_worker rest_max rest_total nworkers <<<"$(pool_rss)"

note "filling 10 000 runs, 1 000 of them in the last 30 days"
in_window 1000
in_history 9000
size_small=$(size_measure)

note "filling $((runs - 10000)) more runs before the last 30 days"
in_history $((runs - 10000))
size_large=$(size_measure)

run_id=$(sql -At -c "SELECT id FROM runs ORDER BY created_at DESC LIMIT 1")
sql -At -c "SELECT id FROM runs TABLESAMPLE SYSTEM (30)
    ORDER BY random() LIMIT $COLD_IDS" >"$work/ids"
sql <<EOF
CREATE TABLE bench_ids (n serial PRIMARY KEY, id uuid NOT NULL);
\copy bench_ids (id) FROM '$work/ids'
ANALYZE bench_ids;
EOF
nids=$(wc -l <"$work/ids")

note "signing $WEBHOOK_BODIES webhook deliveries"
python3 "$bench/routes_webhook.py" \
    "$srcdir/t/fixtures/github/webhook/issue_comment.created.issue.json" \
    "$GT_WEBHOOK_SECRET" "$WEBHOOK_BODIES" >"$work/webhook"

static_paths="/health
/api/runs/$run_id"
static_start
columns=$(sed -n '/#define PGROW_RUN_COLUMNS/,/^$/p' \
    "$srcdir/lib/infra/pg_rows.h" | grep -o '"[^"]*"' | tr -d '"' | tr -d '\n')

export BENCH_TOKEN=$GT_OPERATOR_TOKEN

# The first field of a driver's line: its rate.
rate_of() {
	cut -d' ' -f1 <<<"$1"
}

note "GET /health"
res=$(wrk_run "$GT_URL/health")
row 'GET /health' "$res" 'nginx, same bytes' \
    "$(wrk_run "http://127.0.0.1:$static_port/health")" \
    "$(paced_run "$GT_URL/health" "$(rate_of "$res")")"

note "GET /health through the production site (TLS, keep-alive)"
bash "$stack" nginx-tls-start "$dir" --api-rate 100000 --api-burst 100000 \
    >/dev/null
row 'GET /health, production site TLS' \
    "$(wrk_run "https://127.0.0.1:$((port_base + 3))/health")" '' ''
bash "$stack" nginx-tls-stop "$dir" >/dev/null

note "GET /api/runs/:id warm"
curl -sf -o /dev/null -H "Authorization: Bearer $GT_OPERATOR_TOKEN" \
    "$GT_URL/api/runs/$run_id"
warm=$(wrk_run "$GT_URL/api/runs/$run_id")
warm_static=$(wrk_run "http://127.0.0.1:$static_port/api/runs/$run_id")
row 'GET /api/runs/:id warm' "$warm" 'nginx, same bytes' "$warm_static" \
    "$(paced_run "$GT_URL/api/runs/$run_id" "$(rate_of "$warm")")"
hget=$(redis_run "gt:run:$run_id" json)
row '' "$warm" "redis HGET gt:run:<id>" "$hget"

note "GET /api/runs/:id cold ($nids ids, Redis flushed)"
redis-cli -p "$redis_port" FLUSHALL >/dev/null
cold=$(BENCH_IDS=$work/ids wrk_run "$GT_URL/api/runs/x")
# Each miss writes one entry: the entries after the run are its misses.
cold_misses=$(redis-cli -p "$redis_port" --scan --pattern 'gt:run:*' | wc -l)
cold_pg=$(pgbench_run get "\\set n random(1, $nids)
SELECT $columns FROM runs WHERE id = (SELECT id FROM bench_ids WHERE n = :n);")
redis-cli -p "$redis_port" FLUSHALL >/dev/null
row 'GET /api/runs/:id cold' "$cold" 'pgbench SELECT by id' "$cold_pg" \
    "$(BENCH_IDS=$work/ids paced_run "$GT_URL/api/runs/x" "$(rate_of "$cold")")"
# What the cold read could reach at best on these cores, each part at the
# rate measured alone, one after the other: nginx answering by itself and
# the query as pgbench runs it (any application behind nginx); the warm
# read's path instead (nginx and the pool, no server behind); and that
# with the cache's miss and its write, each as dear as an HGET.
row '' "$cold" 'nginx + SELECT' "$(compose "$warm_static" "$cold_pg")"
row '' "$cold" 'warm + SELECT' "$(compose "$warm" "$cold_pg")"
row '' "$cold" 'warm + SELECT + 2 HGET' \
    "$(compose "$warm" "$cold_pg" "$hget" "$hget")"

# A statement of the list adapter, with the text of the string macros it
# is made of put back in (PGROW_RUN_COLUMNS as read above); the deep
# pages are read with list_deep_sql, as the adapter reads them.
list_text() {
	python3 - "$srcdir/lib/infra/run_store_pg.c" "$columns" "$1" <<'EOF'
import re, sys
src = open(sys.argv[1]).read()
lit = r'"(?:[^"\\]|\\.)*"'
macros = {"PGROW_RUN_COLUMNS": sys.argv[2]}
for name, body in re.findall(r'#define (\w+)((?:[ \t]*\\\n[ \t]*' + lit +
        r')+|[ \t]+' + lit + ')', src):
    macros[name] = "".join(re.findall(r'"((?:[^"\\]|\\.)*)"', body))
# LIST_DAY_MIN_SQL is the number LIST_DAY_MIN made a string by the
# preprocessor, which the definitions above do not follow.
macros["LIST_DAY_MIN_SQL"] = re.search(r'#define LIST_DAY_MIN\s+(\d+)',
    src).group(1)
body = re.search(sys.argv[3] + r'\[\] =(.*?);\n', src, re.S).group(1)
out = []
for text, name in re.findall(r'"((?:[^"\\]|\\.)*)"|(\w+)', body):
    out.append(macros[name] if name else text)
print("".join(out))
EOF
}
list_sql=$(list_text list_sql)
list_deep_sql=$(list_text list_deep_sql)
[[ "$list_sql" == WITH* && "$list_deep_sql" == WITH* &&
    "$list_deep_sql" == *run_day_counts* ]] ||
	die "could not read the list statements from run_store_pg.c"

# list_stmt OFFSET [TEXT]: the statement with the route's parameters.
list_stmt() {
	local s=${2:-$list_sql}

	s=${s//\$1::text/NULL::text}
	s=${s//\$2::text/NULL::text}
	s=${s//\$3::bigint/25}
	printf '%s;\n' "${s//\$4::bigint/$1}"
}

note "GET /api/runs first page"
res=$(wrk_run "$GT_URL/api/runs?page=1&limit=25")
row 'GET /api/runs page 1' "$res" 'pgbench list statement' \
    "$(pgbench_run list1 "$(list_stmt 0)")" \
    "$(paced_run "$GT_URL/api/runs?page=1&limit=25" "$(rate_of "$res")")"
note "GET /api/runs deep pages"
res=$(wrk_run "$GT_URL/api/runs?page=$DEEP_PAGE&limit=25")
row "GET /api/runs page $DEEP_PAGE" "$res" 'pgbench list statement' \
    "$(pgbench_run listdeep "$(list_stmt $(((DEEP_PAGE - 1) * 25)) "$list_deep_sql")")" \
    "$(paced_run "$GT_URL/api/runs?page=$DEEP_PAGE&limit=25" "$(rate_of "$res")")"
res=$(wrk_run "$GT_URL/api/runs?page=$MIDDLE_PAGE&limit=25")
row "GET /api/runs page $MIDDLE_PAGE" "$res" 'pgbench list statement' \
    "$(pgbench_run listmid "$(list_stmt $(((MIDDLE_PAGE - 1) * 25)) "$list_deep_sql")")" \
    "$(paced_run "$GT_URL/api/runs?page=$MIDDLE_PAGE&limit=25" "$(rate_of "$res")")"

# The analytics statement over the route's window (days=30: from 00:00 UTC
# 29 days ago), the third parameter as analytics.sh gives it.
analytics_sql=$(python3 - "$srcdir/lib/infra/analytics_pg.c" <<'EOF'
import re, sys
src = open(sys.argv[1]).read()
body = re.search(r'figures_sql\[\] =(.*?);\n', src, re.S).group(1)
print("".join(re.findall(r'"((?:[^"\\]|\\.)*)"', body)))
EOF
)
window_from="((date_trunc('day', now() AT TIME ZONE 'UTC') -
    interval '29 days') AT TIME ZONE 'UTC')"
analytics_sql=${analytics_sql//\$1::timestamptz/$window_from}
analytics_sql=${analytics_sql//\$2::timestamptz/now()}
analytics_sql="${analytics_sql//\$3::bigint/10};"

note "GET /api/analytics"
res=$(wrk_run "$GT_URL/api/analytics?days=30")
row 'GET /api/analytics?days=30' "$res" 'pgbench analytics statement' \
    "$(pgbench_run analytics "$analytics_sql")" \
    "$(paced_run "$GT_URL/api/analytics?days=30" "$(rate_of "$res")")"

insert_stmt="\\set k random(1, 2000000000)
INSERT INTO runs (repo, target_type, target_number, instruction, source,
    requester) VALUES ('bench-pg/repo', 'issue', :k, 'benchmark run', 'api',
    'bench-' || :k);"

# The adapter's own insert (insert_sql) as a creation runs it when Redis
# decides the rate limits (no counting in the database), its parameters
# made by pgbench: api, a run and nothing else; webhook, a run, its
# acknowledgement queued for GitHub and its delivery recorded, in one
# statement.  Keys are random over 10^18, so that no two collide.
# route_insert api|webhook
route_insert() {
	python3 - "$1" "$(list_text insert_sql)" <<'EOF'
import re, sys
source, text = sys.argv[1], sys.argv[2]
webhook = source == "webhook"
values = {
    9: "('bench-pg/repo-' || :r)", 10: "'issue'", 11: ":t",
    12: "'benchmark run'", 13: "'%s'" % source,
    14: "('bench-' || :k)", 15: "('bench-' || :k)",
    18: "12345" if webhook else "NULL", 19: ":k" if webhook else "NULL",
    20: "'issue_comment'" if webhook else "NULL",
    21: "('bench-' || :k)" if webhook else "NULL",
    23: "'created'" if webhook else "NULL",
}
if not text.startswith("WITH") or "webhook_deliveries" not in text:
    sys.exit("routes.sh: could not read insert_sql from run_store_pg.c")
print("\\set r random(0, 99)")
print("\\set t random(1, 2000000000)")
print("\\set k random(1, 1000000000000000000)")
print(re.sub(r"\$(\d+)", lambda m: values.get(int(m.group(1)), "NULL"),
    text) + ";")
EOF
}
post_insert=$(route_insert api) || die "no insert statement"
webhook_insert=$(route_insert webhook) || die "no insert statement"

note "POST /api/runs"
res=$(BENCH_POST=1 wrk_run "$GT_URL/api/runs")
row 'POST /api/runs' "$res" 'pgbench plain INSERT' \
    "$(pgbench_run insert "$insert_stmt")"
row '' "$res" "pgbench, the route's insert" \
    "$(pgbench_run insert_api "$post_insert")"

note "POST /api/github/webhook"
res=$(BENCH_WEBHOOK=$work/webhook wrk_run "$GT_URL/api/github/webhook")
row 'POST /api/github/webhook (run)' "$res" 'pgbench plain INSERT' \
    "$(pgbench_run insert2 "$insert_stmt")"
row '' "$res" "pgbench, the route's insert" \
    "$(pgbench_run insert_webhook "$webhook_insert")"

# The creations above, the routes' and pgbench's, all fell inside the
# window: this row shows what a window of that many runs costs.
in_window_now=$(sql -At -c "SELECT count(*) FROM runs
    WHERE created_at >= $window_from")
note "GET /api/analytics after the POST rows ($in_window_now runs in the window)"
row "GET /api/analytics, $((in_window_now / 1000))k in window" \
    "$(wrk_run "$GT_URL/api/analytics?days=30")" '' ''

# The requests the pool has served since it started, by its own count.
served_requests() {
	curl -sf "$GT_URL/metrics" | awk '/^gittinkerer_http_requests_total/ { n += $NF }
	    END { printf "%d\n", n }'
}

# Memory after a million requests: GET /api/runs/:id (warm) makes up the
# difference, the resident sizes read halfway through it and at the end.
served=$(served_requests)
busy_worker=''
while ((served < SOAK_REQUESTS)); do
	soak_s=$(awk -v need=$((SOAK_REQUESTS - served)) -v r="$(rate_of "$warm")" \
	    'BEGIN { s = int(need / r) + 2; print (s > 300 ? 300 : s) }')
	note "GET /api/runs/:id for ${soak_s} s ($served requests served so far)"
	wrk_run "$GT_URL/api/runs/$run_id" "$connections" "$threads" \
	    "$soak_s" >"$work/soak" &
	soak_pid=$!
	sleep $((soak_s / 2))
	[[ -n "$busy_worker" ]] ||
		read -r busy_worker busy_max busy_total _ <<<"$(pool_rss)"
	wait "$soak_pid" || die "the soak failed"
	served=$(served_requests)
done
[[ -n "$busy_worker" ]] ||
	read -r busy_worker busy_max busy_total _ <<<"$(pool_rss)"
read -r load_worker load_max load_total _ <<<"$(pool_rss)"

# ---------------------------------------------------------------------------
# Report

printf '\n%d connections, %d threads, %d s each; %d runs at the start' \
    "$connections" "$threads" "$duration" "$runs"
printf ' (plus those the POST rows made); %d workers\n' "$nworkers"
print_table
read -r _ _ _ cold_requests _ <<<"$cold"
printf '\ncold reads: %d requests over %d ids, %d cache misses (%.1f%%)\n' \
    "$cold_requests" "$nids" "$cold_misses" \
    "$(awk -v m="$cold_misses" -v n="$cold_requests" 'BEGIN { print 100 * m / n }')"

printf '\npool memory (VmRSS, KiB; %d workers):\n' "$nworkers"
printf '  %-34s %12s %12s %12s\n' '' 'worker, mean' 'worker, max' 'whole pool'
printf '  %-34s %12d %12d %12d\n' 'at rest' "$rest_worker" "$rest_max" \
    "$rest_total"
printf '  %-34s %12d %12d %12d\n' 'under load' "$busy_worker" "$busy_max" \
    "$busy_total"
printf '  %-34s %12d %12d %12d\n' "after $served requests" "$load_worker" \
    "$load_max" "$load_total"

printf '\none request at a time, %d s each (p50 / p99 ms):\n' "$SERIAL_SECONDS"
paste -d' ' <(printf '%s\n' "$size_small") <(printf '%s\n' "$size_large") |
    while read -r t1 path1 a50 a99 t2 path2 b50 b99; do
	printf '  %-34s at %7d runs %7.2f / %7.2f   %-34s at %7d runs %7.2f / %7.2f   p50 x%.2f\n' \
	    "$path1" "$t1" "$a50" "$a99" "$path2" "$t2" "$b50" "$b99" \
	    "$(awk -v a="$a50" -v b="$b50" 'BEGIN { print b / a }')"
    done
printf '\ntook %d s\n' "$((SECONDS - started))"
