//! The SPA's live subscriptions (screen pop, wallboard, alerts), `/metrics`, `/readyz` and the
//! CSV exports.

use std::time::Duration;

use ari_adapter::sim::Behaviour;
use chrono::{DateTime, Utc};
use domain::request::{Request, RequestCommand};
use journal::{Actor, EventStore, Metadata};
use serde_json::{json, Value};
use tests::graphql::{
    bootstrap_admin, gql, register_customer, register_worker, unique_phone, Session, WsClient,
};
use tests::telephony::{fast_queue, Telephony};
use tests::TestApp;

const OFFERS: &str = "subscription { offers { position offer { callId callerNumber \
    customer { id name } openRequests { id status } backupStatus \
    backup { status downReason failingSince expectedAt lastSuccessAt \
      lastRun { clientRunId status exitStatus finishedAt } } } } }";

async fn open_request(app: &TestApp, token: &str, customer_id: &str) -> String {
    let answer = gql(
        app,
        Some(token),
        "mutation($input: OpenRequestInput!) { openRequest(input: $input) { id } }",
        json!({"input": {"customerId": customer_id, "message": "My backup keeps failing",
                         "priority": "HIGH", "type": "INCIDENT"}}),
    )
    .await;
    answer.data("openRequest")["id"]
        .as_str()
        .expect("request id")
        .to_owned()
}

async fn go_available(app: &TestApp, session: &Session) {
    let answer = gql(
        app,
        Some(&session.access_token),
        "mutation { setAvailability(state: AVAILABLE) { id } }",
        json!({}),
    )
    .await;
    answer.data("setAvailability");
}

/// The payload data of the next `next` message of a subscription.
async fn next_data(client: &mut WsClient, field: &str) -> Value {
    let message = client.next().await.expect("a message within 10 s");
    assert_eq!(message["type"], "next", "{message}");
    assert!(message["payload"]["errors"].is_null(), "{message}");
    message["payload"]["data"][field].clone()
}

#[tokio::test]
async fn a_call_offered_to_an_agent_pops_the_caller_and_their_customer_on_that_agent_only() {
    let tel = Telephony::start(fast_queue()).await;
    let app = &tel.app;
    let admin = bootstrap_admin(app).await;
    let agent = register_worker(app, &admin, "pop1@live.test", "AGENT", Some("PJSIP/pop1")).await;
    let other = register_worker(app, &admin, "pop2@live.test", "AGENT", Some("PJSIP/pop2")).await;
    tel.sim
        .register_endpoint("PJSIP/pop1")
        .expect("phone registers");
    tel.sim.set_agent_behaviour(
        "PJSIP/pop1",
        Behaviour::Answer {
            after: Duration::from_millis(30),
        },
    );
    let phone = unique_phone();
    let customer = register_customer(app, &admin.access_token, "Pop & Sons", &phone).await;
    let request = open_request(app, &admin.access_token, &customer).await;
    // A backup plan and a failed run: the pop shows the backup health, not one word.
    gql(
        app,
        Some(&admin.access_token),
        "mutation($c: ID!) { setBackupPlan(customerId: $c, \
           plan: {periodSecs: 86400, graceSecs: 3600}) { status } }",
        json!({"c": customer}),
    )
    .await
    .data("setBackupPlan");
    let issued = gql(
        app,
        Some(&admin.access_token),
        "mutation($c: ID!) { issueIngestToken(customerId: $c) { token } }",
        json!({"c": customer}),
    )
    .await;
    let ingest = issued.data("issueIngestToken")["token"]
        .as_str()
        .expect("token")
        .to_owned();
    let (status, _) = tests::backup::ping(app, &ingest, "/3?rid=pop-night", "disk full").await;
    assert_eq!(status, 200);

    let mut mine = WsClient::connect_as(app, Some(&agent.access_token)).await;
    mine.subscribe("o", OFFERS, json!({})).await;
    let first = next_data(&mut mine, "offers").await;
    assert!(first["offer"].is_null(), "{first}");
    assert!(first["position"].as_i64().is_some(), "{first}");
    let mut theirs = WsClient::connect_as(app, Some(&other.access_token)).await;
    theirs.subscribe("o", OFFERS, json!({})).await;
    next_data(&mut theirs, "offers").await;

    go_available(app, &agent).await;
    let (_channel, call_id) = tel.place_call(&phone);

    let message = next_data(&mut mine, "offers").await;
    let offer = &message["offer"];
    assert_eq!(offer["callId"], call_id.to_string(), "{message}");
    assert_eq!(offer["callerNumber"], phone.as_str());
    assert_eq!(offer["customer"]["id"], customer.as_str());
    assert_eq!(offer["customer"]["name"], "Pop & Sons");
    // Ours, and perhaps the follow-up the failed backup run opens.
    let open = offer["openRequests"].as_array().expect("open requests");
    assert!(
        open.contains(&json!({"id": request, "status": "OPEN"})),
        "{message}"
    );
    let backup = &offer["backup"];
    assert_eq!(offer["backupStatus"], "down", "{message}");
    assert_eq!(backup["status"], "down", "{message}");
    assert_eq!(backup["downReason"], "failed");
    assert_eq!(backup["lastRun"]["clientRunId"], "pop-night");
    assert_eq!(backup["lastRun"]["status"], "FAILED");
    assert_eq!(backup["lastRun"]["exitStatus"], 3);
    assert_eq!(backup["failingSince"], backup["lastRun"]["finishedAt"]);
    assert!(backup["lastSuccessAt"].is_null());
    assert!(backup["expectedAt"].is_string(), "{message}");
    let nothing = theirs.next_within(Duration::from_millis(1500)).await;
    assert!(
        nothing.is_none(),
        "another agent sees no offer: {nothing:?}"
    );
    let call = tel.call(call_id).await;
    assert_eq!(
        call.customer_id().map(|id| id.to_string()),
        Some(customer.clone()),
        "the directory linked the call when it was queued"
    );
}

#[tokio::test]
async fn the_wallboard_sends_a_snapshot_first_then_a_new_one_when_an_agent_goes_available() {
    let app = TestApp::spawn().await;
    let admin = bootstrap_admin(&app).await;
    let agent = register_worker(&app, &admin, "wall@live.test", "AGENT", Some("PJSIP/wall1")).await;
    let mut client = WsClient::connect_as(&app, Some(&admin.access_token)).await;
    client
        .subscribe(
            "w",
            "subscription { wallboard { agents { id state secondsInState } \
             agentsByState { state count } callsWaiting oldestWaitSecs today { offered answered } } }",
            json!({}),
        )
        .await;
    let state_of = |board: &Value| {
        board["agents"]
            .as_array()
            .and_then(|agents| agents.iter().find(|a| a["id"] == agent.worker_id.as_str()))
            .map(|a| a["state"].clone())
    };
    let first = next_data(&mut client, "wallboard").await;
    assert_eq!(state_of(&first), Some(json!("OFFLINE")), "{first}");
    assert_eq!(first["callsWaiting"], 0);
    assert!(first["oldestWaitSecs"].is_null());

    go_available(&app, &agent).await;
    let mut changed = None;
    for _ in 0..5 {
        let board = next_data(&mut client, "wallboard").await;
        if state_of(&board) == Some(json!("AVAILABLE")) {
            changed = Some(board);
            break;
        }
    }
    let board = changed.expect("a snapshot with the agent Available");
    let available = board["agentsByState"]
        .as_array()
        .and_then(|counts| counts.iter().find(|c| c["state"] == "AVAILABLE"))
        .cloned();
    assert_eq!(available, Some(json!({"state": "AVAILABLE", "count": 1})));
    app.stop().await;
}

#[tokio::test]
async fn an_overdue_request_is_pushed_to_alert_subscribers() {
    let app = TestApp::spawn().await;
    let admin = bootstrap_admin(&app).await;
    let agent = register_worker(&app, &admin, "alerts@live.test", "AGENT", None).await;
    let customer = register_customer(&app, &admin.access_token, "Late Ltd", &unique_phone()).await;
    let request = open_request(&app, &admin.access_token, &customer).await;
    let mut client = WsClient::connect_as(&app, Some(&agent.access_token)).await;
    client
        .subscribe(
            "a",
            "subscription { alerts { position alert { kind requestId customerId dueAt } } }",
            json!({}),
        )
        .await;
    let first = next_data(&mut client, "alerts").await;
    assert!(first["alert"].is_null(), "{first}");

    let due = gql(
        &app,
        Some(&admin.access_token),
        "query($id: ID!) { request(id: $id) { dueAt } }",
        json!({"id": request}),
    )
    .await;
    let due_at: DateTime<Utc> = due.data("request")["dueAt"]
        .as_str()
        .and_then(|text| text.parse().ok())
        .expect("due date");
    // What the periodic alert scan sends once the due date passed.
    EventStore::new(app.pool.clone())
        .execute::<Request>(
            &request,
            RequestCommand::RaiseOverdue {
                at: due_at + chrono::Duration::seconds(1),
            },
            &(),
            &Metadata::new(Actor::System),
            None,
        )
        .await
        .expect("overdue raised");

    let message = next_data(&mut client, "alerts").await;
    let alert = &message["alert"];
    assert_eq!(alert["kind"], "OVERDUE", "{message}");
    assert_eq!(alert["requestId"], request.as_str());
    assert_eq!(alert["customerId"], customer.as_str());
    assert_eq!(
        alert["dueAt"]
            .as_str()
            .and_then(|t| t.parse::<DateTime<Utc>>().ok()),
        Some(due_at)
    );
    assert!(message["position"].as_i64() > first["position"].as_i64());
    app.stop().await;
}

#[tokio::test]
async fn metrics_are_prometheus_text_with_the_projector_lag_and_readyz_names_each_check() {
    let app = TestApp::spawn().await;
    app.graphql("{ me { id } }", json!({})).await;
    let response = app
        .http
        .get(app.url("/metrics"))
        .send()
        .await
        .expect("metrics");
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap_or_default()
        .starts_with("text/plain"));
    let text = response.text().await.expect("body");
    for line in text.lines().filter(|line| !line.is_empty()) {
        if line.starts_with("# HELP ") || line.starts_with("# TYPE ") {
            continue;
        }
        let (series, value) = line.rsplit_once(' ').expect("series and value");
        assert!(value.parse::<f64>().is_ok(), "value of {line}");
        let name = series.split('{').next().unwrap_or_default();
        assert!(
            !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
            "metric name of {line}"
        );
        if let Some(labels) = series.strip_prefix(name) {
            assert!(labels.is_empty() || (labels.starts_with('{') && labels.ends_with('}')));
        }
    }
    for projection in ["workers", "customers", "calls", "requests", "queue"] {
        let wanted = format!("savecorp_projector_lag_events{{projection=\"{projection}\"}} ");
        assert!(text.contains(&wanted), "{wanted} in\n{text}");
    }
    assert!(text.contains("# TYPE savecorp_projector_lag_events gauge"));
    assert!(
        text.contains(
            "savecorp_http_requests_total{method=\"POST\",route=\"/graphql\",status=\"200\"}"
        ),
        "{text}"
    );
    assert!(
        text.contains("savecorp_graphql_errors_total{code=\"UNAUTHENTICATED\"} 1"),
        "{text}"
    );

    let ready = app
        .http
        .get(app.url("/readyz"))
        .send()
        .await
        .expect("readyz");
    assert_eq!(ready.status(), 200);
    let body: Value = ready.json().await.expect("json");
    assert_eq!(body["status"], "ready", "{body}");
    assert_eq!(body["database"], "ok");
    assert_eq!(body["projector"]["status"], "ok");
    assert_eq!(body["ari"], "not_configured");
    app.stop().await;
}

#[tokio::test]
async fn the_calls_export_neutralises_formulas_and_quotes_keeps_phone_numbers_and_is_for_admins_only(
) {
    let app = TestApp::spawn().await;
    let admin = bootstrap_admin(&app).await;
    let agent = register_worker(&app, &admin, "csv@live.test", "AGENT", None).await;
    let names = [
        "=HYPERLINK(\"http://evil\")",
        "say \"hi\"\nbye, then",
        "@SUM(A1)",
    ];
    for (n, name) in names.iter().enumerate() {
        sqlx::query(
            "INSERT INTO calls (call_id, caller_number, caller_name, channel_id, queue, status, \
             queued_at, version) VALUES ($1, '+33612345678', $2, $3, 'support', 'ended', \
             now() - make_interval(secs => $4), 1)",
        )
        .bind(uuid::Uuid::now_v7())
        .bind(name)
        .bind(format!("chan-{n}"))
        .bind(100.0 - n as f64)
        .execute(&app.pool)
        .await
        .expect("call row");
    }
    let export = |token: Option<String>| {
        let mut request = app.http.get(app.url("/export/calls.csv"));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send()
    };
    let response = export(Some(admin.access_token.clone()))
        .await
        .expect("export");
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap_or_default()
        .starts_with("text/csv"));
    let body = response.text().await.expect("csv");
    let mut lines = body.split("\r\n");
    assert!(lines
        .next()
        .unwrap_or_default()
        .starts_with("call_id,queued_at,caller_number,caller_name,"));
    assert!(
        body.contains(",\"'=HYPERLINK(\"\"http://evil\"\")\","),
        "{body}"
    );
    assert!(body.contains(",\"say \"\"hi\"\"\nbye, then\","), "{body}");
    assert!(body.contains(",'@SUM(A1),"), "{body}");
    // A validated E.164 number is exported as it is (it cannot be a formula).
    assert!(body.contains(",+33612345678,"), "{body}");
    assert!(!body.contains("'+33612345678"), "{body}");
    assert_eq!(
        body.matches("\r\n").count(),
        4,
        "a header and three rows: {body}"
    );

    let filtered = app
        .http
        .get(app.url("/export/calls.csv?from=2000-01-01T00:00:00Z&until=2000-01-02T00:00:00Z"))
        .bearer_auth(&admin.access_token)
        .send()
        .await
        .expect("filtered export");
    assert_eq!(
        filtered.text().await.expect("csv").matches("\r\n").count(),
        1
    );

    let forbidden = export(Some(agent.access_token.clone()))
        .await
        .expect("agent export");
    assert_eq!(forbidden.status(), 403);
    let anonymous = export(None).await.expect("anonymous export");
    assert_eq!(anonymous.status(), 401);
    let requests = app
        .http
        .get(app.url("/export/requests.csv?from=yesterday"))
        .bearer_auth(&admin.access_token)
        .send()
        .await
        .expect("requests export");
    assert_eq!(requests.status(), 400);
    app.stop().await;
}
