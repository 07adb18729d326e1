-- Indexes for the filters of the GraphQL API (issue 15 §3).

-- kpis(agentId:): the requests assigned to an agent, opened or solved in a range.
CREATE INDEX requests_assignee ON requests (assignee, opened_at);
