//! Appending to the log: every event of one append in ONE statement that also issues the
//! `NOTIFY` readers wake on. The primary key `(aggregate_type, aggregate_id, sequence)` makes a
//! concurrent append to the same aggregate fail with [`StoreError::Conflict`] instead of
//! interleaving.

use std::collections::HashMap;

use sqlx::{PgPool, Row};
use tokio::sync::oneshot;
use uuid::Uuid;

use crate::event::{Appended, LogPosition, NewEvent, EVENTS_CHANNEL};
use crate::metadata::Metadata;
use crate::shred::{self, KeyChanges};
use crate::store::{EventStore, StoreError};

pub(crate) struct AppendRequest {
    pub(crate) events: Vec<NewEvent>,
    pub(crate) metadata: String,
    /// What the append changes in `customer_keys`, in the same statement.
    pub(crate) keys: KeyChanges,
}

pub(crate) type AppendReply = oneshot::Sender<Result<Vec<Appended>, StoreError>>;

impl EventStore {
    /// Appends `events` (all with the same `metadata`) atomically, in one statement that also
    /// notifies [`EVENTS_CHANNEL`]. Fails with [`StoreError::Conflict`] if any
    /// `(aggregate, sequence)` is taken.
    ///
    /// Group commit: appends that arrive while others are being written are gathered into one
    /// statement (one commit, one fsync) by a few writer tasks. Each caller's events stay atomic;
    /// if a gathered batch fails, its appends are retried one by one so that only the one that
    /// conflicts gets the conflict.
    ///
    /// Personal fields are sealed here ([`shred::seal`]); a new subject's key is inserted, a
    /// call's key linked to its customer and an erased customer's keys deleted in the same
    /// statement as the events.
    pub async fn append(
        &self,
        events: &[NewEvent],
        metadata: &Metadata,
    ) -> Result<Vec<Appended>, StoreError> {
        if events.is_empty() {
            return Ok(Vec::new());
        }
        let metadata = serde_json::to_string(metadata).map_err(StoreError::Encode)?;
        let (events, keys) = shred::seal(&self.pool, events).await?;
        let request = AppendRequest {
            events,
            metadata,
            keys,
        };
        match &self.group_commit {
            Some(sender) => {
                let (reply, answer) = oneshot::channel();
                if sender.send((request, reply)).is_err() {
                    return Err(StoreError::Database(sqlx::Error::PoolClosed));
                }
                answer
                    .await
                    .unwrap_or(Err(StoreError::Database(sqlx::Error::PoolClosed)))
            }
            None => insert_batch(&self.pool, std::slice::from_ref(&request))
                .await
                .map(|mut results| results.pop().unwrap_or_default()),
        }
    }
}

/// Inserts the events of several appends in one statement (one transaction), returning each
/// append's results in order.
pub(crate) async fn insert_batch(
    pool: &PgPool,
    requests: &[AppendRequest],
) -> Result<Vec<Vec<Appended>>, StoreError> {
    let total: usize = requests.iter().map(|request| request.events.len()).sum();
    let mut event_ids = Vec::with_capacity(total);
    let mut aggregate_types = Vec::with_capacity(total);
    let mut aggregate_ids = Vec::with_capacity(total);
    let mut sequences = Vec::with_capacity(total);
    let mut event_types = Vec::with_capacity(total);
    let mut event_versions = Vec::with_capacity(total);
    let mut payloads = Vec::with_capacity(total);
    let mut metadata = Vec::with_capacity(total);
    let mut keys = KeyChanges::default();
    for request in requests {
        keys.extend(&request.keys);
        for event in &request.events {
            event_ids.push(event.event_id);
            aggregate_types.push(event.aggregate_type.as_str());
            aggregate_ids.push(event.aggregate_id.as_str());
            sequences.push(event.sequence);
            event_types.push(event.event_type.as_str());
            event_versions.push(event.event_version.as_str());
            payloads.push(serde_json::to_string(&event.payload).map_err(StoreError::Encode)?);
            metadata.push(request.metadata.as_str());
        }
    }
    let (key_subjects, key_customers, key_bytes): (Vec<_>, Vec<_>, Vec<_>) =
        keys.new.into_iter().fold(
            (vec![], vec![], vec![]),
            |(mut s, mut c, mut k), (subject, customer, key)| {
                s.push(subject);
                c.push(customer);
                k.push(key);
                (s, c, k)
            },
        );
    let (link_subjects, link_customers): (Vec<String>, Vec<Uuid>) = keys.links.into_iter().unzip();
    let rows = sqlx::query(
        "WITH new_keys AS ( \
            INSERT INTO customer_keys (subject_id, customer_id, key) \
            SELECT * FROM UNNEST($10::text[], $11::uuid[], $12::bytea[]) \
         ), linked AS ( \
            UPDATE customer_keys SET customer_id = l.customer_id \
            FROM UNNEST($13::text[], $14::uuid[]) AS l(subject_id, customer_id) \
            WHERE customer_keys.subject_id = l.subject_id \
         ), shredded AS ( \
            DELETE FROM customer_keys WHERE customer_id = ANY($15::uuid[]) \
         ), inserted AS ( \
            INSERT INTO events (event_id, aggregate_type, aggregate_id, sequence, event_type, \
                                event_version, payload, metadata) \
            SELECT e.event_id, e.aggregate_type, e.aggregate_id, e.sequence, e.event_type, \
                   e.event_version, e.payload::jsonb, e.metadata::jsonb \
            FROM UNNEST($1::uuid[], $2::text[], $3::text[], $4::bigint[], $5::text[], \
                        $6::text[], $7::text[], $8::text[]) WITH ORDINALITY \
                 AS e(event_id, aggregate_type, aggregate_id, sequence, event_type, \
                      event_version, payload, metadata, ord) \
            ORDER BY e.ord \
            RETURNING event_id, position, tx_id::text::bigint AS tx_id, recorded_at \
         ) \
         SELECT inserted.* FROM inserted, (SELECT pg_notify($9, '')) AS notified \
         ORDER BY position",
    )
    .bind(&event_ids)
    .bind(&aggregate_types)
    .bind(&aggregate_ids)
    .bind(&sequences)
    .bind(&event_types)
    .bind(&event_versions)
    .bind(&payloads)
    .bind(&metadata)
    .bind(EVENTS_CHANNEL)
    .bind(&key_subjects)
    .bind(&key_customers)
    .bind(&key_bytes)
    .bind(&link_subjects)
    .bind(&link_customers)
    .bind(&keys.shred)
    .fetch_all(pool)
    .await
    .map_err(StoreError::from_append)?;
    let mut by_id = HashMap::with_capacity(rows.len());
    for row in &rows {
        let event_id: Uuid = row.try_get("event_id")?;
        by_id.insert(
            event_id,
            Appended {
                event_id,
                log_position: LogPosition {
                    tx_id: row.try_get("tx_id")?,
                    position: row.try_get("position")?,
                },
                recorded_at: row.try_get("recorded_at")?,
            },
        );
    }
    requests
        .iter()
        .map(|request| {
            request
                .events
                .iter()
                .map(|event| {
                    by_id.remove(&event.event_id).ok_or_else(|| {
                        StoreError::Database(sqlx::Error::Protocol(
                            "an appended event was not returned".into(),
                        ))
                    })
                })
                .collect()
        })
        .collect()
}
