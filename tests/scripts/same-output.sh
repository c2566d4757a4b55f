#!/bin/bash
# Compares what two builds of cs_exporter write for the same data, byte for
# byte: `--once` at two instants (one at midnight, one between midnights)
# with the demo config and with the widest documented one (every kind, cohorts
# over two dimensions), and a 20-day backfill. A structural change must leave
# them all equal; run it with the binary of the commit before the change:
#
#   git worktree add /tmp/before HEAD~ && make -C /tmp/before all
#   tests/scripts/same-output.sh /tmp/before/build/cs_exporter build/cs_exporter
#
# Prints one line per output compared and exits 1 at the first difference
# (its diff is kept under tests/out/).
. "$(dirname "$0")/lib.sh"
set -eu

old=${1:?usage: same-output.sh OLD_BINARY NEW_BINARY}
new=${2:?usage: same-output.sh OLD_BINARY NEW_BINARY}
anchor=2026-11-01

pg_up "$T/pg"
"$CS_ROOT/tests/demo/load.sh" "$T/pg" --accounts 800 --seed 7 --anchor "$anchor" --awkward \
	>"$T/load.log" 2>&1 || fail "demo data load failed: $(tail -5 "$T/load.log")"
render() { # TEMPLATE OUT
	sed -e "s|@PGPORT@|$PGPORT|g" -e "s|@PGPASSFILE@|$T/pg/reader.pass|g" "$1" >"$2"
}
render "$CS_ROOT/config/demo.conf" "$T/demo.conf"
render "$CS_ROOT/config/demo.conf" "$T/wide.conf"
sed -i 's|^cohorts = .*|cohorts = { months = 6; dimensions = ["plan", "region"]; };|' "$T/wide.conf"
grep -q 'months = 6' "$T/wide.conf" || fail "demo.conf has no cohorts line to widen"

same() { # NAME ARGS...: both binaries, same arguments, same bytes on stdout or in --output
	name=$1
	shift
	for side in old new; do
		bin=$old
		[ $side = new ] && bin=$new
		args=()
		for a in "$@"; do args+=("${a//@OUT@/$T/$name.$side}"); done
		"$bin" "${args[@]}" >"$T/$name.$side.stdout" 2>"$T/$name.$side.err" ||
			fail "$side $name exited $?: $(tail -3 "$T/$name.$side.err")"
	done
	for f in "$T/$name.old"*; do
		case $f in *.err) continue ;; esac # logs carry timestamps
		g=${f/.old/.new}
		diff -u "$f" "$g" >"$T/$name.diff" || {
			head -20 "$T/$name.diff" >&2
			fail "$name: $(basename "$f") and $(basename "$g") differ ($T/$name.diff)"
		}
	done
	echo "same: $name ($(wc -c <"$T/$name.old.stdout") bytes on stdout)"
}

for conf in demo wide; do
	same "$conf-anchor" --config.file "$T/$conf.conf" --once --as-of "${anchor}T00:00:00Z"
	same "$conf-between" --config.file "$T/$conf.conf" --once --as-of 2026-08-14T12:34:56Z
	same "$conf-openmetrics" --config.file "$T/$conf.conf" --once --as-of 2026-10-03T06:00:00Z \
		--format openmetrics
done
same backfill backfill --config.file "$T/demo.conf" --from 2026-10-10 --to 2026-10-30T00:00:00Z \
	--step 1d --output @OUT@.om
echo "all outputs equal"
