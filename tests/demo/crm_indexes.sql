-- After the load: keys, then what the mapping queries in config/demo.conf
-- filter and join on. account has no key: it is a warehouse copy with
-- duplicates and a NULL id, as real ones have. product_event is indexed on
-- time, as event tables are: a live evaluation reads most of it (it keeps
-- 120 days, the longest window is 90), but each backfill step after the
-- first reads one step of it, and the outcome queries one event name.
ALTER TABLE country_region ADD PRIMARY KEY (country);
ALTER TABLE contact ADD PRIMARY KEY (id);
ALTER TABLE "case" ADD PRIMARY KEY (id);
ALTER TABLE survey_response__c ADD PRIMARY KEY (id);
CREATE INDEX ON account (stripe_customer_id__c);
CREATE INDEX ON "case" (createddate);
CREATE INDEX ON "case" (closeddate);
CREATE INDEX ON survey_response__c (responded_at__c);
CREATE INDEX ON product_event (occurred_at);
CREATE INDEX ON product_event (event_name, occurred_at);
ANALYZE;
