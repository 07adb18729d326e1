//! One leadership term: the actor that owns the ARI stream, the view, the log tail and the
//! timers, and handles them one at a time (so no two decisions ever interleave).

use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use ari_adapter::events::{self, EventStreamConfig, StreamItem};
use ari_adapter::{AriClient, Translator};
use chrono::{DateTime, NaiveDate, Utc};
use cqrs_es::Aggregate;
use domain::call::{Call, CallCommand, CallError, CallEvent};
use domain::ids::{CallId, WorkerId};
use domain::worker::{Worker, WorkerCommand, WorkerError, WorkerEvent};
use futures::TryStreamExt as _;
use journal::{
    Actor, CommandError, Committed, EventStore, LogNotifier, LogPosition, LogReader, Metadata,
    PairCommand, PairError, StoredEvent,
};
use tokio_util::sync::CancellationToken;
use tracing::Instrument as _;
use uuid::Uuid;

use super::media::{CallMedia, Lanes};
use super::view::{Folded, View};
use super::{CustomerDirectory, TelephonyConfig, TelephonyContext};

/// How often the log is re-read when no commit notification arrives.
const LOG_POLL: Duration = Duration::from_millis(250);
/// How many events one log read returns at most.
const LOG_BATCH: i64 = 500;
/// How long a stopping leader spends on the events it already received.
const DRAIN_LIMIT: Duration = Duration::from_secs(2);
/// Rounds of "catch up, then route" after one input, at most.
const SETTLE_ROUNDS: usize = 20;
/// ARI events handled in a row (those already received) before routing once for all of them.
const STREAM_BATCH: usize = 32;
/// A caller who entered the application (`StasisStart` of an inbound channel), gathered with
/// the others of one batch of ARI events (see `Session::callers_arrived`).
pub(super) struct Arrival {
    pub(super) call_id: CallId,
    pub(super) channel_id: String,
    pub(super) caller_number: String,
    pub(super) caller_name: String,
}

/// Rows a view refresh re-read (committed after `position`) from which the step also reads the
/// ordered tail, to move `position` on.
const REFRESH_BACKLOG: usize = 16;

/// Why a command did not change anything.
#[derive(Debug)]
pub(super) enum Refusal<E> {
    /// A domain rule refused it (often: already done).
    Rule(E),
    /// The aggregate moved on since we looked (optimistic concurrency).
    Conflict,
}

/// An event read by aggregate ([`Session::restore`], [`Session::refresh_view`]): aggregate
/// type, id, sequence, payload, and its log position (`tx_id`, `position`).
type EventRow = (String, String, i64, serde_json::Value, i64, i64);

/// An [`EventRow`] as selected, with what opens its sealed personal fields: event type,
/// version and the subject's key ([`journal::shred`]).
type SealedEventRow = (
    String,
    String,
    i64,
    serde_json::Value,
    i64,
    i64,
    String,
    String,
    Option<Vec<u8>>,
);

/// A row of [`Session::refresh_view`]: a [`SealedEventRow`]'s columns with its event id and
/// metadata after the log position.
type SealedRefreshRow = (
    String,
    String,
    i64,
    serde_json::Value,
    i64,
    i64,
    Uuid,
    serde_json::Value,
    String,
    String,
    Option<Vec<u8>>,
);

/// The row with its sealed fields opened (erased when the key is gone).
fn opened(row: SealedEventRow) -> EventRow {
    let (
        aggregate_type,
        aggregate_id,
        sequence,
        mut payload,
        tx_id,
        position,
        event_type,
        event_version,
        key,
    ) = row;
    journal::shred::open(
        &aggregate_type,
        &aggregate_id,
        &event_type,
        &event_version,
        &mut payload,
        key.as_deref(),
    );
    (
        aggregate_type,
        aggregate_id,
        sequence,
        payload,
        tx_id,
        position,
    )
}

/// A Call event this session committed itself: its reaction runs as soon as the command
/// returns, without waiting for the log tail to return it (the tail may trail a commit by a
/// poll interval while another transaction holds the readers' watermark back).
pub(super) struct OwnCallEvent {
    call_id: CallId,
    sequence: i64,
    event: CallEvent,
    event_id: Uuid,
    metadata: Metadata,
}

pub(super) struct Session {
    pub store: EventStore,
    reader: LogReader,
    pub client: AriClient,
    pub config: TelephonyConfig,
    pub directory: Arc<dyn CustomerDirectory>,
    pub translator: Translator,
    pub view: View,
    /// What call control created for each call not cleaned up yet.
    pub media: HashMap<CallId, CallMedia>,
    /// Call control requests still running, per call.
    pub lanes: Lanes,
    /// Channels known to be gone (their end was reported or they are missing from Asterisk).
    pub gone: HashSet<String>,
    /// Rejection announcements playing: playback id → (channel, when to hang up anyway).
    pub announcements: HashMap<String, (String, DateTime<Utc>)>,
    /// Agent legs created and not dialled yet: a leg is dialled once its `StasisStart` has
    /// arrived (a dial before it is refused 409), or given up at the deadline.
    pub awaiting_stasis: HashMap<String, super::media::PendingDial>,
    /// The workers' login sessions (logged-out workers go Offline: `logout.rs`).
    pub logins: super::logins::Logins,
    /// Resynchronised with Asterisk since the last (re)connection: offers may be made.
    pub ready: bool,
    /// Endpoint technologies subscribed to on the current connection.
    pub subscribed_technologies: BTreeSet<String>,
    position: LogPosition,
    /// Call events committed by this session, not yet reacted to.
    own_events: VecDeque<OwnCallEvent>,
    /// Per call, the sequence of the last event whose reaction ran (or that needs none:
    /// everything before this leadership term). Reactions run once each, in sequence order,
    /// whether the event came from a command's result or from the log tail.
    reacted: HashMap<CallId, i64>,
    /// Something may have changed since the last routing round: a command committed (ours or,
    /// after a log notification, anyone's), a timer fired, or a resynchronisation ran. Most
    /// ARI events (ringing, device states, bridge membership, duplicates) change nothing and
    /// cost no database round trip.
    pub dirty: bool,
    /// Someone else may have appended since the log was last read (a notification that is not
    /// ours, the poll interval, a timer, a refused command, a reconnection). Routing after our
    /// own commands alone needs no read: the view has them from their results.
    read_log: bool,
    /// Appends this session made (each notifies the log channel once).
    own_appends: u64,
    /// The view was refreshed from the log during the current step (a batch of ARI events).
    pub view_fresh: bool,
    /// Where the events WebSocket stands, for `/readyz`.
    link: super::AriLink,
    /// The settings admins change: the default queue's are copied into `config.queue` at
    /// the start and on every change.
    queue_settings: tokio::sync::watch::Receiver<crate::settings::Snapshot>,
}

impl Session {
    /// Runs one leadership term until `cancel` fires or something fails that a fresh session
    /// (a new fold and resync) should handle.
    pub(super) async fn run(
        state: &TelephonyContext,
        config: &TelephonyConfig,
        directory: Arc<dyn CustomerDirectory>,
        cancel: CancellationToken,
    ) -> anyhow::Result<()> {
        let client = AriClient::new(&config.ari).context("invalid ARI settings")?;
        let credential_changes = match crate::auth::watch::CredentialChanges::start(
            &state.pool,
            cancel.clone(),
        )
        .await
        {
            Ok(changes) => Some(changes.subscribe()),
            Err(error) => {
                tracing::warn!(%error, "no credential change notifications: logouts are seen by the periodic scan only");
                None
            }
        };
        let mut session = Session {
            store: state.store.clone(),
            reader: state.reader.clone(),
            client,
            config: config.clone(),
            directory,
            translator: Translator::new(),
            view: View::default(),
            media: HashMap::new(),
            lanes: Lanes::default(),
            gone: HashSet::new(),
            announcements: HashMap::new(),
            awaiting_stasis: HashMap::new(),
            logins: super::logins::Logins::new(credential_changes),
            ready: false,
            subscribed_technologies: BTreeSet::new(),
            position: LogPosition::START,
            own_events: VecDeque::new(),
            reacted: HashMap::new(),
            dirty: true,
            read_log: true,
            own_appends: 0,
            view_fresh: false,
            link: state.ari_link.clone(),
            queue_settings: state.settings.subscribe(),
        };
        session.take_queue_settings();
        // What is live first, without side effects: what was done is done.
        session.restore().await?;
        let restored = session.link.last_step().restored.unwrap_or_default();
        tracing::info!(
            live_calls = restored.live_calls,
            calls_read = restored.calls,
            call_events_read = restored.call_events,
            workers = restored.workers,
            "telephony view restored from what is live"
        );
        // Workers who logged out while no leader looked go Offline now.
        session.check_logins(None).await?;
        let mut notifier = LogNotifier::start(&state.pool, cancel.clone()).await?;
        let stream_config = EventStreamConfig::new(&config.ari, config.app.clone());
        // The stream has its own token: on shutdown it is closed first, then what it already
        // received is handled before the leadership is given up.
        let stream_cancel = CancellationToken::new();
        let _stop_stream = stream_cancel.clone().drop_guard();
        let (mut stream, stream_task) = events::spawn(stream_config, stream_cancel.clone());
        // Log notifications and own appends when the log was last looked at on a notification:
        // a wake-up whose notifications are all our own appends needs no read (the view and
        // the reactions already have them).
        let mut seen = (notifier.notifications(), 0u64);
        let outcome = loop {
            // Settings changed while the last step ran: this step already uses them.
            if session.queue_settings.has_changed().unwrap_or(false) {
                session.take_queue_settings();
                session.dirty = true;
            }
            let deadline = session.next_deadline();
            session.view_fresh = false;
            let step: anyhow::Result<()> = tokio::select! {
                () = cancel.cancelled() => break session.drain(&mut stream, &stream_cancel).await,
                item = stream.recv() => match item {
                    None => break Err(anyhow::anyhow!("the ARI event stream ended")),
                    Some(item) => {
                        // What else has arrived is handled before routing once for all of it
                        // (under load, one routing round per event would fall behind), and
                        // callers arriving one after another are queued together.
                        let mut arrivals = Vec::new();
                        let mut step = session.on_stream_item(item, &mut arrivals).await;
                        for _ in 1..STREAM_BATCH {
                            if step.is_err() {
                                break;
                            }
                            let Ok(item) = stream.try_recv() else { break };
                            step = session.on_stream_item(item, &mut arrivals).await;
                        }
                        match step {
                            Ok(()) => session.callers_arrived(arrivals).await,
                            Err(error) => Err(error),
                        }
                    }
                },
                () = notifier.wait(LOG_POLL) => {
                    let notified = notifier.notifications().saturating_sub(seen.0);
                    let ours = session.own_appends.saturating_sub(seen.1);
                    // Nothing notified: the poll interval passed (a notification may have been
                    // lost, or an event held back by the watermark is readable now).
                    if notified == 0 || notified > ours {
                        session.dirty = true;
                        session.read_log = true;
                        seen = (notifier.notifications(), session.own_appends);
                    } else {
                        // All ours, or fewer than ours (appends the group commit gathered into
                        // one statement share one NOTIFY; one may still be on its way):
                        // accounted for, so that the next quiet poll reads the log (and the
                        // view's position reaches the head, see `AriLink::last_step`).
                        seen = (notifier.notifications(), session.own_appends);
                    }
                    Ok(())
                }
                worker = session.logins.changed() => session.check_logins(worker).await,
                changed = session.queue_settings.changed() => {
                    // An admin changed the queue's settings: the next offers, arrivals and
                    // timers use them, and a routing round runs with them at once.
                    if changed.is_ok() {
                        session.take_queue_settings();
                        session.dirty = true;
                    }
                    Ok(())
                }
                () = sleep_until(deadline) => {
                    // Max wait is enforced by routing.
                    session.dirty = true;
                    session.read_log = true;
                    session.on_timers().await
                }
            };
            if let Err(error) = step {
                break Err(error);
            }
            if let Err(error) = session.settle().await {
                break Err(error);
            }
            session
                .link
                .step_done(session.position, session.lanes.all_done());
        };
        stream_cancel.cancel();
        let _ = stream_task.await;
        session.lanes.join_all().await;
        outcome
    }

    /// Copies the default queue's settings in force into `config.queue`.
    fn take_queue_settings(&mut self) {
        let values = self
            .queue_settings
            .borrow_and_update()
            .queue(domain::settings::DEFAULT_QUEUE);
        let queue = &mut self.config.queue;
        queue.offer_timeout_secs = values.offer_timeout_secs;
        queue.wrap_up_secs = values.wrap_up_secs;
        queue.max_wait_secs = values.max_wait_secs;
        queue.max_queue_length = usize::try_from(values.max_queue_length).unwrap_or(usize::MAX);
        queue.reject_announcement = values.reject_announcement;
    }

    /// One item of the event stream; callers arriving are gathered in `arrivals` (see
    /// [`Self::on_event_gathering`]), handled before anything else.
    async fn on_stream_item(
        &mut self,
        item: StreamItem,
        arrivals: &mut Vec<Arrival>,
    ) -> anyhow::Result<()> {
        if !matches!(item, StreamItem::Event(_)) {
            self.callers_arrived(std::mem::take(arrivals)).await?;
        }
        match item {
            StreamItem::Connected => {
                self.link.set(super::AriLinkState::Connected);
                // Asterisk is compared with the log once our requests so far are answered.
                self.lanes.join_all().await;
                self.read_log = true;
                self.resync().await
            }
            StreamItem::Event(event) => self.on_event_gathering(event, arrivals).await,
            StreamItem::Disconnected { reason } => {
                tracing::warn!(%reason, "ARI events disconnected");
                self.link.set(super::AriLinkState::Disconnected);
                self.ready = false;
                Ok(())
            }
        }
    }

    /// Graceful end of the term: closes the socket, handles the events already received (a
    /// caller who arrived just now must not go unrecorded), and settles.
    async fn drain(
        &mut self,
        stream: &mut tokio::sync::mpsc::Receiver<StreamItem>,
        stream_cancel: &CancellationToken,
    ) -> anyhow::Result<()> {
        stream_cancel.cancel();
        self.ready = false;
        let deadline = tokio::time::Instant::now() + DRAIN_LIMIT;
        while let Ok(Some(item)) = tokio::time::timeout_at(deadline, stream.recv()).await {
            if let StreamItem::Event(event) = item {
                self.on_event(event).await?;
            }
        }
        self.settle().await
    }

    /// Reacts to what was committed, catches up with the log and re-applies routing until
    /// nothing more happens.
    async fn settle(&mut self) -> anyhow::Result<()> {
        for _ in 0..SETTLE_ROUNDS {
            self.react_to_own_events().await?;
            if !self.dirty {
                break;
            }
            self.dirty = false;
            let read_log = std::mem::take(&mut self.read_log);
            if read_log {
                self.catch_up().await?;
            }
            if self.ready {
                self.subscribe_endpoints().await;
            }
            self.route(read_log).await?;
        }
        Ok(())
    }

    /// Whether the reaction to event `sequence` of a call is due now (the next one of that
    /// call); marks it done.
    fn take_reaction(&mut self, call_id: CallId, sequence: i64) -> bool {
        let last = self.reacted.entry(call_id).or_insert(0);
        if sequence == *last + 1 {
            *last = sequence;
            true
        } else {
            false
        }
    }

    /// Runs the reactions to the Call events this session committed. One whose predecessor
    /// (committed by someone else) has not been reacted to yet is left to the log tail, which
    /// returns both in order.
    pub(super) async fn react_to_own_events(&mut self) -> anyhow::Result<()> {
        while let Some(own) = self.own_events.pop_front() {
            if self.take_reaction(own.call_id, own.sequence) {
                let metadata = Metadata::caused_by(Actor::System, &own.metadata, own.event_id);
                let span = tracing::info_span!("call_control", call_id = %own.call_id, sequence = own.sequence);
                self.react_to(own.call_id, own.event, metadata)
                    .instrument(span)
                    .await?;
            }
        }
        Ok(())
    }

    /// Reads the log to its readable head, folding every event into the view and running the
    /// call control each Call event calls for (once: see [`Self::take_reaction`]).
    pub(super) async fn catch_up(&mut self) -> anyhow::Result<()> {
        loop {
            let batch = self.reader.read_after(self.position, LOG_BATCH).await?;
            let Some(last) = batch.last() else {
                self.forget_ended_calls();
                return Ok(());
            };
            self.position = last.log_position;
            let mut decoded = Vec::with_capacity(batch.len());
            for stored in &batch {
                if let Some(event) = self.fold(stored).await? {
                    decoded.push((stored, event));
                }
            }
            for (stored, (call_id, event)) in decoded {
                if self.take_reaction(call_id, stored.sequence) {
                    self.react(stored, call_id, event).await?;
                }
            }
        }
    }

    /// Forgets the ended calls the ordered tail has passed (no read returns their events again,
    /// so neither the view nor the reactions need them), unless a reaction of ours is pending.
    fn forget_ended_calls(&mut self) {
        if !self.own_events.is_empty() {
            return;
        }
        for call_id in self.view.prune_finished(self.position) {
            self.reacted.remove(&call_id);
        }
    }

    /// Which of `calls` (none of them live in the view) were committed and have ended: the
    /// view remembers the recent ones, the log answers for the others (by primary key). A
    /// committed call the view does not hold live has ended: the view has every committed
    /// call that has not (restored at the start of the term, refreshed since).
    pub(super) async fn ended_calls(&self, calls: &[CallId]) -> anyhow::Result<HashSet<CallId>> {
        let mut ended: HashSet<CallId> = calls
            .iter()
            .copied()
            .filter(|call_id| self.view.remembers_ended(*call_id))
            .collect();
        let unknown: Vec<String> = calls
            .iter()
            .filter(|call_id| !ended.contains(call_id) && !self.view.is_live(**call_id))
            .map(ToString::to_string)
            .collect();
        if unknown.is_empty() {
            return Ok(ended);
        }
        ended.extend(committed_calls(self.store.pool(), &unknown).await?);
        Ok(ended)
    }

    /// Folds one stored event; returns it decoded when it is a Call event.
    async fn fold(&mut self, stored: &StoredEvent) -> anyhow::Result<Option<(CallId, CallEvent)>> {
        let aggregate_type = stored.aggregate_type.as_str();
        if aggregate_type == <Call as Aggregate>::TYPE {
            {
                let (Ok(call_id), Ok(event)) = (
                    stored.aggregate_id.parse::<CallId>(),
                    stored.decode::<CallEvent>(),
                ) else {
                    tracing::warn!(
                        position = stored.position(),
                        "undecodable call event skipped"
                    );
                    return Ok(None);
                };
                if self.view.apply_call(
                    call_id,
                    stored.sequence,
                    event.clone(),
                    Some(stored.log_position),
                ) == Folded::Gap
                {
                    self.reload_call(call_id).await?;
                }
                Ok(Some((call_id, event)))
            }
        } else if aggregate_type == <Worker as Aggregate>::TYPE {
            {
                let (Ok(worker_id), Ok(event)) = (
                    stored.aggregate_id.parse::<WorkerId>(),
                    stored.decode::<WorkerEvent>(),
                ) else {
                    tracing::warn!(
                        position = stored.position(),
                        "undecodable worker event skipped"
                    );
                    return Ok(None);
                };
                if self.view.apply_worker(worker_id, stored.sequence, event) == Folded::Gap {
                    self.reload_worker(worker_id).await?;
                }
                Ok(None)
            }
        } else {
            Ok(None)
        }
    }

    /// Folds every committed Call and Worker event into the view, including those the ordered
    /// log tail cannot return yet (a transaction elsewhere holds the watermark back), so that
    /// routing decides on the freshest state, and runs the reactions they call for: a call's
    /// events are committed in sequence order, so the next one of a call is never preceded by
    /// one still to come. The tail later finds them applied and reacted to (the view and
    /// [`Self::take_reaction`] go by sequence per aggregate).
    pub(super) async fn refresh_view(&mut self) -> anyhow::Result<()> {
        self.view_fresh = true;
        let rows: Vec<SealedRefreshRow> = sqlx::query_as(&format!(
            "SELECT aggregate_type, aggregate_id, sequence, payload, tx_id::text::bigint, \
                    position, event_id, metadata, event_type, event_version, {} \
                 FROM events \
                 WHERE (tx_id, position) > ($1::text::xid8, $2) \
                   AND aggregate_type IN ($3, $4) \
                 ORDER BY aggregate_type, aggregate_id, sequence",
            journal::shred::SUBJECT_KEY
        ))
        .bind(self.position.tx_id.to_string())
        .bind(self.position.position)
        .bind(<Call as Aggregate>::TYPE)
        .bind(<Worker as Aggregate>::TYPE)
        .fetch_all(self.store.pool())
        .await?;
        // Only the ordered tail moves `position`: when what this re-reads each time has grown
        // (our own appends do not make the loop read the log), the next round that runs reads
        // the tail too, so that the refreshes after it are short (under load they ran once per
        // caller). Not a round of its own: with the watermark held the tail cannot move, and
        // the refresh would ask again.
        if rows.len() >= REFRESH_BACKLOG {
            self.read_log = true;
        }
        for (
            aggregate_type,
            aggregate_id,
            sequence,
            payload,
            tx_id,
            position,
            event_id,
            metadata,
            event_type,
            event_version,
            key,
        ) in rows
        {
            let row = opened((
                aggregate_type,
                aggregate_id,
                sequence,
                payload,
                tx_id,
                position,
                event_type,
                event_version,
                key,
            ));
            let Some((call_id, event)) = self.fold_row(row, false).await? else {
                continue;
            };
            if self.take_reaction(call_id, sequence) {
                let metadata = match serde_json::from_value::<Metadata>(metadata) {
                    Ok(cause) => Metadata::caused_by(Actor::System, &cause, event_id),
                    Err(_) => Metadata::new(Actor::System),
                };
                self.react_to(call_id, event, metadata).await?;
            }
        }
        Ok(())
    }

    /// Restores the view at the start of a term from what is live, without side effects (what
    /// was done is done), never from every call ever made:
    ///
    /// - the calls: those the `calls` read model has not ended, plus every call with an event
    ///   after that read model's checkpoint (read in the same statement, so the two agree),
    ///   each folded from its own events (by primary key). "Every event after the checkpoint"
    ///   includes what the ordered log tail cannot return yet (one long write transaction
    ///   anywhere in the cluster holds the readers' watermark back, and a view without the
    ///   calls committed since would leave them live, their callers long gone); the tail then
    ///   starts at the readable head and skips what the view already has. Without a `calls`
    ///   read model (never projected) that is every call, as before.
    /// - the workers: those of the `workers` read model plus any with an event after its
    ///   checkpoint, each loaded from the store (its cache and snapshots); their answered calls
    ///   today and their last `WentAvailable` are looked up per worker, newest first.
    ///
    /// What it read is published in [`super::AriLink::last_restore`].
    async fn restore(&mut self) -> anyhow::Result<()> {
        let pool = self.store.pool().clone();
        let call_type = <Call as Aggregate>::TYPE;
        let worker_type = <Worker as Aggregate>::TYPE;
        let (calls_checkpoint, mut call_ids) = live_since_checkpoint(
            &pool,
            "calls",
            "SELECT call_id::text FROM calls WHERE ended_at IS NULL",
        )
        .await?;
        let (workers_checkpoint, mut worker_ids) =
            live_since_checkpoint(&pool, "workers", "SELECT worker_id::text FROM workers").await?;
        // Read after the checkpoints: every event up to the head is then either in the read
        // models or after their checkpoints.
        // (Never after the head: the tail starts there, and must find every call it returns
        // already in the view or new.)
        let head = self.reader.head().await?;
        call_ids.extend(touched_since(&pool, call_type, calls_checkpoint.min(head)).await?);
        worker_ids.extend(touched_since(&pool, worker_type, workers_checkpoint.min(head)).await?);
        call_ids.sort();
        call_ids.dedup();
        worker_ids.sort();
        worker_ids.dedup();

        let mut call_events = 0u64;
        let sql = format!(
            "SELECT aggregate_type, aggregate_id, sequence, payload, tx_id::text::bigint, position, \
                    event_type, event_version, {} \
             FROM events WHERE aggregate_type = $1 AND aggregate_id = ANY($2) \
             ORDER BY aggregate_id, sequence",
            journal::shred::SUBJECT_KEY
        );
        let mut rows = sqlx::query_as::<_, SealedEventRow>(&sql)
            .bind(call_type)
            .bind(&call_ids)
            .fetch(&pool);
        let mut folded = Vec::new();
        while let Some(row) = rows.try_next().await? {
            call_events += 1;
            folded.push(opened(row));
        }
        drop(rows);
        for row in folded {
            self.fold_row(row, true).await?;
        }

        let today = Utc::now();
        // Calls answered today as the `workers` read model counted them up to its row's
        // version: only the worker's later events are read (not a busy agent's whole day).
        let counted: HashMap<String, Counted> =
            sqlx::query_as::<_, (String, i64, Option<NaiveDate>, i32)>(
                "SELECT worker_id::text, version, calls_day, calls_today FROM workers",
            )
            .fetch_all(&pool)
            .await?
            .into_iter()
            .map(|(worker_id, version, day, calls)| {
                (
                    worker_id,
                    Counted {
                        version,
                        day,
                        calls,
                    },
                )
            })
            .collect();
        let mut workers = 0usize;
        for id in &worker_ids {
            let Ok(worker_id) = id.parse::<WorkerId>() else {
                continue;
            };
            self.reload_worker(worker_id).await?;
            let (calls_today, went_available) =
                worker_history(&pool, worker_id, today, counted.get(id).copied()).await?;
            self.view.set_worker_history(
                worker_id,
                today.date_naive(),
                calls_today,
                went_available,
            );
            workers += 1;
        }
        self.position = self.position.max(head);
        self.link.restored(super::Restored {
            calls: call_ids.len(),
            call_events,
            live_calls: self.view.live_calls().len(),
            workers,
        });
        Ok(())
    }

    /// Folds one Call or Worker event read by aggregate; `done`: its reaction is not to run.
    /// Returns a Call event decoded.
    async fn fold_row(
        &mut self,
        row: EventRow,
        done: bool,
    ) -> anyhow::Result<Option<(CallId, CallEvent)>> {
        let (aggregate_type, aggregate_id, sequence, payload, tx_id, position) = row;
        let at = LogPosition { tx_id, position };
        if aggregate_type == <Call as Aggregate>::TYPE {
            let (Ok(call_id), Ok(event)) = (
                aggregate_id.parse::<CallId>(),
                serde_json::from_value::<CallEvent>(payload),
            ) else {
                return Ok(None);
            };
            if self
                .view
                .apply_call(call_id, sequence, event.clone(), Some(at))
                == Folded::Gap
            {
                self.reload_call(call_id).await?;
            }
            if done {
                let version = self
                    .view
                    .call(call_id)
                    .map_or(sequence, |call| call.version);
                let last = self.reacted.entry(call_id).or_insert(0);
                *last = (*last).max(version);
            }
            Ok(Some((call_id, event)))
        } else {
            let (Ok(worker_id), Ok(event)) = (
                aggregate_id.parse::<WorkerId>(),
                serde_json::from_value::<WorkerEvent>(payload),
            ) else {
                return Ok(None);
            };
            if self.view.apply_worker(worker_id, sequence, event) == Folded::Gap {
                self.reload_worker(worker_id).await?;
            }
            Ok(None)
        }
    }

    pub(super) async fn reload_call(&mut self, call_id: CallId) -> anyhow::Result<()> {
        let (call, version) = self
            .store
            .load_aggregate::<Call>(&call_id.to_string())
            .await?;
        // An ended call is remembered until the tail passes its last event.
        let at = if call.is_terminal() {
            last_position(
                self.store.pool(),
                <Call as Aggregate>::TYPE,
                &call_id.to_string(),
            )
            .await?
        } else {
            None
        };
        self.view.set_call(call_id, call, version, at);
        Ok(())
    }

    pub(super) async fn reload_worker(&mut self, worker_id: WorkerId) -> anyhow::Result<()> {
        let (worker, version) = self
            .store
            .load_aggregate::<Worker>(&worker_id.to_string())
            .await?;
        self.view.set_worker(worker_id, worker, version);
        Ok(())
    }

    /// Runs a Call command and takes its result into the view. `Err` only when the store
    /// failed; a refusal leaves the view reloaded from the store.
    pub(super) async fn call_command(
        &mut self,
        call_id: CallId,
        command: CallCommand,
        metadata: &Metadata,
        expected_version: Option<i64>,
    ) -> anyhow::Result<Result<Committed<Call>, Refusal<CallError>>> {
        let result = self
            .store
            .execute::<Call>(
                &call_id.to_string(),
                command,
                &(),
                metadata,
                expected_version,
            )
            .await;
        self.took_call_command(call_id, metadata, result).await
    }

    /// Takes the result of a Call command into the view (see [`Self::call_command`]).
    pub(super) async fn took_call_command(
        &mut self,
        call_id: CallId,
        metadata: &Metadata,
        result: Result<Committed<Call>, CommandError<CallError>>,
    ) -> anyhow::Result<Result<Committed<Call>, Refusal<CallError>>> {
        self.dirty = true;
        match refusal(result)? {
            Ok(committed) => {
                self.own_appends += u64::from(!committed.events.is_empty());
                self.took_call(call_id, &committed, metadata);
                Ok(Ok(committed))
            }
            Err(refused) => {
                self.read_log = true;
                self.reload_call(call_id).await?;
                Ok(Err(refused))
            }
        }
    }

    /// Runs a Worker command and takes its result into the view (see [`Self::call_command`]).
    pub(super) async fn worker_command(
        &mut self,
        worker_id: WorkerId,
        command: WorkerCommand,
        metadata: &Metadata,
        expected_version: Option<i64>,
    ) -> anyhow::Result<Result<Committed<Worker>, Refusal<WorkerError>>> {
        let result = self
            .store
            .execute::<Worker>(
                &worker_id.to_string(),
                command,
                &(),
                metadata,
                expected_version,
            )
            .await;
        self.dirty = true;
        match refusal(result)? {
            Ok(committed) => {
                self.own_appends += u64::from(!committed.events.is_empty());
                self.took_worker(worker_id, &committed);
                Ok(Ok(committed))
            }
            Err(refused) => {
                self.read_log = true;
                self.reload_worker(worker_id).await?;
                Ok(Err(refused))
            }
        }
    }
}

impl Session {
    /// Takes the result of [`execute_reserve_and_offer`] (an agent reserved and offered a call
    /// in one commit, both or neither) into the view. A refusal (either command, or either
    /// aggregate moved on) leaves both reloaded for the next round.
    pub(super) async fn took_reserve_and_offer(
        &mut self,
        worker_id: WorkerId,
        call_id: CallId,
        metadata: &Metadata,
        result: Result<(Committed<Worker>, Committed<Call>), PairError<WorkerError, CallError>>,
    ) -> anyhow::Result<Result<(), PairError<WorkerError, CallError>>> {
        self.dirty = true;
        match result {
            Ok((worker, call)) => {
                self.own_appends += 1;
                self.took_worker(worker_id, &worker);
                self.took_call(call_id, &call, metadata);
                Ok(Ok(()))
            }
            Err(PairError::Store(error))
            | Err(PairError::First(CommandError::Store(error)))
            | Err(PairError::Second(CommandError::Store(error))) => Err(error.into()),
            Err(refused) => {
                self.read_log = true;
                self.reload_worker(worker_id).await?;
                self.reload_call(call_id).await?;
                Ok(Err(refused))
            }
        }
    }

    /// Takes a committed Call command into the view, and queues the reactions to its events.
    fn took_call(&mut self, call_id: CallId, committed: &Committed<Call>, metadata: &Metadata) {
        let first = committed.version - committed.events.len() as i64 + 1;
        let mut in_step = true;
        for (event, sequence) in committed.events.iter().cloned().zip(first..) {
            let at = committed
                .appended
                .get((sequence - first) as usize)
                .map(|appended| appended.log_position);
            if in_step && self.view.apply_call(call_id, sequence, event, at) == Folded::Gap {
                in_step = false;
            }
        }
        if !in_step {
            self.view.set_call(
                call_id,
                committed.aggregate.clone(),
                committed.version,
                committed.last_position(),
            );
        }
        for ((event, sequence), appended) in committed
            .events
            .iter()
            .cloned()
            .zip(first..)
            .zip(&committed.appended)
        {
            self.own_events.push_back(OwnCallEvent {
                call_id,
                sequence,
                event,
                event_id: appended.event_id,
                metadata: metadata.clone(),
            });
        }
    }

    /// Takes a committed Worker command into the view.
    fn took_worker(&mut self, worker_id: WorkerId, committed: &Committed<Worker>) {
        let first = committed.version - committed.events.len() as i64 + 1;
        let mut in_step = true;
        for (event, sequence) in committed.events.iter().cloned().zip(first..) {
            if self.view.apply_worker(worker_id, sequence, event) == Folded::Gap {
                in_step = false;
                break;
            }
        }
        if !in_step {
            self.view
                .set_worker(worker_id, committed.aggregate.clone(), committed.version);
        }
    }
}

/// Splits a command's outcome: store failures are errors, refusals a value.
fn refusal<A: Aggregate>(
    result: Result<Committed<A>, CommandError<A::Error>>,
) -> anyhow::Result<Result<Committed<A>, Refusal<A::Error>>> {
    match result {
        Ok(committed) => Ok(Ok(committed)),
        Err(CommandError::Rejected(error)) => Ok(Err(Refusal::Rule(error))),
        Err(CommandError::Conflict { .. }) => Ok(Err(Refusal::Conflict)),
        Err(CommandError::Store(error)) => Err(error.into()),
    }
}

/// Sleeps until `deadline` (UTC), or for an hour without one.
async fn sleep_until(deadline: Option<DateTime<Utc>>) {
    let wait = match deadline {
        Some(deadline) => (deadline - Utc::now())
            .to_std()
            .unwrap_or(Duration::ZERO)
            // Wake just after the deadline: the domain checks `at >= until`.
            .saturating_add(Duration::from_millis(2)),
        None => Duration::from_secs(3600),
    };
    tokio::time::sleep(wait).await;
}

/// The ids a read model holds (`ids`, one text column) and its checkpoint, read in one
/// statement (one snapshot: the projector moves its checkpoint in the transaction that
/// applies the events). `START` and no ids when the read model was never projected.
async fn live_since_checkpoint(
    pool: &sqlx::PgPool,
    projection: &str,
    ids: &str,
) -> Result<(LogPosition, Vec<String>), sqlx::Error> {
    let (tx_id, position, ids): (Option<i64>, Option<i64>, Vec<String>) = sqlx::query_as(&format!(
        "SELECT checkpoint.tx_id::text::bigint, checkpoint.position, ARRAY({ids}) \
         FROM (SELECT 1) one LEFT JOIN checkpoints checkpoint ON checkpoint.name = $1"
    ))
    .bind(projection)
    .fetch_one(pool)
    .await?;
    match (tx_id, position) {
        (Some(tx_id), Some(position)) if position > 0 => Ok((LogPosition { tx_id, position }, ids)),
        _ => Ok((LogPosition::START, Vec::new())),
    }
}

/// The Worker `Offer` and the Call `Offer` in one commit, each at the version given; touches
/// no session state, so that the offers of one routing round can be committed together.
pub(super) async fn execute_reserve_and_offer(
    store: &EventStore,
    (worker_id, reserve, worker_version): (WorkerId, WorkerCommand, i64),
    (call_id, offer, call_version): (CallId, CallCommand, i64),
    metadata: &Metadata,
) -> Result<(Committed<Worker>, Committed<Call>), PairError<WorkerError, CallError>> {
    let worker_key = worker_id.to_string();
    let call_key = call_id.to_string();
    store
        .execute_pair::<Worker, Call>(
            PairCommand {
                aggregate_id: &worker_key,
                command: reserve,
                services: &(),
                expected_version: worker_version,
            },
            PairCommand {
                aggregate_id: &call_key,
                command: offer,
                services: &(),
                expected_version: call_version,
            },
            metadata,
        )
        .await
}

/// Which of the calls `ids` have been committed (their first event is in the log), by primary
/// key.
pub(super) async fn committed_calls(
    pool: &sqlx::PgPool,
    ids: &[String],
) -> Result<HashSet<CallId>, sqlx::Error> {
    let found: Vec<String> = sqlx::query_scalar(
        "SELECT aggregate_id FROM events \
         WHERE aggregate_type = $1 AND aggregate_id = ANY($2) AND sequence = 1",
    )
    .bind(<Call as Aggregate>::TYPE)
    .bind(ids)
    .fetch_all(pool)
    .await?;
    Ok(found.iter().filter_map(|id| id.parse().ok()).collect())
}

/// The aggregates of `aggregate_type` with an event after `after`, committed now (above the
/// readers' watermark too).
async fn touched_since(
    pool: &sqlx::PgPool,
    aggregate_type: &str,
    after: LogPosition,
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT DISTINCT aggregate_id FROM events \
         WHERE (tx_id, position) > ($1::text::xid8, $2) AND aggregate_type = $3",
    )
    .bind(after.tx_id.to_string())
    .bind(after.position)
    .bind(aggregate_type)
    .fetch_all(pool)
    .await
}

/// The log position of an aggregate's last event.
async fn last_position(
    pool: &sqlx::PgPool,
    aggregate_type: &str,
    aggregate_id: &str,
) -> Result<Option<LogPosition>, sqlx::Error> {
    let row: Option<(i64, i64)> = sqlx::query_as(
        "SELECT tx_id::text::bigint, position FROM events \
         WHERE aggregate_type = $1 AND aggregate_id = $2 ORDER BY sequence DESC LIMIT 1",
    )
    .bind(aggregate_type)
    .bind(aggregate_id)
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|(tx_id, position)| LogPosition { tx_id, position }))
}

/// Events of a worker read per page, newest first, when counting their calls today.
const HISTORY_PAGE: i64 = 256;

/// A worker's answered calls as the `workers` read model counted them, up to its row's version.
#[derive(Clone, Copy, Debug)]
struct Counted {
    version: i64,
    day: Option<NaiveDate>,
    calls: i32,
}

/// A worker's answered calls on `now`'s (UTC) day and when they last went Available by choice:
/// the read model's count (`counted`, when it has the worker) plus the worker's events after
/// it, read newest first and only back to today; and the last `WorkerWentAvailable`. Not their
/// history.
async fn worker_history(
    pool: &sqlx::PgPool,
    worker_id: WorkerId,
    now: DateTime<Utc>,
    counted: Option<Counted>,
) -> Result<(u32, Option<DateTime<Utc>>), sqlx::Error> {
    let worker_type = <Worker as Aggregate>::TYPE;
    let id = worker_id.to_string();
    let today = now.date_naive();
    // `recorded_at` follows the events' own times closely; an hour of margin before midnight.
    let stop_before = today
        .and_hms_opt(0, 0, 0)
        .map(|midnight| midnight.and_utc() - chrono::TimeDelta::hours(1))
        .unwrap_or(now);
    let (mut calls, floor) = match counted {
        Some(counted) => (
            if counted.day == Some(today) {
                u32::try_from(counted.calls).unwrap_or(0)
            } else {
                0
            },
            counted.version,
        ),
        None => (0, 0),
    };
    let mut before = i64::MAX;
    loop {
        let page: Vec<(i64, String, serde_json::Value, DateTime<Utc>)> = sqlx::query_as(
            "SELECT sequence, event_type, payload, recorded_at FROM events \
             WHERE aggregate_type = $1 AND aggregate_id = $2 AND sequence < $3 \
               AND sequence > $5 \
             ORDER BY sequence DESC LIMIT $4",
        )
        .bind(worker_type)
        .bind(&id)
        .bind(before)
        .bind(HISTORY_PAGE)
        .bind(floor)
        .fetch_all(pool)
        .await?;
        let done = (page.len() as i64) < HISTORY_PAGE
            || page
                .last()
                .is_some_and(|(_, _, _, recorded_at)| *recorded_at < stop_before);
        for (sequence, event_type, payload, _) in page {
            before = sequence;
            if event_type != "WorkerOfferAnswered" {
                continue;
            }
            if let Ok(WorkerEvent::OfferAnswered { at, .. }) =
                serde_json::from_value::<WorkerEvent>(payload)
            {
                if at.date_naive() == today {
                    calls += 1;
                }
            }
        }
        if done {
            break;
        }
    }
    let went_available: Option<serde_json::Value> = sqlx::query_scalar(
        "SELECT payload FROM events \
         WHERE aggregate_type = $1 AND aggregate_id = $2 AND event_type = 'WorkerWentAvailable' \
         ORDER BY sequence DESC LIMIT 1",
    )
    .bind(worker_type)
    .bind(&id)
    .fetch_optional(pool)
    .await?;
    let went_available = went_available.and_then(|payload| {
        match serde_json::from_value::<WorkerEvent>(payload).ok()? {
            WorkerEvent::WentAvailable { at, .. } => Some(at),
            _ => None,
        }
    });
    Ok((calls, went_available))
}
