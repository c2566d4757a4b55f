"""What is rendered: the settings read from the exporter's configuration."""

import os
import re

import libconf

# The checkout's example config; installed, the copy beside generate.py.
HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_CONFIG = os.path.join(os.path.dirname(HERE), "config", "example.conf")
if not os.path.exists(DEFAULT_CONFIG):
    DEFAULT_CONFIG = os.path.join(HERE, "example.conf")

# ---------------------------------------------------------------------------
# What is rendered: read from the exporter's configuration
# ---------------------------------------------------------------------------

KINDS = ["revenue", "trials", "surveys", "adoption", "support", "outcomes", "health"]
WINDOWED_KINDS = {"revenue", "trials", "surveys", "adoption", "support", "outcomes"}
# Labels the exporter writes itself or Prometheus attaches (config/config.c).
RESERVED_LABELS = {
    "window", "currency", "type", "category", "survey", "result", "state", "feature",
    "outcome", "target", "band", "account", "name", "le", "collector", "dataset", "reason",
    "family", "version", "revision", "quantile", "job", "instance",
    "cohort", "age_months", "horizon", "from", "to", "renewal_at", "driver", "bucket",
}
# Grafana's built-in currency units; other codes get a suffix unit.
GRAFANA_CURRENCIES = {
    "USD", "GBP", "EUR", "JPY", "RUB", "UAH", "BRL", "DKK", "ISK", "NOK", "SEK", "CZK",
    "CHF", "PLN", "ZAR", "INR", "KRW", "IDR", "PHP", "VND",
}
# Collector names (config.c: valid_name) and the defaults of a collector's
# interval and timeout (the timeout is the interval when that is shorter).
COLLECTOR_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
DEFAULT_INTERVAL = "5m"
DEFAULT_TIMEOUT = "30s"
# The default step of `cs_exporter backfill` (docs/backfill.md).
DEFAULT_LOOKBACK = "1d"
MATCHERS = re.compile(r'^\s*[a-zA-Z_]\w*\s*(=|!=|=~|!~)\s*"(?:[^"\\]|\\.)*"\s*'
                      r'(,\s*[a-zA-Z_]\w*\s*(=|!=|=~|!~)\s*"(?:[^"\\]|\\.)*"\s*)*$')


class Settings:
    """Everything the dashboards and rules depend on."""

    def __init__(self, dimensions=("plan", "region"), currency="USD",
                 windows=("30d", "90d"), kinds=None, features=(), outcomes=(), selector="",
                 cohort_months=12, cohort_dimensions=None, horizons=("30d", "60d", "90d"),
                 collectors=(), payments=True, lookback=None):
        self.dimensions = list(dimensions)
        self.currency = currency
        self.money_unit = ("currency%s" % currency if currency in GRAFANA_CURRENCIES
                           else "suffix: %s" % currency)
        # kind -> windows of its collector(s); every kind when none is given.
        self.kinds = dict(kinds) if kinds is not None else {k: list(windows) for k in KINDS}
        self.default_window = windows[0] if windows else "30d"
        self.features = list(features)
        self.outcomes = list(outcomes)  # (name, target, direction)
        self.selector = selector.strip()
        # cohorts = { months = K; dimensions = [...]; }: K = 0 turns the
        # cohort families off; they carry only cohorts.dimensions (default:
        # every segment dimension).
        self.cohort_months = cohort_months
        self.cohort_dimensions = (list(dimensions) if cohort_dimensions is None
                                  else list(cohort_dimensions))
        # renewals = { horizons = [...]; }, shortest first.
        self.horizons = sorted(horizons, key=lambda h: (libconf.duration_seconds(h), h))
        # (name, interval, timeout) of each collector, in seconds (the
        # exporter-health alerts follow the intervals).
        self.collectors = list(collectors)
        # A payments dataset is configured: revenue then writes the payment
        # and receivables families (docs/datasets.md); without one their
        # panels and alerts are left out.
        self.payments = payments
        # How far back a KPI panel looks for a sample where no live scrape
        # exists: the step of the backfilled history (gen/promql.py, g()).
        self.lookback = lookback or DEFAULT_LOOKBACK

    def windows_for(self, kinds):
        """The windows of these collector kinds, shortest first."""
        ws = {w for k in kinds if k in WINDOWED_KINDS for w in self.kinds.get(k, [])}
        return sorted(ws, key=lambda w: (libconf.duration_seconds(w), w))

    @property
    def windows(self):
        return self.windows_for(KINDS)

    def has(self, *kinds):
        return any(k in self.kinds for k in kinds)


def settings_from_config(path, selector="", lookback=None):
    """Settings for a cs_exporter configuration file; ConfigError when the
    file cannot be read or a setting the dashboards need is invalid."""
    cfg = libconf.load(path)

    def bad(setting, msg, at=None):
        """at: (container, key) of the offending value, for its FILE:LINE."""
        loc = libconf.where(at[0], at[1], path) if at else path
        return libconf.ConfigError("%s: %s: %s" % (loc, setting, msg))

    def group(obj, name):
        v = obj.get(name, {})
        if not isinstance(v, dict):
            raise bad(name, "must be a group { ... }", (obj, name))
        return v

    def strings(obj, key, name, default):
        v = obj.get(key, default)
        if not isinstance(v, list) or not all(isinstance(s, str) for s in v):
            raise bad(name, "must be a list of strings", (obj, key))
        return v

    segments = group(cfg, "segments")
    dims = strings(segments, "dimensions", "segments.dimensions", [])
    for i, d in enumerate(dims):
        if not re.match(r"^[a-zA-Z_][a-zA-Z0-9_]*$", d) or d.startswith("__") or \
                d in RESERVED_LABELS:
            raise bad("segments.dimensions", "%r is no usable label name" % d, (dims, i))
    if len(set(dims)) != len(dims):
        raise bad("segments.dimensions", "names repeat", (segments, "dimensions"))
    reporting = group(cfg, "reporting")
    currency = reporting.get("currency", "USD")
    if not isinstance(currency, str) or not re.match(r"^[A-Za-z]{3}$", currency):
        raise bad("reporting.currency", "must be a 3-letter ISO 4217 code",
                  (reporting, "currency"))

    def windows(obj, key, name, default):
        v = strings(obj, key, name, default)
        for i, w in enumerate(v):
            if libconf.duration_seconds(w) is None:
                raise bad(name, "%r is no duration (e.g. \"30d\")" % w, (v, i))
        if not v:
            raise bad(name, "must not be empty", (obj, key))
        return v

    top = windows(cfg, "windows", "windows", ["30d", "90d"])
    collectors = cfg.get("collectors")
    kinds = None
    if collectors is not None:
        if not isinstance(collectors, list) or not all(isinstance(c, dict) for c in collectors):
            raise bad("collectors", "must be a list of groups", (cfg, "collectors"))
        kinds = {}
        for i, c in enumerate(collectors):
            kind = c.get("kind")
            if kind not in KINDS:
                raise bad("collectors.[%d].kind" % i, "must be one of %s" % ", ".join(KINDS),
                          (c, "kind") if "kind" in c else (collectors, i))
            ws = windows(c, "windows", "collectors.[%d].windows" % i, top)
            kinds.setdefault(kind, [])
            kinds[kind] += [w for w in ws if w not in kinds[kind]]
    named = []
    for i, c in enumerate(collectors or []):
        name = c.get("name", c.get("kind"))
        if not isinstance(name, str) or not COLLECTOR_NAME.match(name):
            raise bad("collectors.[%d].name" % i, "must be 1 to 64 letters, digits, '_', '-' "
                      "or '.'", (c, "name"))
        if name in [n for n, _, _ in named]:
            raise bad("collectors.[%d].name" % i, "%r is used twice" % name, (c, "name"))
        interval = c.get("interval", DEFAULT_INTERVAL)
        if libconf.duration_seconds(interval) is None:
            raise bad("collectors.[%d].interval" % i, "%r is no duration (e.g. \"5m\")"
                      % (interval,), (c, "interval"))
        interval = libconf.duration_seconds(interval)
        timeout = c.get("timeout")
        if timeout is None:  # config.c: 30 s, or the interval when shorter
            timeout = min(interval, libconf.duration_seconds(DEFAULT_TIMEOUT))
        elif libconf.duration_seconds(timeout) is None:
            raise bad("collectors.[%d].timeout" % i, "%r is no duration (e.g. \"30s\")"
                      % (timeout,), (c, "timeout"))
        else:
            timeout = libconf.duration_seconds(timeout)
        named.append((name, interval, timeout))
    features = strings(cfg, "features", "features", [])
    outcomes = []
    ocs = cfg.get("outcomes", [])
    if not isinstance(ocs, list):
        raise bad("outcomes", "must be a list of groups", (cfg, "outcomes"))
    for i, o in enumerate(ocs):
        if not isinstance(o, dict) or not isinstance(o.get("name"), str):
            raise bad("outcomes.[%d]" % i, "needs a name", (ocs, i))
        outcomes.append((o["name"], o.get("target"), o.get("direction", "at_least")))
    if selector and not MATCHERS.match(selector):
        raise libconf.ConfigError("--selector: %r is no list of label matchers such as "
                                  "job=\"cs_exporter\"" % selector)
    cohorts = group(cfg, "cohorts")
    months = cohorts.get("months", 12)
    if not isinstance(months, int) or isinstance(months, bool) or not 0 <= months <= 36:
        raise bad("cohorts.months", "must be an integer 0-36", (cohorts, "months"))
    cdims = strings(cohorts, "dimensions", "cohorts.dimensions", dims)
    for i, d in enumerate(cdims):
        if d not in dims:
            raise bad("cohorts.dimensions", "%r is no segment dimension" % d, (cdims, i))
    renewals = group(cfg, "renewals")
    horizons = windows(renewals, "horizons", "renewals.horizons", ["30d", "60d", "90d"])
    if len(horizons) > 8:
        raise bad("renewals.horizons", "at most 8 horizons", (renewals, "horizons"))
    datasets = group(cfg, "datasets")
    if lookback is not None and (libconf.duration_seconds(lookback) is None or
                                 not re.match(r"^[1-9][0-9]*[smhdw]$", lookback)):
        raise libconf.ConfigError("--lookback: %r is no duration such as 1d (the step "
                                  "of the backfilled history)" % lookback)
    s = Settings(dims, currency.upper(), top, kinds, features, outcomes, selector,
                 months, cdims, horizons, named, payments="payments" in datasets,
                 lookback=lookback)
    # The window variable's default: the first top-level window, when any
    # collector computes it.
    if s.windows and s.default_window not in s.windows:
        s.default_window = s.windows[0]
    return s
