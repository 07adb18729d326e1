-- Indexes for the read side's one keyset engine (projections/src/readmodels/keyset.rs): every
-- allow-listed sort key of a list has an index on (sort key, id), so a page is an index range
-- scan of `first` rows instead of a sort of the whole table.

-- workers(sortBy: NAME | STATE_SINCE).
CREATE INDEX workers_by_name ON workers (name, worker_id);
COMMENT ON INDEX workers_by_name IS 'Keyset pages of workers(sortBy: NAME)';
CREATE INDEX workers_by_state_since ON workers (state_since, worker_id);
COMMENT ON INDEX workers_by_state_since IS 'Keyset pages of workers(sortBy: STATE_SINCE)';

-- customers(sortBy: REGISTERED_AT | UPDATED_AT), live customers only (the list never shows
-- erased ones); NAME is served by customers_name (lower(name), customer_id).
CREATE INDEX customers_by_registered_at ON customers (registered_at, customer_id) WHERE NOT erased;
COMMENT ON INDEX customers_by_registered_at IS 'Keyset pages of customers(sortBy: REGISTERED_AT)';
CREATE INDEX customers_by_updated_at ON customers (updated_at, customer_id) WHERE NOT erased;
COMMENT ON INDEX customers_by_updated_at IS 'Keyset pages of customers(sortBy: UPDATED_AT)';
