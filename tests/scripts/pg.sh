#!/bin/sh
# Private PostgreSQL clusters for tests and the demo, never the system one.
#
#   pg.sh start DIR        create (if missing) and start a cluster in DIR; prints the port
#   pg.sh stop DIR         stop it (by the pid in DIR/data/postmaster.pid)
#   pg.sh psql DIR [ARGS]  psql as the superuser over DIR/sock
#   pg.sh status DIR       exit 0 when running, and print the port
#
# The cluster listens on 127.0.0.1 only, on a port picked free at start, with
# its unix socket in DIR/sock. Local socket connections of the superuser are
# trusted; TCP needs scram-sha-256. The login role cs_reader gets a random
# password kept in DIR/reader.pass (mode 600). DIR/env holds shell assignments
# (PGHOST PGPORT PGSOCK CS_PG_DIR, and CS_PG_BIN CS_PG_SUPERUSER for a fast
# superuser psql: "$CS_PG_BIN/psql" -h "$PGSOCK" -p "$PGPORT" -U "$CS_PG_SUPERUSER")
# for scripts to source.
#
# As root, the cluster runs as the unprivileged `postgres` user (PostgreSQL
# refuses to run as root), so DIR is chowned to it.
set -eu

usage() {
	echo "usage: pg.sh start|stop|status|psql DIR [psql args]" >&2
	exit 2
}

[ $# -ge 2 ] || usage
cmd=$1
dir=$2
shift 2

find_bindir() {
	if [ -n "${PG_BINDIR:-}" ]; then
		echo "$PG_BINDIR"
		return
	fi
	best=""
	best_v=0
	for d in /usr/lib/postgresql/*/bin; do
		[ -x "$d/initdb" ] || continue
		v=$(basename "$(dirname "$d")")
		case "$v" in *[!0-9]*) continue ;; esac
		if [ "$v" -gt "$best_v" ]; then
			best_v=$v
			best=$d
		fi
	done
	if [ -z "$best" ]; then
		p=$(command -v pg_ctl 2>/dev/null || true)
		[ -n "$p" ] && best=$(dirname "$p")
	fi
	[ -n "$best" ] || {
		echo "pg.sh: no PostgreSQL server binaries found (apt-get install postgresql)" >&2
		exit 1
	}
	echo "$best"
}

BIN=$(find_bindir)

# Runs a command as the cluster owner: postgres when we are root, else us.
as_owner() {
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

owner_name() {
	if [ "$(id -u)" -eq 0 ]; then echo postgres; else id -un; fi
}

mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
data=$dir/data
sock=$dir/sock

running_pid() {
	[ -f "$data/postmaster.pid" ] || return 1
	pid=$(sed -n 1p "$data/postmaster.pid" 2>/dev/null || true)
	[ -n "$pid" ] || return 1
	kill -0 "$pid" 2>/dev/null || return 1
	echo "$pid"
}

running_port() {
	sed -n 4p "$data/postmaster.pid"
}

# A port nothing listens on now; the start loop retries on a race.
pick_port() {
	python3 - <<'EOF' 2>/dev/null || echo $((20000 + $$ % 20000))
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()
EOF
}

write_env() {
	umask 022
	cat >"$dir/env" <<EOF
PGHOST=127.0.0.1
PGPORT=$1
PGSOCK=$sock
CS_PG_DIR=$dir
CS_PG_BIN=$BIN
CS_PG_SUPERUSER=$(owner_name)
export PGHOST PGPORT PGSOCK CS_PG_DIR CS_PG_BIN CS_PG_SUPERUSER
EOF
}

init_cluster() {
	if [ "$(id -u)" -eq 0 ]; then
		chown postgres "$dir"
	fi
	mkdir -p "$sock"
	[ "$(id -u)" -ne 0 ] || chown postgres "$sock"
	chmod 700 "$sock"
	owner=$(owner_name)
	# No password on the superuser: the socket is the only way in for it.
	as_owner "$BIN/initdb" -D "$data" -U "$owner" -E UTF8 --locale=C \
		--auth-local=trust --auth-host=scram-sha-256 -N >"$dir/initdb.log" 2>&1 || {
		cat "$dir/initdb.log" >&2
		echo "pg.sh: initdb failed" >&2
		exit 1
	}
	cat >"$data/pg_hba.conf" <<EOF
# TYPE  DATABASE  USER  ADDRESS       METHOD
local   all       $owner              trust
host    all       all   127.0.0.1/32  scram-sha-256
EOF
	# Test data is disposable: trade durability for speed.
	cat >>"$data/postgresql.conf" <<EOF

# --- cs_exporter test cluster ---
listen_addresses = '127.0.0.1'
unix_socket_directories = '$sock'
fsync = off
synchronous_commit = off
full_page_writes = off
wal_level = minimal
max_wal_senders = 0
max_wal_size = 4GB
checkpoint_timeout = 30min
shared_buffers = 256MB
maintenance_work_mem = 512MB
work_mem = 64MB
max_connections = 50
autovacuum = off
password_encryption = scram-sha-256
timezone = 'UTC'
log_timezone = 'UTC'
logging_collector = off
log_min_messages = warning
EOF
	if [ ! -s "$dir/reader.pass" ]; then
		(
			umask 077
			od -An -tx1 -N18 /dev/urandom | tr -d ' \n' >"$dir/reader.pass"
		)
	fi
	chmod 600 "$dir/reader.pass"
}

# The role is (re)created on every start so that a new reader.pass and an old
# cluster never disagree.
ensure_reader() {
	pass=$(cat "$dir/reader.pass")
	"$BIN/psql" -h "$sock" -p "$1" -U "$(owner_name)" -d postgres -qAtX -v ON_ERROR_STOP=1 \
		-v pass="$pass" >/dev/null <<'EOF'
SELECT format('CREATE ROLE cs_reader LOGIN PASSWORD %L', :'pass')
WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'cs_reader') \gexec
SELECT format('ALTER ROLE cs_reader LOGIN PASSWORD %L', :'pass') \gexec
EOF
}

start() {
	if pid=$(running_pid); then
		port=$(running_port)
		write_env "$port"
		echo "$port"
		return
	fi
	[ -f "$data/PG_VERSION" ] || init_cluster
	[ "$(id -u)" -ne 0 ] || chown -R postgres "$dir"
	mkdir -p "$sock"
	tries=0
	while :; do
		tries=$((tries + 1))
		port=$(pick_port)
		if as_owner "$BIN/pg_ctl" -D "$data" -l "$dir/server.log" -w -t 60 \
			-o "-p $port -k $sock" start >/dev/null 2>&1; then
			break
		fi
		if [ "$tries" -ge 5 ]; then
			tail -n 20 "$dir/server.log" >&2 || true
			echo "pg.sh: could not start the cluster in $dir" >&2
			exit 1
		fi
		sleep 0.2
	done
	ensure_reader "$port"
	write_env "$port"
	echo "$port"
}

stop() {
	pid=$(running_pid) || return 0
	if ! as_owner "$BIN/pg_ctl" -D "$data" -m fast -w -t 30 stop >/dev/null 2>&1; then
		kill -TERM "$pid" 2>/dev/null || true
		i=0
		while kill -0 "$pid" 2>/dev/null && [ $i -lt 50 ]; do
			sleep 0.2
			i=$((i + 1))
		done
		kill -KILL "$pid" 2>/dev/null || true
	fi
}

case "$cmd" in
start) start ;;
stop) stop ;;
status)
	running_pid >/dev/null || exit 1
	running_port
	;;
psql)
	running_pid >/dev/null || {
		echo "pg.sh: no cluster running in $dir" >&2
		exit 1
	}
	port=$(running_port)
	# Root reaches the socket anyway, and local trust only asks for the name.
	exec "$BIN/psql" -h "$sock" -p "$port" -U "$(owner_name)" -X "$@"
	;;
*) usage ;;
esac
