#!/bin/sh
# Validates the bundled Grafana dashboards with tests/scripts/check_dashboards.py
# (structure, variables, units, PromQL syntax via promtool, counters, metric
# names, generated files up to date), then makes sure the checker still
# rejects broken dashboards.
#
#   tests/integration/test_dashboards.sh [EXPOSITION]
#
# EXPOSITION (or $CS_EXPOSITION): the exporter's /metrics output to check
# metric names against; without it, dashboards/metrics.txt is used.
set -u
cd "$(dirname "$0")/../.." || exit 1

CHECK="python3 tests/scripts/check_dashboards.py"
EXPO="${1:-${CS_EXPOSITION:-}}"
failed=""
fail() { failed="$failed
  $1"; }

echo "== dashboards"
# The committed dashboards are the example configuration's.
if [ -n "$EXPO" ]; then
	$CHECK --config config/example.conf --exposition "$EXPO" || fail "check_dashboards.py --exposition $EXPO"
else
	$CHECK --config config/example.conf || fail "check_dashboards.py"
fi

echo "== provisioning"
for f in dashboards/provisioning/datasources/prometheus.yaml \
	dashboards/provisioning/dashboards/cs_exporter.yaml; do
	grep -q '^apiVersion: 1$' "$f" 2>/dev/null || fail "$f: missing or no apiVersion: 1"
done
grep -q 'uid: cs-prometheus' dashboards/provisioning/datasources/prometheus.yaml ||
	fail "datasource provisioning has no fixed uid"
grep -q 'path: .*/share/cs_exporter/grafana$' dashboards/provisioning/dashboards/cs_exporter.yaml ||
	fail "dashboard provider does not point at the installed grafana folder"

echo "== the checker rejects broken dashboards"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 - "$tmp" <<'PY' || fail "could not build the broken dashboards"
import copy, json, sys
out = sys.argv[1]
d = json.load(open("dashboards/grafana/cs-overview.json"))
def case(name, edit):
    x = copy.deepcopy(d)
    edit(x)
    json.dump(x, open("%s/%s.json" % (out, name), "w"))
def panels(x): return [p for p in x["panels"] if p["type"] != "row"]
def expr(x, e): panels(x)[0]["targets"][0]["expr"] = e
def var(x, name): return [v for v in x["templating"]["list"] if v["name"] == name][0]
def unsort(x):
    v = var(x, "window")
    v["options"].reverse()
    v["query"] = ",".join(o["value"] for o in v["options"])
case("counter", lambda x: expr(x, "sum(cs_rows_rejected_total)"))
case("gauge_rate", lambda x: expr(x, "sum(rate(cs_mrr[5m]))"))
case("avg_ratio", lambda x: expr(x, 'avg(cs_net_revenue_retention_ratio{window="30d"})'))
case("unknown", lambda x: expr(x, "sum(cs_no_such_metric)"))
case("syntax", lambda x: expr(x, "sum(cs_mrr"))
case("unit", lambda x: panels(x)[1]["fieldConfig"]["defaults"].pop("unit"))
case("description", lambda x: panels(x)[1].pop("description"))
case("datasource", lambda x: panels(x)[2].update(datasource={"type": "prometheus", "uid": "${DS_PROMETHEUS}"}))
case("target_ds", lambda x: panels(x)[2]["targets"][0].update(datasource={"uid": "prom"}))
case("id", lambda x: x.update(id=7))
case("uid", lambda x: x.update(uid="x" * 41))
case("schema", lambda x: x.pop("schemaVersion"))
case("allvalue", lambda x: var(x, "plan").pop("allValue"))
case("novar", lambda x: x["templating"].update(list=x["templating"]["list"][:3]))
case("nps_unit", lambda x: panels(x)[4]["fieldConfig"]["defaults"].update(unit="percent"))
case("unsorted", unsort)
case("multiwindow", lambda x: var(x, "window").update(multi=True))
case("extravar", lambda x: x["templating"]["list"].append(dict(var(x, "plan"), name="tier")))
case("row_targets", lambda x: x["panels"][0].update(targets=panels(x)[0]["targets"]))
case("row_expanded", lambda x: x["panels"][0].update(panels=[panels(x)[0]]))
case("money", lambda x: panels(x)[0]["fieldConfig"]["defaults"].update(unit="currencyGBP"))
case("overlap", lambda x: panels(x)[1]["gridPos"].update(x=panels(x)[0]["gridPos"]["x"]))
case("foreign", lambda x: expr(x, 'sum by (tier) (cs_mrr{job=~"$job"})'))
# History and replicas: a raw gauge (no history, replicas summed), a counter
# without the max over instance, a replica max without the history branch.
case("raw_gauge", lambda x: expr(x, 'sum(cs_mrr{job=~"$job",instance=~"$instance"})'))
case("raw_counter", lambda x: expr(x, 'sum(increase(cs_health_band_transitions_total{job=~"$job"}[1d]))'))
case("no_history", lambda x: expr(x, 'sum(max without (instance) (cs_mrr{job=~"$job"}))'))
PY
expect() { # case, message fragment
	out=$($CHECK --no-generated-check "$tmp/$1.json" 2>&1)
	rc=$?
	if [ $rc -eq 0 ] || ! printf '%s\n' "$out" | grep -q -- "$2"; then
		fail "checker accepted broken dashboard '$1' (want: $2)"
	fi
}
expect counter "counter cs_rows_rejected_total used outside rate"
expect gauge_rate "rate() of gauge cs_mrr"
expect avg_ratio "aggregates a ratio across segments"
expect unknown "unknown metric cs_no_such_metric"
expect syntax "PromQL does not parse"
expect unit "panel has no unit"
expect description "panel has no description"
expect datasource "DS_"
expect target_ds "target datasource must be"
expect id "id must be null"
expect uid "uid must be"
expect schema "schemaVersion"
expect allvalue "allValue must be"
expect novar "missing query variable"
expect nps_unit "NPS panel must have unit none"
expect unsorted "windows not sorted by duration"
expect multiwindow "variable \`window\` must be single-valued"
expect extravar "query variable \`tier\` is no configured segment dimension"
expect overlap "gridPos overlaps panel"
expect row_targets "row has targets"
expect row_expanded "an expanded row must not hold panels"
expect raw_gauge "cs_mrr is read without g() or inc()"
expect raw_counter "cs_health_band_transitions_total is read without g() or inc()"
expect no_history "cs_mrr is read without g() or inc()"
# Checks that need the configuration.
expect_cfg() { # case, message fragment
	out=$($CHECK --no-generated-check --config config/example.conf "$tmp/$1.json" 2>&1)
	rc=$?
	if [ $rc -eq 0 ] || ! printf '%s\n' "$out" | grep -q -- "$2"; then
		fail "checker --config accepted broken dashboard '$1' (want: $2)"
	fi
}
expect_cfg money "money unit currencyGBP is not the configured currency's currencyUSD"
expect_cfg foreign "label tier is no configured dimension"

# Two dashboards sharing a uid.
cp dashboards/grafana/cs-overview.json "$tmp/a.json"
cp dashboards/grafana/cs-overview.json "$tmp/b.json"
$CHECK --no-generated-check "$tmp/a.json" "$tmp/b.json" 2>&1 | grep -q "already used" ||
	fail "checker accepted duplicate uids"

# An exposition without a family the dashboards use.
grep -v '^#' dashboards/metrics.txt | awk 'NF && $1 != "cs_nps_score" && $1 != "cs_customers" { print $1 " 1" }' >"$tmp/expo.txt"
$CHECK --exposition "$tmp/expo.txt" 2>&1 | grep -q "unknown metric cs_customers" ||
	fail "checker accepted a metric missing from the exposition"

# Queries can be dumped for a live Prometheus.
n=$($CHECK --dump-queries | grep -c .)
[ "$n" -gt 50 ] || fail "--dump-queries printed $n queries"
$CHECK --dump-queries | grep -q '\$' && fail "--dump-queries left a variable unsubstituted"

echo "== the configuration reader"
python3 tests/scripts/test_libconf.py 2>"$tmp/libconf.log" || fail "test_libconf.py: $(tail -20 "$tmp/libconf.log")"

echo "== rendering for another configuration (tier, country, EUR, 7d/28d; alerts)"
cfg=tests/configs/good/dashboards_tier.conf
out="$tmp/tier"
python3 dashboards/generate.py --config "$cfg" --out "$out" --selector 'job="cs_exporter"' ||
	fail "generate.py --config $cfg"
python3 dashboards/generate.py --config "$cfg" --out "$out" --selector 'job="cs_exporter"' --check ||
	fail "generate.py --check after rendering into --out"
$CHECK --no-generated-check --config "$cfg" --rules "$out/rules/recording.yaml" "$out/grafana" ||
	fail "dashboards rendered for $cfg"
"${PROMTOOL:-promtool}" check rules --lint=all --lint-fatal "$out/rules/recording.yaml" "$out/rules/alerts.yaml" >"$tmp/lint.log" 2>&1 ||
	fail "promtool check rules --lint=all of $out: $(tail -5 "$tmp/lint.log")"
if grep -n 'plan\|region' -r "$out" >"$tmp/grep.log"; then
	fail "the rendering for tier/country mentions plan or region: $(head -3 "$tmp/grep.log")"
fi
grep -rq 'currencyUSD' "$out" && fail "the rendering for EUR still uses currencyUSD"
[ "$(grep -rc '"unit": "currencyEUR"' "$out/grafana/cs-revenue.json")" -ge 5 ] ||
	fail "the revenue dashboard has no currencyEUR panels"
python3 - "$out" <<'PY' || fail "variables, windows or rule levels of the tier/country rendering"
import json, sys
out = sys.argv[1]
for name, windows in [("cs-revenue", "7d,28d,90d"), ("cs-adoption", "7d,28d"), ("cs-support", "7d,28d")]:
    d = json.load(open("%s/grafana/%s.json" % (out, name)))
    vs = {v["name"]: v for v in d["templating"]["list"]}
    assert list(vs) == ["datasource", "job", "instance", "tier", "country", "window"], (name, list(vs))
    assert vs["window"]["query"] == windows, (name, vs["window"]["query"])
    assert vs["window"]["current"]["value"] == "28d", name
    assert vs["job"]["query"] == 'label_values(cs_collector_up{job="cs_exporter"}, job)'
    assert d["time"]["from"] == "now-84d", d["time"]
rules = open("%s/rules/recording.yaml" % out).read()
for group in ("cs_exporter.job.rules", "cs_exporter.tier.rules", "cs_exporter.country.rules"):
    assert "name: %s\n" % group in rules, group
assert "record: country:cs_net_revenue_retention:ratio" in rules
assert 'sum by (job, instance, tier, currency) (cs_mrr{job="cs_exporter"})' in rules
# Alerts: the short window is 28d (closest to 30 days), the revenue
# collector's long window 90d; raw series carry the selector.
alerts = open("%s/rules/alerts.yaml" % out).read()
assert 'job:cs_customer_churn:ratio{window="28d"} > 0.0187' in alerts
assert 'job:cs_net_revenue_retention:ratio{window="90d"} < 0.95' in alerts
assert 'job:cs_nps:score{window="28d"}' in alerts
assert 'window="30d"' not in alerts
assert 'absent(up{job="cs_exporter"} == 1)' in alerts
assert 'cs_collector_up{job="cs_exporter"} == 0' in alerts
PY

echo "== rendering for the minimal configuration (no dimensions, outcomes only)"
cfg=tests/configs/good/minimal.conf
out="$tmp/minimal"
python3 dashboards/generate.py --config "$cfg" --out "$out" || fail "generate.py --config $cfg"
[ "$(cd "$out/grafana" && echo *.json)" = "cs-adoption.json cs-exporter.json" ] ||
	fail "minimal configuration: dashboards $(ls "$out/grafana")"
$CHECK --no-generated-check --config "$cfg" --rules "$out/rules/recording.yaml" "$out/grafana" ||
	fail "dashboards rendered for $cfg"
"${PROMTOOL:-promtool}" check rules --lint=all --lint-fatal "$out/rules/recording.yaml" "$out/rules/alerts.yaml" >/dev/null 2>&1 ||
	fail "promtool check rules --lint=all of $out"
# Only the outcomes collector: no KPI alert reads its series, so only the
# exporter's own alerts are rendered.
grep -q 'CustomerSuccessChurnSpike$' "$out/rules/alerts.yaml" &&
	fail "minimal configuration: alerts of unconfigured collector kinds rendered"
[ "$(grep -c -- '- alert: ' "$out/rules/alerts.yaml")" -eq 7 ] ||
	fail "minimal configuration: expected the 7 exporter alerts"

echo "== generate.py rejects what it cannot read"
printf 'segments = { dimensions = ["plan"]; };\nwindows = ["30d",\n  ;\n' >"$tmp/broken.conf"
rc=0
err=$(python3 dashboards/generate.py --config "$tmp/broken.conf" --out "$tmp/x" 2>&1) || rc=$?
if [ $rc -ne 2 ] || ! printf '%s' "$err" | grep -q "broken.conf:3: expected a value, found ';'"; then
	fail "generate.py on a broken config (exit $rc): $err"
fi
[ -e "$tmp/x" ] && fail "generate.py wrote files for a broken config"
python3 dashboards/generate.py --config tests/configs/good/dashboards_tier.conf --check >/dev/null 2>&1 &&
	fail "generate.py --check accepted dashboards/ for another configuration"
rc=0
err=$(python3 dashboards/generate.py --lookback 1x --out "$tmp/y" 2>&1) || rc=$?
if [ $rc -ne 2 ] || ! printf '%s' "$err" | grep -q -- "--lookback: '1x' is no duration"; then
	fail "generate.py --lookback 1x (exit $rc): $err"
fi
[ -e "$tmp/y" ] && fail "generate.py wrote files for a bad --lookback"

echo "== --lookback: the history step the KPI panels bridge"
python3 dashboards/generate.py --lookback 1w --out "$tmp/weekly" || fail "generate.py --lookback 1w"
grep -q '\[1w\]) unless on (job, instance) up{' "$tmp/weekly/grafana/cs-overview.json" ||
	fail "--lookback 1w: the panels do not look a week back"
grep -q '\[1d\]) unless' "$tmp/weekly/grafana/cs-overview.json" &&
	fail "--lookback 1w: a panel still looks back 1d"

if [ -n "$failed" ]; then
	echo "FAILED:$failed"
	exit 1
fi
echo "dashboards: all checks passed"
