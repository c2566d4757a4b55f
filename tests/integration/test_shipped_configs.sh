#!/bin/bash
# Every configuration we ship runs: config/example.conf (installed as
# /etc/cs_exporter/cs_exporter.conf), every fenced block marked `conf` in
# README.md and docs/*.md, and config/demo.conf. Each one, its sources
# pointed at a test cluster, passes --config.check --connect (every query
# returns its dataset's columns) and --once exits 0 with every collector up
# and KPIs that are not all zero. The tables are tests/configs/shipped/*.sql
# (demo.conf reads the demo schema of tests/demo/load.sh). Written for issue
# 11: example.conf named columns that no longer existed and nothing noticed.
. "$(dirname "$0")/../scripts/lib.sh"
set -eu

as_of=2026-11-01T00:00:00Z
pg_up "$T/pg"
pg_psql "$T/pg" -qX -v ON_ERROR_STOP=1 -d postgres -c 'CREATE DATABASE billing' -c 'CREATE DATABASE crm'
for db in billing crm; do
	pg_psql "$T/pg" -qX -v ON_ERROR_STOP=1 -d $db -f "$CS_ROOT/tests/configs/shipped/$db.sql" ||
		fail "could not load tests/configs/shipped/$db.sql"
done

# run_config NAME FILE: --config.check --connect, then --once, on FILE.
run_config() {
	"$BUILD/cs_exporter" --config.file "$2" --config.check --connect >"$T/$1.check" 2>&1 ||
		fail "$1: --config.check --connect failed: $(cat "$T/$1.check")"
	"$BUILD/cs_exporter" --config.file "$2" --once --as-of "$as_of" >"$T/$1.prom" 2>"$T/$1.err" ||
		fail "$1: --once failed: $(tail -5 "$T/$1.err")"
	grep -q '^cs_collector_up{' "$T/$1.prom" || fail "$1: no collector ran"
	if grep '^cs_collector_up{' "$T/$1.prom" | grep -v ' 1$'; then
		fail "$1: a collector is down"
	fi
	# KPI samples: everything but the exporter's own metrics; some not 0.
	n=$(grep -v '^#' "$T/$1.prom" |
		grep -Ev '^(cs_collector_|cs_rows_rejected|cs_series_dropped|cs_exporter_|cs_config_|cs_health_band_transitions|process_)' |
		awk '$NF != 0' | wc -l)
	[ "$n" -gt 0 ] || fail "$1: every KPI is 0"
	echo "$1: ok, $n non-zero KPI samples"
}

python3 "$CS_SCRIPTS/shipped_conf.py" retarget "$CS_ROOT/config/example.conf" "$T/example.conf" \
	"$PGPORT" "$T/pg/reader.pass"
run_config example "$T/example.conf"
# Values of the example schema, worked out by hand: cus_1 pays 100.00 USD,
# cus_2 2 x 600.00 EUR a year = 100.00 EUR = 108.00 USD at 1.08; cus_3
# ended on 2026-10-15 (churned in the 30d window).
. "$CS_ROOT/tests/scripts/tiny.sh"
expect "$T/example.prom" 'cs_mrr{plan="pro",region="eu",currency="USD"}' 100
expect "$T/example.prom" 'cs_mrr{plan="basic",region="us",currency="USD"}' 108
expect "$T/example.prom" 'cs_customer_movements{plan="pro",region="us",window="30d",type="churned"}' 1
expect "$T/example.prom" 'cs_outcome_accounts{plan="pro",region="eu",window="30d",outcome="invoices_processed",target="met"}' 1
# Payments (tests/configs/shipped/billing.sql): cus_1's October invoice, due
# 10-15, is 1-30 days overdue; cus_3's, due 09-10, 31-60. cus_1's September
# invoice failed on 09-05 and was paid on 09-20 (90d window only). Billed in
# 90d for cus_1: 200.00, receivables 100.00: DSO = 100 / 200 x 90 = 45 days;
# nothing was billed in 30d (October's invoice is from 10-01, before t - 30d).
expect "$T/example.prom" 'cs_receivables_amount{plan="pro",region="eu",bucket="1_30",currency="USD"}' 100
expect "$T/example.prom" 'cs_receivables_amount{plan="pro",region="us",bucket="31_60",currency="USD"}' 200
expect "$T/example.prom" 'cs_receivables_invoices{plan="pro",region="us",bucket="current"}' 0
expect "$T/example.prom" 'cs_payments_recovered{plan="pro",region="eu",window="90d"}' 1
expect "$T/example.prom" 'cs_payment_recovery_ratio{plan="pro",region="eu",window="90d"}' 1
expect "$T/example.prom" 'cs_days_sales_outstanding{plan="pro",region="eu",window="90d"}' 45
grep -q '^cs_days_sales_outstanding{plan="pro",region="eu",window="30d"}' "$T/example.prom" &&
	fail "DSO written for a window in which nothing was billed"

mkdir -p "$T/docs"
for doc in README.md docs/*.md; do
	for f in $(cd "$CS_ROOT" && python3 "$CS_SCRIPTS/shipped_conf.py" extract "$doc" "$T/docs"); do
		name=$(basename "$f" .conf)
		python3 "$CS_SCRIPTS/shipped_conf.py" retarget "$f" "$T/$name.conf" "$PGPORT" "$T/pg/reader.pass"
		run_config "$name" "$T/$name.conf"
		docs=$((${docs:-0} + 1))
	done
done
[ "${docs:-0}" -ge 1 ] || fail "no conf block found in README.md or docs/"
grep -q '^```conf' "$CS_ROOT/README.md" || fail "README.md has no conf block: its minimal configuration is gone"

# The SQL of docs/datasets.md "Subscriptions: periods, not current state" turns a
# current-state table into periods: a canceled subscription is active until
# it ended, then nothing; a trial is trialing, then active.
python3 - "$CS_ROOT/docs/datasets.md" >"$T/periods.sql" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
sec = text[text.index("## Subscriptions: periods, not current state"):]
print(re.search(r"```sql\n(.*?)```", sec, re.S).group(1).rstrip().rstrip(";") + " ORDER BY 1, 8;")
PY
pg_psql "$T/pg" -qX -v ON_ERROR_STOP=1 -d billing <<'SQL'
CREATE TABLE subscriptions (customer text, amount bigint, currency text, unit text,
                            interval_count int, quantity int, status text,
                            start_date timestamptz, trial_start timestamptz,
                            trial_end timestamptz, ended_at timestamptz);
INSERT INTO subscriptions VALUES
 ('cus_1', 1000, 'USD', 'month', 1, 1, 'canceled', '2026-01-01', NULL, NULL, '2026-10-20'),
 ('cus_2', 2000, 'USD', 'month', 1, 1, 'active',   '2026-10-01', '2026-10-01', '2026-10-15', NULL),
 ('cus_3', 3000, 'USD', 'month', 1, 1, 'canceled', '2026-10-01', '2026-10-01', '2026-10-15', '2026-10-15');
SQL
pg_psql "$T/pg" -qX -v ON_ERROR_STOP=1 -d billing -At -F '|' -f "$T/periods.sql" >"$T/periods.out" ||
	fail "the periods SQL of docs/datasets.md does not run"
cat >"$T/periods.want" <<'OUT'
cus_1|1000|USD|month|1|1|active|2026-01-01 00:00:00+00|2026-10-20 00:00:00+00
cus_2|2000|USD|month|1|1|trialing|2026-10-01 00:00:00+00|2026-10-15 00:00:00+00
cus_2|2000|USD|month|1|1|active|2026-10-15 00:00:00+00|
cus_3|3000|USD|month|1|1|trialing|2026-10-01 00:00:00+00|2026-10-15 00:00:00+00
OUT
diff "$T/periods.want" "$T/periods.out" || fail "the periods SQL of docs/datasets.md gives other periods"

# The demo configuration on a small demo load.
pg_up "$T/demo"
"$CS_ROOT/tests/demo/load.sh" "$T/demo" --accounts 60 --seed 3 >"$T/demo-load.log" 2>&1 ||
	fail "demo data load failed: $(tail -5 "$T/demo-load.log")"
sed -e "s|@PGPORT@|$PGPORT|g" -e "s|@PGPASSFILE@|$T/demo/reader.pass|g" \
	"$CS_ROOT/config/demo.conf" >"$T/demo.conf"
run_config demo "$T/demo.conf"
echo ok
