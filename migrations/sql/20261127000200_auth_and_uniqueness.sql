-- The api's own tables: credentials and sessions (secrets never go into events), and the
-- uniqueness claims that span aggregates (an aggregate sees only itself).

-- One row per worker who can log in. `role` and `active` mirror the Worker aggregate (written by
-- the api right after the commands that change them): they answer "who is this caller" and
-- "how many other active admins remain" without reading the log.
CREATE TABLE credentials (
    worker_id      UUID PRIMARY KEY,
    -- The email lowercased: the login key.
    email_key      TEXT NOT NULL UNIQUE,
    -- Argon2id in PHC string form.
    password_hash  TEXT NOT NULL,
    role           TEXT NOT NULL CHECK (role IN ('admin', 'agent')),
    active         BOOLEAN NOT NULL DEFAULT TRUE,
    -- Raised by a password change: access tokens carrying an older epoch are rejected.
    session_epoch  INTEGER NOT NULL DEFAULT 0,
    created_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at     TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- A login session = one family of rotating refresh tokens. Access tokens name their session;
-- revoking it (logout, password change, refresh token reuse) ends them all.
CREATE TABLE sessions (
    session_id     UUID PRIMARY KEY,
    worker_id      UUID NOT NULL REFERENCES credentials (worker_id) ON DELETE CASCADE,
    created_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    revoked_at     TIMESTAMPTZ,
    revoked_reason TEXT
);
CREATE INDEX sessions_worker ON sessions (worker_id) WHERE revoked_at IS NULL;

-- Refresh tokens, by the SHA-256 of the token (the token itself is never stored). Single use:
-- `used_at` is set when it is exchanged; presenting a used one revokes its session.
CREATE TABLE refresh_tokens (
    token_hash     TEXT PRIMARY KEY,
    session_id     UUID NOT NULL REFERENCES sessions (session_id) ON DELETE CASCADE,
    issued_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    expires_at     TIMESTAMPTZ NOT NULL,
    used_at        TIMESTAMPTZ
);
CREATE INDEX refresh_tokens_session ON refresh_tokens (session_id);

-- Values that must be unique across aggregates: `worker_email` (lowercased), `worker_endpoint`
-- (among active workers), `customer_phone` (E.164). Claimed before the command that uses the
-- value, released if the command fails or the value is given up.
CREATE TABLE uniqueness_claims (
    kind       TEXT NOT NULL,
    value      TEXT NOT NULL,
    owner_id   TEXT NOT NULL,
    claimed_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (kind, value)
);
CREATE INDEX uniqueness_claims_owner ON uniqueness_claims (kind, owner_id);
