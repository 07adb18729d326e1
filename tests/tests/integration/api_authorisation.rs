//! The authorisation matrix: every query, mutation and subscription of the schema, for each
//! kind of caller, from ONE table. A second test fails when the schema has an operation the
//! table does not list.

use std::collections::BTreeSet;

use chrono::Utc;
use domain::call::{Call, CallCommand};
use domain::ids::{CallId, WorkerId};
use journal::{Actor, EventStore, Metadata};
use serde_json::{json, Value};
use tests::graphql::{
    bootstrap_admin, gql, login, register_customer, register_worker, unique_phone, Session,
    WsClient, PASSWORD,
};
use tests::TestApp;

/// Who calls: nobody, the agent who owns the target, another agent, an admin.
const CALLERS: [&str; 4] = ["anonymous", "agent", "other agent", "admin"];
const OK: &str = "ok";
const UNAUTH: &str = "UNAUTHENTICATED";
const FORBID: &str = "FORBIDDEN";

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Query,
    Mutation,
    Subscription,
}

/// What a row needs made fresh before each call.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Need {
    Worker,
    Customer,
    Request,
    SolvedRequest,
    CallOfAgent,
    RefreshToken,
    /// A customer with its phone number (`customer_id`, `phone`).
    CustomerWithPhone,
    /// A customer and an ingest token of theirs (`customer_id`, `token_id`).
    IngestToken,
}

/// The objects a row's variables refer to.
#[derive(Default)]
struct Targets {
    agent_id: String,
    worker_id: String,
    customer_id: String,
    request_id: String,
    call_id: String,
    refresh_token: String,
    unique: String,
    phone: String,
    token_id: String,
}

struct Row {
    operation: &'static str,
    kind: Kind,
    needs: &'static [Need],
    document: &'static str,
    variables: fn(&Targets) -> Value,
    /// For anonymous, the owning agent, another agent, an admin: "ok" or the error code.
    expect: [&'static str; 4],
}

fn none(_: &Targets) -> Value {
    json!({})
}

const TABLE: &[Row] = &[
    Row { operation: "version", kind: Kind::Query, needs: &[], document: "{ version }",
          variables: none, expect: [OK, OK, OK, OK] },
    Row { operation: "logHead", kind: Kind::Query, needs: &[], document: "{ logHead }",
          variables: none, expect: [OK, OK, OK, OK] },
    Row { operation: "me", kind: Kind::Query, needs: &[], document: "{ me { id } }",
          variables: none, expect: [UNAUTH, OK, OK, OK] },
    Row { operation: "worker", kind: Kind::Query, needs: &[],
          document: "query($id: ID!) { worker(id: $id) { id } }",
          variables: |t| json!({"id": t.agent_id}), expect: [UNAUTH, OK, OK, OK] },
    Row { operation: "customer", kind: Kind::Query, needs: &[Need::Customer],
          document: "query($id: ID!) { customer(id: $id) { id } }",
          variables: |t| json!({"id": t.customer_id}), expect: [UNAUTH, OK, OK, OK] },
    Row { operation: "request", kind: Kind::Query, needs: &[Need::Request],
          document: "query($id: ID!) { request(id: $id) { id } }",
          variables: |t| json!({"id": t.request_id}), expect: [UNAUTH, OK, OK, OK] },
    Row { operation: "call", kind: Kind::Query, needs: &[Need::CallOfAgent],
          document: "query($id: ID!) { call(id: $id) { id } }",
          variables: |t| json!({"id": t.call_id}), expect: [UNAUTH, OK, FORBID, OK] },
    Row { operation: "login", kind: Kind::Mutation, needs: &[],
          document: "mutation { login(email: \"agent@matrix.test\", password: \"correct horse battery staple\") { accessToken } }",
          variables: none, expect: [OK, OK, OK, OK] },
    Row { operation: "refreshSession", kind: Kind::Mutation, needs: &[Need::RefreshToken],
          document: "mutation($t: String!) { refreshSession(refreshToken: $t) { accessToken } }",
          variables: |t| json!({"t": t.refresh_token}), expect: [OK, OK, OK, OK] },
    Row { operation: "logout", kind: Kind::Mutation, needs: &[], document: "mutation { logout }",
          variables: none, expect: [UNAUTH, OK, OK, OK] },
    Row { operation: "changePassword", kind: Kind::Mutation, needs: &[],
          document: "mutation($p: String!) { changePassword(currentPassword: $p, newPassword: $p) { accessToken } }",
          variables: |_| json!({"p": PASSWORD}), expect: [UNAUTH, OK, OK, OK] },
    // Public (the first run has nobody to log in as); a made-up token is refused alike for all.
    Row { operation: "setupFirstAdmin", kind: Kind::Mutation, needs: &[],
          document: "mutation($p: String!) { setupFirstAdmin(token: \"made-up\", email: \"first@matrix.test\", name: \"First\", password: $p) { accessToken } }",
          variables: |_| json!({"p": PASSWORD}),
          expect: ["SETUP_TOKEN_INVALID", "SETUP_TOKEN_INVALID", "SETUP_TOKEN_INVALID", "SETUP_TOKEN_INVALID"] },
    Row { operation: "registerWorker", kind: Kind::Mutation, needs: &[],
          document: "mutation($input: RegisterWorkerInput!) { registerWorker(input: $input) { id } }",
          variables: |t| json!({"input": {"name": "New One", "email": format!("{}@matrix.test", t.unique),
                                          "role": "AGENT", "password": PASSWORD}}),
          expect: [UNAUTH, FORBID, FORBID, OK] },
    Row { operation: "updateWorker", kind: Kind::Mutation, needs: &[],
          document: "mutation($id: ID!) { updateWorker(id: $id, input: {name: \"Agent Renamed\"}) { id } }",
          variables: |t| json!({"id": t.agent_id}), expect: [UNAUTH, FORBID, FORBID, OK] },
    Row { operation: "updateMyProfile", kind: Kind::Mutation, needs: &[],
          document: "mutation { updateMyProfile(input: {avatarUrl: \"https://cdn.matrix.test/me.png\"}) { avatarUrl } }",
          variables: none, expect: [UNAUTH, OK, OK, OK] },
    Row { operation: "setWorkerRole", kind: Kind::Mutation, needs: &[Need::Worker],
          document: "mutation($id: ID!) { setWorkerRole(id: $id, role: ADMIN) { role } }",
          variables: |t| json!({"id": t.worker_id}), expect: [UNAUTH, FORBID, FORBID, OK] },
    Row { operation: "deactivateWorker", kind: Kind::Mutation, needs: &[Need::Worker],
          document: "mutation($id: ID!) { deactivateWorker(id: $id) { active } }",
          variables: |t| json!({"id": t.worker_id}), expect: [UNAUTH, FORBID, FORBID, OK] },
    Row { operation: "resetWorkerPassword", kind: Kind::Mutation, needs: &[Need::Worker],
          document: "mutation($id: ID!) { resetWorkerPassword(id: $id) { temporaryPassword } }",
          variables: |t| json!({"id": t.worker_id}), expect: [UNAUTH, FORBID, FORBID, OK] },
    Row { operation: "setAvailability", kind: Kind::Mutation, needs: &[],
          document: "mutation { setAvailability(state: PAUSED, reason: \"lunch\") { id } }",
          variables: none, expect: [UNAUTH, OK, OK, OK] },
    Row { operation: "setAvailability", kind: Kind::Mutation, needs: &[],
          document: "mutation($id: ID!) { setAvailability(state: OFFLINE, workerId: $id) { id } }",
          variables: |t| json!({"id": t.agent_id}), expect: [UNAUTH, OK, FORBID, OK] },
    Row { operation: "registerCustomer", kind: Kind::Mutation, needs: &[],
          document: "mutation($input: RegisterCustomerInput!) { registerCustomer(input: $input) { id } }",
          variables: |_| json!({"input": {"name": "Matrix Ltd", "phones": [unique_phone()]}}),
          expect: [UNAUTH, OK, OK, OK] },
    Row { operation: "updateCustomer", kind: Kind::Mutation, needs: &[Need::Customer],
          document: "mutation($id: ID!) { updateCustomer(id: $id, input: {notes: \"called back\"}) { id } }",
          variables: |t| json!({"id": t.customer_id}), expect: [UNAUTH, OK, OK, OK] },
    Row { operation: "eraseCustomer", kind: Kind::Mutation, needs: &[Need::Customer],
          document: "mutation($id: ID!) { eraseCustomer(id: $id) { erased } }",
          variables: |t| json!({"id": t.customer_id}), expect: [UNAUTH, FORBID, FORBID, OK] },
    Row { operation: "openRequest", kind: Kind::Mutation, needs: &[Need::Customer],
          document: "mutation($input: OpenRequestInput!) { openRequest(input: $input) { id } }",
          variables: |t| json!({"input": {"customerId": t.customer_id, "message": "Please restore my files",
                                          "priority": "NORMAL", "type": "TASK"}}),
          expect: [UNAUTH, OK, OK, OK] },
    Row { operation: "updateRequest", kind: Kind::Mutation, needs: &[Need::Request],
          document: "mutation($id: ID!) { updateRequest(id: $id, input: {priority: URGENT}) { id } }",
          variables: |t| json!({"id": t.request_id}), expect: [UNAUTH, OK, OK, OK] },
    Row { operation: "setRequestPending", kind: Kind::Mutation, needs: &[Need::Request],
          document: "mutation($id: ID!) { setRequestPending(id: $id) { status } }",
          variables: |t| json!({"id": t.request_id}), expect: [UNAUTH, OK, OK, OK] },
    Row { operation: "solveRequest", kind: Kind::Mutation, needs: &[Need::Request],
          document: "mutation($id: ID!) { solveRequest(id: $id) { status } }",
          variables: |t| json!({"id": t.request_id}), expect: [UNAUTH, OK, OK, OK] },
    Row { operation: "reopenRequest", kind: Kind::Mutation, needs: &[Need::SolvedRequest],
          document: "mutation($id: ID!) { reopenRequest(id: $id) { status } }",
          variables: |t| json!({"id": t.request_id}), expect: [UNAUTH, OK, OK, OK] },
    Row { operation: "closeRequest", kind: Kind::Mutation, needs: &[Need::Request],
          document: "mutation($id: ID!) { closeRequest(id: $id) { status } }",
          variables: |t| json!({"id": t.request_id}), expect: [UNAUTH, OK, OK, OK] },
    Row { operation: "hangUpCall", kind: Kind::Mutation, needs: &[Need::CallOfAgent],
          document: "mutation($id: ID!) { hangUpCall(callId: $id) { state } }",
          variables: |t| json!({"id": t.call_id}),
          expect: [UNAUTH, OK, "NOT_YOUR_CALL", "NOT_YOUR_CALL"] },
    Row { operation: "workers", kind: Kind::Query, needs: &[],
          document: "{ workers(first: 5) { totalCount edges { node { id } } } }",
          variables: none, expect: [UNAUTH, OK, OK, OK] },
    Row { operation: "customers", kind: Kind::Query, needs: &[Need::Customer],
          document: "{ customers(first: 5, search: \"ltd\") { totalCount } }",
          variables: none, expect: [UNAUTH, OK, OK, OK] },
    Row { operation: "customerByNumber", kind: Kind::Query, needs: &[Need::CustomerWithPhone],
          document: "query($n: String!) { customerByNumber(number: $n) { id } }",
          variables: |t| json!({"n": t.phone}), expect: [UNAUTH, OK, OK, OK] },
    Row { operation: "calls", kind: Kind::Query, needs: &[Need::CallOfAgent],
          document: "{ calls(last: 5) { totalCount } }",
          variables: none, expect: [UNAUTH, OK, OK, OK] },
    Row { operation: "calls", kind: Kind::Query, needs: &[Need::CallOfAgent],
          document: "query($a: ID) { calls(agentId: $a) { totalCount } }",
          variables: |t| json!({"a": t.agent_id}), expect: [UNAUTH, OK, FORBID, OK] },
    Row { operation: "requests", kind: Kind::Query, needs: &[Need::Request],
          document: "{ requests(first: 5, status: OPEN, sortBy: DUE_AT) { totalCount } }",
          variables: none, expect: [UNAUTH, OK, OK, OK] },
    Row { operation: "requestAlerts", kind: Kind::Query, needs: &[],
          document: "{ requestAlerts(first: 5) { totalCount } }",
          variables: none, expect: [UNAUTH, OK, OK, OK] },
    Row { operation: "queueStatus", kind: Kind::Query, needs: &[],
          document: "{ queueStatus { oldestWaitSecs agents { state count } } }",
          variables: none, expect: [UNAUTH, OK, OK, OK] },
    Row { operation: "kpis", kind: Kind::Query, needs: &[],
          document: "{ kpis(from: \"2026-01-01T00:00:00Z\", until: \"2026-01-02T00:00:00Z\", bucket: HOUR, timeZone: \"Europe/Paris\") { overdueNow } }",
          variables: none, expect: [UNAUTH, FORBID, FORBID, OK] },
    Row { operation: "history", kind: Kind::Query, needs: &[Need::Request],
          document: "query($id: String!) { history(aggregateType: \"request\", aggregateId: $id) { totalCount } }",
          variables: |t| json!({"id": t.request_id}), expect: [UNAUTH, FORBID, FORBID, OK] },
    Row { operation: "actorActivity", kind: Kind::Query, needs: &[],
          document: "{ actorActivity(actor: \"system\", from: \"2026-01-01T00:00:00Z\", until: \"2027-01-01T00:00:00Z\") { totalCount } }",
          variables: none, expect: [UNAUTH, FORBID, FORBID, OK] },
    Row { operation: "stateAt", kind: Kind::Query, needs: &[Need::Request],
          document: "query($id: String!) { stateAt(aggregateType: \"request\", aggregateId: $id, version: 1) { version } }",
          variables: |t| json!({"id": t.request_id}), expect: [UNAUTH, FORBID, FORBID, OK] },
    Row { operation: "settings", kind: Kind::Query, needs: &[],
          document: "{ settings { queues { queueId offerTimeoutSecs } requests { urgentSecs } serviceLevel { thresholdSecs } } }",
          variables: none, expect: [UNAUTH, FORBID, FORBID, OK] },
    Row { operation: "updateQueueSettings", kind: Kind::Mutation, needs: &[],
          document: "mutation { updateQueueSettings(input: {offerTimeoutSecs: 20, wrapUpSecs: 10, maxWaitSecs: 600, maxQueueLength: 100}) { version } }",
          variables: none, expect: [UNAUTH, FORBID, FORBID, OK] },
    Row { operation: "updateRequestSettings", kind: Kind::Mutation, needs: &[],
          document: "mutation { updateRequestSettings(input: {urgentSecs: 14400, highSecs: 86400, normalSecs: 259200, lowSecs: 604800, dueSoonCapSecs: 86400}) { version } }",
          variables: none, expect: [UNAUTH, FORBID, FORBID, OK] },
    Row { operation: "updateServiceLevelThreshold", kind: Kind::Mutation, needs: &[],
          document: "mutation { updateServiceLevelThreshold(thresholdSecs: 20) { version } }",
          variables: none, expect: [UNAUTH, FORBID, FORBID, OK] },
    Row { operation: "projections", kind: Kind::Query, needs: &[],
          document: "{ projections { name position lag } }",
          variables: none, expect: [UNAUTH, FORBID, FORBID, OK] },
    Row { operation: "backupStatus", kind: Kind::Query, needs: &[Need::Customer],
          document: "query($c: ID!) { backupStatus(customerId: $c) { status } }",
          variables: |t| json!({"c": t.customer_id}), expect: [UNAUTH, OK, OK, OK] },
    Row { operation: "backupRuns", kind: Kind::Query, needs: &[Need::Customer],
          document: "query($c: ID!) { backupRuns(customerId: $c) { totalCount } }",
          variables: |t| json!({"c": t.customer_id}), expect: [UNAUTH, OK, OK, OK] },
    Row { operation: "expiredBackupRuns", kind: Kind::Query, needs: &[Need::Customer],
          document: "query($c: ID!) { expiredBackupRuns(customerId: $c) { totalCount } }",
          variables: |t| json!({"c": t.customer_id}), expect: [UNAUTH, OK, OK, OK] },
    Row { operation: "setBackupPlan", kind: Kind::Mutation, needs: &[Need::Customer],
          document: "mutation($c: ID!) { setBackupPlan(customerId: $c, plan: {periodSecs: 86400, graceSecs: 3600}) { status } }",
          variables: |t| json!({"c": t.customer_id}), expect: [UNAUTH, FORBID, FORBID, OK] },
    Row { operation: "issueIngestToken", kind: Kind::Mutation, needs: &[Need::Customer],
          document: "mutation($c: ID!) { issueIngestToken(customerId: $c) { tokenId } }",
          variables: |t| json!({"c": t.customer_id}), expect: [UNAUTH, FORBID, FORBID, OK] },
    Row { operation: "revokeIngestToken", kind: Kind::Mutation, needs: &[Need::IngestToken],
          document: "mutation($c: ID!, $t: ID!) { revokeIngestToken(customerId: $c, tokenId: $t) }",
          variables: |t| json!({"c": t.customer_id, "t": t.token_id}), expect: [UNAUTH, FORBID, FORBID, OK] },
    Row { operation: "reportBackupRun", kind: Kind::Mutation, needs: &[],
          document: "mutation { reportBackupRun(kind: START) { runId } }",
          variables: none, expect: [UNAUTH, FORBID, FORBID, FORBID] },
    Row { operation: "rebuildProjection", kind: Kind::Mutation, needs: &[],
          document: "mutation { rebuildProjection(name: \"queue\") { projections } }",
          variables: none, expect: [UNAUTH, FORBID, FORBID, OK] },
    Row { operation: "events", kind: Kind::Subscription, needs: &[],
          document: "subscription { events(fromPosition: 0) { position eventType } }",
          variables: none, expect: [UNAUTH, FORBID, FORBID, OK] },
    Row { operation: "offers", kind: Kind::Subscription, needs: &[],
          document: "subscription { offers { position } }",
          variables: none, expect: [UNAUTH, OK, OK, OK] },
    Row { operation: "myState", kind: Kind::Subscription, needs: &[],
          document: "subscription { myState { id } }",
          variables: none, expect: [UNAUTH, OK, OK, OK] },
    Row { operation: "callUpdates", kind: Kind::Subscription, needs: &[Need::CallOfAgent],
          document: "subscription($id: ID!) { callUpdates(callId: $id) { position call { state } } }",
          variables: |t| json!({"id": t.call_id}), expect: [UNAUTH, OK, FORBID, OK] },
    Row { operation: "wallboard", kind: Kind::Subscription, needs: &[],
          document: "subscription { wallboard { callsWaiting } }",
          variables: none, expect: [UNAUTH, FORBID, FORBID, OK] },
    Row { operation: "alerts", kind: Kind::Subscription, needs: &[],
          document: "subscription { alerts { position } }",
          variables: none, expect: [UNAUTH, OK, OK, OK] },
];

struct Fixture {
    agent: Session,
}

const AGENT_EMAIL: &str = "agent@matrix.test";

async fn fixture(app: &TestApp) -> Fixture {
    let admin = bootstrap_admin(app).await;
    let agent = register_worker(app, &admin, AGENT_EMAIL, "AGENT", Some("PJSIP/9001")).await;
    register_worker(
        app,
        &admin,
        "other@matrix.test",
        "AGENT",
        Some("PJSIP/9002"),
    )
    .await;
    Fixture { agent }
}

/// A call queued, offered to and answered by `agent`, written straight to the log.
async fn connected_call(app: &TestApp, agent: &str) -> String {
    let store = EventStore::new(app.pool.clone());
    let call = CallId::new().to_string();
    let agent: WorkerId = agent.parse().expect("worker id");
    let metadata = Metadata::new(Actor::Ari);
    let now = Utc::now();
    for command in [
        CallCommand::Queue {
            caller_number: "+33612345678".into(),
            caller_name: None,
            customer_id: None,
            channel_id: format!("chan-{call}"),
            queue: "default".into(),
            at: now,
        },
        CallCommand::Offer {
            agent,
            agent_channel_id: format!("agent-{call}"),
            at: now,
        },
        CallCommand::AnswerOffer { agent, at: now },
    ] {
        store
            .execute::<Call>(&call, command, &(), &metadata, None)
            .await
            .expect("call command");
    }
    call
}

async fn open_request(app: &TestApp, token: &str, customer_id: &str) -> String {
    let answer = gql(
        app,
        Some(token),
        "mutation($input: OpenRequestInput!) { openRequest(input: $input) { id } }",
        json!({"input": {"customerId": customer_id, "message": "Matrix request text",
                         "priority": "LOW", "type": "QUESTION"}}),
    )
    .await;
    answer.data("openRequest")["id"]
        .as_str()
        .expect("id")
        .to_owned()
}

async fn prepare(app: &TestApp, fixture: &Fixture, needs: &[Need]) -> Targets {
    // A session of its own: earlier rows may have ended the admin's other sessions.
    let admin_session = login(app, tests::graphql::ADMIN_EMAIL, PASSWORD).await;
    let admin = &admin_session.access_token;
    let mut targets = Targets {
        agent_id: fixture.agent.worker_id.clone(),
        unique: uuid::Uuid::new_v4().simple().to_string(),
        ..Targets::default()
    };
    for need in needs {
        match need {
            Need::Worker => {
                let answer = gql(app, Some(admin),
                    "mutation($input: RegisterWorkerInput!) { registerWorker(input: $input) { id } }",
                    json!({"input": {"name": "Target", "email": format!("t{}@matrix.test", targets.unique),
                                     "role": "AGENT", "password": PASSWORD}})).await;
                targets.worker_id = answer.data("registerWorker")["id"]
                    .as_str()
                    .expect("id")
                    .to_owned();
            }
            Need::Customer => {
                targets.customer_id =
                    register_customer(app, admin, "Target Ltd", &unique_phone()).await;
            }
            Need::Request | Need::SolvedRequest => {
                let customer = register_customer(app, admin, "Request Ltd", &unique_phone()).await;
                targets.request_id = open_request(app, admin, &customer).await;
                if *need == Need::SolvedRequest {
                    gql(
                        app,
                        Some(admin),
                        "mutation($id: ID!) { solveRequest(id: $id) { id } }",
                        json!({"id": targets.request_id}),
                    )
                    .await
                    .data("solveRequest");
                }
            }
            Need::CallOfAgent => {
                targets.call_id = connected_call(app, &fixture.agent.worker_id).await;
            }
            Need::CustomerWithPhone => {
                targets.phone = unique_phone();
                targets.customer_id =
                    register_customer(app, admin, "Phone Ltd", &targets.phone).await;
                wait_for_number(app, admin, &targets.phone).await;
            }
            Need::IngestToken => {
                targets.customer_id =
                    register_customer(app, admin, "Token Ltd", &unique_phone()).await;
                let answer = gql(
                    app,
                    Some(admin),
                    "mutation($c: ID!) { issueIngestToken(customerId: $c) { tokenId } }",
                    json!({"c": targets.customer_id}),
                )
                .await;
                targets.token_id = answer.data("issueIngestToken")["tokenId"]
                    .as_str()
                    .expect("token id")
                    .to_owned();
            }
            Need::RefreshToken => {
                targets.refresh_token = login(app, AGENT_EMAIL, PASSWORD).await.refresh_token;
            }
        }
    }
    targets
}

/// "ok" or the error code of one call.
async fn outcome(app: &TestApp, row: &Row, token: Option<&str>, targets: &Targets) -> String {
    let variables = (row.variables)(targets);
    if row.kind == Kind::Subscription {
        let mut client = WsClient::connect_as(app, token).await;
        client.subscribe("1", row.document, variables).await;
        let message = client.next().await.unwrap_or(Value::Null);
        client.drop_connection().await;
        return match message["type"].as_str() {
            Some("next") if message["payload"]["errors"].is_null() => OK.to_owned(),
            Some("next") => message["payload"]["errors"][0]["extensions"]["code"]
                .as_str()
                .unwrap_or("?")
                .to_owned(),
            Some("error") => message["payload"][0]["extensions"]["code"]
                .as_str()
                .unwrap_or("?")
                .to_owned(),
            _ => format!("unexpected {message}"),
        };
    }
    let answer = gql(app, token, row.document, variables).await;
    match (answer.status, answer.code()) {
        (200, None) if !answer.body["data"][row.operation].is_null() => OK.to_owned(),
        (_, Some(code)) => code.to_owned(),
        (status, None) => format!("HTTP {status} {}", answer.body),
    }
}

#[tokio::test]
async fn every_operation_answers_each_kind_of_caller_as_the_matrix_says() {
    tests::init_test_log();
    let app = TestApp::spawn().await;
    let fixture = fixture(&app).await;
    let emails = [
        None,
        Some(AGENT_EMAIL),
        Some("other@matrix.test"),
        Some(tests::graphql::ADMIN_EMAIL),
    ];
    let mut mismatches = Vec::new();
    for row in TABLE {
        for (column, email) in emails.iter().enumerate() {
            // A fresh session per call: logout and changePassword end the caller's sessions.
            let session = match email {
                Some(email) => Some(login(&app, email, PASSWORD).await),
                None => None,
            };
            let targets = prepare(&app, &fixture, row.needs).await;
            let token = session
                .as_ref()
                .map(|session| session.access_token.as_str());
            let got = outcome(&app, row, token, &targets).await;
            if got != row.expect[column] {
                mismatches.push(format!(
                    "{} ({}) as {}: expected {}, got {got}",
                    row.operation, row.document, CALLERS[column], row.expect[column]
                ));
            }
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
    app.stop().await;
}

#[tokio::test]
async fn the_matrix_lists_every_operation_of_the_schema() {
    let app = TestApp::spawn().await;
    let answer = gql(&app, None,
        "{ __schema { queryType { fields { name } } mutationType { fields { name } } subscriptionType { fields { name } } } }",
        json!({})).await;
    let schema = answer.data("__schema");
    let mut in_schema = BTreeSet::new();
    for (root, kind) in [
        ("queryType", "query"),
        ("mutationType", "mutation"),
        ("subscriptionType", "subscription"),
    ] {
        for field in schema[root]["fields"].as_array().expect("fields") {
            in_schema.insert(format!("{kind} {}", field["name"].as_str().expect("name")));
        }
    }
    let in_table: BTreeSet<String> = TABLE
        .iter()
        .map(|row| {
            let kind = match row.kind {
                Kind::Query => "query",
                Kind::Mutation => "mutation",
                Kind::Subscription => "subscription",
            };
            format!("{kind} {}", row.operation)
        })
        .collect();
    let missing: Vec<_> = in_schema.difference(&in_table).collect();
    let stale: Vec<_> = in_table.difference(&in_schema).collect();
    assert!(
        missing.is_empty(),
        "operations missing from the matrix: {missing:?}"
    );
    assert!(
        stale.is_empty(),
        "matrix rows for operations the schema lacks: {stale:?}"
    );
    app.stop().await;
}

/// Waits until the customers read model knows `phone`.
async fn wait_for_number(app: &TestApp, admin: &str, phone: &str) {
    tests::backup::eventually(10, "the phone number projected", || async {
        let answer = gql(
            app,
            Some(admin),
            "query($n: String!) { customerByNumber(number: $n) { id } }",
            json!({"n": phone}),
        )
        .await;
        !answer.data("customerByNumber").is_null()
    })
    .await;
}

/// What an ingest token may do: [its own customer's, another customer's] answers.
const TOKEN_TABLE: &[(&str, &str, [&str; 2])] = &[
    ("backupStatus", "query($c: ID!) { backupStatus(customerId: $c) { status } }", [OK, FORBID]),
    ("backupRuns", "query($c: ID!) { backupRuns(customerId: $c) { totalCount } }", [OK, FORBID]),
    ("expiredBackupRuns", "query($c: ID!) { expiredBackupRuns(customerId: $c) { totalCount } }", [OK, FORBID]),
    ("reportBackupRun", "mutation { reportBackupRun(kind: START) { runId } }", [OK, OK]),
    ("setBackupPlan", "mutation($c: ID!) { setBackupPlan(customerId: $c, plan: {periodSecs: 60, graceSecs: 60}) { status } }", [FORBID, FORBID]),
    ("issueIngestToken", "mutation($c: ID!) { issueIngestToken(customerId: $c) { tokenId } }", [FORBID, FORBID]),
    ("workers", "{ workers { totalCount } }", [FORBID, FORBID]),
    ("requests", "{ requests { totalCount } }", [FORBID, FORBID]),
    ("me", "{ me { id } }", [FORBID, FORBID]),
];

#[tokio::test]
async fn an_ingest_token_reports_and_reads_only_its_own_customers_backups() {
    tests::init_test_log();
    let app = TestApp::spawn().await;
    let admin = bootstrap_admin(&app).await;
    let admin = admin.access_token.as_str();
    let customer = register_customer(&app, admin, "Own Ltd", &unique_phone()).await;
    let other = register_customer(&app, admin, "Other Ltd", &unique_phone()).await;
    let mut tokens = Vec::new();
    for owner in [&customer, &other] {
        let answer = gql(
            &app,
            Some(admin),
            "mutation($c: ID!) { issueIngestToken(customerId: $c) { token } }",
            json!({"c": owner}),
        )
        .await;
        tokens.push(
            answer.data("issueIngestToken")["token"]
                .as_str()
                .expect("token")
                .to_owned(),
        );
    }
    let mut mismatches = Vec::new();
    for (operation, document, expect) in TOKEN_TABLE {
        for (column, token) in tokens.iter().enumerate() {
            let answer = gql(&app, Some(token), document, json!({"c": customer})).await;
            let got = match (answer.status, answer.code()) {
                (200, None) if !answer.body["data"][operation].is_null() => OK.to_owned(),
                (_, Some(code)) => code.to_owned(),
                (status, None) => format!("HTTP {status} {}", answer.body),
            };
            if got != expect[column] {
                let who = ["its own token", "another customer's token"][column];
                mismatches.push(format!(
                    "{operation} with {who}: expected {}, got {got}",
                    expect[column]
                ));
            }
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
    app.stop().await;
}
