#!/bin/bash
# Start-up failures say what is wrong and exit with the documented codes:
# 2 for a bad configuration (web config: bad hash, syntax, missing
# certificate or file, an @include that is not there; a malformed listen
# address), 1 for the system (address in use, with the reason).
# --config.check checks the web config too. A password_file that is a FIFO
# fails the collector at once instead of hanging it, readiness and SIGTERM.
. "$(dirname "$0")/../scripts/lib.sh"
. "$CS_ROOT/tests/scripts/tiny.sh"
set -eu

PGPORT=$(free_port) # nothing listens there
mkdir -p "$T/pg"
echo "unused-password" >"$T/pg/reader.pass"
tiny_conf "$T/cs.conf" 1h
hash=$("$BUILD/bcrypt_hash" 's3cret' 4)

run() { # expected-code name args...: runs the exporter, output in $T/name.out
	_want=$1 _name=$2
	shift 2
	set +e
	timeout 10 "$BUILD/cs_exporter" --config.file "$T/cs.conf" "$@" >"$T/$_name.out" 2>&1
	_rc=$?
	set -e
	[ "$_rc" = "$_want" ] || fail "$_name: exit $_rc, expected $_want: $(tail -2 "$T/$_name.out")"
}

# --- broken web configs: exit 2, FILE:LINE ----------------------------------
printf 'basic_auth_users = {\n  alice = "not-a-hash";\n};\n' >"$T/badhash.conf"
printf 'basic_auth_users = {\n  alice = ;\n};\n' >"$T/syntax.conf"
printf 'tls_server_config = {\n  cert_file = "nope.crt";\n  key_file = "nope.key";\n};\n' >"$T/nocert.conf"
printf 'basic_auth_users = {\n  @include "users.conf"\n};\n' >"$T/include.conf"
port=$(free_port)
for w in badhash syntax nocert include; do
	run 2 "web_$w" --web.config.file "$T/$w.conf" --web.listen-address "127.0.0.1:$port"
	grep -q "$T/$w.conf:2: " "$T/web_$w.out" || fail "web config $w: no FILE:LINE in $(tail -1 "$T/web_$w.out")"
	run 2 "check_$w" --config.check --web.config.file "$T/$w.conf"
	grep -q "$T/$w.conf:2: " "$T/check_$w.out" || fail "--config.check missed web config $w: $(cat "$T/check_$w.out")"
done
grep -qF 'cannot open include file \"users.conf\"' "$T/web_include.out" ||
	fail "missing @include not named: $(tail -1 "$T/web_include.out")"
run 2 web_missing --web.config.file "$T/missing.conf" --web.listen-address "127.0.0.1:$port"
run 2 check_missing --config.check --web.config.file "$T/missing.conf"
# An @include is found next to the including file, whatever the working directory.
printf 'alice = "%s";\n' "$hash" >"$T/users.conf"
(cd / && "$BUILD/cs_exporter" --config.file "$T/cs.conf" --config.check --web.config.file "$T/include.conf" >"$T/check_inc_ok.out" 2>&1) ||
	fail "--config.check with a good @include failed: $(cat "$T/check_inc_ok.out")"

# --- listen addresses ---------------------------------------------------------
run 2 bad_listen --web.listen-address ':99999'
grep -q "invalid value ':99999' for flag '--web.listen-address'" "$T/bad_listen.out" || fail "bad listen address not explained"
run 2 check_bad_listen --config.check --web.listen-address ':99999'
python3 - "$port" >"$T/holder.out" 2>&1 <<'PY' &
import socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(1)
print("listening", flush=True)
time.sleep(8)
PY
holder=$!
for _ in $(seq 1 50); do grep -q listening "$T/holder.out" && break; sleep 0.1; done
run 1 in_use --web.listen-address "127.0.0.1:$port"
grep -qF "could not listen on \\\"127.0.0.1:$port\\\": Address already in use" "$T/in_use.out" ||
	fail "address in use not explained: $(tail -1 "$T/in_use.out")"
kill "$holder" 2>/dev/null || true
wait "$holder" 2>/dev/null || true

# --- a password file that is a FIFO -----------------------------------------
mkfifo "$T/fifo.pass"
sed "s|$T/pg/reader.pass|$T/fifo.pass|g" "$T/cs.conf" >"$T/fifo.conf"
grep -q fifo.pass "$T/fifo.conf" || fail "test setup: config not rewritten"
port=$(free_port)
start_bg fifo "$BUILD/cs_exporter" --config.file "$T/fifo.conf" --web.listen-address "127.0.0.1:$port"
wait_http "http://127.0.0.1:$port/-/healthy" 10 || fail "no answer with a FIFO password file"
c=$(curl -s -o /dev/null -w '%{http_code}' --max-time 3 "http://127.0.0.1:$port/-/ready" || true)
[ "$c" = 503 ] || fail "/-/ready answered '$c' with a FIFO password file, expected 503"
for _ in $(seq 1 30); do grep -q 'not a regular file' "$T/fifo.log" && break; sleep 0.1; done
grep -q 'not a regular file' "$T/fifo.log" || fail "FIFO password file not reported: $(tail -2 "$T/fifo.log")"
pid=$(cat "$T/fifo.pid")
kill -TERM "$pid"
for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$pid" 2>/dev/null && fail "SIGTERM did not stop the exporter within 3 s (FIFO password file)"
echo ok
