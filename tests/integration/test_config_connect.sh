#!/bin/bash
# --config.check --connect on a real PostgreSQL: every dataset (the optional
# payments too) and outcome query runs once with LIMIT 0 and its parameters bound, and every missing
# column of every dataset is listed in one run, each at its query's line;
# the exit status is 1. A config whose queries match says "ok" and exits 0.
# Plain --config.check never connects, so it passes the broken mapping.
. "$(dirname "$0")/../scripts/lib.sh"
set -eu

. "$CS_ROOT/tests/scripts/tiny.sh"
tiny_db
pg_psql "$T/pg" -qX -v ON_ERROR_STOP=1 -d crm <<'SQL'
CREATE TABLE events (account_id text, user_id text, feature text, at timestamptz);
GRANT SELECT ON ALL TABLES IN SCHEMA public TO cs_reader;
SQL

tiny_conf "$T/good.conf"
"$BUILD/cs_exporter" --config.file "$T/good.conf" --config.check --connect >"$T/good.out" 2>&1 ||
	fail "--connect rejected a matching config: $(cat "$T/good.out")"
grep -qx "$T/good.conf: ok" "$T/good.out" || fail "no ok line: $(cat "$T/good.out")"

# The mapping of an older column contract, plus a table that does not exist.
sources=$(sed -n '/^sources = (/,/^);/p' "$T/good.conf")
cat >"$T/bad.conf" <<CONF
$sources
segments = { dimensions = ["plan", "region"]; };
reporting = { currency = "USD"; rates = { EUR = 1.1; }; };
windows = ["30d"];
datasets = {
  accounts = { source = "crm"; params = [];
    query = "SELECT id AS account_key, cust AS customer_key, plan, seats, started AS started_at,"
            " first_value AS first_value_at FROM accounts"; };
  subscriptions = { source = "billing"; params = ["as_of"];
    query = "SELECT cust AS customer_key, amount, cur AS currency, unit AS interval_unit,"
            " cnt AS interval_count, qty AS quantity, status, vfrom AS valid_from,"
            " vto AS valid_to FROM subs WHERE vfrom < \$1;"; };
  activity = { source = "crm"; params = ["since", "as_of"];
    query = "SELECT account_id AS account_key, feature, max(at) AS last_active_at FROM events"
            " WHERE at >= \$1 AND at < \$2 GROUP BY 1, 2"; };
  tickets = { source = "crm"; params = ["since"];
    query = "SELECT account_id AS account_key, opened_at, resolved_at, escalated"
            " FROM tickets WHERE opened_at >= \$1"; };
  payments = { source = "billing"; params = ["as_of"];
    query = "SELECT cust AS billing_key, amount AS amount_minor, cur AS currency,"
            " vfrom AS issued_at, vfrom AS due_at, NULL::timestamptz AS paid_at FROM subs"
            " WHERE vfrom < \$1"; };
};
outcomes = (
  { name = "emails_sent"; source = "crm"; target = 10.0; params = ["window_start", "window_end"];
    query = "SELECT account_id AS account_key FROM events WHERE at >= \$1 AND at < \$2"; }
);
collectors = (
  { name = "revenue"; kind = "revenue"; },
  { name = "adoption"; kind = "adoption"; },
  { name = "support"; kind = "support"; },
  { name = "outcomes"; kind = "outcomes"; }
);
CONF
"$BUILD/cs_exporter" --config.file "$T/bad.conf" --config.check >"$T/plain.out" 2>&1 ||
	fail "plain --config.check should not look at columns: $(cat "$T/plain.out")"

rc=0
"$BUILD/cs_exporter" --config.file "$T/bad.conf" --config.check --connect >"$T/bad.out" 2>"$T/bad.err" || rc=$?
[ "$rc" = 1 ] || fail "--connect on a broken mapping exited $rc, expected 1: $(cat "$T/bad.err")"
[ ! -s "$T/bad.out" ] || fail "--connect printed on stdout for a broken mapping: $(cat "$T/bad.out")"
# The line of a query is that of its "query =" setting, the one after.
line() { echo $(($(grep -n "$1" "$T/bad.conf" | head -1 | cut -d: -f1) + 1)); }
want() {
	grep -qxF "$1" "$T/bad.err" || fail "expected the line
  $1
got:
$(cat "$T/bad.err")"
}
want "$T/bad.conf:$(line '  accounts = {'): dataset \"accounts\": missing columns \"billing_key\", \"region\" (segment dimension)"
want "$T/bad.conf:$(line '  subscriptions = {'): dataset \"subscriptions\": missing columns \"billing_key\", \"amount_minor\""
want "$T/bad.conf:$(line '  activity = {'): dataset \"activity\": missing column \"user_key\""
want "$T/bad.conf:$(line '  payments = {'): dataset \"payments\": missing column \"first_failed_at\""
want "$T/bad.conf:$(line 'name = "emails_sent"'): dataset \"emails_sent\": missing column \"value\""
grep -q "^$T/bad.conf:$(line '  tickets = {'): dataset \"tickets\": query on \"crm\" failed: .*tickets.* does not exist" "$T/bad.err" ||
	fail "the failing tickets query is not reported: $(cat "$T/bad.err")"
[ "$(wc -l <"$T/bad.err")" = 6 ] || fail "expected 6 lines, got: $(cat "$T/bad.err")"

# The run reports only the first dataset it reads, but with all of its
# missing columns.
rc=0
"$BUILD/cs_exporter" --config.file "$T/bad.conf" --once --as-of 2026-11-01 >"$T/once.prom" 2>"$T/once.err" || rc=$?
[ "$rc" != 0 ] || fail "--once succeeded on a broken mapping"
grep -q 'missing columns \\"billing_key\\", \\"region\\" (segment dimension)' "$T/once.err" ||
	fail "--once does not name every missing column: $(head -3 "$T/once.err")"

# An unreachable source is reported once, its other datasets as not checked.
sed "s/port = $PGPORT; dbname = \"crm\"/port = 1; dbname = \"crm\"/" "$T/bad.conf" >"$T/down.conf"
rc=0
"$BUILD/cs_exporter" --config.file "$T/down.conf" --config.check --connect 2>"$T/down.err" >/dev/null || rc=$?
[ "$rc" = 1 ] || fail "--connect with a source down exited $rc"
[ "$(grep -c 'could not connect to "crm"' "$T/down.err")" = 1 ] || fail "connection failure not reported once: $(cat "$T/down.err")"
[ "$(grep -c 'not checked, source "crm" is unreachable' "$T/down.err")" = 3 ] || fail "other crm datasets not listed: $(cat "$T/down.err")"
grep -q 'dataset "subscriptions": missing columns' "$T/down.err" || fail "billing still checked: $(cat "$T/down.err")"

# Types against each column's contract, from the result's column types: a
# text "escalated" (every row would be rejected bad_bool at run time), a
# text timestamp and a float seat count are named with the type found and
# the type wanted; keys of any type pass (a text contract column takes
# anything), as do a numeric amount, a date, and an optional loaded_at of
# the wrong type is named too.
pg_psql "$T/pg" -qX -v ON_ERROR_STOP=1 -d crm <<'SQL'
CREATE TABLE tix (account_id bigint, opened date, resolved text, esc text);
CREATE TABLE accts (id int, cust text, plan text, region text, seats float8,
                    started timestamp, loaded boolean);
GRANT SELECT ON ALL TABLES IN SCHEMA public TO cs_reader;
SQL
cat >"$T/types.conf" <<CONF
$sources
segments = { dimensions = ["plan", "region"]; };
reporting = { currency = "USD"; rates = { EUR = 1.1; }; };
windows = ["30d"];
datasets = {
  accounts = { source = "crm"; params = [];
    query = "SELECT id AS account_key, cust AS billing_key, plan, region, seats,"
            " started AS started_at, NULL::timestamptz AS first_value_at, loaded AS loaded_at"
            " FROM accts"; };
  subscriptions = { source = "billing"; params = ["as_of"];
    query = "SELECT cust AS billing_key, amount::numeric AS amount_minor, cur AS currency,"
            " unit AS interval_unit, cnt AS interval_count, qty AS quantity, status,"
            " vfrom::date AS valid_from, vto AS valid_to FROM subs WHERE vfrom < \$1"; };
  tickets = { source = "crm"; params = [];
    query = "SELECT account_id AS account_key, opened AS opened_at, resolved AS resolved_at,"
            " esc AS escalated FROM tix"; };
};
collectors = ( { name = "revenue"; kind = "revenue"; }, { name = "support"; kind = "support"; } );
CONF
rc=0
"$BUILD/cs_exporter" --config.file "$T/types.conf" --config.check --connect >/dev/null 2>"$T/types.err" || rc=$?
[ "$rc" = 1 ] || fail "--connect with mistyped columns exited $rc, expected 1: $(cat "$T/types.err")"
want_t() {
	grep -qxF "$1" "$T/types.err" || fail "expected the line
  $1
got:
$(cat "$T/types.err")"
}
tl() { echo $(($(grep -n "$1" "$T/types.conf" | head -1 | cut -d: -f1) + 1)); }
want_t "$T/types.conf:$(tl '  tickets = {'): dataset \"tickets\": column \"resolved_at\" is text, wants timestamp"
want_t "$T/types.conf:$(tl '  tickets = {'): dataset \"tickets\": column \"escalated\" is text, wants boolean"
want_t "$T/types.conf:$(tl '  accounts = {'): dataset \"accounts\": column \"seats\" is float8, wants integer"
want_t "$T/types.conf:$(tl '  accounts = {'): dataset \"accounts\": column \"loaded_at\" is bool, wants timestamp"
[ "$(wc -l <"$T/types.err")" = 4 ] || fail "expected 4 lines (subscriptions well typed), got: $(cat "$T/types.err")"
# Cast in the query, the same mapping passes.
sed -i -e 's/esc AS escalated/esc::boolean AS escalated/' -e 's/resolved AS resolved_at/resolved::timestamptz AS resolved_at/' \
	-e 's/ seats,/ seats::int AS seats,/' -e 's/loaded AS loaded_at/NULL::timestamptz AS loaded_at/' "$T/types.conf"
"$BUILD/cs_exporter" --config.file "$T/types.conf" --config.check --connect >"$T/types.out" 2>&1 ||
	fail "--connect rejected the cast mapping: $(cat "$T/types.out")"

# --connect alone is a usage error.
rc=0
"$BUILD/cs_exporter" --config.file "$T/good.conf" --connect >/dev/null 2>&1 || rc=$?
[ "$rc" = 2 ] || fail "--connect without --config.check exited $rc, expected 2"
echo ok
