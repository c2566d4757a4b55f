-- The billing tables that config/example.conf and the `conf` blocks of
-- README.md and docs/*.md read (see crm.sql).
CREATE TABLE subscription_periods (customer text, unit_amount bigint, currency text,
                                   "interval" text, interval_count int, quantity int,
                                   status text, period_start timestamptz,
                                   period_end timestamptz);
INSERT INTO subscription_periods VALUES
 ('cus_1', 10000, 'usd', 'month', 1, 1, 'active',   '2026-09-01', NULL),
 ('cus_2', 60000, 'EUR', 'year',  1, 2, 'trialing', '2026-10-10', '2026-10-20'),
 ('cus_2', 60000, 'EUR', 'year',  1, 2, 'active',   '2026-10-20', NULL),
 ('cus_3', 5000,  'USD', 'month', 1, 4, 'active',   '2025-01-01', '2026-10-15');
CREATE TABLE trials (customer text, started_at timestamptz, ended_at timestamptz,
                     converted bool);
INSERT INTO trials VALUES ('cus_2', '2026-10-10', '2026-10-20', true);
CREATE TABLE customers (id text, crm_account text);
INSERT INTO customers VALUES ('cus_1', 'A1'), ('cus_2', 'A2');
CREATE TABLE invoices (customer_id text, created_at timestamptz);
INSERT INTO invoices SELECT 'cus_1', '2026-10-01'::timestamptz + n * interval '1 hour'
  FROM generate_series(1, 150) n;
-- Invoices (the payments dataset), as of 2026-11-01: cus_1's October invoice
-- is 1-30 days overdue, its September one failed on 09-05 and was paid on
-- 09-20, its August one was paid on time; cus_3's is 31-60 days overdue.
CREATE TABLE customer_invoices (customer text, total bigint, currency text,
                                created_at timestamptz, due_date timestamptz,
                                paid_at timestamptz, first_failed_at timestamptz);
INSERT INTO customer_invoices VALUES
 ('cus_1', 10000, 'usd', '2026-10-01', '2026-10-15', NULL, NULL),
 ('cus_1', 10000, 'usd', '2026-09-01', '2026-09-15', '2026-09-20', '2026-09-05'),
 ('cus_1', 10000, 'usd', '2026-08-01', '2026-08-15', '2026-08-10', NULL),
 ('cus_3', 20000, 'USD', '2026-09-01', '2026-09-10', NULL, NULL);
GRANT SELECT ON ALL TABLES IN SCHEMA public TO cs_reader;
