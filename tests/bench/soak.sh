#!/bin/bash
# `make soak`: does the exporter hold steady over many cycles?
#
#   BUILD=build SOAK_CYCLES=1000 tests/bench/soak.sh
#
# Runs every collector of the demo config at a 1 s interval on the small demo
# data (1,000 accounts, in tests/out/bench/pg-soak-1000) until
# each collector has run SOAK_CYCLES times (default 1000, about 20 minutes),
# while a client scrapes /metrics continuously (10 a second, rotating plain,
# gzip and OpenMetrics). Reports RSS after the warm-up and at the end, the
# growth (target < 1 MB), the cycles, the scrapes and every warning or error
# in the exporter's log, and keeps an RSS trace in tests/out/soak.*/rss.tsv.
#
# Exits 1 when the exporter died, a cycle failed, a scrape failed or the log
# has a warning or an error. Growth is reported, not asserted, unless
# SOAK_MAX_GROWTH_KB is set.
#
# Environment: SOAK_CYCLES (default 1000), SOAK_WARMUP (cycles before the
# first RSS reading, default 1/10 of SOAK_CYCLES, at least 5), SOAK_ACCOUNTS
# (default 1000), SOAK_SEED (default 1), SOAK_STORM=1: also, alongside, basic
# auth on every scrape with a flood of wrong passwords (4 clients, bounded by
# the soak's length), and every 10 s a storm of 5 SIGHUPs with the config
# unchanged then one that switches between two configs (a changed rate).
# Its logs are what it reports on: kept (tests/scripts/lib.sh).
CS_KEEP_OUT=${CS_KEEP_OUT:-1}
. "$(dirname "$0")/../scripts/lib.sh"
set -eu

CONF=$CS_ROOT/tests/bench/benchconf.py
BIN=$BUILD/cs_exporter
CYCLES=${SOAK_CYCLES:-1000}
WARMUP=${SOAK_WARMUP:-$((CYCLES / 10))}
[ "$WARMUP" -ge 5 ] || WARMUP=5
[ "$WARMUP" -lt "$CYCLES" ] || WARMUP=$((CYCLES - 1))
ACCOUNTS=${SOAK_ACCOUNTS:-1000}
SEED=${SOAK_SEED:-1}
# The exporter evaluates at now: the data is anchored today, read once so
# that the check and the load agree.
ANCHOR=$(date -u +%Y-%m-%d)
# Its own cluster: the benchmarks stop theirs when they end.
PGDIR=$CS_ROOT/tests/out/bench/pg-soak-$ACCOUNTS

[ -x "$BIN" ] || fail "$BIN not found: run \`make BUILD=... all\` first"
case "$CYCLES" in '' | *[!0-9]* | 0) fail "SOAK_CYCLES must be a positive integer" ;; esac

pg_up "$PGDIR"
if ! "$CS_ROOT/tests/demo/load.sh" "$PGDIR" --accounts "$ACCOUNTS" --seed "$SEED" --anchor "$ANCHOR" --check; then
	echo "loading $ACCOUNTS accounts into $PGDIR" >&2
	"$CS_ROOT/tests/demo/load.sh" "$PGDIR" --accounts "$ACCOUNTS" --seed "$SEED" --anchor "$ANCHOR" \
		>"$T/load.log" 2>&1 ||
		fail "demo load failed: $(tail -5 "$T/load.log")"
fi

collectors=$(python3 "$CONF" render "$CS_ROOT/config/demo.conf" "$T/all.conf" --port "$PGPORT" \
	--passfile "$PGDIR/reader.pass" && python3 "$CONF" collectors "$T/all.conf")
python3 "$CONF" render "$CS_ROOT/config/demo.conf" "$T/soak.conf" --port "$PGPORT" \
	--passfile "$PGDIR/reader.pass" --collectors "$(echo "$collectors" | sed 's/$/:1s/' | paste -sd,)"
ncoll=$(echo "$collectors" | wc -l)

STORM=${SOAK_STORM:-0}
port=$(free_port)
url=http://127.0.0.1:$port/metrics
extra=""
auth=""
if [ "$STORM" = 1 ]; then
	hash=$("$BUILD/bcrypt_hash" soakpass 10)
	printf 'basic_auth_users:\n  soak: "%s"\n' "$hash" >"$T/web.yml"
	extra="--web.config.file=$T/web.yml --web.enable-lifecycle"
	auth="soak:soakpass"
	python3 - "$T/soak.conf" "$T/soak-b.conf" <<'PY'
import re, sys
a = open(sys.argv[1]).read()
b, n = re.subn(r'gross_margin\s*=\s*([0-9.]+)', lambda m: "gross_margin = %s" % (float(m.group(1)) * 0.99), a)
if not n:
    b = a.replace("reporting = {", "reporting = { gross_margin = 0.99;", 1)
open(sys.argv[2], "w").write(b)
PY
	cmp -s "$T/soak.conf" "$T/soak-b.conf" && fail "storm setup: the second config equals the first"
	cp "$T/soak.conf" "$T/soak-a.conf"
fi
# A crash leaves a core file in $T for the post-mortem.
ulimit -c unlimited 2>/dev/null || true
cd "$T"
# shellcheck disable=SC2086
start_bg exporter "$BIN" --config.file "$T/soak.conf" --web.listen-address "127.0.0.1:$port" $extra
pid=$(cat "$T/exporter.pid")
CURL_AUTH=${auth:+-u $auth}
ready_url="http://${auth:+$auth@}127.0.0.1:$port/-/ready"
wait_http "$ready_url" 60 || fail "exporter not ready: $(tail -5 "$T/exporter.log")"

# The scraper counts its failures in a file the loop appends to.
: >"$T/scrape.fail"
: >"$T/scrape.count"
start_bg scraper bash -c '
	i=0
	while :; do
		case $((i % 3)) in
		0) h="Accept: text/plain" ;;
		1) h="Accept-Encoding: gzip" ;;
		2) h="Accept: application/openmetrics-text; version=1.0.0" ;;
		esac
		if ! curl -fsS --max-time 5 $4 -H "$h" -o /dev/null "$1" 2>>"$2"; then
			echo "$(date -u +%FT%TZ) scrape $i failed" >>"$2"
		fi
		i=$((i + 1))
		[ $((i % 10)) -ne 0 ] || echo "$i" >"$3"
		sleep 0.1
	done' scraper "$url" "$T/scrape.fail" "$T/scrape.count" "$CURL_AUTH"

if [ "$STORM" = 1 ]; then
	: >"$T/flood.count"
	for k in 1 2 3 4; do
		start_bg "flood$k" bash -c '
			n=0
			while :; do
				curl -s --max-time 5 -u "soak:wrong$RANDOM" -o /dev/null "$1" || true
				n=$((n + 1))
				[ $((n % 50)) -ne 0 ] || echo "$2 $n" >>"$3"
				sleep 0.02
			done' flood "$url" "$k" "$T/flood.count"
	done
	: >"$T/storm.count"
	start_bg stormer bash -c '
		i=0
		while :; do
			sleep 10
			for _ in 1 2 3 4 5; do kill -HUP "$1"; sleep 0.05; done
			# Replaced by a rename, as an operator'"'"'s tools do: a reload still
			# reading the file must never see half of it.
			if [ $((i % 2)) -eq 0 ]; then next=b; else next=a; fi
			cp "$2/soak-$next.conf" "$2/soak.conf.new" && mv "$2/soak.conf.new" "$2/soak.conf"
			kill -HUP "$1"
			i=$((i + 1))
			echo "$((i * 6))" >"$2/storm.count"
		done' stormer "$pid" "$T"
fi
# min_runs FILE: the fewest runs of any collector in an exposition
min_runs() {
	awk '/^cs_collector_runs_total\{/ { n++; if (min == "" || $2 < min) min = $2 } END { print (n ? min : 0), n + 0 }' "$1"
}
failures() { awk '/^cs_collector_failures_total\{/ { s += $2 } END { print s + 0 }' "$1"; }

printf 'time_s\tmin_runs\trss_kb\n' >"$T/rss.tsv"
t0=$(date +%s)
rss0=""
runs0=""
runs=0
# A run takes well under a second here; allow five per cycle before giving up.
deadline=$((t0 + CYCLES * 5 + 120))
while :; do
	kill -0 "$pid" 2>/dev/null || fail "the exporter died after $runs cycles: $(tail -5 "$T/exporter.log")"
	# shellcheck disable=SC2086
	curl -fsS --max-time 5 $CURL_AUTH "$url" >"$T/last.prom" 2>/dev/null || {
		sleep 1
		continue
	}
	read -r runs n <<<"$(min_runs "$T/last.prom")"
	rss=$(awk '$1 == "VmRSS:" { print $2 }' "/proc/$pid/status")
	printf '%s\t%s\t%s\n' "$(($(date +%s) - t0))" "$runs" "$rss" >>"$T/rss.tsv"
	if [ -z "$rss0" ] && [ "${runs%.*}" -ge "$WARMUP" ]; then
		rss0=$rss
		runs0=$runs
		echo "after warm-up ($runs cycles): RSS $rss kB" >&2
	fi
	[ "${runs%.*}" -lt "$CYCLES" ] || break
	[ "$(date +%s)" -lt "$deadline" ] || fail "only $runs cycles before the deadline"
	sleep 5
done
# One sample can land in the middle of a run, while a collector holds its
# datasets; compare medians of ten samples (50 s) instead of single points.
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
rss0=$(awk -v w="$WARMUP" 'NR > 1 && $2 + 0 >= w { print $3 }' "$T/rss.tsv" | head -n 10 | median)
rss1=$(awk 'NR > 1 { print $3 }' "$T/rss.tsv" | tail -n 10 | median)
elapsed=$(($(date +%s) - t0))
hwm=$(awk '$1 == "VmHWM:" { print $2 }' "/proc/$pid/status")
scrapes=$(cat "$T/scrape.count" 2>/dev/null)
nfail=$(failures "$T/last.prom")
stop_pid() {
	kill -TERM "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}
stop_pid "$(cat "$T/scraper.pid")"
if [ "$STORM" = 1 ]; then
	stop_pid "$(cat "$T/stormer.pid")"
	for k in 1 2 3 4; do stop_pid "$(cat "$T/flood$k.pid")"; done
fi
stop_pid "$pid"
issues=$(grep -E 'level=(warn|error)' "$T/exporter.log" || true)
scrape_fail=$(grep -c 'failed$' "$T/scrape.fail" || true)
growth=$((rss1 - rss0))

cat <<REPORT

## Soak: $CYCLES cycles at a 1 s interval, $ACCOUNTS accounts

Machine: $(nproc) CPUs, $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo), $(awk '/^MemTotal/ { printf "%.1f GB", $2 / 1048576 }' /proc/meminfo) RAM, load average $(cut -d' ' -f1-3 /proc/loadavg) at the end

| measure | value |
|---|---:|
| collectors, each at interval 1s | $ncoll |
| cycles per collector (fewest) | $runs |
| wall time (s) | $elapsed |
| scrapes (plain, gzip, OpenMetrics in turn) | ${scrapes:-0}+ |
| failed scrapes | $scrape_fail |
| failed cycles (cs_collector_failures_total) | $nfail |
| RSS after warm-up of $runs0 cycles, median of 10 samples (kB) | $rss0 |
| RSS at the end, median of the last 10 samples (kB) | $rss1 |
| growth (kB), target < 1024 | $growth |
| peak RSS, VmHWM (kB) | $hwm |
| warnings and errors in the log | $(printf '%s' "$issues" | grep -c . || true) |
| SIGHUPs sent (SOAK_STORM=1: 5 unchanged + 1 switching config, every 10 s) | $(cat "$T/storm.count" 2>/dev/null || echo 0) |
| requests with a wrong password (SOAK_STORM=1, 4 clients) | $(awk '{ s[$1] = $2 } END { for (k in s) t += s[k]; print t + 0 }' "$T/flood.count" 2>/dev/null || echo 0)+ |

RSS trace: $T/rss.tsv
REPORT
if [ -n "$issues" ]; then
	echo "log:"
	echo "$issues" | head -20
fi

status=0
[ "$scrape_fail" -eq 0 ] || status=1
[ "$nfail" = 0 ] || status=1
[ -z "$issues" ] || status=1
if [ -n "${SOAK_MAX_GROWTH_KB:-}" ] && [ "$growth" -gt "$SOAK_MAX_GROWTH_KB" ]; then
	echo "soak: RSS grew by $growth kB, more than SOAK_MAX_GROWTH_KB=$SOAK_MAX_GROWTH_KB" >&2
	status=1
fi
exit $status
