"""The Adoption and health dashboard (cs-adoption): utilisation, features,
time to value, health, renewals, health movement and outcomes."""

from gen import ctx
from gen.panels import (
    band_colors, bargauge, base_panel, dashboard, override, row, stat, table, target, targets,
    thresholds, timeseries)
from gen.promql import div, g, inc, quantile, tot, utilisation

def renewals():
    """MRR and accounts up for renewal within each horizon, by health band."""
    mu = ctx.S.money_unit
    k = "health"
    h0 = ctx.S.horizons[0]
    desc = ("Accounts whose renewal date (the accounts dataset's renewal_at) falls in "
            "[now, now + horizon), by health band now, horizons %s; a horizon includes the "
            "shorter ones. Overdue renewals (in the past) count in none."
            % ", ".join(ctx.S.horizons))
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
    if sorted(ctx.S.horizons) == ctx.S.horizons:  # text order is duration order
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


LIVE_ONLY = (" Live only: the exporter counts transitions between its own evaluations; "
             "backfilled history has none.")


def health_movement():
    """Band changes between consecutive health evaluations (a counter)."""
    k = "health"
    tr = lambda *mm, by=None: inc("cs_health_band_transitions_total", "1d", *mm, by=by)
    moves = base_panel("table", "Band transitions, last day", "Accounts that changed band "
                       "between two consecutive health evaluations in the last day, by "
                       "from and to band (unscored: not scored in one of the two)."
                       + LIVE_ONLY, "short",
                       [target(tr(by="from, to"), ref="A", instant=True, fmt="table")],
                       12, 9, decimals=0, kind=k)
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
             "above 10)." + LIVE_ONLY, "short",
             targets((tr('to="red"'), "to red")), w=6,
             change=None, decimals=0,
             th=thresholds(("green", None), ("yellow", 5), ("red", 11)), kind=k),
        stat("Moved out of red, last day", "Accounts whose band changed from red to "
             "another band in the last 24 hours." + LIVE_ONLY, "short",
             targets((tr('from="red"'), "out of red")), w=6,
             change=None, decimals=0, kind=k),
        moves,
        band_colors(timeseries("Band changes per hour, by new band", "Accounts entering "
                               "each band (or leaving the scored set) per hour."
                               + LIVE_ONLY, "short",
                               targets((inc("cs_health_band_transitions_total", "1h", by="to"),
                                        "{{to}}")),
                               w=24, bars=True, stack=True, kind=k)),
    ]


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
    # Two instant queries merged on their shared labels (account, name and
    # the segment labels): the score with its band and renewal date, and the
    # MRR of the same accounts (docs/metrics.md); an account whose billing
    # customer has no MRR keeps an empty MRR cell.
    risk = table("At-risk accounts", "The accounts most at risk (bounded list from the "
                 "exporter, health.at_risk overall or per segment), highest MRR first: "
                 "the MRR at risk. With each account's health score, band and contract "
                 "renewal date (empty: none on record).",
                 [(g("cs_at_risk_account_score"), "Health score", "none"),
                  (g("cs_at_risk_account_mrr"), "MRR", ctx.S.money_unit)],
                 w=16, sort_by=[{"desc": True, "displayName": "MRR"}], kind="health")
    risk["transformations"][1]["options"]["excludeByName"].update(
        {"job": True, "instance": True, "currency": True})
    risk["transformations"][1]["options"]["renameByName"].update(
        {"renewal_at": "Renewal date"})
    features = ", ".join(ctx.S.features)
    targets_text = "; ".join(
        "%s %s %s" % (n, ">=" if d != "at_most" else "<=", t) for n, t, d in ctx.S.outcomes)
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
    if ctx.S.features:
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
    if ctx.S.outcomes:
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
