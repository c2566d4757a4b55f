#!/bin/bash
# The benchmark harness still runs: `BENCH_QUICK=1 TIER=S tests/bench/run.sh`
# exits 0 and prints the six parts of the tier table with figures in them.
# The figures themselves are not asserted (they depend on the machine); see
# docs/benchmarks.md for measured ones.
. "$(dirname "$0")/../scripts/lib.sh"
set -eu

# wrk, nginx and prometheus-sql-exporter come with the "bench" package set;
# the installer does nothing when they are there.
"$CS_SCRIPTS/install-deps.sh" bench >"$T/deps.log" 2>&1 || fail "could not install the bench packages: $(tail -3 "$T/deps.log")"

CS_KEEP_OUT=0 BENCH_QUICK=1 TIER=S BUILD=$BUILD bash "$CS_ROOT/tests/bench/run.sh" >"$T/bench.out" 2>"$T/bench.err" ||
	fail "run.sh failed: $(tail -5 "$T/bench.err")"
cat "$T/bench.out"

for h in '## Tier S: 1000 accounts' '### 1. Collection' '### 2. Scrapes' '### 3. Interference' '### 4. Footprint' \
	'### 5. Backfill' '### 6. Incremental'; do
	grep -qF "$h" "$T/bench.out" || fail "no \"$h\" in the output"
done
# Every collector of the demo config got a row, and every cycle succeeded.
for c in revenue trials surveys adoption support outcomes health \
	'all: one evaluation vs the floor, sources in parallel'; do
	grep -Eq "^\| $c \| [0-9.]+ \| [0-9.]+ \| [0-9.]+ \| [0-9.]+ \| yes \|$" "$T/bench.out" ||
		fail "no complete collection row for $c"
done
# One evaluation against the floor read one after the other, and against the
# per-collector queries summed.
for c in 'sources one after the other' 'the per-collector queries summed'; do
	grep -Eq "^\| all: one evaluation vs (the floor, )?$c \| [0-9.]+ \| [0-9.]+ \| [0-9.]+ \|" \
		"$T/bench.out" || fail "no row for one evaluation vs $c"
done
# The exporter answered every scrape, with a request rate and latencies;
# the servers it is compared with have their rows.
for s in 'cs_exporter \| plain' 'cs_exporter \| gzip'; do
	grep -Eq "^\| $s \| [0-9]+ \| [0-9.]+ \| [0-9.]+ \| 0 \|" "$T/bench.out" || fail "no scrape figures for $s"
done
for s in 'nginx static \| plain' 'nginx gzip_static \| gzip' 'prometheus-sql-exporter \| plain' \
	'prometheus-sql-exporter \| gzip'; do
	grep -Eq "^\| $s \| " "$T/bench.out" || fail "no scrape row for $s"
done
grep -Eq '^cs_exporter exposition: [0-9]+ series' "$T/bench.out" || fail "no series count"
grep -Eq '^\| health cycling every 1 s .*\| [0-9]+ \| [0-9.]+ \| [0-9.]+ \| 0 \| [0-9.]+ \|$' "$T/bench.out" ||
	fail "no interference figures"
grep -Eq '^\| start-up to first served scrape \(ms, median of 5\) \| [0-9.]+ \|' "$T/bench.out" ||
	fail "no start-up time"
grep -Eq '^\| RSS idle, .* \| [0-9.]+ \|' "$T/bench.out" || fail "no idle RSS"
for r in 'default: accounts once, activity since the step before' 'every dataset whole at every step \(--full-reads\)'; do
	grep -Eq "^\| $r \| 3 \| [0-9.]+ \| [0-9.]+ \| [0-9]+ \| [0-9.]+ \| [0-9.]+ \| yes \|$" "$T/bench.out" ||
		fail "no backfill figures for $r"
done
# The daemon's first evaluation read activity whole, the next ones from the
# previous instant on.
grep -Eq '^\| first \| full \| [0-9.]+ \| 1.000 \| [0-9.]+ \| [0-9]+ \| 100.00 % \|$' "$T/bench.out" ||
	fail "no full evaluation in part 6"
grep -Eq '^\| tick 1 \| incremental \| [0-9.]+ \| [0-9.]+ \| [0-9.]+ \| [0-9]+ \| [0-9.]+ % \|$' "$T/bench.out" ||
	fail "no steady tick in part 6"
echo ok
