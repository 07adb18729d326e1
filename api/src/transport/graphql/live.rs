//! Live subscriptions for the SPA (PRODUCT §4.4, §7): `offers` (screen pop), `myState`,
//! `callUpdates(callId)`, `wallboard`, `alerts`. All are fed from the committed log in log order
//! (the [`LogFollower`] of `events`), authenticated in `connection_init`, and take one of the
//! connection's subscription slots.
//!
//! Each starts with one message, so a client knows it is subscribed: `offers` and `alerts` a
//! message without payload naming the log position they follow from (pass it back as
//! `fromPosition` after a reconnect to miss nothing); `myState`, `callUpdates` and `wallboard`
//! the current state, then the state after each change.

use std::future::ready;
use std::sync::Arc;
use std::time::Duration;

use async_graphql::{Context, Enum, SimpleObject, Subscription, ID};
use chrono::{DateTime, Utc};
use cqrs_es::Aggregate as _;
use domain::call::Call;
use domain::ids::{CallId, CustomerId, RequestId};
use domain::request::{Request, RequestEvent};
use domain::worker::{Presence, Worker, WorkerEvent};
use futures::stream::BoxStream;
use futures::{Stream, StreamExt as _};
use journal::{LogPosition, StoredEvent};
use projections::readmodels::{calls, queue, requests, workers};

use super::calls::CallView;
use super::common::{read_error, wait_for_aggregate, wait_for_read_models};
use super::context::{parse_id, require_admin, require_worker, state, Me};
use super::customers::{read_customer, CustomerView};
use super::error::ApiError;
use super::events::{take_slot, LogFollower};
use super::requests::RequestView;
use super::workers::{PresenceState, WorkerView};
use crate::transport::counters::SubscriptionGuard;
use crate::transport::state::AppState;

/// Wallboard changes closer together than this are sent as one snapshot.
const WALLBOARD_COALESCE: Duration = Duration::from_millis(300);
/// How long a wallboard snapshot waits for the read models to reach the change.
const WALLBOARD_WAIT: Duration = Duration::from_secs(2);
/// Open requests shown in a screen pop.
const SCREEN_POP_REQUESTS: i64 = 20;

type Events = BoxStream<'static, Result<Arc<StoredEvent>, ApiError>>;

/// Where a subscription starts: after `from_position` when given (0: the log's start), else at
/// the log's head (only what happens from now on).
async fn start(state: &AppState, from_position: Option<i64>) -> Result<LogPosition, ApiError> {
    match from_position {
        None => Ok(state.reader.head().await?),
        Some(0) => Ok(LogPosition::START),
        Some(position) if position < 0 => {
            Err(ApiError::validation("fromPosition", "must be 0 or more"))
        }
        Some(position) => state
            .reader
            .locate(position)
            .await?
            .ok_or(ApiError::NotFound("event at fromPosition")),
    }
}

/// The log after `after`, counted in `/metrics` as a live `name` subscription.
fn follow(
    context: &Context<'_>,
    state: &AppState,
    after: LogPosition,
    name: &'static str,
) -> Result<(Events, SubscriptionGuard), ApiError> {
    let slot = take_slot(context)?;
    let follower = LogFollower::new(
        state.reader.clone(),
        state.notifier.clone(),
        state.shutdown.clone(),
        after,
        slot,
    );
    Ok((
        follower.into_stream().boxed(),
        state.metrics.subscription(name),
    ))
}

// ---------------------------------------------------------------------------------------------
// offers

/// What an agent sees when their phone rings (PRODUCT §4.4).
#[derive(SimpleObject, Clone, Debug)]
pub struct Offer {
    pub call_id: ID,
    pub offered_at: DateTime<Utc>,
    /// As Asterisk gave it.
    pub caller_number: String,
    pub caller_name: Option<String>,
    /// The customer the number belongs to, if any.
    pub customer: Option<CustomerView>,
    /// The customer's open and pending requests, oldest due first (at most 20).
    pub open_requests: Vec<RequestView>,
    /// The customer's backup status (`new`, `up`, `grace`, `down`, `paused`, `running`), when
    /// they have backup facts.
    #[graphql(deprecation = "use `backup { status }`")]
    pub backup_status: Option<String>,
    /// The customer's backup health (as `backupStatus(customerId:)`: status, last success, the
    /// last run with its statistics, overdue/failing since, next expected run), when they have
    /// backup facts.
    pub backup: Option<super::backup::BackupStatusView>,
}

/// A message of `offers`: the first has no offer and names the log position followed from.
#[derive(SimpleObject, Clone, Debug)]
pub struct OfferMessage {
    /// The log position of this message: resume with `offers(fromPosition: <this>)`.
    pub position: i64,
    pub offer: Option<Offer>,
}

async fn screen_pop(
    state: &AppState,
    call_id: CallId,
    at: DateTime<Utc>,
) -> Result<Offer, ApiError> {
    wait_for_aggregate(state, "calls", "call", call_id).await?;
    let call = calls::get(&state.pool, call_id.as_uuid())
        .await
        .map_err(read_error)?
        .ok_or(ApiError::NotFound("call"))?;
    let caller_number = call.caller_number.clone();
    let customer_id = match call.customer_id {
        Some(id) => Some(CustomerId::from(id)),
        None => {
            crate::telephony::customer_of_number(
                &state.pool,
                &caller_number,
                &state.auth.config.default_country_code,
            )
            .await?
        }
    };
    let mut customer = None;
    let mut open_requests = Vec::new();
    let mut backup = None;
    if let Some(customer_id) = customer_id {
        let loaded = read_customer(state, customer_id).await?;
        if let Some(loaded) = loaded.filter(|loaded| !loaded.erased) {
            customer = Some(loaded);
            open_requests = open_requests_of(state, customer_id).await?;
            let health = crate::backup::service::backup_status(&state.backup_state(), customer_id)
                .await
                .map_err(ApiError::from)?;
            backup = (health.status != "unmonitored" || health.last_run.is_some())
                .then(|| super::backup::BackupStatusView::from(health));
        }
    }
    Ok(Offer {
        call_id: ID(call_id.to_string()),
        offered_at: at,
        caller_number,
        caller_name: call.caller_name,
        customer,
        open_requests,
        backup_status: backup.as_ref().map(|health| health.status.clone()),
        backup,
    })
}

async fn open_requests_of(
    state: &AppState,
    customer_id: CustomerId,
) -> Result<Vec<RequestView>, ApiError> {
    // The `requests` read model, once it holds every event committed so far (read-your-writes).
    let head = state.reader.head().await?;
    wait_for_read_models(state, &["requests"], head).await;
    let rows =
        requests::active_of_customer(&state.pool, customer_id.as_uuid(), SCREEN_POP_REQUESTS)
            .await
            .map_err(read_error)?;
    Ok(rows.into_iter().map(RequestView::from_row).collect())
}

// ---------------------------------------------------------------------------------------------
// alerts

#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum AlertKind {
    /// Less than the configured time remains before a request's due date.
    DueSoon,
    /// A request's due date passed while it was open or pending.
    Overdue,
    /// A customer's backup is overdue.
    BackupOverdue,
    /// A customer's backup run failed (or timed out): backups down until the next success.
    BackupFailed,
    /// A customer's overdue or failed backup succeeded again.
    BackupRecovered,
}

/// A request or backup alert.
#[derive(SimpleObject, Clone, Debug)]
pub struct Alert {
    pub kind: AlertKind,
    pub customer_id: Option<ID>,
    pub request_id: Option<ID>,
    /// The request, for request alerts.
    pub request: Option<RequestView>,
    /// The request's due date, for request alerts.
    pub due_at: Option<DateTime<Utc>>,
    /// When the alert was raised.
    pub at: DateTime<Utc>,
}

/// A message of `alerts`: the first has no alert and names the log position followed from.
#[derive(SimpleObject, Clone, Debug)]
pub struct AlertMessage {
    /// The log position of this message: resume with `alerts(fromPosition: <this>)`.
    pub position: i64,
    pub alert: Option<Alert>,
}

async fn alert_of(state: &AppState, event: &StoredEvent) -> Result<Option<Alert>, ApiError> {
    let at = event.recorded_at;
    let kind = match (event.aggregate_type.as_str(), event.event_type.as_str()) {
        ("request", "RequestDueSoonRaised") => AlertKind::DueSoon,
        ("request", "RequestOverdueRaised") => AlertKind::Overdue,
        ("customer", "CustomerBackupOverdue") => AlertKind::BackupOverdue,
        ("customer", "CustomerBackupFailed") => AlertKind::BackupFailed,
        ("customer", "CustomerBackupRecovered") => AlertKind::BackupRecovered,
        _ => return Ok(None),
    };
    if matches!(
        kind,
        AlertKind::BackupOverdue | AlertKind::BackupFailed | AlertKind::BackupRecovered
    ) {
        return Ok(Some(Alert {
            kind,
            customer_id: Some(ID(event.aggregate_id.clone())),
            request_id: None,
            request: None,
            due_at: None,
            at,
        }));
    }
    let due_at = match event.decode::<RequestEvent>() {
        Ok(
            RequestEvent::DueSoonRaised { due_at, .. } | RequestEvent::OverdueRaised { due_at, .. },
        ) => Some(due_at),
        _ => None,
    };
    let id: RequestId = event
        .aggregate_id
        .parse()
        .map_err(|_| ApiError::internal(anyhow::anyhow!("request id in the log is not a UUID")))?;
    let (request, version) = state
        .store
        .load_aggregate::<Request>(&event.aggregate_id)
        .await?;
    Ok(Some(Alert {
        kind,
        customer_id: request.customer_id().map(|id| ID(id.to_string())),
        request_id: Some(ID(event.aggregate_id.clone())),
        request: RequestView::from_aggregate(id, version, &request),
        due_at,
        at,
    }))
}

// ---------------------------------------------------------------------------------------------
// callUpdates

/// A call's state after one of its events.
#[derive(SimpleObject, Clone, Debug)]
pub struct CallUpdate {
    /// The log position of the event (the start position for the first message).
    pub position: i64,
    /// The event (`CallOffered`, `CallConnected`, …); null in the first message.
    pub event_type: Option<String>,
    pub call: CallView,
}

// ---------------------------------------------------------------------------------------------
// wallboard

/// One worker on the wallboard.
#[derive(SimpleObject, Clone, Debug)]
pub struct WallboardAgent {
    pub id: ID,
    pub name: String,
    pub state: PresenceState,
    pub pause_reason: Option<String>,
    pub call_id: Option<ID>,
    pub since: DateTime<Utc>,
    /// Seconds in the current state when the snapshot was taken.
    pub seconds_in_state: i64,
}

/// How many workers are in one state.
#[derive(SimpleObject, Clone, Debug)]
pub struct StateCount {
    pub state: PresenceState,
    pub count: i32,
}

/// Today's numbers (UTC day, PRODUCT §8 definitions).
#[derive(SimpleObject, Clone, Debug)]
pub struct WallboardKpis {
    /// Calls queued today.
    pub offered: i64,
    /// Calls connected today.
    pub answered: i64,
    /// Calls abandoned today.
    pub abandoned: i64,
    /// Mean queue wait of today's answered calls.
    pub asa_secs: Option<f64>,
    /// Open or pending requests past their due date now.
    pub requests_overdue: i64,
}

/// The supervisor's view of the call center.
#[derive(SimpleObject, Clone, Debug)]
pub struct Wallboard {
    /// When the snapshot was taken.
    pub at: DateTime<Utc>,
    /// Active workers, by name.
    pub agents: Vec<WallboardAgent>,
    pub agents_by_state: Vec<StateCount>,
    /// Calls in the queue (ringing ones included).
    pub calls_waiting: i32,
    /// Calls in the queue whose offer is ringing.
    pub calls_ringing: i32,
    pub oldest_queued_at: Option<DateTime<Utc>>,
    pub oldest_wait_secs: Option<i64>,
    pub today: WallboardKpis,
}

/// The wallboard now, from the read models (`workers`, `queue`, `calls`, `requests`).
async fn wallboard_snapshot(state: &AppState) -> Result<Wallboard, ApiError> {
    let now = Utc::now();
    let agents: Vec<WallboardAgent> = workers::active_by_name(&state.pool)
        .await
        .map_err(read_error)?
        .into_iter()
        .map(|row| WallboardAgent {
            id: ID(row.worker_id.to_string()),
            name: row.name,
            state: PresenceState::from_stored(&row.state),
            pause_reason: row.pause_reason,
            call_id: row.call_id.map(|id| ID(id.to_string())),
            since: row.state_since,
            seconds_in_state: (now - row.state_since).num_seconds().max(0),
        })
        .collect();
    let states = [
        PresenceState::Available,
        PresenceState::Offered,
        PresenceState::OnCall,
        PresenceState::WrapUp,
        PresenceState::Paused,
        PresenceState::Offline,
    ];
    let agents_by_state = states
        .into_iter()
        .map(|presence| StateCount {
            state: presence,
            count: i32::try_from(
                agents
                    .iter()
                    .filter(|agent| agent.state == presence)
                    .count(),
            )
            .unwrap_or(i32::MAX),
        })
        .collect();
    let queue = queue::summary(&state.pool).await.map_err(read_error)?;
    let today = calls::today(&state.pool).await.map_err(read_error)?;
    let overdue = requests::overdue_count(&state.pool)
        .await
        .map_err(read_error)?;
    let oldest = queue.oldest_queued_at;
    Ok(Wallboard {
        at: now,
        agents,
        agents_by_state,
        calls_waiting: i32::try_from(queue.waiting).unwrap_or(i32::MAX),
        calls_ringing: i32::try_from(queue.ringing).unwrap_or(i32::MAX),
        oldest_queued_at: oldest,
        oldest_wait_secs: oldest.map(|at| (now - at).num_seconds().max(0)),
        today: WallboardKpis {
            offered: today.offered,
            answered: today.answered,
            abandoned: today.abandoned,
            asa_secs: today.asa_secs,
            requests_overdue: overdue,
        },
    })
}

/// Whether an event can change the wallboard.
fn moves_wallboard(event: &StoredEvent) -> bool {
    matches!(event.aggregate_type.as_str(), "worker" | "call")
        || matches!(
            event.event_type.as_str(),
            "RequestOpened" | "RequestOverdueRaised" | "RequestSolved" | "RequestClosed"
        )
}

/// Waits (at most [`WALLBOARD_WAIT`]) until the wallboard's read models reach `position`.
async fn wallboard_wait(state: &AppState, position: LogPosition) {
    let names = ["workers", "queue", "calls", "requests"];
    if let Err(error) = state
        .projector
        .wait_for(&names, position, WALLBOARD_WAIT)
        .await
    {
        tracing::debug!(%error, "wallboard: read models behind; showing them as they are");
    }
}

struct WallboardFeed {
    state: AppState,
    events: Events,
    /// The log position the feed follows from: the first snapshot waits for the read models
    /// to reach it, so it shows what was committed before the subscription.
    start: LogPosition,
    first: bool,
    _guard: SubscriptionGuard,
}

impl WallboardFeed {
    async fn next_snapshot(&mut self) -> Option<Result<Wallboard, ApiError>> {
        if std::mem::take(&mut self.first) {
            wallboard_wait(&self.state, self.start).await;
            return Some(wallboard_snapshot(&self.state).await);
        }
        let mut last = loop {
            match self.events.next().await? {
                Err(error) => return Some(Err(error)),
                Ok(event) if moves_wallboard(&event) => break event.log_position,
                Ok(_) => {}
            }
        };
        let deadline = tokio::time::Instant::now() + WALLBOARD_COALESCE;
        while let Ok(Some(Ok(event))) = tokio::time::timeout_at(deadline, self.events.next()).await
        {
            if moves_wallboard(&event) {
                last = event.log_position;
            }
        }
        wallboard_wait(&self.state, last).await;
        Some(wallboard_snapshot(&self.state).await)
    }
}

// ---------------------------------------------------------------------------------------------

type Live<T> = BoxStream<'static, async_graphql::Result<T>>;

fn errors<T: Send + 'static>(
    stream: impl Stream<Item = Result<T, ApiError>> + Send + 'static,
) -> Live<T> {
    stream
        .map(|item| item.map_err(async_graphql::Error::from))
        .boxed()
}

#[derive(Default)]
pub struct LiveSubscription;

#[Subscription]
impl LiveSubscription {
    /// The calls offered to the caller (screen pop: caller number, customer, open requests,
    /// backup status). The first message has no offer and names the log position followed
    /// from; `fromPosition` resumes after a position (default: from now).
    async fn offers(
        &self,
        context: &Context<'_>,
        from_position: Option<i64>,
    ) -> Result<Live<OfferMessage>, ApiError> {
        let me = require_worker(context)?;
        let state = state(context)?.clone();
        let after = start(&state, from_position).await?;
        let (events, guard) = follow(context, &state, after, "offers")?;
        let me_id = me.id.to_string();
        let first = futures::stream::once(ready(Ok(OfferMessage {
            position: after.position,
            offer: None,
        })));
        let live = events.filter_map(move |item| {
            let state = state.clone();
            let mine = match &item {
                Ok(event) => {
                    event.aggregate_type == "worker"
                        && event.aggregate_id == me_id
                        && event.event_type == "WorkerOffered"
                }
                Err(_) => true,
            };
            let _ = &guard;
            async move {
                if !mine {
                    return None;
                }
                Some(match item {
                    Err(error) => Err(error),
                    Ok(event) => match event.decode::<WorkerEvent>() {
                        Ok(WorkerEvent::Offered { call_id, at }) => screen_pop(&state, call_id, at)
                            .await
                            .map(|offer| OfferMessage {
                                position: event.position(),
                                offer: Some(offer),
                            }),
                        Ok(_) => return None,
                        Err(error) => Err(ApiError::internal(error)),
                    },
                })
            }
        });
        Ok(errors(first.chain(live)))
    }

    /// The caller's own worker: now, then after each change of their presence.
    async fn my_state(&self, context: &Context<'_>) -> Result<Live<WorkerView>, ApiError> {
        let me = require_worker(context)?;
        let state = state(context)?.clone();
        // Head first, then the aggregate: whatever committed in between is in both, and the
        // stream skips what the aggregate already holds.
        let after = state.reader.head().await?;
        let (worker, version) = state
            .store
            .load_aggregate::<Worker>(&me.id.to_string())
            .await?;
        let id = me.id;
        let current =
            WorkerView::from_aggregate(id, version, &worker).ok_or(ApiError::NotFound("worker"))?;
        let (events, guard) = follow(context, &state, after, "myState")?;
        let id_text = id.to_string();
        let live = events
            .filter(move |item| {
                ready(match item {
                    Ok(event) => {
                        event.aggregate_type == "worker"
                            && event.aggregate_id == id_text
                            && event.sequence > version
                    }
                    Err(_) => true,
                })
            })
            .scan(worker, move |worker, item| {
                let _ = &guard;
                let out = match item {
                    Err(error) => Some(Err(error)),
                    Ok(event) => match event.decode::<WorkerEvent>() {
                        Err(error) => Some(Err(ApiError::internal(error))),
                        Ok(decoded) => {
                            let moves = Presence::after(&decoded).is_some();
                            worker.apply(decoded);
                            moves
                                .then(|| WorkerView::from_aggregate(id, event.sequence, worker))
                                .flatten()
                                .map(Ok)
                        }
                    },
                };
                ready(Some(out))
            })
            .filter_map(ready);
        Ok(errors(
            futures::stream::once(ready(Ok(current))).chain(live),
        ))
    }

    /// One call's progress: its state now, then after each of its events (admins: any call;
    /// agents: calls offered to or taken by them).
    async fn call_updates(
        &self,
        context: &Context<'_>,
        call_id: ID,
    ) -> Result<Live<CallUpdate>, ApiError> {
        let me: Me = require_worker(context)?;
        let id: CallId = parse_id(&call_id, "callId")?;
        let state = state(context)?.clone();
        let after = state.reader.head().await?;
        let (call, version) = state.store.load_aggregate::<Call>(&id.to_string()).await?;
        let current =
            CallView::from_aggregate(id, version, &call).ok_or(ApiError::NotFound("call"))?;
        let involved =
            call.agent() == Some(me.id) || call.offers().iter().any(|offer| offer.agent == me.id);
        if !me.is_admin() && !involved {
            return Err(ApiError::Forbidden);
        }
        let (events, guard) = follow(context, &state, after, "callUpdates")?;
        let id_text = id.to_string();
        let first = CallUpdate {
            position: after.position,
            event_type: None,
            call: current,
        };
        let live = events
            .filter(move |item| {
                ready(match item {
                    Ok(event) => {
                        event.aggregate_type == "call"
                            && event.aggregate_id == id_text
                            && event.sequence > version
                    }
                    Err(_) => true,
                })
            })
            .scan(call, move |call, item| {
                let _ = &guard;
                let out = match item {
                    Err(error) => Some(Err(error)),
                    Ok(event) => match event.decode::<domain::call::CallEvent>() {
                        Err(error) => Some(Err(ApiError::internal(error))),
                        Ok(decoded) => {
                            call.apply(decoded);
                            CallView::from_aggregate(id, event.sequence, call).map(|view| {
                                Ok(CallUpdate {
                                    position: event.position(),
                                    event_type: Some(event.event_type.clone()),
                                    call: view,
                                })
                            })
                        }
                    },
                };
                ready(Some(out))
            })
            .filter_map(ready);
        Ok(errors(futures::stream::once(ready(Ok(first))).chain(live)))
    }

    /// The supervisor's wallboard (admin): a snapshot now, then a new one after changes (at
    /// most about three per second).
    async fn wallboard(&self, context: &Context<'_>) -> Result<Live<Wallboard>, ApiError> {
        require_admin(context)?;
        let state = state(context)?.clone();
        let after = state.reader.head().await?;
        let (events, guard) = follow(context, &state, after, "wallboard")?;
        let feed = WallboardFeed {
            state,
            events,
            start: after,
            first: true,
            _guard: guard,
        };
        let stream = futures::stream::unfold(feed, |mut feed| async move {
            feed.next_snapshot().await.map(|item| (item, feed))
        });
        Ok(errors(stream))
    }

    /// Request alerts (`DUE_SOON`, `OVERDUE`) and backup alerts (`BACKUP_OVERDUE`,
    /// `BACKUP_FAILED`, `BACKUP_RECOVERED`), for every worker. The first message has no alert and names the log
    /// position followed from; `fromPosition` resumes after a position (default: from now).
    async fn alerts(
        &self,
        context: &Context<'_>,
        from_position: Option<i64>,
    ) -> Result<Live<AlertMessage>, ApiError> {
        require_worker(context)?;
        let state = state(context)?.clone();
        let after = start(&state, from_position).await?;
        let (events, guard) = follow(context, &state, after, "alerts")?;
        let first = futures::stream::once(ready(Ok(AlertMessage {
            position: after.position,
            alert: None,
        })));
        let live = events.filter_map(move |item| {
            let state = state.clone();
            let _ = &guard;
            async move {
                match item {
                    Err(error) => Some(Err(error)),
                    Ok(event) => match alert_of(&state, &event).await {
                        Ok(Some(alert)) => Some(Ok(AlertMessage {
                            position: event.position(),
                            alert: Some(alert),
                        })),
                        Ok(None) => None,
                        Err(error) => Some(Err(error)),
                    },
                }
            }
        });
        Ok(errors(first.chain(live)))
    }
}
