#!/usr/bin/env python3
"""Unit tests of dashboards/libconf.py (the libconfig reader of
dashboards/generate.py) and of generate.py's reading of a configuration.

    python3 tests/scripts/test_libconf.py [-v]
"""

import os
import sys
import tempfile
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "dashboards"))
sys.dont_write_bytecode = True

import generate  # noqa: E402
import libconf  # noqa: E402


class Reader(unittest.TestCase):
    def error(self, text, where, what):
        with self.assertRaises(libconf.ConfigError) as cm:
            libconf.loads(text, "x.conf")
        msg = str(cm.exception)
        self.assertTrue(msg.startswith(where + ": "), msg)
        self.assertIn(what, msg)

    def test_values(self):
        c = libconf.loads('a = 1; b : -2L, c = 0x1F; d = 1.5e3; e = .5; f = TRUE; g = false;'
                          'h = "x\\"y\\n\\x41"; i = "ab" /* c */ "cd"\n "ef"; j = [1, 2,];'
                          'k = ( { n = "a"; }, { n = "b" } ); l = {}; m = ();')
        self.assertEqual(c, {"a": 1, "b": -2, "c": 31, "d": 1500.0, "e": 0.5, "f": True,
                             "g": False, "h": 'x"y\nA', "i": "abcdef", "j": [1, 2],
                             "k": [{"n": "a"}, {"n": "b"}], "l": {}, "m": []})

    def test_comments_and_lines(self):
        text = "# one\n// two\n/* three\nfour */\na = 1;\nb = ;\n"
        self.error(text, "x.conf:6", "expected a value, found ';'")

    def test_errors(self):
        self.error("a = 1;\na = 2;", "x.conf:2", "duplicate setting a")
        self.error("x = (1, 2", "x.conf:1", "expected ',' or ')', found end of file")
        self.error('x = "a\\q";', "x.conf:1", "unknown escape \\q")
        self.error("\n\nport = @PGPORT@;", "x.conf:3", "cannot read '@PGPORT@;'")
        self.error("a = 1; }", "x.conf:1", "expected a setting name or end of file")
        self.error("a 1;", "x.conf:1", "expected '=' after a")
        self.error("/* open", "x.conf:1", "unterminated /* comment")
        self.error('x = "a\nb";', "x.conf:1", "cannot read")

    def test_include(self):
        with tempfile.TemporaryDirectory() as d:
            with open(os.path.join(d, "main.conf"), "w") as f:
                f.write('a = 1;\n@include "part.inc"\nc = 3;\n')
            with open(os.path.join(d, "part.inc"), "w") as f:
                f.write("b = 2;\nbad = ;\n")
            with self.assertRaises(libconf.ConfigError) as cm:
                libconf.load(os.path.join(d, "main.conf"))
            self.assertEqual(str(cm.exception), "%s: expected a value, found ';'"
                             % (os.path.join(d, "part.inc") + ":2"))
            with open(os.path.join(d, "part.inc"), "w") as f:
                f.write("b = 2;\n")
            self.assertEqual(libconf.load(os.path.join(d, "main.conf")), {"a": 1, "b": 2, "c": 3})
            with open(os.path.join(d, "main.conf"), "w") as f:
                f.write('\n@include "missing.inc"\n')
            with self.assertRaises(libconf.ConfigError) as cm:
                libconf.load(os.path.join(d, "main.conf"))
            self.assertIn("main.conf:2: cannot @include", str(cm.exception))

    def test_durations(self):
        self.assertEqual(libconf.duration_seconds("30d"), 30 * 86400)
        self.assertEqual(libconf.duration_seconds("1w"), 7 * 86400)
        for bad in ("0d", "30", "d", "1.5d", "30D", 30):
            self.assertIsNone(libconf.duration_seconds(bad))

    def test_repository_configs(self):
        for name in ("config/example.conf", "tests/configs/good/full.conf",
                     "tests/configs/good/minimal.conf", "tests/configs/good/sql_lexing.conf",
                     "tests/configs/good/dashboards_tier.conf"):
            self.assertIsInstance(libconf.load(os.path.join(ROOT, name)), dict, name)


class Settings(unittest.TestCase):
    def settings(self, text, **kw):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "cs.conf")
            with open(path, "w") as f:
                f.write(text)
            return generate.settings_from_config(path, **kw)

    def test_example(self):
        s = generate.settings_from_config(os.path.join(ROOT, "config/example.conf"))
        self.assertEqual(s.dimensions, ["plan", "region"])
        self.assertEqual(s.money_unit, "currencyUSD")
        self.assertEqual(s.windows, ["7d", "30d", "90d"])
        self.assertEqual(s.windows_for(["revenue"]), ["30d", "90d"])
        self.assertEqual(s.windows_for(["adoption", "health"]), ["7d", "30d"])
        self.assertEqual(s.default_window, "30d")

    def test_other(self):
        s = generate.settings_from_config(
            os.path.join(ROOT, "tests/configs/good/dashboards_tier.conf"))
        self.assertEqual(s.dimensions, ["tier", "country"])
        self.assertEqual(s.money_unit, "currencyEUR")
        self.assertEqual(s.windows, ["7d", "28d", "90d"])
        self.assertEqual(s.default_window, "28d")
        self.assertEqual(s.features, ["reports", "sso"])
        self.assertEqual([o[0] for o in s.outcomes], ["reports_sent", "p1_cases"])

    def test_collector_intervals(self):
        s = generate.settings_from_config(os.path.join(ROOT, "config/example.conf"))
        c = {n: (i, t) for n, i, t in s.collectors}
        self.assertEqual(c["revenue"], (300, 30))
        self.assertEqual(c["outcomes"], (3600, 30))
        s = self.settings('collectors = ( { kind = "revenue"; interval = "10s"; },\n'
                          '  { name = "a.b"; kind = "health"; interval = "2h"; timeout = "5m"; } );')
        self.assertEqual(s.collectors, [("revenue", 10, 10), ("a.b", 7200, 300)])
        self.assertEqual(generate.stale_after(10, 10), 300)
        self.assertEqual(generate.stale_after(7200, 300), 14700)
        self.assertEqual(generate.failing_for(7200, 300), 7800)
        text = generate.render(s)["rules/alerts.yaml"]
        self.assertIn('cs_collector_last_success_timestamp_seconds{collector="a.b"} > 14700', text)
        # In a regex the dot is escaped (backslash, backslash, dot in PromQL).
        self.assertIn('cs_collector_last_success_timestamp_seconds{collector!~"a\\\\.b|revenue"} > 630',
                      text)
        with self.assertRaises(libconf.ConfigError):
            self.settings('collectors = ( { kind = "revenue"; interval = "soon"; } );')

    def test_defaults_and_units(self):
        s = self.settings('segments = { dimensions = []; }; reporting = { currency = "cad"; };')
        self.assertEqual(s.dimensions, [])
        self.assertEqual(s.money_unit, "suffix: CAD")
        self.assertEqual(s.windows, ["30d", "90d"])
        self.assertTrue(s.has("support"))

    def test_cohorts_and_renewals(self):
        s = self.settings('')
        self.assertEqual((s.cohort_months, s.cohort_dimensions, s.horizons),
                         (12, [], ["30d", "60d", "90d"]))
        s = self.settings('segments = { dimensions = ["plan", "region"]; };')
        self.assertEqual(s.cohort_dimensions, ["plan", "region"])
        s = self.settings('segments = { dimensions = ["plan", "region"]; };\n'
                          'cohorts = { months = 6; dimensions = ["plan"]; };\n'
                          'renewals = { horizons = ["90d", "7d", "30d"]; };')
        self.assertEqual((s.cohort_months, s.cohort_dimensions, s.horizons),
                         (6, ["plan"], ["7d", "30d", "90d"]))
        # A cohort family without region: no region matcher, which would
        # match nothing.
        files = generate.render(s)
        rev = files[os.path.join("grafana", "cs-revenue.json")]
        self.assertIn('cs_cohort_customers{job=~\\"$job\\",instance=~\\"$instance\\",'
                      'plan=~\\"$plan\\"}', rev)
        ada = files[os.path.join("grafana", "cs-adoption.json")]
        self.assertIn("Red MRR renewing within 7d", ada)
        s = self.settings('cohorts = { months = 0; };')
        rev = generate.render(s)[os.path.join("grafana", "cs-revenue.json")]
        self.assertNotIn("cs_cohort_", rev)

    def test_invalid(self):
        for text, what in [
            ('segments = {\n dimensions = ["plan",\n "window"]; };',
             "cs.conf:3: segments.dimensions: 'window' is no usable label name"),
            ('segments = { dimensions = ["a-b"]; };', "cs.conf:1: segments.dimensions: 'a-b'"),
            ('\nsegments = { dimensions = "plan"; };',
             "cs.conf:2: segments.dimensions: must be a list of strings"),
            ('reporting = {\n\n currency = "EURO"; };', "cs.conf:3: reporting.currency"),
            ('windows = ["30d",\n "30 days"];', "cs.conf:2: windows: '30 days' is no duration"),
            ('collectors = (\n { kind = "revenue"; },\n { kind = "magic"; } );',
             "cs.conf:3: collectors.[1].kind: must be one of"),
            ('collectors = ( { kind = "revenue";\n windows = []; } );',
             "cs.conf:2: collectors.[0].windows: must not be empty"),
            ('cohorts = {\n months = 40; };', "cs.conf:2: cohorts.months: must be an integer 0-36"),
            ('segments = { dimensions = ["plan"]; };\ncohorts = { dimensions = ["region"]; };',
             "cs.conf:2: cohorts.dimensions: 'region' is no segment dimension"),
            ('renewals = {\n horizons = ["soon"]; };',
             "cs.conf:2: renewals.horizons: 'soon' is no duration"),
        ]:
            with self.assertRaises(libconf.ConfigError) as cm:
                self.settings(text)
            self.assertTrue(str(cm.exception).endswith(what) or what in str(cm.exception),
                            "%s: %s" % (what, cm.exception))
            self.assertRegex(str(cm.exception), r"cs\.conf:\d+: ")
        with self.assertRaises(libconf.ConfigError):
            self.settings("", selector="job=cs")
        self.assertEqual(self.settings("", selector='job="cs"').selector, 'job="cs"')


if __name__ == "__main__":
    unittest.main()
