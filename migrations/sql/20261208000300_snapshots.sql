-- Aggregate snapshots (issue 20): the folded state of a long-lived aggregate at one sequence, so
-- that loading it reads the snapshot and only the events after it. A cache of the log, never a
-- source of truth: any row may be deleted at any time (the next load folds from the log again
-- and writes a new one).
CREATE TABLE snapshots (
    aggregate_type   TEXT        NOT NULL,
    aggregate_id     TEXT        NOT NULL,
    sequence         BIGINT      NOT NULL CHECK (sequence > 0),
    state_version    INTEGER     NOT NULL,
    upcaster_version INTEGER     NOT NULL,
    state            JSONB       NOT NULL,
    taken_at         TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (aggregate_type, aggregate_id)
);
COMMENT ON TABLE snapshots IS 'One row per snapshotted aggregate: its state folded from the events up to sequence. A cache of the log (deleting rows loses nothing); not for analysis: read the read models';
COMMENT ON COLUMN snapshots.aggregate_type IS 'As events.aggregate_type: worker, customer, call or request';
COMMENT ON COLUMN snapshots.aggregate_id IS 'As events.aggregate_id (join events on aggregate_type and aggregate_id)';
COMMENT ON COLUMN snapshots.sequence IS 'The last event sequence folded into state: a load reads the events after it';
COMMENT ON COLUMN snapshots.state_version IS 'Version of the aggregate''s state form the row was written under; a row of another version is ignored and rewritten';
COMMENT ON COLUMN snapshots.upcaster_version IS 'Number of event upcasters registered when the row was written; a row of another number is ignored and rewritten';
COMMENT ON COLUMN snapshots.state IS 'The aggregate''s state as JSON (its serde form): internal, may change with state_version';
COMMENT ON COLUMN snapshots.taken_at IS 'When the row was written (UTC)';
