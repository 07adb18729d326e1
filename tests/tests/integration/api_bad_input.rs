//! Bad input: every answer carries a code, HTTP never says 5xx, and nothing is written.

use serde_json::{json, Value};
use tests::graphql::{bootstrap_admin, event_count, gql, register_customer, unique_phone, Answer};
use tests::TestApp;

fn field(answer: &Answer) -> Option<&str> {
    answer.body["errors"][0]["extensions"]["field"].as_str()
}

#[tokio::test]
async fn malformed_or_invalid_requests_get_a_code_never_a_5xx_and_write_nothing() {
    let app = TestApp::spawn().await;
    let admin = bootstrap_admin(&app).await;
    let token = Some(admin.access_token.as_str());
    let customer_id = register_customer(&app, &admin.access_token, "ACME", &unique_phone()).await;
    let before = event_count(&app).await;

    let register_customer =
        "mutation($input: RegisterCustomerInput!) { registerCustomer(input: $input) { id } }";
    let open_request = "mutation($input: OpenRequestInput!) { openRequest(input: $input) { id } }";
    let request_input = |extra: Value| {
        let mut input = json!({"customerId": customer_id, "message": "Backups failing since Monday",
                               "priority": "HIGH", "type": "INCIDENT"});
        if let (Some(input), Some(extra)) = (input.as_object_mut(), extra.as_object()) {
            input.extend(extra.clone());
        }
        json!({"input": input})
    };
    let deep = format!(
        "{{ __schema {{ types {{ {}name{} }} }} }}",
        "fields { type { ofType { ".repeat(3),
        " } } }".repeat(3)
    );
    let wide = format!(
        "{{ {} }}",
        (0..600)
            .map(|n| format!("a{n}: version"))
            .collect::<Vec<_>>()
            .join(" ")
    );
    let long_name = "x".repeat(5_000);
    let cases: Vec<(&str, String, Value, &str, Option<&str>)> = vec![
        ("unparsable document", "{ me { id ".into(), json!({}), "GRAPHQL_PARSE_FAILED", None),
        ("unknown field", "{ me { shoeSize } }".into(), json!({}), "GRAPHQL_VALIDATION_FAILED", None),
        ("unknown operation", "{ nothingHere }".into(), json!({}), "GRAPHQL_VALIDATION_FAILED", None),
        ("literal of the wrong type", "mutation { registerCustomer(input: {name: 5, phones: []}) { id } }".into(),
            json!({}), "GRAPHQL_VALIDATION_FAILED", None),
        ("variable of the wrong type", "query($id: ID!) { customer(id: $id) { id } }".into(),
            json!({"id": {"nested": true}}), "GRAPHQL_VALIDATION_FAILED", None),
        ("unknown enum value", open_request.into(), request_input(json!({"priority": "CRITICAL"})),
            "GRAPHQL_VALIDATION_FAILED", None),
        ("too deep", deep, json!({}), "QUERY_TOO_DEEP", None),
        ("too complex", wide, json!({}), "QUERY_TOO_COMPLEX", None),
        ("malformed id", "query($id: ID!) { customer(id: $id) { id } }".into(), json!({"id": "42"}),
            "VALIDATION", Some("id")),
        ("oversized name", register_customer.into(),
            json!({"input": {"name": long_name, "phones": [unique_phone()]}}), "VALIDATION", Some("name")),
        ("invalid email", register_customer.into(),
            json!({"input": {"name": "Zoé", "phones": [unique_phone()], "email": "zoe@localhost"}}),
            "VALIDATION", Some("email")),
        ("invalid phone", register_customer.into(),
            json!({"input": {"name": "Zoé", "phones": ["06 12 AB 56 78"]}}), "VALIDATION", Some("phones")),
        ("no phone", register_customer.into(), json!({"input": {"name": "Zoé", "phones": []}}),
            "PHONE_REQUIRED", None),
        ("oversized notes", register_customer.into(),
            json!({"input": {"name": "Zoé", "phones": [unique_phone()], "notes": "n".repeat(10_001)}}),
            "VALIDATION", Some("notes")),
        ("short message", open_request.into(), request_input(json!({"message": "help"})),
            "VALIDATION", Some("message")),
        ("unparsable date", open_request.into(), request_input(json!({"dueAt": "next tuesday"})),
            "VALIDATION", Some("dueAt")),
        ("impossible date", open_request.into(), request_input(json!({"dueAt": "2030-02-30T10:00:00Z"})),
            "VALIDATION", Some("dueAt")),
        ("due date in the past", open_request.into(), request_input(json!({"dueAt": "2001-01-01T00:00:00Z"})),
            "DUE_DATE_IN_PAST", None),
        ("unknown customer", open_request.into(),
            request_input(json!({"customerId": "0191f3c4-7f7e-7000-8000-000000000000"})),
            "VALIDATION", Some("customerId")),
        ("unknown request", "mutation { solveRequest(id: \"0191f3c4-7f7e-7000-8000-000000000000\") { id } }".into(),
            json!({}), "REQUEST_NOT_FOUND", None),
        ("weak password", "mutation { registerWorker(input: {name: \"W\", email: \"w@example.com\", role: AGENT, password: \"short\"}) { id } }".into(),
            json!({}), "VALIDATION", Some("password")),
        ("pause without reason", "mutation { setAvailability(state: PAUSED) { id } }".into(), json!({}),
            "VALIDATION", Some("reason")),
        ("subscription over HTTP", "subscription { events { position } }".into(), json!({}),
            "BAD_USER_INPUT", None),
    ];
    let mut wrong = Vec::new();
    for (name, query, variables, code, expected_field) in &cases {
        let answer = gql(&app, token, query, variables.clone()).await;
        if answer.status >= 500 || answer.code() != Some(*code) || field(&answer) != *expected_field
        {
            wrong.push(format!("{name}: HTTP {} {}", answer.status, answer.body));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));

    let not_json = app
        .http
        .post(app.url("/graphql"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .expect("sent");
    assert_eq!(not_json.status(), 400);
    let body: Value = not_json.json().await.expect("json error");
    assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_REQUEST");
    let huge = json!({"query": "{ version }", "variables": {"pad": "p".repeat(2 * 1024 * 1024)}});
    let too_large = app
        .http
        .post(app.url("/graphql"))
        .json(&huge)
        .send()
        .await
        .expect("sent");
    assert_eq!(too_large.status(), 413);

    assert_eq!(event_count(&app).await, before, "bad input wrote nothing");
    app.stop().await;
}

#[tokio::test]
async fn a_database_out_of_reach_is_unavailable_not_internal() {
    let app = TestApp::spawn().await;
    let admin = bootstrap_admin(&app).await;
    // Refuse new connections, then end the server's: the database is out of reach.
    let admin_pool = tests::TestPostgres::get().await.pool("postgres", 1).await;
    sqlx::query(&format!(
        "ALTER DATABASE {} WITH ALLOW_CONNECTIONS false",
        app.database
    ))
    .execute(&admin_pool)
    .await
    .expect("refuse connections");
    sqlx::query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1")
        .bind(&app.database)
        .execute(&admin_pool)
        .await
        .expect("terminate server connections");
    let mut codes = Vec::new();
    for _ in 0..3 {
        let answer = gql(&app, None, "{ logHead }", json!({})).await;
        assert!(answer.status < 500);
        codes.push(answer.code().map(str::to_owned));
    }
    assert!(
        codes.iter().all(|code| code.as_deref() != Some("INTERNAL")),
        "{codes:?}"
    );
    assert!(codes.contains(&Some("UNAVAILABLE".to_owned())), "{codes:?}");
    sqlx::query(&format!(
        "ALTER DATABASE {} WITH ALLOW_CONNECTIONS true",
        app.database
    ))
    .execute(&admin_pool)
    .await
    .expect("allow connections again");
    let _ = admin;
    app.stop().await;
}
