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
use domain::worker::WorkerEvent;
use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::{decode, load_rows, micros, unique, upsert_rows};
use crate::projector::{Projection, ProjectionError};
use journal::StoredEvent;

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

/// The activity a worker event puts the worker in (`None`: no presence change).
pub fn activity_after(event: &WorkerEvent) -> Option<(&'static str, DateTime<Utc>)> {
    Some(match event {
        WorkerEvent::Registered { at, .. }
        | WorkerEvent::Deactivated { at }
        | WorkerEvent::WentOffline { at, .. }
        | WorkerEvent::LoggedOut { at } => ("offline", *at),
        WorkerEvent::WentAvailable { at, .. }
        | WorkerEvent::OfferWithdrawn { at, .. }
        | WorkerEvent::WrapUpFinished { at }
        | WorkerEvent::CallEnded {
            wrap_up_until: None,
            at,
            ..
        } => ("available", *at),
        WorkerEvent::Paused { at, .. } | WorkerEvent::OfferMissed { at, .. } => ("paused", *at),
        WorkerEvent::Offered { at, .. } => ("offered", *at),
        WorkerEvent::OfferAnswered { at, .. } => ("on_call", *at),
        WorkerEvent::CallEnded {
            wrap_up_until: Some(_),
            at,
            ..
        } => ("wrap_up", *at),
        WorkerEvent::ProfileUpdated { .. } | WorkerEvent::RoleChanged { .. } => return None,
    })
}

/// The domain's name of an `activity` column value.
pub fn activity_from(text: &str) -> AgentActivity {
    match text {
        "available" => AgentActivity::Available,
        "offered" => AgentActivity::Offered,
        "on_call" => AgentActivity::OnCall,
        "wrap_up" => AgentActivity::WrapUp,
        "paused" => AgentActivity::Paused,
        _ => AgentActivity::Offline,
    }
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

// ---- reading ----

/// The size of a KPI bucket, read in a time zone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BucketSize {
    Hour,
    Day,
    Month,
}

/// What [`kpis`] counts.
#[derive(Clone, Debug, Default)]
pub struct KpiFilters {
    /// Only calls of this queue (requests and occupancy have no queue).
    pub queue: Option<String>,
    /// Only calls answered by this agent, and this agent's occupancy (the request totals stay
    /// global: [`agent_request_totals`] gives the agent's).
    pub agent: Option<Uuid>,
}

/// The KPIs of one bucket `[start, end)` (the first and last are clipped to the range).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KpiBucket {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// Calls queued in the bucket (threshold of the service level: 20 s).
    pub calls: KpiTotals,
    pub requests: RequestTotals,
    /// Summed over the agents (one agent with [`KpiFilters::agent`]).
    pub occupancy: OccupancyTotals,
}

/// Why [`kpis`] failed.
#[derive(Debug, thiserror::Error)]
pub enum KpiError {
    #[error("the range holds more than {0} buckets")]
    TooManyBuckets(usize),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
}

/// The most buckets one [`kpis`] call returns.
pub const MAX_BUCKETS: usize = 20_000;

/// The start of the `size` bucket of `zone` holding `instant`.
pub fn bucket_floor(instant: DateTime<Utc>, size: BucketSize, zone: Tz) -> DateTime<Utc> {
    let local = instant.with_timezone(&zone);
    match size {
        BucketSize::Hour => {
            let into_hour = i64::from(local.minute()) * 60 + i64::from(local.second());
            let whole = instant
                .duration_trunc(TimeDelta::seconds(1))
                .unwrap_or(instant);
            whole - TimeDelta::seconds(into_hour)
        }
        BucketSize::Day => local_midnight(zone, local.date_naive()),
        BucketSize::Month => local_midnight(
            zone,
            local.date_naive().with_day(1).unwrap_or(local.date_naive()),
        ),
    }
}

/// The start of the bucket after the one starting at `start`.
pub fn next_bucket(start: DateTime<Utc>, size: BucketSize, zone: Tz) -> DateTime<Utc> {
    let local = start.with_timezone(&zone).date_naive();
    match size {
        BucketSize::Hour => bucket_floor(start + TimeDelta::hours(1), size, zone).max(start + SLOT),
        BucketSize::Day => local_midnight(zone, local.succ_opt().unwrap_or(local)),
        BucketSize::Month => {
            let (year, month) = if local.month() == 12 {
                (local.year() + 1, 1)
            } else {
                (local.year(), local.month() + 1)
            };
            local_midnight(
                zone,
                NaiveDate::from_ymd_opt(year, month, 1).unwrap_or(local),
            )
        }
    }
}

/// The first instant of `date` in `zone` (midnight, or the end of a DST gap at midnight).
fn local_midnight(zone: Tz, date: NaiveDate) -> DateTime<Utc> {
    let midnight = date.and_time(chrono::NaiveTime::MIN);
    let mut wall = midnight;
    for _ in 0..(4 * 24) {
        if let Some(instant) = zone.from_local_datetime(&wall).earliest() {
            return instant.with_timezone(&Utc);
        }
        wall += SLOT;
    }
    Utc.from_utc_datetime(&midnight)
}

/// A bucket's summed `kpi_slot_totals` columns (in table order); first the 1-based bucket
/// number.
type SummedBucket = (
    i32,
    i64,
    i64,
    i64,
    i64,
    i64,
    i64,
    i64,
    i64,
    i64,
    i64,
    i64,
    i64,
    i64,
    i64,
);

/// The sums of [`SummedBucket`], per bucket (`width_bucket` over the sorted bucket starts in
/// `$3` gives the 1-based bucket holding a slot).
const SUM_SLOT_TOTALS: &str = "SELECT width_bucket(slot_start, $3::timestamptz[]) AS i, \
        sum(offered)::bigint, sum(answered)::bigint, sum(abandoned)::bigint, \
        sum(abandoned_short)::bigint, sum(answered_within_threshold)::bigint, \
        sum(abandoned_after_threshold)::bigint, sum(answered_wait_ms)::bigint, \
        sum(handled)::bigint, sum(handle_ms)::bigint, sum(requests_opened)::bigint, \
        sum(requests_solved)::bigint, sum(requests_solved_within_due)::bigint, \
        sum(busy_ms)::bigint, sum(logged_in_ms)::bigint \
    FROM kpi_slot_totals WHERE slot_start >= $1 AND slot_start < $2 GROUP BY 1";

/// Like [`SUM_SLOT_TOTALS`], with the call columns from `kpi_call_buckets` filtered by queue
/// (`$4`) and answering agent (`$5`).
const SUM_FILTERED: &str = "WITH c AS ( \
         SELECT width_bucket(bucket_start, $3::timestamptz[]) AS i, \
                sum(offered)::bigint AS offered, sum(answered)::bigint AS answered, \
                sum(abandoned)::bigint AS abandoned, \
                sum(abandoned_short)::bigint AS abandoned_short, \
                sum(answered_within_threshold)::bigint AS within, \
                sum(abandoned_after_threshold)::bigint AS after_threshold, \
                sum(answered_wait_ms)::bigint AS wait_ms, sum(handled)::bigint AS handled, \
                sum(handle_ms)::bigint AS handle_ms \
         FROM kpi_call_buckets \
         WHERE bucket_start >= $1 AND bucket_start < $2 \
           AND ($4::text IS NULL OR queue = $4) AND ($5::uuid IS NULL OR agent_id = $5) \
         GROUP BY 1), \
     s AS ( \
         SELECT width_bucket(slot_start, $3::timestamptz[]) AS i, \
                sum(requests_opened)::bigint AS opened, sum(requests_solved)::bigint AS solved, \
                sum(requests_solved_within_due)::bigint AS solved_within_due, \
                sum(busy_ms)::bigint AS busy_ms, sum(logged_in_ms)::bigint AS logged_in_ms \
         FROM kpi_slot_totals WHERE slot_start >= $1 AND slot_start < $2 \
         GROUP BY 1) \
     SELECT i, coalesce(offered, 0), coalesce(answered, 0), coalesce(abandoned, 0), \
            coalesce(abandoned_short, 0), coalesce(within, 0), \
            coalesce(after_threshold, 0), coalesce(wait_ms, 0), coalesce(handled, 0), \
            coalesce(handle_ms, 0), coalesce(opened, 0), coalesce(solved, 0), \
            coalesce(solved_within_due, 0), coalesce(busy_ms, 0), coalesce(logged_in_ms, 0) \
     FROM c FULL JOIN s USING (i)";

fn to_u64(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

/// KPIs of `[from, until)` in `bucket`s of `zone` (PRODUCT §8). Exact for any range: whole
/// 15-minute slots come from the buckets, the unaligned edges from the facts tables.
pub async fn kpis(
    pool: &PgPool,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
    bucket: BucketSize,
    zone: Tz,
    filters: &KpiFilters,
) -> Result<Vec<KpiBucket>, KpiError> {
    let mut buckets: Vec<KpiBucket> = Vec::new();
    let mut start = bucket_floor(from, bucket, zone);
    while start < until {
        if buckets.len() >= MAX_BUCKETS {
            return Err(KpiError::TooManyBuckets(MAX_BUCKETS));
        }
        let end = next_bucket(start, bucket, zone);
        buckets.push(KpiBucket {
            start: start.max(from),
            end: end.min(until),
            calls: KpiTotals::default(),
            requests: RequestTotals::default(),
            occupancy: OccupancyTotals::default(),
        });
        start = end;
    }
    if buckets.is_empty() {
        return Ok(buckets);
    }
    let index_of = |buckets: &[KpiBucket], instant: DateTime<Utc>| {
        buckets
            .partition_point(|bucket| bucket.start <= instant)
            .checked_sub(1)
    };
    let aligned_from = slot_ceil(from);
    let aligned_until = slot_of(until);
    let mut edges = Vec::new();
    if from < aligned_from.min(until) {
        edges.push((from, aligned_from.min(until)));
    }
    let tail_start = aligned_until.max(aligned_from);
    if tail_start < until {
        edges.push((tail_start, until));
    }

    // The buckets as arrays, so SQL assigns rows to them (`width_bucket` over the sorted
    // starts gives the 1-based bucket holding an instant) and returns one row per bucket.
    let starts: Vec<DateTime<Utc>> = buckets.iter().map(|bucket| bucket.start).collect();
    let count = buckets.len();
    let bucket_at = |number: i32| {
        usize::try_from(number)
            .ok()
            .and_then(|number| number.checked_sub(1))
            .filter(|index| *index < count)
    };

    // Whole slots, summed per bucket in one statement: calls, requests and the closed
    // intervals' occupancy from `kpi_slot_totals` (the calls from `kpi_call_buckets` when
    // filtered; an agent's occupancy is taken from the intervals below).
    let filtered = filters.queue.is_some() || filters.agent.is_some();
    if aligned_from < aligned_until {
        let statement = if filtered {
            sqlx::query_as(SUM_FILTERED)
        } else {
            sqlx::query_as(SUM_SLOT_TOTALS)
        }
        .bind(aligned_from)
        .bind(aligned_until)
        .bind(&starts);
        let statement = if filtered {
            statement.bind(filters.queue.clone()).bind(filters.agent)
        } else {
            statement
        };
        let rows: Vec<SummedBucket> = statement.fetch_all(pool).await?;
        for row in rows {
            if let Some(index) = bucket_at(row.0) {
                let bucket = &mut buckets[index];
                bucket.calls += KpiTotals {
                    offered: to_u64(row.1),
                    answered: to_u64(row.2),
                    abandoned: to_u64(row.3),
                    abandoned_short: to_u64(row.4),
                    answered_within_threshold: to_u64(row.5),
                    abandoned_after_threshold: to_u64(row.6),
                    answered_wait_ms: to_u64(row.7),
                    handled: to_u64(row.8),
                    handle_ms: to_u64(row.9),
                };
                bucket.requests = bucket.requests
                    + RequestTotals {
                        opened: to_u64(row.10),
                        solved: to_u64(row.11),
                        solved_within_due: to_u64(row.12),
                    };
                if filters.agent.is_none() {
                    bucket.occupancy = bucket.occupancy
                        + OccupancyTotals {
                            busy_ms: to_u64(row.13),
                            logged_in_ms: to_u64(row.14),
                        };
                }
            }
        }
    }

    // Calls and requests of the unaligned edges (at most two), from the facts.
    if !edges.is_empty() {
        let (first, second) = (edges[0], *edges.last().unwrap_or(&edges[0]));
        let facts: Vec<serde_json::Value> = sqlx::query_scalar(
            "SELECT to_jsonb(f) FROM kpi_call_facts f \
             WHERE ((queued_at >= $1 AND queued_at < $2) OR (queued_at >= $3 AND queued_at < $4)) \
               AND ($5::text IS NULL OR queue = $5) \
               AND ($6::uuid IS NULL OR coalesce(agent_id, '00000000-0000-0000-0000-000000000000') = $6)",
        )
        .bind(first.0)
        .bind(first.1)
        .bind(second.0)
        .bind(second.1)
        .bind(filters.queue.clone())
        .bind(filters.agent)
        .fetch_all(pool)
        .await?;
        for value in facts {
            let Ok(row) = serde_json::from_value::<CallFactsRow>(value) else {
                continue;
            };
            if let (Some(facts), Some(queued_at)) = (row.facts(), row.queued_at) {
                if let Some(index) = index_of(&buckets, queued_at) {
                    buckets[index].calls +=
                        KpiTotals::of_call(&facts, DEFAULT_SERVICE_LEVEL_THRESHOLD);
                }
            }
        }
        let facts: Vec<serde_json::Value> = sqlx::query_scalar(
            "SELECT to_jsonb(f) FROM kpi_request_facts f \
             WHERE (opened_at >= $1 AND opened_at < $2) OR (solved_at >= $1 AND solved_at < $2) \
                OR (opened_at >= $3 AND opened_at < $4) OR (solved_at >= $3 AND solved_at < $4)",
        )
        .bind(first.0)
        .bind(first.1)
        .bind(second.0)
        .bind(second.1)
        .fetch_all(pool)
        .await?;
        let facts: Vec<RequestFacts> = facts
            .into_iter()
            .filter_map(|value| serde_json::from_value::<RequestFactsRow>(value).ok())
            .filter_map(|row| row.facts())
            .collect();
        for &(edge_from, edge_until) in &edges {
            if let Some(index) = index_of(&buckets, edge_from) {
                buckets[index].requests = buckets[index].requests
                    + RequestTotals::in_range(&facts, edge_from, edge_until);
            }
        }
    }

    // Occupancy: with an agent, every interval of that agent in the range; else the current
    // (open) intervals, which are in no slot yet, and the closed ones overlapping the edges.
    let intervals: Vec<(String, DateTime<Utc>, Option<DateTime<Utc>>)> = match filters.agent {
        Some(agent) => {
            sqlx::query_as(
                "SELECT activity, started_at, ended_at FROM agent_state_intervals \
                 WHERE worker_id = $3 AND started_at < $2 AND (ended_at IS NULL OR ended_at > $1)",
            )
            .bind(from)
            .bind(until)
            .bind(agent)
            .fetch_all(pool)
            .await?
        }
        None => {
            let (first, second) = match edges.as_slice() {
                [] => ((from, from), (from, from)),
                [only] => (*only, *only),
                [first, .., last] => (*first, *last),
            };
            sqlx::query_as(
                "SELECT activity, started_at, ended_at FROM agent_state_intervals \
                 WHERE ended_at IS NULL AND started_at < $1 \
                 UNION ALL \
                 SELECT activity, started_at, ended_at FROM agent_state_intervals \
                 WHERE ended_at IS NOT NULL AND activity <> 'offline' \
                   AND (tstzrange(started_at, ended_at) && tstzrange($2, $3) \
                        OR tstzrange(started_at, ended_at) && tstzrange($4, $5))",
            )
            .bind(until)
            .bind(first.0)
            .bind(first.1)
            .bind(second.0)
            .bind(second.1)
            .fetch_all(pool)
            .await?
        }
    };
    let now = Utc::now();
    let whole_range = [(from, until)];
    for (activity, started_at, ended_at) in intervals {
        let interval = StateInterval {
            activity: activity_from(&activity),
            start: started_at,
            end: ended_at.unwrap_or(now.max(started_at)),
        };
        // The windows this interval is counted in: all of the range, or only its edges.
        let windows: &[(DateTime<Utc>, DateTime<Utc>)] =
            if filters.agent.is_some() || ended_at.is_none() {
                &whole_range
            } else {
                &edges
            };
        for (window_from, window_until) in windows {
            let (window_from, window_until) = (*window_from, *window_until);
            let mut index = index_of(&buckets, interval.start.max(window_from)).unwrap_or(0);
            while index < buckets.len() && buckets[index].start < interval.end.min(window_until) {
                let bucket = &mut buckets[index];
                bucket.occupancy = bucket.occupancy
                    + OccupancyTotals::in_range(
                        [&interval],
                        bucket.start.max(window_from),
                        bucket.end.min(window_until),
                    );
                index += 1;
            }
        }
    }
    Ok(buckets)
}

/// Replaces the request totals of `buckets` (as returned by [`kpis`]) by those of the requests
/// assigned to `agent`. The KPI tables do not key requests by agent (a request's assignee
/// changes after it is counted), so these come from the `requests` read model, with the
/// definitions of [`RequestTotals::in_range`] (`domain::policy::kpi`): a request counts for the
/// agent who is its assignee now; `opened` when its `opened_at` is in the bucket, `solved` when
/// its last solve (`solved_at`, cleared by a reopen) is, and `solved within due` when that solve
/// is at or before its current due date. Index: `requests_assignee`.
pub async fn agent_request_totals(
    pool: &PgPool,
    agent: Uuid,
    buckets: &mut [KpiBucket],
) -> Result<(), sqlx::Error> {
    let (Some(first), Some(last)) = (buckets.first(), buckets.last()) else {
        return Ok(());
    };
    let (from, until) = (first.start, last.end);
    // (opened_at, due_at, solved_at)
    type Dates = (DateTime<Utc>, DateTime<Utc>, Option<DateTime<Utc>>);
    let rows: Vec<Dates> = sqlx::query_as(
        "SELECT opened_at, due_at, solved_at FROM requests \
         WHERE assignee = $1 \
           AND ((opened_at >= $2 AND opened_at < $3) OR (solved_at >= $2 AND solved_at < $3))",
    )
    .bind(agent)
    .bind(from)
    .bind(until)
    .fetch_all(pool)
    .await?;
    for bucket in buckets.iter_mut() {
        bucket.requests = RequestTotals::default();
    }
    let index_of = |buckets: &[KpiBucket], instant: DateTime<Utc>| {
        (from <= instant && instant < until)
            .then(|| buckets.partition_point(|bucket| bucket.start <= instant))
            .and_then(|after| after.checked_sub(1))
    };
    for (opened_at, due_at, solved_at) in rows {
        let facts = RequestFacts {
            opened_at,
            due_at: Some(due_at),
            solved_at,
            open_or_pending: false,
        };
        let mut indexes = vec![index_of(buckets, opened_at)];
        if let Some(solved_at) = solved_at {
            indexes.push(index_of(buckets, solved_at));
        }
        indexes.dedup();
        for index in indexes.into_iter().flatten() {
            let bucket = &mut buckets[index];
            bucket.requests =
                bucket.requests + RequestTotals::in_range([&facts], bucket.start, bucket.end);
        }
    }
    Ok(())
}

/// Requests open or pending whose due date passed before `now` (PRODUCT §8 "overdue now").
pub async fn overdue_now(pool: &PgPool, now: DateTime<Utc>) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT count(*) FROM requests WHERE status IN ('open', 'pending') AND due_at < $1",
    )
    .bind(now)
    .fetch_one(pool)
    .await
}

/// Like [`overdue_now`], of the requests assigned to `agent`.
pub async fn overdue_now_of(
    pool: &PgPool,
    now: DateTime<Utc>,
    agent: Uuid,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT count(*) FROM requests \
         WHERE status IN ('open', 'pending') AND due_at < $1 AND assignee = $2",
    )
    .bind(now)
    .bind(agent)
    .fetch_one(pool)
    .await
}
