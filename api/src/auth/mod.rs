//! Who is calling, and proving it (PRODUCT §1): Argon2id passwords in the `credentials` table,
//! short-lived HS256 access tokens, rotating single-use refresh tokens grouped in sessions
//! (families), login throttling, and the first admin.
//!
//! Architecture Invariant: passwords, their hashes and tokens never go into events, logs or
//! error messages; only ids do.

pub mod accounts;
pub mod bootstrap;
pub mod client_address;
mod config;
mod error;
pub mod password;
pub mod purge;
pub mod rate_limit;
pub mod sessions;
pub mod setup;
pub mod tokens;
pub mod watch;

use std::time::Duration;

use domain::ids::WorkerId;
use domain::values::Role;

use client_address::ClientAddressPolicy;
pub use config::{AuthConfig, MIN_JWT_SECRET_BYTES, TEST_JWT_SECRET};
pub use error::AuthError;
use rate_limit::Throttle;
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
    /// Counters of logins, password changes and wrong ingest tokens (in the database).
    pub throttle: Throttle,
    /// How a request's client address is found (trusted proxy header).
    pub client_addresses: ClientAddressPolicy,
    /// Serialises the changes that count active admins (demote, deactivate) in this process.
    pub admin_changes: tokio::sync::Mutex<()>,
}

impl AuthService {
    /// Startup checks the trusted proxy settings first (`ClientAddressPolicy::from_config`);
    /// invalid ones here fall back to never reading the header.
    pub fn new(keys: TokenKeys, config: AuthConfig) -> Self {
        let window = Duration::from_secs(config.login_window_secs.max(1));
        Self {
            throttle: Throttle::new(window),
            client_addresses: client_address::ClientAddressPolicy::from_config(&config)
                .unwrap_or_default(),
            keys,
            config,
            admin_changes: tokio::sync::Mutex::new(()),
        }
    }
}
