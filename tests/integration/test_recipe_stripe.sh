#!/bin/bash
# config/recipes/stripe-fivetran.conf on a Stripe schema as Fivetran syncs it
# (current-state subscription and subscription_item, price and plan, and
# subscription_history with _fivetran_start/_fivetran_end), with six
# customers whose KPIs at 2026-11-01 are worked out by hand below, with
# their cancellation requests and feedback, and invoices and card charges
# (failed, recovered, open, voided, written off, draft). Then the
# mapping issue 11 reported, current state read as if it were periods
# (status, canceled_at AS valid_to), loses the churn: the recipe does not.
. "$(dirname "$0")/../scripts/lib.sh"
set -eu
. "$CS_ROOT/tests/scripts/tiny.sh" # expect, value

pg_up "$T/pg"
pg_psql "$T/pg" -qX -v ON_ERROR_STOP=1 -d postgres -c 'CREATE DATABASE stripe'
pg_psql "$T/pg" -qX -v ON_ERROR_STOP=1 -d stripe <<'SQL'
CREATE TABLE customer (id text PRIMARY KEY, name text, email text, address_country text,
                       created timestamptz, _fivetran_synced timestamptz);
CREATE TABLE price (id text PRIMARY KEY, unit_amount bigint, currency text,
                    recurring_interval text, recurring_interval_count int, active bool);
CREATE TABLE plan (id text PRIMARY KEY, amount bigint, currency text, "interval" text,
                   interval_count int);
CREATE TABLE subscription (id text PRIMARY KEY, customer_id text, status text,
                           start_date timestamptz, trial_start timestamptz,
                           trial_end timestamptz, canceled_at timestamptz,
                           ended_at timestamptz, cancel_at_period_end bool,
                           cancel_at timestamptz, cancellation_details_feedback text,
                           cancellation_details_reason text);
CREATE TABLE subscription_history (id text, customer_id text, status text,
                                   start_date timestamptz, canceled_at timestamptz,
                                   ended_at timestamptz, _fivetran_start timestamptz,
                                   _fivetran_end timestamptz, _fivetran_active bool);
CREATE TABLE subscription_item (id text PRIMARY KEY, subscription_id text, plan_id text,
                                quantity int, created timestamptz);

INSERT INTO customer (id, name, address_country, created) VALUES
 ('cus_A', 'Acme',   'US', '2026-01-15'), ('cus_B', 'Bolt', 'DE', '2026-03-01'),
 ('cus_C', 'Cog',    'US', '2026-10-05'), ('cus_D', 'Dyno', 'FR', '2025-06-01'),
 ('cus_E', 'Elm',    'US', '2026-10-12'), ('cus_F', 'Fig',  'US', '2026-02-01');
-- 20.00 USD a month; 1,200.00 USD a year (100.00 a month); 50.00 EUR a month.
INSERT INTO price VALUES
 ('price_basic', 2000,   'usd', 'month', 1, true),
 ('price_pro_y', 120000, 'usd', 'year',  1, true),
 ('price_eur',   5000,   'eur', 'month', 1, true);
-- A legacy plan with no price row: 99.00 USD a month.
INSERT INTO plan VALUES ('plan_old', 9900, 'usd', 'month', 1);

-- The connector's first sync was on 2026-09-01: history starts there.
INSERT INTO subscription VALUES
 -- A: 3 x 20.00 since January, unchanged: 60 at both ends of the window.
 ('sub_A',  'cus_A', 'active',   '2026-01-15', NULL, NULL, NULL, NULL, false),
 -- B: 50.00 EUR = 54.00 USD, canceled on 2026-10-20: churn 54.
 ('sub_B',  'cus_B', 'canceled', '2026-03-01', NULL, NULL, '2026-10-20', '2026-10-20', false),
 -- C: trial from 10-05 to 10-19, then 100.00 a month: new 100; trial converted.
 ('sub_C',  'cus_C', 'active',   '2026-10-05', '2026-10-05', '2026-10-19', NULL, NULL, false),
 -- D: paid 99.00 from 2025-06 to 2026-06-30, before the first sync; back on
 -- 10-10: reactivation 99, not new.
 ('sub_D',  'cus_D', 'canceled', '2025-06-01', NULL, NULL, '2026-06-30', '2026-06-30', false),
 ('sub_D2', 'cus_D', 'active',   '2026-10-10', NULL, NULL, NULL, NULL, false),
 -- E: trial from 10-12, canceled during it, ended at its end 10-26: not converted.
 ('sub_E',  'cus_E', 'canceled', '2026-10-12', '2026-10-12', '2026-10-26', '2026-10-20', '2026-10-26', true),
 -- F: 20.00 a month, unpaid since 10-25: past due, still in MRR.
 ('sub_F',  'cus_F', 'unpaid',   '2026-02-01', NULL, NULL, NULL, NULL, false);
INSERT INTO subscription_item VALUES
 ('si_A',  'sub_A',  'price_basic', 3, '2026-01-15'),
 ('si_B',  'sub_B',  'price_eur',   1, '2026-03-01'),
 ('si_C',  'sub_C',  'price_pro_y', 1, '2026-10-05'),
 ('si_D',  'sub_D',  'plan_old',    1, '2025-06-01'),
 ('si_D2', 'sub_D2', 'plan_old',    1, '2026-10-10'),
 ('si_E',  'sub_E',  'price_basic', 1, '2026-10-12'),
 ('si_F',  'sub_F',  'price_basic', 1, '2026-02-01');
INSERT INTO subscription_history (id, customer_id, status, _fivetran_start, _fivetran_end, _fivetran_active) VALUES
 ('sub_A',  'cus_A', 'active',   '2026-09-01 03:00', '9999-12-31 23:59:59', true),
 ('sub_B',  'cus_B', 'active',   '2026-09-01 03:00', '2026-10-20 00:00',    false),
 ('sub_B',  'cus_B', 'canceled', '2026-10-20 00:00', '9999-12-31 23:59:59', true),
 ('sub_C',  'cus_C', 'trialing', '2026-10-05 06:00', '2026-10-19 00:00',    false),
 ('sub_C',  'cus_C', 'active',   '2026-10-19 00:00', '9999-12-31 23:59:59', true),
 ('sub_D',  'cus_D', 'canceled', '2026-09-01 03:00', '9999-12-31 23:59:59', true),
 ('sub_D2', 'cus_D', 'active',   '2026-10-10 06:00', '9999-12-31 23:59:59', true),
 ('sub_E',  'cus_E', 'trialing', '2026-10-12 06:00', '2026-10-26 00:00',    false),
 ('sub_E',  'cus_E', 'canceled', '2026-10-26 00:00', '9999-12-31 23:59:59', true),
 ('sub_F',  'cus_F', 'active',   '2026-09-01 03:00', '2026-10-25 00:00',    false),
 ('sub_F',  'cus_F', 'unpaid',   '2026-10-25 00:00', '9999-12-31 23:59:59', true);
-- Cancellations. A asked on 10-25 to cancel at its period's end (11-15): it
-- still pays 60 at t, all of it pending churn. B's feedback was
-- too_expensive; E cancelled its trial (unused: no MRR, no churn). F asked on
-- 10-01 and withdrew: canceled_at is left, but it is neither ending nor ended.
UPDATE subscription SET cancel_at_period_end = true, canceled_at = '2026-10-25 09:00',
       cancel_at = '2026-11-15' WHERE id = 'sub_A';
UPDATE subscription SET cancellation_details_feedback = 'too_expensive',
       cancellation_details_reason = 'cancellation_requested' WHERE id = 'sub_B';
UPDATE subscription SET cancellation_details_feedback = 'unused',
       cancellation_details_reason = 'cancellation_requested' WHERE id = 'sub_E';
UPDATE subscription SET canceled_at = '2026-10-01' WHERE id = 'sub_F';

CREATE TABLE invoice (id text PRIMARY KEY, customer_id text, subscription_id text, status text,
                      collection_method text, amount_due bigint, amount_paid bigint,
                      currency text, created timestamptz, due_date timestamptz,
                      attempt_count int, status_transitions_finalized_at timestamptz,
                      status_transitions_paid_at timestamptz,
                      status_transitions_voided_at timestamptz,
                      status_transitions_marked_uncollectible_at timestamptz);
CREATE TABLE charge (id text PRIMARY KEY, invoice_id text, customer_id text, amount bigint,
                     currency text, status text, failure_code text, created timestamptz);
-- Drafts are finalized an hour after they are created; card invoices have no
-- due date (due at once), C's annual invoice is net 30.
INSERT INTO invoice VALUES
 -- A: paid by card at once, in both windows and in the 90d one only.
 ('in_A0', 'cus_A', 'sub_A', 'paid', 'charge_automatically', 6000, 6000, 'usd',
  '2026-09-15 08:00', NULL, 1, '2026-09-15 09:00', '2026-09-15 09:01', NULL, NULL),
 ('in_A1', 'cus_A', 'sub_A', 'paid', 'charge_automatically', 6000, 6000, 'usd',
  '2026-10-15 08:00', NULL, 1, '2026-10-15 09:00', '2026-10-15 09:01', NULL, NULL),
 -- B: 50.00 EUR = 54 USD issued 10-01 (before the 30d window), its card
 -- failed on 10-03 (in it), recovered on 10-08.
 ('in_B1', 'cus_B', 'sub_B', 'paid', 'charge_automatically', 5000, 5000, 'eur',
  '2026-10-01 08:00', NULL, 3, '2026-10-01 09:00', '2026-10-08 10:00', NULL, NULL),
 -- C: 1,200.00 due 11-18, not yet paid: current.
 ('in_C1', 'cus_C', 'sub_C', 'open', 'send_invoice', 120000, 0, 'usd',
  '2026-10-19 08:00', '2026-11-18 09:00', 0, '2026-10-19 09:00', NULL, NULL, NULL),
 -- C's next draft, not finalized: no invoice.
 ('in_C2', 'cus_C', 'sub_C', 'draft', 'send_invoice', 120000, 0, 'usd',
  '2026-10-31 08:00', NULL, 0, NULL, NULL, NULL, NULL),
 -- D: 99.00 on 10-10, its card failed the same day, still open: 22 days
 -- past due at t.
 ('in_D1', 'cus_D', 'sub_D2', 'open', 'charge_automatically', 9900, 0, 'usd',
  '2026-10-10 08:00', NULL, 2, '2026-10-10 09:00', NULL, NULL, NULL),
 -- F: 20.00 on 10-25, attempted twice, no charge rows synced: failed at
 -- finalization; and 20.00 from 07-01 never paid: over 90 days.
 ('in_F1', 'cus_F', 'sub_F', 'open', 'charge_automatically', 2000, 0, 'usd',
  '2026-10-25 08:00', NULL, 2, '2026-10-25 09:00', NULL, NULL, NULL),
 ('in_F0', 'cus_F', 'sub_F', 'open', 'charge_automatically', 2000, 0, 'usd',
  '2026-07-01 08:00', NULL, 0, '2026-07-01 09:00', NULL, NULL, NULL),
 -- Voided on 10-05, and written off on 10-01: neither counts at t.
 ('in_X', 'cus_A', 'sub_A', 'void', 'charge_automatically', 2000, 0, 'usd',
  '2026-10-01 08:00', NULL, 0, '2026-10-01 09:00', NULL, '2026-10-05 12:00', NULL),
 ('in_Y', 'cus_F', 'sub_F', 'uncollectible', 'charge_automatically', 2000, 0, 'usd',
  '2026-06-01 08:00', NULL, 4, '2026-06-01 09:00', NULL, NULL, '2026-10-01 00:00');
INSERT INTO charge VALUES
 ('ch_A0', 'in_A0', 'cus_A', 6000, 'usd', 'succeeded', NULL, '2026-09-15 09:01'),
 ('ch_A1', 'in_A1', 'cus_A', 6000, 'usd', 'succeeded', NULL, '2026-10-15 09:01'),
 ('ch_B1', 'in_B1', 'cus_B', 5000, 'eur', 'failed', 'card_declined', '2026-10-03 09:00'),
 ('ch_B2', 'in_B1', 'cus_B', 5000, 'eur', 'failed', 'insufficient_funds', '2026-10-05 09:00'),
 ('ch_B3', 'in_B1', 'cus_B', 5000, 'eur', 'succeeded', NULL, '2026-10-08 10:00'),
 ('ch_D1', 'in_D1', 'cus_D', 9900, 'usd', 'failed', 'expired_card', '2026-10-10 09:01');
GRANT SELECT ON ALL TABLES IN SCHEMA public TO cs_reader;
SQL

python3 "$CS_SCRIPTS/shipped_conf.py" retarget "$CS_ROOT/config/recipes/stripe-fivetran.conf" \
	"$T/stripe.conf" "$PGPORT" "$T/pg/reader.pass"
"$BUILD/cs_exporter" --config.file "$T/stripe.conf" --config.check --connect >"$T/check.log" 2>&1 ||
	fail "--config.check --connect: $(cat "$T/check.log")"
"$BUILD/cs_exporter" --config.file "$T/stripe.conf" --once --as-of 2026-11-01T00:00:00Z \
	>"$T/once.prom" 2>"$T/once.err" || fail "--once failed: $(tail -5 "$T/once.err")"

# total FILE FAMILY FILTER: the sum of the family's samples whose labels
# contain every comma-separated label="value" of FILTER.
total() {
	python3 - "$1" "$2" "$3" <<'PY'
import re, sys
path, fam, flt = sys.argv[1:]
want = [w for w in flt.split(",") if w]
s = 0.0
for line in open(path):
    m = re.match(r'^%s\{(.*)\} (\S+)$' % re.escape(fam), line.strip())
    if m and all(w in m.group(1).split(",") for w in want):
        s += float(m.group(2))
print(s)
PY
}
check() { # file family filter expected
	got=$(total "$1" "$2" "$3")
	python3 -c "import sys; sys.exit(0 if abs($got - $4) <= 1e-6 * max(1, abs($4)) else 1)" ||
		fail "$2{$3} sums to $got, expected $4"
}
o=$T/once.prom
# MRR at t: A 60 + C 100 + D 99 + F 20 (past due) = 279; at t - 30d:
# A 60 + B 54 + F 20 = 134.
check "$o" cs_mrr '' 279
check "$o" cs_mrr_window_start 'window="30d"' 134
check "$o" cs_mrr_movement 'window="30d",type="new"' 100
check "$o" cs_mrr_movement 'window="30d",type="reactivation"' 99
check "$o" cs_mrr_movement 'window="30d",type="churn"' 54
check "$o" cs_mrr_movement 'window="30d",type="expansion"' 0
check "$o" cs_customers '' 4
check "$o" cs_customer_movements 'window="30d",type="churned"' 1
check "$o" cs_customer_movements 'window="30d",type="reactivated"' 1
check "$o" cs_trials_ended 'window="30d",result="converted"' 1
check "$o" cs_trials_ended 'window="30d",result="canceled"' 1
expect "$o" 'cs_mrr{country="DE",currency="USD"}' 0
expect "$o" 'cs_mrr{country="FR",currency="USD"}' 99
expect "$o" 'cs_trial_conversion_ratio{country="US",window="30d"}' 0.5
if grep -q '^cs_rows_rejected_total{' "$o"; then fail "rows rejected: $(grep '^cs_rows_rejected_total{' "$o")"; fi

# Pending churn: A (60) asked on 10-25 and pays until 11-15; F's withdrawn
# request does not count. On 10-20 A had not asked yet.
check "$o" cs_mrr_pending_churn '' 60
check "$o" cs_committed_mrr '' 219
check "$o" cs_customers_pending_churn '' 1
# Churn by reason: B (54) said too_expensive; E's trial is no churn.
check "$o" cs_customers_churned_by_reason 'window="30d",reason="too_expensive"' 1
check "$o" cs_mrr_churn_by_reason 'window="30d",reason="too_expensive"' 54
check "$o" cs_customers_churned_by_reason 'window="30d"' 1
check "$o" cs_customers_churned_by_reason 'window="30d",reason="unused"' 0
check "$o" cs_customers_churned_by_reason 'window="30d",reason="unknown"' 0
# Receivables at t: C 1,200 current; D 99 (22 days) and F 20 (7 days) in
# 1_30; F's July invoice 20 over 90 days; void and written-off ones gone.
check "$o" cs_receivables_amount 'bucket="current"' 1200
check "$o" cs_receivables_amount 'bucket="1_30"' 119
check "$o" cs_receivables_invoices 'bucket="1_30"' 2
check "$o" cs_receivables_amount 'bucket="31_60"' 0
check "$o" cs_receivables_amount 'bucket="61_90"' 0
check "$o" cs_receivables_amount 'bucket="over_90"' 20
check "$o" cs_receivables_invoices '' 4
# Failed in [10-02, 11-01): B (10-03, recovered 10-08), D (10-10), F (10-25
# by its attempt count): 3, 1 recovered; amounts 54 + 99 + 20 and 54.
check "$o" cs_payments_failed 'window="30d"' 3
check "$o" cs_payments_recovered 'window="30d"' 1
check "$o" cs_payments_failed_amount 'window="30d"' 173
check "$o" cs_payments_recovered_amount 'window="30d"' 54
check "$o" cs_payments_failed 'window="90d"' 3
# Billed: A 60, C 1,200, D 99, F 20 in 30d; plus A's September 60 and B's
# 54 of 10-01 in 90d (not the draft, not the void).
check "$o" cs_billed_amount 'window="30d"' 1379
check "$o" cs_billed_amount 'window="90d"' 1493
# Per segment: B in DE recovered its one failure, D (FR) and F (US) did
# not. DSO = receivables / billed x days: US 1,240 (C, F, F) over 1,280
# (A, C, F) in 30d and 1,340 in 90d; FR 99 over 99; DE nothing open, 54
# billed in 90d only (none in 30d: no DSO).
expect "$o" 'cs_payment_recovery_ratio{country="DE",window="30d"}' 1
expect "$o" 'cs_payment_recovery_ratio{country="FR",window="30d"}' 0
expect "$o" 'cs_payment_recovery_ratio{country="US",window="30d"}' 0
expect "$o" 'cs_days_sales_outstanding{country="FR",window="30d"}' 30
expect "$o" 'cs_days_sales_outstanding{country="DE",window="90d"}' 0
if grep -q '^cs_days_sales_outstanding{country="DE",window="30d"}' "$o"; then
	fail "DSO for DE over 30d, where nothing was billed"
fi
python3 - "$o" <<'PY' || fail "cs_days_sales_outstanding{country=\"US\"} is not receivables / billed x days"
import re, sys
text = open(sys.argv[1]).read()
for w, days, billed in (("30d", 30, 1280), ("90d", 90, 1340)):
    m = re.search(r'^cs_days_sales_outstanding\{country="US",window="%s"\} (\S+)$' % w, text, re.M)
    want = 1240 / billed * days
    assert m and abs(float(m.group(1)) - want) < 1e-9 * want, (w, m and m.group(1), want)
PY
"$BUILD/cs_exporter" --config.file "$T/stripe.conf" --once --as-of 2026-10-20T00:00:00Z \
	>"$T/early.prom" 2>"$T/early.err" || fail "--once at 10-20 failed: $(tail -5 "$T/early.err")"
check "$T/early.prom" cs_mrr_pending_churn '' 0
check "$T/early.prom" cs_customers_pending_churn '' 0

# The natural mapping of the current state: every subscription one period
# from start_date to canceled_at with its status today. B is "canceled" over
# its whole life, so it never had MRR and its churn is lost (and F's status
# "unpaid" is rejected as unknown_status: only A is left at t - 30d); A, which
# asked on 10-25 to cancel but still pays, is counted as churned instead.
python3 - "$T/stripe.conf" "$T/naive.conf" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
start = text.index("  subscriptions = {")
end = text.index("  # A trial converted")
naive = '''  subscriptions = { source = "stripe"; params = [];
    query = "SELECT s.customer_id AS billing_key, coalesce(p.unit_amount, pl.amount) AS amount_minor,"
            " coalesce(p.currency, pl.currency) AS currency,"
            " coalesce(p.recurring_interval, pl.\\"interval\\") AS interval_unit,"
            " coalesce(p.recurring_interval_count, pl.interval_count) AS interval_count,"
            " si.quantity, s.status, s.start_date AS valid_from, s.canceled_at AS valid_to"
            " FROM subscription s JOIN subscription_item si ON si.subscription_id = s.id"
            " LEFT JOIN price p ON p.id = si.plan_id LEFT JOIN plan pl ON pl.id = si.plan_id"; };
'''
open(sys.argv[2], "w").write(text[:start] + naive + text[end:])
PY
"$BUILD/cs_exporter" --config.file "$T/naive.conf" --once --as-of 2026-11-01T00:00:00Z \
	>"$T/naive.prom" 2>"$T/naive.err" || fail "--once with the naive mapping failed: $(tail -3 "$T/naive.err")"
check "$T/naive.prom" cs_mrr_movement 'window="30d",type="churn"' 60
check "$T/naive.prom" cs_mrr_window_start 'window="30d"' 60
check "$T/naive.prom" cs_customer_movements 'window="30d",type="churned"' 1
check "$T/naive.prom" cs_mrr '' 199 # C and D only: A, still paying, has ended, F is rejected (the recipe: 279)
echo ok
