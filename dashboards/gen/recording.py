"""Recording rules (rules/recording.yaml)."""

import json

from gen import ctx


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
        sel = "{%s}" % ctx.S.selector if ctx.S.selector else ""
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
    # revenue intelligence: pending churn (a part of MRR), payments and
    # receivables (with a payments dataset)
    rec("cs_mrr_pending_churn:sum", sum_of("cs_mrr_pending_churn", "currency"))
    rec("cs_payments_failed:sum", sum_of("cs_payments_failed", "window"))
    rec("cs_payments_recovered:sum", sum_of("cs_payments_recovered", "window"))
    rec("cs_payment_recovery:ratio", "%s:cs_payments_recovered:sum\n/ (%s:cs_payments_failed:sum > 0)"
        % (L, L))
    rec("cs_receivables_amount:sum", sum_of("cs_receivables_amount", "currency", "bucket"))
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
        % (by, "{%s}" % ctx.S.selector if ctx.S.selector else ""))
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
    levels = ", ".join(ctx.S.dimensions)
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
    groups += [("cs_exporter.%s.rules" % d, d, [d]) for d in ctx.S.dimensions]
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
