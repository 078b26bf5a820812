#!/usr/bin/env bash
#
# t/fuzz/run.sh: builds the fuzz harnesses with clang and libFuzzer and runs
# each for a bounded time (make check-fuzz).
#
#   t/fuzz/run.sh --srcdir S --builddir B [--seconds N] [HARNESS ...]
#
# The tree is configured for gcc (and coverage), so the harnesses are not
# built by Automake: this script compiles the sources of lib/ and
# src/http/ once more with clang, -fsanitize=fuzzer-no-link,address,
# undefined, into B/t/fuzz.d/obj (again only when a source or header
# changed), and links each harness t/fuzz/fuzz_NAME.c with libFuzzer into
# B/t/fuzz.d/fuzz_NAME.  config.h is the configured tree's.
#
# Each harness then runs for N seconds (default 45) on a scratch copy of
# its corpus and regressions (B/t/fuzz.d/corpus/NAME): what the fuzzer
# adds goes there, never into the checked-in t/fuzz/corpus.  A crash, leak,
# timeout or out-of-memory input is kept in B/t/fuzz.d/crashes/NAME/, the
# fuzzer's output in B/t/fuzz.d/log/NAME.log.  A summary table follows:
# executions, executions per second, coverage (libFuzzer's cov: edges,
# ft: features), inputs added to the scratch corpus, crashes.
#
# Exit status: 0 when no harness crashed; 1 when one did (its input named
# in the output, to be copied into t/fuzz/regress/NAME/ once fixed); 2
# when the build failed.
#
# Environment: CLANG (default clang), GT_FUZZ_JOBS (parallel compilations,
# default 2).

set -uo pipefail

readonly ALL_HARNESSES=(router requests webhook trigger config result)
readonly SAN=-fsanitize=address,undefined

say() { printf 'fuzz: %s\n' "$*"; }
die() { printf 'fuzz: %s\n' "$*" >&2; exit 2; }

usage() {
	echo "usage: t/fuzz/run.sh --srcdir S --builddir B [--seconds N] [HARNESS ...]" >&2
	exit 2
}

srcdir=
builddir=
seconds=45
harnesses=()
while (($#)); do
	case "$1" in
	--srcdir) srcdir=${2:-}; shift ;;
	--builddir) builddir=${2:-}; shift ;;
	--seconds) seconds=${2:-}; shift ;;
	-*) usage ;;
	*) harnesses+=("$1") ;;
	esac
	shift
done
[[ -n "$srcdir" && -n "$builddir" ]] || usage
[[ "$seconds" =~ ^[0-9]+$ ]] || usage
((${#harnesses[@]} > 0)) || harnesses=("${ALL_HARNESSES[@]}")
srcdir=$(cd "$srcdir" && pwd -P) || die "no source folder: $srcdir"
builddir=$(cd "$builddir" && pwd -P) || die "no build folder: $builddir"
[[ -f "$builddir/config.h" ]] || die "$builddir/config.h is missing: run configure first"

cc=${CLANG:-clang}
command -v "$cc" >/dev/null ||
	die "$cc not found: install the Debian packages clang and libclang-rt-dev"

out=$builddir/t/fuzz.d
obj=$out/obj
mkdir -p "$obj" "$out/log" || die "cannot create $out"

libs_cflags=$(pkg-config --cflags libpq hiredis libcurl json-c libcrypto) ||
	die "pkg-config cannot find the libraries: run configure's checks first"
libs_ldflags="$(pkg-config --libs libpq hiredis libcurl json-c libcrypto) -lfcgi -lm"
cflags=(-g -O1 -fno-omit-frame-pointer "$SAN" -fno-sanitize-recover=all
	-Wall -Wno-unused-parameter
	-I"$builddir" -I"$srcdir/lib" -I"$srcdir/src" -I"$srcdir/t"
	-DGT_SYSCONFDIR='"/etc/gittinkerer"' -DGT_BINDIR='"/usr/bin"'
	-DGT_DATADIR='"/usr/share/gittinkerer"')
# shellcheck disable=SC2206
cflags+=($libs_cflags)

# ---------------------------------------------------------------------------
# The build

# The sources every harness may need: the whole service but its mains,
# and the harnesses' helpers.
sources() {
	(cd "$srcdir" && ls lib/domain/*.c lib/usecase/*.c lib/infra/*.c \
	    src/http/*.c src/pool/listen.c src/pool/supervisor.c \
	    t/fuzz/fuzz_util.c t/fuzz/fuzz_app.c)
}

# Compiles one source into obj/, flattening its path.
compile_one() {
	local src=$1 o

	o=$obj/$(tr / _ <<<"${src%.c}").o
	"$cc" "${cflags[@]}" -fsanitize=fuzzer-no-link -c "$srcdir/$src" -o "$o"
}

build() {
	local stale=() src o newest_header h

	# A changed header may change any object: then everything is rebuilt.
	newest_header=$(find "$srcdir/lib" "$srcdir/src" "$srcdir/t/fuzz" \
	    "$builddir/config.h" -name '*.h' -newer "$obj/libgtfuzz.a" \
	    2>/dev/null | head -n 1)
	[[ -f "$obj/libgtfuzz.a" ]] || newest_header=all
	while read -r src; do
		o=$obj/$(tr / _ <<<"${src%.c}").o
		if [[ -n "$newest_header" || ! -f "$o" || "$srcdir/$src" -nt "$o" ]]; then
			stale+=("$src")
		fi
	done < <(sources)

	if ((${#stale[@]} > 0)); then
		say "compiling ${#stale[@]} sources with $cc"
		export -f compile_one
		export cc obj srcdir
		printf '%s\n' "${stale[@]}" |
		    CFLAGS_LIST="${cflags[*]}" xargs -P "${GT_FUZZ_JOBS:-2}" -I{} \
		    bash -c 'cflags=($CFLAGS_LIST); compile_one "$1"' _ {} ||
			return 1
		rm -f "$obj/libgtfuzz.a"
		ar rcs "$obj/libgtfuzz.a" "$obj"/*.o || return 1
	fi

	for h in "${harnesses[@]}"; do
		[[ -f "$srcdir/t/fuzz/fuzz_$h.c" ]] || { say "no harness t/fuzz/fuzz_$h.c"; return 1; }
		if [[ ! -x "$out/fuzz_$h" || "$srcdir/t/fuzz/fuzz_$h.c" -nt "$out/fuzz_$h" ||
		    "$obj/libgtfuzz.a" -nt "$out/fuzz_$h" ]]; then
			# shellcheck disable=SC2086
			"$cc" "${cflags[@]}" -fsanitize=fuzzer \
			    "$srcdir/t/fuzz/fuzz_$h.c" "$obj/libgtfuzz.a" \
			    $libs_ldflags -o "$out/fuzz_$h" || return 1
		fi
	done
}

# ---------------------------------------------------------------------------
# The runs

# The value of libFuzzer's "stat::NAME: value" line in a log.
libfuzzer_stat() {
	sed -n "s/^stat::$2: *//p" "$1" | tail -n 1
}

# "cov ft" of the last status line of a log.
coverage() {
	grep -E '^#[0-9]+' "$1" | grep -o 'cov: [0-9]* ft: [0-9]*' | tail -n 1 |
	    awk '{ print $2, $4 }'
}

start=$SECONDS
if ! build; then
	say "the build failed"
	exit 2
fi
say "built ${#harnesses[@]} harnesses in $((SECONDS - start))s; fuzzing each for ${seconds}s"

rows=()
failed=0
for h in "${harnesses[@]}"; do
	corpus=$out/corpus/$h
	crashes=$out/crashes/$h
	log=$out/log/$h.log
	rm -rf "$corpus" "$crashes"
	mkdir -p "$corpus" "$crashes"
	cp "$srcdir/t/fuzz/corpus/$h"/* "$corpus"/ 2>/dev/null
	if [[ -d "$srcdir/t/fuzz/regress/$h" ]]; then
		cp "$srcdir/t/fuzz/regress/$h"/* "$corpus"/ 2>/dev/null
	fi
	seeds=$(find "$corpus" -type f | wc -l)

	say "$h: ${seconds}s from $seeds inputs"
	(
		cd "$crashes" &&
		ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:symbolize=1 \
		UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		    "$out/fuzz_$h" -max_total_time="$seconds" -timeout=10 \
		    -rss_limit_mb=2048 -print_final_stats=1 \
		    -artifact_prefix="$crashes/" "$corpus" </dev/null
	) >"$log" 2>&1
	rc=$?

	execs=$(libfuzzer_stat "$log" number_of_executed_units)
	rate=$(libfuzzer_stat "$log" average_exec_per_sec)
	added=$(libfuzzer_stat "$log" new_units_added)
	read -r cov ft <<<"$(coverage "$log")"
	found=$(find "$crashes" -type f | wc -l)
	if ((rc != 0 || found > 0)); then
		failed=1
		say "$h: FAILED (exit status $rc); the fuzzer's output ends:"
		tail -n 40 "$log" | sed 's/^/    /'
		find "$crashes" -type f | sed 's/^/fuzz: crashing input: /'
	fi
	rows+=("$(printf '%-10s %12s %8s %7s %7s %7s %8s' "$h" "${execs:-?}" \
	    "${rate:-?}" "${cov:-?}" "${ft:-?}" "${added:-?}" "$found")")
done

echo
printf '%-10s %12s %8s %7s %7s %7s %8s\n' harness executions exec/s cov ft added crashes
printf '%s\n' "${rows[@]}"
say "total $((SECONDS - start))s; logs in $out/log, scratch corpora in $out/corpus"
if ((failed)); then
	say "FAILED: a harness crashed; reproduce with t/fuzz/replay_NAME FILE (make check's build) or $out/fuzz_NAME FILE, and once fixed copy the input into t/fuzz/regress/NAME/"
	exit 1
fi
say "no crash"
