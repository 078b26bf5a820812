#!/usr/bin/env bash
#
# t/e2e/browser.sh: the dashboard's browser tests (t/browser/), with
# Debian's Chromium driven headless by playwright-core.
#
# playwright-core, pinned in t/browser/package-lock.json, is installed with
# `npm ci` into the build folder's t/browser/ (the source folder may be
# read-only, as under make distcheck), once per version.  The tests start
# and stop a dispatcher named "ui" running t/runners/test-runner.sh; this
# script stops it on any exit.  Screenshots go to t/browser/shots/ in the
# build folder.
#
# Run by t/stack-tests.sh with the stack's env file exported.  The output
# is dashboard.mjs's: "ok - name" or "not ok - name: why" per test, and
# "browser tests: N passed, N failed" last.

set -u -o pipefail

: "${GT_URL:?}" "${GT_STACK_DIR:?}" "${GT_SRCDIR:?}" "${GT_BUILDDIR:?}"
: "${GT_OPERATOR_TOKEN:?}" "${GT_ADMIN_TOKEN:?}"

readonly CHROMIUM=${GT_CHROMIUM:-/usr/bin/chromium}
readonly MODULES=$GT_BUILDDIR/t/browser
readonly LOCK=$GT_SRCDIR/t/browser/package-lock.json

say() { echo "# $*"; }
die() { echo "not ok - the browser tests could not start: $*"; echo "browser tests: 0 passed, 1 failed"; exit 1; }

# The version the lock file pins, and the one installed, if any.
pinned() {
	node -e 'console.log(require(process.argv[1]).packages["node_modules/playwright-core"].version)' "$LOCK"
}
installed() {
	node -e 'console.log(require(process.argv[1]).version)' \
	    "$MODULES/node_modules/playwright-core/package.json" 2>/dev/null
}

command -v node >/dev/null || die "node is not installed (./dev installs it)"
command -v npm >/dev/null || die "npm is not installed (./dev installs it)"
[[ -x "$CHROMIUM" ]] || die "$CHROMIUM is missing (./dev installs Debian's chromium)"

want=$(pinned) || die "cannot read $LOCK"
if [[ "$(installed)" != "$want" ]]; then
	say "npm ci: playwright-core $want into $MODULES"
	mkdir -p "$MODULES"
	if [[ "$MODULES" != "$GT_SRCDIR/t/browser" ]]; then
		cp "$GT_SRCDIR/t/browser/package.json" "$LOCK" "$MODULES/"
	fi
	(cd "$MODULES" && npm ci --no-audit --no-fund --loglevel=error) ||
		die "npm ci failed in $MODULES"
fi

# The dispatcher the tests start: the test runner, and short times.
export GITTINKERER_RUNNER_PATH=$GT_SRCDIR/t/runners/test-runner.sh
export GITTINKERER_POLL_INTERVAL=1
export GITTINKERER_HEARTBEAT_INTERVAL=1
export GITTINKERER_LEASE=6
export GITTINKERER_RUN_GRACE=2
export GITTINKERER_RUN_TIMEOUT=20
export GITTINKERER_DISPATCHER_SLOTS=4

export GT_BROWSER_MODULES=$MODULES
export GT_BROWSER_SHOTS=$GT_BUILDDIR/t/browser/shots
export GT_CHROMIUM=$CHROMIUM

trap 'bash "$GT_SRCDIR/t/stack.sh" dispatcher-stop "$GT_STACK_DIR" ui >/dev/null 2>&1' EXIT
rm -rf "$GT_BROWSER_SHOTS"
node "$GT_SRCDIR/t/browser/dashboard.mjs"
