#!/bin/bash
# The unit suite and the integration tests that exercise the most code
# (the MRR slice over HTTP, hostile data through every collector, database
# faults, systemd socket activation) again, built with AddressSanitizer and UndefinedBehaviorSanitizer,
# any report fatal (-fno-sanitize-recover=all).
. "$(dirname "$0")/../scripts/lib.sh"
set -eu
cd "$CS_ROOT"
san=build/san
make --no-print-directory -s BUILD=$san SANITIZE=address,undefined all $san/unit_tests >"$T/build.log" 2>&1 ||
	fail "sanitizer build failed: $(tail -20 "$T/build.log")"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=86
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export LSAN_OPTIONS=suppressions=$CS_ROOT/tests/fuzz/lsan.supp
"$san/unit_tests" -j2 >"$T/unit.log" 2>&1 || fail "unit tests under sanitizers: $(grep -E 'FAIL|CRASH|ERROR|runtime error' "$T/unit.log" | head -20)"
grep -q 'Failing: 0 | Crashing: 0' "$T/unit.log" || fail "unit tests under sanitizers: $(tail -3 "$T/unit.log")"
for t in test_mrr_slice test_bad_data test_db_faults test_systemd_socket; do
	BUILD=$san bash "tests/integration/$t.sh" >"$T/$t.log" 2>&1 || fail "$t under sanitizers: $(tail -15 "$T/$t.log")"
done
# Reports of processes the tests ran (exporter logs are kept in tests/out).
if grep -rlE 'ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:' tests/out/test_mrr_slice.* tests/out/test_bad_data.* tests/out/test_db_faults.* tests/out/test_systemd_socket.* 2>/dev/null | grep -q .; then
	fail "sanitizer reports in exporter logs: $(grep -rlE 'ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:' tests/out | head -5)"
fi
echo ok
