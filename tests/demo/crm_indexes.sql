-- After the load: keys, then what the mapping queries in config/demo.conf
-- filter and join on. account has no key: it is a warehouse copy with
-- duplicates and a NULL id, as real ones have. product_event gets no index:
-- the activity query reads most of it (it keeps 120 days, the longest window
-- is 90), and indexing it would cost more load time than it saves.
ALTER TABLE country_region ADD PRIMARY KEY (country);
ALTER TABLE contact ADD PRIMARY KEY (id);
ALTER TABLE "case" ADD PRIMARY KEY (id);
ALTER TABLE survey_response__c ADD PRIMARY KEY (id);
CREATE INDEX ON account (stripe_customer_id__c);
CREATE INDEX ON "case" (createddate);
CREATE INDEX ON "case" (closeddate);
CREATE INDEX ON survey_response__c (responded_at__c);
ANALYZE;
