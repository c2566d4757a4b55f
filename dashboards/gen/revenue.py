"""The Revenue dashboard (cs-revenue): MRR, movements, retention, payment
risk and retention cohorts."""

from gen import ctx
from gen.panels import (
    GRR_TH, NET_MRR_CHURN_TH, NRR_TH, bargauge, cohort_table, dashboard, fixed_colors,
    override, row, stat, table, targets, thresholds, timeseries)
from gen.promql import (
    arpa, by_dims, dims, div, dso, g, legend, logo_churn, mrr_churn, nrr, quick_ratio,
    recovery, tot)

MOVEMENT_COLORS = {"new": "green", "expansion": "semi-dark-green", "reactivation": "blue",
                   "contraction": "orange", "churn": "red", "net": "text"}


def revenue():
    mu = ctx.S.money_unit
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
             w=3, kind="revenue"),
        stat("Committed MRR", "MRR without the pending churn: the MRR of subscriptions whose "
             "cancellation was requested but has not yet taken effect (ChartMogul's committed "
             "MRR, scheduled churn only). Needs the subscriptions column cancel_requested_at "
             "(docs/datasets.md); without it, No data.", mu,
             targets((tot("cs_committed_mrr", by="currency"), "{{currency}}")), change="up",
             w=3, kind="revenue"),
        stat("Pending churn MRR", "MRR of subscriptions cancelled but still paying: it leaves at "
             "the end of their period unless the customer is won back (ProfitWell's "
             "\"cancelled, not yet churned\"). Needs cancel_requested_at.", mu,
             targets((tot("cs_mrr_pending_churn", by="currency"), "{{currency}}")),
             change="down", w=3, kind="revenue"),
        stat("ARPA", "Average revenue per account: summed MRR / summed paying customers.",
             mu, targets((arpa(), "ARPA")), change="up", w=3, kind="revenue"),
        stat("NRR", "Net revenue retention over the window. Thresholds follow the window.",
             "percentunit", targets((nrr(by="window"), "NRR {{window}}")), change="up",
             per_window=NRR_TH, w=3, kind="revenue"),
        stat("GRR", "Gross revenue retention over the window. Thresholds follow the window.",
             "percentunit", targets((nrr(by="window", gross=True), "GRR {{window}}")),
             change="up", per_window=GRR_TH, w=3, kind="revenue"),
        stat("Net MRR churn", "(churn + contraction - expansion - reactivation) / MRR at window "
             "start; negative is net expansion. Thresholds follow the window.", "percentunit",
             targets((mrr_churn(by="window"), "net MRR churn {{window}}")), change="down",
             per_window=NET_MRR_CHURN_TH, w=3, kind="revenue"),
        stat("Quick ratio", "(new + reactivation + expansion) / (churn + contraction) MRR.",
             "none", targets((quick_ratio(), "quick ratio")), decimals=2, change="up",
             th=thresholds(("red", None), ("yellow", 1), ("green", 4)), w=3, kind="revenue"),
        row("MRR movements"),
        bars,
        bridge,
        timeseries("Customer movements", "Customers per movement class over the window.", "short",
                   targets((tot("cs_customer_movements", by="type", win=True), "{{type}}")),
                   kind="revenue"),
        timeseries("Quick ratio", "MRR gained / MRR lost; above 1 the base grows.", "none",
                   targets((quick_ratio(), "quick ratio")), minv=0, kind="revenue"),
        movers(),
        row("Retention and churn"),
        timeseries("MRR churn", "Net and gross MRR churn over the window.", "percentunit",
                   targets((mrr_churn(), "net"), (mrr_churn(net=False), "gross")),
                   kind="revenue"),
        timeseries("Revenue retention", "Net and gross revenue retention.", "percentunit",
                   targets((nrr(), "NRR"), (nrr(gross=True), "GRR")), kind="revenue"),
    ]
    panels += scheduled_churn() + [row("MRR, ARPA and lifetime value")]
    panels += payment_risk() + receivables() + cohorts()
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


def movers():
    """The customers behind each movement (cs_mrr_mover: the largest of each
    type, a bounded list, docs/metrics.md): one instant query, a list now,
    not a history."""
    cols = ["type", "account", "name", "billing_key"] + dims()
    p = table("Customers behind the movements", "The customers with the largest MRR "
              "movements over the selected window, per type (new, reactivation, expansion, "
              "contraction, churn; amounts positive, losses included), largest first: a "
              "bounded list from the exporter (movers.top per window and type). Account and "
              "name as on the at-risk list, empty when no account names the billing "
              "customer.", [(g("cs_mrr_mover", win=True), "Amount", ctx.S.money_unit)],
              h=10, sort_by=[{"desc": True, "displayName": "Amount"}], kind="revenue")
    # A table of one query names its value column "Value", of several "Value #A".
    p["fieldConfig"]["overrides"].append(override(
        "byName", "Value", ("displayName", "Amount"), ("unit", ctx.S.money_unit)))
    org = p["transformations"][1]["options"]
    org["excludeByName"].update({"job": True, "instance": True, "window": True,
                                 "currency": True})
    org["indexByName"] = dict([(c, i) for i, c in enumerate(cols)] +
                              [("Value", len(cols)), ("Value #A", len(cols))])
    return p


def payment_risk():
    """Past-due MRR, and churn split into involuntary (failed payments: the
    customer's last counted rows were all past_due) and voluntary."""
    mu = ctx.S.money_unit
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


REASON_ORDER = "sort_desc"


def right_axis(p, name, unit):
    """The series `name` of a time series panel on a right axis of its own unit."""
    p["fieldConfig"]["overrides"].append(override(
        "byName", name, ("custom.axisPlacement", "right"), ("unit", unit)))


def scheduled_churn():
    """Pending churn and committed MRR (cancellations requested, not yet in
    effect), churn by reason, and expansion and contraction split into
    seats and price (docs/metrics.md). The first two need the optional
    subscriptions columns cancel_requested_at and churn_reason: without them
    those panels show No data."""
    mu = ctx.S.money_unit
    k = "revenue"
    pending = tot("cs_mrr_pending_churn")
    by_driver = lambda typ: tot("cs_mrr_movement_by_driver", 'type="%s"' % typ, by="driver",
                                win=True)
    drivers = timeseries("Expansion and contraction by driver per $window", "Expansion and "
                         "contraction MRR split by what moved: seats (the summed quantity "
                         "rose, for expansion, or fell, for contraction) or price (anything "
                         "else: a price, tier or discount change), one bar per "
                         "$window period ending at the bar; contraction below zero. Seats "
                         "and price add up to the movement.", mu,
                         targets((by_driver("expansion"), "expansion {{driver}}"),
                                 ("-" + by_driver("contraction"), "contraction {{driver}}")),
                         w=24, stack=True, bars=True, kind=k)
    drivers["interval"] = "$window"
    fixed_colors(drivers, {"expansion seats": "green", "expansion price": "semi-dark-green",
                           "contraction seats": "orange", "contraction price": "yellow"})
    reasons = bargauge("Churned MRR by reason", "MRR at the window's start of the customers "
                       "who churned in it, by the reason on their subscription (the "
                       "configured churn_reasons; anything else is other, none is unknown). "
                       "The reasons add up to the churn movement. Needs churn_reason.", mu,
                       targets(("%s(%s)" % (REASON_ORDER, tot("cs_mrr_churn_by_reason",
                                                              by="reason", win=True)),
                                "{{reason}}"), instant=True), kind=k)
    reasons["options"]["displayMode"] = "basic"
    reasons_n = bargauge("Churned customers by reason", "Customers who churned in the window, "
                         "by reason. Needs churn_reason.", "short",
                         targets(("%s(%s)" % (REASON_ORDER, tot("cs_customers_churned_by_reason",
                                                                by="reason", win=True)),
                                  "{{reason}}"), instant=True), kind=k)
    reasons_n["options"]["displayMode"] = "basic"
    share = timeseries("Pending churn", "Pending churn MRR as a share of MRR, and (right "
                       "axis) the customers all of whose subscriptions are cancelling. The "
                       "alert CustomerSuccessPendingChurnHigh fires above 5 %.", "percentunit",
                       targets((div(pending, tot("cs_mrr")), "share of MRR"),
                               (tot("cs_customers_pending_churn"), "customers")), minv=0,
                       kind=k)
    right_axis(share, "customers", "short")
    return [
        row("Scheduled churn, reasons and drivers"),
        timeseries("MRR, committed MRR and pending churn", "MRR, the part of it that stays "
                   "(committed) and the part whose cancellation is already requested "
                   "(pending churn): committed + pending = MRR. Needs cancel_requested_at.",
                   mu, targets((tot("cs_mrr"), "MRR"), (tot("cs_committed_mrr"), "committed"),
                               (pending, "pending churn")), kind=k),
        share,
        reasons,
        reasons_n,
        drivers,
    ]


RECEIVABLE_BUCKETS = [("current", "green"), ("1_30", "yellow"), ("31_60", "orange"),
                      ("61_90", "red"), ("over_90", "dark-red")]


def receivables():
    """Receivables by age, failed and recovered payments, DSO: from the
    optional payments dataset, left out without one."""
    if not ctx.S.payments:
        return []
    mu = ctx.S.money_unit
    k = "revenue"
    recv = lambda *mm: tot("cs_receivables_amount", *mm)
    aged = timeseries("Receivables by age", "Open invoices (issued, not paid) by days past "
                      "their due date, stacked: current (not yet due), 1-30, 31-60, 61-90 and "
                      "over 90 days.", mu,
                      targets(*[(recv('bucket="%s"' % b), b) for b, _ in RECEIVABLE_BUCKETS]),
                      stack=True, kind=k)
    fixed_colors(aged, dict(RECEIVABLE_BUCKETS))
    failed = tot("cs_payments_failed", win=True)
    recovered = tot("cs_payments_recovered", win=True)
    counts = timeseries("Failed and recovered payments", "Invoices whose first payment attempt "
                        "failed in the window, and those of them paid by its end; the "
                        "recovery ratio on the right axis.", "short",
                        targets((failed, "failed"), (recovered, "recovered"),
                                (recovery(), "recovery ratio")), minv=0, kind=k)
    right_axis(counts, "recovery ratio", "percentunit")
    return [
        row("Receivables and failed payments"),
        stat("Receivables", "Open invoices now, all ages.", mu, targets((recv(), "open")),
             change="down", kind=k),
        stat("Over 90 days past due", "Open invoices more than 90 days past their due date. "
             "The alert CustomerSuccessReceivablesOverdueGrowing fires when this grows fast.",
             mu, targets((recv('bucket="over_90"'), "over 90 days")), change="down", kind=k),
        stat("Days sales outstanding", "Receivables now / amount billed in the window x the "
             "window in days: how many days of billing are still unpaid.", "d",
             targets((dso(), "DSO {{window}}")), decimals=1, change="down", kind=k),
        stat("Payment recovery", "Failed payments of the window (first failure in it) that "
             "were paid by its end / failed payments. The alert "
             "CustomerSuccessPaymentRecoveryFalling fires when it falls well below its usual "
             "level.", "percentunit", targets((recovery(), "recovered")), minv=0, maxv=1,
             change="up", th=thresholds(("red", None), ("yellow", 0.4), ("green", 0.6)),
             kind=k),
        stat("Failed payments", "Invoices whose first payment attempt failed in the window.",
             "short", targets((failed, "failed")), change="down", kind=k),
        stat("Billed", "Amount invoiced in the window.", mu,
             targets((tot("cs_billed_amount", by="currency", win=True), "{{currency}}")),
             change="up", kind=k),
        aged,
        counts,
        timeseries("Days sales outstanding", "Receivables / billed amount x window days, for "
                   "the selected window.", "d", targets((dso(), "DSO {{window}}")), minv=0,
                   kind=k),
        timeseries("Failed and recovered amounts", "Amounts of the failed invoices of the "
                   "window, and of those recovered by its end.", mu,
                   targets((tot("cs_payments_failed_amount", win=True), "failed"),
                           (tot("cs_payments_recovered_amount", win=True), "recovered")),
                   kind=k),
    ]


def cohorts():
    """The classic retention triangle (ChartMogul, Baremetrics): cohorts by
    month of first payment, one column per month of age."""
    if not ctx.S.cohort_months:
        return []
    cd = ctx.S.cohort_dimensions
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
           % ctx.S.cohort_months + dims_note)
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
