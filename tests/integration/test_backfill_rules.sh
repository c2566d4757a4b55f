#!/bin/bash
# Backfill the dashboards can see: `backfill --label job=... --label
# instance=...` gives the imported series the labels every panel and recording
# rule filters on, and the recipe of docs/backfill.md for recording-rule history works.
# On ten daily steps of a tiny demo: import with promtool, serve the blocks
# with a scratch Prometheus whose lookback covers a step, run `promtool tsdb
# create-blocks-from rules` for the shipped rule job:cs_mrr:sum against it,
# add the blocks it writes, restart Prometheus as it runs in production
# (default lookback) and query the recorded series over the range: it has a
# point in every hour of it, equal to sum(cs_mrr) of the preceding step.
. "$(dirname "$0")/../scripts/lib.sh"
set -eu

bin=$BUILD/cs_exporter
[ -x "$bin" ] || fail "no binary $bin (make BUILD=... all)"

pg_up "$T/pg"
"$CS_ROOT/tests/demo/load.sh" "$T/pg" --accounts 200 --seed 5 >"$T/load.log" 2>&1 ||
	fail "demo data load failed: $(tail -5 "$T/load.log")"
sed -e "s|@PGPORT@|$PGPORT|g" -e "s|@PGPASSFILE@|$T/pg/reader.pass|g" \
	"$CS_ROOT/config/demo.conf" >"$T/cs.conf"

# ---- --label: rejected names, exit 2 -------------------------------------
expect_usage() { # word args...
	word=$1
	shift
	set +e
	"$bin" backfill --config.file "$T/cs.conf" --from 2026-10-01 --to 2026-10-02 \
		--output "$T/usage.om" "$@" >/dev/null 2>"$T/usage.err"
	rc=$?
	set -e
	[ $rc -eq 2 ] || fail "backfill $* exited $rc, expected 2: $(cat "$T/usage.err")"
	grep -q -- "$word" "$T/usage.err" || fail "backfill $*: no \"$word\" in: $(cat "$T/usage.err")"
	[ ! -e "$T/usage.om" ] || fail "backfill $* left an output file"
}
expect_usage invalid --label job
expect_usage invalid --label =x
expect_usage invalid --label 1job=x
expect_usage invalid --label 'jo-b=x'
expect_usage empty --label job=
expect_usage reserved --label __name__=x
expect_usage already --label le=1
expect_usage already --label plan=x     # a segment dimension of the config
expect_usage twice --label job=a --label job=b
# A label a family always has: caught at the first step.
expect_usage '"window"' --label job=a --label window=30d
expect_usage '"collector"' --label collector=x

# ---- backfill with the live target's labels --------------------------------
job=cs_exporter
instance=127.0.0.1:9818
from=2026-10-01T00:00:00Z
to=2026-10-10T00:00:00Z
"$bin" backfill --config.file "$T/cs.conf" --from "$from" --to "$to" --step 1d \
	--label "job=$job" --label "instance=$instance" --output "$T/backfill.om" 2>"$T/backfill.err" ||
	fail "backfill exited $?: $(tail -5 "$T/backfill.err")"
# Not a terminal: progress as log lines, ending with the summary.
grep -q 'msg="backfill evaluated every step" steps=10 ' "$T/backfill.err" ||
	fail "no closing progress line: $(tail -3 "$T/backfill.err")"
n=$(grep -c '^[a-z_]*{' "$T/backfill.om")
l=$(grep -c "^[a-z_]*{.*,\?job=\"$job\",instance=\"$instance\"} " "$T/backfill.om")
[ "$n" -gt 0 ] && [ "$n" = "$l" ] || fail "$l of $n samples carry job and instance"

promtool tsdb create-blocks-from openmetrics --quiet "$T/backfill.om" "$T/tsdb" \
	>"$T/promtool.log" 2>&1 || fail "promtool could not import: $(tail -5 "$T/promtool.log")"

cat >"$T/prometheus.yml" <<YML
global:
  scrape_interval: 1m
YML
api=
start_prometheus() { # extra flags...
	pport=$(free_port)
	start_bg prometheus prometheus --config.file "$T/prometheus.yml" --storage.tsdb.path "$T/tsdb" \
		--storage.tsdb.retention.time 10y --web.listen-address "127.0.0.1:$pport" \
		--log.level warn "$@"
	prom_pid=$!
	wait_http "http://127.0.0.1:$pport/-/ready" 60 ||
		fail "prometheus did not start: $(tail -5 "$T/prometheus.log")"
	api=http://127.0.0.1:$pport/api/v1
}
q() { # query time
	curl -fsS --get --data-urlencode "query=$1" --data-urlencode "time=$2" "$api/query"
}
value() { # json on stdin: the single result's value, or "none"
	python3 -c 'import json, sys
r = json.load(sys.stdin)["data"]["result"]
print(r[0]["value"][1] if len(r) == 1 else "none")'
}

# ---- the scratch Prometheus: lookback of one step ------------------------
# Rule evaluations fall between the daily samples. With the default 5m
# lookback only those in the 5 minutes after each sample see it: the recorded
# series gets a few points a day, which queries at other instants (a
# dashboard's) never find. A lookback of one step makes every evaluation see
# the latest step. Only for this scratch server: live data would stay
# visible for a day after its target vanished.
start_prometheus --query.lookback-delta=1d
mid=$(date -u -d 2026-10-05T00:00:00Z +%s)
# A dashboard's selector finds the backfilled series.
v=$(q "sum(cs_mrr{job=~\"$job\",instance=~\"$instance\",plan=~\".+\",region=~\".+\"})" "$mid" | value)
[ "$v" != none ] || fail "the dashboards' selector finds no backfilled cs_mrr"

# One shipped recording rule, as generated.
rec=job:cs_mrr:sum
expr=$(grep -A1 -- "- record: $rec\$" "$CS_ROOT/dashboards/rules/recording.yaml" | sed -n 's/^ *expr: //p')
[ -n "$expr" ] || fail "no rule $rec in dashboards/rules/recording.yaml"
cat >"$T/rule.yaml" <<YML
groups:
  - name: backfill
    rules:
      - record: $rec
        expr: $expr
YML
promtool check rules "$T/rule.yaml" >/dev/null || fail "bad rule file"
start_s=$(date -u -d "$from" +%s)
end_s=$(($(date -u -d "$to" +%s) + 86400 - 1))
/usr/bin/time -f '%e s %M KB' -o "$T/rules.time" \
	promtool tsdb create-blocks-from rules --url "http://127.0.0.1:$pport" \
	--start "$start_s" --end "$end_s" --eval-interval 5m --output-dir "$T/rule-blocks" \
	"$T/rule.yaml" >"$T/rules.log" 2>&1 || fail "create-blocks-from rules: $(tail -5 "$T/rules.log")"
nb=$(find "$T/rule-blocks" -name meta.json | wc -l)
[ "$nb" -gt 0 ] || fail "create-blocks-from rules wrote no blocks: $(tail -5 "$T/rules.log")"

# ---- production settings: the recorded series over the whole range ---------
stop_bg "$prom_pid"
mv "$T/rule-blocks"/* "$T/tsdb/"
start_prometheus
curl -fsS --get --data-urlencode "query=$rec{job=\"$job\",instance=\"$instance\"}" \
	--data-urlencode "start=$((start_s + 3600))" --data-urlencode "end=$end_s" --data-urlencode "step=1h" \
	"$api/query_range" >"$T/range.json" || fail "range query of $rec failed"
python3 - "$T/range.json" "$start_s" "$end_s" <<'PY' || fail "$rec does not cover the range: $(head -c 300 "$T/range.json")"
import json, sys
res = json.load(open(sys.argv[1]))["data"]["result"]
start, end = int(sys.argv[2]), int(sys.argv[3])
assert res, "no series"
want = (end - start - 3600) // 3600 + 1  # from 01:00: the first evaluation is after midnight
for r in res:
    n = len(r["values"])
    assert n == want, "%s: %d of %d hourly points" % (r["metric"], n, want)
PY
# Its value at noon is sum(cs_mrr) of that midnight (the raw series are only
# visible for 5 minutes after each daily sample here).
for day in 2026-10-01 2026-10-05 2026-10-10; do
	d=$(date -u -d "${day}T00:00:00Z" +%s)
	raw=$(q "sum(cs_mrr{job=\"$job\",instance=\"$instance\"})" "$d" | value)
	got=$(q "sum($rec{job=\"$job\",instance=\"$instance\"})" "$((d + 43200))" | value)
	[ "$raw" != none ] || fail "no raw cs_mrr at $day"
	python3 -c "import sys; sys.exit(abs(float('$raw') - float('$got')) > 1e-6 * abs(float('$raw')))" ||
		fail "$rec at $day noon is $got, sum(cs_mrr) at midnight $raw"
done
echo "rules backfill: $nb blocks, $(cat "$T/rules.time")"
echo ok
