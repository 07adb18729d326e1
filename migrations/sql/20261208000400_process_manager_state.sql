-- Issue 20: start and takeover cost what is live, not what is past.
--
-- The telephony restore reads the calls not ended from the `calls` read model (plus the calls
-- with events after its checkpoint): this index keeps that read to the live calls.
CREATE INDEX calls_live ON calls (call_id) WHERE ended_at IS NULL;

-- What the process managers keep between terms, next to their checkpoint in `checkpoints`
-- (same name as `manager`), written in the transaction that moves it.
CREATE TABLE process_manager_state (
    manager    TEXT        NOT NULL,
    key        TEXT        NOT NULL,
    state      JSONB       NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (manager, key)
);
COMMENT ON TABLE process_manager_state IS 'What each process manager keeps between leadership terms, so that a start or takeover resumes from its checkpoint (checkpoints.name = manager) instead of reading the whole log; internal state, not for analysis';
COMMENT ON COLUMN process_manager_state.manager IS 'Process manager: backup_watchdog (one row per customer with a plan, runs or follow-ups) | request_deadlines (one row per request not closed) | mail_outbox (one row per customer and per worker it addresses mail to)';
COMMENT ON COLUMN process_manager_state.key IS 'What the row is about within the manager: a customer, request or worker id (prefixed customer: / worker: for mail_outbox); the empty key marks a manager whose state is complete';
COMMENT ON COLUMN process_manager_state.state IS 'The manager''s state for that key as JSON (its own format, versioned with the code; a row it cannot read is rebuilt from the log)';
COMMENT ON COLUMN process_manager_state.updated_at IS 'When the row was last written';

COMMENT ON COLUMN checkpoints.name IS 'Projection (workers | customers | calls | queue | requests | backups | kpis) or process manager (mail_outbox | call_linker | backup_watchdog | request_deadlines)';
