#!/usr/bin/env bash
#
# t/valgrind.sh: every unit test program, and every fuzz replay, under
# valgrind's memcheck (make check-valgrind).
#
#   t/valgrind.sh --srcdir S --builddir B PROGRAM ...
#
# PROGRAMs are paths under B, built beforehand.  Each runs with
# CK_FORK=no, so that Check runs its tests in the one process valgrind
# watches instead of in children it does not follow, and with
# --leak-check=full: an error (an invalid read or write, a use of
# uninitialised memory, a bad free) or a definite or indirect leak fails
# the program.  Memory still reachable at exit (what a library such as
# libcurl or OpenSSL keeps for the process's life, or a test's fixture
# held by a static pointer) is not a leak and does not fail it; possible
# leaks (pointers into a block's middle) are shown in the log but do not
# fail either.  A test case tagged no_valgrind is left out (see below).
# Each program's valgrind output is in
# B/t/valgrind.d/NAME.log.
#
# Exit status: 0 when every program passed, 1 otherwise.

set -uo pipefail

readonly ERROR_EXIT=97		# what valgrind exits with on an error

say() { printf 'valgrind: %s\n' "$*"; }

srcdir=
builddir=
programs=()
while (($#)); do
	case "$1" in
	--srcdir) srcdir=${2:-}; shift ;;
	--builddir) builddir=${2:-}; shift ;;
	*) programs+=("$1") ;;
	esac
	shift
done
if [[ -z "$srcdir" || -z "$builddir" ]] || ((${#programs[@]} == 0)); then
	echo "usage: t/valgrind.sh --srcdir S --builddir B PROGRAM ..." >&2
	exit 2
fi
command -v valgrind >/dev/null || { say "valgrind is not installed"; exit 1; }
srcdir=$(cd "$srcdir" && pwd -P)
builddir=$(cd "$builddir" && pwd -P)
logs=$builddir/t/valgrind.d
rm -rf "$logs"
mkdir -p "$logs"

# A test case tagged no_valgrind is left out here: it does what valgrind
# forbids (changing the descriptors' hard limit, in the spawner's test),
# or bounds delays in milliseconds that valgrind's slower fork and exec
# exceed (the supervisor's backoff).
export CK_FORK=no CK_EXCLUDE_TAGS=no_valgrind
export GT_SRCDIR=$srcdir GT_BUILDDIR=$builddir
passed=0
failed=0
start=$SECONDS
for prog in "${programs[@]}"; do
	name=$(basename "$prog")
	dir=$(basename "$(dirname "$prog")")
	log=$logs/$dir-$name.log
	t0=$SECONDS
	valgrind --tool=memcheck --leak-check=full \
	    --show-leak-kinds=definite,indirect,possible \
	    --errors-for-leak-kinds=definite,indirect \
	    --error-exitcode="$ERROR_EXIT" --num-callers=30 \
	    --log-file="$log" "$builddir/$prog" >"$log.out" 2>&1
	rc=$?
	errors=$(sed -n 's/.*ERROR SUMMARY: \([0-9]*\) errors.*/\1/p' "$log" | tail -n 1)
	if ((rc == 0)) && [[ "$errors" == 0 ]]; then
		passed=$((passed + 1))
		say "PASS: $prog ($((SECONDS - t0))s)"
	else
		failed=$((failed + 1))
		say "FAIL: $prog (exit status $rc, ${errors:-?} errors, $((SECONDS - t0))s); its output and valgrind's:"
		tail -n 20 "$log.out" | sed 's/^/    /'
		grep -E '^==[0-9]+== ' "$log" | head -n 80 | sed 's/^/    /'
	fi
done
say "$passed passed, $failed failed in $((SECONDS - start))s; logs in $logs"
((failed == 0))
