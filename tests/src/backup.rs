//! Helpers for the backup monitoring tests: customers, admins, plans, tokens, manifests and a
//! curl-like ping client.

use std::sync::Arc;

use chrono::Utc;
use domain::customer::{Customer, CustomerCommand};
use domain::ids::{CustomerId, WorkerId};
use domain::plan::{BackupPlan, RetentionPolicy, Schedule};
use domain::values::{EmailAddress, PersonName, PhoneNumber, Role};
use domain::worker::{Worker, WorkerCommand};
use journal::{Actor, Metadata};
use serde_json::Value;

use api::platform::clock::{ClockHandle, ManualClock};
use api::transport::state::AppState;
use api::ServeConfig;

use crate::smtp::ReceivedMail;
use crate::TestApp;

/// Short loops and retries of the watchdog and the mail outbox, the test's SMTP server (absent:
/// mail files) and clock (absent: the system clock).
pub fn fast(config: &mut ServeConfig, smtp_url: Option<String>, clock: Option<Arc<ManualClock>>) {
    config.smtp_url = smtp_url;
    config.backup.watchdog_max_sleep_ms = 50;
    config.backup.leader_retry_ms = 100;
    config.mail.mail_poll_ms = 50;
    config.mail.mail_retry_base_ms = 200;
    config.mail.mail_retry_max_ms = 800;
    config.mail.smtp_timeout_ms = 2_000;
    if let Some(clock) = clock {
        config.backup.clock = ClockHandle::of(clock);
    }
}

/// Whether a received mail's subject is `subject`.
pub fn subject_is(subject: &str) -> impl Fn(&ReceivedMail) -> bool + '_ {
    move |mail| mail.header("Subject").as_deref() == Some(subject)
}

/// Registers a customer (with a unique phone number) and returns its id.
pub async fn register_customer(state: &AppState, name: &str, email: &str) -> CustomerId {
    let customer_id = CustomerId::new();
    let digits = customer_id.as_uuid().as_u128() % 10_000_000;
    let phone = PhoneNumber::parse_e164(&format!("+3361{digits:07}")).expect("phone");
    state
        .store
        .execute::<Customer>(
            &customer_id.to_string(),
            CustomerCommand::Register {
                name: PersonName::parse(name).expect("name"),
                phones: vec![phone],
                email: Some(EmailAddress::parse(email).expect("email")),
                notes: String::new(),
                avatar_url: None,
                at: state.backup.now(),
            },
            &(),
            &Metadata::new(Actor::System),
            None,
        )
        .await
        .expect("customer registers");
    customer_id
}

/// Registers an admin worker (alert mails go to admins too).
pub async fn register_admin(state: &AppState, email: &str) -> WorkerId {
    let worker_id = WorkerId::new();
    state
        .store
        .execute::<Worker>(
            &worker_id.to_string(),
            WorkerCommand::Register {
                name: PersonName::parse("Ada Admin").expect("name"),
                email: EmailAddress::parse(email).expect("email"),
                role: Role::Admin,
                endpoint: None,
                at: Utc::now(),
            },
            &(),
            &Metadata::new(Actor::System),
            None,
        )
        .await
        .expect("admin registers");
    worker_id
}

/// A period plan mailing `recipients`.
pub fn period_plan(
    period_secs: u64,
    grace_secs: u64,
    recipients: &[&str],
    retention: RetentionPolicy,
) -> BackupPlan {
    BackupPlan {
        schedule: Schedule::Period {
            period_secs,
            grace_secs,
        },
        retention,
        report_recipients: recipients.iter().map(|r| (*r).to_owned()).collect(),
        paused: false,
    }
}

/// Sets `plan` for `customer` and issues an ingest token for it; returns the token.
pub async fn given_plan_and_token(
    state: &AppState,
    customer: CustomerId,
    plan: BackupPlan,
) -> String {
    api::backup::service::set_backup_plan(
        &state.backup_state(),
        Actor::System,
        customer,
        plan,
        None,
    )
    .await
    .expect("plan set");
    api::backup::service::issue_ingest_token(&state.backup_state(), Actor::System, customer)
        .await
        .expect("token")
        .token
}

/// One manifest line.
pub fn entry(path: &str, size: u64, mtime: i64, hash: &str) -> String {
    serde_json::json!({"path": path, "size": size, "mtime": mtime, "hash": hash}).to_string()
}

/// Manifest lines joined into a body.
pub fn manifest(lines: &[String]) -> String {
    let mut body = lines.join("\n");
    body.push('\n');
    body
}

/// `curl -X POST --data-binary @- <app>/ping/<token><suffix>`: the status and the JSON answer.
pub async fn ping(
    app: &TestApp,
    token: &str,
    suffix: &str,
    body: impl Into<reqwest::Body>,
) -> (u16, Value) {
    let response = app
        .http
        .post(app.url(&format!("/ping/{token}{suffix}")))
        .body(body)
        .send()
        .await
        .expect("ping sent");
    let status = response.status().as_u16();
    let body = response.json().await.unwrap_or(Value::Null);
    (status, body)
}

/// How many events of `event_type` the log holds.
pub async fn count_events(app: &TestApp, event_type: &str) -> i64 {
    let (count,): (i64,) = sqlx::query_as("SELECT count(*) FROM events WHERE event_type = $1")
        .bind(event_type)
        .fetch_one(&app.pool)
        .await
        .expect("count events");
    count
}

/// Every event in the log.
pub async fn count_all_events(app: &TestApp) -> i64 {
    let (count,): (i64,) = sqlx::query_as("SELECT count(*) FROM events")
        .fetch_one(&app.pool)
        .await
        .expect("count events");
    count
}

/// Waits until `check` holds (panics with `what` after `seconds`).
pub async fn eventually<F, Fut>(seconds: u64, what: &str, check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    crate::wait::until_true(what, std::time::Duration::from_secs(seconds), check).await;
}

/// Waits until one of `apps` (the watchdog runs on the leader only) has a watchdog that
/// finished a pass begun after this call (by the backup clock), on the whole log readable
/// then, and wrote nothing in it: whatever the watchdog would do about the log and the clock
/// as they are now is done and committed. Then a test may assert that something did not
/// happen.
pub async fn watchdog_settled(apps: &[&TestApp]) {
    let at = apps[0].state.backup.now();
    let what = format!("a watchdog pass at {at} over the whole log that wrote nothing");
    crate::wait::until_true(&what, std::time::Duration::from_secs(30), || async {
        // The passes first: what a pass wrote is committed before it is published, so the
        // head read after it shows it.
        let passes: Vec<_> = apps
            .iter()
            .map(|app| *app.state.backup.progress.watchdog.borrow())
            .collect();
        // Readable, not committed: a test may hold the watermark on purpose (the watchdog
        // cannot read past it then).
        let head = apps[0].state.reader.head().await.expect("log head");
        passes.iter().any(|pass| {
            pass.evaluated_at.is_some_and(|evaluated| evaluated >= at) && pass.position >= head
        })
    })
    .await;
}

/// Waits until `app`'s token purge finished a whole pass that began after this call.
pub async fn token_purge_passed(app: &TestApp) {
    let passes = app.state.backup.progress.token_purges.clone();
    let before = *passes.borrow();
    crate::wait::until_true(
        "a token purge pass",
        std::time::Duration::from_secs(30),
        || {
            let passes = passes.clone();
            // The pass running now may have begun before the call: wait for the one after.
            async move { *passes.borrow() >= before + 2 }
        },
    )
    .await;
}

/// Waits until the mail outbox feeder has rendered the whole log readable now (its
/// checkpoint) and the sender has sent or given up every row: no mail is still to come from
/// what has happened so far.
pub async fn outbox_settled(pool: &sqlx::PgPool) {
    let reader = journal::LogReader::new(pool.clone());
    crate::wait::until_true(
        "the outbox fed up to the log head and every row sent",
        std::time::Duration::from_secs(30),
        || async {
            // Committed, not only readable: an event a transaction elsewhere still holds
            // behind the watermark is still to be fed.
            let head = reader.committed_head().await.expect("log head");
            let checkpoint = projections::projector::checkpoint(pool, "mail_outbox")
                .await
                .expect("checkpoint");
            let (pending,): (i64,) = sqlx::query_as(
                "SELECT count(*) FROM mail_outbox WHERE sent_at IS NULL AND gave_up_at IS NULL",
            )
            .fetch_one(pool)
            .await
            .expect("outbox");
            checkpoint >= head && pending == 0
        },
    )
    .await;
}
