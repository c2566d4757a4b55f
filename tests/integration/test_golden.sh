#!/bin/bash
# The complete text exposition of a small, fixed demo load (the awkward test
# company: quoted, backslashed and non-ASCII segment names, every invalid row
# kind) anchored on a fixed day, at that instant, is byte for byte
# tests/golden/demo.prom: any change to a name, label, value,
# ordering, HELP text or number format shows up as a diff to review.
#
# With GOLDEN_UPDATE=1 (see tests/golden/update.sh) it writes the golden file
# instead of comparing.
. "$(dirname "$0")/../scripts/lib.sh"
set -eu

golden=$CS_ROOT/tests/golden/demo.prom
anchor=2026-11-01
as_of=${anchor}T00:00:00Z

pg_up "$T/pg"
"$CS_ROOT/tests/demo/load.sh" "$T/pg" --accounts 300 --seed 5 --anchor "$anchor" --awkward \
	>"$T/load.log" 2>&1 ||
	fail "demo data load failed: $(tail -5 "$T/load.log")"
# The password file path is the only part of the rendered config that varies
# between runs, and it never reaches the exposition.
sed -e "s|@PGPORT@|$PGPORT|g" -e "s|@PGPASSFILE@|$T/pg/reader.pass|g" \
	"$CS_ROOT/config/demo.conf" >"$T/cs.conf"
# Retention cohorts over every dimension of the awkward load (29 segments)
# would take the file past 1 MiB: the golden run draws its cohort tables per
# plan (cohorts.dimensions, docs/design.md, cohorts, renewals, payment risk), which also puts summing over a
# dimension in the golden file. A cohorts group of demo.conf wins.
grep -q '^cohorts[[:space:]]*=' "$T/cs.conf" ||
	printf '\ncohorts = { dimensions = ["plan"]; };\n' >>"$T/cs.conf"

"$BUILD/cs_exporter" --config.file "$T/cs.conf" --once --as-of "$as_of" \
	>"$T/demo.prom" 2>"$T/once.log" ||
	fail "cs_exporter --once failed: $(tail -5 "$T/once.log")"

size=$(wc -c <"$T/demo.prom")
[ "$size" -lt 1048576 ] || fail "exposition is $size bytes, the golden file must stay under 1 MiB"

if [ "${GOLDEN_UPDATE:-}" = 1 ]; then
	cp "$T/demo.prom" "$golden"
	echo "wrote $golden ($size bytes)"
	exit 0
fi

promtool_metrics "$T/demo.prom" ||
	fail "promtool check metrics rejects the demo exposition: $(head -5 "$T/demo.prom.promtool")"
[ -f "$golden" ] || fail "no $golden: run tests/golden/update.sh"
if ! diff -u "$golden" "$T/demo.prom" >"$T/golden.diff"; then
	head -40 "$T/golden.diff" >&2
	fail "exposition differs from tests/golden/demo.prom ($(grep -c '^[-+][^-+]' "$T/golden.diff") lines; full diff in $T/golden.diff)"
fi
echo ok
