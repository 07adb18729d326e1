//! Request deadline alerts (PRODUCT §5): `due_soon` when less than the window remains,
//! `overdue` once the due date passes, each raised once, only while open or pending, pushed on
//! the `alerts` subscription; safe with two servers on one database and across a restart.
//! Real time, short deadlines: the manager sleeps until each deadline.

use std::time::Duration;

use api::ServeConfig;
use chrono::{DateTime, SubsecRound, Utc};
use serde_json::{json, Value};
use tests::graphql::{bootstrap_admin, gql, register_customer, unique_phone, WsClient};
use tests::TestApp;

/// The due-soon window of these tests, in seconds.
const WINDOW_SECS: u64 = 5;
/// How far ahead the due dates are, in seconds.
const DUE_IN_SECS: i64 = 10;

const ALERTS: &str = "subscription($from: Int) { alerts(fromPosition: $from) { position \
    alert { kind requestId dueAt } } }";

fn alerts_on(config: &mut ServeConfig) {
    config.requests.request_alerts = true;
    config.requests.request_due_soon_secs = WINDOW_SECS;
    config.backup.leader_retry_ms = 100;
}

async fn open_request(app: &TestApp, token: &str, customer: &str, due_at: DateTime<Utc>) -> String {
    let answer = gql(
        app,
        Some(token),
        "mutation($input: OpenRequestInput!) { openRequest(input: $input) { id } }",
        json!({"input": {"customerId": customer, "message": "Restore the accounting share",
                         "priority": "NORMAL", "type": "TASK", "dueAt": due_at.to_rfc3339()}}),
    )
    .await;
    answer.data("openRequest")["id"]
        .as_str()
        .expect("request id")
        .to_owned()
}

/// The next alert of the subscription (within 20 s), or `None` when nothing came in `wait`.
async fn next_alert(client: &mut WsClient, wait: Duration) -> Option<Value> {
    let message = client.next_within(wait).await?;
    assert_eq!(message["type"], "next", "{message}");
    assert!(message["payload"]["errors"].is_null(), "{message}");
    Some(message["payload"]["data"]["alerts"].clone())
}

/// `(event_type, payload)` of the request's alert events, in log order.
async fn alert_events(app: &TestApp, request: &str) -> Vec<(String, Value)> {
    sqlx::query_as(
        "SELECT event_type, payload FROM events WHERE aggregate_id = $1 \
         AND event_type IN ('RequestDueSoonRaised', 'RequestOverdueRaised') ORDER BY sequence",
    )
    .bind(request)
    .fetch_all(&app.pool)
    .await
    .expect("events")
}

fn instant(value: &Value) -> DateTime<Utc> {
    value
        .as_str()
        .and_then(|text| text.parse().ok())
        .unwrap_or_else(|| panic!("an instant: {value}"))
}

#[tokio::test]
async fn a_request_near_its_due_date_raises_due_soon_then_overdue_once_each_and_a_solved_one_none()
{
    tests::init_test_log();
    // Two servers on one database: one raises the alerts, the other waits to take over.
    let first = TestApp::spawn_with(alerts_on).await;
    let second = TestApp::spawn_on(first.database.clone(), alerts_on).await;
    let admin = bootstrap_admin(&first).await;
    let customer = register_customer(
        &first,
        &admin.access_token,
        "Deadline Dental",
        &unique_phone(),
    )
    .await;
    let mut client = WsClient::connect_as(&second, Some(&admin.access_token)).await;
    client.subscribe("a", ALERTS, json!({})).await;
    let hello = next_alert(&mut client, Duration::from_secs(20))
        .await
        .expect("the first message");
    assert!(hello["alert"].is_null(), "{hello}");

    let due_at = (Utc::now() + chrono::Duration::seconds(DUE_IN_SECS)).trunc_subsecs(0);
    let late = open_request(&first, &admin.access_token, &customer, due_at).await;
    let solved = open_request(&first, &admin.access_token, &customer, due_at).await;
    let answer = gql(
        &first,
        Some(&admin.access_token),
        "mutation($id: ID!) { solveRequest(id: $id) { status } }",
        json!({"id": solved}),
    )
    .await;
    assert_eq!(answer.data("solveRequest")["status"], "SOLVED");

    let due_soon = next_alert(&mut client, Duration::from_secs(30))
        .await
        .expect("due soon pushed");
    assert_eq!(due_soon["alert"]["kind"], "DUE_SOON", "{due_soon}");
    assert_eq!(due_soon["alert"]["requestId"], late.as_str());
    let overdue = next_alert(&mut client, Duration::from_secs(30))
        .await
        .expect("overdue pushed");
    assert_eq!(overdue["alert"]["kind"], "OVERDUE", "{overdue}");
    assert_eq!(overdue["alert"]["requestId"], late.as_str());
    assert_eq!(instant(&overdue["alert"]["dueAt"]), due_at);

    // Raised at the right moments, once each; nothing for the solved request.
    let events = alert_events(&first, &late).await;
    let kinds: Vec<&str> = events.iter().map(|(kind, _)| kind.as_str()).collect();
    assert_eq!(kinds, ["RequestDueSoonRaised", "RequestOverdueRaised"]);
    let due_soon_at = instant(&events[0].1["DueSoonRaised"]["at"]);
    let overdue_at = instant(&events[1].1["OverdueRaised"]["at"]);
    let window = chrono::Duration::seconds(WINDOW_SECS as i64);
    assert!(
        due_soon_at > due_at - window && due_soon_at < due_at,
        "due soon at {due_soon_at}, due at {due_at}"
    );
    assert!(
        overdue_at >= due_at,
        "overdue at {overdue_at}, due at {due_at}"
    );
    assert!(alert_events(&first, &solved).await.is_empty());
    assert_eq!(
        next_alert(&mut client, Duration::from_secs(2)).await,
        None,
        "nothing more"
    );

    // Restart: both servers stop, a new one folds the log again and raises nothing twice.
    let database = first.database.clone();
    let resume_from = overdue["position"].as_i64().expect("position");
    drop(client);
    first.stop().await;
    second.stop().await;
    let restarted = TestApp::spawn_on(database, alerts_on).await;
    let mut client = WsClient::connect_as(&restarted, Some(&admin.access_token)).await;
    client
        .subscribe("b", ALERTS, json!({"from": resume_from}))
        .await;
    let hello = next_alert(&mut client, Duration::from_secs(20))
        .await
        .expect("the first message");
    assert!(hello["alert"].is_null(), "{hello}");
    assert_eq!(
        next_alert(&mut client, Duration::from_secs(3)).await,
        None,
        "no alert raised again after the restart"
    );
    assert_eq!(alert_events(&restarted, &late).await.len(), 2);
    assert!(alert_events(&restarted, &solved).await.is_empty());
    restarted.stop().await;
}

/// Where the manual clock of the quarter-window test starts.
fn start() -> DateTime<Utc> {
    "2031-03-03T09:00:00Z".parse().expect("instant")
}

async fn open_with_priority(
    app: &TestApp,
    token: &str,
    customer: &str,
    priority: &str,
    due_at: Option<DateTime<Utc>>,
) -> (String, DateTime<Utc>, DateTime<Utc>) {
    let answer = gql(
        app,
        Some(token),
        "mutation($input: OpenRequestInput!) { openRequest(input: $input) { id openedAt dueAt } }",
        json!({"input": {"customerId": customer, "message": "Restore the accounting share",
                         "priority": priority, "type": "INCIDENT",
                         "dueAt": due_at.map(|due| due.to_rfc3339())}}),
    )
    .await;
    let opened = answer.data("openRequest");
    (
        opened["id"].as_str().expect("request id").to_owned(),
        instant(&opened["openedAt"]),
        instant(&opened["dueAt"]),
    )
}

/// When the request's alert of `event_type` was raised (the server's clock), once raised.
async fn raised_at(app: &TestApp, request: &str, event_type: &str) -> DateTime<Utc> {
    let variant = event_type.trim_start_matches("Request");
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let events = alert_events(app, request).await;
        if let Some((_, payload)) = events.iter().find(|(kind, _)| kind == event_type) {
            return instant(&payload[variant]["at"]);
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{event_type} never raised: {events:?}"
        );
        // sleep-ok: poll interval of a bounded wait (the deadline event is raised)
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_high_priority_request_is_due_soon_only_for_the_last_quarter_of_its_allowance() {
    tests::init_test_log();
    let clock = api::platform::clock::ManualClock::new();
    clock.set(start());
    let app = TestApp::spawn_with({
        let clock = clock.clone();
        move |config| {
            config.backup.clock = api::platform::clock::ClockHandle::of(clock);
            config.backup.leader_retry_ms = 100;
            config.requests.request_alerts = true;
            // The default cap (24 h); the manager looks again often, the clock moves by hand.
            config.requests.request_alerts_max_sleep_ms = 50;
        }
    })
    .await;
    let admin = bootstrap_admin(&app).await;
    let customer =
        register_customer(&app, &admin.access_token, "Quarter Dental", &unique_phone()).await;

    // openRequest takes its time from the server's clock.
    let (urgent, opened_at, urgent_due) =
        open_with_priority(&app, &admin.access_token, &customer, "URGENT", None).await;
    assert_eq!(opened_at, start());
    assert_eq!(urgent_due, start() + chrono::Duration::hours(4));
    let (high, _, high_due) =
        open_with_priority(&app, &admin.access_token, &customer, "HIGH", None).await;
    assert_eq!(high_due, start() + chrono::Duration::hours(24));

    // Urgent: due soon for its last hour, then overdue.
    clock.set(start() + chrono::Duration::hours(3) + chrono::Duration::seconds(1));
    assert_eq!(
        raised_at(&app, &urgent, "RequestDueSoonRaised").await,
        start() + chrono::Duration::hours(3) + chrono::Duration::seconds(1),
        "not before its last hour"
    );
    clock.set(urgent_due);
    assert_eq!(
        raised_at(&app, &urgent, "RequestOverdueRaised").await,
        urgent_due
    );
    // The manager has looked at hour 4: the high request (24 h) is not due soon yet.
    assert!(
        alert_events(&app, &high).await.is_empty(),
        "a high-priority request is not due soon the moment it opens"
    );

    // High: due soon for its last 6 hours.
    let window_opens = high_due - chrono::Duration::hours(6) + chrono::Duration::seconds(1);
    clock.set(window_opens);
    assert_eq!(
        raised_at(&app, &high, "RequestDueSoonRaised").await,
        window_opens
    );

    // An explicit due date: a quarter of the time from when it was set (8 h → the last 2 h).
    let set_at = window_opens;
    let (explicit, _, explicit_due) = open_with_priority(
        &app,
        &admin.access_token,
        &customer,
        "LOW",
        Some(set_at + chrono::Duration::hours(8)),
    )
    .await;
    let explicit_window = explicit_due - chrono::Duration::hours(2) + chrono::Duration::seconds(1);
    clock.set(explicit_window);
    assert_eq!(
        raised_at(&app, &explicit, "RequestDueSoonRaised").await,
        explicit_window
    );
    app.stop().await;
}

/// Issue 20: the manager keeps the requests not closed with its checkpoint, and a restart reads
/// only the events after it. Shown by an old event rewritten in the log while the server is
/// down into the opening of an overdue request: a manager that folded the log again would
/// raise its overdue alert; the resumed one never reads it, and raises the alert of a request
/// opened after the restart (the later event the negative assertion waits for).
#[tokio::test]
async fn after_a_restart_the_manager_reads_only_the_events_after_its_checkpoint() {
    tests::init_test_log();
    // A cluster of its own: a long transaction of another test would hold the log back.
    let postgres = tests::TestPostgres::private().await;
    let database = postgres.fresh_database().await;
    let first = TestApp::spawn_in(&postgres, database, alerts_on).await;
    let admin = bootstrap_admin(&first).await;
    let customer = register_customer(
        &first,
        &admin.access_token,
        "Resume Dental",
        &unique_phone(),
    )
    .await;
    let spare =
        register_customer(&first, &admin.access_token, "Spare Dental", &unique_phone()).await;
    let far = (Utc::now() + chrono::Duration::days(30)).trunc_subsecs(0);
    let kept = open_request(&first, &admin.access_token, &customer, far).await;
    let pool = first.pool.clone();
    tests::backup::eventually(30, "the open request kept with the checkpoint", || {
        let (pool, kept) = (pool.clone(), kept.clone());
        async move {
            let (rows,): (i64,) = sqlx::query_as(
                "SELECT count(*) FROM process_manager_state \
                 WHERE manager = 'request_deadlines' AND key = $1",
            )
            .bind(&kept)
            .fetch_one(&pool)
            .await
            .expect("state");
            let head = journal::LogReader::new(pool.clone())
                .committed_head()
                .await
                .expect("head");
            let checkpoint = projections::projector::checkpoint(&pool, "request_deadlines")
                .await
                .expect("checkpoint");
            rows == 1 && checkpoint >= head
        }
    })
    .await;

    let database = first.database.clone();
    first.stop().await;
    // The spare customer's registration becomes the opening of a request overdue for an hour.
    let ghost = uuid::Uuid::new_v4().to_string();
    let past = (Utc::now() - chrono::Duration::hours(1)).to_rfc3339();
    let rewritten = sqlx::query(
        "UPDATE events SET aggregate_type = 'request', aggregate_id = $1, sequence = 1, \
                event_type = 'RequestOpened', \
                payload = jsonb_set((SELECT payload FROM events WHERE aggregate_id = $3 \
                                     AND event_type = 'RequestOpened'), \
                                    '{Opened,due_at}', to_jsonb($4::text)) \
         WHERE aggregate_id = $2 AND event_type = 'CustomerRegistered'",
    )
    .bind(&ghost)
    .bind(&spare)
    .bind(&kept)
    .bind(&past)
    .execute(&pool)
    .await
    .expect("rewrite");
    assert_eq!(rewritten.rows_affected(), 1);

    let restarted = TestApp::spawn_in(&postgres, database, alerts_on).await;
    let due_at = (Utc::now() + chrono::Duration::seconds(DUE_IN_SECS)).trunc_subsecs(0);
    let late = open_request(&restarted, &admin.access_token, &customer, due_at).await;
    tests::backup::eventually(30, "the new request's overdue alert", || {
        let (restarted, late) = (&restarted, late.clone());
        async move { alert_events(restarted, &late).await.len() == 2 }
    })
    .await;
    assert!(
        alert_events(&restarted, &ghost).await.is_empty(),
        "the rewritten old event was read again"
    );
    assert!(alert_events(&restarted, &kept).await.is_empty());
    restarted.stop().await;
}
