//! Upcasters: turn stored payloads of old event versions into the current shape, so the domain
//! only knows the current version. Registered on [`EventStore::with_upcasters`] by the api and
//! applied to every event the store loads and every event the projector reads
//! ([`EventStore::upcast`]).
//!
//! [`EventStore::with_upcasters`]: crate::EventStore::with_upcasters
//! [`EventStore::upcast`]: crate::EventStore::upcast

use cqrs_es::persist::{EventUpcaster, SerializedEvent};
use domain::backup_run::MAX_TEXT_CHARS;
use serde_json::Value;

use crate::event::StoredEvent;

/// Every upcaster, in the order they apply.
pub fn upcasters() -> Vec<Box<dyn EventUpcaster>> {
    vec![Box::new(BackupRunLogAppendedV1), Box::new(PersonalFieldsV1)]
}

/// `CustomerRegistered`, `CustomerUpdated`, `CustomerBackupPlanSet` and `CallQueued` v1 → v2.
///
/// Version 2 stores the personal fields sealed ([`crate::shred`]); opened on read, a version 2
/// payload has the version 1 shape, so a version 1 payload (fields in clear, stored before
/// sealing and not yet re-sealed by [`crate::shred::reseal_legacy`]) is read as it is.
pub struct PersonalFieldsV1;

impl EventUpcaster for PersonalFieldsV1 {
    fn can_upcast(&self, event_type: &str, event_version: &str) -> bool {
        event_version == "1"
            && crate::shred::sealed_event_types().any(|sealed| sealed == event_type)
    }

    fn upcast(&self, mut event: SerializedEvent) -> SerializedEvent {
        event.event_version = crate::shred::SEALED_VERSION.to_owned();
        event
    }
}

/// `BackupRunLogAppended` v1 `{ text, at }` → v2 `{ text, truncated, at }`.
///
/// v1 cut log texts at `MAX_TEXT_CHARS` characters without saying so; a v1 text of exactly
/// that length was cut (a client sending exactly 10 000 characters is the rare exception), so
/// `truncated` is true exactly then.
pub struct BackupRunLogAppendedV1;

impl EventUpcaster for BackupRunLogAppendedV1 {
    fn can_upcast(&self, event_type: &str, event_version: &str) -> bool {
        event_type == "BackupRunLogAppended" && event_version == "1"
    }

    fn upcast(&self, mut event: SerializedEvent) -> SerializedEvent {
        if let Some(Value::Object(fields)) = event.payload.get_mut("LogAppended") {
            let truncated = fields
                .get("text")
                .and_then(Value::as_str)
                .is_some_and(|text| text.chars().count() == MAX_TEXT_CHARS);
            fields.entry("truncated").or_insert(Value::Bool(truncated));
        }
        event.event_version = "2".to_owned();
        event
    }
}

/// Applies `upcasters`, in order, to one stored event.
pub(crate) fn upcast_with(
    upcasters: &[Box<dyn EventUpcaster>],
    mut event: StoredEvent,
) -> StoredEvent {
    for upcaster in upcasters {
        if upcaster.can_upcast(&event.event_type, &event.event_version) {
            let serialized = SerializedEvent::new(
                event.aggregate_id.clone(),
                usize::try_from(event.sequence).unwrap_or_default(),
                event.aggregate_type.clone(),
                event.event_type.clone(),
                event.event_version.clone(),
                event.payload.clone(),
                event.metadata.clone(),
            );
            let upcast = upcaster.upcast(serialized);
            event.event_type = upcast.event_type;
            event.event_version = upcast.event_version;
            event.payload = upcast.payload;
        }
    }
    event
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::backup_run::BackupRunEvent;
    use serde_json::json;

    fn stored_v1(text: &str) -> SerializedEvent {
        SerializedEvent::new(
            "run".to_owned(),
            1,
            "backup_run".to_owned(),
            "BackupRunLogAppended".to_owned(),
            "1".to_owned(),
            // The version-1 contract (the snapshot before v2 added `truncated`).
            json!({"LogAppended": {"at": "2025-06-15T15:07:11Z", "text": text}}),
            json!({}),
        )
    }

    #[test]
    fn a_version_one_log_event_upcasts_to_version_two_and_decodes() {
        let upcaster = BackupRunLogAppendedV1;
        assert!(upcaster.can_upcast("BackupRunLogAppended", "1"));
        assert!(!upcaster.can_upcast("BackupRunLogAppended", "2"));
        assert!(!upcaster.can_upcast("BackupRunStarted", "1"));
        let upcast = upcaster.upcast(stored_v1("processed 1204 files"));
        assert_eq!(upcast.event_version, "2");
        let event: BackupRunEvent = serde_json::from_value(upcast.payload).expect("decodes as v2");
        assert!(matches!(
            event,
            BackupRunEvent::LogAppended { ref text, truncated: false, .. } if text == "processed 1204 files"
        ));
    }

    #[test]
    fn a_version_one_log_text_of_the_maximum_length_is_marked_truncated() {
        let upcast = BackupRunLogAppendedV1.upcast(stored_v1(&"x".repeat(MAX_TEXT_CHARS)));
        assert_eq!(upcast.payload["LogAppended"]["truncated"], json!(true));
    }

    #[test]
    fn a_version_one_personal_event_upcasts_to_version_two_unchanged_and_decodes() {
        let payload = json!({"Registered": {
            "name": "Acme Bakery", "phones": ["+33612345678"], "email": null, "notes": "",
            "avatar_url": null, "at": "2025-03-01T09:00:00Z"
        }});
        let stored = SerializedEvent::new(
            "c".to_owned(),
            1,
            "customer".to_owned(),
            "CustomerRegistered".to_owned(),
            "1".to_owned(),
            payload.clone(),
            json!({}),
        );
        assert!(PersonalFieldsV1.can_upcast("CallQueued", "1"));
        assert!(!PersonalFieldsV1.can_upcast("CustomerRegistered", "2"));
        assert!(!PersonalFieldsV1.can_upcast("CustomerErased", "1"));
        let upcast = PersonalFieldsV1.upcast(stored);
        assert_eq!(upcast.event_version, "2");
        assert_eq!(upcast.payload, payload);
        let _: domain::customer::CustomerEvent =
            serde_json::from_value(upcast.payload).expect("decodes");
    }

    #[test]
    fn a_version_one_payload_does_not_decode_without_the_upcaster() {
        let raw = stored_v1("processed 1204 files").payload;
        assert!(serde_json::from_value::<BackupRunEvent>(raw).is_err());
    }
}
