-- A customer's phone numbers keep their order (issue 18 §1: `customer(id)` is read from the
-- read model, and the first number is the main one). The customers read model is emptied with
-- its checkpoint and its idempotence guard, so the projector fills it again from the log at
-- start, with every number's position.
ALTER TABLE customer_phones ADD COLUMN position INTEGER NOT NULL DEFAULT 0;
COMMENT ON COLUMN customer_phones.position IS 'Place of the number in the customer''s list, from 0 (0: the main number)';
TRUNCATE customers, customer_phones, customer_requests;
DELETE FROM projection_versions WHERE projection = 'customers';
DELETE FROM checkpoints WHERE name = 'customers';
