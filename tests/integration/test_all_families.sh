#!/bin/bash
# One exposition with every family of every kind (the kind table's list, from
# build/metricref): all seven kinds on the demo data, with outcomes, features,
# renewals and retention cohorts over both dimensions (config/demo.conf,
# widened like tests/scripts/same-output.sh), and the optional payments
# dataset (when demo.conf has none, invoices derived here from the paying
# subscription periods: one a month, past_due ones failed and some of those
# paid late). promtool check metrics accepts
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
if ! grep -q '^  payments = {' "$T/cs.conf"; then
	python3 - "$T/cs.conf" <<'PY'
import sys
path = sys.argv[1]
text = open(path).read()
payments = """  payments = {
    source = "billing";
    params = ["as_of"];
    query = "SELECT s.customer_id AS billing_key, pr.unit_amount * p.quantity AS amount_minor,"
            " pr.currency, g AS issued_at, g + interval '14 days' AS due_at,"
            " CASE WHEN p.status = 'active' THEN g + interval '2 days'"
            "      WHEN abs(hashtext(p.id || g::text)) % 2 = 0 THEN g + interval '20 days' END AS paid_at,"
            " CASE WHEN p.status IN ('past_due', 'unpaid') THEN g + interval '1 day' END AS first_failed_at"
            " FROM subscription_periods p JOIN subscriptions s ON s.id = p.subscription_id"
            " JOIN prices pr ON pr.id = p.price_id,"
            " generate_series(p.period_start, least(coalesce(p.period_end, $1), $1) - interval '1 second',"
            "   interval '1 month') g"
            " WHERE p.status IN ('active', 'past_due', 'unpaid') AND p.period_start < $1";
  };
"""
i = text.index("datasets = {\n") + len("datasets = {\n")
open(path, "w").write(text[:i] + payments + text[i:])
PY
fi
grep -q '^  payments = {' "$T/cs.conf" || fail "no payments dataset in the configuration"

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
