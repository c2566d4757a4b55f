#!/bin/sh
# Checks the Prometheus rules and the example Alertmanager configuration:
#   promtool check rules --lint=all --lint-fatal   (recording + alerting rules)
#   promtool test rules                            (dashboards/rules/tests/*.yaml)
#   every alert has severity, summary, description and a runbook_url whose
#     anchor exists in dashboards/runbook.md, and is tested firing and silent,
#     and silent on a fresh install and in a steady state (quiet_test.yaml)
#   dashboards/rules/recording.yaml and alerts.yaml are what
#     dashboards/generate.py renders (test_rules_windows.sh: for other windows)
#   amtool check-config, and one routing test per severity
# Exits 0 only when everything passes; prints what failed.
set -u
cd "$(dirname "$0")/../.." || exit 1

. tests/scripts/checks.sh
AMTOOL="${AMTOOL:-amtool}"
RULES="dashboards/rules/recording.yaml dashboards/rules/alerts.yaml"
AM=dashboards/alertmanager.yml

# shellcheck disable=SC2086
run "promtool check rules" "$PROMTOOL" check rules --lint=all --lint-fatal $RULES
# shellcheck disable=SC2086
run "promtool test rules" "$PROMTOOL" test rules dashboards/rules/tests/*.yaml
run "rules generated (recording.yaml, alerts.yaml)" python3 dashboards/generate.py --check

echo "== alert annotations, runbook anchors, test coverage"
python3 - <<'PY' || fail "alert annotations, runbook anchors or test coverage"
import glob, re, sys
text = open("dashboards/rules/alerts.yaml").read()
runbook = open("dashboards/runbook.md").read()
anchors = {re.sub(r"[^a-z0-9 -]", "", h.strip().lower()).replace(" ", "-")
           for h in re.findall(r"^#+ (.+)$", runbook, re.M)}
tests = "".join(open(p).read() for p in glob.glob("dashboards/rules/tests/*.yaml"))
blocks = re.split(r"\n\s+- alert: ", text)[1:]
quiet = re.split(r"\n  - name: ", open("dashboards/rules/tests/quiet_test.yaml").read())[1:]
if len(quiet) < 2:
    print("  quiet_test.yaml: expected a fresh-install and a steady-state test")
    sys.exit(1)
bad = []
names = []
for b in blocks:
    name = b.split("\n", 1)[0].strip()
    names.append(name)
    if not re.match(r"CustomerSuccess[A-Z]\w*$", name):
        bad.append("%s: name must be CamelCase with prefix CustomerSuccess" % name)
    sev = re.search(r"severity: (\S+)", b)
    if not sev or sev.group(1) not in ("critical", "warning", "info"):
        bad.append("%s: severity must be critical, warning or info" % name)
    for key in ("summary", "description"):
        if not re.search(r"\n\s+%s: \S" % key, b):
            bad.append("%s: no %s annotation" % (name, key))
    desc = re.search(r"description: (.*)", b)
    if desc and "$labels" not in desc.group(1) and "$value" not in desc.group(1) \
            and "absent" not in b:
        bad.append("%s: description is not templated" % name)
    summ = re.search(r"summary: (.*)", b)
    if summ and "{{" in summ.group(1):
        bad.append("%s: summary must be static" % name)
    url = re.search(r"runbook_url: (\S+)", b)
    if not url or not url.group(1).split("#")[0].endswith("runbook.md"):
        bad.append("%s: runbook_url must point into dashboards/runbook.md" % name)
    elif url.group(1).split("#")[-1] != name.lower() or name.lower() not in anchors:
        bad.append("%s: runbook anchor #%s missing" % (name, name.lower()))
    # Shown firing (exp_alerts with labels) and silent (exp_alerts: []).
    cases = re.findall(r"alertname: %s\n(.*?)(?=\n\s+- alertname:|\n  - |\Z)" % name, tests, re.S)
    if not any("exp_alerts: []" in c for c in cases):
        bad.append("%s: no test shows it not firing" % name)
    if not any("exp_labels" in c for c in cases):
        bad.append("%s: no test shows it firing" % name)
    # Silent on a healthy exporter: both scenarios of quiet_test.yaml.
    for scenario in quiet:
        if "alertname: %s\n" % name not in scenario:
            bad.append("%s: not in every scenario of quiet_test.yaml" % name)
sevs = set(re.findall(r"severity: (\S+)", text))
for s in ("critical", "warning", "info"):
    if s not in sevs:
        bad.append("no alert with severity %s" % s)
for b in bad:
    print("  " + b)
print("%d alerts checked" % len(names))
sys.exit(1 if bad or not names else 0)
PY

run "amtool check-config" "$AMTOOL" check-config "$AM"
for route in critical:pager warning:team-chat info:low-priority; do
	sev=${route%%:*}
	recv=${route#*:}
	run "route severity=$sev -> $recv" "$AMTOOL" config routes test --config.file "$AM" \
		--verify.receivers="$recv" severity="$sev"
done

finish "rules"
