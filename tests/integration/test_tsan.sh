#!/bin/bash
# A short ThreadSanitizer run: the exporter built with -fsanitize=thread
# (build/tsan) serves TLS with client certificates and basic auth to
# concurrent clients while its web config changes under it (users, mtime),
# the configuration is reloaded during collector runs, and it is stopped.
# Any data race report fails the test.
. "$(dirname "$0")/../scripts/lib.sh"
. "$CS_ROOT/tests/scripts/tiny.sh"
set -eu

TSAN=$CS_ROOT/build/tsan
nice make -s -C "$CS_ROOT" SANITIZE=thread BUILD=build/tsan "build/tsan/cs_exporter" "build/tsan/bcrypt_hash" \
	>"$T/build.log" 2>&1 || fail "ThreadSanitizer build failed: $(tail -5 "$T/build.log")"

tiny_db
tiny_conf "$T/cs.conf" 1s

make_certs "$T"
web() { # password
	cat >"$T/web.conf.new" <<WEB
tls_server_config = {
  cert_file = "server.crt";
  key_file = "server.key";
  client_auth_type = "RequireAndVerifyClientCert";
  client_ca_file = "ca.crt";
};
basic_auth_users = {
  alice = "$("$TSAN/bcrypt_hash" "$1" 4)";
};
WEB
	mv "$T/web.conf.new" "$T/web.conf"
}
web s3cret

port=$(free_port)
export TSAN_OPTIONS="halt_on_error=0 exitcode=66 report_signal_unsafe=0"
start_bg exporter "$TSAN/cs_exporter" --config.file "$T/cs.conf" --web.config.file "$T/web.conf" \
	--web.listen-address "127.0.0.1:$port" --web.enable-lifecycle
base="https://127.0.0.1:$port"
tls=(--cacert "$T/ca.crt" --cert "$T/client.crt" --key "$T/client.key")
for _ in $(seq 1 100); do
	curl -s -o /dev/null "${tls[@]}" "$base/-/healthy" && break
	sleep 0.1
done

clients=""
for i in 1 2 3 4; do
	(for _ in $(seq 1 40); do
		curl -s -o /dev/null --max-time 10 "${tls[@]}" -u alice:s3cret "$base/metrics" || true
		curl -s -o /dev/null --max-time 10 "${tls[@]}" -u "alice:wrong$i" "$base/metrics" || true
	done) &
	clients="$clients $!"
done
for n in $(seq 1 8); do
	if [ $((n % 2)) = 0 ]; then web s3cret; else touch "$T/web.conf"; fi
	curl -s -o /dev/null --max-time 10 "${tls[@]}" -u alice:s3cret -X POST "$base/-/reload" || true
	sleep 0.4
done
wait $clients
stop_bg "$(cat "$T/exporter.pid")"
if grep -q 'ThreadSanitizer' "$T/exporter.log"; then
	grep -A30 'WARNING: ThreadSanitizer' "$T/exporter.log" | head -60 >&2
	fail "ThreadSanitizer reported a problem (see $T/exporter.log)"
fi
grep -q 'msg="shutting down"' "$T/exporter.log" || fail "the exporter did not stop cleanly"
echo ok
