//! Who is calling, and proving it (PRODUCT §1): Argon2id passwords in the `credentials` table,
//! short-lived HS256 access tokens, rotating single-use refresh tokens grouped in sessions
//! (families), login throttling, and the first admin.
//!
//! Architecture Invariant: passwords, their hashes and tokens never go into events, logs or
//! error messages; only ids do.

pub mod accounts;
pub mod bootstrap;
pub mod password;
pub mod rate_limit;
pub mod sessions;
pub mod tokens;
pub mod watch;

use std::time::Duration;

use domain::ids::WorkerId;
use domain::values::Role;

use crate::config::AuthConfig;
use rate_limit::FailureLimiter;
use tokens::TokenKeys;

/// The caller of one request or WebSocket connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Caller {
    Anonymous,
    /// A logged-in, active worker with their current role, in session `session_id`.
    Worker {
        id: WorkerId,
        role: Role,
        session_id: uuid::Uuid,
    },
    /// A backup client presenting a customer's ingest token (`Bearer sci_…`): it may report
    /// runs and read that customer's backups, nothing else.
    IngestToken {
        token_id: domain::ids::IngestTokenId,
        customer_id: domain::ids::CustomerId,
    },
}

/// Keys, settings and throttles of authentication, shared by every request.
pub struct AuthService {
    pub keys: TokenKeys,
    pub config: AuthConfig,
    pub failures_per_account: FailureLimiter,
    pub failures_per_address: FailureLimiter,
    /// Serialises the changes that count active admins (demote, deactivate) in this process.
    pub admin_changes: tokio::sync::Mutex<()>,
}

impl AuthService {
    pub fn new(keys: TokenKeys, config: AuthConfig) -> Self {
        let window = Duration::from_secs(config.login_window_secs.max(1));
        Self {
            failures_per_account: FailureLimiter::new(config.login_failures_per_account, window),
            failures_per_address: FailureLimiter::new(config.login_failures_per_address, window),
            keys,
            config,
            admin_changes: tokio::sync::Mutex::new(()),
        }
    }
}
