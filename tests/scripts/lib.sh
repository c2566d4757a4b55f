# Helpers for integration tests; source it from a bash or POSIX sh script:
#
#   . "$(dirname "$0")/../scripts/lib.sh"
#   pg_up "$T/pg"                 # cluster up, env exported, stopped on exit
#   start_bg exporter "$BUILD/cs_exporter" --config.file "$T/c.conf" ...
#   wait_http "http://127.0.0.1:$port/metrics" 10 || fail "exporter never answered"
#
# On sourcing, T is a fresh directory tests/out/<test name>.XXXXXX
# (tests/out/ is ignored by git). Every process registered by start_bg and
# every cluster started by pg_up is stopped on exit, by pid, in reverse order.
# T is then removed when the script succeeded, and kept for post-mortems when
# it failed or CS_KEEP_OUT=1 (the benchmarks and tools that point at their
# logs set it): a test's clusters and data sets are hundreds of MB, and a
# suite run leaves none behind.

CS_ROOT=$(cd "$(dirname "$0")/../.." && pwd)
CS_SCRIPTS=$CS_ROOT/tests/scripts
BUILD=${BUILD:-build}
case "$BUILD" in /*) ;; *) BUILD=$CS_ROOT/$BUILD ;; esac

_cs_test=$(basename "$0" .sh)
mkdir -p "$CS_ROOT/tests/out"
T=$(mktemp -d "$CS_ROOT/tests/out/$_cs_test.XXXXXX")
chmod 755 "$T"

_cs_pids=""
_cs_clusters=""

# _cs_reap PID: waits up to 5 s for PID (already sent TERM) to end, then
# kills it.
_cs_reap() {
	_i=0
	while kill -0 "$1" 2>/dev/null && [ $_i -lt 50 ]; do
		sleep 0.1
		_i=$((_i + 1))
	done
	kill -KILL "$1" 2>/dev/null || true
}

_cs_cleanup() {
	_cs_rc=$?
	for _p in $_cs_pids; do
		kill -TERM "$_p" 2>/dev/null || true
	done
	for _p in $_cs_pids; do
		_cs_reap "$_p"
	done
	for _d in $_cs_clusters; do
		"$CS_SCRIPTS/pg.sh" stop "$_d" || true
	done
	if [ "$_cs_rc" -eq 0 ] && [ "${CS_KEEP_OUT:-0}" != 1 ]; then
		rm -rf "$T"
	fi
	exit $_cs_rc
}
trap _cs_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# stop_bg PID: stops a process registered with start_bg now rather than on
# exit, and forgets it.
stop_bg() {
	kill -TERM "$1" 2>/dev/null || true
	_cs_reap "$1"
	wait "$1" 2>/dev/null || true
	_cs_pids=$(echo " $_cs_pids " | sed "s/ $1 / /")
}

# fail MSG: print MSG and end the test with status 1.
fail() {
	echo "FAIL: $_cs_test: $*" >&2
	exit 1
}

# make_certs DIR: a test CA (ca.crt, ca.key), a server certificate for
# 127.0.0.1 (server.crt, server.key) and a client certificate (client.crt,
# client.key, CN=prometheus), both signed by the CA, valid two days.
make_certs() {
	(
		cd "$1" || exit 1
		openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=test CA" \
			-keyout ca.key -out ca.crt >/dev/null 2>&1 &&
			openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout server.key \
				-out server.csr >/dev/null 2>&1 &&
			printf 'subjectAltName=IP:127.0.0.1\n' >san.ext &&
			openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 \
				-extfile san.ext -out server.crt >/dev/null 2>&1 &&
			openssl req -newkey rsa:2048 -nodes -subj "/CN=prometheus" -keyout client.key \
				-out client.csr >/dev/null 2>&1 &&
			openssl x509 -req -in client.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 \
				-out client.crt >/dev/null 2>&1
	) || fail "could not make test certificates in $1"
}

# free_port: prints a TCP port on 127.0.0.1 that nothing listens on now.
free_port() {
	python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

# pg_up DIR: starts (or reuses) the cluster in DIR, exports PGHOST PGPORT
# PGSOCK CS_PG_DIR, and stops that cluster when the test exits.
pg_up() {
	"$CS_SCRIPTS/pg.sh" start "$1" >/dev/null || fail "could not start PostgreSQL in $1"
	# shellcheck disable=SC1091
	. "$1/env"
	_cs_clusters="$1 $_cs_clusters"
}

# pg_psql DIR ARGS...: psql as superuser on the cluster in DIR.
pg_psql() {
	(
		# shellcheck disable=SC1091
		. "$1/env"
		shift
		"$CS_PG_BIN/psql" -h "$PGSOCK" -p "$PGPORT" -U "$CS_PG_SUPERUSER" -X "$@"
	)
}

# start_bg NAME CMD...: runs CMD in the background with output in
# $T/NAME.log; its pid is in $T/NAME.pid and it is killed on exit.
start_bg() {
	_n=$1
	shift
	"$@" >"$T/$_n.log" 2>&1 &
	echo $! >"$T/$_n.pid"
	_cs_pids="$! $_cs_pids"
}

# wait_http URL [SECONDS]: waits until URL answers with HTTP 2xx (default 10s).
wait_http() {
	_url=$1
	_secs=${2:-10}
	_end=$(($(date +%s) + _secs))
	while [ "$(date +%s)" -le "$_end" ]; do
		if curl -fsS -o /dev/null --max-time 2 "$_url" 2>/dev/null; then
			return 0
		fi
		sleep 0.1
	done
	return 1
}

# promtool_metrics FILE: `promtool check metrics` on an exposition, with one
# known exception: its lint wants base units in metric names, and
# cs_days_sales_outstanding is in days by definition (docs/design.md,
# "Payments"). Any other problem, or a file promtool cannot parse, fails;
# the problems are left in FILE.promtool.
promtool_metrics() {
	promtool check metrics <"$1" >"$1.promtool" 2>&1 && return 0
	! grep -vxF 'cs_days_sales_outstanding use base unit "seconds" instead of "days"' "$1.promtool" |
		grep -q .
}
