//! Settings that admins change without a restart (issue 15 §4; PRODUCT §1, §4.2, §5, §8): the
//! queues' settings, the request due allowances with the due-soon cap, and the KPIs'
//! service-level threshold T. They are the domain's `QueueSettings` and `CenterSettings`
//! aggregates, changed by the admin mutations and stored as events; the environment gives the
//! initial values (nothing is written at start): the effective value is the last event's,
//! else the environment's.
//!
//! Every instance keeps the effective values in one [`LiveSettings`] (a `watch` channel), fed
//! from the log by [`follow`]: woken by the log's notifications (and a poll), it asks for the
//! settings aggregates' versions (a few rows of the `events` primary key), and folds again
//! only an aggregate whose version moved. The events of one aggregate commit in sequence
//! order, so reading by aggregate never misses one, even above the readers' watermark. The
//! instance that ran a mutation records its result at once (read-your-writes). Readers: the
//! telephony session (each step takes the default queue's values; a change wakes it for a
//! routing round), the opening of requests (the policy stored in each new request), and
//! `kpis` (T).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use clap::Args;
use cqrs_es::Aggregate;
use domain::settings::{
    CenterSettings, QueueSettings, QueueValues, CENTER_SETTINGS_ID, DEFAULT_QUEUE,
};
use domain::sla::SlaPolicy;
use journal::{EventStore, LogNotifier, StoreError};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

/// The KPIs' settings read from the environment (the initial value of T).
#[derive(Args, Clone, Debug, PartialEq, Eq)]
pub struct KpiConfig {
    /// The service-level threshold T of the KPIs, in seconds: a call counts as answered in
    /// time when answered within T (1..=3600). Initial value; admins change it with
    /// `updateServiceLevelThreshold`.
    #[arg(long, env = "SAVECORP_SERVICE_LEVEL_THRESHOLD_SECS", default_value_t = 20,
          value_parser = clap::value_parser!(u32).range(1..=3600))]
    pub service_level_threshold_secs: u32,
}

impl Default for KpiConfig {
    fn default() -> Self {
        Self {
            service_level_threshold_secs: 20,
        }
    }
}

/// The values in force before any admin change: the environment's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InitialSettings {
    /// Of every queue (today: the default one).
    pub queue: QueueValues,
    /// Given to new requests.
    pub request_policy: SlaPolicy,
    pub service_level_threshold_secs: u32,
}

impl Default for InitialSettings {
    fn default() -> Self {
        Self {
            queue: QueueValues {
                offer_timeout_secs: 20,
                wrap_up_secs: 10,
                max_wait_secs: 600,
                max_queue_length: 100,
                reject_announcement: None,
            },
            request_policy: SlaPolicy::default(),
            service_level_threshold_secs: KpiConfig::default().service_level_threshold_secs,
        }
    }
}

/// A settings aggregate as folded, with its version (0: never changed).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Versioned<A> {
    pub aggregate: A,
    pub version: i64,
}

/// The settings as one instance knows them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Snapshot {
    pub initial: Arc<InitialSettings>,
    /// The queues an admin changed, by queue id.
    pub queues: BTreeMap<String, Versioned<QueueSettings>>,
    pub center: Versioned<CenterSettings>,
}

impl Snapshot {
    /// A queue's effective settings.
    pub fn queue(&self, queue_id: &str) -> QueueValues {
        self.queues
            .get(queue_id)
            .and_then(|stored| stored.aggregate.values().cloned())
            .unwrap_or_else(|| self.initial.queue.clone())
    }

    /// The ids of the queues: the default one and any other an admin set.
    pub fn queue_ids(&self) -> Vec<String> {
        let mut ids = vec![DEFAULT_QUEUE.to_owned()];
        ids.extend(
            self.queues
                .keys()
                .filter(|id| id.as_str() != DEFAULT_QUEUE)
                .cloned(),
        );
        ids
    }

    /// The policy given to requests opened now.
    pub fn request_policy(&self) -> SlaPolicy {
        self.center
            .aggregate
            .request_policy()
            .copied()
            .unwrap_or(self.initial.request_policy)
    }

    /// The KPIs' service-level threshold T, in seconds.
    pub fn service_level_threshold_secs(&self) -> u32 {
        self.center
            .aggregate
            .service_level_threshold_secs()
            .unwrap_or(self.initial.service_level_threshold_secs)
    }
}

/// The effective settings of this instance, shared by every part that reads them.
#[derive(Clone)]
pub struct LiveSettings {
    sender: Arc<watch::Sender<Snapshot>>,
}

impl Default for LiveSettings {
    fn default() -> Self {
        Self::new(InitialSettings::default())
    }
}

impl std::fmt::Debug for LiveSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("LiveSettings")
            .field(&*self.sender.borrow())
            .finish()
    }
}

impl LiveSettings {
    /// Settings with these initial values and no admin change known yet.
    pub fn new(initial: InitialSettings) -> Self {
        let (sender, _) = watch::channel(Snapshot {
            initial: Arc::new(initial),
            queues: BTreeMap::new(),
            center: Versioned::default(),
        });
        Self {
            sender: Arc::new(sender),
        }
    }

    /// The settings now.
    pub fn snapshot(&self) -> Snapshot {
        self.sender.borrow().clone()
    }

    /// A receiver told of every change.
    pub fn subscribe(&self) -> watch::Receiver<Snapshot> {
        self.sender.subscribe()
    }

    /// Records a queue's settings at `version` (a newer one known is kept).
    pub fn record_queue(&self, queue_id: &str, aggregate: QueueSettings, version: i64) {
        self.sender.send_if_modified(|snapshot| {
            let known = snapshot
                .queues
                .get(queue_id)
                .map_or(0, |stored| stored.version);
            if version <= known {
                return false;
            }
            snapshot
                .queues
                .insert(queue_id.to_owned(), Versioned { aggregate, version });
            true
        });
    }

    /// Records the center's settings at `version` (a newer one known is kept).
    pub fn record_center(&self, aggregate: CenterSettings, version: i64) {
        self.sender.send_if_modified(|snapshot| {
            if version <= snapshot.center.version {
                return false;
            }
            snapshot.center = Versioned { aggregate, version };
            true
        });
    }

    /// Reads the settings aggregates' versions and folds again those that moved.
    pub async fn refresh(&self, store: &EventStore) -> Result<(), StoreError> {
        let versions: Vec<(String, String, i64)> = sqlx::query_as(
            "SELECT aggregate_type, aggregate_id, max(sequence) FROM events \
             WHERE aggregate_type = ANY($1) GROUP BY aggregate_type, aggregate_id",
        )
        .bind([QueueSettings::TYPE, CenterSettings::TYPE])
        .fetch_all(store.pool())
        .await
        .map_err(StoreError::Database)?;
        for (aggregate_type, aggregate_id, version) in versions {
            let snapshot = self.sender.borrow().clone();
            if aggregate_type == QueueSettings::TYPE {
                let known = snapshot.queues.get(&aggregate_id).map_or(0, |s| s.version);
                if version > known {
                    let (aggregate, version) = fold::<QueueSettings>(store, &aggregate_id).await?;
                    self.record_queue(&aggregate_id, aggregate, version);
                }
            } else if aggregate_id == CENTER_SETTINGS_ID && version > snapshot.center.version {
                let (aggregate, version) = fold::<CenterSettings>(store, &aggregate_id).await?;
                self.record_center(aggregate, version);
            }
        }
        Ok(())
    }
}

/// One settings aggregate folded from the log, with its version.
pub async fn fold<A: Aggregate>(
    store: &EventStore,
    aggregate_id: &str,
) -> Result<(A, i64), StoreError> {
    let mut aggregate = A::default();
    let mut version = 0;
    for stored in store.load(A::TYPE, aggregate_id).await? {
        let event: A::Event = stored.decode().map_err(|source| StoreError::Corrupt {
            event_type: stored.event_type.clone(),
            event_version: stored.event_version.clone(),
            source,
        })?;
        aggregate.apply(event);
        version = stored.sequence;
    }
    Ok((aggregate, version))
}

/// Longest [`follow`] goes without looking (a notification may be lost).
pub const FOLLOW_POLL: Duration = Duration::from_secs(1);
/// Shortest time between two looks of [`follow`], so a busy log costs at most a few small
/// queries a second.
const FOLLOW_SPACING: Duration = Duration::from_millis(100);

/// Keeps `live` up to date with the log until `shutdown` (every instance runs one).
pub async fn follow(
    live: LiveSettings,
    store: EventStore,
    mut notifier: LogNotifier,
    shutdown: CancellationToken,
) {
    loop {
        if let Err(error) = live.refresh(&store).await {
            tracing::warn!(%error, "settings could not be read from the log; retrying");
        }
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = notifier.wait(FOLLOW_POLL) => {}
        }
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(FOLLOW_SPACING) => {}
        }
    }
}
