#!/bin/bash
# The landing page `/` as a person sees it: the exporter runs on demo data,
# real headless Chromium loads the page, and its DOM shows every configured
# collector as "up" with the numbers /metrics reports (rows read, series),
# links to the metrics and health endpoints, the active config file and its
# last reload; no script, no password. A screenshot is kept in $T/status.png.
. "$(dirname "$0")/../scripts/lib.sh"
set -eu

chromium=${CHROMIUM:-/usr/bin/chromium}
[ -x "$chromium" ] || fail "no chromium at $chromium (set CHROMIUM)"

pg_up "$T/pg"
# Anchored today: the exporter evaluates at now.
"$CS_ROOT/tests/demo/load.sh" "$T/pg" --accounts 500 --seed 5 --anchor "$(date -u +%Y-%m-%d)" \
	>"$T/load.log" 2>&1 ||
	fail "demo data load failed: $(tail -5 "$T/load.log")"
sed -e "s|@PGPORT@|$PGPORT|g" -e "s|@PGPASSFILE@|$T/pg/reader.pass|g" \
	"$CS_ROOT/config/demo.conf" >"$T/cs.conf"
[ -s "$T/pg/reader.pass" ] || fail "no reader password file"

port=$(free_port)
base="http://127.0.0.1:$port"
start_bg exporter "$BUILD/cs_exporter" --config.file "$T/cs.conf" --web.listen-address "127.0.0.1:$port"
wait_http "$base/-/ready" 60 || fail "exporter not ready: $(tail -5 "$T/exporter.log")"

curl -fsS -D "$T/headers" -o "$T/status.curl.html" "$base/" || fail "GET / failed"
grep -qi '^content-type: text/html; charset=utf-8' "$T/headers" ||
	fail "/ is not served as UTF-8 HTML: $(grep -i content-type "$T/headers")"

browse() { # output-file chromium-args...
	_out=$1
	shift
	rm -rf "$T/chromium-profile"
	timeout 120 "$chromium" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
		--disable-background-networking --disable-component-update --disable-sync \
		--user-data-dir="$T/chromium-profile" "$@" >"$_out" 2>>"$T/chromium.log"
}
browse "$T/status.dom.html" --dump-dom "$base/" || fail "chromium --dump-dom failed: $(tail -3 "$T/chromium.log")"
(cd "$T" && browse /dev/null --window-size=1280,900 --screenshot="$T/status.png" "$base/") ||
	fail "chromium --screenshot failed: $(tail -3 "$T/chromium.log")"
[ "$(head -c 8 "$T/status.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] ||
	fail "screenshot is not a PNG"
[ "$(stat -c %s "$T/status.png")" -gt 10000 ] || fail "screenshot is suspiciously small"

curl -fsS "$base/metrics" >"$T/metrics.txt" || fail "GET /metrics failed"

python3 - "$T/status.dom.html" "$T/cs.conf" "$T/pg/reader.pass" "$T/metrics.txt" <<'PY' ||
import re, sys
from html.parser import HTMLParser

dom_file, conf_file, pass_file, metrics_file = sys.argv[1:5]
dom = open(dom_file, encoding="utf-8").read()

class Page(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links, self.tags, self.tables = [], set(), []
        self.row, self.cell, self.in_th = None, None, False
    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        a = dict(attrs)
        if tag == "table":
            self.tables.append(([], []))  # headers, rows
            self.headers, self.rows = self.tables[-1]
        if tag == "a" and "href" in a:
            self.links.append(a["href"])
        if tag == "tr":
            self.row = []
        if tag in ("td", "th") and self.row is not None:
            self.cell = []
            self.in_th = tag == "th"
    def handle_endtag(self, tag):
        if tag in ("td", "th") and self.cell is not None:
            text = " ".join("".join(self.cell).split())
            (self.headers if self.in_th else self.row).append(text)
            self.cell = None
        if tag == "tr" and self.row is not None:
            if self.row:
                self.rows.append(self.row)
            self.row = None
    def handle_data(self, data):
        if self.cell is not None:
            self.cell.append(data)

p = Page()
p.feed(dom)
text = re.sub(r"<[^>]*>", " ", dom)

assert "script" not in p.tags, "the page has a <script>"
assert "<script" not in dom.lower(), "the page has a <script>"
password = open(pass_file).read().strip()
assert password and password not in dom, "the database password is on the page"
assert "password" not in dom.lower(), "the page talks about passwords"

for href in ("/metrics", "/-/healthy", "/-/ready"):
    assert href in p.links, "no link to %s (links: %s)" % (href, p.links)
assert conf_file in text, "config path %s not shown" % conf_file
assert re.search(r"reload", text, re.I), "no last reload shown"

conf = open(conf_file).read()
want = re.findall(r'\{\s*name\s*=\s*"([^"]+)";\s*kind\s*=', conf)
assert len(want) >= 7, "could not read the collectors from the config: %s" % want

def table(first_header):
    for headers, trs in p.tables:
        if headers and headers[0].lower() == first_header:
            return [h.lower() for h in headers], trs
    raise AssertionError("no table headed %r" % first_header)

cols, trs = table("collector")
for h in ("collector", "state", "last success", "duration", "rows read", "rows rejected", "series"):
    assert h in cols, "no column %r in %s" % (h, cols)
idx = {h: cols.index(h) for h in cols}
rows = {r[idx["collector"]]: r for r in trs if len(r) == len(cols)}
assert sorted(rows) == sorted(want), "collectors on the page %s, in the config %s" % (sorted(rows), want)

metrics = {}
for ln in open(metrics_file):
    m = re.match(r'(cs_collector_\w+)\{collector="([^"]+)"\} (\S+)$', ln.strip())
    if m:
        metrics[(m.group(1), m.group(2))] = float(m.group(3))
for name, r in rows.items():
    assert r[idx["state"]] == "up", "%s is %r, not up" % (name, r[idx["state"]])
    assert re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ", r[idx["last success"]]), \
        "%s: last success %r" % (name, r[idx["last success"]])
    assert re.match(r"[0-9.]+ s$", r[idx["duration"]]), "%s: duration %r" % (name, r[idx["duration"]])
    rows_read = int(r[idx["rows read"]].replace(",", ""))
    series = int(r[idx["series"]].replace(",", ""))
    int(r[idx["rows rejected"]].replace(",", ""))
    assert rows_read > 0 and series > 0, "%s: rows %d series %d" % (name, rows_read, series)
    assert metrics.get(("cs_collector_rows", name)) == rows_read, \
        "%s: rows read %d on the page, %s on /metrics" % (name, rows_read, metrics.get(("cs_collector_rows", name)))
    assert metrics.get(("cs_collector_series", name)) == series, \
        "%s: series %d on the page, %s on /metrics" % (name, series, metrics.get(("cs_collector_series", name)))
# Freshness: every configured dataset with its state, newest row, age and
# rows, matching /metrics.
dcols, dtrs = table("dataset")
for h in ("state", "newest row", "age", "max age", "rows read", "rows rejected"):
    assert h in dcols, "no column %r in the datasets table %s" % (h, dcols)
didx = {h: dcols.index(h) for h in dcols}
dataset_rows = {}
for ln in open(metrics_file):
    m = re.match(r'cs_dataset_rows\{dataset="([^"]+)"\} (\S+)$', ln.strip())
    if m:
        dataset_rows[m.group(1)] = int(float(m.group(2)))
shown = {r[0]: r for r in dtrs if len(r) == len(dcols)}
assert sorted(shown) == sorted(dataset_rows), "datasets on the page %s, on /metrics %s" % (sorted(shown), sorted(dataset_rows))
for name, r in shown.items():
    assert r[didx["state"]] in ("fresh", "stale", "read"), "%s: state %r" % (name, r[didx["state"]])
    assert re.match(r"\d{4}-\d\d-\d\dT", r[didx["newest row"]]), "%s: newest %r" % (name, r[didx["newest row"]])
    assert re.match(r"([0-9.]+ (min|h|d)|ahead)$", r[didx["age"]]), "%s: age %r" % (name, r[didx["age"]])
    assert int(r[didx["rows read"]]) == dataset_rows[name], "%s: rows %s vs %d" % (name, r[didx["rows read"]], dataset_rows[name])
print("status page: %d collectors up, %d datasets" % (len(rows), len(shown)))
PY
	fail "status page check failed (DOM in $T/status.dom.html)"
echo ok
