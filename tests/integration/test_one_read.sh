#!/bin/bash
# One evaluation, one universe, one read (docs/design.md, KPI definitions), shown from
# PostgreSQL's own statement log (log_statement = all for the exporter's role
# on this test's cluster):
#  - one --once runs each dataset query exactly once and each outcome query
#    once per window, all bound to the same instant t;
#  - a bad account row (read by all seven collectors) is counted once;
#  - a failing dataset fails only the collectors that need it;
#  - the daemon's first evaluation reads the same way, and in its scrape
#    every family has the same segment set and every collector the same
#    evaluation instant.
. "$(dirname "$0")/../scripts/lib.sh"
set -eu

as_of=2026-11-01T00:00:00Z
pg_up "$T/pg"
"$CS_ROOT/tests/demo/load.sh" "$T/pg" --accounts 300 --seed 5 >"$T/load.log" 2>&1 ||
	fail "demo data load failed: $(tail -5 "$T/load.log")"
sed -e "s|@PGPORT@|$PGPORT|g" -e "s|@PGPASSFILE@|$T/pg/reader.pass|g" \
	"$CS_ROOT/config/demo.conf" >"$T/cs.conf"
pg_psql "$T/pg" -q -c "ALTER ROLE cs_reader SET log_statement = 'all'" >/dev/null
log=$T/pg/server.log

# check_statements FROM_BYTE LABEL: the statements the exporter sent since
# byte FROM_BYTE of the server log.
check_statements() {
	python3 - "$log" "$1" "$2" "$CS_ROOT/config/demo.conf" <<'PY'
import re, sys
log, start, label, conf = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
text = open(log, "rb").read()[start:].decode("utf-8", "replace")
# Entries start with the log line prefix (a timestamp); SQL continues on
# the following lines.
entries, cur = [], None
for line in text.split("\n"):
    if re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", line):
        cur = [line]
        entries.append(cur)
    elif cur is not None:
        cur.append(line)
runs = []  # (sql, params)
for e in entries:
    body = "\n".join(e)
    m = re.search(r"LOG:  execute [^:]*: (.*)", body, re.S)
    if m:
        runs.append([m.group(1).strip(), ""])
        continue
    m = re.search(r"DETAIL:  parameters: (.*)", body, re.S)
    if m and runs:
        runs[-1][1] = m.group(1).strip()
counts = {}
for sql, params in runs:
    counts.setdefault(sql, []).append(params)
noutcomes = len(re.findall(r'^\s*name = "[a-z_]+";\s*$', open(conf).read().split("outcomes = (")[1].split(");")[0], re.M))
# The datasets demo.conf maps: the groups of its datasets block.
ndatasets = len(re.findall(r'^  [a-z_]+ = \{$', open(conf).read().split("\ndatasets = {")[1].split("\n};")[0], re.M))
nwindows = 2  # windows = ["30d", "90d"], the outcomes collector's
problems = []
datasets = [s for s, p in counts.items() if len(p) == 1]
outcomes = [s for s, p in counts.items() if len(p) > 1]
if len(datasets) != ndatasets:
    problems.append("%d queries ran once, expected the %d datasets" % (len(datasets), ndatasets))
if len(outcomes) != noutcomes:
    problems.append("%d queries ran more than once, expected the %d outcomes" % (len(outcomes), noutcomes))
for s in outcomes:
    p = counts[s]
    if len(p) != nwindows or len(set(p)) != nwindows:
        problems.append("outcome query ran %d times (%d distinct windows), expected %d: %s" % (len(p), len(set(p)), nwindows, s[:80]))
# Every bound instant is at most t, and the latest one of every query with
# parameters (as_of or window_end) is the same instant.
latest = set()
for sql, params in runs:
    vals = re.findall(r"\$\d+ = '([^']*)'", params)
    if vals:
        latest.add(max(vals))
print("%s: %d statements: %s" % (label, len(runs), ", ".join(str(len(p)) for p in counts.values())))
print("%s: latest bound instants: %s" % (label, sorted(latest)))
if len(latest) != 1:
    problems.append("queries bound different instants: %s" % sorted(latest))
if problems:
    print("\n".join(problems))
    sys.exit(1)
PY
}

# --- --once -------------------------------------------------------------
start=$(stat -c %s "$log")
"$BUILD/cs_exporter" --config.file "$T/cs.conf" --once --as-of "$as_of" >"$T/once1.prom" \
	2>"$T/once1.log" || fail "--once failed: $(tail -5 "$T/once1.log")"
check_statements "$start" once >"$T/once.check" 2>&1 ||
	fail "one --once: $(cat "$T/once.check")"
cat "$T/once.check"
grep -q "latest bound instants: \['2026-11-01 00:00:00+00'\]" "$T/once.check" ||
	fail "queries not bound to --as-of: $(cat "$T/once.check")"

# --- a bad account row counts once per evaluation -------------------------
rejected() {
	awk -v want="$2" '$1 == want { print $2; found = 1 } END { if (!found) print 0 }' "$1"
}
key='cs_rows_rejected_total{dataset="accounts",reason="negative_seats"}'
before=$(rejected "$T/once1.prom" "$key")
pg_psql "$T/pg" -q -d crm -c "UPDATE account SET seats__c = -4 WHERE id IN
	(SELECT id FROM account WHERE NOT isdeleted AND seats__c > 0 ORDER BY id LIMIT 3)" >/dev/null
"$BUILD/cs_exporter" --config.file "$T/cs.conf" --once --as-of "$as_of" >"$T/once2.prom" \
	2>"$T/once2.log" || fail "--once failed: $(tail -5 "$T/once2.log")"
after=$(rejected "$T/once2.prom" "$key")
[ $((after - before)) = 3 ] ||
	fail "3 more bad account rows moved $key from $before to $after, expected +3"
echo "3 bad account rows: $key $before -> $after"

# --- a failed dataset fails only the collectors that need it --------------
python3 - "$T/cs.conf" "$T/broken.conf" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
i = text.index("  trials = {")
j = text.index("};", i)
block = re.sub(r'query = ".*?";\n', 'query = "SELECT * FROM no_such_table WHERE $1 > $2";\n', text[i:j], count=1, flags=re.S)
open(sys.argv[2], "w").write(text[:i] + block + text[j:])
PY
rc=0
"$BUILD/cs_exporter" --config.file "$T/broken.conf" --once --as-of "$as_of" >"$T/broken.prom" \
	2>"$T/broken.log" || rc=$?
[ "$rc" = 1 ] || fail "--once with a failing trials query exited $rc, expected 1"
for c in revenue surveys adoption support outcomes health; do
	grep -qx "cs_collector_up{collector=\"$c\"} 1" "$T/broken.prom" ||
		fail "collector $c is down although it does not read trials"
done
grep -qx 'cs_collector_up{collector="trials"} 0' "$T/broken.prom" || fail "collector trials is not down"
grep -q '^cs_trials_ended{' "$T/broken.prom" && fail "trials families exposed from a failed read"
grep -q '^cs_mrr{' "$T/broken.prom" || fail "revenue families missing beside a failed trials read"
echo "a failing trials query: trials down, the six others up"

# --- the daemon: one evaluation, one universe, one instant ----------------
port=$(free_port)
start=$(stat -c %s "$log")
start_bg exporter "$BUILD/cs_exporter" --config.file "$T/cs.conf" \
	--web.listen-address "127.0.0.1:$port"
wait_http "http://127.0.0.1:$port/-/ready" 60 || fail "exporter not ready: $(tail -5 "$T/exporter.log")"
curl -fsS "http://127.0.0.1:$port/metrics" >"$T/scrape.prom"
# The demo's collectors share one interval: their first evaluation is one.
check_statements "$start" daemon >"$T/daemon.check" 2>&1 ||
	fail "daemon: $(cat "$T/daemon.check")"
cat "$T/daemon.check"
python3 - "$T/scrape.prom" <<'PY' || fail "scrape of one evaluation disagrees with itself"
import re, sys
dims = ("plan", "region")
segs, stamps = {}, set()
for line in open(sys.argv[1], encoding="utf-8"):
    if line.startswith("#"):
        continue
    m = re.match(r'([a-z_:]+)\{(.*)\} (\S+)$', line.strip())
    if not m:
        continue
    name, labels, value = m.groups()
    lv = dict(re.findall(r'([a-z_]+)="((?:[^"\\]|\\.)*)"', labels))
    if name == "cs_collector_evaluation_timestamp_seconds":
        stamps.add(value)
    if not all(d in lv for d in dims):
        continue
    # Ratios, means and DSO are omitted where undefined, the at-risk and
    # movers lists are bounded: only count and amount families must cover
    # every segment.
    if re.search(r"_ratio$|_score$|^cs_arpa$|_lifetime_value$|^cs_ticket_resolution_seconds$"
                 r"|^cs_days_sales_outstanding$|^cs_at_risk_account_mrr$|^cs_mrr_mover$", name):
        continue
    fam = re.sub(r"_(bucket|gcount|gsum)$", "", name)
    segs.setdefault(fam, set()).add(tuple(lv[d] for d in dims))
universe = set().union(*segs.values())
bad = {f: sorted(universe - s)[:3] for f, s in segs.items() if s != universe}
print("families: %d, segments: %d, evaluation instants: %s" % (len(segs), len(universe), sorted(stamps)))
ok = True
if bad:
    print("families missing segments: %s" % bad)
    ok = False
if ("unknown", "unknown") not in universe:
    print("the demo data has facts of unknown accounts: expected segment unknown")
    ok = False
if len(stamps) != 1:
    print("collectors carry different evaluation instants: %s" % sorted(stamps))
    ok = False
sys.exit(0 if ok else 1)
PY
echo ok
