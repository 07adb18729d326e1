-- Progress of read-model rebuilds started with the rebuildProjection mutation (issue 15 §3): the
-- `projections` query shows it on every instance, whichever one runs the rebuild.
CREATE TABLE projection_rebuilds (
    name         TEXT PRIMARY KEY,
    requested_at TIMESTAMPTZ NOT NULL,
    started_at   TIMESTAMPTZ,
    updated_at   TIMESTAMPTZ,
    done         BIGINT      NOT NULL DEFAULT 0,
    total        BIGINT,
    finished_at  TIMESTAMPTZ,
    error        TEXT
);
COMMENT ON TABLE projection_rebuilds IS 'The latest rebuild of each read model (checkpoints.name): progress while it runs, its end; one row per projection, replaced by the next rebuild';
COMMENT ON COLUMN projection_rebuilds.name IS 'Projection name, as checkpoints.name';
COMMENT ON COLUMN projection_rebuilds.requested_at IS 'When rebuildProjection asked for it';
COMMENT ON COLUMN projection_rebuilds.started_at IS 'When the first progress was recorded (reading the log began); NULL while queued';
COMMENT ON COLUMN projection_rebuilds.updated_at IS 'When done/total were last recorded (every 250 ms at most); NULL while queued';
COMMENT ON COLUMN projection_rebuilds.done IS 'Events read from the log and applied to the shadow tables so far';
COMMENT ON COLUMN projection_rebuilds.total IS 'Events in the log when the rebuild started (more may come; done may pass it); NULL while queued';
COMMENT ON COLUMN projection_rebuilds.finished_at IS 'When the rebuild ended (swapped in, or failed: see error); NULL while it runs';
COMMENT ON COLUMN projection_rebuilds.error IS 'Why the rebuild failed (the live tables are then untouched); NULL when it succeeded or runs';
