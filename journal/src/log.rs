//! Reading the event log in log order without ever skipping an event.
//!
//! Log order is `(tx_id, position)`. [`LogReader::read_after`] returns only events whose
//! appending transaction is older than every transaction still in progress
//! (`tx_id < pg_snapshot_xmin(pg_current_snapshot())`): such a transaction has ended, so no
//! event can later appear before a position a reader has passed. The price: one long write
//! transaction anywhere in the database holds every reader back until it ends, so nothing may
//! keep one open for long.

use std::sync::{Arc, OnceLock, Weak};
use std::time::Duration;

use sqlx::postgres::PgListener;
use sqlx::PgPool;
use tokio::sync::{broadcast, watch};
use tokio_util::sync::CancellationToken;

use crate::event::{LogPosition, StoredEvent, EVENTS_CHANNEL, EVENT_COLUMNS};

/// Reads the log.
#[derive(Clone)]
pub struct LogReader {
    pool: PgPool,
}

impl LogReader {
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }

    /// Up to `limit` events after `after`, in log order, all below the watermark.
    pub async fn read_after(
        &self,
        after: LogPosition,
        limit: i64,
    ) -> Result<Vec<StoredEvent>, sqlx::Error> {
        let rows = sqlx::query(&format!(
            "SELECT {EVENT_COLUMNS} FROM events \
             WHERE (tx_id, position) > ($1::text::xid8, $2) \
               AND tx_id < pg_snapshot_xmin(pg_current_snapshot()) \
             ORDER BY events.tx_id, events.position \
             LIMIT $3"
        ))
        .bind(after.tx_id.to_string())
        .bind(after.position)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(StoredEvent::from_row).collect()
    }

    /// Like [`Self::read_after`], as an unnamed statement planned on every call.
    ///
    /// Note: every query that selects [`EVENT_COLUMNS`] must order by `events.tx_id`, not
    /// `tx_id`: the bare name means the output column `tx_id::text::bigint`, which no index
    /// serves, and the plan becomes a full scan plus a sort (≈50 ms per batch at 100k events
    /// instead of 0.3 ms).
    pub async fn read_batch_after(
        &self,
        after: LogPosition,
        limit: u16,
    ) -> Result<Vec<StoredEvent>, sqlx::Error> {
        let rows = sqlx::query(&format!(
            "SELECT {EVENT_COLUMNS} FROM events \
             WHERE (tx_id, position) > ($1::text::xid8, $2) \
               AND tx_id < pg_snapshot_xmin(pg_current_snapshot()) \
             ORDER BY events.tx_id, events.position \
             LIMIT {limit}"
        ))
        .persistent(false)
        .bind(after.tx_id.to_string())
        .bind(after.position)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(StoredEvent::from_row).collect()
    }

    /// Up to `limit` events after `after` and at most at `upto`, in log order, of the given
    /// aggregate types and only of `event_types` (filtered in SQL: a process manager reads
    /// only the events it folds). `upto` must be readable (at or below [`Self::head`]), so
    /// nothing can later appear behind it: a reader may move its checkpoint there.
    pub async fn read_filtered(
        &self,
        after: LogPosition,
        upto: LogPosition,
        aggregate_types: &[&str],
        event_types: &[&str],
        limit: i64,
    ) -> Result<Vec<StoredEvent>, sqlx::Error> {
        let rows = sqlx::query(&format!(
            "SELECT {EVENT_COLUMNS} FROM events \
             WHERE (tx_id, position) > ($1::text::xid8, $2) \
               AND (tx_id, position) <= ($3::text::xid8, $4) \
               AND aggregate_type = ANY($5) AND event_type = ANY($6) \
             ORDER BY events.tx_id, events.position \
             LIMIT $7"
        ))
        .bind(after.tx_id.to_string())
        .bind(after.position)
        .bind(upto.tx_id.to_string())
        .bind(upto.position)
        .bind(aggregate_types)
        .bind(event_types)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(StoredEvent::from_row).collect()
    }

    /// The log position of the event at global `position`, to resume a reader that knows only
    /// the position (`events(fromPosition)`). `None` if there is no such event.
    pub async fn locate(&self, position: i64) -> Result<Option<LogPosition>, sqlx::Error> {
        let row: Option<(i64,)> =
            sqlx::query_as("SELECT tx_id::text::bigint FROM events WHERE position = $1")
                .bind(position)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.map(|(tx_id,)| LogPosition { tx_id, position }))
    }

    /// The position of the last event of one aggregate (`None`: it has none), readable or not
    /// yet: what a read model must have applied to show everything of that aggregate.
    pub async fn last_of(
        &self,
        aggregate_type: &str,
        aggregate_id: &str,
    ) -> Result<Option<LogPosition>, sqlx::Error> {
        let row: Option<(i64, i64)> = sqlx::query_as(
            "SELECT tx_id::text::bigint, position FROM events \
             WHERE aggregate_type = $1 AND aggregate_id = $2 ORDER BY sequence DESC LIMIT 1",
        )
        .bind(aggregate_type)
        .bind(aggregate_id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|(tx_id, position)| LogPosition { tx_id, position }))
    }

    /// The last readable position (the head below the watermark), `START` on an empty log.
    pub async fn head(&self) -> Result<LogPosition, sqlx::Error> {
        self.last_where("WHERE tx_id < pg_snapshot_xmin(pg_current_snapshot())")
            .await
    }

    /// The last committed position, readable or not yet (`START` on an empty log): a reader
    /// whose position reaches it has read everything committed before this call, even what a
    /// transaction holding the watermark kept unreadable when it was asked.
    pub async fn committed_head(&self) -> Result<LogPosition, sqlx::Error> {
        self.last_where("").await
    }

    /// The last position in log order of the events `condition` (a constant SQL `WHERE`
    /// clause, or nothing) keeps; `START` when none.
    async fn last_where(&self, condition: &'static str) -> Result<LogPosition, sqlx::Error> {
        let row: Option<(i64, i64)> = sqlx::query_as(&format!(
            "SELECT tx_id::text::bigint, position FROM events {condition} \
             ORDER BY events.tx_id DESC, events.position DESC LIMIT 1"
        ))
        .fetch_optional(&self.pool)
        .await?;
        Ok(row
            .map(|(tx_id, position)| LogPosition { tx_id, position })
            .unwrap_or(LogPosition::START))
    }

    /// Whether any committed event lies after `after`, readable or not. Asked after a read
    /// from `after` returned nothing, `true` means the reader is held by the watermark (a
    /// transaction older than those events is still open) or was until a moment ago: no
    /// notification comes when that transaction ends (it may have appended nothing), so the
    /// reader must look again shortly ([`HeldBackoff`]), not wait for the next notification or
    /// its poll. (Not `tx_id >= xmin`: the holder may end between the read and this query, and
    /// the reader would then wait for a notification that never comes.)
    pub async fn held_after(&self, after: LogPosition) -> Result<bool, sqlx::Error> {
        let (held,): (bool,) = sqlx::query_as(
            "SELECT EXISTS (SELECT 1 FROM events \
               WHERE (tx_id, position) > ($1::text::xid8, $2))",
        )
        .bind(after.tx_id.to_string())
        .bind(after.position)
        .fetch_one(&self.pool)
        .await?;
        Ok(held)
    }

    /// How many readable events lie after `after` (for lag and progress).
    pub async fn count_after(&self, after: LogPosition) -> Result<i64, sqlx::Error> {
        let (count,): (i64,) = sqlx::query_as(
            "SELECT count(*) FROM events \
             WHERE (tx_id, position) > ($1::text::xid8, $2) \
               AND tx_id < pg_snapshot_xmin(pg_current_snapshot())",
        )
        .bind(after.tx_id.to_string())
        .bind(after.position)
        .fetch_one(&self.pool)
        .await?;
        Ok(count)
    }
}

/// How soon a reader held by the watermark ([`LogReader::held_after`]) looks again: 1 ms,
/// doubling up to [`HELD_MAX`] while it stays held. The held transaction is usually another
/// append or a projector's own batch that commits within milliseconds; the cap bounds the
/// queries a long transaction causes (one per reader every few milliseconds).
#[derive(Clone, Debug)]
pub struct HeldBackoff {
    next: Duration,
}

/// The longest pause of [`HeldBackoff`].
pub const HELD_MAX: Duration = Duration::from_millis(8);
const HELD_FIRST: Duration = Duration::from_millis(1);

impl Default for HeldBackoff {
    fn default() -> Self {
        Self { next: HELD_FIRST }
    }
}

impl HeldBackoff {
    /// The pause before the next look, and doubles the one after (up to [`HELD_MAX`]).
    pub fn pause(&mut self) -> Duration {
        let pause = self.next;
        self.next = (self.next * 2).min(HELD_MAX);
        pause
    }

    /// Back to the shortest pause (the reader was not held, or made progress).
    pub fn reset(&mut self) {
        self.next = HELD_FIRST;
    }
}

/// The spacing of a background reader's passes ([`LogNotifier::wait_paced`]). Every pass of a
/// process manager costs a few queries and a checkpoint write (a write transaction, which
/// also holds every reader's watermark while it runs): at a thousand appends a second, one
/// pass per notification made each manager the busiest client of the pool, and every live
/// reader (subscriptions, the dispatcher) waited behind them.
#[derive(Clone, Debug)]
pub struct Pace {
    gap: Duration,
    last: Option<tokio::time::Instant>,
}

/// The gap of process managers' passes: they act in seconds (alerts, mail, links), so a
/// busy log costs each at most this many passes a second: 1 s / `PROCESS_MANAGER_GAP`.
pub const PROCESS_MANAGER_GAP: Duration = Duration::from_millis(50);

impl Pace {
    pub fn new(gap: Duration) -> Self {
        Self { gap, last: None }
    }
}

/// Wakes readers when events are committed: LISTEN on the channel every append notifies.
/// The notification is only a hint; readers always re-read from their checkpoint, and also
/// poll, so a lost notification (a dropped listener connection) only delays them.
#[derive(Clone)]
pub struct LogNotifier {
    receiver: watch::Receiver<u64>,
    /// Ends the shared tail's task (never cancelled for a disconnected notifier).
    shutdown: CancellationToken,
    /// The shared tail over this notifier, started by the first [`Self::tail`].
    tail: Arc<OnceLock<LogTail>>,
}

impl LogNotifier {
    /// Starts listening; the task ends when `shutdown` is cancelled.
    pub async fn start(pool: &PgPool, shutdown: CancellationToken) -> Result<Self, sqlx::Error> {
        let mut listener = PgListener::connect_with(pool).await?;
        listener.listen(EVENTS_CHANNEL).await?;
        let (sender, receiver) = watch::channel(0u64);
        let listening = shutdown.clone();
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = listening.cancelled() => break,
                    received = listener.try_recv() => match received {
                        Ok(Some(_)) => sender.send_modify(|count| *count += 1),
                        // The connection was lost and re-established: events may have been
                        // missed, so wake everybody to re-read.
                        Ok(None) => sender.send_modify(|count| *count += 1),
                        Err(error) => {
                            tracing::warn!(%error, "event listener failed; retrying");
                            tokio::time::sleep(Duration::from_millis(500)).await;
                        }
                    },
                }
            }
        });
        Ok(Self {
            receiver,
            shutdown,
            tail: Arc::default(),
        })
    }

    /// A notifier that never fires (readers then rely on polling).
    pub fn disconnected() -> Self {
        let (_sender, receiver) = watch::channel(0u64);
        Self {
            receiver,
            shutdown: CancellationToken::new(),
            tail: Arc::default(),
        }
    }

    /// How many notifications arrived since the notifier started (plus one per listener
    /// reconnection): one per committed append. A reader that knows how many appends it made
    /// itself can tell whether anybody else appended.
    pub fn notifications(&self) -> u64 {
        *self.receiver.borrow()
    }

    /// Waits until something was appended after the last call, or `poll` elapsed.
    pub async fn wait(&mut self, poll: Duration) {
        if let Ok(Err(_)) = tokio::time::timeout(poll, self.receiver.changed()).await {
            // The listener is gone (or never was): poll instead of spinning.
            tokio::time::sleep(poll).await;
        }
    }

    /// [`Self::wait`], then no sooner than `pace`'s gap after the previous paced wait
    /// returned: a background reader (a process manager) makes at most one pass per gap
    /// however busy the log is, while a lone notification is still served at once.
    pub async fn wait_paced(&mut self, poll: Duration, pace: &mut Pace) {
        self.wait(poll).await;
        if let Some(last) = pace.last {
            tokio::time::sleep_until(last + pace.gap).await;
        }
        pace.last = Some(tokio::time::Instant::now());
    }

    /// The one shared tail of the log for every clone of this notifier, started on first use
    /// (inside a tokio runtime). Its task ends on shutdown or once every clone is dropped.
    pub fn tail(&self, reader: &LogReader) -> LogTail {
        self.tail
            .get_or_init(|| LogTail::start(reader.clone(), self.clone()))
            .clone()
    }
}

/// What the shared tail read in one query: every readable event right after `after`, in log
/// order. A follower at `after` (or later) can take it without a gap. Each event is shared
/// (`Arc`) by every follower that takes it: none copies it.
#[derive(Debug)]
pub struct TailBatch {
    pub after: LogPosition,
    pub events: Vec<Arc<StoredEvent>>,
}

/// Events the tail reads per query; also bounds what a lagging receiver keeps alive.
const TAIL_BATCH: i64 = 256;
/// Batches kept for slow receivers; one further behind re-reads the log itself.
const TAIL_CAPACITY: usize = 256;
/// How often the tail looks at the log when no notification came.
const TAIL_POLL: Duration = Duration::from_millis(500);

/// One reader of the live log per server, shared by every live follower (subscriptions):
/// it reads each newly readable batch once and broadcasts it in memory, instead of every
/// follower querying the log on every notification.
///
/// Architecture Invariant: the tail reads with [`LogReader::read_after`] (below the
/// watermark, in log order), and every batch names the position it follows, so a follower
/// only ever takes a batch that continues exactly where it is; otherwise (it started behind,
/// or lagged) it reads the log directly until it is caught up.
#[derive(Clone)]
pub struct LogTail {
    sender: Arc<broadcast::Sender<Arc<TailBatch>>>,
}

impl LogTail {
    fn start(reader: LogReader, notifier: LogNotifier) -> Self {
        let (sender, _) = broadcast::channel(TAIL_CAPACITY);
        let sender = Arc::new(sender);
        let weak = Arc::downgrade(&sender);
        let LogNotifier {
            receiver, shutdown, ..
        } = notifier;
        // The task holds only the watch half, not the notifier (whose `tail` would keep the
        // sender, and so the task, alive forever).
        tokio::spawn(run_tail(reader, receiver, shutdown, weak));
        Self { sender }
    }

    /// A receiver of every batch read from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<TailBatch>> {
        self.sender.subscribe()
    }
}

async fn run_tail(
    reader: LogReader,
    mut wake: watch::Receiver<u64>,
    shutdown: CancellationToken,
    sender: Weak<broadcast::Sender<Arc<TailBatch>>>,
) {
    let mut head = None;
    let mut held = HeldBackoff::default();
    loop {
        if shutdown.is_cancelled() {
            return;
        }
        let Some(sender) = sender.upgrade() else {
            return;
        };
        let read = match head {
            None => reader.head().await.map(|at| {
                head = Some(at);
                Vec::new()
            }),
            Some(after) => reader.read_after(after, TAIL_BATCH).await,
        };
        match read {
            Ok(events) if events.is_empty() => {
                drop(sender);
                // Held by the watermark: look again within milliseconds (no notification
                // comes when the holding transaction ends).
                let poll = match head {
                    Some(after) if reader.held_after(after).await.unwrap_or(false) => held.pause(),
                    _ => {
                        held.reset();
                        TAIL_POLL
                    }
                };
                tokio::select! {
                    woken = tokio::time::timeout(poll, wake.changed()) => {
                        if let Ok(Err(_)) = woken {
                            // The listener is gone (or never was): poll.
                            tokio::time::sleep(TAIL_POLL).await;
                        }
                    }
                    _ = shutdown.cancelled() => return,
                }
            }
            Ok(events) => {
                held.reset();
                let after = head.unwrap_or(LogPosition::START);
                head = events.last().map(|event| event.log_position);
                // No receiver is fine: followers that subscribe later catch up from the log.
                let events = events.into_iter().map(Arc::new).collect();
                let _ = sender.send(Arc::new(TailBatch { after, events }));
            }
            Err(error) => {
                drop(sender);
                tracing::warn!(%error, "log tail: read failed; retrying");
                tokio::select! {
                    _ = tokio::time::sleep(TAIL_POLL) => {}
                    _ = shutdown.cancelled() => return,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A lone notification is served at once; the next pass waits out the gap however many
    /// notifications come meanwhile.
    #[tokio::test(start_paused = true)]
    async fn a_paced_reader_makes_at_most_one_pass_per_gap() {
        let (sender, receiver) = watch::channel(0u64);
        let mut notifier = LogNotifier {
            receiver,
            shutdown: CancellationToken::new(),
            tail: Arc::default(),
        };
        let mut pace = Pace::new(Duration::from_millis(50));
        let start = tokio::time::Instant::now();
        sender.send_modify(|count| *count += 1);
        notifier.wait_paced(Duration::from_secs(1), &mut pace).await;
        assert_eq!(
            start.elapsed(),
            Duration::ZERO,
            "the first pass is not delayed"
        );
        for _ in 0..10 {
            sender.send_modify(|count| *count += 1);
        }
        notifier.wait_paced(Duration::from_secs(1), &mut pace).await;
        assert_eq!(
            start.elapsed(),
            Duration::from_millis(50),
            "the second waits the gap"
        );
        // Without notification, the poll bounds the wait (longer than the gap).
        notifier
            .wait_paced(Duration::from_millis(200), &mut pace)
            .await;
        assert_eq!(start.elapsed(), Duration::from_millis(250));
    }

    #[test]
    fn the_held_backoff_doubles_up_to_its_cap_and_resets() {
        let mut held = HeldBackoff::default();
        let pauses: Vec<u64> = (0..6).map(|_| held.pause().as_millis() as u64).collect();
        assert_eq!(pauses, [1, 2, 4, 8, 8, 8]);
        held.reset();
        assert_eq!(held.pause(), Duration::from_millis(1));
    }
}
