#!/bin/bash
# docs/metrics.md and dashboards/metrics.txt are what build/metricref
# generates from the kind table (collectors/kinds.c): a family added, renamed
# or relabelled without `make metric-reference` fails here. (The exporter's
# own series at the end of metrics.txt are kept by hand and copied.)
. "$(dirname "$0")/../scripts/lib.sh"
set -eu
cd "$CS_ROOT"

"$BUILD/metricref" markdown >"$T/metrics.md" || fail "metricref markdown failed"
"$BUILD/metricref" metrics-txt dashboards/metrics.txt >"$T/metrics.txt" || fail "metricref metrics-txt failed"
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
echo "ok: $(wc -l <"$T/families") families"
