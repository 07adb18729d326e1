//! A slice of an agent's day through the API, and what the log records of it.

use serde_json::json;
use tests::graphql::{
    bootstrap_admin, gql, login, post, register_customer, unique_phone, PASSWORD,
};
use tests::TestApp;

#[tokio::test]
async fn an_agent_goes_available_opens_and_solves_a_request_and_the_events_name_them() {
    tests::init_test_log();
    let app = TestApp::spawn().await;
    let admin = bootstrap_admin(&app).await;

    let registered = gql(
        &app,
        Some(&admin.access_token),
        "mutation($input: RegisterWorkerInput!) { registerWorker(input: $input) { id role endpoint active presence { state } } }",
        json!({"input": {"name": "Alice Agent", "email": "Alice@Example.com", "role": "AGENT",
                         "endpoint": "PJSIP/2001", "password": PASSWORD}}),
    )
    .await;
    let worker = registered.data("registerWorker");
    assert_eq!(worker["role"], "AGENT");
    assert_eq!(worker["presence"]["state"], "OFFLINE");
    let agent_id = worker["id"].as_str().expect("id").to_owned();
    let customer_id = register_customer(&app, &admin.access_token, "ACME", "06 12 34 56 78").await;

    let agent = login(&app, "alice@example.com", PASSWORD).await;
    assert_eq!(agent.worker_id, agent_id);
    let me = gql(
        &app,
        Some(&agent.access_token),
        "{ me { id email } }",
        json!({}),
    )
    .await;
    assert_eq!(me.data("me")["email"], "Alice@example.com");

    let available = gql(
        &app,
        Some(&agent.access_token),
        "mutation { setAvailability(state: AVAILABLE) { presence { state } version } }",
        json!({}),
    )
    .await;
    assert_eq!(
        available.data("setAvailability")["presence"]["state"],
        "AVAILABLE"
    );

    let correlation = "0191f3c4-7f7e-7000-8000-000000000042";
    let opened = post(
        &app,
        Some(&agent.access_token),
        &[("X-Correlation-Id", correlation)],
        "mutation($input: OpenRequestInput!) { openRequest(input: $input) { id version status customerId openedById priority } }",
        json!({"input": {"customerId": customer_id, "message": "The nightly backup did not run",
                         "priority": "HIGH", "type": "INCIDENT"}}),
    )
    .await;
    let request = opened.data("openRequest").clone();
    assert_eq!(request["status"], "OPEN");
    assert_eq!(request["openedById"], agent_id.as_str());
    let request_id = request["id"].as_str().expect("id").to_owned();

    let solved = gql(
        &app,
        Some(&agent.access_token),
        "mutation($id: ID!, $v: Int) { solveRequest(id: $id, expectedVersion: $v) { status version } }",
        json!({"id": request_id, "v": request["version"]}),
    )
    .await;
    assert_eq!(solved.data("solveRequest")["status"], "SOLVED");
    let read = gql(
        &app,
        Some(&agent.access_token),
        "query($id: ID!) { request(id: $id) { status version } }",
        json!({"id": request_id}),
    )
    .await;
    assert_eq!(read.data("request")["status"], "SOLVED");
    assert_eq!(read.data("request")["version"], 2);

    let events: Vec<(String, serde_json::Value)> = sqlx::query_as(
        "SELECT event_type, metadata FROM events WHERE aggregate_id = $1 ORDER BY sequence",
    )
    .bind(&request_id)
    .fetch_all(&app.pool)
    .await
    .expect("events");
    let types: Vec<&str> = events.iter().map(|(kind, _)| kind.as_str()).collect();
    assert_eq!(types, ["RequestOpened", "RequestSolved"]);
    for (_, metadata) in &events {
        assert_eq!(metadata["actor"], format!("worker:{agent_id}"));
    }
    assert_eq!(events[0].1["correlation_id"], correlation);
    let (availability_actor,): (String,) = sqlx::query_as(
        "SELECT metadata->>'actor' FROM events WHERE event_type = 'WorkerWentAvailable'",
    )
    .fetch_one(&app.pool)
    .await
    .expect("availability event");
    assert_eq!(availability_actor, format!("worker:{agent_id}"));
    let (admin_created_by,): (String,) = sqlx::query_as(
        "SELECT metadata->>'actor' FROM events WHERE aggregate_id = $1 AND sequence = 1",
    )
    .bind(&admin.worker_id)
    .fetch_one(&app.pool)
    .await
    .expect("admin registration");
    assert_eq!(admin_created_by, "system");
    app.stop().await;
}

#[tokio::test]
async fn secrets_never_reach_the_event_log() {
    let app = TestApp::spawn().await;
    let admin = bootstrap_admin(&app).await;
    let agent =
        tests::graphql::register_worker(&app, &admin, "bob@example.com", "AGENT", None).await;
    let (log,): (String,) = sqlx::query_as(
        "SELECT coalesce(string_agg(payload::text || metadata::text, ' '), '') FROM events",
    )
    .fetch_one(&app.pool)
    .await
    .expect("log text");
    assert!(!log.contains(PASSWORD));
    assert!(!log.contains("argon2"));
    assert!(!log.contains(&agent.access_token));
    assert!(!log.contains(&agent.refresh_token));
    let (hash,): (String,) =
        sqlx::query_as("SELECT password_hash FROM credentials WHERE email_key = 'bob@example.com'")
            .fetch_one(&app.pool)
            .await
            .expect("credentials");
    assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
    app.stop().await;
}

#[tokio::test]
async fn the_first_admin_is_created_from_the_configuration_only_when_none_exists() {
    let app = TestApp::spawn_with(|config| {
        config.auth.admin_email = Some("root@savecorp.test".into());
        config.auth.admin_password = Some(PASSWORD.into());
    })
    .await;
    let admin = login(&app, "root@savecorp.test", PASSWORD).await;
    let me = gql(
        &app,
        Some(&admin.access_token),
        "{ me { role } }",
        json!({}),
    )
    .await;
    assert_eq!(me.data("me")["role"], "ADMIN");
    let again =
        api::auth::bootstrap::create_admin(&app.pool, "second@savecorp.test", PASSWORD, true)
            .await
            .expect("bootstrap runs");
    assert_eq!(again, api::auth::bootstrap::Bootstrapped::AdminExists);
    app.stop().await;
}

#[tokio::test]
async fn the_last_admin_cannot_be_demoted_or_deactivated_but_another_can() {
    let app = TestApp::spawn().await;
    let admin = bootstrap_admin(&app).await;
    let demote = gql(
        &app,
        Some(&admin.access_token),
        "mutation($id: ID!) { setWorkerRole(id: $id, role: AGENT) { role } }",
        json!({"id": admin.worker_id}),
    )
    .await;
    assert_eq!(demote.code(), Some("LAST_ADMIN"), "{:?}", demote.body);
    let deactivate = gql(
        &app,
        Some(&admin.access_token),
        "mutation($id: ID!) { deactivateWorker(id: $id) { active } }",
        json!({"id": admin.worker_id}),
    )
    .await;
    assert_eq!(deactivate.code(), Some("LAST_ADMIN"));
    let second =
        tests::graphql::register_worker(&app, &admin, "second@example.com", "ADMIN", None).await;
    let deactivated = gql(
        &app,
        Some(&admin.access_token),
        "mutation($id: ID!) { deactivateWorker(id: $id) { active } }",
        json!({"id": second.worker_id}),
    )
    .await;
    assert_eq!(deactivated.data("deactivateWorker")["active"], false);
    let stale = gql(&app, Some(&second.access_token), "{ me { id } }", json!({})).await;
    assert_eq!(
        stale.code(),
        Some("UNAUTHENTICATED"),
        "a deactivated worker's token stops working"
    );
    app.stop().await;
}

#[tokio::test]
async fn emails_endpoints_and_phone_numbers_are_unique_and_a_failed_command_releases_its_claims() {
    let app = TestApp::spawn().await;
    let admin = bootstrap_admin(&app).await;
    tests::graphql::register_worker(
        &app,
        &admin,
        "carol@example.com",
        "AGENT",
        Some("PJSIP/3001"),
    )
    .await;
    let register =
        "mutation($input: RegisterWorkerInput!) { registerWorker(input: $input) { id } }";
    let same_email = gql(&app, Some(&admin.access_token), register,
        json!({"input": {"name": "Carol Two", "email": "CAROL@example.com", "role": "AGENT", "password": PASSWORD}})).await;
    assert_eq!(same_email.code(), Some("EMAIL_TAKEN"));
    let same_endpoint = gql(&app, Some(&admin.access_token), register,
        json!({"input": {"name": "Dan", "email": "dan@example.com", "role": "AGENT", "endpoint": "PJSIP/3001", "password": PASSWORD}})).await;
    assert_eq!(same_endpoint.code(), Some("ENDPOINT_TAKEN"));
    // Dan's email was claimed before the endpoint failed: it must be free again.
    let dan = gql(&app, Some(&admin.access_token), register,
        json!({"input": {"name": "Dan", "email": "dan@example.com", "role": "AGENT", "password": PASSWORD}})).await;
    dan.data("registerWorker");

    let phone = unique_phone();
    register_customer(&app, &admin.access_token, "First", &phone).await;
    let customer =
        "mutation($input: RegisterCustomerInput!) { registerCustomer(input: $input) { id } }";
    let taken = gql(
        &app,
        Some(&admin.access_token),
        customer,
        json!({"input": {"name": "Second", "phones": [phone]}}),
    )
    .await;
    assert_eq!(taken.code(), Some("PHONE_TAKEN"));
    let free_phone = unique_phone();
    let duplicate = gql(
        &app,
        Some(&admin.access_token),
        customer,
        json!({"input": {"name": "Third", "phones": [free_phone, free_phone]}}),
    )
    .await;
    assert_eq!(
        duplicate.code(),
        Some("DUPLICATE_PHONE"),
        "{:?}",
        duplicate.body
    );
    let retried = gql(
        &app,
        Some(&admin.access_token),
        customer,
        json!({"input": {"name": "Third", "phones": [free_phone]}}),
    )
    .await;
    retried.data("registerCustomer");
    app.stop().await;
}

#[tokio::test]
async fn a_stale_expected_version_is_a_conflict_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let admin = bootstrap_admin(&app).await;
    let customer_id = register_customer(&app, &admin.access_token, "ACME", &unique_phone()).await;
    let update = "mutation($id: ID!, $v: Int) { updateCustomer(id: $id, input: {notes: \"vip\"}, expectedVersion: $v) { version notes } }";
    let updated = gql(
        &app,
        Some(&admin.access_token),
        update,
        json!({"id": customer_id, "v": 1}),
    )
    .await;
    assert_eq!(updated.data("updateCustomer")["version"], 2);
    let before = tests::graphql::event_count(&app).await;
    let stale = gql(
        &app,
        Some(&admin.access_token),
        update,
        json!({"id": customer_id, "v": 1}),
    )
    .await;
    assert_eq!(stale.code(), Some("CONFLICT"));
    assert_eq!(tests::graphql::event_count(&app).await, before);
    app.stop().await;
}
