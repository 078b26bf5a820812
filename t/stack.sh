#!/usr/bin/env bash
#
# t/stack.sh: private PostgreSQL, Redis, worker pool and nginx servers on
# loopback, all kept in one folder.  ./dev up and the stack tests both use
# it, so a developer runs exactly what the tests run.
#
#   t/stack.sh start DIR --srcdir S --bindir B --port-base P [--workers N]
#   t/stack.sh stop DIR
#   t/stack.sh status DIR
#   t/stack.sh pg-stop|pg-start|pg-freeze|pg-thaw DIR
#   t/stack.sh redis-stop|redis-start|redis-freeze|redis-thaw DIR
#   t/stack.sh pool-stop|pool-start|pool-pid DIR
#   t/stack.sh dispatcher-start|dispatcher-stop|dispatcher-pid DIR [NAME]
#   t/stack.sh github-start|github-stop|github-pid DIR [NAME]
#   t/stack.sh nginx-reload DIR
#   t/stack.sh nginx-tls-start|nginx-tls-reload DIR [--api-rate N]
#           [--api-burst N]
#   t/stack.sh nginx-tls-stop|nginx-tls-pid DIR
#
# Ports: nginx on P, PostgreSQL on P+1, Redis on P+2, all on 127.0.0.1.
# nginx serves the dashboard at / from the source folder's ui/, so an
# edited file shows at the next reload of the page.
# nginx-tls-start runs a second nginx, with the production site
# (nginx/gittinkerer.conf.in) in front of the same pool: HTTPS on P+3 and
# its plain HTTP redirect on P+4, with a self-signed certificate for
# 127.0.0.1 and localhost in DIR/nginx-tls/cert.pem (the CA a client
# passes).  The stack's own nginx is not touched, and stop stops both.
# The pool listens on DIR/run/pool.sock.  After a start, DIR/env holds the
# URL, tokens and paths a client needs (shell syntax: source it).
#
# The folder:
#
#   gittinkerer.conf  the service's configuration
#   env               what a client needs, mode 0600
#   stack.params      the start options, for the fault controls
#   secrets/          tokens and the webhook secret, made once, mode 0600
#   pg/data, pg/run   the cluster and its socket, owned by postgres
#   redis/            Redis's working folder (nothing is saved)
#   nginx/            nginx's prefix: its configuration and temporary files
#   nginx-tls/        the second nginx's prefix, pid file and certificate
#   artifacts/        the runs' artifact folders
#   run/              pid files and the pool's socket
#   log/              one log per server, and migrate.log
#
# PostgreSQL refuses to run as root: when started by root, the cluster
# belongs to the postgres user and runs as it (runuser), and nginx's workers
# run as www-data, so DIR and every folder above it must be searchable by
# other users.

set -euo pipefail
umask 022

readonly PROG=stack
readonly POOL_SOCKET_MODE=0666
readonly PG_START_TIMEOUT=60	# seconds, each bounded wait below too
readonly REDIS_START_TIMEOUT=10
readonly POOL_START_TIMEOUT=20
readonly HEALTH_TIMEOUT=20
readonly STOP_TIMEOUT=15

say() { printf '%s: %s\n' "$PROG" "$*"; }
warn() { printf '%s: %s\n' "$PROG" "$*" >&2; }
die() { warn "$*"; exit 1; }

usage() {
	cat >&2 <<'EOF'
usage: t/stack.sh start DIR --srcdir S --bindir B --port-base P [--workers N]
           [--dispatcher]
       t/stack.sh stop|status DIR
       t/stack.sh pg-stop|pg-start|pg-freeze|pg-thaw DIR
       t/stack.sh redis-stop|redis-start|redis-freeze|redis-thaw DIR
       t/stack.sh pool-stop|pool-start|pool-pid DIR
       t/stack.sh dispatcher-start|dispatcher-stop|dispatcher-pid DIR [NAME]
       t/stack.sh github-start|github-stop|github-pid DIR [NAME]
       t/stack.sh nginx-reload DIR
       t/stack.sh nginx-tls-start|nginx-tls-reload DIR [--api-rate N]
           [--api-burst N]
       t/stack.sh nginx-tls-stop|nginx-tls-pid DIR
EOF
	exit 2
}

# The paths end up in nginx's configuration, the service's "key = value"
# file and a sed replacement: refuse the characters that would need quoting
# in any of them rather than quote them three ways.
check_path() {
	case "$2" in
	/*) ;;
	*) die "$1 must be an absolute path: $2" ;;
	esac
	if [[ ! "$2" =~ ^[A-Za-z0-9_./+@:,=~-]+$ ]]; then
		die "$1 holds a character this script does not quote (space, quote, #, ; ...): $2"
	fi
}

# A unix socket path must fit in sun_path (108 bytes with its NUL).
check_socket_path() {
	if ((${#2} > 107)); then
		die "the $1 socket path is too long for a unix socket (${#2} bytes, at most 107): $2; use a shorter stack folder"
	fi
}

is_uint() { [[ "$1" =~ ^[0-9]+$ ]]; }

# ---------------------------------------------------------------------------
# Processes

# Prints the pid in pidfile when that process is alive and its command
# line holds every needle given, so that a stale file whose pid now belongs
# to another program (another stack's server, say) is not believed.
live_pid() {
	local file=$1 pid cmdline needle

	shift
	[[ -r "$file" ]] || return 1
	pid=$(head -n 1 "$file" 2>/dev/null) || return 1
	is_uint "$pid" || return 1
	cmdline=$(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline") || return 1
	for needle in "$@"; do
		[[ "$cmdline" == *"$needle"* ]] || return 1
	done
	printf '%s\n' "$pid"
}

# Prints the state letter of pid (/proc/PID/stat), or nothing when it is
# gone.
proc_state() {
	local stat

	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
	stat=${stat##*) }
	printf '%s\n' "${stat:0:1}"
}

# Whether pid is stopped by a signal.
is_frozen() {
	[[ "$(proc_state "$1")" == T ]]
}

# Waits up to timeout seconds for pid to go.  A zombie counts as gone: our
# daemons are not our children, and the init process may take its time to
# reap them.
wait_gone() {
	local pid=$1 timeout=$2 i state

	for ((i = 0; i < timeout * 10; i++)); do
		state=$(proc_state "$pid")
		[[ -z "$state" || "$state" == Z ]] && return 0
		sleep 0.1
	done
	return 1
}

# Stops a daemon that leads its own process group: SIGCONT (it may be
# frozen), then sig, then SIGKILL to the whole group after the timeout, so
# that neither it nor a child of it is left behind.
stop_group() {
	local what=$1 pid=$2 sig=$3 timeout=$4

	kill -CONT -- "-$pid" 2>/dev/null || kill -CONT "$pid" 2>/dev/null || true
	kill "-$sig" "$pid" 2>/dev/null || true
	if ! wait_gone "$pid" "$timeout"; then
		warn "$what (pid $pid) still runs after ${timeout}s: killing it"
		kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
		wait_gone "$pid" 5 || warn "$what (pid $pid) survived SIGKILL"
	fi

	# Children that outlived their leader.
	if kill -0 -- "-$pid" 2>/dev/null; then
		kill -KILL -- "-$pid" 2>/dev/null || true
	fi
}

# Whether something accepts connections on 127.0.0.1:port.
port_busy() {
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# Prints the end of a log to stderr, for a server that failed.
show_log() {
	local file=$1

	if [[ -s "$file" ]]; then
		warn "last lines of $file:"
		tail -n 30 "$file" | sed 's/^/    /' >&2
	else
		warn "$file is empty or missing"
	fi
}

# ---------------------------------------------------------------------------
# The stack folder

# Sets the paths of the folder DIR (which must be absolute after
# resolution) and reads its saved parameters when there are some.
stack_dir() {
	local dir=$1

	[[ -n "$dir" ]] || usage
	if [[ -d "$dir" ]]; then
		dir=$(cd "$dir" && pwd -P)
	elif [[ "$dir" != /* ]]; then
		dir="$(pwd -P)/$dir"
	fi
	dir=${dir%/}
	check_path "the stack folder" "$dir"

	D=$dir
	CONF=$D/gittinkerer.conf
	PARAMS=$D/stack.params
	PGDATA_DIR=$D/pg/data
	PGSOCK_DIR=$D/pg/run
	PG_LOG=$D/log/postgres.log
	REDIS_PID=$D/run/redis.pid
	REDIS_LOG=$D/log/redis.log
	POOL_PID=$D/run/pool.pid
	POOL_SOCK=$D/run/pool.sock
	POOL_LOG=$D/log/pool.log
	NGINX_PID=$D/run/nginx.pid
	NGINX_CONF=$D/nginx/nginx.conf
	NGINX_LOG=$D/log/nginx-error.log
	MIGRATE_LOG=$D/log/migrate.log
	TLS_DIR=$D/nginx-tls
	TLS_PID=$TLS_DIR/nginx.pid
	TLS_CONF=$TLS_DIR/nginx.conf
	TLS_SITE=$TLS_DIR/gittinkerer.conf
	TLS_CERT=$TLS_DIR/cert.pem
	TLS_KEY=$TLS_DIR/key.pem
	TLS_LOG=$D/log/nginx-tls-error.log

	SRCDIR='' BINDIR='' PORT_BASE='' WORKERS=''
	if [[ -r "$PARAMS" ]]; then
		local key value
		while IFS='=' read -r key value; do
			case "$key" in
			srcdir) SRCDIR=$value ;;
			bindir) BINDIR=$value ;;
			port_base) PORT_BASE=$value ;;
			workers) WORKERS=$value ;;
			esac
		done <"$PARAMS"
	fi
	[[ -z "$PORT_BASE" ]] || set_ports
}

set_ports() {
	NGINX_PORT=$PORT_BASE
	PG_PORT=$((PORT_BASE + 1))
	REDIS_PORT=$((PORT_BASE + 2))
	TLS_HTTPS_PORT=$((PORT_BASE + 3))
	TLS_HTTP_PORT=$((PORT_BASE + 4))
}

# The fault controls need the options the stack was started with.
need_params() {
	[[ -n "$PORT_BASE" && -n "$SRCDIR" && -n "$BINDIR" ]] ||
		die "$D has no stack parameters: start it first (t/stack.sh start $D ...)"
}

# Prints 32 random bytes in hex.
random_hex() {
	od -An -tx1 -N32 /dev/urandom | tr -d ' \n'
}

# Makes the tokens and the webhook secret once: they stay the same across
# restarts of one folder, so a developer's saved token keeps working.
make_secrets() {
	local name

	mkdir -p "$D/secrets"
	chmod 0700 "$D/secrets"
	for name in operator_tokens admin_tokens webhook_secret; do
		[[ -s "$D/secrets/$name" ]] && continue
		(umask 077 && random_hex >"$D/secrets/$name.new" &&
			echo >>"$D/secrets/$name.new")
		mv "$D/secrets/$name.new" "$D/secrets/$name"
	done
	chmod 0600 "$D/secrets/"*
}

write_config() {
	cat >"$CONF.new" <<EOF
# gittinkerer.conf: written by t/stack.sh for the stack in $D.
# Rewritten at each start: edit t/stack.sh instead.

# The worker pool.
listen = unix:$POOL_SOCK
workers = $WORKERS
max_requests = 10000
drain_timeout = 10
log_level = info

# PostgreSQL: trust on loopback for this role and database only.
database_url = host=127.0.0.1 port=$PG_PORT dbname=gittinkerer user=gittinkerer
statement_timeout_ms = 5000
db_connect_timeout_ms = 2000
migrations_dir = $SRCDIR/sql

# Redis.
redis = 127.0.0.1:$REDIS_PORT
redis_connect_timeout_ms = 200
redis_command_timeout_ms = 200

# /health.
health_timeout_ms = 400

# Runs.  The tests give the repositories they limit an override of their
# own, so the defaults are high enough never to get in the way.
artifacts_root = $D/artifacts
repo_rate_limit = 100000
requester_rate_limit = 100000

# The dispatcher (./dev up starts one; the dispatcher tests start their
# own, with shorter times given in the environment).
runner_path = $BINDIR/src/gittinkerer-example-runner
runner_home = $D/artifacts
dispatcher_slots = 4
run_timeout = 300
run_grace = 5
lease = 15
heartbeat_interval = 3
poll_interval = 2

# Secrets, each in its own file (mode 0600).
operator_tokens_file = $D/secrets/operator_tokens
admin_tokens_file = $D/secrets/admin_tokens
webhook_secret_file = $D/secrets/webhook_secret
EOF
	mv "$CONF.new" "$CONF"
}

# Writes one "KEY=value" line, quoted for the shell when the value needs it.
env_line() {
	if [[ "$2" =~ ^[A-Za-z0-9_./+@:,=%-]*$ ]]; then
		printf '%s=%s\n' "$1" "$2"
	else
		printf "%s='%s'\n" "$1" "$2"
	fi
}

write_env() {
	local operator admin secret

	operator=$(head -n 1 "$D/secrets/operator_tokens")
	admin=$(head -n 1 "$D/secrets/admin_tokens")
	secret=$(head -n 1 "$D/secrets/webhook_secret")
	(
		umask 077
		{
			env_line GT_URL "http://127.0.0.1:$NGINX_PORT"
			env_line GT_OPERATOR_TOKEN "$operator"
			env_line GT_ADMIN_TOKEN "$admin"
			env_line GT_WEBHOOK_SECRET "$secret"
			env_line GT_DATABASE_URL \
			    "host=127.0.0.1 port=$PG_PORT dbname=gittinkerer user=gittinkerer"
			env_line GT_REDIS "127.0.0.1:$REDIS_PORT"
			env_line GT_STACK_DIR "$D"
			env_line GT_CONFIG "$CONF"
			env_line GT_SRCDIR "$SRCDIR"
			env_line GT_BINDIR "$BINDIR"
		} >"$D/env.new"
	)
	mv "$D/env.new" "$D/env"
}

write_params() {
	{
		printf 'srcdir=%s\n' "$SRCDIR"
		printf 'bindir=%s\n' "$BINDIR"
		printf 'port_base=%s\n' "$PORT_BASE"
		printf 'workers=%s\n' "$WORKERS"
	} >"$PARAMS"
}

# ---------------------------------------------------------------------------
# PostgreSQL

pg_bin() {
	local bin

	bin=$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
	[[ -n "$bin" && -x "$bin/initdb" ]] ||
		die "no PostgreSQL server found under /usr/lib/postgresql (apt-get install postgresql)"
	printf '%s\n' "$bin"
}

# The account the cluster belongs to: postgres when we are root (it refuses
# to run as root), else ourselves.
pg_user() {
	if ((EUID == 0)); then
		echo postgres
	else
		id -un
	fi
}

# Runs a command as the cluster's owner, from / so that an unreadable
# working directory does not matter.
as_pg() {
	if ((EUID == 0)); then
		(cd / && runuser -u postgres -- "$@")
	else
		(cd / && "$@")
	fi
}

# Fails clearly when user cannot reach path: the first folder on the way
# that is not searchable is named.
check_reachable() {
	local user=$1 path=$2 why=$3 p

	((EUID == 0)) || return 0
	id "$user" >/dev/null 2>&1 || die "no user $user on this machine"
	(cd / && runuser -u "$user" -- test -x "$path") 2>/dev/null && return 0

	p=$path
	while [[ "$p" != / && -n "$p" ]]; do
		if ! (cd / && runuser -u "$user" -- test -x "$p") 2>/dev/null; then
			local up=${p%/*}
			[[ -n "$up" ]] || up=/
			if (cd / && runuser -u "$user" -- test -x "$up") 2>/dev/null; then
				die "the $user user ($why) cannot reach $path: $p is not searchable by it; run chmod o+x $p or put the stack folder elsewhere"
			fi
		fi
		p=${p%/*}
	done
	die "the $user user ($why) cannot reach $path; make it and the folders above it searchable (chmod o+x) or put the stack folder elsewhere"
}

pg_postmaster_pid() {
	live_pid "$PGDATA_DIR/postmaster.pid" postgres "$PGDATA_DIR"
}

# Creates the cluster once.
pg_init() {
	local bin=$1 user version

	user=$(pg_user)
	if [[ -f "$PGDATA_DIR/PG_VERSION" ]]; then
		read -r version <"$PGDATA_DIR/PG_VERSION"
		[[ "$bin" == "/usr/lib/postgresql/$version/bin" ]] ||
			die "$PGDATA_DIR was made by PostgreSQL $version but $bin is installed; remove $D/pg to start afresh"
		return 0
	fi

	rm -rf "$D/pg"
	mkdir -p "$PGDATA_DIR" "$PGSOCK_DIR"
	chmod 0700 "$PGDATA_DIR"
	chown -R "$user:" "$D/pg"
	say "creating a PostgreSQL cluster in $PGDATA_DIR"
	if ! as_pg "$bin/initdb" -D "$PGDATA_DIR" -U "$user" -E UTF8 \
	    --locale=C.UTF-8 --auth-local=peer --auth-host=reject --no-sync \
	    --no-instructions >"$D/log/initdb.log" 2>&1; then
		warn "initdb failed"
		show_log "$D/log/initdb.log"
		rm -rf "$D/pg"
		return 1
	fi

	printf "\n# The stack's settings, rewritten at each start.\ninclude = 'stack.conf'\n" \
	    >>"$PGDATA_DIR/postgresql.conf"
}

# A test server: loopback only, durability traded for speed.
# Authentication is written in full: peer for the superuser through the
# socket (this script's own use), trust for the service's role on loopback
# and through the socket (which the benchmark uses, as production does),
# nothing else.  The role may create databases, since the migration tests
# work in scratch databases of their own.
pg_settings() {
	cat >"$PGDATA_DIR/pg_hba.conf" <<EOF
# Written by t/stack.sh at each start.
# TYPE	DATABASE	USER		ADDRESS		METHOD
local	all		$(pg_user)				peer
local	all		gittinkerer				trust
host	all		gittinkerer	127.0.0.1/32	trust
EOF
	cat >"$PGDATA_DIR/stack.conf" <<EOF
# Written by t/stack.sh at each start.
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$PGSOCK_DIR'
max_connections = 100
shared_buffers = 32MB
fsync = off
full_page_writes = off
synchronous_commit = on
logging_collector = off
log_line_prefix = '%m [%p] %q%u@%d '
EOF
	chown "$(pg_user):" "$PGDATA_DIR/stack.conf" "$PGDATA_DIR/pg_hba.conf"
}

pg_start() {
	local bin

	bin=$(pg_bin)
	if pg_postmaster_pid >/dev/null; then
		say "PostgreSQL already runs"
		return 0
	fi
	touch "$PG_LOG"
	chown "$(pg_user):" "$PG_LOG"
	if ! as_pg "$bin/pg_ctl" start -D "$PGDATA_DIR" -l "$PG_LOG" -w \
	    -t "$PG_START_TIMEOUT" >"$D/log/pg_ctl.log" 2>&1; then
		warn "PostgreSQL did not start on 127.0.0.1:$PG_PORT"
		show_log "$D/log/pg_ctl.log"
		show_log "$PG_LOG"
		return 1
	fi
	say "PostgreSQL runs on 127.0.0.1:$PG_PORT"
}

pg_stop() {
	local bin pid

	pid=$(pg_postmaster_pid) || return 0
	bin=$(pg_bin)
	pg_thaw
	if ! as_pg "$bin/pg_ctl" stop -D "$PGDATA_DIR" -m fast -w \
	    -t "$STOP_TIMEOUT" >"$D/log/pg_ctl.log" 2>&1; then
		warn "PostgreSQL did not stop in ${STOP_TIMEOUT}s: killing it"
		stop_group PostgreSQL "$pid" KILL 5
	fi
	say "PostgreSQL stopped"
}

# The postmaster and its children.  The postmaster is signalled first when
# freezing, so that it cannot fork a child the list missed.
pg_pids() {
	local pid=$1

	printf '%s\n' "$pid"
	ps -o pid= --ppid "$pid" | tr -d ' '
}

pg_freeze() {
	local pid child

	pid=$(pg_postmaster_pid) || die "PostgreSQL does not run"
	for child in $(pg_pids "$pid"); do
		kill -STOP "$child" 2>/dev/null || true
	done
	say "PostgreSQL frozen (pid $pid and its children)"
}

pg_thaw() {
	local pid child

	pid=$(pg_postmaster_pid) || return 0
	for child in $(pg_pids "$pid"); do
		kill -CONT "$child" 2>/dev/null || true
	done
}

# The service's role and database, made once.
pg_create_db() {
	local bin

	bin=$(pg_bin)
	if ! as_pg "$bin/psql" -X -q -v ON_ERROR_STOP=1 -h "$PGSOCK_DIR" \
	    -p "$PG_PORT" -U "$(pg_user)" -d postgres >>"$PG_LOG" 2>&1 <<'EOF'; then
SELECT 'CREATE ROLE gittinkerer LOGIN CREATEDB'
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'gittinkerer') \gexec
ALTER ROLE gittinkerer CREATEDB;
SELECT 'CREATE DATABASE gittinkerer OWNER gittinkerer'
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'gittinkerer') \gexec
EOF
		warn "could not create the gittinkerer role and database"
		show_log "$PG_LOG"
		return 1
	fi
}

# ---------------------------------------------------------------------------
# Redis

redis_pid() {
	live_pid "$REDIS_PID" redis-server "127.0.0.1:${REDIS_PORT:-none}"
}

redis_ping() {
	[[ "$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null)" == PONG ]]
}

redis_start() {
	local i

	if redis_pid >/dev/null; then
		say "Redis already runs"
		return 0
	fi
	mkdir -p "$D/redis"
	rm -f "$REDIS_PID"
	if ! redis-server --bind 127.0.0.1 --port "$REDIS_PORT" \
	    --save '' --appendonly no --daemonize yes \
	    --pidfile "$REDIS_PID" --logfile "$REDIS_LOG" --dir "$D/redis" \
	    </dev/null >/dev/null 2>&1; then
		warn "Redis did not start on 127.0.0.1:$REDIS_PORT"
		show_log "$REDIS_LOG"
		return 1
	fi
	for ((i = 0; i < REDIS_START_TIMEOUT * 10; i++)); do
		if redis_ping; then
			say "Redis runs on 127.0.0.1:$REDIS_PORT"
			return 0
		fi
		sleep 0.1
	done
	warn "Redis did not answer on 127.0.0.1:$REDIS_PORT within ${REDIS_START_TIMEOUT}s"
	show_log "$REDIS_LOG"
	return 1
}

redis_stop() {
	local pid

	pid=$(redis_pid) || { rm -f "$REDIS_PID"; return 0; }
	stop_group Redis "$pid" TERM "$STOP_TIMEOUT"
	rm -f "$REDIS_PID"
	say "Redis stopped"
}

redis_freeze() {
	local pid

	pid=$(redis_pid) || die "Redis does not run"
	kill -STOP "$pid"
	say "Redis frozen (pid $pid)"
}

redis_thaw() {
	local pid

	pid=$(redis_pid) || return 0
	kill -CONT "$pid"
}

# ---------------------------------------------------------------------------
# The worker pool

pool_pid() {
	live_pid "$POOL_PID" gittinkerer-pool "$CONF"
}

migrate() {
	local admin=$BINDIR/src/gittinkerer-admin

	[[ -x "$admin" ]] || { warn "$admin is missing: build first (make)"; return 1; }
	if ! "$admin" -c "$CONF" migrate </dev/null >"$MIGRATE_LOG" 2>&1; then
		warn "the migrations failed"
		show_log "$MIGRATE_LOG"
		return 1
	fi
	sed 's/^/    /' "$MIGRATE_LOG"
	say "migrations applied"
}

# Starts the supervisor in its own session, so that a Ctrl-C meant for
# ./dev does not reach it and stop_group can reach all its workers.
pool_start() {
	local pool=$BINDIR/src/gittinkerer-pool pid i

	if pool_pid >/dev/null; then
		say "the pool already runs"
		return 0
	fi
	[[ -x "$pool" ]] || { warn "$pool is missing: build first (make)"; return 1; }
	rm -f "$POOL_SOCK" "$POOL_PID"
	printf -- '--- t/stack.sh starts the pool, %s\n' "$(date -u +%FT%TZ)" \
	    >>"$POOL_LOG"
	# shellcheck disable=SC2016 # $$ and $0 are the inner shell's
	setsid bash -c 'echo $$ >"$0" && exec "$@"' "$POOL_PID" \
	    "$pool" -c "$CONF" --listen "unix:$POOL_SOCK" \
	    --socket-mode "$POOL_SOCKET_MODE" </dev/null >>"$POOL_LOG" 2>&1 &

	for ((i = 0; i < POOL_START_TIMEOUT * 10; i++)); do
		if [[ -S "$POOL_SOCK" ]] && pid=$(pool_pid); then
			say "the pool runs (pid $pid) on $POOL_SOCK"
			return 0
		fi
		if ((i > 5)) && ! pool_pid >/dev/null; then
			warn "the pool exited at start"
			show_log "$POOL_LOG"
			return 1
		fi
		sleep 0.1
	done
	warn "the pool did not create $POOL_SOCK within ${POOL_START_TIMEOUT}s"
	show_log "$POOL_LOG"
	return 1
}

# SIGTERM lets in-flight requests finish; the drain timeout is 10 s.
pool_stop() {
	local pid

	pid=$(pool_pid) || { rm -f "$POOL_PID" "$POOL_SOCK"; return 0; }
	stop_group "the pool" "$pid" TERM "$STOP_TIMEOUT"
	rm -f "$POOL_PID" "$POOL_SOCK"
	say "the pool stopped"
}

# ---------------------------------------------------------------------------
# Dispatchers and GitHub daemons

# A daemon is a dispatcher (gittinkerer-dispatcher) or a GitHub daemon
# (gittinkerer-github), known by a name: its pid file is run/NAME.pid and
# its log log/NAME.log.  A GitHub daemon's name is "github" or begins
# with "github-"; any other name is a dispatcher's (default
# "dispatcher").  The tests start several with their own settings, given
# as GITTINKERER_* variables in the environment, which the service reads
# over its configuration file.

daemon_name() {
	local prog=$1 name=${2:-$1}

	[[ "$name" =~ ^[a-z][a-z0-9-]{0,30}$ ]] ||
		die "a $prog name is 1-31 of [a-z0-9-], starting with a letter: $name"
	case "$prog:$name" in
	github:github|github:github-*|dispatcher:*) ;;
	*) die "$name is not a $prog name: GitHub daemons are github or github-*" ;;
	esac
	case "$prog:$name" in
	dispatcher:github|dispatcher:github-*)
		die "$name is a GitHub daemon's name, not a dispatcher's" ;;
	esac
	printf '%s\n' "$name"
}

daemon_pid() {
	local prog=$1 name

	name=$(daemon_name "$prog" "${2:-}")
	live_pid "$D/run/$name.pid" "gittinkerer-$prog" "$CONF"
}

# Starts a daemon in its own session, like the pool, and waits until it
# says it runs.
daemon_start() {
	local prog=$1 bin=$BINDIR/src/gittinkerer-$1 name log pid i lines

	name=$(daemon_name "$prog" "${2:-}")
	log=$D/log/$name.log
	if pid=$(daemon_pid "$prog" "$name"); then
		say "$name already runs (pid $pid)"
		return 0
	fi
	[[ -x "$bin" ]] || { warn "$bin is missing: build first (make)"; return 1; }
	rm -f "$D/run/$name.pid"
	printf -- '--- t/stack.sh starts %s, %s\n' "$name" "$(date -u +%FT%TZ)" \
	    >>"$log"
	# It may claim runs as soon as it starts: look at all it said since.
	lines=$(wc -l <"$log")
	# shellcheck disable=SC2016 # $$ and $0 are the inner shell's
	setsid bash -c 'echo $$ >"$0" && exec "$@"' "$D/run/$name.pid" \
	    "$bin" -c "$CONF" </dev/null >>"$log" 2>&1 &
	for ((i = 0; i < POOL_START_TIMEOUT * 10; i++)); do
		if pid=$(daemon_pid "$prog" "$name") &&
		    tail -n +"$lines" "$log" |
		    grep -q "event=${prog}_started"; then
			say "$name runs (pid $pid)"
			return 0
		fi
		if ((i > 5)) && ! daemon_pid "$prog" "$name" >/dev/null; then
			warn "$name exited at start"
			show_log "$log"
			return 1
		fi
		sleep 0.1
	done
	warn "$name did not start within ${POOL_START_TIMEOUT}s"
	show_log "$log"
	return 1
}

# SIGTERM: a dispatcher stops its runs and records their outcomes first.
daemon_stop() {
	local prog=$1 name pid

	name=$(daemon_name "$prog" "${2:-}")
	pid=$(daemon_pid "$prog" "$name") ||
		{ rm -f "$D/run/$name.pid"; return 0; }
	stop_group "$name" "$pid" TERM "$STOP_TIMEOUT"
	rm -f "$D/run/$name.pid"
	say "$name stopped"
}

# Every daemon of the folder, whatever its name.
daemons_stop() {
	local file name

	for file in "$D"/run/*.pid; do
		[[ -e "$file" ]] || continue
		name=${file##*/}
		name=${name%.pid}
		case "$name" in
		pool|nginx|redis) continue ;;
		github|github-*) daemon_stop github "$name" ;;
		*) daemon_stop dispatcher "$name" ;;
		esac
	done
}

# ---------------------------------------------------------------------------
# nginx

nginx_pid() {
	live_pid "$NGINX_PID" "nginx: master" "$NGINX_CONF"
}

# The workers' account: nginx's own on Debian, else nobody.
nginx_user() {
	local user=www-data

	((EUID == 0)) || { id -un; return; }
	id "$user" >/dev/null 2>&1 || user=nobody
	printf '%s %s\n' "$user" "$(id -gn "$user")"
}

nginx_config() {
	local template=$SRCDIR/nginx/local.conf.in out

	[[ -r "$template" ]] || { warn "$template is missing"; return 1; }
	mkdir -p "$D/nginx/tmp"
	sed -e "s|@PORT@|$NGINX_PORT|g" -e "s|@DIR@|$D|g" \
	    -e "s|@SRCDIR@|$SRCDIR|g" -e "s|@UI_ROOT@|$SRCDIR/ui|g" \
	    -e "s|@NGINX_USER@|$(nginx_user)|g" \
	    "$template" >"$NGINX_CONF.new"
	mv "$NGINX_CONF.new" "$NGINX_CONF"
	if ! out=$(nginx -q -t -p "$D/nginx/" -c "$NGINX_CONF" \
	    -e "$NGINX_LOG" 2>&1); then
		warn "nginx rejects its configuration $NGINX_CONF:"
		printf '    %s\n' "$out" >&2
		return 1
	fi
}

nginx_start() {
	local i out

	if nginx_pid >/dev/null; then
		say "nginx already runs"
		return 0
	fi
	nginx_config || return 1
	rm -f "$NGINX_PID"
	if ! out=$(nginx -p "$D/nginx/" -c "$NGINX_CONF" -e "$NGINX_LOG" \
	    </dev/null 2>&1); then
		warn "nginx did not start on 127.0.0.1:$NGINX_PORT:"
		printf '    %s\n' "$out" >&2
		return 1
	fi
	for ((i = 0; i < 50; i++)); do
		nginx_pid >/dev/null && break
		sleep 0.1
	done
	nginx_pid >/dev/null || { warn "nginx did not write $NGINX_PID"; show_log "$NGINX_LOG"; return 1; }
	say "nginx runs on 127.0.0.1:$NGINX_PORT"
}

nginx_stop() {
	local pid

	pid=$(nginx_pid) || { rm -f "$NGINX_PID"; return 0; }
	stop_group nginx "$pid" QUIT "$STOP_TIMEOUT"
	rm -f "$NGINX_PID"
	say "nginx stopped"
}

# The configuration is made again from the template, checked, then nginx
# is told to reload: old workers finish their requests, new ones take over.
nginx_reload() {
	local pid

	pid=$(nginx_pid) || die "nginx does not run"
	nginx_config || exit 1
	kill -HUP "$pid"
	say "nginx reloaded"
}

# ---------------------------------------------------------------------------
# The second nginx, with the production site

# The production site's defaults, as doc/nginx.md suggests them.
readonly TLS_API_RATE=10
readonly TLS_API_BURST=20

tls_pid() {
	live_pid "$TLS_PID" "nginx: master" "$TLS_CONF"
}

# A self-signed certificate, made once per folder: a client trusts it by
# naming it as its CA (curl --cacert).
tls_cert() {
	[[ -s "$TLS_CERT" && -s "$TLS_KEY" ]] && return 0
	command -v openssl >/dev/null || { warn "openssl is not installed"; return 1; }
	if ! (umask 077 && openssl req -x509 -newkey ec \
	    -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 365 \
	    -subj /CN=127.0.0.1 \
	    -addext subjectAltName=IP:127.0.0.1,DNS:localhost \
	    -keyout "$TLS_KEY.new" -out "$TLS_CERT.new" \
	    >"$TLS_DIR/openssl.log" 2>&1); then
		warn "openssl could not make a certificate"
		show_log "$TLS_DIR/openssl.log"
		return 1
	fi
	mv "$TLS_KEY.new" "$TLS_KEY"
	chmod 0644 "$TLS_CERT.new"
	mv "$TLS_CERT.new" "$TLS_CERT"
}

# Fills in the site's placeholders and wraps it in a main configuration
# that keeps every file nginx writes inside the folder.  Options:
# --api-rate N and --api-burst N (requests a second, and at once, per
# address on /api).
tls_config() {
	local template=$SRCDIR/nginx/gittinkerer.conf.in rate=$TLS_API_RATE
	local burst=$TLS_API_BURST out

	while (($#)); do
		case "$1" in
		--api-rate) rate=${2:?--api-rate needs a value}; shift 2 ;;
		--api-burst) burst=${2:?--api-burst needs a value}; shift 2 ;;
		*) warn "unknown option: $1"; usage ;;
		esac
	done
	if ! is_uint "$rate" || ((rate < 1)); then
		die "--api-rate must be a positive number: $rate"
	fi
	is_uint "$burst" || die "--api-burst must be a number: $burst"
	((PORT_BASE <= 65531)) ||
		die "the TLS nginx needs ports up to P+4: --port-base $PORT_BASE is too high"
	[[ -r "$template" ]] || { warn "$template is missing"; return 1; }

	mkdir -p "$TLS_DIR/tmp"
	tls_cert || return 1
	sed -e "s|@SERVER_NAME@|localhost|g" \
	    -e "s|@HTTPS_URL@|https://localhost:$TLS_HTTPS_PORT|g" \
	    -e "s|@HTTPS_LISTEN@|127.0.0.1:$TLS_HTTPS_PORT|g" \
	    -e "s|@HTTP_LISTEN@|127.0.0.1:$TLS_HTTP_PORT|g" \
	    -e "s|@CERT@|$TLS_CERT|g" -e "s|@CERT_KEY@|$TLS_KEY|g" \
	    -e "s|@POOL_SOCKET@|$POOL_SOCK|g" -e "s|@LOG_DIR@|$D/log|g" \
	    -e "s|@API_RATE@|$rate|g" -e "s|@API_BURST@|$burst|g" \
	    -e "s|@UI_ROOT@|$SRCDIR/ui|g" \
	    "$template" >"$TLS_SITE.new"
	mv "$TLS_SITE.new" "$TLS_SITE"
	cat >"$TLS_CONF.new" <<EOF
# Written by t/stack.sh: the production site, nginx/gittinkerer.conf.in,
# for the tests.
user $(nginx_user);
worker_processes 2;
pid $TLS_PID;
error_log $TLS_LOG warn;

events {
	worker_connections 512;
}

http {
	client_body_temp_path $TLS_DIR/tmp/client_body;
	fastcgi_temp_path $TLS_DIR/tmp/fastcgi;
	proxy_temp_path $TLS_DIR/tmp/proxy;
	uwsgi_temp_path $TLS_DIR/tmp/uwsgi;
	scgi_temp_path $TLS_DIR/tmp/scgi;

	include $TLS_SITE;
}
EOF
	mv "$TLS_CONF.new" "$TLS_CONF"
	if ! out=$(nginx -q -t -p "$TLS_DIR/" -c "$TLS_CONF" -e "$TLS_LOG" 2>&1); then
		warn "nginx rejects its configuration $TLS_CONF:"
		printf '    %s\n' "$out" >&2
		return 1
	fi
}

tls_start() {
	local i out port

	if tls_pid >/dev/null; then
		say "the TLS nginx already runs"
		return 0
	fi
	tls_config "$@" || return 1
	for port in "$TLS_HTTPS_PORT" "$TLS_HTTP_PORT"; do
		! port_busy "$port" ||
			die "port $port on 127.0.0.1 is in use by another program"
	done
	rm -f "$TLS_PID"
	if ! out=$(nginx -p "$TLS_DIR/" -c "$TLS_CONF" -e "$TLS_LOG" \
	    </dev/null 2>&1); then
		warn "the TLS nginx did not start:"
		printf '    %s\n' "$out" >&2
		return 1
	fi
	for ((i = 0; i < 50; i++)); do
		tls_pid >/dev/null && break
		sleep 0.1
	done
	tls_pid >/dev/null || { warn "nginx did not write $TLS_PID"; show_log "$TLS_LOG"; return 1; }
	say "the TLS nginx runs on https://127.0.0.1:$TLS_HTTPS_PORT" \
	    "and http://127.0.0.1:$TLS_HTTP_PORT (CA: $TLS_CERT)"
}

tls_stop() {
	local pid

	pid=$(tls_pid) || { rm -f "$TLS_PID"; return 0; }
	stop_group "the TLS nginx" "$pid" QUIT "$STOP_TIMEOUT"
	rm -f "$TLS_PID"
	say "the TLS nginx stopped"
}

# Like nginx-reload: the configuration is made again, checked, and nginx
# is told to reload.
tls_reload() {
	local pid

	pid=$(tls_pid) || die "the TLS nginx does not run"
	tls_config "$@" || exit 1
	kill -HUP "$pid"
	say "the TLS nginx reloaded"
}

# Waits until nginx answers /health, whatever the status: the pool may
# report a dependency down, but the stack is up.
wait_health() {
	local url="http://127.0.0.1:$NGINX_PORT/health" code i

	for ((i = 0; i < HEALTH_TIMEOUT * 5; i++)); do
		code=$(curl -s -o "$D/run/health.out" -w '%{http_code}' \
		    --max-time 2 "$url" 2>/dev/null) || true
		if [[ -n "$code" && "$code" != 000 ]]; then
			say "GET /health: $code $(head -c 300 "$D/run/health.out")"
			rm -f "$D/run/health.out"
			return 0
		fi
		sleep 0.2
	done
	warn "$url did not answer within ${HEALTH_TIMEOUT}s"
	show_log "$NGINX_LOG"
	show_log "$POOL_LOG"
	return 1
}

# ---------------------------------------------------------------------------
# Subcommands

cmd_stop() {
	tls_stop
	nginx_stop
	daemons_stop
	pool_stop
	redis_stop
	pg_stop
	rm -f "$D/env"
}

# After a failed start (the EXIT trap of cmd_start stops what was started).
start_failed() {
	warn "the stack in $D could not start: $1"
	exit 1
}

# The EXIT trap of cmd_start: whatever made it fail, nothing is left
# running.
start_cleanup() {
	local rc=$?

	if ((rc != 0)); then
		warn "stopping what was started"
		cmd_stop >/dev/null 2>&1 || true
	fi
	exit "$rc"
}

cmd_start() {
	local srcdir='' bindir='' port_base='' workers=4 port bin dispatcher=no

	while (($#)); do
		case "$1" in
		--dispatcher) dispatcher=yes; shift ;;
		--srcdir) srcdir=${2:?--srcdir needs a value}; shift 2 ;;
		--bindir) bindir=${2:?--bindir needs a value}; shift 2 ;;
		--port-base) port_base=${2:?--port-base needs a value}; shift 2 ;;
		--workers) workers=${2:?--workers needs a value}; shift 2 ;;
		*) warn "unknown option: $1"; usage ;;
		esac
	done
	[[ -n "$srcdir" && -n "$bindir" && -n "$port_base" ]] || usage
	[[ -d "$srcdir" ]] || die "no such source folder: $srcdir"
	[[ -d "$bindir" ]] || die "no such build folder: $bindir"
	srcdir=$(cd "$srcdir" && pwd -P)
	bindir=$(cd "$bindir" && pwd -P)
	check_path --srcdir "$srcdir"
	check_path --bindir "$bindir"
	if ! is_uint "$port_base" || ((port_base < 1024 || port_base > 65533)); then
		die "--port-base must be a number from 1024 to 65533: $port_base"
	fi
	if ! is_uint "$workers" || ((workers < 1 || workers > 256)); then
		die "--workers must be a number from 1 to 256: $workers"
	fi
	for bin in nginx redis-server redis-cli curl setsid od; do
		command -v "$bin" >/dev/null || die "$bin is not installed (./dev installs what is missing)"
	done
	((EUID != 0)) || command -v runuser >/dev/null || die "runuser is not installed"
	pg_bin >/dev/null

	# Whatever ran in this folder goes first, with its old parameters.
	cmd_stop

	SRCDIR=$srcdir BINDIR=$bindir PORT_BASE=$port_base WORKERS=$workers
	set_ports
	for port in "$NGINX_PORT" "$PG_PORT" "$REDIS_PORT"; do
		! port_busy "$port" ||
			die "port $port on 127.0.0.1 is in use by another program; choose another --port-base"
	done
	check_socket_path PostgreSQL "$PGSOCK_DIR/.s.PGSQL.$PG_PORT"
	check_socket_path pool "$POOL_SOCK"

	trap start_cleanup EXIT
	mkdir -p "$D" "$D/run" "$D/log" "$D/artifacts" "$D/nginx"
	chmod 0755 "$D" "$D/run"
	rm -f "$D/env"
	check_reachable "$(pg_user)" "$D" "PostgreSQL runs as it"
	check_reachable "$(nginx_user | cut -d' ' -f1)" "$D/run" \
	    "nginx's workers run as it"
	check_reachable "$(nginx_user | cut -d' ' -f1)" "$SRCDIR/ui" \
	    "nginx's workers serve the dashboard from it"
	write_params
	make_secrets
	write_config

	say "starting the stack in $D"
	pg_init "$(pg_bin)" || start_failed "PostgreSQL could not be initialised"
	pg_settings
	pg_start || start_failed "PostgreSQL did not start"
	pg_create_db || start_failed "PostgreSQL could not be set up"
	redis_start || start_failed "Redis did not start"
	migrate || start_failed "the migrations failed"
	pool_start || start_failed "the pool did not start"
	if [[ "$dispatcher" == yes ]]; then
		daemon_start dispatcher ||
			start_failed "the dispatcher did not start"
	fi
	nginx_start || start_failed "nginx did not start"
	wait_health || start_failed "/health did not answer"
	write_env
	trap - EXIT
	say "the stack runs: http://127.0.0.1:$NGINX_PORT (settings in $D/env)"
}

cmd_status() {
	local all=0

	status_line() {
		local name=$1 pid=$2

		if [[ -z "$pid" ]]; then
			printf '%-10s stopped\n' "$name"
			all=1
		elif is_frozen "$pid"; then
			printf '%-10s frozen (pid %s)\n' "$name" "$pid"
		else
			printf '%-10s running (pid %s)\n' "$name" "$pid"
		fi
	}
	status_line postgres "$(pg_postmaster_pid || true)"
	status_line redis "$(redis_pid || true)"
	status_line pool "$(pool_pid || true)"
	status_line nginx "$(nginx_pid || true)"
	return "$all"
}

main() {
	local cmd=${1:-}

	(($# >= 2)) || usage
	shift
	stack_dir "$1"
	shift

	case "$cmd" in
	start) cmd_start "$@" ;;
	stop) cmd_stop ;;
	status) cmd_status ;;
	pg-stop) pg_stop ;;
	pg-start) need_params; pg_start ;;
	pg-freeze) pg_freeze ;;
	pg-thaw) pg_thaw; say "PostgreSQL thawed" ;;
	redis-stop) redis_stop ;;
	redis-start) need_params; redis_start ;;
	redis-freeze) redis_freeze ;;
	redis-thaw) redis_thaw; say "Redis thawed" ;;
	pool-stop) pool_stop ;;
	pool-start) need_params; pool_start ;;
	pool-pid) pool_pid || die "the pool does not run" ;;
	dispatcher-start) need_params; daemon_start dispatcher "$@" ;;
	dispatcher-stop) daemon_stop dispatcher "$@" ;;
	dispatcher-pid) daemon_pid dispatcher "$@" ||
		die "${1:-dispatcher} does not run" ;;
	github-start) need_params; daemon_start github "$@" ;;
	github-stop) daemon_stop github "$@" ;;
	github-pid) daemon_pid github "$@" || die "${1:-github} does not run" ;;
	nginx-reload) need_params; nginx_reload ;;
	nginx-tls-start) need_params; tls_start "$@" ;;
	nginx-tls-reload) need_params; tls_reload "$@" ;;
	nginx-tls-stop) tls_stop ;;
	nginx-tls-pid) tls_pid || die "the TLS nginx does not run" ;;
	*) warn "unknown command: $cmd"; usage ;;
	esac
}

main "$@"
