#!/usr/bin/env python3
"""Validates the cs_exporter Grafana dashboards.

    check_dashboards.py [--exposition FILE] [--config FILE] [DASHBOARD.json | DIR ...]
    check_dashboards.py --dump-queries [--var window=90d] [--dump-format tsv]

Checks every dashboard for: valid JSON; unique uid (<= 40 chars) and title;
id null; no __inputs or ${DS_...}; a pinned integer schemaVersion; the
datasource, job, instance and segment variables with their required
properties, and no query variable besides them; a `window` variable of
type custom whose values are sorted by duration; title, description, unit
and datasource ${datasource} on every panel, ${datasource} on every target;
rows with a title and no queries, holding their panels only when collapsed; that every PromQL expression parses
(variables substituted, then all written as recording rules and checked with
`promtool check rules`); that counters are only read through rate(),
irate() or increase(); that exported ratios are never averaged or summed
across segments; that the KPI dashboards (all but the Exporter one) read
every cs_* series through dashboards/gen/promql.py's g() or inc(), so that
they show backfilled history and count replicas once (docs/dashboards.md,
"History and replicas"); and that every metric name exists, either in the exposition
given with --exposition (the exporter's demo output) or in
dashboards/metrics.txt, or is a recording rule of dashboards/rules/. Finally,
that the generated files are what dashboards/generate.py renders.

--config FILE takes the segment dimensions, the currency and the windows from
a cs_exporter configuration (read by dashboards/libconf.py) instead of
--dimensions, and also checks that every money unit is the configured
currency's, that the window variables hold only configured windows, and
that no query names a label that is neither a dimension nor an exporter
label. Use it with dashboards rendered by `generate.py --config FILE --out DIR`
(and --rules DIR/rules/recording.yaml --no-generated-check).

Prints one line per problem and exits 1 if there is any. Standard library
only; needs promtool on PATH (or --promtool).

--dump-queries prints every query (panel targets, and the query variables
rewritten as count by (label) (selector)) after variable substitution, for
running them against a real Prometheus. Variables take their value from
--var, else the dashboard's default (the window variable's), else `.+`. In
--dump-format json each query says whether it needs history (`offset`: the
change against 30 days earlier), which a freshly started Prometheus lacks.
"""

import argparse
import glob
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DASH_DIR = os.path.join(ROOT, "dashboards")

MAX_UID = 40
REQUIRED_QUERY_VARS = ["job", "instance"]
DEFAULT_DIMENSIONS = ["plan", "region"]
COUNTER_FUNCS = {"rate", "irate", "increase"}
AGGREGATORS = {
    "sum", "avg", "min", "max", "count", "stddev", "stdvar", "group", "topk", "bottomk",
    "quantile", "count_values",
}
GROUPING_KW = {"by", "without"}
MATCHING_KW = {"on", "ignoring", "group_left", "group_right"}
OTHER_KW = {"and", "or", "unless", "bool", "offset", "inf", "nan", "atan2"}
# Written by Prometheus itself, never by an exporter.
PROMETHEUS_SERIES = {"up", "scrape_duration_seconds", "scrape_samples_scraped",
                     "scrape_samples_post_metric_relabeling", "scrape_series_added"}
# Exported per-segment ratios and means: adding or averaging them across
# segments is wrong; totals are sum(numerator) / sum(denominator).
NON_ADDITIVE = re.compile(
    r"^cs_\w+_ratio$|^cs_nps_score$|^cs_ces_score$|^cs_arpa$|^cs_customer_lifetime_value$"
    r"|^cs_ticket_resolution_seconds$|^cs_at_risk_account_score$")
BUILTIN_VARS = {
    "__rate_interval": "5m",
    "__interval": "1m",
    "__range": "1h",
    "__range_s": "3600",
    "__range_ms": "3600000",
    "__interval_ms": "60000",
}


class Problems:
    def __init__(self):
        self.items = []

    def add(self, where, msg):
        self.items.append("%s: %s" % (where, msg))


# ---------------------------------------------------------------------------
# Known metric names
# ---------------------------------------------------------------------------


def load_metrics_txt(path):
    """{sample name: type} from dashboards/metrics.txt."""
    names = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            parts = line.split()
            names[parts[0]] = parts[1] if len(parts) > 1 else "untyped"
    return names


def load_exposition(path):
    """{sample name: type} from a text 0.0.4 or OpenMetrics exposition."""
    types, samples = {}, {}
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith("# TYPE "):
                parts = line.split()
                if len(parts) >= 4:
                    types[parts[2]] = parts[3]
                continue
            if not line or line.startswith("#"):
                continue
            name = re.match(r"[a-zA-Z_:][a-zA-Z0-9_:]*", line)
            if name:
                samples[name.group(0)] = "untyped"
    for name in samples:
        for fam, t in types.items():
            if name == fam or (name.startswith(fam + "_") and
                               name[len(fam):] in ("_total", "_bucket", "_count", "_sum",
                                                   "_gcount", "_gsum", "_created")):
                samples[name] = "counter" if t == "counter" else t
                break
    return samples


def load_record_names(paths):
    names = set()
    for p in paths:
        with open(p, encoding="utf-8") as f:
            for line in f:
                mm = re.match(r"\s*-?\s*record:\s*(\S+)", line)
                if mm:
                    names.add(mm.group(1).strip("'\""))
    return names


# ---------------------------------------------------------------------------
# Variable substitution
# ---------------------------------------------------------------------------


def substitute(expr, values):
    """Replaces Grafana variables: ${name:format}, ${name}, [[name]], $name."""

    def val(name):
        if name in BUILTIN_VARS:
            return BUILTIN_VARS[name]
        return values.get(name, ".+")

    expr = re.sub(r"\$\{(\w+)(?::[^}]*)?\}", lambda mm: val(mm.group(1)), expr)
    expr = re.sub(r"\[\[(\w+)(?::[^\]]*)?\]\]", lambda mm: val(mm.group(1)), expr)
    return re.sub(r"\$(\w+)", lambda mm: val(mm.group(1)), expr)


LABEL_VALUES = re.compile(r"^\s*label_values\(\s*(.+?)\s*,\s*([a-zA-Z_]\w*)\s*\)\s*$", re.S)


def variable_promql(query):
    """A query variable's label_values(sel, label) as PromQL, or None."""
    mm = LABEL_VALUES.match(query)
    if not mm:
        return None
    return "count by (%s) (%s)" % (mm.group(2), mm.group(1))


# ---------------------------------------------------------------------------
# A small PromQL scanner: finds metric names and what encloses them
# ---------------------------------------------------------------------------


class Frame:
    def __init__(self, kind, name=None):
        self.kind = kind  # "call", "paren", "labels"
        self.name = name
        self.grouping = None  # ("by"|"without", [labels]) for aggregators


def _skip_string(s, i):
    q = s[i]
    i += 1
    while i < len(s) and s[i] != q:
        i += 2 if s[i] == "\\" and q != "`" else 1
    return i + 1


def _skip_block(s, i, close):
    i += 1
    while i < len(s) and s[i] != close:
        i = _skip_string(s, i) if s[i] in "\"'`" else i + 1
    return i + 1


def scan(expr):
    """Yields (metric name, [enclosing frames, innermost last]) and returns
    after the whole expression. Frames' aggregation grouping is filled in as
    it is read, so callers inspect it after the scan completes."""
    out = []
    stack = []
    i, n = 0, len(expr)
    prev = None  # previous significant token: ("ident", name) / (")", frame) / other
    pending_group = pending_agg = None
    while i < n:
        c = expr[i]
        if c.isspace():
            i += 1
            continue
        if c in "\"'`":
            i = _skip_string(expr, i)
            prev = ("str", None)
            continue
        if c == "{":
            i = _skip_block(expr, i, "}")
            prev = ("}", None)
            continue
        if c == "[":
            i = _skip_block(expr, i, "]")
            prev = ("]", None)
            continue
        if c.isdigit() or (c == "." and i + 1 < n and expr[i + 1].isdigit()):
            i += 1
            while i < n and (expr[i].isalnum() or expr[i] == "." or
                             expr[i] in "+-" and expr[i - 1] in "eE" and expr[i - 2].isdigit()):
                i += 1
            prev = ("num", None)
            continue
        if c.isalpha() or c in "_:":
            j = i
            while j < n and (expr[j].isalnum() or expr[j] in "_:"):
                j += 1
            word = expr[i:j]
            k = j
            while k < n and expr[k].isspace():
                k += 1
            nxt = expr[k] if k < n else ""
            i = j
            low = word.lower()
            if stack and stack[-1].kind == "labels":
                prev = ("label", word)
                continue
            if low in GROUPING_KW or low in MATCHING_KW:
                if nxt == "(":
                    labels_end = _skip_block(expr, k, ")")
                    labels = re.findall(r"[a-zA-Z_]\w*", expr[k + 1:labels_end - 1])
                    if low in GROUPING_KW:
                        if prev and prev[0] == ")" and prev[1] and prev[1].name in AGGREGATORS:
                            prev[1].grouping = (low, labels)
                        else:
                            pending_group = (low, labels)
                    i = labels_end
                prev = ("kw", low)
                continue
            if low in OTHER_KW:
                prev = ("kw", low)
                continue
            if low in AGGREGATORS and re.match(r"(by|without)\s*\(", expr[k:], re.I):
                # sum by (labels) (...): the call's parenthesis comes later.
                pending_agg = low
                prev = ("agg", low)
                continue
            if nxt == "(":
                f = Frame("call", low)
                if pending_group and low in AGGREGATORS:
                    f.grouping = pending_group
                pending_group = None
                stack.append(f)
                i = k + 1
                prev = ("(", f)
                continue
            out.append((word, list(stack)))
            prev = ("metric", word)
            continue
        if c == "(":
            if pending_agg:
                f = Frame("call", pending_agg)
                f.grouping = pending_group
                pending_agg = pending_group = None
            else:
                f = Frame("paren")
            stack.append(f)
            prev = ("(", f)
            i += 1
            continue
        if c == ")":
            f = stack.pop() if stack else None
            prev = (")", f)
            i += 1
            continue
        prev = ("op", c)
        i += 1
    return out


def check_expr_semantics(expr, known, where, problems, dims):
    for name, frames in scan(expr):
        if name not in known:
            problems.add(where, "unknown metric %s" % name)
            continue
        if known[name] == "counter":
            if not frames or frames[-1].kind != "call" or frames[-1].name not in COUNTER_FUNCS:
                problems.add(where, "counter %s used outside rate()/irate()/increase()" % name)
        elif frames and frames[-1].kind == "call" and frames[-1].name in COUNTER_FUNCS and \
                known[name] in ("gauge", "gaugehistogram"):
            problems.add(where, "%s() of gauge %s" % (frames[-1].name, name))
        if NON_ADDITIVE.match(name):
            for f in frames:
                if f.kind != "call" or f.name not in AGGREGATORS or f.name == "count":
                    continue
                g = f.grouping
                # by (every dimension...) or without (labels that are no
                # dimension, e.g. instance: one value over replicas) keeps
                # the segments apart.
                if g and g[0] == "without" and not set(dims) & set(g[1]):
                    continue
                if not g or g[0] != "by" or not set(dims) <= set(g[1]):
                    problems.add(where, "%s(%s) aggregates a ratio across segments; use "
                                 "sum(numerator) / sum(denominator)" % (f.name, name))


# History and replicas: a KPI panel reads every gauge through
# dashboards/gen/promql.py's g() and every counter through inc(), so that it
# shows on backfilled daily history and counts two replicas of one exporter
# once. Only the Exporter dashboard reads raw samples: it shows the live
# process, and a stopped exporter must look stopped there.
RAW_DASHBOARDS = {"cs-exporter"}
G_READ = re.compile(
    r"max without \(instance\) \((?P<sel>cs_\w+\{[^{}]*\})(?P<off>(?: offset \w+)?) or "
    r"\(last_over_time\((?P=sel)\[\w+\](?P=off)\) unless on \(job, instance\) "
    r"up\{[^{}]*\}(?P=off)\)\)")
INC_READ = re.compile(
    r"max without \(instance\) \(increase\(cs_\w+\{[^{}]*\}\[\w+\](?: offset \w+)?\)\)")
RAW_CS = re.compile(r"(?<![\w:])cs_\w+")


def check_history_replicas(expr, where, problems):
    rest = INC_READ.sub("", G_READ.sub("", expr))
    for name in sorted(set(RAW_CS.findall(rest))):
        problems.add(where, "%s is read without g() or inc() of dashboards/gen/promql.py: it "
                     "would not show on backfilled history, or would count replicas twice"
                     % name)


# ---------------------------------------------------------------------------
# Dashboard structure
# ---------------------------------------------------------------------------


def is_ds_ref(ds):
    if isinstance(ds, str):
        return ds == "${datasource}"
    return isinstance(ds, dict) and ds.get("uid") == "${datasource}" and \
        ds.get("type", "prometheus") == "prometheus"


def all_panels(panels):
    for p in panels or []:
        yield p
        yield from all_panels(p.get("panels"))


def check_variables(dash, where, problems, dims, windows=None):
    tvars = {v.get("name"): v for v in dash.get("templating", {}).get("list", [])}
    ds = tvars.get("datasource")
    if not ds or ds.get("type") != "datasource" or ds.get("query") != "prometheus":
        problems.add(where, "missing variable `datasource` of type datasource, query prometheus")
    for name in REQUIRED_QUERY_VARS + dims:
        v = tvars.get(name)
        if not v:
            problems.add(where, "missing query variable `%s`" % name)
            continue
        want = {"type": "query", "refresh": 2, "multi": True, "includeAll": True,
                "allValue": ".+"}
        for key, value in want.items():
            if v.get(key) != value:
                problems.add(where, "variable `%s`: %s must be %r, is %r"
                             % (name, key, value, v.get(key)))
    for name, v in tvars.items():
        if v.get("type") != "query":
            continue
        if not is_ds_ref(v.get("datasource")):
            problems.add(where, "variable `%s`: datasource must be ${datasource}" % name)
        if v.get("refresh") != 2 and name not in REQUIRED_QUERY_VARS + dims:
            problems.add(where, "variable `%s`: refresh must be 2 (on time range change)" % name)
        if not variable_promql(query_text(v)):
            problems.add(where, "variable `%s`: query is not label_values(selector, label)" % name)
    for d in dims:
        q = query_text(tvars.get(d, {}))
        if d in tvars and not re.search(r'job=~"\$job"', q or ""):
            problems.add(where, "variable `%s` must be filtered by $job and $instance" % d)
    for name, v in tvars.items():
        if v.get("type") == "query" and name not in REQUIRED_QUERY_VARS + dims:
            problems.add(where, "query variable `%s` is no configured segment dimension (%s)"
                         % (name, ", ".join(dims) or "none"))
    win = tvars.get("window")
    if win:
        values = [o.get("value") for o in win.get("options", [])]
        secs = [duration_seconds(w) for w in values]
        if win.get("type") != "custom" or not values or None in secs:
            problems.add(where, "variable `window` must be of type custom listing the windows")
        elif secs != sorted(secs) or len(set(values)) != len(values):
            problems.add(where, "variable `window`: windows not sorted by duration: %s"
                         % ", ".join(values))
        elif query_text(win) != ",".join(values):
            problems.add(where, "variable `window`: query %r differs from its options"
                         % query_text(win))
        elif windows is not None and not set(values) <= set(windows):
            problems.add(where, "variable `window`: %s not among the configured windows %s"
                         % (", ".join(sorted(set(values) - set(windows))), ", ".join(windows)))
        if win.get("multi") or win.get("includeAll"):
            problems.add(where, "variable `window` must be single-valued: ratios are per window")
    return tvars


def duration_seconds(text):
    mm = re.match(r"^([1-9][0-9]*)([smhdw])$", text) if isinstance(text, str) else None
    if not mm:
        return None
    return int(mm.group(1)) * {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}[mm.group(2)]


def units(dash):
    """Every unit a dashboard sets, in defaults and overrides."""
    for p in all_panels(dash.get("panels")):
        fc = p.get("fieldConfig", {})
        if fc.get("defaults", {}).get("unit"):
            yield fc["defaults"]["unit"]
        for o in fc.get("overrides", []):
            for prop in o.get("properties", []):
                if prop.get("id") == "unit":
                    yield prop.get("value")


def query_text(v):
    q = v.get("query")
    if isinstance(q, dict):
        q = q.get("query")
    return q or ""


def check_row(p, where, problems):
    if not str(p.get("title", "")).strip():
        problems.add(where, "row has no title")
    if p.get("targets"):
        problems.add(where, "row has targets")
    if "gridPos" not in p:
        problems.add(where, "row has no gridPos")
    if p.get("panels") and not p.get("collapsed"):
        problems.add(where, "an expanded row must not hold panels (they follow it)")
    for c in p.get("panels") or []:
        if c.get("type") == "row":
            problems.add(where, "row inside a row")


def check_panel(p, where, problems):
    if p.get("type") == "row":
        check_row(p, where, problems)
        return
    for key in ("title", "description"):
        if not str(p.get(key, "")).strip():
            problems.add(where, "panel has no %s" % key)
    unit = p.get("fieldConfig", {}).get("defaults", {}).get("unit")
    if not unit:
        problems.add(where, "panel has no unit (fieldConfig.defaults.unit)")
    if not is_ds_ref(p.get("datasource")):
        problems.add(where, "panel datasource must be ${datasource}")
    if "gridPos" not in p:
        problems.add(where, "panel has no gridPos")
    targets = p.get("targets") or []
    if not targets:
        problems.add(where, "panel has no targets")
    exprs = []
    for t in targets:
        tw = "%s target %s" % (where, t.get("refId", "?"))
        if not is_ds_ref(t.get("datasource")):
            problems.add(tw, "target datasource must be ${datasource}")
        if not str(t.get("expr", "")).strip():
            problems.add(tw, "target has no expr")
        exprs.append(t.get("expr", ""))
    joined = "\n".join(exprs)
    if p.get("type") == "heatmap":
        for t in targets:
            if t.get("format") != "heatmap" or not re.search(r"by \(le\)", t.get("expr", "")):
                problems.add(where, "heatmap target must be sum by (le) (...) with format heatmap")
    if re.search(r'category="promoter"|cs_nps_score', joined):
        d = p.get("fieldConfig", {}).get("defaults", {})
        if unit != "none" or d.get("min") != -100 or d.get("max") != 100:
            problems.add(where, "NPS panel must have unit none, min -100 and max 100")


def check_grid(path, dash, problems):
    """Panels inside the 24-column grid, not overlapping."""
    boxes = []
    for p in all_panels(dash.get("panels")):
        g = p.get("gridPos") or {}
        try:
            x, y, w, h = (int(g[k]) for k in ("x", "y", "w", "h"))
        except (KeyError, TypeError, ValueError):
            continue  # reported by check_panel
        where = "%s: panel %r (id %s)" % (path, p.get("title"), p.get("id"))
        if x < 0 or y < 0 or w < 1 or h < 1 or x + w > 24:
            problems.add(where, "gridPos %s outside the 24-column grid" % g)
        for other, (ox, oy, ow, oh) in boxes:
            if x < ox + ow and ox < x + w and y < oy + oh and oy < y + h:
                problems.add(where, "gridPos overlaps panel %r" % other)
        boxes.append((p.get("title"), (x, y, w, h)))


def load_dashboards(paths, problems):
    dashes = []
    for path in paths:
        try:
            with open(path, encoding="utf-8") as f:
                text = f.read()
            dash = json.loads(text)
        except (OSError, ValueError) as e:
            problems.add(path, "invalid JSON: %s" % e)
            continue
        if not isinstance(dash, dict):
            problems.add(path, "not a dashboard object")
            continue
        dashes.append((path, text, dash))
    return dashes


def check_dashboard(path, text, dash, problems, dims, windows=None, money_unit=None):
    uid = dash.get("uid")
    if not isinstance(uid, str) or not uid or len(uid) > MAX_UID:
        problems.add(path, "uid must be a non-empty string of at most %d characters" % MAX_UID)
    if "id" not in dash or dash["id"] is not None:
        problems.add(path, "id must be null")
    if "__inputs" in dash or "__requires" in dash:
        problems.add(path, "exported-for-sharing dashboard (__inputs/__requires)")
    if "${DS_" in text:
        problems.add(path, "contains ${DS_...} placeholders that file provisioning never resolves")
    if not isinstance(dash.get("schemaVersion"), int):
        problems.add(path, "schemaVersion must be pinned to an integer")
    if not str(dash.get("title", "")).strip():
        problems.add(path, "dashboard has no title")
    check_variables(dash, path, problems, dims, windows)
    if money_unit:
        for unit in units(dash):
            if unit.startswith(("currency", "suffix: ")) and unit != money_unit:
                problems.add(path, "money unit %s is not the configured currency's %s"
                             % (unit, money_unit))
    check_grid(path, dash, problems)
    ids = set()
    for p in all_panels(dash.get("panels")):
        where = "%s: panel %r (id %s)" % (path, p.get("title"), p.get("id"))
        if p.get("id") in ids:
            problems.add(where, "duplicate panel id")
        ids.add(p.get("id"))
        check_panel(p, where, problems)


def queries(dashes, values):
    """(where, uid, source, substituted PromQL) for every query."""
    out = []
    given = values
    for path, _, dash in dashes:
        uid = dash.get("uid", "?")
        values = dict(defaults(dash))
        values.update(given)
        for v in dash.get("templating", {}).get("list", []):
            if v.get("type") == "query":
                q = variable_promql(query_text(v))
                if q:
                    out.append(("%s: variable %s" % (path, v.get("name")), uid,
                                "variable %s" % v.get("name"), substitute(q, values)))
        for p in all_panels(dash.get("panels")):
            for t in p.get("targets") or []:
                if t.get("expr"):
                    out.append(("%s: panel %r target %s" % (path, p.get("title"), t.get("refId")),
                                uid, "panel %s %s" % (p.get("id"), t.get("refId")),
                                substitute(t["expr"], values)))
    return out


def defaults(dash):
    """{name: value} of the custom variables' current single values."""
    out = {}
    for v in dash.get("templating", {}).get("list", []):
        cur = v.get("current", {}).get("value")
        if v.get("type") == "custom" and isinstance(cur, str):
            out[v.get("name")] = cur
    return out


# Labels the exporter or Prometheus write; anything else in a matcher or a
# grouping must be a segment dimension. The list is the "Labels" section of
# docs/metrics.md, generated from the kind table (tests/tools/metricref.c).
def load_known_labels(path=os.path.join(ROOT, "docs", "metrics.md")):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    section = text.split("\n## Labels\n", 1)[1]
    return set(re.findall(r"`([A-Za-z_][A-Za-z0-9_]*)`", section)) | {"__name__"}


KNOWN_LABELS = load_known_labels()


def foreign_labels(expr, dims):
    """Label names an expression uses that are neither known nor dimensions."""
    used = set()
    for block in re.findall(r"\{([^{}]*)\}", expr):
        used.update(re.findall(r"([a-zA-Z_]\w*)\s*(?:=~|!~|!=|=)", block))
    for labels in re.findall(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^()]*)\)",
                             expr):
        used.update(re.findall(r"[a-zA-Z_]\w*", labels))
    return sorted(used - KNOWN_LABELS - set(dims))


# ---------------------------------------------------------------------------
# promtool
# ---------------------------------------------------------------------------


def rules_yaml(exprs):
    lines = ["groups:", "  - name: dashboard_queries", "    rules:"]
    for i, e in enumerate(exprs):
        lines.append("      - record: dashboard_query_%d" % i)
        lines.append("        expr: %s" % json.dumps(e))
    return "\n".join(lines) + "\n"


def promtool_check(promtool, exprs):
    """Returns None when every expression parses, else promtool's output."""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "queries.yaml")
        with open(path, "w", encoding="utf-8") as f:
            f.write(rules_yaml(exprs))
        r = subprocess.run([promtool, "check", "rules", path], capture_output=True, text=True)
        if r.returncode == 0:
            return None
        return (r.stdout + r.stderr).strip()


def check_parse(promtool, qs, problems):
    exprs = [q[3] for q in qs]
    if not exprs or promtool_check(promtool, exprs) is None:
        return
    # Pinpoint: one expression at a time.
    for where, _, _, e in qs:
        err = promtool_check(promtool, [e])
        if err is not None:
            mm = re.search(r"could not parse expression: (.*)", err)
            problems.add(where, "PromQL does not parse: %s: %s" % (
                mm.group(1) if mm else err.splitlines()[-1], e))


# ---------------------------------------------------------------------------


def load_generator():
    gen = os.path.join(DASH_DIR, "generate.py")
    sys.dont_write_bytecode = True  # no __pycache__ inside the source tree
    spec = importlib.util.spec_from_file_location("cs_dashboards_generate", gen)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def generated_stale():
    if not os.path.exists(os.path.join(DASH_DIR, "generate.py")):
        return []
    return load_generator().stale_files()


def main():
    ap = argparse.ArgumentParser(description="validate the cs_exporter Grafana dashboards")
    ap.add_argument("paths", nargs="*", help="dashboard files or directories "
                    "(default: dashboards/grafana)")
    ap.add_argument("--exposition", help="exporter output to check metric names against "
                    "(default: dashboards/metrics.txt)")
    ap.add_argument("--metrics", default=os.path.join(DASH_DIR, "metrics.txt"))
    ap.add_argument("--rules", action="append", help="recording rule files (default: "
                    "dashboards/rules/*.yaml)")
    ap.add_argument("--dimensions", default=",".join(DEFAULT_DIMENSIONS),
                    help="segment dimensions, comma-separated (default: %(default)s)")
    ap.add_argument("--config", metavar="FILE", help="take dimensions, currency and windows "
                    "from this cs_exporter configuration and check them")
    ap.add_argument("--promtool", default=os.environ.get("PROMTOOL", "promtool"))
    ap.add_argument("--var", action="append", default=[], metavar="NAME=VALUE",
                    help="value substituted for $NAME (default .+, window=30d)")
    ap.add_argument("--dump-queries", action="store_true",
                    help="print every query after substitution and exit")
    ap.add_argument("--dump-format", choices=["expr", "tsv", "json"], default="expr",
                    help="expr: one query per line; tsv: uid, source, query; json: a list")
    ap.add_argument("--no-generated-check", action="store_true",
                    help="skip comparing the files with dashboards/generate.py output")
    args = ap.parse_args()

    problems = Problems()
    dims = [d for d in args.dimensions.split(",") if d]
    windows = money_unit = None
    if args.config:
        try:
            settings = load_generator().settings_from_config(args.config)
        except Exception as e:  # libconf.ConfigError, with FILE:LINE
            print("check_dashboards.py: %s" % e, file=sys.stderr)
            return 2
        dims, windows, money_unit = settings.dimensions, settings.windows, settings.money_unit
    values = {}
    for kv in args.var:
        if "=" not in kv:
            ap.error("--var wants NAME=VALUE")
        k, v = kv.split("=", 1)
        values[k] = v

    paths = []
    for p in args.paths or [os.path.join(DASH_DIR, "grafana")]:
        paths.extend(sorted(glob.glob(os.path.join(p, "*.json"))) if os.path.isdir(p) else [p])
    if not paths:
        print("no dashboards found", file=sys.stderr)
        return 1
    dashes = load_dashboards(paths, problems)
    qs = queries(dashes, values)

    if args.dump_queries:
        for p in problems.items:
            print(p, file=sys.stderr)
        if args.dump_format == "json":
            print(json.dumps([{"uid": u, "source": s, "expr": e,
                               "needs_history": bool(re.search(r"\boffset\b", e))}
                              for _, u, s, e in qs], indent=1))
        for _, uid, src, e in qs if args.dump_format != "json" else []:
            e = " ".join(e.split())
            print(e if args.dump_format == "expr" else "%s\t%s\t%s" % (uid, src, e))
        return 1 if problems.items else 0

    seen_uid, seen_title, schemas = {}, {}, set()
    for path, text, dash in dashes:
        check_dashboard(path, text, dash, problems, dims, windows, money_unit)
        for key, seen in (("uid", seen_uid), ("title", seen_title)):
            v = dash.get(key)
            if v in seen:
                problems.add(path, "%s %r already used by %s" % (key, v, seen[v]))
            seen[v] = path
        schemas.add(dash.get("schemaVersion"))
    if len(schemas) > 1:
        problems.add("dashboards", "schemaVersion differs between dashboards: %s"
                     % sorted(map(str, schemas)))

    known = load_exposition(args.exposition) if args.exposition else load_metrics_txt(args.metrics)
    if args.exposition:
        # Counters the exposition may not show as such (no TYPE line).
        for name, t in load_metrics_txt(args.metrics).items():
            if name in known and t == "counter":
                known[name] = "counter"
    for name in PROMETHEUS_SERIES:
        known.setdefault(name, "gauge")
    rule_files = args.rules or sorted(glob.glob(os.path.join(DASH_DIR, "rules", "*.yaml")))
    for name in load_record_names(rule_files):
        known.setdefault(name, "gauge")

    for where, uid, src, e in qs:
        check_expr_semantics(e, known, where, problems, dims)
        if uid not in RAW_DASHBOARDS and not src.startswith("variable "):
            check_history_replicas(e, where, problems)
        if args.config:
            for label in foreign_labels(e, dims):
                problems.add(where, "label %s is no configured dimension: %s" % (label, e))

    if shutil.which(args.promtool) is None:
        problems.add("promtool", "not found (%s); cannot check PromQL syntax" % args.promtool)
    else:
        check_parse(args.promtool, qs, problems)

    if not args.no_generated_check:
        for path in generated_stale():
            problems.add(path, "out of date: run python3 dashboards/generate.py")

    for p in problems.items:
        print(p)
    if problems.items:
        print("%d problem(s) in %d dashboard(s)" % (len(problems.items), len(paths)))
        return 1
    npanels = sum(len(list(all_panels(d.get("panels")))) for _, _, d in dashes)
    print("ok: %d dashboards, %d panels, %d queries" % (len(dashes), npanels, len(qs)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
