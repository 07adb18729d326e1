//! The background services the server runs beside the HTTP surface (projector, dispatcher,
//! watchdog, mail outbox, request deadline alerts, …). Each is started here with the shared state and the shutdown
//! token, and awaited on shutdown.

use std::time::Duration;

use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::transport::state::AppState;

/// The running services.
pub struct Services {
    tasks: JoinSet<()>,
}

impl Services {
    /// Waits for every service to finish (they stop when the shutdown token is cancelled).
    pub async fn join(mut self) {
        while let Some(result) = self.tasks.join_next().await {
            if let Err(error) = result {
                tracing::error!(%error, "a background service panicked");
            }
        }
    }
}

/// Starts every background service.
pub async fn start(state: &AppState, shutdown: &CancellationToken) -> anyhow::Result<Services> {
    let mut tasks = JoinSet::new();
    // The settings admins changed, before anything reads them; then followed on the log.
    if let Err(error) = state.settings.refresh(&state.store).await {
        tracing::warn!(%error, "settings not read at start; the follower retries");
    }
    tasks.spawn(projections::projector::serve(
        state.store.clone(),
        state.projector.clone(),
        shutdown.clone(),
    ));
    tasks.spawn(crate::telephony::run(
        crate::telephony::TelephonyContext {
            pool: state.pool.clone(),
            store: state.store.clone(),
            reader: state.reader.clone(),
            config: state.telephony.clone(),
            default_country_code: state.auth.config.default_country_code.clone(),
            ari_link: state.ari_link.clone(),
            settings: state.settings.clone(),
        },
        shutdown.clone(),
    ));
    let notifier = journal::LogNotifier::start(&state.pool, shutdown.clone()).await?;
    tasks.spawn(crate::settings::follow(
        state.settings.clone(),
        state.store.clone(),
        notifier.clone(),
        shutdown.clone(),
    ));
    tasks.spawn(crate::backup::watchdog::run(
        state.backup_state(),
        notifier.clone(),
        shutdown.clone(),
    ));
    tasks.spawn(crate::mail::outbox::run(
        crate::mail::outbox::Feeder {
            pool: state.pool.clone(),
            reader: state.reader.clone(),
            mail: state.mail.clone(),
            leader_retry: Duration::from_millis(state.backup.config.leader_retry_ms),
        },
        notifier.clone(),
        shutdown.clone(),
    ));
    tasks.spawn(crate::mail::sender::run(
        state.pool.clone(),
        state.mail.clone(),
        shutdown.clone(),
    ));
    tasks.spawn(crate::auth::purge::run(
        state.pool.clone(),
        Duration::from_millis(state.backup.config.token_purge_interval_ms),
        Duration::from_secs(state.backup.config.spent_token_retention_secs),
        state.backup.progress.token_purges.clone(),
        shutdown.clone(),
    ));
    tasks.spawn(crate::requests::deadlines::run(
        crate::requests::deadlines::DeadlineContext {
            pool: state.pool.clone(),
            store: state.store.clone(),
            reader: state.reader.clone(),
            leader_retry: Duration::from_millis(state.backup.config.leader_retry_ms),
            clock: state.backup.clock.clone(),
            settings: state.requests.clone(),
        },
        notifier.clone(),
        shutdown.clone(),
    ));
    tasks.spawn(crate::customers::link_calls::run(
        crate::customers::link_calls::LinkContext {
            pool: state.pool.clone(),
            store: state.store.clone(),
            reader: state.reader.clone(),
            leader_retry: Duration::from_millis(state.backup.config.leader_retry_ms),
            clock: state.backup.clock.clone(),
            projector: state.projector.clone(),
            default_country_code: state.auth.config.default_country_code.clone(),
        },
        notifier.clone(),
        shutdown.clone(),
    ));
    Ok(Services { tasks })
}
