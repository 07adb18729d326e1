-- A worker's avatar picture (issue 15 §3: an agent edits their own name and avatar), from the
-- WorkerAvatarChanged events. Existing rows start without one (no such event yet).
ALTER TABLE workers ADD COLUMN avatar_url TEXT;
COMMENT ON COLUMN workers.avatar_url IS 'The avatar picture the worker chose (https URL, http only for localhost, at most 2000 characters); NULL: none';
