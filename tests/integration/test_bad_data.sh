#!/bin/bash
# Hostile data in every dataset: NULLs in every column, negative and absurd
# amounts, out-of-range scores, duplicate keys, unknown currencies and
# intervals, segment values with quotes, backslashes, newlines and invalid
# UTF-8, and 10,000 distinct segments. Every collector still succeeds, the
# exposition is valid for promtool and a real Prometheus, rejects are
# counted by reason, and the cardinality cap folds segments into "other".
. "$(dirname "$0")/../scripts/lib.sh"
. "$CS_ROOT/tests/scripts/tiny.sh"
set -eu

pg_up "$T/pg"
# SQL_ASCII stores any bytes, so invalid UTF-8 reaches the exporter as is.
pg_psql "$T/pg" -qX -v ON_ERROR_STOP=1 -d postgres -c "CREATE DATABASE bad ENCODING 'SQL_ASCII' TEMPLATE template0 LC_COLLATE 'C' LC_CTYPE 'C'"
pg_psql "$T/pg" -qX -v ON_ERROR_STOP=1 -d bad <<'SQL'
CREATE TABLE accounts (account_key text, billing_key text, plan text, region text, seats int,
  started_at timestamptz, first_value_at timestamptz, name text);
INSERT INTO accounts
  SELECT 'acc' || i, 'cus' || i, 'plan' || (i % 10000), 'r' || (i % 3), 5, '2026-10-01', NULL, 'n' || i
  FROM generate_series(1, 20000) i;
INSERT INTO accounts VALUES
  ('q1', 'cq1', 'say "hi"', 'back\slash', 3, '2026-10-01', '2026-10-05', 'Quote "Co"'),
  ('q2', 'cq2', E'line\nbreak', E'bad\xff\xfeutf8', 3, '2026-10-01', '2026-09-01', E'Bad\xffName'),
  ('q3', 'cq3', 'Zürich', '東京', NULL, NULL, NULL, NULL),
  (NULL, 'cnull', 'x', 'y', 1, '2026-10-01', NULL, NULL),
  ('q0', 'cq3', 'dup', 'dup', 1, '2026-10-01', NULL, NULL),
  ('q4', 'cq4', NULL, NULL, -5, '2026-10-01', NULL, NULL),
  (NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);

CREATE TABLE subscriptions (billing_key text, amount_minor numeric, currency text,
  interval_unit text, interval_count int, quantity numeric, status text,
  valid_from timestamptz, valid_to timestamptz);
INSERT INTO subscriptions
  SELECT 'cus' || i, 1000 + i, 'USD', 'month', 1, 1, 'active', '2026-01-01', NULL
  FROM generate_series(1, 20000) i;
INSERT INTO subscriptions VALUES
  ('cq1', 1999, 'usd', 'month', 1, 1, 'active', '2026-01-01', NULL),
  ('cq2', 500000000000000, 'USD', 'year', 1, 1, 'active', '2026-01-01', NULL),
  ('cq1', -1, 'USD', 'month', 1, 1, 'active', '2026-01-01', NULL),
  ('cq1', 100, 'XYZ', 'month', 1, 1, 'active', '2026-01-01', NULL),
  ('cq1', 100, 'USD', 'fortnight', 1, 1, 'active', '2026-01-01', NULL),
  ('cq1', 100, 'USD', 'month', 0, 1, 'active', '2026-01-01', NULL),
  ('cq1', 100, 'USD', 'month', 1, -2, 'active', '2026-01-01', NULL),
  ('cq1', 100, 'USD', 'month', 1, 1, 'zombie', '2026-01-01', NULL),
  ('cq1', 100, 'USD', 'month', 1, 1, 'active', '2026-05-01', '2026-05-01'),
  (NULL, 100, 'USD', 'month', 1, 1, 'active', '2026-01-01', NULL),
  ('cq1', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
  (NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);

CREATE TABLE trials (billing_key text, started_at timestamptz, ended_at timestamptz, converted boolean);
INSERT INTO trials VALUES
  ('cus1', '2026-10-01', '2026-10-15', true), ('cq1', '2026-10-01', '2026-10-10', false),
  (NULL, '2026-10-01', NULL, false), ('cq2', NULL, NULL, NULL), (NULL, NULL, NULL, NULL);

CREATE TABLE surveys (account_key text, respondent_key text, type text, score numeric, responded_at timestamptz);
INSERT INTO surveys VALUES
  ('acc1', 'u1', 'nps', 10, '2026-10-20'), ('acc1', 'u1', 'nps', 2, '2026-10-21'),
  ('acc2', NULL, 'csat', 5, '2026-10-20'), ('acc3', NULL, 'ces', 4, '2026-10-20'),
  ('acc1', 'u2', 'nps', 11, '2026-10-20'), ('acc1', 'u2', 'nps', -1, '2026-10-20'),
  ('acc1', 'u2', 'csat', 0, '2026-10-20'), ('acc1', 'u2', 'ces', 8, '2026-10-20'),
  ('acc1', 'u2', 'vibes', 5, '2026-10-20'), ('nobody', 'u9', 'nps', 9, '2026-10-20'),
  (NULL, 'u3', 'nps', 9, '2026-10-20'), ('acc1', 'u4', 'nps', NULL, NULL),
  (NULL, NULL, NULL, NULL, NULL);

CREATE TABLE activity (account_key text, user_key text, feature text, last_active_at timestamptz);
INSERT INTO activity VALUES
  ('acc1', 'u1', 'api', '2026-10-20'), ('acc1', 'u1', NULL, '2026-10-20'),
  ('acc1', 'u2', 'teleport', '2026-10-20'), ('acc1', NULL, 'api', '2026-10-20'),
  ('q2', 'u1', 'api', '2026-10-20'), (NULL, NULL, NULL, NULL);

CREATE TABLE tickets (account_key text, opened_at timestamptz, resolved_at timestamptz, escalated boolean);
INSERT INTO tickets VALUES
  ('acc1', '2026-10-20', '2026-10-21', true), ('acc1', '2026-10-20', '2026-10-19', false),
  ('acc2', NULL, NULL, false), ('ghost', '2026-10-20', NULL, NULL), (NULL, NULL, NULL, NULL);

CREATE TABLE outcome_rows (account_key text, value numeric);
INSERT INTO outcome_rows VALUES ('acc1', 5), ('acc1', 7), (NULL, 3), ('acc2', NULL), ('ghost', 1e300);

GRANT SELECT ON ALL TABLES IN SCHEMA public TO cs_reader;
SQL

src() { printf '{ name = "%s"; host = "127.0.0.1"; port = %s; dbname = "bad"; user = "cs_reader"; password_file = "%s"; sslmode = "disable"; }' "$1" "$PGPORT" "$T/pg/reader.pass"; }
cat >"$T/bad.conf" <<CONF
sources = ( $(src billing), $(src crm) );
segments = { dimensions = ["plan", "region"]; max_combinations = 500; };
features = ["api", "reports"];
datasets = {
  accounts = { source = "crm"; params = []; query = "SELECT * FROM accounts"; };
  subscriptions = { source = "billing"; params = []; query = "SELECT * FROM subscriptions"; };
  trials = { source = "billing"; params = []; query = "SELECT * FROM trials"; };
  surveys = { source = "crm"; params = []; query = "SELECT * FROM surveys"; };
  activity = { source = "crm"; params = []; query = "SELECT * FROM activity"; };
  tickets = { source = "crm"; params = []; query = "SELECT * FROM tickets"; };
};
outcomes = ( { name = "widgets"; source = "crm"; target = 10.0; direction = "at_least"; params = [];
               query = "SELECT * FROM outcome_rows"; } );
collectors = (
  { name = "revenue"; kind = "revenue"; }, { name = "trials"; kind = "trials"; },
  { name = "surveys"; kind = "surveys"; }, { name = "adoption"; kind = "adoption"; },
  { name = "support"; kind = "support"; }, { name = "outcomes"; kind = "outcomes"; },
  { name = "health"; kind = "health"; interval = "5s"; }
);
web = { stale_after = "1h"; };
CONF

"$BUILD/cs_exporter" --config.file "$T/bad.conf" --once --as-of 2026-11-01 >"$T/once.prom" 2>"$T/once.err" ||
	fail "a collector failed on bad data: $(cat "$T/once.err")"
promtool_metrics "$T/once.prom" || fail "promtool: $(head -5 "$T/once.prom.promtool")"
# every kind of the kind table, each configured above under its own name
for c in $("$BUILD/metricref" kinds); do
	grep -q "^cs_collector_up{collector=\"$c\"} 1\$" "$T/once.prom" || fail "collector $c not up"
done

# Rejects, by dataset and reason.
for r in accounts:null_key accounts:duplicate_billing_key accounts:negative_seats \
	accounts:value_before_start subscriptions:negative_amount subscriptions:unknown_currency \
	subscriptions:unknown_interval subscriptions:bad_interval_count subscriptions:negative_quantity \
	subscriptions:unknown_status subscriptions:bad_validity subscriptions:null_key \
	surveys:score_out_of_range surveys:unknown_type tickets:bad_resolution; do
	grep -q "^cs_rows_rejected_total{dataset=\"${r%%:*}\",reason=\"${r#*:}\"} [1-9]" "$T/once.prom" ||
		fail "no reject counted for $r"
done

# The cap: 10,000+ combinations folded into at most 500 segments, "other" present.
segs=$(grep '^cs_customers{' "$T/once.prom" | wc -l)
[ "$segs" -le 501 ] || fail "$segs segments exposed with max_combinations 500"
grep -q '^cs_customers{plan="other",region="other"} [1-9]' "$T/once.prom" || fail "no folded segment \"other\""
grep -q '^cs_series_dropped_total{family="cs_mrr"} [1-9]' "$T/once.prom" || fail "fold not counted for cs_mrr"
# Awkward values are escaped, and invalid UTF-8 does not leak raw bytes.
if LC_ALL=C grep -q $'\xff' "$T/once.prom"; then fail "invalid UTF-8 byte in the exposition"; fi
python3 -c "open('$T/once.prom', encoding='utf-8').read()" || fail "exposition is not valid UTF-8"

# A real Prometheus scrapes the live exposition without errors.
eport=$(free_port)
start_bg exporter "$BUILD/cs_exporter" --config.file "$T/bad.conf" --web.listen-address "127.0.0.1:$eport"
wait_http "http://127.0.0.1:$eport/-/ready" 60 || fail "exporter not ready"
pport=$(free_port)
printf 'global: {scrape_interval: 1s}\nscrape_configs:\n  - job_name: bad\n    static_configs: [{targets: ["127.0.0.1:%s"]}]\n' "$eport" >"$T/prom.yml"
start_bg prometheus prometheus --config.file "$T/prom.yml" --storage.tsdb.path "$T/tsdb" \
	--web.listen-address "127.0.0.1:$pport" --log.level warn
wait_http "http://127.0.0.1:$pport/-/ready" 30 || fail "prometheus did not start"
health=""
for _ in $(seq 1 60); do
	health=$(curl -fsS "http://127.0.0.1:$pport/api/v1/targets" | python3 -c '
import json, sys
t = json.load(sys.stdin)["data"]["activeTargets"]
print(t[0]["health"] + " " + t[0]["lastError"] if t else "none")')
	[ "${health%% *}" = up ] && break
	sleep 0.5
done
[ "$health" = "up " ] || fail "Prometheus scrape not healthy: $health"
echo ok
