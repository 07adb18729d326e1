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
