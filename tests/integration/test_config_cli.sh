#!/bin/bash
# Every broken config under tests/configs/bad, given to the binary: exit code
# 2 and the expected "FILE:LINE: message" on stderr, without connecting
# anywhere; every good config and the example pass --config.check.
. "$(dirname "$0")/../scripts/lib.sh"
set -eu
cd "$CS_ROOT"
n=0
while IFS= read -r line; do
	case "$line" in '' | '#'*) continue ;; esac
	file=${line%%: *}
	want=${line#*: }
	rc=0
	"$BUILD/cs_exporter" --config.check --config.file "tests/configs/bad/$file" >"$T/out" 2>"$T/err" || rc=$?
	[ "$rc" = 2 ] || fail "$file: exit $rc, expected 2"
	grep -qF -- "$want" "$T/err" || fail "$file: expected \"$want\" in: $(cat "$T/err")"
	n=$((n + 1))
done <tests/configs/bad/EXPECTED
[ "$n" -ge 30 ] || fail "only $n broken configs"
for f in tests/configs/good/*.conf config/example.conf; do
	"$BUILD/cs_exporter" --config.check --config.file "$f" >/dev/null 2>"$T/err" || fail "$f rejected: $(cat "$T/err")"
done
# A bad flag is a usage error too.
rc=0
"$BUILD/cs_exporter" --no-such-flag >/dev/null 2>&1 || rc=$?
[ "$rc" = 2 ] || fail "unknown flag: exit $rc, expected 2"
for v in 20 -1 ten ""; do
	rc=0
	"$BUILD/cs_exporter" --collector.nice="$v" --config.check >/dev/null 2>"$T/err" || rc=$?
	[ "$rc" = 2 ] || fail "--collector.nice=$v: exit $rc, expected 2"
	grep -q "flag '--collector.nice' (0 to 19)" "$T/err" || fail "--collector.nice=$v: $(cat "$T/err")"
done
for v in -1 1x 1001; do
	rc=0
	"$BUILD/cs_exporter" --collector.max-concurrency="$v" --config.check >/dev/null 2>"$T/err" || rc=$?
	[ "$rc" = 2 ] || fail "--collector.max-concurrency=$v: exit $rc, expected 2"
done
echo "ok: $n broken configs"
