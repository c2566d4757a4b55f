#!/bin/bash
# `make demo`: the exporter on the generated demo company, in a private
# PostgreSQL cluster under .demo/ in the checkout.
#
#   BUILD=build tests/scripts/demo.sh [extra cs_exporter flags]
#
# Environment: DEMO_ACCOUNTS (default 10000), DEMO_SEED (default 1),
# DEMO_ANCHOR (YYYY-MM-DD, default today in UTC: the company's history runs up
# to 00:00 UTC of that day, so the live exporter sees a company in business),
# DEMO_PORT (default 9818, or a free port when 9818 is taken), DEMO_DIR (default
# .demo in the checkout: the cluster, the rendered config and dashboards).
# The data is loaded once per (accounts, seed, anchor, generator version);
# later runs the same day reuse it, the next day's run loads it anew. The
# config is rendered from the template config/demo.conf into
# .demo/cs_exporter.conf, and the dashboards and rules for that config into
# .demo/dashboards/ (dashboards/generate.py --config). Ctrl-C stops the
# exporter, then the cluster.
# Extra flags go to cs_exporter, e.g. `--once --as-of 2026-11-01T00:00:00Z`
# with DEMO_ANCHOR=2026-11-01 prints one reproducible exposition and exits.
set -eu

root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
BUILD=${BUILD:-build}
case "$BUILD" in /*) ;; *) BUILD=$root/$BUILD ;; esac
export BUILD
bin=$BUILD/cs_exporter
accounts=${DEMO_ACCOUNTS:-10000}
seed=${DEMO_SEED:-1}
anchor=${DEMO_ANCHOR:-$(date -u +%Y-%m-%d)}
demo=${DEMO_DIR:-$root/.demo}
pgdir=$demo/pg

if [ ! -x "$bin" ]; then
	echo "demo.sh: $bin not found; run \`make demo\` or \`make BUILD=$BUILD all\` first" >&2
	exit 1
fi

port_free() {
	! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}
port=${DEMO_PORT:-9818}
if [ -z "${DEMO_PORT:-}" ] && ! port_free "$port"; then
	port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
fi

mkdir -p "$demo"
trap '"$root/tests/scripts/pg.sh" stop "$pgdir"' EXIT
# A handler, not "ignore": the exporter must still get Ctrl-C, and this shell
# must live on to stop the cluster.
trap 'true' INT TERM

pgport=$("$root/tests/scripts/pg.sh" start "$pgdir")
echo "demo: PostgreSQL on 127.0.0.1:$pgport (data in $pgdir)"
load=("$root/tests/demo/load.sh" "$pgdir" --accounts "$accounts" --seed "$seed" --anchor "$anchor")
if "${load[@]}" --check; then
	echo "demo: reusing the loaded data ($accounts accounts, seed $seed, anchored $anchor)"
else
	echo "demo: loading $accounts accounts (seed $seed, anchored $anchor) ..."
	"${load[@]}"
fi

# The template's opening comment explains the @...@ placeholders; the rendered
# file has none left, so it gets a header of its own instead.
{
	printf '# Rendered by `make demo` from config/demo.conf for the cluster in\n'
	printf '# %s (port %s). Edit the template, not this file.\n' "$pgdir" "$pgport"
	awk 'body || !/^#/ { body = 1; print }' "$root/config/demo.conf" |
		sed -e "s|@PGPORT@|$pgport|g" -e "s|@PGPASSFILE@|$pgdir/reader.pass|g"
} >"$demo/cs_exporter.conf"

# The dashboards and rules rendered for this config (its cohort dimensions,
# windows, collectors): the committed ones are config/example.conf's.
rm -rf "$demo/dashboards/grafana" "$demo/dashboards/rules"
python3 "$root/dashboards/generate.py" --config "$demo/cs_exporter.conf" --out "$demo/dashboards"

cat <<MSG

  cs_exporter demo
  metrics:  http://127.0.0.1:$port/metrics
  config:   $demo/cs_exporter.conf
  dashboards: $demo/dashboards/ (grafana/*.json, rules/*.yaml: rendered for this config)
  psql:     tests/scripts/pg.sh psql .demo/pg -d billing   (or -d crm)
  anchor:   $anchor (history up to 00:00 UTC that day; DEMO_ANCHOR=YYYY-MM-DD moves it)
  Ctrl-C stops the exporter and the cluster.

MSG
rc=0
"$bin" --config.file "$demo/cs_exporter.conf" --web.listen-address "127.0.0.1:$port" "$@" || rc=$?
# Stopped by Ctrl-C (or TERM) is how a demo ends.
case $rc in 130 | 143) rc=0 ;; esac
exit $rc
