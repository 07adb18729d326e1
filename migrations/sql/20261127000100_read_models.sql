-- Read models: plain tables projected from the event log by the projector
-- (projections/src/readmodels/*). Every table here is derived only from `events` and can be
-- rebuilt from it (`savecorp projections rebuild [NAME]`); analysts may query them freely.
-- Identifiers are the aggregate ids of the log (UUID text in `events.aggregate_id`).
-- Timestamps are UTC (timestamptz). Durations are in seconds (`*_secs`) or milliseconds (`*_ms`).

-- Exactly-once guard shared by all projections: the last sequence of each aggregate a
-- projection applied. An event at or below it is skipped, so feeding an event twice is a no-op.
CREATE TABLE projection_versions (
    projection     TEXT   NOT NULL,
    aggregate_type TEXT   NOT NULL,
    aggregate_id   TEXT   NOT NULL,
    sequence       BIGINT NOT NULL,
    PRIMARY KEY (projection, aggregate_type, aggregate_id)
);
COMMENT ON TABLE projection_versions IS 'Per projection and aggregate, the last applied event sequence (idempotence guard)';

-- ---- workers (projection "workers") ----
CREATE TABLE workers (
    worker_id     UUID PRIMARY KEY,
    name          TEXT        NOT NULL,
    email         TEXT        NOT NULL,
    role          TEXT        NOT NULL,
    endpoint      TEXT,
    active        BOOLEAN     NOT NULL,
    state         TEXT        NOT NULL,
    pause_reason  TEXT,
    call_id       UUID,
    wrap_up_until TIMESTAMPTZ,
    state_since   TIMESTAMPTZ NOT NULL,
    idle_since    TIMESTAMPTZ,
    calls_day     DATE,
    calls_today   INTEGER     NOT NULL DEFAULT 0,
    registered_at TIMESTAMPTZ NOT NULL,
    version       BIGINT      NOT NULL
);
CREATE INDEX workers_state ON workers (state, idle_since);
COMMENT ON TABLE workers IS 'One row per worker: profile, role, active flag and live presence state. Time in state = now() - state_since';
COMMENT ON COLUMN workers.state IS 'offline | available | paused | offered | on_call | wrap_up';
COMMENT ON COLUMN workers.idle_since IS 'When the worker last became available (routing: longest idle first)';
COMMENT ON COLUMN workers.calls_today IS 'Calls answered on calls_day (UTC date); 0 when calls_day is not today';
COMMENT ON COLUMN workers.version IS 'Sequence of the last worker event applied';

-- ---- customers (projection "customers") ----
CREATE TABLE customers (
    customer_id   UUID PRIMARY KEY,
    name          TEXT,
    email         TEXT,
    notes         TEXT,
    avatar_url    TEXT,
    erased        BOOLEAN     NOT NULL DEFAULT false,
    open_requests INTEGER     NOT NULL DEFAULT 0,
    registered_at TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL,
    version       BIGINT      NOT NULL
);
CREATE INDEX customers_name ON customers (lower(name), customer_id);
COMMENT ON TABLE customers IS 'One row per customer; personal fields are NULL once erased. Backup status: join backup_status';
COMMENT ON COLUMN customers.open_requests IS 'Requests of this customer that are open or pending';

CREATE TABLE customer_phones (
    number      TEXT PRIMARY KEY,
    customer_id UUID NOT NULL
);
CREATE INDEX customer_phones_customer ON customer_phones (customer_id);
COMMENT ON TABLE customer_phones IS 'E.164 numbers of live customers (customerByNumber): SELECT customer_id FROM customer_phones WHERE number = $1';

CREATE TABLE customer_requests (
    request_id  UUID PRIMARY KEY,
    customer_id UUID    NOT NULL,
    active      BOOLEAN NOT NULL
);
CREATE INDEX customer_requests_customer ON customer_requests (customer_id) WHERE active;
COMMENT ON TABLE customer_requests IS 'Helper of customers.open_requests: each request, its customer, whether open or pending';

-- ---- calls (projection "calls") ----
CREATE TABLE calls (
    call_id          UUID PRIMARY KEY,
    caller_number    TEXT        NOT NULL,
    caller_name      TEXT,
    customer_id      UUID,
    channel_id       TEXT        NOT NULL,
    queue            TEXT        NOT NULL,
    status           TEXT        NOT NULL,
    outcome          TEXT,
    ended_by         TEXT,
    end_reason       TEXT,
    agent_id         UUID,
    attempts         INTEGER     NOT NULL DEFAULT 0,
    queued_at        TIMESTAMPTZ NOT NULL,
    connected_at     TIMESTAMPTZ,
    ended_at         TIMESTAMPTZ,
    wait_secs        BIGINT,
    talk_secs        BIGINT,
    version          BIGINT      NOT NULL
);
CREATE INDEX calls_queued_at ON calls (queued_at, call_id);
CREATE INDEX calls_customer ON calls (customer_id, queued_at);
CREATE INDEX calls_agent ON calls (agent_id, queued_at);
COMMENT ON TABLE calls IS 'Every call that reached the system, one row each, missed and abandoned ones included';
COMMENT ON COLUMN calls.status IS 'queued | offered | connected | ended | abandoned | rejected';
COMMENT ON COLUMN calls.outcome IS 'Terminal outcome: answered | abandoned_queued | abandoned_ringing | rejected_<reason> | ended_unanswered; NULL while live';
COMMENT ON COLUMN calls.ended_at IS 'When the call reached its terminal state (ended, abandoned or rejected)';
COMMENT ON COLUMN calls.wait_secs IS 'Queue wait: queued_at to connected_at, or to the terminal time when never connected';
COMMENT ON COLUMN calls.talk_secs IS 'connected_at to ended_at for answered calls that ended';

CREATE TABLE call_offers (
    call_id          UUID        NOT NULL,
    attempt          INTEGER     NOT NULL,
    agent_id         UUID        NOT NULL,
    agent_channel_id TEXT        NOT NULL,
    offered_at       TIMESTAMPTZ NOT NULL,
    ended_at         TIMESTAMPTZ,
    outcome          TEXT,
    PRIMARY KEY (call_id, attempt)
);
CREATE INDEX call_offers_agent ON call_offers (agent_id, offered_at);
COMMENT ON TABLE call_offers IS 'Each offer of a call to an agent; outcome answered | no_answer | busy | rejected | unreachable | withdrawn (NULL while ringing)';

-- ---- queue (projection "queue") ----
CREATE TABLE queue_calls (
    call_id       UUID PRIMARY KEY,
    queue         TEXT        NOT NULL,
    caller_number TEXT        NOT NULL,
    customer_id   UUID,
    queued_at     TIMESTAMPTZ NOT NULL,
    ringing_agent UUID,
    attempts      INTEGER     NOT NULL DEFAULT 0
);
CREATE INDEX queue_calls_order ON queue_calls (queue, queued_at, call_id);
COMMENT ON TABLE queue_calls IS 'Calls waiting right now (queued or ringing), FIFO by queued_at; oldest wait = now() - min(queued_at)';

-- ---- requests (projection "requests") ----
CREATE TABLE requests (
    request_id      UUID PRIMARY KEY,
    customer_id     UUID        NOT NULL,
    call_id         UUID,
    message         TEXT        NOT NULL,
    priority        TEXT        NOT NULL,
    request_type    TEXT        NOT NULL,
    status          TEXT        NOT NULL,
    assignee        UUID,
    due_at          TIMESTAMPTZ NOT NULL,
    due_at_explicit BOOLEAN     NOT NULL,
    alert           TEXT        NOT NULL DEFAULT 'none',
    opened_by       UUID,
    opened_at       TIMESTAMPTZ NOT NULL,
    solved_at       TIMESTAMPTZ,
    closed_at       TIMESTAMPTZ,
    updated_at      TIMESTAMPTZ NOT NULL,
    version         BIGINT      NOT NULL
);
CREATE INDEX requests_customer ON requests (customer_id, opened_at);
CREATE INDEX requests_status_due ON requests (status, due_at);
COMMENT ON TABLE requests IS 'One row per request (ticket). Overdue now: status IN (''open'',''pending'') AND due_at < now()';
COMMENT ON COLUMN requests.alert IS 'Last alert raised since the due date last changed: none | due_soon | overdue';
COMMENT ON COLUMN requests.solved_at IS 'When last solved; NULL if never solved or reopened since';

CREATE TABLE request_changes (
    request_id UUID        NOT NULL,
    sequence   BIGINT      NOT NULL,
    field      TEXT        NOT NULL,
    old_value  JSONB,
    new_value  JSONB,
    changed_by UUID,
    changed_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (request_id, sequence, field)
);
COMMENT ON TABLE request_changes IS 'Audit of requests (PRODUCT §5): who (changed_by, NULL = system) changed which field when, previous -> new';

-- ---- backups (projection "backups") ----
CREATE TABLE backup_runs (
    run_id        UUID PRIMARY KEY,
    customer_id   UUID        NOT NULL,
    client_run_id TEXT,
    status        TEXT        NOT NULL,
    started_at    TIMESTAMPTZ,
    finished_at   TIMESTAMPTZ,
    duration_secs BIGINT,
    exit_status   INTEGER,
    message       TEXT,
    result_kind   TEXT,
    result        JSONB,
    files_created BIGINT,
    files_modified BIGINT,
    files_deleted BIGINT,
    bytes         BIGINT,
    log_entries   INTEGER     NOT NULL DEFAULT 0,
    log_truncated BOOLEAN     NOT NULL DEFAULT false,
    expired       BOOLEAN     NOT NULL DEFAULT false,
    expired_at    TIMESTAMPTZ,
    expire_reason TEXT,
    reported_at   TIMESTAMPTZ NOT NULL,
    version       BIGINT      NOT NULL
);
CREATE INDEX backup_runs_customer ON backup_runs (customer_id, reported_at);
COMMENT ON TABLE backup_runs IS 'Each backup run: status running | succeeded | failed | timed_out, result statistics, expired by retention';
COMMENT ON COLUMN backup_runs.log_truncated IS 'Some log text of the run was cut at 10 000 characters';

CREATE TABLE backup_status (
    customer_id     UUID PRIMARY KEY,
    plan            JSONB,
    plan_set_at     TIMESTAMPTZ,
    paused          BOOLEAN     NOT NULL DEFAULT false,
    running_run_id  UUID,
    running_since   TIMESTAMPTZ,
    last_success_at TIMESTAMPTZ,
    last_failure_at TIMESTAMPTZ,
    overdue_since   TIMESTAMPTZ,
    status          TEXT        NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL
);
COMMENT ON TABLE backup_status IS 'Per customer backup monitoring facts. status is what the events say (new | up | down | paused | running); grace needs the clock: projections::readmodels::backups::status_at';

-- ---- KPIs (projection "kpis", PRODUCT §8) ----
CREATE TABLE kpi_call_facts (
    call_id      UUID PRIMARY KEY,
    queue        TEXT,
    agent_id     UUID,
    queued_at    TIMESTAMPTZ,
    connected_at TIMESTAMPTZ,
    ended_at     TIMESTAMPTZ,
    abandoned_at TIMESTAMPTZ,
    wrap_up_secs BIGINT NOT NULL DEFAULT 0
);
COMMENT ON TABLE kpi_call_facts IS 'domain::policy::kpi::CallFacts of each call (wrap-up from the agent''s WorkerCallEnded), the input of kpi_call_buckets';

CREATE TABLE kpi_call_buckets (
    bucket_start              TIMESTAMPTZ NOT NULL,
    queue                     TEXT        NOT NULL,
    agent_id                  UUID        NOT NULL,
    offered                   BIGINT      NOT NULL,
    answered                  BIGINT      NOT NULL,
    abandoned                 BIGINT      NOT NULL,
    abandoned_short           BIGINT      NOT NULL,
    answered_within_threshold BIGINT      NOT NULL,
    abandoned_after_threshold BIGINT      NOT NULL,
    answered_wait_ms          BIGINT      NOT NULL,
    handled                   BIGINT      NOT NULL,
    handle_ms                 BIGINT      NOT NULL,
    PRIMARY KEY (bucket_start, queue, agent_id)
);
COMMENT ON TABLE kpi_call_buckets IS 'KpiTotals of the calls queued in [bucket_start, bucket_start + 15 min) UTC, per queue and answering agent (nil UUID: not answered). Sum any set of rows, then: ASA = answered_wait_ms/answered/1000 s, AHT = handle_ms/handled/1000 s, service level (T = 20 s) = 100*answered_within_threshold/(answered+abandoned_after_threshold), abandonment = 100*abandoned/offered. 15-minute UTC buckets align with every real time-zone offset, so GROUP BY date_trunc(''day'', bucket_start AT TIME ZONE ''Europe/Paris'') gives local days';

CREATE TABLE kpi_request_facts (
    request_id UUID PRIMARY KEY,
    opened_at  TIMESTAMPTZ,
    due_at     TIMESTAMPTZ,
    solved_at  TIMESTAMPTZ
);
COMMENT ON TABLE kpi_request_facts IS 'domain::policy::kpi::RequestFacts of each request, the input of kpi_request_buckets';

CREATE TABLE kpi_request_buckets (
    bucket_start      TIMESTAMPTZ PRIMARY KEY,
    opened            BIGINT NOT NULL,
    solved            BIGINT NOT NULL,
    solved_within_due BIGINT NOT NULL
);
COMMENT ON TABLE kpi_request_buckets IS 'RequestTotals per 15-minute UTC bucket: opened by opened_at, solved and solved_within_due by (last) solved_at';

CREATE TABLE agent_state_intervals (
    worker_id  UUID        NOT NULL,
    sequence   BIGINT      NOT NULL,
    activity   TEXT        NOT NULL,
    started_at TIMESTAMPTZ NOT NULL,
    ended_at   TIMESTAMPTZ,
    PRIMARY KEY (worker_id, sequence)
);
CREATE INDEX agent_state_intervals_time ON agent_state_intervals (started_at);
CREATE INDEX agent_state_intervals_open ON agent_state_intervals (worker_id) WHERE ended_at IS NULL;
COMMENT ON TABLE agent_state_intervals IS 'Each presence state of each worker: [started_at, ended_at), ended_at NULL for the current one. Occupancy = time in on_call|wrap_up / time not offline';
COMMENT ON COLUMN agent_state_intervals.activity IS 'offline | available | paused | offered | on_call | wrap_up';
