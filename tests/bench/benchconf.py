#!/usr/bin/env python3
"""Config plumbing for the benchmarks (tests/bench/run.sh, soak.sh).

  benchconf.py render TEMPLATE OUT --port P --passfile F [options]
      Substitutes @PGPORT@ / @PGPASSFILE@ in a config template (config/demo.conf),
      parses the result as libconfig, overrides what the options say, and
      writes it back as libconfig. Options:
        --collectors NAME[:INTERVAL],...   keep only these collectors
                                           (default: all), optionally
                                           changing their interval
        --windows N        N windows (7d, 14d, 30d, ...), on the top level
                           and on every collector
        --features N       N features: the template's, then made-up ones
        --max-combinations N
        --at-risk N
        --incremental off  the activity dataset read whole at every evaluation
                           (incremental = { enabled = false; })

  benchconf.py sql CONFIG COLLECTOR AS_OF OUTDIR
      Writes, for each source the collector reads, OUTDIR/<source>.sql: the
      collector's queries in the order the exporter runs them, each wrapped
      in COPY (...) TO STDOUT, with $N replaced by the literal value the
      exporter would bind. Prints one line per file: "<source> <file>
      <host> <port> <dbname> <user> <password_file>".

  benchconf.py collectors CONFIG
      Prints the collectors' names, one a line.

  benchconf.py tune EXPOSITION TARGET [WINDOWS FEATURES]
      EXPOSITION is a text exposition with WINDOWS windows and FEATURES
      features (default: the demo's 2 and 5). Splits its series into those without a
      window label, those with one, and those with a feature label, and
      prints "WINDOWS FEATURES ESTIMATE": the settings for --windows and
      --features whose exposition is closest to TARGET series.

The parser covers what our configs use: groups, lists, arrays, strings
(adjacent ones joined), integers, floats, booleans and comments. It is not a
general libconfig implementation (no @include).
"""
import datetime
import os
import re
import sys

# ---- a small libconfig reader -------------------------------------------

TOKEN = re.compile(
    r"""
    (?P<ws>\s+|\#[^\n]*|//[^\n]*|/\*.*?\*/)
  | (?P<str>"(?:[^"\\]|\\.)*")
  | (?P<num>[-+]?(?:0[xX][0-9a-fA-F]+L{0,2}
                  |(?:\d+\.\d*|\.\d+)(?:[eE][-+]?\d+)?
                  |\d+[eE][-+]?\d+
                  |\d+L{0,2}))
  | (?P<bool>\b(?:true|false|TRUE|FALSE|True|False)\b)
  | (?P<name>[A-Za-z*][-A-Za-z0-9_*]*)
  | (?P<punct>[=:;,{}()\[\]])
    """,
    re.S | re.X,
)

ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "f": "\f", "\\": "\\", '"': '"'}


class Float(float):
    """A float that remembers it was written as one (1.0 is not 1)."""


def unescape(s):
    out = []
    i = 0
    while i < len(s):
        c = s[i]
        if c == "\\" and i + 1 < len(s):
            n = s[i + 1]
            if n == "x" and i + 3 < len(s):
                out.append(chr(int(s[i + 2 : i + 4], 16)))
                i += 4
                continue
            out.append(ESCAPES.get(n, n))
            i += 2
            continue
        out.append(c)
        i += 1
    return "".join(out)


def tokenize(text):
    pos = 0
    toks = []
    while pos < len(text):
        m = TOKEN.match(text, pos)
        if not m:
            raise SystemExit("benchconf: cannot parse config near: %r" % text[pos : pos + 40])
        pos = m.end()
        kind = m.lastgroup
        if kind == "ws":
            continue
        toks.append((kind, m.group()))
    toks.append(("eof", ""))
    return toks


class Parser:
    def __init__(self, text):
        self.toks = tokenize(text)
        self.i = 0

    def peek(self):
        return self.toks[self.i]

    def take(self, kind=None, value=None):
        t = self.toks[self.i]
        if (kind and t[0] != kind) or (value and t[1] != value):
            raise SystemExit("benchconf: expected %s, got %r" % (value or kind, t[1]))
        self.i += 1
        return t

    def settings(self, end):
        out = {}
        while self.peek()[1] != end and self.peek()[0] != "eof":
            name = self.take("name")[1]
            sep = self.take()[1]
            if sep not in ("=", ":"):
                raise SystemExit("benchconf: expected = after %s" % name)
            out[name] = self.value()
            if self.peek()[1] in (";", ","):
                self.take()
        return out

    def value(self):
        kind, text = self.peek()
        if text == "{":
            self.take()
            v = self.settings("}")
            self.take(value="}")
            return v
        if text in ("(", "["):
            close = ")" if text == "(" else "]"
            self.take()
            items = []
            while self.peek()[1] != close:
                items.append(self.value())
                if self.peek()[1] == ",":
                    self.take()
            self.take(value=close)
            return tuple(items) if close == ")" else items
        if kind == "str":
            parts = []
            while self.peek()[0] == "str":
                parts.append(unescape(self.take()[1][1:-1]))
            return "".join(parts)
        if kind == "bool":
            self.take()
            return text.lower() == "true"
        if kind == "num":
            self.take()
            t = text.rstrip("L")
            if t.lower().startswith(("0x", "-0x", "+0x")):
                return int(t, 16)
            if re.search(r"[.eE]", t):
                return Float(t)
            return int(t)
        raise SystemExit("benchconf: unexpected %r" % text)


def parse(text):
    p = Parser(text)
    v = p.settings(None)
    p.take("eof")
    return v


# ---- writer ---------------------------------------------------------------


def quote(s):
    out = ['"']
    for c in s:
        if c in '"\\':
            out.append("\\" + c)
        elif c == "\n":
            out.append("\\n")
        elif c == "\t":
            out.append("\\t")
        elif ord(c) < 0x20:
            out.append("\\x%02x" % ord(c))
        else:
            out.append(c)
    out.append('"')
    return "".join(out)


def dump_value(v, ind):
    pad = "  " * (ind + 1)
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, Float):
        r = repr(float(v))
        return r if re.search(r"[.eE]", r) else r + ".0"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return repr(v)
    if isinstance(v, str):
        return quote(v)
    if isinstance(v, dict):
        body = "".join("%s%s = %s;\n" % (pad, k, dump_value(x, ind + 1)) for k, x in v.items())
        return "{\n%s%s}" % (body, "  " * ind)
    if isinstance(v, list):
        return "[" + ", ".join(dump_value(x, ind) for x in v) + "]"
    if isinstance(v, tuple):
        body = ",\n".join(pad + dump_value(x, ind + 1) for x in v)
        return "(\n%s\n%s)" % (body, "  " * ind)
    raise SystemExit("benchconf: cannot write %r" % (v,))


def dump(cfg):
    return "".join("%s = %s;\n" % (k, dump_value(v, 0)) for k, v in cfg.items())


# ---- what the exporter does with a config -------------------------------

# Mirrors config_kind_datasets() and the evaluation's read order.
KIND_DATASETS = {
    "revenue": ["accounts", "subscriptions"],
    "trials": ["accounts", "trials"],
    "surveys": ["accounts", "surveys"],
    "adoption": ["accounts", "activity"],
    "support": ["accounts", "tickets"],
    "outcomes": ["accounts"],
    "health": ["accounts", "subscriptions", "surveys", "activity", "tickets"],
}
DATASET_ORDER = ["accounts", "subscriptions", "trials", "surveys", "activity", "tickets"]
HEALTH_DEFAULT_WINDOWS = {"usage": "30d", "sentiment": "90d", "support": "30d", "billing": "90d"}
UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
# The demo's own windows first, then longer ones: the demo history ends at a
# fixed anchor, so a live exporter run weeks later still finds data in them.
WINDOW_LADDER = [
    "30d", "90d", "60d", "120d", "180d", "365d", "270d", "150d",
    "210d", "45d", "21d", "14d", "7d", "3d", "2d", "1d",
]  # fmt: skip


def seconds(d):
    m = re.fullmatch(r"(\d+)([smhdw])", d)
    if not m:
        raise SystemExit("benchconf: bad duration %r" % d)
    return int(m.group(1)) * UNITS[m.group(2)]


def pg_literal(t):
    return "'" + t.strftime("%Y-%m-%d %H:%M:%S.%f") + "+00'"


def substitute(sql, values):
    def rep(m):
        n = int(m.group(1))
        if n < 1 or n > len(values):
            raise SystemExit("benchconf: query uses $%d but binds %d values" % (n, len(values)))
        return values[n - 1]

    return re.sub(r"\$(\d+)\b", rep, sql)


def cmd_render(args):
    template, out = args[0], args[1]
    opts = {}
    rest = args[2:]
    while rest:
        if not rest[0].startswith("--") or len(rest) < 2:
            raise SystemExit("benchconf: bad option %r" % rest[0])
        opts[rest[0][2:]] = rest[1]
        rest = rest[2:]
    with open(template, encoding="utf-8") as f:
        text = f.read()
    text = text.replace("@PGPORT@", opts.pop("port")).replace("@PGPASSFILE@", opts.pop("passfile"))
    cfg = parse(text)
    if "collectors" in opts:
        want = []
        for spec in opts.pop("collectors").split(","):
            name, _, interval = spec.partition(":")
            want.append((name, interval))
        by_name = {c.get("name", c["kind"]): c for c in cfg["collectors"]}
        picked = []
        for name, interval in want:
            if name not in by_name:
                raise SystemExit("benchconf: no collector %r in %s" % (name, template))
            c = dict(by_name[name])
            if interval:
                c["interval"] = interval
                # The timeout defaults to the interval when shorter; keep the
                # template's so that a short interval never times out a query.
            picked.append(c)
        cfg["collectors"] = tuple(picked)
    # Large tiers need more than the demo's 30 s per query (the activity query
    # alone takes ~50 s in PostgreSQL at 1,000,000 accounts).
    if os.environ.get("BENCH_TIMEOUT"):
        for c in cfg["collectors"]:
            c["timeout"] = os.environ["BENCH_TIMEOUT"]
    if "windows" in opts:
        n = int(opts.pop("windows"))
        wins = WINDOW_LADDER[: max(1, min(n, len(WINDOW_LADDER)))]
        cfg["windows"] = list(wins)
        for c in cfg["collectors"]:
            c.pop("windows", None)
    if "features" in opts:
        n = int(opts.pop("features"))
        feats = list(cfg.get("features", []))[:n]
        i = 1
        while len(feats) < n:
            feats.append("feature_%02d" % i)
            i += 1
        cfg["features"] = feats
    if "max-combinations" in opts:
        cfg.setdefault("segments", {})["max_combinations"] = int(opts.pop("max-combinations"))
    if "at-risk" in opts:
        cfg.setdefault("health", {})["at_risk"] = int(opts.pop("at-risk"))
    if "incremental" in opts:
        if opts.pop("incremental") != "off":
            raise SystemExit("benchconf: --incremental takes only \"off\"")
        cfg["datasets"]["activity"]["incremental"] = {"enabled": False}
    if opts:
        raise SystemExit("benchconf: unknown options %s" % ", ".join(opts))
    cfg.pop("web", None)  # the scripts pass --web.listen-address
    with open(out, "w", encoding="utf-8") as f:
        f.write("# generated by tests/bench/benchconf.py from %s\n" % template)
        f.write(dump(cfg))


def activity_sql(sql):
    """The activity query as the exporter sends it (collectors/ds_activity.c,
    activity_query): sorted by the keys, so that it can count users while the
    rows stream in."""
    return (
        "SELECT * FROM (\n"
        + sql.rstrip(" \t\r\n\f\v;")
        + '\n) AS cs_activity ORDER BY account_key::text COLLATE "C", '
        + 'user_key::text COLLATE "C"'
    )


def collector_history(cfg, coll):
    """Seconds of history a collector needs: its longest window, and for
    health its model's windows."""
    windows = coll.get("windows", cfg.get("windows", ["30d", "90d"]))
    longest = max(seconds(w) for w in windows)
    if coll["kind"] == "health":
        h = cfg.get("health", {})
        for comp, dflt in HEALTH_DEFAULT_WINDOWS.items():
            longest = max(longest, seconds(h.get(comp, {}).get("window", dflt)))
    return windows, longest


def cmd_sql(args):
    """The queries one evaluation of collector NAME sends, or with NAME "all"
    one evaluation of every collector: each dataset once (the union the
    collectors need, history back to the longest window any of them needs),
    each outcome once per window of the outcomes collector. That last one is
    the floor: what PostgreSQL must do at least."""
    path, name, as_of_text, outdir = args
    with open(path, encoding="utf-8") as f:
        cfg = parse(f.read())
    as_of = datetime.datetime.strptime(as_of_text, "%Y-%m-%dT%H:%M:%SZ")
    colls = [c for c in cfg["collectors"] if name == "all" or c.get("name", c["kind"]) == name]
    if not colls:
        raise SystemExit("benchconf: no collector %r" % name)
    need, longest, outcome_windows = set(), 0, []
    for c in colls:
        windows, hist = collector_history(cfg, c)
        longest = max(longest, hist)
        need.update(KIND_DATASETS[c["kind"]])
        if c["kind"] == "outcomes":
            outcome_windows = windows
    base = {
        "as_of": pg_literal(as_of),
        "since": pg_literal(as_of - datetime.timedelta(seconds=longest)),
        "window_end": pg_literal(as_of),
    }
    jobs = []  # (source, sql)
    for ds in DATASET_ORDER:
        if ds in need:
            d = cfg["datasets"][ds]
            vals = [base[p] for p in d.get("params", [])]
            sql = substitute(d["query"], vals)
            if ds == "activity":
                sql = activity_sql(sql)
            jobs.append((d["source"], sql))
    for o in cfg.get("outcomes", ()) if outcome_windows else ():
        for w in outcome_windows:
            v = dict(base)
            v["window_start"] = pg_literal(as_of - datetime.timedelta(seconds=seconds(w)))
            vals = [v[p] for p in o.get("params", [])]
            jobs.append((o["source"], substitute(o["query"], vals)))
    sources = {s["name"]: s for s in cfg["sources"]}
    os.makedirs(outdir, exist_ok=True)
    files = {}
    for src, sql in jobs:
        fn = os.path.join(outdir, "%s.sql" % src)
        if src not in files:
            files[src] = fn
            with open(fn, "w", encoding="utf-8") as f:
                f.write("SET TIME ZONE 'UTC';\n")
        with open(fn, "a", encoding="utf-8") as f:
            f.write("COPY (%s) TO STDOUT;\n" % sql)
    for src, fn in files.items():
        s = sources[src]
        print(
            src,
            fn,
            s.get("host", "127.0.0.1"),
            s.get("port", 5432),
            s.get("dbname", "postgres"),
            s.get("user", "postgres"),
            s.get("password_file", "-"),
        )


def cmd_tune(path, target, w0=2, f0=5):
    total = windowed = featured = 0
    with open(path, encoding="utf-8") as f:
        for line in f:
            if not line.strip() or line.startswith("#"):
                continue
            total += 1
            if 'window="' in line:
                windowed += 1
                if 'feature="' in line:
                    featured += 1
    base = total - windowed
    per_window = (windowed - featured) / w0
    per_feature = featured / (w0 * f0)
    best = None
    for nf in range(f0, 65):
        for nw in range(1, len(WINDOW_LADDER) + 1):
            est = base + nw * (per_window + nf * per_feature)
            if best is None or abs(est - target) < abs(best[2] - target):
                best = (nw, nf, est)
    print(best[0], best[1], int(round(best[2])))


def main():
    if len(sys.argv) < 2:
        raise SystemExit(__doc__)
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "render" and len(args) >= 2:
        cmd_render(args)
    elif cmd == "sql" and len(args) == 4:
        cmd_sql(args)
    elif cmd == "collectors" and len(args) == 1:
        with open(args[0], encoding="utf-8") as f:
            for c in parse(f.read())["collectors"]:
                print(c.get("name", c["kind"]))
    elif cmd == "tune" and len(args) in (2, 4):
        cmd_tune(args[0], *[int(a) for a in args[1:]])
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
