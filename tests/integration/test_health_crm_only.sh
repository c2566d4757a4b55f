#!/bin/bash
# Health without activity (docs/design.md, health): a CRM-only shop maps
# accounts, subscriptions, surveys and tickets but no product activity. The
# config passes --config.check, and --once emits health scores, renewals by
# band and the at-risk list, with the usage component undefined (an account
# of 10 seats and a promoter scores 100 on sentiment, support and billing,
# not 60 as usage 0 would make it).
. "$(dirname "$0")/../scripts/lib.sh"
set -eu

. "$CS_ROOT/tests/scripts/tiny.sh"
tiny_db
pg_psql "$T/pg" -qX -v ON_ERROR_STOP=1 -d crm <<'SQL'
CREATE TABLE surveys (account text, respondent text, score int, at timestamptz);
INSERT INTO surveys VALUES ('A1', 'r1', 10, '2026-10-20');
CREATE TABLE tickets (account text, opened timestamptz, resolved timestamptz, escalated bool);
INSERT INTO tickets VALUES ('A2', '2026-10-25', NULL, true);
CREATE TABLE renewals (account text, at timestamptz);
INSERT INTO renewals VALUES ('A1', '2026-11-20'), ('A2', '2026-12-10');
GRANT SELECT ON ALL TABLES IN SCHEMA public TO cs_reader;
SQL
tiny_conf "$T/cs.conf"
python3 - "$T/cs.conf" <<'PY'
import sys
p = sys.argv[1]
s = open(p).read()
s = s.replace('first_value AS first_value_at, name FROM accounts"',
              'first_value AS first_value_at, name, r.at AS renewal_at FROM accounts LEFT JOIN renewals r ON r.account = id"')
s = s.replace('};\ncollectors', '''  surveys = { source = "crm";
    query = "SELECT account AS account_key, respondent AS respondent_key, 'nps' AS type, score, at AS responded_at FROM surveys"; };
  tickets = { source = "crm";
    query = "SELECT account AS account_key, opened AS opened_at, resolved AS resolved_at, escalated FROM tickets"; };
};
collectors''', 1)
s = s.replace('kind = "revenue"; interval = "2s"; } );',
              'kind = "revenue"; interval = "2s"; }, { name = "health"; kind = "health"; } );')
open(p, "w").write(s)
PY
grep -q 'kind = "health"' "$T/cs.conf" && grep -q 'tickets = {' "$T/cs.conf" || fail "config not rewritten"
grep -q 'activity' "$T/cs.conf" && fail "the config maps activity"

"$BUILD/cs_exporter" --config.file "$T/cs.conf" --config.check >"$T/check.out" 2>&1 ||
	fail "--config.check refused health without activity: $(cat "$T/check.out")"
"$BUILD/cs_exporter" --config.file "$T/cs.conf" --config.check --connect >"$T/connect.out" 2>&1 ||
	fail "--connect refused health without activity: $(cat "$T/connect.out")"
"$BUILD/cs_exporter" --config.file "$T/cs.conf" --once --as-of 2026-11-01T00:00:00Z \
	>"$T/once.prom" 2>"$T/once.log" || fail "--once failed: $(tail -3 "$T/once.log")"
grep -q '^cs_collector_up{collector="health"} 1' "$T/once.prom" || fail "health collector not up: $(grep cs_collector_up "$T/once.prom")"
# A1: 10 seats, a promoter, no ticket, steady billing: usage left out.
expect "$T/once.prom" 'cs_at_risk_account_score{plan="pro",region="eu",account="A1",name="Acme",band="green",renewal_at="2026-11-20"}' 100
# A2: no survey (sentiment undefined), one escalated ticket (support 50),
# steady billing (100): (15 * 50 + 20 * 100) / 35.
expect "$T/once.prom" 'cs_at_risk_account_score{plan="basic",region="us",account="A2",name="Bolt",band="green",renewal_at="2026-12-10"}' "$(python3 -c 'print(2750/35)')"
expect "$T/once.prom" 'cs_accounts_by_health{plan="pro",region="eu",band="green"}' 2
expect "$T/once.prom" 'cs_renewal_accounts{plan="pro",region="eu",horizon="30d",band="green"}' 1
expect "$T/once.prom" 'cs_renewal_accounts{plan="basic",region="us",horizon="60d",band="green"}' 1
grep -q '^cs_dataset_rows{dataset="activity"}' "$T/once.prom" && fail "activity was read"
echo ok
