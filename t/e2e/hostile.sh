#!/usr/bin/env bash
#
# t/e2e/hostile.sh: hostile input through nginx (t/e2e/hostile.py), run by
# t/stack-tests.sh with the stack's env file exported.
#
# The script holds 10 000 connections open at once (GT_HOSTILE_SLOW), so
# it needs as many open files: the soft limit is raised to the hard one
# here, and the script raises the hard one itself when it may.  The
# production site (nginx-tls-start) is started and stopped by the script;
# everything else is left as it was found.

set -u -o pipefail

: "${GT_SRCDIR:?GT_SRCDIR must name the source folder}"

ulimit -S -n "$(ulimit -H -n)" 2>/dev/null || true
exec python3 "$GT_SRCDIR/t/e2e/hostile.py"
