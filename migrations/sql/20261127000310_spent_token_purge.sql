-- The spent-token purge (api/src/backup/purge.rs) deletes, once spent for longer than the
-- retention, revoked ingest tokens, refresh tokens past their expiry and ended sessions. These
-- indexes let it find them without scanning the live rows.
CREATE INDEX ingest_tokens_revoked ON ingest_tokens (revoked_at) WHERE revoked_at IS NOT NULL;
CREATE INDEX refresh_tokens_expires ON refresh_tokens (expires_at);
CREATE INDEX sessions_revoked ON sessions (revoked_at) WHERE revoked_at IS NOT NULL;
