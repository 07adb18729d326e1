//! First run (issue 16): while no admin exists, each `savecorp serve` start issues a one-time
//! setup link (`<base>/setup#token=…`) and logs it once; the web app's setup page turns it into
//! the first admin (`setupFirstAdmin`).
//!
//! The token is 32 random bytes; only its SHA-256 is stored (`setup_tokens`). It works once,
//! until it expires ([`SETUP_TOKEN_TTL_SECS`]), and only while no active admin exists. Uses are
//! throttled per client address like logins, counted before the token is looked up. The token
//! is in the log line that announces it and nowhere else (no event, no other log, no answer).

use std::net::IpAddr;

use domain::values::{EmailAddress, PersonName, Role};
use journal::{Actor, EventStore, Metadata};
use sqlx::PgPool;

use super::accounts::{register_worker, NewWorker};
use super::bootstrap::admin_exists;
use super::password::Password;
use super::rate_limit;
use super::sessions::{self, IssuedSession};
use super::tokens::{random_token, token_hash};
use super::{AuthError, AuthService};

/// How long a setup link works: a day.
pub const SETUP_TOKEN_TTL_SECS: i64 = 86_400;

/// Why a setup link was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SetupRefusal {
    /// No such token (mistyped or from another server).
    Invalid,
    /// The token already created an admin.
    Used,
    /// The token is older than [`SETUP_TOKEN_TTL_SECS`].
    Expired,
    /// An admin exists: setup links no longer work.
    AdminExists,
}

impl SetupRefusal {
    /// The stable `extensions.code`.
    pub fn code(self) -> &'static str {
        match self {
            Self::Invalid => "SETUP_TOKEN_INVALID",
            Self::Used => "SETUP_TOKEN_USED",
            Self::Expired => "SETUP_TOKEN_EXPIRED",
            Self::AdminExists => "ADMIN_EXISTS",
        }
    }

    pub fn message(self) -> &'static str {
        match self {
            Self::Invalid => "the setup link is not valid",
            Self::Used => "the setup link was already used",
            Self::Expired => "the setup link expired: restart the server for a new one",
            Self::AdminExists => "an admin already exists: log in instead",
        }
    }
}

/// On start: when no active admin exists, stores a new setup token and returns the link to
/// log (`base` is the server's URL, e.g. `http://127.0.0.1:8080`). `None` when an admin exists.
pub async fn issue_link(pool: &PgPool, base: &str) -> anyhow::Result<Option<String>> {
    if admin_exists(pool).await? {
        return Ok(None);
    }
    // Links expired for a while are of no use to anyone.
    sqlx::query("DELETE FROM setup_tokens WHERE expires_at < now() - interval '30 days'")
        .execute(pool)
        .await?;
    let token = random_token(32);
    sqlx::query(
        "INSERT INTO setup_tokens (token_hash, expires_at) \
         VALUES ($1, now() + make_interval(secs => $2))",
    )
    .bind(token_hash(&token))
    .bind(SETUP_TOKEN_TTL_SECS as f64)
    .execute(pool)
    .await?;
    Ok(Some(format!(
        "{}/setup#token={token}",
        base.trim_end_matches('/')
    )))
}

/// The first admin to create from a setup link (already validated).
pub struct FirstAdmin {
    pub email: EmailAddress,
    pub name: PersonName,
    pub password: Password,
}

/// Creates the first admin from a setup token and opens their session. Throttled per client
/// address (the login limit per address), counted before the token is looked up; a success
/// gives its slot back.
pub async fn setup_first_admin(
    pool: &PgPool,
    auth: &AuthService,
    token: &str,
    admin: FirstAdmin,
    address: Option<IpAddr>,
) -> Result<IssuedSession, AuthError> {
    let per_address = rate_limit::setup_key(address);
    let keys = [(per_address.clone(), auth.config.login_failures_per_address)];
    if auth.throttle.acquire(pool, &keys).await?.is_err() {
        tracing::info!(client = ?address, "setup refused: too many attempts");
        return Err(AuthError::RateLimited);
    }
    // One first admin at a time in this process (two tokens used at once).
    let _serialised = auth.admin_changes.lock().await;
    let hash = token_hash(token);
    let row: Option<(bool, bool)> = sqlx::query_as(
        "SELECT used_at IS NOT NULL, expires_at <= now() FROM setup_tokens WHERE token_hash = $1",
    )
    .bind(&hash)
    .fetch_optional(pool)
    .await?;
    let refusal = match row {
        None => Some(SetupRefusal::Invalid),
        Some((true, _)) => Some(SetupRefusal::Used),
        Some((false, true)) => Some(SetupRefusal::Expired),
        Some((false, false)) if admin_exists(pool).await.map_err(AuthError::Internal)? => {
            Some(SetupRefusal::AdminExists)
        }
        Some(_) => None,
    };
    if let Some(refusal) = refusal {
        tracing::info!(client = ?address, code = refusal.code(), "setup link refused");
        return Err(AuthError::Setup(refusal));
    }
    // Spend the token first: of two uses racing (other instances), one wins.
    let spent = sqlx::query(
        "UPDATE setup_tokens SET used_at = now() \
         WHERE token_hash = $1 AND used_at IS NULL AND expires_at > now()",
    )
    .bind(&hash)
    .execute(pool)
    .await?;
    if spent.rows_affected() != 1 {
        return Err(AuthError::Setup(SetupRefusal::Used));
    }
    let store = EventStore::new(pool.clone());
    let new = NewWorker {
        name: admin.name,
        email: admin.email,
        role: Role::Admin,
        endpoint: None,
        password: admin.password,
    };
    let registered = register_worker(pool, &store, new, &Metadata::new(Actor::System)).await;
    let worker_id = match registered {
        Ok((worker_id, _)) => worker_id,
        Err(error) => {
            // Nothing was created: the link still works.
            let _ = sqlx::query("UPDATE setup_tokens SET used_at = NULL WHERE token_hash = $1")
                .bind(&hash)
                .execute(pool)
                .await;
            return Err(error);
        }
    };
    auth.throttle.release(pool, &per_address).await?;
    tracing::info!(%worker_id, "first admin created from the setup link");
    sessions::open_session(pool, auth, worker_id).await
}
