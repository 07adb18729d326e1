//! The settings of sessions, login throttling and the first admin (PRODUCT §1, §11).

use clap::Args;

use crate::platform::config::secret;

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
