#!/bin/bash
# Backfill that loses nothing (docs/cs_exporter.1, BACKFILL):
#   - PostgreSQL stopped for a few seconds in the middle of a run: the step
#     that fails waits and is retried, the run exits 0, every timestamp is in
#     the file, and the file is byte for byte that of a run without outage;
#   - databases that stay away longer than --retry.max-wait: exit 3 ("no
#     usable output"), nothing at the target path;
#   - a file that cannot be written (RLIMIT_FSIZE stands for a full disk):
#     exit 3, the file already at the target path left as it was, no
#     temporary file left behind;
#   - a run stopped by SIGTERM leaves neither the target nor a temporary file.
# The "some KPIs missing" exit 1 (a collector's own query fails while its
# database answers) is in test_backfill.sh.
. "$(dirname "$0")/../scripts/lib.sh"
set -eu

bin=$BUILD/cs_exporter
[ -x "$bin" ] || fail "no binary $bin (make BUILD=... all)"

pg_up "$T/pg"
"$CS_ROOT/tests/demo/load.sh" "$T/pg" --accounts 300 --seed 5 --anchor 2026-11-01 \
	>"$T/load.log" 2>&1 || fail "demo data load failed: $(tail -5 "$T/load.log")"
sed -e "s|@PGPORT@|$PGPORT|g" -e "s|@PGPASSFILE@|$T/pg/reader.pass|g" \
	"$CS_ROOT/config/demo.conf" >"$T/cs.conf"
# The same rows, but every step takes at least 0.1 s more: the outage below
# lands in the middle of the run whatever the machine's speed.
sed -e 's|" WHERE responded_at__c >= \$2|" WHERE (SELECT true FROM pg_sleep(0.1)) AND responded_at__c >= $2|' \
	"$T/cs.conf" >"$T/slow.conf"
grep -q pg_sleep "$T/slow.conf" || fail "could not slow the surveys query down"

PGBIN=$(dirname "$(command -v pg_ctl 2>/dev/null || ls -d /usr/lib/postgresql/*/bin/pg_ctl | tail -1)")
pgctl() { runuser -u postgres -- "$PGBIN/pg_ctl" -D "$T/pg/data" "$@" >>"$T/pgctl.log" 2>&1; }

from=2026-09-02
to=2026-10-31T00:00:00Z # 60 daily steps
nsteps=60

# ---- reference: no outage ---------------------------------------------------
"$bin" backfill --config.file "$T/cs.conf" --from $from --to $to --output "$T/clean.om" \
	2>"$T/clean.err" || fail "backfill without outage exited $?: $(tail -3 "$T/clean.err")"

# ---- 1. an outage of a few seconds in the middle ----------------------------
"$bin" backfill --config.file "$T/slow.conf" --from $from --to $to --retry.max-wait 2m \
	--output "$T/outage.om" 2>"$T/outage.err" &
pid=$!
sleep 1.5
kill -0 $pid 2>/dev/null || fail "the backfill ended before the outage: $(tail -3 "$T/outage.err")"
[ ! -e "$T/outage.om" ] || fail "the output is at its path before the run ended"
pgctl stop -m immediate -w || fail "could not stop PostgreSQL: $(tail -3 "$T/pgctl.log")"
sleep 4
pgctl start -w -l "$T/pg/server.log" -o "-p $PGPORT -k $T/pg/sock" ||
	fail "could not start PostgreSQL again: $(tail -3 "$T/pgctl.log")"
set +e
wait $pid
rc=$?
set -e
[ $rc -eq 0 ] || fail "backfill across an outage exited $rc: $(grep -v 'rows rejected' "$T/outage.err" | tail -5)"
grep -q 'msg="backfill step failed, retrying"' "$T/outage.err" ||
	fail "no step failed: the outage did not happen during the run"
grep -q 'databases="do not answer"' "$T/outage.err" || fail "the retries did not see the databases away"
grep -q 'msg="backfill step recovered"' "$T/outage.err" || fail "no step recovered"
python3 - "$T/outage.om" "$nsteps" <<'PY' || fail "timestamps missing after the outage"
import sys
path, n = sys.argv[1], int(sys.argv[2])
step0 = 1788307200  # 2026-09-02
want = {step0 + 86400 * i for i in range(n)}
seen = set()
up = {}
for ln in open(path, encoding="utf-8"):
    if ln.startswith("#"):
        continue
    parts = ln.split()
    seen.add(int(parts[-1]))
    if ln.startswith("cs_collector_up{"):
        up.setdefault(parts[0], []).append(parts[-2])
missing = sorted(want - seen)
assert not missing, "%d of %d timestamps missing, first %s" % (len(missing), n, missing[:3])
assert up, "no cs_collector_up"
for name, vals in up.items():
    assert len(vals) == n and set(vals) == {"1"}, "%s: %d points, values %s" % (name, len(vals), set(vals))
print("all %d timestamps written, every collector up at each" % n)
PY
cmp -s "$T/outage.om" "$T/clean.om" ||
	fail "the file written across the outage differs from the one without: $(diff "$T/clean.om" "$T/outage.om" | head -5)"

# ---- 2. databases away for longer than --retry.max-wait ---------------------
dead=$(free_port)
sed -e "s|@PGPORT@|$dead|g" -e "s|@PGPASSFILE@|$T/pg/reader.pass|g" \
	"$CS_ROOT/config/demo.conf" >"$T/dead.conf"
mkdir "$T/dead"
start=$(date +%s)
set +e
"$bin" backfill --config.file "$T/dead.conf" --from 2026-10-01 --to 2026-10-03 \
	--retry.max-wait 2s --output "$T/dead/out.om" 2>"$T/dead.err"
rc=$?
set -e
took=$(($(date +%s) - start))
[ $rc -eq 3 ] || fail "databases away: exit $rc, expected 3: $(tail -3 "$T/dead.err")"
[ $took -ge 2 ] || fail "databases away: gave up after ${took}s, before --retry.max-wait 2s"
[ $took -lt 30 ] || fail "databases away: took ${took}s for --retry.max-wait 2s"
grep -q 'retry.max-wait' "$T/dead.err" || fail "no mention of --retry.max-wait: $(tail -3 "$T/dead.err")"
[ -z "$(ls -A "$T/dead")" ] || fail "files left after a run with no usable output: $(ls -A "$T/dead")"

# ---- 3. the file cannot be written: a full disk -----------------------------
mkdir "$T/full"
echo previous >"$T/full/out.om"
set +e
(
	ulimit -f 64 # 64 KB: the file is several MB
	exec "$bin" backfill --config.file "$T/cs.conf" --from 2026-10-01 --to 2026-10-05 \
		--output "$T/full/out.om"
) 2>"$T/full.err"
rc=$?
set -e
[ $rc -eq 3 ] || fail "full disk: exit $rc, expected 3: $(tail -3 "$T/full.err")"
grep -q 'could not write' "$T/full.err" || fail "full disk: no error named: $(tail -3 "$T/full.err")"
[ "$(cat "$T/full/out.om")" = previous ] || fail "full disk: the file at the target path was changed"
[ "$(ls -A "$T/full")" = out.om ] || fail "full disk: files left behind: $(ls -A "$T/full")"

# ---- 4. stopped by a signal -------------------------------------------------
mkdir "$T/term"
"$bin" backfill --config.file "$T/slow.conf" --from $from --to $to \
	--output "$T/term/out.om" 2>"$T/term.err" &
pid=$!
sleep 1.5
kill -0 $pid 2>/dev/null || fail "the backfill ended before the signal"
[ -n "$(ls -A "$T/term")" ] || fail "no temporary file while the run goes on"
kill -TERM $pid
set +e
wait $pid
rc=$?
set -e
[ $rc -eq 143 ] || fail "SIGTERM: exit $rc, expected 143"
[ -z "$(ls -A "$T/term")" ] || fail "SIGTERM: files left behind: $(ls -A "$T/term")"
echo ok
