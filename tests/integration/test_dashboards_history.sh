#!/bin/bash
# Backfilled history shows on every dashboard panel. The demo (fixed anchor)
# is backfilled over 60 daily steps with the live target's job and instance,
# imported with promtool, and served by a real Prometheus with its default
# lookback (5 minutes). Against the dashboards rendered for the demo
# configuration (every variable at its default, $window the default window):
#
# - every panel query returns data at 06:17 of a backfilled day, and, for the
#   "change vs 30 days" tiles, at the 30-day offset;
# - over a 26-day range at Grafana's 2 h step every query has a point at every
#   step of a day or at none (no day shows only around midnight), and data
#   on most days;
# - the MRR tile at 06:17 is sum(cs_mrr) of that day's 00:00 sample in the
#   backfill file, and its change is that minus the sample 30 days before;
# - every variable finds its values over the dashboard's time range;
# - the Exporter dashboard stays on raw samples: its collector status is
#   there at 00:00 and absent at 06:17 (a stopped exporter looks stopped).
# Exempt: queries that read only counters through increase() (band
# transitions: what the daemon saw between two evaluations; the backfill
# writes 0, and increase() needs two samples) and the Exporter dashboard's
# queries of series the backfill leaves out (process, build, scrape, reload,
# durations, timestamps; docs/backfill.md). Both lists are printed.
. "$(dirname "$0")/../scripts/lib.sh"
set -eu

bin=$BUILD/cs_exporter
[ -x "$bin" ] || fail "no binary $bin (make BUILD=... all)"

pg_up "$T/pg"
"$CS_ROOT/tests/demo/load.sh" "$T/pg" --accounts 500 --seed 11 --anchor 2026-11-01 \
	>"$T/load.log" 2>&1 || fail "demo data load failed: $(tail -5 "$T/load.log")"
sed -e "s|@PGPORT@|$PGPORT|g" -e "s|@PGPASSFILE@|$T/pg/reader.pass|g" \
	"$CS_ROOT/config/demo.conf" >"$T/cs.conf"
python3 "$CS_ROOT/dashboards/generate.py" --config "$T/cs.conf" --out "$T/dash" ||
	fail "generate.py --config $T/cs.conf"

job=cs_exporter
instance=127.0.0.1:9818
"$bin" backfill --config.file "$T/cs.conf" --from 2026-09-02 --to 2026-10-31 --step 1d \
	--label "job=$job" --label "instance=$instance" --output "$T/backfill.om" 2>"$T/backfill.err" ||
	fail "backfill exited $?: $(tail -5 "$T/backfill.err")"
/usr/bin/time -f '%e s, peak RSS %M KB' -o "$T/import.time" \
	promtool tsdb create-blocks-from openmetrics --quiet "$T/backfill.om" "$T/tsdb" \
	>"$T/promtool.log" 2>&1 || fail "promtool could not import: $(tail -5 "$T/promtool.log")"
echo "import of 60 daily steps ($(du -h "$T/backfill.om" | cut -f1)): $(cat "$T/import.time")"

printf 'global:\n  scrape_interval: 1m\n' >"$T/prometheus.yml"
pport=$(free_port)
start_bg prometheus prometheus --config.file "$T/prometheus.yml" --storage.tsdb.path "$T/tsdb" \
	--storage.tsdb.retention.time 10y --web.listen-address "127.0.0.1:$pport" --log.level warn
wait_http "http://127.0.0.1:$pport/-/ready" 60 || fail "prometheus did not start: $(tail -5 "$T/prometheus.log")"

python3 "$CS_ROOT/tests/scripts/check_dashboards.py" --dump-queries --dump-format json \
	"$T/dash/grafana" >"$T/queries.json" || fail "could not extract the dashboards' queries"

python3 - "$T/queries.json" "http://127.0.0.1:$pport/api/v1" "$T/backfill.om" "$CS_ROOT" <<'PY' ||
import calendar, json, re, sys, time, urllib.parse, urllib.request

queries, api, om, root = json.load(open(sys.argv[1])), sys.argv[2], sys.argv[3], sys.argv[4]
sys.path.insert(0, root + "/tests/scripts")

def ts(s):
    return calendar.timegm(time.strptime(s, "%Y-%m-%dT%H:%M:%S"))

def get(path, **params):
    url = "%s/%s?%s" % (api, path, urllib.parse.urlencode(params, doseq=True))
    with urllib.request.urlopen(url, timeout=60) as r:
        return json.load(r)["data"]

def instant(expr, t):
    return get("query", query=expr, time=t)["result"]

AT = ts("2026-10-15T06:17:00")       # a backfilled day; 30 days before: 2026-09-15
DAY = ts("2026-10-15T00:00:00")
# Series the backfill does not write (docs/backfill.md: it describes the
# past, not the backfill's own process).
NOT_BACKFILLED = re.compile(r"\b(up|process_\w+|cs_exporter_build_info|"
                            r"cs_config_last_reload_successful|cs_collector_duration_seconds|"
                            r"cs_collector_last_success_timestamp_seconds|"
                            r"cs_collector_runs_total|cs_collector_failures_total)\{")
COUNTER_READ = re.compile(r"\b(increase|rate)\(cs_\w+\{[^{}]*\}\[[^\]]*\]")
problems, exempt, checked = [], [], 0
kpi = [q for q in queries if q["uid"] != "cs-exporter"]
assert len({q["uid"] for q in kpi}) >= 5, "fewer than 5 KPI dashboards rendered"

# ---- every query at 06:17 of a backfilled day (offsets 30 days back) -------
for q in queries:
    name = "%s %s" % (q["uid"], q["source"])
    if q["source"].startswith("variable "):
        # Grafana's label_values(metric, label): the series of the time range.
        sel = re.match(r"count by \((\w+)\) \((.*)\)$", q["expr"], re.S)
        assert sel, q["expr"]
        found = get("series", **{"match[]": sel.group(2), "start": AT - 7 * 86400, "end": AT})
        if not [s for s in found if sel.group(1) in s]:
            problems.append("variable without values over the range: %s" % name)
        checked += 1
        continue
    counters_only = "cs_" not in COUNTER_READ.sub("", q["expr"]) and "cs_" in q["expr"]
    if counters_only or (q["uid"] == "cs-exporter" and NOT_BACKFILLED.search(q["expr"])):
        exempt.append(name)
        continue
    if q["uid"] == "cs-exporter" and "vector(0)" not in q["expr"]:
        # Raw samples: there at the step, gone 6 hours later.
        if not instant(q["expr"], DAY) or instant(q["expr"], AT):
            problems.append("the Exporter dashboard's %s is not raw (present at 00:00, "
                            "absent at 06:17): %s" % (q["source"], q["expr"]))
        checked += 1
        continue
    checked += 1
    if not instant(q["expr"], AT):
        problems.append("no data at 2026-10-15 06:17%s: %s: %s" % (
            " (30-day offset)" if q["needs_history"] else "", name, q["expr"]))

# ---- range queries: whole days, at Grafana's 2 h step ----------------------
start, end = ts("2026-10-05T01:17:00"), ts("2026-10-30T23:17:00")
steps = range(start, end + 1, 7200)
for q in kpi:
    name = "%s %s" % (q["uid"], q["source"])
    if q["source"].startswith("variable ") or name in exempt:
        continue
    res = get("query_range", query=q["expr"], start=start, end=end, step=7200)["result"]
    have = {int(v[0]) for r in res for v in r["values"]}
    days = {}
    for s in steps:
        days.setdefault((s - start) // 86400, []).append(s in have)
    partial = [d for d, v in days.items() if any(v) and not all(v)]
    full = sum(all(v) for v in days.values())
    if partial:
        problems.append("%s: data at part of %d day(s) only: %s" % (name, len(partial), q["expr"]))
    if full < 0.8 * len(days):
        problems.append("%s: data on %d of %d days: %s" % (name, full, len(days), q["expr"]))

# ---- values: the MRR tile against the backfill file -----------------------
mrr = {}
with open(om, encoding="utf-8") as f:
    for line in f:
        if line.startswith("cs_mrr{"):
            v, t = line.rsplit(" ", 2)[1:]
            mrr[int(t)] = mrr.get(int(t), 0.0) + float(v)
tile = [q for q in queries if q["uid"] == "cs-overview" and q["expr"].startswith(
    "sum by (currency)(max without (instance) (cs_mrr{")]
assert len(tile) == 2, "no MRR tile with its change on the overview: %d" % len(tile)
for q in tile:
    got = sum(float(r["value"][1]) for r in instant(q["expr"], AT))
    want = mrr[DAY] - (mrr[DAY - 30 * 86400] if q["needs_history"] else 0)
    if abs(got - want) > 1e-6 * max(1, abs(mrr[DAY])):
        problems.append("MRR tile %s at 06:17 is %s, the file says %s" % (q["source"], got, want))

print("%d queries checked at 2026-10-15 06:17 (%d with a 30-day offset), %d exempt: %s"
      % (checked, sum(q["needs_history"] for q in queries if "%s %s" % (q["uid"], q["source"])
                       not in exempt), len(exempt), ", ".join(exempt)))
for p in problems:
    print("PROBLEM " + p)
sys.exit(1 if problems else 0)
PY
	fail "dashboards do not show the backfilled history (see above)"
echo ok
