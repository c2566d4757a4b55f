#!/bin/bash
# No arrow up, no circle (HACKING.md, "Layout"): tests/scripts/check_layers.py
# reads every include of lib/, config/, collectors/ and exporter/ and, from
# the build's objects, every call between files, and checks them against the
# floors (lib <- config <- collectors <- exporter), the roles inside
# exporter/ and the steps inside collectors/ (datasets and model <- families
# <- kind table <- plan). It must also catch a planted arrow up and a planted
# circle, so that a check that reads nothing cannot pass.
. "$(dirname "$0")/../scripts/lib.sh"
set -eu
cd "$CS_ROOT"

check=tests/scripts/check_layers.py
"$check" "$BUILD" >"$T/real.out" 2>&1 || fail "$(cat "$T/real.out")"
grep -q '^layers: ok' "$T/real.out" || fail "no ok line: $(cat "$T/real.out")"
if grep -q 'calls not checked' "$T/real.out"; then
	fail "no objects under $BUILD: build first (make all)"
fi
calls=$(sed -n 's/.* \([0-9]*\) calls between files.*/\1/p' "$T/real.out")
[ "${calls:-0}" -gt 100 ] || fail "only ${calls:-0} calls read: $(cat "$T/real.out")"

plant() { # NAME: a copy of the source floors to spoil
	mkdir -p "$T/$1"
	cp -r lib config collectors exporter "$T/$1/"
}

# An arrow up: the model includes the kind table.
plant up
sed -i 's|^#include "money.h"|#include "kinds.h"\n#include "money.h"|' "$T/up/collectors/model.h"
grep -q '^#include "kinds.h"' "$T/up/collectors/model.h" || fail "could not plant the include"
if "$check" --root "$T/up" "$T/no-build" >"$T/up.out" 2>&1; then
	fail "an arrow up passed: $(cat "$T/up.out")"
fi
grep -qF 'layers: collectors/model.h includes collectors/kinds.h: up' "$T/up.out" ||
	fail "arrow up not named: $(cat "$T/up.out")"

# A circle inside one floor: two headers of lib/ that include each other.
plant circle
echo '#include "expo.h"' >>"$T/circle/lib/buf.h"
if "$check" --root "$T/circle" "$T/no-build" >"$T/circle.out" 2>&1; then
	fail "a circle passed: $(cat "$T/circle.out")"
fi
grep -q 'layers: circle of 2 files' "$T/circle.out" || fail "circle not named: $(cat "$T/circle.out")"
grep -qF 'lib/buf.h includes lib/expo.h' "$T/circle.out" || fail "circle: $(cat "$T/circle.out")"

cat "$T/real.out"
