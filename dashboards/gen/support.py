"""The Support dashboard (cs-support)."""

from gen.panels import dashboard, row, stat, targets, thresholds, timeseries
from gen.promql import dims, escalation, resolution, tot

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
