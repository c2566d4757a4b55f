#!/bin/bash
# The first vertical slice end to end, on a real PostgreSQL: billing
# subscriptions and CRM accounts in two separate databases, joined by the
# exporter, MRR and customers per segment. Values are worked out by hand
# below, independently of the exporter's code. Then the daemon serves the
# same numbers, in both formats, gzip when asked, and promtool accepts them.
. "$(dirname "$0")/../scripts/lib.sh"
set -eu

. "$CS_ROOT/tests/scripts/tiny.sh"
tiny_db
tiny_conf "$T/cs.conf"
port=$(free_port)

"$BUILD/cs_exporter" --config.file "$T/cs.conf" --config.check || fail "config.check rejected the config"
"$BUILD/cs_exporter" --config.file "$T/cs.conf" --once --as-of 2026-11-01T00:00:00Z >"$T/once.prom" ||
	fail "--once failed: $(cat "$T/once.prom")"

expect "$T/once.prom" 'cs_mrr{plan="pro",region="eu",currency="USD"}' 133
expect "$T/once.prom" 'cs_mrr{plan="basic",region="us",currency="USD"}' 200
expect "$T/once.prom" 'cs_mrr{plan="unknown",region="unknown",currency="USD"}' 50
expect "$T/once.prom" 'cs_customers{plan="pro",region="eu"}' 2
expect "$T/once.prom" 'cs_customers{plan="basic",region="us"}' 1
expect "$T/once.prom" 'cs_customers{plan="unknown",region="unknown"}' 1
expect "$T/once.prom" 'cs_rows_rejected_total{dataset="subscriptions",reason="negative_amount"}' 1
expect "$T/once.prom" 'cs_rows_rejected_total{dataset="subscriptions",reason="unknown_currency"}' 1
expect "$T/once.prom" 'cs_collector_up{collector="revenue"}' 1
# A time before the EUR subscription started: pro/eu is cus_1 only.
"$BUILD/cs_exporter" --config.file "$T/cs.conf" --once --as-of 2025-02-15 >"$T/early.prom"
expect "$T/early.prom" 'cs_mrr{plan="pro",region="eu",currency="USD"}' 100
expect "$T/early.prom" 'cs_customers{plan="pro",region="eu"}' 1
promtool check metrics <"$T/once.prom" || fail "promtool check metrics rejected --once output"

# The daemon serves the same values within the first interval.
start_bg exporter "$BUILD/cs_exporter" --config.file "$T/cs.conf" --web.listen-address "127.0.0.1:$port"
wait_http "http://127.0.0.1:$port/-/healthy" 10 || fail "exporter never answered"
url="http://127.0.0.1:$port/metrics"
for _ in $(seq 1 100); do
	curl -fsS "$url" >"$T/live.prom"
	grep -q '^cs_collector_up{collector="revenue"} 1$' "$T/live.prom" && break
	sleep 0.1
done
grep -q '^cs_collector_up{collector="revenue"} 1$' "$T/live.prom" || fail "collector not up"
grep -q '^cs_exporter_build_info{version="[^"]*",revision="[^"]*"} 1$' "$T/live.prom" || fail "no build info"
expect "$T/live.prom" 'cs_mrr{plan="pro",region="eu",currency="USD"}' 133
promtool check metrics <"$T/live.prom" || fail "promtool check metrics rejected the live exposition"
curl -fsS "http://127.0.0.1:$port/-/ready" >/dev/null || fail "not ready after a successful run"

# OpenMetrics on request, ending with # EOF.
curl -fsS -D "$T/om.h" -H 'Accept: application/openmetrics-text; version=1.0.0' "$url" >"$T/om.prom"
grep -qi '^content-type: application/openmetrics-text; version=1.0.0' "$T/om.h" || fail "no OpenMetrics content type"
[ "$(tail -n 1 "$T/om.prom")" = "# EOF" ] || fail "OpenMetrics output does not end with # EOF"
grep -q '^# TYPE cs_collector_runs counter' "$T/om.prom" || fail "OpenMetrics counter metadata should drop _total"

# gzip when accepted, not otherwise.
curl -fsS -D "$T/gz.h" --compressed "$url" >"$T/gz.prom"
grep -qi '^content-encoding: gzip' "$T/gz.h" || fail "no gzip with Accept-Encoding: gzip"
grep -q '^cs_mrr{plan="pro",region="eu",currency="USD"} ' "$T/gz.prom" || fail "gzip body does not decode to the exposition"
curl -fsS -D "$T/plain.h" "$url" -o /dev/null
if grep -qi '^content-encoding' "$T/plain.h"; then fail "gzip without Accept-Encoding"; fi

# Keep-alive: three scrapes (plain, gzip, then a GET with a body) on one
# connection. Prometheus reuses its connections; a server that closes after
# each answer makes every scrape pay a TCP handshake.
curl -sS -v "$url" -o /dev/null --next --compressed "$url" -o /dev/null \
	--next -X GET --data-binary 'ignored' "$url" -o /dev/null 2>"$T/keepalive.log" ||
	fail "keep-alive scrapes failed: $(tail -3 "$T/keepalive.log")"
n=$(grep -c 'Re-using existing connection' "$T/keepalive.log" || true)
[ "$n" -ge 2 ] || fail "scrapes did not share a connection ($n reuses): $(grep -i 'connection' "$T/keepalive.log" | head -5)"
if grep -qi '^< connection: close' "$T/keepalive.log"; then fail "a scrape answered Connection: close"; fi

# Only GET and HEAD on the metrics path; unknown paths 404; landing page links.
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$url")
[ "$code" = 405 ] || fail "POST /metrics answered $code, expected 405"
code=$(curl -s -o /dev/null -w '%{http_code}' -I "$url")
[ "$code" = 200 ] || fail "HEAD /metrics answered $code"
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/nope")
[ "$code" = 404 ] || fail "unknown path answered $code"
curl -fsS "http://127.0.0.1:$port/" | grep -q 'href="/metrics"' || fail "landing page does not link to /metrics"
echo "ok"
