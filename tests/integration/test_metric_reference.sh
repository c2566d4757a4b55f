#!/bin/bash
# docs/metrics.md and dashboards/metrics.txt are what build/metricref
# generates from the kind table (collectors/kinds.c) and the exporter's own
# table (collectors/self.h): a family added, renamed or relabelled without
# `make metric-reference` fails here, and so does a series the exporter
# writes that no table holds.
. "$(dirname "$0")/../scripts/lib.sh"
set -eu
cd "$CS_ROOT"

"$BUILD/metricref" markdown >"$T/metrics.md" || fail "metricref markdown failed"
"$BUILD/metricref" metrics-txt >"$T/metrics.txt" || fail "metricref metrics-txt failed"
diff -u docs/metrics.md "$T/metrics.md" >"$T/md.diff" ||
	fail "docs/metrics.md is stale, run make metric-reference: $(head -20 "$T/md.diff")"
diff -u dashboards/metrics.txt "$T/metrics.txt" >"$T/txt.diff" ||
	fail "dashboards/metrics.txt is stale, run make metric-reference: $(head -20 "$T/txt.diff")"
# Every family of the table is in both.
"$BUILD/metricref" families >"$T/families"
while IFS= read -r f; do
	grep -qF "\`$f\`" docs/metrics.md || fail "$f missing from docs/metrics.md"
	grep -q "^$f[_ ]" dashboards/metrics.txt || fail "$f missing from dashboards/metrics.txt"
done <"$T/families"
# Every family a live exporter writes (self-metrics included) is in the
# reference: a family emitted outside the tables would be missing.
pg_up "$T/pg"
"$CS_ROOT/tests/demo/load.sh" "$T/pg" --accounts 200 --seed 5 --anchor 2026-11-01 >"$T/load.log" 2>&1 ||
	fail "demo data load failed: $(tail -5 "$T/load.log")"
sed -e "s|@PGPORT@|$PGPORT|g" -e "s|@PGPASSFILE@|$T/pg/reader.pass|g" config/demo.conf >"$T/cs.conf"
port=$(free_port)
start_bg exporter "$BUILD/cs_exporter" --config.file "$T/cs.conf" --web.listen-address "127.0.0.1:$port"
wait_http "http://127.0.0.1:$port/-/ready" 60 || fail "the exporter never became ready"
# (text 0.0.4 gives a gauge histogram's _gcount and _gsum TYPE lines of their own)
curl -s "http://127.0.0.1:$port/metrics" | sed -n 's/^# TYPE \([^ ]*\) .*/\1/p' |
	sed 's/_gcount$\|_gsum$//' | sort -u >"$T/live"
[ -s "$T/live" ] || fail "no families on /metrics"
while IFS= read -r f; do
	grep -qF "| \`$f\` |" docs/metrics.md || fail "$f is on /metrics but not in docs/metrics.md"
done <"$T/live"
echo "ok: $(wc -l <"$T/families") KPI families, $(wc -l <"$T/live") families live, all in the reference"
