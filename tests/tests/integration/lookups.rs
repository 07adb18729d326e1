//! Lookups by id (`worker(id)`, `customer(id)`, `request(id)`) against a real server: they
//! answer exactly what the mutation that made the change answered and what the lists show
//! (instants to the microsecond, a customer's main number first), read from the read models
//! with read-your-writes.

use serde_json::{json, Value};
use tests::graphql::{bootstrap_admin, gql, register_worker, unique_phone, Session};
use tests::TestApp;

const WORKER: &str = "id version name role avatarUrl active idleSince email endpoint
    presence { state reason callId wrapUpUntil since }";
const CUSTOMER: &str = "id version erased name phones email notes avatarUrl";
const REQUEST: &str = "id version customerId callId message priority type status assigneeId
    dueAt openedById openedAt";

/// The one node of a connection answer `connection`.
fn only_node(connection: &Value) -> &Value {
    let edges = connection["edges"].as_array().expect("edges");
    assert_eq!(edges.len(), 1, "{connection}");
    &edges[0]["node"]
}

async fn worker_answers(app: &TestApp, admin: &Session, agent: &Session) -> (Value, Value) {
    let lookup = gql(
        app,
        Some(&admin.access_token),
        &format!("query($id: ID!) {{ worker(id: $id) {{ {WORKER} }} }}"),
        json!({"id": agent.worker_id}),
    )
    .await;
    let list = gql(
        app,
        Some(&admin.access_token),
        &format!(
            "query($search: String) {{ workers(search: $search, first: 5) \
             {{ edges {{ node {{ {WORKER} }} }} }} }}"
        ),
        json!({"search": agent.email}),
    )
    .await;
    (
        lookup.data("worker").clone(),
        only_node(list.data("workers")).clone(),
    )
}

#[tokio::test]
async fn a_workers_mutation_lookup_and_list_answer_the_same_instants() {
    tests::init_test_log();
    let app = TestApp::spawn().await;
    let admin = bootstrap_admin(&app).await;
    let agent = register_worker(
        &app,
        &admin,
        "instants@lookups.test",
        "AGENT",
        Some("PJSIP/7301"),
    )
    .await;

    let available = gql(
        &app,
        Some(&admin.access_token),
        &format!(
            "mutation($id: ID!) {{ setAvailability(state: AVAILABLE, workerId: $id) \
             {{ {WORKER} }} }}"
        ),
        json!({"id": agent.worker_id}),
    )
    .await;
    let available = available.data("setAvailability").clone();
    assert_eq!(available["presence"]["state"], "AVAILABLE");
    assert!(available["idleSince"].is_string(), "{available}");

    let (lookup, listed) = worker_answers(&app, &admin, &agent).await;
    assert_eq!(lookup, available);
    assert_eq!(listed, available);
}

async fn customer(app: &TestApp, admin: &Session, id: &str) -> Value {
    let lookup = gql(
        app,
        Some(&admin.access_token),
        &format!("query($id: ID!) {{ customer(id: $id) {{ {CUSTOMER} }} }}"),
        json!({"id": id}),
    )
    .await;
    lookup.data("customer").clone()
}

async fn listed_customer(app: &TestApp, admin: &Session) -> Value {
    let list = gql(
        app,
        Some(&admin.access_token),
        &format!(
            "{{ customers(search: \"Main Number\", first: 5) \
             {{ edges {{ node {{ {CUSTOMER} }} }} }} }}"
        ),
        json!({}),
    )
    .await;
    only_node(list.data("customers")).clone()
}

#[tokio::test]
async fn a_customers_main_number_stays_first_in_every_answer() {
    tests::init_test_log();
    let app = TestApp::spawn().await;
    let admin = bootstrap_admin(&app).await;
    // The main number sorts after the other one.
    let (low, high) = {
        let (first, second) = (unique_phone(), unique_phone());
        if first < second {
            (first, second)
        } else {
            (second, first)
        }
    };
    let registered = gql(
        &app,
        Some(&admin.access_token),
        &format!(
            "mutation($input: RegisterCustomerInput!) {{ registerCustomer(input: $input) \
             {{ {CUSTOMER} }} }}"
        ),
        json!({"input": {"name": "Main Number Ltd", "phones": [high, low],
                         "email": "main@lookups.test", "notes": "two lines"}}),
    )
    .await;
    let registered = registered.data("registerCustomer").clone();
    assert_eq!(registered["phones"], json!([high, low]));
    let id = registered["id"].as_str().expect("id").to_owned();

    assert_eq!(customer(&app, &admin, &id).await, registered);
    let by_number = gql(
        &app,
        Some(&admin.access_token),
        &format!("query($n: String!) {{ customerByNumber(number: $n) {{ {CUSTOMER} }} }}"),
        json!({"n": low}),
    )
    .await;
    assert_eq!(by_number.data("customerByNumber"), &registered);
    assert_eq!(listed_customer(&app, &admin).await, registered);

    // A new order of the same numbers: the new main number first everywhere.
    let updated = gql(
        &app,
        Some(&admin.access_token),
        &format!(
            "mutation($id: ID!, $input: UpdateCustomerInput!) \
             {{ updateCustomer(id: $id, input: $input) {{ {CUSTOMER} }} }}"
        ),
        json!({"id": id, "input": {"phones": [low, high]}}),
    )
    .await;
    let updated = updated.data("updateCustomer").clone();
    assert_eq!(updated["phones"], json!([low, high]));
    assert_eq!(customer(&app, &admin, &id).await, updated);
    assert_eq!(listed_customer(&app, &admin).await, updated);
}

#[tokio::test]
async fn a_requests_mutation_lookup_and_list_answer_the_same() {
    tests::init_test_log();
    let app = TestApp::spawn().await;
    let admin = bootstrap_admin(&app).await;
    let customer =
        tests::graphql::register_customer(&app, &admin.access_token, "Req Ltd", &unique_phone())
            .await;

    let opened = gql(
        &app,
        Some(&admin.access_token),
        &format!(
            "mutation($input: OpenRequestInput!) {{ openRequest(input: $input) {{ {REQUEST} }} }}"
        ),
        json!({"input": {"customerId": customer, "message": "The restore test failed",
                         "priority": "URGENT", "type": "INCIDENT",
                         "dueAt": "2099-01-02T03:04:05.123456789Z"}}),
    )
    .await;
    let opened = opened.data("openRequest").clone();
    let id = opened["id"].as_str().expect("id").to_owned();

    let lookup = gql(
        &app,
        Some(&admin.access_token),
        &format!("query($id: ID!) {{ request(id: $id) {{ {REQUEST} }} }}"),
        json!({"id": id}),
    )
    .await;
    assert_eq!(lookup.data("request"), &opened);
    let list = gql(
        &app,
        Some(&admin.access_token),
        &format!(
            "query($c: ID) {{ requests(customerId: $c, first: 5) \
             {{ edges {{ node {{ {REQUEST} }} }} }} }}"
        ),
        json!({"c": customer}),
    )
    .await;
    assert_eq!(only_node(list.data("requests")), &opened);
}
