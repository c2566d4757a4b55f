#!/bin/bash
# End to end: a real Prometheus scrapes the exporter running on demo data,
# evaluates the recording and alert rules rendered for the demo configuration,
# and every query of every dashboard rendered for the
# demo configuration (variables filled in) returns at least one series, except
# the changes against 30 days earlier, which need more history than exists.
# The exporter evaluates at now, so the demo is anchored today (load.sh's
# default): every window is alive whatever the date.
#
# Health movement: the health collector runs every 10 s here; once Prometheus
# has scraped the band-transition counters at 0, half of the accounts lose
# their product usage (psql), the next health evaluation moves them down a
# band, and the "moved to red" panels must show it.
#
# SPEC section 6 families (cohorts, renewals, payment risk, band movement)
# are mandatory: an exporter that lacks one fails (REQUIRE_SECTION6=0 only
# tolerates an exporter built before section 6, with a loud SKIP line).
REQUIRE_SECTION6=${REQUIRE_SECTION6:-1}
SECTION6="cs_cohort_customers cs_cohort_retained_customers cs_cohort_mrr
  cs_cohort_logo_retention_ratio cs_cohort_revenue_retention_ratio cs_renewal_accounts
  cs_renewal_mrr cs_mrr_past_due cs_mrr_involuntary_churn cs_customers_involuntary_churned
  cs_health_band_transitions_total"
. "$(dirname "$0")/../scripts/lib.sh"
set -eu

pg_up "$T/pg"
"$CS_ROOT/tests/demo/load.sh" "$T/pg" --accounts 1500 --seed 11 --anchor "$(date -u +%Y-%m-%d)" \
	>"$T/load.log" 2>&1 ||
	fail "demo data load failed: $(tail -5 "$T/load.log")"
sed -e "s|@PGPORT@|$PGPORT|g" -e "s|@PGPASSFILE@|$T/pg/reader.pass|g" \
	-e '/kind = "health"/s/interval = "30s"/interval = "10s"/' \
	"$CS_ROOT/config/demo.conf" >"$T/cs.conf"
grep -q 'kind = "health"; *interval = "10s"' "$T/cs.conf" || fail "could not shorten the health interval"
# The dashboards and recording rules for the demo configuration.
python3 "$CS_ROOT/dashboards/generate.py" --config "$T/cs.conf" --out "$T/dash" ||
	fail "generate.py --config $T/cs.conf"
eport=$(free_port)
start_bg exporter "$BUILD/cs_exporter" --config.file "$T/cs.conf" --web.listen-address "127.0.0.1:$eport"
wait_http "http://127.0.0.1:$eport/-/ready" 90 || fail "exporter not ready: $(tail -5 "$T/exporter.log")"
curl -fsS "http://127.0.0.1:$eport/metrics" >"$T/live.prom"

# Section 6 families the exporter does not expose (yet): see the top.
missing=""
for f in $SECTION6; do
	grep -q "^${f}[{ ]" "$T/live.prom" || missing="$missing $f"
done
cp "$T/live.prom" "$T/names.prom"
if [ -n "$missing" ]; then
	[ "$REQUIRE_SECTION6" = 1 ] && fail "the exporter does not expose:$missing"
	echo "SKIP until the exporter side of issue 15 lands: not exposed:$missing;" \
		"their panels and queries are not checked"
	for f in $missing; do echo "$f 0" >>"$T/names.prom"; done
fi

# Every metric name the dashboards use exists in the live output or the rules.
python3 "$CS_ROOT/tests/scripts/check_dashboards.py" --exposition "$T/names.prom" --config "$T/cs.conf" \
	--no-generated-check --rules "$T/dash/rules/recording.yaml" "$T/dash/grafana" >"$T/check.log" 2>&1 ||
	fail "dashboards use names the exporter does not expose: $(tail -20 "$T/check.log")"

pport=$(free_port)
cat >"$T/prometheus.yml" <<YML
global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - $T/dash/rules/recording.yaml
  - $T/dash/rules/alerts.yaml
scrape_configs:
  - job_name: cs_exporter
    static_configs:
      - targets: ["127.0.0.1:$eport"]
YML
promtool check config "$T/prometheus.yml" >"$T/promcfg.log" 2>&1 || fail "prometheus config: $(cat "$T/promcfg.log")"
start_bg prometheus prometheus --config.file "$T/prometheus.yml" --storage.tsdb.path "$T/tsdb" \
	--web.listen-address "127.0.0.1:$pport" --log.level warn
wait_http "http://127.0.0.1:$pport/-/ready" 30 || fail "prometheus did not start"
api="http://127.0.0.1:$pport/api/v1"
# Enough scrapes for rate() and increase() over a few samples, and rule evaluations.
for _ in $(seq 1 60); do
	n=$(curl -fsS --get --data-urlencode 'query=count_over_time(up{job="cs_exporter"}[1m])' "$api/query" |
		python3 -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(int(float(r[0]["value"][1])) if r else 0)')
	[ "$n" -ge 12 ] && break
	sleep 0.5
done
[ "$n" -ge 12 ] || fail "Prometheus did not scrape the exporter"

# Band movement: Prometheus has the counters at 0; take the product usage of
# half of the accounts away and wait for a health evaluation that moves some
# of them to red.
if ! echo "$missing" | grep -q cs_health_band_transitions_total; then
	pg_psql "$T/pg" -qX -v ON_ERROR_STOP=1 -d crm \
		-c "DELETE FROM product_event WHERE right(account_id, 1) IN ('0', '2', '4', '6', '8')" ||
		fail "could not change the activity data"
	for _ in $(seq 1 120); do
		moved=$(curl -fsS --get --data-urlencode \
			'query=sum(increase(cs_health_band_transitions_total{job="cs_exporter",to="red"}[1d]))' \
			"$api/query" | python3 -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(float(r[0]["value"][1]) if r else 0)')
		python3 -c "import sys; sys.exit(0 if $moved > 0 else 1)" && break
		sleep 0.5
	done
	python3 -c "import sys; sys.exit(0 if $moved > 0 else 1)" ||
		fail "no account moved to red after the usage data changed"
	echo "accounts moved to red after the data change: $moved"
fi
# The rule groups evaluated without errors.
curl -fsS "$api/rules" >"$T/rules.json"
python3 - "$T/rules.json" <<'PY' || fail "rule evaluation errors: $(head -c 2000 "$T/rules.json")"
import json, sys
groups = json.load(open(sys.argv[1]))["data"]["groups"]
assert groups, "no rule groups loaded"
bad = [(r["name"], r.get("lastError")) for g in groups for r in g["rules"] if r.get("health") != "ok"]
assert not bad, bad
PY

python3 "$CS_ROOT/tests/scripts/check_dashboards.py" --dump-queries --dump-format json "$T/dash/grafana" >"$T/queries.json"
python3 - "$T/queries.json" "$api" "$missing" <<'PY'
import json, re, sys, urllib.parse, urllib.request
queries = json.load(open(sys.argv[1]))
api = sys.argv[2]
missing = sys.argv[3].split()
if missing:
    pat = re.compile(r"\b(%s)\b" % "|".join(missing))
    skipped = [q for q in queries if pat.search(q["expr"])]
    queries = [q for q in queries if not pat.search(q["expr"])]
    print("SKIP %d queries of families not exposed yet" % len(skipped))
empty = []
later = sum(q["needs_history"] for q in queries)
print("%d queries need 30 days of history: they must run, may be empty" % later)
for q in queries:
    url = api + "/query?" + urllib.parse.urlencode({"query": q["expr"]})
    with urllib.request.urlopen(url, timeout=10) as r:
        data = json.load(r)["data"]
    if not data["result"] and not q["needs_history"]:
        empty.append("%s %s: %s" % (q["uid"], q["source"], q["expr"]))
print("%d queries, %d empty" % (len(queries), len(empty)))
for e in empty:
    print("EMPTY " + e)
sys.exit(1 if empty else 0)
PY
echo ok
