#!/usr/bin/env python3
"""Headline KPIs of a demo exposition, over all segments.

    headline.py EXPOSITION [--check] [--rows-read N]

Reads a text exposition (cs_exporter --once --as-of ...) and prints the
company-wide KPIs a customer-success lead looks at first, each as
sum(numerator) / sum(denominator) over the segments (docs/metrics.md).
With --check it exits 1 unless each lies where a healthy B2B SaaS company
sits (RANGES), every 30d and 90d window is alive, no segment with enough
customers looks absurd, and rejected rows stay well under 1 % of the rows
read. The ranges are the contract of tests/tools/gen_demo.c's clean company.
"""
import re
import sys
from collections import defaultdict

# name: (low, high); ratios are fractions, NPS is in points.
RANGES = {
    "logo_churn_30d": (0.005, 0.06),
    "nrr_90d": (0.90, 1.10),
    "nps_90d": (0.0, 60.0),
    "csat_90d": (0.60, 0.95),
    "utilisation_30d": (0.30, 0.90),
    "trial_conversion_90d": (0.10, 0.40),
}
# Renewals and payment risk (docs/metrics.md), checked when the exposition
# has the families: a little past-due MRR, involuntary churn a real part of
# churn but under the CustomerSuccessInvoluntaryChurnHigh threshold (2 % of MRR in 30d), renewals
# in the next quarter, and red MRR renewing within 30d under the
# CustomerSuccessRenewalAtRisk threshold (5 % of MRR): the demo is a healthy
# company, no alert fires on it.
RANGES6 = {
    "past_due_share": (0.005, 0.08),
    "involuntary_churn_30d": (0.0, 0.02),
    "involuntary_share_of_churn_90d": (0.05, 0.7),
    "renewal_mrr_share_90d": (0.05, 0.5),
    "red_renewal_mrr_share_30d": (0.0, 0.05),
}
# Revenue intelligence (docs/metrics.md), checked when the exposition has the
# families: a few % of MRR cancelling but still paying (under the
# CustomerSuccessPendingChurnHigh threshold, 5 % of MRR), most failed
# payments recovered (fewer within 30d: the window's last failures are still
# being retried), days sales outstanding of a B2B company billing cards and
# net-30 invoices, and little of the receivables more than 90 days overdue.
RANGES7 = {
    "pending_churn_share": (0.005, 0.05),
    "payment_recovery_30d": (0.3, 0.95),
    "payment_recovery_90d": (0.5, 0.95),
    "dso_30d": (10.0, 60.0),
    "dso_90d": (10.0, 60.0),
    "over_90_share_of_receivables": (0.0, 0.15),
    # Both drivers move MRR: seat changes mostly, plan and discount changes too;
    # most churned customers gave a reason.
    "seats_share_of_expansion_90d": (0.3, 0.95),
    "seats_share_of_contraction_90d": (0.3, 0.95),
    "unknown_reason_share_90d": (0.05, 0.4),
}
WINDOW_DAYS = {"30d": 30, "90d": 90}
# A segment with at least this many customers at the window start must not
# look absurd: its 90d NRR and 30d logo churn stay within these.
SEGMENT_MIN_CUSTOMERS = 30
SEGMENT_NRR = (0.75, 1.30)
SEGMENT_CHURN = (0.0, 0.12)

LINE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse(path):
    samples = []
    with open(path, encoding="utf-8") as f:
        for ln in f:
            if ln.startswith("#") or not ln.strip():
                continue
            m = LINE.match(ln.rstrip("\n"))
            if not m:
                continue
            labels = dict(LABEL.findall(m.group(2) or ""))
            samples.append((m.group(1), labels, float(m.group(3))))
    return samples


SEGMENT_SKIP = {"window", "type", "currency", "survey", "category", "result", "state",
                "feature", "outcome", "target", "band", "le", "account", "name",
                "cohort", "age_months", "horizon", "from", "to", "reason", "driver",
                "bucket"}


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    check = "--check" in argv[2:]
    rows_read = 0
    if "--rows-read" in argv[2:]:
        rows_read = float(argv[argv.index("--rows-read") + 1])
    samples = parse(argv[1])

    def total(name, **want):
        return sum(v for n, l, v in samples
                   if n == name and all(l.get(k) == w for k, w in want.items()))

    def per_segment(name, **want):
        out = defaultdict(float)
        for n, l, v in samples:
            if n == name and all(l.get(k) == w for k, w in want.items()):
                out[tuple(sorted((k, x) for k, x in l.items() if k not in SEGMENT_SKIP))] += v
        return out

    def ratio(num, den):
        return num / den if den else float("nan")

    k = {}
    k["customers"] = total("cs_customers")
    k["mrr"] = total("cs_mrr")
    for w in ("30d", "90d"):
        start = total("cs_customers_window_start", window=w)
        k["logo_churn_" + w] = ratio(total("cs_customer_movements", window=w, type="churned"), start)
        m0 = total("cs_mrr_window_start", window=w)
        mv = {t: total("cs_mrr_movement", window=w, type=t)
              for t in ("new", "reactivation", "expansion", "contraction", "churn")}
        k["nrr_" + w] = ratio(m0 - mv["churn"] - mv["contraction"] + mv["expansion"], m0)
        k["grr_" + w] = ratio(m0 - mv["churn"] - mv["contraction"], m0)
        cat = {c: total("cs_survey_responses", window=w, survey="nps", category=c)
               for c in ("promoter", "passive", "detractor")}
        k["nps_" + w] = ratio(100 * (cat["promoter"] - cat["detractor"]), sum(cat.values()))
        sat = total("cs_survey_responses", window=w, survey="csat", category="satisfied")
        k["csat_" + w] = ratio(sat, sat + total("cs_survey_responses", window=w, survey="csat",
                                                 category="unsatisfied"))
        k["utilisation_" + w] = ratio(total("cs_seats_used", window=w), total("cs_seats"))
        conv = total("cs_trials_ended", window=w, result="converted")
        k["trial_conversion_" + w] = ratio(conv, conv + total("cs_trials_ended", window=w,
                                                               result="canceled"))
        k["active_users_" + w] = total("cs_active_users", window=w)
        k["tickets_opened_" + w] = total("cs_tickets", window=w, state="opened")
        k["escalation_" + w] = ratio(total("cs_tickets", window=w, state="escalated"),
                                     k["tickets_opened_" + w])
    names = {n for n, _, _ in samples}
    section6 = {"cs_mrr_past_due", "cs_mrr_involuntary_churn", "cs_renewal_mrr"} <= names
    if section6:
        k["past_due_share"] = ratio(total("cs_mrr_past_due"), k["mrr"])
        k["involuntary_churn_30d"] = ratio(total("cs_mrr_involuntary_churn", window="30d"),
                                           total("cs_mrr_window_start", window="30d"))
        k["involuntary_share_of_churn_90d"] = ratio(
            total("cs_mrr_involuntary_churn", window="90d"),
            total("cs_mrr_movement", window="90d", type="churn"))
        k["renewal_mrr_share_90d"] = ratio(total("cs_renewal_mrr", horizon="90d"), k["mrr"])
        k["red_renewal_mrr_share_30d"] = ratio(
            total("cs_renewal_mrr", horizon="30d", band="red"), k["mrr"])
    section7 = {"cs_mrr_pending_churn", "cs_receivables_amount", "cs_payments_failed"} <= names
    if section7:
        k["pending_churn_share"] = ratio(total("cs_mrr_pending_churn"), k["mrr"])
        k["customers_pending_churn"] = total("cs_customers_pending_churn")
        recv = total("cs_receivables_amount")
        for w, days in WINDOW_DAYS.items():
            k["payment_recovery_" + w] = ratio(total("cs_payments_recovered", window=w),
                                               total("cs_payments_failed", window=w))
            k["dso_" + w] = ratio(recv * days, total("cs_billed_amount", window=w))
        k["over_90_share_of_receivables"] = ratio(
            total("cs_receivables_amount", bucket="over_90"), recv)
        k["unknown_reason_share_90d"] = ratio(
            total("cs_customers_churned_by_reason", window="90d", reason="unknown"),
            total("cs_customers_churned_by_reason", window="90d"))
        for typ in ("expansion", "contraction"):
            k["seats_share_of_%s_90d" % typ] = ratio(
                total("cs_mrr_movement_by_driver", window="90d", type=typ, driver="seats"),
                total("cs_mrr_movement_by_driver", window="90d", type=typ))
    k["series"] = len(samples)
    rejected = total("cs_rows_rejected_total")
    # Rows read: the freshness metric when the exposition has it, else the
    # caller's count (the loaded rows of the tables the datasets map).
    read = sum(v for n, l, v in samples if n == "cs_dataset_rows") or rows_read
    k["rows_rejected"] = rejected
    k["rows_rejected_ratio"] = ratio(rejected, read)
    k["segments"] = len(per_segment("cs_customers"))

    counts = ("customers", "customers_pending_churn", "series", "rows_rejected", "segments", "active_users_30d",
              "active_users_90d", "tickets_opened_30d", "tickets_opened_90d")
    for name, v in k.items():
        print("%-22s %s" % (name, "%d" % v if name in counts else "%.4f" % v))

    if not check:
        return 0
    bad = []
    if not section6:
        print("SKIP section 6 ranges: the exposition has no cs_mrr_past_due, "
              "cs_mrr_involuntary_churn or cs_renewal_mrr (exporter side of issue 15)")
    if not section7:
        print("SKIP section 7 ranges: the exposition has no cs_mrr_pending_churn, "
              "cs_receivables_amount or cs_payments_failed")
    for name, (lo, hi) in (list(RANGES.items()) + (list(RANGES6.items()) if section6 else [])
                           + (list(RANGES7.items()) if section7 else [])):
        v = k[name]
        if not lo <= v <= hi:  # NaN fails too
            bad.append("%s = %.4f, outside [%g, %g]" % (name, v, lo, hi))
    for w in ("30d", "90d"):
        for name in ("active_users_", "tickets_opened_"):
            if not k[name + w] > 0:
                bad.append("%s%s is %g: the window is empty" % (name, w, k[name + w]))
    if not k["rows_rejected_ratio"] < 0.01:
        bad.append("rejected rows are %.4f of the rows read" % k["rows_rejected_ratio"])
    start = per_segment("cs_customers_window_start", window="90d")
    start30 = per_segment("cs_customers_window_start", window="30d")
    churned = per_segment("cs_customer_movements", window="30d", type="churned")
    m0 = per_segment("cs_mrr_window_start", window="90d")
    mv = {t: per_segment("cs_mrr_movement", window="90d", type=t)
          for t in ("churn", "contraction", "expansion")}
    for seg, n in sorted(start.items()):
        if n < SEGMENT_MIN_CUSTOMERS or not m0.get(seg):
            continue
        nrr = (m0[seg] - mv["churn"][seg] - mv["contraction"][seg] + mv["expansion"][seg]) / m0[seg]
        churn = churned[seg] / start30[seg] if start30.get(seg) else 0.0
        if not SEGMENT_NRR[0] <= nrr <= SEGMENT_NRR[1]:
            bad.append("segment %s (%d customers): 90d NRR %.3f" % (dict(seg), n, nrr))
        if not SEGMENT_CHURN[0] <= churn <= SEGMENT_CHURN[1]:
            bad.append("segment %s (%d customers): 30d logo churn %.3f" % (dict(seg), n, churn))
    for b in bad:
        print("OUT OF RANGE " + b)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
