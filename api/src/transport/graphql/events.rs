//! `events(fromPosition)` (admin): the global log in log order, live, resumable. A client that
//! reconnects with the position of the last event it received gets every later event exactly
//! once. Events appear only once their transaction has committed and no older transaction is
//! still running (the log reader's watermark), so a rolled-back write is never shown.

use std::collections::VecDeque;
use std::sync::Arc;

use async_graphql::{Context, Json, Object, Subscription, ID};
use chrono::{DateTime, Utc};
use futures::Stream;
use journal::{LogNotifier, LogPosition, LogReader, StoredEvent, TailBatch};
use tokio::sync::{broadcast, OwnedSemaphorePermit, Semaphore};
use tokio_util::sync::CancellationToken;

use super::context::{require_admin, state};
use super::error::ApiError;

/// Subscriptions one WebSocket connection may hold at once.
pub const MAX_SUBSCRIPTIONS_PER_CONNECTION: usize = 16;
/// Events read from the log per query while catching up.
const BATCH: i64 = 100;

/// The subscription slots of one WebSocket connection (in its connection data).
#[derive(Clone)]
pub struct SubscriptionSlots(pub Arc<Semaphore>);

impl SubscriptionSlots {
    pub fn new() -> Self {
        Self(Arc::new(Semaphore::new(MAX_SUBSCRIPTIONS_PER_CONNECTION)))
    }
}

impl Default for SubscriptionSlots {
    fn default() -> Self {
        Self::new()
    }
}

/// Takes a slot for a new subscription (released when the stream is dropped).
pub fn take_slot(context: &Context<'_>) -> Result<Option<OwnedSemaphorePermit>, ApiError> {
    match context.data_opt::<SubscriptionSlots>() {
        None => Ok(None),
        Some(slots) => slots
            .0
            .clone()
            .try_acquire_owned()
            .map(Some)
            .map_err(|_| ApiError::Rule {
                code: "TOO_MANY_SUBSCRIPTIONS",
                message: format!(
                    "at most {MAX_SUBSCRIPTIONS_PER_CONNECTION} subscriptions per connection"
                ),
                field: None,
            }),
    }
}

/// One event of the log, shared with every other subscription that sends it: its fields are
/// copied out only when selected.
#[derive(Clone, Debug)]
pub struct LogEventView(pub Arc<StoredEvent>);

/// One event of the log.
#[Object(name = "LogEvent")]
impl LogEventView {
    /// The global position: resume with `events(fromPosition: <this>)`.
    async fn position(&self) -> i64 {
        self.0.position()
    }

    async fn event_id(&self) -> ID {
        ID(self.0.event_id.to_string())
    }

    async fn event_type(&self) -> &str {
        &self.0.event_type
    }

    async fn event_version(&self) -> &str {
        &self.0.event_version
    }

    async fn aggregate_type(&self) -> &str {
        &self.0.aggregate_type
    }

    async fn aggregate_id(&self) -> ID {
        ID(self.0.aggregate_id.clone())
    }

    async fn sequence(&self) -> i64 {
        self.0.sequence
    }

    async fn payload(&self) -> Json<&serde_json::Value> {
        Json(&self.0.payload)
    }

    /// Actor, correlation id, causation id.
    async fn metadata(&self) -> Json<&serde_json::Value> {
        Json(&self.0.metadata)
    }

    async fn recorded_at(&self) -> DateTime<Utc> {
        self.0.recorded_at
    }
}

impl From<StoredEvent> for LogEventView {
    fn from(event: StoredEvent) -> Self {
        Self(Arc::new(event))
    }
}

/// Follows the log from a position: reads the log directly until caught up, then takes the
/// batches of the server's shared [`LogTail`] (one log query per batch for every follower
/// together); whenever a batch does not continue exactly where the follower is (it started
/// behind the tail, or lagged behind the broadcast), it reads the log directly again. Ends on
/// shutdown or after reporting a database failure.
pub struct LogFollower {
    pub reader: LogReader,
    pub shutdown: CancellationToken,
    pub after: LogPosition,
    live: broadcast::Receiver<Arc<TailBatch>>,
    catching_up: bool,
    buffer: VecDeque<Arc<StoredEvent>>,
    failed: bool,
    _slot: Option<OwnedSemaphorePermit>,
}

impl LogFollower {
    pub fn new(
        reader: LogReader,
        notifier: LogNotifier,
        shutdown: CancellationToken,
        after: LogPosition,
        slot: Option<OwnedSemaphorePermit>,
    ) -> Self {
        // Subscribe before the first direct read, so nothing falls between the two.
        let live = notifier.tail(&reader).subscribe();
        Self {
            reader,
            shutdown,
            after,
            live,
            catching_up: true,
            buffer: VecDeque::new(),
            failed: false,
            _slot: slot,
        }
    }

    /// The events as a stream (shared: the live ones are the tail's own).
    pub fn into_stream(self) -> impl Stream<Item = Result<Arc<StoredEvent>, ApiError>> + Send {
        futures::stream::unfold(self, |mut follower| async move {
            loop {
                if let Some(event) = follower.buffer.pop_front() {
                    follower.after = event.log_position;
                    return Some((Ok(event), follower));
                }
                if follower.failed || follower.shutdown.is_cancelled() {
                    return None;
                }
                if follower.catching_up {
                    match follower.reader.read_after(follower.after, BATCH).await {
                        Ok(batch) if batch.is_empty() => follower.catching_up = false,
                        Ok(batch) => follower.buffer.extend(batch.into_iter().map(Arc::new)),
                        Err(error) => {
                            follower.failed = true;
                            return Some((Err(ApiError::from(error)), follower));
                        }
                    }
                    continue;
                }
                let received = tokio::select! {
                    received = follower.live.recv() => received,
                    _ = follower.shutdown.cancelled() => return None,
                };
                match received {
                    Ok(batch) if batch.after <= follower.after => {
                        let after = follower.after;
                        follower.buffer.extend(
                            batch
                                .events
                                .iter()
                                .filter(|event| event.log_position > after)
                                .cloned(),
                        );
                    }
                    // A gap between where this follower is and where the batch starts, or
                    // batches dropped for lagging: read the log itself up to the head.
                    Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {
                        follower.catching_up = true
                    }
                    Err(broadcast::error::RecvError::Closed) => return None,
                }
            }
        })
    }
}

#[derive(Default)]
pub struct EventSubscription;

#[Subscription]
impl EventSubscription {
    /// Every event of the log in log order, starting right after `fromPosition` (0: from the
    /// beginning), then live (admin).
    async fn events(
        &self,
        context: &Context<'_>,
        #[graphql(default = 0)] from_position: i64,
    ) -> Result<impl Stream<Item = async_graphql::Result<LogEventView>>, ApiError> {
        require_admin(context)?;
        let state = state(context)?;
        let after = match from_position {
            0 => LogPosition::START,
            position if position < 0 => {
                return Err(ApiError::validation("fromPosition", "must be 0 or more"))
            }
            position => state
                .reader
                .locate(position)
                .await?
                .ok_or(ApiError::NotFound("event at fromPosition"))?,
        };
        let slot = take_slot(context)?;
        let follower = LogFollower::new(
            state.reader.clone(),
            state.notifier.clone(),
            state.shutdown.clone(),
            after,
            slot,
        );
        Ok(futures::StreamExt::map(follower.into_stream(), |item| {
            item.map(LogEventView).map_err(Into::into)
        }))
    }
}
