#!/bin/bash
# Regenerates tests/golden/demo.prom, the expected --once exposition of the
# 300-account awkward demo load (seed 5) anchored on 2026-11-01, at
# 2026-11-01T00:00:00Z, that
# tests/integration/test_golden.sh compares against, by running that test's
# own steps in write mode.
#
# Use it only after an intended change to what the exporter writes (a new
# family, label or HELP text, a fixed value) or to the demo data
# (tests/tools/gen_demo.c, tests/demo/*.sql, config/demo.conf), then review
# `git diff tests/golden/demo.prom` line by line before committing: the
# golden file is only worth something if every change in it was read. Value
# changes should also pass tests/integration/test_kpi_independent.sh.
#
#   BUILD=build tests/golden/update.sh
set -eu
cd "$(dirname "$0")/../.."
GOLDEN_UPDATE=1 exec bash tests/integration/test_golden.sh
