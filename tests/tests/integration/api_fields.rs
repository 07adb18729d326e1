//! The fields and filters of issue 15 §3 through the real server: `kpis(agentId:)` request
//! figures.

use chrono::{DateTime, Utc};
use domain::ids::{CustomerId, WorkerId};
use domain::request::{Request, RequestCommand};
use domain::sla::SlaPolicy;
use domain::values::{Priority, RequestMessage, RequestType};
use projections::{Actor, EventStore, Metadata};
use serde_json::{json, Value};
use tests::graphql::{bootstrap_admin, gql, register_customer, register_worker, Session};
use tests::TestApp;

async fn open_request(app: &TestApp, token: &str, input: Value) -> String {
    let answer = gql(
        app,
        Some(token),
        "mutation($input: OpenRequestInput!) { openRequest(input: $input) { id } }",
        json!({ "input": input }),
    )
    .await;
    answer.data("openRequest")["id"]
        .as_str()
        .expect("request id")
        .to_owned()
}

async fn solve(app: &TestApp, token: &str, id: &str) {
    let answer = gql(
        app,
        Some(token),
        "mutation($id: ID!) { solveRequest(id: $id) { status } }",
        json!({ "id": id }),
    )
    .await;
    assert_eq!(answer.data("solveRequest")["status"], "SOLVED");
}

const KPIS: &str = "query($from: DateTime!, $until: DateTime!, $agent: ID) {
  kpis(from: $from, until: $until, bucket: HOUR, timeZone: \"UTC\", agentId: $agent) {
    overdueNow buckets { requestsOpened requestsSolved requestsSolvedWithinDue }
  }
}";

/// (opened, solved, solved within due, overdue now) summed over the buckets.
async fn request_kpis(
    app: &TestApp,
    admin: &Session,
    from: DateTime<Utc>,
    agent: Option<&str>,
) -> (i64, i64, i64, i64) {
    let until = Utc::now() + chrono::Duration::minutes(5);
    let answer = gql(
        app,
        Some(&admin.access_token),
        KPIS,
        json!({"from": from.to_rfc3339(), "until": until.to_rfc3339(), "agent": agent}),
    )
    .await;
    let kpis = answer.data("kpis");
    let sum = |field: &str| {
        kpis["buckets"]
            .as_array()
            .expect("buckets")
            .iter()
            .map(|bucket| bucket[field].as_i64().expect("count"))
            .sum::<i64>()
    };
    (
        sum("requestsOpened"),
        sum("requestsSolved"),
        sum("requestsSolvedWithinDue"),
        kpis["overdueNow"].as_i64().expect("overdueNow"),
    )
}

#[tokio::test]
async fn kpis_of_an_agent_count_only_the_requests_assigned_to_that_agent() {
    tests::init_test_log();
    let app = TestApp::spawn().await;
    let from = Utc::now() - chrono::Duration::hours(3);
    let admin = bootstrap_admin(&app).await;
    let ann = register_worker(&app, &admin, "ann@kpis.fields.test", "AGENT", None).await;
    let bob = register_worker(&app, &admin, "bob@kpis.fields.test", "AGENT", None).await;
    let customer = register_customer(&app, &admin.access_token, "Kpi Ltd", "+33622222201").await;

    // Ann's overdue request: opened two hours ago, due one hour ago (as if the clock had run).
    let opened_at = Utc::now() - chrono::Duration::hours(2);
    EventStore::new(app.pool.clone())
        .execute::<Request>(
            &domain::ids::RequestId::new().to_string(),
            RequestCommand::Open {
                customer_id: customer.parse::<CustomerId>().expect("customer id"),
                call_id: None,
                message: RequestMessage::parse("The restore test failed last night")
                    .expect("message"),
                priority: Priority::High,
                request_type: RequestType::Incident,
                assignee: Some(ann.worker_id.parse::<WorkerId>().expect("worker id")),
                due_at: Some(opened_at + chrono::Duration::hours(1)),
                sla: SlaPolicy::default(),
                opened_by: None,
                at: opened_at,
            },
            &(),
            &Metadata::new(Actor::System),
            None,
        )
        .await
        .expect("overdue request opened");

    let message = "The nightly backup failed twice";
    let input = |assignee: Option<&str>| {
        json!({"customerId": customer, "message": message, "priority": "NORMAL",
               "type": "QUESTION", "assigneeId": assignee})
    };
    let token = admin.access_token.as_str();
    let ann_solved = open_request(&app, token, input(Some(&ann.worker_id))).await;
    let bob_solved = open_request(&app, token, input(Some(&bob.worker_id))).await;
    let _bob_open = open_request(&app, token, input(Some(&bob.worker_id))).await;
    let _nobody = open_request(&app, token, input(None)).await;
    solve(&app, token, &ann_solved).await;
    // The mutation waits for the read models: the figures are current once it answered.
    solve(&app, token, &bob_solved).await;

    assert_eq!(request_kpis(&app, &admin, from, None).await, (5, 2, 2, 1));
    assert_eq!(
        request_kpis(&app, &admin, from, Some(&ann.worker_id)).await,
        (2, 1, 1, 1),
        "Ann: the overdue request and the one she solved"
    );
    assert_eq!(
        request_kpis(&app, &admin, from, Some(&bob.worker_id)).await,
        (2, 1, 1, 0),
        "Bob: two opened, one solved, nothing overdue"
    );
    app.stop().await;
}
