#!/bin/bash
# A database password given by file, environment variable or ~/.pgpass
# works, and never appears in logs, metrics, the landing page or error
# messages — neither the right one nor a wrong one.
. "$(dirname "$0")/../scripts/lib.sh"
. "$CS_ROOT/tests/scripts/tiny.sh"
set -eu

tiny_db
good=$(cat "$T/pg/reader.pass")
wrong="Wr0ng-Pa55-$RANDOM$RANDOM"
outputs=()

check_clean() { # files...
	for f in "$@"; do
		if grep -qF -- "$good" "$f" || grep -qF -- "$wrong" "$f"; then
			fail "a password appears in $f"
		fi
	done
}

run_daemon() { # name config [env...]
	local name=$1 conf=$2
	shift 2
	local port
	port=$(free_port)
	start_bg "$name" env "$@" "$BUILD/cs_exporter" --config.file "$conf" --web.listen-address "127.0.0.1:$port" --log.level debug
	wait_http "http://127.0.0.1:$port/-/healthy" 10 || fail "$name did not start"
	sleep 1.5
	curl -fsS "http://127.0.0.1:$port/metrics" >"$T/$name.metrics"
	curl -fsS "http://127.0.0.1:$port/" >"$T/$name.html"
	curl -fsS -H 'Accept: application/openmetrics-text; version=1.0.0' "http://127.0.0.1:$port/metrics" >"$T/$name.om"
	outputs+=("$T/$name.metrics" "$T/$name.html" "$T/$name.om" "$T/$name.log")
}

# 1. password file, right and wrong
tiny_conf "$T/file.conf" 1s
run_daemon file "$T/file.conf"
grep -q '^cs_collector_up{collector="revenue"} 1$' "$T/file.metrics" || fail "password file did not work"
echo "$wrong" >"$T/wrong.pass"
sed "s|$T/pg/reader.pass|$T/wrong.pass|" "$T/file.conf" >"$T/wrongfile.conf"
run_daemon wrongfile "$T/wrongfile.conf"
grep -q '^cs_collector_up{collector="revenue"} 0$' "$T/wrongfile.metrics" || fail "wrong password not failing"
grep -q 'password authentication failed' "$T/wrongfile.log" "$T/wrongfile.html" || fail "auth failure not reported"
"$BUILD/cs_exporter" --config.file "$T/wrongfile.conf" --once >"$T/once.out" 2>"$T/once.err" || true
outputs+=("$T/once.out" "$T/once.err")

# 2. environment variable, right and wrong
sed "s|password_file = \"$T/pg/reader.pass\";|password_env = \"CS_TEST_PW\";|" "$T/file.conf" >"$T/env.conf"
grep -q password_env "$T/env.conf" || fail "test setup: env config not written"
run_daemon env "$T/env.conf" CS_TEST_PW="$good"
grep -q '^cs_collector_up{collector="revenue"} 1$' "$T/env.metrics" || fail "password_env did not work"
run_daemon wrongenv "$T/env.conf" CS_TEST_PW="$wrong"
grep -q '^cs_collector_up{collector="revenue"} 0$' "$T/wrongenv.metrics" || fail "wrong env password not failing"

# 3. ~/.pgpass (libpq's own lookup)
mkdir -p "$T/home"
printf '127.0.0.1:%s:*:cs_reader:%s\n' "$PGPORT" "$good" >"$T/home/.pgpass"
chmod 600 "$T/home/.pgpass"
sed "s|password_file = \"$T/pg/reader.pass\";||" "$T/file.conf" >"$T/pgpass.conf"
run_daemon pgpass "$T/pgpass.conf" HOME="$T/home"
grep -q '^cs_collector_up{collector="revenue"} 1$' "$T/pgpass.metrics" || fail "~/.pgpass did not work"

# 4. an unreadable password file is an error that names the file, not its content
sed "s|$T/pg/reader.pass|$T/missing.pass|" "$T/file.conf" >"$T/missing.conf"
"$BUILD/cs_exporter" --config.file "$T/missing.conf" --once >"$T/missing.out" 2>"$T/missing.err" || true
grep -q 'missing.pass' "$T/missing.err" || fail "unreadable password file not named: $(cat "$T/missing.err")"
outputs+=("$T/missing.out" "$T/missing.err")

check_clean "${outputs[@]}"
echo "ok: ${#outputs[@]} outputs free of passwords"
