//! The platform's settings and those every layer shares (database, data folder, auth,
//! requests, queue, HTTP edge), read once from flags and the environment (PRODUCT §11);
//! `app/settings.rs` assembles them with the capabilities' own into `ServeConfig`.

use std::path::PathBuf;

use clap::Args;

/// Where the database is. Shared by every subcommand that needs it. Its `Debug` hides the
/// URL's password.
#[derive(Args, Clone)]
pub struct DatabaseConfig {
    /// PostgreSQL URL. Absent: an embedded cluster in the `pg/` folder of the data folder,
    /// started with the PostgreSQL binaries found on this machine.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,

    /// The data folder: embedded PostgreSQL cluster, generated JWT secret, mail files.
    #[arg(long, env = "SAVECORP_DATA_DIR", default_value = "./var")]
    pub data_dir: PathBuf,

    /// Connections in the server's pool.
    #[arg(long, env = "SAVECORP_DB_CONNECTIONS", default_value_t = 16)]
    pub db_connections: u32,

    /// Aggregate snapshots: a worker, customer, call or request is snapshotted every this many
    /// events, so that loading it reads its snapshot and the events after it (0: none).
    #[arg(long, env = "SAVECORP_SNAPSHOT_EVERY", default_value_t = 100)]
    pub snapshot_every: u32,
}

/// Request deadlines (PRODUCT §5): the due-soon window and the alerts process manager.
#[derive(Args, Clone, Debug, PartialEq, Eq)]
pub struct RequestConfig {
    /// The longest due-soon window, in seconds: `due_soon` is raised when a quarter of a
    /// request's allowance remains (urgent 1 h, high 6 h, normal 18 h, low 24 h; an explicit
    /// due date: a quarter of the time from when it was set), but never earlier than this
    /// before its due date. Applies to requests opened from now on (a request keeps the policy
    /// it was opened with).
    #[arg(long, env = "SAVECORP_REQUEST_DUE_SOON_SECS", default_value_t = 24 * 3600)]
    pub request_due_soon_secs: u64,

    /// Whether this server raises request `due_soon` / `overdue` alerts (one instance does at
    /// a time, whatever the number of servers).
    #[arg(long, env = "SAVECORP_REQUEST_ALERTS", default_value_t = true,
          action = clap::ArgAction::Set)]
    pub request_alerts: bool,

    /// Longest the request-deadline manager sleeps without looking again (a safety net: it
    /// normally sleeps until the next deadline and is woken by new events), in milliseconds.
    #[arg(
        long,
        env = "SAVECORP_REQUEST_ALERTS_MAX_SLEEP_MS",
        default_value_t = 3_600_000
    )]
    pub request_alerts_max_sleep_ms: u64,
}

impl Default for RequestConfig {
    fn default() -> Self {
        Self {
            request_due_soon_secs: 24 * 3600,
            request_alerts: true,
            request_alerts_max_sleep_ms: 3_600_000,
        }
    }
}

impl RequestConfig {
    /// The SLA policy given to new requests: the product defaults with this due-soon cap.
    pub fn sla(&self) -> domain::sla::SlaPolicy {
        domain::sla::SlaPolicy {
            due_soon_threshold_secs: self.request_due_soon_secs,
            ..domain::sla::SlaPolicy::default()
        }
    }
}

/// Sessions, login throttling and input defaults of the API.
#[derive(Args, Clone)]
pub struct AuthConfig {
    /// Lifetime of an access token, in seconds.
    #[arg(long, env = "SAVECORP_ACCESS_TOKEN_SECS", default_value_t = 900)]
    pub access_token_secs: u64,

    /// Lifetime of a refresh token, in seconds (each refresh issues a new one).
    #[arg(long, env = "SAVECORP_REFRESH_TOKEN_SECS", default_value_t = 30 * 24 * 3600)]
    pub refresh_token_secs: u64,

    /// Failed logins (and, separately, failed password changes) allowed per account from one
    /// client address within the window before that address's attempts on that account are
    /// refused (other addresses are not affected).
    #[arg(long, env = "SAVECORP_LOGIN_FAILURES_PER_ACCOUNT", default_value_t = 5)]
    pub login_failures_per_account: u32,

    /// Failed logins and password changes allowed per client address within the window,
    /// whatever the account.
    #[arg(
        long,
        env = "SAVECORP_LOGIN_FAILURES_PER_ADDRESS",
        default_value_t = 20
    )]
    pub login_failures_per_address: u32,

    /// The throttling window (logins, password changes, wrong ingest tokens), in seconds.
    #[arg(long, env = "SAVECORP_LOGIN_WINDOW_SECS", default_value_t = 900)]
    pub login_window_secs: u64,

    /// Wrong ingest tokens (`/ping/{token}`) allowed per client address within the window;
    /// after that, the address's pings are answered 429 until the window ends.
    #[arg(
        long,
        env = "SAVECORP_INGEST_TOKEN_FAILURES_PER_ADDRESS",
        default_value_t = 20
    )]
    pub ingest_token_failures_per_address: u32,

    /// The header a reverse proxy writes the client address into (e.g. `X-Forwarded-For`,
    /// `X-Real-IP`), read only on requests from `SAVECORP_TRUSTED_PROXIES`. Absent: the TCP
    /// peer is the client (the header is never read).
    #[arg(long, env = "SAVECORP_TRUSTED_PROXY_HEADER")]
    pub trusted_proxy_header: Option<String>,

    /// The proxies whose client-address header is believed: comma-separated addresses or
    /// ranges (`10.0.0.0/8`).
    #[arg(
        long,
        env = "SAVECORP_TRUSTED_PROXIES",
        default_value = "127.0.0.1,::1"
    )]
    pub trusted_proxies: String,

    /// The first admin's email, created on start when no admin exists (with
    /// `SAVECORP_ADMIN_PASSWORD`).
    #[arg(long, env = "SAVECORP_ADMIN_EMAIL")]
    pub admin_email: Option<String>,

    /// The first admin's password (with `SAVECORP_ADMIN_EMAIL`; prefer the environment to
    /// the flag, which other users of the machine can see).
    #[arg(long, env = "SAVECORP_ADMIN_PASSWORD", hide_env_values = true)]
    pub admin_password: Option<String>,

    /// Country code given to phone numbers written without one (`06 12 34 56 78`).
    #[arg(long, env = "SAVECORP_DEFAULT_COUNTRY_CODE", default_value = "33")]
    pub default_country_code: String,
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            access_token_secs: 900,
            refresh_token_secs: 30 * 24 * 3600,
            login_failures_per_account: 5,
            login_failures_per_address: 20,
            login_window_secs: 900,
            ingest_token_failures_per_address: 20,
            trusted_proxy_header: None,
            trusted_proxies: "127.0.0.1,::1".into(),
            admin_email: None,
            admin_password: None,
            default_country_code: "33".into(),
        }
    }
}

/// The JWT secret of [`ServeConfig::for_tests`] (tests that sign tokens themselves use it).
pub const TEST_JWT_SECRET: &str = "test-secret-not-for-production-0123456789";

/// The shortest `JWT_SECRET` accepted, in bytes (HS256 keys shorter than its output are
/// guessable offline from one token).
pub const MIN_JWT_SECRET_BYTES: usize = 32;

/// A setting refused before anything starts: [`std::fmt::Display`] is the one line printed,
/// naming the setting (never its value, which may hold a password).
#[derive(Debug, thiserror::Error)]
#[error("invalid {setting}: {reason}")]
pub struct InvalidSetting {
    pub setting: &'static str,
    pub reason: String,
}

pub(crate) fn invalid(setting: &'static str, reason: impl Into<String>) -> InvalidSetting {
    InvalidSetting {
        setting,
        reason: reason.into(),
    }
}

impl DatabaseConfig {
    /// Checks what can be checked without connecting.
    pub fn validate(&self) -> Result<(), InvalidSetting> {
        if let Some(url) = &self.database_url {
            let parsed = url::Url::parse(url).map_err(|error| {
                invalid(
                    "DATABASE_URL",
                    format!("not a URL ({error}); expected postgres://user:password@host/database"),
                )
            })?;
            if !matches!(parsed.scheme(), "postgres" | "postgresql") {
                return Err(invalid(
                    "DATABASE_URL",
                    "expected postgres://user:password@host/database",
                ));
            }
        }
        if self.db_connections == 0 {
            return Err(invalid("SAVECORP_DB_CONNECTIONS", "must be at least 1"));
        }
        Ok(())
    }
}

/// The call queue's settings (PRODUCT §4.2).
#[derive(Args, Clone, Debug, PartialEq, Eq)]
pub struct QueueConfig {
    /// How long an agent's phone rings before the offer counts as missed (whole seconds, ≥ 1:
    /// ARI's dial timeout is in seconds).
    #[arg(long, env = "SAVECORP_OFFER_TIMEOUT_SECS", default_value_t = 20,
          value_parser = clap::value_parser!(u32).range(1..=600))]
    pub offer_timeout_secs: u32,

    /// Wrap-up time after each call before the agent is Available again (0 = none).
    #[arg(long, env = "SAVECORP_WRAP_UP_SECS", default_value_t = 10)]
    pub wrap_up_secs: u32,

    /// How long a caller waits at most before being rejected `max_wait_exceeded`.
    #[arg(long, env = "SAVECORP_MAX_WAIT_SECS", default_value_t = 600,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub max_wait_secs: u32,

    /// Calls waiting (queued or ringing an agent) above which new callers are rejected
    /// `queue_full`.
    #[arg(long, env = "SAVECORP_MAX_QUEUE_LENGTH", default_value_t = 100)]
    pub max_queue_length: usize,

    /// Media played to a rejected caller before hanging up (e.g. `sound:vm-nobodyavail`).
    /// Absent: rejected callers are hung up at once.
    #[arg(long, env = "SAVECORP_REJECT_ANNOUNCEMENT")]
    pub reject_announcement: Option<String>,
}

impl Default for QueueConfig {
    fn default() -> Self {
        Self {
            offer_timeout_secs: 20,
            wrap_up_secs: 10,
            max_wait_secs: 600,
            max_queue_length: 100,
            reject_announcement: None,
        }
    }
}

// ---- HTTP edge: timeouts, connection caps, GraphiQL, introspection, /metrics (issue 19 §3-4,
// issue 15 §1-2) ----

/// Who may run introspection queries (`__schema`, `__type`).
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum IntrospectionAccess {
    /// Anyone, anonymous callers included (development).
    #[default]
    Public,
    /// Logged-in workers only.
    Authenticated,
    /// Nobody.
    Off,
}

/// The HTTP server's edge settings: read timeouts, WebSocket limits, developer tools and the
/// protection of `/metrics`. Its `Debug` hides the metrics token.
#[derive(Args, Clone)]
pub struct HttpConfig {
    /// Longest a client may take to send a request's headers, in milliseconds (also the
    /// longest a new connection may stay silent).
    #[arg(long, env = "SAVECORP_HEADER_READ_TIMEOUT_MS", default_value_t = 10_000,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub header_read_timeout_ms: u64,

    /// Longest a client may take to send a request's body (GraphQL, exports), in milliseconds:
    /// then 408. The ping API (`/ping`) has its own limits.
    #[arg(long, env = "SAVECORP_BODY_READ_TIMEOUT_MS", default_value_t = 30_000,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub body_read_timeout_ms: u64,

    /// Longest a WebSocket may wait before its `connection_init`, in milliseconds (then closed
    /// 4408).
    #[arg(long, env = "SAVECORP_WS_INIT_TIMEOUT_MS", default_value_t = 10_000,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub ws_init_timeout_ms: u64,

    /// Interval of the WebSocket keepalive pings, in milliseconds; a connection that answers
    /// nothing for two intervals is closed.
    #[arg(long, env = "SAVECORP_WS_KEEPALIVE_MS", default_value_t = 30_000,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub ws_keepalive_ms: u64,

    /// Open GraphQL WebSockets allowed on this server (then closed 1013).
    #[arg(long, env = "SAVECORP_WS_MAX_CONNECTIONS", default_value_t = 2000)]
    pub ws_max_connections: usize,

    /// Open GraphQL WebSockets allowed per worker (then closed 4429).
    #[arg(
        long,
        env = "SAVECORP_WS_MAX_CONNECTIONS_PER_WORKER",
        default_value_t = 8
    )]
    pub ws_max_connections_per_worker: usize,

    /// Whether `GET /graphql` serves GraphiQL (turn off in production if unwanted).
    #[arg(long, env = "SAVECORP_GRAPHIQL", default_value_t = true,
          action = clap::ArgAction::Set)]
    pub graphiql: bool,

    /// Who may introspect the schema: `public`, `authenticated` or `off`.
    #[arg(long, env = "SAVECORP_INTROSPECTION", value_enum, default_value_t = IntrospectionAccess::Public)]
    pub introspection: IntrospectionAccess,

    /// Bearer token `/metrics` requires. Absent: `/metrics` is open (keep it on a private
    /// network then).
    #[arg(long, env = "SAVECORP_METRICS_TOKEN", hide_env_values = true)]
    pub metrics_token: Option<String>,

    /// How long `/metrics` reuses what it read from the database, in milliseconds.
    #[arg(long, env = "SAVECORP_METRICS_CACHE_MS", default_value_t = 2_000)]
    pub metrics_cache_ms: u64,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            header_read_timeout_ms: 10_000,
            body_read_timeout_ms: 30_000,
            ws_init_timeout_ms: 10_000,
            ws_keepalive_ms: 30_000,
            ws_max_connections: 2000,
            ws_max_connections_per_worker: 8,
            graphiql: true,
            introspection: IntrospectionAccess::Public,
            metrics_token: None,
            metrics_cache_ms: 2_000,
        }
    }
}

impl std::fmt::Debug for HttpConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpConfig")
            .field("header_read_timeout_ms", &self.header_read_timeout_ms)
            .field("body_read_timeout_ms", &self.body_read_timeout_ms)
            .field("ws_init_timeout_ms", &self.ws_init_timeout_ms)
            .field("ws_keepalive_ms", &self.ws_keepalive_ms)
            .field("ws_max_connections", &self.ws_max_connections)
            .field(
                "ws_max_connections_per_worker",
                &self.ws_max_connections_per_worker,
            )
            .field("graphiql", &self.graphiql)
            .field("introspection", &self.introspection)
            .field("metrics_token", &secret(self.metrics_token.as_deref()))
            .field("metrics_cache_ms", &self.metrics_cache_ms)
            .finish()
    }
}

/// What a secret looks like in `Debug` output: whether it is set, never its value.
pub(crate) fn secret(value: Option<&str>) -> &'static str {
    match value {
        Some(_) => "<redacted>",
        None => "<unset>",
    }
}

impl std::fmt::Debug for DatabaseConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DatabaseConfig")
            .field(
                "database_url",
                &self
                    .database_url
                    .as_deref()
                    .map(crate::platform::db::redact),
            )
            .field("data_dir", &self.data_dir)
            .field("db_connections", &self.db_connections)
            .field("snapshot_every", &self.snapshot_every)
            .finish()
    }
}

impl std::fmt::Debug for AuthConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthConfig")
            .field("access_token_secs", &self.access_token_secs)
            .field("refresh_token_secs", &self.refresh_token_secs)
            .field(
                "login_failures_per_account",
                &self.login_failures_per_account,
            )
            .field(
                "login_failures_per_address",
                &self.login_failures_per_address,
            )
            .field("login_window_secs", &self.login_window_secs)
            .field(
                "ingest_token_failures_per_address",
                &self.ingest_token_failures_per_address,
            )
            .field("trusted_proxy_header", &self.trusted_proxy_header)
            .field("trusted_proxies", &self.trusted_proxies)
            .field("admin_email", &self.admin_email)
            .field("admin_password", &secret(self.admin_password.as_deref()))
            .field("default_country_code", &self.default_country_code)
            .finish()
    }
}
