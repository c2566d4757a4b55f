#!/bin/bash
# A database backend that stops answering (SIGSTOP: the TCP connection stays
# up, nothing comes back) must not freeze the exporter: the run fails at its
# client-side deadline (collector down, logged), scrapes and health checks
# are answered while reloads are in flight, reloads and SIGTERM do not wait
# on the database.
. "$(dirname "$0")/../scripts/lib.sh"
. "$CS_ROOT/tests/scripts/tiny.sh"
set -eu

tiny_db
stopped=""
# Stopped backends would also hold the cluster's shutdown: resume them first.
trap '_rc=$?; [ -z "$stopped" ] || kill -CONT $stopped 2>/dev/null; (exit $_rc); _cs_cleanup' EXIT
backends() { # pids of the exporter's sessions, minus those listed in $1
	pg_psql "$T/pg" -qAtX -d postgres -c "SELECT pid FROM pg_stat_activity WHERE application_name = 'cs_exporter'" |
		while read -r p; do case " $1 " in *" $p "*) ;; *) echo "$p" ;; esac; done
}

tiny_conf "$T/cs.conf" 2s 'web = { stale_after = "10m"; };'
sed -i 's/interval = "2s";/interval = "2s"; timeout = "2s";/' "$T/cs.conf"
grep -q 'timeout = "2s"' "$T/cs.conf" || fail "test setup: timeout not set"
port=$(free_port)
start_bg exporter "$BUILD/cs_exporter" --config.file "$T/cs.conf" --web.listen-address "127.0.0.1:$port" \
	--web.enable-lifecycle
wait_http "http://127.0.0.1:$port/-/ready" 15 || fail "not ready"
pids=$(backends "")
[ -n "$pids" ] || fail "test setup: no backend of the exporter found"

# --- 1. backends stopped between runs: the next run fails at its deadline ----
stopped="$pids"
kill -STOP $stopped
# timeout 2 s + 5 s client margin
wait_metric 'cs_collector_up{collector="revenue"}' 0 20 ||
	fail "collector still up 20 s after its database backends stopped answering"
grep -q 'msg="collector failed".*no answer within the timeout' "$T/exporter.log" ||
	fail "hung backend not logged: $(tail -3 "$T/exporter.log")"

# --- 2. reloads do not tie up the HTTP workers --------------------------------
# A run is hung again by now or soon: its BEGIN waits on a stopped backend
# only if it reconnected, so stop the fresh backends too.
sleep 2.5
new=$(backends "$stopped")
if [ -n "$new" ]; then
	stopped="$stopped $new"
	kill -STOP $new
fi
sleep 2.5
reloads=""
for i in 1 2; do
	curl -s -o "$T/reload$i.out" -w '%{http_code}\n' --max-time 30 -X POST \
		"http://127.0.0.1:$port/-/reload" >"$T/reload$i.code" &
	reloads="$reloads $!"
done
sleep 0.3
c=$(curl -s -o /dev/null -w '%{http_code}' --max-time 3 "http://127.0.0.1:$port/-/healthy" || true)
[ "$c" = 200 ] || fail "/-/healthy answered '$c' while two reloads were in flight"
c=$(curl -s -o /dev/null -w '%{http_code}' --max-time 3 "http://127.0.0.1:$port/metrics" || true)
[ "$c" = 200 ] || fail "/metrics answered '$c' while two reloads were in flight"
wait $reloads
for i in 1 2; do
	[ "$(cat "$T/reload$i.code")" = 200 ] || fail "reload $i answered '$(cat "$T/reload$i.code")'"
done

# --- 3. SIGTERM while a run waits on a stopped backend ----------------------
sleep 2.5
new=$(backends "$stopped")
if [ -n "$new" ]; then
	stopped="$stopped $new"
	kill -STOP $new
fi
sleep 3 # the next run starts and waits on them
pid=$(cat "$T/exporter.pid")
start=$(date +%s%N)
kill -TERM "$pid"
for _ in $(seq 1 50); do
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.1
done
kill -0 "$pid" 2>/dev/null && fail "SIGTERM did not stop the exporter within 5 s while a backend hung"
ms=$((($(date +%s%N) - start) / 1000000))
[ "$ms" -lt 3000 ] || fail "SIGTERM took ${ms} ms with a hung backend"
kill -CONT $stopped
stopped=""
echo ok
