#!/usr/bin/env python3
"""Writes the cs_exporter Grafana dashboards and Prometheus recording rules.

The JSON under dashboards/grafana/ and dashboards/rules/recording.yaml are
generated from this file so that every panel follows the same conventions
(datasource variable, segment variables, units, totals as sum(num)/sum(den)).
Edit this file, run it, and commit both. tests/scripts/check_dashboards.py
fails when the committed files differ from what this script renders.

    python3 dashboards/generate.py            # rewrite the files
    python3 dashboards/generate.py --check    # exit 1 when they are stale

Standard library only. The segment dimensions are the demo's (plan, region);
a deployment with other dimensions edits DIMENSIONS and regenerates.
"""

import argparse
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

# Configured segment dimensions, in config order (segments.dimensions).
DIMENSIONS = ["plan", "region"]
# Grafana unit of every money panel: the reporting currency (SPEC: label
# currency="USD" in the demo).
MONEY_UNIT = "currencyUSD"
SCHEMA_VERSION = 39
TAGS = ["cs_exporter", "customer-success"]
DS = {"type": "prometheus", "uid": "${datasource}"}

# ---------------------------------------------------------------------------
# PromQL helpers
# ---------------------------------------------------------------------------

BASE = ['job=~"$job"', 'instance=~"$instance"']
SEG = ['%s=~"$%s"' % (d, d) for d in DIMENSIONS]
WIN = 'window=~"$window"'
BY_DIMS = ", ".join(DIMENSIONS)


def m(metric, *matchers, seg=True, win=False):
    """A selector limited to the dashboard's job/instance/segments."""
    parts = list(BASE) + (SEG if seg else []) + ([WIN] if win else []) + list(matchers)
    return "%s{%s}" % (metric, ",".join(parts))


def tot(metric, *matchers, by=None, **kw):
    """sum [by (...)] of a selector: the numerator or denominator of a total."""
    grp = " by (%s)" % by if by else ""
    return "sum%s(%s)" % (grp, m(metric, *matchers, **kw))


def nrr(by=None, gross=False):
    start = tot("cs_mrr_window_start", by=by, win=True)
    lost = tot("cs_mrr_movement", 'type=~"churn|contraction"', by=by, win=True)
    if gross:
        return "(%s - %s) / %s" % (start, lost, start)
    gained = tot("cs_mrr_movement", 'type="expansion"', by=by, win=True)
    return "(%s - %s + %s) / %s" % (start, lost, gained, start)


def mrr_churn(by=None, net=True):
    start = tot("cs_mrr_window_start", by=by, win=True)
    lost = tot("cs_mrr_movement", 'type=~"churn|contraction"', by=by, win=True)
    if not net:
        return "%s / %s" % (lost, start)
    back = tot("cs_mrr_movement", 'type=~"expansion|reactivation"', by=by, win=True)
    return "(%s - %s) / %s" % (lost, back, start)


def quick_ratio(by=None):
    up = tot("cs_mrr_movement", 'type=~"new|reactivation|expansion"', by=by, win=True)
    down = tot("cs_mrr_movement", 'type=~"churn|contraction"', by=by, win=True)
    return "%s / %s" % (up, down)


def logo_churn(by=None):
    return "%s / %s" % (
        tot("cs_customer_movements", 'type="churned"', by=by, win=True),
        tot("cs_customers_window_start", by=by, win=True),
    )


def arpa(by=None):
    return "%s / %s" % (tot("cs_mrr", by=by), tot("cs_customers", by=by))


def nps(by=None):
    resp = lambda *c: tot("cs_survey_responses", 'survey="nps"', *c, by=by, win=True)
    return "100 * (%s - %s) / %s" % (
        resp('category="promoter"'),
        resp('category="detractor"'),
        resp(),
    )


def csat(by=None):
    return "%s / %s" % (
        tot("cs_survey_responses", 'survey="csat"', 'category="satisfied"', by=by, win=True),
        tot("cs_survey_responses", 'survey="csat"', by=by, win=True),
    )


def ces(by=None):
    return "%s / %s" % (
        tot("cs_ces_points", by=by, win=True),
        tot("cs_survey_responses", 'survey="ces"', by=by, win=True),
    )


def utilisation(by=None):
    return "%s / %s" % (tot("cs_seats_used", by=by, win=True), tot("cs_seats", by=by))


def escalation(by=None):
    return "%s / %s" % (
        tot("cs_tickets", 'state="escalated"', by=by, win=True),
        tot("cs_tickets", 'state="opened"', by=by, win=True),
    )


def resolution(by=None):
    return "%s / %s" % (
        tot("cs_ticket_resolution_time_seconds", by=by, win=True),
        tot("cs_tickets", 'state="resolved"', by=by, win=True),
    )


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


def base_panel(ptype, title, desc, unit, tgts, w, h, minv=None, maxv=None, decimals=None):
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
    }


REDUCE_LAST = {"calcs": ["lastNotNull"], "fields": "", "values": False}


def stat(title, desc, unit, tgts, w=4, h=4, th=None, **kw):
    p = base_panel("stat", title, desc, unit, tgts, w, h, **kw)
    p["fieldConfig"]["defaults"]["color"] = {"mode": "thresholds"}
    p["fieldConfig"]["defaults"]["thresholds"] = th or NEUTRAL
    p["options"] = {
        "colorMode": "value",
        "graphMode": "area",
        "justifyMode": "auto",
        "orientation": "auto",
        "reduceOptions": REDUCE_LAST,
        "textMode": "auto",
    }
    return p


def timeseries(title, desc, unit, tgts, w=12, h=8, stack=False, bars=False, **kw):
    p = base_panel("timeseries", title, desc, unit, tgts, w, h, **kw)
    p["fieldConfig"]["defaults"]["custom"] = {
        "drawStyle": "bars" if bars else "line",
        "fillOpacity": 60 if stack else 10,
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


def table(title, desc, columns, w=24, h=10, sort_by=None):
    """columns: (expr, display name, unit); one instant query each, merged."""
    tgts = [
        target(e, ref=chr(ord("A") + i), instant=True, fmt="table")
        for i, (e, _, _) in enumerate(columns)
    ]
    p = base_panel("table", title, desc, "short", tgts, w, h)
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


def band_colors(p):
    """Fixed colours for the health bands, whatever order the series come in."""
    colors = {"green": "green", "yellow": "yellow", "red": "red", "unknown": "text"}
    p["fieldConfig"]["overrides"] = [
        {
            "matcher": {"id": "byName", "options": band},
            "properties": [{"id": "color", "value": {"fixedColor": c, "mode": "fixed"}}],
        }
        for band, c in colors.items()
    ]
    return p


PCT_GOOD_HIGH = thresholds(("red", None), ("yellow", 0.9), ("green", 1.0))
NPS_TH = thresholds(("red", None), ("yellow", 0), ("green", 30))

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


def variables(window_metric):
    vs = [
        ds_var(),
        query_var("job", "Job", "label_values(cs_exporter_build_info, job)"),
        query_var("instance", "Instance", 'label_values(cs_exporter_build_info{job=~"$job"}, instance)'),
    ]
    for d in DIMENSIONS:
        vs.append(
            query_var(
                d,
                d.capitalize(),
                'label_values(cs_customers{job=~"$job",instance=~"$instance"}, %s)' % d,
            )
        )
    if window_metric:
        # One window at a time: every windowed ratio is per window, and summing
        # two windows' numerators would be meaningless.
        vs.append(
            query_var(
                "window",
                "Window",
                'label_values(%s{job=~"$job",instance=~"$instance"}, window)' % window_metric,
                multi=False,
            )
        )
    return vs


def layout(panels):
    """Flows panels left to right in a 24-column grid and numbers them."""
    x = y = row_h = 0
    for i, p in enumerate(panels, 1):
        w, h = p.pop("_size")
        if x + w > 24:
            x, y, row_h = 0, y + row_h, 0
        p["gridPos"] = {"h": h, "w": w, "x": x, "y": y}
        p["id"] = i
        x += w
        row_h = max(row_h, h)
    return panels


def dashboard(uid, title, desc, window_metric, panels):
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
        "refresh": "5m",
        "schemaVersion": SCHEMA_VERSION,
        "tags": TAGS,
        "templating": {"list": variables(window_metric)},
        "time": {"from": "now-7d", "to": "now"},
        "timepicker": {},
        "timezone": "utc",
        "title": title,
        "uid": uid,
        "version": 1,
        "weekStart": "",
    }


def overview():
    mrr = tot("cs_mrr", by="currency")
    panels = [
        stat("MRR", "Monthly recurring revenue at the evaluation instant, all selected segments.",
             MONEY_UNIT, targets((mrr, "{{currency}}"))),
        stat("Paying customers", "Customers with MRR > 0 at the evaluation instant.", "short",
             targets((tot("cs_customers"), "customers"))),
        stat("Net revenue retention", "(MRR at window start - churn - contraction + expansion) / "
             "MRR at window start, from summed numerators and denominators.", "percentunit",
             targets((nrr(), "NRR")), th=PCT_GOOD_HIGH),
        stat("Logo churn", "Customers churned in the window / paying customers at its start.",
             "percentunit", targets((logo_churn(), "logo churn")),
             th=thresholds(("green", None), ("yellow", 0.02), ("red", 0.05))),
        stat("NPS", "Net promoter score in points: 100 x (promoters - detractors) / responses.",
             "none", targets((nps(), "NPS")), th=NPS_TH, minv=-100, maxv=100, decimals=1),
        stat("CSAT", "Share of CSAT responses scoring 4 or 5.", "percentunit",
             targets((csat(), "CSAT")), minv=0, maxv=1,
             th=thresholds(("red", None), ("yellow", 0.7), ("green", 0.85))),
        timeseries("MRR", "MRR over time, selected segments summed.", MONEY_UNIT,
                   targets((mrr, "{{currency}}"))),
        timeseries("Paying customers", "Paying customers over time.", "short",
                   targets((tot("cs_customers"), "customers"))),
        timeseries("Revenue retention", "Net and gross revenue retention over the selected window.",
                   "percentunit", targets((nrr(), "NRR"), (nrr(gross=True), "GRR"))),
        timeseries("Logo churn", "Share of customers at window start that churned in the window.",
                   "percentunit", targets((logo_churn(), "logo churn")), minv=0),
        timeseries("NPS", "Net promoter score over the selected window.", "none",
                   targets((nps(), "NPS")), minv=-100, maxv=100),
        timeseries("CSAT", "Customer satisfaction over the selected window.", "percentunit",
                   targets((csat(), "CSAT")), minv=0, maxv=1),
        band_colors(bargauge("Accounts by health band",
                             "Scored accounts (MRR > 0) per health band right now.", "short",
                             targets((tot("cs_accounts_by_health", by="band"), "{{band}}"),
                                     instant=True), w=8)),
        band_colors(timeseries("Health bands", "Scored accounts per health band over time.", "short",
                               targets((tot("cs_accounts_by_health", by="band"), "{{band}}")),
                               w=16, stack=True)),
    ]
    return dashboard("cs-overview", "Customer success / Overview",
                     "Headline customer-success KPIs from cs_exporter.", "cs_customers_window_start",
                     panels)


def revenue():
    moves_in = tot("cs_mrr_movement", 'type=~"new|reactivation|expansion"', by="type", win=True)
    moves_out = tot("cs_mrr_movement", 'type=~"contraction|churn"', by="type", win=True)
    clv = tot("cs_customer_lifetime_value", by=BY_DIMS, win=True)
    panels = [
        stat("MRR", "MRR at the evaluation instant.", MONEY_UNIT,
             targets((tot("cs_mrr", by="currency"), "{{currency}}"))),
        stat("ARPA", "Average revenue per account: summed MRR / summed paying customers.",
             MONEY_UNIT, targets((arpa(), "ARPA"))),
        stat("NRR", "Net revenue retention over the window.", "percentunit",
             targets((nrr(), "NRR")), th=PCT_GOOD_HIGH),
        stat("GRR", "Gross revenue retention over the window.", "percentunit",
             targets((nrr(gross=True), "GRR")),
             th=thresholds(("red", None), ("yellow", 0.85), ("green", 0.95))),
        stat("Net MRR churn", "(churn + contraction - expansion - reactivation) / MRR at window "
             "start; negative is net expansion.", "percentunit",
             targets((mrr_churn(), "net MRR churn")),
             th=thresholds(("green", None), ("yellow", 0), ("red", 0.02))),
        stat("Quick ratio", "(new + reactivation + expansion) / (churn + contraction) MRR.",
             "none", targets((quick_ratio(), "quick ratio")), decimals=2,
             th=thresholds(("red", None), ("yellow", 1), ("green", 4))),
        timeseries("MRR movements", "MRR gained (new, reactivation, expansion) above zero and "
                   "lost (contraction, churn) below, over the window.", MONEY_UNIT,
                   targets((moves_in, "{{type}}"), ("-" + moves_out, "{{type}}")), stack=True),
        timeseries("Customer movements", "Customers per movement class over the window.", "short",
                   targets((tot("cs_customer_movements", by="type", win=True), "{{type}}"))),
        timeseries("MRR churn", "Net and gross MRR churn over the window.", "percentunit",
                   targets((mrr_churn(), "net"), (mrr_churn(net=False), "gross")), w=8),
        timeseries("Revenue retention", "Net and gross revenue retention.", "percentunit",
                   targets((nrr(), "NRR"), (nrr(gross=True), "GRR")), w=8),
        timeseries("Quick ratio", "MRR gained / MRR lost; above 1 the base grows.", "none",
                   targets((quick_ratio(), "quick ratio")), w=8, minv=0),
        timeseries("MRR by %s" % DIMENSIONS[0], "MRR stacked by %s." % DIMENSIONS[0], MONEY_UNIT,
                   targets((tot("cs_mrr", by=DIMENSIONS[0]), "{{%s}}" % DIMENSIONS[0])),
                   stack=True),
        timeseries("ARPA", "Average revenue per paying account.", MONEY_UNIT,
                   targets((arpa(), "ARPA"))),
        timeseries("Customer lifetime value by segment", "CLV per segment as exported (ARPA x "
                   "gross margin / monthly logo churn). No total: the margin is configuration, "
                   "not a metric, and CLV is undefined where churn is 0.", MONEY_UNIT,
                   targets((clv, legend(BY_DIMS)))),
        timeseries("Trial conversion", "Trials converted / trials ended in the window.",
                   "percentunit",
                   targets(("%s / %s" % (
                       tot("cs_trials_ended", 'result="converted"', win=True),
                       tot("cs_trials_ended", win=True)), "conversion")), minv=0, maxv=1),
        table("Segments", "Per-segment revenue KPIs right now for the selected window.", [
            (tot("cs_mrr", by=BY_DIMS), "MRR", MONEY_UNIT),
            (tot("cs_customers", by=BY_DIMS), "Customers", "short"),
            (arpa(BY_DIMS), "ARPA", MONEY_UNIT),
            (nrr(BY_DIMS), "NRR", "percentunit"),
            (nrr(BY_DIMS, gross=True), "GRR", "percentunit"),
            (logo_churn(BY_DIMS), "Logo churn", "percentunit"),
            (clv, "CLV", MONEY_UNIT),
        ], sort_by=[{"desc": True, "displayName": "MRR"}]),
    ]
    return dashboard("cs-revenue", "Customer success / Revenue",
                     "MRR, its movements, retention and per-segment revenue KPIs.",
                     "cs_mrr_window_start", panels)


def voice():
    nps_resp = tot("cs_survey_responses", 'survey="nps"', by="category", win=True)
    nps_all = tot("cs_survey_responses", 'survey="nps"', win=True)
    panels = [
        stat("NPS", "Net promoter score in points (-100 to 100).", "none", targets((nps(), "NPS")),
             w=6, th=NPS_TH, minv=-100, maxv=100, decimals=1),
        stat("CSAT", "Share of CSAT responses scoring 4-5.", "percentunit",
             targets((csat(), "CSAT")), w=6, minv=0, maxv=1,
             th=thresholds(("red", None), ("yellow", 0.7), ("green", 0.85))),
        stat("CES", "Customer effort score: mean of 1-7 answers (higher is easier).", "none",
             targets((ces(), "CES")), w=6, minv=1, maxv=7, decimals=2),
        stat("Responses", "Survey responses counted in the window, all survey types.", "short",
             targets((tot("cs_survey_responses", win=True), "responses")), w=6),
        timeseries("NPS", "Net promoter score over time.", "none", targets((nps(), "NPS")),
                   minv=-100, maxv=100),
        timeseries("NPS respondents", "Share of promoters, passives and detractors.",
                   "percentunit",
                   targets(("%s / ignoring(category) group_left %s" % (nps_resp, nps_all),
                            "{{category}}")), stack=True, minv=0, maxv=1),
        timeseries("CSAT", "Customer satisfaction over time.", "percentunit",
                   targets((csat(), "CSAT")), w=8, minv=0, maxv=1),
        timeseries("CES", "Customer effort score over time.", "none", targets((ces(), "CES")),
                   w=8, minv=1, maxv=7),
        timeseries("Response volume", "Responses per survey type in the window.", "short",
                   targets((tot("cs_survey_responses", by="survey", win=True), "{{survey}}")),
                   w=8, bars=True),
    ]
    for d in DIMENSIONS:
        panels.append(timeseries("NPS by %s" % d, "NPS per %s from summed counts." % d, "none",
                                 targets((nps(d), "{{%s}}" % d)), minv=-100, maxv=100))
        panels.append(timeseries("CSAT by %s" % d, "CSAT per %s from summed counts." % d,
                                 "percentunit", targets((csat(d), "{{%s}}" % d)), minv=0, maxv=1))
    return dashboard("cs-voice", "Customer success / Voice of the customer",
                     "NPS, CSAT, CES and survey volumes.", "cs_survey_responses", panels)


def adoption():
    ttv = tot("cs_time_to_value_seconds_bucket", by="le", win=True)
    feat = "%s / ignoring(feature) group_left %s" % (
        tot("cs_feature_active_users", by="feature", win=True),
        tot("cs_active_users", win=True),
    )
    heat = base_panel("heatmap", "Time to value", "Accounts started in the window by time from "
                      "start to first value (gauge histogram buckets, de-accumulated).", "s",
                      [target(ttv, "{{le}}", fmt="heatmap")], 12, 9)
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
                            fmt="heatmap")], w=8)
    risk = table("At-risk accounts", "The lowest-scored accounts over all segments (bounded "
                 "list from the exporter), lowest first.",
                 [("sort(%s)" % m("cs_at_risk_account_score"), "Health score", "none")],
                 w=16, sort_by=[{"desc": False, "displayName": "Health score"}])
    risk["transformations"][1]["options"]["excludeByName"].update(
        {"job": True, "instance": True})
    panels = [
        stat("License utilisation", "Active users of accounts with seats / seats purchased.",
             "percentunit", targets((utilisation(), "utilisation")), minv=0, maxv=1,
             th=thresholds(("red", None), ("yellow", 0.5), ("green", 0.8))),
        stat("Active users", "Distinct active users in the window, all accounts.", "short",
             targets((tot("cs_active_users", win=True), "users"))),
        stat("Seats", "Seats purchased.", "short", targets((tot("cs_seats"), "seats"))),
        stat("Median time to value", "Median time from start to first value, accounts started "
             "in the window.", "s", targets(("histogram_quantile(0.5, %s)" % ttv, "p50"))),
        stat("Pending time to value", "Accounts started in the window with no value yet.",
             "short", targets((tot("cs_time_to_value_pending_accounts", win=True), "pending"))),
        stat("Mean health score", "Mean health score of scored accounts (0-100).", "none",
             targets(("%s / %s" % (tot("cs_health_score_gsum"), tot("cs_health_score_gcount")),
                      "mean")), minv=0, maxv=100, decimals=1,
             th=thresholds(("red", None), ("yellow", 50), ("green", 75))),
        timeseries("License utilisation", "Seats used / seats over time.", "percentunit",
                   targets((utilisation(), "utilisation")), minv=0),
        timeseries("Seats", "Seats purchased and seats used (active users of seated accounts).",
                   "short", targets((tot("cs_seats"), "purchased"),
                                    (tot("cs_seats_used", win=True), "used"))),
        bargauge("Feature adoption", "Distinct users of each feature / distinct active users.",
                 "percentunit", targets((feat, "{{feature}}"), instant=True), minv=0, maxv=1),
        timeseries("Feature adoption", "Feature adoption over time.", "percentunit",
                   targets((feat, "{{feature}}")), minv=0, maxv=1),
        heat,
        timeseries("Time to value percentiles", "Percentiles over the gauge-histogram buckets; "
                   "resolution is limited to the bucket edges (1d ... 90d).", "s",
                   targets(("histogram_quantile(0.5, %s)" % ttv, "p50"),
                           ("histogram_quantile(0.9, %s)" % ttv, "p90")), h=9),
        hist,
        band_colors(timeseries("Health bands", "Scored accounts per health band.", "short",
                               targets((tot("cs_accounts_by_health", by="band"), "{{band}}")),
                               w=16, stack=True)),
        risk,
        bargauge("Outcome attainment", "Accounts meeting each business outcome's target / "
                 "accounts with a value.", "percentunit",
                 targets(("%s / %s" % (
                     tot("cs_outcome_accounts", 'target="met"', by="outcome", win=True),
                     tot("cs_outcome_accounts", by="outcome", win=True)), "{{outcome}}"),
                     instant=True), w=8, minv=0, maxv=1),
    ]
    return dashboard("cs-adoption", "Customer success / Adoption and health",
                     "License utilisation, feature adoption, time to value and account health.",
                     "cs_active_users", panels)


def support():
    panels = [
        stat("Tickets opened", "Tickets opened in the window.", "short",
             targets((tot("cs_tickets", 'state="opened"', win=True), "opened")), w=6),
        stat("Tickets escalated", "Tickets opened in the window and escalated.", "short",
             targets((tot("cs_tickets", 'state="escalated"', win=True), "escalated")), w=6),
        stat("Escalation rate", "Escalated / opened, tickets opened in the window.",
             "percentunit", targets((escalation(), "escalation")), w=6,
             th=thresholds(("green", None), ("yellow", 0.1), ("red", 0.2))),
        stat("Mean resolution time", "Mean time to resolve, tickets resolved in the window.",
             "s", targets((resolution(), "resolution")), w=6),
        timeseries("Tickets", "Tickets opened, escalated and resolved in the window.", "short",
                   targets((tot("cs_tickets", by="state", win=True), "{{state}}")), w=24),
        timeseries("Escalation rate", "Escalated / opened.", "percentunit",
                   targets((escalation(), "escalation")), minv=0),
        timeseries("Mean resolution time", "Summed resolution time / resolved tickets.", "s",
                   targets((resolution(), "resolution")), minv=0),
    ]
    for d in DIMENSIONS:
        panels.append(timeseries("Escalation rate by %s" % d, "Escalation rate per %s." % d,
                                 "percentunit", targets((escalation(d), "{{%s}}" % d)), minv=0))
        panels.append(timeseries("Resolution time by %s" % d, "Mean resolution time per %s." % d,
                                 "s", targets((resolution(d), "{{%s}}" % d)), minv=0))
    return dashboard("cs-support", "Customer success / Support",
                     "Support load, escalations and resolution time.", "cs_tickets", panels)


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
        stat("Scrape up", "Whether Prometheus can scrape the exporter.", "none",
             targets(("min(%s)" % m("up", seg=False), "up")), w=4, h=5,
             th=thresholds(("red", None), ("green", 1))),
        stat("Collectors failing", "Collectors whose last run failed.", "short",
             targets(("count(%s == 0) or vector(0)" % e("cs_collector_up"), "failing")), w=4, h=5,
             th=thresholds(("green", None), ("red", 1))),
        stat("Last config reload", "1 when the last configuration reload succeeded.", "none",
             targets(("min(%s)" % e("cs_config_last_reload_successful"), "reload ok")), w=4, h=5,
             th=thresholds(("red", None), ("green", 1))),
        build,
        state,
        timeseries("Time since last success", "Seconds since each collector last succeeded; "
                   "CustomerSuccessDataStale fires above 2 x the collector interval.", "s",
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
        timeseries("Rejected rows", "Rows skipped for breaking the dataset contract, per second, "
                   "by dataset and reason. A bad row is counted again on every run.", "short",
                   targets(("sum by (dataset, reason) (rate(%s[$__rate_interval]))"
                            % e("cs_rows_rejected_total"), "{{dataset}} {{reason}}"))),
        timeseries("Folded segments", "Segments folded into `other` by the cardinality cap, in "
                   "the last hour.", "short",
                   targets(("sum by (family) (increase(%s[1h]))" % e("cs_series_dropped_total"),
                            "{{family}}")), w=8),
        timeseries("Resident memory", "Resident set size of the exporter process.", "bytes",
                   targets((e("process_resident_memory_bytes"), "{{instance}}")), w=8),
        timeseries("CPU", "CPU seconds used per second by the exporter process.", "short",
                   targets(("rate(%s[$__rate_interval])" % e("process_cpu_seconds_total"),
                            "{{instance}}")), w=8),
    ]
    return dashboard("cs-exporter", "Customer success / Exporter",
                     "Health of cs_exporter itself: collectors, rejected rows, cardinality, "
                     "reloads.", None, panels)


DASHBOARDS = [
    ("cs-overview.json", overview),
    ("cs-revenue.json", revenue),
    ("cs-voice.json", voice),
    ("cs-adoption.json", adoption),
    ("cs-support.json", support),
    ("cs-exporter.json", exporter),
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
        return "sum by (%s) (%s)" % (", ".join([by] + list(extra)), metric)

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
    rec("cs_health_score:mean", "%s\n/ (%s > 0)" % (
        sum_of("cs_health_score_gsum"), sum_of("cs_health_score_gcount")))
    if not dims:
        for q in ("0.5", "0.9"):
            rules.append({
                "record": "job_quantile:cs_time_to_value_seconds:histogram_quantile",
                "expr": "histogram_quantile(%s, job:cs_time_to_value_seconds_bucket:sum)" % q,
                "labels": {"quantile": q},
            })
    return rules


RULES_HEADER = """\
# Recording rules for cs_exporter. GENERATED by dashboards/generate.py: edit
# that script and rerun it, do not edit this file.
#
# Names follow level:metric:operations. Levels: job (every segment of one
# exporter instance), %s (one segment dimension each). instance is always kept:
# two instances never add up. Ratios are computed from summed numerators and
# denominators, never by averaging the exporter's per-segment ratios, and are
# omitted where the denominator is 0 (as the exporter omits them).
""" % ", ".join(DIMENSIONS)


def yaml_scalar(s):
    if isinstance(s, str) and "\n" not in s and not s.startswith(("{", "[", '"', "'", "&", "*",
                                                                 "!", "|", ">", "%", "@", "`")):
        if ": " not in s and " #" not in s:
            return s
    return json.dumps(s)


def render_rules():
    groups = [("cs_exporter.job.rules", "job", [])]
    groups += [("cs_exporter.%s.rules" % d, d, [d]) for d in DIMENSIONS]
    out = [RULES_HEADER, "groups:\n"]
    for name, level, dims in groups:
        out.append("  - name: %s\n    rules:\n" % name)
        for r in recording_rules(level, dims):
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


def render():
    """{path relative to dashboards/: file content}"""
    files = {}
    for fname, fn in DASHBOARDS:
        files[os.path.join("grafana", fname)] = json.dumps(fn(), indent=2, sort_keys=True) + "\n"
    files[os.path.join("rules", "recording.yaml")] = render_rules()
    return files


def stale_files(root=HERE):
    """Paths whose content on disk differs from what render() produces."""
    stale = []
    for rel, text in sorted(render().items()):
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
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--check", action="store_true", help="exit 1 when generated files are stale")
    args = ap.parse_args()
    if args.check:
        stale = stale_files()
        for p in stale:
            print("%s: out of date, run dashboards/generate.py" % p, file=sys.stderr)
        return 1 if stale else 0
    for rel, text in render().items():
        path = os.path.join(HERE, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
