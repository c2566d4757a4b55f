#!/bin/bash
# `make bench`: cs_exporter's performance at three data sizes, with the
# figures next to what they are measured against.
#
#   BUILD=build TIER="S M L" tests/bench/run.sh
#
# Tiers: S 1,000 accounts, M 100,000, L 1,000,000 (default: all three), and
# D 10,000 (the size of `make demo`, for the backfill target). Each
# tier's demo data lives in its own private cluster, tests/out/bench/pg-<TIER>,
# loaded once per (size, seed, generator version) and reused afterwards.
# For each tier one table of four parts is printed (markdown, so that it can be
# pasted into docs/benchmarks.md; a copy goes to tests/out/bench/):
#
#  1. Collection: wall time of `cs_exporter --once` with a config holding one
#     collector (then all of them: one evaluation), against psql running the
#     same queries with the same parameter values as literals, inside
#     COPY (...) TO STDOUT, output discarded; for all of them against the
#     floor, each dataset query once (sources in parallel, and one after the
#     other); peak RSS of the exporter (/usr/bin/time).
#  2. Scrapes: wrk (64 connections) against a cached exposition tuned to about
#     10,000 series, plain and gzip, with the exporter's own evaluations
#     running (every collector at BENCH_SCRAPE_INTERVAL); the same bytes
#     served by nginx as a static file (gzip_static for the compressed one),
#     the two servers up at once and measured alternately (exporter, nginx,
#     exporter, ... BENCH_ROUNDS times, medians), and Debian's
#     prometheus-sql-exporter serving as many rows of one query.
#  3. Interference: the scrape p99 while a collector cycles back to back
#     against an exporter with no evaluation running, alternately
#     (BENCH_ROUNDS times, medians).
#  4. Footprint: RSS once idle (also with incremental reads off, and the
#     floor: tests/tools/rssfloor.c), and start-up to the first served scrape.
#  5. Backfill: `cs_exporter backfill` of BENCH_BACKFILL_STEPS daily steps
#     ending at the anchor (default: a year, 365, on S and D; 30 on M and L,
#     extrapolated to a year; 3 in smoke mode), next to the same with
#     --full-reads (every step reads every dataset whole, as before the
#     backfill's memory) over BENCH_BACKFILL_FULL_STEPS (default 30).
#     Target on tier D: a year in under 2 minutes.
#  6. Incremental: the daemon, its clock at the end of the data (libfaketime),
#     every collector every BENCH_INC_INTERVAL: its first evaluation (a full
#     one) and BENCH_INC_TICKS steady ticks (activity read from the previous
#     instant less lookback), each with its wall time and the activity rows
#     it read, against the one-read floor of part 1 (measured again here).
#     Targets at tier M: a steady tick ≤ 0.15× a full evaluation, reading
#     ≤ 2 % of its activity rows; the full evaluation ≤ 1.2× the floor.
#
# Targets are printed next to the figures, not asserted: the machine is shared
# and the numbers are for people to read.
#
# Environment:
#   TIER            tiers to run (default "S M L")
#   BENCH_QUICK=1   smoke mode: 2 s wrk runs, one repetition (the integration
#                   test uses it)
#   BENCH_DURATION  seconds per wrk run (default: 30; 8 on tier S so that
#                   `make bench TIER=S` stays under two minutes)
#   BENCH_RUNS      repetitions of each timed cycle, median kept (default: 3
#                   on S, 1 on M and L)
#   BENCH_ROUNDS    alternating rounds of parts 2 and 3, medians kept
#                   (default: 3; 1 in smoke mode)
#   BENCH_SCRAPE_INTERVAL  the collectors' interval in part 2 (default 30s,
#                   the demo's)
#   BENCH_SEED      demo data seed (default 1)
#   BENCH_ANCHOR    the demo data's anchor day (default 2026-11-01: fixed, so
#                   that runs on different days measure the same data)
#   BENCH_AS_OF     evaluation instant of part 1 (default the anchor)
#   BENCH_PARTS     which parts to run: any of "collection serving backfill
#                   incremental" (default all; serving is parts 2 to 4)
#   BENCH_BACKFILL_STEPS, BENCH_BACKFILL_FULL_STEPS  see part 5
#   BENCH_INC_TICKS, BENCH_INC_INTERVAL  see part 6 (default 4 ticks; an
#                   interval of 15 s on S and D, 60 s on M, 300 s on L)
# Its logs are what it reports on: kept (tests/scripts/lib.sh).
CS_KEEP_OUT=${CS_KEEP_OUT:-1}
. "$(dirname "$0")/../scripts/lib.sh"
set -eu

BENCH=$CS_ROOT/tests/bench
CONF=$BENCH/benchconf.py
BIN=$BUILD/cs_exporter
OUT=$CS_ROOT/tests/out/bench
TIERS=${TIER:-S M L}
SEED=${BENCH_SEED:-1}
ANCHOR=${BENCH_ANCHOR:-2026-11-01}
AS_OF=${BENCH_AS_OF:-${ANCHOR}T00:00:00Z}
QUICK=${BENCH_QUICK:-0}
PARTS=" ${BENCH_PARTS:-collection serving backfill incremental} "
TARGET_SERIES=10000
mkdir -p "$OUT"

[ -x "$BIN" ] || fail "$BIN not found: run \`make BUILD=... all\` first"
# `make bench` installs the base packages only; the bench set comes here.
for tool in wrk nginx prometheus-sql-exporter psql curl python3 /usr/bin/time; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		"$CS_SCRIPTS/install-deps.sh" bench || fail "could not install the bench packages"
		break
	fi
done
for tool in wrk nginx prometheus-sql-exporter psql curl python3 /usr/bin/time; do
	command -v "$tool" >/dev/null 2>&1 || fail "$tool is missing: run tests/scripts/install-deps.sh bench"
done

accounts_of() {
	case "$1" in
	S) echo 1000 ;;
	M) echo 100000 ;;
	L) echo 1000000 ;;
	D) echo 10000 ;;
	*) fail "unknown tier \"$1\" (S, M, L or D)" ;;
	esac
}

# ---- small helpers ---------------------------------------------------------

now_ns() { date +%s%N; }

# median of the numbers on stdin
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "nan"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# ratio A B [FORMAT]: A / B, "n/a" when either is missing or B is 0
ratio() { awk -v a="$1" -v b="$2" -v f="${3:-%.2f}" 'BEGIN { if (a == "" || b == "" || a == "n/a" || b == "n/a" || b + 0 == 0) print "n/a"; else printf f "\n", a / b }'; }

# rss_kb PID [FIELD]: VmRSS (or VmHWM) of PID in kB
rss_kb() { awk -v f="${2:-VmRSS}:" '$1 == f { print $2 }' "/proc/$1/status" 2>/dev/null || echo n/a; }

mb() { awk -v k="$1" 'BEGIN { if (k == "n/a" || k == "") print "n/a"; else printf "%.1f\n", k / 1024 }'; }

# metric FILE NAME_WITH_LABELS: the value of one sample, empty when absent
metric() { awk -v k="$2" 'index($0, k " ") == 1 { print $2; exit }' "$1"; }

# load: the machine's 1-minute load average (the machine may be shared)
load() { cut -d' ' -f1 /proc/loadavg; }

# series FILE: number of samples in a text exposition
series() { grep -vc '^#' "$1" || true; }

# wrk_run NAME URL [gzip]: 64 connections for $DUR s; sets RPS P50 P99 (ms)
# and ERRS, keeps the log in $T/wrk.NAME.log.
wrk_run() {
	_log=$T/wrk.$1.log
	if [ "${3:-}" = gzip ]; then
		wrk -t2 -c64 -d"${DUR}s" --timeout 10s --latency -H 'Accept-Encoding: gzip' "$2" >"$_log" 2>&1 || true
	else
		wrk -t2 -c64 -d"${DUR}s" --timeout 10s --latency "$2" >"$_log" 2>&1 || true
	fi
	RPS=$(awk '/^Requests\/sec:/ { printf($2 < 100 ? "%.1f\n" : "%.0f\n", $2) }' "$_log")
	P50=$(awk '$1 == "50%" { print $2 }' "$_log" | to_ms)
	P99=$(awk '$1 == "99%" { print $2 }' "$_log" | to_ms)
	ERRS=$(awk '/Non-2xx/ { n += $NF } /Socket errors/ { gsub(",", ""); n += $4 + $6 + $8 + $10 } END { print n + 0 }' "$_log")
	[ -n "$RPS" ] || RPS=n/a
	# With no request completed wrk still prints a distribution of zeros.
	if awk '/ requests in / { exit $1 == 0 ? 0 : 1 }' "$_log"; then
		P50=n/a P99=n/a
	fi
	[ -n "$P50" ] || P50=n/a
	[ -n "$P99" ] || P99=n/a
}

# wrk prints 635.91us, 1.93ms, 1.02s, 1.5m
to_ms() {
	awk '{ v = $1; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v)
	       f = (u == "us") ? 0.001 : (u == "ms") ? 1 : (u == "s") ? 1000 : (u == "m") ? 60000 : 1
	       printf "%.2f\n", v * f }'
}

# wait_ready URL SECONDS PID: like wait_http, but gives up as soon as PID died
wait_ready() {
	_end=$(($(date +%s) + $2))
	while [ "$(date +%s)" -le "$_end" ]; do
		kill -0 "$3" 2>/dev/null || return 1
		curl -fsS -o /dev/null --max-time 5 "$1" 2>/dev/null && return 0
		sleep 0.2
	done
	return 1
}

# start_exporter NAME CONF SECONDS: the exporter on a free port, ready (every
# collector has run once) within SECONDS; sets cs_pid and url.
start_exporter() {
	_port=$(free_port)
	url=http://127.0.0.1:$_port/metrics
	start_bg "$1" "$BIN" --config.file "$2" --web.listen-address "127.0.0.1:$_port"
	cs_pid=$(cat "$T/$1.pid")
	wait_ready "http://127.0.0.1:$_port/-/ready" "$3" "$cs_pid" ||
		fail "$1 not ready: $(tail -5 "$T/$1.log")"
}

render() { # OUT [benchconf options]
	_o=$1
	shift
	python3 "$CONF" render "$CS_ROOT/config/demo.conf" "$_o" --port "$PGPORT" \
		--passfile "$PGDIR/reader.pass" "$@"
}

# ---- part 1: collection ----------------------------------------------------

# cycle_cs CONF TAG: runs `--once` $RUNS times; sets CS_S (median wall
# seconds), CS_RSS (max peak RSS, kB) and CS_OK (no when a run failed).
cycle_cs() {
	: >"$T/$2.walls"
	CS_RSS=0
	CS_OK=yes
	for _r in $(seq 1 "$RUNS"); do
		_a=$(now_ns)
		/usr/bin/time -f '%M' -o "$T/$2.rss" "$BIN" --config.file "$1" --once --as-of "$AS_OF" \
			>"$T/$2.prom" 2>"$T/$2.err" || CS_OK=no
		_b=$(now_ns)
		echo $(((_b - _a) / 1000)) | awk '{ print $1 / 1e6 }' >>"$T/$2.walls"
		_k=$(tail -n 1 "$T/$2.rss")
		[ "$_k" -le "$CS_RSS" ] 2>/dev/null || CS_RSS=$_k
	done
	CS_S=$(median <"$T/$2.walls")
}

# cycle_pg CONF COLLECTOR [parallel]: the queries one evaluation of COLLECTOR
# ("all": every collector, each dataset once, the floor) sends, through psql;
# sets PG_S. One psql session per source; with "parallel" the sources run at
# the same time (as the exporter reads them), else one after the other.
cycle_pg() {
	_d=$T/sql.$2
	python3 "$CONF" sql "$1" "$2" "$AS_OF" "$_d" >"$_d.list"
	: >"$_d.walls"
	: >"$_d.err"
	for _r in $(seq 1 "$RUNS"); do
		_a=$(now_ns)
		_pids=
		while read -r _src _file _host _port _db _user _pass; do
			if [ "${3:-}" = parallel ]; then
				PGPASSWORD=$(cat "$_pass") psql -X -q -v ON_ERROR_STOP=1 -h "$_host" \
					-p "$_port" -U "$_user" -d "$_db" -f "$_file" >/dev/null \
					2>>"$_d.err" &
				_pids="$_pids $!"
			else
				PGPASSWORD=$(cat "$_pass") psql -X -q -v ON_ERROR_STOP=1 -h "$_host" \
					-p "$_port" -U "$_user" -d "$_db" -f "$_file" >/dev/null \
					2>>"$_d.err" || echo "psql failed on $_file" >>"$_d.err"
			fi
		done <"$_d.list"
		for _p in $_pids; do
			wait "$_p" || echo "psql failed (parallel)" >>"$_d.err"
		done
		_b=$(now_ns)
		echo $(((_b - _a) / 1000)) | awk '{ print $1 / 1e6 }' >>"$_d.walls"
	done
	PG_S=$(median <"$_d.walls")
	if [ -s "$_d.err" ]; then
		echo "psql errors for $2: $(head -3 "$_d.err")" >&2
		PG_S=n/a
	fi
}

fmt3() { awk -v v="$1" 'BEGIN { if (v == "n/a") print v; else printf "%.3f", v }'; }

part_collection() {
	local tier=$1 accounts=$2 c pg_sum=0 rss_target floor_seq floor_par
	rss_target=$(awk -v n="$accounts" 'BEGIN { printf "%.1f", 64 + 300 * n / 1048576 }')
	echo
	echo "### 1. Collection (--once at $AS_OF, median of $RUNS)"
	echo
	echo "| collector | cs_exporter s | psql s | ratio | peak RSS MB | ok |"
	echo "|---|---:|---:|---:|---:|---|"
	render "$T/all.conf"
	echo "tier $tier: part 1, collection" >&2
	for c in $(python3 "$CONF" collectors "$T/all.conf"); do
		render "$T/one.$c.conf" --collectors "$c"
		cycle_cs "$T/one.$c.conf" "once.$c"
		cycle_pg "$T/one.$c.conf" "$c"
		pg_sum=$(awk -v a="$pg_sum" -v b="$PG_S" 'BEGIN { if (a == "n/a" || b == "n/a") print "n/a"; else print a + b }')
		printf '| %s | %.3f | %s | %s | %s | %s |\n' "$c" "$CS_S" "$(fmt3 "$PG_S")" \
			"$(ratio "$CS_S" "$PG_S")" "$(mb "$CS_RSS")" "$CS_OK"
	done
	cycle_pg "$T/all.conf" all
	floor_seq=$PG_S
	cycle_pg "$T/all.conf" all parallel
	floor_par=$PG_S
	cycle_cs "$T/all.conf" once.all
	TOTAL_RATIO=$(ratio "$CS_S" "$floor_par")
	TOTAL_RSS=$CS_RSS
	printf '| all: one evaluation vs the floor, sources in parallel | %.3f | %s | %s | %s | %s |\n' \
		"$CS_S" "$(fmt3 "$floor_par")" "$TOTAL_RATIO" "$(mb "$CS_RSS")" "$CS_OK"
	printf '| all: one evaluation vs the floor, sources one after the other | %.3f | %s | %s | | |\n' \
		"$CS_S" "$(fmt3 "$floor_seq")" "$(ratio "$CS_S" "$floor_seq")"
	printf '| all: one evaluation vs the per-collector queries summed | %.3f | %s | %s | | |\n' \
		"$CS_S" "$(fmt3 "$pg_sum")" "$(ratio "$CS_S" "$pg_sum")"
	echo
	echo "Targets: one evaluation ≤ 1.2× the floor at tiers M and L (here: $TOTAL_RATIO×);" \
		"peak RSS ≤ 64 MB + 300 B/account = $rss_target MB (here: $(mb "$TOTAL_RSS") MB)."
	echo "psql column: the same queries, parameters as literals, \`COPY (...) TO STDOUT\`" \
		"to /dev/null over TCP as cs_reader, one session per source; both sides include" \
		"process start and connection set-up. Per collector: the queries an evaluation of" \
		"that collector alone sends. The floor: each dataset query once, each outcome once" \
		"per window, as one evaluation of every collector sends them; the exporter reads" \
		"its sources in parallel, so its fair floor is the parallel one."
}

# ---- part 2: scrapes -------------------------------------------------------

peer_start() { # ROWS PORT
	local rows=$1 port=$2 pass
	pass=$(cat "$PGDIR/reader.pass")
	# Label values shaped like ours: two segment labels, a window, a feature.
	cat >"$T/peer.yml" <<YML
jobs:
- name: "bench"
  interval: '1h'
  connections:
  - 'postgres://cs_reader:$pass@127.0.0.1:$PGPORT/crm?sslmode=disable'
  queries:
  - name: "kpi"
    help: "benchmark rows, as many as cs_exporter's series"
    labels:
      - "plan"
      - "region"
      - "window"
      - "feature"
    values:
      - "value"
    query: |
      SELECT 'plan_' || (g % 7) AS plan, 'region_' || (g / 7 % 9) AS region,
             (g / 63 % 8) || 'd' AS "window", 'feature_' || (g / 504) AS feature,
             random() AS value
      FROM generate_series(1, $rows) g
YML
	start_bg peer prometheus-sql-exporter -config.file "$T/peer.yml" \
		-web.listen-address "127.0.0.1:$port"
	PEER_PID=$(cat "$T/peer.pid")
	for _ in $(seq 1 100); do
		if curl -fsS "http://127.0.0.1:$port/metrics" 2>/dev/null | grep -q '^sql_kpi{'; then
			return 0
		fi
		sleep 0.2
	done
	return 1
}

nginx_start() { # PORT
	local port=$1 user=""
	mkdir -p "$T/www" "$T/nginx"
	[ "$(id -u)" -ne 0 ] || user="user root;"
	cat >"$T/nginx.conf" <<CONF
$user
worker_processes auto;
daemon off;
pid $T/nginx/nginx.pid;
error_log $T/nginx/error.log warn;
events { worker_connections 1024; }
http {
	access_log off;
	client_body_temp_path $T/nginx/body;
	proxy_temp_path $T/nginx/proxy;
	fastcgi_temp_path $T/nginx/fastcgi;
	uwsgi_temp_path $T/nginx/uwsgi;
	scgi_temp_path $T/nginx/scgi;
	keepalive_requests 1000000;
	keepalive_timeout 60s;
	sendfile on;
	tcp_nopush on;
	server {
		listen 127.0.0.1:$port;
		root $T/www;
		location = /metrics {
			types { }
			default_type "text/plain; version=0.0.4; charset=utf-8";
			gzip_static on;
		}
	}
}
CONF
	start_bg nginx nginx -e "$T/nginx/error.log" -p "$T/nginx" -c "$T/nginx.conf"
	NGINX_PID=$(cat "$T/nginx.pid")
	wait_ready "http://127.0.0.1:$port/metrics" 10 "$NGINX_PID"
}

# quiet_pg: waits (up to a minute) until no query of cs_reader is running,
# so that an idle measurement does not pay for a stopped exporter's last one.
quiet_pg() {
	for _ in $(seq 1 300); do
		[ "$(pg_psql "$PGDIR" -Atc "SELECT count(*) FROM pg_stat_activity WHERE usename = 'cs_reader' AND state = 'active'" 2>/dev/null)" != 0 ] || return 0
		sleep 0.2
	done
}

# Runs parts 2, 3 and 4 on the tuned exposition.
part_serving() {
	local tier=$1 nw nf est port url cs_pid n bytes gzbytes wait_s
	local cs_rps cs_p50 cs_p99 cs_gz_rps cs_gz_p50 cs_gz_p99
	local ng_rps ng_p50 ng_p99 ng_gz_rps ng_gz_p50 ng_gz_p99
	local pe_rps pe_p50 pe_p99 pe_gz_rps pe_gz_p50 pe_gz_p99 pe_n pe_bytes
	local cs_err cs_gz_err ng_err ng_gz_err pe_err pe_gz_err busy_err
	local idle_rss idle_anon idle_file idle_pss scraped_rss busy_p99 busy_p50 busy_rps duty runs0 runs1 dur startup
	local noinc_rss noinc_anon floor_rss floor_anon floor_file
	local cs_url ng_url load0 load1 gz_rounds p99_rounds idle_pid idle_url r side enc
	local gz_rounds_med p99_rounds_med
	case "$tier" in S) wait_s=120 ;; M) wait_s=1200 ;; *) wait_s=7200 ;; esac
	rm -f "$T"/ab.*

	# The demo config exposes ~2.5k series; more windows and features give
	# ~10k. The first guess comes from part 1's exposition (or, without
	# part 1, from one --once of the demo config); the live one is
	# evaluated now rather than at the demo's anchor, so when it is off by
	# more than 7 % the guess is redone from it and the exporter restarted.
	if [ ! -s "$T/once.all.prom" ]; then
		render "$T/all.conf"
		"$BIN" --config.file "$T/all.conf" --once --as-of "$AS_OF" >"$T/once.all.prom" \
			2>"$T/once.all.err" || fail "--once failed: $(tail -3 "$T/once.all.err")"
	fi
	read -r nw nf est < <(python3 "$CONF" tune "$T/once.all.prom" "$TARGET_SERIES")
	for attempt in 1 2; do
		# Every collector at the demo's interval: the exporter's own
		# evaluations run during the scrapes, as on a live exporter.
		render "$T/scrape.conf" --windows "$nw" --features "$nf" --max-combinations 5000 \
			--collectors "$(python3 "$CONF" collectors "$T/all.conf" | sed "s/\$/:$SCRAPE_IV/" | paste -sd,)"
		echo "tier $tier: part 2, scrapes ($nw windows, $nf features: about $est series)" >&2
		start_exporter exporter "$T/scrape.conf" "$wait_s"
		curl -fsS "$url" >"$T/scrape.prom"
		n=$(series "$T/scrape.prom")
		if [ "$attempt" = 2 ] || { [ $((n * 100)) -ge $((TARGET_SERIES * 93)) ] &&
			[ $((n * 100)) -le $((TARGET_SERIES * 107)) ]; }; then
			break
		fi
		read -r nw nf est < <(python3 "$CONF" tune "$T/scrape.prom" "$TARGET_SERIES" "$nw" "$nf")
		stop_bg "$cs_pid"
	done
	sleep 1
	idle_rss=$(rss_kb "$cs_pid")
	idle_anon=$(rss_kb "$cs_pid" RssAnon)
	idle_file=$(rss_kb "$cs_pid" RssFile)
	# Proportional set size: shared library pages divided among the
	# processes that map them, the exporter's own share of memory.
	idle_pss=$(awk '$1 == "Pss:" { print $2 }' "/proc/$cs_pid/smaps_rollup" 2>/dev/null || echo n/a)
	curl -fsS -H 'Accept-Encoding: gzip' "$url" >"$T/scrape.prom.gz"
	bytes=$(wc -c <"$T/scrape.prom")
	gzbytes=$(wc -c <"$T/scrape.prom.gz")
	cs_url=$url

	# The ceiling: the same bytes as a static file, served while the
	# exporter runs, and measured in turn with it (exporter, nginx,
	# exporter, ...) so that both see the same load from the rest of the
	# machine; medians of the rounds.
	port=$(free_port)
	mkdir -p "$T/www"
	cp "$T/scrape.prom" "$T/www/metrics"
	cp "$T/scrape.prom.gz" "$T/www/metrics.gz"
	nginx_start "$port" || fail "nginx did not start: $(tail -3 "$T/nginx/error.log")"
	ng_url=http://127.0.0.1:$port/metrics
	load0=$(cut -d' ' -f1-3 /proc/loadavg)
	: >"$T/loads.2"
	for r in $(seq 1 "$ROUNDS"); do
		for side in cs ng; do
			for enc in plain gzip; do
				_u=$cs_url
				[ "$side" = cs ] || _u=$ng_url
				load >>"$T/loads.2"
				wrk_run "$side-$enc-$r" "$_u" "$([ "$enc" = gzip ] && echo gzip)"
				echo "$RPS $P50 $P99 $ERRS" >>"$T/ab.$side.$enc"
			done
		done
	done
	load1=$(cut -d' ' -f1-3 /proc/loadavg)
	# med SIDE ENC COLUMN: median of one column of the rounds; errors summed
	med() {
		if [ "$3" = 4 ]; then
			awk '{ n += $4 } END { print n + 0 }' "$T/ab.$1.$2"
		else
			awk -v c="$3" '$c != "n/a" { print $c }' "$T/ab.$1.$2" | median
		fi
	}
	cs_rps=$(med cs plain 1) cs_p50=$(med cs plain 2) cs_p99=$(med cs plain 3) cs_err=$(med cs plain 4)
	cs_gz_rps=$(med cs gzip 1) cs_gz_p50=$(med cs gzip 2) cs_gz_p99=$(med cs gzip 3) cs_gz_err=$(med cs gzip 4)
	ng_rps=$(med ng plain 1) ng_p50=$(med ng plain 2) ng_p99=$(med ng plain 3) ng_err=$(med ng plain 4)
	ng_gz_rps=$(med ng gzip 1) ng_gz_p50=$(med ng gzip 2) ng_gz_p99=$(med ng gzip 3) ng_gz_err=$(med ng gzip 4)
	# every round's gzip ratio, to show the spread
	gz_rounds=$(paste -d' ' "$T/ab.cs.gzip" "$T/ab.ng.gzip" |
		awk '{ printf "%s%s", (NR > 1 ? ", " : ""), ($5 + 0 ? sprintf("%.2f", $1 / $5) : "n/a") }')
	gz_rounds_med=$(echo "$gz_rounds" | tr ',' '\n' | grep -v n/a | median)
	scraped_rss=$(rss_kb "$cs_pid")
	dur=$(metric "$T/scrape.prom" 'cs_collector_duration_seconds{collector="health"}')
	stop_bg "$NGINX_PID"
	stop_bg "$cs_pid"

	# The peer: as many rows of one query.
	port=$(free_port)
	if peer_start "$n" "$port"; then
		curl -fsS "http://127.0.0.1:$port/metrics" >"$T/peer.prom"
		pe_n=$(series "$T/peer.prom")
		pe_bytes=$(wc -c <"$T/peer.prom")
		wrk_run peer "http://127.0.0.1:$port/metrics"
		pe_rps=$RPS pe_p50=$P50 pe_p99=$P99 pe_err=$ERRS
		wrk_run peer-gzip "http://127.0.0.1:$port/metrics" gzip
		pe_gz_rps=$RPS pe_gz_p50=$P50 pe_gz_p99=$P99 pe_gz_err=$ERRS
	else
		echo "prometheus-sql-exporter never served its rows: $(tail -3 "$T/peer.log")" >&2
		pe_n=n/a pe_bytes=n/a pe_rps=n/a pe_p50=n/a pe_p99=n/a pe_gz_rps=n/a pe_gz_p50=n/a pe_gz_p99=n/a
		pe_err=n/a pe_gz_err=n/a
	fi
	stop_bg "$PEER_PID"

	echo
	echo "### 2. Scrapes (wrk, 64 connections, ${DUR} s each)"
	echo
	echo "cs_exporter exposition: $n series, $bytes bytes ($gzbytes gzip), $nw windows ×" \
		"$nf features, every collector evaluated every $SCRAPE_IV during the runs; peer:" \
		"$pe_n series, $pe_bytes bytes. Exporter and nginx up at once, measured in turn" \
		"($ROUNDS rounds of exporter plain, gzip, nginx plain, gzip; medians); load average" \
		"$load0 before, $load1 after (1-minute load at each run: $(paste -sd' ' "$T/loads.2"))."
	echo
	echo "| server | encoding | req/s | p50 ms | p99 ms | errors | cs req/s ÷ | cs p99 ÷ |"
	echo "|---|---|---:|---:|---:|---:|---:|---:|"
	echo "| cs_exporter | plain | $cs_rps | $cs_p50 | $cs_p99 | $cs_err | | |"
	echo "| cs_exporter | gzip | $cs_gz_rps | $cs_gz_p50 | $cs_gz_p99 | $cs_gz_err | | |"
	echo "| nginx static | plain | $ng_rps | $ng_p50 | $ng_p99 | $ng_err | $(ratio "$cs_rps" "$ng_rps") | $(ratio "$cs_p99" "$ng_p99") |"
	echo "| nginx gzip_static | gzip | $ng_gz_rps | $ng_gz_p50 | $ng_gz_p99 | $ng_gz_err | $(ratio "$cs_gz_rps" "$ng_gz_rps") | $(ratio "$cs_gz_p99" "$ng_gz_p99") |"
	echo "| prometheus-sql-exporter | plain | $pe_rps | $pe_p50 | $pe_p99 | $pe_err | $(ratio "$cs_rps" "$pe_rps" '%.1f') | $(ratio "$cs_p99" "$pe_p99") |"
	echo "| prometheus-sql-exporter | gzip | $pe_gz_rps | $pe_gz_p50 | $pe_gz_p99 | $pe_gz_err | $(ratio "$cs_gz_rps" "$pe_gz_rps" '%.1f') | $(ratio "$cs_gz_p99" "$pe_gz_p99") |"
	echo
	echo "Targets: gzip ≥ 1.0× nginx \`gzip_static\` (here $(ratio "$cs_gz_rps" "$ng_gz_rps")×;" \
		"round by round: $gz_rounds, their median $gz_rounds_med), plain ≥ 0.5× nginx ($(ratio "$cs_rps" "$ng_rps")×)," \
		"p99 ≤ 2× nginx's (plain $(ratio "$cs_p99" "$ng_p99")×, gzip" \
		"$(ratio "$cs_gz_p99" "$ng_gz_p99")×); ≥ 100× the peer's throughput (plain" \
		"$(ratio "$cs_rps" "$pe_rps" '%.1f')×, gzip $(ratio "$cs_gz_rps" "$pe_gz_rps" '%.1f')×)." \
		"${dur:+The first evaluation took $(printf '%.2f' "$dur") s (cs_collector_duration_seconds of health).}"

	# Part 3: the same exposition, with no evaluation running (every
	# collector at 1h, after the first) and while the heaviest collector
	# cycles back to back (interval 1s; a run that overruns starts the next
	# at once). The busy exporter is started for each of its runs and
	# stopped after it (its queries cancelled), so that nothing evaluates
	# during the idle runs; the two are measured in turn.
	render "$T/idle.conf" --windows "$nw" --features "$nf" --max-combinations 5000 \
		--collectors "$(python3 "$CONF" collectors "$T/all.conf" | sed 's/$/:1h/' | paste -sd,)"
	render "$T/busy.conf" --windows "$nw" --features "$nf" --max-combinations 5000 \
		--collectors "$(python3 "$CONF" collectors "$T/all.conf" |
			awk '{ print $0 ($0 == "health" ? ":1s" : ":1h") }' | paste -sd,)"
	echo "tier $tier: part 3, interference" >&2
	start_exporter idle "$T/idle.conf" "$wait_s"
	idle_pid=$cs_pid idle_url=$url
	load0=$(cut -d' ' -f1-3 /proc/loadavg)
	: >"$T/loads.3"
	: >"$T/duty.3"
	for r in $(seq 1 "$ROUNDS"); do
		quiet_pg
		load >>"$T/loads.3"
		wrk_run "idle-$r" "$idle_url"
		echo "$RPS $P50 $P99 $ERRS" >>"$T/ab.idle"
		start_exporter busy "$T/busy.conf" "$wait_s"
		curl -fsS "$url" >"$T/busy0.prom"
		runs0=$(metric "$T/busy0.prom" 'cs_collector_runs_total{collector="health"}')
		load >>"$T/loads.3"
		wrk_run "busy-$r" "$url"
		echo "$RPS $P50 $P99 $ERRS" >>"$T/ab.busy"
		curl -fsS "$url" >"$T/busy1.prom"
		runs1=$(metric "$T/busy1.prom" 'cs_collector_runs_total{collector="health"}')
		dur=$(metric "$T/busy1.prom" 'cs_collector_duration_seconds{collector="health"}')
		[ -z "$dur" ] || dur=$(printf '%.2f' "$dur")
		# A run longer than the 1 s interval is followed by the next at once.
		awk -v a="$runs0" -v b="$runs1" -v d="$dur" -v t="$DUR" \
			'BEGIN { if (a == "" || b == "" || d == "") print "n/a"; else if (d >= 1) print "all"; else { x = (b - a) * d / t; if (x > 1) x = 1; printf "%.0f%%\n", 100 * x } }' >>"$T/duty.3"
		stop_bg "$cs_pid"
	done
	load1=$(cut -d' ' -f1-3 /proc/loadavg)
	stop_bg "$idle_pid"
	cs_rps=$(awk '{ print $1 }' "$T/ab.idle" | median) cs_p50=$(awk '{ print $2 }' "$T/ab.idle" | median)
	cs_p99=$(awk '{ print $3 }' "$T/ab.idle" | median) cs_err=$(awk '{ n += $4 } END { print n + 0 }' "$T/ab.idle")
	busy_rps=$(awk '{ print $1 }' "$T/ab.busy" | median) busy_p50=$(awk '{ print $2 }' "$T/ab.busy" | median)
	busy_p99=$(awk '{ print $3 }' "$T/ab.busy" | median) busy_err=$(awk '{ n += $4 } END { print n + 0 }' "$T/ab.busy")
	duty=$(paste -sd/ "$T/duty.3")
	p99_rounds=$(paste -d' ' "$T/ab.idle" "$T/ab.busy" |
		awk '{ printf "%s%s", (NR > 1 ? ", " : ""), ($3 + 0 ? sprintf("%.2f", $7 / $3) : "n/a") }')
	p99_rounds_med=$(echo "$p99_rounds" | tr ',' '\n' | grep -v n/a | median)

	echo
	echo "### 3. Interference (plain scrapes, ${DUR} s)"
	echo
	echo "Idle and busy exporters measured in turn, $ROUNDS rounds, medians; load average" \
		"$load0 before, $load1 after (1-minute load at each run: $(paste -sd' ' "$T/loads.3"))."
	echo
	echo "| exporter state | req/s | p50 ms | p99 ms | errors | p99 ÷ idle |"
	echo "|---|---:|---:|---:|---:|---:|"
	echo "| idle: no evaluation running | $cs_rps | $cs_p50 | $cs_p99 | $cs_err | 1.00 |"
	echo "| health cycling every 1 s (${dur:-?} s a run, busy $duty of the time) | $busy_rps | $busy_p50 | $busy_p99 | $busy_err | $(ratio "$busy_p99" "$cs_p99") |"
	echo
	echo "Target: p99 under a running cycle ≤ 1.5× idle (here: $(ratio "$busy_p99" "$cs_p99")×;" \
		"round by round: $p99_rounds, their median $p99_rounds_med)."

	# Part 4: footprint. Start-up is timed to the first 200 on /metrics,
	# which does not wait for any collector.
	: >"$T/startup.ms"
	for _ in 1 2 3 4 5; do
		port=$(free_port)
		python3 "$BENCH/firstscrape.py" "http://127.0.0.1:$port/metrics" 10 \
			"$BIN" --config.file "$T/scrape.conf" --web.listen-address "127.0.0.1:$port" \
			>>"$T/startup.ms" || true
	done
	startup=$(grep -v never "$T/startup.ms" | median)

	# The same exporter with the activity dataset read whole at every
	# evaluation: what the incremental reads' memory costs.
	render "$T/noinc.conf" --windows "$nw" --features "$nf" --max-combinations 5000 \
		--collectors "$(python3 "$CONF" collectors "$T/all.conf" | sed 's/$/:1h/' | paste -sd,)" \
		--incremental off
	start_exporter noinc "$T/noinc.conf" "$wait_s"
	sleep 1
	noinc_rss=$(rss_kb "$cs_pid") noinc_anon=$(rss_kb "$cs_pid" RssAnon)
	stop_bg "$cs_pid"
	# The floor: the exporter's libraries, an HTTP daemon and one
	# connection to the same database as the same role (TCP, SCRAM), and
	# nothing of the exporter (tests/tools/rssfloor.c).
	read -r _ floor_rss _ floor_anon _ floor_file < <("$BUILD/rssfloor" \
		"host=127.0.0.1 port=$PGPORT dbname=crm user=cs_reader password=$(cat "$PGDIR/reader.pass")" ||
		echo "rss n/a anon n/a file n/a")

	echo
	echo "### 4. Footprint"
	echo
	echo "| measure | value | target |"
	echo "|---|---:|---|"
	echo "| RSS idle, after the first cycle of every collector (MB) | $(mb "$idle_rss") | < 10 |"
	echo "| … of which anonymous: heap, stacks, the activity memory (MB) | $(mb "$idle_anon") | |"
	echo "| … of which file-backed: binary and shared libraries (MB) | $(mb "$idle_file") | |"
	echo "| PSS idle: shared pages divided among their users (MB) | $(mb "$idle_pss") | |"
	echo "| RSS idle, activity read whole at every evaluation (incremental off) (MB) | $(mb "$noinc_rss") | |"
	echo "| … of which anonymous (MB) | $(mb "$noinc_anon") | |"
	echo "| floor: the same libraries, an HTTP daemon and one connection, nothing of ours (MB) | $(mb "$floor_rss") | |"
	echo "| … of which file-backed (MB) | $(mb "$floor_file") | |"
	echo "| … of which anonymous (MB) | $(mb "$floor_anon") | |"
	echo "| RSS after the scrape runs (MB) | $(mb "$scraped_rss") | |"
	echo "| start-up to first served scrape (ms, median of 5) | $startup | ≤ 100 |"
}

# ---- part 5: backfill ------------------------------------------------------

part_backfill() { # TIER
	local steps full_steps to
	# A whole year where it fits in minutes; on M and L a month, extrapolated.
	case "$1" in
	S | D) steps=${BENCH_BACKFILL_STEPS:-365} ;;
	*) steps=${BENCH_BACKFILL_STEPS:-30} ;;
	esac
	full_steps=${BENCH_BACKFILL_FULL_STEPS:-30}
	if [ "$QUICK" = 1 ]; then
		steps=${BENCH_BACKFILL_STEPS:-3}
		full_steps=${BENCH_BACKFILL_FULL_STEPS:-3}
	fi
	to=${AS_OF%%T*}
	render "$T/backfill.$1.conf"
	echo "tier $1: part 5, backfill" >&2
	echo
	echo "### 5. Backfill (daily steps ending $to)"
	echo
	echo "| reads | steps | s | s per step | a year of daily steps (s) | peak RSS MB | output MB | ok |"
	echo "|---|---:|---:|---:|---:|---:|---:|---|"
	backfill_row "$1" "default: accounts once, activity since the step before" "$steps" ""
	if [ "$full_steps" != "$steps" ]; then
		backfill_row "$1" "default: accounts once, activity since the step before" "$full_steps" ""
	fi
	backfill_row "$1" "every dataset whole at every step (--full-reads)" "$full_steps" --full-reads
	echo
	echo "A year is measured when the steps are 365, extrapolated from the steps otherwise" \
		"(the first step reads the whole window either way)."
	echo "Target on tier D (the 10,000-account demo): a year of daily steps in under 120 s."
}

# backfill_row TIER LABEL STEPS [FLAG]: one backfill, one table row.
backfill_row() {
	local from t0 secs rss year ok=yes out=$T/backfill.$1.$3${4:-}
	from=$(date -u -d "$to - $(($3 - 1)) days" +%Y-%m-%d)
	t0=$(now_ns)
	# shellcheck disable=SC2086 # FLAG is one word or none
	/usr/bin/time -f '%M' -o "$out.rss" "$BIN" backfill --config.file "$T/backfill.$1.conf" \
		--from "$from" --to "$to" --step 1d --output "$out.om" $4 \
		--label job=cs_exporter --label instance=bench 2>"$out.log" || ok=no
	secs=$(awk -v a="$t0" -v b="$(now_ns)" 'BEGIN { printf "%.1f", (b - a) / 1e9 }')
	rss=$(tail -1 "$out.rss")
	if [ "$3" = 365 ]; then
		year=$secs
	else
		year=$(awk -v s="$secs" -v n="$3" 'BEGIN { printf "%.0f", s / n * 365 }')
	fi
	echo "| $2 | $3 | $secs | $(ratio "$secs" "$3" %.2f) | $year |" \
		"$(mb "$rss") | $(mb "$(($(stat -c %s "$out.om" 2>/dev/null || echo 0) / 1024))") | $ok |"
}

# ---- part 6: incremental ---------------------------------------------------

part_incremental() { # TIER
	local tier=$1 iv ticks fakelib off spec c floor_par full_s n
	case "$tier" in
	S | D) iv=${BENCH_INC_INTERVAL:-15} ;;
	M) iv=${BENCH_INC_INTERVAL:-60} ;;
	*) iv=${BENCH_INC_INTERVAL:-300} ;;
	esac
	ticks=${BENCH_INC_TICKS:-4}
	if [ "$QUICK" = 1 ]; then
		ticks=${BENCH_INC_TICKS:-2}
		iv=${BENCH_INC_INTERVAL:-5}
	fi
	echo "tier $tier: part 6, incremental ($ticks steady ticks every ${iv}s)" >&2
	echo
	echo "### 6. Incremental: the daemon's full evaluation and steady ticks"
	echo
	fakelib=$(ls /usr/lib/*/faketime/libfaketimeMT.so.1 2>/dev/null | head -1 || true)
	if [ -z "$fakelib" ]; then
		echo "Not measured: no libfaketime (tests/scripts/install-deps.sh)."
		return 0
	fi
	render "$T/all.conf"
	spec=
	for c in $(python3 "$CONF" collectors "$T/all.conf"); do
		spec="$spec${spec:+,}$c:${iv}s"
	done
	render "$T/inc.conf" --collectors "$spec"
	cycle_pg "$T/all.conf" all parallel
	floor_par=$PG_S
	# The daemon's clock starts at the end of the data (the anchor, 00:00).
	off=$(($(date -u -d "${AS_OF%%T*}" +%s) - $(date -u +%s)))
	case $off in -*) ;; *) off=+$off ;; esac
	_port=$(free_port)
	# FAKETIME_FORCE_MONOTONIC_FIX=0: libfaketime 0.9.10 otherwise rewrites the
	# deadline of a wait on a CLOCK_MONOTONIC condition variable (the scheduler's)
	# into the past, and the daemon spins a whole core between evaluations.
	start_bg inc env LD_PRELOAD="$fakelib" FAKETIME="$off" FAKETIME_DONT_FAKE_MONOTONIC=1 FAKETIME_FORCE_MONOTONIC_FIX=0 \
		"$BIN" --config.file "$T/inc.conf" --web.listen-address "127.0.0.1:$_port" \
		--log.level=debug
	cs_pid=$(cat "$T/inc.pid")
	: >"$T/inc.ticks"
	local last= end=$(($(date +%s) + (ticks + 2) * iv + 900))
	while [ "$(wc -l <"$T/inc.ticks")" -le "$ticks" ] && [ "$(date +%s)" -le "$end" ]; do
		kill -0 "$cs_pid" 2>/dev/null || fail "the daemon died: $(tail -5 "$T/inc.log")"
		if curl -fsS -o "$T/inc.prom" --max-time 5 "http://127.0.0.1:$_port/metrics" 2>/dev/null; then
			local ts
			ts=$(awk '/^cs_collector_evaluation_timestamp_seconds\{/ { print $2; exit }' "$T/inc.prom")
			if [ -n "$ts" ] && [ "$ts" != "$last" ]; then
				last=$ts
				echo "$ts $(awk '/^cs_collector_duration_seconds\{/ { print $2; exit }' "$T/inc.prom")" \
					"$(awk '/^cs_collector_rows\{/ { print $2; exit }' "$T/inc.prom")" >>"$T/inc.ticks"
			fi
		fi
		sleep 0.2
	done
	local rss
	rss=$(rss_kb "$cs_pid")
	stop_bg "$cs_pid"
	grep 'msg="activity read"' "$T/inc.log" |
		sed -E 's/.* read=([a-z]+) .* rows_read=([0-9]+) window_rows=([0-9]+).*/\1 \2 \3/' >"$T/inc.reads"
	n=$(wc -l <"$T/inc.ticks")
	[ "$n" -gt 1 ] || fail "part 6: fewer than two evaluations in $T/inc.log"
	echo "| evaluation | activity read | s | vs full | vs floor | activity rows read | of the full read's |"
	echo "|---|---|---:|---:|---:|---:|---:|"
	paste -d' ' "$T/inc.ticks" "$T/inc.reads" | head -n "$n" | awk -v floor="$floor_par" '
		NR == 1 { full = $2; fullrows = $5 }
		{
			label = "first"
			if (NR > 1) label = "tick " (NR - 1)
			vf = "n/a"
			if (floor + 0 > 0) vf = sprintf("%.2f", $2 / floor)
			pct = 0
			if (fullrows > 0) pct = 100 * $5 / fullrows
			printf "| %s | %s | %.3f | %.3f | %s | %d | %.2f %% |\n", label, $4, $2, $2 / full, vf, $5, pct
		}'
	full_s=$(head -1 "$T/inc.ticks" | cut -d' ' -f2)
	local steady steady_rows full_rows
	steady=$(tail -n +2 "$T/inc.ticks" | head -n "$ticks" | cut -d' ' -f2 | median)
	full_rows=$(head -1 "$T/inc.reads" | cut -d' ' -f2)
	steady_rows=$(tail -n +2 "$T/inc.reads" | head -n "$ticks" | cut -d' ' -f2 | median)
	echo
	echo "Floor (each dataset once, sources in parallel, psql): $(fmt3 "$floor_par") s." \
		"Steady tick (median): $(fmt3 "$steady") s = $(ratio "$steady" "$full_s" %.3f)× the full" \
		"evaluation, reading $(awk -v a="$steady_rows" -v b="$full_rows" 'BEGIN { if (b > 0) printf "%.2f", 100 * a / b; else print "n/a" }') % of its" \
		"activity rows; full evaluation $(ratio "$full_s" "$floor_par")× the floor." \
		"RSS after the ticks (the activity memory held): $(mb "$rss") MB." \
		"Load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)."
	echo "Targets at tier M: steady tick ≤ 0.15× the full evaluation, ≤ 2 % of its activity" \
		"rows; full evaluation ≤ 1.2× the floor. Clock: the anchor, 00:00 UTC, on (libfaketime);" \
		"every collector every ${iv} s; lookback and full_every the defaults (2h, 1d)."
}

# ---- main ------------------------------------------------------------------

machine() {
	echo "Machine: $(nproc) CPUs, $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)," \
		"$(awk '/^MemTotal/ { printf "%.1f GB", $2 / 1048576 }' /proc/meminfo) RAM;" \
		"load average $(cut -d' ' -f1-3 /proc/loadavg) at the start;" \
		"$(uname -sr); PostgreSQL $(psql --version | awk '{ print $3 }');" \
		"cs_exporter $("$BIN" --version | awk 'NR == 1 { print $3, $4, $5, $6, $7 }')"
}

for tier in $TIERS; do
	accounts=$(accounts_of "$tier")
	ROUNDS=${BENCH_ROUNDS:-3}
	SCRAPE_IV=${BENCH_SCRAPE_INTERVAL:-30s}
	if [ "$QUICK" = 1 ]; then
		DUR=${BENCH_DURATION:-2}
		RUNS=${BENCH_RUNS:-1}
		ROUNDS=${BENCH_ROUNDS:-1}
	elif [ "$tier" = S ]; then
		DUR=${BENCH_DURATION:-8}
		RUNS=${BENCH_RUNS:-3}
	else
		DUR=${BENCH_DURATION:-30}
		RUNS=${BENCH_RUNS:-1}
	fi
	# The demo config's 30 s per query is too short for tier L's activity
	# query, and for tier M's on a loaded machine (a timed-out read makes
	# the daemon's next activity read a full one again: part 6).
	if [ "$tier" = L ]; then export BENCH_TIMEOUT=${BENCH_TIMEOUT:-300s}; fi
	if [ "$tier" = M ]; then export BENCH_TIMEOUT=${BENCH_TIMEOUT:-120s}; fi
	PGDIR=$OUT/pg-$tier
	pg_up "$PGDIR"
	if ! "$CS_ROOT/tests/demo/load.sh" "$PGDIR" --accounts "$accounts" --seed "$SEED" \
		--anchor "$ANCHOR" --check; then
		echo "loading $accounts accounts into $PGDIR (once; later runs reuse it)" >&2
		"$CS_ROOT/tests/demo/load.sh" "$PGDIR" --accounts "$accounts" --seed "$SEED" --anchor "$ANCHOR" \
			>"$T/load.$tier.log" 2>&1 || fail "demo load failed: $(tail -5 "$T/load.$tier.log")"
	fi
	# A group, not a pipeline: the parts must run in this shell so that
	# what they start is stopped on exit.
	{
		echo
		echo "## Tier $tier: $accounts accounts"
		echo
		machine
		[[ "$PARTS" != *" collection "* ]] || part_collection "$tier" "$accounts"
		[[ "$PARTS" != *" serving "* ]] || part_serving "$tier"
		[[ "$PARTS" != *" backfill "* ]] || part_backfill "$tier"
		[[ "$PARTS" != *" incremental "* ]] || part_incremental "$tier"
	} > >(tee "$OUT/results-$tier.md")
	"$CS_SCRIPTS/pg.sh" stop "$PGDIR"
	_cs_clusters=$(echo " $_cs_clusters " | sed "s| $PGDIR | |")
done
echo
echo "bench: done (logs in $T)"
