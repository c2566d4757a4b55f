"""The Voice of the customer dashboard (cs-voice)."""

from gen.panels import NPS_TH, dashboard, row, stat, targets, thresholds, timeseries
from gen.promql import ces, csat, dims, nps, tot

def voice():
    nps_resp = tot("cs_survey_responses", 'survey="nps"', by="category", win=True)
    nps_all = tot("cs_survey_responses", 'survey="nps"', win=True)
    k = "surveys"
    panels = [
        row("Now"),
        stat("NPS", "Net promoter score in points (-100 to 100).", "none", targets((nps(), "NPS")),
             w=6, th=NPS_TH, minv=-100, maxv=100, decimals=1, change="up", kind=k),
        stat("CSAT", "Share of CSAT responses scoring 4-5.", "percentunit",
             targets((csat(), "CSAT")), w=6, minv=0, maxv=1, change="up",
             th=thresholds(("red", None), ("yellow", 0.7), ("green", 0.85)), kind=k),
        stat("CES", "Customer effort score: mean of 1-7 answers (higher is easier).", "none",
             targets((ces(), "CES")), w=6, minv=1, maxv=7, decimals=2, change="up", kind=k),
        stat("Responses", "Survey responses counted in the window, all survey types.", "short",
             targets((tot("cs_survey_responses", win=True), "responses")), w=6, kind=k),
        row("Trends"),
        timeseries("NPS", "Net promoter score over time.", "none", targets((nps(), "NPS")),
                   minv=-100, maxv=100, kind=k),
        timeseries("NPS respondents", "Share of promoters, passives and detractors.",
                   "percentunit",
                   targets(("%s / ignoring(category) group_left () (%s > 0)" % (nps_resp, nps_all),
                            "{{category}}")), stack=True, minv=0, maxv=1, kind=k),
        timeseries("CSAT", "Customer satisfaction over time.", "percentunit",
                   targets((csat(), "CSAT")), w=8, minv=0, maxv=1, kind=k),
        timeseries("CES", "Customer effort score over time.", "none", targets((ces(), "CES")),
                   w=8, minv=1, maxv=7, kind=k),
        timeseries("Response volume", "Responses per survey type in the window.", "short",
                   targets((tot("cs_survey_responses", by="survey", win=True), "{{survey}}")),
                   w=8, bars=True, kind=k),
    ]
    for d in dims():
        panels.append(row("By %s" % d, collapsed=True))
        panels.append(timeseries("NPS by %s" % d, "NPS per %s from summed counts." % d, "none",
                                 targets((nps(d), "{{%s}}" % d)), minv=-100, maxv=100, kind=k))
        panels.append(timeseries("CSAT by %s" % d, "CSAT per %s from summed counts." % d,
                                 "percentunit", targets((csat(d), "{{%s}}" % d)), minv=0, maxv=1,
                                 kind=k))
    return dashboard("cs-voice", "Customer success / Voice of the customer",
                     "NPS, CSAT, CES and survey volumes.", [k], panels)
