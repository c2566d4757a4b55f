#!/bin/bash
# The exposition is served as two parts, the KPI part compressed once per
# change of the collectors' sets and the self part per tick, joined into one
# gzip member (exporter/serve/snapshot.h, lib/gzpiece.h). On the demo, in both
# formats: the gzip body decodes (Python's gzip module and gzip -dc, which
# check the CRC-32 and the length) to the plain body; each family appears once
# with its lines together, OpenMetrics ends with "# EOF" once, and promtool
# accepts the text. Then the data changes under the daemon: the plain body,
# decompressed at its first request and kept, follows the new KPI part.
. "$(dirname "$0")/../scripts/lib.sh"
set -eu

pg_up "$T/pg"
"$CS_ROOT/tests/demo/load.sh" "$T/pg" --accounts 300 --seed 5 --anchor "$(date -u +%Y-%m-%d)" \
	>"$T/load.log" 2>&1 || fail "demo data load failed: $(tail -5 "$T/load.log")"
sed -e "s|@PGPORT@|$PGPORT|g" -e "s|@PGPASSFILE@|$T/pg/reader.pass|g" \
	-e 's|interval = "30s"|interval = "2s"|' "$CS_ROOT/config/demo.conf" >"$T/cs.conf"
port=$(free_port)
start_bg exporter "$BUILD/cs_exporter" --config.file "$T/cs.conf" --web.listen-address "127.0.0.1:$port"
wait_http "http://127.0.0.1:$port/-/ready" 60 || fail "exporter not ready: $(tail -5 "$T/exporter.log")"

# scrape FORMAT NAME: NAME.gz (raw gzip bytes) and NAME.txt (plain), from one
# rendering: a tick between the two requests changes the process metrics, so
# the pair is taken again until both agree (at most 20 times).
scrape() {
	python3 - "http://127.0.0.1:$port/metrics" "$1" "$T/$2" <<'PY'
import gzip, sys, urllib.request
url, fmt, out = sys.argv[1:]
accept = "application/openmetrics-text; version=1.0.0" if fmt == "om" else "text/plain"
def get(enc):
    h = {"Accept": accept}
    if enc:
        h["Accept-Encoding"] = enc
    with urllib.request.urlopen(urllib.request.Request(url, headers=h), timeout=10) as r:
        return r.headers.get("Content-Encoding"), r.headers.get("Content-Type"), r.read()
for _ in range(20):
    ce, ct, z = get("gzip")
    assert ce == "gzip", "no gzip with Accept-Encoding: gzip (%s)" % ce
    pce, pct, plain = get(None)
    assert pce is None, "Content-Encoding %s without Accept-Encoding" % pce
    assert ct == pct and ct.startswith(accept), (ct, pct)
    if gzip.decompress(z) == plain:
        open(out + ".gz", "wb").write(z)
        open(out + ".txt", "wb").write(plain)
        sys.exit(0)
sys.exit("gzip and plain bodies never agreed")
PY
}

# shape FILE FORMAT: each family's metadata once and its samples together.
shape() {
	python3 - "$1" "$2" <<'PY'
import re, sys
text = open(sys.argv[1], encoding="utf-8").read()
om = sys.argv[2] == "om"
lines = text.splitlines()
if om:
    assert lines[-1] == "# EOF" and text.endswith("\n"), "does not end with # EOF"
    assert lines.count("# EOF") == 1, "# EOF more than once"
    lines = lines[:-1]
seen, cur = set(), None
for ln in lines:
    m = re.match(r"# TYPE (\S+) ", ln)
    if m:
        cur = m.group(1)
        assert cur not in seen, "family %s twice" % cur
        seen.add(cur)
        continue
    if ln.startswith("#"):
        continue
    name = re.match(r"[a-zA-Z_:][a-zA-Z0-9_:]*", ln).group(0)
    assert cur and name.startswith(cur), "%s outside its family (%s)" % (name, cur)
for f in ("cs_mrr", "cs_active_users", "cs_exporter_build_info", "process_cpu_seconds" if om
          else "process_cpu_seconds_total", "cs_collector_up"):
    assert f in seen, "no family %s" % f
print("%s: %d families" % (sys.argv[1], len(seen)))
PY
}

for fmt in text om; do
	scrape "$fmt" "$fmt" || fail "$fmt: gzip and plain bodies differ"
	gzip -dc <"$T/$fmt.gz" | cmp -s - "$T/$fmt.txt" || fail "$fmt: gzip -dc does not give the plain body"
	shape "$T/$fmt.txt" "$fmt" || fail "$fmt: families split or repeated"
done
promtool_metrics "$T/text.txt" || fail "promtool: $(head -5 "$T/text.txt.promtool")"

# The data changes: every account moves to a new plan (accounts are read whole
# at every evaluation), and the next evaluations' KPI part says so; the plain
# body (kept since the first plain scrape) too.
grep -q '^cs_customers{plan="Zeta"' "$T/text.txt" && fail "plan Zeta before the change"
pg_psql "$T/pg" -q -d crm -c "UPDATE account SET plan__c = 'Zeta'" >/dev/null ||
	fail "could not change the accounts"
gone=""
for _ in $(seq 1 60); do
	scrape text after || fail "after the change: gzip and plain bodies differ"
	if grep -q '^cs_customers{plan="Zeta"' "$T/after.txt"; then
		gone=1
		break
	fi
	sleep 0.5
done
[ -n "$gone" ] || fail "the plain body never showed the change"
scrape om after-om || fail "after the change: OpenMetrics gzip and plain bodies differ"
shape "$T/after.txt" text && shape "$T/after-om.txt" om || fail "after the change: families split"
echo ok
