#!/bin/bash
# Reloads never fail a healthy collector. With a slow query (every
# evaluation takes ~1 s), 100 SIGHUPs with an unchanged config, 30 SIGHUPs
# that alternate two different configs, and 20 concurrent POST /-/reload
# leave cs_collector_failures_total at 0 and the collector up; no "collector
# failed" line is logged, not even for the evaluation SIGTERM interrupts; an
# unchanged config restarts nothing.
. "$(dirname "$0")/../scripts/lib.sh"
. "$CS_ROOT/tests/scripts/tiny.sh"
set -eu

tiny_db
tiny_conf "$T/a.conf" 2s
sed -i 's/interval = "2s";/interval = "2s"; timeout = "10s";/' "$T/a.conf"
grep -q 'timeout = "10s"' "$T/a.conf" || fail "test setup: timeout not set"
# Every evaluation sleeps a second inside its subscriptions query, so that
# signals land in the middle of one.
sed -i 's|FROM subs WHERE|FROM subs, pg_sleep(1) WHERE|' "$T/a.conf"
grep -q 'pg_sleep(1)' "$T/a.conf" || fail "test setup: no pg_sleep in the query"
# b: the same but for the reporting rates, a real change.
sed 's/EUR = 1.1;/EUR = 1.2;/' "$T/a.conf" >"$T/b.conf"
cmp -s "$T/a.conf" "$T/b.conf" && fail "test setup: b.conf equals a.conf"
cp "$T/a.conf" "$T/cs.conf"

port=$(free_port)
base="http://127.0.0.1:$port"
start_bg exporter "$BUILD/cs_exporter" --config.file "$T/cs.conf" --web.listen-address "127.0.0.1:$port" \
	--web.enable-lifecycle --log.level=debug
pid=$(cat "$T/exporter.pid")
wait_http "$base/-/ready" 20 || fail "not ready: $(tail -3 "$T/exporter.log")"
runs() { metric 'cs_collector_runs_total{collector="revenue"}'; }

# --- 1. 100 SIGHUPs, config unchanged (a comment added: still the same) -------
echo "# edited, nothing changed" >>"$T/cs.conf"
before=$(runs)
for _ in $(seq 1 100); do
	kill -HUP "$pid"
	sleep 0.03
done
sleep 2.5
[ "$(metric 'cs_collector_failures_total{collector="revenue"}')" = 0 ] ||
	fail "unchanged reloads failed runs: $(grep 'collector failed' "$T/exporter.log" | head -3)"
[ "$(metric 'cs_collector_up{collector="revenue"}')" = 1 ] || fail "collector down after unchanged reloads"
[ "$(runs)" -gt "$before" ] || fail "no evaluation finished during the storm of unchanged reloads"
unchanged=$(grep -c 'msg="config reloaded, unchanged"' "$T/exporter.log" || true)
[ "$unchanged" -ge 1 ] || fail "no \"config reloaded, unchanged\" line"
grep -q 'interrupted by a reload' "$T/exporter.log" &&
	fail "an unchanged reload interrupted an evaluation"
echo "100 SIGHUPs with an unchanged config: $unchanged reloads, none restarted anything"

# --- 2. 30 SIGHUPs alternating two real configs, mid-evaluation ---------------
for i in $(seq 1 30); do
	if [ $((i % 2)) -eq 1 ]; then cp "$T/b.conf" "$T/cs.conf"; else cp "$T/a.conf" "$T/cs.conf"; fi
	kill -HUP "$pid"
	sleep 0.2
done
# Let one whole evaluation finish on the last config.
sleep 3
[ "$(metric 'cs_collector_failures_total{collector="revenue"}')" = 0 ] ||
	fail "changing reloads failed runs: $(grep 'collector failed' "$T/exporter.log" | head -3)"
[ "$(metric 'cs_collector_up{collector="revenue"}')" = 1 ] || fail "collector down after changing reloads"
grep -q 'interrupted by a reload' "$T/exporter.log" ||
	fail "no evaluation was interrupted: the storm did not hit one (test too gentle)"
[ "$(metric 'cs_config_last_reload_successful')" = 1 ] || fail "last reload not successful"

# --- 3. 20 concurrent POST /-/reload of a changed config ----------------------
cp "$T/b.conf" "$T/cs.conf"
reloads_before=$(grep -c 'msg="config reloaded"' "$T/exporter.log" || true)
posts=""
for i in $(seq 1 20); do
	curl -s -o /dev/null -w '%{http_code}\n' --max-time 60 -X POST "$base/-/reload" >"$T/post$i.code" &
	posts="$posts $!"
done
# shellcheck disable=SC2086
wait $posts
for i in $(seq 1 20); do
	[ "$(cat "$T/post$i.code")" = 200 ] || fail "POST /-/reload #$i answered $(cat "$T/post$i.code")"
done
reloads=$(($(grep -c 'msg="config reloaded"' "$T/exporter.log" || true) - reloads_before))
echo "20 concurrent POST /-/reload: $reloads reload(s) done"
[ "$reloads" -ge 1 ] && [ "$reloads" -le 20 ] || fail "$reloads reloads for 20 requests"
sleep 3
[ "$(metric 'cs_collector_failures_total{collector="revenue"}')" = 0 ] || fail "POST reloads failed runs"
[ "$(metric 'cs_collector_up{collector="revenue"}')" = 1 ] || fail "collector down after POST reloads"

# --- 4. SIGTERM in the middle of an evaluation: no failure logged -------------
sleep 0.5
stop_bg "$pid"
grep -q 'msg="collector failed"' "$T/exporter.log" &&
	fail "a failure was logged: $(grep 'collector failed' "$T/exporter.log" | head -3)"
grep -q 'msg="shutting down"' "$T/exporter.log" || fail "no shutdown line"
echo ok
