//! Crypto-shredding of personal data in the log (issue 15 §6).
//!
//! The personal fields of a few event types (see [`SEALED`]) are stored encrypted ("sealed")
//! with a key per *subject* kept outside the log, in `customer_keys`: the subject of a Customer
//! event is the customer, the subject of a `CallQueued` is the call (its key row names the
//! customer the call belongs to, set when the call is queued for a known number or linked
//! later). Erasing a customer deletes every key row naming them, in the statement that appends
//! `CustomerErased`: what the log holds of them can no longer be read, anywhere, by anybody.
//!
//! The domain never sees any of this: it emits plaintext events (their version says the stored
//! form is sealed), [`seal`] encrypts the fields in [`EventStore::append`](crate::EventStore),
//! and [`open`] decrypts them in [`StoredEvent::from_row`](crate::StoredEvent::from_row), with
//! the key the same `SELECT` read ([`SUBJECT_KEY`], part of
//! [`EVENT_COLUMNS`](crate::EVENT_COLUMNS)). A field whose key is gone reads as its erased
//! replacement ([`ERASED`], an empty list, `null`), which every type of the domain accepts.
//!
//! Cipher: XChaCha20-Poly1305 (RustCrypto `chacha20poly1305`), a random 32-byte key per subject,
//! a random 24-byte nonce per field; the associated data binds the subject, the event type and
//! the field, so a sealed value cannot be moved to another customer, event or field.

use std::collections::{HashMap, HashSet};

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use serde_json::{json, Value};
use sqlx::{PgPool, Row};
use uuid::Uuid;

use crate::event::NewEvent;
use crate::store::StoreError;

/// What an erased text field reads as.
pub const ERASED: &str = "[erased]";

/// The stored version of every event type in [`SEALED`] whose personal fields are sealed.
/// Version 1 (before) stored them in clear; [`reseal_legacy`] turns those into version 2.
pub const SEALED_VERSION: &str = "2";

/// The key of the event's subject, for [`EVENT_COLUMNS`](crate::EVENT_COLUMNS): a lookup on
/// the key table's primary key in the same statement (no second round trip, no cache that could
/// outlive an erasure).
pub const SUBJECT_KEY: &str = crate::subject_key_sql!();

/// A sealed field: its path in the payload (below the variant's name) and what it reads as
/// once erased.
struct SealedField {
    path: &'static [&'static str],
    erased: fn() -> Value,
}

/// An event type with sealed fields.
struct SealedEvent {
    aggregate_type: &'static str,
    event_type: &'static str,
    /// The serde variant name, the payload's only key.
    variant: &'static str,
    fields: &'static [SealedField],
}

fn erased_text() -> Value {
    json!(ERASED)
}
fn erased_list() -> Value {
    json!([])
}
fn erased_null() -> Value {
    Value::Null
}
fn erased_empty() -> Value {
    json!("")
}
fn erased_text_change() -> Value {
    json!({"from": ERASED, "to": ERASED})
}
fn erased_list_change() -> Value {
    json!({"from": [], "to": []})
}
fn erased_null_change() -> Value {
    json!({"from": null, "to": null})
}

/// Every event type with personal fields, and those fields.
const SEALED: &[SealedEvent] = &[
    SealedEvent {
        aggregate_type: "customer",
        event_type: "CustomerRegistered",
        variant: "Registered",
        fields: &[
            SealedField {
                path: &["name"],
                erased: erased_text,
            },
            SealedField {
                path: &["phones"],
                erased: erased_list,
            },
            SealedField {
                path: &["email"],
                erased: erased_null,
            },
            SealedField {
                path: &["notes"],
                erased: erased_text,
            },
            SealedField {
                path: &["avatar_url"],
                erased: erased_null,
            },
        ],
    },
    SealedEvent {
        aggregate_type: "customer",
        event_type: "CustomerUpdated",
        variant: "Updated",
        fields: &[
            SealedField {
                path: &["name"],
                erased: erased_text_change,
            },
            SealedField {
                path: &["phones"],
                erased: erased_list_change,
            },
            SealedField {
                path: &["email"],
                erased: erased_null_change,
            },
            SealedField {
                path: &["notes"],
                erased: erased_text_change,
            },
            SealedField {
                path: &["avatar_url"],
                erased: erased_null_change,
            },
        ],
    },
    SealedEvent {
        aggregate_type: "customer",
        event_type: "CustomerBackupPlanSet",
        variant: "BackupPlanSet",
        fields: &[SealedField {
            path: &["plan", "report_recipients"],
            erased: erased_list,
        }],
    },
    SealedEvent {
        aggregate_type: "call",
        event_type: "CallQueued",
        variant: "Queued",
        fields: &[
            SealedField {
                path: &["caller_number"],
                erased: erased_empty,
            },
            SealedField {
                path: &["caller_name"],
                erased: erased_null,
            },
        ],
    },
];

/// The event types with sealed fields (for [`reseal_legacy`] and the upcaster).
pub fn sealed_event_types() -> impl Iterator<Item = &'static str> {
    SEALED.iter().map(|sealed| sealed.event_type)
}

fn spec(aggregate_type: &str, event_type: &str) -> Option<&'static SealedEvent> {
    SEALED
        .iter()
        .find(|sealed| sealed.aggregate_type == aggregate_type && sealed.event_type == event_type)
}

fn field_name(field: &SealedField) -> String {
    field.path.join(".")
}

fn associated_data(subject: &str, event_type: &str, field: &str) -> Vec<u8> {
    format!("savecorp-shred-v1\0{subject}\0{event_type}\0{field}").into_bytes()
}

/// The value at `path` below the variant, if present.
fn field_mut<'a>(payload: &'a mut Value, variant: &str, path: &[&str]) -> Option<&'a mut Value> {
    let mut value = payload.get_mut(variant)?;
    for key in path {
        value = value.get_mut(*key)?;
    }
    Some(value)
}

fn is_sealed(value: &Value) -> bool {
    value.as_object().is_some_and(|object| {
        object.len() == 1 && object.get("sealed").is_some_and(Value::is_string)
    })
}

/// A new random subject key.
pub(crate) fn new_key() -> Vec<u8> {
    XChaCha20Poly1305::generate_key(&mut OsRng).to_vec()
}

fn seal_value(key: &[u8], subject: &str, event_type: &str, field: &str, value: &Value) -> Value {
    let cipher = match XChaCha20Poly1305::new_from_slice(key) {
        Ok(cipher) => cipher,
        // A key of the wrong length is never made; sealing under a fresh one loses nothing.
        Err(_) => XChaCha20Poly1305::new(&XChaCha20Poly1305::generate_key(&mut OsRng)),
    };
    let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
    let plaintext = serde_json::to_vec(value).unwrap_or_default();
    let aad = associated_data(subject, event_type, field);
    let sealed = cipher
        .encrypt(
            &nonce,
            Payload {
                msg: &plaintext,
                aad: &aad,
            },
        )
        .unwrap_or_default();
    let mut bytes = nonce.to_vec();
    bytes.extend_from_slice(&sealed);
    json!({ "sealed": STANDARD.encode(bytes) })
}

fn open_value(
    key: &[u8],
    subject: &str,
    event_type: &str,
    field: &str,
    sealed: &Value,
) -> Option<Value> {
    let bytes = STANDARD.decode(sealed.get("sealed")?.as_str()?).ok()?;
    if bytes.len() < 24 {
        return None;
    }
    let (nonce, ciphertext) = bytes.split_at(24);
    let cipher = XChaCha20Poly1305::new_from_slice(key).ok()?;
    let aad = associated_data(subject, event_type, field);
    let plaintext = cipher
        .decrypt(
            XNonce::from_slice(nonce),
            Payload {
                msg: ciphertext,
                aad: &aad,
            },
        )
        .ok()?;
    serde_json::from_slice(&plaintext).ok()
}

/// Seals the personal fields of one payload in place with `key` (fields already sealed, and
/// absent or `null` ones, are left). Returns whether any field was sealed.
fn seal_payload(sealed: &SealedEvent, subject: &str, key: &[u8], payload: &mut Value) -> bool {
    let mut any = false;
    for field in sealed.fields {
        if let Some(value) = field_mut(payload, sealed.variant, field.path) {
            if value.is_null() || is_sealed(value) {
                continue;
            }
            *value = seal_value(key, subject, sealed.event_type, &field_name(field), value);
            any = true;
        }
    }
    any
}

/// Opens the sealed fields of a stored payload in place: with the subject's key when there is
/// one and it opens the field, else the field's erased replacement. Events of other types or
/// versions are left as they are (a version 1 payload holds its fields in clear).
pub fn open(
    aggregate_type: &str,
    aggregate_id: &str,
    event_type: &str,
    event_version: &str,
    payload: &mut Value,
    key: Option<&[u8]>,
) {
    if event_version != SEALED_VERSION {
        return;
    }
    let Some(sealed) = spec(aggregate_type, event_type) else {
        return;
    };
    for field in sealed.fields {
        let Some(value) = field_mut(payload, sealed.variant, field.path) else {
            continue;
        };
        if !is_sealed(value) {
            continue;
        }
        let opened = key
            .and_then(|key| open_value(key, aggregate_id, event_type, &field_name(field), value));
        *value = match opened {
            Some(opened) => opened,
            None => {
                if key.is_some() {
                    tracing::warn!(
                        aggregate_type,
                        aggregate_id,
                        event_type,
                        "a sealed field does not open with its subject's key; read as erased"
                    );
                }
                (field.erased)()
            }
        };
    }
}

/// Changes to `customer_keys` that an append makes in its statement.
#[derive(Clone, Debug, Default)]
pub(crate) struct KeyChanges {
    /// New keys: subject, the customer it belongs to (if known), key.
    pub(crate) new: Vec<(String, Option<Uuid>, Vec<u8>)>,
    /// Call subjects now linked to a customer.
    pub(crate) links: Vec<(String, Uuid)>,
    /// Customers erased: every key naming them goes.
    pub(crate) shred: Vec<Uuid>,
}

impl KeyChanges {
    pub(crate) fn extend(&mut self, other: &KeyChanges) {
        self.new.extend(other.new.iter().cloned());
        self.links.extend(other.links.iter().cloned());
        self.shred.extend(other.shred.iter().copied());
    }
}

fn uuid_at(payload: &Value, variant: &str, key: &str) -> Option<Uuid> {
    payload.get(variant)?.get(key)?.as_str()?.parse().ok()
}

/// The customer a new subject key belongs to.
fn key_owner(event: &NewEvent) -> Option<Uuid> {
    match event.aggregate_type.as_str() {
        "customer" => event.aggregate_id.parse().ok(),
        "call" => uuid_at(&event.payload, "Queued", "customer_id"),
        _ => None,
    }
}

/// Seals the personal fields of `events` (those of the current [`SEALED_VERSION`]) and says
/// what the append must change in `customer_keys`: keys for new subjects, call links, erasures.
/// An existing subject's key is read in one query, skipped when every sealed event creates its
/// aggregate (sequence 1: a new customer, a new call).
pub(crate) async fn seal(
    pool: &PgPool,
    events: &[NewEvent],
) -> Result<(Vec<NewEvent>, KeyChanges), StoreError> {
    let mut changes = KeyChanges::default();
    let mut events = events.to_vec();
    let to_seal: Vec<usize> = events
        .iter()
        .enumerate()
        .filter(|(_, event)| {
            event.event_version == SEALED_VERSION
                && spec(&event.aggregate_type, &event.event_type).is_some()
        })
        .map(|(index, _)| index)
        .collect();
    let mut keys: HashMap<String, Vec<u8>> = HashMap::new();
    let existing: HashSet<&str> = to_seal
        .iter()
        .map(|index| &events[*index])
        .filter(|event| event.sequence > 1)
        .map(|event| event.aggregate_id.as_str())
        .collect();
    if !existing.is_empty() {
        let subjects: Vec<&str> = existing.into_iter().collect();
        let rows = sqlx::query(
            "SELECT subject_id, key FROM customer_keys WHERE subject_id = ANY($1::text[])",
        )
        .bind(&subjects)
        .fetch_all(pool)
        .await?;
        for row in rows {
            keys.insert(row.try_get("subject_id")?, row.try_get("key")?);
        }
    }
    for index in to_seal {
        let event = &mut events[index];
        let Some(sealed) = spec(&event.aggregate_type, &event.event_type) else {
            continue;
        };
        let key = match keys.get(&event.aggregate_id) {
            Some(key) => key.clone(),
            None => {
                // A new subject (or one whose key is gone: an erased customer accepts no
                // command, so only a call of an erased customer's number would get here, and
                // a new key is right for it). A concurrent insert of the same subject fails on
                // the key table's primary key, a conflict: the command runs again.
                let key = new_key();
                changes
                    .new
                    .push((event.aggregate_id.clone(), key_owner(event), key.clone()));
                keys.insert(event.aggregate_id.clone(), key.clone());
                key
            }
        };
        seal_payload(sealed, &event.aggregate_id, &key, &mut event.payload);
    }
    for event in &events {
        match (event.aggregate_type.as_str(), event.event_type.as_str()) {
            ("call", "CallCustomerLinked") => {
                if let Some(customer) = uuid_at(&event.payload, "CustomerLinked", "customer_id") {
                    changes.links.push((event.aggregate_id.clone(), customer));
                }
            }
            ("customer", "CustomerErased") => {
                if let Ok(customer) = event.aggregate_id.parse() {
                    changes.shred.push(customer);
                }
            }
            _ => {}
        }
    }
    Ok((events, changes))
}

/// Rows re-sealed per transaction by [`reseal_legacy`].
const RESEAL_BATCH: i64 = 500;

/// The rows [`reseal_legacy`] looks for, written as the predicate of the partial index
/// `events_unsealed` (migration `20261208000900`) so that the planner uses it: finding none
/// reads an empty index, not the log. The types are [`sealed_event_types`] (a test checks).
const UNSEALED: &str = "event_version = '1' AND event_type IN ('CustomerRegistered', \
                        'CustomerUpdated', 'CustomerBackupPlanSet', 'CallQueued')";

/// The one-time migration of events stored before sealing (version 1, fields in clear): each is
/// rewritten as version 2 with its fields sealed under its subject's key (made if missing), in
/// short transactions of [`RESEAL_BATCH`] rows. A subject whose customer is already erased gets
/// a key that is never stored: its fields become unreadable at once, as erasure now promises.
/// Idempotent (only version 1 rows are touched, each `UPDATE` re-checks it) and crash-safe (a
/// batch commits whole; the next start goes on). Returns how many events were re-sealed.
///
/// This is the only write to existing rows of `events` (see ARCHITECTURE.md, "Crypto-shredding").
pub async fn reseal_legacy(pool: &PgPool) -> Result<u64, sqlx::Error> {
    let mut total = 0;
    let select = format!(
        "SELECT position, aggregate_type, aggregate_id, sequence, event_type, payload \
         FROM events WHERE {UNSEALED} \
         ORDER BY position LIMIT $1 FOR UPDATE SKIP LOCKED"
    );
    loop {
        let mut transaction = pool.begin().await?;
        let rows = sqlx::query(&select)
            .bind(RESEAL_BATCH)
            .fetch_all(&mut *transaction)
            .await?;
        if rows.is_empty() {
            transaction.commit().await?;
            return Ok(total);
        }
        let mut events = Vec::with_capacity(rows.len());
        for row in &rows {
            let position: i64 = row.try_get("position")?;
            events.push((
                position,
                NewEvent {
                    event_id: Uuid::nil(),
                    aggregate_type: row.try_get("aggregate_type")?,
                    aggregate_id: row.try_get("aggregate_id")?,
                    sequence: row.try_get("sequence")?,
                    event_type: row.try_get("event_type")?,
                    event_version: SEALED_VERSION.to_owned(),
                    payload: row.try_get("payload")?,
                },
            ));
        }
        // Who each subject belongs to: a customer is their own; a call belongs to the customer
        // it was queued for or last linked to.
        let subjects: Vec<String> = events
            .iter()
            .map(|(_, event)| event.aggregate_id.clone())
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        let mut owner: HashMap<String, Option<Uuid>> = events
            .iter()
            .map(|(_, event)| (event.aggregate_id.clone(), key_owner(event)))
            .collect();
        let links = sqlx::query(
            "SELECT aggregate_id, payload -> 'CustomerLinked' ->> 'customer_id' AS customer_id \
             FROM events WHERE aggregate_type = 'call' AND event_type = 'CallCustomerLinked' \
               AND aggregate_id = ANY($1::text[]) ORDER BY sequence",
        )
        .bind(&subjects)
        .fetch_all(&mut *transaction)
        .await?;
        for row in links {
            let call: String = row.try_get("aggregate_id")?;
            let customer: Option<String> = row.try_get("customer_id")?;
            if let Some(customer) = customer.and_then(|customer| customer.parse().ok()) {
                owner.insert(call, Some(customer));
            }
        }
        let owners: Vec<String> = owner
            .values()
            .flatten()
            .map(Uuid::to_string)
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        let erased: HashSet<String> = sqlx::query_scalar(
            "SELECT aggregate_id FROM events WHERE aggregate_type = 'customer' \
               AND event_type = 'CustomerErased' AND aggregate_id = ANY($1::text[])",
        )
        .bind(&owners)
        .fetch_all(&mut *transaction)
        .await?
        .into_iter()
        .collect();
        let mut keys: HashMap<String, Vec<u8>> = HashMap::new();
        for subject in &subjects {
            let customer = owner.get(subject).copied().flatten();
            if customer.is_some_and(|customer| erased.contains(&customer.to_string())) {
                // Already erased: sealed under a key nobody keeps.
                keys.insert(subject.clone(), new_key());
                continue;
            }
            sqlx::query(
                "INSERT INTO customer_keys (subject_id, customer_id, key) VALUES ($1, $2, $3) \
                 ON CONFLICT (subject_id) DO NOTHING",
            )
            .bind(subject)
            .bind(customer)
            .bind(new_key())
            .execute(&mut *transaction)
            .await?;
            let key: Vec<u8> =
                sqlx::query_scalar("SELECT key FROM customer_keys WHERE subject_id = $1")
                    .bind(subject)
                    .fetch_one(&mut *transaction)
                    .await?;
            keys.insert(subject.clone(), key);
        }
        for (position, mut event) in events {
            if let (Some(sealed), Some(key)) = (
                spec(&event.aggregate_type, &event.event_type),
                keys.get(&event.aggregate_id),
            ) {
                seal_payload(sealed, &event.aggregate_id, key, &mut event.payload);
            }
            sqlx::query(
                "UPDATE events SET payload = $2, event_version = $3 \
                 WHERE position = $1 AND event_version = '1'",
            )
            .bind(position)
            .bind(&event.payload)
            .bind(SEALED_VERSION)
            .execute(&mut *transaction)
            .await?;
            total += 1;
        }
        transaction.commit().await?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_unsealed_predicate_names_every_sealed_type_and_is_the_partial_index_s_own() {
        let listed: HashSet<&str> = UNSEALED
            .split('(')
            .nth(1)
            .and_then(|list| list.split(')').next())
            .expect("an IN list")
            .split(',')
            .map(|name| name.trim().trim_matches('\''))
            .collect();
        assert_eq!(listed, sealed_event_types().collect::<HashSet<_>>());
        let migration = include_str!("../../migrations/sql/20261208000900_events_unsealed.sql");
        let words = |text: &str| text.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(
            words(migration).contains(&words(UNSEALED)),
            "the index predicate differs from reseal_legacy's: the planner would not use it"
        );
    }

    fn registered() -> Value {
        json!({"Registered": {
            "name": "Zelda Quint", "phones": ["+33611223344"], "email": "zelda@example.org",
            "notes": "likes tea", "avatar_url": null, "at": "2025-03-01T09:00:00Z"
        }})
    }

    #[test]
    fn a_sealed_payload_holds_no_personal_value_and_opens_with_its_key() {
        let spec = spec("customer", "CustomerRegistered").expect("sealed type");
        let key = new_key();
        let mut payload = registered();
        assert!(seal_payload(spec, "c1", &key, &mut payload));
        let text = payload.to_string();
        for value in ["Zelda", "+33611223344", "zelda@", "likes tea"] {
            assert!(!text.contains(value), "{value} in {text}");
        }
        assert_eq!(payload["Registered"]["avatar_url"], Value::Null);
        open(
            "customer",
            "c1",
            "CustomerRegistered",
            "2",
            &mut payload,
            Some(&key),
        );
        assert_eq!(payload, registered());
    }

    #[test]
    fn without_its_key_a_sealed_payload_reads_as_erased() {
        let spec = spec("customer", "CustomerRegistered").expect("sealed type");
        let mut payload = registered();
        seal_payload(spec, "c1", &new_key(), &mut payload);
        open(
            "customer",
            "c1",
            "CustomerRegistered",
            "2",
            &mut payload,
            None,
        );
        assert_eq!(payload["Registered"]["name"], json!(ERASED));
        assert_eq!(payload["Registered"]["phones"], json!([]));
        assert_eq!(payload["Registered"]["email"], Value::Null);
        let event: domain::customer::CustomerEvent =
            serde_json::from_value(payload).expect("an erased payload decodes");
        assert!(matches!(
            event,
            domain::customer::CustomerEvent::Registered { .. }
        ));
    }

    #[test]
    fn a_sealed_field_is_bound_to_its_subject_event_and_field() {
        let spec = spec("customer", "CustomerRegistered").expect("sealed type");
        let key = new_key();
        let mut payload = registered();
        seal_payload(spec, "c1", &key, &mut payload);
        // The same key under another subject does not open it.
        let mut moved = payload.clone();
        open(
            "customer",
            "c2",
            "CustomerRegistered",
            "2",
            &mut moved,
            Some(&key),
        );
        assert_eq!(moved["Registered"]["name"], json!(ERASED));
        // Nor under another field.
        let mut swapped = payload.clone();
        let name = swapped["Registered"]["name"].clone();
        swapped["Registered"]["notes"] = name;
        open(
            "customer",
            "c1",
            "CustomerRegistered",
            "2",
            &mut swapped,
            Some(&key),
        );
        assert_eq!(swapped["Registered"]["notes"], json!(ERASED));
        assert_eq!(swapped["Registered"]["name"], json!("Zelda Quint"));
    }

    #[test]
    fn a_version_one_payload_is_read_as_it_is() {
        let mut payload = registered();
        open(
            "customer",
            "c1",
            "CustomerRegistered",
            "1",
            &mut payload,
            None,
        );
        assert_eq!(payload, registered());
    }

    #[test]
    fn an_erased_call_and_update_still_decode() {
        let mut queued = json!({"Queued": {
            "caller_number": "+33611223344", "caller_name": "Zelda", "customer_id": null,
            "channel_id": "ch", "queue": "support", "at": "2025-03-01T09:00:00Z"
        }});
        seal_payload(
            spec("call", "CallQueued").expect("sealed"),
            "k",
            &new_key(),
            &mut queued,
        );
        open("call", "k", "CallQueued", "2", &mut queued, None);
        let _: domain::call::CallEvent = serde_json::from_value(queued).expect("decodes");
        let mut updated = json!({"Updated": {
            "name": {"from": "Zelda Quint", "to": "Zelda Q"}, "phones": null,
            "email": {"from": null, "to": "z@example.org"}, "notes": null,
            "avatar_url": null, "at": "2025-03-01T09:00:00Z"
        }});
        seal_payload(
            spec("customer", "CustomerUpdated").expect("sealed"),
            "c",
            &new_key(),
            &mut updated,
        );
        open("customer", "c", "CustomerUpdated", "2", &mut updated, None);
        assert_eq!(updated["Updated"]["phones"], Value::Null);
        let _: domain::customer::CustomerEvent = serde_json::from_value(updated).expect("decodes");
    }
}
