# checks.sh: sourced by the rule-check scripts (tests/integration/test_rules*.sh),
# which run every check and report all that failed at the end, rather than
# stopping at the first failure as lib.sh's fail does. POSIX sh.
#
#   fail "what"           remember a failed check
#   run "what" CMD...     run a check; fail "what" when CMD fails
#   scratch               a temporary directory in $tmp, removed on exit
#                         (kept with KEEP=1), with $out inside it
#   finish "what"         exit 1 listing every failed check, or say "what" passed

PROMTOOL="${PROMTOOL:-promtool}"
failed=""

fail() {
	failed="$failed
  $1"
}

run() {
	desc=$1
	shift
	echo "== $desc"
	"$@" || fail "$desc"
}

scratch() {
	tmp=$(mktemp -d)
	# shellcheck disable=SC2064 # the directory is known now
	trap "[ -n \"\${KEEP:-}\" ] || rm -rf '$tmp'" EXIT
	out=$tmp/out
}

finish() {
	if [ -n "$failed" ]; then
		echo "FAILED:$failed"
		exit 1
	fi
	echo "$1: all checks passed"
}
