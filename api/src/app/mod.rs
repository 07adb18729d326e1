//! Startup: bind the port, open the database (embedded or `DATABASE_URL`), migrate, serve until
//! shut down, then stop everything we started.

use std::net::SocketAddr;

use anyhow::Context as _;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::app::settings::ServeConfig;
use crate::platform::db::Database;
use crate::transport::state::AppState;

pub mod services;
pub mod settings;

/// A server ready to run: port bound, database open and migrated.
pub struct Application {
    listener: TcpListener,
    database: Database,
    state: AppState,
    /// The one-time setup link logged at this start (no admin yet), or `None`.
    setup_link: Option<String>,
}

impl Application {
    /// Binds first (a busy port fails before anything is created), then opens the database.
    pub async fn build(config: &ServeConfig) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("cannot listen on {}", config.listen))?;
        check_data_dir(config)?;
        crate::mail::sender::check(&config.mail_settings())?;
        let database = Database::open(
            config.database.database_url.as_deref(),
            &config.database.data_dir,
            config.database.db_connections,
        )
        .await?;
        if let Err(error) = database.migrate().await {
            database.close().await;
            return Err(error.into());
        }
        let started = Self::prepare_auth(config, &database).await;
        let auth = match started {
            Ok(auth) => auth,
            Err(error) => {
                database.close().await;
                return Err(error);
            }
        };
        let address = listener
            .local_addr()
            .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 0)));
        let mut mail = config.mail_settings();
        if config.backup.public_url.is_none() {
            mail.public_url = format!("http://{address}");
        }
        let setup_link = match Self::announce_setup_link(config, &database, address).await {
            Ok(link) => link,
            Err(error) => {
                database.close().await;
                return Err(error);
            }
        };
        let backup =
            crate::backup::BackupContext::new((*config.backup).clone(), &config.database.data_dir);
        let mut state = AppState::new(database.pool.clone(), auth);
        state.store = state.store.with_snapshots(journal::SnapshotPolicy::every(
            config.database.snapshot_every,
        ));
        let mut state = state
            .configured(
                config.telephony(),
                config.queue.clone(),
                config.requests.clone(),
                config.http.clone(),
            )
            .with_backup(backup, mail);
        state.settings = crate::settings::LiveSettings::new(config.initial_settings());
        Ok(Self {
            listener,
            database,
            state,
            setup_link,
        })
    }

    /// First run: with no admin yet, issues a one-time setup link and logs it, once (the only
    /// place the token appears). The link points at `SAVECORP_PUBLIC_URL` when set, else at
    /// the address bound (loopback for an unspecified address).
    async fn announce_setup_link(
        config: &ServeConfig,
        database: &Database,
        address: SocketAddr,
    ) -> anyhow::Result<Option<String>> {
        let base = match &config.backup.public_url {
            Some(url) => url.clone(),
            None if address.ip().is_unspecified() => {
                format!("http://127.0.0.1:{}", address.port())
            }
            None => format!("http://{address}"),
        };
        let link = crate::auth::setup::issue_link(&database.pool, &base)
            .await
            .context("cannot issue the setup link")?;
        if let Some(link) = &link {
            tracing::info!(
                "no admin yet: open {link} to create the first admin (works once, for 24 hours \
                 or until an admin exists; a restart gives a new link)"
            );
        }
        Ok(link)
    }

    /// The one-time setup link issued at this start, when no admin existed (tests read it here;
    /// people read it in the log).
    pub fn setup_link(&self) -> Option<&str> {
        self.setup_link.as_deref()
    }

    /// Loads (or creates) the token secret and creates the first admin from the configuration.
    async fn prepare_auth(
        config: &ServeConfig,
        database: &Database,
    ) -> anyhow::Result<crate::auth::AuthService> {
        crate::auth::client_address::ClientAddressPolicy::from_config(&config.auth).map_err(
            |error| {
                anyhow::anyhow!("SAVECORP_TRUSTED_PROXIES / SAVECORP_TRUSTED_PROXY_HEADER: {error}")
            },
        )?;
        let keys = crate::auth::tokens::TokenKeys::load(
            config.jwt_secret.as_deref(),
            &config.database.data_dir,
        )?;
        crate::auth::bootstrap::from_config(
            &database.pool,
            config.auth.admin_email.as_deref(),
            config.auth.admin_password.as_deref(),
        )
        .await?;
        Ok(crate::auth::AuthService::new(keys, config.auth.clone()))
    }

    /// The address actually bound (the port when `:0` was asked for).
    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 0)))
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `shutdown` is cancelled (restarting the embedded cluster if it dies meanwhile),
    /// then closes the pool and leaves the embedded cluster (stopped if we were its last user).
    pub async fn run_until_stopped(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        let mut state = self.state.clone();
        state.shutdown = shutdown.clone();
        state.notifier = match journal::LogNotifier::start(&state.pool, shutdown.clone()).await {
            Ok(notifier) => notifier,
            Err(error) => {
                self.database.close().await;
                return Err(anyhow::Error::new(error).context("cannot listen for new events"));
            }
        };
        state.credentials =
            match crate::auth::watch::CredentialChanges::start(&state.pool, shutdown.clone()).await
            {
                Ok(changes) => changes,
                Err(error) => {
                    self.database.close().await;
                    return Err(
                        anyhow::Error::new(error).context("cannot listen for credential changes")
                    );
                }
            };
        // The embedded cluster is started again if it dies under us (crash, kill, stopped by hand).
        let supervisor = self.database.embedded.as_ref().map(|user| {
            tokio::spawn(crate::platform::db::supervise(
                user.cluster().clone(),
                shutdown.clone(),
            ))
        });
        let services = crate::app::services::start(&self.state, &shutdown).await?;
        let settings = state.http.clone();
        let router = crate::transport::http::router(state);
        tracing::info!(address = %self.local_addr(), "listening");
        crate::transport::http::serve(self.listener, router, &settings, shutdown.clone()).await;
        shutdown.cancel();
        services.join().await;
        self.state.tasks.join().await;
        if let Some(supervisor) = supervisor {
            let _ = supervisor.await;
        }
        self.database.close().await;
        Ok(())
    }
}

/// The data folder must be a folder we can write, created if missing.
fn check_data_dir(config: &ServeConfig) -> anyhow::Result<()> {
    let dir = &config.database.data_dir;
    std::fs::create_dir_all(dir)
        .with_context(|| format!("data folder {} cannot be created", dir.display()))?;
    let probe = dir.join(".write-test");
    std::fs::write(&probe, b"")
        .with_context(|| format!("data folder {} is not writable", dir.display()))?;
    let _ = std::fs::remove_file(probe);
    Ok(())
}
