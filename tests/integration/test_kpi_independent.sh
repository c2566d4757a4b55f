#!/bin/bash
# Every KPI the exporter serves for the demo company equals an independent
# recomputation from the raw demo schema (tests/verify/kpi_check.py, written
# from the definitions with its own SQL, pending churn, churn reasons,
# drivers and payments included), at two instants relative to the
# load's fixed anchor: the anchor itself, and 78 days earlier at 12:34:56, so
# that window edges fall between midnights. The awkward company is loaded:
# its hostile names and invalid rows are part of what is checked.
. "$(dirname "$0")/../scripts/lib.sh"
set -eu

# The check itself first: its section 6 code against the worked examples of docs/design.md.
python3 "$CS_ROOT/tests/verify/test_kpi_check_section6.py" >"$T/selftest.log" 2>&1 ||
	fail "kpi_check's section 6 code fails the worked examples of docs/design.md: $(tail -20 "$T/selftest.log")"
python3 "$CS_ROOT/tests/verify/test_kpi_check_section7.py" >"$T/selftest7.log" 2>&1 ||
	fail "kpi_check's pending churn, reason, driver or payment code fails the vectors: $(tail -20 "$T/selftest7.log")"

accounts=${KPI_ACCOUNTS:-3000}
seed=${KPI_SEED:-11}
anchor=${KPI_ANCHOR:-2026-11-01}

pg_up "$T/pg"
"$CS_ROOT/tests/demo/load.sh" "$T/pg" --accounts "$accounts" --seed "$seed" \
	--anchor "$anchor" --awkward >"$T/load.log" 2>&1 ||
	fail "demo data load failed: $(tail -5 "$T/load.log")"
sed -e "s|@PGPORT@|$PGPORT|g" -e "s|@PGPASSFILE@|$T/pg/reader.pass|g" \
	"$CS_ROOT/config/demo.conf" >"$T/cs.conf"

for as_of in "${anchor}T00:00:00Z" "$(date -u -d "$anchor - 78 days" +%Y-%m-%d)T12:34:56Z"; do
	out=$T/once-$as_of.prom
	"$BUILD/cs_exporter" --config.file "$T/cs.conf" --once --as-of "$as_of" \
		>"$out" 2>"$T/once-$as_of.log" ||
		fail "cs_exporter --once --as-of $as_of failed: $(tail -5 "$T/once-$as_of.log")"
	python3 "$CS_ROOT/tests/verify/kpi_check.py" --pg "$T/pg" --as-of "$as_of" \
		--exposition "$out" >"$T/check-$as_of.log" 2>&1 || {
		cat "$T/check-$as_of.log" >&2
		fail "KPIs at $as_of differ from the independent recomputation"
	}
	tail -1 "$T/check-$as_of.log"
done

# The check itself can fail: one perturbed amount, one dropped ratio and one
# series the docs do not define must be three problems.
python3 - "$out" "$T/mutated.prom" <<'PY'
import sys
lines = open(sys.argv[1], encoding="utf-8").read().splitlines()
mrr = next(i for i, l in enumerate(lines) if l.startswith("cs_mrr{"))
name, value = lines[mrr].rsplit(" ", 1)
lines[mrr] = f"{name} {float(value) * (1 + 1e-6) + 1e-3!r}"
nps = next(i for i, l in enumerate(lines) if l.startswith("cs_nps_score{"))
extra = lines[nps].replace("{", '{extra="1",', 1)
del lines[nps]
lines.append(extra)
open(sys.argv[2], "w", encoding="utf-8").write("\n".join(lines) + "\n")
PY
if python3 "$CS_ROOT/tests/verify/kpi_check.py" --pg "$T/pg" --as-of "$as_of" \
	--exposition "$T/mutated.prom" >"$T/check-mutated.log" 2>&1; then
	fail "kpi_check passed a mutated exposition"
fi
grep -q ' 3 problems$' "$T/check-mutated.log" ||
	fail "kpi_check did not report exactly 3 problems: $(tail -5 "$T/check-mutated.log")"
echo ok
