#!/bin/bash
# Makes docs/status-page.png, the README's picture of the status page `/`:
# the demo company (500 accounts, seed 5, anchored today), the exporter on
# config/demo.conf until it has evaluated a few times, and a full-page
# screenshot by headless Chromium.
#
#   BUILD=build tests/scripts/status-page-shot.sh [OUT.png] [EVALUATIONS]
#
# Sourcing lib.sh needs a script two levels below the root: this one is.
# Its logs are what it reports on: kept (tests/scripts/lib.sh).
CS_KEEP_OUT=${CS_KEEP_OUT:-1}
. "$(dirname "$0")/lib.sh"
set -eu

out=${1:-$CS_ROOT/docs/status-page.png}
evals=${2:-4}
chromium=${CHROMIUM:-/usr/bin/chromium}

pg_up "$T/pg"
"$CS_ROOT/tests/demo/load.sh" "$T/pg" --accounts 500 --seed 5 --anchor "$(date -u +%Y-%m-%d)" \
	>"$T/load.log" 2>&1 || fail "demo data load failed: $(tail -5 "$T/load.log")"
sed -e "s|@PGPORT@|$PGPORT|g" -e "s|@PGPASSFILE@|$T/pg/reader.pass|g" \
	"$CS_ROOT/config/demo.conf" >"$T/cs.conf"
port=$(free_port)
base="http://127.0.0.1:$port"
start_bg exporter "$BUILD/cs_exporter" --config.file "$T/cs.conf" --web.listen-address "127.0.0.1:$port"
wait_http "$base/-/ready" 60 || fail "exporter not ready: $(tail -5 "$T/exporter.log")"
# the sparklines start at the second evaluation (30 s apart in the demo)
for _ in $(seq 1 $((evals * 40))); do
	runs=$(curl -fsS "$base/metrics" | sed -n 's/^cs_collector_runs_total{collector="revenue"} //p')
	[ "${runs%.*}" -ge "$evals" ] && break
	sleep 1
done
timeout 120 "$chromium" --headless --no-sandbox --disable-gpu --no-first-run \
	--disable-background-networking --disable-component-update --disable-sync \
	--hide-scrollbars --user-data-dir="$T/chromium-profile" --window-size=1280,3300 \
	--screenshot="$T/status.png" "$base/" >/dev/null 2>>"$T/chromium.log" ||
	fail "chromium --screenshot failed: $(tail -3 "$T/chromium.log")"
cp "$T/status.png" "$out"
curl -fsS "$base/" >"$T/status.html"
echo "wrote $out (page in $T/status.html)"
