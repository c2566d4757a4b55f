#!/bin/bash
# A database that is not UTF-8: the session asks for client_encoding UTF8,
# so LATIN1 text arrives converted and Zürich and Zörich stay two series
# (they once both rendered as Z\uFFFDrich: one duplicated series).
. "$(dirname "$0")/../scripts/lib.sh"
. "$CS_ROOT/tests/scripts/tiny.sh"
set -eu

tiny_db
pg_psql "$T/pg" -qX -v ON_ERROR_STOP=1 -d postgres \
	-c "CREATE DATABASE crm_latin1 ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0"
PGCLIENTENCODING=UTF8 pg_psql "$T/pg" -qX -v ON_ERROR_STOP=1 -d crm_latin1 <<'SQL'
CREATE TABLE accounts (id text, cust text, plan text, region text, seats int,
                       started timestamptz, first_value timestamptz, name text);
INSERT INTO accounts VALUES
 ('A1', 'cus_1', 'pro',   'Zürich', 10, '2025-01-01', NULL, 'Acme'),
 ('A2', 'cus_2', 'basic', 'us',     5,  '2025-02-01', NULL, 'Bolt'),
 ('A3', 'cus_3', 'pro',   'Zörich', 0,  '2025-03-01', NULL, 'Cog');
GRANT SELECT ON ALL TABLES IN SCHEMA public TO cs_reader;
SQL
[ "$(pg_psql "$T/pg" -qAtX -d crm_latin1 -c 'SHOW server_encoding')" = LATIN1 ] ||
	fail "test setup: database is not LATIN1"

tiny_conf "$T/cs.conf"
sed -i 's/dbname = "crm";/dbname = "crm_latin1";/' "$T/cs.conf"
grep -q crm_latin1 "$T/cs.conf" || fail "test setup: config not rewritten"
"$BUILD/cs_exporter" --config.file "$T/cs.conf" --once --as-of 2026-11-01 >"$T/out.prom" 2>"$T/err.log" ||
	fail "--once failed: $(cat "$T/err.log")"
expect "$T/out.prom" 'cs_mrr{plan="pro",region="Zürich",currency="USD"}' 100
expect "$T/out.prom" 'cs_mrr{plan="pro",region="Zörich",currency="USD"}' 33
dups=$(grep -v '^#' "$T/out.prom" | sed 's/ [^ ]*$//' | sort | uniq -d)
[ -z "$dups" ] || fail "duplicate series: $dups"
python3 -c 'import sys; open(sys.argv[1], "rb").read().decode("utf-8")' "$T/out.prom" ||
	fail "exposition is not valid UTF-8"
echo ok
