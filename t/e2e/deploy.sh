#!/usr/bin/env bash
#
# t/e2e/deploy.sh: the production nginx site (nginx/gittinkerer.conf.in)
# and the two other ways of starting the pool, end to end:
#
#   - TLS only in 1.2 and 1.3, /health with the security headers and HSTS,
#     plain HTTP redirected to HTTPS;
#   - the answers nginx makes itself (403, 404, 413, 429, and 503 for a
#     pool that is away) in the contract's error format;
#   - the dashboard's files at /, with a policy of their own;
#   - nginx reloaded ten times under load without a failed request;
#   - the pool started by spawn-fcgi and by systemd-socket-activate
#     behind the same nginx.
#
# Run by t/stack-tests.sh with the stack's env file exported (GT_URL,
# GT_STACK_DIR, GT_CONFIG, GT_SRCDIR, GT_BINDIR, GT_OPERATOR_TOKEN, ...).
# It starts the TLS nginx (t/stack.sh nginx-tls-start: HTTPS on the
# stack's port + 3, plain HTTP on + 4) and stops it at the end.  Each case
# prints "ok - name" or "not ok - name: why"; the last line is "deploy
# tests: N passed, N failed" and the exit status is 1 when one failed.
# The stack's pool is left running, whatever happens.

set -u -o pipefail

: "${GT_URL:?GT_URL must be the URL of the nginx of the stack}"
: "${GT_STACK_DIR:?GT_STACK_DIR must name the stack folder}"
: "${GT_CONFIG:?GT_CONFIG must name the configuration of the service}"
: "${GT_SRCDIR:?GT_SRCDIR must name the source folder}"
: "${GT_OPERATOR_TOKEN:?GT_OPERATOR_TOKEN must hold an operator token}"
GT_BINDIR=${GT_BINDIR:-${GT_BUILDDIR:?GT_BINDIR or GT_BUILDDIR must name the build folder}}

readonly STACK=$GT_SRCDIR/t/stack.sh
readonly LOAD=$GT_SRCDIR/t/tools/load.py
readonly POOL=$GT_BINDIR/src/gittinkerer-pool
readonly POOL_SOCK=$GT_STACK_DIR/run/pool.sock
readonly TLS_DIR=$GT_STACK_DIR/nginx-tls
readonly CA=$TLS_DIR/cert.pem
readonly PORT_BASE=${GT_URL##*:}
readonly HTTPS_URL=https://localhost:$((PORT_BASE + 3))
readonly HTTP_URL=http://127.0.0.1:$((PORT_BASE + 4))

# The production site's limits (doc/nginx.md) and what the load case needs.
readonly API_BODY_MAX=65536
readonly API_BURST=20
readonly LOAD_RATE=100000	# /api requests a second: no 429 under load
readonly RELOADS=10
readonly MIN_REQUESTS=200	# fewer means the load did not really run

# Bounds, in seconds, on the waits below.
readonly READY_TIMEOUT=10
readonly HEALTH_TIMEOUT=20
readonly STOP_TIMEOUT=15

TMP=$(mktemp -d "${TMPDIR:-/tmp}/gt-deploy-test.XXXXXX") || exit 1
readonly TMP
passed=0
failed=0
LOAD_PIDS=''	# the load.py processes running, if any
OTHER_POOL=''	# a pool started here, not by t/stack.sh
REASON=''

pass() {
	echo "ok - $1"
	passed=$((passed + 1))
}

fail() {
	local name=$1

	shift
	echo "not ok - $name: $*"
	failed=$((failed + 1))
}

note() {
	echo "# $*"
}

# Runs a t/stack.sh command quietly; its output is shown when it fails.
stack() {
	local cmd=$1

	shift
	if ! bash "$STACK" "$cmd" "$GT_STACK_DIR" "$@" >"$TMP/stack.out" 2>&1; then
		sed 's/^/#   /' "$TMP/stack.out"
		return 1
	fi
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

# ---------------------------------------------------------------------------
# HTTPS requests

# Sends a request over HTTPS; the headers go to $TMP/h, the body to
# $TMP/b, the status to stdout.  The arguments go to curl.
https() {
	curl -s --cacert "$CA" --max-time 10 -D "$TMP/h" -o "$TMP/b" \
	    -w '%{http_code}' "$@"
}

# The value of a header of the last answer, without its CR.
header() {
	awk -v name="$1" 'BEGIN { name = tolower(name) }
		{ sub(/\r$/, "") }
		tolower(substr($0, 1, index($0, ":") - 1)) == name {
			print substr($0, index($0, ":") + 2); exit }' "$TMP/h"
}

# Whether the last answer is the contract's error (spec/api.md, Errors)
# with the code given, as nginx makes it.  Sets REASON.
is_error() {
	local status=$1 code=$2 got=$3 type body

	type=$(header Content-Type)
	body=$(head -c 300 "$TMP/b")
	REASON=''
	if [[ "$got" != "$status" ]]; then
		REASON="status $got, not $status: $body"
	elif [[ "$type" != "application/json; charset=utf-8" ]]; then
		REASON="Content-Type \"$type\": $body"
	elif [[ "$(header Cache-Control)" != no-store ]]; then
		REASON="Cache-Control \"$(header Cache-Control)\""
	elif [[ ! "$(header X-Request-Id)" =~ ^[0-9a-f]{32}$ ]]; then
		REASON="X-Request-Id \"$(header X-Request-Id)\""
	elif ! python3 - "$TMP/b" "$code" <<'EOF'
import json, sys
e = json.load(open(sys.argv[1]))["error"]
assert e["code"] == sys.argv[2] and e["message"], e
assert set(e) == {"code", "message"}, e
EOF
	then
		REASON="the body is not the contract's error $code: $body"
	fi
	[[ -z "$REASON" ]]
}

health_is_200() {
	[[ "$(https "$HTTPS_URL/health")" == 200 ]]
}

# ---------------------------------------------------------------------------
# The cases

case_tls() {
	local name="TLS 1.2 and 1.3 with forward-secret ciphers only"
	local v out

	for v in tls1_2 tls1_3; do
		out=$(echo | timeout 10 openssl s_client -connect \
		    "127.0.0.1:$((PORT_BASE + 3))" -"$v" -CAfile "$CA" \
		    -servername localhost 2>&1)
		if ! grep -q '^New, TLSv1\.[23], Cipher is ECDHE-\|^New, TLSv1\.3,' <<<"$out" ||
		    [[ "$out" != *"Verify return code: 0 (ok)"* ]]; then
			fail "$name" "no verified $v handshake: $(grep -m1 -i -e error -e '^New,' <<<"$out")"
			return
		fi
	done
	# The client allows what the server must refuse: TLS 1.1, and TLS 1.2
	# without forward secrecy or with CBC.
	for v in tls1_1:DEFAULT tls1_2:AES128-GCM-SHA256 \
	    tls1_2:ECDHE-ECDSA-AES128-SHA; do
		out=$(echo | timeout 10 openssl s_client -connect \
		    "127.0.0.1:$((PORT_BASE + 3))" -"${v%%:*}" \
		    -cipher "${v#*:}:@SECLEVEL=0" -CAfile "$CA" 2>&1)
		if ! grep -q '^New, (NONE), Cipher is (NONE)' <<<"$out"; then
			fail "$name" "the server accepted openssl s_client $v"
			return
		fi
	done
	pass "$name"
}

case_health_headers() {
	local name="/health over TLS answers 200 with the security headers and HSTS"
	local code want h

	code=$(https "$HTTPS_URL/health")
	if [[ "$code" != 200 ]]; then
		fail "$name" "status $code: $(head -c 300 "$TMP/b")"
		return
	fi
	for want in \
	    "Strict-Transport-Security=max-age=31536000" \
	    "X-Content-Type-Options=nosniff" \
	    "X-Frame-Options=DENY" \
	    "Referrer-Policy=no-referrer" \
	    "Content-Security-Policy=default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'" \
	    "Cache-Control=no-store" \
	    "Content-Type=application/json; charset=utf-8"; do
		h=${want%%=*}
		if [[ "$(header "$h")" != "${want#*=}" ]]; then
			fail "$name" "$h is \"$(header "$h")\", not \"${want#*=}\""
			return
		fi
	done
	# One X-Request-Id, the worker's, which is nginx's $request_id.
	if [[ "$(grep -ci '^x-request-id:' "$TMP/h")" != 1 ]]; then
		fail "$name" "not exactly one X-Request-Id:" \
		    "$(grep -i '^x-request-id:' "$TMP/h" | tr -d '\r' | tr '\n' ' ')"
	elif ! grep -q "request_id=$(header X-Request-Id) .* uri=\"/health\" status=200 " \
	    "$GT_STACK_DIR/log/gittinkerer-access.log"; then
		fail "$name" "the access log has no line with the request id $(header X-Request-Id)"
	else
		pass "$name"
	fi
}

case_redirect() {
	local name="plain HTTP is redirected (301) to the same path over HTTPS"
	local code location

	code=$(curl -s --max-time 10 -D "$TMP/h" -o /dev/null -w '%{http_code}' \
	    "$HTTP_URL/api/runs?limit=1")
	location=$(header Location)
	if [[ "$code" != 301 ]]; then
		fail "$name" "status $code, not 301"
	elif [[ "$location" != "$HTTPS_URL/api/runs?limit=1" ]]; then
		fail "$name" "Location \"$location\", not $HTTPS_URL/api/runs?limit=1"
	elif [[ "$(https -L "$HTTP_URL/health")" != 200 ]]; then
		fail "$name" "following the redirect of /health did not end in a 200"
	else
		pass "$name"
	fi
}

case_not_served() {
	local name="nginx's 404 (other paths) and 403 (/metrics elsewhere) are JSON"
	local code

	code=$(https "$HTTPS_URL/no-such-page.html")
	if ! is_error 404 not_found "$code"; then
		fail "$name" "/no-such-page.html: $REASON"
		return
	fi
	# Any address in 127.0.0.0/8 is this machine's: from 127.0.0.2, the
	# client is not one /metrics allows.
	code=$(https --interface 127.0.0.2 "$HTTPS_URL/metrics")
	if ! is_error 403 forbidden "$code"; then
		fail "$name" "/metrics from 127.0.0.2: $REASON"
	elif [[ "$(https "$HTTPS_URL/metrics")" != 200 ]]; then
		fail "$name" "/metrics from 127.0.0.1 is not served"
	else
		pass "$name"
	fi
}

case_dashboard() {
	local name="the dashboard is served at / with a policy of its own, and the API keeps the strict one"
	local code csp want h strict

	strict="default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
	code=$(https "$HTTPS_URL/")
	csp=$(header Content-Security-Policy)
	if [[ "$code" != 200 || "$(header Content-Type)" != "text/html; charset=utf-8" ]]; then
		fail "$name" "/: status $code, $(header Content-Type)"
		return
	elif ! grep -q '<script type="module" src="js/main.js"></script>' "$TMP/b"; then
		fail "$name" "/ is not the dashboard's index.html: $(head -c 200 "$TMP/b")"
		return
	fi
	for want in "default-src 'none'" "script-src 'self'" "style-src 'self'" \
	    "connect-src 'self'" "frame-ancestors 'none'" \
	    "require-trusted-types-for 'script'"; do
		if [[ "$csp" != *"$want"* ]]; then
			fail "$name" "the policy lacks $want: $csp"
			return
		fi
	done
	if [[ "$csp" == *unsafe-* ]]; then
		fail "$name" "the policy allows unsafe sources: $csp"
		return
	fi
	for want in "Strict-Transport-Security=max-age=31536000" \
	    "X-Content-Type-Options=nosniff" "X-Frame-Options=DENY" \
	    "Referrer-Policy=no-referrer"; do
		h=${want%%=*}
		if [[ "$(header "$h")" != "${want#*=}" ]]; then
			fail "$name" "/: $h is \"$(header "$h")\", not \"${want#*=}\""
			return
		fi
	done

	code=$(https "$HTTPS_URL/js/main.js")
	if [[ "$code" != 200 || "$(header Content-Type)" != "text/javascript; charset=utf-8" ]]; then
		fail "$name" "/js/main.js: status $code, $(header Content-Type)"
		return
	fi
	# A folder is no page, and nginx's own errors keep the strict policy.
	code=$(https "$HTTPS_URL/js/")
	if ! is_error 404 not_found "$code"; then
		fail "$name" "/js/: $REASON"
	elif [[ "$(header Content-Security-Policy)" != "$strict" ]]; then
		fail "$name" "/js/'s 404 has the policy \"$(header Content-Security-Policy)\""
	elif [[ "$(https "$HTTPS_URL/health")" != 200 ||
	    "$(header Content-Security-Policy)" != "$strict" ]]; then
		fail "$name" "/health's policy is \"$(header Content-Security-Policy)\""
	else
		pass "$name"
	fi
}

case_body_limits() {
	local name="a body over 64 KiB gets nginx's 413 in JSON, but not on the webhook"
	local code v

	head -c $((API_BODY_MAX + 1)) /dev/zero | tr '\0' ' ' >"$TMP/big"
	for v in --http1.1 --http2; do
		code=$(https "$v" -X POST -H 'Content-Type: application/json' \
		    -H "Authorization: Bearer $GT_OPERATOR_TOKEN" \
		    --data-binary @"$TMP/big" "$HTTPS_URL/api/runs")
		if ! is_error 413 payload_too_large "$code"; then
			fail "$name" "POST /api/runs ($v): $REASON"
			return
		fi
	done
	# The webhook takes up to 25 MiB: this body reaches the worker, which
	# refuses it for its missing signature.
	code=$(https -X POST -H 'Content-Type: application/json' \
	    -H 'X-GitHub-Event: issue_comment' -H 'X-GitHub-Delivery: deploy-test' \
	    --data-binary @"$TMP/big" "$HTTPS_URL/api/github/webhook")
	if ! is_error 401 invalid_signature "$code"; then
		fail "$name" "POST /api/github/webhook: $REASON"
	else
		pass "$name"
	fi
}

case_pool_away() {
	local name="with the pool stopped, nginx answers 503 unavailable in JSON"
	local code why='' id

	if ! stack pool-stop; then
		fail "$name" "the pool could not be stopped"
		return
	fi
	code=$(https "$HTTPS_URL/health")
	is_error 503 unavailable "$code" || why=$REASON
	[[ -n "$why" || "$(header Retry-After)" == 1 ]] ||
		why="Retry-After \"$(header Retry-After)\", not 1"
	id=$(header X-Request-Id)
	grep -q "request_id=$id .* status=503 .*upstream_status=502 " \
	    "$GT_STACK_DIR/log/gittinkerer-access.log" ||
		why=${why:-"the access log shows no 502 from the pool for $id"}

	if ! stack pool-start || ! wait_for "$HEALTH_TIMEOUT" health_is_200; then
		why="${why:+$why; }the pool did not come back"
	fi
	if [[ -n "$why" ]]; then
		fail "$name" "$why"
	else
		pass "$name"
	fi
}

case_rate_limit() {
	local name="over the /api rate, nginx answers 429 rate_limited in JSON"
	local urls=() i codes limited attempt

	for ((i = 0; i < API_BURST * 3; i++)); do
		urls+=("$HTTPS_URL/api/runs?limit=1")
	done
	# The request after the burst must come within a tenth of a second
	# (one request at the site's rate) of the burst's last accepted one,
	# or the limit lets it through.  So it goes on the burst's connection
	# (a new TLS handshake could take that long on a slow build), and a
	# loaded machine that still misses the window gets three tries.
	for ((attempt = 0; attempt < 3; attempt++)); do
		curl -s --cacert "$CA" --max-time 30 \
		    -H "Authorization: Bearer $GT_OPERATOR_TOKEN" \
		    -w '\n%{http_code}\n' "${urls[@]}" \
		    --next --cacert "$CA" --max-time 30 \
		    -H "Authorization: Bearer $GT_OPERATOR_TOKEN" \
		    -D "$TMP/h" -o "$TMP/b" -w 'last %{http_code}\n' \
		    "$HTTPS_URL/api/runs?limit=1" >"$TMP/rate" 2>&1
		codes=$(grep -x '[0-9][0-9][0-9]' "$TMP/rate" | sort | uniq -c | tr -s ' \n' ' ')
		limited=$(grep -cx 429 "$TMP/rate")
		note "statuses of $((API_BURST * 3)) requests at once:$codes"
		i=$(sed -n 's/^last //p' "$TMP/rate")
		[[ "$i" == 429 ]] && break
		sleep 3
	done
	if ((limited < API_BURST)); then
		fail "$name" "no 429 among $((API_BURST * 3)) requests: $codes"
	elif ! is_error 429 rate_limited "$i"; then
		fail "$name" "$REASON"
	elif [[ "$(header Retry-After)" != 1 ]]; then
		fail "$name" "Retry-After \"$(header Retry-After)\", not 1"
	else
		pass "$name"
	fi
}

# Creates a run through the TLS site and prints its id.
create_run() {
	local code

	printf '%s' '{"repo": "octo/deploy-test",' \
	    ' "target": {"type": "issue", "number": 1},' \
	    ' "instruction": "deploy test"}' >"$TMP/run.json"
	code=$(https -X POST -H 'Content-Type: application/json' \
	    -H "Authorization: Bearer $GT_OPERATOR_TOKEN" \
	    --data-binary @"$TMP/run.json" "$HTTPS_URL/api/runs")
	[[ "$code" == 201 ]] || { note "POST /api/runs: $code $(head -c 300 "$TMP/b")"; return 1; }
	python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["id"])' \
	    "$TMP/b"
}

# Starts load.py over HTTPS in the background; its summary goes to
# $TMP/NAME.json.  The remaining arguments go to load.py.  nginx closes
# its idle keep-alive connections when it reloads, and a request sent on
# one at that moment meets a closed connection: load.py sends it again,
# as RFC 9112 (section 9.3.1) lets a client do and browsers do, and counts
# it in "retried".  Any answer that is not a 2xx is still a failure.
load_start() {
	local name=$1 pid

	shift
	python3 "$LOAD" --url "https://127.0.0.1:$((PORT_BASE + 3))" \
	    --cacert "$CA" --threads 2 --duration 120 --retry-closed \
	    --ready-file "$TMP/$name.ready" "$@" \
	    >"$TMP/$name.json" 2>"$TMP/$name.err" &
	pid=$!
	LOAD_PIDS="$LOAD_PIDS $pid"
	wait_for "$READY_TIMEOUT" test -e "$TMP/$name.ready"
}

loads_stop() {
	local pid

	for pid in $LOAD_PIDS; do
		kill -TERM "$pid" 2>/dev/null
	done
	for pid in $LOAD_PIDS; do
		wait "$pid" 2>/dev/null
	done
	LOAD_PIDS=''
}

# Whether a load ran across the reloads with every answer a 2xx.  Sets
# REASON.
load_clean() {
	local name=$1

	REASON=$(python3 - "$TMP/$name.json" "$MIN_REQUESTS" 2>&1 <<'EOF'
import json, sys
s = json.loads(open(sys.argv[1]).readline())
print("# %s" % json.dumps(s))
if s["stopped_by"] != "signal" or s["total"] < int(sys.argv[2]):
    print("the load did not run across the reloads (%d requests, stopped by %s)"
          % (s["total"], s["stopped_by"]))
elif s["failed"] or s["ok"] != s["total"]:
    print("%d of %d requests failed: %s" % (s["failed"], s["total"],
                                            json.dumps(s["failures"])))
EOF
	)
	note "$name: $(sed -n '/^# /s/^# //p' <<<"$REASON")"
	REASON=$(grep -v '^# ' <<<"$REASON")
	[[ -z "$REASON" ]]
}

case_reload() {
	local name="nginx -s reload, $RELOADS times under load, fails no request"
	local id i why=''

	# The site's /api rate would refuse the load itself.
	if ! stack nginx-tls-reload --api-rate "$LOAD_RATE" --api-burst 1000; then
		fail "$name" "the TLS nginx could not be reloaded with a higher rate"
		return
	fi
	sleep 1
	if ! id=$(create_run); then
		fail "$name" "no run could be created"
		return
	fi
	if ! load_start health --path /health ||
	    ! load_start run --path "/api/runs/$id" \
	    --header "Authorization: Bearer $GT_OPERATOR_TOKEN"; then
		loads_stop
		fail "$name" "load.py did not start: $(cat "$TMP"/*.err)"
		return
	fi
	sleep 0.5
	for ((i = 0; i < RELOADS; i++)); do
		if ! nginx -q -p "$TLS_DIR/" -c "$TLS_DIR/nginx.conf" -s reload \
		    2>"$TMP/reload.err"; then
			why="nginx -s reload failed: $(tr '\n' ' ' <"$TMP/reload.err")"
			break
		fi
		sleep 0.5
	done
	loads_stop

	if [[ -z "$why" ]] && ! load_clean health; then
		why="/health: $REASON"
	fi
	if [[ -z "$why" ]] && ! load_clean run; then
		why="/api/runs/$id: $REASON"
	fi
	stack nginx-tls-reload || why="${why:+$why; }the site's own rate could not be put back"
	if [[ -n "$why" ]]; then
		fail "$name" "$why"
	else
		pass "$name"
	fi
}

# ---------------------------------------------------------------------------
# The pool started by other programs

# The pids of every process whose command line holds the pool's path and
# the stack's configuration.
pool_processes() {
	local f

	for f in /proc/[0-9]*/cmdline; do
		tr '\0' ' ' 2>/dev/null <"$f" |
			grep -qF -e "$POOL -c $GT_CONFIG" || continue
		f=${f#/proc/}
		echo "${f%/cmdline}"
	done
}

none_left() {
	[[ -z "$(pool_processes)" ]]
}

# Stops the pool started here, its workers with it.  Sets REASON when a
# process is left.
other_pool_stop() {
	local pid=$OTHER_POOL

	REASON=''
	[[ -n "$pid" ]] || return 0
	kill -TERM "$pid" 2>/dev/null
	if ! wait_for "$STOP_TIMEOUT" none_left; then
		REASON="processes left after SIGTERM: $(pool_processes | tr '\n' ' ')"
		for pid in $(pool_processes); do
			kill -KILL "$pid" 2>/dev/null
		done
	fi
	OTHER_POOL=''
	rm -f "$POOL_SOCK"
	[[ -z "$REASON" ]]
}

# The account nginx's workers run as must reach the socket, as the
# socket unit's SocketGroup=www-data allows in production.
socket_group() {
	if ((EUID == 0)); then
		id -gn www-data 2>/dev/null || id -gn nobody
	else
		id -gn
	fi
}

# Runs one way of starting the pool in place of the stack's: start_fn
# starts it and sets OTHER_POOL; then /health must answer through the TLS
# nginx, and once it is stopped, nothing of it may be left.
other_pool_case() {
	local name=$1 start_fn=$2 why=''

	if ! stack pool-stop; then
		fail "$name" "the stack's pool could not be stopped"
		return
	fi
	if ! "$start_fn"; then
		why="it did not start: $(tail -n 5 "$TMP/other.log" | tr '\n' ' ')"
	elif ! wait_for "$HEALTH_TIMEOUT" health_is_200; then
		why="/health answers $(https "$HTTPS_URL/health"): $(head -c 200 "$TMP/b")"
	fi
	other_pool_stop || why="${why:+$why; }$REASON"
	if ! stack pool-start || ! wait_for "$HEALTH_TIMEOUT" health_is_200; then
		why="${why:+$why; }the stack's pool did not come back"
	fi
	if [[ -n "$why" ]]; then
		fail "$name" "$why"
	else
		pass "$name"
	fi
}

# spawn-fcgi binds the socket, hands it over as fd 0 (FastCGI's
# FCGI_LISTENSOCK_FILENO) and exits; the pool runs on.
start_spawn_fcgi() {
	local group

	group=$(socket_group)
	spawn-fcgi -s "$POOL_SOCK" -M 0660 -G "$group" -P "$TMP/spawn.pid" \
	    -- "$POOL" -c "$GT_CONFIG" >"$TMP/other.log" 2>&1 || return 1
	OTHER_POOL=$(cat "$TMP/spawn.pid" 2>/dev/null)
	[[ -n "$OTHER_POOL" ]]
}

# systemd-socket-activate binds the socket and execs the pool with it as
# fd 3 (LISTEN_FDS=1), as the socket unit does; the unit's mode and group
# are given to the socket here.
start_socket_activate() {
	local group i

	group=$(socket_group)
	rm -f "$TMP/activate.pid"
	# shellcheck disable=SC2016 # $$ and $0 are the inner shell's
	setsid bash -c 'echo $$ >"$0" && exec "$@"' "$TMP/activate.pid" \
	    systemd-socket-activate -l "$POOL_SOCK" \
	    "$POOL" -c "$GT_CONFIG" </dev/null >"$TMP/other.log" 2>&1 &
	for ((i = 0; i < 50; i++)); do
		[[ -S "$POOL_SOCK" && -s "$TMP/activate.pid" ]] && break
		sleep 0.1
	done
	OTHER_POOL=$(cat "$TMP/activate.pid" 2>/dev/null)
	[[ -n "$OTHER_POOL" && -S "$POOL_SOCK" ]] || return 1
	chgrp "$group" "$POOL_SOCK" && chmod 0660 "$POOL_SOCK"
}

case_spawn_fcgi() {
	other_pool_case "the pool started by spawn-fcgi answers /health through nginx" \
	    start_spawn_fcgi
}

case_socket_activate() {
	other_pool_case "the pool started by systemd-socket-activate answers /health through nginx" \
	    start_socket_activate
}

# ---------------------------------------------------------------------------

cleanup() {
	loads_stop
	other_pool_stop || echo "# $REASON"
	if ! bash "$STACK" pool-pid "$GT_STACK_DIR" >/dev/null 2>&1; then
		stack pool-start || echo "# the stack's pool could not be started again"
	fi
	stack nginx-tls-stop || echo "# the TLS nginx could not be stopped"
	rm -rf "$TMP"
}

# Pool connections a worker holds open: kept connections once the
# requests are over.
kept_connections() {
	ss -xn state established 2>/dev/null | grep -c -- "$POOL_SOCK"
}

case_keepalive() {
	local name="nginx keeps its connections to the pool between requests"
	local i code n

	for ((i = 0; i < 20; i++)); do
		code=$(https "$HTTPS_URL/health")
		[[ "$code" == 200 ]] || { fail "$name" "status $code"; return; }
	done
	sleep 0.3
	n=$(kept_connections)
	if ((n < 1)); then
		fail "$name" "no connection to the pool is kept"
	else
		note "$n connections kept"
		pass "$name"
	fi
}

# The systemd units as make install writes them, with the programs of
# this build: systemd-analyze verify must find nothing to say.
case_units_verify() {
	local name="systemd-analyze verify passes for every unit" in out
	local dir=$TMP/units

	mkdir -p "$dir"
	cp "$GT_SRCDIR"/systemd/*.socket "$dir/"
	for in in "$GT_SRCDIR"/systemd/*.service.in; do
		out=${in##*/}
		sed -e "s|@bindir@|$GT_BINDIR/src|g" \
		    -e "s|@sysconfdir@|$TMP/etc|g" \
		    -e "s|@docdir@|$GT_SRCDIR|g" \
		    -e "s|@pkgdatadir@|$GT_SRCDIR|g" "$in" >"$dir/${out%.in}"
	done
	if ! out=$(systemd-analyze verify --man=no "$dir"/*.service \
	    "$dir"/*.socket 2>&1) || [[ -n "$out" ]]; then
		fail "$name" "$out"
	else
		pass "$name"
	fi
}

main() {
	local bin

	for bin in openssl spawn-fcgi systemd-socket-activate python3 curl \
	    systemd-analyze; do
		if ! command -v "$bin" >/dev/null; then
			echo "not ok - $bin is installed"
			echo "deploy tests: 0 passed, 1 failed"
			exit 1
		fi
	done
	trap cleanup EXIT
	trap 'exit 1' INT TERM HUP

	if ! stack nginx-tls-start || ! wait_for "$HEALTH_TIMEOUT" health_is_200; then
		fail "the TLS nginx starts" "see above"
		echo "deploy tests: $passed passed, $failed failed"
		exit 1
	fi

	case_tls
	case_health_headers
	case_keepalive
	case_redirect
	case_not_served
	case_dashboard
	case_body_limits
	case_pool_away
	case_spawn_fcgi
	case_socket_activate
	case_rate_limit
	case_reload
	case_units_verify

	echo "deploy tests: $passed passed, $failed failed"
	((failed == 0))
}

main "$@"
