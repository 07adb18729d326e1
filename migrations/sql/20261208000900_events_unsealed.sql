-- Events stored before crypto-shredding whose personal fields are still in clear. The server
-- seals them at every start (journal::shred::reseal_legacy); this partial index holds only
-- those rows, so that finding none costs nothing however long the log is (issue 20: a start
-- read the whole log to find none). New events of these types are stored sealed (version 2) and
-- never enter the index. The list of event types is journal::shred's sealed types (a test checks
-- that they agree).
CREATE INDEX events_unsealed ON events (position)
    WHERE event_version = '1'
      AND event_type IN ('CustomerRegistered', 'CustomerUpdated', 'CustomerBackupPlanSet', 'CallQueued');
COMMENT ON INDEX events_unsealed IS 'Events of the sealed types still stored in clear (version 1), sealed at start; empty once they are';
