#!/bin/bash
# Freshness and visible rejections (docs/datasets.md, "Freshness"), on a real PostgreSQL:
# cs_dataset_rows / cs_dataset_newest_timestamp_seconds / max_age per dataset,
# a stalled feed shown stale on the status page, a log line per dataset
# with the reason counts (warn above 5 %), label values cut at 256
# bytes, and a row whose monthly amount is out of range rejected rather than
# turned into +Inf. Instants are relative to the moment the test runs.
. "$(dirname "$0")/../scripts/lib.sh"
set -eu

. "$CS_ROOT/tests/scripts/tiny.sh"
tiny_db
# A subscription that started an hour ago (whole seconds, so the expected
# timestamp is exact), an absurd amount, and a 1,000-byte plan.
recent=$(($(date +%s) - 3600))
long=$(printf 'x%.0s' $(seq 1 1000))
pg_psql "$T/pg" -qX -v ON_ERROR_STOP=1 -d billing <<SQL
INSERT INTO subs VALUES
 ('cus_1', 1000, 'USD', 'month', 1, 1, 'active', to_timestamp($recent), NULL),
 ('cus_2', 9000000000000000000, 'USD', 'month', 1, 2000000000, 'active', '2025-01-01', NULL);
SQL
pg_psql "$T/pg" -qX -v ON_ERROR_STOP=1 -d crm <<SQL
INSERT INTO accounts VALUES ('A9', 'cus_9', '$long', 'eu', 1, '2025-04-01', NULL, 'Long'),
 ('A8', 'cus_8', 'pro', 'eu', 1, to_timestamp($(date +%s) + 8 * 86400), NULL, 'Soon');
SQL
# accounts allow 7d: their newest row at or before t is from 2025 (A8
# onboards in eight days, which is no sign of a live feed), so they are
# stale; subscriptions allow 1d and are fresh. Without max_age neither would
# be (only activity has a default, docs/datasets.md, "Freshness").
tiny_conf "$T/cs.conf" 1s
sed -i -e 's|subscriptions = { source = "billing";|subscriptions = { source = "billing"; max_age = "1d";|' \
	-e 's|accounts = { source = "crm";|accounts = { source = "crm"; max_age = "7d";|' "$T/cs.conf"
grep -q 'max_age = "1d"' "$T/cs.conf" || fail "could not set max_age"
grep -q 'max_age = "7d"' "$T/cs.conf" || fail "could not set max_age"

port=$(free_port)
start_bg exporter "$BUILD/cs_exporter" --config.file "$T/cs.conf" \
	--web.listen-address "127.0.0.1:$port" 2>"$T/exporter.log"
wait_http "http://127.0.0.1:$port/-/ready" 15 || fail "exporter never became ready: $(tail -5 "$T/exporter.log")"
curl -fsS "http://127.0.0.1:$port/metrics" >"$T/live.prom"

expect "$T/live.prom" 'cs_dataset_rows{dataset="accounts"}' 5
expect "$T/live.prom" 'cs_dataset_rows{dataset="subscriptions"}' 11
expect "$T/live.prom" 'cs_dataset_newest_timestamp_seconds{dataset="subscriptions"}' "$recent"
expect "$T/live.prom" 'cs_dataset_newest_timestamp_seconds{dataset="accounts"}' \
	"$(date -u -d 2025-04-01 +%s)"
expect "$T/live.prom" 'cs_dataset_max_age_seconds{dataset="accounts"}' 604800
expect "$T/live.prom" 'cs_dataset_max_age_seconds{dataset="subscriptions"}' 86400
expect "$T/live.prom" 'cs_rows_rejected_total{dataset="subscriptions",reason="amount_out_of_range"}' 1
grep -Eq '(Inf|NaN)' "$T/live.prom" && fail "a sample is Inf or NaN: $(grep -E '(Inf|NaN)' "$T/live.prom" | head -3)"
promtool check metrics <"$T/live.prom" || fail "promtool rejected the exposition"

# The 1,000-byte plan is cut to 256 bytes, ending in an ellipsis.
cut=$(grep -o 'plan="x*…"' "$T/live.prom" | head -1)
[ -n "$cut" ] || fail "no cut plan label"
[ "$(printf '%s' "$cut" | wc -c)" -eq $((256 + 7)) ] || fail "cut label is $(printf '%s' "$cut" | wc -c) bytes with plan=\"\""
grep -q "$long" "$T/live.prom" && fail "the whole 1,000-byte value reached a label"

# A line for subscriptions (repeated only when its counts change, see
# test_quiet_logs.sh): 3 of 11 rows rejected is over 5 %.
line=$(grep 'msg="rows rejected"' "$T/exporter.log" | grep 'dataset=subscriptions' | head -1)
[ -n "$line" ] || fail "no rejection log line: $(head -5 "$T/exporter.log")"
case "$line" in *level=warn*) ;; *) fail "rejections over 5 % not at warn: $line" ;; esac
for want in 'rejected=3' 'rows=11' 'amount_out_of_range=1' 'negative_amount=1' 'unknown_currency=1'; do
	case "$line" in *"$want"*) ;; *) fail "\"$want\" missing in: $line" ;; esac
done
grep 'msg="rows rejected"' "$T/exporter.log" | grep -q 'dataset=accounts' &&
	fail "accounts had no rejected row but got a line"

# The status page shows each dataset's state, age and rows, and the reasons.
curl -fsS "http://127.0.0.1:$port/" >"$T/status.html"
grep -q '<h2>Datasets</h2>' "$T/status.html" || fail "no Datasets section"
grep -Eq '<tr><td>accounts</td><td class="down">stale</td><td>2025-04-01T00:00:00Z</td>' "$T/status.html" ||
	fail "accounts not shown stale: $(grep -o '<tr><td>accounts</td>[^\n]*' "$T/status.html" | head -1)"
grep -Eq '<tr><td>subscriptions</td><td class="up">fresh</td><td>[0-9T:Z-]+</td><td class="num">(59|60|61) min</td><td class="num">24.0 h</td>' "$T/status.html" ||
	fail "subscriptions not shown fresh"
grep -Eq '<tr><td>subscriptions</td>.*<td class="num">11</td><td class="num">3</td></tr>' "$T/status.html" ||
	fail "subscriptions rows and rejects not shown"
for r in amount_out_of_range negative_amount unknown_currency; do
	grep -q "<td>subscriptions</td><td>$r</td>" "$T/status.html" || fail "reason $r not listed"
done
echo ok
