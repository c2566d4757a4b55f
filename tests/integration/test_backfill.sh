#!/bin/bash
# Backfill: `cs_exporter backfill` over 60 days of demo history at 1d steps
# writes OpenMetrics that promtool imports; a real Prometheus serving those
# blocks answers historic instant queries with exactly the values
# `cs_exporter --once --as-of` computes at the same instants. Also: the file
# is well-formed (metadata once per family, each series contiguous and in
# time order, # EOF), bad flags exit 2, a failing collector exits 1 and is
# named, progress is a bar on a terminal and log lines otherwise.
. "$(dirname "$0")/../scripts/lib.sh"
set -eu

bin=$BUILD/cs_exporter
[ -x "$bin" ] || fail "no binary $bin (make BUILD=... all)"

# ---- flags: exit 2 before touching any database --------------------------
# A valid config, so that exit 2 comes from the flag under test; each case
# names the word its message must contain.
good=$CS_ROOT/config/example.conf
expect_usage() {
	word=$1
	shift
	set +e
	"$bin" backfill "$@" >"$T/usage.out" 2>"$T/usage.err"
	rc=$?
	set -e
	[ $rc -eq 2 ] || fail "backfill $* exited $rc, expected 2: $(cat "$T/usage.err")"
	grep -q -- "$word" "$T/usage.err" || fail "backfill $*: no \"$word\" in: $(cat "$T/usage.err")"
}
expect_usage nonexistent --config.file /nonexistent.conf --from 2026-01-01 --to 2026-01-02
expect_usage required --config.file "$good" --from 2026-01-01
expect_usage --step --config.file "$good" --from 2026-01-01 --to 2026-01-05 --step 1x
expect_usage --step --config.file "$good" --from 2026-01-01 --to 2026-01-05 --step 0d
expect_usage before --config.file "$good" --from 2026-02-01 --to 2026-01-05
expect_usage --from --config.file "$good" --from 2026-13-01 --to 2026-12-05
expect_usage --to --config.file "$good" --from 2026-01-01 --to yesterday
expect_usage bogus --config.file "$good" --from 2026-01-01 --to 2026-01-05 --bogus
expect_usage steps --config.file "$good" --from 2020-01-01 --to 2026-01-05 --step 1m
expect_usage "could not open" --config.file "$good" --from 2026-01-01 --to 2026-01-05 \
	--output "$T/no/such/dir/out.om"
"$bin" backfill --help | grep -q -- '--step' || fail "backfill --help does not document --step"

# ---- demo data -----------------------------------------------------------
pg_up "$T/pg"
# Anchored on a fixed day: the backfill range and the instants compared are
# fixed dates before it. Awkward names go through promtool's import too.
"$CS_ROOT/tests/demo/load.sh" "$T/pg" --accounts 500 --seed 11 --anchor 2026-11-01 --awkward \
	>"$T/load.log" 2>&1 ||
	fail "demo data load failed: $(tail -5 "$T/load.log")"
sed -e "s|@PGPORT@|$PGPORT|g" -e "s|@PGPASSFILE@|$T/pg/reader.pass|g" \
	"$CS_ROOT/config/demo.conf" >"$T/cs.conf"

from=2026-09-02
to=2026-10-31T00:00:00Z
"$bin" backfill --config.file "$T/cs.conf" --from "$from" --to "$to" --step 1d \
	--output "$T/backfill.om" 2>"$T/backfill.err" ||
	fail "backfill exited $?: $(tail -5 "$T/backfill.err")"

# Each step reads only the activity since the step before and merges it with
# what the earlier steps read, and the accounts (their query binds nothing)
# are read once: the file is byte for byte the one of a backfill that reads
# every dataset whole at every step, awkward rows included.
"$bin" backfill --config.file "$T/cs.conf" --from "$from" --to "$to" --step 1d --full-reads \
	--output "$T/full.om" 2>"$T/full.err" || fail "backfill --full-reads exited $?: $(tail -5 "$T/full.err")"
cmp -s "$T/backfill.om" "$T/full.om" ||
	fail "incremental and full reads differ: $(diff "$T/backfill.om" "$T/full.om" | head -5)"
grep -q '^cs_rows_rejected_total{dataset="activity",' "$T/full.om" ||
	fail "the awkward data has no rejected activity rows: the comparison proves less"
# Weekly steps, and steps longer than the window (each starts the memory
# again): still the same answers.
for st in 100d 7d; do
	"$bin" backfill --config.file "$T/cs.conf" --from 2026-06-01 --to "$to" --step $st \
		--output "$T/inc.$st.om" 2>/dev/null || fail "backfill --step $st failed"
	"$bin" backfill --config.file "$T/cs.conf" --from 2026-06-01 --to "$to" --step $st \
		--full-reads --output "$T/full.$st.om" 2>/dev/null || fail "backfill --step $st --full-reads failed"
	cmp -s "$T/inc.$st.om" "$T/full.$st.om" || fail "--step $st: incremental and full reads differ"
done

# What each step sends, from PostgreSQL's statement log: the accounts query
# (it binds no parameter) once for the whole range, the activity query from
# the step before on after the first step, everything else at every step;
# with --full-reads every query at every step.
pg_psql "$T/pg" -q -c "ALTER ROLE cs_reader SET log_statement = 'all'" >/dev/null
for mode in inc full; do
	start=$(stat -c %s "$T/pg/server.log")
	flag=
	[ $mode = full ] && flag=--full-reads
	"$bin" backfill --config.file "$T/cs.conf" --from 2026-10-01 --to 2026-10-10 $flag \
		--output "$T/log.$mode.om" 2>/dev/null || fail "backfill ($mode) for the statement log failed"
	python3 - "$T/pg/server.log" "$start" $mode <<'PY' || fail "backfill ($mode) reads: see above"
import re, sys
log, start, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]
text = open(log, "rb").read()[start:].decode("utf-8", "replace")
runs, cur = [], None
for line in text.split("\n"):
    if re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", line):
        m = re.search(r"LOG:  execute [^:]*: (.*)", line)
        cur = [m.group(1), []] if m else None
        if m:
            runs.append(cur)
        p = re.search(r"DETAIL:  parameters: (.*)", line)
        if p and runs:
            runs[-1][1] = re.findall(r"\$\d+ = '([^']*)'", p.group(1))
    elif cur is not None:
        cur[0] += "\n" + line
def runs_of(word):
    return [p for sql, p in runs if word in sql]
accounts = runs_of("stripe_customer_id__c AS billing_key")
activity = runs_of("FROM product_event\n") or [p for sql, p in runs if "AS cs_activity" in sql]
subs = runs_of("FROM subscription_periods p\n") or runs_of("JOIN prices pr")
days = ["2026-10-%02d 00:00:00+00" % d for d in range(1, 11)]
want_acc = 1 if mode == "inc" else 10
problems = []
if len(accounts) != want_acc:
    problems.append("accounts read %d times, expected %d" % (len(accounts), want_acc))
if len(subs) != 10:
    problems.append("subscriptions read %d times, expected 10" % len(subs))
if len(activity) != 10:
    problems.append("activity read %d times, expected 10" % len(activity))
else:
    for i, p in enumerate(activity):
        as_of, since = sorted(p)[1], sorted(p)[0]
        want = days[i - 1] if mode == "inc" and i > 0 else None
        if as_of != days[i]:
            problems.append("activity read %d at %s, expected %s" % (i, as_of, days[i]))
        if want and since != want:
            problems.append("activity read %d from %s, expected the step before, %s" % (i, since, want))
        if not want and not since.startswith("2026-07") and not since.startswith("2026-08"):
            problems.append("activity read %d from %s, expected the whole window" % (i, since))
print("%s: accounts %d, subscriptions %d, activity %d reads" % (mode, len(accounts), len(subs), len(activity)))
if problems:
    print("\n".join(problems))
    sys.exit(1)
PY
done
cmp -s "$T/log.inc.om" "$T/log.full.om" || fail "the two backfills of the statement log differ"
pg_psql "$T/pg" -q -c "ALTER ROLE cs_reader RESET log_statement" >/dev/null

# Progress: log lines when stderr is not a terminal, a bar when it is.
grep -q 'msg="backfill evaluated every step" steps=60 ' "$T/backfill.err" ||
	fail "no closing progress line: $(tail -3 "$T/backfill.err")"
if command -v script >/dev/null 2>&1; then
	script -qec "'$bin' backfill --config.file '$T/cs.conf' --from 2026-10-01 --to 2026-10-03 \
		--output '$T/tty.om'" /dev/null >"$T/tty.out" 2>&1 </dev/null ||
		fail "backfill on a terminal failed: $(tail -3 "$T/tty.out")"
	grep -q 'backfill \[#*\] 100% 3/3 took ' "$T/tty.out" ||
		fail "no progress bar on a terminal: $(tail -c 300 "$T/tty.out")"
	! grep -q 'backfill progress' "$T/tty.out" || fail "log lines instead of a bar on a terminal"
fi

# ---- the file is OpenMetrics as promtool and the spec want it ------------
python3 - "$T/backfill.om" <<'PY' || fail "backfill output is malformed"
import re, sys
lines = open(sys.argv[1], encoding="utf-8").read().split("\n")
assert lines[-1] == "" and lines[-2] == "# EOF", "does not end with # EOF"
lines = lines[:-2]
step0, nsteps = 1788307200, 60  # 2026-09-02, then daily to 2026-10-31
want_ts = {step0 + 86400 * i for i in range(nsteps)}
fams, seen_ts = {}, set()
fam = ftype = None
done_series, cur_key, last_ts = set(), None, {}
for ln in lines:
    if ln.startswith("#"):
        kw, name = ln.split(" ")[1:3]
        assert kw in ("HELP", "TYPE", "UNIT"), ln
        if name != fam:
            assert name not in fams, "metadata of %s twice" % name
            fams[name] = 0
            fam, ftype, cur_key = name, None, None
        if kw == "TYPE":
            ftype = ln.split(" ")[3]
        continue
    assert fam is not None, "sample before metadata: " + ln
    m = re.match(r'([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+) (\d+)$', ln)
    assert m, "bad sample line: " + ln
    sname, labels, _, ts = m.group(1), m.group(2) or "", m.group(3), int(m.group(4))
    suffixes = {"gauge": [""], "counter": ["_total"],
                "gaugehistogram": ["_bucket", "_gcount", "_gsum"]}[ftype]
    assert sname in [fam + s for s in suffixes], "%s outside family %s" % (sname, fam)
    fams[fam] += 1
    seen_ts.add(ts)
    # A series (a histogram without le) is one contiguous block in time order.
    pairs = re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*")', labels)
    key = (fam, ",".join(p for p in pairs if not p.startswith("le=")))
    if key != cur_key:
        assert key not in done_series, "series %s %s split" % key
        if cur_key:
            done_series.add(cur_key)
        cur_key = key
    full = (sname, labels)
    assert last_ts.get(full, -1) < ts, "time goes backwards in %s%s" % full
    last_ts[full] = ts
assert seen_ts == want_ts, "timestamps: got %d distinct, want %d" % (len(seen_ts), nsteps)
for f in ("cs_mrr", "cs_customers", "cs_nps_score", "cs_health_score",
          "cs_time_to_value_seconds", "cs_collector_up", "cs_rows_rejected"):
    assert fams.get(f), "no samples of " + f
PY

# ---- import and serve with a real Prometheus -----------------------------
promtool tsdb create-blocks-from openmetrics --quiet "$T/backfill.om" "$T/tsdb" \
	>"$T/promtool.log" 2>&1 || fail "promtool could not import: $(tail -5 "$T/promtool.log")"
pport=$(free_port)
cat >"$T/prometheus.yml" <<YML
global:
  scrape_interval: 1m
YML
# Retention counts back from the newest block: long enough for all of them.
start_bg prometheus prometheus --config.file "$T/prometheus.yml" --storage.tsdb.path "$T/tsdb" \
	--storage.tsdb.retention.time 10y --web.listen-address "127.0.0.1:$pport" --log.level warn
wait_http "http://127.0.0.1:$pport/-/ready" 60 ||
	fail "prometheus did not start: $(tail -5 "$T/prometheus.log")"

families="cs_mrr cs_customers cs_net_revenue_retention_ratio cs_customer_churn_ratio cs_nps_score
cs_arpa cs_health_score_bucket cs_collector_up cs_rows_rejected_total"
for at in 2026-09-02T00:00:00Z 2026-10-01T00:00:00Z 2026-10-31T00:00:00Z; do
	"$bin" --once --as-of "$at" --format openmetrics --config.file "$T/cs.conf" \
		>"$T/once.$at.om" 2>"$T/once.err" || fail "--once --as-of $at failed: $(cat "$T/once.err")"
	ts=$(date -u -d "$at" +%s)
	for fam in $families; do
		curl -fsS --get --data-urlencode "query=$fam" --data-urlencode "time=$ts" \
			"http://127.0.0.1:$pport/api/v1/query" >"$T/q.$at.$fam.json" ||
			fail "query $fam at $at failed"
	done
	# shellcheck disable=SC2086 # one argument per family
	python3 - "$T/once.$at.om" "$T" "$at" $families <<'PY' || fail "Prometheus and --once disagree at $at"
import json, math, re, sys
once, tdir, at, fams = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
def unescape(s):
    return re.sub(r'\\(.)', lambda m: "\n" if m.group(1) == "n" else m.group(1), s)
want = {}
for ln in open(once, encoding="utf-8"):
    m = re.match(r'([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$', ln.rstrip("\n"))
    if not m or ln.startswith("#") or m.group(1) not in fams:
        continue
    labels = frozenset((k, unescape(v)) for k, v in
                       re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"', m.group(2) or ""))
    want[(m.group(1), labels)] = float(m.group(3))
got = {}
for fam in fams:
    res = json.load(open("%s/q.%s.%s.json" % (tdir, at, fam)))["data"]["result"]
    for r in res:
        lab = dict(r["metric"])
        name = lab.pop("__name__")
        got[(name, frozenset(lab.items()))] = float(r["value"][1])
for fam in fams:
    n = sum(1 for k in want if k[0] == fam)
    assert n > 0, "--once has no %s at %s" % (fam, at)
missing = set(want) - set(got)
extra = set(got) - set(want)
assert not missing, "not in Prometheus: %s" % sorted(missing)[:3]
assert not extra, "only in Prometheus: %s" % sorted(extra)[:3]
bad = [(k, want[k], got[k]) for k in want if not math.isclose(want[k], got[k], rel_tol=1e-9)]
assert not bad, "values differ: %s" % bad[:3]
print("%s: %d series equal" % (at, len(want)))
PY
done >"$T/compare.log"

# ---- a failing collector: exit 1 ("some KPIs missing"), named, the rest
# still written. Its database answers, so the step is tried once more and
# the run does not wait for --retry.max-wait (5 minutes by default).
sed -e 's/FROM survey_response__c/FROM no_such_table/' "$T/cs.conf" >"$T/broken.conf"
grep -q no_such_table "$T/broken.conf" || fail "could not break the surveys query"
start=$(date +%s)
set +e
"$bin" backfill --config.file "$T/broken.conf" --from 2026-10-01 --to 2026-10-03 \
	--output "$T/broken.om" 2>"$T/broken.err"
rc=$?
set -e
took=$(($(date +%s) - start))
[ $rc -eq 1 ] || fail "backfill with a failing collector exited $rc, expected 1"
[ $took -lt 60 ] || fail "a collector's own failure waited ${took}s, as if the database were away"
[ "$(grep -c 'msg="backfill step failed, retrying"' "$T/broken.err")" = 1 ] ||
	fail "expected one retry (the first step's), got: $(grep 'retrying' "$T/broken.err")"
[ "$(grep -c '^cs_collector_up{collector="surveys"} 0 ' "$T/broken.om")" = 3 ] ||
	fail "surveys not down at each of the 3 steps"
grep -q 'msg="collector failed" collector=surveys' "$T/broken.err" || fail "failing collector not named: $(cat "$T/broken.err")"
grep -q 'msg="collector failed" collector=revenue' "$T/broken.err" && fail "revenue reported as failed: $(cat "$T/broken.err")"
grep -q '^cs_collector_up{collector="surveys"} 0 ' "$T/broken.om" || fail "surveys not down in the output"
grep -q '^cs_mrr{' "$T/broken.om" || fail "no cs_mrr in the output of a partly failed backfill"
grep -q '^cs_nps_score{' "$T/broken.om" && fail "cs_nps_score written although surveys failed"
tail -1 "$T/broken.om" | grep -qx '# EOF' || fail "partly failed output does not end with # EOF"
echo ok
