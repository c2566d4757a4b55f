#!/usr/bin/env python3
"""Checks the relative links of markdown files: every [text](target) and
![alt](target) outside code names a file or folder that exists, and every
#anchor names a heading of the target file (the anchors GitHub makes: the
heading's text in lower case, punctuation dropped, spaces as hyphens, a
repeated heading suffixed -1, -2, ...).

    check_links.py [--pending FILE]... PATH...

PATH is a .md file or a folder (its .md files, recursively). --pending FILE
(relative to the current folder) names a file another branch generates: while
it does not exist, links to it are listed on stderr and not counted; once it
exists they are checked like any other. Exits 1 and prints one line per broken
link, "FILE:LINE: ...". Standard library only.
"""
import argparse
import os
import re
import sys

LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\[\]]*\])*\]\(\s*<?([^()\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
FENCE = re.compile(r"^\s*(```|~~~)")


def lines_outside_code(text):
    """(line number, line) of the lines outside fenced blocks, inline code removed."""
    fenced = False
    for n, line in enumerate(text.split("\n"), 1):
        if FENCE.match(line):
            fenced = not fenced
            continue
        if not fenced:
            yield n, re.sub(r"`[^`]*`", "", line)


def slug(heading):
    text = re.sub(r"!?\[((?:[^\[\]]|\[[^\[\]]*\])*)\]\([^)]*\)", r"\1", heading)
    text = re.sub(r"<[^>]+>", "", text).strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(path, cache={}):
    if path not in cache:
        seen, found = {}, set()
        fenced = False
        for line in open(path, encoding="utf-8").read().split("\n"):
            if FENCE.match(line):
                fenced = not fenced
                continue
            m = None if fenced else re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
            if m:
                s = slug(m.group(1))
                n = seen.get(s, 0)
                seen[s] = n + 1
                found.add(s if n == 0 else "%s-%d" % (s, n))
        cache[path] = found
    return cache[path]


def markdown_files(paths):
    for p in paths:
        if os.path.isdir(p):
            for root, dirs, files in os.walk(p):
                dirs[:] = sorted(d for d in dirs if d not in ("__pycache__", "out"))
                for f in sorted(files):
                    if f.endswith(".md"):
                        yield os.path.join(root, f)
        elif os.path.isfile(p):
            yield p
        else:
            print("%s: no such file" % p)
            yield None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pending", action="append", default=[], metavar="FILE")
    ap.add_argument("paths", nargs="+")
    args = ap.parse_args()
    pending = {os.path.normpath(p) for p in args.pending}
    bad = checked = 0
    for md in markdown_files(args.paths):
        if md is None:
            bad += 1
            continue
        text = open(md, encoding="utf-8").read()
        for n, line in lines_outside_code(text):
            for m in LINK.finditer(line):
                target = m.group(1)
                if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", target):
                    continue  # http:, https:, mailto:
                path, _, anchor = target.partition("#")
                dest = os.path.normpath(os.path.join(os.path.dirname(md), path)) if path else md
                checked += 1
                if not os.path.exists(dest):
                    if dest in pending:
                        print("%s:%d: links to %s, pending (not checked)" % (md, n, target),
                              file=sys.stderr)
                        continue
                    print("%s:%d: links to %s, which does not exist" % (md, n, target))
                    bad += 1
                elif anchor and dest.endswith(".md") and anchor not in anchors(dest):
                    print("%s:%d: links to %s, which has no heading #%s" % (md, n, target, anchor))
                    bad += 1
    if checked == 0:
        print("no links found in %s" % " ".join(args.paths))
        return 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
