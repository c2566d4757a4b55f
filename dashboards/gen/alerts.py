"""Alerting rules (rules/alerts.yaml): every alert is data in ALERT_GROUPS."""

import re
import textwrap

import libconf

from gen import ctx
from gen.settings import DEFAULT_INTERVAL, DEFAULT_TIMEOUT

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
# configured. None: the exporter's own series, always rendered. payments:
# True when it reads the families of the payments dataset, left out without
# one.

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
     "comment": ["Renewals, payment risk, pending churn, receivables and health",
                 "movement. Each",
                 "threshold is the number on the line marked \"threshold:\"; change it there,",
                 "in the header above, in dashboards/runbook.md and docs/dashboards.md."],
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
        {"alert": "CustomerSuccessPendingChurnHigh", "kinds": ["revenue"],
         "header": ["pending churn MRR (cancellations requested, not yet",
                    "in effect) > 5 % of MRR, for 1h"],
         "comment": ["Needs the subscriptions column cancel_requested_at; without it",
                     "there is no cs_mrr_pending_churn and the alert stays silent."],
         "expr": """\
job:cs_mrr_pending_churn:sum
  / on (job, instance, currency) (job:cs_mrr:sum > 0)
> 0.05
""",
         "post": ["threshold: 0.05 = 5 % of MRR"],
         "for": "1h", "severity": "warning",
         "summary": "An unusual share of MRR has asked to cancel.",
         "description": "{{ $labels.instance }}: subscriptions whose cancellation is "
                        "requested but not yet in effect hold {{ $value | humanizePercentage }} "
                        "of MRR, above 5%."},
        {"alert": "CustomerSuccessPaymentRecoveryFalling", "kinds": ["revenue"],
         "payments": True, "window": "short",
         "header": ["@W@ payment recovery ratio > 15 points below its 7d",
                    "baseline (offset 1d), >= 20 failed payments, for 1h"],
         "comment": ["Recovered / failed payments of the window. A drop means dunning",
                     "or card updating stopped working; the floor of 20 failed payments",
                     "keeps a handful of failures from paging."],
         "expr": """\
(
  avg_over_time(job:cs_payment_recovery:ratio{window="@W@"}[7d] offset 1d)
  - job:cs_payment_recovery:ratio{window="@W@"}
) > 0.15
and on (job, instance, window)
job:cs_payments_failed:sum{window="@W@"} >= 20
""",
         "post": ["threshold: 0.15 = 15 points below the baseline"],
         "for": "1h", "severity": "warning",
         "summary": "Failed payments are being recovered much less than usual.",
         "description": "{{ $labels.instance }}: the share of failed payments recovered "
                        "over {{ $labels.window }} is {{ $value | humanizePercentage }} "
                        "(percentage points) below its average of the previous week."},
        {"alert": "CustomerSuccessReceivablesOverdueGrowing", "kinds": ["revenue"],
         "payments": True,
         "header": ["receivables over 90 days past due > 1.25 x their 7d",
                    "baseline (offset 1d) and > 1 % of MRR, for 6h"],
         "comment": ["Invoices open more than 90 days after their due date are rarely",
                     "paid; a quick rise means collections stalled. The 1 % of MRR",
                     "floor keeps small amounts from paging."],
         "expr": """\
job:cs_receivables_amount:sum{bucket="over_90"}
  > 1.25 * avg_over_time(job:cs_receivables_amount:sum{bucket="over_90"}[7d] offset 1d)
and on (job, instance, currency)
job:cs_receivables_amount:sum{bucket="over_90"}
  > on (job, instance, currency) group_left ()
0.01 * job:cs_mrr:sum
""",
         "post": ["threshold: 1.25 x the baseline, floor 0.01 = 1 % of MRR"],
         "for": "6h", "severity": "warning",
         "summary": "Invoices more than 90 days overdue are piling up.",
         "description": "{{ $labels.instance }}: {{ $value | humanize }} {{ $labels.currency }} "
                        "of invoices are over 90 days past due, over 1.25 times the average "
                        "of the previous week."},
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
         "comment": ["The dataset's freshness (its newest loaded_at, else its newest business",
                     "instant, see docs/datasets.md, \"Freshness\") is older than its max_age from",
                     "the config; a max_age of 0 (the default but for activity) never fires, so a",
                     "quiet small company is not paged. A feed that stopped looks like a quiet",
                     "month otherwise."],
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
    ws = ctx.S.windows_for([kind])
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
    if not ctx.S.selector:
        return expr

    def add(mo):
        inner = mo.group(3)
        return "%s{%s}" % (mo.group(1), ctx.S.selector + ("," + inner if inner else ""))

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
    for name, interval, timeout in ctx.S.collectors:
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
            if kinds and not all(ctx.S.has(k) for k in kinds):
                continue
            if a.get("payments") and not ctx.S.payments:
                continue
            sub = {"@SEL@": ctx.S.selector or 'job="cs_exporter"'}
            if a.get("window"):
                w = alert_window(kinds[0], a["window"])
                if w is None:
                    continue
                sub["@W@"], sub["@WDAYS@"] = w, in_words(w)
            if a.get("horizon"):
                sub["@H@"] = closest(ctx.S.horizons, SHORT_WINDOW)
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
        "docs/dashboards.md: change all three together.",
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
    lines += textwrap.wrap("Alerts of collector kinds that are not configured, or of a payments "
                           "dataset that is not, are left out: %s." % csv(left_out), 76)
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
    if ctx.S.selector:
        lines.append("Raw cs_* series and up are read with {%s} (--selector)." % ctx.S.selector)
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
