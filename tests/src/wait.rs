//! Bounded waits for an observable condition: the one place in `tests/` where a test sleeps
//! (the poll interval below, inside a deadline). A test never sleeps a fixed time and then
//! asserts; it waits for what it expects (a checkpoint, a log position, an outbox row, a
//! watchdog pass, a subscription message) and, to assert that something did *not* happen,
//! first waits until the component has provably processed past the point where it would have.
//! `integration/no_fixed_sleeps.rs` fails when a `sleep(` appears anywhere else in `tests/`
//! without a `// sleep-ok:` reason.

use std::future::Future;
use std::time::Duration;

/// How often a condition is polled.
pub const POLL: Duration = Duration::from_millis(20);

/// Polls `probe` every [`POLL`] until it yields a value; fails the test with `what` after
/// `within`.
pub async fn until<T, F, Fut>(what: &str, within: Duration, probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    until_explained(what, within, probe, || async { String::new() }).await
}

/// Like [`until`]; on timeout the failure also says what `explain` finds then (the state the
/// wait was for), so that a failure on a loaded machine can be told from a wrong outcome.
pub async fn until_explained<T, F, Fut, E, EFut>(
    what: &str,
    within: Duration,
    mut probe: F,
    explain: E,
) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
    E: FnOnce() -> EFut,
    EFut: Future<Output = String>,
{
    let deadline = tokio::time::Instant::now() + within;
    loop {
        if let Some(value) = probe().await {
            return value;
        }
        if tokio::time::Instant::now() >= deadline {
            let explanation = explain().await;
            if explanation.is_empty() {
                panic!("timed out after {within:?} waiting for {what}");
            }
            panic!("timed out after {within:?} waiting for {what}: {explanation}");
        }
        tokio::time::sleep(POLL).await;
    }
}

/// Polls `check` every [`POLL`] until it holds; fails the test with `what` after `within`.
pub async fn until_true<F, Fut>(what: &str, within: Duration, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    until(what, within, || {
        let check = check();
        async move { check.await.then_some(()) }
    })
    .await
}

/// Like [`until`] for a blocking probe (no runtime): polls every [`POLL`].
pub fn until_blocking<T>(what: &str, within: Duration, mut probe: impl FnMut() -> Option<T>) -> T {
    let deadline = std::time::Instant::now() + within;
    loop {
        if let Some(value) = probe() {
            return value;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "timed out after {within:?} waiting for {what}"
        );
        std::thread::sleep(POLL);
    }
}
