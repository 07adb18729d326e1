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

/// Installs a tracing subscriber writing to the test output when `TEST_LOG` is set;
/// `TEST_LOG=spans` also prints each span's busy and idle time when it closes (where a step's
/// time goes, e.g. the telephony session's `caller_arrived`, `offer`, `call_control`).
pub fn init_test_log() {
    if let Some(value) = std::env::var_os("TEST_LOG") {
        let spans = if value == "spans" {
            tracing_subscriber::fmt::format::FmtSpan::CLOSE
        } else {
            tracing_subscriber::fmt::format::FmtSpan::NONE
        };
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_span_events(spans)
            .with_test_writer()
            .try_init();
    }
}
