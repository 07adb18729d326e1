//! Helpers for the backup monitoring tests: customers, admins, plans, tokens, manifests and a
//! curl-like ping client.

use chrono::Utc;
use domain::customer::{Customer, CustomerCommand};
use domain::ids::{CustomerId, WorkerId};
use domain::plan::{BackupPlan, RetentionPolicy, Schedule};
use domain::values::{EmailAddress, PersonName, PhoneNumber, Role};
use domain::worker::{Worker, WorkerCommand};
use projections::{Actor, Metadata};
use serde_json::Value;

use api::transport::state::AppState;

use crate::TestApp;

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
    api::backup::service::set_backup_plan(state, Actor::System, customer, plan, None)
        .await
        .expect("plan set");
    api::backup::service::issue_ingest_token(state, Actor::System, customer)
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
pub async fn eventually<F, Fut>(seconds: u64, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(seconds);
    loop {
        if check().await {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting: {what}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}
