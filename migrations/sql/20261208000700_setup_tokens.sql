-- First run (issue 16): while no admin exists, each `savecorp serve` start issues a one-time
-- setup link whose token creates the first admin from the web app's setup page. Only the
-- token's hash is kept; a token works once, before it expires, and only while no admin exists.
CREATE TABLE setup_tokens (
    token_hash TEXT PRIMARY KEY,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    expires_at TIMESTAMPTZ NOT NULL,
    used_at TIMESTAMPTZ
);
COMMENT ON TABLE setup_tokens IS 'One-time setup links that create the first admin (the api''s own table: not for analysis)';
COMMENT ON COLUMN setup_tokens.token_hash IS 'SHA-256 (hex) of the link''s token; the token itself is never stored';
COMMENT ON COLUMN setup_tokens.created_at IS 'When the server issued the link (logged once at that start)';
COMMENT ON COLUMN setup_tokens.expires_at IS 'After this the link is refused (SETUP_TOKEN_EXPIRED)';
COMMENT ON COLUMN setup_tokens.used_at IS 'When the link created the first admin; NULL: not used';
