"""Panel builders and the dashboard frame (variables, layout, links)."""

import libconf

from gen import ctx
from gen.promql import shifted

SCHEMA_VERSION = 39
TAGS = ["cs_exporter", "customer-success"]
DS = {"type": "prometheus", "uid": "${datasource}"}

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
        defaults["thresholds"] = per_window(libconf.duration_seconds(ctx.S.default_window))
        for win in ctx.DASH_WINDOWS:
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
                                [(str(a), a + 1) for a in range(ctx.S.cohort_months)])}},
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
# The dashboard frame: variables, layout, time range, the dashboard object
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
    default = ctx.S.default_window if ctx.S.default_window in windows else windows[0]
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
    sel = ctx.S.selector + "," if ctx.S.selector else ""
    # cs_collector_up: the exporter's series that backfilled history has too
    # (build info is the running process's), so that the variables find the
    # exporters of the time range before a live one ever ran.
    vs = [
        ds_var(),
        query_var("job", "Job", "label_values(cs_collector_up%s, job)"
                  % ("{%s}" % ctx.S.selector if ctx.S.selector else "")),
        query_var("instance", "Instance",
                  'label_values(cs_collector_up{%sjob=~"$job"}, instance)' % sel),
    ]
    for d in ctx.S.dimensions:
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
    kept = [p for p in items if p.pop("_kind", None) in (None,) + tuple(ctx.S.kinds)]
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
    windows = ctx.S.windows_for(kinds)
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
        "time": {"from": time_range(ctx.S.default_window) if windows else "now-24h", "to": "now"},
        "timepicker": {},
        "timezone": "utc",
        "title": title,
        "uid": uid,
        "version": 1,
        "weekStart": "",
    }
