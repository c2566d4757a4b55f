#!/bin/bash
# The daemon's incremental activity reads give what a full evaluation gives
# (docs/configuration.md, "Incremental reads"). A demo of 300 accounts grows
# while the daemon evaluates every 2 s (lookback 1m, full_every 30s); after
# each change the test waits for a tick that started after it, scrapes it and
# compares the exposition with --once --as-of at that tick's instant t
# (cs_collector_evaluation_timestamp_seconds): identical except the
# self-metrics. Changes: new events of known users, a new user, a new ticket
# and its closing, a new subscription, an event landing late but inside the
# lookback. Then an event landing later than the lookback: the incremental
# ticks miss it (their exposition differs from --once), the next full re-read
# counts it in cs_incremental_drift_rows_total (exactly 1) and corrects it.
# Last, a tick in which a read fails: the next one reads activity whole.
# PostgreSQL's statement log shows what each tick sent: full reads bind since
# to t minus the longest window, the others to the previous t less lookback.
#
# The clock: the demo is anchored at a fixed date and the daemon runs under
# libfaketime with a fixed offset from the real clock, so its instants fall on
# the anchor day whatever the date the test runs; ticks follow the real
# (monotonic) clock.
. "$(dirname "$0")/../scripts/lib.sh"
set -eu

ANCHOR=2026-11-01
fakelib=$(ls /usr/lib/*/faketime/libfaketimeMT.so.1 2>/dev/null | head -1 || true)
[ -n "$fakelib" ] || fail "libfaketime missing (Debian package faketime, in install-deps.sh)"

pg_up "$T/pg"
"$CS_ROOT/tests/demo/load.sh" "$T/pg" --accounts 300 --seed 11 --anchor "$ANCHOR" \
	>"$T/load.log" 2>&1 || fail "demo data load failed: $(tail -5 "$T/load.log")"
pg_psql "$T/pg" -q -c "ALTER ROLE cs_reader SET log_statement = 'all'" >/dev/null

# The daemon's config: every collector every 2 s, activity incremental with a
# short lookback and full re-reads every 30 s. --once reads a copy whose
# activity query ends in a comment, so that the statement log tells the two
# apart.
sed -e "s|@PGPORT@|$PGPORT|g" -e "s|@PGPASSFILE@|$T/pg/reader.pass|g" \
	-e 's|interval = "30s"|interval = "2s"|' "$CS_ROOT/config/demo.conf" >"$T/cs.conf"
python3 - "$T/cs.conf" "$T/once.conf" <<'PY'
import sys
text = open(sys.argv[1]).read()
head, tail = text.split("  activity = {\n", 1)
assert 'params = ["as_of", "since"];' in tail.split("};", 1)[0]
daemon = head + "  activity = {\n" + \
    '    incremental = { lookback = "1m"; full_every = "30s"; };\n' + tail
open(sys.argv[1], "w").write(daemon)
body, rest = tail.split("};", 1)
assert body.count('" GROUP BY 1, 2, 3"') == 1
once = head + "  activity = {\n" + body.replace('" GROUP BY 1, 2, 3"', '" GROUP BY 1, 2, 3 -- once"') + "};" + rest
open(sys.argv[2], "w").write(once)
PY
"$BUILD/cs_exporter" --config.file "$T/cs.conf" --config.check >/dev/null ||
	fail "test config rejected"

# Faked clock = real clock + off: 09:00 UTC on the anchor day at start.
off=$(($(date -u -d "$ANCHOR 09:00:00" +%s) - $(date -u +%s)))
case $off in -*) fk=$off ;; *) fk=+$off ;; esac
port=$(free_port)
# FAKETIME_FORCE_MONOTONIC_FIX=0: libfaketime 0.9.10 otherwise rewrites the
# deadline of a wait on a CLOCK_MONOTONIC condition variable (the scheduler's)
# into the past, and the daemon spins a whole core between evaluations.
start_bg exporter env LD_PRELOAD="$fakelib" FAKETIME="$fk" FAKETIME_DONT_FAKE_MONOTONIC=1 FAKETIME_FORCE_MONOTONIC_FIX=0 \
	"$BUILD/cs_exporter" --config.file "$T/cs.conf" --web.listen-address "127.0.0.1:$port"
wait_http "http://127.0.0.1:$port/-/healthy" 30 || fail "exporter not up: $(tail -5 "$T/exporter.log")"

. "$T/pg/env"
python3 - "$port" "$off" "$BUILD/cs_exporter" "$T" "$CS_PG_BIN/psql" "$PGSOCK" "$PGPORT" \
	"$CS_PG_SUPERUSER" "$T/pg/server.log" <<'PY' || fail "incremental evaluation differs from full evaluation (see $T)"
import datetime, difflib, re, subprocess, sys, time, urllib.request

port, off, exe, tdir, psql, sock, pgport, su, pglog = sys.argv[1:]
off = int(off)
LOOKBACK, FULL_EVERY = 60, 30
SELF = re.compile(r"^(# (HELP|TYPE) )?(cs_collector_|cs_exporter_|process_|cs_config_|"
                  r"cs_incremental_drift_rows_total|cs_rows_rejected_total|"
                  r"cs_series_dropped_total|cs_dataset_retries_total)")

def fnow():
    return time.time() + off

def iso(t):
    us = round(t * 1e6)
    d = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc) + \
        datetime.timedelta(microseconds=us)
    return d.strftime("%Y-%m-%dT%H:%M:%S.%fZ")

def sql(db, q):
    r = subprocess.run([psql, "-h", sock, "-p", pgport, "-U", su, "-X", "-q", "-At",
                        "-v", "ON_ERROR_STOP=1", "-d", db, "-c", q],
                       capture_output=True, text=True)
    if r.returncode:
        sys.exit("psql: %s" % r.stderr)
    return [l.split("|") for l in r.stdout.splitlines() if l]

def scrape():
    with urllib.request.urlopen("http://127.0.0.1:%s/metrics" % port, timeout=10) as r:
        text = r.read().decode()
    ts = set(re.findall(r"^cs_collector_evaluation_timestamp_seconds\{[^}]*\} (\S+)$", text, re.M))
    up = re.findall(r"^cs_collector_up\{[^}]*\} (\S+)$", text, re.M)
    drift = re.findall(r'^cs_incremental_drift_rows_total\{dataset="activity"\} (\S+)$', text, re.M)
    t = max(float(x) for x in ts) if ts else None
    if len(ts) > 1 and up.count("0") == 0:
        sys.exit("collectors evaluated at different instants: %s" % ts)
    return text, t, up, (float(drift[0]) if drift else None)

def tick_after(r, all_up=True):
    """The first published tick whose instant is after r (it read after r)."""
    end = time.time() + 60
    while time.time() < end:
        text, t, up, drift = scrape()
        if t is not None and t > r and (not all_up or up.count("0") == 0):
            return text, t, drift
        if not all_up and up.count("0"):
            return text, None, drift
        time.sleep(0.1)
    sys.exit("no tick after %s" % iso(r))

def filt(text):
    """The lines other than self-metrics', family by family in name order: the
    daemon serves the exporter's own families after the KPI families, --once
    all in name order (docs/design.md, "Collection")."""
    blocks = []
    for l in text.splitlines():
        if SELF.match(l):
            continue
        if l.startswith("# HELP ") or not blocks:
            blocks.append([])
        blocks[-1].append(l)
    return [l for b in sorted(blocks, key=lambda b: b[0]) for l in b]

def once(t):
    r = subprocess.run([exe, "--config.file", tdir + "/once.conf", "--once", "--as-of", iso(t)],
                       capture_output=True, text=True)
    if r.returncode:
        sys.exit("--once failed: %s" % r.stderr[-500:])
    return r.stdout

def compare(label, text, t):
    a, b = filt(text), filt(once(t))
    if a != b:
        d = list(difflib.unified_diff(b, a, "once", "daemon", lineterm="", n=0))
        return d
    return []

# ---- what each tick sent, from the statement log
def pgtime(s):
    return datetime.datetime.strptime(s.replace("+00", "+0000"), "%Y-%m-%d %H:%M:%S.%f%z").timestamp()

def activity_reads():
    """The daemon's activity statements: {as_of: since}, in order."""
    text = open(pglog, encoding="utf-8", errors="replace").read()
    out = {}
    for m in re.finditer(r"LOG:  execute [^:]*: (SELECT \* FROM \(\n.*?AS cs_activity ORDER BY[^\n]*)\n"
                         r"[^\n]*DETAIL:  parameters: \$1 = '([^']*)', \$2 = '([^']*)'", text, re.S):
        if "-- once" in m.group(1):
            continue
        out[round(pgtime(m.group(2)), 6)] = round(pgtime(m.group(3)), 6)
    return out

history = None
def kind(t):
    global history
    reads = activity_reads()
    t = round(t, 6)
    if t not in reads:
        sys.exit("no activity read of the daemon bound as_of %s" % iso(t))
    if history is None:
        first = min(reads)
        history = round(first - reads[first], 6)
    return "full" if round(t - reads[t], 6) == history else "incremental"

# ---- the data that grows
users = sql("crm", "SELECT account_id, user_id FROM product_event WHERE account_id IS NOT NULL"
                   " AND user_id IS NOT NULL GROUP BY 1, 2 ORDER BY 1, 2 LIMIT 6")
accounts = [r[0] for r in sql("crm", "SELECT id FROM account ORDER BY id LIMIT 5")]
customer = sql("billing", "SELECT id FROM customers WHERE NOT deleted ORDER BY id LIMIT 1")[0][0]
price = sql("billing", "SELECT id FROM prices ORDER BY id LIMIT 1")[0][0]

def ts(x):
    return "'%s'" % iso(x)

def event(acc, user, name, at):
    sql("crm", "INSERT INTO product_event VALUES ('%s', '%s', '%s', %s)" % (acc, user, name, ts(at)))

n = [0]
def step_events():
    n[0] += 1
    for acc, user in users[:3]:
        event(acc, user, "dashboard.viewed", fnow() - 30)
    event(accounts[n[0] % len(accounts)], "u_inc_%d" % n[0], "integration.synced", fnow() - 5)

late_inside = []
def step_late_inside():
    # before the tick that just ran, within the lookback of the next one
    event(accounts[1], "u_late_inside", "api.called", fnow() - 20)
    late_inside.append(True)

def step_ticket():
    sql("crm", "INSERT INTO \"case\" VALUES ('inc_case_1', '%s', NULL, 990001, 'late report',"
               " 'P1', 'New', 'Web', true, %s, NULL)" % (accounts[2], ts(fnow() - 60)))

def step_ticket_closed():
    sql("crm", "UPDATE \"case\" SET status = 'Closed', closeddate = %s WHERE id = 'inc_case_1'"
        % ts(fnow() - 2))

def step_subscription():
    start = fnow() - 3600
    sql("billing", "BEGIN; INSERT INTO subscriptions (id, customer_id, status, created,"
                   " collection_method, cancel_at_period_end) VALUES ('sub_inc_1', '%s', 'active', %s,"
                   " 'charge_automatically', false);"
                   " INSERT INTO subscription_items VALUES ('si_inc_1', 'sub_inc_1', '%s', 3, %s);"
                   " INSERT INTO subscription_periods VALUES ('sp_inc_1', 'sub_inc_1', 'si_inc_1',"
                   " '%s', 3, 'active', NULL, %s, NULL); COMMIT"
        % (customer, ts(start), price, ts(start), price, ts(start)))

steps = [("nothing new", lambda: None), ("events", step_events),
         ("new user", lambda: event(accounts[0], "u_new_1", "export.created", fnow() - 10)),
         ("new ticket", step_ticket), ("new subscription", step_subscription),
         ("late event inside the lookback", step_late_inside), ("events", step_events),
         ("ticket closed", step_ticket_closed), ("events", step_events)]

ticks = []  # (label, t, kind)
def run_step(label, change):
    change()
    text, t, drift = tick_after(fnow())
    k = kind(t)
    d = compare(label, text, t)
    print("tick %-19s %-11s %-32s %s" % (iso(t)[11:23], k, label,
                                        "equal" if not d else "DIFFERS"))
    ticks.append((label, t, k, bool(d), drift))
    return d, k, drift, t

# Phase A: every change, every tick equal; on through at least one full
# re-read after the first.
for label, change in steps:
    d, k, drift, t = run_step(label, change)
    if d:
        sys.exit("tick after '%s' differs from --once:\n%s" % (label, "\n".join(d[:40])))
    if drift not in (None, 0.0):
        sys.exit("drift %s after '%s'" % (drift, label))
after_late = [x for x in ticks if x[0] == "late event inside the lookback"][0]
if after_late[2] != "incremental":
    sys.exit("the tick after the late event was a full read: the test proves nothing")
fulls = [x for x in ticks if x[2] == "full"]
while len(fulls) < 2:
    d, k, drift, t = run_step("events", step_events)
    if d:
        sys.exit("tick differs from --once:\n%s" % "\n".join(d[:40]))
    if drift != 0.0:
        sys.exit("drift %s at a full re-read with every event inside the lookback" % drift)
    fulls = [x for x in ticks if x[2] == "full"]
if ticks[-1][2] != "full":
    sys.exit("expected to stop at a full re-read")

# Phase B: an event older than the lookback lands just after a full re-read.
event(accounts[3], "u_late_outside", "alert.created", fnow() - 600)
missed = 0
while True:
    d, k, drift, t = run_step("(late beyond lookback)", lambda: None)
    if k == "incremental":
        if not d:
            sys.exit("an incremental tick saw the event older than the lookback")
        if drift != 0.0:
            sys.exit("drift counted before the full re-read: %s" % drift)
        missed += 1
        continue
    if d:
        sys.exit("the full re-read did not correct the late event:\n%s" % "\n".join(d[:40]))
    if drift != 1.0:
        sys.exit("the full re-read counted %s drift rows, expected 1" % drift)
    break
if missed == 0:
    sys.exit("no incremental tick between the late event and the full re-read")
d, k, drift, t = run_step("after the correction", step_events)
if d or drift != 1.0:
    sys.exit("after the correction: differs=%s drift=%s" % (bool(d), drift))

# Phase C: a tick in which a read fails (the tickets table is gone for a
# moment) makes the next activity read a full one, however recent the last.
sql("crm", 'ALTER TABLE "case" RENAME TO case_away')
text, t, drift = tick_after(fnow(), all_up=False)
if t is not None and not re.search(r'^cs_collector_up\{collector="support"\} 0$', text, re.M):
    sys.exit("the support collector did not fail without its table")
sql("crm", 'ALTER TABLE case_away RENAME TO "case"')
d, k, drift, t = run_step("after a failed tick", step_events)
if k != "full" or d:
    sys.exit("after a failed tick: read %s, differs=%s" % (k, bool(d)))
failed_tick = round(t, 6)

# What each tick sent: full reads since = t - history, every full_every;
# the others since = previous t - lookback.
reads = activity_reads()
order = sorted(reads)
last_full = None
for i, t in enumerate(order):
    since = reads[t]
    if round(t - since, 6) == history:
        if last_full is not None and t - last_full < FULL_EVERY and t < failed_tick:
            sys.exit("full read at %s only %.1fs after the previous" % (iso(t), t - last_full))
        last_full = t
        continue
    if i == 0 or round(since, 6) != round(order[i - 1] - LOOKBACK, 6):
        sys.exit("activity read at %s bound since %s, expected %s" %
                 (iso(t), iso(since), iso(order[i - 1] - LOOKBACK) if i else "a full read"))
    if t - last_full >= FULL_EVERY:
        sys.exit("no full read at %s, %.1fs after the last" % (iso(t), t - last_full))
nfull = sum(1 for t in order if round(t - reads[t], 6) == history)
print("statement log: %d activity reads by the daemon, %d full (since = t - %.0fd), %d from the "
      "previous t - %ds; %d ticks compared, %d missed the late event, drift counted 1"
      % (len(order), nfull, history / 86400, len(order) - nfull, LOOKBACK, len(ticks), missed))
PY
grep -q 'msg="incremental drift at full read".*rows=1' "$T/exporter.log" ||
	fail "the daemon did not log the drift: $(grep -i drift "$T/exporter.log" | tail -3)"
stop_bg "$(cat "$T/exporter.pid")"
echo "ok: test_incremental"
