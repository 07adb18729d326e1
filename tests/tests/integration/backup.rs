//! Backup monitoring (PRODUCT §6) end to end: a cron-like client pinging over HTTP, change
//! statistics, report and alert mails received by a real SMTP server, the watchdog across a
//! restart, the outbox across an SMTP outage, retention, bad input, a large manifest.

use std::time::Duration;

use api::backup::retention;
use api::backup::service::{self, Bytes, PingKind};
use api::platform::clock::ManualClock;
use api::ServeConfig;
use chrono::{Datelike, Utc};
use domain::ids::BackupRunId;
use domain::plan::RetentionPolicy;
use journal::Actor;
use serde_json::json;
use serde_json::Value;
use tests::backup::{
    count_all_events, count_events, entry, eventually, fast, given_plan_and_token, manifest,
    outbox_settled, period_plan, ping, register_admin, register_customer, subject_is,
    watchdog_settled,
};
use tests::graphql::{bootstrap_admin, gql, WsClient};
use tests::smtp::SmtpServer;
use tests::TestApp;

fn sorted(mut list: Vec<String>) -> Vec<String> {
    list.sort();
    list
}

fn empty_body() -> futures::stream::Iter<std::vec::IntoIter<Result<Bytes, std::io::Error>>> {
    futures::stream::iter(Vec::new())
}

#[tokio::test]
async fn a_cron_client_gets_exact_change_stats_and_a_report_mail_for_each_run() {
    tests::init_test_log();
    let smtp = SmtpServer::start().await;
    let app = TestApp::spawn_with(|config| fast(config, Some(smtp.url()), None)).await;
    let customer = register_customer(&app.state, "Acme Backup", "it@acme.example").await;
    let plan = period_plan(
        86_400,
        3_600,
        &["ops@acme.example"],
        RetentionPolicy::default(),
    );
    let token = given_plan_and_token(&app.state, customer, plan).await;

    // Night 1: start, then success with the first manifest.
    let (status, _) = ping(&app, &token, "/start?rid=night-1", "").await;
    assert_eq!(status, 200);
    let first = manifest(&[
        entry("/data/a.txt", 100, 1_700_000_000, "aa"),
        entry("/data/b.txt", 200, 1_700_000_000, "bb"),
        entry("/data/c.txt", 300, 1_700_000_000, "cc"),
        entry("/data/d.txt", 400, 1_700_000_000, "dd"),
    ]);
    let (status, body) = ping(&app, &token, "?rid=night-1", first).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["recorded"], true);
    assert_eq!(body["result"]["kind"], "manifest");
    assert_eq!(body["result"]["entries"], 4);
    assert_eq!(body["result"]["bytes"], 1000);
    assert_eq!(
        body["result"]["changes"],
        Value::Null,
        "first run: nothing to compare"
    );

    // Night 2 (lines in any order): a unchanged, b resized, c deleted, d touched, e and f new.
    let (status, _) = ping(&app, &token, "/start?rid=night-2", "").await;
    assert_eq!(status, 200);
    let second = manifest(&[
        entry("/data/f.txt", 10, 1_700_090_000, "ff"),
        entry("/data/b.txt", 250, 1_700_090_000, "b2"),
        entry("/data/a.txt", 100, 1_700_000_000, "aa"),
        entry("/data/e.txt", 5_000, 1_700_090_000, "ee"),
        entry("/data/d.txt", 400, 1_700_090_000, "dd"),
    ]);
    let (status, body) = ping(&app, &token, "/0?rid=night-2", second.clone()).await;
    assert_eq!(status, 200, "{body}");
    let changes = &body["result"]["changes"];
    assert_eq!(changes["created"], 2);
    assert_eq!(changes["created_bytes"], 5_010);
    assert_eq!(changes["modified"], 2);
    assert_eq!(changes["modified_bytes"], 650);
    assert_eq!(changes["deleted"], 1);
    assert_eq!(changes["deleted_bytes"], 300);
    assert_eq!(changes["unchanged"], 1);
    assert_eq!(changes["unchanged_bytes"], 100);
    assert_eq!(changes["largest"][0]["path"], "/data/e.txt");
    assert_eq!(changes["largest"][0]["kind"], "created");
    assert_eq!(changes["largest"].as_array().map(Vec::len), Some(5));

    // The same stats are what the log recorded.
    let (payload,): (Value,) = sqlx::query_as(
        "SELECT payload FROM events WHERE event_type = 'BackupRunSucceeded' \
         ORDER BY position DESC LIMIT 1",
    )
    .fetch_one(&app.pool)
    .await
    .expect("event");
    assert_eq!(payload["Succeeded"]["result"]["changes"], *changes);
    assert!(payload["Succeeded"]["duration_secs"].is_u64());

    // A retry of the same success records nothing new.
    let events_before = count_all_events(&app).await;
    let (status, body) = ping(&app, &token, "?rid=night-2", second).await;
    assert_eq!(status, 200);
    assert_eq!(body["recorded"], false);
    assert_eq!(count_all_events(&app).await, events_before);

    // Only the newest success's manifest is kept.
    let (manifests,): (i64,) = sqlx::query_as("SELECT count(*) FROM backup_manifests")
        .fetch_one(&app.pool)
        .await
        .expect("count");
    assert_eq!(manifests, 1);

    // Two reports and a welcome mail arrive; the token is in none of them.
    let reports = smtp
        .wait_for(
            2,
            Duration::from_secs(20),
            subject_is("Backup succeeded: Acme Backup"),
        )
        .await;
    let welcome = smtp
        .wait_for(
            1,
            Duration::from_secs(20),
            subject_is("Backup monitoring is set up: Acme Backup"),
        )
        .await;
    assert_eq!(
        sorted(welcome[0].recipients.clone()),
        vec!["it@acme.example", "ops@acme.example"]
    );
    assert!(welcome[0].data.contains("/ping/$TOKEN/start"));
    let second_report = reports
        .iter()
        .find(|mail| mail.data.contains("Created: 2 files"))
        .expect("the second report has the changes");
    assert_eq!(second_report.recipients, vec!["ops@acme.example"]);
    for line in [
        "Files: 5, 5.8 KB (5760 bytes)",
        "Created: 2 files, 5.0 KB (5010 bytes)",
        "Modified: 2 files, 650 B",
        "Deleted: 1 files, 300 B",
        "Unchanged: 1 files, 100 B",
        "created /data/e.txt",
    ] {
        assert!(
            second_report.data.contains(line),
            "{line} in {}",
            second_report.data
        );
    }
    assert!(second_report.data.contains("text/html"));
    for mail in smtp.received() {
        assert!(!mail.data.contains(&token), "a mail holds the token");
    }
    app.stop().await;
}

#[tokio::test]
async fn a_missed_deadline_goes_grace_then_down_alerts_once_across_a_restart_and_recovers() {
    tests::init_test_log();
    let smtp = SmtpServer::start().await;
    let clock = ManualClock::new();
    let configure = |config: &mut ServeConfig| fast(config, Some(smtp.url()), Some(clock.clone()));
    let app = TestApp::spawn_with(configure).await;
    register_admin(&app.state, "boss@savecorp.example").await;
    let customer = register_customer(&app.state, "Bolt Garage", "owner@bolt.example").await;
    let plan = period_plan(60, 30, &["ops@bolt.example"], RetentionPolicy::default());
    let token = given_plan_and_token(&app.state, customer, plan).await;
    let (status, _) = ping(&app, &token, "", "").await;
    assert_eq!(status, 200);
    let status_now = |app: &TestApp| {
        let state = app.state.clone();
        async move {
            service::backup_status(&state.backup_state(), customer)
                .await
                .expect("status")
                .status
        }
    };
    assert_eq!(status_now(&app).await, "up");

    clock.advance(Duration::from_secs(61));
    assert_eq!(status_now(&app).await, "grace");
    watchdog_settled(&[&app]).await;
    assert_eq!(
        count_events(&app, "CustomerBackupOverdue").await,
        0,
        "not down in grace"
    );

    clock.advance(Duration::from_secs(30));
    assert_eq!(status_now(&app).await, "down");
    eventually(20, "overdue and its follow-up request", || async {
        count_events(&app, "CustomerBackupOverdue").await == 1
            && count_events(&app, "RequestOpened").await == 1
    })
    .await;
    let (request,): (Value,) =
        sqlx::query_as("SELECT payload FROM events WHERE event_type = 'RequestOpened'")
            .fetch_one(&app.pool)
            .await
            .expect("request");
    assert_eq!(request["Opened"]["request_type"], "incident");
    assert_eq!(request["Opened"]["priority"], "high");
    assert_eq!(request["Opened"]["customer_id"], customer.to_string());
    let overdue = smtp
        .wait_for(
            1,
            Duration::from_secs(20),
            subject_is("Backup overdue: Bolt Garage"),
        )
        .await;
    assert_eq!(
        sorted(overdue[0].recipients.clone()),
        vec!["boss@savecorp.example", "ops@bolt.example"]
    );
    assert_eq!(
        overdue[0].header("Bcc"),
        None,
        "admins are not shown to the customer"
    );

    // Restart on the same database: the new watchdog rebuilds its state from the log.
    let database = app.database.clone();
    app.stop().await;
    clock.advance(Duration::from_secs(3_600));
    let app = TestApp::spawn_on(database, configure).await;
    watchdog_settled(&[&app]).await;
    assert_eq!(count_events(&app, "CustomerBackupOverdue").await, 1);
    assert_eq!(count_events(&app, "RequestOpened").await, 1);

    // The next success recovers, with the downtime.
    let (status, _) = ping(&app, &token, "", "").await;
    assert_eq!(status, 200);
    eventually(20, "recovered", || async {
        count_events(&app, "CustomerBackupRecovered").await == 1
    })
    .await;
    let (recovered,): (Value,) =
        sqlx::query_as("SELECT payload FROM events WHERE event_type = 'CustomerBackupRecovered'")
            .fetch_one(&app.pool)
            .await
            .expect("recovered");
    let downtime = recovered["BackupRecovered"]["downtime_secs"]
        .as_u64()
        .expect("downtime");
    assert!((3_600..3_700).contains(&downtime), "downtime {downtime}");
    let recovered_mails = smtp
        .wait_for(
            1,
            Duration::from_secs(20),
            subject_is("Backup recovered: Bolt Garage"),
        )
        .await;
    assert!(recovered_mails[0].data.contains("Downtime: 1h 00m"));
    assert_eq!(status_now(&app).await, "up");

    watchdog_settled(&[&app]).await;
    outbox_settled(&app.pool).await;
    let overdue_mails = smtp
        .received()
        .into_iter()
        .filter(subject_is("Backup overdue: Bolt Garage"))
        .count();
    assert_eq!(overdue_mails, 1, "exactly one overdue mail");
    assert_eq!(count_events(&app, "CustomerBackupOverdue").await, 1);
    assert_eq!(count_events(&app, "RequestOpened").await, 1);
    app.stop().await;
}

/// The next message of subscription `id` that carries an alert, within 20 s.
async fn next_alert(ws: &mut WsClient, id: &str) -> Value {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        let message = ws.next_within(left).await.expect("an alert in time");
        assert_eq!(message["id"], id, "{message}");
        let alert = &message["payload"]["data"]["alerts"]["alert"];
        if !alert.is_null() {
            return alert.clone();
        }
    }
}

#[tokio::test]
async fn a_failed_run_goes_down_at_once_alerts_once_per_incident_and_recovers_on_the_next_success()
{
    tests::init_test_log();
    let smtp = SmtpServer::start().await;
    let app = TestApp::spawn_with(|config| fast(config, Some(smtp.url()), None)).await;
    let admin = bootstrap_admin(&app).await;
    let customer = register_customer(&app.state, "Delta Clinic", "it@delta.example").await;
    let plan = period_plan(
        86_400,
        3_600,
        &["ops@delta.example"],
        RetentionPolicy::default(),
    );
    let token = given_plan_and_token(&app.state, customer, plan).await;
    let mut ws = WsClient::connect_as(&app, Some(&admin.access_token)).await;
    ws.subscribe(
        "alerts",
        "subscription { alerts { position alert { kind customerId } } }",
        json!({}),
    )
    .await;
    let first = ws.next().await.expect("first alerts message");
    assert!(
        first["payload"]["data"]["alerts"]["alert"].is_null(),
        "{first}"
    );
    assert_eq!(ping(&app, &token, "?rid=night-1", "").await.0, 200);
    let status_query = "query($id: ID!) { backupStatus(customerId: $id) { status downReason } \
                        backupRuns(customerId: $id, first: 1) \
                        { edges { node { clientRunId status exitStatus message } } } }";
    let variables = json!({"id": customer.to_string()});
    let answer = gql(
        &app,
        Some(&admin.access_token),
        status_query,
        variables.clone(),
    )
    .await;
    assert_eq!(answer.data("backupStatus")["status"], "up");

    // restic fails: 50 KiB of output whose end says why.
    let mut output = String::from("FIRST-LINE-OF-THE-LOG\n");
    while output.len() < 50 * 1024 {
        output.push_str("scanned /srv/share/some/file.bin\n");
    }
    output.push_str("Fatal: unable to create lock in backend: repository is already locked\n");
    output.push_str("restic: repository locked\n");
    let (status, answer) = ping(&app, &token, "/fail?rid=night-2", output.clone()).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["status"], "failed");

    // Down at once, with the reason, and the run keeps the last 10 KiB of its body.
    let answer = gql(
        &app,
        Some(&admin.access_token),
        status_query,
        variables.clone(),
    )
    .await;
    assert_eq!(
        answer.data("backupStatus")["status"],
        "down",
        "{:?}",
        answer.body
    );
    assert_eq!(answer.data("backupStatus")["downReason"], "failed");
    let failed_run = answer.data("backupRuns")["edges"][0]["node"].clone();
    assert_eq!(failed_run["clientRunId"], "night-2");
    assert_eq!(failed_run["status"], "FAILED");
    let message = failed_run["message"].as_str().expect("message");
    assert!(
        message.ends_with("restic: repository locked\n"),
        "{message}"
    );
    assert!(message.len() <= 10 * 1024 && message.len() > 10 * 1024 - 64);
    assert!(!message.contains("FIRST-LINE-OF-THE-LOG"));

    // One BackupFailed: the alert, a follow-up request, a mail to the recipients and admins.
    let alert = next_alert(&mut ws, "alerts").await;
    assert_eq!(alert["kind"], "BACKUP_FAILED");
    assert_eq!(alert["customerId"], customer.to_string());
    eventually(20, "the failure and its follow-up request", || async {
        count_events(&app, "CustomerBackupFailed").await == 1
            && count_events(&app, "RequestOpened").await == 1
    })
    .await;
    let (request,): (Value,) =
        sqlx::query_as("SELECT payload FROM events WHERE event_type = 'RequestOpened'")
            .fetch_one(&app.pool)
            .await
            .expect("request");
    assert_eq!(request["Opened"]["request_type"], "incident");
    assert_eq!(request["Opened"]["priority"], "high");
    assert!(request["Opened"]["message"]
        .as_str()
        .is_some_and(
            |text| text.starts_with("Backups failed") && text.contains("repository locked")
        ));
    let failed_mails = smtp
        .wait_for(
            1,
            Duration::from_secs(20),
            subject_is("Backup failed: Delta Clinic"),
        )
        .await;
    assert_eq!(
        sorted(failed_mails[0].recipients.clone()),
        vec![tests::graphql::ADMIN_EMAIL, "ops@delta.example"]
    );
    assert_eq!(failed_mails[0].header("Bcc"), None);
    assert!(failed_mails[0].data.contains("restic: repository locked"));

    // A second failure (an exit status) in the same incident: recorded, no second alert.
    let (status, answer) = ping(&app, &token, "/3?rid=night-3", "still locked").await;
    assert_eq!(status, 200, "{answer}");
    let answer = gql(
        &app,
        Some(&admin.access_token),
        status_query,
        variables.clone(),
    )
    .await;
    assert_eq!(
        answer.data("backupRuns")["edges"][0]["node"]["exitStatus"],
        3
    );
    assert_eq!(
        answer.data("backupRuns")["edges"][0]["node"]["message"],
        "still locked"
    );

    // The next success recovers (the watchdog folds the second failure before it).
    assert_eq!(ping(&app, &token, "?rid=night-4", "").await.0, 200);
    let alert = next_alert(&mut ws, "alerts").await;
    assert_eq!(alert["kind"], "BACKUP_RECOVERED", "no second failure alert");
    eventually(20, "recovered", || async {
        count_events(&app, "CustomerBackupRecovered").await == 1
    })
    .await;
    smtp.wait_for(
        1,
        Duration::from_secs(20),
        subject_is("Backup recovered: Delta Clinic"),
    )
    .await;
    assert_eq!(count_events(&app, "CustomerBackupFailed").await, 1);
    assert_eq!(count_events(&app, "RequestOpened").await, 1);
    let failed_mails = smtp
        .received()
        .into_iter()
        .filter(subject_is("Backup failed: Delta Clinic"))
        .count();
    assert_eq!(failed_mails, 1, "one failure mail per incident");
    let answer = gql(&app, Some(&admin.access_token), status_query, variables).await;
    assert_eq!(answer.data("backupStatus")["status"], "up");
    assert_eq!(answer.data("backupStatus")["downReason"], Value::Null);
    app.stop().await;
}

const HEALTH: &str = "query($c: ID!) { backupStatus(customerId: $c) { status downReason \
    lastSuccessAt failingSince expectedAt \
    lastRun { clientRunId status exitStatus finishedAt reportedAt stats { files bytes } } } }";

const PAGE: &str = "query($c: ID!, $first: Int, $after: String, $last: Int, $before: String) { \
    backupRuns(customerId: $c, first: $first, after: $after, last: $last, before: $before) { \
      totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } \
      edges { cursor node { clientRunId } } } }";

fn client_run_ids(connection: &Value) -> Vec<String> {
    connection["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|edge| {
            edge["node"]["clientRunId"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .collect()
}

#[tokio::test]
async fn runs_page_newest_first_from_the_read_model_and_the_status_shows_each_report_at_once() {
    tests::init_test_log();
    let app = TestApp::spawn_with(|config| fast(config, None, None)).await;
    let admin = bootstrap_admin(&app).await;
    let customer = register_customer(&app.state, "Echo Books", "it@echo.example").await;
    let plan = period_plan(86_400, 3_600, &[], RetentionPolicy::default());
    let token = given_plan_and_token(&app.state, customer, plan).await;
    let c = json!({"c": customer.to_string()});
    let token_of_admin = admin.access_token.clone();
    let health = |_: &TestApp| async {
        gql(&app, Some(&token_of_admin), HEALTH, c.clone())
            .await
            .data("backupStatus")
            .clone()
    };
    let before_any = health(&app).await;
    assert_eq!(before_any["status"], "new");
    assert!(before_any["lastRun"].is_null());

    // Each report shows in the status the moment its ping is answered (read-your-writes).
    let body = manifest(&[
        entry("/data/a.txt", 100, 1_700_000_000, "aa"),
        entry("/data/b.txt", 250, 1_700_000_000, "bb"),
    ]);
    assert_eq!(ping(&app, &token, "?rid=night-1", body).await.0, 200);
    let up = health(&app).await;
    assert_eq!(up["status"], "up", "{up}");
    assert_eq!(up["lastRun"]["clientRunId"], "night-1");
    assert_eq!(up["lastRun"]["stats"], json!({"files": 2, "bytes": 350}));
    assert_eq!(up["lastSuccessAt"], up["lastRun"]["finishedAt"]);
    assert!(up["failingSince"].is_null());
    assert!(up["expectedAt"].is_string());

    assert_eq!(ping(&app, &token, "?rid=night-2", "").await.0, 200);
    assert_eq!(
        ping(&app, &token, "/fail?rid=night-3", "disk full").await.0,
        200
    );
    let failing = health(&app).await;
    assert_eq!(failing["status"], "down", "{failing}");
    assert_eq!(failing["downReason"], "failed");
    assert_eq!(failing["lastRun"]["clientRunId"], "night-3");
    assert_eq!(failing["failingSince"], failing["lastRun"]["finishedAt"]);
    let first_failure = failing["failingSince"].clone();

    assert_eq!(ping(&app, &token, "/3?rid=night-4", "again").await.0, 200);
    let still = health(&app).await;
    assert_eq!(still["lastRun"]["clientRunId"], "night-4");
    assert_eq!(still["lastRun"]["exitStatus"], 3);
    assert_eq!(
        still["failingSince"], first_failure,
        "the incident began at the first failure"
    );

    // Pages: newest first, forward with first/after, back with last/before.
    let page = |mut variables: Value| {
        variables["c"] = json!(customer.to_string());
        let app = &app;
        let token = &token_of_admin;
        async move {
            let answer = gql(app, Some(token), PAGE, variables).await;
            answer.data("backupRuns").clone()
        }
    };
    let first = page(json!({"first": 2})).await;
    assert_eq!(first["totalCount"], 4);
    assert_eq!(client_run_ids(&first), ["night-4", "night-3"]);
    assert_eq!(first["pageInfo"]["hasNextPage"], true);
    assert_eq!(first["pageInfo"]["hasPreviousPage"], false);
    let second = page(json!({"first": 2, "after": first["pageInfo"]["endCursor"]})).await;
    assert_eq!(client_run_ids(&second), ["night-2", "night-1"]);
    assert_eq!(second["pageInfo"]["hasNextPage"], false);
    assert_eq!(second["pageInfo"]["hasPreviousPage"], true);
    let back = page(json!({"last": 2, "before": second["pageInfo"]["startCursor"]})).await;
    assert_eq!(client_run_ids(&back), ["night-4", "night-3"]);
    assert_eq!(back["pageInfo"]["hasPreviousPage"], false);
    assert_eq!(back["pageInfo"]["hasNextPage"], true);
    let all = page(json!({})).await;
    assert_eq!(
        client_run_ids(&all),
        ["night-4", "night-3", "night-2", "night-1"]
    );

    // Bad paging arguments have stable codes.
    for variables in [
        json!({"c": customer.to_string(), "first": 101}),
        json!({"c": customer.to_string(), "after": "not-a-cursor"}),
        json!({"c": customer.to_string(), "first": 1, "last": 1}),
    ] {
        let answer = gql(&app, Some(&admin.access_token), PAGE, variables.clone()).await;
        assert_eq!(
            answer.code(),
            Some("VALIDATION"),
            "{variables}: {:?}",
            answer.body
        );
    }
    let unknown = gql(
        &app,
        Some(&admin.access_token),
        HEALTH,
        json!({"c": domain::ids::CustomerId::new().to_string()}),
    )
    .await;
    assert_eq!(unknown.code(), Some("NOT_FOUND"));
    app.stop().await;
}

#[tokio::test]
async fn a_run_that_times_out_counts_as_a_failure_and_the_next_success_recovers() {
    tests::init_test_log();
    let clock = ManualClock::new();
    let app = TestApp::spawn_with(|config| fast(config, None, Some(clock.clone()))).await;
    let customer = register_customer(&app.state, "Fox Hotel", "it@fox.example").await;
    let plan = period_plan(
        86_400,
        3_600,
        &["ops@fox.example"],
        RetentionPolicy::default(),
    );
    let token = given_plan_and_token(&app.state, customer, plan).await;
    assert_eq!(ping(&app, &token, "?rid=night-1", "").await.0, 200);
    assert_eq!(ping(&app, &token, "/start?rid=night-2", "").await.0, 200);

    // Still running past its grace: the watchdog times it out, and that is a failure.
    clock.advance(Duration::from_secs(3_601));
    eventually(20, "the run timed out and the backups failed", || async {
        count_events(&app, "BackupRunTimedOut").await == 1
            && count_events(&app, "CustomerBackupFailed").await == 1
    })
    .await;
    // The status is read from the `backups` read model, which the watchdog's commands do not
    // wait for: it shows the failure once projected.
    eventually(20, "the status down (failed)", || async {
        let status = service::backup_status(&app.state.backup_state(), customer)
            .await
            .expect("status");
        (status.status, status.down_reason) == ("down", Some("failed"))
    })
    .await;
    let (failed,): (Value,) =
        sqlx::query_as("SELECT payload FROM events WHERE event_type = 'CustomerBackupFailed'")
            .fetch_one(&app.pool)
            .await
            .expect("failed");
    assert_eq!(failed["BackupFailed"]["exit_status"], Value::Null);
    eventually(20, "its follow-up request", || async {
        count_events(&app, "RequestOpened").await == 1
    })
    .await;

    assert_eq!(ping(&app, &token, "?rid=night-3", "").await.0, 200);
    eventually(20, "recovered", || async {
        count_events(&app, "CustomerBackupRecovered").await == 1
    })
    .await;
    let status = service::backup_status(&app.state.backup_state(), customer)
        .await
        .expect("status");
    assert_eq!((status.status, status.down_reason), ("up", None));
    app.stop().await;
}

#[tokio::test]
async fn mail_files_and_their_folder_are_readable_by_the_server_user_only() {
    use std::os::unix::fs::PermissionsExt as _;
    tests::init_test_log();
    let app = TestApp::spawn_with(|config| fast(config, None, None)).await;
    let customer = register_customer(&app.state, "Echo Farm", "it@echo.example").await;
    service::issue_ingest_token(&app.state.backup_state(), Actor::System, customer)
        .await
        .expect("token issued");
    let mail_dir = app.state.mail.settings.mail_dir.clone();
    let mail_files = || {
        std::fs::read_dir(&mail_dir)
            .map(|entries| {
                entries
                    .filter_map(Result::ok)
                    .map(|entry| entry.path())
                    .filter(|path| path.extension().is_some_and(|ext| ext == "eml"))
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default()
    };
    eventually(20, "the welcome mail is written", || async {
        !mail_files().is_empty()
    })
    .await;
    let mode = |path: &std::path::Path| {
        std::fs::metadata(path)
            .expect("metadata")
            .permissions()
            .mode()
            & 0o777
    };
    assert_eq!(mode(&mail_dir), 0o700, "the mail folder");
    for file in mail_files() {
        let text = std::fs::read_to_string(&file).expect("mail file");
        assert!(
            text.contains("it@echo.example"),
            "it holds the customer's address"
        );
        assert_eq!(mode(&file), 0o600, "{}", file.display());
    }
    app.stop().await;
}

/// A success committed while a write transaction elsewhere in the cluster stays open is not
/// returned by the ordered log tail until that transaction ends. The deadline passing in the
/// meantime must not make the watchdog call the backup overdue (no alert, no follow-up).
#[tokio::test]
async fn a_success_the_log_tail_cannot_return_yet_is_not_called_overdue() {
    tests::init_test_log();
    let postgres = tests::TestPostgres::private().await;
    let clock = ManualClock::new();
    let database = postgres.fresh_database().await;
    let app = TestApp::spawn_in(&postgres, database, |config| {
        fast(config, None, Some(clock.clone()))
    })
    .await;
    let customer = register_customer(&app.state, "Bolt Garage", "owner@bolt.example").await;
    let plan = period_plan(60, 30, &["ops@bolt.example"], RetentionPolicy::default());
    let token = given_plan_and_token(&app.state, customer, plan).await;
    assert_eq!(ping(&app, &token, "", "").await.0, 200);

    let long_transaction = postgres.hold_watermark().await;
    clock.advance(Duration::from_secs(80));
    assert_eq!(
        ping(&app, &token, "", "").await.0,
        200,
        "a success in grace"
    );
    // Down by the first success (60 + 30 s ago), up by the second one (30 s ago).
    clock.advance(Duration::from_secs(30));
    watchdog_settled(&[&app]).await;
    assert_eq!(count_events(&app, "CustomerBackupOverdue").await, 0);
    long_transaction.rollback().await.expect("rollback");
    watchdog_settled(&[&app]).await;
    assert_eq!(count_events(&app, "CustomerBackupOverdue").await, 0);
    assert_eq!(count_events(&app, "RequestOpened").await, 0);
    app.stop().await;
}

#[tokio::test]
async fn an_alert_sent_while_the_smtp_server_is_down_is_delivered_once_when_it_is_back() {
    tests::init_test_log();
    let mut smtp = SmtpServer::start().await;
    let clock = ManualClock::new();
    let app =
        TestApp::spawn_with(|config| fast(config, Some(smtp.url()), Some(clock.clone()))).await;
    let customer = register_customer(&app.state, "Cora Dental", "cora@dental.example").await;
    let plan = period_plan(60, 0, &["cora@dental.example"], RetentionPolicy::default());
    service::set_backup_plan(
        &app.state.backup_state(),
        Actor::System,
        customer,
        plan,
        None,
    )
    .await
    .expect("plan set");
    service::issue_ingest_token(&app.state.backup_state(), Actor::System, customer)
        .await
        .expect("token");
    smtp.wait_for(1, Duration::from_secs(20), |_| true).await;

    smtp.stop().await;
    clock.advance(Duration::from_secs(61));
    let failed_attempts = || async {
        let row: Option<(i32, Option<String>, Option<chrono::DateTime<Utc>>)> = sqlx::query_as(
            "SELECT attempts, last_error, sent_at FROM mail_outbox WHERE kind = 'overdue'",
        )
        .fetch_optional(&app.pool)
        .await
        .expect("outbox");
        row
    };
    eventually(30, "two failed delivery attempts", || async {
        matches!(failed_attempts().await, Some((attempts, Some(_), None)) if attempts >= 2)
    })
    .await;
    let admin_view = api::mail::outbox::outbox_entries(&app.pool, 10)
        .await
        .expect("admin read");
    let overdue_row = admin_view
        .iter()
        .find(|row| row.kind == "overdue")
        .expect("overdue row");
    assert!(overdue_row.last_error.is_some());
    assert!(overdue_row.sent_at.is_none());

    smtp.restart().await;
    smtp.wait_for(
        1,
        Duration::from_secs(20),
        subject_is("Backup overdue: Cora Dental"),
    )
    .await;
    eventually(10, "the row is marked sent", || async {
        matches!(failed_attempts().await, Some((_, _, Some(_))))
    })
    .await;
    // Every delivery of a row ends before the row is marked sent; no other row is pending.
    outbox_settled(&app.pool).await;
    let delivered = smtp
        .received()
        .into_iter()
        .filter(subject_is("Backup overdue: Cora Dental"))
        .collect::<Vec<_>>();
    assert_eq!(delivered.len(), 1, "delivered once");
    let (event_id,): (uuid::Uuid,) =
        sqlx::query_as("SELECT event_id FROM events WHERE event_type = 'CustomerBackupOverdue'")
            .fetch_one(&app.pool)
            .await
            .expect("event");
    assert_eq!(
        delivered[0].header("Message-ID"),
        Some(format!("<{event_id}@savecorp.mail>"))
    );
    app.stop().await;
}

#[tokio::test]
async fn retention_follows_restics_documented_daily_weekly_and_last_examples() {
    tests::init_test_log();
    let clock = ManualClock::new();
    let app = TestApp::spawn_with(|config| fast(config, None, Some(clock.clone()))).await;
    let customer = register_customer(&app.state, "Delta Films", "delta@films.example").await;
    // No rule while the runs come in: everything is kept.
    let plan = period_plan(86_400, 3_600, &[], RetentionPolicy::default());
    service::set_backup_plan(
        &app.state.backup_state(),
        Actor::System,
        customer,
        plan.clone(),
        None,
    )
    .await
    .expect("plan set");
    let identity = service::authenticate(
        &app.state.backup_state(),
        &service::issue_ingest_token(&app.state.backup_state(), Actor::System, customer)
            .await
            .expect("token")
            .token,
    )
    .await
    .expect("authenticates");
    // 40 daily backups; day 20 also had a failed attempt before its success, the last day a
    // failed attempt after it.
    let mut successes: Vec<(BackupRunId, chrono::DateTime<Utc>)> = Vec::new();
    for day in 0..40 {
        clock.advance(Duration::from_secs(86_400));
        if day == 20 {
            service::report_backup_run(
                &app.state.backup_state(),
                identity,
                PingKind::Fail {
                    exit_status: Some(1),
                },
                None,
                empty_body(),
            )
            .await
            .expect("fail reported");
            clock.advance(Duration::from_secs(60));
        }
        let outcome = service::report_backup_run(
            &app.state.backup_state(),
            identity,
            PingKind::Success,
            None,
            empty_body(),
        )
        .await
        .expect("success reported");
        successes.push((outcome.run_id, app.state.backup.now()));
    }
    clock.advance(Duration::from_secs(60));
    let last_failure = service::report_backup_run(
        &app.state.backup_state(),
        identity,
        PingKind::Fail { exit_status: None },
        None,
        empty_body(),
    )
    .await
    .expect("fail reported")
    .run_id;
    assert!(
        retention::apply_retention(&app.state.backup_state(), customer)
            .await
            .expect("retention")
            .is_empty()
    );

    // restic: "--keep-daily 7 --keep-weekly 5 keeps the most recent 7 daily snapshots, then
    // the last-day-of-the-weeks" (the 7 dailies already include a week).
    let policy = RetentionPolicy {
        keep_daily: Some(7),
        keep_weekly: Some(5),
        ..RetentionPolicy::default()
    };
    let plan = domain::plan::BackupPlan {
        retention: policy,
        ..plan
    };
    service::set_backup_plan(
        &app.state.backup_state(),
        Actor::System,
        customer,
        plan.clone(),
        None,
    )
    .await
    .expect("plan set");
    retention::apply_retention(&app.state.backup_state(), customer)
        .await
        .expect("retention");
    let mut expected_kept: Vec<BackupRunId> = successes.iter().rev().take(7).map(|s| s.0).collect();
    let mut weeks_seen = Vec::new();
    for (run_id, at) in successes.iter().rev() {
        let week = at.iso_week();
        let week = (week.year(), week.week());
        if !weeks_seen.contains(&week) && weeks_seen.len() < 5 {
            weeks_seen.push(week);
            expected_kept.push(*run_id);
        }
    }
    expected_kept.push(last_failure);
    expected_kept.sort();
    expected_kept.dedup();
    let runs = service::backup_runs(&app.state.backup_state(), customer)
        .await
        .expect("runs");
    assert_eq!(runs.len(), 42);
    let mut kept: Vec<BackupRunId> = runs
        .iter()
        .filter(|run| !run.expired)
        .map(|run| run.run_id)
        .collect();
    kept.sort();
    assert_eq!(kept, expected_kept);
    let expired = service::expired_backup_runs(&app.state.backup_state(), customer)
        .await
        .expect("expired");
    assert_eq!(expired.len(), 42 - expected_kept.len());
    assert!(expired.iter().all(|run| run.expired));
    assert!(
        expired
            .iter()
            .any(|run| run.status == domain::backup_run::RunStatus::Failed),
        "the failure followed by a success is expired"
    );

    // restic: "--keep-last n keeps the n last (most recent) snapshots"; applying it twice
    // changes nothing the second time.
    let plan = domain::plan::BackupPlan {
        retention: RetentionPolicy {
            keep_last: Some(3),
            ..RetentionPolicy::default()
        },
        ..plan
    };
    service::set_backup_plan(
        &app.state.backup_state(),
        Actor::System,
        customer,
        plan,
        None,
    )
    .await
    .expect("plan set");
    // The watchdog applies a new plan's policy too: whichever runs first expires the runs,
    // the other finds nothing left to do.
    retention::apply_retention(&app.state.backup_state(), customer)
        .await
        .expect("retention");
    assert!(
        retention::apply_retention(&app.state.backup_state(), customer)
            .await
            .expect("retention")
            .is_empty()
    );
    let runs = service::backup_runs(&app.state.backup_state(), customer)
        .await
        .expect("runs");
    let mut kept_successes: Vec<BackupRunId> = runs
        .iter()
        .filter(|run| !run.expired && run.status == domain::backup_run::RunStatus::Succeeded)
        .map(|run| run.run_id)
        .collect();
    kept_successes.sort();
    let mut newest_three: Vec<BackupRunId> = successes.iter().rev().take(3).map(|s| s.0).collect();
    newest_three.sort();
    assert_eq!(kept_successes, newest_three);
    let newest = successes.last().expect("runs").0;
    assert!(runs.iter().any(|run| run.run_id == newest && !run.expired));
    app.stop().await;
}

#[tokio::test]
async fn wrong_or_revoked_tokens_are_refused_and_customers_never_touch_each_others_runs() {
    tests::init_test_log();
    let app = TestApp::spawn_with(|config| fast(config, None, None)).await;
    let alice = register_customer(&app.state, "Alice Arts", "alice@arts.example").await;
    let bob = register_customer(&app.state, "Bob Bakery", "bob@bakery.example").await;
    let alice_token = service::issue_ingest_token(&app.state.backup_state(), Actor::System, alice)
        .await
        .expect("token");
    let bob_token = service::issue_ingest_token(&app.state.backup_state(), Actor::System, bob)
        .await
        .expect("token")
        .token;

    let events_before = count_all_events(&app).await;
    let forged = format!("sci_{}", "ab".repeat(48));
    for wrong in [
        "nope",
        forged.as_str(),
        &alice_token.token[..alice_token.token.len() - 1],
    ] {
        let (status, body) = ping(&app, wrong, "", "").await;
        assert_eq!(status, 401, "{wrong}: {body}");
        assert_eq!(body["code"], "UNAUTHENTICATED");
    }
    assert_eq!(count_all_events(&app).await, events_before);

    // The same client run id on two customers: two different runs.
    let (status, alice_run) = ping(&app, &alice_token.token, "/start?rid=nightly", "").await;
    assert_eq!(status, 200);
    let (status, bob_run) = ping(&app, &bob_token, "/fail?rid=nightly", "disk full").await;
    assert_eq!(status, 200);
    assert_ne!(alice_run["run_id"], bob_run["run_id"]);
    let alice_runs = service::backup_runs(&app.state.backup_state(), alice)
        .await
        .expect("runs");
    let bob_runs = service::backup_runs(&app.state.backup_state(), bob)
        .await
        .expect("runs");
    assert_eq!(alice_runs.len(), 1);
    assert_eq!(alice_runs[0].status, domain::backup_run::RunStatus::Running);
    assert_eq!(bob_runs.len(), 1);
    assert_eq!(bob_runs[0].status, domain::backup_run::RunStatus::Failed);

    // Revoked: refused, nothing recorded.
    service::revoke_ingest_token(
        &app.state.backup_state(),
        Actor::System,
        alice,
        alice_token.token_id,
    )
    .await
    .expect("revoked");
    let events_before = count_all_events(&app).await;
    let (status, _) = ping(&app, &alice_token.token, "?rid=nightly", "").await;
    assert_eq!(status, 401);
    assert_eq!(count_all_events(&app).await, events_before);
    let error = service::revoke_ingest_token(
        &app.state.backup_state(),
        Actor::System,
        bob,
        alice_token.token_id,
    )
    .await
    .expect_err("not bob's token");
    assert_eq!(error.code(), "TOKEN_NOT_FOUND");

    // Malformed manifests: rejected with the line number, nothing recorded.
    let good = entry("/x/1", 1, 1, "h");
    let cases: Vec<(String, u16, Option<u64>)> = vec![
        (
            format!("{good}\n{{\"path\":\"/x/2\",\"size\":\"big\"}}\n"),
            400,
            Some(2),
        ),
        (
            format!("{good}\n\n{}\n", entry("", 1, 1, "h")),
            400,
            Some(3),
        ),
        (format!("{good}\nnot json at all\n"), 400, Some(2)),
        (
            format!("{good}\n{}\n\n{good}\n", entry("/x/2", 1, 1, "h")),
            400,
            Some(4),
        ),
        (
            format!(
                "{good}\n{{\"path\":\"{}\",\"size\":1,\"mtime\":1}}\n",
                "p".repeat(70_000)
            ),
            413,
            None,
        ),
    ];
    for (body, expected_status, expected_line) in cases {
        let events_before = count_all_events(&app).await;
        let (status, answer) = ping(&app, &bob_token, "?rid=bad", body).await;
        assert_eq!(status, expected_status, "{answer}");
        assert_eq!(answer["line"].as_u64(), expected_line, "{answer}");
        if let Some(line) = expected_line {
            let message = answer["message"].as_str().unwrap_or_default();
            assert!(message.starts_with(&format!("line {line}: ")), "{message}");
        }
        assert_eq!(
            count_all_events(&app).await,
            events_before,
            "nothing recorded"
        );
        let (entries,): (i64,) = sqlx::query_as("SELECT count(*) FROM backup_manifest_entries")
            .fetch_one(&app.pool)
            .await
            .expect("count");
        assert_eq!(entries, 0, "nothing staged");
    }

    // Unknown actions are not pings; a log needs a run.
    let (status, _) = ping(&app, &bob_token, "/reboot", "").await;
    assert_eq!(status, 404);
    let (status, answer) = ping(&app, &bob_token, "/log", "some log").await;
    assert_eq!(status, 404, "{answer}");

    // Tokens are nowhere in the log.
    for token in [&alice_token.token, &bob_token] {
        let (found,): (i64,) = sqlx::query_as(
            "SELECT count(*) FROM events WHERE payload::text LIKE '%' || $1 || '%' \
             OR metadata::text LIKE '%' || $1 || '%'",
        )
        .bind(token)
        .fetch_one(&app.pool)
        .await
        .expect("search");
        assert_eq!(found, 0);
    }
    app.stop().await;
}

/// Peak resident memory of a process (VmHWM), in bytes.
fn peak_memory(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| {
            rest.trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<u64>()
                .ok()
        })
        .map(|kib| kib * 1024)
        .expect("VmHWM")
}

/// A manifest of `count` files (about 200 bytes a line); `changed` shifts every 10th size.
fn big_manifest(count: usize, changed: bool) -> String {
    let mut body = String::with_capacity(count * 210);
    for index in 0..count {
        let size = if changed && index % 10 == 0 {
            index + 7
        } else {
            index
        };
        let path = format!(
            "/srv/share/projects/{:04}/assets/file-{index:08}.bin",
            index / 1000
        );
        body.push_str(&entry(
            &path,
            size as u64,
            1_700_000_000,
            &format!("{index:064x}"),
        ));
        body.push('\n');
    }
    body
}

/// 200k entries keep the suite fast on 2 cores. Measured once by hand with `ENTRIES` set to
/// 1 000 000 (debug build): two 168 MB bodies (1M vs 1M diff) in 145 s, peak server memory
/// growth 13 MB; with 200k: two 33 MB bodies in 25 s, growth 12 MB.
#[tokio::test]
async fn a_200k_entry_manifest_is_ingested_over_http_in_bounded_memory() {
    tests::init_test_log();
    const ENTRIES: usize = 200_000;
    let postgres = tests::TestPostgres::get().await;
    let database = postgres.fresh_database().await;
    let auth = api::auth::AuthService::new(
        api::auth::tokens::TokenKeys::from_secret(api::auth::TEST_JWT_SECRET.as_bytes()),
        api::auth::AuthConfig::default(),
    );
    let state = api::transport::state::AppState::new(postgres.pool(&database, 4).await, auth);
    let customer = register_customer(&state, "Echo Storage", "echo@storage.example").await;
    let token = service::issue_ingest_token(&state.backup_state(), Actor::System, customer)
        .await
        .expect("token")
        .token;

    // The server as its own process, so its memory is its own.
    let data_dir = tempfile::tempdir().expect("data folder");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_savecorp-under-test"))
        .arg("serve")
        .env("DATABASE_URL", postgres.url(&database))
        .env("SAVECORP_DATA_DIR", data_dir.path())
        .env("SAVECORP_LISTEN", "127.0.0.1:0")
        .env_remove("RUST_LOG")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("server starts");
    let stderr = child.stderr.take().expect("stderr");
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
        {
            if let Some(rest) = line.split("address=").nth(1) {
                let address = rest
                    .split_whitespace()
                    .next()
                    .unwrap_or_default()
                    .to_owned();
                let _ = sender.send(address);
            }
        }
    });
    let address = receiver
        .recv_timeout(Duration::from_secs(90))
        .expect("the server logs its address");
    let client = reqwest::Client::new();
    let post = |suffix: String, body: String| {
        let request = client
            .post(format!("http://{address}/ping/{token}{suffix}"))
            .body(body);
        async move {
            let response = request.send().await.expect("ping");
            let status = response.status().as_u16();
            (
                status,
                response.json::<Value>().await.unwrap_or(Value::Null),
            )
        }
    };
    // Warm up (pools, caches) before measuring.
    let (status, _) = post("?rid=warm-up".into(), big_manifest(1_000, false)).await;
    assert_eq!(status, 200);
    let baseline = peak_memory(child.id());

    let first = big_manifest(ENTRIES, false);
    let body_bytes = first.len() as u64;
    let started = std::time::Instant::now();
    let (status, body) = post("?rid=big-1".into(), first).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["result"]["entries"], ENTRIES as u64);
    let (status, body) = post("?rid=big-2".into(), big_manifest(ENTRIES, true)).await;
    assert_eq!(status, 200, "{body}");
    let elapsed = started.elapsed();
    let changes = &body["result"]["changes"];
    assert_eq!(changes["modified"], (ENTRIES / 10) as u64);
    assert_eq!(changes["unchanged"], (ENTRIES - ENTRIES / 10) as u64);
    assert_eq!(changes["created"], 0);
    assert_eq!(changes["deleted"], 0);

    let growth = peak_memory(child.id()).saturating_sub(baseline);
    eprintln!(
        "{ENTRIES} entries x2, body {body_bytes} bytes: {elapsed:?}, peak memory growth {growth} bytes"
    );
    // Holding one body whole (let alone its parsed entries, several times the text) would
    // exceed the body's size; streamed, growth stays at 12-22 MB whatever the load.
    assert!(
        growth < body_bytes,
        "peak memory grew by {growth} bytes for a {body_bytes}-byte body"
    );
    let _ = nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(i32::try_from(child.id()).expect("pid")),
        nix::sys::signal::Signal::SIGTERM,
    );
    let _ = child.wait();
}

/// Issue 20: the watchdog and the outbox feeder keep what they folded, with their checkpoint,
/// so that a restart reads only the events after it. Shown two ways: the restarted watchdog
/// reports where it resumed and that it read nothing (nothing happened meanwhile), and an old
/// event rewritten in the log while the server was down (the customer's name) is not read
/// again: the welcome mail after the restart still addresses the customer by the name the
/// feeder kept.
#[tokio::test]
async fn the_watchdog_and_the_outbox_resume_from_their_checkpoints_after_a_restart() {
    tests::init_test_log();
    let clock = ManualClock::new();
    let app = TestApp::spawn_with(|config| fast(config, None, Some(clock.clone()))).await;
    let customer = register_customer(&app.state, "Dora Bakery", "dora@bakery.example").await;
    let plan = period_plan(60, 30, &["ops@bakery.example"], RetentionPolicy::default());
    let token = given_plan_and_token(&app.state, customer, plan).await;
    assert_eq!(ping(&app, &token, "", "").await.0, 200);
    watchdog_settled(&[&app]).await;
    let fed = |pool: sqlx::PgPool| async move {
        let head = journal::LogReader::new(pool.clone())
            .committed_head()
            .await
            .expect("head");
        projections::projector::checkpoint(&pool, "mail_outbox")
            .await
            .expect("checkpoint")
            >= head
    };
    eventually(30, "the outbox fed", || fed(app.pool.clone())).await;
    let first = *app.state.backup.progress.watchdog.borrow();
    assert_eq!(first.resumed_from, journal::LogPosition::START);
    assert!(first.events_read >= 2, "the plan and the run: {first:?}");
    let (kept,): (i64,) = sqlx::query_as(
        "SELECT count(*) FROM process_manager_state \
         WHERE manager = 'backup_watchdog' AND key = $1",
    )
    .bind(customer.to_string())
    .fetch_one(&app.pool)
    .await
    .expect("state");
    assert_eq!(kept, 1, "the watchdog keeps the customer's facts");

    let database = app.database.clone();
    let pool = app.pool.clone();
    app.stop().await;
    let checkpoint = projections::projector::checkpoint(&pool, "backup_watchdog")
        .await
        .expect("checkpoint");
    assert!(checkpoint > journal::LogPosition::START);
    sqlx::query(
        "UPDATE events SET payload = jsonb_set(payload, '{Registered,name}', '\"Tampered Name\"') \
         WHERE aggregate_id = $1 AND event_type = 'CustomerRegistered'",
    )
    .bind(customer.to_string())
    .execute(&pool)
    .await
    .expect("rewrite");

    let app = TestApp::spawn_on(database, |config| fast(config, None, Some(clock.clone()))).await;
    let progress = app.state.backup.progress.watchdog.clone();
    eventually(30, "a watchdog pass after the restart", || {
        let progress = progress.clone();
        async move { progress.borrow().count >= 1 }
    })
    .await;
    let pass = *progress.borrow();
    assert_eq!(pass.resumed_from, checkpoint, "{pass:?}");
    assert_eq!(pass.events_read, 0, "nothing new to read: {pass:?}");

    api::backup::service::issue_ingest_token(&app.state.backup_state(), Actor::System, customer)
        .await
        .expect("token");
    eventually(30, "the outbox fed", || fed(app.pool.clone())).await;
    let bodies: Vec<(String,)> =
        sqlx::query_as("SELECT text_body FROM mail_outbox WHERE kind = 'welcome' ORDER BY id")
            .fetch_all(&app.pool)
            .await
            .expect("outbox");
    assert_eq!(bodies.len(), 2, "one welcome per token");
    for (body,) in &bodies {
        assert!(body.contains("Dora Bakery"), "{body}");
        assert!(!body.contains("Tampered"), "{body}");
    }
    // The watchdog still watches: the deadline passing makes the backups overdue, once.
    clock.advance(Duration::from_secs(100));
    eventually(30, "overdue", || async {
        count_events(&app, "CustomerBackupOverdue").await == 1
    })
    .await;
    watchdog_settled(&[&app]).await;
    assert_eq!(count_events(&app, "CustomerBackupOverdue").await, 1);
    app.stop().await;
}
