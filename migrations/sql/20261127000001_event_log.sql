-- The event log: the only source of truth. Every other table is derived from it, except the
-- credentials and sessions of the api (secrets never go into events).
--
-- Log order is (tx_id, position): the order in which the appending transactions started,
-- then the order of the rows inside one transaction. A reader only reads rows whose
-- transaction is older than every transaction still running
-- (tx_id < pg_snapshot_xmin(pg_current_snapshot())), so no row can ever appear behind a
-- reader's checkpoint, even when a transaction that drew a lower position commits last.
CREATE TABLE events (
    position       BIGINT GENERATED ALWAYS AS IDENTITY,
    tx_id          XID8        NOT NULL DEFAULT pg_current_xact_id(),
    event_id       UUID        NOT NULL,
    aggregate_type TEXT        NOT NULL,
    aggregate_id   TEXT        NOT NULL,
    sequence       BIGINT      NOT NULL CHECK (sequence > 0),
    event_type     TEXT        NOT NULL,
    event_version  TEXT        NOT NULL,
    payload        JSONB       NOT NULL,
    metadata       JSONB       NOT NULL,
    recorded_at    TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
    -- Optimistic concurrency: two appends of the same sequence to one aggregate collide here.
    PRIMARY KEY (aggregate_type, aggregate_id, sequence),
    UNIQUE (event_id),
    UNIQUE (position)
);

-- The readers' order.
CREATE UNIQUE INDEX events_log_order ON events (tx_id, position);
-- Audit: what an actor did in a range.
CREATE INDEX events_actor ON events ((metadata ->> 'actor'), recorded_at);

COMMENT ON TABLE events IS 'Append-only event log; read in (tx_id, position) order below the snapshot xmin';
COMMENT ON COLUMN events.position IS 'Global position: unique and increasing within one transaction, not across transactions; order by (tx_id, position)';

-- Projection checkpoints: how far each projection (or process manager) has read the log.
CREATE TABLE checkpoints (
    name       TEXT PRIMARY KEY,
    tx_id      XID8   NOT NULL DEFAULT '0',
    position   BIGINT NOT NULL DEFAULT 0,
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
