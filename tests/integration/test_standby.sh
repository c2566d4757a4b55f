#!/bin/bash
# A read cancelled by a hot standby's recovery conflict is retried, and the
# collectors stay up.
#
# A primary (wal_level replica) and a streaming standby made with
# pg_basebackup -R, the standby with max_standby_streaming_delay = 0: it
# cancels at once any query whose snapshot still needs rows that the primary
# removed ("canceling statement due to conflict with recovery", SQLSTATE
# 40001). The demo's accounts query is made slow before its first row (an
# init plan sleeping 3 s), and while the exporter's first two attempts of
# it run on the standby, rows are updated and vacuumed on the primary in a
# loop. --once then has to succeed with every collector up, log the retries
# with the dataset's name, and count them in
# cs_dataset_retries_total{dataset="accounts",reason="serialization_failure"}.
# The standby's own counter (pg_stat_database_conflicts) shows the conflicts
# were real. With every attempt cancelled, the read fails after 3 retries.
. "$(dirname "$0")/../scripts/lib.sh"
set -eu

anchor=2026-11-01
as_of=${anchor}T00:00:00Z

as_pg() {
	if [ "$(id -u)" -eq 0 ]; then
		setpriv --reuid=postgres --regid=postgres --init-groups "$@"
	else
		"$@"
	fi
}

pg_up "$T/pg"
"$CS_ROOT/tests/demo/load.sh" "$T/pg" --accounts 300 --seed 5 --anchor "$anchor" \
	>"$T/load.log" 2>&1 ||
	fail "demo data load failed: $(tail -5 "$T/load.log")"

# The test cluster is made for speed (wal_level minimal): make it a primary.
owner=$CS_PG_SUPERUSER
cat >>"$T/pg/data/postgresql.conf" <<EOF

# --- test_standby: a primary ---
wal_level = replica
max_wal_senders = 4
EOF
echo "local   replication  $owner  trust" >>"$T/pg/data/pg_hba.conf"
"$CS_SCRIPTS/pg.sh" stop "$T/pg"
pg_up "$T/pg"
primary() { pg_psql "$T/pg" -d crm -qAtX -v ON_ERROR_STOP=1 "$@"; }
primary -c "CREATE TABLE churn (id int PRIMARY KEY, v int); INSERT INTO churn VALUES (1, 0)" ||
	fail "could not create the churn table"

# The standby: a base backup of the primary, streaming from it.
sdir=$T/standby
mkdir -p "$sdir/sock"
[ "$(id -u)" -ne 0 ] || chown -R postgres "$sdir"
chmod 700 "$sdir/sock"
as_pg "$CS_PG_BIN/pg_basebackup" -D "$sdir/data" -R -X stream -c fast -h "$PGSOCK" -p "$PGPORT" \
	-U "$owner" >"$T/basebackup.log" 2>&1 ||
	fail "pg_basebackup failed: $(tail -3 "$T/basebackup.log")"
cat >>"$sdir/data/postgresql.conf" <<EOF

# --- test_standby: a hot standby that never waits for its readers ---
hot_standby = on
hot_standby_feedback = off
max_standby_streaming_delay = 0
EOF
sport=$(free_port)
as_pg "$CS_PG_BIN/pg_ctl" -D "$sdir/data" -l "$sdir/server.log" -w -t 60 \
	-o "-p $sport -k $sdir/sock" start >"$T/standby-start.log" 2>&1 ||
	fail "the standby did not start: $(tail -5 "$sdir/server.log")"
_cs_clusters="$sdir $_cs_clusters" # stopped on exit, like pg_up's
# standby ARGS...: psql on the standby's postgres database, which the churn
# in crm never puts in conflict (snapshot conflicts cancel queries of the
# database whose rows were removed only).
standby() {
	"$CS_PG_BIN/psql" -h "$sdir/sock" -p "$sport" -U "$owner" -d postgres -qAtX \
		-v ON_ERROR_STOP=1 "$@"
}
[ "$(standby -c 'SELECT pg_is_in_recovery()')" = t ] || fail "the standby is not in recovery"
replayed() { standby -d crm -c 'SELECT count(*) FROM churn' 2>/dev/null; }
for _ in $(seq 100); do
	[ "$(replayed)" = 1 ] && break
	sleep 0.1
done
[ "$(replayed)" = 1 ] || fail "the standby never replayed the churn table"

# The demo config on the standby, its accounts query slow before any row.
sed -e "s|@PGPORT@|$sport|g" -e "s|@PGPASSFILE@|$T/pg/reader.pass|g" \
	-e 's|" WHERE NOT a.isdeleted";|" WHERE NOT a.isdeleted AND (SELECT 1 FROM pg_sleep(3)) = 1";|' \
	"$CS_ROOT/config/demo.conf" >"$T/cs.conf"
grep -q 'pg_sleep(3)' "$T/cs.conf" || fail "could not slow the accounts query down"

# once NAME HITS: --once on the standby into $T/NAME.prom (exit status in
# $T/NAME.rc) while, each time a new attempt of the slow query runs there (a
# new query_start), rows are updated and vacuumed on the primary until the
# standby cancels it; the first HITS attempts only. Prints how many attempts
# were churned.
once() {
	"$BUILD/cs_exporter" --config.file "$T/cs.conf" --once --as-of "$as_of" >"$T/$1.prom" \
		2>"$T/$1.log" &
	_pid=$!
	_cs_pids="$_pid $_cs_pids"
	_hit=0
	_seen=""
	_end=$(($(date +%s) + 60))
	while kill -0 "$_pid" 2>/dev/null && [ "$(date +%s)" -lt "$_end" ]; do
		_qs=$(standby -c "SELECT query_start FROM pg_stat_activity
			WHERE application_name = 'cs_exporter' AND state = 'active'
			AND query LIKE '%pg_sleep(3)%'" 2>/dev/null || true)
		if [ -n "$_qs" ] && [ "$_hit" -lt "$2" ] && [ "$_qs" != "$_seen" ]; then
			_seen=$_qs
			_hit=$((_hit + 1))
			for _ in $(seq 30); do
				primary -c "UPDATE churn SET v = v + 1" -c "VACUUM churn" >/dev/null
				_on=$(standby -c "SELECT 1 FROM pg_stat_activity
					WHERE query_start = '$_qs' AND state = 'active'") || _on=1
				[ -n "$_on" ] || break
				sleep 0.05
			done
		fi
		sleep 0.05
	done
	_rc=0
	wait "$_pid" || _rc=$?
	echo "$_rc" >"$T/$1.rc"
	echo "$_hit"
}
conflicts() {
	standby -c "SELECT confl_snapshot + confl_lock + confl_bufferpin + confl_deadlock
		FROM pg_stat_database_conflicts WHERE datname = 'crm'"
}
retries() {
	sed -n 's/^cs_dataset_retries_total{dataset="accounts",reason="serialization_failure"} //p' \
		"$T/$1.prom"
}

# 1. The first two attempts are cancelled, the third (of four allowed) ends.
hit=$(once churned 2)
rc=$(cat "$T/churned.rc")
c1=$(conflicts)
echo "churned: $hit attempts cancelled; conflicts on the standby: $c1; --once exit $rc"
[ "$hit" -eq 2 ] || fail "the slow accounts query was churned $hit times, not 2"
[ "$c1" -ge 2 ] || fail "the standby cancelled $c1 queries: the test provoked no conflict"
[ "$rc" -eq 0 ] ||
	fail "--once exited $rc after the conflicts: $(grep -m3 'level=error' "$T/churned.log")"
! grep -q '^cs_collector_up{.*} 0' "$T/churned.prom" || fail "a collector is down"
[ "$(grep -c '^cs_collector_up{.*} 1' "$T/churned.prom")" -ge 7 ] || fail "not every collector is up"
awk '/^cs_mrr\{/ && $NF > 0 { found = 1 } END { exit !found }' "$T/churned.prom" ||
	fail "no positive cs_mrr"
[ "$(retries churned)" = 2 ] ||
	fail "cs_dataset_retries_total for accounts is \"$(retries churned)\", not 2"
[ "$(grep -c 'msg="query cancelled by the server, retrying".*dataset=accounts' "$T/churned.log")" = 2 ] ||
	fail "the two retries of accounts are not logged"

# 2. Retries are bounded: with every attempt cancelled, the fourth failure is
#    final, reported with the number of retries.
hit=$(once endless 99)
rc=$(cat "$T/endless.rc")
echo "endless: $hit attempts cancelled; --once exit $rc; retries $(retries endless)"
[ "$hit" -eq 4 ] || fail "with endless churn the query was attempted $hit times, not 4"
[ "$rc" -ne 0 ] || fail "--once succeeded although every attempt was cancelled"
[ "$(retries endless)" = 3 ] || fail "cs_dataset_retries_total is \"$(retries endless)\", not 3"
grep -q 'canceling statement due to conflict with recovery.*(retried 3 times)' "$T/endless.log" ||
	fail "the final error does not say it was retried 3 times"
echo ok
