#!/bin/bash
# One exposition with every family of every kind (the kind table's list, from
# build/metricref): all seven kinds on the demo data, with outcomes, features,
# renewals and retention cohorts over both dimensions (config/demo.conf,
# widened like tests/scripts/same-output.sh), the optional payments dataset
# and the optional subscriptions columns, which demo.conf maps. promtool
# check metrics accepts
# it, every family has its TYPE line, and every label name in it is a segment
# dimension or one the kind table lists (so the reserved names, which the
# configuration check refuses as dimensions, cover everything written).
. "$(dirname "$0")/../scripts/lib.sh"
set -eu

anchor=2026-11-01
pg_up "$T/pg"
"$CS_ROOT/tests/demo/load.sh" "$T/pg" --accounts 300 --seed 5 --anchor "$anchor" --awkward \
	>"$T/load.log" 2>&1 || fail "demo data load failed: $(tail -5 "$T/load.log")"
sed -e "s|@PGPORT@|$PGPORT|g" -e "s|@PGPASSFILE@|$T/pg/reader.pass|g" \
	"$CS_ROOT/config/demo.conf" >"$T/cs.conf"
sed -i 's|^cohorts = .*|cohorts = { months = 6; dimensions = ["plan", "region"]; };|' "$T/cs.conf"
grep -q 'dimensions = \["plan", "region"\]; };' "$T/cs.conf" || fail "demo.conf has no cohorts line to widen"
# The families of the optional payments dataset and subscriptions columns
# are written only when the configuration maps them: demo.conf does.
grep -q '^  payments = {' "$T/cs.conf" || fail "no payments dataset in demo.conf"
for c in cancel_requested_at churn_reason; do
	grep -q "AS $c\b" "$T/cs.conf" || fail "demo.conf's subscriptions query maps no $c"
done

"$BUILD/cs_exporter" --config.file "$T/cs.conf" --once --as-of "${anchor}T12:00:00Z" \
	>"$T/all.prom" 2>"$T/once.log" || fail "cs_exporter --once failed: $(tail -5 "$T/once.log")"
grep -q '^cs_dataset_rows{dataset="payments"} [1-9]' "$T/all.prom" || fail "no payments row was read"
promtool_metrics "$T/all.prom" ||
	fail "promtool check metrics rejects the exposition: $(head -5 "$T/all.prom.promtool")"

"$BUILD/metricref" families >"$T/families"
n=0
while IFS= read -r f; do
	grep -q "^# TYPE $f " "$T/all.prom" || fail "family $f is missing from the exposition"
	n=$((n + 1))
done <"$T/families"
[ "$n" -ge 40 ] || fail "only $n families listed"

"$BUILD/metricref" labels >"$T/labels"
printf 'plan\nregion\n' >>"$T/labels"
python3 - "$T/all.prom" "$T/labels" <<'PY' || fail "a label name of the exposition is not in the kind table"
import re, sys
known = set(open(sys.argv[2]).read().split())
seen = set()
for line in open(sys.argv[1], encoding="utf-8"):
    if line.startswith("#") or "{" not in line:
        continue
    body = line[line.index("{") + 1:]
    # label="value" pairs; values may hold escaped quotes, commas and braces
    for m in re.finditer(r'([A-Za-z_][A-Za-z0-9_]*)="((?:[^"\\]|\\.)*)"', body):
        seen.add(m.group(1))
unknown = sorted(seen - known)
if unknown:
    print("labels not in the kind table:", unknown, file=sys.stderr)
    sys.exit(1)
print(len(seen), "label names, all known")
PY
echo "ok: $n families, promtool clean"
