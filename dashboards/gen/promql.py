"""PromQL helpers: selectors with the dashboard variables, and the KPI
expressions as sums of numerators over sums of denominators.

Every KPI panel reads the exporter's gauges through g() (or tot(), which sums
g()), and its counters through inc(); m() is the bare selector, for the
Exporter dashboard and inside those two. g() makes a value

- show on backfilled history: `cs_exporter backfill` writes one sample per
  step (one a day by default), which Prometheus' 5-minute lookback finds only
  in the 5 minutes after it. Where the exporter's target has no `up` sample
  (no live scrape: the backfilled past), the value is the series' last
  sample within the history step (last_over_time(x[1d])); where it has one,
  the live sample alone, so a family the exporter stops serving (stale data
  dropped) or an exporter that is down (up 0) shows as absent at once, as it
  does without backfill. See docs/dashboards.md, "History and replicas".
- count replicas once: exporters of one job are taken to be replicas reading
  the same data (high availability), so a value is the max over `instance`
  before any sum; two exporters of different data are two jobs.
"""

import re

import libconf

from gen import ctx

# ---------------------------------------------------------------------------
# PromQL helpers
# ---------------------------------------------------------------------------

BASE = ['job=~"$job"', 'instance=~"$instance"']
WIN = 'window=~"$window"'


def dims():
    return ctx.S.dimensions


def by_dims():
    return ", ".join(ctx.S.dimensions)


def m(metric, *matchers, seg=True, win=False):
    """A selector limited to the dashboard's job/instance/segments. seg: True
    (every segment dimension), False, or the list of dimensions the family
    carries (a matcher on a label the family lacks would match nothing)."""
    seg_dims = ctx.S.dimensions if seg is True else (seg or [])
    segm = ['%s=~"$%s"' % (d, d) for d in seg_dims]
    parts = list(BASE) + segm + ([WIN] if win else []) + list(matchers)
    return "%s{%s}" % (metric, ",".join(parts))


def up():
    """The scrape status of the selected exporters: present while Prometheus
    scrapes them (live), absent over backfilled history."""
    return "up{%s}" % ",".join(BASE)


def g(metric, *matchers, **kw):
    """A gauge as a KPI panel reads it (see the top): the live sample, else
    (no live scrape of that job and instance) the last one within the history
    step; one value over the replicas of a job. Keeps every label but
    `instance`. Not for counters (inc())."""
    sel = m(metric, *matchers, **kw)
    return ("max without (instance) (%s or (last_over_time(%s[%s]) unless on (job, instance) %s))"
            % (sel, sel, ctx.S.lookback, up()))


def inc(metric, rng, *matchers, by=None, **kw):
    """sum [by (...)] of increase(counter[rng]), one value over the replicas
    of a job. Counters count what the running exporter saw (band transitions,
    rejected rows): live only, the backfill writes them as 0."""
    grp = " by (%s)" % by if by else ""
    return "sum%s(max without (instance) (increase(%s[%s])))" % (
        grp, m(metric, *matchers, **kw), rng)


def tot(metric, *matchers, by=None, **kw):
    """sum [by (...)] of a gauge read with g(): the numerator or denominator
    of a total."""
    grp = " by (%s)" % by if by else ""
    return "sum%s(%s)" % (grp, g(metric, *matchers, **kw))


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


def recovery(by=None):
    """Recovered / failed payments over the window, summed over segments."""
    return div(tot("cs_payments_recovered", by=by, win=True),
               tot("cs_payments_failed", by=by, win=True))


def dso(by=None):
    """Days sales outstanding over the selected window: all receivables now /
    the amount billed in the window x the window in days, summed over
    segments (the exported per-segment DSO does not add up). The window's
    length is configuration, not a label value PromQL can read: one branch
    per window of the dashboard, each with that window's days."""
    grp = by + ", window" if by else "window"
    branches = []
    for w in ctx.DASH_WINDOWS:
        days = libconf.duration_seconds(w) / 86400
        recv = tot("cs_receivables_amount", by=by)
        billed = tot("cs_billed_amount", 'window="%s"' % w, by=grp, win=True)
        branches.append('label_replace(%g * %s, "window", "%s", "", "")\n/ %s'
                        % (days, recv, w, "(%s > 0)" % billed))
    return "\nor\n".join(branches)


def quantile(q, buckets, count):
    """histogram_quantile over summed buckets, omitted when they are empty
    (histogram_quantile of empty buckets is NaN)."""
    return "histogram_quantile(%s, %s) and on () (%s > 0)" % (q, buckets, count)


SELECTOR = re.compile(r"\b([a-zA-Z_:][a-zA-Z0-9_:]*\{[^{}]*\}(?:\[[^\[\]]*\])?)")


def shifted(expr, offset="30d"):
    """The expression evaluated `offset` earlier (offset on every selector,
    after its range if it has one)."""
    return SELECTOR.sub(r"\1 offset " + offset, expr)


def legend(by):
    return " / ".join("{{%s}}" % d for d in by.split(", "))
