//! What every request handler shares.

use std::sync::Arc;

use journal::{EventStore, LogNotifier, LogReader};
use projections::projector::ProjectorHandle;
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

use crate::auth::AuthService;

use crate::telephony::QueueConfig;
use crate::telephony::TelephonyConfig;

#[derive(Clone)]
pub struct AppState {
    pub pool: PgPool,
    pub store: EventStore,
    pub reader: LogReader,
    /// The call queue's settings.
    pub queue: QueueConfig,
    /// How to reach Asterisk; `None`: no telephony service.
    pub telephony: Option<TelephonyConfig>,
    /// Keys, settings and throttles of authentication.
    pub auth: Arc<AuthService>,
    /// Wakes live readers (subscriptions) when events are committed.
    pub notifier: LogNotifier,
    /// Cancelled when the server shuts down: live streams end.
    pub shutdown: CancellationToken,
    /// Backup monitoring: clock, limits, upload slots.
    pub backup: crate::backup::BackupContext,
    /// The mail services' settings and the sender's wake-up.
    pub mail: crate::mail::MailContext,
    /// Waits for read models to reach a log position (read-your-writes).
    pub projector: ProjectorHandle,
    /// Whether this server's ARI events WebSocket is connected (for `/readyz`).
    pub ari_link: crate::telephony::AriLink,
    /// Counters for `/metrics`.
    pub metrics: Arc<crate::transport::counters::Metrics>,
    /// Request deadlines: the due-soon window of new requests, the alerts manager.
    pub requests: crate::requests::RequestConfig,
    /// Workers whose credentials changed (open WebSocket connections check theirs again).
    pub credentials: crate::auth::watch::CredentialChanges,
    /// The HTTP edge's settings (timeouts, WebSocket caps, GraphiQL, introspection, /metrics).
    pub http: Arc<crate::transport::HttpConfig>,
    /// Tasks a request started (a projection rebuild): stopped and joined on shutdown.
    pub tasks: crate::platform::shutdown::Tasks,
    /// The settings admins change (queues, request allowances, KPI threshold), kept up to
    /// date from the log.
    pub settings: crate::settings::LiveSettings,
}

impl AppState {
    /// The handles and settings the backup capability takes.
    pub fn backup_state(&self) -> crate::backup::BackupState {
        crate::backup::BackupState {
            pool: self.pool.clone(),
            store: self.store.clone(),
            reader: self.reader.clone(),
            projector: self.projector.clone(),
            requests: self.requests.clone(),
            backup: self.backup.clone(),
            settings: self.settings.clone(),
        }
    }

    pub fn new(pool: PgPool, auth: AuthService) -> Self {
        Self {
            store: EventStore::new(pool.clone()).with_upcasters(journal::upcast::upcasters()),
            reader: LogReader::new(pool.clone()),
            backup: crate::backup::BackupContext::default(),
            mail: crate::mail::MailContext::default(),
            projector: ProjectorHandle::new(pool.clone()),
            pool,
            queue: QueueConfig::default(),
            telephony: None,
            auth: Arc::new(auth),
            notifier: LogNotifier::disconnected(),
            shutdown: CancellationToken::new(),
            ari_link: crate::telephony::AriLink::default(),
            metrics: Arc::new(crate::transport::counters::Metrics::default()),
            requests: crate::requests::RequestConfig::default(),
            credentials: crate::auth::watch::CredentialChanges::default(),
            http: Arc::default(),
            tasks: crate::platform::shutdown::Tasks::default(),
            settings: crate::settings::LiveSettings::default(),
        }
    }

    /// The queue, telephony, request and HTTP settings.
    pub fn configured(
        mut self,
        telephony: Option<TelephonyConfig>,
        queue: QueueConfig,
        requests: crate::requests::RequestConfig,
        http: crate::transport::HttpConfig,
    ) -> Self {
        self.queue = queue;
        self.telephony = telephony;
        self.requests = requests;
        self.http = Arc::new(http);
        self
    }

    /// The backup and mail contexts.
    pub fn with_backup(
        mut self,
        backup: crate::backup::BackupContext,
        mail: crate::mail::MailSettings,
    ) -> Self {
        self.backup = backup;
        self.mail = crate::mail::MailContext {
            settings: mail,
            wakeup: std::sync::Arc::default(),
        };
        self
    }
}
