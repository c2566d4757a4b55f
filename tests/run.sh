#!/bin/bash
# Runs the whole suite: formatting, criterion unit tests, then every
# tests/integration/test_*.sh (each one a test: exit 0 passes). Ends with the
# line "N passed, M failed" over all of them.
#   ONLY=pattern  run only the integration scripts whose name matches
#   VALGRIND=1    run the unit tests and the exporter under valgrind memcheck
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
export BUILD
ROOT=$(pwd)
export ROOT
mkdir -p tests/out
passed=0
failed=0
failures=()

record() { # name rc
	if [ "$2" -eq 0 ]; then
		passed=$((passed + 1))
		printf 'PASS %s\n' "$1"
	else
		failed=$((failed + 1))
		failures+=("$1")
		printf 'FAIL %s\n' "$1"
	fi
}

if [ -z "${ONLY:-}" ]; then
	if make --no-print-directory -s format-check >tests/out/format.log 2>&1; then
		record format-check 0
	else
		head -20 tests/out/format.log
		record format-check 1
	fi

	unit_log=tests/out/unit.log
	if [ "${VALGRIND:-0}" = 1 ]; then
		valgrind --quiet --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
			--trace-children=yes "$BUILD/unit_tests" -j1 2>&1 | tee "$unit_log" | tail -5
	else
		"$BUILD/unit_tests" -j2 2>&1 | tee "$unit_log" | grep -E 'FAIL|CRASH|Synthesis|error' | tail -40
	fi
	synth=$(grep -a 'Synthesis:' "$unit_log" | tail -1)
	unit_pass=$(printf '%s' "$synth" | sed -n 's/.*Passing: \([0-9]*\).*/\1/p')
	unit_fail=$(printf '%s' "$synth" | sed -n 's/.*Failing: \([0-9]*\).*/\1/p')
	unit_crash=$(printf '%s' "$synth" | sed -n 's/.*Crashing: \([0-9]*\).*/\1/p')
	if [ -z "$unit_pass" ]; then
		record unit-tests 1
	else
		passed=$((passed + unit_pass))
		failed=$((failed + ${unit_fail:-0}))
		[ "${unit_fail:-0}" -gt 0 ] && failures+=("unit tests: $unit_fail failing, ${unit_crash:-0} crashing")
	fi
fi

# Integration tests, JOBS at a time (default 2: most of their time is spent
# waiting on servers); results are reported in name order.
JOBS=${JOBS:-2}
names=()
for t in tests/integration/test_*.sh; do
	[ -e "$t" ] || continue
	name=$(basename "$t" .sh)
	if [ -n "${ONLY:-}" ] && [[ "$name" != *$ONLY* ]]; then continue; fi
	names+=("$name")
done
run_one() {
	local name=$1 start rc
	start=$(date +%s)
	timeout 900 bash "tests/integration/$name.sh" >"tests/out/$name.log" 2>&1
	rc=$?
	echo "$rc $(($(date +%s) - start))" >"tests/out/$name.result"
}
for name in "${names[@]}"; do
	rm -f "tests/out/$name.result"
	while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do
		wait -n 2>/dev/null || sleep 0.2
	done
	run_one "$name" &
done
wait
for name in "${names[@]}"; do
	read -r rc secs <"tests/out/$name.result" 2>/dev/null || { rc=1; secs=?; }
	printf '  (%s: %ss)\n' "$name" "$secs"
	if [ "$rc" -ne 0 ]; then
		tail -25 "tests/out/$name.log" | sed 's/^/    | /'
	fi
	record "$name" "$rc"
done

if [ ${#failures[@]} -gt 0 ]; then
	printf 'failed: %s\n' "${failures[@]}"
fi
printf '%d passed, %d failed\n' "$passed" "$failed"
[ "$failed" -eq 0 ]
