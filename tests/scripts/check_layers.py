#!/usr/bin/env python3
"""Checks that the code's arrows run one way (HACKING.md, "Layout"): no
include and no call goes up, and none runs in a circle.

    floors       lib <- config <- collectors <- exporter
    exporter/    sources <- eval; serve uses neither; commands on top
    collectors/  the model (model, money, settings.h, result: it holds the
                 folds but includes no dataset's header) <- the datasets
                 (ds_*, dataset, join, emit, self) <- read.c (the one file
                 that knows every dataset) <- the family files (revenue.c,
                 ..., kpi.h: every other file) <- the kind table
                 (kinds.[ch]) <- the plan (plan.[ch])

The graph's nodes are the files of lib/, config/, collectors/ and exporter/.
A file points at each file it includes (a bare include names a file of its
own folder, any other one from the root; a path with .. is refused), and,
when the objects of a build are there, a .c file points at the .c file that
defines each symbol its object uses (nm). Every arrow must keep to the order
above, and the graph must have no circle (a header that declares what a .c
below it defines is fine: a header does not point at its .c).

    check_layers.py [--root DIR] [BUILD]

DIR is the source tree (default: the one holding this script), BUILD its
build directory (default build/ under DIR); calls are not checked when
BUILD holds no objects.

Prints each arrow that goes up and each circle, one per line, and exits 1
when there is one; otherwise one line "layers: ok (...)". Standard library
and binutils' nm only.
"""
import os
import re
import subprocess
import sys

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
FLOORS = ["lib", "config", "collectors", "exporter"]
MODEL = re.compile(r"(model\.[ch]|money\.[ch]|settings\.h|result\.[ch])$")
DATASETS = re.compile(r"(ds_\w+\.[ch]|dataset\.[ch]|join\.c|emit\.[ch]|self\.[ch])$")
INCLUDE = re.compile(r'^\s*#\s*include\s*"([^"]+)"', re.M)


def floor(path):
    return FLOORS.index(path.split("/")[0])


def rank(path):
    """The step of a collectors/ file: model, datasets, read.c, families, kinds, plan."""
    name = path.split("/", 1)[1]
    if name in ("plan.c", "plan.h"):
        return 5
    if name in ("kinds.c", "kinds.h"):
        return 4
    if name == "read.c":
        return 2
    if MODEL.match(name):
        return 0
    return 1 if DATASETS.match(name) else 3


def allowed(src, dst):
    fs, fd = floor(src), floor(dst)
    if fd != fs:
        return fd < fs
    if FLOORS[fs] == "collectors":
        return rank(dst) <= rank(src)
    if FLOORS[fs] == "exporter":
        a, b = src.split("/")[1], dst.split("/")[1]
        return a == b or a == "commands" or (a == "eval" and b == "sources")
    return True


def sources():
    out = []
    for top in FLOORS:
        for dirpath, _, names in os.walk(os.path.join(ROOT, top)):
            for n in names:
                if n.endswith((".c", ".h")):
                    out.append(os.path.relpath(os.path.join(dirpath, n), ROOT))
    return sorted(out)


def nm(obj, *flags):
    res = subprocess.run(["nm", *flags, obj], capture_output=True, text=True, check=True)
    return [line.split() for line in res.stdout.splitlines() if line.strip()]


def main():
    global ROOT
    args = sys.argv[1:]
    if args[:1] == ["--root"] and len(args) > 1:
        ROOT = os.path.abspath(args[1])
        args = args[2:]
    build = args[0] if args else os.environ.get("BUILD", "build")
    if not os.path.isabs(build):
        build = os.path.join(ROOT, build)
    files = sources()
    edges = {f: {} for f in files}  # src -> {dst: why}
    problems = []
    nincludes = ncalls = 0

    for f in files:
        with open(os.path.join(ROOT, f), encoding="utf-8", errors="replace") as fh:
            text = fh.read()
        for inc in INCLUDE.findall(text):
            if ".." in inc.split("/"):
                problems.append(f'{f} includes "{inc}" (a path with ..)')
                continue
            dst = inc if "/" in inc else os.path.join(os.path.dirname(f), inc)
            if dst in edges and dst != f:
                edges[f].setdefault(dst, "includes")
                nincludes += 1

    objects = {f: os.path.join(build, f[:-2] + ".o") for f in files if f.endswith(".c")}
    objects = {f: o for f, o in objects.items() if os.path.exists(o)}
    if objects:
        defined = {}
        for f, o in objects.items():
            for parts in nm(o, "--defined-only", "-g"):
                if len(parts) == 3:
                    defined.setdefault(parts[2], f)
        for f, o in objects.items():
            for parts in nm(o, "-u"):
                dst = defined.get(parts[-1])
                if dst and dst != f:
                    ncalls += 1
                    edges[f].setdefault(dst, "uses " + parts[-1] + " of")

    for src in files:
        for dst, why in sorted(edges[src].items()):
            if not allowed(src, dst):
                problems.append(f"{src} {why} {dst}: up")

    # Circles: strongly connected components of more than one file (Tarjan).
    index, low, stack, on, sccs = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                sccs.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in files:
        if v not in index:
            visit(v)
    for comp in sccs:
        inside = set(comp)
        arrows = [f"{s} {edges[s][d]} {d}" for s in comp for d in sorted(edges[s]) if d in inside]
        problems.append(f"circle of {len(comp)} files:\n    " + "\n    ".join(arrows))

    for p in problems:
        print("layers: " + p)
    if not objects:
        print(f"layers: no objects under {os.path.relpath(build, ROOT)}: calls not checked")
    if problems:
        return 1
    print(
        f"layers: ok ({len(files)} files, {nincludes} includes, {ncalls} calls between files, "
        "no arrow up, no circle)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
