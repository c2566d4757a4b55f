#!/bin/bash
# End to end: a real Prometheus scrapes two replicas of the exporter (one
# config, one database: high availability) running on demo data, holds 36
# days of backfilled history for the first one (`cs_exporter backfill` with
# the live target's job and instance, imported with promtool), evaluates the
# recording and alert rules rendered for the demo configuration, and every
# query of every dashboard rendered for the demo configuration (variables
# filled in) returns at least one series, the changes against 30 days
# earlier included (they read the backfilled history). The exporter
# evaluates at now, so the demo is anchored today (load.sh's default): every
# window is alive whatever the date.
#
# Replicas: every query of the KPI dashboards returns the same series and
# values with $instance at the first replica alone as with both (while
# sum(cs_mrr) over both is twice the dashboards' MRR), and the recording
# rules keep one series per replica, each equal to the dashboards' value. At
# the end one replica stops: its MRR is gone from the dashboards as soon as
# its up is 0 (no last-day fallback for a live target), the total unchanged.
#
# Health movement: the health collector runs every 10 s here; once Prometheus
# has scraped the band-transition counters at 0, half of the accounts lose
# their product usage (psql), the next health evaluation moves them down a
# band, and the "moved to red" panels must show it.
#
# The cohort, renewal, payment-risk and band-movement families are mandatory:
# an exporter that lacks one fails (REQUIRE_SECTION6=0 only tolerates an
# exporter built before them, with a loud SKIP line).
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
# Activity read in full at every evaluation: the band-movement check below
# deletes product events, which incremental reads (docs/configuration.md,
# "Incremental reads": rows only arrive) would not see until the next full read.
sed -e "s|@PGPORT@|$PGPORT|g" -e "s|@PGPASSFILE@|$T/pg/reader.pass|g" \
	-e '/kind = "health"/s/interval = "30s"/interval = "10s"/' \
	-e '/^  activity = {$/a\    incremental = { enabled = false; };' \
	"$CS_ROOT/config/demo.conf" >"$T/cs.conf"
grep -q 'kind = "health"; *interval = "10s"' "$T/cs.conf" || fail "could not shorten the health interval"
grep -q 'incremental = { enabled = false; }' "$T/cs.conf" || fail "could not turn incremental reads off"
# The dashboards and recording rules for the demo configuration.
python3 "$CS_ROOT/dashboards/generate.py" --config "$T/cs.conf" --out "$T/dash" ||
	fail "generate.py --config $T/cs.conf"
eport=$(free_port)
eport2=$(free_port)
[ "$eport" != "$eport2" ] || eport2=$(free_port)
# History for the first replica, as docs/backfill.md says: the live target's
# labels, daily steps up to the anchor (today 00:00).
"$BUILD/cs_exporter" backfill --config.file "$T/cs.conf" --from "$(date -u -d '35 days ago' +%Y-%m-%d)" \
	--to "$(date -u +%Y-%m-%d)" --step 1d --label job=cs_exporter --label "instance=127.0.0.1:$eport" \
	--output "$T/backfill.om" 2>"$T/backfill.err" || fail "backfill exited $?: $(tail -5 "$T/backfill.err")"
promtool tsdb create-blocks-from openmetrics --quiet "$T/backfill.om" "$T/tsdb" >"$T/import.log" 2>&1 ||
	fail "promtool could not import: $(tail -5 "$T/import.log")"
start_bg exporter "$BUILD/cs_exporter" --config.file "$T/cs.conf" --web.listen-address "127.0.0.1:$eport"
start_bg exporter2 "$BUILD/cs_exporter" --config.file "$T/cs.conf" --web.listen-address "127.0.0.1:$eport2"
wait_http "http://127.0.0.1:$eport/-/ready" 90 || fail "exporter not ready: $(tail -5 "$T/exporter.log")"
wait_http "http://127.0.0.1:$eport2/-/ready" 90 || fail "exporter 2 not ready: $(tail -5 "$T/exporter2.log")"
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
      - targets: ["127.0.0.1:$eport", "127.0.0.1:$eport2"]
YML
promtool check config "$T/prometheus.yml" >"$T/promcfg.log" 2>&1 || fail "prometheus config: $(cat "$T/promcfg.log")"
start_bg prometheus prometheus --config.file "$T/prometheus.yml" --storage.tsdb.path "$T/tsdb" \
	--storage.tsdb.retention.time 400d --web.listen-address "127.0.0.1:$pport" --log.level warn
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
python3 "$CS_ROOT/tests/scripts/check_dashboards.py" --dump-queries --dump-format json "$T/dash/grafana" >"$T/queries.json"
python3 "$CS_ROOT/tests/scripts/check_dashboards.py" --dump-queries --dump-format json \
	--var "instance=127.0.0.1:$eport" "$T/dash/grafana" >"$T/queries1.json"

# Two replicas count once: each KPI query with $instance at the first replica
# equals the same query over both; the rules keep one series per replica.
python3 - "$T/queries.json" "$T/queries1.json" "$api" "$eport" "$eport2" <<'PY' ||
import json, sys, time, urllib.parse, urllib.request
both, one = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
api, i1, i2 = sys.argv[3], "127.0.0.1:" + sys.argv[4], "127.0.0.1:" + sys.argv[5]

def query(expr, t):
    url = api + "/query?" + urllib.parse.urlencode({"query": expr, "time": t})
    with urllib.request.urlopen(url, timeout=20) as r:
        return {json.dumps(s["metric"], sort_keys=True): float(s["value"][1])
                for s in json.load(r)["data"]["result"]}

def same(a, b):
    return a.keys() == b.keys() and all(abs(a[k] - b[k]) <= 1e-9 * max(1.0, abs(a[k]))
                                        for k in a)

t = time.time()
bad, n = [], 0
for qb, q1 in zip(both, one):
    assert (qb["uid"], qb["source"]) == (q1["uid"], q1["source"])
    if qb["uid"] == "cs-exporter" or qb["source"].startswith("variable "):
        continue
    n += 1
    a, b = query(q1["expr"], t), query(qb["expr"], t)
    if not same(a, b):
        bad.append("%s %s: one replica %s, both %s: %s" % (qb["uid"], qb["source"],
                                                          sorted(a.items())[:3],
                                                          sorted(b.items())[:3], qb["expr"]))
mrr = sum(query(next(q["expr"] for q in both if q["uid"] == "cs-overview" and "cs_mrr{" in q["expr"]),
                t).values())
raw = sum(query('sum(cs_mrr{job="cs_exporter"})', t).values())
if abs(raw - 2 * mrr) > 1e-6 * raw:
    bad.append("sum(cs_mrr) over both replicas is %s, not twice the dashboards' MRR %s" % (raw, mrr))
rules = query('job:cs_mrr:sum{job="cs_exporter"}', t)
insts = sorted(json.loads(k)["instance"] for k in rules)
if insts != sorted([i1, i2]) or any(abs(v - mrr) > 1e-6 * mrr for v in rules.values()):
    bad.append("job:cs_mrr:sum is not one series per replica equal to %s: %s" % (mrr, rules))
print("replicas: %d KPI queries equal with one replica and with both; MRR %.2f, "
      "sum over both %.2f" % (n - len(bad), mrr, raw))
for b in bad:
    print("REPLICA " + b)
sys.exit(1 if bad else 0)
PY
	fail "two replicas change what the dashboards or rules show (see above)"

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
for q in queries:
    url = api + "/query?" + urllib.parse.urlencode({"query": q["expr"]})
    with urllib.request.urlopen(url, timeout=10) as r:
        data = json.load(r)["data"]
    if not data["result"]:
        empty.append("%s %s: %s" % (q["uid"], q["source"], q["expr"]))
print("%d queries (%d of them 30 days back, in the backfilled history), %d empty"
      % (len(queries), later, len(empty)))
for e in empty:
    print("EMPTY " + e)
sys.exit(1 if empty else 0)
PY

# A replica that stops shows as absent at once, not as its last day of
# samples: its up turns 0, and the KPI panels read live samples alone where
# up exists. The other replica carries the dashboards on unchanged.
stop_bg "$(cat "$T/exporter2.pid")"
python3 - "$T/queries.json" "$api" "$eport" "$eport2" <<'PY' || fail "a stopped replica still shows (see above)"
import json, sys, time, urllib.parse, urllib.request
queries, api, i1, i2 = json.load(open(sys.argv[1])), sys.argv[2], sys.argv[3], sys.argv[4]

def query(expr):
    url = api + "/query?" + urllib.parse.urlencode({"query": expr})
    with urllib.request.urlopen(url, timeout=20) as r:
        return [float(s["value"][1]) for s in json.load(r)["data"]["result"]]

for _ in range(60):
    if query('up{instance="127.0.0.1:%s"} == 0' % i2):
        break
    time.sleep(0.5)
else:
    sys.exit("up of the stopped replica never turned 0")
time.sleep(2)  # a scrape after: the staleness markers are in
mrr = next(q["expr"] for q in queries if q["uid"] == "cs-overview" and "cs_mrr{" in q["expr"])
stopped = query(mrr.replace('instance=~".+"', 'instance=~"127.0.0.1:%s"' % i2))
alive = query(mrr.replace('instance=~".+"', 'instance=~"127.0.0.1:%s"' % i1))
both = query(mrr)
print("after stopping a replica: its MRR %s, the other's %s, both %s" % (stopped, alive, both))
assert not stopped, "the stopped replica's MRR still shows"
assert alive and both == alive, "the dashboards' MRR changed when a replica stopped"
PY
echo ok
