"""A small reader for the libconfig subset cs_exporter's configuration uses.

    from libconf import load, ConfigError
    cfg = load("cs_exporter.conf")      # dict of settings

Reads settings `name = value;` (or `name : value`, `;` or `,` or nothing as
terminator), groups `{ ... }` (dicts), lists `( ... )` and arrays `[ ... ]`
(Python lists), strings in double quotes with the usual escapes (adjacent
strings are joined), integers (decimal, hex `0x..`, an optional `L` suffix),
floats, booleans (`true`/`false`, any case), comments (`#`, `//`, `/* */`) and
`@include "file"` (relative to the directory of the main file, as the
exporter's loader sets libconfig's include directory). Anything else raises
ConfigError("FILE:LINE: message"). Values are not validated beyond syntax:
that is cs_exporter --config.check's job.

Standard library only; used by dashboards/generate.py.
"""

import os
import re


class ConfigError(Exception):
    pass


class Group(dict):
    """A group's settings; .lines[name] is where each was set ("FILE:LINE")."""

    def __init__(self):
        super().__init__()
        self.lines = {}


class List(list):
    """A list or array; .lines[i] is where element i starts ("FILE:LINE")."""

    def __init__(self):
        super().__init__()
        self.lines = []


def where(obj, key, default):
    """"FILE:LINE" of obj[key] when the reader recorded it, else default."""
    try:
        return obj.lines[key]
    except (AttributeError, KeyError, IndexError, TypeError):
        return default


_TOKEN = re.compile(
    r"""
    (?P<ws>[ \t\r\f\v]+)
  | (?P<nl>\n)
  | (?P<comment>\#[^\n]*|//[^\n]*)
  | (?P<block>/\*)
  | (?P<include>@include\b)
  | (?P<string>"(?:[^"\\\n]|\\.)*")
  | (?P<float>[-+]?(?:[0-9]+\.[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?|[-+]?[0-9]+[eE][-+]?[0-9]+)
  | (?P<hex>0[xX][0-9A-Fa-f]+L{0,2})
  | (?P<int>[-+]?[0-9]+L{0,2})
  | (?P<bool>(?i:true|false)\b)
  | (?P<name>[A-Za-z\*][-A-Za-z0-9_\*]*)
  | (?P<punct>[=:;,{}()\[\]])
    """,
    re.X,
)

_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "f": "\f", "\\": "\\", '"': '"'}


def _unescape(body, where):
    out, i = [], 0
    while i < len(body):
        c = body[i]
        if c != "\\":
            out.append(c)
            i += 1
            continue
        e = body[i + 1]
        if e in _ESCAPES:
            out.append(_ESCAPES[e])
            i += 2
        elif e == "x" and re.match(r"[0-9A-Fa-f]{2}", body[i + 2:i + 4]):
            out.append(chr(int(body[i + 2:i + 4], 16)))
            i += 4
        else:
            raise ConfigError("%s: unknown escape \\%s in string" % (where, e))
    return "".join(out)


def _tokens(path, text, include_dir, depth):
    """Yields (kind, value, "FILE:LINE"), expanding @include in place."""
    line, pos = 1, 0
    while pos < len(text):
        mm = _TOKEN.match(text, pos)
        where = "%s:%d" % (path, line)
        if not mm:
            bad = re.match(r"\S+", text[pos:]).group(0)
            raise ConfigError("%s: cannot read %r" % (where, bad[:40]))
        kind, value = mm.lastgroup, mm.group(0)
        pos = mm.end()
        if kind in ("ws", "comment"):
            continue
        if kind == "nl":
            line += 1
            continue
        if kind == "block":
            end = text.find("*/", pos)
            if end < 0:
                raise ConfigError("%s: unterminated /* comment" % where)
            line += text.count("\n", pos, end)
            pos = end + 2
            continue
        if kind == "include":
            mm = re.compile(r'[ \t]*"((?:[^"\\\n]|\\.)*)"').match(text, pos)
            if not mm:
                raise ConfigError("%s: @include wants a file name in double quotes" % where)
            pos = mm.end()
            name = _unescape(mm.group(1), where)
            inc = name if os.path.isabs(name) else os.path.join(include_dir, name)
            if depth >= 10:
                raise ConfigError("%s: @include nested too deeply" % where)
            try:
                with open(inc, encoding="utf-8") as f:
                    sub = f.read()
            except OSError as e:
                raise ConfigError("%s: cannot @include %s: %s" % (where, inc, e.strerror))
            yield from _tokens(inc, sub, include_dir, depth + 1)
            continue
        if kind == "string":
            yield ("string", _unescape(value[1:-1], where), where)
        elif kind == "float":
            yield ("value", float(value), where)
        elif kind == "hex":
            yield ("value", int(value.rstrip("L"), 16), where)
        elif kind == "int":
            yield ("value", int(value.rstrip("L")), where)
        elif kind == "bool":
            yield ("value", value.lower() == "true", where)
        elif kind == "name":
            yield ("name", value, where)
        else:
            yield (value, value, where)


class _Parser:
    def __init__(self, toks, path):
        self.toks = list(toks)
        self.i = 0
        self.path = path

    def peek(self):
        if self.i < len(self.toks):
            return self.toks[self.i]
        last = self.toks[-1][2] if self.toks else "%s:1" % self.path
        return ("eof", None, last)

    def take(self):
        t = self.peek()
        self.i += 1
        return t

    def fail(self, tok, msg):
        raise ConfigError("%s: %s" % (tok[2], msg))

    def settings(self, close):
        out = Group()
        while True:
            tok = self.peek()
            if tok[0] == close:
                return out
            if tok[0] != "name":
                want = "end of file" if close == "eof" else "'}'"
                self.fail(tok, "expected a setting name or %s, found %s" % (want, _show(tok)))
            self.take()
            sep = self.take()
            if sep[0] not in ("=", ":"):
                self.fail(sep, "expected '=' after %s, found %s" % (tok[1], _show(sep)))
            if tok[1] in out:
                self.fail(tok, "duplicate setting %s" % tok[1])
            out.lines[tok[1]] = tok[2]
            out[tok[1]] = self.value()
            if self.peek()[0] in (";", ","):
                self.take()

    def value(self):
        tok = self.take()
        kind = tok[0]
        if kind == "string":
            s = tok[1]
            while self.peek()[0] == "string":
                s += self.take()[1]
            return s
        if kind == "value":
            return tok[1]
        if kind == "{":
            out = self.settings("}")
            self.take()
            return out
        if kind in ("(", "["):
            close = ")" if kind == "(" else "]"
            out = List()
            while self.peek()[0] != close:
                out.lines.append(self.peek()[2])
                out.append(self.value())
                nxt = self.peek()
                if nxt[0] == ",":
                    self.take()
                elif nxt[0] != close:
                    self.fail(nxt, "expected ',' or '%s', found %s" % (close, _show(nxt)))
            self.take()
            return out
        self.fail(tok, "expected a value, found %s" % _show(tok))


def _show(tok):
    if tok[0] == "eof":
        return "end of file"
    if tok[0] == "string":
        return "a string"
    return repr(tok[1])


def loads(text, path="<string>", include_dir=None):
    if include_dir is None:
        include_dir = os.path.dirname(os.path.abspath(path)) if path != "<string>" else "."
    p = _Parser(_tokens(path, text, include_dir, 0), path)
    return p.settings("eof")


def load(path):
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as e:
        raise ConfigError("%s: cannot read: %s" % (path, e.strerror))
    except UnicodeDecodeError as e:
        raise ConfigError("%s: not UTF-8: %s" % (path, e))
    return loads(text, path)


_DURATION = re.compile(r"^([1-9][0-9]*)([smhdw])$")
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def duration_seconds(text):
    """"30d" -> 2592000; None when it is no cs_exporter duration."""
    mm = _DURATION.match(text) if isinstance(text, str) else None
    return int(mm.group(1)) * _UNIT[mm.group(2)] if mm else None
