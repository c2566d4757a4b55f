#!/bin/bash
# Every label name a family can emit or the exporter writes itself (listed
# from the kind table by build/metricref, so a new family's label is covered
# without touching this test) is refused as a segment dimension and as a
# cohorts.dimensions entry: exit 2 and "FILE:LINE: message" at the entry.
# A dimension named like a family's label would give a series two labels of
# one name, and Prometheus rejects the whole scrape.
. "$(dirname "$0")/../scripts/lib.sh"
set -eu

"$BUILD/metricref" labels >"$T/labels" || fail "metricref labels failed"
for must in cohort age_months horizon from to window currency le collector; do
	grep -qx "$must" "$T/labels" || fail "label '$must' is missing from the derived list"
done

write() { # FILE SEGMENT_DIMS COHORT_DIMS: the dimension lists on lines 3 and 9
	cat >"$1" <<CONF
sources = ( { name = "crm"; } );
segments = {
  dimensions = [$2];
};
datasets = {
  accounts = { source = "crm"; query = "SELECT * FROM accounts"; };
  subscriptions = { source = "crm"; query = "SELECT * FROM subscriptions"; };
};
cohorts = { dimensions = [$3]; };
collectors = ( { kind = "revenue"; } );
CONF
}

write "$T/ok.conf" '"plan"' '"plan"'
"$BUILD/cs_exporter" --config.check --config.file "$T/ok.conf" >/dev/null 2>"$T/err" ||
	fail "the base configuration is rejected: $(cat "$T/err")"

n=0
while IFS= read -r label; do
	conf=$T/seg-$label.conf
	write "$conf" "\"plan\", \"$label\"" '"plan"'
	rc=0
	"$BUILD/cs_exporter" --config.check --config.file "$conf" >/dev/null 2>"$T/err" || rc=$?
	[ "$rc" = 2 ] || fail "segment dimension '$label': exit $rc, expected 2"
	grep -qF "$conf:3: dimension '$label' is a reserved label name of the exporter" "$T/err" ||
		fail "segment dimension '$label': $(cat "$T/err")"

	conf=$T/cohort-$label.conf
	write "$conf" '"plan"' "\"$label\""
	rc=0
	"$BUILD/cs_exporter" --config.check --config.file "$conf" >/dev/null 2>"$T/err" || rc=$?
	[ "$rc" = 2 ] || fail "cohort dimension '$label': exit $rc, expected 2"
	grep -qF "$conf:9: cohort dimension \"$label\" is a reserved label name of the exporter" \
		"$T/err" || fail "cohort dimension '$label': $(cat "$T/err")"
	n=$((n + 1))
done <"$T/labels"
[ "$n" -ge 25 ] || fail "only $n label names listed"
echo "ok: $n label names refused as segment and cohort dimensions"
