//! Shutdown: the token cancelled on Ctrl-C or SIGTERM (`cancel_on_signals`), and the tasks
//! started on request (a projection rebuild the API asked for) rather than at startup, kept
//! here so that, like the background services, they stop with the shutdown token and are
//! joined before the database closes.

use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::task::JoinSet;

/// The running on-request tasks (cloning shares them).
#[derive(Clone, Default)]
pub struct Tasks(Arc<Mutex<JoinSet<()>>>);

impl Tasks {
    fn set(&self) -> MutexGuard<'_, JoinSet<()>> {
        self.0.lock().unwrap_or_else(|poison| poison.into_inner())
    }

    /// Starts `task` (it must end when the shutdown token is cancelled); forgets tasks that
    /// have finished.
    pub fn spawn(&self, task: impl Future<Output = ()> + Send + 'static) {
        let mut set = self.set();
        while set.try_join_next().is_some() {}
        set.spawn(task);
    }

    /// How many have not finished yet.
    pub fn running(&self) -> usize {
        let mut set = self.set();
        while set.try_join_next().is_some() {}
        set.len()
    }

    /// Waits for every task started so far to end.
    pub async fn join(&self) {
        let mut set = std::mem::take(&mut *self.set());
        while let Some(result) = set.join_next().await {
            if let Err(error) = result {
                tracing::error!(%error, "a task started on request panicked");
            }
        }
    }
}

/// Cancels `token` on Ctrl-C or SIGTERM.
pub fn cancel_on_signals(token: tokio_util::sync::CancellationToken) {
    tokio::spawn(async move {
        let terminate = async {
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(mut signal) => {
                    signal.recv().await;
                }
                Err(_) => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = terminate => {}
        }
        tracing::info!("shutting down");
        token.cancel();
    });
}
