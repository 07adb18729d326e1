//! Linking earlier calls to a customer (PRODUCT §3, issue 14 §4), a process manager. A caller
//! who phones before being registered stays unlinked at arrival (the dispatcher's lookup finds
//! no customer); when a number is added to a customer (`CustomerRegistered`, or a
//! `CustomerUpdated` whose phones gain it), every call from that number that has no customer
//! is linked to it (Call `LinkCustomer`), so `calls(customerId:)` shows it.
//!
//! - One instance is active per database (its own session advisory lock, as the request
//!   deadline manager: `platform::leadership::lead`).
//! - It reads only the customer events that can add a number (the log below the readers'
//!   watermark, filtered in SQL) after its checkpoint (`checkpoints`, name `call_linker`),
//!   and moves the checkpoint after each event handled and to the readable head once caught
//!   up. A restart resumes from it; an event handled twice changes nothing: `LinkCustomer` of
//!   a call already linked to that customer emits nothing, and a call that has a customer by
//!   then is left as it is.
//! - The calls come from the `calls` read model, once it has applied the customer event's
//!   position (every call that came before is then in it); each is normalised as the
//!   dispatcher's lookup does (`PhoneNumber::parse` with the default country code) and
//!   compared with the new number.
//! - A customer erased by then, or no longer holding the number, gets nothing linked.
//!
//! What it cannot see: a call that arrives while the registration is being projected (the
//! dispatcher's lookup reads `customer_phones`, which may lag by the projector's poll) is
//! queued unlinked after the registration was handled here; it stays unlinked until the
//! number is added again.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use domain::call::{Call, CallCommand};
use domain::customer::{Customer, CustomerEvent};
use domain::ids::{CallId, CustomerId};
use domain::values::PhoneNumber;
use journal::{
    Actor, CommandError, EventStore, LogNotifier, LogPosition, LogReader, Metadata, StoredEvent,
    EVENT_COLUMNS,
};
use projections::projector::ProjectorHandle;
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::platform::clock::Clock;

/// Its checkpoint's name in `checkpoints`.
const CHECKPOINT: &str = "call_linker";

const READ_BATCH: i64 = 200;

/// What the call linker needs: the database, the log, the leadership retry, the clock and the
/// country code numbers are read with (built by the composition root).
#[derive(Clone)]
pub struct LinkContext {
    pub pool: PgPool,
    pub store: EventStore,
    pub reader: LogReader,
    /// How soon a follower tries to take leadership again.
    pub leader_retry: Duration,
    pub clock: Arc<dyn Clock>,
    /// Waits for the `calls` read model.
    pub projector: ProjectorHandle,
    /// `SAVECORP_DEFAULT_COUNTRY_CODE`.
    pub default_country_code: String,
}

/// How long it waits for the `calls` read model to reach a customer event.
const PROJECTION_WAIT: Duration = Duration::from_secs(10);

/// How often it looks at the log without a notification.
const POLL: Duration = Duration::from_secs(5);

/// Digits compared in SQL before the exact comparison (a cheap prefilter).
const SUFFIX_DIGITS: usize = 6;

/// Why a round stopped: the database, or the log / a command.
#[derive(Debug, thiserror::Error)]
enum LinkError {
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    #[error("{0}")]
    Other(String),
}

impl From<LinkError> for sqlx::Error {
    fn from(error: LinkError) -> Self {
        match error {
            LinkError::Database(error) => error,
            LinkError::Other(message) => sqlx::Error::Protocol(message),
        }
    }
}

/// Runs the linker until `shutdown`.
pub async fn run(state: LinkContext, notifier: LogNotifier, shutdown: CancellationToken) {
    let retry = state.leader_retry;
    crate::platform::leadership::lead(
        &state.pool,
        crate::platform::leadership::keys::CALL_LINKER,
        "call linker",
        retry,
        &shutdown,
        |mut lock| {
            let (state, notifier, shutdown) = (state.clone(), notifier.clone(), shutdown.clone());
            async move {
                follow(&state, &mut lock, notifier, &shutdown)
                    .await
                    .map_err(sqlx::Error::from)
            }
        },
    )
    .await;
}

/// Links while `lock`'s session lives (a lost session is a lost lock: the error makes `lead`
/// take leadership again).
async fn follow(
    state: &LinkContext,
    lock: &mut sqlx::PgConnection,
    mut notifier: LogNotifier,
    shutdown: &CancellationToken,
) -> Result<(), LinkError> {
    let mut checkpoint = projections::projector::checkpoint(&state.pool, CHECKPOINT).await?;
    let mut pace = journal::Pace::new(journal::PROCESS_MANAGER_GAP);
    loop {
        let head = state.reader.head().await?;
        loop {
            let events = customer_events(&state.pool, checkpoint, head).await?;
            for event in &events {
                // A stop ends the pass between two links (a customer's number may have many
                // calls to link, one command each); the rest is done after the restart.
                if shutdown.is_cancelled() || !handle(state, event, shutdown).await? {
                    return Ok(());
                }
                checkpoint = event.log_position;
                save_checkpoint(&state.pool, checkpoint).await?;
            }
            if (events.len() as i64) < READ_BATCH {
                break;
            }
        }
        if head > checkpoint {
            checkpoint = head;
            save_checkpoint(&state.pool, checkpoint).await?;
        }
        sqlx::Connection::ping(lock).await?;
        tokio::select! {
            _ = shutdown.cancelled() => return Ok(()),
            _ = notifier.wait_paced(POLL, &mut pace) => {}
        }
    }
}

async fn save_checkpoint(pool: &PgPool, checkpoint: LogPosition) -> Result<(), sqlx::Error> {
    let mut connection = pool.acquire().await?;
    projections::projector::save_checkpoint(&mut connection, CHECKPOINT, checkpoint).await
}

/// The customer events that can add a number, after `after` and up to `head` (which is below
/// the watermark: nothing can appear behind it later), in log order.
async fn customer_events(
    pool: &PgPool,
    after: LogPosition,
    head: LogPosition,
) -> Result<Vec<StoredEvent>, sqlx::Error> {
    let rows = sqlx::query(&format!(
        "SELECT {EVENT_COLUMNS} \
         FROM events \
         WHERE (tx_id, position) > ($1::text::xid8, $2) \
           AND (tx_id, position) <= ($3::text::xid8, $4) \
           AND aggregate_type = $5 \
           AND event_type IN ('CustomerRegistered', 'CustomerUpdated') \
         ORDER BY events.tx_id, events.position \
         LIMIT $6"
    ))
    .bind(after.tx_id.to_string())
    .bind(after.position)
    .bind(head.tx_id.to_string())
    .bind(head.position)
    .bind(<Customer as cqrs_es::Aggregate>::TYPE)
    .bind(READ_BATCH)
    .fetch_all(pool)
    .await?;
    rows.iter().map(StoredEvent::from_row).collect()
}

/// The numbers an event adds to its customer.
fn added_numbers(event: &CustomerEvent) -> Vec<PhoneNumber> {
    match event {
        CustomerEvent::Registered { phones, .. } => phones.clone(),
        CustomerEvent::Updated {
            phones: Some(change),
            ..
        } => change
            .to
            .iter()
            .filter(|number| !change.from.contains(number))
            .cloned()
            .collect(),
        _ => Vec::new(),
    }
}

/// Links the unlinked calls of the numbers `stored` adds to its customer. `false`: stopped by
/// `shutdown` before the end (the event must be handled again; what was linked stays linked).
async fn handle(
    state: &LinkContext,
    stored: &StoredEvent,
    shutdown: &CancellationToken,
) -> Result<bool, LinkError> {
    let event = state
        .store
        .upcast(stored.clone())
        .decode::<CustomerEvent>()
        .map_err(|error| LinkError::Other(format!("undecodable customer event: {error}")))?;
    let added = added_numbers(&event);
    if added.is_empty() {
        return Ok(true);
    }
    let Ok(customer_id) = stored.aggregate_id.parse::<CustomerId>() else {
        return Ok(true);
    };
    let (customer, _) = state
        .store
        .load_aggregate::<Customer>(&stored.aggregate_id)
        .await
        .map_err(|error| LinkError::Other(error.to_string()))?;
    let Some(details) = customer.details().filter(|_| !customer.is_erased()) else {
        return Ok(true);
    };
    let numbers: Vec<&PhoneNumber> = added
        .iter()
        .filter(|number| details.phones.contains(number))
        .collect();
    if numbers.is_empty() {
        return Ok(true);
    }
    // Every call that came before this event is in `calls` once it has applied the event.
    state
        .projector
        .wait_for(&["calls"], stored.log_position, PROJECTION_WAIT)
        .await
        .map_err(|error| LinkError::Other(format!("calls read model: {error:?}")))?;
    let calls = unlinked_calls(&state.pool, &numbers, &state.default_country_code).await?;
    let cause = stored
        .parsed_metadata()
        .unwrap_or_else(|| Metadata::new(Actor::System));
    let metadata = Metadata::caused_by(Actor::System, &cause, stored.event_id);
    for call_id in calls {
        if shutdown.is_cancelled() {
            return Ok(false);
        }
        link(state, call_id, customer_id, &metadata).await?;
    }
    Ok(true)
}

/// The calls without a customer whose caller number is one of `numbers` (as the dispatcher's
/// lookup normalises it).
async fn unlinked_calls(
    pool: &PgPool,
    numbers: &[&PhoneNumber],
    default_country_code: &str,
) -> Result<Vec<CallId>, sqlx::Error> {
    let suffixes: Vec<String> = numbers
        .iter()
        .map(|number| {
            let digits = number.as_str().trim_start_matches('+');
            digits[digits.len().saturating_sub(SUFFIX_DIGITS)..].to_owned()
        })
        .collect();
    let rows: Vec<(Uuid, String)> = sqlx::query_as(
        "SELECT call_id, caller_number FROM calls \
         WHERE customer_id IS NULL \
           AND right(regexp_replace(caller_number, '[^0-9]', '', 'g'), $2) = ANY($1)",
    )
    .bind(&suffixes)
    .bind(SUFFIX_DIGITS as i32)
    .fetch_all(pool)
    .await?;
    let wanted: HashMap<&str, ()> = numbers.iter().map(|number| (number.as_str(), ())).collect();
    Ok(rows
        .into_iter()
        .filter(|(_, caller)| {
            PhoneNumber::parse(caller, default_country_code)
                .is_ok_and(|number| wanted.contains_key(number.as_str()))
        })
        .map(|(call_id, _)| CallId(call_id))
        .collect())
}

/// Links one call, unless it has a customer by now (decided on the call's current version:
/// a concurrent change is looked at again).
async fn link(
    state: &LinkContext,
    call_id: CallId,
    customer_id: CustomerId,
    metadata: &Metadata,
) -> Result<(), LinkError> {
    const ATTEMPTS: usize = 5;
    let id = call_id.to_string();
    for _ in 0..ATTEMPTS {
        let (call, version) = state
            .store
            .load_aggregate::<Call>(&id)
            .await
            .map_err(|error| LinkError::Other(error.to_string()))?;
        if version == 0 || call.customer_id().is_some() {
            return Ok(());
        }
        let command = CallCommand::LinkCustomer {
            customer_id,
            at: state.clock.now(),
        };
        match state
            .store
            .execute::<Call>(&id, command, &(), metadata, Some(version))
            .await
        {
            Ok(_) => {
                tracing::info!(%call_id, %customer_id, "call linked to its customer");
                return Ok(());
            }
            Err(CommandError::Conflict { .. }) => continue,
            Err(error) => {
                return Err(LinkError::Other(format!("linking call {call_id}: {error}")));
            }
        }
    }
    Err(LinkError::Other(format!(
        "linking call {call_id}: it kept changing"
    )))
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use domain::values::{Change, PersonName};

    use super::*;

    fn number(text: &str) -> PhoneNumber {
        PhoneNumber::parse_e164(text).expect("number")
    }

    #[test]
    fn a_registration_adds_its_numbers_and_an_update_only_the_new_ones() {
        let registered = CustomerEvent::Registered {
            name: PersonName::parse("Ada").expect("name"),
            phones: vec![number("+33612345678")],
            email: None,
            notes: String::new(),
            avatar_url: None,
            at: Utc::now(),
        };
        assert_eq!(added_numbers(&registered), vec![number("+33612345678")]);
        let updated = CustomerEvent::Updated {
            name: None,
            phones: Some(Change {
                from: vec![number("+33612345678")],
                to: vec![number("+33612345678"), number("+33698765432")],
            }),
            email: None,
            notes: None,
            avatar_url: None,
            at: Utc::now(),
        };
        assert_eq!(added_numbers(&updated), vec![number("+33698765432")]);
        let erased = CustomerEvent::Erased { at: Utc::now() };
        assert!(added_numbers(&erased).is_empty());
    }
}
