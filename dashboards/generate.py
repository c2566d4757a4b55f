#!/usr/bin/env python3
"""Writes cs_exporter's Grafana dashboards and Prometheus rules for one config.

The dashboards (grafana/*.json) and the rules (rules/recording.yaml,
rules/alerts.yaml) follow the configuration they are rendered for: one
variable and one rule level per segment dimension, the reporting currency as
the money unit, the KPI windows (sorted by duration) in the window variable,
the feature and outcome panels, and only the dashboards, rows and alerts of
the configured collector kinds. Each alert that reads a window takes it from
the windows of its KPI's collector kind: the short window is 30d when
configured, else the window closest to 30 days; the long window (NRR) is 90d
when configured, else the longest (see alert_window(); thresholds that are a
share of the window are compounded to it, see alert_threshold()). The
exporter's CustomerSuccessDataStale and CustomerSuccessCollectorFailing follow
each collector's interval and timeout (stale_after(), failing_for()). The
committed files under dashboards/ are the ones for config/example.conf;
tests/scripts/check_dashboards.py and --check fail when they differ from what
this script renders.

    python3 dashboards/generate.py                         # rewrite dashboards/ for config/example.conf
    python3 dashboards/generate.py --check                 # exit 1 when those are stale
    python3 dashboards/generate.py --config /etc/cs_exporter/cs_exporter.conf --out DIR
    python3 dashboards/generate.py --config FILE --out DIR --selector 'job="cs_exporter"'
    python3 dashboards/generate.py --config FILE --out DIR --lookback 1w

--out DIR writes DIR/grafana/*.json, DIR/rules/recording.yaml and
DIR/rules/alerts.yaml (the rule tests and provisioning files are not
rendered: copy them from dashboards/). --selector restricts the job variable,
every recording rule and the alerts that read the exporter's own series
(and up, for CustomerSuccessExporterAbsent) to the exporter's series, e.g.
'job="cs_exporter"' (default: every job; ExporterAbsent then expects the
scrape job cs_exporter). --lookback is the step of the history you backfill
(default 1d, `cs_exporter backfill`'s default): where Prometheus has no live
scrape of an exporter, the KPI panels show each series' last sample within
that long (see gen/promql.py, g(), and docs/dashboards.md).

Standard library only; the configuration is read by libconf.py (the libconfig
subset cs_exporter uses). The rendering lives in the package gen/, one module
per thing rendered:

    gen/settings.py    what is rendered: Settings, read from the configuration
    gen/ctx.py         the settings being rendered (render() sets them)
    gen/promql.py      PromQL helpers: selectors and the KPI expressions
    gen/panels.py      panel builders and the dashboard frame (variables, layout)
    gen/overview.py, revenue.py, voice.py, adoption.py, support.py, exporter.py
                       one dashboard each (grafana/cs-<name>.json)
    gen/recording.py   rules/recording.yaml
    gen/alerts.py      rules/alerts.yaml (the alerts are the data in ALERT_GROUPS)

This file puts them together: the list of dashboards, render() and the command
line. Edit the module, run this script, and commit its output.
"""

import argparse
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True  # no __pycache__ next to the script

import libconf  # noqa: E402
from gen import ctx  # noqa: E402
from gen.adoption import adoption  # noqa: E402
from gen.alerts import failing_for, render_alerts, stale_after  # noqa: E402,F401
from gen.exporter import exporter  # noqa: E402
from gen.overview import overview  # noqa: E402
from gen.recording import render_rules  # noqa: E402
from gen.revenue import revenue  # noqa: E402
from gen.settings import DEFAULT_CONFIG, Settings, settings_from_config  # noqa: E402,F401
from gen.support import support  # noqa: E402
from gen.voice import voice  # noqa: E402

# (file name, function, collector kinds it needs: rendered when any is configured)
DASHBOARDS = [
    ("cs-overview.json", overview, ["revenue", "surveys", "health"]),
    ("cs-revenue.json", revenue, ["revenue", "trials"]),
    ("cs-voice.json", voice, ["surveys"]),
    ("cs-adoption.json", adoption, ["adoption", "health", "outcomes"]),
    ("cs-support.json", support, ["support"]),
    ("cs-exporter.json", exporter, None),
]


def render(settings=None):
    """{path relative to the output folder: file content} for these settings
    (default: config/example.conf's)."""
    ctx.S = settings or settings_from_config(DEFAULT_CONFIG)
    files = {}
    for fname, fn, kinds in DASHBOARDS:
        ctx.DASH_WINDOWS = ctx.S.windows_for(kinds or [])
        if kinds is None or ctx.S.has(*kinds):
            files[os.path.join("grafana", fname)] = json.dumps(fn(), indent=2,
                                                               sort_keys=True) + "\n"
    files[os.path.join("rules", "recording.yaml")] = render_rules()
    files[os.path.join("rules", "alerts.yaml")] = render_alerts()
    return files


def stale_files(root=HERE, settings=None):
    """Paths whose content on disk differs from what render() produces."""
    stale = []
    for rel, text in sorted(render(settings).items()):
        path = os.path.join(root, rel)
        try:
            with open(path, encoding="utf-8") as f:
                if f.read() == text:
                    continue
        except OSError:
            pass
        stale.append(path)
    return stale


def main():
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n")[0],
        epilog="Without --config: config/example.conf, written into dashboards/.")
    ap.add_argument("--config", metavar="FILE", help="the cs_exporter configuration to render for "
                    "(default: config/example.conf)")
    ap.add_argument("--out", metavar="DIR", help="write DIR/grafana/*.json, "
                    "DIR/rules/recording.yaml and DIR/rules/alerts.yaml (default: the "
                    "dashboards/ folder of this script)")
    ap.add_argument("--selector", default="", metavar="MATCHERS",
                    help='label matchers selecting the exporter\'s series, e.g. job="cs_exporter" '
                    "(default: none, every job)")
    ap.add_argument("--lookback", default=None, metavar="DURATION",
                    help="the step of the backfilled history the KPI panels bridge "
                    "(default: 1d)")
    ap.add_argument("--check", action="store_true",
                    help="exit 1 when the files in the output folder differ from the rendering")
    args = ap.parse_args()
    try:
        settings = settings_from_config(args.config or DEFAULT_CONFIG, args.selector,
                                        args.lookback)
    except libconf.ConfigError as e:
        print("generate.py: %s" % e, file=sys.stderr)
        return 2
    out = args.out or HERE
    if args.check:
        stale = stale_files(out, settings)
        for p in stale:
            print("%s: out of date, run dashboards/generate.py" % p, file=sys.stderr)
        return 1 if stale else 0
    for rel, text in render(settings).items():
        path = os.path.join(out, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
