-- Demo CRM database, shaped like a Salesforce sync (15-character ids,
-- __c custom fields, soft deletes), plus the raw product events the product
-- team streams into it. Keys and indexes come after the load
-- (crm_indexes.sql): built in bulk they cost a fraction of row-by-row upkeep.

CREATE TABLE country_region (
	country text NOT NULL,                    -- ISO 3166 alpha-2, as in BillingCountry
	name    text NOT NULL,
	region  text NOT NULL                        -- sales region
);

-- A warehouse copy: no key is enforced, which is how duplicates get in.
CREATE TABLE account (
	id                    text,
	name                  text,
	type                  text,                  -- Customer, Former Customer, Prospect
	plan__c               text,                  -- tier the account is on
	billingcountry        text,
	billingcity           text,
	seats__c              numeric(18, 0),        -- Salesforce number fields are numeric
	stripe_customer_id__c text,
	onboarding_date__c    date,
	first_value_date__c   timestamptz,           -- first dashboard shared with the team
	createddate           timestamptz NOT NULL,
	isdeleted             boolean NOT NULL,
	renewal_date__c       date                   -- contract renewal; NULL: no contract date
);

CREATE TABLE contact (
	id          text NOT NULL,
	accountid   text,
	email       text,
	firstname   text,
	title       text,
	createddate timestamptz NOT NULL
);

CREATE TABLE "case" (
	id           text NOT NULL,
	accountid    text,
	contactid    text,
	casenumber   bigint NOT NULL,
	subject      text,
	priority     text,                           -- P1 (urgent) .. P4
	status       text,
	origin       text,
	isescalated  boolean NOT NULL,
	createddate  timestamptz,
	closeddate   timestamptz
);

CREATE TABLE survey_response__c (
	id              text NOT NULL,
	account__c      text,
	contact__c      text,                        -- NULL: anonymous response
	survey_type__c  text,                        -- NPS, CSAT, CES (upper case in the CRM)
	score__c        numeric(4, 1),
	responded_at__c timestamptz,
	createddate     timestamptz NOT NULL
);

-- Raw events, one row per user action; event_name is "<area>.<verb>".
CREATE TABLE product_event (
	account_id  text,
	user_id     text,
	event_name  text NOT NULL,
	occurred_at timestamptz NOT NULL
);
