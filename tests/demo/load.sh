#!/bin/bash
# Loads the demo company into the private cluster in DIR:
#
#   tests/demo/load.sh DIR [--accounts N] [--seed S] [--anchor YYYY-MM-DD] [--awkward]
#
# Defaults: 10000 accounts, seed 1, anchored today (UTC): the history ends at
# 00:00 UTC of the anchor, so a load anchored today is alive at now. Tests
# that compare numbers pin --anchor; --awkward loads the test company (segment
# names with quotes, backslashes and non-ASCII, every invalid row kind often)
# instead of the clean one a person looks at (see tests/tools/gen_demo.c).
#
# (Re)creates the databases billing and crm, streams the generator's COPY text
# into every table (two at a time: one per core), builds the indexes the
# mapping queries need, grants SELECT to cs_reader, and prints row counts and
# the elapsed time. The cluster is started when it is not running.
#
# The generator is $GEN_DEMO when set, else $BUILD/gen_demo when it is newer
# than its source, else it is compiled into DIR (it needs only libc and
# lib/buf.c). On success the crm database's comment records what was
# loaded ("cs_exporter demo accounts=N seed=S anchor=D names=clean|awkward
# version=V"), so callers can skip a load that is already there: see `load.sh
# DIR --accounts N --seed S [--anchor D] --check`, which exits 0 when exactly
# that load is present (a load anchored yesterday is not).
set -eu

root=$(cd "$(dirname "$0")/../.." && pwd)
pg="$root/tests/scripts/pg.sh"

[ $# -ge 1 ] || {
	echo "usage: load.sh DIR [--accounts N] [--seed S] [--anchor YYYY-MM-DD] [--awkward] [--check]" >&2
	exit 2
}
dir=$1
shift
accounts=10000
seed=1
anchor=
names=clean
check=0
while [ $# -gt 0 ]; do
	case "$1" in
	--accounts)
		accounts=$2
		shift 2
		;;
	--seed)
		seed=$2
		shift 2
		;;
	--anchor)
		anchor=$2
		shift 2
		;;
	--awkward)
		names=awkward
		shift
		;;
	--check)
		check=1
		shift
		;;
	*)
		echo "load.sh: unknown argument \"$1\"" >&2
		exit 2
		;;
	esac
done
case "$accounts$seed" in *[!0-9]*)
	echo "load.sh: --accounts and --seed take non-negative integers" >&2
	exit 2
	;;
esac
[ -n "$anchor" ] || anchor=$(date -u +%Y-%m-%d)
if ! [[ "$anchor" =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}$ ]] || ! date -u -d "$anchor" >/dev/null 2>&1; then
	echo "load.sh: --anchor takes a date YYYY-MM-DD, not \"$anchor\"" >&2
	exit 2
fi
gen_flags=(--anchor "$anchor")
[ "$names" = clean ] || gen_flags+=(--awkward)

# What the data depends on besides the arguments.
version=$(cat "$root/tests/tools/gen_demo.c" "$root/tests/demo/billing.sql" \
	"$root/tests/demo/crm.sql" "$root/tests/demo/billing_indexes.sql" \
	"$root/tests/demo/crm_indexes.sql" | cksum | cut -d' ' -f1)
marker="cs_exporter demo accounts=$accounts seed=$seed anchor=$anchor names=$names version=$version"

# psql straight from the server's bin directory: Debian's /usr/bin/psql is a
# Perl wrapper that costs a quarter second per call.
psql_su() {
	PGOPTIONS="-c client_min_messages=warning" "$CS_PG_BIN/psql" -h "$PGSOCK" -p "$PGPORT" \
		-U "$CS_PG_SUPERUSER" -X -qAt -v ON_ERROR_STOP=1 "$@"
}

if [ "$check" = 1 ]; then
	"$pg" status "$dir" >/dev/null 2>&1 || exit 1
	. "$dir/env"
	have=$(psql_su -d postgres -c \
		"SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = 'crm'" \
		2>/dev/null || true)
	[ "$have" = "$marker" ]
	exit
fi

t0=$(date +%s.%N)
# Phase timings on stderr, for tuning large loads.
phase() {
	[ -z "${LOAD_VERBOSE:-}" ] || awk -v a="$t0" -v b="$(date +%s.%N)" -v m="$1" \
		'BEGIN { printf "load.sh: %6.1f s %s\n", b - a, m }' >&2
}
"$pg" start "$dir" >/dev/null
dir=$(cd "$dir" && pwd)
. "$dir/env"

gen=${GEN_DEMO:-}
if [ -z "$gen" ]; then
	b=${BUILD:-build}
	case "$b" in /*) ;; *) b=$root/$b ;; esac
	if [ -x "$b/gen_demo" ] && [ "$b/gen_demo" -nt "$root/tests/tools/gen_demo.c" ]; then
		gen=$b/gen_demo
	else
		gen=$dir/gen_demo
		if [ ! -x "$gen" ] || [ "$root/tests/tools/gen_demo.c" -nt "$gen" ]; then
			${CC:-cc} -std=c11 -I"$root" -D_GNU_SOURCE -O2 -o "$gen" \
				"$root/tests/tools/gen_demo.c" "$root/lib/buf.c"
		fi
	fi
fi

psql_su -d postgres <<'EOF'
DROP DATABASE IF EXISTS billing WITH (FORCE);
DROP DATABASE IF EXISTS crm WITH (FORCE);
CREATE DATABASE billing ENCODING 'UTF8' TEMPLATE template0;
CREATE DATABASE crm ENCODING 'UTF8' TEMPLATE template0;
EOF
phase "databases recreated"
psql_su -d billing <"$root/tests/demo/billing.sql"
psql_su -d crm <"$root/tests/demo/crm.sql"

# One job per table. TRUNCATE + COPY FREEZE in one transaction lets a
# wal_level=minimal cluster skip WAL and later vacuum work for the table.
# The events table, ten times larger than the rest together, is loaded in
# parts by concurrent sessions instead, which is what keeps both cores busy.
export PGCLIENTENCODING=UTF8
jobs=$dir/load.jobs
"$gen" --tables >"$jobs"
event_parts=1
[ "$accounts" -lt 20000 ] || event_parts=4
job_list() {
	for ((k = 0; k < event_parts; k++)); do
		echo "crm product_event $k/$event_parts"
	done
	grep -v ' product_event$' "$jobs" || true
}
fails=$dir/load.failed
rm -f "$fails"
# Each job leaves its COPY's row count in $counts/DB.TABLE.PART: counting
# afterwards would read every table once more.
counts=$dir/load.counts
rm -rf "$counts"
mkdir -p "$counts"
load_one() {
	local db=$1 tbl=$2 part=${3:-}
	local out="$counts/$db.$tbl.${part%%/*}"
	if [ -n "$part" ] && [ "$event_parts" -gt 1 ]; then
		"$gen" --seed "$seed" --accounts "$accounts" "${gen_flags[@]}" --table "$tbl" --part "$part" |
			psql_su -d "$db" -c "COPY $tbl FROM STDIN" -v QUIET=off >"$out"
	else
		"$gen" --seed "$seed" --accounts "$accounts" "${gen_flags[@]}" --table "$tbl" |
			psql_su -d "$db" -1 -c "TRUNCATE $tbl" -c "COPY $tbl FROM STDIN (FREEZE)" \
				-v QUIET=off >"$out"
	fi || echo "$db.$tbl" >>"$fails"
}
job_list | {
	running=0
	while read -r db tbl part; do
		{
			load_one "$db" "$tbl" "$part"
			phase "$db.$tbl $part"
		} &
		running=$((running + 1))
		if [ $running -ge 2 ]; then
			wait -n || true
			running=$((running - 1))
		fi
	done
	wait
}
if [ -s "$fails" ]; then
	echo "load.sh: loading failed for: $(tr '\n' ' ' <"$fails")" >&2
	exit 1
fi

phase "tables loaded"
psql_su -d billing <"$root/tests/demo/billing_indexes.sql" &
bpid=$!
psql_su -d crm <"$root/tests/demo/crm_indexes.sql" || {
	wait $bpid || true
	echo "load.sh: creating the crm indexes failed" >&2
	exit 1
}
wait $bpid || {
	echo "load.sh: creating the billing indexes failed" >&2
	exit 1
}

phase "indexes built"
for db in billing crm; do
	psql_su -d "$db" <<'EOF'
GRANT USAGE ON SCHEMA public TO cs_reader;
GRANT SELECT ON ALL TABLES IN SCHEMA public TO cs_reader;
EOF
	psql_su -d postgres -c "GRANT CONNECT ON DATABASE $db TO cs_reader"
done
echo "COMMENT ON DATABASE crm IS :'m';" | psql_su -d postgres -v m="$marker"

t1=$(date +%s.%N)
echo "loaded $accounts accounts (seed $seed, anchored $anchor, $names names) into $dir"
while read -r db tbl; do
	n=$(cat "$counts/$db.$tbl."* | awk '$1 == "COPY" { n += $2 } END { print n + 0 }')
	printf '  %-8s %-22s %12s\n' "$db" "$tbl" "$n"
done <"$jobs"
awk -v a="$t0" -v b="$t1" 'BEGIN { printf "elapsed %.1f s\n", b - a }'
