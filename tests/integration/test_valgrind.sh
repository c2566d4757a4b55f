#!/bin/bash
# valgrind memcheck on an integration run on a real PostgreSQL: a full --once
# cycle (queries, join, KPIs, rendering), then the daemon through start-up,
# collector runs, scrapes in both formats with gzip, a reload and SIGTERM;
# then the daemon on a socket systemd-socket-activate hands it
# (--web.systemd-socket) through a scrape, a reload and SIGTERM. No errors
# and no leaks.
. "$(dirname "$0")/../scripts/lib.sh"
. "$CS_ROOT/tests/scripts/tiny.sh"
set -eu
command -v valgrind >/dev/null || fail "valgrind not installed"
# valgrind cannot run a sanitizer build (make SANITIZE=... check): use a
# plain one then.
if ldd "$BUILD/cs_exporter" | grep -q 'libasan\|libubsan'; then
	make --no-print-directory -s -C "$CS_ROOT" SANITIZE= BUILD=build/plain all >"$T/build.log" 2>&1 ||
		fail "plain build failed: $(tail -5 "$T/build.log")"
	BUILD=$CS_ROOT/build/plain
fi
tiny_db
tiny_conf "$T/cs.conf" 1s
VG=(valgrind --quiet --error-exitcode=99 --leak-check=full --show-leak-kinds=definite,indirect
	--errors-for-leak-kinds=definite,indirect --suppressions="$CS_ROOT/tests/valgrind.supp")

"${VG[@]}" --log-file="$T/once.vg" "$BUILD/cs_exporter" --config.file "$T/cs.conf" --once \
	--as-of 2026-11-01 >"$T/once.prom" 2>"$T/once.err" || fail "valgrind --once: $(head -40 "$T/once.vg")"
expect "$T/once.prom" 'cs_mrr{plan="pro",region="eu",currency="USD"}' 133
[ ! -s "$T/once.vg" ] || fail "valgrind reported: $(head -40 "$T/once.vg")"

port=$(free_port)
"${VG[@]}" --log-file="$T/daemon.vg" "$BUILD/cs_exporter" --config.file "$T/cs.conf" \
	--web.listen-address "127.0.0.1:$port" --web.enable-lifecycle >"$T/daemon.log" 2>&1 &
pid=$!
wait_http "http://127.0.0.1:$port/-/ready" 60 || fail "exporter under valgrind not ready"
for _ in 1 2 3; do
	curl -fsS "http://127.0.0.1:$port/metrics" >/dev/null
	curl -fsS --compressed -H 'Accept: application/openmetrics-text; version=1.0.0' "http://127.0.0.1:$port/metrics" >/dev/null
	curl -fsS "http://127.0.0.1:$port/" >/dev/null
	sleep 1
done
curl -fsS -X POST "http://127.0.0.1:$port/-/reload" >/dev/null || fail "reload failed"
sleep 2
kill -TERM $pid
rc=0
wait $pid || rc=$?
[ "$rc" = 0 ] || fail "exporter exited $rc under valgrind: $(head -60 "$T/daemon.vg")"
[ ! -s "$T/daemon.vg" ] || fail "valgrind reported: $(head -60 "$T/daemon.vg")"

# Socket activation: systemd-socket-activate execs valgrind (same pid) on
# the first connection.
port=$(free_port)
/usr/bin/systemd-socket-activate -l "127.0.0.1:$port" "${VG[@]}" --log-file="$T/socket.vg" \
	"$BUILD/cs_exporter" --config.file "$T/cs.conf" --web.systemd-socket --web.enable-lifecycle \
	>"$T/socket.log" 2>&1 &
pid=$!
wait_http "http://127.0.0.1:$port/-/ready" 60 || fail "socket-activated exporter under valgrind not ready: $(tail -3 "$T/socket.log")"
curl -fsS "http://127.0.0.1:$port/metrics" >/dev/null
curl -fsS -X POST "http://127.0.0.1:$port/-/reload" >/dev/null || fail "reload failed (socket activation)"
curl -fsS "http://127.0.0.1:$port/metrics" >/dev/null || fail "no answer after the reload (socket activation)"
kill -TERM $pid
rc=0
wait $pid || rc=$?
[ "$rc" = 0 ] || fail "socket-activated exporter exited $rc under valgrind: $(head -60 "$T/socket.vg")"
[ ! -s "$T/socket.vg" ] || fail "valgrind reported (socket activation): $(head -60 "$T/socket.vg")"
echo ok
