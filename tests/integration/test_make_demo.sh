#!/bin/bash
# `make demo`'s script end to end, in a directory of the test's own: it starts
# a private cluster, loads a small company, renders config/demo.conf into a
# config whose header says where it came from (no @placeholder@ left, the
# template's instructions not copied), runs the exporter (here with --once at
# a fixed instant, as its usage text documents) and stops the cluster after.
. "$(dirname "$0")/../scripts/lib.sh"
set -eu

demo=$T/demo
DEMO_DIR=$demo DEMO_ACCOUNTS=200 DEMO_SEED=3 DEMO_ANCHOR=2026-11-01 DEMO_PORT=$(free_port) \
	"$CS_ROOT/tests/scripts/demo.sh" --once --as-of 2026-11-01T00:00:00Z \
	>"$T/demo.out" 2>"$T/demo.err" || fail "demo.sh exited $?: $(tail -5 "$T/demo.err")"

conf=$demo/cs_exporter.conf
[ -f "$conf" ] || fail "no rendered config at $conf"
head -1 "$conf" | grep -q '^# Rendered by `make demo` from config/demo.conf' ||
	fail "the rendered config does not say where it came from: $(head -2 "$conf")"
! grep -n '@[A-Z]*@' "$conf" >"$T/left.txt" || fail "placeholders left: $(head -3 "$T/left.txt")"
! grep -q 'This file is a TEMPLATE' "$conf" || fail "the template's instructions were copied"
grep -q "port = $(cat "$demo/pg/env" | sed -n 's/.*PGPORT=\([0-9]*\).*/\1/p')" "$conf" ||
	fail "the rendered config does not name the demo cluster's port"
"$BUILD/cs_exporter" --config.check --config.file "$conf" >/dev/null ||
	fail "the rendered config does not pass --config.check"

grep -q '^cs_mrr{' "$T/demo.out" || fail "no cs_mrr in the demo's exposition"
grep -q '^cs_collector_up{.*} 1$' "$T/demo.out" || fail "no collector up"
! grep -q '^cs_collector_up{.*} 0$' "$T/demo.out" || fail "a collector is down: $(grep '^cs_collector_up' "$T/demo.out")"
grep -q 'metrics:  http://127.0.0.1:' "$T/demo.out" || fail "the URL was not printed"

# The dashboards and rules rendered for the demo's own config, where it says:
# exactly what generate.py renders for it (cohorts by plan, as demo.conf sets).
grep -q "dashboards: $demo/dashboards/ " "$T/demo.out" || fail "the dashboards' path was not printed"
[ -f "$demo/dashboards/grafana/cs-revenue.json" ] && [ -f "$demo/dashboards/rules/recording.yaml" ] ||
	fail "no dashboards or rules in $demo/dashboards: $(ls -R "$demo/dashboards" 2>&1 | head -5)"
python3 "$CS_ROOT/dashboards/generate.py" --config "$conf" --out "$demo/dashboards" --check ||
	fail "the demo's dashboards are not the rendering of its config"
grep -q 'cohorts.*"plan"' "$CS_ROOT/config/demo.conf" || fail "config/demo.conf no longer sets cohort dimensions"
python3 - "$demo/dashboards/grafana/cs-revenue.json" <<'PY' || fail "the demo's cohort panels do not fit its config"
import json, sys
d = json.load(open(sys.argv[1]))
cohort = [t["expr"] for p in d["panels"] + [c for p in d["panels"] for c in p.get("panels", [])]
          for t in p.get("targets", []) if "cs_cohort_" in t.get("expr", "")]
assert cohort, "no cohort panels"
assert all('plan=~"$plan"' in e and "region" not in e for e in cohort), cohort[0]
PY

# The cluster was stopped on the way out.
! "$CS_ROOT/tests/scripts/pg.sh" status "$demo/pg" >/dev/null 2>&1 || fail "the demo cluster still runs"
echo ok
