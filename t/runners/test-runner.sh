#!/bin/sh
#
# t/runners/test-runner.sh: a runner for the dispatcher's tests.
#
# The dispatcher starts it as it starts the real runner: argv[1] is the
# payload, the environment holds only the contract's variables.  What it
# does is chosen by the first word of the run's instruction:
#
#   succeed        log a line, write summary.txt and a result.json (and
#                  gh_token.txt, the first characters of GH_TOKEN, when it
#                  is set), exit 0
#   fail           log a line, exit 3
#   hang           sleep until killed (the run times out)
#   ignore-term    ignore SIGTERM and sleep (SIGKILL ends it)
#   flood N        write N bytes of output, exit 0 (the log is capped)
#   bad-result     write a malformed result.json, exit 0
#   grandchild     leave a process in its group and one in a session of
#                  its own, recording their pids in pids.txt, exit 0
#   count FILE     append the run id to FILE, sleep a little, exit 0
#   steps N        log a line every 0.3 s, N lines in all, then write
#                  summary.txt and result.json and exit 0 (a run that can
#                  be watched running, for the dashboard's tests)
#
# Every process it makes writes its pid to pids.txt in the run's folder,
# so a test can check that none is left once the run has ended.

set -u
payload=$1
dir=$GITTINKERER_ARTIFACTS_DIR
echo $$ >>"$dir/pids.txt"

# The instruction, as the service writes it: "instruction":"...".
what=$(sed -n 's/.*"instruction":"\([^"]*\)".*/\1/p' "$payload")
arg=${what#* }

echo "test runner: run $GITTINKERER_RUN_ID: $what"
case "$what" in
succeed)
	printf 'all done\n' >"$dir/summary.txt"
	# Whether a GitHub token came, by its first four characters only.
	if [ -n "${GH_TOKEN:-}" ]; then
		printf '%.4s' "$GH_TOKEN" >"$dir/gh_token.txt"
	fi
	printf '{"summary": "done", "pr_url": "https://github.com/o/r/pull/1", "metrics": {"tokens_in": 5, "tokens_out": 7, "cost_usd": 0.25, "files_changed": 2}}' \
	    >"$dir/result.json"
	exit 0
	;;
fail)
	echo "test runner: failing on purpose" >&2
	exit 3
	;;
hang)
	exec sleep 600
	;;
ignore-term)
	trap '' TERM
	while :; do
		sleep 1
	done
	;;
flood\ *)
	head -c "$arg" /dev/zero | tr '\0' 'x'
	exit 0
	;;
bad-result)
	printf '{"summary": 12' >"$dir/result.json"
	exit 0
	;;
grandchild)
	sleep 600 &
	echo $! >>"$dir/pids.txt"
	setsid sh -c 'echo $$ >>"$1/pids.txt"; exec sleep 600' sh "$dir" &
	sleep 0.5
	exit 0
	;;
count\ *)
	echo "$GITTINKERER_RUN_ID" >>"$arg"
	sleep 0.05
	exit 0
	;;
steps\ *)
	i=1
	while [ "$i" -le "$arg" ]; do
		echo "test runner: step $i of $arg"
		sleep 0.3
		i=$((i + 1))
	done
	printf '%s steps done\n' "$arg" >"$dir/summary.txt"
	printf '{"summary": "%s steps done", "pr_url": "https://github.com/o/r/pull/2", "commit_sha": "0123456789abcdef0123456789abcdef01234567"}' \
	    "$arg" >"$dir/result.json"
	exit 0
	;;
*)
	echo "test runner: unknown instruction: $what" >&2
	exit 64
	;;
esac
