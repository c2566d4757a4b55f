#!/bin/bash
# Session settings are forced inside each read's transaction, not through the
# `options` startup parameter:
#
# - through a real PgBouncer in transaction mode with its default settings
#   (which answer `options` with "unsupported startup parameter"), --once
#   prints the same exposition as a direct connection;
# - a role whose DateStyle, TimeZone, IntervalStyle, extra_float_digits and
#   client_encoding are hostile changes nothing: direct and pooled runs equal
#   a run made before the role was altered (with DateStyle German every
#   timestamp used to be rejected bad_time and MRR fell to 0);
# - the user's own options (PGOPTIONS) reach the server: a search_path that
#   puts a 10-row `account` view first is obeyed.
#
# The demo is loaded as tests/integration/test_golden.sh does (fixed anchor,
# --as-of), with the golden run's cohort dimensions.
. "$(dirname "$0")/../scripts/lib.sh"
set -eu
unset PGOPTIONS PGDATESTYLE PGTZ PGCLIENTENCODING PGSERVICE

command -v pgbouncer >/dev/null || fail "pgbouncer is not installed (tests/scripts/install-deps.sh)"

anchor=2026-11-01
as_of=${anchor}T00:00:00Z

# What runs a command as the cluster's owner (postgres when we are root) in
# place, so that a background command's pid is the command's own.
as_pg=()
[ "$(id -u)" -ne 0 ] || as_pg=(setpriv --reuid=postgres --regid=postgres --init-groups)

pg_up "$T/pg"
"$CS_ROOT/tests/demo/load.sh" "$T/pg" --accounts 300 --seed 5 --anchor "$anchor" --awkward \
	>"$T/load.log" 2>&1 ||
	fail "demo data load failed: $(tail -5 "$T/load.log")"

# render PORT OUT: the demo config pointed at PORT (see test_golden.sh).
render() {
	sed -e "s|@PGPORT@|$1|g" -e "s|@PGPASSFILE@|$T/pg/reader.pass|g" \
		"$CS_ROOT/config/demo.conf" >"$2"
	grep -q '^cohorts[[:space:]]*=' "$2" ||
		printf '\ncohorts = { dimensions = ["plan"]; };\n' >>"$2"
}

# once NAME CONF: --once at the fixed instant into $T/NAME.prom.
once() {
	"$BUILD/cs_exporter" --config.file "$2" --once --as-of "$as_of" \
		>"$T/$1.prom" 2>"$T/$1.log" ||
		fail "--once ($1) failed: $(tail -3 "$T/$1.log")"
}

# comparable NAME: NAME.prom without the self-metrics that may differ
# between two runs of the same data (durations, run counts, process).
comparable() {
	grep -Ev '^(# (HELP|TYPE) )?(process_|cs_exporter_build_info|cs_collector_(duration_seconds|last_success_timestamp_seconds|runs_total|failures_total)|cs_dataset_retries_total)' \
		"$T/$1.prom" >"$T/$1.cmp"
}

# same A B WHAT: A.cmp and B.cmp are byte for byte equal.
same() {
	if ! diff -u "$T/$1.cmp" "$T/$2.cmp" >"$T/$1-$2.diff"; then
		head -20 "$T/$1-$2.diff" >&2
		fail "$3: $1 and $2 differ in $(grep -c '^[-+][^-+]' "$T/$1-$2.diff") lines (diff in $T/$1-$2.diff)"
	fi
}

# sound NAME: every collector up and a positive MRR (the rest is checked by
# comparing runs).
sound() {
	! grep -q '^cs_collector_up{.*} 0' "$T/$1.prom" || fail "$1: a collector is down"
	awk '/^cs_mrr\{/ && $NF > 0 { found = 1 } END { exit !found }' "$T/$1.prom" ||
		fail "$1: no positive cs_mrr"
}

render "$PGPORT" "$T/direct.conf"

# 1. The reference: the role as pg.sh creates it.
once base "$T/direct.conf"
sound base
comparable base

# 2. A hostile role. Settings of a role apply when a session starts, so
#    PgBouncer is started afterwards: its server sessions all carry them.
pg_psql "$T/pg" -d postgres -qAt -v ON_ERROR_STOP=1 >/dev/null <<'EOF' ||
ALTER ROLE cs_reader SET DateStyle = 'German';
ALTER ROLE cs_reader SET TimeZone = 'Asia/Kathmandu';
ALTER ROLE cs_reader SET IntervalStyle = 'sql_standard';
ALTER ROLE cs_reader SET extra_float_digits = -15;
ALTER ROLE cs_reader SET client_encoding = 'LATIN1';
EOF
	fail "could not alter role cs_reader"

pass=$(cat "$T/pg/reader.pass")
show_settings() { # PORT: the session settings cs_reader gets on billing
	PGPASSWORD=$pass PGCONNECT_TIMEOUT=5 "$CS_PG_BIN/psql" -h 127.0.0.1 -p "$1" -U cs_reader \
		-d billing -qAtX -F ' ' \
		-c "SELECT current_setting('DateStyle'), current_setting('TimeZone'),
		           current_setting('IntervalStyle'), current_setting('extra_float_digits')"
}
want='German, DMY Asia/Kathmandu sql_standard -15'
got=$(show_settings "$PGPORT") || fail "psql as cs_reader failed"
[ "$got" = "$want" ] || fail "the hostile role settings are not in force: \"$got\""
once direct "$T/direct.conf"
comparable direct
same base direct "a hostile role changes the exposition"
sound direct

# 3. PgBouncer: transaction pooling, its defaults otherwise (so no
#    ignore_startup_parameters), cs_reader's password in its auth file.
bdir=$T/bouncer
bport=$(free_port)
mkdir -p "$bdir"
cat >"$bdir/pgbouncer.ini" <<EOF
[databases]
billing = host=127.0.0.1 port=$PGPORT dbname=billing
crm = host=127.0.0.1 port=$PGPORT dbname=crm

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $bport
unix_socket_dir =
auth_type = scram-sha-256
auth_file = $bdir/userlist.txt
pool_mode = transaction
logfile = $bdir/pgbouncer.log
EOF
printf '"cs_reader" "%s"\n' "$pass" >"$bdir/userlist.txt"
chmod 600 "$bdir/userlist.txt"
[ "$(id -u)" -ne 0 ] || chown -R postgres "$bdir"
start_bg pgbouncer "${as_pg[@]}" pgbouncer "$bdir/pgbouncer.ini"
for _ in $(seq 50); do
	got=$(show_settings "$bport" 2>/dev/null) && break
	sleep 0.2
done
[ "$got" = "$want" ] || fail "through PgBouncer, cs_reader's settings are \"$got\" (log: $(tail -3 "$bdir/pgbouncer.log"))"

render "$bport" "$T/pooled.conf"
once pooled "$T/pooled.conf"
comparable pooled
same direct pooled "PgBouncer changes the exposition"
sound pooled
# The pooled run went through PgBouncer (psql above only visits billing).
grep -q 'login attempt: db=crm user=cs_reader' "$bdir/pgbouncer.log" ||
	fail "PgBouncer logged no login of the exporter"

# 4. The user's own options pass through: a search_path that finds a
#    10-row view named account before the table.
pg_psql "$T/pg" -d crm -qAt -v ON_ERROR_STOP=1 >/dev/null <<'EOF' ||
CREATE SCHEMA alt;
CREATE VIEW alt.account AS SELECT * FROM public.account ORDER BY id LIMIT 10;
GRANT USAGE ON SCHEMA alt TO cs_reader;
GRANT SELECT ON alt.account TO cs_reader;
EOF
	fail "could not create the alt.account view"
rows() { sed -n 's/^cs_dataset_rows{dataset="accounts"} //p' "$T/$1.prom"; }
PGOPTIONS='-c search_path=alt,public' once options "$T/direct.conf"
[ "$(rows base)" -gt 10 ] || fail "the base run read $(rows base) accounts"
# At most the view's 10 rows (the query drops deleted accounts).
n=$(rows options)
if [ -z "$n" ] || [ "$n" -gt 10 ]; then
	fail "with PGOPTIONS search_path=alt,public the exporter read ${n:-no} accounts, not the view's"
fi
echo ok
