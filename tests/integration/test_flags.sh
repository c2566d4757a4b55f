#!/bin/bash
# Flags behave like those of Prometheus' exporters (kingpin): -h and --help
# print the usage and exit 0; an unknown or malformed flag is named in one
# line with a pointer to --help, exit 2; --version prints what
# prometheus/common/version prints (version, branch, revision, build date,
# compiler, platform).
. "$(dirname "$0")/../scripts/lib.sh"
set -eu

bin=$BUILD/cs_exporter
for h in -h --help; do
	"$bin" "$h" >"$T/help.out" 2>&1 || fail "$h: exit $?"
	grep -q -- '--web.listen-address' "$T/help.out" || fail "$h printed no usage"
done

bad() { # expected-substring args...
	_want=$1
	shift
	set +e
	"$bin" "$@" >"$T/bad.out" 2>"$T/bad.err"
	_rc=$?
	set -e
	[ "$_rc" = 2 ] || fail "$*: exit $_rc, expected 2"
	[ "$(wc -l <"$T/bad.err")" = 1 ] || fail "$*: not one line: $(cat "$T/bad.err")"
	[ ! -s "$T/bad.out" ] || fail "$*: wrote to stdout"
	grep -qF -- "$_want" "$T/bad.err" || fail "$*: '$(cat "$T/bad.err")' lacks \"$_want\""
	grep -qF -- "--help" "$T/bad.err" || fail "$*: no pointer to --help"
}
bad "unknown long flag '--web.listen-adress'" --web.listen-adress=:9818
bad "unknown short flag '-x'" -x
bad "expected argument for flag '--config.file'" --config.file
bad "flag '--once' takes no argument" --once=yes
bad "'--collector.nice'" --collector.nice=high
bad "'--format'" --once --format=xml
bad "unexpected argument 'serve'" serve
# Every invalid value is named in one form, with the valid values when they
# are a finite set.
bad "invalid value 'loud' for flag '--log.level' (debug, info, warn or error)" --log.level=loud
bad "invalid value 'yaml' for flag '--log.format' (logfmt or json)" --log.format yaml
bad "invalid value 'xml' for flag '--format' (text or openmetrics)" --once --format=xml
bad "invalid value 'high' for flag '--collector.nice' (0 to 19)" --collector.nice=high
bad "invalid value '-1' for flag '--collector.max-concurrency' (0 to 1000)" --collector.max-concurrency=-1
bad "invalid value 'yesterday' for flag '--as-of' (RFC 3339 or YYYY-MM-DD)" --once --as-of yesterday
bad "invalid value ':99999' for flag '--web.listen-address' (a listen address" --web.listen-address=:99999
bad "invalid value 'metrics' for flag '--web.telemetry-path' (must start with /)" --web.telemetry-path=metrics
bad "flag '--connect' goes with '--config.check'" --connect
bad "flag '--as-of' goes with '--once'" --as-of 2026-01-01
bad "invalid value 'x' for flag '--step' (an integer and a unit s, m, h, d or w)" backfill --from 2026-01-01 --to 2026-01-02 --step x
bad "invalid value 'soon' for flag '--retry.max-wait' (0, or an integer and a unit s, m, h, d or w)" backfill --from 2026-01-01 --to 2026-01-02 --retry.max-wait=soon
bad "invalid value 'May' for flag '--from' (RFC 3339 or YYYY-MM-DD)" backfill --from May --to 2026-01-02
bad "invalid value '2025-01-01' for flag '--to' (not before --from)" backfill --from 2026-01-01 --to 2025-01-01
bad "for flag '--step' (" backfill --from 2000-01-01 --to 2026-01-01 --step 1m
bad "invalid value '1job=x' for flag '--label' (NAME=VALUE," backfill --config.file "$CS_ROOT/config/example.conf" --from 2026-01-01 --to 2026-01-02 --label 1job=x

"$bin" --version >"$T/version.out" || fail "--version: exit $?"
want=$(sed -n 's/^VERSION *:= *//p' "$CS_ROOT/Makefile")
grep -Eq "^cs_exporter, version $want \(branch: [^,]+, revision: [0-9a-f]+\)$" "$T/version.out" ||
	fail "--version first line: $(head -1 "$T/version.out")"
grep -Eq '^  build date: +[0-9]{8}-[0-9]{2}:[0-9]{2}:[0-9]{2}$' "$T/version.out" || fail "--version: no build date"
grep -Eq '^  compiler: +(gcc|clang) [0-9]' "$T/version.out" || fail "--version: no compiler"
grep -Eq '^  platform: +linux/' "$T/version.out" || fail "--version: no platform"
echo ok
