-- After the load: keys, then what the mapping queries in config/demo.conf
-- filter and join on.
ALTER TABLE products ADD PRIMARY KEY (id);
ALTER TABLE prices ADD PRIMARY KEY (id);
ALTER TABLE coupons ADD PRIMARY KEY (id);
ALTER TABLE customers ADD PRIMARY KEY (id);
ALTER TABLE subscriptions ADD PRIMARY KEY (id);
ALTER TABLE subscription_items ADD PRIMARY KEY (id);
ALTER TABLE subscription_periods ADD PRIMARY KEY (id);
ALTER TABLE invoices ADD PRIMARY KEY (id);
ALTER TABLE charges ADD PRIMARY KEY (id);
CREATE INDEX ON subscriptions (customer_id);
CREATE INDEX ON subscription_periods (subscription_id);
CREATE INDEX ON invoices (created);
CREATE INDEX ON charges (invoice_id) WHERE status = 'failed';
ANALYZE;
