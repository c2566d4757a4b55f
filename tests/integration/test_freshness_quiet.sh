#!/bin/bash
# Freshness measures the feed, not the business (docs/datasets.md,
# "Freshness"): a healthy 150-account B2B company that signed no account,
# started no trial or subscription and got no survey or ticket in the last
# 30 days, while its users kept using the product, has no dataset stale with
# the default max ages, and CustomerSuccessDatasetStale (run by promtool on
# the exporter's own freshness figures) stays quiet. With a loaded_at column
# the load times define freshness: recent loads make a quiet dataset fresh
# under a configured max_age, an old load makes it stale and the alert fires.
# Instants are relative to the moment the test runs.
. "$(dirname "$0")/../scripts/lib.sh"
set -eu

. "$CS_ROOT/tests/scripts/tiny.sh"

pg_up "$T/pg"
pg_psql "$T/pg" -qX -v ON_ERROR_STOP=1 -d postgres -c 'CREATE DATABASE quiet'
pg_psql "$T/pg" -qX -v ON_ERROR_STOP=1 -d quiet <<'SQL'
-- 150 accounts signed 40 to 189 days ago, each on a monthly plan since then;
-- trials, surveys and tickets all older than 30 days; every account has two
-- users active daily up to an hour ago. Each table has a load stamp: the
-- nightly ETL reloaded everything 3 hours ago, except tickets (10 days ago).
CREATE TABLE accounts AS
  SELECT 'A' || i AS id, 'cus_' || i AS cust, CASE WHEN i % 3 = 0 THEN 'pro' ELSE 'basic' END AS plan,
         5 + i % 20 AS seats, now() - (40 + i) * interval '1 day' AS started,
         date_trunc('second', now()) - interval '3 hours' AS loaded
  FROM generate_series(1, 150) i;
CREATE TABLE subs AS
  SELECT cust, CASE WHEN plan = 'pro' THEN 90000 ELSE 30000 END AS amount, started AS vfrom,
         loaded
  FROM accounts;
CREATE TABLE trials AS
  SELECT cust, started - interval '14 days' AS started, started AS ended, loaded FROM accounts;
CREATE TABLE surveys AS
  SELECT id AS account, 'u1' AS respondent, 9 AS score, started + interval '5 days' AS at, loaded
  FROM accounts;
CREATE TABLE events AS
  SELECT a.id AS account, 'u' || u AS usr, 'reports' AS feature,
         now() - interval '1 hour' - d * interval '1 day' AS at, a.loaded
  FROM accounts a, generate_series(1, 2) u, generate_series(0, 40) d;
CREATE TABLE tickets AS
  SELECT id AS account, started + interval '3 days' AS opened, started + interval '4 days' AS resolved,
         false AS escalated, date_trunc('second', now()) - interval '10 days' AS loaded
  FROM accounts;
GRANT SELECT ON ALL TABLES IN SCHEMA public TO cs_reader;
SQL

# conf FILE LOADED [EXTRA]: the mapping; LOADED is ", loaded AS loaded_at" or
# empty, EXTRA goes inside each dataset group (max_age).
conf() {
	local l=$2 x=${3:-}
	cat >"$1" <<CONF
sources = ( { name = "db"; host = "127.0.0.1"; port = $PGPORT; dbname = "quiet"; user = "cs_reader";
    password_file = "$T/pg/reader.pass"; sslmode = "disable"; } );
segments = { dimensions = ["plan"]; };
reporting = { currency = "USD"; };
datasets = {
  accounts = { source = "db"; $x
    query = "SELECT id AS account_key, cust AS billing_key, plan, seats, started AS started_at, NULL::timestamptz AS first_value_at$l FROM accounts"; };
  subscriptions = { source = "db"; $x
    query = "SELECT cust AS billing_key, amount AS amount_minor, 'USD' AS currency, 'month' AS interval_unit, 1 AS interval_count, 1 AS quantity, 'active' AS status, vfrom AS valid_from, NULL::timestamptz AS valid_to$l FROM subs"; };
  trials = { source = "db"; $x
    query = "SELECT cust AS billing_key, started AS started_at, ended AS ended_at, true AS converted$l FROM trials"; };
  surveys = { source = "db"; $x
    query = "SELECT account AS account_key, respondent AS respondent_key, 'nps' AS type, score, at AS responded_at$l FROM surveys"; };
  activity = { source = "db"; params = ["since", "as_of"];
    query = "SELECT account AS account_key, usr AS user_key, feature, max(at) AS last_active_at FROM events WHERE at >= \$1 AND at < \$2 GROUP BY 1, 2, 3"; };
  tickets = { source = "db"; $x
    query = "SELECT account AS account_key, opened AS opened_at, resolved AS resolved_at, escalated$l FROM tickets"; };
};
features = ["reports"];
collectors = (
  { name = "revenue"; kind = "revenue"; }, { name = "trials"; kind = "trials"; },
  { name = "surveys"; kind = "surveys"; }, { name = "adoption"; kind = "adoption"; },
  { name = "support"; kind = "support"; }, { name = "health"; kind = "health"; }
);
CONF
}

# alert_test PROM FIRING: promtool runs CustomerSuccessDatasetStale on the
# freshness figures of PROM, shifted so that the test's time() (which starts
# at 0) stands for now; FIRING lists the datasets expected to fire after
# the rule's hour.
alert_test() {
	local prom=$1 firing=$2 now
	now=$(date +%s)
	{
		echo "rule_files: [ '$CS_ROOT/dashboards/rules/alerts.yaml' ]"
		echo "evaluation_interval: 1m"
		echo "tests:"
		echo "  - interval: 5m"
		echo "    input_series:"
		grep -E '^cs_dataset_(newest_timestamp|max_age)_seconds\{' "$prom" |
			while read -r series v; do
				case "$series" in
				cs_dataset_newest*) v=$(python3 -c "print(int(float('$v')) - $now + 7200)") ;;
				esac
				lbl=${series#*\{}
				echo "      - series: '${series%%\{*}{job=\"cs\",instance=\"q\",$lbl'"
				echo "        values: '${v}+0x30'"
			done
		echo "    alert_rule_test:"
		echo "      - alertname: CustomerSuccessDatasetStale"
		echo "        eval_time: 2h"
		if [ -z "$firing" ]; then
			echo "        exp_alerts: []"
		else
			echo "        exp_alerts:"
			for ds in $firing; do
				newest=$(value "$prom" "cs_dataset_newest_timestamp_seconds{dataset=\"$ds\"}")
				age=$(python3 -c "a = $now - int(float('$newest')); print('%dd %dh %dm %ds' % (a // 86400, a % 86400 // 3600, a % 3600 // 60, a % 60))")
				echo "          - exp_labels: { severity: warning, job: cs, instance: q, dataset: $ds }"
				echo "            exp_annotations:"
				echo "              summary: A source dataset has no recent rows."
				echo "              description: 'q: the newest row of dataset $ds is $age old, older than its configured max age.'"
				echo "              runbook_url: dashboards/runbook.md#customersuccessdatasetstale"
			done
		fi
	} >"$T/alert_test.yaml"
	promtool test rules "$T/alert_test.yaml" >"$T/promtool.out" 2>&1 ||
		fail "alert test ($firing) failed: $(cat "$T/promtool.out") on $(cat "$T/alert_test.yaml")"
}

# Defaults, no loaded_at: nothing stale (only activity has a max age, and
# its users were active an hour ago), the alert quiet.
conf "$T/quiet.conf" ""
"$BUILD/cs_exporter" --config.file "$T/quiet.conf" --config.check >/dev/null
"$BUILD/cs_exporter" --config.file "$T/quiet.conf" --once >"$T/quiet.prom" 2>"$T/quiet.log" ||
	fail "--once failed: $(tail -3 "$T/quiet.log")"
now=$(date +%s)
for ds in accounts subscriptions trials surveys tickets; do
	age=$(($now - $(value "$T/quiet.prom" "cs_dataset_newest_timestamp_seconds{dataset=\"$ds\"}" | cut -d. -f1)))
	[ "$age" -gt $((30 * 86400)) ] || fail "$ds: newest row only $age s old, the company should be quiet for 30 days"
	expect "$T/quiet.prom" "cs_dataset_max_age_seconds{dataset=\"$ds\"}" 0
done
expect "$T/quiet.prom" 'cs_dataset_max_age_seconds{dataset="activity"}' 604800
expect "$T/quiet.prom" 'cs_customers{plan="pro"}' 50
alert_test "$T/quiet.prom" ""

# loaded_at, max_age 2d: the nightly load 3 h ago makes the quiet datasets
# fresh; the tickets loaded 10 days ago are stale, and only they fire.
conf "$T/loaded.conf" ", loaded AS loaded_at" 'max_age = "2d";'
"$BUILD/cs_exporter" --config.file "$T/loaded.conf" --once >"$T/loaded.prom" 2>"$T/loaded.log" ||
	fail "--once with loaded_at failed: $(tail -3 "$T/loaded.log")"
for ds in accounts subscriptions trials surveys tickets; do
	expect "$T/loaded.prom" "cs_dataset_max_age_seconds{dataset=\"$ds\"}" 172800
	table=$ds
	[ "$ds" = subscriptions ] && table=subs
	want=$(pg_psql "$T/pg" -qAtX -d quiet -c "SELECT extract(epoch FROM max(loaded))::bigint FROM $table")
	got=$(value "$T/loaded.prom" "cs_dataset_newest_timestamp_seconds{dataset=\"$ds\"}")
	[ "$got" = "$want" ] || fail "$ds: newest $got, expected the load time $want"
done
alert_test "$T/loaded.prom" "tickets"

# The same with the defaults: with no max_age configured nothing pages, even
# with loaded_at.
conf "$T/loaded0.conf" ", loaded AS loaded_at"
"$BUILD/cs_exporter" --config.file "$T/loaded0.conf" --once >"$T/loaded0.prom" 2>/dev/null
alert_test "$T/loaded0.prom" ""

# A load time that is no timestamp rejects its row (bad_time), counted.
sed 's/, loaded AS loaded_at FROM tickets/, '"'"'soon'"'"' AS loaded_at FROM tickets/' "$T/loaded.conf" >"$T/bad.conf"
"$BUILD/cs_exporter" --config.file "$T/bad.conf" --once >"$T/bad.prom" 2>/dev/null
expect "$T/bad.prom" 'cs_rows_rejected_total{dataset="tickets",reason="bad_time"}' 150
echo ok
