#!/usr/bin/env bash
#
# t/e2e/sentry.sh: error reports to Sentry, end to end, against
# t/tools/fake_sentry.py.  The pool is restarted with a DSN naming the
# fake (GITTINKERER_SENTRY_DSN), then:
#
#   - an internal error (a table the route needs is renamed away for the
#     moment) is answered 500 and produces exactly one envelope, with the
#     request's id and route and none of the request's secrets or body;
#   - with the fake Sentry hanging, the 500 still comes at once;
#   - a worker killed outright produces one envelope from the pool.
#
# Run by t/stack-tests.sh with the stack's env file exported; the pool is
# restarted without the DSN on any exit.  The last line is "sentry tests:
# N passed, N failed".

set -u -o pipefail

: "${GT_URL:?}" "${GT_STACK_DIR:?}" "${GT_SRCDIR:?}" "${GT_OPERATOR_TOKEN:?}"
: "${GT_DATABASE_URL:?}" "${GT_WEBHOOK_SECRET:?}"

readonly STACK=$GT_SRCDIR/t/stack.sh
TMP=$(mktemp -d)
readonly TMP
readonly MARK="instruction-marker-$$"

passed=0
failed=0
fake_pid=''

pass() { echo "ok - $1"; passed=$((passed + 1)); }
fail() { echo "not ok - $1: $2"; failed=$((failed + 1)); }

psql_do() {
	psql -X -A -t -q "$GT_DATABASE_URL" -c "$1"
}

restore() {
	psql_do "ALTER TABLE IF EXISTS rate_limits_away RENAME TO rate_limits" \
	    2>/dev/null
	unset GITTINKERER_SENTRY_DSN GITTINKERER_SENTRY_TIMEOUT_MS
	bash "$STACK" pool-stop "$GT_STACK_DIR" >/dev/null 2>&1
	bash "$STACK" pool-start "$GT_STACK_DIR" >/dev/null 2>&1
	[[ -n "$fake_pid" ]] && kill "$fake_pid" 2>/dev/null
	rm -rf "$TMP"
}
trap restore EXIT

start_fake() {
	local i

	mkdir -p "$TMP/fake"
	python3 "$GT_SRCDIR/t/tools/fake_sentry.py" --port 0 \
	    --state-dir "$TMP/fake" >"$TMP/fake.log" 2>&1 &
	fake_pid=$!
	for ((i = 0; i < 100; i++)); do
		[[ -s "$TMP/fake/port" ]] && break
		sleep 0.1
	done
	[[ -s "$TMP/fake/port" ]] || return 1
	FAKE=127.0.0.1:$(cat "$TMP/fake/port")
	touch "$TMP/fake/envelopes.jsonl"
}

envelopes() {
	grep -c . "$TMP/fake/envelopes.jsonl"
}

# Waits up to timeout seconds for at least n envelopes.
wait_envelopes() {
	local n=$1 timeout=$2 i

	for ((i = 0; i < timeout * 10; i++)); do
		(($(envelopes) >= n)) && return 0
		sleep 0.1
	done
	return 1
}

# Creates a run while rate_limits is away: prints "status ms request-id".
broken_create() {
	local out

	psql_do "ALTER TABLE rate_limits RENAME TO rate_limits_away"
	out=$(curl -s -o "$TMP/answer.json" -D "$TMP/headers.txt" \
	    -w '%{http_code} %{time_total}' -X POST \
	    -H "Authorization: Bearer $GT_OPERATOR_TOKEN" \
	    -H "X-Hub-Signature-256: sha256=$GT_WEBHOOK_SECRET" \
	    -H 'Content-Type: application/json' \
	    -d "{\"repo\": \"sentry$$/widgets\", \"target\": {\"type\": \"issue\", \"number\": 1}, \"instruction\": \"$MARK\"}" \
	    "$GT_URL/api/runs")
	psql_do "ALTER TABLE rate_limits_away RENAME TO rate_limits"
	printf '%s %s\n' "$out" "$(tr -d '\r' <"$TMP/headers.txt" |
	    sed -n 's/^[Xx]-[Rr]equest-[Ii]d: //p')"
}

case_internal_error() {
	local name="an internal error sends one envelope, without secrets"
	local status secs id text

	read -r status secs id < <(broken_create)
	if [[ "$status" != 500 ]] || ! grep -q '"code":"internal"' "$TMP/answer.json"; then
		fail "$name" "answer $status: $(cat "$TMP/answer.json")"
		return
	fi
	if ! wait_envelopes 1 5; then
		fail "$name" "no envelope came"
		return
	fi
	sleep 1
	text=$(cat "$TMP/fake/envelopes.jsonl")
	if (($(envelopes) != 1)); then
		fail "$name" "$(envelopes) envelopes"
	elif [[ "$text" != *"$id"* || "$text" != *runs.create* ]]; then
		fail "$name" "the envelope lacks the request id $id or the route"
	elif [[ "$text" == *"$GT_OPERATOR_TOKEN"* || "$text" == *"$GT_WEBHOOK_SECRET"* ||
	    "$text" == *"$MARK"* ]]; then
		fail "$name" "the envelope holds a token, the secret or the body"
	else
		pass "$name"
	fi
}

case_hanging_sentry() {
	local name="a hanging Sentry does not slow the answer"
	local status secs id before

	curl -s -o /dev/null -X POST -d '{"delay": 10}' "http://$FAKE/_control"
	before=$(envelopes)
	read -r status secs id < <(broken_create)
	curl -s -o /dev/null -X POST -d '{"delay": 0}' "http://$FAKE/_control"
	if [[ "$status" != 500 ]]; then
		fail "$name" "answer $status"
	elif ! awk -v s="$secs" 'BEGIN { exit !(s < 1.0) }'; then
		fail "$name" "answered in $secs s"
	elif ! wait_envelopes $((before + 1)) 5; then
		fail "$name" "the report was not even tried"
	else
		echo "# answered in $secs s"
		pass "$name"
	fi
}

case_worker_killed() {
	local name="a worker killed outright sends one envelope"
	local sup worker before

	sleep 1.5		# the hanging report has given up
	before=$(envelopes)
	sup=$(bash "$STACK" pool-pid "$GT_STACK_DIR")
	worker=$(pgrep -P "$sup" | head -n 1)
	[[ -n "$worker" ]] || { fail "$name" "no worker found"; return; }
	kill -9 "$worker"
	if ! wait_envelopes $((before + 1)) 5; then
		fail "$name" "no envelope came"
		return
	fi
	sleep 1
	if (($(envelopes) != before + 1)); then
		fail "$name" "$(($(envelopes) - before)) envelopes"
	elif ! tail -n 1 "$TMP/fake/envelopes.jsonl" | grep -q "$worker"; then
		fail "$name" "the envelope does not name worker $worker"
	else
		pass "$name"
	fi
}

main() {
	start_fake || { fail "setup" "the fake Sentry did not start"; exit 1; }
	export GITTINKERER_SENTRY_DSN="http://testkey$$@$FAKE/42"
	export GITTINKERER_SENTRY_TIMEOUT_MS=1000
	bash "$STACK" pool-stop "$GT_STACK_DIR" >/dev/null 2>&1
	bash "$STACK" pool-start "$GT_STACK_DIR" >/dev/null 2>&1 ||
		{ fail "setup" "the pool did not restart"; exit 1; }
	case_internal_error
	case_hanging_sentry
	case_worker_killed
	echo "sentry tests: $passed passed, $failed failed"
	((failed == 0))
}

main
