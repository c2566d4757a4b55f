#!/bin/bash
# A real Prometheus server scrapes the exporter running on demo data: the
# target is up, the scrape reports no errors, and KPI series arrive in the
# TSDB with the same values the exporter serves.
. "$(dirname "$0")/../scripts/lib.sh"
set -eu

pg_up "$T/pg"
# Anchored today: the exporter evaluates at now.
"$CS_ROOT/tests/demo/load.sh" "$T/pg" --accounts 1000 --seed 7 --anchor "$(date -u +%Y-%m-%d)" \
	>"$T/load.log" 2>&1 ||
	fail "demo data load failed: $(tail -5 "$T/load.log")"
sed -e "s|@PGPORT@|$PGPORT|g" -e "s|@PGPASSFILE@|$T/pg/reader.pass|g" \
	"$CS_ROOT/config/demo.conf" >"$T/cs.conf"

eport=$(free_port)
start_bg exporter "$BUILD/cs_exporter" --config.file "$T/cs.conf" --web.listen-address "127.0.0.1:$eport"
wait_http "http://127.0.0.1:$eport/-/ready" 60 || fail "exporter not ready: $(tail -5 "$T/exporter.log")"

pport=$(free_port)
cat >"$T/prometheus.yml" <<YML
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: cs_exporter
    static_configs:
      - targets: ["127.0.0.1:$eport"]
YML
promtool check config "$T/prometheus.yml" >/dev/null || fail "bad prometheus.yml"
start_bg prometheus prometheus --config.file "$T/prometheus.yml" --storage.tsdb.path "$T/tsdb" \
	--web.listen-address "127.0.0.1:$pport" --log.level warn
wait_http "http://127.0.0.1:$pport/-/ready" 30 || fail "prometheus did not start"

api="http://127.0.0.1:$pport/api/v1"
q() { curl -fsS --get --data-urlencode "query=$1" "$api/query"; }
ok=""
for _ in $(seq 1 60); do
	if q 'up{job="cs_exporter"} == 1' | grep -q '"value"'; then ok=1; break; fi
	sleep 0.5
done
[ -n "$ok" ] || fail "up{job=\"cs_exporter\"} never became 1: $(curl -s "$api/targets")"

# The scrape itself reported no problem.
curl -fsS "$api/targets" >"$T/targets.json"
python3 - "$T/targets.json" <<'PY' || fail "target unhealthy: $(cat "$T/targets.json")"
import json, sys
t = json.load(open(sys.argv[1]))["data"]["activeTargets"]
assert len(t) == 1 and t[0]["health"] == "up" and t[0]["lastError"] == "", t
PY

# Prometheus negotiated OpenMetrics and stored KPI series.
for m in cs_mrr cs_customers cs_nps_score cs_health_score_bucket cs_time_to_value_seconds_bucket \
	cs_rows_rejected_total cs_collector_up; do
	q "count($m)" | grep -q '"value"' || fail "no $m series in Prometheus"
done
# Same value in Prometheus as on /metrics for one series.
curl -fsS "http://127.0.0.1:$eport/metrics" >"$T/live.prom"
want=$(awk '/^cs_customers\{/ { s += $NF } END { print s }' "$T/live.prom")
got=$(q 'sum(cs_customers)' | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["result"][0]["value"][1])')
python3 -c "import sys; sys.exit(0 if abs(float('$want')-float('$got')) < 1e-9 else 1)" ||
	fail "sum(cs_customers) is $got in Prometheus, $want on /metrics"
echo ok
