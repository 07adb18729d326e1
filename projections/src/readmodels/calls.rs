//! Read model `calls`: every call that reached the system (`calls`) and each offer of it to an
//! agent (`call_offers`). Erasing a customer blanks the caller number and name of their calls.
//!
//! ```sql
//! -- today's missed calls
//! SELECT * FROM calls WHERE queued_at >= current_date AND outcome <> 'answered';
//! -- offers an agent missed
//! SELECT * FROM call_offers WHERE agent_id = $1 AND outcome IN ('no_answer','busy','rejected');
//! ```

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use domain::call::{AbandonedDuring, CallEvent, OfferOutcome, OfferRef};
use domain::customer::CustomerEvent;
use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::keyset::{self, Filter, ListSpec, PageQuery, Param, Rows, SortType};
use super::{
    decode, get_row, keyword, load_rows, micros, secs_between, unique, upsert_rows, ReadError,
};
use crate::projector::{Projection, ProjectionError};
use journal::StoredEvent;

/// A row of `calls`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CallRow {
    pub call_id: Uuid,
    pub caller_number: String,
    pub caller_name: Option<String>,
    pub customer_id: Option<Uuid>,
    pub channel_id: String,
    pub queue: String,
    /// `queued | offered | connected | ended | abandoned | rejected`.
    pub status: String,
    /// `answered | abandoned_queued | abandoned_ringing | rejected_<reason> | ended_unanswered`.
    pub outcome: Option<String>,
    pub ended_by: Option<String>,
    pub end_reason: Option<String>,
    pub agent_id: Option<Uuid>,
    pub attempts: i32,
    pub queued_at: DateTime<Utc>,
    pub connected_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    pub wait_secs: Option<i64>,
    pub talk_secs: Option<i64>,
    pub version: i64,
}

const COLUMNS: &[&str] = &[
    "call_id",
    "caller_number",
    "caller_name",
    "customer_id",
    "channel_id",
    "queue",
    "status",
    "outcome",
    "ended_by",
    "end_reason",
    "agent_id",
    "attempts",
    "queued_at",
    "connected_at",
    "ended_at",
    "wait_secs",
    "talk_secs",
    "version",
];

/// A row of `call_offers`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CallOfferRow {
    pub call_id: Uuid,
    pub attempt: i32,
    pub agent_id: Uuid,
    pub agent_channel_id: String,
    pub offered_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
    /// `answered | no_answer | busy | rejected | unreachable | withdrawn`; NULL while ringing.
    pub outcome: Option<String>,
}

const OFFER_COLUMNS: &[&str] = &[
    "call_id",
    "attempt",
    "agent_id",
    "agent_channel_id",
    "offered_at",
    "ended_at",
    "outcome",
];

/// The `calls` projection.
pub struct CallsProjection;

impl Projection for CallsProjection {
    fn name(&self) -> &'static str {
        "calls"
    }

    fn tables(&self) -> &'static [&'static str] {
        &["calls", "call_offers"]
    }

    fn aggregate_types(&self) -> &'static [&'static str] {
        &["call", "customer"]
    }

    fn apply_batch<'a>(
        &'a self,
        connection: &'a mut PgConnection,
        events: &'a [StoredEvent],
    ) -> BoxFuture<'a, Result<(), ProjectionError>> {
        Box::pin(apply(connection, events))
    }
}

async fn apply(
    connection: &mut PgConnection,
    events: &[StoredEvent],
) -> Result<(), ProjectionError> {
    let call_events = decode::<CallEvent>(events, "call")?;
    let ids = unique(call_events.iter().map(|(id, _, _)| *id));
    let mut rows: HashMap<Uuid, CallRow> =
        load_rows::<CallRow>(connection, "calls", "call_id", &ids, "")
            .await?
            .into_iter()
            .map(|row| (row.call_id, row))
            .collect();
    let mut offers: HashMap<(Uuid, i32), CallOfferRow> = load_rows::<CallOfferRow>(
        connection,
        "call_offers",
        "call_id",
        &ids,
        "AND ended_at IS NULL",
    )
    .await?
    .into_iter()
    .map(|row| ((row.call_id, row.attempt), row))
    .collect();
    for (id, sequence, event) in call_events {
        apply_event(&mut rows, &mut offers, id, event);
        if let Some(row) = rows.get_mut(&id) {
            row.version = sequence;
        }
    }
    let changed: Vec<CallRow> = ids.iter().filter_map(|id| rows.remove(id)).collect();
    upsert_rows(connection, "calls", &["call_id"], COLUMNS, &changed).await?;
    let mut offer_rows: Vec<CallOfferRow> = offers.into_values().collect();
    offer_rows.sort_by_key(|row| (row.call_id, row.attempt));
    upsert_rows(
        connection,
        "call_offers",
        &["call_id", "attempt"],
        OFFER_COLUMNS,
        &offer_rows,
    )
    .await?;

    let erased: Vec<Uuid> = decode::<CustomerEvent>(events, "customer")?
        .into_iter()
        .filter(|(_, _, event)| matches!(event, CustomerEvent::Erased { .. }))
        .map(|(id, _, _)| id)
        .collect();
    if !erased.is_empty() {
        sqlx::query(
            "UPDATE calls SET caller_number = '', caller_name = NULL WHERE customer_id = ANY($1)",
        )
        .bind(&erased)
        .execute(&mut *connection)
        .await?;
    }
    Ok(())
}

fn close_offer(
    offers: &mut HashMap<(Uuid, i32), CallOfferRow>,
    call_id: Uuid,
    attempt: u32,
    outcome: OfferOutcome,
    at: DateTime<Utc>,
) {
    let attempt = i32::try_from(attempt).unwrap_or(i32::MAX);
    if let Some(offer) = offers.get_mut(&(call_id, attempt)) {
        offer.ended_at = Some(micros(at));
        offer.outcome = Some(keyword(&outcome));
    }
}

fn withdraw(
    offers: &mut HashMap<(Uuid, i32), CallOfferRow>,
    call_id: Uuid,
    offer: Option<OfferRef>,
    at: DateTime<Utc>,
) {
    if let Some(offer) = offer {
        close_offer(offers, call_id, offer.attempt, OfferOutcome::Withdrawn, at);
    }
}

fn apply_event(
    rows: &mut HashMap<Uuid, CallRow>,
    offers: &mut HashMap<(Uuid, i32), CallOfferRow>,
    id: Uuid,
    event: CallEvent,
) {
    if let CallEvent::Queued {
        caller_number,
        caller_name,
        customer_id,
        channel_id,
        queue,
        at,
    } = event
    {
        rows.insert(
            id,
            CallRow {
                call_id: id,
                caller_number,
                caller_name,
                customer_id: customer_id.map(|id| id.as_uuid()),
                channel_id,
                queue,
                status: "queued".to_owned(),
                outcome: None,
                ended_by: None,
                end_reason: None,
                agent_id: None,
                attempts: 0,
                queued_at: micros(at),
                connected_at: None,
                ended_at: None,
                wait_secs: None,
                talk_secs: None,
                version: 0,
            },
        );
        return;
    }
    let Some(row) = rows.get_mut(&id) else {
        tracing::warn!(call_id = %id, "call event before it was queued; skipped");
        return;
    };
    match event {
        CallEvent::Queued { .. } => {}
        CallEvent::Offered {
            attempt,
            agent,
            agent_channel_id,
            at,
        } => {
            let attempt = i32::try_from(attempt).unwrap_or(i32::MAX);
            row.status = "offered".to_owned();
            row.attempts = row.attempts.max(attempt);
            offers.insert(
                (id, attempt),
                CallOfferRow {
                    call_id: id,
                    attempt,
                    agent_id: agent.as_uuid(),
                    agent_channel_id,
                    offered_at: micros(at),
                    ended_at: None,
                    outcome: None,
                },
            );
        }
        CallEvent::Connected {
            attempt, agent, at, ..
        } => {
            row.status = "connected".to_owned();
            row.agent_id = Some(agent.as_uuid());
            row.connected_at = Some(micros(at));
            row.wait_secs = Some(secs_between(row.queued_at, at));
            close_offer(offers, id, attempt, OfferOutcome::Answered, at);
        }
        CallEvent::OfferFailed {
            attempt,
            outcome,
            at,
            ..
        } => {
            row.status = "queued".to_owned();
            close_offer(offers, id, attempt, outcome.into(), at);
        }
        CallEvent::Abandoned {
            during,
            withdrawn_offer,
            at,
            ..
        } => {
            row.status = "abandoned".to_owned();
            row.outcome = Some(
                match during {
                    AbandonedDuring::Queued => "abandoned_queued",
                    AbandonedDuring::Ringing => "abandoned_ringing",
                }
                .to_owned(),
            );
            row.ended_at = Some(micros(at));
            row.wait_secs = Some(secs_between(row.queued_at, at));
            withdraw(offers, id, withdrawn_offer, at);
        }
        CallEvent::Rejected { reason, at, .. } => {
            row.status = "rejected".to_owned();
            row.outcome = Some(format!("rejected_{}", keyword(&reason)));
            row.ended_at = Some(micros(at));
            row.wait_secs = Some(secs_between(row.queued_at, at));
        }
        CallEvent::Ended {
            by,
            reason,
            agent,
            withdrawn_offer,
            connected_at,
            at,
            ..
        } => {
            row.status = "ended".to_owned();
            row.ended_by = Some(keyword(&by));
            row.end_reason = reason;
            row.ended_at = Some(micros(at));
            if let Some(agent) = agent {
                row.agent_id = Some(agent.as_uuid());
            }
            match connected_at {
                Some(connected_at) => {
                    row.outcome = Some("answered".to_owned());
                    row.talk_secs = Some(secs_between(connected_at, at));
                }
                None => {
                    row.outcome = Some("ended_unanswered".to_owned());
                    row.wait_secs = Some(secs_between(row.queued_at, at));
                }
            }
            withdraw(offers, id, withdrawn_offer, at);
        }
        CallEvent::CustomerLinked { customer_id, .. } => {
            row.customer_id = Some(customer_id.as_uuid());
        }
    }
}

/// The offers of a call, in attempt order.
pub async fn offers(pool: &PgPool, call_id: Uuid) -> Result<Vec<CallOfferRow>, ReadError> {
    let values: Vec<serde_json::Value> = sqlx::query_scalar(
        "SELECT to_jsonb(t) FROM call_offers t WHERE call_id = $1 ORDER BY attempt",
    )
    .bind(call_id)
    .fetch_all(pool)
    .await?;
    Ok(values
        .into_iter()
        .map(serde_json::from_value)
        .collect::<Result<_, _>>()?)
}

/// Filters of [`list`] (each only in the SQL when given). A customer, an agent, a caller
/// number or an outcome is an equality on the first column of `calls_customer`,
/// `calls_agent`, `calls_caller_number` or `calls_outcome`, each ordered by `queued_at` next,
/// so a page is an index range scan; without them, `calls_queued_at`.
#[derive(Clone, Debug, Default)]
pub struct CallFilter {
    pub customer_id: Option<Uuid>,
    pub agent_id: Option<Uuid>,
    /// A status keyword (`queued`, `offered`, …).
    pub status: Option<String>,
    /// An E.164 number.
    pub caller_number: Option<String>,
    /// Any of these outcome keywords.
    pub outcomes: Option<Vec<String>>,
    /// Inclusive.
    pub queued_from: Option<DateTime<Utc>>,
    /// Exclusive.
    pub queued_until: Option<DateTime<Utc>>,
}

/// The call `id` (`call(id)`); `None` when the read model has no such call.
pub async fn get(pool: &PgPool, id: Uuid) -> Result<Option<CallRow>, ReadError> {
    get_row(pool, "calls", "call_id", id).await
}

/// A page of calls ordered by `queued_at` (the only sort key): `calls` and the CSV export.
pub async fn list(
    pool: &PgPool,
    filter: &CallFilter,
    page: &PageQuery,
) -> Result<Rows<CallRow>, ReadError> {
    let mut conditions = Filter::new()
        .maybe("customer_id = ?::uuid", filter.customer_id, Param::Uuid)
        .maybe("agent_id = ?::uuid", filter.agent_id, Param::Uuid)
        .maybe("status = ?::text", filter.status.clone(), Param::Text)
        .maybe(
            "caller_number = ?::text",
            filter.caller_number.clone(),
            Param::Text,
        );
    conditions = match filter.outcomes.as_deref() {
        None => conditions,
        Some([outcome]) => conditions.with("outcome = ?::text", Param::Text(outcome.clone())),
        Some(outcomes) => conditions.with(
            "outcome = ANY(?::text[])",
            Param::TextList(outcomes.to_vec()),
        ),
    };
    let conditions = conditions
        .maybe(
            "queued_at >= ?::timestamptz",
            filter.queued_from,
            Param::Time,
        )
        .maybe(
            "queued_at < ?::timestamptz",
            filter.queued_until,
            Param::Time,
        );
    keyset::read(
        pool,
        ListSpec {
            table: "calls",
            id_column: "call_id",
            sort: "queued_at",
            sort_type: SortType::Time,
        },
        &conditions,
        page,
    )
    .await
}

/// Today's (UTC day) call figures for the wallboard.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct DayTotals {
    /// Calls queued.
    pub offered: i64,
    /// Calls connected.
    pub answered: i64,
    pub abandoned: i64,
    /// Mean queue wait of the answered calls.
    pub asa_secs: Option<f64>,
}

/// The figures of the calls queued since the start of today (UTC).
pub async fn today(pool: &PgPool) -> Result<DayTotals, ReadError> {
    let (offered, answered, abandoned, asa_secs): (i64, i64, i64, Option<f64>) = sqlx::query_as(
        "SELECT count(*), count(connected_at), count(*) FILTER (WHERE status = 'abandoned'), \
         (avg(wait_secs) FILTER (WHERE connected_at IS NOT NULL))::float8 \
         FROM calls WHERE queued_at >= date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'",
    )
    .fetch_one(pool)
    .await?;
    Ok(DayTotals {
        offered,
        answered,
        abandoned,
        asa_secs,
    })
}
