-- Open GraphQL WebSocket connections authenticate once, at `connection_init`. Every server
-- listens on `savecorp_credentials` and re-checks the connections of the worker named in a
-- notification: a logout, a password change, a deactivation or a role change closes them at
-- once, whichever server (or the admin CLI) made the change. The payload is the worker id only.

CREATE FUNCTION notify_credentials_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM pg_notify('savecorp_credentials', OLD.worker_id::text);
    ELSE
        PERFORM pg_notify('savecorp_credentials', NEW.worker_id::text);
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER credentials_changed
    AFTER UPDATE ON credentials
    FOR EACH ROW
    WHEN (OLD.role IS DISTINCT FROM NEW.role
          OR OLD.active IS DISTINCT FROM NEW.active
          OR OLD.session_epoch IS DISTINCT FROM NEW.session_epoch)
    EXECUTE FUNCTION notify_credentials_changed();

CREATE TRIGGER credentials_deleted
    AFTER DELETE ON credentials
    FOR EACH ROW
    EXECUTE FUNCTION notify_credentials_changed();

CREATE TRIGGER session_revoked
    AFTER UPDATE ON sessions
    FOR EACH ROW
    WHEN (OLD.revoked_at IS NULL AND NEW.revoked_at IS NOT NULL)
    EXECUTE FUNCTION notify_credentials_changed();
