//! Read model `kpis` (PRODUCT §8), built on the domain's KPI formulas
//! (`domain::policy::kpi`), so the API, analysts and tests share one definition.
//!
//! - `kpi_call_facts` holds the [`CallFacts`] of every call (the wrap-up comes from the
//!   agent's `WorkerCallEnded`: `wrap_up_until - at`), and `kpi_call_buckets` the
//!   [`KpiTotals`] of the calls queued in each 15-minute UTC slot, per queue and answering
//!   agent (nil UUID: not answered). When a call's facts change, its old totals are subtracted
//!   and the new ones added (rows that fall to zero are deleted), so the buckets always equal
//!   the sum of `KpiTotals::of_call` over the calls (service level threshold: the default 20 s).
//! - `kpi_request_facts` / `kpi_request_buckets`: [`RequestTotals`] per 15-minute slot.
//! - `agent_state_intervals`: each presence state of each worker, for occupancy.
//! - `kpi_slot_totals`: per 15-minute slot, the call and request totals summed over queues
//!   and agents, and the [`OccupancyTotals`] of every closed interval clipped to the slot
//!   (added when the interval closes), so an unfiltered range reads one row per slot.
//!
//! Every real time-zone offset is a multiple of 15 minutes, so a local hour, day or month is a
//! whole number of slots: [`kpis`] sums slots into buckets of any IANA zone (DST included) and
//! takes the calls of a range's unaligned edges from the facts tables, and the occupancy of the
//! edges and of the current (open) states from the intervals. Occupancy is cut to whole
//! milliseconds per interval and slot; with sub-millisecond instants a bucket's sum may differ
//! from cutting each interval once per bucket by under 1 ms per interval. In SQL:
//!
//! This file is the write side (the projection and its `apply`); `kpis/query.rs` is the query
//! side ([`kpis`], [`agent_request_totals`], [`overdue_now`]).
//!
//! ```sql
//! SELECT date_trunc('day', bucket_start AT TIME ZONE 'Europe/Paris') AS day,
//!        sum(offered) AS offered, sum(answered) AS answered,
//!        sum(answered_wait_ms)::float / nullif(sum(answered), 0) / 1000 AS asa_secs,
//!        100.0 * sum(answered_within_threshold)
//!              / nullif(sum(answered) + sum(abandoned_after_threshold), 0) AS service_level
//! FROM kpi_call_buckets GROUP BY 1 ORDER BY 1;
//! ```

use std::collections::HashMap;

use chrono::{DateTime, Datelike, DurationRound, NaiveDate, TimeDelta, TimeZone, Timelike, Utc};
use chrono_tz::Tz;
use domain::call::CallEvent;
use domain::policy::kpi::{
    AgentActivity, CallFacts, KpiTotals, OccupancyTotals, RequestFacts, RequestTotals,
    StateInterval, DEFAULT_SERVICE_LEVEL_THRESHOLD,
};
use domain::request::RequestEvent;
use domain::worker::{Presence, PresenceKind, WorkerEvent};
use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::{decode, load_rows, micros, unique, upsert_rows};

mod query;
use crate::projector::{Projection, ProjectionError};
use journal::StoredEvent;
pub use query::*;

/// The pre-aggregation grain.
pub const SLOT: TimeDelta = TimeDelta::minutes(15);

/// The slot holding `instant`.
pub fn slot_of(instant: DateTime<Utc>) -> DateTime<Utc> {
    instant.duration_trunc(SLOT).unwrap_or(instant)
}

fn slot_ceil(instant: DateTime<Utc>) -> DateTime<Utc> {
    let floor = slot_of(instant);
    if floor == instant {
        floor
    } else {
        floor + SLOT
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct CallFactsRow {
    call_id: Uuid,
    queue: Option<String>,
    agent_id: Option<Uuid>,
    queued_at: Option<DateTime<Utc>>,
    connected_at: Option<DateTime<Utc>>,
    ended_at: Option<DateTime<Utc>>,
    abandoned_at: Option<DateTime<Utc>>,
    wrap_up_secs: i64,
}

const CALL_FACT_COLUMNS: &[&str] = &[
    "call_id",
    "queue",
    "agent_id",
    "queued_at",
    "connected_at",
    "ended_at",
    "abandoned_at",
    "wrap_up_secs",
];

type CallKey = (DateTime<Utc>, String, Uuid);

impl CallFactsRow {
    fn empty(call_id: Uuid) -> Self {
        Self {
            call_id,
            queue: None,
            agent_id: None,
            queued_at: None,
            connected_at: None,
            ended_at: None,
            abandoned_at: None,
            wrap_up_secs: 0,
        }
    }

    fn facts(&self) -> Option<CallFacts> {
        Some(CallFacts {
            queued_at: self.queued_at?,
            connected_at: self.connected_at,
            ended_at: self.ended_at,
            abandoned_at: self.abandoned_at,
            wrap_up_secs: u64::try_from(self.wrap_up_secs).unwrap_or(0),
        })
    }

    fn contribution(&self) -> Option<(CallKey, KpiTotals)> {
        let facts = self.facts()?;
        let key = (
            slot_of(facts.queued_at),
            self.queue.clone().unwrap_or_default(),
            self.agent_id.unwrap_or(Uuid::nil()),
        );
        Some((
            key,
            KpiTotals::of_call(&facts, DEFAULT_SERVICE_LEVEL_THRESHOLD),
        ))
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct RequestFactsRow {
    request_id: Uuid,
    opened_at: Option<DateTime<Utc>>,
    due_at: Option<DateTime<Utc>>,
    solved_at: Option<DateTime<Utc>>,
}

impl RequestFactsRow {
    fn facts(&self) -> Option<RequestFacts> {
        Some(RequestFacts {
            opened_at: self.opened_at?,
            due_at: self.due_at,
            solved_at: self.solved_at,
            open_or_pending: false,
        })
    }

    fn contribution(&self) -> Vec<(DateTime<Utc>, RequestTotals)> {
        let Some(facts) = self.facts() else {
            return Vec::new();
        };
        let mut slots = vec![slot_of(facts.opened_at)];
        if let Some(solved_at) = facts.solved_at {
            if !slots.contains(&slot_of(solved_at)) {
                slots.push(slot_of(solved_at));
            }
        }
        slots
            .into_iter()
            .map(|slot| (slot, RequestTotals::in_range([&facts], slot, slot + SLOT)))
            .collect()
    }
}

/// A row of `agent_state_intervals`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IntervalRow {
    pub worker_id: Uuid,
    /// The sequence of the worker event that started it.
    pub sequence: i64,
    /// `offline | available | paused | offered | on_call | wrap_up`.
    pub activity: String,
    pub started_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
}

const INTERVAL_COLUMNS: &[&str] = &[
    "worker_id",
    "sequence",
    "activity",
    "started_at",
    "ended_at",
];

/// The activity a worker event puts the worker in (`None`: no presence change): the
/// domain's [`Presence::after`], stored as its keyword.
pub fn activity_after(event: &WorkerEvent) -> Option<(&'static str, DateTime<Utc>)> {
    Presence::after(event).map(|presence| (presence.kind().as_str(), event.at()))
}

/// The domain's name of an `activity` column value (an unknown one counts as offline).
pub fn activity_from(text: &str) -> AgentActivity {
    text.parse::<PresenceKind>()
        .map_or(AgentActivity::Offline, AgentActivity::from)
}

/// The `kpis` projection.
pub struct KpisProjection;

impl Projection for KpisProjection {
    fn name(&self) -> &'static str {
        "kpis"
    }

    fn tables(&self) -> &'static [&'static str] {
        &[
            "kpi_call_facts",
            "kpi_call_buckets",
            "kpi_request_facts",
            "kpi_request_buckets",
            "agent_state_intervals",
            "kpi_slot_totals",
        ]
    }

    fn aggregate_types(&self) -> &'static [&'static str] {
        &["call", "worker", "request"]
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
    let mut slots: HashMap<DateTime<Utc>, SlotDelta> = HashMap::new();
    apply_calls(connection, events, &mut slots).await?;
    apply_requests(connection, events, &mut slots).await?;
    apply_intervals(connection, events, &mut slots).await?;
    apply_slot_totals(connection, slots).await
}

/// Signed changes of one `kpi_slot_totals` row.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
struct SlotDelta {
    #[serde(flatten)]
    calls: CallDelta,
    requests_opened: i64,
    requests_solved: i64,
    requests_solved_within_due: i64,
    busy_ms: i64,
    logged_in_ms: i64,
}

#[derive(Serialize)]
struct SlotTotalsDelta {
    slot_start: DateTime<Utc>,
    #[serde(flatten)]
    delta: SlotDelta,
}

/// The occupancy of a closed interval in each slot it overlaps (slots where it counts 0 ms
/// are left out), with the domain's arithmetic per slot.
fn occupancy_pieces(interval: &StateInterval) -> Vec<(DateTime<Utc>, OccupancyTotals)> {
    let mut pieces = Vec::new();
    if interval.activity == AgentActivity::Offline {
        return pieces;
    }
    let mut slot = slot_of(interval.start);
    while slot < interval.end {
        let totals = OccupancyTotals::in_range([interval], slot, slot + SLOT);
        if totals != OccupancyTotals::default() {
            pieces.push((slot, totals));
        }
        slot += SLOT;
    }
    pieces
}

/// Adds the batch's changes to `kpi_slot_totals` (one upsert), deleting the rows that fall to
/// zero so the table's content does not depend on how the log was cut into batches.
async fn apply_slot_totals(
    connection: &mut PgConnection,
    slots: HashMap<DateTime<Utc>, SlotDelta>,
) -> Result<(), ProjectionError> {
    let mut changes: Vec<SlotTotalsDelta> = slots
        .into_iter()
        .filter(|(_, delta)| *delta != SlotDelta::default())
        .map(|(slot_start, delta)| SlotTotalsDelta { slot_start, delta })
        .collect();
    if changes.is_empty() {
        return Ok(());
    }
    changes.sort_by_key(|change| change.slot_start);
    let json = serde_json::to_value(&changes).map_err(ProjectionError::Row)?;
    sqlx::query(
        "INSERT INTO kpi_slot_totals AS t \
         SELECT * FROM jsonb_populate_recordset(NULL::kpi_slot_totals, $1) \
         ON CONFLICT (slot_start) DO UPDATE SET \
           offered = t.offered + EXCLUDED.offered, \
           answered = t.answered + EXCLUDED.answered, \
           abandoned = t.abandoned + EXCLUDED.abandoned, \
           abandoned_short = t.abandoned_short + EXCLUDED.abandoned_short, \
           answered_within_threshold = t.answered_within_threshold + EXCLUDED.answered_within_threshold, \
           abandoned_after_threshold = t.abandoned_after_threshold + EXCLUDED.abandoned_after_threshold, \
           answered_wait_ms = t.answered_wait_ms + EXCLUDED.answered_wait_ms, \
           handled = t.handled + EXCLUDED.handled, \
           handle_ms = t.handle_ms + EXCLUDED.handle_ms, \
           requests_opened = t.requests_opened + EXCLUDED.requests_opened, \
           requests_solved = t.requests_solved + EXCLUDED.requests_solved, \
           requests_solved_within_due = t.requests_solved_within_due + EXCLUDED.requests_solved_within_due, \
           busy_ms = t.busy_ms + EXCLUDED.busy_ms, \
           logged_in_ms = t.logged_in_ms + EXCLUDED.logged_in_ms",
    )
    .bind(&json)
    .execute(&mut *connection)
    .await?;
    // Only a subtraction can bring a row to zero.
    if !has_negative(&json) {
        return Ok(());
    }
    sqlx::query(
        "DELETE FROM kpi_slot_totals t \
         USING jsonb_populate_recordset(NULL::kpi_slot_totals, $1) k \
         WHERE t.slot_start = k.slot_start \
           AND t.offered = 0 AND t.answered = 0 AND t.abandoned = 0 AND t.abandoned_short = 0 \
           AND t.answered_within_threshold = 0 AND t.abandoned_after_threshold = 0 \
           AND t.answered_wait_ms = 0 AND t.handled = 0 AND t.handle_ms = 0 \
           AND t.requests_opened = 0 AND t.requests_solved = 0 \
           AND t.requests_solved_within_due = 0 AND t.busy_ms = 0 AND t.logged_in_ms = 0",
    )
    .bind(&json)
    .execute(&mut *connection)
    .await?;
    Ok(())
}

/// Whether any number in the rows of `json` is negative.
fn has_negative(json: &serde_json::Value) -> bool {
    json.as_array().is_some_and(|rows| {
        rows.iter().any(|row| {
            row.as_object().is_some_and(|fields| {
                fields
                    .values()
                    .any(|value| value.as_i64().is_some_and(|number| number < 0))
            })
        })
    })
}

/// Signed totals, for retract-and-add.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
struct CallDelta {
    offered: i64,
    answered: i64,
    abandoned: i64,
    abandoned_short: i64,
    answered_within_threshold: i64,
    abandoned_after_threshold: i64,
    answered_wait_ms: i64,
    handled: i64,
    handle_ms: i64,
}

impl CallDelta {
    fn add(&mut self, totals: &KpiTotals, sign: i64) {
        let value = |count: u64| {
            i64::try_from(count)
                .unwrap_or(i64::MAX)
                .saturating_mul(sign)
        };
        self.offered += value(totals.offered);
        self.answered += value(totals.answered);
        self.abandoned += value(totals.abandoned);
        self.abandoned_short += value(totals.abandoned_short);
        self.answered_within_threshold += value(totals.answered_within_threshold);
        self.abandoned_after_threshold += value(totals.abandoned_after_threshold);
        self.answered_wait_ms += value(totals.answered_wait_ms);
        self.handled += value(totals.handled);
        self.handle_ms += value(totals.handle_ms);
    }

    fn merge(&mut self, other: &CallDelta) {
        self.offered += other.offered;
        self.answered += other.answered;
        self.abandoned += other.abandoned;
        self.abandoned_short += other.abandoned_short;
        self.answered_within_threshold += other.answered_within_threshold;
        self.abandoned_after_threshold += other.abandoned_after_threshold;
        self.answered_wait_ms += other.answered_wait_ms;
        self.handled += other.handled;
        self.handle_ms += other.handle_ms;
    }
}

#[derive(Serialize)]
struct CallBucketDelta {
    bucket_start: DateTime<Utc>,
    queue: String,
    agent_id: Uuid,
    #[serde(flatten)]
    delta: CallDelta,
}

async fn apply_calls(
    connection: &mut PgConnection,
    events: &[StoredEvent],
    slots: &mut HashMap<DateTime<Utc>, SlotDelta>,
) -> Result<(), ProjectionError> {
    let call_events = decode::<CallEvent>(events, "call")?;
    let mut wrap_ups: Vec<(Uuid, i64)> = Vec::new();
    for (_, _, event) in decode::<WorkerEvent>(events, "worker")? {
        if let WorkerEvent::CallEnded {
            call_id,
            wrap_up_until,
            at,
        } = event
        {
            let secs = wrap_up_until.map_or(0, |until| (until - at).num_seconds().max(0));
            wrap_ups.push((call_id.as_uuid(), secs));
        }
    }
    if call_events.is_empty() && wrap_ups.is_empty() {
        return Ok(());
    }
    let ids = unique(
        call_events
            .iter()
            .map(|(id, _, _)| *id)
            .chain(wrap_ups.iter().map(|(id, _)| *id)),
    );
    let mut rows: HashMap<Uuid, CallFactsRow> =
        load_rows::<CallFactsRow>(connection, "kpi_call_facts", "call_id", &ids, "")
            .await?
            .into_iter()
            .map(|row| (row.call_id, row))
            .collect();
    let mut deltas: HashMap<CallKey, CallDelta> = HashMap::new();
    for row in rows.values() {
        if let Some((key, totals)) = row.contribution() {
            deltas.entry(key).or_default().add(&totals, -1);
        }
    }
    for (id, _, event) in call_events {
        let row = rows.entry(id).or_insert_with(|| CallFactsRow::empty(id));
        match event {
            CallEvent::Queued { queue, at, .. } => {
                row.queue = Some(queue);
                row.queued_at = Some(micros(at));
            }
            CallEvent::Connected { agent, at, .. } => {
                row.agent_id = Some(agent.as_uuid());
                row.connected_at = Some(micros(at));
            }
            CallEvent::Abandoned { at, .. } => row.abandoned_at = Some(micros(at)),
            CallEvent::Ended { at, .. } => row.ended_at = Some(micros(at)),
            _ => {}
        }
    }
    for (id, secs) in wrap_ups {
        rows.entry(id)
            .or_insert_with(|| CallFactsRow::empty(id))
            .wrap_up_secs = secs;
    }
    for row in rows.values() {
        if let Some((key, totals)) = row.contribution() {
            deltas.entry(key).or_default().add(&totals, 1);
        }
    }
    let facts: Vec<CallFactsRow> = ids.iter().filter_map(|id| rows.remove(id)).collect();
    upsert_rows(
        connection,
        "kpi_call_facts",
        &["call_id"],
        CALL_FACT_COLUMNS,
        &facts,
    )
    .await?;
    for ((slot, _, _), delta) in &deltas {
        slots.entry(*slot).or_default().calls.merge(delta);
    }
    let mut changes: Vec<CallBucketDelta> = deltas
        .into_iter()
        .filter(|(_, delta)| *delta != CallDelta::default())
        .map(|((bucket_start, queue, agent_id), delta)| CallBucketDelta {
            bucket_start,
            queue,
            agent_id,
            delta,
        })
        .collect();
    if changes.is_empty() {
        return Ok(());
    }
    changes.sort_by(|left, right| {
        (left.bucket_start, &left.queue, left.agent_id).cmp(&(
            right.bucket_start,
            &right.queue,
            right.agent_id,
        ))
    });
    let json = serde_json::to_value(&changes).map_err(ProjectionError::Row)?;
    sqlx::query(
        "INSERT INTO kpi_call_buckets AS b \
         SELECT * FROM jsonb_populate_recordset(NULL::kpi_call_buckets, $1) \
         ON CONFLICT (bucket_start, queue, agent_id) DO UPDATE SET \
           offered = b.offered + EXCLUDED.offered, \
           answered = b.answered + EXCLUDED.answered, \
           abandoned = b.abandoned + EXCLUDED.abandoned, \
           abandoned_short = b.abandoned_short + EXCLUDED.abandoned_short, \
           answered_within_threshold = b.answered_within_threshold + EXCLUDED.answered_within_threshold, \
           abandoned_after_threshold = b.abandoned_after_threshold + EXCLUDED.abandoned_after_threshold, \
           answered_wait_ms = b.answered_wait_ms + EXCLUDED.answered_wait_ms, \
           handled = b.handled + EXCLUDED.handled, \
           handle_ms = b.handle_ms + EXCLUDED.handle_ms",
    )
    .bind(&json)
    .execute(&mut *connection)
    .await?;
    // Only a subtraction can bring a row to zero.
    if !has_negative(&json) {
        return Ok(());
    }
    sqlx::query(
        "DELETE FROM kpi_call_buckets b \
         USING jsonb_populate_recordset(NULL::kpi_call_buckets, $1) k \
         WHERE b.bucket_start = k.bucket_start AND b.queue = k.queue AND b.agent_id = k.agent_id \
           AND b.offered = 0 AND b.answered = 0 AND b.abandoned = 0 AND b.abandoned_short = 0 \
           AND b.answered_within_threshold = 0 AND b.abandoned_after_threshold = 0 \
           AND b.answered_wait_ms = 0 AND b.handled = 0 AND b.handle_ms = 0",
    )
    .bind(&json)
    .execute(&mut *connection)
    .await?;
    Ok(())
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
struct RequestDelta {
    opened: i64,
    solved: i64,
    solved_within_due: i64,
}

#[derive(Serialize)]
struct RequestBucketDelta {
    bucket_start: DateTime<Utc>,
    #[serde(flatten)]
    delta: RequestDelta,
}

async fn apply_requests(
    connection: &mut PgConnection,
    events: &[StoredEvent],
    slots: &mut HashMap<DateTime<Utc>, SlotDelta>,
) -> Result<(), ProjectionError> {
    let request_events = decode::<RequestEvent>(events, "request")?;
    if request_events.is_empty() {
        return Ok(());
    }
    let ids = unique(request_events.iter().map(|(id, _, _)| *id));
    let mut rows: HashMap<Uuid, RequestFactsRow> =
        load_rows::<RequestFactsRow>(connection, "kpi_request_facts", "request_id", &ids, "")
            .await?
            .into_iter()
            .map(|row| (row.request_id, row))
            .collect();
    let mut deltas: HashMap<DateTime<Utc>, RequestDelta> = HashMap::new();
    let mut add = |row: &RequestFactsRow, sign: i64| {
        for (slot, totals) in row.contribution() {
            let delta = deltas.entry(slot).or_default();
            let value = |count: u64| i64::try_from(count).unwrap_or(i64::MAX) * sign;
            delta.opened += value(totals.opened);
            delta.solved += value(totals.solved);
            delta.solved_within_due += value(totals.solved_within_due);
        }
    };
    for row in rows.values() {
        add(row, -1);
    }
    for (id, _, event) in request_events {
        let row = rows.entry(id).or_insert_with(|| RequestFactsRow {
            request_id: id,
            opened_at: None,
            due_at: None,
            solved_at: None,
        });
        match event {
            RequestEvent::Opened { due_at, at, .. } => {
                row.opened_at = Some(micros(at));
                row.due_at = Some(micros(due_at));
            }
            RequestEvent::Updated {
                due_at: Some(due), ..
            } => row.due_at = Some(micros(due.to)),
            RequestEvent::Solved { at, .. } => row.solved_at = Some(micros(at)),
            RequestEvent::Reopened { .. } => row.solved_at = None,
            _ => {}
        }
    }
    for row in rows.values() {
        add(row, 1);
    }
    let facts: Vec<RequestFactsRow> = ids.iter().filter_map(|id| rows.remove(id)).collect();
    upsert_rows(
        connection,
        "kpi_request_facts",
        &["request_id"],
        &["request_id", "opened_at", "due_at", "solved_at"],
        &facts,
    )
    .await?;
    for (slot, delta) in &deltas {
        let totals = slots.entry(*slot).or_default();
        totals.requests_opened += delta.opened;
        totals.requests_solved += delta.solved;
        totals.requests_solved_within_due += delta.solved_within_due;
    }
    let mut changes: Vec<RequestBucketDelta> = deltas
        .into_iter()
        .filter(|(_, delta)| *delta != RequestDelta::default())
        .map(|(bucket_start, delta)| RequestBucketDelta {
            bucket_start,
            delta,
        })
        .collect();
    if changes.is_empty() {
        return Ok(());
    }
    changes.sort_by_key(|change| change.bucket_start);
    let json = serde_json::to_value(&changes).map_err(ProjectionError::Row)?;
    sqlx::query(
        "INSERT INTO kpi_request_buckets AS b \
         SELECT * FROM jsonb_populate_recordset(NULL::kpi_request_buckets, $1) \
         ON CONFLICT (bucket_start) DO UPDATE SET \
           opened = b.opened + EXCLUDED.opened, solved = b.solved + EXCLUDED.solved, \
           solved_within_due = b.solved_within_due + EXCLUDED.solved_within_due",
    )
    .bind(&json)
    .execute(&mut *connection)
    .await?;
    // Only a subtraction can bring a row to zero.
    if !has_negative(&json) {
        return Ok(());
    }
    sqlx::query(
        "DELETE FROM kpi_request_buckets b \
         USING jsonb_populate_recordset(NULL::kpi_request_buckets, $1) k \
         WHERE b.bucket_start = k.bucket_start \
           AND b.opened = 0 AND b.solved = 0 AND b.solved_within_due = 0",
    )
    .bind(&json)
    .execute(&mut *connection)
    .await?;
    Ok(())
}

async fn apply_intervals(
    connection: &mut PgConnection,
    events: &[StoredEvent],
    slots: &mut HashMap<DateTime<Utc>, SlotDelta>,
) -> Result<(), ProjectionError> {
    let worker_events = decode::<WorkerEvent>(events, "worker")?;
    let changes: Vec<(Uuid, i64, &'static str, DateTime<Utc>)> = worker_events
        .iter()
        .filter_map(|(id, sequence, event)| {
            activity_after(event).map(|(activity, at)| (*id, *sequence, activity, micros(at)))
        })
        .collect();
    if changes.is_empty() {
        return Ok(());
    }
    let ids = unique(changes.iter().map(|(id, ..)| *id));
    let mut open: HashMap<Uuid, IntervalRow> = load_rows::<IntervalRow>(
        connection,
        "agent_state_intervals",
        "worker_id",
        &ids,
        "AND ended_at IS NULL",
    )
    .await?
    .into_iter()
    .map(|row| (row.worker_id, row))
    .collect();
    let mut written: Vec<IntervalRow> = Vec::new();
    for (worker_id, sequence, activity, at) in changes {
        if let Some(mut current) = open.remove(&worker_id) {
            let ended_at = at.max(current.started_at);
            current.ended_at = Some(ended_at);
            let closed = StateInterval {
                activity: activity_from(&current.activity),
                start: current.started_at,
                end: ended_at,
            };
            for (slot, totals) in occupancy_pieces(&closed) {
                let delta = slots.entry(slot).or_default();
                delta.busy_ms += i64::try_from(totals.busy_ms).unwrap_or(i64::MAX);
                delta.logged_in_ms += i64::try_from(totals.logged_in_ms).unwrap_or(i64::MAX);
            }
            written.push(current);
        }
        open.insert(
            worker_id,
            IntervalRow {
                worker_id,
                sequence,
                activity: activity.to_owned(),
                started_at: at,
                ended_at: None,
            },
        );
    }
    written.extend(open.into_values());
    written.sort_by_key(|row| (row.worker_id, row.sequence));
    upsert_rows(
        connection,
        "agent_state_intervals",
        &["worker_id", "sequence"],
        INTERVAL_COLUMNS,
        &written,
    )
    .await
}
