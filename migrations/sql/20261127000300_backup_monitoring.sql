-- Backup monitoring (PRODUCT §6): ingest tokens, stored manifests, the mail outbox.

-- Ingest tokens: only a SHA-256 hash of the token is kept; the token is shown once. Whether a
-- token is accepted is decided by the Customer aggregate (issued and not revoked, customer not
-- erased); this table only maps a token id to its hash and customer.
CREATE TABLE ingest_tokens (
    token_id    UUID PRIMARY KEY,
    customer_id UUID        NOT NULL,
    token_hash  BYTEA       NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    issued_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    revoked_at  TIMESTAMPTZ
);
CREATE INDEX ingest_tokens_customer ON ingest_tokens (customer_id);

-- Manifests: per customer, the manifest of the newest successful run (state 'current', what
-- the next run is diffed against) and uploads in progress (state 'staging'). A staging
-- manifest becomes current once its run's success is committed; every other is deleted.
CREATE TABLE backup_manifests (
    manifest_id UUID PRIMARY KEY,
    customer_id UUID        NOT NULL,
    run_id      UUID        NOT NULL,
    state       TEXT        NOT NULL CHECK (state IN ('staging', 'current')),
    entries     BIGINT      NOT NULL DEFAULT 0,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX backup_manifests_one_current ON backup_manifests (customer_id)
    WHERE state = 'current';

-- The entries of a manifest. `path` uses the "C" collation: byte order, the order the
-- domain's streaming diff expects.
CREATE TABLE backup_manifest_entries (
    manifest_id UUID   NOT NULL REFERENCES backup_manifests ON DELETE CASCADE,
    path        TEXT COLLATE "C" NOT NULL,
    size        BIGINT NOT NULL,
    mtime       BIGINT NOT NULL,
    hash        TEXT,
    PRIMARY KEY (manifest_id, path)
);

-- Runs of one customer, straight from the log (backup runs, backup status, retention). The
-- queries repeat this expression exactly.
CREATE INDEX events_backup_run_customer ON events (
    (COALESCE(payload #>> '{Started,customer_id}', payload #>> '{Succeeded,customer_id}',
              payload #>> '{Failed,customer_id}')),
    position)
    WHERE aggregate_type = 'backup_run'
      AND event_type IN ('BackupRunStarted', 'BackupRunSucceeded', 'BackupRunFailed');

-- The mail outbox: one message per event that calls for one (unique event_id), rendered when
-- the event is read, sent by the sender loop with retries and exponential backoff.
CREATE TABLE mail_outbox (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id        UUID        NOT NULL UNIQUE,
    kind            TEXT        NOT NULL,
    customer_id     UUID,
    to_addresses    TEXT[]      NOT NULL,
    bcc_addresses   TEXT[]      NOT NULL DEFAULT '{}',
    subject         TEXT        NOT NULL,
    text_body       TEXT        NOT NULL,
    html_body       TEXT        NOT NULL,
    message_id      TEXT        NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    -- Not before: the next attempt, or the end of the lease of the sender holding it.
    next_attempt_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    attempts        INTEGER     NOT NULL DEFAULT 0,
    last_error      TEXT,
    sent_at         TIMESTAMPTZ,
    gave_up_at      TIMESTAMPTZ
);
CREATE INDEX mail_outbox_due ON mail_outbox (next_attempt_at)
    WHERE sent_at IS NULL AND gave_up_at IS NULL;

COMMENT ON TABLE mail_outbox IS 'Mail to send, one row per causing event; delivery attempts and last error kept';
