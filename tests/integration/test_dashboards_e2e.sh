#!/bin/bash
# End to end: a real Prometheus scrapes the exporter running on demo data,
# evaluates the recording rules rendered for the demo configuration and the
# bundled alert rules, and every query of every dashboard rendered for the
# demo configuration (variables filled in) returns at least one series, except
# the changes against 30 days earlier, which need more history than exists.
# The exporter evaluates at now, so the demo is anchored today (load.sh's
# default): every window is alive whatever the date.
. "$(dirname "$0")/../scripts/lib.sh"
set -eu

pg_up "$T/pg"
"$CS_ROOT/tests/demo/load.sh" "$T/pg" --accounts 1500 --seed 11 --anchor "$(date -u +%Y-%m-%d)" \
	>"$T/load.log" 2>&1 ||
	fail "demo data load failed: $(tail -5 "$T/load.log")"
sed -e "s|@PGPORT@|$PGPORT|g" -e "s|@PGPASSFILE@|$T/pg/reader.pass|g" \
	"$CS_ROOT/config/demo.conf" >"$T/cs.conf"
# The dashboards and recording rules for the demo configuration.
python3 "$CS_ROOT/dashboards/generate.py" --config "$T/cs.conf" --out "$T/dash" ||
	fail "generate.py --config $T/cs.conf"
eport=$(free_port)
start_bg exporter "$BUILD/cs_exporter" --config.file "$T/cs.conf" --web.listen-address "127.0.0.1:$eport"
wait_http "http://127.0.0.1:$eport/-/ready" 90 || fail "exporter not ready: $(tail -5 "$T/exporter.log")"
curl -fsS "http://127.0.0.1:$eport/metrics" >"$T/live.prom"

# Every metric name the dashboards use exists in the live output or the rules.
python3 "$CS_ROOT/tests/scripts/check_dashboards.py" --exposition "$T/live.prom" --config "$T/cs.conf" \
	--no-generated-check --rules "$T/dash/rules/recording.yaml" "$T/dash/grafana" >"$T/check.log" 2>&1 ||
	fail "dashboards use names the exporter does not expose: $(tail -20 "$T/check.log")"

pport=$(free_port)
cat >"$T/prometheus.yml" <<YML
global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - $T/dash/rules/recording.yaml
  - $CS_ROOT/dashboards/rules/alerts.yaml
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
python3 - "$T/queries.json" "$api" <<'PY'
import json, sys, urllib.parse, urllib.request
queries = json.load(open(sys.argv[1]))
api = sys.argv[2]
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
