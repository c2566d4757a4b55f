-- The CRM tables that config/example.conf and the `conf` blocks of README.md
-- and docs/*.md read, with a few rows so that every collector has data
-- at 2026-11-01. Loaded by tests/integration/test_shipped_configs.sh.
CREATE TABLE accounts (id text PRIMARY KEY, stripe_id text, tier text, region text,
                       seats int, onboarded_at timestamptz, first_value_at timestamptz,
                       name text);
INSERT INTO accounts VALUES
 ('A1', 'cus_1', 'pro',   'eu', 10, '2026-09-01', '2026-09-05', 'Acme'),
 ('A2', 'cus_2', 'basic', 'us', 5,  '2026-10-10', NULL,         'Bolt'),
 ('A3', 'cus_3', 'pro',   'us', 20, '2025-01-01', '2025-01-20', 'Cog');
CREATE TABLE survey_responses (account_id text, contact_id text, kind text, score int,
                               created_at timestamptz);
INSERT INTO survey_responses VALUES
 ('A1', 'c1', 'nps',  10, '2026-10-20'),
 ('A1', 'c2', 'nps',  6,  '2026-10-21'),
 ('A2', 'c3', 'csat', 5,  '2026-10-22'),
 ('A3', 'c4', 'ces',  3,  '2026-10-23');
CREATE TABLE events (account_id text, user_id text, feature text, at timestamptz);
INSERT INTO events VALUES
 ('A1', 'u1', 'dashboards', '2026-10-30'),
 ('A1', 'u2', 'api',        '2026-10-29'),
 ('A3', 'u3', NULL,         '2026-10-28');
CREATE TABLE tickets (account_id text, opened_at timestamptz, resolved_at timestamptz,
                      escalated bool);
INSERT INTO tickets VALUES
 ('A1', '2026-10-20', '2026-10-21', false),
 ('A2', '2026-10-25', NULL,         true);
GRANT SELECT ON ALL TABLES IN SCHEMA public TO cs_reader;
