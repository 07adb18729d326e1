//! Retention through the API (PRODUCT §6), against restic's documented `forget` example
//! (`doc/060_forget.rst`: "one backup every Sunday for 12 weeks", 2019-09-01 .. 2019-11-17,
//! `forget --keep-daily 4` keeps the last four Sundays), then `--keep-within` (strictly after
//! the newest snapshot minus the duration), `--keep-weekly` + `--keep-monthly` (ORed) and
//! `--keep-last 1`. Policies are set with `setBackupPlan`, runs reported over the ping API at
//! controlled times, results read with `backupRuns` and `expiredBackupRuns`. The newest success
//! is never expired.

use std::sync::Arc;

use api::platform::clock::{ClockHandle, ManualClock};
use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use tests::backup::{eventually, ping, watchdog_settled};
use tests::graphql::{bootstrap_admin, gql, register_customer, unique_phone, Session};
use tests::{faults, wait, TestApp};

const SUNDAYS: [&str; 12] = [
    "2019-09-01",
    "2019-09-08",
    "2019-09-15",
    "2019-09-22",
    "2019-09-29",
    "2019-10-06",
    "2019-10-13",
    "2019-10-20",
    "2019-10-27",
    "2019-11-03",
    "2019-11-10",
    "2019-11-17",
];

const RUNS: &str = "query($c: ID!) { \
    backupRuns(customerId: $c, first: 100) { edges { node { id status finishedAt expired } } } \
    expiredBackupRuns(customerId: $c, first: 100) { edges { node { id status finishedAt expired } } } }";

/// The nodes of a connection.
fn nodes(connection: &Value) -> Vec<Value> {
    connection["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|edge| edge["node"].clone())
        .collect()
}

fn at(text: &str) -> DateTime<Utc> {
    text.parse().expect("an instant")
}

async fn set_plan(app: &TestApp, admin: &Session, customer: &str, retention: Value) {
    let mut plan = json!({"periodSecs": 7 * 86_400, "graceSecs": 3_600});
    if let (Some(plan), Some(retention)) = (plan.as_object_mut(), retention.as_object()) {
        plan.extend(retention.clone());
    }
    let answer = gql(
        app,
        Some(&admin.access_token),
        "mutation($c: ID!, $p: BackupPlanInput!) { setBackupPlan(customerId: $c, plan: $p) { status } }",
        json!({"c": customer, "p": plan}),
    )
    .await;
    answer.data("setBackupPlan");
}

/// What the API lists: `(finishedAt, status)` of the runs not expired, of the expired ones
/// (by their `expired` flag in `backupRuns`), and of `expiredBackupRuns`.
struct Listed {
    kept: Vec<String>,
    expired: Vec<String>,
    expired_list: Vec<String>,
}

async fn runs(app: &TestApp, admin: &Session, customer: &str) -> Listed {
    let answer = gql(app, Some(&admin.access_token), RUNS, json!({"c": customer})).await;
    let describe = |run: &Value| {
        format!(
            "{} {}",
            run["finishedAt"]
                .as_str()
                .map(|text| at(text).format("%Y-%m-%d %H:%M").to_string())
                .unwrap_or_default(),
            run["status"].as_str().unwrap_or_default()
        )
    };
    let all = nodes(answer.data("backupRuns"));
    let listed = nodes(answer.data("expiredBackupRuns"));
    assert!(listed.iter().all(|run| run["expired"] == true));
    let sorted = |mut list: Vec<String>| {
        list.sort();
        list
    };
    Listed {
        kept: sorted(
            all.iter()
                .filter(|run| run["expired"] == false)
                .map(describe)
                .collect(),
        ),
        expired: sorted(
            all.iter()
                .filter(|run| run["expired"] == true)
                .map(describe)
                .collect(),
        ),
        expired_list: sorted(listed.iter().map(describe).collect()),
    }
}

fn sundays(range: std::ops::Range<usize>) -> Vec<String> {
    SUNDAYS[range]
        .iter()
        .map(|day| format!("{day} 11:00 SUCCEEDED"))
        .collect()
}

/// Sets `retention` and waits until the API shows `kept` (the watchdog applies a new policy
/// at once).
async fn expect_after_policy(
    app: &TestApp,
    admin: &Session,
    customer: &str,
    retention: Value,
    kept: Vec<String>,
) -> Vec<String> {
    set_plan(app, admin, customer, retention.clone()).await;
    wait::until(
        &format!("the runs kept by {retention}: {kept:?}"),
        std::time::Duration::from_secs(20),
        || async { (runs(app, admin, customer).await.kept == kept).then_some(()) },
    )
    .await;
    // Nothing more expires later (the policy was applied once, completely): the watchdog
    // went over the whole log, the plan included, without writing anything more, and the
    // read models have applied it all. `expiredBackupRuns` lists exactly the expired runs.
    watchdog_settled(&[app]).await;
    faults::wait_for_projections(&app.pool, std::time::Duration::from_secs(30)).await;
    let listed = runs(app, admin, customer).await;
    assert_eq!(listed.kept, kept, "{retention}");
    assert_eq!(listed.expired_list, listed.expired, "{retention}");
    listed.expired
}

/// A server on a manual clock, an admin, a customer whose plan has no retention rule yet, and
/// restic's twelve Sundays reported over the ping API at 11:00 each (all listed, all kept).
struct Sundays {
    clock: Arc<ManualClock>,
    app: TestApp,
    admin: Session,
    customer: String,
    token: String,
}

async fn given_twelve_sundays_reported() -> Sundays {
    tests::init_test_log();
    let clock = ManualClock::new();
    clock.set(at("2019-08-25T11:00:00Z"));
    let app = TestApp::spawn_with({
        let clock: Arc<ManualClock> = clock.clone();
        move |config| {
            config.backup.clock = ClockHandle::of(clock);
            config.backup.watchdog_max_sleep_ms = 50;
            config.backup.leader_retry_ms = 100;
        }
    })
    .await;
    let admin = bootstrap_admin(&app).await;
    let customer = register_customer(&app, &admin.access_token, "Mopped", &unique_phone()).await;
    // No rule while the snapshots come in: everything is kept.
    set_plan(&app, &admin, &customer, json!({})).await;
    let token = gql(
        &app,
        Some(&admin.access_token),
        "mutation($c: ID!) { issueIngestToken(customerId: $c) { token } }",
        json!({"c": customer}),
    )
    .await
    .data("issueIngestToken")["token"]
        .as_str()
        .expect("token")
        .to_owned();
    for (index, day) in SUNDAYS.iter().enumerate() {
        clock.set(at(&format!("{day}T11:00:00Z")));
        let (status, body) = ping(&app, &token, &format!("?rid=sunday-{index}"), "").await;
        assert_eq!(status, 200, "{body}");
    }
    eventually(20, "twelve runs listed", || async {
        runs(&app, &admin, &customer).await.kept.len() == 12
    })
    .await;
    Sundays {
        clock,
        app,
        admin,
        customer,
        token,
    }
}

#[tokio::test]
async fn retention_set_through_the_api_follows_restics_documented_forget_examples() {
    let Sundays {
        clock,
        app,
        admin,
        customer,
        token,
    } = given_twelve_sundays_reported().await;

    // restic: "forget --keep-daily 4 will keep the last four snapshots, for the last four
    // Sundays, and remove the other snapshots".
    let expired = expect_after_policy(
        &app,
        &admin,
        &customer,
        json!({"keepDaily": 4}),
        sundays(8..12),
    )
    .await;
    assert_eq!(expired, sundays(0..8));

    // --keep-within 14d keeps what is strictly after the newest minus 14 days: Nov 3 at 11:00
    // is exactly 14 days before Nov 17 at 11:00, so it goes.
    expect_after_policy(
        &app,
        &admin,
        &customer,
        json!({"keepWithinSecs": 14 * 86_400}),
        sundays(10..12),
    )
    .await;

    // A failure after the newest success is the latest news: kept by any policy.
    clock.set(at("2019-11-24T11:00:00Z"));
    let (status, _) = ping(&app, &token, "/fail?rid=sunday-12", "disk full").await;
    assert_eq!(status, 200);
    let mut kept = sundays(10..12);
    kept.push("2019-11-24 11:00 FAILED".into());
    expect_after_policy(
        &app,
        &admin,
        &customer,
        json!({"keepWithinSecs": 14 * 86_400}),
        kept,
    )
    .await;

    // --keep-last 1: only the newest success (and the later failure).
    expect_after_policy(
        &app,
        &admin,
        &customer,
        json!({"keepLast": 1}),
        vec![
            "2019-11-17 11:00 SUCCEEDED".into(),
            "2019-11-24 11:00 FAILED".into(),
        ],
    )
    .await;

    // A policy that would keep nothing older than a second still never expires the newest
    // success.
    expect_after_policy(
        &app,
        &admin,
        &customer,
        json!({"keepWithinSecs": 1, "keepHourly": 0}),
        vec![
            "2019-11-17 11:00 SUCCEEDED".into(),
            "2019-11-24 11:00 FAILED".into(),
        ],
    )
    .await;

    // The next success: the failure before it and the previous success go (keep-within 1 s
    // of the newest keeps only the newest).
    clock.set(at("2019-12-01T11:00:00Z"));
    let (status, _) = ping(&app, &token, "?rid=sunday-13", "").await;
    assert_eq!(status, 200);
    eventually(20, "retention after the new success", || async {
        runs(&app, &admin, &customer).await.kept == vec!["2019-12-01 11:00 SUCCEEDED".to_owned()]
    })
    .await;
    app.stop().await;
}

#[tokio::test]
async fn weekly_and_monthly_rules_are_ored_over_restics_twelve_sundays() {
    let Sundays {
        app,
        admin,
        customer,
        ..
    } = given_twelve_sundays_reported().await;
    // --keep-weekly 2 keeps Nov 17 and Nov 10; --keep-monthly 3 keeps the last Sunday of
    // November (Nov 17, already kept), October (Oct 27) and September (Sep 29). A snapshot
    // kept by either rule stays; the counts are used up before the oldest run, so it goes.
    let expected: Vec<String> = ["2019-09-29", "2019-10-27", "2019-11-10", "2019-11-17"]
        .iter()
        .map(|day| format!("{day} 11:00 SUCCEEDED"))
        .collect();
    expect_after_policy(
        &app,
        &admin,
        &customer,
        json!({"keepWeekly": 2, "keepMonthly": 3}),
        expected,
    )
    .await;
    app.stop().await;
}
