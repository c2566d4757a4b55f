#!/bin/bash
# --web.config.file in exporter-toolkit's own YAML (a .yml or .yaml file):
# the toolkit's documented example (TLS, two users, health and readiness
# excluded from basic auth) and a typical operator file (client
# certificates, TLS 1.2 only with chosen suites and curves, security
# headers, two users); an unknown key is refused with FILE:LINE, exit 2.
# Hostile files are refused with FILE:LINE and exit 2, at --config.check and
# at start-up, cheaply: duplicate keys (a second basic_auth_users once wrote
# past the users array), a 1 KB alias bomb (once 11.6 GB), 100k nested '['
# (once 28 s).
. "$(dirname "$0")/../scripts/lib.sh"
. "$CS_ROOT/tests/scripts/tiny.sh"
set -eu

PGPORT=$(free_port) # nothing listens there: the collector simply fails
mkdir -p "$T/pg"
echo "unused-password" >"$T/pg/reader.pass"
tiny_conf "$T/cs.conf" 1h

make_certs "$T"
alice=$("$BUILD/bcrypt_hash" 'alice-pw' 4)
bob=$("$BUILD/bcrypt_hash" 'bob-pw' 4)
code() { curl -s -o /dev/null -w '%{http_code}' --cacert "$T/ca.crt" "$@"; }
up() { # name
	for _ in $(seq 1 50); do
		curl -s -o /dev/null "${@:2}" "https://127.0.0.1:$port/-/healthy" && return 0
		sleep 0.1
	done
	fail "$1 did not start: $(tail -3 "$T/$1.log")"
}

# --- the toolkit's documented example ------------------------------------------
cat >"$T/web-config.yml" <<YML
# TLS and basic authentication configuration example.
#
# Additionally, a certificate and a key file are needed.
tls_server_config:
  cert_file: server.crt
  key_file: server.key

# Usernames and passwords required to connect.
basic_auth_users:
  alice: $alice
  bob: $bob

# Exclude /-/healthy and /-/ready from basic authentication
basic_auth_excluded_paths:
- /-/healthy
- /-/ready
YML
"$BUILD/cs_exporter" --config.file "$T/cs.conf" --web.config.file "$T/web-config.yml" --config.check >"$T/check.out" 2>&1 ||
	fail "--config.check refused the toolkit example: $(cat "$T/check.out")"
port=$(free_port)
start_bg doc "$BUILD/cs_exporter" --config.file "$T/cs.conf" --web.config.file "$T/web-config.yml" \
	--web.listen-address "127.0.0.1:$port"
up doc --cacert "$T/ca.crt"
url="https://127.0.0.1:$port"
[ "$(code "$url/metrics")" = 401 ] || fail "example: /metrics without credentials not 401"
[ "$(code -u alice:alice-pw "$url/metrics")" = 200 ] || fail "example: alice refused"
[ "$(code -u bob:bob-pw "$url/metrics")" = 200 ] || fail "example: bob refused"
[ "$(code -u bob:alice-pw "$url/metrics")" = 401 ] || fail "example: bob with alice's password accepted"
[ "$(code "$url/-/healthy")" = 200 ] || fail "example: /-/healthy not excluded from basic auth"
[ "$(code "$url/-/ready")" = 503 ] || fail "example: /-/ready not excluded from basic auth"
stop_bg "$(cat "$T/doc.pid")"

# --- a typical operator file ----------------------------------------------------
cat >"$T/web.yaml" <<YML
---
tls_server_config:
  cert_file: "server.crt"
  key_file: 'server.key'
  client_auth_type: RequireAndVerifyClientCert
  client_ca_file: ca.crt
  min_version: TLS12
  max_version: TLS12
  cipher_suites:
    - TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384
  curve_preferences: [CurveP384]
http_server_config:
  http2: false
  headers:
    X-Frame-Options: deny
    X-Content-Type-Options: nosniff
    Strict-Transport-Security: max-age=31536000
basic_auth_users:
  prometheus: "$alice"
  grafana-agent: '$bob'
YML
port=$(free_port)
start_bg ops "$BUILD/cs_exporter" --config.file "$T/cs.conf" --web.config.file "$T/web.yaml" \
	--web.listen-address "127.0.0.1:$port"
mtls=(--cert "$T/client.crt" --key "$T/client.key")
up ops --cacert "$T/ca.crt" "${mtls[@]}"
url="https://127.0.0.1:$port/metrics"
[ "$(code "${mtls[@]}" -u prometheus:alice-pw "$url")" = 200 ] || fail "operator file: prometheus refused"
[ "$(code "${mtls[@]}" -u grafana-agent:bob-pw "$url")" = 200 ] || fail "operator file: grafana-agent refused"
c=$(code -u prometheus:alice-pw "$url" || true)
[ "$c" != 200 ] || fail "operator file: no client certificate accepted"
c=$(code "${mtls[@]}" -u prometheus:alice-pw --tlsv1.3 "$url" || true)
[ "$c" != 200 ] || fail "operator file: TLS 1.3 accepted with max_version TLS12"
curl -s -D "$T/headers" -o /dev/null --cacert "$T/ca.crt" "${mtls[@]}" -u prometheus:alice-pw "$url"
grep -qi '^x-frame-options: deny' "$T/headers" || fail "operator file: X-Frame-Options missing"
grep -qi '^x-content-type-options: nosniff' "$T/headers" || fail "operator file: X-Content-Type-Options missing"
grep -qi '^strict-transport-security: max-age=31536000' "$T/headers" || fail "operator file: HSTS missing"
openssl s_client -connect "127.0.0.1:$port" -tls1_2 -cert "$T/client.crt" -key "$T/client.key" \
	-CAfile "$T/ca.crt" </dev/null >"$T/s_client.out" 2>&1 || true
grep -q 'Cipher is ECDHE-RSA-AES256-GCM-SHA384' "$T/s_client.out" ||
	fail "operator file: cipher_suites not applied: $(grep -m1 'Cipher is' "$T/s_client.out")"
stop_bg "$(cat "$T/ops.pid")"

# --- unknown keys: FILE:LINE, exit 2 ------------------------------------------
printf 'tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  min_verison: TLS13\n' >"$T/typo.yml"
set +e
"$BUILD/cs_exporter" --config.file "$T/cs.conf" --web.config.file "$T/typo.yml" --config.check >"$T/typo.out" 2>&1
rc=$?
set -e
[ "$rc" = 2 ] || fail "a typo in the YAML web config: exit $rc, expected 2"
grep -q "typo.yml:4: unknown key tls_server_config.min_verison" "$T/typo.out" ||
	fail "a typo in the YAML web config: $(cat "$T/typo.out")"

# --- hostile files: FILE:LINE, exit 2, at --config.check and at start-up -------
refused() { # name line message
	local rc
	set +e
	(
		ulimit -v 2000000
		exec timeout 20 /usr/bin/time -f '%M %e' -o "$T/$1.time" "$BUILD/cs_exporter" \
			--config.file "$T/cs.conf" --web.config.file "$T/$1.yml" --config.check
	) >"$T/$1.check" 2>&1
	rc=$?
	set -e
	[ "$rc" = 2 ] || fail "$1: --config.check exit $rc, expected 2: $(tail -2 "$T/$1.check")"
	grep -qF "$T/$1.yml:$2: $3" "$T/$1.check" || fail "$1: --config.check said $(cat "$T/$1.check")"
	read -r kb secs < <(tail -n 1 "$T/$1.time")
	[ "$kb" -lt 102400 ] || fail "$1: --config.check used ${kb} KB"
	python3 -c "import sys; sys.exit(0 if $secs < 1.0 else 1)" || fail "$1: --config.check took ${secs}s"
	set +e
	timeout 20 "$BUILD/cs_exporter" --config.file "$T/cs.conf" --web.config.file "$T/$1.yml" \
		--web.listen-address "127.0.0.1:$(free_port)" >"$T/$1.start" 2>&1
	rc=$?
	set -e
	[ "$rc" = 2 ] || fail "$1: start-up exit $rc, expected 2: $(tail -2 "$T/$1.start")"
	grep -qF "$T/$1.yml:$2: $3" "$T/$1.start" || fail "$1: start-up said $(tail -2 "$T/$1.start")"
}
carol=$("$BUILD/bcrypt_hash" 'carol-pw' 4)
printf 'basic_auth_users:\n  alice: %s\n  bob: %s\n  carol: %s\nbasic_auth_users:\n  dave: %s\n' \
	"$alice" "$bob" "$carol" "$alice" >"$T/dup_users.yml"
refused dup_users 5 "duplicate key basic_auth_users (first at line 1)"
printf 'basic_auth_users:\n  alice: %s\n  bob: %s\n  alice: %s\n' "$alice" "$bob" "$carol" >"$T/dup_user.yml"
refused dup_user 4 "duplicate key alice (first at line 2)"
printf 'http_server_config:\n  http2: false\nbasic_auth_users:\n  alice: %s\nhttp_server_config:\n  http2: true\n' \
	"$alice" >"$T/dup_http.yml"
refused dup_http 5 "duplicate key http_server_config (first at line 1)"
printf 'basic_auth_excluded_paths: [/-/healthy]\nbasic_auth_excluded_paths:\n  - /metrics\n' >"$T/dup_excluded.yml"
refused dup_excluded 2 "duplicate key basic_auth_excluded_paths (first at line 1)"
printf 'tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\ntls_server_config:\n  min_version: TLS13\n' \
	>"$T/dup_tls.yml"
refused dup_tls 4 "duplicate key tls_server_config (first at line 1)"

# Ten levels of ten aliases, 1 KB: 10^10 strings once expanded.
python3 - "$T/bomb.yml" <<'PY'
import sys
lines = ['basic_auth_excluded_paths: &a [' + ','.join(['"/lol"'] * 10) + ']']
prev = 'a'
for c in 'bcdefghij':
    lines.append('http_server_config_%s: &%s [%s]' % (c, c, ','.join(['*' + prev] * 10)))
    prev = c
open(sys.argv[1], 'w').write('\n'.join(lines) + '\n')
PY
[ "$(wc -c <"$T/bomb.yml")" -le 1024 ] || fail "the alias bomb is over 1 KB"
refused bomb 1 "anchors (&a) are not supported"
# The classic form, under an unknown key: the key is refused before its value.
sed 's/^basic_auth_excluded_paths:/lol:/' "$T/bomb.yml" >"$T/bomb_unknown.yml"
refused bomb_unknown 1 "unknown key lol"
# 100k nested '[', a 200 KB file.
python3 -c "import sys; open(sys.argv[1], 'w').write('basic_auth_excluded_paths: ' + '[' * 200000 + '\n')" "$T/nested.yml"
refused nested 1 "nested deeper than 16 levels"

# A running exporter refuses such an edit and keeps its users.
cp "$T/web-config.yml" "$T/live.yml"
port=$(free_port)
start_bg live "$BUILD/cs_exporter" --config.file "$T/cs.conf" --web.config.file "$T/live.yml" \
	--web.listen-address "127.0.0.1:$port"
up live --cacert "$T/ca.crt"
url="https://127.0.0.1:$port/metrics"
for bad in dup_users bomb nested; do
	n0=$(grep -c 'could not reload web config' "$T/live.log" || true)
	cp "$T/$bad.yml" "$T/live.yml.new"
	mv "$T/live.yml.new" "$T/live.yml"
	for _ in $(seq 1 30); do
		[ "$(grep -c 'could not reload web config' "$T/live.log" || true)" -gt "$n0" ] && break
		sleep 0.1
	done
	[ "$(code "$url")" = 401 ] || fail "after an edit to $bad: no credentials not 401"
	[ "$(code -u alice:alice-pw "$url")" = 200 ] || fail "after an edit to $bad: alice refused"
	[ "$(code -u dave:alice-pw "$url")" = 401 ] || fail "after an edit to $bad: dave accepted"
done
grep -qF "$T/live.yml:5: duplicate key basic_auth_users" "$T/live.log" || fail "refused edit not logged: $(tail -3 "$T/live.log")"
grep -qF "$T/live.yml:1: nested deeper than 16 levels" "$T/live.log" || fail "refused nesting not logged"
kill -0 "$(cat "$T/live.pid")" || fail "the exporter died after hostile edits"
stop_bg "$(cat "$T/live.pid")"
echo ok
