#!/bin/bash
# --web.systemd-socket with Debian's own systemd-socket-activate: the
# exporter serves on the socket it is handed (plain HTTP, then TLS with
# basic auth from a web config), binds none of its listen addresses, keeps
# the socket across a SIGHUP and a POST /-/reload, and leaves no LISTEN_*
# variable to its children. Without usable sockets it exits 2 with one line:
# no LISTEN_FDS, LISTEN_PID of another process, an fd that is not a
# listening stream socket. No database is needed: the collector simply fails.
. "$(dirname "$0")/../scripts/lib.sh"
. "$CS_ROOT/tests/scripts/tiny.sh"
set -eu

activate=/usr/bin/systemd-socket-activate
[ -x "$activate" ] || fail "$activate missing (package systemd, tests/scripts/install-deps.sh)"
command -v ss >/dev/null || fail "ss missing (package iproute2)"
bin=$BUILD/cs_exporter

PGPORT=$(free_port) # nothing listens there
mkdir -p "$T/pg"
echo "unused-password" >"$T/pg/reader.pass"
tiny_conf "$T/cs.conf" 1h

# systemd-socket-activate passes on only the variables it is told to: those
# of a sanitizer build too.
envs=()
for v in ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS; do
	[ -z "${!v:-}" ] || envs+=(-E "$v=${!v}")
done

# listeners PID: the TCP ports PID listens on, one a line.
listeners() {
	ss -ltnpH 2>/dev/null | grep -F "pid=$1," | awk '{ print $4 }' | sed 's/.*://' | sort -u
}

# ---- plain HTTP on the activated sockets: TCP and a unix socket ------------------
port=$(free_port)
other=$(free_port) # given as --web.listen-address too: must stay unbound
start_bg plain "$activate" -l "127.0.0.1:$port" -l "$T/cs.sock" --fdname=web:local "${envs[@]}" \
	"$bin" --web.systemd-socket --config.file "$T/cs.conf" --web.enable-lifecycle \
	--web.listen-address "127.0.0.1:$other"
pid=$(cat "$T/plain.pid")
for _ in $(seq 1 50); do grep -q 'Listening on' "$T/plain.log" && break; sleep 0.1; done
grep -q 'Listening on' "$T/plain.log" || fail "systemd-socket-activate did not listen: $(cat "$T/plain.log")"
# The first connection makes systemd-socket-activate exec the exporter (same pid).
wait_http "http://127.0.0.1:$port/-/healthy" 15 || fail "no answer on the activated socket: $(tail -5 "$T/plain.log")"
curl -fsS --max-time 5 "http://127.0.0.1:$port/metrics" >"$T/plain.prom" || fail "/metrics on the activated socket"
grep -q '^cs_exporter_build_info' "$T/plain.prom" || fail "no exposition on the activated socket"
[ "$(readlink "/proc/$pid/exe")" = "$(readlink -f "$bin")" ] ||
	fail "pid $pid is not the exporter: $(readlink "/proc/$pid/exe")"
curl -fsS --max-time 5 --unix-socket "$T/cs.sock" "http://localhost/metrics" >"$T/unix.prom" ||
	fail "/metrics on the activated unix socket"
grep -q '^cs_exporter_build_info' "$T/unix.prom" || fail "no exposition on the activated unix socket"
grep -q "address=127.0.0.1:$port tls=false systemd_socket_fd=3" "$T/plain.log" ||
	fail "the activated TCP socket was not logged: $(cat "$T/plain.log")"
grep -q "address=$T/cs.sock tls=false systemd_socket_fd=4" "$T/plain.log" ||
	fail "the activated unix socket was not logged: $(cat "$T/plain.log")"
grep -q 'web.listen-address is ignored' "$T/plain.log" || fail "an ignored --web.listen-address was not told"
# Its only listener is the activated socket: neither the --web.listen-address
# given nor the default :9818 is bound.
[ "$(listeners "$pid")" = "$port" ] || fail "exporter listens on: $(listeners "$pid" | tr '\n' ' ')"
python3 -c 'import socket, sys
s = socket.socket()
s.bind(("127.0.0.1", int(sys.argv[1])))' "$other" || fail "127.0.0.1:$other is taken"
# The sockets were handed to the exporter's own pid (its start-up
# environment; the exporter then removes the variables, see tests/unit).
tr '\0' '\n' <"/proc/$pid/environ" | grep -qx "LISTEN_PID=$pid" || fail "test setup: LISTEN_PID is not $pid"

# ---- reloads keep the sockets ------------------------------------------------------
# Changed configs, so that each reload restarts the collectors.
tiny_conf "$T/cs.conf" 2h
curl -fsS --max-time 10 -X POST "http://127.0.0.1:$port/-/reload" >/dev/null || fail "POST /-/reload failed"
tiny_conf "$T/cs.conf" 3h
kill -HUP "$pid"
for _ in $(seq 1 50); do [ "$(grep -c 'msg="config reloaded"' "$T/plain.log")" = 2 ] && break; sleep 0.1; done
[ "$(grep -c 'msg="config reloaded"' "$T/plain.log")" = 2 ] || fail "the two reloads did not happen: $(tail -3 "$T/plain.log")"
for _ in 1 2 3; do
	curl -fsS --max-time 5 -o /dev/null "http://127.0.0.1:$port/metrics" || fail "no answer after the reloads"
	curl -fsS --max-time 5 -o /dev/null --unix-socket "$T/cs.sock" "http://localhost/metrics" ||
		fail "no answer on the unix socket after the reloads"
done
kill -0 "$pid" || fail "exporter died on reload"
[ "$(listeners "$pid")" = "$port" ] || fail "after reloads the exporter listens on: $(listeners "$pid" | tr '\n' ' ')"
stop_bg "$pid"
grep -q 'shutting down' "$T/plain.log" || fail "exporter did not stop cleanly: $(tail -3 "$T/plain.log")"

# ---- TLS and basic auth from the web config on the activated socket ------------------
make_certs "$T"
hash=$("$BUILD/bcrypt_hash" 's3cret' 4)
cat >"$T/web.conf" <<WEB
tls_server_config = {
  cert_file = "server.crt";
  key_file = "server.key";
};
basic_auth_users = {
  alice = "$hash";
};
WEB
port=$(free_port)
start_bg tls "$activate" -l "127.0.0.1:$port" "${envs[@]}" \
	"$bin" --web.systemd-socket --config.file "$T/cs.conf" --web.config.file "$T/web.conf"
pid=$(cat "$T/tls.pid")
for _ in $(seq 1 50); do grep -q 'Listening on' "$T/tls.log" && break; sleep 0.1; done
code() { curl -s -o /dev/null -w '%{http_code}' --max-time 5 --cacert "$T/ca.crt" "$@" || true; }
for _ in $(seq 1 100); do
	[ "$(code -u alice:s3cret "https://127.0.0.1:$port/-/healthy")" = 200 ] && break
	sleep 0.1
done
[ "$(code -u alice:s3cret "https://127.0.0.1:$port/metrics")" = 200 ] ||
	fail "no TLS answer on the activated socket: $(tail -5 "$T/tls.log")"
[ "$(code "https://127.0.0.1:$port/metrics")" = 401 ] || fail "basic auth not applied on the activated socket"
[ "$(code -u alice:wrong "https://127.0.0.1:$port/metrics")" = 401 ] || fail "wrong password accepted"
c=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$port/metrics" || true)
[ "$c" != 200 ] || fail "plain HTTP answered on the TLS socket"
grep -q 'tls=true' "$T/tls.log" || fail "TLS not logged for the activated socket"
[ "$(listeners "$pid")" = "$port" ] || fail "TLS exporter listens on: $(listeners "$pid" | tr '\n' ' ')"
stop_bg "$pid"

# ---- refusals: exit 2, one line --------------------------------------------------------
refused() { # name expected-substring command...
	_name=$1 _want=$2
	shift 2
	set +e
	timeout 10 "$@" >"$T/$_name.out" 2>"$T/$_name.err"
	_rc=$?
	set -e
	[ "$_rc" = 2 ] || fail "$_name: exit $_rc, expected 2: $(tail -3 "$T/$_name.err")"
	[ "$(wc -l <"$T/$_name.err")" = 1 ] || fail "$_name: not one line: $(cat "$T/$_name.err")"
	grep -qF -- "$_want" "$T/$_name.err" || fail "$_name: '$(cat "$T/$_name.err")' lacks \"$_want\""
}
run_bin=("$bin" --web.systemd-socket --config.file "$T/cs.conf")
refused no_fds 'LISTEN_FDS is not set' env -u LISTEN_FDS -u LISTEN_PID "${run_bin[@]}"
# The sockets of another process (pid 1): never taken.
refused other_pid 'LISTEN_PID is 1, not this process' env LISTEN_PID=1 LISTEN_FDS=1 "${run_bin[@]}"
refused no_pid 'LISTEN_PID is not set' env -u LISTEN_PID LISTEN_FDS=1 "${run_bin[@]}"
refused zero_fds 'LISTEN_FDS is 0' sh -c 'LISTEN_PID=$$ LISTEN_FDS=0 exec "$@"' sh "${run_bin[@]}"
# fd 3 a regular file, then not open at all.
refused file_fd 'fd 3 (of LISTEN_FDS=1) is not a listening stream socket: not a socket' \
	sh -c 'LISTEN_PID=$$ LISTEN_FDS=1 exec "$@" 3<"$0"' "$T/cs.conf" "${run_bin[@]}"
refused closed_fd 'fd 3 (of LISTEN_FDS=1) is not a listening stream socket: not open' \
	sh -c 'LISTEN_PID=$$ LISTEN_FDS=1 exec "$@" 3<&-' sh "${run_bin[@]}"
# A connected stream socket, not a listening one.
refused connected_fd 'fd 3 (of LISTEN_FDS=1) is not a listening stream socket: a stream socket that is not listening' \
	python3 -c 'import os, socket, sys
a, b = socket.socketpair()
os.dup2(a.fileno(), 3)
os.set_inheritable(3, True)  # a may be fd 3 already, close-on-exec
os.environ.update(LISTEN_PID=str(os.getpid()), LISTEN_FDS="1")
os.execv(sys.argv[1], sys.argv[1:])' "${run_bin[@]}"
# A datagram socket, as systemd-socket-activate --datagram passes it (on the
# first datagram).
port=$(free_port)
"$activate" --datagram -l "127.0.0.1:$port" --fdname=metrics "${envs[@]}" "${run_bin[@]}" \
	>"$T/dgram.out" 2>"$T/dgram.err" &
dpid=$!
_cs_pids="$dpid $_cs_pids"
for _ in $(seq 1 50); do grep -q 'Listening on' "$T/dgram.err" && break; sleep 0.1; done
python3 -c 'import socket, sys
socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"x", ("127.0.0.1", int(sys.argv[1])))' "$port"
set +e
wait "$dpid"
rc=$?
set -e
_cs_pids=$(echo " $_cs_pids " | sed "s/ $dpid / /")
[ "$rc" = 2 ] || fail "datagram socket: exit $rc, expected 2: $(tail -3 "$T/dgram.err")"
grep -v -e 'Listening on' -e 'Communication attempt' -e 'Execing' "$T/dgram.err" >"$T/dgram.msg" || true
[ "$(wc -l <"$T/dgram.msg")" = 1 ] || fail "datagram socket: not one line: $(cat "$T/dgram.msg")"
grep -qF 'fd 3 "metrics" (of LISTEN_FDS=1) is not a listening stream socket: not a stream socket' \
	"$T/dgram.msg" || fail "datagram socket: $(cat "$T/dgram.msg")"
# --config.check and --once serve nothing: the flag asks nothing of them.
"$bin" --web.systemd-socket --config.file "$T/cs.conf" --config.check >"$T/check.out" 2>&1 ||
	fail "--config.check with --web.systemd-socket: $(cat "$T/check.out")"
echo ok
