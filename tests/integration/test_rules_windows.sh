#!/bin/sh
# The alerting rules follow the configuration's windows. config/example.conf
# with every `windows` list rewritten to ["7d", "28d"] is rendered by
# dashboards/generate.py --selector 'job="cs_exporter"', then:
#   promtool check rules --lint=all --lint-fatal   (the rendered recording + alerting rules)
#   every alert of the committed alerts.yaml is rendered, and every window an
#     alert expression names is 28d (never 30d or 90d)
#   the raw cs_* series and up are read with the selector
#   promtool test rules against the rendered files: a logo churn spike on
#     window="28d", fed as the exporter's metrics through recording.yaml, fires
#     CustomerSuccessChurnSpike; the same spike on window="30d" or another job
#     does not; and quiet_test.yaml's fresh-install and steady-state scenarios,
#     their windows rewritten to 28d, fire nothing
# Exits 0 only when everything passes; prints what failed.
set -u
cd "$(dirname "$0")/../.." || exit 1

. tests/scripts/checks.sh
scratch

echo "== render for windows 7d, 28d"
sed 's/windows = \[[^]]*\]/windows = ["7d", "28d"]/' config/example.conf >"$tmp/cs.conf"
n=$(grep -c 'windows = \["7d", "28d"\]' "$tmp/cs.conf")
[ "$n" -ge 3 ] || fail "rewrote $n windows lists in the copy of config/example.conf, expected 3"
grep -n 'windows = \[' "$tmp/cs.conf" | grep -v '"7d", "28d"' && fail "a windows list was not rewritten"
python3 dashboards/generate.py --config "$tmp/cs.conf" --out "$out" --selector 'job="cs_exporter"' ||
	fail "generate.py --config $tmp/cs.conf"
python3 dashboards/generate.py --config "$tmp/cs.conf" --out "$out" --selector 'job="cs_exporter"' --check ||
	fail "generate.py --check of the rendering"

echo "== promtool check rules"
"$PROMTOOL" check rules --lint=all --lint-fatal "$out/rules/recording.yaml" "$out/rules/alerts.yaml" ||
	fail "promtool check rules of the rendered rules"

echo "== windows and selector of the rendered alerts"
python3 - "$out/rules/alerts.yaml" <<'PY' || fail "windows, selector or alerts of the rendered alerts.yaml"
import re, sys
text = open(sys.argv[1]).read()
committed = open("dashboards/rules/alerts.yaml").read()
names = lambda t: re.findall(r"^\s+- alert: (\S+)$", t, re.M)
bad = []
if names(text) != names(committed):
    bad.append("alerts %s, committed file has %s" % (names(text), names(committed)))
# Expression lines: "expr:" and the block under it, without comments.
exprs = re.findall(r"^        expr: (?:\|\n((?:          .*\n|\n)+)|(.*)\n)", text, re.M)
exprs = [a or b for a, b in exprs]
if len(exprs) != len(names(text)):
    bad.append("%d expressions for %d alerts" % (len(exprs), len(names(text))))
windows = [w for e in exprs for w in re.findall(r'\bwindow="([^"]*)"', e)]
if not windows or set(windows) != {"28d"}:
    bad.append("expressions name the windows %s, expected only 28d" % sorted(set(windows)))
for w in ("30d", "90d"):
    if 'window="%s"' % w in text:
        bad.append('window="%s" appears in the rendered file' % w)
for name in ("CustomerSuccessChurnSpike", "CustomerSuccessNetRevenueRetentionLow",
             "CustomerSuccessNPSDrop", "CustomerSuccessCSATDrop",
             "CustomerSuccessLicenseUtilizationCollapse", "CustomerSuccessInvoluntaryChurnHigh"):
    block = text.split("- alert: %s\n" % name)[1].split("- alert:")[0]
    if 'window="28d"' not in block:
        bad.append("%s does not read window 28d" % name)
# Raw series carry the selector; recorded job: series have it already.
for e in exprs:
    for mo in re.finditer(r'(?<![\w:"])(cs_[a-z0-9_]+|up)\b(\{[^}]*\})?', e):
        if not (mo.group(2) or "").startswith('{job="cs_exporter"'):
            bad.append("raw series without the selector: %s" % mo.group(0))
if "# Here: long 28d (revenue); short 28d (adoption, revenue, surveys); horizon 30d." not in text:
    bad.append("the header does not say which windows were chosen")
for b in bad:
    print("  " + b)
sys.exit(1 if bad else 0)
PY

echo "== promtool test rules against the rendered files"
python3 - "$out" <<'PY' || fail "could not write the rule tests"
import re, sys
out = sys.argv[1]
# The job-level recording rules before the alerts at each evaluation: with
# hourly evaluations an alert evaluated first would read a recorded sample an
# hour old, beyond the 5m lookback, and see nothing.
head = ("rule_files:\n  - rules/recording.yaml\n  - rules/alerts.yaml\n\n"
        "group_eval_order:\n  - cs_exporter.job.rules\n  - cs_exporter.kpi.alerts\n"
        "  - cs_exporter.risk.alerts\n  - cs_exporter.exporter.alerts\n\n")

# The churn spike, from the exporter's metrics. Hourly samples: 8 days of
# baseline, then the churned count doubles. b: the same on window="30d",
# which the 7d/28d exporter does not compute; c: another job, outside
# the selector; d: steady.
def series(job, inst, plan, window, start, churned):
    lab = 'job="%s",instance="%s",plan="%s",region="eu",window="%s"' % (job, inst, plan, window)
    return ("      - series: 'cs_customers_window_start{%s}'\n        values: '%s'\n"
            "      - series: 'cs_customer_movements{%s,type=\"churned\"}'\n        values: '%s'\n"
            % (lab, start, lab, churned))
spike = ("evaluation_interval: 1h\n\ntests:\n"
         "  - name: churn spike on the 28d window\n    interval: 1h\n    input_series:\n"
         + series("cs_exporter", "a:9818", "pro", "28d", "600x221", "18x191 36x30")
         + series("cs_exporter", "a:9818", "basic", "28d", "400x221", "12x191 24x30")
         + series("cs_exporter", "b:9818", "pro", "30d", "1000x221", "30x191 60x30")
         + series("other", "c:9818", "pro", "28d", "1000x221", "30x191 60x30")
         + series("cs_exporter", "d:9818", "pro", "28d", "1000x221", "30x221")
         + """\
    alert_rule_test:
      - alertname: CustomerSuccessChurnSpike
        eval_time: 7d
        exp_alerts: []
      # Pending: inside the 30m "for".
      - alertname: CustomerSuccessChurnSpike
        eval_time: 8d
        exp_alerts: []
      - alertname: CustomerSuccessChurnSpike
        eval_time: 8d2h
        exp_alerts:
          - exp_labels:
              severity: critical
              job: cs_exporter
              instance: a:9818
              window: 28d
            exp_annotations:
              summary: Customer churn is well above its usual level.
              description: 'a:9818: 6% of the customers at the start of the last 28 days churned, over 1.5 times the average of the previous week.'
              runbook_url: dashboards/runbook.md#customersuccesschurnspike
""")
open(out + "/churn_28d_test.yaml", "w").write(head + spike)

# quiet_test.yaml with its windows rewritten to 28d (a series given for
# both 30d and 90d is kept once: the first) and its rule files the rendered
# ones. Its checks that the alerts are fed real KPIs then read the 28d window.
q = open("dashboards/rules/tests/quiet_test.yaml").read()
q = q[q.index("evaluation_interval:"):]
lines, seen, skip = [], set(), False
for line in q.split("\n"):
    if skip:
        skip = False
        continue
    if line.startswith("  - name: "):
        seen = set()
    mo = re.match(r"^\s+- series: '(.*)'$", line)
    if mo:
        s = re.sub(r'window="(30d|90d)"', 'window="28d"', mo.group(1))
        if s in seen:
            skip = True
            continue
        seen.add(s)
        line = line.replace(mo.group(1), s)
    # The checks that the KPIs are real, on the 28d window.
    lines.append(re.sub(r'window="(30d|90d)"', 'window="28d"', line))
q = "\n".join(lines)
if 'window="30d"' in q or 'window="90d"' in q or 'window="28d"' not in q:
    sys.exit("quiet_test.yaml: windows not rewritten")
open(out + "/quiet_28d_test.yaml", "w").write(head + q)
PY
"$PROMTOOL" test rules "$out/churn_28d_test.yaml" "$out/quiet_28d_test.yaml" ||
	fail "promtool test rules against the rendered rules"

finish "rules for windows 7d, 28d"
