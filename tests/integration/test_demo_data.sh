#!/bin/bash
# The demo data generator. The awkward test company (--awkward): a load is a
# pure function of (accounts, seed, anchor), and it plants every kind of
# contract-breaking row the exporter must reject, and the awkward segment
# names its label escaping must survive. The clean company `make demo` shows,
# anchored a year from today and two years back (no test depends on the
# date it runs): its windows are alive at its anchor, its headline KPIs are
# those of a healthy B2B SaaS company (tests/demo/headline.py), its segment
# names are plain, its rejected rows few, and it looks the same on any day;
# the live exporter with its clock faked to a year ahead (libfaketime) sees
# the same on a load anchored then.
set -eu
. "$(dirname "$0")/../scripts/lib.sh"

ACCOUNTS=2000
SEED=42
ANCHOR=2026-11-01

pg_up "$T/pg"
load() { # seed [load.sh flags]
	_seed=$1
	shift
	"$CS_ROOT/tests/demo/load.sh" "$T/pg" --accounts "$ACCOUNTS" --seed "$_seed" "$@" \
		>"$T/load.log" 2>&1 ||
		{
			cat "$T/load.log" >&2
			fail "load.sh failed for seed $_seed $*"
		}
}
q() {
	pg_psql "$T/pg" -qAtX -v ON_ERROR_STOP=1 -d "$1" -c "$2" || fail "query failed on $1: $2"
}

# One line per table: db.table rows md5-of-sorted-row-hashes.
checksums() {
	"$CS_ROOT/tests/demo/load.sh" "$T/pg" --accounts "$ACCOUNTS" --seed "$1" --anchor "$ANCHOR" \
		--awkward --check || fail "the crm comment does not record the load of seed $1"
	for db in billing crm; do
		for tbl in $(q "$db" "SELECT quote_ident(relname) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND relkind = 'r' ORDER BY relname"); do
			echo "$db.$tbl $(q "$db" "SELECT count(*) || ' ' || coalesce(md5(string_agg(h, '' ORDER BY h)), '-') FROM (SELECT md5(t::text) AS h FROM $tbl t) s")"
		done
	done
}

load "$SEED" --anchor "$ANCHOR" --awkward
checksums "$SEED" >"$T/sum1"
load "$SEED" --anchor "$ANCHOR" --awkward
checksums "$SEED" >"$T/sum2"
diff -u "$T/sum1" "$T/sum2" >&2 || fail "two loads with seed $SEED differ"
[ "$(wc -l <"$T/sum1")" -ge 13 ] || fail "expected at least 13 tables, got: $(cat "$T/sum1")"
if grep -q ' 0 -$' "$T/sum1"; then
	fail "empty tables: $(grep ' 0 -$' "$T/sum1")"
fi

# The load marker names the anchor and the names: another day's load, or the
# clean company, is not this one.
for other in "--anchor 2026-10-31 --awkward" "--anchor $ANCHOR"; do
	# shellcheck disable=SC2086 # two words on purpose
	if "$CS_ROOT/tests/demo/load.sh" "$T/pg" --accounts "$ACCOUNTS" --seed "$SEED" $other --check; then
		fail "load.sh --check takes the load anchored $ANCHOR (awkward) for $other"
	fi
done

load $((SEED + 1)) --anchor "$ANCHOR" --awkward
checksums $((SEED + 1)) >"$T/sum3"
same=$(comm -12 <(grep -v -e products -e prices -e coupons -e country_region "$T/sum1" | sort) \
	<(sort "$T/sum3"))
[ -z "$same" ] || fail "another seed left these per-account tables identical: $same"

# Every kind of bad row, checked on the raw tables the demo queries map (of
# the second seed: no seed may lack one).
expect() { # db description sql-count
	n=$(q "$1" "$3")
	[ "$n" -gt 0 ] || fail "no $2 in the $1 data"
	printf '  %-40s %s\n' "$2" "$n"
}
P="subscription_periods p JOIN prices pr ON pr.id = p.price_id"
expect billing "negative amount" "SELECT count(*) FROM $P WHERE pr.unit_amount < 0"
expect billing "unknown currency" \
	"SELECT count(*) FROM $P WHERE lower(pr.currency) NOT IN ('usd', 'eur', 'gbp', 'jpy')"
expect billing "interval count <= 0" "SELECT count(*) FROM $P WHERE pr.recurring_interval_count <= 0"
expect billing "unknown interval" \
	"SELECT count(*) FROM $P WHERE pr.recurring_interval NOT IN ('day', 'week', 'month', 'year')"
expect billing "negative quantity" "SELECT count(*) FROM subscription_periods WHERE quantity < 0"
expect billing "unknown status" "SELECT count(*) FROM subscription_periods WHERE status NOT IN
	('trialing', 'active', 'past_due', 'unpaid', 'paused', 'canceled')"
expect billing "valid_to <= valid_from" \
	"SELECT count(*) FROM subscription_periods WHERE period_end <= period_start"
expect billing "NULL valid_from" "SELECT count(*) FROM subscription_periods WHERE period_start IS NULL"
expect billing "period without billing key" "SELECT count(*) FROM subscription_periods p
	JOIN subscriptions s ON s.id = p.subscription_id WHERE s.customer_id IS NULL"
expect billing "trials converting" "SELECT count(*) FROM subscriptions s WHERE trial_end IS NOT NULL
	AND EXISTS (SELECT 1 FROM subscription_periods p WHERE p.subscription_id = s.id
	AND p.status = 'active' AND p.period_start = s.trial_end)"
expect billing "trials not converting" "SELECT count(*) FROM subscriptions s WHERE trial_end IS NOT NULL
	AND canceled_at = trial_end"
expect billing "reactivations" "SELECT count(*) FROM (SELECT customer_id FROM subscriptions
	GROUP BY 1 HAVING count(*) > 1) x"
for st in paused past_due unpaid canceled; do
	expect billing "status $st" "SELECT count(*) FROM subscription_periods WHERE status = '$st'"
done
for c in usd eur gbp jpy; do
	expect billing "currency $c" "SELECT count(*) FROM $P WHERE pr.currency = '$c'"
done
for iv in "'week', 1" "'month', 1" "'month', 3" "'year', 1"; do
	expect billing "interval ($iv)" \
		"SELECT count(*) FROM $P WHERE (pr.recurring_interval, pr.recurring_interval_count) = ($iv)"
done
expect billing "recurring discounts" "SELECT count(*) FROM subscription_periods p
	JOIN coupons c ON c.id = p.coupon_id WHERE c.duration <> 'once'"

expect crm "account without id" "SELECT count(*) FROM account WHERE id IS NULL"
expect crm "negative seats" "SELECT count(*) FROM account WHERE seats__c < 0"
expect crm "duplicate billing key" "SELECT count(*) FROM (SELECT stripe_customer_id__c FROM account
	WHERE NOT isdeleted GROUP BY 1 HAVING count(*) > 1) x"
expect crm "value before start" \
	"SELECT count(*) FROM account WHERE first_value_date__c < onboarding_date__c"
expect crm "NULL plan and country" \
	"SELECT count(*) FROM account WHERE plan__c IS NULL AND billingcountry IS NULL"
expect crm "plan with a double quote" "SELECT count(*) FROM account WHERE plan__c LIKE '%\"%'"
expect crm "plan with a backslash" "SELECT count(*) FROM account WHERE strpos(plan__c, E'\\\\') > 0"
expect crm "region Zürich" "SELECT count(*) FROM account a JOIN country_region r
	ON r.country = a.billingcountry WHERE r.region = 'Zürich'"
expect crm "region 東京" "SELECT count(*) FROM account a JOIN country_region r
	ON r.country = a.billingcountry WHERE r.region = '東京'"
expect crm "survey score out of range" "SELECT count(*) FROM survey_response__c WHERE
	(survey_type__c = 'NPS' AND score__c NOT BETWEEN 0 AND 10)
	OR (survey_type__c = 'CSAT' AND score__c NOT BETWEEN 1 AND 5)
	OR (survey_type__c = 'CES' AND score__c NOT BETWEEN 1 AND 7)"
expect crm "unknown survey type" \
	"SELECT count(*) FROM survey_response__c WHERE survey_type__c NOT IN ('NPS', 'CSAT', 'CES')"
expect crm "NULL survey score" "SELECT count(*) FROM survey_response__c WHERE score__c IS NULL"
expect crm "survey without account" "SELECT count(*) FROM survey_response__c WHERE account__c IS NULL"
expect crm "repeated answers by one respondent" "SELECT count(*) FROM (SELECT 1 FROM survey_response__c
	WHERE contact__c IS NOT NULL GROUP BY contact__c, survey_type__c HAVING count(*) > 1) x"
expect crm "event without user" "SELECT count(*) FROM product_event WHERE user_id IS NULL"
expect crm "event without account" "SELECT count(*) FROM product_event WHERE account_id IS NULL"
expect crm "case resolved before opened" "SELECT count(*) FROM \"case\" WHERE closeddate < createddate"
expect crm "case without account" "SELECT count(*) FROM \"case\" WHERE accountid IS NULL"
expect crm "case without creation date" "SELECT count(*) FROM \"case\" WHERE createddate IS NULL"
expect crm "escalated cases" "SELECT count(*) FROM \"case\" WHERE isescalated"
# docs/design.md, cohorts, renewals, payment risk: contract renewal dates spread over the year after the
# anchor, a few overdue, some missing; past-due spells that end in recovery
# and in (involuntary) churn.
for span in "0 29" "30 59" "60 89" "90 365"; do
	# shellcheck disable=SC2086 # two numbers on purpose
	set -- $span
	expect crm "renewal in $1-$2 days" "SELECT count(*) FROM account WHERE type = 'Customer'
		AND renewal_date__c BETWEEN DATE '$ANCHOR' + $1 AND DATE '$ANCHOR' + $2"
done
expect crm "renewal on the anchor day" "SELECT count(*) FROM account WHERE renewal_date__c = DATE '$ANCHOR'"
expect crm "renewal overdue" \
	"SELECT count(*) FROM account WHERE type = 'Customer' AND renewal_date__c < DATE '$ANCHOR'"
expect crm "customer without renewal date" \
	"SELECT count(*) FROM account WHERE type = 'Customer' AND renewal_date__c IS NULL"
n=$(q crm "SELECT count(*) FROM account WHERE renewal_date__c > DATE '$ANCHOR' + 366")
[ "$n" -eq 0 ] || fail "$n renewal dates more than a year after the anchor"
spell() { # the status after a past_due period
	echo "SELECT count(*) FROM subscription_periods p JOIN subscription_periods n
		ON n.subscription_id = p.subscription_id AND n.subscription_item_id = p.subscription_item_id
		AND n.period_start = p.period_end WHERE p.status = 'past_due' AND n.status = '$1'"
}
expect billing "past_due, then active again" "$(spell active)"
expect billing "past_due, then canceled" "$(spell canceled)"
expect billing "past_due at the anchor" "SELECT count(*) FROM subscription_periods
	WHERE status IN ('past_due', 'unpaid') AND period_start < '$ANCHOR' AND period_end IS NULL"
# Revenue intelligence (docs/datasets.md): cancellations requested before
# the period's end, some still pending at the anchor; Stripe's feedback codes,
# free text and none; invoices whose card failed, recovered or not, transfers
# paid late, and invoices open past 90 days; and the payment rows the
# payments dataset must reject.
expect billing "cancellation requested before its end" "SELECT count(*) FROM subscriptions
	WHERE cancel_at_period_end AND status = 'canceled' AND canceled_at < ended_at"
expect billing "cancellation pending at the anchor" "SELECT count(*) FROM subscriptions
	WHERE cancel_at_period_end AND status = 'active' AND canceled_at < '$ANCHOR' AND cancel_at > '$ANCHOR'"
n=$(q billing "SELECT count(*) FROM subscriptions WHERE canceled_at > coalesce(ended_at, '$ANCHOR')")
[ "$n" -eq 0 ] || fail "$n cancellations requested after the subscription ended or the anchor"
for code in customer_service low_quality missing_features other switched_service too_complex \
	too_expensive unused; do
	expect billing "feedback $code" "SELECT count(*) FROM subscriptions WHERE cancellation_feedback = '$code'"
done
expect billing "feedback in free text" "SELECT count(*) FROM subscriptions WHERE cancellation_feedback
	NOT IN ('customer_service', 'low_quality', 'missing_features', 'other', 'switched_service',
	'too_complex', 'too_expensive', 'unused')"
expect billing "voluntary cancellation without feedback" "SELECT count(*) FROM subscriptions
	WHERE cancel_at_period_end AND cancellation_feedback IS NULL"
expect billing "involuntary cancellation" \
	"SELECT count(*) FROM subscriptions WHERE cancellation_reason = 'payment_failed'"
expect billing "invoice paid at once by card" "SELECT count(*) FROM invoices WHERE attempt_count = 1
	AND status = 'paid' AND collection_method = 'charge_automatically'"
expect billing "card failed, then recovered" "SELECT count(*) FROM invoices i WHERE status = 'paid'
	AND EXISTS (SELECT 1 FROM charges c WHERE c.invoice_id = i.id AND c.status = 'failed')"
expect billing "card failed, never recovered" "SELECT count(*) FROM invoices i WHERE status <> 'paid'
	AND EXISTS (SELECT 1 FROM charges c WHERE c.invoice_id = i.id AND c.status = 'failed')"
expect billing "transfer paid after its due date" \
	"SELECT count(*) FROM invoices WHERE paid_at > due_date"
expect billing "invoice open over 90 days past due" "SELECT count(*) FROM invoices WHERE status = 'open'
	AND coalesce(due_date, created) < TIMESTAMPTZ '$ANCHOR' - interval '90 days'"
expect billing "invoice written off" "SELECT count(*) FROM invoices WHERE status = 'uncollectible'"
n=$(q billing "SELECT count(*) FROM invoices WHERE created >= '$ANCHOR' OR paid_at >= '$ANCHOR'
	OR marked_uncollectible_at >= '$ANCHOR'")
[ "$n" -eq 0 ] || fail "$n invoices issued, paid or written off at or after the anchor"
n=$(q billing "SELECT count(*) FROM invoices i JOIN subscriptions s ON s.id = i.subscription_id
	WHERE s.customer_id IS DISTINCT FROM i.customer_id AND i.customer_id IS NOT NULL")
[ "$n" -eq 0 ] || fail "$n invoices billed to another customer than their subscription's"
expect billing "invoice with a negative amount" "SELECT count(*) FROM invoices WHERE amount_due < 0"
expect billing "invoice paid before issued" "SELECT count(*) FROM invoices WHERE paid_at < created"
expect billing "invoice in an unknown currency" \
	"SELECT count(*) FROM invoices WHERE currency NOT IN ('usd', 'eur', 'gbp', 'jpy')"
expect billing "invoice without customer" "SELECT count(*) FROM invoices WHERE customer_id IS NULL"

# cs_reader can read what the demo config maps, over TCP with its password.
n=$(PGPASSWORD=$(cat "$T/pg/reader.pass") psql -h 127.0.0.1 -p "$PGPORT" -U cs_reader -d billing \
	-qAtX -c "SELECT count(*) FROM customers") || fail "cs_reader cannot read billing.customers"
[ "$n" -eq "$ACCOUNTS" ] || fail "expected $ACCOUNTS customers, got $n"

# ---- the clean company, a year from today and two years back --------------
# Its KPIs at its anchor, from the exporter's own exposition. The rejected
# rows are set against the rows the datasets map.
sed -e "s|@PGPORT@|$PGPORT|g" -e "s|@PGPASSFILE@|$T/pg/reader.pass|g" \
	"$CS_ROOT/config/demo.conf" >"$T/cs.conf"
ACCOUNTS=3000
today=$(date -u +%Y-%m-%d)
ahead=$(date -u -d "$today + 365 days" +%Y-%m-%d)
back=$(date -u -d "$today - 2 years" +%Y-%m-%d)
for anchor in "$ahead" "$back"; do
	load 1 --anchor "$anchor"
	"$BUILD/cs_exporter" --config.file "$T/cs.conf" --once --as-of "${anchor}T00:00:00Z" \
		>"$T/clean-$anchor.prom" 2>"$T/clean-$anchor.log" ||
		fail "cs_exporter --once --as-of $anchor failed: $(tail -5 "$T/clean-$anchor.log")"
	rows=$(awk '$1 ~ /^(billing|crm)$/ && $2 ~ /^(account|subscription_periods|"case"|survey_response__c|product_event)$/ \
		{ n += $3 } END { print n + 0 }' "$T/load.log")
	echo "clean demo anchored $anchor ($ACCOUNTS accounts, $rows rows mapped):"
	python3 "$CS_ROOT/tests/demo/headline.py" "$T/clean-$anchor.prom" --check --rows-read "$rows" \
		>"$T/headline-$anchor.txt" || {
		cat "$T/headline-$anchor.txt" >&2
		fail "the clean demo anchored $anchor is not a healthy company"
	}
	sed 's/^/  /' "$T/headline-$anchor.txt"
	# Plain names: the plans and regions a SaaS company uses, no "unknown".
	python3 - "$T/clean-$anchor.prom" <<'PY' || fail "the clean demo anchored $anchor has odd segment names"
import re, sys
plans, regions = set(), set()
for ln in open(sys.argv[1], encoding="utf-8"):
    m = re.match(r'cs_customers\{plan="([^"]*)",region="([^"]*)"\}', ln)
    if m:
        plans.add(m.group(1))
        regions.add(m.group(2))
want_plans = {"Starter", "Team", "Business", "Enterprise", "Legacy"}
want_regions = {"North America", "LATAM", "EMEA", "APAC"}
assert plans == want_plans, "plans %s" % sorted(plans)
assert regions == want_regions, "regions %s" % sorted(regions)
PY
done
# Every instant is an offset from the anchor: the company looks the same on
# any day (the cohort tables, by calendar month, the at-risk list's renewal
# dates, which are calendar dates, and the clock's own metrics aside).
same() {
	grep -v -e '^cs_cohort' -e '_timestamp_seconds' -e '_duration_seconds' -e '^cs_exporter_' "$1" |
		sed 's/,renewal_at="[0-9-]*"/,renewal_at=DATE/'
}
diff <(same "$T/clean-$ahead.prom") <(same "$T/clean-$back.prom") >"$T/shift.diff" ||
	fail "the demo anchored $ahead differs from the one anchored $back: $(head -20 "$T/shift.diff")"

# The live exporter, whose clock is now, on a company anchored a year ahead:
# under libfaketime (C, so the exporter honours it; Prometheus, in Go, would
# not) its clock reads 09:00 on the anchor day. The windows are alive and the
# KPIs are in range, as they are today on a load anchored today.
fakelib=$(ls /usr/lib/*/faketime/libfaketimeMT.so.1 2>/dev/null | head -1 || true)
if [ -z "$fakelib" ]; then
	echo "SKIP the live exporter a year ahead: no libfaketime (Debian package faketime)"
else
	load 1 --anchor "$ahead"
	port=$(free_port)
	# FAKETIME_FORCE_MONOTONIC_FIX=0: libfaketime 0.9.10 otherwise rewrites the
	# deadline of a wait on a CLOCK_MONOTONIC condition variable (the scheduler's)
	# into the past, and the daemon spins a whole core between evaluations.
	start_bg exporter env LD_PRELOAD="$fakelib" FAKETIME="@$ahead 09:00:00" FAKETIME_DONT_FAKE_MONOTONIC=1 FAKETIME_FORCE_MONOTONIC_FIX=0 \
		"$BUILD/cs_exporter" --config.file "$T/cs.conf" --web.listen-address "127.0.0.1:$port"
	wait_http "http://127.0.0.1:$port/-/ready" 60 || fail "exporter not ready: $(tail -5 "$T/exporter.log")"
	curl -fsS "http://127.0.0.1:$port/metrics" >"$T/live-ahead.prom" || fail "GET /metrics failed"
	stop_bg "$(cat "$T/exporter.pid")"
	python3 - "$T/live-ahead.prom" "$ahead" <<'PY' || fail "the live exporter did not run at the faked clock"
import datetime, re, sys
want = datetime.datetime.strptime(sys.argv[2] + " 09:00", "%Y-%m-%d %H:%M").replace(
    tzinfo=datetime.timezone.utc).timestamp()
ts = [float(m.group(1)) for m in re.finditer(
    r'^cs_collector_last_success_timestamp_seconds\{[^}]*\} (\S+)$', open(sys.argv[1]).read(), re.M)]
assert ts and all(want <= t < want + 600 for t in ts), "last success at %s, not near %s" % (ts, want)
PY
	python3 "$CS_ROOT/tests/demo/headline.py" "$T/live-ahead.prom" --check --rows-read "$rows" \
		>"$T/headline-live.txt" || {
		cat "$T/headline-live.txt" >&2
		fail "the live exporter at $ahead 09:00 (faked) sees no healthy company"
	}
	echo "live exporter, clock at $ahead 09:00 (libfaketime): $(grep -E '^(customers|nrr_90d|active_users_30d) ' "$T/headline-live.txt" | tr -s ' ' | tr '\n' ' ')"
fi

echo "ok: test_demo_data"
