#!/bin/bash
# Quiet logs (docs/operations.md, "Logs"): the daemon on the demo (the
# awkward company: every kind of invalid row) with every collector at a 1 s
# interval logs one "rows rejected" summary per dataset over ten or more
# evaluations, not one per evaluation; a new bad row changes a dataset's
# summary, which gets one new line, and only that dataset.
. "$(dirname "$0")/../scripts/lib.sh"
set -eu

. "$CS_ROOT/tests/scripts/tiny.sh"
pg_up "$T/pg"
"$CS_ROOT/tests/demo/load.sh" "$T/pg" --accounts 200 --seed 5 --anchor "$(date -u +%Y-%m-%d)" --awkward \
	>"$T/load.log" 2>&1 || fail "demo data load failed: $(tail -5 "$T/load.log")"
sed -e "s|@PGPORT@|$PGPORT|g" -e "s|@PGPASSFILE@|$T/pg/reader.pass|g" \
	-e 's/interval = "30s"; timeout = "30s";/interval = "1s"; timeout = "1s";/' \
	-e 's/interval = "[0-9]*[mh]"; timeout = "[0-9]*[sm]";/interval = "1s"; timeout = "1s";/' \
	"$CS_ROOT/config/demo.conf" >"$T/cs.conf"
grep -q 'interval = "30s"' "$T/cs.conf" && fail "an interval was not shortened: $(grep interval "$T/cs.conf")"

port=$(free_port)
start_bg exporter "$BUILD/cs_exporter" --config.file "$T/cs.conf" \
	--web.listen-address "127.0.0.1:$port" --log.level info 2>"$T/exporter.log"
wait_http "http://127.0.0.1:$port/-/ready" 60 || fail "exporter not ready: $(tail -5 "$T/exporter.log")"

# runs_at_least N: every collector has run N times.
runs_at_least() {
	scrape | awk -v n="$1" '/^cs_collector_runs_total\{/ { c++; if ($2 < n) low++ } END { exit !(c > 0 && !low) }'
}
for _ in $(seq 1 600); do runs_at_least 11 && break; sleep 0.2; done
runs_at_least 11 || fail "collectors did not run 11 times: $(scrape | grep '^cs_collector_runs_total')"

lines() { grep 'msg="rows rejected"' "$T/exporter.log" | grep -c "dataset=$1 " || true; }
datasets=$(grep 'msg="rows rejected"' "$T/exporter.log" | grep -o 'dataset=[^ ]*' | sort -u | cut -d= -f2)
[ "$(echo "$datasets" | wc -w)" -ge 3 ] || fail "the awkward demo should reject rows of several datasets: $datasets"
for ds in $datasets; do
	[ "$(lines "$ds")" = 1 ] || fail "dataset $ds: $(lines "$ds") summaries over 11 evaluations, expected 1:
$(grep 'msg="rows rejected"' "$T/exporter.log" | grep "dataset=$ds ")"
done
before=$(grep -c 'msg="rows rejected"' "$T/exporter.log")

# A ticket without a creation date: the tickets summary changes.
old=$(grep 'msg="rows rejected"' "$T/exporter.log" | grep 'dataset=tickets ' | grep -o 'rejected=[0-9]*' || echo rejected=0)
pg_psql "$T/pg" -qX -v ON_ERROR_STOP=1 -d crm -c \
	"INSERT INTO \"case\" (id, accountid, casenumber, isescalated) VALUES ('quiet-logs', 'x', 999999, false)"
runs=$(scrape | awk '/^cs_collector_runs_total\{collector="support"\}/ { print $2 }')
for _ in $(seq 1 300); do
	[ "$(scrape | awk '/^cs_collector_runs_total\{collector="support"\}/ { print $2 }')" -ge $((runs + 4)) ] && break
	sleep 0.2
done
new=$(grep 'msg="rows rejected"' "$T/exporter.log" | grep 'dataset=tickets ' | tail -1 | grep -o 'rejected=[0-9]*')
[ "${new#rejected=}" = $((${old#rejected=} + 1)) ] || fail "tickets: $old, then $new after one bad row"
after=$(grep -c 'msg="rows rejected"' "$T/exporter.log")
[ "$after" = $((before + 1)) ] || fail "expected one new line, got $((after - before)):
$(grep 'msg="rows rejected"' "$T/exporter.log" | tail -n +$((before + 1)))"
echo ok
