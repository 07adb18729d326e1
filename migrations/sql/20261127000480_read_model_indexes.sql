-- Indexes for the read-model queries of the benchmarks (BENCHMARKS.md, P4), each checked with
-- EXPLAIN ANALYZE on the benchmark data.

-- requests.list: keyset pagination ORDER BY <sort key>, request_id for every allow-listed key,
-- so a page is an index range scan of `first` rows instead of a sort of the whole table.
CREATE INDEX requests_by_opened_at ON requests (opened_at, request_id);
CREATE INDEX requests_by_due_at ON requests (due_at, request_id);
CREATE INDEX requests_by_updated_at ON requests (updated_at, request_id);

-- kpis: the calls and requests of a range's unaligned edges come from the facts tables.
CREATE INDEX kpi_call_facts_queued_at ON kpi_call_facts (queued_at);
CREATE INDEX kpi_request_facts_opened_at ON kpi_request_facts (opened_at);
CREATE INDEX kpi_request_facts_solved_at ON kpi_request_facts (solved_at);
