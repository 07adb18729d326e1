//! Throttles that hold under concurrency (issue 19 §2): logins and password changes counted
//! before the password is hashed, per account from one client address and per address, in
//! PostgreSQL (a restart does not clear them); the client address from a trusted proxy
//! header; wrong ingest tokens limited per address (HTTP 429).

use serde_json::{json, Value};
use tests::graphql::{
    bootstrap_admin, gql, post, register_customer, register_worker, unique_phone, Answer,
    ADMIN_EMAIL, PASSWORD,
};
use tests::TestApp;

const LOGIN: &str =
    "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken } }";

/// A login from the client address `from` (through the trusted proxy header), or from the
/// test's own address.
async fn login_from(app: &TestApp, from: Option<&str>, email: &str, password: &str) -> Answer {
    let headers: Vec<(&str, &str)> = from
        .map(|address| vec![("x-forwarded-for", address)])
        .unwrap_or_default();
    post(
        app,
        None,
        &headers,
        LOGIN,
        json!({"e": email, "p": password}),
    )
    .await
}

fn behind_a_proxy(config: &mut api::ServeConfig) {
    config.auth.trusted_proxy_header = Some("X-Forwarded-For".into());
}

#[tokio::test]
async fn sixty_concurrent_wrong_passwords_on_one_account_get_at_most_the_limit_evaluated() {
    let app = TestApp::spawn().await;
    bootstrap_admin(&app).await;
    let limit = app.state.auth.config.login_failures_per_account as usize;
    let attempts = (0..60).map(|n| {
        let app = &app;
        async move { login_from(app, None, ADMIN_EMAIL, &format!("wrong password {n}")).await }
    });
    let answers = futures::future::join_all(attempts).await;
    let codes: Vec<&str> = answers
        .iter()
        .map(|answer| answer.code().unwrap_or("none"))
        .collect();
    let evaluated = codes
        .iter()
        .filter(|code| **code == "UNAUTHENTICATED")
        .count();
    let refused = codes.iter().filter(|code| **code == "RATE_LIMITED").count();
    assert_eq!(evaluated + refused, 60, "{codes:?}");
    assert!(
        evaluated <= limit,
        "{evaluated} wrong passwords evaluated, limit {limit}"
    );
    assert!(evaluated >= 1, "{codes:?}");
    let right = login_from(&app, None, ADMIN_EMAIL, PASSWORD).await;
    assert_eq!(
        right.code(),
        Some("RATE_LIMITED"),
        "even the right password waits"
    );
    app.stop().await;
}

#[tokio::test]
async fn an_account_locked_from_one_address_still_logs_in_from_another() {
    let app = TestApp::spawn_with(behind_a_proxy).await;
    bootstrap_admin(&app).await;
    let attacker = Some("203.0.113.66");
    let office = Some("198.51.100.7");
    for _ in 0..5 {
        let wrong = login_from(&app, attacker, ADMIN_EMAIL, "wrong password!").await;
        assert_eq!(wrong.code(), Some("UNAUTHENTICATED"), "{:?}", wrong.body);
    }
    let locked = login_from(&app, attacker, ADMIN_EMAIL, PASSWORD).await;
    assert_eq!(locked.code(), Some("RATE_LIMITED"));
    let admin = login_from(&app, office, ADMIN_EMAIL, PASSWORD).await;
    assert!(
        admin.data("login")["accessToken"].is_string(),
        "the admin logs in from the office"
    );
    // A proxy chain: the rightmost address not a trusted proxy is the client's.
    let chained = login_from(
        &app,
        Some("198.51.100.7, 203.0.113.66"),
        ADMIN_EMAIL,
        PASSWORD,
    )
    .await;
    assert_eq!(
        chained.code(),
        Some("RATE_LIMITED"),
        "the attacker's address"
    );
    app.stop().await;
}

#[tokio::test]
async fn without_a_configured_proxy_header_a_forged_one_changes_nothing() {
    let app = TestApp::spawn().await;
    bootstrap_admin(&app).await;
    for n in 0..5 {
        let address = format!("203.0.113.{n}");
        let wrong = login_from(&app, Some(&address), ADMIN_EMAIL, "wrong password!").await;
        assert_eq!(wrong.code(), Some("UNAUTHENTICATED"));
    }
    let other = login_from(&app, Some("203.0.113.99"), ADMIN_EMAIL, PASSWORD).await;
    assert_eq!(other.code(), Some("RATE_LIMITED"), "one real address");
    app.stop().await;
}

#[tokio::test]
async fn wrong_current_passwords_in_change_password_are_throttled() {
    let app = TestApp::spawn().await;
    let admin = bootstrap_admin(&app).await;
    let agent = register_worker(&app, &admin, "eve@example.com", "AGENT", None).await;
    let change = "mutation($c: String!, $n: String!) { \
                  changePassword(currentPassword: $c, newPassword: $n) { accessToken } }";
    let limit = app.state.auth.config.login_failures_per_account;
    for _ in 0..limit {
        let wrong = gql(
            &app,
            Some(&agent.access_token),
            change,
            json!({"c": "a guessed password", "n": "a brand new password"}),
        )
        .await;
        assert_eq!(wrong.code(), Some("WRONG_PASSWORD"), "{:?}", wrong.body);
    }
    let right = gql(
        &app,
        Some(&agent.access_token),
        change,
        json!({"c": PASSWORD, "n": "a brand new password"}),
    )
    .await;
    assert_eq!(right.code(), Some("RATE_LIMITED"), "{:?}", right.body);
    app.stop().await;
}

#[tokio::test]
async fn login_counters_survive_a_server_restart() {
    let app = TestApp::spawn().await;
    bootstrap_admin(&app).await;
    for _ in 0..5 {
        let wrong = login_from(&app, None, ADMIN_EMAIL, "wrong password!").await;
        assert_eq!(wrong.code(), Some("UNAUTHENTICATED"));
    }
    let database = app.database.clone();
    app.stop().await;
    let restarted = TestApp::spawn_on(database, |_| {}).await;
    let right = login_from(&restarted, None, ADMIN_EMAIL, PASSWORD).await;
    assert_eq!(right.code(), Some("RATE_LIMITED"), "{:?}", right.body);
    restarted.stop().await;
}

/// POSTs `/ping/{token}` from the client address `from` (trusted proxy header).
async fn ping_from(app: &TestApp, from: &str, token: &str) -> (u16, Value) {
    let response = app
        .http
        .post(app.url(&format!("/ping/{token}/start")))
        .header("x-forwarded-for", from)
        .send()
        .await
        .expect("ping sent");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn wrong_ingest_tokens_from_one_address_get_429_after_the_limit() {
    let app = TestApp::spawn_with(|config| {
        behind_a_proxy(config);
        config.auth.ingest_token_failures_per_address = 3;
    })
    .await;
    let admin = bootstrap_admin(&app).await;
    let customer = register_customer(&app, &admin.access_token, "Pinged", &unique_phone()).await;
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
    let forged = format!("sci_{}", "ab".repeat(48));
    for _ in 0..3 {
        let (status, body) = ping_from(&app, "203.0.113.66", &forged).await;
        assert_eq!(status, 401, "{body}");
    }
    let (status, body) = ping_from(&app, "203.0.113.66", &forged).await;
    assert_eq!(status, 429, "{body}");
    assert_eq!(body["code"], "RATE_LIMITED");
    // Another address is not affected, wrong or right.
    let (status, _) = ping_from(&app, "198.51.100.7", &forged).await;
    assert_eq!(status, 401);
    let (status, body) = ping_from(&app, "198.51.100.7", &token).await;
    assert_eq!(status, 200, "{body}");
    app.stop().await;
}
