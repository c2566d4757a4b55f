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
if [ -n "$EXPO" ]; then
	$CHECK --exposition "$EXPO" || fail "check_dashboards.py --exposition $EXPO"
else
	$CHECK || fail "check_dashboards.py"
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
def expr(x, e): x["panels"][0]["targets"][0]["expr"] = e
case("counter", lambda x: expr(x, "sum(cs_rows_rejected_total)"))
case("gauge_rate", lambda x: expr(x, "sum(rate(cs_mrr[5m]))"))
case("avg_ratio", lambda x: expr(x, 'avg(cs_net_revenue_retention_ratio{window="30d"})'))
case("unknown", lambda x: expr(x, "sum(cs_no_such_metric)"))
case("syntax", lambda x: expr(x, "sum(cs_mrr"))
case("unit", lambda x: x["panels"][1]["fieldConfig"]["defaults"].pop("unit"))
case("description", lambda x: x["panels"][1].pop("description"))
case("datasource", lambda x: x["panels"][2].update(datasource={"type": "prometheus", "uid": "${DS_PROMETHEUS}"}))
case("target_ds", lambda x: x["panels"][2]["targets"][0].update(datasource={"uid": "prom"}))
case("id", lambda x: x.update(id=7))
case("uid", lambda x: x.update(uid="x" * 41))
case("schema", lambda x: x.pop("schemaVersion"))
case("allvalue", lambda x: x["templating"]["list"][3].pop("allValue"))
case("novar", lambda x: x["templating"].update(list=x["templating"]["list"][:3]))
case("nps_unit", lambda x: x["panels"][4]["fieldConfig"]["defaults"].update(unit="percent"))
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

if [ -n "$failed" ]; then
	echo "FAILED:$failed"
	exit 1
fi
echo "dashboards: all checks passed"
