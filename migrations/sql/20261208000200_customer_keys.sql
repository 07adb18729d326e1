-- Crypto-shredding (issue 15 §6): the keys that seal personal fields in the event log, kept
-- outside it. One key per subject: a customer (their own events) or a call (its caller's
-- number and name). Erasing a customer deletes every row naming them, in the statement that
-- appends `CustomerErased`; what the log holds of them then reads as erased.
CREATE TABLE customer_keys (
    subject_id  TEXT PRIMARY KEY,
    customer_id UUID,
    key         BYTEA NOT NULL CHECK (octet_length(key) = 32),
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX customer_keys_customer ON customer_keys (customer_id);

COMMENT ON TABLE customer_keys IS
    'Keys sealing personal fields of events (XChaCha20-Poly1305), one per subject; deleted on erasure (crypto-shredding). Secret: not for analysts.';
COMMENT ON COLUMN customer_keys.subject_id IS
    'The aggregate id whose events the key seals: a customer id, or a call id (caller number and name).';
COMMENT ON COLUMN customer_keys.customer_id IS
    'The customer the subject belongs to (a call''s linked customer; NULL for a caller never linked). Erasing this customer deletes the row.';
COMMENT ON COLUMN customer_keys.key IS
    'The 32-byte XChaCha20-Poly1305 key. Never copied into events, logs or answers.';
COMMENT ON COLUMN customer_keys.created_at IS
    'When the key was made (first sealed event of the subject, or the one-time re-sealing of older events).';
