#!/bin/bash
# config/recipes/salesforce.conf on Salesforce objects as an ELT connector
# syncs them (account, "user", contact, "case", a custom nps_survey__c,
# opportunity, contract; soft deletes in is_deleted), with three live
# accounts and one deleted, whose NPS, CSAT and ticket KPIs at 2026-11-01
# are worked out by hand below, per tier and owner.
. "$(dirname "$0")/../scripts/lib.sh"
set -eu
. "$CS_ROOT/tests/scripts/tiny.sh" # expect

pg_up "$T/pg"
pg_psql "$T/pg" -qX -v ON_ERROR_STOP=1 -d postgres -c 'CREATE DATABASE salesforce'
pg_psql "$T/pg" -qX -v ON_ERROR_STOP=1 -d salesforce <<'SQL'
CREATE TABLE "user" (id text PRIMARY KEY, name text, email text, is_active bool);
CREATE TABLE account (id text PRIMARY KEY, name text, owner_id text, type text,
                      customer_tier__c text, seats__c numeric, stripe_customer_id__c text,
                      created_date timestamptz, onboarding_completed_date__c timestamptz,
                      is_deleted bool);
CREATE TABLE contact (id text PRIMARY KEY, account_id text, email text, is_deleted bool);
CREATE TABLE "case" (id text PRIMARY KEY, account_id text, contact_id text, status text,
                     priority text, created_date timestamptz, closed_date timestamptz,
                     is_closed bool, is_escalated bool, csat_score__c numeric,
                     is_deleted bool);
CREATE TABLE nps_survey__c (id text PRIMARY KEY, account__c text, contact__c text,
                            score__c numeric, submitted_at__c timestamptz, is_deleted bool);
CREATE TABLE opportunity (id text PRIMARY KEY, account_id text, type text, stage_name text,
                          close_date date, is_closed bool, is_won bool);
CREATE TABLE contract (id text PRIMARY KEY, account_id text, status text, start_date date,
                       end_date date);

INSERT INTO "user" VALUES ('005U1', 'Dana Scully', 'dana@example.com', true),
                          ('005U2', 'Fox Mulder',  'fox@example.com',  true);
INSERT INTO account VALUES
 ('001A', 'Acme', '005U1', 'Customer', 'Enterprise', 50, 'cus_A', '2026-01-10', '2026-02-01', false),
 ('001B', 'Bolt', '005U2', 'Customer', 'SMB',        5,  'cus_B', '2026-03-01', NULL,         false),
 ('001C', 'Cog',  '005U2', 'Customer', 'SMB',        NULL, 'cus_C', '2026-05-01', NULL,       false),
 ('001D', 'Dead', '005U1', 'Customer', 'SMB',        3,  'cus_D', '2025-01-01', NULL,         true);
INSERT INTO contact VALUES ('c1', '001A', 'a@x', false), ('c2', '001A', 'b@x', false),
 ('c3', '001B', 'c@x', false), ('c4', '001B', 'd@x', false), ('c5', '001B', 'e@x', false),
 ('c6', '001C', 'f@x', false);
INSERT INTO nps_survey__c VALUES
 -- c1 answered twice in the window: the later 6 (detractor) counts.
 ('n1', '001A', 'c1', 10, '2026-10-05', false),
 ('n2', '001A', 'c1', 6,  '2026-10-20', false),
 ('n3', '001A', 'c2', 9,  '2026-10-10', false),
 ('n4', '001B', 'c3', 7,  '2026-10-15', false),
 -- 61 days before t: in the 90d window only.
 ('n5', '001B', 'c4', 3,  '2026-09-01', false),
 -- deleted in Salesforce: never counted.
 ('n6', '001B', 'c5', 10, '2026-10-16', true),
 ('n7', '001C', 'c6', 10, '2026-10-25', false);
INSERT INTO "case" VALUES
 ('k1', '001A', 'c1', 'Closed',    'Low',  '2026-10-03', '2026-10-04', true,  false, 5,    false),
 ('k2', '001A', 'c2', 'Escalated', 'High', '2026-10-10', NULL,         false, true,  NULL, false),
 ('k3', '001B', 'c3', 'Closed',    'High', '2026-10-20', '2026-10-22', true,  true,  2,    false),
 ('k4', '001C', 'c6', 'Closed',    'Low',  '2026-08-01', '2026-08-02', true,  false, NULL, false),
 ('k5', '001B', 'c3', 'New',       'High', '2026-10-21', NULL,         false, true,  NULL, true);
INSERT INTO opportunity VALUES
 ('006A', '001A', 'Renewal', 'Negotiation', '2026-12-15', false, false),
 ('006B', '001B', 'New Business', 'Closed Won', '2026-03-01', true, true);
INSERT INTO contract VALUES ('800B', '001B', 'Activated', '2026-03-01', '2027-02-28');
GRANT SELECT ON ALL TABLES IN SCHEMA public TO cs_reader;
SQL

python3 "$CS_SCRIPTS/shipped_conf.py" retarget "$CS_ROOT/config/recipes/salesforce.conf" \
	"$T/sf.conf" "$PGPORT" "$T/pg/reader.pass"
"$BUILD/cs_exporter" --config.file "$T/sf.conf" --config.check --connect >"$T/check.log" 2>&1 ||
	fail "--config.check --connect: $(cat "$T/check.log")"
"$BUILD/cs_exporter" --config.file "$T/sf.conf" --once --as-of 2026-11-01T00:00:00Z \
	>"$T/once.prom" 2>"$T/once.err" || fail "--once failed: $(tail -5 "$T/once.err")"
o=$T/once.prom
ent='tier="Enterprise",owner="Dana Scully"'
smb='tier="SMB",owner="Fox Mulder"'

# NPS over 30d: Enterprise c1 6 (detractor, the later answer), c2 9
# (promoter) -> 0; SMB c3 7 (passive), c6 10 (promoter) -> +50. Over 90d SMB
# adds c4's 3 (detractor) -> 0.
expect "$o" "cs_nps_score{$ent,window=\"30d\"}" 0
expect "$o" "cs_nps_score{$smb,window=\"30d\"}" 50
expect "$o" "cs_nps_score{$smb,window=\"90d\"}" 0
expect "$o" "cs_survey_responses{$ent,window=\"30d\",survey=\"nps\",category=\"detractor\"}" 1
expect "$o" "cs_survey_responses{$smb,window=\"30d\",survey=\"nps\",category=\"promoter\"}" 1
# CSAT from the case field: k1 5 (Enterprise), k3 2 (SMB).
expect "$o" "cs_csat_ratio{$ent,window=\"30d\"}" 1
expect "$o" "cs_csat_ratio{$smb,window=\"30d\"}" 0
# Cases opened in 30d: k1, k2 (Enterprise), k3 (SMB; k5 is deleted);
# escalated k2, k3; resolved k1 after 1 day, k3 after 2 days.
expect "$o" "cs_tickets{$ent,window=\"30d\",state=\"opened\"}" 2
expect "$o" "cs_tickets{$ent,window=\"30d\",state=\"escalated\"}" 1
expect "$o" "cs_tickets{$smb,window=\"30d\",state=\"opened\"}" 1
expect "$o" "cs_ticket_escalation_ratio{$smb,window=\"30d\"}" 1
expect "$o" "cs_ticket_resolution_seconds{$ent,window=\"30d\"}" 86400
expect "$o" "cs_ticket_resolution_seconds{$smb,window=\"30d\"}" 172800
# The deleted account is no segment of its own, and nothing is rejected.
if grep -q 'tier="SMB",owner="Dana Scully"' "$o"; then
	fail "the deleted account made a segment"
fi
if grep -q '^cs_rows_rejected_total{' "$o"; then fail "rows rejected: $(grep '^cs_rows_rejected_total{' "$o")"; fi
echo ok
