"""The Exporter dashboard (cs-exporter): the exporter's own health."""

from gen.panels import base_panel, dashboard, row, stat, table, targets, thresholds, timeseries
from gen.promql import m

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
        row("Status"),
        stat("Scrape up", "Whether Prometheus can scrape the exporter.", "none",
             targets(("min(%s)" % m("up", seg=False), "up")), w=4, h=5, change=None,
             th=thresholds(("red", None), ("green", 1))),
        stat("Collectors failing", "Collectors whose last run failed.", "short",
             targets(("count(%s == 0) or vector(0)" % e("cs_collector_up"), "failing")), w=4, h=5,
             change=None, th=thresholds(("green", None), ("red", 1))),
        stat("Last config reload", "1 when the last configuration reload succeeded.", "none",
             targets(("min(%s)" % e("cs_config_last_reload_successful"), "reload ok")), w=4, h=5,
             change=None, th=thresholds(("red", None), ("green", 1))),
        build,
        state,
        row("Collectors"),
        timeseries("Time since last success", "Seconds since each collector last succeeded; "
                   "CustomerSuccessDataStale fires above max(2 x interval + timeout, "
                   "300 s) of the collector.", "s",
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
        row("Data quality"),
        timeseries("Rejected rows", "Rows skipped for breaking the dataset contract, per second, "
                   "by dataset and reason. A bad row is counted again on every run.", "short",
                   targets(("sum by (dataset, reason) (rate(%s[$__rate_interval]))"
                            % e("cs_rows_rejected_total"), "{{dataset}} {{reason}}"))),
        timeseries("Folded segments", "Segments folded into `other` by the cardinality cap, in "
                   "the last hour.", "short",
                   targets(("sum by (family) (increase(%s[1h]))" % e("cs_series_dropped_total"),
                            "{{family}}"))),
        row("Process", collapsed=True),
        timeseries("Resident memory", "Resident set size of the exporter process.", "bytes",
                   targets((e("process_resident_memory_bytes"), "{{instance}}"))),
        timeseries("CPU", "CPU seconds used per second by the exporter process.", "short",
                   targets(("rate(%s[$__rate_interval])" % e("process_cpu_seconds_total"),
                            "{{instance}}"))),
    ]
    return dashboard("cs-exporter", "Customer success / Exporter",
                     "Health of cs_exporter itself: collectors, rejected rows, cardinality, "
                     "reloads.", [], panels)
