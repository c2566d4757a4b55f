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

"$bin" --version >"$T/version.out" || fail "--version: exit $?"
want=$(sed -n 's/^VERSION *:= *//p' "$CS_ROOT/Makefile")
grep -Eq "^cs_exporter, version $want \(branch: [^,]+, revision: [0-9a-f]+\)$" "$T/version.out" ||
	fail "--version first line: $(head -1 "$T/version.out")"
grep -Eq '^  build date: +[0-9]{8}-[0-9]{2}:[0-9]{2}:[0-9]{2}$' "$T/version.out" || fail "--version: no build date"
grep -Eq '^  compiler: +(gcc|clang) [0-9]' "$T/version.out" || fail "--version: no compiler"
grep -Eq '^  platform: +linux/' "$T/version.out" || fail "--version: no platform"
echo ok
