#!/bin/bash
# Database faults on a real PostgreSQL, stopped and started by the test
# (while idle and in the middle of a cycle):
# the exporter keeps answering with the last good values, flags the
# collector down, logs once per outage, recovers by itself, reconnects
# transparently after a restart between cycles, cancels slow queries on the
# server, refuses to write, and starts (not ready) without a database.
. "$(dirname "$0")/../scripts/lib.sh"
. "$CS_ROOT/tests/scripts/tiny.sh"
set -eu

tiny_db
BIN=$(dirname "$(command -v pg_ctl 2>/dev/null || ls -d /usr/lib/postgresql/*/bin/pg_ctl | tail -1)")
pgctl() { runuser -u postgres -- "$BIN/pg_ctl" -D "$T/pg/data" "$@" >>"$T/pgctl.log" 2>&1; }
pg_stop() { pgctl stop -m fast -w; }
# Same port as before, so the exporter's config stays valid.
pg_start() { pgctl start -w -l "$T/pg/server.log" -o "-p $PGPORT -k $T/pg/sock"; }

# --- 1. stopped while idle, and started again --------------------------------
tiny_conf "$T/cs.conf" 1s 'web = { stale_after = "10m"; };'
port=$(free_port)
start_bg exporter "$BUILD/cs_exporter" --config.file "$T/cs.conf" --web.listen-address "127.0.0.1:$port"
wait_http "http://127.0.0.1:$port/-/ready" 15 || fail "not ready with the database up"
pg_stop
wait_metric 'cs_collector_up{collector="revenue"}' 0 10 || fail "collector still up with the database stopped"
for _ in 1 2 3 4 5 6 7 8 9 10; do
	code=$(curl -s -o "$T/down.prom" -w '%{http_code}' "http://127.0.0.1:$port/metrics")
	[ "$code" = 200 ] || fail "scrape answered $code while the database is down"
	expect "$T/down.prom" 'cs_mrr{plan="pro",region="eu",currency="USD"}' 133
	sleep 0.3
done
runs_down=$(metric 'cs_collector_failures_total{collector="revenue"}')
[ "${runs_down%.*}" -ge 2 ] || fail "expected several failed runs during the outage, got $runs_down"
outage_lines=$(grep -c 'msg="source unavailable"' "$T/exporter.log" || true)
[ "$outage_lines" -le 2 ] || fail "$outage_lines 'source unavailable' lines for one outage of 2 sources"
collector_lines=$(grep -c 'msg="collector failed"' "$T/exporter.log" || true)
[ "$collector_lines" = 1 ] || fail "$collector_lines 'collector failed' lines for one outage, expected 1"
pg_start
# Backoff is 1 s doubling: after a ~4 s outage the next attempt is at most 8 s away.
wait_metric 'cs_collector_up{collector="revenue"}' 1 15 || fail "no recovery after the database came back"
grep -q 'msg="source recovered"' "$T/exporter.log" || fail "recovery not logged"

# --- 2. restarted between cycles: transparent reconnect ----------------------
kill "$(cat "$T/exporter.pid")"
wait
tiny_conf "$T/slow.conf" 4s
port=$(free_port)
start_bg exporter2 "$BUILD/cs_exporter" --config.file "$T/slow.conf" --web.listen-address "127.0.0.1:$port"
wait_http "http://127.0.0.1:$port/-/ready" 15 || fail "not ready"
runs=$(metric 'cs_collector_runs_total{collector="revenue"}')
pgctl restart -m fast -w -l "$T/pg/server.log" -o "-p $PGPORT -k $T/pg/sock"
next=$((${runs%.*} + 1))
wait_metric 'cs_collector_runs_total{collector="revenue"}' "$next" 10 || fail "no run after the restart"
[ "$(metric 'cs_collector_failures_total{collector="revenue"}')" = 0 ] ||
	fail "a restart between cycles failed a run instead of reconnecting"
[ "$(metric 'cs_collector_up{collector="revenue"}')" = 1 ] || fail "collector down after a reconnect"

# --- 3. stopped in the middle of a cycle ------------------------------------
# Queries of this collector take ~2 s; the server goes away 1 s into one.
kill "$(cat "$T/exporter2.pid")"
pg_psql "$T/pg" -qX -v ON_ERROR_STOP=1 -d crm -c 'CREATE TABLE ctl (slow boolean); INSERT INTO ctl VALUES (false); GRANT SELECT ON ctl TO cs_reader;'
tiny_conf "$T/mid.conf" 3s 'web = { stale_after = "10m"; };'
sed -i -e 's/FROM accounts"/FROM accounts, (SELECT pg_sleep(CASE WHEN slow THEN 2 ELSE 0 END) FROM ctl) s"/' \
	-e 's/interval = "3s";/interval = "3s"; timeout = "10s";/' "$T/mid.conf"
grep -q 'timeout = "10s"' "$T/mid.conf" || fail "test setup: mid-cycle config not rewritten"
port=$(free_port)
start_bg exporter_mid "$BUILD/cs_exporter" --config.file "$T/mid.conf" --web.listen-address "127.0.0.1:$port"
wait_http "http://127.0.0.1:$port/-/ready" 15 || fail "not ready"
pg_psql "$T/pg" -qX -d crm -c 'UPDATE ctl SET slow = true'
runs=$(metric 'cs_collector_runs_total{collector="revenue"}')
# Wait for the next run to start (its accounts query then sleeps), then stop.
sleep 3.5
pgctl stop -m immediate -w || true
wait_metric 'cs_collector_up{collector="revenue"}' 0 10 || fail "collector still up after a mid-cycle stop"
[ "$(metric 'cs_collector_runs_total{collector="revenue"}')" -gt "${runs%.*}" ] || fail "no run was interrupted"
curl -s -o "$T/mid.prom" -w '%{http_code}' "http://127.0.0.1:$port/metrics" | grep -q 200 || fail "scrape failed after a mid-cycle stop"
expect "$T/mid.prom" 'cs_mrr{plan="pro",region="eu",currency="USD"}' 133
grep -q '^WARNING:' "$T/exporter_mid.log" && fail "server notices leak to stderr unlogged"
pg_start
pg_psql "$T/pg" -qX -d crm -c 'UPDATE ctl SET slow = false'
wait_metric 'cs_collector_up{collector="revenue"}' 1 20 || fail "no recovery after a mid-cycle stop"
kill "$(cat "$T/exporter_mid.pid")"
pg_psql "$T/pg" -qX -d crm -c 'DROP TABLE ctl'

# --- 4. a query slower than its timeout is cancelled on the server ----------
pg_psql "$T/pg" -qX -v ON_ERROR_STOP=1 -d crm -c 'CREATE TABLE ctl (slow boolean); INSERT INTO ctl VALUES (true); GRANT SELECT ON ctl TO cs_reader;'
sed -e 's/FROM accounts"/FROM accounts, (SELECT pg_sleep(CASE WHEN slow THEN 30 ELSE 0 END) FROM ctl) s"/' \
	-e 's/interval = "[^"]*";/interval = "2s"; timeout = "1s";/' "$T/cs.conf" >"$T/timeout.conf"
grep -q pg_sleep "$T/timeout.conf" || fail "test setup: query not rewritten"
start=$(date +%s)
if "$BUILD/cs_exporter" --config.file "$T/timeout.conf" --once >"$T/timeout.out" 2>"$T/timeout.err"; then
	fail "a query past its timeout succeeded"
fi
[ $(($(date +%s) - start)) -lt 10 ] || fail "the timeout did not stop the query in time"
grep -q 'statement timeout' "$T/timeout.err" || fail "no statement timeout reported: $(cat "$T/timeout.err")"
grep -q '^cs_collector_up{collector="revenue"} 0$' "$T/timeout.out" || fail "collector not reported down"
active=$(pg_psql "$T/pg" -qAtX -d postgres -c "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'cs_exporter' AND state = 'active'")
[ "$active" = 0 ] || fail "$active queries still running on the server after the timeout"
pg_psql "$T/pg" -qX -d crm -c 'UPDATE ctl SET slow = false'
"$BUILD/cs_exporter" --config.file "$T/timeout.conf" --once >"$T/timeout2.out" 2>&1 ||
	fail "the next cycle failed after the slow query was fixed"

# --- 5. a dataset query that tries to write fails ---------------------------
pg_psql "$T/pg" -qX -v ON_ERROR_STOP=1 -d crm -c 'CREATE TABLE audit (x int); GRANT INSERT, SELECT ON audit TO cs_reader;'
sed -e 's/query = "SELECT id AS account_key/query = "WITH w AS (INSERT INTO audit VALUES (1) RETURNING x) SELECT id AS account_key/' \
	-e 's/FROM accounts"/FROM accounts, w"/' "$T/cs.conf" >"$T/write.conf"
grep -q "INSERT INTO audit" "$T/write.conf" || fail "test setup: query not rewritten"
if "$BUILD/cs_exporter" --config.file "$T/write.conf" --once >"$T/write.out" 2>"$T/write.err"; then
	fail "a writing query succeeded"
fi
grep -qi 'read-only transaction' "$T/write.err" || fail "write not refused as read-only: $(cat "$T/write.err")"
[ "$(pg_psql "$T/pg" -qAtX -d crm -c 'SELECT count(*) FROM audit')" = 0 ] || fail "a row was written"

# --- 6. database unreachable at start-up -----------------------------------
dead=$(free_port)
sed -e "s/port = $PGPORT;/port = $dead;/g" "$T/cs.conf" >"$T/dead.conf"
port=$(free_port)
start_bg exporter3 "$BUILD/cs_exporter" --config.file "$T/dead.conf" --web.listen-address "127.0.0.1:$port"
wait_http "http://127.0.0.1:$port/-/healthy" 10 || fail "exporter did not start without its database"
sleep 1
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/-/ready")
[ "$code" = 503 ] || fail "/-/ready answered $code with no database, expected 503"
[ "$(metric 'cs_collector_up{collector="revenue"}')" = 0 ] || fail "collector not down without a database"
scrape | grep -q '^cs_mrr' && fail "KPI series without any successful run"

# --- 7. last good values are dropped after stale_after ------------------------
tiny_conf "$T/stale.conf" 1s 'web = { stale_after = "3s"; };'
port=$(free_port)
start_bg exporter4 "$BUILD/cs_exporter" --config.file "$T/stale.conf" --web.listen-address "127.0.0.1:$port"
wait_http "http://127.0.0.1:$port/-/ready" 15 || fail "not ready"
scrape | grep -q '^cs_mrr{' || fail "no KPI series before the outage"
pg_stop
for _ in $(seq 1 100); do
	scrape | grep -q '^cs_mrr{' || break
	sleep 0.1
done
scrape | grep -q '^cs_mrr{' && fail "KPI series still served 10 s into an outage with stale_after 3s"
[ "$(metric 'cs_collector_up{collector="revenue"}')" = 0 ] || fail "collector not down"
echo ok
