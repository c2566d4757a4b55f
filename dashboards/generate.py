#!/usr/bin/env python3
"""Writes cs_exporter's Grafana dashboards and Prometheus rules for one config.

The dashboards (grafana/*.json) and the rules (rules/recording.yaml,
rules/alerts.yaml) follow the configuration they are rendered for: one
variable and one rule level per segment dimension, the reporting currency as
the money unit, the KPI windows (sorted by duration) in the window variable,
the feature and outcome panels, and only the dashboards, rows and alerts of
the configured collector kinds. Each alert that reads a window takes it from
the windows of its KPI's collector kind: the short window is 30d when
configured, else the window closest to 30 days; the long window (NRR) is 90d
when configured, else the longest (see alert_window(); thresholds that are a
share of the window are compounded to it, see alert_threshold()). The
exporter's CustomerSuccessDataStale and CustomerSuccessCollectorFailing follow
each collector's interval and timeout (stale_after(), failing_for()). The
committed files under dashboards/ are the ones for config/example.conf;
tests/scripts/check_dashboards.py and --check fail when they differ from what
this script renders.

    python3 dashboards/generate.py                         # rewrite dashboards/ for config/example.conf
    python3 dashboards/generate.py --check                 # exit 1 when those are stale
    python3 dashboards/generate.py --config /etc/cs_exporter/cs_exporter.conf --out DIR
    python3 dashboards/generate.py --config FILE --out DIR --selector 'job="cs_exporter"'

--out DIR writes DIR/grafana/*.json, DIR/rules/recording.yaml and
DIR/rules/alerts.yaml (the rule tests and provisioning files are not
rendered: copy them from dashboards/). --selector restricts the job variable,
every recording rule and the alerts that read the exporter's own series
(and up, for CustomerSuccessExporterAbsent) to the exporter's series, e.g.
'job="cs_exporter"' (default: every job; ExporterAbsent then expects the
scrape job cs_exporter).

Standard library only; the configuration is read by libconf.py (the libconfig
subset cs_exporter uses). Edit this file, run it, and commit its output.
"""

import argparse
import json
import os
import re
import sys
import textwrap

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True  # no __pycache__ next to the script

import libconf  # noqa: E402

# The checkout's example config; installed, the copy beside this file.
DEFAULT_CONFIG = os.path.join(os.path.dirname(HERE), "config", "example.conf")
if not os.path.exists(DEFAULT_CONFIG):
    DEFAULT_CONFIG = os.path.join(HERE, "example.conf")
SCHEMA_VERSION = 39
TAGS = ["cs_exporter", "customer-success"]
DS = {"type": "prometheus", "uid": "${datasource}"}

# ---------------------------------------------------------------------------
# What is rendered: read from the exporter's configuration
# ---------------------------------------------------------------------------

KINDS = ["revenue", "trials", "surveys", "adoption", "support", "outcomes", "health"]
WINDOWED_KINDS = {"revenue", "trials", "surveys", "adoption", "support", "outcomes"}
# Labels the exporter writes itself or Prometheus attaches (config/config.c).
RESERVED_LABELS = {
    "window", "currency", "type", "category", "survey", "result", "state", "feature",
    "outcome", "target", "band", "account", "name", "le", "collector", "dataset", "reason",
    "family", "version", "revision", "quantile", "job", "instance",
    "cohort", "age_months", "horizon", "from", "to", "renewal_at",
}
# Grafana's built-in currency units; other codes get a suffix unit.
GRAFANA_CURRENCIES = {
    "USD", "GBP", "EUR", "JPY", "RUB", "UAH", "BRL", "DKK", "ISK", "NOK", "SEK", "CZK",
    "CHF", "PLN", "ZAR", "INR", "KRW", "IDR", "PHP", "VND",
}
# Collector names (config.c: valid_name) and the defaults of a collector's
# interval and timeout (the timeout is the interval when that is shorter).
COLLECTOR_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
DEFAULT_INTERVAL = "5m"
DEFAULT_TIMEOUT = "30s"
MATCHERS = re.compile(r'^\s*[a-zA-Z_]\w*\s*(=|!=|=~|!~)\s*"(?:[^"\\]|\\.)*"\s*'
                      r'(,\s*[a-zA-Z_]\w*\s*(=|!=|=~|!~)\s*"(?:[^"\\]|\\.)*"\s*)*$')


class Settings:
    """Everything the dashboards and rules depend on."""

    def __init__(self, dimensions=("plan", "region"), currency="USD",
                 windows=("30d", "90d"), kinds=None, features=(), outcomes=(), selector="",
                 cohort_months=12, cohort_dimensions=None, horizons=("30d", "60d", "90d"),
                 collectors=()):
        self.dimensions = list(dimensions)
        self.currency = currency
        self.money_unit = ("currency%s" % currency if currency in GRAFANA_CURRENCIES
                           else "suffix: %s" % currency)
        # kind -> windows of its collector(s); every kind when none is given.
        self.kinds = dict(kinds) if kinds is not None else {k: list(windows) for k in KINDS}
        self.default_window = windows[0] if windows else "30d"
        self.features = list(features)
        self.outcomes = list(outcomes)  # (name, target, direction)
        self.selector = selector.strip()
        # cohorts = { months = K; dimensions = [...]; }: K = 0 turns the
        # cohort families off; they carry only cohorts.dimensions (default:
        # every segment dimension).
        self.cohort_months = cohort_months
        self.cohort_dimensions = (list(dimensions) if cohort_dimensions is None
                                  else list(cohort_dimensions))
        # renewals = { horizons = [...]; }, shortest first.
        self.horizons = sorted(horizons, key=lambda h: (libconf.duration_seconds(h), h))
        # (name, interval, timeout) of each collector, in seconds (the
        # exporter-health alerts follow the intervals).
        self.collectors = list(collectors)

    def windows_for(self, kinds):
        """The windows of these collector kinds, shortest first."""
        ws = {w for k in kinds if k in WINDOWED_KINDS for w in self.kinds.get(k, [])}
        return sorted(ws, key=lambda w: (libconf.duration_seconds(w), w))

    @property
    def windows(self):
        return self.windows_for(KINDS)

    def has(self, *kinds):
        return any(k in self.kinds for k in kinds)


def settings_from_config(path, selector=""):
    """Settings for a cs_exporter configuration file; ConfigError when the
    file cannot be read or a setting the dashboards need is invalid."""
    cfg = libconf.load(path)

    def bad(setting, msg, at=None):
        """at: (container, key) of the offending value, for its FILE:LINE."""
        loc = libconf.where(at[0], at[1], path) if at else path
        return libconf.ConfigError("%s: %s: %s" % (loc, setting, msg))

    def group(obj, name):
        v = obj.get(name, {})
        if not isinstance(v, dict):
            raise bad(name, "must be a group { ... }", (obj, name))
        return v

    def strings(obj, key, name, default):
        v = obj.get(key, default)
        if not isinstance(v, list) or not all(isinstance(s, str) for s in v):
            raise bad(name, "must be a list of strings", (obj, key))
        return v

    segments = group(cfg, "segments")
    dims = strings(segments, "dimensions", "segments.dimensions", [])
    for i, d in enumerate(dims):
        if not re.match(r"^[a-zA-Z_][a-zA-Z0-9_]*$", d) or d.startswith("__") or \
                d in RESERVED_LABELS:
            raise bad("segments.dimensions", "%r is no usable label name" % d, (dims, i))
    if len(set(dims)) != len(dims):
        raise bad("segments.dimensions", "names repeat", (segments, "dimensions"))
    reporting = group(cfg, "reporting")
    currency = reporting.get("currency", "USD")
    if not isinstance(currency, str) or not re.match(r"^[A-Za-z]{3}$", currency):
        raise bad("reporting.currency", "must be a 3-letter ISO 4217 code",
                  (reporting, "currency"))

    def windows(obj, key, name, default):
        v = strings(obj, key, name, default)
        for i, w in enumerate(v):
            if libconf.duration_seconds(w) is None:
                raise bad(name, "%r is no duration (e.g. \"30d\")" % w, (v, i))
        if not v:
            raise bad(name, "must not be empty", (obj, key))
        return v

    top = windows(cfg, "windows", "windows", ["30d", "90d"])
    collectors = cfg.get("collectors")
    kinds = None
    if collectors is not None:
        if not isinstance(collectors, list) or not all(isinstance(c, dict) for c in collectors):
            raise bad("collectors", "must be a list of groups", (cfg, "collectors"))
        kinds = {}
        for i, c in enumerate(collectors):
            kind = c.get("kind")
            if kind not in KINDS:
                raise bad("collectors.[%d].kind" % i, "must be one of %s" % ", ".join(KINDS),
                          (c, "kind") if "kind" in c else (collectors, i))
            ws = windows(c, "windows", "collectors.[%d].windows" % i, top)
            kinds.setdefault(kind, [])
            kinds[kind] += [w for w in ws if w not in kinds[kind]]
    named = []
    for i, c in enumerate(collectors or []):
        name = c.get("name", c.get("kind"))
        if not isinstance(name, str) or not COLLECTOR_NAME.match(name):
            raise bad("collectors.[%d].name" % i, "must be 1 to 64 letters, digits, '_', '-' "
                      "or '.'", (c, "name"))
        if name in [n for n, _, _ in named]:
            raise bad("collectors.[%d].name" % i, "%r is used twice" % name, (c, "name"))
        interval = c.get("interval", DEFAULT_INTERVAL)
        if libconf.duration_seconds(interval) is None:
            raise bad("collectors.[%d].interval" % i, "%r is no duration (e.g. \"5m\")"
                      % (interval,), (c, "interval"))
        interval = libconf.duration_seconds(interval)
        timeout = c.get("timeout")
        if timeout is None:  # config.c: 30 s, or the interval when shorter
            timeout = min(interval, libconf.duration_seconds(DEFAULT_TIMEOUT))
        elif libconf.duration_seconds(timeout) is None:
            raise bad("collectors.[%d].timeout" % i, "%r is no duration (e.g. \"30s\")"
                      % (timeout,), (c, "timeout"))
        else:
            timeout = libconf.duration_seconds(timeout)
        named.append((name, interval, timeout))
    features = strings(cfg, "features", "features", [])
    outcomes = []
    ocs = cfg.get("outcomes", [])
    if not isinstance(ocs, list):
        raise bad("outcomes", "must be a list of groups", (cfg, "outcomes"))
    for i, o in enumerate(ocs):
        if not isinstance(o, dict) or not isinstance(o.get("name"), str):
            raise bad("outcomes.[%d]" % i, "needs a name", (ocs, i))
        outcomes.append((o["name"], o.get("target"), o.get("direction", "at_least")))
    if selector and not MATCHERS.match(selector):
        raise libconf.ConfigError("--selector: %r is no list of label matchers such as "
                                  "job=\"cs_exporter\"" % selector)
    cohorts = group(cfg, "cohorts")
    months = cohorts.get("months", 12)
    if not isinstance(months, int) or isinstance(months, bool) or not 0 <= months <= 36:
        raise bad("cohorts.months", "must be an integer 0-36", (cohorts, "months"))
    cdims = strings(cohorts, "dimensions", "cohorts.dimensions", dims)
    for i, d in enumerate(cdims):
        if d not in dims:
            raise bad("cohorts.dimensions", "%r is no segment dimension" % d, (cdims, i))
    renewals = group(cfg, "renewals")
    horizons = windows(renewals, "horizons", "renewals.horizons", ["30d", "60d", "90d"])
    if len(horizons) > 8:
        raise bad("renewals.horizons", "at most 8 horizons", (renewals, "horizons"))
    s = Settings(dims, currency.upper(), top, kinds, features, outcomes, selector,
                 months, cdims, horizons, named)
    # The window variable's default: the first top-level window, when any
    # collector computes it.
    if s.windows and s.default_window not in s.windows:
        s.default_window = s.windows[0]
    return s


# The settings being rendered (render() sets them), and the windows of the
# dashboard being built.
S = Settings()
DASH_WINDOWS = []

# ---------------------------------------------------------------------------
# PromQL helpers
# ---------------------------------------------------------------------------

BASE = ['job=~"$job"', 'instance=~"$instance"']
WIN = 'window=~"$window"'


def dims():
    return S.dimensions


def by_dims():
    return ", ".join(S.dimensions)


def m(metric, *matchers, seg=True, win=False):
    """A selector limited to the dashboard's job/instance/segments. seg: True
    (every segment dimension), False, or the list of dimensions the family
    carries (a matcher on a label the family lacks would match nothing)."""
    seg_dims = S.dimensions if seg is True else (seg or [])
    segm = ['%s=~"$%s"' % (d, d) for d in seg_dims]
    parts = list(BASE) + segm + ([WIN] if win else []) + list(matchers)
    return "%s{%s}" % (metric, ",".join(parts))


def tot(metric, *matchers, by=None, **kw):
    """sum [by (...)] of a selector: the numerator or denominator of a total."""
    grp = " by (%s)" % by if by else ""
    return "sum%s(%s)" % (grp, m(metric, *matchers, **kw))


def div(num, den):
    """num / den, omitted (no data, never NaN or Inf) where den is 0."""
    return "%s / (%s > 0)" % (num, den)


def nrr(by=None, gross=False):
    start = tot("cs_mrr_window_start", by=by, win=True)
    lost = tot("cs_mrr_movement", 'type=~"churn|contraction"', by=by, win=True)
    if gross:
        return div("(%s - %s)" % (start, lost), start)
    gained = tot("cs_mrr_movement", 'type="expansion"', by=by, win=True)
    return div("(%s - %s + %s)" % (start, lost, gained), start)


def mrr_churn(by=None, net=True):
    start = tot("cs_mrr_window_start", by=by, win=True)
    lost = tot("cs_mrr_movement", 'type=~"churn|contraction"', by=by, win=True)
    if not net:
        return div(lost, start)
    back = tot("cs_mrr_movement", 'type=~"expansion|reactivation"', by=by, win=True)
    return div("(%s - %s)" % (lost, back), start)


def quick_ratio(by=None):
    up = tot("cs_mrr_movement", 'type=~"new|reactivation|expansion"', by=by, win=True)
    down = tot("cs_mrr_movement", 'type=~"churn|contraction"', by=by, win=True)
    return div(up, down)


def logo_churn(by=None):
    return div(tot("cs_customer_movements", 'type="churned"', by=by, win=True),
               tot("cs_customers_window_start", by=by, win=True))


def arpa(by=None):
    return div(tot("cs_mrr", by=by), tot("cs_customers", by=by))


def nps(by=None):
    resp = lambda *c: tot("cs_survey_responses", 'survey="nps"', *c, by=by, win=True)
    return div("100 * (%s - %s)" % (resp('category="promoter"'), resp('category="detractor"')),
               resp())


def csat(by=None):
    return div(tot("cs_survey_responses", 'survey="csat"', 'category="satisfied"', by=by,
                   win=True),
               tot("cs_survey_responses", 'survey="csat"', by=by, win=True))


def ces(by=None):
    return div(tot("cs_ces_points", by=by, win=True),
               tot("cs_survey_responses", 'survey="ces"', by=by, win=True))


def utilisation(by=None):
    return div(tot("cs_seats_used", by=by, win=True), tot("cs_seats", by=by))


def escalation(by=None):
    return div(tot("cs_tickets", 'state="escalated"', by=by, win=True),
               tot("cs_tickets", 'state="opened"', by=by, win=True))


def resolution(by=None):
    return div(tot("cs_ticket_resolution_time_seconds", by=by, win=True),
               tot("cs_tickets", 'state="resolved"', by=by, win=True))


def quantile(q, buckets, count):
    """histogram_quantile over summed buckets, omitted when they are empty
    (histogram_quantile of empty buckets is NaN)."""
    return "histogram_quantile(%s, %s) and on () (%s > 0)" % (q, buckets, count)


SELECTOR = re.compile(r"\b([a-zA-Z_:][a-zA-Z0-9_:]*\{[^{}]*\})")


def shifted(expr, offset="30d"):
    """The expression evaluated `offset` earlier (offset on every selector)."""
    return SELECTOR.sub(r"\1 offset " + offset, expr)


def legend(by):
    return " / ".join("{{%s}}" % d for d in by.split(", "))


# ---------------------------------------------------------------------------
# Panel builders
# ---------------------------------------------------------------------------


def target(expr, legend_fmt="__auto", ref="A", instant=False, fmt="time_series"):
    return {
        "datasource": DS,
        "editorMode": "code",
        "expr": expr,
        "format": fmt,
        "instant": instant,
        "legendFormat": legend_fmt,
        "range": not instant,
        "refId": ref,
    }


def targets(*pairs, **kw):
    """targets((expr, legend), ...) with refIds A, B, C, ..."""
    return [target(e, lg, ref=chr(ord("A") + i), **kw) for i, (e, lg) in enumerate(pairs)]


def thresholds(*steps):
    """steps: (color, value) with the first value None (base)."""
    return {
        "mode": "absolute",
        "steps": [{"color": c, "value": v} for c, v in steps],
    }


NEUTRAL = thresholds(("blue", None))


def base_panel(ptype, title, desc, unit, tgts, w, h, minv=None, maxv=None, decimals=None,
               kind=None):
    defaults = {"unit": unit, "color": {"mode": "palette-classic"}, "thresholds": NEUTRAL}
    if minv is not None:
        defaults["min"] = minv
    if maxv is not None:
        defaults["max"] = maxv
    if decimals is not None:
        defaults["decimals"] = decimals
    return {
        "type": ptype,
        "title": title,
        "description": desc,
        "datasource": DS,
        "fieldConfig": {"defaults": defaults, "overrides": []},
        "options": {},
        "targets": tgts,
        "_size": (w, h),
        "_kind": kind,
    }


REDUCE_LAST = {"calcs": ["lastNotNull"], "fields": "", "values": False}
CHANGE_OFFSET = "30d"
CHANGE_LEGEND = "vs %s ago" % CHANGE_OFFSET
CHANGE_COLORS = {
    "up": thresholds(("red", None), ("green", 0)),  # higher is better
    "down": thresholds(("green", None), ("red", 0)),  # lower is better
    None: NEUTRAL,
}


def override(matcher, options, *props):
    return {"matcher": {"id": matcher, "options": options},
            "properties": [{"id": k, "value": v} for k, v in props]}


def stat(title, desc, unit, tgts, w=4, h=4, th=None, change="neutral", per_window=None,
         **kw):
    """A single-value tile. change: None (no change value), or "up", "down",
    "neutral" (which direction is good): adds the change against
    CHANGE_OFFSET earlier as a second value, coloured by that direction.
    per_window: a function window seconds -> thresholds; the first target
    must then keep the window label and have a legend ending in " {{window}}",
    and every window of the configuration gets its own thresholds."""
    if change:
        e = tgts[0]["expr"]
        tgts = tgts + [target("(%s) - (%s)" % (e, shifted(e, CHANGE_OFFSET)), CHANGE_LEGEND,
                              ref=chr(ord("A") + len(tgts)))]
        desc += (" The second value is the change against %s earlier%s." % (
            CHANGE_OFFSET, " (in points)" if unit == "percentunit" else ""))
    p = base_panel("stat", title, desc, unit, tgts, w, h, **kw)
    defaults = p["fieldConfig"]["defaults"]
    defaults["color"] = {"mode": "thresholds"}
    defaults["thresholds"] = th or NEUTRAL
    if per_window:
        prefix = tgts[0]["legendFormat"].replace("{{window}}", "")
        defaults["thresholds"] = per_window(libconf.duration_seconds(S.default_window))
        for win in DASH_WINDOWS:
            p["fieldConfig"]["overrides"].append(override(
                "byName", prefix + win,
                ("thresholds", per_window(libconf.duration_seconds(win)))))
    if change:
        ref = tgts[-1]["refId"]
        p["fieldConfig"]["overrides"].append(override(
            "byFrameRefID", ref, ("thresholds", CHANGE_COLORS.get(change, NEUTRAL)),
            ("min", None), ("max", None)))
    p["options"] = {
        "colorMode": "value",
        "graphMode": "area",
        "justifyMode": "auto",
        "orientation": "horizontal",
        "reduceOptions": REDUCE_LAST,
        "textMode": "value_and_name" if change or per_window else "auto",
    }
    return p


def scaled(kind, *steps):
    """Thresholds per window from thresholds per 30 days. kind "rate": a share
    lost per period (churn), compounded: 1 - (1 - x)^(W / 30d); kind
    "retention": a share kept, x^(W / 30d)."""
    month = 30 * 86400

    def f(seconds):
        k = seconds / month
        out = []
        for color, v in steps:
            if v is not None and v > 0:
                v = round(1 - (1 - v) ** k if kind == "rate" else v ** k, 4)
            out.append((color, v))
        return thresholds(*out)

    return f


def timeseries(title, desc, unit, tgts, w=12, h=8, stack=False, bars=False, **kw):
    p = base_panel("timeseries", title, desc, unit, tgts, w, h, **kw)
    p["fieldConfig"]["defaults"]["custom"] = {
        "drawStyle": "bars" if bars else "line",
        "fillOpacity": 60 if stack or bars else 10,
        "lineWidth": 1,
        "showPoints": "never",
        "spanNulls": False,
        "stacking": {"group": "A", "mode": "normal" if stack else "none"},
    }
    p["options"] = {
        "legend": {
            "calcs": ["lastNotNull", "min", "max"],
            "displayMode": "table",
            "placement": "bottom",
            "showLegend": True,
        },
        "tooltip": {"mode": "multi", "sort": "desc"},
    }
    return p


def bargauge(title, desc, unit, tgts, w=12, h=8, **kw):
    p = base_panel("bargauge", title, desc, unit, tgts, w, h, **kw)
    p["options"] = {
        "displayMode": "gradient",
        "orientation": "horizontal",
        "reduceOptions": REDUCE_LAST,
        "showUnfilled": True,
    }
    return p


def table(title, desc, columns, w=24, h=10, sort_by=None, kind=None):
    """columns: (expr, display name, unit); one instant query each, merged."""
    tgts = [
        target(e, ref=chr(ord("A") + i), instant=True, fmt="table")
        for i, (e, _, _) in enumerate(columns)
    ]
    p = base_panel("table", title, desc, "short", tgts, w, h, kind=kind)
    p["fieldConfig"]["defaults"]["custom"] = {"align": "auto", "displayMode": "auto"}
    p["fieldConfig"]["overrides"] = [
        {
            "matcher": {"id": "byName", "options": "Value #%s" % chr(ord("A") + i)},
            "properties": [
                {"id": "displayName", "value": name},
                {"id": "unit", "value": unit},
            ],
        }
        for i, (_, name, unit) in enumerate(columns)
    ]
    p["options"] = {"showHeader": True, "sortBy": sort_by or []}
    p["transformations"] = [
        {"id": "merge", "options": {}},
        {
            "id": "organize",
            "options": {"excludeByName": {"Time": True, "__name__": True}, "renameByName": {}},
        },
    ]
    return p


def cohort_table(title, desc, expr, th, maxv=None):
    """The retention triangle: one instant query by (cohort, age_months),
    pivoted into one row per cohort and one column per age, each cell
    coloured by its value."""
    p = base_panel("table", title, desc, "percentunit",
                   [target(expr, ref="A", instant=True, fmt="table")], 24, 9, minv=0,
                   maxv=maxv, decimals=0, kind="revenue")
    d = p["fieldConfig"]["defaults"]
    d["color"] = {"mode": "thresholds"}
    d["thresholds"] = th
    d["custom"] = {"align": "center", "cellOptions": {"type": "color-background",
                                                      "mode": "basic"}}
    p["fieldConfig"]["overrides"] = [override(
        "byName", "Cohort", ("unit", "string"), ("custom.cellOptions", {"type": "auto"}),
        ("custom.width", 110))]
    p["transformations"] = [
        {"id": "groupingToMatrix", "options": {
            "columnField": "age_months", "rowField": "cohort", "valueField": "Value",
            "emptyValue": "null"}},
        # Columns in age order whatever order the series come in (organize
        # orders by the names before renaming).
        {"id": "organize", "options": {
            "renameByName": {"cohort\\age_months": "Cohort"},
            "indexByName": dict([("cohort\\age_months", 0)] +
                                [(str(a), a + 1) for a in range(S.cohort_months)])}},
    ]
    # Oldest cohort first: its row is the longest, the triangle's top.
    p["options"] = {"showHeader": True, "cellHeight": "sm",
                    "sortBy": [{"desc": False, "displayName": "Cohort"}]}
    return p


def fixed_colors(p, colors):
    """Fixed colours per series name, whatever order the series come in."""
    p["fieldConfig"]["overrides"] += [
        override("byName", name, ("color", {"fixedColor": c, "mode": "fixed"}))
        for name, c in colors.items()
    ]
    return p


def band_colors(p):
    return fixed_colors(p, {"green": "green", "yellow": "yellow", "red": "red",
                            "unknown": "text"})


def row(title, collapsed=False):
    """A collapsible row; the panels after it (up to the next row) are its own."""
    return {"type": "row", "title": title, "collapsed": collapsed, "panels": [],
            "_row": True}


PCT_GOOD_HIGH = thresholds(("red", None), ("yellow", 0.9), ("green", 1.0))
NPS_TH = thresholds(("red", None), ("yellow", 0), ("green", 30))
NRR_TH = scaled("retention", ("red", None), ("yellow", 0.9), ("green", 1.0))
GRR_TH = scaled("retention", ("red", None), ("yellow", 0.85), ("green", 0.95))
LOGO_CHURN_TH = scaled("rate", ("green", None), ("yellow", 0.02), ("red", 0.05))
NET_MRR_CHURN_TH = scaled("rate", ("green", None), ("yellow", 0), ("red", 0.02))

# ---------------------------------------------------------------------------
# Dashboards
# ---------------------------------------------------------------------------


def ds_var():
    return {
        "type": "datasource",
        "name": "datasource",
        "label": "Data source",
        "query": "prometheus",
        "current": {"selected": True, "text": "default", "value": "default"},
        "hide": 0,
        "includeAll": False,
        "multi": False,
        "options": [],
        "refresh": 1,
        "regex": "",
    }


def query_var(name, label, query, multi=True):
    v = {
        "type": "query",
        "name": name,
        "label": label,
        "datasource": DS,
        "definition": query,
        "query": query,
        "refresh": 2,
        "regex": "",
        "sort": 1,
        "hide": 0,
        "multi": multi,
        "includeAll": multi,
        "options": [],
    }
    if multi:
        v["allValue"] = ".+"
        v["current"] = {"selected": True, "text": ["All"], "value": ["$__all"]}
    else:
        v["current"] = {}
    return v


def window_var(windows):
    """The configured windows, shortest first; one at a time: every windowed
    ratio is per window, and summing two windows' numerators is meaningless."""
    default = S.default_window if S.default_window in windows else windows[0]
    return {
        "type": "custom",
        "name": "window",
        "label": "Window",
        "description": "KPI window [t - W, t), as configured in the exporter.",
        "query": ",".join(windows),
        "current": {"selected": True, "text": default, "value": default},
        "options": [{"selected": w == default, "text": w, "value": w} for w in windows],
        "hide": 0,
        "includeAll": False,
        "multi": False,
        "skipUrlSync": False,
    }


def variables(windows):
    sel = S.selector + "," if S.selector else ""
    vs = [
        ds_var(),
        query_var("job", "Job", "label_values(cs_exporter_build_info%s, job)"
                  % ("{%s}" % S.selector if S.selector else "")),
        query_var("instance", "Instance",
                  'label_values(cs_exporter_build_info{%sjob=~"$job"}, instance)' % sel),
    ]
    for d in S.dimensions:
        vs.append(
            query_var(
                d,
                d.replace("_", " ").capitalize(),
                'label_values(cs_customers{job=~"$job",instance=~"$instance"}, %s)' % d,
            )
        )
    if windows:
        vs.append(window_var(windows))
    return vs


def layout(items):
    """Drops the panels of collector kinds that are not configured and the
    rows left empty, flows panels left to right in a 24-column grid, starts
    each row on a line of its own (a collapsed row holds its panels), and
    numbers them."""
    kept = [p for p in items if p.pop("_kind", None) in (None,) + tuple(S.kinds)]
    items = [p for i, p in enumerate(kept)
             if not p.get("_row") or (i + 1 < len(kept) and not kept[i + 1].get("_row"))]
    out = []
    x = y = row_h = 0
    current = None
    for i, p in enumerate(items, 1):
        p["id"] = i
        if p.pop("_row", False):
            y, x, row_h = y + row_h, 0, 0
            p["gridPos"] = {"h": 1, "w": 24, "x": 0, "y": y}
            y += 1
            current = p
            out.append(p)
            continue
        w, h = p.pop("_size")
        if x + w > 24:
            x, y, row_h = 0, y + row_h, 0
        p["gridPos"] = {"h": h, "w": w, "x": x, "y": y}
        x += w
        row_h = max(row_h, h)
        (current["panels"] if current and current["collapsed"] else out).append(p)
    return out


def time_range(window):
    """Three windows, at least a week: room for the trend of a 30d KPI."""
    seconds = max(3 * libconf.duration_seconds(window), 7 * 86400)
    if seconds % 86400 == 0:
        return "now-%dd" % (seconds // 86400)
    return "now-%dh" % -(-seconds // 3600)


def dashboard(uid, title, desc, kinds, panels):
    windows = S.windows_for(kinds)
    return {
        "annotations": {
            "list": [
                {
                    "builtIn": 1,
                    "datasource": {"type": "grafana", "uid": "-- Grafana --"},
                    "enable": True,
                    "hide": True,
                    "iconColor": "rgba(0, 211, 255, 1)",
                    "name": "Annotations & Alerts",
                    "type": "dashboard",
                }
            ]
        },
        "description": desc,
        "editable": True,
        "fiscalYearStartMonth": 0,
        "graphTooltip": 1,
        "id": None,
        "links": [
            {
                "asDropdown": True,
                "icon": "external link",
                "includeVars": True,
                "keepTime": True,
                "tags": ["cs_exporter"],
                "targetBlank": False,
                "title": "Customer success",
                "type": "dashboards",
            }
        ],
        "panels": layout(panels),
        "refresh": "5m" if windows else "1m",
        "schemaVersion": SCHEMA_VERSION,
        "tags": TAGS,
        "templating": {"list": variables(windows)},
        "time": {"from": time_range(S.default_window) if windows else "now-24h", "to": "now"},
        "timepicker": {},
        "timezone": "utc",
        "title": title,
        "uid": uid,
        "version": 1,
        "weekStart": "",
    }


def overview():
    mrr = tot("cs_mrr", by="currency")
    mu = S.money_unit
    panels = [
        row("Now"),
        stat("MRR", "Monthly recurring revenue at the evaluation instant, all selected segments.",
             mu, targets((mrr, "{{currency}}")), change="up", kind="revenue"),
        stat("Paying customers", "Customers with MRR > 0 at the evaluation instant.", "short",
             targets((tot("cs_customers"), "customers")), change="up", kind="revenue"),
        stat("Net revenue retention", "(MRR at window start - churn - contraction + expansion) / "
             "MRR at window start, from summed numerators and denominators. Thresholds follow "
             "the window (90 % and 100 % per 30 days, compounded).", "percentunit",
             targets((nrr(by="window"), "NRR {{window}}")), change="up", per_window=NRR_TH,
             kind="revenue"),
        stat("Logo churn", "Customers churned in the window / paying customers at its start. "
             "Thresholds follow the window (2 % and 5 % per 30 days, compounded).",
             "percentunit", targets((logo_churn(by="window"), "logo churn {{window}}")),
             change="down", per_window=LOGO_CHURN_TH, kind="revenue"),
        stat("NPS", "Net promoter score in points: 100 x (promoters - detractors) / responses.",
             "none", targets((nps(), "NPS")), th=NPS_TH, minv=-100, maxv=100, decimals=1,
             change="up", kind="surveys"),
        stat("CSAT", "Share of CSAT responses scoring 4 or 5.", "percentunit",
             targets((csat(), "CSAT")), minv=0, maxv=1, change="up",
             th=thresholds(("red", None), ("yellow", 0.7), ("green", 0.85)), kind="surveys"),
        row("Trends"),
        timeseries("MRR", "MRR over time, selected segments summed.", mu,
                   targets((mrr, "{{currency}}")), kind="revenue"),
        timeseries("Paying customers", "Paying customers over time.", "short",
                   targets((tot("cs_customers"), "customers")), kind="revenue"),
        timeseries("Revenue retention", "Net and gross revenue retention over the selected window.",
                   "percentunit", targets((nrr(), "NRR"), (nrr(gross=True), "GRR")),
                   kind="revenue"),
        timeseries("Logo churn", "Share of customers at window start that churned in the window.",
                   "percentunit", targets((logo_churn(), "logo churn")), minv=0, kind="revenue"),
        timeseries("NPS", "Net promoter score over the selected window.", "none",
                   targets((nps(), "NPS")), minv=-100, maxv=100, kind="surveys"),
        timeseries("CSAT", "Customer satisfaction over the selected window.", "percentunit",
                   targets((csat(), "CSAT")), minv=0, maxv=1, kind="surveys"),
        row("Health"),
        band_colors(bargauge("Accounts by health band",
                             "Scored accounts (MRR > 0) per health band right now.", "short",
                             targets((tot("cs_accounts_by_health", by="band"), "{{band}}"),
                                     instant=True), w=8, kind="health")),
        band_colors(timeseries("Health bands", "Scored accounts per health band over time.", "short",
                               targets((tot("cs_accounts_by_health", by="band"), "{{band}}")),
                               w=16, stack=True, kind="health")),
    ]
    return dashboard("cs-overview", "Customer success / Overview",
                     "Headline customer-success KPIs from cs_exporter.",
                     ["revenue", "surveys", "health"], panels)


MOVEMENT_COLORS = {"new": "green", "expansion": "semi-dark-green", "reactivation": "blue",
                   "contraction": "orange", "churn": "red", "net": "text"}


def revenue():
    mu = S.money_unit
    gains = 'type=~"new|reactivation|expansion"'
    losses = 'type=~"contraction|churn"'
    moves_in = tot("cs_mrr_movement", gains, by="type", win=True)
    moves_out = tot("cs_mrr_movement", losses, by="type", win=True)
    net = "%s - %s" % (tot("cs_mrr_movement", gains, win=True),
                       tot("cs_mrr_movement", losses, win=True))
    seg_by = by_dims() or "instance"
    clv = tot("cs_customer_lifetime_value", by=seg_by, win=True)
    # ChartMogul/Baremetrics-style movement bars: one bar per window-long
    # period (the query step is the window, so the bars do not overlap),
    # gains stacked up, losses down, the net change as a line.
    bars = timeseries("MRR movements per $window", "MRR gained (new, expansion, reactivation) "
                      "above zero and lost (contraction, churn) below, one bar per $window "
                      "period ending at the bar; the line is the net change. Zoom out for "
                      "more periods.", mu,
                      targets((moves_in, "{{type}}"), ("-" + moves_out, "{{type}}"),
                              (net, "net")), w=16, h=9, stack=True, bars=True, kind="revenue")
    bars["interval"] = "$window"
    bars["fieldConfig"]["overrides"].append(override(
        "byName", "net", ("custom.drawStyle", "line"), ("custom.lineWidth", 2),
        ("custom.stacking", {"group": "net", "mode": "none"}), ("custom.fillOpacity", 0),
        ("custom.showPoints", "always")))
    fixed_colors(bars, MOVEMENT_COLORS)
    bridge = bargauge("MRR bridge", "From MRR at the start of the window, through each "
                      "movement, to MRR now (losses negative).", mu,
                      targets((tot("cs_mrr_window_start", win=True), "start of window"),
                              (moves_in, "+ {{type}}"), ("-" + moves_out, "- {{type}}"),
                              (tot("cs_mrr"), "now"), instant=True), w=8, h=9, kind="revenue")
    bridge["options"]["displayMode"] = "basic"
    fixed_colors(bridge, {"+ new": "green", "+ expansion": "semi-dark-green",
                          "+ reactivation": "blue", "- contraction": "orange",
                          "- churn": "red", "start of window": "text", "now": "text"})
    panels = [
        row("Now"),
        stat("MRR", "MRR at the evaluation instant.", mu,
             targets((tot("cs_mrr", by="currency"), "{{currency}}")), change="up",
             kind="revenue"),
        stat("ARPA", "Average revenue per account: summed MRR / summed paying customers.",
             mu, targets((arpa(), "ARPA")), change="up", kind="revenue"),
        stat("NRR", "Net revenue retention over the window. Thresholds follow the window.",
             "percentunit", targets((nrr(by="window"), "NRR {{window}}")), change="up",
             per_window=NRR_TH, kind="revenue"),
        stat("GRR", "Gross revenue retention over the window. Thresholds follow the window.",
             "percentunit", targets((nrr(by="window", gross=True), "GRR {{window}}")),
             change="up", per_window=GRR_TH, kind="revenue"),
        stat("Net MRR churn", "(churn + contraction - expansion - reactivation) / MRR at window "
             "start; negative is net expansion. Thresholds follow the window.", "percentunit",
             targets((mrr_churn(by="window"), "net MRR churn {{window}}")), change="down",
             per_window=NET_MRR_CHURN_TH, kind="revenue"),
        stat("Quick ratio", "(new + reactivation + expansion) / (churn + contraction) MRR.",
             "none", targets((quick_ratio(), "quick ratio")), decimals=2, change="up",
             th=thresholds(("red", None), ("yellow", 1), ("green", 4)), kind="revenue"),
        row("MRR movements"),
        bars,
        bridge,
        timeseries("Customer movements", "Customers per movement class over the window.", "short",
                   targets((tot("cs_customer_movements", by="type", win=True), "{{type}}")),
                   kind="revenue"),
        timeseries("Quick ratio", "MRR gained / MRR lost; above 1 the base grows.", "none",
                   targets((quick_ratio(), "quick ratio")), minv=0, kind="revenue"),
        row("Retention and churn"),
        timeseries("MRR churn", "Net and gross MRR churn over the window.", "percentunit",
                   targets((mrr_churn(), "net"), (mrr_churn(net=False), "gross")),
                   kind="revenue"),
        timeseries("Revenue retention", "Net and gross revenue retention.", "percentunit",
                   targets((nrr(), "NRR"), (nrr(gross=True), "GRR")), kind="revenue"),
        row("MRR, ARPA and lifetime value"),
    ]
    panels += payment_risk() + cohorts()
    if dims():
        d0 = dims()[0]
        panels.append(timeseries("MRR by %s" % d0, "MRR stacked by %s." % d0, mu,
                                 targets((tot("cs_mrr", by=d0), "{{%s}}" % d0)),
                                 stack=True, kind="revenue"))
    panels += [
        timeseries("ARPA", "Average revenue per paying account.", mu,
                   targets((arpa(), "ARPA")), kind="revenue"),
        timeseries("Customer lifetime value by segment", "CLV per segment as exported (ARPA x "
                   "gross margin / monthly logo churn). No total: the margin is configuration, "
                   "not a metric, and CLV is undefined where churn is 0.", mu,
                   targets((clv, legend(seg_by))), kind="revenue"),
        timeseries("Trial conversion", "Trials converted / trials ended in the window.",
                   "percentunit",
                   targets((div(tot("cs_trials_ended", 'result="converted"', win=True),
                                tot("cs_trials_ended", win=True)), "conversion")),
                   minv=0, maxv=1, kind="trials"),
    ]
    if dims():
        bd = by_dims()
        panels += [
            row("Segments"),
            table("Segments", "Per-segment revenue KPIs right now for the selected window.", [
                (tot("cs_mrr", by=bd), "MRR", mu),
                (tot("cs_customers", by=bd), "Customers", "short"),
                (arpa(bd), "ARPA", mu),
                (nrr(bd), "NRR", "percentunit"),
                (nrr(bd, gross=True), "GRR", "percentunit"),
                (logo_churn(bd), "Logo churn", "percentunit"),
                (clv, "CLV", mu),
            ], sort_by=[{"desc": True, "displayName": "MRR"}], kind="revenue"),
        ]
    return dashboard("cs-revenue", "Customer success / Revenue",
                     "MRR, its movements, retention and per-segment revenue KPIs.",
                     ["revenue", "trials"], panels)


def payment_risk():
    """Past-due MRR, and churn split into involuntary (failed payments: the
    customer's last counted rows were all past_due) and voluntary."""
    mu = S.money_unit
    k = "revenue"
    inv = tot("cs_mrr_involuntary_churn", win=True)
    churn = tot("cs_mrr_movement", 'type="churn"', win=True)
    inv_n = tot("cs_customers_involuntary_churned", win=True)
    churned_n = tot("cs_customer_movements", 'type="churned"', win=True)
    split = timeseries("Voluntary and involuntary churn per $window", "Churned MRR, one bar "
                       "per $window period ending at the bar: involuntary (the customer's "
                       "last counted subscription rows were all past_due: failed payments) "
                       "and voluntary (the rest of the churn movement).", mu,
                       targets((inv, "involuntary"), ("%s - %s" % (churn, inv), "voluntary")),
                       stack=True, bars=True, kind=k)
    split["interval"] = "$window"
    fixed_colors(split, {"involuntary": "orange", "voluntary": "red"})
    return [
        row("Payment risk"),
        stat("Past-due MRR", "The part of MRR now that comes from subscription rows with "
             "status past_due (dunning). It still counts in MRR.", mu,
             targets((tot("cs_mrr_past_due", by="currency"), "{{currency}}")), change="down",
             kind=k),
        stat("Past-due share of MRR", "Past-due MRR / MRR, selected segments.", "percentunit",
             targets((div(tot("cs_mrr_past_due"), tot("cs_mrr")), "past due")), minv=0,
             change="down", th=thresholds(("green", None), ("yellow", 0.03), ("red", 0.06)),
             kind=k),
        stat("Involuntary churn", "MRR lost in the window to failed payments.", mu,
             targets((inv, "involuntary")), change="down", kind=k),
        stat("Involuntary share of churn", "Involuntary / all churned MRR in the window: "
             "the share dunning and card updates could win back.", "percentunit",
             targets((div(inv, churn), "involuntary share")), minv=0, maxv=1, change="down",
             kind=k),
        split,
        timeseries("Customers churned, voluntary and involuntary", "Churned customers over "
                   "the window, split by why.", "short",
                   targets((inv_n, "involuntary"), ("%s - %s" % (churned_n, inv_n),
                                                    "voluntary")), kind=k),
        timeseries("Past-due MRR", "Past-due MRR over time.", mu,
                   targets((tot("cs_mrr_past_due", by="currency"), "{{currency}}")), w=24,
                   kind=k),
    ]


def cohorts():
    """The classic retention triangle (ChartMogul, Baremetrics): cohorts by
    month of first payment, one column per month of age."""
    if not S.cohort_months:
        return []
    cd = S.cohort_dimensions
    c = lambda metric, *mm, by=None: tot(metric, *mm, by=by, seg=cd)
    logo = "%s\n/ on (cohort) group_left () (%s > 0)" % (
        c("cs_cohort_retained_customers", by="cohort, age_months"),
        c("cs_cohort_customers", by="cohort"))
    rev = "%s\n/ on (cohort) group_left () (%s > 0)" % (
        c("cs_cohort_mrr", by="cohort, age_months"),
        c("cs_cohort_mrr", 'age_months="0"', by="cohort"))
    dims_note = (" Cohort families carry %s." % ", ".join(cd) if cd else
                 " Cohort families carry no segment label (cohorts.dimensions = []).")
    age = (" Rows: the month (UTC) of each customer's first payment, the last %d complete "
           "months; column a: the end of the cohort's a-th month (0: the end of the first)."
           % S.cohort_months + dims_note)
    return [
        row("Retention cohorts"),
        cohort_table("Logo retention by cohort", "Customers of the cohort paying at each age / "
                     "customers of the cohort, summed over the selected segments." + age,
                     logo, thresholds(("red", None), ("orange", 0.6), ("yellow", 0.75),
                                      ("green", 0.9)), maxv=1),
        cohort_table("Revenue retention by cohort", "The cohort's MRR at each age / its MRR at "
                     "age 0 (above 100 %: expansion outgrew churn), summed over the selected "
                     "segments." + age, rev,
                     thresholds(("red", None), ("orange", 0.7), ("yellow", 0.9),
                                ("green", 1.0))),
        bargauge("Cohort sizes", "Customers per cohort (month of first payment)." + dims_note,
                 "short", targets((c("cs_cohort_customers", by="cohort"), "{{cohort}}"),
                                  instant=True), w=24, kind="revenue"),
    ]


def renewals():
    """MRR and accounts up for renewal within each horizon, by health band."""
    mu = S.money_unit
    k = "health"
    h0 = S.horizons[0]
    desc = ("Accounts whose renewal date (the accounts dataset's renewal_at) falls in "
            "[now, now + horizon), by health band now, horizons %s; a horizon includes the "
            "shorter ones. Overdue renewals (in the past) count in none."
            % ", ".join(S.horizons))
    bars = base_panel("barchart", "MRR up for renewal by health band", desc, mu,
                      [target(tot("cs_renewal_mrr", by="horizon, band"), ref="A",
                              instant=True, fmt="table")], 12, 9, kind=k)
    bars["fieldConfig"]["defaults"]["custom"] = {"fillOpacity": 80, "lineWidth": 1,
                                                 "gradientMode": "none"}
    order = {"horizon\\band": 0, "red": 1, "yellow": 2, "green": 3, "unknown": 4}
    bars["transformations"] = [
        {"id": "groupingToMatrix", "options": {
            "columnField": "band", "rowField": "horizon", "valueField": "Value",
            "emptyValue": "zero"}},
        {"id": "organize", "options": {"renameByName": {"horizon\\band": "Horizon"},
                                       "indexByName": order}},
    ]
    if sorted(S.horizons) == S.horizons:  # text order is duration order
        bars["transformations"].append(
            {"id": "sortBy", "options": {"sort": [{"field": "Horizon", "desc": False}]}})
    bars["options"] = {
        "orientation": "horizontal", "stacking": "normal", "xField": "Horizon",
        "showValue": "auto", "barWidth": 0.7, "groupWidth": 0.7,
        "legend": {"displayMode": "list", "placement": "bottom", "showLegend": True},
        "tooltip": {"mode": "multi", "sort": "desc"},
    }
    band_colors(bars)
    red_share = div(tot("cs_renewal_mrr", 'horizon="%s"' % h0, 'band="red"'), tot("cs_mrr"))
    return [
        row("Renewals"),
        stat("Red MRR renewing within %s" % h0, "MRR of red-band accounts up for renewal "
             "within %s, as a share of all MRR (CustomerSuccessRenewalAtRisk fires above "
             "5 %%)." % h0, "percentunit", targets((red_share, "red renewing")), w=6, minv=0,
             change=None, th=thresholds(("green", None), ("yellow", 0.02), ("red", 0.05)),
             kind=k),
        stat("MRR renewing within %s" % h0, "MRR of all accounts up for renewal within %s."
             % h0, mu, targets((tot("cs_renewal_mrr", 'horizon="%s"' % h0), "renewing")),
             w=6, change=None, kind=k),
        bars,
        bargauge("Accounts up for renewal", desc, "short",
                 targets((tot("cs_renewal_accounts", by="horizon, band"),
                          "{{horizon}} {{band}}"), instant=True), w=24, h=6, kind=k),
    ]


def health_movement():
    """Band changes between consecutive health evaluations (a counter)."""
    k = "health"
    tr = lambda *mm: m("cs_health_band_transitions_total", *mm)
    moves = base_panel("table", "Band transitions, last day", "Accounts that changed band "
                       "between two consecutive health evaluations in the last day, by "
                       "from and to band (unscored: not scored in one of the two).", "short",
                       [target("sum by (from, to) (increase(%s[1d]))" % tr(), ref="A",
                               instant=True, fmt="table")], 12, 9, decimals=0, kind=k)
    moves["fieldConfig"]["defaults"]["custom"] = {"align": "auto", "displayMode": "auto"}
    moves["fieldConfig"]["overrides"] = [override("byName", "Value", ("displayName",
                                                                      "Accounts"))]
    moves["transformations"] = [{"id": "organize", "options": {
        "excludeByName": {"Time": True}, "renameByName": {"from": "From", "to": "To"},
        "indexByName": {"from": 0, "to": 1, "Value": 2}}}]
    moves["options"] = {"showHeader": True, "sortBy": [{"desc": True,
                                                        "displayName": "Accounts"}]}
    return [
        row("Health movement"),
        stat("Moved to red, last day", "Accounts whose band became red between two health "
             "evaluations in the last 24 hours (CustomerSuccessAccountsTurningRed fires "
             "above 10).", "short",
             targets(("sum(increase(%s[1d]))" % tr('to="red"'), "to red")), w=6,
             change=None, decimals=0,
             th=thresholds(("green", None), ("yellow", 5), ("red", 11)), kind=k),
        stat("Moved out of red, last day", "Accounts whose band changed from red to "
             "another band in the last 24 hours.", "short",
             targets(("sum(increase(%s[1d]))" % tr('from="red"'), "out of red")), w=6,
             change=None, decimals=0, kind=k),
        moves,
        band_colors(timeseries("Band changes per hour, by new band", "Accounts entering "
                               "each band (or leaving the scored set) per hour.", "short",
                               targets(("sum by (to) (increase(%s[1h]))" % tr(), "{{to}}")),
                               w=24, bars=True, stack=True, kind=k)),
    ]


def voice():
    nps_resp = tot("cs_survey_responses", 'survey="nps"', by="category", win=True)
    nps_all = tot("cs_survey_responses", 'survey="nps"', win=True)
    k = "surveys"
    panels = [
        row("Now"),
        stat("NPS", "Net promoter score in points (-100 to 100).", "none", targets((nps(), "NPS")),
             w=6, th=NPS_TH, minv=-100, maxv=100, decimals=1, change="up", kind=k),
        stat("CSAT", "Share of CSAT responses scoring 4-5.", "percentunit",
             targets((csat(), "CSAT")), w=6, minv=0, maxv=1, change="up",
             th=thresholds(("red", None), ("yellow", 0.7), ("green", 0.85)), kind=k),
        stat("CES", "Customer effort score: mean of 1-7 answers (higher is easier).", "none",
             targets((ces(), "CES")), w=6, minv=1, maxv=7, decimals=2, change="up", kind=k),
        stat("Responses", "Survey responses counted in the window, all survey types.", "short",
             targets((tot("cs_survey_responses", win=True), "responses")), w=6, kind=k),
        row("Trends"),
        timeseries("NPS", "Net promoter score over time.", "none", targets((nps(), "NPS")),
                   minv=-100, maxv=100, kind=k),
        timeseries("NPS respondents", "Share of promoters, passives and detractors.",
                   "percentunit",
                   targets(("%s / ignoring(category) group_left () (%s > 0)" % (nps_resp, nps_all),
                            "{{category}}")), stack=True, minv=0, maxv=1, kind=k),
        timeseries("CSAT", "Customer satisfaction over time.", "percentunit",
                   targets((csat(), "CSAT")), w=8, minv=0, maxv=1, kind=k),
        timeseries("CES", "Customer effort score over time.", "none", targets((ces(), "CES")),
                   w=8, minv=1, maxv=7, kind=k),
        timeseries("Response volume", "Responses per survey type in the window.", "short",
                   targets((tot("cs_survey_responses", by="survey", win=True), "{{survey}}")),
                   w=8, bars=True, kind=k),
    ]
    for d in dims():
        panels.append(row("By %s" % d, collapsed=True))
        panels.append(timeseries("NPS by %s" % d, "NPS per %s from summed counts." % d, "none",
                                 targets((nps(d), "{{%s}}" % d)), minv=-100, maxv=100, kind=k))
        panels.append(timeseries("CSAT by %s" % d, "CSAT per %s from summed counts." % d,
                                 "percentunit", targets((csat(d), "{{%s}}" % d)), minv=0, maxv=1,
                                 kind=k))
    return dashboard("cs-voice", "Customer success / Voice of the customer",
                     "NPS, CSAT, CES and survey volumes.", [k], panels)


def adoption():
    ttv = tot("cs_time_to_value_seconds_bucket", by="le", win=True)
    ttv_n = tot("cs_time_to_value_seconds_bucket", 'le="+Inf"', win=True)
    feat = "%s / ignoring(feature) group_left () (%s > 0)" % (
        tot("cs_feature_active_users", by="feature", win=True),
        tot("cs_active_users", win=True),
    )
    heat = base_panel("heatmap", "Time to value", "Accounts started in the window by time from "
                      "start to first value (gauge histogram buckets, de-accumulated).", "s",
                      [target(ttv, "{{le}}", fmt="heatmap")], 12, 9, kind="adoption")
    heat["options"] = {
        "calculate": False,
        "cellGap": 1,
        "color": {"exponent": 0.5, "mode": "scheme", "scheme": "Oranges", "steps": 64},
        "legend": {"show": True},
        "rowsFrame": {"layout": "le"},
        "tooltip": {"show": True, "yHistogram": True},
        "yAxis": {"axisPlacement": "left", "unit": "s"},
    }
    hist = bargauge("Health score distribution", "Scored accounts per health-score bucket of "
                    "10 points (de-accumulated).", "short",
                    [target(tot("cs_health_score_bucket", by="le"), "{{le}}", instant=True,
                            fmt="heatmap")], w=8, kind="health")
    risk = table("At-risk accounts", "The lowest-scored accounts over all segments (bounded "
                 "list from the exporter), lowest first, with each account's contract "
                 "renewal date (empty: none on record).",
                 [("sort(%s)" % m("cs_at_risk_account_score"), "Health score", "none")],
                 w=16, sort_by=[{"desc": False, "displayName": "Health score"}], kind="health")
    risk["transformations"][1]["options"]["excludeByName"].update(
        {"job": True, "instance": True})
    risk["transformations"][1]["options"]["renameByName"].update(
        {"renewal_at": "Renewal date"})
    features = ", ".join(S.features)
    targets_text = "; ".join(
        "%s %s %s" % (n, ">=" if d != "at_most" else "<=", t) for n, t, d in S.outcomes)
    panels = [
        row("Adoption"),
        stat("License utilisation", "Active users of accounts with seats / seats purchased.",
             "percentunit", targets((utilisation(), "utilisation")), minv=0, maxv=1,
             change="up", th=thresholds(("red", None), ("yellow", 0.5), ("green", 0.8)),
             kind="adoption"),
        stat("Active users", "Distinct active users in the window, all accounts.", "short",
             targets((tot("cs_active_users", win=True), "users")), change="up",
             kind="adoption"),
        stat("Seats", "Seats purchased.", "short", targets((tot("cs_seats"), "seats")),
             change="up", kind="adoption"),
        stat("Median time to value", "Median time from start to first value, accounts started "
             "in the window.", "s", targets((quantile("0.5", ttv, ttv_n), "p50")),
             change="down", kind="adoption"),
        stat("Pending time to value", "Accounts started in the window with no value yet.",
             "short", targets((tot("cs_time_to_value_pending_accounts", win=True), "pending")),
             change="down", kind="adoption"),
        stat("Mean health score", "Mean health score of scored accounts (0-100).", "none",
             targets((div(tot("cs_health_score_gsum"), tot("cs_health_score_gcount")),
                      "mean")), minv=0, maxv=100, decimals=1, change="up",
             th=thresholds(("red", None), ("yellow", 50), ("green", 75)), kind="health"),
        timeseries("License utilisation", "Seats used / seats over time.", "percentunit",
                   targets((utilisation(), "utilisation")), minv=0, kind="adoption"),
        timeseries("Seats", "Seats purchased and seats used (active users of seated accounts).",
                   "short", targets((tot("cs_seats"), "purchased"),
                                    (tot("cs_seats_used", win=True), "used")), kind="adoption"),
    ]
    if S.features:
        panels += [
            bargauge("Feature adoption", "Distinct users of each feature / distinct active "
                     "users. Features: %s." % features, "percentunit",
                     targets((feat, "{{feature}}"), instant=True), minv=0, maxv=1,
                     kind="adoption"),
            timeseries("Feature adoption", "Feature adoption over time. Features: %s."
                       % features, "percentunit", targets((feat, "{{feature}}")), minv=0,
                       maxv=1, kind="adoption"),
        ]
    panels += [
        row("Time to value"),
        heat,
        timeseries("Time to value percentiles", "Percentiles over the gauge-histogram buckets; "
                   "resolution is limited to the bucket edges (1d ... 90d).", "s",
                   targets((quantile("0.5", ttv, ttv_n), "p50"),
                           (quantile("0.9", ttv, ttv_n), "p90")), h=9, kind="adoption"),
        row("Health"),
        hist,
        band_colors(timeseries("Health bands", "Scored accounts per health band.", "short",
                               targets((tot("cs_accounts_by_health", by="band"), "{{band}}")),
                               w=16, stack=True, kind="health")),
        risk,
    ]
    panels += renewals() + health_movement()
    if S.outcomes:
        panels += [
            row("Outcomes"),
            bargauge("Outcome attainment", "Accounts meeting each business outcome's target / "
                     "accounts with a value. Targets: %s." % targets_text, "percentunit",
                     targets((div(
                         tot("cs_outcome_accounts", 'target="met"', by="outcome", win=True),
                         tot("cs_outcome_accounts", by="outcome", win=True)), "{{outcome}}"),
                         instant=True), w=8, minv=0, maxv=1, kind="outcomes"),
            timeseries("Outcome attainment", "Outcome attainment over time. Targets: %s."
                       % targets_text, "percentunit",
                       targets((div(
                           tot("cs_outcome_accounts", 'target="met"', by="outcome", win=True),
                           tot("cs_outcome_accounts", by="outcome", win=True)), "{{outcome}}")),
                       w=16, minv=0, maxv=1, kind="outcomes"),
        ]
    return dashboard("cs-adoption", "Customer success / Adoption and health",
                     "License utilisation, feature adoption, time to value, account health "
                     "and business outcomes.", ["adoption", "health", "outcomes"], panels)


def support():
    k = "support"
    panels = [
        row("Now"),
        stat("Tickets opened", "Tickets opened in the window.", "short",
             targets((tot("cs_tickets", 'state="opened"', win=True), "opened")), w=6,
             change="down", kind=k),
        stat("Tickets escalated", "Tickets opened in the window and escalated.", "short",
             targets((tot("cs_tickets", 'state="escalated"', win=True), "escalated")), w=6,
             change="down", kind=k),
        stat("Escalation rate", "Escalated / opened, tickets opened in the window.",
             "percentunit", targets((escalation(), "escalation")), w=6, change="down",
             th=thresholds(("green", None), ("yellow", 0.1), ("red", 0.2)), kind=k),
        stat("Mean resolution time", "Mean time to resolve, tickets resolved in the window.",
             "s", targets((resolution(), "resolution")), w=6, change="down", kind=k),
        row("Trends"),
        timeseries("Tickets", "Tickets opened, escalated and resolved in the window.", "short",
                   targets((tot("cs_tickets", by="state", win=True), "{{state}}")), w=24,
                   kind=k),
        timeseries("Escalation rate", "Escalated / opened.", "percentunit",
                   targets((escalation(), "escalation")), minv=0, kind=k),
        timeseries("Mean resolution time", "Summed resolution time / resolved tickets.", "s",
                   targets((resolution(), "resolution")), minv=0, kind=k),
    ]
    for d in dims():
        panels.append(row("By %s" % d, collapsed=True))
        panels.append(timeseries("Escalation rate by %s" % d, "Escalation rate per %s." % d,
                                 "percentunit", targets((escalation(d), "{{%s}}" % d)), minv=0,
                                 kind=k))
        panels.append(timeseries("Resolution time by %s" % d, "Mean resolution time per %s." % d,
                                 "s", targets((resolution(d), "{{%s}}" % d)), minv=0, kind=k))
    return dashboard("cs-support", "Customer success / Support",
                     "Support load, escalations and resolution time.", [k], panels)


def exporter():
    e = lambda metric, *mm: m(metric, *mm, seg=False)
    state = base_panel("state-timeline", "Collector status", "1 when the collector's last run "
                       "succeeded.", "none",
                       targets((e("cs_collector_up"), "{{instance}} {{collector}}")), 24, 6)
    state["fieldConfig"]["defaults"]["mappings"] = [
        {"type": "value", "options": {
            "0": {"color": "red", "index": 0, "text": "failing"},
            "1": {"color": "green", "index": 1, "text": "ok"}}}
    ]
    state["fieldConfig"]["defaults"]["color"] = {"mode": "thresholds"}
    state["fieldConfig"]["defaults"]["thresholds"] = thresholds(("red", None), ("green", 1))
    state["options"] = {"mergeValues": True, "showValue": "auto", "rowHeight": 0.9,
                        "legend": {"displayMode": "list", "placement": "bottom",
                                   "showLegend": True}}
    build = table("Build", "Version and revision of each exporter instance.",
                  [(e("cs_exporter_build_info"), "Info", "none")], w=12, h=5)
    build["transformations"][1]["options"]["excludeByName"].update({"Value #A": True})
    panels = [
        row("Status"),
        stat("Scrape up", "Whether Prometheus can scrape the exporter.", "none",
             targets(("min(%s)" % m("up", seg=False), "up")), w=4, h=5, change=None,
             th=thresholds(("red", None), ("green", 1))),
        stat("Collectors failing", "Collectors whose last run failed.", "short",
             targets(("count(%s == 0) or vector(0)" % e("cs_collector_up"), "failing")), w=4, h=5,
             change=None, th=thresholds(("green", None), ("red", 1))),
        stat("Last config reload", "1 when the last configuration reload succeeded.", "none",
             targets(("min(%s)" % e("cs_config_last_reload_successful"), "reload ok")), w=4, h=5,
             change=None, th=thresholds(("red", None), ("green", 1))),
        build,
        state,
        row("Collectors"),
        timeseries("Time since last success", "Seconds since each collector last succeeded; "
                   "CustomerSuccessDataStale fires above max(2 x interval + timeout, "
                   "300 s) of the collector.", "s",
                   targets(("time() - %s" % e("cs_collector_last_success_timestamp_seconds"),
                            "{{instance}} {{collector}}"))),
        timeseries("Collector duration", "Duration of each collector's last run.", "s",
                   targets((e("cs_collector_duration_seconds"), "{{instance}} {{collector}}"))),
        timeseries("Collector runs and failures", "Runs and failed runs per collector in the "
                   "last hour.", "short",
                   targets(("sum by (collector) (increase(%s[1h]))" % e("cs_collector_runs_total"),
                            "runs {{collector}}"),
                           ("sum by (collector) (increase(%s[1h]))"
                            % e("cs_collector_failures_total"), "failures {{collector}}"))),
        row("Data quality"),
        timeseries("Rejected rows", "Rows skipped for breaking the dataset contract, per second, "
                   "by dataset and reason. A bad row is counted again on every run.", "short",
                   targets(("sum by (dataset, reason) (rate(%s[$__rate_interval]))"
                            % e("cs_rows_rejected_total"), "{{dataset}} {{reason}}"))),
        timeseries("Folded segments", "Segments folded into `other` by the cardinality cap, in "
                   "the last hour.", "short",
                   targets(("sum by (family) (increase(%s[1h]))" % e("cs_series_dropped_total"),
                            "{{family}}"))),
        row("Process", collapsed=True),
        timeseries("Resident memory", "Resident set size of the exporter process.", "bytes",
                   targets((e("process_resident_memory_bytes"), "{{instance}}"))),
        timeseries("CPU", "CPU seconds used per second by the exporter process.", "short",
                   targets(("rate(%s[$__rate_interval])" % e("process_cpu_seconds_total"),
                            "{{instance}}"))),
    ]
    return dashboard("cs-exporter", "Customer success / Exporter",
                     "Health of cs_exporter itself: collectors, rejected rows, cardinality, "
                     "reloads.", [], panels)


# (file name, function, collector kinds it needs: rendered when any is configured)
DASHBOARDS = [
    ("cs-overview.json", overview, ["revenue", "surveys", "health"]),
    ("cs-revenue.json", revenue, ["revenue", "trials"]),
    ("cs-voice.json", voice, ["surveys"]),
    ("cs-adoption.json", adoption, ["adoption", "health", "outcomes"]),
    ("cs-support.json", support, ["support"]),
    ("cs-exporter.json", exporter, None),
]

# ---------------------------------------------------------------------------
# Recording rules
# ---------------------------------------------------------------------------

def recording_rules(level, dims):
    """Rules for one aggregation level: the job (every segment of an exporter
    instance) or one segment dimension. instance is kept at every level: two
    instances read different databases, or the same one twice, and adding
    them up would be wrong either way."""
    by = ", ".join(["job", "instance"] + dims)
    on = "on (%s)" % by
    L = level
    rules = []

    def rec(name, expr, labels=None):
        r = {"record": "%s:%s" % (L, name), "expr": expr}
        if labels:
            r["labels"] = labels
        rules.append(r)

    def sum_of(metric, *extra):
        sel = "{%s}" % S.selector if S.selector else ""
        return "sum by (%s) (%s%s)" % (", ".join([by] + list(extra)), metric, sel)

    def part(name, matcher, drop):
        return "sum without (%s) (%s:%s{%s})" % (drop, L, name, matcher)

    # revenue
    rec("cs_mrr:sum", sum_of("cs_mrr", "currency"))
    rec("cs_mrr_window_start:sum", sum_of("cs_mrr_window_start", "currency", "window"))
    rec("cs_mrr_movement:sum", sum_of("cs_mrr_movement", "currency", "window", "type"))
    start = "%s:cs_mrr_window_start:sum" % L
    lost = part("cs_mrr_movement:sum", 'type=~"churn|contraction"', "type")
    rec("cs_net_revenue_retention:ratio", "(%s - %s + %s)\n/ (%s > 0)" % (
        start, lost, part("cs_mrr_movement:sum", 'type="expansion"', "type"), start))
    rec("cs_gross_revenue_retention:ratio", "(%s - %s)\n/ (%s > 0)" % (start, lost, start))
    rec("cs_net_mrr_churn:ratio", "(%s - %s)\n/ (%s > 0)" % (
        lost, part("cs_mrr_movement:sum", 'type=~"expansion|reactivation"', "type"), start))
    rec("cs_gross_mrr_churn:ratio", "%s\n/ (%s > 0)" % (lost, start))
    rec("cs_quick:ratio", "%s\n/ (%s > 0)" % (
        part("cs_mrr_movement:sum", 'type=~"new|reactivation|expansion"', "type"), lost))
    rec("cs_customers:sum", sum_of("cs_customers"))
    rec("cs_customers_window_start:sum", sum_of("cs_customers_window_start", "window"))
    rec("cs_customer_movements:sum", sum_of("cs_customer_movements", "window", "type"))
    cstart = "(%s:cs_customers_window_start:sum > 0)" % L
    rec("cs_customer_churn:ratio", "%s\n/ %s" % (
        part("cs_customer_movements:sum", 'type="churned"', "type"), cstart))
    rec("cs_customer_retention:ratio", "(%s:cs_customers:sum - %s group_right %s)\n/ %s" % (
        L, on, part("cs_customer_movements:sum", 'type=~"new|reactivated"', "type"), cstart))
    rec("cs_upsell:ratio", "%s\n/ %s" % (
        part("cs_customer_movements:sum", 'type="expanded"', "type"), cstart))
    # payment risk (parts of MRR and of the churn movement)
    rec("cs_mrr_past_due:sum", sum_of("cs_mrr_past_due", "currency"))
    rec("cs_mrr_involuntary_churn:sum",
        sum_of("cs_mrr_involuntary_churn", "currency", "window"))
    rec("cs_customers_involuntary_churned:sum",
        sum_of("cs_customers_involuntary_churned", "window"))
    rec("cs_arpa:ratio", "%s:cs_mrr:sum / %s group_left () (%s:cs_customers:sum > 0)" % (L, on, L))
    # trials
    rec("cs_trials_ended:sum", sum_of("cs_trials_ended", "window", "result"))
    rec("cs_trial_conversion:ratio", "%s\n/ (sum without (result) (%s:cs_trials_ended:sum) > 0)" % (
        part("cs_trials_ended:sum", 'result="converted"', "result"), L))
    # surveys
    rec("cs_survey_responses:sum", sum_of("cs_survey_responses", "window", "survey", "category"))

    def resp(matcher):
        return part("cs_survey_responses:sum", matcher, "survey, category")

    rec("cs_nps:score", "100 * (%s - %s)\n/ (%s > 0)" % (
        resp('survey="nps",category="promoter"'), resp('survey="nps",category="detractor"'),
        resp('survey="nps"')))
    rec("cs_csat:ratio", "%s\n/ (%s > 0)" % (
        resp('survey="csat",category="satisfied"'), resp('survey="csat"')))
    rec("cs_ces_points:sum", sum_of("cs_ces_points", "window"))
    rec("cs_ces:mean", "%s:cs_ces_points:sum\n/ (%s > 0)" % (L, resp('survey="ces"')))
    # adoption
    rec("cs_active_users:sum", sum_of("cs_active_users", "window"))
    rec("cs_seats:sum", sum_of("cs_seats"))
    rec("cs_seats_used:sum", sum_of("cs_seats_used", "window"))
    rec("cs_license_utilization:ratio",
        "%s:cs_seats_used:sum / %s group_left () (%s:cs_seats:sum > 0)" % (L, on, L))
    rec("cs_feature_active_users:sum", sum_of("cs_feature_active_users", "window", "feature"))
    rec("cs_feature_adoption:ratio",
        "%s:cs_feature_active_users:sum\n/ on (%s, window) group_left () (%s:cs_active_users:sum > 0)"
        % (L, by, L))
    rec("cs_time_to_value_seconds_bucket:sum",
        sum_of("cs_time_to_value_seconds_bucket", "window", "le"))
    rec("cs_time_to_value_pending_accounts:sum",
        sum_of("cs_time_to_value_pending_accounts", "window"))
    # support
    rec("cs_tickets:sum", sum_of("cs_tickets", "window", "state"))
    rec("cs_ticket_escalation:ratio", "%s\n/ (%s > 0)" % (
        part("cs_tickets:sum", 'state="escalated"', "state"),
        part("cs_tickets:sum", 'state="opened"', "state")))
    rec("cs_ticket_resolution_time_seconds:sum",
        sum_of("cs_ticket_resolution_time_seconds", "window"))
    rec("cs_ticket_resolution_seconds:mean", "%s:cs_ticket_resolution_time_seconds:sum\n/ (%s > 0)"
        % (L, part("cs_tickets:sum", 'state="resolved"', "state")))
    # outcomes
    rec("cs_outcome_value:sum", sum_of("cs_outcome_value", "window", "outcome"))
    rec("cs_outcome_accounts:sum", sum_of("cs_outcome_accounts", "window", "outcome", "target"))
    rec("cs_outcome_attainment:ratio", "%s\n/ (sum without (target) (%s:cs_outcome_accounts:sum) > 0)"
        % (part("cs_outcome_accounts:sum", 'target="met"', "target"), L))
    # health
    rec("cs_accounts_by_health:sum", sum_of("cs_accounts_by_health", "band"))
    rec("cs_health_score_bucket:sum", sum_of("cs_health_score_bucket", "le"))
    rec("cs_renewal_accounts:sum", sum_of("cs_renewal_accounts", "horizon", "band"))
    rec("cs_renewal_mrr:sum", sum_of("cs_renewal_mrr", "horizon", "band", "currency"))
    # A counter: accounts that changed band in the last day, per (from, to).
    rec("cs_health_band_transitions:increase1d", "sum by (%s, from, to) (increase("
        "cs_health_band_transitions_total%s[1d]))"
        % (by, "{%s}" % S.selector if S.selector else ""))
    rec("cs_health_score:mean", "%s\n/ (%s > 0)" % (
        sum_of("cs_health_score_gsum"), sum_of("cs_health_score_gcount")))
    if not dims:
        for q in ("0.5", "0.9"):
            rules.append({
                "record": "job_quantile:cs_time_to_value_seconds:histogram_quantile",
                # No quantile (rather than NaN) when no account is in the buckets.
                "expr": "histogram_quantile(%s, job:cs_time_to_value_seconds_bucket:sum)\n"
                        "and on (job, instance, window)\n"
                        "(job:cs_time_to_value_seconds_bucket:sum{le=\"+Inf\"} > 0)" % q,
                "labels": {"quantile": q},
            })
    return rules


def rules_header():
    levels = ", ".join(S.dimensions)
    return """\
# Recording rules for cs_exporter. GENERATED by dashboards/generate.py for the
# segment dimensions %s: edit that script, or render
# them for your configuration with --config, do not edit this file.
#
# Names follow level:metric:operations. Levels: job (every segment of one
# exporter instance)%s. instance is always kept:
# two instances never add up. Ratios are computed from summed numerators and
# denominators, never by averaging the exporter's per-segment ratios, and are
# omitted where the denominator is 0 (as the exporter omits them).
""" % ("(" + levels + ")" if levels else "(none)",
       ", %s (one segment dimension each)" % levels if levels else "")


def yaml_scalar(s):
    if isinstance(s, str) and "\n" not in s and not s.startswith(("{", "[", '"', "'", "&", "*",
                                                                 "!", "|", ">", "%", "@", "`")):
        if ": " not in s and " #" not in s:
            return s
    return json.dumps(s)


def render_rules():
    groups = [("cs_exporter.job.rules", "job", [])]
    groups += [("cs_exporter.%s.rules" % d, d, [d]) for d in S.dimensions]
    out = [rules_header(), "groups:\n"]
    for name, level, dims_ in groups:
        out.append("  - name: %s\n    rules:\n" % name)
        for r in recording_rules(level, dims_):
            out.append("      - record: %s\n" % r["record"])
            if "\n" in r["expr"]:
                out.append("        expr: |-\n")
                out.extend("          %s\n" % line for line in r["expr"].split("\n"))
            else:
                out.append("        expr: %s\n" % yaml_scalar(r["expr"]))
            if "labels" in r:
                out.append("        labels:\n")
                out.extend('          %s: "%s"\n' % kv for kv in sorted(r["labels"].items()))
    return "".join(out)


# ---------------------------------------------------------------------------
# Alerting rules
# ---------------------------------------------------------------------------
#
# Every alert is data: its expression and texts are templates in which
#   @W@      the alert's window, chosen from its collector kind's windows
#            (window: "short" or "long", see alert_window())
#   @WDAYS@  that window in words ("30 days")
#   @H@      the renewal horizon (horizon: True), chosen like a short window
#   @T@      the threshold (threshold: (value, per, scaling)), scaled to the
#            window when it is a share of the window (see alert_threshold());
#            @T%@ the same as a percentage ("2 %"), @T%d@ without the space
#   @SEL@    the --selector matchers ('job="cs_exporter"' without one), for up
#   @STALE@  (per_collector: "stale") the per-collector thresholds of
#            CustomerSuccessDataStale, see stale_expr()
#   @FAILING@ (per_collector: "failing") the same for
#            CustomerSuccessCollectorFailing, see failing_expr()
# Raw cs_* series in the expression get the --selector (see raw_selected());
# the job: series of recording.yaml have it already.
# kinds: the collector kinds the alert reads; it is left out unless all are
# configured. None: the exporter's own series, always rendered.

SHORT_WINDOW = "30d"
LONG_WINDOW = "90d"

ALERT_GROUPS = [
    {"name": "cs_exporter.kpi.alerts", "alerts": [
        {"alert": "CustomerSuccessChurnSpike", "kinds": ["revenue"], "window": "short",
         "threshold": (0.02, "30d", "rate"),
         "header": "@W@ logo churn > 1.5 x its 7d baseline (offset 1d) and > @T%@",
         "comment": ["The baseline ends a day ago so that the spike cannot raise its own",
                     "baseline; the @T%@ floor keeps a tiny base from paging on one logo."],
         "expr": """\
job:cs_customer_churn:ratio{window="@W@"}
  > 1.5 * avg_over_time(job:cs_customer_churn:ratio{window="@W@"}[7d] offset 1d)
and
job:cs_customer_churn:ratio{window="@W@"} > @T@
""",
         "for": "30m", "severity": "critical",
         "summary": "Customer churn is well above its usual level.",
         "description": "{{ $labels.instance }}: {{ $value | humanizePercentage }} of the "
                        "customers at the start of the last @WDAYS@ churned, over 1.5 times "
                        "the average of the previous week."},
        {"alert": "CustomerSuccessNetRevenueRetentionLow", "kinds": ["revenue"],
         "window": "long", "threshold": (0.95, "90d", "retention"),
         "header": "@W@ NRR < @T%@",
         "expr": 'job:cs_net_revenue_retention:ratio{window="@W@"} < @T@',
         "for": "1h", "severity": "warning",
         "summary": "Net revenue retention is below target.",
         "description": "{{ $labels.instance }}: net revenue retention over "
                        "{{ $labels.window }} is {{ $value | humanizePercentage }}, "
                        "below @T%d@."},
        {"alert": "CustomerSuccessNPSDrop", "kinds": ["surveys"], "window": "short",
         "header": "@W@ NPS > 10 points below its 7d baseline, >= 30 responses",
         "expr": """\
(
  avg_over_time(job:cs_nps:score{window="@W@"}[7d] offset 1d)
  - job:cs_nps:score{window="@W@"}
) > 10
and on (job, instance, window)
sum without (category) (job:cs_survey_responses:sum{survey="nps",window="@W@"}) >= 30
""",
         "for": "1h", "severity": "warning",
         "summary": "NPS dropped sharply.",
         "description": "{{ $labels.instance }}: NPS over the last @WDAYS@ is "
                        "{{ $value | printf \"%.1f\" }} points below its average of the "
                        "previous week."},
        {"alert": "CustomerSuccessCSATDrop", "kinds": ["surveys"], "window": "short",
         "header": "@W@ CSAT > 5 points below its 7d baseline, >= 30 responses",
         "expr": """\
(
  avg_over_time(job:cs_csat:ratio{window="@W@"}[7d] offset 1d)
  - job:cs_csat:ratio{window="@W@"}
) > 0.05
and on (job, instance, window)
sum without (category) (job:cs_survey_responses:sum{survey="csat",window="@W@"}) >= 30
""",
         "for": "1h", "severity": "warning",
         "summary": "Customer satisfaction dropped sharply.",
         "description": "{{ $labels.instance }}: CSAT over the last @WDAYS@ is "
                        "{{ $value | humanizePercentage }} (percentage points) below its "
                        "average of the previous week."},
        {"alert": "CustomerSuccessRedHealthSurge", "kinds": ["health"],
         "header": "red accounts > 1.5 x their 7d baseline and >= 5",
         "expr": """\
job:cs_accounts_by_health:sum{band="red"}
  > 1.5 * avg_over_time(job:cs_accounts_by_health:sum{band="red"}[7d] offset 1d)
and
job:cs_accounts_by_health:sum{band="red"} >= 5
""",
         "for": "1h", "severity": "warning",
         "summary": "Many more accounts are in the red health band than usual.",
         "description": "{{ $labels.instance }}: {{ $value }} accounts are in the red health "
                        "band, over 1.5 times the average of the previous week."},
        {"alert": "CustomerSuccessLicenseUtilizationCollapse", "kinds": ["adoption"],
         "window": "short",
         "header": "@W@ utilisation < 0.5 x its 7d baseline",
         "expr": """\
job:cs_license_utilization:ratio{window="@W@"}
  < 0.5 * avg_over_time(job:cs_license_utilization:ratio{window="@W@"}[7d] offset 1d)
""",
         "for": "1h", "severity": "warning",
         "summary": "License utilisation fell to less than half of its usual level.",
         "description": "{{ $labels.instance }}: license utilisation over the last @WDAYS@ "
                        "is {{ $value | humanizePercentage }}, less than half of its average "
                        "of the previous week."},
        {"alert": "CustomerSuccessMRRDrop", "kinds": ["revenue"],
         "header": "MRR > 10 % below its maximum of the last day",
         "expr": "1 - job:cs_mrr:sum / max_over_time(job:cs_mrr:sum[1d]) > 0.1",
         "for": "15m", "severity": "critical",
         "summary": "MRR dropped sharply within a day.",
         "description": "{{ $labels.instance }}: MRR is {{ $value | humanizePercentage }} "
                        "below its maximum of the last 24 hours ({{ $labels.currency }})."},
    ]},
    {"name": "cs_exporter.risk.alerts",
     "comment": ["Renewals, payment risk and health movement (SPEC section 6). Each",
                 "threshold is the number on the line marked \"threshold:\"; change it there,",
                 "in the header above, in dashboards/runbook.md and dashboards/README.md."],
     "alerts": [
        {"alert": "CustomerSuccessRenewalAtRisk", "kinds": ["health", "revenue"],
         "horizon": True,
         "header": ["MRR of red-band accounts up for renewal within @H@",
                    "> 5 % of all MRR, for 1h"],
         "comment": ["The renewal horizon: 30d when renewals.horizons has it (the default",
                     "does), else the configured horizon closest to 30 days."],
         "expr": """\
sum without (band) (job:cs_renewal_mrr:sum{horizon="@H@",band="red"})
  / on (job, instance, currency) group_left () (job:cs_mrr:sum > 0)
> 0.05
""",
         "post": ["threshold: 0.05 = 5 % of all MRR"],
         "for": "1h", "severity": "warning",
         "summary": "Much of the MRR up for renewal soon is in the red health band.",
         "description": "{{ $labels.instance }}: red-band accounts up for renewal within "
                        "{{ $labels.horizon }} hold {{ $value | humanizePercentage }} of all "
                        "MRR, above 5%."},
        {"alert": "CustomerSuccessInvoluntaryChurnHigh", "kinds": ["revenue"],
         "window": "short", "threshold": (0.02, "30d", "rate"),
         "header": ["@W@ involuntary churn > @T%@ of the MRR at the",
                    "window's start (cs_mrr_window_start), for 1h"],
         "expr": """\
job:cs_mrr_involuntary_churn:sum{window="@W@"}
  / on (job, instance, currency, window) (job:cs_mrr_window_start:sum{window="@W@"} > 0)
> @T@
""",
         "post": ["threshold: @T@ = @T%@ of the MRR at the window's start"],
         "for": "1h", "severity": "warning",
         "summary": "Failed payments are losing an unusual share of MRR.",
         "description": "{{ $labels.instance }}: involuntary churn (failed payments) over "
                        "{{ $labels.window }} is {{ $value | humanizePercentage }} of the MRR "
                        "at the window's start, above @T%d@."},
        {"alert": "CustomerSuccessAccountsTurningRed", "kinds": ["health"],
         "header": "> 10 accounts moved to red within a day, for 5m",
         "expr": """\
sum without (from) (job:cs_health_band_transitions:increase1d{to="red"})
> 10
""",
         "post": ["threshold: 10 accounts moved to red within a day"],
         "for": "5m", "severity": "warning",
         "summary": "Many accounts moved to the red health band within a day.",
         "description": "{{ $labels.instance }}: {{ $value | printf \"%.0f\" }} accounts moved "
                        "to the red health band in the last 24 hours, more than 10."},
    ]},
    {"name": "cs_exporter.exporter.alerts", "alerts": [
        {"alert": "CustomerSuccessExporterAbsent",
         "expr": "absent(up{@SEL@} == 1)",
         "for": "10m", "severity": "critical",
         "summary": "cs_exporter is not being scraped.",
         "description": "No cs_exporter target with @SEL@ has been up for 10 minutes; "
                        "customer-success alerts are blind."},
        {"alert": "CustomerSuccessCollectorFailing", "per_collector": "failing",
         "header": lambda: collector_header(
             ["last run failed, cs_collector_up 0 for max(interval +",
              "timeout + 5m, 15m): two failed runs in a row; not",
              "before a first run ends"],
             failing_for, prom_duration),
         "comment": ["cs_collector_up is 0 from the start until the first run ends; a",
                     "slow first run on a fresh install is not a failure. One failed run",
                     "keeps it at 0 for about an interval, so a collector must have been",
                     "down for interval + timeout + 5m, at least 15m (see the header):",
                     "the last 15m are the \"for\", the rest the max_over_time range."],
         "expr": """\
@FAILING@
and on (job, instance, collector)
cs_collector_failures_total > 0
""",
         "for": "15m", "severity": "warning",
         "summary": "A cs_exporter collector keeps failing.",
         "description": "{{ $labels.instance }}: collector {{ $labels.collector }} has failed "
                        "its runs for 15 minutes or more."},
        {"alert": "CustomerSuccessDataStale", "per_collector": "stale",
         "header": lambda: collector_header(
             ["last success older than max(2 x interval + timeout,",
              "300 s), for 5m; not before a first run ends"],
             stale_after, lambda t: "%d s" % t),
         "comment": ["One threshold per collector, max(2 x interval + timeout, 300 s):",
                     "one missed run and a slow one (see the header). The intervals are",
                     "configuration, not metrics: re-render when they change. The last",
                     "success is 0 until the first run ends: wait for one."],
         "expr": """\
@STALE@
and on (job, instance, collector)
cs_collector_runs_total > 0
""",
         "for": "5m", "severity": "warning",
         "summary": "Customer-success KPIs are stale.",
         "description": "{{ $labels.instance }}: collector {{ $labels.collector }} last "
                        "succeeded {{ $value | humanizeDuration }} ago."},
        {"alert": "CustomerSuccessDatasetStale",
         "header": ["newest row of a dataset older than its max age",
                    "(cs_dataset_max_age_seconds, from the config), for 1h"],
         "comment": ["The newest row a dataset returned (its newest timestamp column, see",
                     "README \"Freshness\") is older than the dataset's max_age from the",
                     "config. A feed that stopped looks like a quiet month otherwise."],
         "expr": """\
time() - cs_dataset_newest_timestamp_seconds
  > on (job, instance, dataset)
(cs_dataset_max_age_seconds > 0)
""",
         "for": "1h", "severity": "warning",
         "summary": "A source dataset has no recent rows.",
         "description": "{{ $labels.instance }}: the newest row of dataset "
                        "{{ $labels.dataset }} is {{ $value | humanizeDuration }} old, older "
                        "than its configured max age."},
        {"alert": "CustomerSuccessRowsRejectedSurge",
         "header": ["2h rate > 0.05 rejected rows/s and > 2 x the rate of",
                    "the day before, which must exist (exporter up 25h ago)"],
         "comment": ["A bad row is rejected again on every run, so a steady rate is",
                     "normal. The current rate is taken over 2h so that it spans at least",
                     "two runs of an hourly collector (a 30m rate of a counter that steps",
                     "once an hour reads up to twice the true rate). The baseline is the",
                     "day ending an hour ago, and exists only when the exporter was up 25",
                     "hours ago: on a younger install rate() over 1d would read a",
                     "fraction of the true rate and any steady rate would look like a",
                     "surge. Datasets with no rejected rows the day before have a",
                     "baseline of 0."],
         "expr": """\
sum by (job, instance, dataset) (rate(cs_rows_rejected_total[2h])) > 0.05
and
sum by (job, instance, dataset) (rate(cs_rows_rejected_total[2h]))
  > 2 * (
    (
      sum by (job, instance, dataset) (rate(cs_rows_rejected_total[1d] offset 1h))
      or
      sum by (job, instance, dataset) (rate(cs_rows_rejected_total[2h])) * 0
    )
    and on (job, instance)
    max by (job, instance) (cs_exporter_build_info offset 25h)
  )
""",
         "for": "30m", "severity": "warning",
         "summary": "Many more source rows are being rejected than usual.",
         "description": "{{ $labels.instance }}: {{ $value | printf \"%.2f\" }} rows per "
                        "second of dataset {{ $labels.dataset }} are rejected, over twice the "
                        "rate of the day before."},
        {"alert": "CustomerSuccessCardinalityFold",
         "header": "any fold in the last hour",
         "expr": "increase(cs_series_dropped_total[1h]) > 0",
         "severity": "info",
         "summary": "Segments were folded into \"other\" by the cardinality cap.",
         "description": "{{ $labels.instance }}: family {{ $labels.family }} folded segments "
                        "into \"other\" in the last hour."},
        {"alert": "CustomerSuccessConfigReloadFailed",
         "expr": "cs_config_last_reload_successful == 0",
         "for": "5m", "severity": "warning",
         "summary": "cs_exporter failed to reload its configuration.",
         "description": "{{ $labels.instance }}: the last configuration reload failed; the "
                        "exporter keeps running with the previous configuration."},
    ]},
]


def alert_window(kind, role):
    """The window a KPI alert reads, from the windows of its collector kind:
    short: 30d when configured, else the window closest to 30 days (of two
    equally close, the shorter); long: 90d when configured, else the longest.
    None when the kind computes no window."""
    ws = S.windows_for([kind])
    if not ws:
        return None
    if role == "long":
        return LONG_WINDOW if LONG_WINDOW in ws else ws[-1]
    return closest(ws, SHORT_WINDOW)


def closest(durations, want):
    """want when listed, else the duration closest to it (ties: the shorter)."""
    if want in durations:
        return want
    w = libconf.duration_seconds(want)
    return min(durations, key=lambda d: (abs(libconf.duration_seconds(d) - w),
                                         libconf.duration_seconds(d), d))


def alert_threshold(value, per, scaling, window):
    """A threshold that is a share of a window, set for the window `per`, for
    another window: compounded as the dashboards' thresholds are (scaled()):
    "rate", a share lost (churn), 1 - (1 - x)^(W / per); "retention", a share
    kept (NRR), x^(W / per). Rounded to 4 decimals."""
    if window == per:
        return value
    k = libconf.duration_seconds(window) / libconf.duration_seconds(per)
    return round(1 - (1 - value) ** k if scaling == "rate" else value ** k, 4)


def in_words(window):
    """30d -> 30 days, 4w -> 4 weeks, 1h -> 1 hour."""
    n, unit = re.match(r"^(\d+)([smhdw])$", window).groups()
    name = {"s": "second", "m": "minute", "h": "hour", "d": "day", "w": "week"}[unit]
    return "%s %s%s" % (n, name, "" if n == "1" else "s")


def percent(x):
    return "%g" % round(x * 100, 2)


RAW_SERIES = re.compile(r"(?<![\w:\"])(cs_[a-z0-9_]+)(\{([^{}]*)\})?")


def raw_selected(expr):
    """The --selector added to every raw cs_* selector of an expression."""
    if not S.selector:
        return expr

    def add(mo):
        inner = mo.group(3)
        return "%s{%s}" % (mo.group(1), S.selector + ("," + inner if inner else ""))

    return RAW_SERIES.sub(add, expr)


# The exporter's own alerts follow each collector's interval and timeout
# (Settings.collectors; a collector the configuration does not name is taken
# to have the defaults, 5m and 30s). CustomerSuccessDataStale: the last
# success is older than 2 x interval + timeout (one missed run, and the next
# one as slow as its timeout allows), at least STALE_FLOOR (a scrape interval
# and an evaluation behind). CustomerSuccessCollectorFailing: cs_collector_up
# has been 0 for longer than one failed run keeps it there (interval +
# timeout) plus FAILING_MARGIN, at least FAILING_FLOOR (three failed runs of a
# 5m collector, as before). One rule each, lint-clean (promtool rejects two
# alerting rules of one name and labels): the thresholds sit in the expression.
STALE_FLOOR = 300
FAILING_MARGIN = 300
FAILING_FLOOR = 900


def stale_after(interval, timeout):
    """CustomerSuccessDataStale's threshold for a collector, seconds."""
    return max(2 * interval + timeout, STALE_FLOOR)


def failing_for(interval, timeout):
    """CustomerSuccessCollectorFailing's `for` for a collector, seconds."""
    return max(interval + timeout + FAILING_MARGIN, FAILING_FLOOR)


def prom_duration(seconds):
    """3930 -> 1h5m30s (a Prometheus duration)."""
    out = ""
    for unit, n in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if seconds >= n:
            out += "%d%s" % (seconds // n, unit)
            seconds %= n
    return out or "0s"


def by_collector(limit):
    """[(value, matcher, names)], smallest value first: the configured
    collectors grouped by limit(interval, timeout). The group of the default
    collector (5m, 30s) is always there and also takes every collector the
    configuration does not name: its matcher excludes the other groups' names
    (none: it matches every collector)."""
    groups = {}
    for name, interval, timeout in S.collectors:
        groups.setdefault(limit(interval, timeout), []).append(name)
    default = limit(libconf.duration_seconds(DEFAULT_INTERVAL),
                    min(libconf.duration_seconds(DEFAULT_INTERVAL),
                        libconf.duration_seconds(DEFAULT_TIMEOUT)))
    others = sorted(n for v, ns in groups.items() if v != default for n in ns)

    def matcher(names, positive):
        # Names are letters, digits, '_', '-', '.': only '.' needs escaping
        # (a regex escape inside a PromQL string: backslash, backslash, dot).
        if len(names) == 1:
            return 'collector%s"%s"' % ("=" if positive else "!=", names[0])
        return 'collector%s"%s"' % ("=~" if positive else "!~",
                                    "|".join(n.replace(".", "\\\\.") for n in names))

    out = []
    for v in sorted(set(groups) | {default}):
        if v == default:
            out.append((v, matcher(others, False) if others else "",
                        sorted(groups.get(v, [])) + [None]))
        else:
            out.append((v, matcher(sorted(groups[v]), True), sorted(groups[v])))
    return out


def collector_header(rule, limit, fmt):
    """The header lines of a per-collector alert: the rule, then one line per
    value with the collectors it applies to."""
    lines = rule[:-1] + [rule[-1] + ":"]
    for v, _, names in by_collector(limit):
        named = [n for n in names if n]
        who = ", ".join(named)
        if None in names:
            who = (who + " and any other collector" if named else
                   "any other collector" if len(by_collector(limit)) > 1 else "every collector")
        lines.extend(textwrap.wrap(who, 60, initial_indent="  %-8s " % fmt(v),
                                   subsequent_indent=" " * 11))
    return lines


def failing_expr():
    """CustomerSuccessCollectorFailing's condition: cs_collector_up has been 0
    for failing_for(), of which the rule's `for` (FAILING_FLOOR) is the last
    part and a max_over_time range the rest."""
    branches = []
    for v, m, _ in by_collector(failing_for):
        sel = "cs_collector_up%s" % ("{%s}" % m if m else "")
        if v > FAILING_FLOOR:
            sel = "max_over_time(%s[%s])" % (sel, prom_duration(v - FAILING_FLOOR))
        branches.append(sel + " == 0")
    if len(branches) == 1:
        return branches[0]
    return "(\n  %s\n)" % "\n  or\n  ".join(branches)


def stale_expr():
    """CustomerSuccessDataStale's condition: one branch per threshold."""
    branches = ["time() - cs_collector_last_success_timestamp_seconds%s > %d"
                % ("{%s}" % m if m else "", v) for v, m, _ in by_collector(stale_after)]
    if len(branches) == 1:
        return branches[0]
    return "(\n  %s\n)" % "\n  or\n  ".join(branches)


def alerts():
    """[(group, [(alert, {token: value}), ...]), ...] for the settings: the
    alerts of configured kinds, with their window, horizon and threshold."""
    out = []
    for g in ALERT_GROUPS:
        rendered = []
        for a in g["alerts"]:
            kinds = a.get("kinds") or []
            if kinds and not all(S.has(k) for k in kinds):
                continue
            sub = {"@SEL@": S.selector or 'job="cs_exporter"'}
            if a.get("window"):
                w = alert_window(kinds[0], a["window"])
                if w is None:
                    continue
                sub["@W@"], sub["@WDAYS@"] = w, in_words(w)
            if a.get("horizon"):
                sub["@H@"] = closest(S.horizons, SHORT_WINDOW)
            if a.get("threshold"):
                t = alert_threshold(*a["threshold"], sub["@W@"])
                sub["@T@"], sub["@T%@"], sub["@T%d@"] = "%g" % t, percent(t) + " %", \
                    percent(t) + "%"
            if a.get("per_collector") == "stale":
                sub["@STALE@"] = stale_expr()
            if a.get("per_collector") == "failing":
                sub["@FAILING@"] = failing_expr()
            rendered.append((a, sub))
        if rendered:
            out.append((g, rendered))
    return out


def fill(text, sub):
    for k, v in sub.items():
        text = text.replace(k, v)
    return text


def yaml_single(s):
    return "'%s'" % s.replace("'", "''")


def alerts_header(groups):
    def csv(xs):
        return ", ".join(xs) if xs else "none"

    rendered = [a for _, alerts_ in groups for a, _ in alerts_]
    left_out = [a["alert"] for g in ALERT_GROUPS for a in g["alerts"] if a not in rendered]
    used = {}
    for _, alerts_ in groups:
        for a, sub in alerts_:
            if a.get("window"):
                used.setdefault((a["window"], sub["@W@"]), []).append(a["kinds"][0])
    chosen = "; ".join("%s %s (%s)" % (role, w, ", ".join(sorted(set(k))))
                       for (role, w), k in sorted(used.items()))
    horizon = [sub["@H@"] for _, alerts_ in groups for a, sub in alerts_ if "@H@" in sub]
    lines = [
        "Alerting rules for cs_exporter. GENERATED by dashboards/generate.py for the",
        "configured collector kinds, windows and renewal horizons: edit that",
        "script, or render them for your configuration with --config, do not edit",
        "this file. They read the recording rules of recording.yaml (load both",
        "files). Every threshold below is listed, with its reason, in",
        "dashboards/runbook.md (one section per alert) and in the table of",
        "dashboards/README.md: change all three together.",
        "",
        "Windows. A KPI alert reads one of the windows its collector kind computes:",
        "the short window is 30d when configured, else the configured window",
        "closest to 30 days (of two, the shorter); the long window (NRR) is 90d",
        "when configured, else the longest. The renewal horizon is 30d when",
        "renewals.horizons has it, else the horizon closest to 30 days. Thresholds",
        "that are a share of the window (the logo churn floor, involuntary churn,",
        "NRR) are set per 30d (NRR: per 90d) and compounded for another window,",
        "as on the dashboards; the others are levels or changes, not shares of it.",
        "Here: %s%s." % (chosen or "no windowed alert",
                         "; horizon %s" % horizon[0] if horizon else ""),
    ]
    lines += textwrap.wrap("Alerts of collector kinds that are not configured are left out: "
                           "%s." % csv(left_out), 76)
    lines += [
        "",
        "Thresholds, in one place:",
    ]
    done = set()
    for a, sub in (x for _, alerts_ in groups for x in alerts_):
        head = a.get("header")
        if not head or a["alert"] in done:
            continue
        done.add(a["alert"])
        head = head() if callable(head) else head
        head = [head] if isinstance(head, str) else head
        name = a["alert"][len("CustomerSuccess"):]
        lines.append("  %-25s %s" % (name, fill(head[0], sub)))
        lines.extend(" " * 28 + fill(h, sub) for h in head[1:])
    if S.selector:
        lines.append("Raw cs_* series and up are read with {%s} (--selector)." % S.selector)
    else:
        lines.append("The scrape job is assumed to be named cs_exporter (ExporterAbsent).")
    return "".join(("# " + l).rstrip() + "\n" for l in lines)


def render_alerts():
    groups = alerts()
    out = [alerts_header(groups), "groups:\n"]
    for gi, (g, alerts_) in enumerate(groups):
        if gi:
            out.append("\n")
        out.extend("  # %s\n" % c for c in g.get("comment", []))
        out.append("  - name: %s\n    rules:\n" % g["name"])
        for ai, (a, sub) in enumerate(alerts_):
            if ai:
                out.append("\n")
            out.append("      - alert: %s\n" % a["alert"])
            out.extend("        # %s\n" % fill(c, sub) for c in a.get("comment", []))
            expr = raw_selected(fill(a["expr"], sub))
            if "\n" in expr:
                out.append("        expr: |\n")
                out.extend("          %s\n" % l if l else "\n"
                           for l in expr.rstrip("\n").split("\n"))
            else:
                out.append("        expr: %s\n" % expr)
            out.extend("        # %s\n" % fill(c, sub) for c in a.get("post", []))
            if a.get("for"):
                out.append("        for: %s\n" % a["for"])
            out.append("        labels:\n          severity: %s\n" % a["severity"])
            out.append("        annotations:\n")
            out.append("          summary: %s\n" % fill(a["summary"], sub))
            out.append("          description: %s\n" % yaml_single(fill(a["description"], sub)))
            out.append("          runbook_url: dashboards/runbook.md#%s\n" % a["alert"].lower())
    return "".join(out)


# ---------------------------------------------------------------------------


def render(settings=None):
    """{path relative to the output folder: file content} for these settings
    (default: config/example.conf's)."""
    global S, DASH_WINDOWS
    S = settings or settings_from_config(DEFAULT_CONFIG)
    files = {}
    for fname, fn, kinds in DASHBOARDS:
        DASH_WINDOWS = S.windows_for(kinds or [])
        if kinds is None or S.has(*kinds):
            files[os.path.join("grafana", fname)] = json.dumps(fn(), indent=2,
                                                               sort_keys=True) + "\n"
    files[os.path.join("rules", "recording.yaml")] = render_rules()
    files[os.path.join("rules", "alerts.yaml")] = render_alerts()
    return files


def stale_files(root=HERE, settings=None):
    """Paths whose content on disk differs from what render() produces."""
    stale = []
    for rel, text in sorted(render(settings).items()):
        path = os.path.join(root, rel)
        try:
            with open(path, encoding="utf-8") as f:
                if f.read() == text:
                    continue
        except OSError:
            pass
        stale.append(path)
    return stale


def main():
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n")[0],
        epilog="Without --config: config/example.conf, written into dashboards/.")
    ap.add_argument("--config", metavar="FILE", help="the cs_exporter configuration to render for "
                    "(default: config/example.conf)")
    ap.add_argument("--out", metavar="DIR", help="write DIR/grafana/*.json, "
                    "DIR/rules/recording.yaml and DIR/rules/alerts.yaml (default: the "
                    "dashboards/ folder of this script)")
    ap.add_argument("--selector", default="", metavar="MATCHERS",
                    help='label matchers selecting the exporter\'s series, e.g. job="cs_exporter" '
                    "(default: none, every job)")
    ap.add_argument("--check", action="store_true",
                    help="exit 1 when the files in the output folder differ from the rendering")
    args = ap.parse_args()
    try:
        settings = settings_from_config(args.config or DEFAULT_CONFIG, args.selector)
    except libconf.ConfigError as e:
        print("generate.py: %s" % e, file=sys.stderr)
        return 2
    out = args.out or HERE
    if args.check:
        stale = stale_files(out, settings)
        for p in stale:
            print("%s: out of date, run dashboards/generate.py" % p, file=sys.stderr)
        return 1 if stale else 0
    for rel, text in render(settings).items():
        path = os.path.join(out, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
