//! The HTTP edge's settings (PRODUCT §11).

use clap::Args;

use crate::platform::config::secret;

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
