//! The fields and filters of issue 15 §3 through the real server: `kpis(agentId:)` request
//! figures, the objects of `Request` (customer, call, assignee, openedBy), a `Call`'s outcome,
//! ended-by, reject reason, customer and offer history, and the `calls` filters (caller number,
//! queue time range, agent, outcome).

use std::time::Duration;

use ari_adapter::sim::Behaviour;
use chrono::{DateTime, Utc};
use domain::call::CallState;
use domain::ids::{CustomerId, WorkerId};
use domain::request::{Request, RequestCommand};
use domain::sla::SlaPolicy;
use domain::values::{Priority, RequestMessage, RequestType};
use journal::{Actor, EventStore, Metadata};
use serde_json::{json, Value};
use tests::backup::eventually;
use tests::graphql::{bootstrap_admin, gql, register_customer, register_worker, Session};
use tests::telephony::{fast_queue, Telephony};
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

const REQUEST_OBJECTS: &str = "query($id: ID!) { request(id: $id) {
  customer { id name phones }
  call { id }
  assignee { id name email }
  openedBy { id email }
} }";

#[tokio::test]
async fn a_request_shows_its_customer_assignee_and_opener_with_the_workers_visibility_rules() {
    tests::init_test_log();
    let app = TestApp::spawn().await;
    let admin = bootstrap_admin(&app).await;
    let ann = register_worker(&app, &admin, "ann@objects.fields.test", "AGENT", None).await;
    let bob = register_worker(&app, &admin, "bob@objects.fields.test", "AGENT", None).await;
    let customer = register_customer(&app, &admin.access_token, "Objects SA", "+33633333301").await;
    let request = open_request(
        &app,
        &admin.access_token,
        json!({"customerId": customer, "message": "Please call me back about the invoice",
               "priority": "LOW", "type": "TASK", "assigneeId": ann.worker_id}),
    )
    .await;

    // Bob, another agent: the names, but neither Ann's nor the admin's email.
    let seen = gql(
        &app,
        Some(&bob.access_token),
        REQUEST_OBJECTS,
        json!({ "id": request }),
    )
    .await;
    let seen = seen.data("request");
    assert_eq!(
        seen["customer"],
        json!({"id": customer, "name": "Objects SA", "phones": ["+33633333301"]})
    );
    assert!(seen["call"].is_null(), "{seen}");
    assert_eq!(
        seen["assignee"],
        json!({"id": ann.worker_id, "name": "ann", "email": null})
    );
    assert_eq!(
        seen["openedBy"],
        json!({"id": admin.worker_id, "email": null})
    );

    // Ann sees her own email; the admin sees every email.
    let seen = gql(
        &app,
        Some(&ann.access_token),
        REQUEST_OBJECTS,
        json!({ "id": request }),
    )
    .await;
    assert_eq!(
        seen.data("request")["assignee"]["email"],
        ann.email.as_str()
    );
    assert!(seen.data("request")["openedBy"]["email"].is_null());
    let seen = gql(
        &app,
        Some(&admin.access_token),
        REQUEST_OBJECTS,
        json!({ "id": request }),
    )
    .await;
    assert_eq!(
        seen.data("request")["assignee"]["email"],
        ann.email.as_str()
    );
    assert_eq!(
        seen.data("request")["openedBy"]["email"],
        admin.email.as_str()
    );

    // The list gives the same objects.
    let list = gql(
        &app,
        Some(&bob.access_token),
        "query($c: ID) { requests(customerId: $c, first: 5) { edges { node {
           id customer { name } assignee { id email } openedBy { id } } } } }",
        json!({ "c": customer }),
    )
    .await;
    assert_eq!(
        list.data("requests")["edges"][0]["node"],
        json!({"id": request, "customer": {"name": "Objects SA"},
               "assignee": {"id": ann.worker_id, "email": null},
               "openedBy": {"id": admin.worker_id}})
    );
    app.stop().await;
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

const CALL_FIELDS: &str = "id state outcome endedBy rejectReason endReason agentId
  customer { id name }
  offers { attempt agentId agent { id name } offeredAt endedAt outcome }";

/// The ids of a `calls` page.
fn call_ids(page: &Value) -> Vec<String> {
    page["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|edge| edge["node"]["id"].as_str().expect("id").to_owned())
        .collect()
}

#[tokio::test]
async fn calls_show_outcome_offers_and_customer_and_filter_by_number_time_agent_and_outcome() {
    let tel = Telephony::start(fast_queue()).await;
    let app = &tel.app;
    let admin = bootstrap_admin(app).await;
    let token = admin.access_token.as_str();
    let rita = register_worker(
        app,
        &admin,
        "rita@calls.fields.test",
        "AGENT",
        Some("PJSIP/fr1"),
    )
    .await;
    let andy = register_worker(
        app,
        &admin,
        "andy@calls.fields.test",
        "AGENT",
        Some("PJSIP/fa1"),
    )
    .await;
    let other = register_worker(app, &admin, "olga@calls.fields.test", "AGENT", None).await;
    for (endpoint, behaviour) in [
        (
            "PJSIP/fr1",
            Behaviour::Reject {
                after: Duration::from_millis(30),
            },
        ),
        (
            "PJSIP/fa1",
            Behaviour::Answer {
                after: Duration::from_millis(30),
            },
        ),
    ] {
        tel.sim
            .register_endpoint(endpoint)
            .expect("phone registers");
        tel.sim.set_agent_behaviour(endpoint, behaviour);
    }
    let customer = register_customer(app, token, "Caller & Co", "+33644444402").await;

    // Nobody logged in: the first call is rejected.
    let (_first_channel, rejected) = tel.place_call("+33644444401");
    tel.wait_call(rejected, "the rejection", |call| call.is_terminal())
        .await;

    // Rita (idle the longest) declines, Andy answers, the caller hangs up.
    go_available(app, &rita).await;
    go_available(app, &andy).await;
    let (channel, answered) = tel.place_call("+33644444402");
    tel.wait_bridged(answered).await;
    tel.sim.caller_hangs_up(&channel).expect("caller hangs up");
    let call = tel
        .wait_call(answered, "the end of the call", |call| call.is_terminal())
        .await;
    assert!(matches!(call.state(), CallState::Ended { .. }));

    // From the log (`call`) and from the read model (`calls`), the same fields.
    let from_log = gql(
        app,
        Some(token),
        &format!("query($id: ID!) {{ call(id: $id) {{ {CALL_FIELDS} }} }}"),
        json!({ "id": answered.to_string() }),
    )
    .await;
    let from_log = from_log.data("call").clone();
    assert_eq!(from_log["state"], "ENDED");
    assert_eq!(from_log["outcome"], "ANSWERED");
    assert_eq!(from_log["endedBy"], "CALLER");
    assert!(from_log["rejectReason"].is_null());
    assert_eq!(from_log["agentId"], andy.worker_id.as_str());
    assert_eq!(
        from_log["customer"],
        json!({"id": customer, "name": "Caller & Co"})
    );
    let offers = from_log["offers"].as_array().expect("offers").clone();
    assert_eq!(offers.len(), 2, "{offers:?}");
    assert_eq!(offers[0]["attempt"], 1);
    assert_eq!(offers[0]["agentId"], rita.worker_id.as_str());
    assert_eq!(offers[0]["agent"]["name"], "rita");
    assert_eq!(offers[0]["outcome"], "REJECTED");
    assert!(offers[0]["endedAt"].is_string());
    assert_eq!(offers[1]["attempt"], 2);
    assert_eq!(offers[1]["agentId"], andy.worker_id.as_str());
    assert_eq!(offers[1]["outcome"], "ANSWERED");

    let list_query = format!(
        "query($number: String, $outcome: CallOutcome, $agent: ID, $from: DateTime,
               $until: DateTime) {{
           calls(callerNumber: $number, outcome: $outcome, agentId: $agent, queuedFrom: $from,
                 queuedUntil: $until, first: 10) {{
             totalCount edges {{ node {{ {CALL_FIELDS} queuedAt }} }} }} }}"
    );
    let list = |variables: Value| {
        let list_query = list_query.clone();
        async move {
            let answer = gql(app, Some(token), &list_query, variables).await;
            answer.data("calls").clone()
        }
    };
    // The read model catches up with the end of the call.
    eventually(
        10,
        "the calls read model shows both ended calls",
        || async {
            let page = list(json!({})).await;
            page["totalCount"] == 2
                && page["edges"].as_array().is_some_and(|edges| {
                    edges.iter().all(|edge| !edge["node"]["outcome"].is_null())
                })
        },
    )
    .await;
    let all = list(json!({})).await;
    assert_eq!(
        call_ids(&all),
        [rejected.to_string(), answered.to_string()],
        "by queue time"
    );
    let rejected_row = &all["edges"][0]["node"];
    assert_eq!(rejected_row["state"], "REJECTED");
    assert_eq!(rejected_row["outcome"], "REJECTED");
    assert_eq!(rejected_row["rejectReason"], "NO_AGENTS_LOGGED_IN");
    assert!(rejected_row["endedBy"].is_null());
    assert_eq!(rejected_row["offers"], json!([]));
    assert!(rejected_row["customer"].is_null());
    let answered_row = all["edges"][1]["node"].clone();
    // The read model keeps microseconds: compare all but the instants.
    let untimed = |call: &Value| {
        let mut call = call.clone();
        let fields = call.as_object_mut().expect("object");
        fields.remove("queuedAt");
        for offer in fields["offers"].as_array_mut().expect("offers") {
            let offer = offer.as_object_mut().expect("offer");
            assert!(offer.remove("offeredAt").is_some_and(|at| at.is_string()));
            offer.remove("endedAt");
        }
        call
    };
    assert_eq!(
        untimed(&answered_row),
        untimed(&from_log),
        "read model and log agree"
    );

    // The caller's number, typed the French way, is normalised with the default country code.
    let page = list(json!({"number": "06 44 44 44 02"})).await;
    assert_eq!(call_ids(&page), [answered.to_string()]);
    assert_eq!(page["totalCount"], 1);
    let page = list(json!({"number": "+33644444401"})).await;
    assert_eq!(call_ids(&page), [rejected.to_string()]);
    let page = list(json!({"number": "06 00 00 00 09"})).await;
    assert_eq!(page["totalCount"], 0);
    let bad = gql(app, Some(token), &list_query, json!({"number": "call me"})).await;
    assert_eq!(bad.code(), Some("VALIDATION"));

    // Outcome and agent.
    let page = list(json!({"outcome": "REJECTED"})).await;
    assert_eq!(call_ids(&page), [rejected.to_string()]);
    let page = list(json!({"outcome": "ANSWERED"})).await;
    assert_eq!(call_ids(&page), [answered.to_string()]);
    let page = list(json!({"outcome": "ABANDONED_QUEUED"})).await;
    assert_eq!(page["totalCount"], 0);
    let page = list(json!({"agent": andy.worker_id})).await;
    assert_eq!(call_ids(&page), [answered.to_string()]);
    let page = list(json!({"agent": andy.worker_id, "outcome": "REJECTED"})).await;
    assert_eq!(page["totalCount"], 0);

    // Queue time: from inclusive, until exclusive.
    let second_queued = answered_row["queuedAt"].as_str().expect("queuedAt");
    let page = list(json!({"from": second_queued})).await;
    assert_eq!(call_ids(&page), [answered.to_string()]);
    let page = list(json!({"until": second_queued})).await;
    assert_eq!(call_ids(&page), [rejected.to_string()]);
    let page = list(json!({"from": second_queued, "until": second_queued})).await;
    assert_eq!(page["totalCount"], 0);

    // A request opened from the call shows it to whoever may see the call.
    let request = open_request(
        app,
        token,
        json!({"customerId": customer, "callId": answered.to_string(),
               "message": "Wants a copy of last week's backup", "priority": "NORMAL",
               "type": "QUESTION"}),
    )
    .await;
    let query = "query($id: ID!) { request(id: $id) { call { id outcome } } }";
    for (session, visible) in [
        (&rita, true),
        (&andy, true),
        (&other, false),
        (&admin, true),
    ] {
        let seen = gql(
            app,
            Some(&session.access_token),
            query,
            json!({"id": request}),
        )
        .await;
        let call = &seen.data("request")["call"];
        if visible {
            assert_eq!(
                *call,
                json!({"id": answered.to_string(), "outcome": "ANSWERED"}),
                "{}",
                session.email
            );
        } else {
            assert!(call.is_null(), "{} sees {call}", session.email);
        }
    }
}

const PROJECTIONS: &str = "{ projections { name position lag rebuild { running requestedAt \
    startedAt done total fraction rate etaSecs finishedAt error } } }";

fn projection<'a>(answer: &'a Value, name: &str) -> &'a Value {
    answer["projections"]
        .as_array()
        .and_then(|all| all.iter().find(|one| one["name"] == name))
        .unwrap_or(&Value::Null)
}

#[tokio::test]
async fn projections_show_a_rebuilds_progress_and_its_end() {
    let app = TestApp::spawn().await;
    let admin = bootstrap_admin(&app).await;
    for n in 0..3 {
        register_customer(
            &app,
            &admin.access_token,
            &format!("Rebuilt {n}"),
            &tests::graphql::unique_phone(),
        )
        .await;
    }
    let (events,): (i64,) = sqlx::query_as("SELECT count(*) FROM events")
        .fetch_one(&app.pool)
        .await
        .expect("count");
    let before = gql(&app, Some(&admin.access_token), PROJECTIONS, json!({})).await;
    before.data("projections");
    let customers = projection(&before.body["data"], "customers");
    assert!(customers["rebuild"].is_null(), "{customers}");

    let started = gql(
        &app,
        Some(&admin.access_token),
        "mutation { rebuildProjection(name: \"customers\") { projections } }",
        json!({}),
    )
    .await;
    assert_eq!(
        started.data("rebuildProjection")["projections"],
        json!(["customers"])
    );
    // Shown at once (queued or running), then finished.
    let at_once = gql(&app, Some(&admin.access_token), PROJECTIONS, json!({})).await;
    let rebuild = &projection(&at_once.body["data"], "customers")["rebuild"];
    assert!(rebuild["requestedAt"].is_string(), "{rebuild}");
    eventually(30, "the rebuild ends", || async {
        let answer = gql(&app, Some(&admin.access_token), PROJECTIONS, json!({})).await;
        projection(&answer.body["data"], "customers")["rebuild"]["running"] == false
    })
    .await;
    let ended = gql(&app, Some(&admin.access_token), PROJECTIONS, json!({})).await;
    let last = projection(&ended.body["data"], "customers")["rebuild"].clone();
    assert!(last["error"].is_null(), "{last}");
    assert!(last["finishedAt"].is_string() && last["startedAt"].is_string());
    let total = last["total"].as_i64().expect("total");
    assert!(
        total >= events,
        "{last}: {events} events before the rebuild"
    );
    assert!(last["done"].as_i64().expect("done") >= total, "{last}");
    assert_eq!(last["fraction"], 1.0);
    assert!(last["etaSecs"].is_null());
    let after = gql(&app, Some(&admin.access_token), PROJECTIONS, json!({})).await;
    let requests = projection(&after.body["data"], "requests");
    assert!(requests["name"].is_string() && requests["rebuild"].is_null());
    app.stop().await;
}

/// `setRequestPending`: open → pending (shown and filtered as such), idempotent, solvable from
/// pending, and refused with a rule code once solved.
#[tokio::test]
async fn a_request_can_be_set_pending_filtered_as_pending_and_solved_from_there() {
    tests::init_test_log();
    let app = TestApp::spawn().await;
    let admin = bootstrap_admin(&app).await;
    let ann = register_worker(&app, &admin, "ann@pending.fields.test", "AGENT", None).await;
    let customer = register_customer(&app, &admin.access_token, "Pending SA", "+33633333302").await;
    let request = open_request(
        &app,
        &ann.access_token,
        json!({"customerId": customer, "message": "Waiting for the customer's logs",
               "priority": "NORMAL", "type": "INCIDENT", "assigneeId": ann.worker_id}),
    )
    .await;
    const PENDING: &str = "mutation($id: ID!) { setRequestPending(id: $id) { id status } }";

    for _ in 0..2 {
        let answer = gql(
            &app,
            Some(&ann.access_token),
            PENDING,
            json!({ "id": request }),
        )
        .await;
        assert_eq!(
            answer.data("setRequestPending"),
            &json!({"id": request, "status": "PENDING"})
        );
    }
    let listed = gql(
        &app,
        Some(&ann.access_token),
        "{ requests(status: PENDING, first: 10) { nodes { id status } } }",
        json!({}),
    )
    .await;
    assert_eq!(
        listed.data("requests")["nodes"],
        json!([{"id": request, "status": "PENDING"}])
    );

    solve(&app, &ann.access_token, &request).await;
    let refused = gql(
        &app,
        Some(&ann.access_token),
        PENDING,
        json!({ "id": request }),
    )
    .await;
    assert_eq!(
        refused.code(),
        Some("INVALID_STATUS_TRANSITION"),
        "{refused:?}"
    );
}
