//! The settings of every connection pool of the server (the one over `DATABASE_URL` and the
//! one over the embedded cluster).

use std::time::Duration;

use sqlx::postgres::PgPoolOptions;

/// Pool settings shared by every pool of the server. No ping on acquire: a broken connection
/// shows up as an error on use, which the callers turn into `UNAVAILABLE`.
pub fn pool_options(max_connections: u32) -> PgPoolOptions {
    PgPoolOptions::new()
        .max_connections(max_connections)
        .min_connections(1)
        .acquire_timeout(Duration::from_secs(5))
        .test_before_acquire(false)
}
