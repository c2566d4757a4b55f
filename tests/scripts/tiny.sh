# A tiny billing + CRM pair whose KPIs are worked out by hand, for tests
# that need a real database but not the demo generator. Source it after
# lib.sh:
#   tiny_db            cluster in $T/pg with databases billing and crm
#   tiny_conf FILE [INTERVAL] [EXTRA]  a config for them with one revenue
#                      collector; EXTRA is appended (e.g. a web group)
# Expected at 2026-11-01: MRR pro/eu 133 (2 customers), basic/us 200 (1),
# unknown 50 (1); rejected: one negative_amount, one unknown_currency.

tiny_db() {
	pg_up "$T/pg"
	pg_psql "$T/pg" -qX -v ON_ERROR_STOP=1 -d postgres <<'SQL'
CREATE DATABASE billing;
CREATE DATABASE crm;
SQL
	pg_psql "$T/pg" -qX -v ON_ERROR_STOP=1 -d crm <<'SQL'
CREATE TABLE accounts (id text, cust text, plan text, region text, seats int,
                       started timestamptz, first_value timestamptz, name text);
INSERT INTO accounts VALUES
 ('A1', 'cus_1', 'pro',   'eu', 10, '2025-01-01', NULL, 'Acme'),
 ('A2', 'cus_2', 'basic', 'us', 5,  '2025-02-01', NULL, 'Bolt'),
 ('A3', 'cus_3', 'pro',   'eu', 0,  '2025-03-01', NULL, 'Cog');
GRANT SELECT ON ALL TABLES IN SCHEMA public TO cs_reader;
SQL
	pg_psql "$T/pg" -qX -v ON_ERROR_STOP=1 -d billing <<'SQL'
CREATE TABLE subs (cust text, amount bigint, cur text, unit text, cnt int, qty int,
                   status text, vfrom timestamptz, vto timestamptz);
INSERT INTO subs VALUES
 -- 100.00 USD a month
 ('cus_1', 10000,  'usd', 'month',   1, 1, 'active',   '2025-01-01', NULL),
 -- 2 seats x 1,200.00 USD a year = 200.00 a month
 ('cus_2', 120000, 'USD', 'year',    1, 2, 'past_due', '2025-02-01', NULL),
 -- 90.00 EUR a quarter = 30.00 EUR = 33.00 USD at 1.1
 ('cus_3', 9000,   'EUR', 'quarter', 1, 1, 'active',   '2025-03-01', NULL),
 -- no CRM account: segment unknown, 50.00
 ('cus_4', 5000,   'USD', 'month',   1, 1, 'active',   '2025-01-01', NULL),
 -- ended before as_of, paused, canceled: nothing
 ('cus_1', 99900,  'USD', 'month',   1, 1, 'active',   '2024-01-01', '2025-01-01'),
 ('cus_2', 7000,   'USD', 'month',   1, 1, 'paused',   '2025-01-01', NULL),
 ('cus_3', 7000,   'USD', 'month',   1, 1, 'canceled', '2025-01-01', NULL),
 -- starts after as_of
 ('cus_1', 50000,  'USD', 'month',   1, 1, 'active',   '2027-01-01', NULL),
 -- broken rows: rejected and counted, never fatal
 ('cus_1', -100,   'USD', 'month',   1, 1, 'active',   '2025-01-01', NULL),
 ('cus_1', 100,    'XXX', 'month',   1, 1, 'active',   '2025-01-01', NULL);
GRANT SELECT ON ALL TABLES IN SCHEMA public TO cs_reader;
SQL
}

tiny_conf() {
	cat >"$1" <<CONF
sources = (
  { name = "billing"; host = "127.0.0.1"; port = $PGPORT; dbname = "billing"; user = "cs_reader";
    password_file = "$T/pg/reader.pass"; sslmode = "disable"; },
  { name = "crm"; host = "127.0.0.1"; port = $PGPORT; dbname = "crm"; user = "cs_reader";
    password_file = "$T/pg/reader.pass"; sslmode = "disable"; }
);
segments = { dimensions = ["plan", "region"]; };
reporting = { currency = "USD"; rates = { EUR = 1.1; }; };
windows = ["30d"];
datasets = {
  accounts = { source = "crm"; params = [];
    query = "SELECT id AS account_key, cust AS billing_key, plan, region, seats, started AS started_at, first_value AS first_value_at, name FROM accounts"; };
  subscriptions = { source = "billing"; params = ["as_of"];
    query = "SELECT cust AS billing_key, amount AS amount_minor, cur AS currency, unit AS interval_unit, cnt AS interval_count, qty AS quantity, status, vfrom AS valid_from, vto AS valid_to FROM subs WHERE vfrom < \$1"; };
};
collectors = ( { name = "revenue"; kind = "revenue"; interval = "${2:-2s}"; } );
${3:-}
CONF
}

# value FILE SERIES: the sample value of an exact series line.
value() { awk -v s="$2" 'index($0, s " ") == 1 { print substr($0, length(s) + 2) }' "$1"; }
expect() { # file series expected
	got=$(value "$1" "$2")
	[ -n "$got" ] || fail "missing $2 in $1"
	python3 -c "import sys; g=float('$got'); e=float('$3'); sys.exit(0 if abs(g-e) <= 1e-9*max(1,abs(e)) else 1)" ||
		fail "$2 = $got, expected $3"
}

# scrape / metric SERIES / wait_metric SERIES VALUE SECONDS: the exporter
# listening on 127.0.0.1:$port, its /metrics, one series' value, and waiting
# until that value shows.
scrape() { curl -fsS --max-time 5 "http://127.0.0.1:$port/metrics" 2>/dev/null; }
metric() { scrape | value /dev/stdin "$1"; }
wait_metric() {
	for _ in $(seq 1 $(($3 * 10))); do
		[ "$(metric "$1")" = "$2" ] && return 0
		sleep 0.1
	done
	return 1
}
