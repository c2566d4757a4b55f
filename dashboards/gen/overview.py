"""The Overview dashboard (cs-overview)."""

from gen import ctx
from gen.panels import (
    LOGO_CHURN_TH, NPS_TH, NRR_TH, band_colors, bargauge, dashboard, row, stat, targets,
    thresholds, timeseries)
from gen.promql import csat, logo_churn, nps, nrr, tot

def overview():
    mrr = tot("cs_mrr", by="currency")
    mu = ctx.S.money_unit
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
