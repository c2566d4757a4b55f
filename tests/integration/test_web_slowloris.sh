#!/bin/bash
# Slowloris past the connection cap, from many addresses: 1,100 connections
# from 127.0.0.2 ... 127.0.0.26 (44 each, under the 128-per-address limit),
# each trickling one byte every 5 s and opened again at its next turn when the
# server closes it, while a scrape runs every 0.25 s from 127.0.0.1. The 1,024
# slots were held by the tricklers and a scrape waited in the listen backlog
# until the 15 s request deadline cut them (here: 38 scrapes in 30 s, one
# timed out after 10 s, another took 9 s; elsewhere p90 8.0 s). Now the
# connection that has waited longest for a request gives its slot to a new
# one. Loopback only; the attack runs 30 s and the script stops itself at 60 s.
. "$(dirname "$0")/../scripts/lib.sh"
. "$CS_ROOT/tests/scripts/tiny.sh"
set -eu

# 1,100 sockets here, two descriptors a connection in the exporter.
want=4096
hard=$(ulimit -Hn)
[ "$hard" = unlimited ] || [ "$hard" -ge "$want" ] || want=$hard
ulimit -n "$want"
[ "$(ulimit -n)" -ge 2600 ] || fail "the descriptor limit ($(ulimit -Hn)) is too low for 1,100 connections"

PGPORT=$(free_port) # nothing listens there: the collector simply fails
mkdir -p "$T/pg"
echo "unused-password" >"$T/pg/reader.pass"
tiny_conf "$T/cs.conf" 1h
port=$(free_port)
start_bg exporter "$BUILD/cs_exporter" --config.file "$T/cs.conf" --web.listen-address "127.0.0.1:$port"
wait_http "http://127.0.0.1:$port/-/healthy" 10 || fail "exporter never answered"

python3 - "$port" >"$T/slowloris.out" 2>&1 <<'PY'
import http.client, select, signal, socket, sys, threading, time
port = int(sys.argv[1])
signal.alarm(60)  # whatever happens, this script ends
ADDRS = ["127.0.0.%d" % i for i in range(2, 27)]
N = 1100
socks = [None] * N
byfd = {}
poller = select.poll()
opened = cut = 0

def open_(i):
    global opened
    s = socket.socket()
    s.setblocking(False)
    s.bind((ADDRS[i % len(ADDRS)], 0))
    try:
        s.connect(("127.0.0.1", port))
    except BlockingIOError:
        pass  # in progress (or in the listen backlog)
    socks[i] = s
    byfd[s.fileno()] = i
    poller.register(s.fileno(), select.POLLIN)
    opened += 1

def closed(i):
    """The server closed connection i: another is opened at its next turn."""
    global cut
    s = socks[i]
    poller.unregister(s.fileno())
    del byfd[s.fileno()]
    s.close()
    socks[i] = None
    cut += 1

for i in range(N):
    open_(i)
time.sleep(1)

times, slow = [], []
failed = 0
start = time.time()
done = threading.Event()
def scraper():
    global failed
    while not done.is_set():
        t = time.time()
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=10,
                                           source_address=("127.0.0.1", 0))
            c.request("GET", "/metrics")
            r = c.getresponse()
            r.read()
            c.close()
            if r.status != 200:
                raise RuntimeError("status %d" % r.status)
        except Exception as e:
            failed += 1
            slow.append("%.1f: %s" % (t - start, e))
        d = time.time() - t
        times.append(d)
        if d > 0.5:
            slow.append("%.1f: %.2f s" % (t - start, d))
        time.sleep(0.25)

th = threading.Thread(target=scraper)
th.start()
step = 0
# One byte every 5 s on each connection, spread evenly over the 5 s.
while time.time() - start < 30:
    for i in range(step % 50, N, 50):
        if socks[i] is None:
            open_(i)
            continue
        try:
            socks[i].send(b"x")
        except BlockingIOError:
            pass  # not accepted yet
        except OSError:
            closed(i)
    step += 1
    while True:  # 0.1 s a step, watching for connections the server closes
        left = start + step * 0.1 - time.time()
        if left <= 0:
            break
        for fd, ev in poller.poll(left * 1000):
            if fd in byfd:
                closed(byfd[fd])
done.set()
th.join()
ready = set(fd for fd, ev in poller.poll(0))
alive = sum(1 for fd in byfd if fd not in ready)
for s in socks:
    if s is not None:
        s.close()
times.sort()
def pct(p):
    return times[min(len(times) - 1, int(len(times) * p))]
print("slow or failed scrapes (second of the attack: what):", "; ".join(slow) or "none")
print("connections opened %d, closed by the server %d, open at the end %d" % (opened, cut, alive))
print("scrapes %d failed %d p50 %.3f p90 %.3f p99 %.3f max %.3f" %
      (len(times), failed, pct(0.5), pct(0.9), pct(0.99), times[-1]))
PY
cat "$T/slowloris.out"
line=$(grep '^scrapes ' "$T/slowloris.out") || fail "slowloris run failed: $(tail -3 "$T/slowloris.out")"
# scrapes N failed F p50 X p90 Y p99 Z max W
read -r _ n _ failed _ _ _ _ _ p99 _ <<<"$line"
[ "$n" -ge 40 ] || fail "only $n scrapes in 30 s"
[ "$failed" = 0 ] || fail "$failed of $n scrapes failed under slowloris"
python3 -c "import sys; sys.exit(0 if float('$p99') < 1 else 1)" ||
	fail "scrapes under slowloris: p99 ${p99}s"
# The attack really held the slots: most of its connections stayed open.
open_end=$(sed -n 's/.*open at the end \([0-9]*\)$/\1/p' "$T/slowloris.out")
[ "$open_end" -ge 800 ] || fail "only $open_end trickling connections were open at the end"
curl -sf -o /dev/null "http://127.0.0.1:$port/-/healthy" || fail "exporter dead after slowloris"
echo ok
