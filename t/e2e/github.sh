#!/usr/bin/env bash
#
# t/e2e/github.sh: what the service does on GitHub, end to end, against
# t/tools/fake_github.py.  Webhook deliveries are posted through nginx;
# gittinkerer-github (and, for a run's outcome, a dispatcher) are
# started with t/stack.sh, configured for the fake through GITTINKERER_*
# variables:
#
#   - an accepted comment gets its 👀 reaction, once, as the installation;
#   - a 403 with x-ratelimit-remaining 0: the comment (a reply to a
#     comment refused for a pause) is posted once, after the reset, and
#     nothing is asked of GitHub before it;
#   - 5xx answers are retried until one succeeds; a 422 fails the item
#     for good after one attempt;
#   - a run on a pull request gets the pull request's branches and a token,
#     and its outcome is posted as a comment when it finishes;
#   - a delivery answered 503 while PostgreSQL was down is redelivered by
#     the reconciler, once, and makes exactly one run;
#   - the webhook answers at once while GitHub hangs.
#
# Run by t/stack-tests.sh with the stack's env file exported.  Each case
# prints "ok - name" or "not ok - name: why"; the last line is "github
# tests: N passed, N failed".  The daemons and the fake are stopped on
# any exit.

set -u -o pipefail

: "${GT_URL:?}" "${GT_STACK_DIR:?}" "${GT_SRCDIR:?}" "${GT_OPERATOR_TOKEN:?}"
: "${GT_DATABASE_URL:?}" "${GT_WEBHOOK_SECRET:?}" "${GT_REDIS:?}"

readonly STACK=$GT_SRCDIR/t/stack.sh
readonly FIXTURES=$GT_SRCDIR/t/fixtures/github/webhook
readonly RUNNER=$GT_SRCDIR/t/runners/test-runner.sh
readonly ARTIFACTS=$GT_STACK_DIR/artifacts
TMP=$(mktemp -d)
readonly TMP
readonly APP_ID=912345

passed=0
failed=0
owner="gh$$"
fake_pid=''
serial=0

pass() { echo "ok - $1"; passed=$((passed + 1)); }
fail() { echo "not ok - $1: $2"; failed=$((failed + 1)); }

stack() {
	bash "$STACK" "$1" "$GT_STACK_DIR" "${@:2}" >/dev/null \
	    2>"$TMP/stack.err" || { sed 's/^/#   /' "$TMP/stack.err"; return 1; }
}

cleanup() {
	bash "$STACK" github-stop "$GT_STACK_DIR" github >/dev/null 2>&1
	bash "$STACK" dispatcher-stop "$GT_STACK_DIR" d-gh >/dev/null 2>&1
	[[ -n "$fake_pid" ]] && kill "$fake_pid" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT

psql_value() {
	psql -X -A -t "$GT_DATABASE_URL" -c "$1"
}

# ---------------------------------------------------------------------------
# The fake GitHub

start_fake() {
	local i

	mkdir -p "$TMP/fake"
	python3 "$GT_SRCDIR/t/tools/fake_github.py" --port 0 \
	    --state-dir "$TMP/fake" --app-id "$APP_ID" \
	    >"$TMP/fake.log" 2>&1 &
	fake_pid=$!
	for ((i = 0; i < 100; i++)); do
		[[ -s "$TMP/fake/port" ]] && break
		sleep 0.1
	done
	[[ -s "$TMP/fake/port" ]] || return 1
	FAKE=http://127.0.0.1:$(cat "$TMP/fake/port")
	touch "$TMP/fake/requests.jsonl"
}

control() {
	curl -s -f -o /dev/null -X POST -H 'Content-Type: application/json' \
	    -d "$1" "$FAKE/_control"
}

# Prints "time method path status-or-empty" for each request the fake
# recorded whose path starts with prefix, in order.
requests() {
	python3 - "$TMP/fake/requests.jsonl" "${1:-/}" <<'EOF'
import json, sys
for line in open(sys.argv[1], encoding="utf-8"):
    r = json.loads(line)
    if r["path"].startswith(sys.argv[2]):
        print("%.3f %s %s %s" % (r["time"], r["method"], r["path"],
                                 r.get("status", "")))
EOF
}

count_requests() {
	requests "$2" | awk -v m="$1" '$2 == m' | wc -l
}

# Waits up to timeout seconds for a request of method to path.
wait_request() {
	local method=$1 path=$2 timeout=$3 i

	for ((i = 0; i < timeout * 10; i++)); do
		(($(count_requests "$method" "$path") > 0)) && return 0
		sleep 0.1
	done
	return 1
}

# ---------------------------------------------------------------------------
# Deliveries

# Writes the fixture made unique to $TMP/body.json: repository
# $owner/repo, comment id, and, when given, the comment's body.
make_payload() {
	python3 - "$FIXTURES/$1" "$owner/$2" "$3" "${4-}" >"$TMP/body.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1], encoding="utf-8"))
d["repository"]["full_name"] = sys.argv[2]
d["repository"]["name"] = sys.argv[2].split("/")[1]
d["comment"]["id"] = int(sys.argv[3])
if sys.argv[4]:
    d["comment"]["body"] = sys.argv[4]
sys.stdout.write(json.dumps(d))
EOF
}

# Posts $TMP/body.json as event with delivery id; prints "status body".
post() {
	local sig

	sig=$(openssl dgst -sha256 -hmac "$GT_WEBHOOK_SECRET" <"$TMP/body.json" |
	    sed 's/.*= //')
	curl -s -o "$TMP/answer.json" -w '%{http_code}' -X POST \
	    -H "X-GitHub-Event: $1" -H "X-GitHub-Delivery: $2" \
	    -H "X-Hub-Signature-256: sha256=$sig" \
	    -H 'Content-Type: application/json' \
	    --data-binary @"$TMP/body.json" "$GT_URL/api/github/webhook"
	printf ' %s\n' "$(cat "$TMP/answer.json")"
}

# Sets cid to a comment id of its own for each delivery (not in a
# subshell, which would lose the count).
next_id() {
	serial=$((serial + 1))
	cid=$((700000000 + $$ * 100 + serial))
}

# Waits for the outbox row of kind for the comment or run to leave
# pending; prints its status and attempts.
wait_outbox() {
	local where=$1 timeout=$2 i row

	for ((i = 0; i < timeout * 10; i++)); do
		row=$(psql_value "SELECT status || ' ' || attempts FROM github_outbox WHERE $where")
		[[ -n "$row" && "$row" != pending* ]] && break
		sleep 0.1
	done
	printf '%s\n' "$row"
}

# ---------------------------------------------------------------------------
# Cases

case_reaction() {
	local name="an accepted comment gets one eyes reaction" cid answer row

	next_id
	make_payload issue_comment.created.issue.json react "$cid"
	answer=$(post issue_comment "d-$cid")
	[[ "$answer" == 202* ]] || { fail "$name" "webhook: $answer"; return; }
	row=$(wait_outbox "kind = 'reaction' AND payload->>'comment_id' = '$cid'" 10)
	sleep 1
	if [[ "$row" != "sent 1" ]]; then
		fail "$name" "outbox row: '$row'"
	elif (($(count_requests POST "/repos/$owner/react/issues/comments/$cid/reactions") != 1)); then
		fail "$name" "$(requests "/repos/$owner/react/")"
	elif ! grep -q "\"authorization\": \"token ghs_" "$TMP/fake/requests.jsonl" ||
	    ! grep -q '"body": "{\\"content\\":\\"eyes\\"}"' "$TMP/fake/requests.jsonl"; then
		fail "$name" "the reaction was not sent as the installation with content eyes"
	else
		pass "$name"
	fi
}

# The reply to a comment refused for a pause meets GitHub's rate limit.
case_rate_limit() {
	local name="a rate-limited comment is posted once, after the reset"
	local cid reset row limited after answer

	psql_value "INSERT INTO paused_repos (repo_key, repo) VALUES ('$owner/limited', '$owner/limited')" >/dev/null
	reset=$(($(date +%s) + 4))
	control "{\"fault\": {\"count\": 1, \"prefix\": \"/repos/$owner/limited/\", \"mode\": \"rate_limit\", \"reset\": $reset}}"
	next_id
	make_payload issue_comment.created.issue.json limited "$cid"
	answer=$(post issue_comment "d-$cid")
	[[ "$answer" == *repo_paused* ]] || { fail "$name" "webhook: $answer"; return; }
	row=$(wait_outbox "kind = 'reply' AND payload->>'comment_id' = '$cid'" 15)
	limited=$(requests "/repos/$owner/limited/" | head -n 1 | cut -d' ' -f1)
	# Every request to GitHub after the refused one, repository or token.
	after=$(requests / | awk -v t="$limited" -v r="$reset" \
	    '$1 > t && $1 < r - 0.05 && $3 !~ /^\/app\/hook\//')
	if [[ "$row" != "sent 1" ]]; then
		fail "$name" "outbox row: '$row'"
	elif (($(count_requests POST "/repos/$owner/limited/issues/42/comments") != 2)); then
		fail "$name" "not one refused and one sent: $(requests "/repos/$owner/limited/")"
	elif [[ -n "$after" ]]; then
		fail "$name" "requests before the reset ($reset): $after"
	else
		pass "$name"
	fi
}

case_retries() {
	local name="5xx answers are retried until one succeeds" cid row

	control "{\"fault\": {\"count\": 2, \"prefix\": \"/repos/$owner/flaky/\", \"mode\": \"error\", \"status\": 502}}"
	next_id
	make_payload issue_comment.created.issue.json flaky "$cid"
	post issue_comment "d-$cid" >/dev/null
	row=$(wait_outbox "kind = 'reaction' AND payload->>'comment_id' = '$cid'" 20)
	if [[ "$row" != "sent 3" ]]; then
		fail "$name" "outbox row: '$row'"
	else
		pass "$name"
	fi

	name="a 422 fails the item after one attempt, with its error kept"
	control "{\"fault\": {\"count\": 1, \"prefix\": \"/repos/$owner/refused/\", \"mode\": \"error\", \"status\": 422}}"
	next_id
	make_payload issue_comment.created.issue.json refused "$cid"
	post issue_comment "d-$cid" >/dev/null
	row=$(wait_outbox "kind = 'reaction' AND payload->>'comment_id' = '$cid'" 10)
	if [[ "$row" != "failed 1" ]]; then
		fail "$name" "outbox row: '$row'"
	elif [[ -z "$(psql_value "SELECT last_error FROM github_outbox WHERE payload->>'comment_id' = '$cid'")" ]] ||
	    ! grep -q 'event=outbox_failed' "$GT_STACK_DIR/log/github.log"; then
		fail "$name" "no error kept or logged"
	else
		pass "$name"
	fi
}

case_outcome() {
	local name="a pull request's run gets its branches, a token, and an outcome comment"
	local cid answer id i status pay

	export GITTINKERER_RUNNER_PATH=$RUNNER
	stack dispatcher-start d-gh || { fail "$name" "no dispatcher"; return; }
	next_id
	make_payload issue_comment.created.pull_request.json outcome "$cid" \
	    "/gittinkerer succeed"
	answer=$(post issue_comment "d-$cid")
	id=$(sed -n 's/.*"run_id":"\([0-9a-f-]*\)".*/\1/p' <<<"$answer")
	[[ -n "$id" ]] || { fail "$name" "webhook: $answer"; return; }
	# Runs other tests left queued go first; they end at once.
	for ((i = 0; i < 600; i++)); do
		status=$(psql_value "SELECT status FROM runs WHERE id = '$id'")
		[[ "$status" == succeeded || "$status" == failed ]] && break
		sleep 0.1
	done
	pay=$ARTIFACTS/$id/payload.json
	if [[ "$status" != succeeded ]]; then
		fail "$name" "run $status: $(psql_value "SELECT error_message FROM runs WHERE id = '$id'")"
	elif ! grep -q '"head_ref":"fix/date-parser-leap-year"' "$pay" ||
	    ! grep -q '"installation_id":51234567' "$pay"; then
		fail "$name" "payload: $(cat "$pay")"
	elif [[ "$(cat "$ARTIFACTS/$id/gh_token.txt" 2>/dev/null)" != ghs_* ]]; then
		fail "$name" "the runner had no GH_TOKEN"
	elif ! wait_request POST "/repos/$owner/outcome/issues/57/comments" 10; then
		fail "$name" "no outcome comment: $(requests "/repos/$owner/outcome/")"
	elif ! grep "/repos/$owner/outcome/issues/57/comments" "$TMP/fake/requests.jsonl" |
	    grep -q 'https://github.com/o/r/pull/1'; then
		fail "$name" "the comment lacks the pull request link"
	else
		pass "$name"
	fi
	stack dispatcher-stop d-gh
}

case_redelivery() {
	local name="a delivery lost while PostgreSQL was down is redelivered once"
	local cid guid answer now runs

	next_id
	guid=$(cat /proc/sys/kernel/random/uuid)
	make_payload issue_comment.created.issue.json lost "$cid"
	stack pg-stop || { fail "$name" "PostgreSQL did not stop"; return; }
	answer=$(post issue_comment "$guid")
	stack pg-start || { fail "$name" "PostgreSQL did not start"; return; }
	if [[ "$answer" != 503* ]]; then
		fail "$name" "while PostgreSQL was down: $answer"
		return
	fi

	now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
	python3 - "$TMP/body.json" "$guid" "$now" >"$TMP/deliveries.json" <<'EOF'
import json, sys
body = open(sys.argv[1], encoding="utf-8").read()
print(json.dumps({"deliveries": [{
    "id": 990000001, "guid": sys.argv[2], "delivered_at": sys.argv[3],
    "redelivery": False, "status": "Service Unavailable",
    "status_code": 503, "event": "issue_comment", "action": "created",
    "_payload": body}]}))
EOF
	control "$(cat "$TMP/deliveries.json")"
	control "{\"hook\": {\"url\": \"$GT_URL/api/github/webhook\", \"secret\": \"$GT_WEBHOOK_SECRET\"}}"
	if ! wait_request DELIVER "$GT_URL" 20; then
		fail "$name" "not redelivered: $(requests /app/hook/)"
		return
	fi
	sleep 3		# more looks of the reconciler
	runs=$(psql_value "SELECT count(*) FROM runs WHERE comment_id = $cid")
	if [[ "$runs" != 1 ]]; then
		fail "$name" "$runs runs for the comment"
	elif (($(count_requests POST /app/hook/deliveries/990000001/attempts) != 1)); then
		fail "$name" "asked $(count_requests POST /app/hook/deliveries/990000001/attempts) times"
	elif [[ "$(psql_value "SELECT count(*) FROM webhook_redeliveries WHERE guid = '$guid'")" != 1 ]]; then
		fail "$name" "the redelivery was not recorded"
	else
		pass "$name"
	fi
}

case_hanging_github() {
	local name="the webhook answers at once while GitHub hangs"
	local cid start ms answer

	control '{"fault": {"count": 1000, "prefix": "/", "mode": "slow", "seconds": 20}}'
	next_id
	make_payload issue_comment.created.issue.json hang "$cid"
	start=$(date +%s%N)
	answer=$(post issue_comment "d-$cid")
	ms=$((($(date +%s%N) - start) / 1000000))
	control '{"reset": true}'
	if [[ "$answer" != 202* ]]; then
		fail "$name" "$answer"
	elif ((ms >= 1000)); then
		fail "$name" "answered in $ms ms"
	else
		echo "# answered in $ms ms"
		pass "$name"
	fi
}

# The daemon with the fake's settings; interval is the reconciler's.
start_github() {
	export GITTINKERER_REDELIVERY_INTERVAL=$1
	stack github-stop github
	stack github-start github
}

main() {
	openssl genrsa -out "$TMP/key.pem" 2048 2>/dev/null ||
		{ fail "setup" "openssl genrsa failed"; exit 1; }
	start_fake || { fail "setup" "the fake GitHub did not start"; exit 1; }
	# Tokens an earlier fake issued are unknown to this one.
	redis-cli -h "${GT_REDIS%:*}" -p "${GT_REDIS##*:}" --scan \
	    --pattern 'gt:ghtoken:*' | while read -r key; do
		redis-cli -h "${GT_REDIS%:*}" -p "${GT_REDIS##*:}" DEL "$key" \
		    >/dev/null
	done
	export GITTINKERER_GITHUB_APP_ID=$APP_ID
	export GITTINKERER_GITHUB_API_URL=$FAKE
	export GITTINKERER_GITHUB_PRIVATE_KEY_FILE=$TMP/key.pem
	export GITTINKERER_GITHUB_TIMEOUT_MS=2000
	export GITTINKERER_OUTBOX_POLL_INTERVAL=1
	export GITTINKERER_OUTBOX_BACKOFF=1
	export GITTINKERER_OUTBOX_MAX_ATTEMPTS=4

	# The reconciler asks GitHub every second; it stays off while the
	# rate limit case counts requests.
	start_github 0 || { fail "setup" "gittinkerer-github did not start"; exit 1; }
	case_reaction
	case_rate_limit
	case_retries
	case_outcome
	start_github 1 || { fail "setup" "gittinkerer-github did not restart"; exit 1; }
	case_redelivery
	case_hanging_github
	echo "github tests: $passed passed, $failed failed"
	((failed == 0))
}

main
