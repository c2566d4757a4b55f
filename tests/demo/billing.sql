-- Demo billing database, shaped like a Stripe export (ids, lower-case
-- currency codes, amounts in minor units, recurring interval + count).
-- subscription_periods is the price/status history: one row per item and
-- stretch of time with constant price, quantity, status and coupon, like the
-- phases of a subscription schedule. Keys and indexes come after the load
-- (billing_indexes.sql): built in bulk they cost a fraction of row-by-row upkeep.

CREATE TABLE products (
	id          text NOT NULL,
	name        text NOT NULL,
	active      boolean NOT NULL,
	created     timestamptz NOT NULL
);

CREATE TABLE prices (
	id                       text NOT NULL,
	product_id               text NOT NULL,
	nickname                 text,
	currency                 text NOT NULL,      -- lower-case ISO 4217, as Stripe writes it
	unit_amount              bigint NOT NULL,    -- minor units per unit and interval
	recurring_interval       text NOT NULL,      -- day, week, month, year
	recurring_interval_count integer NOT NULL,
	active                   boolean NOT NULL,
	created                  timestamptz NOT NULL
);

CREATE TABLE coupons (
	id                 text NOT NULL,
	name               text NOT NULL,
	percent_off        numeric(5, 2),
	amount_off         bigint,                   -- minor units of currency, per invoice
	currency           text,
	duration           text NOT NULL,            -- once, repeating, forever
	duration_in_months integer,
	created            timestamptz NOT NULL
);

CREATE TABLE customers (
	id              text NOT NULL,
	email           text,
	name            text,
	currency        text,
	address_country text,
	created         timestamptz NOT NULL,
	deleted         boolean NOT NULL DEFAULT false
);

-- Imported from several systems over the years: keys are not enforced.
CREATE TABLE subscriptions (
	id                text NOT NULL,
	customer_id       text,                      -- NULL on a few orphans from an old import
	status            text NOT NULL,             -- the status now
	created           timestamptz NOT NULL,
	trial_start       timestamptz,
	trial_end         timestamptz,
	canceled_at       timestamptz,
	ended_at          timestamptz,
	collection_method text NOT NULL,
	-- A cancellation at the period's end keeps the subscription active until
	-- cancel_at; canceled_at is then the instant it was requested.
	cancel_at_period_end boolean NOT NULL,
	cancel_at         timestamptz,
	cancellation_reason   text,                  -- cancellation_details.reason
	cancellation_feedback text                   -- cancellation_details.feedback; older imports hold free text
);

-- The current items of live subscriptions (Stripe keeps no history here).
CREATE TABLE subscription_items (
	id              text NOT NULL,
	subscription_id text NOT NULL,
	price_id        text NOT NULL,
	quantity        integer NOT NULL,
	created         timestamptz NOT NULL
);

CREATE TABLE subscription_periods (
	id                   text NOT NULL,
	subscription_id      text NOT NULL,
	subscription_item_id text NOT NULL,
	price_id             text NOT NULL,
	quantity             integer,
	status               text NOT NULL,          -- trialing active past_due unpaid paused canceled ...
	coupon_id            text,                   -- discount applied during the period
	period_start         timestamptz,
	period_end           timestamptz             -- NULL: still running
);

-- One invoice per billing period. due_date is NULL for card customers
-- (charge_automatically: due at once); an invoice nobody paid is marked
-- uncollectible months later.
CREATE TABLE invoices (
	id                         text NOT NULL,
	customer_id                text,               -- NULL on a few rows of an old import
	subscription_id            text,
	status                     text NOT NULL,      -- open, paid, uncollectible (now)
	collection_method          text NOT NULL,
	currency                   text NOT NULL,
	amount_due                 bigint NOT NULL,    -- minor units
	amount_paid                bigint NOT NULL,
	created                    timestamptz NOT NULL,
	due_date                   timestamptz,
	paid_at                    timestamptz,        -- status_transitions.paid_at
	marked_uncollectible_at    timestamptz,        -- status_transitions.marked_uncollectible_at
	attempt_count              integer NOT NULL
);

-- Every card payment attempt, failed ones included.
CREATE TABLE charges (
	id           text NOT NULL,
	invoice_id   text NOT NULL,
	customer_id  text NOT NULL,
	amount       bigint NOT NULL,
	currency     text NOT NULL,
	status       text NOT NULL,                    -- succeeded, failed
	failure_code text,
	created      timestamptz NOT NULL
);
