#!/bin/sh
# Builds every tests/fuzz/fuzz_*.c with libFuzzer + ASan + UBSan into
# build/fuzz/ and runs each for SECONDS (default 300; 0 = only replay the
# seed corpus). Every harness links the floors below exporter/ (lib/,
# config/, collectors/); one that needs more names it in a line
#   // fuzz-sources: exporter/serve/negotiate.c
# (several such lines add up)
# and may add link flags with "// fuzz-libs: ...". Inputs the fuzzer finds
# go to build/fuzz/corpus/<harness>/ (the seeds in tests/fuzz/corpus/ stay
# untouched), crashes to build/fuzz/<harness>-crash-*. Exits 1 if any
# harness fails to build or crashes.
#
# Environment: CC (default clang), FUZZ_OUT (default build/fuzz). Harnesses
# run one after the other.
set -u

secs=${1:-300}
cd "$(dirname "$0")/../.." || exit 1
CC=${CC:-clang}
case "$CC" in *clang*) ;; *) CC=clang ;; esac
out=${FUZZ_OUT:-build/fuzz}
mkdir -p "$out"

pkgs="libmicrohttpd libpq libconfig zlib"
# shellcheck disable=SC2086 # one word per package
pkg_cflags=$(pkg-config --cflags $pkgs 2>/dev/null)
# shellcheck disable=SC2086
pkg_libs=$(pkg-config --libs $pkgs 2>/dev/null)
cflags="-std=c11 -I. -pthread -D_GNU_SOURCE -g -O1 -fno-omit-frame-pointer \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all"

# Known leaks in system libraries (see the file) must not end a run.
LSAN_OPTIONS="suppressions=$(pwd)/tests/fuzz/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
export LSAN_OPTIONS

status=0
for src in tests/fuzz/fuzz_*.c; do
	[ -e "$src" ] || continue
	name=$(basename "$src" .c)
	sources="lib/*.c config/*.c collectors/*.c $(sed -n 's|^// fuzz-sources:||p' "$src" | tr '\n' ' ')"
	libs=$(sed -n 's|^// fuzz-libs:||p' "$src" | head -n 1)
	echo "== $name: building"
	# shellcheck disable=SC2086 # word splitting of flag lists is intended
	if ! $CC $cflags $pkg_cflags -o "$out/$name" "$src" $sources $libs $pkg_libs -lcrypt -lm; then
		echo "== $name: build failed" >&2
		status=1
		continue
	fi
	work="$out/corpus/$name"
	seeds="tests/fuzz/corpus/$name"
	mkdir -p "$work"
	[ -d "$seeds" ] || seeds=""
	if [ "$secs" -eq 0 ]; then
		set -- -runs=0
	else
		set -- -max_total_time="$secs"
	fi
	echo "== $name: running ($*)"
	# shellcheck disable=SC2086
	if ! "$out/$name" "$@" -print_final_stats=1 -artifact_prefix="$out/$name-" \
		"$work" $seeds >"$out/$name.log" 2>&1; then
		echo "== $name: FAILED, see $out/$name.log" >&2
		tail -n 40 "$out/$name.log" >&2
		status=1
	else
		grep -E '^stat::number_of_executed_units|^#[0-9]+.*DONE' "$out/$name.log" | tail -n 2
		echo "== $name: ok"
	fi
done
exit $status
