-- Indexes for the filters of the GraphQL API (issue 15 §3).

-- kpis(agentId:): the requests assigned to an agent, opened or solved in a range.
CREATE INDEX requests_assignee ON requests (assignee, opened_at);

-- calls(callerNumber:) and calls(outcome:): keyset pages ORDER BY queued_at, call_id within one
-- number or one outcome are index range scans (the agent filter has calls_agent).
CREATE INDEX calls_caller_number ON calls (caller_number, queued_at, call_id);
CREATE INDEX calls_outcome ON calls (outcome, queued_at, call_id);
