#!/bin/bash
# The landing page `/` as a person sees it: the exporter runs on the awkward
# demo data (segment names with a double quote and a backslash) whose account
# names were all given a hostile "<script>" suffix, real headless Chromium
# loads the page, and its DOM shows
#  - the headline KPIs (MRR, customers, logo and net MRR churn, NRR, NPS,
#    CSAT, red MRR up for renewal) equal to what /metrics says, summed over
#    segments, and sparklines as inline SVG once two evaluations ran;
#  - the at-risk and movement lists: accounts, names, segments and amounts
#    of cs_at_risk_account_mrr and cs_mrr_mover, hostile names as text;
#  - every configured collector as "up" with the numbers /metrics reports
#    (rows read, series), rows rejected of the collector's own datasets,
#    the demo's planted rejections marked expected;
#  - links to the metrics and health endpoints, the active config file and
#    its last reload; no script, nothing fetched from elsewhere, no password.
# A screenshot is kept in $T/status.png.
. "$(dirname "$0")/../scripts/lib.sh"
set -eu

chromium=${CHROMIUM:-/usr/bin/chromium}
[ -x "$chromium" ] || fail "no chromium at $chromium (set CHROMIUM)"

pg_up "$T/pg"
# Anchored today: the exporter evaluates at now.
"$CS_ROOT/tests/demo/load.sh" "$T/pg" --accounts 500 --seed 5 --anchor "$(date -u +%Y-%m-%d)" \
	--awkward >"$T/load.log" 2>&1 ||
	fail "demo data load failed: $(tail -5 "$T/load.log")"
pg_psql "$T/pg" -qX -v ON_ERROR_STOP=1 -d crm \
	-c "UPDATE account SET name = name || ' <script>alert(1)</script>' WHERE name IS NOT NULL" ||
	fail "could not make the account names hostile"
sed -e "s|@PGPORT@|$PGPORT|g" -e "s|@PGPASSFILE@|$T/pg/reader.pass|g" \
	"$CS_ROOT/config/demo.conf" >"$T/cs.conf"
[ -s "$T/pg/reader.pass" ] || fail "no reader password file"

port=$(free_port)
base="http://127.0.0.1:$port"
start_bg exporter "$BUILD/cs_exporter" --config.file "$T/cs.conf" --web.listen-address "127.0.0.1:$port"
wait_http "$base/-/ready" 60 || fail "exporter not ready: $(tail -5 "$T/exporter.log")"

# The sparklines start at the second evaluation (30 s apart in the demo).
for _ in $(seq 1 90); do
	runs=$(curl -fsS "$base/metrics" | sed -n 's/^cs_collector_runs_total{collector="revenue"} //p')
	[ "${runs%.*}" -ge 2 ] && break
	sleep 1
done
[ "${runs%.*}" -ge 2 ] || fail "revenue ran $runs times in 90 s"

curl -fsS "$base/metrics" >"$T/metrics.before.txt" || fail "GET /metrics failed"
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
(cd "$T" && browse /dev/null --window-size=1280,2600 --screenshot="$T/status.png" "$base/") ||
	fail "chromium --screenshot failed: $(tail -3 "$T/chromium.log")"
[ "$(head -c 8 "$T/status.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] ||
	fail "screenshot is not a PNG"
[ "$(stat -c %s "$T/status.png")" -gt 10000 ] || fail "screenshot is suspiciously small"

curl -fsS "$base/metrics" >"$T/metrics.txt" || fail "GET /metrics failed"

python3 - "$T/status.dom.html" "$T/cs.conf" "$T/pg/reader.pass" "$T/metrics.txt" \
	"$T/metrics.before.txt" "$T/status.curl.html" "$CS_ROOT/docs/metrics.md" <<'PY' ||
import html, re, sys
from collections import defaultdict
from html.parser import HTMLParser

dom_file, conf_file, pass_file, metrics_file, before_file, raw_file, ref_file = sys.argv[1:8]
dom = open(dom_file, encoding="utf-8").read()
raw = open(raw_file, encoding="utf-8").read()

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

# ---- rows rejected: each collector's own datasets (docs/metrics.md says
# which a kind reads), not the evaluation's total
kind_datasets, kind = {}, None
for ln in open(ref_file, encoding="utf-8"):
    m = re.match(r"## (\w+)$", ln.strip())
    if m:
        kind = m.group(1)
    m = re.match(r"Datasets: (.*?)\.( Settings|$)", ln.strip())
    if m and kind:
        # an optional dataset reads "payments (optional: ...)"; the demo maps it
        kind_datasets[kind] = [re.sub(r" \(.*\)$", "", d.strip()) for d in
                               re.sub(r"\(optional[^)]*\)", "", m.group(1)).split(",")]
assert "revenue" in kind_datasets and "health" in kind_datasets, kind_datasets
rejected_of = {r[0]: int(r[didx["rows rejected"]]) for r in shown.values()}
per_collector = {}
for name, r in rows.items():
    k = r[idx["kind"]]
    got = int(r[idx["rows rejected"]].replace(",", ""))
    per_collector[name] = got
    want = sum(rejected_of[d] for d in kind_datasets[k])
    if k == "outcomes":  # plus the outcome runs' own rejections
        assert got >= want, "%s: %d rows rejected, its datasets alone %d" % (name, got, want)
    else:
        assert got == want, "%s (%s): %d rows rejected, its datasets %s reject %d" % (
            name, k, got, kind_datasets[k], want)
assert len(set(per_collector.values())) > 1, "every collector shows the same rejected rows: %s" % per_collector

# ---- planted rejections are marked expected (config/demo.conf)
rcols, rtrs = [(h, t) for h, t in p.tables if h and h[0].lower() == "dataset"][1]
assert "expected" in [h.lower() for h in rcols], "no expected column: %s" % rcols
eidx = [h.lower() for h in rcols].index("expected")
assert rtrs, "the awkward demo rejects rows, the page shows none"
for r in rtrs:
    assert r[eidx].startswith("yes"), "rejection %s/%s not marked expected" % (r[0], r[1])

# ---- the metrics, summed over segments
def parse_metrics(path):
    out = []
    for ln in open(path, encoding="utf-8"):
        m = re.match(r'([a-z_]+)(?:\{(.*)\})? (\S+)$', ln.strip())
        if not m or ln.startswith("#"):
            continue
        labels = dict((k, v.replace('\\"', '"').replace("\\\\", "\\").replace("\\n", "\n"))
                      for k, v in re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(2) or ""))
        out.append((m.group(1), labels, float(m.group(3))))
    return out

def total(ms, fam, **want):
    return sum(v for f, l, v in ms if f == fam and all(l.get(k) == x for k, x in want.items()))

def amount(v):
    return "0" if v == 0 else ("%.2f" % v) if abs(v) < 100 else "{:,.0f}".format(v)

def expected_tiles(ms):
    w = "30d"
    mrr0 = total(ms, "cs_mrr_window_start", window=w)
    mv = {t: total(ms, "cs_mrr_movement", window=w, type=t)
          for t in ("churn", "contraction", "expansion", "reactivation")}
    start = total(ms, "cs_customers_window_start", window=w)
    nps = {c: total(ms, "cs_survey_responses", window=w, category=c)
           for c in ("promoter", "passive", "detractor", "satisfied", "unsatisfied")}
    n = nps["promoter"] + nps["passive"] + nps["detractor"]
    return {
        "MRR": amount(total(ms, "cs_mrr")) + " USD",
        "Customers": amount(total(ms, "cs_customers")).replace(".00", ""),
        "Logo churn": "%.1f%%" % (100 * total(ms, "cs_customer_movements", window=w, type="churned") / start),
        "Net MRR churn": "%.1f%%" % (100 * (mv["churn"] + mv["contraction"] - mv["expansion"] - mv["reactivation"]) / mrr0),
        "Net revenue retention": "%.1f%%" % (100 * (mrr0 - mv["churn"] - mv["contraction"] + mv["expansion"]) / mrr0),
        "NPS": "%.1f" % (100 * (nps["promoter"] - nps["detractor"]) / n),
        "CSAT": "%.1f%%" % (100 * nps["satisfied"] / (nps["satisfied"] + nps["unsatisfied"])),
        "Red MRR up for renewal": amount(total(ms, "cs_renewal_mrr", horizon="30d", band="red")) + " USD",
    }

def text_of(fragment):
    return " ".join(html.unescape(re.sub(r"<[^>]*>", " ", fragment)).split())

tiles = {text_of(label): text_of(value) for label, value in re.findall(
    r'<div class="tile"><div class="label">(.*?)</div><div class="value">(.*?)</div>', dom)}
snapshots = [parse_metrics(before_file), parse_metrics(metrics_file)]
wants = [expected_tiles(ms) for ms in snapshots]
assert any(tiles == w for w in wants), "headline tiles %s, /metrics says %s" % (tiles, wants)
assert len(tiles) == 8, tiles

# ---- sparklines: inline SVG, nothing fetched
assert re.search(r"<svg[^>]*>.*?<polyline [^>]*points=\"[0-9.]+,[0-9.]+ [0-9.]+,[0-9.]+", dom, re.S), \
    "no sparkline after two evaluations"
for tag in ("img", "link", "iframe", "object", "embed"):
    assert tag not in p.tags, "the page loads a <%s>" % tag
for href in p.links:
    assert href.startswith("/"), "a link leaves the exporter: %s" % href

# ---- the lists: the accounts of the families, hostile names as text
def who_cells(fragment):
    return [(html.unescape(n).strip(), html.unescape(k)) for n, k in re.findall(
        r'<td class="who">(.*?)<br><span class="key">(.*?)</span></td>', fragment)]

risk_table = re.search(r'<table class="at-risk">(.*?)</table>', dom, re.S)
assert risk_table, "no at-risk table"
risk_rows = [tr for tr in re.findall(r"<tr>(.*?)</tr>", risk_table.group(1), re.S) if "<td" in tr]
assert len(risk_rows) >= 5, "at-risk table has %d rows" % len(risk_rows)

def shown_name(l):
    return l["name"] or "(no name)"

def shown_key(l):
    return l["account"] or "billing " + l["billing_key"]

def check_lists(ms):
    listed = {l["account"]: (l, v) for f, l, v in ms if f == "cs_at_risk_account_mrr"}
    for tr in risk_rows:
        (name, key), = who_cells(tr)
        cells = [text_of(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", tr, re.S)]
        if key not in listed:
            return "account %s is not on cs_at_risk_account_mrr" % key
        l, v = listed[key]
        if name != shown_name(l):
            return "%s: name %r on the page, %r on /metrics" % (key, name, l["name"])
        if cells[1] != "%s / %s" % (l["plan"], l["region"]):
            return "%s: segment %r, /metrics %s / %s" % (key, cells[1], l["plan"], l["region"])
        if cells[4] != amount(v) + " USD":
            return "%s: MRR %r, /metrics %s" % (key, cells[4], v)
    for title, typ in (("Churned", "churn"), ("Contracted", "contraction"), ("Expanded", "expansion"),
                       ("New", "new"), ("Reactivated", "reactivation")):
        card = re.search(r"<h3>%s</h3><table>(.*?)</table>" % title, dom, re.S)
        if not card:
            return "no %s card" % title
        movers = [(l, v) for f, l, v in ms
                  if f == "cs_mrr_mover" and l["window"] == "30d" and l["type"] == typ]
        # as the page orders them: amount, then account key, then billing key
        top = sorted(movers, key=lambda x: (-x[1], x[0]["account"].encode(),
                                            x[0]["billing_key"].encode()))[:5]
        shown = who_cells(card.group(1))
        if len(shown) != min(5, len(movers)):
            return "%s: %d shown of %d movers" % (title, len(shown), len(movers))
        for (name, key), (l, v) in zip(shown, top):
            if key != shown_key(l) or name != shown_name(l):
                return "%s: %s %r shown, %s %r largest on /metrics" % (title, key, name, shown_key(l), l["name"])
    return None

problems = [check_lists(ms) for ms in snapshots]
assert None in problems, "lists differ from /metrics: %s" % problems

hostile = "<script>alert(1)</script>"
assert any(hostile in n for n, _ in who_cells(dom)), "no hostile name shown as text"
assert "&lt;script&gt;alert(1)&lt;/script&gt;" in raw, "hostile names not escaped in the HTML"
assert "<script>alert" not in raw, "a hostile name reached the HTML unescaped"
quoted = [l["plan"] for f, l, v in snapshots[1] if f == "cs_at_risk_account_mrr" and '"' in l["plan"]]
if quoted:  # a segment with a double quote is listed: written as &quot; and read back
    assert "Enterprise &quot;Plus&quot;" in raw, "segment name with a quote not escaped"
    assert 'Enterprise "Plus"' in text, "segment name with a quote not shown as written"
print("status page: %d collectors up, %d datasets, %d tiles, %d at-risk rows" % (
    len(rows), len(shown), len(tiles), len(risk_rows)))
PY
	fail "status page check failed (DOM in $T/status.dom.html)"
echo ok
