//! Test support for the one integration-test binary (`tests/integration`): a PostgreSQL
//! cluster per test process with a fresh database per test, and `TestApp`, the real server on
//! port 0. Tracing stays silent unless `TEST_LOG` is set.

pub mod app;
pub mod backup;
pub mod faults;
pub mod fuzz;
pub mod graphql;
pub mod history;
pub mod postgres;
pub mod smtp;
pub mod telephony;
pub mod wait;

pub use app::TestApp;
pub use postgres::TestPostgres;

/// Installs a tracing subscriber writing to the test output when `TEST_LOG` is set.
pub fn init_test_log() {
    if std::env::var_os("TEST_LOG").is_some() {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_test_writer()
            .try_init();
    }
}
