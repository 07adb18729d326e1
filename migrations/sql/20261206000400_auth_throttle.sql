-- Throttling counters (logins, password changes, wrong ingest tokens), kept in the database so
-- every server instance sees the same counts and a restart does not clear them.
--
-- A key names what is throttled: `login:<email>|<address>` (an account from one client
-- address), `password:<worker id>|<address>`, `address:<address>` (every login and password
-- attempt of a client address), `ingest:<address>` (wrong ingest tokens of a client address).
-- An attempt is counted before it is evaluated (the password hash is computed only for an
-- attempt that got a slot), so concurrent attempts cannot exceed the limit; a success gives
-- its slot back. The window is fixed: it starts at the first attempt counted and, once
-- `window_started_at + window` has passed, the next attempt starts a new one.

CREATE TABLE auth_throttle (
    key               text        PRIMARY KEY,
    window_started_at timestamptz NOT NULL,
    attempts          integer     NOT NULL CHECK (attempts >= 0)
);

COMMENT ON TABLE auth_throttle IS
    'throttling counter per key (login per account and address, per address, password change, wrong ingest tokens)';
COMMENT ON COLUMN auth_throttle.key IS
    'what is throttled: login:<email>|<address>, password:<worker>|<address>, address:<address>, ingest:<address>';
COMMENT ON COLUMN auth_throttle.window_started_at IS 'start of the current window (first attempt counted in it)';
COMMENT ON COLUMN auth_throttle.attempts IS 'attempts counted in the current window (failures, and attempts still being evaluated)';

CREATE INDEX auth_throttle_window ON auth_throttle (window_started_at);
