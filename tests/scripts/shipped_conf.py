#!/usr/bin/env python3
"""Helpers for tests that run the configurations we ship.

    shipped_conf.py extract DOC.md OUTDIR
        writes every fenced block whose info string is `conf` (a complete
        cs_exporter configuration) to OUTDIR/<doc path, / as _>-<n>.conf and prints the
        file names; `conf` blocks are what the docs promise to run as is.
    shipped_conf.py retarget IN OUT PORT PASSFILE
        copies the configuration IN to OUT with its top-level `sources = (...);`
        replaced by sources of the same names on the test cluster: 127.0.0.1,
        PORT, database = the source's name, user cs_reader, PASSFILE.
Standard library only.
"""
import os
import re
import sys


def extract(doc, outdir):
    text = open(doc).read()
    base = doc.replace("/", "_")
    n = 0
    for m in re.finditer(r"^```conf[ \t]*\n(.*?)^```[ \t]*$", text, re.S | re.M):
        n += 1
        path = os.path.join(outdir, "%s-%d.conf" % (base, n))
        with open(path, "w") as f:
            f.write(m.group(1))
        print(path)


def sources_span(text):
    """(start, end) of the top-level `sources = ( ... );` setting."""
    m = re.search(r"^sources\s*=\s*\(", text, re.M)
    if not m:
        sys.exit("no top-level sources list")
    depth, i, quote = 0, m.end() - 1, None
    while i < len(text):
        c = text[i]
        if quote:
            if c == "\\":
                i += 1
            elif c == quote:
                quote = None
        elif c == '"':
            quote = c
        elif c == "#" or text.startswith("//", i):
            i = text.index("\n", i)
            continue
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                end = text.index(";", i) + 1
                return m.start(), end
        i += 1
    sys.exit("unterminated sources list")


def retarget(src, dst, port, passfile):
    text = open(src).read()
    start, end = sources_span(text)
    names = re.findall(r'\bname\s*=\s*"([^"]+)"', text[start:end])
    if not names:
        sys.exit("no source names")
    entries = ",\n".join(
        '  { name = "%s"; host = "127.0.0.1"; port = %s; dbname = "%s"; user = "cs_reader";'
        ' password_file = "%s"; sslmode = "disable"; }' % (n, port, n, passfile)
        for n in names)
    with open(dst, "w") as f:
        f.write(text[:start] + "sources = (\n" + entries + "\n);" + text[end:])


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "extract":
        extract(sys.argv[2], sys.argv[3])
    elif len(sys.argv) == 6 and sys.argv[1] == "retarget":
        retarget(*sys.argv[2:])
    else:
        sys.exit(__doc__)
