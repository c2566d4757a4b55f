#!/bin/sh
# The exporter-health alerts follow each collector's interval. config/example.conf
# with the support collector every 30s and the trials collector renamed
# "trials.v2" is rendered by dashboards/generate.py --selector 'job="cs_exporter"',
# then:
#   promtool check rules --lint=all --lint-fatal   (the rendered rules)
#   CustomerSuccessDataStale has one threshold per interval, max(2 x interval +
#     timeout, 300 s): 300 s for support (30s), 1830 s for trials.v2 (its "."
#     escaped in the regex), 7230 s for outcomes (1h), 630 s for the others
#   promtool test rules against the rendered files: the 1h collector 70
#     minutes after its last success does not fire, 3 hours after it does;
#     the 30s collector silent for 15 minutes fires; a collector the config
#     does not name gets the default threshold; another job is not read;
#     and quiet_test.yaml fires nothing
# Exits 0 only when everything passes; prints what failed.
set -u
cd "$(dirname "$0")/../.." || exit 1

. tests/scripts/checks.sh
scratch

echo "== render for a 30s collector and a dotted collector name"
sed -e 's/{ name = "support";  kind = "support";  interval = "5m";/{ name = "support";  kind = "support";  interval = "30s";/' \
	-e 's/{ name = "trials";   kind = "trials";/{ name = "trials.v2"; kind = "trials";/' \
	config/example.conf >"$tmp/cs.conf"
grep -q 'interval = "30s"' "$tmp/cs.conf" || fail "could not set the support interval to 30s"
grep -q 'name = "trials.v2"' "$tmp/cs.conf" || fail "could not rename the trials collector"
python3 dashboards/generate.py --config "$tmp/cs.conf" --out "$out" --selector 'job="cs_exporter"' ||
	fail "generate.py --config $tmp/cs.conf"

echo "== promtool check rules"
"$PROMTOOL" check rules --lint=all --lint-fatal "$out/rules/recording.yaml" "$out/rules/alerts.yaml" ||
	fail "promtool check rules of the rendered rules"

echo "== thresholds of the rendered alerts"
python3 - "$out/rules/alerts.yaml" <<'PY' || fail "per-collector thresholds of the rendered alerts.yaml"
import sys
text = open(sys.argv[1]).read()
stale = text.split("- alert: CustomerSuccessDataStale\n")[1].split("- alert:")[0]
failing = text.split("- alert: CustomerSuccessCollectorFailing\n")[1].split("- alert:")[0]
want = [
    'cs_collector_last_success_timestamp_seconds{job="cs_exporter",collector="support"} > 300',
    'cs_collector_last_success_timestamp_seconds{job="cs_exporter",collector!~"adoption|health|outcomes|support|surveys|trials\\\\.v2"} > 630',
    'cs_collector_last_success_timestamp_seconds{job="cs_exporter",collector=~"adoption|health|surveys|trials\\\\.v2"} > 1830',
    'cs_collector_last_success_timestamp_seconds{job="cs_exporter",collector="outcomes"} > 7230',
]
bad = ["DataStale lacks: %s" % w for w in want if w not in stale]
for w in ('max_over_time(cs_collector_up{job="cs_exporter",collector="outcomes"}[50m30s]) == 0',
          'max_over_time(cs_collector_up{job="cs_exporter",collector=~"adoption|health|surveys|trials\\\\.v2"}[5m30s]) == 0'):
    if w not in failing:
        bad.append("CollectorFailing lacks: %s" % w)
if text.count("- alert: CustomerSuccessDataStale\n") != 1:
    bad.append("CustomerSuccessDataStale is not one rule")
for line in ("#                               300 s    support",
             "#                               7230 s   outcomes"):
    if line not in text:
        bad.append("header lacks %r" % line)
for b in bad:
    print("  " + b)
sys.exit(1 if bad else 0)
PY

echo "== promtool test rules against the rendered files"
cat >"$tmp/intervals_test.yaml" <<'EOF'
rule_files:
  - out/rules/alerts.yaml

evaluation_interval: 1m

tests:
  # Test time starts at the Unix epoch.
  - name: stale thresholds follow the intervals
    interval: 1m
    input_series:
      # outcomes, every 1h: last success at 10m, then none.
      - series: 'cs_collector_last_success_timestamp_seconds{job="cs_exporter",instance="a:9818",collector="outcomes"}'
        values: '0x9 600x230'
      - series: 'cs_collector_runs_total{job="cs_exporter",instance="a:9818",collector="outcomes"}'
        values: '1x9 2x230'
      # support, every 30s: succeeds until 20m, then silent.
      - series: 'cs_collector_last_success_timestamp_seconds{job="cs_exporter",instance="a:9818",collector="support"}'
        values: '0+60x20 1200x220'
      - series: 'cs_collector_runs_total{job="cs_exporter",instance="a:9818",collector="support"}'
        values: '1+2x20 41+1x220'
      # trials.v2, every 15m: runs end 1 minute after their slot.
      - series: 'cs_collector_last_success_timestamp_seconds{job="cs_exporter",instance="a:9818",collector="trials.v2"}'
        values: '0 60x14 960x14 1860x14 2760x14 3660x14 4560x14 5460x14 6360x14 7260x14 8160x14 9060x14 9960x14 10860x14 11760x14 12660x14 13560x14 14460x5'
      - series: 'cs_collector_runs_total{job="cs_exporter",instance="a:9818",collector="trials.v2"}'
        values: '0 1x14 2x14 3x14 4x14 5x14 6x14 7x14 8x14 9x14 10x14 11x14 12x14 13x14 14x14 15x14 16x14 17x5'
      # A collector the configuration does not name: the default 630 s.
      - series: 'cs_collector_last_success_timestamp_seconds{job="cs_exporter",instance="a:9818",collector="unlisted"}'
        values: '0x14 900x225'
      - series: 'cs_collector_runs_total{job="cs_exporter",instance="a:9818",collector="unlisted"}'
        values: '0x14 1x225'
      # Outside the selector.
      - series: 'cs_collector_last_success_timestamp_seconds{job="other",instance="c:9818",collector="support"}'
        values: '0x240'
      - series: 'cs_collector_runs_total{job="other",instance="c:9818",collector="support"}'
        values: '1x240'
    alert_rule_test:
      # support 9 minutes silent, unlisted 14 (its first run ended at 15m): pending.
      - alertname: CustomerSuccessDataStale
        eval_time: 29m
        exp_alerts: []
      # support 15 minutes silent; unlisted 20.
      - alertname: CustomerSuccessDataStale
        eval_time: 35m
        exp_alerts:
          - exp_labels:
              severity: warning
              job: cs_exporter
              instance: a:9818
              collector: support
            exp_annotations:
              summary: Customer-success KPIs are stale.
              description: 'a:9818: collector support last succeeded 15m 0s ago.'
              runbook_url: dashboards/runbook.md#customersuccessdatastale
          - exp_labels:
              severity: warning
              job: cs_exporter
              instance: a:9818
              collector: unlisted
            exp_annotations:
              summary: Customer-success KPIs are stale.
              description: 'a:9818: collector unlisted last succeeded 20m 0s ago.'
              runbook_url: dashboards/runbook.md#customersuccessdatastale
      # outcomes 70 minutes after its last success: not yet.
      - alertname: CustomerSuccessDataStale
        eval_time: 1h20m
        exp_alerts:
          - exp_labels:
              severity: warning
              job: cs_exporter
              instance: a:9818
              collector: support
            exp_annotations:
              summary: Customer-success KPIs are stale.
              description: 'a:9818: collector support last succeeded 1h 0m 0s ago.'
              runbook_url: dashboards/runbook.md#customersuccessdatastale
          - exp_labels:
              severity: warning
              job: cs_exporter
              instance: a:9818
              collector: unlisted
            exp_annotations:
              summary: Customer-success KPIs are stale.
              description: 'a:9818: collector unlisted last succeeded 1h 5m 0s ago.'
              runbook_url: dashboards/runbook.md#customersuccessdatastale
      # outcomes 3 hours after its last success: fires.
      - alertname: CustomerSuccessDataStale
        eval_time: 3h10m
        exp_alerts:
          - exp_labels:
              severity: warning
              job: cs_exporter
              instance: a:9818
              collector: support
            exp_annotations:
              summary: Customer-success KPIs are stale.
              description: 'a:9818: collector support last succeeded 2h 50m 0s ago.'
              runbook_url: dashboards/runbook.md#customersuccessdatastale
          - exp_labels:
              severity: warning
              job: cs_exporter
              instance: a:9818
              collector: unlisted
            exp_annotations:
              summary: Customer-success KPIs are stale.
              description: 'a:9818: collector unlisted last succeeded 2h 55m 0s ago.'
              runbook_url: dashboards/runbook.md#customersuccessdatastale
          - exp_labels:
              severity: warning
              job: cs_exporter
              instance: a:9818
              collector: outcomes
            exp_annotations:
              summary: Customer-success KPIs are stale.
              description: 'a:9818: collector outcomes last succeeded 3h 0m 0s ago.'
              runbook_url: dashboards/runbook.md#customersuccessdatastale
EOF
# quiet_test.yaml against the rendered rules: a healthy exporter stays silent.
sed 's|^  - \.\./|  - out/rules/|' dashboards/rules/tests/quiet_test.yaml >"$tmp/quiet_test.yaml"
grep -q 'out/rules/alerts.yaml' "$tmp/quiet_test.yaml" || fail "could not point quiet_test.yaml at the rendering"
"$PROMTOOL" test rules "$tmp/intervals_test.yaml" "$tmp/quiet_test.yaml" ||
	fail "promtool test rules against the rendered rules"

finish "rules for per-collector intervals"
